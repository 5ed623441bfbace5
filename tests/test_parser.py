"""Unit tests of the RESP readers (no server).

Every test runs against both implementations: ``aioredis.parser.Reader`` (the
C reader of ``aioredis._core``) and ``aioredis.parser.PyReader`` (the pure
Python reference).  The C parameter is skipped, with the import error as the
reason, only when ``aioredis._core`` cannot be imported (the extension is not
built); in CI it is built, so both run there.
"""

import array
import gc
import math
import resource
import sys
import time
import tracemalloc

import pytest
from helpers import NED, load_c_reader, load_py_reader, same

from aioredis.errors import AuthError, ProtocolError, ReplyError

MAX_BULK = 512 * 1024 * 1024
MAX_COUNT = 2**32 - 1
MAX_DEPTH = 1024


def new(Reader, **kwargs):
    kwargs.setdefault("notEnoughData", NED)
    return Reader(**kwargs)


def drain(reader):
    """Every complete reply now buffered (exceptions are left to propagate)."""
    replies = []
    while True:
        reply = reader.gets()
        if reply is NED:
            return replies
        replies.append(reply)


def parse(Reader, data, **kwargs):
    """The replies of ``data`` fed at once."""
    reader = new(Reader, **kwargs)
    reader.feed(data)
    return drain(reader)


def parse_one(Reader, data, **kwargs):
    replies = parse(Reader, data, **kwargs)
    assert len(replies) == 1, replies
    return replies[0]


def assert_same(actual, expected):
    assert same(actual, expected), f"{actual!r} != {expected!r}"


def assert_protocol_error(Reader, data, **kwargs):
    reader = new(Reader, **kwargs)
    reader.feed(data)
    with pytest.raises(ProtocolError):
        drain(reader)
    return reader


# ---------------------------------------------------------------- every type

# (wire bytes, value without encoding, value with encoding="utf-8")
TYPE_CASES = [
    # simple strings: the line up to the first CRLF, lone CR/LF included
    (b"+OK\r\n", b"OK", "OK"),
    (b"+\r\n", b"", ""),
    (b"+a\rb\nc\r\r\n", b"a\rb\nc\r", "a\rb\nc\r"),
    (b"+caf\xc3\xa9\r\n", b"caf\xc3\xa9", "caf\u00e9"),
    (b"+" + b"x" * 1000 + b"\r\n", b"x" * 1000, "x" * 1000),
    # integers
    (b":0\r\n", 0, 0),
    (b":-0\r\n", 0, 0),
    (b":42\r\n", 42, 42),
    (b":-42\r\n", -42, -42),
    (b":007\r\n", 7, 7),
    (b":9223372036854775807\r\n", 2**63 - 1, 2**63 - 1),
    (b":-9223372036854775808\r\n", -(2**63), -(2**63)),
    # bulk strings
    (b"$5\r\nhello\r\n", b"hello", "hello"),
    (b"$0\r\n\r\n", b"", ""),
    (b"$4\r\na\r\nb\r\n", b"a\r\nb", "a\r\nb"),
    (b"$03\r\nabc\r\n", b"abc", "abc"),
    (b"$-1\r\n", None, None),
    (b"$2\r\n\xc3\xa9\r\n", b"\xc3\xa9", "\u00e9"),
    # arrays
    (b"*0\r\n", [], []),
    (b"*-1\r\n", None, None),
    (b"*3\r\n:1\r\n$1\r\na\r\n*-1\r\n", [1, b"a", None], [1, "a", None]),
    (b"*2\r\n*1\r\n+x\r\n*0\r\n", [[b"x"], []], [["x"], []]),
    # RESP3 null
    (b"_\r\n", None, None),
    # doubles
    (b",1.5\r\n", 1.5, 1.5),
    (b",-2\r\n", -2.0, -2.0),
    (b",0\r\n", 0.0, 0.0),
    (b",-0.0\r\n", -0.0, -0.0),
    (b",.5\r\n", 0.5, 0.5),
    (b",1.\r\n", 1.0, 1.0),
    (b",+1.5\r\n", 1.5, 1.5),
    (b",1E3\r\n", 1000.0, 1000.0),
    (b",1e-3\r\n", 0.001, 0.001),
    (b",1e+16\r\n", 1e16, 1e16),
    (b",00012.50\r\n", 12.5, 12.5),
    (b",1e500\r\n", math.inf, math.inf),
    (b",-1e500\r\n", -math.inf, -math.inf),
    (b",1e-400\r\n", 0.0, 0.0),
    (b",inf\r\n", math.inf, math.inf),
    (b",-inf\r\n", -math.inf, -math.inf),
    (b",nan\r\n", math.nan, math.nan),
    # booleans
    (b"#t\r\n", True, True),
    (b"#f\r\n", False, False),
    # verbatim strings: the payload after its 4-byte format
    (b"=8\r\ntxt:abcd\r\n", b"abcd", "abcd"),
    (b"=4\r\nmkd:\r\n", b"", ""),
    (b"=9\r\ntxt:a\r\nbc\r\n", b"a\r\nbc", "a\r\nbc"),
    (b"=-1\r\n", None, None),
    # big numbers
    (b"(3492890328409238509324850943850943825024385\r\n", 3492890328409238509324850943850943825024385,
     3492890328409238509324850943850943825024385),
    (b"(-3492890328409238509324850943850943825024385\r\n", -3492890328409238509324850943850943825024385,
     -3492890328409238509324850943850943825024385),
    (b"(0\r\n", 0, 0),
    (b"(-0\r\n", 0, 0),
    (b"(0001\r\n", 1, 1),
    (b"(" + b"9" * 64 + b"\r\n", int("9" * 64), int("9" * 64)),
    # maps
    (b"%0\r\n", {}, {}),
    (b"%-1\r\n", None, None),
    (b"%2\r\n+a\r\n:1\r\n+b\r\n*1\r\n#t\r\n", {b"a": 1, b"b": [True]}, {"a": 1, "b": [True]}),
    (b"%1\r\n:1\r\n%1\r\n$1\r\nk\r\n_\r\n", {1: {b"k": None}}, {1: {"k": None}}),
    # sets and pushes are lists
    (b"~0\r\n", [], []),
    (b"~-1\r\n", None, None),
    (b"~3\r\n+a\r\n:1\r\n+a\r\n", [b"a", 1, b"a"], ["a", 1, "a"]),
    (b">0\r\n", [], []),
    (b">-1\r\n", None, None),
    (b">3\r\n+message\r\n+chan\r\n$2\r\nhi\r\n", [b"message", b"chan", b"hi"], ["message", "chan", "hi"]),
    # attributes are discarded; the element after them is the reply
    (b"|1\r\n+key\r\n+value\r\n:5\r\n", 5, 5),
    (b"|0\r\n:5\r\n", 5, 5),
    (b"|1\r\n+a\r\n:1\r\n|1\r\n+b\r\n:2\r\n+x\r\n", b"x", "x"),
    (b"|2\r\n+a\r\n*2\r\n:1\r\n:2\r\n+b\r\n%1\r\n+c\r\n~1\r\n:3\r\n*1\r\n:4\r\n", [4], [4]),
    (b"*3\r\n:1\r\n|1\r\n+ttl\r\n:3600\r\n:2\r\n:3\r\n", [1, 2, 3], [1, 2, 3]),
    (b"*2\r\n|1\r\n+a\r\n+b\r\n*1\r\n|1\r\n+c\r\n+d\r\n:1\r\n:2\r\n", [[1], 2], [[1], 2]),
    (b"%1\r\n|1\r\n+a\r\n+b\r\n+k\r\n|1\r\n+c\r\n+d\r\n+v\r\n", {b"k": b"v"}, {"k": "v"}),
    (b"|1\r\n+a\r\n|1\r\n+nested\r\n+attr\r\n+b\r\n:7\r\n", 7, 7),
    (b"|1\r\n+a\r\n$-1\r\n*-1\r\n", None, None),
]


@pytest.mark.parametrize("encoding", [None, "utf-8"])
@pytest.mark.parametrize("data,plain,decoded", TYPE_CASES, ids=[repr(c[0][:24]) for c in TYPE_CASES])
def test_types(Reader, data, plain, decoded, encoding):
    expected = plain if encoding is None else decoded
    assert_same(parse_one(Reader, data, encoding=encoding), expected)


@pytest.mark.parametrize("data,plain,decoded", TYPE_CASES, ids=[repr(c[0][:24]) for c in TYPE_CASES])
def test_types_one_byte_at_a_time(Reader, data, plain, decoded):
    reader = new(Reader)
    replies = []
    for i in range(len(data)):
        reader.feed(data[i : i + 1])
        replies += drain(reader)
    assert len(replies) == 1
    assert_same(replies[0], plain)
    assert reader.len() == 0


@pytest.mark.parametrize("encoding", [None, "utf-8", "latin-1"])
def test_error_replies_are_returned_not_raised(Reader, encoding):
    replies = parse(
        Reader,
        b"-ERR unknown command\r\n-NOAUTH Authentication required.\r\n!8\r\nERR a\r\nb\r\n!-1\r\n"
        b"-ERR caf\xc3\xa9 \xff\r\n!0\r\n\r\n",
        encoding=encoding,
    )
    assert [type(r) for r in replies] == [ReplyError, AuthError, ReplyError, type(None), ReplyError, ReplyError]
    assert replies[0].args == ("ERR unknown command",)
    assert replies[1].args == ("NOAUTH Authentication required.",)
    assert replies[2].args == ("ERR a\r\nb",)
    # error text is always UTF-8 with errors="replace", whatever the encoding
    assert replies[4].args == ("ERR caf\u00e9 \ufffd",)
    assert replies[5].args == ("",)


def test_error_reply_inside_aggregate(Reader):
    reply = parse_one(Reader, b"*3\r\n+OK\r\n-ERR bad\r\n!3\r\nERR\r\n")
    assert reply[0] == b"OK"
    assert type(reply[1]) is ReplyError and reply[1].args == ("ERR bad",)
    assert type(reply[2]) is ReplyError and reply[2].args == ("ERR",)


def test_numbers_are_not_decoded(Reader):
    reply = parse_one(Reader, b"*4\r\n:1\r\n,2.5\r\n(3\r\n#t\r\n", encoding="utf-8")
    assert_same(reply, [1, 2.5, 3, True])


# ---------------------------------------------------------------- encoding


def test_encoding_errors_handlers(Reader):
    data = b"+a\xffb\r\n"
    assert parse_one(Reader, data, encoding="utf-8", errors="replace") == "a\ufffdb"
    assert parse_one(Reader, data, encoding="utf-8", errors="ignore") == "ab"
    assert parse_one(Reader, data, encoding="utf-8", errors="surrogateescape") == "a\udcffb"
    assert parse_one(Reader, data, encoding="utf-8", errors="backslashreplace") == "a\\xffb"
    assert parse_one(Reader, data, encoding="latin-1") == "a\u00ffb"
    assert parse_one(Reader, b"$4\r\n\xff\xfe\x41\x00\r\n", encoding="utf-16") == "A"
    with pytest.raises(UnicodeDecodeError):
        parse(Reader, data, encoding="utf-8")
    with pytest.raises(UnicodeDecodeError):
        parse(Reader, data, encoding="utf-8", errors="strict")


def test_set_encoding(Reader):
    reader = new(Reader)
    reader.feed(b"$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\n\xe9\r\n")
    assert reader.gets() == b"a"
    reader.set_encoding("utf-8")
    assert reader.gets() == "b"
    reader.set_encoding(encoding=None)
    assert reader.gets() == b"c"
    reader.set_encoding(encoding="utf-8", errors="strict")
    assert reader.gets() == "d"
    reader.set_encoding("utf-8", "replace")
    assert reader.gets() == "\ufffd"
    reader.set_encoding()
    reader.feed(b"+x\r\n")
    assert reader.gets() == b"x"


def test_encoding_applies_when_the_reply_is_returned(Reader):
    # The encoding set when gets() returns a reply applies to all of it, even
    # if an earlier gets() already saw part of it.
    reader = new(Reader)
    reader.feed(b"*3\r\n+a\r\n$1\r\nb\r\n")
    assert reader.gets() is NED
    reader.set_encoding("utf-8")
    reader.feed(b"=5\r\ntxt:c\r\n")
    assert reader.gets() == ["a", "b", "c"]
    reader.feed(b"%1\r\n+k\r\n")
    assert reader.gets() is NED
    reader.set_encoding(None)
    reader.feed(b"+v\r\n")
    assert reader.gets() == {b"k": b"v"}


def test_unknown_encoding_is_rejected_at_once(Reader):
    with pytest.raises(LookupError):
        Reader(encoding="no-such-codec")
    reader = new(Reader)
    with pytest.raises(LookupError):
        reader.set_encoding("no-such-codec")
    reader.feed(b"+ok\r\n")
    assert reader.gets() == b"ok"


def test_map_keys_are_decoded(Reader):
    reply = parse_one(Reader, b"%2\r\n+a\r\n$1\r\nb\r\n=5\r\ntxt:c\r\n*1\r\n+d\r\n", encoding="utf-8")
    assert_same(reply, {"a": "b", "c": ["d"]})


@pytest.mark.parametrize(
    "data",
    [
        b"$1\r\n\xff\r\n",
        b"+\xff\r\n",
        b"=5\r\ntxt:\xff\r\n",
        b"*3\r\n:1\r\n*1\r\n$1\r\n\xff\r\n:2\r\n",
        b"%2\r\n$1\r\n\xff\r\n:1\r\n+k\r\n*2\r\n:1\r\n:2\r\n",
        b"~2\r\n+\xfe\r\n+\xff\r\n",
        b">1\r\n+\xfe\r\n",
    ],
)
def test_decode_error_is_raised_after_the_reply_and_is_not_sticky(Reader, data):
    reader = new(Reader, encoding="utf-8")
    reader.feed(data + b"+next\r\n")
    with pytest.raises(UnicodeDecodeError):
        reader.gets()
    assert reader.gets() == "next"
    assert reader.gets() is NED
    assert reader.len() == 0


def test_decode_error_split_feed(Reader):
    data = b"*2\r\n$2\r\n\xc3\xa9\r\n$1\r\n\xff\r\n+next\r\n"
    for i in range(1, len(data)):
        reader = new(Reader, encoding="utf-8")
        reader.feed(data[:i])
        out = []
        for chunk in (None, data[i:]):
            if chunk is not None:
                reader.feed(chunk)
            while True:
                try:
                    reply = reader.gets()
                except UnicodeDecodeError:
                    out.append("UnicodeDecodeError")
                    continue
                if reply is NED:
                    break
                out.append(reply)
        assert out == ["UnicodeDecodeError", "next"], i


def test_attributes_are_not_decoded(Reader):
    # An attribute is discarded without being built: bytes in it that do not
    # decode, or keys that cannot be hashed, raise nothing.
    data = b"|2\r\n+\xff\r\n$1\r\n\xfe\r\n*0\r\n%1\r\n*0\r\n+\xff\r\n+ok\r\n"
    reader = new(Reader, encoding="utf-8")
    reader.feed(data)
    assert reader.gets() == "ok"
    reader.feed(b"*1\r\n|1\r\n*1\r\n:1\r\n+v\r\n:5\r\n")
    assert reader.gets() == [5]


# ---------------------------------------------------------------- error classes


class MyProtocolError(Exception):
    pass


class MyReplyError(Exception):
    pass


def test_custom_error_classes(Reader):
    reader = new(Reader, protocolError=MyProtocolError, replyError=MyReplyError)
    reader.feed(b"-ERR x\r\n!2\r\nEE\r\n*1\r\n-ERR y\r\n")
    replies = drain(reader)
    assert [type(r) for r in replies] == [MyReplyError, MyReplyError, list]
    assert replies[0].args == ("ERR x",)
    assert replies[1].args == ("EE",)
    assert type(replies[2][0]) is MyReplyError and replies[2][0].args == ("ERR y",)
    reader.feed(b"?\r\n")
    with pytest.raises(MyProtocolError) as info:
        reader.gets()
    assert "?" in str(info.value)
    with pytest.raises(MyProtocolError):
        reader.gets()


def test_default_error_classes(Reader):
    reader = Reader()
    reader.feed(b"-READONLY You can't write against a read only replica.\r\n")
    reply = reader.gets()
    assert isinstance(reply, ReplyError) and type(reply).__name__ == "ReadOnlyError"
    reader.feed(b"@")
    with pytest.raises(ProtocolError):
        reader.gets()


def test_reply_error_may_be_any_callable(Reader):
    reader = new(Reader, replyError=lambda text: ("error", text))
    reader.feed(b"-ERR x\r\n")
    assert reader.gets() == ("error", "ERR x")


def test_reply_error_is_called_once_per_error_element(Reader):
    # Elements are built as they arrive (the C reader) or when the reply is
    # complete (PyReader): either way once each, and never for an attribute.
    calls = []

    def record(text):
        calls.append(text)
        return ReplyError(text)

    reader = new(Reader, replyError=record)
    reader.feed(b"*3\r\n-ERR a\r\n!5\r\nERR b\r\n")
    assert reader.gets() is NED
    assert reader.gets() is NED
    assert calls in ([], ["ERR a", "ERR b"])
    reader.feed(b"|1\r\n-ERR in attribute\r\n-ERR ignored\r\n:1\r\n")
    reply = reader.gets()
    assert calls == ["ERR a", "ERR b"]  # never for errors inside an attribute
    assert [type(x) for x in reply] == [ReplyError, ReplyError, int]


def test_raising_reply_error_class_is_not_sticky(Reader):
    def boom(text):
        raise KeyError(text)

    reader = new(Reader, replyError=boom)
    reader.feed(b"*2\r\n-ERR x\r\n:1\r\n:2\r\n")
    with pytest.raises(KeyError):
        reader.gets()
    assert reader.gets() == 2


def test_reader_cannot_be_used_while_it_builds_a_reply(Reader):
    # replyError (or a codec) runs while the reply is built: feeding or
    # reading then is refused, and that error is the reply's.
    def reentrant(text):
        reader.feed(b"+x\r\n")

    reader = new(Reader, replyError=reentrant)
    reader.feed(b"*2\r\n-ERR\r\n:1\r\n+after\r\n")
    with pytest.raises(RuntimeError):
        reader.gets()
    assert reader.gets() == b"after"
    assert reader.len() == 0


# ---------------------------------------------------------------- split points

MIXED_STREAM = b"".join(
    [
        b"+OK\r\n",
        b"-ERR something bad\r\n",
        b":12345\r\n",
        b":-9223372036854775808\r\n",
        b"$12\r\nhello\r\nworld\r\n",
        b"$0\r\n\r\n",
        b"$-1\r\n",
        b"*5\r\n:1\r\n$1\r\na\r\n*-1\r\n*2\r\n+x\r\n-ERR y\r\n*0\r\n",
        b"*-1\r\n",
        b"_\r\n",
        b",3.25\r\n",
        b",-inf\r\n",
        b",nan\r\n",
        b"#t\r\n",
        b"#f\r\n",
        b"!22\r\nSYNTAX invalid\r\nsyntax\r\n",
        b"!-1\r\n",
        b"=15\r\ntxt:Some string\r\n",
        b"(-3492890328409238509324850943850943825024385\r\n",
        b"(" + b"1" * 64 + b"\r\n",  # a header line of exactly the maximum length
        b":" + b"0" * 63 + b"7\r\n",
        b"%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n~2\r\n#t\r\n,1.5\r\n",
        b"%3\r\n+k\r\n:1\r\n+j\r\n:2\r\n+k\r\n:3\r\n",
        b"~3\r\n+a\r\n+b\r\n+c\r\n",
        b">3\r\n+message\r\n+channel\r\n$7\r\npayload\r\n",
        b"|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n",
        b"*3\r\n:1\r\n|1\r\n+ttl\r\n:3600\r\n:2\r\n:3\r\n",
        b"+" + b"long simple string " * 10 + b"\r\n",
        b"*1\r\n*1\r\n%1\r\n+k\r\n~1\r\n>1\r\n*1\r\n:42\r\n",
    ]
)


def _mixed_expected(Reader, encoding):
    return parse(Reader, MIXED_STREAM, encoding=encoding)


@pytest.mark.parametrize("encoding", [None, "utf-8"])
def test_mixed_stream_unsplit(Reader, encoding):
    replies = _mixed_expected(Reader, encoding)
    s = (lambda b: b) if encoding is None else (lambda b: b.decode())
    expected = [
        s(b"OK"),
        ReplyError("ERR something bad"),
        12345,
        -(2**63),
        s(b"hello\r\nworld"),
        s(b""),
        None,
        [1, s(b"a"), None, [s(b"x"), ReplyError("ERR y")], []],
        None,
        None,
        3.25,
        -math.inf,
        math.nan,
        True,
        False,
        ReplyError("SYNTAX invalid\r\nsyntax"),
        None,
        s(b"Some string"),
        -3492890328409238509324850943850943825024385,
        int("1" * 64),
        7,
        {s(b"first"): 1, s(b"second"): [True, 1.5]},
        {s(b"k"): 3, s(b"j"): 2},
        [s(b"a"), s(b"b"), s(b"c")],
        [s(b"message"), s(b"channel"), s(b"payload")],
        [2039123, 9543892],
        [1, 2, 3],
        s(b"long simple string " * 10),
        [[{s(b"k"): [[[42]]]}]],
    ]
    assert_same(replies, expected)


@pytest.mark.parametrize("encoding", [None, "utf-8"])
def test_every_split_point(Reader, encoding):
    expected = _mixed_expected(Reader, encoding)
    for i in range(len(MIXED_STREAM) + 1):
        reader = new(Reader, encoding=encoding)
        reader.feed(MIXED_STREAM[:i])
        replies = drain(reader)
        reader.feed(MIXED_STREAM[i:])
        replies += drain(reader)
        assert same(replies, expected), f"split at {i}"
        assert reader.len() == 0 and not reader.has_data()


def test_one_byte_at_a_time(Reader):
    expected = _mixed_expected(Reader, None)
    reader = new(Reader)
    replies = []
    for i in range(len(MIXED_STREAM)):
        reader.feed(MIXED_STREAM, i, 1)
        replies += drain(reader)
    assert_same(replies, expected)


def test_split_with_empty_feeds(Reader):
    expected = _mixed_expected(Reader, None)
    reader = new(Reader)
    replies = []
    for i in range(0, len(MIXED_STREAM), 7):
        reader.feed(b"")
        replies += drain(reader)
        reader.feed(MIXED_STREAM[i : i + 7])
        replies += drain(reader)
        assert reader.gets() is NED  # drained: asking again changes nothing
    assert_same(replies, expected)


def test_c_and_py_agree_on_mixed_stream():
    py = parse(load_py_reader(), MIXED_STREAM)
    c = parse(load_c_reader(), MIXED_STREAM)
    assert_same(c, py)


# ---------------------------------------------------------------- protocol errors


def test_protocol_error_is_sticky(Reader):
    reader = new(Reader)
    reader.feed(b"+before\r\n:12x\r\n+after\r\n")
    assert reader.gets() == b"before"
    with pytest.raises(ProtocolError) as first:
        reader.gets()
    for _ in range(3):
        with pytest.raises(ProtocolError) as again:
            reader.gets()
        assert str(again.value) == str(first.value)
    reader.feed(b"+more valid data\r\n")
    with pytest.raises(ProtocolError):
        reader.gets()


def test_protocol_error_inside_aggregate_is_sticky(Reader):
    reader = new(Reader)
    reader.feed(b"*3\r\n:1\r\n:2\r\n")
    assert reader.gets() is NED
    reader.feed(b"^oops\r\n:3\r\n")
    for _ in range(3):
        with pytest.raises(ProtocolError):
            reader.gets()


@pytest.mark.parametrize("byte", [b"x", b"?", b"@", b" ", b"0", b"\x00", b"\xff", b"\r", b"\n", b"^", b";"])
def test_unknown_type_byte(Reader, byte):
    reader = new(Reader)
    reader.feed(byte)  # reported at once, without waiting for a line
    with pytest.raises(ProtocolError) as info:
        reader.gets()
    if 0x21 <= byte[0] < 0x7F:
        assert byte.decode() in str(info.value)  # the message names the byte


def test_unknown_type_byte_inside_aggregate(Reader):
    assert_protocol_error(Reader, b"*2\r\n:1\r\nx\r\n")


# Length/count lines: every type that has one.  -1 is null (an error for |).
LENGTH_TYPES = [b"$", b"!", b"=", b"*", b"%", b"~", b">", b"|"]
BAD_LENGTHS = [b"", b"-", b"-2", b"-0", b"-01", b"--1", b"+1", b"+0", b"1a", b"a", b" 1", b"1 ", b"0x1", b"1.0",
               b"1e3", b"\x001", b"1\r2", b"1\n2", b"-1-"]


@pytest.mark.parametrize("kind", LENGTH_TYPES)
@pytest.mark.parametrize("length", BAD_LENGTHS)
def test_bad_length(Reader, kind, length):
    assert_protocol_error(Reader, kind + length + b"\r\n" + b"abcd\r\n" * 3)


@pytest.mark.parametrize("kind", [b"$", b"!", b"=", b"*", b"%", b"~", b">"])
def test_length_minus_one_is_null(Reader, kind):
    assert parse(Reader, kind + b"-1\r\n+next\r\n") == [None, b"next"]


def test_attribute_count_minus_one_is_an_error(Reader):
    assert_protocol_error(Reader, b"|-1\r\n:1\r\n")


@pytest.mark.parametrize("kind", [b"$", b"!", b"="])
def test_bulk_length_limit(Reader, kind):
    reader = new(Reader)
    reader.feed(kind + str(MAX_BULK).encode() + b"\r\ntxt:")  # exactly 512 MiB: fine, incomplete
    assert reader.gets() is NED
    assert_protocol_error(Reader, kind + str(MAX_BULK + 1).encode() + b"\r\n")
    assert_protocol_error(Reader, kind + b"9" * 30 + b"\r\n")


@pytest.mark.parametrize("kind", [b"*", b"%", b"~", b">", b"|"])
def test_aggregate_count_limit(Reader, kind):
    reader = new(Reader)
    reader.feed(kind + str(MAX_COUNT).encode() + b"\r\n:1\r\n")
    assert reader.gets() is NED
    assert_protocol_error(Reader, kind + str(MAX_COUNT + 1).encode() + b"\r\n:1\r\n")
    assert_protocol_error(Reader, kind + b"9" * 40 + b"\r\n")


def test_verbatim_shorter_than_its_format(Reader):
    for n in range(4):
        assert_protocol_error(Reader, b"=%d\r\n%s\r\n" % (n, b"txt:"[:n]))
    assert parse_one(Reader, b"=4\r\ntxt:\r\n") == b""


def test_bulk_payload_not_followed_by_crlf(Reader):
    for data in [b"$3\r\nabcde\r\n", b"$3\r\nabc\rX", b"$3\r\nabcX\n", b"$3\r\nabc\n\r", b"!1\r\nEXY", b"=5\r\ntxt:aXY",
                 b"$0\r\nXY"]:
        assert_protocol_error(Reader, data)
    reader = new(Reader)
    reader.feed(b"$3\r\nabc\r")  # the CR may be followed by the LF later
    assert reader.gets() is NED
    reader.feed(b"\n")
    assert reader.gets() == b"abc"


@pytest.mark.parametrize(
    "data",
    [
        b":\r\n", b":-\r\n", b":+1\r\n", b":1.0\r\n", b": 1\r\n", b":1 \r\n", b":0x1\r\n", b":1e3\r\n", b":--1\r\n",
        b":1-\r\n", b":\x001\r\n",
        b":9223372036854775808\r\n", b":-9223372036854775809\r\n", b":99999999999999999999\r\n",
        b":-99999999999999999999999\r\n", b":18446744073709551616\r\n", b":18446744073709551615\r\n",
        b"(\r\n", b"(-\r\n", b"(+1\r\n", b"(1a\r\n", b"( 1\r\n", b"(1.5\r\n", b"(--1\r\n",
        b"#\r\n", b"#T\r\n", b"#F\r\n", b"#true\r\n", b"#tf\r\n", b"#1\r\n", b"# \r\n",
        b"_x\r\n", b"_ \r\n", b"_-1\r\n",
    ],
)
def test_bad_line_values(Reader, data):
    assert_protocol_error(Reader, data)


@pytest.mark.parametrize(
    "text",
    [b"", b"Inf", b"INF", b"NaN", b"NAN", b"-nan", b"+inf", b"+nan", b"infinity", b"-infinity", b"1e", b"e5", b".",
     b"-", b"+", b"1_0", b" 1", b"1 ", b"0x10", b"1.2.3", b"1e5e5", b"--1", b"1..", b"\x001", b"1\x00",
     b"inf ", b"nan0", b"1,5", b"1f"],
)
def test_bad_doubles(Reader, text):
    assert_protocol_error(Reader, b"," + text + b"\r\n")


def _nested(depth, leaf=b":1\r\n", header=b"*1\r\n"):
    return header * depth + leaf


def _unnest(value, depth):
    for _ in range(depth):
        assert type(value) is list and len(value) == 1
        value = value[0]
    return value


def test_nesting_1024_levels_is_fine(Reader):
    reader = new(Reader)
    reader.feed(_nested(MAX_DEPTH))
    assert _unnest(reader.gets(), MAX_DEPTH) == 1
    reader.feed(b"+next\r\n")
    assert reader.gets() == b"next"


def test_nesting_1024_levels_one_byte_at_a_time(Reader):
    data = _nested(MAX_DEPTH, header=b"~1\r\n")
    reader = new(Reader)
    for i in range(len(data) - 1):
        reader.feed(data[i : i + 1])
        assert reader.gets() is NED
    reader.feed(data[-1:])
    assert _unnest(reader.gets(), MAX_DEPTH) == 1


def test_nesting_1025_levels_is_an_error(Reader):
    assert_protocol_error(Reader, _nested(MAX_DEPTH + 1))
    # reported when the 1025th aggregate header arrives, before its elements
    assert_protocol_error(Reader, _nested(MAX_DEPTH + 1, leaf=b""))
    # maps count as one level each (key and value are one level down)
    assert_protocol_error(Reader, _nested(MAX_DEPTH, leaf=b"*1\r\n:1\r\n", header=b"%1\r\n+k\r\n"))
    assert_protocol_error(Reader, _nested(MAX_DEPTH + 1, header=b">1\r\n"))


def test_nesting_limit_mixed_aggregates_and_attributes(Reader):
    mixed = [b"*1\r\n", b"%1\r\n+k\r\n", b"~1\r\n", b">1\r\n"]
    ok = b"".join(mixed[i % 4] for i in range(MAX_DEPTH)) + b":1\r\n"
    assert parse(Reader, ok)[0] is not None
    too_deep = b"".join(mixed[i % 4] for i in range(MAX_DEPTH + 1)) + b":1\r\n"
    assert_protocol_error(Reader, too_deep)
    # An attribute is a level while it is being read.
    assert_protocol_error(Reader, _nested(MAX_DEPTH, leaf=b"|1\r\n+a\r\n+b\r\n:1\r\n"))
    reply = parse_one(Reader, _nested(MAX_DEPTH - 1, leaf=b"|1\r\n+a\r\n+b\r\n:1\r\n"))
    assert _unnest(reply, MAX_DEPTH - 1) == 1


def test_empty_aggregate_at_depth_1025_is_an_error(Reader):
    # "an aggregate at depth 1025 is an error", whatever its count (but -1,
    # which is a null, not an aggregate).
    assert_protocol_error(Reader, _nested(MAX_DEPTH, leaf=b"*0\r\n"))
    assert_protocol_error(Reader, _nested(MAX_DEPTH, leaf=b"%0\r\n"))
    reply = parse_one(Reader, _nested(MAX_DEPTH, leaf=b"*-1\r\n"))
    assert _unnest(reply, MAX_DEPTH) is None


HEADER_TYPES = [b":", b"$", b"*", b"%", b"~", b">", b"=", b"!", b"|", b",", b"(", b"#", b"_"]


@pytest.mark.parametrize("kind", HEADER_TYPES)
def test_header_line_too_long_is_reported_at_once(Reader, kind):
    # More than 64 bytes after the type byte and no CRLF: an error now, not
    # after more data (a peer could otherwise make us buffer without bound).
    reader = new(Reader)
    reader.feed(kind + b"1" * 65)
    with pytest.raises(ProtocolError):
        reader.gets()
    reader = new(Reader)
    reader.feed(kind + b"1" * 64)
    assert reader.gets() is NED
    reader.feed(b"1")
    with pytest.raises(ProtocolError):
        reader.gets()
    # a complete line that is too long
    assert_protocol_error(Reader, kind + b"0" * 65 + b"\r\n")
    assert_protocol_error(Reader, kind + b"0" * 1000 + b"\r\n")


@pytest.mark.parametrize("kind", HEADER_TYPES)
def test_header_line_of_64_bytes_waits_for_its_lf(Reader, kind):
    # 64 bytes and a CR: the LF may still come, making a valid 64-byte line,
    # so this is not (yet) an error.
    reader = new(Reader)
    reader.feed(kind + b"0" * 64 + b"\r")
    assert reader.gets() is NED


def test_header_line_of_64_bytes_is_fine(Reader):
    for data, value in [
        (b":" + b"0" * 63 + b"5\r\n", 5),
        (b"(" + b"1" * 64 + b"\r\n", int("1" * 64)),
        (b"," + b"0" * 60 + b"1.25\r\n", 1.25),
        (b"$" + b"0" * 63 + b"3\r\nabc\r\n", b"abc"),
        (b"*" + b"0" * 63 + b"1\r\n:1\r\n", [1]),
    ]:
        assert_same(parse_one(Reader, data), value)
        reader = new(Reader)  # the same, split between its CR and LF
        cut = data.index(b"\r\n") + 1
        reader.feed(data[:cut])
        assert reader.gets() is NED
        reader.feed(data[cut:])
        assert_same(reader.gets(), value)


def test_simple_lines_have_no_64_byte_limit(Reader):
    long = b"x" * 100_000
    reader = new(Reader)
    reader.feed(b"+" + long)
    assert reader.gets() is NED
    reader.feed(b"\r\n-" + long)
    assert reader.gets() == long
    assert reader.gets() is NED
    reader.feed(b"\r\n")
    assert reader.gets().args == (long.decode(),)


# ---------------------------------------------------------------- feed, len, has_data, notEnoughData


def test_feed_offset_and_length(Reader):
    reader = new(Reader)
    data = b"garbage+OK\r\nmore"
    reader.feed(data, 7, 5)
    assert reader.gets() == b"OK"
    reader.feed(b"xx:12", 2)
    reader.feed(b"3\r\nyy", 0, 3)
    assert reader.gets() == 123
    reader.feed(b"abc", 3)  # offset at the end: nothing
    reader.feed(b"abc", 1, 0)
    reader.feed(b"abc", 3, 0)
    reader.feed(b"", 0)
    reader.feed(b"", 0, -1)
    reader.feed(b"", 0, 0)
    assert reader.len() == 0
    assert reader.gets() is NED
    reader.feed(b"$2\r\nab\r\n", 0, -1)
    assert reader.gets() == b"ab"
    reader.feed(b"+tail\r\n", 0)
    assert reader.gets() == b"tail"


def test_feed_accepts_any_bytes_like(Reader):
    reader = new(Reader)
    reader.feed(bytearray(b"+a\r\n"))
    reader.feed(memoryview(b"xx+b\r\n")[2:])
    reader.feed(array.array("B", b"+c\r\n"))
    reader.feed(memoryview(bytearray(b"x+d\r")), 1, 2)
    reader.feed(b"\r\n")
    assert drain(reader) == [b"a", b"b", b"c", b"d"]
    with pytest.raises(TypeError):
        reader.feed("+str\r\n")
    with pytest.raises(TypeError):
        reader.feed(None)


@pytest.mark.parametrize("offset,length", [(-1, -1), (-1, 1), (4, -1), (5, 0), (0, 4), (1, 3), (0, -2), (2, -5),
                                           (3, 2), (100, 1)])
def test_feed_out_of_range(Reader, offset, length):
    reader = new(Reader)
    with pytest.raises(ValueError):
        reader.feed(b"+ok", offset, length)
    assert reader.len() == 0
    reader.feed(b"+ok\r\n")
    assert reader.gets() == b"ok"


def test_len_and_has_data(Reader):
    reader = new(Reader)
    assert reader.len() == 0 and reader.has_data() is False
    reader.feed(b"$5\r\nhel")
    assert reader.len() == 7 and reader.has_data() is True
    assert reader.gets() is NED
    assert reader.len() == 7
    reader.feed(b"lo\r\n:1\r\n:2")
    assert reader.len() == 17
    assert reader.gets() == b"hello"
    assert reader.len() == 6 and reader.has_data() is True
    assert reader.gets() == 1
    assert reader.len() == 2
    assert reader.gets() is NED
    reader.feed(b"\r\n")
    assert reader.gets() == 2
    assert reader.len() == 0 and reader.has_data() is False
    # an error reply and a decode error consume their bytes too
    reader.set_encoding("utf-8")
    reader.feed(b"-ERR\r\n+\xff\r\n+x")
    assert isinstance(reader.gets(), ReplyError)
    assert reader.len() == 6
    with pytest.raises(UnicodeDecodeError):
        reader.gets()
    assert reader.len() == 2


def test_len_counts_a_partly_parsed_aggregate(Reader):
    reader = new(Reader)
    reader.feed(b"*3\r\n:1\r\n:2\r\n")
    assert reader.gets() is NED
    assert reader.len() == 12
    reader.feed(b":3\r\n")
    assert reader.gets() == [1, 2, 3]
    assert reader.len() == 0


def test_not_enough_data(Reader):
    reader = Reader()
    assert reader.gets() is False
    reader.feed(b"*2\r\n:1\r\n")
    assert reader.gets() is False
    sentinel = object()
    reader = Reader(notEnoughData=sentinel)
    assert reader.gets() is sentinel
    reader = Reader(notEnoughData=None)
    reader.feed(b"$3\r\nab")
    assert reader.gets() is None
    reader.feed(b"c\r\n")
    assert reader.gets() == b"abc"
    assert reader.gets() is None


def test_incomplete_prefixes(Reader):
    for reply in [b"+OK\r\n", b"$3\r\nabc\r\n", b"*2\r\n:1\r\n%1\r\n+a\r\n,1.5\r\n", b"|1\r\n+a\r\n+b\r\n#t\r\n",
                  b"=8\r\ntxt:abcd\r\n", b"!3\r\nERR\r\n", b"(12345\r\n", b"_\r\n"]:
        for i in range(len(reply)):
            reader = new(Reader)
            reader.feed(reply[:i])
            assert reader.gets() is NED, (reply, i)
            assert reader.len() == i


def test_keyword_arguments(Reader):
    reader = Reader(protocolError=MyProtocolError, replyError=MyReplyError, encoding="utf-8", errors="replace",
                    notEnoughData=NED)
    reader.feed(b"+\xff\r\n")
    assert reader.gets() == "\ufffd"
    assert reader.gets() is NED


# ---------------------------------------------------------------- maps


def test_repeated_map_keys_keep_the_last_value(Reader):
    reply = parse_one(Reader, b"%4\r\n+a\r\n:1\r\n+b\r\n:2\r\n+a\r\n:3\r\n$1\r\nb\r\n:4\r\n")
    assert reply == {b"a": 3, b"b": 4}
    assert list(reply) == [b"a", b"b"]  # a key keeps its first position
    reply = parse_one(Reader, b"%3\r\n:1\r\n+int\r\n#t\r\n+bool\r\n,1\r\n+float\r\n")
    assert reply == {1: b"float"} and type(next(iter(reply))) is int  # 1 == True == 1.0
    assert parse_one(Reader, b"%2\r\n_\r\n:1\r\n$-1\r\n:2\r\n") == {None: 2}


@pytest.mark.parametrize(
    "data",
    [
        b"%1\r\n*0\r\n:1\r\n",
        b"%1\r\n%0\r\n:1\r\n",
        b"%1\r\n~1\r\n:1\r\n:1\r\n",
        b"%1\r\n>0\r\n:1\r\n",
        b"%2\r\n+ok\r\n:1\r\n*1\r\n:2\r\n*2\r\n:3\r\n:4\r\n",
        b"*2\r\n%1\r\n*0\r\n:1\r\n+x\r\n",
        b"%1\r\n|1\r\n+a\r\n+b\r\n*0\r\n:1\r\n",
    ],
)
def test_unhashable_map_key_raises_type_error_and_is_not_sticky(Reader, data):
    reader = new(Reader)
    reader.feed(data + b"+next\r\n")
    with pytest.raises(TypeError):
        reader.gets()
    assert reader.gets() == b"next"
    assert reader.len() == 0


def test_first_deferred_error_wins(Reader):
    # Errors are met in stream order; a map item is inserted when its value is done.
    reader = new(Reader, encoding="utf-8")
    reader.feed(b"%2\r\n*0\r\n:1\r\n+\xff\r\n:2\r\n")  # unhashable key first
    with pytest.raises(TypeError):
        reader.gets()
    reader.feed(b"%2\r\n+\xff\r\n:1\r\n*0\r\n:2\r\n")  # undecodable key first
    with pytest.raises(UnicodeDecodeError):
        reader.gets()
    reader.feed(b"%1\r\n*0\r\n+\xff\r\n")  # the value is built before the item is inserted
    with pytest.raises(UnicodeDecodeError):
        reader.gets()
    reader.feed(b"+ok\r\n")
    assert reader.gets() == "ok"


# ---------------------------------------------------------------- resources


def test_huge_declared_bulk_does_not_allocate(Reader):
    """A 400 MB bulk header followed by 3 bytes: memory follows the bytes received."""
    data = b"$400000000\r\nabc"
    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    tracemalloc.start()
    try:
        reader = new(Reader)
        reader.feed(data)
        assert reader.gets() is NED
        reader.feed(b"def")
        assert reader.gets() is NED
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # tracemalloc may not see the C reader's allocations: check what it buffers too.
    assert reader.len() == len(data) + 3
    assert reader.has_data()
    assert peak < 1024 * 1024, peak
    assert (rss_after - rss_before) * 1024 < 50 * 1024 * 1024


def test_huge_declared_counts_do_not_allocate(Reader):
    data = b"*4294967295\r\n%4294967295\r\n~4294967295\r\n>4294967295\r\n|4294967295\r\n:1\r\n"
    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        reader = new(Reader)
        reader.feed(data)
        assert reader.gets() is NED
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert reader.len() == len(data)
    assert peak < 1024 * 1024, peak
    assert (rss_after - rss_before) * 1024 < 50 * 1024 * 1024


def test_large_bulk_in_64k_chunks_is_linear(Reader):
    payload = bytes(range(256)) * (32 * 1024)  # 8 MiB
    data = b"$%d\r\n" % len(payload) + payload + b"\r\n"
    reader = new(Reader)
    start = time.perf_counter()
    for i in range(0, len(data), 65536):
        reader.feed(data[i : i + 65536])
        reply = reader.gets()
        if i + 65536 < len(data):
            assert reply is NED
    assert reply == payload
    assert time.perf_counter() - start < 5


def test_long_simple_string_in_small_chunks_is_linear(Reader):
    data = b"+" + b"x" * (2 * 1024 * 1024) + b"\r\n"
    reader = new(Reader)
    start = time.perf_counter()
    replies = []
    for i in range(0, len(data), 1024):
        reader.feed(data[i : i + 1024])
        replies += drain(reader)
    assert replies == [data[1:-2]]
    assert time.perf_counter() - start < 5


def test_large_array_in_chunks_is_linear(Reader):
    count = 200_000
    data = b"*%d\r\n" % count + b":1\r\n" * count
    reader = new(Reader)
    start = time.perf_counter()
    replies = []
    for i in range(0, len(data), 4096):
        reader.feed(data[i : i + 4096])
        replies += drain(reader)
    assert len(replies) == 1 and len(replies[0]) == count
    assert time.perf_counter() - start < 10


def test_many_small_replies_in_one_feed(Reader):
    count = 100_000
    reader = new(Reader)
    reader.feed(b"+a\r\n" * count + b"+b")
    start = time.perf_counter()
    assert len(drain(reader)) == count
    assert reader.len() == 2
    assert time.perf_counter() - start < 10


LEAK_CASES = {
    "simple": b"+OK\r\n",
    "error": b"-ERR some error\r\n",
    "integer": b":123456789\r\n",
    "bulk": b"$11\r\nhello world\r\n",
    "null bulk": b"$-1\r\n",
    "array": b"*3\r\n:1\r\n$1\r\na\r\n*1\r\n+b\r\n",
    "null": b"_\r\n",
    "double": b",3.14\r\n",
    "bool": b"#t\r\n",
    "blob error": b"!7\r\nERR bad\r\n",
    "verbatim": b"=9\r\ntxt:hello\r\n",
    "bignum": b"(123456789012345678901234567890\r\n",
    "map": b"%2\r\n+a\r\n:1\r\n+b\r\n*1\r\n:2\r\n",
    "repeated key": b"%2\r\n+a\r\n:1\r\n+a\r\n:2\r\n",
    "set": b"~2\r\n+a\r\n+b\r\n",
    "push": b">2\r\n+a\r\n+b\r\n",
    "attribute": b"|1\r\n+a\r\n*1\r\n+b\r\n:5\r\n",
}


def _leak_round(Reader, data, encoding, split):
    reader = new(Reader, encoding=encoding)
    if split:
        reader.feed(data, 0, len(data) // 2)
        reader.gets()
        reader.feed(data, len(data) // 2)
    else:
        reader.feed(data)
    try:
        reader.gets()
    except (ProtocolError, UnicodeDecodeError, TypeError):
        pass


def _assert_no_leak(run, rounds=20_000, bound=1000):
    for _ in range(1000):  # warm up caches and free lists
        run()
    gc.collect()
    before = sys.getallocatedblocks()
    for _ in range(rounds):
        run()
    gc.collect()
    grown = sys.getallocatedblocks() - before
    assert grown < bound, f"{grown} blocks more after {rounds} rounds"


@pytest.mark.parametrize("case", list(LEAK_CASES))
@pytest.mark.parametrize("encoding", [None, "utf-8"])
def test_no_reference_leaks(Reader, case, encoding):
    data = LEAK_CASES[case]
    _assert_no_leak(lambda: _leak_round(Reader, data, encoding, split=False))


@pytest.mark.parametrize(
    "data,encoding",
    [
        (b"*2\r\n$1\r\n\xff\r\n:1\r\n", "utf-8"),  # decode error
        (b"%1\r\n*1\r\n:1\r\n+v\r\n", None),  # unhashable key
        (b"*2\r\n:1\r\n:12x\r\n", None),  # protocol error
        (b"*3\r\n:1\r\n+abc\r\n$3\r\nabc\r\n", None),  # split feeds
    ],
    ids=["decode-error", "type-error", "protocol-error", "split"],
)
def test_no_reference_leaks_on_errors(Reader, data, encoding):
    _assert_no_leak(lambda: _leak_round(Reader, data, encoding, split=True))


def test_no_reference_leaks_one_reader(Reader):
    reader = new(Reader)
    data = b"".join(LEAK_CASES.values())
    count = len(LEAK_CASES)

    def run():
        reader.feed(data)
        for _ in range(count):
            reader.gets()

    _assert_no_leak(run, rounds=5000)


@pytest.mark.parametrize("encoding, expected", [(None, b"OK"), ("utf-8", "OK"), ("latin-1", "OK")])
def test_ok_status_in_every_form(Reader, encoding, expected):
    # +OK takes a shortcut in the C reader (no search, one shared bytes
    # object): same results as the general path, whole or in pieces.
    reader = new(Reader, encoding=encoding)
    reader.feed(b"+OK\r\n+OK\r\n+OKAY\r\n+OK\r")
    okay = b"OKAY" if encoding is None else "OKAY"
    assert [reader.gets() for _ in range(3)] == [expected, expected, okay]
    assert reader.gets() is NED
    reader.feed(b"\n")
    got = reader.gets()
    assert got == expected and type(got) is type(expected)
    assert reader.gets() is NED
