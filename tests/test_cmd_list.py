"""ListCommandsMixin against a real redis-server (blocking commands use a
second connection to push)."""

import asyncio
import time

import pytest
from helpers import client, key_maker, recording

from aioredis import ReplyError


key = key_maker("aioredis-test:list", "l")


async def wait_blocked(blocked_id, redis, timeout=3.0):
    """Wait until the client with id ``blocked_id`` is blocked (flags b)."""
    deadline = time.monotonic() + timeout
    while True:
        listing = await redis.execute("CLIENT", "LIST")
        for line in listing.splitlines():
            fields = dict(item.split(b"=", 1) for item in line.split() if b"=" in item)
            if fields.get(b"id") == b"%d" % blocked_id and b"b" in fields.get(b"flags", b""):
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"client {blocked_id} did not become blocked")
        await asyncio.sleep(0.01)


# ---------------------------------------------------------------------------
# blocking commands
# ---------------------------------------------------------------------------


async def test_blpop_brpop_immediate(redis_server):
    k1, k2 = key("1"), key("2")
    async with client(redis_server) as r:
        await r.rpush(k2, "a", "b", "c")
        assert await r.blpop(k2) == [k2.encode(), b"a"]
        assert await r.brpop(k2) == [k2.encode(), b"c"]
        # several keys: the first non-empty list in argument order
        await r.rpush(k1, "x")
        assert await r.blpop(k1, k2, timeout=1) == [k1.encode(), b"x"]
        assert await r.brpop(k1, k2, timeout=1) == [k2.encode(), b"b"]
        assert await r.llen(k2) == 0


async def test_blocking_encoding(redis_server):
    k, dst = key(), key("dst")
    async with client(redis_server) as r:
        await r.rpush(k, "a", "b", "c", "d")
        assert await r.blpop(k, encoding="utf-8") == [k, "a"]
        assert await r.brpop(k, encoding="utf-8") == [k, "d"]
        assert await r.brpoplpush(k, dst, encoding="utf-8") == "c"
    async with client(redis_server, encoding="utf-8") as r:
        assert await r.blpop(k) == [k, "b"]
        await r.rpush(k, "e", "f", "g")
        assert await r.brpop(k, encoding=None) == [k.encode(), b"g"]
        assert await r.brpoplpush(k, dst) == "f"
        assert await r.brpoplpush(k, dst, encoding=None) == b"e"
        assert await r.lrange(dst, 0, -1) == ["e", "f", "c"]


async def test_blocking_timeouts(redis_server):
    k, dst = key(), key("dst")
    async with client(redis_server) as r1, client(redis_server) as r2, client(redis_server) as r3:
        start = time.monotonic()
        results = await asyncio.gather(
            r1.blpop(k, timeout=1),
            r2.brpop(k, key("other"), timeout=1),
            r3.brpoplpush(k, dst, timeout=1),
        )
        elapsed = time.monotonic() - start
        assert results == [None, None, None]
        assert 0.9 <= elapsed < 5
        assert await r1.execute("EXISTS", dst) == 0


async def test_blpop_wakes_on_push(redis_server):
    k = key()
    async with client(redis_server) as blocked, client(redis_server) as pusher:
        blocked_id = await blocked.execute("CLIENT", "ID")
        waiter = asyncio.ensure_future(blocked.blpop(k, timeout=0))
        await wait_blocked(blocked_id, pusher)
        assert not waiter.done()
        assert await pusher.rpush(k, "v1", "v2") == 2
        assert await asyncio.wait_for(waiter, 5) == [k.encode(), b"v1"]
        assert await pusher.lrange(k, 0, -1) == [b"v2"]


async def test_brpop_wakes_on_push(redis_server):
    k1, k2 = key("1"), key("2")
    async with client(redis_server) as blocked, client(redis_server) as pusher:
        blocked_id = await blocked.execute("CLIENT", "ID")
        waiter = asyncio.ensure_future(blocked.brpop(k1, k2, timeout=5, encoding="utf-8"))
        await wait_blocked(blocked_id, pusher)
        assert not waiter.done()
        await pusher.rpush(k2, "a", "b")
        assert await asyncio.wait_for(waiter, 5) == [k2, "b"]


async def test_brpoplpush_wakes_on_push(redis_server):
    src, dst = key("src"), key("dst")
    async with client(redis_server) as blocked, client(redis_server) as pusher:
        await pusher.rpush(dst, "old")
        blocked_id = await blocked.execute("CLIENT", "ID")
        waiter = asyncio.ensure_future(blocked.brpoplpush(src, dst))
        await wait_blocked(blocked_id, pusher)
        assert not waiter.done()
        await pusher.lpush(src, "new")
        assert await asyncio.wait_for(waiter, 5) == b"new"
        assert await pusher.lrange(dst, 0, -1) == [b"new", b"old"]
        assert await pusher.llen(src) == 0


@pytest.mark.parametrize("method", ["blpop", "brpop"])
async def test_blpop_brpop_timeout_validation(redis_server, method):
    k = key()
    async with client(redis_server) as r:
        await r.rpush(k, "keep")
        func = getattr(r, method)
        with recording(r) as sent:
            for bad in ("1", 1.5, None, b"0"):
                with pytest.raises(TypeError):
                    func(k, timeout=bad)  # raised at call time
            with pytest.raises(ValueError):
                func(k, timeout=-1)
            with pytest.raises(ValueError):
                func(k, key("other"), timeout=-5)
        assert sent == []
        assert await r.lrange(k, 0, -1) == [b"keep"]
        with pytest.raises(TypeError):
            func(None)


async def test_brpoplpush_timeout_validation(redis_server):
    src, dst = key("src"), key("dst")
    async with client(redis_server) as r:
        await r.rpush(src, "keep")
        with recording(r) as sent:
            for bad in ("1", 0.5, None):
                with pytest.raises(TypeError):
                    r.brpoplpush(src, dst, timeout=bad)
            with pytest.raises(ValueError):
                r.brpoplpush(src, dst, timeout=-1)
        assert sent == []
        assert await r.lrange(src, 0, -1) == [b"keep"]
        assert await r.execute("EXISTS", dst) == 0
        with pytest.raises(TypeError):
            r.brpoplpush(src, None)


# ---------------------------------------------------------------------------
# the other commands
# ---------------------------------------------------------------------------


async def test_lindex(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.lindex(k, 0) is None
        await r.rpush(k, "a", "b", "ç")
        assert await r.lindex(k, 0) == b"a"
        assert await r.lindex(k, -1) == "ç".encode()
        assert await r.lindex(k, 3) is None
        assert await r.lindex(k, 2, encoding="utf-8") == "ç"
        with recording(r) as sent:
            for bad in ("0", 1.0, None):
                with pytest.raises(TypeError):
                    r.lindex(k, bad)
        assert sent == []
    async with client(redis_server, encoding="utf-8") as r:
        assert await r.lindex(k, 2) == "ç"
        assert await r.lindex(k, 2, encoding=None) == "ç".encode()


async def test_linsert(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.linsert(k, "x", "y") == 0  # no list
        await r.rpush(k, "a", "c")
        assert await r.linsert(k, "a", "b") == 3  # after by default
        assert await r.linsert(k, "a", "start", before=True) == 4
        assert await r.linsert(k, "c", "end", before=False) == 5
        assert await r.linsert(k, "missing", "z") == -1
        assert await r.lrange(k, 0, -1) == [b"start", b"a", b"b", b"c", b"end"]


async def test_llen(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.llen(k) == 0
        await r.rpush(k, 1, 2, 3)
        assert await r.llen(k) == 3
        await r.execute("SET", k, "string")
        with pytest.raises(ReplyError):
            await r.llen(k)


async def test_lpop_rpop(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.lpop(k) is None
        assert await r.rpop(k) is None
        await r.rpush(k, "a", "b", "c", "d")
        assert await r.lpop(k) == b"a"
        assert await r.rpop(k) == b"d"
        assert await r.lpop(k, encoding="utf-8") == "b"
        assert await r.rpop(k, encoding="utf-8") == "c"
        assert await r.lpop(k) is None
    async with client(redis_server, encoding="utf-8") as r:
        await r.rpush(k, "a", "b", "c", "d")
        assert await r.lpop(k) == "a"
        assert await r.rpop(k) == "d"
        assert await r.lpop(k, encoding=None) == b"b"
        assert await r.rpop(k, encoding=None) == b"c"


async def test_lpush_rpush(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.lpush(k, "b") == 1
        assert await r.lpush(k, "a", 0) == 3
        assert await r.rpush(k, "c") == 4
        assert await r.rpush(k, 1.5, b"d") == 6
        assert await r.lrange(k, 0, -1) == [b"0", b"a", b"b", b"c", b"1.5", b"d"]
        with pytest.raises(TypeError):
            r.lpush(k, None)
        with pytest.raises(TypeError):
            r.rpush(k, "x", None)
        assert await r.llen(k) == 6


async def test_lpushx_rpushx(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.lpushx(k, "a") == 0
        assert await r.rpushx(k, "a") == 0
        assert await r.execute("EXISTS", k) == 0
        await r.rpush(k, "m")
        assert await r.lpushx(k, "l") == 2
        assert await r.rpushx(k, "r") == 3
        assert await r.lrange(k, 0, -1) == [b"l", b"m", b"r"]


async def test_lrange(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.lrange(k, 0, -1) == []
        await r.rpush(k, "a", "b", "c", "d")
        assert await r.lrange(k, 0, -1) == [b"a", b"b", b"c", b"d"]
        assert await r.lrange(k, 1, 2) == [b"b", b"c"]
        assert await r.lrange(k, -2, 100) == [b"c", b"d"]
        assert await r.lrange(k, 3, 1) == []
        assert await r.lrange(k, 0, 1, encoding="utf-8") == ["a", "b"]
        with recording(r) as sent:
            for start, stop in [("0", -1), (0, "-1"), (0.0, 1), (0, None), (None, 1)]:
                with pytest.raises(TypeError):
                    r.lrange(k, start, stop)
        assert sent == []
    async with client(redis_server, encoding="utf-8") as r:
        assert await r.lrange(k, 0, -1) == ["a", "b", "c", "d"]
        assert await r.lrange(k, 0, 0, encoding=None) == [b"a"]


async def test_lrem(redis_server):
    k = key()
    async with client(redis_server) as r:
        await r.rpush(k, "x", "a", "x", "b", "x", "x")
        assert await r.lrem(k, 1, "x") == 1
        assert await r.lrange(k, 0, -1) == [b"a", b"x", b"b", b"x", b"x"]
        assert await r.lrem(k, -1, "x") == 1
        assert await r.lrange(k, 0, -1) == [b"a", b"x", b"b", b"x"]
        assert await r.lrem(k, 0, "x") == 2
        assert await r.lrem(k, 0, "nope") == 0
        assert await r.lrange(k, 0, -1) == [b"a", b"b"]
        with recording(r) as sent:
            for bad in ("1", 1.0, None):
                with pytest.raises(TypeError):
                    r.lrem(k, bad, "a")
        assert sent == []
        assert await r.lrange(k, 0, -1) == [b"a", b"b"]


async def test_lset(redis_server):
    k = key()
    async with client(redis_server) as r:
        with pytest.raises(ReplyError):
            await r.lset(k, 0, "v")  # no such key
        await r.rpush(k, "a", "b", "c")
        assert await r.lset(k, 0, "A") == b"OK"
        assert await r.lset(k, -1, "C") == b"OK"
        with pytest.raises(ReplyError):
            await r.lset(k, 3, "x")  # index out of range
        assert await r.lrange(k, 0, -1) == [b"A", b"b", b"C"]
        with recording(r) as sent:
            for bad in ("1", 1.0, None):
                with pytest.raises(TypeError):
                    r.lset(k, bad, "x")
        assert sent == []
        assert await r.lrange(k, 0, -1) == [b"A", b"b", b"C"]


async def test_ltrim(redis_server):
    k = key()
    async with client(redis_server) as r:
        await r.rpush(k, "a", "b", "c", "d", "e")
        res = await r.ltrim(k, 1, -2)
        assert res is True
        assert await r.lrange(k, 0, -1) == [b"b", b"c", b"d"]
        with recording(r) as sent:
            for start, stop in [("0", 1), (0, "1"), (0, 1.0), (None, 1)]:
                with pytest.raises(TypeError):
                    r.ltrim(k, start, stop)
        assert sent == []
        assert await r.lrange(k, 0, -1) == [b"b", b"c", b"d"]
    async with client(redis_server, encoding="utf-8") as r:
        assert await r.ltrim(k, 0, 0) is True
        assert await r.lrange(k, 0, -1) == ["b"]
        assert await r.ltrim(k, 5, 10) is True
        assert await r.execute("EXISTS", k) == 0


async def test_rpoplpush(redis_server):
    src, dst = key("src"), key("dst")
    async with client(redis_server) as r:
        assert await r.rpoplpush(src, dst) is None
        await r.rpush(src, "a", "b", "c")
        assert await r.rpoplpush(src, dst) == b"c"
        assert await r.rpoplpush(src, dst, encoding="utf-8") == "b"
        assert await r.lrange(dst, 0, -1) == [b"b", b"c"]
        assert await r.rpoplpush(src, src) == b"a"  # rotation
    async with client(redis_server, encoding="utf-8") as r:
        assert await r.rpoplpush(dst, src) == "c"
        assert await r.rpoplpush(dst, src, encoding=None) == b"b"
        assert await r.lrange(src, 0, -1) == ["b", "c", "a"]


async def test_ltrim_passes_queued(redis_server):
    k = key()
    async with client(redis_server) as r:
        await r.rpush(k, "a", "b")
        assert await r.execute("MULTI") == b"OK"
        assert await r.ltrim(k, 0, 0) == b"QUEUED"
        assert await r.execute("EXEC") == [b"OK"]
        assert await r.lrange(k, 0, -1) == [b"a"]
