"""Pub/Sub against a real redis-server: channels, patterns, Receiver, the
C protocol's routing, and what happens on unsubscribe, close and loss."""

import asyncio
import contextlib
import json
import uuid

import pytest
from helpers import auth_kwargs

import aioredis
from aioredis import ChannelClosedError, ConnectionClosedError, RedisError
from aioredis.pubsub import Channel, Receiver


def unique(name):
    return f"{name}:{uuid.uuid4().hex[:8]}"


@contextlib.asynccontextmanager
async def clients(server, n=2, **kwargs):
    made = [await aioredis.create_redis(server.tcp_address, **auth_kwargs(server), **kwargs) for _ in range(n)]
    try:
        yield made
    finally:
        for r in made:
            r.close()
        for r in made:
            await r.wait_closed()


async def test_subscribe_publish_get(redis_server):
    name = unique("chan")
    async with clients(redis_server) as (sub, pub):
        (ch,) = await sub.subscribe(name)
        assert isinstance(ch, Channel)
        assert ch.name == name.encode() and not ch.is_pattern and ch.is_active
        assert sub.in_pubsub == 1 and sub.channels[name.encode()] is ch
        assert await pub.publish(name, "hello") == 1
        assert await pub.publish_json(name, {"a": [1, 2]}) == 1
        assert await pub.publish(name, "zürich") == 1
        assert await ch.get() == b"hello"
        assert await ch.get_json() == {"a": [1, 2]}
        assert await ch.get(encoding="utf-8") == "zürich"
        await pub.publish(name, "5")
        assert await ch.get(decoder=int) == 5
        assert repr(ch) == f"<Channel name:{name.encode()!r}, is_pattern:False, qsize:0>"


async def test_pubsub_mode_rejects_other_commands(redis_server):
    name = unique("chan")
    async with clients(redis_server, 1) as (sub,):
        await sub.subscribe(name)
        with pytest.raises(RedisError, match="SUBSCRIBE mode"):
            sub.get("k")
        assert await sub.ping() == [b"pong", b""]
        await sub.unsubscribe(name)
        assert sub.in_pubsub == 0
        assert await sub.echo("normal again") == b"normal again"


async def test_patterns(redis_server):
    prefix = unique("pat")
    async with clients(redis_server) as (sub, pub):
        (pch,) = await sub.psubscribe(prefix + ":*")
        assert pch.is_pattern and sub.patterns[(prefix + ":*").encode()] is pch
        await pub.publish(prefix + ":one", "1")
        await pub.publish(prefix + ":two", "2")
        assert await pch.get() == ((prefix + ":one").encode(), b"1")
        assert await pch.get(encoding="utf-8") == ((prefix + ":two").encode(), "2")
        await sub.punsubscribe(prefix + ":*")
        assert await pch.get() is None
        assert not pch.is_active


async def test_unsubscribe_keeps_received_messages_then_ends(redis_server):
    name = unique("chan")
    async with clients(redis_server) as (sub, pub):
        (ch,) = await sub.subscribe(name)
        for i in range(3):
            await pub.publish(name, str(i))
        await sub.unsubscribe(name)
        assert name.encode() not in sub.channels
        assert ch.is_active  # messages left to read
        assert [await ch.get() for _ in range(3)] == [b"0", b"1", b"2"]
        assert not ch.is_active
        assert await ch.get() is None
        with pytest.raises(ChannelClosedError):
            await ch.get()
        assert await ch.wait_message() is False


async def test_iteration_ends_on_close_and_nothing_is_lost(redis_server):
    names = [unique("c") for _ in range(3)]
    async with clients(redis_server) as (sub, pub):
        channels = await sub.subscribe(*names)
        for ch in channels:
            await pub.publish(ch.name, b"before-close")
        await pub.echo("sync")  # the messages were sent before this reply
        await asyncio.sleep(0.05)
        sub.close()
        await sub.wait_closed()
        for ch in channels:
            assert [m async for m in ch] == [b"before-close"]
            with pytest.raises(ChannelClosedError):
                await ch.get()
        with pytest.raises(ConnectionClosedError):
            sub.subscribe("again")


async def test_connection_lost_ends_iteration(redis_server):
    name = unique("chan")
    async with clients(redis_server) as (sub, admin):
        (ch,) = await sub.subscribe(name)
        reader = asyncio.ensure_future(ch.get())
        await asyncio.sleep(0.01)
        client_id = None
        for line in (await admin.execute("CLIENT", "LIST", encoding="utf-8")).splitlines():
            if "cmd=subscribe" in line:
                client_id = line.split()[0].split("=")[1]
        assert client_id is not None
        await admin.execute("CLIENT", "KILL", "ID", client_id)
        assert await asyncio.wait_for(reader, 5) is None
        assert sub.closed


async def test_flood_of_100000_messages_none_lost_order_kept(redis_server):
    names = [unique("flood") for _ in range(4)]
    total = 100_000
    async with clients(redis_server) as (sub, pub):
        channels = await sub.subscribe(*names)
        received = {ch.name: [] for ch in channels}

        async def consume(ch, expected):
            for _ in range(expected):
                received[ch.name].append(int(await ch.get()))

        consumers = [asyncio.ensure_future(consume(ch, total // len(names))) for ch in channels]
        batch = []
        for i in range(total):
            batch.append(pub.publish(names[i % len(names)], i))
            if len(batch) == 5000:
                assert set(await asyncio.gather(*batch)) == {1}
                batch = []
        await asyncio.wait_for(asyncio.gather(*consumers), 60)
        for index, ch in enumerate(channels):
            assert received[ch.name] == list(range(index, total, len(names)))


async def test_many_channels_and_patterns(redis_server):
    prefix = unique("many")
    names = [f"{prefix}:{i}" for i in range(200)]
    async with clients(redis_server) as (sub, pub):
        channels = await sub.subscribe(*names)
        patterns = await sub.psubscribe(prefix + ":1*", prefix + ":*")
        assert sub.in_pubsub == 202
        for name in names:
            await pub.publish(name, name)
        for ch in channels:
            assert await ch.get(encoding="utf-8") == ch.name.decode()
        narrow, wide = patterns
        assert len([await wide.get() for _ in names]) == 200
        narrow_count = sum(1 for n in names if n.startswith(prefix + ":1"))
        got = [await narrow.get() for _ in range(narrow_count)]
        assert all(dest.startswith((prefix + ":1").encode()) for dest, _ in got)
        numsub = await pub.pubsub_numsub(names[0], names[1])
        assert numsub == {names[0].encode(): 1, names[1].encode(): 1}
        assert names[0].encode() in await pub.pubsub_channels(prefix + ":*")
        assert await pub.pubsub_numpat() >= 2


async def test_receiver(redis_server):
    prefix = unique("recv")
    async with clients(redis_server) as (sub, pub):
        mpsc = Receiver()
        await sub.subscribe(mpsc.channel(prefix + ":a"), mpsc.channel(prefix + ":b"))
        await sub.psubscribe(mpsc.pattern(prefix + ":*"))
        assert set(mpsc.channels) == {(prefix + ":a").encode(), (prefix + ":b").encode()}
        await pub.publish(prefix + ":a", "1")
        await pub.publish(prefix + ":b", "2")
        got = [await mpsc.get() for _ in range(4)]
        plain = [(s.name, m) for s, m in got if not s.is_pattern]
        assert plain == [((prefix + ":a").encode(), b"1"), ((prefix + ":b").encode(), b"2")]
        pattern = [m for s, m in got if s.is_pattern]
        assert pattern == [((prefix + ":a").encode(), b"1"), ((prefix + ":b").encode(), b"2")]
        with pytest.raises(RuntimeError):
            await mpsc.channel(prefix + ":a").get()
        await sub.unsubscribe(prefix + ":a", prefix + ":b")
        assert mpsc.is_active  # the pattern is still subscribed
        await sub.punsubscribe(prefix + ":*")
        assert [x async for x in mpsc.iter()] == []
        assert not mpsc.is_active


async def test_execute_pubsub_validation(redis_server):
    async with clients(redis_server, 1) as (sub,):
        conn = sub.connection
        with pytest.raises(TypeError):
            conn.execute_pubsub("SUBSCRIBE")
        with pytest.raises(TypeError):
            conn.execute_pubsub("SUBSCRIBE", None)
        with pytest.raises(ValueError):
            conn.execute_pubsub("SUBSCRIBE", Channel("p*", is_pattern=True))
        with pytest.raises(ValueError):
            conn.execute_pubsub("GET", "x")
        assert conn.in_pubsub == 0
        assert await sub.echo("still fine") == b"still fine"
        # execute() of a subscribe command goes through execute_pubsub
        name = unique("raw")
        acks = await conn.execute("subscribe", name)
        assert acks == [[b"subscribe", name.encode(), 1]]
        assert name.encode() in conn.pubsub_channels
        # an unsubscribe with no channels acknowledges every subscription
        assert await conn.execute_pubsub("UNSUBSCRIBE") == [[b"unsubscribe", name.encode(), 0]]
        conn.close()
        with pytest.raises(ConnectionClosedError):
            conn.execute_pubsub("SUBSCRIBE", "x")


async def test_json_and_wait_message(redis_server):
    name = unique("json")
    async with clients(redis_server) as (sub, pub):
        (ch,) = await sub.subscribe(name)
        waiter = asyncio.ensure_future(ch.wait_message())
        await asyncio.sleep(0.01)
        assert not waiter.done()
        await pub.publish(name, json.dumps([1, "x"]))
        assert await asyncio.wait_for(waiter, 5) is True
        assert await ch.get_json() == [1, "x"]


async def test_subscribe_on_a_pool_uses_a_dedicated_connection(redis_server):
    name = unique("pooled")
    redis = await aioredis.create_redis_pool(redis_server.tcp_address, minsize=1, maxsize=2,
                                             **auth_kwargs(redis_server))
    try:
        assert redis.in_pubsub == 0 and dict(redis.channels) == {}
        (ch,) = await redis.subscribe(name)
        assert redis.in_pubsub == 1 and redis.channels[name.encode()] is ch
        pool = redis.connection
        # ordinary commands still work and never run on the subscribed connection
        assert all(item is not pool._pubsub_conn for item in pool._free)
        assert await redis.publish(name, "via-pool") == 1
        assert await ch.get() == b"via-pool"
        assert await redis.echo("normal") == b"normal"
        await redis.unsubscribe(name)
        assert await ch.get() is None
        (again,) = await redis.subscribe(name)
    finally:
        redis.close()
        await redis.wait_closed()
    # closing the pool ends the pub/sub connection's channels
    assert await again.get() is None
