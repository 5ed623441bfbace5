#!/usr/bin/env python
"""Client benchmark: aioredis (this checkout) vs redis-py's asyncio client.

    python bench/bench_clients.py [--quick] [--reps N] [--redis-server PATH]

Starts ONE throwaway redis-server (free loopback port, no persistence) and runs,
for each client, interleaved over several repetitions:

  W1  sequential: N x (SET key value; GET key), 16-byte values, one await at a time
  W2  concurrent: T tasks x G GETs each, all on ONE client object
      (aioredis: one connection, implicitly pipelined; redis-py: one
      redis.asyncio.Redis with its connection pool, allowed to grow to one
      connection per task, as its default limit of 100 would make W2 fail)
  W3  big replies: R x LRANGE 0 -1 of a 10,000-element list (16-byte items)

and reports the median ops/s of each client per workload, and aioredis/redis-py.
redis-py is used with hiredis (checked via redis.utils.HIREDIS_AVAILABLE and the
parser class it actually picks) and RESP2 (--redis-py-protocol), so both
clients parse the same bytes. Needs `python setup.py build_ext --inplace` first;
PyPI's aioredis must NOT be installed (it would clash by name).
"""

import argparse
import asyncio
import gc
import statistics
import sys
import time

from _common import describe_machine, fmt_rate, import_checkout_aioredis, redis_server

aioredis = import_checkout_aioredis()

try:
    import redis
    import redis.asyncio
    import redis.utils
except ImportError:
    sys.exit("redis-py is needed: pip install 'redis>=5' 'hiredis>=3'")

VALUE = b"0123456789abcdef"  # 16 bytes


class Sizes:
    def __init__(self, quick):
        if quick:
            self.w1_n, self.w2_tasks, self.w2_gets, self.w3_len, self.w3_reps = 200, 50, 5, 1000, 20
        else:
            self.w1_n, self.w2_tasks, self.w2_gets, self.w3_len, self.w3_reps = 2000, 500, 20, 10_000, 200
        self.w1_keys = [f"w1:{i}".encode() for i in range(self.w1_n)]
        self.w2_keys = [f"w2:{i}".encode() for i in range(self.w2_tasks)]

    def describe(self):
        return {
            "W1": f"sequential {self.w1_n} x (SET+GET), 16-byte values",
            "W2": f"{self.w2_tasks} tasks x {self.w2_gets} GETs, one client",
            "W3": f"{self.w3_reps} x LRANGE of a {self.w3_len}-element list",
        }

    def ops(self):
        return {
            "W1": 2 * self.w1_n,
            "W2": self.w2_tasks * self.w2_gets,
            "W3": self.w3_reps,
        }


# -- aioredis -----------------------------------------------------------------

class AioredisClient:
    name = "aioredis"

    def __init__(self, sizes, address):
        self.s = sizes
        self.address = address

    async def open(self):
        self.conn = await aioredis.create_connection(self.address)

    async def close(self):
        self.conn.close()
        await self.conn.wait_closed()

    async def w1(self):
        ex = self.conn.execute
        for key in self.s.w1_keys:
            await ex(b"SET", key, VALUE)
            if await ex(b"GET", key) != VALUE:
                raise AssertionError("bad GET reply")

    async def w2(self):
        ex = self.conn.execute
        gets = self.s.w2_gets

        async def task(key):
            for _ in range(gets):
                if await ex(b"GET", key) != VALUE:
                    raise AssertionError("bad GET reply")

        await asyncio.gather(*[task(k) for k in self.s.w2_keys])

    async def w3(self):
        ex = self.conn.execute
        n = self.s.w3_len
        for _ in range(self.s.w3_reps):
            if len(await ex(b"LRANGE", b"w3:list", 0, -1)) != n:
                raise AssertionError("bad LRANGE reply")


# -- redis-py -----------------------------------------------------------------

class RedisPyClient:
    name = "redis-py"

    def __init__(self, sizes, address, protocol, pool_size):
        self.s = sizes
        self.address = address
        self.protocol = protocol
        self.pool_size = pool_size

    async def open(self):
        host, port = self.address
        # redis-py 8's pool raises MaxConnectionsError past 100 connections
        # by default; W2 needs one connection per concurrent task.
        if self.pool_size:
            pool = redis.asyncio.BlockingConnectionPool(
                host=host, port=port, protocol=self.protocol, max_connections=self.pool_size)
        else:
            pool = redis.asyncio.ConnectionPool(
                host=host, port=port, protocol=self.protocol, max_connections=max(100, self.s.w2_tasks))
        self.r = redis.asyncio.Redis(connection_pool=pool)
        self.pool_desc = f"{type(pool).__name__}(max_connections={pool.max_connections})"
        await self.r.ping()

    async def close(self):
        await self.r.aclose()
        await self.r.connection_pool.disconnect()

    def parser_name(self):
        pool = self.r.connection_pool
        conn = pool.connection_class(**pool.connection_kwargs)  # not connected
        return type(conn._parser).__name__

    async def w1(self):
        r = self.r
        for key in self.s.w1_keys:
            await r.set(key, VALUE)
            if await r.get(key) != VALUE:
                raise AssertionError("bad GET reply")

    async def w2(self):
        r = self.r
        gets = self.s.w2_gets

        async def task(key):
            for _ in range(gets):
                if await r.get(key) != VALUE:
                    raise AssertionError("bad GET reply")

        await asyncio.gather(*[task(k) for k in self.s.w2_keys])

    async def w3(self):
        r = self.r
        n = self.s.w3_len
        for _ in range(self.s.w3_reps):
            if len(await r.lrange(b"w3:list", 0, -1)) != n:
                raise AssertionError("bad LRANGE reply")


# -- baseline -----------------------------------------------------------------

def raw_round_trips(address, n):
    """Blocking socket, one PING at a time: the machine's round-trip ceiling for W1."""
    import socket

    with socket.create_connection(address) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t0 = time.perf_counter()
        for _ in range(n):
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            if sock.recv(64) != b"+PONG\r\n":
                raise AssertionError("bad PING reply")
        return n / (time.perf_counter() - t0)


# -- driver -------------------------------------------------------------------

WORKLOADS = ("W1", "W2", "W3")


async def populate(sizes, address):
    host, port = address
    r = redis.asyncio.Redis(host=host, port=port, protocol=2)
    await r.flushall()
    async with r.pipeline(transaction=False) as p:
        for k in sizes.w2_keys:
            p.set(k, VALUE)
        items = [b"item-%011d" % i for i in range(sizes.w3_len)]  # 16 bytes each
        for i in range(0, len(items), 1000):
            p.rpush(b"w3:list", *items[i:i + 1000])
        await p.execute()
    assert await r.llen(b"w3:list") == sizes.w3_len
    await r.aclose()


async def run(args):
    sizes = Sizes(args.quick)
    with redis_server(args.redis_server) as address:
        await populate(sizes, address)
        clients = [AioredisClient(sizes, address), RedisPyClient(sizes, address, args.redis_py_protocol, args.redis_py_blocking_pool)]
        for c in clients:
            await c.open()
        rp = clients[1]
        parser = rp.parser_name()
        print(f"redis-py {redis.__version__}: HIREDIS_AVAILABLE={redis.utils.HIREDIS_AVAILABLE}, "
              f"parser {parser}, protocol {args.redis_py_protocol}, {rp.pool_desc}")
        if not redis.utils.HIREDIS_AVAILABLE or "Hiredis" not in parser:
            msg = "redis-py is NOT using hiredis (pip install 'hiredis>=3')"
            if not args.allow_no_hiredis:
                sys.exit(msg + "; pass --allow-no-hiredis to run anyway")
            print("WARNING:", msg)

        ops = sizes.ops()
        results = {(c.name, w): [] for c in clients for w in WORKLOADS}
        baseline = []
        # Round 0 is a warm-up (redis-py opens its pool's connections in W2).
        for rep in range(args.reps + 1):
            order = clients if rep % 2 == 0 else clients[::-1]
            rt = raw_round_trips(address, ops["W1"])
            if rep > 0:
                baseline.append(rt)
            for c in order:
                for w in WORKLOADS:
                    fn = getattr(c, w.lower())
                    gc.collect()
                    t0 = time.perf_counter()
                    await fn()
                    dt = time.perf_counter() - t0
                    if rep > 0:
                        results[(c.name, w)].append(ops[w] / dt)
            if rep == 0:
                print("warm-up done; measuring", args.reps, "repetitions ", end="", flush=True)
            else:
                print(".", end="", flush=True)
        print()
        for c in clients:
            await c.close()

    desc = sizes.describe()
    print()
    print(f"{'workload':<50} {'aioredis ops/s':>15} {'redis-py ops/s':>15} {'ratio':>7}")
    print("-" * 90)
    for w in WORKLOADS:
        a = statistics.median(results[("aioredis", w)])
        b = statistics.median(results[("redis-py", w)])
        print(f"{w + ' ' + desc[w]:<50} {fmt_rate(a) + 'ops/s':>15} {fmt_rate(b) + 'ops/s':>15} {a / b:>6.2f}x")
    print()
    print(f"baseline: {fmt_rate(statistics.median(baseline))} round trips/s with a blocking socket, "
          "one PING at a time (roughly the ceiling for W1)")
    print(f"median of {args.reps} interleaved repetitions; ratio = aioredis / redis-py (higher is better for aioredis)")
    print("W3 ops are LRANGE calls (each returns", sizes.w3_len, "items)")
    if args.verbose:
        print("baseline", " ".join(f"{v:.0f}" for v in baseline))
        for key, vals in results.items():
            print(key, " ".join(f"{v:.0f}" for v in vals))


def main():
    ap = argparse.ArgumentParser(description="aioredis vs redis.asyncio client benchmark")
    ap.add_argument("--quick", action="store_true", help="tiny smoke run")
    ap.add_argument("--reps", type=int, default=None, help="measured repetitions (default 7, --quick 2)")
    ap.add_argument("--redis-server", default="redis-server", help="redis-server binary")
    ap.add_argument("--redis-py-protocol", type=int, choices=(2, 3), default=2,
                    help="RESP version for redis-py (default 2, what aioredis speaks)")
    ap.add_argument("--redis-py-blocking-pool", type=int, default=0, metavar="N",
                    help="give redis-py a BlockingConnectionPool of N connections instead of a "
                         "ConnectionPool large enough for one connection per W2 task")
    ap.add_argument("--allow-no-hiredis", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every measurement")
    args = ap.parse_args()
    if args.reps is None:
        args.reps = 2 if args.quick else 7
    print("aioredis from", aioredis.__file__)
    print(describe_machine())
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
