/* tetherd's side of the agent protocol: listens for tether-agents, runs one
 * session per connection (Hello first, then reports and heartbeats), checks
 * that an agent only speaks for the host it said hello as, and keeps the host
 * registry's connection state current.  Over TLS (mutual certificates) an
 * agent may only say hello as the host its certificate names.  A session that misbehaves is told
 * why (an Error message) and closed; no other session is affected.
 *
 * Run/wait style on ovs-glue/ovs-loop.c: sockets are libevent bufferevents,
 * deadlines (hello, heartbeat) are poll_timer_wait_until() timers. */
#ifndef CONTROLLER_AGENT_SERVER_H
#define CONTROLLER_AGENT_SERVER_H 1

#include <stdint.h>

#include "proto/tether.pb-c.h"

struct event_base;
struct host;
struct host_registry;

/* What the rest of tetherd learns from the agents.  Every report has been
 * validated and checked to come from the host it names.  Any may be NULL. */
struct agent_server_cbs {
    void (*host_up)(struct host *, void *aux);
    void (*host_down)(struct host *, void *aux);
    void (*vif_event)(struct host *, const Tether__VifEvent *, void *aux);
    void (*resync)(struct host *, const Tether__Resync *, void *aux);
    void (*migration_event)(struct host *, const Tether__MigrationEvent *,
                            void *aux);
    void (*bridge_status)(struct host *, void *aux);
    void *aux;
};

struct agent_server_options {
    const char *listen;             /* "[tcp:|ssl:]IP:PORT"; port 0 picks a
                                     * free one; ssl: needs 'tls' */
    const char *private_key;        /* TLS: PEM files */
    const char *certificate;
    const char *ca_cert;
    const char *controller_id;      /* named in HelloReply */
    unsigned int heartbeat_ms;      /* agents send one this often */
    unsigned int hello_timeout_ms;  /* to wait for Hello on a new session */
    const char *const *openflow_targets;  /* told to agents, NULL-ended */
    struct agent_server_cbs cbs;
};

struct agent_server_stats {
    unsigned long long sessions_accepted;
    unsigned long long sessions_refused;    /* closed for a protocol error */
    unsigned long long sessions_failed;     /* socket/TLS error before hello */
    unsigned long long hellos;
    unsigned long long vif_events;
    unsigned long long migration_events;
    unsigned long long resyncs;
    unsigned long long auth_refusals;       /* reports for another host */
};

/* Creates a server listening on 'options->listen'.  On failure returns NULL
 * and stores a message in '*errp' (caller frees). */
struct agent_server *agent_server_create(struct event_base *,
                                         struct host_registry *,
                                         const struct agent_server_options *,
                                         char **errp);
void agent_server_destroy(struct agent_server *);

void agent_server_run(struct agent_server *);
void agent_server_wait(struct agent_server *);

/* Sends 'cmd' to the agent of 'host_id', assigning its command_id.
 * Returns 0, or ENOTCONN if that host has no session. */
int agent_server_send_command(struct agent_server *, const char *host_id,
                              Tether__Command *cmd);

/* The port actually bound (useful with port 0). */
uint16_t agent_server_port(const struct agent_server *);
unsigned int agent_server_n_sessions(const struct agent_server *);
void agent_server_get_stats(const struct agent_server *,
                            struct agent_server_stats *);

#endif /* controller/agent-server.h */
