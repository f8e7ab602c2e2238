/* The security group flows of one ENI's VIF on one host (tables 31 and 51,
 * cookie FLOWS_CLASS_SG/eni->key): one flow per rule, per remote address and
 * per port range prefix, allowing a new connection and committing it to
 * conntrack in the VIF's zone.  See flows.h for the pipeline and the
 * default group. */
#include <config.h>

#include "controller/flows.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "controller/eni.h"
#include "controller/flows-private.h"
#include "ovs-glue/flow-build.h"
#include "ovs-glue/flow-table.h"
#include "packets.h"
#include "util.h"

/* One direction's registers and tables. */
struct sg_dir {
    int table;                  /* FLOWS_T_EGRESS_SG or FLOWS_T_INGRESS_SG */
    int next;                   /* where allowed packets go */
    enum mf_field_id reg;       /* reg6 / reg7: the VIF and zone */
};

static const struct sg_dir egress = {
    FLOWS_T_EGRESS_SG, FLOWS_T_L2_LOCAL, MFF_REG6
};
static const struct sg_dir ingress = {
    FLOWS_T_INGRESS_SG, FLOWS_T_OUTPUT, MFF_REG7
};

/* The field of the destination port of 'r''s protocol (tcp_dst, udp_dst,
 * sctp_dst), or MFF_N_IDS if it has no ports.  The protocol match itself
 * is ovs-ofctl's "ip"/"ipv6" with 'r->protocol' as nw_proto ("tcp" is
 * "ip,nw_proto=6"; 0 leaves it wild). */
static enum mf_field_id
rule_port_field__(const struct sg_rule *r)
{
    switch (r->protocol) {
    case 6:
        return MFF_TCP_DST;
    case 17:
        return MFF_UDP_DST;
    case 132:
        return MFF_SCTP_DST;
    default:
        return MFF_N_IDS;
    }
}

/* Stores in 'values'/'masks' the value/mask prefixes that together cover
 * [min, max] (at most 32) and returns how many. */
static size_t
port_prefixes__(uint16_t min, uint16_t max, uint16_t values[],
                uint16_t masks[])
{
    size_t n = 0;
    uint32_t lo = min;

    while (lo <= max) {
        uint32_t size = lo ? (lo & -lo) : 0x10000;
        while (lo + size - 1 > max) {
            size >>= 1;
        }
        values[n] = lo;
        masks[n] = ~(size - 1) & 0xffff;
        n++;
        lo += size;
    }
    return n;
}

struct rule_ctx {
    struct flow_table *ft;
    uint64_t cookie;
    const struct sg_dir *dir;
    int32_t port;
    uint8_t protocol;           /* nw_proto, 0 for any */
    enum mf_field_id port_field;
    uint16_t values[32], masks[32];
    size_t n_ports;             /* 0: any port */
    bool v6;
    enum mf_field_id remote_field;  /* the remote end's address */
};

/* Adds the flows of one rule for one remote address ('remote' is NULL for
 * any, or "10.0.0.0/8"): "table=T,priority=100,ct_state=+new+trk,
 * REG=PORT,<protocol>[,REMOTE_FIELD=REMOTE][,PORT_FIELD=VALUE/MASK],
 * actions=ct(commit,zone=REG[0..15]),resubmit(,NEXT)". */
static void
rule_add__(const struct rule_ctx *rc, const char *remote)
{
    size_t n = rc->n_ports ? rc->n_ports : 1;

    for (size_t i = 0; i < n; i++) {
        struct flow_build fb;

        flow_build_init(&fb, rc->dir->table, 100);
        fb_match_int_masked(&fb, MFF_CT_STATE, CS_NEW | CS_TRACKED,
                            CS_NEW | CS_TRACKED);
        fb_match_int(&fb, rc->dir->reg, rc->port);
        fb_match_proto(&fb, rc->v6 ? ETH_TYPE_IPV6 : ETH_TYPE_IP,
                       rc->protocol);
        if (remote) {
            fb_match_ip(&fb, rc->remote_field, remote);
        }
        if (rc->n_ports) {
            fb_match_int_masked(&fb, rc->port_field, rc->values[i],
                                rc->masks[i]);
        }
        fb_ct(&fb, true, -1, rc->dir->reg);
        fb_resubmit(&fb, rc->dir->next);
        flows_add_built(rc->ft, rc->cookie, &fb);
    }
}

/* Adds the flows of 'r' for the VIF 'port' of 'e'. */
static void
rule_flows__(struct flow_table *ft, uint64_t cookie, const struct eni *e,
             int32_t port, const struct sg_rule *r,
             const struct flows_ctx *ctx)
{
    struct rule_ctx rc;

    rc.ft = ft;
    rc.cookie = cookie;
    rc.dir = r->direction == SG_EGRESS ? &egress : &ingress;
    rc.port = port;
    rc.v6 = r->ethertype == SG_IPV6;
    rc.protocol = r->protocol;
    rc.port_field = rule_port_field__(r);
    rc.n_ports = 0;
    if (rc.port_field != MFF_N_IDS && (r->port_min || r->port_max)
        && !(r->port_min == 0 && r->port_max == 65535)) {
        uint16_t max = r->port_max < r->port_min ? r->port_min : r->port_max;
        rc.n_ports = port_prefixes__(r->port_min, max, rc.values, rc.masks);
    }

    /* The remote end is the destination of egress, the source of ingress. */
    rc.remote_field = (r->direction == SG_EGRESS
                       ? (rc.v6 ? MFF_IPV6_DST : MFF_IPV4_DST)
                       : (rc.v6 ? MFF_IPV6_SRC : MFF_IPV4_SRC));

    if (r->remote_cidr) {
        const char *slash = strchr(r->remote_cidr, '/');
        rule_add__(&rc, slash && atoi(slash + 1) == 0 ? NULL
                   : r->remote_cidr);
        return;
    }
    if (!r->remote_group) {
        rule_add__(&rc, NULL);
        return;
    }

    /* remote_group: the addresses of its members in the same VNI (indexed
     * by VNI: the default group spans every VNI). */
    const struct hmap *members = fc_sg_members(fc_sg_find(ctx,
                                                          r->remote_group),
                                               e->vni);
    const struct fc_ref *m;
    if (!members) {
        return;
    }
    HMAP_FOR_EACH (m, node, members) {
        const struct eni *me = m->eni;
        if (rc.v6) {
            for (size_t i = 0; i < me->n_ipv6s; i++) {
                rule_add__(&rc, me->ipv6s[i]);
            }
            continue;
        }
        if (me->primary_ipv4) {
            rule_add__(&rc, me->primary_ipv4);
        }
        for (size_t i = 0; i < me->n_secondary_ipv4s; i++) {
            rule_add__(&rc, me->secondary_ipv4s[i]);
        }
    }
}

void
flows_add_eni_sg(struct flow_table *ft, const struct flows_host *host,
                 const struct eni *e, const struct flows_ctx *ctx)
{
    uint64_t cookie = FT_COOKIE(FLOWS_CLASS_SG, e->key);
    int32_t port = flows_eni_local_port(e, host->id);

    if (port <= 0) {
        return;
    }
    if (!e->n_security_groups) {
        /* The VNI's default group: all egress, ingress from its members. */
        static const struct sg_rule defaults[] = {
            { .direction = SG_EGRESS, .ethertype = SG_IPV4 },
            { .direction = SG_EGRESS, .ethertype = SG_IPV6 },
            { .direction = SG_INGRESS, .ethertype = SG_IPV4,
              .remote_group = (char *) FLOWS_DEFAULT_SG },
            { .direction = SG_INGRESS, .ethertype = SG_IPV6,
              .remote_group = (char *) FLOWS_DEFAULT_SG },
        };
        for (size_t i = 0; i < ARRAY_SIZE(defaults); i++) {
            rule_flows__(ft, cookie, e, port, &defaults[i], ctx);
        }
        return;
    }
    for (size_t i = 0; i < e->n_security_groups; i++) {
        const struct fc_sg *g = fc_sg_find(ctx, e->security_groups[i]);
        if (!g || !g->sg) {
            continue;           /* unknown group: allows nothing */
        }
        for (size_t j = 0; j < g->sg->n_rules; j++) {
            rule_flows__(ft, cookie, e, port, &g->sg->rules[j], ctx);
        }
    }
}
