"""HyperLogLogCommandsMixin against a real redis-server (see conftest.py)."""

import asyncio

import pytest
from helpers import client, key_maker

from aioredis import ReplyError


key = key_maker("aioredis-test:hll")


async def test_methods_return_futures_not_coroutines(redis_server):
    k = key()
    async with client(redis_server) as r:
        futs = [r.pfadd(k, "a"), r.pfcount(k), r.pfmerge(k, k)]
        assert all(asyncio.isfuture(f) for f in futs)
        assert await asyncio.gather(*futs) == [1, 1, True]
        await r.delete(k)


async def test_pfadd(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.pfadd(k, "a") == 1
        assert await r.pfadd(k, "a") == 0
        assert await r.pfadd(k, "b", "c", b"d", 5) == 1
        assert await r.pfadd(k, "a", "b") == 0
        assert await r.pfcount(k) == 5
        with pytest.raises(TypeError):
            r.pfadd(k)
        with pytest.raises(TypeError):
            r.pfadd(k, "x", None)
        await r.set(k + "s", "not a hll")
        with pytest.raises(ReplyError):
            await r.pfadd(k + "s", "a")
        assert await r.pfcount(k) == 5
        await r.delete(k, k + "s")


async def test_pfcount(redis_server):
    k1, k2 = key("1"), key("2")
    async with client(redis_server) as r:
        assert await r.pfcount(k1) == 0
        await r.pfadd(k1, "a", "b", "c")
        await r.pfadd(k2, "c", "d")
        assert await r.pfcount(k1) == 3
        assert await r.pfcount(k2) == 2
        assert await r.pfcount(k1, k2) == 4  # union
        assert await r.pfcount(k1, k2, key("missing")) == 4
        with pytest.raises(TypeError):
            r.pfcount()
        with pytest.raises(TypeError):
            r.pfcount(None)
        await r.delete(k1, k2)


async def test_pfmerge(redis_server):
    k1, k2, k3, dst = key("1"), key("2"), key("3"), key("dst")
    async with client(redis_server) as r:
        await r.pfadd(k1, "a", "b")
        await r.pfadd(k2, "b", "c")
        await r.pfadd(k3, "x")
        assert await r.pfmerge(dst, k1) is True
        assert await r.pfcount(dst) == 2
        assert await r.pfmerge(dst, k1, k2) is True
        assert await r.pfcount(dst) == 3
        assert await r.pfmerge(dst, k2, k3) is True  # merges into the existing value
        assert await r.pfcount(dst) == 4
        with pytest.raises(TypeError):
            r.pfmerge(dst)
        await r.set(k3, "not a hll")
        with pytest.raises(ReplyError):
            await r.pfmerge(dst, k3)
    async with client(redis_server, encoding="utf-8") as r:
        assert await r.pfmerge(dst, k1, k2) is True  # OK under an encoding too
        assert await r.pfcount(dst) == 4
        await r.delete(k1, k2, k3, dst)
