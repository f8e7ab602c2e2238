/* Keeps the integration bridge set up in the local Open_vSwitch database:
 * the bridge with its datapath type, fail_mode=secure, OpenFlow 1.3-1.5,
 * in-band control off, tetherd as its controller(s), one overlay tunnel
 * port and the migration relay port.  It writes only these columns and rows
 * (reusing rows that already exist) and reads nothing else; the VIFs are
 * vif-monitor's business.
 *
 * It shares the agent's struct ovsdb_idl with vif-monitor (see the loop in
 * vif-monitor.h): bridge_setup_add_columns() before the first
 * ovsdb_idl_run(), then bridge_setup_run() after each ovsdb_idl_run() and
 * bridge_setup_wait() before poll_block().
 *
 * Idempotent and self-healing: whenever the IDL's contents change, the
 * database is compared with the configuration, and only if they differ is
 * one transaction committed that makes them agree.  A run against a database
 * that is already set up commits nothing.  Changes made by someone else
 * (an operator's ovs-vsctl, an ovsdb-server restarted on an old database)
 * are undone the same way once the IDL sees them.  A failed or conflicting
 * commit is retried at the next change of the IDL, never on a timer. */
#ifndef OVS_GLUE_BRIDGE_SETUP_H
#define OVS_GLUE_BRIDGE_SETUP_H 1

#include <stdbool.h>
#include <stddef.h>

struct ovsdb_idl;

struct bridge_setup_config {
    const char *bridge;             /* e.g. "br-int" */
    const char *datapath_type;      /* "netdev", "dummy" or "system" */

    /* Controller targets, e.g. "tcp:127.0.0.1:6653"; the bridge gets
     * exactly these. */
    const char *const *controllers;
    size_t n_controllers;

    /* The tunnel port: none if 'tunnel_port' is NULL.  Its interface gets
     * type 'tunnel_type' ("geneve" or "vxlan") and options remote_ip=flow,
     * key=flow, plus local_ip='tunnel_local_ip' if that is nonnull. */
    const char *tunnel_port;        /* port and interface name */
    const char *tunnel_type;
    const char *tunnel_local_ip;

    /* The migration relay port (hostagent/relay.h): none if 'relay_port' is
     * NULL.  Type "internal"; on the dummy datapath type "dummy" with
     * options:pstream='relay_pstream' (e.g. "punix:/run/x/br-int.relay"). */
    const char *relay_port;
    const char *relay_pstream;
};

enum bridge_setup_state {
    BRIDGE_SETUP_UNKNOWN,       /* the IDL has no database contents yet */
    BRIDGE_SETUP_COMMITTING,    /* a transaction is in flight */
    BRIDGE_SETUP_IN_SYNC,       /* the database matches the configuration */
    BRIDGE_SETUP_RETRY,         /* the last commit failed or conflicted; it
                                 * is retried when the IDL next changes */
};

const char *bridge_setup_state_to_string(enum bridge_setup_state);

/* Registers the tables and columns this module reads and writes on 'idl'.
 * Call before the first ovsdb_idl_run(idl). */
void bridge_setup_add_columns(struct ovsdb_idl *idl);

/* Creates a bridge set-up for 'cfg' (copied) on 'idl', which must outlive
 * it.  Returns NULL, logging why, if 'cfg' is invalid (no bridge name, an
 * unknown datapath or tunnel type). */
struct bridge_setup *bridge_setup_create(struct ovsdb_idl *idl,
                                         const struct bridge_setup_config *);
void bridge_setup_destroy(struct bridge_setup *);

void bridge_setup_run(struct bridge_setup *);
void bridge_setup_wait(struct bridge_setup *);

enum bridge_setup_state bridge_setup_get_state(const struct bridge_setup *);

/* The number of transactions this set-up committed that changed the
 * database: 0 means it found everything in place. */
unsigned int bridge_setup_n_commits(const struct bridge_setup *);

#endif /* ovs-glue/bridge-setup.h */
