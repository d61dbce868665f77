"""Soak origins on loopback, one process, stdlib asyncio only.

    python3 origin.py            prints "NORMAL CACHED FAULTY" (three ports), then serves until stdin closes

NORMAL and CACHED answer every GET with a small body (CACHED adds Cache-Control: max-age=60).
FAULTY answers /fault/<kind> with that fault, the kinds of Sluice's FaultyUpstream fixture:
reset_before (RST before any byte), reset_after_headers (headers and part of the body, then RST),
hang (reads the request, never answers; Sluice's response timeout ends it), drip (a 40-byte body,
one byte every 250 ms, longer than Sluice's total timeout), short_body (Content-Length 100, 10
bytes, close), bad_status (an invalid status line), retry_after (429 with Retry-After: 1).
Any other path on FAULTY is a normal 200.
"""

import asyncio
import socket
import struct
import sys

FAULTS = ["reset_before", "reset_after_headers", "hang", "drip", "short_body", "bad_status", "retry_after"]


async def read_head(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
        elif name.strip().lower() == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if length:
        await reader.readexactly(length)
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return method, target


def rst(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def ok(body, extra=""):
    return (f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
            .encode() + body)


def serve(kind):
    async def handle(reader, writer):
        try:
            while True:
                try:
                    method, target = await read_head(reader)
                except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
                    return
                body = f"{kind} {method} {target}\n".encode() * 8
                fault = target.split("?")[0].rsplit("/", 1)[-1] if "/fault/" in target else None
                if kind == "cached":
                    writer.write(ok(body, "Cache-Control: max-age=60\r\n"))
                elif fault is None:
                    writer.write(ok(body))
                elif fault == "reset_before":
                    return rst(writer)
                elif fault == "reset_after_headers":
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 100)
                    await writer.drain()
                    return rst(writer)
                elif fault == "hang":
                    await reader.read()  # until Sluice gives up and closes
                    return
                elif fault == "drip":
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n")
                    for _ in range(40):
                        writer.write(b"d")
                        await writer.drain()
                        await asyncio.sleep(0.25)
                    continue
                elif fault == "short_body":
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
                    await writer.drain()
                    return
                elif fault == "bad_status":
                    writer.write(b"HTTP/1.1 two hundred OK\r\nContent-Length: 2\r\n\r\nok")
                    await writer.drain()
                    return
                elif fault == "retry_after":
                    writer.write(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 4\r\n\r\nslow")
                else:
                    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if not writer.transport.is_closing():
                writer.close()
    return handle


async def main():
    servers = [await asyncio.start_server(serve(k), "127.0.0.1", 0, backlog=512) for k in ("normal", "cached", "faulty")]
    print(" ".join(str(s.sockets[0].getsockname()[1]) for s in servers), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # the parent closes our stdin (or dies) to stop us


if __name__ == "__main__":
    asyncio.run(main())
