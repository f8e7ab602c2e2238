/* The flows of one host's br-int: the fixed pipeline, the per-VNI tunnel
 * and flood flows, and the per-ENI classification, port security, ARP/ND
 * responder and forwarding flows (pipeline and cookies: see flows.h;
 * security groups: flows-sg.c). */
#include <config.h>

#include "controller/flows.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/eni.h"
#include "controller/flows-private.h"
#include "coverage.h"
#include "flow.h"
#include "openvswitch/vlog.h"
#include "ovs-glue/flow-build.h"
#include "ovs-glue/flow-table.h"
#include "packets.h"
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
flows_add_built(struct flow_table *ft, uint64_t cookie, struct flow_build *fb)
{
    char *error = flow_build_add(fb, ft, cookie);

    COVERAGE_INC(flows_add);
    if (error) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
        VLOG_WARN_RL(&rl, "cookie %#"PRIx64": %s", cookie, error);
        flows_errors++;
        free(error);
    }
}

/* Adds "table=TABLE,priority=PRIORITY,actions=drop" (or, with 'next' >= 0,
 * "actions=resubmit(,NEXT)"): the many flows that match nothing else. */
static void
flows_add_catchall__(struct flow_table *ft, uint64_t cookie, int table,
                     int priority, int next)
{
    struct flow_build fb;

    flow_build_init(&fb, table, priority);
    if (next >= 0) {
        fb_resubmit(&fb, next);
    }
    flows_add_built(ft, cookie, &fb);
}

/* --- The fixed pipeline --------------------------------------------------- */

/* Conntrack dispatch and verdict tables for one direction: 'ct_table' sends
 * IP (but not ND, RS/RA, MLD) through ct() in the zone in 'reg', and
 * 'sg_table' passes replies to 'next' and drops invalid packets. */
static void
flows_ct_stage__(struct flow_table *ft, uint64_t c, int ct_table,
                 int sg_table, int next, enum mf_field_id reg)
{
    static const int skip_icmp6[] = { 130, 131, 132, 133, 134, 135, 136,
                                      143 };
    struct flow_build fb;

    for (size_t i = 0; i < ARRAY_SIZE(skip_icmp6); i++) {
        /* "table=CT,priority=110,icmp6,icmp_type=T,actions=resubmit(,NEXT)" */
        flow_build_init(&fb, ct_table, 110);
        fb_match_proto(&fb, ETH_TYPE_IPV6, IPPROTO_ICMPV6);
        fb_match_int(&fb, MFF_ICMPV6_TYPE, skip_icmp6[i]);
        fb_resubmit(&fb, next);
        flows_add_built(ft, c, &fb);
    }
    for (int v6 = 0; v6 < 2; v6++) {
        /* "table=CT,priority=100,ip[v6],actions=ct(table=SG,
         *  zone=REG[0..15])" */
        flow_build_init(&fb, ct_table, 100);
        fb_match_proto(&fb, v6 ? ETH_TYPE_IPV6 : ETH_TYPE_IP, 0);
        fb_ct(&fb, false, sg_table, reg);
        flows_add_built(ft, c, &fb);
    }
    flows_add_catchall__(ft, c, ct_table, 0, next);

    /* "ct_state=+inv+trk,actions=drop" */
    flow_build_init(&fb, sg_table, 65535);
    fb_match_int_masked(&fb, MFF_CT_STATE, CS_INVALID | CS_TRACKED,
                        CS_INVALID | CS_TRACKED);
    flows_add_built(ft, c, &fb);
    /* "ct_state=-new+est+trk" and "-new+rel+trk": resubmit(,NEXT) */
    for (int rel = 0; rel < 2; rel++) {
        uint32_t state = (rel ? CS_RELATED : CS_ESTABLISHED) | CS_TRACKED;
        flow_build_init(&fb, sg_table, 65534);
        fb_match_int_masked(&fb, MFF_CT_STATE, state, state | CS_NEW);
        fb_resubmit(&fb, next);
        flows_add_built(ft, c, &fb);
    }
    flows_add_catchall__(ft, c, sg_table, 0, -1);
}

void
flows_host_base(struct flow_table *ft, const struct flows_host *host)
{
    uint64_t c = FT_COOKIE(FLOWS_CLASS_HOST, 0);

    struct flow_build fb;

    (void) host;
    flows_add_catchall__(ft, c, FLOWS_T_CLASSIFY, 0, -1);
    flows_add_catchall__(ft, c, FLOWS_T_PORT_SEC, 0, -1);
    flows_add_catchall__(ft, c, FLOWS_T_PORT_SEC_ND, 0, -1);

    /* ARP and NS nobody answers go nowhere (no flood in the overlay):
     * "arp,arp_op=1", "arp,dl_dst=ff:ff:ff:ff:ff:ff" and
     * "icmp6,icmp_type=135", all "actions=drop". */
    flow_build_init(&fb, FLOWS_T_ARP_ND, 50);
    fb_match_proto(&fb, ETH_TYPE_ARP, 0);
    fb_match_int(&fb, MFF_ARP_OP, 1);
    flows_add_built(ft, c, &fb);
    flow_build_init(&fb, FLOWS_T_ARP_ND, 40);
    fb_match_proto(&fb, ETH_TYPE_ARP, 0);
    fb_match_mac(&fb, MFF_ETH_DST, "ff:ff:ff:ff:ff:ff");
    flows_add_built(ft, c, &fb);
    flow_build_init(&fb, FLOWS_T_ARP_ND, 50);
    fb_match_proto(&fb, ETH_TYPE_IPV6, IPPROTO_ICMPV6);
    fb_match_int(&fb, MFF_ICMPV6_TYPE, 135);
    flows_add_built(ft, c, &fb);
    flows_add_catchall__(ft, c, FLOWS_T_ARP_ND, 0, FLOWS_T_EGRESS_CT);

    flows_ct_stage__(ft, c, FLOWS_T_EGRESS_CT, FLOWS_T_EGRESS_SG,
                     FLOWS_T_L2_LOCAL, MFF_REG6);
    flows_add_catchall__(ft, c, FLOWS_T_L2_LOCAL, 0, -1);
    flows_add_catchall__(ft, c, FLOWS_T_L2_TUNNEL, 0, -1);
    flows_ct_stage__(ft, c, FLOWS_T_INGRESS_CT, FLOWS_T_INGRESS_SG,
                     FLOWS_T_OUTPUT, MFF_REG7);
    /* "actions=output:NXM_NX_REG7[0..15]" */
    flow_build_init(&fb, FLOWS_T_OUTPUT, 0);
    fb_output_reg(&fb, MFF_REG7, 0, 16);
    flows_add_built(ft, c, &fb);
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

/* Appends to 'fb' the actions that send a packet of 'vni' to 'host' through
 * the tunnel ("set_field:VNI->tun_id,set_field:IP->tun_dst,output:TUNNEL"),
 * or nothing if its IP is not known.  Returns true if it appended them. */
static bool
put_tunnel_output__(struct flow_build *fb, const struct flows_host *self,
                    const struct flows_ctx *ctx, const char *host,
                    uint32_t vni)
{
    const char *ip = flows_ctx_host_ip(ctx, host);

    if (ip && self->tunnel_ofport > 0) {
        fb_set_int(fb, MFF_TUN_ID, vni);
        fb_set_ip(fb, strchr(ip, ':') ? MFF_TUN_IPV6_DST : MFF_TUN_DST, ip);
        fb_output(fb, u16_to_ofp(self->tunnel_ofport));
        return true;
    }
    return false;
}

/* Appends to 's' what the source host of 'e', migrating through its relay,
 * does with a frame it delivers to the source VIF besides delivering it
 * (flows.h): before the pause, a copy to the relay port; from the pause on,
 * a copy straight to the destination ('from_tunnel': the frame came in
 * through the tunnel port, which it may only leave by with in_port
 * cleared). */
static void
put_source_copy__(struct flow_build *fb, const struct eni *e,
                  const struct flows_host *host, const struct flows_ctx *ctx,
                  bool from_tunnel)
{
    int32_t relay = eni_relay_port__(e, ctx);

    if (!relay || strcmp(e->host, host->id)) {
        return;
    }
    if (e->phase == ENI_MIG_PREPARED) {
        /* "push_vlan:0x8100,set_field:P|0x1000->vlan_vid,output:RELAY,
         *  pop_vlan" */
        fb_push_vlan(fb, ETH_TYPE_VLAN_8021Q);
        fb_set_int(fb, MFF_VLAN_VID, (uint32_t) e->ofport | 0x1000);
        fb_output(fb, u16_to_ofp(relay));
        fb_pop_vlan(fb);
    } else {
        size_t start = fb->ofpacts.size;
        if (from_tunnel) {
            fb_set_int(fb, MFF_IN_PORT, 0);     /* "set_field:0->in_port" */
        }
        if (!put_tunnel_output__(fb, host, ctx, e->dest_host, e->vni)) {
            fb->ofpacts.size = start;
        }
    }
}

/* "set_field:OFPORT->reg7,resubmit(,50)" */
static void
put_local_output__(struct flow_build *fb, int32_t ofport)
{
    fb_set_int(fb, MFF_REG7, ofport);
    fb_resubmit(fb, FLOWS_T_INGRESS_CT);
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
    struct flow_build fb;

    if (!v || !shash_find(&v->hosts, host->id)) {
        return;
    }
    if (host->tunnel_ofport > 0) {
        /* "in_port=TUNNEL,tun_id=VNI,actions=set_field:VNI->metadata,
         *  resubmit(,45)" */
        flow_build_init(&fb, FLOWS_T_CLASSIFY, 100);
        fb_match_int(&fb, MFF_IN_PORT, host->tunnel_ofport);
        fb_match_int(&fb, MFF_TUN_ID, vni);
        fb_set_int(&fb, MFF_METADATA, vni);
        fb_resubmit(&fb, FLOWS_T_L2_TUNNEL);
        flows_add_built(ft, c, &fb);
    }

    /* The action lists below are built from sets (hash tables, whose
     * iteration order depends on their history, which differs from one
     * tetherd process to the next): they are put in a fixed order, hosts by
     * id and VIFs by ofport, so that the same VNI always gives the same
     * flow and a restarted tetherd finds the flows it would install already
     * there.
     *
     * Every other host of the VNI (put into the flow below)... */
    const struct shash_node **hosts = shash_sort(&v->hosts);
    size_t n_hosts = shash_count(&v->hosts);

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

    /* "metadata=VNI,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00": from a
     * VIF (table 40) to the other hosts and the local VIFs, from the tunnel
     * (table 45) to the local VIFs; no target at all is "drop". */
    const struct eth_addr mcast = ETH_ADDR_C(01,00,00,00,00,00);
    for (int tunnel = 0; tunnel < 2; tunnel++) {
        flow_build_init(&fb, tunnel ? FLOWS_T_L2_TUNNEL : FLOWS_T_L2_LOCAL,
                        50);
        fb_match_int(&fb, MFF_METADATA, vni);
        fb_match_mac_masked(&fb, MFF_ETH_DST, mcast, mcast);
        for (size_t i = 0; !tunnel && i < n_hosts; i++) {
            if (strcmp(hosts[i]->name, host->id)) {
                put_tunnel_output__(&fb, host, ctx, hosts[i]->name, vni);
            }
        }
        for (size_t i = 0; i < n_ports; i++) {
            put_local_output__(&fb, ports[i]);
        }
        flows_add_built(ft, c, &fb);
    }
    free(ports);
    free(hosts);
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

/* "set_field:VNI->metadata,set_field:PORT->reg6,resubmit(,10)" */
static void
put_classify__(struct flow_build *fb, const struct eni *e, int32_t port)
{
    fb_set_int(fb, MFF_METADATA, e->vni);
    fb_set_int(fb, MFF_REG6, port);
    fb_resubmit(fb, FLOWS_T_PORT_SEC);
}

/* Table 0 for the VIF 'port' of 'e' on 'host'. */
static void
eni_classify__(struct flow_table *ft, uint64_t c, const struct eni *e,
               const struct flows_host *host, int32_t port)
{
    struct flow_build fb;

    /* "in_port=PORT,actions=<classify>" */
    flow_build_init(&fb, FLOWS_T_CLASSIFY, 100);
    fb_match_int(&fb, MFF_IN_PORT, port);
    put_classify__(&fb, e, port);
    flows_add_built(ft, c, &fb);

    /* The migration's destination: the VM's first announcements there say
     * it runs (packet-in; the cookie names the ENI): "in_port=PORT,rarp,
     * actions=controller(max_len=128)", and "arp" and "icmp6,
     * icmp_type=136" with "controller(max_len=128),<classify>". */
    if (e->state == ENI_MIGRATING && e->dest_host
        && !strcmp(e->dest_host, host->id)
        && (e->phase == ENI_MIG_PREPARED || e->phase == ENI_MIG_SWITCHOVER)) {
        for (int k = 0; k < 3; k++) {
            flow_build_init(&fb, FLOWS_T_CLASSIFY, 110);
            fb_match_int(&fb, MFF_IN_PORT, port);
            if (k == 0) {
                fb_match_proto(&fb, ETH_TYPE_RARP, 0);
            } else if (k == 1) {
                fb_match_proto(&fb, ETH_TYPE_ARP, 0);
            } else {
                fb_match_proto(&fb, ETH_TYPE_IPV6, IPPROTO_ICMPV6);
                fb_match_int(&fb, MFF_ICMPV6_TYPE, 136);
            }
            fb_controller(&fb, 128);
            if (k) {
                put_classify__(&fb, e, port);
            }
            flows_add_built(ft, c, &fb);
        }
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
    struct flow_build fb;

    /* Neighbour discovery is checked field by field in table 11:
     * "table=10,priority=95,in_port=PORT,dl_src=MAC,icmp6,icmp_type=T,
     *  actions=resubmit(,11)". */
    for (int type = 135; type <= 136; type++) {
        flow_build_init(&fb, t10, 95);
        fb_match_int(&fb, MFF_IN_PORT, port);
        fb_match_mac(&fb, MFF_ETH_SRC, mac);
        fb_match_proto(&fb, ETH_TYPE_IPV6, IPPROTO_ICMPV6);
        fb_match_int(&fb, MFF_ICMPV6_TYPE, type);
        fb_resubmit(&fb, t11);
        flows_add_built(ft, c, &fb);
    }
    if (!e->source_dest_check) {
        /* "in_port=PORT,dl_src=MAC" and "arp,arp_sha=MAC", "ip" or
         * "ipv6": resubmit(,20). */
        for (int k = 0; k < 3; k++) {
            flow_build_init(&fb, t10, 90);
            fb_match_int(&fb, MFF_IN_PORT, port);
            fb_match_mac(&fb, MFF_ETH_SRC, mac);
            if (k == 0) {
                fb_match_proto(&fb, ETH_TYPE_ARP, 0);
                fb_match_mac(&fb, MFF_ARP_SHA, mac);
            } else {
                fb_match_proto(&fb, k == 1 ? ETH_TYPE_IP : ETH_TYPE_IPV6, 0);
            }
            fb_resubmit(&fb, next);
            flows_add_built(ft, c, &fb);
        }
        /* "table=11,priority=90,in_port=PORT,icmp6,icmp_type=135,
         *  nd_sll=MAC|0" and "icmp_type=136,nd_tll=MAC|0": resubmit(,20) */
        for (int i = 0; i < 2; i++) {
            const char *sll = i ? zero_mac : mac;
            for (int type = 135; type <= 136; type++) {
                flow_build_init(&fb, t11, 90);
                fb_match_int(&fb, MFF_IN_PORT, port);
                fb_match_proto(&fb, ETH_TYPE_IPV6, IPPROTO_ICMPV6);
                fb_match_int(&fb, MFF_ICMPV6_TYPE, type);
                fb_match_mac(&fb, type == 135 ? MFF_ND_SLL : MFF_ND_TLL, sll);
                fb_resubmit(&fb, next);
                flows_add_built(ft, c, &fb);
            }
        }
        return;
    }

    for (size_t i = 0; i <= n_ip4; i++) {
        const char *ip = i < n_ip4 ? ip4[i] : "0.0.0.0";   /* probe */
        /* "in_port=PORT,dl_src=MAC,arp,arp_sha=MAC,arp_spa=IP" */
        flow_build_init(&fb, t10, 90);
        fb_match_int(&fb, MFF_IN_PORT, port);
        fb_match_mac(&fb, MFF_ETH_SRC, mac);
        fb_match_proto(&fb, ETH_TYPE_ARP, 0);
        fb_match_mac(&fb, MFF_ARP_SHA, mac);
        fb_match_ip(&fb, MFF_ARP_SPA, ip);
        fb_resubmit(&fb, next);
        flows_add_built(ft, c, &fb);
        if (i < n_ip4) {
            /* "in_port=PORT,dl_src=MAC,ip,nw_src=IP" */
            flow_build_init(&fb, t10, 90);
            fb_match_int(&fb, MFF_IN_PORT, port);
            fb_match_mac(&fb, MFF_ETH_SRC, mac);
            fb_match_proto(&fb, ETH_TYPE_IP, 0);
            fb_match_ip(&fb, MFF_IPV4_SRC, ip);
            fb_resubmit(&fb, next);
            flows_add_built(ft, c, &fb);
        }
    }
    /* "in_port=PORT,dl_src=MAC,ipv6,ipv6_src=IP", and (DAD and MLD
     * reports come from "::") "icmp6,ipv6_src=::". */
    for (size_t i = 0; i <= ip6->n; i++) {
        flow_build_init(&fb, t10, 90);
        fb_match_int(&fb, MFF_IN_PORT, port);
        fb_match_mac(&fb, MFF_ETH_SRC, mac);
        if (i < ip6->n) {
            fb_match_proto(&fb, ETH_TYPE_IPV6, 0);
            fb_match_ip(&fb, MFF_IPV6_SRC, ip6->v[i]);
        } else {
            fb_match_proto(&fb, ETH_TYPE_IPV6, IPPROTO_ICMPV6);
            fb_match_ip(&fb, MFF_IPV6_SRC, "::");
        }
        fb_resubmit(&fb, next);
        flows_add_built(ft, c, &fb);
    }

    for (int z = 0; z < 2; z++) {
        const char *ll = z ? zero_mac : mac;
        for (size_t i = 0; i <= ip6->n; i++) {
            const char *src = i < ip6->n ? ip6->v[i] : "::";
            if (i == ip6->n && !z) {
                continue;           /* from "::" only without nd_sll */
            }
            /* "table=11,priority=90,in_port=PORT,icmp6,icmp_type=135,
             *  ipv6_src=SRC,nd_sll=LL" */
            flow_build_init(&fb, t11, 90);
            fb_match_int(&fb, MFF_IN_PORT, port);
            fb_match_proto(&fb, ETH_TYPE_IPV6, IPPROTO_ICMPV6);
            fb_match_int(&fb, MFF_ICMPV6_TYPE, 135);
            fb_match_ip(&fb, MFF_IPV6_SRC, src);
            fb_match_mac(&fb, MFF_ND_SLL, ll);
            fb_resubmit(&fb, next);
            flows_add_built(ft, c, &fb);
        }
        for (size_t i = 0; i < ip6->n; i++) {
            /* "icmp6,icmp_type=136,nd_target=IP,nd_tll=LL" */
            flow_build_init(&fb, t11, 90);
            fb_match_int(&fb, MFF_IN_PORT, port);
            fb_match_proto(&fb, ETH_TYPE_IPV6, IPPROTO_ICMPV6);
            fb_match_int(&fb, MFF_ICMPV6_TYPE, 136);
            fb_match_ip(&fb, MFF_ND_TARGET, ip6->v[i]);
            fb_match_mac(&fb, MFF_ND_TLL, ll);
            fb_resubmit(&fb, next);
            flows_add_built(ft, c, &fb);
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
    struct flow_build fb;

    for (size_t i = 0; i < n_ip4; i++) {
        /* "metadata=VNI,arp,arp_op=1,arp_tpa=IP,actions=
         *  move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:MAC->eth_src,
         *  set_field:2->arp_op,move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],
         *  set_field:MAC->arp_sha,move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],
         *  set_field:IP->arp_spa,in_port" */
        flow_build_init(&fb, t, 100);
        fb_match_int(&fb, MFF_METADATA, e->vni);
        fb_match_proto(&fb, ETH_TYPE_ARP, 0);
        fb_match_int(&fb, MFF_ARP_OP, 1);
        fb_match_ip(&fb, MFF_ARP_TPA, ip4[i]);
        fb_move(&fb, MFF_ETH_SRC, MFF_ETH_DST);
        fb_set_mac(&fb, MFF_ETH_SRC, e->mac);
        fb_set_int(&fb, MFF_ARP_OP, 2);
        fb_move(&fb, MFF_ARP_SHA, MFF_ARP_THA);
        fb_set_mac(&fb, MFF_ARP_SHA, e->mac);
        fb_move(&fb, MFF_ARP_SPA, MFF_ARP_TPA);
        fb_set_ip(&fb, MFF_ARP_SPA, ip4[i]);
        fb_output(&fb, OFPP_IN_PORT);
        flows_add_built(ft, c, &fb);
        if (port >= 0) {
            /* "priority=110,in_port=PORT,arp,arp_op=1,arp_tpa=IP,
             *  actions=drop" */
            flow_build_init(&fb, t, 110);
            fb_match_int(&fb, MFF_IN_PORT, port);
            fb_match_proto(&fb, ETH_TYPE_ARP, 0);
            fb_match_int(&fb, MFF_ARP_OP, 1);
            fb_match_ip(&fb, MFF_ARP_TPA, ip4[i]);
            flows_add_built(ft, c, &fb);
        }
    }
    for (size_t i = 0; i < ip6->n; i++) {
        /* "metadata=VNI,icmp6,icmp_type=135,nd_target=IP,
         *  actions=set_field:MAC->eth_dst,resubmit(,30)" */
        flow_build_init(&fb, t, 100);
        fb_match_int(&fb, MFF_METADATA, e->vni);
        fb_match_proto(&fb, ETH_TYPE_IPV6, IPPROTO_ICMPV6);
        fb_match_int(&fb, MFF_ICMPV6_TYPE, 135);
        fb_match_ip(&fb, MFF_ND_TARGET, ip6->v[i]);
        fb_set_mac(&fb, MFF_ETH_DST, e->mac);
        fb_resubmit(&fb, FLOWS_T_EGRESS_CT);
        flows_add_built(ft, c, &fb);
        if (port >= 0) {
            /* "priority=110,in_port=PORT,icmp6,icmp_type=135,
             *  nd_target=IP,actions=drop" */
            flow_build_init(&fb, t, 110);
            fb_match_int(&fb, MFF_IN_PORT, port);
            fb_match_proto(&fb, ETH_TYPE_IPV6, IPPROTO_ICMPV6);
            fb_match_int(&fb, MFF_ICMPV6_TYPE, 135);
            fb_match_ip(&fb, MFF_ND_TARGET, ip6->v[i]);
            flows_add_built(ft, c, &fb);
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
    struct flow_build fb;

    if (!relay || strcmp(e->host, host->id)) {
        return;
    }
    /* "in_port=RELAY,dl_vlan=P,actions=pop_vlan,<tunnel to the
     *  destination>", or "drop" if that is not known. */
    flow_build_init(&fb, FLOWS_T_CLASSIFY, 100);
    fb_match_int(&fb, MFF_IN_PORT, relay);
    fb_match_int(&fb, MFF_DL_VLAN, e->ofport);
    fb_pop_vlan(&fb);
    if (!put_tunnel_output__(&fb, host, ctx, e->dest_host, e->vni)) {
        fb.ofpacts.size = 0;
    }
    flows_add_built(ft, c, &fb);
}

/* Table 40: traffic from local VIFs to 'e'. */
static void
eni_forward__(struct flow_table *ft, uint64_t c, const struct eni *e,
              const struct flows_host *host, const struct flows_ctx *ctx)
{
    struct flows_target t[2];
    size_t n = eni_targets__(e, ctx, t);
    struct flow_build fb;

    /* "metadata=VNI,dl_dst=MAC,actions=<remote targets><local targets>",
     * "drop" if none. */
    flow_build_init(&fb, FLOWS_T_L2_LOCAL, 100);
    fb_match_int(&fb, MFF_METADATA, e->vni);
    fb_match_mac(&fb, MFF_ETH_DST, e->mac);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(t[i].host, host->id)) {
            put_tunnel_output__(&fb, host, ctx, t[i].host, e->vni);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(t[i].host, host->id)) {
            if (t[i].ofport == e->ofport) {
                put_source_copy__(&fb, e, host, ctx, false);
            }
            put_local_output__(&fb, t[i].ofport);
        }
    }
    flows_add_built(ft, c, &fb);
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
        struct flow_build fb;

        eni_classify__(ft, c, e, host, port);
        eni_port_security__(ft, c, e, port, ip4, n_ip4, &ip6);

        /* "table=45,priority=100,metadata=VNI,dl_dst=MAC,actions=
         *  <the source's copy>set_field:PORT->reg7,resubmit(,50)" */
        flow_build_init(&fb, FLOWS_T_L2_TUNNEL, 100);
        fb_match_int(&fb, MFF_METADATA, e->vni);
        fb_match_mac(&fb, MFF_ETH_DST, e->mac);
        if (port == e->ofport) {
            put_source_copy__(&fb, e, host, ctx, true);
        }
        put_local_output__(&fb, port);
        flows_add_built(ft, c, &fb);

        eni_relay_in__(ft, c, e, host, ctx);

        /* A flood never comes back to its sender (nor through its SG):
         * "table=50,priority=120,reg6=PORT,reg7=PORT,actions=drop". */
        flow_build_init(&fb, FLOWS_T_INGRESS_CT, 120);
        fb_match_int(&fb, MFF_REG6, port);
        fb_match_int(&fb, MFF_REG7, port);
        flows_add_built(ft, c, &fb);
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
