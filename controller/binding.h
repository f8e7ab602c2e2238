/* Where an ENI is bound: the rules that turn the agents' VIF reports into
 * an ENI's binding (state, host, ofport, epoch).  Pure decisions: given the
 * ENI as it is and one report, say what its binding becomes and why; the
 * caller applies the result (store, flows).  No I/O, no logging.
 *
 * Rules:
 *   - A VIF plugged on host H for ENI E binds E to H at the VIF's ofport.  If
 *     E was bound elsewhere, it moves (a cold move: the old host's unplug may
 *     come later and is then stale).  Every change of host, or from unbound
 *     to bound, bumps the epoch; an ofport change on the same host keeps it.
 *   - A VIF whose attached-mac is not E's MAC is refused: a hypervisor
 *     cannot take over an ENI by naming it.
 *   - A VIF unplugged on H unbinds E only if E is bound to H; a report from
 *     any other host is stale and changes nothing.
 *   - A full resync from H unbinds every ENI bound to H that H no longer
 *     reports, and binds every VIF it does report. */
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
    BINDING_UNCHANGED,          /* nothing to do */
    BINDING_CHANGED,            /* apply '*out' */
    BINDING_REFUSED,            /* report refused; '*reason' says why */
};

/* The binding 'eni' has now. */
void binding_current(const struct eni *eni, struct eni_binding *out);

enum binding_verdict binding_vif_plugged(const struct eni *eni,
                                         const char *host, int32_t ofport,
                                         const char *mac,
                                         struct eni_binding *out,
                                         const char **reason);
enum binding_verdict binding_vif_unplugged(const struct eni *eni,
                                           const char *host,
                                           struct eni_binding *out,
                                           const char **reason);

/* True if 'a' and 'b' differ in anything the data path depends on. */
bool binding_differs(const struct eni_binding *a, const struct eni_binding *b);

#endif /* controller/binding.h */
