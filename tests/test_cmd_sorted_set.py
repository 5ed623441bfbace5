"""Sorted set commands (SortedSetCommandsMixin) against a real redis-server."""

import asyncio
import time

import pytest
from helpers import assert_still_in_sync, client, key_maker, sent

from aioredis import ReplyError

INF = float("inf")

MEMBERS = [b"one", b"uno", b"two", b"three", b"seven"]
SCORES = [1, 1, 2.5, 3, 7]
PAIRS = [x for pair in zip(SCORES, MEMBERS) for x in pair]  # score, member, ...
WITH_SCORES = list(zip(MEMBERS, SCORES))  # (member, score), ...


key = key_maker("aioredis-test:zset", "z")


async def filled(redis, name="z"):
    k = key(name)
    assert await redis.zadd(k, *PAIRS) == 5
    return k


# ---------------------------------------------------------------------------
# zadd / zcard / zscore / zincrby
# ---------------------------------------------------------------------------


async def test_zadd(redis_server):
    async with client(redis_server) as redis:
        k = key()
        assert await redis.zadd(k, 1, b"one") == 1
        assert await redis.zadd(k, 1, b"one") == 0
        assert await redis.zadd(k, 1, b"uno") == 1
        assert await redis.zadd(k, 2.5, b"two") == 1
        assert await redis.zadd(k, 3, b"three", 4, b"four") == 2
        assert await redis.zrange(k, 0, -1) == [b"one", b"uno", b"two", b"three", b"four"]
        assert await redis.zscore(k, b"two") == 2.5


async def test_zadd_type_errors(redis_server):
    bad_args = [
        (b"two", b"one"),  # score not a number
        (None, b"one"),
        (3, b"three", 4),  # odd pairs
        (3, b"three", "four", b"four"),  # score in pairs not a number
        (3, b"three", 4, b"four", b"5", b"five"),
    ]
    async with client(redis_server) as redis:
        k = key()
        for args in bad_args:
            with pytest.raises(TypeError):
                redis.zadd(k, *args)
        with pytest.raises(TypeError):
            redis.zadd(None, 1, b"one")
        await assert_still_in_sync(redis)
        assert await redis.zcard(k) == 0


async def test_zadd_exist(redis_server):
    async with client(redis_server) as redis:
        k = key()
        assert await redis.zadd(k, 0, b"one") == 1
        # XX: only update existing members
        assert await redis.zadd(k, 1, b"one", 2, b"two", exist=redis.ZSET_IF_EXIST) == 0
        assert await redis.zscore(k, b"one") == 1
        assert await redis.zscore(k, b"two") is None
        # NX: only add new members
        assert await redis.zadd(k, 5, b"one", 2, b"two", exist=redis.ZSET_IF_NOT_EXIST) == 1
        assert await redis.zscore(k, b"one") == 1
        assert await redis.zscore(k, b"two") == 2
        # compared by identity: an equal but distinct str is not the constant
        not_the_constant = "".join(["ZSET_IF_", "NOT_EXIST"])
        assert not_the_constant == redis.ZSET_IF_NOT_EXIST
        assert sent(lambda r: r.zadd("k", 1, "m", exist=not_the_constant)) == (b"ZADD", "k", 1, "m")


async def test_zadd_changed(redis_server):
    async with client(redis_server) as redis:
        k = key()
        assert await redis.zadd(k, 1, b"a", 2, b"b") == 2
        # without CH only added members are counted, with CH updated ones too
        assert await redis.zadd(k, 10, b"a", 3, b"c") == 1
        assert await redis.zadd(k, 20, b"a", 2, b"b", 4, b"d", changed=True) == 2
        assert await redis.zrange(k, withscores=True) == [(b"b", 2), (b"c", 3), (b"d", 4), (b"a", 20)]
        assert await redis.zadd(
            k, 30, b"a", 5, b"e", exist=redis.ZSET_IF_EXIST, changed=True
        ) == 1
        assert await redis.zscore(k, b"a") == 30
        assert await redis.zscore(k, b"e") is None


async def test_zadd_incr(redis_server):
    async with client(redis_server) as redis:
        k = key()
        assert await redis.zadd(k, 1, b"a", incr=True) == 1
        assert await redis.zadd(k, 2.5, b"a", incr=True) == 3.5
        assert await redis.zadd(k, -0.5, b"a", incr=True) == 3
        # INCR + NX on an existing member: nil reply
        assert await redis.zadd(k, 1, b"a", incr=True, exist=redis.ZSET_IF_NOT_EXIST) is None
        assert await redis.zscore(k, b"a") == 3
        with pytest.raises(ValueError):
            redis.zadd(k, 1, b"a", 2, b"b", incr=True)
        await assert_still_in_sync(redis)
        assert await redis.zrange(k, withscores=True) == [(b"a", 3)]


def test_zadd_wire():
    assert sent(lambda r: r.zadd("k", 1, "a", 2.5, "b")) == (b"ZADD", "k", 1, "a", 2.5, "b")
    assert sent(
        lambda r: r.zadd("k", 1, "a", exist=r.ZSET_IF_EXIST, changed=True, incr=True)
    ) == (b"ZADD", "k", b"XX", b"CH", b"INCR", 1, "a")
    assert sent(lambda r: r.zadd("k", 1, "a", exist=r.ZSET_IF_NOT_EXIST)) == (b"ZADD", "k", b"NX", 1, "a")


async def test_zcard(redis_server):
    async with client(redis_server) as redis:
        k = await filled(redis)
        assert await redis.zcard(k) == 5
        assert await redis.zadd(k, 1, b"ein") == 1
        assert await redis.zcard(k) == 6
        assert await redis.zcard(key("missing")) == 0
        with pytest.raises(TypeError):
            redis.zcard(None)
        await assert_still_in_sync(redis)


async def test_zscore(redis_server):
    async with client(redis_server) as redis:
        k = await filled(redis)
        res = await redis.zscore(k, b"one")
        assert res == 1 and type(res) is int
        res = await redis.zscore(k, b"two")
        assert res == 2.5 and type(res) is float
        assert await redis.zscore(k, b"missing") is None
        assert await redis.zscore(key("missing"), b"one") is None
        await redis.zadd(k, INF, b"inf", -INF, b"-inf")
        assert await redis.zscore(k, b"inf") == INF
        assert await redis.zscore(k, b"-inf") == -INF
    async with client(redis_server, encoding="utf-8") as redis:
        assert await redis.zscore(k, "two") == 2.5
        assert await redis.zscore(k, "seven") == 7


async def test_zincrby(redis_server):
    async with client(redis_server) as redis:
        k = await filled(redis)
        res = await redis.zincrby(k, 1, b"one")
        assert res == 2 and type(res) is int
        assert await redis.zincrby(k, -5, b"uno") == -4
        assert abs(await redis.zincrby(k, 3.14, b"two") - 5.64) < 1e-9
        assert abs(await redis.zincrby(k, -3.14, b"three") - -0.14) < 1e-9
        assert await redis.zincrby(k, 2, b"new") == 2
        with pytest.raises(TypeError):
            redis.zincrby(k, "one", 5)
        with pytest.raises(TypeError):
            redis.zincrby(k, b"1", b"one")
        with pytest.raises(TypeError):
            redis.zincrby(None, 5, "one")
        await assert_still_in_sync(redis)
        assert await redis.zscore(k, b"one") == 2


# ---------------------------------------------------------------------------
# counts
# ---------------------------------------------------------------------------


async def test_zcount(redis_server):
    async with client(redis_server) as redis:
        k = await filled(redis)
        assert await redis.zcount(k) == 5
        assert await redis.zcount(k, 1, 3) == 4
        assert await redis.zcount(k, 3, 10) == 2
        assert await redis.zcount(k, 100, 200) == 0
        assert await redis.zcount(k, 1, 3, exclude=redis.ZSET_EXCLUDE_BOTH) == 1
        assert await redis.zcount(k, 1, 3, exclude=redis.ZSET_EXCLUDE_MIN) == 2
        assert await redis.zcount(k, 1, 3, exclude=redis.ZSET_EXCLUDE_MAX) == 3
        assert await redis.zcount(k, 1, exclude=redis.ZSET_EXCLUDE_MAX) == 5
        assert await redis.zcount(k, -INF, 3, exclude=redis.ZSET_EXCLUDE_MIN) == 4
        assert await redis.zcount(k, 2.5, 2.5) == 1
        for bad in [(None,), (k, "one", 2), (k, 1.1, b"two")]:
            with pytest.raises(TypeError):
                redis.zcount(*bad)
        with pytest.raises(ValueError):
            redis.zcount(k, 10, 1)
        await assert_still_in_sync(redis)


def test_zcount_wire():
    assert sent(lambda r: r.zcount("k")) == (b"ZCOUNT", "k", -INF, INF)
    assert sent(lambda r: r.zcount("k", 1, 2.5, exclude=r.ZSET_EXCLUDE_BOTH)) == (
        b"ZCOUNT", "k", "(1", "(2.5")
    assert sent(lambda r: r.zcount("k", 1, 2, exclude=r.ZSET_EXCLUDE_MIN)) == (b"ZCOUNT", "k", "(1", 2)
    assert sent(lambda r: r.zcount("k", 1, 2, exclude=r.ZSET_EXCLUDE_MAX)) == (b"ZCOUNT", "k", 1, "(2")


async def test_zlexcount(redis_server):
    async with client(redis_server) as redis:
        k = key()
        assert await redis.zadd(k, 0, b"a", 0, b"b", 0, b"c", 0, b"d", 0, b"e") == 5
        assert await redis.zlexcount(k) == 5
        assert await redis.zlexcount(k, min=b"-", max=b"e") == 5
        assert await redis.zlexcount(k, min=b"b", max=b"d") == 3
        assert await redis.zlexcount(k, min=b"a", max=b"e", include_min=False, include_max=False) == 3
        assert await redis.zlexcount(k, min=b"a", max=b"e", include_min=False) == 4
        assert await redis.zlexcount(k, min=b"a", max=b"e", include_max=False) == 4
        for bad in [(None, b"a", b"e"), (k, 10, b"e"), (k, b"a", 20), (k, "a", b"e"), (k, b"a", "e")]:
            with pytest.raises(TypeError):
                redis.zlexcount(*bad)
        await assert_still_in_sync(redis)


# ---------------------------------------------------------------------------
# ranges
# ---------------------------------------------------------------------------


async def test_zrange(redis_server):
    async with client(redis_server) as redis:
        k = await filled(redis)
        assert await redis.zrange(k) == MEMBERS
        assert await redis.zrange(k, 0, -1, withscores=False) == MEMBERS
        res = await redis.zrange(k, 0, -1, withscores=True)
        assert res == WITH_SCORES
        assert [type(s) for _, s in res] == [int, int, float, int, int]
        assert await redis.zrange(k, -2, -1) == MEMBERS[-2:]
        assert await redis.zrange(k, 1, 2) == MEMBERS[1:3]
        assert await redis.zrange(k, 1, 2, withscores=True) == WITH_SCORES[1:3]
        assert await redis.zrange(key("missing")) == []
        assert await redis.zrange(key("missing"), withscores=True) == []
        assert await redis.zrange(k, 0, 1, encoding="utf-8") == ["one", "uno"]
        assert await redis.zrange(k, 0, 1, True, "utf-8") == [("one", 1), ("uno", 1)]
        for bad in [(None, 1, 2), (k, b"first", -1), (k, 0, "last"), (k, 0.0, 1)]:
            with pytest.raises(TypeError):
                redis.zrange(*bad)
        await assert_still_in_sync(redis)
    async with client(redis_server, encoding="utf-8") as redis:
        assert await redis.zrange(k, 0, 0) == ["one"]
        assert await redis.zrange(k, 2, 2, withscores=True) == [("two", 2.5)]
        assert await redis.zrange(k, 0, 0, encoding=None) == [b"one"]
        assert await redis.zrange(k, 2, 2, withscores=True, encoding=None) == [(b"two", 2.5)]


async def test_zrevrange(redis_server):
    async with client(redis_server) as redis:
        k = await filled(redis)
        assert await redis.zrevrange(k, 0, -1) == MEMBERS[::-1]
        assert await redis.zrevrange(k, 0, -1, withscores=True) == WITH_SCORES[::-1]
        assert await redis.zrevrange(k, 0, 1) == [b"seven", b"three"]
        assert await redis.zrevrange(k, -2, -1) == [b"uno", b"one"]
        assert await redis.zrevrange(k, 0, 1, encoding="utf-8") == ["seven", "three"]
        assert await redis.zrevrange(k, 0, 0, withscores=True, encoding="utf-8") == [("seven", 7)]
        for bad in [(None, 1, 2), (k, b"first", -1), (k, 0, "last")]:
            with pytest.raises(TypeError):
                redis.zrevrange(*bad)
        with pytest.raises(TypeError):
            redis.zrevrange(k)  # start and stop are required
        await assert_still_in_sync(redis)


async def test_zrangebyscore(redis_server):
    async with client(redis_server) as redis:
        k = await filled(redis)
        assert await redis.zrangebyscore(k) == MEMBERS
        assert await redis.zrangebyscore(k, 1, 7) == MEMBERS
        assert await redis.zrangebyscore(k, 1, 7, exclude=redis.ZSET_EXCLUDE_BOTH) == MEMBERS[2:-1]
        assert await redis.zrangebyscore(k, 1, 7, exclude=redis.ZSET_EXCLUDE_MIN) == MEMBERS[2:]
        assert await redis.zrangebyscore(k, 1, 7, exclude=redis.ZSET_EXCLUDE_MAX) == MEMBERS[:-1]
        assert await redis.zrangebyscore(k, 1, 7, withscores=True) == WITH_SCORES
        assert await redis.zrangebyscore(k, 2, 3) == [b"two", b"three"]
        assert await redis.zrangebyscore(k, 1, 10, offset=2, count=2) == MEMBERS[2:4]
        assert await redis.zrangebyscore(k, 1, 10, True, 2, 2) == WITH_SCORES[2:4]
        assert await redis.zrangebyscore(k, 2.5, INF, encoding="utf-8") == ["two", "three", "seven"]
        assert await redis.zrangebyscore(
            k, 2.5, INF, withscores=True, offset=1, count=5, exclude=redis.ZSET_EXCLUDE_MIN,
            encoding="utf-8",
        ) == [("seven", 7)]
        bad_calls = [
            ((None, 1, 7), {}),
            ((k, 10, b"e"), {}),
            ((k, b"a", 20), {}),
            ((k, 1, 7), {"offset": 1}),
            ((k, 1, 7), {"count": 1}),
            ((k, 1, 7), {"offset": "one", "count": 1}),
            ((k, 1, 7), {"offset": 1, "count": "one"}),
        ]
        for args, kwargs in bad_calls:
            with pytest.raises(TypeError):
                redis.zrangebyscore(*args, **kwargs)
        await assert_still_in_sync(redis)


async def test_zrevrangebyscore(redis_server):
    async with client(redis_server) as redis:
        k = await filled(redis)
        rev = MEMBERS[::-1]
        assert await redis.zrevrangebyscore(k) == rev
        # max comes first, and is sent first
        assert await redis.zrevrangebyscore(k, 7, 1) == rev
        assert await redis.zrevrangebyscore(k, 1, 7) == []
        assert await redis.zrevrangebyscore(k, 3, 2) == [b"three", b"two"]
        assert await redis.zrevrangebyscore(k, max=3, min=2) == [b"three", b"two"]
        assert await redis.zrevrangebyscore(k, 7, 1, exclude=redis.ZSET_EXCLUDE_BOTH) == rev[1:-2]
        assert await redis.zrevrangebyscore(k, 7, 1, exclude=redis.ZSET_EXCLUDE_MAX) == rev[1:]
        assert await redis.zrevrangebyscore(k, 7, 1, exclude=redis.ZSET_EXCLUDE_MIN) == rev[:-2]
        assert await redis.zrevrangebyscore(k, 7, 1, withscores=True) == WITH_SCORES[::-1]
        assert await redis.zrevrangebyscore(k, 10, 1, offset=2, count=2) == rev[2:4]
        assert await redis.zrevrangebyscore(
            k, withscores=True, offset=0, count=1, encoding="utf-8"
        ) == [("seven", 7)]
        assert await redis.zrevrangebyscore(k, 3, 2, encoding="utf-8") == ["three", "two"]
        bad_calls = [
            ((None, 1, 7), {}),
            ((k, 10, b"e"), {}),
            ((k, b"a", 20), {}),
            ((k, 7, 1), {"offset": 1}),
            ((k, 7, 1), {"count": 1}),
            ((k, 7, 1), {"offset": "one", "count": 1}),
            ((k, 7, 1), {"offset": 1, "count": "one"}),
        ]
        for args, kwargs in bad_calls:
            with pytest.raises(TypeError):
                redis.zrevrangebyscore(*args, **kwargs)
        await assert_still_in_sync(redis)


def test_zrevrangebyscore_wire():
    assert sent(lambda r: r.zrevrangebyscore("k", 7, 1)) == (b"ZREVRANGEBYSCORE", "k", 7, 1)
    assert sent(lambda r: r.zrevrangebyscore("k", 7, 1, exclude=r.ZSET_EXCLUDE_MAX)) == (
        b"ZREVRANGEBYSCORE", "k", "(7", 1)
    assert sent(lambda r: r.zrevrangebyscore("k", withscores=True, offset=1, count=2)) == (
        b"ZREVRANGEBYSCORE", "k", INF, -INF, b"WITHSCORES", b"LIMIT", 1, 2)


async def test_zrangebylex(redis_server):
    async with client(redis_server) as redis:
        k = key()
        members = [b"a", b"b", b"c", b"d", b"e"]
        assert await redis.zadd(k, *[x for m in members for x in (0, m)]) == 5
        assert await redis.zrangebylex(k) == members
        assert await redis.zrangebylex(k, min=b"-", max=b"d") == members[:-1]
        assert await redis.zrangebylex(k, min=b"b", max=b"+") == members[1:]
        assert await redis.zrangebylex(
            k, min=b"a", max=b"e", include_min=False, include_max=False
        ) == members[1:-1]
        assert await redis.zrangebylex(k, min=b"x", max=b"z") == []
        assert await redis.zrangebylex(k, min=b"e", max=b"a") == []
        assert await redis.zrangebylex(k, offset=1, count=2) == members[1:3]
        assert await redis.zrangebylex(k, b"b", b"d", encoding="utf-8") == ["b", "c", "d"]
        bad_calls = [
            ((None, b"a", b"e"), {}),
            ((k, 10, b"e"), {}),
            ((k, b"a", 20), {}),
            ((k, "a", b"e"), {}),
            ((k, b"a", b"e"), {"offset": 1}),
            ((k, b"a", b"e"), {"count": 1}),
            ((k, b"a", b"e"), {"offset": "one", "count": 1}),
            ((k, b"a", b"e"), {"offset": 1, "count": "one"}),
        ]
        for args, kwargs in bad_calls:
            with pytest.raises(TypeError):
                redis.zrangebylex(*args, **kwargs)
        await assert_still_in_sync(redis)


async def test_zrevrangebylex(redis_server):
    async with client(redis_server) as redis:
        k = key()
        members = [b"a", b"b", b"c", b"d", b"e"]
        rev = members[::-1]
        assert await redis.zadd(k, *[x for m in members for x in (0, m)]) == 5
        assert await redis.zrevrangebylex(k) == rev
        assert await redis.zrevrangebylex(k, min=b"-", max=b"d") == rev[1:]
        assert await redis.zrevrangebylex(k, min=b"b", max=b"d") == [b"d", b"c", b"b"]
        assert await redis.zrevrangebylex(
            k, min=b"a", max=b"e", include_min=False, include_max=False
        ) == rev[1:-1]
        assert await redis.zrevrangebylex(k, min=b"x", max=b"z") == []
        assert await redis.zrevrangebylex(k, offset=1, count=2) == rev[1:3]
        assert await redis.zrevrangebylex(k, b"b", b"c", encoding="utf-8") == ["c", "b"]
        bad_calls = [
            ((None, b"a", b"e"), {}),
            ((k, 10, b"e"), {}),
            ((k, b"a", 20), {}),
            ((k, b"a", b"e"), {"offset": 1}),
            ((k, b"a", b"e"), {"count": 1}),
            ((k, b"a", b"e"), {"offset": "one", "count": 1}),
        ]
        for args, kwargs in bad_calls:
            with pytest.raises(TypeError):
                redis.zrevrangebylex(*args, **kwargs)
        await assert_still_in_sync(redis)
    assert sent(lambda r: r.zrevrangebylex("k", b"a", b"c", include_max=False)) == (
        b"ZREVRANGEBYLEX", "k", b"(c", b"[a")


# ---------------------------------------------------------------------------
# ranks and removals
# ---------------------------------------------------------------------------


async def test_zrank_zrevrank(redis_server):
    async with client(redis_server) as redis:
        k = await filled(redis)
        for i, m in enumerate(MEMBERS):
            assert await redis.zrank(k, m) == i
            assert await redis.zrevrank(k, m) == len(MEMBERS) - 1 - i
        assert await redis.zrank(k, b"not:exists") is None
        assert await redis.zrevrank(k, b"not:exists") is None
        assert await redis.zrank(key("missing"), b"one") is None
        with pytest.raises(TypeError):
            redis.zrank(None, b"one")
        with pytest.raises(TypeError):
            redis.zrevrank(k, None)
        await assert_still_in_sync(redis)


async def test_zrem(redis_server):
    async with client(redis_server) as redis:
        k = await filled(redis)
        assert await redis.zrem(k, b"uno", b"one") == 2
        assert await redis.zrange(k) == MEMBERS[2:]
        assert await redis.zrem(k, b"not:exists") == 0
        assert await redis.zrem(key("missing"), b"not:exists") == 0
        with pytest.raises(TypeError):
            redis.zrem(None, b"one")
        await assert_still_in_sync(redis)


async def test_zremrangebylex(redis_server):
    async with client(redis_server) as redis:
        k = key()
        members = [b"aaaa", b"b", b"c", b"d", b"e", b"foo", b"zap", b"zip", b"ALPHA", b"alpha"]
        assert await redis.zadd(k, *[x for m in members for x in (0, m)]) == 10
        assert await redis.zremrangebylex(k, b"alpha", b"omega") == 6
        assert await redis.zrange(k) == [b"ALPHA", b"aaaa", b"zap", b"zip"]
        assert await redis.zremrangebylex(k, b"zap", b"zip", include_min=False, include_max=False) == 0
        assert await redis.zremrangebylex(k, b"zap", b"zip", include_min=False) == 1
        assert await redis.zrange(k) == [b"ALPHA", b"aaaa", b"zap"]
        assert await redis.zremrangebylex(k) == 3
        assert await redis.zrange(k) == []
        for bad in [(None, b"a", b"e"), (k, 10, b"e"), (k, b"a", 20)]:
            with pytest.raises(TypeError):
                redis.zremrangebylex(*bad)
        await assert_still_in_sync(redis)


async def test_zremrangebyrank(redis_server):
    async with client(redis_server) as redis:
        k = key()
        members = [b"zero", b"one", b"two", b"three", b"four", b"five"]
        assert await redis.zadd(k, *[x for i, m in enumerate(members) for x in (i, m)]) == 6
        assert await redis.zremrangebyrank(k, 0, 1) == 2
        assert await redis.zrange(k) == members[2:]
        assert await redis.zremrangebyrank(k, -2, -1) == 2
        assert await redis.zrange(k) == members[2:-2]
        for bad in [(None, 1, 2), (k, b"first", -1), (k, 0, "last")]:
            with pytest.raises(TypeError):
                redis.zremrangebyrank(*bad)
        await assert_still_in_sync(redis)
        assert await redis.zrange(k) == members[2:-2]


async def test_zremrangebyscore(redis_server):
    async with client(redis_server) as redis:
        k = await filled(redis)
        assert await redis.zremrangebyscore(k, 3, 7.5, exclude=redis.ZSET_EXCLUDE_MIN) == 1
        assert await redis.zrange(k) == MEMBERS[:-1]
        assert await redis.zremrangebyscore(k, 1, 3, exclude=redis.ZSET_EXCLUDE_BOTH) == 1
        assert await redis.zrange(k) == [b"one", b"uno", b"three"]
        assert await redis.zremrangebyscore(k, 1, 3, exclude=redis.ZSET_EXCLUDE_MAX) == 2
        assert await redis.zrange(k) == [b"three"]
        assert await redis.zremrangebyscore(k) == 1
        assert await redis.zrange(k) == []
        for bad in [(None, 1, 2), (k, b"first", -1), (k, 0, "last")]:
            with pytest.raises(TypeError):
                redis.zremrangebyscore(*bad)
        await assert_still_in_sync(redis)


# ---------------------------------------------------------------------------
# store
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["zinterstore", "zunionstore"])
async def test_zstore(redis_server, method):
    async with client(redis_server) as redis:
        z1, z2, out = key("z1"), key("z2"), key("out")
        await redis.zadd(z1, 2, "one", 2, "two")
        await redis.zadd(z2, 3, "one", 3, "three")
        store = getattr(redis, method)
        inter = method == "zinterstore"

        def expect(one, two, three):
            if inter:
                return [(b"one", one)]
            return sorted([(b"one", one), (b"two", two), (b"three", three)], key=lambda p: (p[1], p[0]))

        assert await store(out, z1, z2) == (1 if inter else 3)
        assert await redis.zrange(out, withscores=True) == expect(5, 2, 3)
        assert await store(out, z1, z2, aggregate=redis.ZSET_AGGREGATE_SUM) == (1 if inter else 3)
        assert await redis.zrange(out, withscores=True) == expect(5, 2, 3)
        await store(out, z1, z2, aggregate=redis.ZSET_AGGREGATE_MIN)
        assert await redis.zrange(out, withscores=True) == expect(2, 2, 3)
        await store(out, z1, z2, aggregate=redis.ZSET_AGGREGATE_MAX)
        assert await redis.zrange(out, withscores=True) == expect(3, 2, 3)
        await store(out, (z1, 2), [z2, 0.5], with_weights=True)
        assert await redis.zrange(out, withscores=True) == expect(5.5, 4, 1.5)
        await store(out, (z1, 2), (z2, 2), with_weights=True, aggregate=redis.ZSET_AGGREGATE_MAX)
        assert await redis.zrange(out, withscores=True) == expect(6, 4, 6)
        with pytest.raises(AssertionError):
            store(out, z1, z2, with_weights=True)
        with pytest.raises(AssertionError):
            store(out, (z1, 1), z2, with_weights=True)
        await assert_still_in_sync(redis)
        assert await store(out, key("missing"), z1) == (0 if inter else 2)


def test_zstore_wire():
    assert sent(lambda r: r.zinterstore("d", "a", "b")) == (b"ZINTERSTORE", "d", 2, "a", "b")
    assert sent(
        lambda r: r.zunionstore("d", ("a", 1), ("b", 2.5), with_weights=True, aggregate=r.ZSET_AGGREGATE_MIN)
    ) == (b"ZUNIONSTORE", "d", 2, "a", "b", b"WEIGHTS", 1, 2.5, b"AGGREGATE", b"MIN")


# ---------------------------------------------------------------------------
# scan
# ---------------------------------------------------------------------------


async def test_zscan(redis_server):
    async with client(redis_server) as redis:
        k = key()
        expected = [(f"m:{i}".encode(), i) for i in range(200)] + [(b"half", 0.5), (b"other", 300)]
        await redis.zadd(k, *[x for m, s in expected for x in (s, m)])
        seen = []
        cursor = 0
        rounds = 0
        while True:
            cursor, items = await redis.zscan(k, cursor)
            assert isinstance(cursor, int)
            assert all(isinstance(item, tuple) and len(item) == 2 for item in items)
            seen.extend(items)
            rounds += 1
            if cursor == 0:
                break
        assert rounds > 1  # 202 members: a hashtable, scanned in several steps
        assert sorted(set(seen)) == sorted(expected)

        seen = []
        cursor = 0
        while True:
            cursor, items = await redis.zscan(k, cursor, match="m:1?", count=50)
            seen.extend(items)
            if cursor == 0:
                break
        assert sorted(set(seen)) == sorted((f"m:{i}".encode(), i) for i in range(10, 20))

        small = key("small")
        await redis.zadd(small, 1, "a", 2.5, "b")
        assert await redis.zscan(small) == (0, [(b"a", 1), (b"b", 2.5)])
        assert await redis.zscan(key("missing")) == (0, [])
        with pytest.raises(TypeError):
            redis.zscan(None)
        await assert_still_in_sync(redis)
    async with client(redis_server, encoding="utf-8") as redis:
        assert await redis.zscan(small) == (0, [("a", 1), ("b", 2.5)])


def test_zscan_wire():
    assert sent(lambda r: r.zscan("k")) == (b"ZSCAN", "k", 0)
    assert sent(lambda r: r.zscan("k", 5, match="x*", count=10)) == (
        b"ZSCAN", "k", 5, b"MATCH", "x*", b"COUNT", 10)


# ---------------------------------------------------------------------------
# pops
# ---------------------------------------------------------------------------


async def test_zpopmin_zpopmax(redis_server):
    async with client(redis_server) as redis:
        k = await filled(redis)
        assert await redis.zpopmin(k) == [b"one", b"1"]
        assert await redis.zpopmax(k) == [b"seven", b"7"]
        assert await redis.zpopmin(k, 2) == [b"uno", b"1", b"two", b"2.5"]
        assert await redis.zpopmax(k, 5, encoding="utf-8") == ["three", "3"]
        assert await redis.zpopmin(k) == []
        assert await redis.zpopmax(key("missing"), 3) == []
        await redis.zadd(k, 1, "a", 2, "b")
        for method in (redis.zpopmin, redis.zpopmax):
            with pytest.raises(TypeError):
                method(k, "1")
            with pytest.raises(TypeError):
                method(k, 1.0)
            with pytest.raises(TypeError):
                method(None)
        await assert_still_in_sync(redis)
        assert await redis.zcard(k) == 2


async def test_bzpopmin_bzpopmax(redis_server):
    async with client(redis_server) as redis, client(redis_server) as other:
        k1, k2 = key("k1"), key("k2")
        await redis.zadd(k2, 1, "a", 2, "b", 3, "c")
        assert await redis.bzpopmin(k1, k2, timeout=1) == [k2.encode(), b"a", b"1"]
        assert await redis.bzpopmax(k1, k2, timeout=1) == [k2.encode(), b"c", b"3"]
        assert await redis.bzpopmin(k2, encoding="utf-8") == [k2, "b", "2"]
        # blocks until another connection adds a member
        t0 = time.monotonic()
        waiter = redis.bzpopmax(k1, k2, timeout=5)
        await asyncio.sleep(0.05)
        assert not waiter.done()
        await other.zadd(k1, 9, "late")
        assert await waiter == [k1.encode(), b"late", b"9"]
        assert time.monotonic() - t0 < 4
        # timeout: None
        t0 = time.monotonic()
        assert await redis.bzpopmin(k1, timeout=1) is None
        assert time.monotonic() - t0 >= 0.9
        for method in (redis.bzpopmin, redis.bzpopmax):
            with pytest.raises(TypeError):
                method(k1, timeout=0.5)
            with pytest.raises(TypeError):
                method(k1, timeout="1")
            with pytest.raises(ValueError):
                method(k1, timeout=-1)
            with pytest.raises(TypeError):
                method(None, timeout=1)
        await assert_still_in_sync(redis)


def test_bzpop_wire():
    assert sent(lambda r: r.bzpopmin("a", "b")) == (b"BZPOPMIN", "a", "b", 0)
    assert sent(lambda r: r.bzpopmax("a", timeout=3)) == (b"BZPOPMAX", "a", 3)


# ---------------------------------------------------------------------------
# replies inside MULTI, server errors
# ---------------------------------------------------------------------------


async def test_converters_pass_queued_through(redis_server):
    async with client(redis_server) as redis:
        k = await filled(redis)
        conn = redis.connection
        assert await conn.execute(b"MULTI") == b"OK"
        queued = [
            redis.zrange(k, 0, 0, withscores=True),
            redis.zscore(k, b"two"),
            redis.zincrby(k, 1, b"one"),
            redis.zscan(k),
            redis.zadd(k, 1, b"x", incr=True),
        ]
        assert await asyncio.gather(*queued) == [b"QUEUED"] * len(queued)
        exec_reply = await conn.execute(b"EXEC")
        assert exec_reply[0] == [b"one", b"1"]
        assert exec_reply[1] == b"2.5"


async def test_wrong_type_reply_error(redis_server):
    async with client(redis_server) as redis:
        k = key()
        await redis.execute(b"SET", k, b"string")
        with pytest.raises(ReplyError, match="WRONGTYPE"):
            await redis.zrange(k, withscores=True)
        with pytest.raises(ReplyError, match="WRONGTYPE"):
            await redis.zscan(k)
        await assert_still_in_sync(redis)
