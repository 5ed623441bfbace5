"""Small helpers shared by the Python layer."""

import asyncio

from . import _core
from .settings import _parse_url

__all__ = ["_NOTSET", "encode_command", "check_loop", "parse_url"]

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


def parse_url(url):
    """aioredis 1.3.1's ``parse_url``: ``(address, options)`` of a URL.

    ``address`` is ``(host, port)``, or a path for ``unix://`` and for a str
    without a scheme (returned as it is); ``options`` has the keys 1.3.1
    gave (``db``, ``password``, ``encoding``, ``ssl``, ``timeout``) for what
    the URL sets, plus redis-py's options under their keyword names
    (``command_timeout`` for ``socket_timeout``, ...). The user name is
    dropped, as 1.3.1 did: :meth:`ConnectionSettings.from_url
    <aioredis.settings.ConnectionSettings.from_url>` keeps it. Invalid URLs
    raise :class:`~aioredis.errors.InvalidURLError` (an AssertionError, as
    1.3.1's).
    """
    address, options = _parse_url(url)
    options.pop("username", None)
    return address, options
