"""create_pool() and RedisPool: a pool of commands_factory(connection) items.

Fairness and cancellation: callers that must wait queue in FIFO order. A
release hands the item straight to the first waiter (or, when the item is
dropped, hands it the freed slot to create a new one in), so nobody can
overtake a waiter. A waiter cancelled after being handed something passes
it on before it leaves, so no item or slot is ever stranded.

Giving an item back: one check (_give_back) for every path, from what the
connection tracks (see docs/internals.rst, "Giving a connection back to a
pool").
"""

import asyncio
import collections
import functools
import logging
import socket
import types

from .commands import Redis, create_redis
from .connection import _validate_db, create_connection
from .errors import PoolClosedError, RedisError, ReplyError
from .settings import ConnectionSettings
from .util import _NOTSET, check_loop, encode_command

logger = logging.getLogger("aioredis")

__all__ = ["create_pool", "RedisPool"]


async def create_pool(
    address,
    *,
    db=None,
    password=None,
    encoding=None,
    minsize=10,
    maxsize=10,
    commands_factory=Redis,
    loop=None,
):
    """Create a :class:`RedisPool` and fill it with ``minsize`` items
    (``address`` and keywords as :func:`~aioredis.connection.create_connection`)."""
    check_loop(loop)
    pool = RedisPool(
        ConnectionSettings.from_address(address, db=db, password=password, encoding=encoding),
        minsize=minsize,
        maxsize=maxsize,
        commands_factory=commands_factory,
    )
    try:
        await pool._fill()
    except BaseException:
        pool.close()
        await pool.wait_closed()
        raise
    return pool


class RedisPool:
    """A pool of ``commands_factory(connection)`` items (``Redis`` by default)."""

    def __init__(
        self,
        address,
        db=None,
        password=None,
        encoding=None,
        *,
        minsize,
        maxsize,
        commands_factory,
        loop=None,
    ):
        if type(minsize) is not int or minsize < 0:
            raise ValueError("minsize must be an int >= 0")
        if type(maxsize) is not int or maxsize <= 0:
            raise ValueError("maxsize must be an int > 0")
        if minsize > maxsize:
            raise ValueError("minsize must not be greater than maxsize")
        # read when an item is created; select() and auth() replace it
        self._settings = ConnectionSettings.from_address(
            address, db=db, password=password, encoding=encoding
        )
        self._minsize = minsize
        self._maxsize = maxsize
        self._factory = commands_factory
        self._free = collections.deque()
        self._used = set()
        self._creating = 0
        self._waiters = collections.deque()
        self._closed = False
        self._closing_items = []
        self._rotation = 0
        self._pubsub_conn = None
        self._pubsub_connecting = None
        # items held by a pending blocking command -> its future (None on
        # the coroutine path)
        self._blocking_items = {}
        self._fences = set()  # tasks killing dropped connections (see _drop)
        self._killing = set()  # the items those tasks are dropping
        self._left_behind = set()  # items out while select() / auth() ran

    def __repr__(self):
        return (
            f"<{type(self).__name__} [db:{self._settings.db}, size:[{self._minsize}:{self._maxsize}],"
            f" free:{self.freesize}]>"
        )

    # -- read-only state -------------------------------------------------

    @property
    def minsize(self):
        return self._minsize

    @property
    def maxsize(self):
        return self._maxsize

    @property
    def size(self):
        """Free plus used items, counting those being connected."""
        return len(self._free) + len(self._used) + self._creating

    @property
    def freesize(self):
        return len(self._free)

    @property
    def db(self):
        return self._settings.db

    @property
    def encoding(self):
        return self._settings.encoding

    @property
    def address(self):
        return self._settings.address

    @property
    def settings(self):
        """The :class:`~aioredis.settings.ConnectionSettings` new items are made with."""
        return self._settings

    @property
    def closed(self):
        return self._closed

    @property
    def in_transaction(self):
        return False  # each command of a pool may run on another connection

    # -- acquire / release ----------------------------------------------

    async def acquire(self):
        """Return a free item, creating one while size < maxsize; otherwise
        wait (FIFO) for a release. The item owes no reply to anybody else."""
        self._check_open()
        if self._blocking_items:
            self._reap_blocking()
        while True:
            item = await self._acquire_any()
            if _owed(item) and not await self._drained(item):
                continue  # lost while draining: dropped, try again
            break
        if self._fences:  # a dropped connection is still being killed
            try:
                await self._pass_fences()
            except BaseException:
                self._give_back(item, warn=False)
                raise
        return item

    async def _acquire_any(self):
        if not self._waiters:  # nobody is ahead of us
            item = self._take_idle() or self._take_free()
            if item is not None:
                self._used.add(item)
                return item
            if self.size < self._maxsize:
                self._creating += 1
                return await self._create_reserved()
        item = await self._wait_handoff()
        if item is None:  # we were handed a free slot, not an item
            return await self._create_reserved()
        return item

    async def _drained(self, item):
        """Wait until a free item taken while pool.execute() callers still
        had replies owed on it has none (a PING behind them): every reply
        owed on an acquired item is then its user's. False if it was lost."""
        try:
            await _connection_of(item).execute(b"PING")
        except asyncio.CancelledError:
            if self._closed or item in self._left_behind:
                self._give_back(item, warn=False)  # not to be reused: the check drops it
            else:
                # nothing of ours is owed but a PING: it can serve others again
                self._used.discard(item)
                self._put_free(item)
            raise
        except Exception:
            pass
        if item.closed:
            self._give_back(item, warn=False)
            return False
        return True

    def release(self, item):
        """Give an item back (NOT a coroutine). An item that is closed, on
        another db than the pool's, inside MULTI, in pub/sub mode, that
        still owes a reply to a command sent on it (a cancelled SELECT,
        MULTI, SUBSCRIBE, BLPOP...) or beyond maxsize is dropped: closed,
        its slot freed, a warning logged for the states its user left it
        in. One owing a reply is also killed on the server before the pool
        sends anything else (docs/internals.rst)."""
        self._give_back(item, warn=True)

    def _give_back(self, item, warn, abandoned=False):
        """The one way an item comes back (release, the item contexts, a
        blocking command's end, select()). ``abandoned``: a command whose
        caller gave up may still be running on it (the blocking path)."""
        if item not in self._used:
            raise AssertionError("Invalid connection, maybe from other pool")
        self._used.remove(item)
        left_behind = item in self._left_behind
        self._left_behind.discard(item)
        owed, reason = self._unfit(item, abandoned, left_behind)
        if reason is None and not self._closed and len(self._free) < self._maxsize:
            self._put_free(item)
            return
        if warn and reason:
            logger.warning("Connection %r released %s, closing it", item, reason)
        self._drop(item, owed)
        self._hand_slot()

    def _unfit(self, item, abandoned, left_behind):
        """(replies owed, why ``item`` cannot be reused or None); the why is
        "" for a reason that is not its user's doing (closed, or out while
        select() or auth() changed the pool's setting)."""
        if item.closed:
            return 0, ""
        owed = max(_owed(item), int(abandoned))
        if owed:
            return owed, f"with {owed} replies owed" if owed > 1 else "with a reply owed"
        if item.in_transaction:
            return 0, "inside MULTI"
        if getattr(item, "in_pubsub", 0):
            return 0, "in pub/sub mode"
        if left_behind:  # out while select() or auth() changed the pool
            return 0, ""
        if item.db != self._settings.db:
            return 0, f"on db {item.db} (the pool's is {self._settings.db})"
        return 0, None

    def _drop(self, item, owed):
        """Close a dropped item; one that owes a reply is also killed on
        the server, and the pool fenced until that is done."""
        if not owed or self._closed:
            item.close()
            return
        self._killing.add(item)
        fence = asyncio.ensure_future(self._kill(item))
        self._fences.add(fence)
        fence.add_done_callback(self._fences.discard)

    async def _kill(self, item):
        """Close ``item`` and make sure the server has freed its client: a
        command it still runs (a BLPOP) must not be served after this."""
        conn = _connection_of(item)
        try:
            client_id = None
            ask = getattr(conn, "_aioredis_client_id", None)
            if ask is not None:
                try:  # sent first on the connection: answered before the rest
                    client_id = await asyncio.shield(ask)
                except Exception:
                    pass
            _shutdown(conn)  # the FIN leaves now, not a loop round later
            item.close()
            if type(client_id) is int:
                try:
                    await self._on_another_connection(b"CLIENT", b"KILL", b"ID", client_id)
                    return
                except ReplyError:  # CLIENT denied: fall back to ordering
                    pass
            if not self._closed:  # without an id: a round trip after the FIN
                await self._on_another_connection(b"PING")
        except Exception as exc:
            logger.warning("Could not make sure %r is gone on the server: %r", item, exc)
        finally:
            item.close()
            self._killing.discard(item)

    async def _on_another_connection(self, *command):
        """Run ``command`` on a free connection of the pool (not through
        execute(), which waits for the fences), else on a short-lived one."""
        for item in self._free:
            if not item.closed:
                return await _connection_of(item).execute(*command)
        conn = await create_connection(self._settings.replace(db=0, encoding=None))
        try:
            return await conn.execute(*command)
        finally:
            conn.close()
            await conn.wait_closed()

    async def _pass_fences(self):
        while self._fences:
            await asyncio.wait(list(self._fences))
            self._check_open()

    async def _execute_fenced(self, command, args, kwargs):
        await self._pass_fences()
        return await self.execute(command, *args, **kwargs)

    def get(self):
        """``async with pool.get() as redis:`` acquires and releases an item."""
        return _AsyncItemContext(self)

    def __await__(self):
        """``with await pool as redis:`` acquires an item released at exit."""
        item = yield from self.acquire().__await__()
        return _ItemContext(self, item)

    __iter__ = __await__

    def __enter__(self):
        raise RuntimeError('"await" should be used as context manager expression')

    def __exit__(self, *args):
        pass  # pragma: no cover - __enter__ always raises

    # -- pool-wide operations -------------------------------------------

    def clear(self):
        """Close and remove every free item (NOT a coroutine): they are
        closed when it is called; awaiting what it returns waits until they
        have finished closing."""
        items = list(self._free)
        self._free.clear()
        for item in items:
            item.close()
            self._hand_slot()
        return _WaitClosed(items)

    async def select(self, db):
        """Change db on every free item and for items created from now on."""
        _validate_db(db)
        await self._on_every_free_item((b"SELECT", db), db=db)
        return True

    async def auth(self, password):
        """AUTH on every free item, and on the items created from now on."""
        await self._on_every_free_item((b"AUTH", password), password=password)
        return True

    async def _on_every_free_item(self, command, **changes):
        """Run ``command`` on every free item, then apply ``changes`` to the
        pool's settings; the items out at that moment are dropped when they
        come back. Raises the first error, leaving the settings as they
        were."""
        items = list(self._free)
        self._free.clear()
        self._used.update(items)
        try:
            # the connections' own futures: cancelling us cancels them, so
            # none is left to fail unretrieved when its connection is dropped
            results = await asyncio.gather(
                *(_connection_of(item).execute(*command) for item in items),
                return_exceptions=True,
            )
            for result in results:
                if isinstance(result, BaseException):
                    raise result
            self._settings = self._settings.replace(**changes)
            # the items out now keep the old setting: dropped when back
            self._left_behind.update(self._used.difference(items))
        finally:
            # items now on a db other than the pool's, or whose command is
            # still unanswered (we were cancelled), are dropped here
            for item in items:
                self._give_back(item, warn=False)

    def execute(self, command, *args, **kwargs):
        """Run a command on a free connection without taking it out of the
        pool (connections pipeline); acquire one when none is free.
        Used by ``create_redis_pool``.

        A blocking command (BLPOP, BRPOP, BRPOPLPUSH, BLMOVE, BLMPOP,
        BZPOPMIN, BZPOPMAX, BZMPOP, WAIT, WAITAOF, and XREAD / XREADGROUP
        with BLOCK) instead runs on a connection taken out of the pool for
        it alone, so it never holds up other callers; the connection goes
        back when the reply has arrived. If the caller gives up while the
        command is still pending (its task is cancelled, a timeout expires,
        or the returned future is cancelled), that connection is closed, not
        reused, and killed on the server (CLIENT KILL ID) before the pool
        sends anything else, so the server stops blocking for a caller that
        is gone and nothing pushed later is consumed on its behalf. An item the server
        had already popped and sent at that instant cannot be recovered: it
        is dropped with the reply.

        A command that changes the state of the connection it runs on
        cannot share one (see ``_STATE_COMMANDS``): SELECT changes the
        pool's db (as :meth:`select`); MULTI, EXEC, DISCARD, WATCH, UNWATCH,
        AUTH, HELLO, RESET, QUIT, (P/S)(UN)SUBSCRIBE, MONITOR,
        READONLY / READWRITE and CLIENT REPLY / TRACKING / CACHING / SETNAME /
        SETINFO / NO-EVICT / NO-TOUCH raise a RedisError naming the API to
        use instead.
        """
        self._check_open()
        if self._blocking_items:
            self._reap_blocking()
        if self._fences:  # a dropped connection is still being killed
            return self._execute_fenced(command, args, kwargs)
        try:
            kind = _COMMAND_KINDS[type(command)][command]
        except KeyError:
            kind = _classify(command)
        if kind:
            if kind == _BLOCKING or (kind == _XREAD and _xread_blocks(args)):
                return self._execute_blocking(command, args, kwargs)
            if kind == _SELECT:
                return self._execute_select(args, kwargs)
            if kind == _STATE or (kind == _CLIENT and _client_sets_state(args)):
                _refuse(command, args)
        if self._free:
            self._rotation = (self._rotation + 1) % len(self._free)
            item = self._free[self._rotation]
            if not item.closed:
                return item.execute(command, *args, **kwargs)
        return self._acquire_execute(command, args, kwargs)

    def _execute_select(self, args, kwargs):
        """SELECT on the shared path: the whole pool's db changes."""
        if len(args) != 1:
            raise TypeError("SELECT takes exactly one argument, the db index")
        db = args[0]
        if isinstance(db, (str, bytes)) and db.isdigit():
            db = int(db)
        _validate_db(db)
        return self._select_reply(db, kwargs.get("encoding", _NOTSET), kwargs.get("convert"))

    async def _select_reply(self, db, encoding, convert):
        await self.select(db)
        if encoding is _NOTSET:
            encoding = self._settings.encoding
        reply = "OK" if encoding else b"OK"
        return convert(reply) if convert is not None else reply

    # -- pub/sub ------------------------------------------------------------

    def execute_pubsub(self, command, *channels):
        """(P)(UN)SUBSCRIBE on the pool's own pub/sub connection, which no
        other command shares (a subscribed connection accepts no other
        commands). Made on first use; not reconnected if it is lost."""
        self._check_open()
        conn = self._pubsub_conn
        if conn is not None and not conn.closed:
            return conn.execute_pubsub(command, *channels)
        return self._connect_and_execute_pubsub(command, channels)

    async def _connect_and_execute_pubsub(self, command, channels):
        if self._pubsub_connecting is None:
            self._pubsub_connecting = asyncio.ensure_future(
                create_connection(self._settings)
            )
        connecting = self._pubsub_connecting
        try:
            conn = await asyncio.shield(connecting)
        finally:
            if self._pubsub_connecting is connecting and connecting.done():
                self._pubsub_connecting = None
        if self._closed:
            conn.close()
            self._check_open()
        self._pubsub_conn = conn
        return await conn.execute_pubsub(command, *channels)

    @property
    def pubsub_channels(self):
        """Channels subscribed on the pub/sub connection (read-only mapping)."""
        conn = self._pubsub_conn
        return conn.pubsub_channels if conn is not None else types.MappingProxyType({})

    @property
    def pubsub_patterns(self):
        """Patterns subscribed on the pub/sub connection (read-only mapping)."""
        conn = self._pubsub_conn
        return conn.pubsub_patterns if conn is not None else types.MappingProxyType({})

    @property
    def in_pubsub(self):
        """Subscriptions of the pub/sub connection."""
        conn = self._pubsub_conn
        return conn.in_pubsub if conn is not None else 0

    async def _acquire_execute(self, command, args, kwargs):
        item = await self.acquire()
        try:
            return await item.execute(command, *args, **kwargs)
        finally:
            self._give_back(item, warn=False)  # a cancelled caller's reply owed: dropped

    def _execute_blocking(self, command, args, kwargs):
        """A blocking command on an item of its own (see execute())."""
        item = self._take_for_blocking()
        if item is None:  # must wait or connect: validate now, send later
            encode_command(command, *args)
            return self._acquire_execute_blocking(command, args, kwargs)
        self._used.add(item)
        try:
            fut = item.execute(command, *args, **kwargs)
        except BaseException:
            self._give_back(item, warn=False)  # nothing was sent
            raise
        return self._hold(item, fut)

    async def _acquire_execute_blocking(self, command, args, kwargs):
        item = await self.acquire()
        try:
            fut = item.execute(command, *args, **kwargs)
        except BaseException:
            self._give_back(item, warn=False)
            raise
        return await self._hold(item, fut)

    def _take_for_blocking(self):
        """Like acquire()'s fast path, without waiting: a free item (one with
        no commands in flight when there is one), or None."""
        if self._waiters or not self._free:
            return None
        return self._take_idle() or self._take_free()

    def _take_idle(self):
        """A free item that owes no reply, or None."""
        for item in self._free:
            if not item.closed and _owed(item) == 0:
                self._free.remove(item)
                return item
        return None

    def _hold(self, item, fut):
        """Keep ``item`` out of the pool until ``fut`` is done, then give it
        back; if ``fut`` was cancelled (the caller left while the server may
        still be blocking for it) it is dropped and killed (see _drop)."""
        if isinstance(fut, asyncio.Future):
            self._blocking_items[item] = fut
            fut.add_done_callback(functools.partial(self._blocking_done, item))
            return fut
        self._blocking_items[item] = None
        return self._await_blocking(item, fut)  # an item whose execute is a coroutine

    def _blocking_done(self, item, fut):
        if self._blocking_items.get(item) is fut:  # not reaped already
            del self._blocking_items[item]
            self._give_back(item, warn=False, abandoned=fut.cancelled())

    def _reap_blocking(self):
        """Give back now the items of blocking commands already done: their
        done-callbacks run a loop iteration later, and a command sent by the
        pool meanwhile (after a cancel() and an eager gather(), say) must
        already find a cancelled one's connection fenced off."""
        for item, fut in list(self._blocking_items.items()):
            if fut is not None and fut.done():
                self._blocking_done(item, fut)

    async def _await_blocking(self, item, awaitable):
        abandoned = True
        try:
            result = await awaitable
            abandoned = False
            return result
        except asyncio.CancelledError:
            raise
        except BaseException:
            abandoned = False
            raise
        finally:
            del self._blocking_items[item]
            self._give_back(item, warn=False, abandoned=abandoned)

    def close(self):
        """Close the pool: free items now, used items when released. Waiting
        acquirers get PoolClosedError."""
        if self._closed:
            return
        self._closed = True
        while self._free:
            item = self._free.popleft()
            item.close()
            self._closing_items.append(item)
        if self._pubsub_conn is not None:
            self._pubsub_conn.close()  # its channels end their streams
            self._closing_items.append(self._pubsub_conn)
        # a blocking command would otherwise keep its connection open, and
        # its caller waiting, after the pool is closed: it fails instead
        for item in list(self._blocking_items) + list(self._killing):
            item.close()
            self._closing_items.append(item)
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(PoolClosedError("Pool is closed"))

    async def wait_closed(self):
        """Wait until every item closed by close() has finished closing."""
        items, self._closing_items = self._closing_items, []
        # the kills of dropped connections finish too (see _kill)
        await asyncio.gather(*(item.wait_closed() for item in items), *self._fences)

    # -- internals --------------------------------------------------------

    def _check_open(self):
        if self._closed:
            raise PoolClosedError("Pool is closed")

    def _take_free(self):
        while self._free:
            item = self._free.popleft()
            if not item.closed:
                return item
        return None

    def _put_free(self, item):
        """A reusable item: to the first waiter, else to the free queue."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._used.add(item)  # it changes hands without being free
                waiter.set_result(item)
                return
        self._free.append(item)

    def _hand_slot(self):
        """A slot was freed: the first waiter may create an item in it."""
        while self._waiters and self.size < self._maxsize:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._creating += 1  # reserved for that waiter
                waiter.set_result(None)
                return

    async def _create_reserved(self):
        """Create an item in a slot already counted in _creating."""
        try:
            item = await create_redis(self._settings, commands_factory=self._factory)
        except BaseException:
            self._creating -= 1
            self._hand_slot()
            raise
        self._creating -= 1
        if self._closed:
            item.close()
            self._check_open()
        _ask_client_id(_connection_of(item))
        self._used.add(item)
        return item

    async def _fill(self):
        while self.size < self._minsize:
            self._creating += 1
            item = await self._create_reserved()
            self._used.remove(item)
            self._put_free(item)

    async def _wait_handoff(self):
        """Queue until a release hands us an item (or a slot: None)."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except BaseException:
            if not waiter.done():
                self._waiters.remove(waiter)
            elif not waiter.cancelled() and waiter.exception() is None:
                # handed something, but we are leaving: pass it on
                item = waiter.result()
                if item is None:
                    self._creating -= 1
                    self._hand_slot()
                else:
                    self._give_back(item, warn=False)  # the pool may be closed by now
            raise


# -- blocking commands -----------------------------------------------------

_PLAIN, _BLOCKING, _XREAD, _SELECT, _STATE, _CLIENT = 0, 1, 2, 3, 4, 5

_BLOCKING_NAMES = {
    b"BLPOP": _BLOCKING,
    b"BRPOP": _BLOCKING,
    b"BRPOPLPUSH": _BLOCKING,
    b"BLMOVE": _BLOCKING,
    b"BLMPOP": _BLOCKING,
    b"BZPOPMIN": _BLOCKING,
    b"BZPOPMAX": _BLOCKING,
    b"BZMPOP": _BLOCKING,
    b"WAIT": _BLOCKING,
    b"WAITAOF": _BLOCKING,
    b"XREAD": _XREAD,  # blocking only with BLOCK
    b"XREADGROUP": _XREAD,
}

# -- commands that change the state of the connection they run on -----------
#
# On the shared path (execute()) the next command may run on any connection,
# and other callers' commands run on this one: such a command must do what it
# means for the whole pool (SELECT) or be refused, naming what to use.

_USE_TRANSACTION = "use multi_exec() or pipeline(), or a connection of its own"
_USE_CONNECTION = "use a connection of its own"
_HOW_TO_TAKE = " (with await pool as conn, async with pool.get() as conn)"

#: name -> what to use instead (refused on the shared path)
_STATE_COMMANDS = {
    b"MULTI": _USE_TRANSACTION,
    b"EXEC": _USE_TRANSACTION,
    b"DISCARD": _USE_TRANSACTION,
    b"WATCH": _USE_TRANSACTION,  # watched keys would abort another caller's EXEC
    b"UNWATCH": _USE_TRANSACTION,
    b"AUTH": "use auth() (the whole pool) or password= of create_pool(), or " + _USE_CONNECTION,
    b"HELLO": _USE_CONNECTION,  # protocol version, AUTH, SETNAME
    b"RESET": _USE_CONNECTION,
    b"QUIT": "close the pool with close(), or " + _USE_CONNECTION,
    b"MONITOR": _USE_CONNECTION,
    b"READONLY": _USE_CONNECTION,
    b"READWRITE": _USE_CONNECTION,
    b"SUBSCRIBE": "use execute_pubsub() (Redis.subscribe())",
    b"PSUBSCRIBE": "use execute_pubsub() (Redis.psubscribe())",
    b"UNSUBSCRIBE": "use execute_pubsub() (Redis.unsubscribe())",
    b"PUNSUBSCRIBE": "use execute_pubsub() (Redis.punsubscribe())",
    b"SSUBSCRIBE": _USE_CONNECTION,
    b"SUNSUBSCRIBE": _USE_CONNECTION,
}

#: CLIENT subcommands that change the connection (CLIENT ID, INFO, LIST,
#: KILL, GETNAME, UNBLOCK, PAUSE... do not). SETNAME is here too: it would
#: name one connection picked at random, not "this client".
_CLIENT_STATE_SUBCOMMANDS = frozenset(
    (b"REPLY", b"TRACKING", b"CACHING", b"SETNAME", b"SETINFO", b"NO-EVICT", b"NO-TOUCH")
)

_COMMAND_NAMES = {
    **_BLOCKING_NAMES,
    **dict.fromkeys(_STATE_COMMANDS, _STATE),
    b"SELECT": _SELECT,
    b"CLIENT": _CLIENT,
}


def _client_sets_state(args):
    return bool(args) and _normalize(args[0]) in _CLIENT_STATE_SUBCOMMANDS


def _refuse(command, args):
    name = _normalize(command)
    if name == b"CLIENT":
        name += b" " + _normalize(args[0])
        advice = _USE_CONNECTION
    else:
        advice = _STATE_COMMANDS[name]
    if advice.endswith(_USE_CONNECTION):
        advice += _HOW_TO_TAKE
    raise RedisError(
        f"{name.decode('ascii', 'replace')} changes the state of the connection it runs on and "
        f"cannot be sent on a pool's shared connections: {advice}"
    )

#: type -> {command as passed -> kind}, for bytes and str commands; filled by
#: _classify(). One dict per type: "GET" and b"GET" hash alike, and comparing
#: them would warn under ``python -b``.
_COMMAND_KINDS = {bytes: {}, str: {}}
_COMMAND_KINDS_MAX = 1024


def _normalize(token):
    """Upper-cased bytes of a str/bytes/bytearray/memoryview, else None."""
    if isinstance(token, str):
        return token.upper().encode("utf-8", "replace")
    if isinstance(token, (bytes, bytearray, memoryview)):
        return bytes(token).upper()
    return None


def _classify(command):
    """The kind (_PLAIN, _BLOCKING...) of a command name, case-insensitively."""
    if isinstance(command, (str, bytes, bytearray)):  # what execute() accepts
        kind = _COMMAND_NAMES.get(_normalize(command), _PLAIN)
    else:
        kind = _PLAIN  # execute() raises TypeError itself
    cache = _COMMAND_KINDS.get(type(command))
    if cache is not None and len(cache) < _COMMAND_KINDS_MAX:
        cache[command] = kind
    return kind


def _xread_blocks(args):
    """Whether XREAD / XREADGROUP arguments hold BLOCK before STREAMS."""
    start = 0
    if args and _option(args[0]) == b"GROUP":
        start = 3  # XREADGROUP GROUP group consumer: names, not options
    for arg in args[start:]:
        token = _option(arg)
        if token == b"BLOCK":
            return True
        if token == b"STREAMS":
            return False
    return False


def _option(arg):
    """_normalize(arg) for values as long as an option name, else None."""
    if isinstance(arg, (str, bytes, bytearray, memoryview)) and len(arg) in (5, 7):
        return _normalize(arg)
    return None


def _connection_of(item):
    """The connection of a pool item (a Redis item, or a connection)."""
    return getattr(item, "connection", item)


def _ask_client_id(conn):
    """Send CLIENT ID on a new pool connection, without waiting: _kill()
    needs it to kill that client. Its reply comes before any other."""
    try:
        fut = conn.execute(b"CLIENT", b"ID")
    except Exception:  # not a RedisConnection, or already closed
        return
    if isinstance(fut, asyncio.Future):
        fut.add_done_callback(_retrieve)
        try:
            conn._aioredis_client_id = fut
        except AttributeError:
            pass


def _retrieve(fut):
    if not fut.cancelled():
        fut.exception()  # denied by an ACL, say: not worth a log line


def _owed(item):
    """Replies an item's connection still owes its users (0 if unknown):
    its ``pending`` commands, not counting the pool's own CLIENT ID."""
    conn = _connection_of(item)
    owed = getattr(conn, "pending", 0)
    if owed:
        ask = getattr(conn, "_aioredis_client_id", None)
        if ask is not None and not ask.done():
            owed -= 1
    return owed


def _shutdown(conn):
    """Shut the connection's socket down at once (the transport would close
    it one loop iteration later)."""
    transport = getattr(conn, "transport", None)
    sock = transport.get_extra_info("socket") if transport is not None else None
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except (AttributeError, OSError):
        pass


class _WaitClosed:
    """What clear() returns: awaiting it waits until its items are closed."""

    __slots__ = ("_items",)

    def __init__(self, items):
        self._items = items

    def __await__(self):
        return self._wait().__await__()

    async def _wait(self):
        await asyncio.gather(*(item.wait_closed() for item in self._items))


class _ItemContext:
    """The value of ``await pool``: releases the item on exit."""

    __slots__ = ("_pool", "_item")

    def __init__(self, pool, item):
        self._pool = pool
        self._item = item

    def __enter__(self):
        return self._item

    def __exit__(self, *exc_info):
        pool, item = self._pool, self._item
        self._pool = self._item = None
        if pool is not None:
            pool.release(item)


class _AsyncItemContext:
    """``pool.get()``: acquires on enter, releases on exit."""

    __slots__ = ("_pool", "_item")

    def __init__(self, pool):
        self._pool = pool
        self._item = None

    async def __aenter__(self):
        self._item = await self._pool.acquire()
        return self._item

    async def __aexit__(self, *exc_info):
        item, self._item = self._item, None
        if item is not None:
            self._pool.release(item)
