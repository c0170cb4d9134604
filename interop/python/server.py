"""Interop peer: a Python `websockets` server for the wslua interop tests.

It implements the contract described in interop/doc.go: it listens on a
free port of 127.0.0.1, prints the port alone on the first line of stdout,
then one JSON line per ended session,
{"event": "close", "id": ..., "code": ..., "reason": ...}, giving the close
frame the client sent (1005: no code, 1006: none). It exits when stdin ends
(the test closes it).

Written for the Debian package python3-websockets 10.x (its legacy asyncio
API: websockets.serve with a one-argument handler and websocket.path). Run it
with /usr/bin/python3, which sees the Debian packages.
"""

import asyncio
import json
import sys
import threading
import urllib.parse

import websockets

SUBPROTOCOLS = ["chat", "superchat"]


def report(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def select_subprotocol(client_subprotocols, server_subprotocols):
    """First subprotocol of the server's list that the client offered."""
    for p in server_subprotocols:
        if p in client_subprotocols:
            return p
    return None


def split(msg, n):
    """Cut msg into n parts at offsets i*len/n (characters for str, bytes
    for bytes). Parts may be empty."""
    size = len(msg)
    return [msg[(i * size) // n:((i + 1) * size) // n] for i in range(n)]


async def echo(ws, parts):
    async for msg in ws:
        if parts <= 1:
            await ws.send(msg)
        else:
            # An iterable is sent as one message, one frame per item.
            await ws.send(split(msg, parts))


async def pinger(ws, data):
    waiter = await ws.ping(data.encode("utf-8"))
    # websockets resolves the waiter when a pong with the same payload came.
    await waiter
    await ws.send("pong:" + data)


async def handler(ws):
    url = urllib.parse.urlsplit(ws.path)
    q = urllib.parse.parse_qs(url.query, keep_blank_values=True)

    def arg(name, default=""):
        return q.get(name, [default])[0]

    task = None
    try:
        if url.path == "/echo":
            await echo(ws, 1)
        elif url.path == "/fragecho":
            await echo(ws, max(1, int(arg("parts", "2"))))
        elif url.path == "/ping":
            task = asyncio.ensure_future(pinger(ws, arg("data")))
            await echo(ws, 1)
        elif url.path == "/close":
            await ws.close(int(arg("code", "1000")), arg("reason"))
        elif url.path == "/proto":
            await ws.send("proto:" + (ws.subprotocol or ""))
            await echo(ws, 1)
        else:
            await ws.close(1008, "unknown path")
    except websockets.ConnectionClosed:
        pass
    finally:
        if task is not None:
            task.cancel()
        await ws.wait_closed()
        report({
            "event": "close",
            "id": arg("id"),
            "code": ws.close_code,
            "reason": ws.close_reason or "",
        })


def watch_stdin(loop, stop):
    sys.stdin.buffer.read()  # returns at EOF
    loop.call_soon_threadsafe(lambda: stop.done() or stop.set_result(None))


async def main():
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    async with websockets.serve(
        handler,
        "127.0.0.1",
        0,
        subprotocols=SUBPROTOCOLS,
        select_subprotocol=select_subprotocol,
        max_size=None,
        ping_interval=None,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        sys.stdout.write("%d\n" % port)
        sys.stdout.flush()
        threading.Thread(target=watch_stdin, args=(loop, stop), daemon=True).start()
        await stop


if __name__ == "__main__":
    asyncio.run(main())
