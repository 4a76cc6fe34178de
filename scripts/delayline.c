/*
 * delayline QUEUE DELAY_NS: a user-space delay line, for scripts/cluster on kernels
 * without netem. Every packet that netfilter queues to QUEUE (iptables -j NFQUEUE) is
 * held for DELAY_NS nanoseconds after it reached this program, then accepted.
 *
 * The delay is the same for every packet, so packets leave in the order they came: a
 * FIFO of packet ids, and one batch verdict (accept every id up to the newest due one)
 * releases all packets due at once. Between packets the program sleeps in poll() on the
 * queue's socket and a timerfd armed for the oldest packet's release (timer slack 1 ns,
 * SCHED_FIFO where allowed, so that the release is not late by the 50 us default slack
 * or by busy-polling ranks). A wake-up from the timer comes late by tens of us on a VM's
 * idle core, so the timer is armed early by the lateness seen so far (a running mean,
 * at most LEAD_MAX_NS) and the rest is waited by polling the clock: a spin of at most
 * LEAD_MAX_NS per release, never longer. Only metadata is copied (no payload), and GSO
 * packets are queued whole. SIGTERM or SIGINT releases what is held, then exits.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* Packets held at most (also the kernel queue's length; past it packets pass undelayed). */
#define CAP 65536
/* Packets due within this much of now leave together (one wake-up, one verdict). */
#define BATCH_NS 1000
/* The timer is armed early by at most this much; the program spins the rest. */
#define LEAD_MAX_NS 40000

static uint32_t ids[CAP];
static uint64_t due[CAP];
static uint64_t head, tail;
static uint64_t delay_ns;
static volatile sig_atomic_t stop;
/* When the timer was set to fire, and the running mean of how late it woke us (ns). */
static uint64_t armed_at, late_ns;

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *d, void *arg) {
    (void)msg;
    uint64_t t = *(uint64_t *)arg;
    struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(d);
    if (!ph) return 0;
    uint32_t id = ntohl(ph->packet_id);
    if (tail - head == CAP) return nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL); /* full: pass */
    ids[tail % CAP] = id;
    due[tail % CAP] = t + delay_ns;
    tail++;
    return 0;
}

/* Accepts every held packet due by `t` with one verdict; returns -1 on a netlink error. */
static int release(struct nfq_q_handle *qh, uint64_t t) {
    uint64_t last = head;
    while (last < tail && due[last % CAP] <= t) last++;
    if (last == head) return 0;
    head = last;
    return nfq_set_verdict_batch(qh, ids[(last - 1) % CAP], NF_ACCEPT);
}

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

static void die(const char *what) {
    fprintf(stderr, "delayline: %s: %s\n", what, strerror(errno));
    exit(1);
}

int main(int argc, char **argv) {
    char *end;
    if (argc != 3) {
        fprintf(stderr, "usage: delayline QUEUE DELAY_NS\n");
        return 2;
    }
    unsigned long queue = strtoul(argv[1], &end, 10);
    if (*end || queue > 65535) {
        fprintf(stderr, "delayline: QUEUE must be a number from 0 to 65535, got '%s'\n", argv[1]);
        return 2;
    }
    delay_ns = strtoull(argv[2], &end, 10);
    if (*end || delay_ns > 10000000000ull) {
        fprintf(stderr, "delayline: DELAY_NS must be a number of nanoseconds up to 10 s, got '%s'\n", argv[2]);
        return 2;
    }
    /* A timer may fire up to the thread's slack late (50 us by default): 1 ns instead. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    /* Run before the ranks' busy-polling when a release is due; it sleeps otherwise. */
    struct sched_param sp = {.sched_priority = 10};
    int rt = sched_setscheduler(0, SCHED_FIFO, &sp) == 0;

    struct nfq_handle *h = nfq_open();
    if (!h) die("nfq_open");
    uint64_t stamp = 0;
    struct nfq_q_handle *qh = nfq_create_queue(h, (uint16_t)queue, on_packet, &stamp);
    if (!qh) die("binding the queue (another program on it?)");
    if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0) die("nfq_set_mode");
    nfq_set_queue_maxlen(qh, CAP);
    /* Past the queue's length packets pass instead of being dropped; GSO packets whole. */
    nfq_set_queue_flags(qh, NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO, NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO);
    int fd = nfq_fd(h);
    int big = 8 << 20, one = 1;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    /* A lost notification is harmless: the next batch verdict releases that packet too. */
    setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (tfd < 0) die("timerfd_create");

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    fprintf(stderr, "delayline: queue %lu, delay %llu ns%s\n", queue, (unsigned long long)delay_ns,
            rt ? ", SCHED_FIFO" : "");

    static char buf[1 << 16] __attribute__((aligned));
    struct pollfd fds[2] = {{.fd = fd, .events = POLLIN}, {.fd = tfd, .events = POLLIN}};
    while (!stop) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            die("poll");
        }
        if (fds[1].revents) {
            uint64_t n, t = now_ns();
            (void)!read(tfd, &n, sizeof n);
            if (armed_at && t > armed_at) late_ns = (7 * late_ns + (t - armed_at)) / 8;
            armed_at = 0;
        }
        if (fds[0].revents) {
            stamp = now_ns();
            for (;;) {
                ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (r < 0) {
                    if (errno == EAGAIN || errno == EINTR || errno == ENOBUFS) break;
                    die("recv");
                }
                nfq_handle_packet(h, buf, (int)r);
            }
        }
        uint64_t lead = late_ns < LEAD_MAX_NS ? late_ns : LEAD_MAX_NS;
        /* The oldest packet is due within the lead: wait for it on the clock. */
        if (head < tail && due[head % CAP] <= now_ns() + lead)
            while (now_ns() + BATCH_NS < due[head % CAP]) {
            }
        if (release(qh, now_ns() + BATCH_NS) < 0) die("verdict");
        /* Sleep until the lead before the oldest held packet is due (disarm if none). */
        struct itimerspec its = {0};
        armed_at = 0;
        if (head < tail) {
            uint64_t d = due[head % CAP] - lead;
            its.it_value.tv_sec = (time_t)(d / 1000000000u);
            its.it_value.tv_nsec = (long)(d % 1000000000u);
            armed_at = d;
        }
        timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
    }
    release(qh, UINT64_MAX);
    nfq_destroy_queue(qh);
    nfq_close(h);
    return 0;
}
