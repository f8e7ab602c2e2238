/* JSON <-> struct conversions of the REST API (see rest-json.h). */
#include <config.h>

#include "controller/rest-json.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "controller/eni.h"
#include "controller/host-registry.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "util.h"

/* Longest string any field takes (eni_check() has the real limits; this
 * keeps error messages from echoing megabytes). */
#define FIELD_MAX 1024

static const char *const eni_read_only[] = {
    "key", "state", "host", "ofport", "epoch", "migration", "created",
    "updated",
};

/* --- Helpers ------------------------------------------------------------ */

static char *
invalid__(const char **codep, const char *fmt, ...) OVS_PRINTF_FORMAT(2, 3);

static char *
invalid__(const char **codep, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    char *s = xvasprintf(fmt, args);
    va_end(args);
    *codep = "invalid_field";
    return s;
}

static struct json *
string_or_null__(const char *s)
{
    return s ? json_string_create(s) : json_null_create();
}

static struct json *
strings_to_json__(char *const *a, size_t n)
{
    struct json *array = json_array_create_empty();
    for (size_t i = 0; i < n; i++) {
        json_array_add(array, json_string_create(a[i]));
    }
    return array;
}

/* Stores a copy of string 'v' (or NULL if 'v' is null and 'nullable') in
 * '*sp', freeing the old value. */
static char *
get_string__(const char *field, const struct json *v, bool nullable,
             char **sp, const char **codep)
{
    if (v->type == JSON_NULL && nullable) {
        free(*sp);
        *sp = NULL;
        return NULL;
    } else if (v->type != JSON_STRING) {
        return invalid__(codep, "%s: must be a string%s, not %s", field,
                         nullable ? " or null" : "",
                         json_type_to_string(v->type));
    } else if (strlen(json_string(v)) > FIELD_MAX) {
        return invalid__(codep, "%s: longer than %d characters", field,
                         FIELD_MAX);
    }
    free(*sp);
    *sp = xstrdup(json_string(v));
    return NULL;
}

static char *
get_strings__(const char *field, const struct json *v, char ***ap,
              size_t *np, const char **codep)
{
    if (v->type != JSON_ARRAY) {
        return invalid__(codep, "%s: must be an array of strings, not %s",
                         field, json_type_to_string(v->type));
    }
    const struct json_array *a = json_array(v);
    for (size_t i = 0; i < a->n; i++) {
        if (a->elems[i]->type != JSON_STRING) {
            return invalid__(codep, "%s[%zu]: must be a string, not %s",
                             field, i, json_type_to_string(a->elems[i]->type));
        } else if (strlen(json_string(a->elems[i])) > FIELD_MAX) {
            return invalid__(codep, "%s[%zu]: longer than %d characters",
                             field, i, FIELD_MAX);
        }
    }
    for (size_t i = 0; i < *np; i++) {
        free((*ap)[i]);
    }
    free(*ap);
    *ap = a->n ? xcalloc(a->n, sizeof **ap) : NULL;
    for (size_t i = 0; i < a->n; i++) {
        (*ap)[i] = xstrdup(json_string(a->elems[i]));
    }
    *np = a->n;
    return NULL;
}

/* Gets an integer in 'min'..'max'. */
static char *
get_int__(const char *field, const struct json *v, long long int min,
          long long int max, long long int *ip, const char **codep)
{
    if (v->type != JSON_INTEGER) {
        return invalid__(codep, "%s: must be an integer, not %s", field,
                         json_type_to_string(v->type));
    }
    long long int i = json_integer(v);
    if (i < min || i > max) {
        return invalid__(codep, "%s: %lld is not in %lld..%lld", field, i,
                         min, max);
    }
    *ip = i;
    return NULL;
}

struct json *
rest_error_to_json(const char *code, const char *message)
{
    struct json *err = json_object_create();
    json_object_put_string(err, "code", code);
    json_object_put_string(err, "message", message);
    struct json *top = json_object_create();
    json_object_put(top, "error", err);
    return top;
}

struct json *
rest_time_to_json(long long int ms)
{
    time_t t = ms / 1000;
    struct tm tm;
    char buf[64];

    if (ms <= 0 || !gmtime_r(&t, &tm)) {
        return json_null_create();
    }
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof buf - n, ".%03lldZ", ms % 1000);
    return json_string_create(buf);
}

/* --- ENIs ----------------------------------------------------------------- */

struct json *
rest_eni_to_json(const struct eni *e)
{
    struct json *j = json_object_create();

    json_object_put_string(j, "id", e->id);
    json_object_put(j, "key", json_integer_create(e->key));
    json_object_put_string(j, "mac", e->mac);
    json_object_put(j, "primary_ipv4", string_or_null__(e->primary_ipv4));
    json_object_put(j, "secondary_ipv4s",
                    strings_to_json__(e->secondary_ipv4s,
                                      e->n_secondary_ipv4s));
    json_object_put(j, "ipv6s", strings_to_json__(e->ipv6s, e->n_ipv6s));
    json_object_put(j, "vni", json_integer_create(e->vni));
    json_object_put(j, "security_groups",
                    strings_to_json__(e->security_groups,
                                      e->n_security_groups));
    json_object_put(j, "source_dest_check",
                    json_boolean_create(e->source_dest_check));
    json_object_put(j, "description", string_or_null__(e->description));
    json_object_put(j, "vm_uuid", string_or_null__(e->vm_uuid));
    json_object_put(j, "cpu", string_or_null__(e->cpu));

    json_object_put_string(j, "state", eni_state_to_string(e->state));
    json_object_put(j, "host", string_or_null__(e->host));
    json_object_put(j, "ofport", (e->ofport >= 0
                                  ? json_integer_create(e->ofport)
                                  : json_null_create()));
    json_object_put(j, "epoch", json_integer_create(e->epoch));
    if (e->state == ENI_MIGRATING) {
        struct json *m = json_object_create();
        json_object_put_string(m, "phase",
                               eni_migration_phase_to_string(e->phase));
        json_object_put(m, "dest_host", string_or_null__(e->dest_host));
        json_object_put(m, "dest_ofport", (e->dest_ofport >= 0
                                           ? json_integer_create(
                                               e->dest_ofport)
                                           : json_null_create()));
        json_object_put(j, "migration", m);
    } else {
        json_object_put(j, "migration", json_null_create());
    }
    json_object_put(j, "created", rest_time_to_json(e->created));
    json_object_put(j, "updated", rest_time_to_json(e->updated));
    return j;
}

static char *
eni_field__(const char *name, const struct json *v, struct eni *e,
            enum rest_eni_mode mode, const char **codep)
{
    bool patch = mode == REST_ENI_PATCH;
    long long int i;
    char *error;

    if (v->type == JSON_NULL && !patch) {
        return NULL;            /* create: null is the same as absent */
    }
    if (!strcmp(name, "id")) {
        if (patch) {
            if (v->type != JSON_STRING || strcmp(json_string(v), e->id)) {
                *codep = "read_only_field";
                return xstrdup("id: cannot be changed");
            }
            return NULL;
        }
        return get_string__(name, v, false, &e->id, codep);
    } else if (!strcmp(name, "mac")) {
        return get_string__(name, v, false, &e->mac, codep);
    } else if (!strcmp(name, "primary_ipv4")) {
        return get_string__(name, v, true, &e->primary_ipv4, codep);
    } else if (!strcmp(name, "secondary_ipv4s")) {
        return get_strings__(name, v, &e->secondary_ipv4s,
                             &e->n_secondary_ipv4s, codep);
    } else if (!strcmp(name, "ipv6s")) {
        return get_strings__(name, v, &e->ipv6s, &e->n_ipv6s, codep);
    } else if (!strcmp(name, "vni")) {
        error = get_int__(name, v, 1, ENI_VNI_MAX, &i, codep);
        if (!error) {
            e->vni = i;
        }
        return error;
    } else if (!strcmp(name, "security_groups")) {
        return get_strings__(name, v, &e->security_groups,
                             &e->n_security_groups, codep);
    } else if (!strcmp(name, "source_dest_check")) {
        if (v->type != JSON_TRUE && v->type != JSON_FALSE) {
            return invalid__(codep, "source_dest_check: must be true or "
                             "false, not %s", json_type_to_string(v->type));
        }
        e->source_dest_check = v->type == JSON_TRUE;
        return NULL;
    } else if (!strcmp(name, "description")) {
        return get_string__(name, v, true, &e->description, codep);
    } else if (!strcmp(name, "vm_uuid")) {
        if (patch) {
            *codep = "read_only_field";
            return xstrdup("vm_uuid: use POST /v1/enis/{id}/attach or "
                           "/detach to change it");
        }
        return get_string__(name, v, true, &e->vm_uuid, codep);
    } else if (!strcmp(name, "cpu")) {
        /* Checked and normalized by the caller (rest-eni.c). */
        if (v->type == JSON_NULL) {
            free(e->cpu);
            e->cpu = NULL;
            return NULL;
        } else if (v->type != JSON_STRING) {
            return invalid__(codep, "cpu: must be a libvirt <cpu> element "
                             "as a string, or null, not %s",
                             json_type_to_string(v->type));
        } else if (strlen(json_string(v)) > ENI_CPU_MAX) {
            return invalid__(codep, "cpu: longer than %d characters",
                             ENI_CPU_MAX);
        }
        free(e->cpu);
        e->cpu = xstrdup(json_string(v));
        return NULL;
    }

    for (size_t k = 0; k < ARRAY_SIZE(eni_read_only); k++) {
        if (!strcmp(name, eni_read_only[k])) {
            *codep = "read_only_field";
            return xasprintf("%s: read-only field", name);
        }
    }
    *codep = "unknown_field";
    return xasprintf("%s: unknown field", name);
}

char *
rest_eni_from_json(const struct json *obj, struct eni *e,
                   enum rest_eni_mode mode, const char **codep)
{
    /* Sorted, so that the first error reported does not depend on hash
     * order. */
    const struct shash_node **nodes = shash_sort(json_object(obj));
    size_t n = shash_count(json_object(obj));
    char *error = NULL;

    for (size_t i = 0; i < n && !error; i++) {
        error = eni_field__(nodes[i]->name, nodes[i]->data, e, mode, codep);
    }
    free(nodes);
    return error;
}

/* --- Security groups ------------------------------------------------------ */

static const struct {
    const char *name;
    int proto;
} protocols[] = {
    { "any", 0 }, { "icmp", 1 }, { "tcp", 6 }, { "udp", 17 },
    { "icmpv6", 58 }, { "sctp", 132 },
};

bool
rest_protocol_from_string(const char *s, int *proto)
{
    for (size_t i = 0; i < ARRAY_SIZE(protocols); i++) {
        if (!strcasecmp(s, protocols[i].name)) {
            *proto = protocols[i].proto;
            return true;
        }
    }
    return false;
}

const char *
rest_protocol_to_string(int proto)
{
    for (size_t i = 0; i < ARRAY_SIZE(protocols); i++) {
        if (protocols[i].proto == proto) {
            return protocols[i].name;
        }
    }
    return NULL;
}

struct json *
rest_sg_to_json(const struct security_group *sg)
{
    struct json *j = json_object_create();
    struct json *rules = json_array_create_empty();

    json_object_put_string(j, "id", sg->id);
    json_object_put(j, "name", string_or_null__(sg->name));
    json_object_put(j, "description", string_or_null__(sg->description));
    for (size_t i = 0; i < sg->n_rules; i++) {
        const struct sg_rule *r = &sg->rules[i];
        struct json *rj = json_object_create();
        const char *proto = rest_protocol_to_string(r->protocol);

        json_object_put_string(rj, "direction", (r->direction == SG_INGRESS
                                                 ? "ingress" : "egress"));
        json_object_put_string(rj, "ethertype", (r->ethertype == SG_IPV4
                                                 ? "IPv4" : "IPv6"));
        json_object_put(rj, "protocol", (proto
                                         ? json_string_create(proto)
                                         : json_integer_create(r->protocol)));
        json_object_put(rj, "port_min", json_integer_create(r->port_min));
        json_object_put(rj, "port_max", json_integer_create(r->port_max));
        if (r->remote_cidr) {
            json_object_put_string(rj, "remote_cidr", r->remote_cidr);
        }
        if (r->remote_group) {
            json_object_put_string(rj, "remote_group", r->remote_group);
        }
        json_array_add(rules, rj);
    }
    json_object_put(j, "rules", rules);
    return j;
}

static char *
rule_from_json__(size_t idx, const struct json *obj, struct sg_rule *r,
                 const char **codep)
{
    long long int i;
    char *error = NULL;
    char field[64];

    if (obj->type != JSON_OBJECT) {
        return invalid__(codep, "rules[%zu]: must be an object, not %s", idx,
                         json_type_to_string(obj->type));
    }
    r->ethertype = SG_IPV4;
    if (!shash_find(json_object(obj), "direction")) {
        return invalid__(codep, "rules[%zu].direction: missing (ingress or "
                         "egress)", idx);
    }

    const struct shash_node **nodes = shash_sort(json_object(obj));
    size_t n = shash_count(json_object(obj));
    for (size_t k = 0; k < n && !error; k++) {
        const char *name = nodes[k]->name;
        const struct json *v = nodes[k]->data;
        snprintf(field, sizeof field, "rules[%zu].%.32s", idx, name);

        if (!strcmp(name, "direction")) {
            const char *d = v->type == JSON_STRING ? json_string(v) : "";
            if (!strcasecmp(d, "ingress") || !strcasecmp(d, "egress")) {
                r->direction = tolower((unsigned char) d[0]) == 'i'
                               ? SG_INGRESS : SG_EGRESS;
            } else {
                error = invalid__(codep, "%s: must be \"ingress\" or "
                                  "\"egress\"", field);
            }
        } else if (!strcmp(name, "ethertype")) {
            const char *t = v->type == JSON_STRING ? json_string(v) : "";
            if (!strcasecmp(t, "IPv4") || !strcasecmp(t, "IPv6")) {
                r->ethertype = t[3] == '4' ? SG_IPV4 : SG_IPV6;
            } else {
                error = invalid__(codep, "%s: must be \"IPv4\" or \"IPv6\"",
                                  field);
            }
        } else if (!strcmp(name, "protocol")) {
            int proto;
            if (v->type == JSON_STRING
                && rest_protocol_from_string(json_string(v), &proto)) {
                r->protocol = proto;
            } else if (v->type == JSON_INTEGER) {
                error = get_int__(field, v, 0, 255, &i, codep);
                r->protocol = error ? 0 : i;
            } else {
                error = invalid__(codep, "%s: must be tcp, udp, icmp, "
                                  "icmpv6, sctp, any or a number 0..255",
                                  field);
            }
        } else if (!strcmp(name, "port_min") || !strcmp(name, "port_max")) {
            error = get_int__(field, v, 0, 65535, &i, codep);
            if (!error && !strcmp(name, "port_min")) {
                r->port_min = i;
            } else if (!error) {
                r->port_max = i;
            }
        } else if (!strcmp(name, "remote_cidr")) {
            error = get_string__(field, v, true, &r->remote_cidr, codep);
        } else if (!strcmp(name, "remote_group")) {
            error = get_string__(field, v, true, &r->remote_group, codep);
        } else {
            *codep = "unknown_field";
            error = xasprintf("%s: unknown field", field);
        }
    }
    free(nodes);
    return error;
}

char *
rest_sg_from_json(const struct json *obj, struct security_group *sg,
                  const char **codep)
{
    const struct shash_node **nodes = shash_sort(json_object(obj));
    size_t n = shash_count(json_object(obj));
    char *error = NULL;

    for (size_t k = 0; k < n && !error; k++) {
        const char *name = nodes[k]->name;
        const struct json *v = nodes[k]->data;

        if (!strcmp(name, "id")) {
            error = get_string__(name, v, false, &sg->id, codep);
        } else if (!strcmp(name, "name")) {
            error = get_string__(name, v, true, &sg->name, codep);
        } else if (!strcmp(name, "description")) {
            error = get_string__(name, v, true, &sg->description, codep);
        } else if (!strcmp(name, "rules")) {
            if (v->type != JSON_ARRAY) {
                error = invalid__(codep, "rules: must be an array, not %s",
                                  json_type_to_string(v->type));
                break;
            }
            const struct json_array *a = json_array(v);
            for (size_t i = 0; i < sg->n_rules; i++) {
                free(sg->rules[i].remote_cidr);
                free(sg->rules[i].remote_group);
            }
            free(sg->rules);
            sg->rules = a->n ? xcalloc(a->n, sizeof *sg->rules) : NULL;
            sg->n_rules = a->n;
            for (size_t i = 0; i < a->n && !error; i++) {
                error = rule_from_json__(i, a->elems[i], &sg->rules[i],
                                         codep);
            }
        } else {
            *codep = "unknown_field";
            error = xasprintf("%s: unknown field", name);
        }
    }
    free(nodes);
    return error;
}

/* --- Hosts ---------------------------------------------------------------- */

struct json *
rest_host_to_json(const struct host *h, long long int now)
{
    struct json *j = json_object_create();

    json_object_put_string(j, "id", h->id);
    json_object_put(j, "hypervisor", string_or_null__(h->hypervisor));
    json_object_put(j, "hostname", string_or_null__(h->hostname));
    json_object_put(j, "tunnel_ip", string_or_null__(h->tunnel_ip));
    json_object_put(j, "tunnel_type", string_or_null__(
                        h->tunnel_type && h->tunnel_type[0]
                        ? h->tunnel_type : "geneve"));
    json_object_put(j, "bridge", string_or_null__(h->bridge));
    json_object_put(j, "agent_version", string_or_null__(h->agent_version));
    json_object_put(j, "capabilities",
                    strings_to_json__(h->capabilities, h->n_capabilities));
    json_object_put_format(j, "boot_id", "%016"PRIx64, h->boot_id);
    json_object_put(j, "connected", json_boolean_create(h->connected));
    json_object_put(j, "connected_for_ms", (h->connected
                                            ? json_integer_create(
                                                now - h->connected_at)
                                            : json_null_create()));
    json_object_put(j, "last_heard_ms_ago",
                    json_integer_create(now - h->last_heard));
    json_object_put(j, "sessions", json_integer_create(h->n_sessions));
    json_object_put(j, "cpu_model", (h->n_cpu_flags
                                     ? json_string_create(h->cpu_model
                                                          ? h->cpu_model
                                                          : "")
                                     : json_null_create()));
    json_object_put(j, "cpu_flags", strings_to_json__(h->cpu_flags,
                                                      h->n_cpu_flags));
    return j;
}
