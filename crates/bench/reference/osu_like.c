/* Reference for parsci's thread backend: the same four measurements done by Open MPI
 * itself (its shared-memory transport when both ranks are on this machine), with the
 * same method as `parsci bench`: warm-up, then the median of RUNS timed runs of the
 * slowest rank. Build and run: crates/bench/reference/run.sh */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNS 9

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Seconds per operation, worst rank. kind: 0 ping-pong (one-way), 1 allreduce, 2 bcast. */
static double once(int kind, size_t bytes, int iters, char *buf, double *s, double *r) {
    int me;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    size_t n = bytes / 8 ? bytes / 8 : 1;
    MPI_Barrier(MPI_COMM_WORLD);
    double t = MPI_Wtime();
    for (int i = 0; i < iters; i++) {
        if (kind == 0) {
            if (me == 0) {
                MPI_Send(buf, (int)bytes, MPI_BYTE, 1, 1, MPI_COMM_WORLD);
                MPI_Recv(buf, (int)bytes, MPI_BYTE, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            } else if (me == 1) {
                MPI_Recv(buf, (int)bytes, MPI_BYTE, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                MPI_Send(buf, (int)bytes, MPI_BYTE, 0, 1, MPI_COMM_WORLD);
            }
        } else if (kind == 1) {
            MPI_Allreduce(s, r, (int)n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        } else {
            MPI_Bcast(buf, (int)bytes, MPI_BYTE, 0, MPI_COMM_WORLD);
        }
    }
    t = MPI_Wtime() - t;
    double worst;
    MPI_Allreduce(&t, &worst, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return worst / iters / (kind == 0 ? 2.0 : 1.0);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int me, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size < 2) {
        if (me == 0) fprintf(stderr, "osu_like: needs at least 2 ranks\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    const char *names[] = {"pingpong", "allreduce", "bcast"};
    /* Sizes in bytes: the arguments, or 8 B and 1 MiB. */
    size_t sizes[64] = {8, 1 << 20};
    int nsizes = 2;
    if (argc > 1) {
        nsizes = 0;
        for (int i = 1; i < argc && nsizes < 64; i++) {
            long v = atol(argv[i]);
            if (v < 1 || v > (1 << 20)) {
                if (me == 0) fprintf(stderr, "osu_like: sizes go from 1 to 1048576 bytes, got %s\n", argv[i]);
                MPI_Abort(MPI_COMM_WORLD, 2);
            }
            sizes[nsizes++] = (size_t)v;
        }
    }
    char *buf = malloc(1 << 20);
    double *s = malloc(1 << 20), *r = malloc(1 << 20);
    memset(buf, me, 1 << 20);
    for (size_t i = 0; i < (1 << 20) / 8; i++) s[i] = me;
    for (int kind = 0; kind < 3; kind++) {
        for (int k = 0; k < nsizes; k++) {
            size_t bytes = sizes[k];
            double per_op_us = 0.2 + bytes / 10000.0;
            int iters = (int)(2000.0 / per_op_us);
            if (iters < 3) iters = 3;
            if (iters > 200000) iters = 200000;
            double times[RUNS];
            once(kind, bytes, iters / 10 + 1, buf, s, r);
            for (int run = 0; run < RUNS; run++) times[run] = once(kind, bytes, iters, buf, s, r) * 1e6;
            double med = median(times, RUNS);
            if (me == 0)
                printf("{\"kind\": \"%s\", \"bytes\": %zu, \"time_us\": %.4f, \"bandwidth_gbs\": %.3f}\n", names[kind],
                       bytes, med, bytes / (med * 1e3));
        }
    }
    free(buf);
    free(s);
    free(r);
    MPI_Finalize();
    return 0;
}
