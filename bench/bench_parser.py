#!/usr/bin/env python
"""Parser benchmark: aioredis.parser.Reader (C) vs hiredis.Reader vs PyReader.

    python bench/bench_parser.py [--quick] [--runs N]

(bench/run.py runs the same two inputs as its "P" rows; this script adds the
pure-Python PyReader and prints times and MB/s.)

No server involved. Two inputs, each fed in 64 KiB chunks, draining gets()
after every feed (as a protocol's data_received would):

  small  N small bulk replies, "$16\\r\\n<16 bytes>\\r\\n" (N = 1,000,000)
  array  one array of 100,000 bulk strings of 16 bytes

Reports the median over several interleaved runs (replies/s for "small", arrays/s and
items/s for "array", plus MB/s) and the ratio to hiredis. The pure-Python
PyReader runs on inputs 10x smaller (--py-scale) and is reported separately,
scaled to per-second rates, which are size-independent to first order.
"""

import argparse
import gc
import statistics
import sys
import time

from _common import describe_machine, import_checkout_aioredis

# The helpers below are also used by bench/worker.py (the "P" rows of
# bench/run.py); the readers are imported in main() only.

CHUNK = 64 * 1024
PAYLOAD = b"0123456789abcdef"


def make_small(n):
    return b"$16\r\n" + PAYLOAD + b"\r\n", n


def make_array(n):
    return b"*%d\r\n" % n + (b"$16\r\n" + PAYLOAD + b"\r\n") * n


def chunks(data):
    mv = memoryview(data)
    return [bytes(mv[i:i + CHUNK]) for i in range(0, len(data), CHUNK)]


def parse_all(reader_cls, pieces):
    """Feed every chunk, drain replies after each; return (replies, last reply)."""
    r = reader_cls()
    feed, gets = r.feed, r.gets
    count = 0
    last = None
    for piece in pieces:
        feed(piece)
        while True:
            reply = gets()
            if reply is False:
                break
            count += 1
            last = reply
    return count, last


def loop_floor(pieces, reader_cls):
    """A stand-in "reader" class for parse_all() that parses nothing: its
    gets() hands out replies reader_cls made beforehand (the same number
    after each chunk), its feed() does nothing. Timing it measures the
    benchmark's own Python loop, which no reader can go below."""
    seq = []
    r = reader_cls()
    for piece in pieces:
        r.feed(piece)
        while (reply := r.gets()) is not False:
            seq.append(reply)
        seq.append(False)

    class LoopFloor:
        __slots__ = ("feed", "gets")

        def __init__(self):
            self.feed = id  # a C function taking one argument, doing nothing useful
            self.gets = iter(seq).__next__

    return LoopFloor


def build_floor(reply):
    """A stand-in "reader" class for parse_all() whose one gets() builds
    ``reply`` (a list of bytes) with marshal.loads: making the objects
    without any parsing, the other part no reader can go below."""
    import marshal

    # distinct objects: marshal writes an object seen twice as a reference
    blob = marshal.dumps([bytes(bytearray(item)) for item in reply])

    class BuildFloor:
        def __init__(self):
            self._done = False

        def feed(self, piece):
            pass

        def gets(self):
            if self._done:
                return False
            self._done = True
            return marshal.loads(blob)

    return BuildFloor


def bench(readers, pieces, runs):
    """Median seconds per reader; the runs of the readers are interleaved."""
    times = {name: [] for name, _ in readers}
    for i in range(runs):
        order = readers if i % 2 == 0 else readers[::-1]
        for name, cls in order:
            gc.collect()
            t0 = time.perf_counter()
            out = parse_all(cls, pieces)
            times[name].append(time.perf_counter() - t0)
            del out  # free the replies outside the timed region
    return {name: statistics.median(t) for name, t in times.items()}


def check(reader_cls, pieces, expect_count, expect_last):
    count, last = parse_all(reader_cls, pieces)
    if count != expect_count or last != expect_last:
        raise AssertionError(
            f"{reader_cls.__module__}.{reader_cls.__qualname__}: got {count} replies "
            f"(last {str(last)[:60]}), expected {expect_count}"
        )


def run_case(title, data, n_replies, n_items, last, runs, readers, unit):
    pieces = chunks(data)
    mb = len(data) / 1e6
    print(f"\n{title}: {len(data) / 1e6:.1f} MB in {len(pieces)} chunks of 64 KiB, {runs} runs")
    for name, cls in readers:
        check(cls, pieces, n_replies, last)
    res = bench(readers, pieces, runs)
    base = res.get("hiredis.Reader")
    for name, t in res.items():
        ratio = f"{base / t:6.2f}x hiredis" if base else ""
        rate = n_items / t
        print(f"  {name:<24} {t * 1e3:9.1f} ms  {rate / 1e6:8.2f} M{unit}/s  {mb / t:8.1f} MB/s  {ratio}")
    return res


def main():
    ap = argparse.ArgumentParser(description="RESP parser benchmark")
    ap.add_argument("--quick", action="store_true", help="tiny smoke run")
    ap.add_argument("--runs", type=int, default=None, help="runs per reader (default 7, --quick 2)")
    ap.add_argument("--py-scale", type=int, default=10,
                    help="PyReader input is this many times smaller (default 10)")
    ap.add_argument("--no-py", action="store_true", help="skip PyReader")
    args = ap.parse_args()

    aioredis = import_checkout_aioredis()
    from aioredis.parser import PyReader, Reader

    try:
        import hiredis
    except ImportError:
        sys.exit("hiredis is needed: pip install 'hiredis>=3'")

    runs = args.runs or (2 if args.quick else 7)
    n_small = 20_000 if args.quick else 1_000_000
    n_array = 2_000 if args.quick else 100_000

    print("aioredis from", aioredis.__file__)
    print(f"hiredis {hiredis.__version__} from {hiredis.__file__}")
    print(describe_machine())

    c_readers = [("aioredis.parser.Reader", Reader), ("hiredis.Reader", hiredis.Reader)]

    unit, n = make_small(n_small)
    small = unit * n
    run_case(f"small: {n_small:,} x $16 bulk replies", small, n_small, n_small, PAYLOAD,
             runs, c_readers, "replies")
    arr = make_array(n_array)
    res = run_case(f"array: 1 x {n_array:,}-element array of $16 bulk strings", arr, 1, n_array,
                   [PAYLOAD] * n_array, runs, c_readers, "items")
    print(f"  ({1 / res['aioredis.parser.Reader']:.1f} arrays/s aioredis, "
          f"{1 / res['hiredis.Reader']:.1f} arrays/s hiredis)")

    if not args.no_py:
        print(f"\nPyReader (pure Python), inputs {args.py_scale}x smaller; rates comparable to the above:")
        py_runs = max(1, min(runs, 3))
        ns = max(1, n_small // args.py_scale)
        na = max(1, n_array // args.py_scale)
        readers = [("aioredis.parser.PyReader", PyReader), ("hiredis.Reader", hiredis.Reader)]
        run_case(f"small: {ns:,} x $16 bulk replies", unit * ns, ns, ns, PAYLOAD, py_runs, readers, "replies")
        run_case(f"array: 1 x {na:,}-element array", make_array(na), 1, na, [PAYLOAD] * na,
                 py_runs, readers, "items")
    print("\nratio = hiredis time / reader time (higher is faster than hiredis)")


if __name__ == "__main__":
    main()
