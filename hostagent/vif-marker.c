/* Marks VIFs whose migration tetherd refused (see vif-marker.h). */
#include <config.h>

#include "hostagent/vif-marker.h"

#include <stdlib.h>
#include <string.h>

#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(vif_marker);

#define MAX_PENDING 1024

struct vif_marker {
    struct ovsdb_idl *idl;
    struct ovsdb_idl_txn *txn;          /* in flight, or NULL */
    struct shash pending;               /* ENI id -> reason */
};

struct vif_marker *
vif_marker_create(const char *db_remote)
{
    struct vif_marker *m = xzalloc(sizeof *m);
    m->idl = ovsdb_idl_create(db_remote, &ovsrec_idl_class, false, true);
    ovsdb_idl_add_table(m->idl, &ovsrec_table_interface);
    ovsdb_idl_add_column(m->idl, &ovsrec_interface_col_name);
    ovsdb_idl_add_column(m->idl, &ovsrec_interface_col_external_ids);
    shash_init(&m->pending);
    return m;
}

void
vif_marker_destroy(struct vif_marker *m)
{
    if (m) {
        if (m->txn) {
            ovsdb_idl_txn_destroy(m->txn);
        }
        ovsdb_idl_destroy(m->idl);
        shash_destroy_free_data(&m->pending);
        free(m);
    }
}

void
vif_marker_refused(struct vif_marker *m, const char *eni_id,
                   const char *reason)
{
    if (shash_count(&m->pending) < MAX_PENDING
        || shash_find(&m->pending, eni_id)) {
        free(shash_replace(&m->pending, eni_id, xstrdup(reason)));
    }
}

void
vif_marker_run(struct vif_marker *m)
{
    ovsdb_idl_run(m->idl);
    if (m->txn) {
        enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(m->txn);
        if (status == TXN_INCOMPLETE) {
            return;
        }
        if (status != TXN_SUCCESS && status != TXN_UNCHANGED) {
            VLOG_WARN("marking refused VIFs: %s",
                      ovsdb_idl_txn_status_to_string(status));
        }
        ovsdb_idl_txn_destroy(m->txn);
        m->txn = NULL;
    }
    if (shash_is_empty(&m->pending) || !ovsdb_idl_has_ever_connected(m->idl)) {
        return;
    }

    const struct ovsrec_interface *iface;
    OVSREC_INTERFACE_FOR_EACH (iface, m->idl) {
        const char *eni = smap_get(&iface->external_ids, "iface-id");
        char *reason = eni ? shash_find_data(&m->pending, eni) : NULL;
        if (!reason) {
            continue;
        }
        const char *old = smap_get(&iface->external_ids,
                                   "tether-migration-refused");
        if (!old || strcmp(old, reason)) {
            if (!m->txn) {
                m->txn = ovsdb_idl_txn_create(m->idl);
                ovsdb_idl_txn_add_comment(m->txn, "tether-agent: migration "
                                          "refused");
            }
            ovsrec_interface_update_external_ids_setkey(
                iface, "tether-migration-refused", reason);
            VLOG_INFO("VIF %s: eni %s marked tether-migration-refused",
                      iface->name, eni);
        }
        free(shash_find_and_delete(&m->pending, eni));
    }
    if (m->txn) {
        ovsdb_idl_txn_commit(m->txn);
    }
}

void
vif_marker_wait(struct vif_marker *m)
{
    ovsdb_idl_wait(m->idl);
    if (m->txn) {
        ovsdb_idl_txn_wait(m->txn);
    }
}
