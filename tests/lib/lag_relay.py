#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A TCP relay on loopback for tests: what the target (a Redis primary) sends
reaches the client (its replica) delay_ms later, as across a slow link; what
the client sends goes through at once. The replica is configured with
`replicaof 127.0.0.1 <relay port>`.

When the target's side closes (the primary was killed), bytes still held
back are dropped with it: they model what had not left the dead host. The
relay binds 127.0.0.1 only, picks a free port itself (written to
--port-file), and exits by itself after --max-seconds.

Usage: lag_relay.py --target-port P --delay-ms D --port-file F
                    [--pid-file F] [--max-seconds S]
"""
import argparse
import asyncio
import os
import sys

CHUNK = 65536
QUEUE_MAX = 4096          # chunks held back at most: then the target waits


async def fast(reader, writer):
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def delayed(reader, writer, delay):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue(QUEUE_MAX)

    async def send():
        while True:
            due, data = await queue.get()
            if data is None:
                return
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(send())
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            await queue.put((loop.time() + delay, data))
    except (ConnectionError, OSError):
        pass
    # The target is gone: what it sent in the last delay ms dies with it.
    sender.cancel()
    try:
        await sender
    except (asyncio.CancelledError, ConnectionError, OSError):
        pass
    writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target-port", type=int, required=True)
    ap.add_argument("--delay-ms", type=float, required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--pid-file")
    ap.add_argument("--max-seconds", type=float, default=300)
    a = ap.parse_args()
    if not 0 <= a.delay_ms <= 10000 or not 0 < a.max_seconds <= 3600:
        sys.exit("lag_relay: --delay-ms 0..10000, --max-seconds 1..3600")
    delay = a.delay_ms / 1000.0

    async def on_client(creader, cwriter):
        try:
            treader, twriter = await asyncio.open_connection("127.0.0.1", a.target_port)
        except OSError:
            cwriter.close()
            return
        await asyncio.gather(fast(creader, twriter), delayed(treader, cwriter, delay))

    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    if a.pid_file:
        with open(a.pid_file, "w") as f:
            f.write("%d\n" % os.getpid())
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(a.port_file + ".tmp", a.port_file)
    async with server:
        try:
            await asyncio.wait_for(server.serve_forever(), a.max_seconds)
        except asyncio.TimeoutError:
            pass


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
