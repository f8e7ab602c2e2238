/* Simulated OpenFlow switches (bench/sim.h): each one a TCP connection to
 * tetherd speaking OpenFlow 1.3 through libopenvswitch's codecs, with a flow
 * table (ovs-glue/flow-table.h) that flow mods and committed bundles edit
 * and that flow dumps return, so that tetherd restarted finds what it
 * installed. */
#include <config.h>

#include "bench/sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "openflow/openflow.h"
#include "openvswitch/ofp-bundle.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofp-switch.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/util.h"
#include "util.h"
#include "openvswitch/vlog.h"
#include "byte-order.h"
#include "ovs-glue/flow-table.h"

VLOG_DEFINE_THIS_MODULE(sim_switches);

struct sim_switch {
    struct sim_conn conn;
    int idx;
    uint64_t dpid;
    long long retry_at;         /* reconnect at (us), 0 if connected */
    struct flow_table *flows;
    struct ofpbuf **bundle;     /* inner messages of the open bundle */
    size_t n_bundle, alloc_bundle;
    bool committed;             /* a bundle committed since last barrier */
    long long confirmed_us;
    struct sim_switch_stats stats;
};

static struct sim_switch *switches;
static int n_switches, of_port;

static void
sw_send(struct sim_switch *sw, struct ofpbuf *msg)
{
    ofpmsg_update_length(msg);
    sim_conn_send(&sw->conn, msg->data, msg->size);
    ofpbuf_delete(msg);
}

static void
sw_apply_flow_mod(struct sim_switch *sw, const struct ofp_header *oh)
{
    struct ofputil_flow_mod fm;
    struct ofpbuf ofpacts;
    enum ofperr error;

    ofpbuf_init(&ofpacts, 256);
    error = ofputil_decode_flow_mod(&fm, oh, OFPUTIL_P_OF13_OXM, NULL, NULL,
                                    &ofpacts, OFPP_MAX, 255);
    if (error) {
        VLOG_WARN("dpid %"PRIx64": bad flow mod (%s)", sw->dpid,
                  ofperr_to_string(error));
        ofpbuf_uninit(&ofpacts);
        return;
    }
    sw->stats.flow_mods++;

    struct match match;
    minimatch_expand(&fm.match, &match);
    switch (fm.command) {
    case OFPFC_ADD:
        /* Decoded from OpenFlow 1.3: the canonical form already. */
        flow_table_add_flow_canonical(sw->flows, fm.table_id, fm.priority,
                                      &match, ntohll(fm.new_cookie),
                                      ofpacts.data, ofpacts.size);
        break;
    case OFPFC_MODIFY:
    case OFPFC_MODIFY_STRICT: {
        struct ft_flow *f = flow_table_find_flow(sw->flows, fm.table_id,
                                                 fm.priority, &fm.match);
        uint64_t cookie = (f && !fm.modify_cookie ? f->cookie
                           : ntohll(fm.new_cookie));
        flow_table_add_flow_canonical(sw->flows, fm.table_id, fm.priority,
                                      &match, cookie, ofpacts.data,
                                      ofpacts.size);
        break;
    }
    case OFPFC_DELETE_STRICT:
        flow_table_remove_flow(sw->flows, fm.table_id, fm.priority, &match);
        break;
    case OFPFC_DELETE:
    {
        struct match all;
        match_init_catchall(&all);
        if (match_equal(&match, &all)) {
            flow_table_clear(sw->flows);
        }
    }
        break;
    }
    minimatch_destroy(&fm.match);
    ofpbuf_uninit(&ofpacts);
}

static void
sw_bundle_clear(struct sim_switch *sw)
{
    for (size_t i = 0; i < sw->n_bundle; i++) {
        ofpbuf_delete(sw->bundle[i]);
    }
    sw->n_bundle = 0;
}

static void
sw_dump_flows(struct sim_switch *sw, const struct ofp_header *oh)
{
    struct ovs_list replies;
    struct ft_flow *f;

    sw->stats.flow_dumps++;
    ofpmp_init(&replies, oh);
    HMAP_FOR_EACH (f, node, &sw->flows->flows) {
        struct ofputil_flow_stats fs;
        memset(&fs, 0, sizeof fs);
        minimatch_expand(&f->match, &fs.match);
        fs.priority = f->priority;
        fs.table_id = f->table_id;
        fs.cookie = htonll(f->cookie);
        fs.ofpacts = f->ofpacts;
        fs.ofpacts_len = f->ofpacts_len;
        fs.idle_age = fs.hard_age = -1;
        ofputil_append_flow_stats_reply(&fs, &replies, NULL);
    }
    struct ofpbuf *reply;
    LIST_FOR_EACH_POP (reply, list_node, &replies) {
        sw_send(sw, reply);
    }
}

static void
sw_handle(struct sim_switch *sw, const struct ofp_header *oh)
{
    enum ofptype type;

    if (ofptype_decode(&type, oh)) {
        return;
    }
    switch (type) {
    case OFPTYPE_FEATURES_REQUEST: {
        struct ofputil_switch_features f = {
            .datapath_id = sw->dpid,
            .n_buffers = 0,
            .n_tables = 254,
            .capabilities = OFPUTIL_C_FLOW_STATS,
        };
        sw_send(sw, ofputil_encode_switch_features(&f, OFPUTIL_P_OF13_OXM,
                                                   oh->xid));
        break;
    }
    case OFPTYPE_ECHO_REQUEST:
        sw_send(sw, ofputil_encode_echo_reply(oh));
        break;
    case OFPTYPE_BARRIER_REQUEST:
        sw_send(sw, ofpraw_alloc_reply(OFPRAW_OFPT11_BARRIER_REPLY, oh, 0));
        if (sw->committed) {
            sw->committed = false;
            sw->confirmed_us = sim_now_us();
        }
        break;
    case OFPTYPE_FLOW_MOD:
        sw_apply_flow_mod(sw, oh);
        break;
    case OFPTYPE_BUNDLE_CONTROL: {
        struct ofputil_bundle_ctrl_msg bc;
        if (ofputil_decode_bundle_ctrl(oh, &bc)) {
            break;
        }
        if (bc.type == OFPBCT_OPEN_REQUEST) {
            sw_bundle_clear(sw);
            bc.type = OFPBCT_OPEN_REPLY;
        } else if (bc.type == OFPBCT_COMMIT_REQUEST) {
            for (size_t i = 0; i < sw->n_bundle; i++) {
                sw_apply_flow_mod(sw, sw->bundle[i]->data);
            }
            sw_bundle_clear(sw);
            sw->stats.bundles++;
            sw->committed = true;
            bc.type = OFPBCT_COMMIT_REPLY;
        } else if (bc.type == OFPBCT_DISCARD_REQUEST) {
            sw_bundle_clear(sw);
            bc.type = OFPBCT_DISCARD_REPLY;
        } else {
            break;
        }
        sw_send(sw, ofputil_encode_bundle_ctrl_reply(oh, &bc));
        break;
    }
    case OFPTYPE_BUNDLE_ADD_MESSAGE: {
        struct ofputil_bundle_add_msg badd;
        enum ofptype inner;
        if (!ofputil_decode_bundle_add(oh, &badd, &inner)
            && inner == OFPTYPE_FLOW_MOD) {
            if (sw->n_bundle >= sw->alloc_bundle) {
                sw->bundle = x2nrealloc(sw->bundle, &sw->alloc_bundle,
                                        sizeof *sw->bundle);
            }
            sw->bundle[sw->n_bundle++]
                = ofpbuf_clone_data(badd.msg, ntohs(badd.msg->length));
        }
        break;
    }
    case OFPTYPE_FLOW_STATS_REQUEST:
        sw_dump_flows(sw, oh);
        break;
    case OFPTYPE_GROUP_DESC_STATS_REQUEST: {
        struct ovs_list replies;
        ofpmp_init(&replies, oh);
        struct ofpbuf *reply;
        LIST_FOR_EACH_POP (reply, list_node, &replies) {
            sw_send(sw, reply);
        }
        break;
    }
    default:
        break;
    }
}

static void
sw_input(struct sim_conn *c, void *sw_)
{
    struct sim_switch *sw = sw_;
    size_t ofs = 0;

    while (c->rx_len - ofs >= sizeof(struct ofp_header)) {
        const struct ofp_header *oh = (const void *) (c->rx + ofs);
        size_t len = ntohs(oh->length);
        if (len < sizeof *oh) {
            sim_conn_close(c);
            return;
        }
        if (c->rx_len - ofs < len) {
            break;
        }
        if (oh->type != 0 /* OFPT_HELLO */) {
            /* Messages are aligned for the decoders in a copy. */
            if (ofs % 8) {
                struct ofpbuf *copy = ofpbuf_clone_data(oh, len);
                sw_handle(sw, copy->data);
                ofpbuf_delete(copy);
            } else {
                sw_handle(sw, oh);
            }
            if (c->fd < 0) {
                return;
            }
        }
        ofs += len;
    }
    sim_conn_consume(c, ofs);
}

static void
sw_connect(struct sim_switch *sw)
{
    if (sim_conn_open(&sw->conn, of_port)) {
        sw->retry_at = sim_now_us() + 100000;
        return;
    }
    sw->retry_at = 0;
    sw->stats.connects++;
    sw->committed = false;
    sw_bundle_clear(sw);
    sw_send(sw, ofputil_encode_hello(1u << OFP13_VERSION));
}

static void
sw_closed(struct sim_conn *c OVS_UNUSED, void *sw_)
{
    struct sim_switch *sw = sw_;
    sw->retry_at = sim_now_us() + 50000;
}

void
sim_switches_create(int n, uint64_t dpid0, int port)
{
    switches = xcalloc(n, sizeof *switches);
    n_switches = n;
    of_port = port;
    for (int i = 0; i < n; i++) {
        struct sim_switch *sw = &switches[i];
        sw->idx = i;
        sw->dpid = dpid0 + i;
        sw->flows = flow_table_create();
        sw->conn.fd = -1;
        sw->conn.input = sw_input;
        sw->conn.closed = sw_closed;
        sw->conn.aux = sw;
        sw_connect(sw);
    }
}

void
sim_switches_run(void)
{
    long long now = sim_now_us();
    for (int i = 0; i < n_switches; i++) {
        struct sim_switch *sw = &switches[i];
        if (sw->conn.fd < 0 && sw->retry_at && now >= sw->retry_at) {
            sw_connect(sw);
        }
    }
}

int
sim_switches_n_connected(void)
{
    int n = 0;
    for (int i = 0; i < n_switches; i++) {
        n += switches[i].conn.fd >= 0 && !switches[i].conn.connecting;
    }
    return n;
}

long long
sim_switch_confirmed_us(int i)
{
    return switches[i].confirmed_us;
}

size_t
sim_switch_n_flows(int i)
{
    return flow_table_n_flows(switches[i].flows);
}

void
sim_switch_get_stats(int i, struct sim_switch_stats *s)
{
    *s = switches[i].stats;
}

void
sim_switches_get_stats(struct sim_switch_stats *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < n_switches; i++) {
        const struct sim_switch_stats *t = &switches[i].stats;
        s->flow_mods += t->flow_mods;
        s->bundles += t->bundles;
        s->flow_dumps += t->flow_dumps;
        s->connects += t->connects;
    }
}
