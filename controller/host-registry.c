/* tetherd's host inventory (see host-registry.h): a sorted array, binary
 * searched by host id. */
#include "controller/host-registry.h"

#include <stdlib.h>
#include <string.h>

struct host_registry {
    struct host **hosts;            /* sorted by id */
    size_t n, allocated;
};

struct host_registry *
host_registry_create(void)
{
    return calloc(1, sizeof(struct host_registry));
}

static void
host_free_strings__(struct host *h)
{
    free(h->hypervisor);
    free(h->hostname);
    free(h->tunnel_ip);
    free(h->tunnel_type);
    free(h->bridge);
    free(h->agent_version);
    for (size_t i = 0; i < h->n_capabilities; i++) {
        free(h->capabilities[i]);
    }
    free(h->capabilities);
    free(h->cpu_model);
    for (size_t i = 0; i < h->n_cpu_flags; i++) {
        free(h->cpu_flags[i]);
    }
    free(h->cpu_flags);
}

void
host_registry_destroy(struct host_registry *r)
{
    if (r) {
        for (size_t i = 0; i < r->n; i++) {
            host_free_strings__(r->hosts[i]);
            free(r->hosts[i]);
        }
        free(r->hosts);
        free(r);
    }
}

/* Returns the index of 'id' in 'r', or the index where it would go (with
 * '*foundp' false). */
static size_t
host_registry_search__(const struct host_registry *r, const char *id,
                       bool *foundp)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(id, r->hosts[mid]->id);
        if (!cmp) {
            *foundp = true;
            return mid;
        } else if (cmp < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    *foundp = false;
    return lo;
}

struct host *
host_registry_find(const struct host_registry *r, const char *id)
{
    bool found;
    size_t i = host_registry_search__(r, id, &found);
    return found ? r->hosts[i] : NULL;
}

static char *
dup__(const char *s, bool *okp)
{
    char *d = strdup(s ? s : "");
    if (!d) {
        *okp = false;
    }
    return d;
}

struct host *
host_registry_hello(struct host_registry *r, const struct host_hello *hello,
                    long long int now, bool *is_newp)
{
    struct host fresh;
    bool ok = true;

    if (!tether_valid_host_id(hello->id)) {
        return NULL;
    }

    /* Build the new strings first, so that a failed allocation leaves the
     * registry as it was. */
    memset(&fresh, 0, sizeof fresh);
    fresh.hypervisor = dup__(hello->hypervisor, &ok);
    fresh.hostname = dup__(hello->hostname, &ok);
    fresh.tunnel_ip = dup__(hello->tunnel_ip, &ok);
    fresh.tunnel_type = dup__(hello->tunnel_type, &ok);
    fresh.bridge = dup__(hello->bridge, &ok);
    fresh.agent_version = dup__(hello->agent_version, &ok);
    if (hello->n_capabilities) {
        fresh.capabilities = calloc(hello->n_capabilities,
                                    sizeof *fresh.capabilities);
        if (!fresh.capabilities) {
            ok = false;
        } else {
            fresh.n_capabilities = hello->n_capabilities;
            for (size_t i = 0; i < hello->n_capabilities; i++) {
                fresh.capabilities[i] = dup__(hello->capabilities[i], &ok);
            }
        }
    }

    fresh.cpu_model = dup__(hello->cpu_model, &ok);
    if (hello->n_cpu_flags) {
        fresh.cpu_flags = calloc(hello->n_cpu_flags, sizeof *fresh.cpu_flags);
        if (!fresh.cpu_flags) {
            ok = false;
        } else {
            fresh.n_cpu_flags = hello->n_cpu_flags;
            for (size_t i = 0; i < hello->n_cpu_flags; i++) {
                fresh.cpu_flags[i] = dup__(hello->cpu_flags[i], &ok);
            }
        }
    }

    bool found;
    size_t idx = host_registry_search__(r, hello->id, &found);
    struct host *h = NULL;
    if (ok && !found) {
        if (r->n >= r->allocated) {
            size_t na = r->allocated ? r->allocated * 2 : 16;
            struct host **nh = realloc(r->hosts, na * sizeof *nh);
            if (nh) {
                r->hosts = nh;
                r->allocated = na;
            } else {
                ok = false;
            }
        }
        if (ok) {
            h = calloc(1, sizeof *h);
            ok = h != NULL;
        }
        if (ok) {
            memmove(&r->hosts[idx + 1], &r->hosts[idx],
                    (r->n - idx) * sizeof *r->hosts);
            r->hosts[idx] = h;
            r->n++;
            strcpy(h->id, hello->id);
            h->tunnel_ofport = -1;
            h->relay_ofport = -1;       /* until its bridge status */
        }
    } else if (ok) {
        h = r->hosts[idx];
    }
    if (!ok) {
        host_free_strings__(&fresh);
        return NULL;
    }

    host_free_strings__(h);
    h->hypervisor = fresh.hypervisor;
    h->hostname = fresh.hostname;
    h->tunnel_ip = fresh.tunnel_ip;
    h->tunnel_type = fresh.tunnel_type;
    h->bridge = fresh.bridge;
    h->agent_version = fresh.agent_version;
    h->capabilities = fresh.capabilities;
    h->n_capabilities = fresh.n_capabilities;
    h->cpu_model = fresh.cpu_model;
    h->cpu_flags = fresh.cpu_flags;
    h->n_cpu_flags = fresh.n_cpu_flags;
    h->boot_id = hello->boot_id;
    h->connected = true;
    h->connected_at = now;
    h->last_heard = now;
    h->n_sessions++;
    if (is_newp) {
        *is_newp = !found;
    }
    return h;
}

void
host_registry_heard(struct host *h, long long int now)
{
    h->last_heard = now;
}

void
host_registry_disconnected(struct host *h, long long int now)
{
    h->connected = false;
    h->last_heard = now;
}

size_t
host_registry_count(const struct host_registry *r)
{
    return r->n;
}

size_t
host_registry_count_connected(const struct host_registry *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++) {
        n += r->hosts[i]->connected;
    }
    return n;
}

struct host *
host_registry_at(const struct host_registry *r, size_t i)
{
    return i < r->n ? r->hosts[i] : NULL;
}

void
host_registry_set_bridge(struct host *h, uint64_t datapath_id,
                         int32_t tunnel_ofport, int32_t relay_ofport)
{
    h->datapath_id = datapath_id;
    h->tunnel_ofport = tunnel_ofport;
    h->relay_ofport = relay_ofport;
}

struct host *
host_registry_find_by_dpid(const struct host_registry *r, uint64_t dpid)
{
    for (size_t i = 0; dpid && i < r->n; i++) {
        if (r->hosts[i]->datapath_id == dpid) {
            return r->hosts[i];
        }
    }
    return NULL;
}
