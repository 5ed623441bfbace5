"""Hash commands."""

from ..util import _NOTSET, encode_command
from ._convert import _QUEUED, ok, pairs, pairs_to_dict, to_bool, to_float
from .generic import _scan_options, _scan_pages

__all__ = ["HashCommandsMixin"]


def _scan_pairs(reply):
    """[cursor, [f1, v1, f2, v2]] -> (int(cursor), [(f1, v1), (f2, v2)])."""
    if reply in _QUEUED:
        return reply
    cursor, items = reply
    return int(cursor), pairs(items)


class HashCommandsMixin:
    """Hash commands; every method sends through ``self._execute``."""

    __slots__ = ()

    def hdel(self, key, field, *fields):
        """Delete one or more hash fields; the number removed."""
        return self._execute(b"HDEL", key, field, *fields)

    def hexists(self, key, field):
        """Whether a hash field exists (bool)."""
        return self._execute(b"HEXISTS", key, field, convert=to_bool)

    def hget(self, key, field, *, encoding=_NOTSET):
        """Get the value of a hash field (None if missing)."""
        return self._execute(b"HGET", key, field, encoding=encoding)

    def hgetall(self, key, *, encoding=_NOTSET):
        """Get all the fields and values of a hash as a dict."""
        return self._execute(b"HGETALL", key, encoding=encoding, convert=pairs_to_dict)

    def hincrby(self, key, field, increment=1):
        """Increment the integer value of a hash field; the new value."""
        return self._execute(b"HINCRBY", key, field, increment)

    def hincrbyfloat(self, key, field, increment=1.0):
        """Increment the float value of a hash field; the new value as float."""
        return self._execute(b"HINCRBYFLOAT", key, field, increment, convert=to_float)

    def hkeys(self, key, *, encoding=_NOTSET):
        """Get all the field names of a hash."""
        return self._execute(b"HKEYS", key, encoding=encoding)

    def hlen(self, key):
        """Get the number of fields in a hash."""
        return self._execute(b"HLEN", key)

    def hmget(self, key, field, *fields, encoding=_NOTSET):
        """Get the values of the given hash fields (None for missing ones)."""
        return self._execute(b"HMGET", key, field, *fields, encoding=encoding)

    def hmset(self, key, field, value, *pairs):
        """Set several hash fields to values (field, value, field, value, ...); True."""
        if len(pairs) % 2:
            raise TypeError("length of pairs must be an even number")
        return self._execute(b"HMSET", key, field, value, *pairs, convert=ok)

    def hmset_dict(self, key, *args, **kwargs):
        """Set hash fields from a dict and/or keyword arguments (keywords win); True."""
        if not args and not kwargs:
            raise TypeError("a dict or keyword arguments must be given")
        if len(args) > 1:
            raise TypeError("only one positional argument (a dict) is allowed")
        items = []
        if args:
            mapping = args[0]
            if not isinstance(mapping, dict):
                raise TypeError(f"args[0] must be a dict, not {type(mapping).__name__}")
            if not mapping and not kwargs:
                raise ValueError("args[0] is an empty dict")
            for name, val in mapping.items():
                items.append(name)
                items.append(val)
        # sent after the dict's pairs, so the server keeps the keyword values
        for name, val in kwargs.items():
            items.append(name)
            items.append(val)
        return self._execute(b"HMSET", key, *items, convert=ok)

    def hset(self, key, field, value):
        """Set the value of a hash field; 1 if the field is new, 0 if updated."""
        return self._execute(b"HSET", key, field, value)

    def hsetnx(self, key, field, value):
        """Set a hash field only if it does not exist; 1 if set, 0 otherwise."""
        return self._execute(b"HSETNX", key, field, value)

    def hvals(self, key, *, encoding=_NOTSET):
        """Get all the values of a hash."""
        return self._execute(b"HVALS", key, encoding=encoding)

    def hscan(self, key, cursor=0, match=None, count=None):
        """Incrementally iterate a hash: (next cursor, [(field, value), ...])."""
        return self._execute(b"HSCAN", key, cursor, *_scan_options(match, count), convert=_scan_pairs)

    def ihscan(self, key, *, match=None, count=None):
        """Async iterator of (field, value) tuples, paging through HSCAN until cursor 0."""
        encode_command(b"HSCAN", key, 0, *_scan_options(match, count))  # TypeError now
        return _scan_pages(lambda cursor: self.hscan(key, cursor, match=match, count=count))

    def hstrlen(self, key, field):
        """Get the length of the value of a hash field (0 if missing)."""
        return self._execute(b"HSTRLEN", key, field)
