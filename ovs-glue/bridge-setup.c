/* Brings the integration bridge's rows in the Open_vSwitch database in line
 * with tether's configuration, one transaction per divergence.  See
 * bridge-setup.h for the contract. */
#include <config.h>

#include "ovs-glue/bridge-setup.h"

#include <stdlib.h>
#include <string.h>

#include "coverage.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "sset.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(bridge_setup);

COVERAGE_DEFINE(bridge_setup_check);
COVERAGE_DEFINE(bridge_setup_commit);

static const char *const protocols[] = {
    "OpenFlow13", "OpenFlow14", "OpenFlow15",
};

struct bridge_setup {
    struct ovsdb_idl *idl;

    /* Configuration. */
    char *bridge;
    char *datapath_type;
    struct sset controllers;
    char *tunnel_port;              /* NULL: no tunnel */
    char *tunnel_type;
    struct smap tunnel_options;
    char *relay_port;               /* NULL: no relay port */
    struct smap relay_options;

    /* State. */
    enum bridge_setup_state state;
    unsigned int checked_seqno;     /* IDL seqno at the last comparison */
    struct ovsdb_idl_txn *txn;      /* in flight, or NULL */
    unsigned int n_commits;
};

const char *
bridge_setup_state_to_string(enum bridge_setup_state state)
{
    switch (state) {
    case BRIDGE_SETUP_UNKNOWN: return "unknown";
    case BRIDGE_SETUP_COMMITTING: return "committing";
    case BRIDGE_SETUP_IN_SYNC: return "in sync";
    case BRIDGE_SETUP_RETRY: return "retry";
    }
    return "<invalid>";
}

void
bridge_setup_add_columns(struct ovsdb_idl *idl)
{
    ovsdb_idl_add_column(idl, &ovsrec_open_vswitch_col_bridges);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_name);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_ports);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_datapath_type);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_fail_mode);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_protocols);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_other_config);
    ovsdb_idl_add_column(idl, &ovsrec_bridge_col_controller);
    ovsdb_idl_add_column(idl, &ovsrec_controller_col_target);
    ovsdb_idl_add_column(idl, &ovsrec_controller_col_max_backoff);
    ovsdb_idl_add_column(idl, &ovsrec_port_col_name);
    ovsdb_idl_add_column(idl, &ovsrec_port_col_interfaces);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_name);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_type);
    ovsdb_idl_add_column(idl, &ovsrec_interface_col_options);
}

struct bridge_setup *
bridge_setup_create(struct ovsdb_idl *idl,
                    const struct bridge_setup_config *cfg)
{
    const char *dp = cfg->datapath_type ? cfg->datapath_type : "system";

    if (!cfg->bridge || !cfg->bridge[0]) {
        VLOG_ERR("no bridge name");
        return NULL;
    } else if (strcmp(dp, "system") && strcmp(dp, "netdev")
               && strcmp(dp, "dummy")) {
        VLOG_ERR("%s: unknown datapath type %s", cfg->bridge, dp);
        return NULL;
    } else if (cfg->tunnel_port
               && (!cfg->tunnel_type
                   || (strcmp(cfg->tunnel_type, "geneve")
                       && strcmp(cfg->tunnel_type, "vxlan")))) {
        VLOG_ERR("%s: tunnel type must be geneve or vxlan", cfg->bridge);
        return NULL;
    }

    struct bridge_setup *bs = xzalloc(sizeof *bs);
    bs->idl = idl;
    bs->bridge = xstrdup(cfg->bridge);
    bs->datapath_type = xstrdup(dp);
    sset_init(&bs->controllers);
    for (size_t i = 0; i < cfg->n_controllers; i++) {
        sset_add(&bs->controllers, cfg->controllers[i]);
    }
    smap_init(&bs->tunnel_options);
    if (cfg->tunnel_port) {
        bs->tunnel_port = xstrdup(cfg->tunnel_port);
        bs->tunnel_type = xstrdup(cfg->tunnel_type);
        smap_add(&bs->tunnel_options, "remote_ip", "flow");
        smap_add(&bs->tunnel_options, "key", "flow");
        if (cfg->tunnel_local_ip) {
            smap_add(&bs->tunnel_options, "local_ip", cfg->tunnel_local_ip);
        }
    }
    smap_init(&bs->relay_options);
    if (cfg->relay_port) {
        bs->relay_port = xstrdup(cfg->relay_port);
        if (cfg->relay_pstream) {
            smap_add(&bs->relay_options, "pstream", cfg->relay_pstream);
        }
    }
    bs->state = BRIDGE_SETUP_UNKNOWN;
    /* Compare at the first run that has database contents. */
    bs->checked_seqno = ovsdb_idl_get_seqno(idl) - 1;
    return bs;
}

void
bridge_setup_destroy(struct bridge_setup *bs)
{
    if (bs) {
        if (bs->txn) {
            ovsdb_idl_txn_destroy(bs->txn);
        }
        free(bs->bridge);
        free(bs->datapath_type);
        sset_destroy(&bs->controllers);
        free(bs->tunnel_port);
        free(bs->tunnel_type);
        smap_destroy(&bs->tunnel_options);
        free(bs->relay_port);
        smap_destroy(&bs->relay_options);
        free(bs);
    }
}

/* The sync__() helpers compare one part of the configuration with the IDL.
 * With 'txn' NULL they only return true if it differs; otherwise they also
 * write into 'txn' what makes it agree.  Rows are those read from the IDL,
 * or NULL if there is none, in which case 'txn' inserts one. */

static const struct ovsrec_bridge *
find_bridge__(const struct bridge_setup *bs,
              const struct ovsrec_open_vswitch *ovs, bool *attached)
{
    const struct ovsrec_bridge *br;

    *attached = true;
    for (size_t i = 0; ovs && i < ovs->n_bridges; i++) {
        if (!strcmp(ovs->bridges[i]->name, bs->bridge)) {
            return ovs->bridges[i];
        }
    }
    /* A bridge row that no Open_vSwitch row refers to is reused. */
    *attached = false;
    OVSREC_BRIDGE_FOR_EACH (br, bs->idl) {
        if (!strcmp(br->name, bs->bridge)) {
            return br;
        }
    }
    return NULL;
}

static const struct ovsrec_port *
find_port__(const struct ovsrec_bridge *br, const char *name)
{
    for (size_t i = 0; br && i < br->n_ports; i++) {
        if (!strcmp(br->ports[i]->name, name)) {
            return br->ports[i];
        }
    }
    return NULL;
}

/* Port 'name' on 'br' with a single interface 'name' of 'type' (and
 * options 'options', if nonnull). */
static bool
sync_port__(struct ovsdb_idl_txn *txn, const struct ovsrec_bridge *br,
            const char *name, const char *type, const struct smap *options)
{
    const struct ovsrec_port *port = find_port__(br, name);
    const struct ovsrec_interface *iface = NULL;
    bool changed = false;

    if (port && port->n_interfaces == 1
        && !strcmp(port->interfaces[0]->name, name)) {
        iface = port->interfaces[0];
    }
    if (!port || !iface) {
        changed = true;
        if (txn) {
            struct ovsrec_interface *new_iface;

            new_iface = ovsrec_interface_insert(txn);
            ovsrec_interface_set_name(new_iface, name);
            iface = new_iface;
            if (!port) {
                struct ovsrec_port *new_port = ovsrec_port_insert(txn);

                ovsrec_port_set_name(new_port, name);
                ovsrec_bridge_update_ports_addvalue(br, new_port);
                port = new_port;
            }
            ovsrec_port_set_interfaces(port, &new_iface, 1);
        }
    }

    if (!iface || strcmp(iface->type, type)) {
        changed = true;
        if (txn) {
            ovsrec_interface_set_type(iface, type);
        }
    }
    if (options && (!iface || !smap_equal(&iface->options, options))) {
        changed = true;
        if (txn) {
            ovsrec_interface_set_options(iface, options);
        }
    }
    return changed;
}

#define CONTROLLER_MAX_BACKOFF_MS 1000

static bool
sync_controllers__(const struct bridge_setup *bs, struct ovsdb_idl_txn *txn,
                   const struct ovsrec_bridge *br)
{
    struct sset have = SSET_INITIALIZER(&have);
    bool same;

    bool backoff_ok = true;
    for (size_t i = 0; br && i < br->n_controller; i++) {
        sset_add(&have, br->controller[i]->target);
        backoff_ok = backoff_ok && (br->controller[i]->n_max_backoff
                                    && *br->controller[i]->max_backoff
                                       == CONTROLLER_MAX_BACKOFF_MS);
    }
    same = (br && br->n_controller == sset_count(&bs->controllers)
            && sset_equals(&have, &bs->controllers) && backoff_ok);
    sset_destroy(&have);

    if (!same && txn) {
        size_t n = sset_count(&bs->controllers), i = 0;
        struct ovsrec_controller **ctrls = xmalloc((n ? n : 1)
                                                   * sizeof *ctrls);
        const char *target;

        SSET_FOR_EACH (target, &bs->controllers) {
            struct ovsrec_controller *c = NULL;

            for (size_t j = 0; j < br->n_controller; j++) {
                if (!strcmp(br->controller[j]->target, target)) {
                    c = br->controller[j];
                    break;
                }
            }
            if (!c) {
                c = ovsrec_controller_insert(txn);
                ovsrec_controller_set_target(c, target);
            }
            /* Reconnect to a restarted tetherd within a second (Open
             * vSwitch's minimum) instead of backing off to 8 s: until the
             * bridge is back, moves cannot reach it. */
            int64_t max_backoff = CONTROLLER_MAX_BACKOFF_MS;
            ovsrec_controller_set_max_backoff(c, &max_backoff, 1);
            ctrls[i++] = c;
        }
        ovsrec_bridge_set_controller(br, ctrls, n);
        free(ctrls);
    }
    return !same;
}

static bool
protocols_match__(const struct ovsrec_bridge *br)
{
    if (br->n_protocols != ARRAY_SIZE(protocols)) {
        return false;
    }
    for (size_t i = 0; i < ARRAY_SIZE(protocols); i++) {
        bool found = false;

        for (size_t j = 0; j < br->n_protocols; j++) {
            found = found || !strcmp(br->protocols[j], protocols[i]);
        }
        if (!found) {
            return false;
        }
    }
    return true;
}

static bool
datapath_type_matches__(const struct bridge_setup *bs,
                        const struct ovsrec_bridge *br)
{
    /* An empty datapath_type means "system". */
    const char *dp = br->datapath_type[0] ? br->datapath_type : "system";
    return !strcmp(dp, bs->datapath_type);
}

/* Compares the whole configuration with the IDL; see the comment above the
 * sync__() helpers. */
static bool
sync__(const struct bridge_setup *bs, struct ovsdb_idl_txn *txn)
{
    const struct ovsrec_open_vswitch *ovs;
    const struct ovsrec_bridge *br;
    bool attached;
    bool changed = false;

    ovs = ovsrec_open_vswitch_first(bs->idl);
    if (!ovs) {
        changed = true;
        if (txn) {
            ovs = ovsrec_open_vswitch_insert(txn);
        }
    }

    br = find_bridge__(bs, ovs, &attached);
    if (!br || !attached) {
        changed = true;
        if (txn) {
            if (!br) {
                struct ovsrec_bridge *new_br = ovsrec_bridge_insert(txn);

                ovsrec_bridge_set_name(new_br, bs->bridge);
                br = new_br;
            }
            /* Two writers must not both add a bridge of this name. */
            ovsrec_open_vswitch_verify_bridges(ovs);
            ovsrec_open_vswitch_update_bridges_addvalue(ovs, br);
        }
    }

    if (!br || !datapath_type_matches__(bs, br)) {
        changed = true;
        if (txn) {
            ovsrec_bridge_set_datapath_type(br, bs->datapath_type);
        }
    }
    if (!br || !br->fail_mode || strcmp(br->fail_mode, "secure")) {
        changed = true;
        if (txn) {
            ovsrec_bridge_set_fail_mode(br, "secure");
        }
    }
    if (!br || !protocols_match__(br)) {
        changed = true;
        if (txn) {
            ovsrec_bridge_set_protocols(br, (const char **) protocols,
                                        ARRAY_SIZE(protocols));
        }
    }
    if (!br || !smap_get_bool(&br->other_config, "disable-in-band", false)) {
        changed = true;
        if (txn) {
            ovsrec_bridge_update_other_config_setkey(br, "disable-in-band",
                                                     "true");
        }
    }
    changed |= sync_controllers__(bs, txn, br);

    /* The bridge's local port, as "ovs-vsctl add-br" creates it. */
    changed |= sync_port__(txn, br, bs->bridge, "internal", NULL);
    if (bs->tunnel_port) {
        changed |= sync_port__(txn, br, bs->tunnel_port, bs->tunnel_type,
                               &bs->tunnel_options);
    }
    if (bs->relay_port) {
        /* On the dummy datapath an "internal" port would be a dummy one
         * without a stream: give it the stream the relay connects to. */
        bool dummy = !strcmp(bs->datapath_type, "dummy");
        changed |= sync_port__(txn, br, bs->relay_port,
                               dummy ? "dummy" : "internal",
                               dummy ? &bs->relay_options : NULL);
    }
    return changed;
}

/* Finishes the transaction in flight, if it is complete. */
static void
finish_txn__(struct bridge_setup *bs)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(bs->txn);

    switch (status) {
    case TXN_INCOMPLETE:
        return;

    case TXN_SUCCESS:
        bs->n_commits++;
        VLOG_INFO_RL(&rl, "%s: set up", bs->bridge);
        /* The IDL already shows the change; the comparison at the next IDL
         * change (this one) confirms it. */
        bs->state = BRIDGE_SETUP_IN_SYNC;
        break;

    case TXN_UNCHANGED:
        bs->state = BRIDGE_SETUP_IN_SYNC;
        break;

    case TXN_TRY_AGAIN:
        VLOG_DBG("%s: transaction must be retried", bs->bridge);
        bs->state = BRIDGE_SETUP_RETRY;
        break;

    case TXN_UNCOMMITTED:
    case TXN_ABORTED:
    case TXN_NOT_LOCKED:
    case TXN_ERROR:
    default:
        VLOG_WARN_RL(&rl, "%s: transaction failed: %s (%s)", bs->bridge,
                     ovsdb_idl_txn_status_to_string(status),
                     ovsdb_idl_txn_get_error(bs->txn));
        bs->state = BRIDGE_SETUP_RETRY;
        break;
    }
    ovsdb_idl_txn_destroy(bs->txn);
    bs->txn = NULL;
}

void
bridge_setup_run(struct bridge_setup *bs)
{
    if (bs->txn) {
        finish_txn__(bs);
        if (bs->txn) {
            return;
        }
    }

    unsigned int seqno = ovsdb_idl_get_seqno(bs->idl);
    if (seqno == bs->checked_seqno || !ovsdb_idl_has_ever_connected(bs->idl)) {
        return;
    }
    bs->checked_seqno = seqno;
    COVERAGE_INC(bridge_setup_check);

    if (!sync__(bs, NULL)) {
        bs->state = BRIDGE_SETUP_IN_SYNC;
        return;
    }

    /* Whoever else writes the database decides how often this happens. */
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    VLOG_INFO_RL(&rl, "%s: database differs from the configuration, "
                 "updating", bs->bridge);
    COVERAGE_INC(bridge_setup_commit);
    bs->txn = ovsdb_idl_txn_create(bs->idl);
    ovsdb_idl_txn_add_comment(bs->txn, "tether: set up bridge %s",
                              bs->bridge);
    sync__(bs, bs->txn);
    bs->state = BRIDGE_SETUP_COMMITTING;
    finish_txn__(bs);
}

void
bridge_setup_wait(struct bridge_setup *bs)
{
    if (bs->txn) {
        ovsdb_idl_txn_wait(bs->txn);
    }
}

enum bridge_setup_state
bridge_setup_get_state(const struct bridge_setup *bs)
{
    return bs->state;
}

unsigned int
bridge_setup_n_commits(const struct bridge_setup *bs)
{
    return bs->n_commits;
}
