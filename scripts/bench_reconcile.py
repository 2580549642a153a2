#!/usr/bin/env python3
"""Reconciliation benchmark: Yardstick against DuckDB on the same two sides.

    scripts/bench_reconcile.py YARDSTICK_BINARY [--rows 10000000] [--runs 3] [--work DIR] [--limit N]

Writes two Parquet files of ROWS records each (order id, booked time over
2026, amount, region) where about 1% of records disagree: 0.3% missing on
the right, 0.3% only on the right, 0.3% with another amount, 0.1% in another
region. Then times, alternating, `yardstick reconcile --format json` (the
record counts per month, no KPI; with --limit N also the first N discrepant
records of each month, 0 by default as DuckDB's query lists none) and DuckDB
running the same full outer join with the same comparisons grouped by the
same months, and checks that both give the same counts. Prints wall seconds and peak RSS (MiB) per run and the
medians. Needs `pip install duckdb numpy pyarrow`; build Yardstick with
--release.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DUCKDB_QUERY = """
SELECT strftime(coalesce(l.booked_at, r.booked_at), '%Y-%m') AS period,
  count(*) FILTER (WHERE l.id IS NOT NULL AND r.id IS NOT NULL) AS in_common,
  count(*) FILTER (WHERE l.id IS NOT NULL AND r.id IS NOT NULL
                   AND abs(l.amount - r.amount) <= 0.01 AND l.region IS NOT DISTINCT FROM r.region) AS matched,
  count(*) FILTER (WHERE r.id IS NULL) AS only_left,
  count(*) FILTER (WHERE l.id IS NULL) AS only_right,
  count(*) FILTER (WHERE l.id IS NOT NULL AND r.id IS NOT NULL AND NOT abs(l.amount - r.amount) <= 0.01) AS amount,
  count(*) FILTER (WHERE l.id IS NOT NULL AND r.id IS NOT NULL AND l.region IS DISTINCT FROM r.region) AS region
FROM read_parquet('{left}') l FULL OUTER JOIN read_parquet('{right}') r ON l.id = r.id
GROUP BY 1 ORDER BY 1
"""

DUCKDB_RUNNER = """
import duckdb, json, sys
con = duckdb.connect()
con.execute('SET enable_progress_bar = false')
rows = con.execute(sys.argv[1]).fetchall()
print(json.dumps([list(r) for r in rows]))
"""


def generate(work: Path, n: int):
    rng = np.random.default_rng(2026)
    ids = np.arange(1, n + 1, dtype=np.int64)
    start = np.datetime64("2026-01-01T00:00:00", "us").astype(np.int64)
    span = 365 * 24 * 3600 * 1_000_000
    ts = start + rng.integers(0, span, n)
    amount = np.round(rng.uniform(5, 2000, n), 2)
    region = np.array(["DE", "AT", "CH", "FR", "NL"])[rng.integers(0, 5, n)]
    left = pa.table({"id": ids, "booked_at": pa.array(ts, pa.timestamp("us")), "amount": amount, "region": region})
    k = rng.permutation(n)
    missing = k[: n * 3 // 1000]
    amount_off = k[n * 3 // 1000 : n * 6 // 1000]
    region_off = k[n * 6 // 1000 : n * 7 // 1000]
    r_amount = amount.copy()
    r_amount[amount_off] += 1.0
    r_region = region.copy()
    r_region[region_off] = "XX"
    keep = np.ones(n, bool)
    keep[missing] = False
    extra = n * 3 // 1000
    extra_ids = np.arange(n + 1, n + 1 + extra, dtype=np.int64)
    right = pa.table(
        {
            "id": np.concatenate([ids[keep], extra_ids]),
            "booked_at": pa.array(np.concatenate([ts[keep], start + rng.integers(0, span, extra)]), pa.timestamp("us")),
            "amount": np.concatenate([r_amount[keep], np.round(rng.uniform(5, 2000, extra), 2)]),
            "region": np.concatenate([r_region[keep], np.array(["DE"] * extra)]),
        }
    )
    (work / "data").mkdir(parents=True, exist_ok=True)
    pq.write_table(left, work / "data/left.parquet")
    pq.write_table(right, work / "data/right.parquet")
    (work / "yardstick.toml").write_text(
        """[project]
name = "reconcile bench"
timezone = "UTC"

[source.left]
path = "data/left.parquet"
time = "booked_at"

[source.right]
path = "data/right.parquet"
time = "booked_at"

[reconcile.bench]
left = "left"
right = "right"
keys = ["id"]
compare = { amount = { abs = 0.01 }, region = "exact" }
every = "month"
"""
    )


def timed(cmd, cwd=None):
    out = subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=cwd, capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit(f"{cmd[0]} failed: {out.stderr[-2000:]}")
    wall = rss = None
    for line in out.stderr.splitlines():
        line = line.strip()
        if line.startswith("Elapsed (wall clock)"):
            parts = line.split()[-1].split(":")
            wall = sum(float(p) * 60 ** i for i, p in enumerate(reversed(parts)))
        if line.startswith("Maximum resident set size"):
            rss = int(line.split()[-1]) // 1024
    return wall, rss, out.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("yardstick")
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work")
    ap.add_argument("--limit", type=int, default=0)
    a = ap.parse_args()
    work = Path(a.work or tempfile.mkdtemp(prefix="bench-reconcile-"))
    if not (work / "data/left.parquet").exists():
        generate(work, a.rows)
    query = DUCKDB_QUERY.format(left=work / "data/left.parquet", right=work / "data/right.parquet")
    results = {"yardstick": [], "duckdb": []}
    counts = {}
    for _ in range(a.runs):
        wall, rss, out = timed(
            [os.path.abspath(a.yardstick), "reconcile", "-C", str(work), "--format", "json", "--limit", str(a.limit),
             "--as-of", "2027-01-01T00:00:00Z"]
        )
        results["yardstick"].append((wall, rss))
        counts["yardstick"] = [
            [p["period"], p["in_common"], p["matched"], p["only_left"], p["only_right"], p["mismatched"]["amount"],
             p["mismatched"]["region"]]
            for p in json.loads(out)["reconciliations"]
            if p["in_common"] + p["only_left"] + p["only_right"] > 0
        ]
        wall, rss, out = timed([sys.executable, "-c", DUCKDB_RUNNER, query])
        results["duckdb"].append((wall, rss))
        counts["duckdb"] = json.loads(out)
    for name, runs in results.items():
        for w, r in runs:
            print(f"{name} {w:.2f} s {r} MiB")
    for name, runs in results.items():
        print(f"median {name}: {statistics.median(w for w, _ in runs):.2f} s, "
              f"{statistics.median(r for _, r in runs)} MiB peak")
    same = counts["yardstick"] == counts["duckdb"]
    print(f"counts per month equal DuckDB's: {same}")
    if not same:
        print(json.dumps(counts, indent=1))
        sys.exit(1)


if __name__ == "__main__":
    main()
