#!/usr/bin/env python3
"""Medians of train.sh's runs: samples/s per program, model and rank count, parallel
efficiency at 2 ranks, parsci / numpy, overlap on / off, and parsci's time per phase."""
import json
import statistics
import sys
from collections import defaultdict

runs = defaultdict(list)   # (who, model, ranks) -> [samples/s]
phases = defaultdict(list)  # (model, ranks) -> [phases per sample]
for line in open(sys.argv[1]):
    who, model, ranks, text = line.split(" ", 3)
    v = json.loads(text)
    epochs = (v["result"] if who == "parsci" else v)["epochs"]
    sps = statistics.median(e["samples_per_s"] for e in epochs)
    runs[(who, model, int(ranks))].append(sps)
    if who == "parsci":
        n = len(epochs) * v["result"]["samples"]
        ph = {k: t / n * 1e6 for k, t in v["result"]["phases"].items()}
        phases[(model, int(ranks))].append(ph)

med = {k: statistics.median(v) for k, v in runs.items()}
print(f"{'program':<8} {'model':<20} {'ranks':>5} {'samples/s':>12} {'runs':>5}")
for (who, model, r), s in sorted(med.items()):
    print(f"{who:<8} {model:<20} {r:>5} {s:>12.4g} {len(runs[(who, model, r)]):>5}")
for model in ["fashion", "logreg"]:
    for who in ["parsci", "numpy"]:
        one, two = med.get((who, model, 1)), med.get((who, model, 2))
        if one and two:
            print(f"{who} {model}: parallel efficiency at 2 ranks {two / (2 * one):.2f}")
    for r in [1, 2]:
        p, q = med.get(("parsci", model, r)), med.get(("numpy", model, r))
        if p and q:
            print(f"{model} at {r} ranks: parsci / numpy = {p / q:.2f}")
on, off = med.get(("parsci", "fashion", 2)), med.get(("parsci", "fashion-no-overlap", 2))
if on and off:
    print(f"fashion at 2 ranks: overlap on / off = {on / off:.2f}")
for key, rows in sorted(phases.items()):
    names = rows[0].keys()
    cells = ", ".join(f"{k[:-2]} {statistics.median(r[k] for r in rows):.1f}" for k in names)
    print(f"parsci {key[0]} at {key[1]} ranks, rank 0's microseconds per sample: {cells}")
