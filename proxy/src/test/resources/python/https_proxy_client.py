"""`requests` through HTTPS_PROXY, as any Python app would use Sluice for https:// URLs.

Usage: https_proxy_client.py URL...
The proxy and the CA bundle come from the environment (HTTPS_PROXY, REQUESTS_CA_BUNDLE), as an
app's would. All URLs go through one Session, so one tunnel serves them (keep-alive inside it).
Prints one JSON object; the Java test asserts on it. A TLS failure is reported, not raised.
"""
import json
import sys

import requests

out = {"responses": []}
session = requests.Session()
try:
    for url in sys.argv[1:]:
        r = session.get(url, timeout=30)
        out["responses"].append({
            "status": r.status_code,
            "body": r.text,
            "cache_status": r.headers.get("Cache-Status"),
            "server_timing": r.headers.get("Server-Timing"),
        })
    # The connections the pool opened to the proxy for these URLs: one CONNECT each.
    proxy = session.adapters["https://"].proxy_manager_for(requests.utils.get_environ_proxies(sys.argv[1])["https"])
    out["connections"] = proxy.connection_from_url(sys.argv[1]).num_connections
except requests.exceptions.SSLError as e:
    out["error"] = "ssl"
    out["message"] = str(e)
json.dump(out, sys.stdout)
