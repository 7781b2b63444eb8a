"""Subscriber against a real service: events, and resume across a restart of the service."""
from __future__ import annotations

import asyncio

from backbone_client import Publisher, Subscriber


def test_receives_and_resumes_after_a_restart(service):
    async def run():
        received = []
        subscriber = Subscriber(service.ws, ["global"], initial_delay=0.05, max_delay=0.5)

        async def consume():
            async for event in subscriber:
                received.append(event.data["n"])
                if len(received) == 6:
                    return

        consumer = asyncio.create_task(consume())
        await asyncio.sleep(0.3)
        async with Publisher(service.http) as publisher:
            for n in range(3):
                await publisher.publish("global", "tick", {"n": n})
        for _ in range(100):
            if len(received) == 3:
                break
            await asyncio.sleep(0.05)
        service.restart()  # a new process: history starts over, so the room is resynced
        await asyncio.sleep(1.0)
        async with Publisher(service.http) as publisher:
            for n in range(3, 6):
                await publisher.publish("global", "tick", {"n": n})
        await asyncio.wait_for(consumer, 15)
        await subscriber.close()
        assert received == list(range(6))
        assert subscriber.resyncs == ["global"]

    asyncio.run(run())
