#!/usr/bin/env python3
"""Root-cause accuracy of `yardstick why` on the RiskLoc repository's cases,
scored with that repository's own rule, next to its methods.

Each case becomes a Yardstick project — one Parquet file with the reference rows
(dated in January) and the period's rows (February), a KPI split by the
case's dimensions (a ratio of two sums for derived cases such as RS, a sum
otherwise) — and `yardstick why KPI 2026-02 --vs previous --depth N` is
run on it: the same code path as any user's, with `--depth` as many
dimensions as the case has (the repository's methods search every layer)
and each `--roots` reading (`explain`, the default, and `unusual`), each
scored on its own row. Its `root: true` causes are the prediction. Predictions are scored by `utils.evaluation.score_root_causes`
(exact element match, `dim=value` parts sorted) and summed to micro-F1 over
the cases of a dataset: 2ΣTP / (2ΣTP + ΣFP + ΣFN). The repository's methods
run on the same cases in this script with the defaults of its own command
line (run.py's argument parser).

Also reported: how often a true cause is contained in a predicted one
(a predicted root whose elements are a subset of the true cause's).

Usage:
  scripts/bench_why_riskloc.py target/release/yardstick --riskloc /tmp/riskloc \
      [--datasets RS,S,L,H] [--limit N] [--peers riskloc,adtributor] [--modes explain,unusual]

--riskloc is a checkout of github.com/shaido987/riskloc (its data/RS is
used as is; S, L and H are generated there with generate_dataset.py and the
paper's seeds — 121, 122, 123 — when missing, `--limit` cases each).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

SEEDS = {"S": 121, "L": 122, "H": 123}
# L and H as the repository's README makes them.
EXTRA = {
    "L": ["--dims", "10", "24", "10", "15", "--noise-level", "0.0", "0.1", "--anomaly-severity", "0.5", "1.0",
          "--anomaly-deviation", "0.0", "0.0", "--num-anomaly", "1", "5", "--num-anomaly-elements", "1", "1",
          "--only-last-layer"],
    "H": ["--dims", "10", "5", "250", "20", "8", "12"],
}
FULL = {"S": 1000, "L": 1000, "H": 100}


def project(case_dir, df, attributes, derived):
    """The case as a Yardstick project: its rows in Parquet (a case of H
    has 24M leaves), the reference dated in January, the period in
    February."""
    import pandas as pd
    os.makedirs(os.path.join(case_dir, "data"), exist_ok=True)
    cols = list(attributes)
    if derived:
        before, now = ("predict_a", "predict_b"), ("real_a", "real_b")
    else:
        before, now = ("predict", None), ("real", None)
    halves = []
    for when, (num, den) in (("2026-01-15", before), ("2026-02-15", now)):
        h = df[cols].astype(str)
        h.insert(0, "t", pd.Timestamp(when, tz="UTC"))
        h["ys_num"] = df[num].astype("float64")
        h["ys_den"] = df[den].astype("float64") if den else 1.0
        halves.append(h)
    pd.concat(halves, ignore_index=True).to_parquet(os.path.join(case_dir, "data", "rows.parquet"), index=False)
    types = ", ".join(f'{c} = "string"' for c in cols)
    dims = ", ".join(f'"{c}"' for c in cols)
    kpi = (
        'ratio = { numerator = "ys_n", denominator = "ys_d" }'
        if derived
        else 'source = "rows"\nmeasure = "sum(ys_num)"'
    )
    toml = f"""[project]
name = "case"
timezone = "UTC"

[source.rows]
path = "data/rows.parquet"
time = "t"
columns = {{ {types}, ys_num = "double", ys_den = "double" }}

[metric.ys_n]
source = "rows"
measure = "sum(ys_num)"

[metric.ys_d]
source = "rows"
measure = "sum(ys_den)"

[kpi.m]
objective = "bench"
owner = "bench"
{kpi}
every = "month"
dimensions = [{dims}]
"""
    with open(os.path.join(case_dir, "yardstick.toml"), "w", encoding="utf-8") as f:
        f.write(toml)


def yardstick_roots(binary, case_dir, depth, mode):
    out = subprocess.run(
        [binary, "why", "m", "2026-02", "--vs", "previous", "--depth", str(depth), "--top", "1", "--roots", mode,
         "--format", "json", "-C", case_dir, "--as-of", "2026-03-01T00:00:00Z"],
        capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip() or out.stdout.strip())
    why = json.loads(out.stdout)
    roots = []
    for c in why["causes"]:
        if c["root"]:
            roots.append("&".join(sorted(f"{k}={v}" for k, v in c["elements"].items())))
    return roots


def contained(pred, true_labels):
    """True causes that some predicted root contains (its elements ⊆ the true one's)."""
    n = 0
    for t in true_labels:
        tset = set(t.split("&"))
        if any(set(p.split("&")) <= tset for p in pred):
            n += 1
    return n


def report(rows, header):
    if header:
        print(f"{'dataset':8} {'cases':>5} {'method':12} {'F1':>6} {'TP':>5} {'FP':>5} {'FN':>5} {'s/case':>7} "
              f"{'contained':>9}")
    for ds, n, m, f1, tp, fp, fn, s, c in rows:
        print(f"{ds:8} {n:5} {m:12} {f1:6.3f} {tp:5} {fp:5} {fn:5} {s:7.3f} {c:9.1%}")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("--riskloc", required=True)
    ap.add_argument("--datasets", default="RS")
    ap.add_argument("--limit", type=int, default=0, help="cases per dataset (0: all)")
    ap.add_argument("--peers", default="riskloc,adtributor")
    ap.add_argument("--modes", default="explain,unusual", help="`why --roots` readings to score")
    a = ap.parse_args()
    binary = os.path.abspath(a.binary)
    sys.path.insert(0, a.riskloc)
    os.chdir(a.riskloc)
    from utils.run_utils import read_dataframe, get_label, get_instances, run_method  # noqa: E402
    from utils.evaluation import score_root_causes, root_cause_postprocessing  # noqa: E402

    # Each peer with the defaults of the repository's own command line
    # (run.py's parser), as its README runs it.
    from utils.argument_parser import get_input_arguments  # noqa: E402
    peer_args = {}
    for peer in [p for p in a.peers.split(",") if p]:
        saved = sys.argv
        sys.argv = ["run.py", peer]
        try:
            peer_args[peer] = get_input_arguments()[3]
        finally:
            sys.argv = saved
    work = tempfile.mkdtemp(prefix="ys-why-bench-")
    results = []
    for ds in a.datasets.split(","):
        data_root = os.path.join(a.riskloc, "data")
        if ds != "RS" and not os.path.isdir(os.path.join(data_root, ds)):
            n = a.limit or FULL[ds]
            subprocess.run([sys.executable, "generate_dataset.py", "--num", str(n), "--dataset-name", ds,
                            "--seed", str(SEEDS[ds]), "--data-root", data_root] + EXTRA.get(ds, []), check=True,
                           stdout=subprocess.DEVNULL)
        instances = sorted(get_instances(data_root, ds))
        if a.limit:
            instances = instances[: a.limit]
        derived = ds == "RS"
        tally = {}
        started = time.time()
        for i, (dataset, sub, file) in enumerate(instances):
            run_dir = os.path.join(data_root, dataset, sub)
            df, attributes, df_a, df_b = read_dataframe(run_dir, file, derived, derived)
            label = get_label(run_dir, file, derived)
            case_dir = os.path.join(work, f"{ds}-{i}")
            project(case_dir, df, attributes, derived)
            # Causes of as many dimensions as the case has (the CLI's
            # limit is 6), as the repository's methods search every layer.
            depth = min(len(attributes), 6)
            for mode in a.modes.split(","):
                t0 = time.time()
                try:
                    pred = yardstick_roots(binary, case_dir, depth, mode)
                except Exception as e:  # a case Yardstick cannot answer counts as no prediction
                    print(f"{ds} {file}: {e}", file=sys.stderr)
                    pred = []
                dt = time.time() - t0
                tp, fp, fn, true_labels = score_root_causes(pred, label)
                name = "yardstick" if mode == "explain" else f"yardstick-{mode}"
                t = tally.setdefault(name, [0, 0, 0, 0.0, 0, 0])
                t[0] += tp; t[1] += fp; t[2] += fn; t[3] += dt
                t[4] += contained(pred, list(true_labels)); t[5] += len(true_labels)
            shutil.rmtree(case_dir, ignore_errors=True)
            for peer in [p for p in a.peers.split(",") if p]:
                t0 = time.time()
                try:
                    rc = run_method(df, [df_a, df_b], attributes, peer, peer_args[peer], derived, False)
                    pp = list(root_cause_postprocessing(rc, peer))
                except Exception as e:
                    print(f"{ds} {file} {peer}: {e}", file=sys.stderr)
                    pp = []
                dt = time.time() - t0
                tp, fp, fn, true_labels = score_root_causes(pp, label)
                t = tally.setdefault(peer, [0, 0, 0, 0.0, 0, 0])
                t[0] += tp; t[1] += fp; t[2] += fn; t[3] += dt
                t[4] += contained(pp, list(true_labels)); t[5] += len(true_labels)
            # Progress on stderr: a case of H takes minutes.
            print(f"{ds} {i + 1}/{len(instances)} ({time.time() - started:.0f} s) "
                  + " ".join(f"{m} {t[0]}/{t[0] + t[1]}/{t[0] + t[2]}" for m, t in tally.items()),
                  file=sys.stderr, flush=True)
        rows = []
        for method, (tp, fp, fn, secs, cont, total) in tally.items():
            f1 = 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else 0.0
            rows.append((ds, len(instances), method, f1, tp, fp, fn, secs / max(len(instances), 1),
                         cont / max(total, 1)))
        # Each dataset's figures as soon as it is done: a full run takes hours.
        report(rows, header=not results)
        results += rows
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
