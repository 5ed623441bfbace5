"""Streams commands.

Messages come back as ``(message_id, OrderedDict(fields))`` tuples; XREAD and
XREADGROUP give ``(stream, message_id, OrderedDict(fields))`` tuples, one per
message, in the server's order.
"""

from collections import OrderedDict
from collections.abc import Mapping

from ..util import _NOTSET
from ._convert import _QUEUED, ok, pairs_to_dict, to_bool

__all__ = ["StreamsCommandsMixin"]


# ---------------------------------------------------------------------------
# reply converters (run by the C protocol when the reply arrives)
# ---------------------------------------------------------------------------


def _fields(flat):
    """[f1, v1, f2, v2] -> OrderedDict([(f1, v1), (f2, v2)])."""
    it = iter(flat)
    return OrderedDict(zip(it, it))


def _message(item):
    """[id, [f, v, ...]] -> (id, OrderedDict); a nil entry -> (None, {});
    an entry whose fields are nil (deleted while pending) -> (id, None)."""
    if item is None:
        return None, OrderedDict()
    message_id, fields = item
    if fields is None:
        return message_id, None
    return message_id, _fields(fields)


def _messages(reply):
    """XRANGE / XREVRANGE / XCLAIM reply -> [(id, OrderedDict(fields)), ...]."""
    if reply is None:
        return []
    if reply in _QUEUED:
        return reply
    return [_message(item) for item in reply]


def _messages_by_stream(reply):
    """XREAD / XREADGROUP reply -> [(stream, id, OrderedDict(fields)), ...];
    a nil reply (BLOCK timed out) -> []."""
    if reply is None:
        return []
    if reply in _QUEUED:
        return reply
    result = []
    for stream, items in reply:
        for item in items:
            message_id, fields = _message(item)
            result.append((stream, message_id, fields))
    return result


def _dicts(reply):
    """[[k1, v1, ...], ...] -> [{k1: v1, ...}, ...]."""
    if reply in _QUEUED:
        return reply
    return [pairs_to_dict(item) for item in reply]


def _lines(reply):
    """A list of lines -> one text joined by newlines (bytes or str, as the lines)."""
    if reply in _QUEUED:
        return reply
    if reply and isinstance(reply[0], str):
        return "\n".join(reply)
    return b"\n".join(reply)


# ---------------------------------------------------------------------------
# argument helpers (all raise before anything is sent)
# ---------------------------------------------------------------------------


def _maxlen(max_len, exact_len):
    if exact_len:
        return (b"MAXLEN", max_len)
    return (b"MAXLEN", b"~", max_len)


def _read_args(streams, timeout, count, latest_ids, no_ack, default_id):
    """[COUNT c] [BLOCK ms] [NOACK] STREAMS s... ids... for XREAD/XREADGROUP."""
    if not isinstance(streams, (list, tuple)):
        raise TypeError(f"streams argument must be a list or tuple, not {type(streams).__name__}")
    if not streams:
        raise ValueError("streams argument must not be empty")
    if latest_ids is None:
        latest_ids = [default_id] * len(streams)
    elif not isinstance(latest_ids, (list, tuple)):
        raise TypeError(f"latest_ids argument must be a list or tuple, not {type(latest_ids).__name__}")
    if len(streams) != len(latest_ids):
        raise ValueError("The streams and latest_ids parameters must be of the same length")
    args = []
    if count:
        args += (b"COUNT", count)
    if timeout is not None:
        if not isinstance(timeout, int):
            raise TypeError(f"timeout argument must be int, not {type(timeout).__name__}")
        args += (b"BLOCK", timeout)
    if no_ack:
        args.append(b"NOACK")
    args.append(b"STREAMS")
    args.extend(streams)
    args.extend(latest_ids)
    return args


class StreamsCommandsMixin:
    """Streams commands; every method sends through ``self._execute``."""

    __slots__ = ()

    def xadd(self, stream, fields, message_id=b"*", max_len=None, exact_len=False):
        """Add a message (a dict of fields) to a stream; returns its id."""
        if not isinstance(fields, Mapping):
            raise TypeError(f"fields argument must be a dict, not {type(fields).__name__}")
        if not fields:
            raise ValueError("fields argument must not be empty")
        args = []
        if max_len is not None:
            args += _maxlen(max_len, exact_len)
        args.append(message_id)
        for field, value in fields.items():
            args += (field, value)
        return self._execute(b"XADD", stream, *args)

    def xrange(self, stream, start="-", stop="+", count=None, *, encoding=_NOTSET):
        """Get the messages of a stream between two ids, oldest first."""
        extra = () if count is None else (b"COUNT", count)
        return self._execute(b"XRANGE", stream, start, stop, *extra, encoding=encoding, convert=_messages)

    def xrevrange(self, stream, start="+", stop="-", count=None, *, encoding=_NOTSET):
        """Get the messages of a stream between two ids, newest first."""
        extra = () if count is None else (b"COUNT", count)
        return self._execute(b"XREVRANGE", stream, start, stop, *extra, encoding=encoding, convert=_messages)

    def xread(self, streams, timeout=0, count=None, latest_ids=None, *, encoding=_NOTSET):
        """Read messages newer than the given ids from streams, blocking up to timeout ms."""
        args = _read_args(streams, timeout, count, latest_ids, False, "$")
        return self._execute(b"XREAD", *args, encoding=encoding, convert=_messages_by_stream)

    def xread_group(
        self,
        group_name,
        consumer_name,
        streams,
        timeout=0,
        count=None,
        latest_ids=None,
        no_ack=False,
        *,
        encoding=_NOTSET,
    ):
        """Read messages from streams as a consumer of a consumer group."""
        args = _read_args(streams, timeout, count, latest_ids, no_ack, ">")
        return self._execute(
            b"XREADGROUP", b"GROUP", group_name, consumer_name, *args, encoding=encoding, convert=_messages_by_stream
        )

    def xgroup_create(self, stream, group_name, latest_id="$", mkstream=False):
        """Create a consumer group (and the stream, with mkstream); True on success."""
        extra = (b"MKSTREAM",) if mkstream else ()
        return self._execute(b"XGROUP", b"CREATE", stream, group_name, latest_id, *extra, convert=ok)

    def xgroup_setid(self, stream, group_name, latest_id="$"):
        """Set the last delivered id of a consumer group; True on success."""
        return self._execute(b"XGROUP", b"SETID", stream, group_name, latest_id, convert=ok)

    def xgroup_destroy(self, stream, group_name):
        """Delete a consumer group; True if it existed."""
        return self._execute(b"XGROUP", b"DESTROY", stream, group_name, convert=to_bool)

    def xgroup_delconsumer(self, stream, group_name, consumer_name):
        """Delete a consumer from a group; returns how many messages it had pending."""
        return self._execute(b"XGROUP", b"DELCONSUMER", stream, group_name, consumer_name)

    def xpending(self, stream, group_name, start=None, stop=None, count=None, consumer=None, *, encoding=_NOTSET):
        """Get the pending messages of a consumer group (summary, or details with start/stop/count)."""
        given = sum(x is not None for x in (start, stop, count))
        if given not in (0, 3):
            raise ValueError("Either specify none or all of the start/stop/count arguments")
        args = [stream, group_name]
        if given:
            args += (start, stop, count)
            if consumer is not None:
                args.append(consumer)
        elif consumer is not None:
            raise ValueError("consumer needs the start/stop/count arguments")
        return self._execute(b"XPENDING", *args, encoding=encoding)

    def xclaim(self, stream, group_name, consumer_name, min_idle_time, id, *ids, encoding=_NOTSET):
        """Change the owner of pending messages idle for at least min_idle_time ms."""
        return self._execute(
            b"XCLAIM", stream, group_name, consumer_name, min_idle_time, id, *ids, encoding=encoding, convert=_messages
        )

    def xack(self, stream, group_name, id, *ids):
        """Acknowledge messages of a consumer group; returns how many were pending."""
        return self._execute(b"XACK", stream, group_name, id, *ids)

    def xdel(self, stream, id):
        """Delete a message from a stream; returns the number deleted."""
        return self._execute(b"XDEL", stream, id)

    def xtrim(self, stream, max_len, exact_len=False):
        """Trim a stream to about (or, with exact_len, exactly) max_len messages."""
        return self._execute(b"XTRIM", stream, *_maxlen(max_len, exact_len))

    def xlen(self, stream):
        """Get the number of messages in a stream."""
        return self._execute(b"XLEN", stream)

    def xinfo(self, stream, *, encoding=_NOTSET):
        """Get information about a stream as a dict (same as xinfo_stream)."""
        return self.xinfo_stream(stream, encoding=encoding)

    def xinfo_stream(self, stream, *, encoding=_NOTSET):
        """Get information about a stream as a dict."""
        return self._execute(b"XINFO", b"STREAM", stream, encoding=encoding, convert=pairs_to_dict)

    def xinfo_groups(self, stream, *, encoding=_NOTSET):
        """Get the consumer groups of a stream as a list of dicts."""
        return self._execute(b"XINFO", b"GROUPS", stream, encoding=encoding, convert=_dicts)

    def xinfo_consumers(self, stream, group_name, *, encoding=_NOTSET):
        """Get the consumers of a consumer group as a list of dicts."""
        return self._execute(b"XINFO", b"CONSUMERS", stream, group_name, encoding=encoding, convert=_dicts)

    def xinfo_help(self, *, encoding=_NOTSET):
        """Get the help text of XINFO, its lines joined by newlines."""
        return self._execute(b"XINFO", b"HELP", encoding=encoding, convert=_lines)
