"""iscan / isscan / ihscan / izscan: async iterators over the SCAN family."""

import asyncio
import inspect
import uuid

import pytest
from helpers import client

import aioredis

SCAN_DB = 11  # iscan() without MATCH walks a whole db: a db of its own


def prefix():
    return f"scan-iter:{uuid.uuid4().hex}:"


def count_calls(redis, name):
    """Wrap redis.<name> on the instance; returns the list of (args, kwargs) of each call."""
    calls = []
    original = getattr(redis, name)

    def wrapper(*args, **kwargs):
        calls.append((args, kwargs))
        return original(*args, **kwargs)

    setattr(redis, name, wrapper)
    return calls


async def collect(aiter):
    return [item async for item in aiter]


async def fresh_db(redis):
    assert await redis.execute(b"FLUSHDB") == b"OK"


# ---------------------------------------------------------------------------
# iscan
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("pool", [False, True], ids=["connection", "pool"])
async def test_iscan_every_key_exactly_once(redis_server, pool):
    async with client(redis_server, pool=pool, db=SCAN_DB) as r:
        await fresh_db(r)
        keys = [f"k:{i}".encode() for i in range(3000)]
        args = []
        for k in keys:
            args += (k, 1)
        assert await r.mset(*args) is True

        calls = count_calls(r, "scan")
        it = r.iscan()
        assert not inspect.isawaitable(it)
        assert hasattr(it, "__aiter__") and hasattr(it, "__anext__")
        assert calls == []  # nothing is sent before the iteration starts
        seen = await collect(it)
        assert len(seen) == len(keys)
        assert sorted(seen) == sorted(keys)  # each key exactly once
        assert len(calls) > 2  # several pages
        # the first page starts at cursor 0, the following ones continue
        assert calls[0][0] == (0,)
        assert all(c[0][0] != 0 for c in calls[1:])
        await fresh_db(r)


async def test_iscan_match(redis_server):
    p = prefix()
    async with client(redis_server) as r:
        args = []
        for i in range(2000):
            args += (f"{p}a:{i}", i, f"{p}b:{i}", i)
        assert await r.mset(*args) is True
        try:
            seen = await collect(r.iscan(match=f"{p}a:*"))
            assert sorted(seen) == sorted(f"{p}a:{i}".encode() for i in range(2000))
            assert await collect(r.iscan(match=f"{p}nothing:*")) == []
            # a single key
            assert await collect(r.iscan(match=f"{p}b:1999")) == [f"{p}b:1999".encode()]
        finally:
            await r.delete(*args[::2])


async def test_iscan_count(redis_server):
    async with client(redis_server, db=SCAN_DB) as r:
        await fresh_db(r)
        args = []
        for i in range(3000):
            args += (f"c:{i}", i)
        await r.mset(*args)

        small = count_calls(r, "scan")
        seen_small = await collect(r.iscan(count=50))
        del r.scan  # back to the class method
        big = count_calls(r, "scan")
        seen_big = await collect(r.iscan(count=1000))

        expected = sorted(f"c:{i}".encode() for i in range(3000))
        assert sorted(seen_small) == expected
        assert sorted(seen_big) == expected
        assert all(kw == {"match": None, "count": 50} for _, kw in small)
        assert all(kw == {"match": None, "count": 1000} for _, kw in big)
        assert len(small) > len(big) >= 2
        # match and count together
        seen = await collect(r.iscan(match="c:1*", count=500))
        assert sorted(seen) == sorted(k for k in expected if k.startswith(b"c:1"))
        await fresh_db(r)


async def test_iscan_empty_db(redis_server):
    async with client(redis_server, db=SCAN_DB) as r:
        await fresh_db(r)
        calls = count_calls(r, "scan")
        assert await collect(r.iscan()) == []
        assert len(calls) == 1  # one page, cursor 0 at once
        assert await collect(r.iscan(match="*", count=10)) == []


async def test_iscan_encoding(redis_server):
    p = prefix()
    async with client(redis_server, encoding="utf-8") as r:
        await r.mset(f"{p}x", 1, f"{p}y", 2)
        try:
            assert sorted(await collect(r.iscan(match=f"{p}*"))) == [f"{p}x", f"{p}y"]
        finally:
            await r.delete(f"{p}x", f"{p}y")
    async with client(redis_server) as r:
        await r.mset(f"{p}x", 1)
        try:
            assert await collect(r.iscan(match=f"{p}*")) == [f"{p}x".encode()]
        finally:
            await r.delete(f"{p}x")


async def test_iscan_bad_arguments_raise_at_call(redis_server):
    async with client(redis_server) as r:
        for kwargs in ({"match": object()}, {"count": []}, {"count": True}, {"match": 1.5j}):
            with pytest.raises(TypeError):
                r.iscan(**kwargs)
        assert await r.echo("after") == b"after"  # nothing was left on the wire
        with pytest.raises(TypeError):
            r.iscan("positional")  # keyword-only
        # a value the encoder accepts but the server rejects fails on iteration
        with pytest.raises(aioredis.ReplyError):
            await collect(r.iscan(count="many"))


async def test_iscan_break_early(redis_server):
    p = prefix()
    async with client(redis_server) as r:
        args = []
        for i in range(500):
            args += (f"{p}{i}", i)
        await r.mset(*args)
        try:
            got = []
            async for k in r.iscan(match=f"{p}*", count=20):
                got.append(k)
                if len(got) == 3:
                    break
            assert len(got) == 3 and all(k.startswith(p.encode()) for k in got)
            assert await r.echo("ok") == b"ok"
        finally:
            await r.delete(*args[::2])


# ---------------------------------------------------------------------------
# isscan
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("pool", [False, True], ids=["connection", "pool"])
async def test_isscan_every_member_exactly_once(redis_server, pool):
    k = prefix() + "set"
    members = [f"m{i}".encode() for i in range(3000)]
    async with client(redis_server, pool=pool) as r:
        assert await r.sadd(k, *members) == 3000
        try:
            calls = count_calls(r, "sscan")
            seen = await collect(r.isscan(k))
            assert len(seen) == 3000 and sorted(seen) == sorted(members)
            assert len(calls) > 2
            assert all(args[0] == k for args, _ in calls)
        finally:
            await r.delete(k)


async def test_isscan_match_count_empty(redis_server):
    k = prefix() + "set"
    async with client(redis_server) as r:
        await r.sadd(k, *(f"a{i}" for i in range(1500)), *(f"b{i}" for i in range(1500)))
        try:
            seen = await collect(r.isscan(k, match="a*"))
            assert sorted(seen) == sorted(f"a{i}".encode() for i in range(1500))
            small = count_calls(r, "sscan")
            assert len(await collect(r.isscan(k, count=20))) == 3000
            del r.sscan
            big = count_calls(r, "sscan")
            seen = await collect(r.isscan(k, match="b1*", count=1000))
            assert sorted(seen) == sorted(f"b{i}".encode() for i in range(1500) if str(i).startswith("1"))
            assert len(small) > len(big)
            assert all(kw == {"match": "b1*", "count": 1000} for _, kw in big)
            assert await collect(r.isscan(k, match="zzz*")) == []
        finally:
            await r.delete(k)
        assert await collect(r.isscan(k)) == []  # missing key
        assert await collect(r.isscan(k, match="*", count=5)) == []


async def test_isscan_encoding_and_errors(redis_server):
    k = prefix() + "set"
    async with client(redis_server, encoding="utf-8") as r:
        await r.sadd(k, "x", "y")
        try:
            assert sorted(await collect(r.isscan(k))) == ["x", "y"]
            with pytest.raises(TypeError):
                r.isscan(None)
            with pytest.raises(TypeError):
                r.isscan(k, match=None, count=object())
            assert await r.echo("after") == "after"
            await r.set(k + ":str", "v")
            with pytest.raises(aioredis.ReplyError):  # WRONGTYPE
                await collect(r.isscan(k + ":str"))
        finally:
            await r.delete(k, k + ":str")


# ---------------------------------------------------------------------------
# ihscan
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("pool", [False, True], ids=["connection", "pool"])
async def test_ihscan_every_field_exactly_once(redis_server, pool):
    k = prefix() + "hash"
    fields = {f"f{i}".encode(): f"v{i}".encode() for i in range(3000)}
    async with client(redis_server, pool=pool) as r:
        args = []
        for f, v in fields.items():
            args += (f, v)
        assert await r.hmset(k, *args) is True
        try:
            calls = count_calls(r, "hscan")
            seen = await collect(r.ihscan(k))
            assert all(type(item) is tuple and len(item) == 2 for item in seen)
            assert len(seen) == 3000
            assert dict(seen) == fields
            assert len({f for f, _ in seen}) == 3000  # no field twice
            assert len(calls) > 2
        finally:
            await r.delete(k)


async def test_ihscan_match_count_empty_encoding(redis_server):
    k = prefix() + "hash"
    async with client(redis_server) as r:
        args = []
        for i in range(1000):
            args += (f"a{i}", i, f"b{i}", -i)
        await r.hmset(k, *args)
        try:
            seen = await collect(r.ihscan(k, match="b*", count=200))
            assert sorted(seen) == sorted((f"b{i}".encode(), str(-i).encode()) for i in range(1000))
            assert await collect(r.ihscan(k, match="nothing*")) == []
        finally:
            await r.delete(k)
        assert await collect(r.ihscan(k)) == []
        with pytest.raises(TypeError):
            r.ihscan(k, match=[1])
        assert await r.echo("after") == b"after"
    async with client(redis_server, encoding="utf-8") as r:
        await r.hmset(k, "f", "v", "g", "w")
        try:
            assert sorted(await collect(r.ihscan(k))) == [("f", "v"), ("g", "w")]
        finally:
            await r.delete(k)


# ---------------------------------------------------------------------------
# izscan
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("pool", [False, True], ids=["connection", "pool"])
async def test_izscan_every_member_exactly_once(redis_server, pool):
    k = prefix() + "zset"
    async with client(redis_server, pool=pool) as r:
        args = []
        for i in range(3000):
            args += (i if i % 2 else i + 0.5, f"m{i}")
        assert await r.zadd(k, *args) == 3000
        try:
            calls = count_calls(r, "zscan")
            seen = await collect(r.izscan(k))
            assert len(seen) == 3000 and len(calls) > 2
            assert all(type(item) is tuple and len(item) == 2 for item in seen)
            got = dict(seen)
            assert len(got) == 3000
            for i in range(3000):
                score = got[f"m{i}".encode()]
                if i % 2:
                    assert score == i and type(score) is int
                else:
                    assert score == i + 0.5 and type(score) is float
        finally:
            await r.delete(k)


async def test_izscan_match_count_empty_encoding(redis_server):
    k = prefix() + "zset"
    async with client(redis_server) as r:
        args = []
        for i in range(1000):
            args += (i, f"a{i}", -i, f"b{i}")
        await r.zadd(k, *args)
        try:
            small = count_calls(r, "zscan")
            seen = await collect(r.izscan(k, match="a*", count=30))
            assert sorted(seen) == sorted((f"a{i}".encode(), i) for i in range(1000))
            assert all(kw == {"match": "a*", "count": 30} for _, kw in small)
            assert len(small) > 2
            assert await collect(r.izscan(k, match="nothing*")) == []
        finally:
            await r.delete(k)
        assert await collect(r.izscan(k)) == []
        with pytest.raises(TypeError):
            r.izscan(None)
        assert await r.echo("after") == b"after"
    async with client(redis_server, encoding="utf-8") as r:
        await r.zadd(k, 1, "x", 2.5, "y")
        try:
            assert sorted(await collect(r.izscan(k))) == [("x", 1), ("y", 2.5)]
        finally:
            await r.delete(k)


async def test_concurrent_iterators_on_a_pool(redis_server):
    p = prefix()
    async with client(redis_server, pool=True) as r:
        await r.sadd(p + "s", *range(1000))
        await r.hmset(p + "h", *(x for i in range(1000) for x in (i, i)))
        await r.zadd(p + "z", *(x for i in range(1000) for x in (i, i)))
        try:
            s, h, z = await asyncio.gather(
                collect(r.isscan(p + "s", count=10)),
                collect(r.ihscan(p + "h", count=10)),
                collect(r.izscan(p + "z", count=10)),
            )
            assert sorted(int(x) for x in s) == list(range(1000))
            assert sorted((int(f), int(v)) for f, v in h) == [(i, i) for i in range(1000)]
            assert sorted((int(m), sc) for m, sc in z) == [(i, i) for i in range(1000)]
        finally:
            await r.delete(p + "s", p + "h", p + "z")
