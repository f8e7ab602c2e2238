/* Reports the VIFs on one bridge of the local Open_vSwitch database by
 * diffing the module's table of reported VIFs against the IDL whenever its
 * sequence number changes.  See vif-monitor.h for the contract. */
#include <config.h>

#include "ovs-glue/vif-monitor.h"

#include <stdlib.h>
#include <string.h>

#include "coverage.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(vif_monitor);

COVERAGE_DEFINE(vif_monitor_diff);
COVERAGE_DEFINE(vif_monitor_event);

struct vif_monitor {
    struct ovsdb_idl *idl;
    char *bridge;
    vif_monitor_cb *cb;
    void *aux;
    unsigned int idl_seqno;     /* IDL seqno at the last diff */
    struct shash vifs;          /* iface name -> struct vif_info *, as
                                 * last reported */
};

const char *
vif_event_to_string(enum vif_event event)
{
    switch (event) {
    case VIF_PLUGGED: return "plugged";
    case VIF_CHANGED: return "changed";
    case VIF_UNPLUGGED: return "unplugged";
    }
    return "<unknown>";
}

void
vif_monitor_add_columns(struct ovsdb_idl *idl)
{
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_name);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_ports);
    ovsdb_idl_add_column(idl, &ovsrec_port_col_name);
    ovsdb_idl_add_column(idl, &ovsrec_port_col_interfaces);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_name);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_ofport);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_external_ids);
}

static void
vif_info_free__(struct vif_info *vif)
{
    if (vif) {
        free(vif->eni_id);
        free(vif->mac);
        free(vif->vm_uuid);
        free(vif->iface_status);
        free(vif->migration);
        free(vif->paused_at);
        free(vif->bridge);
        free(vif->iface_name);
        free(vif);
    }
}

/* Returns the VIF that 'iface' on 'bridge' is, or NULL if it is not one
 * (yet). */
static struct vif_info *
vif_info_from_row__(const struct ovsrec_interface *iface, const char *bridge)
{
    const char *eni_id = smap_get_def(&iface->external_ids, "iface-id", "");

    if (!eni_id[0] || !iface->n_ofport) {
        return NULL;
    }

    struct vif_info *vif = xmalloc(sizeof *vif);
    vif->eni_id = xstrdup(eni_id);
    vif->mac = xstrdup(smap_get_def(&iface->external_ids, "attached-mac",
                                    ""));
    /* libvirt writes the domain's UUID as vm-id. */
    const char *vm_uuid = smap_get(&iface->external_ids, "vm-uuid");
    vif->vm_uuid = xstrdup(vm_uuid ? vm_uuid
                           : smap_get_def(&iface->external_ids, "vm-id",
                                          ""));
    vif->iface_status = xstrdup(smap_get_def(&iface->external_ids,
                                             "iface-status", ""));
    vif->migration = xstrdup(smap_get_def(&iface->external_ids,
                                          "tether-migration", ""));
    vif->paused_at = xstrdup(smap_get_def(&iface->external_ids,
                                          "tether-paused-at", ""));
    vif->bridge = xstrdup(bridge);
    vif->iface_name = xstrdup(iface->name);
    vif->ofport = iface->ofport[0];
    return vif;
}

static bool
vif_info_equal__(const struct vif_info *a, const struct vif_info *b)
{
    return (!strcmp(a->eni_id, b->eni_id)
            && !strcmp(a->mac, b->mac)
            && !strcmp(a->vm_uuid, b->vm_uuid)
            && !strcmp(a->iface_status, b->iface_status)
            && !strcmp(a->migration, b->migration)
            && !strcmp(a->paused_at, b->paused_at)
            && !strcmp(a->bridge, b->bridge)
            && !strcmp(a->iface_name, b->iface_name)
            && a->ofport == b->ofport);
}

struct vif_monitor *
vif_monitor_create(struct ovsdb_idl *idl, const char *bridge,
                   vif_monitor_cb *cb, void *aux)
{
    struct vif_monitor *vm = xzalloc(sizeof *vm);

    vm->idl = idl;
    vm->bridge = xstrdup(bridge);
    vm->cb = cb;
    vm->aux = aux;
    vm->idl_seqno = ovsdb_idl_get_seqno(idl);
    shash_init(&vm->vifs);
    return vm;
}

void
vif_monitor_destroy(struct vif_monitor *vm)
{
    if (vm) {
        struct shash_node *node;

        SHASH_FOR_EACH (node, &vm->vifs) {
            vif_info_free__(node->data);
        }
        shash_destroy(&vm->vifs);
        free(vm->bridge);
        free(vm);
    }
}

/* Collects into 'vifs' (iface name -> new struct vif_info *) the VIFs that
 * the IDL shows on the monitored bridge. */
static void
collect_vifs__(const struct vif_monitor *vm, struct shash *vifs)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    const struct ovsrec_bridge *br;

    OVSREC_BRIDGE_FOR_EACH (br, vm->idl) {
        if (strcmp(br->name, vm->bridge)) {
            continue;
        }
        for (size_t i = 0; i < br->n_ports; i++) {
            const struct ovsrec_port *port = br->ports[i];

            for (size_t j = 0; j < port->n_interfaces; j++) {
                struct vif_info *vif;

                vif = vif_info_from_row__(port->interfaces[j], vm->bridge);
                if (vif && !shash_add_once(vifs, vif->iface_name, vif)) {
                    VLOG_WARN_RL(&rl, "bridge %s: more than one interface "
                                 "named %s; ignoring all but one",
                                 vm->bridge, vif->iface_name);
                    vif_info_free__(vif);
                }
            }
        }
        /* ovs-vswitchd ignores all but one bridge of a given name too. */
        break;
    }
}

static void
report__(struct vif_monitor *vm, enum vif_event event,
         const struct vif_info *vif, const struct vif_info *old)
{
    /* The hypervisor decides how often VIFs come and go. */
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(60, 120);

    COVERAGE_INC(vif_monitor_event);
    VLOG_INFO_RL(&rl, "%s: eni %s on %s port %"PRId64
                 " (mac %s, vm %s, status %s)",
                 vif_event_to_string(event), vif->eni_id, vif->iface_name,
                 vif->ofport, vif->mac[0] ? vif->mac : "?",
                 vif->vm_uuid[0] ? vif->vm_uuid : "?",
                 vif->iface_status[0] ? vif->iface_status : "?");
    vm->cb(event, vif, old, vm->aux);
}

void
vif_monitor_run(struct vif_monitor *vm)
{
    unsigned int seqno = ovsdb_idl_get_seqno(vm->idl);

    if (seqno == vm->idl_seqno) {
        return;
    }
    vm->idl_seqno = seqno;
    COVERAGE_INC(vif_monitor_diff);

    struct shash cur = SHASH_INITIALIZER(&cur);
    collect_vifs__(vm, &cur);

    /* Unplugs first: an ENI that moved from one interface to another in the
     * same update is then seen leaving before it arrives. */
    struct shash_node *node;
    SHASH_FOR_EACH_SAFE (node, &vm->vifs) {
        struct vif_info *old = node->data;
        struct vif_info *new = shash_find_data(&cur, node->name);

        if (!new || strcmp(new->eni_id, old->eni_id)) {
            report__(vm, VIF_UNPLUGGED, old, NULL);
            shash_delete(&vm->vifs, node);
            vif_info_free__(old);
        }
    }

    SHASH_FOR_EACH (node, &cur) {
        struct vif_info *new = node->data;
        struct shash_node *old_node = shash_find(&vm->vifs, node->name);

        if (!old_node) {
            shash_add(&vm->vifs, new->iface_name, new);
            report__(vm, VIF_PLUGGED, new, NULL);
        } else {
            struct vif_info *old = old_node->data;

            if (vif_info_equal__(old, new)) {
                vif_info_free__(new);
            } else {
                old_node->data = new;
                report__(vm, VIF_CHANGED, new, old);
                vif_info_free__(old);
            }
        }
    }
    shash_destroy(&cur);
}

void
vif_monitor_wait(struct vif_monitor *vm OVS_UNUSED)
{
}

bool
vif_monitor_is_connected(const struct vif_monitor *vm)
{
    return (ovsdb_idl_is_connected(vm->idl)
            && ovsdb_idl_has_ever_connected(vm->idl));
}

const struct vif_info **
vif_monitor_list(const struct vif_monitor *vm, size_t *n)
{
    const struct shash_node **nodes = shash_sort(&vm->vifs);
    size_t count = shash_count(&vm->vifs);
    const struct vif_info **vifs = xmalloc((count ? count : 1)
                                           * sizeof *vifs);

    for (size_t i = 0; i < count; i++) {
        vifs[i] = nodes[i]->data;
    }
    free(nodes);
    *n = count;
    return vifs;
}

const struct vif_info *
vif_monitor_find(const struct vif_monitor *vm, const char *iface_name)
{
    return shash_find_data(&vm->vifs, iface_name);
}
