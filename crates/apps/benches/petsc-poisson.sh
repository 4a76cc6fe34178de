#!/usr/bin/env bash
# BENCHMARKS.md's PETSc figures (issue 17): `parsci petsc poisson N N` against PETSc's own
# C tutorial ksp/tutorials/ex2 (`-m N -n N`, compiled here with mpicc -O2), both with the
# same PETSc options (default: -ksp_type cg -pc_type gamg), at each rank count (default
# 1 2 4; counts above the cores are oversubscribed), alternating the two programs round by
# round. Per program and rank count, the medians over ROUNDS of: the wall time of the
# whole mpirun, PETSc's own total time and its KSPSolve time (from -log_view), and the
# iterations; then parsci / ex2 and the speedups.
# Needs `cargo build --release --features petsc`, petsc-dev and libpetsc3.18-dev-examples.
# Usage: crates/apps/benches/petsc-poisson.sh [N] [ROUNDS] [RANKS...]
# Options for PETSc: PETSC_BENCH_OPTIONS="-ksp_type cg -pc_type gamg" (the default).
set -euo pipefail
n=${1:-2000}
rounds=${2:-5}
shift 2 || true
ranks=("${@:-1 2 4}")
read -r -a ranks <<<"${ranks[*]}"
opts=${PETSC_BENCH_OPTIONS:--ksp_type cg -pc_type gamg}
target=${CARGO_TARGET_DIR:-target}
parsci=$target/release/parsci
src=/usr/share/petsc/3.18/share/petsc/examples/src/ksp/ksp/tutorials/ex2.c
ex2=$target/release/petsc-ex2-bench
# shellcheck disable=SC2046 # pkg-config's flags are words
mpicc -O2 "$src" $(pkg-config --cflags --libs PETSc) -lm -o "$ex2"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
cores=$(nproc)
out=$(mktemp)
run() { # label ranks program args...
    local label=$1 np=$2
    shift 2
    local t0 t1 log
    log=$(mktemp)
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086 # $opts is a list of options
    local bind=core
    ((np > cores)) && bind=none # more ranks than cores: no core of their own
    mpirun -n "$np" --bind-to "$bind" "$@" $opts -log_view >"$log"
    t1=$(date +%s.%N)
    python3 - "$label" "$np" "$t0" "$t1" "$log" >>"$out" <<'PY'
import re, sys
label, np, t0, t1, log = sys.argv[1:]
text = open(log).read()
total = re.search(r"^Time \(sec\):\s+(\S+)", text, re.M).group(1)
solve = re.search(r"^KSPSolve\s+\d+\s+\S+\s+(\S+)", text, re.M).group(1)
its = re.search(r"iterations (\d+)", text).group(1)
print(label, np, float(t1) - float(t0), total, solve, its)
PY
    rm -f "$log"
}
for _ in $(seq "$rounds"); do
    for np in "${ranks[@]}"; do
        run ex2 "$np" "$ex2" -m "$n" -n "$n"
        run parsci "$np" "$parsci" petsc poisson "$n" "$n" --
    done
done
python3 - "$out" "$n" "$rounds" "$cores" "$opts" <<'PY'
import statistics, sys
path, n, rounds, cores, opts = sys.argv[1:]
runs = {}
for line in open(path):
    label, np, wall, total, solve, its = line.split()
    runs.setdefault((label, int(np)), []).append((float(wall), float(total), float(solve), int(its)))
med = {k: [statistics.median(x[i] for x in v) for i in range(4)] for k, v in runs.items()}
print(f"poisson {n} x {n} {opts}: medians of {rounds} alternating rounds, {cores} cores, seconds")
print(f"{'ranks':>7} {'program':<8} {'wall':>8} {'PETSc':>8} {'KSPSolve':>9} {'its':>4} {'wall/ex2':>9} {'solve/ex2':>10} {'speedup':>8}")
for np in sorted({k[1] for k in med}):
    mark = " (oversubscribed)" if np > int(cores) else ""
    for label in ("ex2", "parsci"):
        wall, total, solve, its = med[(label, np)]
        ref = med[("ex2", np)]
        base = med.get((label, 1), [None])[0]
        speedup = f"{base / wall:8.2f}" if base else f"{'':>8}"
        print(f"{np:>7} {label:<8} {wall:8.3f} {total:8.3f} {solve:9.3f} {its:4d} {wall / ref[0]:9.3f} {solve / ref[2]:10.3f} {speedup}{mark}")
PY
rm -f "$out"
