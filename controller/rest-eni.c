/* The REST API's ENI endpoints: list, show, create, update, delete, attach
 * to a VM and detach (see docs/openapi.yaml).  Checks every request fully
 * before handing the change to the ENI store; replies once it commits. */
#include <config.h>

#include <event2/http.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/eni-store.h"
#include "controller/eni.h"
#include "controller/rest-json.h"
#include "controller/rest-private.h"
#include "lib/validate.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "random.h"
#include "timeval.h"
#include "util.h"

/* "eni-" and 17 hex digits (68 random bits). */
static char *
generate_id__(const char *prefix)
{
    return xasprintf("%s%01"PRIx32"%016"PRIx64, prefix,
                     random_uint32() & 0xf, random_uint64());
}

/* A random unicast, locally administered MAC. */
static char *
generate_mac__(void)
{
    uint64_t r = random_uint64();
    uint8_t b[6];
    for (int i = 0; i < 6; i++) {
        b[i] = r >> (8 * i);
    }
    b[0] = (b[0] & 0xfc) | 0x02;
    return xasprintf("%02x:%02x:%02x:%02x:%02x:%02x",
                     b[0], b[1], b[2], b[3], b[4], b[5]);
}

/* Looks up the ENI the path names; replies 404 and returns NULL if none. */
static const struct eni *
find_eni__(struct rest_request *r)
{
    const struct eni *e = eni_store_find_eni(r->server->config.store, r->id);
    if (!e) {
        rest_reply_error(r, 404, "not_found", "ENI \"%s\" does not exist",
                         r->id);
    }
    return e;
}

/* Checks 'e''s fields and that its security groups exist; replies 400 and
 * returns false if not. */
static bool
check_eni__(struct rest_request *r, const struct eni *e)
{
    char *msg = eni_check(e);
    if (msg) {
        rest_reply_error(r, 400, "invalid_field", "%s", msg);
        free(msg);
        return false;
    }
    for (size_t i = 0; i < e->n_security_groups; i++) {
        if (!eni_store_find_sg(r->server->config.store,
                               e->security_groups[i])) {
            rest_reply_error(r, 400, "invalid_field", "security_groups[%zu]: "
                             "security group \"%s\" does not exist", i,
                             e->security_groups[i]);
            return false;
        }
    }
    return true;
}

/* Checks and normalizes 'e''s CPU definition if it is new or changed from
 * 'old''s (NULL: none); replies and returns false if it is refused. */
static bool
check_cpu__(struct rest_request *r, struct eni *e, const struct eni *old)
{
    const struct rest_cpu_checker *c = &r->server->config.cpu;
    if (!e->cpu || (old && old->cpu && !strcmp(e->cpu, old->cpu))) {
        return true;
    } else if (!c->check) {
        rest_reply_error(r, 400, "invalid_field", "cpu: CPU definitions "
                         "need migration admission, which is not enabled");
        return false;
    }
    char *normalized = NULL, *err = NULL;
    int status = c->check(c->aux, e->cpu, &normalized, &err);
    if (status) {
        rest_reply_error(r, status, status == 400 ? "invalid_field"
                         : "unavailable", "cpu: %s", err);
        free(err);
        return false;
    }
    free(e->cpu);
    e->cpu = normalized;
    return true;
}

/* Parses the body into 'e' according to 'mode'; replies and returns false
 * on any error. */
static bool
eni_from_body__(struct rest_request *r, struct eni *e, enum rest_eni_mode mode)
{
    struct json *body;
    if (!rest_parse_body(r, false, &body)) {
        return false;
    }
    const char *code;
    char *msg = rest_eni_from_json(body, e, mode, &code);
    json_destroy(body);
    if (msg) {
        rest_reply_error(r, 400, code, "%s", msg);
        free(msg);
        return false;
    }
    return true;
}

void
rest_eni_list(struct rest_request *r)
{
    if (!rest_check_store_ready(r)) {
        return;
    }
    const struct eni **enis;
    size_t n = eni_store_list_enis(r->server->config.store, &enis);
    struct json *array = json_array_create_empty();
    for (size_t i = 0; i < n; i++) {
        json_array_add(array, rest_eni_to_json(enis[i]));
    }
    free(enis);

    struct json *top = json_object_create();
    json_object_put(top, "enis", array);
    rest_reply_json(r, 200, top);
}

void
rest_eni_get(struct rest_request *r)
{
    if (!rest_check_store_ready(r)) {
        return;
    }
    const struct eni *e = find_eni__(r);
    if (e) {
        rest_reply_json(r, 200, rest_eni_to_json(e));
    }
}

void
rest_eni_create(struct rest_request *r)
{
    struct eni_store *store = r->server->config.store;
    if (!rest_check_store_ready(r)) {
        return;
    }

    struct eni *e = eni_create();
    if (!eni_from_body__(r, e, REST_ENI_CREATE)) {
        goto out;
    }
    if (!e->id) {
        e->id = generate_id__("eni-");
    }
    if (!e->mac) {
        e->mac = generate_mac__();
    }
    if (!check_eni__(r, e) || !check_cpu__(r, e, NULL)) {
        goto out;
    }
    if (eni_store_find_eni(store, e->id)) {
        rest_reply_error(r, 409, "already_exists", "id: ENI \"%s\" exists "
                         "already", e->id);
        goto out;
    }
    e->state = e->vm_uuid ? ENI_ATTACHING : ENI_DETACHED;
    e->created = e->updated = time_wall_msec();

    char *location = xasprintf("/v1/enis/%s", e->id);
    evhttp_add_header(evhttp_request_get_output_headers(r->req), "Location",
                      location);
    free(location);
    eni_store_create_eni(store, e, rest_wait_store(r, 201, REST_OBJ_ENI,
                                                   e->id), r);
out:
    eni_destroy(e);
}

void
rest_eni_patch(struct rest_request *r)
{
    if (!rest_check_store_ready(r)) {
        return;
    }
    const struct eni *old = find_eni__(r);
    if (!old) {
        return;
    }

    struct eni *e = eni_clone(old);
    if (eni_from_body__(r, e, REST_ENI_PATCH) && check_eni__(r, e)
        && check_cpu__(r, e, old)) {
        e->updated = time_wall_msec();
        eni_store_update_eni(r->server->config.store, e,
                             rest_wait_store(r, 200, REST_OBJ_ENI, e->id), r);
    }
    eni_destroy(e);
}

void
rest_eni_delete(struct rest_request *r)
{
    if (!rest_check_store_ready(r)) {
        return;
    }
    const struct eni *e = find_eni__(r);
    if (!e) {
        return;
    } else if (eni_is_wired(e)) {
        rest_reply_error(r, 409, "in_use", "ENI \"%s\" is %s on host %s; "
                         "detach it and wait for its VIF to go first",
                         e->id, eni_state_to_string(e->state),
                         e->host ? e->host : "?");
        return;
    }
    eni_store_delete_eni(r->server->config.store, r->id,
                         rest_wait_store(r, 204, REST_OBJ_NONE, NULL), r);
}

/* Writes 'e' with 'vm_uuid' (NULL to detach) as its attachment. */
static void
set_attachment__(struct rest_request *r, const struct eni *old,
                 const char *vm_uuid)
{
    struct eni *e = eni_clone(old);
    free(e->vm_uuid);
    e->vm_uuid = vm_uuid ? xstrdup(vm_uuid) : NULL;
    e->updated = time_wall_msec();
    eni_store_update_eni(r->server->config.store, e,
                         rest_wait_store(r, 200, REST_OBJ_ENI, e->id), r);
    eni_destroy(e);
}

void
rest_eni_attach(struct rest_request *r)
{
    if (!rest_check_store_ready(r)) {
        return;
    }
    const struct eni *e = find_eni__(r);
    struct json *body;
    if (!e || !rest_parse_body(r, false, &body)) {
        return;
    }

    const struct json *vm = NULL;
    struct shash_node *node;
    SHASH_FOR_EACH (node, json_object(body)) {
        if (strcmp(node->name, "vm_uuid")) {
            rest_reply_error(r, 400, "unknown_field", "%s: unknown field "
                             "(attach takes only vm_uuid)", node->name);
            goto out;
        }
        vm = node->data;
    }
    if (!vm) {
        rest_reply_error(r, 400, "invalid_field", "vm_uuid: missing");
    } else if (vm->type != JSON_STRING) {
        rest_reply_error(r, 400, "invalid_field", "vm_uuid: must be a "
                         "string, not %s", json_type_to_string(vm->type));
    } else if (!tether_valid_uuid(json_string(vm))) {
        rest_reply_error(r, 400, "invalid_field", "vm_uuid: \"%.64s\" is "
                         "not a UUID", json_string(vm));
    } else if (e->vm_uuid && strcasecmp(e->vm_uuid, json_string(vm))) {
        rest_reply_error(r, 409, "in_use", "ENI \"%s\" is attached to VM %s; "
                         "detach it first", e->id, e->vm_uuid);
    } else if (e->vm_uuid) {
        rest_reply_json(r, 200, rest_eni_to_json(e));   /* already so */
    } else {
        set_attachment__(r, e, json_string(vm));
    }
out:
    json_destroy(body);
}

void
rest_eni_detach(struct rest_request *r)
{
    if (!rest_check_store_ready(r)) {
        return;
    }
    const struct eni *e = find_eni__(r);
    struct json *body;
    if (!e || !rest_parse_body(r, true, &body)) {
        return;
    }

    if (shash_count(json_object(body))) {
        rest_reply_error(r, 400, "unknown_field", "%s: unknown field "
                         "(detach takes no fields)",
                         shash_first(json_object(body))->name);
    } else if (e->state == ENI_MIGRATING) {
        rest_reply_error(r, 409, "in_use", "ENI \"%s\" is migrating to %s; "
                         "detach it once the migration has ended", e->id,
                         e->dest_host ? e->dest_host : "?");
    } else if (!e->vm_uuid) {
        rest_reply_json(r, 200, rest_eni_to_json(e));   /* already so */
    } else {
        set_attachment__(r, e, NULL);
    }
    json_destroy(body);
}
