#!/usr/bin/env python3
"""Runs one of ../shared/peers' servers unchanged, but with permessage-deflate on (for scripts/bench).

    deflate_peer.py PEER_SCRIPT [peer options]

The peers switch compression off. For the compressed fan-out scenarios each is turned back to its engine's
own way of compressing, before its script runs:
  - socketify_peer (uWebSockets): the shared compressor (no context takeover, one compression per publish),
    and every publish and send asks for compression, as uWS only compresses when told to;
  - py_websockets_peer (websockets): its default `compression="deflate"` (a context per connection, so a
    broadcast is compressed once per subscriber).
"""
import runpy
import sys


def socketify_shared_compressor() -> None:
    import socketify

    ws, publish, send = socketify.App.ws, socketify.App.publish, socketify.WebSocket.send
    socketify.App.ws = lambda self, path, behavior: ws(
        self, path, {**behavior, "compression": socketify.CompressOptions.SHARED_COMPRESSOR})
    socketify.App.publish = lambda self, topic, message, opcode=socketify.OpCode.BINARY, compress=True: publish(
        self, topic, message, opcode, True)
    socketify.WebSocket.send = lambda self, message, opcode=socketify.OpCode.BINARY, compress=True, fin=True: send(
        self, message, opcode, True, fin)


def websockets_default_deflate() -> None:
    import websockets.asyncio.server as server

    serve = server.serve
    server.serve = lambda *args, **kwargs: serve(*args, **{**kwargs, "compression": "deflate"})


def main() -> None:
    script = sys.argv[1]
    if script.endswith("socketify_peer.py"):
        socketify_shared_compressor()
    elif script.endswith("py_websockets_peer.py"):
        websockets_default_deflate()
    else:
        sys.exit(f"deflate_peer.py: no compression set-up for {script}")
    sys.argv = sys.argv[1:]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
