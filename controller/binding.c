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

enum binding_verdict
binding_vif_plugged(const struct eni *eni, const char *host, int32_t ofport,
                    const char *mac, struct eni_binding *out,
                    const char **reason)
{
    binding_current(eni, out);
    *reason = NULL;

    if (mac && mac[0] && !same_mac(mac, eni->mac)) {
        *reason = "the VIF's attached-mac is not the ENI's MAC";
        return BINDING_REFUSED;
    }
    if (ofport <= 0) {
        *reason = "the VIF has no OpenFlow port";
        return BINDING_REFUSED;
    }

    bool bound_here = eni_is_wired(eni) && str_eq(eni->host, host);
    if (bound_here && eni->ofport == ofport) {
        return BINDING_UNCHANGED;
    }
    out->state = ENI_BOUND;
    out->host = host;
    out->ofport = ofport;
    out->phase = ENI_MIG_NONE;
    out->dest_host = NULL;
    out->dest_ofport = -1;
    if (!bound_here) {
        out->epoch = eni->epoch + 1;
    }
    return BINDING_CHANGED;
}

enum binding_verdict
binding_vif_unplugged(const struct eni *eni, const char *host,
                      struct eni_binding *out, const char **reason)
{
    binding_current(eni, out);
    *reason = NULL;

    if (!eni_is_wired(eni) || !str_eq(eni->host, host)) {
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
    return BINDING_CHANGED;
}
