/* tetherd's agent protocol server (see agent-server.h). */
#include <config.h>

#include "controller/agent-server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "controller/host-registry.h"
#include "lib/validate.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "proto/channel.h"
#include "proto/tls.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(agent_server);

/* Anything an agent can trigger is logged at a bounded rate. */
static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(20, 50);

enum session_state {
    SESSION_HELLO_WAIT,         /* connected, waiting for Hello */
    SESSION_ACTIVE,             /* Hello accepted */
    SESSION_DEAD,               /* closed; freed by agent_server_run() */
};

struct agent_session {
    struct ovs_list node;               /* in agent_server's 'sessions' */
    struct agent_server *server;
    struct tether_channel *channel;
    enum session_state state;
    char peer[64];                      /* "IP:PORT" */
    struct host *host;                  /* once ACTIVE */
    long long int deadline;             /* hello or heartbeat timeout */
    uint64_t heartbeat_seq;
};

struct agent_server {
    struct event_base *base;
    struct evconnlistener *listener;
    struct ssl_ctx_st *tls;             /* NULL: plain TCP */
    struct host_registry *hosts;
    char *controller_id;
    unsigned int heartbeat_ms;
    unsigned int hello_timeout_ms;
    char **openflow_targets;
    size_t n_openflow_targets;
    uint16_t port;
    struct ovs_list sessions;
    struct agent_server_cbs cbs;
    uint64_t next_command_id;
    struct agent_server_stats stats;
};

static void session_message_cb(struct tether_channel *,
                               const struct tether_msg *, void *);
static void session_closed_cb(struct tether_channel *, int error,
                              const char *reason, void *);

/* --- Message handlers ---------------------------------------------------- */

static long long int
session_heartbeat_deadline__(const struct agent_session *s)
{
    /* Three missed heartbeats and the agent is taken for dead. */
    return time_msec() + 3LL * s->server->heartbeat_ms;
}

static void
session_fail__(struct agent_session *s, int code, const char *reason)
{
    s->server->stats.sessions_refused++;
    tether_channel_fail(s->channel, code, reason);
}

static void
handle_hello(struct agent_session *s, const ProtobufCMessage *pb)
{
    const Tether__Hello *hello = (const Tether__Hello *) pb;
    struct agent_server *server = s->server;

    if (s->state != SESSION_HELLO_WAIT) {
        session_fail__(s, TETHER_WIRE_ESTATE, "second hello on a session");
        return;
    }
    if (server->tls) {
        char cn[TETHER_HOST_ID_MAX + 1];
        struct bufferevent *bev = tether_channel_bufferevent(s->channel);
        if (!bev || !tether_tls_peer_cn(bev, cn, sizeof cn)
            || strcmp(cn, hello->host_id)) {
            char reason[TETHER_WIRE_ERRLEN];
            snprintf(reason, sizeof reason, "hello as host %s refused: the "
                     "client certificate is not for that host",
                     hello->host_id);
            VLOG_WARN_RL(&rl, "%s: %s", s->peer, reason);
            server->stats.auth_refusals++;
            session_fail__(s, TETHER_WIRE_EAUTH, reason);
            return;
        }
    }

    /* A host has one session: a new Hello for it replaces the old one (the
     * agent restarted or its connection broke without us noticing). */
    struct agent_session *other;
    LIST_FOR_EACH (other, node, &server->sessions) {
        if (other != s && other->state == SESSION_ACTIVE
            && other->host && !strcmp(other->host->id, hello->host_id)) {
            VLOG_WARN_RL(&rl, "host %s: new session from %s replaces the "
                         "one from %s", hello->host_id, s->peer, other->peer);
            other->host = NULL;
            tether_channel_fail(other->channel, TETHER_WIRE_ESTATE,
                                "replaced by a newer session of this host");
        }
    }

    struct host_hello hh = {
        .id = hello->host_id,
        .hypervisor = hello->hypervisor,
        .hostname = hello->hostname,
        .tunnel_ip = hello->tunnel_ip,
        .tunnel_type = hello->tunnel_type,
        .bridge = hello->bridge,
        .agent_version = hello->agent_version,
        .capabilities = hello->capabilities,
        .n_capabilities = hello->n_capabilities,
        .boot_id = hello->boot_id,
        .cpu_model = hello->cpu_model,
        .cpu_flags = hello->cpu_flags,
        .n_cpu_flags = hello->n_cpu_flags,
    };
    bool is_new;
    struct host *host = host_registry_hello(server->hosts, &hh, time_msec(),
                                            &is_new);
    if (!host) {
        session_fail__(s, TETHER_WIRE_ENOMEM, "out of memory");
        return;
    }
    s->host = host;
    s->state = SESSION_ACTIVE;
    s->deadline = session_heartbeat_deadline__(s);
    server->stats.hellos++;

    Tether__HelloReply reply = TETHER__HELLO_REPLY__INIT;
    reply.accepted = true;
    reply.controller_id = server->controller_id;
    reply.heartbeat_interval_ms = server->heartbeat_ms;
    reply.openflow_targets = server->openflow_targets;
    reply.n_openflow_targets = server->n_openflow_targets;
    reply.controller_version = (char *) TETHER_VERSION;
    tether_channel_send(s->channel, TETHER_MSG_HELLO_REPLY, &reply.base);

    VLOG_INFO("host %s registered%s from %s: hypervisor %s, tunnel %s %s, "
              "bridge %s, agent %s, session %llu", host->id,
              is_new ? " (new)" : "", s->peer, host->hypervisor,
              host->tunnel_type[0] ? host->tunnel_type : "geneve",
              host->tunnel_ip, host->bridge, host->agent_version,
              host->n_sessions);
    if (server->cbs.host_up) {
        server->cbs.host_up(host, server->cbs.aux);
    }
}

static void
handle_heartbeat(struct agent_session *s, const ProtobufCMessage *pb)
{
    const Tether__Heartbeat *hb = (const Tether__Heartbeat *) pb;
    Tether__Heartbeat echo = TETHER__HEARTBEAT__INIT;

    echo.seq = ++s->heartbeat_seq;
    echo.time_ms = time_msec();
    tether_channel_send(s->channel, TETHER_MSG_HEARTBEAT, &echo.base);
    VLOG_DBG("host %s: heartbeat %"PRIu64", %u VIFs", s->host->id, hb->seq,
             hb->vif_count);
}

/* An agent speaks only for the host it said hello as: anything else is
 * refused, logged, and ends the session without changing anything. */
static bool
session_check_host__(struct agent_session *s, const char *what,
                     const char *host_id)
{
    if (strcmp(host_id, s->host->id)) {
        char reason[TETHER_WIRE_ERRLEN];
        snprintf(reason, sizeof reason, "%s for host %s refused: this "
                 "session is host %s", what, host_id, s->host->id);
        VLOG_WARN_RL(&rl, "%s: %s", s->peer, reason);
        s->server->stats.auth_refusals++;
        session_fail__(s, TETHER_WIRE_EAUTH, reason);
        return false;
    }
    return true;
}

static void
handle_vif_event(struct agent_session *s, const ProtobufCMessage *pb)
{
    const Tether__VifEvent *ev = (const Tether__VifEvent *) pb;

    if (session_check_host__(s, "VIF report", ev->host_id)) {
        s->server->stats.vif_events++;
        if (s->server->cbs.vif_event) {
            s->server->cbs.vif_event(s->host, ev, s->server->cbs.aux);
        }
        /* DBG: the engine logs what the report changed; a line per report
         * is a synchronous write in the path of every move. */
        VLOG_DBG("host %s: VIF %s eni %s mac %s ofport %d on %s",
                  s->host->id,
                  protobuf_c_enum_descriptor_get_value(
                      &tether__vif_event__kind__descriptor, ev->kind)->name,
                  ev->vif->eni_id, ev->vif->mac, ev->vif->ofport,
                  ev->vif->bridge);
    }
}

static void
handle_migration_event(struct agent_session *s, const ProtobufCMessage *pb)
{
    const Tether__MigrationEvent *ev = (const Tether__MigrationEvent *) pb;

    if (session_check_host__(s, "migration report", ev->host_id)) {
        s->server->stats.migration_events++;
        if (s->server->cbs.migration_event) {
            s->server->cbs.migration_event(s->host, ev, s->server->cbs.aux);
        }
        VLOG_INFO("host %s: migration %s of eni %s from %s to %s, epoch "
                  "%"PRIu64, s->host->id,
                  protobuf_c_enum_descriptor_get_value(
                      &tether__migration_phase__descriptor, ev->phase)->name,
                  ev->eni_id, ev->source_host, ev->destination_host,
                  ev->epoch);
    }
}

static void
handle_resync(struct agent_session *s, const ProtobufCMessage *pb)
{
    const Tether__Resync *rs = (const Tether__Resync *) pb;

    if (session_check_host__(s, "resync", rs->host_id)) {
        s->server->stats.resyncs++;
        if (s->server->cbs.resync) {
            s->server->cbs.resync(s->host, rs, s->server->cbs.aux);
        }
        VLOG_INFO("host %s: resync with %zu VIFs, %zu migrations in progress",
                  s->host->id, rs->n_vifs, rs->n_migrations);
    }
}

static void
handle_bridge_status(struct agent_session *s, const ProtobufCMessage *pb)
{
    const Tether__BridgeStatus *bs = (const Tether__BridgeStatus *) pb;

    if (session_check_host__(s, "bridge status", bs->host_id)) {
        host_registry_set_bridge(s->host, bs->datapath_id,
                                 bs->tunnel_ofport, bs->relay_ofport);
        VLOG_INFO("host %s: bridge %s datapath %016"PRIx64" tunnel ofport "
                  "%"PRId32" relay ofport %"PRId32, s->host->id, bs->bridge,
                  bs->datapath_id, bs->tunnel_ofport, bs->relay_ofport);
        if (s->server->cbs.bridge_status) {
            s->server->cbs.bridge_status(s->host, s->server->cbs.aux);
        }
    }
}

static void
handle_ack(struct agent_session *s, const ProtobufCMessage *pb)
{
    const Tether__Ack *ack = (const Tether__Ack *) pb;
    VLOG_DBG("host %s: command %"PRIu64" acknowledged (%d) %s", s->host->id,
             ack->command_id, ack->status, ack->message);
}

static void
handle_error(struct agent_session *s, const ProtobufCMessage *pb)
{
    const Tether__Error *err = (const Tether__Error *) pb;
    VLOG_WARN_RL(&rl, "%s (host %s) reports error %u: %s", s->peer,
                 s->host ? s->host->id : "unknown", err->code, err->message);
    tether_channel_close(s->channel, "peer reported an error");
}

/* What an agent may send and when.  The channel has already checked the
 * frame, the message's own rules and that agents may send the type. */
static const struct session_handler {
    enum tether_msg_type type;
    bool needs_hello;
    void (*handle)(struct agent_session *, const ProtobufCMessage *);
} handlers[] = {
    { TETHER_MSG_HELLO, false, handle_hello },
    { TETHER_MSG_HEARTBEAT, true, handle_heartbeat },
    { TETHER_MSG_VIF_EVENT, true, handle_vif_event },
    { TETHER_MSG_MIGRATION_EVENT, true, handle_migration_event },
    { TETHER_MSG_RESYNC, true, handle_resync },
    { TETHER_MSG_ACK, true, handle_ack },
    { TETHER_MSG_ERROR, false, handle_error },
    { TETHER_MSG_BRIDGE_STATUS, true, handle_bridge_status },
};

static void
session_message_cb(struct tether_channel *ch OVS_UNUSED,
                   const struct tether_msg *msg, void *s_)
{
    struct agent_session *s = s_;

    for (size_t i = 0; i < ARRAY_SIZE(handlers); i++) {
        const struct session_handler *h = &handlers[i];
        if (h->type != msg->type) {
            continue;
        }
        if (h->needs_hello && s->state != SESSION_ACTIVE) {
            char reason[TETHER_WIRE_ERRLEN];
            snprintf(reason, sizeof reason, "%s before hello",
                     tether_msg_type_name(msg->type));
            VLOG_WARN_RL(&rl, "%s: %s", s->peer, reason);
            session_fail__(s, TETHER_WIRE_ESTATE, reason);
            return;
        }
        if (s->host) {
            host_registry_heard(s->host, time_msec());
            s->deadline = session_heartbeat_deadline__(s);
        }
        h->handle(s, msg->pb);
        poll_immediate_wake();
        return;
    }
    /* The channel only passes types an agent may send, all handled above. */
    session_fail__(s, TETHER_WIRE_ETYPE, "unexpected message type");
}

static void
session_closed_cb(struct tether_channel *ch OVS_UNUSED, int error,
                  const char *reason, void *s_)
{
    struct agent_session *s = s_;

    if (error == TETHER_CHANNEL_ESOCKET && !s->host) {
        s->server->stats.sessions_failed++;
    }
    if (error) {
        VLOG_WARN_RL(&rl, "%s (host %s): session closed: %s", s->peer,
                     s->host ? s->host->id : "not registered", reason);
    } else {
        VLOG_INFO("%s (host %s): session closed: %s", s->peer,
                  s->host ? s->host->id : "not registered", reason);
    }
    if (s->host) {
        host_registry_disconnected(s->host, time_msec());
        VLOG_INFO("host %s disconnected", s->host->id);
        if (s->server->cbs.host_down) {
            s->server->cbs.host_down(s->host, s->server->cbs.aux);
        }
        s->host = NULL;
    }
    s->state = SESSION_DEAD;
    poll_immediate_wake();
}

/* --- Listener and sessions ----------------------------------------------- */

static void
accept_cb(struct evconnlistener *listener OVS_UNUSED, evutil_socket_t fd,
          struct sockaddr *sa, int socklen OVS_UNUSED, void *server_)
{
    struct agent_server *server = server_;
    struct agent_session *s = xzalloc(sizeof *s);
    char addr[INET6_ADDRSTRLEN] = "?";
    unsigned int port = 0;

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *) sa;
        inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof addr);
        port = ntohs(sin->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) sa;
        inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof addr);
        port = ntohs(sin6->sin6_port);
    }
    snprintf(s->peer, sizeof s->peer, "%s:%u", addr, port);

    struct bufferevent *bev = (server->tls
                               ? tether_tls_bufferevent(server->base,
                                                        server->tls, fd,
                                                        TETHER_TLS_SERVER)
                               : bufferevent_socket_new(server->base, fd,
                                                        BEV_OPT_CLOSE_ON_FREE));
    static const struct tether_channel_cbs cbs = {
        .message = session_message_cb,
        .closed = session_closed_cb,
    };
    s->server = server;
    s->state = SESSION_HELLO_WAIT;
    s->deadline = time_msec() + server->hello_timeout_ms;
    s->channel = bev ? tether_channel_create(bev, TETHER_ROLE_AGENT, s->peer,
                                             &cbs, s) : NULL;
    if (!s->channel) {
        VLOG_ERR_RL(&rl, "%s: cannot set up a session", s->peer);
        if (bev) {
            bufferevent_free(bev);
        } else {
            evutil_closesocket(fd);
        }
        free(s);
        return;
    }
    ovs_list_push_back(&server->sessions, &s->node);
    server->stats.sessions_accepted++;
    VLOG_DBG("%s: new agent session", s->peer);
    poll_immediate_wake();
}

struct agent_server *
agent_server_create(struct event_base *base, struct host_registry *hosts,
                    const struct agent_server_options *opts, char **errp)
{
    struct sockaddr_storage ss;
    int sslen = sizeof ss;

    *errp = NULL;
    memset(&ss, 0, sizeof ss);
    bool is_tls;
    const char *addr = tether_tls_parse_target(opts->listen, &is_tls);
    if (!addr || !tether_parse_ip_port(addr, &ss, &sslen)) {
        *errp = xasprintf("%s: not a [tcp:|ssl:]IP:PORT address to listen "
                          "on", opts->listen);
        return NULL;
    }
    struct ssl_ctx_st *tls = NULL;
    if (is_tls) {
        struct tether_tls_config tc = {
            .private_key = opts->private_key,
            .certificate = opts->certificate,
            .ca_cert = opts->ca_cert,
        };
        char *tls_err;
        tls = tether_tls_ctx_create(TETHER_TLS_SERVER, &tc, &tls_err);
        if (!tls) {
            *errp = xasprintf("%s: %s", opts->listen, tls_err);
            free(tls_err);
            return NULL;
        }
    }

    struct agent_server *server = xzalloc(sizeof *server);
    server->base = base;
    server->tls = tls;
    server->hosts = hosts;
    server->controller_id = xstrdup(opts->controller_id);
    server->heartbeat_ms = opts->heartbeat_ms;
    server->hello_timeout_ms = opts->hello_timeout_ms;
    server->cbs = opts->cbs;
    server->next_command_id = 1;
    ovs_list_init(&server->sessions);
    for (const char *const *t = opts->openflow_targets; t && *t; t++) {
        server->openflow_targets = xrealloc(
            server->openflow_targets,
            (server->n_openflow_targets + 1) * sizeof(char *));
        server->openflow_targets[server->n_openflow_targets++] = xstrdup(*t);
    }

    server->listener = evconnlistener_new_bind(
        base, accept_cb, server,
        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
        128, (struct sockaddr *) &ss, sslen);
    if (!server->listener) {
        *errp = xasprintf("%s: cannot listen: %s", opts->listen,
                          evutil_socket_error_to_string(
                              EVUTIL_SOCKET_ERROR()));
        agent_server_destroy(server);
        return NULL;
    }

    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (!getsockname(evconnlistener_get_fd(server->listener),
                     (struct sockaddr *) &bound, &blen)) {
        server->port = ntohs(bound.ss_family == AF_INET6
                             ? ((struct sockaddr_in6 *) &bound)->sin6_port
                             : ((struct sockaddr_in *) &bound)->sin_port);
    }
    VLOG_INFO("listening for agents on %s (port %u, %s)", opts->listen,
              server->port, tls ? "TLS with client certificates" : "plain TCP");
    return server;
}

static void
session_destroy__(struct agent_session *s)
{
    if (s->host) {
        host_registry_disconnected(s->host, time_msec());
    }
    ovs_list_remove(&s->node);
    tether_channel_destroy(s->channel);
    free(s);
}

void
agent_server_destroy(struct agent_server *server)
{
    if (!server) {
        return;
    }
    struct agent_session *s;
    LIST_FOR_EACH_SAFE (s, node, &server->sessions) {
        session_destroy__(s);
    }
    if (server->listener) {
        evconnlistener_free(server->listener);
    }
    for (size_t i = 0; i < server->n_openflow_targets; i++) {
        free(server->openflow_targets[i]);
    }
    free(server->openflow_targets);
    free(server->controller_id);
    tether_tls_ctx_destroy(server->tls);
    free(server);
}

/* True if 's' has sent something that this process has not read yet.  A
 * heartbeat that waits in the socket because tetherd is busy (a thousand
 * hosts resyncing at once after a restart, each binding 100 ENIs) proves the
 * agent alive: failing its session then would turn a slow round into every
 * host reconnecting and resyncing again. */
static bool
session_has_input__(const struct agent_session *s)
{
    struct bufferevent *bev = s->channel
                              ? tether_channel_bufferevent(s->channel) : NULL;
    int n = 0;

    if (!bev) {
        return false;
    }
    if (evbuffer_get_length(bufferevent_get_input(bev))) {
        return true;
    }
    evutil_socket_t fd = bufferevent_getfd(bev);
    return fd >= 0 && !ioctl(fd, FIONREAD, &n) && n > 0;
}

void
agent_server_run(struct agent_server *server)
{
    long long int now = time_msec();
    struct agent_session *s;

    LIST_FOR_EACH_SAFE (s, node, &server->sessions) {
        if (s->state == SESSION_DEAD) {
            session_destroy__(s);
        } else if (now >= s->deadline && s->state != SESSION_HELLO_WAIT
                   && session_has_input__(s)) {
            s->deadline = session_heartbeat_deadline__(s);
        } else if (now >= s->deadline) {
            const char *reason = (s->state == SESSION_HELLO_WAIT
                                  ? "no hello in time"
                                  : "heartbeat timeout: agent presumed dead");
            VLOG_WARN_RL(&rl, "%s (host %s): %s", s->peer,
                         s->host ? s->host->id : "not registered", reason);
            s->deadline = LLONG_MAX;
            session_fail__(s, TETHER_WIRE_ESTATE, reason);
        }
    }
}

void
agent_server_wait(struct agent_server *server)
{
    struct agent_session *s;

    LIST_FOR_EACH (s, node, &server->sessions) {
        if (s->state == SESSION_DEAD) {
            poll_immediate_wake();
        } else if (s->deadline != LLONG_MAX) {
            poll_timer_wait_until(s->deadline);
        }
    }
}

int
agent_server_send_command(struct agent_server *server, const char *host_id,
                          Tether__Command *cmd)
{
    struct agent_session *s;

    LIST_FOR_EACH (s, node, &server->sessions) {
        if (s->state == SESSION_ACTIVE && s->host
            && !strcmp(s->host->id, host_id)) {
            cmd->command_id = server->next_command_id++;
            return tether_channel_send(s->channel, TETHER_MSG_COMMAND,
                                       &cmd->base) ? EPROTO : 0;
        }
    }
    return ENOTCONN;
}

uint16_t
agent_server_port(const struct agent_server *server)
{
    return server->port;
}

unsigned int
agent_server_n_sessions(const struct agent_server *server)
{
    return ovs_list_size(&server->sessions);
}

void
agent_server_get_stats(const struct agent_server *server,
                       struct agent_server_stats *stats)
{
    *stats = server->stats;
}
