/* One OpenFlow switch (one bridge, known by its datapath id) as tetherd sees
 * it: the flows and groups it should have ("desired", edited by the
 * caller), the ones it has ("installed", what the switch confirmed or
 * reported), and, while it is connected, the connection that keeps the two
 * equal.  It does not accept or open connections (of-server.c does, and
 * hands each identified connection to the of_switch of its datapath id) and
 * does not compute flows (tetherd does).
 *
 * Contract:
 *
 *   - The caller edits of_switch_desired() at any time, connected or not,
 *     and calls of_switch_commit() to have the switch catch up.  A commit
 *     sends the difference between desired and installed as one OpenFlow
 *     bundle (OFPBF_ATOMIC | OFPBF_ORDERED: group adds and modifies, flow
 *     deletes, flow modifies, flow adds, group deletes; see flow-table.h),
 *     then a barrier, and calls the commit's callback with 0 once the switch
 *     has applied it.  Flows that are already right are not sent.  Commits
 *     made while a bundle is in flight are folded into the next bundle.
 *     The desired table records which owners (cookies) changed, and a
 *     commit looks only at their flows (flow_table_diff_changes()): its
 *     cost follows the change, not the size of the tables.  The first
 *     commit after the switch's tables were read (a connection, a rejected
 *     bundle, a refresh) compares the whole tables.
 *
 *   - If the switch rejects the bundle, nothing of it is applied (the bundle
 *     is atomic; an error on an individual bundle_add makes tether discard
 *     the bundle instead of committing it), the installed table is refreshed
 *     from the switch, and then the callback gets the error (an enum ofperr
 *     value, see ofperr_to_string()).  It gets ENOTCONN if the switch is not
 *     connected or disconnects first.  The desired table is left as it is:
 *     the caller fixes it and commits again.
 *
 *   - On every (re)connection the switch's flows and groups are read (flow
 *     stats for all tables, group descriptions), the installed table is
 *     rebuilt from the reply, and the difference to desired is installed as
 *     above: nothing is flushed, and flows already right are not touched.
 *     The server's switch_synced callback reports the outcome.
 *
 *   - Callbacks run from of_server_run(); they may edit tables and commit,
 *     but must not destroy the server. */
#ifndef OVS_GLUE_OF_SWITCH_H
#define OVS_GLUE_OF_SWITCH_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openflow/openflow.h"
#include "openvswitch/types.h"
#include "ovs-glue/flow-table.h"

struct of_server;
struct of_switch;
struct ofpact;
struct ofpbuf;
struct rconn;

/* Called when a commit has been applied (0) or has failed (ENOTCONN or an
 * enum ofperr). */
typedef void of_commit_cb(struct of_switch *, int error, void *aux);

uint64_t of_switch_dpid(const struct of_switch *);
const char *of_switch_name(const struct of_switch *);
bool of_switch_is_connected(const struct of_switch *);

/* True once the switch is connected and its installed table has been read
 * and reconciled, and no bundle is in flight. */
bool of_switch_is_idle(const struct of_switch *);

struct flow_table *of_switch_desired(struct of_switch *);
const struct flow_table *of_switch_installed(const struct of_switch *);

void of_switch_commit(struct of_switch *, of_commit_cb *, void *aux);

/* A held switch is read when it connects (its installed table is kept
 * truthful) but nothing is sent to it: no reconciliation, no commits, until
 * the caller releases it -- the caller's desired table is not complete yet
 * (tetherd restarting does not know every host's flows), and reconciling
 * against it would delete flows that carry traffic.  Releasing starts the
 * reconciliation that was held back. */
void of_switch_set_held(struct of_switch *, bool held);
bool of_switch_is_held(const struct of_switch *);

/* Asks the switch to read its tables again (as on a reconnection) and
 * calls 'cb' when the installed table reflects them.  Does not install
 * anything.  For tests and diagnostics. */
void of_switch_refresh(struct of_switch *, of_commit_cb *, void *aux);

/* Sends 'packet' ('len' bytes) out as if received on 'in_port' (OFPP_NONE
 * or OFPP_CONTROLLER for none), with 'ofpacts'.  Returns 0 or ENOTCONN. */
int of_switch_packet_out(struct of_switch *, const void *packet, size_t len,
                         ofp_port_t in_port,
                         const struct ofpact *, size_t ofpacts_len);

/* Counters, cumulative over the switch's lifetime in this process. */
struct of_switch_stats {
    unsigned long long n_connects;
    unsigned long long n_syncs;         /* Reconciliations completed. */
    unsigned long long n_bundles;       /* Bundles committed successfully. */
    unsigned long long n_errors;        /* Bundles rejected. */
    unsigned long long n_full_diffs;    /* Commits that diffed everything
                                         * (see flow-table.h). */
    unsigned long long n_ops[FT_N_OP_TYPES];  /* Flow/group mods sent. */
    unsigned long long n_packet_ins;
    unsigned long long n_packet_outs;
};
void of_switch_get_stats(const struct of_switch *, struct of_switch_stats *);
unsigned long long of_switch_stats_n_flow_mods(const struct of_switch_stats *);

/* A packet-in, as handed to the server's packet_in callback. */
struct of_packet_in {
    ofp_port_t in_port;
    const void *packet;
    size_t len;                 /* Bytes in 'packet' (may be truncated). */
    size_t total_len;           /* Length of the packet on the wire. */
    uint8_t table_id;
    uint64_t cookie;            /* Of the flow that sent it. */
    enum ofp_packet_in_reason reason;
};

/* For of-server.c only. */
struct of_server_cbs;
struct of_switch *of_switch_create__(uint64_t dpid,
                                     const struct of_server_cbs *,
                                     void *aux);
void of_switch_destroy__(struct of_switch *);
void of_switch_attach__(struct of_switch *, struct rconn *);
void of_switch_detach__(struct of_switch *);
void of_switch_handle_msg__(struct of_switch *, const struct ofpbuf *);
void of_switch_run__(struct of_switch *);
bool of_switch_has_work__(const struct of_switch *);

#endif /* ovs-glue/of-switch.h */
