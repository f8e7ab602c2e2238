/* Migration admission: its domains, groups, rules and hosts as JSON, both
 * ways, and evacuation plans as JSON (see admission.h); the REST API and
 * the store speak these forms. */
#include <config.h>

#include "controller/admission-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "util.h"

static char *
field_error__(const char *field, const char *what)
{
    return xasprintf("%s: must be %s", field, what);
}

/* Gets optional field 'name' of 'obj' of JSON 'type'; '*errp' set and
 * NULL returned if present with another type. */
static const struct json *
get__(const struct json *obj, const char *name, enum json_type type,
      const char *what, char **errp)
{
    const struct json *v = shash_find_data(json_object(obj), name);
    if (v && v->type == JSON_NULL) {
        return NULL;
    }
    if (v && v->type != type) {
        *errp = field_error__(name, what);
        return NULL;
    }
    return v;
}

static bool
only_fields__(const struct json *obj, const char *const *names, char **errp)
{
    const struct shash_node *n;
    SHASH_FOR_EACH (n, json_object(obj)) {
        bool known = false;
        for (size_t i = 0; names[i]; i++) {
            known = known || !strcmp(n->name, names[i]);
        }
        if (!known) {
            *errp = xasprintf("%s: unknown field", n->name);
            return false;
        }
    }
    return true;
}

/* Strings of array 'v' (NULL: none) into a new array (the caller frees the
 * array only); NULL and '*errp' if an element is not a string. */
static const char **
strings__(const struct json *v, const char *field, size_t *n, char **errp)
{
    const struct json_array *a = v ? json_array(v) : NULL;
    *n = a ? a->n : 0;
    const char **s = xmalloc((*n + 1) * sizeof *s);
    for (size_t i = 0; i < *n; i++) {
        if (a->elems[i]->type != JSON_STRING) {
            *errp = xasprintf("%s[%zu]: must be a string", field, i);
            free(s);
            return NULL;
        }
        s[i] = json_string(a->elems[i]);
    }
    return s;
}

static bool
uint__(const struct json *obj, const char *name, unsigned int max,
       unsigned int *u, char **errp)
{
    const struct json *v = get__(obj, name, JSON_INTEGER, "an integer", errp);
    if (*errp) {
        return false;
    }
    if (v) {
        if (json_integer(v) < 0 || json_integer(v) > max) {
            *errp = xasprintf("%s: %lld is not in 0..%u", name,
                              (long long int) json_integer(v), max);
            return false;
        }
        *u = json_integer(v);
    }
    return true;
}

int
admission_put_json(struct admission *a, const char *kind, const char *id,
                   const struct json *obj, char **errp)
{
    char *err = NULL;
    int error = EINVAL;

    if (obj->type != JSON_OBJECT) {
        *errp = xstrdup("body: must be a JSON object");
        return EINVAL;
    }
    const struct json *jid = get__(obj, "id", JSON_STRING, "a string", &err);
    if (!err && jid && strcmp(json_string(jid), id)) {
        err = xasprintf("id: \"%s\" is not the \"%s\" of the path",
                        json_string(jid), id);
    }
    if (err) {
        goto out;
    }
    if (!strcmp(kind, "domain")) {
        static const char *const names[] = { "id", "kind", "hosts", NULL };
        const struct json *k = get__(obj, "kind", JSON_STRING, "a string",
                                     &err);
        const struct json *h = (err ? NULL
                                : get__(obj, "hosts", JSON_ARRAY,
                                        "an array of host ids", &err));
        size_t n;
        const char **hosts = (err || !only_fields__(obj, names, &err) ? NULL
                              : strings__(h, "hosts", &n, &err));
        if (hosts) {
            error = admission_put_domain(a, id, k ? json_string(k) : NULL,
                                         hosts, n, &err);
            free(hosts);
        }
    } else if (!strcmp(kind, "group")) {
        static const char *const names[] = { "id", "members",
                                             "bandwidth_mbps", NULL };
        const struct json *m = get__(obj, "members", JSON_ARRAY,
                                     "an array of ENI ids and VM UUIDs",
                                     &err);
        unsigned int bw = 0;
        size_t n;
        const char **members = (err || !only_fields__(obj, names, &err)
                                || !uint__(obj, "bandwidth_mbps", 1000000,
                                           &bw, &err)
                                ? NULL : strings__(m, "members", &n, &err));
        if (members) {
            error = admission_put_group(a, id, members, n, bw, &err);
            free(members);
        }
    } else if (!strcmp(kind, "rule")) {
        static const char *const names[] = { "id", "strength", "type",
                                             "group", "domain", "scope",
                                             "weight", NULL };
        struct adm_rule_spec s = { .id = id };
        const struct json *st = get__(obj, "strength", JSON_STRING,
                                      "\"must\" or \"should\"", &err);
        const struct json *ty = (err ? NULL
                                 : get__(obj, "type", JSON_STRING,
                                         "\"together\" or \"apart\"", &err));
        const struct json *g = (err ? NULL
                                : get__(obj, "group", JSON_STRING,
                                        "a group id", &err));
        const struct json *d = (err ? NULL
                                : get__(obj, "domain", JSON_STRING,
                                        "a domain id", &err));
        const struct json *sc = (err ? NULL
                                 : get__(obj, "scope", JSON_STRING,
                                         "\"host\" or a domain kind", &err));
        if (err || !only_fields__(obj, names, &err)
            || !uint__(obj, "weight", 100, &s.weight, &err)) {
            goto out;
        }
        if (!st || (strcmp(json_string(st), "must")
                    && strcmp(json_string(st), "should"))) {
            err = field_error__("strength", "\"must\" or \"should\"");
        } else if (!ty || (strcmp(json_string(ty), "together")
                           && strcmp(json_string(ty), "apart"))) {
            err = field_error__("type", "\"together\" or \"apart\"");
        } else if (!g) {
            err = field_error__("group", "a group id");
        } else {
            s.strength = !strcmp(json_string(st), "must") ? ADM_MUST
                                                           : ADM_SHOULD;
            s.polarity = !strcmp(json_string(ty), "together") ? ADM_TOGETHER
                                                               : ADM_APART;
            s.group = json_string(g);
            s.domain = d ? json_string(d) : NULL;
            s.scope = sc ? json_string(sc) : NULL;
            error = admission_put_rule(a, &s, &err);
        }
    } else if (!strcmp(kind, "host")) {
        static const char *const names[] = { "id", "maintenance", "max_enis",
                                             "bandwidth_mbps", "enis",
                                             "bandwidth_used_mbps", NULL };
        struct adm_host_limits lim = { .maintenance = false };
        const struct adm_host_limits *old = admission_get_host(a, id);
        if (old) {
            lim = *old;         /* a partial update keeps the rest */
        }
        const struct json *m = get__(obj, "maintenance", JSON_TRUE,
                                     "a boolean", &err);
        if (err && (m = shash_find_data(json_object(obj), "maintenance"))
            && m->type == JSON_FALSE) {
            free(err);
            err = NULL;
        }
        if (err || !only_fields__(obj, names, &err)
            || !uint__(obj, "max_enis", 1000000, &lim.max_enis, &err)
            || !uint__(obj, "bandwidth_mbps", 100000000, &lim.bandwidth_mbps,
                       &err)) {
            goto out;
        }
        if (m) {
            lim.maintenance = m->type == JSON_TRUE;
        }
        admission_put_host(a, id, &lim);
        error = 0;
    } else {
        err = xasprintf("\"%s\" is not domain, group, rule or host", kind);
    }

out:
    if (error && !err) {
        err = xstrdup("invalid");
    }
    if (errp) {
        *errp = error ? err : NULL;
    } else {
        free(err);
    }
    if (!error) {
        free(err);
    }
    return error;
}

int
admission_delete_kind(struct admission *a, const char *kind, const char *id,
                      char **errp)
{
    if (!strcmp(kind, "domain")) {
        return admission_delete_domain(a, id, errp);
    } else if (!strcmp(kind, "group")) {
        return admission_delete_group(a, id, errp);
    } else if (!strcmp(kind, "rule")) {
        return admission_delete_rule(a, id, errp);
    } else if (!strcmp(kind, "host")) {
        if (!admission_get_host(a, id)) {
            *errp = xasprintf("host \"%s\" has no limits", id);
            return ENOENT;
        }
        admission_put_host(a, id, &(struct adm_host_limits) { false, 0, 0 });
        return 0;
    }
    *errp = xasprintf("\"%s\" is not domain, group, rule or host", kind);
    return EINVAL;
}

static struct json *
sset_to_json__(const struct sset *s)
{
    struct json *array = json_array_create_empty();
    const char **names = sset_sort(s);
    for (size_t i = 0; names[i]; i++) {
        json_array_add(array, json_string_create(names[i]));
    }
    free(names);
    return array;
}

static struct json *
to_json__(const char *kind, const void *obj)
{
    struct json *j = json_object_create();
    if (!strcmp(kind, "domain")) {
        const struct adm_domain *d = obj;
        json_object_put_string(j, "id", d->id);
        json_object_put_string(j, "kind", d->kind);
        json_object_put(j, "hosts", sset_to_json__(&d->hosts));
    } else if (!strcmp(kind, "group")) {
        const struct adm_group *g = obj;
        json_object_put_string(j, "id", g->id);
        json_object_put(j, "members", sset_to_json__(&g->members));
        json_object_put(j, "bandwidth_mbps",
                        json_integer_create(g->bandwidth_mbps));
        json_object_put(j, "enis_placed", json_integer_create(g->n_placed));
    } else if (!strcmp(kind, "rule")) {
        const struct adm_rule *r = obj;
        struct ds s = DS_EMPTY_INITIALIZER;
        json_object_put_string(j, "id", r->id);
        json_object_put_string(j, "strength",
                               r->strength == ADM_MUST ? "must" : "should");
        json_object_put_string(j, "type", r->polarity == ADM_TOGETHER
                               ? "together" : "apart");
        json_object_put_string(j, "group", r->group_id);
        if (r->domain_id) {
            json_object_put_string(j, "domain", r->domain_id);
        } else {
            json_object_put_string(j, "scope", r->scope ? r->scope : "host");
        }
        json_object_put(j, "weight", json_integer_create(r->weight));
        admission_rule_describe__(r, &s);
        json_object_put_string(j, "description", ds_cstr(&s));
        ds_destroy(&s);
    } else {
        const struct adm_host *h = obj;
        json_object_put_string(j, "id", h->id);
        json_object_put(j, "maintenance",
                        json_boolean_create(h->lim.maintenance));
        json_object_put(j, "max_enis", json_integer_create(h->lim.max_enis));
        json_object_put(j, "bandwidth_mbps",
                        json_integer_create(h->lim.bandwidth_mbps));
        json_object_put(j, "enis", json_integer_create(h->n_enis));
        json_object_put(j, "bandwidth_used_mbps",
                        json_integer_create(h->bw_used));
    }
    return j;
}

static const struct shash *
table__(const struct admission *a, const char *kind)
{
    return (!strcmp(kind, "domain") ? &a->domains
            : !strcmp(kind, "group") ? &a->groups
            : !strcmp(kind, "rule") ? &a->rules
            : !strcmp(kind, "host") ? &a->hosts : NULL);
}

struct json *
admission_get_json(const struct admission *a, const char *kind,
                   const char *id)
{
    const struct shash *t = table__(a, kind);
    const void *obj = t ? shash_find_data(t, id) : NULL;
    return obj ? to_json__(kind, obj) : NULL;
}

struct json *
admission_list_json(const struct admission *a, const char *kind)
{
    const struct shash *t = table__(a, kind);
    struct json *array = json_array_create_empty();
    if (t) {
        const struct shash_node **nodes = shash_sort(t);
        for (size_t i = 0; i < shash_count(t); i++) {
            json_array_add(array, to_json__(kind, nodes[i]->data));
        }
        free(nodes);
    }
    return array;
}

const char *const *
admission_domain_hosts(const struct admission *a, const char *id, size_t *n)
{
    const struct adm_domain *d = shash_find_data(&a->domains, id);
    *n = d ? sset_count(&d->hosts) : 0;
    return d ? d->host_array : NULL;
}

struct json *
adm_plan_to_json(const struct adm_plan *plan)
{
    struct json *moves = json_array_create_empty();
    struct json *unplaced = json_array_create_empty();
    for (size_t i = 0; i < plan->n_moves; i++) {
        const struct adm_move *m = &plan->moves[i];
        struct json *j = json_object_create();
        struct json *enis = json_array_create_empty();
        json_object_put_string(j, "unit", m->unit);
        for (size_t k = 0; k < m->n_enis; k++) {
            json_array_add(enis, json_string_create(m->enis[k]));
        }
        json_object_put(j, "enis", enis);
        if (m->dest) {
            json_object_put_string(j, "dest_host", m->dest);
            json_object_put(j, "score", json_real_create(m->score));
            json_array_add(moves, j);
        } else {
            json_object_put_string(j, "reason", m->reason);
            json_array_add(unplaced, j);
        }
    }
    struct json *top = json_object_create();
    json_object_put(top, "moves", moves);
    json_object_put(top, "unplaced", unplaced);
    json_object_put(top, "n_units", json_integer_create(plan->n_moves));
    json_object_put(top, "n_unplaced", json_integer_create(plan->n_unplaced));
    return top;
}

/* One element of "moves" or "unplaced" into 'm'. */
static bool
move_from_json__(const struct json *j, bool placed, struct adm_move *m)
{
    if (j->type != JSON_OBJECT) {
        return false;
    }
    const struct json *unit = shash_find_data(json_object(j), "unit");
    const struct json *enis = shash_find_data(json_object(j), "enis");
    const struct json *dest = shash_find_data(json_object(j), "dest_host");
    const struct json *score = shash_find_data(json_object(j), "score");
    const struct json *reason = shash_find_data(json_object(j), "reason");
    if (!unit || unit->type != JSON_STRING
        || !enis || enis->type != JSON_ARRAY
        || (placed ? !dest || dest->type != JSON_STRING
                     || !score || (score->type != JSON_REAL
                                   && score->type != JSON_INTEGER)
                   : !reason || reason->type != JSON_STRING)) {
        return false;
    }
    const struct json_array *a = json_array(enis);
    for (size_t i = 0; i < a->n; i++) {
        if (a->elems[i]->type != JSON_STRING) {
            return false;
        }
    }
    m->unit = xstrdup(json_string(unit));
    m->n_enis = a->n;
    m->enis = xmalloc((a->n + 1) * sizeof *m->enis);
    for (size_t i = 0; i < a->n; i++) {
        m->enis[i] = xstrdup(json_string(a->elems[i]));
    }
    if (placed) {
        m->dest = xstrdup(json_string(dest));
        m->score = (score->type == JSON_REAL ? json_real(score)
                    : json_integer(score));
    } else {
        m->reason = xstrdup(json_string(reason));
    }
    return true;
}

bool
adm_plan_from_json(const struct json *json, struct adm_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    const struct json *lists[2] = { NULL, NULL };
    if (json->type == JSON_OBJECT) {
        lists[0] = shash_find_data(json_object(json), "moves");
        lists[1] = shash_find_data(json_object(json), "unplaced");
    }
    for (size_t k = 0; k < 2; k++) {
        if (!lists[k] || lists[k]->type != JSON_ARRAY) {
            return false;
        }
    }
    size_t n = json_array(lists[0])->n + json_array(lists[1])->n;
    plan->moves = xcalloc(n ? n : 1, sizeof *plan->moves);
    for (size_t k = 0; k < 2; k++) {
        const struct json_array *a = json_array(lists[k]);
        for (size_t i = 0; i < a->n; i++) {
            if (!move_from_json__(a->elems[i], !k,
                                  &plan->moves[plan->n_moves])) {
                adm_plan_destroy(plan);
                return false;
            }
            plan->n_moves++;
            plan->n_unplaced += k;
        }
    }
    return true;
}
