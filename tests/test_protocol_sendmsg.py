"""Commands with big values and the transport beneath them.

On Python 3.11 such a command may go out in one sendmsg() on the socket of
asyncio's plain socket transport (src/sendmsg.c), but only while that
transport would write at once itself: never under TLS (nor any transport
with an ssl extra), never once it is closing. From 3.12 the transport's own
writelines() does that sendmsg(), and ours is not used."""

import asyncio
import os
import socket
import ssl
import sys

import pytest

import aioredis
from aioredis import ConnectionClosedError
from aioredis.connection import RedisConnection
from conftest import free_port

BIG = bytes(range(256)) * 4096  # 1 MiB: a big argument, and a reply read in place
MEDIUM = b"m" * 300_000  # a big argument, a reply collected in the parser's buffer
USES_OUR_SENDMSG = sys.version_info < (3, 12)


@pytest.fixture
def tls_server(start_redis, tmp_path):
    try:
        import trustme
    except ImportError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"trustme is not importable (CI must have it: pip install -e .[test]): {exc}")
        pytest.skip(f"trustme is not importable: {exc}")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_file, key_file, ca_file = tmp_path / "server.pem", tmp_path / "server.key", tmp_path / "ca.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    ca.cert_pem.write_to_path(str(ca_file))
    tls_port = free_port()
    server = start_redis(
        "--tls-port", tls_port,
        "--tls-cert-file", cert_file,
        "--tls-key-file", key_file,
        "--tls-ca-cert-file", ca_file,
        "--tls-auth-clients", "no",
    )  # fmt: skip
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return server, ("127.0.0.1", tls_port), context


async def connect(address, factory=RedisConnection, **kwargs):
    loop = asyncio.get_running_loop()
    _, conn = await loop.create_connection(lambda: factory(loop), *address, **kwargs)
    return conn


async def round_trips(conn):
    for value in (BIG, MEDIUM):
        assert await conn.execute("SET", "sendmsg:k", value) == b"OK"
        assert await conn.execute("GET", "sendmsg:k") == value
        # pipelined: the second is queued behind the first
        futs = [conn.execute("SET", "sendmsg:k", value), conn.execute("GET", "sendmsg:k")]
        assert await asyncio.gather(*futs) == [b"OK", value]


async def test_big_values_over_tls_never_take_sendmsg(tls_server):
    server, address, context = tls_server
    conn = await connect(address, ssl=context, server_hostname="127.0.0.1")
    try:
        assert conn.transport.get_extra_info("ssl_object") is not None
        await round_trips(conn)
        # a write beneath TLS would have broken the stream; and none was made
        assert conn._direct_sends == 0
        assert await conn.execute("PING") == b"PONG"
    finally:
        conn.close()
        await conn.wait_closed()
    # the plain port of the same server, for comparison
    conn = await connect(server.tcp_address)
    try:
        await round_trips(conn)
        assert (conn._direct_sends > 0) == USES_OUR_SENDMSG
    finally:
        conn.close()
        await conn.wait_closed()


class SslExtraConnection(RedisConnection):
    """A plain socket transport that says it has TLS context: not ours to write beneath."""

    def connection_made(self, transport):
        transport._extra["sslcontext"] = ssl.create_default_context()
        super().connection_made(transport)


async def test_a_transport_with_an_ssl_extra_never_takes_sendmsg(redis_server):
    conn = await connect(redis_server.tcp_address, factory=SslExtraConnection)
    try:
        await round_trips(conn)
        assert conn._direct_sends == 0
    finally:
        conn.close()
        await conn.wait_closed()


@pytest.mark.parametrize("value", [BIG, MEDIUM], ids=["1MiB", "300kB"])
async def test_nothing_is_sent_once_the_transport_is_closing(redis_server, value):
    key = "sendmsg:closing"
    assert redis_server.command("DEL", key) in (0, 1)
    conn = await connect(redis_server.tcp_address)
    assert await conn.execute("PING") == b"PONG"  # idle again: the next command is written at once
    conn.transport.close()  # closed beneath the connection: connection_lost() comes later
    assert not conn.closed
    fut = conn.execute("SET", key, value)
    with pytest.raises(ConnectionClosedError):
        await asyncio.wait_for(fut, 5)
    await conn.wait_closed()
    # the transport dropped it, as it drops any write after close(): had it
    # gone beneath the transport, the server would have run it
    assert redis_server.command("PING") == b"PONG"
    assert redis_server.command("EXISTS", key) == 0


async def test_a_transport_with_data_buffered_is_not_overtaken(redis_server):
    # the transport's buffer holds a command when the big one comes: it
    # must go after it, through the transport
    conn = await connect(redis_server.tcp_address)
    try:
        sock = conn.transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        futs = [conn.execute("SET", f"sendmsg:o{i}", BIG) for i in range(2)]
        futs.append(conn.execute("SET", "sendmsg:o0", MEDIUM))
        assert await asyncio.gather(*futs) == [b"OK"] * 3
        assert await conn.execute("GET", "sendmsg:o0") == MEDIUM
    finally:
        conn.close()
        await conn.wait_closed()


@pytest.mark.skipif(not USES_OUR_SENDMSG, reason="from 3.12 the transport's writelines() does the sendmsg()")
async def test_a_socket_closed_beneath_the_transport_is_not_written_to(redis_server):
    # The transport's socket is closed behind its back and its descriptor
    # number taken by another connection: a command must not go there.
    key = "sendmsg:reused"
    assert redis_server.command("DEL", key) in (0, 1)
    conn = await connect(redis_server.tcp_address)
    assert await conn.execute("PING") == b"PONG"
    sock = conn.transport._sock
    fd = sock.fileno()
    loop = asyncio.get_running_loop()
    loop._remove_reader(fd)  # as a transport closing would, so the selector forgets it
    sock.close()
    other = socket.create_connection(redis_server.tcp_address)
    try:
        if other.fileno() != fd:
            pytest.skip("the descriptor number was not reused")
        fut = conn.execute("SET", key, BIG)
        await asyncio.sleep(0.2)  # a reply to a command sent there would be in by now
        assert redis_server.command("PING") == b"PONG"
        other.setblocking(False)
        with pytest.raises(BlockingIOError):
            reply = other.recv(100)
            pytest.fail(f"the command went to another connection, which got {reply!r}")
        assert redis_server.command("EXISTS", key) == 0
        with pytest.raises(ConnectionClosedError):
            await asyncio.wait_for(fut, 5)
        await conn.wait_closed()
    finally:
        other.close()
