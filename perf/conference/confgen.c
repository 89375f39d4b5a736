/* confgen.c: conference load for an audio mixer (Janus AudioBridge, tandem media), with the
 * server's CPU time, packet loss at the receivers and the audio delay added by the room.
 *
 * N participants, each with its own UDP socket on 127.0.0.1 (an ephemeral port), send one 20 ms
 * RTP packet every 20 ms to the server's port for that participant and receive the room's mix
 * for them on the same socket (symmetric RTP). Codec: PCMU (PT 0, 160-byte payloads, 8 kHz
 * clock) or Opus (48 kHz clock, mono, 20 ms, 24 kbit/s VOIP, no FEC, no DTX). Every payload is
 * encoded once at start-up, so the generator's own CPU goes to sockets, not codecs.
 *
 * Signals, all periodic over a 1 s cycle (50 frames) so that 50 encoded frames per signal repeat
 * exactly:
 *   talker     a tone (k-th talker of a room: 400 + 130 k Hz, peak 0.12 of full scale) for the
 *              first 20 frames (400 ms) of every cycle, then 600 ms of background;
 *   background white noise at about -60 dBFS (peak 32 of 32767), the level of a quiet line;
 *              non-talkers use 8 noises from different seeds, started at different points of
 *              their cycle, so that up to 400 of them sum as noise (RMS x sqrt(n)).
 * A non-talker sends background all the time: real endpoints send RTP continuously, and sending
 * it makes both servers receive, decode and consider every participant.
 *
 * Timing: a 1 ms timerfd; room r's talkers send in slot r mod 20 of the 20 ms period, all in the
 * same tick, so a room's tone bursts start at one known instant (the send time of the room's first
 * talker packet whose frame is at cycle position 0); its non-talkers are spread over the other
 * slots. Frame numbers (and so cycle positions) are counted per 20 ms period for everyone.
 *
 * Receiving (epoll, recvmmsg per readable socket): every output packet is counted per participant,
 * by arrival time and by RTP sequence number. For up to PROBES participants spread evenly over the
 * rooms, the payload is decoded (G.711 table / libopus at 16 kHz) and the energy of each 1 ms
 * block is checked: the first block above RMS 1200 (-29 dBFS; one talker's tone alone is RMS
 * 2780) after at least 100 ms of 20 ms frames below RMS 600 (-35 dBFS; 300 background senders
 * summed are about RMS 320) is a tone onset. Delay = (packet arrival + the block's offset in the
 * packet) - (send time of the room's latest burst start). Onsets matched to a burst more than
 * 900 ms old are counted as unmatched, not as delays.
 *
 * Window: after WARMUP seconds, for WINDOW seconds; then sending stops and receiving drains for
 * 300 ms. Reported for the window:
 *   expected      participants x window / 20 ms output packets
 *   received      output packets that arrived in the window
 *   loss_pct      sum over participants of max(0, expected_i - 1 - received_i), over expected (the
 *                 one packet of slack absorbs where the window's edges fall in the 20 ms period)
 *   seq_loss_pct  gaps in the output sequence numbers seen in the window, over the packets spanned
 *   delay         p50/p95/max over all onsets whose burst was sent in the window, in ms, and
 *                 delay_first_p50_ms / delay_last_p50_ms: medians of the first and last third
 *                 of the window (a growing delay shows as last > first)
 *   server CPU    utime+stime of the server process (/proc/PID/stat, all threads) over the window;
 *                 cpu_us_per_participant_frame = that / (participants x window / 20 ms)
 *   loadgen       its own CPU share and how many 1 ms timer ticks it ran late
 *
 * Protocol with the driver (stdin/stdout): confgen binds its sockets and prints
 *   "PORTS p0 p1 ... pN-1"
 * then reads N lines "ROOM TALKER SERVER_IP SERVER_PORT" (TALKER 1 or 0; a room's talkers first)
 * and a line "GO", runs, and prints one line "confgen key=value ...".
 *
 * Usage: confgen N pcmu|opus PAYLOAD_TYPE WARMUP_S WINDOW_S SERVER_PID [PROBES]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <opus/opus.h>
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

#define SLOTS 20            /* 20 ms period in 1 ms ticks */
#define CYCLE 50            /* frames per signal cycle (1 s) */
#define TONE_FRAMES 20      /* frames of tone at the start of a talker's cycle */
#define MAX_TALKER_TONES 8  /* distinct tones; talker k uses tone k mod 8 */
#define NOISE_VARIANTS 8    /* background noises from different seeds */
#define BATCH 16
#define MAXEV 512
#define MAXPAY 400
#define DRAIN_NS 300000000ULL
#define ONSET_RMS 1200.0
#define QUIET_RMS 600.0
#define QUIET_FRAMES_TO_ARM 5
#define MATCH_LIMIT_NS 900000000ULL

struct frame { uint16_t len; unsigned char data[MAXPAY]; };

struct room {
    uint64_t burst_ns;      /* send time of the latest burst start */
    int talkers;
};

struct part {
    int fd, room, talker, signal, offset;
    struct sockaddr_in dest;
    uint32_t ssrc;
    uint16_t seq;
    /* receive side */
    uint64_t received;      /* arrivals in the window */
    int have_seq;
    uint32_t ext_first, ext_max, ext_count; /* extended seq of packets arriving in the window */
    uint32_t cycles;
    uint16_t last_seq;
    /* onset probe */
    int probe, armed, quiet_frames;
    OpusDecoder *dec;
};

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static double proc_cpu_s(int pid) {
    if (pid <= 0) return 0;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    buf[len] = 0;
    fclose(f);
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu(void) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)r.ru_utime.tv_sec + (double)r.ru_utime.tv_usec / 1e6 + (double)r.ru_stime.tv_sec + (double)r.ru_stime.tv_usec / 1e6;
}

/* G.711 mu-law (ITU-T G.711): bias 0x84, 8 segments. */
static unsigned char ulaw_encode(int16_t s) {
    int x = s, sign = 0;
    if (x < 0) { x = -x; sign = 0x80; }
    if (x > 32635) x = 32635;
    x += 0x84;
    int seg = 7;
    for (int m = 0x4000; seg > 0 && !(x & m); m >>= 1) seg--;
    int mant = (x >> (seg + 3)) & 0x0F;
    return (unsigned char)~(sign | (seg << 4) | mant);
}

static int16_t ulaw_decode(unsigned char u) {
    u = (unsigned char)~u;
    int t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4);
    return (int16_t)((u & 0x80) ? 0x84 - t : t - 0x84);
}

static uint32_t rng = 0x12345678u;
static double noise(void) {
    rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5;
    return (double)(rng & 0xFFFF) / 32768.0 - 1.0;
}

/* One 1 s cycle of signal `kind` at `rate`, into pcm: kinds 0..MAX_TALKER_TONES-1 are talker
 * tones over background 0, the next NOISE_VARIANTS kinds background alone (seed per variant). */
static void make_cycle(int kind, int rate, int16_t *pcm) {
    int n = rate, tone_samples = rate * TONE_FRAMES / CYCLE;
    int tone = kind < MAX_TALKER_TONES;
    double f = 400.0 + 130.0 * kind;
    rng = 0x9e3779b9u + 0x1000193u * (uint32_t)(tone ? 0 : kind - MAX_TALKER_TONES);
    for (int i = 0; i < n; i++) {
        double v = 32.0 * noise();
        if (tone && i < tone_samples) v += 0.12 * 32767.0 * sin(2.0 * M_PI * f * (double)i / rate);
        pcm[i] = (int16_t)lrint(v);
    }
}

/* frames[kind][0..CYCLE): encoded payloads of one cycle of each signal kind. */
static struct frame (*encode_signals(int opus))[CYCLE] {
    struct frame (*frames)[CYCLE] = calloc(MAX_TALKER_TONES + NOISE_VARIANTS, sizeof *frames);
    int rate = opus ? 48000 : 8000, fs = rate / CYCLE;
    int16_t *pcm = malloc(sizeof(int16_t) * (size_t)rate);
    for (int kind = 0; kind < MAX_TALKER_TONES + NOISE_VARIANTS; kind++) {
        make_cycle(kind, rate, pcm);
        if (!opus) {
            for (int j = 0; j < CYCLE; j++) {
                frames[kind][j].len = (uint16_t)fs;
                for (int i = 0; i < fs; i++) frames[kind][j].data[i] = ulaw_encode(pcm[j * fs + i]);
            }
            continue;
        }
        int err = 0;
        OpusEncoder *enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
        if (err != OPUS_OK) { fprintf(stderr, "confgen: opus_encoder_create: %s\n", opus_strerror(err)); exit(1); }
        opus_encoder_ctl(enc, OPUS_SET_BITRATE(24000));
        opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(0));
        opus_encoder_ctl(enc, OPUS_SET_DTX(0));
        /* Two cycles; the second one's frames are kept, so the encoder state at the wrap is steady. */
        for (int pass = 0; pass < 2; pass++) {
            for (int j = 0; j < CYCLE; j++) {
                unsigned char out[MAXPAY];
                int len = opus_encode(enc, pcm + j * fs, fs, out, MAXPAY);
                if (len < 0) { fprintf(stderr, "confgen: opus_encode: %s\n", opus_strerror(len)); exit(1); }
                frames[kind][j].len = (uint16_t)len;
                memcpy(frames[kind][j].data, out, (size_t)len);
            }
        }
        opus_encoder_destroy(enc);
    }
    free(pcm);
    return frames;
}

/* A room's talkers send in slot room mod 20 (its bursts start together); its non-talkers, whose
 * timing the delay does not depend on, are spread over the other slots so that a 400-party room
 * is not 400 sends in one 1 ms tick. */
static int slot_of(const struct part *x, int i) {
    return x->talker ? x->room % SLOTS : (x->room + 1 + i % (SLOTS - 1)) % SLOTS;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(uint32_t *v, size_t n, double q) {
    if (!n) return 0;
    return v[(size_t)((double)(n - 1) * q)] / 1000.0;
}

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: confgen N pcmu|opus PAYLOAD_TYPE WARMUP_S WINDOW_S SERVER_PID [PROBES]\n");
        return 2;
    }
    int n = atoi(argv[1]);
    int opus = strcmp(argv[2], "opus") == 0;
    int pt = atoi(argv[3]);
    double warmup = atof(argv[4]), window = atof(argv[5]);
    int pid = atoi(argv[6]);
    int probes = argc > 7 ? atoi(argv[7]) : 100;
    if (n <= 0) return 2;
    struct rlimit rl = {65536, 65536};
    setrlimit(RLIMIT_NOFILE, &rl);

    struct frame (*frames)[CYCLE] = encode_signals(opus);
    uint32_t step = opus ? 960 : 160;

    struct part *p = calloc((size_t)n, sizeof *p);
    printf("PORTS");
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int size = 1 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        struct sockaddr_in a = {.sin_family = AF_INET};
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        socklen_t al = sizeof a;
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
            fprintf(stderr, "confgen: socket %d: %s\n", i, strerror(errno));
            return 1;
        }
        p[i].fd = fd;
        printf(" %d", ntohs(a.sin_port));
    }
    printf("\n");
    fflush(stdout);

    struct room *rooms = NULL;
    int nrooms = 0;
    char line[256];
    for (int i = 0; i < n; i++) {
        char ip[64];
        int room, talker, port;
        if (!fgets(line, sizeof line, stdin) || sscanf(line, "%d %d %63s %d", &room, &talker, ip, &port) != 4 || room < 0) {
            fprintf(stderr, "confgen: bad layout line %d\n", i);
            return 1;
        }
        if (room >= nrooms) {
            rooms = realloc(rooms, sizeof *rooms * (size_t)(room + 1));
            memset(rooms + nrooms, 0, sizeof *rooms * (size_t)(room + 1 - nrooms));
            nrooms = room + 1;
        }
        p[i].room = room;
        p[i].talker = talker;
        /* Non-talkers play one of NOISE_VARIANTS backgrounds from one of CYCLE points of its cycle:
         * the same noise in step from 96 senders would add up coherently (x96), not as noise. */
        p[i].signal = talker ? rooms[room].talkers++ % MAX_TALKER_TONES : MAX_TALKER_TONES + i % NOISE_VARIANTS;
        p[i].offset = talker ? 0 : (i / NOISE_VARIANTS * 7) % CYCLE;
        p[i].dest = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        inet_pton(AF_INET, ip, &p[i].dest.sin_addr);
        p[i].ssrc = 0x5c000000u + (uint32_t)i;
        p[i].seq = (uint16_t)(i * 1000);
    }
    if (!fgets(line, sizeof line, stdin) || strncmp(line, "GO", 2) != 0) { fprintf(stderr, "confgen: no GO\n"); return 1; }

    /* Probes: every stride-th participant, so that every room shape is represented. */
    int stride = probes > 0 ? (n + probes - 1) / probes : n + 1, nprobes = 0;
    for (int i = 0; i < n && probes > 0; i += stride) {
        p[i].probe = 1;
        nprobes++;
        if (opus) {
            int err = 0;
            p[i].dec = opus_decoder_create(16000, 1, &err);
            if (err != OPUS_OK) { fprintf(stderr, "confgen: opus_decoder_create failed\n"); return 1; }
        }
    }

    /* Per slot, the participants that send in it, in layout order (a room's talkers first). */
    int *slot_count = calloc(SLOTS, sizeof *slot_count), **slot_list = calloc(SLOTS, sizeof *slot_list);
    for (int i = 0; i < n; i++) slot_count[slot_of(&p[i], i)]++;
    for (int s = 0; s < SLOTS; s++) { slot_list[s] = calloc((size_t)slot_count[s] + 1, sizeof **slot_list); slot_count[s] = 0; }
    for (int i = 0; i < n; i++) { int s = slot_of(&p[i], i); slot_list[s][slot_count[s]++] = i; }

    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < n; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, p[i].fd, &ev);
    }
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    uint64_t t0 = now_ns() + 20000000ULL;
    struct itimerspec its = {.it_interval = {0, 1000000}, .it_value = {(time_t)(t0 / 1000000000ULL), (long)(t0 % 1000000000ULL)}};
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
    struct epoll_event tev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev);

    uint64_t win_start = t0 + (uint64_t)(warmup * 1e9), win_end = win_start + (uint64_t)(window * 1e9);
    uint64_t third = (win_end - win_start) / 3;
    size_t dcap = (size_t)nprobes * (size_t)(window + 2) * 2 + 1024, nd = 0, nd_first = 0, nd_last = 0;
    uint32_t *delays = malloc(dcap * sizeof *delays), *d_first = malloc(dcap * sizeof *d_first), *d_last = malloc(dcap * sizeof *d_last);

    static char rbufs[BATCH][1500];
    static struct mmsghdr rx[BATCH];
    static struct iovec riov[BATCH];
    for (int i = 0; i < BATCH; i++) {
        riov[i] = (struct iovec){rbufs[i], sizeof rbufs[i]};
        rx[i].msg_hdr = (struct msghdr){.msg_iov = &riov[i], .msg_iovlen = 1};
    }
    unsigned char pkt[12 + MAXPAY];
    int16_t pcm[960];

    uint64_t tick = 0, late_ticks = 0, send_errors = 0, bad = 0, unmatched = 0, onsets = 0;
    int in_window = 0, done_sending = 0;
    double cpu0 = 0, cpu1 = 0, self0 = 0, self1 = 0;
    uint64_t wall0 = 0, wall1 = 0, stop_at = 0;
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
                /* Catch up tick by tick (each room's packets are due once per 20 ms); far behind: one round. */
                if (exp > SLOTS) { tick += exp - SLOTS; exp = SLOTS; }
                for (uint64_t k = 0; k < exp && !done_sending; k++, tick++) {
                    uint64_t t = now_ns();
                    if (!in_window && t >= win_start) {
                        in_window = 1;
                        cpu0 = proc_cpu_s(pid);
                        self0 = self_cpu();
                        wall0 = now_ns();
                    }
                    if (t >= win_end) {
                        cpu1 = proc_cpu_s(pid);
                        self1 = self_cpu();
                        wall1 = now_ns();
                        done_sending = 1;
                        stop_at = wall1 + DRAIN_NS;
                        break;
                    }
                    int slot = (int)(tick % SLOTS);
                    uint64_t frame_no = tick / SLOTS;
                    int pos = (int)(frame_no % CYCLE);
                    int last_room = -1;
                    for (int j = 0; j < slot_count[slot]; j++) {
                        struct part *x = &p[slot_list[slot][j]];
                        uint64_t ts = now_ns();
                        if (pos == 0 && x->talker && x->room != last_room) rooms[x->room].burst_ns = ts;
                        if (x->talker) last_room = x->room;
                        const struct frame *fr = &frames[x->signal][(pos + x->offset) % CYCLE];
                        uint32_t rtpts = (uint32_t)frame_no * step;
                        pkt[0] = 0x80;
                        pkt[1] = (unsigned char)((pt & 0x7F) | (frame_no == 0 ? 0x80 : 0));
                        pkt[2] = (unsigned char)(x->seq >> 8); pkt[3] = (unsigned char)x->seq;
                        pkt[4] = (unsigned char)(rtpts >> 24); pkt[5] = (unsigned char)(rtpts >> 16);
                        pkt[6] = (unsigned char)(rtpts >> 8); pkt[7] = (unsigned char)rtpts;
                        pkt[8] = (unsigned char)(x->ssrc >> 24); pkt[9] = (unsigned char)(x->ssrc >> 16);
                        pkt[10] = (unsigned char)(x->ssrc >> 8); pkt[11] = (unsigned char)x->ssrc;
                        memcpy(pkt + 12, fr->data, fr->len);
                        x->seq++;
                        if (sendto(x->fd, pkt, 12u + fr->len, 0, (struct sockaddr *)&x->dest, sizeof x->dest) < 0) send_errors++;
                    }
                }
                continue;
            }
            struct part *x = &p[evs[e].data.u32];
            int got;
            do {
                got = recvmmsg(x->fd, rx, BATCH, MSG_DONTWAIT, NULL);
                if (got <= 0) break;
                uint64_t rt = now_ns();
                int counted = rt >= win_start && rt < win_end;
                for (int i = 0; i < got; i++) {
                    const unsigned char *b = (const unsigned char *)rbufs[i];
                    size_t len = rx[i].msg_len;
                    if (len < 12 || (b[0] >> 6) != 2) { bad++; continue; }
                    if ((b[1] & 0x7F) >= 72 && (b[1] & 0x7F) <= 79) continue;  /* RTCP on the RTP port */
                    size_t off = 12 + 4u * (b[0] & 0x0F);
                    if ((b[0] & 0x10) && off + 4 <= len) off += 4 + 4u * (((size_t)b[off + 2] << 8) | b[off + 3]);
                    size_t end = len;
                    if ((b[0] & 0x20) && len > 12) end = len - b[len - 1];
                    if (off > end) { bad++; continue; }
                    uint16_t seq = (uint16_t)((b[2] << 8) | b[3]);
                    if (counted) {
                        x->received++;
                        if (!x->have_seq) {
                            x->have_seq = 1; x->cycles = 0; x->last_seq = seq;
                            x->ext_first = x->ext_max = seq; x->ext_count = 1;
                        } else {
                            int16_t diff = (int16_t)(seq - x->last_seq);
                            if (diff > 0) {
                                if (seq < x->last_seq) x->cycles += 65536;
                                x->last_seq = seq;
                                x->ext_max = x->cycles + seq;
                            }
                            x->ext_count++;
                        }
                    }
                    if (!x->probe) continue;
                    /* Decode and look for a tone onset in 1 ms blocks. */
                    int ns, block;
                    if (opus) {
                        ns = opus_decode(x->dec, b + off, (opus_int32)(end - off), pcm, 960, 0);
                        if (ns <= 0) { bad++; continue; }
                        block = 16;
                    } else {
                        ns = (int)(end - off);
                        if (ns > 960) ns = 960;
                        for (int k = 0; k < ns; k++) pcm[k] = ulaw_decode(b[off + k]);
                        block = 8;
                    }
                    double frame_energy = 0;
                    int onset_block = -1;
                    for (int blk = 0; blk * block + block <= ns; blk++) {
                        double ee = 0;
                        for (int k = 0; k < block; k++) { double v = pcm[blk * block + k]; ee += v * v; }
                        frame_energy += ee;
                        if (onset_block < 0 && x->armed && sqrt(ee / block) > ONSET_RMS) onset_block = blk;
                    }
                    if (onset_block >= 0) {
                        x->armed = 0;
                        x->quiet_frames = 0;
                        onsets++;
                        uint64_t burst = rooms[x->room].burst_ns;
                        uint64_t onset_at = rt + (uint64_t)onset_block * 1000000ULL;
                        if (burst == 0 || rt < burst || rt - burst > MATCH_LIMIT_NS) { unmatched++; continue; }
                        if (burst >= win_start && burst < win_end && nd < dcap) {
                            uint32_t d = (uint32_t)((onset_at - burst) / 1000ULL);
                            delays[nd++] = d;
                            if (burst < win_start + third) d_first[nd_first++] = d;
                            if (burst >= win_end - third) d_last[nd_last++] = d;
                        }
                    } else if (ns > 0 && sqrt(frame_energy / ns) < QUIET_RMS) {
                        if (++x->quiet_frames >= QUIET_FRAMES_TO_ARM) x->armed = 1;
                    } else {
                        x->quiet_frames = 0;
                    }
                }
            } while (got == BATCH);
        }
    }

    double win_s = (double)(wall1 - wall0) / 1e9;
    double expected_each = win_s * 50.0;
    double short_sum = 0;
    uint64_t received = 0, spanned = 0, seq_got = 0;
    int silent = 0;
    for (int i = 0; i < n; i++) {
        received += p[i].received;
        if (p[i].received == 0) silent++;
        double s = expected_each - 1.0 - (double)p[i].received;  /* one packet of slack for the window edges */
        if (s > 0) short_sum += s;
        if (p[i].have_seq) { spanned += p[i].ext_max - p[i].ext_first + 1; seq_got += p[i].ext_count; }
    }
    double expected = expected_each * n;
    qsort(delays, nd, sizeof *delays, cmp_u32);
    qsort(d_first, nd_first, sizeof *d_first, cmp_u32);
    qsort(d_last, nd_last, sizeof *d_last, cmp_u32);
    double cpu = cpu1 - cpu0;
    double pframes = (double)n * win_s / 0.02;
    printf("confgen participants=%d rooms=%d codec=%s window_s=%.3f expected=%.0f received=%llu loss_pct=%.4f "
           "seq_loss_pct=%.4f silent=%d bad=%llu send_errors=%llu probes=%d onsets=%llu unmatched=%llu delays=%zu "
           "delay_p50_ms=%.1f delay_p95_ms=%.1f delay_max_ms=%.1f delay_first_p50_ms=%.1f delay_last_p50_ms=%.1f "
           "server_cpu_s=%.3f cpu_us_per_participant_frame=%.2f loadgen_cpu_share=%.3f late_ticks=%llu\n",
           n, nrooms, opus ? "opus" : "pcmu", win_s, expected, (unsigned long long)received,
           expected > 0 ? 100.0 * short_sum / expected : 0.0,
           spanned ? 100.0 * (double)(spanned > seq_got ? spanned - seq_got : 0) / (double)spanned : 0.0,
           silent, (unsigned long long)bad, (unsigned long long)send_errors, nprobes, (unsigned long long)onsets,
           (unsigned long long)unmatched, nd, pct(delays, nd, 0.5), pct(delays, nd, 0.95), pct(delays, nd, 1.0),
           pct(d_first, nd_first, 0.5), pct(d_last, nd_last, 0.5), cpu, pframes > 0 ? cpu * 1e6 / pframes : 0.0,
           win_s > 0 ? (self1 - self0) / win_s : 0.0, (unsigned long long)late_ticks);
    return 0;
}
