"""Pub/Sub channels.

The C protocol routes each message straight into its channel by calling
``put_nowait`` (no reader task in between). A channel keeps everything it
received: after its connection closes or it is unsubscribed, ``get()`` still
returns the queued messages, then ``None`` once (the end of the stream), then
raises :class:`~aioredis.errors.ChannelClosedError`. A full queue
(``maxsize``) makes the connections it is subscribed on stop reading until
its readers catch up (docs/internals.rst, "Flow control").
"""

import asyncio
import collections
import json

from .errors import ChannelClosedError

__all__ = ["AbcChannel", "Channel", "Receiver"]

_END = object()  # marks the end of a channel's stream in its queue


class AbcChannel:
    """What subscribe() accepts besides names: ``name``, ``is_pattern``,
    ``put_nowait(data)`` (must not raise) and ``close()``."""

    __slots__ = ()
    name = None
    is_pattern = False

    def put_nowait(self, data):  # pragma: no cover - interface
        raise NotImplementedError

    def close(self, exc=None):  # pragma: no cover - interface
        raise NotImplementedError


def _channel_name(name):
    if isinstance(name, str):
        return name.encode("utf-8")
    if isinstance(name, (bytes, bytearray)):
        return bytes(name)
    raise TypeError(f"channel name must be str or bytes, not {type(name).__name__}")


def _decode(msg, encoding, decoder):
    if encoding is not None:
        msg = msg.decode(encoding)
    if decoder is not None:
        msg = decoder(msg)
    return msg


def _decode_message(msg, is_pattern, encoding, decoder):
    """A message as get() returns it: decoded, or ``(channel, decoded)`` for a pattern."""
    if is_pattern:
        dest, msg = msg
        return dest, _decode(msg, encoding, decoder)
    return _decode(msg, encoding, decoder)


#: Messages a Channel or Receiver queues before its connection stops reading.
DEFAULT_MAXSIZE = 10_000


def _check_maxsize(maxsize):
    if maxsize is None:
        return 0
    if type(maxsize) is not int or maxsize < 0:
        raise ValueError(f"maxsize must be a non-negative int or None, not {maxsize!r}")
    return maxsize


class _MessageQueue:
    """A deque, its readers (a FIFO of futures) and its flow control: what
    Channel and Receiver share.

    Each put() wakes one reader. A woken reader that is cancelled passes the
    wake-up on, and so does wait_item() (a peek takes nothing); one that finds
    its item taken by a newcomer waits again. So a queued item never waits
    while a reader does. When a put() makes the queue hold ``maxsize`` messages it
    asks its gates (the connections it is subscribed on) to hold reading;
    when the readers have taken it down to half it releases them.
    """

    __slots__ = ("_items", "_waiters", "_closed", "_exhausted", "_maxsize", "_full", "_gates")

    def __init__(self, maxsize=DEFAULT_MAXSIZE):
        self._items = collections.deque()
        self._waiters = collections.deque()
        self._closed = False
        self._exhausted = False
        self._maxsize = _check_maxsize(maxsize)
        self._full = False
        self._gates = {}  # gate -> how many of our senders are attached to it

    def put(self, item):
        if self._closed:
            return
        self._items.append(item)
        if self._maxsize and not self._full and len(self._items) >= self._maxsize:
            self._full = True
            for gate in list(self._gates):
                gate._hold_reading(self)
        if self._waiters:
            self._wake_next()

    def close(self):
        if not self._closed:
            self._closed = True
            self._items.append(_END)
            self._detach_all()
            while self._waiters:
                self._wake_next()

    # -- flow control -------------------------------------------------------

    def attach(self, gate):
        """Let ``gate`` (a connection) be held while this queue is full."""
        if self._closed:
            return
        n = self._gates.get(gate, 0)
        self._gates[gate] = n + 1
        if n == 0 and self._full:
            gate._hold_reading(self)

    def detach(self, gate):
        n = self._gates.get(gate, 0)
        if n > 1:
            self._gates[gate] = n - 1
        elif n == 1:
            del self._gates[gate]
            gate._release_reading(self)

    def _detach_all(self):
        gates, self._gates = self._gates, {}
        for gate in gates:
            gate._release_reading(self)

    def _taken(self):
        # hysteresis: release the gates once at most half is left
        if self._full and len(self) <= self._maxsize // 2:
            self._full = False
            for gate in list(self._gates):
                gate._release_reading(self)

    # -- readers ------------------------------------------------------------

    def _wake_next(self):
        # a woken waiter leaves the FIFO: only waiting ones are in it
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    @property
    def is_active(self):
        """False once closed and drained."""
        return not (self._closed and (not self._items or self._items[0] is _END))

    async def _wait(self):
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                # woken, then cancelled: the wake-up goes to the next reader
                if self._items and self._waiters:
                    self._wake_next()
            else:
                try:
                    self._waiters.remove(waiter)
                except ValueError:
                    pass
            raise

    async def wait_item(self):
        """Wait until something (a message or the end) is queued."""
        if self._items or self._exhausted:
            return
        while not self._items:
            if self._exhausted:
                return
            await self._wait()
        if self._waiters:
            self._wake_next()  # this peek takes nothing: the next reader may

    async def get(self):
        """The next item, or _END (once), then ChannelClosedError."""
        items = self._items
        while not items:
            if self._exhausted:
                raise ChannelClosedError("Channel is closed")
            await self._wait()
        item = items.popleft()
        if item is _END:
            self._exhausted = True
        elif self._full:
            self._taken()
        return item

    def __len__(self):
        return len(self._items) - (1 if self._items and self._items[-1] is _END else 0)


class Channel(AbcChannel):
    """A subscribed channel (or pattern) and the messages it received.

    Once ``maxsize`` messages are queued (None or 0: no bound), the
    connection stops reading until readers have taken the queue down to half
    (see :ref:`pubsub-flow-control`). Any number of tasks may read it: each
    message goes to one of them.
    """

    __slots__ = ("_name", "_is_pattern", "_queue")

    def __init__(self, name, is_pattern, loop=None, *, maxsize=DEFAULT_MAXSIZE):
        self._name = _channel_name(name)
        self._is_pattern = bool(is_pattern)
        self._queue = _MessageQueue(maxsize)

    def __repr__(self):
        return (
            f"<Channel name:{self._name!r}, is_pattern:{self._is_pattern}, "
            f"qsize:{len(self._queue)}>"
        )

    @property
    def name(self):
        """Channel name (or pattern), as bytes."""
        return self._name

    @property
    def is_pattern(self):
        """True for a pattern subscription."""
        return self._is_pattern

    @property
    def is_active(self):
        """True until the channel is closed and every message was read."""
        return self._queue.is_active

    @property
    def maxsize(self):
        """The queue's bound (None: unbounded)."""
        return self._queue._maxsize or None

    def qsize(self):
        """How many messages are queued."""
        return len(self._queue)

    def put_nowait(self, data):
        """Queue a message (called by the protocol)."""
        self._queue.put(data)

    def close(self, exc=None):
        """End the stream (called on unsubscribe or when the connection
        closes); a connection it held paused resumes reading."""
        self._queue.close()

    def _attach(self, conn):
        self._queue.attach(conn)

    def _detach(self, conn):
        self._queue.detach(conn)

    async def get(self, *, encoding=None, decoder=None):
        """The next message: bytes, or decoded with ``encoding`` and then
        ``decoder``. A pattern channel gives ``(channel, message)``. Returns
        None at the end of the stream, then raises ChannelClosedError."""
        if decoder is not None and not callable(decoder):
            raise TypeError("decoder must be callable")
        item = await self._queue.get()
        if item is _END:
            return None
        return _decode_message(item, self._is_pattern, encoding, decoder)

    async def get_json(self, encoding="utf-8"):
        """The next message decoded as JSON."""
        return await self.get(encoding=encoding, decoder=json.loads)

    async def wait_message(self):
        """Wait for a message; True if one is ready, False at the end."""
        await self._queue.wait_item()
        return self.is_active

    def iter(self, *, encoding=None, decoder=None):
        """An async iterator over the messages, ending when the channel closes."""
        return _iterate(self, encoding, decoder)

    def __aiter__(self):
        return self.iter()


async def _iterate(source, encoding, decoder):
    # get() consumes the end marker: afterwards get() raises ChannelClosedError
    while True:
        try:
            msg = await source.get(encoding=encoding, decoder=decoder)
        except ChannelClosedError:
            return
        if msg is None:
            return
        yield msg


class _Sender(AbcChannel):
    """A channel of a Receiver: messages go to the receiver's one queue."""

    __slots__ = ("_receiver", "_name", "_is_pattern", "_closed", "_conns")

    def __init__(self, receiver, name, is_pattern):
        self._receiver = receiver
        self._name = _channel_name(name)
        self._is_pattern = bool(is_pattern)
        self._closed = False
        self._conns = []  # connections it holds through the receiver's queue

    def __repr__(self):
        return f"<_Sender name:{self._name!r}, is_pattern:{self._is_pattern}, receiver:{self._receiver!r}>"

    # the same read-only properties as Channel's (both keep _name and _is_pattern)
    name = Channel.name
    is_pattern = Channel.is_pattern

    @property
    def is_active(self):
        return not self._closed

    def put_nowait(self, data):
        self._receiver._put(self, data)

    def close(self, exc=None):
        if not self._closed:
            self._closed = True
            for conn in self._conns[:]:
                self._detach(conn)
            self._receiver._on_sender_closed(self)

    def _attach(self, conn):
        if not self._closed:
            self._conns.append(conn)
            self._receiver._queue.attach(conn)

    def _detach(self, conn):
        if conn in self._conns:
            self._conns.remove(conn)
            self._receiver._queue.detach(conn)

    async def get(self, *args, **kwargs):
        raise RuntimeError("MPSC channel does not allow direct get() calls")


class Receiver:
    """Many channels into one queue: ``get()`` returns ``(sender, message)``.

    Pass ``receiver.channel(name)`` / ``receiver.pattern(p)`` to
    ``subscribe`` / ``psubscribe``. By default the receiver stops when its last
    channel closes; ``on_close(sender)`` replaces that rule. Any number
    of tasks may read it, as a :class:`Channel`; ``maxsize`` bounds its one
    queue as a Channel's.
    """

    def __init__(self, loop=None, on_close=None, *, maxsize=DEFAULT_MAXSIZE):
        self._queue = _MessageQueue(maxsize)
        self._refs = {}
        self._on_close = on_close if on_close is not None else self._default_on_close

    def __repr__(self):
        return f"<Receiver is_active:{self.is_active}, senders:{len(self._refs)}, qsize:{len(self._queue)}>"

    def channel(self, name):
        """A sender for channel ``name``, to pass to ``subscribe``."""
        return self._sender(name, False)

    def pattern(self, pattern):
        """A sender for ``pattern``, to pass to ``psubscribe``."""
        return self._sender(pattern, True)

    def _sender(self, name, is_pattern):
        key = (_channel_name(name), is_pattern)
        sender = self._refs.get(key)
        if sender is None or not sender.is_active:
            sender = self._refs[key] = _Sender(self, name, is_pattern)
        return sender

    @property
    def channels(self):
        """Active channel senders by name."""
        return {n: s for (n, p), s in self._refs.items() if not p and s.is_active}

    @property
    def patterns(self):
        """Active pattern senders by pattern."""
        return {n: s for (n, p), s in self._refs.items() if p and s.is_active}

    @property
    def is_active(self):
        """True until stopped and drained."""
        return self._queue.is_active

    def _put(self, sender, data):
        self._queue.put((sender, data))

    def _on_sender_closed(self, sender):
        self._on_close(sender)

    def _default_on_close(self, sender):
        if not any(s.is_active for s in self._refs.values()):
            self.stop()

    def check_stop(self, sender, exc=None):
        """The default on_close rule: stop once no channel is active."""
        self._default_on_close(sender)

    def stop(self):
        """Stop: get() returns what is queued, then None, then raises."""
        self._queue.close()

    async def get(self, *, encoding=None, decoder=None):
        """``(sender, message)`` (pattern senders: ``(sender, (channel, message))``),
        None at the end, then ChannelClosedError."""
        item = await self._queue.get()
        if item is _END:
            return None
        sender, msg = item
        return sender, _decode_message(msg, sender.is_pattern, encoding, decoder)

    # the same as Channel's: wait on the queue, then is_active; iterate with iter()
    wait_message = Channel.wait_message
    maxsize = Channel.maxsize
    qsize = Channel.qsize
    __aiter__ = Channel.__aiter__

    def iter(self, *, encoding=None, decoder=None):
        """An async iterator of ``(sender, message)`` until the receiver stops."""
        return _iterate(self, encoding, decoder)
