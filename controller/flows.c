/* The flows of one host's br-int: the fixed pipeline, the per-VNI tunnel
 * and flood flows, and the per-ENI classification, port security, ARP/ND
 * responder and forwarding flows (pipeline and cookies: see flows.h;
 * security groups: flows-sg.c). */
#include <config.h>

#include "controller/flows.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/eni.h"
#include "controller/flows-private.h"
#include "coverage.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "ovs-glue/flow-table.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(flows);

COVERAGE_DEFINE(flows_add);

static unsigned int flows_errors;

unsigned int
flows_n_errors(void)
{
    return flows_errors;
}

void
flows_add__(struct flow_table *ft, uint64_t cookie, const char *s)
{
    char *error = flow_table_add_flow_str(ft, cookie, s);

    COVERAGE_INC(flows_add);
    if (error) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
        VLOG_WARN_RL(&rl, "cookie %#"PRIx64": %s", cookie, error);
        flows_errors++;
        free(error);
    }
}

void
flows_addf(struct flow_table *ft, uint64_t cookie, const char *fmt, ...)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    va_list args;

    va_start(args, fmt);
    ds_put_format_valist(&s, fmt, args);
    va_end(args);
    flows_add__(ft, cookie, ds_cstr(&s));
    ds_destroy(&s);
}

/* --- The fixed pipeline --------------------------------------------------- */

/* Conntrack dispatch and verdict tables for one direction: 'ct_table' sends
 * IP (but not ND, RS/RA, MLD) through ct() in the zone in 'reg', and
 * 'sg_table' passes replies to 'next' and drops invalid packets. */
static void
flows_ct_stage__(struct flow_table *ft, uint64_t c, int ct_table,
                 int sg_table, int next, const char *reg)
{
    static const int skip_icmp6[] = { 130, 131, 132, 133, 134, 135, 136,
                                      143 };
    for (size_t i = 0; i < ARRAY_SIZE(skip_icmp6); i++) {
        flows_addf(ft, c, "table=%d,priority=110,icmp6,icmp_type=%d,"
                   "actions=resubmit(,%d)", ct_table, skip_icmp6[i], next);
    }
    flows_addf(ft, c, "table=%d,priority=100,ip,actions=ct(table=%d,"
               "zone=%s[0..15])", ct_table, sg_table, reg);
    flows_addf(ft, c, "table=%d,priority=100,ipv6,actions=ct(table=%d,"
               "zone=%s[0..15])", ct_table, sg_table, reg);
    flows_addf(ft, c, "table=%d,priority=0,actions=resubmit(,%d)",
               ct_table, next);

    flows_addf(ft, c, "table=%d,priority=65535,ct_state=+inv+trk,"
               "actions=drop", sg_table);
    flows_addf(ft, c, "table=%d,priority=65534,ct_state=-new+est+trk,"
               "actions=resubmit(,%d)", sg_table, next);
    flows_addf(ft, c, "table=%d,priority=65534,ct_state=-new+rel+trk,"
               "actions=resubmit(,%d)", sg_table, next);
    flows_addf(ft, c, "table=%d,priority=0,actions=drop", sg_table);
}

void
flows_host_base(struct flow_table *ft, const struct flows_host *host)
{
    uint64_t c = FT_COOKIE(FLOWS_CLASS_HOST, 0);

    (void) host;
    flows_addf(ft, c, "table=%d,priority=0,actions=drop", FLOWS_T_CLASSIFY);
    flows_addf(ft, c, "table=%d,priority=0,actions=drop", FLOWS_T_PORT_SEC);
    flows_addf(ft, c, "table=%d,priority=0,actions=drop",
               FLOWS_T_PORT_SEC_ND);

    /* ARP and NS nobody answers go nowhere (no flood in the overlay). */
    flows_addf(ft, c, "table=%d,priority=50,arp,arp_op=1,actions=drop",
               FLOWS_T_ARP_ND);
    flows_addf(ft, c, "table=%d,priority=40,arp,dl_dst=ff:ff:ff:ff:ff:ff,"
               "actions=drop", FLOWS_T_ARP_ND);
    flows_addf(ft, c, "table=%d,priority=50,icmp6,icmp_type=135,"
               "actions=drop", FLOWS_T_ARP_ND);
    flows_addf(ft, c, "table=%d,priority=0,actions=resubmit(,%d)",
               FLOWS_T_ARP_ND, FLOWS_T_EGRESS_CT);

    flows_ct_stage__(ft, c, FLOWS_T_EGRESS_CT, FLOWS_T_EGRESS_SG,
                     FLOWS_T_L2_LOCAL, "NXM_NX_REG6");
    flows_addf(ft, c, "table=%d,priority=0,actions=drop", FLOWS_T_L2_LOCAL);
    flows_addf(ft, c, "table=%d,priority=0,actions=drop", FLOWS_T_L2_TUNNEL);
    flows_ct_stage__(ft, c, FLOWS_T_INGRESS_CT, FLOWS_T_INGRESS_SG,
                     FLOWS_T_OUTPUT, "NXM_NX_REG7");
    flows_addf(ft, c, "table=%d,priority=0,actions=output:NXM_NX_REG7[0..15]",
               FLOWS_T_OUTPUT);
}

/* --- Where an ENI's traffic goes ------------------------------------------ */

struct flows_target {
    const char *host;
    int32_t ofport;
};

/* The ofport of the relay port on 'e''s source host if 'e' migrates
 * through it (flows.h), 0 if it does not, -1 if the source host has not
 * said whether it has a relay port (after a restart of tetherd). */
static int32_t
eni_relay_state__(const struct eni *e, const struct flows_ctx *ctx)
{
    if (!flows_ctx_relay_enabled(ctx)
        || e->state != ENI_MIGRATING || !e->host || !e->dest_host
        || !strcmp(e->host, e->dest_host)
        || e->ofport < 1 || e->ofport > FLOWS_RELAY_MAX_OFPORT) {
        return 0;
    }
    switch (e->phase) {
    case ENI_MIG_PREPARED:
    case ENI_MIG_SWITCHOVER:
    case ENI_MIG_ACTIVATED:
        return flows_ctx_host_relay(ctx, e->host);
    case ENI_MIG_NONE:
    default:
        return 0;
    }
}

static int32_t
eni_relay_port__(const struct eni *e, const struct flows_ctx *ctx)
{
    int32_t relay = eni_relay_state__(e, ctx);
    return relay > 0 ? relay : 0;
}

/* Stores in 't' the VIFs that traffic to 'e' from anywhere but the tunnel
 * is delivered to, by migration phase (flows.h); returns how many. */
static size_t
eni_targets__(const struct eni *e, const struct flows_ctx *ctx,
              struct flows_target t[2])
{
    struct flows_target src = { e->host, e->ofport };
    struct flows_target dst = { e->dest_host, e->dest_ofport };

    if (!eni_is_wired(e) || !e->host) {
        return 0;
    }
    if (e->state != ENI_MIGRATING || !e->dest_host) {
        t[0] = src;
        return 1;
    }
    switch (e->phase) {
    case ENI_MIG_SWITCHOVER:
        t[0] = src;
        if (eni_relay_state__(e, ctx)) {
            /* The source relays (flows.h); while it has not said whether
             * it can (tetherd restarted), both would risk duplicates. */
            return 1;
        }
        t[1] = dst;
        return 2;
    case ENI_MIG_ACTIVATED:
        t[0] = dst;
        return 1;
    case ENI_MIG_NONE:
    case ENI_MIG_PREPARED:
    default:
        t[0] = src;
        return 1;
    }
}

/* Appends to 's' the actions that send a packet of 'vni' to 'host' through
 * the tunnel, or nothing if its IP is not known. */
static void
put_tunnel_output__(struct ds *s, const struct flows_host *self,
                    const struct flows_ctx *ctx, const char *host,
                    uint32_t vni)
{
    const char *ip = flows_ctx_host_ip(ctx, host);

    if (ip && self->tunnel_ofport > 0) {
        ds_put_format(s, "set_field:%#"PRIx32"->tun_id,set_field:%s->%s,"
                      "output:%"PRId32",", vni, ip,
                      strchr(ip, ':') ? "tun_ipv6_dst" : "tun_dst",
                      self->tunnel_ofport);
    }
}

/* Appends to 's' what the source host of 'e', migrating through its relay,
 * does with a frame it delivers to the source VIF besides delivering it
 * (flows.h): before the pause, a copy to the relay port; from the pause on,
 * a copy straight to the destination ('from_tunnel': the frame came in
 * through the tunnel port, which it may only leave by with in_port
 * cleared). */
static void
put_source_copy__(struct ds *s, const struct eni *e,
                  const struct flows_host *host, const struct flows_ctx *ctx,
                  bool from_tunnel)
{
    int32_t relay = eni_relay_port__(e, ctx);

    if (!relay || strcmp(e->host, host->id)) {
        return;
    }
    if (e->phase == ENI_MIG_PREPARED) {
        ds_put_format(s, "push_vlan:0x8100,set_field:%#"PRIx32"->vlan_vid,"
                      "output:%"PRId32",pop_vlan,",
                      (uint32_t) e->ofport | 0x1000, relay);
    } else {
        size_t start = s->length;
        if (from_tunnel) {
            ds_put_cstr(s, "set_field:0->in_port,");
        }
        size_t with = s->length;
        put_tunnel_output__(s, host, ctx, e->dest_host, e->vni);
        if (s->length == with) {
            ds_truncate(s, start);
        }
    }
}

static void
put_local_output__(struct ds *s, int32_t ofport)
{
    ds_put_format(s, "set_field:%"PRId32"->reg7,resubmit(,%d),",
                  ofport, FLOWS_T_INGRESS_CT);
}

/* Removes the trailing comma of an action list, or makes it "drop". */
static const char *
finish_actions__(struct ds *s, size_t start)
{
    if (s->length == start) {
        ds_put_cstr(s, "drop");
    } else {
        ds_chomp(s, ',');
    }
    return ds_cstr(s);
}

/* --- VNI flows ------------------------------------------------------------ */

static int
compare_ofports__(const void *a_, const void *b_)
{
    int32_t a = *(const int32_t *) a_;
    int32_t b = *(const int32_t *) b_;

    return a < b ? -1 : a > b;
}

void
flows_add_vni(struct flow_table *ft, const struct flows_host *host,
              uint32_t vni, const struct flows_ctx *ctx)
{
    const struct fc_vni *v = fc_vni_find(ctx, vni);
    uint64_t c = FT_COOKIE(FLOWS_CLASS_VNI, vni);
    struct ds remote = DS_EMPTY_INITIALIZER;
    struct ds local = DS_EMPTY_INITIALIZER;

    if (!v || !shash_find(&v->hosts, host->id)) {
        return;
    }
    if (host->tunnel_ofport > 0) {
        flows_addf(ft, c, "table=%d,priority=100,in_port=%"PRId32","
                   "tun_id=%#"PRIx32",actions=set_field:%#"PRIx32
                   "->metadata,resubmit(,%d)", FLOWS_T_CLASSIFY,
                   host->tunnel_ofport, vni, vni, FLOWS_T_L2_TUNNEL);
    }

    /* The action lists below are built from sets (hash tables, whose
     * iteration order depends on their history, which differs from one
     * tetherd process to the next): they are put in a fixed order, hosts by
     * id and VIFs by ofport, so that the same VNI always gives the same
     * flow and a restarted tetherd finds the flows it would install already
     * there.
     *
     * Every other host of the VNI... */
    const struct shash_node **hosts = shash_sort(&v->hosts);
    for (size_t i = 0; i < shash_count(&v->hosts); i++) {
        if (strcmp(hosts[i]->name, host->id)) {
            put_tunnel_output__(&remote, host, ctx, hosts[i]->name, vni);
        }
    }
    free(hosts);

    /* ...and the local VIFs that unicast would be delivered to. */
    const struct hmap *here = shash_find_data(&v->hosts, host->id);
    int32_t *ports = xmalloc(2 * hmap_count(here) * sizeof *ports);
    size_t n_ports = 0;
    const struct fc_ref *r;
    HMAP_FOR_EACH (r, node, here) {
        struct flows_target t[2];
        size_t n = eni_targets__(r->eni, ctx, t);
        for (size_t i = 0; i < n; i++) {
            if (!strcmp(t[i].host, host->id)) {
                ports[n_ports++] = t[i].ofport;
            }
        }
    }
    qsort(ports, n_ports, sizeof *ports, compare_ofports__);
    for (size_t i = 0; i < n_ports; i++) {
        put_local_output__(&local, ports[i]);
    }
    free(ports);

    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_format(&s, "table=%d,priority=50,metadata=%#"PRIx32","
                  "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=",
                  FLOWS_T_L2_LOCAL, vni);
    size_t start = s.length;
    ds_put_buffer(&s, remote.string, remote.length);
    ds_put_buffer(&s, local.string, local.length);
    flows_add__(ft, c, finish_actions__(&s, start));

    ds_clear(&s);
    ds_put_format(&s, "table=%d,priority=50,metadata=%#"PRIx32","
                  "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=",
                  FLOWS_T_L2_TUNNEL, vni);
    start = s.length;
    ds_put_buffer(&s, local.string, local.length);
    flows_add__(ft, c, finish_actions__(&s, start));

    ds_destroy(&s);
    ds_destroy(&remote);
    ds_destroy(&local);
}

void
flows_remove_vni(struct flow_table *ft, uint32_t vni)
{
    flow_table_remove_cookie(ft, FT_COOKIE(FLOWS_CLASS_VNI, vni),
                             FT_COOKIE_MASK);
}

/* --- ENI flows ------------------------------------------------------------ */

/* Writes the EUI-64 link-local address of 'mac' into 'lla'. */
static bool
eni_lla__(const char *mac, char lla[64])
{
    unsigned int m[6];

    if (sscanf(mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4],
               &m[5]) != 6) {
        return false;
    }
    snprintf(lla, 64, "fe80::%x:%x:%x:%x", ((m[0] ^ 2) << 8) | m[1],
             (m[2] << 8) | 0xff, 0xfe00 | m[3], (m[4] << 8) | m[5]);
    return true;
}

/* The ENI's IPv6 addresses plus its link-local one: 'n' entries of 'v'
 * (the caller frees 'v' only, the strings are borrowed but the last). */
struct eni_ip6s {
    const char **v;
    size_t n;
    char lla[64];
};

static void
eni_ip6s_init__(const struct eni *e, struct eni_ip6s *a)
{
    a->v = xmalloc((e->n_ipv6s + 1) * sizeof *a->v);
    a->n = 0;
    for (size_t i = 0; i < e->n_ipv6s; i++) {
        a->v[a->n++] = e->ipv6s[i];
    }
    if (eni_lla__(e->mac, a->lla)) {
        a->v[a->n++] = a->lla;
    }
}

/* The ENI's IPv4 addresses. */
static size_t
eni_ip4s__(const struct eni *e, const char ***v)
{
    size_t n = 0;

    *v = xmalloc((e->n_secondary_ipv4s + 1) * sizeof **v);
    if (e->primary_ipv4) {
        (*v)[n++] = e->primary_ipv4;
    }
    for (size_t i = 0; i < e->n_secondary_ipv4s; i++) {
        (*v)[n++] = e->secondary_ipv4s[i];
    }
    return n;
}

/* Table 0 for the VIF 'port' of 'e' on 'host'. */
static void
eni_classify__(struct flow_table *ft, uint64_t c, const struct eni *e,
               const struct flows_host *host, int32_t port)
{
    char classify[128];

    snprintf(classify, sizeof classify, "set_field:%#"PRIx32"->metadata,"
             "set_field:%"PRId32"->reg6,resubmit(,%d)", e->vni, port,
             FLOWS_T_PORT_SEC);
    flows_addf(ft, c, "table=%d,priority=100,in_port=%"PRId32",actions=%s",
               FLOWS_T_CLASSIFY, port, classify);

    /* The migration's destination: the VM's first announcements there say
     * it runs (packet-in; the cookie names the ENI). */
    if (e->state == ENI_MIGRATING && e->dest_host
        && !strcmp(e->dest_host, host->id)
        && (e->phase == ENI_MIG_PREPARED || e->phase == ENI_MIG_SWITCHOVER)) {
        flows_addf(ft, c, "table=%d,priority=110,in_port=%"PRId32",rarp,"
                   "actions=controller(max_len=128)", FLOWS_T_CLASSIFY, port);
        flows_addf(ft, c, "table=%d,priority=110,in_port=%"PRId32",arp,"
                   "actions=controller(max_len=128),%s", FLOWS_T_CLASSIFY,
                   port, classify);
        flows_addf(ft, c, "table=%d,priority=110,in_port=%"PRId32",icmp6,"
                   "icmp_type=136,actions=controller(max_len=128),%s",
                   FLOWS_T_CLASSIFY, port, classify);
    }
}

/* Tables 10 and 11 for the VIF 'port' of 'e'. */
static void
eni_port_security__(struct flow_table *ft, uint64_t c, const struct eni *e,
                    int32_t port, const char **ip4, size_t n_ip4,
                    const struct eni_ip6s *ip6)
{
    static const char *zero_mac = "00:00:00:00:00:00";
    const int t10 = FLOWS_T_PORT_SEC, t11 = FLOWS_T_PORT_SEC_ND;
    const int next = FLOWS_T_ARP_ND;
    const char *mac = e->mac;

    /* Neighbour discovery is checked field by field in table 11. */
    for (int type = 135; type <= 136; type++) {
        flows_addf(ft, c, "table=%d,priority=95,in_port=%"PRId32",dl_src=%s,"
                   "icmp6,icmp_type=%d,actions=resubmit(,%d)", t10, port,
                   mac, type, t11);
    }
    if (!e->source_dest_check) {
        flows_addf(ft, c, "table=%d,priority=90,in_port=%"PRId32",dl_src=%s,"
                   "arp,arp_sha=%s,actions=resubmit(,%d)", t10, port, mac,
                   mac, next);
        flows_addf(ft, c, "table=%d,priority=90,in_port=%"PRId32",dl_src=%s,"
                   "ip,actions=resubmit(,%d)", t10, port, mac, next);
        flows_addf(ft, c, "table=%d,priority=90,in_port=%"PRId32",dl_src=%s,"
                   "ipv6,actions=resubmit(,%d)", t10, port, mac, next);
        for (int i = 0; i < 2; i++) {
            const char *sll = i ? zero_mac : mac;
            flows_addf(ft, c, "table=%d,priority=90,in_port=%"PRId32","
                       "icmp6,icmp_type=135,nd_sll=%s,actions=resubmit(,%d)",
                       t11, port, sll, next);
            flows_addf(ft, c, "table=%d,priority=90,in_port=%"PRId32","
                       "icmp6,icmp_type=136,nd_tll=%s,actions=resubmit(,%d)",
                       t11, port, sll, next);
        }
        return;
    }

    for (size_t i = 0; i <= n_ip4; i++) {
        const char *ip = i < n_ip4 ? ip4[i] : "0.0.0.0";   /* probe */
        flows_addf(ft, c, "table=%d,priority=90,in_port=%"PRId32",dl_src=%s,"
                   "arp,arp_sha=%s,arp_spa=%s,actions=resubmit(,%d)", t10,
                   port, mac, mac, ip, next);
        if (i < n_ip4) {
            flows_addf(ft, c, "table=%d,priority=90,in_port=%"PRId32","
                       "dl_src=%s,ip,nw_src=%s,actions=resubmit(,%d)", t10,
                       port, mac, ip, next);
        }
    }
    for (size_t i = 0; i < ip6->n; i++) {
        flows_addf(ft, c, "table=%d,priority=90,in_port=%"PRId32",dl_src=%s,"
                   "ipv6,ipv6_src=%s,actions=resubmit(,%d)", t10, port, mac,
                   ip6->v[i], next);
    }
    /* DAD and MLD reports come from "::". */
    flows_addf(ft, c, "table=%d,priority=90,in_port=%"PRId32",dl_src=%s,"
               "icmp6,ipv6_src=::,actions=resubmit(,%d)", t10, port, mac,
               next);

    for (int z = 0; z < 2; z++) {
        const char *ll = z ? zero_mac : mac;
        for (size_t i = 0; i <= ip6->n; i++) {
            const char *src = i < ip6->n ? ip6->v[i] : "::";
            if (i == ip6->n && !z) {
                continue;           /* from "::" only without nd_sll */
            }
            flows_addf(ft, c, "table=%d,priority=90,in_port=%"PRId32","
                       "icmp6,icmp_type=135,ipv6_src=%s,nd_sll=%s,"
                       "actions=resubmit(,%d)", t11, port, src, ll, next);
        }
        for (size_t i = 0; i < ip6->n; i++) {
            flows_addf(ft, c, "table=%d,priority=90,in_port=%"PRId32","
                       "icmp6,icmp_type=136,nd_target=%s,nd_tll=%s,"
                       "actions=resubmit(,%d)", t11, port, ip6->v[i], ll,
                       next);
        }
    }
}

/* Table 20 for 'e' in its VNI: the responder, and (if it has the VIF
 * 'port' here, else -1) its own probes. */
static void
eni_responder__(struct flow_table *ft, uint64_t c, const struct eni *e,
                int32_t port, const char **ip4, size_t n_ip4,
                const struct eni_ip6s *ip6)
{
    const int t = FLOWS_T_ARP_ND;

    for (size_t i = 0; i < n_ip4; i++) {
        flows_addf(ft, c, "table=%d,priority=100,metadata=%#"PRIx32",arp,"
                   "arp_op=1,arp_tpa=%s,actions="
                   "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
                   "set_field:%s->eth_src,set_field:2->arp_op,"
                   "move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],"
                   "set_field:%s->arp_sha,"
                   "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],"
                   "set_field:%s->arp_spa,in_port", t, e->vni, ip4[i],
                   e->mac, e->mac, ip4[i]);
        if (port >= 0) {
            flows_addf(ft, c, "table=%d,priority=110,in_port=%"PRId32",arp,"
                       "arp_op=1,arp_tpa=%s,actions=drop", t, port, ip4[i]);
        }
    }
    for (size_t i = 0; i < ip6->n; i++) {
        flows_addf(ft, c, "table=%d,priority=100,metadata=%#"PRIx32",icmp6,"
                   "icmp_type=135,nd_target=%s,actions=set_field:%s->eth_dst,"
                   "resubmit(,%d)", t, e->vni, ip6->v[i], e->mac,
                   FLOWS_T_EGRESS_CT);
        if (port >= 0) {
            flows_addf(ft, c, "table=%d,priority=110,in_port=%"PRId32","
                       "icmp6,icmp_type=135,nd_target=%s,actions=drop", t,
                       port, ip6->v[i]);
        }
    }
}

/* Table 0 on 'e''s source while it migrates through the relay: what the
 * agent sends back from the relay port with the VIF's tag goes to the
 * destination. */
static void
eni_relay_in__(struct flow_table *ft, uint64_t c, const struct eni *e,
               const struct flows_host *host, const struct flows_ctx *ctx)
{
    int32_t relay = eni_relay_port__(e, ctx);
    struct ds s = DS_EMPTY_INITIALIZER;

    if (!relay || strcmp(e->host, host->id)) {
        return;
    }
    put_tunnel_output__(&s, host, ctx, e->dest_host, e->vni);
    ds_chomp(&s, ',');
    flows_addf(ft, c, "table=%d,priority=100,in_port=%"PRId32",dl_vlan=%"
               PRId32",actions=%s%s", FLOWS_T_CLASSIFY, relay, e->ofport,
               s.length ? "pop_vlan," : "drop", ds_cstr(&s));
    ds_destroy(&s);
}

/* Table 40: traffic from local VIFs to 'e'. */
static void
eni_forward__(struct flow_table *ft, uint64_t c, const struct eni *e,
              const struct flows_host *host, const struct flows_ctx *ctx)
{
    struct flows_target t[2];
    size_t n = eni_targets__(e, ctx, t);
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_format(&s, "table=%d,priority=100,metadata=%#"PRIx32",dl_dst=%s,"
                  "actions=", FLOWS_T_L2_LOCAL, e->vni, e->mac);
    size_t start = s.length;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(t[i].host, host->id)) {
            put_tunnel_output__(&s, host, ctx, t[i].host, e->vni);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(t[i].host, host->id)) {
            if (t[i].ofport == e->ofport) {
                put_source_copy__(&s, e, host, ctx, false);
            }
            put_local_output__(&s, t[i].ofport);
        }
    }
    flows_add__(ft, c, finish_actions__(&s, start));
    ds_destroy(&s);
}

void
flows_add_eni_main(struct flow_table *ft, const struct flows_host *host,
                   const struct eni *e, const struct flows_ctx *ctx)
{
    uint64_t c = FT_COOKIE(FLOWS_CLASS_ENI, e->key);

    if (!eni_is_wired(e) || !e->mac
        || !flows_ctx_host_in_vni(ctx, host->id, e->vni)) {
        return;
    }

    int32_t port = flows_eni_local_port(e, host->id);
    const char **ip4;
    size_t n_ip4 = eni_ip4s__(e, &ip4);
    struct eni_ip6s ip6;
    eni_ip6s_init__(e, &ip6);

    if (port > 0) {
        struct ds tee = DS_EMPTY_INITIALIZER;
        if (port == e->ofport) {
            put_source_copy__(&tee, e, host, ctx, true);
        }
        eni_classify__(ft, c, e, host, port);
        eni_port_security__(ft, c, e, port, ip4, n_ip4, &ip6);
        flows_addf(ft, c, "table=%d,priority=100,metadata=%#"PRIx32","
                   "dl_dst=%s,actions=%sset_field:%"PRId32"->reg7,"
                   "resubmit(,%d)", FLOWS_T_L2_TUNNEL, e->vni, e->mac,
                   ds_cstr(&tee), port, FLOWS_T_INGRESS_CT);
        ds_destroy(&tee);
        eni_relay_in__(ft, c, e, host, ctx);
        /* A flood never comes back to its sender (nor through its SG). */
        flows_addf(ft, c, "table=%d,priority=120,reg6=%"PRId32",reg7=%"PRId32
                   ",actions=drop", FLOWS_T_INGRESS_CT, port, port);
    }
    eni_responder__(ft, c, e, port > 0 ? port : -1, ip4, n_ip4, &ip6);
    eni_forward__(ft, c, e, host, ctx);

    free(ip4);
    free(ip6.v);
}

void
flows_add_eni(struct flow_table *ft, const struct flows_host *host,
              const struct eni *e, const struct flows_ctx *ctx)
{
    flows_add_eni_main(ft, host, e, ctx);
    flows_add_eni_sg(ft, host, e, ctx);
}

void
flows_remove_eni(struct flow_table *ft, uint64_t key)
{
    flow_table_remove_cookie(ft, FT_COOKIE(FLOWS_CLASS_ENI, key),
                             FT_COOKIE_MASK);
    flow_table_remove_cookie(ft, FT_COOKIE(FLOWS_CLASS_SG, key),
                             FT_COOKIE_MASK);
}
