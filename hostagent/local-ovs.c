/* tether-agent's local Open vSwitch (see local-ovs.h). */
#include <config.h>

#include "hostagent/local-ovs.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hostagent/relay.h"
#include "openvswitch/vlog.h"
#include "sset.h"
#include "ovs-glue/bridge-setup.h"
#include "ovs-glue/vif-monitor.h"
#include "ovsdb-idl.h"
#include "timeval.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(local_ovs);

struct local_ovs {
    struct ovsdb_idl *idl;
    struct vif_monitor *vifs;
    struct bridge_setup *setup;         /* NULL until controllers known */
    struct local_ovs_config cfg;        /* strings owned */
    char **controllers;
    size_t n_controllers;
    local_ovs_vif_func *vif_cb;
    void *aux;
    uint64_t datapath_id;               /* 0 while unknown */
    int32_t tunnel_ofport;              /* -1 while unknown */
    int32_t relay_ofport;               /* 0 while unknown or none */
    struct relay *relay;                /* NULL: none */
    struct marker_txn *markers;         /* written, not yet confirmed */
    size_t n_markers;
    local_ovs_gate_func *gate;          /* NULL: report every VIF */
    void *gate_aux;
    struct sset held;                   /* interface names held back */
};

/* A tether-migration marker write in flight (local_ovs_set_marker()). */
struct marker_txn {
    char *eni_id;
    char *value;                        /* NULL: remove the key */
    char *paused_at;                    /* tether-paused-at, or NULL */
    struct ovsdb_idl_txn *txn;          /* NULL: to write (again) */
    long long int started;              /* time_msec() of the request */
};

static char *
nullable_strdup(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void
vif_to_pb(const struct vif_info *v, Tether__Vif *pb)
{
    tether__vif__init(pb);
    pb->eni_id = v->eni_id;
    pb->mac = v->mac ? v->mac : (char *) "";
    pb->vm_uuid = v->vm_uuid ? v->vm_uuid : (char *) "";
    pb->bridge = v->bridge;
    pb->iface_name = v->iface_name;
    pb->ofport = v->ofport;
    pb->iface_status = v->iface_status ? v->iface_status : (char *) "";
    pb->migration = v->migration ? v->migration : (char *) "";
}

/* When 'vif''s VM paused (external_ids:tether-paused-at), in CLOCK_REALTIME
 * ns; now if the hypervisor did not say. */
static int64_t
paused_at_ns__(const struct vif_info *vif)
{
    /* Digit by digit: a double holds Unix seconds only to ~0.2 us, and a
     * frame judged against the pause must not move across it. */
    const char *p = vif->paused_at;
    if (p && *p >= '0' && *p <= '9') {
        int64_t sec = 0, frac = 0, scale = 1000000000;
        while (*p >= '0' && *p <= '9' && sec < INT64_C(1000000000000)) {
            sec = sec * 10 + (*p++ - '0');
        }
        if (*p == '.') {
            p++;
            while (*p >= '0' && *p <= '9') {
                if (scale > 1) {
                    scale /= 10;
                    frac += (*p - '0') * scale;
                }
                p++;
            }
        }
        if (!*p && sec > 0) {
            return sec * INT64_C(1000000000) + frac;
        }
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * INT64_C(1000000000) + ts.tv_nsec;
}

/* Follows the hypervisor's markers on a migration's source: relay what the
 * paused VM's VIF receives; stop when the VM runs here again. */
static void
relay_follow__(struct local_ovs *lo, enum vif_event event,
               const struct vif_info *vif)
{
    if (!lo->relay || vif->ofport < 1) {
        return;
    }
    if (event == VIF_UNPLUGGED) {
        /* The source is gone: frames still on their way to it are
         * relayed until tetherd removes its flows. */
        relay_set_vif(lo->relay, vif->ofport, NULL);
        return;
    }
    relay_set_vif(lo->relay, vif->ofport, vif->iface_name);
    if (!strcmp(vif->migration, "paused")) {
        relay_start(lo->relay, vif->ofport, paused_at_ns__(vif));
    } else {
        relay_stop(lo->relay, vif->ofport);
    }
}

/* Sends 'vif''s event 'event' to tetherd, its marker read as
 * 'migration' if that is nonnull. */
static void
report_vif__(struct local_ovs *lo, enum vif_event event,
             const struct vif_info *vif, const char *migration)
{
    Tether__VifEvent ev = TETHER__VIF_EVENT__INIT;
    Tether__Vif pb;

    vif_to_pb(vif, &pb);
    if (migration) {
        pb.migration = CONST_CAST(char *, migration);
    }
    ev.kind = (event == VIF_PLUGGED ? TETHER__VIF_EVENT__KIND__PLUGGED
               : event == VIF_CHANGED ? TETHER__VIF_EVENT__KIND__CHANGED
               : TETHER__VIF_EVENT__KIND__UNPLUGGED);
    ev.vif = &pb;
    VLOG_INFO("VIF %s: %s eni %s mac %s ofport %"PRId64"%s%s",
              vif_event_to_string(event), vif->iface_name, vif->eni_id,
              vif->mac ? vif->mac : "", vif->ofport,
              pb.migration[0] ? " migration " : "", pb.migration);
    if (lo->vif_cb) {
        lo->vif_cb(&ev, lo->aux);
    }
}

/* Asks the gate about 'vif' (new or held).  Returns true if it was
 * reported (as PLUGGED), false if it is held. */
static bool
gate_vif__(struct local_ovs *lo, const struct vif_info *vif)
{
    enum local_ovs_gate g = (vif->migration[0] || !vif->vm_uuid[0]
                             ? LOCAL_OVS_GATE_REPORT
                             : lo->gate(vif->vm_uuid, lo->gate_aux));
    if (g == LOCAL_OVS_GATE_HOLD) {
        if (sset_add(&lo->held, vif->iface_name)) {
            VLOG_INFO("VIF %s (eni %s, domain %s) held back until the "
                      "hypervisor says whether it is a migration's "
                      "destination", vif->iface_name, vif->eni_id,
                      vif->vm_uuid);
        }
        return false;
    }
    sset_find_and_delete(&lo->held, vif->iface_name);
    relay_follow__(lo, VIF_PLUGGED, vif);
    if (g == LOCAL_OVS_GATE_INCOMING) {
        /* Reported with the marker at once; the database's echo of it
         * follows as a change that changes nothing. */
        local_ovs_set_marker(lo, vif->eni_id, "incoming", 0);
        report_vif__(lo, VIF_PLUGGED, vif, "incoming");
    } else {
        report_vif__(lo, VIF_PLUGGED, vif, NULL);
    }
    return true;
}

static void
vif_event_cb(enum vif_event event, const struct vif_info *vif,
             const struct vif_info *old OVS_UNUSED, void *lo_)
{
    struct local_ovs *lo = lo_;

    if (sset_contains(&lo->held, vif->iface_name)) {
        if (event == VIF_UNPLUGGED) {
            VLOG_INFO("VIF %s (eni %s) unplugged while held back",
                      vif->iface_name, vif->eni_id);
            sset_find_and_delete(&lo->held, vif->iface_name);
        } else {
            gate_vif__(lo, vif);
        }
        return;
    }
    if (event == VIF_PLUGGED && lo->gate) {
        gate_vif__(lo, vif);
        return;
    }
    relay_follow__(lo, event, vif);
    report_vif__(lo, event, vif, NULL);
}

void
local_ovs_set_gate(struct local_ovs *lo, local_ovs_gate_func *gate,
                   void *aux)
{
    lo->gate = gate;
    lo->gate_aux = aux;
}

void
local_ovs_gate_recheck(struct local_ovs *lo)
{
    if (sset_is_empty(&lo->held) || !lo->gate) {
        return;
    }
    size_t n;
    const struct vif_info **vifs = vif_monitor_list(lo->vifs, &n);
    for (size_t i = 0; i < n; i++) {
        if (sset_contains(&lo->held, vifs[i]->iface_name)) {
            gate_vif__(lo, vifs[i]);
        }
    }
    free(vifs);
}

struct local_ovs *
local_ovs_create(const struct local_ovs_config *cfg,
                 local_ovs_vif_func *vif_cb, void *aux)
{
    struct local_ovs *lo = xzalloc(sizeof *lo);

    lo->cfg.db_remote = xstrdup(cfg->db_remote);
    lo->cfg.bridge = xstrdup(cfg->bridge);
    lo->cfg.datapath_type = xstrdup(cfg->datapath_type);
    lo->cfg.tunnel_port = nullable_strdup(cfg->tunnel_port);
    lo->cfg.tunnel_type = nullable_strdup(cfg->tunnel_type);
    lo->cfg.tunnel_local_ip = nullable_strdup(cfg->tunnel_local_ip);
    lo->cfg.relay_port = nullable_strdup(cfg->relay_port);
    lo->cfg.relay_stream = nullable_strdup(cfg->relay_stream);
    if (cfg->relay_port) {
        lo->relay = relay_create(cfg->relay_port, cfg->relay_stream);
    }
    lo->vif_cb = vif_cb;
    lo->aux = aux;
    sset_init(&lo->held);

    lo->idl = ovsdb_idl_create(cfg->db_remote, &ovsrec_idl_class, false,
                               true);
    vif_monitor_add_columns(lo->idl);
    bridge_setup_add_columns(lo->idl);
    ovsdb_idl_add_column(lo->idl, &ovsrec_bridge_col_datapath_id);
    lo->vifs = vif_monitor_create(lo->idl, cfg->bridge, vif_event_cb, lo);
    lo->tunnel_ofport = -1;
    return lo;
}

void
local_ovs_destroy(struct local_ovs *lo)
{
    if (!lo) {
        return;
    }
    for (size_t i = 0; i < lo->n_markers; i++) {
        struct marker_txn *m = &lo->markers[i];
        if (m->txn) {
            ovsdb_idl_txn_destroy(m->txn);
        }
        free(m->eni_id);
        free(m->value);
        free(m->paused_at);
    }
    free(lo->markers);
    sset_destroy(&lo->held);
    bridge_setup_destroy(lo->setup);
    vif_monitor_destroy(lo->vifs);
    ovsdb_idl_destroy(lo->idl);
    for (size_t i = 0; i < lo->n_controllers; i++) {
        free(lo->controllers[i]);
    }
    free(lo->controllers);
    free(CONST_CAST(char *, lo->cfg.db_remote));
    free(CONST_CAST(char *, lo->cfg.bridge));
    free(CONST_CAST(char *, lo->cfg.datapath_type));
    free(CONST_CAST(char *, lo->cfg.tunnel_port));
    free(CONST_CAST(char *, lo->cfg.tunnel_type));
    free(CONST_CAST(char *, lo->cfg.tunnel_local_ip));
    free(CONST_CAST(char *, lo->cfg.relay_port));
    free(CONST_CAST(char *, lo->cfg.relay_stream));
    relay_destroy(lo->relay);
    free(lo);
}

void
local_ovs_set_controllers(struct local_ovs *lo, char *const *targets,
                          size_t n)
{
    bool same = lo->setup && n == lo->n_controllers;
    for (size_t i = 0; same && i < n; i++) {
        same = !strcmp(targets[i], lo->controllers[i]);
    }
    if (same) {
        return;
    }

    for (size_t i = 0; i < lo->n_controllers; i++) {
        free(lo->controllers[i]);
    }
    free(lo->controllers);
    lo->controllers = xcalloc(n + 1, sizeof *lo->controllers);
    for (size_t i = 0; i < n; i++) {
        lo->controllers[i] = xstrdup(targets[i]);
    }
    lo->n_controllers = n;

    struct bridge_setup_config bc = {
        .bridge = lo->cfg.bridge,
        .datapath_type = lo->cfg.datapath_type,
        .controllers = (const char *const *) lo->controllers,
        .n_controllers = n,
        .tunnel_port = lo->cfg.tunnel_port,
        .tunnel_type = lo->cfg.tunnel_type,
        .tunnel_local_ip = lo->cfg.tunnel_local_ip,
        .relay_port = lo->cfg.relay_port,
    };
    char *pstream = (lo->cfg.relay_stream
                     ? xasprintf("punix:%s", lo->cfg.relay_stream) : NULL);
    bc.relay_pstream = pstream;
    bridge_setup_destroy(lo->setup);
    lo->setup = bridge_setup_create(lo->idl, &bc);
    free(pstream);
    VLOG_INFO("bridge %s: controllers set to %zu target(s)%s%s",
              lo->cfg.bridge, n, n ? ", first " : "", n ? targets[0] : "");
}

/* Reads the bridge's datapath id and the tunnel and relay ports'
 * ofports. */
static void
local_ovs_read_bridge__(struct local_ovs *lo)
{
    const struct ovsrec_bridge *br;
    uint64_t dpid = 0;
    int32_t tunnel_ofport = -1;
    int32_t relay_ofport = 0;

    OVSREC_BRIDGE_FOR_EACH (br, lo->idl) {
        if (strcmp(br->name, lo->cfg.bridge)) {
            continue;
        }
        if (br->datapath_id) {
            dpid = strtoull(br->datapath_id, NULL, 16);
        }
        for (size_t i = 0; i < br->n_ports; i++) {
            const struct ovsrec_port *port = br->ports[i];
            for (size_t j = 0; j < port->n_interfaces; j++) {
                const struct ovsrec_interface *iface = port->interfaces[j];
                if (!iface->n_ofport || iface->ofport[0] <= 0) {
                    continue;
                }
                if (lo->cfg.tunnel_port
                    && !strcmp(iface->name, lo->cfg.tunnel_port)) {
                    tunnel_ofport = iface->ofport[0];
                } else if (lo->cfg.relay_port
                           && !strcmp(iface->name, lo->cfg.relay_port)) {
                    relay_ofport = iface->ofport[0];
                }
            }
        }
    }
    if (dpid != lo->datapath_id || tunnel_ofport != lo->tunnel_ofport) {
        VLOG_INFO("bridge %s: datapath id %016"PRIx64", tunnel port %s "
                  "ofport %"PRId32, lo->cfg.bridge, dpid,
                  lo->cfg.tunnel_port ? lo->cfg.tunnel_port : "(none)",
                  tunnel_ofport);
        lo->datapath_id = dpid;
        lo->tunnel_ofport = tunnel_ofport;
    }
    if (relay_ofport != lo->relay_ofport) {
        VLOG_INFO("bridge %s: relay port %s ofport %"PRId32, lo->cfg.bridge,
                  lo->cfg.relay_port, relay_ofport);
        lo->relay_ofport = relay_ofport;
    }
}

/* The Interface row of ENI 'eni_id''s VIF on the bridge, or NULL. */
static const struct ovsrec_interface *
find_vif_iface__(const struct local_ovs *lo, const char *eni_id)
{
    const struct ovsrec_interface *found = NULL;
    size_t n;
    const struct vif_info **vifs = vif_monitor_list(lo->vifs, &n);

    for (size_t i = 0; i < n && !found; i++) {
        if (!strcmp(vifs[i]->eni_id, eni_id)) {
            const struct ovsrec_interface *iface;
            OVSREC_INTERFACE_FOR_EACH (iface, lo->idl) {
                if (!strcmp(iface->name, vifs[i]->iface_name)) {
                    found = iface;
                    break;
                }
            }
        }
    }
    free(vifs);
    return found;
}

/* Starts the write of marker 'm'; false if its VIF is not here. */
static bool
marker_start__(struct local_ovs *lo, struct marker_txn *m)
{
    const struct ovsrec_interface *iface = find_vif_iface__(lo, m->eni_id);
    if (!iface) {
        return false;
    }
    m->txn = ovsdb_idl_txn_create(lo->idl);
    ovsdb_idl_txn_add_comment(m->txn, "tether-agent: %s tether-migration=%s",
                              iface->name, m->value ? m->value : "(none)");
    if (m->value) {
        ovsrec_interface_update_external_ids_setkey(iface, "tether-migration",
                                                    m->value);
    } else {
        ovsrec_interface_update_external_ids_delkey(iface,
                                                    "tether-migration");
    }
    if (m->paused_at) {
        ovsrec_interface_update_external_ids_setkey(iface, "tether-paused-at",
                                                    m->paused_at);
    } else if (smap_get(&iface->external_ids, "tether-paused-at")) {
        ovsrec_interface_update_external_ids_delkey(iface,
                                                    "tether-paused-at");
    }
    /* Sent now; the status arrives in a later local_ovs_run(). */
    ovsdb_idl_txn_commit(m->txn);
    return true;
}

bool
local_ovs_set_marker(struct local_ovs *lo, const char *eni_id,
                     const char *value, double paused_at)
{
    lo->markers = xrealloc(lo->markers,
                           (lo->n_markers + 1) * sizeof *lo->markers);
    struct marker_txn *m = &lo->markers[lo->n_markers];
    m->eni_id = xstrdup(eni_id);
    m->value = nullable_strdup(value);
    m->paused_at = (value && paused_at > 0
                    ? xasprintf("%.6f", paused_at) : NULL);
    m->txn = NULL;
    m->started = time_msec();
    if (!marker_start__(lo, m)) {
        VLOG_WARN("ENI %s: no VIF on %s for tether-migration=%s", eni_id,
                  lo->cfg.bridge, value ? value : "(none)");
        free(m->eni_id);
        free(m->value);
        free(m->paused_at);
        return false;
    }
    if (lo->relay && value && !strcmp(value, "paused")) {
        /* Our own hypervisor backend: relay now, not once the database
         * echoes the marker back. */
        size_t n;
        const struct vif_info **vifs = vif_monitor_list(lo->vifs, &n);
        for (size_t i = 0; i < n; i++) {
            if (!strcmp(vifs[i]->eni_id, eni_id) && vifs[i]->ofport > 0) {
                struct vif_info v = *vifs[i];
                v.paused_at = m->paused_at ? m->paused_at : (char *) "";
                relay_start(lo->relay, v.ofport, paused_at_ns__(&v));
            }
        }
        free(vifs);
    }
    lo->n_markers++;
    return true;
}

/* Confirms or retries the marker writes in flight. */
static void
local_ovs_run_markers__(struct local_ovs *lo)
{
    for (size_t i = 0; i < lo->n_markers; ) {
        struct marker_txn *m = &lo->markers[i];
        if (!m->txn) {
            if (ovsdb_idl_is_connected(lo->idl) && !marker_start__(lo, m)) {
                VLOG_WARN("ENI %s: VIF gone before tether-migration=%s was "
                          "written", m->eni_id, m->value ? m->value : "");
                goto drop;
            }
            i++;
            continue;
        }
        enum ovsdb_idl_txn_status st = ovsdb_idl_txn_commit(m->txn);
        if (st == TXN_INCOMPLETE) {
            i++;
            continue;
        }
        if (st == TXN_SUCCESS || st == TXN_UNCHANGED) {
            VLOG_INFO("ENI %s: tether-migration=%s written (%lld ms)",
                      m->eni_id, m->value ? m->value : "(none)",
                      time_msec() - m->started);
        } else if (st == TXN_TRY_AGAIN) {
            ovsdb_idl_txn_destroy(m->txn);
            m->txn = NULL;      /* written again once connected */
            i++;
            continue;
        } else {
            VLOG_WARN("ENI %s: tether-migration=%s: %s (%s)", m->eni_id,
                      m->value ? m->value : "(none)",
                      ovsdb_idl_txn_status_to_string(st),
                      ovsdb_idl_txn_get_error(m->txn));
        }
        ovsdb_idl_txn_destroy(m->txn);
drop:
        free(m->eni_id);
        free(m->value);
        free(m->paused_at);
        lo->markers[i] = lo->markers[--lo->n_markers];
    }
}

void
local_ovs_run(struct local_ovs *lo)
{
    unsigned int seqno = ovsdb_idl_get_seqno(lo->idl);
    ovsdb_idl_run(lo->idl);
    vif_monitor_run(lo->vifs);
    if (lo->setup) {
        bridge_setup_run(lo->setup);
    }
    if (seqno != ovsdb_idl_get_seqno(lo->idl)) {
        local_ovs_read_bridge__(lo);
    }
    local_ovs_run_markers__(lo);
}

void
local_ovs_get_bridge(const struct local_ovs *lo, uint64_t *datapath_id,
                     int32_t *tunnel_ofport, int32_t *relay_ofport)
{
    *datapath_id = lo->datapath_id;
    *tunnel_ofport = lo->tunnel_ofport;
    *relay_ofport = lo->relay_ofport;
}

void
local_ovs_wait(struct local_ovs *lo)
{
    ovsdb_idl_wait(lo->idl);
    vif_monitor_wait(lo->vifs);
    for (size_t i = 0; i < lo->n_markers; i++) {
        if (lo->markers[i].txn) {
            ovsdb_idl_txn_wait(lo->markers[i].txn);
        }
    }
    if (lo->setup) {
        bridge_setup_wait(lo->setup);
    }
}

void
local_ovs_fill_resync(struct local_ovs *lo, Tether__Resync *rs)
{
    size_t n;
    const struct vif_info **vifs = vif_monitor_list(lo->vifs, &n);

    rs->vifs = xcalloc(n ? n : 1, sizeof *rs->vifs);
    rs->n_vifs = 0;
    for (size_t i = 0; i < n; i++) {
        if (sset_contains(&lo->held, vifs[i]->iface_name)) {
            continue;           /* tetherd hears of it once let go */
        }
        rs->vifs[rs->n_vifs] = xmalloc(sizeof *rs->vifs[rs->n_vifs]);
        vif_to_pb(vifs[i], rs->vifs[rs->n_vifs++]);
    }
    free(vifs);
}

bool
local_ovs_is_connected(const struct local_ovs *lo)
{
    return vif_monitor_is_connected(lo->vifs);
}

size_t
local_ovs_n_vifs(const struct local_ovs *lo)
{
    size_t n;
    const struct vif_info **vifs = vif_monitor_list(lo->vifs, &n);
    free(vifs);
    return n;
}

const char *
local_ovs_bridge_state(const struct local_ovs *lo)
{
    return (lo->setup
            ? bridge_setup_state_to_string(bridge_setup_get_state(lo->setup))
            : "waiting for controller targets");
}
