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
      [--datasets RS,S,L,H,H25] [--limit N] [--peers riskloc,adtributor] [--modes explain,unusual]
      [--stream] [--cases-out FILE]

--riskloc is a checkout of github.com/shaido987/riskloc (its data/RS is
used as is; S, L and H are generated there with generate_dataset.py and the
paper's seeds — 121, 122, 123 — when missing, `--limit` cases each).

--stream generates each case of S, L or H in this process instead, with the
repository's own `generate_dataset` (the same random draws, in the same
order: the same cases as its CSV files), runs it and discards it. H in full
is 100 cases of 24M leaves, 1.2 GB of CSV each: more than a disk holds. The
one line changed builds the 24M combinations as categorical columns rather
than a list of 24M Python tuples (`product_frame`); `--verify-stream` checks
the streamed cases against the CSV files already generated.

--cases-out FILE writes each case's predictions, labels and counts (one JSON
object a line), for reading where a method went wrong.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

# H25: not the paper's — H's generator, parameters and seed with `c` of 25
# values rather than 250 (2.4M leaves a case), a smaller proxy of H.
SEEDS = {"S": 121, "L": 122, "H": 123, "H25": 123}
# L and H as the repository's README makes them.
EXTRA = {
    "L": ["--dims", "10", "24", "10", "15", "--noise-level", "0.0", "0.1", "--anomaly-severity", "0.5", "1.0",
          "--anomaly-deviation", "0.0", "0.0", "--num-anomaly", "1", "5", "--num-anomaly-elements", "1", "1",
          "--only-last-layer"],
    "H": ["--dims", "10", "5", "250", "20", "8", "12"],
    "H25": ["--dims", "10", "5", "25", "20", "8", "12"],
}
FULL = {"S": 1000, "L": 1000, "H": 100, "H25": 100}


def project(case_dir, df, attributes, derived):
    """The case as a Yardstick project: its rows in Parquet (a case of H
    has 24M leaves), the reference dated in January, the period in
    February."""
    import datetime
    import pyarrow as pa
    import pyarrow.parquet as pq
    os.makedirs(os.path.join(case_dir, "data"), exist_ok=True)
    cols = list(attributes)
    if derived:
        before, now = ("predict_a", "predict_b"), ("real_a", "real_b")
    else:
        before, now = ("predict", None), ("real", None)
    # Each dimension as Arrow strings once (a categorical column is cast in
    # Arrow, not through 24M Python strings).
    dims = {}
    for c in cols:
        a = pa.array(df[c]) if str(df[c].dtype) == "category" else pa.array(df[c].astype(str))
        dims[c] = a.cast(pa.string())
    n = len(df)
    halves = []
    for when, (num, den) in (("2026-01-15", before), ("2026-02-15", now)):
        t = datetime.datetime.fromisoformat(when).replace(tzinfo=datetime.timezone.utc)
        h = {"t": pa.repeat(pa.scalar(t, type=pa.timestamp("us", tz="UTC")), n)}
        h.update(dims)
        h["ys_num"] = pa.array(df[num].to_numpy(dtype="float64"))
        h["ys_den"] = pa.array(df[den].to_numpy(dtype="float64")) if den else pa.repeat(pa.scalar(1.0), n)
        halves.append(pa.table(h))
    pq.write_table(pa.concat_tables(halves), os.path.join(case_dir, "data", "rows.parquet"))
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


def product_frame(dimensions):
    """Every combination of the dimensions' values, in itertools.product's
    order (the last dimension fastest), as categorical columns."""
    import numpy as np
    import pandas as pd
    sizes = list(dimensions.values())
    total = int(np.prod(sizes))
    cols = {}
    inner = total
    for d, k in dimensions.items():
        inner //= k
        codes = np.tile(np.repeat(np.arange(k, dtype=np.int16), inner), total // (inner * k))
        cols[d] = pd.Categorical.from_codes(codes, categories=[f"{d}{i}" for i in range(1, k + 1)])
    return pd.DataFrame(cols)


def streamed_cases(riskloc, ds, n):
    """The first `n` cases of generated dataset `ds` as the repository's
    generator makes them, one at a time: (name, frame, label)."""
    import inspect
    import textwrap
    saved = sys.argv
    out = tempfile.mkdtemp(prefix="ys-why-gen-")
    sys.argv = ["generate_dataset.py", "--num", str(n), "--dataset-name", ds, "--seed", str(SEEDS[ds]),
                "--data-root", out] + EXTRA.get(ds, [])
    try:
        import io
        import contextlib
        # A fresh import per dataset: it parses sys.argv and seeds its rng.
        sys.modules.pop("generate_dataset", None)
        with contextlib.redirect_stdout(io.StringIO()):
            import generate_dataset as g
    finally:
        sys.argv = saved
    line = "df = pd.DataFrame(list(itertools.product(*dimension_values)), columns=dimensions.keys())"
    src = textwrap.dedent(inspect.getsource(g.generate_dataset))
    if line not in src:
        raise RuntimeError("generate_dataset.py changed: its product line is not found")
    g.product_frame = product_frame
    exec(src.replace(line, "df = product_frame(dimensions)"), g.__dict__)
    used = set()
    for _ in range(n):
        name = g.generate_filename(6, used)
        used.add(name)
        with contextlib.redirect_stdout(io.StringIO()):
            df, labels, _meta = g.generate_dataset(g.dimensions)
        yield name, df, labels
    shutil.rmtree(out, ignore_errors=True)


def verify_stream(riskloc, ds, n):
    """The first `n` streamed cases equal the CSV files in data/DS."""
    import numpy as np
    import pandas as pd
    info = pd.read_csv(os.path.join(riskloc, "data", ds, "injection_info.csv"))
    for name, df, labels in streamed_cases(riskloc, ds, n):
        csv = pd.read_csv(os.path.join(riskloc, "data", ds, name + ".csv"), float_precision="round_trip")
        same = list(csv.columns) == list(df.columns) and len(csv) == len(df)
        for c in csv.columns:
            if c in ("real", "predict"):
                same = same and np.array_equal(csv[c].to_numpy(), df[c].to_numpy())
            else:
                same = same and (csv[c].astype(str).to_numpy() == df[c].astype(str).to_numpy()).all()
        expected = info.loc[info["timestamp"] == int(name), "set"].iloc[0]
        print(f"{ds} {name}: rows {'equal' if same else 'DIFFER'}, label {labels!r} "
              f"{'equal' if labels == expected else 'DIFFERS from ' + repr(expected)}", flush=True)
        if not same or labels != expected:
            sys.exit(1)


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
    ap.add_argument("--stream", action="store_true",
                    help="generate S, L and H case by case in this process, without their CSV files")
    ap.add_argument("--cases-out", metavar="FILE",
                    help="also write each case's predictions, labels and counts to FILE, one JSON object a line")
    ap.add_argument("--verify-stream", action="store_true",
                    help="check that the first --limit (3) streamed cases equal data/DS's CSV files, and stop")
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
    if a.verify_stream:
        for ds in a.datasets.split(","):
            verify_stream(a.riskloc, ds, a.limit or 3)
        return
    work = tempfile.mkdtemp(prefix="ys-why-bench-")
    results = []
    cases_out = open(a.cases_out, "w") if a.cases_out else None

    def log_case(ds, file, method, pred, label, tp, fp, fn, secs):
        if cases_out:
            cases_out.write(json.dumps({"dataset": ds, "case": str(file), "method": method, "predicted": list(pred),
                                        "labels": str(label),
                                        "tp": int(tp), "fp": int(fp), "fn": int(fn), "seconds": round(secs, 3)}) + "\n")
            cases_out.flush()

    for ds in a.datasets.split(","):
        data_root = os.path.join(a.riskloc, "data")
        derived = ds == "RS"
        if a.stream and ds != "RS":
            n = a.limit or FULL[ds]

            def cases(ds=ds, n=n):
                for name, df, label in streamed_cases(a.riskloc, ds, n):
                    attributes = sorted(c for c in df.columns if c not in ("real", "predict"))
                    if a.peers:  # the peers were written for string columns
                        df[attributes] = df[attributes].astype(str)
                    yield name, df, attributes, None, None, label
        else:
            if ds != "RS" and not os.path.isdir(os.path.join(data_root, ds)):
                n = a.limit or FULL[ds]
                subprocess.run([sys.executable, "generate_dataset.py", "--num", str(n), "--dataset-name", ds,
                                "--seed", str(SEEDS[ds]), "--data-root", data_root] + EXTRA.get(ds, []),
                               check=True, stdout=subprocess.DEVNULL)
            instances = sorted(get_instances(data_root, ds))
            if a.limit:
                instances = instances[: a.limit]
            n = len(instances)

            def cases(instances=instances):
                for dataset, sub, file in instances:
                    run_dir = os.path.join(data_root, dataset, sub)
                    df, attributes, df_a, df_b = read_dataframe(run_dir, file, derived, derived)
                    yield file, df, attributes, df_a, df_b, get_label(run_dir, file, derived)
        tally = {}
        started = time.time()
        for i, (file, df, attributes, df_a, df_b, label) in enumerate(cases()):
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
                log_case(ds, file, name, pred, label, tp, fp, fn, dt)
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
                log_case(ds, file, peer, pp, label, tp, fp, fn, dt)
                t = tally.setdefault(peer, [0, 0, 0, 0.0, 0, 0])
                t[0] += tp; t[1] += fp; t[2] += fn; t[3] += dt
                t[4] += contained(pp, list(true_labels)); t[5] += len(true_labels)
            # Progress on stderr: a case of H takes minutes.
            print(f"{ds} {i + 1}/{n} ({time.time() - started:.0f} s) "
                  + " ".join(f"{m} {t[0]}/{t[0] + t[1]}/{t[0] + t[2]}" for m, t in tally.items()),
                  file=sys.stderr, flush=True)
        rows = []
        for method, (tp, fp, fn, secs, cont, total) in tally.items():
            f1 = 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else 0.0
            rows.append((ds, n, method, f1, tp, fp, fn, secs / max(n, 1),
                         cont / max(total, 1)))
        # Each dataset's figures as soon as it is done: a full run takes hours.
        report(rows, header=not results)
        results += rows
    shutil.rmtree(work, ignore_errors=True)
    if cases_out:
        cases_out.close()


if __name__ == "__main__":
    main()
