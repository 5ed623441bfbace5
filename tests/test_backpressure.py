"""Flow control (issue 12, item 7), against real redis-servers.

Writing: ``conn.drain()`` waits while the transport has paused writing. A
real server is made to stop reading with SIGSTOP (a dedicated one, continued
in a ``finally``; ``CLIENT PAUSE`` does not stop the server reading).

Reading: a full pub/sub queue (``maxsize``) pauses reading the connection,
so the backlog stays in the server (its ``CLIENT LIST`` shows the
subscriber's output buffer growing) and nothing is dropped by the client.
"""

import asyncio
import contextlib
import os
import signal
import uuid

import pytest
from helpers import auth_kwargs

import aioredis
from aioredis import ConnectionClosedError
from aioredis.pubsub import DEFAULT_MAXSIZE, Channel, Receiver

# how long an awaitable may stay unresolved before the test calls it a hang
HANG = 10

LOOPS = [pytest.param("asyncio"), pytest.param("uvloop", marks=pytest.mark.uvloop)]

# A full queue stops reading, but what the read that filled it brought still
# joins it: one read fills the parser's free space, at most about two read
# chunks of 64 KiB (asyncio's and libuv's reads alike). Messages are big so
# that this is a few messages.
PAYLOAD = 16 * 1024
PER_READ = 256 * 1024 // PAYLOAD + 1


def unique(name):
    return f"backpressure:{name}:{uuid.uuid4().hex[:8]}"


def message(i):
    return b"%06d:" % i + b"x" * (PAYLOAD - 7)


def number(msg):
    return int(msg[:6])


@contextlib.contextmanager
def stopped(server):
    """The server process stopped (it reads nothing) until the block ends."""
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        if server.proc.poll() is None:
            os.kill(server.proc.pid, signal.SIGCONT)


async def settle(n=20):
    for _ in range(n):
        await asyncio.sleep(0)


async def fill_until_writing_paused(conn):
    """Queue SETs of 256 KiB (replies not awaited) until the transport
    pauses writing; returns their futures."""
    value = b"v" * (256 * 1024)
    futures = []
    for i in range(2000):  # at most 500 MiB: far beyond any socket buffer
        futures.append(conn.execute(b"SET", b"bp:%d" % i, value))
        await asyncio.sleep(0)  # let the transport try to write
        if conn.writing_paused:
            return futures
    pytest.fail("the transport never paused writing")


def client_info(server, client_id):
    line = server.command("CLIENT", "LIST", "ID", client_id)
    if isinstance(line, bytes):
        line = line.decode()
    return dict(field.split("=", 1) for field in line.split())


# ---------------------------------------------------------------- writing


async def test_drain_returns_at_once_when_not_paused(redis_server):
    redis = await aioredis.create_redis(redis_server.tcp_address, **auth_kwargs(redis_server))
    try:
        conn = redis.connection
        assert not conn.writing_paused
        await conn.drain()
        fut = redis.set(unique("k"), "v")
        await redis.connection.drain()  # reachable from a Redis on one connection
        assert await fut is True
    finally:
        redis.close()
        await redis.wait_closed()
    with pytest.raises(ConnectionClosedError):
        await conn.drain()


@contextlib.asynccontextmanager
async def blocked_writer(start_redis):
    """A connection to a dedicated server stopped with SIGSTOP, its
    transport paused writing, three drain() calls waiting on it: yields
    (server, conn, futures of the queued SETs, the drain tasks)."""
    server = start_redis()
    conn = await aioredis.create_connection(server.unix_path)
    try:
        with stopped(server):
            futures = await fill_until_writing_paused(conn)
            drains = [asyncio.ensure_future(conn.drain()) for _ in range(3)]
            await settle()
            assert not any(d.done() for d in drains)  # the server reads nothing: no room
            assert conn.writing_paused
            yield server, conn, futures, drains
    finally:
        conn.close()
        await asyncio.wait_for(conn.wait_closed(), HANG)


@pytest.mark.parametrize("loop_kind", LOOPS)
async def test_drain_waits_until_a_stopped_server_reads_again(start_redis, loop_kind):
    async with blocked_writer(start_redis) as (server, conn, futures, drains):
        os.kill(server.proc.pid, signal.SIGCONT)
        # the server reads, the transport resumes, every drain returns
        assert await asyncio.wait_for(asyncio.gather(*drains), HANG) == [None] * 3
        assert not conn.writing_paused
        replies = await asyncio.wait_for(asyncio.gather(*futures), HANG)
        assert replies == [b"OK"] * len(futures)
        await conn.drain()


@pytest.mark.parametrize("loop_kind", LOOPS)
async def test_drain_raises_when_the_connection_is_lost_while_waiting(start_redis, loop_kind):
    async with blocked_writer(start_redis) as (server, conn, futures, drains):
        server.kill()  # SIGKILL ends even a stopped process: the socket goes
        for d in drains:
            with pytest.raises(ConnectionClosedError):
                await asyncio.wait_for(d, HANG)
        results = await asyncio.gather(*futures, return_exceptions=True)
        assert all(isinstance(r, ConnectionClosedError) for r in results)
        await asyncio.wait_for(conn.wait_closed(), HANG)


@pytest.mark.parametrize("loop_kind", LOOPS)
async def test_close_while_writing_paused_ends_drain_and_wait_closed(start_redis, loop_kind):
    async with blocked_writer(start_redis) as (server, conn, futures, drains):
        conn.close()
        for d in drains:
            with pytest.raises(ConnectionClosedError):
                await asyncio.wait_for(d, HANG)
        # the server still reads nothing: the close must not wait for it
        await asyncio.wait_for(conn.wait_closed(), HANG)
        results = await asyncio.gather(*futures, return_exceptions=True)
        assert all(isinstance(r, ConnectionClosedError) for r in results)


# ---------------------------------------------------------------- reading


async def connect_subscriber(server):
    """A Redis over the unix socket (small kernel buffers: the backlog
    shows in the server), and its client id."""
    sub = await aioredis.create_redis(server.unix_path, **auth_kwargs(server))
    client_id = await sub.execute(b"CLIENT", b"ID")
    return sub, client_id


async def publish_all(pub, names, numbers):
    """Publish message(i) for each i to names[i % len(names)] (or to the one
    name); returns the receiver counts."""
    names = [names] if isinstance(names, str) else names
    numbers = list(numbers)
    counts = []
    for start in range(0, len(numbers), 50):
        counts += await asyncio.gather(*(pub.publish(names[i % len(names)], message(i))
                                         for i in numbers[start:start + 50]))
    return counts


@contextlib.asynccontextmanager
async def sub_and_pub(server):
    """(subscriber, its client id, publisher), both closed at the end."""
    sub, client_id = await connect_subscriber(server)
    pub = await aioredis.create_redis(server.tcp_address, **auth_kwargs(server))
    try:
        yield sub, client_id, pub
    finally:
        for r in (sub, pub):
            r.close()
            await r.wait_closed()


async def wait_reading_paused(conn):
    async with asyncio.timeout(HANG):
        while not conn.reading_paused:
            await asyncio.sleep(0.005)


def test_default_bound_and_knob():
    assert DEFAULT_MAXSIZE == 10_000
    assert Channel("a", False).maxsize == DEFAULT_MAXSIZE
    assert Channel("a", False, maxsize=None).maxsize is None
    assert Channel("a", False, maxsize=0).maxsize is None
    assert Receiver(maxsize=3).maxsize == 3
    for bad in (-1, 1.5, "10"):
        with pytest.raises(ValueError):
            Channel("a", False, maxsize=bad)


async def test_connection_knob_sizes_the_channels_it_makes(redis_server, unix_path):
    async with sub_and_pub(redis_server) as (sub, _, _pub):
        assert sub.connection.pubsub_maxsize == DEFAULT_MAXSIZE
        sub.connection.pubsub_maxsize = 7
        (ch,) = await sub.subscribe(unique("knob"))
        assert ch.maxsize == 7
        sub.connection.pubsub_maxsize = None
        (unbounded,) = await sub.psubscribe(unique("knob") + "*")
        assert unbounded.maxsize is None
        own = Channel(unique("own"), False, maxsize=3)
        (same,) = await sub.subscribe(own)
        assert same is own and own.maxsize == 3


@pytest.mark.parametrize("loop_kind", LOOPS)
async def test_full_channel_pauses_reading_backlog_stays_in_server(redis_server, unix_path, loop_kind):
    name = unique("slow")
    maxsize, total = 50, 400  # 6.4 MiB: far more than the socket buffers
    async with sub_and_pub(redis_server) as (sub, client_id, pub):
        ch = Channel(name, False, maxsize=maxsize)
        await sub.subscribe(ch)
        conn = sub.connection
        assert set(await publish_all(pub, name, range(total))) == {1}
        await wait_reading_paused(conn)
        assert maxsize <= ch.qsize() <= maxsize + PER_READ
        info = client_info(redis_server, client_id)
        # the rest waits in the server, in the subscriber's output buffer
        assert int(info["omem"]) > 0 and int(info["oll"]) + int(info["obl"]) > 0
        got, most = [], ch.qsize()
        while len(got) < total:
            got.append(number(await asyncio.wait_for(ch.get(), HANG)))
            most = max(most, ch.qsize())
        assert got == list(range(total))  # all of them, in order
        assert most <= maxsize + PER_READ
        assert ch.qsize() == 0 and not conn.reading_paused
        assert int(client_info(redis_server, client_id)["omem"]) == 0
        # the connection is in sync: an acknowledgement still comes
        await asyncio.wait_for(sub.unsubscribe(name), HANG)
        assert await ch.get() is None


async def test_reading_resumes_only_when_no_queue_is_full(redis_server, unix_path):
    async with sub_and_pub(redis_server) as (sub, _, _pub):
        a, b = Channel(unique("a"), False, maxsize=4), Channel(unique("b"), False, maxsize=4)
        await sub.subscribe(a, b)
        conn = sub.connection
        # what the protocol does with each message: put_nowait
        for i in range(4):
            a.put_nowait(b"a%d" % i)
        assert conn.reading_paused
        for i in range(5):
            b.put_nowait(b"b%d" % i)
        assert conn.reading_paused
        assert [await a.get() for _ in range(3)] == [b"a0", b"a1", b"a2"]
        assert conn.reading_paused  # a has room, b is still full
        assert [await b.get() for _ in range(2)] == [b"b0", b"b1"]
        assert conn.reading_paused  # 3 left of 4: above half
        assert await b.get() == b"b2"
        assert not conn.reading_paused  # half: none is full any more
        assert await asyncio.wait_for(sub.ping(), HANG) == [b"pong", b""]


@pytest.mark.parametrize("loop_kind", LOOPS)
async def test_several_channels_and_a_pattern_all_delivered_in_order(redis_server, unix_path, loop_kind):
    prefix = unique("multi")
    names = [prefix + ":a", prefix + ":b"]
    total = 300
    async with sub_and_pub(redis_server) as (sub, _, pub):
        channels = [Channel(n, False, maxsize=20) for n in names]
        pattern = Channel(prefix + ":*", True, maxsize=30)
        await sub.subscribe(*channels)
        await sub.psubscribe(pattern)
        await publish_all(pub, names, range(total))
        await wait_reading_paused(sub.connection)
        got = {n.encode(): [] for n in names}
        from_pattern = []
        most = {}

        async def consume(ch, count, out):
            for _ in range(count):
                msg = await ch.get()
                if ch.is_pattern:
                    dest, msg = msg
                    out.append((dest, number(msg)))
                else:
                    out.append(number(msg))
                most[ch] = max(most.get(ch, 0), ch.qsize())

        # a consumer per queue (one alone would wait for ever: reading stays
        # paused while another queue is full)
        await asyncio.wait_for(asyncio.gather(
            consume(pattern, total, from_pattern),
            *(consume(ch, total // 2, got[ch.name]) for ch in channels)), HANG)
        assert got[names[0].encode()] == list(range(0, total, 2))
        assert got[names[1].encode()] == list(range(1, total, 2))
        assert from_pattern == [(names[i % 2].encode(), i) for i in range(total)]
        for ch, n in most.items():
            assert n <= ch.maxsize + PER_READ
        assert not sub.connection.reading_paused


@pytest.mark.parametrize("loop_kind", LOOPS)
async def test_bounded_receiver_pauses_reading_and_loses_nothing(redis_server, unix_path, loop_kind):
    prefix = unique("recv")
    names = [prefix + ":a", prefix + ":b"]
    total = 300
    async with sub_and_pub(redis_server) as (sub, client_id, pub):
        mpsc = Receiver(maxsize=40)
        await sub.subscribe(*(mpsc.channel(n) for n in names))
        await publish_all(pub, names, range(total))
        await wait_reading_paused(sub.connection)
        assert mpsc.qsize() <= 40 + PER_READ
        assert int(client_info(redis_server, client_id)["omem"]) > 0
        got, most = [], 0
        for _ in range(total):
            sender, msg = await asyncio.wait_for(mpsc.get(), HANG)
            got.append((sender.name, number(msg)))
            most = max(most, mpsc.qsize())
        assert got == [(names[i % 2].encode(), i) for i in range(total)]
        assert most <= 40 + PER_READ
        assert not sub.connection.reading_paused


async def test_unsubscribe_while_paused_completes_and_keeps_every_message(redis_server, unix_path):
    name = unique("unsub")
    total = 200
    async with sub_and_pub(redis_server) as (sub, _, pub):
        ch = Channel(name, False, maxsize=10)
        await sub.subscribe(ch)
        await publish_all(pub, name, range(total))
        await wait_reading_paused(sub.connection)
        # the acknowledgement is behind the backlog: unsubscribing releases the hold
        await asyncio.wait_for(sub.unsubscribe(name), HANG)
        assert not sub.connection.reading_paused
        assert [number(m) async for m in ch] == list(range(total))


@pytest.mark.parametrize("kind", ["channel", "receiver"])
async def test_closing_a_full_queue_resumes_reading(redis_server, unix_path, kind):
    prefix = unique("closech")
    async with sub_and_pub(redis_server) as (sub, _, pub):
        other = Channel(prefix + ":other", False)
        if kind == "channel":
            full = Channel(prefix + ":full", False, maxsize=10)
            await sub.subscribe(full, other)
        else:
            full = Receiver(maxsize=10)
            await sub.subscribe(full.channel(prefix + ":full"), other)
        await publish_all(pub, prefix + ":full", range(100))
        await wait_reading_paused(sub.connection)
        queued = full.qsize()
        full.close() if kind == "channel" else full.stop()
        assert not sub.connection.reading_paused
        assert await pub.publish(prefix + ":other", "after") == 1
        assert await asyncio.wait_for(other.get(), HANG) == b"after"
        got = [number(m if kind == "channel" else m[1]) async for m in full.iter()]
        assert got == list(range(queued))


@pytest.mark.parametrize("loop_kind", LOOPS)
async def test_closing_the_connection_while_paused_ends_every_reader(redis_server, unix_path, loop_kind):
    prefix = unique("closeconn")
    async with sub_and_pub(redis_server) as (sub, _, pub):
        full = Channel(prefix + ":full", False, maxsize=10)
        mpsc = Receiver(maxsize=10)
        other = Channel(prefix + ":other", False)
        await sub.subscribe(full, other, mpsc.channel(prefix + ":r"))
        await publish_all(pub, prefix + ":full", range(100))
        await wait_reading_paused(sub.connection)
        readers = [asyncio.ensure_future(other.get()), asyncio.ensure_future(mpsc.get())]
        await settle()
        queued = full.qsize()
        sub.close()
        await asyncio.wait_for(sub.wait_closed(), HANG)
        assert await asyncio.wait_for(asyncio.gather(*readers), HANG) == [None, None]
        assert [number(m) async for m in full] == list(range(queued))
        conn = sub.connection
        assert not conn.reading_paused
        # the queue-to-connection references went with the close (no cycle left)
        assert conn._read_holds == set()
        assert full._queue._gates == {} and mpsc._queue._gates == {}


@pytest.mark.parametrize("loop_kind", LOOPS)
@pytest.mark.parametrize("kind", ["channel", "receiver"])
async def test_server_output_buffer_limit_disconnects_slow_subscriber(start_redis, kind, loop_kind):
    server = start_redis()
    server.command("CONFIG", "SET", "client-output-buffer-limit", "pubsub 256kb 0 0")
    name = unique("limit")
    total = 400
    async with sub_and_pub(server) as (sub, _, pub):
        if kind == "channel":
            source = Channel(name, False, maxsize=10)
            await sub.subscribe(source)
        else:
            source = Receiver(maxsize=10)
            await sub.subscribe(source.channel(name))
        counts = await publish_all(pub, name, range(total))
        # the server drops the subscriber once its backlog passes 256 KiB
        # (Redis at once, so the last PUBLISH reaches nobody; Valkey may
        # count it a little longer): the iteration below must then end
        assert counts[0] == 1
        got = []
        async with asyncio.timeout(HANG):
            async for item in source.iter():
                got.append(number(item if kind == "channel" else item[1]))
        assert got == list(range(len(got))) and 0 < len(got) < total
        assert sub.closed
