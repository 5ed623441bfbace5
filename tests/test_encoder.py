"""aioredis._core.pack_command: the RESP wire format of a command (no server).

The contract: ``pack_command(*args)`` returns the bytes of a RESP array of
bulk strings.  Accepted argument types: bytes, bytearray, memoryview, str
(UTF-8), int (decimal), float (``repr``); anything else -- None, bool, list,
dict, int subclasses, ... -- raises TypeError naming the argument's position
and type.

Subclasses of bytes/str/float are not pinned down by the contract: the tests
only require that they either raise TypeError or encode like their base value.
(The current implementation rejects them with TypeError, like int subclasses.)
"""

import array
import enum
import math
import re
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_core = pytest.importorskip("aioredis._core", reason="the C extension is not built (python setup.py build_ext --inplace)")
pack_command = _core.pack_command


def expected_arg(arg):
    """The bulk-string payload of one argument, computed independently."""
    if type(arg) in (bytes, bytearray):
        return bytes(arg)
    if type(arg) is memoryview:
        return arg.tobytes()
    if type(arg) is str:
        return arg.encode("utf-8")
    if type(arg) is int:
        return b"%d" % arg
    if type(arg) is float:
        return repr(arg).encode("ascii")
    raise AssertionError(f"no expectation for {type(arg)}")


def expected(*args):
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        payload = expected_arg(arg)
        out.append(b"$%d\r\n" % len(payload) + payload + b"\r\n")
    return b"".join(out)


# ---------------------------------------------------------------------------
# exact wire format
# ---------------------------------------------------------------------------


def test_no_arguments():
    # The implementation requires the command name (checked: it raises
    # TypeError "pack_command() needs at least the command name").
    with pytest.raises(TypeError):
        pack_command()


def test_returns_bytes():
    assert type(pack_command("PING")) is bytes
    assert pack_command("PING") == b"*1\r\n$4\r\nPING\r\n"
    assert pack_command(b"PING") == b"*1\r\n$4\r\nPING\r\n"
    assert pack_command(bytearray(b"PING")) == b"*1\r\n$4\r\nPING\r\n"


def test_mixed_argument_types_exact_bytes():
    got = pack_command("SET", b"k", "v", 1, -2, 1.5, bytearray(b"x"), memoryview(b"y"))
    assert got == (
        b"*8\r\n"
        b"$3\r\nSET\r\n"
        b"$1\r\nk\r\n"
        b"$1\r\nv\r\n"
        b"$1\r\n1\r\n"
        b"$2\r\n-2\r\n"
        b"$3\r\n1.5\r\n"
        b"$1\r\nx\r\n"
        b"$1\r\ny\r\n"
    )


def test_empty_values():
    assert pack_command("SET", b"", "") == b"*3\r\n$3\r\nSET\r\n$0\r\n\r\n$0\r\n\r\n"
    assert pack_command("X", bytearray(), memoryview(b"")) == b"*3\r\n$1\r\nX\r\n$0\r\n\r\n$0\r\n\r\n"


def test_binary_safe():
    value = b"\x00\r\n$3\r\n*1\r\n\xff\x80"
    assert pack_command("SET", "k", value) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n%s\r\n" % (len(value), value)


def test_str_is_utf8():
    assert pack_command("ECHO", "héllo €") == b"*2\r\n$4\r\nECHO\r\n$10\r\nh\xc3\xa9llo \xe2\x82\xac\r\n"
    assert pack_command("ECHO", "\U0001f600") == b"*2\r\n$4\r\nECHO\r\n$4\r\n\xf0\x9f\x98\x80\r\n"


def test_unencodable_str():
    # A lone surrogate cannot be UTF-8 encoded: an exception, not garbage.
    with pytest.raises(UnicodeEncodeError):
        pack_command("ECHO", "\ud800")


@pytest.mark.parametrize(
    "value, text",
    [
        (0, b"0"),
        (-1, b"-1"),
        (2**31, b"2147483648"),
        (2**63 - 1, b"9223372036854775807"),
        (2**63, b"9223372036854775808"),
        (-(2**63), b"-9223372036854775808"),
        (-(2**63) - 1, b"-9223372036854775809"),
        (2**64, b"18446744073709551616"),
        (2**200, str(2**200).encode()),
        (-(10**100), b"-1" + b"0" * 100),
        (10**4000, b"1" + b"0" * 4000),
    ],
)
def test_ints(value, text):
    assert pack_command("SET", "k", value) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n%s\r\n" % (len(text), text)


@pytest.mark.parametrize(
    "value, text",
    [
        (1.0, b"1.0"),
        (1.5, b"1.5"),
        (-0.0, b"-0.0"),
        (0.1, b"0.1"),
        (1e20, b"1e+20"),
        (1e-7, b"1e-07"),
        (1 / 3, b"0.3333333333333333"),
        (math.inf, b"inf"),
        (-math.inf, b"-inf"),
        (math.nan, b"nan"),
        (sys.float_info.max, repr(sys.float_info.max).encode()),
    ],
)
def test_floats_use_repr(value, text):
    assert pack_command("ECHO", value) == b"*2\r\n$4\r\nECHO\r\n$%d\r\n%s\r\n" % (len(text), text)


def test_memoryview_slice():
    data = memoryview(b"abcdef")[1:4]
    assert pack_command("ECHO", data) == b"*2\r\n$4\r\nECHO\r\n$3\r\nbcd\r\n"


def test_memoryview_of_bytearray_reflects_content():
    buf = bytearray(b"abc")
    view = memoryview(buf)
    buf[0] = ord("z")
    assert pack_command("ECHO", view) == b"*2\r\n$4\r\nECHO\r\n$3\r\nzbc\r\n"
    view.release()


def test_non_contiguous_memoryview():
    # Not pinned by the contract: either an error or the logical bytes.
    view = memoryview(b"abcdef")[::2]
    try:
        got = pack_command("ECHO", view)
    except (TypeError, ValueError, BufferError):
        return
    assert got == b"*2\r\n$4\r\nECHO\r\n$3\r\nace\r\n"


def test_multibyte_memoryview_counts_bytes():
    # The bulk length must be in bytes, not items, if such views are accepted.
    view = memoryview(array.array("i", [1, 2]))
    try:
        got = pack_command("ECHO", view)
    except (TypeError, ValueError, BufferError):
        return
    raw = view.tobytes()
    assert got == b"*2\r\n$4\r\nECHO\r\n$%d\r\n%s\r\n" % (len(raw), raw)


def test_large_argument():
    value = b"x" * (5 * 1024 * 1024)
    got = pack_command("SET", "big", value)
    assert got == b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$5242880\r\n" + value + b"\r\n"


def test_many_arguments():
    args = ["RPUSH", "k"] + list(range(10000))
    assert pack_command(*args) == expected(*args)


# ---------------------------------------------------------------------------
# type errors
# ---------------------------------------------------------------------------


class MyInt(int):
    pass


class Color(enum.IntEnum):
    RED = 1


class Obj:
    pass


@pytest.mark.parametrize(
    "bad, type_name",
    [
        (None, "NoneType"),
        (True, "bool"),
        (False, "bool"),
        ([b"a"], "list"),
        ({"a": 1}, "dict"),
        ((1, 2), "tuple"),
        ({1}, "set"),
        (object(), "object"),
        (Obj(), "Obj"),
        (MyInt(5), "MyInt"),
        (Color.RED, "Color"),
        (1 + 2j, "complex"),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, str) else v,
)
def test_type_error_names_type_and_position(bad, type_name):
    with pytest.raises(TypeError) as info:
        pack_command("SET", "key", bad)
    msg = str(info.value)
    type_short = "None" if type_name == "NoneType" else type_name
    assert type_short in msg, msg
    assert re.search(r"\d", msg), f"no argument position in {msg!r}"

    # The same bad value at another position gives a different position.
    with pytest.raises(TypeError) as info2:
        pack_command("SET", bad, "value", "x")
    assert type_short in str(info2.value)
    assert str(info2.value) != msg, "the message does not tell the two positions apart"


def test_bad_command_name():
    with pytest.raises(TypeError) as info:
        pack_command(None, "x")
    assert "None" in str(info.value)
    with pytest.raises(TypeError):
        pack_command(1.5j)


def test_type_error_position_is_first_bad_argument():
    # Messages for positions 1..5 are pairwise distinct.
    messages = set()
    for pos in range(1, 6):
        args = ["CMD", "a", "b", "c", "d", "e"]
        args[pos] = None
        with pytest.raises(TypeError) as info:
            pack_command(*args)
        messages.add(str(info.value))
    assert len(messages) == 5, messages


class MyBytes(bytes):
    pass


class MyStr(str):
    pass


class MyFloat(float):
    pass


@pytest.mark.parametrize("value", [MyBytes(b"ab"), MyStr("ab"), MyFloat(2.5)], ids=lambda v: type(v).__name__)
def test_subclasses_not_pinned(value):
    """bytes/str/float subclasses: TypeError or the base value's encoding; nothing else."""
    try:
        got = pack_command("ECHO", value)
    except TypeError as exc:
        assert type(value).__name__ in str(exc)
        return
    base = {MyBytes: bytes, MyStr: str, MyFloat: float}[type(value)](value)
    assert got == expected("ECHO", base)


class StrWithBadEncode(str):
    def encode(self, *a, **k):  # pragma: no cover - must not be called or must not matter
        raise RuntimeError("subclass encode() called")


def test_str_subclass_encode_override_is_harmless():
    try:
        got = pack_command("ECHO", StrWithBadEncode("ab"))
    except (TypeError, RuntimeError):
        return
    assert got == expected("ECHO", "ab")


# ---------------------------------------------------------------------------
# randomized cross-check
# ---------------------------------------------------------------------------

arg_strategy = st.one_of(
    st.binary(max_size=64),
    st.binary(max_size=64).map(bytearray),
    st.binary(max_size=64).map(memoryview),
    st.text(max_size=32).filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s)),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(arg_strategy, min_size=1, max_size=12))
def test_matches_reference_encoder(args):
    assert pack_command(*args) == expected(*args)


def test_cross_check_with_redis_py():
    """A fixed random sample checked against redis-py's own serializer."""
    rc = pytest.importorskip("redis.connection")
    try:
        from redis._parsers.encoders import Encoder
    except ImportError:  # older redis-py
        Encoder = rc.Encoder
    serializer = rc.PythonRespSerializer(6000, Encoder("utf-8", "strict", False).encode)

    import random

    rnd = random.Random(1234)

    def rand_arg():
        kind = rnd.randrange(5)
        if kind == 0:
            return bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(40)))
        if kind == 1:
            return "".join(chr(rnd.choice([rnd.randrange(32, 127), rnd.randrange(0xA0, 0xD7FF)])) for _ in range(rnd.randrange(20)))
        if kind == 2:
            return rnd.randrange(-(2**80), 2**80)
        if kind == 3:
            return rnd.uniform(-1e30, 1e30) * rnd.choice([1, 1e-40, 1e200])
        return memoryview(bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(40))))

    for _ in range(500):
        args = [b"CMD"] + [rand_arg() for _ in range(rnd.randrange(0, 10))]
        theirs = b"".join(bytes(chunk) for chunk in serializer.pack(*args))
        assert pack_command(*args) == theirs, args
