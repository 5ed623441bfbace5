"""SetCommandsMixin against a real redis-server."""

import pytest
from helpers import client, key_maker

from aioredis import ReplyError


key = key_maker("aioredis-test:set", "s")


async def test_sadd_scard(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.scard(k) == 0
        assert await r.sadd(k, "a") == 1
        assert await r.sadd(k, "a", "b", 3, 4.5, b"c", bytearray(b"d")) == 5
        assert await r.scard(k) == 6
        assert sorted(await r.smembers(k)) == [b"3", b"4.5", b"a", b"b", b"c", b"d"]
        with pytest.raises(TypeError):
            r.sadd(k, None)
        with pytest.raises(TypeError):
            r.sadd(k, "x", [1])
        assert await r.scard(k) == 6
        await r.execute("SET", k, "string")
        with pytest.raises(ReplyError):
            await r.sadd(k, "x")


async def test_sdiff_sdiffstore(redis_server):
    k1, k2, k3, dst = key("1"), key("2"), key("3"), key("dst")
    async with client(redis_server) as r:
        await r.sadd(k1, "a", "b", "c", "d")
        await r.sadd(k2, "c")
        await r.sadd(k3, "a", "e")
        assert sorted(await r.sdiff(k1)) == [b"a", b"b", b"c", b"d"]
        assert sorted(await r.sdiff(k1, k2, k3)) == [b"b", b"d"]
        assert await r.sdiff(key("missing"), k1) == []
        assert await r.sdiffstore(dst, k1, k2, k3) == 2
        assert sorted(await r.smembers(dst)) == [b"b", b"d"]
        assert await r.sdiffstore(dst, k2, k1) == 0
        assert await r.execute("EXISTS", dst) == 0


async def test_sinter_sinterstore(redis_server):
    k1, k2, k3, dst = key("1"), key("2"), key("3"), key("dst")
    async with client(redis_server) as r:
        await r.sadd(k1, "a", "b", "c")
        await r.sadd(k2, "b", "c", "d")
        await r.sadd(k3, "c", "b", "z")
        assert sorted(await r.sinter(k1)) == [b"a", b"b", b"c"]
        assert sorted(await r.sinter(k1, k2, k3)) == [b"b", b"c"]
        assert await r.sinter(k1, key("missing")) == []
        assert await r.sinterstore(dst, k1, k2) == 2
        assert sorted(await r.smembers(dst)) == [b"b", b"c"]


async def test_sunion_sunionstore(redis_server):
    k1, k2, dst = key("1"), key("2"), key("dst")
    async with client(redis_server) as r:
        await r.sadd(k1, "a", "b")
        await r.sadd(k2, "b", "c")
        assert sorted(await r.sunion(k1)) == [b"a", b"b"]
        assert sorted(await r.sunion(k1, k2, key("missing"))) == [b"a", b"b", b"c"]
        assert await r.sunionstore(dst, k1, k2) == 3
        assert sorted(await r.smembers(dst)) == [b"a", b"b", b"c"]


async def test_set_ops_connection_encoding(redis_server):
    """No per-call encoding keyword on these: the connection's encoding applies."""
    k1, k2 = key("1"), key("2")
    async with client(redis_server, encoding="utf-8") as r:
        await r.sadd(k1, "a", "b")
        await r.sadd(k2, "b", "c")
        assert sorted(await r.sunion(k1, k2)) == ["a", "b", "c"]
        assert await r.sinter(k1, k2) == ["b"]
        assert await r.sdiff(k1, k2) == ["a"]


async def test_sismember(redis_server):
    k = key()
    async with client(redis_server) as r:
        await r.sadd(k, "a")
        res = await r.sismember(k, "a")
        assert res == 1 and type(res) is int
        res = await r.sismember(k, "b")
        assert res == 0 and type(res) is int
        assert await r.sismember(key("missing"), "a") == 0


async def test_smembers(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.smembers(k) == []
        await r.sadd(k, "ä", "b")
        assert sorted(await r.smembers(k)) == [b"b", "ä".encode()]
        assert sorted(await r.smembers(k, encoding="utf-8")) == ["b", "ä"]
    async with client(redis_server, encoding="utf-8") as r:
        assert sorted(await r.smembers(k)) == ["b", "ä"]
        assert sorted(await r.smembers(k, encoding=None)) == [b"b", "ä".encode()]


async def test_smove(redis_server):
    src, dst = key("src"), key("dst")
    async with client(redis_server) as r:
        await r.sadd(src, "a", "b")
        res = await r.smove(src, dst, "a")
        assert res == 1 and type(res) is int
        assert await r.smove(src, dst, "nope") == 0
        assert await r.smembers(src) == [b"b"]
        assert await r.smembers(dst) == [b"a"]


async def test_spop(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.spop(k) is None
        await r.sadd(k, "a", "b", "c", "d", "e")
        popped = await r.spop(k)
        assert popped in (b"a", b"b", b"c", b"d", b"e")
        assert await r.sismember(k, popped) == 0
        popped2 = await r.spop(k, encoding="utf-8")
        assert popped2 in ("a", "b", "c", "d", "e") and popped2.encode() != popped
        many = await r.spop(k, 2)
        assert isinstance(many, list) and len(many) == 2
        assert all(type(m) is bytes for m in many)
        assert await r.scard(k) == 1
        rest = await r.spop(k, 5, encoding="utf-8")
        assert len(rest) == 1 and type(rest[0]) is str
        assert sorted([popped, popped2.encode(), *many, rest[0].encode()]) == [b"a", b"b", b"c", b"d", b"e"]
        assert await r.spop(k, 3) == []
    async with client(redis_server, encoding="utf-8") as r:
        await r.sadd(k, "x", "y")
        assert await r.spop(k) in ("x", "y")
        assert await r.spop(k, 1, encoding=None) in ([b"x"], [b"y"])


async def test_srandmember(redis_server):
    k = key()
    members = {b"a", b"b", b"c"}
    async with client(redis_server) as r:
        assert await r.srandmember(k) is None
        assert await r.srandmember(k, 2) == []
        await r.sadd(k, *members)
        assert await r.srandmember(k) in members
        assert await r.srandmember(k, encoding="utf-8") in {"a", "b", "c"}
        two = await r.srandmember(k, 2)
        assert len(two) == 2 and len(set(two)) == 2 and set(two) <= members
        assert sorted(await r.srandmember(k, 10)) == sorted(members)
        repeated = await r.srandmember(k, -7)  # negative: may repeat
        assert len(repeated) == 7 and set(repeated) <= members
        assert set(await r.srandmember(k, 3, encoding="utf-8")) == {"a", "b", "c"}
        assert await r.scard(k) == 3
    async with client(redis_server, encoding="utf-8") as r:
        assert await r.srandmember(k) in {"a", "b", "c"}
        assert await r.srandmember(k, encoding=None) in members
        assert set(await r.srandmember(k, 3)) == {"a", "b", "c"}


async def test_srem(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.srem(k, "a") == 0
        await r.sadd(k, "a", "b", "c")
        assert await r.srem(k, "a") == 1
        assert await r.srem(k, "b", "c", "x") == 2
        assert await r.scard(k) == 0


async def test_sscan_small(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.sscan(k) == (0, [])
        await r.sadd(k, "a", "b", "ab")
        cursor, items = await r.sscan(k)
        assert cursor == 0 and type(cursor) is int
        assert sorted(items) == [b"a", b"ab", b"b"]
        cursor, items = await r.sscan(k, 0, match="a*")
        assert cursor == 0 and sorted(items) == [b"a", b"ab"]
    async with client(redis_server, encoding="utf-8") as r:
        cursor, items = await r.sscan(k, match="b")
        assert (cursor, items) == (0, ["b"])


async def test_sscan_iterate(redis_server):
    k = key()
    members = {f"member:{i}".encode() for i in range(1000)}
    async with client(redis_server) as r:
        await r.sadd(k, *members)
        cursor, seen, calls = 0, set(), 0
        while True:
            cursor, items = await r.sscan(k, cursor, count=25)
            assert type(cursor) is int and type(items) is list
            calls += 1
            seen.update(items)
            if cursor == 0:
                break
        assert calls > 1
        assert seen == members
        cursor, matched = 0, set()
        while True:
            cursor, items = await r.sscan(k, cursor, match="member:99*", count=100)
            matched.update(items)
            if cursor == 0:
                break
        assert matched == {m for m in members if m.startswith(b"member:99")}


async def test_sscan_passes_queued(redis_server):
    k = key()
    async with client(redis_server) as r:
        await r.sadd(k, "a")
        assert await r.execute("MULTI") == b"OK"
        assert await r.sscan(k) == b"QUEUED"
        assert await r.execute("EXEC") == [[b"0", [b"a"]]]
