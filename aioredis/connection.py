"""create_connection() and RedisConnection.

The protocol work (encoding, pipelining, parsing, resolving futures) is done
by the C base class ``_core.RedisProtocolBase``; this module adds connecting,
AUTH/SELECT, and waiting for the close.
"""

import asyncio
import types

from . import _core
from .errors import ConnectionClosedError
from .pubsub import DEFAULT_MAXSIZE, AbcChannel, Channel, _channel_name, _check_maxsize
from .settings import ConnectionSettings, _validate_db
from .util import check_loop

__all__ = ["create_connection", "RedisConnection"]

#: Read size of 0.1's reader loop; asyncio's transports choose their own now.
MAX_CHUNK_SIZE = 65536


async def create_connection(address, *, db=None, password=None, encoding=None, loop=None):
    """Open a connection to Redis and return a :class:`RedisConnection`.

    ``address`` is a ``(host, port)`` tuple (or list) for TCP, the path of a
    unix socket, a URL (``redis://[[user]:password@]host[:port][/db][?query]``,
    ``unix:///path?db=N``; see :doc:`connecting`) or a
    :class:`~aioredis.settings.ConnectionSettings`. ``db``, ``password`` and
    ``encoding`` that are not None win over the URL's. If ``password`` is set
    AUTH is sent first, then SELECT ``db`` when it is not 0. If either fails,
    the connection is closed and the error propagates.
    """
    loop = check_loop(loop)
    settings = ConnectionSettings.from_address(address, db=db, password=password, encoding=encoding)
    return await _open(settings, loop)


async def _open(settings, loop):
    address = settings.address
    if settings.ssl:
        # recorded (rediss://) but not built: never fall back to plain text
        raise NotImplementedError(
            f"TLS is not supported yet: not connecting to {address!r} "
            f"(ssl=True, from a rediss:// URL) in plain text"
        )
    if settings.username not in (None, "default"):
        raise NotImplementedError(
            f"ACL users are not supported yet (username {settings.username!r}); "
            f"only the default user (AUTH password) is"
        )

    def factory():
        return RedisConnection(loop, settings.encoding, address=address)

    if isinstance(address, tuple):
        host, port = address
        _, conn = await loop.create_connection(factory, host, port)
    else:
        try:
            _, conn = await loop.create_unix_connection(factory, address)
        except OSError as exc:
            if exc.filename is not None or exc.errno is None:
                raise
            # the socket's error names no path: name it
            raise OSError(exc.errno, exc.strerror, address) from None
    try:
        if settings.password is not None:
            await conn.auth(settings.password)
        if settings.db:
            await conn.select(settings.db)
    except BaseException:
        conn.close()
        await conn.wait_closed()
        raise
    return conn


_PUBSUB_COMMANDS = ("SUBSCRIBE", "PSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE")


async def _expect_ok(fut):
    reply = await fut
    return reply == (b"OK" if type(reply) is bytes else "OK")


class RedisConnection(_core.RedisProtocolBase, asyncio.BufferedProtocol):
    """A Redis connection: an asyncio protocol whose C base resolves futures.

    ``execute(command, *args, encoding=_NOTSET)`` queues a command and returns
    a future of its reply; commands queued during one loop iteration are
    written together, so any number of tasks can share one connection.
    Normally made by :func:`create_connection`.
    """

    def __init__(self, loop, encoding=None, *, address=None):
        super().__init__(loop, encoding)
        self._loop = loop
        self._address = address
        self._closed_waiter = loop.create_future()
        self._drain_waiters = []
        self._read_holds = set()  # full pub/sub queues holding reading
        self._reading_paused = False
        self._pubsub_maxsize = DEFAULT_MAXSIZE

    def __repr__(self):
        return f"<RedisConnection [db:{self.db}]>"

    @property
    def address(self):
        """The address this connection was opened to."""
        return self._address

    def connection_lost(self, exc):
        super().connection_lost(exc)
        self._wake_drainers()
        if not self._closed_waiter.done():
            self._closed_waiter.set_result(None)

    def close(self):
        """Close the connection; pending commands fail with ConnectionForcedCloseError."""
        super().close()
        self._wake_drainers()
        if self.transport is None and not self._closed_waiter.done():
            # never connected, or already lost: no connection_lost() will come
            self._closed_waiter.set_result(None)

    # -- flow control (docs/internals.rst) -----------------------------------

    def resume_writing(self):
        try:
            super().resume_writing()  # flushes what was buffered meanwhile
        finally:
            self._wake_drainers()

    def _wake_drainers(self):
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def drain(self):
        """Wait until the transport accepts more data.

        Returns at once unless the transport has paused writing (its buffer
        is over its high-water mark); then waits until it resumes. Raises
        ConnectionClosedError if the connection is closed, or closes or is
        lost while waiting.
        """
        while True:
            if self.closed:
                raise ConnectionClosedError("Connection is closed")
            if not self.writing_paused:
                return
            waiter = self._loop.create_future()
            self._drain_waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._drain_waiters:
                    self._drain_waiters.remove(waiter)

    @property
    def reading_paused(self):
        """True while a full pub/sub queue holds reading (see ``pubsub_maxsize``)."""
        return self._reading_paused

    @property
    def pubsub_maxsize(self):
        """``maxsize`` of the Channels made for names passed to subscribe():
        how many messages a channel queues before reading stops (None or 0:
        unbounded). Channel objects passed in keep their own."""
        return self._pubsub_maxsize or None

    @pubsub_maxsize.setter
    def pubsub_maxsize(self, value):
        self._pubsub_maxsize = _check_maxsize(value)

    def _hold_reading(self, queue):
        # called by a pub/sub queue that became full
        self._read_holds.add(queue)
        if not self._reading_paused and not self.closed and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()

    def _release_reading(self, queue):
        # called by a pub/sub queue that has room again, ended or detached
        self._read_holds.discard(queue)
        if self._reading_paused and not self._read_holds:
            self._reading_paused = False
            if not self.closed and self.transport is not None:
                self.transport.resume_reading()

    async def wait_closed(self):
        """Wait until the transport has closed."""
        await asyncio.shield(self._closed_waiter)

    def select(self, db):
        """Change the current database; returns an awaitable of True."""
        _validate_db(db)
        return _expect_ok(self.execute(b"SELECT", db))

    def auth(self, password):
        """Authenticate; returns an awaitable of True."""
        return _expect_ok(self.execute(b"AUTH", password))

    # -- pub/sub ------------------------------------------------------------

    @property
    def pubsub_channels(self):
        """Subscribed channels: a read-only mapping of name (bytes) to Channel."""
        return types.MappingProxyType(self._channels)

    @property
    def pubsub_patterns(self):
        """Subscribed patterns: a read-only mapping of pattern (bytes) to Channel."""
        return types.MappingProxyType(self._patterns)

    def execute_pubsub(self, command, *channels):
        """Send (P)SUBSCRIBE or (P)UNSUBSCRIBE; returns a future of the list of
        acknowledgements ``[kind, name, count]``, one per channel.

        ``channels`` are names (str or bytes) or :class:`~aioredis.pubsub.AbcChannel`
        objects (a Channel, or a Receiver's sender). Messages are routed to the
        channel objects from the moment the command is sent.
        """
        if isinstance(command, str):
            name = command.upper()
        elif isinstance(command, (bytes, bytearray)):
            name = bytes(command).decode("ascii", "replace").upper()
        else:
            raise TypeError(f"command must be str or bytes, not {type(command).__name__}")
        if name not in _PUBSUB_COMMANDS:
            raise ValueError(f"not a pub/sub command: {name}")
        if self.closed:
            raise ConnectionClosedError("Connection is closed")
        is_pattern = name.startswith("P")
        subscribing = name in ("SUBSCRIBE", "PSUBSCRIBE")
        if subscribing and not channels:
            raise TypeError("No channels/patterns supplied")
        mapping = self._patterns if is_pattern else self._channels
        names, objects = [], []
        for channel in channels:
            if channel is None:
                raise TypeError("channel must not be None")
            if isinstance(channel, AbcChannel):
                if channel.is_pattern != is_pattern:
                    raise ValueError(
                        f"{'pattern' if channel.is_pattern else 'channel'} {channel.name!r} "
                        f"cannot be used with {name}"
                    )
                names.append(channel.name)
                objects.append(channel)
            else:
                names.append(_channel_name(channel))
                objects.append(None)
        if subscribing:
            # registered before sending: the first message may follow at once
            for channel_name, obj in zip(names, objects):
                if channel_name not in mapping:
                    if obj is None:
                        obj = Channel(channel_name, is_pattern, maxsize=self._pubsub_maxsize)
                    mapping[channel_name] = obj
                    attach = getattr(obj, "_attach", None)
                    if attach is not None:
                        attach(self)  # a full queue holds reading; detached on close
        else:
            # the acknowledgement comes after the channel's messages: a channel
            # being unsubscribed must not hold reading until it is read
            for channel_name in names or list(mapping):
                detach = getattr(mapping.get(channel_name), "_detach", None)
                if detach is not None:
                    detach(self)
        n_replies = len(names) or max(1, len(mapping))
        acks = self._execute_pubsub_acks(n_replies, name.encode(), *names)
        return asyncio.gather(*acks)
