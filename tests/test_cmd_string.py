"""StringCommandsMixin against a real redis-server (see conftest.py)."""

import asyncio

import pytest
from helpers import client, key_maker, nothing_sent

import aioredis
from aioredis import ReplyError

key = key_maker("aioredis-test:string")


# ---------------------------------------------------------------------------
# plain functions returning the connection's future
# ---------------------------------------------------------------------------


async def test_methods_return_futures_not_coroutines(redis_server):
    k = key()
    async with client(redis_server) as r:
        futs = [r.set(k, "1.5"), r.incrbyfloat(k, 1.0), r.get(k), r.setnx(k, "x"), r.mset({k: 1})]
        assert all(asyncio.isfuture(f) for f in futs)
        assert await asyncio.gather(*futs) == [True, 2.5, b"2.5", False, True]
        await r.delete(k)


# ---------------------------------------------------------------------------
# append / strlen / getrange / setrange
# ---------------------------------------------------------------------------


async def test_append(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.append(k, "Hello") == 5
        assert await r.append(k, b" World") == 11
        assert await r.append(k, 42) == 13
        assert await r.get(k) == b"Hello World42"
        with pytest.raises(TypeError):
            r.append(k, None)
        with pytest.raises(TypeError):
            r.append(None, "x")
        await r.delete(k)


async def test_strlen(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.strlen(k) == 0
        await r.set(k, "héllo")
        assert await r.strlen(k) == 6  # bytes, not characters
        await r.execute(b"RPUSH", k + "l", "a")
        with pytest.raises(ReplyError, match="WRONGTYPE"):
            await r.strlen(k + "l")
        await r.delete(k, k + "l")


async def test_getrange(redis_server):
    k = key()
    async with client(redis_server) as r:
        await r.set(k, "This is a string")
        assert await r.getrange(k, 0, 3) == b"This"
        assert await r.getrange(k, -3, -1) == b"ing"
        assert await r.getrange(k, 0, -1) == b"This is a string"
        assert await r.getrange(k, 10, 100) == b"string"
        assert await r.getrange(k, 0, 3, encoding="utf-8") == "This"
        assert await r.getrange(key("missing"), 0, 3) == b""
        async with nothing_sent(r, redis_server, "getrange"):
            for start, end in (("0", 3), (0, "3"), (0.0, 3), (0, 3.0), (None, 3), (0, None)):
                with pytest.raises(TypeError):
                    r.getrange(k, start, end)
    async with client(redis_server, encoding="utf-8") as r:
        assert await r.getrange(k, 5, 6) == "is"
        assert await r.getrange(k, 5, 6, encoding=None) == b"is"
        await r.delete(k)


async def test_setrange(redis_server):
    k = key()
    async with client(redis_server) as r:
        await r.set(k, "Hello World")
        assert await r.setrange(k, 6, "Redis") == 11
        assert await r.get(k) == b"Hello Redis"
        assert await r.setrange(k, 13, "!") == 14
        assert await r.get(k) == b"Hello Redis\x00\x00!"
        async with nothing_sent(r, redis_server, "setrange"):
            for bad in ("1", 1.0, None):
                with pytest.raises(TypeError):
                    r.setrange(k, bad, "x")
            with pytest.raises(ValueError):
                r.setrange(k, -1, "x")
            with pytest.raises(TypeError):
                r.setrange(k, 0, None)
        assert await r.get(k) == b"Hello Redis\x00\x00!"
        await r.delete(k)


# ---------------------------------------------------------------------------
# bits
# ---------------------------------------------------------------------------


async def test_bitcount(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.bitcount(k) == 0
        await r.set(k, "foobar")
        assert await r.bitcount(k) == 26
        assert await r.bitcount(k, 0, 0) == 4
        assert await r.bitcount(k, 1, 1) == 6
        assert await r.bitcount(k, -2, -1) == 7
        async with nothing_sent(r, redis_server, "bitcount"):
            with pytest.raises(TypeError):
                r.bitcount(k, 1)
            with pytest.raises(TypeError):
                r.bitcount(k, None, 1)
            with pytest.raises(TypeError):
                r.bitcount(k, end=1)
        await r.delete(k)


async def test_bitfield_not_implemented(redis_server):
    async with client(redis_server) as r:
        with pytest.raises(NotImplementedError):
            r.bitfield()


async def test_bitop(redis_server):
    k1, k2, k3, dst = key("1"), key("2"), key("3"), key("dst")
    async with client(redis_server) as r:
        await r.set(k1, b"\xf0\x0f")
        await r.set(k2, b"\x3c\x3c")
        await r.set(k3, b"\x01")
        assert await r.bitop_and(dst, k1, k2) == 2
        assert await r.get(dst) == b"\x30\x0c"
        assert await r.bitop_and(dst, k1, k2, k3) == 2
        assert await r.get(dst) == b"\x00\x00"
        assert await r.bitop_or(dst, k1, k2) == 2
        assert await r.get(dst) == b"\xfc\x3f"
        assert await r.bitop_or(dst, k1, k2, k3) == 2
        assert await r.get(dst) == b"\xfd\x3f"
        assert await r.bitop_xor(dst, k1, k2) == 2
        assert await r.get(dst) == b"\xcc\x33"
        assert await r.bitop_xor(dst, k1, k2, k3) == 2
        assert await r.get(dst) == b"\xcd\x33"
        assert await r.bitop_not(dst, k1) == 2
        assert await r.get(dst) == b"\x0f\xf0"
        assert await r.bitop_and(dst, key("missing")) == 0
        assert await r.exists(dst) == 0
        with pytest.raises(TypeError):
            r.bitop_not(dst)
        with pytest.raises(TypeError):
            r.bitop_and(dst, None)
        await r.delete(k1, k2, k3)


async def test_bitpos(redis_server):
    k = key()
    async with client(redis_server) as r:
        await r.set(k, b"\x00\xff\xf0")
        assert await r.bitpos(k, 1) == 8
        assert await r.bitpos(k, 0) == 0
        assert await r.bitpos(k, 1, 2) == 16
        assert await r.bitpos(k, 0, 1) == 20
        assert await r.bitpos(k, 1, 1, 2) == 8
        assert await r.bitpos(k, 0, 1, 1) == -1
        # only end: the range is 0..end
        assert await r.bitpos(k, 1, end=0) == -1
        assert await r.bitpos(k, 1, end=1) == 8
        assert await r.bitpos(k, 0, end=0) == 0
        assert await r.bitpos(key("missing"), 0) == 0
        assert await r.bitpos(key("missing"), 1) == -1
        async with nothing_sent(r, redis_server, "bitpos"):
            for bad in (2, -1, "1", None):
                with pytest.raises(ValueError):
                    r.bitpos(k, bad)
        await r.delete(k)


async def test_getbit(redis_server):
    k = key()
    async with client(redis_server) as r:
        await r.set(k, b"\x80")
        assert await r.getbit(k, 0) == 1
        assert await r.getbit(k, 1) == 0
        assert await r.getbit(k, 100) == 0
        assert await r.getbit(key("missing"), 0) == 0
        async with nothing_sent(r, redis_server, "getbit"):
            for bad in ("0", 0.0, None):
                with pytest.raises(TypeError):
                    r.getbit(k, bad)
            with pytest.raises(ValueError):
                r.getbit(k, -1)
        await r.delete(k)


async def test_setbit(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.setbit(k, 7, 1) == 0
        assert await r.get(k) == b"\x01"
        assert await r.setbit(k, 7, 1) == 1
        assert await r.setbit(k, 7, 0) == 1
        assert await r.setbit(k, 0, 1) == 0
        assert await r.get(k) == b"\x80"
        async with nothing_sent(r, redis_server, "setbit"):
            for bad in ("1", 1.0, None):
                with pytest.raises(TypeError):
                    r.setbit(k, bad, 1)
            with pytest.raises(ValueError):
                r.setbit(k, -1, 1)
            for bad in (2, -1, "1", None):
                with pytest.raises(ValueError):
                    r.setbit(k, 1, bad)
        assert await r.get(k) == b"\x80"
        await r.delete(k)


# ---------------------------------------------------------------------------
# counters
# ---------------------------------------------------------------------------


async def test_incr_decr(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.incr(k) == 1
        assert await r.incr(k) == 2
        assert await r.decr(k) == 1
        assert await r.decr(k) == 0
        assert await r.decr(k) == -1
        await r.set(k, "text")
        with pytest.raises(ReplyError):
            await r.incr(k)
        with pytest.raises(ReplyError):
            await r.decr(k)
        with pytest.raises(TypeError):
            r.incr(None)
        await r.delete(k)


async def test_incrby_decrby(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.incrby(k, 10) == 10
        assert await r.incrby(k, -3) == 7
        assert await r.decrby(k, 5) == 2
        assert await r.decrby(k, -8) == 10
        async with nothing_sent(r, redis_server, "incrby", "decrby"):
            for bad in (1.0, "1", None):
                with pytest.raises(TypeError):
                    r.incrby(k, bad)
                with pytest.raises(TypeError):
                    r.decrby(k, bad)
        assert await r.get(k) == b"10"
        await r.delete(k)


async def test_incrbyfloat(redis_server):
    k = key()
    async with client(redis_server) as r:
        res = await r.incrbyfloat(k, 1.5)
        assert res == 1.5 and type(res) is float
        assert await r.incrbyfloat(k, -0.25) == 1.25
        assert await r.incrbyfloat(k, 1.0) == 2.25
        await r.set(k, 10)
        res = await r.incrbyfloat(k, 0.5)
        assert res == 10.5 and type(res) is float
        await r.set(k, 10)
        res = await r.incrbyfloat(k, 1.0)
        assert res == 11.0 and type(res) is float  # the server answers "11"
        async with nothing_sent(r, redis_server, "incrbyfloat"):
            for bad in (1, "1.5", None):
                with pytest.raises(TypeError):
                    r.incrbyfloat(k, bad)
        await r.set(k, "text")
        with pytest.raises(ReplyError):
            await r.incrbyfloat(k, 1.0)
    async with client(redis_server, encoding="utf-8") as r:
        await r.set(k, "1")
        res = await r.incrbyfloat(k, 0.5)
        assert res == 1.5 and type(res) is float
        await r.delete(k)


# ---------------------------------------------------------------------------
# get / set and friends
# ---------------------------------------------------------------------------


async def test_get(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.get(k) is None
        assert await r.get(k, encoding="utf-8") is None
        await r.set(k, "värde")
        assert await r.get(k) == "värde".encode()
        assert await r.get(k, encoding="utf-8") == "värde"
        assert await r.get(k, encoding=None) == "värde".encode()
        with pytest.raises(TypeError):
            r.get(None)
        await r.execute(b"RPUSH", k + "l", "a")
        with pytest.raises(ReplyError, match="WRONGTYPE"):
            await r.get(k + "l")
    async with client(redis_server, encoding="utf-8") as r:
        assert await r.get(k) == "värde"
        assert await r.get(k, encoding=None) == "värde".encode()
        assert await r.get(k, encoding="latin-1") == "värde".encode().decode("latin-1")
        await r.delete(k, k + "l")


async def test_getset(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.getset(k, "one") is None
        assert await r.getset(k, "two") == b"one"
        assert await r.getset(k, "three", encoding="utf-8") == "two"
        assert await r.get(k) == b"three"
        with pytest.raises(TypeError):
            r.getset(k, None)
    async with client(redis_server, encoding="utf-8") as r:
        assert await r.getset(k, "four") == "three"
        assert await r.getset(k, "five", encoding=None) == b"four"
        await r.delete(k)


async def test_mget(redis_server):
    k1, k2, k3 = key("1"), key("2"), key("3")
    async with client(redis_server) as r:
        await r.set(k1, "one")
        await r.set(k3, "three")
        assert await r.mget(k1) == [b"one"]
        assert await r.mget(k1, k2, k3) == [b"one", None, b"three"]
        assert await r.mget(k1, k2, k3, encoding="utf-8") == ["one", None, "three"]
        with pytest.raises(TypeError):
            r.mget(k1, None)
        with pytest.raises(TypeError):
            r.mget()
    async with client(redis_server, encoding="utf-8") as r:
        assert await r.mget(k1, k2, k3) == ["one", None, "three"]
        assert await r.mget(k1, k2, k3, encoding=None) == [b"one", None, b"three"]
        await r.delete(k1, k3)


async def test_mset(redis_server):
    k1, k2, k3 = key("1"), key("2"), key("3")
    async with client(redis_server) as r:
        assert await r.mset(k1, "one") is True
        assert await r.mset(k1, "uno", k2, "dos") is True
        assert await r.mget(k1, k2) == [b"uno", b"dos"]
        # a single dict (1.3)
        assert await r.mset({k2: "two", k3: 3}) is True
        assert await r.mget(k1, k2, k3) == [b"uno", b"two", b"3"]
        async with nothing_sent(r, redis_server, "mset"):
            with pytest.raises(TypeError):
                r.mset(k1, "one", k2)
            with pytest.raises(TypeError):
                r.mset(k1)  # one argument that is not a dict
            with pytest.raises(TypeError):
                r.mset([(k1, "one")])
            with pytest.raises(TypeError):
                r.mset()
            with pytest.raises(TypeError):
                r.mset({k1: None})
            with pytest.raises(TypeError):
                r.mset({k1: "one"}, k2)  # a dict is only accepted alone
        assert await r.mget(k1, k2, k3) == [b"uno", b"two", b"3"]
    async with client(redis_server, encoding="utf-8") as r:
        assert await r.mset(k1, "eins") is True  # OK under an encoding too
        assert await r.mset({k1: "ein"}) is True
        assert await r.get(k1) == "ein"
        await r.delete(k1, k2, k3)


async def test_msetnx(redis_server):
    k1, k2, k3 = key("1"), key("2"), key("3")
    async with client(redis_server) as r:
        assert await r.msetnx(k1, "one", k2, "two") == 1
        assert await r.msetnx(k2, "deux", k3, "trois") == 0
        assert await r.mget(k1, k2, k3) == [b"one", b"two", None]
        assert await r.msetnx(k3, "three") == 1
        async with nothing_sent(r, redis_server, "msetnx"):
            with pytest.raises(TypeError):
                r.msetnx(k1, "one", k2)
            with pytest.raises(TypeError):
                r.msetnx(k1)
        await r.delete(k1, k2, k3)


async def test_set(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.set(k, "value") is True
        assert await r.get(k) == b"value"
        assert await r.ttl(k) == -1
        assert await r.set(k, b"\x00bytes") is True
        assert await r.get(k) == b"\x00bytes"
        assert await r.set(k, 1.5) is True
        assert await r.get(k) == b"1.5"
        assert await r.set(k, bytearray(b"ba")) is True
        assert await r.get(k) == b"ba"
        with pytest.raises(TypeError):
            r.set(k, None)
        with pytest.raises(TypeError):
            r.set(None, "v")
    async with client(redis_server, encoding="utf-8") as r:
        assert await r.set(k, "value") is True  # OK decoded to 'OK' is still True
        await r.delete(k)


async def test_set_expire(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.set(k, "v", expire=10) is True
        assert 9 <= await r.ttl(k) <= 10
        assert await r.set(k, "v", pexpire=3000) is True
        assert 2000 < await r.pttl(k) <= 3000
        # both: PX replaces EX (and the server would reject both together)
        assert await r.set(k, "v", expire=100, pexpire=4000) is True
        assert 3000 < await r.pttl(k) <= 4000
        # falsy values send nothing
        assert await r.set(k, "v", expire=0, pexpire=0) is True
        assert await r.ttl(k) == -1
        assert await r.set(k, "v", expire=None, pexpire=0.0) is True
        assert await r.ttl(k) == -1
        async with nothing_sent(r, redis_server, "set"):
            for bad in (1.5, "10"):
                with pytest.raises(TypeError):
                    r.set(k, "x", expire=bad)
                with pytest.raises(TypeError):
                    r.set(k, "x", pexpire=bad)
        assert await r.get(k) == b"v"
        with pytest.raises(ReplyError):
            await r.set(k, "v", expire=-1)
        await r.delete(k)


async def test_set_exist(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.set(k, "v", exist=r.SET_IF_EXIST) is False
        assert await r.exists(k) == 0
        assert await r.set(k, "one", exist=r.SET_IF_NOT_EXIST) is True
        assert await r.set(k, "two", exist=r.SET_IF_NOT_EXIST) is False
        assert await r.get(k) == b"one"
        assert await r.set(k, "three", exist=r.SET_IF_EXIST) is True
        assert await r.get(k) == b"three"
        assert await r.set(k, "four", expire=10, exist=aioredis.Redis.SET_IF_EXIST) is True
        assert 9 <= await r.ttl(k) <= 10
        # compared by identity: an equal but distinct string adds no flag
        lookalike = "".join(["SET_IF_", "NOT_EXIST"])
        assert lookalike == r.SET_IF_NOT_EXIST and lookalike is not r.SET_IF_NOT_EXIST
        assert await r.set(k, "five", exist=lookalike) is True
        assert await r.get(k) == b"five"
        lookalike = "".join(["SET_IF_", "EXIST"])
        assert lookalike == r.SET_IF_EXIST and lookalike is not r.SET_IF_EXIST
        k2 = key("xx")
        assert await r.set(k2, "new", exist=lookalike) is True  # no XX: created
        assert await r.get(k2) == b"new"
        await r.delete(k2)
    async with client(redis_server, encoding="utf-8") as r:
        assert await r.set(k, "six", exist=r.SET_IF_NOT_EXIST) is False
        assert await r.set(k, "six", exist=r.SET_IF_EXIST) is True
        await r.delete(k)


async def test_setex(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.setex(k, 10, "v") is True
        assert await r.get(k) == b"v"
        assert 9 <= await r.ttl(k) <= 10
        # a float becomes PSETEX in milliseconds
        async with nothing_sent(r, redis_server, "setex"):
            assert await r.setex(k, 2.5, "w") is True
        assert await r.get(k) == b"w"
        assert 2000 < await r.pttl(k) <= 2500
        async with nothing_sent(r, redis_server, "setex", "psetex"):
            for bad in ("10", None, b"1"):
                with pytest.raises(TypeError):
                    r.setex(k, bad, "x")
        with pytest.raises(ReplyError):
            await r.setex(k, 0, "x")
        assert await r.get(k) == b"w"
    async with client(redis_server, encoding="utf-8") as r:
        assert await r.setex(k, 10, "v") is True
        await r.delete(k)


async def test_psetex(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.psetex(k, 3000, "v") is True
        assert await r.get(k) == b"v"
        assert 2000 < await r.pttl(k) <= 3000
        async with nothing_sent(r, redis_server, "psetex"):
            for bad in (1.5, "100", None):
                with pytest.raises(TypeError):
                    r.psetex(k, bad, "x")
        assert await r.get(k) == b"v"
    async with client(redis_server, encoding="utf-8") as r:
        assert await r.psetex(k, 3000, "v") is True
        await r.delete(k)


async def test_setnx(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.setnx(k, "one") is True
        assert await r.setnx(k, "two") is False
        assert await r.get(k) == b"one"
        with pytest.raises(TypeError):
            r.setnx(k, None)
        await r.delete(k)
