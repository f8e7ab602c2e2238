/* tetherd's durable store: the authoritative in-memory copy of ENIs,
 * security groups and hosts, written through to the Tether OVSDB database
 * with ovsdb-idl transactions (see eni-store.h for the contract).
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
 * offending op fails.
 *
 * Sets are kept sorted and without duplicates (ENI address and group sets,
 * a group's rules), as the database keeps them, so memory and database
 * compare equal. */
#include <config.h>

#include "controller/eni-store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "controller/tether-idl.h"
#include "coverage.h"
#include "hash.h"
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

struct stored_eni {
    struct hmap_node id_node;   /* in 'enis_by_id' */
    struct hmap_node key_node;  /* in 'enis_by_key' */
    struct ovs_list dirty_node; /* in 'dirty_enis' iff 'dirty' */
    bool dirty;                 /* binding not yet written */
    struct uuid uuid;           /* its row's */
    struct eni *eni;
};

struct stored_sg {
    struct hmap_node node;      /* in 'sgs', by id */
    struct uuid uuid;           /* its row's */
    struct security_group *sg;
};

/* How many ENIs and rules of other groups name security group 'id',
 * whether or not it exists. */
struct sg_ref {
    struct hmap_node node;      /* in 'sg_refs' */
    char *id;
    unsigned int n;
};

struct stored_host {
    struct hmap_node node;      /* in 'hosts' */
    struct ovs_list dirty_node; /* in 'dirty_hosts' iff 'dirty' */
    bool dirty;
    struct uuid uuid;           /* its row's (inserted with it if new) */
    struct eni_store_host h;    /* strings owned */
};

enum op_type {
    OP_CREATE_ENI, OP_UPDATE_ENI, OP_DELETE_ENI, OP_PUT_SG, OP_DELETE_SG,
};

/* An API write, from the call to its 'done' callback. */
struct store_op {
    struct ovs_list node;       /* in 'queued', 'batch' or 'finished' */
    enum op_type type;
    char *id;                   /* the ENI's or group's id */
    struct eni *eni;            /* OP_CREATE_ENI, OP_UPDATE_ENI */
    struct security_group *sg;  /* OP_PUT_SG */
    struct uuid uuid;           /* its row's (chosen when inserted) */
    bool solo;                  /* goes alone in its transaction */
    int error;                  /* result, once in 'finished' */
    char *msg;
    eni_store_done_func *done;
    void *aux;
};

enum txn_kind { TXN_NONE, TXN_API, TXN_BACKGROUND };

struct eni_store {
    struct ovsdb_idl *idl;
    struct eni_store_observer observer;
    bool ready;                 /* contents loaded */

    struct hmap enis_by_id, enis_by_key, sgs, sg_refs, hosts;
    uint64_t next_key;          /* next ENI key to hand out */

    struct ovs_list queued;     /* struct store_op, not yet sent */
    struct ovs_list batch;      /* struct store_op in 'txn' (TXN_API) */
    struct ovs_list finished;   /* struct store_op, callback due */

    struct ovs_list dirty_enis;     /* struct stored_eni */
    struct ovs_list dirty_hosts;    /* struct stored_host */
    size_t n_ops;                   /* ops in 'queued' and 'batch' */
    size_t n_dirty;                 /* in 'dirty_enis' and 'dirty_hosts' */
    struct sset bg_enis, bg_hosts;  /* ids written by 'txn' (background) */

    struct ovsdb_idl_txn *txn;      /* in flight, or NULL */
    enum txn_kind txn_kind, last_kind;
    bool gated;                 /* after TRY_AGAIN: wait for 'gate_seqno' */
    unsigned int gate_seqno;    /*   to change (a reconnect reloads) */
    long long int bg_retry_at;  /* after a background error, else 0 */
};

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

/* --- Canonical forms and conversion from database rows ------------------- */

static int
compare_strings__(const void *a_, const void *b_)
{
    return strcmp(*(char *const *) a_, *(char *const *) b_);
}

/* Sorts the string set 'a' of '*n' strings and drops duplicates, as the
 * database stores a set. */
static void
canonicalize_set__(char **a, size_t *n)
{
    if (*n < 2) {
        return;
    }
    qsort(a, *n, sizeof *a, compare_strings__);
    size_t j = 1;
    for (size_t i = 1; i < *n; i++) {
        if (strcmp(a[i], a[j - 1])) {
            a[j++] = a[i];
        } else {
            free(a[i]);
        }
    }
    *n = j;
}

static int
compare_rules__(const void *a_, const void *b_)
{
    const struct sg_rule *a = a_, *b = b_;
    int c;

#define CMP(X) if (a->X != b->X) { return a->X < b->X ? -1 : 1; }
    CMP(direction) CMP(ethertype) CMP(protocol) CMP(port_min) CMP(port_max)
#undef CMP
    c = strcmp(a->remote_cidr ? a->remote_cidr : "",
               b->remote_cidr ? b->remote_cidr : "");
    return c ? c : strcmp(a->remote_group ? a->remote_group : "",
                          b->remote_group ? b->remote_group : "");
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

/* --- The in-memory copy -------------------------------------------------- */

static struct stored_eni *
find_eni__(const struct eni_store *s, const char *id)
{
    struct stored_eni *se;
    HMAP_FOR_EACH_WITH_HASH (se, id_node, hash_string(id, 0),
                             &s->enis_by_id) {
        if (!strcmp(se->eni->id, id)) {
            return se;
        }
    }
    return NULL;
}

static struct stored_sg *
find_sg__(const struct eni_store *s, const char *id)
{
    struct stored_sg *ss;
    HMAP_FOR_EACH_WITH_HASH (ss, node, hash_string(id, 0), &s->sgs) {
        if (!strcmp(ss->sg->id, id)) {
            return ss;
        }
    }
    return NULL;
}

static struct stored_host *
find_host__(const struct eni_store *s, const char *id)
{
    struct stored_host *sh;
    HMAP_FOR_EACH_WITH_HASH (sh, node, hash_string(id, 0), &s->hosts) {
        if (!strcmp(sh->h.id, id)) {
            return sh;
        }
    }
    return NULL;
}

static struct sg_ref *
find_ref__(const struct eni_store *s, const char *id)
{
    struct sg_ref *ref;
    HMAP_FOR_EACH_WITH_HASH (ref, node, hash_string(id, 0), &s->sg_refs) {
        if (!strcmp(ref->id, id)) {
            return ref;
        }
    }
    return NULL;
}

static unsigned int
n_refs__(const struct eni_store *s, const char *id)
{
    const struct sg_ref *ref = find_ref__(s, id);
    return ref ? ref->n : 0;
}

/* Adds 'delta' (+1 or -1) to the references to group 'id'. */
static void
ref__(struct eni_store *s, const char *id, int delta)
{
    struct sg_ref *ref = find_ref__(s, id);
    if (!ref) {
        ref = xzalloc(sizeof *ref);
        ref->id = xstrdup(id);
        hmap_insert(&s->sg_refs, &ref->node, hash_string(id, 0));
    }
    ref->n += delta;
    if (!ref->n) {
        hmap_remove(&s->sg_refs, &ref->node);
        free(ref->id);
        free(ref);
    }
}

static void
eni_refs__(struct eni_store *s, const struct eni *e, int delta)
{
    for (size_t i = 0; e && i < e->n_security_groups; i++) {
        ref__(s, e->security_groups[i], delta);
    }
}

static void
sg_refs__(struct eni_store *s, const struct security_group *sg, int delta)
{
    for (size_t i = 0; sg && i < sg->n_rules; i++) {
        const char *g = sg->rules[i].remote_group;
        if (g && strcmp(g, sg->id)) {
            ref__(s, g, delta);
        }
    }
}

static void
notify_eni__(const struct eni_store *s, const struct eni *old,
             const struct eni *new)
{
    if (s->observer.eni_changed) {
        s->observer.eni_changed(old, new, s->observer.aux);
    }
}

static void
notify_sg__(const struct eni_store *s, const struct security_group *old,
            const struct security_group *new)
{
    if (s->observer.sg_changed) {
        s->observer.sg_changed(old, new, s->observer.aux);
    }
}

/* Takes ownership of 'e'. */
static struct stored_eni *
insert_eni__(struct eni_store *s, struct eni *e, const struct uuid *uuid)
{
    struct stored_eni *se = xzalloc(sizeof *se);
    se->eni = e;
    se->uuid = *uuid;
    hmap_insert(&s->enis_by_id, &se->id_node, hash_string(e->id, 0));
    hmap_insert(&s->enis_by_key, &se->key_node, hash_uint64(e->key));
    eni_refs__(s, e, 1);
    return se;
}

static void
mark_eni_dirty__(struct eni_store *s, struct stored_eni *se)
{
    if (!se->dirty) {
        se->dirty = true;
        ovs_list_push_back(&s->dirty_enis, &se->dirty_node);
        s->n_dirty++;
    }
}

static void
mark_host_dirty__(struct eni_store *s, struct stored_host *sh)
{
    if (!sh->dirty) {
        sh->dirty = true;
        ovs_list_push_back(&s->dirty_hosts, &sh->dirty_node);
        s->n_dirty++;
    }
}

/* Replaces 'se''s ENI by 'new' (taking ownership), tells the observer and
 * frees the old version. */
static void
replace_eni__(struct eni_store *s, struct stored_eni *se, struct eni *new)
{
    struct eni *old = se->eni;
    eni_refs__(s, old, -1);
    eni_refs__(s, new, 1);
    se->eni = new;
    notify_eni__(s, old, new);
    eni_destroy(old);
}

static void
remove_eni__(struct eni_store *s, struct stored_eni *se)
{
    hmap_remove(&s->enis_by_id, &se->id_node);
    hmap_remove(&s->enis_by_key, &se->key_node);
    if (se->dirty) {
        ovs_list_remove(&se->dirty_node);
        s->n_dirty--;
    }
    eni_refs__(s, se->eni, -1);
    notify_eni__(s, se->eni, NULL);
    eni_destroy(se->eni);
    free(se);
}

/* Puts 'sg' in memory (taking ownership), replacing any group with its
 * id. */
static void
put_sg__(struct eni_store *s, struct security_group *sg,
         const struct uuid *uuid, bool notify)
{
    struct stored_sg *ss = find_sg__(s, sg->id);
    struct security_group *old = NULL;

    if (ss) {
        old = ss->sg;
        sg_refs__(s, old, -1);
    } else {
        ss = xzalloc(sizeof *ss);
        hmap_insert(&s->sgs, &ss->node, hash_string(sg->id, 0));
    }
    ss->sg = sg;
    ss->uuid = *uuid;
    sg_refs__(s, sg, 1);
    if (notify) {
        notify_sg__(s, old, sg);
    }
    security_group_destroy(old);
}

static void
remove_sg__(struct eni_store *s, struct stored_sg *ss)
{
    hmap_remove(&s->sgs, &ss->node);
    sg_refs__(s, ss->sg, -1);
    notify_sg__(s, ss->sg, NULL);
    security_group_destroy(ss->sg);
    free(ss);
}

static void
set_host__(struct eni_store_host *dst, const struct eni_store_host *src)
{
    free((char *) dst->id);
    free((char *) dst->hypervisor);
    free((char *) dst->tunnel_ip);
    free((char *) dst->tunnel_type);
    free((char *) dst->bridge);
    if (!src) {
        return;
    }
    dst->id = xstrdup(src->id);
    dst->hypervisor = xstrdup(src->hypervisor ? src->hypervisor : "");
    dst->tunnel_ip = xstrdup(src->tunnel_ip ? src->tunnel_ip : "");
    dst->tunnel_type = xstrdup(src->tunnel_type ? src->tunnel_type : "");
    dst->bridge = xstrdup(src->bridge ? src->bridge : "");
    dst->connected = src->connected;
    dst->last_heard = src->last_heard;
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

/* --- Life cycle ---------------------------------------------------------- */

struct eni_store *
eni_store_create(const char *db_remote,
                 const struct eni_store_observer *observer)
{
    struct eni_store *s = xzalloc(sizeof *s);

    s->idl = ovsdb_idl_create(db_remote, &tetherrec_idl_class, true, true);
    if (observer) {
        s->observer = *observer;
    }
    hmap_init(&s->enis_by_id);
    hmap_init(&s->enis_by_key);
    hmap_init(&s->sgs);
    hmap_init(&s->sg_refs);
    hmap_init(&s->hosts);
    s->next_key = 1;
    ovs_list_init(&s->queued);
    ovs_list_init(&s->batch);
    ovs_list_init(&s->finished);
    ovs_list_init(&s->dirty_enis);
    ovs_list_init(&s->dirty_hosts);
    sset_init(&s->bg_enis);
    sset_init(&s->bg_hosts);
    return s;
}

static void
op_destroy__(struct store_op *op)
{
    free(op->id);
    eni_destroy(op->eni);
    security_group_destroy(op->sg);
    free(op->msg);
    free(op);
}

/* Pending writes are dropped and their callbacks never called. */
void
eni_store_destroy(struct eni_store *s)
{
    if (!s) {
        return;
    }
    if (s->txn) {
        ovsdb_idl_txn_destroy(s->txn);
    }
    ovsdb_idl_destroy(s->idl);

    struct ovs_list *lists[] = { &s->queued, &s->batch, &s->finished };
    for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
        struct store_op *op;
        LIST_FOR_EACH_POP (op, node, lists[i]) {
            op_destroy__(op);
        }
    }
    struct stored_eni *se;
    HMAP_FOR_EACH_POP (se, id_node, &s->enis_by_id) {
        eni_destroy(se->eni);
        free(se);
    }
    struct stored_sg *ss;
    HMAP_FOR_EACH_POP (ss, node, &s->sgs) {
        security_group_destroy(ss->sg);
        free(ss);
    }
    struct sg_ref *ref;
    HMAP_FOR_EACH_POP (ref, node, &s->sg_refs) {
        free(ref->id);
        free(ref);
    }
    struct stored_host *sh;
    HMAP_FOR_EACH_POP (sh, node, &s->hosts) {
        set_host__(&sh->h, NULL);
        free(sh);
    }
    hmap_destroy(&s->enis_by_id);
    hmap_destroy(&s->enis_by_key);
    hmap_destroy(&s->sgs);
    hmap_destroy(&s->sg_refs);
    hmap_destroy(&s->hosts);
    sset_destroy(&s->bg_enis);
    sset_destroy(&s->bg_hosts);
    free(s);
}


/* --- Writing rows -------------------------------------------------------- */

static void
write_eni_api__(const struct tetherrec_eni *row, const struct eni *e)
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

/* --- API ops ------------------------------------------------------------- */

static char * OVS_PRINTF_FORMAT(1, 2)
msg__(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    char *s = xvasprintf(fmt, args);
    va_end(args);
    return s;
}

/* Checks 'op' against memory.  Returns 0, or an errno value and a message
 * in '*msgp'. */
static int
check_op__(const struct eni_store *s, const struct store_op *op, char **msgp)
{
    const struct stored_eni *se;
    const struct stored_sg *ss;

    switch (op->type) {
    case OP_CREATE_ENI:
    case OP_UPDATE_ENI:
        if ((*msgp = eni_check(op->eni))) {
            return EINVAL;
        }
        se = find_eni__(s, op->id);
        if (op->type == OP_CREATE_ENI && se) {
            *msgp = msg__("ENI %s already exists", op->id);
            return EEXIST;
        } else if (op->type == OP_UPDATE_ENI && !se) {
            *msgp = msg__("no ENI %s", op->id);
            return ENOENT;
        }
        for (size_t i = 0; i < op->eni->n_security_groups; i++) {
            if (!find_sg__(s, op->eni->security_groups[i])) {
                *msgp = msg__("ENI %s: no security group %s", op->id,
                              op->eni->security_groups[i]);
                return ENOENT;
            }
        }
        return 0;

    case OP_DELETE_ENI:
        se = find_eni__(s, op->id);
        if (!se) {
            *msgp = msg__("no ENI %s", op->id);
            return ENOENT;
        } else if (eni_is_wired(se->eni)) {
            *msgp = msg__("ENI %s is %s on host %s", op->id,
                          eni_state_to_string(se->eni->state),
                          se->eni->host ? se->eni->host : "(none)");
            return EBUSY;
        }
        return 0;

    case OP_PUT_SG:
        if ((*msgp = security_group_check(op->sg))) {
            return EINVAL;
        }
        for (size_t i = 0; i < op->sg->n_rules; i++) {
            const char *g = op->sg->rules[i].remote_group;
            if (g && strcmp(g, op->id) && !find_sg__(s, g)) {
                *msgp = msg__("security group %s: rule names unknown "
                              "security group %s", op->id, g);
                return ENOENT;
            }
        }
        return 0;

    case OP_DELETE_SG:
        ss = find_sg__(s, op->id);
        if (!ss) {
            *msgp = msg__("no security group %s", op->id);
            return ENOENT;
        } else if (n_refs__(s, op->id)) {
            *msgp = msg__("security group %s is used by %u ENIs or rules",
                          op->id, n_refs__(s, op->id));
            return EBUSY;
        }
        return 0;
    }
    OVS_NOT_REACHED();
}

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
            write_eni_api__(new, op->eni);
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
            write_eni_api__(er, op->eni);
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

/* Applies committed 'op' to memory, taking what it owns. */
static void
apply_op__(struct eni_store *s, struct store_op *op)
{
    struct stored_eni *se = find_eni__(s, op->id);
    struct stored_sg *ss = find_sg__(s, op->id);

    switch (op->type) {
    case OP_CREATE_ENI:
        se = insert_eni__(s, op->eni, &op->uuid);
        op->eni = NULL;
        notify_eni__(s, NULL, se->eni);
        break;

    case OP_UPDATE_ENI: {
        /* API fields from 'op', the rest from memory: the binding may
         * have changed while the update was in flight. */
        struct eni *new = op->eni, *cur = se->eni;
        op->eni = NULL;
        new->key = cur->key;
        new->state = cur->state;
        new->host = nullable_xstrdup(cur->host);
        new->ofport = cur->ofport;
        new->epoch = cur->epoch;
        new->phase = cur->phase;
        new->dest_host = nullable_xstrdup(cur->dest_host);
        new->dest_ofport = cur->dest_ofport;
        new->created = cur->created;
        if (cur->updated > new->updated) {
            /* A binding change wrote a later time: write it again. */
            new->updated = cur->updated;
            mark_eni_dirty__(s, se);
        }
        replace_eni__(s, se, new);
        break;
    }

    case OP_DELETE_ENI:
        if (se) {
            remove_eni__(s, se);
        }
        break;

    case OP_PUT_SG:
        put_sg__(s, op->sg, &op->uuid, true);
        op->sg = NULL;
        break;

    case OP_DELETE_SG:
        if (ss) {
            remove_sg__(s, ss);
        }
        break;
    }
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

static void
enqueue_op__(struct eni_store *s, enum op_type type, const char *id,
             struct eni *eni, struct security_group *sg,
             eni_store_done_func *done, void *aux)
{
    struct store_op *op = xzalloc(sizeof *op);
    op->type = type;
    op->id = xstrdup(id ? id : "");
    op->eni = eni;
    op->sg = sg;
    op->done = done;
    op->aux = aux;
    ovs_list_push_back(&s->queued, &op->node);
    s->n_ops++;
    poll_immediate_wake();
}

/* A copy of the API-settable fields of 'e' and its attachment, with sets in
 * canonical order and no binding. */
static struct eni *
api_copy__(const struct eni *e)
{
    struct eni *c = eni_clone(e);
    if (!c) {
        out_of_memory();
    }
    canonicalize_set__(c->secondary_ipv4s, &c->n_secondary_ipv4s);
    canonicalize_set__(c->ipv6s, &c->n_ipv6s);
    canonicalize_set__(c->security_groups, &c->n_security_groups);
    free(c->host);
    free(c->dest_host);
    c->key = 0;
    c->state = ENI_DETACHED;
    c->host = c->dest_host = NULL;
    c->ofport = c->dest_ofport = -1;
    c->epoch = 0;
    c->phase = ENI_MIG_NONE;
    c->created = c->updated = 0;
    return c;
}

void
eni_store_create_eni(struct eni_store *s, const struct eni *eni,
                     eni_store_done_func *done, void *aux)
{
    enqueue_op__(s, OP_CREATE_ENI, eni->id, api_copy__(eni), NULL, done,
                 aux);
}

void
eni_store_update_eni(struct eni_store *s, const struct eni *eni,
                     eni_store_done_func *done, void *aux)
{
    enqueue_op__(s, OP_UPDATE_ENI, eni->id, api_copy__(eni), NULL, done,
                 aux);
}

void
eni_store_delete_eni(struct eni_store *s, const char *id,
                     eni_store_done_func *done, void *aux)
{
    enqueue_op__(s, OP_DELETE_ENI, id, NULL, NULL, done, aux);
}

void
eni_store_put_sg(struct eni_store *s, const struct security_group *sg,
                 eni_store_done_func *done, void *aux)
{
    struct security_group *c = security_group_clone(sg);
    if (!c) {
        out_of_memory();
    }
    if (c->n_rules > 1) {
        qsort(c->rules, c->n_rules, sizeof *c->rules, compare_rules__);
    }
    enqueue_op__(s, OP_PUT_SG, sg->id, NULL, c, done, aux);
}

void
eni_store_delete_sg(struct eni_store *s, const char *id,
                    eni_store_done_func *done, void *aux)
{
    enqueue_op__(s, OP_DELETE_SG, id, NULL, NULL, done, aux);
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

/* --- Bindings and hosts -------------------------------------------------- */

int
eni_store_set_binding(struct eni_store *s, const char *id,
                      enum eni_state state, const char *host, int32_t ofport,
                      uint64_t epoch, enum eni_migration_phase phase,
                      const char *dest_host, int32_t dest_ofport)
{
    struct stored_eni *se = find_eni__(s, id);
    if (!se) {
        return ENOENT;
    }

    const struct eni *cur = se->eni;
    if (cur->state == state && nullable_string_is_equal(cur->host, host)
        && cur->ofport == ofport && cur->epoch == epoch
        && cur->phase == phase && nullable_string_is_equal(cur->dest_host, dest_host)
        && cur->dest_ofport == dest_ofport) {
        return 0;
    }

    struct eni *new = eni_clone(cur);
    if (!new) {
        out_of_memory();
    }
    free(new->host);
    free(new->dest_host);
    new->state = state;
    new->host = nullable_xstrdup(host);
    new->ofport = ofport;
    new->epoch = epoch;
    new->phase = phase;
    new->dest_host = nullable_xstrdup(dest_host);
    new->dest_ofport = dest_ofport;
    new->updated = time_wall_msec();
    mark_eni_dirty__(s, se);
    replace_eni__(s, se, new);
    return 0;
}

/* A host's 'stored' string equals 'given', where NULL is "". */
static bool
same__(const char *stored, const char *given)
{
    return !strcmp(stored, given ? given : "");
}

void
eni_store_put_host(struct eni_store *s, const struct eni_store_host *h)
{
    struct stored_host *sh = find_host__(s, h->id);
    if (!sh) {
        sh = xzalloc(sizeof *sh);
        uuid_generate(&sh->uuid);
        hmap_insert(&s->hosts, &sh->node, hash_string(h->id, 0));
    } else if (same__(sh->h.hypervisor, h->hypervisor)
               && same__(sh->h.tunnel_ip, h->tunnel_ip)
               && same__(sh->h.tunnel_type, h->tunnel_type)
               && same__(sh->h.bridge, h->bridge)
               && sh->h.connected == h->connected
               && sh->h.last_heard == h->last_heard) {
        return;
    }
    set_host__(&sh->h, h);
    mark_host_dirty__(s, sh);
    poll_immediate_wake();
}

/* --- Lookups ------------------------------------------------------------- */

const struct eni *
eni_store_find_eni(const struct eni_store *s, const char *id)
{
    const struct stored_eni *se = find_eni__(s, id);
    return se ? se->eni : NULL;
}

const struct eni *
eni_store_find_eni_by_key(const struct eni_store *s, uint64_t key)
{
    const struct stored_eni *se;
    HMAP_FOR_EACH_WITH_HASH (se, key_node, hash_uint64(key),
                             &s->enis_by_key) {
        if (se->eni->key == key) {
            return se->eni;
        }
    }
    return NULL;
}

size_t
eni_store_n_enis(const struct eni_store *s)
{
    return hmap_count(&s->enis_by_id);
}

static int
compare_eni_ids__(const void *a_, const void *b_)
{
    const struct eni *const *a = a_, *const *b = b_;
    return strcmp((*a)->id, (*b)->id);
}

size_t
eni_store_list_enis(const struct eni_store *s, const struct eni ***enisp)
{
    size_t n = 0;
    const struct eni **enis = xmalloc((hmap_count(&s->enis_by_id) + 1)
                                      * sizeof *enis);
    const struct stored_eni *se;
    HMAP_FOR_EACH (se, id_node, &s->enis_by_id) {
        enis[n++] = se->eni;
    }
    qsort(enis, n, sizeof *enis, compare_eni_ids__);
    *enisp = enis;
    return n;
}

const struct security_group *
eni_store_find_sg(const struct eni_store *s, const char *id)
{
    const struct stored_sg *ss = find_sg__(s, id);
    return ss ? ss->sg : NULL;
}

static int
compare_sg_ids__(const void *a_, const void *b_)
{
    const struct security_group *const *a = a_, *const *b = b_;
    return strcmp((*a)->id, (*b)->id);
}

size_t
eni_store_list_sgs(const struct eni_store *s,
                   const struct security_group ***sgsp)
{
    size_t n = 0;
    const struct security_group **sgs = xmalloc((hmap_count(&s->sgs) + 1)
                                                * sizeof *sgs);
    const struct stored_sg *ss;
    HMAP_FOR_EACH (ss, node, &s->sgs) {
        sgs[n++] = ss->sg;
    }
    qsort(sgs, n, sizeof *sgs, compare_sg_ids__);
    *sgsp = sgs;
    return n;
}

void
eni_store_for_each_host(const struct eni_store *s,
                        void (*cb)(const struct eni_store_host *, void *aux),
                        void *aux)
{
    const struct stored_host *sh;
    HMAP_FOR_EACH (sh, node, &s->hosts) {
        cb(&sh->h, aux);
    }
}
