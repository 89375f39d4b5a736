/* loadgen.c: G.711 call load for an RTP relay, with loss, added jitter and the relay's CPU time.
 *
 * N calls = 2N RTP streams of 172-byte datagrams (12-byte RTP header + 160 bytes of PCMU, 20 ms,
 * 50 per second). Each call has two sockets, one per side, bound to the ports its SDP announced:
 * stream 2i goes from side A's socket to the relay port for side A and must come back on side B's
 * socket; stream 2i+1 the other way. Symmetric RTP, so a relay that latches sees the addresses the
 * SDP promised. Streams are spread evenly over the 20 ms packet interval by a 1 ms timerfd.
 *
 * Each datagram carries, after the RTP header, the CLOCK_MONOTONIC send time (ns), the stream id
 * and a sequence number, so the receiver knows the one-way delay of every packet.
 *
 * Sending: sendmmsg batches one socket's datagrams, and here every stream has its own socket (its
 * own source port, as real calls do), so each due stream is one sendto. Receiving: epoll, then
 * one recvmmsg per readable socket.
 *
 * Measured window: after WARMUP seconds, for MEASURE seconds. Then sending stops and the receiver
 * drains for 300 ms. Reported, for the window:
 *   sent         datagrams sent in the window
 *   received     of those, how many came back (on the right socket)
 *   lost         sent - received
 *   forwarded    datagrams received during the window (what the relay forwarded in it)
 *   jitter       added jitter: p50/p99/max of (one-way delay - that stream's minimum one-way delay)
 *                over all packets sent in the window, in µs
 *   relay CPU    with --pid: utime+stime of the whole process (/proc/PID/stat, all threads) and the
 *                sum of the threads' on-CPU time (/proc/PID/task/T/schedstat, ns), window end
 *                minus start, per forwarded datagram; utime alone too (user space's share)
 *   loadgen CPU  its own CPU share in the window and how many timer ticks it ran late, to tell
 *                a starved load generator from a slow relay
 *
 * Layout file: one line per call, "LOCAL_A LOCAL_B RELAY_IP RELAY_PORT_A RELAY_PORT_B" (local
 * ports on 127.0.0.1; side A sends to RELAY_PORT_A, side B to RELAY_PORT_B).
 *
 * Usage: loadgen LAYOUT_FILE WARMUP_S MEASURE_S [RELAY_PID]
 * Prints one line: "loadgen key=value ...".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define PKT 172
#define SLOTS 20          /* 20 ms packet interval, 1 ms ticks */
#define BATCH 16
#define MAXEV 512
#define DRAIN_NS 300000000ULL

struct stream {
    int send_fd, recv_fd;
    struct sockaddr_in dest;
    uint32_t seq;
    uint64_t sent, received, misrouted;
    uint32_t min_delay;
};

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static int bind_udp(int port) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int size = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) { close(fd); return -1; }
    return fd;
}

/* CPU of a whole process: utime+stime (and utime alone) in seconds from /proc/PID/stat, and the sum of every
 * thread's sum_exec_runtime (ns) from /proc/PID/task/T/schedstat. */
static void relay_cpu(int pid, double *stat_s, double *user_s, uint64_t *sched_ns) {
    *stat_s = 0; *user_s = 0; *sched_ns = 0;
    if (pid <= 0) return;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (f) {
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        buf[len] = 0;
        fclose(f);
        char *p = strrchr(buf, ')');
        unsigned long ut = 0, st = 0;
        /* after ')': state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2) {
            *stat_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
            *user_s = (double)ut / (double)sysconf(_SC_CLK_TCK);
        }
    }
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char tpath[320];
        snprintf(tpath, sizeof tpath, "/proc/%d/task/%s/schedstat", pid, e->d_name);
        FILE *t = fopen(tpath, "r");
        if (!t) continue;
        unsigned long long run = 0;
        if (fscanf(t, "%llu", &run) == 1) *sched_ns += run;
        fclose(t);
    }
    closedir(d);
}

static double self_cpu(void) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)r.ru_utime.tv_sec + (double)r.ru_utime.tv_usec / 1e6 + (double)r.ru_stime.tv_sec + (double)r.ru_stime.tv_usec / 1e6;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: loadgen LAYOUT_FILE WARMUP_S MEASURE_S [RELAY_PID]\n"); return 2; }
    double warmup = atof(argv[2]), measure = atof(argv[3]);
    int pid = argc > 4 ? atoi(argv[4]) : 0;
    struct rlimit rl = {65536, 65536};
    setrlimit(RLIMIT_NOFILE, &rl);

    FILE *f = fopen(argv[1], "r");
    if (!f) { perror("layout"); return 1; }
    int cap = 1024, ns = 0;
    struct stream *st = calloc((size_t)cap, sizeof *st);
    int la, lb, pa, pb;
    char ip[64];
    while (fscanf(f, "%d %d %63s %d %d", &la, &lb, ip, &pa, &pb) == 5) {
        if (ns + 2 > cap) { cap *= 2; st = realloc(st, (size_t)cap * sizeof *st); memset(st + ns, 0, (size_t)(cap - ns) * sizeof *st); }
        int fa = bind_udp(la), fb = bind_udp(lb);
        if (fa < 0 || fb < 0) { fprintf(stderr, "loadgen: bind %d/%d: %s\n", la, lb, strerror(errno)); return 1; }
        struct stream *ab = &st[ns], *ba = &st[ns + 1];
        ab->send_fd = fa; ab->recv_fd = fb;
        ba->send_fd = fb; ba->recv_fd = fa;
        ab->dest = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)pa)};
        ba->dest = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)pb)};
        inet_pton(AF_INET, ip, &ab->dest.sin_addr);
        inet_pton(AF_INET, ip, &ba->dest.sin_addr);
        ab->min_delay = ba->min_delay = UINT32_MAX;
        ns += 2;
    }
    fclose(f);
    if (ns == 0) { fprintf(stderr, "loadgen: empty layout\n"); return 1; }

    /* fd -> index of the stream that sends on it (receives the other direction of the same call). */
    int maxfd = 0;
    for (int s = 0; s < ns; s++) if (st[s].send_fd > maxfd) maxfd = st[s].send_fd;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int *owner = calloc((size_t)maxfd + 1, sizeof *owner);
    for (int s = 0; s < ns; s++) {
        owner[st[s].send_fd] = s;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)st[s].send_fd};
        epoll_ctl(ep, EPOLL_CTL_ADD, st[s].send_fd, &ev);
    }
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    uint64_t t0 = now_ns() + 10000000ULL;
    struct itimerspec its = {.it_interval = {0, 1000000}, .it_value = {(time_t)(t0 / 1000000000ULL), (long)(t0 % 1000000000ULL)}};
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
    struct epoll_event tev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev);

    uint64_t win_start = t0 + (uint64_t)(warmup * 1e9), win_end = win_start + (uint64_t)(measure * 1e9);
    size_t sample_cap = (size_t)ns * 50 * (size_t)(measure + 2) + 1024, nsamples = 0;
    uint32_t *delay = malloc(sample_cap * sizeof *delay);
    uint32_t *delay_stream = malloc(sample_cap * sizeof *delay_stream);

    static char rbufs[BATCH][256];
    static struct mmsghdr rx[BATCH];
    static struct iovec riov[BATCH];
    for (int i = 0; i < BATCH; i++) {
        riov[i] = (struct iovec){rbufs[i], sizeof rbufs[i]};
        rx[i].msg_hdr = (struct msghdr){.msg_iov = &riov[i], .msg_iovlen = 1};
    }
    unsigned char pkt[PKT];
    memset(pkt, 0xFF, sizeof pkt);  /* PCMU silence */
    pkt[0] = 0x80; pkt[1] = 0;      /* RTP version 2, payload type 0 */

    uint64_t tick = 0, forwarded = 0, late_ticks = 0, bad = 0, send_errors = 0;
    int in_window = 0, done_sending = 0;
    double cpu0_stat = 0, cpu1_stat = 0, user0 = 0, user1 = 0, self0 = 0, self1 = 0;
    uint64_t cpu0_sched = 0, cpu1_sched = 0, wall0 = 0, wall1 = 0, stop_at = 0;
    struct epoll_event evs[MAXEV];

    for (;;) {
        int ne = epoll_wait(ep, evs, MAXEV, 50);
        uint64_t now = now_ns();
        if (done_sending && now >= stop_at) break;
        for (int e = 0; e < ne; e++) {
            if (evs[e].data.u32 == UINT32_MAX) {
                uint64_t exp = 0;
                if (read(tfd, &exp, sizeof exp) != sizeof exp || exp == 0) continue;
                if (in_window && exp > 1) late_ticks += exp - 1;
                if (exp > SLOTS) { tick += exp - SLOTS; exp = SLOTS; }  /* far behind: one round, not a burst */
                for (uint64_t k = 0; k < exp && !done_sending; k++, tick++) {
                    uint64_t t = now_ns();
                    if (!in_window && t >= win_start) {
                        in_window = 1;
                        relay_cpu(pid, &cpu0_stat, &user0, &cpu0_sched);
                        self0 = self_cpu();
                        wall0 = now_ns();
                    }
                    if (t >= win_end) {
                        relay_cpu(pid, &cpu1_stat, &user1, &cpu1_sched);
                        self1 = self_cpu();
                        wall1 = now_ns();
                        done_sending = 1;
                        stop_at = wall1 + DRAIN_NS;
                        break;
                    }
                    for (int s = (int)(tick % SLOTS); s < ns; s += SLOTS) {
                        struct stream *x = &st[s];
                        uint64_t ts = now_ns();
                        uint32_t id = (uint32_t)s, seq = x->seq++;
                        pkt[2] = (unsigned char)(seq >> 8); pkt[3] = (unsigned char)seq;
                        uint32_t rtpts = seq * 160, ssrc = 0x7a000000u + id;
                        pkt[4] = (unsigned char)(rtpts >> 24); pkt[5] = (unsigned char)(rtpts >> 16);
                        pkt[6] = (unsigned char)(rtpts >> 8); pkt[7] = (unsigned char)rtpts;
                        pkt[8] = (unsigned char)(ssrc >> 24); pkt[9] = (unsigned char)(ssrc >> 16);
                        pkt[10] = (unsigned char)(ssrc >> 8); pkt[11] = (unsigned char)ssrc;
                        memcpy(pkt + 12, &ts, 8);
                        memcpy(pkt + 20, &id, 4);
                        memcpy(pkt + 24, &seq, 4);
                        if (sendto(x->send_fd, pkt, PKT, 0, (struct sockaddr *)&x->dest, sizeof x->dest) != PKT) {
                            send_errors++;
                            continue;
                        }
                        if (ts >= win_start && ts < win_end) x->sent++;
                    }
                }
                continue;
            }
            int fd = (int)evs[e].data.u32;
            int got;
            do {
                got = recvmmsg(fd, rx, BATCH, MSG_DONTWAIT, NULL);
                if (got <= 0) break;
                uint64_t rt = now_ns();
                for (int i = 0; i < got; i++) {
                    if (rx[i].msg_len != PKT) { bad++; continue; }
                    uint64_t ts; uint32_t id;
                    memcpy(&ts, rbufs[i] + 12, 8);
                    memcpy(&id, rbufs[i] + 20, 4);
                    if (id >= (uint32_t)ns || ts > rt) { bad++; continue; }
                    struct stream *x = &st[id];
                    if (x->recv_fd != fd) { x->misrouted++; continue; }
                    if (rt >= win_start && rt < win_end) forwarded++;
                    if (ts >= win_start && ts < win_end) {
                        x->received++;
                        uint64_t d = rt - ts;
                        uint32_t d32 = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
                        if (d32 < x->min_delay) x->min_delay = d32;
                        if (nsamples < sample_cap) { delay[nsamples] = d32; delay_stream[nsamples] = id; nsamples++; }
                    }
                }
            } while (got == BATCH);
        }
    }

    uint64_t sent = 0, received = 0, misrouted = 0;
    int silent = 0;
    for (int s = 0; s < ns; s++) {
        sent += st[s].sent; received += st[s].received; misrouted += st[s].misrouted;
        if (st[s].received == 0) silent++;
    }
    for (size_t i = 0; i < nsamples; i++) delay[i] -= st[delay_stream[i]].min_delay;
    qsort(delay, nsamples, sizeof *delay, cmp_u32);
    double p50 = 0, p99 = 0, pmax = 0;
    if (nsamples) {
        p50 = delay[nsamples / 2] / 1e3;
        p99 = delay[(size_t)((double)(nsamples - 1) * 0.99)] / 1e3;
        pmax = delay[nsamples - 1] / 1e3;
    }
    double window = (double)(wall1 - wall0) / 1e9;
    double relay_stat = cpu1_stat - cpu0_stat;
    double relay_sched = (double)(cpu1_sched - cpu0_sched) / 1e9;
    double per = forwarded ? 1e9 / (double)forwarded : 0;
    printf("loadgen calls=%d window_s=%.3f sent=%llu received=%llu lost=%lld loss_pct=%.4f forwarded=%llu "
           "misrouted=%llu bad=%llu send_errors=%llu silent_streams=%d jitter_p50_us=%.1f jitter_p99_us=%.1f jitter_max_us=%.1f "
           "relay_cpu_s=%.3f relay_cpu_ns_per_packet=%.0f relay_user_ns_per_packet=%.0f relay_sched_s=%.4f relay_sched_ns_per_packet=%.0f "
           "loadgen_cpu_share=%.3f late_ticks=%llu\n",
           ns / 2, window, (unsigned long long)sent, (unsigned long long)received, (long long)sent - (long long)received,
           sent ? 100.0 * (double)((long long)sent - (long long)received) / (double)sent : 0.0, (unsigned long long)forwarded,
           (unsigned long long)misrouted, (unsigned long long)bad, (unsigned long long)send_errors, silent, p50, p99, pmax,
           relay_stat, relay_stat * per, (user1 - user0) * per, relay_sched, relay_sched * per,
           window > 0 ? (self1 - self0) / window : 0, (unsigned long long)late_ticks);
    return 0;
}
