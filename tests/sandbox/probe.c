/* Sequenced UDP probes between VMs, sent and received by the VM world's
 * thread (see probe.h). */
#include "tests/sandbox/probe.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/sandbox/pcap.h"
#include "tests/sandbox/vm.h"

#define PROBE_MAGIC "TPRB"
#define PROBE_PAYLOAD 20
#define PROBE_BATCH 100

struct probe_rec {
    uint16_t count;             /* receptions */
    uint8_t gen;                /* attachment of the first reception */
    int64_t t_ns;               /* first reception */
    int64_t sent_ns;
};

struct probe {
    struct vm_world *world;
    struct vm *from, *to;
    uint32_t id;
    uint16_t port;
    int rate_hz;
    int64_t period_ns;
    bool sending;
    int64_t due_ns;             /* next probe's deadline */
    uint64_t next_seq;          /* = probes sent */
    uint64_t skipped;
    uint64_t dup;
    struct probe_rec *recs;     /* by sequence number */
    size_t n_alloc;
};

static uint32_t next_id = 1;

static void
put_be32(uint8_t *p, uint32_t x)
{
    p[0] = x >> 24;
    p[1] = x >> 16;
    p[2] = x >> 8;
    p[3] = x;
}

static uint32_t
get_be32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

static void
send_probe__(struct probe *p, int64_t now)
{
    uint8_t payload[PROBE_PAYLOAD];
    struct frame f;

    memcpy(payload, PROBE_MAGIC, 4);
    put_be32(payload + 4, p->id);
    put_be32(payload + 8, p->next_seq);
    put_be32(payload + 12, (uint64_t) now >> 32);
    put_be32(payload + 16, now);
    if (frame_udp4(&f, vm_mac(p->from), vm_mac(p->to), vm_ip(p->from),
                   vm_ip(p->to), 7, p->port, payload, sizeof payload)) {
        abort();
    }
    if (p->next_seq >= p->n_alloc) {
        size_t n = p->n_alloc ? p->n_alloc * 2 : 65536;
        p->recs = realloc(p->recs, n * sizeof *p->recs);
        memset(p->recs + p->n_alloc, 0, (n - p->n_alloc) * sizeof *p->recs);
        p->n_alloc = n;
    }
    p->recs[p->next_seq].sent_ns = now;
    /* A send error is counted by the VM and shows up here as a loss. */
    vm_send_locked(p->from, &f);
    p->next_seq++;
}

static void
tick__(void *p_, int64_t now, int64_t *next_ns)
{
    struct probe *p = p_;

    if (!p->sending || !vm_is_running(p->from)) {
        /* Paused: nothing due, no catching up on resume. */
        p->due_ns = now + p->period_ns;
        *next_ns = p->due_ns;
        return;
    }
    for (int n = 0; p->due_ns <= now && n < PROBE_BATCH; n++) {
        send_probe__(p, now);
        p->due_ns += p->period_ns;
    }
    if (p->due_ns <= now) {
        p->skipped += (now - p->due_ns) / p->period_ns + 1;
        p->due_ns = now + p->period_ns;
    }
    *next_ns = p->due_ns;
}

static void
rx__(void *p_, struct vm *vm, unsigned int gen, const struct frame *f,
     int64_t t_ns)
{
    struct probe *p = p_;
    struct frame_info info;

    if (vm != p->to || !frame_parse(f, &info) || info.ip_proto != 17
        || info.dst_port != p->port || info.payload_len < PROBE_PAYLOAD
        || memcmp(info.payload, PROBE_MAGIC, 4)
        || get_be32(info.payload + 4) != p->id) {
        return;
    }
    uint32_t seq = get_be32(info.payload + 8);
    if (seq >= p->next_seq) {
        return;                 /* cannot be: not sent yet */
    }
    struct probe_rec *r = &p->recs[seq];
    if (r->count++) {
        p->dup++;
    } else {
        r->gen = gen;
        r->t_ns = t_ns;
    }
}

struct probe *
probe_start(struct vm_world *w, struct vm *from, struct vm *to, int rate_hz,
            uint16_t udp_port)
{
    struct probe *p = calloc(1, sizeof *p);
    p->world = w;
    p->from = from;
    p->to = to;
    p->id = next_id++;
    p->port = udp_port;
    p->rate_hz = rate_hz > 0 ? rate_hz : 1000;
    p->period_ns = 1000000000LL / p->rate_hz;
    p->sending = true;
    p->due_ns = vm_now_ns();
    vm_world_add_rx_hook(w, rx__, p);
    vm_world_add_tick_hook(w, tick__, p, p->due_ns);
    return p;
}

/* Fills '*r'; the world is locked. */
static void
result__(const struct probe *p, struct probe_result *r)
{
    uint64_t gap = 0;

    memset(r, 0, sizeof *r);
    r->first_lost = r->last_lost = -1;
    r->sent = p->next_seq;
    r->dup = p->dup;
    r->skipped = p->skipped;
    for (uint64_t s = 0; s < p->next_seq; s++) {
        const struct probe_rec *rec = &p->recs[s];
        if (rec->count) {
            r->received++;
            r->per_gen[rec->gen % 8]++;
            gap = 0;
        } else {
            if (r->first_lost < 0) {
                r->first_lost = s;
                r->first_lost_ns = rec->sent_ns;
            }
            r->last_lost = s;
            r->last_lost_ns = rec->sent_ns;
            if (++gap > r->max_gap) {
                r->max_gap = gap;
            }
        }
    }
    r->lost = r->sent - r->received;
    r->loss_ms = r->lost * 1000.0 / p->rate_hz;
}

void
probe_peek(struct probe *p, struct probe_result *r)
{
    vm_world_lock(p->world);
    result__(p, r);
    vm_world_unlock(p->world);
}

void
probe_stop(struct probe *p, int drain_ms, struct probe_result *r)
{
    vm_world_lock(p->world);
    p->sending = false;
    vm_world_unlock(p->world);
    vm_world_remove_tick_hook(p->world, tick__, p);

    int64_t deadline = vm_now_ns() + drain_ms * 1000000LL;
    for (;;) {
        vm_world_lock(p->world);
        result__(p, r);
        vm_world_unlock(p->world);
        if (r->received == r->sent || vm_now_ns() >= deadline) {
            break;
        }
        struct timespec ts = { 0, 2000000 };
        nanosleep(&ts, NULL);
    }
    vm_world_remove_rx_hook(p->world, rx__, p);
    vm_world_lock(p->world);
    result__(p, r);
    vm_world_unlock(p->world);
}

uint64_t
probe_lost_outside(const struct probe *p, const int64_t (*win)[2], size_t n)
{
    uint64_t count = 0;

    vm_world_lock(p->world);
    for (uint64_t s = 0; s < p->next_seq; s++) {
        const struct probe_rec *rec = &p->recs[s];
        if (!rec->count) {
            bool inside = false;
            for (size_t i = 0; i < n && !inside; i++) {
                inside = rec->sent_ns >= win[i][0] && rec->sent_ns <= win[i][1];
            }
            count += !inside;
        }
    }
    vm_world_unlock(p->world);
    return count;
}

void
probe_destroy(struct probe *p)
{
    if (p) {
        free(p->recs);
        free(p);
    }
}

void
probe_print(const char *prefix, const struct probe_result *r, FILE *f)
{
    fprintf(f, "%ssent %llu received %llu lost %llu (%.0f ms, longest gap "
            "%llu, seq %lld..%lld) dup %llu skipped %llu by stream:",
            prefix, (unsigned long long) r->sent,
            (unsigned long long) r->received, (unsigned long long) r->lost,
            r->loss_ms, (unsigned long long) r->max_gap,
            (long long) r->first_lost, (long long) r->last_lost,
            (unsigned long long) r->dup, (unsigned long long) r->skipped);
    for (int i = 0; i < 8; i++) {
        if (r->per_gen[i]) {
            fprintf(f, " %d:%llu", i, (unsigned long long) r->per_gen[i]);
        }
    }
    fprintf(f, "\n");
}
