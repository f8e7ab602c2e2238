/* The binding rules of tetherd (see binding.h). */
#include "controller/binding.h"

#include <stdlib.h>
#include <string.h>

#include "lib/validate.h"

static bool
str_eq(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static bool
marker_is(const char *marker, const char *value)
{
    return !strcmp(marker ? marker : "", value);
}

const char *
binding_event_to_string(enum binding_event ev)
{
    switch (ev) {
    case BINDING_EV_NONE: return "none";
    case BINDING_EV_BIND: return "bind";
    case BINDING_EV_PORT: return "port";
    case BINDING_EV_MOVE: return "move";
    case BINDING_EV_UNBIND: return "unbind";
    case BINDING_EV_PREPARE: return "prepare";
    case BINDING_EV_SWITCHOVER: return "switchover";
    case BINDING_EV_ACTIVATE: return "activate";
    case BINDING_EV_COMMIT: return "commit";
    case BINDING_EV_ROLLBACK: return "rollback";
    }
    return "unknown";
}

void
binding_current(const struct eni *eni, struct eni_binding *out)
{
    out->state = eni->state;
    out->host = eni->host;
    out->ofport = eni->ofport;
    out->epoch = eni->epoch;
    out->phase = eni->phase;
    out->dest_host = eni->dest_host;
    out->dest_ofport = eni->dest_ofport;
}

bool
binding_differs(const struct eni_binding *a, const struct eni_binding *b)
{
    return (a->state != b->state || !str_eq(a->host, b->host)
            || a->ofport != b->ofport || a->epoch != b->epoch
            || a->phase != b->phase || !str_eq(a->dest_host, b->dest_host)
            || a->dest_ofport != b->dest_ofport);
}

static bool
same_mac(const char *a, const char *b)
{
    uint8_t ma[6], mb[6];
    return (a && b && tether_parse_mac(a, ma) && tether_parse_mac(b, mb)
            && !memcmp(ma, mb, sizeof ma));
}

/* Sets '*out' to "bound on 'host' at 'ofport'" with a new epoch. */
static void
bind__(const struct eni *eni, const char *host, int32_t ofport,
       struct eni_binding *out)
{
    out->state = ENI_BOUND;
    out->host = host;
    out->ofport = ofport;
    out->phase = ENI_MIG_NONE;
    out->dest_host = NULL;
    out->dest_ofport = -1;
    out->epoch = eni->epoch + 1;
}

static enum binding_verdict
phase__(const struct eni *eni, enum eni_migration_phase phase,
        const char *dest, int32_t dest_ofport, struct eni_binding *out,
        enum binding_event *event, enum binding_event ev)
{
    out->state = ENI_MIGRATING;
    out->phase = phase;
    out->dest_host = dest;
    out->dest_ofport = dest_ofport;
    out->epoch = eni->epoch + 1;
    *event = ev;
    return BINDING_CHANGED;
}

static enum binding_verdict
commit__(const struct eni *eni, struct eni_binding *out,
         enum binding_event *event)
{
    bind__(eni, eni->dest_host, eni->dest_ofport, out);
    *event = BINDING_EV_COMMIT;
    return BINDING_CHANGED;
}

static enum binding_verdict
rollback__(const struct eni *eni, struct eni_binding *out,
           enum binding_event *event)
{
    bind__(eni, eni->host, eni->ofport, out);
    *event = BINDING_EV_ROLLBACK;
    return BINDING_CHANGED;
}

/* A report for a migrating ENI. */
static enum binding_verdict
migrating_plugged__(const struct eni *eni, enum binding_mode mode,
                    const char *host, int32_t ofport, const char *m,
                    struct eni_binding *out, enum binding_event *event,
                    const char **reason)
{
    enum eni_migration_phase p = eni->phase;
    bool before_activation = (p == ENI_MIG_PREPARED
                              || p == ENI_MIG_SWITCHOVER);

    if (str_eq(host, eni->host)) {                      /* the source */
        if (marker_is(m, "failed")) {
            return rollback__(eni, out, event);
        } else if (marker_is(m, "paused") && p == ENI_MIG_PREPARED) {
            if (mode == BINDING_BREAK_BEFORE_MAKE) {
                *reason = "break-before-make: remote hosts follow at "
                          "activation";
                return BINDING_UNCHANGED;
            }
            return phase__(eni, ENI_MIG_SWITCHOVER, eni->dest_host,
                           eni->dest_ofport, out, event,
                           BINDING_EV_SWITCHOVER);
        } else if (marker_is(m, "") && p == ENI_MIG_SWITCHOVER) {
            /* The source runs again before the destination did. */
            return rollback__(eni, out, event);
        } else if (ofport != eni->ofport && ofport > 0) {
            out->ofport = ofport;
            *event = BINDING_EV_PORT;
            return BINDING_CHANGED;
        }
        return BINDING_UNCHANGED;
    } else if (str_eq(host, eni->dest_host)) {          /* the destination */
        if (marker_is(m, "failed")) {
            return rollback__(eni, out, event);
        } else if (marker_is(m, "completed")
                   || (marker_is(m, "") && p == ENI_MIG_ACTIVATED)) {
            /* Completed, or the hypervisor cleared its marker after
             * activation: the VM simply runs here now. */
            bind__(eni, eni->dest_host, ofport, out);
            *event = BINDING_EV_COMMIT;
            return BINDING_CHANGED;
        } else if (marker_is(m, "activated") && before_activation) {
            return phase__(eni, ENI_MIG_ACTIVATED, eni->dest_host, ofport,
                           out, event, BINDING_EV_ACTIVATE);
        } else if (ofport != eni->dest_ofport && ofport > 0) {
            out->dest_ofport = ofport;
            *event = BINDING_EV_PORT;
            return BINDING_CHANGED;
        }
        return BINDING_UNCHANGED;
    }
    *reason = "another host claims an ENI in the middle of a migration";
    return BINDING_REFUSED;
}

enum binding_verdict
binding_vif_plugged(const struct eni *eni, enum binding_mode mode,
                    const char *host, int32_t ofport, const char *mac,
                    const char *migration, struct eni_binding *out,
                    enum binding_event *event, const char **reason)
{
    binding_current(eni, out);
    *event = BINDING_EV_NONE;
    *reason = NULL;

    if (mac && mac[0] && !same_mac(mac, eni->mac)) {
        *reason = "the VIF's attached-mac is not the ENI's MAC";
        return BINDING_REFUSED;
    }
    if (ofport <= 0) {
        *reason = "the VIF has no OpenFlow port";
        return BINDING_REFUSED;
    }

    if (eni->state == ENI_MIGRATING) {
        return migrating_plugged__(eni, mode, host, ofport, migration, out,
                                   event, reason);
    }

    bool bound = eni->state == ENI_BOUND;
    if (bound && str_eq(eni->host, host)) {
        if (eni->ofport == ofport) {
            return BINDING_UNCHANGED;
        }
        out->ofport = ofport;
        *event = BINDING_EV_PORT;
        return BINDING_CHANGED;
    }
    if (bound) {
        /* Bound elsewhere: a migration's destination, or a cold move. */
        if (marker_is(migration, "incoming")) {
            return phase__(eni, ENI_MIG_PREPARED, host, ofport, out, event,
                           BINDING_EV_PREPARE);
        } else if (marker_is(migration, "activated")) {
            /* We missed "incoming": the VM already runs here. */
            return phase__(eni, ENI_MIG_ACTIVATED, host, ofport, out, event,
                           BINDING_EV_ACTIVATE);
        } else if (!marker_is(migration, "")) {
            /* "paused", "completed" or "failed" from a host the ENI is not
             * bound to: a finished or failed migration's leftover VIF. */
            *reason = "stale migration marker from a host the ENI left";
            return BINDING_UNCHANGED;
        }
        bind__(eni, host, ofport, out);
        *event = BINDING_EV_MOVE;
        return BINDING_CHANGED;
    }
    if (marker_is(migration, "failed")) {
        *reason = "a failed migration's destination";
        return BINDING_UNCHANGED;
    }
    bind__(eni, host, ofport, out);
    *event = BINDING_EV_BIND;
    return BINDING_CHANGED;
}

enum binding_verdict
binding_vif_unplugged(const struct eni *eni, const char *host,
                      struct eni_binding *out, enum binding_event *event,
                      const char **reason)
{
    binding_current(eni, out);
    *event = BINDING_EV_NONE;
    *reason = NULL;

    if (eni->state == ENI_MIGRATING) {
        if (str_eq(host, eni->host)) {
            /* The source VM is gone: the VM can only be on the
             * destination. */
            return commit__(eni, out, event);
        } else if (str_eq(host, eni->dest_host)) {
            /* The destination died: back to the source. */
            return rollback__(eni, out, event);
        }
        *reason = "stale: the ENI is not bound to that host";
        return BINDING_UNCHANGED;
    }
    if (eni->state != ENI_BOUND || !str_eq(eni->host, host)) {
        *reason = "stale: the ENI is not bound to that host";
        return BINDING_UNCHANGED;
    }
    out->state = eni->vm_uuid ? ENI_ATTACHING : ENI_DETACHED;
    out->host = NULL;
    out->ofport = -1;
    out->phase = ENI_MIG_NONE;
    out->dest_host = NULL;
    out->dest_ofport = -1;
    out->epoch = eni->epoch + 1;
    *event = BINDING_EV_UNBIND;
    return BINDING_CHANGED;
}

enum binding_verdict
binding_announcement(const struct eni *eni, const char *host, int32_t ofport,
                     struct eni_binding *out, enum binding_event *event)
{
    binding_current(eni, out);
    *event = BINDING_EV_NONE;
    if (eni->state == ENI_MIGRATING && str_eq(host, eni->dest_host)
        && ofport == eni->dest_ofport
        && (eni->phase == ENI_MIG_PREPARED
            || eni->phase == ENI_MIG_SWITCHOVER)) {
        return phase__(eni, ENI_MIG_ACTIVATED, eni->dest_host,
                       eni->dest_ofport, out, event, BINDING_EV_ACTIVATE);
    }
    return BINDING_UNCHANGED;
}

enum binding_verdict
binding_commit(const struct eni *eni, struct eni_binding *out,
               enum binding_event *event)
{
    binding_current(eni, out);
    *event = BINDING_EV_NONE;
    if (eni->state == ENI_MIGRATING && eni->phase == ENI_MIG_ACTIVATED) {
        return commit__(eni, out, event);
    }
    return BINDING_UNCHANGED;
}

enum binding_verdict
binding_timeout(const struct eni *eni, struct eni_binding *out,
                enum binding_event *event)
{
    binding_current(eni, out);
    *event = BINDING_EV_NONE;
    if (eni->state == ENI_MIGRATING
        && (eni->phase == ENI_MIG_PREPARED
            || eni->phase == ENI_MIG_SWITCHOVER)) {
        return rollback__(eni, out, event);
    }
    return BINDING_UNCHANGED;
}
