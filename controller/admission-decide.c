/* Migration admission: the decisions -- judging a move, recommending
 * destinations, planning an evacuation (see admission.h). */
#include <config.h>

#include "controller/admission-private.h"

#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "util.h"

/* --- Decisions ------------------------------------------------------------ */

/* A rule that concerns a unit: 'n_in' of the unit's ENIs are in its group. */
struct adm_relevant {
    const struct adm_rule *rule;
    size_t n_in;
};

/* The ENIs that move with 'eni_id' into '*enisp' (pointing at 'tmp' for a
 * unit of one); returns their number (0 for an unknown ENI). */
static size_t
unit_of__(const struct admission *a, const char *eni_id,
          struct adm_eni *const **enisp, struct adm_eni **tmp)
{
    struct adm_eni *e = shash_find_data(&a->enis, eni_id);
    const struct adm_unit *u = e && e->vm ? shash_find_data(&a->units, e->vm)
                                          : NULL;
    if (u) {
        *enisp = u->enis;
        return u->n;
    }
    *tmp = e;
    *enisp = tmp;
    return e ? 1 : 0;
}

static bool
eni_in_group__(const struct adm_eni *e, const struct adm_group *g)
{
    for (size_t i = 0; i < e->n_groups; i++) {
        if (e->groups[i] == g) {
            return true;
        }
    }
    return false;
}

static bool
host_in_domain__(const struct adm_host *h, const struct adm_domain *d)
{
    for (size_t i = 0; h && i < h->n_domains; i++) {
        if (h->domains[i] == d) {
            return true;
        }
    }
    return false;
}

static const struct adm_domain *
domain_of_kind__(const struct adm_host *h, const char *kind)
{
    for (size_t i = 0; i < h->n_domains; i++) {
        if (!strcmp(h->domains[i]->kind, kind)) {
            return h->domains[i];
        }
    }
    return NULL;
}

static size_t
relevant_rules__(const struct admission *a, struct adm_eni *const *enis,
                 size_t n, struct adm_relevant **relp)
{
    struct adm_relevant *rel = xmalloc((shash_count(&a->rules) + 1)
                                       * sizeof *rel);
    const struct shash_node *sn;
    size_t n_rel = 0;

    SHASH_FOR_EACH (sn, &a->rules) {
        const struct adm_rule *r = sn->data;
        size_t n_in = 0;
        for (size_t i = 0; r->group && i < n; i++) {
            n_in += eni_in_group__(enis[i], r->group);
        }
        if (n_in) {
            rel[n_rel].rule = r;
            rel[n_rel++].n_in = n_in;
        }
    }
    *relp = rel;
    return n_rel;
}

void
admission_rule_describe__(const struct adm_rule *r, struct ds *s)
{
    ds_put_format(s, "%s rule \"%s\" (group %s ",
                  r->strength == ADM_MUST ? "must" : "should", r->id,
                  r->group_id);
    if (r->domain_id) {
        ds_put_format(s, "%s domain %s)", r->polarity == ADM_TOGETHER
                      ? "in" : "out of", r->domain_id);
    } else {
        ds_put_format(s, "%s per %s)", r->polarity == ADM_TOGETHER
                      ? "together" : "apart", r->scope ? r->scope : "host");
    }
}

/* Does moving 'enis' to 'dest' break 'rel'?  If so, says why in 's'. */
static bool
rule_broken__(const struct admission *a, const struct adm_relevant *rel,
              struct adm_eni *const *enis, size_t n,
              const struct adm_host *dest, struct ds *s)
{
    const struct adm_rule *r = rel->rule;
    const struct adm_group *g = r->group;

    if (r->domain_id) {
        bool in = host_in_domain__(dest, r->domain);
        if (in != (r->polarity == ADM_TOGETHER)) {
            ds_put_format(s, "%s is %sin domain %s", dest->id,
                          in ? "" : "not ", r->domain_id);
            return true;
        }
        return false;
    }

    const void *loc = dest;
    if (r->scope) {
        loc = domain_of_kind__(dest, r->scope);
    }
    size_t own_at_loc = 0, own_placed = 0;
    for (size_t i = 0; i < n; i++) {
        const struct adm_eni *e = enis[i];
        if (e->host && eni_in_group__(e, g)) {
            own_placed++;
            own_at_loc += loc && (e->host == loc
                                  || host_in_domain__(e->host, loc));
        }
    }
    size_t at_loc = adm_count_get__(a, g, loc) - own_at_loc;
    size_t others = g->n_placed - own_placed;
    const char *where = (r->scope && loc
                         ? ((const struct adm_domain *) loc)->id : dest->id);
    if (r->polarity == ADM_APART && at_loc) {
        ds_put_format(s, "%s already holds %zu other ENI%s of group %s",
                      where, at_loc, at_loc == 1 ? "" : "s", g->id);
        return true;
    } else if (r->polarity == ADM_TOGETHER && others > at_loc) {
        if (!loc) {
            ds_put_format(s, "%s is in no %s", dest->id, r->scope);
        } else {
            ds_put_format(s, "%zu other ENI%s of group %s %s outside %s",
                          others - at_loc, others - at_loc == 1 ? "" : "s",
                          g->id, others - at_loc == 1 ? "is" : "are", where);
        }
        return true;
    }
    return false;
}

/* Judges moving 'enis' from 'src' (may be NULL) to 'dest'.  Returns true
 * with '*scorep', or false with why appended to 'reason'. */
static bool
judge__(const struct admission *a, struct adm_eni *const *enis, size_t n,
        const struct adm_relevant *rel, size_t n_rel,
        const struct adm_host *src, const struct adm_host *dest,
        double *scorep, struct ds *reason)
{
    const struct adm_host_limits *lim = &dest->lim;
    size_t add = n ? 0 : 1;
    unsigned long long bw_add = 0;

    if (lim->maintenance) {
        ds_put_format(reason, "host %s is in maintenance", dest->id);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (enis[i]->host != dest && enis[i]->dest != dest) {
            add++;
            bw_add += enis[i]->bw;
        }
    }
    if (lim->max_enis && dest->n_enis + add > lim->max_enis) {
        ds_put_format(reason, "host %s is full: %zu of %u ENIs, the move "
                      "needs %zu more", dest->id, dest->n_enis,
                      lim->max_enis, add);
        return false;
    }
    if (lim->bandwidth_mbps && dest->bw_used + bw_add > lim->bandwidth_mbps) {
        ds_put_format(reason, "host %s's bandwidth budget is %u Mb/s: %llu "
                      "reserved, the move needs %llu more", dest->id,
                      lim->bandwidth_mbps, dest->bw_used, bw_add);
        return false;
    }

    double penalty = 0;
    for (size_t i = 0; i < n_rel; i++) {
        size_t len = reason->length;
        if (rel[i].rule->strength == ADM_MUST) {
            admission_rule_describe__(rel[i].rule, reason);
            ds_put_cstr(reason, " is broken: ");
        }
        if (rule_broken__(a, &rel[i], enis, n, dest, reason)) {
            if (rel[i].rule->strength == ADM_MUST) {
                return false;
            }
            penalty += rel[i].rule->weight;
        }
        ds_truncate(reason, len);
    }
    if (a->filter && src && src != dest) {
        const char **ids = xmalloc((n + 1) * sizeof *ids);
        for (size_t i = 0; i < n; i++) {
            ids[i] = enis[i]->id;
        }
        bool ok = a->filter(src->id, dest->id, ids, n, reason,
                            a->filter_aux);
        free(ids);
        if (!ok) {
            return false;
        }
    }

    double after = dest->n_enis + add, util;
    if (lim->max_enis || lim->bandwidth_mbps) {
        util = lim->max_enis ? after / lim->max_enis : 0;
        if (lim->bandwidth_mbps) {
            util = MAX(util, (double) (dest->bw_used + bw_add)
                       / lim->bandwidth_mbps);
        }
    } else {
        util = after / (after + 100.0);
    }
    *scorep = 100.0 - penalty - 50.0 * util;
    return true;
}

bool
admission_check(const struct admission *a, const char *eni_id,
                const char *dest_id, double *scorep, char **reasonp)
{
    struct adm_eni *const *enis, *tmp;
    size_t n = unit_of__(a, eni_id, &enis, &tmp);
    struct adm_relevant *rel;
    size_t n_rel = relevant_rules__(a, enis, n, &rel);
    const struct adm_host *dest = shash_find_data(&a->hosts, dest_id);
    struct adm_host unknown = { .id = CONST_CAST(char *, dest_id) };
    struct ds reason = DS_EMPTY_INITIALIZER;
    double score = 0;
    const struct adm_eni *e = shash_find_data(&a->enis, eni_id);

    bool ok = judge__(a, enis, n, rel, n_rel, e ? e->host : NULL,
                      dest ? dest : &unknown, &score, &reason);
    free(rel);
    if (scorep) {
        *scorep = score;
    }
    if (reasonp) {
        *reasonp = ok ? NULL : ds_steal_cstr(&reason);
    }
    ds_destroy(&reason);
    return ok;
}

static int
compare_candidates__(const void *a_, const void *b_)
{
    const struct adm_candidate *a = a_, *b = b_;
    if (!a->reason != !b->reason) {
        return a->reason ? 1 : -1;
    }
    if (!a->reason && a->score != b->score) {
        return a->score > b->score ? -1 : 1;
    }
    return strcmp(a->host, b->host);
}

size_t
admission_recommend(const struct admission *a, const char *eni_id,
                    struct adm_candidate **candsp)
{
    struct adm_eni *const *enis, *tmp;
    size_t n = unit_of__(a, eni_id, &enis, &tmp);
    struct adm_relevant *rel;
    size_t n_rel = relevant_rules__(a, enis, n, &rel);
    const struct adm_host *src = n ? enis[0]->host : NULL;
    struct adm_candidate *c = xcalloc(shash_count(&a->hosts) + 1, sizeof *c);
    const struct shash_node *sn;
    size_t n_c = 0;
    struct ds reason = DS_EMPTY_INITIALIZER;

    SHASH_FOR_EACH (sn, &a->hosts) {
        const struct adm_host *h = sn->data;
        if (h == src || !h->configured) {
            continue;
        }
        ds_clear(&reason);
        c[n_c].host = xstrdup(h->id);
        if (!judge__(a, enis, n, rel, n_rel, src, h, &c[n_c].score,
                     &reason)) {
            c[n_c].reason = xstrdup(ds_cstr(&reason));
        }
        n_c++;
    }
    ds_destroy(&reason);
    free(rel);
    if (n_c > 1) {
        qsort(c, n_c, sizeof *c, compare_candidates__);
    }
    *candsp = c;
    return n_c;
}

void
adm_candidates_free(struct adm_candidate *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(c[i].host);
        free(c[i].reason);
    }
    free(c);
}

/* --- Evacuation ----------------------------------------------------------- */

struct evac_unit {
    const char *key;            /* VM UUID or ENI id */
    struct adm_eni **enis;
    size_t n;
    size_t n_must;              /* must rules concerning it */
    struct adm_host **saved;    /* host and dest of each ENI, to restore */
};

static int
compare_evac_units__(const void *a_, const void *b_)
{
    const struct evac_unit *a = a_, *b = b_;
    if (a->n_must != b->n_must) {
        return a->n_must > b->n_must ? -1 : 1;
    }
    if (a->n != b->n) {
        return a->n > b->n ? -1 : 1;
    }
    return strcmp(a->key, b->key);
}

void
admission_plan_evacuation(struct admission *a, const char *host_id,
                          struct adm_plan *plan)
{
    struct adm_host *src = shash_find_data(&a->hosts, host_id);
    struct shash_node *sn;
    struct sset seen = SSET_INITIALIZER(&seen);
    struct evac_unit *units = NULL;
    size_t n_units = 0, allocated = 0;

    memset(plan, 0, sizeof *plan);
    if (!src) {
        return;
    }
    SHASH_FOR_EACH (sn, &a->enis) {
        struct adm_eni *e = sn->data;
        const char *key = e->vm ? e->vm : e->id;
        if (e->host != src || !sset_add(&seen, key)) {
            continue;
        }
        if (n_units >= allocated) {
            units = x2nrealloc(units, &allocated, sizeof *units);
        }
        struct evac_unit *u = &units[n_units++];
        struct adm_eni *const *enis, *tmp;
        u->key = key;
        u->n = unit_of__(a, e->id, &enis, &tmp);
        u->enis = xmemdup(enis, u->n * sizeof *u->enis);
    }
    sset_destroy(&seen);

    /* Everything on the host is on its way: it neither holds places nor
     * keeps groups together there. */
    for (size_t i = 0; i < n_units; i++) {
        struct adm_host **saved = xmalloc(2 * units[i].n * sizeof *saved);
        units[i].saved = saved;
        for (size_t j = 0; j < units[i].n; j++) {
            struct adm_eni *e = units[i].enis[j];
            saved[2 * j] = e->host;
            saved[2 * j + 1] = e->dest;
            adm_account__(a, e, -1);
            e->host = e->dest = NULL;
        }
        struct adm_relevant *rel;
        size_t n_rel = relevant_rules__(a, units[i].enis, units[i].n, &rel);
        for (size_t r = 0; r < n_rel; r++) {
            units[i].n_must += rel[r].rule->strength == ADM_MUST;
        }
        free(rel);
    }
    if (n_units > 1) {
        qsort(units, n_units, sizeof *units, compare_evac_units__);
    }

    plan->moves = xcalloc(n_units + 1, sizeof *plan->moves);
    plan->n_moves = n_units;
    struct ds reason = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < n_units; i++) {
        struct evac_unit *u = &units[i];
        struct adm_move *m = &plan->moves[i];
        struct adm_relevant *rel;
        size_t n_rel = relevant_rules__(a, u->enis, u->n, &rel);
        struct adm_host *best = NULL;
        double best_score = 0;
        size_t n_refused = 0;
        char *first_refusal = NULL;

        SHASH_FOR_EACH (sn, &a->hosts) {
            struct adm_host *h = sn->data;
            double score;
            if (h == src || !h->configured) {
                continue;
            }
            ds_clear(&reason);
            if (judge__(a, u->enis, u->n, rel, n_rel, src, h, &score,
                        &reason)) {
                if (!best || score > best_score
                    || (score == best_score && strcmp(h->id, best->id) < 0)) {
                    best = h;
                    best_score = score;
                }
            } else if (!n_refused++) {
                first_refusal = xstrdup(ds_cstr(&reason));
            }
        }
        free(rel);
        m->unit = xstrdup(u->key);
        m->n_enis = u->n;
        m->enis = xmalloc(u->n * sizeof *m->enis);
        for (size_t j = 0; j < u->n; j++) {
            m->enis[j] = xstrdup(u->enis[j]->id);
        }
        if (best) {
            m->dest = xstrdup(best->id);
            m->score = best_score;
            for (size_t j = 0; j < u->n; j++) {
                u->enis[j]->host = best;
                adm_account__(a, u->enis[j], 1);
            }
        } else {
            plan->n_unplaced++;
            m->reason = (n_refused
                         ? xasprintf("no host admits it (%zu refused; e.g. "
                                     "%s)", n_refused, first_refusal)
                         : xstrdup("no other host"));
        }
        free(first_refusal);
    }
    ds_destroy(&reason);

    /* Back to where everything is. */
    for (size_t i = 0; i < n_units; i++) {
        for (size_t j = 0; j < units[i].n; j++) {
            struct adm_eni *e = units[i].enis[j];
            if (e->host) {
                adm_account__(a, e, -1);
            }
            e->host = units[i].saved[2 * j];
            e->dest = units[i].saved[2 * j + 1];
            adm_account__(a, e, 1);
        }
        free(units[i].enis);
        free(units[i].saved);
    }
    free(units);
}

void
adm_plan_destroy(struct adm_plan *plan)
{
    for (size_t i = 0; plan && i < plan->n_moves; i++) {
        struct adm_move *m = &plan->moves[i];
        for (size_t j = 0; j < m->n_enis; j++) {
            free(m->enis[j]);
        }
        free(m->enis);
        free(m->unit);
        free(m->dest);
        free(m->reason);
    }
    if (plan) {
        free(plan->moves);
        memset(plan, 0, sizeof *plan);
    }
}
