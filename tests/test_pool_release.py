"""What a pool does with a connection given back (docs/internals.rst,
"Giving a connection back to a pool"), and the commands that change a
connection's state on a pool's shared path. Against a real redis-server."""

import asyncio
import contextlib
import logging
import re

import pytest
from helpers import auth_kwargs, client, closing, key_maker
from test_pool_blocking import blocked_on, wait_until

import aioredis
from aioredis import RedisError
from aioredis.pool import _owed

key = key_maker("pool-release")


@contextlib.asynccontextmanager
async def pool_of(server, make=aioredis.create_pool, **kwargs):
    """A pool (``make``: create_pool, or create_redis_pool for its Redis),
    closed at the end."""
    pool = await make(server.tcp_address, **{**auth_kwargs(server), **kwargs})
    try:
        yield pool
    finally:
        await closing(pool)


def redis_pool_of(server, **kwargs):
    return pool_of(server, aioredis.create_redis_pool, **kwargs)


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
    q = key("q")
    async with pool_of(redis_server, minsize=2, maxsize=3) as pool:
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


async def test_blpop_cancelled_in_an_item_context_is_killed(redis_server, caplog):
    # a BLPOP of the user's own, on an acquired item: released with its reply
    # owed, the connection is dropped and killed on the server
    q = key("q")

    async def pop(pool):
        async with pool.get() as item:
            await item.blpop(q, timeout=0)

    async with pool_of(redis_server, minsize=1, maxsize=2) as pool:
        task = asyncio.ensure_future(pop(pool))
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


async def test_closing_the_pool_while_a_dropped_connection_is_killed(redis_server):
    pool = await aioredis.create_pool(redis_server.tcp_address, minsize=1, maxsize=2,
                                      **auth_kwargs(redis_server))
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
    k = key()
    async with pool_of(redis_server, minsize=1, maxsize=1) as pool:
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


#: keeps the server busy for 0.2 s, so that replies sent after it wait
BUSY = (
    "local t = redis.call('TIME') local start = t[1] * 1e6 + t[2] "
    "repeat t = redis.call('TIME') until t[1] * 1e6 + t[2] - start > 200000 return 1"
)


async def test_cancelled_pool_select_leaves_no_connection_on_that_db(redis_server):
    k = key()
    async with pool_of(redis_server, minsize=1, maxsize=1) as pool, client(redis_server) as db0:
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
        assert await db0.get(k) == b"v"  # on db 0, as pool.db says
        await db0.delete(k)
        await asyncio.gather(busy, return_exceptions=True)


async def test_unanswered_multi_is_not_handed_on(redis_server, caplog):
    k = key()
    async with pool_of(redis_server, minsize=1, maxsize=1) as pool:
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


async def test_an_item_left_on_another_db(redis_server, caplog):
    async with pool_of(redis_server, minsize=2, maxsize=2) as pool:
        with await pool as item:
            assert await item.select(3) is True  # its user's doing: a warning
        assert pool.size == 1
        assert any("on db 3" in m for m in warnings_of(caplog))
        caplog.clear()
        with await pool as item:  # out while the pool changes db: quietly
            assert await pool.select(2) is True
        assert pool.size == 0 and pool.db == 2  # dropped, made again on demand
        assert not warnings_of(caplog)
        async with pool.get() as item:
            assert item.db == 2


async def test_an_acquired_item_owes_nothing_to_shared_callers(redis_server):
    # pool.execute() callers share the free connection; taking it out of the
    # pool waits for their replies, so giving it back at once closes nothing
    k = key()
    async with pool_of(redis_server, minsize=1, maxsize=1) as pool:
        await pool.execute(b"PING")
        shared = [pool.execute(b"INCR", k) for _ in range(50)]
        with await pool as item:
            pass
        assert pool.size == 1 and pool.freesize == 1
        assert sorted(await asyncio.gather(*shared)) == list(range(1, 51))
        await pool.execute(b"DEL", k)


# ---------------------------------------------------------------------------
# connection-state commands on the shared path (create_redis_pool)
# ---------------------------------------------------------------------------


async def test_select_on_the_shared_path_changes_the_pools_db(redis_server):
    keys = [key(str(i)) for i in range(20)]
    async with redis_pool_of(redis_server, minsize=2, maxsize=3) as r, \
            client(redis_server) as db0, client(redis_server, db=1) as db1:
        assert await r.execute("SELECT", 1) == b"OK"
        assert r.db == 1 and r.connection.db == 1
        assert await r.execute(b"select", b"1", encoding="utf-8") == "OK"
        await asyncio.gather(*(r.set(k, "v") for k in keys))
        assert await db1.exists(*keys) == len(keys)
        assert await db0.exists(*keys) == 0
        with pytest.raises(TypeError):
            r.execute("SELECT", "one")
        await db1.delete(*keys)


@pytest.mark.parametrize(
    "command, args, advice",
    [
        ("MULTI", (), "multi_exec()"),
        (b"exec", (), "multi_exec()"),
        ("Discard", (), "multi_exec()"),
        (b"WATCH", ("k",), "multi_exec()"),
        ("unwatch", (), "multi_exec()"),
        ("AUTH", ("pw",), "password="),
        ("HELLO", ("3",), "with await pool as conn"),
        ("RESET", (), "with await pool as conn"),
        ("QUIT", (), "close()"),
        ("MONITOR", (), "with await pool as conn"),
        ("SUBSCRIBE", ("ch",), "execute_pubsub()"),
        ("client", ("reply", "off"), "with await pool as conn"),
        (b"CLIENT", (b"TRACKING", b"on"), "with await pool as conn"),
        ("CLIENT", ("setname", "x"), "with await pool as conn"),
    ],
)
async def test_state_commands_are_refused_on_the_shared_path(redis_server, command, args, advice):
    k = key()
    async with redis_pool_of(redis_server, minsize=2, maxsize=2) as r:
        with pytest.raises(RedisError, match=r"shared connections.*" + re.escape(advice)):
            r.execute(command, *args)
        # nothing was sent: the others are not in a transaction, subscribed...
        assert await asyncio.gather(*(r.set(k, "v") for _ in range(4))) == [True] * 4
        assert await r.get(k) == b"v"
        assert isinstance(await r.execute("CLIENT", "ID"), int)  # not refused
        await r.delete(k)


async def test_watch_and_multi_exec_still_work_through_their_api(redis_server):
    k = key()
    async with redis_pool_of(redis_server, minsize=2, maxsize=2) as r:
        tr = r.multi_exec()
        tr.set(k, "1")
        tr.incr(k)
        assert await tr.execute() == [True, 2]
        with await r.connection as conn:
            assert await conn.execute("MULTI") == b"OK"
            assert await conn.execute("EXEC") == []
        assert r.connection.freesize == 2
        await r.delete(k)


# ---------------------------------------------------------------------------
# clear(): a plain method whose result may be awaited
# ---------------------------------------------------------------------------


async def test_clear_closes_at_once_and_can_be_awaited(redis_server):
    async with pool_of(redis_server, minsize=2, maxsize=2) as pool:
        items = [await pool.acquire() for _ in range(2)]
        for item in items:
            pool.release(item)
        waiting = pool.clear()  # not awaited: the items are closed already
        assert pool.freesize == 0 and pool.size == 0
        assert all(item.closed for item in items)
        await asyncio.wait_for(waiting, 5)
        assert all(item.connection.transport is None for item in items)

        await pool.execute(b"PING")  # refilled on demand
        item = pool._free[0]
        await asyncio.wait_for(pool.clear(), 5)
        assert item.closed and item.connection.transport is None
        assert pool.freesize == 0


# ---------------------------------------------------------------------------
# without a client id (CLIENT ID denied): the FIN, then a round trip
# ---------------------------------------------------------------------------


async def test_cancelled_blpop_without_a_client_id(start_redis):
    server = start_redis("--user", "default", "on", "nopass", "~*", "&*", "+@all", "-client|id")
    q = key("q")
    async with pool_of(server, minsize=2, maxsize=3) as pool:
        with pytest.raises(aioredis.ReplyError):
            await pool.execute("CLIENT", "ID")  # denied: the pool cannot kill by id
        task = asyncio.ensure_future(pool.execute(b"BLPOP", q, 10))
        await wait_until(lambda: len(blocked_on(server, "blpop")) == 1)
        task.cancel()
        assert await pool.execute(b"RPUSH", q, "v") == 1
        await wait_until(lambda: not blocked_on(server, "blpop"))
        assert await pool.execute(b"LRANGE", q, 0, -1) == [b"v"]


# ---------------------------------------------------------------------------
# pool-wide settings: select() and auth() on every free connection
# ---------------------------------------------------------------------------


async def test_select_and_auth_keep_the_free_connections(redis_server):
    async with pool_of(redis_server, minsize=2, maxsize=2) as pool:
        free = set(pool._free)
        assert await pool.select(5) is True
        assert set(pool._free) == free and all(item.db == 5 for item in free)


async def test_auth_changes_the_password_of_the_whole_pool(start_redis):
    server = start_redis()
    async with pool_of(server, aioredis.create_redis_pool, minsize=2, maxsize=2) as r:
        pool = r.connection
        held = await pool.acquire()  # out while the password changes
        assert server.command("CONFIG", "SET", "requirepass", "new-secret") == b"OK"
        assert await r.auth("new-secret") is True  # every free connection, and new ones
        with pytest.raises(RedisError, match=r"auth\(\)"):
            r.execute("AUTH", "new-secret")
        pool.release(held)
        assert held.closed and pool.size == 1  # dropped quietly: it missed the AUTH
        await pool.clear()
        assert await r.ping() == b"PONG"  # a new connection, made with the new password
        assert pool.freesize == 1


# ---------------------------------------------------------------------------
# an acquirer cancelled while it holds an item passes it on through the check
# ---------------------------------------------------------------------------


async def close_then_cancel(pool, acquiring, item):
    """Close the pool, then cancel the acquire() holding ``item``: the item
    must end closed, not among the free items of a closed pool."""
    pool.close()
    acquiring.cancel()
    with pytest.raises(asyncio.CancelledError):
        await acquiring
    await asyncio.wait_for(pool.wait_closed(), 5)
    assert item.closed
    assert pool.freesize == 0


async def test_acquirer_handed_an_item_then_cancelled_after_close(redis_server):
    # Handed the released item, then cancelled before it ran, with the pool
    # closed in between: the item must be closed, not put among the free
    # items of a closed pool (open forever, unknown to wait_closed()).
    pool = await aioredis.create_pool(
        redis_server.tcp_address, minsize=1, maxsize=1, **auth_kwargs(redis_server)
    )
    item = await pool.acquire()
    waiting = asyncio.ensure_future(pool.acquire())
    await asyncio.sleep(0)  # queued as a waiter
    pool.release(item)  # handed to it, which has not run yet
    await close_then_cancel(pool, waiting, item)


async def draining_acquirer(pool):
    """An acquire() of the pool's one free item, stopped where it drains
    the item (a PING behind a shared caller's, neither answered): (item,
    the shared caller's future, the acquiring task)."""
    (item,) = pool._free
    await pool.execute(b"PING")  # the pool's CLIENT ID is answered by now
    item.connection.transport.pause_reading()  # no reply arrives: both stay owed
    shared = pool.execute(b"PING")
    acquiring = asyncio.ensure_future(pool.acquire())
    await wait_until(lambda: _owed(item) == 2)
    return item, shared, acquiring


async def test_acquirer_cancelled_while_draining_after_close(redis_server):
    # A free item with replies owed to shared callers is drained (a PING)
    # before it is handed out; an acquirer cancelled at that await after the
    # pool was closed must not put it back among the free items.
    pool = await aioredis.create_pool(
        redis_server.tcp_address, minsize=1, maxsize=1, **auth_kwargs(redis_server)
    )
    item, shared, acquiring = await draining_acquirer(pool)
    await close_then_cancel(pool, acquiring, item)
    with pytest.raises(aioredis.ConnectionClosedError):
        await shared


async def test_acquirer_cancelled_while_draining_after_select(redis_server):
    # pool.select() ran while the item was out being drained: cancelled
    # there, the acquirer must not make it a free item on the old db.
    pool = await aioredis.create_pool(
        redis_server.tcp_address, minsize=1, maxsize=1, **auth_kwargs(redis_server)
    )
    try:
        item, shared, acquiring = await draining_acquirer(pool)
        await pool.select(1)  # nothing free: the item out is left behind
        acquiring.cancel()
        with pytest.raises(asyncio.CancelledError):
            await acquiring
        assert all(free.db == pool.db for free in pool._free)
        assert item not in pool._free
        await asyncio.gather(shared, return_exceptions=True)
    finally:
        await closing(pool)
