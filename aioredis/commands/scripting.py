"""Scripting commands."""

from ._convert import ok

__all__ = ["ScriptingCommandsMixin"]


class ScriptingCommandsMixin:
    """Scripting commands; every method sends through ``self._execute``."""

    __slots__ = ()

    def eval(self, script, keys=[], args=[]):
        """Run a Lua script with the given keys and arguments."""
        # the list defaults are never mutated
        # keys + args raises TypeError unless both are lists (or both tuples)
        return self._execute(b"EVAL", script, len(keys), *(keys + args))

    def evalsha(self, digest, keys=[], args=[]):
        """Run a cached Lua script by its SHA1 digest."""
        return self._execute(b"EVALSHA", digest, len(keys), *(keys + args))

    def script_exists(self, digest, *digests):
        """For each SHA1 digest, 1 if the script is cached, else 0."""
        return self._execute(b"SCRIPT", b"EXISTS", digest, *digests)

    def script_kill(self):
        """Kill the Lua script currently running."""
        return self._execute(b"SCRIPT", b"KILL", convert=ok)

    def script_flush(self):
        """Remove every script from the script cache."""
        return self._execute(b"SCRIPT", b"FLUSH", convert=ok)

    def script_load(self, script):
        """Cache a Lua script without running it; its SHA1 digest."""
        return self._execute(b"SCRIPT", b"LOAD", script)
