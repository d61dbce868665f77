"""(d) The pattern every async-HTTP tutorial teaches: one ClientSession, gather, Semaphore(64).

Fetches the given URLs, reads every body, prints one JSON line: {"seconds": ..., "ok": ..., "errors": ...}.
Usage: aiohttp_client.py URL_PREFIX COUNT [CONCURRENCY]
"""
import asyncio
import json
import sys
import time

import aiohttp


async def main(prefix, count, concurrency):
    semaphore = asyncio.Semaphore(concurrency)
    ok = errors = 0

    async def fetch(session, url):
        nonlocal ok, errors
        async with semaphore:
            try:
                async with session.get(url) as response:
                    await response.read()
                    ok += response.status == 200
                    errors += response.status != 200
            except aiohttp.ClientError:
                errors += 1

    # The default connector caps a session at 100 connections; the semaphore keeps 64 in flight.
    async with aiohttp.ClientSession() as session:
        start = time.perf_counter()
        await asyncio.gather(*(fetch(session, f"{prefix}{i}") for i in range(count)))
        seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "ok": ok, "errors": errors}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 64))
