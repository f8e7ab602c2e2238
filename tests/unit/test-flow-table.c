/* Unit tests of ovs-glue/flow-table.c: the desired-vs-installed diff (add,
 * modify, delete, unchanged), the incremental diff against the full one,
 * the order of a plan, cookie ownership and the canonical form that makes a
 * dumped flow equal to the desired one. */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ovs-glue/flow-build.h"
#include "ovs-glue/flow-table.h"
#include "tests/unit/switch-sim.h"

#include "byte-order.h"
#include "flow.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-group.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-port.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "sset.h"

#define C_ENI FT_COOKIE(1, 0)
#define C_TUN FT_COOKIE(2, 0)

static void
add(struct flow_table *ft, uint64_t cookie, const char *s)
{
    char *error = flow_table_add_flow_str(ft, cookie, s);
    if (error) {
        fail_msg("%s", error);
    }
}

static void
add_group(struct flow_table *ft, uint64_t cookie, const char *s)
{
    char *error = flow_table_add_group_str(ft, cookie, s);
    if (error) {
        fail_msg("%s", error);
    }
}

/* Adds to 'ft' the flow that a switch would report for 's', through
 * flow_table_add_flow_stats() as of-switch.c does for a dump. */
static void
add_dumped(struct flow_table *ft, uint64_t cookie, const char *s)
{
    enum ofputil_protocol usable;
    struct ofputil_flow_mod fm;
    char *error = parse_ofp_flow_mod_str(&fm, s, NULL, NULL, OFPFC_ADD,
                                         &usable);
    assert_null(error);

    struct ofputil_flow_stats fs;
    memset(&fs, 0, sizeof fs);
    minimatch_expand(&fm.match, &fs.match);
    fs.cookie = htonll(cookie);
    fs.table_id = fm.table_id == 0xff ? 0 : fm.table_id;
    fs.priority = fm.priority;
    fs.ofpacts = fm.ofpacts;
    fs.ofpacts_len = fm.ofpacts_len;
    flow_table_add_flow_stats(ft, &fs);
    minimatch_destroy(&fm.match);
    free(fm.ofpacts);
}

static void
test_diff_add_modify_delete_unchanged(void **state OVS_UNUSED)
{
    struct flow_table *desired = flow_table_create();
    struct flow_table *installed = flow_table_create();
    struct ft_plan plan;

    add(desired, C_ENI | 1, "table=0,priority=100,in_port=1,actions=output:2");
    add(desired, C_ENI | 2, "table=0,priority=100,in_port=2,actions=output:3");
    add(desired, C_ENI | 4, "table=1,priority=10,ip,nw_dst=10.0.0.4,"
        "actions=output:4");

    add(installed, C_ENI | 1, "table=0,priority=100,in_port=1,"
        "actions=output:2");                                /* unchanged */
    add(installed, C_ENI | 2, "table=0,priority=100,in_port=2,"
        "actions=output:1");                                /* modified */
    add(installed, C_ENI | 3, "table=0,priority=100,in_port=3,"
        "actions=drop");                                    /* deleted */

    flow_table_diff(desired, installed, &plan);
    assert_int_equal(plan.n_ops, 3);
    assert_int_equal(plan.n[FT_FLOW_ADD], 1);
    assert_int_equal(plan.n[FT_FLOW_MODIFY], 1);
    assert_int_equal(plan.n[FT_FLOW_DELETE], 1);
    assert_int_equal(plan.ops[0].type, FT_FLOW_DELETE);
    assert_int_equal(plan.ops[0].flow->cookie, C_ENI | 3);
    assert_int_equal(plan.ops[1].type, FT_FLOW_MODIFY);
    assert_int_equal(plan.ops[1].flow->cookie, C_ENI | 2);
    assert_int_equal(plan.ops[2].type, FT_FLOW_ADD);
    assert_int_equal(plan.ops[2].flow->cookie, C_ENI | 4);

    /* The plan owns copies: editing the desired table now is harmless. */
    flow_table_clear(desired);
    add(desired, C_ENI | 1, "table=0,priority=100,in_port=1,actions=output:2");
    add(desired, C_ENI | 2, "table=0,priority=100,in_port=2,actions=output:3");
    add(desired, C_ENI | 4, "table=1,priority=10,ip,nw_dst=10.0.0.4,"
        "actions=output:4");

    ft_plan_apply(&plan, installed);
    ft_plan_destroy(&plan);
    assert_true(flow_table_equal(desired, installed));

    flow_table_diff(desired, installed, &plan);
    assert_true(ft_plan_is_empty(&plan));
    ft_plan_destroy(&plan);

    flow_table_destroy(desired);
    flow_table_destroy(installed);
}

static void
test_diff_cookie_change_is_add(void **state OVS_UNUSED)
{
    struct flow_table *desired = flow_table_create();
    struct flow_table *installed = flow_table_create();
    struct ft_plan plan;

    add(desired, C_ENI | 7, "priority=5,in_port=1,actions=output:2");
    add(installed, C_ENI | 6, "priority=5,in_port=1,actions=output:2");
    flow_table_diff(desired, installed, &plan);
    assert_int_equal(plan.n_ops, 1);
    assert_int_equal(plan.ops[0].type, FT_FLOW_ADD);
    ft_plan_destroy(&plan);

    flow_table_destroy(desired);
    flow_table_destroy(installed);
}

static void
test_replace_and_remove_by_key(void **state OVS_UNUSED)
{
    struct flow_table *ft = flow_table_create();
    struct match match;

    add(ft, C_ENI | 1, "priority=100,in_port=1,actions=output:2");
    add(ft, C_ENI | 1, "priority=100,in_port=1,actions=output:3");
    assert_int_equal(flow_table_n_flows(ft), 1);

    match_init_catchall(&match);
    match_set_in_port(&match, u16_to_ofp(1));
    assert_false(flow_table_remove_flow(ft, 0, 99, &match));
    assert_true(flow_table_remove_flow(ft, 0, 100, &match));
    assert_int_equal(flow_table_n_flows(ft), 0);
    flow_table_destroy(ft);
    flow_table_destroy(NULL);
}

static void
test_plan_order_groups_around_flows(void **state OVS_UNUSED)
{
    struct flow_table *desired = flow_table_create();
    struct flow_table *installed = flow_table_create();
    struct ft_plan plan;

    /* Installed: group 2 and a flow that uses it, both going away; group 3
     * whose buckets change. */
    add_group(installed, 0, "group_id=2,type=all,bucket=output:1");
    add(installed, C_TUN | 2, "priority=10,in_port=9,actions=group:2");
    add_group(installed, 0, "group_id=3,type=all,bucket=output:1");

    /* Desired: group 1 and a flow that uses it; group 3 changed. */
    add_group(desired, C_ENI | 1,
              "group_id=1,type=all,bucket=output:1,bucket=output:2");
    add(desired, C_ENI | 1, "priority=10,in_port=8,actions=group:1");
    add_group(desired, C_ENI | 3,
              "group_id=3,type=all,bucket=output:1,bucket=output:4");

    flow_table_diff(desired, installed, &plan);
    assert_int_equal(plan.n_ops, 5);
    assert_int_equal(plan.ops[0].type, FT_GROUP_ADD);
    assert_int_equal(plan.ops[0].group->group_id, 1);
    assert_int_equal(plan.ops[1].type, FT_GROUP_MODIFY);
    assert_int_equal(plan.ops[1].group->group_id, 3);
    assert_int_equal(plan.ops[2].type, FT_FLOW_DELETE);
    assert_int_equal(plan.ops[3].type, FT_FLOW_ADD);
    assert_int_equal(plan.ops[4].type, FT_GROUP_DELETE);
    assert_int_equal(plan.ops[4].group->group_id, 2);

    ft_plan_apply(&plan, installed);
    ft_plan_destroy(&plan);
    assert_true(flow_table_equal(desired, installed));

    flow_table_destroy(desired);
    flow_table_destroy(installed);
}

static void
test_remove_cookie_owner(void **state OVS_UNUSED)
{
    struct flow_table *ft = flow_table_create();

    add(ft, C_ENI | 1, "priority=1,in_port=1,actions=drop");
    add(ft, C_ENI | 1, "priority=1,in_port=2,actions=drop");
    add(ft, C_ENI | 2, "priority=1,in_port=3,actions=drop");
    add(ft, C_TUN | 1, "priority=1,in_port=4,actions=drop");
    add_group(ft, C_ENI | 1, "group_id=5,type=all,bucket=output:1");

    /* One object: its two flows and its group. */
    assert_int_equal(flow_table_remove_cookie(ft, C_ENI | 1, FT_COOKIE_MASK),
                     3);
    assert_int_equal(flow_table_n_flows(ft), 2);
    assert_int_equal(flow_table_n_groups(ft), 0);

    /* One class: ENI flows go, the tunnel flow stays. */
    assert_int_equal(flow_table_remove_cookie(ft, C_ENI,
                                              FT_COOKIE_CLASS_MASK), 1);
    assert_int_equal(flow_table_n_flows(ft), 1);
    assert_int_equal(flow_table_remove_cookie(ft, C_ENI,
                                              FT_COOKIE_CLASS_MASK), 0);
    flow_table_destroy(ft);
}

/* The cookie index (b405222) against the whole table: a flow replaced by
 * one with the same key and another owner's cookie, clones, swaps and
 * clears must leave every owner's flows findable by its cookie, and a
 * removal by owner must remove exactly what a scan of the whole table
 * would.  (A 10,000-ENI benchmark once counted a different number of flows
 * before and after the index; the index was right, the count was taken
 * before the bridges were reconciled.) */
static void
test_remove_cookie_index(void **state OVS_UNUSED)
{
    struct flow_table *ft = flow_table_create();
    char s[128];

    /* 64 flows over 8 owners; then owner k + 1 takes over the flows of
     * in_port 8k..8k+3 (same key, new cookie), as when two owners compute
     * the same match. */
    for (int i = 0; i < 64; i++) {
        snprintf(s, sizeof s, "priority=1,in_port=%d,actions=drop", i + 1);
        add(ft, C_ENI | (i / 8), s);
    }
    for (int k = 0; k < 8; k++) {
        for (int j = 0; j < 4; j++) {
            snprintf(s, sizeof s, "priority=1,in_port=%d,actions=drop",
                     8 * k + j + 1);
            add(ft, C_ENI | (k + 1), s);
        }
    }
    assert_int_equal(flow_table_n_flows(ft), 64);

    /* A clone and a swap keep the index with the flows. */
    struct flow_table *clone = flow_table_clone(ft);
    struct flow_table *other = flow_table_create();
    flow_table_swap(other, clone);
    flow_table_destroy(clone);

    /* Owner 0 lost 4 of its 8 flows to owner 1, which has 4 + 4; owner 8
     * has only the 4 it took over. */
    assert_int_equal(flow_table_remove_cookie(other, C_ENI | 0,
                                              FT_COOKIE_MASK), 4);
    assert_int_equal(flow_table_remove_cookie(other, C_ENI | 1,
                                              FT_COOKIE_MASK), 8);
    assert_int_equal(flow_table_remove_cookie(other, C_ENI | 8,
                                              FT_COOKIE_MASK), 4);
    assert_int_equal(flow_table_n_flows(other), 64 - 16);

    /* What is left is what a scan by class finds, and removing it all by
     * owner empties the table. */
    size_t n = 0;
    for (int k = 0; k <= 8; k++) {
        n += flow_table_remove_cookie(other, C_ENI | k, FT_COOKIE_MASK);
    }
    assert_int_equal(n, 64 - 16);
    assert_int_equal(flow_table_n_flows(other), 0);
    assert_int_equal(flow_table_remove_cookie(other, C_ENI,
                                              FT_COOKIE_CLASS_MASK), 0);

    /* The original is untouched; cleared, it indexes new flows again. */
    assert_int_equal(flow_table_n_flows(ft), 64);
    flow_table_clear(ft);
    add(ft, C_ENI | 3, "priority=1,in_port=1,actions=drop");
    assert_int_equal(flow_table_remove_cookie(ft, C_ENI | 3,
                                              FT_COOKIE_MASK), 1);
    assert_int_equal(flow_table_n_flows(ft), 0);

    flow_table_destroy(other);
    flow_table_destroy(ft);
}

static void
test_foreign_and_unknown_cookies(void **state OVS_UNUSED)
{
    struct flow_table *desired = flow_table_create();
    struct flow_table *installed = flow_table_create();
    struct ft_plan plan;
    uint64_t foreign = FT_COOKIE(FT_CLASS_FOREIGN_MIN, 1);
    char *error;

    /* A foreign cookie or group id cannot be desired. */
    error = flow_table_add_flow_str(desired, foreign,
                                    "priority=1,actions=drop");
    assert_non_null(error);
    free(error);
    error = flow_table_add_group_str(desired, 0,
                                     "group_id=0xff000001,type=all");
    assert_non_null(error);
    free(error);

    add(desired, C_ENI | 1, "priority=1,in_port=1,actions=drop");
    add_dumped(installed, C_ENI | 1, "priority=1,in_port=1,actions=drop");
    add_dumped(installed, 0, "priority=2,in_port=2,actions=drop");
    add_dumped(installed, foreign, "priority=3,in_port=3,actions=drop");
    add_dumped(installed, C_TUN | 9, "priority=4,in_port=4,actions=drop");

    flow_table_diff(desired, installed, &plan);
    /* Cookie 0 (nobody's) and our stale tunnel flow go; the foreign one
     * stays. */
    assert_int_equal(plan.n_ops, 2);
    assert_int_equal(plan.n[FT_FLOW_DELETE], 2);
    for (size_t i = 0; i < plan.n_ops; i++) {
        assert_false(ft_cookie_is_foreign(plan.ops[i].flow->cookie));
    }
    ft_plan_apply(&plan, installed);
    ft_plan_destroy(&plan);
    assert_int_equal(flow_table_n_flows(installed), 2);

    flow_table_destroy(desired);
    flow_table_destroy(installed);
}

/* A flow as the switch reports it compares equal to the desired flow that
 * installed it, even when its actions or match were written differently. */
static void
test_canonical_form(void **state OVS_UNUSED)
{
    struct flow_table *desired = flow_table_create();
    struct flow_table *installed = flow_table_create();
    struct ft_plan plan;

    add(desired, C_ENI | 1, "priority=1,in_port=1,"
        "actions=mod_dl_src:00:11:22:33:44:55,output:2");
    add_dumped(installed, C_ENI | 1, "priority=1,in_port=1,"
               "actions=set_field:00:11:22:33:44:55->eth_src,output:2");
    add(desired, C_ENI | 2, "priority=1,in_port=2,vlan_tci=0,"
        "actions=drop");
    add_dumped(installed, C_ENI | 2, "priority=1,in_port=2,"
               "vlan_tci=0/0x1fff,actions=drop");
    add(desired, C_ENI | 3, "priority=1,tcp,tp_dst=80,"
        "actions=controller");
    add_dumped(installed, C_ENI | 3, "priority=1,tcp,tp_dst=80,"
               "actions=controller");

    flow_table_diff(desired, installed, &plan);
    assert_int_equal(plan.n_ops, 0);
    ft_plan_destroy(&plan);
    flow_table_destroy(desired);
    flow_table_destroy(installed);
}


/* The same for group 'g': group_mod, group desc reply. */
static void
switch_round_trip_group(struct flow_table *installed,
                        const struct ft_group *g,
                        enum ofputil_protocol protocol)
{
    enum ofp_version version = ofputil_protocol_to_ofp_version(protocol);
    struct ft_op op = { .type = FT_GROUP_ADD,
                        .group = CONST_CAST(struct ft_group *, g) };
    struct ofpbuf *msg = ft_op_encode(&op, protocol, 1);
    struct ofputil_group_mod gm;

    assert_int_equal(ofputil_decode_group_mod(msg->data, &gm), 0);
    ofpbuf_delete(msg);

    struct ofputil_group_desc gds;
    memset(&gds, 0, sizeof gds);
    gds.type = gm.type;
    gds.group_id = gm.group_id;
    gds.props = gm.props;
    struct ofpbuf *request = ofputil_encode_group_desc_request(version,
                                                               OFPG_ALL);
    struct ovs_list replies;
    ofpmp_init(&replies, request->data);
    ofputil_append_group_desc_reply(&gds, &gm.buckets, &replies);
    assert_int_equal(ovs_list_size(&replies), 1);

    struct ofpbuf *reply = ofpbuf_from_list(ovs_list_front(&replies));
    struct ofpbuf b = ofpbuf_const_initializer(reply->data, reply->size);
    struct ofputil_group_desc gd;
    assert_int_equal(ofputil_decode_group_desc_reply(&gd, &b, version), 0);
    flow_table_add_group_desc(installed, &gd);

    ofputil_uninit_group_desc(&gd);
    ofpbuf_list_delete(&replies);
    ofpbuf_delete(request);
    ofputil_uninit_group_mod(&gm);
}

/* Installs every flow and group of 'desired' on a simulated switch that
 * speaks 'protocol' and returns what it reports back. */
static struct flow_table *
switch_round_trip(const struct flow_table *desired,
                  enum ofputil_protocol protocol)
{
    struct flow_table *installed = flow_table_create();
    const struct ft_flow *f;
    const struct ft_group *g;

    HMAP_FOR_EACH (f, node, &desired->flows) {
        switch_sim_flow(installed, f, protocol);
    }
    HMAP_FOR_EACH (g, node, &desired->groups) {
        switch_round_trip_group(installed, g, protocol);
    }
    return installed;
}

/* A flow read back from a switch equals the desired flow whatever OpenFlow
 * version the connection speaks: the decoder remembers which of several
 * equivalent encodings an action came in, and that differs between
 * versions ("move" is an NXM reg_move in OpenFlow 1.3, a copy_field in
 * 1.5; a masked set_field is a reg_load in 1.3).  A real change is still
 * seen. */
static void
test_canonical_across_versions(void **state OVS_UNUSED)
{
    static const char *flows[] = {
        /* tetherd's ARP responder. */
        "table=20,priority=100,arp,metadata=0x258,arp_tpa=10.6.0.4,"
        "arp_op=1,actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
        "set_field:02:00:00:06:00:04->eth_src,set_field:2->arp_op,"
        "move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],"
        "set_field:02:00:00:06:00:04->arp_sha,"
        "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],"
        "set_field:10.6.0.4->arp_spa,in_port",
        "table=1,priority=10,in_port=1,actions=move:NXM_NX_REG0[0..7]->"
        "NXM_NX_REG1[8..15],load:0x5->NXM_NX_REG7[0..7],"
        "set_field:0x30/0xf0->reg6,output:NXM_NX_REG7[0..15]",
        "table=2,priority=10,ip,actions=ct(commit,zone=NXM_NX_REG7[0..15],"
        "exec(move:NXM_NX_REG6[]->NXM_NX_CT_MARK[])),resubmit(,50)",
        "table=3,priority=10,ip,actions=controller(max_len=128),"
        "set_field:0x258->metadata,resubmit:3,dec_ttl,"
        "set_field:0x258->tun_id,set_field:192.168.0.1->tun_dst,output:1",
    };
    static const enum ofputil_protocol protocols[] = {
        OFPUTIL_P_OF13_OXM, OFPUTIL_P_OF14_OXM, OFPUTIL_P_OF15_OXM,
    };

    for (size_t p = 0; p < ARRAY_SIZE(protocols); p++) {
        struct flow_table *desired = flow_table_create();
        struct ft_plan plan;

        for (size_t i = 0; i < ARRAY_SIZE(flows); i++) {
            add(desired, C_ENI | i, flows[i]);
        }
        add_group(desired, C_ENI | 9, "group_id=9,type=all,"
                  "bucket=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
                  "set_field:0x3/0xf->reg7,output:1,bucket=output:2");

        struct flow_table *installed = switch_round_trip(desired,
                                                         protocols[p]);
        flow_table_diff(desired, installed, &plan);
        if (!ft_plan_is_empty(&plan)) {
            fail_msg("%s: %zu ops for unchanged flows",
                     ofputil_protocol_to_string(protocols[p]), plan.n_ops);
        }
        ft_plan_destroy(&plan);
        assert_true(flow_table_equal(desired, installed));

        /* One action different: one modify. */
        add(desired, C_ENI | 1, "table=1,priority=10,in_port=1,"
            "actions=move:NXM_NX_REG0[0..7]->NXM_NX_REG1[8..15],"
            "load:0x5->NXM_NX_REG7[0..7],set_field:0x30/0xf0->reg6,"
            "output:NXM_NX_REG6[0..15]");
        flow_table_diff(desired, installed, &plan);
        assert_int_equal(plan.n_ops, 1);
        assert_int_equal(plan.ops[0].type, FT_FLOW_MODIFY);
        ft_plan_destroy(&plan);

        flow_table_destroy(installed);
        flow_table_destroy(desired);
    }
}

static void
test_encode(void **state OVS_UNUSED)
{
    struct flow_table *desired = flow_table_create();
    struct flow_table *installed = flow_table_create();
    struct ft_plan plan;

    add(desired, C_ENI | 1, "priority=100,in_port=1,actions=output:3");
    add(installed, C_ENI | 1, "priority=100,in_port=1,actions=output:2");
    add(installed, C_ENI | 2, "priority=100,in_port=2,actions=output:2");
    flow_table_diff(desired, installed, &plan);
    assert_int_equal(plan.n_ops, 2);

    static const uint16_t commands[] = {
        OFPFC_DELETE_STRICT, OFPFC_MODIFY_STRICT
    };
    for (size_t i = 0; i < plan.n_ops; i++) {
        struct ofpbuf *msg = ft_op_encode(&plan.ops[i], OFPUTIL_P_OF13_OXM,
                                          1000 + i);
        struct ofp_header *oh = msg->data;
        struct ofputil_flow_mod fm;
        struct ofpbuf ofpacts;

        assert_int_equal(ntohl(oh->xid), 1000 + i);
        ofpbuf_init(&ofpacts, 0);
        assert_int_equal(ofputil_decode_flow_mod(&fm, oh, OFPUTIL_P_OF13_OXM,
                                                 NULL, NULL, &ofpacts,
                                                 OFPP_MAX, 255), 0);
        assert_int_equal(fm.command, commands[i]);
        assert_int_equal(fm.priority, 100);
        minimatch_destroy(&fm.match);
        ofpbuf_uninit(&ofpacts);
        ofpbuf_delete(msg);
    }
    ft_plan_destroy(&plan);
    flow_table_destroy(desired);
    flow_table_destroy(installed);
}

/* One line per operation of 'plan', sorted: two plans that do the same
 * compare equal whatever order each found its operations in. */
static void
plan_lines(const struct ft_plan *plan, struct sset *lines)
{
    sset_init(lines);
    for (size_t k = 0; k < plan->n_ops; k++) {
        const struct ft_op *op = &plan->ops[k];
        struct ds s = DS_EMPTY_INITIALIZER;

        ds_put_format(&s, "%s ", ft_op_type_to_string(op->type));
        if (op->flow) {
            const struct ft_flow *f = op->flow;
            ds_put_format(&s, "table=%u,priority=%u,cookie=%#"PRIx64",",
                          f->table_id, f->priority, f->cookie);
            minimatch_format(&f->match, NULL, NULL, &s, OFP_DEFAULT_PRIORITY);
            ds_put_cstr(&s, ",actions=");
            struct ofpact_format_params fp = { .s = &s };
            ofpacts_format(f->ofpacts, f->ofpacts_len, &fp);
        } else {
            ds_put_format(&s, "group_id=%"PRIu32, op->group->group_id);
        }
        /* Each operation once: a plan never has two for one key. */
        assert_true(sset_add(lines, ds_cstr(&s)));
        ds_destroy(&s);
    }
}

/* Asserts that the incremental diff of 'desired' against 'installed' is
 * the full diff, and returns it in 'plan'. */
static void
diff_both(const struct flow_table *desired,
          const struct flow_table *installed, struct ft_plan *plan)
{
    struct ft_plan full;
    struct sset a, b;

    flow_table_diff_changes(desired, installed, plan);
    flow_table_diff(desired, installed, &full);
    plan_lines(plan, &a);
    plan_lines(&full, &b);
    if (!sset_equals(&a, &b)) {
        const char *line;
        SSET_FOR_EACH (line, &b) {
            if (!sset_contains(&a, line)) {
                print_message("incremental diff misses: %s\n", line);
            }
        }
        SSET_FOR_EACH (line, &a) {
            if (!sset_contains(&b, line)) {
                print_message("incremental diff has extra: %s\n", line);
            }
        }
        fail();
    }
    for (size_t k = 1; k < plan->n_ops; k++) {
        assert_true(plan->ops[k - 1].type <= plan->ops[k].type);
    }
    sset_destroy(&a);
    sset_destroy(&b);
    ft_plan_destroy(&full);
}

static uint32_t
rnd(uint32_t *state)
{
    /* xorshift32: the same sequence on every run. */
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    return *state;
}

/* A flow of 'owner' from a small key space, so that owners collide on
 * keys (the later one's flow replaces the earlier one's), with one of a few
 * action lists (so re-adding an owner leaves some flows as they were and
 * modifies others). */
static void
add_random(struct flow_table *ft, uint32_t *state, uint64_t owner)
{
    char s[128];

    snprintf(s, sizeof s, "table=%"PRIu32",priority=%"PRIu32",in_port=%"
             PRIu32",actions=output:%"PRIu32, rnd(state) % 2,
             10 + rnd(state) % 2, 1 + rnd(state) % 120, 1 + rnd(state) % 3);
    add(ft, owner, s);
}

/* The incremental diff (flow_table_diff_changes()) finds exactly what the
 * full diff does, over rounds of random edits as the flow computation makes
 * them (an owner removed and computed again, owners taking over each
 * other's keys, single flows removed, owners gone), with flows of nobody
 * and foreign flows on the switch, and it looks only at the owners that
 * changed. */
static void
test_diff_changes(void **state OVS_UNUSED)
{
    struct flow_table *desired = flow_table_create();
    struct flow_table *installed = flow_table_create();
    uint64_t foreign = FT_COOKIE(FT_CLASS_FOREIGN_MIN, 1);
    uint32_t seed = 0x7e7e7e7e;
    struct ft_plan plan;

    flow_table_track_changes(desired);
    assert_true(flow_table_all_changed(desired));
    for (int k = 0; k < 40; k++) {
        for (int j = 0; j < 4; j++) {
            add_random(desired, &seed, C_ENI | k);
        }
    }
    add_dumped(installed, 0, "table=1,priority=10,in_port=7,actions=drop");
    add_dumped(installed, foreign, "table=0,priority=10,in_port=8,"
               "actions=drop");
    add_dumped(installed, foreign, "table=0,priority=99,in_port=8,"
               "actions=drop");

    /* The first commit diffs everything. */
    diff_both(desired, installed, &plan);
    ft_plan_apply(&plan, installed);
    ft_plan_destroy(&plan);
    flow_table_forget_changes(desired);

    for (int round = 0; round < 400; round++) {
        size_t n_edits = 1 + rnd(&seed) % 6;

        for (size_t e = 0; e < n_edits; e++) {
            uint64_t owner = C_ENI | (rnd(&seed) % 48);
            uint32_t what = rnd(&seed) % 10;

            if (what < 6) {
                /* Recomputed: removed and added again. */
                flow_table_remove_cookie(desired, owner, FT_COOKIE_MASK);
                for (uint32_t j = rnd(&seed) % 6; j > 0; j--) {
                    add_random(desired, &seed, owner);
                }
            } else if (what < 8) {
                /* A flow added over whatever has its key. */
                add_random(desired, &seed, owner);
            } else if (what < 9) {
                /* One key removed. */
                struct match m;
                match_init_catchall(&m);
                match_set_in_port(&m, u16_to_ofp(1 + rnd(&seed) % 120));
                flow_table_remove_flow(desired, rnd(&seed) % 2,
                                       10 + rnd(&seed) % 2, &m);
            } else {
                /* Gone. */
                flow_table_remove_cookie(desired, owner, FT_COOKIE_MASK);
            }
        }
        assert_false(flow_table_all_changed(desired));
        assert_true(flow_table_n_changed(desired) <= 2 * n_edits + 6);

        diff_both(desired, installed, &plan);
        ft_plan_apply(&plan, installed);
        ft_plan_destroy(&plan);
        flow_table_forget_changes(desired);

        /* The switch now has what is desired, and its foreign flows. */
        flow_table_diff(desired, installed, &plan);
        assert_true(ft_plan_is_empty(&plan));
        ft_plan_destroy(&plan);
    }

    /* Nothing changed: nothing to look at. */
    assert_int_equal(flow_table_n_changed(desired), 0);
    flow_table_diff_changes(desired, installed, &plan);
    assert_true(ft_plan_is_empty(&plan));
    ft_plan_destroy(&plan);

    /* The switch's table changed behind our back (as when it is read again
     * after a rejected bundle): only a full diff finds that, and marking
     * the desired table "all changed" gets one. */
    add_dumped(installed, C_ENI | 3, "table=1,priority=10,in_port=200,"
               "actions=drop");
    flow_table_mark_all_changed(desired);
    diff_both(desired, installed, &plan);
    assert_int_equal(plan.n[FT_FLOW_DELETE], 1);
    ft_plan_apply(&plan, installed);
    ft_plan_destroy(&plan);
    flow_table_forget_changes(desired);

    /* Clearing the table, or a swap, gives up the record; so do more
     * changed owners than a full diff is worth. */
    flow_table_clear(desired);
    assert_true(flow_table_all_changed(desired));
    diff_both(desired, installed, &plan);
    ft_plan_destroy(&plan);
    flow_table_forget_changes(desired);
    for (int k = 0; k < 2000; k++) {
        char s[64];
        snprintf(s, sizeof s, "table=3,priority=1,reg0=%d,actions=drop", k);
        add(desired, FT_COOKIE(2, k), s);
    }
    assert_true(flow_table_all_changed(desired));
    flow_table_forget_changes(desired);
    struct flow_table *other = flow_table_create();
    flow_table_swap(desired, other);
    assert_true(flow_table_all_changed(desired));
    assert_true(flow_table_all_changed(other));

    /* A table that does not track is always "all changed". */
    assert_true(flow_table_all_changed(installed));
    flow_table_forget_changes(installed);
    assert_true(flow_table_all_changed(installed));

    flow_table_destroy(other);
    flow_table_destroy(desired);
    flow_table_destroy(installed);
}

/* 10,000 flows: the diff of identical tables is empty and the diff against
 * an empty table adds them all. */
static void
test_many(void **state OVS_UNUSED)
{
    struct flow_table *desired = flow_table_create();
    struct ft_plan plan;

    for (int i = 0; i < 10000; i++) {
        char s[128];
        snprintf(s, sizeof s, "table=%d,priority=%d,ip,nw_dst=10.%d.%d.1,"
                 "actions=output:%d", i % 4, 100 + i % 7, i / 256, i % 256,
                 1 + i % 5);
        add(desired, FT_COOKIE(1, i), s);
    }
    struct flow_table *installed = flow_table_create();
    flow_table_diff(desired, installed, &plan);
    assert_int_equal(plan.n[FT_FLOW_ADD], 10000);
    ft_plan_apply(&plan, installed);
    ft_plan_destroy(&plan);

    flow_table_diff(desired, installed, &plan);
    assert_true(ft_plan_is_empty(&plan));
    ft_plan_destroy(&plan);

    struct flow_table *copy = flow_table_clone(installed);
    assert_true(flow_table_equal(copy, desired));
    flow_table_destroy(copy);
    flow_table_destroy(desired);
    flow_table_destroy(installed);
}

static const struct ft_flow *
only_flow(const struct flow_table *ft)
{
    assert_int_equal(flow_table_n_flows(ft), 1);
    return CONTAINER_OF(hmap_first(&ft->flows), struct ft_flow, node);
}

static char *
flow_text(const struct ft_flow *f)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct ofpact_format_params fp = { .s = &s };

    ds_put_format(&s, "table=%d,", f->table_id);
    minimatch_format(&f->match, NULL, NULL, &s, f->priority);
    ds_put_cstr(&s, ",actions=");
    ofpacts_format(f->ofpacts, f->ofpacts_len, &fp);
    return ds_steal_cstr(&s);
}

/* Equal flows share one body: in two switches' tables (whatever their
 * cookies), in the plan's copy and the installed flow it becomes, and a
 * flow read back from a switch.  A table destroyed leaves the others'
 * flows intact. */
static void
test_shared_bodies(void **state OVS_UNUSED)
{
    const char *text = "table=1,priority=100,ip,dl_dst=f0:00:00:00:00:01,"
                       "nw_dst=10.0.0.1,actions=set_field:192.168.0.2->"
                       "tun_dst,output:1";
    struct flow_table *a = flow_table_create();
    struct flow_table *b = flow_table_create();
    struct flow_table *c = flow_table_create();
    struct flow_table *d = flow_table_create();
    struct ft_plan plan;

    add(a, C_ENI | 1, text);
    add(b, C_ENI | 2, text);
    add_dumped(c, C_ENI | 1, text);
    add(d, C_ENI | 1, "table=1,priority=100,ip,dl_dst=f0:00:00:00:00:01,"
        "nw_dst=10.0.0.1,actions=set_field:192.168.0.3->tun_dst,output:1");
    assert_ptr_equal(only_flow(a)->body, only_flow(b)->body);
    assert_ptr_equal(only_flow(a)->body, only_flow(c)->body);
    assert_ptr_not_equal(only_flow(a)->body, only_flow(d)->body);
    assert_int_equal(only_flow(b)->cookie, C_ENI | 2);

    struct flow_table *installed = flow_table_create();
    flow_table_diff(a, installed, &plan);
    assert_int_equal(plan.n_ops, 1);
    assert_ptr_equal(plan.ops[0].flow->body, only_flow(a)->body);
    ft_plan_apply(&plan, installed);
    ft_plan_destroy(&plan);
    assert_ptr_equal(only_flow(installed)->body, only_flow(a)->body);

    char *before = flow_text(only_flow(b));
    flow_table_destroy(a);
    flow_table_destroy(installed);
    flow_table_destroy(c);
    char *after = flow_text(only_flow(b));
    assert_string_equal(before, after);

    /* The body that is left is still the one an equal flow finds. */
    struct flow_table *e = flow_table_create();
    add(e, C_ENI | 3, text);
    assert_ptr_equal(only_flow(e)->body, only_flow(b)->body);
    flow_table_destroy(b);
    char *alone = flow_text(only_flow(e));
    assert_string_equal(before, alone);

    free(before);
    free(after);
    free(alone);
    flow_table_destroy(d);
    flow_table_destroy(e);
}

static void
add_canonical(struct flow_table *ft, uint64_t cookie, int port, int out)
{
    struct flow_build fb;

    flow_build_init(&fb, 0, 100);
    fb_match_int(&fb, MFF_IN_PORT, port);
    fb_output(&fb, u16_to_ofp(out));
    char *error = flow_build_add(&fb, ft, cookie);
    assert_null(error);
}

/* A refresh keeps the flows that come back unchanged (the same objects, no
 * change recorded), replaces the changed ones and removes the ones that do
 * not come back; other owners' flows are not touched. */
static void
test_refresh(void **state OVS_UNUSED)
{
    struct flow_table *ft = flow_table_create();
    const uint64_t a = C_ENI | 1, b = C_ENI | 2;

    flow_table_track_changes(ft);
    add_canonical(ft, a, 1, 10);
    add_canonical(ft, a, 2, 20);
    add_canonical(ft, a, 3, 30);
    add_canonical(ft, b, 4, 40);
    flow_table_forget_changes(ft);
    assert_false(flow_table_all_changed(ft));

    const struct ft_flow *f1 = NULL, *f2 = NULL, *f4 = NULL;
    const struct ft_flow *f;
    HMAP_FOR_EACH (f, node, &ft->flows) {
        if (f->cookie == b) {
            f4 = f;
        } else if (!f1) {
            f1 = f;
        }
    }
    assert_non_null(f1);

    /* Nothing changes: no edit. */
    flow_table_refresh_begin(ft, a);
    add_canonical(ft, a, 1, 10);
    add_canonical(ft, a, 2, 20);
    add_canonical(ft, a, 3, 30);
    assert_int_equal(flow_table_refresh_end(ft, a), 0);
    assert_int_equal(flow_table_n_flows(ft), 4);
    assert_int_equal(flow_table_n_changed(ft), 0);
    HMAP_FOR_EACH (f, node, &ft->flows) {
        if (f == f1) {
            f2 = f;
        }
        assert_false(f->stale);
    }
    assert_ptr_equal(f2, f1);   /* the same object, kept */

    /* One changed, one gone, one new. */
    flow_table_refresh_begin(ft, a);
    add_canonical(ft, a, 1, 11);
    add_canonical(ft, a, 2, 20);
    add_canonical(ft, a, 5, 50);
    assert_int_equal(flow_table_refresh_end(ft, a), 1);
    assert_int_equal(flow_table_n_flows(ft), 4);
    assert_int_equal(flow_table_n_changed(ft), 1);

    struct flow_table *expect = flow_table_create();
    add_canonical(expect, a, 1, 11);
    add_canonical(expect, a, 2, 20);
    add_canonical(expect, a, 5, 50);
    add_canonical(expect, b, 4, 40);
    assert_true(flow_table_equal(ft, expect));
    HMAP_FOR_EACH (f, node, &ft->flows) {
        if (f->cookie == b) {
            assert_ptr_equal(f, f4);
        }
    }

    /* An owner that comes back with nothing: all removed. */
    flow_table_refresh_begin(ft, a);
    assert_int_equal(flow_table_refresh_end(ft, a), 3);
    assert_int_equal(flow_table_n_flows(ft), 1);

    flow_table_destroy(expect);
    flow_table_destroy(ft);
}

/* Flows built with ovs-glue/flow-build.h and added without the OpenFlow
 * round trip equal those parsed from the same text and canonicalized. */
static void
test_build_equals_parse(void **state OVS_UNUSED)
{
    struct flow_table *built = flow_table_create();
    struct flow_table *parsed = flow_table_create();
    struct flow_build fb;

    flow_table_set_check_canonical(true);

    /* A responder: moves, set_fields of several widths, in_port. */
    flow_build_init(&fb, 20, 100);
    fb_match_int(&fb, MFF_METADATA, 0x64);
    fb_match_proto(&fb, ETH_TYPE_ARP, 0);
    fb_match_int(&fb, MFF_ARP_OP, 1);
    fb_match_ip(&fb, MFF_ARP_TPA, "10.0.0.5");
    fb_move(&fb, MFF_ETH_SRC, MFF_ETH_DST);
    fb_set_mac(&fb, MFF_ETH_SRC, "02:00:00:00:00:05");
    fb_set_int(&fb, MFF_ARP_OP, 2);
    fb_set_ip(&fb, MFF_ARP_SPA, "10.0.0.5");
    fb_output(&fb, OFPP_IN_PORT);
    assert_null(flow_build_add(&fb, built, C_ENI));
    add(parsed, C_ENI, "table=20,priority=100,metadata=0x64,arp,arp_op=1,"
        "arp_tpa=10.0.0.5,actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
        "set_field:02:00:00:00:00:05->eth_src,set_field:2->arp_op,"
        "set_field:10.0.0.5->arp_spa,in_port");

    /* Conntrack, masks, a port range prefix, IPv6 CIDR. */
    flow_build_init(&fb, 51, 100);
    fb_match_int_masked(&fb, MFF_CT_STATE, 0x21, 0x21);
    fb_match_int(&fb, MFF_REG7, 7);
    fb_match_proto(&fb, ETH_TYPE_IPV6, 17);
    fb_match_ip(&fb, MFF_IPV6_SRC, "fd00::/8");
    fb_match_int_masked(&fb, MFF_UDP_DST, 1024, 0xfc00);
    fb_ct(&fb, true, -1, MFF_REG7);
    fb_resubmit(&fb, 60);
    assert_null(flow_build_add(&fb, built, C_ENI));
    add(parsed, C_ENI, "table=51,priority=100,ct_state=+new+trk,reg7=7,"
        "udp6,ipv6_src=fd00::/8,udp_dst=0x400/0xfc00,"
        "actions=ct(commit,zone=NXM_NX_REG7[0..15]),resubmit(,60)");

    /* Controller, VLAN tag, tunnel, output from a register. */
    flow_build_init(&fb, 0, 110);
    fb_match_int(&fb, MFF_IN_PORT, 5);
    fb_match_int(&fb, MFF_DL_VLAN, 5);
    fb_controller(&fb, 128);
    fb_push_vlan(&fb, ETH_TYPE_VLAN_8021Q);
    fb_set_int(&fb, MFF_VLAN_VID, 0x1005);
    fb_output(&fb, u16_to_ofp(50));
    fb_pop_vlan(&fb);
    fb_set_int(&fb, MFF_IN_PORT, 0);
    fb_set_int(&fb, MFF_TUN_ID, 0x64);
    fb_set_ip(&fb, MFF_TUN_DST, "192.168.0.3");
    fb_output(&fb, u16_to_ofp(100));
    fb_output_reg(&fb, MFF_REG7, 0, 16);
    assert_null(flow_build_add(&fb, built, C_ENI));
    add(parsed, C_ENI, "table=0,priority=110,in_port=5,dl_vlan=5,"
        "actions=controller(max_len=128),push_vlan:0x8100,"
        "set_field:0x1005->vlan_vid,output:50,pop_vlan,"
        "set_field:0->in_port,set_field:0x64->tun_id,"
        "set_field:192.168.0.3->tun_dst,output:100,"
        "output:NXM_NX_REG7[0..15]");

    /* No action: drop. */
    flow_build_init(&fb, 10, 0);
    assert_null(flow_build_add(&fb, built, C_ENI));
    add(parsed, C_ENI, "table=10,priority=0,actions=drop");

    assert_int_equal(flow_table_n_flows(built), 4);
    assert_true(flow_table_equal(built, parsed));

    /* A bad value adds nothing. */
    flow_build_init(&fb, 10, 0);
    fb_match_mac(&fb, MFF_ETH_SRC, "02:00:zz");
    char *error = flow_build_add(&fb, built, C_ENI);
    assert_non_null(error);
    free(error);
    assert_int_equal(flow_table_n_flows(built), 4);

    flow_table_set_check_canonical(false);
    flow_table_destroy(built);
    flow_table_destroy(parsed);
}

/* The check catches what is not canonical: an OpenFlow 1.0 style
 * set_dl_src (a switch reports a set_field of eth_src), and a match without
 * its prerequisite (an ICMP type on any packet).  Without the check both
 * go in as given. */
static void
test_check_canonical(void **state OVS_UNUSED)
{
    struct flow_table *ft = flow_table_create();
    uint64_t stub[64];
    struct ofpbuf ofpacts;
    struct match match;

    ofpbuf_use_stub(&ofpacts, stub, sizeof stub);
    ofpact_put_SET_ETH_SRC(&ofpacts)->mac = eth_addr_broadcast;
    match_init_catchall(&match);
    match_set_in_port(&match, u16_to_ofp(5));

    flow_table_set_check_canonical(true);
    assert_int_equal(flow_table_add_flow_canonical(ft, 0, 110, &match, C_ENI,
                                                   ofpacts.data,
                                                   ofpacts.size), EPROTO);
    struct match icmp;
    match_init_catchall(&icmp);
    match_set_icmp_type(&icmp, 135);
    assert_int_not_equal(flow_table_add_flow_canonical(ft, 20, 50, &icmp,
                                                       C_ENI, NULL, 0), 0);
    assert_int_equal(flow_table_n_flows(ft), 0);

    flow_table_set_check_canonical(false);
    assert_int_equal(flow_table_add_flow_canonical(ft, 0, 110, &match, C_ENI,
                                                   ofpacts.data,
                                                   ofpacts.size), 0);
    assert_int_equal(flow_table_add_flow_canonical(ft, 20, 50, &icmp, C_ENI,
                                                   NULL, 0), 0);
    assert_int_equal(flow_table_n_flows(ft), 2);

    ofpbuf_uninit(&ofpacts);
    flow_table_destroy(ft);
}

int
main(void)
{
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_add_modify_delete_unchanged),
        cmocka_unit_test(test_diff_cookie_change_is_add),
        cmocka_unit_test(test_diff_changes),
        cmocka_unit_test(test_replace_and_remove_by_key),
        cmocka_unit_test(test_plan_order_groups_around_flows),
        cmocka_unit_test(test_remove_cookie_owner),
        cmocka_unit_test(test_remove_cookie_index),
        cmocka_unit_test(test_foreign_and_unknown_cookies),
        cmocka_unit_test(test_canonical_form),
        cmocka_unit_test(test_canonical_across_versions),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_shared_bodies),
        cmocka_unit_test(test_refresh),
        cmocka_unit_test(test_build_equals_parse),
        cmocka_unit_test(test_check_canonical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
