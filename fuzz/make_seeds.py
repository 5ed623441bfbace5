"""Writes the seed corpora fuzz/corpus/parser and fuzz/corpus/protocol.

    python fuzz/make_seeds.py

Each seed is a small valid (or nearly valid) input of the kind the target
reads, so the fuzzer starts from every reply type and every opcode instead
of having to find them. See fuzz_parser.py / fuzz_protocol.py for the formats.
"""

import hashlib
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def bulk(b):
    return b"$%d\r\n%s\r\n" % (len(b), b)


REPLIES = [
    b"+OK\r\n",
    b"-ERR wrong\r\n",
    b":123\r\n:-0\r\n",
    bulk(b"hello") + b"$-1\r\n$0\r\n\r\n",
    b"*2\r\n" + bulk(b"a") + b":1\r\n*-1\r\n*0\r\n",
    b"*2\r\n*1\r\n+x\r\n*1\r\n*1\r\n:5\r\n",
    b"_\r\n#t\r\n#f\r\n,1.5\r\n,inf\r\n,-inf\r\n,nan\r\n(12345678901234567890\r\n",
    b"%2\r\n+a\r\n:1\r\n+b\r\n*1\r\n:2\r\n",
    b"%1\r\n*1\r\n:1\r\n:2\r\n",  # unhashable key
    b"~2\r\n+a\r\n+b\r\n>3\r\n" + bulk(b"message") + bulk(b"ch") + bulk(b"m"),
    b"|1\r\n+key\r\n+val\r\n+after-attr\r\n",
    b"=8\r\ntxt:abcd\r\n!5\r\nERR x\r\n!-1\r\n",
    bulk(b"caf\xc3\xa9") + bulk(b"\xff\xfe"),
    b"*3\r\n" + bulk(b"message") + bulk(b"ch") + bulk(b"data"),
    b"$5\r\nabc\r\n",  # wrong length
    b"*1\r\n" * 40 + b":0\r\n",
]

# protocol program pieces (see fuzz_protocol.py)
GET, SET, PING, MULTI, EXEC, HGETALL = 0x01 + 1, 0x01 + 2, 0x00 + 14, 0x06, 0x07, 0x09
SUB_CH, PSUB, UNSUB_ALL = 0x40 | 1, 0x40 | (2 << 3) | 2, 0x40 | (1 << 3)


def deliver(data):
    out = b""
    while data:
        piece, data = data[:0x70], data[0x70:]
        out += bytes([0x7F + len(piece)]) + piece
    return out


PROGRAMS = [
    bytes([0, GET, 0x70]) + deliver(bulk(b"value")),
    bytes([1, GET, SET, 0x70]) + deliver(b"$3\r\nab") + bytes([PING, 0x70]) + deliver(b"c\r\n+OK\r\n+PONG\r\n"),
    bytes([0, GET, SUB_CH, 0x70]) + deliver(b"$3\r\nab") + bytes([0xF2, 0xF0]) + deliver(b"c\r\n"),
    bytes([0, SUB_CH, 0x70, 0xF2, 0xF0, 0xF1, PSUB, 0x70, UNSUB_ALL, 0x70, 0xF3]),
    bytes([2, GET, 0x70, 0xF5, 0xF6, GET, 0xF6]) + deliver(b"xxx\r\n$1\r\nz\r\n"),
    bytes([0, GET, PING, 0x60, 0x70]) + deliver(b"$1\r\na\r\n+PONG\r\n"),
    bytes([0, MULTI, SET, EXEC, 0x70]) + deliver(b"+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n"),
    bytes([0, HGETALL, 0x70]) + deliver(b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"),
    bytes([0, 0x01 + 11, 0x70]) + deliver(b"%1\r\n+server\r\n+redis\r\n>3\r\n" + bulk(b"message") + bulk(b"ch") + bulk(b"p")),
    bytes([0, GET, PING, 0x70]) + deliver(b"?bad\r\n"),
    bytes([0, GET, 0x70, 0xF8]),
    bytes([0, GET, 0x70, 0xFC, SET, 0xFD, 0x70, 0xFA]),
    bytes([0, GET, 0x70, 0x00]) + b"*2\r\n$3\r\nfoo\r\n$-1\r\n",
]


def write(name, seeds):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for seed in seeds:
        with open(os.path.join(d, "seed-" + hashlib.sha1(seed).hexdigest()[:16]), "wb") as f:
            f.write(seed)


if __name__ == "__main__":
    # parser: option byte (encoding, split point), then the stream
    write("parser", [bytes([opt]) + r for r in REPLIES for opt in (0x80, 0x7D)])
    write("protocol", PROGRAMS)
