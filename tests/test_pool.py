"""create_pool / RedisPool against a real redis-server."""

import asyncio
import os
import random

import pytest
from helpers import auth_kwargs, closing

import aioredis
from aioredis import PoolClosedError, Redis, RedisConnection, ReplyError


async def make_pool(server, **kwargs):
    return await aioredis.create_pool(server.tcp_address, **{**auth_kwargs(server), **kwargs})


def open_sockets():
    """Number of sockets this process has open (Linux)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:
            pass
    return count


async def test_defaults_follow_the_seed(redis_server):
    pool = await make_pool(redis_server)
    try:
        assert (pool.minsize, pool.maxsize) == (10, 10)
        assert pool.size == 10 and pool.freesize == 10
        assert pool.db == 0 and pool.encoding is None
        item = await pool.acquire()
        assert isinstance(item, Redis)
        assert await item.echo("hello") == b"hello"
        assert pool.freesize == 9 and pool.size == 10
        pool.release(item)
        assert pool.freesize == 10
    finally:
        await closing(pool)


async def test_read_only_attributes(redis_server):
    pool = await make_pool(redis_server, minsize=1, maxsize=2)
    try:
        for name in ("minsize", "maxsize", "size", "freesize", "db", "encoding"):
            with pytest.raises(AttributeError):
                setattr(pool, name, 5)
    finally:
        await closing(pool)


async def test_plain_connection_items(redis_server):
    pool = await make_pool(redis_server, minsize=1, maxsize=1, commands_factory=lambda conn: conn)
    try:
        with await pool as conn:
            assert isinstance(conn, RedisConnection)
            assert await conn.execute("ECHO", "x") == b"x"
    finally:
        await closing(pool)


async def test_three_usage_forms(redis_server):
    pool = await make_pool(redis_server, minsize=1, maxsize=1, encoding="utf-8")
    try:
        with await pool as redis:
            assert await redis.echo("a") == "a"
            assert pool.freesize == 0
        assert pool.freesize == 1
        async with pool.get() as redis:
            assert await redis.echo("b") == "b"
            assert pool.freesize == 0
        assert pool.freesize == 1
        redis = await pool.acquire()
        assert await redis.echo("c") == "c"
        pool.release(redis)
        assert pool.freesize == 1
        with pytest.raises(RuntimeError):
            with pool:
                pass
    finally:
        await closing(pool)


async def test_release_rules(redis_server):
    pool = await make_pool(redis_server, minsize=1, maxsize=2)
    try:
        # a connection switched to another db is dropped
        with await pool as redis:
            await redis.select(1)
        assert pool.size == 0 and pool.freesize == 0
        # a connection left inside MULTI is dropped
        with await pool as redis:
            await redis.connection.execute("MULTI")
            assert redis.in_transaction
        assert pool.size == 0
        # a closed connection is dropped
        with await pool as redis:
            redis.close()
        assert pool.size == 0
        # a healthy one is kept
        with await pool as redis:
            await redis.echo("fine")
        assert pool.size == 1 and pool.freesize == 1
        # releasing something that is not ours
        with pytest.raises(AssertionError):
            pool.release(object())
    finally:
        await closing(pool)


async def test_full_free_queue_drops_extra_items(redis_server):
    pool = await make_pool(redis_server, minsize=0, maxsize=2)
    try:
        a = await pool.acquire()
        b = await pool.acquire()
        assert pool.size == 2
        # an item the pool does not count any more cannot come back in
        pool._free.extend([await aioredis.create_redis(redis_server.tcp_address, **auth_kwargs(redis_server))
                           for _ in range(2)])
        pool.release(a)
        assert a.closed and pool.freesize == 2
        pool.release(b)
        assert b.closed
    finally:
        for item in list(pool._free):
            item.close()
        await closing(pool)


async def test_waiters_beyond_maxsize_are_all_served_in_order(redis_server):
    pool = await make_pool(redis_server, minsize=0, maxsize=3)
    order = []

    async def worker(i):
        async with pool.get() as redis:
            order.append(i)
            assert await redis.echo(str(i)) == str(i).encode()
            await asyncio.sleep(0.001)

    try:
        await asyncio.gather(*(worker(i) for i in range(200)))
        assert sorted(order) == list(range(200))
        assert pool.size <= 3 and pool.size == pool.freesize
        # FIFO: the first three start at once, the others in arrival order
        assert order[3:] == sorted(order[3:])
    finally:
        await closing(pool)


async def test_acquire_waits_when_exhausted(redis_server):
    pool = await make_pool(redis_server, minsize=1, maxsize=1)
    try:
        item = await pool.acquire()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(pool.acquire(), 0.05)
        pool.release(item)
        assert pool.size == 1 and pool.freesize == 1
        again = await asyncio.wait_for(pool.acquire(), 1)
        assert again is item
        pool.release(again)
    finally:
        await closing(pool)


async def test_cancellation_never_leaks_items(redis_server):
    before = open_sockets()
    pool = await make_pool(redis_server, minsize=0, maxsize=4)
    rng = random.Random(7)

    async def user(i):
        async with pool.get() as redis:
            await redis.echo(b"x")
            await asyncio.sleep(rng.random() / 200)

    try:
        for _ in range(5):
            tasks = [asyncio.ensure_future(user(i)) for i in range(60)]
            for _ in range(rng.randrange(1, 30)):
                await asyncio.sleep(rng.random() / 300)
                rng.choice(tasks).cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            assert pool.size == pool.freesize, (pool.size, pool.freesize)
            assert pool.size <= 4
            assert not pool._used
        # cancelled while waiting in acquire, while creating a connection, inside with
        waiter = asyncio.ensure_future(pool.acquire())
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert open_sockets() - before <= 4
        # the pool still works for everyone
        results = await asyncio.gather(*(pool.execute("ECHO", i) for i in range(20)))
        assert results == [str(i).encode() for i in range(20)]
    finally:
        await closing(pool)


async def test_cancel_while_connecting(redis_server):
    pool = await make_pool(redis_server, minsize=0, maxsize=1)
    try:
        task = asyncio.ensure_future(pool.acquire())
        await asyncio.sleep(0)  # inside create_connection now
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert pool.size == pool.freesize
        item = await asyncio.wait_for(pool.acquire(), 2)
        pool.release(item)
        assert pool.size == 1
    finally:
        await closing(pool)


async def test_clear(redis_server):
    pool = await make_pool(redis_server, minsize=3, maxsize=3)
    try:
        items = list(pool._free)
        await pool.clear()
        assert pool.freesize == 0 and pool.size == 0
        assert all(item.closed for item in items)
        with await pool as redis:  # refills on demand
            assert await redis.ping() == b"PONG"
    finally:
        await closing(pool)


async def test_select(redis_server, flush):
    pool = await make_pool(redis_server, minsize=2, maxsize=2)
    try:
        held = await pool.acquire()
        assert await pool.select(2) is True
        assert pool.db == 2
        with await pool as redis:
            assert redis.db == 2
            await redis.execute("SET", "pool-select", "in-2")
        pool.release(held)  # still on db 0: dropped
        assert held.closed
        with pytest.raises(TypeError):
            await pool.select("1")
        with pytest.raises(ValueError):
            await pool.select(-1)
        with pytest.raises(ReplyError):
            await pool.select(100000)
        assert pool.db == 2
        async with pool.get() as redis:
            assert await redis.execute("GET", "pool-select") == b"in-2"
    finally:
        await closing(pool)


async def test_close_fails_waiting_acquirers(redis_server):
    pool = await make_pool(redis_server, minsize=1, maxsize=1)
    item = await pool.acquire()
    waiter = asyncio.ensure_future(pool.acquire())
    await asyncio.sleep(0.01)
    pool.close()
    with pytest.raises(PoolClosedError):
        await waiter
    with pytest.raises(PoolClosedError):
        await pool.acquire()
    assert pool.closed
    pool.release(item)  # released after close: closed, not kept
    assert item.closed and pool.freesize == 0
    await pool.wait_closed()


async def test_db_and_password(start_redis):
    server = start_redis("--requirepass", "pool-secret")
    pool = await aioredis.create_pool(server.tcp_address, db=3, password="pool-secret",
                                      minsize=1, maxsize=2)
    try:
        async with pool.get() as redis:
            assert redis.db == 3
            assert await redis.ping() == b"PONG"
        assert "pool-secret" not in repr(pool)
    finally:
        await closing(pool)
    with pytest.raises(ReplyError):
        await aioredis.create_pool(server.tcp_address, password="wrong", minsize=1)


async def test_invalid_sizes(redis_server):
    with pytest.raises(ValueError):
        await make_pool(redis_server, minsize=3, maxsize=2)
    with pytest.raises(ValueError):
        await make_pool(redis_server, minsize=-1)
    with pytest.raises(ValueError):
        await make_pool(redis_server, db=-1)
    with pytest.raises(TypeError):
        await make_pool(redis_server, db="0")
