#!/usr/bin/env python3
"""Compare `yardstick eval --format json` on the benchmark kit with DuckDB's values.

Usage: compare_bench.py EVAL_JSON EXPECTED_DIR [--rtol 1e-8]

EXPECTED_DIR is ../shared/bench/expected/<size>. Every row DuckDB reports must be
in Yardstick's output with the same value (relative tolerance --rtol, absolute
1e-12 near zero; NULL must be no value). Exit status 0 when all agree.
"""
import csv
import json
import math
import sys
from pathlib import Path

# expected file -> (kpi id, key columns -> entity columns, value column)
KPIS = {
    "k01_revenue_month": ("revenue", {}, "revenue"),
    "k02_new_clients_month": ("new_clients", {}, "new_clients"),
    "k03_avg_order_value_month": ("average_order_value", {}, "avg_order_value"),
    "k04_gross_margin_month": ("gross_margin", {}, "gross_margin_ratio"),
    "k05_revenue_region_partner_month": ("revenue_by_channel", {"region": "region", "partner": "channel"}, "revenue"),
    "k06_ticket_p90_first_response_team_month": ("first_response_p90", {"team": "team"}, "p90_first_response_hours"),
    "k07_ticket_first_response_24h_share_month": ("first_response_24h", {}, "share_first_response_24h"),
    "k08_probe_up_share_station_month": ("probe_up_share", {"station_id": "station_id"}, "up_share"),
    "k09_uptime_month": ("fleet_uptime", {}, "uptime_ratio"),
    "k10_revenue_mom_growth": ("revenue_growth", {}, "mom_growth"),
}


def main() -> int:
    args = sys.argv[1:]
    rtol = 1e-8
    if "--rtol" in args:
        i = args.index("--rtol")
        rtol = float(args[i + 1])
        del args[i : i + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    got = json.loads(Path(args[0]).read_text())
    rows = {}
    for r in got["evaluations"]:
        entity = tuple(sorted((r["entity"] or {}).items()))
        rows[(r["kpi"], r["period"], entity)] = r
    failures = 0
    checked = 0
    for name, (kpi, keys, column) in KPIS.items():
        path = Path(args[1]) / f"{name}.csv"
        with path.open() as f:
            for e in csv.DictReader(f):
                period = e["month"][:7]
                entity = tuple(sorted((ent, e[col]) for col, ent in keys.items()))
                r = rows.get((kpi, period, entity))
                checked += 1
                want = None if e[column] == "" else float(e[column])
                if r is None:
                    print(f"MISSING {kpi} {period} {dict(entity)}: DuckDB {want}")
                    failures += 1
                    continue
                have = r["value"]
                ok = (want is None and have is None) or (
                    want is not None and have is not None and math.isclose(have, want, rel_tol=rtol, abs_tol=1e-12)
                )
                if not ok:
                    print(f"DIFF {kpi} {period} {dict(entity)}: DuckDB {want}, Yardstick {have}")
                    failures += 1
    print(f"{checked - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
