/* tether-agent's view of the local Open vSwitch: one OVSDB connection
 * shared by vif-monitor (the VIFs on the integration bridge, reported to
 * tetherd as they change) and bridge-setup (the bridge, its tunnel port and
 * its OpenFlow controllers, kept as configured).  It turns vif-monitor's
 * events into protocol messages; it does not talk to tetherd itself. */
#ifndef HOSTAGENT_LOCAL_OVS_H
#define HOSTAGENT_LOCAL_OVS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/tether.pb-c.h"

struct local_ovs_config {
    const char *db_remote;          /* e.g. "unix:/var/run/openvswitch/db.sock" */
    const char *bridge;
    const char *datapath_type;      /* "system", "netdev" or "dummy" */
    const char *tunnel_port;        /* NULL: no tunnel port */
    const char *tunnel_type;
    const char *tunnel_local_ip;
    const char *relay_port;         /* NULL: no migration relay */
    const char *relay_stream;       /* dummy datapath: its pstream's socket */
};

/* Called for every VIF event, with the message ready to send. */
typedef void local_ovs_vif_func(Tether__VifEvent *, void *aux);

struct local_ovs *local_ovs_create(const struct local_ovs_config *,
                                   local_ovs_vif_func *, void *aux);
void local_ovs_destroy(struct local_ovs *);
void local_ovs_run(struct local_ovs *);
void local_ovs_wait(struct local_ovs *);

/* Sets the bridge's OpenFlow controller targets (the bridge is set up once
 * they are known; until then it is left as it is, and with fail_mode=secure
 * its flows keep forwarding). */
void local_ovs_set_controllers(struct local_ovs *, char *const *targets,
                               size_t n);

/* Fills 'rs->vifs' and 'rs->n_vifs' with the current VIFs, as
 * controller_conn_resync_func asks. */
void local_ovs_fill_resync(struct local_ovs *, Tether__Resync *rs);

/* The bridge's datapath id (0 while unknown), the tunnel port's ofport
 * (-1 while unknown) and the relay port's (0 while unknown or if there is
 * none), as the database reports them. */
void local_ovs_get_bridge(const struct local_ovs *, uint64_t *datapath_id,
                          int32_t *tunnel_ofport, int32_t *relay_ofport);

/* Writes the migration phase marker external_ids:tether-migration=value
 * ('value' NULL: removes the key), with tether-paused-at='paused_at' (Unix
 * seconds) if that is positive (else without it), on the VIF of ENI
 * 'eni_id' on the bridge, in its own OVSDB transaction, as a hypervisor
 * backend does (hostagent/qmp.c); "paused" also starts the relay at once.  Returns false if this host has no VIF for the ENI.
 * The transaction completes in later local_ovs_run() calls; a failed one is
 * logged and retried once the connection is back. */
bool local_ovs_set_marker(struct local_ovs *, const char *eni_id,
                          const char *value, double paused_at);

/* A hypervisor backend's say on a new VIF that carries a domain id
 * (external_ids:vm-uuid, or libvirt's vm-id) and no tether-migration
 * marker, before tetherd hears of it: report it as it is, hold it back (not
 * reported, not in resyncs) until asked again, or report it as a
 * migration's destination (the agent writes "incoming" on it). */
enum local_ovs_gate {
    LOCAL_OVS_GATE_REPORT,
    LOCAL_OVS_GATE_HOLD,
    LOCAL_OVS_GATE_INCOMING,
};
typedef enum local_ovs_gate local_ovs_gate_func(const char *vm_uuid,
                                                void *aux);

/* Installs the gate (NULL: none, every VIF is reported as it is). */
void local_ovs_set_gate(struct local_ovs *, local_ovs_gate_func *, void *aux);

/* Asks the gate again about every held VIF, reporting those it lets go. */
void local_ovs_gate_recheck(struct local_ovs *);

bool local_ovs_is_connected(const struct local_ovs *);
size_t local_ovs_n_vifs(const struct local_ovs *);
const char *local_ovs_bridge_state(const struct local_ovs *);

#endif /* hostagent/local-ovs.h */
