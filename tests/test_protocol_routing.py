"""What a reply is, decided by the C protocol: the head waiter's, a pub/sub
message or a RESP3 push; what Python code run while a reply is decoded may
do; the state a transaction's replies change. Against a real redis-server
(see test_fake_server.py for what needs a fake one). Run under the
sanitizers by CI (test_protocol*.py)."""

import asyncio
import codecs
import uuid

import pytest
from helpers import client, key_maker

from aioredis import ConnectionClosedError, ReplyError
from aioredis.pubsub import Channel

key = key_maker("aioredis-test:routing")


async def within(aw, timeout=5):
    return await asyncio.wait_for(aw, timeout)


# ---------------------------------------------------------------------------
# a SUBSCRIBE queued is not subscribe mode
# ---------------------------------------------------------------------------


async def test_reply_like_a_message_before_subscribe_stays_its_commands(redis_server):
    async with client(redis_server) as redis, client(redis_server) as pub:
        k, chan = key("list"), key("chan")
        await redis.rpush(k, "message", chan, "payload")
        conn = redis.connection
        # queued in one go: the SUBSCRIBE is queued before LRANGE's reply comes
        lrange = conn.execute("LRANGE", k, 0, -1)
        sub = conn.execute_pubsub("subscribe", chan)
        assert await within(lrange) == [b"message", chan.encode(), b"payload"]
        assert await within(sub) == [[b"subscribe", chan.encode(), 1]]
        ch = conn.pubsub_channels[chan.encode()]
        assert len(ch._queue) == 0  # the LRANGE reply was not taken for a message
        assert await pub.publish(chan, "real") == 1
        assert await within(ch.get()) == b"real"


async def test_subscribe_while_a_message_like_dict_reply_is_half_received(redis_server):
    # HGETALL of {pmessage: a, b: <5 MB>} looks like a pmessage and is built as
    # a dict; a PSUBSCRIBE queued while it arrives used to route the dict as a
    # message (indexing it as a list: SIGSEGV)
    async with client(redis_server) as redis, client(redis_server) as pub:
        h, pattern = key("hash"), key("pat") + ":*"
        big = b"x" * (5 * 1024 * 1024)
        await redis.hset(h, "pmessage", "a")
        await redis.hset(h, "b", big)
        conn = redis.connection
        hgetall = redis.hgetall(h)
        psub = []
        original = conn.buffer_updated

        def buffer_updated(nbytes):
            original(nbytes)
            if not psub and not hgetall.done():  # the reply is half here
                psub.append(conn.execute_pubsub("psubscribe", pattern))

        conn.buffer_updated = buffer_updated
        try:
            assert await within(hgetall) == {b"pmessage": b"a", b"b": big}
        finally:
            del conn.buffer_updated
        assert psub, "the reply arrived in one read: nothing was tested"
        assert await within(psub[0]) == [[b"psubscribe", pattern.encode(), 1]]
        pch = conn.pubsub_patterns[pattern.encode()]
        target = pattern[:-1] + "one"
        assert await pub.publish(target, "m") == 1
        assert await within(pch.get()) == (target.encode(), b"m")


async def test_messages_between_acknowledgements_still_routed(redis_server):
    async with client(redis_server) as redis, client(redis_server) as pub:
        a, b = key("a"), key("b")
        conn = redis.connection
        assert await within(conn.execute_pubsub("subscribe", a)) == [[b"subscribe", a.encode(), 1]]
        await pub.publish(a, "1")
        # messages to a may come before b's acknowledgement
        acks = conn.execute_pubsub("subscribe", b)
        await pub.publish(a, "2")
        assert await within(acks) == [[b"subscribe", b.encode(), 2]]
        ch = conn.pubsub_channels[a.encode()]
        assert [await within(ch.get()), await within(ch.get())] == [b"1", b"2"]
        assert await within(conn.execute("PING")) == [b"pong", b""]
        await within(conn.execute_pubsub("unsubscribe"))
        assert conn.in_pubsub == 0
        assert await within(conn.execute("ECHO", "back")) == b"back"


# ---------------------------------------------------------------------------
# Python code run while decoding closes the connection
# ---------------------------------------------------------------------------


@pytest.fixture
def closing_codec():
    """A codec (by a name made at run time) whose decode closes ``target[0]``."""
    name = f"aior_closing_{uuid.uuid4().hex}"
    calls, target = [], []

    def decode(data, errors="strict"):
        calls.append(bytes(data))
        target[0].close()
        return bytes(data).decode("latin-1"), len(data)

    def encode(text, errors="strict"):
        return text.encode("latin-1"), len(text)

    def search(wanted):
        return codecs.CodecInfo(encode, decode, name=name) if wanted == name else None

    codecs.register(search)
    yield name, calls, target
    codecs.unregister(search)


async def test_codec_closing_the_connection_while_a_reply_is_built(redis_server, closing_codec):
    name, calls, target = closing_codec
    async with client(redis_server) as redis:
        k = key("list")
        await redis.rpush(k, "a", "b", "c", "d", "e")
        conn = redis.connection
        target.append(conn)
        # a fresh str held only by the waiter: closing the connection frees it
        fut = conn.execute("LRANGE", k, 0, -1, encoding=name.upper().lower())
        with pytest.raises(ConnectionClosedError):
            await within(fut)
        assert calls == [b"a"]  # nothing more is decoded once closed
        assert conn.closed


async def test_codec_closing_the_connection_while_a_scanned_reply_is_built(redis_server, closing_codec):
    # in subscribe mode a reply is scanned, then built for its waiter
    name, calls, target = closing_codec
    async with client(redis_server) as redis:
        conn = redis.connection
        target.append(conn)
        await within(conn.execute_pubsub("subscribe", key("chan")))
        fut = conn.execute("PING", "x", encoding=name.upper().lower())  # not bytes: the codec runs
        with pytest.raises(ConnectionClosedError):
            await within(fut)
        assert len(calls) == 1
        assert conn.closed


# ---------------------------------------------------------------------------
# RESP3 pushes
# ---------------------------------------------------------------------------


async def wait_blocked(other, client_id):
    """Until the client ``client_id`` is blocked in a command (bounded polling)."""
    for _ in range(500):
        info = await other.execute("CLIENT", "LIST", "ID", client_id)
        fields = dict(f.split(b"=", 1) for f in info.split() if b"=" in f)
        if b"b" in fields[b"flags"]:  # "t" (tracking) may be there too
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"client {client_id} never blocked: {info!r}")


async def test_resp3_invalidation_push_goes_to_the_push_handler(redis_server):
    async with client(redis_server) as redis, client(redis_server) as other:
        conn = redis.connection
        k, lst = key("tracked"), key("list")
        await other.set(k, "v1")
        seen = []
        conn.push_handler = seen.append
        hello = await within(conn.execute("HELLO", "3"))
        assert hello[b"proto"] == 3
        assert await within(conn.execute("CLIENT", "TRACKING", "ON")) == b"OK"
        assert await within(conn.execute("GET", k)) == b"v1"
        client_id = await within(conn.execute("CLIENT", "ID"))
        # the invalidation arrives while a command waits for its reply
        blpop = conn.execute("BLPOP", lst, 30)
        await within(wait_blocked(other, client_id))
        await other.set(k, "v2")  # the server pushes an invalidation to conn now
        await other.rpush(lst, "x")
        assert await within(blpop) == [lst.encode(), b"x"]
        assert await within(conn.execute("PING")) == b"PONG"
        assert await within(conn.execute("GET", k)) == b"v2"
        assert await within(conn.execute("ECHO", "x")) == b"x"
        assert seen == [[b"invalidate", [k.encode()]]]
        # without a handler a push is dropped, the replies stay in order
        conn.push_handler = None
        blpop = conn.execute("BLPOP", lst, 30)
        await within(wait_blocked(other, client_id))
        await other.set(k, "v3")
        await other.rpush(lst, "y")
        assert await within(blpop) == [lst.encode(), b"y"]
        assert await within(conn.execute("GET", k)) == b"v3"
        assert seen == [[b"invalidate", [k.encode()]]]
        assert not conn.closed


async def test_resp3_subscribe_acknowledgements_and_messages(redis_server):
    async with client(redis_server) as redis, client(redis_server) as pub:
        conn = redis.connection
        seen = []
        conn.push_handler = seen.append
        await within(conn.execute("HELLO", "3"))
        chan, pattern = key("chan"), key("pat") + ":*"
        assert await within(conn.execute_pubsub("subscribe", chan)) == [[b"subscribe", chan.encode(), 1]]
        assert await within(conn.execute_pubsub("psubscribe", pattern)) == [
            [b"psubscribe", pattern.encode(), 2]
        ]
        await pub.publish(chan, "hello")
        await pub.publish(pattern[:-1] + "x", "world")
        ch, pch = conn.pubsub_channels[chan.encode()], conn.pubsub_patterns[pattern.encode()]
        assert isinstance(ch, Channel)
        assert await within(ch.get()) == b"hello"
        assert await within(pch.get()) == ((pattern[:-1] + "x").encode(), b"world")
        assert await within(conn.execute_pubsub("unsubscribe", chan)) == [[b"unsubscribe", chan.encode(), 1]]
        assert await within(ch.get()) is None  # closed by its acknowledgement
        await within(conn.execute_pubsub("punsubscribe", pattern))
        assert conn.in_pubsub == 0
        assert seen == []


def test_push_handler_must_be_callable():
    from aioredis.connection import RedisConnection

    loop = asyncio.new_event_loop()
    try:
        conn = RedisConnection(loop)
        assert conn.push_handler is None
        with pytest.raises(TypeError):
            conn.push_handler = 42
        conn.push_handler = print
        assert conn.push_handler is print
        del conn.push_handler
        assert conn.push_handler is None
    finally:
        loop.close()


# ---------------------------------------------------------------------------
# SELECT inside MULTI/EXEC
# ---------------------------------------------------------------------------


async def test_failed_select_inside_exec_keeps_db(redis_server):
    async with client(redis_server) as redis:
        conn = redis.connection
        futs = [conn.execute("MULTI"), conn.execute("SELECT", 99999), conn.execute("EXEC")]
        multi, queued, results = await within(asyncio.gather(*futs))
        assert (multi, queued) == (b"OK", b"QUEUED")
        assert len(results) == 1 and isinstance(results[0], ReplyError)
        assert conn.db == 0
        assert await within(conn.execute("ECHO", "x")) == b"x"


async def test_select_inside_exec_applies_by_its_own_entry(redis_server):
    async with client(redis_server) as redis:
        conn = redis.connection
        k = key()
        futs = [
            conn.execute("MULTI"),
            conn.execute("SET", k, "v"),
            conn.execute("INCR", k),  # fails at run time (not an integer)
            conn.execute("SELECT", 2),
            conn.execute("SELECT", 99999),  # fails: db stays 2
            conn.execute("EXEC"),
        ]
        *queued, results = await within(asyncio.gather(*futs, return_exceptions=True))
        if isinstance(results, ReplyError):
            # Valkey checks the index while queueing: the transaction is
            # aborted and neither SELECT ran
            assert isinstance(queued[4], ReplyError) and "EXECABORT" in str(results)
            assert conn.db == 0 and not conn.in_transaction
            await within(conn.execute("SELECT", 2))
        else:  # Redis queues it, and it fails when EXEC runs it
            assert results[0] == results[2] == b"OK"
            assert isinstance(results[1], ReplyError) and isinstance(results[3], ReplyError)
        assert conn.db == 2
        # a nested MULTI is refused and not queued: the places still match
        futs = [
            conn.execute("MULTI"),
            conn.execute("MULTI"),
            conn.execute("SELECT", 3),
            conn.execute("EXEC"),
        ]
        multi, nested, queued, results = await within(asyncio.gather(*futs, return_exceptions=True))
        assert isinstance(nested, ReplyError)
        if isinstance(results, ReplyError):  # Valkey: the nested MULTI aborts the transaction
            assert "EXECABORT" in str(results) and conn.db == 2
            await within(conn.execute("SELECT", 3))
        else:
            assert results == [b"OK"]
        assert conn.db == 3
        # DISCARD: nothing applies
        futs = [conn.execute("MULTI"), conn.execute("SELECT", 4), conn.execute("DISCARD")]
        await within(asyncio.gather(*futs))
        assert conn.db == 3 and not conn.in_transaction
        await within(conn.execute("SELECT", 0))
        assert conn.db == 0



async def test_exec_reply_that_fails_to_decode_with_a_select_queued(redis_server):
    # EXEC ran (SELECT 2 with it) but its array holds a value the caller's
    # encoding cannot decode: the caller gets the UnicodeDecodeError, and
    # the connection must not go on believing it is on db 0
    async with client(redis_server) as redis:
        conn = redis.connection
        k = key()
        assert await within(conn.execute("SET", k, b"\xff")) == b"OK"
        futs = [
            conn.execute("MULTI"),
            conn.execute("GET", k),
            conn.execute("SELECT", 2),
            conn.execute("EXEC", encoding="utf-8"),
        ]
        *_, result = await within(asyncio.gather(*futs, return_exceptions=True))
        assert isinstance(result, UnicodeDecodeError), result
        assert conn.closed or conn.db == 2
        async with client(redis_server) as other:
            await within(other.execute("DEL", k))


def _failing_codec(name):
    if name != "aior_routing_failing":
        return None

    def fail(data, errors="strict"):
        raise ValueError("this codec decodes nothing")

    return codecs.CodecInfo(name=name, encode=codecs.utf_8_encode, decode=fail)


codecs.register(_failing_codec)


async def test_transaction_state_follows_the_server_when_a_reply_fails_to_decode(redis_server):
    # MULTI and QUEUED replies the caller's codec cannot decode: their callers
    # get the codec's error, but the server did start the transaction and
    # queue the command, which is what the state must follow
    async with client(redis_server) as redis:
        conn = redis.connection
        bad = {"encoding": "aior_routing_failing"}
        futs = [
            conn.execute("MULTI", **bad),
            conn.execute("ECHO", "a", **bad),  # QUEUED: place 0 in EXEC's array
            conn.execute("SELECT", 2),
        ]
        multi, echo, queued = await within(asyncio.gather(*futs, return_exceptions=True))
        assert isinstance(multi, ValueError) and isinstance(echo, ValueError)
        assert queued == b"QUEUED"
        assert conn.in_transaction  # the server is in MULTI
        assert await within(conn.execute("EXEC")) == [b"a", b"OK"]
        assert conn.db == 2
