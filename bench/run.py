#!/usr/bin/env python
"""The benchmark: this library against the other Python Redis clients and redis-benchmark.

    python bench/run.py [--quick] [--reps N] [--clients a,b,...] [--write-readme]
    python bench/run.py --setup-only        # (re)create the peers' virtualenvs

Starts one throwaway redis-server (free loopback port, no persistence), fills
it, and runs every client in its own process, interleaved over N repetitions
(each repetition runs every client once, in a rotated order). Each client
process runs all workloads once as a warm-up, then once measured. Prints per
workload the median ops/s of each client and this library's speed relative
to it, the parser comparison (P), the peak memory of reading a 100 MB reply
(M), and the issue's targets with the measured value.

The peers are installed from PyPI into bench/.venvs/<env>/ (one virtualenv
each: aioredis 1.3.1 has the same import name as this library), created on
the first full run (or with --setup / --setup-only). This library always
runs from the checkout (built in place). --quick runs tiny workloads, never
installs anything, and skips peers whose virtualenv is absent.
"""

import argparse
import collections
import concurrent.futures
import csv
import datetime
import io
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time

import _common as C

# AIOREDIS_BENCH_VENVS: another place for them (tests/test_bench_quick.py
# points it at an empty directory, so that no peer is found).
VENVS = os.environ.get("AIOREDIS_BENCH_VENVS") or os.path.join(C.BENCH, ".venvs")

# env name -> (pip requirements, modules that must import afterwards)
ENVS = {
    "ours": (["uvloop", "hiredis"], ["uvloop", "hiredis"]),
    "redis-py": (["redis", "hiredis"], ["redis", "hiredis"]),
    "aioredis-1.3.1": (["aioredis==1.3.1", "hiredis", "uvloop"], ["aioredis", "hiredis", "uvloop"]),
    "coredis": (["coredis"], ["coredis"]),
    "glide": (["valkey-glide"], ["glide"]),
}

# client -> env; in display order. "ours" falls back to the running python.
CLIENT_ENV = {
    "ours": "ours",
    "ours-uvloop": "ours",
    "redis-py": "redis-py",
    "aioredis-1.3.1": "aioredis-1.3.1",
    "aioredis-1.3.1-uvloop": "aioredis-1.3.1",
    "coredis": "coredis",
    "glide": "glide",
    "asyncio-floor": "ours",
    "asyncio-floor-uvloop": "ours",
}
PY_CLIENTS = list(CLIENT_ENV)
RB = "redis-benchmark"
ALL_CLIENTS = PY_CLIENTS + [RB]
HEADERS = {
    "ours": "ours asyncio",
    "ours-uvloop": "ours uvloop",
    "redis-py": "redis-py+hiredis",
    "aioredis-1.3.1": "aioredis 1.3.1+hiredis",
    "aioredis-1.3.1-uvloop": "aioredis 1.3.1 uvloop",
    "coredis": "coredis",
    "glide": "valkey-glide",
    "asyncio-floor": "floor (no client)",
    "asyncio-floor-uvloop": "floor uvloop (no client)",
    RB: "redis-benchmark",
}
# The clients a peer is compared with: the uvloop peers with ours on uvloop.
BASE = {c: ("ours-uvloop" if c.endswith("-uvloop") else "ours") for c in ALL_CLIENTS}
WORKLOADS = ["W1", "W2", "W3", "W4-LRANGE", "W4-HGETALL", "W4-MGET", "W5"]
MEMORY_CLIENTS = ["ours", "redis-py", "aioredis-1.3.1", "coredis", "glide"]

# redis-benchmark's clock is in milliseconds: its -n is this many times ours,
# so that each of its tests lasts long enough to be measured (rates are per
# second either way).
RB_SCALE = {"W1": 2, "W2": 20, "W3": 20, "W4-LRANGE": 10, "W4-HGETALL": 10, "W4-MGET": 10,
            "W5": 5}


def labels(s):
    return {
        "W1": f"W1 {s['w1_n']:,} × (SET+GET), one in flight",
        "W2": f"W2 {s['w2_tasks']:,} tasks × {s['w2_gets']} GET, one client",
        "W3": f"W3 {s['w3_pipes']:,} pipelines × {s['w3_size']} SET",
        "W4-LRANGE": f"W4 LRANGE of {s['w4_list']:,} items (× {s['w4_lrange_reps']})",
        "W4-HGETALL": f"W4 HGETALL of {s['w4_hash']:,} fields (× {s['w4_hgetall_reps']})",
        "W4-MGET": f"W4 MGET of {s['w4_mget']:,} keys (× {s['w4_mget_reps']})",
        "W5": f"W5 {s['w5_reps']} × (SET+GET) of {s['w5_size'] >> 10:,} KiB",
    }


# -- setup: one virtualenv per peer --------------------------------------------

def env_dir(env):
    return os.path.join(VENVS, env)


def env_python(env):
    return os.path.join(env_dir(env), "bin", "python")


def env_state(env):
    """('ok', None) | ('failed', reason) | ('absent', None)."""
    d = env_dir(env)
    if os.path.exists(os.path.join(d, ".bench-ok")) and os.path.exists(env_python(env)):
        return "ok", None
    failed = os.path.join(d, ".bench-failed")
    if os.path.exists(failed):
        with open(failed) as f:
            return "failed", f.read().strip()
    return "absent", None


def setup_env(env):
    """Create bench/.venvs/<env> and pip install its packages; return (env, ok, message)."""
    reqs, modules = ENVS[env]
    d = env_dir(env)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(VENVS, exist_ok=True)

    def fail(step, proc):
        out = ((proc.stdout or "") + (proc.stderr or "")).strip().splitlines()
        tail = [ln for ln in out if not ln.startswith("WARNING: Location")][-15:]
        last = next((ln for ln in reversed(tail) if "error" in ln.lower()), tail[-1] if tail else "")
        msg = f"{step} failed (exit {proc.returncode}): {last.strip()}\n" + "\n".join(tail)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, ".bench-failed"), "w") as f:
            f.write(msg + "\n")
        return env, False, msg

    steps = [
        ("python -m venv", [sys.executable, "-m", "venv", d]),
        ("pip install " + " ".join(reqs),
         [os.path.join(d, "bin", "python"), "-m", "pip", "install", "-q",
          "--disable-pip-version-check", *reqs]),
        ("import " + ", ".join(modules),
         [os.path.join(d, "bin", "python"), "-c", "import " + ", ".join(modules)]),
    ]
    for step, cmd in steps:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=clean_env(), cwd=VENVS)
        if proc.returncode != 0:
            return fail(step, proc)
    freeze = subprocess.run([env_python(env), "-m", "pip", "freeze", "--disable-pip-version-check"],
                            capture_output=True, text=True).stdout
    with open(os.path.join(d, ".bench-ok"), "w") as f:
        f.write(freeze)
    pkgs = ", ".join(ln for ln in freeze.split() if ln.split("==")[0].lower() in
                     {r.split("==")[0].lower() for r in reqs})
    return env, True, pkgs


def setup(envs, force):
    todo = [e for e in envs if force or env_state(e)[0] == "absent"]
    if not todo:
        return
    print(f"setting up virtualenvs in {VENVS}: {', '.join(todo)} (pip, from PyPI) ...", flush=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as ex:
        for env, ok, msg in ex.map(setup_env, todo):
            print(f"  {env}: {'OK: ' + msg if ok else 'NOT INSTALLED: ' + msg.splitlines()[0]}")
            if not ok:
                for line in msg.splitlines()[1:]:
                    print("     ", line)


# -- running the clients -------------------------------------------------------

def clean_env():
    env = dict(os.environ)
    for k in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"):
        env.pop(k, None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def python_for(client, quick):
    """(python executable, None) or (None, reason it cannot run)."""
    env = CLIENT_ENV[client]
    state, reason = env_state(env)
    if state == "ok":
        return env_python(env), None
    if env == "ours":
        return sys.executable, None  # the running python; uvloop may be absent
    if state == "failed":
        return None, f"not installable: {reason.splitlines()[0]} (see {env_dir(env)}/.bench-failed)"
    hint = "" if quick else " (setup skipped: --no-setup)"
    return None, f"{env_dir(env)} not set up{hint}; `python bench/run.py --setup-only`"


def run_worker(python, argv, timeout):
    """Run worker.py; return ('ok', result dict) | ('skip', reason) | ('error', message).
    An error is retried once (the extension may be being rebuilt in place
    by someone else at that moment)."""
    status, res = _run_worker(python, argv, timeout)
    if status == "error":
        print(f"  {' '.join(argv[:2])}: {res}; retrying once", flush=True)
        status, res = _run_worker(python, argv, timeout)
    return status, res


def _run_worker(python, argv, timeout):
    cmd = [python, os.path.join(C.BENCH, "worker.py"), *argv]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=clean_env(), cwd=C.ROOT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return "error", f"timed out after {timeout} s: {' '.join(argv)}"
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            if proc.returncode == 0:
                return "ok", json.loads(line[7:])
        if line.startswith("SKIP "):
            return "skip", line[5:]
    err = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    return "error", f"exit {proc.returncode}: " + (err[-1] if err else "(no output)")


def run_redis_benchmark(address, s, timeout, rounds):
    """The nearest redis-benchmark command lines: {workload: ops/s}."""
    host, port = address
    base = ["redis-benchmark", "-h", host, "-p", str(port), "--csv", "-c", "1"]
    mkeys = [k.decode() for k in C.w4_mget_keys(s)]
    scale = RB_SCALE
    lines = {
        "W1": ["-t", "set,get", "-n", s["w1_n"] * scale["W1"], "-P", 1, "-d", 16],
        "W2": ["-n", s["w2_tasks"] * s["w2_gets"] * scale["W2"], "-P", s["w2_tasks"],
               "GET", C.w2_keys(s)[0].decode()],
        "W3": ["-t", "set", "-n", s["w3_pipes"] * s["w3_size"] * scale["W3"], "-P", s["w3_size"],
               "-d", 16],
        "W4-LRANGE": ["-n", s["w4_lrange_reps"] * scale["W4-LRANGE"], "-P", 1,
                      "LRANGE", C.W4_LIST.decode(), 0, -1],
        "W4-HGETALL": ["-n", s["w4_hgetall_reps"] * scale["W4-HGETALL"], "-P", 1,
                       "HGETALL", C.W4_HASH.decode()],
        "W4-MGET": ["-n", s["w4_mget_reps"] * scale["W4-MGET"], "-P", 1, "MGET", *mkeys],
        "W5": ["-t", "set,get", "-n", s["w5_reps"] * scale["W5"], "-P", 1, "-d", s["w5_size"]],
    }
    out, cmdlines = {}, {}

    def once(w, extra):
        for _ in range(4):
            cmd = base + [str(x) for x in extra]
            shown = " ".join(cmd[:1] + cmd[5:])  # without host/port
            if w == "W4-MGET":
                shown = (" ".join(cmd[:1] + cmd[5:cmd.index("MGET") + 1])
                         + f" w4:k:0 … w4:k:{s['w4_mget'] - 1}")
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            if proc.returncode != 0:
                raise RuntimeError(f"{shown}: exit {proc.returncode}: {proc.stderr.strip()[-200:]}")
            rows = [r for r in csv.reader(io.StringIO(proc.stdout)) if r and r[0] != "test"]
            rates = [float(r[1]) for r in rows]
            if not rates or min(rates) <= 0:
                raise RuntimeError(f"{shown}: no rate in {proc.stdout!r}")
            if max(rates) != float("inf"):
                cmdlines[w] = shown
                # set,get: the same number of each, so the combined rate is the harmonic mean
                return len(rates) / sum(1 / r for r in rates)
            # under a millisecond: too short for its clock (only with --quick sizes)
            extra[extra.index("-n") + 1] *= 10
        raise RuntimeError(f"{shown}: still too short to time")

    for _ in range(rounds):  # like the Python clients: interleaved rounds, the fastest counts
        for w, extra in lines.items():
            out[w] = max(out.get(w, 0), once(w, extra))
    return out, cmdlines


# -- the report ----------------------------------------------------------------

def fmt(x):
    return C.fmt_rate(x).strip()


def med(results, w, c):
    vals = results.get(w, {}).get(c)
    return statistics.median(vals) if vals else None


def ratio(a, b):
    return a / b if a is not None and b else None


def build_report(s, results, clients, info, notes, skipped, rb_lines, args, meta):
    lab = labels(s)
    shown = [c for c in ALL_CLIENTS if c in clients and any(results.get(w, {}).get(c) for w in WORKLOADS)]
    out = []
    p = out.append
    p(f"Median of {meta['reps']} interleaved repetitions, each a fresh process per client "
      f"taking the fastest of {meta['rounds']} rounds after a warm-up (ops/s = commands per second; "
      "in brackets: **this library ÷ that client**, above 1× means this library is faster; "
      "uvloop peers are compared with this library on uvloop).")
    p("")
    p("| workload | " + " | ".join(HEADERS[c] for c in shown) + " |")
    p("| --- |" + " ---: |" * len(shown))
    for w in WORKLOADS:
        cells = []
        for c in shown:
            v = med(results, w, c)
            if v is None:
                cells.append("–")
            elif c in ("ours", "ours-uvloop"):
                cells.append(fmt(v))
            else:
                r = ratio(med(results, w, BASE[c]), v)
                cells.append(f"{fmt(v)} ({r:.2f}×)" if r else fmt(v))
        p(f"| {lab[w]} | " + " | ".join(cells) + " |")
    p("")

    if results.get("P-small"):
        p(f"Parser alone (no server; 64 KiB chunks, `gets()` drained after each `feed()`; "
          f"items/s, median over repetitions of the median of {meta['p_runs']} interleaved runs):")
        p("")
        p("| input | ours (aioredis.parser.Reader) | hiredis.Reader | ours ÷ hiredis | floor | "
          "floor ÷ hiredis: the most any reader could reach |")
        p("| --- | ---: | ---: | ---: | ---: | ---: |")
        for key, what in (("P-small", f"P {s['p_small']:,} × `$16` bulk replies"),
                          ("P-array", f"P 1 × {s['p_array']:,}-element array")):
            a, h, f = med(results, key, "ours"), med(results, key, "hiredis"), med(results, key, "floor")
            r, fr = ratio(a, h), ratio(f, h)
            p(f"| {what} | {fmt(a) if a else '–'} | {fmt(h) if h else '–'} | "
              f"{f'{r:.2f}×' if r else '–'} | {fmt(f) if f else '–'} | {f'{fr:.2f}×' if fr else '–'} |")
        p("")
        p("The floor parses nothing: for the small replies, the same Python loop with a "
          "`gets()` handing out replies made beforehand (the loop's own cost); for the array, "
          f"`marshal.loads` of the same list (making the {s['p_array']:,} bytes objects and the "
          "list, without any parsing).")
        p("")

    if results.get("M"):
        p(f"Memory: one GET of a {s['mem_size'] / 1e6:g} MB value in a fresh process; peak RSS "
          "growth during the GET (VmHWM after − VmRSS before) ÷ the value's size (the returned "
          "bytes object itself is 1.0×):")
        p("")
        mc = [c for c in MEMORY_CLIENTS if results["M"].get(c)]
        p("| M | " + " | ".join(HEADERS[c] for c in mc) + " |")
        p("| --- |" + " ---: |" * len(mc))
        p(f"| M GET {s['mem_size'] / 1e6:g} MB: peak RSS growth ÷ size | "
          + " | ".join(f"{results['M'][c][0]:.2f}×" for c in mc) + " |")
        p("")

    p("Targets (issue 5, item 3), from the medians above:")
    p("")
    p("| target | measured | the most any client reached or could reach here | met |")
    p("| --- | ---: | ---: | :---: |")
    for name, val, thr, cmp_, bound in targets(results, s):
        if bound is not None and val is not None:
            bound = max(bound, val)  # this library beat its floor: that is what was reached
        if val is None:
            p(f"| {name} | not measured | {times(bound)} | – |")
        else:
            p(f"| {name} | {val:.2f}× | {times(bound)} | {verdict(val, thr, cmp_, bound)} |")
    p("")
    p("The bound column: for W1, W3 and W5 the floor (no client: a bare "
      "asyncio protocol, commands pre-encoded, replies counted) ÷ that client; for W4 the "
      "fastest peer's time per call ÷ the least time in its conditions (the W4 table below); "
      "for P the parser floor ÷ hiredis; the measured ratio instead where this library did "
      "better than that. \"bounded\": even that is short of the target.")
    p("")

    bounds = floor_bounds(results)
    if bounds:
        p("What bounds the targets against redis-benchmark: the asyncio floor (a bare "
          "`asyncio.BufferedProtocol` on the same default loop, commands pre-encoded, replies "
          "counted by their known length, nothing parsed or built) against redis-benchmark, "
          "and this library against that floor:")
        p("")
        p("| workload | floor ÷ redis-benchmark | ours ÷ floor | ours ÷ redis-benchmark |")
        p("| --- | ---: | ---: | ---: |")
        for w, fr, of, orb in bounds:
            p(f"| {lab[w]} | {fr:.2f}× | {of:.2f}× | {orb:.2f}× |")
        p("")

    wb = w4_bounds(results)
    if wb:
        p("What bounds W4 (one large reply in flight). A call takes at least three things, one "
          "after the other: the server computes the whole reply before it sends a byte (its "
          "time per call during each client's own runs, `usec_per_call` in `INFO "
          "commandstats`); the round trip beyond that on the same event loop (the floor's: "
          "the command written, the reply's bytes received and counted, nothing parsed or "
          "made; its µs per call less the server's during its runs); and making the reply's "
          "objects once its last byte is in (the fastest measured of `marshal.loads` of the "
          "finished reply, hiredis.Reader and this library's Reader given the reply's bytes "
          "— HGETALL's as a RESP3 map, so the reader makes the dict; timed without dropping "
          "them, as a client can drop the previous reply while the server works). Their sum "
          "at a client's own server time is the least time per call in its conditions: ours "
          "over it is how much this library adds; the fastest peer over it is the most any "
          "client on that loop could be faster than that peer.")
        p("")
        p("| workload | loop | round trip beyond the server, µs | making the objects, µs | "
          "ours: µs per call (server µs) | ours ÷ the least in its conditions | "
          "fastest peer: µs per call (server µs) | the most any client can be faster "
          "than it | ours ÷ it |")
        p("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for b in wb:
            over = ratio(b.ours[0], least_time(b.ours[1], b.round_trip, b.make))
            most = least_ratio(b.peer_t, b.round_trip, b.make) if b.peer else None
            vs = ratio(b.peer_t[0], b.ours[0]) if b.peer else None
            peer_cell = f"{HEADERS.get(b.peer, b.peer)}: {call_cell(b.peer_t)}" if b.peer else "–"
            p(f"| {lab[b.w]} | {b.loop} | {b.round_trip:.0f} | {b.make:.0f} ({b.how}) | "
              f"{call_cell(b.ours)} | {times(over)} | {peer_cell} | {times(most)} | {times(vs)} |")
        p("")

    p("Clients:")
    p("")
    for c in shown + [c for c in ("parser",) if c in info]:
        if c in info:
            p(f"- {HEADERS.get(c, c)}: {info[c]}")
    if rb_lines:
        p("- redis-benchmark command lines (`-h 127.0.0.1 -p PORT --csv -c 1` omitted; "
          "a SET,GET pair is reported as their combined rate; -n is scaled up from "
          "the Python workloads so each test lasts long enough for its millisecond clock):")
        for w in WORKLOADS:
            if w in rb_lines:
                p(f"  - {w}: `{rb_lines[w]}`")
    p("")
    if skipped:
        p("Not run:")
        p("")
        for c, why in skipped.items():
            p(f"- {HEADERS.get(c, c)}: {why}")
        p("")
    for n in notes:
        p(n)
    return "\n".join(out).rstrip() + "\n"


W4_WORKLOADS = ("W4-LRANGE", "W4-HGETALL", "W4-MGET")


W4Bound = collections.namedtuple(
    "W4Bound", "w loop round_trip make how ours peer peer_t")


def w4_make_us(results, w):
    """(µs, how): the fastest measured way of making w's reply objects."""
    ways = [(1e6 / v, how) for how in ("marshal", "ours", "hiredis")
            if (v := med(results, "B-" + w, how))]
    return min(ways, default=(None, None))


PEERS = ["redis-py", "aioredis-1.3.1", "coredis", "glide"]
# The W4 targets per loop: (this library on it, the floor on it, the peers it
# is compared with: the uvloop peer only on uvloop).
W4_LOOPS = (("asyncio", "ours", "asyncio-floor", PEERS),
            ("uvloop", "ours-uvloop", "asyncio-floor-uvloop", PEERS + ["aioredis-1.3.1-uvloop"]))


def fastest(results, w, candidates):
    """(ops/s, client) of the fastest candidate measured on w, or (None, None)."""
    return max(((med(results, w, c), c) for c in candidates if med(results, w, c)),
               default=(None, None))


def w4_bounds(results):
    """A W4Bound per W4 call and loop: the round trip beyond the server (the
    floor's µs per call less the server's during its runs), the µs of making
    the objects and how, ours and the fastest peer (as in the targets) as
    (µs per call, server µs per call during that client's own runs)."""
    rows = []
    per_call = lambda v: 1e6 / v if v else None  # noqa: E731
    for w in W4_WORKLOADS:
        timing = lambda c: (per_call(med(results, w, c)), med(results, "S-" + w, c))  # noqa: E731
        make, how = w4_make_us(results, w)
        if make is None:
            continue
        for loop, ours, floor, candidates in W4_LOOPS:
            floor_us, floor_server = timing(floor)
            if not med(results, w, ours) or floor_us is None or floor_server is None:
                continue
            best = fastest(results, w, candidates)[1]
            rows.append(W4Bound(w, loop, floor_us - floor_server, make, how, timing(ours), best,
                                timing(best) if best else None))
    return rows


def least_time(server, round_trip, make):
    """The least µs per call at that server time: the server, then the round
    trip beyond it, then making the objects (None if a figure is missing)."""
    if server is None or round_trip is None or make is None:
        return None
    return server + round_trip + make


def least_ratio(timing, round_trip, make):
    """A client's (µs per call, server µs) over the least time in its
    conditions: the most any client can be faster than it."""
    return ratio(timing[0], least_time(timing[1], round_trip, make))


def times(r):
    return f"{r:.2f}×" if r else "–"


def cpu_list(cpus):
    return ",".join(str(c) for c in sorted(cpus))


def pin_note(pinned):
    if not pinned:
        return "not pinned to CPUs; "
    return f"redis-server pinned to CPU {cpu_list(pinned[0])}, the clients to CPU {cpu_list(pinned[1])}; "


def call_cell(timing):
    """(µs per call, server µs or None) as "µs (server µs)"."""
    us, server = timing
    if not us:
        return "–"
    return f"{us:.0f}" if server is None else f"{us:.0f} ({server:.0f})"


def floor_bounds(results):
    """(workload, floor ÷ redis-benchmark, ours ÷ floor, ours ÷ redis-benchmark)."""
    m = lambda w, c: med(results, w, c)  # noqa: E731
    rows = []
    for w in ("W1", "W3", "W5"):
        f, rb, o = m(w, "asyncio-floor"), m(w, RB), m(w, "ours")
        if f and rb and o:
            rows.append((w, f / rb, o / f, o / rb))
    return rows


def targets(results, s):
    """(description, measured ratio, threshold, comparison, bound) for each
    target; bound: the most any client could reach in this run (from the
    floor, the W4 least time, or the parser floor), None where none is
    measured."""
    m = lambda w, c: med(results, w, c)  # noqa: E731
    floor = lambda w, c: ratio(m(w, "asyncio-floor"), m(w, c))  # noqa: E731
    t = [
        ("W1 ≥ 1.5× redis-py+hiredis", ratio(m("W1", "ours"), m("W1", "redis-py")), 1.5, ">=",
         floor("W1", "redis-py")),
        ("W1 ≥ 0.85× redis-benchmark -P 1 -c 1", ratio(m("W1", "ours"), m("W1", RB)), 0.85, ">=",
         floor("W1", RB)),
        # (no W2 bound: the floor writes each GET alone, a client may coalesce them)
        ("W2 ≥ 2× aioredis 1.3.1, asyncio", ratio(m("W2", "ours"), m("W2", "aioredis-1.3.1")), 2, ">=",
         None),
        ("W2 ≥ 2× aioredis 1.3.1, uvloop",
         ratio(m("W2", "ours-uvloop"), m("W2", "aioredis-1.3.1-uvloop")), 2, ">=", None),
        ("W3 ≥ 3× redis-py+hiredis", ratio(m("W3", "ours"), m("W3", "redis-py")), 3, ">=",
         floor("W3", "redis-py")),
        ("W3 ≥ 0.5× redis-benchmark -P 100 -c 1", ratio(m("W3", "ours"), m("W3", RB)), 0.5, ">=",
         floor("W3", RB)),
    ]
    bounds = {(b.w, b.loop): b for b in w4_bounds(results)}
    for w, what in (("W4-LRANGE", "LRANGE"), ("W4-HGETALL", "HGETALL"), ("W4-MGET", "MGET")):
        for loop, ours, _, candidates in W4_LOOPS:
            best = fastest(results, w, candidates)
            b = bounds.get((w, loop))  # the same fastest peer, when the bound was measured
            most = least_ratio(b.peer_t, b.round_trip, b.make) if b and b.peer else None
            t.append((f"W4 {what} ≥ 1.3× the fastest peer on {loop} ({HEADERS.get(best[1], 'none')})",
                      ratio(m(w, ours), best[0]), 1.3, ">=", most))
    t += [
        ("W5 ≥ 0.9× redis-benchmark (1 MiB SET+GET)", ratio(m("W5", "ours"), m("W5", RB)), 0.9, ">=",
         floor("W5", RB)),
        ("P small replies ≥ 1.5× hiredis.Reader", ratio(m("P-small", "ours"), m("P-small", "hiredis")),
         1.5, ">=", ratio(m("P-small", "floor"), m("P-small", "hiredis"))),
        (f"P {s['p_array']:,}-element array ≥ 1.2× hiredis.Reader",
         ratio(m("P-array", "ours"), m("P-array", "hiredis")), 1.2, ">=",
         ratio(m("P-array", "floor"), m("P-array", "hiredis"))),
        (f"M peak RSS growth reading a {s['mem_size'] / 1e6:g} MB reply < 1.3× its size",
         m("M", "ours"), 1.3, "<", None),
    ]
    return t


def verdict(val, thr, cmp_, bound):
    """yes; no, bounded (the most reachable is short of the target); or no."""
    if (val < thr) if cmp_ == "<" else (val >= thr):
        return "yes"
    if bound is not None and cmp_ == ">=" and bound < thr:
        return "**no**: bounded"
    return "**no**"


def git_describe():
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=C.ROOT,
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                "src", "aioredis", "setup.py"], cwd=C.ROOT,
                               capture_output=True, text=True).stdout.strip()
        return sha + (" with uncommitted changes to src/ or aioredis/" if dirty else "")
    except OSError:
        return "?"


# -- main ----------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description="aioredis vs the Python Redis clients and redis-benchmark")
    ap.add_argument("--quick", action="store_true",
                    help="tiny workloads, 1 repetition, no installs; absent peers are skipped")
    ap.add_argument("--reps", type=int, default=None,
                    help="interleaved repetitions (default 5; --quick 1)")
    ap.add_argument("--clients", default="",
                    help="comma-separated subset of: " + ", ".join(ALL_CLIENTS) + " (default all)")
    ap.add_argument("--rounds", type=int, default=None,
                    help="measured rounds per client process (and per redis-benchmark command "
                         "line), the fastest counts (default 3; --quick 1)")
    ap.add_argument("--no-parser", action="store_true", help="skip P (parser alone)")
    ap.add_argument("--no-memory", action="store_true", help="skip M (100 MB GET, peak RSS)")
    ap.add_argument("--setup", action="store_true",
                    help="(re)create every peer virtualenv first, even those already there or that failed")
    ap.add_argument("--setup-only", action="store_true", help="(re)create the virtualenvs and stop")
    ap.add_argument("--no-pin", action="store_true",
                    help="do not pin redis-server to the first CPU and the clients to the others")
    ap.add_argument("--no-setup", action="store_true",
                    help="never create virtualenvs (peers without one are skipped)")
    ap.add_argument("--p-runs", type=int, default=3,
                    help="parser runs per reader inside each repetition (default 3)")
    ap.add_argument("--write-readme", action="store_true",
                    help="write the tables into bench/README.md (\"Latest figures\")")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds per client process (default 300; --quick 60)")
    ap.add_argument("--redis-server", default=os.environ.get("REDIS_SERVER") or "redis-server",
                    help="redis-server binary (default $REDIS_SERVER or redis-server)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every measurement")
    args = ap.parse_args()
    reps = args.reps or (1 if args.quick else 5)
    rounds = args.rounds or (1 if args.quick else 3)
    timeout = args.timeout or (60 if args.quick else 300)
    s = C.sizes(args.quick)
    t_start = time.monotonic()

    clients = [c for c in args.clients.split(",") if c] or list(ALL_CLIENTS)
    unknown = [c for c in clients if c not in ALL_CLIENTS]
    if unknown:
        ap.error(f"unknown clients {unknown}; known: {', '.join(ALL_CLIENTS)}")
    if args.write_readme and args.quick:
        ap.error("--write-readme records a full run; not with --quick")

    wanted_envs = sorted({CLIENT_ENV[c] for c in clients if c in CLIENT_ENV} | {"ours"},
                         key=list(ENVS).index)
    if args.setup or args.setup_only:
        setup(wanted_envs, force=True)
    elif not args.quick and not args.no_setup:
        setup(wanted_envs, force=False)
    if args.setup_only:
        return 0

    ours_py = python_for("ours", args.quick)[0]
    check = subprocess.run(
        [ours_py, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import aioredis, aioredis._core; "
         "print(aioredis.__file__)", C.ROOT], capture_output=True, text=True, env=clean_env())
    if check.returncode != 0 or not check.stdout.strip().startswith(os.path.join(C.ROOT, "aioredis")):
        sys.exit(f"this checkout's aioredis does not import with {ours_py} "
                 f"(python setup.py build_ext --inplace?):\n{check.stderr.strip()[-500:]}")
    print("aioredis from", check.stdout.strip(), "run with", ours_py)
    print(C.describe_machine())

    # runners: name -> python (or RB / parser)
    runners, skipped = {}, {}
    for c in clients:
        if c == RB:
            if shutil.which("redis-benchmark"):
                runners[c] = None
            else:
                skipped[c] = "redis-benchmark not found (apt-get install redis-tools)"
            continue
        py, why = python_for(c, args.quick)
        if py:
            runners[c] = py
        else:
            skipped[c] = why
    if not args.no_parser:
        runners["parser"] = ours_py

    results = {}   # workload -> client -> [values]
    info = {}
    rb_lines = {}
    failed_ours = False
    pinned = None if args.no_pin else C.split_cpus()
    with C.redis_server(args.redis_server, cpus=pinned and pinned[0]) as address:
        host, port = address
        if pinned:  # every client (a child of this process) runs on the other CPUs
            os.sched_setaffinity(0, pinned[1])
            print(f"redis-server on CPU {cpu_list(pinned[0])}, the clients on CPU {cpu_list(pinned[1])}")
        print(f"filling the server ({'quick' if args.quick else 'full'} sizes) ...", flush=True)
        C.populate(address, s)
        names = list(runners)
        for rep in range(reps):
            k = rep % len(names)
            order = names[k:] + names[:k]
            line = [f"rep {rep + 1}/{reps}:"]
            msgs = []
            for c in order:
                if c not in runners:
                    continue  # dropped after an error
                t0 = time.monotonic()
                if c == RB:
                    try:
                        res, rb_lines = run_redis_benchmark(address, s, timeout, rounds)
                        info[c] = subprocess.run(["redis-benchmark", "--version"], capture_output=True,
                                                 text=True).stdout.strip() or "redis-benchmark"
                        status = "ok"
                    except (RuntimeError, subprocess.TimeoutExpired) as exc:
                        status, res = "error", str(exc)
                    else:
                        for w, v in res.items():
                            results.setdefault(w, {}).setdefault(c, []).append(v)
                elif c == "parser":
                    argv = ["parser", "--runs", str(args.p_runs)] + (["--quick"] if args.quick else [])
                    status, res = run_worker(runners[c], argv, timeout)
                    if status == "ok":
                        info[c] = res["info"]
                        for key, v in res["results"].items():
                            w, reader = key.split(":")
                            results.setdefault(w, {}).setdefault(reader, []).append(v)
                else:
                    argv = ["bench", c, host, str(port), "--rounds", str(rounds)]
                    argv += ["--quick"] if args.quick else []
                    status, res = run_worker(runners[c], argv, timeout)
                    if status == "ok":
                        info[c] = res["info"] + f"; python {res['python']}"
                        for w, v in res["results"].items():
                            results.setdefault(w, {}).setdefault(c, []).append(v)
                if status != "ok":
                    kind = "skipped" if status == "skip" else "FAILED"
                    msgs.append(f"  {c}: {kind}: {res}")
                    skipped[c] = ("not runnable: " if status == "error" else "") + res
                    del runners[c]
                    if c in ("ours", "parser") and status == "error":
                        failed_ours = True
                line.append(f"{c} {time.monotonic() - t0:.1f}s")
            print(" ".join(line), flush=True)
            for msg in msgs:
                print(msg, flush=True)

        if not args.no_memory:
            for c in MEMORY_CLIENTS:
                if c not in runners:
                    continue
                argv = ["memory", c, host, str(port)] + (["--quick"] if args.quick else [])
                status, res = run_worker(runners[c], argv, timeout)
                if status == "ok":
                    results.setdefault("M", {})[c] = [res["results"]["M"]]
                    if args.verbose:
                        print(f"M {c}: {res['notes']}")
                else:
                    print(f"  memory {c}: {status}: {res}")
                    if c == "ours":
                        failed_ours = True

    if args.verbose:
        for w, byc in results.items():
            for c, vals in byc.items():
                print(f"{w:<11} {c:<22} " + " ".join(f"{v:.4g}" for v in vals))

    elapsed = time.monotonic() - t_start
    versions = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()
    srv = next((v[2:] for v in versions if v.startswith("v=")), "?")
    meta = {"reps": reps, "p_runs": args.p_runs, "rounds": rounds}
    when = datetime.datetime.now().strftime("%Y-%m-%d")
    head = (f"`{shlex.join(['python', 'bench/run.py', *sys.argv[1:]])}` on {when}: "
            f"{C.describe_machine()}; "
            f"redis-server {srv}; aioredis at commit {git_describe()}; "
            f"{pin_note(pinned)}{reps} repetitions, whole run {elapsed / 60:.1f} min.\n\n")
    notes = []
    if args.quick:
        notes.append("(--quick: tiny workloads, for checking that the script runs; "
                     "the figures and targets mean nothing.)")
    report = head + build_report(s, results, clients, info, notes, skipped, rb_lines, args, meta)
    print()
    print(report)
    if args.write_readme:
        C.write_readme_section("latest-figures", report)
    if failed_ours or ("ours" in clients and not results.get("W1", {}).get("ours")):
        print("this library's benchmark failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
