"""HashCommandsMixin against a real redis-server."""

import pytest
from helpers import auth_kwargs, client, key_maker, recording

import aioredis
from aioredis import ReplyError


key = key_maker("aioredis-test:hash", "h")


async def test_hdel(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.hdel(k, "f") == 0
        await r.hmset(k, "a", 1, "b", 2, "c", 3)
        assert await r.hdel(k, "a") == 1
        assert await r.hdel(k, "a") == 0
        assert await r.hdel(k, "b", "c", "missing") == 2
        assert await r.hlen(k) == 0
        assert await r.execute("EXISTS", k) == 0


async def test_hexists(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.hset(k, "f", "v") == 1
        res = await r.hexists(k, "f")
        assert res is True
        assert await r.hexists(k, "nope") is False
        assert await r.hexists(key("missing"), "f") is False


async def test_hget(redis_server):
    k = key()
    async with client(redis_server) as r:
        await r.hset(k, "f", "välue")
        assert await r.hget(k, "f") == "välue".encode()
        assert await r.hget(k, b"f") == "välue".encode()
        assert await r.hget(k, "missing") is None
        assert await r.hget(key("missing"), "f") is None
        assert await r.hget(k, "f", encoding="utf-8") == "välue"
        assert await r.hget(k, "missing", encoding="utf-8") is None


async def test_hget_connection_encoding(redis_server):
    k = key()
    async with client(redis_server, encoding="utf-8") as r:
        await r.hset(k, "f", "välue")
        assert await r.hget(k, "f") == "välue"
        assert await r.hget(k, "f", encoding=None) == "välue".encode()


async def test_hgetall(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.hgetall(k) == {}
        await r.hmset(k, "f1", "v1", "f2", 2, b"f3", 3.5)
        res = await r.hgetall(k)
        assert res == {b"f1": b"v1", b"f2": b"2", b"f3": b"3.5"}
        res = await r.hgetall(k, encoding="utf-8")
        assert res == {"f1": "v1", "f2": "2", "f3": "3.5"}


async def test_hgetall_connection_encoding(redis_server):
    k = key()
    async with client(redis_server, encoding="utf-8") as r:
        assert await r.hgetall(k) == {}
        await r.hset(k, "ключ", "значение")
        assert await r.hgetall(k) == {"ключ": "значение"}
        assert await r.hgetall(k, encoding=None) == {"ключ".encode(): "значение".encode()}


async def test_hincrby(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.hincrby(k, "n") == 1
        assert await r.hincrby(k, "n", 10) == 11
        assert await r.hincrby(k, "n", -20) == -9
        assert await r.hget(k, "n") == b"-9"
        with pytest.raises(ReplyError):
            await r.hincrby(k, "n", 1.5)  # the server rejects a float increment
        await r.hset(k, "s", "text")
        with pytest.raises(ReplyError):
            await r.hincrby(k, "s", 1)
        assert await r.hget(k, "n") == b"-9"


async def test_hincrbyfloat(redis_server):
    k = key()
    async with client(redis_server) as r:
        res = await r.hincrbyfloat(k, "x")
        assert res == 1.0 and type(res) is float
        res = await r.hincrbyfloat(k, "x", 2.5)
        assert res == 3.5 and type(res) is float
        res = await r.hincrbyfloat(k, "x", -1)
        assert res == 2.5 and type(res) is float
        await r.hset(k, "s", "text")
        with pytest.raises(ReplyError):
            await r.hincrbyfloat(k, "s", 1.0)
    async with client(redis_server, encoding="utf-8") as r:
        res = await r.hincrbyfloat(k, "x", 0.5)
        assert res == 3.0 and type(res) is float


async def test_hkeys(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.hkeys(k) == []
        await r.hmset(k, "a", 1, "b", 2)
        assert sorted(await r.hkeys(k)) == [b"a", b"b"]
        assert sorted(await r.hkeys(k, encoding="utf-8")) == ["a", "b"]
    async with client(redis_server, encoding="utf-8") as r:
        assert sorted(await r.hkeys(k)) == ["a", "b"]
        assert sorted(await r.hkeys(k, encoding=None)) == [b"a", b"b"]


async def test_hlen(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.hlen(k) == 0
        await r.hmset(k, "a", 1, "b", 2)
        assert await r.hlen(k) == 2


async def test_hmget(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.hmget(k, "a") == [None]
        await r.hmset(k, "a", 1, "b", "two")
        assert await r.hmget(k, "a") == [b"1"]
        assert await r.hmget(k, "a", "x", "b") == [b"1", None, b"two"]
        assert await r.hmget(k, "b", "x", encoding="utf-8") == ["two", None]
    async with client(redis_server, encoding="utf-8") as r:
        assert await r.hmget(k, "a", "b") == ["1", "two"]
        assert await r.hmget(k, "a", "b", encoding=None) == [b"1", b"two"]


async def test_hmset(redis_server):
    k = key()
    async with client(redis_server) as r:
        res = await r.hmset(k, "f1", "v1")
        assert res is True
        res = await r.hmset(k, "f2", b"v2", b"f3", 3, "f4", 4.5, "f1", bytearray(b"new"))
        assert res is True
        assert await r.hgetall(k) == {b"f1": b"new", b"f2": b"v2", b"f3": b"3", b"f4": b"4.5"}
    async with client(redis_server, encoding="utf-8") as r:
        assert await r.hmset(k, "f5", "v5") is True
        assert await r.hget(k, "f5") == "v5"


async def test_hmset_odd_pairs(redis_server):
    k = key()
    async with client(redis_server) as r:
        with recording(r) as sent:
            with pytest.raises(TypeError):
                r.hmset(k, "f1", "v1", "f2")  # raised at call time, before sending
            with pytest.raises(TypeError):
                r.hmset(k, "f1", "v1", "f2", "v2", "f3")
        assert sent == []
        assert await r.hlen(k) == 0


async def test_hmset_dict(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.hmset_dict(k, {"a": 1, b"b": "two"}) is True
        assert await r.hgetall(k) == {b"a": b"1", b"b": b"two"}
        assert await r.hmset_dict(k, c=3, d="four") is True
        assert await r.hmset_dict(k, {"e": 5}, f=6) is True
        assert await r.hmset_dict(k, {}, g=7) is True
        # dict and kwargs sharing a field: the keyword value wins
        assert await r.hmset_dict(k, {"a": "from-dict", "h": 8}, a="from-kwargs") is True
        assert await r.hgetall(k, encoding="utf-8") == {
            "a": "from-kwargs",
            "b": "two",
            "c": "3",
            "d": "four",
            "e": "5",
            "f": "6",
            "g": "7",
            "h": "8",
        }
    async with client(redis_server, encoding="utf-8") as r:
        assert await r.hmset_dict(k, {"z": "zz"}) is True


async def test_hmset_dict_errors(redis_server):
    k = key()
    async with client(redis_server) as r:
        with recording(r) as sent:
            with pytest.raises(TypeError):
                r.hmset_dict(k)
            with pytest.raises(TypeError):
                r.hmset_dict(k, {"a": 1}, {"b": 2})
            with pytest.raises(TypeError):
                r.hmset_dict(k, [("a", 1)])
            with pytest.raises(TypeError):
                r.hmset_dict(k, "a", b=1)
            with pytest.raises(ValueError):
                r.hmset_dict(k, {})
        assert sent == []
        with pytest.raises(TypeError):
            r.hmset_dict(k, {"a": None})  # the encoder rejects None
        assert await r.execute("EXISTS", k) == 0


async def test_hset(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.hset(k, "f", "v1") == 1
        assert await r.hset(k, "f", "v2") == 0
        assert await r.hset(k, b"g", 5) == 1
        assert await r.hgetall(k) == {b"f": b"v2", b"g": b"5"}
        with pytest.raises(TypeError):
            r.hset(k, None, "v")
        with pytest.raises(TypeError):
            r.hset(k, "f", None)
        assert await r.hget(k, "f") == b"v2"


async def test_hsetnx(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.hsetnx(k, "f", "v1") == 1
        assert await r.hsetnx(k, "f", "v2") == 0
        assert await r.hget(k, "f") == b"v1"


async def test_hvals(redis_server):
    k = key()
    async with client(redis_server) as r:
        assert await r.hvals(k) == []
        await r.hmset(k, "a", "x", "b", "y")
        assert sorted(await r.hvals(k)) == [b"x", b"y"]
        assert sorted(await r.hvals(k, encoding="utf-8")) == ["x", "y"]
    async with client(redis_server, encoding="utf-8") as r:
        assert sorted(await r.hvals(k)) == ["x", "y"]
        assert sorted(await r.hvals(k, encoding=None)) == [b"x", b"y"]


async def test_hstrlen(redis_server):
    k = key()
    async with client(redis_server) as r:
        await r.hset(k, "f", "hello")
        assert await r.hstrlen(k, "f") == 5
        assert await r.hstrlen(k, "missing") == 0
        assert await r.hstrlen(key("missing"), "f") == 0


async def test_hscan_small(redis_server):
    k = key()
    async with client(redis_server) as r:
        cursor, items = await r.hscan(k)
        assert (cursor, items) == (0, [])
        await r.hmset(k, "a", 1, "b", 2, "c", 3)
        cursor, items = await r.hscan(k)
        assert cursor == 0 and type(cursor) is int
        assert all(type(item) is tuple for item in items)
        assert sorted(items) == [(b"a", b"1"), (b"b", b"2"), (b"c", b"3")]
        cursor, items = await r.hscan(k, 0, match="b*")
        assert (cursor, items) == (0, [(b"b", b"2")])


async def test_hscan_iterate(redis_server):
    k = key()
    fields = {f"field:{i}".encode(): str(i).encode() for i in range(1000)}
    async with client(redis_server) as r:
        await r.hmset_dict(k, fields)
        await r.hmset(k, "other", "x")
        cursor, collected, calls = 0, {}, 0
        while True:
            cursor, items = await r.hscan(k, cursor, count=20)
            assert type(cursor) is int
            calls += 1
            for item in items:
                assert type(item) is tuple and len(item) == 2
                collected[item[0]] = item[1]
            if cursor == 0:
                break
        assert calls > 1  # a real hashtable: several pages
        assert collected == {**fields, b"other": b"x"}

        cursor, matched = 0, []
        while True:
            cursor, items = await r.hscan(k, cursor, match="field:1*", count=50)
            matched += items
            if cursor == 0:
                break
        expected = sorted((f, v) for f, v in fields.items() if f.startswith(b"field:1"))
        assert sorted(matched) == expected


async def test_hscan_connection_encoding(redis_server):
    k = key()
    async with client(redis_server, encoding="utf-8") as r:
        await r.hmset(k, "a", 1, "b", 2)
        cursor, items = await r.hscan(k, match="a")
        assert cursor == 0 and type(cursor) is int
        assert items == [("a", "1")]


async def test_converters_pass_queued(redis_server):
    """Inside a raw MULTI each converting method's future gives QUEUED unchanged."""
    k = key()
    async with client(redis_server) as r:
        assert await r.execute("MULTI") == b"OK"
        queued = [
            r.hmset(k, "a", 1),
            r.hmset_dict(k, {"b": 2}),
            r.hexists(k, "a"),
            r.hgetall(k),
            r.hincrbyfloat(k, "c", 1.5),
            r.hscan(k),
        ]
        for fut in queued:
            assert await fut == b"QUEUED"
        res = await r.execute("EXEC")
        assert res[:3] == [b"OK", b"OK", 1]
        assert res[4] == b"1.5"


async def test_via_redis_pool(redis_server):
    k = key()
    redis = await aioredis.create_redis_pool(redis_server.tcp_address, **auth_kwargs(redis_server))
    try:
        assert await redis.hmset(k, "a", 1) is True
        assert await redis.hgetall(k) == {b"a": b"1"}
        assert await redis.hscan(k) == (0, [(b"a", b"1")])
    finally:
        redis.close()
        await redis.wait_closed()


def test_pairs_to_dict_converter():
    from aioredis.commands._convert import pairs_to_dict

    assert pairs_to_dict([b"a", b"1", b"b", b"2", b"a", b"3"]) == {b"a": b"3", b"b": b"2"}
    assert pairs_to_dict(("k", "v")) == {"k": "v"}
    assert pairs_to_dict([b"a", b"1", b"odd"]) == {b"a": b"1"}  # as zip() would
    assert pairs_to_dict([]) == {}
    built = {b"x": b"y"}
    assert pairs_to_dict(built) is built  # what the protocol built directly
    assert pairs_to_dict(b"QUEUED") == b"QUEUED"
    with pytest.raises(TypeError):
        pairs_to_dict([[b"unhashable"], b"v"])


async def test_hgetall_of_a_large_hash(redis_server):
    # A reply awaited with pairs_to_dict is built as the dict while it
    # arrives (many reads): same result as pairing the raw list afterwards.
    k = key()
    fields = {b"field-%06d" % i: b"value-%d" % (i * 7) for i in range(20000)}
    async with client(redis_server) as r:
        for i in range(0, 20000, 5000):
            await r.hmset_dict(k, dict(list(fields.items())[i : i + 5000]))
        raw = await r.execute("HGETALL", k)
        assert len(raw) == 40000
        assert await r.hgetall(k) == fields == dict(zip(raw[::2], raw[1::2]))
        decoded = await r.hgetall(k, encoding="utf-8")
        assert decoded == {f.decode(): v.decode() for f, v in fields.items()}
        assert await r.hgetall(key("missing")) == {}
