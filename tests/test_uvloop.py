"""The client on uvloop's event loop, against a real redis-server.

uvloop's transports are not the standard library's: the protocol reads
through BufferedProtocol the same way, but a command with big arguments
goes to the transport in one writelines() call (src/protocol.c,
write_scattered) instead of sendmsg() on the socket. Every test here runs
on uvloop (the ``uvloop`` marker, tests/conftest.py).
"""

import asyncio
import uuid

import pytest
from helpers import auth_kwargs

import aioredis
from aioredis import ConnectionClosedError

pytestmark = pytest.mark.uvloop


def key(name):
    return f"aioredis-test:uvloop:{uuid.uuid4().hex[:8]}:{name}"


async def test_runs_on_uvloop():
    import uvloop

    assert isinstance(asyncio.get_running_loop(), uvloop.Loop)


async def test_commands_and_large_replies(redis_server):
    redis = await aioredis.create_redis(redis_server.tcp_address, **auth_kwargs(redis_server))
    try:
        k, h = key("list"), key("hash")
        items = [b"item-%011d" % i for i in range(10_000)]
        for i in range(0, len(items), 1000):
            await redis.rpush(k, *items[i:i + 1000])
        fields = {b"f%d" % i: b"v%d" % i for i in range(5000)}
        await redis.hmset_dict(h, fields)
        # concurrent commands on the one connection, answered in order
        got = await asyncio.gather(redis.lrange(k, 0, -1), redis.hgetall(h), redis.incr(key("n")),
                                   redis.get(key("absent")), redis.echo("é", encoding="utf-8"))
        assert got == [items, fields, 1, None, "é"]
        await redis.delete(k, h)
    finally:
        redis.close()
        await redis.wait_closed()


async def test_big_values(redis_server):
    """MSET with two big values and a small one between them: right on the
    server, whether the connection is idle or has a command queued."""
    redis = await aioredis.create_redis(redis_server.tcp_address, **auth_kwargs(redis_server))
    try:
        k = key("big")
        big1 = bytes(range(256)) * 512  # 128 KiB
        big2 = b"q" * (1024 * 1024)
        assert await redis.mset(k + ":1", big1, k + ":2", "small", k + ":3", big2)
        assert await redis.mget(k + ":1", k + ":2", k + ":3") == [big1, b"small", big2]
        # behind a queued command, followed by another: all in order
        first = redis.set(k + ":0", "x")
        second = redis.set(k + ":1", big2)
        third = redis.strlen(k + ":1")
        assert await asyncio.gather(first, second, third) == [True, True, len(big2)]
        # a mutable value is copied, and right
        mutable = bytearray(b"m" * (100 * 1024))
        assert await redis.set(k + ":4", mutable)
        assert await redis.get(k + ":4") == bytes(mutable)
        await redis.delete(*[f"{k}:{i}" for i in range(5)])
    finally:
        redis.close()
        await redis.wait_closed()


async def test_pipeline_and_multi_exec(redis_server):
    redis = await aioredis.create_redis(redis_server.tcp_address, **auth_kwargs(redis_server))
    try:
        k = key("p")
        pipe = redis.pipeline()
        futs = [pipe.set(f"{k}:{i}", i) for i in range(100)]
        futs.append(pipe.get(f"{k}:99"))
        assert await pipe.execute() == [True] * 100 + [b"99"]
        assert await asyncio.gather(*futs) == [True] * 100 + [b"99"]
        tr = redis.multi_exec()
        tr.incr(k + ":n")
        tr.incr(k + ":n")
        assert await tr.execute() == [1, 2]
        await redis.delete(*[f"{k}:{i}" for i in range(100)], k + ":n")
    finally:
        redis.close()
        await redis.wait_closed()


async def test_pubsub(redis_server):
    sub = await aioredis.create_redis(redis_server.tcp_address, **auth_kwargs(redis_server))
    pub = await aioredis.create_redis(redis_server.tcp_address, **auth_kwargs(redis_server))
    try:
        name = key("chan")
        (ch,) = await sub.subscribe(name)
        assert await pub.publish(name, "hello") == 1
        assert await ch.get() == b"hello"
        await sub.unsubscribe(name)
        assert sub.in_pubsub == 0
    finally:
        for r in (sub, pub):
            r.close()
            await r.wait_closed()


async def test_pool(redis_server):
    pool = await aioredis.create_pool(redis_server.tcp_address, minsize=1, maxsize=3,
                                      **auth_kwargs(redis_server))
    try:
        results = await asyncio.gather(*[pool.execute("ECHO", str(i)) for i in range(50)])
        assert results == [str(i).encode() for i in range(50)]
        with await pool as conn:
            assert await conn.execute("PING") == b"PONG"
    finally:
        pool.close()
        await pool.wait_closed()


async def test_close_fails_what_is_pending(redis_server):
    redis = await aioredis.create_redis(redis_server.tcp_address, **auth_kwargs(redis_server))
    fut = redis.blpop(key("never"), timeout=0)
    await asyncio.sleep(0.01)
    redis.close()
    await redis.wait_closed()
    with pytest.raises(ConnectionClosedError):
        await fut
    with pytest.raises(ConnectionClosedError):
        await redis.get("k")
