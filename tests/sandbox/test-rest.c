/* Sandbox tests of the REST API (controller/rest.h) and tetherctl: a real
 * ENI store on its own ovsdb-server (controller/tether.ovsschema), a host
 * registry with one host, and the REST server on a free port, all on this
 * process's loop; an evhttp client in the same loop sends every endpoint's
 * good request and every kind of bad one, and the built tetherctl is run
 * against the server for its output and exit codes. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "controller/eni-store.h"
#include "controller/host-registry.h"
#include "controller/metrics.h"
#include "controller/rest.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "ovs-glue/ovs-loop.h"
#include "tests/sandbox/sandbox.h"
#include "timeval.h"
#include "util.h"

#define DEADLINE_MS 10000
#define TOKEN "s3cret-token"
#define VM1 "6a1f0c2e-0000-4000-8000-000000000001"
#define VM2 "6a1f0c2e-0000-4000-8000-000000000002"

static struct sandbox *sb;
static struct eni_store *store;
static struct host_registry *hosts;
static struct rest_server *rest;

/* --- Driving the loop ----------------------------------------------------- */

static bool
drive(bool (*done)(const void *), const void *aux)
{
    long long int deadline = time_msec() + DEADLINE_MS;
    for (;;) {
        eni_store_run(store);
        if (done(aux)) {
            return true;
        } else if (time_msec() >= deadline) {
            return false;
        }
        eni_store_wait(store);
        poll_timer_wait_until(MIN(deadline, time_msec() + 20));
        poll_block();
    }
}

static bool
store_ready(const void *aux OVS_UNUSED)
{
    return eni_store_is_ready(store);
}

static bool
flag_set(const void *flag)
{
    return *(const bool *) flag;
}

/* --- An HTTP client on the same loop ------------------------------------- */

struct resp {
    int status;
    char *body;
    struct json *json;          /* NULL if the body is not JSON */
    char *location, *allow, *content_type;
};

static void
resp_free(struct resp *r)
{
    free(r->body);
    json_destroy(r->json);
    free(r->location);
    free(r->allow);
    free(r->content_type);
    memset(r, 0, sizeof *r);
}

struct call {
    bool done;
    struct resp *resp;
};

static char *
header_dup(struct evhttp_request *req, const char *name)
{
    const char *v = evhttp_find_header(evhttp_request_get_input_headers(req),
                                       name);
    return v ? xstrdup(v) : NULL;
}

static void
response_cb(struct evhttp_request *req, void *c_)
{
    struct call *c = c_;
    struct resp *r = c->resp;

    c->done = true;
    if (!req) {
        r->status = -1;
        r->body = xstrdup("");
        return;
    }
    r->status = evhttp_request_get_response_code(req);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    r->body = xmalloc(len + 1);
    evbuffer_copyout(in, r->body, len);
    r->body[len] = '\0';
    r->location = header_dup(req, "Location");
    r->allow = header_dup(req, "Allow");
    r->content_type = header_dup(req, "Content-Type");
    if (len) {
        struct json *j = json_from_string(r->body);
        if (j->type == JSON_STRING) {
            json_destroy(j);
        } else {
            r->json = j;
        }
    }
}

/* Sends 'method' 'path' with 'body' (NULL for none, 'len' bytes, or -1 for
 * strlen) and the token if 'auth'; waits for the response. */
static struct resp
http_len(const char *method, const char *path, const char *body, ssize_t len,
         const char *token)
{
    static const struct { const char *name; enum evhttp_cmd_type cmd; }
    methods[] = {
        { "GET", EVHTTP_REQ_GET }, { "POST", EVHTTP_REQ_POST },
        { "PUT", EVHTTP_REQ_PUT }, { "PATCH", EVHTTP_REQ_PATCH },
        { "DELETE", EVHTTP_REQ_DELETE },
    };
    enum evhttp_cmd_type cmd = EVHTTP_REQ_GET;
    for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
        if (!strcmp(methods[i].name, method)) {
            cmd = methods[i].cmd;
        }
    }

    struct resp r = { 0 };
    struct call c = { .resp = &r };
    struct evhttp_connection *conn = evhttp_connection_base_new(
        ovs_loop_base(), NULL, "127.0.0.1", rest_server_port(rest));
    struct evhttp_request *req = evhttp_request_new(response_cb, &c);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", "127.0.0.1");
    if (token) {
        char *auth = xasprintf("Bearer %s", token);
        evhttp_add_header(h, "Authorization", auth);
        free(auth);
    }
    if (body) {
        /* libevent adds Content-Length itself only for POST and PUT. */
        size_t n = len < 0 ? strlen(body) : (size_t) len;
        char cl[32];
        snprintf(cl, sizeof cl, "%zu", n);
        evhttp_add_header(h, "Content-Type", "application/json");
        evhttp_add_header(h, "Content-Length", cl);
        evbuffer_add(evhttp_request_get_output_buffer(req), body, n);
    }
    assert_int_equal(evhttp_make_request(conn, req, cmd, path), 0);
    assert_true(drive(flag_set, &c.done));
    evhttp_connection_free(conn);
    return r;
}

static struct resp
http(const char *method, const char *path, const char *body)
{
    return http_len(method, path, body, -1, TOKEN);
}

static const struct json *
get(const struct json *j, const char *name)
{
    assert_non_null(j);
    assert_int_equal(j->type, JSON_OBJECT);
    return shash_find_data(json_object(j), name);
}

static const char *
get_s(const struct json *j, const char *name)
{
    const struct json *v = get(j, name);
    assert_non_null(v);
    return v->type == JSON_STRING ? json_string(v) : NULL;
}

#define expect_status(R, STATUS)                                        \
    do {                                                                \
        if ((R).status != (STATUS)) {                                   \
            print_message("unexpected status %d: %s\n", (R).status,     \
                          (R).body);                                    \
        }                                                               \
        assert_int_equal((R).status, (STATUS));                         \
    } while (0)

/* Checks that 'r' is a 'status' error of code 'code' whose message
 * contains 'what'. */
static void
expect_error_(struct resp *r, int status, const char *code, const char *what)
{
    expect_status(*r, status);
    assert_non_null(r->json);
    const struct json *err = get(r->json, "error");
    assert_non_null(err);
    assert_string_equal(get_s(err, "code"), code);
    const char *msg = get_s(err, "message");
    if (!strstr(msg, what)) {
        print_message("message \"%s\" does not contain \"%s\"\n", msg, what);
        fail();
    }
    assert_non_null(r->content_type);
    assert_non_null(strstr(r->content_type, "application/json"));
    resp_free(r);
}

static void
expect_error(const char *method, const char *path, const char *body,
             int status, const char *code, const char *what)
{
    struct resp r = http(method, path, body);
    expect_error_(&r, status, code, what);
}

/* --- Setup ---------------------------------------------------------------- */

static int
setup(void **state OVS_UNUSED)
{
    const char *top = getenv("top_srcdir");
    char *schema = xasprintf("%s/controller/tether.ovsschema",
                             top ? top : ".");
    sb = sandbox_create_db("rest", schema);
    free(schema);
    if (!sb) {
        return -1;
    }

    static const struct eni_store_observer observer;
    store = eni_store_create(sandbox_db_remote(sb), &observer);
    if (!drive(store_ready, NULL)) {
        fprintf(stderr, "store did not load\n");
        return -1;
    }

    hosts = host_registry_create();
    static char *const caps[] = { "live-migration" };
    struct host_hello hello = {
        .id = "hv1", .hypervisor = "kvm", .hostname = "hv1.example",
        .tunnel_ip = "192.0.2.1", .tunnel_type = "geneve",
        .bridge = "br-int", .agent_version = "0.1.0",
        .capabilities = caps, .n_capabilities = 1, .boot_id = 42,
    };
    bool is_new;
    host_registry_hello(hosts, &hello, time_msec(), &is_new);

    struct rest_config cfg = {
        .store = store,
        .hosts = hosts,
        .token = TOKEN,
    };
    char *err;
    rest = rest_server_create(ovs_loop_base(), "127.0.0.1:0", &cfg, &err);
    if (!rest) {
        fprintf(stderr, "%s\n", err);
        free(err);
        return -1;
    }
    return 0;
}

static int
teardown(void **state OVS_UNUSED)
{
    rest_server_destroy(rest);
    eni_store_destroy(store);
    host_registry_destroy(hosts);
    sandbox_destroy(sb);
    metrics_clear();
    return 0;
}

/* --- Success paths ---------------------------------------------------------- */

static void
test_health_and_empty_lists(void **state OVS_UNUSED)
{
    struct resp r = http("GET", "/healthz", NULL);
    expect_status(r, 200);
    assert_string_equal(get_s(r.json, "status"), "ok");
    resp_free(&r);

    static const char *const lists[][2] = {
        { "/v1/enis", "enis" },
        { "/v1/security-groups", "security_groups" },
        { "/v1/migrations", "migrations" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
        r = http("GET", lists[i][0], NULL);
        expect_status(r, 200);
        const struct json *a = get(r.json, lists[i][1]);
        assert_non_null(a);
        assert_int_equal(a->type, JSON_ARRAY);
        assert_int_equal(json_array(a)->n, 0);
        resp_free(&r);
    }
}

static void
test_sg_create_get_put(void **state OVS_UNUSED)
{
    struct resp r = http("POST", "/v1/security-groups",
                         "{\"id\": \"sg-web\", \"name\": \"web\", "
                         "\"rules\": [{\"direction\": \"ingress\", "
                         "\"protocol\": \"tcp\", \"port_min\": 80, "
                         "\"port_max\": 443, \"remote_cidr\": "
                         "\"0.0.0.0/0\"}, {\"direction\": \"egress\", "
                         "\"ethertype\": \"IPv6\", \"protocol\": 58, "
                         "\"remote_cidr\": \"::/0\"}]}");
    expect_status(r, 201);
    assert_string_equal(r.location, "/v1/security-groups/sg-web");
    const struct json *rules = get(r.json, "rules");
    assert_int_equal(json_array(rules)->n, 2);
    assert_string_equal(get_s(json_array(rules)->elems[0], "protocol"),
                        "tcp");
    assert_string_equal(get_s(json_array(rules)->elems[1], "protocol"),
                        "icmpv6");
    assert_string_equal(get_s(json_array(rules)->elems[1], "ethertype"),
                        "IPv6");
    resp_free(&r);

    /* No id: one is generated. */
    r = http("POST", "/v1/security-groups", "{\"rules\": []}");
    expect_status(r, 201);
    const char *id = get_s(r.json, "id");
    assert_int_equal(strlen(id), 3 + 17);
    assert_int_equal(strncmp(id, "sg-", 3), 0);
    resp_free(&r);

    r = http("GET", "/v1/security-groups/sg-web", NULL);
    expect_status(r, 200);
    assert_string_equal(get_s(r.json, "name"), "web");
    resp_free(&r);

    /* PUT replaces (200) or creates (201). */
    r = http("PUT", "/v1/security-groups/sg-web",
             "{\"name\": \"web2\", \"rules\": [{\"direction\": \"ingress\", "
             "\"protocol\": \"any\", \"remote_group\": \"sg-web\"}]}");
    expect_status(r, 200);
    assert_string_equal(get_s(r.json, "name"), "web2");
    resp_free(&r);
    r = http("PUT", "/v1/security-groups/sg-db",
             "{\"rules\": [{\"direction\": \"ingress\", \"protocol\": "
             "\"tcp\", \"port_min\": 5432, \"port_max\": 5432, "
             "\"remote_group\": \"sg-web\"}]}");
    expect_status(r, 201);
    resp_free(&r);

    r = http("GET", "/v1/security-groups", NULL);
    expect_status(r, 200);
    assert_int_equal(json_array(get(r.json, "security_groups"))->n, 3);
    resp_free(&r);
}

static void
test_eni_create_get_list(void **state OVS_UNUSED)
{
    struct resp r = http("POST", "/v1/enis",
                         "{\"id\": \"eni-a\", \"mac\": \"02:00:00:00:00:0a\", "
                         "\"primary_ipv4\": \"10.0.0.10\", "
                         "\"secondary_ipv4s\": [\"10.0.0.11\"], "
                         "\"ipv6s\": [\"fd00::a\"], \"vni\": 100, "
                         "\"security_groups\": [\"sg-web\"], "
                         "\"description\": \"first\"}");
    expect_status(r, 201);
    assert_string_equal(r.location, "/v1/enis/eni-a");
    assert_string_equal(get_s(r.json, "mac"), "02:00:00:00:00:0a");
    assert_string_equal(get_s(r.json, "state"), "detached");
    assert_int_equal(json_integer(get(r.json, "vni")), 100);
    assert_true(json_integer(get(r.json, "key")) > 0);
    assert_int_equal(get(r.json, "source_dest_check")->type, JSON_TRUE);
    assert_int_equal(get(r.json, "migration")->type, JSON_NULL);
    assert_int_equal(get(r.json, "host")->type, JSON_NULL);
    resp_free(&r);

    /* Id and MAC generated. */
    r = http("POST", "/v1/enis", "{\"vni\": 7}");
    expect_status(r, 201);
    const char *id = get_s(r.json, "id");
    assert_int_equal(strlen(id), 4 + 17);
    assert_int_equal(strspn(id + 4, "0123456789abcdef"), 17);
    const char *mac = get_s(r.json, "mac");
    unsigned int b0;
    assert_int_equal(sscanf(mac, "%x:", &b0), 1);
    assert_int_equal(b0 & 3, 2);        /* unicast, locally administered */
    char *path = xasprintf("/v1/enis/%s", id);
    resp_free(&r);
    r = http("DELETE", path, NULL);
    expect_status(r, 204);
    resp_free(&r);
    free(path);

    r = http("GET", "/v1/enis/eni-a", NULL);
    expect_status(r, 200);
    assert_string_equal(get_s(r.json, "description"), "first");
    resp_free(&r);

    r = http("GET", "/v1/enis", NULL);
    expect_status(r, 200);
    const struct json *enis = get(r.json, "enis");
    assert_int_equal(json_array(enis)->n, 1);
    assert_string_equal(get_s(json_array(enis)->elems[0], "id"), "eni-a");
    resp_free(&r);
}

static void
test_eni_patch(void **state OVS_UNUSED)
{
    struct resp r = http("PATCH", "/v1/enis/eni-a",
                         "{\"description\": \"changed\", \"vni\": 101, "
                         "\"source_dest_check\": false, "
                         "\"security_groups\": [\"sg-web\", \"sg-db\"]}");
    expect_status(r, 200);
    assert_string_equal(get_s(r.json, "description"), "changed");
    assert_int_equal(json_integer(get(r.json, "vni")), 101);
    assert_int_equal(get(r.json, "source_dest_check")->type, JSON_FALSE);
    assert_string_equal(get_s(r.json, "primary_ipv4"), "10.0.0.10");
    resp_free(&r);

    r = http("PATCH", "/v1/enis/eni-a", "{\"description\": null}");
    expect_status(r, 200);
    assert_int_equal(get(r.json, "description")->type, JSON_NULL);
    resp_free(&r);
}

static void
test_eni_attach_detach(void **state OVS_UNUSED)
{
    struct resp r = http("POST", "/v1/enis/eni-a/attach",
                         "{\"vm_uuid\": \"" VM1 "\"}");
    expect_status(r, 200);
    assert_string_equal(get_s(r.json, "vm_uuid"), VM1);
    resp_free(&r);

    /* Again: nothing to do. */
    r = http("POST", "/v1/enis/eni-a/attach", "{\"vm_uuid\": \"" VM1 "\"}");
    expect_status(r, 200);
    resp_free(&r);

    expect_error("POST", "/v1/enis/eni-a/attach",
                 "{\"vm_uuid\": \"" VM2 "\"}", 409, "in_use", VM1);

    r = http("POST", "/v1/enis/eni-a/detach", NULL);
    expect_status(r, 200);
    assert_int_equal(get(r.json, "vm_uuid")->type, JSON_NULL);
    resp_free(&r);
}

static void
test_hosts(void **state OVS_UNUSED)
{
    struct resp r = http("GET", "/v1/hosts", NULL);
    expect_status(r, 200);
    const struct json *a = get(r.json, "hosts");
    assert_int_equal(json_array(a)->n, 1);
    assert_string_equal(get_s(json_array(a)->elems[0], "id"), "hv1");
    assert_int_equal(get(json_array(a)->elems[0], "connected")->type,
                     JSON_TRUE);
    resp_free(&r);

    r = http("GET", "/v1/hosts/hv1", NULL);
    expect_status(r, 200);
    assert_string_equal(get_s(r.json, "tunnel_ip"), "192.0.2.1");
    resp_free(&r);

    expect_error("GET", "/v1/hosts/hv9", NULL, 404, "not_found", "hv9");
}

static void
test_metrics(void **state OVS_UNUSED)
{
    metrics_counter_add("tether_moves_total", "ENI moves", "kind=\"cold\"",
                        3);
    metrics_histogram_observe("tether_flowmod_seconds", "Flow-mod latency",
                              NULL, 0.003);

    struct resp r = http("GET", "/metrics", NULL);
    expect_status(r, 200);
    assert_non_null(strstr(r.content_type, "text/plain"));
    static const char *const want[] = {
        "# TYPE tether_enis gauge\ntether_enis 1\n",
        "tether_hosts 1\n",
        "tether_hosts_connected 1\n",
        "tether_http_requests_total{code=\"200\"} ",
        "tether_http_requests_total{code=\"404\"} ",
        "# TYPE tether_errors_total counter\ntether_errors_total 0\n",
        "tether_moves_total{kind=\"cold\"} 3\n",
        "tether_flowmod_seconds_bucket{le=\"0.005\"} 1\n",
        "tether_flowmod_seconds_count 1\n",
    };
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        if (!strstr(r.body, want[i])) {
            print_message("/metrics lacks \"%s\":\n%s", want[i], r.body);
            fail();
        }
    }
    resp_free(&r);
}

/* --- Bad requests ------------------------------------------------------------ */

static void
test_malformed_json(void **state OVS_UNUSED)
{
    expect_error("POST", "/v1/enis", "{\"vni\": 1", 400, "malformed_json",
                 "body");
    expect_error("POST", "/v1/enis", "[1, 2]", 400, "malformed_json",
                 "object");
    expect_error("POST", "/v1/enis", "", 400, "malformed_json", "empty");
    expect_error("PATCH", "/v1/enis/eni-a", "not json", 400,
                 "malformed_json", "body");
    expect_error("PUT", "/v1/security-groups/sg-x", "{\"rules\": [}", 400,
                 "malformed_json", "body");
    struct resp r = http_len("POST", "/v1/enis", "{\"vni\": 1}\0x", 12,
                             TOKEN);
    expect_error_(&r, 400, "malformed_json", "NUL");
}

static void
test_wrong_types(void **state OVS_UNUSED)
{
    expect_error("POST", "/v1/enis", "{\"vni\": \"100\"}", 400,
                 "invalid_field", "vni: must be an integer");
    expect_error("POST", "/v1/enis", "{\"vni\": 1.5}", 400,
                 "invalid_field", "vni");
    expect_error("POST", "/v1/enis", "{\"vni\": 1, \"ipv6s\": \"fd00::1\"}",
                 400, "invalid_field", "ipv6s: must be an array");
    expect_error("POST", "/v1/enis", "{\"vni\": 1, \"secondary_ipv4s\": "
                 "[\"10.0.0.1\", 7]}", 400, "invalid_field",
                 "secondary_ipv4s[1]");
    expect_error("POST", "/v1/enis", "{\"vni\": 1, \"source_dest_check\": "
                 "\"yes\"}", 400, "invalid_field", "source_dest_check");
    expect_error("POST", "/v1/enis", "{\"vni\": 1, \"mac\": 5}", 400,
                 "invalid_field", "mac: must be a string");
    expect_error("POST", "/v1/enis/eni-a/attach", "{\"vm_uuid\": 5}", 400,
                 "invalid_field", "vm_uuid");
    expect_error("POST", "/v1/security-groups", "{\"rules\": {}}", 400,
                 "invalid_field", "rules: must be an array");
    expect_error("POST", "/v1/security-groups", "{\"rules\": [{\"direction\":"
                 " \"ingress\", \"port_min\": \"22\", \"protocol\": "
                 "\"tcp\", \"remote_cidr\": \"0.0.0.0/0\"}]}", 400,
                 "invalid_field", "rules[0].port_min");
}

static void
test_unknown_and_read_only_fields(void **state OVS_UNUSED)
{
    expect_error("POST", "/v1/enis", "{\"vni\": 1, \"colour\": \"red\"}",
                 400, "unknown_field", "colour");
    expect_error("POST", "/v1/enis", "{\"vni\": 1, \"state\": \"bound\"}",
                 400, "read_only_field", "state");
    expect_error("PATCH", "/v1/enis/eni-a", "{\"key\": 5}", 400,
                 "read_only_field", "key");
    expect_error("PATCH", "/v1/enis/eni-a", "{\"id\": \"eni-b\"}", 400,
                 "read_only_field", "id");
    expect_error("PATCH", "/v1/enis/eni-a", "{\"vm_uuid\": \"" VM1 "\"}",
                 400, "read_only_field", "attach");
    expect_error("POST", "/v1/enis/eni-a/attach", "{\"vm_uuid\": \"" VM1
                 "\", \"force\": true}", 400, "unknown_field", "force");
    expect_error("POST", "/v1/enis/eni-a/detach", "{\"force\": true}", 400,
                 "unknown_field", "force");
    expect_error("POST", "/v1/security-groups", "{\"rulez\": []}", 400,
                 "unknown_field", "rulez");
    expect_error("POST", "/v1/security-groups", "{\"rules\": [{\"direction\":"
                 " \"ingress\", \"action\": \"deny\", \"remote_cidr\": "
                 "\"0.0.0.0/0\"}]}", 400, "unknown_field", "rules[0].action");
}

static void
test_invalid_values(void **state OVS_UNUSED)
{
    static const char *const cases[][2] = {
        { "{\"vni\": 1, \"mac\": \"02:00:00:00:00\"}", "mac" },
        { "{\"vni\": 1, \"mac\": \"01:00:5e:00:00:01\"}", "multicast" },
        { "{\"vni\": 1, \"primary_ipv4\": \"10.0.0.300\"}", "primary_ipv4" },
        { "{\"vni\": 1, \"secondary_ipv4s\": [\"fd00::1\"]}",
          "secondary_ipv4s[0]" },
        { "{\"vni\": 1, \"ipv6s\": [\"10.0.0.1\"]}", "ipv6s[0]" },
        { "{\"vni\": 0}", "vni" },
        { "{\"vni\": 16777216}", "vni" },
        { "{}", "vni" },
        { "{\"vni\": 1, \"id\": \"eni a\"}", "id" },
        { "{\"vni\": 1, \"id\": \"\"}", "id" },
        { "{\"vni\": 1, \"vm_uuid\": \"not-a-uuid\"}", "vm_uuid" },
        { "{\"vni\": 1, \"security_groups\": [\"sg-nope\"]}",
          "security_groups[0]" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        expect_error("POST", "/v1/enis", cases[i][0], 400, "invalid_field",
                     cases[i][1]);
    }
    expect_error("PATCH", "/v1/enis/eni-a", "{\"mac\": \"zz\"}", 400,
                 "invalid_field", "mac");
    expect_error("POST", "/v1/enis/eni-a/attach", "{\"vm_uuid\": \"x\"}", 400,
                 "invalid_field", "vm_uuid");
    expect_error("POST", "/v1/enis/eni-a/attach", "{}", 400,
                 "invalid_field", "vm_uuid: missing");

    static const char *const sg_cases[][2] = {
        { "{\"rules\": [{\"direction\": \"sideways\", \"remote_cidr\": "
          "\"0.0.0.0/0\"}]}", "rules[0].direction" },
        { "{\"rules\": [{\"remote_cidr\": \"0.0.0.0/0\"}]}",
          "rules[0].direction" },
        { "{\"rules\": [{\"direction\": \"ingress\", \"ethertype\": "
          "\"IPX\", \"remote_cidr\": \"0.0.0.0/0\"}]}",
          "rules[0].ethertype" },
        { "{\"rules\": [{\"direction\": \"ingress\", \"protocol\": "
          "\"tcpp\", \"remote_cidr\": \"0.0.0.0/0\"}]}",
          "rules[0].protocol" },
        { "{\"rules\": [{\"direction\": \"ingress\", \"protocol\": 300, "
          "\"remote_cidr\": \"0.0.0.0/0\"}]}", "rules[0].protocol" },
        { "{\"rules\": [{\"direction\": \"ingress\", \"protocol\": \"tcp\", "
          "\"port_min\": 90, \"port_max\": 80, \"remote_cidr\": "
          "\"0.0.0.0/0\"}]}", "rules[0].port_max" },
        { "{\"rules\": [{\"direction\": \"ingress\", \"protocol\": \"tcp\", "
          "\"port_min\": 70000, \"remote_cidr\": \"0.0.0.0/0\"}]}",
          "rules[0].port_min" },
        { "{\"rules\": [{\"direction\": \"ingress\", \"remote_cidr\": "
          "\"10.0.0.0/33\"}]}", "rules[0].remote_cidr" },
        { "{\"rules\": [{\"direction\": \"ingress\"}]}", "remote_cidr" },
        { "{\"rules\": [{\"direction\": \"ingress\", \"remote_group\": "
          "\"sg-nope\"}]}", "rules[0].remote_group" },
        { "{\"id\": \"sg x\"}", "id" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(sg_cases); i++) {
        expect_error("POST", "/v1/security-groups", sg_cases[i][0], 400,
                     "invalid_field", sg_cases[i][1]);
    }
    expect_error("PUT", "/v1/security-groups/sg-web", "{\"id\": \"sg-db\"}",
                 400, "invalid_field", "id");
}

static void
test_not_found(void **state OVS_UNUSED)
{
    expect_error("GET", "/v1/enis/eni-nope", NULL, 404, "not_found",
                 "eni-nope");
    expect_error("PATCH", "/v1/enis/eni-nope", "{}", 404, "not_found",
                 "eni-nope");
    expect_error("DELETE", "/v1/enis/eni-nope", NULL, 404, "not_found",
                 "eni-nope");
    expect_error("POST", "/v1/enis/eni-nope/attach", "{\"vm_uuid\": \"" VM1
                 "\"}", 404, "not_found", "eni-nope");
    expect_error("POST", "/v1/enis/eni-nope/detach", NULL, 404, "not_found",
                 "eni-nope");
    expect_error("GET", "/v1/security-groups/sg-nope", NULL, 404,
                 "not_found", "sg-nope");
    expect_error("DELETE", "/v1/security-groups/sg-nope", NULL, 404,
                 "not_found", "sg-nope");
    expect_error("GET", "/v2/enis", NULL, 404, "not_found", "/v2/enis");
    expect_error("GET", "/v1/enis/eni-a/bogus", NULL, 404, "not_found",
                 "bogus");
    expect_error("GET", "/v1/enis/", NULL, 404, "not_found", "/v1/enis/");
}

static void
test_conflicts(void **state OVS_UNUSED)
{
    expect_error("POST", "/v1/enis", "{\"id\": \"eni-a\", \"vni\": 5}", 409,
                 "already_exists", "eni-a");
    expect_error("POST", "/v1/security-groups", "{\"id\": \"sg-web\"}", 409,
                 "already_exists", "sg-web");
    expect_error("DELETE", "/v1/security-groups/sg-db", NULL, 409, "in_use",
                 "eni-a");

    /* Bound: cannot be deleted; migrating: cannot be detached. */
    assert_int_equal(eni_store_set_binding(store, "eni-a", ENI_BOUND, "hv1",
                                           5, 1, ENI_MIG_NONE, NULL, -1), 0);
    expect_error("DELETE", "/v1/enis/eni-a", NULL, 409, "in_use", "bound");
    struct resp r = http("GET", "/v1/enis/eni-a", NULL);
    expect_status(r, 200);
    assert_string_equal(get_s(r.json, "host"), "hv1");
    assert_int_equal(json_integer(get(r.json, "ofport")), 5);
    resp_free(&r);

    assert_int_equal(eni_store_set_binding(store, "eni-a", ENI_MIGRATING,
                                           "hv1", 5, 2, ENI_MIG_PREPARED,
                                           "hv2", 9), 0);
    r = http("GET", "/v1/enis/eni-a", NULL);
    const struct json *m = get(r.json, "migration");
    assert_string_equal(get_s(m, "phase"), "prepared");
    assert_string_equal(get_s(m, "dest_host"), "hv2");
    resp_free(&r);
    expect_error("POST", "/v1/enis/eni-a/detach", NULL, 409, "in_use",
                 "migrating");

    assert_int_equal(eni_store_set_binding(store, "eni-a", ENI_DETACHED,
                                           NULL, -1, 3, ENI_MIG_NONE, NULL,
                                           -1), 0);
}

static void
test_too_large(void **state OVS_UNUSED)
{
    size_t len = REST_MAX_BODY + 1;
    char *big = xmalloc(len);
    memset(big, ' ', len);
    memcpy(big, "{\"vni\": 1}", 10);
    struct resp r = http_len("POST", "/v1/enis", big, len, TOKEN);
    expect_error_(&r, 413, "too_large", "body");
    free(big);
}

static void
test_method_not_allowed(void **state OVS_UNUSED)
{
    struct resp r = http("PUT", "/v1/enis", "{}");
    assert_non_null(r.allow);
    assert_non_null(strstr(r.allow, "POST"));
    expect_error_(&r, 405, "method_not_allowed", "PUT");
    expect_error("DELETE", "/v1/hosts/hv1", NULL, 405, "method_not_allowed",
                 "GET");
    expect_error("PATCH", "/v1/security-groups/sg-web", "{}", 405,
                 "method_not_allowed", "PUT");
    expect_error("POST", "/metrics", NULL, 405, "method_not_allowed", "GET");
}

static void
test_auth(void **state OVS_UNUSED)
{
    struct resp r = http_len("POST", "/v1/enis", "{\"id\": \"eni-x\", "
                             "\"vni\": 1}", -1, NULL);
    expect_error_(&r, 401, "unauthorized", "Bearer");
    r = http_len("POST", "/v1/enis", "{\"id\": \"eni-x\", \"vni\": 1}", -1,
                 "wrong");
    expect_error_(&r, 401, "unauthorized", "Bearer");
    r = http_len("POST", "/v1/enis", "{\"id\": \"eni-x\", \"vni\": 1}", -1,
                 TOKEN "x");
    expect_error_(&r, 401, "unauthorized", "Bearer");
    r = http_len("DELETE", "/v1/enis/eni-a", NULL, -1, NULL);
    expect_error_(&r, 401, "unauthorized", "Bearer");
    r = http_len("PUT", "/v1/security-groups/sg-web", "{}", -1, NULL);
    expect_error_(&r, 401, "unauthorized", "Bearer");
    assert_null(eni_store_find_eni(store, "eni-x"));
    assert_non_null(eni_store_find_eni(store, "eni-a"));

    /* Reads are open. */
    r = http_len("GET", "/v1/enis/eni-a", NULL, -1, NULL);
    expect_status(r, 200);
    resp_free(&r);
}

static bool
nothing_pending(const void *aux OVS_UNUSED)
{
    return !rest_server_n_pending(rest) && !eni_store_n_pending(store);
}

/* A client that sends a write and hangs up: the write completes, the reply
 * is dropped, the server serves on. */
static void
test_client_goes_away(void **state OVS_UNUSED)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {
        .sin_family = AF_INET,
        .sin_port = htons(rest_server_port(rest)),
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };
    assert_int_equal(connect(fd, (struct sockaddr *) &sin, sizeof sin), 0);
    static const char body[] = "{\"id\": \"eni-gone\", \"vni\": 9}";
    char *req = xasprintf("POST /v1/enis HTTP/1.1\r\nHost: x\r\n"
                          "Authorization: Bearer " TOKEN "\r\n"
                          "Content-Length: %zu\r\n\r\n%s",
                          strlen(body), body);
    assert_int_equal(write(fd, req, strlen(req)), strlen(req));
    free(req);

    /* Wait for the server to start the write, then hang up. */
    long long int deadline = time_msec() + DEADLINE_MS;
    while (!rest_server_n_pending(rest)
           && !eni_store_find_eni(store, "eni-gone")
           && time_msec() < deadline) {
        eni_store_run(store);
        eni_store_wait(store);
        poll_timer_wait(10);
        poll_block();
    }
    close(fd);

    assert_true(drive(nothing_pending, NULL));
    assert_non_null(eni_store_find_eni(store, "eni-gone"));
    struct resp r = http("DELETE", "/v1/enis/eni-gone", NULL);
    expect_status(r, 204);
    resp_free(&r);
}

/* --- tetherctl ---------------------------------------------------------------- */

struct child {
    pid_t pid;
    int status;
    bool done;
};

static bool
child_done(const void *c_)
{
    struct child *c = CONST_CAST(struct child *, c_);
    if (!c->done && waitpid(c->pid, &c->status, WNOHANG) == c->pid) {
        c->done = true;
    }
    return c->done;
}

/* Runs the built tetherctl with 'args' (NULL-terminated) while this
 * process's loop serves it; returns its exit status and its stdout in
 * '*outp' if nonnull. */
static int
tetherctl(char **outp, const char *arg0, ...)
{
    const char *top = getenv("top_builddir");
    char *prog = xasprintf("%s/ctl/tetherctl", top ? top : ".");
    const char *argv[32];
    size_t argc = 0;
    argv[argc++] = prog;

    va_list args;
    va_start(args, arg0);
    for (const char *a = arg0; a; a = va_arg(args, const char *)) {
        assert_true(argc < ARRAY_SIZE(argv) - 1);
        argv[argc++] = a;
    }
    va_end(args);
    argv[argc] = NULL;

    char *out_path = xasprintf("%s/tetherctl.out", sandbox_dir(sb));
    struct child c = { .pid = fork() };
    if (!c.pid) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        unsetenv("TETHER_SERVER");
        unsetenv("TETHER_TOKEN");
        execv(prog, (char **) argv);
        _exit(127);
    }
    assert_true(c.pid > 0);
    assert_true(drive(child_done, &c));
    assert_true(WIFEXITED(c.status));

    if (outp) {
        FILE *f = fopen(out_path, "r");
        struct ds s = DS_EMPTY_INITIALIZER;
        int ch;
        while ((ch = getc(f)) != EOF) {
            ds_put_char(&s, ch);
        }
        fclose(f);
        *outp = ds_steal_cstr(&s);
    }
    free(out_path);
    free(prog);
    return WEXITSTATUS(c.status);
}

static void
test_tetherctl(void **state OVS_UNUSED)
{
    char *server = xasprintf("--server=http://127.0.0.1:%u",
                             rest_server_port(rest));
    char *out;

    assert_int_equal(tetherctl(&out, "--version", NULL), 0);
    assert_non_null(strstr(out, "tetherctl"));
    free(out);
    assert_int_equal(tetherctl(NULL, "--help", NULL), 0);

    /* 0: success, tables and JSON. */
    assert_int_equal(tetherctl(&out, server, "eni", "list", NULL), 0);
    assert_non_null(strstr(out, "eni-a"));
    assert_non_null(strstr(out, "STATE"));
    free(out);
    assert_int_equal(tetherctl(&out, server, "--format=json", "eni", "show",
                               "eni-a", NULL), 0);
    struct json *j = json_from_string(out);
    assert_string_equal(get_s(j, "id"), "eni-a");
    json_destroy(j);
    free(out);
    assert_int_equal(tetherctl(&out, server, "host", "list", NULL), 0);
    assert_non_null(strstr(out, "hv1"));
    free(out);
    assert_int_equal(tetherctl(&out, server, "host", "show", "hv1", NULL), 0);
    assert_non_null(strstr(out, "192.0.2.1"));
    free(out);
    assert_int_equal(tetherctl(NULL, server, "migration", "list", NULL), 0);
    assert_int_equal(tetherctl(&out, server, "metrics", NULL), 0);
    assert_non_null(strstr(out, "tether_enis "));
    free(out);
    assert_int_equal(tetherctl(NULL, server, "sg", "list", NULL), 0);
    assert_int_equal(tetherctl(NULL, server, "sg", "show", "sg-web", NULL),
                     0);

    /* Changes with the token. */
    assert_int_equal(tetherctl(NULL, server, "--token=" TOKEN, "sg",
                               "create", "--id=sg-ssh",
                               "--rule=ingress,tcp,22,22,10.0.0.0/8",
                               "--rule=ingress,icmp,,,sg-web", NULL), 0);
    assert_int_equal(tetherctl(&out, server, "--token=" TOKEN, "eni",
                               "create", "--id=eni-ctl", "--vni=42",
                               "--ip=10.1.0.5", "--ip=10.1.0.6",
                               "--ipv6=fd00::5", "--sg=sg-ssh", NULL), 0);
    assert_non_null(strstr(out, "10.1.0.6"));
    free(out);
    assert_int_equal(tetherctl(NULL, server, "--token=" TOKEN, "eni",
                               "update", "eni-ctl", "--description=x",
                               "--source-dest-check=off", NULL), 0);
    assert_int_equal(tetherctl(NULL, server, "--token=" TOKEN, "eni",
                               "attach", "eni-ctl", VM2, NULL), 0);
    assert_int_equal(tetherctl(NULL, server, "--token=" TOKEN, "eni",
                               "detach", "eni-ctl", NULL), 0);
    assert_int_equal(tetherctl(NULL, server, "--token=" TOKEN, "eni",
                               "update", "eni-ctl", "--no-sg", NULL), 0);
    assert_int_equal(tetherctl(NULL, server, "--token=" TOKEN, "eni",
                               "delete", "eni-ctl", NULL), 0);
    assert_int_equal(tetherctl(NULL, server, "--token=" TOKEN, "sg",
                               "delete", "sg-ssh", NULL), 0);
    assert_null(eni_store_find_eni(store, "eni-ctl"));

    /* 1: the server refused. */
    assert_int_equal(tetherctl(NULL, server, "eni", "show", "eni-nope",
                               NULL), 1);
    assert_int_equal(tetherctl(NULL, server, "eni", "create", "--vni=5",
                               NULL), 1);                    /* no token */
    assert_int_equal(tetherctl(NULL, server, "--token=" TOKEN, "eni",
                               "create", "--vni=5", "--mac=zz", NULL), 1);
    assert_int_equal(tetherctl(NULL, server, "--token=" TOKEN, "eni",
                               "create", "--id=eni-a", "--vni=5", NULL), 1);

    /* 2: usage. */
    assert_int_equal(tetherctl(NULL, server, "frobnicate", NULL), 2);
    assert_int_equal(tetherctl(NULL, server, "eni", NULL), 2);
    assert_int_equal(tetherctl(NULL, server, "eni", "show", NULL), 2);
    assert_int_equal(tetherctl(NULL, server, "eni", "create", "--vni=x",
                               NULL), 2);
    assert_int_equal(tetherctl(NULL, server, "--format=xml", "eni", "list",
                               NULL), 2);
    assert_int_equal(tetherctl(NULL, server, "sg", "create", "--rule=bad",
                               NULL), 2);
    assert_int_equal(tetherctl(NULL, "--bogus-option", "eni", "list", NULL),
                     2);

    /* 3: unreachable (a port nothing listens on: ours, closed). */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sin;
    assert_int_equal(bind(fd, (struct sockaddr *) &sin, sizeof sin), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *) &sin, &len), 0);
    char *dead = xasprintf("--server=http://127.0.0.1:%u",
                           ntohs(sin.sin_port));
    assert_int_equal(tetherctl(NULL, dead, "eni", "list", NULL), 3);
    close(fd);
    free(dead);
    free(server);
}

static void
test_deletes(void **state OVS_UNUSED)
{
    struct resp r = http("DELETE", "/v1/enis/eni-a", NULL);
    expect_status(r, 204);
    resp_free(&r);
    expect_error("GET", "/v1/enis/eni-a", NULL, 404, "not_found", "eni-a");

    r = http("DELETE", "/v1/security-groups/sg-db", NULL);
    expect_status(r, 204);
    resp_free(&r);
    expect_error("GET", "/v1/security-groups/sg-db", NULL, 404, "not_found",
                 "sg-db");
}

int
main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_and_empty_lists),
        cmocka_unit_test(test_sg_create_get_put),
        cmocka_unit_test(test_eni_create_get_list),
        cmocka_unit_test(test_eni_patch),
        cmocka_unit_test(test_eni_attach_detach),
        cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_malformed_json),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_unknown_and_read_only_fields),
        cmocka_unit_test(test_invalid_values),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_conflicts),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_client_goes_away),
        cmocka_unit_test(test_tetherctl),
        cmocka_unit_test(test_deletes),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name("rest", tests, setup, teardown);
}
