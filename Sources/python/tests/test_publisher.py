"""Publisher against real services: typed methods, batches, both transports, auth, errors."""
from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from backbone_client import PublishError, Publisher
from conftest import API_KEY

EXAMPLES = {  # one typed call per service, as its in-process broadcaster would make it
    "mahavishnu": ("workflow_started", {"workflow_id": "wf1", "adapter": "prefect", "prompt": "p"}, "workflow:wf1"),
    "akosha": ("pattern_detected", {"pattern_id": "p1", "pattern_type": "temporal", "description": "d", "confidence": 0.9},
               "patterns:temporal"),
    "crackerjack": ("test_completed", {"run_id": "r1", "tests_completed": 3, "tests_failed": 0, "duration_seconds": 1.5},
                    "test:r1"),
    "session-buddy": ("session_created", {"session_id": "s1"}, "session:s1"),
}


async def subscribed(service, room: str, headers: dict[str, str] | None = None):
    socket = await websockets.connect(service.ws, additional_headers=headers or {})
    await socket.recv()  # welcome
    await socket.send(json.dumps({"type": "request", "event": "subscribe", "id": "s", "data": {"channel": room}}))
    reply = json.loads(await socket.recv())
    assert reply["data"]["status"] == "subscribed", reply
    return socket


@pytest.mark.parametrize("service", [(name, False) for name in EXAMPLES], indirect=True)
@pytest.mark.parametrize("transport", ["http", "websocket"])
def test_typed_method_per_service(service, transport):
    method, fields, room = EXAMPLES[service.name]

    async def run():
        socket = await subscribed(service, room)
        async with Publisher(service.http, transport=transport) as publisher:
            assert await getattr(publisher, method)(**fields) == 1
        event = json.loads(await asyncio.wait_for(socket.recv(), 5))
        assert event["room"] == room and event["event"].replace(".", "_") == method
        assert all(event["data"][k] == v for k, v in fields.items())
        await socket.close()

    asyncio.run(run())


@pytest.mark.parametrize("transport", ["http", "websocket"])
def test_batch_delivers_valid_events_in_order(service, transport):
    async def run():
        socket = await subscribed(service, "global")
        async with Publisher(service.http, transport=transport) as publisher:
            results = await publisher.publish_batch([
                {"room": "global", "event": "a", "data": {"n": 1}},
                {"room": "nowhere", "event": "b", "data": {}},
                {"room": "global", "event": "c", "data": {"n": 2}},
            ])
        assert [r["status"] for r in results] == ["published", "refused", "published"]
        assert results[1]["error_code"] == "INVALID_CHANNEL"
        first = json.loads(await asyncio.wait_for(socket.recv(), 5))
        second = json.loads(await asyncio.wait_for(socket.recv(), 5))
        assert [first["data"]["n"], second["data"]["n"]] == [1, 2]
        assert second["seq"] == first["seq"] + 1
        await socket.close()

    asyncio.run(run())


def test_websocket_burst_with_a_window_of_64(service):
    async def run():
        socket = await subscribed(service, "global")
        async with Publisher(service.http, transport="websocket", window=64) as publisher:
            counts = await asyncio.gather(*(publisher.publish("global", "tick", {"n": n}) for n in range(2000)))
        assert counts == [1] * 2000
        seen = [json.loads(await asyncio.wait_for(socket.recv(), 5))["data"]["n"] for _ in range(2000)]
        assert sorted(seen) == list(range(2000))
        await socket.close()

    asyncio.run(run())


def test_refusals_raise_publish_error(service):
    async def run():
        async with Publisher(service.http) as publisher:
            with pytest.raises(PublishError) as refused:
                await publisher.workflow_started(workflow_id="wf1", adapter=3)
            assert refused.value.code == "VALIDATION_ERROR" and refused.value.status == 422
            with pytest.raises(TypeError, match="workflow_id"):
                await publisher.workflow_started(adapter="a")
            with pytest.raises(AttributeError, match="not an event of this service"):
                publisher.no_such_event

    asyncio.run(run())


@pytest.mark.parametrize("service", [("crackerjack", True)], indirect=True)
def test_auth_needs_the_api_key(service):
    async def run():
        async with Publisher(service.http) as anonymous:
            with pytest.raises(PublishError) as refused:
                await anonymous.publish("test:r1", "test.started", {"run_id": "r1", "test_suite": "u", "total_tests": 1})
            assert refused.value.status == 401
        socket = await subscribed(service, "test:r1", {"X-API-Key": API_KEY})
        for transport in ("http", "websocket"):
            async with Publisher(service.http, api_key=API_KEY, transport=transport) as producer:
                assert await producer.test_started(run_id="r1", test_suite="unit", total_tests=4) == 1
            assert json.loads(await asyncio.wait_for(socket.recv(), 5))["data"]["total_tests"] == 4
        await socket.close()

    asyncio.run(run())
