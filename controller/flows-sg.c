/* The security group flows of one ENI's VIF on one host (tables 31 and 51,
 * cookie FLOWS_CLASS_SG/eni->key): one flow per rule, per remote address and
 * per port range prefix, allowing a new connection and committing it to
 * conntrack in the VIF's zone.  See flows.h for the pipeline and the
 * default group. */
#include <config.h>

#include "controller/flows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/eni.h"
#include "controller/flows-private.h"
#include "openvswitch/dynamic-string.h"
#include "ovs-glue/flow-table.h"
#include "util.h"

/* One direction's registers and tables. */
struct sg_dir {
    int table;                  /* FLOWS_T_EGRESS_SG or FLOWS_T_INGRESS_SG */
    int next;                   /* where allowed packets go */
    const char *reg;            /* "reg6" / "reg7": the VIF and zone */
    const char *zone;           /* the same as an NXM field */
};

static const struct sg_dir egress = {
    FLOWS_T_EGRESS_SG, FLOWS_T_L2_LOCAL, "reg6", "NXM_NX_REG6[0..15]"
};
static const struct sg_dir ingress = {
    FLOWS_T_INGRESS_SG, FLOWS_T_OUTPUT, "reg7", "NXM_NX_REG7[0..15]"
};

/* The match on protocol of 'r' ("tcp", "udp6", "ip,nw_proto=47") and the
 * name of its destination port field, or NULL if it has no ports. */
static const char *
rule_proto__(const struct sg_rule *r, char *buf, size_t size,
             const char **port_field)
{
    bool v6 = r->ethertype == SG_IPV6;

    *port_field = NULL;
    switch (r->protocol) {
    case 0:
        return v6 ? "ipv6" : "ip";
    case 6:
        *port_field = "tcp_dst";
        return v6 ? "tcp6" : "tcp";
    case 17:
        *port_field = "udp_dst";
        return v6 ? "udp6" : "udp";
    case 132:
        *port_field = "sctp_dst";
        return v6 ? "sctp6" : "sctp";
    case 1:
        if (!v6) {
            return "icmp";
        }
        break;
    case 58:
        if (v6) {
            return "icmp6";
        }
        break;
    }
    snprintf(buf, size, "%s,nw_proto=%u", v6 ? "ipv6" : "ip", r->protocol);
    return buf;
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
    const char *proto;
    const char *port_field;
    uint16_t values[32], masks[32];
    size_t n_ports;             /* 0: any port */
    bool v6;
};

/* Adds the flows of one rule for one remote match ('remote' is "" or
 * ",nw_src=10.0.0.0/8"). */
static void
rule_add__(const struct rule_ctx *rc, const char *remote)
{
    size_t n = rc->n_ports ? rc->n_ports : 1;

    for (size_t i = 0; i < n; i++) {
        char ports[64] = "";
        if (rc->n_ports) {
            snprintf(ports, sizeof ports, ",%s=%#x/%#x", rc->port_field,
                     rc->values[i], rc->masks[i]);
        }
        flows_addf(rc->ft, rc->cookie, "table=%d,priority=100,"
                   "ct_state=+new+trk,%s=%"PRId32",%s%s%s,"
                   "actions=ct(commit,zone=%s),resubmit(,%d)",
                   rc->dir->table, rc->dir->reg, rc->port, rc->proto, remote,
                   ports, rc->dir->zone, rc->dir->next);
    }
}

/* Adds the flows of 'r' for the VIF 'port' of 'e'. */
static void
rule_flows__(struct flow_table *ft, uint64_t cookie, const struct eni *e,
             int32_t port, const struct sg_rule *r,
             const struct flows_ctx *ctx)
{
    struct rule_ctx rc;
    char protobuf[32];

    rc.ft = ft;
    rc.cookie = cookie;
    rc.dir = r->direction == SG_EGRESS ? &egress : &ingress;
    rc.port = port;
    rc.v6 = r->ethertype == SG_IPV6;
    rc.proto = rule_proto__(r, protobuf, sizeof protobuf, &rc.port_field);
    rc.n_ports = 0;
    if (rc.port_field && (r->port_min || r->port_max)
        && !(r->port_min == 0 && r->port_max == 65535)) {
        uint16_t max = r->port_max < r->port_min ? r->port_min : r->port_max;
        rc.n_ports = port_prefixes__(r->port_min, max, rc.values, rc.masks);
    }

    /* The remote end is the destination of egress, the source of ingress. */
    const char *field = (r->direction == SG_EGRESS
                         ? (rc.v6 ? "ipv6_dst" : "nw_dst")
                         : (rc.v6 ? "ipv6_src" : "nw_src"));
    char remote[128];

    if (r->remote_cidr) {
        const char *slash = strchr(r->remote_cidr, '/');
        if (slash && atoi(slash + 1) == 0) {
            rule_add__(&rc, "");
        } else {
            snprintf(remote, sizeof remote, ",%s=%s", field, r->remote_cidr);
            rule_add__(&rc, remote);
        }
        return;
    }
    if (!r->remote_group) {
        rule_add__(&rc, "");
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
                snprintf(remote, sizeof remote, ",%s=%s", field,
                         me->ipv6s[i]);
                rule_add__(&rc, remote);
            }
            continue;
        }
        if (me->primary_ipv4) {
            snprintf(remote, sizeof remote, ",%s=%s", field,
                     me->primary_ipv4);
            rule_add__(&rc, remote);
        }
        for (size_t i = 0; i < me->n_secondary_ipv4s; i++) {
            snprintf(remote, sizeof remote, ",%s=%s", field,
                     me->secondary_ipv4s[i]);
            rule_add__(&rc, remote);
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
