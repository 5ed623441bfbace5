#!/usr/bin/env python
"""aioredis demo: start a throwaway redis-server, talk to it, stop it.

    python examples/demo.py [--redis-server PATH]

The server listens on a free loopback port and a unix socket in a temporary
directory, persists nothing (--save "" --appendonly no) and is stopped (and
the directory removed) when the demo ends, whatever happens.
"""

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

import importlib.util

if importlib.util.find_spec("aioredis") is None:
    # Not installed: use the checkout (needs `python setup.py build_ext --inplace`).
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import aioredis  # noqa: E402


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def throwaway_redis(binary="redis-server"):
    """Yield ((host, port), unix_socket_path) of a fresh redis-server."""
    path = shutil.which(binary)
    if path is None:
        sys.exit(f"{binary} not found: install it (apt-get install redis-server)")
    tmp = tempfile.mkdtemp(prefix="aioredis-demo-")
    sock = os.path.join(tmp, "redis.sock")
    port = free_port()
    proc = subprocess.Popen(
        [
            path,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--unixsocket", sock,
            "--unixsocketperm", "700",
            "--dir", tmp,
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--logfile", os.path.join(tmp, "redis.log"),
        ],
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                with open(os.path.join(tmp, "redis.log"), errors="replace") as f:
                    sys.exit(f"redis-server exited with {proc.returncode}:\n{f.read()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(b"+PONG") and os.path.exists(sock):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                sys.exit("redis-server did not start within 10 s")
            time.sleep(0.05)
        print(f"started redis-server {path} on 127.0.0.1:{port} and {sock}")
        yield ("127.0.0.1", port), sock
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
        print("stopped redis-server")


async def demo(address, unix_path):
    # --- the README example -------------------------------------------------
    conn = await aioredis.create_connection(address)
    await conn.execute("SET", "my-key", "value")
    val = await conn.execute("GET", "my-key")
    print("GET my-key ->", repr(val))  # b'value'
    conn.close()
    await conn.wait_closed()
    # ------------------------------------------------------------------------

    # Decoding replies: per connection, or per command.
    conn = await aioredis.create_connection(address, encoding="utf-8")
    print("encoding:", conn.encoding)
    print("GET (decoded) ->", repr(await conn.execute("GET", "my-key")))
    print("GET (raw)     ->", repr(await conn.execute("GET", "my-key", encoding=None)))

    # Implicit pipelining: execute() writes the command and returns a future at
    # once; issuing many before awaiting any sends them back to back.
    futs = [conn.execute("INCR", "counter") for _ in range(1000)]
    counts = await asyncio.gather(*futs)
    print(f"1000 pipelined INCRs -> first {counts[0]}, last {counts[-1]}")

    # Nested replies.
    await conn.execute("RPUSH", "list", "a", "b", "c")
    print("LRANGE list 0 -1 ->", await conn.execute("LRANGE", "list", 0, -1))

    # An error reply fails only its own command.
    try:
        await conn.execute("INCR", "my-key")
    except aioredis.ReplyError as exc:
        print(f"INCR my-key -> {type(exc).__name__}: {exc}")
    print("connection still usable: PING ->", await conn.execute("PING"))

    # Changing database.
    await conn.select(1)
    print("db:", conn.db, "| GET my-key in db 1 ->", repr(await conn.execute("GET", "my-key")))
    conn.close()
    await conn.wait_closed()
    print("closed:", conn.closed)

    # Unix socket, straight into db 2.
    conn = await aioredis.create_connection(unix_path, db=2, encoding="utf-8")
    await conn.execute("SET", "where", "unix socket")
    print(f"via {unix_path} (db {conn.db}) ->", await conn.execute("GET", "where"))
    conn.close()
    await conn.wait_closed()

    # The high-level interface: a method per command.
    redis = await aioredis.create_redis(address, encoding="utf-8")
    await redis.set("greeting", "hello")
    print("Redis.get('greeting') ->", repr(await redis.get("greeting")))
    redis.close()
    await redis.wait_closed()

    # After close(), commands fail with ConnectionClosedError.
    try:
        await conn.execute("PING")
    except aioredis.ConnectionClosedError as exc:
        print(f"PING after close -> {type(exc).__name__}: {exc}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--redis-server", default="redis-server", help="redis-server binary")
    args = ap.parse_args()
    print("aioredis from", aioredis.__file__)
    with throwaway_redis(args.redis_server) as (address, unix_path):
        asyncio.run(demo(address, unix_path))
    print("demo OK")


if __name__ == "__main__":
    main()
