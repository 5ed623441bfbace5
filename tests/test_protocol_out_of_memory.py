"""Out of memory on the write path. A command whose encoding cannot be
buffered fails alone when nothing else is queued; if growing the output
buffer loses commands already queued, their waiters would take the replies
of later commands, so the connection is closed and every waiter fails with
ConnectionClosedError (the MemoryError as its cause).

The allocation fails for real: a child process limits its address space
(RLIMIT_AS) and passes a 4 GiB read-only mapping (address space only, no
memory) as a memoryview argument, which the encoder copies into the output
buffer.

Out of memory while tracking the state replies change: the connection is
closed rather than left believing it is on the wrong db (allocations made
to fail one by one with _testcapi.set_nomemory)."""

import asyncio
import contextlib
import os
import subprocess
import sys

import pytest

import aioredis

_CHILD = r"""
import asyncio, mmap, resource, sys
sys.path.insert(0, ROOT)
import aioredis
from aioredis import ConnectionClosedError

def vm_size():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024

async def main(address):
    conn = await aioredis.create_connection(address)
    assert await conn.execute("SET", "oom:k", "before") == b"OK"
    huge = memoryview(mmap.mmap(-1, 1 << 32, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ))
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (vm_size() + (256 << 20), hard))

    # idle, nothing queued: only this command fails, the connection goes on
    try:
        conn.execute("SET", "oom:k", huge)
    except MemoryError:
        pass
    else:
        raise AssertionError("a 4 GiB command was buffered")
    assert not conn.closed
    assert await conn.execute("GET", "oom:k") == b"before"

    # queued commands lost while the buffer grows: all waiters fail
    a = conn.execute("ECHO", "a")  # idle: written at once
    b = conn.execute("ECHO", "b")  # queued for the next flush
    try:
        conn.execute("SET", "oom:k", huge)
    except ConnectionClosedError as exc:
        assert isinstance(exc.__cause__, MemoryError), repr(exc.__cause__)
        assert "out of memory" in str(exc), str(exc)
    else:
        raise AssertionError("a 4 GiB command was buffered")
    assert conn.closed
    # a later command must not be sent, or its reply would go to b
    try:
        d = conn.execute("ECHO", "d")
    except ConnectionClosedError:
        d = None
    results = await asyncio.wait_for(asyncio.gather(a, b, return_exceptions=True), 5)
    for r in results:
        assert isinstance(r, ConnectionClosedError), results
        assert isinstance(r.__cause__, MemoryError), repr(r.__cause__)
    assert d is None, "a command was accepted after the output was lost"
    await conn.wait_closed()
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    conn = await aioredis.create_connection(address)
    assert await conn.execute("GET", "oom:k") == b"before"  # the failed SETs never ran
    conn.close()
    await conn.wait_closed()
    print("OK", flush=True)

asyncio.run(main((sys.argv[1], int(sys.argv[2]))))
"""


def test_output_lost_closes_and_fails_every_waiter(redis_server):
    root = os.path.dirname(os.path.dirname(os.path.abspath(aioredis.__file__)))
    env = dict(os.environ)
    # under ASan, an allocation that fails returns NULL instead of aborting
    env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "allocator_may_return_null=1"]))
    host, port = redis_server.tcp_address
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD.replace("ROOT", repr(root)), host, str(port)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.stdout.strip() == "OK", proc.stdout + proc.stderr



@contextlib.contextmanager
def failing_allocations():
    """fail(k, call): call() with the k-th allocation it makes failing
    (_testcapi.set_nomemory), its MemoryError and unraisable reports
    swallowed."""
    _testcapi = pytest.importorskip("_testcapi")

    def fail(k, call):
        _testcapi.set_nomemory(k, k + 1)
        try:
            call()
        except MemoryError:
            pass
        finally:
            _testcapi.remove_mem_hooks()

    unraisable, sys.unraisablehook = sys.unraisablehook, lambda u: None
    try:
        yield fail
    finally:
        sys.unraisablehook = unraisable


async def test_out_of_memory_recording_a_queued_select_never_leaves_a_stale_db():
    # Each allocation made while the QUEUED reply of a SELECT inside MULTI
    # is handled fails in turn (no server: the replies are fed by hand).
    # Whatever fails, the connection must not go on believing it is on db 0
    # once EXEC has run that SELECT: it is closed, or its db is right.
    from test_protocol_buffer import connected

    with failing_allocations() as fail:
        for k in range(60):
            conn = await connected()
            futs = [conn.execute("MULTI"), conn.execute("SELECT", 5), conn.execute("EXEC")]
            conn.data_received(b"+OK\r\n")
            fail(k, lambda: conn.data_received(b"+QUEUED\r\n"))
            if not conn.closed:
                conn.data_received(b"*1\r\n+OK\r\n")
            assert conn.closed or conn.db == 5, k
            await asyncio.gather(*futs, return_exceptions=True)


async def test_out_of_memory_while_closing_still_fails_every_waiter():
    # A protocol error closes the connection; each allocation made while it
    # closes fails in turn (no server: the bytes are fed by hand). Whatever
    # fails, no waiter may be left pending forever on a closed connection.
    from test_protocol_buffer import connected

    with failing_allocations() as fail:
        for k in range(40):
            conn = await connected()
            warm = conn.execute("PING")
            conn.data_received(b"+PONG\r\n")  # the read buffer exists by now
            futs = [conn.execute("GET", "a"), conn.execute("GET", "b")]
            fail(k, lambda: conn.data_received(b"?not a reply\r\n"))
            assert conn.closed, k
            assert [f.done() for f in futs] == [True, True], k
            await asyncio.gather(warm, *futs, return_exceptions=True)
