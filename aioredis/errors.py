"""The exception hierarchy (a leaf module: it imports nothing from the package).

    RedisError
     +- ProtocolError              the stream cannot be parsed; the connection is closed
     +- ReplyError                 an error reply; ReplyError(msg) picks a subclass by prefix
     |   +- MaxClientsError, AuthError, BusyGroupError, ReadOnlyError
     |   +- PipelineError
     |       +- MultiExecError
     |           +- WatchVariableError
     +- ChannelClosedError
     +- ConnectionClosedError      (also an AssertionError, as 0.1.x raised one)
     |   +- ConnectionForcedCloseError
     +- PoolClosedError
     +- MasterNotFoundError, SlaveNotFoundError, MasterReplyError, SlaveReplyError

    InvalidURLError                a connection URL that cannot be used (ValueError, AssertionError)
"""

__all__ = [
    "RedisError",
    "ProtocolError",
    "ReplyError",
    "MaxClientsError",
    "AuthError",
    "BusyGroupError",
    "ReadOnlyError",
    "PipelineError",
    "MultiExecError",
    "WatchVariableError",
    "ChannelClosedError",
    "ConnectionClosedError",
    "ConnectionForcedCloseError",
    "PoolClosedError",
    "MasterNotFoundError",
    "SlaveNotFoundError",
    "MasterReplyError",
    "SlaveReplyError",
    "InvalidURLError",
]


class RedisError(Exception):
    """Base class of every aioredis error."""


class ProtocolError(RedisError):
    """The server sent bytes that are not valid RESP; the connection is closed."""


class ReplyError(RedisError):
    """An error reply from the server; ``args[0]`` is its text.

    ``ReplyError(msg)`` returns an instance of the subclass whose ``MATCH_REPLY``
    prefix ``msg`` starts with, so ``except AuthError`` works on server replies.
    """

    MATCH_REPLY = None

    def __new__(cls, msg, *args):
        if cls is ReplyError and isinstance(msg, str):
            sub = _reply_subclass(msg)
            if sub is not None:
                cls = sub
        return super().__new__(cls, msg, *args)


class MaxClientsError(ReplyError):
    """The server refused the connection: too many clients."""

    MATCH_REPLY = ("ERR max number of clients reached",)


class AuthError(ReplyError):
    """Authentication failed or is required."""

    MATCH_REPLY = (
        "NOAUTH ",
        "WRONGPASS ",
        "ERR invalid password",
        "ERR Client sent AUTH, but no password is set",
        "ERR AUTH <password> called without any password configured",
    )


class BusyGroupError(ReplyError):
    """XGROUP CREATE on a group that exists."""

    MATCH_REPLY = ("BUSYGROUP ",)


class ReadOnlyError(ReplyError):
    """A write was sent to a read-only replica."""

    MATCH_REPLY = ("READONLY ",)


class PipelineError(ReplyError):
    """One or more commands of a pipeline failed; ``args[1]`` lists the errors."""

    def __init__(self, errors):
        super().__init__(f"{type(self).__name__} errors:", errors)

    def __new__(cls, errors, *args):
        return Exception.__new__(cls, errors, *args)


class MultiExecError(PipelineError):
    """A MULTI/EXEC transaction failed."""


class WatchVariableError(MultiExecError):
    """EXEC was aborted because a WATCHed key changed."""


class ChannelClosedError(RedisError):
    """``get()`` on a pub/sub channel that is closed."""


class ConnectionClosedError(RedisError, AssertionError):
    """The connection is closed (by the server, the network or the user)."""


class ConnectionForcedCloseError(ConnectionClosedError):
    """The connection was closed by ``close()`` while the command was pending."""


class PoolClosedError(RedisError):
    """The pool is closed."""


class MasterNotFoundError(RedisError):
    """Sentinel could not find the master."""


class SlaveNotFoundError(RedisError):
    """Sentinel could not find a replica."""


class MasterReplyError(RedisError):
    """Sentinel discovery of the master got an error reply."""


class SlaveReplyError(RedisError):
    """Sentinel discovery of a replica got an error reply."""


class InvalidURLError(ValueError, AssertionError):
    """A connection URL that cannot be used.

    A ValueError, and an AssertionError as aioredis 1.3.1 asserted; ``args``
    are 1.3.1's (one tuple: the reason, then the values at fault), with a
    password shown as ``***``. ``url`` is the URL, password hidden, when
    known.
    """

    def __init__(self, reason, *, url=None):
        super().__init__(reason)
        self.url = url

    def __str__(self):
        reason = self.args[0] if self.args else ""
        if isinstance(reason, tuple) and reason:
            text = str(reason[0])
            if len(reason) > 1:
                text += ": " + ", ".join(repr(value) for value in reason[1:])
        else:
            text = str(reason)
        if not self.url or (isinstance(reason, tuple) and self.url in reason):
            return text
        return f"{text} (in {self.url!r})"


_MATCHED = (MaxClientsError, AuthError, BusyGroupError, ReadOnlyError)


def _reply_subclass(msg):
    for cls in _MATCHED:
        if msg.startswith(cls.MATCH_REPLY):
            return cls
    return None
