"""asyncio Redis client with a C core.

The 0.1 API with async/await: ``create_connection`` / ``RedisConnection``,
the RESP ``parser`` and the exception hierarchy.
"""

from .connection import RedisConnection, create_connection
from .errors import (
    AuthError,
    ChannelClosedError,
    ConnectionClosedError,
    ConnectionForcedCloseError,
    MaxClientsError,
    MultiExecError,
    PipelineError,
    PoolClosedError,
    ProtocolError,
    ReadOnlyError,
    RedisError,
    ReplyError,
    WatchVariableError,
)

__version__ = "0.1.5"

__all__ = [
    # factories
    "create_connection",
    # classes
    "RedisConnection",
    # errors
    "RedisError",
    "ProtocolError",
    "ReplyError",
    "AuthError",
    "ReadOnlyError",
    "MaxClientsError",
    "PipelineError",
    "MultiExecError",
    "WatchVariableError",
    "ConnectionClosedError",
    "ConnectionForcedCloseError",
    "PoolClosedError",
    "ChannelClosedError",
]
