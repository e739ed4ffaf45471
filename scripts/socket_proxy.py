#!/usr/bin/env python3
"""A unix-socket proxy in front of a container engine, for tests that make the engine go away.

    scripts/socket_proxy.py LISTEN.sock UPSTREAM.sock

Forwards every connection to UPSTREAM byte for byte, both ways (hijacked exec streams included), until it
is killed. Killing it cuts every open connection and leaves a socket nobody answers, which is what a
client sees when the engine dies; starting it again on the same path brings the engine back. Both ends
are unix sockets on this machine: nothing leaves it.
"""
import asyncio
import os
import sys


async def pump(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.write_eof()
        except (OSError, RuntimeError):
            writer.close()


async def main(listen, upstream):
    async def handle(client_reader, client_writer):
        try:
            up_reader, up_writer = await asyncio.open_unix_connection(upstream)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pump(client_reader, up_writer), pump(up_reader, client_writer))
        for w in (client_writer, up_writer):
            w.close()

    if os.path.exists(listen):
        os.unlink(listen)
    server = await asyncio.start_unix_server(handle, path=listen)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
