"""Fuzz target: the C protocol (``RedisConnection`` on ``_core.RedisProtocolBase``).

No socket: a stub transport records writes, and the input is a small program
run against one fresh connection on an event loop (reused across inputs).
Byte 0 holds options (bit 0: utf-8 connection encoding; bit 1: deliver with
data_received() instead of get_buffer()/buffer_updated()); then each opcode:

  0x00            end of the program: the rest of the input is delivered
  0x01-0x3f       execute() one of COMMANDS
  0x40-0x5f       execute_pubsub(): (P)(UN)SUBSCRIBE, a subset of 3 channels
  0x60-0x6f       cancel the n-th future still pending
  0x70-0x7f       run the loop once (flushes what execute() buffered)
  0x80-0xef       deliver the next (opcode - 0x7f) input bytes as server data
  0xf0-0xff       deliver a canned piece (TEMPLATES: a pub/sub message, an
                  acknowledgement, the header and filler of a >= 1 MiB bulk
                  reply, which takes the large-reply path), or an event
                  (EOF, connection lost, close, pause/resume writing)

Invariants, checked after every step: no crash (ASan+UBSan build); the
futures of execute() resolve in the order of their commands (those done
are a prefix; cancelled ones aside); a future failed with ProtocolError
means the connection is closed and the transport was closed; a closed
connection has no future left pending (after a loop iteration); feeding
the protocol raises nothing. At the end the connection is closed and every
future must be done.
"""

import asyncio
import sys

import atheris

with atheris.instrument_imports(include=["aioredis"]):
    from aioredis import _core
    from aioredis.connection import RedisConnection
    from aioredis.errors import ProtocolError, RedisError
    from aioredis.pubsub import Channel

COMMANDS = [
    ((b"PING",), {}),
    ((b"GET", b"k"), {}),
    ((b"GET", b"k"), {"encoding": "utf-8"}),
    ((b"SET", b"k", b"v"), {"convert": _core.ok}),
    ((b"ECHO", b"x" * 70000), {}),  # a big argument: written apart
    ((b"SELECT", 1), {}),
    ((b"MULTI",), {}),
    ((b"EXEC",), {}),
    ((b"DISCARD",), {}),
    ((b"HGETALL", b"h"), {"convert": _core.pairs_to_dict}),
    ((b"LRANGE", b"l", 0, -1), {}),
    ((b"PING",), {"encoding": None}),
    ((b"HELLO", 3), {}),
    ((b"INCR", b"n"), {"convert": lambda r: r + 1}),
]
CHANNELS = [b"ch", b"c*", "uni\u00e9"]
PUBSUB = [b"SUBSCRIBE", b"UNSUBSCRIBE", b"PSUBSCRIBE", b"PUNSUBSCRIBE"]
MiB = 1 << 20


def bulk(b):
    return b"$%d\r\n%s\r\n" % (len(b), b)


TEMPLATES = {
    0xF0: b"*3\r\n" + bulk(b"message") + bulk(b"ch") + bulk(b"hello"),
    0xF1: b"*4\r\n" + bulk(b"pmessage") + bulk(b"c*") + bulk(b"ch") + bulk(b"hi"),
    0xF2: b"*3\r\n" + bulk(b"subscribe") + bulk(b"ch") + b":1\r\n",
    0xF3: b"*3\r\n" + bulk(b"unsubscribe") + bulk(b"ch") + b":0\r\n",
    0xF4: b">3\r\n" + bulk(b"message") + bulk(b"ch") + bulk(b"push"),
    0xF5: b"$%d\r\n" % (MiB + 3),  # large bulk header: the payload comes next
    0xF6: b"x" * (MiB // 2),  # filler for it
}


class Transport:
    """Just enough of an asyncio transport for the protocol."""

    def __init__(self):
        self.written = 0
        self.closing = False

    def write(self, data):
        self.written += len(data)

    def writelines(self, parts):
        for p in parts:
            self.write(p)

    def get_extra_info(self, name, default=None):
        return default

    def is_closing(self):
        return self.closing

    def close(self):
        self.closing = True

    def abort(self):  # what close() uses while writing is paused
        self.closing = True

    def pause_reading(self):
        pass

    def resume_reading(self):
        pass


LOOP = asyncio.new_event_loop()
LOOP.set_exception_handler(lambda loop, ctx: None)  # "exception never retrieved" etc.


def tick():
    LOOP.call_soon(LOOP.stop)
    LOOP.run_forever()


def deliver(conn, transport, data, buffered):
    if transport.closing or not data:
        return  # a transport reads nothing more once closed
    if not buffered:
        conn.data_received(data)
        return
    while data and not transport.closing:
        view = conn.get_buffer(len(data))
        n = min(len(view), len(data))
        assert n > 0, "get_buffer() gave an empty buffer"
        view[:n] = data[:n]
        del view
        conn.buffer_updated(n)
        data = data[n:]


def lose(conn, transport, exc):
    transport.closing = True  # nothing is read after connection_lost()
    conn.connection_lost(exc)
    return True


def check(conn, transport, futures):
    seen_pending = False
    for fut in futures:
        if fut.cancelled():
            continue
        if not fut.done():
            seen_pending = True
        elif seen_pending:
            raise AssertionError("a reply resolved a later command before an earlier one")
        elif isinstance(fut.exception(), ProtocolError):
            assert conn.closed and transport.closing, "ProtocolError but the connection is open"
    if conn.closed:
        tick()
        pending = [f for f in futures if not f.done()]
        assert not pending, f"closed connection left {len(pending)} futures pending"


def TestOneInput(data):
    if not data:
        return
    opts = data[0]
    buffered = not opts & 2
    conn = RedisConnection(LOOP, "utf-8" if opts & 1 else None)
    transport = Transport()
    conn.connection_made(transport)
    futures, others = [], []
    lost = False
    i, n = 1, len(data)
    while i < n:
        op = data[i]
        i += 1
        if op == 0x00:
            deliver(conn, transport, data[i:], buffered)
            i = n
        elif op < 0x40:
            if conn.closed:
                continue
            args, kwargs = COMMANDS[op % len(COMMANDS)]
            try:
                futures.append(conn.execute(*args, **kwargs))
            except RedisError:
                pass  # refused in SUBSCRIBE mode, or closed
        elif op < 0x60:
            if conn.closed:
                continue
            names = [c for bit, c in enumerate(CHANNELS) if op & (1 << bit)]
            command = PUBSUB[(op >> 3) & 3]
            if command in (b"PSUBSCRIBE", b"PUNSUBSCRIBE"):
                names = [Channel(c, is_pattern=True) for c in names]
            try:
                others.append(conn.execute_pubsub(command, *names))
            except (TypeError, ValueError, RedisError):
                pass  # SUBSCRIBE with no channel, closed
        elif op < 0x70:
            pending = [f for f in futures if not f.done()]
            if pending:
                pending[(op - 0x60) % len(pending)].cancel()
        elif op < 0x80:
            tick()
        elif op < 0xF0:
            k = op - 0x7F
            deliver(conn, transport, data[i : i + k], buffered)
            i += k
        elif op in TEMPLATES:
            deliver(conn, transport, TEMPLATES[op], buffered)
        elif op == 0xF8 and not lost:
            if not conn.eof_received():  # as asyncio's transport does
                transport.close()
                lost = lose(conn, transport, None)
        elif op == 0xF9 and not lost:
            lost = lose(conn, transport, None)
        elif op == 0xFA and not lost:
            lost = lose(conn, transport, ConnectionResetError("reset"))
        elif op == 0xFB:
            conn.close()
        elif op == 0xFC:
            conn.pause_writing()
        elif op == 0xFD:
            conn.resume_writing()
        check(conn, transport, futures)
    tick()
    check(conn, transport, futures)
    conn.close()
    if not transport.closing:
        raise AssertionError("close() did not close the transport")
    if not lost:
        lose(conn, transport, None)
    tick()
    for fut in futures + others:
        assert fut.done(), "a future still pending after the connection closed"
        if not fut.cancelled():
            fut.exception()  # retrieved: no "never retrieved" log


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
