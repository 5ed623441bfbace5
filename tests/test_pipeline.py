"""Redis.pipeline() / aioredis.commands.Pipeline against a real redis-server.

Also runs the Python examples of docs/transactions.rst.
"""

import asyncio
import gc
import random
import re
from pathlib import Path

import pytest
from helpers import auth_kwargs, client, count_writes, key_maker, settle

import aioredis
from aioredis import ConnectionClosedError, PipelineError, ReplyError
from aioredis.commands import Redis
from aioredis.commands.pipeline import MultiExec, Pipeline
from aioredis.util import encode_command

DOCS = Path(__file__).resolve().parent.parent / "docs" / "transactions.rst"


key = key_maker("aioredis-test:pipe")


# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------


async def test_results_in_call_order_with_converters(redis_server):
    async with client(redis_server) as redis:
        k, f, h, z = key("str"), key("float"), key("hash"), key("zset")
        await redis.execute(b"HSET", h, "a", "1", "b", "2")
        pipe = redis.pipeline()
        futs = [
            pipe.set(k, "value"),
            pipe.get(k),
            pipe.incrbyfloat(f, 1.5),
            pipe.hgetall(h),
            pipe.exists(k, f, key("missing")),
            pipe.zadd(z, 1, "one", 2.5, "two"),
            pipe.zrange(z, 0, -1, withscores=True),
            pipe.echo("hi"),
            pipe.get(key("missing")),
        ]
        results = await pipe.execute()
        assert results == [
            True,
            b"value",
            1.5,
            {b"a": b"1", b"b": b"2"},
            2,
            2,
            [(b"one", 1), (b"two", 2.5)],
            b"hi",
            None,
        ]
        assert isinstance(results[2], float)
        # the futures the buffered calls returned hold the same results
        assert [await fut for fut in futs] == results
        assert await redis.get(k) == b"value"


async def test_nothing_is_sent_before_execute(redis_server):
    async with client(redis_server) as redis:
        k = key()
        pipe = redis.pipeline()
        fut = pipe.set(k, "v")
        await asyncio.sleep(0.01)
        assert await redis.exists(k) == 0
        assert not fut.done()
        assert await pipe.execute() == [True]
        assert await redis.exists(k) == 1


async def test_thousands_of_commands(redis_server):
    async with client(redis_server) as redis:
        prefix = key()
        pipe = redis.pipeline()
        for i in range(5000):
            pipe.set(f"{prefix}:{i}", i)
            pipe.get(f"{prefix}:{i}")
        results = await pipe.execute()
        assert len(results) == 10000
        assert results[0::2] == [True] * 5000
        assert results[1::2] == [str(i).encode() for i in range(5000)]
        assert await redis.execute(b"DEL", *(f"{prefix}:{i}" for i in range(5000))) == 5000


async def test_empty_pipeline_sends_nothing(redis_server):
    async with client(redis_server) as redis:
        conn = redis.connection
        await settle(conn)
        with count_writes(conn) as writes:
            assert await redis.pipeline().execute() == []
            assert await redis.pipeline().execute(return_exceptions=True) == []
            await asyncio.sleep(0.01)
        assert writes == []


async def test_one_write_for_the_whole_pipeline(redis_server):
    async with client(redis_server) as redis:
        conn = redis.connection
        k = key()
        await settle(conn)
        pipe = redis.pipeline()
        for i in range(1000):
            pipe.rpush(k, i)
        pipe.lrange(k, 0, -1)
        with count_writes(conn) as writes:
            results = await pipe.execute()
        assert results[:1000] == list(range(1, 1001))
        assert results[1000] == [str(i).encode() for i in range(1000)]
        assert len(writes) == 1, f"{len(writes)} writes"
        expected = b"".join(encode_command(b"RPUSH", k, i) for i in range(1000))
        assert writes[0] == expected + encode_command(b"LRANGE", k, 0, -1)


async def test_commands_of_other_tasks_are_not_interleaved(redis_server):
    """Everything is queued synchronously: another task's command cannot
    land in the middle of the pipeline."""
    async with client(redis_server) as redis:
        conn = redis.connection
        k = key()
        await settle(conn)
        pipe = redis.pipeline()
        for i in range(50):
            pipe.rpush(k, i)

        async def other():
            return await redis.rpush(k, "other")

        with count_writes(conn) as writes:
            task = asyncio.ensure_future(other())
            results = await pipe.execute()
            assert await task == 51
        assert results == list(range(1, 51))
        assert await redis.lrange(k, 0, -1) == [str(i).encode() for i in range(50)] + [b"other"]
        assert len(writes) == 1


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------


async def test_server_error_raises_pipeline_error(redis_server):
    async with client(redis_server) as redis:
        k = key()
        await redis.rpush(k, "x")
        pipe = redis.pipeline()
        ok = pipe.echo("before")
        bad = pipe.get(k)  # WRONGTYPE
        after = pipe.echo("after")
        with pytest.raises(PipelineError) as info:
            await pipe.execute()
        err = info.value
        assert isinstance(err, ReplyError)  # PipelineError is a ReplyError here
        assert err.args[0] == "PipelineError errors:"
        assert len(err.args[1]) == 1 and isinstance(err.args[1][0], ReplyError)
        assert "WRONGTYPE" in str(err.args[1][0])
        # the other commands ran and their futures have their results
        assert await ok == b"before"
        assert await after == b"after"
        with pytest.raises(ReplyError, match="WRONGTYPE"):
            await bad


async def test_return_exceptions(redis_server):
    async with client(redis_server) as redis:
        k = key()
        await redis.rpush(k, "x")
        pipe = redis.pipeline()
        pipe.echo("a")
        pipe.get(k)
        pipe.incrby(k, 1.5)  # validation: TypeError
        pipe.echo("b")
        results = await pipe.execute(return_exceptions=True)
        assert results[0] == b"a"
        assert isinstance(results[1], ReplyError) and "WRONGTYPE" in str(results[1])
        assert isinstance(results[2], TypeError)
        assert results[3] == b"b"


async def test_call_time_error_is_a_failed_placeholder(redis_server):
    async with client(redis_server) as redis:
        conn = redis.connection
        k = key()
        await settle(conn)
        pipe = redis.pipeline()
        first = pipe.set(k, "1")
        bad = pipe.incrby(k, "not an int")  # TypeError, not raised here
        bad2 = pipe.getrange(k, 0, "x")
        last = pipe.incr(k)
        assert bad.done() and isinstance(bad.exception(), TypeError)
        with count_writes(conn) as writes:
            with pytest.raises(PipelineError, match="increment argument must be int") as info:
                await pipe.execute()
        errors = info.value.args[1]
        assert [type(e) for e in errors] == [TypeError, TypeError]
        # only the valid commands went out
        assert writes == [encode_command(b"SET", k, "1") + encode_command(b"INCR", k)]
        assert await first is True and await last == 2
        with pytest.raises(TypeError):
            await bad
        with pytest.raises(TypeError):
            await bad2


async def test_only_failed_calls_send_nothing(redis_server):
    async with client(redis_server) as redis:
        conn = redis.connection
        await settle(conn)
        pipe = redis.pipeline()
        pipe.incrby(key(), 1.0)
        pipe.set(key(), "v", expire=1.5)
        with count_writes(conn) as writes:
            with pytest.raises(PipelineError) as info:
                await pipe.execute()
            await asyncio.sleep(0.01)
        assert writes == []
        assert [type(e) for e in info.value.args[1]] == [TypeError, TypeError]
        pipe = redis.pipeline()
        pipe.incrby(key(), 1.0)
        results = await pipe.execute(return_exceptions=True)
        assert len(results) == 1 and isinstance(results[0], TypeError)


async def test_argument_rejected_when_sending(redis_server):
    """An argument the encoder refuses fails that command only."""
    async with client(redis_server) as redis:
        k = key()
        pipe = redis.pipeline()
        a = pipe.set(k, "1")
        b = pipe.connection.execute(b"SET", k, None)
        c = pipe.incr(k)
        assert await pipe.execute() == [True, 2]
        with pytest.raises(TypeError):
            await b
        assert await a is True and await c == 2


async def test_converter_error_is_that_commands_error(redis_server):
    async with client(redis_server) as redis:
        k = key()
        await redis.set(k, "not a float")

        def boom(reply):
            raise ValueError(f"cannot convert {reply!r}")

        pipe = redis.pipeline()
        pipe.connection.execute(b"GET", k, convert=boom)  # raw: not in the results
        pipe.echo("x")
        fut = pipe.connection.execute(b"GET", k, convert=float)
        assert await pipe.execute() == [b"x"]
        with pytest.raises(ValueError):
            await fut


async def test_raw_buffered_command_not_in_results(redis_server):
    async with client(redis_server) as redis:
        k = key()
        pipe = redis.pipeline()
        raw = pipe.connection.execute(b"INCRBY", k, "1.0")  # server error
        raw_ok = pipe.connection.execute("SET", k, "5")
        get = pipe.get(k)
        assert await pipe.execute() == [b"5"]
        with pytest.raises(ReplyError, match="not an integer"):
            await raw
        assert await raw_ok == b"OK"
        assert await get == b"5"


async def test_closed_connection(redis_server):
    async with client(redis_server) as redis:
        pipe = redis.pipeline()
        fut = pipe.echo("x")
        pipe.echo("y")
        redis.close()
        await redis.wait_closed()
        with pytest.raises(PipelineError) as info:
            await pipe.execute()
        assert len(info.value.args[1]) == 2
        assert all(isinstance(e, ConnectionClosedError) for e in info.value.args[1])
        with pytest.raises(ConnectionClosedError):
            await fut


async def test_connection_lost_while_waiting(redis_server):
    redis = await aioredis.create_redis(redis_server.tcp_address, **auth_kwargs(redis_server))
    try:
        k = key()
        pipe = redis.pipeline()
        pipe.set(k, "1")
        pipe.quit()
        after = pipe.get(k)  # the server never answers this one
        results = await pipe.execute(return_exceptions=True)
        assert results[:2] == [True, b"OK"]
        assert isinstance(results[2], ConnectionClosedError)
        with pytest.raises(ConnectionClosedError):
            await after
    finally:
        redis.close()
        await redis.wait_closed()


# ---------------------------------------------------------------------------
# state and API
# ---------------------------------------------------------------------------


async def test_used_after_execute(redis_server):
    async with client(redis_server) as redis:
        pipe = redis.pipeline()
        buffer = pipe.connection
        pipe.echo("x")
        coro = pipe.execute()
        with pytest.raises(AssertionError, match="already executed"):
            pipe.execute()
        assert await coro == [b"x"]
        with pytest.raises(AssertionError):
            pipe.echo("y")
        with pytest.raises(AssertionError):
            pipe.get
        with pytest.raises(AssertionError):
            pipe.execute()
        with pytest.raises(AssertionError):
            buffer.execute(b"PING")
        # a bound method kept from before is refused too
        pipe2 = redis.pipeline()
        echo = pipe2.echo
        await pipe2.execute()
        with pytest.raises(AssertionError):
            echo("z")


async def test_encoding_per_command_and_connection_wide(redis_server):
    async with client(redis_server, encoding="utf-8") as redis:
        k, h, lst = key(), key("h"), key("l")
        await redis.set(k, "välue")
        await redis.hmset(h, "f", "ü")
        await redis.rpush(lst, "a", "b")
        pipe = redis.pipeline()
        pipe.get(k)
        pipe.get(k, encoding=None)
        pipe.hgetall(h)
        pipe.hgetall(h, encoding=None)
        pipe.lrange(lst, 0, -1)
        pipe.lrange(lst, 0, -1, encoding="latin-1")
        pipe.set(k, "x")
        assert await pipe.execute() == [
            "välue",
            "välue".encode(),
            {"f": "ü"},
            {b"f": "ü".encode()},
            ["a", "b"],
            ["a", "b"],
            True,
        ]
    async with client(redis_server) as redis:
        await redis.set(k, "välue")
        pipe = redis.pipeline()
        pipe.get(k)
        pipe.get(k, encoding="utf-8")
        assert await pipe.execute() == ["välue".encode(), "välue"]


async def test_attributes_pass_through(redis_server):
    async with client(redis_server, encoding="utf-8") as redis:
        pipe = redis.pipeline()
        assert pipe.encoding == "utf-8"
        assert pipe.db == 0
        assert not pipe.closed
        assert isinstance(pipe, Pipeline)
        assert "Pipeline" in repr(pipe)
        assert await pipe.execute() == []


async def test_select_and_auth_buffered(redis_server):
    async with client(redis_server) as redis:
        pipe = redis.pipeline()
        sel = pipe.select(2)
        bad = pipe.select(-1)
        pipe.echo("x")
        results = await pipe.execute(return_exceptions=True)
        assert results[0] is True and isinstance(results[1], ValueError) and results[2] == b"x"
        assert await sel is True
        assert redis.db == 2
        if not redis_server.password:
            pipe = redis.pipeline()
            pipe.auth("wrong password")  # no password configured: an error reply
            pipe.echo("y")
            results = await pipe.execute(return_exceptions=True)
            assert isinstance(results[0], ReplyError) and results[1] == b"y"


async def test_pubsub_commands_are_refused(redis_server):
    async with client(redis_server) as redis:
        pipe = redis.pipeline()
        pipe.subscribe("chan")
        pipe.echo("x")
        results = await pipe.execute(return_exceptions=True)
        assert isinstance(results[0], aioredis.RedisError)
        assert results[1] == b"x"
        assert redis.connection.in_pubsub == 0


async def test_raw_pubsub_command_fails_its_placeholder(redis_server):
    async with client(redis_server) as redis:
        pipe = redis.pipeline()
        sub = pipe.connection.execute("SUBSCRIBE", "chan")  # past the Redis method's check
        echo = pipe.echo("x")
        assert await pipe.execute() == [b"x"]
        with pytest.raises(aioredis.RedisError, match="cannot be used in a pipeline"):
            await sub
        assert await echo == b"x"
        assert redis.connection.in_pubsub == 0


async def test_errors_of_an_abandoned_pipeline_are_not_reported(redis_server):
    # The caller is gone before the replies arrive: the failed placeholders
    # must not log "Future exception was never retrieved" (conftest fails the
    # test if anything reaches the loop's exception handler).
    async with client(redis_server) as redis:
        k = key()
        await redis.set(k, "text")
        pipe = redis.pipeline()
        pipe.incr(k)  # WRONGTYPE-like error: not an integer
        pipe.lpush(k, "x")  # WRONGTYPE
        task = asyncio.ensure_future(pipe.execute())
        await asyncio.sleep(0)  # sent
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await redis.ping()  # the replies have arrived behind it
        del pipe, task
        gc.collect()


async def test_pipeline_on_a_connection_like_object(redis_server):
    # Anything with execute() will do (no _execute_batch: command by command).
    class Wrapped:
        def __init__(self, conn):
            self.conn = conn
            self.calls = 0

        def execute(self, command, *args, **kwargs):
            self.calls += 1
            return self.conn.execute(command, *args, **kwargs)

    async with client(redis_server) as redis:
        k = key()
        wrapped = Wrapped(redis.connection)
        pipe = Pipeline(wrapped, Redis)
        pipe.set(k, "1")
        pipe.incr(k)
        bad = pipe.lpush(k, "x")  # refused by the server: WRONGTYPE
        pipe.get(k)
        results = await pipe.execute(return_exceptions=True)
        assert results[:2] == [True, 2] and results[3] == b"2"
        assert isinstance(results[2], ReplyError)
        with pytest.raises(ReplyError):
            await bad
        assert wrapped.calls == 4


async def test_constructor_forms(redis_server):
    async with client(redis_server) as redis:
        k = key()
        pipe = Pipeline(redis)
        pipe.set(k, "1")
        pipe.incr(k)
        assert await pipe.execute() == [True, 2]

        loop = asyncio.get_running_loop()
        pipe = Pipeline(redis.connection, Redis, loop=loop)  # the 0.1 form
        pipe.incr(k)
        pipe.get(k)
        assert await pipe.execute() == [3, b"3"]

        pipe = Pipeline(redis.connection)  # commands_factory defaults to identity
        sel = pipe.select(1)  # the buffer's own methods are proxied
        assert await pipe.execute() == [True]
        assert await sel is True and redis.db == 1

        other_loop = asyncio.new_event_loop()
        try:
            with pytest.raises(ValueError):
                Pipeline(redis, loop=other_loop)
            with pytest.raises(ValueError):
                MultiExec(redis, loop=other_loop)
        finally:
            other_loop.close()


async def test_many_pipelines_concurrently_on_one_connection(redis_server):
    async with client(redis_server) as redis:
        prefix = key()

        async def run(n):
            pipe = redis.pipeline()
            for i in range(20):
                pipe.set(f"{prefix}:{n}:{i}", n * 100 + i)
                pipe.get(f"{prefix}:{n}:{i}")
            return await pipe.execute()

        all_results = await asyncio.gather(*(run(n) for n in range(30)))
        for n, results in enumerate(all_results):
            assert results[1::2] == [str(n * 100 + i).encode() for i in range(20)]


# ---------------------------------------------------------------------------
# pools and reconnecting clients
# ---------------------------------------------------------------------------


async def test_pipeline_on_redis_pool_uses_one_connection(redis_server):
    redis = await aioredis.create_redis_pool(
        redis_server.tcp_address, minsize=3, maxsize=3, **auth_kwargs(redis_server)
    )
    try:
        pool = redis.connection
        k = key()
        pipe = redis.pipeline()
        ids = []
        for i in range(10):
            ids.append(pipe.connection.execute(b"CLIENT", b"ID"))
            pipe.incr(k)
        assert await pipe.execute() == list(range(1, 11))
        ids = [await f for f in ids]
        assert len(set(ids)) == 1
        assert pool.freesize == 3  # released
        # many at once over a pool of 3
        pipes = []
        for n in range(10):
            pipe = redis.pipeline()
            for i in range(5):
                pipe.incr(k)
            pipes.append(pipe.execute())
        results = await asyncio.gather(*pipes)
        assert sorted(r for rs in results for r in rs) == list(range(11, 61))
        assert pool.freesize == 3
    finally:
        redis.close()
        await redis.wait_closed()


async def test_pipeline_on_create_pool_item(redis_server):
    pool = await aioredis.create_pool(
        redis_server.tcp_address, minsize=1, maxsize=2, **auth_kwargs(redis_server)
    )
    try:
        async with pool.get() as redis:
            pipe = redis.pipeline()
            pipe.echo("a")
            pipe.echo("b")
            assert await pipe.execute() == [b"a", b"b"]
        # a pipeline over the pool object itself
        pipe = Pipeline(pool, Redis)
        pipe.echo("c")
        assert await pipe.execute() == [b"c"]
        assert pool.freesize == pool.size
    finally:
        pool.close()
        await pool.wait_closed()


async def test_pipeline_on_closed_pool(redis_server):
    redis = await aioredis.create_redis_pool(redis_server.tcp_address, **auth_kwargs(redis_server))
    pipe = redis.pipeline()
    pipe.echo("a")
    redis.close()
    await redis.wait_closed()
    with pytest.raises(PipelineError) as info:
        await pipe.execute()
    assert isinstance(info.value.args[1][0], aioredis.PoolClosedError)


async def test_pipeline_on_reconnecting_redis(redis_server):
    redis = await aioredis.create_reconnecting_redis(redis_server.tcp_address, **auth_kwargs(redis_server))
    try:
        k = key()
        pipe = redis.pipeline()
        pipe.set(k, "1")
        pipe.incr(k)
        pipe.get(k)
        assert await pipe.execute() == [True, 2, b"2"]
        # the connection dies: the next pipeline reconnects
        conn = await redis.connection.get_atomic_connection()
        conn.close()
        await conn.wait_closed()
        pipe = redis.pipeline()
        pipe.incr(k)
        assert await pipe.execute() == [3]
        assert (await redis.connection.get_atomic_connection()) is not conn
    finally:
        redis.close()
        await redis.wait_closed()


# ---------------------------------------------------------------------------
# cancellation
# ---------------------------------------------------------------------------


async def cancel_somehow(rnd, coro):
    """Await ``coro`` but cancel it at a random point; its result or None."""
    mode = rnd.randrange(3)
    if mode == 0:
        try:
            return await asyncio.wait_for(coro, rnd.choice((0, 1e-6, 1e-4, 1e-3)))
        except TimeoutError:
            return None
    task = asyncio.ensure_future(coro)
    if mode == 1:
        for _ in range(rnd.randrange(5)):
            await asyncio.sleep(0)
    else:
        await asyncio.sleep(rnd.random() * 2e-4)
    task.cancel()
    try:
        return await task
    except asyncio.CancelledError:
        return None


@pytest.mark.parametrize("kind", ["pipeline", "multi_exec"])
async def test_cancel_at_random_points_single_connection(redis_server, kind):
    rnd = random.Random(20240501)
    async with client(redis_server) as redis:
        conn = redis.connection
        k = key()
        total = 0
        for i in range(2000):
            pipe = getattr(redis, kind)()
            n = rnd.randint(1, 4)
            futs = [pipe.incr(k) for _ in range(n)]
            if rnd.random() < 0.2:
                futs.append(pipe.incrby(k, "bad"))  # a validation failure too
            result = await cancel_somehow(rnd, pipe.execute(return_exceptions=True))
            token = f"check-{i}"
            assert await redis.echo(token) == token.encode()  # its own reply
            assert not conn.in_transaction
            # on a single connection execute() sent everything at once
            values = [f.result() for f in futs[:n]]
            assert values == list(range(total + 1, total + n + 1))
            if result is not None:
                assert result[:n] == values
            total += n
            assert conn.pending == 0
        assert await redis.get(k) == str(total).encode()


@pytest.mark.parametrize("kind", ["pipeline", "multi_exec"])
async def test_cancel_at_random_points_on_pool(redis_server, kind):
    rnd = random.Random(77)
    redis = await aioredis.create_redis_pool(
        redis_server.tcp_address, minsize=2, maxsize=2, **auth_kwargs(redis_server)
    )
    try:
        pool = redis.connection
        k = key()
        total = 0
        for i in range(500):
            batch = []
            for _ in range(rnd.randint(1, 4)):  # more pipelines than connections
                pipe = getattr(redis, kind)()
                futs = [pipe.incr(k) for _ in range(rnd.randint(1, 3))]
                batch.append((futs, cancel_somehow(rnd, pipe.execute())))
            await asyncio.gather(*(c for _, c in batch))
            token = f"check-{i}"
            assert await redis.echo(token) == token.encode()
            # every buffered call either never went out (cancelled while
            # waiting for a connection) or got its result
            for futs, _ in batch:
                await asyncio.wait(futs)
                states = {f.cancelled() for f in futs}
                assert len(states) == 1
                if not futs[0].cancelled():
                    total += len(futs)
            assert await redis.get(k) == (str(total).encode() if total else None)
        assert pool.size == 2
        conns = [await pool.acquire() for _ in range(2)]
        try:
            for conn in conns:
                assert not conn.in_transaction
                assert await conn.execute(b"ECHO", "mine") == b"mine"
        finally:
            for conn in conns:
                pool.release(conn)
    finally:
        redis.close()
        await redis.wait_closed()


# ---------------------------------------------------------------------------
# the documentation's examples
# ---------------------------------------------------------------------------


def doc_blocks():
    text = DOCS.read_text()
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", text)
    return [re.sub(r"^    ", "", b, flags=re.M) for b in blocks]


def test_docs_have_examples():
    assert len(doc_blocks()) >= 3


@pytest.mark.parametrize("index", range(len(doc_blocks())))
async def test_docs_example_runs(index, redis_server, capsys):
    if redis_server.password:
        pytest.skip("the examples connect without a password")
    source = doc_blocks()[index]
    host, port = redis_server.tcp_address
    source = source.replace('("localhost", 6379)', f"({host!r}, {port})")
    assert "asyncio.run(main())" in source
    namespace = {}
    exec(compile(source.replace("asyncio.run(main())", ""), str(DOCS), "exec"), namespace)
    await namespace["main"]()
    out = capsys.readouterr().out.splitlines()
    expected = re.findall(r"print\(.*\)  # (.*)", source)
    assert expected, "each example shows its output"
    assert out == expected


async def test_big_values_in_a_pipeline(redis_server):
    # values of 64 KiB or more are handed to the transport as they are,
    # between the buffered parts: all in order, results as usual
    async with client(redis_server) as redis:
        k = key()
        big = bytes(range(256)) * 1024
        pipe = redis.pipeline()
        pipe.set(k + ":a", big)
        pipe.set(k + ":b", "small")
        pipe.append(k + ":a", big)
        pipe.mget(k + ":a", k + ":b")
        results = await pipe.execute()
        assert results == [True, True, 2 * len(big), [big + big, b"small"]]


async def test_command_methods_are_c_wrappers_with_the_python_semantics(redis_server):
    from aioredis import _core

    async with client(redis_server) as redis:
        k = key()
        pipe = redis.pipeline()
        assert isinstance(pipe.set, _core.PipelineCall)
        assert pipe.set.__wrapped__ == pipe._redis.set
        assert "set" in repr(pipe.set)
        ok = pipe.set(k, "1")
        bad = pipe.set(k, "1", expire=1.5)  # refused by the method: a failed placeholder
        assert bad.done() and isinstance(bad.exception(), TypeError)

        class Stop(BaseException):
            pass

        def interrupted():
            pipe._redis.execute(b"ECHO", "half-buffered")
            raise Stop

        call = _core.PipelineCall(pipe._recorder, interrupted)
        with pytest.raises(Stop):  # not an Exception: passes through as it is
            call()
        del pipe._commands[-1]
        assert await pipe.execute(return_exceptions=True) == [True, bad.exception()]
        assert await ok is True
        with pytest.raises(AssertionError, match="already executed"):
            pipe.get(k)  # a new attribute
        with pytest.raises(AssertionError, match="already executed"):
            pipe.set(k, "2")  # the wrapper made before execute()
        with pytest.raises(TypeError, match="method must be callable"):
            _core.PipelineCall(pipe._recorder, "not callable")
        with pytest.raises(TypeError, match="recorder must be"):
            _core.PipelineCall(pipe, interrupted)


async def test_recorder_takes_the_python_path_for_anything_unusual(redis_server):
    from aioredis import _core

    async with client(redis_server) as redis:
        k = key()
        pipe = redis.pipeline()
        execute = pipe.connection.execute
        assert isinstance(execute, _core.PipelineRecorder)
        a = execute(b"SET", k, "1")  # the C path
        b = execute("INCR", k)  # a str command: the Python method
        c = execute(b"GET", k, encoding="utf-8")
        d = execute(b"GET", k, encoding=None, convert=int)
        with pytest.raises(TypeError, match="unexpected keyword"):
            execute(b"GET", k, bogus=1)
        with pytest.raises(TypeError, match="encoding must be"):
            execute(b"GET", k, encoding=1)
        with pytest.raises(TypeError, match="convert must be callable"):
            execute(b"GET", k, convert=1)
        assert [(f._command, f._args, f._encoding, f._convert) for f in pipe._commands] == [
            (b"SET", (k, "1"), aioredis.util._NOTSET, None),
            ("INCR", (k,), aioredis.util._NOTSET, None),
            (b"GET", (k,), "utf-8", None),
            (b"GET", (k,), None, int),
        ]
        assert await pipe.execute() == []  # raw calls are not in the results
        assert [await f for f in (a, b, c, d)] == [b"OK", 2, "2", 2]
        with pytest.raises(AssertionError, match="already executed"):
            execute(b"PING")
        tr = redis.multi_exec()  # checks its commands: always the Python path
        with pytest.raises(ValueError):
            tr.connection.execute(b"EXEC")
