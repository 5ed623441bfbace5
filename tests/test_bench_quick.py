"""The benchmark must keep running: bench/run.py --quick, this library only.

Not a timed test: it checks that the script exits 0 and prints a row with a
figure for this library for every workload (W1-W5, P, M). No virtualenv is
made and nothing is installed: AIOREDIS_BENCH_VENVS points at an empty
directory, so the peers asked for are reported as not set up and skipped,
which is also checked. The script starts its own redis-server.
"""

import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN = os.path.join(ROOT, "bench", "run.py")

# first cell of each row (a prefix) -> the row must hold a figure for us
ROWS = {
    "W1": r"\| W1 \d",
    "W2": r"\| W2 \d",
    "W3": r"\| W3 \d",
    "W4 LRANGE": r"\| W4 LRANGE ",
    "W4 HGETALL": r"\| W4 HGETALL ",
    "W4 MGET": r"\| W4 MGET ",
    "W5": r"\| W5 \d",
    "P small": r"\| P [\d,]+ × `\$16` bulk replies ",
    "P array": r"\| P 1 × [\d,]+-element array ",
    "M": r"\| M GET [\d.]+ MB",
}
FIGURE = re.compile(r"^\d+(\.\d+)?( ?[kM])?×?$")


def _redis_server():
    binary = os.environ.get("REDIS_SERVER") or "redis-server"
    if shutil.which(binary) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{binary} not found (CI must have it)")
        pytest.skip(f"{binary} not found")
    return binary


def test_bench_quick_runs(tmp_path):
    _redis_server()
    venvs = tmp_path / "venvs"
    venvs.mkdir()
    env = dict(os.environ, AIOREDIS_BENCH_VENVS=str(venvs))
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [sys.executable, RUN, "--quick",
         "--clients", "ours,ours-uvloop,redis-py,asyncio-floor,asyncio-floor-uvloop"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    out = proc.stdout
    assert proc.returncode == 0, f"exit {proc.returncode}\n{out[-3000:]}\n{proc.stderr[-3000:]}"

    lines = out.splitlines()
    for name, pattern in ROWS.items():
        rows = [ln for ln in lines if re.match(pattern, ln)]
        assert rows, f"no row for {name} in:\n{out}"
        ours = rows[0].split("|")[2].strip()  # the first client column is ours (asyncio)
        assert FIGURE.match(ours), f"{name}: no figure for this library: {rows[0]!r}"

    # the checkout's aioredis, not an installed copy
    assert f"aioredis from {os.path.join(ROOT, 'aioredis', '__init__.py')}" in out
    # the absent peer is skipped cleanly, and nothing was installed
    assert re.search(r"^- redis-py\+hiredis: .*not set up", out, re.M), out
    assert list(venvs.iterdir()) == []
    assert "Targets" in out
    # what bounds W4: the round trip beyond the server, making the objects, ours
    bound = r"\| W4 (LRANGE|HGETALL|MGET) .*\| {} \| \d+ \| \d+ \((marshal|ours|hiredis)\) \| \d+ \(\d+\) \|"
    assert len([ln for ln in lines if re.match(bound.format("asyncio"), ln)]) == 3, out
    # on uvloop too when it is installed (ours-uvloop ran)
    uvloop_ran = "ours-uvloop: skipped" not in out
    assert len([ln for ln in lines if re.match(bound.format("uvloop"), ln)]) == (3 if uvloop_ran else 0), out
    # the floor ran every workload
    floor_col = lines[[i for i, ln in enumerate(lines) if ln.startswith("| workload |")][0]].split("|")
    col = [c.strip() for c in floor_col].index("floor (no client)")
    for name in ("W1", "W2", "W3", "W4 LRANGE", "W4 HGETALL", "W4 MGET", "W5"):
        row = next(ln for ln in lines if re.match(ROWS[name], ln))
        cell = row.split("|")[col].strip()
        assert FIGURE.match(cell.split(" (")[0]), f"{name}: no floor figure: {row!r}"


def _import_run():
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    try:
        import run
    finally:
        sys.path.remove(os.path.join(ROOT, "bench"))
    return run


def test_w4_least_time_and_the_most_any_client_can_reach():
    """The W4 bound: server, then the round trip beyond it, then making the
    objects; a client's time over that sum (arithmetic only, no server)."""
    run = _import_run()
    assert run.least_time(400.0, 120.0, 110.0) == pytest.approx(630.0)
    # a peer at 945 µs per call while the server spent 400 of them: 945 / 630
    assert run.least_ratio((945.0, 400.0), 120.0, 110.0) == pytest.approx(1.5)
    # a missing figure gives no bound rather than a made-up one
    assert run.least_time(None, 120.0, 110.0) is None
    assert run.least_ratio((945.0, None), 120.0, 110.0) is None
    assert run.least_ratio((None, 400.0), 120.0, 110.0) is None


def test_verdict_says_bounded_only_when_even_the_bound_is_short():
    run = _import_run()
    assert run.verdict(1.31, 1.3, ">=", 1.25) == "yes"
    assert run.verdict(1.2, 1.3, ">=", 1.25) == "**no**: bounded"
    assert run.verdict(1.2, 1.3, ">=", 1.4) == "**no**"
    assert run.verdict(1.2, 1.3, ">=", None) == "**no**"
    assert run.verdict(1.0, 1.3, "<", None) == "yes"
    assert run.verdict(1.4, 1.3, "<", 1.2) == "**no**"
