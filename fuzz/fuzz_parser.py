"""Fuzz target: the C RESP reader (``aioredis._core.Reader``).

Input: one option byte, then the bytes a server sent. The option byte picks
the encoding (none, utf-8 strict, utf-8 replace, latin-1) and a split
point (a fraction of the stream). Invariants:

* no crash (the extension is built with ASan+UBSan, see run.sh);
* ``gets()`` raises only ProtocolError (then again at every call: sticky),
  UnicodeDecodeError (an undecodable string) or TypeError (an unhashable
  RESP3 map key), and the reader goes on after the last two;
* fed in one piece, in two pieces split anywhere, or a byte at a time, the
  stream gives the same replies and errors, in the same order;
* the pure-Python PyReader, the reference, gives the same too.

Run through run.sh (``fuzz/run.sh parser 10m``); ``python fuzz/fuzz_parser.py
FILE`` under the same environment replays one input.
"""

import sys

import atheris

with atheris.instrument_imports(include=["aioredis"]):
    from aioredis._core import Reader
    from aioredis._pyreader import PyReader
    from aioredis.errors import ProtocolError, ReplyError

ENCODINGS = [(None, "strict"), ("utf-8", "strict"), ("utf-8", "replace"), ("latin-1", "strict")]
NED = object()  # notEnoughData: False is also a RESP3 reply (#f)
# Feeding a byte at a time costs a gets() per byte: only for short inputs.
BYTEWISE_MAX = 512


def outcome(reply):
    """A comparable form of one reply or exception (types kept)."""
    return repr(reply) if not isinstance(reply, BaseException) else f"{type(reply).__name__}{reply.args!r}"


def untext(o):
    return "ProtocolError" if o.startswith("ProtocolError(") else o


def drain(reader, out):
    """gets() until no complete reply is left; False after a ProtocolError."""
    while True:
        try:
            reply = reader.gets()
        except ProtocolError as exc:
            out.append(outcome(exc))
            # sticky: the reader stays broken
            try:
                reader.gets()
            except ProtocolError:
                return False
            raise AssertionError("gets() after a ProtocolError did not raise it again")
        except (UnicodeDecodeError, TypeError) as exc:
            out.append(outcome(exc))
            continue
        if reply is NED:
            return True
        out.append(outcome(reply))


def run(cls, pieces, encoding, errors):
    reader = cls(protocolError=ProtocolError, replyError=ReplyError, notEnoughData=NED,
                 encoding=encoding, errors=errors)
    out = []
    for piece in pieces:
        reader.feed(piece)
        if not drain(reader, out):
            break
    return out


def TestOneInput(data):
    if not data:
        return
    opt, stream = data[0], data[1:]
    encoding, errors = ENCODINGS[opt & 3]
    cut = len(stream) * (opt >> 2) // 63
    whole = run(Reader, [stream], encoding, errors)
    split = run(Reader, [stream[:cut], stream[cut:]], encoding, errors)
    assert whole == split, f"split at {cut}: {whole!r} != {split!r}"
    if len(stream) <= BYTEWISE_MAX:
        bytewise = run(Reader, [stream[i:i + 1] for i in range(len(stream))], encoding, errors)
        assert whole == bytewise, f"byte at a time: {whole!r} != {bytewise!r}"
    # The two readers word their ProtocolErrors differently: compare the type.
    reference = run(PyReader, [stream], encoding, errors)
    assert [untext(o) for o in whole] == [untext(o) for o in reference], f"C {whole!r} != PyReader {reference!r}"


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
