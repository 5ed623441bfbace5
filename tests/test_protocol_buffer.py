"""The protocol's BufferedProtocol side (get_buffer / buffer_updated), driven
by hand with a fake transport: no server needed. Run under ASan in CI, so a
view that outlived a buffer move would show up as a use-after-free."""

import asyncio
import gc

import pytest

from aioredis.connection import RedisConnection


class FakeTransport:
    def __init__(self):
        self.written = []
        self.closed = False

    def write(self, data):
        self.written.append(bytes(data))

    def close(self):
        self.closed = True

    def get_extra_info(self, name, default=None):
        return default


def feed(conn, data, chunk=65536):
    """Deliver ``data`` the way asyncio's selector transport does."""
    for i in range(0, len(data), chunk):
        part = data[i : i + chunk]
        view = conn.get_buffer(-1)
        assert len(view) >= len(part) or len(view) >= 1
        n = min(len(view), len(part))
        view[:n] = part[:n]
        conn.buffer_updated(n)
        del view
        if n < len(part):
            feed(conn, part[n:], chunk)


async def connected():
    loop = asyncio.get_running_loop()
    conn = RedisConnection(loop)
    conn.connection_made(FakeTransport())
    return conn


def test_is_a_buffered_protocol():
    assert issubclass(RedisConnection, asyncio.BufferedProtocol)


async def test_replies_through_buffer_views():
    conn = await connected()
    futs = [conn.execute("GET", f"k{i}") for i in range(3)]
    await asyncio.sleep(0)
    assert conn.transport.written  # one flush for the three commands
    big = b"x" * (1 << 20)
    feed(conn, b"$3\r\nabc\r\n$-1\r\n$%d\r\n%s\r\n" % (len(big), big), chunk=7919)
    assert await asyncio.gather(*futs) == [b"abc", None, big]
    conn.close()


async def test_a_view_kept_alive_across_a_buffer_move():
    conn = await connected()
    fut = conn.execute("GET", "k")
    old = conn.get_buffer(-1)  # kept alive, as a traceback could keep it
    old[:5] = b"$300000"[:5]
    conn.buffer_updated(5)  # "$3000" so far
    payload = b"y" * 300000
    feed(conn, b"00\r\n" + payload + b"\r\n")  # the buffer grows: it must move
    assert await fut == payload
    old[:3] = b"abc"  # writes into the retired block: still valid memory
    del old
    gc.collect()
    fut = conn.execute("PING")
    feed(conn, b"+PONG\r\n")
    assert await fut == b"PONG"
    conn.close()


async def test_buffer_updated_bounds():
    conn = await connected()
    view = conn.get_buffer(-1)
    with pytest.raises(ValueError):
        conn.buffer_updated(len(view) + 1)
    with pytest.raises(ValueError):
        conn.buffer_updated(-1)
    del view
    conn.close()


async def test_protocol_error_through_buffer_views_fails_pending():
    conn = await connected()
    fut = conn.execute("GET", "k")
    feed(conn, b"?garbage\r\n")
    with pytest.raises(Exception) as info:
        await fut
    assert type(info.value).__name__ == "ProtocolError"
    assert conn.closed and conn.transport.closed


def _measure_peak(func):
    import tracemalloc

    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("buffered", [True, False])
async def test_large_reply_goes_straight_into_its_object(buffered):
    size = 20 * 1024 * 1024
    payload = bytes(range(256)) * (size // 256)
    reply = b"$%d\r\n%s\r\n+OK\r\n" % (size, payload)
    conn = await connected()
    futs = [conn.execute("GET", "big"), conn.execute("PING")]

    def deliver():
        if buffered:
            feed(conn, reply)
        else:
            for i in range(0, len(reply), 65536):
                conn.data_received(reply[i : i + 65536])

    peak = _measure_peak(deliver)
    result = await futs[0]
    assert result == payload and type(result) is bytes
    assert await futs[1] == b"OK"
    # grows with what arrived, never a second full copy
    assert peak < 1.3 * size, peak / size
    conn.close()


async def test_large_reply_decoded_and_checked():
    size = 2 * 1024 * 1024
    conn = await connected()
    fut = conn.execute("GET", "k", encoding="utf-8")
    feed(conn, b"$%d\r\n%s\r\n" % (size, b"\xc3\xa9" * (size // 2)))
    assert await fut == "\xe9" * (size // 2)
    bad = conn.execute("GET", "k")
    after = conn.execute("PING")
    feed(conn, b"$%d\r\n%sXX" % (size, b"a" * size))  # no CRLF after the payload
    for fut in (bad, after):
        with pytest.raises(Exception) as info:
            await fut
        assert type(info.value).__name__ == "ProtocolError"
    assert conn.closed


async def test_large_reply_with_a_view_kept_alive_while_it_grows():
    size = 3 * 1024 * 1024
    conn = await connected()
    fut = conn.execute("GET", "k")
    feed(conn, b"$%d\r\n" % size + b"a" * 1000)
    held = conn.get_buffer(-1)  # a view into the reply's object, kept alive
    held[:1000] = b"b" * 1000
    conn.buffer_updated(1000)
    feed(conn, b"c" * (size - 2000) + b"\r\n")  # the object grows while held lives
    result = await fut
    assert result == b"a" * 1000 + b"b" * 1000 + b"c" * (size - 2000)
    held[:1] = b"z"  # memory still valid (kept alive), and result unchanged
    assert result[:1] == b"a"
    del held, result
    gc.collect()
    conn.close()


@pytest.mark.parametrize("hint", [-1, 200_000])
async def test_view_released_before_buffer_updated_keeps_the_bytes(hint):
    # uvloop releases its view of get_buffer()'s memory before it calls
    # buffer_updated(): a large empty read buffer must not be given back in
    # between, with the bytes just read in it
    conn = RedisConnection(asyncio.get_running_loop())
    conn.connection_made(FakeTransport())
    try:
        for value in (b"x" * 150_000, b"small"):  # the first one grows the buffer
            fut = conn.execute("GET", "k")
            reply = b"$%d\r\n%s\r\n" % (len(value), value)
            while reply:
                view = conn.get_buffer(hint)
                n = min(len(view), len(reply))
                view[:n] = reply[:n]
                del view  # released first, as uvloop does
                conn.buffer_updated(n)
                reply = reply[n:]
            assert await asyncio.wait_for(fut, 5) == value
    finally:
        conn.close()
