/* The migration relay of a source hypervisor (see relay.h). */
#include <config.h>

#include "hostagent/relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(relay);

#define RELAY_FRAME_MAX 9216            /* jumbo frame plus a VLAN tag */
#define RELAY_MAX_PORTS 256             /* migrations paused at once */
#define RELAY_RECONNECT_MS 100
#define RELAY_STAMP_MAX_AGE_NS INT64_C(1000000000)
#define RELAY_RCVBUF (4 << 20)          /* each socket's receive buffer */
#define RELAY_VIF_IDLE_NS (INT64_C(2) * 1000000000)   /* stop capturing */

struct relay_frame {
    int64_t ts;                         /* CLOCK_REALTIME, ns */
    uint16_t vid;                       /* 0: empty or already relayed */
    uint16_t len;
    bool pending;                       /* its VIF copy not seen yet: 'ts'
                                         * is the relay's own stamp */
    uint64_t hash;                      /* relay_frame_hash(), if pending */
    unsigned char *data;                /* RELAY_FRAME_MAX bytes, lazily */
};

/* A VIF's delivery stamps: when br-int handed each recent frame to the VIF
 * (its AF_PACKET "outgoing" timestamp), by a hash of the frame.  The relay
 * port's own stamp of the same frame can differ either way, and by
 * milliseconds on a busy host:
 *
 *   - later, where br-int writes the VIF's copy first and the thread that
 *     writes both is descheduled in between (measured: 29 us median, up to
 *     8.5 ms).  A frame the source VM read before it paused but whose relay
 *     copy is stamped after the pause would be delivered twice;
 *
 *   - earlier, where the VIF's copy goes through conntrack (security
 *     groups): the userspace datapath writes the relay's copy, then
 *     recirculates the packet through the connection tracker and writes
 *     the VIF's copy afterwards (measured: 1.9 ms later under load).  A
 *     frame whose relay copy came before the pause but whose VIF copy came
 *     after it was lost: the VM never read it and the relay did not send
 *     it on.
 *
 * So the relay decides by the VIF's stamp: a relay copy takes the stamp
 * its VIF copy left, or, if that has not come yet, waits in the ring as
 * "pending" until it comes.  A relay copy sent on before its VIF copy
 * came (its own stamp was already after the pause) leaves an entry too, so
 * that its VIF copy is taken when it comes rather than left as a stamp that
 * a later identical frame would take. */
#define RELAY_VIF_PENDING 64
struct relay_pending {
    uint64_t hash;
    size_t slot;                        /* in the ring, if 'in_ring' */
    bool in_ring;
};
struct relay_vif {
    char ifname[IF_NAMESIZE];           /* "": no VIF known (mutex) */
    bool changed;                       /* 'ifname' changed (mutex) */
    /* Owned by the thread. */
    int fd;                             /* -1: not capturing */
    int64_t last_used;                  /* last relay frame for it */
    long long retry_at;                 /* ms: next attempt to open */
    struct relay_stamps stamps;
    struct relay_pending pending[RELAY_VIF_PENDING];    /* oldest first */
    size_t n_pending;
};

struct relay_port {
    int32_t ofport;                     /* 0: free slot */
    int64_t since;
    bool flush;                         /* ring not yet replayed */
    uint64_t relayed;
    uint64_t unstamped;                 /* of those, sent before their VIF
                                         * copy was seen though it is
                                         * captured */
};

struct relay {
    char *ifname;
    char *stream_path;                  /* NULL: AF_PACKET on 'ifname' */
    pthread_t thread;
    int wake_fd;                        /* eventfd */

    pthread_mutex_t mutex;              /* guards everything below */
    bool exiting;
    struct relay_port ports[RELAY_MAX_PORTS];
    struct relay_stats stats;
    struct relay_vif *vifs[RELAY_MAX_VID + 1];  /* by ofport, lazily */
    int32_t capturing[RELAY_MAX_PORTS];         /* ofports with vif fd */
    size_t n_capturing;

    /* Owned by the thread. */
    int fd;
    struct relay_frame *ring;           /* RELAY_RING_FRAMES */
    size_t ring_head;                   /* next slot to write */
    unsigned char *rxbuf;               /* dummy stream: bytes read */
    size_t rxlen;
    unsigned char *vifbuf;              /* a frame read from a VIF */
};

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * INT64_C(1000000000) + ts.tv_nsec;
}

/* --- Delivery stamps --------------------------------------------------- */

uint64_t
relay_frame_hash(const unsigned char *data, size_t len, bool tagged)
{
    /* FNV-1a over the MACs and what follows the tag, if any. */
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++) {
        if (tagged && i >= 12 && i < 16) {
            continue;
        }
        h = (h ^ data[i]) * UINT64_C(0x100000001b3);
    }
    return h;
}

void
relay_stamps_add(struct relay_stamps *s, uint64_t hash, int64_t ts)
{
    /* A stamp no relay copy took in a second never will (a frame br-int
     * does not tee, such as a broadcast, or one whose relay copy was
     * lost); left, it would lengthen every search, and an identical frame
     * later would take it. */
    while (s->n && s->e[s->tail].ts < ts - RELAY_STAMP_MAX_AGE_NS) {
        s->tail = (s->tail + 1) % RELAY_VIF_STAMPS;
        s->n--;
    }
    struct relay_stamp *e = &s->e[s->head];
    if (s->n == RELAY_VIF_STAMPS) {
        s->tail = (s->tail + 1) % RELAY_VIF_STAMPS;     /* oldest dropped */
    } else {
        s->n++;
    }
    e->hash = hash;
    e->ts = ts;
    e->used = false;
    s->head = (s->head + 1) % RELAY_VIF_STAMPS;
}

bool
relay_stamps_take(struct relay_stamps *s, uint64_t hash, int64_t *ts)
{
    /* Copies reach the relay in the order the VIF got them: the match is
     * the oldest unused entry with that hash, usually the oldest of all. */
    for (size_t k = 0; k < s->n; k++) {
        struct relay_stamp *e = &s->e[(s->tail + k) % RELAY_VIF_STAMPS];
        if (!e->used && e->hash == hash) {
            e->used = true;
            *ts = e->ts;
            /* Forget what is older and used up. */
            while (s->n && s->e[s->tail].used) {
                s->tail = (s->tail + 1) % RELAY_VIF_STAMPS;
                s->n--;
            }
            return true;
        }
    }
    return false;
}

/* --- The port ----------------------------------------------------------- */

/* Room for thousands of frames while the thread lags: the relay port's
 * socket drops what does not fit (the default, ~200 kB, holds ~256 small
 * frames), and so does a VIF's. */
static void
set_rcvbuf__(int fd)
{
    int rcvbuf = RELAY_RCVBUF;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf)) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    }
}

static int
open_stream__(const struct relay *r)
{
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    if (strlen(r->stream_path) >= sizeof sun.sun_path) {
        return -1;
    }
    strcpy(sun.sun_path, r->stream_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static int
open_packet__(const struct relay *r)
{
    unsigned int ifindex = if_nametoindex(r->ifname);
    if (!ifindex) {
        return -1;
    }
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0) {
        return -1;
    }
    /* Up, so that frames br-int writes reach the socket. */
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ovs_strlcpy(ifr.ifr_name, r->ifname, sizeof ifr.ifr_name);
    if (!ioctl(fd, SIOCGIFFLAGS, &ifr) && !(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    int one = 1;
    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    set_rcvbuf__(fd);
#ifdef PACKET_IGNORE_OUTGOING
    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
#endif
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = ifindex;
    if (bind(fd, (struct sockaddr *) &sll, sizeof sll)) {
        close(fd);
        return -1;
    }
    return fd;
}

static void
set_connected__(struct relay *r, bool connected)
{
    pthread_mutex_lock(&r->mutex);
    r->stats.connected = connected;
    pthread_mutex_unlock(&r->mutex);
}

static void
close_port__(struct relay *r)
{
    if (r->fd >= 0) {
        close(r->fd);
        r->fd = -1;
        r->rxlen = 0;
        set_connected__(r, false);
        VLOG_WARN("relay port %s: connection lost", r->ifname);
    }
}

/* Writes one tagged frame back into the relay port.  Called with the
 * mutex held (the thread is the only writer). */
static void
send__(struct relay *r, const unsigned char *data, size_t len)
{
    if (r->fd < 0) {
        return;
    }
    if (r->stream_path) {
        unsigned char hdr[2] = { len >> 8, len & 0xff };
        struct iovec iov[2] = {
            { .iov_base = hdr, .iov_len = 2 },
            { .iov_base = CONST_CAST(unsigned char *, data), .iov_len = len },
        };
        struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
        ssize_t n = sendmsg(r->fd, &msg, MSG_NOSIGNAL);
        if (n != (ssize_t) len + 2) {
            /* A partial write would desynchronize the stream. */
            r->stats.dropped++;
            return;
        }
    } else if (send(r->fd, data, len, MSG_NOSIGNAL) != (ssize_t) len) {
        r->stats.dropped++;
        return;
    }
    r->stats.relayed++;
}

static struct relay_port *
find_port__(struct relay *r, int32_t ofport)
{
    for (size_t i = 0; i < RELAY_MAX_PORTS; i++) {
        if (r->ports[i].ofport == ofport) {
            return &r->ports[i];
        }
    }
    return NULL;
}

/* Starts capturing what VIF 'v' (port 'ofport') is given.  Called by the
 * thread with the mutex held. */
static void
open_vif__(struct relay *r, int32_t ofport, struct relay_vif *v)
{
    long long now_ms = now_ns() / 1000000;
    if (now_ms < v->retry_at || r->n_capturing >= RELAY_MAX_PORTS) {
        return;
    }
    v->retry_at = now_ms + 1000;
    unsigned int ifindex = if_nametoindex(v->ifname);
    int fd = (ifindex
              ? socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
                       htons(ETH_P_ALL))
              : -1);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
        /* A frame this socket drops is judged by the relay's own, later
         * stamp. */
        set_rcvbuf__(fd);
        struct sockaddr_ll sll;
        memset(&sll, 0, sizeof sll);
        sll.sll_family = AF_PACKET;
        sll.sll_protocol = htons(ETH_P_ALL);
        sll.sll_ifindex = ifindex;
        if (bind(fd, (struct sockaddr *) &sll, sizeof sll)) {
            close(fd);
            fd = -1;
        }
    }
    if (fd < 0) {
        VLOG_DBG("relay: port %"PRId32": cannot capture VIF %s (%s): its "
                 "frames are judged by the relay's stamps", ofport,
                 v->ifname, ovs_strerror(errno));
        return;
    }
    v->fd = fd;
    v->changed = false;
    v->stamps.head = v->stamps.tail = v->stamps.n = 0;
    v->n_pending = 0;
    r->capturing[r->n_capturing++] = ofport;
    VLOG_INFO("relay: port %"PRId32": stamping by VIF %s", ofport,
              v->ifname);
}

/* Stops capturing the VIF of the 'i'th capturing port (mutex held). */
static void
close_vif__(struct relay *r, size_t i)
{
    struct relay_vif *v = r->vifs[r->capturing[i]];
    close(v->fd);
    v->fd = -1;
    r->capturing[i] = r->capturing[--r->n_capturing];
}

/* The VIF copy of a frame whose relay copy came first arrived at 'ts':
 * the frame, if it still waits in the ring, is judged now.  False if no
 * relay copy came first (mutex held). */
static bool
resolve_pending__(struct relay *r, uint16_t vid, struct relay_vif *v,
                  uint64_t hash, int64_t ts)
{
    for (size_t k = 0; k < v->n_pending; k++) {
        struct relay_pending e = v->pending[k];
        if (e.hash != hash) {
            continue;
        }
        memmove(&v->pending[k], &v->pending[k + 1],
                (--v->n_pending - k) * sizeof v->pending[0]);
        struct relay_frame *f = e.in_ring ? &r->ring[e.slot] : NULL;
        if (!f || !f->pending || f->vid != vid || f->hash != hash) {
            return true;                /* sent on already, or overwritten */
        }
        f->pending = false;
        f->ts = ts;
        r->stats.vif_stamped++;
        struct relay_port *p = find_port__(r, vid);
        if (p && !p->flush && ts >= p->since) {
            send__(r, f->data, f->len);
            f->vid = 0;
            p->relayed++;
        }
        return true;
    }
    return false;
}

/* Remembers that the VIF copy of the frame with 'hash' is still to come
 * (mutex held). */
static void
add_pending__(struct relay *r, uint16_t vid, struct relay_vif *v,
              uint64_t hash, bool in_ring, size_t slot)
{
    if (v->n_pending == RELAY_VIF_PENDING) {
        /* The oldest stays judged by the relay's own stamp. */
        struct relay_pending *e = &v->pending[0];
        struct relay_frame *old = e->in_ring ? &r->ring[e->slot] : NULL;
        if (old && old->pending && old->vid == vid && old->hash == e->hash) {
            old->pending = false;
            r->stats.vif_unstamped++;
        }
        memmove(&v->pending[0], &v->pending[1],
                --v->n_pending * sizeof v->pending[0]);
    }
    v->pending[v->n_pending++] = (struct relay_pending) {
        .hash = hash, .slot = slot, .in_ring = in_ring,
    };
}

/* Records the delivery stamps of what br-int gave VIF 'v' (port 'vid')
 * since the last call ("outgoing" frames; what the VM sends is ignored),
 * or judges the pending relay copies they belong to.  A VIF that went away
 * is closed at the next round (mutex held). */
static void
read_vif__(struct relay *r, uint16_t vid, struct relay_vif *v)
{
    unsigned char *buf = r->vifbuf;
    for (int i = 0; i < 256; i++) {
        union {
            char buf[CMSG_SPACE(sizeof(struct timespec))];
            struct cmsghdr align;
        } cmsg_buf;
        struct sockaddr_ll from;
        struct iovec iov = { .iov_base = buf, .iov_len = RELAY_FRAME_MAX };
        struct msghdr msg = {
            .msg_name = &from, .msg_namelen = sizeof from,
            .msg_iov = &iov, .msg_iovlen = 1,
            .msg_control = &cmsg_buf, .msg_controllen = sizeof cmsg_buf,
        };
        ssize_t n = recvmsg(v->fd, &msg, MSG_DONTWAIT);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                v->changed = true;
            }
            return;
        }
        if (from.sll_pkttype != PACKET_OUTGOING || n < 14) {
            continue;
        }
        int64_t ts = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c;
             c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET
                && c->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec t;
                memcpy(&t, CMSG_DATA(c), sizeof t);
                ts = t.tv_sec * INT64_C(1000000000) + t.tv_nsec;
            }
        }
        uint64_t hash = relay_frame_hash(buf, n, false);
        ts = ts ? ts : now_ns();
        if (!v->n_pending || !resolve_pending__(r, vid, v, hash, ts)) {
            relay_stamps_add(&v->stamps, hash, ts);
        }
    }
}

/* One frame read from the relay port at 'ts'. */
static void
frame__(struct relay *r, const unsigned char *data, size_t len, int64_t ts)
{
    pthread_mutex_lock(&r->mutex);
    r->stats.frames++;
    if (len < 18 || len > RELAY_FRAME_MAX
        || data[12] != 0x81 || data[13] != 0x00) {
        r->stats.dropped++;
        pthread_mutex_unlock(&r->mutex);
        return;
    }
    uint16_t vid = ((data[14] << 8) | data[15]) & 0xfff;
    struct relay_vif *v = vid ? r->vifs[vid] : NULL;
    bool pending = false;
    uint64_t hash = 0;
    if (v) {
        v->last_used = now_ns();
        if (v->fd < 0 && v->ifname[0]) {
            open_vif__(r, vid, v);
        }
        if (v->fd >= 0) {
            hash = relay_frame_hash(data, len, true);
            int64_t vif_ts;
            bool found = relay_stamps_take(&v->stamps, hash, &vif_ts);
            if (!found) {
                /* Its VIF copy may have come since the VIFs were read. */
                read_vif__(r, vid, v);
                found = relay_stamps_take(&v->stamps, hash, &vif_ts);
            }
            if (found) {
                ts = vif_ts;
                r->stats.vif_stamped++;
            } else {
                pending = true;         /* the VIF's copy is still to come */
            }
        }
    }
    struct relay_port *p = vid ? find_port__(r, vid) : NULL;
    if (p && !p->flush && ts >= p->since) {
        /* Even if pending: the VIF's copy will come later still. */
        send__(r, data, len);
        p->relayed++;
        if (pending) {
            p->unstamped++;
            r->stats.vif_unstamped++;
            add_pending__(r, vid, v, hash, false, 0);
        }
    } else {
        size_t slot = r->ring_head;
        struct relay_frame *f = &r->ring[slot];
        r->ring_head = (r->ring_head + 1) % RELAY_RING_FRAMES;
        if (!f->data) {
            f->data = xmalloc(RELAY_FRAME_MAX);
        }
        memcpy(f->data, data, len);
        f->len = len;
        f->vid = vid;
        f->ts = ts;
        f->pending = pending;
        f->hash = hash;
        if (pending) {
            add_pending__(r, vid, v, hash, true, slot);
        }
    }
    pthread_mutex_unlock(&r->mutex);
}

/* Replays the kept frames of the ports that just started relaying. */
static void
flush__(struct relay *r)
{
    pthread_mutex_lock(&r->mutex);
    for (size_t i = 0; i < RELAY_MAX_PORTS; i++) {
        struct relay_port *p = &r->ports[i];
        if (!p->ofport || !p->flush) {
            continue;
        }
        size_t n = 0;
        for (size_t k = 0; k < RELAY_RING_FRAMES; k++) {
            struct relay_frame *f
                = &r->ring[(r->ring_head + k) % RELAY_RING_FRAMES];
            if (f->vid == p->ofport && f->ts >= p->since) {
                /* A pending frame's VIF copy comes later still. */
                send__(r, f->data, f->len);
                f->vid = 0;
                p->unstamped += f->pending;
                r->stats.vif_unstamped += f->pending;
                f->pending = false;     /* its entry takes its VIF copy */
                n++;
            }
        }
        p->flush = false;
        p->relayed += n;
        VLOG_INFO("relay: port %"PRId32" paused %.1f ms ago: %zu kept "
                  "frame(s) sent on to the destination", p->ofport,
                  (now_ns() - p->since) / 1e6, n);
    }
    pthread_mutex_unlock(&r->mutex);
}

static void
read_stream__(struct relay *r)
{
    ssize_t n = recv(r->fd, r->rxbuf + r->rxlen,
                     2 * (RELAY_FRAME_MAX + 2) - r->rxlen, MSG_DONTWAIT);
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            close_port__(r);
        }
        return;
    }
    int64_t ts = now_ns();
    r->rxlen += n;
    size_t ofs = 0;
    while (r->rxlen - ofs >= 2) {
        size_t len = (r->rxbuf[ofs] << 8) | r->rxbuf[ofs + 1];
        if (len > RELAY_FRAME_MAX) {
            close_port__(r);         /* not a netdev-dummy stream */
            return;
        }
        if (r->rxlen - ofs < 2 + len) {
            break;
        }
        frame__(r, r->rxbuf + ofs + 2, len, ts);
        ofs += 2 + len;
    }
    memmove(r->rxbuf, r->rxbuf + ofs, r->rxlen - ofs);
    r->rxlen -= ofs;
}

static void
read_packet__(struct relay *r)
{
    for (int i = 0; i < 64; i++) {
        unsigned char *buf = r->rxbuf + 4;  /* room to put the tag back */
        union {
            char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))
                     + CMSG_SPACE(sizeof(struct timespec))];
            struct cmsghdr align;
        } cmsg_buf;
        struct iovec iov = { .iov_base = buf, .iov_len = RELAY_FRAME_MAX };
        struct msghdr msg = {
            .msg_iov = &iov, .msg_iovlen = 1,
            .msg_control = &cmsg_buf, .msg_controllen = sizeof cmsg_buf,
        };
        ssize_t n = recvmsg(r->fd, &msg, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                close_port__(r);
            }
            return;
        }
        int64_t ts = 0;
        bool tagged = false;
        uint16_t tci = 0, tpid = ETH_P_8021Q;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c;
             c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET
                && c->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec t;
                memcpy(&t, CMSG_DATA(c), sizeof t);
                ts = t.tv_sec * INT64_C(1000000000) + t.tv_nsec;
            } else if (c->cmsg_level == SOL_PACKET
                       && c->cmsg_type == PACKET_AUXDATA) {
                struct tpacket_auxdata aux;
                memcpy(&aux, CMSG_DATA(c), sizeof aux);
                if (aux.tp_status & TP_STATUS_VLAN_VALID) {
                    tagged = true;
                    tci = aux.tp_vlan_tci;
#ifdef TP_STATUS_VLAN_TPID_VALID
                    if (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) {
                        tpid = aux.tp_vlan_tpid;
                    }
#endif
                }
            }
        }
        if (!ts) {
            ts = now_ns();
        }
        size_t len = n;
        if (len > RELAY_FRAME_MAX - 4 || len < 12) {
            frame__(r, buf, RELAY_FRAME_MAX + 1, ts);   /* counted, dropped */
            continue;
        }
        if (tagged) {
            /* The kernel took the tag off: put it back after the MACs. */
            unsigned char *f = r->rxbuf;
            memmove(f, buf, 12);
            f[12] = tpid >> 8;
            f[13] = tpid & 0xff;
            f[14] = tci >> 8;
            f[15] = tci & 0xff;
            frame__(r, f, len + 4, ts);
        } else {
            frame__(r, buf, len, ts);
        }
    }
}

static void *
relay_thread(void *r_)
{
    struct relay *r = r_;
    long long next_try = 0;
    bool warned = false;

    /* A frame's time is when this thread reads it (the dummy stream has no
     * kernel timestamps): read as soon as it arrives, ahead of ordinary
     * threads, where the system allows it. */
    struct sched_param sp = { .sched_priority = 10 };
    if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp)) {
        VLOG_DBG("relay: no real-time priority; frames are stamped as "
                 "ordinary threads run");
    }

    for (;;) {
        pthread_mutex_lock(&r->mutex);
        bool exiting = r->exiting;
        pthread_mutex_unlock(&r->mutex);
        if (exiting) {
            break;
        }

        if (r->fd < 0) {
            long long now = now_ns() / 1000000;
            if (now >= next_try) {
                r->fd = r->stream_path ? open_stream__(r) : open_packet__(r);
                next_try = now + RELAY_RECONNECT_MS;
                if (r->fd >= 0) {
                    VLOG_INFO("relay port %s: open%s%s", r->ifname,
                              r->stream_path ? " through " : "",
                              r->stream_path ? r->stream_path : "");
                    set_connected__(r, true);
                    warned = false;
                } else if (!warned) {
                    VLOG_INFO("relay port %s: not open yet (%s)", r->ifname,
                              ovs_strerror(errno));
                    warned = true;
                }
            }
        }

        /* VIFs whose name changed or that no frame was relayed for in a
         * while (their migration ended) are no longer captured. */
        pthread_mutex_lock(&r->mutex);
        int64_t now = now_ns();
        for (size_t i = 0; i < r->n_capturing; ) {
            int32_t ofport = r->capturing[i];
            struct relay_vif *v = r->vifs[ofport];
            if (v->changed
                || (now - v->last_used > RELAY_VIF_IDLE_NS
                    && !find_port__(r, ofport))) {
                close_vif__(r, i);
            } else {
                i++;
            }
        }
        struct pollfd pfd[2 + RELAY_MAX_PORTS];
        size_t n_pfd = 2;
        pfd[0] = (struct pollfd) { .fd = r->wake_fd, .events = POLLIN };
        pfd[1] = (struct pollfd) { .fd = r->fd, .events = POLLIN };
        for (size_t i = 0; i < r->n_capturing; i++) {
            pfd[n_pfd++] = (struct pollfd) {
                .fd = r->vifs[r->capturing[i]]->fd, .events = POLLIN };
        }
        pthread_mutex_unlock(&r->mutex);
        if (r->fd < 0) {
            pfd[1].fd = -1;             /* ignored by poll() */
        }

        int n = poll(pfd, n_pfd, RELAY_RECONNECT_MS);
        if (n < 0 && errno != EINTR) {
            VLOG_ERR("relay: poll: %s", ovs_strerror(errno));
            break;
        }
        if (pfd[0].revents & POLLIN) {
            uint64_t v;
            ignore(read(r->wake_fd, &v, sizeof v));
        }
        /* The VIFs first: a VIF's copy of a frame is queued before the
         * relay's, so its stamp is there when the relay's copy is read. */
        pthread_mutex_lock(&r->mutex);
        for (size_t i = 0; i < r->n_capturing; i++) {
            read_vif__(r, r->capturing[i], r->vifs[r->capturing[i]]);
        }
        pthread_mutex_unlock(&r->mutex);
        flush__(r);
        if (r->fd >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            if (r->stream_path) {
                read_stream__(r);
            } else {
                read_packet__(r);
            }
        }
    }
    return NULL;
}

/* --- The main thread's side -------------------------------------------- */

/* Frees what relay_create() allocated (the thread, eventfd and mutex are
 * the caller's to undo first). */
static void
relay_free__(struct relay *r)
{
    for (size_t i = 0; i < RELAY_RING_FRAMES; i++) {
        free(r->ring[i].data);
    }
    free(r->ring);
    free(r->rxbuf);
    free(r->vifbuf);
    for (size_t i = 0; i <= RELAY_MAX_VID; i++) {
        free(r->vifs[i]);
    }
    free(r->stream_path);
    free(r->ifname);
    free(r);
}

struct relay *
relay_create(const char *ifname, const char *stream_path)
{
    struct relay *r = xzalloc(sizeof *r);
    r->ifname = xstrdup(ifname);
    r->stream_path = stream_path ? xstrdup(stream_path) : NULL;
    r->fd = -1;
    r->ring = xcalloc(RELAY_RING_FRAMES, sizeof *r->ring);
    r->rxbuf = xmalloc(2 * (RELAY_FRAME_MAX + 2));
    r->vifbuf = xmalloc(RELAY_FRAME_MAX);
    r->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (r->wake_fd < 0) {
        VLOG_ERR("relay: eventfd: %s", ovs_strerror(errno));
        relay_free__(r);
        return NULL;
    }
    pthread_mutex_init(&r->mutex, NULL);
    int error = pthread_create(&r->thread, NULL, relay_thread, r);
    if (error) {
        VLOG_ERR("relay: cannot start its thread: %s", ovs_strerror(error));
        close(r->wake_fd);
        pthread_mutex_destroy(&r->mutex);
        relay_free__(r);
        return NULL;
    }
    return r;
}

static void
wake__(struct relay *r)
{
    uint64_t one = 1;
    ignore(write(r->wake_fd, &one, sizeof one));
}

void
relay_destroy(struct relay *r)
{
    if (!r) {
        return;
    }
    pthread_mutex_lock(&r->mutex);
    r->exiting = true;
    pthread_mutex_unlock(&r->mutex);
    wake__(r);
    pthread_join(r->thread, NULL);
    if (r->fd >= 0) {
        close(r->fd);
    }
    while (r->n_capturing) {
        close_vif__(r, 0);
    }
    close(r->wake_fd);
    pthread_mutex_destroy(&r->mutex);
    relay_free__(r);
}

void
relay_start(struct relay *r, int32_t ofport, int64_t since_ns)
{
    if (!r || ofport < 1 || ofport > RELAY_MAX_VID) {
        return;
    }
    pthread_mutex_lock(&r->mutex);
    struct relay_port *p = find_port__(r, ofport);
    if (p && p->since == since_ns) {
        pthread_mutex_unlock(&r->mutex);
        return;                         /* already relaying */
    }
    if (!p) {
        p = find_port__(r, 0);
    }
    if (p) {
        p->ofport = ofport;
        p->since = since_ns;
        p->flush = true;
        p->relayed = 0;
        p->unstamped = 0;
    }
    pthread_mutex_unlock(&r->mutex);
    if (p) {
        VLOG_INFO("relay: port %"PRId32" paused: relaying to the "
                  "destination", ofport);
        wake__(r);
    } else {
        VLOG_WARN("relay: more than %d paused ports: port %"PRId32" not "
                  "relayed", RELAY_MAX_PORTS, ofport);
    }
}

void
relay_set_vif(struct relay *r, int32_t ofport, const char *ifname)
{
    if (!r || r->stream_path || ofport < 1 || ofport > RELAY_MAX_VID) {
        return;
    }
    pthread_mutex_lock(&r->mutex);
    struct relay_vif *v = r->vifs[ofport];
    if (!v && ifname) {
        v = r->vifs[ofport] = xzalloc(sizeof *v);
        v->fd = -1;
    }
    if (v) {
        const char *name = ifname ? ifname : "";
        if (strcmp(v->ifname, name)) {
            ovs_strlcpy(v->ifname, name, sizeof v->ifname);
            v->changed = true;
            v->retry_at = 0;
        }
    }
    pthread_mutex_unlock(&r->mutex);
}

void
relay_stop(struct relay *r, int32_t ofport)
{
    if (!r || ofport < 1) {
        return;
    }
    pthread_mutex_lock(&r->mutex);
    struct relay_port *p = find_port__(r, ofport);
    if (p) {
        VLOG_INFO("relay: port %"PRId32": stopped after %"PRIu64" frame(s)"
                  " (%"PRIu64" without the VIF's stamp)",
                  ofport, p->relayed, p->unstamped);
        memset(p, 0, sizeof *p);
    }
    pthread_mutex_unlock(&r->mutex);
}

void
relay_get_stats(struct relay *r, struct relay_stats *s)
{
    memset(s, 0, sizeof *s);
    if (r) {
        pthread_mutex_lock(&r->mutex);
        *s = r->stats;
        pthread_mutex_unlock(&r->mutex);
    }
}
