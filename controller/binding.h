/* Where an ENI is bound: the rules that turn the agents' VIF reports into
 * an ENI's binding (state, host, ofport, epoch, migration phase).  Pure
 * decisions: given the ENI as it is and one report, say what its binding
 * becomes and why; the caller applies the result (store, flows).  No I/O,
 * no logging, no clock.
 *
 * Cold moves and plain binding:
 *   - A VIF plugged on host H for ENI E binds E to H at the VIF's ofport.  If
 *     E was bound elsewhere, it moves (a cold move: the old host's unplug may
 *     come later and is then stale).
 *   - A VIF whose attached-mac is not E's MAC is refused: a hypervisor
 *     cannot take over an ENI by naming it.
 *   - A VIF unplugged on H unbinds E only if E is bound to H; a report from
 *     any other host is stale and changes nothing.
 *
 * Live migration, make-before-break, from the hypervisor's marker on the
 * VIF (external_ids:tether-migration, see proto/tether.proto) -- E bound on
 * source S:
 *   - "incoming" on a VIF of E on D != S: PREPARED (D pre-wired, remote
 *     hosts still send to S).
 *   - "paused" on S's VIF while PREPARED: SWITCHOVER (remote hosts deliver
 *     to S and D at once).  Not in break-before-make mode, where the remote
 *     hosts stay on S until activation (the comparison mode).
 *   - "activated" on D's VIF, or the VM's first announcement (RARP, GARP,
 *     NA) from D's VIF, while PREPARED or SWITCHOVER: ACTIVATED (remote
 *     hosts deliver to D only).
 *   - "completed" on D's VIF, or S's VIF unplugged: COMMIT (bound on D).
 *   - "failed" on either VIF, D's VIF unplugged, S's VIF resuming (its
 *     "paused" marker cleared) before activation, or a migration stuck past
 *     its time limit: ROLLBACK (bound on S, D's flows removed).
 *   - Anything else (a duplicate, a marker for a phase already passed, a
 *     third host claiming E mid-migration) changes nothing.
 * Every change of host or phase bumps the epoch, so the epoch only grows
 * and a state never repeats: a late or duplicated report cannot move an ENI
 * backwards. */
#ifndef CONTROLLER_BINDING_H
#define CONTROLLER_BINDING_H 1

#include <stdbool.h>
#include <stdint.h>

#include "controller/eni.h"

/* An ENI's binding fields.  'host' and 'dest_host' point into the ENI or
 * the report they came from: use them before either changes. */
struct eni_binding {
    enum eni_state state;
    const char *host;
    int32_t ofport;
    uint64_t epoch;
    enum eni_migration_phase phase;
    const char *dest_host;
    int32_t dest_ofport;
};

enum binding_verdict {
    BINDING_UNCHANGED,          /* nothing to do ('*reason' may say why) */
    BINDING_CHANGED,            /* apply '*out' */
    BINDING_REFUSED,            /* report refused; '*reason' says why */
};

/* What the change was, for logs and metrics. */
enum binding_event {
    BINDING_EV_NONE,
    BINDING_EV_BIND,            /* bound (from unbound) */
    BINDING_EV_PORT,            /* same host, new ofport */
    BINDING_EV_MOVE,            /* cold move */
    BINDING_EV_UNBIND,
    BINDING_EV_PREPARE,
    BINDING_EV_SWITCHOVER,
    BINDING_EV_ACTIVATE,
    BINDING_EV_COMMIT,
    BINDING_EV_ROLLBACK,
};
const char *binding_event_to_string(enum binding_event);

enum binding_mode {
    BINDING_MAKE_BEFORE_BREAK,  /* switchover at the source's pause */
    BINDING_BREAK_BEFORE_MAKE,  /* remote hosts follow at activation only */
};

/* The binding 'eni' has now. */
void binding_current(const struct eni *eni, struct eni_binding *out);

/* A VIF of 'eni' reported present on 'host' (plugged or changed), with
 * its ofport, attached-mac (may be NULL or "") and migration marker (NULL
 * or "" for none). */
enum binding_verdict binding_vif_plugged(const struct eni *eni,
                                         enum binding_mode,
                                         const char *host, int32_t ofport,
                                         const char *mac,
                                         const char *migration,
                                         struct eni_binding *out,
                                         enum binding_event *event,
                                         const char **reason);
enum binding_verdict binding_vif_unplugged(const struct eni *eni,
                                           const char *host,
                                           struct eni_binding *out,
                                           enum binding_event *event,
                                           const char **reason);

/* The VM announced itself (RARP, GARP, NA) from 'host''s VIF at 'ofport'. */
enum binding_verdict binding_announcement(const struct eni *eni,
                                          const char *host, int32_t ofport,
                                          struct eni_binding *out,
                                          enum binding_event *event);

/* The activated migration of 'eni' may commit (tetherd held the commit
 * until every bridge delivered to the destination): bound there. */
enum binding_verdict binding_commit(const struct eni *eni,
                                    struct eni_binding *out,
                                    enum binding_event *event);

/* The migration of 'eni' is stuck before activation: roll back. */
enum binding_verdict binding_timeout(const struct eni *eni,
                                     struct eni_binding *out,
                                     enum binding_event *event);

/* True if 'a' and 'b' differ in anything the data path depends on. */
bool binding_differs(const struct eni_binding *a, const struct eni_binding *b);

#endif /* controller/binding.h */
