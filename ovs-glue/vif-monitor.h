/* Follows the local Open_vSwitch database and reports the VM interfaces
 * (VIFs) on one bridge: the Interface rows that carry
 * external_ids:iface-id, as plugged, changed and unplugged events.  It only
 * reads the database; it knows nothing of tetherd or of OpenFlow.
 *
 * Ownership of the database connection: the caller (tether-agent) owns one
 * struct ovsdb_idl on the vswitch schema and shares it between this module
 * and bridge-setup:
 *
 *     idl = ovsdb_idl_create(remote, &ovsrec_idl_class, false, true);
 *     vif_monitor_add_columns(idl);
 *     bridge_setup_add_columns(idl);
 *     vm = vif_monitor_create(idl, "br-int", vif_cb, aux);
 *     bs = bridge_setup_create(idl, &cfg);
 *     for (;;) {
 *         ovsdb_idl_run(idl);
 *         vif_monitor_run(vm);
 *         bridge_setup_run(bs);
 *         ovsdb_idl_wait(idl);
 *         vif_monitor_wait(vm);
 *         bridge_setup_wait(bs);
 *         poll_block();
 *     }
 *
 * Nothing here polls on a timer: vif_monitor_run() does work only when the
 * IDL's sequence number has changed.
 *
 * What is reported: an Interface row is a VIF when it belongs (through a
 * Port) to the bridge named at creation, has a non-empty
 * external_ids:iface-id, and ovs-vswitchd has filled in its ofport column
 * (a port number, or -1 if ovs-vswitchd could not open it).  Until
 * ovs-vswitchd has done so the VIF is not reported, so a PLUGGED event always
 * carries the ofport that OpenFlow rules need.  VIFs are identified by
 * interface name (the hypervisor's tap name); the module keeps its own table
 * of what it has reported and, whenever the IDL changes, diffs that table
 * against the database:
 *
 *   - VIF_PLUGGED: a VIF that was not reported is now present;
 *   - VIF_CHANGED: its ofport, attached-mac, vm-uuid, iface-status,
 *     tether-migration or tether-paused-at changed;
 *   - VIF_UNPLUGGED: the row is gone, left the bridge, lost its iface-id.
 *     An interface whose iface-id changes is reported UNPLUGGED (old ENI) and
 *     then PLUGGED (new ENI).
 *
 * Within one diff, all UNPLUGGED events come before the others.  Because
 * the diff is against the module's own table, a reconnection to
 * ovsdb-server (for example after it restarts) reports exactly what changed
 * while the connection was down, and nothing for unchanged VIFs. */
#ifndef OVS_GLUE_VIF_MONITOR_H
#define OVS_GLUE_VIF_MONITOR_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ovsdb_idl;

enum vif_event {
    VIF_PLUGGED,
    VIF_CHANGED,
    VIF_UNPLUGGED,
};

const char *vif_event_to_string(enum vif_event);

/* One VIF as found in the database.  Strings are never NULL (absent
 * external_ids keys read as ""). */
struct vif_info {
    char *eni_id;           /* external_ids:iface-id */
    char *mac;              /* external_ids:attached-mac */
    char *vm_uuid;          /* external_ids:vm-uuid, else vm-id */
    char *iface_status;     /* external_ids:iface-status ("active", ...) */
    char *migration;        /* external_ids:tether-migration: the
                             * hypervisor's migration phase for this VIF
                             * ("incoming", "paused", "activated",
                             * "completed", "failed") or "" */
    char *paused_at;        /* external_ids:tether-paused-at: when the VM
                             * paused here, Unix time in seconds with a
                             * fraction ("1764859200.123456"), or "" */
    char *bridge;           /* bridge name */
    char *iface_name;       /* Interface name */
    int64_t ofport;         /* OpenFlow port number, -1 if it failed */
};

/* Called from vif_monitor_run() for each event.  'vif' is the VIF as it is
 * now (for VIF_UNPLUGGED: as it was last reported); 'old' is the previous
 * report for VIF_CHANGED and NULL otherwise.  Both are valid only during the
 * call.  The callback must not call back into the monitor. */
typedef void vif_monitor_cb(enum vif_event, const struct vif_info *vif,
                            const struct vif_info *old, void *aux);

/* Registers the tables and columns this module reads on 'idl' (created with
 * monitor_everything_by_default false).  Call before the first
 * ovsdb_idl_run(idl). */
void vif_monitor_add_columns(struct ovsdb_idl *idl);

/* Creates a monitor of the VIFs on 'bridge' in 'idl', which must outlive it,
 * reporting to 'cb' with 'aux'.  Nothing is reported from here; the first
 * vif_monitor_run() after the IDL has its first snapshot reports every VIF
 * present as PLUGGED. */
struct vif_monitor *vif_monitor_create(struct ovsdb_idl *idl,
                                       const char *bridge,
                                       vif_monitor_cb *cb, void *aux);
void vif_monitor_destroy(struct vif_monitor *);

/* Reports the changes since the last call, if the IDL changed.  Call after
 * ovsdb_idl_run() in each iteration of the main loop. */
void vif_monitor_run(struct vif_monitor *);

/* Arranges for poll_block() to wake when vif_monitor_run() has work that
 * ovsdb_idl_wait() does not cover.  There is none today; kept so that
 * callers need not change if there is. */
void vif_monitor_wait(struct vif_monitor *);

/* True if the IDL is connected and has received the database's contents,
 * i.e. the reported set is current. */
bool vif_monitor_is_connected(const struct vif_monitor *);

/* The VIFs as last reported (for a full resync report), sorted by interface
 * name.  Returns a newly allocated array of '*n' pointers that the caller
 * frees with free(); the pointed-to VIFs stay owned by the monitor and are
 * valid until the next vif_monitor_run() or vif_monitor_destroy(). */
const struct vif_info **vif_monitor_list(const struct vif_monitor *,
                                         size_t *n);

/* The VIF named 'iface_name' as last reported, or NULL. */
const struct vif_info *vif_monitor_find(const struct vif_monitor *,
                                        const char *iface_name);

#endif /* ovs-glue/vif-monitor.h */
