#!/usr/bin/env bash
# Same-session comparison of `parsci train` (thread backend) with the numpy + mpi4py
# reference (train_numpy.py) at 1 and 2 ranks: Fashion-MNIST's MLP (one epoch) and the
# workshop's logistic regression (3 epochs), plus parsci's overlap on against off. Each
# round runs everything back to back; summary_train.py prints the medians over rounds.
# Needs openmpi-bin, python3-numpy, python3-mpi4py, dataset-fashion-mnist.
# Usage: crates/bench/reference/train.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/../../.."
rounds=${1:-3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
py=/usr/bin/python3 # Debian's, with python3-numpy and python3-mpi4py
out=$(mktemp)
trap 'rm -f "$out"' EXIT
cargo build --release -q -p parsci
bin=target/release/parsci
[ -n "${CARGO_TARGET_DIR:-}" ] && bin=$CARGO_TARGET_DIR/release/parsci
ref=crates/bench/reference/train_numpy.py
for i in $(seq "$rounds"); do
    for n in 1 2; do
        echo "parsci fashion $n $($bin --json -n $n train fashion-mnist --epochs 1 | tr -d '\n')" >>"$out"
        echo "numpy fashion $n $(mpirun -n $n $py $ref fashion --epochs 1)" >>"$out"
        echo "parsci logreg $n $($bin --json -n $n train logreg --epochs 3 | tr -d '\n')" >>"$out"
        echo "numpy logreg $n $(mpirun -n $n $py $ref logreg --epochs 3)" >>"$out"
    done
    echo "parsci fashion-no-overlap 2 $($bin --json -n 2 train fashion-mnist --epochs 1 --no-overlap | tr -d '\n')" >>"$out"
done
$py crates/bench/reference/summary_train.py "$out"
