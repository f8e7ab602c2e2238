/* The ENI store's database side: conversion between the in-memory objects
 * and the Tether OVSDB database's rows (controller/tether.ovsschema), the
 * initial load, and the ovsdb-idl transactions that write API ops and
 * dirty bindings and hosts (eni_store_run() and eni_store_wait()).
 *
 * One transaction is in flight at a time, either an API batch or a
 * background batch (bindings and hosts), alternating when both have work.
 * An API batch holds consecutive queued ops with distinct ENI ids (a
 * security group op always goes alone), so each op's checks against memory
 * hold until its batch commits; memory changes only then.  Every object in
 * memory knows its row's UUID, and the store chooses the UUID of each row
 * it inserts, so finding a row is a hash lookup and a retry after a
 * reconnect is idempotent: an insert whose row is there has committed.  A
 * batch that fails with a database error is retried op by op, so only the
 * offending op fails. */
#include <config.h>

#include "controller/eni-store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "controller/eni-store-private.h"
#include "controller/tether-idl.h"
#include "coverage.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"
#include "uuid.h"

VLOG_DEFINE_THIS_MODULE(eni_store);

COVERAGE_DEFINE(eni_store_txn);
COVERAGE_DEFINE(eni_store_retry);

/* Larger transactions measured slower here (ovsdb-server's cost per
 * operation grows with the transaction's size). */
#define API_BATCH_MAX 128       /* ops per API transaction */
#define BG_BATCH_MAX 256        /* rows per background transaction */
#define BG_ERROR_BACKOFF_MS 1000

/* --- Conversion from database rows -------------------------------------- */

/* The database spells states and phases as eni.c does. */
static enum eni_state
state_from_string__(const char *s)
{
    for (int i = ENI_DETACHED; i <= ENI_MIGRATING; i++) {
        if (!strcmp(s, eni_state_to_string(i))) {
            return i;
        }
    }
    return ENI_DETACHED;
}

static enum eni_migration_phase
phase_from_string__(const char *s)
{
    for (int i = ENI_MIG_NONE; i <= ENI_MIG_ACTIVATED; i++) {
        if (!strcmp(s, eni_migration_phase_to_string(i))) {
            return i;
        }
    }
    return ENI_MIG_NONE;
}

static char **
strings_from_row__(char **a, size_t n)
{
    char **d = n ? xmalloc(n * sizeof *d) : NULL;
    for (size_t i = 0; i < n; i++) {
        d[i] = xstrdup(a[i]);
    }
    return d;
}

static struct eni *
eni_from_row__(const struct tetherrec_eni *r)
{
    struct eni *e = xzalloc(sizeof *e);

    e->id = xstrdup(r->id);
    e->key = r->eni_key;
    e->mac = xstrdup(r->mac);
    e->primary_ipv4 = nullable_xstrdup(r->primary_ipv4);
    e->secondary_ipv4s = strings_from_row__(r->secondary_ipv4s,
                                            r->n_secondary_ipv4s);
    e->n_secondary_ipv4s = r->n_secondary_ipv4s;
    e->ipv6s = strings_from_row__(r->ipv6s, r->n_ipv6s);
    e->n_ipv6s = r->n_ipv6s;
    e->vni = r->vni;
    e->security_groups = strings_from_row__(r->security_groups,
                                            r->n_security_groups);
    e->n_security_groups = r->n_security_groups;
    e->source_dest_check = r->source_dest_check;
    e->description = nullable_xstrdup(r->description);
    e->vm_uuid = nullable_xstrdup(r->vm_uuid);
    e->cpu = nullable_xstrdup(r->cpu);
    e->state = state_from_string__(r->state);
    e->host = nullable_xstrdup(r->host);
    e->ofport = r->ofport;
    e->epoch = r->epoch;
    e->phase = phase_from_string__(r->phase);
    e->dest_host = nullable_xstrdup(r->dest_host);
    e->dest_ofport = r->dest_ofport;
    e->created = r->created;
    e->updated = r->updated;
    return e;
}

static struct security_group *
sg_from_row__(const struct tetherrec_security_group *r)
{
    struct security_group *sg = xzalloc(sizeof *sg);

    sg->id = xstrdup(r->id);
    sg->name = nullable_xstrdup(r->name);
    sg->description = nullable_xstrdup(r->description);
    sg->rules = r->n_rules ? xcalloc(r->n_rules, sizeof *sg->rules) : NULL;
    for (size_t i = 0; i < r->n_rules; i++) {
        const struct tetherrec_sg_rule *rr = r->rules[i];
        struct sg_rule *rule = &sg->rules[sg->n_rules++];

        rule->direction = (strcmp(rr->direction, "egress")
                           ? SG_INGRESS : SG_EGRESS);
        rule->ethertype = strcmp(rr->ethertype, "ipv6") ? SG_IPV4 : SG_IPV6;
        rule->protocol = rr->protocol;
        rule->port_min = rr->port_min;
        rule->port_max = rr->port_max;
        rule->remote_cidr = nullable_xstrdup(rr->remote_cidr);
        rule->remote_group = nullable_xstrdup(rr->remote_group);
    }
    if (sg->n_rules > 1) {
        qsort(sg->rules, sg->n_rules, sizeof *sg->rules, compare_rules__);
    }
    return sg;
}

/* Loads the database's contents into memory, and tells the observer about
 * every group and ENI. */
static void
load__(struct eni_store *s)
{
    const struct tetherrec_tether *t = tetherrec_tether_first(s->idl);
    s->next_key = MAX(s->next_key, t ? t->next_eni_key : 1);

    const struct tetherrec_security_group *sgr;
    TETHERREC_SECURITY_GROUP_FOR_EACH (sgr, s->idl) {
        put_sg__(s, sg_from_row__(sgr), &sgr->header_.uuid, false);
    }
    const struct tetherrec_eni *er;
    TETHERREC_ENI_FOR_EACH (er, s->idl) {
        insert_eni__(s, eni_from_row__(er), &er->header_.uuid);
        s->next_key = MAX(s->next_key, (uint64_t) er->eni_key + 1);
    }
    const struct tetherrec_host *hr;
    TETHERREC_HOST_FOR_EACH (hr, s->idl) {
        struct stored_host *sh = find_host__(s, hr->id);
        if (sh) {
            sh->uuid = hr->header_.uuid;    /* put_host() before: keep it */
        } else {
            sh = xzalloc(sizeof *sh);
            sh->uuid = hr->header_.uuid;
            struct eni_store_host h = {
                .id = hr->id, .hypervisor = hr->hypervisor,
                .tunnel_ip = hr->tunnel_ip, .tunnel_type = hr->tunnel_type,
                .bridge = hr->bridge, .connected = hr->connected,
                .last_heard = hr->last_heard,
            };
            set_host__(&sh->h, &h);
            hmap_insert(&s->hosts, &sh->node, hash_string(hr->id, 0));
        }
    }
    VLOG_INFO("loaded %"PRIuSIZE" ENIs, %"PRIuSIZE" security groups, "
              "%"PRIuSIZE" hosts; next ENI key %"PRIu64,
              hmap_count(&s->enis_by_id), hmap_count(&s->sgs),
              hmap_count(&s->hosts), s->next_key);

    struct stored_sg *ss;
    HMAP_FOR_EACH (ss, node, &s->sgs) {
        notify_sg__(s, NULL, ss->sg);
    }
    struct stored_eni *se;
    HMAP_FOR_EACH (se, id_node, &s->enis_by_id) {
        notify_eni__(s, NULL, se->eni);
    }
}

/* --- Writing rows -------------------------------------------------------- */

/* 'has_cpu': the server's schema has ENI.cpu (1.2.0 on; an older
 * database, not yet converted, has not). */
static void
write_eni_api__(const struct tetherrec_eni *row, const struct eni *e,
                bool has_cpu)
{
    tetherrec_eni_set_mac(row, e->mac);
    tetherrec_eni_set_primary_ipv4(row, e->primary_ipv4);
    tetherrec_eni_set_secondary_ipv4s(row, (const char **) e->secondary_ipv4s,
                                      e->n_secondary_ipv4s);
    tetherrec_eni_set_ipv6s(row, (const char **) e->ipv6s, e->n_ipv6s);
    tetherrec_eni_set_vni(row, e->vni);
    tetherrec_eni_set_security_groups(row, (const char **) e->security_groups,
                                      e->n_security_groups);
    tetherrec_eni_set_source_dest_check(row, e->source_dest_check);
    tetherrec_eni_set_description(row, e->description);
    tetherrec_eni_set_vm_uuid(row, e->vm_uuid);
    if (has_cpu) {
        tetherrec_eni_set_cpu(row, e->cpu);
    }
    tetherrec_eni_set_updated(row, e->updated);
}

static void
write_eni_binding__(const struct tetherrec_eni *row, const struct eni *e)
{
    tetherrec_eni_set_state(row, eni_state_to_string(e->state));
    tetherrec_eni_set_host(row, e->host);
    tetherrec_eni_set_ofport(row, e->ofport);
    tetherrec_eni_set_epoch(row, e->epoch);
    tetherrec_eni_set_phase(row, eni_migration_phase_to_string(e->phase));
    tetherrec_eni_set_dest_host(row, e->dest_host);
    tetherrec_eni_set_dest_ofport(row, e->dest_ofport);
    tetherrec_eni_set_updated(row, e->updated);
}

static void
write_sg__(struct ovsdb_idl_txn *txn,
           const struct tetherrec_security_group *row,
           const struct security_group *sg)
{
    struct tetherrec_sg_rule **rules = xcalloc(sg->n_rules + 1,
                                               sizeof *rules);
    for (size_t i = 0; i < sg->n_rules; i++) {
        const struct sg_rule *r = &sg->rules[i];
        struct tetherrec_sg_rule *rr = tetherrec_sg_rule_insert(txn);

        tetherrec_sg_rule_set_direction(rr, r->direction == SG_EGRESS
                                            ? "egress" : "ingress");
        tetherrec_sg_rule_set_ethertype(rr, r->ethertype == SG_IPV6
                                            ? "ipv6" : "ipv4");
        tetherrec_sg_rule_set_protocol(rr, r->protocol);
        tetherrec_sg_rule_set_port_min(rr, r->port_min);
        tetherrec_sg_rule_set_port_max(rr, r->port_max);
        tetherrec_sg_rule_set_remote_cidr(rr, r->remote_cidr);
        tetherrec_sg_rule_set_remote_group(rr, r->remote_group);
        rules[i] = rr;
    }
    tetherrec_security_group_set_name(row, sg->name);
    tetherrec_security_group_set_description(row, sg->description);
    /* The old rules are not roots: the database drops them. */
    tetherrec_security_group_set_rules(row, rules, sg->n_rules);
    free(rules);
}

/* --- API ops in transactions -------------------------------------------- */

/* Adds 'op' to 'txn'.  Returns 0, or an errno value and a message in
 * '*msgp' (having added nothing).  Rows are found by id, so writing an op
 * again after a reconnect is harmless. */
static int
write_op__(struct eni_store *s, struct ovsdb_idl_txn *txn,
           struct store_op *op, char **msgp)
{
    const struct stored_eni *se = find_eni__(s, op->id);
    const struct stored_sg *ss = find_sg__(s, op->id);
    const struct tetherrec_eni *er;
    const struct tetherrec_security_group *sgr;
    long long int now = time_wall_msec();
    bool has_cpu = tetherrec_server_has_eni_table_col_cpu(s->idl);

    if (op->eni && op->eni->cpu && !has_cpu) {
        *msgp = msg__("ENI %s: this database cannot keep CPU definitions "
                      "(schema older than 1.2.0: convert it, e.g. with "
                      "scripts/tether-db.sh start)", op->id);
        return EINVAL;
    }
    switch (op->type) {
    case OP_CREATE_ENI:
        if (!op->eni->key) {
            op->eni->key = s->next_key++;
            uuid_generate(&op->uuid);
        }
        if (!tetherrec_eni_get_for_uuid(s->idl, &op->uuid)) {
            struct tetherrec_eni *new
                = tetherrec_eni_insert_persist_uuid(txn, &op->uuid);
            op->eni->created = op->eni->updated = now;
            tetherrec_eni_set_id(new, op->id);
            tetherrec_eni_set_eni_key(new, op->eni->key);
            tetherrec_eni_set_created(new, op->eni->created);
            write_eni_api__(new, op->eni, has_cpu);
            write_eni_binding__(new, op->eni);
        }                       /* else it committed before a reconnect */
        return 0;

    case OP_UPDATE_ENI:
    case OP_DELETE_ENI:
        er = tetherrec_eni_get_for_uuid(s->idl, &se->uuid);
        if (!er && op->type == OP_UPDATE_ENI) {
            *msgp = msg__("ENI %s is not in the database", op->id);
            return ENOENT;
        } else if (!er) {
            /* Already gone: deleted before a reconnect. */
        } else if (op->type == OP_UPDATE_ENI) {
            op->eni->updated = now;
            write_eni_api__(er, op->eni, has_cpu);
        } else {
            tetherrec_eni_delete(er);
        }
        return 0;

    case OP_PUT_SG:
        if (ss) {
            op->uuid = ss->uuid;
        } else if (uuid_is_zero(&op->uuid)) {
            uuid_generate(&op->uuid);
        }
        sgr = tetherrec_security_group_get_for_uuid(s->idl, &op->uuid);
        if (!sgr) {
            struct tetherrec_security_group *new
                = tetherrec_security_group_insert_persist_uuid(txn,
                                                               &op->uuid);
            tetherrec_security_group_set_id(new, op->id);
            sgr = new;
        }
        write_sg__(txn, sgr, op->sg);
        return 0;

    case OP_DELETE_SG:
        sgr = tetherrec_security_group_get_for_uuid(s->idl, &ss->uuid);
        if (sgr) {
            tetherrec_security_group_delete(sgr);
        }
        return 0;
    }
    OVS_NOT_REACHED();
}

static void
finish_op__(struct eni_store *s, struct store_op *op, int error, char *msg)
{
    op->error = error;
    op->msg = msg;
    s->n_ops--;
    if (error) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
        VLOG_DBG_RL(&rl, "%s: %s", op->id, msg);
    }
    ovs_list_push_back(&s->finished, &op->node);
}

/* --- Transactions -------------------------------------------------------- */

static bool
has_bg_work__(const struct eni_store *s)
{
    return !ovs_list_is_empty(&s->dirty_enis)
           || !ovs_list_is_empty(&s->dirty_hosts);
}

/* Builds an API batch from the head of 'queued' into 'txn'.  Ops that fail
 * their checks finish at once.  Returns the number of ops in the batch. */
static size_t
build_api_batch__(struct eni_store *s, struct ovsdb_idl_txn *txn)
{
    struct sset ids = SSET_INITIALIZER(&ids);
    bool alone = false, creates = false;
    size_t n = 0;

    while (!ovs_list_is_empty(&s->queued) && !alone && n < API_BATCH_MAX) {
        struct store_op *op = CONTAINER_OF(ovs_list_front(&s->queued),
                                           struct store_op, node);
        bool sg_op = op->type == OP_PUT_SG || op->type == OP_DELETE_SG;
        if (n && (sg_op || op->solo || sset_contains(&ids, op->id))) {
            break;
        }
        ovs_list_remove(&op->node);

        char *msg = NULL;
        int error = check_op__(s, op, &msg);
        if (!error) {
            error = write_op__(s, txn, op, &msg);
        }
        if (error) {
            finish_op__(s, op, error, msg);
            continue;
        }
        ovs_list_push_back(&s->batch, &op->node);
        sset_add(&ids, op->id);
        creates |= op->type == OP_CREATE_ENI;
        alone = sg_op || op->solo;
        n++;
    }
    sset_destroy(&ids);

    if (creates) {
        /* Keys handed out are never handed out again, even after a restart
         * (a failed create wastes its key). */
        const struct tetherrec_tether *t = tetherrec_tether_first(s->idl);
        if (!t) {
            t = tetherrec_tether_insert(txn);
        }
        tetherrec_tether_set_next_eni_key(t, s->next_key);
    }
    if (n) {
        ovsdb_idl_txn_add_comment(txn, "tetherd: %"PRIuSIZE" API write%s "
                                  "(first %s)", n, n > 1 ? "s" : "",
                                  CONTAINER_OF(ovs_list_front(&s->batch),
                                               struct store_op, node)->id);
    }
    return n;
}

static void
api_txn_done__(struct eni_store *s, enum ovsdb_idl_txn_status status,
               const char *error)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    struct store_op *op;

    switch (status) {
    case TXN_SUCCESS:
    case TXN_UNCHANGED:
        LIST_FOR_EACH_POP (op, node, &s->batch) {
            apply_op__(s, op);
            finish_op__(s, op, 0, NULL);
        }
        break;

    case TXN_TRY_AGAIN:
        /* Connection lost (or the database changed under a check): send
         * the same ops again once the IDL has the database again. */
        COVERAGE_INC(eni_store_retry);
        ovs_list_splice(s->queued.next, s->batch.next, &s->batch);
        s->gated = true;
        s->gate_seqno = ovsdb_idl_get_seqno(s->idl);
        break;

    case TXN_ERROR:
    case TXN_ABORTED:
    case TXN_NOT_LOCKED:
    case TXN_UNCOMMITTED:
    case TXN_INCOMPLETE:
    default:
        if (ovs_list_size(&s->batch) > 1) {
            /* Find the op the database refuses: each alone. */
            LIST_FOR_EACH (op, node, &s->batch) {
                op->solo = true;
            }
            ovs_list_splice(s->queued.next, s->batch.next, &s->batch);
        } else {
            LIST_FOR_EACH_POP (op, node, &s->batch) {
                VLOG_WARN_RL(&rl, "%s: database refused the write (%s): %s",
                             op->id, ovsdb_idl_txn_status_to_string(status),
                             error ? error : "");
                finish_op__(s, op, EIO,
                            msg__("database refused the write: %s",
                                  error ? error : "unknown error"));
            }
        }
        break;
    }
}

/* Writes up to BG_BATCH_MAX dirty bindings and hosts into 'txn'.  Returns
 * the number of rows written. */
static size_t
build_bg_batch__(struct eni_store *s, struct ovsdb_idl_txn *txn)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    size_t n = 0;

    while (!ovs_list_is_empty(&s->dirty_enis) && n < BG_BATCH_MAX) {
        struct stored_eni *se = CONTAINER_OF(
            ovs_list_pop_front(&s->dirty_enis), struct stored_eni,
            dirty_node);
        s->n_dirty--;
        se->dirty = false;

        const struct tetherrec_eni *row
            = tetherrec_eni_get_for_uuid(s->idl, &se->uuid);
        if (!row) {
            VLOG_WARN_RL(&rl, "eni %s: not in the database, binding "
                         "(epoch %"PRIu64") not persisted", se->eni->id,
                         se->eni->epoch);
            continue;
        }
        write_eni_binding__(row, se->eni);
        sset_add(&s->bg_enis, se->eni->id);
        n++;
    }
    while (!ovs_list_is_empty(&s->dirty_hosts) && n < BG_BATCH_MAX) {
        struct stored_host *sh = CONTAINER_OF(
            ovs_list_pop_front(&s->dirty_hosts), struct stored_host,
            dirty_node);
        s->n_dirty--;
        sh->dirty = false;

        const struct tetherrec_host *row
            = tetherrec_host_get_for_uuid(s->idl, &sh->uuid);
        if (!row) {
            struct tetherrec_host *new
                = tetherrec_host_insert_persist_uuid(txn, &sh->uuid);
            tetherrec_host_set_id(new, sh->h.id);
            row = new;
        }
        tetherrec_host_set_hypervisor(row, sh->h.hypervisor);
        tetherrec_host_set_tunnel_ip(row, sh->h.tunnel_ip);
        tetherrec_host_set_tunnel_type(row, sh->h.tunnel_type);
        tetherrec_host_set_bridge(row, sh->h.bridge);
        tetherrec_host_set_connected(row, sh->h.connected);
        tetherrec_host_set_last_heard(row, sh->h.last_heard);
        sset_add(&s->bg_hosts, sh->h.id);
        n++;
    }
    return n;
}

static void
bg_txn_done__(struct eni_store *s, enum ovsdb_idl_txn_status status,
              const char *error)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

    if (status != TXN_SUCCESS && status != TXN_UNCHANGED) {
        /* Write them again, unless they are dirty again already (or gone). */
        const char *id;
        SSET_FOR_EACH (id, &s->bg_enis) {
            struct stored_eni *se = find_eni__(s, id);
            if (se) {
                mark_eni_dirty__(s, se);
            }
        }
        SSET_FOR_EACH (id, &s->bg_hosts) {
            struct stored_host *sh = find_host__(s, id);
            if (sh) {
                mark_host_dirty__(s, sh);
            }
        }
        COVERAGE_INC(eni_store_retry);
        if (status == TXN_TRY_AGAIN) {
            s->gated = true;
            s->gate_seqno = ovsdb_idl_get_seqno(s->idl);
        } else {
            VLOG_WARN_RL(&rl, "background write of %"PRIuSIZE" bindings and "
                         "%"PRIuSIZE" hosts failed (%s): %s; retrying",
                         sset_count(&s->bg_enis), sset_count(&s->bg_hosts),
                         ovsdb_idl_txn_status_to_string(status),
                         error ? error : "");
            s->bg_retry_at = time_msec() + BG_ERROR_BACKOFF_MS;
        }
    }
    sset_clear(&s->bg_enis);
    sset_clear(&s->bg_hosts);
}

static void
txn_done__(struct eni_store *s, enum ovsdb_idl_txn_status status)
{
    const char *error = ovsdb_idl_txn_get_error(s->txn);

    if (s->txn_kind == TXN_API) {
        api_txn_done__(s, status, error);
    } else {
        bg_txn_done__(s, status, error);
    }
    ovsdb_idl_txn_destroy(s->txn);
    s->txn = NULL;
    s->txn_kind = TXN_NONE;
}

/* Starts the next transaction, if there is work and no transaction in
 * flight.  API batches and background batches take turns. */
static void
start_txn__(struct eni_store *s)
{
    if (s->gated && ovsdb_idl_get_seqno(s->idl) == s->gate_seqno) {
        return;
    }
    s->gated = false;

    bool bg = (has_bg_work__(s)
               && (!s->bg_retry_at || time_msec() >= s->bg_retry_at));
    bool api = !ovs_list_is_empty(&s->queued);
    if (!bg && !api) {
        return;
    }

    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(s->idl);
    size_t n = 0;
    if (api && (!bg || s->last_kind != TXN_API)) {
        n = build_api_batch__(s, txn);
        s->txn_kind = TXN_API;
    }
    if (!n && bg) {
        s->bg_retry_at = 0;
        n = build_bg_batch__(s, txn);
        s->txn_kind = TXN_BACKGROUND;
    }
    if (!n) {
        ovsdb_idl_txn_destroy(txn);
        s->txn_kind = TXN_NONE;
        return;
    }

    COVERAGE_INC(eni_store_txn);
    s->txn = txn;
    s->last_kind = s->txn_kind;
    enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(txn);
    if (status != TXN_INCOMPLETE) {
        txn_done__(s, status);
    }
}

/* Calls the callbacks of finished ops.  They may queue more. */
static void
deliver__(struct eni_store *s)
{
    struct ovs_list finished;

    ovs_list_move(&finished, &s->finished);
    ovs_list_init(&s->finished);

    struct store_op *op;
    LIST_FOR_EACH_POP (op, node, &finished) {
        if (op->done) {
            op->done(op->error, op->msg, op->aux);
        }
        op_destroy__(op);
    }
}

void
eni_store_run(struct eni_store *s)
{
    ovsdb_idl_run(s->idl);
    if (!s->ready && ovsdb_idl_has_ever_connected(s->idl)) {
        s->ready = true;
        load__(s);
    }
    if (s->txn) {
        enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(s->txn);
        if (status != TXN_INCOMPLETE) {
            txn_done__(s, status);
        }
    }
    if (!s->txn && s->ready) {
        start_txn__(s);
    }
    deliver__(s);
}

void
eni_store_wait(struct eni_store *s)
{
    ovsdb_idl_wait(s->idl);
    if (s->txn) {
        ovsdb_idl_txn_wait(s->txn);
    }
    if (!ovs_list_is_empty(&s->finished)) {
        poll_immediate_wake();
    } else if (!s->txn && s->ready
               && !(s->gated
                    && ovsdb_idl_get_seqno(s->idl) == s->gate_seqno)) {
        if (!ovs_list_is_empty(&s->queued)) {
            poll_immediate_wake();
        } else if (has_bg_work__(s)) {
            poll_timer_wait_until(s->bg_retry_at);
        }
    }
}

bool
eni_store_is_ready(const struct eni_store *s)
{
    return s->ready;
}

bool
eni_store_is_connected(const struct eni_store *s)
{
    return ovsdb_idl_is_connected(s->idl);
}

unsigned int
eni_store_n_pending(const struct eni_store *s)
{
    return (s->n_ops + s->n_dirty
            + sset_count(&s->bg_enis) + sset_count(&s->bg_hosts));
}
