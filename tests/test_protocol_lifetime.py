"""What a connection keeps: a closed one is freed by reference counting alone
(no cycle waits for the garbage collector), and an idle one gives back the
read buffer a large reply made it grow."""

import asyncio
import contextlib
import gc
import tracemalloc
import weakref

import pytest

import aioredis


@contextlib.contextmanager
def gc_disabled():
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def referrers(obj):
    return [type(r).__name__ + ": " + repr(r)[:200] for r in gc.get_referrers(obj)]


async def _use_and_close(address, how):
    conn = await aioredis.create_connection(address)
    assert await conn.execute("SET", "lifetime:k", "v") == b"OK"
    futs = [conn.execute("GET", "lifetime:k") for _ in range(3)]  # pipelined: a scheduled flush
    assert await asyncio.gather(*futs) == [b"v"] * 3
    if how == "quit":  # closed by the server
        assert await conn.execute("QUIT") == b"OK"
    elif how == "pending":  # closed with a command waiting
        fut = conn.execute("BLPOP", "lifetime:nothing", 0)
        await asyncio.sleep(0.01)
        conn.close()
        with pytest.raises(aioredis.ConnectionForcedCloseError):
            await fut
        del fut
    elif how == "pubsub":
        (ack,) = await conn.execute_pubsub("SUBSCRIBE", "lifetime:ch")
        assert ack == [b"subscribe", b"lifetime:ch", 1]
    conn.close()
    await conn.wait_closed()
    return weakref.ref(conn)


@pytest.mark.parametrize("how", ["close", "quit", "pending", "pubsub"])
async def test_closed_connection_is_freed_without_the_gc(redis_server, how):
    with gc_disabled():
        ref = await _use_and_close(redis_server.tcp_address, how)
        await asyncio.sleep(0)  # let the transport's last callbacks run
        assert ref() is None, referrers(ref())


@pytest.mark.uvloop
async def test_closed_connection_is_freed_without_the_gc_on_uvloop(redis_server):
    with gc_disabled():
        ref = await _use_and_close(redis_server.tcp_address, "close")
        await asyncio.sleep(0)
        assert ref() is None, referrers(ref())


async def test_idle_read_buffer_shrinks_after_a_large_reply(redis_server):
    # 900 kB: below the size read straight into its own object, so it is
    # collected in the parser's buffer, which grows to 1 MiB
    value = b"v" * 900_000
    conn = await aioredis.create_connection(redis_server.tcp_address)
    try:
        assert await conn.execute("SET", "lifetime:big", value) == b"OK"
        assert await conn.execute("PING") == b"PONG"
        gc.collect()
        tracemalloc.start()
        try:
            before, _ = tracemalloc.get_traced_memory()
            assert await conn.execute("GET", "lifetime:big") == value
            await asyncio.sleep(0)  # the transport has released its view
            after, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak - before > 2 * len(value)  # the buffer and the reply were there
        # the reply is dropped: what stays is not a buffer sized for it
        assert after - before < 200_000, f"{after - before} bytes kept"
        assert conn._read_buffer_size <= 64 * 1024
        # and the connection reads on as usual
        assert await conn.execute("GET", "lifetime:big") == value
        assert await conn.execute("PING") == b"PONG"
    finally:
        conn.close()
        await conn.wait_closed()


class _StubTransport:
    """Just enough of a transport to drive a connection by hand."""

    def __init__(self):
        self.written = []
        self.closing = False

    def write(self, data):
        self.written.append(bytes(data))

    def writelines(self, parts):
        self.written.extend(bytes(p) for p in parts)

    def get_extra_info(self, name, default=None):
        return default

    def is_closing(self):
        return self.closing

    def close(self):
        self.closing = True

    def abort(self):
        self.closing = True

    def pause_reading(self):
        pass

    def resume_reading(self):
        pass


@pytest.mark.parametrize("hint", [-1, 200_000])
async def test_view_released_before_buffer_updated_keeps_the_bytes(hint):
    # uvloop releases its view of get_buffer()'s memory before it calls
    # buffer_updated(): a large empty read buffer must not be given back in
    # between, with the bytes just read in it
    from aioredis.connection import RedisConnection

    conn = RedisConnection(asyncio.get_running_loop())
    conn.connection_made(_StubTransport())
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
