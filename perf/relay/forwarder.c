/* forwarder.c: the floor for the relay's syscall pattern.
 *
 * A UDP forwarder with a fixed port layout and nothing else: one epoll set (level-triggered), one
 * recvmmsg per readable socket (repeated only while the batch comes back full), and one sendmmsg
 * per run of datagrams that leave through the same socket, with the destination in msg_name
 * (unconnected sockets, as a relay that latches must use). No latching, no parsing, no statistics,
 * no lookup beyond an array index: what it costs per packet is what the kernel costs for that pattern.
 *
 * Layout file (the one perf/relay/loadgen.c reads): one line per call,
 *   LOCAL_A LOCAL_B RELAY_IP RELAY_PORT_A RELAY_PORT_B
 * Side A sends to RELAY_PORT_A, which forwards to LOCAL_B out of RELAY_PORT_B's socket; side B
 * sends to RELAY_PORT_B, which forwards to LOCAL_A out of RELAY_PORT_A's socket (symmetric RTP).
 * Every address is 127.0.0.1 here except RELAY_IP.
 *
 * Usage: forwarder LAYOUT_FILE
 * Prints "ready N" on stdout once every socket is bound; runs until SIGTERM or SIGINT.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 32
#define BUFSZ 2048
#define MAXEV 256

struct end {
    int fd;                    /* socket bound to this relay port */
    int peer;                  /* index of the end whose socket the datagram leaves through */
    struct sockaddr_in dest;   /* where datagrams received here are sent */
};

static volatile sig_atomic_t running = 1;
static void on_signal(int sig) { (void)sig; running = 0; }

static int bind_udp(const char *ip, int port) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int size = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) { close(fd); return -1; }
    return fd;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: forwarder LAYOUT_FILE\n"); return 2; }
    struct rlimit rl = {65536, 65536};
    setrlimit(RLIMIT_NOFILE, &rl);
    FILE *f = fopen(argv[1], "r");
    if (!f) { perror("layout"); return 1; }
    int cap = 1024, n = 0;
    struct end *ends = calloc((size_t)cap, sizeof *ends);
    int la, lb, pa, pb;
    char ip[64];
    while (fscanf(f, "%d %d %63s %d %d", &la, &lb, ip, &pa, &pb) == 5) {
        if (n + 2 > cap) { cap *= 2; ends = realloc(ends, (size_t)cap * sizeof *ends); }
        struct end *a = &ends[n], *b = &ends[n + 1];
        a->fd = bind_udp(ip, pa);
        b->fd = bind_udp(ip, pb);
        if (a->fd < 0 || b->fd < 0) { fprintf(stderr, "forwarder: bind %s:%d/%d: %s\n", ip, pa, pb, strerror(errno)); return 1; }
        a->peer = n + 1; b->peer = n;
        a->dest = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)lb)};
        b->dest = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)la)};
        inet_pton(AF_INET, "127.0.0.1", &a->dest.sin_addr);
        inet_pton(AF_INET, "127.0.0.1", &b->dest.sin_addr);
        n += 2;
    }
    fclose(f);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < n; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, ends[i].fd, &ev) < 0) { perror("epoll_ctl"); return 1; }
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    static char bufs[BATCH][BUFSZ];
    static struct mmsghdr rx[BATCH], tx[BATCH];
    static struct iovec riov[BATCH], tiov[BATCH];
    for (int i = 0; i < BATCH; i++) {
        riov[i] = (struct iovec){bufs[i], BUFSZ};
        rx[i].msg_hdr = (struct msghdr){.msg_iov = &riov[i], .msg_iovlen = 1};
        tx[i].msg_hdr = (struct msghdr){.msg_iov = &tiov[i], .msg_iovlen = 1};
    }
    printf("ready %d\n", n / 2);
    fflush(stdout);

    struct epoll_event evs[MAXEV];
    unsigned long long forwarded = 0, dropped = 0;
    while (running) {
        int ne = epoll_wait(ep, evs, MAXEV, -1);
        for (int e = 0; e < ne; e++) {
            struct end *in = &ends[evs[e].data.u32];
            struct end *out = &ends[in->peer];
            int got;
            do {
                for (int i = 0; i < BATCH; i++) riov[i].iov_len = BUFSZ;
                got = recvmmsg(in->fd, rx, BATCH, MSG_DONTWAIT, NULL);
                if (got <= 0) break;
                for (int i = 0; i < got; i++) {
                    tiov[i] = (struct iovec){bufs[i], rx[i].msg_len};
                    tx[i].msg_hdr.msg_name = &in->dest;
                    tx[i].msg_hdr.msg_namelen = sizeof in->dest;
                }
                int sent = 0;
                while (sent < got) {
                    int s = sendmmsg(out->fd, tx + sent, (unsigned)(got - sent), 0);
                    if (s <= 0) { dropped++; sent++; } else sent += s;
                }
                forwarded += (unsigned long long)got;
            } while (got == BATCH);
        }
    }
    fprintf(stderr, "forwarder: forwarded %llu, send failures %llu\n", forwarded, dropped);
    return 0;
}
