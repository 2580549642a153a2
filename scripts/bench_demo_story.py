#!/usr/bin/env python3
"""How often the demo tells its root-cause story, over the days it may be written.

    python3 scripts/bench_demo_story.py target/release/yardstick [--step 1] [--year 2026]

For each day of the year (every `--step`-th), writes the demo with
`yardstick demo --end DAY`, finds the month without CloudCo's EU orders (the
collapse) from orders.csv, and counts:

- `missed`: revenue that month is under its target (60,000);
- `named`: `yardstick why revenue MONTH` names partner=CloudCo ∧ region=EU
  as its first root;
- `recovered`: CloudCo's EU revenue in the two months after (those complete
  by DAY) is back to 90% of the month before the collapse — what
  `yardstick action` judges a cause's segment by.

Prints one line a day and the totals; `--format json` prints the totals as JSON.
"""

import argparse
import collections
import csv
import datetime
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zoneinfo

TARGET = 60_000.0


def month_after(m, n):
    y, mo = int(m[:4]), int(m[5:7]) + n
    y, mo = y + (mo - 1) // 12, (mo - 1) % 12 + 1
    return f"{y:04d}-{mo:02d}"


def story(binary, end, work):
    d = f"{work}/demo-{end}"
    subprocess.run([binary, "demo", d, "--no-serve", "--end", str(end)], capture_output=True, check=True)
    with open(f"{d}/data/orders.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    # Months in the project's zone, as its KPIs count them.
    with open(f"{d}/yardstick.toml", "rb") as f:
        zone = zoneinfo.ZoneInfo(tomllib.load(f)["project"]["timezone"])
    segment = collections.Counter()
    months = set()
    for r in rows:
        at = datetime.datetime.fromisoformat(r["ordered_at"].replace("Z", "+00:00"))
        m = at.astimezone(zone).strftime("%Y-%m")
        months.add(m)
        if r["region"] == "EU" and r["partner"] == "CloudCo":
            segment[m] += float(r["amount"])
    current = f"{end.year:04d}-{end.month:02d}"
    # The first month and the month of `end` are partial.
    collapsed = [m for m in sorted(months)[1:] if segment[m] == 0 and m < current]
    if len(collapsed) != 1:
        raise SystemExit(f"{end}: months without CloudCo's EU orders: {collapsed}")
    month = collapsed[0]
    why = json.loads(
        subprocess.run(
            [binary, "why", "revenue", month, "--format", "json", "-C", d, "--as-of", f"{end}T00:00:00Z"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    roots = [c["elements"] for c in why["causes"] if c["root"]]
    after = [m for m in (month_after(month, 1), month_after(month, 2)) if m < current]
    before = segment[month_after(month, -1)]
    shutil.rmtree(d, ignore_errors=True)
    return {
        "end": str(end),
        "month": month,
        "value": why["value"],
        "missed": why["value"] < TARGET,
        "named": roots[:1] == [{"partner": "CloudCo", "region": "EU"}],
        "recovered": bool(after) and all(segment[m] >= 0.9 * before for m in after),
        "first": roots[:1],
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("binary")
    p.add_argument("--step", type=int, default=1)
    p.add_argument("--year", type=int, default=2026)
    p.add_argument("--format", choices=["text", "json"], default="text")
    a = p.parse_args()
    if a.step < 1:
        p.error("--step must be 1 or more")
    if shutil.which(a.binary) is None:
        p.error(f"{a.binary}: no such executable (build it with `cargo build --release`)")
    first = datetime.date(a.year, 1, 1)
    days = (datetime.date(a.year + 1, 1, 1) - first).days
    ends = [first + datetime.timedelta(days=n) for n in range(0, days, a.step)]
    totals = collections.Counter()
    firsts = collections.Counter()
    with tempfile.TemporaryDirectory() as work:
        for end in ends:
            try:
                s = story(a.binary, end, work)
            except subprocess.CalledProcessError as e:
                err = (e.stderr or b"").decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
                raise SystemExit(f"{end}: `{' '.join(map(str, e.cmd))}` failed ({e.returncode}): {err.strip()}")
            for k in ("missed", "named", "recovered"):
                totals[k] += s[k]
            totals["all three"] += s["missed"] and s["named"] and s["recovered"]
            firsts[json.dumps(s["first"])] += 1
            if a.format == "text":
                print(s["end"], s["month"], round(s["value"]), s["missed"], s["named"], s["recovered"], s["first"], flush=True)
    out = {"days": len(ends), **totals, "first roots": dict(firsts.most_common(8))}
    if a.format == "json":
        json.dump(out, sys.stdout, indent=2)
        print()
    else:
        print(f"of {len(ends)} days: missed {totals['missed']}, named {totals['named']}, "
              f"recovered {totals['recovered']}, all three {totals['all three']}")
        print("first roots:", firsts.most_common(8))


if __name__ == "__main__":
    main()
