/* Listeners and connections of tetherd's OpenFlow endpoint, and the
 * dpid -> of_switch map they are routed by.  See of-server.h. */
#include <config.h>

#include "ovs-glue/of-server.h"
#include "ovs-glue/ovs-loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "byte-order.h"
#include "coverage.h"
#include "hash.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-switch.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/rconn.h"
#include "openvswitch/vconn.h"
#include "openvswitch/vlog.h"
#include "socket-util.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(of_server);

/* Open vSwitch's inet_open_passive() listens with a backlog of 10.  When
 * tetherd restarts, every bridge of the data center reconnects at once:
 * with 10 slots the kernel drops the other handshakes, and the bridges get
 * in only as their SYN retransmissions back off (1, 2, 4, 8... s): at 100
 * bridges the last one took ~40 s.  This definition, taken by the static
 * link instead of the C library's, gives every listening socket of the
 * process the system's maximum backlog (the kernel caps it at
 * net.core.somaxconn). */
int
listen(int fd, int backlog)
{
    return syscall(SYS_listen, fd, backlog < 4096 ? 4096 : backlog);
}

COVERAGE_DEFINE(of_server_accept);
COVERAGE_DEFINE(of_server_msg);
COVERAGE_DEFINE(of_server_recv_skipped);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

/* OpenFlow 1.3, 1.4 and 1.5. */
#define OF_SERVER_VERSIONS ((1u << OFP13_VERSION) | (1u << OFP14_VERSION) \
                            | (1u << OFP15_VERSION))

/* Messages taken from one connection per run, so that one busy switch does
 * not starve the others. */
#define OF_SERVER_RECV_BATCH 500

/* One connection, passive (accepted) or active (of_server_connect()). */
struct of_conn {
    struct ovs_list node;       /* In of_server's 'conns'. */
    struct rconn *rconn;
    bool passive;               /* Destroyed when it drops. */
    unsigned int seqno;         /* rconn connection seqno seen last. */
    bool features_sent;
    uint32_t features_xid;
    struct of_switch *sw;       /* Bound switch, once identified. */

    /* Whether this run may skip rconn_recv(): the fd rconn_recv_wait()
     * registered and for which round (0: none, so never skip), and whether
     * the last run left messages behind. */
    int recv_fd;
    unsigned long long recv_round;
    bool more;
};

struct of_switch_node {
    struct hmap_node node;      /* In of_server's 'switches', by dpid. */
    struct of_switch *sw;
};

struct of_server {
    const struct of_server_cbs *cbs;
    void *aux;
    int probe_interval;
    struct pvconn **listeners;
    size_t n_listeners;
    struct ovs_list conns;      /* Contains "struct of_conn"s. */
    struct hmap switches;       /* Contains "struct of_switch_node"s. */
    bool more;                  /* A connection has messages left. */
    bool hold_new;              /* new switch records start held */
    unsigned long long recv_skipped, recv_read;
};

struct of_server *
of_server_create(const struct of_server_cbs *cbs, void *aux)
{
    struct of_server *s = xzalloc(sizeof *s);

    s->cbs = cbs;
    s->aux = aux;
    s->probe_interval = 5;
    ovs_list_init(&s->conns);
    hmap_init(&s->switches);
    return s;
}

static void
of_conn_destroy(struct of_conn *c)
{
    if (c->sw) {
        of_switch_detach__(c->sw);
        c->sw = NULL;
    }
    ovs_list_remove(&c->node);
    rconn_destroy(c->rconn);
    free(c);
}

void
of_server_destroy(struct of_server *s)
{
    struct of_switch_node *n;
    struct of_conn *c;

    if (!s) {
        return;
    }
    LIST_FOR_EACH_SAFE (c, node, &s->conns) {
        of_conn_destroy(c);
    }
    HMAP_FOR_EACH_POP (n, node, &s->switches) {
        of_switch_destroy__(n->sw);
        free(n);
    }
    hmap_destroy(&s->switches);
    for (size_t i = 0; i < s->n_listeners; i++) {
        pvconn_close(s->listeners[i]);
    }
    free(s->listeners);
    free(s);
}

void
of_server_set_probe_interval(struct of_server *s, int seconds)
{
    s->probe_interval = seconds;
}

int
of_server_listen(struct of_server *s, const char *target)
{
    struct pvconn *pvconn;
    int error;

    error = pvconn_open(target, OF_SERVER_VERSIONS, DSCP_DEFAULT, &pvconn);
    if (error) {
        VLOG_ERR("%s: cannot listen (%s)", target, ovs_strerror(error));
        return error;
    }
    s->listeners = xrealloc(s->listeners,
                            (s->n_listeners + 1) * sizeof *s->listeners);
    s->listeners[s->n_listeners++] = pvconn;
    VLOG_INFO("%s: listening", target);
    return 0;
}

static struct of_conn *
of_conn_create(struct of_server *s, bool passive)
{
    struct of_conn *c = xzalloc(sizeof *c);

    c->rconn = rconn_create(s->probe_interval, 8, DSCP_DEFAULT,
                            OF_SERVER_VERSIONS);
    c->passive = passive;
    c->seqno = rconn_get_connection_seqno(c->rconn);
    ovs_list_push_back(&s->conns, &c->node);
    return c;
}

void
of_server_connect(struct of_server *s, const char *target)
{
    struct of_conn *c = of_conn_create(s, false);
    rconn_connect(c->rconn, target, NULL);
}

struct of_switch *
of_server_find_switch(const struct of_server *s, uint64_t dpid)
{
    struct of_switch_node *n;

    HMAP_FOR_EACH_WITH_HASH (n, node, hash_uint64(dpid), &s->switches) {
        if (of_switch_dpid(n->sw) == dpid) {
            return n->sw;
        }
    }
    return NULL;
}

struct of_switch *
of_server_get_switch(struct of_server *s, uint64_t dpid)
{
    struct of_switch *sw = of_server_find_switch(s, dpid);

    if (!sw) {
        struct of_switch_node *n = xmalloc(sizeof *n);
        n->sw = sw = of_switch_create__(dpid, s->cbs, s->aux);
        hmap_insert(&s->switches, &n->node, hash_uint64(dpid));
        if (s->hold_new) {
            of_switch_set_held(sw, true);
        }
    }
    return sw;
}

/* Binds 'c' to the switch of the datapath id in features reply 'oh'. */
static void
of_conn_handle_features(struct of_server *s, struct of_conn *c,
                        const struct ofp_header *oh)
{
    struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));
    struct ofputil_switch_features features;
    struct of_switch *sw;
    struct of_conn *other;
    enum ofperr error;

    if (c->sw || ntohl(oh->xid) != c->features_xid) {
        return;
    }
    error = ofputil_pull_switch_features(&b, &features);
    if (error) {
        VLOG_WARN_RL(&rl, "%s: bad features reply (%s)",
                     rconn_get_name(c->rconn), ofperr_to_string(error));
        return;
    }

    sw = of_server_get_switch(s, features.datapath_id);
    LIST_FOR_EACH (other, node, &s->conns) {
        if (other->sw == sw) {
            VLOG_INFO("%s: replaces %s for %s", rconn_get_name(c->rconn),
                      rconn_get_name(other->rconn), of_switch_name(sw));
            of_switch_detach__(sw);
            other->sw = NULL;
            if (other->passive) {
                rconn_disconnect(other->rconn);
            }
        }
    }
    c->sw = sw;
    of_switch_attach__(sw, c->rconn);
}

static void
of_conn_handle_msg(struct of_server *s, struct of_conn *c,
                   const struct ofpbuf *msg)
{
    const struct ofp_header *oh = msg->data;
    enum ofptype type;

    COVERAGE_INC(of_server_msg);
    if (ofptype_decode(&type, oh)) {
        VLOG_WARN_RL(&rl, "%s: undecodable message",
                     rconn_get_name(c->rconn));
    } else if (type == OFPTYPE_FEATURES_REPLY) {
        of_conn_handle_features(s, c, oh);
    } else if (c->sw) {
        of_switch_handle_msg__(c->sw, msg);
    } else if (type == OFPTYPE_ECHO_REQUEST) {
        rconn_send(c->rconn, ofputil_encode_echo_reply(oh), NULL);
    }
}

/* Returns false if 'c' was destroyed. */
static bool
of_conn_run(struct of_server *s, struct of_conn *c)
{
    unsigned int seqno;

    rconn_run(c->rconn);

    /* Nothing to receive if the last round waited for this connection's
     * fd and found it idle, it is still the same connection, and the last
     * run read all there was (the loop's wait, not the socket, is asked:
     * at 1,000 bridges that is 999 recv() calls a round saved). */
    bool idle = (c->recv_round && !c->more
                 && !ovs_loop_fd_ready(c->recv_fd, c->recv_round));
    c->recv_round = 0;

    seqno = rconn_get_connection_seqno(c->rconn);
    if (seqno != c->seqno) {
        idle = false;
        c->seqno = seqno;
        c->features_sent = false;
        if (c->sw) {
            of_switch_detach__(c->sw);
            c->sw = NULL;
        }
    }

    if (!c->features_sent && rconn_is_connected(c->rconn)
        && rconn_get_version(c->rconn) >= 0) {
        int version = rconn_get_version(c->rconn);
        struct ofpbuf *rq = ofpraw_alloc(OFPRAW_OFPT_FEATURES_REQUEST,
                                         version, 0);
        c->features_xid = ntohl(((struct ofp_header *) rq->data)->xid);
        c->features_sent = true;
        rconn_send(c->rconn, rq, NULL);
    }

    c->more = false;
    if (idle) {
        COVERAGE_INC(of_server_recv_skipped);
        s->recv_skipped++;
    } else {
        s->recv_read++;
    }
    for (int i = 0; !idle && i < OF_SERVER_RECV_BATCH; i++) {
        struct ofpbuf *msg = rconn_recv(c->rconn);
        if (!msg) {
            break;
        }
        of_conn_handle_msg(s, c, msg);
        ofpbuf_delete(msg);
        if (i == OF_SERVER_RECV_BATCH - 1) {
            s->more = c->more = true;
        }
    }

    if (c->passive && !rconn_is_alive(c->rconn)) {
        of_conn_destroy(c);
        return false;
    }
    return true;
}

void
of_server_run(struct of_server *s)
{
    struct of_switch_node *n;
    struct of_conn *c;

    for (size_t i = 0; i < s->n_listeners; i++) {
        /* Many at a time: see listen() above. */
        for (int j = 0; j < 64; j++) {
            struct vconn *vconn;
            int error = pvconn_accept(s->listeners[i], &vconn);
            if (error) {
                if (error != EAGAIN) {
                    VLOG_WARN_RL(&rl, "%s: accept failed (%s)",
                                 pvconn_get_name(s->listeners[i]),
                                 ovs_strerror(error));
                }
                break;
            }
            COVERAGE_INC(of_server_accept);
            c = of_conn_create(s, true);
            rconn_connect_unreliably(c->rconn, vconn, NULL);
        }
    }

    s->more = false;
    LIST_FOR_EACH_SAFE (c, node, &s->conns) {
        of_conn_run(s, c);
    }

    HMAP_FOR_EACH (n, node, &s->switches) {
        of_switch_run__(n->sw);
    }
}

void
of_server_wait(struct of_server *s)
{
    struct of_switch_node *n;
    struct of_conn *c;

    for (size_t i = 0; i < s->n_listeners; i++) {
        pvconn_wait(s->listeners[i]);
    }
    LIST_FOR_EACH (c, node, &s->conns) {
        rconn_run_wait(c->rconn);
        /* One fd registered: the connection's socket (TLS with bytes
         * already decrypted wakes the loop at once and registers none). */
        unsigned long long calls = ovs_loop_wait_calls();
        rconn_recv_wait(c->rconn);
        if (ovs_loop_wait_calls() == calls + 1) {
            c->recv_fd = ovs_loop_last_wait_fd();
            c->recv_round = ovs_loop_round() + 1;
        } else {
            c->recv_round = 0;
        }
    }
    HMAP_FOR_EACH (n, node, &s->switches) {
        if (of_switch_has_work__(n->sw)) {
            poll_immediate_wake();
        }
    }
    if (s->more) {
        poll_immediate_wake();
    }
}

void
of_server_recv_counts(const struct of_server *s, unsigned long long *skipped,
                      unsigned long long *read)
{
    *skipped = s->recv_skipped;
    *read = s->recv_read;
}

void
of_server_hold_new_switches(struct of_server *s, bool hold)
{
    s->hold_new = hold;
}
