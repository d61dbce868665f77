"""A TCP relay that adds a one-way delay in both directions, for section (w) (latency_bench.py).

    python3 delay_relay.py LISTEN_PORT TARGET_PORT DELAY_MS

Every chunk read on one side is written to the other DELAY_MS later, in order; a round trip through
it takes twice DELAY_MS more. It buffers without bound, so it models distance, not a bottleneck:
TCP's own window between the relay and each end hardly counts, which flatters HTTP/1.1 (whose only
window is TCP's) against HTTP/2 (whose streams' windows are end to end). Loopback only.
"""
import asyncio
import sys
import time

LISTEN_PORT, TARGET_PORT, DELAY = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000


async def pipe(reader, writer):
    queue = asyncio.Queue()

    async def read():
        while True:
            data = await reader.read(262144)
            await queue.put((time.monotonic() + DELAY, data))
            if not data:
                return

    async def write():
        while True:
            due, data = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                try:
                    writer.write_eof()
                except OSError:
                    pass
                return
            writer.write(data)
            await writer.drain()

    await asyncio.gather(read(), write(), return_exceptions=True)
    writer.close()


async def connection(client_reader, client_writer):
    try:
        origin_reader, origin_writer = await asyncio.open_connection("127.0.0.1", TARGET_PORT)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, origin_writer), pipe(origin_reader, client_writer),
                         return_exceptions=True)


async def main():
    server = await asyncio.start_server(connection, "127.0.0.1", LISTEN_PORT)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
