"""Preallocation for declared counts is paid for by the bytes received, once:
nested aggregates that each declare 2**32 - 1 elements share the budget, so
memory stays a small multiple of the input however deep they nest (it was
one budget per level: 2.7 GB for 1 MiB)."""

import asyncio
import tracemalloc

import pytest

import aioredis
from aioredis import ConnectionClosedError
from aioredis.parser import Reader as CReader
from test_fake_server import fake_server, read_command, wait_closed_flag

NESTED = b"*4294967295\r\n" * 1000


def traced_peak(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "header, tail",
    [(b"*", b":1\r\n"), (b"*", b"$1\r\nx\r\n"), (b"%", b":1\r\n"), (b"~", b":1\r\n")],
    ids=["lists-ints", "lists-bulks", "maps", "sets"],
)
def test_nested_counts_do_not_multiply_preallocation(header, tail):
    data = header + b"4294967295\r\n" * 1000
    data = data.replace(b"\n4", b"\n" + header + b"4") + tail * (1_000_000 // len(tail))
    reader = CReader()

    def feed():
        reader.feed(data)
        assert reader.gets() is False  # 2**32 - 1 elements each: never complete

    peak = traced_peak(feed)
    # the buffer (twice the input at most), one level's slots (8 bytes per
    # 3 input bytes) and the innermost list filled with what arrived
    assert peak < 10 * len(data), f"{peak / len(data):.1f} x the input"


def test_preallocation_is_refilled_as_bytes_arrive():
    # fed in small pieces, each level preallocates from the bytes after the
    # last paid-for: the total stays proportional to the bytes
    data = NESTED + b":1\r\n" * 250_000
    reader = CReader()

    def feed():
        for i in range(0, len(data), 4096):
            reader.feed(data[i : i + 4096])
            assert reader.gets() is False

    peak = traced_peak(feed)
    assert peak < 10 * len(data), f"{peak / len(data):.1f} x the input"


def test_nested_reply_still_built_right():
    reader = CReader()
    reply = b"*2\r\n*3\r\n:1\r\n:2\r\n*1\r\n$1\r\na\r\n%1\r\n$1\r\nk\r\n*2\r\n:3\r\n:4\r\n"
    for i in range(len(reply)):  # every split
        reader.feed(reply[:i])
        assert reader.gets() is False
        reader.feed(reply[i:])
        assert reader.gets() == [[1, 2, [b"a"]], {b"k": [3, 4]}]


async def test_nested_counts_over_a_socket():
    size = 256 * 1024
    payload = NESTED + b":1\r\n" * ((size - len(NESTED)) // 4)
    sent = asyncio.Event()

    async def handler(reader, writer):
        await read_command(reader)
        writer.write(payload)
        await writer.drain()
        sent.set()
        await asyncio.sleep(0.5)  # then close

    tracemalloc.start()
    try:
        async with fake_server(handler) as address:
            conn = await aioredis.create_connection(address)
            fut = conn.execute("GET", "k")
            with pytest.raises(ConnectionClosedError):
                await asyncio.wait_for(fut, 5)
            assert sent.is_set()
            await wait_closed_flag(conn)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # it was 151 MiB for these 256 KiB
    assert peak < 12 * len(payload), f"{peak / len(payload):.1f} x the input"
