/* tetherd's durable store: the authoritative in-memory copy of ENIs,
 * security groups and hosts, and the API that reads and changes it (see
 * eni-store.h for the contract).  eni-store-db.c writes it through to the
 * Tether OVSDB database and loads it from there.
 *
 * Sets are kept sorted and without duplicates (ENI address and group sets,
 * a group's rules), as the database keeps them, so memory and database
 * compare equal. */
#include <config.h>

#include "controller/eni-store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "controller/eni-store-private.h"
#include "controller/tether-idl.h"
#include "hash.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "ovsdb-idl.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"
#include "uuid.h"

/* --- Canonical forms ----------------------------------------------------- */

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
    if (*n > 1) {
        qsort(a, *n, sizeof *a, compare_strings__);
    }
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

int
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

/* --- The in-memory copy -------------------------------------------------- */

struct stored_eni *
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

struct stored_sg *
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

struct stored_host *
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

void
notify_eni__(const struct eni_store *s, const struct eni *old,
             const struct eni *new)
{
    if (s->observer.eni_changed) {
        s->observer.eni_changed(old, new, s->observer.aux);
    }
}

void
notify_sg__(const struct eni_store *s, const struct security_group *old,
            const struct security_group *new)
{
    if (s->observer.sg_changed) {
        s->observer.sg_changed(old, new, s->observer.aux);
    }
}

/* Takes ownership of 'e'. */
struct stored_eni *
insert_eni__(struct eni_store *s, struct eni *e, const struct uuid *uuid)
{
    struct stored_eni *se = xzalloc(sizeof *se);
    se->eni = e;
    se->uuid = *uuid;
    hmap_insert(&s->enis_by_id, &se->id_node, hash_string(e->id, 0));
    hmap_insert(&s->enis_by_key, &se->key_node, hash_uint64(e->key));
    if (e->host) {
        hindex_insert(&s->enis_by_host, &se->host_node,
                      hash_string(e->host, 0));
    }
    eni_refs__(s, e, 1);
    return se;
}

void
mark_eni_dirty__(struct eni_store *s, struct stored_eni *se)
{
    if (!se->dirty) {
        se->dirty = true;
        ovs_list_push_back(&s->dirty_enis, &se->dirty_node);
        s->n_dirty++;
    }
}

void
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
    if (old->host) {
        hindex_remove(&s->enis_by_host, &se->host_node);
    }
    if (new->host) {
        hindex_insert(&s->enis_by_host, &se->host_node,
                      hash_string(new->host, 0));
    }
    se->eni = new;
    notify_eni__(s, old, new);
    eni_destroy(old);
}

static void
remove_eni__(struct eni_store *s, struct stored_eni *se)
{
    hmap_remove(&s->enis_by_id, &se->id_node);
    hmap_remove(&s->enis_by_key, &se->key_node);
    if (se->eni->host) {
        hindex_remove(&s->enis_by_host, &se->host_node);
    }
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
void
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

void
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
    hindex_init(&s->enis_by_host);
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

void
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
    hindex_destroy(&s->enis_by_host);
    hmap_destroy(&s->sgs);
    hmap_destroy(&s->sg_refs);
    hmap_destroy(&s->hosts);
    sset_destroy(&s->bg_enis);
    sset_destroy(&s->bg_hosts);
    free(s);
}

/* --- API ops ------------------------------------------------------------- */

char * OVS_PRINTF_FORMAT(1, 2)
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
int
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

/* Applies committed 'op' to memory, taking what it owns. */
void
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
    if (n > 1) {
        qsort(enis, n, sizeof *enis, compare_eni_ids__);
    }
    *enisp = enis;
    return n;
}

void
eni_store_for_each_eni_on_host(const struct eni_store *s, const char *host,
                               void (*cb)(const struct eni *, void *aux),
                               void *aux)
{
    const struct stored_eni *se;
    HINDEX_FOR_EACH_WITH_HASH (se, host_node, hash_string(host, 0),
                               &s->enis_by_host) {
        if (!strcmp(se->eni->host, host)) {
            cb(se->eni, aux);
        }
    }
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
    if (n > 1) {
        qsort(sgs, n, sizeof *sgs, compare_sg_ids__);
    }
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
