"""Reply converters, run by the C protocol where the reply is delivered.

Each takes the raw (possibly decoded) reply and returns the method's result;
passing one as ``execute(..., convert=fn)`` costs no extra coroutine.
"""

from .. import _core


class _StatusReply:
    """``reply in _OK``: the status as bytes or as str, compared by type so
    that bytes are never compared with str (python -b warns about that)."""

    __slots__ = ("_bytes", "_str")

    def __init__(self, text):
        self._str = text
        self._bytes = text.encode("ascii")

    def __contains__(self, reply):
        kind = type(reply)
        return (kind is bytes and reply == self._bytes) or (kind is str and reply == self._str)


_OK = _StatusReply("OK")
_QUEUED = _StatusReply("QUEUED")


# True for an OK status (bytes or str), False otherwise; QUEUED passes
# through. In C: it runs for every SET.
ok = _core.ok


def to_bool(reply):
    """bool of an integer reply; QUEUED passes through."""
    if reply in _QUEUED:
        return reply
    return bool(reply)


def to_float(reply):
    """float of a numeric reply, None stays None; QUEUED passes through."""
    if reply is None or reply in _QUEUED:
        return reply
    return float(reply)


def _num(text):
    """int when the text is an integer, float otherwise."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def to_num(reply):
    """int when the text is an integer, float otherwise; None stays None."""
    if reply is None or reply in _QUEUED:
        return reply
    return _num(reply)


def pairs(reply):
    """[a, b, c, d] -> [(a, b), (c, d)]."""
    if reply in _QUEUED:
        return reply
    it = iter(reply)
    return list(zip(it, it))


# [k1, v1, k2, v2] -> {k1: v1, k2: v2}; QUEUED (anything but a list or
# tuple) passes through. In C, and known to the protocol: a reply awaited
# with convert=pairs_to_dict is built as the dict while it arrives.
pairs_to_dict = _core.pairs_to_dict
