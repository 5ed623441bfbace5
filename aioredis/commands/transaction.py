"""Transaction commands: WATCH / UNWATCH, and the Pipeline / MultiExec objects."""

from ._convert import ok
from .pipeline import MultiExec, Pipeline

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

    def pipeline(self):
        """A :class:`~aioredis.commands.pipeline.Pipeline`: commands buffered, sent by execute()."""
        return Pipeline(self._pool_or_conn, type(self))

    def multi_exec(self):
        """A :class:`~aioredis.commands.pipeline.MultiExec`: a MULTI/EXEC transaction."""
        return MultiExec(self._pool_or_conn, type(self))
