"""Direct messages, presence and client-to-client rooms against real services (auth on: users come from tokens)."""
from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

import pytest

from backbone_client import DirectMessage, Presence, PublishError, Publisher, RoomEvent, Subscriber
from conftest import API_KEY, token


def collect(subscriber: Subscriber, then: Callable[[Any], Awaitable[None]] | None = None
            ) -> tuple[list[Any], asyncio.Task[None]]:
    """Everything the subscriber yields, in a list; `then` runs inside the `async for` body (the task ends with
    the subscriber: await it to see its errors)."""
    seen: list[Any] = []

    async def consume() -> None:
        async for item in subscriber:
            seen.append(item)
            if then is not None:
                await then(item)

    return seen, asyncio.create_task(consume())


async def until(test: Callable[[], Any], timeout: float = 5.0) -> bool:
    for _ in range(int(timeout / 0.02)):
        if test():
            return True
        await asyncio.sleep(0.02)
    return bool(test())


@pytest.mark.parametrize("service", [("mahavishnu", True)], indirect=True)
@pytest.mark.parametrize("transport", ["http", "websocket"])
def test_direct_messages_reach_a_user_and_a_connection(service, transport):
    async def run():
        bob = Subscriber(service.ws, [], token=token("bob"))
        async with bob:
            inbox, consumer = collect(bob)
            assert await until(lambda: bob.connection_id is not None) and bob.user_id == "bob"
            bob_connection = bob.connection_id
            async with Publisher(service.http, api_key=API_KEY, transport=transport) as producer:
                assert await producer.send_to_user("bob", "note", {"text": "hi"}) == 1
                assert await producer.send_to_connection(bob_connection, "note", {"text": "just you"}) == 1
                for send in (producer.send_to_user, producer.send_to_connection):
                    with pytest.raises(PublishError) as nobody:
                        await send("nobody", "note", {})
                    assert nobody.value.code == "NOT_FOUND"
                    assert nobody.value.status == (404 if transport == "http" else None)
                with pytest.raises(PublishError) as reserved:
                    await producer.send_to_user("bob", "presence.joined", {})
                assert reserved.value.code == "VALIDATION_ERROR"
            async with Publisher(service.http) as anonymous:
                with pytest.raises(PublishError) as refused:
                    await anonymous.send_to_user("bob", "note", {})
                assert refused.value.status == 401
            assert await until(lambda: len(inbox) == 2)
        await asyncio.wait_for(consumer, 5)
        to_user, to_connection = inbox
        assert isinstance(to_user, DirectMessage) and (to_user.event, to_user.data["text"]) == ("note", "hi")
        assert (to_user.to_user, to_user.to_connection) == ("bob", None)
        assert (to_connection.to_connection, to_connection.data["text"]) == (bob_connection, "just you")
        assert to_user.publisher is not None and to_user.publisher.startswith("api_key:")
        assert (to_user.from_connection is None) == (transport == "http")

    asyncio.run(run())


@pytest.mark.parametrize("service", [("session-buddy", True)], indirect=True)
def test_presence_and_editing_together(service):
    room, read = "collab:s1", "session-buddy:read"
    alice = Subscriber(service.ws, [room], token=token("alice", read))
    bob = Subscriber(service.ws, [room], token=token("bob", read))

    async def answer(item: Any) -> None:  # alice answers bob's edit from inside her `async for`
        if isinstance(item, RoomEvent) and item.event == "collab.edit" and item.from_connection == bob.connection_id:
            await alice.publish(room, "collab.edit", {"ops": [{"insert": "!", "at": 2}], "version": 2, "session_id": "s1"})

    async def run():
        async with alice:
            seen_by_alice, alice_consumer = collect(alice, answer)
            assert await until(lambda: alice.connection_id is not None)
            alone = await alice.presence(room)
            assert (alone.room, alone.mode, alone.count, alone.truncated) == (room, "members", 1, False)
            assert [(m.connection_id, m.user_id) for m in alone.members] == [(alice.connection_id, "alice")]
            assert alone.members[0].joined_at

            async with bob:
                seen_by_bob, bob_consumer = collect(bob)
                assert await until(lambda: bob.connection_id is not None)

                def bob_joined() -> bool:
                    return any(e.event == "presence.joined" and e.data["count"] == 2 and e.seq is not None
                               and bob.connection_id in [m["connection_id"] for m in e.data["members"]]
                               for e in seen_by_alice)
                assert await until(bob_joined), seen_by_alice
                first = await alice.presence(room, limit=1)
                assert (first.count, len(first.members), first.truncated) == (2, 1, True)

                assert await bob.publish(room, "collab.edit", {"ops": [{"insert": "hi", "at": 0}], "version": 1}) == 2
                assert await until(lambda: any(e.event == "collab.edit" and e.data.get("version") == 2 for e in seen_by_bob))
                answered = next(e for e in seen_by_bob if e.event == "collab.edit" and e.data["version"] == 2)
                assert (answered.room, answered.publisher, answered.from_connection) == (room, "alice", alice.connection_id)
                bob_connection = bob.connection_id
            await asyncio.wait_for(bob_consumer, 5)

            assert await until(lambda: any(
                e.event == "presence.left" and e.data["count"] == 1
                and [m["connection_id"] for m in e.data["members"]] == [bob_connection] for e in seen_by_alice))

            carol = Subscriber(service.ws, [], token=token("carol"))  # in no room, no permission
            async with carol:
                for call, code in [(carol.publish(room, "collab.edit", {"ops": []}), "FORBIDDEN"),
                                   (carol.presence(room), "FORBIDDEN"),
                                   (carol.presence("global"), "VALIDATION_ERROR"),
                                   (carol.presence("nowhere:1"), "INVALID_CHANNEL")]:
                    with pytest.raises(PublishError) as refused:
                        await call
                    assert refused.value.code == code, refused.value
        await asyncio.wait_for(alice_consumer, 5)
        assert isinstance(alone, Presence)

    asyncio.run(run())
