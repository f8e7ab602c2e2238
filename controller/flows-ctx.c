/* The index the flow computation looks things up in (hosts, VNIs, security
 * group members and referrers), and the work sets that say which flows a
 * change makes stale: see flows.h. */
#include <config.h>

#include "controller/flows.h"

#include <stdlib.h>
#include <string.h>

#include "controller/eni.h"
#include "controller/flows-private.h"
#include "hash.h"
#include "ovs-glue/flow-table.h"
#include "util.h"

static bool
nullable_equal__(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* --- References ---------------------------------------------------------- */

static void
ref_add__(struct hmap *map, const struct eni *e)
{
    struct fc_ref *r = xmalloc(sizeof *r);
    r->eni = e;
    hmap_insert(map, &r->node, hash_uint64(e->key));
}

static void
ref_remove__(struct hmap *map, uint64_t key)
{
    struct fc_ref *r;

    HMAP_FOR_EACH_WITH_HASH (r, node, hash_uint64(key), map) {
        if (r->eni->key == key) {
            hmap_remove(map, &r->node);
            free(r);
            return;
        }
    }
}

static void
refs_destroy__(struct hmap *map)
{
    struct fc_ref *r;

    HMAP_FOR_EACH_POP (r, node, map) {
        free(r);
    }
    hmap_destroy(map);
}

/* --- Work ---------------------------------------------------------------- */

struct fw_item {
    struct hmap_node node;
    char *host;
    uint64_t cookie;
};

struct flows_work {
    struct hmap items;          /* struct fw_item */
};

struct flows_work *
flows_work_create(void)
{
    struct flows_work *w = xmalloc(sizeof *w);
    hmap_init(&w->items);
    return w;
}

void
flows_work_clear(struct flows_work *w)
{
    struct fw_item *it;

    HMAP_FOR_EACH_POP (it, node, &w->items) {
        free(it->host);
        free(it);
    }
}

void
flows_work_destroy(struct flows_work *w)
{
    if (w) {
        flows_work_clear(w);
        hmap_destroy(&w->items);
        free(w);
    }
}

size_t
flows_work_count(const struct flows_work *w)
{
    return hmap_count(&w->items);
}

static struct fw_item *
fw_find__(const struct flows_work *w, const char *host, uint64_t cookie,
          uint32_t hash)
{
    struct fw_item *it;

    HMAP_FOR_EACH_WITH_HASH (it, node, hash, &w->items) {
        if (it->cookie == cookie && !strcmp(it->host, host)) {
            return it;
        }
    }
    return NULL;
}

static void
fw_add__(struct flows_work *w, const char *host, uint16_t class, uint64_t id)
{
    if (!w || !host) {
        return;
    }
    uint64_t cookie = FT_COOKIE(class, id);
    uint32_t hash = hash_string(host, hash_uint64(cookie));
    if (!fw_find__(w, host, cookie, hash)) {
        struct fw_item *it = xmalloc(sizeof *it);
        it->host = xstrdup(host);
        it->cookie = cookie;
        hmap_insert(&w->items, &it->node, hash);
    }
}

bool
flows_work_contains(const struct flows_work *w, const char *host,
                    uint16_t class, uint64_t id)
{
    uint64_t cookie = FT_COOKIE(class, id);
    return fw_find__(w, host, cookie,
                     hash_string(host, hash_uint64(cookie))) != NULL;
}

void
flows_work_apply(const struct flows_work *w, const struct flows_ctx *ctx,
                 struct flow_table *(*table_for)(const char *host,
                                                 struct flows_host *hostp,
                                                 void *aux),
                 void (*changed)(const char *host, void *aux), void *aux)
{
    struct sset hosts = SSET_INITIALIZER(&hosts);
    struct fw_item *it;

    HMAP_FOR_EACH (it, node, &w->items) {
        struct flows_host fh = { .id = it->host, .tunnel_ofport = -1 };
        struct flow_table *ft = table_for(it->host, &fh, aux);
        if (!ft) {
            continue;
        }
        fh.id = it->host;
        uint64_t id = FT_COOKIE_ID(it->cookie);
        const struct eni *e;

        /* A refresh: flows that come back unchanged are not edited, so an
         * owner whose flows did not change is not diffed or sent. */
        flow_table_refresh_begin(ft, it->cookie);
        switch (FT_COOKIE_CLASS(it->cookie)) {
        case FLOWS_CLASS_ENI:
            e = flows_ctx_find_eni(ctx, id);
            if (e) {
                flows_add_eni_main(ft, &fh, e, ctx);
            }
            break;
        case FLOWS_CLASS_SG:
            e = flows_ctx_find_eni(ctx, id);
            if (e) {
                flows_add_eni_sg(ft, &fh, e, ctx);
            }
            break;
        case FLOWS_CLASS_VNI:
            flows_add_vni(ft, &fh, id, ctx);
            break;
        default:
            OVS_NOT_REACHED();
        }
        flow_table_refresh_end(ft, it->cookie);
        sset_add(&hosts, it->host);
    }

    const char *host;
    SSET_FOR_EACH (host, &hosts) {
        if (changed) {
            changed(host, aux);
        }
    }
    sset_destroy(&hosts);
}

/* --- The index ----------------------------------------------------------- */

struct flows_ctx *
flows_ctx_create(void)
{
    struct flows_ctx *ctx = xzalloc(sizeof *ctx);
    hmap_init(&ctx->enis);
    shash_init(&ctx->hosts);
    hmap_init(&ctx->vnis);
    shash_init(&ctx->sgs);
    return ctx;
}

static void
fc_vni_destroy__(struct fc_vni *v)
{
    struct shash_node *node;

    SHASH_FOR_EACH (node, &v->hosts) {
        refs_destroy__(node->data);
        free(node->data);
    }
    shash_destroy(&v->hosts);
    refs_destroy__(&v->enis);
    free(v);
}

static void
fc_sg_destroy__(struct fc_sg *s)
{
    struct fc_sg_vni *sv;

    security_group_destroy(s->sg);
    HMAP_FOR_EACH_POP (sv, node, &s->vnis) {
        refs_destroy__(&sv->members);
        free(sv);
    }
    hmap_destroy(&s->vnis);
    sset_destroy(&s->referrers);
    free(s);
}

void
flows_ctx_destroy(struct flows_ctx *ctx)
{
    if (!ctx) {
        return;
    }
    struct shash_node *node, *next;
    SHASH_FOR_EACH_SAFE (node, next, &ctx->hosts) {
        struct fc_host *h = node->data;
        free(h->ip);
        refs_destroy__(&h->enis);
        free(h);
    }
    shash_destroy(&ctx->hosts);
    SHASH_FOR_EACH_SAFE (node, next, &ctx->sgs) {
        fc_sg_destroy__(node->data);
    }
    shash_destroy(&ctx->sgs);
    struct fc_vni *v;
    HMAP_FOR_EACH_POP (v, node, &ctx->vnis) {
        fc_vni_destroy__(v);
    }
    hmap_destroy(&ctx->vnis);
    struct fc_eni *fe;
    HMAP_FOR_EACH_POP (fe, node, &ctx->enis) {
        eni_destroy(fe->eni);
        free(fe);
    }
    hmap_destroy(&ctx->enis);
    free(ctx);
}

static struct fc_host *
fc_host_get__(struct flows_ctx *ctx, const char *id)
{
    struct fc_host *h = shash_find_data(&ctx->hosts, id);
    if (!h) {
        h = xzalloc(sizeof *h);
        hmap_init(&h->enis);
        h->relay_ofport = -1;
        shash_add(&ctx->hosts, id, h);
    }
    return h;
}

const char *
flows_ctx_host_ip(const struct flows_ctx *ctx, const char *host)
{
    const struct fc_host *h = host ? shash_find_data(&ctx->hosts, host)
                                   : NULL;
    return h ? h->ip : NULL;
}

const struct fc_vni *
fc_vni_find(const struct flows_ctx *ctx, uint32_t vni)
{
    struct fc_vni *v;

    HMAP_FOR_EACH_WITH_HASH (v, node, hash_int(vni, 0), &ctx->vnis) {
        if (v->vni == vni) {
            return v;
        }
    }
    return NULL;
}

static struct fc_vni *
fc_vni_get__(struct flows_ctx *ctx, uint32_t vni)
{
    struct fc_vni *v = CONST_CAST(struct fc_vni *, fc_vni_find(ctx, vni));
    if (!v) {
        v = xmalloc(sizeof *v);
        v->vni = vni;
        hmap_init(&v->enis);
        shash_init(&v->hosts);
        hmap_insert(&ctx->vnis, &v->node, hash_int(vni, 0));
    }
    return v;
}

const struct fc_sg *
fc_sg_find(const struct flows_ctx *ctx, const char *id)
{
    return shash_find_data(&ctx->sgs, id);
}

static struct fc_sg *
fc_sg_get__(struct flows_ctx *ctx, const char *id)
{
    struct fc_sg *s = shash_find_data(&ctx->sgs, id);
    if (!s) {
        s = xzalloc(sizeof *s);
        hmap_init(&s->vnis);
        sset_init(&s->referrers);
        shash_add(&ctx->sgs, id, s);
    }
    return s;
}

static struct fc_sg_vni *
fc_sg_vni_find__(const struct fc_sg *s, uint32_t vni)
{
    struct fc_sg_vni *sv;

    HMAP_FOR_EACH_WITH_HASH (sv, node, hash_int(vni, 0), &s->vnis) {
        if (sv->vni == vni) {
            return sv;
        }
    }
    return NULL;
}

const struct hmap *
fc_sg_members(const struct fc_sg *s, uint32_t vni)
{
    const struct fc_sg_vni *sv = s ? fc_sg_vni_find__(s, vni) : NULL;
    return sv ? &sv->members : NULL;
}

static void
fc_sg_add_member__(struct fc_sg *s, const struct eni *e)
{
    struct fc_sg_vni *sv = fc_sg_vni_find__(s, e->vni);

    if (!sv) {
        sv = xmalloc(sizeof *sv);
        sv->vni = e->vni;
        hmap_init(&sv->members);
        hmap_insert(&s->vnis, &sv->node, hash_int(e->vni, 0));
    }
    ref_add__(&sv->members, e);
}

static void
fc_sg_remove_member__(struct fc_sg *s, const struct eni *e)
{
    struct fc_sg_vni *sv = fc_sg_vni_find__(s, e->vni);

    if (sv) {
        ref_remove__(&sv->members, e->key);
        if (hmap_is_empty(&sv->members)) {
            hmap_remove(&s->vnis, &sv->node);
            hmap_destroy(&sv->members);
            free(sv);
        }
    }
}

static void
fc_sg_gc__(struct flows_ctx *ctx, const char *id)
{
    struct shash_node *node = shash_find(&ctx->sgs, id);
    struct fc_sg *s = node ? node->data : NULL;
    if (s && !s->sg && hmap_is_empty(&s->vnis)
        && sset_is_empty(&s->referrers)) {
        shash_delete(&ctx->sgs, node);
        fc_sg_destroy__(s);
    }
}

bool
flows_ctx_host_in_vni(const struct flows_ctx *ctx, const char *host,
                      uint32_t vni)
{
    const struct fc_vni *v = fc_vni_find(ctx, vni);
    return v && host && shash_find(&v->hosts, host);
}

const struct eni *
flows_ctx_find_eni(const struct flows_ctx *ctx, uint64_t key)
{
    struct fc_eni *fe;

    HMAP_FOR_EACH_WITH_HASH (fe, node, hash_uint64(key), &ctx->enis) {
        if (fe->eni->key == key) {
            return fe->eni;
        }
    }
    return NULL;
}

int32_t
flows_eni_local_port(const struct eni *e, const char *host)
{
    if (!host || !eni_is_wired(e)) {
        return -1;
    }
    if (e->host && !strcmp(e->host, host)) {
        return e->ofport;
    }
    if (e->state == ENI_MIGRATING && e->dest_host
        && !strcmp(e->dest_host, host)) {
        return e->dest_ofport;
    }
    return -1;
}

/* Calls 'cb' for each host where 'e' has a VIF. */
#define FOR_EACH_LOCAL_HOST__(HOST, I, E)                               \
    for (int I = 0; I < 2; I++)                                         \
        for (const char *HOST = (I == 0 ? (E)->host : (E)->dest_host);  \
             HOST && eni_is_wired(E)                                    \
                 && (I == 0 || (E)->state == ENI_MIGRATING);            \
             HOST = NULL)

/* The security group ids 'e' is a member of: its groups, or the default. */
static void
eni_groups__(const struct eni *e, struct sset *groups)
{
    for (size_t i = 0; i < e->n_security_groups; i++) {
        sset_add(groups, e->security_groups[i]);
    }
    if (!e->n_security_groups) {
        sset_add(groups, FLOWS_DEFAULT_SG);
    }
}

/* Removes 'e' from every index but 'enis'. */
static void
fc_unlink__(struct flows_ctx *ctx, const struct eni *e)
{
    struct sset groups = SSET_INITIALIZER(&groups);
    const char *g;

    eni_groups__(e, &groups);
    SSET_FOR_EACH (g, &groups) {
        struct fc_sg *s = fc_sg_get__(ctx, g);
        fc_sg_remove_member__(s, e);
        fc_sg_gc__(ctx, g);
    }
    sset_destroy(&groups);

    if (!eni_is_wired(e)) {
        return;
    }
    struct fc_vni *v = fc_vni_get__(ctx, e->vni);
    ref_remove__(&v->enis, e->key);
    FOR_EACH_LOCAL_HOST__ (host, i, e) {
        struct hmap *vh = shash_find_data(&v->hosts, host);
        if (vh) {
            ref_remove__(vh, e->key);   /* emptied entries: see below */
        }
        struct fc_host *h = shash_find_data(&ctx->hosts, host);
        if (h) {
            ref_remove__(&h->enis, e->key);
        }
    }
}

/* Adds 'e' to the indexes; adds to 'joined' the hosts newly in its VNI. */
static void
fc_link__(struct flows_ctx *ctx, const struct eni *e, struct sset *joined)
{
    struct sset groups = SSET_INITIALIZER(&groups);
    const char *g;

    eni_groups__(e, &groups);
    SSET_FOR_EACH (g, &groups) {
        fc_sg_add_member__(fc_sg_get__(ctx, g), e);
    }
    sset_destroy(&groups);

    if (!eni_is_wired(e)) {
        return;
    }
    struct fc_vni *v = fc_vni_get__(ctx, e->vni);
    ref_add__(&v->enis, e);
    FOR_EACH_LOCAL_HOST__ (host, i, e) {
        struct hmap *vh = shash_find_data(&v->hosts, host);
        if (!vh) {
            vh = xmalloc(sizeof *vh);
            hmap_init(vh);
            shash_add(&v->hosts, host, vh);
            sset_add(joined, host);
        }
        if (i == 0 || !nullable_equal__(e->dest_host, e->host)) {
            ref_add__(vh, e);
            ref_add__(&fc_host_get__(ctx, host)->enis, e);
        }
    }
}

/* Work for a host joining or leaving 'vni': every ENI of the VNI on that
 * host, and the flood flows of every host of the VNI. */
static void
fc_membership_work__(const struct fc_vni *v, const char *host,
                     struct flows_work *w)
{
    struct shash_node *node;
    struct fc_ref *r;

    HMAP_FOR_EACH (r, node, &v->enis) {
        fw_add__(w, host, FLOWS_CLASS_ENI, r->eni->key);
    }
    fw_add__(w, host, FLOWS_CLASS_VNI, v->vni);
    SHASH_FOR_EACH (node, &v->hosts) {
        fw_add__(w, node->name, FLOWS_CLASS_VNI, v->vni);
    }
}

/* Drops the emptied host entries of 'vni' (hosts that left), with work. */
static void
fc_vni_gc__(struct flows_ctx *ctx, uint32_t vni, struct flows_work *w)
{
    struct fc_vni *v = CONST_CAST(struct fc_vni *, fc_vni_find(ctx, vni));
    struct shash_node *node, *next;

    if (!v) {
        return;
    }
    SHASH_FOR_EACH_SAFE (node, next, &v->hosts) {
        struct hmap *vh = node->data;
        if (hmap_is_empty(vh)) {
            char *host = xstrdup(node->name);
            refs_destroy__(vh);
            free(vh);
            shash_delete(&v->hosts, node);
            fc_membership_work__(v, host, w);
            free(host);
        }
    }
    if (hmap_is_empty(&v->enis) && shash_is_empty(&v->hosts)) {
        hmap_remove(&ctx->vnis, &v->node);
        fc_vni_destroy__(v);
    }
}

/* Work for 'e' itself: its flows on every host of its VNI, its SG and the
 * VNI flows where it has a VIF. */
static void
fc_eni_work__(const struct flows_ctx *ctx, const struct eni *e,
              struct flows_work *w)
{
    const struct fc_vni *v = fc_vni_find(ctx, e->vni);
    struct shash_node *node;

    if (v) {
        SHASH_FOR_EACH (node, &v->hosts) {
            fw_add__(w, node->name, FLOWS_CLASS_ENI, e->key);
        }
    }
    FOR_EACH_LOCAL_HOST__ (host, i, e) {
        fw_add__(w, host, FLOWS_CLASS_ENI, e->key);
        fw_add__(w, host, FLOWS_CLASS_SG, e->key);
        fw_add__(w, host, FLOWS_CLASS_VNI, e->vni);
    }
}

/* Work for the SG flows of the wired members of 's' in 'vni'. */
static void
fc_sg_vni_work__(const struct fc_sg *s, uint32_t vni, struct flows_work *w)
{
    const struct hmap *members = fc_sg_members(s, vni);
    const struct fc_ref *m;

    if (!members) {
        return;
    }
    HMAP_FOR_EACH (m, node, members) {
        FOR_EACH_LOCAL_HOST__ (host, i, m->eni) {
            fw_add__(w, host, FLOWS_CLASS_SG, m->eni->key);
        }
    }
}

/* Work for the SG flows of every wired member of a group that names
 * 'group' as remote_group, in 'vni_a' or 'vni_b'.  Costs the members of
 * those VNIs only, whatever the size of the groups elsewhere. */
static void
fc_sg_dependents__(const struct flows_ctx *ctx, const char *group,
                   uint32_t vni_a, uint32_t vni_b, struct flows_work *w)
{
    const struct fc_sg *s = fc_sg_find(ctx, group);
    const char *referrer;

    if (!s) {
        return;
    }
    if (!strcmp(group, FLOWS_DEFAULT_SG)) {
        /* The default group's ingress rule names the default group. */
        fc_sg_vni_work__(s, vni_a, w);
        if (vni_b != vni_a) {
            fc_sg_vni_work__(s, vni_b, w);
        }
    }
    SSET_FOR_EACH (referrer, &s->referrers) {
        const struct fc_sg *r = fc_sg_find(ctx, referrer);

        fc_sg_vni_work__(r, vni_a, w);
        if (vni_b != vni_a) {
            fc_sg_vni_work__(r, vni_b, w);
        }
    }
}

static bool
strv_equal__(char *const *a, size_t na, char *const *b, size_t nb)
{
    if (na != nb) {
        return false;
    }
    for (size_t i = 0; i < na; i++) {
        if (strcmp(a[i], b[i])) {
            return false;
        }
    }
    return true;
}

/* True if the SG flows of others may depend on the difference. */
static bool
addressing_changed__(const struct eni *a, const struct eni *b)
{
    return (!a || !b
            || a->vni != b->vni
            || !nullable_equal__(a->primary_ipv4, b->primary_ipv4)
            || !strv_equal__(a->secondary_ipv4s, a->n_secondary_ipv4s,
                             b->secondary_ipv4s, b->n_secondary_ipv4s)
            || !strv_equal__(a->ipv6s, a->n_ipv6s, b->ipv6s, b->n_ipv6s)
            || !strv_equal__(a->security_groups, a->n_security_groups,
                             b->security_groups, b->n_security_groups));
}

/* Replaces 'old' (may be NULL) by 'new' (may be NULL; owned by the index
 * from now on) and fills 'w'. */
static void
fc_replace_eni__(struct flows_ctx *ctx, struct fc_eni *fe, struct eni *new,
                 struct flows_work *w)
{
    struct eni *old = fe ? fe->eni : NULL;
    struct sset joined = SSET_INITIALIZER(&joined);
    bool addressing = addressing_changed__(old, new);
    struct sset groups = SSET_INITIALIZER(&groups);
    uint32_t old_vni = old ? old->vni : 0;
    uint32_t new_vni = new ? new->vni : 0;

    if (old) {
        fc_eni_work__(ctx, old, w);
        eni_groups__(old, &groups);
        fc_unlink__(ctx, old);
        /* 'old' is still in 'enis' until here. */
        hmap_remove(&ctx->enis, &fe->node);
    }
    if (new) {
        if (!fe) {
            fe = xmalloc(sizeof *fe);
        }
        fe->eni = new;
        hmap_insert(&ctx->enis, &fe->node, hash_uint64(new->key));
        fc_link__(ctx, new, &joined);
        const struct fc_vni *v = fc_vni_find(ctx, new->vni);
        const char *host;
        SSET_FOR_EACH (host, &joined) {
            fc_membership_work__(v, host, w);
        }
        fc_eni_work__(ctx, new, w);
        eni_groups__(new, &groups);
    } else {
        free(fe);
    }
    if (old) {
        fc_vni_gc__(ctx, old->vni, w);
    }
    if (new && (!old || new->vni != old->vni)) {
        fc_vni_gc__(ctx, new->vni, w);
    }
    if (addressing) {
        const char *g;
        SSET_FOR_EACH (g, &groups) {
            fc_sg_dependents__(ctx, g, old ? old_vni : new_vni,
                               new ? new_vni : old_vni, w);
        }
    }
    eni_destroy(old);
    sset_destroy(&groups);
    sset_destroy(&joined);
}

void
flows_ctx_set_eni(struct flows_ctx *ctx, const struct eni *e,
                  struct flows_work *w)
{
    struct fc_eni *fe = NULL, *it;

    HMAP_FOR_EACH_WITH_HASH (it, node, hash_uint64(e->key), &ctx->enis) {
        if (it->eni->key == e->key) {
            fe = it;
            break;
        }
    }
    fc_replace_eni__(ctx, fe, eni_clone(e), w);
}

void
flows_ctx_remove_eni(struct flows_ctx *ctx, uint64_t key,
                     struct flows_work *w)
{
    struct fc_eni *it;

    HMAP_FOR_EACH_WITH_HASH (it, node, hash_uint64(key), &ctx->enis) {
        if (it->eni->key == key) {
            fc_replace_eni__(ctx, it, NULL, w);
            return;
        }
    }
}

void
flows_ctx_set_host(struct flows_ctx *ctx, const char *host, const char *ip,
                   struct flows_work *w)
{
    struct fc_host *h = fc_host_get__(ctx, host);

    if (nullable_equal__(h->ip, ip)) {
        return;
    }
    free(h->ip);
    h->ip = ip ? xstrdup(ip) : NULL;

    /* Every host of a VNI that has an ENI here forwards to 'ip'. */
    const struct fc_ref *r;
    HMAP_FOR_EACH (r, node, &h->enis) {
        fc_eni_work__(ctx, r->eni, w);
        const struct fc_vni *v = fc_vni_find(ctx, r->eni->vni);
        struct shash_node *node;
        SHASH_FOR_EACH (node, &v->hosts) {
            fw_add__(w, node->name, FLOWS_CLASS_VNI, v->vni);
        }
    }
}

void
flows_ctx_set_host_relay(struct flows_ctx *ctx, const char *host,
                         int32_t relay_ofport, struct flows_work *w)
{
    struct fc_host *h = fc_host_get__(ctx, host);

    if (h->relay_ofport == relay_ofport) {
        return;
    }
    h->relay_ofport = relay_ofport;

    /* Only the flows of ENIs migrating away from here depend on it (on
     * every host of their VNI). */
    const struct fc_ref *r;
    HMAP_FOR_EACH (r, node, &h->enis) {
        if (r->eni->state == ENI_MIGRATING) {
            fc_eni_work__(ctx, r->eni, w);
        }
    }
}

int32_t
flows_ctx_host_relay(const struct flows_ctx *ctx, const char *host)
{
    const struct fc_host *h = host ? shash_find_data(&ctx->hosts, host)
                                   : NULL;
    return h ? h->relay_ofport : -1;
}

void
flows_ctx_set_relay(struct flows_ctx *ctx, bool enabled)
{
    ctx->relay_disabled = !enabled;
}

bool
flows_ctx_relay_enabled(const struct flows_ctx *ctx)
{
    return !ctx->relay_disabled;
}

/* Updates the referrer sets for 'sg''s remote groups ('add' or remove). */
static void
fc_sg_referrers__(struct flows_ctx *ctx, const struct security_group *sg,
                  bool add)
{
    for (size_t i = 0; i < sg->n_rules; i++) {
        const char *g = sg->rules[i].remote_group;
        if (!g) {
            continue;
        }
        struct fc_sg *s = fc_sg_get__(ctx, g);
        if (add) {
            sset_add(&s->referrers, sg->id);
        } else {
            sset_find_and_delete(&s->referrers, sg->id);
            fc_sg_gc__(ctx, g);
        }
    }
}

/* Work for the SG flows of every member of 's', in every VNI: its rules
 * changed. */
static void
fc_sg_members_work__(const struct fc_sg *s, struct flows_work *w)
{
    const struct fc_sg_vni *sv;

    HMAP_FOR_EACH (sv, node, &s->vnis) {
        fc_sg_vni_work__(s, sv->vni, w);
    }
}

void
flows_ctx_set_sg(struct flows_ctx *ctx, const struct security_group *sg,
                 struct flows_work *w)
{
    struct fc_sg *s = fc_sg_get__(ctx, sg->id);

    if (s->sg) {
        fc_sg_referrers__(ctx, s->sg, false);
        security_group_destroy(s->sg);
    }
    s->sg = security_group_clone(sg);
    fc_sg_referrers__(ctx, s->sg, true);
    fc_sg_members_work__(s, w);
}

void
flows_ctx_remove_sg(struct flows_ctx *ctx, const char *id,
                    struct flows_work *w)
{
    struct fc_sg *s = shash_find_data(&ctx->sgs, id);

    if (s && s->sg) {
        fc_sg_referrers__(ctx, s->sg, false);
        security_group_destroy(s->sg);
        s->sg = NULL;
        fc_sg_members_work__(s, w);
        fc_sg_gc__(ctx, id);
    }
}

static int
compare_vnis__(const void *a_, const void *b_)
{
    uint32_t a = *(const uint32_t *) a_;
    uint32_t b = *(const uint32_t *) b_;

    return a < b ? -1 : a > b;
}

/* The VNIs 'host' is in are those of the ENIs with a VIF there (fc_link__()
 * adds an ENI to its VNI's 'hosts' and to the host's 'enis' together), so
 * they are found from the host's own ENIs: walking every VNI of the data
 * center for each host (5,000 lookups a host, 5 million for a restart at
 * 1,000 hosts) was a tenth of a full computation. */
void
flows_host_full(struct flow_table *ft, const struct flows_host *host,
                const struct flows_ctx *ctx)
{
    const struct fc_host *h = shash_find_data(&ctx->hosts, host->id);

    flows_host_base(ft, host);
    if (!h) {
        return;
    }

    uint32_t *vnis = xmalloc(MAX(hmap_count(&h->enis), 1) * sizeof *vnis);
    size_t n = 0;
    const struct fc_ref *r;
    HMAP_FOR_EACH (r, node, &h->enis) {
        vnis[n++] = r->eni->vni;
    }
    qsort(vnis, n, sizeof *vnis, compare_vnis__);
    for (size_t i = 0; i < n; i++) {
        if (i && vnis[i] == vnis[i - 1]) {
            continue;
        }
        const struct fc_vni *v = fc_vni_find(ctx, vnis[i]);
        if (!v || !shash_find(&v->hosts, host->id)) {
            continue;
        }
        flows_add_vni(ft, host, v->vni, ctx);
        HMAP_FOR_EACH (r, node, &v->enis) {
            flows_add_eni(ft, host, r->eni, ctx);
        }
    }
    free(vnis);
}
