/* tether-agent's connection to tetherd (see controller-conn.h). */
#include <config.h>

#include "hostagent/controller-conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/util.h>

#include "lib/validate.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "proto/channel.h"
#include "proto/tls.h"
#include "random.h"
#include "reconnect.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(controller_conn);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(10, 30);

#define DEFAULT_HEARTBEAT_MS 1000

struct controller_conn {
    struct event_base *base;
    char *target;
    struct ssl_ctx_st *tls;             /* NULL: plain TCP */
    struct sockaddr_storage addr;
    int addrlen;

    char *host_id, *hypervisor, *tunnel_ip, *tunnel_type, *bridge;
    uint64_t boot_id;
    char hostname[256];
    char *cpu_model;
    char **cpu_flags;
    size_t n_cpu_flags;
    controller_conn_refusal_func *refusal_cb;
    void *refusal_aux;
    controller_conn_switchover_func *switchover_cb;
    void *switchover_aux;

    controller_conn_resync_func *resync_cb;
    void *aux;

    struct reconnect *fsm;
    long long int connect_at;           /* jittered attempt time, or 0 */
    struct tether_channel *channel;     /* NULL when not connected */
    bool channel_dead;                  /* closed; destroy in run() */
    bool registered;
    bool resync_due;
    char *controller_id;
    char **of_targets;                  /* from the last HelloReply */
    size_t n_of_targets;
    unsigned int heartbeat_ms;
    long long int next_heartbeat;
    long long int rx_deadline;          /* controller presumed dead after */
    uint64_t seq;

    uint64_t datapath_id;               /* bridge status to report */
    int32_t tunnel_ofport;
    int32_t relay_ofport;
    bool bridge_status_due;

    struct controller_conn_stats stats;
};

static void conn_message_cb(struct tether_channel *,
                            const struct tether_msg *, void *);
static void conn_closed_cb(struct tether_channel *, int error,
                           const char *reason, void *);
static void conn_connected_cb(struct tether_channel *, void *);

struct controller_conn *
controller_conn_create(struct event_base *base, const char *target,
                       const struct controller_conn_tls *tls,
                       const struct agent_identity *id,
                       controller_conn_resync_func *resync_cb, void *aux,
                       char **errp)
{
    struct controller_conn *c = xzalloc(sizeof *c);

    *errp = NULL;
    c->addrlen = sizeof c->addr;
    bool is_tls;
    const char *addr = tether_tls_parse_target(target, &is_tls);
    if (!addr || !tether_parse_ip_port(addr, &c->addr, &c->addrlen)
        || ((struct sockaddr_in *) &c->addr)->sin_port == 0) {
        *errp = xasprintf("%s: not a [tcp:|ssl:]IP:PORT controller address",
                          target);
        free(c);
        return NULL;
    }
    if (is_tls) {
        struct tether_tls_config tc = {
            .private_key = tls ? tls->private_key : NULL,
            .certificate = tls ? tls->certificate : NULL,
            .ca_cert = tls ? tls->ca_cert : NULL,
        };
        char *tls_err;
        c->tls = tether_tls_ctx_create(TETHER_TLS_CLIENT, &tc, &tls_err);
        if (!c->tls) {
            *errp = xasprintf("%s: %s", target, tls_err);
            free(tls_err);
            free(c);
            return NULL;
        }
    }
    c->base = base;
    c->target = xstrdup(target);
    c->host_id = xstrdup(id->host_id);
    c->hypervisor = xstrdup(id->hypervisor ? id->hypervisor : "generic");
    c->tunnel_ip = xstrdup(id->tunnel_ip);
    c->tunnel_type = xstrdup(id->tunnel_type ? id->tunnel_type : "geneve");
    c->bridge = xstrdup(id->bridge ? id->bridge : "br-int");
    c->boot_id = ((uint64_t) random_uint32() << 32) | random_uint32();
    c->cpu_model = xstrdup(id->cpu_model ? id->cpu_model : "");
    c->n_cpu_flags = id->n_cpu_flags;
    c->cpu_flags = xcalloc(id->n_cpu_flags + 1, sizeof *c->cpu_flags);
    for (size_t i = 0; i < id->n_cpu_flags; i++) {
        c->cpu_flags[i] = xstrdup(id->cpu_flags[i]);
    }
    if (gethostname(c->hostname, sizeof c->hostname)) {
        strcpy(c->hostname, "unknown");
    }
    c->resync_cb = resync_cb;
    c->aux = aux;
    c->heartbeat_ms = DEFAULT_HEARTBEAT_MS;
    c->tunnel_ofport = -1;

    c->fsm = reconnect_create(time_msec());
    reconnect_set_name(c->fsm, c->target);
    /* Short: after a controller restart, an agent's reports are what lets
     * tetherd reprogram bridges for moves that happened meanwhile. */
    reconnect_set_backoff(c->fsm, 100, 2000);
    reconnect_set_probe_interval(c->fsm, 0);   /* heartbeats do this job */
    reconnect_enable(c->fsm, time_msec());
    return c;
}

static void
conn_drop__(struct controller_conn *c)
{
    tether_channel_destroy(c->channel);
    c->channel = NULL;
    c->channel_dead = false;
    c->registered = false;
}

void
controller_conn_destroy(struct controller_conn *c)
{
    if (!c) {
        return;
    }
    if (c->channel && tether_channel_is_open(c->channel)) {
        tether_channel_close(c->channel, "agent shutting down");
    }
    conn_drop__(c);
    reconnect_destroy(c->fsm);
    free(c->target);
    free(c->host_id);
    free(c->hypervisor);
    free(c->cpu_model);
    for (size_t i = 0; i < c->n_cpu_flags; i++) {
        free(c->cpu_flags[i]);
    }
    free(c->cpu_flags);
    free(c->tunnel_ip);
    free(c->tunnel_type);
    free(c->bridge);
    free(c->controller_id);
    tether_tls_ctx_destroy(c->tls);
    for (size_t i = 0; i < c->n_of_targets; i++) {
        free(c->of_targets[i]);
    }
    free(c->of_targets);
    free(c);
}

static void
conn_connect__(struct controller_conn *c)
{
    static const struct tether_channel_cbs cbs = {
        .message = conn_message_cb,
        .closed = conn_closed_cb,
        .connected = conn_connected_cb,
    };
    struct bufferevent *bev;

    c->stats.connects++;
    reconnect_connecting(c->fsm, time_msec());
    bev = (c->tls
           ? tether_tls_bufferevent(c->base, c->tls, -1, TETHER_TLS_CLIENT)
           : bufferevent_socket_new(c->base, -1, BEV_OPT_CLOSE_ON_FREE));
    if (!bev) {
        reconnect_connect_failed(c->fsm, time_msec(), ENOMEM);
        return;
    }
    c->channel = tether_channel_create(bev, TETHER_ROLE_CONTROLLER, c->target,
                                       &cbs, c);
    if (bufferevent_socket_connect(bev, (struct sockaddr *) &c->addr,
                                   c->addrlen)) {
        /* The channel owns 'bev' now; a failed connect is reported through
         * conn_closed_cb() or here if libevent failed synchronously. */
        int error = EVUTIL_SOCKET_ERROR();
        VLOG_WARN_RL(&rl, "%s: connect failed: %s", c->target,
                     evutil_socket_error_to_string(error));
        conn_drop__(c);
        reconnect_connect_failed(c->fsm, time_msec(), error ? error : EIO);
    }
}

static void
conn_connected_cb(struct tether_channel *ch, void *c_)
{
    struct controller_conn *c = c_;
    Tether__Hello hello = TETHER__HELLO__INIT;
    static const char *caps[] = { "vif-events", "migration-events", "resync" };

    reconnect_connected(c->fsm, time_msec());
    hello.host_id = c->host_id;
    hello.hypervisor = c->hypervisor;
    hello.hostname = c->hostname;
    hello.tunnel_ip = c->tunnel_ip;
    hello.tunnel_type = c->tunnel_type;
    hello.bridge = c->bridge;
    hello.cpu_model = c->cpu_model;
    hello.cpu_flags = c->cpu_flags;
    hello.n_cpu_flags = c->n_cpu_flags;
    hello.capabilities = (char **) caps;
    hello.n_capabilities = ARRAY_SIZE(caps);
    hello.agent_version = (char *) TETHER_VERSION;
    hello.boot_id = c->boot_id;
    tether_channel_send(ch, TETHER_MSG_HELLO, &hello.base);
    c->rx_deadline = time_msec() + 10000;
    VLOG_INFO("%s: connected, saying hello as host %s", c->target,
              c->host_id);
    poll_immediate_wake();
}

static void
conn_send_resync__(struct controller_conn *c)
{
    Tether__Resync rs = TETHER__RESYNC__INIT;

    rs.host_id = c->host_id;
    rs.seq = ++c->seq;
    if (c->resync_cb) {
        c->resync_cb(&rs, c->aux);
    }
    int error = tether_channel_send(c->channel, TETHER_MSG_RESYNC, &rs.base);
    if (error) {
        VLOG_ERR_RL(&rl, "%s: cannot send resync: %s", c->target,
                    tether_wire_strerror(error));
    } else {
        VLOG_INFO("%s: resync sent: %zu VIFs", c->target, rs.n_vifs);
    }
    /* The resync callback allocated the repeated fields' arrays. */
    for (size_t i = 0; i < rs.n_vifs; i++) {
        free(rs.vifs[i]);
    }
    free(rs.vifs);
    c->resync_due = false;
}

static void
handle_hello_reply(struct controller_conn *c, const Tether__HelloReply *r)
{
    if (c->registered) {
        tether_channel_fail(c->channel, TETHER_WIRE_ESTATE,
                            "second hello reply");
        return;
    }
    if (!r->accepted) {
        VLOG_WARN_RL(&rl, "%s: controller refused host %s: %s", c->target,
                     c->host_id, r->reason);
        tether_channel_close(c->channel, "hello refused");
        return;
    }
    c->registered = true;
    c->stats.registrations++;
    free(c->controller_id);
    c->controller_id = xstrdup(r->controller_id);
    for (size_t i = 0; i < c->n_of_targets; i++) {
        free(c->of_targets[i]);
    }
    free(c->of_targets);
    c->of_targets = xcalloc(r->n_openflow_targets + 1, sizeof *c->of_targets);
    for (size_t i = 0; i < r->n_openflow_targets; i++) {
        c->of_targets[i] = xstrdup(r->openflow_targets[i]);
    }
    c->n_of_targets = r->n_openflow_targets;
    c->heartbeat_ms = r->heartbeat_interval_ms ? r->heartbeat_interval_ms
                                               : DEFAULT_HEARTBEAT_MS;
    c->next_heartbeat = time_msec() + c->heartbeat_ms;
    VLOG_INFO("%s: registered as host %s with controller %s (tetherd %s), "
              "heartbeat %u ms", c->target, c->host_id, r->controller_id,
              r->controller_version, c->heartbeat_ms);
    conn_send_resync__(c);
    c->bridge_status_due = true;
}

static void
handle_command(struct controller_conn *c, const Tether__Command *cmd)
{
    Tether__Ack ack = TETHER__ACK__INIT;

    c->stats.commands++;
    ack.command_id = cmd->command_id;
    switch (cmd->kind) {
    case TETHER__COMMAND__KIND__REQUEST_RESYNC:
        c->resync_due = true;
        ack.status = TETHER__ACK__STATUS__OK;
        break;
    case TETHER__COMMAND__KIND__REFUSE_MIGRATION:
        VLOG_WARN_RL(&rl, "%s: tetherd refused the migration of eni %s to "
                     "this host: %s", c->target, cmd->eni_id, cmd->reason);
        if (c->refusal_cb) {
            c->refusal_cb(cmd->eni_id, cmd->reason, c->refusal_aux);
        }
        ack.status = TETHER__ACK__STATUS__OK;
        break;
    case TETHER__COMMAND__KIND__SWITCHOVER_READY:
        if (c->switchover_cb) {
            c->switchover_cb(cmd->eni_id, c->switchover_aux);
        }
        ack.status = TETHER__ACK__STATUS__OK;
        break;
    default:
        ack.status = TETHER__ACK__STATUS__UNSUPPORTED;
        ack.message = (char *) "command not supported by this agent";
        break;
    }
    tether_channel_send(c->channel, TETHER_MSG_ACK, &ack.base);
}

void
controller_conn_set_switchover_cb(struct controller_conn *c,
                                  controller_conn_switchover_func *cb,
                                  void *aux)
{
    c->switchover_cb = cb;
    c->switchover_aux = aux;
}

void
controller_conn_set_refusal_cb(struct controller_conn *c,
                               controller_conn_refusal_func *cb, void *aux)
{
    c->refusal_cb = cb;
    c->refusal_aux = aux;
}

static void
conn_message_cb(struct tether_channel *ch, const struct tether_msg *msg,
                void *c_)
{
    struct controller_conn *c = c_;

    reconnect_activity(c->fsm, time_msec());
    c->rx_deadline = time_msec() + 3LL * c->heartbeat_ms;
    if (!c->registered && msg->type != TETHER_MSG_HELLO_REPLY
        && msg->type != TETHER_MSG_ERROR) {
        tether_channel_fail(ch, TETHER_WIRE_ESTATE,
                            "message before hello reply");
        return;
    }
    switch (msg->type) {
    case TETHER_MSG_HELLO_REPLY:
        handle_hello_reply(c, (const Tether__HelloReply *) msg->pb);
        break;
    case TETHER_MSG_HEARTBEAT:
        break;
    case TETHER_MSG_COMMAND:
        handle_command(c, (const Tether__Command *) msg->pb);
        break;
    case TETHER_MSG_ERROR: {
        const Tether__Error *e = (const Tether__Error *) msg->pb;
        VLOG_WARN_RL(&rl, "%s: controller reports error %u: %s", c->target,
                     e->code, e->message);
        tether_channel_close(ch, "controller reported an error");
        break;
    }
    default:
        /* The channel only passes what a controller may send. */
        tether_channel_fail(ch, TETHER_WIRE_ETYPE, "unexpected message");
        break;
    }
    poll_immediate_wake();
}

static void
conn_closed_cb(struct tether_channel *ch OVS_UNUSED, int error,
               const char *reason, void *c_)
{
    struct controller_conn *c = c_;
    long long int now = time_msec();

    if (reconnect_is_connected(c->fsm)) {
        if (error) {
            VLOG_WARN_RL(&rl, "%s: connection closed: %s", c->target, reason);
        } else {
            VLOG_INFO("%s: connection closed: %s", c->target, reason);
        }
        reconnect_disconnected(c->fsm, now, error ? EPROTO : 0);
    } else {
        VLOG_WARN_RL(&rl, "%s: cannot connect: %s", c->target, reason);
        reconnect_connect_failed(c->fsm, now, ECONNREFUSED);
    }
    c->channel_dead = true;
    c->registered = false;
    poll_immediate_wake();
}

void
controller_conn_run(struct controller_conn *c)
{
    long long int now = time_msec();

    if (c->channel_dead) {
        conn_drop__(c);
    }

    switch (reconnect_run(c->fsm, now)) {
    case RECONNECT_CONNECT:
        /* Spread the agents of a data center out after a controller
         * restart: each waits a random part (up to half) of its current
         * backoff before trying. */
        if (!c->channel && !c->connect_at) {
            struct reconnect_stats st;
            reconnect_get_stats(c->fsm, now, &st);
            int spread = st.n_attempted_connections ? st.backoff / 2 : 0;
            c->connect_at = now + (spread > 0 ? random_range(spread) : 0);
        }
        if (!c->channel && now >= c->connect_at) {
            c->connect_at = 0;
            conn_connect__(c);
        }
        break;
    case RECONNECT_DISCONNECT:
        if (c->channel) {
            tether_channel_close(c->channel, "reconnecting");
        }
        break;
    case RECONNECT_PROBE:
        break;
    }

    if (c->channel && reconnect_is_connected(c->fsm)
        && tether_channel_is_open(c->channel)) {
        if (now >= c->rx_deadline) {
            VLOG_WARN_RL(&rl, "%s: nothing heard for %lld ms: controller "
                         "presumed dead", c->target,
                         now - c->rx_deadline + 3LL * c->heartbeat_ms);
            tether_channel_close(c->channel, "controller presumed dead");
        } else if (c->registered) {
            if (c->resync_due) {
                conn_send_resync__(c);
            }
            if (c->bridge_status_due) {
                Tether__BridgeStatus bs = TETHER__BRIDGE_STATUS__INIT;
                bs.host_id = c->host_id;
                bs.bridge = c->bridge;
                bs.datapath_id = c->datapath_id;
                bs.tunnel_ofport = c->tunnel_ofport;
                bs.relay_ofport = c->relay_ofport;
                bs.seq = ++c->seq;
                tether_channel_send(c->channel, TETHER_MSG_BRIDGE_STATUS,
                                    &bs.base);
                c->bridge_status_due = false;
            }
            if (now >= c->next_heartbeat) {
                Tether__Heartbeat hb = TETHER__HEARTBEAT__INIT;
                hb.seq = ++c->seq;
                hb.time_ms = now;
                tether_channel_send(c->channel, TETHER_MSG_HEARTBEAT,
                                    &hb.base);
                c->stats.heartbeats_sent++;
                c->next_heartbeat = now + c->heartbeat_ms;
            }
        }
    }
}

void
controller_conn_wait(struct controller_conn *c)
{
    reconnect_wait(c->fsm, time_msec());
    if (c->connect_at) {
        poll_timer_wait_until(c->connect_at);
    }
    if (c->channel_dead) {
        poll_immediate_wake();
    }
    if (c->channel && reconnect_is_connected(c->fsm)) {
        poll_timer_wait_until(c->rx_deadline);
        if (c->registered) {
            poll_timer_wait_until(c->next_heartbeat);
            if (c->resync_due || c->bridge_status_due) {
                poll_immediate_wake();
            }
        }
    }
}

bool
controller_conn_is_registered(const struct controller_conn *c)
{
    return c->registered;
}

int
controller_conn_send_vif_event(struct controller_conn *c,
                               Tether__VifEvent *ev)
{
    if (!c->registered) {
        return ENOTCONN;
    }
    ev->host_id = c->host_id;
    ev->seq = ++c->seq;
    return tether_channel_send(c->channel, TETHER_MSG_VIF_EVENT, &ev->base)
           ? EPROTO : 0;
}

int
controller_conn_send_migration_event(struct controller_conn *c,
                                     Tether__MigrationEvent *ev)
{
    if (!c->registered) {
        return ENOTCONN;
    }
    ev->host_id = c->host_id;
    ev->seq = ++c->seq;
    return tether_channel_send(c->channel, TETHER_MSG_MIGRATION_EVENT,
                               &ev->base) ? EPROTO : 0;
}

void
controller_conn_request_resync(struct controller_conn *c)
{
    c->resync_due = true;
    poll_immediate_wake();
}

void
controller_conn_get_stats(const struct controller_conn *c,
                          struct controller_conn_stats *s)
{
    *s = c->stats;
}

const char *
controller_conn_controller_id(const struct controller_conn *c)
{
    return c->controller_id;
}

char *const *
controller_conn_openflow_targets(const struct controller_conn *c, size_t *n)
{
    *n = c->n_of_targets;
    return c->of_targets;
}

void
controller_conn_set_bridge_status(struct controller_conn *c,
                                  uint64_t datapath_id, int32_t tunnel_ofport,
                                  int32_t relay_ofport)
{
    if (datapath_id != c->datapath_id || tunnel_ofport != c->tunnel_ofport
        || relay_ofport != c->relay_ofport) {
        c->datapath_id = datapath_id;
        c->tunnel_ofport = tunnel_ofport;
        c->relay_ofport = relay_ofport;
        c->bridge_status_due = true;
        poll_immediate_wake();
    }
}
