/* The REST API's HTTP plumbing (see rest.h): the evhttp listener, routing of
 * method and path to a handler, bearer-token checks, body parsing and
 * limits, the JSON error replies, requests waiting for the store, and the
 * request metrics.  The handlers themselves are in rest-{eni,sg,host}.c. */
#include <config.h>

#include "controller/rest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "controller/eni-store.h"
#include "controller/host-registry.h"
#include "controller/metrics.h"
#include "controller/rest-json.h"
#include "controller/rest-private.h"
#include "lib/validate.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(rest);

/* Above REST_MAX_BODY we still read the body, to answer 413 in JSON; above
 * this, libevent refuses it on its own before reading (413, plain body). */
#define REST_HARD_MAX_BODY (4 * REST_MAX_BODY)
#define REST_TIMEOUT_S 30
#define MAX_SEGMENTS 5

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* --- Routing ------------------------------------------------------------ */

/* A route: 'pattern' is the path with "*" for the one {id} segment. */
struct rest_route {
    enum evhttp_cmd_type method;
    const char *pattern;
    bool write;                 /* needs the token */
    rest_handler_func *handler;
};

static const struct rest_route routes[] = {
    { EVHTTP_REQ_GET, "/v1/enis", false, rest_eni_list },
    { EVHTTP_REQ_POST, "/v1/enis", true, rest_eni_create },
    { EVHTTP_REQ_GET, "/v1/enis/*", false, rest_eni_get },
    { EVHTTP_REQ_PATCH, "/v1/enis/*", true, rest_eni_patch },
    { EVHTTP_REQ_DELETE, "/v1/enis/*", true, rest_eni_delete },
    { EVHTTP_REQ_POST, "/v1/enis/*/attach", true, rest_eni_attach },
    { EVHTTP_REQ_POST, "/v1/enis/*/detach", true, rest_eni_detach },
    { EVHTTP_REQ_GET, "/v1/security-groups", false, rest_sg_list },
    { EVHTTP_REQ_POST, "/v1/security-groups", true, rest_sg_create },
    { EVHTTP_REQ_GET, "/v1/security-groups/*", false, rest_sg_get },
    { EVHTTP_REQ_PUT, "/v1/security-groups/*", true, rest_sg_put },
    { EVHTTP_REQ_DELETE, "/v1/security-groups/*", true, rest_sg_delete },
    { EVHTTP_REQ_GET, "/v1/hosts", false, rest_host_list },
    { EVHTTP_REQ_GET, "/v1/hosts/*", false, rest_host_get },
    { EVHTTP_REQ_GET, "/v1/migrations", false, rest_migration_list },
    { EVHTTP_REQ_GET, "/v1/domains", false, rest_adm_domains },
    { EVHTTP_REQ_GET, "/v1/domains/*", false, rest_adm_domains },
    { EVHTTP_REQ_PUT, "/v1/domains/*", true, rest_adm_domains },
    { EVHTTP_REQ_DELETE, "/v1/domains/*", true, rest_adm_domains },
    { EVHTTP_REQ_GET, "/v1/groups", false, rest_adm_groups },
    { EVHTTP_REQ_GET, "/v1/groups/*", false, rest_adm_groups },
    { EVHTTP_REQ_PUT, "/v1/groups/*", true, rest_adm_groups },
    { EVHTTP_REQ_DELETE, "/v1/groups/*", true, rest_adm_groups },
    { EVHTTP_REQ_GET, "/v1/rules", false, rest_adm_rules },
    { EVHTTP_REQ_GET, "/v1/rules/*", false, rest_adm_rules },
    { EVHTTP_REQ_PUT, "/v1/rules/*", true, rest_adm_rules },
    { EVHTTP_REQ_DELETE, "/v1/rules/*", true, rest_adm_rules },
    { EVHTTP_REQ_GET, "/v1/host-limits", false, rest_adm_host_limits },
    { EVHTTP_REQ_GET, "/v1/hosts/*/limits", false, rest_adm_host_limits },
    { EVHTTP_REQ_PUT, "/v1/hosts/*/limits", true, rest_adm_host_limits },
    { EVHTTP_REQ_GET, "/v1/enis/*/recommend", false, rest_adm_recommend },
    { EVHTTP_REQ_GET, "/v1/hosts/*/evacuation", false, rest_adm_evacuation },
    { EVHTTP_REQ_POST, "/v1/hosts/*/evacuation", true, rest_adm_evacuation },
    { EVHTTP_REQ_GET, "/v1/hosts/*/evacuation/status", false,
      rest_adm_evacuation_status },
    { EVHTTP_REQ_GET, "/v1/cpu/baseline", false, rest_adm_cpu_baseline },
    { EVHTTP_REQ_GET, "/v1/cpu/baseline/*", false, rest_adm_cpu_baseline },
    { EVHTTP_REQ_POST, "/v1/cpu/check", false, rest_adm_cpu_check },
    { EVHTTP_REQ_GET, "/healthz", false, rest_healthz },
    { EVHTTP_REQ_GET, "/metrics", false, rest_metrics },
};

static const char *
method_name__(enum evhttp_cmd_type m)
{
    switch (m) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_TRACE: return "TRACE";
    case EVHTTP_REQ_CONNECT: return "CONNECT";
    case EVHTTP_REQ_PATCH: return "PATCH";
    }
    return "?";
}

/* Splits 'path' at '/' into at most MAX_SEGMENTS URL-decoded segments.
 * Returns their number, or -1 if the path is not one we could route (too
 * deep, empty segments, NUL or '/' encoded inside a segment). */
static int
split_path__(const char *path, char *segs[MAX_SEGMENTS])
{
    int n = 0;

    if (path[0] != '/') {
        return -1;
    }
    for (const char *p = path + 1; *p; ) {
        size_t len = strcspn(p, "/");
        if (!len || n >= MAX_SEGMENTS) {
            goto fail;
        }
        char *raw = xmemdup0(p, len);
        size_t dlen;
        char *dec = evhttp_uridecode(raw, 0, &dlen);
        free(raw);
        if (!dec || strlen(dec) != dlen || strchr(dec, '/')) {
            free(dec);
            goto fail;
        }
        segs[n++] = dec;
        p += len;
        if (*p == '/') {
            p++;
            if (!*p) {
                goto fail;      /* trailing slash */
            }
        }
    }
    return n;

fail:
    for (int i = 0; i < n; i++) {
        free(segs[i]);
    }
    return -1;
}

/* True if 'segs' match 'pattern'; stores the "*" segment in '*idp'. */
static bool
route_matches__(const char *pattern, char *segs[], int n, const char **idp)
{
    const char *p = pattern + 1;
    int i = 0;

    *idp = NULL;
    for (; *p && i < n; i++) {
        size_t len = strcspn(p, "/");
        if (len == 1 && *p == '*') {
            *idp = segs[i];
        } else if (strlen(segs[i]) != len || memcmp(segs[i], p, len)) {
            return false;
        }
        p += len + (p[len] == '/');
    }
    return !*p && i == n;
}

/* --- Replies ------------------------------------------------------------- */

static void
rest_request_free__(struct rest_request *r)
{
    free(r->id);
    free(r->ok_id);
    free(r);
}

/* Sends 'status' with 'buf' (may be NULL) and frees 'r'. */
static void
send__(struct rest_request *r, int status, const char *content_type,
       const char *body, size_t len)
{
    if (r->pending) {
        ovs_list_remove(&r->node);
        r->pending = false;
    }
    if (r->server && r->req) {
        char code[32];
        snprintf(code, sizeof code, "code=\"%d\"", status);
        metrics_counter_add("tether_http_requests_total",
                            "HTTP requests answered by the REST API, by "
                            "status code", code, 1);
        if (status >= 500) {
            metrics_counter_add("tether_errors_total", "Errors tetherd "
                                "could not recover from locally", NULL, 1);
        }
        metrics_histogram_observe("tether_http_request_duration_seconds",
                                  "Time from request to reply (writes "
                                  "include the database commit)", NULL,
                                  (time_msec() - r->start) / 1000.0);

        if (!evhttp_request_get_connection(r->req)) {
            VLOG_DBG_RL(&rl, "%s %s: client went away before the reply",
                        r->method, evhttp_request_get_uri(r->req));
        }
        struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
        struct evbuffer *out = evbuffer_new();
        if (content_type) {
            evhttp_add_header(h, "Content-Type", content_type);
            evbuffer_add(out, body, len);
        }
        if (status == 401) {
            evhttp_add_header(h, "WWW-Authenticate", "Bearer");
        }
        /* With no connection left, this frees the request. */
        evhttp_send_reply(r->req, status, NULL, out);
        evbuffer_free(out);
    }
    rest_request_free__(r);
}

void
rest_reply_text(struct rest_request *r, int status, const char *content_type,
                const char *text)
{
    send__(r, status, content_type, text, strlen(text));
}

void
rest_reply_json(struct rest_request *r, int status, struct json *body)
{
    char *s = json_to_string(body, JSSF_SORT);
    size_t len = strlen(s);
    s = xrealloc(s, len + 2);
    s[len++] = '\n';
    s[len] = '\0';
    send__(r, status, "application/json", s, len);
    free(s);
    json_destroy(body);
}

void
rest_reply_empty(struct rest_request *r, int status)
{
    send__(r, status, NULL, NULL, 0);
}

void
rest_reply_error(struct rest_request *r, int status, const char *code,
                 const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    char *msg = xvasprintf(fmt, args);
    va_end(args);

    if (status >= 500) {
        VLOG_WARN_RL(&rl, "%s %s: %d %s", r->method,
                     r->req ? evhttp_request_get_uri(r->req) : "",
                     status, msg);
    } else {
        VLOG_DBG_RL(&rl, "%s %s: %d %s", r->method,
                    r->req ? evhttp_request_get_uri(r->req) : "",
                    status, msg);
    }
    rest_reply_json(r, status, rest_error_to_json(code, msg));
    free(msg);
}

/* --- Bodies and the store ------------------------------------------------ */

bool
rest_parse_body(struct rest_request *r, bool empty_ok, struct json **objp)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
    size_t len = evbuffer_get_length(in);

    *objp = NULL;
    if (len > REST_MAX_BODY) {
        rest_reply_error(r, 413, "too_large", "body: %zu bytes is more than "
                         "the limit of %d", len, REST_MAX_BODY);
        return false;
    }
    if (!len) {
        if (!empty_ok) {
            rest_reply_error(r, 400, "malformed_json",
                             "body: empty; expected a JSON object");
            return false;
        }
        *objp = json_object_create();
        return true;
    }

    char *text = xmalloc(len + 1);
    evbuffer_copyout(in, text, len);
    text[len] = '\0';
    if (strlen(text) != len) {
        free(text);
        rest_reply_error(r, 400, "malformed_json",
                         "body: contains a NUL byte");
        return false;
    }
    struct json *j = json_from_string(text);
    free(text);
    if (j->type == JSON_STRING) {
        rest_reply_error(r, 400, "malformed_json", "body: malformed JSON: %s",
                         json_string(j));
        json_destroy(j);
        return false;
    } else if (j->type != JSON_OBJECT) {
        rest_reply_error(r, 400, "malformed_json", "body: is a JSON %s; "
                         "expected an object", json_type_to_string(j->type));
        json_destroy(j);
        return false;
    }
    *objp = j;
    return true;
}

bool
rest_check_store_ready(struct rest_request *r)
{
    if (!eni_store_is_ready(r->server->config.store)) {
        rest_reply_error(r, 503, "unavailable", "the store has not loaded "
                         "the database yet; retry shortly");
        return false;
    }
    return true;
}

int
rest_status_from_errno(int error, const char **codep)
{
    switch (error) {
    case EEXIST: *codep = "already_exists"; return 409;
    case ENOENT: *codep = "not_found"; return 404;
    case EBUSY: *codep = "in_use"; return 409;
    case EINVAL: *codep = "invalid_field"; return 400;
    case ECANCELED:
    case ENOTCONN:
    case EAGAIN: *codep = "unavailable"; return 503;
    default: *codep = "internal"; return 500;
    }
}

static void
store_done__(int error, const char *msg, void *r_)
{
    struct rest_request *r = r_;

    if (!r->server) {
        rest_request_free__(r);     /* the server is gone: drop the reply */
        return;
    }
    if (error) {
        const char *code;
        int status = rest_status_from_errno(error, &code);
        rest_reply_error(r, status, code, "%s",
                         msg && msg[0] ? msg : ovs_strerror(error));
        return;
    }

    const struct eni_store *store = r->server->config.store;
    struct json *body = NULL;
    if (r->ok_object == REST_OBJ_ENI) {
        const struct eni *e = eni_store_find_eni(store, r->ok_id);
        body = e ? rest_eni_to_json(e) : NULL;
    } else if (r->ok_object == REST_OBJ_SG) {
        const struct security_group *sg = eni_store_find_sg(store, r->ok_id);
        body = sg ? rest_sg_to_json(sg) : NULL;
    } else {
        rest_reply_empty(r, r->ok_status);
        return;
    }
    if (body) {
        rest_reply_json(r, r->ok_status, body);
    } else {
        /* Committed, then changed again before we could read it back. */
        rest_reply_error(r, 409, "conflict", "%s: changed by another "
                         "request before this one's reply", r->ok_id);
    }
}

eni_store_done_func *
rest_wait_store(struct rest_request *r, int ok_status,
                enum rest_object ok_object, const char *ok_id)
{
    ovs_assert(!r->pending);
    r->ok_status = ok_status;
    r->ok_object = ok_object;
    free(r->ok_id);
    r->ok_id = ok_id ? xstrdup(ok_id) : NULL;
    ovs_list_push_back(&r->server->pending, &r->node);
    r->pending = true;
    return store_done__;
}

/* --- Dispatch ------------------------------------------------------------ */

/* Compares without an early exit, so timing does not give away a prefix. */
static bool
token_matches__(const char *got, const char *want)
{
    size_t glen = strlen(got), wlen = strlen(want);
    unsigned char diff = glen != wlen;
    for (size_t i = 0; i < wlen; i++) {
        diff |= (unsigned char) want[i] ^ (unsigned char) got[i < glen ? i
                                                                  : 0];
    }
    return !diff;
}

static bool
authorized__(const struct rest_server *s, struct evhttp_request *req)
{
    const char *token = s->config.token;
    if (!token) {
        return true;
    }
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req),
                                       "Authorization");
    return (h && !strncasecmp(h, "Bearer ", 7)
            && token_matches__(h + 7 + strspn(h + 7, " "), token));
}

static void
handle_request__(struct evhttp_request *req, void *s_)
{
    struct rest_server *s = s_;
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    struct rest_request *r = xzalloc(sizeof *r);
    char *segs[MAX_SEGMENTS];
    int n;

    r->server = s;
    r->req = req;
    r->method = method_name__(method);
    r->start = time_msec();

    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    n = path ? split_path__(path, segs) : -1;
    if (n < 0) {
        rest_reply_error(r, 404, "not_found", "%s: no such resource",
                         path ? path : evhttp_request_get_uri(req));
        return;
    }

    const struct rest_route *route = NULL;
    const char *id = NULL;
    struct ds allow = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
        const char *rid;
        if (route_matches__(routes[i].pattern, segs, n, &rid)) {
            ds_put_format(&allow, "%s%s", allow.length ? ", " : "",
                          method_name__(routes[i].method));
            if (routes[i].method == method) {
                route = &routes[i];
                id = rid;
            }
        }
    }
    r->id = id ? xstrdup(id) : NULL;
    for (int i = 0; i < n; i++) {
        free(segs[i]);
    }

    if (!route) {
        if (allow.length) {
            evhttp_add_header(evhttp_request_get_output_headers(req),
                              "Allow", ds_cstr(&allow));
            rest_reply_error(r, 405, "method_not_allowed", "%s %s: method "
                             "not allowed (allowed: %s)", r->method, path,
                             ds_cstr(&allow));
        } else {
            rest_reply_error(r, 404, "not_found", "%s: no such resource",
                             path);
        }
    } else if (route->write && !authorized__(s, req)) {
        VLOG_INFO_RL(&rl, "%s %s: refused: missing or wrong bearer token",
                     r->method, path);
        rest_reply_error(r, 401, "unauthorized", "Authorization: a valid "
                         "\"Bearer <token>\" is required for changes");
    } else {
        route->handler(r);
    }
    ds_destroy(&allow);
}

/* --- The server ---------------------------------------------------------- */

static void
collect__(void *s_)
{
    struct rest_server *s = s_;

    metrics_gauge_set("tether_enis", "ENIs in the store", NULL,
                      eni_store_n_enis(s->config.store));
    metrics_gauge_set("tether_hosts", "Hosts known to tetherd", NULL,
                      host_registry_count(s->config.hosts));
    metrics_gauge_set("tether_hosts_connected", "Hosts whose agent is "
                      "connected", NULL,
                      host_registry_count_connected(s->config.hosts));
    if (s->config.collect_metrics) {
        s->config.collect_metrics(s->config.metrics_aux);
    }
}

struct rest_server *
rest_server_create(struct event_base *base, const char *listen,
                   const struct rest_config *config, char **errp)
{
    struct sockaddr_storage ss;
    int sslen;

    *errp = NULL;
    ovs_assert(config->store && config->hosts);
    if (!tether_parse_ip_port(listen, &ss, &sslen)) {
        *errp = xasprintf("%s: not an IP:PORT address to listen on", listen);
        return NULL;
    }

    struct rest_server *s = xzalloc(sizeof *s);
    s->config = *config;
    s->config.token = (config->token && config->token[0]
                       ? xstrdup(config->token) : NULL);
    ovs_list_init(&s->pending);

    s->listener = evconnlistener_new_bind(
        base, NULL, NULL,
        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
        128, (struct sockaddr *) &ss, sslen);
    if (!s->listener) {
        *errp = xasprintf("%s: cannot listen: %s", listen,
                          ovs_strerror(errno));
        goto fail;
    }
    s->http = evhttp_new(base);
    if (!s->http || !evhttp_bind_listener(s->http, s->listener)) {
        *errp = xasprintf("%s: cannot start the HTTP server", listen);
        goto fail;
    }
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST
                               | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT
                               | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS
                               | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT
                               | EVHTTP_REQ_PATCH);
    evhttp_set_max_body_size(s->http, REST_HARD_MAX_BODY);
    evhttp_set_max_headers_size(s->http, 64 * 1024);
    evhttp_set_timeout(s->http, REST_TIMEOUT_S);
    evhttp_set_gencb(s->http, handle_request__, s);

    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (!getsockname(evconnlistener_get_fd(s->listener),
                     (struct sockaddr *) &bound, &blen)) {
        s->port = ntohs(bound.ss_family == AF_INET6
                        ? ((struct sockaddr_in6 *) &bound)->sin6_port
                        : ((struct sockaddr_in *) &bound)->sin_port);
    }

    /* Make the always-present series visible from the first scrape. */
    metrics_counter_add("tether_errors_total", "Errors tetherd could not "
                        "recover from locally", NULL, 0);
    metrics_register_collector(collect__, s);
    VLOG_INFO("REST API listening on %s (port %u)%s", listen, s->port,
              s->config.token ? ", changes need a bearer token" : "");
    return s;

fail:
    if (s->http) {
        evhttp_free(s->http);   /* frees the bound listener too */
    } else if (s->listener) {
        evconnlistener_free(s->listener);
    }
    free(CONST_CAST(char *, s->config.token));
    free(s);
    return NULL;
}

void
rest_server_destroy(struct rest_server *s)
{
    if (!s) {
        return;
    }
    metrics_unregister_collector(collect__, s);

    /* Writes still in the store keep their rest_request (the store's aux)
     * but lose the server and the HTTP request.  A request whose client
     * left is no longer libevent's to free (it detached it); the others go
     * with their connections in evhttp_free(). */
    struct rest_request *r;
    LIST_FOR_EACH_POP (r, node, &s->pending) {
        if (r->req && !evhttp_request_get_connection(r->req)) {
            evhttp_request_free(r->req);
        }
        r->req = NULL;
        r->server = NULL;
        r->pending = false;
    }
    evhttp_free(s->http);
    free(CONST_CAST(char *, s->config.token));
    free(s);
}

uint16_t
rest_server_port(const struct rest_server *s)
{
    return s->port;
}

unsigned int
rest_server_n_pending(const struct rest_server *s)
{
    return ovs_list_size(&s->pending);
}
