/* Benchmark of the CPU cost of the agent's migration relay
 * (hostagent/relay.c), on veth pairs in a network namespace of its own.
 *
 * The relay port is the veth "rly": what the benchmark sends out of its
 * peer "rlyp" arrives there, as what br-int tees to the relay port arrives
 * on an internal port.  The VIF is the veth "vif": what the benchmark sends
 * out of it with an AF_PACKET socket is an "outgoing" frame of "vif", as
 * what br-int hands a VM's tap is, and the relay captures it to stamp the
 * relay's copy by when the VIF got it (relay_set_vif()).
 *
 * For every frame a sender thread sends a unique frame (60 to 128 bytes, a
 * sequence number in its payload) out of "vif", then the same frame with an
 * 802.1Q tag of VID 7 (the VIF's ofport) out of "rlyp".  Three phases,
 * whose figures are named relay_<phase>_*:
 *
 *   - "capture", as during pre-copy: the relay keeps each frame (and
 *     matches it with the VIF's copy) but relays nothing.
 *     TETHER_BENCH_RELAY_FRAMES frames (default 200,000), back to back.
 *
 *   - "1khz": the same at 1,000 frames/s, the rate of a probe stream,
 *     where the relay wakes up for every frame rather than reading them in
 *     batches.  TETHER_BENCH_RELAY_1KHZ_FRAMES frames (default 2,000).
 *
 *   - "relay", as after the source VM paused: relay_start(7, now), and
 *     the relay writes each new frame back into "rly"; the sender reads
 *     them on "rlyp" and counts what came back.
 *     TETHER_BENCH_RELAY_RELAYING_FRAMES frames (default 50,000).
 *
 * Except in "1khz", the sender sends as fast as it can, in bursts: every
 * 32 frames it reads the relay's stats and, while the relay has read more
 * than TETHER_BENCH_RELAY_LAG frames (default 128) fewer than were sent,
 * less what the kernel dropped, it sleeps 20 us at a time (a lag the
 * relay does not reduce in 200 ms is written off as lost).  The relay's
 * sockets have 4 MiB of receive buffer (relay.c), ~5,000 small frames at
 * 832 bytes of kernel memory each; pacing keeps what the relay is measured
 * on the frames it reads, not on frames the kernel dropped while its
 * thread was descheduled.  So the frame rate printed is what the relay
 * sustained paced this way, not a line rate, and the relay reads in
 * batches: its cost per frame back to back is a lower bound of its cost
 * at a low rate, which "1khz" measures.
 *
 * The relay's CPU is the process's CPU time (CLOCK_PROCESS_CPUTIME_ID, and
 * getrusage(RUSAGE_SELF) as a cross-check) minus the benchmark's own
 * threads' (the sender's and the main thread's), from the sender's first
 * frame until the relay has read the last one; the relay thread's own CPU
 * clock is printed as a second cross-check, and the share of it spent in
 * the kernel (from /proc, in clock ticks).  The kernel charges the
 * delivery of a frame to a socket to the thread that sent it, so the
 * sender pays for queueing the relay's copies, and the relay for what it
 * writes back (in the agent, br-int's datapath would).  What the sender
 * costs is printed on its own, as bench_sender_*.
 *
 * Needs root (it creates a network namespace); otherwise it says it
 * skipped.  Run it with `make bench`, or as root: ./bench/relay */
#include <config.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hostagent/relay.h"
#include "openvswitch/vlog.h"
#include "tests/netns.h"
#include "util.h"

#define VID 7                           /* the VIF's ofport */
#define FRAME_MIN 60
#define FRAME_MAX 128
#define PACE_EVERY 32                   /* frames between looks at stats */
#define PACE_SLEEP_NS 20000
#define STALL_NS (INT64_C(200) * 1000000)
#define QUIET_NS (INT64_C(50) * 1000000)
#define WARMUP_FRAMES 16

static const unsigned char dst_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const unsigned char src_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
#define ETHERTYPE 0x88b5                /* local experimental */

static struct relay *relay;
static int vif_tx, rlyp_tx, rlyp_rx;    /* the benchmark's sockets */
static int rly_ifindex, vif_ifindex;
static pid_t relay_tid;                 /* 0: not found */
static pthread_t main_thread;
static uint64_t lag_max;

static void
die(const char *what)
{
    fprintf(stderr, "bench/relay: %s\n", what);
    exit(1);
}

static uint64_t
env_u64(const char *name, uint64_t dflt)
{
    const char *s = getenv(name);
    return s && strtoull(s, NULL, 10) > 0 ? strtoull(s, NULL, 10) : dflt;
}

static int64_t
clock_ns(clockid_t clock)
{
    struct timespec ts;
    if (clock_gettime(clock, &ts)) {
        return 0;
    }
    return ts.tv_sec * INT64_C(1000000000) + ts.tv_nsec;
}

static int64_t
tv_ns(const struct timeval *tv)
{
    return tv->tv_sec * INT64_C(1000000000) + tv->tv_usec * INT64_C(1000);
}

static int64_t
rusage_ns(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return tv_ns(&ru.ru_utime) + tv_ns(&ru.ru_stime);
}

/* The CPU clock of thread 'tid' of this process, as glibc builds it for
 * pthread_getcpuclockid() (the relay does not expose its pthread_t). */
static clockid_t
tid_clock(pid_t tid)
{
    return (clockid_t) ((~(unsigned int) tid) << 3) | 4 /* per thread */
        | 2 /* CPUCLOCK_SCHED */;
}

static void
sleep_ns(long ns)
{
    struct timespec ts = { .tv_sec = 0, .tv_nsec = ns };
    nanosleep(&ts, NULL);
}

/* --- The namespace ------------------------------------------------------ */

static void
setup_net(void)
{
    if (veth_create("rly", "rlyp") || veth_create("vif", "vifp")) {
        die("cannot create the veth pairs");
    }
    rly_ifindex = if_nametoindex("rly");
    vif_ifindex = if_nametoindex("vif");
    if (!rly_ifindex || !vif_ifindex) {
        die("veth pairs not found");
    }
}

/* An AF_PACKET socket bound to 'ifname' that only sends. */
static int
open_packet(const char *ifname)
{
    int fd = packet_socket_on(ifname, 0);
    if (fd < 0) {
        die("cannot open an AF_PACKET socket");
    }
    return fd;
}

/* --- Frames ------------------------------------------------------------- */

/* Frame 'seq', untagged, into 'buf'; returns its length. */
static size_t
make_frame(unsigned char *buf, uint64_t seq)
{
    size_t len = FRAME_MIN + (seq * 37) % (FRAME_MAX - FRAME_MIN + 1);
    memcpy(buf, dst_mac, 6);
    memcpy(buf + 6, src_mac, 6);
    buf[12] = ETHERTYPE >> 8;
    buf[13] = ETHERTYPE & 0xff;
    memcpy(buf + 14, &seq, sizeof seq);
    for (size_t i = 14 + sizeof seq; i < len; i++) {
        buf[i] = seq + i;
    }
    return len;
}

/* Sends frame 'seq' out of the VIF, then its tagged copy out of the relay
 * port's peer. */
static void
send_pair(uint64_t seq)
{
    unsigned char f[FRAME_MAX], t[FRAME_MAX + 4];
    size_t len = make_frame(f, seq);
    memcpy(t, f, 12);
    t[12] = 0x81;
    t[13] = 0x00;
    t[14] = VID >> 8;
    t[15] = VID & 0xff;
    memcpy(t + 16, f + 12, len - 12);
    while (send(vif_tx, f, len, 0) < 0 && errno == ENOBUFS) {
        sched_yield();
    }
    while (send(rlyp_tx, t, len + 4, 0) < 0 && errno == ENOBUFS) {
        sched_yield();
    }
}

/* What came back from the relay on "rlyp" during a phase. */
struct returned {
    uint64_t first, n;                  /* the phase's sequence numbers */
    uint8_t *seen;                      /* by seq - first */
    uint64_t frames, unique, dup, foreign;
};

/* Reads what the relay wrote back, without blocking. */
static void
drain(struct returned *ret)
{
    for (;;) {
        unsigned char buf[2048];
        int vid;
        ssize_t n = packet_recv(rlyp_rx, buf, sizeof buf, &vid);
        if (n < 0) {
            return;
        }
        uint64_t seq;
        if (vid != VID || (size_t) n < 14 + sizeof seq
            || buf[12] != ETHERTYPE >> 8
            || buf[13] != (ETHERTYPE & 0xff)) {
            ret->foreign++;
            continue;
        }
        memcpy(&seq, buf + 14, sizeof seq);
        ret->frames++;
        if (seq < ret->first || seq - ret->first >= ret->n) {
            ret->foreign++;
        } else if (ret->seen[seq - ret->first]++) {
            ret->dup++;
        } else {
            ret->unique++;
        }
    }
}

/* --- Kernel drops of the relay's sockets -------------------------------- */

/* The relay's AF_PACKET sockets, found among the process's file
 * descriptors by the interface they are bound to. */
static int relay_fds[8];
static size_t n_relay_fds;

static int
packet_ifindex(int fd)
{
    int domain;
    socklen_t len = sizeof domain;
    struct sockaddr_ll sll;
    socklen_t sll_len = sizeof sll;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len)
        || domain != AF_PACKET
        || getsockname(fd, (struct sockaddr *) &sll, &sll_len)) {
        return 0;
    }
    return sll.sll_ifindex;
}

static void
find_relay_fds(void)
{
    n_relay_fds = 0;
    for (int fd = 0; fd < 1024 && n_relay_fds < ARRAY_SIZE(relay_fds);
         fd++) {
        int ifindex = (fd == vif_tx || fd == rlyp_tx || fd == rlyp_rx
                       ? 0 : packet_ifindex(fd));
        if (ifindex == rly_ifindex || ifindex == vif_ifindex) {
            relay_fds[n_relay_fds++] = fd;
        }
    }
}

/* Adds to '*rly_drops' and '*vif_drops' what the kernel dropped for want
 * of room in the relay's sockets since the last call (reading
 * PACKET_STATISTICS resets it; the relay does not read it). */
static void
kernel_drops(uint64_t *rly_drops, uint64_t *vif_drops)
{
    for (size_t i = 0; i < n_relay_fds; i++) {
        int fd = relay_fds[i];
        int ifindex = packet_ifindex(fd);
        struct tpacket_stats st;
        socklen_t len = sizeof st;
        if (!ifindex
            || getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len)) {
            continue;
        }
        if (ifindex == rly_ifindex) {
            *rly_drops += st.tp_drops;
        } else if (ifindex == vif_ifindex) {
            *vif_drops += st.tp_drops;
        }
    }
}

/* --- A phase ------------------------------------------------------------ */

struct snapshot {
    int64_t wall;                       /* CLOCK_MONOTONIC */
    int64_t process;                    /* CLOCK_PROCESS_CPUTIME_ID */
    int64_t process_ru;                 /* getrusage(RUSAGE_SELF) */
    int64_t sender;                     /* the sender thread's clock */
    int64_t sender_ru;                  /* getrusage(RUSAGE_THREAD) */
    int64_t main;                       /* the main thread's clock */
    int64_t relay;                      /* the relay thread's clock */
    long long relay_ticks[2];           /* its user and system time */
    struct relay_stats stats;
};

/* The user and system time of thread 'tid' in clock ticks, from its
 * /proc stat (fields 14 and 15), or zeros. */
static void
thread_ticks(pid_t tid, long long ticks[2])
{
    char path[64], buf[1024];
    ticks[0] = ticks[1] = 0;
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int) tid);
    int fd = tid ? open(path, O_RDONLY) : -1;
    if (fd < 0) {
        return;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    const char *p = strrchr(buf, ')');  /* after the command name */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                     "%lld %lld", &ticks[0], &ticks[1]) != 2) {
        ticks[0] = ticks[1] = 0;
    }
}

/* Taken by the sender thread. */
static void
snap(struct snapshot *s)
{
    clockid_t main_clock;

    relay_get_stats(relay, &s->stats);
    s->wall = clock_ns(CLOCK_MONOTONIC);
    s->process = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    s->process_ru = rusage_ns(RUSAGE_SELF);
    s->sender = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    s->sender_ru = rusage_ns(RUSAGE_THREAD);
    s->main = (!pthread_getcpuclockid(main_thread, &main_clock)
               ? clock_ns(main_clock) : 0);
    s->relay = relay_tid ? clock_ns(tid_clock(relay_tid)) : 0;
    thread_ticks(relay_tid, s->relay_ticks);
}

struct phase {
    const char *what;                   /* names its figures */
    bool is_capture;                    /* the main capture figures */
    uint64_t first, n;                  /* sequence numbers to send */
    bool relaying;
    int rate_hz;                        /* 0: as fast as the relay reads */

    /* Results. */
    struct snapshot start, end;
    uint64_t sleeps;                    /* pacing sleeps */
    uint64_t written_off;               /* never read by the relay */
    uint64_t rly_drops, vif_drops;      /* by the kernel, no room */
    struct returned ret;
};

/* The relay's frames read since the phase started. */
static uint64_t
relay_read(const struct phase *p)
{
    struct relay_stats s;
    relay_get_stats(relay, &s);
    return s.frames - p->start.stats.frames;
}

/* Waits while the relay has read more than 'max_lag' fewer frames than
 * 'sent', less what the kernel dropped and what was written off.  Gives up
 * on a lag the relay does not reduce for STALL_NS. */
static void
wait_for_relay(struct phase *p, uint64_t sent, uint64_t max_lag)
{
    uint64_t read = relay_read(p);
    int64_t progress_at = clock_ns(CLOCK_MONOTONIC);
    kernel_drops(&p->rly_drops, &p->vif_drops);
    while (read + p->rly_drops + p->written_off + max_lag < sent) {
        if (p->relaying) {
            drain(&p->ret);
        }
        sleep_ns(PACE_SLEEP_NS);
        p->sleeps++;
        uint64_t now_read = relay_read(p);
        int64_t now = clock_ns(CLOCK_MONOTONIC);
        kernel_drops(&p->rly_drops, &p->vif_drops);
        if (now_read != read) {
            read = now_read;
            progress_at = now;
        } else if (now - progress_at > STALL_NS) {
            p->written_off = sent - read - p->rly_drops;
            break;
        }
    }
}

static void *
sender(void *p_)
{
    struct phase *p = p_;

    snap(&p->start);
    for (uint64_t i = 0; i < p->n; i++) {
        if (p->rate_hz) {
            int64_t at = p->start.wall + i * (INT64_C(1000000000)
                                              / p->rate_hz);
            struct timespec ts = { .tv_sec = at / 1000000000,
                                   .tv_nsec = at % 1000000000 };
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        }
        send_pair(p->first + i);
        if ((i + 1) % PACE_EVERY == 0) {
            if (p->relaying) {
                drain(&p->ret);
            }
            wait_for_relay(p, i + 1, lag_max);
        }
    }
    wait_for_relay(p, p->n, 0);
    snap(&p->end);

    /* What the relay wrote back is delivered as it writes it; read the
     * rest, outside the measurement. */
    if (p->relaying) {
        uint64_t frames = p->ret.frames;
        int64_t quiet_since = clock_ns(CLOCK_MONOTONIC);
        while (clock_ns(CLOCK_MONOTONIC) - quiet_since < QUIET_NS) {
            drain(&p->ret);
            if (p->ret.frames != frames) {
                frames = p->ret.frames;
                quiet_since = clock_ns(CLOCK_MONOTONIC);
            }
            sleep_ns(1000000);
        }
    }
    return NULL;
}

static void
run_phase(struct phase *p)
{
    uint64_t ignored = 0;

    p->ret.first = p->first;
    p->ret.n = p->n;
    p->ret.seen = xzalloc(p->n);
    drain(&p->ret);                     /* nothing of this phase yet */
    p->ret.frames = p->ret.foreign = 0;
    find_relay_fds();
    kernel_drops(&ignored, &ignored);           /* resets them */

    pthread_t t;
    if (pthread_create(&t, NULL, sender, p)) {
        die("cannot start the sender thread");
    }
    pthread_join(t, NULL);

    const struct snapshot *a = &p->start, *b = &p->end;
    double n = p->n;
    double wall = b->wall - a->wall;
    int64_t bench = (b->sender - a->sender) + (b->main - a->main);
    int64_t relay_cpu = (b->process - a->process) - bench;
    int64_t relay_cpu_ru = ((b->process_ru - a->process_ru)
                            - (b->sender_ru - a->sender_ru)
                            - (b->main - a->main));
    uint64_t frames = b->stats.frames - a->stats.frames;
    uint64_t stamped = b->stats.vif_stamped - a->stats.vif_stamped;
    uint64_t unstamped = b->stats.vif_unstamped - a->stats.vif_unstamped;
    char name[64];
    snprintf(name, sizeof name, "relay_%s", p->what);

    printf("%s_frames: %"PRIu64" frames\n", name, p->n);
    printf("%s_frames_per_s: %.0f frames/s\n", name, n / (wall / 1e9));
    printf("%s_cpu_ns_per_frame: %.0f ns\n", name, relay_cpu / n);
    printf("%s_cpu_rusage_ns_per_frame: %.0f ns\n", name, relay_cpu_ru / n);
    if (relay_tid) {
        printf("%s_thread_cpu_ns_per_frame: %.0f ns\n", name,
               (b->relay - a->relay) / n);
    }
    long long user = b->relay_ticks[0] - a->relay_ticks[0];
    long long sys = b->relay_ticks[1] - a->relay_ticks[1];
    if (user + sys > 0) {
        printf("%s_thread_sys_pct: %.0f %%\n", name,
               100.0 * sys / (user + sys));
    }
    printf("%s_cpu_pct: %.1f %%\n", name, 100.0 * relay_cpu / wall);
    printf("bench_sender_%s_cpu_ns_per_frame: %.0f ns\n", p->what,
           bench / n);
    printf("%s_vif_stamped_pct: %.1f %%\n",
           p->is_capture ? "relay" : name,
           frames ? 100.0 * stamped / frames : 0.0);
    printf("%s_vif_unstamped: %"PRIu64" frames\n", name, unstamped);
    printf("%s_dropped: %"PRIu64" frames\n", name,
           b->stats.dropped - a->stats.dropped);
    printf("%s_unread: %"PRIu64" frames\n", name,
           p->n > frames ? p->n - frames : 0);
    printf("%s_kernel_drops: %"PRIu64" frames\n", name, p->rly_drops);
    printf("%s_vif_kernel_drops: %"PRIu64" frames\n", name, p->vif_drops);
    printf("%s_pacing_sleeps: %"PRIu64" sleeps\n", name, p->sleeps);
    if (p->relaying) {
        printf("relay_relayed_pct: %.1f %%\n", 100.0 * p->ret.unique / n);
        printf("relay_relay_stats_relayed: %"PRIu64" frames\n",
               b->stats.relayed - a->stats.relayed);
        printf("relay_relay_duplicates: %"PRIu64" frames\n", p->ret.dup);
    }
    if (p->rate_hz) {
        printf("# %s, measured: a %d Hz stream costs the relay %.3f %% of a "
               "core (%.0f ns per frame)\n", p->what, p->rate_hz,
               100.0 * relay_cpu / wall, relay_cpu / n);
    } else {
        printf("# %s, back to back: one frame costs the relay %.0f ns, so a "
               "1 kHz probe stream would cost it %.3f %% of a core\n",
               p->what, relay_cpu / n, relay_cpu / n * 1000 / 1e9 * 100);
    }
    fflush(stdout);
    free(p->ret.seen);
}

/* --- Main --------------------------------------------------------------- */

/* The one thread of the process besides the calling one (the relay's). */
static pid_t
find_relay_thread(void)
{
    pid_t self = syscall(SYS_gettid), found = 0;
    DIR *dir = opendir("/proc/self/task");
    if (!dir) {
        return 0;
    }
    for (struct dirent *de; (de = readdir(dir)); ) {
        pid_t tid = atoi(de->d_name);
        if (tid > 0 && tid != self) {
            found = tid;
        }
    }
    closedir(dir);
    return found;
}

int
main(int argc OVS_UNUSED, char *argv[])
{
    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_WARN);

    if (!netns_enter_private()) {
        printf("relay: skipped (needs root)\n");
        return 0;
    }
    main_thread = pthread_self();
    uint64_t n_capture = env_u64("TETHER_BENCH_RELAY_FRAMES", 200000);
    uint64_t n_1khz = env_u64("TETHER_BENCH_RELAY_1KHZ_FRAMES", 2000);
    uint64_t n_relaying = env_u64("TETHER_BENCH_RELAY_RELAYING_FRAMES",
                                  50000);
    lag_max = env_u64("TETHER_BENCH_RELAY_LAG", 128);

    setup_net();
    vif_tx = open_packet("vif");
    rlyp_tx = open_packet("rlyp");
    rlyp_rx = packet_socket_rx_on("rlyp", 64 << 20);
    if (rlyp_rx < 0) {
        die("cannot open an AF_PACKET socket");
    }

    relay = relay_create("rly", NULL);
    if (!relay) {
        die("relay_create failed");
    }
    relay_tid = find_relay_thread();
    relay_set_vif(relay, VID, "vif");

    /* Connected, and capturing the VIF: the relay opens the VIF's socket at
     * the first frame of its port, which it cannot stamp by the VIF. */
    struct relay_stats s;
    int64_t deadline = clock_ns(CLOCK_MONOTONIC) + INT64_C(5000000000);
    uint64_t seq = 0;
    for (;;) {
        relay_get_stats(relay, &s);
        if (s.connected && s.vif_stamped >= WARMUP_FRAMES) {
            break;
        }
        if (clock_ns(CLOCK_MONOTONIC) > deadline) {
            die(s.connected ? "the relay does not stamp by the VIF"
                : "the relay does not open its port");
        }
        if (s.connected) {
            send_pair(seq++);
        }
        sleep_ns(1000000);
    }

    /* The room the kernel gives the relay's sockets. */
    find_relay_fds();
    for (size_t i = 0; i < n_relay_fds; i++) {
        int size, ifindex = packet_ifindex(relay_fds[i]);
        socklen_t len = sizeof size;
        if (ifindex && !getsockopt(relay_fds[i], SOL_SOCKET, SO_RCVBUF,
                                   &size, &len)) {
            printf("# the relay's %s socket: SO_RCVBUF %d bytes\n",
                   ifindex == rly_ifindex ? "port" : "VIF", size);
        }
    }

    struct phase capture = {
        .what = "capture", .is_capture = true, .first = seq, .n = n_capture,
    };
    run_phase(&capture);
    seq += n_capture;

    struct phase probe = {
        .what = "1khz", .first = seq, .n = n_1khz, .rate_hz = 1000,
    };
    run_phase(&probe);
    seq += n_1khz;

    relay_start(relay, VID, clock_ns(CLOCK_REALTIME));
    struct phase relaying = {
        .what = "relay", .first = seq, .n = n_relaying, .relaying = true,
    };
    run_phase(&relaying);

    relay_stop(relay, VID);
    relay_destroy(relay);
    close(vif_tx);
    close(rlyp_tx);
    close(rlyp_rx);
    veth_delete("rly");
    veth_delete("vif");
    return 0;
}
