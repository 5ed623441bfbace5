"""Small helpers shared by the Python layer."""

import asyncio

from . import _core

__all__ = ["_NOTSET", "encode_command", "check_loop"]

#: ``execute(..., encoding=_NOTSET)`` means "the connection's own encoding".
_NOTSET = _core.NOTSET

#: Encode a command as RESP bytes (the C encoder); kept under its 0.1 name.
encode_command = _core.pack_command


def check_loop(loop):
    """Return the running loop; ``loop``, if given, must be that loop.

    ``loop=`` is accepted for compatibility with aioredis 0.1 and is never
    passed on to asyncio.
    """
    running = asyncio.get_running_loop()
    if loop is not None and loop is not running:
        raise ValueError("loop argument must be the running event loop (or None)")
    return running
