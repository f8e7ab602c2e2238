/* The REST API's security group endpoints: list, show, create (POST, id
 * optional), create-or-replace (PUT), delete (see docs/openapi.yaml).
 * Checked fully here; written through the ENI store, answered when it
 * commits. */
#include <config.h>

#include <event2/http.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "controller/eni-store.h"
#include "controller/eni.h"
#include "controller/rest-json.h"
#include "controller/rest-private.h"
#include "openvswitch/json.h"
#include "random.h"
#include "util.h"

/* Parses the body into a new security group; 'path_id' (PUT) is the id
 * unless the body names another.  Replies and returns NULL on error. */
static struct security_group *
sg_from_body__(struct rest_request *r, const char *path_id)
{
    struct json *body;
    if (!rest_parse_body(r, false, &body)) {
        return NULL;
    }

    struct security_group *sg = xzalloc(sizeof *sg);
    const char *code;
    char *msg = rest_sg_from_json(body, sg, &code);
    json_destroy(body);
    if (msg) {
        rest_reply_error(r, 400, code, "%s", msg);
        goto fail;
    }
    if (path_id && sg->id && strcmp(sg->id, path_id)) {
        rest_reply_error(r, 400, "invalid_field", "id: \"%s\" differs from "
                         "the id in the path, \"%s\"", sg->id, path_id);
        goto fail;
    } else if (!sg->id) {
        sg->id = (path_id ? xstrdup(path_id)
                  : xasprintf("sg-%01"PRIx32"%016"PRIx64,
                              random_uint32() & 0xf, random_uint64()));
    }

    msg = security_group_check(sg);
    if (msg) {
        rest_reply_error(r, 400, "invalid_field", "%s", msg);
        goto fail;
    }
    const struct eni_store *store = r->server->config.store;
    for (size_t i = 0; i < sg->n_rules; i++) {
        const char *g = sg->rules[i].remote_group;
        if (g && strcmp(g, sg->id) && !eni_store_find_sg(store, g)) {
            rest_reply_error(r, 400, "invalid_field", "rules[%zu]."
                             "remote_group: security group \"%s\" does not "
                             "exist", i, g);
            goto fail;
        }
    }
    return sg;

fail:
    free(msg);
    security_group_destroy(sg);
    return NULL;
}

static const struct security_group *
find_sg__(struct rest_request *r)
{
    const struct security_group *sg
        = eni_store_find_sg(r->server->config.store, r->id);
    if (!sg) {
        rest_reply_error(r, 404, "not_found", "security group \"%s\" does "
                         "not exist", r->id);
    }
    return sg;
}

void
rest_sg_list(struct rest_request *r)
{
    if (!rest_check_store_ready(r)) {
        return;
    }
    const struct security_group **sgs;
    size_t n = eni_store_list_sgs(r->server->config.store, &sgs);
    struct json *array = json_array_create_empty();
    for (size_t i = 0; i < n; i++) {
        json_array_add(array, rest_sg_to_json(sgs[i]));
    }
    free(sgs);

    struct json *top = json_object_create();
    json_object_put(top, "security_groups", array);
    rest_reply_json(r, 200, top);
}

void
rest_sg_get(struct rest_request *r)
{
    if (!rest_check_store_ready(r)) {
        return;
    }
    const struct security_group *sg = find_sg__(r);
    if (sg) {
        rest_reply_json(r, 200, rest_sg_to_json(sg));
    }
}

void
rest_sg_create(struct rest_request *r)
{
    if (!rest_check_store_ready(r)) {
        return;
    }
    struct security_group *sg = sg_from_body__(r, NULL);
    if (!sg) {
        return;
    }
    struct eni_store *store = r->server->config.store;
    if (eni_store_find_sg(store, sg->id)) {
        rest_reply_error(r, 409, "already_exists", "id: security group "
                         "\"%s\" exists already (PUT replaces it)", sg->id);
    } else {
        char *location = xasprintf("/v1/security-groups/%s", sg->id);
        evhttp_add_header(evhttp_request_get_output_headers(r->req),
                          "Location", location);
        free(location);
        eni_store_put_sg(store, sg, rest_wait_store(r, 201, REST_OBJ_SG,
                                                    sg->id), r);
    }
    security_group_destroy(sg);
}

void
rest_sg_put(struct rest_request *r)
{
    if (!rest_check_store_ready(r)) {
        return;
    }
    struct security_group *sg = sg_from_body__(r, r->id);
    if (!sg) {
        return;
    }
    struct eni_store *store = r->server->config.store;
    int status = eni_store_find_sg(store, sg->id) ? 200 : 201;
    eni_store_put_sg(store, sg, rest_wait_store(r, status, REST_OBJ_SG,
                                                sg->id), r);
    security_group_destroy(sg);
}

void
rest_sg_delete(struct rest_request *r)
{
    if (!rest_check_store_ready(r)) {
        return;
    }
    if (!find_sg__(r)) {
        return;
    }

    const struct eni **enis;
    size_t n = eni_store_list_enis(r->server->config.store, &enis);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < enis[i]->n_security_groups; j++) {
            if (!strcmp(enis[i]->security_groups[j], r->id)) {
                rest_reply_error(r, 409, "in_use", "security group \"%s\" "
                                 "is used by ENI \"%s\"", r->id,
                                 enis[i]->id);
                free(enis);
                return;
            }
        }
    }
    free(enis);
    {
        eni_store_delete_sg(r->server->config.store, r->id,
                            rest_wait_store(r, 204, REST_OBJ_NONE, NULL), r);
    }
}
