/* tetherd's REST API: JSON over HTTP/1.1 (libevent's evhttp on the daemon's
 * one loop) for operators and orchestrators to manage ENIs and security
 * groups and to read hosts, migrations, health and metrics.  docs/
 * openapi.yaml is the reference for every endpoint; this header is the
 * contract with tetherd.
 *
 *   - Reads (GET) are answered at once from the store's in-memory copy and
 *     the host registry.  Writes (POST, PUT, PATCH, DELETE) are checked,
 *     handed to the ENI store, and answered from the store's 'done'
 *     callback, i.e. once the database has committed them.  If the client
 *     goes away meanwhile the write still completes; only the reply is
 *     dropped.
 *
 *   - With a token configured, every write needs "Authorization: Bearer
 *     <token>"; one without it, or with another token, gets 401 and changes
 *     nothing.  Reads are open.
 *
 *   - Every refused request gets a 4xx (or 503 while the store has not
 *     loaded, 5xx if the store fails) with the body
 *     {"error": {"code": "<machine-readable>", "message": "<names the field
 *     and the problem>"}}.  Bodies above REST_MAX_BODY get 413.
 *
 *   - Counts requests by status in tether_http_requests_total{code=...}
 *     and server-side failures in tether_errors_total (controller/
 *     metrics.h); /metrics renders the whole metrics registry, with the
 *     gauges tether_enis, tether_hosts and tether_hosts_connected refreshed
 *     first.
 *
 * Not here: TLS (put a proxy in front), migrations' own state (the
 * 'migrations' hook below provides it once it exists). */
#ifndef CONTROLLER_REST_H
#define CONTROLLER_REST_H 1

#include <stdint.h>

struct event_base;
struct eni_store;
struct host_registry;
struct json;

#define REST_DEFAULT_PORT 8650
#define REST_MAX_BODY (1024 * 1024)

/* The source of GET /v1/migrations: 'list' returns a new JSON array (the
 * caller frees it) of migration objects.  Without one the list is empty. */
struct rest_migration_source {
    struct json *(*list)(void *aux);
    void *aux;
};

/* The source of the admission endpoints (domains, groups, rules, host
 * limits, recommendations, evacuations, CPU baseline and check; see
 * docs/openapi.yaml): 'handle' answers one request -- 'what' is the
 * resource ("domains", "groups", "rules", "host-limits", "recommend",
 * "evacuation", "evacuation-status", "cpu-baseline", "cpu-check"), 'id' the
 * path's {id} or NULL, 'body' the request's JSON body or NULL -- by
 * returning the HTTP status and storing a new JSON body (NULL for none) in
 * '*replyp'.  Without one these endpoints answer 404.
 *
 * A write that is answered only once the database has committed it
 * returns REST_DEFERRED instead, and later calls 'done' exactly once with
 * 'req', the status and the body (taken; NULL for none).  If the server is
 * destroyed meanwhile the reply is dropped, 'req' stays valid for 'done'. */
#define REST_DEFERRED 0
typedef void rest_admission_done_func(void *req, int status,
                                      struct json *reply);
struct rest_admission_source {
    int (*handle)(void *aux, const char *method, const char *what,
                  const char *id, const struct json *body,
                  struct json **replyp,
                  rest_admission_done_func *done, void *req);
    void *aux;
};

/* Checks a VM's CPU definition, the "cpu" field of an ENI (libvirt <cpu>
 * XML), when one is created or changed: 'check' returns 0 and stores the
 * normalized form (malloc()ed) in '*normalizedp', or returns the HTTP
 * status to refuse it with (400: not a definition tetherd understands,
 * 503: cannot be checked now) and a malloc()ed message in '*errp'.
 * Without one, an ENI with a CPU definition is refused. */
struct rest_cpu_checker {
    int (*check)(void *aux, const char *xml, char **normalizedp,
                 char **errp);
    void *aux;
};

struct rest_config {
    struct eni_store *store;            /* required */
    struct host_registry *hosts;        /* required */
    const char *token;                  /* NULL or "": writes are open */

    /* Optional: called before /metrics renders, to refresh the caller's
     * own gauges (the REST server refreshes its own through
     * metrics_register_collector() already). */
    void (*collect_metrics)(void *aux);
    void *metrics_aux;

    struct rest_migration_source migrations;    /* optional */
    struct rest_admission_source admission;     /* optional */
    struct rest_cpu_checker cpu;                /* optional */
};

/* Starts serving on 'listen' ("IP:PORT" or "[IPv6]:PORT"; port 0 picks a
 * free one) on 'base'.  'config' and its token are copied; the store and
 * the registry it points to are not and must outlive the server.  Returns
 * the server, or NULL with a malloc()ed message in '*errp'. */
struct rest_server *rest_server_create(struct event_base *base,
                                       const char *listen,
                                       const struct rest_config *config,
                                       char **errp);

/* Stops listening and drops open connections.  Writes still pending in the
 * store complete there; their replies are dropped.  NULL is a no-op. */
void rest_server_destroy(struct rest_server *);

/* The port actually listened on (useful with port 0). */
uint16_t rest_server_port(const struct rest_server *);

/* Requests waiting for the store to commit. */
unsigned int rest_server_n_pending(const struct rest_server *);

#endif /* controller/rest.h */
