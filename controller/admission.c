/* Migration admission: the placement model and the decisions (see
 * admission.h).  Every configuration change rebuilds the derived indexes
 * (host -> domains, member -> groups, ENIs of a group per host and per
 * domain); a change of placement only adjusts the counts of that ENI. */
#include <config.h>

#include "controller/admission-private.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

/* ENIs of 'group' placed at 'loc' (an adm_host or an adm_domain). */
struct adm_count {
    struct hmap_node node;
    const struct adm_group *group;
    const void *loc;
    size_t n;
};

struct admission *
admission_create(void)
{
    struct admission *a = xzalloc(sizeof *a);
    shash_init(&a->domains);
    shash_init(&a->groups);
    shash_init(&a->rules);
    shash_init(&a->hosts);
    shash_init(&a->enis);
    shash_init(&a->units);
    shash_init(&a->member_index);
    hmap_init(&a->counts);
    return a;
}

static void
domain_free__(struct adm_domain *d)
{
    free(d->id);
    free(d->kind);
    sset_destroy(&d->hosts);
    free(d->host_array);
    free(d);
}

static void
group_free__(struct adm_group *g)
{
    free(g->id);
    sset_destroy(&g->members);
    free(g);
}

static void
rule_free__(struct adm_rule *r)
{
    free(r->id);
    free(r->group_id);
    free(r->domain_id);
    free(r->scope);
    free(r);
}

static void
host_free__(struct adm_host *h)
{
    free(h->id);
    free(h->domains);
    free(h);
}

static void
eni_free__(struct adm_eni *e)
{
    free(e->id);
    free(e->vm);
    free(e->groups);
    free(e);
}

static void
unit_free__(struct adm_unit *u)
{
    free(u->enis);
    free(u);
}

static void
group_list_free__(struct adm_group_list *l)
{
    free(l->groups);
    free(l);
}

static void
counts_clear__(struct admission *a)
{
    struct adm_count *c;
    HMAP_FOR_EACH_POP (c, node, &a->counts) {
        free(c);
    }
}

#define FREE_SHASH(SH, FREE)                         \
    do {                                             \
        struct shash_node *n_;                       \
        SHASH_FOR_EACH (n_, SH) {                    \
            FREE(n_->data);                          \
        }                                            \
        shash_destroy(SH);                           \
    } while (0)

void
admission_destroy(struct admission *a)
{
    if (a) {
        FREE_SHASH(&a->domains, domain_free__);
        FREE_SHASH(&a->groups, group_free__);
        FREE_SHASH(&a->rules, rule_free__);
        FREE_SHASH(&a->hosts, host_free__);
        FREE_SHASH(&a->enis, eni_free__);
        FREE_SHASH(&a->units, unit_free__);
        FREE_SHASH(&a->member_index, group_list_free__);
        counts_clear__(a);
        hmap_destroy(&a->counts);
        free(a);
    }
}

/* --- Derived indexes ------------------------------------------------------ */

static struct adm_count *
count_find__(const struct admission *a, const struct adm_group *g,
             const void *loc, bool create)
{
    uint32_t hash = hash_pointer(loc, hash_pointer(g, 0));
    struct adm_count *c;
    HMAP_FOR_EACH_WITH_HASH (c, node, hash, &a->counts) {
        if (c->group == g && c->loc == loc) {
            return c;
        }
    }
    if (!create) {
        return NULL;
    }
    c = xzalloc(sizeof *c);
    c->group = g;
    c->loc = loc;
    hmap_insert(CONST_CAST(struct hmap *, &a->counts), &c->node, hash);
    return c;
}

size_t
adm_count_get__(const struct admission *a, const struct adm_group *g,
            const void *loc)
{
    const struct adm_count *c = loc ? count_find__(a, g, loc, false) : NULL;
    return c ? c->n : 0;
}

/* Adds ('sign' 1) or takes away (-1) 'e' from the counts. */
void
adm_account__(struct admission *a, struct adm_eni *e, int sign)
{
    if (e->host) {
        e->host->n_enis += sign;
        e->host->bw_used += sign * (long long) e->bw;
        for (size_t i = 0; i < e->n_groups; i++) {
            struct adm_group *g = e->groups[i];
            g->n_placed += sign;
            count_find__(a, g, e->host, true)->n += sign;
            for (size_t j = 0; j < e->host->n_domains; j++) {
                count_find__(a, g, e->host->domains[j], true)->n += sign;
            }
        }
    }
    if (e->dest && e->dest != e->host) {
        e->dest->n_enis += sign;
        e->dest->bw_used += sign * (long long) e->bw;
    }
}

static void
eni_groups__(struct admission *a, struct adm_eni *e)
{
    const char *keys[2] = { e->id, e->vm };
    e->n_groups = 0;
    e->bw = 0;
    for (int k = 0; k < 2 && keys[k]; k++) {
        const struct adm_group_list *l = shash_find_data(&a->member_index,
                                                         keys[k]);
        for (size_t i = 0; l && i < l->n; i++) {
            bool dup = false;
            for (size_t j = 0; j < e->n_groups; j++) {
                dup = dup || e->groups[j] == l->groups[i];
            }
            if (!dup) {
                e->groups = xrealloc(e->groups, (e->n_groups + 1)
                                     * sizeof *e->groups);
                e->groups[e->n_groups++] = l->groups[i];
                e->bw = MAX(e->bw, l->groups[i]->bandwidth_mbps);
            }
        }
    }
}

static struct adm_host *
host_get__(struct admission *a, const char *id)
{
    struct adm_host *h = shash_find_data(&a->hosts, id);
    if (!h) {
        h = xzalloc(sizeof *h);
        h->id = xstrdup(id);
        shash_add(&a->hosts, id, h);
    }
    return h;
}

static int
compare_strings__(const void *a_, const void *b_)
{
    const char *const *a = a_, *const *b = b_;
    return strcmp(*a, *b);
}

/* Recomputes every derived index from the configuration and placement. */
static void
rebuild__(struct admission *a)
{
    struct shash_node *n;

    SHASH_FOR_EACH (n, &a->rules) {
        struct adm_rule *r = n->data;
        r->group = shash_find_data(&a->groups, r->group_id);
        r->domain = r->domain_id ? shash_find_data(&a->domains, r->domain_id)
                                 : NULL;
    }
    SHASH_FOR_EACH (n, &a->hosts) {
        struct adm_host *h = n->data;
        h->n_domains = 0;
        h->n_enis = 0;
        h->bw_used = 0;
    }
    SHASH_FOR_EACH (n, &a->domains) {
        struct adm_domain *d = n->data;
        const char *hid;
        free(d->host_array);
        d->host_array = xmalloc((sset_count(&d->hosts) + 1)
                                * sizeof *d->host_array);
        size_t i = 0;
        SSET_FOR_EACH (hid, &d->hosts) {
            struct adm_host *h = host_get__(a, hid);
            h->domains = xrealloc(h->domains,
                                  (h->n_domains + 1) * sizeof *h->domains);
            h->domains[h->n_domains++] = d;
            d->host_array[i++] = hid;
        }
        if (i > 1) {
            qsort(d->host_array, i, sizeof *d->host_array, compare_strings__);
        }
        d->host_array[i] = NULL;
    }
    FREE_SHASH(&a->member_index, group_list_free__);
    shash_init(&a->member_index);
    SHASH_FOR_EACH (n, &a->groups) {
        struct adm_group *g = n->data;
        const char *m;
        g->n_placed = 0;
        SSET_FOR_EACH (m, &g->members) {
            struct adm_group_list *l = shash_find_data(&a->member_index, m);
            if (!l) {
                l = xzalloc(sizeof *l);
                shash_add(&a->member_index, m, l);
            }
            l->groups = xrealloc(l->groups, (l->n + 1) * sizeof *l->groups);
            l->groups[l->n++] = g;
        }
    }
    counts_clear__(a);
    SHASH_FOR_EACH (n, &a->enis) {
        struct adm_eni *e = n->data;
        eni_groups__(a, e);
        adm_account__(a, e, 1);
    }
}

/* --- Configuration -------------------------------------------------------- */

static int
fail__(char **errp, int error, const char *fmt, ...)
    OVS_PRINTF_FORMAT(3, 4);

static int
fail__(char **errp, int error, const char *fmt, ...)
{
    if (errp) {
        va_list args;
        va_start(args, fmt);
        *errp = xvasprintf(fmt, args);
        va_end(args);
    }
    return error;
}

static bool
id_ok__(const char *id)
{
    size_t len = id ? strlen(id) : 0;
    if (!len || len > 64) {
        return false;
    }
    for (const char *p = id; *p; p++) {
        if (!(isalnum((unsigned char) *p) || strchr("._-:", *p))) {
            return false;
        }
    }
    return true;
}

int
admission_put_domain(struct admission *a, const char *id, const char *kind,
                     const char *const *hosts, size_t n_hosts, char **errp)
{
    if (!id_ok__(id)) {
        return fail__(errp, EINVAL, "id: \"%s\" is not 1 to 64 letters, "
                      "digits, '.', '_', '-' or ':'", id ? id : "");
    }
    if (kind && kind[0] && !id_ok__(kind)) {
        return fail__(errp, EINVAL, "kind: \"%s\" is not a word", kind);
    }
    for (size_t i = 0; i < n_hosts; i++) {
        if (!id_ok__(hosts[i])) {
            return fail__(errp, EINVAL, "hosts[%zu]: \"%s\" is not a host id",
                          i, hosts[i]);
        }
    }
    struct adm_domain *d = shash_find_data(&a->domains, id);
    if (!d) {
        d = xzalloc(sizeof *d);
        d->id = xstrdup(id);
        sset_init(&d->hosts);
        shash_add(&a->domains, id, d);
    }
    free(d->kind);
    d->kind = xstrdup(kind && kind[0] ? kind : "domain");
    sset_clear(&d->hosts);
    for (size_t i = 0; i < n_hosts; i++) {
        sset_add(&d->hosts, hosts[i]);
    }
    rebuild__(a);
    return 0;
}

int
admission_delete_domain(struct admission *a, const char *id, char **errp)
{
    struct adm_domain *d = shash_find_data(&a->domains, id);
    struct shash_node *n;

    if (!d) {
        return fail__(errp, ENOENT, "domain \"%s\" does not exist", id);
    }
    SHASH_FOR_EACH (n, &a->rules) {
        const struct adm_rule *r = n->data;
        if (r->domain_id && !strcmp(r->domain_id, id)) {
            return fail__(errp, EBUSY, "domain \"%s\" is named by rule "
                          "\"%s\"", id, r->id);
        }
    }
    shash_find_and_delete(&a->domains, id);
    domain_free__(d);
    rebuild__(a);
    return 0;
}

int
admission_put_group(struct admission *a, const char *id,
                    const char *const *members, size_t n_members,
                    unsigned int bandwidth_mbps, char **errp)
{
    if (!id_ok__(id)) {
        return fail__(errp, EINVAL, "id: \"%s\" is not 1 to 64 letters, "
                      "digits, '.', '_', '-' or ':'", id ? id : "");
    }
    for (size_t i = 0; i < n_members; i++) {
        if (!id_ok__(members[i])) {
            return fail__(errp, EINVAL, "members[%zu]: \"%s\" is not an ENI "
                          "id or a VM UUID", i, members[i]);
        }
    }
    struct adm_group *g = shash_find_data(&a->groups, id);
    if (!g) {
        g = xzalloc(sizeof *g);
        g->id = xstrdup(id);
        sset_init(&g->members);
        shash_add(&a->groups, id, g);
    }
    sset_clear(&g->members);
    for (size_t i = 0; i < n_members; i++) {
        sset_add(&g->members, members[i]);
    }
    g->bandwidth_mbps = bandwidth_mbps;
    rebuild__(a);
    return 0;
}

int
admission_delete_group(struct admission *a, const char *id, char **errp)
{
    struct adm_group *g = shash_find_data(&a->groups, id);
    struct shash_node *n;

    if (!g) {
        return fail__(errp, ENOENT, "group \"%s\" does not exist", id);
    }
    SHASH_FOR_EACH (n, &a->rules) {
        const struct adm_rule *r = n->data;
        if (!strcmp(r->group_id, id)) {
            return fail__(errp, EBUSY, "group \"%s\" is named by rule \"%s\"",
                          id, r->id);
        }
    }
    shash_find_and_delete(&a->groups, id);
    group_free__(g);
    rebuild__(a);
    return 0;
}

int
admission_put_rule(struct admission *a, const struct adm_rule_spec *s,
                   char **errp)
{
    if (!id_ok__(s->id)) {
        return fail__(errp, EINVAL, "id: \"%s\" is not 1 to 64 letters, "
                      "digits, '.', '_', '-' or ':'", s->id ? s->id : "");
    }
    if (!s->group || !shash_find(&a->groups, s->group)) {
        return fail__(errp, ENOENT, "group: \"%s\" does not exist",
                      s->group ? s->group : "");
    }
    if (s->domain && !shash_find(&a->domains, s->domain)) {
        return fail__(errp, ENOENT, "domain: \"%s\" does not exist",
                      s->domain);
    }
    if (s->domain && s->scope) {
        return fail__(errp, EINVAL, "scope: only for a rule without domain");
    }
    if (s->scope && !id_ok__(s->scope)) {
        return fail__(errp, EINVAL, "scope: \"%s\" is not \"host\" or a "
                      "domain kind", s->scope);
    }
    if (s->weight > 100) {
        return fail__(errp, EINVAL, "weight: %u is not in 0..100", s->weight);
    }
    struct adm_rule *r = shash_find_data(&a->rules, s->id);
    if (!r) {
        r = xzalloc(sizeof *r);
        r->id = xstrdup(s->id);
        shash_add(&a->rules, s->id, r);
    }
    free(r->group_id);
    free(r->domain_id);
    free(r->scope);
    r->strength = s->strength;
    r->polarity = s->polarity;
    r->group_id = xstrdup(s->group);
    r->domain_id = nullable_xstrdup(s->domain);
    r->scope = (s->scope && strcmp(s->scope, "host")
                ? xstrdup(s->scope) : NULL);
    r->weight = s->weight ? s->weight : 10;
    rebuild__(a);
    return 0;
}

int
admission_delete_rule(struct admission *a, const char *id, char **errp)
{
    struct adm_rule *r = shash_find_and_delete(&a->rules, id);
    if (!r) {
        return fail__(errp, ENOENT, "rule \"%s\" does not exist", id);
    }
    rule_free__(r);
    return 0;
}

void
admission_put_host(struct admission *a, const char *id,
                   const struct adm_host_limits *lim)
{
    struct adm_host *h = host_get__(a, id);
    h->lim = *lim;
    h->configured = true;
}

const struct adm_host_limits *
admission_get_host(const struct admission *a, const char *id)
{
    const struct adm_host *h = shash_find_data(&a->hosts, id);
    return h && h->configured ? &h->lim : NULL;
}

void
admission_remove_host(struct admission *a, const char *id)
{
    struct adm_host *h = shash_find_data(&a->hosts, id);
    struct shash_node *n;
    if (!h) {
        return;
    }
    SHASH_FOR_EACH (n, &a->enis) {
        struct adm_eni *e = n->data;
        if (e->host == h || e->dest == h) {
            /* Still in use: keep it as a place, not as a candidate. */
            h->configured = false;
            memset(&h->lim, 0, sizeof h->lim);
            return;
        }
    }
    shash_find_and_delete(&a->hosts, id);
    host_free__(h);
    rebuild__(a);
}

/* --- Placement ------------------------------------------------------------ */

static void
unit_remove__(struct admission *a, struct adm_eni *e)
{
    struct adm_unit *u = e->vm ? shash_find_data(&a->units, e->vm) : NULL;
    for (size_t i = 0; u && i < u->n; i++) {
        if (u->enis[i] == e) {
            u->enis[i] = u->enis[--u->n];
            if (!u->n) {
                shash_find_and_delete(&a->units, e->vm);
                unit_free__(u);
            }
            return;
        }
    }
}

void
admission_set_eni(struct admission *a, const char *id, const char *vm,
                  const char *host, const char *dest)
{
    struct adm_eni *e = shash_find_data(&a->enis, id);
    vm = vm && vm[0] ? vm : NULL;
    if (e) {
        adm_account__(a, e, -1);
        if (!nullable_string_is_equal(e->vm, vm)) {
            unit_remove__(a, e);
            free(e->vm);
            e->vm = NULL;
        }
    } else {
        e = xzalloc(sizeof *e);
        e->id = xstrdup(id);
        shash_add(&a->enis, id, e);
    }
    if (vm && !e->vm) {
        e->vm = xstrdup(vm);
        struct adm_unit *u = shash_find_data(&a->units, vm);
        if (!u) {
            u = xzalloc(sizeof *u);
            shash_add(&a->units, vm, u);
        }
        if (u->n >= u->allocated) {
            u->enis = x2nrealloc(u->enis, &u->allocated, sizeof *u->enis);
        }
        u->enis[u->n++] = e;
    }
    e->host = host && host[0] ? host_get__(a, host) : NULL;
    e->dest = dest && dest[0] ? host_get__(a, dest) : NULL;
    eni_groups__(a, e);
    adm_account__(a, e, 1);
}

void
admission_remove_eni(struct admission *a, const char *id)
{
    struct adm_eni *e = shash_find_and_delete(&a->enis, id);
    if (e) {
        adm_account__(a, e, -1);
        unit_remove__(a, e);
        eni_free__(e);
    }
}

size_t
admission_n_enis(const struct admission *a)
{
    return shash_count(&a->enis);
}

void
admission_set_filter(struct admission *a, admission_filter_func *filter,
                     void *aux)
{
    a->filter = filter;
    a->filter_aux = aux;
}

