"""WATCH / UNWATCH (TransactionsCommandsMixin) with raw MULTI/EXEC."""

import uuid

import pytest
from helpers import client, key_maker

import aioredis


key = key_maker("aioredis-test:tx")


async def run_transaction(redis, k, value):
    """A raw MULTI / SET / EXEC on the redis' connection; EXEC's reply."""
    conn = redis.connection
    assert await conn.execute(b"MULTI") == b"OK"
    assert await conn.execute(b"SET", k, value) == b"QUEUED"
    return await conn.execute(b"EXEC")


async def test_watch_aborts_exec_when_key_changes(redis_server):
    async with client(redis_server) as redis, client(redis_server) as other:
        k = key()
        await redis.execute(b"SET", k, "start")
        assert await redis.watch(k) is True
        await other.execute(b"SET", k, "changed by other")
        assert await run_transaction(redis, k, "mine") is None
        assert await redis.execute(b"GET", k) == b"changed by other"
        # the next transaction, not watching anything, goes through
        assert await run_transaction(redis, k, "mine") == [b"OK"]
        assert await redis.execute(b"GET", k) == b"mine"


async def test_watch_unchanged_key_lets_exec_run(redis_server):
    async with client(redis_server) as redis, client(redis_server) as other:
        k, unrelated = key("watched"), key("unrelated")
        assert await redis.watch(k) is True
        await other.execute(b"SET", unrelated, "x")
        assert await run_transaction(redis, k, "mine") == [b"OK"]
        assert await redis.execute(b"GET", k) == b"mine"


async def test_watch_several_keys(redis_server):
    async with client(redis_server) as redis, client(redis_server) as other:
        k1, k2, k3 = key("1"), key("2"), key("3")
        assert await redis.watch(k1, k2, k3) is True
        await other.execute(b"SET", k3, "changed")
        assert await run_transaction(redis, k1, "mine") is None
        assert await redis.execute(b"GET", k1) is None


async def test_unwatch(redis_server):
    async with client(redis_server) as redis, client(redis_server) as other:
        k = key()
        assert await redis.watch(k) is True
        assert await redis.unwatch() is True
        await other.execute(b"SET", k, "changed by other")
        assert await run_transaction(redis, k, "mine") == [b"OK"]
        assert await redis.execute(b"GET", k) == b"mine"
        # UNWATCH with nothing watched is fine too
        assert await redis.unwatch() is True


async def test_watch_with_encoding(redis_server):
    async with client(redis_server, encoding="utf-8") as redis, client(redis_server) as other:
        k = key()
        assert await redis.watch(k) is True
        await other.execute(b"SET", k, "changed")
        conn = redis.connection
        assert await conn.execute(b"MULTI") == "OK"
        assert await conn.execute(b"SET", k, "mine") == "QUEUED"
        assert await conn.execute(b"EXEC") is None
        assert await redis.unwatch() is True


async def test_watch_errors(redis_server):
    async with client(redis_server) as redis:
        with pytest.raises(TypeError):
            redis.watch(None)
        with pytest.raises(TypeError):
            redis.watch(key(), None)
        with pytest.raises(TypeError):
            redis.watch()
        marker = uuid.uuid4().hex
        assert await redis.echo(marker) == marker.encode()
        # WATCH inside MULTI is refused by the server
        conn = redis.connection
        assert await conn.execute(b"MULTI") == b"OK"
        with pytest.raises(aioredis.ReplyError, match="WATCH inside MULTI"):
            await redis.watch(key())
        assert await redis.unwatch() == b"QUEUED"  # converters let QUEUED through
        assert await conn.execute(b"EXEC") == [b"OK"]
