"""Generic commands."""

from ..util import _NOTSET, encode_command
from ._convert import _QUEUED, ok, to_bool

__all__ = ["GenericCommandsMixin"]


def _scan_reply(reply):
    """SCAN / SSCAN: [cursor, [item, ...]] -> (int(cursor), [item, ...]); QUEUED passes through."""
    if reply in _QUEUED:
        return reply
    cursor, items = reply
    return int(cursor), items


async def _scan_pages(scan):
    """Call ``scan(cursor)`` from cursor 0 until the server returns cursor 0,
    yielding the items of each page one by one (used by iscan & co.)."""
    cursor = 0
    while True:
        cursor, items = await scan(cursor)
        for item in items:
            yield item
        if not cursor:
            return


def _scan_options(match, count):
    """The MATCH / COUNT arguments shared by the SCAN family."""
    args = []
    if match is not None:
        args += (b"MATCH", match)
    if count is not None:
        args += (b"COUNT", count)
    return args


def _check_int(value, name):
    if not isinstance(value, int):
        raise TypeError(f"{name} argument must be int, not {type(value).__name__}")


def _check_migrate(host, timeout, dest_db):
    if not isinstance(host, str):
        raise TypeError(f"host argument must be str, not {type(host).__name__}")
    _check_int(timeout, "timeout")
    _check_int(dest_db, "dest_db")
    if not host:
        raise ValueError("host argument must not be empty")
    if dest_db < 0:
        raise ValueError(f"dest_db argument must be not less than 0, got {dest_db}")
    if timeout < 0:
        raise ValueError(f"timeout argument must be not less than 0, got {timeout}")


def _migrate_flags(copy, replace):
    flags = []
    if copy:
        flags.append(b"COPY")
    if replace:
        flags.append(b"REPLACE")
    return flags


class GenericCommandsMixin:
    """Generic commands; every method sends through ``self._execute``."""

    __slots__ = ()

    def delete(self, key, *keys):
        """Delete keys; the number of keys removed."""
        return self._execute(b"DEL", key, *keys)

    def dump(self, key):
        """Serialized value of a key (always bytes), or None if missing."""
        # the payload is binary: never decode it, whatever the connection's encoding
        return self._execute(b"DUMP", key, encoding=None)

    def exists(self, key, *keys):
        """Count how many of the given keys exist."""
        return self._execute(b"EXISTS", key, *keys)

    def expire(self, key, timeout):
        """Set a key's time to live in seconds (a float uses PEXPIRE); True if set."""
        if isinstance(timeout, float):
            return self.pexpire(key, int(timeout * 1000))
        _check_int(timeout, "timeout")
        return self._execute(b"EXPIRE", key, timeout, convert=to_bool)

    def expireat(self, key, timestamp):
        """Set a key's expiry as a UNIX timestamp (a float uses PEXPIREAT); True if set."""
        if isinstance(timestamp, float):
            return self.pexpireat(key, int(timestamp * 1000))
        _check_int(timestamp, "timestamp")
        return self._execute(b"EXPIREAT", key, timestamp, convert=to_bool)

    def keys(self, pattern, *, encoding=_NOTSET):
        """List the keys matching a pattern."""
        return self._execute(b"KEYS", pattern, encoding=encoding)

    def migrate(self, host, port, key, dest_db, timeout, copy=False, replace=False):
        """Atomically transfer a key to another Redis instance; True on OK."""
        _check_migrate(host, timeout, dest_db)
        flags = _migrate_flags(copy, replace)
        return self._execute(
            b"MIGRATE", host, port, key, dest_db, timeout, *flags, convert=ok
        )

    def migrate_keys(self, host, port, keys, dest_db, timeout, *, copy=False, replace=False):
        """Atomically transfer several keys to another Redis instance; True on OK."""
        _check_migrate(host, timeout, dest_db)
        if not isinstance(keys, (list, tuple)):
            raise TypeError(f"keys argument must be a list or tuple, not {type(keys).__name__}")
        if not keys:
            raise ValueError("keys argument must not be empty")
        flags = _migrate_flags(copy, replace)
        return self._execute(
            b"MIGRATE", host, port, b"", dest_db, timeout, *flags, b"KEYS", *keys,
            convert=ok,
        )

    def move(self, key, db):
        """Move a key to another database; True if moved."""
        _check_int(db, "db")
        if db < 0:
            raise ValueError(f"db argument must be not less than 0, got {db}")
        return self._execute(b"MOVE", key, db, convert=to_bool)

    def object_refcount(self, key):
        """Number of references to a key's value, or None if missing."""
        return self._execute(b"OBJECT", b"REFCOUNT", key)

    def object_encoding(self, key):
        """Internal encoding of a key's value as str (e.g. 'int'), or None if missing."""
        return self._execute(b"OBJECT", b"ENCODING", key, encoding="utf-8")

    def object_idletime(self, key):
        """Seconds since a key was last accessed, or None if missing."""
        return self._execute(b"OBJECT", b"IDLETIME", key)

    def persist(self, key):
        """Remove a key's expiry; True if it had one."""
        return self._execute(b"PERSIST", key, convert=to_bool)

    def pexpire(self, key, timeout):
        """Set a key's time to live in milliseconds; True if set."""
        _check_int(timeout, "timeout")
        return self._execute(b"PEXPIRE", key, timeout, convert=to_bool)

    def pexpireat(self, key, timestamp):
        """Set a key's expiry as a UNIX timestamp in milliseconds; True if set."""
        _check_int(timestamp, "timestamp")
        return self._execute(b"PEXPIREAT", key, timestamp, convert=to_bool)

    def pttl(self, key):
        """Time to live in milliseconds (-2 if missing, -1 if no expiry)."""
        return self._execute(b"PTTL", key)

    def randomkey(self, *, encoding=_NOTSET):
        """A random key from the current database, or None if it is empty."""
        return self._execute(b"RANDOMKEY", encoding=encoding)

    def rename(self, key, newkey):
        """Rename a key; True on OK."""
        if type(key) is type(newkey) and key == newkey:
            raise ValueError("key and newkey are the same")
        return self._execute(b"RENAME", key, newkey, convert=ok)

    def renamenx(self, key, newkey):
        """Rename a key only if the new name does not exist; True if renamed."""
        if type(key) is type(newkey) and key == newkey:
            raise ValueError("key and newkey are the same")
        return self._execute(b"RENAMENX", key, newkey, convert=to_bool)

    def restore(self, key, ttl, value):
        """Create a key from a value serialized by DUMP."""
        return self._execute(b"RESTORE", key, ttl, value)

    def scan(self, cursor=0, match=None, count=None):
        """Incrementally iterate the keys: (next cursor as int, [key, ...])."""
        return self._execute(b"SCAN", cursor, *_scan_options(match, count), convert=_scan_reply)

    def iscan(self, *, match=None, count=None):
        """Async iterator over the keys, paging through SCAN until cursor 0."""
        encode_command(b"SCAN", 0, *_scan_options(match, count))  # TypeError now
        return _scan_pages(lambda cursor: self.scan(cursor, match=match, count=count))

    def sort(self, key, *get_patterns, by=None, offset=None, count=None,
             asc=None, alpha=False, store=None):
        """Sort a list, set or sorted set (the number stored with ``store``)."""
        args = []
        if by is not None:
            args += [b"BY", by]
        if offset is not None and count is not None:
            args += [b"LIMIT", offset, count]
        for pattern in get_patterns:
            args += [b"GET", pattern]
        if asc is not None:
            args.append(b"ASC" if asc is True else b"DESC")
        if alpha:
            args.append(b"ALPHA")
        if store is not None:
            args += [b"STORE", store]
        return self._execute(b"SORT", key, *args)

    def touch(self, key, *keys):
        """Update the last access time of keys; the number that exist."""
        return self._execute(b"TOUCH", key, *keys)

    def ttl(self, key):
        """Time to live in seconds (-2 if missing, -1 if no expiry)."""
        return self._execute(b"TTL", key)

    def type(self, key):
        """Type of the value stored at a key (b'none' if missing)."""
        return self._execute(b"TYPE", key)

    def unlink(self, key, *keys):
        """Delete keys, reclaiming memory in the background; the number removed."""
        return self._execute(b"UNLINK", key, *keys)

    def wait(self, numslaves, timeout):
        """Wait for replicas to acknowledge previous writes; the number that did."""
        return self._execute(b"WAIT", numslaves, timeout)
