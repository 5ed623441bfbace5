"""List commands."""

from ..util import _NOTSET
from ._convert import ok

__all__ = ["ListCommandsMixin"]


def _check_int(name, value):
    if not isinstance(value, int):
        raise TypeError(f"{name} argument must be int, not {type(value).__name__}")


def _check_timeout(timeout):
    _check_int("timeout", timeout)
    if timeout < 0:
        raise ValueError(f"timeout must be greater than or equal to 0, got {timeout}")


class ListCommandsMixin:
    """List commands; every method sends through ``self._execute``."""

    __slots__ = ()

    def blpop(self, key, *keys, timeout=0, encoding=_NOTSET):
        """Pop the head of the first non-empty list, blocking up to timeout s (0: forever)."""
        _check_timeout(timeout)
        return self._execute(b"BLPOP", key, *keys, timeout, encoding=encoding)

    def brpop(self, key, *keys, timeout=0, encoding=_NOTSET):
        """Pop the tail of the first non-empty list, blocking up to timeout s (0: forever)."""
        _check_timeout(timeout)
        return self._execute(b"BRPOP", key, *keys, timeout, encoding=encoding)

    def brpoplpush(self, sourcekey, destkey, timeout=0, encoding=_NOTSET):
        """Move a list's tail to another list's head, blocking up to timeout s (0: forever)."""
        _check_timeout(timeout)
        return self._execute(b"BRPOPLPUSH", sourcekey, destkey, timeout, encoding=encoding)

    def lindex(self, key, index, *, encoding=_NOTSET):
        """Get the element at an index of a list (None if out of range)."""
        _check_int("index", index)
        return self._execute(b"LINDEX", key, index, encoding=encoding)

    def linsert(self, key, pivot, value, before=False):
        """Insert a value after (or before) the pivot element; the new length or -1."""
        where = b"BEFORE" if before else b"AFTER"
        return self._execute(b"LINSERT", key, where, pivot, value)

    def llen(self, key):
        """Get the length of a list."""
        return self._execute(b"LLEN", key)

    def lpop(self, key, *, encoding=_NOTSET):
        """Remove and return the first element of a list (None if empty)."""
        return self._execute(b"LPOP", key, encoding=encoding)

    def lpush(self, key, value, *values):
        """Prepend values to a list; the new length."""
        return self._execute(b"LPUSH", key, value, *values)

    def lpushx(self, key, value):
        """Prepend a value to a list only if the list exists; the new length."""
        return self._execute(b"LPUSHX", key, value)

    def lrange(self, key, start, stop, *, encoding=_NOTSET):
        """Get the elements of a list between two indexes (inclusive)."""
        _check_int("start", start)
        _check_int("stop", stop)
        return self._execute(b"LRANGE", key, start, stop, encoding=encoding)

    def lrem(self, key, count, value):
        """Remove count occurrences of a value from a list; the number removed."""
        _check_int("count", count)
        return self._execute(b"LREM", key, count, value)

    def lset(self, key, index, value):
        """Set the element at an index of a list; the raw OK reply."""
        _check_int("index", index)
        return self._execute(b"LSET", key, index, value)

    def ltrim(self, key, start, stop):
        """Trim a list to the elements between two indexes (inclusive); True."""
        _check_int("start", start)
        _check_int("stop", stop)
        return self._execute(b"LTRIM", key, start, stop, convert=ok)

    def rpop(self, key, *, encoding=_NOTSET):
        """Remove and return the last element of a list (None if empty)."""
        return self._execute(b"RPOP", key, encoding=encoding)

    def rpoplpush(self, sourcekey, destkey, *, encoding=_NOTSET):
        """Move the last element of one list to the head of another; the element or None."""
        return self._execute(b"RPOPLPUSH", sourcekey, destkey, encoding=encoding)

    def rpush(self, key, value, *values):
        """Append values to a list; the new length."""
        return self._execute(b"RPUSH", key, value, *values)

    def rpushx(self, key, value):
        """Append a value to a list only if the list exists; the new length."""
        return self._execute(b"RPUSHX", key, value)
