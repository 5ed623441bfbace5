#!/usr/bin/env python
"""Superseded by bench/run.py (all the peers, redis-benchmark, the parser and memory).

Kept so that older instructions still work: runs ``bench/run.py`` with the
same arguments. See bench/README.md.
"""

import os
import sys

RUN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run.py")

if __name__ == "__main__":
    print("bench_clients.py: superseded by bench/run.py; running it", file=sys.stderr, flush=True)
    os.execv(sys.executable, [sys.executable, RUN, *sys.argv[1:]])
