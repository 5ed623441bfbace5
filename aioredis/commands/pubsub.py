"""Pub/Sub commands."""

import json

from ._convert import _QUEUED, pairs_to_dict

__all__ = ["PubSubCommandsMixin"]


def _numsub(reply):
    if reply in _QUEUED:
        return reply
    return pairs_to_dict(reply)


class PubSubCommandsMixin:
    """Pub/Sub commands. Subscriptions run on the connection itself (on a
    pool, on the pool's dedicated pub/sub connection)."""

    __slots__ = ()

    def publish(self, channel, message):
        """Post a message to a channel; the number of clients that received it."""
        return self._execute(b"PUBLISH", channel, message)

    def publish_json(self, channel, obj):
        """Post ``json.dumps(obj)`` to a channel."""
        return self.publish(channel, json.dumps(obj))

    def subscribe(self, channel, *channels):
        """Subscribe to channels; an awaitable of the list of Channel objects."""
        fut = self._pool_or_conn.execute_pubsub(b"SUBSCRIBE", channel, *channels)
        return self._channels_of(fut, "pubsub_channels", (channel,) + channels)

    def psubscribe(self, pattern, *patterns):
        """Subscribe to patterns; an awaitable of the list of Channel objects."""
        fut = self._pool_or_conn.execute_pubsub(b"PSUBSCRIBE", pattern, *patterns)
        return self._channels_of(fut, "pubsub_patterns", (pattern,) + patterns)

    async def _channels_of(self, fut, mapping_name, channels):
        await fut
        mapping = getattr(self._pool_or_conn, mapping_name)
        return [mapping[getattr(c, "name", None) or _name(c)] for c in channels]

    def unsubscribe(self, channel, *channels):
        """Unsubscribe from channels; their Channel objects end their stream."""
        return self._pool_or_conn.execute_pubsub(b"UNSUBSCRIBE", channel, *channels)

    def punsubscribe(self, pattern, *patterns):
        """Unsubscribe from patterns."""
        return self._pool_or_conn.execute_pubsub(b"PUNSUBSCRIBE", pattern, *patterns)

    def pubsub_channels(self, pattern=None):
        """Active channels (matching ``pattern``) on the server."""
        if pattern is None:
            return self._execute(b"PUBSUB", b"CHANNELS")
        return self._execute(b"PUBSUB", b"CHANNELS", pattern)

    def pubsub_numsub(self, *channels):
        """Subscriber counts: ``{channel: count}``."""
        return self._execute(b"PUBSUB", b"NUMSUB", *channels, convert=_numsub)

    def pubsub_numpat(self):
        """Number of pattern subscriptions on the server."""
        return self._execute(b"PUBSUB", b"NUMPAT")

    @property
    def channels(self):
        """Read-only mapping of subscribed channels to Channel objects."""
        return self._pool_or_conn.pubsub_channels

    @property
    def patterns(self):
        """Read-only mapping of subscribed patterns to Channel objects."""
        return self._pool_or_conn.pubsub_patterns

    @property
    def in_pubsub(self):
        """Number of subscriptions of the underlying connection."""
        return self._pool_or_conn.in_pubsub


def _name(channel):
    return channel.encode("utf-8") if isinstance(channel, str) else bytes(channel)
