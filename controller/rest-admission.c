/* The REST API's admission endpoints: domains, resource groups, placement
 * rules, host limits, destination recommendations, evacuations and the CPU
 * baseline and check.  Each hands the request to the admission source in
 * rest_config (tetherd's controller/placement.c) and replies with what it
 * answers, at once or, for a write, once it is committed. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "controller/rest-private.h"
#include "openvswitch/json.h"
#include "util.h"

/* A deferred reply (REST_DEFERRED): 'r' waited in the server's 'pending'
 * list, so a destroyed server left it without its HTTP request and the
 * reply functions only free it. */
static void
admission_done__(void *r_, int status, struct json *reply)
{
    struct rest_request *r = r_;
    if (reply) {
        rest_reply_json(r, status, reply);
    } else {
        rest_reply_empty(r, status);
    }
}

static void
admission__(struct rest_request *r, const char *what)
{
    const struct rest_admission_source *src = &r->server->config.admission;
    struct json *body = NULL, *reply = NULL;

    if (!src->handle) {
        rest_reply_error(r, 404, "not_found", "admission is not enabled");
        return;
    }
    if ((!strcmp(r->method, "PUT") || !strcmp(what, "cpu-check"))
        && !rest_parse_body(r, false, &body)) {
        return;                 /* 'r' replied to */
    }
    int status = src->handle(src->aux, r->method, what, r->id, body, &reply,
                             admission_done__, r);
    json_destroy(body);
    if (status == REST_DEFERRED) {
        ovs_assert(!r->pending && !reply);
        ovs_list_push_back(&r->server->pending, &r->node);
        r->pending = true;
    } else if (reply) {
        rest_reply_json(r, status, reply);
    } else {
        rest_reply_empty(r, status);
    }
}

void rest_adm_domains(struct rest_request *r) { admission__(r, "domains"); }
void rest_adm_groups(struct rest_request *r) { admission__(r, "groups"); }
void rest_adm_rules(struct rest_request *r) { admission__(r, "rules"); }

void
rest_adm_host_limits(struct rest_request *r)
{
    admission__(r, "host-limits");
}

void
rest_adm_recommend(struct rest_request *r)
{
    admission__(r, "recommend");
}

void
rest_adm_evacuation(struct rest_request *r)
{
    admission__(r, "evacuation");
}

void
rest_adm_evacuation_status(struct rest_request *r)
{
    admission__(r, "evacuation-status");
}

void
rest_adm_cpu_baseline(struct rest_request *r)
{
    admission__(r, "cpu-baseline");
}

void
rest_adm_cpu_check(struct rest_request *r)
{
    admission__(r, "cpu-check");
}
