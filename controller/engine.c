/* tetherd's core: agent reports -> bindings -> data path (see engine.h). */
#include <config.h>

#include "controller/engine.h"

#include <stdlib.h>
#include <string.h>

#include "controller/binding.h"
#include "controller/host-registry.h"
#include "controller/metrics.h"
#include "controller/physical.h"
#include "openvswitch/vlog.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(engine);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(20, 50);

struct engine {
    struct host_registry *hosts;
    struct physical *physical;
    struct eni_store *store;
    struct agent_server *agents;
    bool store_was_ready;
    struct engine_stats stats;
};

struct engine *
engine_create(struct host_registry *hosts, struct physical *physical)
{
    struct engine *e = xzalloc(sizeof *e);
    e->hosts = hosts;
    e->physical = physical;
    return e;
}

void
engine_destroy(struct engine *e)
{
    free(e);
}

void
engine_set_store(struct engine *e, struct eni_store *store)
{
    e->store = store;
}

void
engine_set_agent_server(struct engine *e, struct agent_server *agents)
{
    e->agents = agents;
}

/* Once the store has loaded, every agent that reported before is asked for
 * a full resync: reports that came earlier were dropped. */
void
engine_run(struct engine *e)
{
    bool ready = e->store && eni_store_is_ready(e->store);
    if (ready && !e->store_was_ready && e->agents) {
        for (size_t i = 0; i < host_registry_count(e->hosts); i++) {
            const struct host *h = host_registry_at(e->hosts, i);
            if (h->connected) {
                Tether__Command cmd = TETHER__COMMAND__INIT;
                cmd.kind = TETHER__COMMAND__KIND__REQUEST_RESYNC;
                agent_server_send_command(e->agents, h->id, &cmd);
            }
        }
    }
    e->store_was_ready = ready;
}

void
engine_get_stats(const struct engine *e, struct engine_stats *s)
{
    *s = e->stats;
}

/* --- Store -> data path -------------------------------------------------- */

static void
store_eni_changed(const struct eni *old, const struct eni *new, void *e_)
{
    struct engine *e = e_;

    if (new) {
        physical_set_eni(e->physical, new);
    } else if (old) {
        physical_remove_eni(e->physical, old->key);
    }
}

static void
store_sg_changed(const struct security_group *old,
                 const struct security_group *new, void *e_)
{
    struct engine *e = e_;

    if (new) {
        physical_set_sg(e->physical, new);
    } else if (old) {
        physical_remove_sg(e->physical, old->id);
    }
}

struct eni_store_observer
engine_store_observer(struct engine *e)
{
    return (struct eni_store_observer) {
        .eni_changed = store_eni_changed,
        .sg_changed = store_sg_changed,
        .aux = e,
    };
}

/* --- Agent reports -> bindings ------------------------------------------- */

static void
engine_put_host__(struct engine *e, const struct host *h)
{
    if (e->store) {
        struct eni_store_host sh = {
            .id = h->id,
            .hypervisor = h->hypervisor,
            .tunnel_ip = h->tunnel_ip,
            .tunnel_type = h->tunnel_type,
            .bridge = h->bridge,
            .connected = h->connected,
            .last_heard = time_wall_msec(),
        };
        eni_store_put_host(e->store, &sh);
    }
}

static void
agent_host_up(struct host *h, void *e_)
{
    struct engine *e = e_;
    physical_set_host(e->physical, h->id, h->tunnel_ip, h->datapath_id,
                      h->tunnel_ofport);
    engine_put_host__(e, h);
}

static void
agent_host_down(struct host *h, void *e_)
{
    /* The data path stays as it is: the VMs keep running while their
     * agent is away. */
    engine_put_host__(e_, h);
}

static void
agent_bridge_status(struct host *h, void *e_)
{
    struct engine *e = e_;
    physical_set_host(e->physical, h->id, h->tunnel_ip, h->datapath_id,
                      h->tunnel_ofport);
}

/* Applies 'b' to the ENI and logs the change. */
static void
engine_apply__(struct engine *e, const struct eni *eni,
               const struct eni_binding *b, const char *why)
{
    bool moved = eni->host && b->host && strcmp(eni->host, b->host);
    VLOG_INFO("eni %s: %s%s%s -> %s%s%s ofport %d, epoch %"PRIu64" (%s)",
              eni->id, eni_state_to_string(eni->state),
              eni->host ? " on " : "", eni->host ? eni->host : "",
              eni_state_to_string(b->state), b->host ? " on " : "",
              b->host ? b->host : "", b->ofport, b->epoch, why);
    if (moved) {
        e->stats.moves++;
        metrics_counter_add("tether_eni_moves_total",
                            "ENIs bound to a new host", NULL, 1);
    }
    eni_store_set_binding(e->store, eni->id, b->state, b->host, b->ofport,
                          b->epoch, b->phase, b->dest_host, b->dest_ofport);
}

static void
engine_vif_plugged__(struct engine *e, struct host *h, const Tether__Vif *vif)
{
    const struct eni *eni = eni_store_find_eni(e->store, vif->eni_id);
    struct eni_binding b;
    const char *reason;

    if (!eni) {
        e->stats.unknown_enis++;
        VLOG_WARN_RL(&rl, "host %s: VIF %s names unknown ENI %s", h->id,
                     vif->iface_name, vif->eni_id);
        return;
    }
    switch (binding_vif_plugged(eni, h->id, vif->ofport, vif->mac, &b,
                                &reason)) {
    case BINDING_CHANGED:
        engine_apply__(e, eni, &b, "VIF plugged");
        break;
    case BINDING_REFUSED:
        e->stats.refused++;
        VLOG_WARN_RL(&rl, "host %s: VIF %s for eni %s refused: %s", h->id,
                     vif->iface_name, eni->id, reason);
        break;
    case BINDING_UNCHANGED:
        break;
    }
}

static void
engine_vif_unplugged__(struct engine *e, struct host *h, const char *eni_id)
{
    const struct eni *eni = eni_store_find_eni(e->store, eni_id);
    struct eni_binding b;
    const char *reason;

    if (!eni) {
        return;
    }
    switch (binding_vif_unplugged(eni, h->id, &b, &reason)) {
    case BINDING_CHANGED:
        engine_apply__(e, eni, &b, "VIF unplugged");
        break;
    case BINDING_UNCHANGED:
        if (reason) {
            e->stats.stale++;
            VLOG_DBG("host %s: unplug of eni %s ignored: %s", h->id,
                     eni_id, reason);
        }
        break;
    case BINDING_REFUSED:
        break;
    }
}

static bool
engine_ready__(struct engine *e, const struct host *h, const char *what)
{
    if (!e->store || !eni_store_is_ready(e->store)) {
        VLOG_WARN_RL(&rl, "host %s: %s before the database is loaded; the "
                     "agent's next resync will carry it", h->id, what);
        return false;
    }
    return true;
}

static void
agent_vif_event(struct host *h, const Tether__VifEvent *ev, void *e_)
{
    struct engine *e = e_;

    e->stats.vif_reports++;
    if (!engine_ready__(e, h, "VIF report")) {
        return;
    }
    if (ev->kind == TETHER__VIF_EVENT__KIND__UNPLUGGED) {
        engine_vif_unplugged__(e, h, ev->vif->eni_id);
    } else {
        engine_vif_plugged__(e, h, ev->vif);
    }
}

static void
agent_resync(struct host *h, const Tether__Resync *rs, void *e_)
{
    struct engine *e = e_;
    struct sset reported = SSET_INITIALIZER(&reported);

    if (!engine_ready__(e, h, "resync")) {
        return;
    }
    for (size_t i = 0; i < rs->n_vifs; i++) {
        sset_add(&reported, rs->vifs[i]->eni_id);
        engine_vif_plugged__(e, h, rs->vifs[i]);
    }

    /* ENIs bound here that the host no longer has. */
    const struct eni **enis;
    size_t n = eni_store_list_enis(e->store, &enis);
    struct sset gone = SSET_INITIALIZER(&gone);
    for (size_t i = 0; i < n; i++) {
        if (eni_is_wired(enis[i]) && enis[i]->host
            && !strcmp(enis[i]->host, h->id)
            && !sset_contains(&reported, enis[i]->id)) {
            sset_add(&gone, enis[i]->id);
        }
    }
    free(enis);
    const char *id;
    SSET_FOR_EACH (id, &gone) {
        engine_vif_unplugged__(e, h, id);
    }
    sset_destroy(&gone);
    sset_destroy(&reported);
}

struct agent_server_cbs
engine_agent_cbs(struct engine *e)
{
    return (struct agent_server_cbs) {
        .host_up = agent_host_up,
        .host_down = agent_host_down,
        .vif_event = agent_vif_event,
        .resync = agent_resync,
        .bridge_status = agent_bridge_status,
        .aux = e,
    };
}
