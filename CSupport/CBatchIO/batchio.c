#define _GNU_SOURCE
#include "CBatchIO.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* Room for one IP_PKTINFO or IPV6_PKTINFO control message. */
#define TDM_CTRL_LEN 64

struct tdm_batch {
    unsigned capacity;
    unsigned buffer_size;
    struct mmsghdr *msgs;
    struct iovec *iovs;
    struct sockaddr_storage *names;
    unsigned char *control;
    tdm_addr *peers;
    tdm_addr *locals;
    uint8_t *buffers;
    /* Receive headers are laid out once; after that only the messages the last recvmmsg filled need
       their kernel-written fields reset. A send through the batch rewrites headers, so it clears this. */
    int recv_ready;
    unsigned recv_dirty;
};

static socklen_t to_sockaddr(const tdm_addr *a, struct sockaddr_storage *ss) {
    memset(ss, 0, sizeof(*ss));
    if (a->family == 4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(a->port);
        memcpy(&sin->sin_addr, a->ip, 4);
        return sizeof(*sin);
    }
    if (a->family == 6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(a->port);
        sin6->sin6_scope_id = a->scope_id;
        memcpy(&sin6->sin6_addr, a->ip, 16);
        return sizeof(*sin6);
    }
    return 0;
}

static void from_sockaddr(const struct sockaddr_storage *ss, tdm_addr *a) {
    memset(a, 0, sizeof(*a));
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        a->family = 4;
        a->port = ntohs(sin->sin_port);
        memcpy(a->ip, &sin->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        a->family = 6;
        a->port = ntohs(sin6->sin6_port);
        a->scope_id = sin6->sin6_scope_id;
        memcpy(a->ip, &sin6->sin6_addr, 16);
    }
}

int tdm_addr_parse(const char *host, uint16_t port, tdm_addr *out) {
    memset(out, 0, sizeof(*out));
    if (host == NULL) return -EINVAL;
    if (inet_pton(AF_INET, host, out->ip) == 1) {
        out->family = 4;
        out->port = port;
        return 0;
    }
    if (inet_pton(AF_INET6, host, out->ip) == 1) {
        out->family = 6;
        out->port = port;
        return 0;
    }
    return -EINVAL;
}

int tdm_addr_format_host(const tdm_addr *addr, char *buf, size_t len) {
    const char *r;
    if (addr->family == 4) r = inet_ntop(AF_INET, addr->ip, buf, (socklen_t)len);
    else if (addr->family == 6) r = inet_ntop(AF_INET6, addr->ip, buf, (socklen_t)len);
    else return -EINVAL;
    if (r == NULL) return -ENOSPC;
    return (int)strlen(buf);
}

int tdm_addr_equal(const tdm_addr *a, const tdm_addr *b) {
    if (a->family != b->family || a->port != b->port) return 0;
    return memcmp(a->ip, b->ip, a->family == 4 ? 4 : 16) == 0;
}

int tdm_udp_open(const tdm_addr *bind_addr, const tdm_udp_options *o) {
    int domain = bind_addr->family == 6 ? AF_INET6 : (bind_addr->family == 4 ? AF_INET : -1);
    if (domain < 0) return -EAFNOSUPPORT;
    int fd = socket(domain, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
#define TRY(call) do { if ((call) != 0) { int e = errno; close(fd); return -e; } } while (0)
    if (o != NULL) {
        if (o->reuse_addr) TRY(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
        if (o->reuse_port) TRY(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)));
        if (o->rcvbuf > 0) TRY(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf, sizeof(o->rcvbuf)));
        if (o->sndbuf > 0) TRY(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &o->sndbuf, sizeof(o->sndbuf)));
    }
    if (domain == AF_INET6) {
        TRY(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)));
        if (o != NULL && o->pktinfo) TRY(setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)));
        if (o != NULL && o->tos > 0) TRY(setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &o->tos, sizeof(o->tos)));
    } else {
        if (o != NULL && o->pktinfo) TRY(setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)));
        if (o != NULL && o->tos > 0) TRY(setsockopt(fd, IPPROTO_IP, IP_TOS, &o->tos, sizeof(o->tos)));
    }
    struct sockaddr_storage ss;
    socklen_t len = to_sockaddr(bind_addr, &ss);
    TRY(bind(fd, (struct sockaddr *)&ss, len));
#undef TRY
    return fd;
}

int tdm_socket_local_addr(int fd, tdm_addr *out) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return -errno;
    from_sockaddr(&ss, out);
    return 0;
}

int tdm_socket_set_tos(int fd, int tos) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return -errno;
    int r = ss.ss_family == AF_INET6
        ? setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos))
        : setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
    return r == 0 ? 0 : -errno;
}

int tdm_socket_buffer_sizes(int fd, int *rcvbuf, int *sndbuf) {
    socklen_t len = sizeof(int);
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf, &len) != 0) return -errno;
    len = sizeof(int);
    if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, sndbuf, &len) != 0) return -errno;
    return 0;
}

int tdm_close(int fd) { return close(fd) == 0 ? 0 : -errno; }

tdm_batch *tdm_batch_create(unsigned capacity, unsigned buffer_size) {
    if (capacity == 0 || buffer_size == 0) return NULL;
    tdm_batch *b = calloc(1, sizeof(*b));
    if (b == NULL) return NULL;
    b->capacity = capacity;
    b->buffer_size = buffer_size;
    b->msgs = calloc(capacity, sizeof(*b->msgs));
    b->iovs = calloc(capacity, sizeof(*b->iovs));
    b->names = calloc(capacity, sizeof(*b->names));
    b->control = calloc(capacity, TDM_CTRL_LEN);
    b->peers = calloc(capacity, sizeof(*b->peers));
    b->locals = calloc(capacity, sizeof(*b->locals));
    b->buffers = calloc(capacity, buffer_size);
    if (!b->msgs || !b->iovs || !b->names || !b->control || !b->peers || !b->locals || !b->buffers) {
        tdm_batch_destroy(b);
        return NULL;
    }
    return b;
}

void tdm_batch_destroy(tdm_batch *b) {
    if (b == NULL) return;
    free(b->msgs); free(b->iovs); free(b->names); free(b->control);
    free(b->peers); free(b->locals); free(b->buffers);
    free(b);
}

unsigned tdm_batch_capacity(const tdm_batch *b) { return b->capacity; }
unsigned tdm_batch_buffer_size(const tdm_batch *b) { return b->buffer_size; }
uint8_t *tdm_batch_buffer(tdm_batch *b, unsigned i) { return b->buffers + (size_t)i * b->buffer_size; }
unsigned tdm_batch_length(const tdm_batch *b, unsigned i) { return b->msgs[i].msg_len; }
void tdm_batch_set_length(tdm_batch *b, unsigned i, unsigned length) {
    b->msgs[i].msg_len = length > b->buffer_size ? b->buffer_size : length;
}
tdm_addr *tdm_batch_peer(tdm_batch *b, unsigned i) { return &b->peers[i]; }
tdm_addr *tdm_batch_local(tdm_batch *b, unsigned i) { return &b->locals[i]; }

static void recv_header(tdm_batch *b, unsigned i) {
    b->iovs[i].iov_base = tdm_batch_buffer(b, i);
    b->iovs[i].iov_len = b->buffer_size;
    struct msghdr *h = &b->msgs[i].msg_hdr;
    h->msg_name = &b->names[i];
    h->msg_namelen = sizeof(b->names[i]);
    h->msg_iov = &b->iovs[i];
    h->msg_iovlen = 1;
    h->msg_control = b->control + (size_t)i * TDM_CTRL_LEN;
    h->msg_controllen = TDM_CTRL_LEN;
    h->msg_flags = 0;
    b->msgs[i].msg_len = 0;
}

int tdm_recv_batch(int fd, tdm_batch *b) {
    /* Most reads bring one datagram, so re-initialising every header per call would cost more than
       the datagram itself: only the headers the kernel wrote last time are reset. */
    unsigned reset = b->recv_ready ? b->recv_dirty : b->capacity;
    for (unsigned i = 0; i < reset; i++) recv_header(b, i);
    b->recv_ready = 1;
    b->recv_dirty = 0;
    int n = recvmmsg(fd, b->msgs, b->capacity, MSG_DONTWAIT, NULL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
        return -errno;
    }
    b->recv_dirty = (unsigned)n;
    for (int i = 0; i < n; i++) {
        from_sockaddr(&b->names[i], &b->peers[i]);
        tdm_addr *local = &b->locals[i];
        memset(local, 0, sizeof(*local));
        struct msghdr *h = &b->msgs[i].msg_hdr;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
            if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                struct in_pktinfo info;
                memcpy(&info, CMSG_DATA(c), sizeof(info));
                local->family = 4;
                memcpy(local->ip, &info.ipi_addr, 4);
            } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
                struct in6_pktinfo info;
                memcpy(&info, CMSG_DATA(c), sizeof(info));
                local->family = 6;
                local->scope_id = info.ipi6_ifindex;
                memcpy(local->ip, &info.ipi6_addr, 16);
            }
        }
    }
    return n;
}

int tdm_send_batch(int fd, tdm_batch *b, unsigned first, unsigned count) {
    if (first >= b->capacity || count == 0) return 0;
    b->recv_ready = 0;
    if (first + count > b->capacity) count = b->capacity - first;
    for (unsigned i = first; i < first + count; i++) {
        b->iovs[i].iov_base = tdm_batch_buffer(b, i);
        b->iovs[i].iov_len = b->msgs[i].msg_len;
        struct msghdr *h = &b->msgs[i].msg_hdr;
        h->msg_name = &b->names[i];
        h->msg_namelen = to_sockaddr(&b->peers[i], &b->names[i]);
        h->msg_iov = &b->iovs[i];
        h->msg_iovlen = 1;
        h->msg_flags = 0;
        h->msg_control = NULL;
        h->msg_controllen = 0;
        const tdm_addr *src = &b->locals[i];
        unsigned char *ctrl = b->control + (size_t)i * TDM_CTRL_LEN;
        if (src->family == 4 && b->peers[i].family == 4) {
            memset(ctrl, 0, TDM_CTRL_LEN);
            h->msg_control = ctrl;
            h->msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));
            struct cmsghdr *c = CMSG_FIRSTHDR(h);
            c->cmsg_level = IPPROTO_IP;
            c->cmsg_type = IP_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
            struct in_pktinfo info;
            memset(&info, 0, sizeof(info));
            memcpy(&info.ipi_spec_dst, src->ip, 4);
            memcpy(CMSG_DATA(c), &info, sizeof(info));
        } else if (src->family == 6 && b->peers[i].family == 6) {
            memset(ctrl, 0, TDM_CTRL_LEN);
            h->msg_control = ctrl;
            h->msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
            struct cmsghdr *c = CMSG_FIRSTHDR(h);
            c->cmsg_level = IPPROTO_IPV6;
            c->cmsg_type = IPV6_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
            struct in6_pktinfo info;
            memset(&info, 0, sizeof(info));
            memcpy(&info.ipi6_addr, src->ip, 16);
            info.ipi6_ifindex = src->scope_id;
            memcpy(CMSG_DATA(c), &info, sizeof(info));
        }
    }
    int n = sendmmsg(fd, b->msgs + first, count, MSG_DONTWAIT);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
        return -errno;
    }
    return n;
}

int tdm_send_to(int fd, const uint8_t *data, size_t len, const tdm_addr *peer) {
    struct sockaddr_storage ss;
    socklen_t sl = to_sockaddr(peer, &ss);
    if (sl == 0) return -EAFNOSUPPORT;
    ssize_t n = sendto(fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&ss, sl);
    return n < 0 ? -errno : (int)n;
}

int tdm_epoll_create(void) {
    int fd = epoll_create1(EPOLL_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

static int epoll_op(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev) == 0 ? 0 : -errno;
}

int tdm_epoll_add(int epfd, int fd, uint32_t events, uint64_t data) { return epoll_op(epfd, EPOLL_CTL_ADD, fd, events, data); }
int tdm_epoll_modify(int epfd, int fd, uint32_t events, uint64_t data) { return epoll_op(epfd, EPOLL_CTL_MOD, fd, events, data); }
int tdm_epoll_remove(int epfd, int fd) { return epoll_op(epfd, EPOLL_CTL_DEL, fd, 0, 0); }

int tdm_epoll_wait(int epfd, tdm_event *events, int max, int timeout_ms) {
    /* epoll_event is packed on x86-64, so it is copied into the plain tdm_event layout. */
    enum { CHUNK = 64 };
    struct epoll_event raw[CHUNK];
    if (max > CHUNK) max = CHUNK;
    int n = epoll_wait(epfd, raw, max, timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++) {
        events[i].events = raw[i].events;
        events[i].data = raw[i].data.u64;
    }
    return n;
}

int tdm_timerfd_create(uint64_t interval_ns) {
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) return -errno;
    struct itimerspec spec;
    spec.it_interval.tv_sec = (time_t)(interval_ns / 1000000000ull);
    spec.it_interval.tv_nsec = (long)(interval_ns % 1000000000ull);
    spec.it_value = spec.it_interval;
    if (timerfd_settime(fd, 0, &spec, NULL) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int64_t tdm_timerfd_read(int fd) {
    uint64_t count = 0;
    ssize_t n = read(fd, &count, sizeof(count));
    if (n < 0) return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
    return (int64_t)count;
}

int tdm_eventfd_create(void) {
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int tdm_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t n = write(fd, &one, sizeof(one));
    if (n < 0) return errno == EAGAIN ? 0 : -errno;
    return 0;
}

int64_t tdm_eventfd_drain(int fd) {
    uint64_t count = 0;
    ssize_t n = read(fd, &count, sizeof(count));
    if (n < 0) return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
    return (int64_t)count;
}

int tdm_pin_current_thread(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    int r = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    return r == 0 ? 0 : -r;
}

int tdm_current_cpu(void) {
    int c = sched_getcpu();
    return c < 0 ? -errno : c;
}

int tdm_available_cpus(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return -errno;
    return CPU_COUNT(&set);
}

uint64_t tdm_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
