/* The REST API's read-only endpoints about tetherd itself: hosts (from the
 * host registry), migrations (from the hook in rest_config), /healthz and
 * /metrics (the Prometheus text of controller/metrics.h). */
#include <config.h>

#include <stdlib.h>

#include "controller/eni-store.h"
#include "controller/host-registry.h"
#include "controller/metrics.h"
#include "controller/rest-json.h"
#include "controller/rest-private.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "timeval.h"
#include "util.h"

void
rest_host_list(struct rest_request *r)
{
    const struct host_registry *hosts = r->server->config.hosts;
    long long int now = time_msec();
    struct json *array = json_array_create_empty();

    for (size_t i = 0; i < host_registry_count(hosts); i++) {
        json_array_add(array, rest_host_to_json(host_registry_at(hosts, i),
                                                now));
    }
    struct json *top = json_object_create();
    json_object_put(top, "hosts", array);
    rest_reply_json(r, 200, top);
}

void
rest_host_get(struct rest_request *r)
{
    const struct host *h = host_registry_find(r->server->config.hosts, r->id);
    if (h) {
        rest_reply_json(r, 200, rest_host_to_json(h, time_msec()));
    } else {
        rest_reply_error(r, 404, "not_found", "host \"%s\" is not known",
                         r->id);
    }
}

void
rest_migration_list(struct rest_request *r)
{
    const struct rest_migration_source *src = &r->server->config.migrations;
    struct json *array = (src->list ? src->list(src->aux)
                          : json_array_create_empty());
    struct json *top = json_object_create();
    json_object_put(top, "migrations", array);
    rest_reply_json(r, 200, top);
}

/* 200 once the store has loaded and is connected to its database, 503
 * before or while not: a load balancer's readiness check. */
void
rest_healthz(struct rest_request *r)
{
    const struct rest_config *c = &r->server->config;
    bool ready = eni_store_is_ready(c->store);
    bool connected = eni_store_is_connected(c->store);
    struct json *store = json_object_create();
    struct json *top = json_object_create();

    json_object_put(store, "ready", json_boolean_create(ready));
    json_object_put(store, "connected", json_boolean_create(connected));
    json_object_put(store, "pending_writes",
                    json_integer_create(eni_store_n_pending(c->store)));
    json_object_put_string(top, "status", (ready && connected ? "ok"
                                           : "unavailable"));
    json_object_put(top, "store", store);
    json_object_put(top, "hosts",
                    json_integer_create(host_registry_count(c->hosts)));
    json_object_put_string(top, "version", TETHER_VERSION);
    rest_reply_json(r, ready && connected ? 200 : 503, top);
}

void
rest_metrics(struct rest_request *r)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    metrics_render(&s);
    rest_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8",
                    ds_cstr(&s));
    ds_destroy(&s);
}
