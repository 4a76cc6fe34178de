#!/usr/bin/env bash
# Same-session comparison of parsci's thread backend with Open MPI's own shared-memory
# transport on 2 ranks: the figures of BENCHMARKS.md. Each round runs both, back to back;
# the table gives the median over rounds and the ratio parsci / Open MPI.
# Needs openmpi-bin and libopenmpi-dev. Usage: crates/bench/reference/run.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/../../.."
rounds=${1:-5}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mpicc -O2 -o "$tmp/osu_like" crates/bench/reference/osu_like.c
cargo build --release -q -p parsci
for i in $(seq "$rounds"); do
    mpirun -n 2 "$tmp/osu_like" | sed "s/^/mpi $i /" >>"$tmp/out"
    for what in pingpong allreduce bcast; do
        for size in 8 1048576; do
            echo "parsci $i $(target/release/parsci --ranks 2 bench "$what" --min-size "$size" --max-size "$size" --json)" >>"$tmp/out"
        done
    done
done
python3 crates/bench/reference/summary.py "$tmp/out"
