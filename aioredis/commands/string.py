"""String commands."""

from ..util import _NOTSET
from ._convert import ok, to_bool, to_float

__all__ = ["StringCommandsMixin"]


def _check_int(value, name):
    if not isinstance(value, int):
        raise TypeError(f"{name} argument must be int, not {type(value).__name__}")


def _check_offset(offset):
    _check_int(offset, "offset")
    if offset < 0:
        raise ValueError(f"offset argument must be not less than 0, got {offset}")


class StringCommandsMixin:
    """String commands; every method sends through ``self._execute``."""

    __slots__ = ()

    def append(self, key, value):
        """Append a value to a key; the new length."""
        return self._execute(b"APPEND", key, value)

    def bitcount(self, key, start=None, end=None):
        """Count the set bits of a string (optionally in a byte range)."""
        if (start is None) != (end is None):
            raise TypeError("both start and end must be given, or neither")
        if start is None:
            return self._execute(b"BITCOUNT", key)
        return self._execute(b"BITCOUNT", key, start, end)

    def bitfield(self):
        """BITFIELD is not implemented."""
        raise NotImplementedError()

    def bitop_and(self, dest, key, *keys):
        """BITOP AND into dest; the length of the result."""
        return self._execute(b"BITOP", b"AND", dest, key, *keys)

    def bitop_or(self, dest, key, *keys):
        """BITOP OR into dest; the length of the result."""
        return self._execute(b"BITOP", b"OR", dest, key, *keys)

    def bitop_xor(self, dest, key, *keys):
        """BITOP XOR into dest; the length of the result."""
        return self._execute(b"BITOP", b"XOR", dest, key, *keys)

    def bitop_not(self, dest, key):
        """BITOP NOT into dest; the length of the result."""
        return self._execute(b"BITOP", b"NOT", dest, key)

    def bitpos(self, key, bit, start=None, end=None):
        """Position of the first bit set to 0 or 1 (optionally in a byte range)."""
        if bit not in (0, 1):
            raise ValueError(f"bit argument must be 0 or 1, got {bit!r}")
        if start is None:
            byte_range = () if end is None else (0, end)
        else:
            byte_range = (start,) if end is None else (start, end)
        return self._execute(b"BITPOS", key, bit, *byte_range)

    def decr(self, key):
        """Decrement the integer value of a key by one; the new value."""
        return self._execute(b"DECR", key)

    def decrby(self, key, decrement):
        """Decrement the integer value of a key; the new value."""
        _check_int(decrement, "decrement")
        return self._execute(b"DECRBY", key, decrement)

    def get(self, key, *, encoding=_NOTSET):
        """Get the value of a key, or None if missing."""
        return self._execute(b"GET", key, encoding=encoding)

    def getbit(self, key, offset):
        """The bit value at an offset of a string."""
        _check_offset(offset)
        return self._execute(b"GETBIT", key, offset)

    def getrange(self, key, start, end, *, encoding=_NOTSET):
        """A substring of the value of a key (end inclusive)."""
        _check_int(start, "start")
        _check_int(end, "end")
        return self._execute(b"GETRANGE", key, start, end, encoding=encoding)

    def getset(self, key, value, *, encoding=_NOTSET):
        """Set a key and return its old value (None if there was none)."""
        return self._execute(b"GETSET", key, value, encoding=encoding)

    def incr(self, key):
        """Increment the integer value of a key by one; the new value."""
        return self._execute(b"INCR", key)

    def incrby(self, key, increment):
        """Increment the integer value of a key; the new value."""
        _check_int(increment, "increment")
        return self._execute(b"INCRBY", key, increment)

    def incrbyfloat(self, key, increment):
        """Increment the float value of a key; the new value as float."""
        if not isinstance(increment, float):
            raise TypeError(f"increment argument must be float, not {type(increment).__name__}")
        return self._execute(b"INCRBYFLOAT", key, increment, convert=to_float)

    def mget(self, key, *keys, encoding=_NOTSET):
        """Values of all the given keys (None for each missing one)."""
        return self._execute(b"MGET", key, *keys, encoding=encoding)

    def mset(self, *args):
        """Set several keys: ``mset(k1, v1, k2, v2, ...)`` or ``mset({k1: v1, ...})``; True on OK."""
        if len(args) == 1:
            mapping = args[0]
            if not isinstance(mapping, dict):
                raise TypeError(f"a dict or key/value pairs expected, not {type(mapping).__name__}")
            args = [item for pair in mapping.items() for item in pair]
        elif not args or len(args) % 2:
            raise TypeError("mset needs an even, non-zero number of arguments (key/value pairs)")
        return self._execute(b"MSET", *args, convert=ok)

    def msetnx(self, key, value, *pairs):
        """Set several keys only if none exists; 1 if set, 0 otherwise."""
        if len(pairs) % 2:
            raise TypeError("length of pairs must be an even number")
        return self._execute(b"MSETNX", key, value, *pairs)

    def psetex(self, key, milliseconds, value):
        """Set a key with a time to live in milliseconds; True on OK."""
        _check_int(milliseconds, "milliseconds")
        return self._execute(b"PSETEX", key, milliseconds, value, convert=ok)

    def set(self, key, value, *, expire=0, pexpire=0, exist=None):
        """Set a key (EX/PX expiry, XX/NX condition); True if set, False if the condition failed."""
        if not (expire or pexpire or exist):  # the common case, kept short
            return self._execute(b"SET", key, value, convert=ok)
        if expire and not isinstance(expire, int):
            raise TypeError(f"expire argument must be int, not {type(expire).__name__}")
        if pexpire and not isinstance(pexpire, int):
            raise TypeError(f"pexpire argument must be int, not {type(pexpire).__name__}")
        args = []
        if pexpire:
            args += [b"PX", pexpire]
        elif expire:
            args += [b"EX", expire]
        if exist is self.SET_IF_EXIST:
            args.append(b"XX")
        elif exist is self.SET_IF_NOT_EXIST:
            args.append(b"NX")
        return self._execute(b"SET", key, value, *args, convert=ok)

    def setbit(self, key, offset, value):
        """Set or clear the bit at an offset; the old bit."""
        _check_offset(offset)
        if value not in (0, 1):
            raise ValueError(f"value argument must be 0 or 1, got {value!r}")
        return self._execute(b"SETBIT", key, offset, value)

    def setex(self, key, seconds, value):
        """Set a key with a time to live in seconds (a float uses PSETEX); True on OK."""
        if isinstance(seconds, float):
            return self.psetex(key, int(seconds * 1000), value)
        _check_int(seconds, "seconds")
        return self._execute(b"SETEX", key, seconds, value, convert=ok)

    def setnx(self, key, value):
        """Set a key only if it does not exist; True if set."""
        return self._execute(b"SETNX", key, value, convert=to_bool)

    def setrange(self, key, offset, value):
        """Overwrite part of a string at an offset; the new length."""
        _check_offset(offset)
        return self._execute(b"SETRANGE", key, offset, value)

    def strlen(self, key):
        """Length of the value of a key."""
        return self._execute(b"STRLEN", key)
