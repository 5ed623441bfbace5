"""asyncio Redis client with a C core.

The 0.1 API with async/await: ``create_connection`` / ``RedisConnection``,
``create_pool`` / ``RedisPool``, ``create_redis`` / ``Redis``, the RESP
``parser`` and the exception hierarchy.
"""

from .commands import (
    GeoMember,
    GeoPoint,
    Redis,
    create_reconnecting_redis,
    create_redis,
    create_redis_pool,
)
from .connection import RedisConnection, create_connection
from .pool import RedisPool, create_pool
from .settings import ConnectionSettings
from .errors import (
    AuthError,
    ChannelClosedError,
    ConnectionClosedError,
    ConnectionForcedCloseError,
    InvalidURLError,
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
    "create_pool",
    "create_redis",
    "create_redis_pool",
    "create_reconnecting_redis",
    # classes
    "RedisConnection",
    "RedisPool",
    "Redis",
    "GeoPoint",
    "GeoMember",
    "ConnectionSettings",
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
    "InvalidURLError",
]
