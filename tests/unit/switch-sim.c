/* A switch in a test: what an Open vSwitch bridge reports back, in a flow
 * dump, for a flow tetherd installed -- for checking that flow-table.c's
 * canonical form survives the round trip at every OpenFlow version.  Used by
 * the unit tests of flow-table.c and flows.c; asserts with cmocka. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/switch-sim.h"

#include "openvswitch/match.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofpbuf.h"
#include "util.h"

void
switch_sim_flow(struct flow_table *installed, const struct ft_flow *f,
                       enum ofputil_protocol protocol)
{
    struct ft_op op = { .type = FT_FLOW_ADD,
                        .flow = CONST_CAST(struct ft_flow *, f) };
    struct ofpbuf *msg = ft_op_encode(&op, protocol, 1);
    struct ofputil_flow_mod fm;
    struct ofpbuf sw_ofpacts;

    ofpbuf_init(&sw_ofpacts, 0);
    assert_int_equal(ofputil_decode_flow_mod(&fm, msg->data, protocol, NULL,
                                             NULL, &sw_ofpacts, OFPP_MAX,
                                             255), 0);
    ofpbuf_delete(msg);

    struct ofputil_flow_stats fs;
    memset(&fs, 0, sizeof fs);
    minimatch_expand(&fm.match, &fs.match);
    fs.table_id = fm.table_id;
    fs.priority = fm.priority;
    fs.cookie = fm.new_cookie;
    fs.ofpacts = sw_ofpacts.data;
    fs.ofpacts_len = sw_ofpacts.size;

    struct ofputil_flow_stats_request fsr;
    memset(&fsr, 0, sizeof fsr);
    match_init_catchall(&fsr.match);
    fsr.out_port = OFPP_ANY;
    fsr.out_group = OFPG_ANY;
    fsr.table_id = 0xff;
    struct ofpbuf *request = ofputil_encode_flow_stats_request(&fsr,
                                                               protocol);
    struct ovs_list replies;
    ofpmp_init(&replies, request->data);
    ofputil_append_flow_stats_reply(&fs, &replies, NULL);
    assert_int_equal(ovs_list_size(&replies), 1);

    struct ofpbuf *reply = ofpbuf_from_list(ovs_list_front(&replies));
    struct ofpbuf b = ofpbuf_const_initializer(reply->data, reply->size);
    struct ofputil_flow_stats dumped;
    struct ofpbuf ofpacts;
    ofpbuf_init(&ofpacts, 0);
    assert_int_equal(ofputil_decode_flow_stats_reply(&dumped, &b, false,
                                                     &ofpacts), 0);
    flow_table_add_flow_stats(installed, &dumped);

    ofpbuf_uninit(&ofpacts);
    ofpbuf_list_delete(&replies);
    ofpbuf_delete(request);
    minimatch_destroy(&fm.match);
    ofpbuf_uninit(&sw_ofpacts);
}
