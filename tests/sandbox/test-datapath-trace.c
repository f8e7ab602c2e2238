/* Sandbox tests of controller/flows*.c: the tables computed for one host
 * (hv1) are installed with ovs-ofctl into a real ovs-vswitchd (dummy
 * datapath, two VIFs and a flow-based Geneve port) and packets are run
 * through them with ofproto/trace, conntrack states given with --ct-next:
 * where each packet ends (VIF, tunnel with tun_id and tun_dst, or drop)
 * for ordinary, spoofed, cross-VNI and SG-denied traffic, ARP answers, and
 * a migration's switchover. */
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
#include "tests/sandbox/sandbox.h"

#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/vlog.h"
#include "util.h"

#define TUN 100

#define MAC_A "02:00:00:00:00:0a"   /* VNI 100, hv1 port 1, 10.1.0.1 */
#define MAC_B "02:00:00:00:00:0b"   /* VNI 100, hv2, 10.1.0.2 */
#define MAC_C "02:00:00:00:00:0c"   /* VNI 200, hv1 port 2, 10.1.0.1 */
#define MAC_D "02:00:00:00:00:0d"   /* VNI 200, hv3, 10.1.0.2 */

static struct sandbox *sb;
static struct flows_ctx *ctx;

static struct eni *
mk_eni(uint64_t key, uint32_t vni, const char *mac, const char *ip,
       const char *host, int32_t ofport, const char *sg)
{
    struct eni *e = eni_create();

    e->id = xasprintf("eni-%04"PRIx64, key);
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
put_eni(struct eni *e)
{
    flows_ctx_set_eni(ctx, e, NULL);
    eni_destroy(e);
}

/* sg-web: tcp/80 from anywhere, everything from sg-web, all egress. */
static void
put_sg_web(void)
{
    struct security_group *sg = xzalloc(sizeof *sg);
    sg->id = xstrdup("sg-web");
    sg->n_rules = 3;
    sg->rules = xcalloc(3, sizeof *sg->rules);
    sg->rules[0] = (struct sg_rule) {
        .direction = SG_INGRESS, .ethertype = SG_IPV4, .protocol = 6,
        .port_min = 80, .port_max = 80, .remote_cidr = xstrdup("0.0.0.0/0"),
    };
    sg->rules[1] = (struct sg_rule) {
        .direction = SG_INGRESS, .ethertype = SG_IPV4,
        .remote_group = xstrdup("sg-web"),
    };
    sg->rules[2] = (struct sg_rule) {
        .direction = SG_EGRESS, .ethertype = SG_IPV4,
        .remote_cidr = xstrdup("0.0.0.0/0"),
    };
    flows_ctx_set_sg(ctx, sg, NULL);
    security_group_destroy(sg);
}

/* Computes hv1's table and installs it in the sandbox's br-int in place of
 * whatever is there. */
static void
install_hv1(void)
{
    struct flows_host h = { "hv1", TUN };
    struct flow_table *ft = flow_table_create();
    char *path = xasprintf("%s/flows.txt", sandbox_dir(sb));
    FILE *f = fopen(path, "w");
    const struct ft_flow *flow;

    assert_non_null(f);
    flows_host_full(ft, &h, ctx);
    assert_int_equal(flows_n_errors(), 0);
    HMAP_FOR_EACH (flow, node, &ft->flows) {
        struct ds s = DS_EMPTY_INITIALIZER;
        ds_put_format(&s, "cookie=%#"PRIx64",table=%d,", flow->cookie,
                      flow->table_id);
        minimatch_format(&flow->match, NULL, NULL, &s, flow->priority);
        ds_put_cstr(&s, ",actions=");
        struct ofpact_format_params fp = { .s = &s };
        ofpacts_format(flow->ofpacts, flow->ofpacts_len, &fp);
        fprintf(f, "%s\n", ds_cstr(&s));
        ds_destroy(&s);
    }
    fclose(f);
    free(path);
    flow_table_destroy(ft);

    assert_int_equal(sandbox_run(sb, NULL, "ovs-ofctl -O OpenFlow13 "
                                 "replace-flows br-int \"$SB_DIR/flows.txt\""),
                     0);
}

/* Traces 'flow' (with 'ct' as --ct-next options, or "") and returns the
 * output (the caller frees it). */
static char *
trace(const char *ct, const char *flow)
{
    char *out = NULL;
    int status = sandbox_run(sb, &out, SANDBOX_APPCTL " ofproto/trace %s "
                             "br-int '%s'", ct, flow);
    assert_int_equal(status, 0);
    return out;
}

/* Datapath port numbers of the VIFs, read back after setup. */
static int dp_p0 = -1, dp_p1 = -1, dp_p2 = -1;  /* p0: the underlay */

/* Appends to 'v' the verdict of one "Datapath actions:" line: "p1"/"p2"
 * for an output to that VIF, "tnl:DST/VNI" for a Geneve tunnel push. */
static void
verdict_line__(const char *line, size_t len, struct ds *v)
{
    int depth = 0;
    size_t tok = 0;

    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? line[i] : ',';
        if (c == '(') {
            depth++;
        } else if (c == ')') {
            depth--;
        } else if (c == ',' && !depth) {
            char *t = xmemdup0(line + tok, i - tok);
            if (t[0] && strspn(t, "0123456789") == strlen(t)
                && atoi(t) != dp_p0) {
                int port = atoi(t);
                ds_put_format(v, "%s ", port == dp_p1 ? "p1"
                              : port == dp_p2 ? "p2" : t);
            } else if (!strncmp(t, "clone(", 6)) {
                verdict_line__(t + 6, strlen(t + 6) - 1, v);
            } else if (!strncmp(t, "tnl_push(", 9)) {
                const char *dst = strstr(t, "ipv4(");
                const char *vni = strstr(t, "vni=");
                dst = dst ? strstr(dst, "dst=") : NULL;
                ds_put_format(v, "tnl:%.*s/%.*s ",
                              dst ? (int) strcspn(dst + 4, ",)") : 1,
                              dst ? dst + 4 : "?",
                              vni ? (int) strcspn(vni + 4, ",)") : 1,
                              vni ? vni + 4 : "?");
            }
            free(t);
            tok = i + 1;
        }
    }
}

/* Where the packet of trace output 'out' went, over every recirculation:
 * a space-separated list ("tnl:192.168.0.2/0x64 p1 "), "" if dropped. */
static char *
verdict(const char *out)
{
    static const char tag[] = "Datapath actions: ";
    struct ds v = DS_EMPTY_INITIALIZER;

    for (const char *p = strstr(out, tag); p; p = strstr(p, tag)) {
        p += strlen(tag);
        verdict_line__(p, strcspn(p, "\n"), &v);
    }
    ds_chomp(&v, ' ');
    return ds_steal_cstr(&v);
}

#define expect(CT, FLOW, WANT) expect__(CT, FLOW, WANT, __FILE__, __LINE__)

/* Traces 'flow' and checks that it ends exactly in 'want' (see
 * verdict()). */
static void
expect__(const char *ct, const char *flow, const char *want,
         const char *file, int line)
{
    char *out = trace(ct, flow);
    char *v = verdict(out);

    if (strcmp(v, want)) {
        fputs(out, stderr);
        print_error("%s: went to \"%s\", expected \"%s\"\n", flow, v, want);
        free(v);
        free(out);
        _fail(file, line);
        return;
    }
    free(v);
    free(out);
}

#define A_TCP(SRC, DST_MAC, DST, PORT)                                  \
    "in_port=1,dl_src=" MAC_A ",dl_dst=" DST_MAC ",tcp,nw_src=" SRC     \
    ",nw_dst=" DST ",tp_src=4000,tp_dst=" PORT

#define TNL_HV2 "tnl:192.168.0.2/0x64"
#define TNL_HV3_100 "tnl:192.168.0.3/0x64"
#define TNL_HV3_200 "tnl:192.168.0.3/0xc8"

static void
test_unicast_to_remote(void **state OVS_UNUSED)
{
    /* A -> B: egress allowed, tunnel to hv2 in VNI 100. */
    expect("--ct-next trk,new", A_TCP("10.1.0.1", MAC_B, "10.1.0.2", "80"),
           TNL_HV2);
    /* C -> D: the same IPs, VNI 200 to hv3. */
    expect("--ct-next trk,new",
           "in_port=2,dl_src=" MAC_C ",dl_dst=" MAC_D ",tcp,"
           "nw_src=10.1.0.1,nw_dst=10.1.0.2,tp_dst=80", TNL_HV3_200);
}

static void
test_spoofing_and_cross_vni_dropped(void **state OVS_UNUSED)
{
    /* Spoofed IP, spoofed MAC. */
    expect("--ct-next trk,new", A_TCP("10.1.0.5", MAC_B, "10.1.0.2", "80"),
           "");
    expect("--ct-next trk,new",
           "in_port=1,dl_src=02:00:00:00:00:99,dl_dst=" MAC_B ",tcp,"
           "nw_src=10.1.0.1,nw_dst=10.1.0.2,tp_dst=80", "");
    /* ARP with another sender address, or another sender MAC. */
    expect("", "in_port=1,dl_src=" MAC_A ",dl_dst=ff:ff:ff:ff:ff:ff,arp,"
           "arp_op=1,arp_sha=" MAC_A ",arp_spa=10.1.0.7,arp_tpa=10.1.0.2",
           "");
    expect("", "in_port=1,dl_src=" MAC_A ",dl_dst=ff:ff:ff:ff:ff:ff,arp,"
           "arp_op=1,arp_sha=" MAC_C ",arp_spa=10.1.0.1,arp_tpa=10.1.0.2",
           "");
    /* C (VNI 200) to B's MAC (VNI 100): unknown in VNI 200. */
    expect("--ct-next trk,new",
           "in_port=2,dl_src=" MAC_C ",dl_dst=" MAC_B ",tcp,"
           "nw_src=10.1.0.1,nw_dst=10.1.0.2,tp_dst=80", "");
    /* Tunnel traffic of VNI 200 for A (a VNI 100 ENI): dropped; the same
     * in VNI 100 is delivered. */
    expect("--ct-next trk,new",
           "in_port=100,tun_id=0xc8,tun_src=192.168.0.3,"
           "tun_dst=192.168.0.1,dl_src=" MAC_D ",dl_dst=" MAC_A ",tcp,"
           "nw_src=10.1.0.2,nw_dst=10.1.0.1,tp_dst=80", "");
    expect("--ct-next trk,new",
           "in_port=100,tun_id=0x64,tun_src=192.168.0.3,"
           "tun_dst=192.168.0.1,dl_src=" MAC_D ",dl_dst=" MAC_A ",tcp,"
           "nw_src=10.1.0.2,nw_dst=10.1.0.1,tp_dst=80", "p1");
    /* Unknown VNI; unknown unicast. */
    expect("", "in_port=100,tun_id=0x12c,tun_src=192.168.0.3,"
           "tun_dst=192.168.0.1,dl_src=" MAC_D ",dl_dst=" MAC_A ",tcp,"
           "nw_src=10.1.0.2,nw_dst=10.1.0.1,tp_dst=80", "");
    expect("--ct-next trk,new",
           A_TCP("10.1.0.1", "02:00:00:00:00:77", "10.1.0.2", "80"), "");
}

static void
test_arp_responder(void **state OVS_UNUSED)
{
    char *out;

    /* A asks for 10.1.0.2: answered with B's MAC, back on port 1. */
    out = trace("", "in_port=1,dl_src=" MAC_A ",dl_dst=ff:ff:ff:ff:ff:ff,"
                "arp,arp_op=1,arp_sha=" MAC_A ",arp_spa=10.1.0.1,"
                "arp_tpa=10.1.0.2");
    char *v = verdict(out);
    assert_string_equal(v, "p1");
    assert_non_null(strstr(out, "arp_sha=" MAC_B));
    free(v);
    free(out);
    /* C asks for the same IP in VNI 200: D's MAC, back on port 2. */
    out = trace("", "in_port=2,dl_src=" MAC_C ",dl_dst=ff:ff:ff:ff:ff:ff,"
                "arp,arp_op=1,arp_sha=" MAC_C ",arp_spa=10.1.0.1,"
                "arp_tpa=10.1.0.2");
    v = verdict(out);
    assert_string_equal(v, "p2");
    assert_non_null(strstr(out, "arp_sha=" MAC_D));
    assert_null(strstr(out, "arp_sha=" MAC_B));
    free(v);
    free(out);
    /* Unknown IP, and A's own address (a probe): no answer, no flood. */
    expect("", "in_port=1,dl_src=" MAC_A ",dl_dst=ff:ff:ff:ff:ff:ff,arp,"
           "arp_op=1,arp_sha=" MAC_A ",arp_spa=10.1.0.1,arp_tpa=10.1.0.77",
           "");
    expect("", "in_port=1,dl_src=" MAC_A ",dl_dst=ff:ff:ff:ff:ff:ff,arp,"
           "arp_op=1,arp_sha=" MAC_A ",arp_spa=0.0.0.0,arp_tpa=10.1.0.1",
           "");
}

#define TUN_TO_A(SRC, PORT)                                             \
    "in_port=100,tun_id=0x64,tun_src=192.168.0.2,tun_dst=192.168.0.1,"  \
    "dl_src=" MAC_B ",dl_dst=" MAC_A ",tcp,nw_src=" SRC                 \
    ",nw_dst=10.1.0.1,tp_src=4000,tp_dst=" PORT

static void
test_ingress_security_group(void **state OVS_UNUSED)
{
    /* From the tunnel to A: tcp/80 from anywhere is allowed... */
    expect("--ct-next trk,new", TUN_TO_A("10.9.9.9", "80"), "p1");
    /* ...tcp/22 only from sg-web (B is a member), else denied... */
    expect("--ct-next trk,new", TUN_TO_A("10.1.0.2", "22"), "p1");
    expect("--ct-next trk,new", TUN_TO_A("10.9.9.9", "22"), "");
    /* ...unless it is a reply; invalid is dropped. */
    expect("--ct-next trk,est", TUN_TO_A("10.9.9.9", "22"), "p1");
    expect("--ct-next trk,inv", TUN_TO_A("10.9.9.9", "80"), "");
    /* C has no group: the default group admits D (a member, same VNI)... */
    expect("--ct-next trk,new",
           "in_port=100,tun_id=0xc8,tun_src=192.168.0.3,"
           "tun_dst=192.168.0.1,dl_src=" MAC_D ",dl_dst=" MAC_C ",tcp,"
           "nw_src=10.1.0.2,nw_dst=10.1.0.1,tp_dst=22", "p2");
    /* ...and nobody else. */
    expect("--ct-next trk,new",
           "in_port=100,tun_id=0xc8,tun_src=192.168.0.3,"
           "tun_dst=192.168.0.1,dl_src=" MAC_D ",dl_dst=" MAC_C ",tcp,"
           "nw_src=10.1.0.3,nw_dst=10.1.0.1,tp_dst=22", "");
}

static void
test_egress_security_group(void **state OVS_UNUSED)
{
    /* sg-web allows all IPv4 egress, but not IPv6 (no rule). */
    expect("--ct-next trk,new",
           "in_port=1,dl_src=" MAC_A ",dl_dst=" MAC_B ",udp,"
           "nw_src=10.1.0.1,nw_dst=10.1.0.2,udp_dst=53", TNL_HV2);
    expect("--ct-next trk,new",
           "in_port=1,dl_src=" MAC_A ",dl_dst=" MAC_B ",tcp6,"
           "ipv6_src=fe80::ff:fe00:a,ipv6_dst=fe80::ff:fe00:b,tp_dst=80", "");
    expect("--ct-next trk,est",
           "in_port=1,dl_src=" MAC_A ",dl_dst=" MAC_B ",tcp6,"
           "ipv6_src=fe80::ff:fe00:a,ipv6_dst=fe80::ff:fe00:b,tp_dst=80",
           TNL_HV2);
}

static void
test_broadcast_stays_in_vni(void **state OVS_UNUSED)
{
    /* A broadcast from A: hv2 (VNI 100) only, never VNI 200's hv3 or C. */
    expect("--ct-next trk,new",
           "in_port=1,dl_src=" MAC_A ",dl_dst=ff:ff:ff:ff:ff:ff,udp,"
           "nw_src=10.1.0.1,nw_dst=255.255.255.255,udp_dst=9999", TNL_HV2);
    /* From C: hv3 in VNI 200. */
    expect("--ct-next trk,new",
           "in_port=2,dl_src=" MAC_C ",dl_dst=ff:ff:ff:ff:ff:ff,udp,"
           "nw_src=10.1.0.1,nw_dst=255.255.255.255,udp_dst=9999",
           TNL_HV3_200);
    /* From the tunnel: local VIFs of that VNI only, never back out. */
    expect("--ct-next trk,new",
           "in_port=100,tun_id=0x64,tun_src=192.168.0.2,"
           "tun_dst=192.168.0.1,dl_src=" MAC_B ",dl_dst=ff:ff:ff:ff:ff:ff,"
           "udp,nw_src=10.1.0.2,nw_dst=255.255.255.255,udp_dst=9999", "p1");
}

/* B (hv2) migrates to hv3: in SWITCHOVER hv1 sends to both, after
 * ACTIVATED to hv3 only. */
static void
test_migration_switchover(void **state OVS_UNUSED)
{
    struct eni *b = mk_eni(2, 100, MAC_B, "10.1.0.2", "hv2", 1, "sg-web");

    b->state = ENI_MIGRATING;
    b->phase = ENI_MIG_PREPARED;
    b->dest_host = xstrdup("hv3");
    b->dest_ofport = 7;
    flows_ctx_set_eni(ctx, b, NULL);
    install_hv1();
    expect("--ct-next trk,new", A_TCP("10.1.0.1", MAC_B, "10.1.0.2", "80"),
           TNL_HV2);

    b->phase = ENI_MIG_SWITCHOVER;
    flows_ctx_set_eni(ctx, b, NULL);
    install_hv1();
    expect("--ct-next trk,new", A_TCP("10.1.0.1", MAC_B, "10.1.0.2", "80"),
           TNL_HV2 " " TNL_HV3_100);

    b->phase = ENI_MIG_ACTIVATED;
    flows_ctx_set_eni(ctx, b, NULL);
    install_hv1();
    expect("--ct-next trk,new", A_TCP("10.1.0.1", MAC_B, "10.1.0.2", "80"),
           TNL_HV3_100);
    eni_destroy(b);
}

static int
setup(void **state OVS_UNUSED)
{
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
    sb = sandbox_create("trace");
    if (!sb) {
        return -1;
    }
    int status = sandbox_run(
        sb, NULL,
        SANDBOX_VSCTL " add-br br-int -- set bridge br-int "
        "datapath_type=dummy fail_mode=secure protocols=OpenFlow13 "
        "-- add-port br-int p1 -- set interface p1 type=dummy "
        "ofport_request=1 "
        "-- add-port br-int p2 -- set interface p2 type=dummy "
        "ofport_request=2 "
        "-- add-port br-int tun -- set interface tun type=geneve "
        "options:remote_ip=flow options:key=flow ofport_request=%d "
        /* The underlay: br-phy with hv1's IP, a route and the peers' MACs,
         * so that the userspace datapath's native tunnel push resolves. */
        "-- add-br br-phy -- set bridge br-phy datapath_type=dummy "
        "-- add-port br-phy p0 -- set interface p0 type=dummy "
        "&& " SANDBOX_APPCTL " netdev-dummy/ip4addr br-phy 192.168.0.1/24 "
        "&& " SANDBOX_APPCTL " ovs/route/add 192.168.0.0/24 br-phy "
        "&& " SANDBOX_APPCTL " tnl/arp/set br-phy 192.168.0.2 "
        "aa:55:aa:55:00:02 "
        "&& " SANDBOX_APPCTL " tnl/arp/set br-phy 192.168.0.3 "
        "aa:55:aa:55:00:03 "
        "&& ovs-ofctl add-flow br-phy actions=normal", TUN);
    if (status) {
        return -1;
    }

    /* "  p1 1/2: (dummy)": ofport 1, datapath port 2. */
    char *out = NULL;
    if (sandbox_run(sb, &out, SANDBOX_APPCTL " dpif/show")) {
        free(out);
        return -1;
    }
    for (char *save = NULL, *l = strtok_r(out, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        char name[32];
        int of, dp;
        if (sscanf(l, " %31s %d/%d:", name, &of, &dp) == 3) {
            if (!strcmp(name, "p1")) {
                dp_p1 = dp;
            } else if (!strcmp(name, "p2")) {
                dp_p2 = dp;
            } else if (!strcmp(name, "p0")) {
                dp_p0 = dp;
            }
        }
    }
    free(out);
    if (dp_p0 < 0 || dp_p1 < 0 || dp_p2 < 0) {
        return -1;
    }

    ctx = flows_ctx_create();
    flows_ctx_set_host(ctx, "hv1", "192.168.0.1", NULL);
    flows_ctx_set_host(ctx, "hv2", "192.168.0.2", NULL);
    flows_ctx_set_host(ctx, "hv3", "192.168.0.3", NULL);
    /* No relay ports: a switchover delivers to both hosts (flows.h). */
    for (int i = 1; i <= 3; i++) {
        char host[8];
        snprintf(host, sizeof host, "hv%d", i);
        flows_ctx_set_host_relay(ctx, host, 0, NULL);
    }
    put_sg_web();
    put_eni(mk_eni(1, 100, MAC_A, "10.1.0.1", "hv1", 1, "sg-web"));
    put_eni(mk_eni(2, 100, MAC_B, "10.1.0.2", "hv2", 1, "sg-web"));
    put_eni(mk_eni(3, 200, MAC_C, "10.1.0.1", "hv1", 2, NULL));
    put_eni(mk_eni(4, 200, MAC_D, "10.1.0.2", "hv3", 1, NULL));
    install_hv1();
    return 0;
}

static int
teardown(void **state OVS_UNUSED)
{
    flows_ctx_destroy(ctx);
    sandbox_destroy(sb);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unicast_to_remote),
        cmocka_unit_test(test_spoofing_and_cross_vni_dropped),
        cmocka_unit_test(test_arp_responder),
        cmocka_unit_test(test_ingress_security_group),
        cmocka_unit_test(test_egress_security_group),
        cmocka_unit_test(test_broadcast_stays_in_vni),
        cmocka_unit_test(test_migration_switchover),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
