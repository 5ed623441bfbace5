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
        [sys.executable, RUN, "--quick", "--clients", "ours,ours-uvloop,redis-py,asyncio-floor"],
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
    # what bounds W4: the server's time per call and the cost of making the objects
    bound = r"\| W4 (LRANGE|HGETALL|MGET) .*\| {} \| \d+ \| \d+ \(\d+\) \|"
    assert len([ln for ln in lines if re.match(bound.format("asyncio"), ln)]) == 3, out
    # on uvloop too when it is installed (ours-uvloop ran)
    uvloop_ran = "ours-uvloop: skipped" not in out
    assert len([ln for ln in lines if re.match(bound.format("uvloop"), ln)]) == (3 if uvloop_ran else 0), out
    # the asyncio floor ran the workloads it can count, and only those
    floor_col = lines[[i for i, ln in enumerate(lines) if ln.startswith("| workload |")][0]].split("|")
    col = [c.strip() for c in floor_col].index("asyncio floor (no client)")
    for name in ("W1", "W2", "W3", "W5", "W4 LRANGE"):
        row = next(ln for ln in lines if re.match(ROWS[name], ln))
        cell = row.split("|")[col].strip()
        if name.startswith("W4"):
            assert cell == "–", row
        else:
            assert FIGURE.match(cell.split(" (")[0]), f"{name}: no floor figure: {row!r}"


def test_w4_ratio_at_the_peers_server_time():
    """The W4 bound table's last column: the peer's µs per call over ours with
    our server time replaced by the peer's (arithmetic only, no server)."""
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    try:
        import run
    finally:
        sys.path.remove(os.path.join(ROOT, "bench"))
    # ours 900 µs of which the server 550; the peer 1000 of which the server 400:
    # at the peer's server time ours would take 900 - 550 + 400 = 750 µs
    assert run.at_same_server_time((900.0, 550.0), (1000.0, 400.0)) == pytest.approx(1000 / 750)
    # the same server time: the plain ratio
    assert run.at_same_server_time((800.0, 400.0), (1000.0, 400.0)) == pytest.approx(1.25)
    # a missing figure gives no ratio rather than a made-up one
    assert run.at_same_server_time((800.0, None), (1000.0, 400.0)) is None
    assert run.at_same_server_time((None, None), (1000.0, 400.0)) is None
