"""Transaction commands (WATCH / UNWATCH; MULTI/EXEC objects come later)."""

from ._convert import ok

__all__ = ["TransactionsCommandsMixin"]


class TransactionsCommandsMixin:
    """Transaction commands; every method sends through ``self._execute``."""

    __slots__ = ()

    def watch(self, key, *keys):
        """Watch keys: a later EXEC on this connection aborts if any of them changes."""
        return self._execute(b"WATCH", key, *keys, convert=ok)

    def unwatch(self):
        """Forget every watched key of this connection."""
        return self._execute(b"UNWATCH", convert=ok)
