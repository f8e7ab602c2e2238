/* tetherd's core: agent reports -> bindings -> data path (see engine.h). */
#include <config.h>

#include "controller/engine.h"

#include <stdlib.h>
#include <string.h>

#include "controller/binding.h"
#include "controller/flows.h"
#include "controller/host-registry.h"
#include "controller/metrics.h"
#include "controller/physical.h"
#include "flow.h"
#include "hash.h"
#include "openvswitch/hmap.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-glue/flow-table.h"
#include "ovs-glue/of-switch.h"
#include "openvswitch/shash.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(engine);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(20, 50);

struct engine;
static void engine_apply__(struct engine *, const struct eni *,
                           const struct eni_binding *, enum binding_event,
                           const char *why);

/* A migration in progress, for its time limit and its phase times. */
struct engine_migration {
    struct hmap_node node;              /* in engine's 'migrations', by id */
    char *eni_id;
    long long int started;              /* PREPARE */
    long long int phase_started;
    enum eni_migration_phase phase;

    /* Make-before-break across hosts: the source's flows go only once every
     * other host delivers to the destination.  The round that carried
     * ACTIVATED (0: none yet), and whether a commit waits for it. */
    uint64_t activate_round;
    long long int activate_confirmed;   /* when seen confirmed, or 0 */
    bool commit_pending;

    /* The round that carried SWITCHOVER (0: none, or already told) and the
     * source host to tell once every bridge confirmed it: a hypervisor
     * holding the source before its switchover goes on then. */
    uint64_t switchover_round;
    char *switchover_host;
    long long int switchover_at;
};

static void
engine_free_migration__(struct engine_migration *m)
{
    free(m->eni_id);
    free(m->switchover_host);
    free(m);
}

struct engine {
    struct host_registry *hosts;
    struct physical *physical;
    struct engine_options opts;
    struct hmap migrations;             /* contains engine_migration */
    struct shash last_host;             /* ENI id -> host it was unbound
                                         * from, to count cold moves */
    struct eni_store *store;
    struct agent_server *agents;
    bool store_was_ready;
    struct engine_stats stats;
    engine_admit_func *admit;
    void *admit_aux;
};

struct engine *
engine_create(struct host_registry *hosts, struct physical *physical,
              const struct engine_options *opts)
{
    struct engine *e = xzalloc(sizeof *e);
    e->hosts = hosts;
    e->physical = physical;
    e->opts = *opts;
    hmap_init(&e->migrations);
    shash_init(&e->last_host);
    return e;
}

void
engine_destroy(struct engine *e)
{
    if (e) {
        struct engine_migration *m;
        HMAP_FOR_EACH_POP (m, node, &e->migrations) {
            engine_free_migration__(m);
        }
        hmap_destroy(&e->migrations);
        shash_destroy_free_data(&e->last_host);
        free(e);
    }
}

static struct engine_migration *
engine_find_migration(const struct engine *e, const char *eni_id)
{
    struct engine_migration *m;
    HMAP_FOR_EACH_WITH_HASH (m, node, hash_string(eni_id, 0),
                             &e->migrations) {
        if (!strcmp(m->eni_id, eni_id)) {
            return m;
        }
    }
    return NULL;
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

void
engine_set_admission(struct engine *e, engine_admit_func *admit, void *aux)
{
    e->admit = admit;
    e->admit_aux = aux;
}

/* Asks admission about the PREPARE of 'eni' to 'h'; on refusal logs and
 * counts it and tells 'h''s agent.  Returns true if admitted. */
static bool
engine_admit__(struct engine *e, const struct eni *eni, const struct host *h)
{
    char *reason = NULL;

    if (!e->admit || e->admit(eni, h->id, &reason, e->admit_aux)) {
        return true;
    }
    e->stats.admission_refusals++;
    metrics_counter_add("tether_admission_refusals_total",
                        "Migrations refused at prepare by admission",
                        NULL, 1);
    VLOG_WARN_RL(&rl, "eni %s: migration from %s to %s refused at epoch "
                 "%"PRIu64": %s", eni->id, eni->host ? eni->host : "(none)",
                 h->id, eni->epoch, reason);
    if (e->agents) {
        Tether__Command cmd = TETHER__COMMAND__INIT;
        cmd.kind = TETHER__COMMAND__KIND__REFUSE_MIGRATION;
        cmd.eni_id = eni->id;
        cmd.reason = reason;
        agent_server_send_command(e->agents, h->id, &cmd);
    }
    free(reason);
    return false;
}

void
engine_packet_in(struct engine *e, struct of_switch *sw,
                 const struct of_packet_in *pin)
{
    const char *host = physical_host_of_switch(e->physical, sw);
    if (!host || !e->store || FT_COOKIE_CLASS(pin->cookie) != FLOWS_CLASS_ENI) {
        return;
    }
    const struct eni *eni = eni_store_find_eni_by_key(
        e->store, FT_COOKIE_ID(pin->cookie));
    if (!eni) {
        return;
    }
    struct eni_binding b;
    enum binding_event ev;
    if (binding_announcement(eni, host, ofp_to_u16(pin->in_port), &b, &ev)
        == BINDING_CHANGED) {
        e->stats.announcements++;
        engine_apply__(e, eni, &b, ev, "the VM announced itself");
    }
}

/* Rolls back migrations stuck before activation past the time limit. */
/* How long after every bridge confirmed ACTIVATED the source's flows
 * stay: a bridge's datapath keeps forwarding by its cached flows until
 * its revalidators have caught up with the new table. */
#define STRAGGLER_MS 100

/* True if 'm''s activation is confirmed on every bridge, long enough ago
 * for the source's flows to go. */
static bool
engine_activation_settled__(struct engine *e OVS_UNUSED,
                            struct engine_migration *m, uint64_t confirmed)
{
    if (!m->activate_round || m->activate_round > confirmed) {
        return false;
    }
    long long int now = time_msec();
    if (!m->activate_confirmed) {
        m->activate_confirmed = now;
    }
    return now - m->activate_confirmed >= STRAGGLER_MS;
}

static void
engine_run_commits__(struct engine *e)
{
    uint64_t confirmed = physical_confirmed_round(e->physical);
    struct engine_migration *m;

    HMAP_FOR_EACH_SAFE (m, node, &e->migrations) {
        if (!m->commit_pending || !engine_activation_settled__(e, m,
                                                                confirmed)) {
            continue;
        }
        m->commit_pending = false;
        const struct eni *eni = e->store ? eni_store_find_eni(e->store,
                                                              m->eni_id)
                                         : NULL;
        struct eni_binding b;
        enum binding_event ev;
        if (eni && binding_commit(eni, &b, &ev) == BINDING_CHANGED) {
            engine_apply__(e, eni, &b, ev,
                           "every host delivers to the destination");
        }
    }
}

/* Tells the source host of each migration whose switchover every bridge has
 * confirmed (Command SWITCHOVER_READY): a hypervisor that holds the source
 * before its switchover (QEMU's pause-before-switchover) lets it go on now
 * rather than after its bounded wait. */
static void
engine_run_switchovers__(struct engine *e)
{
    uint64_t confirmed = physical_confirmed_round(e->physical);
    struct engine_migration *m;

    HMAP_FOR_EACH (m, node, &e->migrations) {
        if (!m->switchover_round || m->switchover_round > confirmed) {
            continue;
        }
        m->switchover_round = 0;
        VLOG_INFO("eni %s: switchover confirmed on every bridge in %lld ms; "
                  "telling %s", m->eni_id, time_msec() - m->switchover_at,
                  m->switchover_host);
        if (e->agents) {
            Tether__Command cmd = TETHER__COMMAND__INIT;
            cmd.kind = TETHER__COMMAND__KIND__SWITCHOVER_READY;
            cmd.eni_id = m->eni_id;
            agent_server_send_command(e->agents, m->switchover_host, &cmd);
        }
    }
}

static void
engine_run_timeouts__(struct engine *e)
{
    long long int now = time_msec();
    struct engine_migration *m;

    if (!e->opts.migration_timeout_ms || !e->store) {
        return;
    }
    HMAP_FOR_EACH_SAFE (m, node, &e->migrations) {
        if ((m->phase == ENI_MIG_PREPARED || m->phase == ENI_MIG_SWITCHOVER)
            && now - m->started >= e->opts.migration_timeout_ms) {
            const struct eni *eni = eni_store_find_eni(e->store, m->eni_id);
            struct eni_binding b;
            enum binding_event ev;
            if (eni && binding_timeout(eni, &b, &ev) == BINDING_CHANGED) {
                e->stats.timeouts++;
                engine_apply__(e, eni, &b, ev, "not activated in time");
            } else if (!eni) {
                hmap_remove(&e->migrations, &m->node);
                engine_free_migration__(m);
            }
        }
    }
}

void
engine_wait(struct engine *e)
{
    struct engine_migration *m;
    uint64_t confirmed = physical_confirmed_round(e->physical);
    HMAP_FOR_EACH (m, node, &e->migrations) {
        if (m->switchover_round && m->switchover_round <= confirmed) {
            poll_immediate_wake();
        }
        if (!m->commit_pending) {
            continue;
        } else if (m->activate_confirmed) {
            poll_timer_wait_until(m->activate_confirmed + STRAGGLER_MS);
        } else if (m->activate_round <= confirmed) {
            poll_immediate_wake();
        } else {
            /* A bridge that was away holds it back for a while. */
            poll_timer_wait(100);
        }
    }
    if (!e->opts.migration_timeout_ms) {
        return;
    }
    HMAP_FOR_EACH (m, node, &e->migrations) {
        if (m->phase == ENI_MIG_PREPARED || m->phase == ENI_MIG_SWITCHOVER) {
            poll_timer_wait_until(m->started + e->opts.migration_timeout_ms);
        }
    }
}

/* Once the store has loaded, every agent that reported before is asked for
 * a full resync: reports that came earlier were dropped.
 *
 * The hosts the database knows get their tunnel IPs here, but a host whose
 * agent has already registered is left as its agent reported it (a fresher
 * tunnel IP, and its bridge: priming it with "bridge unknown" would leave
 * it waiting for a bridge status that its agent has already sent). */
static void
prime_host__(const struct eni_store_host *h, void *e_)
{
    struct engine *e = e_;
    if (e->hosts && host_registry_find(e->hosts, h->id)) {
        return;
    }
    if (h->tunnel_ip && h->tunnel_ip[0]) {
        physical_set_host(e->physical, h->id, h->tunnel_ip, 0, -1, -1);
    }
}

void
engine_run(struct engine *e)
{
    engine_run_commits__(e);
    engine_run_switchovers__(e);
    engine_run_timeouts__(e);
    bool ready = e->store && eni_store_is_ready(e->store);
    if (ready && !e->store_was_ready) {
        /* Every host the database knows, with its tunnel IP, before any
         * bridge's table is computed: a bridge's table needs the tunnel IPs
         * of all hosts it forwards to, not only of those whose agents have
         * reconnected yet. */
        eni_store_for_each_host(e->store, prime_host__, e);
        physical_set_ready(e->physical);
    }
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
                      h->tunnel_ofport, h->relay_ofport);
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
                      h->tunnel_ofport, h->relay_ofport);
}

static struct engine_migration *
engine_add_migration__(struct engine *e, const char *eni_id,
                       enum eni_migration_phase phase)
{
    struct engine_migration *m = xzalloc(sizeof *m);
    m->eni_id = xstrdup(eni_id);
    m->started = m->phase_started = time_msec();
    m->phase = phase;
    hmap_insert(&e->migrations, &m->node, hash_string(eni_id, 0));
    return m;
}

/* Keeps the migration table in step with a change of 'eni' to 'b' and
 * records phase times. */
static void
engine_track_migration__(struct engine *e, const struct eni *eni,
                         const struct eni_binding *b, enum binding_event ev)
{
    long long int now = time_msec();
    struct engine_migration *m = engine_find_migration(e, eni->id);
    char labels[64];

    if (m && m->phase != b->phase) {
        snprintf(labels, sizeof labels, "phase=\"%s\"",
                 eni_migration_phase_to_string(m->phase));
        metrics_histogram_observe("tether_migration_phase_seconds",
                                  "Time spent in each migration phase",
                                  labels, (now - m->phase_started) / 1000.0);
        m->phase = b->phase;
        m->phase_started = now;
    }
    if (b->state == ENI_MIGRATING && !m) {
        m = engine_add_migration__(e, eni->id, b->phase);
    } else if (b->state != ENI_MIGRATING && m) {
        VLOG_INFO("eni %s: migration %s after %lld ms", eni->id,
                  ev == BINDING_EV_COMMIT ? "committed" : "rolled back",
                  now - m->started);
        metrics_histogram_observe("tether_migration_seconds",
                                  "From prepare to commit or rollback",
                                  ev == BINDING_EV_COMMIT
                                  ? "outcome=\"commit\""
                                  : "outcome=\"rollback\"",
                                  (now - m->started) / 1000.0);
        hmap_remove(&e->migrations, &m->node);
        engine_free_migration__(m);
        m = NULL;
    }
    if (m && ev == BINDING_EV_ACTIVATE) {
        m->activate_round = physical_next_round(e->physical);
        m->activate_confirmed = 0;
    }
    if (m && ev == BINDING_EV_SWITCHOVER && b->host) {
        m->switchover_round = physical_next_round(e->physical);
        m->switchover_at = now;
        free(m->switchover_host);
        m->switchover_host = xstrdup(b->host);
    } else if (m && b->phase != ENI_MIG_SWITCHOVER) {
        m->switchover_round = 0;        /* moved on: nobody waits */
    }
}

/* A commit of a migration whose activation is not yet confirmed on every
 * host: remote hosts would still send to the source when its flows are
 * gone.  Activates first (if need be) and returns true: the commit is made
 * by engine_run_commits__() once that round is confirmed. */
static bool
engine_defer_commit__(struct engine *e, const struct eni *eni,
                      const struct eni_binding *b, enum binding_event ev)
{
    if (ev != BINDING_EV_COMMIT || eni->state != ENI_MIGRATING
        || b->state != ENI_BOUND || !eni->dest_host
        || strcmp(b->host, eni->dest_host)) {
        return false;
    }
    struct engine_migration *m = engine_find_migration(e, eni->id);
    if (!m) {
        /* A migration tetherd found in its database after a restart. */
        m = engine_add_migration__(e, eni->id, eni->phase);
    }
    if (eni->phase != ENI_MIG_ACTIVATED) {
        /* Applying the activation replaces 'eni' (and what 'b' points
         * into) in the store. */
        char *id = xstrdup(eni->id);
        struct eni_binding act;
        binding_current(eni, &act);
        act.phase = ENI_MIG_ACTIVATED;
        act.dest_ofport = b->ofport;
        act.epoch = eni->epoch + 1;
        engine_apply__(e, eni, &act, BINDING_EV_ACTIVATE,
                       "completed before activation was seen");
        m = engine_find_migration(e, id);
        free(id);
    } else if (engine_activation_settled__(
                   e, m, physical_confirmed_round(e->physical))) {
        return false;
    }
    if (m) {
        m->commit_pending = true;
    }
    return true;
}

/* Applies 'b' to the ENI and logs the change. */
static void
engine_apply__(struct engine *e, const struct eni *eni,
               const struct eni_binding *b, enum binding_event ev,
               const char *why)
{
    char labels[64];

    if (ev == BINDING_EV_COMMIT && eni->state == ENI_MIGRATING) {
        char *id = xstrdup(eni->id);
        char *dest = xstrdup(eni->dest_host ? eni->dest_host : "");
        bool deferred = engine_defer_commit__(e, eni, b, ev);
        if (deferred) {
            VLOG_INFO("eni %s: commit (%s) waits until every host delivers "
                      "to %s", id, why, dest);
        }
        free(id);
        free(dest);
        if (deferred) {
            return;
        }
    }

    VLOG_INFO("eni %s: %s: %s%s%s -> %s%s%s ofport %d%s%s%s%s, epoch "
              "%"PRIu64" -> %"PRIu64" (%s)",
              eni->id, binding_event_to_string(ev),
              eni_state_to_string(eni->state),
              eni->host ? " on " : "", eni->host ? eni->host : "",
              eni_state_to_string(b->state), b->host ? " on " : "",
              b->host ? b->host : "", b->ofport,
              b->state == ENI_MIGRATING ? ", " : "",
              b->state == ENI_MIGRATING
              ? eni_migration_phase_to_string(b->phase) : "",
              b->state == ENI_MIGRATING && b->dest_host ? " to " : "",
              b->state == ENI_MIGRATING && b->dest_host ? b->dest_host : "",
              eni->epoch, b->epoch, why);
    switch (ev) {
    case BINDING_EV_UNBIND:
        /* A cold move is an unplug here and a plug there: remember where
         * it was. */
        free(shash_replace(&e->last_host, eni->id, xstrdup(eni->host)));
        break;
    case BINDING_EV_BIND: {
        char *last = shash_find_and_delete(&e->last_host, eni->id);
        if (last && b->host && strcmp(last, b->host)) {
            e->stats.moves++;
            metrics_counter_add("tether_eni_moves_total",
                                "ENIs bound to another host than before",
                                NULL, 1);
        }
        free(last);
        break;
    }
    case BINDING_EV_MOVE:
        e->stats.moves++;
        metrics_counter_add("tether_eni_moves_total",
                            "ENIs bound to another host than before", NULL, 1);
        break;
    case BINDING_EV_PREPARE:
        e->stats.migrations++;
        break;
    case BINDING_EV_COMMIT:
        e->stats.commits++;
        break;
    case BINDING_EV_ROLLBACK:
        e->stats.rollbacks++;
        break;
    case BINDING_EV_SWITCHOVER:
        physical_tag_round(e->physical, PHYSICAL_TAG_SWITCHOVER);
        break;
    case BINDING_EV_ACTIVATE:
        physical_tag_round(e->physical, PHYSICAL_TAG_ACTIVATE);
        break;
    case BINDING_EV_NONE:
    case BINDING_EV_PORT:
        break;
    }
    snprintf(labels, sizeof labels, "event=\"%s\"",
             binding_event_to_string(ev));
    metrics_counter_add("tether_binding_events_total",
                        "ENI binding changes by kind", labels, 1);
    engine_track_migration__(e, eni, b, ev);
    char *warm = (ev == BINDING_EV_PREPARE && b->dest_host
                  ? xstrdup(b->dest_host) : NULL);
    char *warm_mac = warm ? xstrdup(eni->mac) : NULL;
    int32_t warm_port = b->dest_ofport;
    uint32_t vni = eni->vni;
    eni_store_set_binding(e->store, eni->id, b->state, b->host, b->ofport,
                          b->epoch, b->phase, b->dest_host, b->dest_ofport);
    if (warm) {
        physical_warm_tunnels(e->physical, warm, vni, warm_mac, warm_port);
        free(warm);
        free(warm_mac);
    }
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
    enum binding_event ev;
    switch (binding_vif_plugged(eni, e->opts.mode, h->id, vif->ofport,
                                vif->mac, vif->migration, &b, &ev,
                                &reason)) {
    case BINDING_CHANGED:
        if (ev == BINDING_EV_PREPARE && !engine_admit__(e, eni, h)) {
            break;
        }
        engine_apply__(e, eni, &b, ev,
                       vif->migration[0] ? vif->migration : "VIF plugged");
        break;
    case BINDING_REFUSED:
        e->stats.refused++;
        VLOG_WARN_RL(&rl, "host %s: VIF %s for eni %s refused: %s", h->id,
                     vif->iface_name, eni->id, reason);
        break;
    case BINDING_UNCHANGED:
        if (reason) {
            VLOG_DBG("host %s: VIF %s for eni %s: %s", h->id,
                     vif->iface_name, eni->id, reason);
        }
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
    enum binding_event ev;
    switch (binding_vif_unplugged(eni, h->id, &b, &ev, &reason)) {
    case BINDING_CHANGED:
        engine_apply__(e, eni, &b, ev, "VIF unplugged");
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

struct resync_gone {
    const struct sset *reported;
    struct sset gone;
};

static void
resync_gone_cb(const struct eni *eni, void *g_)
{
    struct resync_gone *g = g_;
    if (eni_is_wired(eni) && !sset_contains(g->reported, eni->id)) {
        sset_add(&g->gone, eni->id);
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

    /* ENIs bound here that the host no longer has, through the store's
     * index by host: listing (and sorting) all ENIs for every resync was
     * 94 % of tetherd's CPU while 1,000 hosts resynced 100,000 ENIs. */
    struct resync_gone g = { .reported = &reported };
    sset_init(&g.gone);
    eni_store_for_each_eni_on_host(e->store, h->id, resync_gone_cb, &g);
    const char *id;
    SSET_FOR_EACH (id, &g.gone) {
        engine_vif_unplugged__(e, h, id);
    }
    sset_destroy(&g.gone);
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

size_t
engine_n_migrations(const struct engine *e)
{
    return hmap_count(&e->migrations);
}

static int
compare_migrations(const void *a_, const void *b_)
{
    const struct engine_migration *const *a = a_, *const *b = b_;
    return strcmp((*a)->eni_id, (*b)->eni_id);
}

struct json *
engine_migrations_json(void *e_)
{
    struct engine *e = e_;
    struct json *array = json_array_create_empty();
    size_t n = hmap_count(&e->migrations), i = 0;
    struct engine_migration **ms = xmalloc((n ? n : 1) * sizeof *ms);
    struct engine_migration *m;
    long long int now = time_msec();

    HMAP_FOR_EACH (m, node, &e->migrations) {
        ms[i++] = m;
    }
    qsort(ms, n, sizeof *ms, compare_migrations);
    for (i = 0; i < n; i++) {
        const struct eni *eni = e->store ? eni_store_find_eni(e->store,
                                                              ms[i]->eni_id)
                                         : NULL;
        if (!eni || eni->state != ENI_MIGRATING) {
            continue;
        }
        struct json *o = json_object_create();
        json_object_put_string(o, "eni", eni->id);
        json_object_put_string(o, "phase",
                               eni_migration_phase_to_string(eni->phase));
        json_object_put_string(o, "source_host", eni->host);
        json_object_put_string(o, "dest_host", eni->dest_host);
        json_object_put(o, "epoch", json_integer_create(eni->epoch));
        json_object_put(o, "elapsed_ms",
                        json_integer_create(now - ms[i]->started));
        json_object_put(o, "phase_ms",
                        json_integer_create(now - ms[i]->phase_started));
        json_array_add(array, o);
    }
    free(ms);
    return array;
}
