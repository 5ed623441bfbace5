"""What a pool does with a connection given back (docs/internals.rst,
"Giving a connection back to a pool"), and the commands that change a
connection's state on a pool's shared path. Against a real redis-server."""

import asyncio
import logging

import pytest
from helpers import auth_kwargs, closing, key_maker
from test_pool_blocking import blocked_on, wait_until

import aioredis

key = key_maker("pool-release")


async def make_pool(server, **kwargs):
    return await aioredis.create_pool(server.tcp_address, **{**auth_kwargs(server), **kwargs})


async def make_redis_pool(server, **kwargs):
    return await aioredis.create_redis_pool(
        server.tcp_address, **{**auth_kwargs(server), **kwargs}
    )


async def on_db(server, db):
    return await aioredis.create_redis(server.tcp_address, db=db, **auth_kwargs(server))


def warnings_of(caplog):
    return [
        r.getMessage() for r in caplog.records
        if r.name == "aioredis" and r.levelno == logging.WARNING
    ]


# ---------------------------------------------------------------------------
# a blocking command whose caller gave up consumes nothing pushed afterwards
# ---------------------------------------------------------------------------


async def test_cancelled_blpop_is_gone_before_the_pool_sends_anything(redis_server):
    # No sleep between the cancellation and the RPUSH: the server must have
    # dropped the BLPOP before it is handed the RPUSH, whichever connection
    # of the pool carries it.
    pool = await make_pool(redis_server, minsize=2, maxsize=3)
    q = key("q")
    try:
        for push in ("at once", "shared", "acquired"):
            task = asyncio.ensure_future(pool.execute(b"BLPOP", q, 10))
            await wait_until(lambda: len(blocked_on(redis_server, "blpop")) == 1)
            task.cancel()
            if push != "at once":  # 3.12 and later: an eager gather, no loop round
                await asyncio.gather(task, return_exceptions=True)
            if push in ("shared", "at once"):
                assert await pool.execute(b"RPUSH", q, push) == 1
            else:
                with await pool as item:
                    assert await item.rpush(q, push) == 1
            await wait_until(lambda: not blocked_on(redis_server, "blpop"))
            assert await pool.execute(b"LRANGE", q, 0, -1) == [push.encode()], push
            await pool.execute(b"DEL", q)
    finally:
        await closing(pool)


async def test_blpop_cancelled_in_an_item_context_is_killed(redis_server, caplog):
    # a BLPOP of the user's own, on an acquired item: released with its reply
    # owed, the connection is dropped and killed on the server
    pool = await make_pool(redis_server, minsize=1, maxsize=2)
    q = key("q")

    async def pop():
        async with pool.get() as item:
            await item.blpop(q, timeout=0)

    try:
        task = asyncio.ensure_future(pop())
        await wait_until(lambda: len(blocked_on(redis_server, "blpop")) == 1)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert pool.size == 0
        assert any("reply owed" in m for m in warnings_of(caplog))
        async with pool.get() as item:
            assert await asyncio.wait_for(item.rpush(q, "v"), 5) == 1
        await wait_until(lambda: not blocked_on(redis_server, "blpop"))
        assert await pool.execute(b"LLEN", q) == 1
        await pool.execute(b"DEL", q)
    finally:
        await closing(pool)


async def test_closing_the_pool_while_a_dropped_connection_is_killed(redis_server):
    pool = await make_pool(redis_server, minsize=1, maxsize=2)
    q = key("q")
    task = asyncio.ensure_future(pool.execute(b"BLPOP", q, 0))
    await wait_until(lambda: len(blocked_on(redis_server, "blpop")) == 1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    pool.close()
    await asyncio.wait_for(pool.wait_closed(), 5)
    await wait_until(lambda: not blocked_on(redis_server, "blpop"))


# ---------------------------------------------------------------------------
# release judges by what was sent, not only by what was answered
# ---------------------------------------------------------------------------


async def test_unacknowledged_subscribe_in_an_item_context(redis_server, caplog):
    # the caller gives up on its SUBSCRIBE before the acknowledgement: the
    # connection must not reach the next user in (or on its way to) pub/sub
    pool = await make_pool(redis_server, minsize=1, maxsize=1)
    k = key()
    try:
        await pool.execute(b"PING")  # the item's own CLIENT ID is answered
        async with pool.get() as item:
            subscribing = item.connection.execute_pubsub(b"SUBSCRIBE", key("channel"))
        await asyncio.gather(subscribing, return_exceptions=True)
        async with pool.get() as item:
            assert not item.in_pubsub
            assert await asyncio.wait_for(item.set(k, "v"), 5) is True
            assert await item.get(k) == b"v"
        assert any("reply owed" in m for m in warnings_of(caplog))
        await pool.execute(b"DEL", k)
    finally:
        await closing(pool)


#: keeps the server busy for 0.2 s, so that replies sent after it wait
BUSY = (
    "local t = redis.call('TIME') local start = t[1] * 1e6 + t[2] "
    "repeat t = redis.call('TIME') until t[1] * 1e6 + t[2] - start > 200000 return 1"
)


async def test_cancelled_pool_select_leaves_no_connection_on_that_db(redis_server):
    pool = await make_pool(redis_server, minsize=1, maxsize=1)
    k = key()
    other = await on_db(redis_server, 0)
    try:
        await pool.execute(b"PING")
        busy = pool.execute(b"EVAL", BUSY, 0)  # the SELECT's reply waits behind it
        task = asyncio.ensure_future(pool.select(3))
        await asyncio.sleep(0)  # SELECT 3 sent on the free connection
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert pool.db == 0
        async with pool.get() as item:
            assert item.db == 0
            assert await item.set(k, "v") is True
        assert await other.get(k) == b"v"  # on db 0, as pool.db says
        await other.delete(k)
        await asyncio.gather(busy, return_exceptions=True)
    finally:
        await closing(other)
        await closing(pool)


async def test_unanswered_multi_is_not_handed_on(redis_server, caplog):
    pool = await make_pool(redis_server, minsize=1, maxsize=1)
    k = key()
    try:
        await pool.execute(b"PING")
        with await pool as item:
            multi = item.execute("MULTI")  # sent, its reply not read yet
        await asyncio.gather(multi, return_exceptions=True)  # failed by the close
        with await pool as item:
            assert not item.in_transaction
            assert await item.set(k, "v") is True
            assert await item.get(k) == b"v"
        assert any("reply owed" in m for m in warnings_of(caplog))
        await pool.execute(b"DEL", k)
    finally:
        await closing(pool)


async def test_an_acquired_item_owes_nothing_to_shared_callers(redis_server):
    # pool.execute() callers share the free connection; taking it out of the
    # pool waits for their replies, so giving it back at once closes nothing
    pool = await make_pool(redis_server, minsize=1, maxsize=1)
    k = key()
    try:
        await pool.execute(b"PING")
        shared = [pool.execute(b"INCR", k) for _ in range(50)]
        with await pool as item:
            pass
        assert pool.size == 1 and pool.freesize == 1
        assert sorted(await asyncio.gather(*shared)) == list(range(1, 51))
        await pool.execute(b"DEL", k)
    finally:
        await closing(pool)
