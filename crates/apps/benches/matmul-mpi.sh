#!/usr/bin/env bash
# The MPI half of BENCHMARKS.md's matmul figures: N x N x N (4000) under mpirun at 1 and 2
# processes, summa and scatter-gather, interleaved round by round with the reference (faer
# on the whole matrices on 1 and 2 threads, from `cargo bench --bench matmul -- N 1 only`).
# Prints the medians over ROUNDS (3) and the ratios. Needs `cargo build --release --features
# mpi` and the bench built (`cargo bench -p parsci-apps --bench matmul --no-run`).
# Usage: crates/apps/benches/matmul-mpi.sh [N] [ROUNDS]
set -euo pipefail
n=${1:-4000}
rounds=${2:-3}
target=${CARGO_TARGET_DIR:-target}
parsci=$target/release/parsci
bench=$(ls -t "$target"/release/deps/matmul-* | grep -v '\.d$' | head -1)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=$(mktemp)
for _ in $(seq "$rounds"); do
    "$bench" "$n" 1 only | sed 's/^/ref /' >>"$out"
    for ranks in 1 2; do
        for s in summa scatter-gather; do
            g=$(mpirun -n "$ranks" "$parsci" matmul "$n" "$n" "$n" --strategy "$s" --json \
                | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["gflops"])')
            echo "mpi $s $ranks $g" >>"$out"
        done
    done
done
python3 - "$out" "$n" "$rounds" <<'PY'
import json, statistics, sys
lines = open(sys.argv[1]).read().split("\n")
refs = [json.loads(l[4:]) for l in lines if l.startswith("ref ")]
seq = statistics.median(r["seq"] for r in refs)
par2 = statistics.median(r["par2"] for r in refs)
print(f"matmul {sys.argv[2]}^3 under mpirun, medians of {sys.argv[3]} rounds, GFLOP/s")
print(f"reference: faer on 1 thread {seq:.2f}, on 2 threads {par2:.2f}")
runs = {}
for l in lines:
    if l.startswith("mpi "):
        _, s, r, g = l.split()
        runs.setdefault((s, int(r)), []).append(float(g))
for (s, r), g in sorted(runs.items(), key=lambda x: (x[0][1], x[0][0])):
    m = statistics.median(g)
    ref = seq if r == 1 else par2
    print(f"{s:<16} {r:>5} {m:>9.2f} {100 * m / ref:>8.1f}%")
PY
rm -f "$out"
