#!/usr/bin/env python3
"""The numpy + mpi4py reference of `parsci train` (issue 16), for BENCHMARKS.md.

Same models, batches and optimizers as parsci, written the way the field writes them:
float64, the global batch split across the ranks, each rank's gradient summed with one
mpi4py Allreduce per step (no overlap), numpy's BLAS single-threaded per rank
(OPENBLAS_NUM_THREADS=1, set by the caller).

  fashion: 784-256-128-10 ReLU MLP, softmax cross-entropy, Adam lr 0.001, global batch 128,
           reshuffled each epoch; reads the gzip IDX files.
  logreg:  200,000 x 64 synthetic samples, logistic loss, SGD lr 0.05, global batch 256.

Run: mpirun -n P python3 train_numpy.py fashion|logreg [--epochs E] [--data DIR]
Prints one JSON line (rank 0): the training time and samples/s of each epoch (the steps
only, as parsci's samples/s), and the final accuracy.
"""
import argparse
import gzip
import json
import time

import numpy as np
from mpi4py import MPI


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    nd = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


def fashion(d):
    x = idx(f"{d}/train-images-idx3-ubyte.gz").reshape(60000, -1).astype(np.float64) / 255.0
    y = idx(f"{d}/train-labels-idx1-ubyte.gz").astype(np.int64)
    tx = idx(f"{d}/t10k-images-idx3-ubyte.gz").reshape(10000, -1).astype(np.float64) / 255.0
    ty = idx(f"{d}/t10k-labels-idx1-ubyte.gz").astype(np.int64)
    return x, y, tx, ty


class Mlp:
    def __init__(self, sizes, rng):
        self.w = [rng.standard_normal((o, i)) * np.sqrt(2.0 / i) for i, o in zip(sizes, sizes[1:])]
        self.b = [np.zeros(o) for o in sizes[1:]]

    def params(self):
        return self.w + self.b

    def forward(self, x):
        acts = [x]
        for l, (w, b) in enumerate(zip(self.w, self.b)):
            z = acts[-1] @ w.T + b
            acts.append(np.maximum(z, 0.0) if l < len(self.w) - 1 else z)
        return acts

    def grads(self, x, y):
        """Summed softmax cross-entropy gradient of the samples (x, y)."""
        acts = self.forward(x)
        z = acts[-1]
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(y)), y] -= 1.0
        delta = p
        gw, gb = [None] * len(self.w), [None] * len(self.w)
        for l in range(len(self.w) - 1, -1, -1):
            gw[l] = delta.T @ acts[l]
            gb[l] = delta.sum(axis=0)
            if l > 0:
                delta = (delta @ self.w[l]) * (acts[l] > 0)
        return gw + gb

    def accuracy(self, x, y):
        return float((self.forward(x)[-1].argmax(axis=1) == y).mean())


class Adam:
    def __init__(self, params, lr):
        self.lr, self.t = lr, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, params, grads):
        self.t += 1
        c1, c2 = 1 - 0.9 ** self.t, 1 - 0.999 ** self.t
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            p -= self.lr * (m / c1) / (np.sqrt(v / c2) + 1e-8)


def run_fashion(comm, args):
    rank, size = comm.Get_rank(), comm.Get_size()
    x, y, tx, ty = fashion(args.data)
    net = Mlp([784, 256, 128, 10], np.random.default_rng(2024))
    params = net.params()
    opt = Adam(params, 0.001)
    flat = np.zeros(sum(p.size for p in params))
    total = np.zeros_like(flat)
    batch, n = 128, len(y)
    epochs = []
    for epoch in range(args.epochs):
        order = np.random.default_rng(epoch).permutation(n)
        comm.Barrier()
        start = time.perf_counter()
        for s in range(0, n, batch):
            idx_ = order[s: s + batch]
            lo, hi = len(idx_) * rank // size, len(idx_) * (rank + 1) // size
            mine = idx_[lo:hi]
            grads = net.grads(x[mine], y[mine])
            at = 0
            for g in grads:
                flat[at: at + g.size] = g.ravel()
                at += g.size
            comm.Allreduce(flat, total, op=MPI.SUM)
            total /= len(idx_)
            at, mean = 0, []
            for g in grads:
                mean.append(total[at: at + g.size].reshape(g.shape))
                at += g.size
            opt.step(params, mean)
        seconds = time.perf_counter() - start
        epochs.append({"epoch": epoch + 1, "train_time_s": seconds, "samples_per_s": n / seconds})
    return {"test_accuracy": net.accuracy(tx, ty), "epochs": epochs}


def run_logreg(comm, args):
    rank, size = comm.Get_rank(), comm.Get_size()
    rng = np.random.default_rng(2024)
    n, d = 200_000, 64
    w_true = rng.standard_normal(d)
    x = rng.standard_normal((n, d))
    y = ((x @ w_true + rng.standard_normal(n)) > 0).astype(np.float64)
    w, b = np.zeros(d), np.zeros(1)
    g, total = np.zeros(d + 1), np.zeros(d + 1)
    batch, epochs = 256, []
    for epoch in range(args.epochs):
        comm.Barrier()
        start = time.perf_counter()
        for s in range(0, n, batch):
            e = min(s + batch, n)
            lo, hi = s + (e - s) * rank // size, s + (e - s) * (rank + 1) // size
            xb, yb = x[lo:hi], y[lo:hi]
            z = xb @ w + b[0]
            r = 1.0 / (1.0 + np.exp(-z)) - yb
            g[:d] = r @ xb
            g[d] = r.sum()
            comm.Allreduce(g, total, op=MPI.SUM)
            total /= e - s
            w -= 0.05 * total[:d]
            b -= 0.05 * total[d:]
        seconds = time.perf_counter() - start
        epochs.append({"epoch": epoch + 1, "train_time_s": seconds, "samples_per_s": n / seconds})
    acc = float((((x @ w + b[0]) > 0) == (y > 0.5)).mean())
    return {"accuracy": acc, "epochs": epochs}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", choices=["fashion", "logreg"])
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = ap.parse_args()
    comm = MPI.COMM_WORLD
    out = run_fashion(comm, args) if args.model == "fashion" else run_logreg(comm, args)
    if comm.Get_rank() == 0:
        out.update(model=args.model, ranks=comm.Get_size())
        print(json.dumps(out))


if __name__ == "__main__":
    main()
