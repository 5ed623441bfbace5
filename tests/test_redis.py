"""create_redis, create_redis_pool, create_reconnecting_redis and the Redis
object's own members, against a real redis-server."""

import asyncio

import subprocess

import pytest
from conftest import RedisServer, redis_server_binary
from helpers import auth_kwargs

import aioredis
from aioredis import ConnectionClosedError, Redis, ReplyError
from aioredis.commands import AutoConnector


async def test_create_redis_members(redis_server):
    redis = await aioredis.create_redis(redis_server.tcp_address, db=1, **auth_kwargs(redis_server))
    try:
        assert isinstance(redis, Redis)
        assert repr(redis) == "<Redis <RedisConnection [db:1]>>"
        assert redis.db == 1 and redis.encoding is None and not redis.closed
        assert not redis.in_transaction
        assert isinstance(redis.connection, aioredis.RedisConnection)
        assert redis.address == redis_server.tcp_address
        assert await redis.echo("hi") == b"hi"
        assert await redis.echo("hi", encoding="utf-8") == "hi"
        assert await redis.ping() == b"PONG"
        assert await redis.ping("msg") == b"msg"
        assert await redis.execute("ECHO", b"raw") == b"raw"
        assert await redis.select(2) is True and redis.db == 2
        with pytest.raises(TypeError):
            redis.select("2")
        with pytest.raises(ValueError):
            redis.select(-1)
        with pytest.raises(TypeError):
            redis.echo(None)
        assert await redis.ping() == b"PONG"  # nothing stray was sent
    finally:
        redis.close()
        await redis.wait_closed()
    assert redis.closed


async def test_swapdb(redis_server, flush):
    redis = await aioredis.create_redis(redis_server.tcp_address, **auth_kwargs(redis_server))
    try:
        await redis.execute("SET", "swap-me", "from-0")
        assert await redis.swapdb(0, 5) is True
        assert await redis.execute("GET", "swap-me") is None
        await redis.select(5)
        assert await redis.execute("GET", "swap-me") == b"from-0"
    finally:
        redis.close()
        await redis.wait_closed()


async def test_async_with_closes(redis_server):
    async with await aioredis.create_redis(redis_server.tcp_address, **auth_kwargs(redis_server)) as redis:
        assert await redis.ping() == b"PONG"
    assert redis.closed
    with pytest.raises(ConnectionClosedError):
        redis.ping()


async def test_quit(redis_server):
    redis = await aioredis.create_redis(redis_server.tcp_address, **auth_kwargs(redis_server))
    assert await redis.quit() == b"OK"
    await asyncio.wait_for(redis.wait_closed(), 5)
    assert redis.closed
    with pytest.raises(ConnectionClosedError):
        redis.ping()


async def test_auth(start_redis):
    server = start_redis("--requirepass", "r-secret")
    redis = await aioredis.create_redis(server.tcp_address)
    try:
        with pytest.raises(ReplyError, match="NOAUTH"):
            await redis.ping()
        with pytest.raises(ReplyError):
            await redis.auth("wrong")
        assert await redis.auth("r-secret") is True
        assert await redis.ping() == b"PONG"
    finally:
        redis.close()
        await redis.wait_closed()


async def test_create_redis_pool(redis_server):
    redis = await aioredis.create_redis_pool(
        redis_server.tcp_address, minsize=1, maxsize=3, encoding="utf-8", **auth_kwargs(redis_server)
    )
    try:
        assert isinstance(redis.connection, aioredis.RedisPool)
        assert repr(redis).startswith("<Redis <RedisPool [db:0, size:[1:3]")
        results = await asyncio.gather(*(redis.echo(str(i)) for i in range(500)))
        assert results == [str(i) for i in range(500)]
        assert redis.connection.size <= 3
    finally:
        redis.close()
        await redis.wait_closed()
    assert redis.closed


async def kill_client_of(redis, server):
    """CLIENT KILL the connection of a reconnecting ``redis`` from another
    connection, and wait until it has noticed."""
    conn = await redis.connection.get_atomic_connection()
    client_id = await conn.execute("CLIENT", "ID")
    killer = await aioredis.create_redis(server.tcp_address, **auth_kwargs(server))
    try:
        assert await killer.execute("CLIENT", "KILL", "ID", client_id) == 1
    finally:
        killer.close()
        await killer.wait_closed()
    await asyncio.wait_for(conn.wait_closed(), 5)


async def test_reconnecting_is_lazy_and_reconnects(redis_server):
    redis = await aioredis.create_reconnecting_redis(redis_server.tcp_address, db=2,
                                                     **auth_kwargs(redis_server))
    assert isinstance(redis.connection, AutoConnector)
    assert repr(redis.connection) == "<AutoConnector None>"
    coro = redis.echo("lazy")
    assert asyncio.iscoroutine(coro)  # a real coroutine: nothing sent yet
    assert await coro == b"lazy"
    assert repr(redis.connection) == "<AutoConnector <RedisConnection [db:2]>>"
    first = await redis.connection.get_atomic_connection()
    # the server drops us between two commands: the next one reconnects
    await kill_client_of(redis, redis_server)
    assert await redis.echo("again") == b"again"
    second = await redis.connection.get_atomic_connection()
    assert second is not first and second.db == 2
    redis.close()
    await redis.wait_closed()
    assert redis.closed
    with pytest.raises(ConnectionClosedError):
        await redis.ping()


async def test_reconnecting_survives_server_restart(start_redis, tmp_path):
    server = start_redis(unix_socket=False)
    redis = await aioredis.create_reconnecting_redis(server.tcp_address)
    assert await redis.execute("SET", "k", "v") == b"OK"
    first = await redis.connection.get_atomic_connection()
    server.kill()
    await asyncio.wait_for(first.wait_closed(), 5)
    # a new server process on the same port
    restarted = RedisServer(server.host, server.port, workdir=str(tmp_path))
    restarted.proc = subprocess.Popen(
        [redis_server_binary(), "--port", str(server.port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        assert restarted._wait_ready()
        assert await redis.ping() == b"PONG"  # reconnected at the start of the command
        assert await redis.execute("GET", "k") is None  # a new, empty server
    finally:
        redis.close()
        await redis.wait_closed()
        restarted.kill()


async def test_reconnecting_does_not_repeat_interrupted_command(start_redis):
    server = start_redis(unix_socket=False)
    redis = await aioredis.create_reconnecting_redis(server.tcp_address)
    assert await redis.ping() == b"PONG"
    pending = asyncio.ensure_future(redis.execute("BLPOP", "nothing", 0))
    await asyncio.sleep(0.05)
    server.kill()
    with pytest.raises(ConnectionClosedError):
        await asyncio.wait_for(pending, 5)
    redis.close()
    await redis.wait_closed()


@pytest.mark.parametrize("how", ["pipeline", "multi_exec", "execute"])
async def test_reconnecting_keeps_a_db_however_it_was_selected(redis_server, how):
    redis = await aioredis.create_reconnecting_redis(redis_server.tcp_address,
                                                     **auth_kwargs(redis_server))
    on_db4 = await aioredis.create_redis(redis_server.tcp_address, db=4, **auth_kwargs(redis_server))
    k = f"reconnect-db:{how}"
    try:
        assert await redis.ping() == b"PONG"
        if how == "execute":
            assert await redis.execute("SELECT", 4) == b"OK"
        else:
            batch = redis.pipeline() if how == "pipeline" else redis.multi_exec()
            batch.select(4)
            assert await batch.execute() == [True]
        assert redis.db == 4
        await kill_client_of(redis, redis_server)
        assert await redis.set(k, how) is True  # reconnected: still on db 4
        assert redis.db == 4
        assert await on_db4.get(k) == how.encode()
        await on_db4.delete(k)
    finally:
        redis.close()
        await redis.wait_closed()
        on_db4.close()
        await on_db4.wait_closed()


async def test_reconnecting_closed_while_connecting(redis_server):
    redis = await aioredis.create_reconnecting_redis(redis_server.tcp_address,
                                                     **auth_kwargs(redis_server))
    ping = asyncio.ensure_future(redis.ping())
    await asyncio.sleep(0)  # connecting
    redis.close()
    with pytest.raises(ConnectionClosedError):
        await asyncio.wait_for(ping, 5)
    await asyncio.wait_for(redis.wait_closed(), 5)
    conn = redis.connection._conn
    assert conn is None or conn.closed  # no connection left open
