#!/usr/bin/env python
"""Instruction counts of the parser benchmark under callgrind (stable run to run).

    python bench/callgrind_parser.py              # runs valgrind, prints the table
    python bench/callgrind_parser.py --markdown   # the same, as a markdown table

For each reader (this library's ``aioredis.parser.Reader`` and
``hiredis.Reader``) and each fixed input, runs

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        --toggle-collect=Reader_feed --toggle-collect=Reader_gets \\
        python bench/callgrind_parser.py --child READER INPUT

and reads callgrind's "Collected" count: the instructions executed inside
``Reader.feed()`` and ``Reader.gets()`` and everything they call (both
extensions name these C functions ``Reader_feed`` / ``Reader_gets``), i.e.
the parsing and the building of the reply objects, without the Python loop
that calls them. A second count without ``--toggle-collect`` for the whole
process, minus the same process stopped just before parsing (input built,
reader imported: ``--no-parse``), gives the cost including that loop.

Inputs (small enough for valgrind, fixed): ``small`` = 100,000 replies
``$16\\r\\n<16 bytes>\\r\\n``; ``array`` = one array of 10,000 such bulk
strings; both fed in 64 KiB chunks, ``gets()`` drained after each ``feed()``,
as in bench_parser.py. PYTHONHASHSEED=0 for repeatability.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

from _common import ROOT, describe_machine, write_readme_section

N_SMALL = 100_000
N_ARRAY = 10_000
READERS = ("ours", "hiredis")


def child(reader, which, parse):
    import bench_parser as P

    if which == "small":
        unit, n = P.make_small(N_SMALL)
        pieces, expect = P.chunks(unit * n), (N_SMALL, P.PAYLOAD)
    else:
        pieces, expect = P.chunks(P.make_array(N_ARRAY)), (1, [P.PAYLOAD] * N_ARRAY)
    if reader == "ours":
        sys.path.insert(0, ROOT)
        from aioredis.parser import Reader
    else:
        from hiredis import Reader
    if not parse:
        return
    count, last = P.parse_all(Reader, pieces)
    if (count, last) != expect:
        sys.exit(f"{reader}: wrong output for {which}")


def callgrind(reader, which, toggle, parse=True):
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    if toggle:
        cmd += ["--toggle-collect=Reader_feed", "--toggle-collect=Reader_gets"]
    cmd += [sys.executable, os.path.abspath(__file__), "--child", reader, which]
    if not parse:
        cmd.append("--no-parse")
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    m = re.search(r"Collected\s*:\s*(\d+)", proc.stderr)
    if proc.returncode != 0 or not m:
        sys.exit(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return int(m.group(1))


def main():
    ap = argparse.ArgumentParser(description="callgrind instruction counts of the parsers")
    ap.add_argument("--child", nargs=2, metavar=("READER", "INPUT"), help=argparse.SUPPRESS)
    ap.add_argument("--no-parse", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    ap.add_argument("--write-readme", action="store_true",
                    help="also write the markdown table into bench/README.md")
    args = ap.parse_args()
    if args.child:
        reader, which = args.child
        return child(reader, which, not args.no_parse)

    if args.write_readme:
        args.markdown = True
    if shutil.which("valgrind") is None:
        sys.exit("valgrind not found (apt-get install valgrind)")
    import hiredis
    version = subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip()
    head = f"{version}; {describe_machine()}; hiredis {hiredis.__version__}"
    print(head, flush=True)
    rows = []
    for which, items in (("small", N_SMALL), ("array", N_ARRAY)):
        counts = {}
        for r in READERS:
            inside = callgrind(r, which, toggle=True)
            whole = callgrind(r, which, toggle=False) - callgrind(r, which, False, parse=False)
            counts[r] = (inside, whole)
        rows.append((which, items, counts))

    out = []
    emit = out.append
    what = {"small": f"{N_SMALL:,} × `$16` bulk replies", "array": f"1 × {N_ARRAY:,}-element array"}
    if args.markdown:
        emit("| input | reader | Ir in feed()+gets() | per item | Ir incl. the Python loop | per item |")
        emit("| --- | --- | ---: | ---: | ---: | ---: |")
    summary = []
    for which, items, counts in rows:
        for r in READERS:
            inside, whole = counts[r]
            name = "aioredis.parser.Reader" if r == "ours" else "hiredis.Reader"
            if args.markdown:
                emit(f"| {what[which]} | {name} | {inside:,} | {inside / items:.0f} | "
                     f"{whole:,} | {whole / items:.0f} |")
            else:
                emit(f"{which:<6} {name:<24} feed+gets {inside:>12,} Ir ({inside / items:5.0f}/item)   "
                     f"with loop {whole:>12,} Ir ({whole / items:5.0f}/item)")
        (o, ow), (h, hw) = counts["ours"], counts["hiredis"]
        summary.append(f"{'- ' if args.markdown else ''}{what[which]}: hiredis ÷ ours = {h / o:.2f} "
                       f"in feed()+gets(), {hw / ow:.2f} including the Python loop")
    if args.markdown:
        emit("")
    out += summary

    print("\n".join(out))
    if args.write_readme:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=ROOT).stdout.strip()
        write_readme_section("callgrind", f"`python bench/callgrind_parser.py --write-readme`: {head}; "
                             f"aioredis at commit {sha} (working tree as it was then).\n\n" + "\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
