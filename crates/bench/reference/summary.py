"""Summarises crates/bench/reference/run.sh: medians over rounds, ratios parsci / Open MPI."""
import json
import statistics
import sys
from collections import defaultdict

times = defaultdict(list)  # (who, kind, bytes) -> [us]
floors = []
for line in open(sys.argv[1]):
    who, _round, payload = line.split(" ", 2)
    data = json.loads(payload)
    if who == "mpi":
        times[("mpi", data["kind"], data["bytes"])].append(data["time_us"])
    else:
        if data["floor"]["line_pingpong_us"] is not None:
            floors.append(data["floor"]["line_pingpong_us"])
        for s in data["samples"]:
            times[("parsci", s["kind"], s["bytes"])].append(s["time_us"])

med = {k: statistics.median(v) for k, v in times.items()}
rounds = len(times[("mpi", "pingpong", 8)])
floor = f"{statistics.median(floors):.3f} us one-way" if floors else "not measured (one CPU)"
print(f"rounds: {rounds}; cache-line floor (median): {floor}")
print("| figure | parsci threads | Open MPI | parsci / Open MPI |")
print("|---|---|---|---|")
for kind, size, label in [
    ("pingpong", 8, "ping-pong 8 B, one-way latency"),
    ("pingpong", 1048576, "ping-pong 1 MiB"),
    ("allreduce", 8, "allreduce 1 f64"),
    ("allreduce", 1048576, "allreduce 1 MiB of f64"),
    ("bcast", 8, "bcast 8 B"),
    ("bcast", 1048576, "bcast 1 MiB"),
]:
    p, m = med[("parsci", kind, size)], med[("mpi", kind, size)]
    extra = ""
    if kind == "pingpong" and size > 8:
        extra = f" ({size / p / 1e3:.1f} vs {size / m / 1e3:.1f} GB/s)"
    print(f"| {label} | {p:.3f} us | {m:.3f} us | {p / m:.2f}x{extra} |")
