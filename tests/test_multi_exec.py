"""Redis.multi_exec() / aioredis.commands.MultiExec against a real redis-server."""

import asyncio
import sys

import pytest
from helpers import auth_kwargs, client, count_writes, key_maker, settle

import aioredis
from aioredis import (
    ConnectionClosedError,
    MultiExecError,
    PipelineError,
    ReplyError,
    WatchVariableError,
)
from aioredis.commands import Redis
from aioredis.commands.pipeline import MultiExec
from aioredis.util import encode_command


key = key_maker("aioredis-test:multi")


# ---------------------------------------------------------------------------
# results, conversion, encoding
# ---------------------------------------------------------------------------


async def test_results_and_converters(redis_server):
    async with client(redis_server) as redis:
        k, f, h, z, lst = key("s"), key("f"), key("h"), key("z"), key("l")
        await redis.set(f, "1.1")
        tr = redis.multi_exec()
        futs = [
            tr.set(k, "v"),
            tr.incrbyfloat(f, 1.1),
            tr.hmset(h, "a", "1", "b", "2"),
            tr.hgetall(h),
            tr.zadd(z, 1, "one", 2.5, "two"),
            tr.zrange(z, 0, -1, withscores=True),
            tr.rpush(lst, "x", "y"),
            tr.lrange(lst, 0, -1),
            tr.exists(k, key("missing")),
            tr.get(key("missing")),
            tr.expire(k, 100),
        ]
        results = await tr.execute()
        assert results == [
            True,
            pytest.approx(2.2),
            True,
            {b"a": b"1", b"b": b"2"},
            2,
            [(b"one", 1), (b"two", 2.5)],
            2,
            [b"x", b"y"],
            1,
            None,
            True,
        ]
        assert isinstance(results[1], float)
        assert [await fut for fut in futs] == results
        assert not redis.connection.in_transaction


async def test_sent_as_multi_commands_exec_in_one_write(redis_server):
    async with client(redis_server) as redis:
        conn = redis.connection
        k = key()
        await settle(conn)
        tr = redis.multi_exec()
        for i in range(500):
            tr.rpush(k, i)
        tr.llen(k)
        with count_writes(conn) as writes:
            results = await tr.execute()
        assert results == list(range(1, 501)) + [500]
        assert len(writes) == 1, f"{len(writes)} writes"
        expected = (
            encode_command(b"MULTI")
            + b"".join(encode_command(b"RPUSH", k, i) for i in range(500))
            + encode_command(b"LLEN", k)
            + encode_command(b"EXEC")
        )
        assert writes[0] == expected


async def test_thousands_of_commands(redis_server):
    async with client(redis_server, encoding="utf-8") as redis:
        prefix = key()
        tr = redis.multi_exec()
        for i in range(5000):
            tr.set(f"{prefix}:{i}", i)
            tr.get(f"{prefix}:{i}")
        results = await tr.execute()
        assert results[0::2] == [True] * 5000
        assert results[1::2] == [str(i) for i in range(5000)]
        assert await redis.execute(b"DEL", *(f"{prefix}:{i}" for i in range(5000))) == 5000


async def test_connection_wide_encoding(redis_server):
    async with client(redis_server, encoding="utf-8") as redis:
        k, h, lst = key(), key("h"), key("l")
        tr = redis.multi_exec()
        tr.set(k, "välue")
        tr.get(k)
        tr.hmset(h, "f", "ü")
        tr.hgetall(h)
        tr.rpush(lst, "a", "é")
        tr.lrange(lst, 0, -1)
        tr.echo("x")
        assert await tr.execute() == [True, "välue", True, {"f": "ü"}, 2, ["a", "é"], "x"]


async def test_mixed_encodings(redis_server):
    """Commands with different encodings: each item decoded with its own."""
    async with client(redis_server, encoding="utf-8") as redis:
        k, h, lst = key(), key("h"), key("l")
        await redis.set(k, "välue")
        await redis.hmset(h, "f", "ü")
        await redis.rpush(lst, "a", "é")
        tr = redis.multi_exec()
        tr.get(k)
        tr.get(k, encoding=None)
        tr.hgetall(h, encoding=None)
        tr.hgetall(h)
        tr.lrange(lst, 0, -1, encoding="latin-1")
        tr.lrange(lst, 0, -1)
        tr.set(k, "x")  # OK -> True under any encoding
        tr.get(key("missing"), encoding=None)
        results = await tr.execute()
        assert results == [
            "välue",
            "välue".encode(),
            {b"f": "ü".encode()},
            {"f": "ü"},
            ["a", "é".encode().decode("latin-1")],
            ["a", "é"],
            True,
            None,
        ]


async def test_per_command_encoding_without_connection_encoding(redis_server):
    async with client(redis_server) as redis:
        k = key()
        await redis.set(k, "välue")
        tr = redis.multi_exec()
        tr.get(k, encoding="utf-8")
        tr.get(k)
        tr.mget(k, key("missing"), encoding="utf-8")
        assert await tr.execute() == ["välue", "välue".encode(), ["välue", None]]
        # every command with the same explicit encoding
        tr = redis.multi_exec()
        tr.get(k, encoding="utf-8")
        tr.mget(k, k, encoding="utf-8")
        assert await tr.execute() == ["välue", ["välue", "välue"]]


async def test_decode_error_with_mixed_encodings_is_that_commands(redis_server):
    async with client(redis_server) as redis:
        k = key()
        await redis.set(k, b"\xff\xfe")
        tr = redis.multi_exec()
        bad = tr.get(k, encoding="utf-8")
        raw = tr.get(k)
        results = await tr.execute(return_exceptions=True)
        assert isinstance(results[0], UnicodeDecodeError)
        assert results[1] == b"\xff\xfe"
        with pytest.raises(UnicodeDecodeError):
            await bad
        assert await raw == b"\xff\xfe"


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------


async def test_server_error_inside_exec(redis_server):
    async with client(redis_server) as redis:
        k, other = key(), key("other")
        await redis.rpush(k, "x")
        tr = redis.multi_exec()
        a = tr.set(other, "1")
        b = tr.incr(k)  # WRONGTYPE when EXEC runs it
        c = tr.incr(other)
        with pytest.raises(MultiExecError) as info:
            await tr.execute()
        err = info.value
        assert isinstance(err, PipelineError) and isinstance(err, ReplyError)
        assert err.args[0] == "MultiExecError errors:"
        assert len(err.args[1]) == 1 and "WRONGTYPE" in str(err.args[1][0])
        # the transaction ran: the other commands took effect
        assert await a is True and await c == 2
        with pytest.raises(ReplyError, match="WRONGTYPE"):
            await b
        assert await redis.get(other) == b"2"


async def test_validation_error_inside_transaction(redis_server):
    async with client(redis_server) as redis:
        k = key()
        conn = redis.connection
        await settle(conn)
        tr = redis.multi_exec()
        bad = tr.incrby(k, 1.0)  # TypeError: not raised, a failed future
        good = tr.incrby(k, 1)
        with count_writes(conn) as writes:
            with pytest.raises(MultiExecError, match="increment .* must be int"):
                await tr.execute()
        with pytest.raises(TypeError):
            await bad
        assert await good == 1
        assert writes == [
            encode_command(b"MULTI") + encode_command(b"INCRBY", k, 1) + encode_command(b"EXEC")
        ]
        tr = redis.multi_exec()
        tr.incrby(k, 1.0)
        tr.incrby(k, 2)
        results = await tr.execute(return_exceptions=True)
        assert isinstance(results[0], TypeError) and results[1] == 3


async def test_queue_time_error_aborts_the_transaction(redis_server):
    async with client(redis_server) as redis:
        k = key()
        await redis.set(k, "start")
        tr = redis.multi_exec()
        a = tr.set(k, "changed")
        b = tr.connection.execute(b"SET", k)  # wrong number of args: not QUEUED
        c = tr.get(k)
        d = tr.connection.execute(b"NO-SUCH-COMMAND")
        with pytest.raises(MultiExecError) as info:
            await tr.execute()
        errors = info.value.args[1]
        assert len(errors) == 2  # the raw commands are not in the results
        assert all("EXECABORT" in str(e) for e in errors)
        with pytest.raises(ReplyError, match="wrong number of arguments"):
            await b
        with pytest.raises(ReplyError, match="unknown command"):
            await d
        for fut in (a, c):
            with pytest.raises(ReplyError, match="EXECABORT"):
                await fut
        assert await redis.get(k) == b"start"  # nothing ran
        assert not redis.connection.in_transaction

        tr = redis.multi_exec()
        tr.set(k, "changed")
        tr.connection.execute(b"SET", k)
        results = await tr.execute(return_exceptions=True)
        assert len(results) == 1 and "EXECABORT" in str(results[0])


async def test_mixed_errors(redis_server):
    """Server error, validation error and a good command in one transaction."""
    async with client(redis_server) as redis:
        lst, counter = key("list"), key("counter")
        await redis.rpush(lst, "x")
        tr = redis.multi_exec()
        tr.incr(counter)
        tr.get(lst)  # WRONGTYPE at EXEC
        tr.set(counter, "v", expire=0.5)  # TypeError at call time
        tr.incr(counter)
        results = await tr.execute(return_exceptions=True)
        assert results[0] == 1
        assert isinstance(results[1], ReplyError) and "WRONGTYPE" in str(results[1])
        assert isinstance(results[2], TypeError)
        assert results[3] == 2
        tr = redis.multi_exec()
        tr.get(lst)
        tr.set(counter, "v", expire=0.5)
        with pytest.raises(MultiExecError) as info:
            await tr.execute()
        assert [type(e) for e in info.value.args[1]] == [type(results[1]), TypeError]


async def test_argument_rejected_when_sending(redis_server):
    async with client(redis_server) as redis:
        k = key()
        tr = redis.multi_exec()
        tr.set(k, "1")
        bad = tr.connection.execute(b"SET", k, None)
        tr.incr(k)
        assert await tr.execute() == [True, 2]
        with pytest.raises(TypeError):
            await bad


async def test_converter_error_is_that_commands_error(redis_server):
    async with client(redis_server) as redis:
        k = key()
        await redis.set(k, "not a number")
        tr = redis.multi_exec()
        bad = tr.connection.execute(b"GET", k, convert=float)
        good = tr.connection.execute(b"GET", k, convert=len)
        assert await tr.execute() == []
        with pytest.raises(ValueError):
            await bad
        assert await good == len("not a number")


async def test_empty_and_all_failed_send_nothing(redis_server):
    async with client(redis_server) as redis:
        conn = redis.connection
        await settle(conn)
        with count_writes(conn) as writes:
            assert await redis.multi_exec().execute() == []
            tr = redis.multi_exec()
            tr.incrby(key(), 1.5)
            with pytest.raises(MultiExecError) as info:
                await tr.execute()
            await asyncio.sleep(0.01)
        assert writes == []
        assert isinstance(info.value.args[1][0], TypeError)


async def test_all_commands_rejected_when_sending(redis_server):
    """MULTI went out but no command could: the MULTI is discarded."""
    async with client(redis_server) as redis:
        tr = redis.multi_exec()
        tr.connection.execute(b"SET", key(), None)
        tr.echo(None)
        results = await tr.execute(return_exceptions=True)
        assert len(results) == 1 and isinstance(results[0], TypeError)
        assert not redis.connection.in_transaction
        assert await redis.echo("after") == b"after"


async def test_transaction_control_commands_refused(redis_server):
    async with client(redis_server) as redis:
        tr = redis.multi_exec()
        for cmd in (b"MULTI", "exec", b" discard ", bytearray(b"Exec")):
            with pytest.raises(ValueError):
                tr.connection.execute(cmd)
        tr.echo("x")
        assert await tr.execute() == [b"x"]


async def test_closed_connection(redis_server):
    async with client(redis_server) as redis:
        tr = redis.multi_exec()
        fut = tr.echo("x")
        tr.echo("y")
        redis.close()
        await redis.wait_closed()
        with pytest.raises(MultiExecError) as info:
            await tr.execute()
        assert len(info.value.args[1]) == 2
        assert all(isinstance(e, ConnectionClosedError) for e in info.value.args[1])
        with pytest.raises(ConnectionClosedError):
            await fut


async def test_quit_inside_transaction(redis_server):
    """QUIT is answered at once and the server closes: the rest get
    ConnectionClosedError, not CancelledError."""
    redis = await aioredis.create_redis(redis_server.tcp_address, **auth_kwargs(redis_server))
    try:
        k = key()
        tr = redis.multi_exec()
        a = tr.set(k, "1")
        q = tr.quit()
        b = tr.get(k)
        with pytest.raises(MultiExecError) as info:
            await tr.execute()
        errors = info.value.args[1]
        assert len(errors) == 2 and all(isinstance(e, ConnectionClosedError) for e in errors)
        assert await q == b"OK"
        for fut in (a, b):
            with pytest.raises(ConnectionClosedError):
                await fut
        assert redis.closed
    finally:
        redis.close()
        await redis.wait_closed()


async def test_server_dies_mid_transaction(start_redis):
    server = start_redis("--enable-debug-command", "yes", unix_socket=False)
    redis = await aioredis.create_redis(server.tcp_address)
    try:
        tr = redis.multi_exec()
        futs = [tr.echo("a"), tr.debug_sleep(2), tr.echo("b")]
        task = asyncio.ensure_future(tr.execute())
        await asyncio.sleep(0.2)
        assert not task.done()
        server.kill()
        with pytest.raises(MultiExecError) as info:
            await asyncio.wait_for(task, 5)
        assert info.value.args[1]
        assert all(isinstance(e, ConnectionClosedError) for e in info.value.args[1])
        for fut in futs:
            with pytest.raises(ConnectionClosedError):
                await fut
        assert not redis.connection.in_transaction or redis.closed
    finally:
        redis.close()
        await redis.wait_closed()


# ---------------------------------------------------------------------------
# WATCH
# ---------------------------------------------------------------------------


async def test_watch_race_between_two_connections(redis_server):
    async with client(redis_server) as redis, client(redis_server) as other:
        k = key()
        await redis.set(k, "1")
        assert await redis.watch(k) is True
        value = int(await redis.get(k))
        await other.set(k, "100")  # the other client wins the race
        tr = redis.multi_exec()
        a = tr.set(k, value + 1)
        b = tr.get(k)
        with pytest.raises(WatchVariableError) as info:
            await tr.execute()
        assert isinstance(info.value, MultiExecError)
        assert len(info.value.args[1]) == 2
        assert all(isinstance(e, WatchVariableError) for e in info.value.args[1])
        for fut in (a, b):
            with pytest.raises(WatchVariableError):
                await fut
        assert await redis.get(k) == b"100"
        assert not redis.connection.in_transaction

        # return_exceptions: every slot holds a WatchVariableError
        assert await redis.watch(k) is True
        await other.incr(k)
        tr = redis.multi_exec()
        tr.incr(k)
        results = await tr.execute(return_exceptions=True)
        assert len(results) == 1 and isinstance(results[0], WatchVariableError)

        # unchanged: the transaction goes through
        assert await redis.watch(k) is True
        tr = redis.multi_exec()
        tr.incr(k)
        tr.get(k)
        assert await tr.execute() == [102, b"102"]


async def test_watch_retry_loop_with_concurrent_increments(redis_server):
    """Optimistic locking: two clients increment via WATCH/GET/MULTI and
    retry on WatchVariableError; no increment is lost."""
    async with client(redis_server) as r1, client(redis_server) as r2:
        k = key()
        await r1.set(k, 0)
        aborted = 0

        async def increment(redis, times):
            nonlocal aborted
            for _ in range(times):
                while True:
                    await redis.watch(k)
                    value = int(await redis.get(k))
                    await asyncio.sleep(0)  # let the other client interfere
                    tr = redis.multi_exec()
                    tr.set(k, value + 1)
                    try:
                        await tr.execute()
                        break
                    except WatchVariableError:
                        aborted += 1

        await asyncio.gather(increment(r1, 50), increment(r2, 50))
        assert await r1.get(k) == b"100"
        assert aborted > 0


async def test_watch_then_queue_error(redis_server):
    async with client(redis_server) as redis:
        k = key()
        await redis.watch(k)
        tr = redis.multi_exec()
        tr.set(k, "1")
        tr.connection.execute(b"WATCH", k)  # not allowed inside MULTI: not queued
        results = await tr.execute(return_exceptions=True)
        assert results == [True]  # WATCH inside MULTI does not abort it
        assert await redis.get(k) == b"1"


# ---------------------------------------------------------------------------
# state and API
# ---------------------------------------------------------------------------


async def test_select_inside_transaction(redis_server):
    async with client(redis_server) as redis:
        k = key()
        tr = redis.multi_exec()
        tr.select(3)
        tr.set(k, "in db 3")
        assert await tr.execute() == [True, True]
        assert redis.db == 3
        assert await redis.get(k) == b"in db 3"
        await redis.delete(k)


async def test_used_after_execute(redis_server):
    async with client(redis_server) as redis:
        tr = redis.multi_exec()
        assert isinstance(tr, MultiExec)
        tr.echo("x")
        assert await tr.execute() == [b"x"]
        with pytest.raises(AssertionError):
            tr.echo("y")
        with pytest.raises(AssertionError):
            tr.execute()


async def test_constructor_forms(redis_server):
    async with client(redis_server) as redis:
        k = key()
        tr = MultiExec(redis)
        tr.set(k, 1)
        tr.incr(k)
        assert await tr.execute() == [True, 2]
        tr = MultiExec(redis.connection, Redis, loop=asyncio.get_running_loop())
        tr.incr(k)
        assert await tr.execute() == [3]


async def test_concurrent_transactions_on_one_connection(redis_server):
    async with client(redis_server) as redis:
        k = key()

        async def run(n):
            tr = redis.multi_exec()
            tr.rpush(k, *(f"{n}:{i}" for i in range(5)))
            tr.lrange(k, -5, -1)
            return await tr.execute()

        all_results = await asyncio.gather(*(run(n) for n in range(40)))
        for n, (_, tail) in enumerate(all_results):
            # each transaction's LRANGE sees its own 5 items last: atomic
            assert tail == [f"{n}:{i}".encode() for i in range(5)]
        assert not redis.connection.in_transaction


# ---------------------------------------------------------------------------
# pools and reconnecting clients
# ---------------------------------------------------------------------------


async def test_multi_exec_on_redis_pool(redis_server):
    redis = await aioredis.create_redis_pool(
        redis_server.tcp_address, minsize=2, maxsize=2, encoding="utf-8", **auth_kwargs(redis_server)
    )
    try:
        pool = redis.connection
        k = key()
        tr = redis.multi_exec()
        ids = [tr.connection.execute(b"CLIENT", b"ID") for _ in range(3)]
        tr.set(k, "1")
        tr.incrbyfloat(k, 0.5)
        tr.get(k)
        tr.get(k, encoding=None)
        assert await tr.execute() == [True, 1.5, "1.5", b"1.5"]
        assert len({await f for f in ids}) == 1
        assert pool.freesize == 2
        # many transactions at once over a pool of 2
        trs = []
        for n in range(10):
            tr = redis.multi_exec()
            tr.incrbyfloat(k, 1.0)
            trs.append(tr.execute())
        results = await asyncio.gather(*trs)
        assert sorted(r[0] for r in results) == [1.5 + i for i in range(1, 11)]
        assert pool.freesize == 2
        # WATCH on a pool: use one connection for both (with await pool ...)
        async with pool.get() as conn:
            watching = Redis(conn)
            await watching.watch(k)
            await redis.set(k, "changed")  # through another pooled connection
            tr = watching.multi_exec()
            tr.set(k, "mine")
            with pytest.raises(WatchVariableError):
                await tr.execute()
        assert await redis.get(k) == "changed"
    finally:
        redis.close()
        await redis.wait_closed()


async def test_multi_exec_on_reconnecting_redis(redis_server):
    redis = await aioredis.create_reconnecting_redis(redis_server.tcp_address, **auth_kwargs(redis_server))
    try:
        k = key()
        tr = redis.multi_exec()
        tr.set(k, "1")
        tr.incr(k)
        assert await tr.execute() == [True, 2]
        conn = await redis.connection.get_atomic_connection()
        conn.close()
        await conn.wait_closed()
        tr = redis.multi_exec()
        tr.incr(k)
        tr.get(k)
        assert await tr.execute() == [3, b"3"]
        new_conn = await redis.connection.get_atomic_connection()
        assert new_conn is not conn and not new_conn.in_transaction
    finally:
        redis.close()
        await redis.wait_closed()


async def test_big_values_inside_a_transaction(redis_server):
    # A value of 64 KiB or more goes to the transport as it is, so the batch
    # leaves in several writes; together they are still MULTI ... EXEC in order.
    async with client(redis_server) as redis:
        conn = redis.connection
        k = key()
        big = bytes(range(256)) * 1024
        await settle(conn)
        tr = redis.multi_exec()
        tr.set(k, "before")
        tr.set(k, big)
        tr.append(k, "!")
        tr.get(k)
        with count_writes(conn) as writes:
            results = await tr.execute()
        assert results == [True, True, len(big) + 1, big + b"!"]
        assert b"".join(writes) == (
            encode_command(b"MULTI") + encode_command(b"SET", k, "before") + encode_command(b"SET", k, big)
            + encode_command(b"APPEND", k, "!") + encode_command(b"GET", k) + encode_command(b"EXEC"))
        if sys.version_info < (3, 12):
            assert len(writes) == 3  # the part before the value, the value, the rest
        else:  # up to the value's end in one writelines(), then the rest
            assert len(writes) == 2
