"""A pure-Python incremental RESP2/RESP3 reader: the reference implementation.

``PyReader`` has the interface of ``hiredis.Reader`` and the exact semantics of
the C reader ``aioredis._core.Reader``; the differential tests run both on the
same input and require the same results.  Clarity comes first, speed second,
but nothing is quadratic.

Like the C reader, ``gets()`` works in two passes over the buffer.  The scan
validates the bytes and finds where the reply ends, building nothing; it is
resumable: the aggregates still open live on an explicit stack that survives
between ``gets()`` calls, an element is read only once all its bytes have
arrived, and the search for the end of a long simple-string line resumes
where it stopped.  Only when the whole reply is buffered does the build pass
turn it into Python objects (with the encoding set at that moment).  Neither
pass recurses.

Reply types (``b`` = bytes, or str when an encoding is set)::

    +simple          b               -error        replyError(text) (returned)
    :integer         int (int64)     $len bulk     b, or None for $-1
    *n array         list            _  null       None
    ,double          float           #t / #f       True / False
    !len blob error  replyError      =len verbatim b of the payload after "txt:"
    (bignum          int             %n map        dict (last value of a key wins)
    ~n set           list            >n push       list
    |n attribute     a map that is parsed and discarded; the next element is returned

Error text is always decoded as UTF-8 with ``errors="replace"``.

Validation:

* A length or count is ``[0-9]+`` or exactly ``-1`` (null: None; for an
  attribute ``|-1`` is a protocol error).  Bulk, blob error and verbatim
  lengths are at most 512 MiB, aggregate counts at most 2**32 - 1; a verbatim
  length below 4 is an error.  A length is checked as soon as its line is
  complete, before any payload arrives.
* An integer or bignum is ``-?[0-9]+``; an integer must fit in int64.
* A double is ``inf``, ``-inf`` or ``nan``, or is made only of the characters
  ``0123456789+-.eE`` and parses completely with ``float()``.
* A bulk payload must be followed by ``\\r\\n`` (checked once payload and CRLF
  have all arrived).
* ``_`` must have an empty line, ``#`` exactly ``t`` or ``f``.
* At most 1024 nested aggregates: a top-level aggregate has depth 1, an
  aggregate (of any count but -1) at depth 1025 is an error.
* The line of every type but ``+`` and ``-`` holds at most 64 bytes between
  the type byte and its ``\\r\\n``; longer is an error as soon as the buffered
  bytes prove it (when no ``\\r\\n`` can start within the first 65 bytes after
  the type byte), without waiting for more data.
* Any other type byte is an error naming the byte.
* Lines end at the first ``\\r\\n``; a lone ``\\r`` or ``\\n`` is data.

Apart from the line-length rule, an error is reported when the line (or bulk
payload plus CRLF) holding it is complete.  A protocol error is sticky: that
``gets()`` and every later one raise ``protocolError(message)``.

Two errors are not protocol errors and are not sticky: a decoding failure
(``UnicodeDecodeError``) and an unhashable map key (``TypeError``).  The reply
is built to its end and consumed, then the first such error (in stream order;
a map item is inserted when its value is complete) is raised from ``gets()``;
the next ``gets()`` continues with the next reply.  The same goes for an
exception raised by the ``replyError`` class.  Attributes are validated but
never built (nothing in them is decoded, hashed or passed to ``replyError``),
so these errors cannot come from an attribute.

``set_encoding()`` checks the codec at once (LookupError); an unknown
``errors`` handler only fails when a decoding error calls it.  The encoding
that applies to a reply is the one set when the ``gets()`` that returns it is
called, even if an earlier ``gets()`` saw part of it.

``len()`` counts the buffered bytes that do not belong to a reply already
returned (the bytes of a partly parsed reply count as not consumed).
"""

import codecs
import operator
import re

from .errors import ProtocolError, ReplyError

__all__ = ["PyReader"]

MAX_BULK_LENGTH = 512 * 1024 * 1024
MAX_AGGREGATE_COUNT = 2**32 - 1
MAX_NESTING_DEPTH = 1024
MAX_LINE_LENGTH = 64  # bytes between the type byte and the CRLF of a header line
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_INTEGER = re.compile(rb"-?[0-9]+")
_LENGTH = re.compile(rb"[0-9]+")
_DOUBLE_CHARS = frozenset(b"0123456789+-.eE")
_DOUBLE_SPECIAL = frozenset((b"inf", b"-inf", b"nan"))

_CRLF = b"\r\n"

# Type bytes, as ints (indexing a bytearray gives ints).
_SIMPLE = ord("+")
_ERROR = ord("-")
_INT = ord(":")
_BULK = ord("$")
_ARRAY = ord("*")
_NULL = ord("_")
_DOUBLE = ord(",")
_BOOL = ord("#")
_BLOB_ERROR = ord("!")
_VERBATIM = ord("=")
_BIGNUM = ord("(")
_MAP = ord("%")
_SET = ord("~")
_PUSH = ord(">")
_ATTRIBUTE = ord("|")

_BLOB_TYPES = frozenset((_BULK, _BLOB_ERROR, _VERBATIM))
_AGGREGATE_TYPES = frozenset((_ARRAY, _MAP, _SET, _PUSH, _ATTRIBUTE))
_HEADER_TYPES = frozenset((_INT, _DOUBLE, _BIGNUM, _BOOL, _NULL)) | _BLOB_TYPES | _AGGREGATE_TYPES


class _Broken(Exception):
    """Internal: the stream is not valid RESP (turned into the protocolError)."""


class _Aggregate:
    """An open aggregate: how many items it still needs, and its container.

    The container is None (items are only counted) while scanning, and for an
    attribute and everything inside one, which are never built.
    """

    __slots__ = ("is_attribute", "is_map", "container", "remaining", "key", "has_key")

    def __init__(self, type_byte, count, discard):
        self.is_attribute = type_byte == _ATTRIBUTE
        self.is_map = type_byte in (_MAP, _ATTRIBUTE)
        if discard:
            self.container = None
        else:
            self.container = {} if self.is_map else []
        # A map of n pairs needs 2n items: key, value, key, value, ...
        self.remaining = 2 * count if self.is_map else count
        self.key = None
        self.has_key = False

    def add(self, item):
        """Add one item; return the exception of a failed insert (TypeError: unhashable key), else None."""
        self.remaining -= 1
        if self.container is None:
            return None
        if not self.is_map:
            self.container.append(item)
            return None
        if not self.has_key:
            self.key = item
            self.has_key = True
            return None
        key = self.key
        self.key = None
        self.has_key = False
        try:
            self.container[key] = item  # a repeated key keeps its last value
        except Exception as exc:
            return exc
        return None


# Returned by the element reader when the element is not complete yet.
_INCOMPLETE = object()


class PyReader:
    """Incremental RESP2/RESP3 reader with the interface of ``hiredis.Reader``."""

    def __init__(self, protocolError=None, replyError=None, encoding=None, errors=None, notEnoughData=False):
        self._protocol_error = ProtocolError if protocolError is None else protocolError
        self._reply_error = ReplyError if replyError is None else replyError
        self._not_enough_data = notEnoughData
        self._encoding = None
        self._errors = "strict"
        self.set_encoding(encoding, errors)

        self._buf = bytearray()
        self._reply_start = 0  # where the next reply starts in _buf
        self._pos = 0  # where the next element starts in _buf
        self._line_from = 0  # no CRLF starts in _buf[_pos + 1:_line_from] (the scan of + and - lines)
        self._stack = []  # open aggregates of the reply being scanned, outermost first
        self._deferred = None  # first UnicodeDecodeError/TypeError/... while building
        self._broken = None  # the message of a protocol error (sticky)
        self._building = False  # Python code (codec, replyError) may run meanwhile

    # -- public interface ----------------------------------------------------

    def feed(self, data, offset=0, length=-1):
        """Append ``data[offset:offset + length]`` (length -1: to the end) to the buffer."""
        self._check_not_building()
        offset = operator.index(offset)
        length = operator.index(length)
        with memoryview(data) as view, view.cast("B") as raw:
            size = raw.nbytes
            if offset < 0 or offset > size:
                raise ValueError("offset out of range")
            if length == -1:
                length = size - offset
            if length < 0 or offset + length > size:
                raise ValueError("length out of range")
            self._compact()
            self._buf += raw[offset : offset + length]

    def gets(self):
        """Return the next complete reply, or ``notEnoughData`` if it has not all arrived."""
        self._check_not_building()
        if self._broken is not None:
            raise self._protocol_error(self._broken)
        try:
            complete = self._parse(build=False)
        except _Broken as exc:
            self._broken = str(exc)
            self._stack.clear()
            raise self._protocol_error(self._broken) from None
        if not complete:
            return self._not_enough_data
        end = self._pos
        self._pos = self._reply_start
        self._line_from = 0
        self._building = True
        try:
            reply = self._parse(build=True)  # cannot fail: the scan validated every byte
        finally:
            self._building = False
        assert self._pos == end
        # The reply is consumed, even if it is reported as an error below.
        self._reply_start = end
        if end == len(self._buf):
            self._buf.clear()
            self._reply_start = self._pos = 0
        deferred, self._deferred = self._deferred, None
        if deferred is not None:
            try:
                raise deferred
            finally:
                deferred = None  # no reference cycle through the traceback
        return reply

    def set_encoding(self, encoding=None, errors=None):
        """Decode strings with ``encoding`` (None: return bytes) and ``errors`` (None: strict)."""
        if encoding is not None:
            codecs.lookup(encoding)  # LookupError for an unknown encoding
        self._encoding = encoding
        self._errors = "strict" if errors is None else errors

    def len(self):
        """The number of buffered bytes not yet consumed by a returned reply."""
        return len(self._buf) - self._reply_start

    def has_data(self):
        """Whether any buffered bytes are not yet consumed by a returned reply."""
        return self.len() > 0

    def _check_not_building(self):
        if self._building:
            raise RuntimeError("Reader used while it builds a reply")

    # -- buffer management ---------------------------------------------------

    def _compact(self):
        """Drop consumed bytes when that is cheap relative to what is kept (amortised O(1))."""
        start = self._reply_start
        if start and (start >= 65536 or start == len(self._buf)) and 2 * start >= len(self._buf):
            del self._buf[:start]
            self._pos -= start
            self._line_from = max(0, self._line_from - start)
            self._reply_start = 0

    # -- parsing -------------------------------------------------------------

    def _parse(self, build):
        """Read elements from _pos until a whole reply is done.

        Scan (``build`` false): resume with the open aggregates of self._stack;
        return True when the reply is complete (_pos is then its end), False
        when more bytes are needed.  Build: the reply at _pos is complete and
        valid; return its value.
        """
        stack = self._stack if not build else []
        while True:
            # Nothing is built while scanning or inside an attribute.
            discard = not build or (bool(stack) and stack[-1].container is None)
            element = self._read_element(discard, resume=not build)
            if element is _INCOMPLETE:
                return False
            if isinstance(element, _Aggregate):
                if len(stack) >= MAX_NESTING_DEPTH:
                    raise _Broken(f"Protocol error, nesting deeper than {MAX_NESTING_DEPTH} levels")
                if element.remaining:
                    stack.append(element)
                    continue
                if element.is_attribute:  # an empty attribute: nothing to discard
                    continue
                value = element.container
            else:
                value = element
            # Hand the finished value to the aggregate that waits for it,
            # finishing that one in turn when it is full.
            while stack:
                top = stack[-1]
                self._defer(top.add(value))
                if top.remaining:
                    break
                stack.pop()
                if top.is_attribute:
                    break  # discarded; its parent still waits for the element that follows
                value = top.container
            else:
                return value if build else True

    def _defer(self, exc):
        """Keep the first exception met while building, to raise once the reply is consumed."""
        if exc is not None and self._deferred is None:
            self._deferred = exc

    def _read_element(self, discard, resume):
        """Read the element at _pos: a value, an _Aggregate header, or _INCOMPLETE.

        _pos moves past the element only when it is complete.  With ``discard``
        (scanning, or inside an attribute) strings, errors and aggregates are
        validated but not built.  ``resume``: continue the search for the end
        of a + or - line where the previous call stopped.
        """
        buf = self._buf
        pos = self._pos
        if pos >= len(buf):
            return _INCOMPLETE
        kind = buf[pos]
        if kind == _SIMPLE or kind == _ERROR:
            line = self._read_long_line(resume)
        elif kind in _HEADER_TYPES:
            line = self._read_header_line()
        else:
            raise _Broken(f"Protocol error, got {bytes([kind])!r} as reply type byte")
        if line is None:
            return _INCOMPLETE
        end = self._pos + 1 + len(line) + 2  # just past the CRLF

        if kind in _BLOB_TYPES:
            length = self._parse_length(kind, line)
            if length is None:
                value = None
            else:
                if len(buf) < end + length + 2:
                    return _INCOMPLETE
                if buf[end + length : end + length + 2] != _CRLF:
                    raise _Broken("Protocol error, bulk payload not followed by CRLF")
                payload = None if discard else bytes(buf[end : end + length])
                end += length + 2
                if discard:
                    value = None
                elif kind == _BULK:
                    value = self._decode(payload)
                elif kind == _VERBATIM:
                    value = self._decode(payload[4:])  # skip the format, e.g. "txt:"
                else:
                    value = self._make_error(payload)
        elif kind in _AGGREGATE_TYPES:
            count = self._parse_length(kind, line)
            if count is None:
                value = None
            else:
                value = _Aggregate(kind, count, discard or kind == _ATTRIBUTE)
        else:
            value = self._parse_line_value(kind, line, discard)
        self._pos = end
        return value

    def _read_long_line(self, resume):
        """The line after the type byte of a + or - element (any length), or None."""
        buf = self._buf
        start = self._pos + 1
        found = buf.find(_CRLF, max(start, self._line_from) if resume else start)
        if found < 0:
            # Resume at the last byte next time: it may be the \r of the CRLF.
            self._line_from = max(start, len(buf) - 1)
            return None
        return bytes(buf[start:found])

    def _read_header_line(self):
        """The line after the type byte of a header/number element (<= 64 bytes), or None."""
        buf = self._buf
        start = self._pos + 1
        limit = start + MAX_LINE_LENGTH  # the last index where the CRLF may start
        found = buf.find(_CRLF, start, limit + 2)
        if found >= 0:
            return bytes(buf[start:found])
        available = len(buf) - start
        # Too long as soon as no CRLF can start at or before `limit`.
        if available > MAX_LINE_LENGTH + 1 or (available == MAX_LINE_LENGTH + 1 and buf[limit] != _CRLF[0]):
            raise _Broken(f"Protocol error, line longer than {MAX_LINE_LENGTH} bytes")
        return None

    def _parse_length(self, kind, line):
        """A length or count: an int, or None for -1 (null)."""
        if line == b"-1":
            if kind == _ATTRIBUTE:
                raise _Broken("Protocol error, attribute count -1")
            return None
        if not _LENGTH.fullmatch(line):
            raise _Broken(f"Protocol error, bad length {line!r}")
        value = int(line)
        if kind in _BLOB_TYPES:
            if value > MAX_BULK_LENGTH:
                raise _Broken(f"Protocol error, length {value} over {MAX_BULK_LENGTH}")
            if kind == _VERBATIM and value < 4:
                raise _Broken("Protocol error, verbatim string shorter than its 4-byte format")
        elif value > MAX_AGGREGATE_COUNT:
            raise _Broken(f"Protocol error, count {value} over {MAX_AGGREGATE_COUNT}")
        return value

    def _parse_line_value(self, kind, line, discard):
        """The value of a one-line element (validated; with ``discard`` a string or error is None)."""
        if kind == _SIMPLE:
            return None if discard else self._decode(line)
        if kind == _ERROR:
            return None if discard else self._make_error(line)
        if kind == _INT:
            if _INTEGER.fullmatch(line):
                value = int(line)
                if INT64_MIN <= value <= INT64_MAX:
                    return value
            raise _Broken(f"Protocol error, bad integer {line!r}")
        if kind == _BIGNUM:
            if _INTEGER.fullmatch(line):
                return int(line)
            raise _Broken(f"Protocol error, bad bignum {line!r}")
        if kind == _DOUBLE:
            return self._parse_double(line)
        if kind == _BOOL:
            if line == b"t":
                return True
            if line == b"f":
                return False
            raise _Broken(f"Protocol error, bad boolean {line!r}")
        assert kind == _NULL
        if line:
            raise _Broken(f"Protocol error, bad null {line!r}")
        return None

    @staticmethod
    def _parse_double(line):
        # (A new float each time: nan map keys must stay distinct objects.)
        if line in _DOUBLE_SPECIAL or (line and _DOUBLE_CHARS.issuperset(line)):
            try:
                return float(line)
            except ValueError:
                pass
        raise _Broken(f"Protocol error, bad double {line!r}")

    def _decode(self, raw):
        """``raw`` decoded with the encoding, if any; a failure is deferred to the end of the reply."""
        if self._encoding is None or self._deferred is not None:  # (the reply is lost anyway)
            return raw
        try:
            return raw.decode(self._encoding, self._errors)
        except Exception as exc:  # UnicodeDecodeError, or whatever an errors handler raises
            self._defer(exc)
            return raw

    def _make_error(self, raw):
        """A replyError instance; if the class raises, that is deferred to the end of the reply."""
        if self._deferred is not None:  # the reply is lost anyway: call no more Python code
            return None
        try:
            return self._reply_error(raw.decode("utf-8", "replace"))
        except Exception as exc:
            self._defer(exc)
            return None
