"""Streams commands (StreamsCommandsMixin) against a real redis-server."""

import asyncio
from collections import OrderedDict

import pytest
from helpers import assert_still_in_sync, client, key_maker, sent

from aioredis import ReplyError
from aioredis.commands.streams import _messages, _messages_by_stream
from aioredis.errors import BusyGroupError

FIELDS = OrderedDict([(b"field1", b"value1"), (b"field2", b"value2")])


key = key_maker("aioredis-test:stream", "s")


async def filled(redis, n=3, name="s"):
    """A stream of n messages {b'n': i}; returns (key, [ids])."""
    k = key(name)
    ids = [await redis.xadd(k, {b"n": i}) for i in range(n)]
    return k, ids


def is_id(value):
    ms, _, seq = value.partition(b"-")
    return ms.isdigit() and seq.isdigit()


# ---------------------------------------------------------------------------
# xadd / xlen / xdel / xtrim
# ---------------------------------------------------------------------------


async def test_xadd(redis_server):
    async with client(redis_server) as redis:
        k = key()
        message_id = await redis.xadd(k, {"field1": "value1", "field2": "value2"})
        assert isinstance(message_id, bytes) and is_id(message_id)
        assert await redis.xrange(k) == [(message_id, FIELDS)]
        # explicit ids; field order is kept
        assert await redis.xadd(k, {b"b": 2, b"a": 1.5}, message_id=b"99999999999999-1") == b"99999999999999-1"
        [(mid, fields)] = await redis.xrange(k, start=b"99999999999999-1")
        assert mid == b"99999999999999-1"
        assert list(fields.items()) == [(b"b", b"2"), (b"a", b"1.5")]
        with pytest.raises(ReplyError):
            await redis.xadd(k, {b"a": 1}, message_id=b"1-1")  # not greater than the last id
        assert await redis.xlen(k) == 2


async def test_xadd_max_len(redis_server):
    async with client(redis_server) as redis:
        k = key()
        for i in range(10):
            await redis.xadd(k, {b"i": i}, max_len=3, exact_len=True)
        assert await redis.xlen(k) == 3
        assert [f[b"i"] for _, f in await redis.xrange(k)] == [b"7", b"8", b"9"]
        # approximate trimming keeps at least max_len messages
        for i in range(10):
            await redis.xadd(k, {b"i": i}, max_len=3)
        assert await redis.xlen(k) >= 3


def test_xadd_wire():
    assert sent(lambda r: r.xadd("s", {"a": 1, "b": "x"})) == (b"XADD", "s", b"*", "a", 1, "b", "x")
    assert sent(lambda r: r.xadd("s", {"a": 1}, message_id="5-0", max_len=10)) == (
        b"XADD", "s", b"MAXLEN", b"~", 10, "5-0", "a", 1,
    )
    assert sent(lambda r: r.xadd("s", {"a": 1}, max_len=10, exact_len=True)) == (
        b"XADD", "s", b"MAXLEN", 10, b"*", "a", 1,
    )


async def test_xadd_validation(redis_server):
    async with client(redis_server) as redis:
        k = key()
        for bad in ([(b"a", 1)], b"a", None, 1):
            with pytest.raises(TypeError):
                redis.xadd(k, bad)
        with pytest.raises(ValueError):
            redis.xadd(k, {})
        with pytest.raises(TypeError):
            redis.xadd(k, {b"a": None})
        await assert_still_in_sync(redis)
        assert await redis.xlen(k) == 0


async def test_xlen(redis_server):
    async with client(redis_server) as redis:
        k, _ = await filled(redis, 4)
        assert await redis.xlen(k) == 4
        assert await redis.xlen(key("missing")) == 0
        await redis.execute(b"SET", k + "str", b"x")
        with pytest.raises(ReplyError, match="WRONGTYPE"):
            await redis.xlen(k + "str")


async def test_xdel(redis_server):
    async with client(redis_server) as redis:
        k, ids = await filled(redis, 3)
        assert await redis.xdel(k, ids[1]) == 1
        assert await redis.xdel(k, ids[1]) == 0
        assert [mid for mid, _ in await redis.xrange(k)] == [ids[0], ids[2]]
        assert await redis.xlen(k) == 2


async def test_xtrim(redis_server):
    async with client(redis_server) as redis:
        k, ids = await filled(redis, 10)
        assert await redis.xtrim(k, 4, exact_len=True) == 6
        assert [mid for mid, _ in await redis.xrange(k)] == ids[6:]
        # approximate: trims whole macro nodes only, here none
        assert await redis.xtrim(k, 1) == 0
        assert await redis.xlen(k) == 4
    assert sent(lambda r: r.xtrim("s", 5)) == (b"XTRIM", "s", b"MAXLEN", b"~", 5)
    assert sent(lambda r: r.xtrim("s", 5, exact_len=True)) == (b"XTRIM", "s", b"MAXLEN", 5)


# ---------------------------------------------------------------------------
# xrange / xrevrange
# ---------------------------------------------------------------------------


async def test_xrange(redis_server):
    async with client(redis_server) as redis:
        k, ids = await filled(redis, 3)
        messages = await redis.xrange(k)
        assert messages == [(ids[i], OrderedDict([(b"n", str(i).encode())])) for i in range(3)]
        assert all(type(m) is tuple and type(m[1]) is OrderedDict for m in messages)
        assert [m for m, _ in await redis.xrange(k, start=ids[1])] == ids[1:]
        assert [m for m, _ in await redis.xrange(k, stop=ids[1])] == ids[:2]
        assert [m for m, _ in await redis.xrange(k, ids[0], ids[1])] == ids[:2]
        assert [m for m, _ in await redis.xrange(k, count=2)] == ids[:2]
        assert await redis.xrange(k, start="99999999999999-0") == []
        assert await redis.xrange(key("missing")) == []
        # encoding: ids and fields decoded
        assert await redis.xrange(k, count=1, encoding="utf-8") == [(ids[0].decode(), OrderedDict([("n", "0")]))]
    async with client(redis_server, encoding="utf-8") as redis:
        assert await redis.xrange(k, count=1) == [(ids[0].decode(), OrderedDict([("n", "0")]))]
        assert await redis.xrange(k, count=1, encoding=None) == [(ids[0], OrderedDict([(b"n", b"0")]))]
    assert sent(lambda r: r.xrange("s")) == (b"XRANGE", "s", "-", "+")
    assert sent(lambda r: r.xrange("s", "1", "2", count=5)) == (b"XRANGE", "s", "1", "2", b"COUNT", 5)


async def test_xrevrange(redis_server):
    async with client(redis_server) as redis:
        k, ids = await filled(redis, 3)
        messages = await redis.xrevrange(k)
        assert messages == [(ids[i], OrderedDict([(b"n", str(i).encode())])) for i in (2, 1, 0)]
        assert [m for m, _ in await redis.xrevrange(k, start=ids[1])] == [ids[1], ids[0]]
        assert [m for m, _ in await redis.xrevrange(k, stop=ids[1])] == [ids[2], ids[1]]
        assert [m for m, _ in await redis.xrevrange(k, count=1)] == [ids[2]]
        assert await redis.xrevrange(key("missing")) == []
        assert await redis.xrevrange(k, count=1, encoding="utf-8") == [(ids[2].decode(), OrderedDict([("n", "2")]))]
    assert sent(lambda r: r.xrevrange("s")) == (b"XREVRANGE", "s", "+", "-")
    assert sent(lambda r: r.xrevrange("s", count=2)) == (b"XREVRANGE", "s", "+", "-", b"COUNT", 2)


# ---------------------------------------------------------------------------
# xread
# ---------------------------------------------------------------------------


async def test_xread(redis_server):
    async with client(redis_server) as redis:
        k, ids = await filled(redis, 3)
        k2, ids2 = await filled(redis, 1, "other")
        messages = await redis.xread([k], timeout=1, latest_ids=["0-0"])
        assert messages == [(k.encode(), ids[i], OrderedDict([(b"n", str(i).encode())])) for i in range(3)]
        assert [m for _, m, _ in await redis.xread([k], timeout=1, latest_ids=[ids[0]])] == ids[1:]
        assert await redis.xread([k], timeout=None, latest_ids=[ids[2]]) == []
        assert len(await redis.xread([k], latest_ids=["0"], count=2)) == 2
        # several streams, flattened in the server's order
        messages = await redis.xread([k, k2], timeout=None, latest_ids=[ids[1], "0"])
        assert [(s, m) for s, m, _ in messages] == [(k.encode(), ids[2]), (k2.encode(), ids2[0])]
        # tuples are fine too
        assert len(await redis.xread((k, k2), timeout=None, latest_ids=("0", "0"))) == 4
        # encoding
        messages = await redis.xread([k], timeout=None, latest_ids=[ids[1]], encoding="utf-8")
        assert messages == [(k, ids[2].decode(), OrderedDict([("n", "2")]))]
    async with client(redis_server, encoding="utf-8") as redis:
        messages = await redis.xread([k], timeout=None, latest_ids=[ids[1]])
        assert messages == [(k, ids[2].decode(), OrderedDict([("n", "2")]))]
        messages = await redis.xread([k], timeout=None, latest_ids=[ids[1]], encoding=None)
        assert messages == [(k.encode(), ids[2], OrderedDict([(b"n", b"2")]))]


def test_xread_wire():
    assert sent(lambda r: r.xread(["a", "b"])) == (b"XREAD", b"BLOCK", 0, b"STREAMS", "a", "b", "$", "$")
    assert sent(lambda r: r.xread(["a"], timeout=None, count=3, latest_ids=["1-0"])) == (
        b"XREAD", b"COUNT", 3, b"STREAMS", "a", "1-0",
    )
    assert sent(lambda r: r.xread(["a"], timeout=500, count=0)) == (b"XREAD", b"BLOCK", 500, b"STREAMS", "a", "$")


async def test_xread_blocking_woken_by_xadd(redis_server):
    async with client(redis_server) as reader, client(redis_server) as writer:
        k = key()
        reader_id = await reader.execute(b"CLIENT", b"ID")
        # '$': only messages added after the XREAD arrived
        await writer.xadd(k, {b"old": 1})
        waiter = reader.xread([k], timeout=10000)
        # wait until the server has the reader blocked, then add from the other connection
        for _ in range(500):
            info = await writer.execute(b"CLIENT", b"LIST", b"ID", reader_id)
            if b"flags=b" in info:
                break
            await asyncio.sleep(0.01)
        else:
            pytest.fail(f"the reader never blocked: {info!r}")
        assert not waiter.done()
        message_id = await writer.xadd(k, FIELDS)
        messages = await asyncio.wait_for(waiter, 5)
        assert messages == [(k.encode(), message_id, FIELDS)]


async def test_xread_blocking_timeout(redis_server):
    async with client(redis_server) as redis:
        k = key()
        loop = asyncio.get_running_loop()
        start = loop.time()
        assert await redis.xread([k], timeout=100) == []
        assert loop.time() - start >= 0.09
        await assert_still_in_sync(redis)


async def test_xread_validation(redis_server):
    async with client(redis_server) as redis:
        k, _ = await filled(redis, 1)
        with pytest.raises(ValueError):
            redis.xread([k], latest_ids=["0", "0"])
        with pytest.raises(ValueError):
            redis.xread([k, k], latest_ids=["0"])
        with pytest.raises(ValueError):
            redis.xread([])
        for bad in (1.5, "100", b"100"):
            with pytest.raises(TypeError):
                redis.xread([k], timeout=bad, latest_ids=["0"])
        with pytest.raises(TypeError):
            redis.xread(k, latest_ids=["0"])  # a bare key, not a list
        with pytest.raises(TypeError):
            redis.xread([k], latest_ids="0")
        await assert_still_in_sync(redis)


# ---------------------------------------------------------------------------
# consumer groups
# ---------------------------------------------------------------------------


async def test_consumer_groups_end_to_end(redis_server):
    async with client(redis_server) as c1, client(redis_server) as c2:
        k, ids = await filled(c1, 4)
        assert await c1.xgroup_create(k, "group", latest_id="0") is True

        # two consumers share the messages: each gets what the other did not
        got1 = await c1.xread_group("group", "consumer1", [k], count=2, latest_ids=[">"])
        got2 = await c2.xread_group("group", "consumer2", [k], count=5)  # default id '>'
        assert got1 == [(k.encode(), ids[i], OrderedDict([(b"n", str(i).encode())])) for i in (0, 1)]
        assert got2 == [(k.encode(), ids[i], OrderedDict([(b"n", str(i).encode())])) for i in (2, 3)]
        assert await c2.xread_group("group", "consumer2", [k], timeout=None) == []

        # pending: summary, details, details of one consumer
        assert await c1.xpending(k, "group") == [
            4, ids[0], ids[3], [[b"consumer1", b"2"], [b"consumer2", b"2"]],
        ]
        details = await c1.xpending(k, "group", "-", "+", 10)
        assert [(mid, consumer, deliveries) for mid, consumer, _idle, deliveries in details] == [
            (ids[0], b"consumer1", 1), (ids[1], b"consumer1", 1),
            (ids[2], b"consumer2", 1), (ids[3], b"consumer2", 1),
        ]
        assert all(isinstance(idle, int) for _, _, idle, _ in details)
        details = await c1.xpending(k, "group", "-", "+", 10, "consumer2")
        assert [mid for mid, *_ in details] == ids[2:]
        [row] = await c1.xpending(k, "group", ids[1], "+", 1)
        assert (row[0], row[1], row[3]) == (ids[1], b"consumer1", 1)

        # consumer2 claims consumer1's first message
        assert await c2.xclaim(k, "group", "consumer2", 0, ids[0]) == [(ids[0], OrderedDict([(b"n", b"0")]))]
        assert await c2.xclaim(k, "group", "consumer2", 3_600_000, ids[1]) == []  # not idle long enough
        summary = await c1.xpending(k, "group")
        assert summary[3] == [[b"consumer1", b"1"], [b"consumer2", b"3"]]

        # consumer1 reads its own history again (id 0): only what it still owns
        history = await c1.xread_group("group", "consumer1", [k], latest_ids=["0"], timeout=None)
        assert [mid for _, mid, _ in history] == [ids[1]]

        # acknowledgements
        assert await c2.xack(k, "group", ids[0], ids[2]) == 2
        assert await c2.xack(k, "group", ids[0]) == 0
        assert await c1.xack(k, "group", ids[1]) == 1
        summary = await c1.xpending(k, "group")
        assert summary == [1, ids[3], ids[3], [[b"consumer2", b"1"]]]

        # introspection
        [group] = await c1.xinfo_groups(k)
        assert group[b"name"] == b"group"
        assert group[b"consumers"] == 2 and group[b"pending"] == 1
        assert group[b"last-delivered-id"] == ids[3]
        consumers = await c1.xinfo_consumers(k, "group")
        assert [(c[b"name"], c[b"pending"]) for c in consumers] == [(b"consumer1", 0), (b"consumer2", 1)]

        assert await c1.xgroup_delconsumer(k, "group", "consumer2") == 1
        assert await c1.xgroup_delconsumer(k, "group", "consumer1") == 0
        assert await c1.xinfo_consumers(k, "group") == []
        assert await c1.xgroup_destroy(k, "group") is True
        assert await c1.xinfo_groups(k) == []


async def test_xread_group_encoding(redis_server):
    async with client(redis_server) as redis:
        k, ids = await filled(redis, 2)
        await redis.xgroup_create(k, "g", "0")
        got = await redis.xread_group("g", "c", [k], count=1, encoding="utf-8")
        assert got == [(k, ids[0].decode(), OrderedDict([("n", "0")]))]
        got = await redis.xread_group("g", "c", [k], count=1)
        assert got == [(k.encode(), ids[1], OrderedDict([(b"n", b"1")]))]
    async with client(redis_server, encoding="utf-8") as redis:
        got = await redis.xread_group("g", "c", [k], latest_ids=["0"], count=1, timeout=None)
        assert got == [(k, ids[0].decode(), OrderedDict([("n", "0")]))]


async def test_xread_group_no_ack(redis_server):
    async with client(redis_server) as redis:
        k, ids = await filled(redis, 2)
        await redis.xgroup_create(k, "g", "0")
        got = await redis.xread_group("g", "c", [k], no_ack=True)
        assert [mid for _, mid, _ in got] == ids
        assert (await redis.xpending(k, "g"))[0] == 0
    assert sent(lambda r: r.xread_group("g", "c", ["s"], no_ack=True)) == (
        b"XREADGROUP", b"GROUP", "g", "c", b"BLOCK", 0, b"NOACK", b"STREAMS", "s", ">",
    )
    assert sent(lambda r: r.xread_group("g", "c", ["s", "t"], timeout=None, count=2, latest_ids=["0", "1"])) == (
        b"XREADGROUP", b"GROUP", "g", "c", b"COUNT", 2, b"STREAMS", "s", "t", "0", "1",
    )


async def test_xread_group_deleted_pending_message(redis_server):
    async with client(redis_server) as redis:
        k, ids = await filled(redis, 2)
        await redis.xgroup_create(k, "g", "0")
        await redis.xread_group("g", "c", [k])
        assert await redis.xdel(k, ids[0]) == 1
        # the history still lists the deleted message, without fields
        history = await redis.xread_group("g", "c", [k], latest_ids=["0"], timeout=None)
        assert history == [(k.encode(), ids[0], None), (k.encode(), ids[1], OrderedDict([(b"n", b"1")]))]


async def test_xread_group_blocking(redis_server):
    async with client(redis_server) as reader, client(redis_server) as writer:
        k = key()
        await reader.xgroup_create(k, "g", mkstream=True)
        assert await reader.xread_group("g", "c", [k], timeout=50) == []
        waiter = reader.xread_group("g", "c", [k], timeout=10000)
        await asyncio.sleep(0.05)
        message_id = await writer.xadd(k, FIELDS)
        assert await asyncio.wait_for(waiter, 5) == [(k.encode(), message_id, FIELDS)]


async def test_xread_group_validation(redis_server):
    async with client(redis_server) as redis:
        k, _ = await filled(redis, 1)
        await redis.xgroup_create(k, "g", "0")
        with pytest.raises(ValueError):
            redis.xread_group("g", "c", [k], latest_ids=[">", ">"])
        with pytest.raises(ValueError):
            redis.xread_group("g", "c", [])
        with pytest.raises(TypeError):
            redis.xread_group("g", "c", [k], timeout=0.5)
        with pytest.raises(TypeError):
            redis.xread_group("g", "c", k)
        await assert_still_in_sync(redis)
        # nothing was read: the message is still new for the group
        assert len(await redis.xread_group("g", "c", [k], timeout=None)) == 1
        with pytest.raises(ReplyError, match="NOGROUP"):
            await redis.xread_group("missing", "c", [k], timeout=None)


async def test_xgroup_create(redis_server):
    async with client(redis_server) as redis:
        k, ids = await filled(redis, 2)
        assert await redis.xgroup_create(k, "g") is True  # '$': only new messages
        assert await redis.xread_group("g", "c", [k], timeout=None) == []
        with pytest.raises(BusyGroupError):
            await redis.xgroup_create(k, "g")
        assert await redis.xgroup_create(k, "g2", latest_id=ids[0]) is True
        assert [m for _, m, _ in await redis.xread_group("g2", "c", [k], timeout=None)] == [ids[1]]
        assert await redis.xgroup_create(k, "g3", "0", mkstream=True) is True  # existing stream: no effect
        assert len(await redis.xinfo_groups(k)) == 3


async def test_xgroup_create_mkstream(redis_server):
    async with client(redis_server) as redis:
        k = key()
        with pytest.raises(ReplyError):
            await redis.xgroup_create(k, "g")
        assert await redis.xlen(k) == 0
        assert await redis.execute(b"EXISTS", k) == 0
        assert await redis.xgroup_create(k, "g", mkstream=True) is True
        assert await redis.execute(b"TYPE", k) == b"stream"
        assert await redis.xlen(k) == 0
    assert sent(lambda r: r.xgroup_create("s", "g", mkstream=True)) == (
        b"XGROUP", b"CREATE", "s", "g", "$", b"MKSTREAM",
    )
    assert sent(lambda r: r.xgroup_create("s", "g", "0")) == (b"XGROUP", b"CREATE", "s", "g", "0")


async def test_xgroup_setid(redis_server):
    async with client(redis_server) as redis:
        k, ids = await filled(redis, 3)
        await redis.xgroup_create(k, "g")
        assert await redis.xgroup_setid(k, "g", ids[0]) is True
        assert [m for _, m, _ in await redis.xread_group("g", "c", [k], timeout=None)] == ids[1:]
        assert await redis.xgroup_setid(k, "g", "0") is True
        assert len(await redis.xread_group("g", "c", [k], timeout=None)) == 3
        assert await redis.xgroup_setid(k, "g") is True  # '$'
        assert await redis.xread_group("g", "c", [k], timeout=None) == []
        with pytest.raises(ReplyError, match="NOGROUP"):
            await redis.xgroup_setid(k, "missing")
    async with client(redis_server, encoding="utf-8") as redis:
        assert await redis.xgroup_setid(k, "g", "0") is True


async def test_xgroup_destroy(redis_server):
    async with client(redis_server) as redis:
        k, _ = await filled(redis, 1)
        await redis.xgroup_create(k, "g")
        assert await redis.xgroup_destroy(k, "g") is True
        assert await redis.xgroup_destroy(k, "g") is False
        assert await redis.xinfo_groups(k) == []


async def test_xgroup_delconsumer(redis_server):
    async with client(redis_server) as redis:
        k, _ = await filled(redis, 3)
        await redis.xgroup_create(k, "g", "0")
        await redis.xread_group("g", "c1", [k], count=2)
        await redis.xread_group("g", "c2", [k], count=2)
        assert await redis.xgroup_delconsumer(k, "g", "c1") == 2
        assert await redis.xgroup_delconsumer(k, "g", "unknown") == 0
        assert [c[b"name"] for c in await redis.xinfo_consumers(k, "g")] == [b"c2"]
        assert (await redis.xpending(k, "g"))[0] == 1


async def test_xpending(redis_server):
    async with client(redis_server) as redis:
        k, ids = await filled(redis, 2)
        await redis.xgroup_create(k, "g", "0")
        assert await redis.xpending(k, "g") == [0, None, None, None]
        await redis.xread_group("g", "c", [k])
        assert await redis.xpending(k, "g") == [2, ids[0], ids[1], [[b"c", b"2"]]]
        assert await redis.xpending(k, "g", encoding="utf-8") == [
            2, ids[0].decode(), ids[1].decode(), [["c", "2"]],
        ]
        rows = await redis.xpending(k, "g", "-", "+", 1)
        assert len(rows) == 1 and rows[0][0] == ids[0] and rows[0][1] == b"c" and rows[0][3] == 1
        assert await redis.xpending(k, "g", "-", "+", 10, "nobody") == []
        with pytest.raises(ReplyError, match="NOGROUP"):
            await redis.xpending(k, "missing")


async def test_xpending_validation(redis_server):
    async with client(redis_server) as redis:
        k = key()
        for kwargs in (
            {"start": "-"},
            {"stop": "+"},
            {"count": 10},
            {"start": "-", "stop": "+"},
            {"start": "-", "count": 10},
            {"stop": "+", "count": 10, "consumer": "c"},
            {"consumer": "c"},
        ):
            with pytest.raises(ValueError):
                redis.xpending(k, "g", **kwargs)
        await assert_still_in_sync(redis)
    assert sent(lambda r: r.xpending("s", "g")) == (b"XPENDING", "s", "g")
    assert sent(lambda r: r.xpending("s", "g", "-", "+", 5, "c")) == (b"XPENDING", "s", "g", "-", "+", 5, "c")


async def test_xclaim(redis_server):
    async with client(redis_server) as redis:
        k, ids = await filled(redis, 3)
        await redis.xgroup_create(k, "g", "0")
        await redis.xread_group("g", "c1", [k])
        claimed = await redis.xclaim(k, "g", "c2", 0, ids[0], ids[2])
        assert claimed == [(ids[0], OrderedDict([(b"n", b"0")])), (ids[2], OrderedDict([(b"n", b"2")]))]
        assert (await redis.xpending(k, "g"))[3] == [[b"c1", b"1"], [b"c2", b"2"]]
        assert await redis.xclaim(k, "g", "c2", 0, ids[1], encoding="utf-8") == [
            (ids[1].decode(), OrderedDict([("n", "1")])),
        ]
        # a message that is not pending is not claimed
        new_id = await redis.xadd(k, {b"n": 3})
        assert await redis.xclaim(k, "g", "c2", 0, new_id) == []


async def test_xack(redis_server):
    async with client(redis_server) as redis:
        k, ids = await filled(redis, 3)
        await redis.xgroup_create(k, "g", "0")
        assert await redis.xack(k, "g", ids[0]) == 0  # not delivered yet
        await redis.xread_group("g", "c", [k])
        assert await redis.xack(k, "g", ids[0]) == 1
        assert await redis.xack(k, "g", ids[0], ids[1], ids[2]) == 2
        assert (await redis.xpending(k, "g"))[0] == 0


# ---------------------------------------------------------------------------
# xinfo
# ---------------------------------------------------------------------------


async def test_xinfo_stream(redis_server):
    async with client(redis_server) as redis:
        k, ids = await filled(redis, 2)
        await redis.xgroup_create(k, "g")
        info = await redis.xinfo_stream(k)
        assert type(info) is dict
        assert info[b"length"] == 2
        assert info[b"groups"] == 1
        assert info[b"last-generated-id"] == ids[1]
        assert info[b"first-entry"] == [ids[0], [b"n", b"0"]]
        assert info[b"last-entry"] == [ids[1], [b"n", b"1"]]
        assert await redis.xinfo(k) == info
        info = await redis.xinfo(k, encoding="utf-8")
        assert info["length"] == 2 and info["last-entry"] == [ids[1].decode(), ["n", "1"]]
        with pytest.raises(ReplyError):
            await redis.xinfo_stream(key("missing"))
    async with client(redis_server, encoding="utf-8") as redis:
        assert (await redis.xinfo_stream(k))["last-generated-id"] == ids[1].decode()
        assert (await redis.xinfo_stream(k, encoding=None))[b"last-generated-id"] == ids[1]


async def test_xinfo_groups_and_consumers(redis_server):
    async with client(redis_server) as redis:
        k, ids = await filled(redis, 2)
        assert await redis.xinfo_groups(k) == []
        await redis.xgroup_create(k, "g1", "0")
        await redis.xgroup_create(k, "g2")
        groups = await redis.xinfo_groups(k)
        assert [type(g) for g in groups] == [dict, dict]
        assert [(g[b"name"], g[b"consumers"], g[b"pending"]) for g in groups] == [(b"g1", 0, 0), (b"g2", 0, 0)]
        assert await redis.xinfo_consumers(k, "g1") == []
        await redis.xread_group("g1", "alice", [k], count=1)
        await redis.xread_group("g1", "bob", [k], count=1)
        consumers = await redis.xinfo_consumers(k, "g1")
        assert [(c[b"name"], c[b"pending"]) for c in consumers] == [(b"alice", 1), (b"bob", 1)]
        assert all(isinstance(c[b"idle"], int) for c in consumers)
        consumers = await redis.xinfo_consumers(k, "g1", encoding="utf-8")
        assert [c["name"] for c in consumers] == ["alice", "bob"]
        groups = await redis.xinfo_groups(k, encoding="utf-8")
        assert groups[0]["name"] == "g1" and groups[0]["last-delivered-id"] == ids[1].decode()
        with pytest.raises(ReplyError, match="NOGROUP"):
            await redis.xinfo_consumers(k, "missing")


async def test_xinfo_help(redis_server):
    async with client(redis_server) as redis:
        text = await redis.xinfo_help()
        assert isinstance(text, bytes)
        lines = text.split(b"\n")
        assert lines[0].startswith(b"XINFO")
        assert any(line.startswith(b"STREAM") for line in lines)
        assert await redis.xinfo_help(encoding="utf-8") == text.decode()
    async with client(redis_server, encoding="utf-8") as redis:
        assert await redis.xinfo_help() == text.decode()


# ---------------------------------------------------------------------------
# inside MULTI: the converters let QUEUED through
# ---------------------------------------------------------------------------


async def test_converters_pass_queued(redis_server):
    async with client(redis_server) as redis:
        k, ids = await filled(redis, 1)
        await redis.xgroup_create(k, "g", "0")
        assert await redis.execute(b"MULTI") == b"OK"
        queued = [
            redis.xrange(k),
            redis.xread([k], timeout=None, latest_ids=["0"]),
            redis.xinfo_groups(k),
            redis.xgroup_setid(k, "g", "0"),
            redis.xgroup_destroy(k, "g"),
        ]
        assert [await fut for fut in queued] == [b"QUEUED"] * len(queued)
        results = await redis.execute(b"EXEC")
        assert results[0] == [[ids[0], [b"n", b"0"]]]
        assert results[3] == b"OK" and results[4] == 1
    assert _messages("QUEUED") == "QUEUED" and _messages_by_stream(b"QUEUED") == b"QUEUED"
    assert _messages_by_stream(None) == [] and _messages(None) == []
    assert _messages([None]) == [(None, {})]
