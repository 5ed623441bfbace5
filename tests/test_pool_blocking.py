"""Blocking commands on a pool run on a connection of their own."""

import asyncio
import time

import pytest
from helpers import auth_kwargs, closing, key_maker

import aioredis
from aioredis import ConnectionClosedError, ReplyError


async def make_redis_pool(server, minsize=1, maxsize=4, **kwargs):
    return await aioredis.create_redis_pool(
        server.tcp_address, minsize=minsize, maxsize=maxsize, **{**auth_kwargs(server), **kwargs}
    )


key = key_maker("pool-blocking")


def clients_running(server, command):
    """The CLIENT LIST entries (dicts) of clients whose current command is ``command``."""
    listing = server.command("CLIENT", "LIST").decode()
    entries = []
    for line in listing.splitlines():
        fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
        if fields.get("cmd") == command:
            entries.append(fields)
    return entries


def blocked_on(server, command):
    """Clients blocked (flag b) in ``command``."""
    return [c for c in clients_running(server, command) if "b" in c.get("flags", "")]


async def wait_until(predicate, timeout=3.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        await asyncio.sleep(0.01)


# ---------------------------------------------------------------------------
# a blocking command does not hold up other callers
# ---------------------------------------------------------------------------


async def test_blpop_does_not_delay_other_commands(redis_server):
    r = await make_redis_pool(redis_server, minsize=1, maxsize=3)
    pool = r.connection
    q, other = key("q"), key("other")
    try:
        assert pool.size == 1 and pool.freesize == 1
        blpop = r.blpop(q, timeout=10)
        assert isinstance(blpop, asyncio.Future)  # sent at once, no coroutine
        # the only connection was taken out of the pool for the BLPOP
        assert pool.freesize == 0 and pool.size == 1
        await wait_until(lambda: len(blocked_on(redis_server, "blpop")) == 1)

        start = time.monotonic()
        assert await r.set(other, "v") is True
        assert await r.get(other) == b"v"
        results = await asyncio.gather(*(r.incr(other + ":n") for _ in range(20)))
        assert sorted(results) == list(range(1, 21))
        assert await r.ping() == b"PONG"
        assert time.monotonic() - start < 2.0
        assert not blpop.done()  # still waiting for an item
        assert pool.size == 2  # the others ran on a second connection

        assert await r.rpush(q, "item") == 1
        assert await asyncio.wait_for(blpop, 5) == [q.encode(), b"item"]
        await asyncio.sleep(0)  # the release runs as a done-callback
        assert pool.size == 2 and pool.freesize == 2  # given back, not closed
        assert await r.llen(q) == 0
        await r.delete(other, other + ":n")
    finally:
        await closing(r)


async def test_blocking_command_when_no_connection_is_free(redis_server):
    # minsize=0: the pool has to connect first (the coroutine path)
    r = await make_redis_pool(redis_server, minsize=0, maxsize=3)
    pool = r.connection
    q = key("q")
    try:
        assert pool.size == 0
        brpop = asyncio.ensure_future(r.brpop(q, timeout=10))
        await wait_until(lambda: len(blocked_on(redis_server, "brpop")) == 1)
        assert pool.size == 1 and pool.freesize == 0
        assert await r.echo("hi") == b"hi"
        assert pool.size == 2 and not brpop.done()
        await r.lpush(q, "a")
        assert await asyncio.wait_for(brpop, 5) == [q.encode(), b"a"]
        assert pool.freesize == 2
        # arguments are still checked when the command is issued
        pool2 = await aioredis.create_pool(redis_server.tcp_address, minsize=0, maxsize=1,
                                           **auth_kwargs(redis_server))
        try:
            with pytest.raises(TypeError):
                pool2.execute(b"BLPOP", None, 0)
            assert pool2.size == 0
        finally:
            pool2.close()
            await pool2.wait_closed()
    finally:
        await closing(r)


async def test_argument_errors_leave_the_connection_in_the_pool(redis_server):
    r = await make_redis_pool(redis_server, minsize=1, maxsize=2)
    pool = r.connection
    try:
        with pytest.raises(TypeError):
            r.execute(b"BLPOP", key("q"), None)
        with pytest.raises(ValueError):
            r.blpop(key("q"), timeout=-1)
        with pytest.raises(TypeError):
            r.execute(memoryview(b"BLPOP"), key("q"), 0)
        assert pool.freesize == 1 and pool.size == 1
        assert await r.ping() == b"PONG"
    finally:
        await closing(r)


async def test_concurrent_blpops_each_get_their_own_connection(redis_server):
    r = await make_redis_pool(redis_server, minsize=1, maxsize=5)
    pool = r.connection
    q = key("q")
    try:
        tasks = [asyncio.ensure_future(r.blpop(q, timeout=10)) for _ in range(4)]
        await wait_until(lambda: len(blocked_on(redis_server, "blpop")) == 4)
        blocked = blocked_on(redis_server, "blpop")
        assert len({c["id"] for c in blocked}) == 4
        assert len({c["addr"] for c in blocked}) == 4  # four distinct connections
        assert pool.size == 4 and pool.freesize == 0
        # the fifth connection serves everything else meanwhile
        assert await r.echo("x") == b"x"
        assert pool.size == 5

        assert await r.rpush(q, "i0", "i1", "i2", "i3") == 4
        results = await asyncio.wait_for(asyncio.gather(*tasks), 5)
        assert sorted(item for _, item in results) == [b"i0", b"i1", b"i2", b"i3"]
        assert all(k == q.encode() for k, _ in results)
        assert await r.llen(q) == 0
        await asyncio.sleep(0)
        assert pool.freesize == 5
    finally:
        await closing(r)


async def test_blpop_timeout_gives_the_connection_back(redis_server):
    r = await make_redis_pool(redis_server, minsize=1, maxsize=2)
    pool = r.connection
    try:
        assert await r.execute(b"BLPOP", key("q"), 0.05) is None
        await asyncio.sleep(0)
        assert pool.size == 1 and pool.freesize == 1
        # a failed blocking command gives it back too
        k = key("str")
        await r.set(k, "x")
        with pytest.raises(ReplyError, match="WRONGTYPE"):
            await r.blpop(k, timeout=1)
        await asyncio.sleep(0)
        assert pool.size == 1 and pool.freesize == 1
        assert await r.get(k) == b"x"
        await r.delete(k)
    finally:
        await closing(r)


# ---------------------------------------------------------------------------
# cancellation closes the connection
# ---------------------------------------------------------------------------


async def check_cancel_closes(server, r, start_blocking, command, q, push, leftover):
    pool = r.connection
    assert await r.ping() == b"PONG"
    task = asyncio.ensure_future(start_blocking())
    await wait_until(lambda: len(blocked_on(server, command)) == 1)
    size = pool.size
    blocked_id = blocked_on(server, command)[0]["id"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0)
    assert pool.size == size - 1
    await wait_until(lambda: not blocked_on(server, command))
    await wait_until(lambda: all(c["id"] != blocked_id for c in clients_running(server, command)))
    ids = [line.split()[0] for line in server.command("CLIENT", "LIST").decode().splitlines()]
    assert f"id={blocked_id}" not in ids  # the connection is gone from the server
    await push()
    await asyncio.sleep(0.05)
    assert await leftover() == 1  # nobody consumed it


async def test_cancelled_blpop_closes_its_connection(redis_server):
    r = await make_redis_pool(redis_server, minsize=1, maxsize=3)
    q = key("q")
    try:
        await check_cancel_closes(
            redis_server, r, lambda: r.blpop(q, timeout=10), "blpop", q,
            lambda: r.lpush(q, "x"), lambda: r.llen(q),
        )
        assert await r.lpop(q) == b"x"
        assert await r.ping() == b"PONG"
    finally:
        await closing(r)


async def test_cancelled_blocking_command_on_the_coroutine_path(redis_server):
    r = await make_redis_pool(redis_server, minsize=0, maxsize=3)
    q = key("q")
    try:
        # the ping connection is the only free one: take it with a first BLPOP
        first = asyncio.ensure_future(r.blpop(key("other"), timeout=10))
        await wait_until(lambda: len(blocked_on(redis_server, "blpop")) == 1)
        task = asyncio.ensure_future(r.execute("brpoplpush", q, q + ":dst", 10))
        await wait_until(lambda: len(blocked_on(redis_server, "brpoplpush")) == 1)
        size = r.connection.size
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0)
        assert r.connection.size == size - 1
        await wait_until(lambda: not blocked_on(redis_server, "brpoplpush"))
        await r.rpush(q, "x")
        await asyncio.sleep(0.05)
        assert await r.llen(q) == 1 and await r.llen(q + ":dst") == 0
        assert not first.done()
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        await r.delete(q)
    finally:
        await closing(r)


async def test_timeout_around_blpop_closes_its_connection(redis_server):
    r = await make_redis_pool(redis_server, minsize=1, maxsize=3)
    pool = r.connection
    q = key("q")
    try:
        assert await r.ping() == b"PONG"
        assert pool.size == 1
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(r.blpop(q, timeout=0), 0.2)
        await asyncio.sleep(0)
        assert pool.size == 0
        await wait_until(lambda: not clients_running(redis_server, "blpop"))
        await r.rpush(q, "x")
        await asyncio.sleep(0.05)
        assert await r.llen(q) == 1
        await r.delete(q)
    finally:
        await closing(r)


async def test_closing_the_pool_fails_a_pending_blpop(redis_server):
    r = await make_redis_pool(redis_server, minsize=1, maxsize=2)
    q = key("q")
    blpop = r.blpop(q, timeout=0)
    await wait_until(lambda: len(blocked_on(redis_server, "blpop")) == 1)
    r.close()
    await asyncio.wait_for(r.wait_closed(), 5)
    with pytest.raises(ConnectionClosedError):
        await blpop
    await wait_until(lambda: not clients_running(redis_server, "blpop"))


# ---------------------------------------------------------------------------
# XREAD / XREADGROUP with BLOCK
# ---------------------------------------------------------------------------


async def test_xread_block_does_not_delay_other_commands(redis_server):
    r = await make_redis_pool(redis_server, minsize=1, maxsize=3)
    pool = r.connection
    s = key("stream")
    try:
        xread = r.execute(b"XREAD", b"COUNT", 10, b"BLOCK", 10000, b"STREAMS", s, "$")
        assert pool.freesize == 0
        await wait_until(lambda: len(blocked_on(redis_server, "xread")) == 1)
        start = time.monotonic()
        for _ in range(5):
            assert await r.ping() == b"PONG"
        assert time.monotonic() - start < 2.0 and not xread.done()
        msg_id = await r.execute(b"XADD", s, "*", "f", "v")
        reply = await asyncio.wait_for(xread, 5)
        assert reply == [[s.encode(), [[msg_id, [b"f", b"v"]]]]]
        await asyncio.sleep(0)
        assert pool.freesize == pool.size == 2
        # without BLOCK, XREAD shares a connection like any other command
        free = pool.freesize
        fut = r.execute(b"XREAD", b"STREAMS", s, "0")
        assert pool.freesize == free
        assert (await fut)[0][0] == s.encode()
        await r.delete(s)
    finally:
        await closing(r)


async def test_cancelled_xread_block_closes_its_connection(redis_server):
    r = await make_redis_pool(redis_server, minsize=1, maxsize=3)
    s = key("stream")
    try:
        await check_cancel_closes(
            redis_server, r, lambda: r.execute("xread", "block", 0, "streams", s, "$"), "xread", s,
            lambda: r.execute("XADD", s, "*", "f", "v"), lambda: r.execute("XLEN", s),
        )
        await r.delete(s)
    finally:
        await closing(r)


async def test_cancelled_xreadgroup_block_consumes_nothing(redis_server):
    r = await make_redis_pool(redis_server, minsize=1, maxsize=3)
    s = key("stream")
    try:
        assert await r.execute("XGROUP", "CREATE", s, "g", "$", "MKSTREAM") == b"OK"
        # a group and a consumer named like the option do not make it blocking
        fut = r.execute("XREADGROUP", "GROUP", "block", "block", "STREAMS", s, ">")
        assert r.connection.freesize == 1
        with pytest.raises(ReplyError):  # no such group
            await fut

        async def pending_count():
            return (await r.execute("XPENDING", s, "g"))[0]

        await check_cancel_closes(
            redis_server, r,
            lambda: r.execute(b"XREADGROUP", b"GROUP", b"g", b"c", b"Block", 0, b"STREAMS", s, b">"),
            "xreadgroup", s,
            lambda: r.execute("XADD", s, "*", "f", "v"), lambda: r.execute("XLEN", s),
        )
        assert await pending_count() == 0  # delivered to nobody
        await r.delete(s)
    finally:
        await closing(r)


# ---------------------------------------------------------------------------
# which commands count as blocking
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    ["BLPOP", "blpop", b"BLPOP", b"bLpOp", bytearray(b"blpop"), "BRPOP", b"brpop"],
)
async def test_blocking_command_names_any_case(redis_server, command):
    r = await make_redis_pool(redis_server, minsize=2, maxsize=2)
    pool = r.connection
    try:
        fut = r.execute(command, key("q"), 0.01)
        assert pool.freesize == 1  # taken out of the pool
        assert await fut is None
        await asyncio.sleep(0)
        assert pool.freesize == 2
    finally:
        await closing(r)


async def test_other_blocking_commands(redis_server):
    r = await make_redis_pool(redis_server, minsize=2, maxsize=2)
    pool = r.connection
    a, b = key("a"), key("b")
    try:
        calls = [
            (b"BRPOPLPUSH", a, b, 0.01),
            (b"BLMOVE", a, b, b"LEFT", b"RIGHT", 0.01),
            (b"BZPOPMIN", a, 0.01),
            (b"bzpopmax", a, 0.01),
            (b"BLMPOP", 0.01, 1, a, b"LEFT"),
            (b"BZMPOP", 0.01, 1, a, b"MIN"),
            ("wait", 0, 10),
        ]
        for cmd in calls:
            fut = r.execute(*cmd)
            assert pool.freesize == 1, cmd
            assert await fut in (None, 0), cmd
            await asyncio.sleep(0)
            assert pool.freesize == 2, cmd
        # non-blocking commands keep the shared fast path: a plain future, nothing taken out
        for cmd in [(b"LPOP", a), ("get", a), (b"XREAD", b"COUNT", 1, b"STREAMS", a, 0)]:
            fut = r.execute(*cmd)
            assert isinstance(fut, asyncio.Future)
            assert pool.freesize == 2
            await asyncio.gather(fut, return_exceptions=True)
    finally:
        await closing(r)


async def test_blocking_commands_on_a_create_pool_of_redis_items(redis_server):
    pool = await aioredis.create_pool(redis_server.tcp_address, minsize=2, maxsize=3,
                                      **auth_kwargs(redis_server))
    q = key("q")
    try:
        blpop = pool.execute(b"BLPOP", q, 10)
        assert pool.freesize == 1
        await wait_until(lambda: len(blocked_on(redis_server, "blpop")) == 1)
        assert await pool.execute(b"RPUSH", q, "v") == 1
        assert await asyncio.wait_for(blpop, 5) == [q.encode(), b"v"]
        await asyncio.sleep(0)
        assert pool.freesize == 2
        task = asyncio.ensure_future(pool.execute(b"BLPOP", q, 10))
        await wait_until(lambda: len(blocked_on(redis_server, "blpop")) == 1)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.sleep(0)
        assert pool.size == 1
        await pool.execute(b"RPUSH", q, "w")
        await asyncio.sleep(0.05)
        assert await pool.execute(b"LLEN", q) == 1
        await pool.execute(b"DEL", q)
    finally:
        pool.close()
        await pool.wait_closed()
