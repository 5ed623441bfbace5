"""RedisConnection against a real redis-server (see conftest.py for the fixtures).

Everything here is an integration test: ``redis_server`` is the shared plain
server (or $REDIS_URL), ``start_redis`` starts throwaway servers for tests that
need a password or kill the server.
"""

import asyncio
import codecs
import contextlib
import gc
import random
import socket
import sys
import threading
import time
import uuid
import weakref

import pytest
from conftest import free_port
from helpers import auth_kwargs, closing, key_maker

import aioredis
from aioredis import (
    ConnectionClosedError,
    ConnectionForcedCloseError,
    ReplyError,
)

SECRET = "s3cr3t-Pa55word"


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


key = key_maker("aioredis-test")


@contextlib.asynccontextmanager
async def connect(address, **kwargs):
    conn = await aioredis.create_connection(address, **kwargs)
    try:
        yield conn
    finally:
        await closing(conn)


def shared(server, **kwargs):
    """A connection to the shared server (with its password, if any)."""
    return connect(server.tcp_address, **{**auth_kwargs(server), **kwargs})


async def wait_until(predicate, timeout=2.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.005)


def client_count(server):
    """Number of clients connected to ``server`` (not counting the asking one)."""
    listing = server.command("CLIENT", "LIST")
    return len([line for line in listing.splitlines() if line.strip()]) - 1


async def wait_client_count(server, n, timeout=2.0):
    deadline = time.monotonic() + timeout
    while True:
        count = client_count(server)
        if count == n:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"server has {count} clients, expected {n}")
        await asyncio.sleep(0.01)


def assert_execute_raises_closed(conn):
    with pytest.raises(ConnectionClosedError):
        conn.execute("PING")


async def assert_all_fail(futures, exc_type, timeout=5.0, not_type=None):
    results = await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), timeout)
    for i, res in enumerate(results):
        assert isinstance(res, exc_type), f"future {i}: expected {exc_type.__name__}, got {res!r}"
        if not_type is not None:
            assert not isinstance(res, not_type), f"future {i}: got {res!r}"
    return results


@contextlib.contextmanager
def count_transport_writes():
    """Record every socket-transport write (monkeypatches the class)."""
    import asyncio.selector_events as se

    cls = se._SelectorSocketTransport
    original = cls.write
    calls = []

    def write(self, data):
        calls.append(bytes(data))
        return original(self, data)

    cls.write = write
    try:
        yield calls
    finally:
        cls.write = original


# ---------------------------------------------------------------------------
# connecting
# ---------------------------------------------------------------------------


async def test_tcp_tuple_address(redis_server):
    async with shared(redis_server) as conn:
        assert conn.closed is False
        assert conn.db == 0
        assert conn.encoding is None
        assert conn.in_transaction is False
        assert tuple(conn.address) == redis_server.tcp_address
        assert repr(conn) == "<RedisConnection [db:0]>"
        assert await conn.execute("PING") == b"PONG"
        assert await conn.execute(b"PING") == b"PONG"
        assert await conn.execute(bytearray(b"ping")) == b"PONG"


async def test_tcp_list_address(redis_server):
    async with connect(list(redis_server.tcp_address), **auth_kwargs(redis_server)) as conn:
        assert await conn.execute("ECHO", "list") == b"list"
        assert tuple(conn.address) == redis_server.tcp_address


async def test_unix_socket(redis_server, unix_path):
    async with connect(unix_path, **auth_kwargs(redis_server)) as conn:
        assert conn.address == unix_path
        assert await conn.execute("PING") == b"PONG"
        info = await conn.execute("CLIENT", "INFO")
        flags = info.split(b"flags=")[1].split()[0]
        assert b"U" in flags, info  # U: connected via a unix socket


async def test_connection_refused():
    port = free_port()
    with pytest.raises(OSError):
        await aioredis.create_connection(("127.0.0.1", port))


async def test_url_address(redis_server, flush):
    # 065bd65 opened the string as a unix socket path: FileNotFoundError
    url = f"redis://{redis_server.host}:{redis_server.port}/4"
    async with connect(url, **auth_kwargs(redis_server)) as conn:
        assert conn.address == redis_server.tcp_address
        assert conn.db == 4
        assert b"db=4" in await conn.execute("CLIENT", "INFO")


async def test_missing_unix_socket_is_named(tmp_path):
    path = str(tmp_path / "no-such.sock")
    with pytest.raises(FileNotFoundError) as info:
        await aioredis.create_connection(path)
    assert path in str(info.value)


@pytest.mark.uvloop
async def test_url_and_missing_unix_socket_on_uvloop(redis_server, tmp_path):
    url = f"redis://{redis_server.host}:{redis_server.port}/4"
    async with connect(url, **auth_kwargs(redis_server)) as conn:
        assert conn.db == 4 and await conn.execute("PING") == b"PONG"
    path = str(tmp_path / "no-such.sock")
    with pytest.raises(FileNotFoundError, match="no-such.sock"):
        await aioredis.create_connection(path)


@pytest.mark.parametrize("address", [6379, ("127.0.0.1", 6379, 0)], ids=repr)
async def test_not_an_address_is_named(address):
    with pytest.raises((TypeError, ValueError)) as info:
        await aioredis.create_connection(address)
    assert repr(address) in str(info.value)


async def test_host_port_string_is_not_a_path():
    # "host:port" is neither a pair, a path nor a supported URL
    with pytest.raises(ValueError) as info:
        await aioredis.create_connection(f"127.0.0.1:{free_port()}")
    assert not isinstance(info.value, OSError)
    assert "127.0.0.1" in str(info.value)


async def test_select_db_on_connect(redis_server, flush):
    k = key()
    async with shared(redis_server, db=3) as conn:
        assert conn.db == 3
        assert repr(conn) == "<RedisConnection [db:3]>"
        assert b"db=3" in await conn.execute("CLIENT", "INFO")
        assert await conn.execute("SET", k, "in-db-3") == b"OK"
    async with shared(redis_server, db=0) as conn0:
        assert await conn0.execute("GET", k) is None
        assert await conn0.execute("SELECT", 3) == b"OK"
        assert await conn0.execute("GET", k) == b"in-db-3"
        await conn0.execute("DEL", k)


@pytest.mark.parametrize("db", ["1", b"1", 1.0, [1]], ids=repr)
async def test_db_type_error_before_connecting(db):
    # Nothing listens on this port: a TypeError (not ConnectionRefusedError)
    # proves the check happens before connecting.
    with pytest.raises(TypeError):
        await aioredis.create_connection(("127.0.0.1", free_port()), db=db)


@pytest.mark.parametrize("db", [-1, -100])
async def test_db_negative_value_error_before_connecting(db):
    with pytest.raises(ValueError):
        await aioredis.create_connection(("127.0.0.1", free_port()), db=db)


async def test_db_out_of_range_reply_error_and_connection_closed(start_redis):
    server = start_redis()
    with pytest.raises(ReplyError) as info:
        await aioredis.create_connection(server.tcp_address, db=100000)
    assert "DB index" in str(info.value) or "out of range" in str(info.value)
    await wait_client_count(server, 0)


async def test_db_read_only(redis_server):
    async with shared(redis_server) as conn:
        with pytest.raises(AttributeError):
            conn.db = 5
        assert conn.db == 0


async def test_loop_argument(redis_server):
    loop = asyncio.get_running_loop()
    async with shared(redis_server, loop=loop) as conn:
        assert await conn.execute("PING") == b"PONG"
    other = asyncio.new_event_loop()
    try:
        with pytest.raises(ValueError):
            await aioredis.create_connection(redis_server.tcp_address, loop=other, **auth_kwargs(redis_server))
    finally:
        other.close()


# ---------------------------------------------------------------------------
# password
# ---------------------------------------------------------------------------


async def test_password_ok(start_redis):
    server = start_redis("--requirepass", SECRET)
    async with connect(server.tcp_address, password=SECRET) as conn:
        assert await conn.execute("PING") == b"PONG"
        assert SECRET not in repr(conn)
        assert repr(conn) == "<RedisConnection [db:0]>"
    async with connect(server.unix_path, password=SECRET, db=2) as conn:
        assert conn.db == 2
        assert await conn.execute("PING") == b"PONG"
        assert SECRET not in repr(conn)


async def test_wrong_password(start_redis):
    server = start_redis("--requirepass", SECRET)
    wrong = "wr0ng-" + SECRET[::-1]
    with pytest.raises(ReplyError) as info:
        await aioredis.create_connection(server.tcp_address, password=wrong)
    exc = info.value
    texts = [str(exc), repr(exc), repr(exc.args)]
    cause = exc.__cause__ or exc.__context__
    while cause is not None:
        texts += [str(cause), repr(cause)]
        cause = cause.__cause__ or cause.__context__
    for text in texts:
        assert wrong not in text and SECRET not in text, text
    # The connection was closed before the error propagated (give the
    # server a moment to notice the close).
    await wait_client_count(server, 0)


async def test_no_password_noauth_on_first_command(start_redis):
    server = start_redis("--requirepass", SECRET)
    async with connect(server.tcp_address) as conn:
        with pytest.raises(ReplyError) as info:
            await conn.execute("PING")
        assert info.value.args[0].startswith("NOAUTH"), info.value.args
        # Still usable: authenticate now with .auth().
        assert await conn.auth(SECRET) is True
        assert await conn.execute("PING") == b"PONG"


async def test_auth_method_wrong_password(start_redis):
    server = start_redis("--requirepass", SECRET)
    async with connect(server.tcp_address) as conn:
        with pytest.raises(ReplyError) as info:
            await conn.auth("nope-" + SECRET)
        assert SECRET not in str(info.value)
        assert await conn.auth(SECRET) is True
        assert await conn.execute("ECHO", "x") == b"x"


async def test_password_then_bad_db_closes(start_redis):
    server = start_redis("--requirepass", SECRET)
    with pytest.raises(ReplyError):
        await aioredis.create_connection(server.tcp_address, password=SECRET, db=100000)
    await wait_client_count(server, 0)


# ---------------------------------------------------------------------------
# replies and encoding
# ---------------------------------------------------------------------------


async def test_reply_types(redis_server):
    k, lst = key(), key("list")
    async with shared(redis_server) as conn:
        assert await conn.execute("SET", k, "v") == b"OK"
        assert await conn.execute("GET", key("missing")) is None
        assert await conn.execute("INCR", key("n")) == 1
        assert await conn.execute("LRANGE", key("empty"), 0, -1) == []
        assert await conn.execute("RPUSH", lst, "a", "b", "c") == 3
        assert await conn.execute("LRANGE", lst, 0, -1) == [b"a", b"b", b"c"]
        assert await conn.execute("EVAL", "return {1, 'x', {2, {'y'}}, false}", 0) == [1, b"x", [2, [b"y"]], None]


async def test_error_reply_keeps_connection_usable(redis_server):
    k = key()
    async with shared(redis_server) as conn:
        with pytest.raises(ReplyError) as info:
            await conn.execute("NOSUCHCOMMAND", "x")
        assert isinstance(info.value.args[0], str)
        assert info.value.args[0].startswith("ERR unknown command"), info.value.args
        assert await conn.execute("PING") == b"PONG"

        # Pipelined: error replies interleaved with good ones each reach their caller.
        await conn.execute("SET", k, "string")
        futs = [
            conn.execute("ECHO", "a"),
            conn.execute("LPUSH", k, "x"),
            conn.execute("ECHO", "b"),
            conn.execute("INCR", k),
            conn.execute("ECHO", "c"),
        ]
        res = await asyncio.gather(*futs, return_exceptions=True)
        assert res[0] == b"a" and res[2] == b"b" and res[4] == b"c"
        assert isinstance(res[1], ReplyError) and res[1].args[0].startswith("WRONGTYPE")
        assert isinstance(res[3], ReplyError) and "not an integer" in res[3].args[0]


async def test_connection_encoding(redis_server):
    k, lst = key(), key("list")
    async with shared(redis_server, encoding="utf-8") as conn:
        assert conn.encoding == "utf-8"
        assert await conn.execute("SET", k, "héllo") == "OK"
        assert await conn.execute("GET", k) == "héllo"
        assert await conn.execute("PING") == "PONG"
        assert await conn.execute("GET", k, encoding=None) == "héllo".encode()
        assert await conn.execute("PING", encoding=None) == b"PONG"
        assert await conn.execute("GET", k, encoding="utf-8") == "héllo"
        assert await conn.execute("INCR", key("n")) == 1
        assert await conn.execute("GET", key("missing")) is None
        # Recursive decoding.
        await conn.execute("RPUSH", lst, "a", "ü", "c")
        assert await conn.execute("LRANGE", lst, 0, -1) == ["a", "ü", "c"]
        assert await conn.execute("LRANGE", lst, 0, -1, encoding=None) == [b"a", "ü".encode(), b"c"]
        nested = await conn.execute("EVAL", "return {'a', {'b', {'ç', 7}}}", 0)
        assert nested == ["a", ["b", ["ç", 7]]]


async def test_per_call_encoding(redis_server):
    k = key()
    async with shared(redis_server) as conn:
        await conn.execute("SET", k, "värde")
        assert await conn.execute("GET", k) == "värde".encode()
        assert await conn.execute("GET", k, encoding="utf-8") == "värde"
        assert await conn.execute("MGET", k, k, key("none"), encoding="utf-8") == ["värde", "värde", None]
        assert await conn.execute("GET", k) == "värde".encode()


async def test_decode_error_keeps_connection_usable(redis_server):
    k, lst = key(), key("list")
    async with shared(redis_server, encoding="utf-8") as conn:
        await conn.execute("SET", k, b"\xff\xfe")
        await conn.execute("RPUSH", lst, b"ok", b"\xc3", b"after")
        futs = [
            conn.execute("GET", k),
            conn.execute("ECHO", "next"),
            conn.execute("LRANGE", lst, 0, -1),
            conn.execute("ECHO", "last"),
        ]
        res = await asyncio.gather(*futs, return_exceptions=True)
        assert isinstance(res[0], UnicodeDecodeError), res[0]
        assert res[1] == "next"
        assert isinstance(res[2], UnicodeDecodeError), res[2]
        assert res[3] == "last"
        assert conn.closed is False
        assert await conn.execute("GET", k, encoding=None) == b"\xff\xfe"
        assert await conn.execute("LRANGE", lst, 0, -1, encoding=None) == [b"ok", b"\xc3", b"after"]
        assert await conn.execute("PING") == "PONG"


async def test_unknown_per_call_encoding(redis_server):
    async with shared(redis_server) as conn:
        try:
            fut = conn.execute("ECHO", "x", encoding="no-such-codec")
        except (LookupError, TypeError, ValueError):
            pass
        else:
            with pytest.raises(LookupError):
                await fut
        assert await conn.execute("ECHO", "y") == b"y"
        with pytest.raises(TypeError):
            conn.execute("ECHO", "x", encoding=b"utf-8")
        assert await conn.execute("ECHO", "z") == b"z"


class _ReentrantCodecs:
    """Codecs whose decode() runs Python code against the connection."""

    def __init__(self):
        self.conn = None
        self.extra = []
        codecs.register(self.search)

    def search(self, name):
        if not name.startswith("aioredis_test_"):
            return None
        action = name[len("aioredis_test_") :]

        def decode(data, errors="strict"):
            if action == "close":
                self.conn.close()
            elif action == "execute":
                self.extra.append(self.conn.execute("ECHO", b"from-codec"))
            elif action == "raise":
                raise RuntimeError("codec failed")
            return bytes(data).decode("utf-8"), len(data)

        def encode(text, errors="strict"):
            return text.encode("utf-8"), len(text)

        return codecs.CodecInfo(encode, decode, name=name)


_reentrant = _ReentrantCodecs()


async def test_reentrant_codec_execute_and_raise(redis_server):
    lst = key("list")
    async with shared(redis_server) as conn:
        _reentrant.conn, _reentrant.extra = conn, []
        await conn.execute("RPUSH", lst, "x", "y", "z")
        futs = [
            conn.execute("ECHO", "a"),
            conn.execute("ECHO", "b", encoding="aioredis_test_execute"),
            conn.execute("LRANGE", lst, 0, -1, encoding="aioredis_test_execute"),
            conn.execute("ECHO", "c", encoding="aioredis_test_raise"),
            conn.execute("ECHO", "d"),
        ]
        res = await asyncio.gather(*futs, return_exceptions=True)
        assert res[:3] == [b"a", "b", ["x", "y", "z"]]
        assert isinstance(res[3], RuntimeError), res[3]
        assert res[4] == b"d"
        assert len(_reentrant.extra) == 4  # one per decoded string
        assert await asyncio.gather(*_reentrant.extra) == [b"from-codec"] * 4
        assert await conn.execute("PING") == b"PONG"
        await conn.execute("DEL", lst)


async def test_reentrant_codec_closes_connection(redis_server):
    lst = key("list")
    async with shared(redis_server) as setup:
        await setup.execute("RPUSH", lst, "x", "y", "z")
        conn = await aioredis.create_connection(redis_server.tcp_address, **auth_kwargs(redis_server))
        _reentrant.conn = conn
        futs = [
            conn.execute("ECHO", "a"),
            conn.execute("LRANGE", lst, 0, -1, encoding="aioredis_test_close"),  # closes mid-array
            conn.execute("ECHO", "c"),
            conn.execute("ECHO", "d", encoding="aioredis_test_close"),
        ]
        res = await asyncio.gather(*futs, return_exceptions=True)
        assert res[0] == b"a"
        # The reply being built may complete or fail, but must not be garbage.
        assert res[1] == ["x", "y", "z"] or isinstance(res[1], ConnectionClosedError), res[1]
        assert isinstance(res[2], ConnectionForcedCloseError), res[2]
        assert isinstance(res[3], ConnectionForcedCloseError), res[3]
        assert conn.closed is True
        await conn.wait_closed()
        assert_execute_raises_closed(conn)
        await setup.execute("DEL", lst)


# ---------------------------------------------------------------------------
# arguments
# ---------------------------------------------------------------------------


class MyInt(int):
    pass


ROUND_TRIP = [
    (b"a\x00b\r\nc$3\r\n", b"a\x00b\r\nc$3\r\n"),
    (b"", b""),
    (bytearray(b"ba\x00rr"), b"ba\x00rr"),
    (memoryview(b"mv\r\n\x00"), b"mv\r\n\x00"),
    (memoryview(b"xxsliceyy")[2:7], b"slice"),
    ("héllo ☃ 😀", "héllo ☃ 😀".encode()),
    (42, b"42"),
    (0, b"0"),
    (-7, b"-7"),
    (2**64 + 1, b"18446744073709551617"),
    (-(2**63), b"-9223372036854775808"),
    (1.5, b"1.5"),
    (0.1, b"0.1"),
    (-2.25, b"-2.25"),
    (1e20, b"1e+20"),
    (1.0, b"1.0"),
]


@pytest.mark.parametrize("value, stored", ROUND_TRIP, ids=lambda v: repr(v)[:30])
async def test_argument_round_trip(redis_server, value, stored):
    k = key()
    async with shared(redis_server) as conn:
        assert await conn.execute("SET", k, value) == b"OK"
        assert await conn.execute("GET", k) == stored
        # Also as a key.
        assert await conn.execute("SET", value, "as-key") == b"OK"
        assert await conn.execute("GET", stored) == b"as-key"
        await conn.execute("DEL", k, stored)


BAD_ARGS = [
    (None, "None"),
    ([b"x"], "list"),
    ({"a": 1}, "dict"),
    (True, "bool"),
    (object(), "object"),
    (MyInt(3), "MyInt"),
    ((1,), "tuple"),
]


@pytest.mark.parametrize("bad, type_name", BAD_ARGS, ids=lambda v: type(v).__name__ if not isinstance(v, str) else v)
async def test_bad_argument_type_error_nothing_sent(redis_server, bad, type_name):
    k = key()
    async with shared(redis_server) as conn:
        before = conn.execute("ECHO", "before")
        with pytest.raises(TypeError) as info:
            conn.execute("SET", k, bad)  # synchronously, no await
        msg = str(info.value)
        assert type_name in msg, msg
        with pytest.raises(TypeError) as info2:
            conn.execute("RPUSH", k, "good", "good", bad)
        assert type_name in str(info2.value)
        assert str(info2.value) != msg, "position not named: both messages are identical"
        with pytest.raises(TypeError):
            conn.execute(bad, k)  # as the command name
        after = conn.execute("ECHO", "after")
        assert await before == b"before"
        assert await after == b"after"
        # Nothing of the rejected commands reached the server.
        assert await conn.execute("EXISTS", k) == 0
        assert await conn.execute("PING") == b"PONG"


async def test_none_command_type_error(redis_server):
    async with shared(redis_server) as conn:
        with pytest.raises(TypeError):
            conn.execute(None)
        with pytest.raises(TypeError):
            conn.execute(5)
        assert await conn.execute("PING") == b"PONG"


async def test_large_value(redis_server):
    k = key()
    value = bytes(range(256)) * (12 * 4096)  # 12 MiB
    async with shared(redis_server) as conn:
        assert await conn.execute("SET", k, value) == b"OK"
        assert await conn.execute("GET", k) == value
        assert await conn.execute("STRLEN", k) == len(value)
        await conn.execute("DEL", k)


# ---------------------------------------------------------------------------
# concurrency, pipelining, cancellation
# ---------------------------------------------------------------------------


async def test_commands_queued_while_writing_is_paused(redis_server):
    """A huge write pauses the transport; commands queued meanwhile still go out."""
    k = key()
    big = b"z" * (32 * 1024 * 1024)
    async with shared(redis_server) as conn:
        f_set = conn.execute("SET", k, big)
        await asyncio.sleep(0)  # flushed: most of it sits in the transport buffer
        later = [conn.execute("ECHO", i) for i in range(100)]
        await asyncio.sleep(0)
        more = [conn.execute("STRLEN", k)]
        assert await asyncio.wait_for(f_set, 10) == b"OK"
        assert await asyncio.wait_for(asyncio.gather(*later), 10) == [str(i).encode() for i in range(100)]
        assert await asyncio.wait_for(more[0], 10) == len(big)
        await conn.execute("DEL", k)


async def test_many_concurrent_callers(redis_server):
    prefix = key("c")

    async def caller(i):
        k = f"{prefix}:{i}"
        v = f"value-{i}-{uuid.uuid4().hex}"
        assert await conn.execute("SET", k, v) == b"OK"
        return v.encode(), await conn.execute("GET", k)

    async with shared(redis_server) as conn:
        results = await asyncio.gather(*(caller(i) for i in range(5000)))
        wrong = [(want, got) for want, got in results if want != got]
        assert not wrong, f"{len(wrong)} callers got another caller's value, e.g. {wrong[:3]}"
        keys = [f"{prefix}:{i}" for i in range(5000)]
        assert await conn.execute("DEL", *keys) == 5000


async def test_implicit_pipelining_batches_writes(redis_server):
    # An idle connection sends a command at once (lowest latency for one
    # command in flight); what is queued while replies are awaited leaves
    # in one write at the next loop iteration.
    from aioredis._core import pack_command

    with count_transport_writes() as writes:
        async with shared(redis_server) as conn:
            assert await conn.execute("PING") == b"PONG"
            await asyncio.sleep(0)
            writes.clear()
            futs = [conn.execute("ECHO", i) for i in range(1000)]
            results = await asyncio.gather(*futs)
            n_writes = len(writes)
            written = b"".join(writes)

            # Commands from many tasks that run in the same iteration too.
            async def one(i):
                return await conn.execute("ECHO", i)

            writes.clear()
            results2 = await asyncio.gather(*(one(i) for i in range(100)))
            n_writes2 = len(writes)
    assert results == [str(i).encode() for i in range(1000)]
    assert n_writes == 2, f"1000 commands in one loop iteration took {n_writes} transport.write calls"
    assert written == b"".join(pack_command("ECHO", i) for i in range(1000))
    assert results2 == [str(i).encode() for i in range(100)]
    assert n_writes2 == 2, f"100 tasks' commands in one iteration took {n_writes2} writes"


async def test_idle_connection_writes_at_once(redis_server):
    from aioredis._core import pack_command

    with count_transport_writes() as writes:
        async with shared(redis_server) as conn:
            await conn.execute("PING")
            writes.clear()
            fut = conn.execute("ECHO", "now")
            assert writes == [pack_command("ECHO", "now")]  # before any await
            assert await fut == b"now"
            conn._cork()
            try:
                fut = conn.execute("ECHO", "later")
                assert len(writes) == 1  # corked: left for the next iteration
            finally:
                conn._uncork()
            assert await fut == b"later"
            assert writes[1:] == [pack_command("ECHO", "later")]


def _recording_transport_writes():
    """Like count_transport_writes, but keeps the objects written as they are
    (each part of a writelines() list too: from 3.12 big arguments go that way)."""
    import asyncio.selector_events as se

    cls = se._SelectorSocketTransport
    original, original_writelines = cls.write, cls.writelines
    calls = []
    in_writelines = []

    def write(self, data):
        if not in_writelines:
            calls.append(data)
        return original(self, data)

    def writelines(self, list_of_data):
        parts = list(list_of_data)
        calls.extend(parts)
        in_writelines.append(True)
        try:
            return original_writelines(self, parts)
        finally:
            in_writelines.pop()

    @contextlib.contextmanager
    def patched():
        cls.write, cls.writelines = write, writelines
        try:
            yield calls
        finally:
            cls.write, cls.writelines = original, original_writelines

    return patched()


async def test_big_bytes_arguments_are_written_without_a_copy(redis_server):
    from aioredis._core import pack_command

    k = "aioredis-test:conn:bigarg"
    big1 = b"a" * (64 * 1024)  # the threshold
    big2 = bytes(range(256)) * 1024
    small_below = b"s" * (64 * 1024 - 1)
    with _recording_transport_writes() as writes:
        async with shared(redis_server) as conn:
            await conn.execute("PING")
            writes.clear()
            # queued behind a small command still in the output buffer
            conn._cork()
            first = conn.execute("SET", k + ":0", "x")
            second = conn.execute("MSET", k + ":1", big1, k + ":2", small_below, k + ":3", big2)
            conn._uncork()
            assert await first == b"OK" and await second == b"OK"
            assert await conn.execute("MGET", k + ":1", k + ":2", k + ":3") == [big1, small_below, big2]
            sent = b"".join(bytes(w) for w in writes)
            expected = (pack_command("SET", k + ":0", "x")
                        + pack_command("MSET", k + ":1", big1, k + ":2", small_below, k + ":3", big2))
            assert sent.startswith(expected)
            # the two big values went to the transport as the caller's objects
            assert any(w is big1 for w in writes) and any(w is big2 for w in writes)
            assert not any(w is small_below for w in writes)

            # a bytearray (mutable) is always copied
            writes.clear()
            mutable = bytearray(b"m" * (100 * 1024))
            assert await conn.execute("SET", k + ":4", mutable) == b"OK"
            assert not any(w is mutable for w in writes)
            assert await conn.execute("GET", k + ":4") == bytes(mutable)

            # while writing is paused the big value is queued behind what waits
            writes.clear()
            conn.pause_writing()
            fut = conn.execute("SET", k + ":5", big2)
            assert writes == []
            conn.resume_writing()
            assert await fut == b"OK"
            assert b"".join(bytes(w) for w in writes) == pack_command("SET", k + ":5", big2)
            assert await conn.execute("GET", k + ":5") == big2

            # queued together: the batch is split around the big value, in order
            tr_results = await asyncio.gather(
                conn.execute("SET", k + ":6", big1), conn.execute("INCR", k + ":7"),
                conn.execute("GET", k + ":6"))
            assert tr_results == [b"OK", 1, big1]
            await conn.execute("DEL", *[f"{k}:{i}" for i in range(8)])


async def test_big_arguments_on_an_idle_connection_go_in_one_sendmsg(redis_server):
    """Nothing queued anywhere: the command goes straight to the socket, in
    one scatter/gather call, without transport.write (src/sendmsg.c, 3.11);
    from 3.12 in one transport.writelines(), which does that sendmsg()."""
    from aioredis._core import pack_command

    k = "aioredis-test:conn:direct"
    big1 = bytes(range(256)) * 512  # 128 KiB
    big2 = b"q" * (1024 * 1024)
    with _recording_transport_writes() as writes:
        async with shared(redis_server) as conn:
            await conn.execute("PING")
            writes.clear()
            assert await conn.execute("MSET", k + ":1", big1, k + ":2", "small", k + ":3", big2) == b"OK"
            if sys.version_info < (3, 12):
                assert writes == []  # not one transport.write
                assert conn._direct_sends == 1
            else:  # the parts of one writelines(), the values as they are
                assert b"".join(writes) == pack_command("MSET", k + ":1", big1, k + ":2", "small", k + ":3", big2)
                assert any(w is big1 for w in writes) and any(w is big2 for w in writes)
                assert conn._direct_sends == 0
            assert await conn.execute("MGET", k + ":1", k + ":2", k + ":3") == [big1, b"small", big2]
            assert await conn.execute("SET", k + ":1", big2) == b"OK"
            assert await conn.execute("STRLEN", k + ":1") == len(big2)
            await conn.execute("DEL", k + ":1", k + ":2", k + ":3")


@contextlib.contextmanager
def _other_transport_recording():
    """New connections get a subclass of the standard library's socket
    transport: not the exact type, so the protocol treats it like any other
    transport (uvloop's): writelines() for big arguments, never sendmsg()
    under it. Records ("write", data) and ("writelines", [parts]) calls
    (a write() made by writelines() itself is not recorded)."""
    import asyncio.selector_events as se

    original = se._SelectorSocketTransport
    calls = []

    class Recording(original):
        _in_writelines = False

        def write(self, data):
            if not self._in_writelines:
                calls.append(("write", data))
            return super().write(data)

        def writelines(self, list_of_data):
            parts = list(list_of_data)
            calls.append(("writelines", parts))
            self._in_writelines = True
            try:
                return super().writelines(parts)
            finally:
                self._in_writelines = False

    se._SelectorSocketTransport = Recording
    try:
        yield calls
    finally:
        se._SelectorSocketTransport = original


async def test_other_transports_get_big_arguments_in_one_writelines_call(redis_server):
    from aioredis._core import pack_command

    k = "aioredis-test:conn:lines"
    big1 = bytes(range(256)) * 512  # 128 KiB
    big2 = b"q" * (1024 * 1024)
    with _other_transport_recording() as calls:
        async with shared(redis_server) as conn:
            await conn.execute("PING")
            calls.clear()
            # idle: the whole command in one call, the values as the caller's objects
            assert await conn.execute("MSET", k + ":1", big1, k + ":2", "small", k + ":3", big2) == b"OK"
            assert [c[0] for c in calls] == ["writelines"]
            parts = calls[0][1]
            assert b"".join(parts) == pack_command("MSET", k + ":1", big1, k + ":2", "small", k + ":3", big2)
            assert any(p is big1 for p in parts) and any(p is big2 for p in parts)
            assert await conn.execute("MGET", k + ":1", k + ":2", k + ":3") == [big1, b"small", big2]

            # queued behind a corked command: that one leads the same call
            calls.clear()
            conn._cork()
            first = conn.execute("SET", k + ":0", "x")
            second = conn.execute("SET", k + ":1", big2)
            conn._uncork()
            assert await first == b"OK" and await second == b"OK"
            assert [c[0] for c in calls] == ["writelines"]
            assert b"".join(calls[0][1]) == pack_command("SET", k + ":0", "x") + pack_command("SET", k + ":1", big2)

            # paused: nothing written, the value copied behind what waits
            calls.clear()
            conn.pause_writing()
            fut = conn.execute("SET", k + ":2", big1)
            assert calls == []
            conn.resume_writing()
            assert await fut == b"OK"
            assert [c[0] for c in calls] == ["write"]
            assert calls[0][1] == pack_command("SET", k + ":2", big1) and calls[0][1] is not big1
            assert await conn.execute("GET", k + ":2") == big1
            await conn.execute("DEL", k + ":0", k + ":1", k + ":2", k + ":3")


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="sendmsg.c is used on 3.11 only")
async def test_what_the_socket_does_not_take_goes_through_the_transport(redis_server):
    """A value larger than the socket's send buffer: sendmsg() takes part of
    it, the rest is handed to the transport (a view, not a copy) in order."""
    k = "aioredis-test:conn:direct-rest"
    big = bytes(range(256)) * (160 * 1024)  # 40 MiB: more than any send buffer here
    with _recording_transport_writes() as writes:
        async with shared(redis_server) as conn:
            await conn.execute("PING")
            writes.clear()
            fut = conn.execute("SET", k, big)
            after = conn.execute("STRLEN", k)  # queued behind it
            assert await asyncio.wait_for(fut, 30) == b"OK"
            assert await asyncio.wait_for(after, 30) == len(big)
            rest = sum(len(w) for w in writes)
            # the transport got the tail of the value (plus the rest of the
            # command and STRLEN), not all of it
            assert 0 < rest < len(big)
            assert await conn.execute("GETRANGE", k, len(big) - 4, -1) == big[-4:]
            await conn.execute("DEL", k)


async def test_big_argument_to_a_peer_that_reset():
    """sendmsg() fails (the peer is gone): the rest goes to the transport,
    which meets the error itself; the commands fail with
    ConnectionClosedError and nothing hangs. (A fake peer: one that closes
    at once.)"""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve():
        peer, _ = listener.accept()
        peer.close()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        conn = await aioredis.create_connection(listener.getsockname())
        thread.join(5)  # blocking: the loop has not seen the close
        value = b"c" * (1024 * 1024)
        first = conn.execute("SET", "k", value)  # sent; the peer answers with a reset
        time.sleep(0.1)  # blocking again: the reset arrives
        second = conn.execute("SET", "k", value)  # sendmsg() fails now
        for fut in (first, second):
            with pytest.raises(ConnectionClosedError):
                await asyncio.wait_for(fut, 10)
        conn.close()
        await asyncio.wait_for(conn.wait_closed(), 10)
    finally:
        listener.close()
        thread.join(5)


async def test_cancelled_future_directly(redis_server):
    async with shared(redis_server) as conn:
        f1 = conn.execute("ECHO", "one")
        f2 = conn.execute("ECHO", "two")
        f1.cancel()
        f3 = conn.execute("ECHO", "three")
        assert await f2 == b"two"
        assert await f3 == b"three"
        assert f1.cancelled()
        assert await conn.execute("ECHO", "four") == b"four"
        # Cancelled futures whose reply is an error, or fails to decode, are
        # dropped silently (the loop exception handler would fail the test).
        await conn.execute("SET", "aioredis-test:bad-utf8", b"\xff")
        f_err = conn.execute("NOSUCHCOMMAND")
        f_dec = conn.execute("GET", "aioredis-test:bad-utf8", encoding="utf-8")
        f_err.cancel()
        f_dec.cancel()
        assert await conn.execute("ECHO", "five") == b"five"
        await conn.execute("DEL", "aioredis-test:bad-utf8")


async def test_cancellation_keeps_fifo(redis_server):
    rnd = random.Random(20240611)
    n = 4000
    tag = uuid.uuid4().hex
    values = [f"{tag}:{i}".encode() for i in range(n)]

    async def call(v):
        return await conn.execute("ECHO", v)

    async with shared(redis_server) as conn:
        # Hold the server for 0.4 s so every ECHO is in flight when we cancel.
        blocker = conn.execute("BLPOP", key("blocker"), 0.4)
        modes, tasks = [], []
        for v in values:
            mode = rnd.choice(["keep", "keep", "cancel_now", "cancel_later", "timeout"])
            modes.append(mode)
            if mode == "timeout":
                # Some expire while blocked, some after the replies arrived.
                coro = asyncio.wait_for(conn.execute("ECHO", v), rnd.uniform(0.0, 0.8))
            else:
                coro = call(v)
            tasks.append(asyncio.ensure_future(coro))
        await asyncio.sleep(0)  # tasks have started: commands are queued
        for t, mode in zip(tasks, modes):
            if mode == "cancel_now":
                t.cancel()
        await asyncio.sleep(0.1)  # commands written; server still blocked
        for t, mode in zip(tasks, modes):
            if mode == "cancel_later":
                t.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert await blocker is None

        wrong, bad_exc = [], []
        for v, mode, res in zip(values, modes, results):
            if isinstance(res, BaseException):
                allowed = {
                    "keep": (),
                    "cancel_now": (asyncio.CancelledError,),
                    "cancel_later": (asyncio.CancelledError,),
                    "timeout": (asyncio.TimeoutError,),
                }[mode]
                if not isinstance(res, allowed):
                    bad_exc.append((mode, res))
            elif res != v:
                wrong.append((mode, v, res))
        assert not wrong, f"{len(wrong)} callers got a wrong reply, e.g. {wrong[:3]}"
        assert not bad_exc, f"{len(bad_exc)} unexpected exceptions, e.g. {bad_exc[:3]}"
        assert modes.count("keep") > 1000
        assert sum(isinstance(r, asyncio.CancelledError) for r in results) > 1000

        # The next command gets its own reply.
        assert await conn.execute("ECHO", b"after-" + tag.encode()) == b"after-" + tag.encode()
        assert await conn.execute("PING") == b"PONG"


# ---------------------------------------------------------------------------
# closing
# ---------------------------------------------------------------------------


async def test_close_with_pending_forced_close_error(redis_server):
    conn = await aioredis.create_connection(redis_server.tcp_address, **auth_kwargs(redis_server))
    pending = [conn.execute("BLPOP", key("never"), 0)] + [conn.execute("ECHO", i) for i in range(100)]
    await asyncio.sleep(0.05)  # BLPOP is blocking on the server
    unsent = [conn.execute("ECHO", "unsent")]  # queued but maybe not written yet
    conn.close()
    assert conn.closed is True
    assert_execute_raises_closed(conn)
    # Every pending future fails with ConnectionForcedCloseError, never CancelledError.
    for fut in pending + unsent:
        with pytest.raises(ConnectionForcedCloseError):
            await asyncio.wait_for(fut, 5)
    await asyncio.wait_for(conn.wait_closed(), 5)
    assert issubclass(ConnectionForcedCloseError, ConnectionClosedError)
    assert issubclass(ConnectionClosedError, AssertionError)


async def test_close_idempotent(redis_server):
    conn = await aioredis.create_connection(redis_server.tcp_address, **auth_kwargs(redis_server))
    assert await conn.execute("PING") == b"PONG"
    conn.close()
    conn.close()
    await asyncio.wait_for(conn.wait_closed(), 5)
    conn.close()
    await asyncio.wait_for(conn.wait_closed(), 5)
    assert conn.closed is True
    assert_execute_raises_closed(conn)
    with pytest.raises(ConnectionClosedError):
        conn.execute("ECHO", b"x")


async def test_wait_closed_waits_for_connection_lost(redis_server):
    for pending in (False, True):
        conn = await aioredis.create_connection(redis_server.tcp_address, **auth_kwargs(redis_server))
        await conn.execute("PING")
        lost = []
        original = conn.connection_lost

        def connection_lost(exc):
            lost.append(exc)
            return original(exc)

        conn.connection_lost = connection_lost  # the transport looks it up on the instance
        fut = conn.execute("BLPOP", key("never"), 0) if pending else None
        conn.close()
        # Awaited directly: asyncio.wait_for() would add loop iterations and
        # hide a wait_closed() that returns too early.  (The test timeout
        # still applies.)
        await conn.wait_closed()
        assert lost, f"wait_closed() returned before connection_lost() (pending={pending})"
        assert conn.closed is True
        if fut is not None:
            with pytest.raises(ConnectionForcedCloseError):
                await fut


async def test_close_releases_server_connection(start_redis):
    server = start_redis()
    conn = await aioredis.create_connection(server.tcp_address)
    await conn.execute("PING")
    assert client_count(server) == 1
    conn.close()
    await asyncio.wait_for(conn.wait_closed(), 5)
    await wait_client_count(server, 0)


async def test_closed_connections_are_collected(redis_server):
    refs = []
    for _ in range(20):
        conn = await aioredis.create_connection(redis_server.tcp_address, **auth_kwargs(redis_server))
        await conn.execute("PING")
        fut = conn.execute("BLPOP", key("never"), 0)
        refs.append(weakref.ref(conn))
        conn.close()
        await conn.wait_closed()
        with pytest.raises(ConnectionForcedCloseError):
            await fut
        del conn, fut
    # Let the transports' pending callbacks run (wait_closed() is checked
    # on its own in test_wait_closed_waits_for_connection_lost).
    for _ in range(3):
        await asyncio.sleep(0)
    gc.collect()
    alive = sum(r() is not None for r in refs)
    assert alive == 0, f"{alive} of 20 closed connections were never freed"


async def test_server_killed_with_pending(start_redis):
    server = start_redis()
    conn = await aioredis.create_connection(server.tcp_address)
    pending = [conn.execute("BLPOP", "k", 0)] + [conn.execute("ECHO", i) for i in range(50)]
    await asyncio.sleep(0.05)
    started = time.monotonic()
    server.kill()
    await assert_all_fail(pending, ConnectionClosedError, timeout=5, not_type=ConnectionForcedCloseError)
    assert time.monotonic() - started < 2.0
    await wait_until(lambda: conn.closed, what="conn.closed after the server died")
    assert_execute_raises_closed(conn)
    await asyncio.wait_for(conn.wait_closed(), 5)
    conn.close()  # still harmless


async def test_server_killed_unix_socket(start_redis):
    server = start_redis()
    conn = await aioredis.create_connection(server.unix_path)
    pending = [conn.execute("BLPOP", "k", 0), conn.execute("PING")]
    await asyncio.sleep(0.05)
    server.kill()
    await assert_all_fail(pending, ConnectionClosedError, timeout=5)
    await wait_until(lambda: conn.closed, what="conn.closed")
    assert_execute_raises_closed(conn)
    conn.close()
    await asyncio.wait_for(conn.wait_closed(), 5)


async def test_client_kill(redis_server):
    async with shared(redis_server) as admin:
        conn = await aioredis.create_connection(redis_server.tcp_address, **auth_kwargs(redis_server))
        client_id = await conn.execute("CLIENT", "ID")
        pending = [conn.execute("BLPOP", key("never"), 0), conn.execute("ECHO", "queued")]
        await asyncio.sleep(0.05)
        assert await admin.execute("CLIENT", "KILL", "ID", client_id) == 1
        await assert_all_fail(pending, ConnectionClosedError, timeout=5, not_type=ConnectionForcedCloseError)
        await wait_until(lambda: conn.closed, what="conn.closed after CLIENT KILL")
        assert_execute_raises_closed(conn)
        await asyncio.wait_for(conn.wait_closed(), 5)
        conn.close()


async def test_quit(redis_server):
    conn = await aioredis.create_connection(redis_server.tcp_address, **auth_kwargs(redis_server))
    quit_fut = conn.execute("QUIT")
    after = conn.execute("PING")  # pipelined behind QUIT: the server never answers it
    assert await asyncio.wait_for(quit_fut, 5) == b"OK"
    with pytest.raises(ConnectionClosedError):
        await asyncio.wait_for(after, 5)
    await wait_until(lambda: conn.closed, what="conn.closed after QUIT")
    assert_execute_raises_closed(conn)
    await asyncio.wait_for(conn.wait_closed(), 5)


# ---------------------------------------------------------------------------
# transactions and SELECT
# ---------------------------------------------------------------------------


async def test_multi_exec_in_transaction(redis_server):
    k = key()
    async with shared(redis_server) as conn:
        assert conn.in_transaction is False
        assert await conn.execute("MULTI") == b"OK"
        assert conn.in_transaction is True
        assert await conn.execute("SET", k, "1") == b"QUEUED"
        assert await conn.execute("INCR", k) == b"QUEUED"
        assert await conn.execute("GET", k) == b"QUEUED"
        assert conn.in_transaction is True
        assert await conn.execute("EXEC") == [b"OK", 2, b"2"]
        assert conn.in_transaction is False

        assert await conn.execute("MULTI") == b"OK"
        assert conn.in_transaction is True
        await conn.execute("INCR", k)
        assert await conn.execute("DISCARD") == b"OK"
        assert conn.in_transaction is False
        assert await conn.execute("GET", k) == b"2"

        # EXECABORT: a command error while queueing aborts EXEC.
        await conn.execute("MULTI")
        with pytest.raises(ReplyError):
            await conn.execute("NOSUCHCOMMAND")
        with pytest.raises(ReplyError) as info:
            await conn.execute("EXEC")
        assert info.value.args[0].startswith("EXECABORT")
        assert conn.in_transaction is False
        assert await conn.execute("PING") == b"PONG"
        await conn.execute("DEL", k)


async def test_multi_exec_encoding(redis_server):
    k = key()
    async with shared(redis_server, encoding="utf-8") as conn:
        await conn.execute("MULTI")
        await conn.execute("SET", k, "ä")
        await conn.execute("GET", k)
        assert await conn.execute("EXEC") == ["OK", "ä"]
        assert conn.in_transaction is False

        # An EXEC reply that fails to decode still ends the transaction.
        await conn.execute("MULTI")
        await conn.execute("SET", k, b"\xff")
        await conn.execute("GET", k)
        with pytest.raises(UnicodeDecodeError):
            await conn.execute("EXEC")
        assert conn.in_transaction is False
        assert await conn.execute("PING") == "PONG"
        await conn.execute("DEL", k)


async def test_exec_without_multi(redis_server):
    async with shared(redis_server) as conn:
        with pytest.raises(ReplyError):
            await conn.execute("EXEC")
        assert conn.in_transaction is False
        with pytest.raises(ReplyError):
            await conn.execute("DISCARD")
        assert conn.in_transaction is False


async def test_select_via_execute_updates_db(redis_server):
    async with shared(redis_server) as conn:
        assert await conn.execute("SELECT", 5) == b"OK"
        assert conn.db == 5
        assert repr(conn) == "<RedisConnection [db:5]>"
        assert b"db=5" in await conn.execute("CLIENT", "INFO")
        assert await conn.execute(b"select", b"2") == b"OK"
        assert conn.db == 2
        assert repr(conn) == "<RedisConnection [db:2]>"
        assert await conn.execute("Select", "3") == b"OK"
        assert conn.db == 3
        assert await conn.execute("SELECT", 2) == b"OK"
        assert conn.db == 2
        with pytest.raises(ReplyError):
            await conn.execute("SELECT", 100000)
        assert conn.db == 2


async def test_select_inside_multi_applies_on_exec(redis_server):
    """A queued SELECT changes the database only when EXEC runs it."""
    async with shared(redis_server) as conn:
        assert await conn.execute("MULTI") == b"OK"
        assert await conn.execute("SELECT", 5) == b"QUEUED"
        assert await conn.execute("DISCARD") == b"OK"
        assert b"db=0" in await conn.execute("CLIENT", "INFO")
        assert conn.db == 0, "DISCARDed SELECT changed .db"

        assert await conn.execute("MULTI") == b"OK"
        assert await conn.execute("SELECT", 6) == b"QUEUED"
        assert await conn.execute("EXEC") == [b"OK"]
        assert b"db=6" in await conn.execute("CLIENT", "INFO")
        assert conn.db == 6


async def test_select_method(redis_server):
    async with shared(redis_server) as conn:
        assert await conn.select(4) is True
        assert conn.db == 4
        assert repr(conn) == "<RedisConnection [db:4]>"
        with pytest.raises(TypeError):
            conn.select("1")  # at call time
        with pytest.raises(TypeError):
            conn.select(1.0)
        with pytest.raises(ValueError):
            await conn.select(-1)
        with pytest.raises(ReplyError):
            await conn.select(100000)
        assert conn.db == 4
        assert await conn.select(0) is True
        assert conn.db == 0
        assert await conn.execute("PING") == b"PONG"


# ---------------------------------------------------------------------------
# reference leaks
# ---------------------------------------------------------------------------


def _memory_snapshot():
    gc.collect()
    gc.collect()
    return sys.getallocatedblocks(), len(gc.get_objects())


@pytest.mark.async_timeout(60)
async def test_no_reference_leak(redis_server):
    k = key()
    lst = key("list")
    batch = 1000

    async with shared(redis_server) as conn:
        await conn.execute("SET", k, b"v" * 100)
        await conn.execute("RPUSH", lst, "a", "b", "c")

        async def one_batch():
            futs = []
            for i in range(batch // 4):
                futs.append(conn.execute("ECHO", i))
                futs.append(conn.execute("GET", k))
                futs.append(conn.execute("LRANGE", lst, 0, -1))
                futs.append(conn.execute("SET", k, memoryview(b"v" * 100)))
            await asyncio.gather(*futs)

        async def error_batch():
            futs = [conn.execute("INCR", lst) for _ in range(200)]
            res = await asyncio.gather(*futs, return_exceptions=True)
            assert all(isinstance(r, ReplyError) for r in res)
            for _ in range(200):
                try:
                    conn.execute("SET", k, None)
                except TypeError:
                    pass
            fs = [conn.execute("ECHO", i) for i in range(200)]
            for f in fs[::2]:
                f.cancel()
            await asyncio.gather(*fs[1::2])

        for _ in range(10):  # warm-up: caches, freelists, interned ints
            await one_batch()
            await error_batch()
        blocks0, objects0 = _memory_snapshot()
        for _ in range(100):  # 100,000 commands
            await one_batch()
        for _ in range(40):  # 8,000 each of error replies, TypeErrors, cancellations
            await error_batch()
        blocks1, objects1 = _memory_snapshot()
        await conn.execute("DEL", k, lst)

    print(f"allocated blocks: {blocks1 - blocks0:+d}, gc objects: {objects1 - objects0:+d}")
    assert blocks1 - blocks0 < 2000, f"allocated blocks grew by {blocks1 - blocks0}"
    assert objects1 - objects0 < 500, f"gc-tracked objects grew by {objects1 - objects0}"
