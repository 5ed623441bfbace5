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

