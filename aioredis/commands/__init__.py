"""The high-level interface: ``Redis`` and the factories that make one.

Command methods are plain functions: they validate their arguments, send the
command at once and return an awaitable of the result (the connection's
future; a conversion runs in C when the reply arrives, see ``_convert``).
"""

import asyncio

from ..connection import create_connection
from ..errors import ConnectionClosedError
from ..settings import ConnectionSettings
from ..util import _NOTSET, check_loop
from ._convert import ok
from .generic import GenericCommandsMixin
from .geo import GeoCommandsMixin, GeoMember, GeoPoint
from .hash import HashCommandsMixin
from .hyperloglog import HyperLogLogCommandsMixin
from .list import ListCommandsMixin
from .pipeline import MultiExec, Pipeline
from .pubsub import PubSubCommandsMixin
from .scripting import ScriptingCommandsMixin
from .server import ServerCommandsMixin
from .set import SetCommandsMixin
from .sorted_set import SortedSetCommandsMixin
from .streams import StreamsCommandsMixin
from .string import StringCommandsMixin
from .transaction import TransactionsCommandsMixin

__all__ = [
    "Redis",
    "AutoConnector",
    "Pipeline",
    "MultiExec",
    "create_redis",
    "create_redis_pool",
    "create_reconnecting_redis",
    "GenericCommandsMixin",
    "StringCommandsMixin",
    "HashCommandsMixin",
    "HyperLogLogCommandsMixin",
    "SetCommandsMixin",
    "SortedSetCommandsMixin",
    "TransactionsCommandsMixin",
    "ListCommandsMixin",
    "ScriptingCommandsMixin",
    "ServerCommandsMixin",
    "PubSubCommandsMixin",
    "GeoCommandsMixin",
    "StreamsCommandsMixin",
    "GeoPoint",
    "GeoMember",
]


class Redis(
    GenericCommandsMixin,
    StringCommandsMixin,
    HyperLogLogCommandsMixin,
    SetCommandsMixin,
    HashCommandsMixin,
    TransactionsCommandsMixin,
    SortedSetCommandsMixin,
    ListCommandsMixin,
    ScriptingCommandsMixin,
    ServerCommandsMixin,
    PubSubCommandsMixin,
    GeoCommandsMixin,
    StreamsCommandsMixin,
):
    """High-level Redis interface over a connection, a pool or an AutoConnector."""

    SET_IF_NOT_EXIST = "SET_IF_NOT_EXIST"
    SET_IF_EXIST = "SET_IF_EXIST"
    ZSET_EXCLUDE_MIN = "ZSET_EXCLUDE_MIN"
    ZSET_EXCLUDE_MAX = "ZSET_EXCLUDE_MAX"
    ZSET_EXCLUDE_BOTH = "ZSET_EXCLUDE_BOTH"
    ZSET_AGGREGATE_SUM = "ZSET_AGGREGATE_SUM"
    ZSET_AGGREGATE_MIN = "ZSET_AGGREGATE_MIN"
    ZSET_AGGREGATE_MAX = "ZSET_AGGREGATE_MAX"
    ZSET_IF_NOT_EXIST = "ZSET_IF_NOT_EXIST"
    ZSET_IF_EXIST = "ZSET_IF_EXIST"
    SHUTDOWN_SAVE = "SHUTDOWN_SAVE"
    SHUTDOWN_NOSAVE = "SHUTDOWN_NOSAVE"

    def __init__(self, pool_or_conn):
        self._pool_or_conn = pool_or_conn
        # the target's own execute, bound once: no Python frame in between
        self._execute = pool_or_conn.execute

    def __repr__(self):
        return f"<{type(self).__name__} {self._pool_or_conn!r}>"

    def execute(self, command, *args, **kwargs):
        """Send any command; returns an awaitable of its reply."""
        return self._execute(command, *args, **kwargs)

    @property
    def connection(self):
        """The connection, pool or AutoConnector this object sends through."""
        return self._pool_or_conn

    @property
    def db(self):
        """Current database index."""
        return self._pool_or_conn.db

    @property
    def encoding(self):
        """Codec used to decode replies, or None."""
        return self._pool_or_conn.encoding

    @property
    def in_transaction(self):
        """True inside MULTI on the underlying connection."""
        return self._pool_or_conn.in_transaction

    @property
    def closed(self):
        """True once the underlying connection or pool is closed."""
        return self._pool_or_conn.closed

    @property
    def address(self):
        """The server address."""
        return self._pool_or_conn.address

    def close(self):
        """Close the underlying connection or pool."""
        self._pool_or_conn.close()

    async def wait_closed(self):
        """Wait until the underlying connection or pool is closed."""
        await self._pool_or_conn.wait_closed()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        self.close()
        await self.wait_closed()

    def auth(self, password):
        """AUTH password; an awaitable of True."""
        return self._pool_or_conn.auth(password)

    def echo(self, message, *, encoding=_NOTSET):
        """ECHO message: the message back."""
        return self._execute(b"ECHO", message, encoding=encoding)

    def ping(self, message=_NOTSET, *, encoding=_NOTSET):
        """PING [message]: b'PONG', or the message."""
        if message is _NOTSET:
            return self._execute(b"PING", encoding=encoding)
        return self._execute(b"PING", message, encoding=encoding)

    def quit(self):
        """QUIT: the server answers OK and closes the connection."""
        return self._execute(b"QUIT")

    def select(self, db):
        """Change the current database; an awaitable of True."""
        return self._pool_or_conn.select(db)

    def swapdb(self, from_index, to_index):
        """SWAPDB: exchange two databases; an awaitable of True."""
        return self._execute(b"SWAPDB", from_index, to_index, convert=ok)


async def create_redis(
    address, *, db=None, password=None, encoding=None, commands_factory=Redis, loop=None
):
    """Connect and return ``commands_factory(connection)`` (a :class:`Redis`).

    ``address`` and the keywords are those of
    :func:`~aioredis.connection.create_connection` (a pair, a path, a URL or
    a :class:`~aioredis.settings.ConnectionSettings`; keywords win)."""
    settings = ConnectionSettings.from_address(address, db=db, password=password, encoding=encoding)
    conn = await create_connection(settings, loop=loop)
    return commands_factory(conn)


async def create_redis_pool(
    address,
    *,
    db=None,
    password=None,
    encoding=None,
    minsize=1,
    maxsize=10,
    commands_factory=Redis,
    loop=None,
):
    """A ``Redis`` whose commands each run on a connection of an internal pool
    (``address`` and keywords as :func:`~aioredis.connection.create_connection`)."""
    from ..pool import create_pool

    settings = ConnectionSettings.from_address(address, db=db, password=password, encoding=encoding)
    pool = await create_pool(
        settings,
        minsize=minsize,
        maxsize=maxsize,
        commands_factory=_plain_connection,
        loop=loop,
    )
    return commands_factory(pool)


def _plain_connection(conn):
    return conn


class AutoConnector:
    """Connects on the first command and reconnects, at most once, at the
    start of a command when the connection was lost. A command interrupted
    in the middle is not repeated: its caller gets the error. It reconnects
    to the db the lost connection was on, however it got there (select(),
    a pipeline, multi_exec(), a raw SELECT)."""

    def __init__(self, address, *, db=None, password=None, encoding=None, loop=None):
        self._settings = ConnectionSettings.from_address(
            address, db=db, password=password, encoding=encoding
        )
        self._conn = None
        self._lock = asyncio.Lock()
        self._closed = False

    def __repr__(self):
        return f"<AutoConnector {self._conn!r}>"

    @property
    def settings(self):
        """The :class:`~aioredis.settings.ConnectionSettings` of the next connect."""
        return self._settings

    @property
    def address(self):
        return self._settings.address

    @property
    def db(self):
        return self._conn.db if self._conn is not None else self._settings.db

    @property
    def encoding(self):
        return self._settings.encoding

    @property
    def in_transaction(self):
        return self._conn is not None and self._conn.in_transaction

    @property
    def closed(self):
        return self._closed

    async def get_atomic_connection(self):
        """The current connection, (re)connecting if there is none."""
        if self._closed:
            raise ConnectionClosedError("Reconnecting client is closed")
        async with self._lock:
            if self._conn is None or self._conn.closed:
                if self._conn is not None:
                    # the db the lost connection was on, however it got
                    # there (a pipeline, multi_exec(), a raw SELECT)
                    self._settings = self._settings.replace(db=self._conn.db)
                conn = await create_connection(self._settings)
                if self._closed:  # close() was called while we connected
                    conn.close()
                    await conn.wait_closed()
                    raise ConnectionClosedError("Reconnecting client is closed")
                self._conn = conn
            return self._conn

    async def execute(self, command, *args, **kwargs):
        conn = await self.get_atomic_connection()
        return await conn.execute(command, *args, **kwargs)

    async def execute_pubsub(self, command, *channels):
        conn = await self.get_atomic_connection()
        return await conn.execute_pubsub(command, *channels)

    @property
    def pubsub_channels(self):
        return self._conn.pubsub_channels if self._conn is not None else {}

    @property
    def pubsub_patterns(self):
        return self._conn.pubsub_patterns if self._conn is not None else {}

    @property
    def in_pubsub(self):
        return self._conn.in_pubsub if self._conn is not None else 0

    async def select(self, db):
        conn = await self.get_atomic_connection()
        result = await conn.select(db)
        self._settings = self._settings.replace(db=db)
        return result

    async def auth(self, password):
        conn = await self.get_atomic_connection()
        result = await conn.auth(password)
        self._settings = self._settings.replace(password=password)
        return result

    def close(self):
        self._closed = True
        if self._conn is not None:
            self._conn.close()

    async def wait_closed(self):
        if self._conn is not None:
            await self._conn.wait_closed()


async def create_reconnecting_redis(
    address, *, db=None, password=None, encoding=None, commands_factory=Redis, loop=None
):
    """A ``Redis`` that connects lazily and reconnects between commands
    (``address`` and keywords as :func:`~aioredis.connection.create_connection`;
    an invalid address or URL fails here, not at the first command)."""
    check_loop(loop)
    return commands_factory(
        AutoConnector(address, db=db, password=password, encoding=encoding)
    )
