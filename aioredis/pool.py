"""create_pool() and RedisPool: a pool of commands_factory(connection) items.

Fairness and cancellation: callers that must wait queue in FIFO order. A
release hands the item straight to the first waiter (or, when the item is
dropped, hands it the freed slot to create a new one in), so nobody can
overtake a waiter. A waiter cancelled after being handed something passes
it on before it leaves, so no item or slot is ever stranded.
"""

import asyncio
import collections

from .commands import Redis, create_redis
from .connection import _validate_db
from .errors import PoolClosedError
from .util import check_loop

__all__ = ["create_pool", "RedisPool"]


async def create_pool(
    address,
    *,
    db=0,
    password=None,
    encoding=None,
    minsize=10,
    maxsize=10,
    commands_factory=Redis,
    loop=None,
):
    """Create a :class:`RedisPool` and fill it with ``minsize`` items."""
    check_loop(loop)
    pool = RedisPool(
        address,
        db,
        password,
        encoding,
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
        db=0,
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
        _validate_db(db)
        self._address = address
        self._db = db
        self._password = password
        self._encoding = encoding
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

    def __repr__(self):
        return (
            f"<{type(self).__name__} [db:{self._db}, size:[{self._minsize}:{self._maxsize}],"
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
        return self._db

    @property
    def encoding(self):
        return self._encoding

    @property
    def address(self):
        return self._address

    @property
    def closed(self):
        return self._closed

    @property
    def in_transaction(self):
        return False  # each command of a pool may run on another connection

    # -- acquire / release ----------------------------------------------

    async def acquire(self):
        """Return a free item, creating one while size < maxsize; otherwise
        wait (FIFO) for a release."""
        self._check_open()
        if not self._waiters:  # nobody is ahead of us
            item = self._take_free()
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

    def release(self, item):
        """Give an item back (NOT a coroutine). An item on another db, closed,
        inside MULTI, in pub/sub mode or beyond maxsize is closed and dropped."""
        if item not in self._used:
            raise AssertionError("Invalid connection, maybe from other pool")
        self._used.remove(item)
        if self._closed or not self._reusable(item) or len(self._free) >= self._maxsize:
            item.close()
            self._hand_slot()
        else:
            self._put_free(item)

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

    async def clear(self):
        """Close and remove every free item."""
        items = list(self._free)
        self._free.clear()
        for item in items:
            item.close()
            self._hand_slot()
        await asyncio.gather(*(item.wait_closed() for item in items))

    async def select(self, db):
        """Change db on every free item and for items created from now on."""
        _validate_db(db)
        items = list(self._free)
        self._free.clear()
        self._used.update(items)
        try:
            results = await asyncio.gather(
                *(item.select(db) for item in items), return_exceptions=True
            )
            for result in results:
                if isinstance(result, BaseException):
                    raise result
            self._db = db
        finally:
            # items now on a db other than the pool's are dropped here
            for item in items:
                self.release(item)
        return True

    def execute(self, command, *args, **kwargs):
        """Run a command on a free connection without taking it out of the
        pool (connections pipeline); acquire one when none is free.
        Used by ``create_redis_pool``."""
        self._check_open()
        if self._free:
            self._rotation = (self._rotation + 1) % len(self._free)
            item = self._free[self._rotation]
            if not item.closed:
                return item.execute(command, *args, **kwargs)
        return self._acquire_execute(command, args, kwargs)

    async def _acquire_execute(self, command, args, kwargs):
        item = await self.acquire()
        try:
            return await item.execute(command, *args, **kwargs)
        finally:
            self.release(item)

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
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(PoolClosedError("Pool is closed"))

    async def wait_closed(self):
        """Wait until every item closed by close() has finished closing."""
        items, self._closing_items = self._closing_items, []
        await asyncio.gather(*(item.wait_closed() for item in items))

    # -- internals --------------------------------------------------------

    def _check_open(self):
        if self._closed:
            raise PoolClosedError("Pool is closed")

    def _reusable(self, item):
        return (
            not item.closed
            and item.db == self._db
            and not item.in_transaction
            and not getattr(item, "in_pubsub", 0)
        )

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
            item = await create_redis(
                self._address,
                db=self._db,
                password=self._password,
                encoding=self._encoding,
                commands_factory=self._factory,
            )
        except BaseException:
            self._creating -= 1
            self._hand_slot()
            raise
        self._creating -= 1
        if self._closed:
            item.close()
            self._check_open()
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
                    self._used.discard(item)
                    self._put_free(item)
            raise


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
