"""Helpers shared by the benchmarks (not a benchmark itself).

Standard library only: this module is imported by bench/worker.py inside each
peer client's own virtualenv, where neither this checkout's aioredis nor any
other client is importable.
"""

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
BENCH = os.path.join(ROOT, "bench")


def import_checkout_aioredis():
    """Import aioredis from this checkout (not an installed copy, and never PyPI's)."""
    if sys.path[:1] != [ROOT]:
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


def split_cpus():
    """(the server's CPUs, the clients' CPUs): the first CPU this process may
    run on for the server, the others for the clients, as redis.io's
    benchmark guide advises (the two then never take each other's core);
    None when there is one CPU or the platform cannot pin."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    return {cpus[0]}, set(cpus[1:])


@contextmanager
def redis_server(binary="redis-server", quiet=False, cpus=None):
    """Start a throwaway redis-server on a free loopback port; yield (host, port).
    cpus: the set of CPUs it may run on (None: any)."""
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
        if cpus:
            os.sched_setaffinity(proc.pid, cpus)
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
        if not quiet:
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


# -- a minimal blocking RESP client, to fill the server without any library --

def _encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = b"%d" % a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RawRedis:
    """Blocking socket; ``call_many`` sends a batch of commands in one write and
    reads their replies (simple strings, errors, integers, bulk strings and
    arrays of those). Used to populate the server and for the baseline."""

    def __init__(self, address):
        self.sock = socket.create_connection(address)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def close(self):
        self.sock.close()

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("server closed the connection")
        self.buf += data

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return line
            self._fill()

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest
        if kind == b"-":
            raise RuntimeError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data = bytes(self.buf[:n])
            del self.buf[:n + 2]
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RuntimeError(f"unexpected reply line {line[:40]!r}")

    def call_many(self, commands):
        self.sock.sendall(b"".join(_encode(c) for c in commands))
        return [self._reply() for _ in commands]

    def call(self, *args):
        return self.call_many([args])[0]


def fmt_rate(x):
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    if x >= 1e3:
        return f"{x / 1e3:.1f} k"
    return f"{x:.1f} "


# -- the workloads' sizes and keys (shared by run.py and worker.py) ----------

VALUE = b"0123456789abcdef"  # 16 bytes


def sizes(quick):
    """The fixed amount of work of each workload ("quick": a tiny smoke run)."""
    s = dict(
        w1_n=2000,            # W1: n x (SET then GET)
        w2_tasks=500,         # W2: tasks x gets GETs, one client object
        w2_gets=20,
        w3_pipes=100,         # W3: pipes pipelines of size SETs
        w3_size=100,
        w4_list=10_000,       # W4: LRANGE of a w4_list-element list, x w4_lrange_reps
        w4_hash=10_000,       #     HGETALL of a w4_hash-field hash, x w4_hgetall_reps
        w4_mget=1000,         #     MGET of w4_mget keys, x w4_mget_reps
        w4_lrange_reps=50,
        w4_hgetall_reps=50,
        w4_mget_reps=200,
        w5_size=1 << 20,      # W5: w5_reps x (SET then GET) of a 1 MiB value
        w5_reps=30,
        mem_size=100_000_000,  # M: one GET of a 100 MB value
        p_small=1_000_000,    # P: small bulk replies
        p_array=100_000,      # P: one array of that many bulk strings
    )
    if quick:
        s.update(w1_n=50, w2_tasks=20, w2_gets=5, w3_pipes=5, w3_size=20, w4_list=500,
                 w4_hash=500, w4_mget=100, w4_lrange_reps=3, w4_hgetall_reps=3, w4_mget_reps=3,
                 w5_reps=2, mem_size=8_000_000, p_small=20_000, p_array=2_000)
    return s


def w1_keys(s):
    return [b"w1:%d" % i for i in range(s["w1_n"])]


def w2_keys(s):
    return [b"w2:%d" % i for i in range(s["w2_tasks"])]


def w3_keys(s):
    return [b"w3:%d" % i for i in range(s["w3_size"])]


def w4_mget_keys(s):
    return [b"w4:k:%d" % i for i in range(s["w4_mget"])]


def w4_list_items(s):
    return [b"item-%011d" % i for i in range(s["w4_list"])]  # 16 bytes each


def w4_hash_pairs(s):
    """field, value, field, value, ... (16-byte fields and values)."""
    pairs = []
    for i in range(s["w4_hash"]):
        pairs += [b"field-%010d" % i, VALUE]
    return pairs


def w4_replies(s):
    """Each W4 reply as the server sends it (RESP2): an array of bulk
    strings, the same bytes as a command of those arguments. HGETALL's field
    order is the server's own; its length is the same."""
    return {
        "W4-LRANGE": _encode(w4_list_items(s)),
        "W4-HGETALL": _encode(w4_hash_pairs(s)),
        "W4-MGET": _encode([VALUE] * s["w4_mget"]),
    }


W4_LIST = b"w4:list"
W4_HASH = b"w4:hash"
W5_KEY = b"w5:big"
MEM_KEY = b"mem:big"
ABSENT_KEY = b"bench:absent"


def populate(address, s):
    """Fill the server with what the read workloads read (one blocking socket)."""
    r = RawRedis(address)
    try:
        r.call("FLUSHALL")
        cmds = [("SET", k, VALUE) for k in w2_keys(s)]
        cmds += [("SET", k, VALUE) for k in w4_mget_keys(s)]
        items = w4_list_items(s)
        for i in range(0, len(items), 1000):
            cmds.append(("RPUSH", W4_LIST, *items[i:i + 1000]))
        fields = w4_hash_pairs(s)
        for i in range(0, len(fields), 2000):
            cmds.append(("HSET", W4_HASH, *fields[i:i + 2000]))
        cmds.append(("SET", W5_KEY, b"x" * s["w5_size"]))
        # A 100 MB string made by the server itself (zero bytes): the client
        # processes never hold it before the measured GET.
        cmds.append(("SETRANGE", MEM_KEY, s["mem_size"] - 1, b"x"))
        r.call_many(cmds)
        assert r.call("LLEN", W4_LIST) == s["w4_list"]
        assert r.call("HLEN", W4_HASH) == s["w4_hash"]
        assert r.call("STRLEN", MEM_KEY) == s["mem_size"]
    finally:
        r.close()


def write_readme_section(name, text):
    """Replace what lies between <!-- NAME:start --> and <!-- NAME:end --> in bench/README.md."""
    path = os.path.join(BENCH, "README.md")
    with open(path) as f:
        doc = f.read()
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start not in doc or end not in doc:
        sys.exit(f"{path} has no {start} ... {end} markers")
    head, rest = doc.split(start, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w") as f:
        f.write(head + start + "\n" + text.rstrip() + "\n" + end + tail)
    print(f"wrote the {name} section of {path}")
