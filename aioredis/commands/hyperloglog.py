"""HyperLogLog commands."""

from ._convert import ok

__all__ = ["HyperLogLogCommandsMixin"]


class HyperLogLogCommandsMixin:
    """HyperLogLog commands; every method sends through ``self._execute``."""

    __slots__ = ()

    def pfadd(self, key, value, *values):
        """Add elements to a HyperLogLog; 1 if its estimate changed, else 0."""
        return self._execute(b"PFADD", key, value, *values)

    def pfcount(self, key, *keys):
        """Approximate cardinality of the union of the given HyperLogLogs."""
        return self._execute(b"PFCOUNT", key, *keys)

    def pfmerge(self, destkey, sourcekey, *sourcekeys):
        """Merge HyperLogLogs into destkey; True on OK."""
        return self._execute(b"PFMERGE", destkey, sourcekey, *sourcekeys, convert=ok)
