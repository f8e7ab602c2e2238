/* Unit tests of controller/flows*.c: the tables of three hosts with ENIs in
 * two VNIs whose addresses overlap, one security group and the implicit
 * default group, a live migration through its phases; every flow is printed
 * in ovs-ofctl syntax and looked up by the fields it must (or must not)
 * have, and every incremental update is checked against a recomputation of
 * the whole host. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "controller/eni.h"
#include "controller/flows.h"
#include "ovs-glue/flow-table.h"

#include "byte-order.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-port.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "util.h"
#include "tests/unit/switch-sim.h"

#define TUN 100                 /* every host's tunnel ofport */
#define N_HOSTS 3

static const char *host_ids[N_HOSTS] = { "hv1", "hv2", "hv3" };
static const char *host_ips[N_HOSTS] = {
    "192.168.0.1", "192.168.0.2", "192.168.0.3"
};

/* The world: an index, one desired table per host. */
struct world {
    struct flows_ctx *ctx;
    struct flow_table *ft[N_HOSTS];
    struct flows_work *work;
};

static int
host_idx(const char *host)
{
    for (int i = 0; i < N_HOSTS; i++) {
        if (!strcmp(host, host_ids[i])) {
            return i;
        }
    }
    return -1;
}

static struct flow_table *
table_for(const char *host, struct flows_host *hp, void *aux)
{
    struct world *w = aux;
    int i = host_idx(host);

    if (i < 0) {
        return NULL;
    }
    hp->tunnel_ofport = TUN;
    return w->ft[i];
}

/* Applies the pending work, then checks that every host's table equals a
 * recomputation from scratch. */
static void
sync_world(struct world *w)
{
    flows_work_apply(w->work, w->ctx, table_for, NULL, w);
    flows_work_clear(w->work);
    for (int i = 0; i < N_HOSTS; i++) {
        struct flows_host h = { host_ids[i], TUN };
        struct flow_table *full = flow_table_create();
        flows_host_full(full, &h, w->ctx);
        if (!flow_table_equal(full, w->ft[i])) {
            fail_msg("%s: incremental table (%zu flows) != full (%zu)",
                     host_ids[i], flow_table_n_flows(w->ft[i]),
                     flow_table_n_flows(full));
        }
        flow_table_destroy(full);
    }
    assert_int_equal(flows_n_errors(), 0);
}

static struct eni *
mk_eni(uint64_t key, uint32_t vni, const char *mac, const char *ip,
       const char *host, int32_t ofport, const char *sg)
{
    struct eni *e = eni_create();
    char id[32];

    snprintf(id, sizeof id, "eni-%04"PRIx64, key);
    e->id = xstrdup(id);
    e->key = key;
    e->vni = vni;
    e->mac = xstrdup(mac);
    e->primary_ipv4 = xstrdup(ip);
    if (sg) {
        e->security_groups = xmalloc(sizeof *e->security_groups);
        e->security_groups[0] = xstrdup(sg);
        e->n_security_groups = 1;
    }
    e->state = ENI_BOUND;
    e->host = xstrdup(host);
    e->ofport = ofport;
    return e;
}

static void
put_eni(struct world *w, struct eni *e)
{
    flows_ctx_set_eni(w->ctx, e, w->work);
    eni_destroy(e);
}

/* sg-web: tcp/80-81 from anywhere, everything from sg-web, all egress. */
static struct security_group *
mk_sg_web(void)
{
    struct security_group *sg = xzalloc(sizeof *sg);
    sg->id = xstrdup("sg-web");
    sg->n_rules = 3;
    sg->rules = xcalloc(3, sizeof *sg->rules);
    sg->rules[0] = (struct sg_rule) {
        .direction = SG_INGRESS, .ethertype = SG_IPV4, .protocol = 6,
        .port_min = 80, .port_max = 81, .remote_cidr = xstrdup("0.0.0.0/0"),
    };
    sg->rules[1] = (struct sg_rule) {
        .direction = SG_INGRESS, .ethertype = SG_IPV4,
        .remote_group = xstrdup("sg-web"),
    };
    sg->rules[2] = (struct sg_rule) {
        .direction = SG_EGRESS, .ethertype = SG_IPV4,
        .remote_cidr = xstrdup("0.0.0.0/0"),
    };
    return sg;
}

#define MAC_A "02:00:00:00:00:0a"
#define MAC_B "02:00:00:00:00:0b"
#define MAC_C "02:00:00:00:00:0c"
#define MAC_D "02:00:00:00:00:0d"
#define MAC_E "02:00:00:00:00:0e"

/* VNI 100 (0x64): A on hv1:1, B on hv2:1, both sg-web.
 * VNI 200 (0xc8): C on hv1:2, D on hv3:1, no group (the default group),
 *                 same IPs as A and B; E on hv3:2 in sg-web, 10.1.0.9. */
static int
compare_strings(const void *a_, const void *b_)
{
    return strcmp(*(char *const *) a_, *(char *const *) b_);
}

static int
setup(void **state)
{
    struct world *w = xzalloc(sizeof *w);

    /* Every flow built is checked against the OpenFlow 1.3 round trip. */
    flow_table_set_check_canonical(true);

    w->ctx = flows_ctx_create();
    w->work = flows_work_create();
    for (int i = 0; i < N_HOSTS; i++) {
        w->ft[i] = flow_table_create();
        struct flows_host h = { host_ids[i], TUN };
        flows_host_base(w->ft[i], &h);
        flows_ctx_set_host(w->ctx, host_ids[i], host_ips[i], w->work);
        /* No relay ports (test_migration_relay adds one). */
        flows_ctx_set_host_relay(w->ctx, host_ids[i], 0, w->work);
    }
    struct security_group *sg = mk_sg_web();
    flows_ctx_set_sg(w->ctx, sg, w->work);
    security_group_destroy(sg);

    put_eni(w, mk_eni(1, 100, MAC_A, "10.1.0.1", "hv1", 1, "sg-web"));
    put_eni(w, mk_eni(2, 100, MAC_B, "10.1.0.2", "hv2", 1, "sg-web"));
    put_eni(w, mk_eni(3, 200, MAC_C, "10.1.0.1", "hv1", 2, NULL));
    put_eni(w, mk_eni(4, 200, MAC_D, "10.1.0.2", "hv3", 1, NULL));
    put_eni(w, mk_eni(5, 200, MAC_E, "10.1.0.9", "hv3", 2, "sg-web"));
    sync_world(w);
    *state = w;
    return 0;
}

static int
teardown(void **state)
{
    struct world *w = *state;

    for (int i = 0; i < N_HOSTS; i++) {
        flow_table_destroy(w->ft[i]);
    }
    flows_work_destroy(w->work);
    flows_ctx_destroy(w->ctx);
    free(w);
    return 0;
}

/* --- Looking flows up ----------------------------------------------------- */

/* "table=N,<match with priority>,actions=<actions>" */
static char *
flow_to_string(const struct ft_flow *f)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_format(&s, "table=%d,", f->table_id);
    minimatch_format(&f->match, NULL, NULL, &s, f->priority);
    ds_put_cstr(&s, ",actions=");
    struct ofpact_format_params fp = { .s = &s };
    ofpacts_format(f->ofpacts, f->ofpacts_len, &fp);
    return ds_steal_cstr(&s);
}

/* True if 's' contains every ";"-separated piece of 'pieces'. */
static bool
has_all(const char *s, const char *pieces)
{
    char *copy = xstrdup(pieces), *save = NULL;
    bool ok = true;

    for (char *p = strtok_r(copy, ";", &save); p && ok;
         p = strtok_r(NULL, ";", &save)) {
        ok = strstr(s, p) != NULL;
    }
    free(copy);
    return ok;
}

/* Number of flows of 'ft' that contain all of 'pieces'. */
static size_t
count_flows(const struct flow_table *ft, const char *pieces)
{
    const struct ft_flow *f;
    size_t n = 0;

    HMAP_FOR_EACH (f, node, &ft->flows) {
        char *s = flow_to_string(f);
        n += has_all(s, pieces);
        free(s);
    }
    return n;
}

static void
dump(const struct flow_table *ft, const char *pieces)
{
    const struct ft_flow *f;

    HMAP_FOR_EACH (f, node, &ft->flows) {
        char *s = flow_to_string(f);
        if (has_all(s, pieces)) {
            print_message("# %s\n", s);
        }
        free(s);
    }
}

#define assert_flow(FT, PIECES) assert_flow__(FT, PIECES, __FILE__, __LINE__)
#define assert_no_flow(FT, PIECES) \
    assert_no_flow__(FT, PIECES, __FILE__, __LINE__)

static void
assert_flow__(const struct flow_table *ft, const char *pieces,
              const char *file, int line)
{
    if (!count_flows(ft, pieces)) {
        /* What there is instead: the flows with its first piece. */
        char *first = xstrdup(pieces);
        first[strcspn(first, ";")] = '\0';
        dump(ft, first);
        free(first);
        print_error("no flow with \"%s\"\n", pieces);
        _fail(file, line);
    }
}

static void
assert_no_flow__(const struct flow_table *ft, const char *pieces,
                 const char *file, int line)
{
    if (count_flows(ft, pieces)) {
        dump(ft, pieces);
        print_error("unexpected flow with \"%s\"\n", pieces);
        _fail(file, line);
    }
}

static struct flow_table *
ft_of(void **state, const char *host)
{
    struct world *w = *state;
    return w->ft[host_idx(host)];
}

/* --- Tests ---------------------------------------------------------------- */

static void
test_base_and_tunnel_classification(void **state)
{
    struct flow_table *hv1 = ft_of(state, "hv1");
    struct flow_table *hv2 = ft_of(state, "hv2");
    struct flow_table *hv3 = ft_of(state, "hv3");

    for (int i = 0; i < N_HOSTS; i++) {
        struct flow_table *ft = ft_of(state, host_ids[i]);
        assert_flow(ft, "table=0,priority=0,actions=drop");
        assert_flow(ft, "table=40,priority=0,actions=drop");
        assert_flow(ft, "table=31,priority=65535,ct_state=+inv+trk,"
                    "actions=drop");
    }
    /* hv1 is in both VNIs, hv2 only in 100, hv3 only in 200. */
    assert_flow(hv1, "table=0,;tun_id=0x64,in_port=100,;"
                "0x64->metadata;resubmit(,45)");
    assert_flow(hv1, "table=0,;tun_id=0xc8,in_port=100,;0xc8->metadata");
    assert_flow(hv2, "tun_id=0x64,in_port=100");
    assert_no_flow(hv2, "tun_id=0xc8");
    assert_no_flow(hv2, "metadata=0xc8");
    assert_flow(hv3, "tun_id=0xc8,in_port=100");
    assert_no_flow(hv3, "tun_id=0x64");
    assert_no_flow(hv3, "metadata=0x64");

    /* VIFs: their VNI and their zone. */
    assert_flow(hv1, "table=0,priority=100,in_port=1,;0x64->metadata;"
                "0x1->reg6;resubmit(,10)");
    assert_flow(hv1, "table=0,priority=100,in_port=2,;0xc8->metadata");
}

/* Parses "metadata=0x..." in the match and "->tun_id"/"->metadata" in the
 * actions of every flow: a flow never moves a packet to another VNI. */
static void
test_nothing_crosses_vnis(void **state)
{
    for (int i = 0; i < N_HOSTS; i++) {
        const struct ft_flow *f;
        HMAP_FOR_EACH (f, node, &ft_of(state, host_ids[i])->flows) {
            char *s = flow_to_string(f);
            char *acts = strstr(s, ",actions=");
            const char *m = strstr(s, "metadata=0x");
            const char *t = strstr(s, "tun_id=0x");
            unsigned long vni = 0;

            if (m && m < acts) {
                vni = strtoul(m + 9, NULL, 16);
            } else if (t && t < acts) {
                vni = strtoul(t + 7, NULL, 16);
            }
            for (const char *p = acts; vni && (p = strstr(p, "set_field:"));
                 p++) {
                char *end;
                unsigned long v = strtoul(p + 10, &end, 16);
                if (!strncmp(end, "->tun_id", 8)
                    || !strncmp(end, "->metadata", 10)) {
                    if (v != vni) {
                        fail_msg("%s: crosses VNIs: %s", host_ids[i], s);
                    }
                }
            }
            free(s);
        }
    }
}

static void
test_l2_forwarding(void **state)
{
    struct flow_table *hv1 = ft_of(state, "hv1");
    struct flow_table *hv2 = ft_of(state, "hv2");
    struct flow_table *hv3 = ft_of(state, "hv3");

    /* hv1 -> B (VNI 100, hv2) and -> D (VNI 200, hv3). */
    assert_flow(hv1, "table=40,;metadata=0x64,dl_dst=" MAC_B ";"
                "0x64->tun_id;192.168.0.2->tun_dst;output:100");
    assert_flow(hv1, "table=40,;metadata=0xc8,dl_dst=" MAC_D ";"
                "0xc8->tun_id;192.168.0.3->tun_dst;output:100");
    /* No MAC of one VNI is looked up in the other. */
    assert_no_flow(hv1, "metadata=0x64,dl_dst=" MAC_D);
    assert_no_flow(hv1, "metadata=0xc8,dl_dst=" MAC_B);
    /* Local delivery goes through the ingress SG of the VIF. */
    assert_flow(hv1, "table=40,;metadata=0x64,dl_dst=" MAC_A ";"
                "0x1->reg7;resubmit(,50)");
    assert_flow(hv2, "table=45,;metadata=0x64,dl_dst=" MAC_B ";"
                "0x1->reg7;resubmit(,50)");
    /* From the tunnel only local ENIs: hv2 does not deliver A. */
    assert_no_flow(hv2, "table=45,;dl_dst=" MAC_A);
    assert_no_flow(hv2, "table=45,;tun_dst");

    /* Flood: hv1's VNI 200 goes to hv3 and C's VIF; from the tunnel only
     * to C. */
    assert_flow(hv1, "table=40,priority=50,;metadata=0xc8,;"
                "192.168.0.3->tun_dst;0x2->reg7");
    assert_no_flow(hv1, "table=40,priority=50,;metadata=0xc8,;"
                   "192.168.0.2->tun_dst");
    assert_flow(hv1, "table=45,priority=50,;metadata=0xc8,;0x2->reg7");
    assert_no_flow(hv1, "table=45,priority=50,;0x1->reg7;metadata=0xc8");
    assert_no_flow(hv1, "table=45,;output:100");
    assert_no_flow(hv3, "table=40,priority=50,;0x64");
}

static void
test_port_security(void **state)
{
    struct world *w = *state;
    struct flow_table *hv1 = ft_of(state, "hv1");

    assert_flow(hv1, "table=10,;in_port=1,dl_src=" MAC_A ",arp_spa=10.1.0.1,"
                "arp_sha=" MAC_A);
    assert_flow(hv1, "table=10,;in_port=1,dl_src=" MAC_A ",nw_src=10.1.0.1");
    assert_flow(hv1, "table=10,;ipv6,in_port=1,dl_src=" MAC_A ","
                "ipv6_src=fe80::ff:fe00:a");
    assert_flow(hv1, "table=11,;icmp6,in_port=1,;nd_target=fe80::ff:fe00:a,"
                "nd_tll=" MAC_A);
    assert_no_flow(hv1, "table=10,;in_port=1,;nw_src=10.1.0.2");
    assert_no_flow(hv1, "table=10,;in_port=1,;dl_src=" MAC_C);
    assert_no_flow(hv1, "table=10,priority=90,ip,in_port=1,dl_src=" MAC_A
                   ",actions");

    /* source_dest_check off: any IP, still only its MAC. */
    struct eni *a = eni_clone(flows_ctx_find_eni(w->ctx, 1));
    a->source_dest_check = false;
    put_eni(w, a);
    sync_world(w);
    assert_flow(hv1, "table=10,priority=90,ip,in_port=1,dl_src=" MAC_A
                ",actions");
    assert_no_flow(hv1, "table=10,;in_port=1,;nw_src=");
    assert_no_flow(hv1, "table=10,;in_port=1,;dl_src=" MAC_C);
}

static void
test_arp_nd_responder(void **state)
{
    struct flow_table *hv1 = ft_of(state, "hv1");

    /* The same IP answers with the MAC of its own VNI. */
    assert_flow(hv1, "table=20,;metadata=0x64,arp_tpa=10.1.0.2,;"
                MAC_B "->eth_src;IN_PORT");
    assert_flow(hv1, "table=20,;metadata=0xc8,arp_tpa=10.1.0.2,;"
                MAC_D "->eth_src;IN_PORT");
    assert_no_flow(hv1, "metadata=0x64,arp_tpa=10.1.0.2,;" MAC_D);
    /* A's own probes are not answered. */
    assert_flow(hv1, "table=20,priority=110,arp,in_port=1,arp_tpa=10.1.0.1,"
                ";actions=drop");
    /* ND: NS becomes unicast to the owner. */
    assert_flow(hv1, "table=20,;metadata=0x64,;nd_target=fe80::ff:fe00:b;"
                MAC_B "->eth_dst");
    /* Unanswered ARP is dropped, never flooded. */
    assert_flow(hv1, "table=20,priority=50,arp,arp_op=1,actions=drop");
}

static void
test_security_groups(void **state)
{
    struct world *w = *state;
    struct flow_table *hv2 = ft_of(state, "hv2");
    struct flow_table *hv1 = ft_of(state, "hv1");
    struct flow_table *hv3 = ft_of(state, "hv3");

    /* B: tcp 80-81 from anywhere (one prefix 80/0xfffe). */
    assert_flow(hv2, "table=51,;ct_state=+new+trk,tcp,reg7=0x1,"
                "tp_dst=0x50/0xfffe;ct(commit,zone=NXM_NX_REG7[0..15])");
    /* B: from sg-web members of VNI 100 (A, B), not E (VNI 200). */
    assert_flow(hv2, "table=51,;reg7=0x1,nw_src=10.1.0.1,");
    assert_flow(hv2, "table=51,;reg7=0x1,nw_src=10.1.0.2,");
    assert_no_flow(hv2, "nw_src=10.1.0.9");
    /* Egress all. */
    assert_flow(hv2, "table=31,priority=100,ct_state=+new+trk,ip,reg6=0x1,"
                "actions=ct(commit,zone=NXM_NX_REG6[0..15]),resubmit(,40)");
    /* C (no group, VNI 200): the default group, i.e. C and D, not E. */
    assert_flow(hv1, "table=51,;reg7=0x2,nw_src=10.1.0.1,");
    assert_flow(hv1, "table=51,;reg7=0x2,nw_src=10.1.0.2,");
    assert_no_flow(hv1, "table=51,;reg7=0x2,nw_src=10.1.0.9");
    assert_flow(hv1, "table=31,priority=100,ct_state=+new+trk,ipv6,reg6=0x2");
    /* E: sg-web in VNI 200 is only E itself. */
    assert_flow(hv3, "table=51,;reg7=0x2,nw_src=10.1.0.9,");
    assert_no_flow(hv3, "table=51,;reg7=0x2,nw_src=10.1.0.1,");
    /* Replies pass, invalid dropped (base). */
    assert_flow(hv3, "table=51,priority=65534,ct_state=-new+est+trk");

    /* A joins VNI 200's sg-web by moving: B loses it, E gains it, and only
     * the SG flows of group members are redone. */
    struct eni *a = eni_clone(flows_ctx_find_eni(w->ctx, 1));
    a->vni = 200;
    a->primary_ipv4 = (free(a->primary_ipv4), xstrdup("10.1.0.7"));
    flows_ctx_set_eni(w->ctx, a, w->work);
    assert_true(flows_work_contains(w->work, "hv3", FLOWS_CLASS_SG, 5));
    assert_true(flows_work_contains(w->work, "hv2", FLOWS_CLASS_SG, 2));
    assert_false(flows_work_contains(w->work, "hv3", FLOWS_CLASS_SG, 4));
    eni_destroy(a);
    sync_world(w);
    assert_flow(hv3, "table=51,;reg7=0x2,nw_src=10.1.0.7,");
    assert_no_flow(hv2, "nw_src=10.1.0.7");

    /* A rule change redoes the members' SG flows only. */
    struct security_group *sg = mk_sg_web();
    sg->rules[0].port_max = 80;
    flows_ctx_set_sg(w->ctx, sg, w->work);
    security_group_destroy(sg);
    assert_false(flows_work_contains(w->work, "hv1", FLOWS_CLASS_ENI, 1));
    sync_world(w);
    assert_flow(hv2, "table=51,;tcp,reg7=0x1,tp_dst=80,");
}

/* B migrates from hv2:1 to hv3:7 through every phase. */
static void
test_migration_phases(void **state)
{
    struct world *w = *state;
    struct flow_table *hv1 = ft_of(state, "hv1");
    struct flow_table *hv2 = ft_of(state, "hv2");
    struct flow_table *hv3 = ft_of(state, "hv3");
    struct eni *b = eni_clone(flows_ctx_find_eni(w->ctx, 2));
    const char *to_b = "table=40,;metadata=0x64,dl_dst=" MAC_B;

    b->state = ENI_MIGRATING;
    b->phase = ENI_MIG_PREPARED;
    b->dest_host = xstrdup("hv3");
    b->dest_ofport = 7;
    flows_ctx_set_eni(w->ctx, b, w->work);
    /* A binding change is not an addressing change: no SG work. */
    assert_false(flows_work_contains(w->work, "hv1", FLOWS_CLASS_SG, 1));
    sync_world(w);

    /* PREPARED: hv3 is pre-wired and joins VNI 100... */
    assert_flow(hv3, "tun_id=0x64,in_port=100");
    assert_flow(hv3, "table=0,priority=100,in_port=7,;0x64->metadata");
    assert_flow(hv3, "table=10,;in_port=7,dl_src=" MAC_B ",nw_src=10.1.0.2");
    assert_flow(hv3, "table=45,;metadata=0x64,dl_dst=" MAC_B ";0x7->reg7");
    assert_flow(hv3, "table=51,;reg7=0x7,nw_src=10.1.0.1,");
    assert_flow(hv3, "table=0,priority=110,rarp,in_port=7,;CONTROLLER");
    /* ...but everyone sends to the source. */
    assert_flow(hv1, "192.168.0.2->tun_dst;output:100");
    assert_no_flow(hv1, "table=40,;dl_dst=" MAC_B ";192.168.0.3->tun_dst");
    assert_flow(hv3, "table=40,;dl_dst=" MAC_B ";192.168.0.2->tun_dst");
    assert_no_flow(hv3, "table=40,;dl_dst=" MAC_B ";0x7->reg7");

    /* SWITCHOVER: both, from remote hosts and from the two hosts. */
    b->phase = ENI_MIG_SWITCHOVER;
    flows_ctx_set_eni(w->ctx, b, w->work);
    sync_world(w);
    assert_flow(hv1, "table=40,;dl_dst=" MAC_B ";"
                "192.168.0.2->tun_dst;192.168.0.3->tun_dst");
    assert_flow(hv2, "table=40,;dl_dst=" MAC_B ";"
                "192.168.0.3->tun_dst;0x1->reg7");
    assert_flow(hv3, "table=40,;dl_dst=" MAC_B ";"
                "192.168.0.2->tun_dst;0x7->reg7");
    assert_flow(hv3, "table=40,priority=50,;metadata=0x64;0x7->reg7");

    /* ACTIVATED: the destination only; the source keeps its VIF flows. */
    b->phase = ENI_MIG_ACTIVATED;
    flows_ctx_set_eni(w->ctx, b, w->work);
    sync_world(w);
    assert_flow(hv1, to_b);
    assert_flow(hv1, "table=40,;dl_dst=" MAC_B ";192.168.0.3->tun_dst");
    assert_no_flow(hv1, "table=40,;dl_dst=" MAC_B ";192.168.0.2->tun_dst");
    assert_flow(hv2, "table=40,;dl_dst=" MAC_B ";192.168.0.3->tun_dst");
    assert_no_flow(hv2, "table=40,;dl_dst=" MAC_B ";0x1->reg7");
    assert_flow(hv2, "table=45,;dl_dst=" MAC_B ";0x1->reg7");
    assert_no_flow(hv3, "table=0,priority=110,rarp");

    /* Commit: bound to hv3; hv2 leaves VNI 100 (A's flows go too). */
    b->state = ENI_BOUND;
    b->phase = ENI_MIG_NONE;
    free(b->host);
    b->host = b->dest_host;
    b->ofport = 7;
    b->dest_host = NULL;
    b->dest_ofport = -1;
    flows_ctx_set_eni(w->ctx, b, w->work);
    sync_world(w);
    assert_no_flow(hv2, "metadata=0x64");
    assert_no_flow(hv2, "tun_id=0x64");
    assert_int_equal(count_flows(hv2, "cookie"), 0);
    assert_flow(hv1, "table=40,;dl_dst=" MAC_B ";192.168.0.3->tun_dst");

    /* Rollback-style removal: the ENI disappears everywhere. */
    flows_ctx_remove_eni(w->ctx, 2, w->work);
    sync_world(w);
    for (int i = 0; i < N_HOSTS; i++) {
        assert_no_flow(ft_of(state, host_ids[i]), MAC_B);
    }
    eni_destroy(b);
}

/* B migrates from hv2:1 to hv3:7 through hv2's relay port (50). */
static void
test_migration_relay(void **state)
{
    struct world *w = *state;
    struct flow_table *hv1 = ft_of(state, "hv1");
    struct flow_table *hv2 = ft_of(state, "hv2");
    struct flow_table *hv3 = ft_of(state, "hv3");
    struct eni *b = eni_clone(flows_ctx_find_eni(w->ctx, 2));
    const char *tee = "push_vlan:0x8100;output:50,strip_vlan";

    flows_ctx_set_host_relay(w->ctx, "hv2", 50, w->work);
    b->state = ENI_MIGRATING;
    b->phase = ENI_MIG_PREPARED;
    b->dest_host = xstrdup("hv3");
    b->dest_ofport = 7;
    flows_ctx_set_eni(w->ctx, b, w->work);
    sync_world(w);

    /* PREPARED: the source tees what it delivers to B's VIF (from the
     * tunnel and from its own VIFs) to the relay port tagged VLAN 1, and
     * sends what comes back tagged 1 to hv3. */
    assert_flow(hv2, "table=45,;dl_dst=" MAC_B ";push_vlan:0x8100;"
                "output:50,strip_vlan;0x1->reg7");
    assert_flow(hv2, "table=40,;dl_dst=" MAC_B ";output:50,strip_vlan;"
                "0x1->reg7");
    assert_flow(hv2, "table=0,;in_port=50,dl_vlan=1;strip_vlan;"
                "192.168.0.3->tun_dst");
    assert_no_flow(hv1, tee);
    assert_no_flow(hv3, tee);
    assert_flow(hv1, "table=40,;dl_dst=" MAC_B ";192.168.0.2->tun_dst");

    /* SWITCHOVER: remote hosts stay on the source, which forwards to the
     * destination itself (a frame from the tunnel with in_port cleared). */
    b->phase = ENI_MIG_SWITCHOVER;
    flows_ctx_set_eni(w->ctx, b, w->work);
    sync_world(w);
    assert_flow(hv1, "table=40,;dl_dst=" MAC_B ";192.168.0.2->tun_dst");
    assert_no_flow(hv1, "table=40,;dl_dst=" MAC_B ";192.168.0.3->tun_dst");
    assert_flow(hv3, "table=40,;dl_dst=" MAC_B ";192.168.0.2->tun_dst");
    assert_no_flow(hv3, "table=40,;dl_dst=" MAC_B ";0x7->reg7");
    assert_flow(hv2, "table=45,;dl_dst=" MAC_B ";0->in_port;"
                "192.168.0.3->tun_dst;0x1->reg7");
    assert_flow(hv2, "table=40,;dl_dst=" MAC_B ";192.168.0.3->tun_dst;"
                "0x1->reg7");
    assert_no_flow(hv2, tee);
    assert_flow(hv2, "table=0,;in_port=50,dl_vlan=1;strip_vlan");

    /* A source that has not said whether it has a relay port (tetherd
     * restarted): remote hosts stay on it; one that has none: both. */
    flows_ctx_set_host_relay(w->ctx, "hv2", -1, w->work);
    sync_world(w);
    assert_no_flow(hv1, "table=40,;dl_dst=" MAC_B ";192.168.0.3->tun_dst");
    flows_ctx_set_host_relay(w->ctx, "hv2", 0, w->work);
    sync_world(w);
    assert_flow(hv1, "table=40,;dl_dst=" MAC_B ";"
                "192.168.0.2->tun_dst;192.168.0.3->tun_dst");
    assert_no_flow(hv2, "in_port=50");
    flows_ctx_set_host_relay(w->ctx, "hv2", 50, w->work);

    /* ACTIVATED: remote hosts to the destination; stragglers that reach
     * the source still go on to it. */
    b->phase = ENI_MIG_ACTIVATED;
    flows_ctx_set_eni(w->ctx, b, w->work);
    sync_world(w);
    assert_flow(hv1, "table=40,;dl_dst=" MAC_B ";192.168.0.3->tun_dst");
    assert_flow(hv2, "table=45,;dl_dst=" MAC_B ";0->in_port;"
                "192.168.0.3->tun_dst");

    /* Commit: nothing of the relay is left. */
    b->state = ENI_BOUND;
    b->phase = ENI_MIG_NONE;
    free(b->host);
    b->host = b->dest_host;
    b->ofport = 7;
    b->dest_host = NULL;
    b->dest_ofport = -1;
    flows_ctx_set_eni(w->ctx, b, w->work);
    sync_world(w);
    assert_no_flow(hv2, "in_port=50");
    assert_no_flow(hv2, tee);

    /* Break-before-make: no relay at all. */
    flows_ctx_set_relay(w->ctx, false);
    b->state = ENI_MIGRATING;
    b->phase = ENI_MIG_PREPARED;
    free(b->host);
    b->host = xstrdup("hv2");
    b->ofport = 1;
    b->dest_host = xstrdup("hv3");
    b->dest_ofport = 7;
    flows_ctx_set_eni(w->ctx, b, w->work);
    sync_world(w);
    assert_no_flow(hv2, tee);
    assert_no_flow(hv2, "in_port=50");
    eni_destroy(b);
}

/* A phase change touches one ENI's flows on the hosts of its VNI. */
static void
test_work_is_bounded(void **state)
{
    struct world *w = *state;
    struct eni *d = eni_clone(flows_ctx_find_eni(w->ctx, 4));

    d->state = ENI_MIGRATING;
    d->phase = ENI_MIG_PREPARED;
    d->dest_host = xstrdup("hv1");
    d->dest_ofport = 9;
    flows_ctx_set_eni(w->ctx, d, w->work);
    sync_world(w);

    d->phase = ENI_MIG_SWITCHOVER;
    flows_ctx_set_eni(w->ctx, d, w->work);
    /* D on hv1 and hv3 (ENI, SG), VNI 200 flood on hv1 and hv3. */
    assert_int_equal(flows_work_count(w->work), 6);
    assert_true(flows_work_contains(w->work, "hv1", FLOWS_CLASS_ENI, 4));
    assert_true(flows_work_contains(w->work, "hv3", FLOWS_CLASS_VNI, 200));
    sync_world(w);

    /* A host changing its underlay IP redoes the ENIs bound there. */
    flows_ctx_set_host(w->ctx, "hv3", "192.168.9.3", w->work);
    assert_true(flows_work_contains(w->work, "hv1", FLOWS_CLASS_ENI, 5));
    assert_false(flows_work_contains(w->work, "hv1", FLOWS_CLASS_ENI, 3));
    sync_world(w);
    assert_flow(ft_of(state, "hv1"), "dl_dst=" MAC_E ";192.168.9.3->tun_dst");
    eni_destroy(d);
}

/* The same ENIs, hosts and groups, given in another order to a fresh
 * index, give the same tables: a restarted tetherd (whose hash tables fill
 * in another order) computes exactly the flows its predecessor installed.
 * Action lists built from sets are in a fixed order: a VNI's flood goes to
 * the other hosts by id, then to the local VIFs by ofport. */
static void
test_deterministic(void **state)
{
    struct world *w = *state;

    /* VNI 200 on every host, with three VIFs on hv1. */
    put_eni(w, mk_eni(6, 200, "02:00:00:00:00:10", "10.1.0.10", "hv1", 4,
                      NULL));
    put_eni(w, mk_eni(7, 200, "02:00:00:00:00:11", "10.1.0.11", "hv2", 2,
                      NULL));
    put_eni(w, mk_eni(8, 200, "02:00:00:00:00:12", "10.1.0.12", "hv1", 3,
                      "sg-web"));
    sync_world(w);

    const char *flood = "table=40,priority=50,;metadata=0xc8,";
    assert_int_equal(count_flows(ft_of(state, "hv1"), flood), 1);
    const struct ft_flow *f;
    HMAP_FOR_EACH (f, node, &ft_of(state, "hv1")->flows) {
        char *s = flow_to_string(f);
        if (has_all(s, flood)) {
            static const char *order[] = {
                "192.168.0.2->tun_dst", "192.168.0.3->tun_dst",
                "0x2->reg7", "0x3->reg7", "0x4->reg7",
            };
            const char *p = s;
            for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
                p = strstr(p, order[i]);
                if (!p) {
                    fail_msg("flood not in order (%s): %s", order[i], s);
                }
            }
        }
        free(s);
    }

    /* A fresh index, filled backwards. */
    struct flows_ctx *ctx = flows_ctx_create();
    for (int i = N_HOSTS - 1; i >= 0; i--) {
        flows_ctx_set_host(ctx, host_ids[i], host_ips[i], NULL);
    }
    for (uint64_t key = 8; key >= 1; key--) {
        flows_ctx_set_eni(ctx, flows_ctx_find_eni(w->ctx, key), NULL);
    }
    struct security_group *sg = mk_sg_web();
    flows_ctx_set_sg(ctx, sg, NULL);
    security_group_destroy(sg);

    for (int i = 0; i < N_HOSTS; i++) {
        struct flows_host h = { host_ids[i], TUN };
        struct flow_table *full = flow_table_create();
        flows_host_full(full, &h, ctx);
        if (!flow_table_equal(full, w->ft[i])) {
            dump(full, flood);
            dump(w->ft[i], flood);
            fail_msg("%s: the same inputs in another order give another "
                     "table", host_ids[i]);
        }
        flow_table_destroy(full);
    }
    flows_ctx_destroy(ctx);
}


/* Every flow the computation makes (mid-migration too, for the controller
 * flows), installed on a switch that speaks OpenFlow 1.3 or 1.5 and read
 * back, compares equal to the desired flow: reconciling a table that is
 * already there sends nothing. */
static void
test_switch_reports_desired(void **state)
{
    struct world *w = *state;
    struct eni *b = eni_clone(flows_ctx_find_eni(w->ctx, 2));

    b->state = ENI_MIGRATING;
    b->phase = ENI_MIG_SWITCHOVER;
    b->dest_host = xstrdup("hv3");
    b->dest_ofport = 7;
    flows_ctx_set_eni(w->ctx, b, w->work);
    eni_destroy(b);
    sync_world(w);

    static const enum ofputil_protocol protocols[] = {
        OFPUTIL_P_OF13_OXM, OFPUTIL_P_OF15_OXM,
    };
    for (size_t p = 0; p < ARRAY_SIZE(protocols); p++) {
        for (int i = 0; i < N_HOSTS; i++) {
            struct flow_table *installed = flow_table_create();
            const struct ft_flow *f;
            struct ft_plan plan;

            HMAP_FOR_EACH (f, node, &w->ft[i]->flows) {
                switch_sim_flow(installed, f, protocols[p]);
            }
            flow_table_diff(w->ft[i], installed, &plan);
            for (size_t k = 0; k < plan.n_ops; k++) {
                char *s = flow_to_string(plan.ops[k].flow);
                print_message("# %s %s\n",
                              ft_op_type_to_string(plan.ops[k].type), s);
                free(s);
            }
            if (!ft_plan_is_empty(&plan)) {
                fail_msg("%s, %s: %zu ops for an installed table",
                         host_ids[i],
                         ofputil_protocol_to_string(protocols[p]),
                         plan.n_ops);
            }
            ft_plan_destroy(&plan);
            flow_table_destroy(installed);
        }
    }
}

/* --- Golden tables ---------------------------------------------------------
 *
 * The tables of a scenario that uses every kind of flow the computation
 * makes -- migrations through their phases with and without the relay, a
 * host with an IPv6 underlay, secondary and IPv6 addresses, an ENI without
 * source/destination check, security group rules of every protocol form,
 * port range, CIDR and remote group -- compared line by line with
 * tests/unit/flows-golden.txt.  That file was written by the computation
 * that built each flow from ovs-ofctl text through libopenvswitch's parser
 * and an OpenFlow 1.3 round trip; the flows built directly
 * (ovs-glue/flow-build.h) must be the same.  TEST_FLOWS_GOLDEN=FILE writes
 * FILE instead of comparing. */

static void
mk_str_array(size_t n, const char **v, char ***out)
{
    *out = xcalloc(n, sizeof **out);
    for (size_t i = 0; i < n; i++) {
        (*out)[i] = xstrdup(v[i]);
    }
}

/* Appends every flow of every host, "STEP HOST cookie=C FLOW", sorted. */
static void
golden_dump(struct world *w, const char *step, struct ds *out)
{
    for (int i = 0; i < N_HOSTS; i++) {
        size_t n = flow_table_n_flows(w->ft[i]), k = 0;
        char **lines = xcalloc(n, sizeof *lines);
        const struct ft_flow *f;

        HMAP_FOR_EACH (f, node, &w->ft[i]->flows) {
            char *fs = flow_to_string(f);
            lines[k++] = xasprintf("%s %s cookie=%#"PRIx64" %s", step,
                                   host_ids[i], f->cookie, fs);
            free(fs);
        }
        qsort(lines, n, sizeof *lines, compare_strings);
        for (k = 0; k < n; k++) {
            ds_put_format(out, "%s\n", lines[k]);
            free(lines[k]);
        }
        free(lines);
    }
}

static void
golden_step(struct world *w, const char *step, struct ds *out)
{
    sync_world(w);
    golden_dump(w, step, out);
}

/* sg-mix: rules of every form. */
static struct security_group *
mk_sg_mix(void)
{
    static const struct sg_rule rules[] = {
        { SG_INGRESS, SG_IPV4, 6, 22, 22, "10.0.0.0/8", NULL },
        { SG_INGRESS, SG_IPV6, 17, 1000, 2000, "::/0", NULL },
        { SG_INGRESS, SG_IPV4, 1, 0, 0, NULL, "sg-mix" },
        { SG_INGRESS, SG_IPV6, 58, 0, 0, NULL, "sg-mix" },
        { SG_EGRESS, SG_IPV4, 47, 0, 0, "0.0.0.0/0", NULL },
        { SG_EGRESS, SG_IPV6, 132, 5000, 5001, "fd00::/8", NULL },
        { SG_INGRESS, SG_IPV6, 1, 0, 0, "fd00::1/128", NULL },
        { SG_INGRESS, SG_IPV4, 17, 0, 65535, NULL, NULL },
        { SG_EGRESS, SG_IPV4, 6, 1, 1023, "192.168.0.0/16", NULL },
    };
    struct security_group *sg = xzalloc(sizeof *sg);

    sg->id = xstrdup("sg-mix");
    sg->n_rules = ARRAY_SIZE(rules);
    sg->rules = xcalloc(sg->n_rules, sizeof *sg->rules);
    for (size_t i = 0; i < sg->n_rules; i++) {
        sg->rules[i] = rules[i];
        sg->rules[i].remote_cidr = nullable_xstrdup(rules[i].remote_cidr);
        sg->rules[i].remote_group = nullable_xstrdup(rules[i].remote_group);
    }
    return sg;
}

static void
golden_scenario(struct world *w, struct ds *out)
{
    static const char *f_ip4s[] = { "10.3.0.7", "10.3.0.8" };
    static const char *f_ip6s[] = { "fd00::6", "fd00:0:0:1::6" };
    static const char *g_ip6s[] = { "fd00::7" };

    /* hv3's underlay is IPv6; F and G in VNI 300, F in sg-mix, G without
     * source/destination check in the default group. */
    flows_ctx_set_host(w->ctx, "hv3", "fd00:1::3", w->work);
    struct security_group *sg = mk_sg_mix();
    flows_ctx_set_sg(w->ctx, sg, w->work);
    security_group_destroy(sg);
    struct eni *f = mk_eni(6, 300, "02:00:00:00:00:0f", "10.3.0.6", "hv1",
                           3, "sg-mix");
    f->n_secondary_ipv4s = ARRAY_SIZE(f_ip4s);
    mk_str_array(f->n_secondary_ipv4s, f_ip4s, &f->secondary_ipv4s);
    f->n_ipv6s = ARRAY_SIZE(f_ip6s);
    mk_str_array(f->n_ipv6s, f_ip6s, &f->ipv6s);
    struct eni *g = mk_eni(7, 300, "02:00:00:00:00:10", "10.3.0.9", "hv2", 4,
                           NULL);
    g->source_dest_check = false;
    g->n_ipv6s = ARRAY_SIZE(g_ip6s);
    mk_str_array(g->n_ipv6s, g_ip6s, &g->ipv6s);
    flows_ctx_set_eni(w->ctx, g, w->work);
    eni_destroy(g);
    flows_ctx_set_eni(w->ctx, f, w->work);
    golden_step(w, "bound", out);

    /* F migrates from hv1:3 to hv3:8 through hv1's relay port (60). */
    flows_ctx_set_host_relay(w->ctx, "hv1", 60, w->work);
    f->state = ENI_MIGRATING;
    f->phase = ENI_MIG_PREPARED;
    f->dest_host = xstrdup("hv3");
    f->dest_ofport = 8;
    flows_ctx_set_eni(w->ctx, f, w->work);
    golden_step(w, "relay-prepared", out);
    f->phase = ENI_MIG_SWITCHOVER;
    flows_ctx_set_eni(w->ctx, f, w->work);
    golden_step(w, "relay-switchover", out);
    f->phase = ENI_MIG_ACTIVATED;
    flows_ctx_set_eni(w->ctx, f, w->work);
    golden_step(w, "relay-activated", out);

    /* Without a relay (hv1 has none): both at switchover. */
    flows_ctx_set_host_relay(w->ctx, "hv1", 0, w->work);
    f->phase = ENI_MIG_SWITCHOVER;
    flows_ctx_set_eni(w->ctx, f, w->work);
    golden_step(w, "switchover", out);

    /* G (hv2:4) migrates to hv3:9, hv2's relay not reported yet. */
    flows_ctx_set_host_relay(w->ctx, "hv2", -1, w->work);
    g = eni_clone(flows_ctx_find_eni(w->ctx, 7));
    g->state = ENI_MIGRATING;
    g->phase = ENI_MIG_SWITCHOVER;
    g->dest_host = xstrdup("hv3");
    g->dest_ofport = 9;
    flows_ctx_set_eni(w->ctx, g, w->work);
    golden_step(w, "unknown-relay", out);
    eni_destroy(g);
    eni_destroy(f);
}

static void
test_golden(void **state)
{
    struct world *w = *state;
    struct ds out = DS_EMPTY_INITIALIZER;
    const char *write = getenv("TEST_FLOWS_GOLDEN");

    golden_scenario(w, &out);
    if (write) {
        FILE *file = fopen(write, "w");
        assert_non_null(file);
        fputs(ds_cstr(&out), file);
        fclose(file);
        ds_destroy(&out);
        return;
    }

    const char *srcdir = getenv("srcdir");
    char *path = xasprintf("%s/tests/unit/flows-golden.txt",
                           srcdir ? srcdir : ".");
    FILE *file = fopen(path, "r");
    if (!file) {
        fail_msg("%s: cannot open", path);
    }
    struct ds line = DS_EMPTY_INITIALIZER;
    const char *p = ds_cstr(&out);
    size_t n = 0, bad = 0;
    while (!ds_get_line(&line, file)) {
        size_t len = strcspn(p, "\n");
        n++;
        if (len != line.length || strncmp(p, ds_cstr(&line), len)) {
            if (bad++ < 10) {
                print_error("line %zu: expected %s\n        got      %.*s\n",
                            n, ds_cstr(&line), (int) len, p);
            }
        }
        p += len + (p[len] == '\n');
    }
    fclose(file);
    if (*p) {
        print_error("more flows than the golden file's %zu: %.200s\n", n, p);
        bad++;
    }
    ds_destroy(&line);
    ds_destroy(&out);
    free(path);
    if (bad || n < 100) {
        fail_msg("%zu lines differ from the golden tables (%zu lines)",
                 bad, n);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_base_and_tunnel_classification,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_crosses_vnis,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_l2_forwarding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_security, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arp_nd_responder,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_security_groups,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_phases,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_relay, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_work_is_bounded,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_deterministic,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_switch_reports_desired,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_golden, setup, teardown),
    };

    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_WARN);
    if (getenv("TEST_FLOWS_DUMP")) {
        void *st;
        setup(&st);
        dump(((struct world *) st)->ft[0], "");
        teardown(&st);
        return 0;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
