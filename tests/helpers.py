"""Helpers shared by the test modules: ``from helpers import ...``.

tests/ is on ``sys.path`` (pytest's rootdir-style import of the test modules;
``from conftest import ...`` works the same way).  Fixtures live in
conftest.py; this module holds plain functions and context managers:

* clients of a server fixture (``redis_server`` / ``start_redis``):
  ``auth_kwargs``, ``client``, ``closing``, and ``key_maker`` for unique key
  names;
* seeing what a client sends: ``command_calls`` / ``nothing_sent`` (the
  server's command stats), ``recording`` (the commands a Redis sends),
  ``count_writes`` / ``settle`` (a connection's transport writes),
  ``Recorder`` / ``recorded`` / ``sent`` (a stand-in connection that sends
  nothing), ``assert_still_in_sync``;
* the RESP readers under test: ``NED``, ``load_c_reader``, ``load_py_reader``,
  ``same``.
"""

import asyncio
import contextlib
import math
import uuid

import pytest

import aioredis
from aioredis.util import _NOTSET

# ---------------------------------------------------------------------------
# clients and keys
# ---------------------------------------------------------------------------


def auth_kwargs(server):
    """``{"password": ...}`` when ``server`` needs one, else ``{}``."""
    return {"password": server.password} if server.password else {}


def key_maker(prefix, default="k"):
    """A ``key(name=default)`` function giving a fresh ``<prefix>:<uuid hex>:<name>`` at each call."""

    def key(name=default):
        return f"{prefix}:{uuid.uuid4().hex}:{name}"

    return key


async def closing(obj):
    """Close a connection, Redis or pool and wait (at most 5 s) until it is closed."""
    obj.close()
    await asyncio.wait_for(obj.wait_closed(), 5)


@contextlib.asynccontextmanager
async def client(server, *, pool=False, **kwargs):
    """A ``Redis`` on ``server`` (with its password unless ``password`` is
    given), closed at the end.  ``pool=True``: a pool of 1 to 3 connections
    (``create_redis_pool``) instead of one connection (``create_redis``)."""
    kwargs = {**auth_kwargs(server), **kwargs}
    if pool:
        redis = await aioredis.create_redis_pool(server.tcp_address, minsize=1, maxsize=3, **kwargs)
    else:
        redis = await aioredis.create_redis(server.tcp_address, **kwargs)
    try:
        yield redis
    finally:
        await closing(redis)


# ---------------------------------------------------------------------------
# what a client sends
# ---------------------------------------------------------------------------


def command_calls(server, name):
    """How many times the server saw command ``name`` (including rejected calls)."""
    info = server.command("INFO", "commandstats").decode()
    for line in info.splitlines():
        if line.startswith(f"cmdstat_{name}:"):
            fields = dict(kv.split("=", 1) for kv in line.split(":", 1)[1].split(","))
            return sum(int(fields.get(f, 0)) for f in ("calls", "rejected_calls", "failed_calls"))
    return 0


@contextlib.asynccontextmanager
async def nothing_sent(redis, server, *names):
    """Assert that the block sends none of the commands ``names`` to the server."""
    before = {name: command_calls(server, name) for name in names}
    yield
    # FIFO: once this reply is in, everything queued before it was processed
    assert await redis.execute(b"ECHO", b"sync", encoding=None) == b"sync"
    after = {name: command_calls(server, name) for name in names}
    assert after == before


@contextlib.contextmanager
def recording(redis):
    """Record every command ``redis`` sends (wraps its bound execute)."""
    sent = []
    original = redis._execute

    def execute(*args, **kwargs):
        sent.append(args)
        return original(*args, **kwargs)

    redis._execute = execute
    try:
        yield sent
    finally:
        redis._execute = original


@contextlib.contextmanager
def count_writes(conn):
    """Record the data of every transport.write of one connection (and of
    every writelines(), as one entry: from 3.12 big arguments go that way)."""
    transport = conn.transport
    original, original_writelines = transport.write, transport.writelines
    writes = []
    in_writelines = []

    def write(data):
        if not in_writelines:
            writes.append(bytes(data))
        return original(data)

    def writelines(list_of_data):
        parts = list(list_of_data)
        writes.append(b"".join(bytes(p) for p in parts))
        in_writelines.append(True)
        try:
            return original_writelines(parts)
        finally:
            in_writelines.pop()

    transport.write = write  # the C protocol looks the methods up each time
    transport.writelines = writelines
    try:
        yield writes
    finally:
        del transport.write, transport.writelines


async def settle(conn):
    """Let anything already queued on ``conn`` go out and come back."""
    await conn.execute(b"PING")
    await asyncio.sleep(0)


class Recorder:
    """A stand-in connection: records what would be sent, sends nothing."""

    def __init__(self):
        self.calls = []

    def execute(self, command, *args, encoding=_NOTSET, convert=None):
        self.calls.append((command, args, encoding, convert))
        return None


def recorded(call):
    """(command tuple, encoding, convert) of the single command ``call(redis)`` sends."""
    rec = Recorder()
    call(aioredis.Redis(rec))
    assert len(rec.calls) == 1, rec.calls
    command, args, encoding, convert = rec.calls[0]
    return (command, *args), encoding, convert


def sent(call):
    """The single command recorded by ``call(redis)`` on a Recorder."""
    return recorded(call)[0]


async def assert_still_in_sync(redis):
    """A validation error sent nothing: the next reply belongs to the next command."""
    marker = uuid.uuid4().hex
    assert await redis.echo(marker) == marker.encode()


# ---------------------------------------------------------------------------
# RESP readers
# ---------------------------------------------------------------------------

# notEnoughData defaults to False, which a #f reply also returns: use a sentinel.
NED = object()


def load_c_reader():
    """``aioredis.parser.Reader`` (C); pytest.skip when ``aioredis._core`` is not built."""
    try:
        import aioredis._core  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"aioredis._core is not built ({exc}); run `python setup.py build_ext --inplace`")
    from aioredis.parser import Reader

    return Reader


def load_py_reader():
    """``aioredis._pyreader.PyReader``, the pure-Python reference reader."""
    from aioredis._pyreader import PyReader

    return PyReader


def same(a, b):
    """Deep equality that also compares types (True vs 1, b"" vs "", nan vs nan, errors by args)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, BaseException):
        return a.args == b.args
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            same(ka, kb) and same(va, vb) for (ka, va), (kb, vb) in zip(a.items(), b.items())
        )
    return a == b
