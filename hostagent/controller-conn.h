/* tether-agent's connection to tetherd: connects (and reconnects with
 * backoff), says Hello for its host, sends a full Resync once accepted and
 * heartbeats after that, and takes the controller's commands.  Reports from
 * the rest of the agent (VIF and migration events) go out through it.
 *
 * Run/wait style on ovs-glue/ovs-loop.c; the reconnect policy is Open
 * vSwitch's reconnect FSM. */
#ifndef HOSTAGENT_CONTROLLER_CONN_H
#define HOSTAGENT_CONTROLLER_CONN_H 1

#include <stdbool.h>
#include <stdint.h>

#include "proto/tether.pb-c.h"

struct event_base;

/* Who this agent is; copied by controller_conn_create(). */
struct agent_identity {
    const char *host_id;
    const char *hypervisor;
    const char *tunnel_ip;
    const char *tunnel_type;
    const char *bridge;
    const char *cpu_model;          /* may be NULL: unknown */
    char *const *cpu_flags;
    size_t n_cpu_flags;
};

/* The agent's current state, asked for when a Resync is due: the function
 * fills in 'vifs' and 'n_vifs' of the Resync, with 'vifs' a malloc()ed
 * array of malloc()ed Tether__Vif whose strings it keeps owning; the
 * connection frees the array and its elements after sending. */
typedef void controller_conn_resync_func(Tether__Resync *, void *aux);

/* TLS files, for an "ssl:" target. */
struct controller_conn_tls {
    const char *private_key;
    const char *certificate;
    const char *ca_cert;
};

/* 'target' is "[tcp:|ssl:]IP:PORT"; 'tls' is needed for ssl:. */
struct controller_conn *controller_conn_create(
    struct event_base *, const char *target,
    const struct controller_conn_tls *tls,
    const struct agent_identity *, controller_conn_resync_func *, void *aux,
    char **errp);
void controller_conn_destroy(struct controller_conn *);

void controller_conn_run(struct controller_conn *);
void controller_conn_wait(struct controller_conn *);

/* True once the controller has accepted our Hello on the current
 * connection. */
bool controller_conn_is_registered(const struct controller_conn *);

/* Queues a report.  Returns 0, or ENOTCONN while not registered (the next
 * Resync carries the state instead). */
int controller_conn_send_vif_event(struct controller_conn *,
                                   Tether__VifEvent *);
int controller_conn_send_migration_event(struct controller_conn *,
                                         Tether__MigrationEvent *);

/* Sends the bridge's status (datapath id, tunnel and relay ofports) if
 * registered; also remembered and sent again after every new
 * registration. */
void controller_conn_set_bridge_status(struct controller_conn *,
                                       uint64_t datapath_id,
                                       int32_t tunnel_ofport,
                                       int32_t relay_ofport);

/* Called when tetherd refuses the migration of 'eni_id' to this host
 * (Command REFUSE_MIGRATION), with its reason. */
typedef void controller_conn_refusal_func(const char *eni_id,
                                          const char *reason, void *aux);
void controller_conn_set_refusal_cb(struct controller_conn *,
                                    controller_conn_refusal_func *,
                                    void *aux);

/* Called when tetherd says that every bridge confirmed the switchover of
 * 'eni_id' (Command SWITCHOVER_READY). */
typedef void controller_conn_switchover_func(const char *eni_id, void *aux);
void controller_conn_set_switchover_cb(struct controller_conn *,
                                       controller_conn_switchover_func *,
                                       void *aux);

/* Asks for a full Resync to be sent (when registered). */
void controller_conn_request_resync(struct controller_conn *);

struct controller_conn_stats {
    unsigned long long connects;        /* connection attempts */
    unsigned long long registrations;   /* Hellos accepted */
    unsigned long long heartbeats_sent;
    unsigned long long commands;
};
void controller_conn_get_stats(const struct controller_conn *,
                               struct controller_conn_stats *);
const char *controller_conn_controller_id(const struct controller_conn *);

/* The OpenFlow controller targets the controller named in its last
 * HelloReply (kept across disconnections); '*n' gets their number. */
char *const *controller_conn_openflow_targets(const struct controller_conn *,
                                              size_t *n);

#endif /* hostagent/controller-conn.h */
