"""Helpers shared by the benchmarks (not a benchmark itself)."""

import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def import_checkout_aioredis():
    """Import aioredis from this checkout (not an installed copy, and never PyPI's)."""
    sys.path.insert(0, ROOT)
    import aioredis
    import aioredis._core  # noqa: F401  (needs `python setup.py build_ext --inplace`)

    where = os.path.dirname(os.path.abspath(aioredis.__file__))
    if where != os.path.join(ROOT, "aioredis"):
        sys.exit(f"imported aioredis from {where}, expected the checkout at {ROOT}")
    return aioredis


def describe_machine():
    return (
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform(terse=True)}"
    )


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def redis_server(binary="redis-server"):
    """Start a throwaway redis-server on a free loopback port; yield (host, port)."""
    path = shutil.which(binary)
    if path is None:
        sys.exit(f"{binary} not found (apt-get install redis-server)")
    tmp = tempfile.mkdtemp(prefix="aioredis-bench-")
    port = free_port()
    log = os.path.join(tmp, "redis.log")
    proc = subprocess.Popen(
        [path, "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp,
         "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", log],
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                with open(log, errors="replace") as f:
                    sys.exit(f"redis-server exited with {proc.returncode}:\n{f.read()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                sys.exit("redis-server did not start within 10 s")
            time.sleep(0.05)
        out = subprocess.run([path, "--version"], capture_output=True, text=True).stdout.strip()
        print(f"redis-server: {out}")
        print(f"  listening on 127.0.0.1:{port} (no persistence), pid {proc.pid}")
        yield ("127.0.0.1", port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def fmt_rate(x):
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    if x >= 1e3:
        return f"{x / 1e3:.1f} k"
    return f"{x:.1f} "
