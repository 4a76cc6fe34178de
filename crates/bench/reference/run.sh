#!/usr/bin/env bash
# Same-session comparison: parsci's thread backend against Open MPI's own shared-memory
# transport, 2 ranks, the figures of issue 2. Needs openmpi-bin and libopenmpi-dev.
# Usage: crates/bench/reference/run.sh [repeats]
set -euo pipefail
cd "$(dirname "$0")/../../.."
repeats=${1:-3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mpicc -O2 -o "$tmp/osu_like" crates/bench/reference/osu_like.c
cargo build --release -q -p parsci
for i in $(seq "$repeats"); do
    echo "# round $i: Open MPI (mpirun -n 2, C)"
    mpirun -n 2 "$tmp/osu_like"
    echo "# round $i: parsci threads (parsci bench --ranks 2)"
    for what in pingpong allreduce bcast; do
        target/release/parsci --ranks 2 bench "$what" --min-size 8 --max-size 8 --json
        target/release/parsci --ranks 2 bench "$what" --min-size 1048576 --max-size 1048576 --json
    done
done
