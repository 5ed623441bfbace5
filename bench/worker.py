#!/usr/bin/env python
"""One client, one process: run by bench/run.py with that client's own python.

    python bench/worker.py bench  CLIENT HOST PORT [--quick] [--workloads W1,W2,...]
    python bench/worker.py memory CLIENT HOST PORT [--quick]
    python bench/worker.py parser [--quick] [--runs N]

``bench``: connects, runs every workload once as a warm-up (redis-py opens its
pool's connections then), then ``--rounds`` times measured, interleaved; the
fastest round of each workload counts (the machine is shared: a slow round is
someone else's work). ``memory``: one GET of the
big value, peak RSS growth of this process. ``parser``: our C Reader against
hiredis.Reader, no server. Prints one line ``RESULT {json}`` (or ``SKIP
reason`` when the client cannot run in this environment, e.g. no uvloop).

Only the standard library is imported at the top: each client's library is
imported inside its adapter, in the virtualenv made for it by run.py.
"""

import argparse
import asyncio
import collections
import gc
import json
import os
import sys
import time

import _common as C

CLIENTS = ("ours", "ours-uvloop", "redis-py", "aioredis-1.3.1", "aioredis-1.3.1-uvloop",
           "coredis", "glide", "asyncio-floor", "asyncio-floor-uvloop")


class Skip(Exception):
    """The client cannot run in this environment (reported, not an error)."""


def _version(dist):
    try:
        from importlib.metadata import version
        return version(dist)
    except Exception:  # noqa: BLE001
        return "?"


# -- adapters: the library's own bound methods, no wrapper per command --------
#
# Each adapter has: async open(), async close(), set/get (the library's bound
# methods), w3(keys, value) (one pipeline of len(keys) SETs), lrange(key),
# hgetall(key), mget(keys), and info (a string for the report).

class Ours:
    """This checkout: one connection (``create_redis``), implicitly pipelined."""

    def __init__(self, address, s):
        self.address, self.s = address, s

    async def open(self):
        aioredis = C.import_checkout_aioredis()
        self.r = r = await aioredis.create_redis(self.address)
        self.set, self.get = r.set, r.get
        self.pipeline_kind = "pipeline()"
        try:
            tr = r.pipeline()
            tr.set(b"bench:probe", C.VALUE)
            tr.get(b"bench:probe")
            if await tr.execute() != [True, C.VALUE]:
                raise AssertionError("unexpected pipeline results")
        except Exception as exc:  # noqa: BLE001  (not there yet, or broken)
            self.pipeline_kind = f"implicit (gather; pipeline() unusable: {type(exc).__name__}: {exc})"
            self.w3 = self._w3_gather
        self.info = (f"aioredis {aioredis.__version__} from {aioredis.__file__}, "
                     f"W3 via {self.pipeline_kind}")

    async def w3(self, keys, value):
        tr = self.r.pipeline()
        for k in keys:
            tr.set(k, value)
        return await tr.execute()

    async def _w3_gather(self, keys, value):
        set_ = self.r.set
        return await asyncio.gather(*[set_(k, value) for k in keys])

    def lrange(self, key):
        return self.r.lrange(key, 0, -1)

    def hgetall(self, key):
        return self.r.hgetall(key)

    def mget(self, keys):
        return self.r.mget(*keys)

    async def close(self):
        self.r.close()
        await self.r.wait_closed()


class Aioredis13(Ours):
    """aioredis 1.3.1 from PyPI (its own virtualenv): one connection, hiredis."""

    async def open(self):
        if C.ROOT in [os.path.abspath(p) for p in sys.path if p]:
            raise RuntimeError("the checkout is on sys.path: would import the wrong aioredis")
        import aioredis
        import aioredis.parser
        import hiredis

        if aioredis.__version__ != "1.3.1":
            raise RuntimeError(f"expected aioredis 1.3.1, imported {aioredis.__version__} "
                               f"from {aioredis.__file__}")
        if aioredis.parser.Reader is not hiredis.Reader:
            raise RuntimeError("aioredis 1.3.1 is not using hiredis")
        self.r = r = await aioredis.create_redis(self.address)
        self.set, self.get = r.set, r.get
        self.info = f"aioredis {aioredis.__version__} + hiredis {hiredis.__version__}"


class RedisPy:
    """redis-py's asyncio client with hiredis, RESP2; a pool with room for
    one connection per W2 task (redis-py opens one per concurrent command)."""

    def __init__(self, address, s):
        self.address, self.s = address, s

    async def open(self):
        import redis
        import redis.asyncio
        import redis.utils

        host, port = self.address
        pool = redis.asyncio.ConnectionPool(
            host=host, port=port, protocol=2, max_connections=max(100, self.s["w2_tasks"]))
        self.r = r = redis.asyncio.Redis(connection_pool=pool)
        await r.ping()
        parser = type(pool.connection_class(**pool.connection_kwargs)._parser).__name__
        if not redis.utils.HIREDIS_AVAILABLE or "Hiredis" not in parser:
            raise RuntimeError(f"redis-py is not using hiredis (parser {parser})")
        self.set, self.get = r.set, r.get
        self.info = (f"redis-py {redis.__version__} + hiredis {_version('hiredis')} "
                     f"({parser}, RESP2, ConnectionPool(max_connections={pool.max_connections}))")

    async def w3(self, keys, value):
        p = self.r.pipeline(transaction=False)
        for k in keys:
            p.set(k, value)
        return await p.execute()

    def lrange(self, key):
        return self.r.lrange(key, 0, -1)

    def hgetall(self, key):
        return self.r.hgetall(key)

    def mget(self, keys):
        return self.r.mget(keys)

    async def close(self):
        await self.r.aclose()
        await self.r.connection_pool.disconnect()


class Coredis:
    """coredis with its defaults (its own connection pool; RESP3)."""

    def __init__(self, address, s):
        self.address, self.s = address, s

    async def open(self):
        import coredis

        host, port = self.address
        self.r = r = coredis.Redis(host=host, port=port)
        if hasattr(r, "__aenter__"):
            await r.__aenter__()
        await r.ping()
        self.set, self.get = r.set, r.get
        self.info = f"coredis {coredis.__version__}, default pool ({type(r.connection_pool).__name__})"

    async def w3(self, keys, value):
        async with self.r.pipeline(transaction=False) as p:
            results = [p.set(k, value) for k in keys]
        return [await f for f in results]

    def lrange(self, key):
        return self.r.lrange(key, 0, -1)

    def hgetall(self, key):
        return self.r.hgetall(key)

    def mget(self, keys):
        return self.r.mget(keys)

    async def close(self):
        if hasattr(self.r, "__aexit__"):
            await self.r.__aexit__(None, None, None)


class Glide:
    """valkey-glide (Rust core): one multiplexed connection, RESP2 asked for."""

    def __init__(self, address, s):
        self.address, self.s = address, s

    async def open(self):
        from glide import (Batch, GlideClient, GlideClientConfiguration, NodeAddress,
                           ProtocolVersion)

        self._Batch = Batch
        host, port = self.address
        cfg = GlideClientConfiguration([NodeAddress(host, port)], protocol=ProtocolVersion.RESP2,
                                       request_timeout=60_000)
        self.r = r = await GlideClient.create(cfg)
        self.set, self.get = r.set, r.get
        self.info = f"valkey-glide {_version('valkey-glide')} (RESP2, request_timeout 60 s)"

    async def w3(self, keys, value):
        b = self._Batch(is_atomic=False)
        for k in keys:
            b.set(k, value)
        return await self.r.exec(b, raise_on_error=True)

    def lrange(self, key):
        return self.r.lrange(key, 0, -1)

    def hgetall(self, key):
        return self.r.hgetall(key)

    def mget(self, keys):
        return self.r.mget(keys)

    async def close(self):
        await self.r.close()


class _ByteCounter(asyncio.BufferedProtocol):
    """Counts the bytes received into one reused buffer; resolves each
    request's future once the total reaches its mark (requests in order)."""

    def __init__(self, size=256 * 1024):
        self.buf = bytearray(size)
        self.received = 0
        self.expected = 0
        self.marks = collections.deque()  # (total to reach, future), in request order
        self.lost = None

    def connection_made(self, transport):
        self.transport = transport

    def get_buffer(self, sizehint):
        return self.buf

    def buffer_updated(self, nbytes):
        self.received += nbytes
        marks = self.marks
        while marks and marks[0][0] <= self.received:
            marks.popleft()[1].set_result(None)

    def connection_lost(self, exc):
        self.lost = exc or ConnectionError("connection lost")
        for _, fut in self.marks:
            fut.set_exception(self.lost)

    def request(self, data, reply_len):
        """Write data at once; a future set when reply_len more bytes are in."""
        fut = asyncio.get_running_loop().create_future()
        self.expected += reply_len
        self.marks.append((self.expected, fut))
        self.transport.write(data)
        return fut


class AsyncioFloor:
    """Not a client: what asyncio's default loop costs by itself. One
    connection; each command pre-encoded (cached), written at once, and its
    reply not parsed but counted: the reply lengths of these workloads are
    known in advance (+OK, a bulk of the value set). No library does less
    per command on this loop, so its figures bound what any can reach.

    W4 the same way: the replies' lengths are known from what the server
    was filled with (C.w4_replies), and the workload gets a stand-in of the
    reply's length, nothing parsed or made: bench/run.py adds the cost of
    making the objects to this round trip (see w4_make_costs). Runs on
    uvloop as "asyncio-floor-uvloop"."""

    def __init__(self, address, s):
        self.address, self.s = address, s
        self.encoded = {}
        self.values = {}

    async def open(self):
        loop = asyncio.get_running_loop()
        host, port = self.address
        lengths = {w: len(reply) for w, reply in C.w4_replies(self.s).items()}
        size = max(256 * 1024, *lengths.values())  # a whole W4 reply fits in one read
        _, self.p = await loop.create_connection(lambda: _ByteCounter(size), host, port)
        self.w4 = {  # method -> (command, reply length, stand-in reply)
            "lrange": (C._encode((b"LRANGE", C.W4_LIST, 0, -1)), lengths["W4-LRANGE"],
                       [None] * self.s["w4_list"]),
            "hgetall": (C._encode((b"HGETALL", C.W4_HASH)), lengths["W4-HGETALL"],
                        dict.fromkeys(range(self.s["w4_hash"]))),
            "mget": (C._encode((b"MGET", *C.w4_mget_keys(self.s))), lengths["W4-MGET"],
                     [C.VALUE] * self.s["w4_mget"]),
        }
        self.info = "minimal asyncio.BufferedProtocol, pre-encoded commands, replies counted by length"

    async def _w4(self, method):
        cmd, n, stand_in = self.w4[method]
        await self.p.request(cmd, n)
        return stand_in

    def lrange(self, key):
        return self._w4("lrange")

    def hgetall(self, key):
        return self._w4("hgetall")

    def mget(self, keys):
        return self._w4("mget")

    def _cmd(self, *args):
        data = self.encoded.get(args)
        if data is None:
            data = self.encoded[args] = C._encode(args)
        return data

    async def set(self, key, value):
        self.values[key] = value
        await self.p.request(self._cmd(b"SET", key, value), 5)  # +OK\r\n
        return True

    async def get(self, key):
        value = self.values.get(key, C.VALUE)  # W2's keys hold VALUE (populate)
        await self.p.request(self._cmd(b"GET", key), len(b"$%d\r\n" % len(value)) + len(value) + 2)
        return value

    async def w3(self, keys, value):
        data = self.encoded.get(("w3", value))
        if data is None:
            data = self.encoded[("w3", value)] = b"".join(C._encode((b"SET", k, value)) for k in keys)
        await self.p.request(data, 5 * len(keys))
        return [True] * len(keys)

    async def close(self):
        self.p.transport.close()


ADAPTERS = {
    "ours": Ours,
    "redis-py": RedisPy,
    "aioredis-1.3.1": Aioredis13,
    "coredis": Coredis,
    "asyncio-floor": AsyncioFloor,
    "glide": Glide,
}


# -- workloads ----------------------------------------------------------------

def workloads(c, s):
    """{name: (coroutine function, commands counted)} for adapter c."""
    v = C.VALUE
    k1, k2, k3 = C.w1_keys(s), C.w2_keys(s), C.w3_keys(s)
    mkeys = C.w4_mget_keys(s)
    big = b"y" * s["w5_size"]

    async def w1():
        set_, get_ = c.set, c.get
        for k in k1:
            await set_(k, v)
            if await get_(k) != v:
                raise AssertionError("W1: bad GET reply")

    async def w2():
        get_ = c.get
        n = s["w2_gets"]

        async def task(k):
            for _ in range(n):
                if await get_(k) != v:
                    raise AssertionError("W2: bad GET reply")

        await asyncio.gather(*[task(k) for k in k2])

    async def w3():
        w3_ = c.w3
        for _ in range(s["w3_pipes"]):
            res = await w3_(k3, v)
            if len(res) != len(k3):
                raise AssertionError(f"W3: {len(res)} results for {len(k3)} SETs")

    async def w4_lrange():
        for _ in range(s["w4_lrange_reps"]):
            if len(await c.lrange(C.W4_LIST)) != s["w4_list"]:
                raise AssertionError("W4: bad LRANGE reply")

    async def w4_hgetall():
        for _ in range(s["w4_hgetall_reps"]):
            if len(await c.hgetall(C.W4_HASH)) != s["w4_hash"]:
                raise AssertionError("W4: bad HGETALL reply")

    async def w4_mget():
        for _ in range(s["w4_mget_reps"]):
            res = await c.mget(mkeys)
            if len(res) != len(mkeys) or res[-1] != v:
                raise AssertionError("W4: bad MGET reply")

    async def w5():
        set_, get_ = c.set, c.get
        for _ in range(s["w5_reps"]):
            await set_(C.W5_KEY, big)
            if len(await get_(C.W5_KEY)) != len(big):
                raise AssertionError("W5: bad GET reply")

    return {
        "W1": (w1, 2 * s["w1_n"]),
        "W2": (w2, s["w2_tasks"] * s["w2_gets"]),
        "W3": (w3, s["w3_pipes"] * s["w3_size"]),
        "W4-LRANGE": (w4_lrange, s["w4_lrange_reps"]),
        "W4-HGETALL": (w4_hgetall, s["w4_hgetall_reps"]),
        "W4-MGET": (w4_mget, s["w4_mget_reps"]),
        "W5": (w5, 2 * s["w5_reps"]),
    }


def _run_loop(client, coro_fn):
    """Run coro_fn() on asyncio's default loop, or uvloop for *-uvloop clients."""
    if client.endswith("-uvloop"):
        try:
            import uvloop
        except ImportError as exc:
            raise Skip(f"uvloop not importable in {sys.executable}: {exc}") from None
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coro_fn()), f"uvloop {uvloop.__version__}"
    return asyncio.run(coro_fn()), "asyncio"


def _adapter(client, address, s):
    base = client[:-len("-uvloop")] if client.endswith("-uvloop") else client
    return ADAPTERS[base](address, s)


W4_COMMANDS = {"W4-LRANGE": "lrange", "W4-HGETALL": "hgetall", "W4-MGET": "mget"}


def server_time(address, w):
    """(µs, calls) the server has spent in workload w's command so far, from
    INFO commandstats (a blocking side connection; None if w is not W4)."""
    cmd = W4_COMMANDS.get(w)
    if cmd is None:
        return None
    r = C.RawRedis(address)
    try:
        text = r.call("INFO", "commandstats").decode()
    finally:
        r.close()
    for line in text.splitlines():
        if line.startswith(f"cmdstat_{cmd}:"):
            fields = dict(kv.split("=", 1) for kv in line.split(":", 1)[1].split(","))
            return int(fields["usec"]), int(fields["calls"])
    return 0, 0


def cmd_bench(args):
    s = C.sizes(args.quick)
    address = (args.host, args.port)
    only = args.workloads.split(",") if args.workloads else None

    async def main():
        c = _adapter(args.client, address, s)
        await c.open()
        try:
            wl = workloads(c, s)
            names = [w for w in wl if only is None or w in only]
            for w in names:  # warm-up, not counted
                await wl[w][0]()
            best, server = {}, {}
            for _ in range(args.rounds):  # interleaved: W1..W5, W1..W5, ...
                for w in names:
                    fn, ops = wl[w]
                    before = server_time(address, w)
                    gc.collect()
                    t0 = time.perf_counter()
                    await fn()
                    dt = time.perf_counter() - t0
                    if dt < best.get(w, float("inf")):
                        best[w] = dt
                        if before is not None:  # the server's µs per call in this round
                            usec, calls = (a - b for a, b in zip(server_time(address, w), before))
                            server["S-" + w] = usec / calls
            results = {w: wl[w][1] / dt for w, dt in best.items()}
            results.update(server)
            return {"info": c.info, "results": results}
        finally:
            await c.close()

    res, loop = _run_loop(args.client, main)
    res["info"] += f"; loop {loop}"
    return res


# -- memory: peak RSS growth while reading one big reply ----------------------

def _status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak():
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def cmd_memory(args):
    s = C.sizes(args.quick)
    size = s["mem_size"]

    async def main():
        c = _adapter(args.client, (args.host, args.port), s)
        await c.open()
        try:
            assert await c.get(C.ABSENT_KEY) is None  # a round trip first
            gc.collect()
            before = _status("VmRSS")
            reset = _reset_peak()
            v = await c.get(C.MEM_KEY)
            peak = _status("VmHWM")
            if len(v) != size:
                raise AssertionError(f"GET returned {len(v)} bytes, expected {size}")
            del v
            return {"info": c.info, "results": {"M": (peak - before) / size},
                    "notes": {"rss_before": before, "peak": peak, "size": size,
                              "peak_reset": reset}}
        finally:
            await c.close()

    res, loop = _run_loop(args.client, main)
    res["info"] += f"; loop {loop}"
    return res



# -- parser: our C Reader against hiredis.Reader, no server -------------------

def cmd_parser(args):
    s = C.sizes(args.quick)
    C.import_checkout_aioredis()
    import bench_parser as P
    from aioredis.parser import Reader

    readers = [("ours", Reader)]
    info = "aioredis.parser.Reader"
    try:
        import hiredis
        readers.append(("hiredis", hiredis.Reader))
        info += f" vs hiredis {hiredis.__version__}.Reader"
    except ImportError:
        info += " (hiredis not importable: no comparison)"
    out = {}
    unit, n = P.make_small(s["p_small"])
    cases = [("P-small", P.chunks(unit * n), s["p_small"], s["p_small"], P.PAYLOAD),
             ("P-array", P.chunks(P.make_array(s["p_array"])), 1, s["p_array"],
              [P.PAYLOAD] * s["p_array"])]
    for name, pieces, n_replies, n_items, last in cases:
        for _, cls in readers:
            P.check(cls, pieces, n_replies, last)
        # what bounds any reader: the loop itself (small replies), making
        # the objects without parsing (the array)
        floor = (P.loop_floor(pieces, Reader) if name == "P-small"
                 else P.build_floor([P.PAYLOAD] * s["p_array"]))
        times = P.bench(readers + [("floor", floor)], pieces, args.runs)
        for rname, t in times.items():
            out[f"{name}:{rname}"] = n_items / t
    out.update(w4_make_costs(s, readers))
    return {"info": info, "results": out}


def w4_make_costs(s, readers):
    """Calls per second of making each W4 reply's objects (timed without
    dropping them: a client can drop the previous reply while the server
    works), three ways: marshal.loads of the finished reply (nothing
    parsed, no bytes received) and each reader given the reply's bytes at
    once (HGETALL's as a RESP3 map, so that the reader makes the dict
    itself, as a client converting the RESP2 array in C does). bench/run.py
    takes the fastest as what every client spends at least, after the
    round trip."""
    import marshal

    def fresh(i, prefix):  # distinct 16-byte objects, as a reply has
        return b"%s%0*d" % (prefix, 16 - len(prefix), i)

    finished = {
        "W4-LRANGE": [fresh(i, b"item-") for i in range(s["w4_list"])],
        "W4-HGETALL": {fresh(i, b"field-"): fresh(i, b"v") for i in range(s["w4_hash"])},
        "W4-MGET": [fresh(i, b"val-") for i in range(s["w4_mget"])],
    }
    wire = C.w4_replies(s)
    # the same bulk strings under a map header: "*<2n>" becomes "%<n>"
    head, body = wire["W4-HGETALL"].split(b"\r\n", 1)
    wire["W4-HGETALL"] = b"%%%d\r\n" % (int(head[1:]) // 2) + body

    def by_reader(cls, data):
        def make():
            r = cls()
            r.feed(data)
            return r.gets()
        return make

    out = {}
    for w, obj in finished.items():
        blob = marshal.dumps(obj)
        ways = [("marshal", lambda blob=blob: marshal.loads(blob))]
        ways += [(name, by_reader(cls, wire[w])) for name, cls in readers]
        for how, make in ways:
            made = make()  # a way that made less would time nothing
            if not isinstance(made, (list, dict)) or len(made) != len(obj):
                raise AssertionError(f"{w}: {how} made {type(made).__name__} "
                                     f"of {len(made) if hasattr(made, '__len__') else '?'} items")
            del made
            best = float("inf")
            for _ in range(7):
                spent = 0.0
                for _ in range(20):
                    t = time.perf_counter()
                    reply = make()
                    spent += time.perf_counter() - t
                    del reply  # dropped outside the timing
                best = min(best, spent / 20)
            out[f"B-{w}:{how}"] = 1 / best
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=("bench", "memory", "parser"))
    ap.add_argument("client", nargs="?", choices=CLIENTS)
    ap.add_argument("host", nargs="?")
    ap.add_argument("port", nargs="?", type=int)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--workloads", default="", help="comma-separated subset (bench mode)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="measured rounds after the warm-up; the fastest counts (bench mode)")
    ap.add_argument("--runs", type=int, default=3, help="interleaved runs per reader (parser mode)")
    args = ap.parse_args()
    if args.mode != "parser" and (args.client is None or args.port is None):
        ap.error(f"{args.mode} needs CLIENT HOST PORT")
    try:
        res = {"bench": cmd_bench, "memory": cmd_memory, "parser": cmd_parser}[args.mode](args)
    except Skip as exc:
        print("SKIP", exc, flush=True)
        return
    res["python"] = sys.executable
    print("RESULT", json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
