/* One switch's tables and the protocol that keeps them in step: the dump on
 * connection, the bundle per commit, packet-in and packet-out.  See
 * of-switch.h. */
#include <config.h>

#include "ovs-glue/of-switch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "byte-order.h"
#include "coverage.h"
#include "openvswitch/list.h"
#include "openvswitch/ofp-bundle.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-group.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-packet.h"
#include "openvswitch/ofp-port.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/rconn.h"
#include "openvswitch/vlog.h"
#include "ovs-glue/of-server.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(of_switch);

COVERAGE_DEFINE(of_switch_bundle);
COVERAGE_DEFINE(of_switch_flow_mod);
COVERAGE_DEFINE(of_switch_packet_in);
COVERAGE_DEFINE(of_switch_packet_out);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

/* The states of a switch, as seen from here. */
enum of_switch_state {
    OFS_DISCONNECTED,           /* No connection. */
    OFS_DUMPING,                /* Reading flows and groups into 'dump'. */
    OFS_READY,                  /* Installed table known. */
};

/* Where the bundle in flight is. */
enum of_bundle_state {
    OFB_ADDING,                 /* Open and adds sent; awaiting barrier 1. */
    OFB_COMMITTING,             /* Commit sent; awaiting barrier 2. */
    OFB_REFRESHING,             /* Failed; re-reading the switch's tables. */
};

/* A caller waiting for a commit (or refresh). */
struct of_waiter {
    struct ovs_list node;
    of_commit_cb *cb;
    void *aux;
};

struct of_bundle {
    enum of_bundle_state state;
    struct ft_plan plan;
    uint32_t bundle_id;
    uint32_t first_xid;         /* Open request... */
    uint32_t barrier1_xid;      /* ...to barrier 1. */
    uint32_t commit_xid;
    uint32_t barrier2_xid;
    int error;                  /* First error the switch reported. */
    bool is_sync;               /* The reconciliation after connecting. */
    struct ovs_list waiters;    /* Contains "struct of_waiter"s. */
};

struct of_switch {
    uint64_t dpid;
    char *name;
    const struct of_server_cbs *cbs;
    void *aux;

    struct flow_table *desired;
    struct flow_table *installed;
    bool held;                  /* send nothing (see of_switch_set_held()) */

    /* Connection, while attached. */
    struct rconn *rconn;
    enum ofp_version version;
    enum ofputil_protocol protocol;
    enum of_switch_state state;
    uint32_t next_xid;

    /* Dump in progress (OFS_DUMPING). */
    struct flow_table *dump;
    uint32_t flows_xid, groups_xid;
    bool flows_done, groups_done;
    bool sync_after_dump;       /* Reconcile when the dump is complete. */
    bool sync_pending;          /* Reconcile at the next run. */
    struct ovs_list refreshers; /* of_switch_refresh() waiters. */

    struct ovs_list pending;    /* Commits not yet in a bundle. */
    struct of_bundle *bundle;   /* Bundle in flight, or NULL. */

    struct of_switch_stats stats;
};

static void of_switch_start_dump(struct of_switch *, bool sync);

/* Waiters. */

static void
waiter_add(struct ovs_list *list, of_commit_cb *cb, void *aux)
{
    struct of_waiter *w = xmalloc(sizeof *w);
    w->cb = cb;
    w->aux = aux;
    ovs_list_push_back(list, &w->node);
}

/* Calls and frees every waiter on 'list' with 'error'.  The list is emptied
 * first, so a callback may add new waiters anywhere. */
static void
waiters_complete(struct of_switch *sw, struct ovs_list *list, int error)
{
    struct ovs_list done;
    struct of_waiter *w;

    ovs_list_init(&done);
    ovs_list_push_back_all(&done, list);
    LIST_FOR_EACH_POP (w, node, &done) {
        if (w->cb) {
            w->cb(sw, error, w->aux);
        }
        free(w);
    }
}

/* Accessors. */

uint64_t
of_switch_dpid(const struct of_switch *sw)
{
    return sw->dpid;
}

const char *
of_switch_name(const struct of_switch *sw)
{
    return sw->name;
}

bool
of_switch_is_connected(const struct of_switch *sw)
{
    return sw->rconn != NULL;
}

bool
of_switch_is_idle(const struct of_switch *sw)
{
    return (sw->state == OFS_READY && !sw->bundle && !sw->sync_pending
            && ovs_list_is_empty(&sw->pending));
}

struct flow_table *
of_switch_desired(struct of_switch *sw)
{
    return sw->desired;
}

const struct flow_table *
of_switch_installed(const struct of_switch *sw)
{
    return sw->installed;
}

void
of_switch_get_stats(const struct of_switch *sw, struct of_switch_stats *s)
{
    *s = sw->stats;
}

unsigned long long
of_switch_stats_n_flow_mods(const struct of_switch_stats *s)
{
    return (s->n_ops[FT_FLOW_ADD] + s->n_ops[FT_FLOW_MODIFY]
            + s->n_ops[FT_FLOW_DELETE]);
}

/* Lifecycle. */

struct of_switch *
of_switch_create__(uint64_t dpid, const struct of_server_cbs *cbs, void *aux)
{
    struct of_switch *sw = xzalloc(sizeof *sw);

    sw->dpid = dpid;
    sw->name = xasprintf("dpid %016"PRIx64, dpid);
    sw->cbs = cbs;
    sw->aux = aux;
    sw->desired = flow_table_create();
    flow_table_track_changes(sw->desired);
    sw->installed = flow_table_create();
    sw->state = OFS_DISCONNECTED;
    sw->next_xid = 0x7e000000;
    ovs_list_init(&sw->refreshers);
    ovs_list_init(&sw->pending);
    return sw;
}

static void
of_bundle_destroy(struct of_bundle *b)
{
    if (b) {
        ft_plan_destroy(&b->plan);
        ovs_assert(ovs_list_is_empty(&b->waiters));
        free(b);
    }
}

/* Forgets the connection-related state; waiters get ENOTCONN. */
static void
of_switch_reset(struct of_switch *sw)
{
    struct of_bundle *b = sw->bundle;

    sw->state = OFS_DISCONNECTED;
    flow_table_destroy(sw->dump);
    sw->dump = NULL;
    sw->sync_pending = sw->sync_after_dump = false;
    sw->bundle = NULL;
    if (b) {
        waiters_complete(sw, &b->waiters, ENOTCONN);
        of_bundle_destroy(b);
    }
    waiters_complete(sw, &sw->refreshers, ENOTCONN);
    waiters_complete(sw, &sw->pending, ENOTCONN);
}

void
of_switch_destroy__(struct of_switch *sw)
{
    if (sw) {
        sw->rconn = NULL;
        of_switch_reset(sw);
        flow_table_destroy(sw->desired);
        flow_table_destroy(sw->installed);
        free(sw->name);
        free(sw);
    }
}

/* Sending. */

static uint32_t
of_switch_xid(struct of_switch *sw)
{
    return sw->next_xid++;
}

static void
of_switch_send(struct of_switch *sw, struct ofpbuf *msg)
{
    int error = rconn_send(sw->rconn, msg, NULL);
    if (error) {
        VLOG_DBG_RL(&rl, "%s: send failed (%s)", sw->name,
                    ovs_strerror(error));
        ofpbuf_delete(msg);
    }
}

static uint32_t
of_switch_send_barrier(struct of_switch *sw)
{
    struct ofpbuf *msg = ofputil_encode_barrier_request(sw->version);
    uint32_t xid = of_switch_xid(sw);

    ((struct ofp_header *) msg->data)->xid = htonl(xid);
    of_switch_send(sw, msg);
    return xid;
}

static void
of_switch_send_bundle_ctrl(struct of_switch *sw, uint32_t bundle_id,
                           uint16_t type, uint32_t xid)
{
    struct ofputil_bundle_ctrl_msg bc = {
        .bundle_id = bundle_id,
        .type = type,
        .flags = OFPBF_ATOMIC | OFPBF_ORDERED,
    };
    struct ofpbuf *msg = ofputil_encode_bundle_ctrl_request(sw->version, &bc);

    ((struct ofp_header *) msg->data)->xid = htonl(xid);
    of_switch_send(sw, msg);
}

/* Connection. */

void
of_switch_attach__(struct of_switch *sw, struct rconn *rconn)
{
    if (sw->rconn) {
        of_switch_detach__(sw);
    }
    sw->rconn = rconn;
    sw->version = rconn_get_version(rconn);
    sw->protocol = ofputil_protocol_from_ofp_version(sw->version);
    sw->stats.n_connects++;
    VLOG_INFO("%s: connected (%s, OpenFlow %s)", sw->name,
              rconn_get_name(rconn), ofputil_version_to_string(sw->version));
    if (sw->cbs && sw->cbs->switch_up) {
        sw->cbs->switch_up(sw, sw->aux);
    }
    if (sw->rconn == rconn) {
        of_switch_start_dump(sw, true);
    }
}

void
of_switch_detach__(struct of_switch *sw)
{
    if (!sw->rconn) {
        return;
    }
    VLOG_INFO("%s: disconnected", sw->name);
    sw->rconn = NULL;
    of_switch_reset(sw);
    if (sw->cbs && sw->cbs->switch_down) {
        sw->cbs->switch_down(sw, sw->aux);
    }
}

/* Dump: flow stats for all tables and all group descriptions, into a new
 * table that replaces 'installed' when both replies are complete. */
static void
of_switch_start_dump(struct of_switch *sw, bool sync)
{
    struct ofputil_flow_stats_request fsr;
    struct ofpbuf *msg;

    flow_table_destroy(sw->dump);
    sw->dump = flow_table_create();
    sw->state = OFS_DUMPING;
    sw->sync_after_dump = sync || sw->sync_after_dump;
    sw->flows_done = sw->groups_done = false;

    memset(&fsr, 0, sizeof fsr);
    fsr.aggregate = false;
    match_init_catchall(&fsr.match);
    fsr.out_port = OFPP_ANY;
    fsr.out_group = OFPG_ANY;
    fsr.table_id = 0xff;
    msg = ofputil_encode_flow_stats_request(&fsr, sw->protocol);
    sw->flows_xid = of_switch_xid(sw);
    ((struct ofp_header *) msg->data)->xid = htonl(sw->flows_xid);
    of_switch_send(sw, msg);

    msg = ofputil_encode_group_desc_request(sw->version, OFPG_ALL);
    sw->groups_xid = of_switch_xid(sw);
    ((struct ofp_header *) msg->data)->xid = htonl(sw->groups_xid);
    of_switch_send(sw, msg);
}

static void
of_switch_dump_done(struct of_switch *sw)
{
    struct of_bundle *b = sw->bundle;

    flow_table_destroy(sw->installed);
    sw->installed = sw->dump;
    sw->dump = NULL;
    sw->state = OFS_READY;
    /* What the switch has is not necessarily the desired table of the last
     * commit (a rejected bundle, changes while disconnected, someone
     * else's edits): the next commit diffs the whole tables. */
    flow_table_mark_all_changed(sw->desired);
    VLOG_DBG("%s: read %"PRIuSIZE" flows, %"PRIuSIZE" groups", sw->name,
             flow_table_n_flows(sw->installed),
             flow_table_n_groups(sw->installed));

    if (sw->sync_after_dump) {
        sw->sync_after_dump = false;
        sw->sync_pending = true;
    }
    if (b && b->state == OFB_REFRESHING) {
        /* A rejected bundle: report it now that 'installed' is truthful. */
        sw->bundle = NULL;
        if (b->is_sync && sw->cbs && sw->cbs->switch_synced) {
            sw->cbs->switch_synced(sw, b->error, sw->aux);
        }
        waiters_complete(sw, &b->waiters, b->error);
        of_bundle_destroy(b);
    }
    waiters_complete(sw, &sw->refreshers, 0);
}

static void
handle_flow_stats_reply(struct of_switch *sw, const struct ofp_header *oh)
{
    struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));
    uint64_t stub[1024 / 8];
    struct ofpbuf ofpacts;

    if (sw->state != OFS_DUMPING || ntohl(oh->xid) != sw->flows_xid) {
        return;
    }
    ofpbuf_use_stub(&ofpacts, stub, sizeof stub);
    for (;;) {
        struct ofputil_flow_stats fs;
        int retval = ofputil_decode_flow_stats_reply(&fs, &b, false,
                                                     &ofpacts);
        if (retval) {
            if (retval != EOF) {
                VLOG_WARN_RL(&rl, "%s: bad flow stats reply (%s)", sw->name,
                             ofperr_to_string(retval));
            }
            break;
        }
        flow_table_add_flow_stats(sw->dump, &fs);
    }
    ofpbuf_uninit(&ofpacts);
    if (!ofpmp_more(oh)) {
        sw->flows_done = true;
        if (sw->groups_done) {
            of_switch_dump_done(sw);
        }
    }
}

static void
handle_group_desc_reply(struct of_switch *sw, const struct ofp_header *oh)
{
    struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));

    if (sw->state != OFS_DUMPING || ntohl(oh->xid) != sw->groups_xid) {
        return;
    }
    for (;;) {
        struct ofputil_group_desc gd;
        int retval = ofputil_decode_group_desc_reply(&gd, &b, oh->version);
        if (retval) {
            if (retval != EOF) {
                VLOG_WARN_RL(&rl, "%s: bad group desc reply (%s)", sw->name,
                             ofperr_to_string(retval));
            }
            break;
        }
        flow_table_add_group_desc(sw->dump, &gd);
        ofputil_uninit_group_desc(&gd);
    }
    if (!ofpmp_more(oh)) {
        sw->groups_done = true;
        if (sw->flows_done) {
            of_switch_dump_done(sw);
        }
    }
}

/* Commits. */

void
of_switch_commit(struct of_switch *sw, of_commit_cb *cb, void *aux)
{
    waiter_add(&sw->pending, cb, aux);
}

void
of_switch_refresh(struct of_switch *sw, of_commit_cb *cb, void *aux)
{
    waiter_add(&sw->refreshers, cb, aux);
}

/* Sends the difference between desired and installed as one bundle, for
 * the pending commits (and the reconciliation, if one is due). */
static void
of_switch_start_bundle(struct of_switch *sw)
{
    struct of_bundle *b = xzalloc(sizeof *b);
    bool is_sync = sw->sync_pending;

    ovs_list_init(&b->waiters);
    ovs_list_push_back_all(&b->waiters, &sw->pending);
    sw->sync_pending = false;
    b->is_sync = is_sync;

    /* 'installed' is what the switch has (no bundle is in flight, and the
     * last one was applied or the tables were read again), so only the
     * owners changed since the last commit can differ, unless this is a
     * reconciliation (see flow-table.h). */
    if (is_sync) {
        flow_table_mark_all_changed(sw->desired);
    }
    if (flow_table_all_changed(sw->desired)) {
        sw->stats.n_full_diffs++;
    }
    flow_table_diff_changes(sw->desired, sw->installed, &b->plan);
    flow_table_forget_changes(sw->desired);

    if (ft_plan_is_empty(&b->plan)) {
        if (is_sync) {
            sw->stats.n_syncs++;
            if (sw->cbs && sw->cbs->switch_synced) {
                sw->cbs->switch_synced(sw, 0, sw->aux);
            }
        }
        waiters_complete(sw, &b->waiters, 0);
        of_bundle_destroy(b);
        return;
    }

    COVERAGE_INC(of_switch_bundle);
    VLOG_DBG("%s: bundle of %"PRIuSIZE" ops", sw->name, b->plan.n_ops);
    sw->bundle = b;
    b->state = OFB_ADDING;
    b->first_xid = of_switch_xid(sw);
    b->bundle_id = b->first_xid;
    of_switch_send_bundle_ctrl(sw, b->bundle_id, OFPBCT_OPEN_REQUEST,
                               b->first_xid);
    for (size_t i = 0; i < b->plan.n_ops; i++) {
        const struct ft_op *op = &b->plan.ops[i];
        struct ofpbuf *inner = ft_op_encode(op, sw->protocol,
                                            of_switch_xid(sw));
        struct ofputil_bundle_add_msg badd = {
            .bundle_id = b->bundle_id,
            .flags = OFPBF_ATOMIC | OFPBF_ORDERED,
            .msg = inner->data,
        };
        if (VLOG_IS_DBG_ENABLED() && op->flow) {
            struct ds s = DS_EMPTY_INITIALIZER;
            minimatch_format(&op->flow->match, NULL, NULL, &s,
                             OFP_DEFAULT_PRIORITY);
            ds_put_cstr(&s, " actions=");
            struct ofpact_format_params fp = { .s = &s };
            ofpacts_format(op->flow->ofpacts, op->flow->ofpacts_len, &fp);
            VLOG_DBG("%s: %s table=%u priority=%u cookie=%#"PRIx64" %s",
                     sw->name, ft_op_type_to_string(op->type),
                     op->flow->table_id, op->flow->priority,
                     op->flow->cookie, ds_cstr(&s));
            ds_destroy(&s);
        }
        of_switch_send(sw, ofputil_encode_bundle_add(sw->version, &badd));
        ofpbuf_delete(inner);
        sw->stats.n_ops[op->type]++;
    }
    COVERAGE_ADD(of_switch_flow_mod, b->plan.n_ops);
    b->barrier1_xid = of_switch_send_barrier(sw);
}

static void
of_bundle_fail(struct of_switch *sw, struct of_bundle *b)
{
    VLOG_WARN_RL(&rl, "%s: bundle of %"PRIuSIZE" ops rejected: %s",
                 sw->name, b->plan.n_ops, ofperr_to_string(b->error));
    sw->stats.n_errors++;
    b->state = OFB_REFRESHING;
    of_switch_start_dump(sw, false);
}

static void
handle_barrier_reply(struct of_switch *sw, const struct ofp_header *oh)
{
    struct of_bundle *b = sw->bundle;
    uint32_t xid = ntohl(oh->xid);

    if (!b) {
        return;
    }
    if (b->state == OFB_ADDING && xid == b->barrier1_xid) {
        if (b->error) {
            /* Some add was rejected: committing would apply the rest. */
            of_switch_send_bundle_ctrl(sw, b->bundle_id,
                                       OFPBCT_DISCARD_REQUEST,
                                       of_switch_xid(sw));
            of_bundle_fail(sw, b);
            return;
        }
        b->state = OFB_COMMITTING;
        b->commit_xid = of_switch_xid(sw);
        of_switch_send_bundle_ctrl(sw, b->bundle_id, OFPBCT_COMMIT_REQUEST,
                                   b->commit_xid);
        b->barrier2_xid = of_switch_send_barrier(sw);
    } else if (b->state == OFB_COMMITTING && xid == b->barrier2_xid) {
        if (b->error) {
            of_bundle_fail(sw, b);
            return;
        }
        sw->bundle = NULL;
        sw->stats.n_bundles++;
        ft_plan_apply(&b->plan, sw->installed);
        if (b->is_sync) {
            sw->stats.n_syncs++;
            if (sw->cbs && sw->cbs->switch_synced) {
                sw->cbs->switch_synced(sw, 0, sw->aux);
            }
        }
        waiters_complete(sw, &b->waiters, 0);
        of_bundle_destroy(b);
    }
}

static void
handle_error(struct of_switch *sw, const struct ofp_header *oh)
{
    struct of_bundle *b = sw->bundle;
    uint32_t xid = ntohl(oh->xid);
    enum ofperr error = ofperr_decode_msg(oh, NULL);

    if (b && b->state != OFB_REFRESHING
        && ((xid >= b->first_xid && xid < b->barrier1_xid)
            || xid == b->commit_xid)) {
        if (!b->error) {
            b->error = error ? error : OFPERR_OFPBFC_MSG_FAILED;
        }
        return;
    }
    VLOG_WARN_RL(&rl, "%s: error reply to xid %#"PRIx32": %s", sw->name, xid,
                 error ? ofperr_to_string(error) : "(undecodable)");
}

/* Packet-in and packet-out. */

static void
handle_packet_in(struct of_switch *sw, const struct ofp_header *oh)
{
    struct ofputil_packet_in pin;
    struct of_packet_in opi;
    size_t total_len;
    uint32_t buffer_id;
    enum ofperr error;

    error = ofputil_decode_packet_in(oh, true, NULL, NULL, &pin, &total_len,
                                     &buffer_id, NULL);
    if (error) {
        VLOG_WARN_RL(&rl, "%s: bad packet-in (%s)", sw->name,
                     ofperr_to_string(error));
        return;
    }
    COVERAGE_INC(of_switch_packet_in);
    sw->stats.n_packet_ins++;
    opi = (struct of_packet_in) {
        .in_port = pin.flow_metadata.flow.in_port.ofp_port,
        .packet = pin.packet,
        .len = pin.packet_len,
        .total_len = total_len,
        .table_id = pin.table_id,
        .cookie = ntohll(pin.cookie),
        .reason = pin.reason,
    };
    if (sw->cbs && sw->cbs->packet_in) {
        sw->cbs->packet_in(sw, &opi, sw->aux);
    }
}

int
of_switch_packet_out(struct of_switch *sw, const void *packet, size_t len,
                     ofp_port_t in_port,
                     const struct ofpact *ofpacts, size_t ofpacts_len)
{
    struct ofputil_packet_out po;

    if (!sw->rconn || sw->state == OFS_DISCONNECTED) {
        return ENOTCONN;
    }
    memset(&po, 0, sizeof po);
    po.packet = packet;
    po.packet_len = len;
    po.buffer_id = UINT32_MAX;
    match_init_catchall(&po.flow_metadata);
    match_set_in_port(&po.flow_metadata, in_port);
    po.ofpacts = CONST_CAST(struct ofpact *, ofpacts);
    po.ofpacts_len = ofpacts_len;
    COVERAGE_INC(of_switch_packet_out);
    sw->stats.n_packet_outs++;
    of_switch_send(sw, ofputil_encode_packet_out(&po, sw->protocol));
    return 0;
}

/* Dispatch. */

struct of_handler {
    enum ofptype type;
    void (*handle)(struct of_switch *, const struct ofp_header *);
};

static void
handle_echo_request(struct of_switch *sw, const struct ofp_header *oh)
{
    of_switch_send(sw, ofputil_encode_echo_reply(oh));
}

static const struct of_handler handlers[] = {
    { OFPTYPE_ECHO_REQUEST, handle_echo_request },
    { OFPTYPE_ERROR, handle_error },
    { OFPTYPE_BARRIER_REPLY, handle_barrier_reply },
    { OFPTYPE_FLOW_STATS_REPLY, handle_flow_stats_reply },
    { OFPTYPE_GROUP_DESC_STATS_REPLY, handle_group_desc_reply },
    { OFPTYPE_PACKET_IN, handle_packet_in },
};

void
of_switch_handle_msg__(struct of_switch *sw, const struct ofpbuf *msg)
{
    const struct ofp_header *oh = msg->data;
    enum ofptype type;

    if (ofptype_decode(&type, oh)) {
        VLOG_WARN_RL(&rl, "%s: undecodable message", sw->name);
        return;
    }
    for (size_t i = 0; i < ARRAY_SIZE(handlers); i++) {
        if (handlers[i].type == type) {
            handlers[i].handle(sw, oh);
            return;
        }
    }
    /* Echo replies, bundle control replies, features replies, port status
     * and the like need nothing from us. */
}

bool
of_switch_has_work__(const struct of_switch *sw)
{
    return ((((!ovs_list_is_empty(&sw->pending) || sw->sync_pending)
              && (!sw->held || sw->state == OFS_DISCONNECTED))
             || !ovs_list_is_empty(&sw->refreshers))
            && (sw->state == OFS_DISCONNECTED
                || (sw->state == OFS_READY && !sw->bundle)));
}

void
of_switch_run__(struct of_switch *sw)
{
    if (sw->state == OFS_DISCONNECTED) {
        waiters_complete(sw, &sw->pending, ENOTCONN);
        waiters_complete(sw, &sw->refreshers, ENOTCONN);
    } else if (sw->state == OFS_READY && !sw->bundle
               && !ovs_list_is_empty(&sw->refreshers)) {
        of_switch_start_dump(sw, false);
    } else if (sw->state == OFS_READY && !sw->bundle && !sw->held
               && (sw->sync_pending || !ovs_list_is_empty(&sw->pending))) {
        of_switch_start_bundle(sw);
    }
}

void
of_switch_set_held(struct of_switch *sw, bool held)
{
    if (sw->held != held) {
        VLOG_INFO("%s: %s", sw->name, held ? "held" : "released");
        sw->held = held;
        poll_immediate_wake();
    }
}

bool
of_switch_is_held(const struct of_switch *sw)
{
    return sw->held;
}
