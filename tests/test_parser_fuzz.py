"""Property tests of the RESP readers: generated replies, random chunking, garbage.

Random reply trees of every RESP2/RESP3 type are serialised, cut into random
chunks and fed to ``Reader`` (C), ``PyReader`` (pure Python) and, for the
subset it handles the same way, ``hiredis.Reader``; all must give the
expected values.  Random and mutated byte streams must give only valid
replies or ProtocolError (UnicodeDecodeError / TypeError for undecodable
strings and unhashable map keys), never crash, and the C and Python readers
must agree exactly.

hiredis differs from us by design (each difference has a test at the end):

* big numbers ``(``: hiredis returns the digits as bytes, we return an int;
* attributes ``|``: hiredis returns the attribute (as a flat list) as a reply
  of its own, or as an element inside an aggregate; we discard it;
* blob errors ``!``: hiredis does not know the type (ProtocolError);
* huge counts: hiredis preallocates a list of the declared size (memory grows
  with the declared count; ``*4294967295`` gave a MemoryError here), we never
  preallocate; the count limit itself (2**32-1) is the same; bulk lengths over
  512 MiB are fine for hiredis, an error for us;
* unhashable map keys: hiredis raises TypeError and is then broken (sticky
  ProtocolError), we raise TypeError and go on with the next reply;
* pushes ``>``: hiredis returns a ``hiredis.PushNotification`` (a list
  subclass), we return a plain list;
* repeated map keys: we keep the last value; hiredis 3.5 gets it right only
  when the repeated key is the last one inserted, otherwise it stores values
  under the wrong keys (``%3 a:1 b:2 a:3`` gives ``{a: None, b: 3}``);
* stricter/other number syntax in hiredis: no leading zeros or ``-0`` in
  integers and lengths, doubles via strtod (``Inf``/``NaN``/``-nan`` accepted,
  overflow/underflow and a leading ``+`` rejected); no CR/LF in simple lines;
  the verbatim format must end in ``:``;
* laxer elsewhere: hiredis does not check the CRLF after a bulk payload and
  accepts ``|-1`` (a null) — both protocol errors for us;
* a bug: for a verbatim string hiredis-py reads 4 bytes past the payload
  (``memmove(str, str + 4, len)`` in its createStringObject), beyond the
  reply when it ends the buffer: AddressSanitizer reports it (it failed the
  CI's sanitizer run once).

So the hiredis comparison uses canonical integers and ``repr()`` doubles,
no bignums, attributes, blob errors, verbatim strings (only their null form),
CR/LF in simple lines, unhashable or repeated map keys, and only replies
that decode without error; pushes are compared as lists.
"""

import contextlib
import math
import sys
import tracemalloc

import hiredis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from helpers import NED, load_c_reader, load_py_reader, same

from aioredis.errors import ProtocolError, ReplyError

SETTINGS = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

CRLF = b"\r\n"


def hiredis_reader(**kwargs):
    return hiredis.Reader(protocolError=ProtocolError, replyError=ReplyError, notEnoughData=NED, **kwargs)


# ---------------------------------------------------------------- reply trees
#
# A node is a tuple (kind, ...); encode() gives its bytes, expect() its value
# (raising the first UnicodeDecodeError/TypeError, in stream order, as the
# readers do), hiredis_ok() whether hiredis handles it like us.

AGGREGATES = {"array": b"*", "set": b"~", "push": b">"}


def encode(node):
    kind = node[0]
    if kind in ("simple", "error"):
        return (b"+" if kind == "simple" else b"-") + node[1] + CRLF
    if kind in ("int", "double", "bignum"):
        return {"int": b":", "double": b",", "bignum": b"("}[kind] + node[1] + CRLF
    if kind in ("bulk", "blob_error"):
        payload = node[1]
        head = b"$" if kind == "bulk" else b"!"
        if payload is None:
            return head + b"-1\r\n"
        return head + b"%d\r\n" % len(payload) + payload + CRLF
    if kind == "verbatim":
        if node[2] is None:
            return b"=-1\r\n"
        payload = node[1] + node[2]
        return b"=%d\r\n" % len(payload) + payload + CRLF
    if kind == "null":
        return b"_\r\n"
    if kind == "bool":
        return b"#t\r\n" if node[1] else b"#f\r\n"
    if kind in AGGREGATES:
        if node[1] is None:
            return AGGREGATES[kind] + b"-1\r\n"
        return AGGREGATES[kind] + b"%d\r\n" % len(node[1]) + b"".join(map(encode, node[1]))
    if kind == "map":
        if node[1] is None:
            return b"%-1\r\n"
        return b"%%%d\r\n" % len(node[1]) + b"".join(encode(k) + encode(v) for k, v in node[1])
    if kind == "attr":
        pairs, target = node[1], node[2]
        return b"|%d\r\n" % len(pairs) + b"".join(encode(k) + encode(v) for k, v in pairs) + encode(target)
    raise AssertionError(kind)


def expect(node, encoding):
    kind = node[0]

    def string(raw):
        return raw if encoding is None else raw.decode(encoding)

    if kind == "simple":
        return string(node[1])
    if kind == "error":
        return ReplyError(node[1].decode("utf-8", "replace"))
    if kind == "int" or kind == "bignum":
        return int(node[1])
    if kind == "double":
        return float(node[1])
    if kind == "bulk":
        return None if node[1] is None else string(node[1])
    if kind == "blob_error":
        return None if node[1] is None else ReplyError(node[1].decode("utf-8", "replace"))
    if kind == "verbatim":
        return None if node[2] is None else string(node[2])
    if kind == "null":
        return None
    if kind == "bool":
        return node[1]
    if kind in AGGREGATES:
        return None if node[1] is None else [expect(child, encoding) for child in node[1]]
    if kind == "map":
        if node[1] is None:
            return None
        result = {}
        for k, v in node[1]:
            key = expect(k, encoding)
            result[key] = expect(v, encoding)  # value first, then the insert
        return result
    if kind == "attr":
        return expect(node[2], encoding)  # the attribute itself is never built
    raise AssertionError(kind)


def outcome(node, encoding):
    """What gets() gives for the node: ("value", v) or (exception name,)."""
    try:
        return ("value", expect(node, encoding))
    except (UnicodeDecodeError, TypeError) as exc:
        return (type(exc).__name__,)


def depth(node):
    kind = node[0]
    if kind in AGGREGATES or kind == "map":
        if node[1] is None:
            return 0
        children = node[1] if kind in AGGREGATES else [x for pair in node[1] for x in pair]
        return 1 + max(map(depth, children), default=0)
    if kind == "attr":
        return max(1 + max((depth(x) for pair in node[1] for x in pair), default=0), depth(node[2]))
    return 0


def hiredis_ok(node):
    kind = node[0]
    if kind in ("bignum", "blob_error", "attr"):
        return False
    if kind in ("simple", "error"):
        return b"\r" not in node[1] and b"\n" not in node[1]
    if kind == "int":
        return node[1] == str(int(node[1])).encode()
    if kind == "double":
        return node[1] == repr(float(node[1])).encode()
    if kind == "verbatim":
        return node[2] is None  # hiredis over-reads a payload (see the top)
    if kind in AGGREGATES:
        return node[1] is None or all(map(hiredis_ok, node[1]))
    if kind == "map":
        if node[1] is None:
            return True
        distinct_keys = len({expect(k, None) for k, _ in node[1]}) == len(node[1])
        return distinct_keys and all(hiredis_ok(k) and hiredis_ok(v) for k, v in node[1])
    return True


# Strings: text (valid UTF-8) or any bytes; lines must not contain CRLF.
texts = st.text(max_size=12).map(lambda s: s.encode("utf-8"))
blobs = st.one_of(texts, st.binary(max_size=12), st.binary(max_size=300))
line_strings = st.one_of(texts, st.binary(max_size=12)).filter(lambda b: CRLF not in b)

int_texts = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(lambda n: str(n).encode()),
    st.builds(
        lambda n, zeros: (b"-" if n < 0 else b"") + b"0" * zeros + str(abs(n)).encode(),
        st.integers(-(2**63) + 1, 2**63 - 1),
        st.integers(0, 5),
    ),
    st.just(b"-0"),
    # padded with zeros to the longest header line allowed, 64 bytes
    st.integers(-(2**63) + 1, 2**63 - 1).map(
        lambda n: (b"-" if n < 0 else b"") + str(abs(n)).encode().rjust(64 - (n < 0), b"0")
    ),
)
double_texts = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: repr(f).encode()),
    st.sampled_from([b"1.", b".5", b"+1.5", b"1E3", b"-0.0", b"00012.50", b"1e500", b"-1e500", b"1e-400", b"+.5e-3",
                     b"0", b"-7"]),
)
bignum_texts = st.one_of(
    st.integers(-(10**60), 10**60).map(lambda n: str(n).encode()),
    st.builds(lambda n, zeros: b"0" * zeros + str(n).encode(), st.integers(0, 10**40), st.integers(1, 3)),
    st.integers(-(10**62), 10**62).map(
        lambda n: (b"-" if n < 0 else b"") + str(abs(n)).encode().rjust(64 - (n < 0), b"0")
    ),
)
verbatim_formats = st.one_of(st.sampled_from([b"txt:", b"mkd:"]), st.binary(min_size=4, max_size=4))


def scalars(line, blob, for_hiredis=False):
    if for_hiredis:  # canonical numbers, no verbatim payload, no bignum or blob error
        return st.one_of(
            st.tuples(st.just("simple"), line),
            st.tuples(st.just("error"), line),
            st.tuples(st.just("int"), st.integers(-(2**63), 2**63 - 1).map(lambda n: str(n).encode())),
            st.tuples(st.just("bulk"), st.one_of(st.none(), blob)),
            st.tuples(st.just("null")),
            st.tuples(st.just("double"), st.floats().map(lambda f: repr(f).encode())),
            st.tuples(st.just("bool"), st.booleans()),
            st.tuples(st.just("verbatim"), st.sampled_from([b"txt:", b"mkd:"]), st.none()),
        )
    return st.one_of(
        st.tuples(st.just("simple"), line),
        st.tuples(st.just("error"), line),
        st.tuples(st.just("int"), int_texts),
        st.tuples(st.just("bulk"), st.one_of(st.none(), blob)),
        st.tuples(st.just("null")),
        st.tuples(st.just("double"), double_texts),
        st.tuples(st.just("bool"), st.booleans()),
        st.tuples(st.just("blob_error"), st.one_of(st.none(), blob)),
        st.tuples(st.just("verbatim"), verbatim_formats, st.one_of(st.none(), blob)),
        st.tuples(st.just("bignum"), bignum_texts),
    )


def trees(line=line_strings, blob=blobs, for_hiredis=False):
    """Reply trees; map keys are hashable scalars, or (not for hiredis) any tree."""
    # No nan keys (nan != nan) and no error keys (compared by identity in a dict).
    keys = scalars(line, blob, for_hiredis).filter(
        lambda n: n[0] not in ("error", "blob_error") and not (n[0] == "double" and math.isnan(float(n[1])))
    )

    def extend(children):
        key = keys if for_hiredis else st.one_of(keys, keys, children)
        pairs = st.lists(st.tuples(key, children), max_size=4)
        aggregate = st.one_of(
            st.tuples(st.sampled_from(sorted(AGGREGATES)), st.one_of(st.none(), st.lists(children, max_size=5))),
            st.tuples(st.just("map"), st.one_of(st.none(), pairs)),
        )
        if for_hiredis:
            return aggregate
        # attributes hold anything: they are never built
        attribute = st.tuples(st.just("attr"), st.lists(st.tuples(children, children), max_size=2), children)
        return st.one_of(aggregate, aggregate, attribute)

    return st.recursive(scalars(line, blob, for_hiredis), extend, max_leaves=12)


def hiredis_trees():
    """Trees hiredis parses as we do (see the module docstring), with valid UTF-8 strings."""
    line = texts.filter(lambda b: b"\r" not in b and b"\n" not in b)
    return trees(line=line, blob=texts, for_hiredis=True).filter(lambda n: depth(n) <= 6 and hiredis_ok(n))


# ---------------------------------------------------------------- feeding


def chunked(data, cuts):
    cuts = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0] + cuts + [len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


def run(reader, chunks):
    """Feed the chunks, calling gets() after each until it has nothing more.

    Returns the list of outcomes -- ("value", reply) or (exception name,) --
    ending with ("ProtocolError",) if the stream broke, and reader.len()
    (None once broken: it then depends on how much was fed).
    """
    out = []
    for chunk in chunks:
        reader.feed(chunk)
        while True:
            try:
                reply = reader.gets()
            except ProtocolError:
                out.append(("ProtocolError",))
                # sticky: a second call fails the same way
                try:
                    reader.gets()
                except ProtocolError:
                    pass
                else:
                    raise AssertionError("protocol error is not sticky")
                return out, None
            except (UnicodeDecodeError, TypeError) as exc:
                out.append((type(exc).__name__,))
                continue
            if reply is NED:
                break
            out.append(("value", reply))
    return out, reader.len()


def from_hiredis(value):
    """hiredis.PushNotification (a list subclass) as a plain list, recursively."""
    if isinstance(value, list):
        return [from_hiredis(x) for x in value]
    if isinstance(value, tuple):
        return tuple(from_hiredis(x) for x in value)
    if isinstance(value, dict):
        return {from_hiredis(k): from_hiredis(v) for k, v in value.items()}
    return value


def assert_outcomes(actual, expected, data):
    assert same(actual, expected), f"stream {data!r}:\n  got      {actual!r}\n  expected {expected!r}"


# ---------------------------------------------------------------- properties


@SETTINGS
@given(
    nodes=st.lists(trees(), min_size=1, max_size=4),
    encoding=st.sampled_from([None, "utf-8"]),
    cuts=st.lists(st.integers(min_value=0), max_size=8),
)
def test_trees_any_chunking(nodes, encoding, cuts):
    data = b"".join(map(encode, nodes))
    expected = [outcome(node, encoding) for node in nodes]
    chunks = chunked(data, cuts)
    for Reader in _readers():
        actual, left = run(Reader(encoding=encoding, notEnoughData=NED), chunks)
        assert_outcomes(actual, expected, data)
        assert left == 0


@SETTINGS
@given(node=trees(), encoding=st.sampled_from([None, "utf-8"]))
def test_trees_one_byte_at_a_time(node, encoding):
    data = encode(node)
    chunks = [data[i : i + 1] for i in range(len(data))]
    for Reader in _readers():
        actual, left = run(Reader(encoding=encoding, notEnoughData=NED), chunks)
        assert_outcomes(actual, [outcome(node, encoding)], data)
        assert left == 0


@SETTINGS
@given(
    nodes=st.lists(hiredis_trees(), min_size=1, max_size=4),
    encoding=st.sampled_from([None, "utf-8"]),
    cuts=st.lists(st.integers(min_value=0), max_size=8),
)
def test_trees_match_hiredis(nodes, encoding, cuts):
    data = b"".join(map(encode, nodes))
    expected = [outcome(node, encoding) for node in nodes]
    assert all(o[0] == "value" for o in expected)
    assert all(map(hiredis_ok, nodes))
    chunks = chunked(data, cuts)
    hiredis_actual, _ = run(hiredis_reader(encoding=encoding), chunks)
    hiredis_actual = from_hiredis(hiredis_actual)
    assert_outcomes(hiredis_actual, expected, data)
    for Reader in _readers():
        actual, left = run(Reader(encoding=encoding, notEnoughData=NED), chunks)
        assert_outcomes(actual, hiredis_actual, data)
        assert left == 0


def _readers():
    readers = [load_py_reader()]
    try:
        readers.append(load_c_reader())
    except pytest.skip.Exception:
        pass  # not built: the Python reader alone
    return readers


def _differential(data, cuts, encoding):
    """C and Python readers on the same garbage: same outcomes, whatever the chunking."""
    with _recursion_limit(5000):  # comparing replies nested 1024 deep
        _differential_inner(data, cuts, encoding)


@contextlib.contextmanager
def _recursion_limit(limit):
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def _differential_inner(data, cuts, encoding):
    chunks = chunked(data, cuts)
    Py = load_py_reader()
    reference = run(Py(encoding=encoding, notEnoughData=NED), [data])
    assert same(run(Py(encoding=encoding, notEnoughData=NED), chunks), reference), data
    for kind, *_ in reference[0]:
        assert kind in ("value", "ProtocolError", "UnicodeDecodeError", "TypeError")
    try:
        C = load_c_reader()
    except pytest.skip.Exception:
        return
    c_whole = run(C(encoding=encoding, notEnoughData=NED), [data])
    assert same(c_whole, reference), (
        f"C and Python readers disagree on {data!r}:\n  C  {c_whole!r}\n  Py {reference!r}"
    )
    c_chunked = run(C(encoding=encoding, notEnoughData=NED), chunks)
    assert same(c_chunked, reference), (
        f"C reader depends on chunking {chunks!r}:\n  C  {c_chunked!r}\n  Py {reference!r}"
    )


# RESP-looking fragments, so that random streams get past the first byte.
TOKENS = [b"+", b"-", b":", b"$", b"*", b"_", b",", b"#", b"!", b"=", b"(", b"%", b"~", b">", b"|", CRLF, b"\r", b"\n",
          b"0", b"1", b"-1", b"2", b"3", b"4", b"10", b"t", b"f", b"txt:", b"ok", b"\xff", b"\xc3\xa9", b"inf", b"nan",
          b".5", b"e", b"9223372036854775808", b"4294967296", b"536870913", b"0" * 31,  # long header lines
          b"*1\r\n" * 256]  # deep nesting: four of these pass the limit of 1024
soups = st.lists(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=3)), max_size=50).map(b"".join)


@SETTINGS
@given(data=st.one_of(st.binary(max_size=200), soups), cuts=st.lists(st.integers(min_value=0), max_size=6),
       encoding=st.sampled_from([None, "utf-8"]))
def test_random_bytes(data, cuts, encoding):
    _differential(data, cuts, encoding)


def mutate(data, ops):
    data = bytearray(data)
    for op, where, value in ops:
        where = where % (len(data) + 1)
        if op == "flip" and where < len(data):
            data[where] = value[0] if value else data[where] ^ 0x01
        elif op == "insert":
            data[where:where] = value
        elif op == "delete":
            del data[where : where + 1 + len(value)]
        elif op == "duplicate":
            data[where:where] = data[where : where + 1 + len(value) * 3]
    return bytes(data)


mutations = st.lists(
    st.tuples(
        st.sampled_from(["flip", "insert", "delete", "duplicate"]),
        st.integers(min_value=0),
        st.one_of(st.binary(max_size=3), st.sampled_from(TOKENS)),
    ),
    min_size=1,
    max_size=4,
)


@SETTINGS
@given(
    nodes=st.lists(trees(), min_size=1, max_size=3),
    ops=mutations,
    cuts=st.lists(st.integers(min_value=0), max_size=6),
    encoding=st.sampled_from([None, "utf-8"]),
)
def test_mutated_streams(nodes, ops, cuts, encoding):
    _differential(mutate(b"".join(map(encode, nodes)), ops), cuts, encoding)


# ---------------------------------------------------------------- hiredis differences, one by one


def parse_all(reader, data):
    reader.feed(data)
    out = []
    for _ in range(10):
        try:
            reply = reader.gets()
        except Exception as exc:  # noqa: BLE001 - recording what hiredis does
            out.append(type(exc))
            continue
        if reply is NED:
            break
        out.append(reply)
    return out


def ours(Reader, data, **kwargs):
    return parse_all(Reader(notEnoughData=NED, **kwargs), data)


def test_hiredis_bignum_is_bytes(Reader):
    data = b"(3492890328409238509324850943850943825024385\r\n"
    assert parse_all(hiredis_reader(), data) == [b"3492890328409238509324850943850943825024385"]
    assert ours(Reader, data) == [3492890328409238509324850943850943825024385]


def test_hiredis_returns_attributes(Reader):
    data = b"|1\r\n+key\r\n+value\r\n:5\r\n"
    assert parse_all(hiredis_reader(), data) == [[b"key", b"value"], 5]  # a reply of its own
    assert ours(Reader, data) == [5]
    nested = b"*2\r\n|1\r\n+key\r\n+value\r\n:5\r\n:6\r\n"
    assert parse_all(hiredis_reader(), nested) == [[[b"key", b"value"], 5], 6]  # an element: out of step
    assert ours(Reader, nested) == [[5, 6]]


def test_hiredis_has_no_blob_errors(Reader):
    data = b"!21\r\nSYNTAX invalid syntax\r\n"
    assert parse_all(hiredis_reader(), data)[0] is ProtocolError
    [reply] = ours(Reader, data)
    assert type(reply) is ReplyError and reply.args == ("SYNTAX invalid syntax",)


def test_hiredis_push_is_a_list_subclass(Reader):
    data = b">2\r\n+message\r\n*1\r\n>0\r\n"
    [reply] = parse_all(hiredis_reader(), data)
    assert type(reply) is hiredis.PushNotification and isinstance(reply, list)
    assert type(reply[1][0]) is hiredis.PushNotification
    [reply] = ours(Reader, data)
    assert type(reply) is list and reply == [b"message", [[]]] and type(reply[1][0]) is list


def test_hiredis_repeated_map_keys(Reader):
    # Fine when the repeated key is the last one inserted...
    data = b"%2\r\n+a\r\n:1\r\n+a\r\n:2\r\n"
    assert parse_all(hiredis_reader(), data) == [{b"a": 2}]
    assert ours(Reader, data) == [{b"a": 2}]
    # ...otherwise hiredis puts the values in the wrong places.
    data = b"%3\r\n+a\r\n:1\r\n+b\r\n:2\r\n+a\r\n:3\r\n"
    assert parse_all(hiredis_reader(), data) == [{b"a": None, b"b": 3}]
    assert ours(Reader, data) == [{b"a": 3, b"b": 2}]


def test_hiredis_preallocates_declared_counts(Reader):
    data = b"*10000000\r\n:1\r\n"  # declares 10 million elements, sends one
    tracemalloc.start()
    try:
        parse_all(hiredis_reader(), data)
        _, hiredis_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        reader = Reader(notEnoughData=NED)
        assert parse_all(reader, data) == []
        _, our_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert hiredis_peak > 50 * 1024 * 1024  # a list of 10M slots, up front
    assert our_peak < 1024 * 1024
    assert reader.len() == len(data)


def test_hiredis_count_limits_same_as_ours(Reader):
    data = b"%4294967295\r\n"  # maps are not preallocated by hiredis
    assert parse_all(hiredis_reader(), data) == []
    assert ours(Reader, data) == []
    data = b"*4294967296\r\n"
    assert parse_all(hiredis_reader(), data)[0] is ProtocolError
    assert ours(Reader, data)[0] is ProtocolError


def test_hiredis_has_no_bulk_length_limit(Reader):
    data = b"$536870913\r\n"  # 512 MiB + 1
    assert parse_all(hiredis_reader(), data) == []
    assert ours(Reader, data)[0] is ProtocolError


def test_hiredis_unhashable_key_breaks_the_reader(Reader):
    data = b"%1\r\n*0\r\n:1\r\n+next\r\n"
    assert parse_all(hiredis_reader(), data)[:2] == [TypeError, ProtocolError]
    assert ours(Reader, data) == [TypeError, b"next"]


@pytest.mark.parametrize("data,value", [(b":007\r\n", 7), (b":-0\r\n", 0), (b"$03\r\nabc\r\n", b"abc"),
                                        (b"*01\r\n:1\r\n", [1])])
def test_hiredis_rejects_leading_zeros(Reader, data, value):
    assert parse_all(hiredis_reader(), data)[0] is ProtocolError
    assert ours(Reader, data) == [value]


@pytest.mark.parametrize("text", [b"Inf", b"NaN", b"-nan"])
def test_hiredis_double_spellings_we_reject(Reader, text):
    data = b"," + text + CRLF
    assert isinstance(parse_all(hiredis_reader(), data)[0], float)
    assert ours(Reader, data)[0] is ProtocolError


@pytest.mark.parametrize("text,value", [(b"1e500", math.inf), (b"1e-400", 0.0), (b"+1", 1.0)])
def test_hiredis_rejects_doubles_we_accept(Reader, text, value):
    data = b"," + text + CRLF
    assert parse_all(hiredis_reader(), data)[0] is ProtocolError
    assert ours(Reader, data) == [value]


@pytest.mark.parametrize("data", [b"+a\rb\r\n", b"+a\nb\r\n", b"-ERR a\rb\r\n"])
def test_hiredis_rejects_cr_lf_in_lines(Reader, data):
    assert parse_all(hiredis_reader(), data)[0] is ProtocolError
    [reply] = ours(Reader, data)
    assert (reply if isinstance(reply, bytes) else reply.args[0].encode()) in data


def test_hiredis_verbatim_format_must_end_in_colon(Reader):
    data = b"=8\r\ntxtXabcd\r\n"
    assert parse_all(hiredis_reader(), data)[0] is ProtocolError
    assert ours(Reader, data) == [b"abcd"]


def test_hiredis_does_not_check_bulk_crlf(Reader):
    data = b"$3\r\nabcXY"
    assert parse_all(hiredis_reader(), data) == [b"abc"]
    assert ours(Reader, data)[0] is ProtocolError


def test_hiredis_accepts_null_attribute(Reader):
    data = b"|-1\r\n:1\r\n"
    assert parse_all(hiredis_reader(), data) == [None, 1]
    assert ours(Reader, data)[0] is ProtocolError


def test_hiredis_has_no_header_line_limit(Reader):
    data = b"(" + b"1" * 70 + CRLF
    assert parse_all(hiredis_reader(), data) == [b"1" * 70]
    assert ours(Reader, data)[0] is ProtocolError
