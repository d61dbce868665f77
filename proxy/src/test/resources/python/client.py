"""An application written in Python using Sluice three ways, with nothing but `requests`.

Usage: client.py SLUICE_PORT UPSTREAM_ORIGIN
Prints one JSON object with what each way returned; the Java test asserts on it.
"""
import json
import sys

import requests

sluice = "http://127.0.0.1:%s" % sys.argv[1]
origin = sys.argv[2]
out = {}

# 1. Batch: many requests in one call, each with its own result or error.
batch = requests.post(sluice + "/v1/batch", json={
    "requests": [
        {"id": "user", "url": origin + "/users/1"},
        {"id": "bad", "url": "ftp://example.com/"},
    ],
}, timeout=30)
out["batch_status"] = batch.status_code
out["batch"] = batch.json()["responses"]

# 2. Route form: the client's base URL points at Sluice; nothing else changes.
session = requests.Session()
routed = session.get(sluice + "/app/users/2", params={"q": "x y"}, timeout=30)
out["route_status"] = routed.status_code
out["route_body"] = routed.json()
out["route_via"] = routed.headers.get("Via")

# 3. Forward proxy: HTTP_PROXY-style configuration, the URL stays the upstream's own.
proxied = requests.get(origin + "/users/3", proxies={"http": sluice}, timeout=30)
out["proxy_status"] = proxied.status_code
out["proxy_body"] = proxied.json()
out["proxy_cache_status"] = proxied.headers.get("Cache-Status")

print(json.dumps(out))
