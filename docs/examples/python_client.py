#!/usr/bin/env python3
"""A resuming client in Python with the `websockets` package (pip install websockets).

Reconnects with full-jitter backoff, stops on 1008/4003, and resubscribes each room from the last
position seen, so events published while it was away are replayed (within the server's history).

    python docs/examples/python_client.py ws://127.0.0.1:8690/ws global workflow:wf1
"""
import asyncio
import json
import random
import sys

import websockets

positions = {}  # room -> {"seq": N, "epoch": E} or None


async def session(url):
    async with websockets.connect(url) as ws:
        await ws.recv()  # the welcome
        for i, room in enumerate(positions):
            data = {"channel": room}
            if positions[room]:
                data["since"] = positions[room]
            await ws.send(json.dumps({"type": "request", "event": "subscribe", "id": f"s{i}", "data": data}))
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] == "response" and message["event"] == "subscribe":
                reply = message["data"]
                if reply.get("recovered") is False:
                    print(f"resync {reply['channel']}: re-read its state", flush=True)
                if "seq" in reply and (reply.get("recovered") is False or not positions.get(reply["channel"])):
                    positions[reply["channel"]] = {"seq": reply["seq"], "epoch": reply["epoch"]}
            elif message["type"] == "event" and message["room"] in positions:
                last = positions[message["room"]]
                if "seq" in message and last and last["epoch"] == message["epoch"] and message["seq"] <= last["seq"]:
                    continue  # already seen
                if "seq" in message:
                    positions[message["room"]] = {"seq": message["seq"], "epoch": message["epoch"]}
                print(message["room"], message["event"], json.dumps(message["data"]), flush=True)


async def main(url, rooms):
    for room in rooms:
        positions[room] = None
    failures = 0
    while True:
        try:
            await session(url)
            failures = 0
        except websockets.ConnectionClosed as closed:
            if closed.rcvd and closed.rcvd.code in (1008, 4003):
                sys.exit(f"closed {closed.rcvd.code} {closed.rcvd.reason}: not retrying")
        except OSError:
            failures += 1
        await asyncio.sleep(random.uniform(0, min(10.0, 0.2 * 2 ** failures)))  # full jitter


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2:] or ["global"]))
