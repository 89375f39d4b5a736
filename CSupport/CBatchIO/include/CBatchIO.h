/* Batch UDP I/O for the media engine: non-blocking sockets, recvmmsg/sendmmsg with
 * per-message source and destination addresses, epoll, timerfd, eventfd, CPU affinity.
 * Every function returns a negative errno on failure; nothing here allocates except
 * tdm_batch_create. Linux only. */
#ifndef TANDEM_CBATCHIO_H
#define TANDEM_CBATCHIO_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An IPv4 or IPv6 address and port in a plain form Swift can hold by value. */
typedef struct tdm_addr {
    uint8_t family;      /* 4, 6, or 0 when unset */
    uint8_t pad;
    uint16_t port;       /* host byte order */
    uint32_t scope_id;   /* IPv6 scope, 0 otherwise */
    uint8_t ip[16];      /* network byte order; IPv4 uses the first 4 bytes */
} tdm_addr;

/* Options for tdm_udp_open. Zero means "leave the kernel default". */
typedef struct tdm_udp_options {
    int reuse_addr;
    int reuse_port;
    int tos;             /* DSCP << 2, e.g. EF = 46 << 2 = 184 */
    int rcvbuf;
    int sndbuf;
    int pktinfo;         /* 1: deliver each datagram's destination address (IP(V6)_PKTINFO). Costs a control
                            message per datagram in the kernel, so sockets bound to one address leave it off. */
} tdm_udp_options;

/* Parses a numeric IPv4/IPv6 host ("127.0.0.1", "::1", "0.0.0.0", "::") and port. 0 or -EINVAL. */
int tdm_addr_parse(const char *host, uint16_t port, tdm_addr *out);
/* Writes "a.b.c.d" or "x::y" (no port) into buf. Returns the length, or -EINVAL/-ENOSPC. */
int tdm_addr_format_host(const tdm_addr *addr, char *buf, size_t len);
/* 1 when both addresses (family, ip, port) are equal. */
int tdm_addr_equal(const tdm_addr *a, const tdm_addr *b);

/* Opens a non-blocking UDP socket bound to addr (port 0 picks one), with destination-address
 * reporting (IP_PKTINFO / IPV6_RECVPKTINFO) enabled. IPv6 sockets are IPv6-only. Returns the fd. */
int tdm_udp_open(const tdm_addr *bind_addr, const tdm_udp_options *options);
/* Reads the address a socket is bound to. */
int tdm_socket_local_addr(int fd, tdm_addr *out);
/* Sets the DSCP/TOS byte (IPv4 TOS or IPv6 traffic class). */
int tdm_socket_set_tos(int fd, int tos);
/* Reads SO_RCVBUF / SO_SNDBUF as the kernel reports them. */
int tdm_socket_buffer_sizes(int fd, int *rcvbuf, int *sndbuf);
int tdm_close(int fd);

/* A reusable batch of datagrams: buffers, addresses and control space for recvmmsg/sendmmsg.
 * Created once per worker; never reallocated. */
typedef struct tdm_batch tdm_batch;

tdm_batch *tdm_batch_create(unsigned capacity, unsigned buffer_size);
void tdm_batch_destroy(tdm_batch *batch);
unsigned tdm_batch_capacity(const tdm_batch *batch);
unsigned tdm_batch_buffer_size(const tdm_batch *batch);
/* The i-th message's payload buffer (buffer_size bytes). */
uint8_t *tdm_batch_buffer(tdm_batch *batch, unsigned i);
/* The i-th message's length: what was received, or what is to be sent. */
unsigned tdm_batch_length(const tdm_batch *batch, unsigned i);
void tdm_batch_set_length(tdm_batch *batch, unsigned i, unsigned length);
/* Receive: where the datagram came from. Send: where it goes. */
tdm_addr *tdm_batch_peer(tdm_batch *batch, unsigned i);
/* Receive: the local address it was sent to. Send: the source address to use (family 0: the socket's). */
tdm_addr *tdm_batch_local(tdm_batch *batch, unsigned i);

/* recvmmsg up to capacity datagrams without blocking. Returns the count (0 when none), or -errno. */
int tdm_recv_batch(int fd, tdm_batch *batch);
/* sendmmsg messages [first, first+count). Returns how many were sent, or -errno. */
int tdm_send_batch(int fd, tdm_batch *batch, unsigned first, unsigned count);
/* Sends a single datagram to peer. Returns bytes sent or -errno. */
int tdm_send_to(int fd, const uint8_t *data, size_t len, const tdm_addr *peer);

/* epoll. Events are EPOLLIN (1), EPOLLOUT (4), EPOLLERR (8), EPOLLHUP (16), edge-triggered via TDM_EPOLLET. */
enum { TDM_EPOLLIN = 0x001, TDM_EPOLLOUT = 0x004, TDM_EPOLLERR = 0x008, TDM_EPOLLHUP = 0x010, TDM_EPOLLET = (int)(1u << 31) };
typedef struct tdm_event { uint32_t events; uint64_t data; } tdm_event;
int tdm_epoll_create(void);
int tdm_epoll_add(int epfd, int fd, uint32_t events, uint64_t data);
int tdm_epoll_modify(int epfd, int fd, uint32_t events, uint64_t data);
int tdm_epoll_remove(int epfd, int fd);
/* Waits up to timeout_ms (-1 forever) and fills at most max events. Returns the count or -errno (EINTR is 0). */
int tdm_epoll_wait(int epfd, tdm_event *events, int max, int timeout_ms);

/* A periodic, non-blocking monotonic timer. */
int tdm_timerfd_create(uint64_t interval_ns);
/* Returns the number of expirations since the last read (0 if none), or -errno. */
int64_t tdm_timerfd_read(int fd);

/* A non-blocking eventfd used as a wake-up. */
int tdm_eventfd_create(void);
int tdm_eventfd_signal(int fd);
/* Returns the accumulated count (0 if none), or -errno. */
int64_t tdm_eventfd_drain(int fd);

/* Pins the calling thread to one CPU. */
int tdm_pin_current_thread(int cpu);
/* The CPU the calling thread last ran on. */
int tdm_current_cpu(void);
/* Number of CPUs this process may run on. */
int tdm_available_cpus(void);
/* Monotonic clock in nanoseconds. */
uint64_t tdm_monotonic_ns(void);

#ifdef __cplusplus
}
#endif
#endif
