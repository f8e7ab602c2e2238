/* tetherd's data path manager (see physical.h). */
#include <config.h>

#include "controller/physical.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "controller/eni.h"
#include "controller/flows.h"
#include "controller/metrics.h"
#include "flow.h"
#include "hash.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-glue/flow-table.h"
#include "ovs-glue/of-server.h"
#include "ovs-glue/of-switch.h"
#include "packets.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(physical);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(10, 50);

struct physical_host {
    struct hmap_node node;          /* in physical's 'hosts', by id */
    char *id;
    char *tunnel_ip;
    uint64_t dpid;
    int32_t tunnel_ofport;
    struct of_switch *sw;           /* NULL until dpid known */
    bool full_pending;              /* compute the whole table when ready */
    bool dirty;                     /* desired changed since last commit */

    /* A round that had changes for this host while its bridge was not
     * connected (0: none): the round is not confirmed here until the bridge
     * is back and reconciled, or SKIPPED_WAIT_MS have passed. */
    uint64_t skipped_round;
    long long int skipped_at;

    /* physical_run() visits only the hosts on these lists, not all of them
     * (1,000 at data-center scale) at every round: */
    struct ovs_list full_node;      /* in 'full_check' if 'in_full_check' */
    bool in_full_check;
    struct ovs_list dirty_node;     /* in 'dirty_hosts' if 'dirty' */
};

/* One round: the commits it issued and when its first change came. */
struct physical_round {
    struct ovs_list node;           /* in physical's 'rounds' */
    struct physical *p;             /* NULL if 'p' was destroyed */
    long long int start;
    unsigned int outstanding;
    unsigned int n_hosts;
    unsigned int n_errors;
    unsigned int tags;              /* enum physical_tag bits */
    uint64_t seq;                   /* physical_next_round() */
};

#define SWITCHOVER_SAMPLES 1024

/* How long a bridge that was away may hold back the confirmation of the
 * rounds it missed (a host that stays away must not block commits). */
#define SKIPPED_WAIT_MS 5000

/* Most hosts a migration's destination warms its tunnels with. */
#define WARM_MAX_HOSTS 256

struct physical {
    struct of_server *ofs;
    struct flows_ctx *ctx;
    struct flows_work *work;
    struct hmap hosts;
    struct ovs_list full_check;     /* hosts that may need a full table */
    struct ovs_list dirty_hosts;    /* hosts whose desired table changed */
    long long int pending_since;    /* first change not yet committed, or 0 */
    unsigned int rounds_in_flight;
    struct ovs_list rounds;         /* contains "struct physical_round"s,
                                     * oldest first */
    uint64_t round_seq;             /* the last round's sequence number */
    bool want_round;                /* someone waits for the next round */
    size_t n_skipped;               /* hosts with a 'skipped_round' */
    unsigned int pending_tags;      /* for the round being gathered */
    bool ready;                     /* physical_set_ready() called */
    double switchover_ms[SWITCHOVER_SAMPLES];   /* ring of the last ones */
    struct physical_stats stats;
};

/* Time physical_run() spends on full computations per round (see there). */
#define FULL_BUDGET_MS 100

struct physical *
physical_create(struct of_server *ofs)
{
    struct physical *p = xzalloc(sizeof *p);
    p->ofs = ofs;
    p->ctx = flows_ctx_create();
    p->work = flows_work_create();
    hmap_init(&p->hosts);
    ovs_list_init(&p->full_check);
    ovs_list_init(&p->dirty_hosts);
    ovs_list_init(&p->rounds);
    double buckets[] = { METRICS_LATENCY_BUCKETS };
    metrics_histogram_define("tether_flow_round_seconds",
                             "From a change to every affected switch's "
                             "barrier reply", buckets, ARRAY_SIZE(buckets));
    return p;
}

void
physical_destroy(struct physical *p)
{
    if (!p) {
        return;
    }
    /* Rounds still in flight complete without us. */
    struct physical_round *r;
    LIST_FOR_EACH_POP (r, node, &p->rounds) {
        r->p = NULL;
    }
    struct physical_host *h;
    HMAP_FOR_EACH_POP (h, node, &p->hosts) {
        free(h->id);
        free(h->tunnel_ip);
        free(h);
    }
    hmap_destroy(&p->hosts);
    flows_work_destroy(p->work);
    flows_ctx_destroy(p->ctx);
    free(p);
}

static struct physical_host *
physical_find_host(const struct physical *p, const char *id)
{
    struct physical_host *h;
    HMAP_FOR_EACH_WITH_HASH (h, node, hash_string(id, 0), &p->hosts) {
        if (!strcmp(h->id, id)) {
            return h;
        }
    }
    return NULL;
}

static bool
host_ready(const struct physical_host *h)
{
    return h->sw && h->tunnel_ofport > 0;
}

static void
physical_mark_dirty__(struct physical *p, struct physical_host *h)
{
    if (!h->dirty) {
        h->dirty = true;
        ovs_list_push_back(&p->dirty_hosts, &h->dirty_node);
    }
}

/* 'h' became full_pending, or what host_ready() looks at changed. */
static void
physical_check_full__(struct physical *p, struct physical_host *h)
{
    if (!h->in_full_check) {
        h->in_full_check = true;
        ovs_list_push_back(&p->full_check, &h->full_node);
    }
}

static void
physical_changed__(struct physical *p)
{
    if (!p->pending_since) {
        p->pending_since = time_msec();
    }
    poll_immediate_wake();
}

void
physical_set_host(struct physical *p, const char *id, const char *tunnel_ip,
                  uint64_t dpid, int32_t tunnel_ofport,
                  int32_t relay_ofport)
{
    struct physical_host *h = physical_find_host(p, id);
    if (!h) {
        h = xzalloc(sizeof *h);
        h->id = xstrdup(id);
        h->tunnel_ofport = -1;
        hmap_insert(&p->hosts, &h->node, hash_string(id, 0));
    }

    if (tunnel_ip && (!h->tunnel_ip || strcmp(h->tunnel_ip, tunnel_ip))) {
        free(h->tunnel_ip);
        h->tunnel_ip = xstrdup(tunnel_ip);
        flows_ctx_set_host(p->ctx, id, tunnel_ip, p->work);
        physical_changed__(p);
    }
    if (relay_ofport >= 0
        && relay_ofport != flows_ctx_host_relay(p->ctx, id)) {
        flows_ctx_set_host_relay(p->ctx, id, relay_ofport, p->work);
        physical_changed__(p);
    }
    if (dpid && dpid != h->dpid) {
        h->dpid = dpid;
        h->sw = of_server_get_switch(p->ofs, dpid);
        h->full_pending = true;
        physical_check_full__(p, h);
        physical_changed__(p);
    }
    if (tunnel_ofport != h->tunnel_ofport) {
        h->tunnel_ofport = tunnel_ofport;
        h->full_pending = true;
        physical_check_full__(p, h);
        physical_changed__(p);
    }
}

/* Sends the warm-up frame from 'from' to 'to' in 'vni'. */
static void
physical_warm__(const struct physical_host *from,
                const struct physical_host *to, uint32_t vni)
{
    /* To the zero MAC, which no ENI has: the receiver's table 45 drops
     * it; a local experimental EtherType. */
    static const uint8_t frame[60] = { [12] = 0x88, [13] = 0xb5 };
    uint64_t stub[1024 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    enum ofputil_protocol usable;
    struct ofpact_parse_params pp = {
        .ofpacts = &ofpacts,
        .usable_protocols = &usable,
    };
    char *actions = xasprintf("set_field:%#"PRIx32"->tun_id,"
                              "set_field:%s->%s,output:%"PRId32, vni,
                              to->tunnel_ip,
                              strchr(to->tunnel_ip, ':') ? "tun_ipv6_dst"
                                                         : "tun_dst",
                              from->tunnel_ofport);
    char *error = ofpacts_parse_actions(actions, &pp);
    if (error) {
        VLOG_WARN_RL(&rl, "tunnel warm-up %s: %s", actions, error);
        free(error);
    } else {
        of_switch_packet_out(from->sw, frame, sizeof frame, OFPP_CONTROLLER,
                             ofpacts.data, ofpacts.size);
    }
    free(actions);
    ofpbuf_uninit(&ofpacts);
}

/* Sends the sacrificial frame to 'mac' on 'ofport' of 'd' (see
 * physical.h). */
static void
physical_prime_vif__(const struct physical_host *d, const char *mac,
                     int32_t ofport)
{
    uint8_t frame[60] = { [12] = 0x88, [13] = 0xb5 };
    struct eth_addr ea;
    if (!eth_addr_from_string(mac, &ea)) {
        return;
    }
    memcpy(frame, ea.ea, ETH_ADDR_LEN);
    uint64_t stub[64 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    ofpact_put_OUTPUT(&ofpacts)->port = u16_to_ofp(ofport);
    of_switch_packet_out(d->sw, frame, sizeof frame, OFPP_CONTROLLER,
                         ofpacts.data, ofpacts.size);
    ofpbuf_uninit(&ofpacts);
}

void
physical_warm_tunnels(struct physical *p, const char *dest, uint32_t vni,
                      const char *mac, int32_t dest_ofport)
{
    const struct physical_host *d = physical_find_host(p, dest);
    if (!d || !host_ready(d) || !d->tunnel_ip
        || !of_switch_is_connected(d->sw)) {
        return;
    }
    const struct physical_host *h;
    size_t n = 0;
    HMAP_FOR_EACH (h, node, &p->hosts) {
        if (h == d || !host_ready(h) || !h->tunnel_ip
            || !of_switch_is_connected(h->sw)
            || !flows_ctx_host_in_vni(p->ctx, h->id, vni)) {
            continue;
        }
        if (++n > WARM_MAX_HOSTS) {
            break;
        }
        physical_warm__(d, h, vni);
        physical_warm__(h, d, vni);
    }
    if (mac && dest_ofport > 0 && dest_ofport < OFPP_MAX) {
        physical_prime_vif__(d, mac, dest_ofport);
    }
}

void
physical_set_relay(struct physical *p, bool enabled)
{
    flows_ctx_set_relay(p->ctx, enabled);
}

void
physical_set_eni(struct physical *p, const struct eni *eni)
{
    flows_ctx_set_eni(p->ctx, eni, p->work);
    physical_changed__(p);
}

void
physical_remove_eni(struct physical *p, uint64_t key)
{
    flows_ctx_remove_eni(p->ctx, key, p->work);
    physical_changed__(p);
}

void
physical_set_sg(struct physical *p, const struct security_group *sg)
{
    flows_ctx_set_sg(p->ctx, sg, p->work);
    physical_changed__(p);
}

void
physical_remove_sg(struct physical *p, const char *id)
{
    flows_ctx_remove_sg(p->ctx, id, p->work);
    physical_changed__(p);
}

/* 'h' misses the round being gathered (its bridge is away or not yet
 * reconciled). */
static void
physical_skip__(struct physical *p, struct physical_host *h)
{
    /* The earliest round it missed: its reconciliation covers them all. */
    if (!h->skipped_round) {
        p->n_skipped++;
        h->skipped_at = time_msec();
        h->skipped_round = p->round_seq + 1;
    }
    p->want_round = true;
}

static struct flow_table *
table_for(const char *host, struct flows_host *fh, void *p_)
{
    struct physical *p = p_;
    struct physical_host *h = physical_find_host(p, host);

    if (!h) {
        return NULL;
    }
    if (!host_ready(h) || h->full_pending) {
        /* Its full computation covers this, once its bridge is back; until
         * then it keeps older flows, which the round must wait for. */
        physical_skip__(p, h);
        return NULL;
    }
    fh->id = h->id;
    fh->tunnel_ofport = h->tunnel_ofport;
    return of_switch_desired(h->sw);
}

static void
table_changed(const char *host, void *p_)
{
    struct physical *p = p_;
    struct physical_host *h = physical_find_host(p, host);
    if (h) {
        physical_mark_dirty__(p, h);
    }
}

static void
commit_cb(struct of_switch *sw, int error, void *round_)
{
    struct physical_round *r = round_;
    struct physical *p = r->p;

    metrics_counter_add("tether_flow_commits_total",
                        "Bundles committed to bridges (per bridge, per round)",
                        NULL, sw ? 1 : 0);
    if (error) {
        r->n_errors++;
        metrics_counter_add("tether_flow_commit_errors_total",
                            "Bundles a bridge rejected or never got", NULL, 1);
        if (p) {
            p->stats.commit_errors++;
            const char *host = physical_host_of_switch(p, sw);
            VLOG_WARN_RL(&rl, "host %s (dpid %016"PRIx64"): flows not "
                         "applied: %s", host ? host : "?", of_switch_dpid(sw),
                         error == ENOTCONN ? "switch not connected"
                         : ofperr_to_string(error));
        }
    }
    if (--r->outstanding) {
        return;
    }
    if (p) {
        double ms = time_msec() - r->start;
        p->rounds_in_flight--;
        p->stats.last_round_ms = ms;
        p->stats.last_round_hosts = r->n_hosts;
        if (ms > p->stats.max_round_ms) {
            p->stats.max_round_ms = ms;
        }
        metrics_histogram_observe("tether_flow_round_seconds", NULL, NULL,
                                  ms / 1000.0);
        if (r->tags & PHYSICAL_TAG_SWITCHOVER) {
            p->switchover_ms[p->stats.switchovers++ % SWITCHOVER_SAMPLES]
                = ms;
            p->stats.last_switchover_ms = ms;
            metrics_histogram_observe("tether_switchover_seconds",
                                      "A source's pause to flows confirmed "
                                      "on every affected switch", NULL,
                                      ms / 1000.0);
        }
        VLOG_DBG("flows confirmed on %u host(s) in %.0f ms%s", r->n_hosts,
                 ms, r->n_errors ? " (with errors)" : "");
        ovs_list_remove(&r->node);
    }
    free(r);
}

void
physical_set_ready(struct physical *p)
{
    p->ready = true;
    poll_immediate_wake();
}

void
physical_run(struct physical *p)
{
    struct physical_host *h;

    if (!p->ready) {
        return;
    }

    /* Hosts whose bridge just became known get their whole table.  A host
     * not ready yet leaves the list: physical_set_host() puts it back when
     * what it waits for arrives.
     *
     * At most FULL_BUDGET_MS of them per round: after a restart 1,000
     * bridges connect at once, and computing all their tables in one round
     * (~50 s at 5,200 flows each) would starve everything else in the loop
     * -- agents' heartbeats among them, whose sessions would then time
     * out.  The rest wait for the next round (physical_wait() wakes at
     * once while the list is not empty). */
    long long int deadline = time_msec() + FULL_BUDGET_MS;
    while (!ovs_list_is_empty(&p->full_check) && time_msec() < deadline) {
        h = CONTAINER_OF(ovs_list_pop_front(&p->full_check),
                         struct physical_host, full_node);
        h->in_full_check = false;
        if (h->full_pending && host_ready(h)) {
            struct flows_host fh = {
                .id = h->id,
                .tunnel_ofport = h->tunnel_ofport,
            };
            struct flow_table *desired = of_switch_desired(h->sw);
            flow_table_clear(desired);
            flows_host_full(desired, &fh, p->ctx);
            h->full_pending = false;
            physical_mark_dirty__(p, h);
            of_switch_set_held(h->sw, false);
            VLOG_INFO("host %s: %zu flows computed for bridge %016"PRIx64,
                      h->id, flow_table_n_flows(desired), h->dpid);
        }
    }

    if (flows_work_count(p->work)) {
        flows_work_apply(p->work, p->ctx, table_for, table_changed, p);
        flows_work_clear(p->work);
    }

    /* Commit every host whose desired table changed, as one round. */
    struct physical_host **dirty = NULL;
    size_t n_dirty = 0, allocated = 0;
    bool skipped = false;
    LIST_FOR_EACH_POP (h, dirty_node, &p->dirty_hosts) {
        h->dirty = false;
        if (!of_switch_is_connected(h->sw)) {
            /* Its connection reconciles desired against what it has. */
            physical_skip__(p, h);
            skipped = true;
            continue;
        }
        if (n_dirty >= allocated) {
            dirty = x2nrealloc(dirty, &allocated, sizeof *dirty);
        }
        dirty[n_dirty++] = h;
    }
    if (n_dirty) {
        struct physical_round *r = xzalloc(sizeof *r);
        r->p = p;
        r->start = p->pending_since ? p->pending_since : time_msec();
        r->n_hosts = n_dirty;
        r->tags = p->pending_tags;
        r->seq = ++p->round_seq;
        /* One extra reference until every commit is issued: a commit to a
         * disconnected switch calls back at once. */
        r->outstanding = n_dirty + 1;
        ovs_list_push_back(&p->rounds, &r->node);
        p->rounds_in_flight++;
        p->stats.rounds++;
        for (size_t i = 0; i < n_dirty; i++) {
            p->stats.commits++;
            of_switch_commit(dirty[i]->sw, commit_cb, r);
        }
        commit_cb(NULL, 0, r);
    } else if (p->want_round || skipped) {
        /* Nothing to send: the round that was waited for is empty, and
         * confirmed as soon as the rounds before it are. */
        p->round_seq++;
    }
    p->want_round = false;
    free(dirty);
    p->pending_since = 0;
    p->pending_tags = 0;
}

uint64_t
physical_next_round(struct physical *p)
{
    p->want_round = true;
    return p->round_seq + 1;
}

uint64_t
physical_confirmed_round(struct physical *p)
{
    uint64_t confirmed = p->round_seq;
    if (!ovs_list_is_empty(&p->rounds)) {
        const struct physical_round *oldest
            = CONTAINER_OF(ovs_list_front(&p->rounds), struct physical_round,
                           node);
        confirmed = oldest->seq - 1;
    }

    /* Bridges that missed a round while disconnected. */
    if (p->n_skipped) {
        long long int now = time_msec();
        struct physical_host *h;
        HMAP_FOR_EACH (h, node, &p->hosts) {
            if (!h->skipped_round) {
                continue;
            }
            if ((host_ready(h) && of_switch_is_connected(h->sw)
                 && !h->full_pending && of_switch_is_idle(h->sw))
                || now - h->skipped_at >= SKIPPED_WAIT_MS) {
                h->skipped_round = 0;
                p->n_skipped--;
            } else if (h->skipped_round - 1 < confirmed) {
                confirmed = h->skipped_round - 1;
            }
        }
    }
    return confirmed;
}

void
physical_tag_round(struct physical *p, enum physical_tag tag)
{
    p->pending_tags |= tag;
}

static int
compare_doubles(const void *a_, const void *b_)
{
    const double *a = a_, *b = b_;
    return *a < *b ? -1 : *a > *b;
}

void
physical_wait(struct physical *p)
{
    if (!p->ready) {
        return;
    }
    if (flows_work_count(p->work) || !ovs_list_is_empty(&p->full_check)
        || !ovs_list_is_empty(&p->dirty_hosts)) {
        poll_immediate_wake();
    }
}

const char *
physical_host_of_switch(const struct physical *p, const struct of_switch *sw)
{
    struct physical_host *h;
    HMAP_FOR_EACH (h, node, &p->hosts) {
        if (h->sw == sw) {
            return h->id;
        }
    }
    return NULL;
}

bool
physical_is_idle(const struct physical *p)
{
    if (flows_work_count(p->work) || p->rounds_in_flight) {
        return false;
    }

    /* A bridge that connected is reconciled outside of any round (its
     * full computation, then a bundle of the difference): until that is
     * confirmed its flows are not what the inputs say, and "idle" would
     * let a caller count or test them half installed. */
    const struct physical_host *h;
    HMAP_FOR_EACH (h, node, &p->hosts) {
        if (host_ready(h) && of_switch_is_connected(h->sw)
            && (h->full_pending || !of_switch_is_idle(h->sw))) {
            return false;
        }
    }
    return true;
}

void
physical_get_stats(const struct physical *p, struct physical_stats *s)
{
    *s = p->stats;
    size_t n = MIN(p->stats.switchovers, SWITCHOVER_SAMPLES);
    if (n) {
        double *sorted = xmemdup(p->switchover_ms, n * sizeof *sorted);
        qsort(sorted, n, sizeof *sorted, compare_doubles);
        s->switchover_ms_p50 = sorted[(n - 1) / 2];
        s->switchover_ms_p99 = sorted[(n - 1) * 99 / 100];
        free(sorted);
    }
}

void
physical_count_mods(const struct physical *p, unsigned long long n_ops[],
                    size_t n)
{
    const struct physical_host *h;

    memset(n_ops, 0, n * sizeof *n_ops);
    HMAP_FOR_EACH (h, node, &p->hosts) {
        if (h->sw) {
            struct of_switch_stats st;
            of_switch_get_stats(h->sw, &st);
            for (size_t i = 0; i < n && i < FT_N_OP_TYPES; i++) {
                n_ops[i] += st.n_ops[i];
            }
        }
    }
}
