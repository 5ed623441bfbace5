"""RedisConnection against a fake server: what a real redis-server can't do.

Each test runs an ``asyncio.start_server`` on 127.0.0.1:0 whose handler
misbehaves in one specific way (garbage, cut replies, unsolicited replies,
1-byte writes, absurd nesting, huge bulk headers).
"""

import asyncio
import contextlib
import gc
import resource
import time

import pytest

import aioredis
from aioredis import ConnectionClosedError, ProtocolError, ReplyError


async def read_command(reader):
    """Read one RESP array of bulk strings; None at EOF."""
    line = await reader.readline()
    if not line:
        return None
    assert line.startswith(b"*"), line
    args = []
    for _ in range(int(line[1:])):
        header = await reader.readline()
        assert header.startswith(b"$"), header
        data = await reader.readexactly(int(header[1:]) + 2)
        args.append(data[:-2])
    return args


@contextlib.asynccontextmanager
async def fake_server(handler):
    """Serve ``handler(reader, writer)``; yields the (host, port) address.

    Connection errors in the handler are swallowed (the client may go away
    first); any other handler exception is re-raised at exit.
    """
    errors = []
    tasks = set()

    async def wrapped(reader, writer):
        tasks.add(asyncio.current_task())
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    server = await asyncio.start_server(wrapped, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[:2]
    finally:
        server.close()
        await server.wait_closed()
        for t in list(tasks):
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if errors:
        raise errors[0]


async def wait_closed_flag(conn, timeout=2.0):
    deadline = time.monotonic() + timeout
    while not conn.closed:
        assert time.monotonic() < deadline, "connection did not close"
        await asyncio.sleep(0.005)


def assert_execute_raises_closed(conn):
    with pytest.raises(ConnectionClosedError):
        conn.execute("PING")


async def gather_exc(futures, timeout=5.0):
    return await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), timeout)


# ---------------------------------------------------------------------------


async def test_garbage_reply_protocol_error():
    got_commands = asyncio.Event()

    async def handler(reader, writer):
        await read_command(reader)
        got_commands.set()
        writer.write(b"?this is not RESP\r\n")
        await writer.drain()
        await reader.read()  # wait for the client to hang up

    async with fake_server(handler) as address:
        conn = await aioredis.create_connection(address)
        futs = [conn.execute("PING"), conn.execute("GET", "a"), conn.execute("ECHO", "b")]
        results = await gather_exc(futs)
        for res in results:
            assert isinstance(res, ProtocolError), res
        assert conn.closed is True
        assert conn.transport is None or conn.transport.is_closing()
        assert_execute_raises_closed(conn)
        await asyncio.wait_for(conn.wait_closed(), 5)


async def test_garbage_after_valid_reply():
    async def handler(reader, writer):
        await read_command(reader)
        await read_command(reader)
        writer.write(b"+OK\r\n:12\r\n")  # fine replies ...
        writer.write(b"$abc\r\n")  # ... then an invalid bulk length
        await writer.drain()
        await reader.read()

    async with fake_server(handler) as address:
        conn = await aioredis.create_connection(address)
        futs = [conn.execute("SET", "a", "b"), conn.execute("INCR", "n"), conn.execute("GET", "a")]
        results = await gather_exc(futs)
        assert results[0] == b"OK"
        assert results[1] == 12
        assert isinstance(results[2], ProtocolError), results[2]
        await wait_closed_flag(conn)
        assert_execute_raises_closed(conn)
        await asyncio.wait_for(conn.wait_closed(), 5)


async def test_cut_mid_reply_connection_closed_error():
    async def handler(reader, writer):
        await read_command(reader)
        writer.write(b"$10\r\nabc")
        await writer.drain()
        # returning closes the connection mid-reply

    async with fake_server(handler) as address:
        conn = await aioredis.create_connection(address)
        futs = [conn.execute("GET", "x"), conn.execute("PING")]
        results = await gather_exc(futs)
        for res in results:
            assert isinstance(res, ConnectionClosedError), res
            assert not isinstance(res, aioredis.ConnectionForcedCloseError), res
        await wait_closed_flag(conn)
        assert_execute_raises_closed(conn)
        await asyncio.wait_for(conn.wait_closed(), 5)


async def test_cut_mid_array():
    async def handler(reader, writer):
        await read_command(reader)
        writer.write(b"*3\r\n$1\r\na\r\n:5\r\n")  # 2 of 3 elements
        await writer.drain()

    async with fake_server(handler) as address:
        conn = await aioredis.create_connection(address)
        with pytest.raises(ConnectionClosedError):
            await asyncio.wait_for(conn.execute("LRANGE", "l", 0, -1), 5)
        await wait_closed_flag(conn)
        assert_execute_raises_closed(conn)


async def test_unsolicited_reply():
    async def handler(reader, writer):
        writer.write(b"+SURPRISE\r\n")  # nothing was asked
        await writer.drain()
        await reader.read()

    async with fake_server(handler) as address:
        conn = await aioredis.create_connection(address)
        await wait_closed_flag(conn)
        assert_execute_raises_closed(conn)
        await asyncio.wait_for(conn.wait_closed(), 5)


@pytest.mark.parametrize(
    "head, rest",
    [
        (b"$5\r\nhel", b"lo\r\n"),
        # a large bulk: the rest would be read straight into its own object
        (b"$1048579\r\n" + b"x" * 65536, b"x" * (1048579 - 65536) + b"\r\n"),
    ],
    ids=["small", "large"],
)
async def test_unsolicited_reply_begun_before_a_command_is_nobodys(head, rest):
    # a reply whose first bytes came while no command was pending cannot be
    # the reply of a command sent later: it must not resolve it
    got_command = asyncio.Event()

    async def handler(reader, writer):
        writer.write(head)
        await writer.drain()
        if await read_command(reader) is not None:
            got_command.set()
            writer.write(rest + b"+OK\r\n")
            await writer.drain()
        await reader.read()

    async with fake_server(handler) as address:
        conn = await aioredis.create_connection(address)
        await asyncio.sleep(0.05)  # the head has arrived
        try:
            fut = conn.execute("GET", "k")
        except ConnectionClosedError:
            pass  # judged at the first byte: the connection is already closed
        else:
            with pytest.raises(ConnectionClosedError):
                await asyncio.wait_for(fut, 5)
        await wait_closed_flag(conn)
        assert_execute_raises_closed(conn)
        await asyncio.wait_for(conn.wait_closed(), 5)


async def test_extra_reply_after_answered_command():
    async def handler(reader, writer):
        await read_command(reader)
        writer.write(b"+PONG\r\n+EXTRA\r\n")
        await writer.drain()
        await reader.read()

    async with fake_server(handler) as address:
        conn = await aioredis.create_connection(address)
        fut = conn.execute("PING")
        try:
            assert await asyncio.wait_for(fut, 5) == b"PONG"
        except ProtocolError:
            pass  # also acceptable: the whole chunk was judged at once
        await wait_closed_flag(conn)
        assert_execute_raises_closed(conn)


async def test_one_byte_writes():
    replies = [
        b"+OK\r\n",
        b"-ERR something bad\r\n",
        b":-12345\r\n",
        b"$-1\r\n",
        b"$12\r\nhello\r\nworld\r\n",
        b"*-1\r\n",
        b"*0\r\n",
        b"*4\r\n$1\r\na\r\n*2\r\n:1\r\n$0\r\n\r\n$-1\r\n+st\r\n",
    ]
    expected = [b"OK", ReplyError, -12345, None, b"hello\r\nworld", None, [], [b"a", [1, b""], None, b"st"]]

    async def handler(reader, writer):
        for reply in replies:
            await read_command(reader)
            for i in range(len(reply)):
                writer.write(reply[i : i + 1])
                await writer.drain()
                await asyncio.sleep(0.0005)
        await reader.read()

    async with fake_server(handler) as address:
        conn = await aioredis.create_connection(address)
        futs = [conn.execute("CMD", i) for i in range(len(replies))]
        results = await gather_exc(futs, timeout=10)
        for res, exp in zip(results, expected):
            if exp is ReplyError:
                assert isinstance(res, ReplyError) and res.args[0] == "ERR something bad", res
            else:
                assert res == exp
        assert conn.closed is False
        conn.close()
        await asyncio.wait_for(conn.wait_closed(), 5)


async def test_one_byte_writes_with_encoding():
    reply = "$6\r\nh\xe9\xe9h\r\n".encode("utf-8")  # 6 bytes; 1-byte writes split the UTF-8 sequences

    async def handler(reader, writer):
        await read_command(reader)
        for i in range(len(reply)):
            writer.write(reply[i : i + 1])
            await writer.drain()
            await asyncio.sleep(0.0005)
        await reader.read()

    async with fake_server(handler) as address:
        conn = await aioredis.create_connection(address, encoding="utf-8")
        assert await asyncio.wait_for(conn.execute("GET", "k"), 5) == "h\xe9\xe9h"
        conn.close()
        await conn.wait_closed()


@pytest.mark.parametrize("depth", [2000, 100000])
async def test_deep_nesting_protocol_error(depth):
    async def handler(reader, writer):
        await read_command(reader)
        writer.write(b"*1\r\n" * depth + b":1\r\n")
        await writer.drain()
        await reader.read()

    async with fake_server(handler) as address:
        conn = await aioredis.create_connection(address)
        with pytest.raises(ProtocolError):
            await asyncio.wait_for(conn.execute("GET", "x"), 5)
        await wait_closed_flag(conn)
        assert_execute_raises_closed(conn)


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


@pytest.mark.parametrize(
    "reply, command, flat_map, traced_limit",
    [
        (b"$400000000\r\nabc", ("GET", "big"), False, 50 << 20),  # a bulk string
        # an HGETALL reply, built as a dict from the flat array as it arrives
        (b"*4294967294\r\n$1\r\na\r\n$1\r\nb\r\n", ("HGETALL", "h"), True, 10 << 20),
    ],
    ids=["bulk", "flat-map"],
)
async def test_huge_declared_length_no_preallocation(reply, command, flat_map, traced_limit):
    import tracemalloc

    from aioredis.commands._convert import pairs_to_dict

    async def handler(reader, writer):
        await read_command(reader)
        writer.write(reply)
        await writer.drain()
        await asyncio.sleep(0.05)
        # then close

    kwargs = {"convert": pairs_to_dict} if flat_map else {}
    gc.collect()
    rss_before = _rss_bytes()
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    try:
        async with fake_server(handler) as address:
            conn = await aioredis.create_connection(address)
            with pytest.raises(ConnectionClosedError):
                await asyncio.wait_for(conn.execute(*command, **kwargs), 5)
            await wait_closed_flag(conn)
            assert_execute_raises_closed(conn)
        _, traced_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_growth = _rss_bytes() - rss_before
    maxrss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - maxrss_before
    limit = 50 * 1024 * 1024
    assert rss_growth < limit, f"RSS grew by {rss_growth / 1e6:.1f} MB"
    assert maxrss_growth < limit, f"peak RSS grew by {maxrss_growth / 1e6:.1f} MB"
    # Python-level allocations (e.g. a bytes object or dict preallocated from
    # the header) would show here even if their pages were never touched.
    assert traced_peak < traced_limit, f"traced allocations peaked at {traced_peak / 1e6:.1f} MB"


async def test_non_utf8_error_reply_keeps_stream_in_sync():
    async def handler(reader, writer):
        await read_command(reader)
        await read_command(reader)
        writer.write(b"-ERR bad \xff\xfe bytes\r\n+OK\r\n")
        await writer.drain()
        await reader.read()

    async with fake_server(handler) as address:
        conn = await aioredis.create_connection(address)
        futs = [conn.execute("X"), conn.execute("Y")]
        res = await gather_exc(futs)
        assert isinstance(res[0], ReplyError), res[0]
        assert isinstance(res[0].args[0], str) and res[0].args[0].startswith("ERR bad ")
        assert res[1] == b"OK"
        assert conn.closed is False
        conn.close()
        await conn.wait_closed()


async def test_reply_split_across_reads_at_every_offset():
    """The same pipelined replies, cut at every possible byte offset."""
    long_error = "ERR " + "x" * 300
    payload = b"+OK\r\n$5\r\nab\r\nc\r\n*2\r\n:7\r\n$-1\r\n-" + long_error.encode() + b"\r\n"
    expected = [b"OK", b"ab\r\nc", [7, None]]
    cuts = list(range(1, len(payload)))
    n = 0

    async def handler(reader, writer):
        for cut in cuts:
            for _ in range(4):
                await read_command(reader)
            writer.write(payload[:cut])
            await writer.drain()
            await asyncio.sleep(0.001)
            writer.write(payload[cut:])
            await writer.drain()
        await reader.read()

    async with fake_server(handler) as address:
        conn = await aioredis.create_connection(address)
        for cut in cuts:
            futs = [conn.execute("C", i) for i in range(4)]
            res = await gather_exc(futs)
            assert res[:3] == expected, (cut, res)
            assert isinstance(res[3], ReplyError) and res[3].args[0] == long_error, (cut, res)
            n += 1
        conn.close()
        await conn.wait_closed()
    assert n == len(cuts)


async def _replies_for(payloads, *requests):
    """Serve each request with the next payload, written in 3-byte pieces
    (so every reply is built across many reads); run the requests."""

    async def handler(reader, writer):
        for payload in payloads:
            await read_command(reader)
            for i in range(0, len(payload), 3):
                writer.write(payload[i : i + 3])
                await writer.drain()
        await asyncio.sleep(0.2)

    async with fake_server(handler) as address:
        conn = await aioredis.create_connection(address)
        try:
            return await gather_exc([conn.execute(*args, **kw) for args, kw in requests])
        finally:
            conn.close()


async def test_flat_map_replies_built_as_dict_while_arriving():
    from aioredis.commands._convert import pairs_to_dict

    results = await _replies_for(
        [
            b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n:2\r\n",
            b"*3\r\n$1\r\na\r\n$1\r\n1\r\n$3\r\nodd\r\n",  # odd: a list, paired as zip() would
            b"*4\r\n$1\r\na\r\n$2\r\n\xff\xfe\r\n$1\r\nb\r\n$1\r\n2\r\n",  # not UTF-8
            b"*2\r\n*1\r\n:1\r\n$1\r\nv\r\n",  # an unhashable key
            b"+still in sync\r\n",
        ],
        (("HGETALL", "h"), {"convert": pairs_to_dict}),
        (("HGETALL", "h"), {"convert": pairs_to_dict}),
        (("HGETALL", "h"), {"convert": pairs_to_dict, "encoding": "utf-8"}),
        (("HGETALL", "h"), {"convert": pairs_to_dict}),
        (("PING",), {}),
    )
    assert results[0] == {b"a": b"1", b"b": 2}
    assert results[1] == {b"a": b"1"}
    assert isinstance(results[2], UnicodeDecodeError)
    assert isinstance(results[3], TypeError)
    assert results[4] == b"still in sync"


# ---------------------------------------------------------------------------
# replies the parser accepts but no waiter can take as they are
# ---------------------------------------------------------------------------


def _serve_each(payload, n_commands):
    """A handler answering each of n_commands commands with payload."""

    async def handler(reader, writer):
        for _ in range(n_commands):
            if await read_command(reader) is None:
                return
            writer.write(payload)
            await writer.drain()
        await reader.read()

    return handler


async def test_null_blob_error_is_a_protocol_error():
    # "!-1" parses (to None) but is no error: it used to hang its caller
    async with fake_server(_serve_each(b"!-1\r\n", 2)) as address:
        conn = await aioredis.create_connection(address)
        results = await gather_exc([conn.execute("GET", "a"), conn.execute("GET", "b")])
        assert isinstance(results[0], ProtocolError), results[0]
        assert isinstance(results[1], (ProtocolError, ConnectionClosedError)), results[1]
        await wait_closed_flag(conn)
        assert_execute_raises_closed(conn)


async def test_null_blob_error_in_a_pipeline_is_a_protocol_error():
    # in a pipeline it used to raise SystemError
    async with fake_server(_serve_each(b"!-1\r\n", 2)) as address:
        redis = await aioredis.create_redis(address)
        pipe = redis.pipeline()
        futs = [pipe.get("a"), pipe.get("b")]
        results = await asyncio.wait_for(pipe.execute(return_exceptions=True), 5)
        assert isinstance(results[0], ProtocolError), results
        assert isinstance(results[1], (ProtocolError, ConnectionClosedError)), results
        assert isinstance(futs[0].exception(), ProtocolError)
        redis.close()
        await redis.wait_closed()


async def test_push_never_resolves_a_plain_command():
    # an invalidation and a subscribe-like push come before GET's reply: only
    # the reply is GET's; the pushes go to push_handler
    invalidate = b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n"
    ack_like = b">3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n"
    null_push = b">-1\r\n"  # carries nothing: not even the handler sees it
    async with fake_server(_serve_each(invalidate + null_push + ack_like + b"$1\r\nv\r\n", 2)) as address:
        conn = await aioredis.create_connection(address)
        seen = []
        conn.push_handler = seen.append
        assert await asyncio.wait_for(conn.execute("GET", "a"), 5) == b"v"
        assert seen == [[b"invalidate", [b"a"]], [b"subscribe", b"c", 1]]
        conn.push_handler = None  # dropped
        assert await asyncio.wait_for(conn.execute("GET", "a"), 5) == b"v"
        assert not conn.closed
        conn.close()
        await conn.wait_closed()


async def test_message_like_array_with_odd_items_is_dropped():
    # subscribed: a "message" array whose channel is not bytes is nobody's
    async def handler(reader, writer):
        await read_command(reader)
        writer.write(b"*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n")
        writer.write(b"*3\r\n$7\r\nmessage\r\n*1\r\n:1\r\n$1\r\nx\r\n")
        writer.write(b"*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$7\r\npayload\r\n")
        await writer.drain()
        await reader.read()

    async with fake_server(handler) as address:
        conn = await aioredis.create_connection(address)
        assert await asyncio.wait_for(conn.execute_pubsub("subscribe", "c"), 5) == [[b"subscribe", b"c", 1]]
        ch = conn.pubsub_channels[b"c"]
        assert await asyncio.wait_for(ch.get(), 5) == b"payload"
        assert not conn.closed
        conn.close()
        await conn.wait_closed()
