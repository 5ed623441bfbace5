"""Set commands."""

from ..util import _NOTSET, encode_command
from .generic import _scan_options, _scan_pages, _scan_reply

__all__ = ["SetCommandsMixin"]


class SetCommandsMixin:
    """Set commands; every method sends through ``self._execute``."""

    __slots__ = ()

    def sadd(self, key, member, *members):
        """Add members to a set; the number of members added."""
        return self._execute(b"SADD", key, member, *members)

    def scard(self, key):
        """Get the number of members of a set."""
        return self._execute(b"SCARD", key)

    def sdiff(self, key, *keys):
        """The members of the first set that are in none of the others."""
        return self._execute(b"SDIFF", key, *keys)

    def sdiffstore(self, destkey, key, *keys):
        """Store the difference of sets in destkey; its size."""
        return self._execute(b"SDIFFSTORE", destkey, key, *keys)

    def sinter(self, key, *keys):
        """The members common to all the given sets."""
        return self._execute(b"SINTER", key, *keys)

    def sinterstore(self, destkey, key, *keys):
        """Store the intersection of sets in destkey; its size."""
        return self._execute(b"SINTERSTORE", destkey, key, *keys)

    def sismember(self, key, member):
        """Whether a value is a member of a set: int 1 or 0."""
        return self._execute(b"SISMEMBER", key, member)

    def smembers(self, key, *, encoding=_NOTSET):
        """Get all the members of a set."""
        return self._execute(b"SMEMBERS", key, encoding=encoding)

    def smove(self, sourcekey, destkey, member):
        """Move a member from one set to another: int 1 if moved, 0 if not a member."""
        return self._execute(b"SMOVE", sourcekey, destkey, member)

    def spop(self, key, count=None, *, encoding=_NOTSET):
        """Remove and return a random member (None if empty), or a list of count members."""
        if count is None:
            return self._execute(b"SPOP", key, encoding=encoding)
        return self._execute(b"SPOP", key, count, encoding=encoding)

    def srandmember(self, key, count=None, *, encoding=_NOTSET):
        """A random member (None if empty), or a list of count members (<0: may repeat)."""
        if count is None:
            return self._execute(b"SRANDMEMBER", key, encoding=encoding)
        return self._execute(b"SRANDMEMBER", key, count, encoding=encoding)

    def srem(self, key, member, *members):
        """Remove members from a set; the number removed."""
        return self._execute(b"SREM", key, member, *members)

    def sunion(self, key, *keys):
        """The members of all the given sets."""
        return self._execute(b"SUNION", key, *keys)

    def sunionstore(self, destkey, key, *keys):
        """Store the union of sets in destkey; its size."""
        return self._execute(b"SUNIONSTORE", destkey, key, *keys)

    def sscan(self, key, cursor=0, match=None, count=None):
        """Incrementally iterate a set: (next cursor, [member, ...])."""
        return self._execute(b"SSCAN", key, cursor, *_scan_options(match, count), convert=_scan_reply)

    def isscan(self, key, *, match=None, count=None):
        """Async iterator over a set's members, paging through SSCAN until cursor 0."""
        encode_command(b"SSCAN", key, 0, *_scan_options(match, count))  # TypeError now
        return _scan_pages(lambda cursor: self.sscan(key, cursor, match=match, count=count))
