"""A WebSocket echo served by Hypercorn over TLS with HTTP/2 (RFC 8441) and
HTTP/1.1, for interop/hypercorn_test.go.

Usage: python3 hypercorn_server.py CERTFILE KEYFILE

Prints the port on the first line of stdout, then one JSON line per
WebSocket that ended: {"http_version": ..., "code": ...}. Each accepted
WebSocket answers with the header x-http-version (the ASGI scope's
http_version), selects "chat" when offered, echoes messages, and closes with
4003 "hypercorn-bye" when it receives the text "close-me". Stops when stdin
closes.
"""

import asyncio
import json
import socket
import sys

from hypercorn.asyncio import serve
from hypercorn.config import Config


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"not here"})
        return
    version = scope.get("http_version", "")
    await receive()  # websocket.connect
    accept = {"type": "websocket.accept", "headers": [(b"x-http-version", version.encode())]}
    if "chat" in scope.get("subprotocols", []):
        accept["subprotocol"] = "chat"
    await send(accept)
    while True:
        msg = await receive()
        if msg["type"] == "websocket.disconnect":
            print(json.dumps({"http_version": version, "code": msg.get("code")}), flush=True)
            return
        text = msg.get("text")
        if text == "close-me":
            await send({"type": "websocket.close", "code": 4003, "reason": "hypercorn-bye"})
            print(json.dumps({"http_version": version, "code": 4003}), flush=True)
            return
        if text is not None:
            await send({"type": "websocket.send", "text": text})
        else:
            await send({"type": "websocket.send", "bytes": msg.get("bytes") or b""})


async def main():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    config = Config()
    config.bind = ["fd://%d" % sock.fileno()]
    config.certfile = sys.argv[1]
    config.keyfile = sys.argv[2]
    config.alpn_protocols = ["h2", "http/1.1"]
    config.websocket_max_message_size = 32 * 1024 * 1024
    config.accesslog = None
    print(sock.getsockname()[1], flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def stdin_closed():
        if not sys.stdin.buffer.read1(1):
            loop.remove_reader(sys.stdin.fileno())
            stop.set()

    loop.add_reader(sys.stdin.fileno(), stdin_closed)
    await serve(app, config, shutdown_trigger=stop.wait)


if __name__ == "__main__":
    asyncio.run(main())
