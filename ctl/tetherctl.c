/* tetherctl: the operator's command-line client of tetherd's REST API
 * (docs/openapi.yaml).  One blocking HTTP/1.1 request per command; prints a
 * table, or the server's JSON with --format=json.  Exit status: 0 success,
 * 1 the server refused (its message on stderr), 2 usage error, 3 the
 * server could not be reached or answered nonsense. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "timeval.h"
#include "util.h"

#define DEFAULT_SERVER "http://127.0.0.1:8650"
#define CONNECT_TIMEOUT_MS 5000
#define IO_TIMEOUT_S 30
#define MAX_RESPONSE (64 * 1024 * 1024)

enum {
    EXIT_OK = 0,
    EXIT_REFUSED = 1,
    EXIT_USAGE = 2,
    EXIT_UNREACHABLE = 3,
};

struct ctl {
    const char *server;
    const char *token;
    bool json;
};

static void usage(void);

static void OVS_PRINTF_FORMAT(2, 3) OVS_NO_RETURN
die(int status, const char *fmt, ...)
{
    va_list args;
    fprintf(stderr, "%s: ", program_name);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
    exit(status);
}

#define usage_error(...) die(EXIT_USAGE, __VA_ARGS__)

/* --- HTTP ------------------------------------------------------------------ */

struct response {
    int status;
    char *body;                 /* NUL-terminated */
    size_t len;
};

/* Splits 'url' ("http://HOST[:PORT][/PREFIX]", HOST may be "[v6]"). */
static void
parse_url(const char *url, char **hostp, char **portp, char **prefixp)
{
    if (strncasecmp(url, "http://", 7)) {
        usage_error("--server: \"%s\" is not an http:// URL", url);
    }
    const char *p = url + 7;
    const char *host_end;
    char *host;
    if (*p == '[') {
        host_end = strchr(p, ']');
        if (!host_end) {
            usage_error("--server: \"%s\": unterminated [", url);
        }
        host = xmemdup0(p + 1, host_end - p - 1);
        host_end++;
    } else {
        host_end = p + strcspn(p, ":/");
        host = xmemdup0(p, host_end - p);
    }
    if (!host[0]) {
        usage_error("--server: \"%s\" has no host", url);
    }
    const char *port = "80";
    char *port_buf = NULL;
    if (*host_end == ':') {
        size_t n = strcspn(host_end + 1, "/");
        port_buf = xmemdup0(host_end + 1, n);
        port = port_buf;
        host_end += 1 + n;
    }
    if (*host_end && *host_end != '/') {
        usage_error("--server: \"%s\" is not an http://HOST:PORT URL", url);
    }
    char *prefix = xstrdup(host_end);
    size_t plen = strlen(prefix);
    while (plen && prefix[plen - 1] == '/') {
        prefix[--plen] = '\0';
    }
    *hostp = host;
    *portp = port_buf ? port_buf : xstrdup(port);
    *prefixp = prefix;
}

/* Connects to 'host':'port' within CONNECT_TIMEOUT_MS; returns the socket
 * or exits with EXIT_UNREACHABLE. */
static int
connect_to(const char *host, const char *port)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ais;
    int error = getaddrinfo(host, port, &hints, &ais);
    if (error) {
        die(EXIT_UNREACHABLE, "%s: %s", host, gai_strerror(error));
    }

    int last_errno = 0;
    for (struct addrinfo *ai = ais; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK,
                        ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
            last_errno = errno;
            close(fd);
            continue;
        }
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        int n = poll(&pfd, 1, CONNECT_TIMEOUT_MS);
        int soerr = 0;
        socklen_t len = sizeof soerr;
        if (n <= 0) {
            last_errno = n ? errno : ETIMEDOUT;
        } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len)
                   || soerr) {
            last_errno = soerr ? soerr : errno;
        } else {
            /* Blocking from here on, with timeouts. */
            struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
            freeaddrinfo(ais);
            return fd;
        }
        close(fd);
    }
    freeaddrinfo(ais);
    die(EXIT_UNREACHABLE, "cannot connect to %s port %s: %s", host, port,
        ovs_strerror(last_errno));
}

static void
write_all(int fd, const char *data, size_t len, const char *server)
{
    while (len) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        } else if (n <= 0) {
            die(EXIT_UNREACHABLE, "%s: send failed: %s", server,
                ovs_strerror(n < 0 ? errno : EPIPE));
        }
        data += n;
        len -= n;
    }
}

/* Sends one request and reads the whole response (Connection: close). */
static struct response
http_request(const struct ctl *ctl, const char *method, const char *path,
             const struct json *body)
{
    char *host, *port, *prefix;
    parse_url(ctl->server, &host, &port, &prefix);

    char *body_s = body ? json_to_string(body, 0) : NULL;
    struct ds req = DS_EMPTY_INITIALIZER;
    bool v6 = strchr(host, ':') != NULL;
    ds_put_format(&req, "%s %s%s HTTP/1.1\r\nHost: %s%s%s:%s\r\n"
                  "User-Agent: tetherctl/%s\r\nAccept: application/json\r\n"
                  "Connection: close\r\n", method, prefix, path,
                  v6 ? "[" : "", host, v6 ? "]" : "", port, TETHER_VERSION);
    if (ctl->token && ctl->token[0]) {
        ds_put_format(&req, "Authorization: Bearer %s\r\n", ctl->token);
    }
    if (body_s) {
        ds_put_format(&req, "Content-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n%s", strlen(body_s),
                      body_s);
    } else {
        ds_put_cstr(&req, (strcmp(method, "GET")
                           ? "Content-Length: 0\r\n\r\n" : "\r\n"));
    }

    int fd = connect_to(host, port);
    write_all(fd, req.string, req.length, ctl->server);
    ds_destroy(&req);
    free(body_s);

    struct ds in = DS_EMPTY_INITIALIZER;
    for (;;) {
        char buf[16384];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0) {
            die(EXIT_UNREACHABLE, "%s: no answer: %s", ctl->server,
                errno == EAGAIN ? "timed out" : ovs_strerror(errno));
        } else if (!n) {
            break;
        }
        ds_put_buffer(&in, buf, n);
        if (in.length > MAX_RESPONSE) {
            die(EXIT_UNREACHABLE, "%s: response too large", ctl->server);
        }
    }
    close(fd);

    /* Status line, headers, body. */
    struct response r = { 0 };
    char *s = ds_cstr(&in);
    char *hdr_end = strstr(s, "\r\n\r\n");
    if (!hdr_end || sscanf(s, "HTTP/1.%*d %d", &r.status) != 1
        || r.status < 100 || r.status > 599) {
        die(EXIT_UNREACHABLE, "%s: not an HTTP response", ctl->server);
    }
    *hdr_end = '\0';
    char *body_start = hdr_end + 4;
    size_t avail = in.length - (body_start - s);
    r.len = avail;
    for (char *line = strstr(s, "\r\n"); line; line = strstr(line, "\r\n")) {
        line += 2;
        if (!strncasecmp(line, "Content-Length:", 15)) {
            unsigned long long cl = strtoull(line + 15, NULL, 10);
            if (cl < r.len) {
                r.len = cl;
            }
        } else if (!strncasecmp(line, "Transfer-Encoding:", 18)
                   && strcasestr(line, "chunked")) {
            die(EXIT_UNREACHABLE, "%s: chunked responses are not "
                "supported", ctl->server);
        }
    }
    r.body = xmemdup0(body_start, r.len);
    ds_destroy(&in);
    free(host);
    free(port);
    free(prefix);
    return r;
}

/* Parses a JSON response body; exits if it is not JSON. */
static struct json *
response_json(const struct ctl *ctl, const struct response *r)
{
    struct json *j = json_from_string(r->body);
    if (j->type == JSON_STRING) {
        die(EXIT_UNREACHABLE, "%s: response is not JSON: %s", ctl->server,
            json_string(j));
    }
    return j;
}

/* Performs the request; on a 4xx/5xx prints the server's message and
 * exits 1.  Returns the parsed body (NULL for an empty one). */
static struct json *
call(const struct ctl *ctl, const char *method, const char *path,
     struct json *body)
{
    struct response r = http_request(ctl, method, path, body);
    json_destroy(body);

    if (r.status >= 400) {
        struct json *j = json_from_string(r.body);
        const struct json *err = (j->type == JSON_OBJECT
                                  ? shash_find_data(json_object(j), "error")
                                  : NULL);
        const struct json *msg = (err && err->type == JSON_OBJECT
                                  ? shash_find_data(json_object(err),
                                                    "message") : NULL);
        const struct json *code = (err && err->type == JSON_OBJECT
                                   ? shash_find_data(json_object(err),
                                                     "code") : NULL);
        if (ctl->json && r.len) {
            puts(r.body);
        }
        fprintf(stderr, "%s: %s %s: %d%s%s: %s\n", program_name, method,
                path, r.status, code && code->type == JSON_STRING ? " " : "",
                code && code->type == JSON_STRING ? json_string(code) : "",
                msg && msg->type == JSON_STRING ? json_string(msg) : r.body);
        json_destroy(j);
        free(r.body);
        exit(EXIT_REFUSED);
    }
    struct json *j = r.len ? response_json(ctl, &r) : NULL;
    free(r.body);
    return j;
}

/* --- Output ----------------------------------------------------------------- */

static void
print_json(const struct json *j)
{
    char *s = json_to_string(j, JSSF_PRETTY | JSSF_SORT);
    puts(s);
    free(s);
}

static const struct json *
get(const struct json *obj, const char *name)
{
    return (obj && obj->type == JSON_OBJECT
            ? shash_find_data(json_object(obj), name) : NULL);
}

/* 'v' as table text: strings bare, null and absent as "-", arrays joined
 * with ",", the rest as JSON. */
static char *
cell(const struct json *v)
{
    if (!v || v->type == JSON_NULL) {
        return xstrdup("-");
    } else if (v->type == JSON_STRING) {
        return xstrdup(json_string(v)[0] ? json_string(v) : "-");
    } else if (v->type == JSON_ARRAY) {
        const struct json_array *a = json_array(v);
        struct ds s = DS_EMPTY_INITIALIZER;
        for (size_t i = 0; i < a->n; i++) {
            char *c = cell(a->elems[i]);
            ds_put_format(&s, "%s%s", i ? "," : "", c);
            free(c);
        }
        return a->n ? ds_steal_cstr(&s) : xstrdup("-");
    }
    return json_to_string(v, JSSF_SORT);
}

/* Prints the objects of 'array' as a table with 'n' columns: 'titles' over
 * the fields 'fields'. */
static void
print_table(const struct json *array, const char *const titles[],
            const char *const fields[], size_t n)
{
    const struct json_array *a = (array && array->type == JSON_ARRAY
                                  ? json_array(array) : NULL);
    size_t rows = a ? a->n : 0;
    char **cells = xcalloc((rows + 1) * n, sizeof *cells);
    size_t *width = xcalloc(n, sizeof *width);

    for (size_t c = 0; c < n; c++) {
        cells[c] = xstrdup(titles[c]);
    }
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < n; c++) {
            cells[(r + 1) * n + c] = cell(get(a->elems[r], fields[c]));
        }
    }
    for (size_t i = 0; i < (rows + 1) * n; i++) {
        size_t len = strlen(cells[i]);
        width[i % n] = MAX(width[i % n], len);
    }
    for (size_t r = 0; r <= rows; r++) {
        for (size_t c = 0; c < n; c++) {
            const char *s = cells[r * n + c];
            if (c + 1 < n) {
                printf("%-*s  ", (int) width[c], s);
            } else {
                printf("%s\n", s);
            }
        }
    }
    for (size_t i = 0; i < (rows + 1) * n; i++) {
        free(cells[i]);
    }
    free(cells);
    free(width);
}

/* Prints every member of 'obj' as "name: value", in 'order' first. */
static void
print_object(const struct json *obj, const char *const order[], size_t n)
{
    struct shash seen = SHASH_INITIALIZER(&seen);
    for (size_t i = 0; i < n; i++) {
        char *c = cell(get(obj, order[i]));
        printf("%-18s %s\n", order[i], c);
        free(c);
        shash_add_once(&seen, order[i], NULL);
    }
    if (obj && obj->type == JSON_OBJECT) {
        const struct shash_node **nodes = shash_sort(json_object(obj));
        for (size_t i = 0; i < shash_count(json_object(obj)); i++) {
            if (!shash_find(&seen, nodes[i]->name)) {
                char *c = cell(nodes[i]->data);
                printf("%-18s %s\n", nodes[i]->name, c);
                free(c);
            }
        }
        free(nodes);
    }
    shash_destroy(&seen);
}

/* Prints 'j' as JSON with --format=json, else through 'table'. */
static int
output(const struct ctl *ctl, struct json *j,
       void (*table)(const struct json *))
{
    if (j) {
        if (ctl->json) {
            print_json(j);
        } else {
            table(j);
        }
        json_destroy(j);
    }
    return EXIT_OK;
}

static void
eni_table(const struct json *j)
{
    static const char *const titles[] = {
        "ID", "MAC", "IPV4", "VNI", "STATE", "HOST", "VM",
    };
    static const char *const fields[] = {
        "id", "mac", "primary_ipv4", "vni", "state", "host", "vm_uuid",
    };
    print_table(get(j, "enis"), titles, fields, ARRAY_SIZE(fields));
}

static void
eni_detail(const struct json *j)
{
    static const char *const order[] = {
        "id", "key", "mac", "primary_ipv4", "secondary_ipv4s", "ipv6s", "vni",
        "security_groups", "source_dest_check", "description", "vm_uuid",
        "state", "host", "ofport", "epoch", "migration", "created", "updated",
    };
    print_object(j, order, ARRAY_SIZE(order));
}

static void
sg_table(const struct json *j)
{
    static const char *const titles[] = { "ID", "NAME", "DESCRIPTION" };
    static const char *const fields[] = { "id", "name", "description" };
    print_table(get(j, "security_groups"), titles, fields,
                ARRAY_SIZE(fields));
}

static void
sg_detail(const struct json *j)
{
    static const char *const order[] = { "id", "name", "description" };
    static const char *const titles[] = {
        "DIRECTION", "ETHERTYPE", "PROTOCOL", "PORT_MIN", "PORT_MAX",
        "REMOTE_CIDR", "REMOTE_GROUP",
    };
    static const char *const fields[] = {
        "direction", "ethertype", "protocol", "port_min", "port_max",
        "remote_cidr", "remote_group",
    };
    print_object(j, order, ARRAY_SIZE(order));
    printf("\n");
    print_table(get(j, "rules"), titles, fields, ARRAY_SIZE(fields));
}

static void
host_table(const struct json *j)
{
    static const char *const titles[] = {
        "ID", "CONNECTED", "HYPERVISOR", "TUNNEL_IP", "BRIDGE",
        "LAST_HEARD_MS_AGO",
    };
    static const char *const fields[] = {
        "id", "connected", "hypervisor", "tunnel_ip", "bridge",
        "last_heard_ms_ago",
    };
    print_table(get(j, "hosts"), titles, fields, ARRAY_SIZE(fields));
}

static void
host_detail(const struct json *j)
{
    print_object(j, NULL, 0);
}

static void
migration_table(const struct json *j)
{
    static const char *const titles[] = {
        "ENI", "PHASE", "SOURCE", "DESTINATION", "EPOCH",
    };
    static const char *const fields[] = {
        "eni", "phase", "source_host", "dest_host", "epoch",
    };
    print_table(get(j, "migrations"), titles, fields, ARRAY_SIZE(fields));
}

/* --- Commands --------------------------------------------------------------- */

/* Checks that exactly 'n' operands follow the subcommand's options. */
static void
need_args(int argc, char *argv[], int n, const char *syntax)
{
    if (argc - optind != n) {
        usage_error("%s: expected %s (try --help)",
                    argc - optind < n ? "missing arguments" : "too many "
                    "arguments", syntax);
    }
    (void) argv;
}

static char *
path_for(const char *collection, const char *id, const char *suffix)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_format(&s, "/v1/%s/", collection);
    for (const char *p = id; *p; p++) {
        unsigned char c = *p;
        if (isalnum(c) || strchr("-._~:", c)) {
            ds_put_char(&s, c);
        } else {
            ds_put_format(&s, "%%%02X", c);
        }
    }
    ds_put_cstr(&s, suffix ? suffix : "");
    return ds_steal_cstr(&s);
}

static long long int
parse_int(const char *option, const char *s, long long int min,
          long long int max)
{
    char *end;
    errno = 0;
    long long int v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < min || v > max) {
        usage_error("%s: \"%s\" is not a number in %lld..%lld", option, s,
                    min, max);
    }
    return v;
}

static void
add_string(struct json *obj, const char *name, const char *value)
{
    struct json *a = shash_find_data(json_object(obj), name);
    if (!a) {
        a = json_array_create_empty();
        json_object_put(obj, name, a);
    }
    json_array_add(a, json_string_create(value));
}

/* Options of "eni create" and "eni update" into a request body. */
static struct json *
eni_body(int argc, char *argv[], bool create)
{
    enum { OPT_ID = UCHAR_MAX + 1, OPT_MAC, OPT_IP, OPT_IPV6, OPT_VNI,
           OPT_SG, OPT_DESC, OPT_SDC, OPT_VM, OPT_NO_SG };
    static const struct option opts[] = {
        {"id", required_argument, NULL, OPT_ID},
        {"mac", required_argument, NULL, OPT_MAC},
        {"ip", required_argument, NULL, OPT_IP},
        {"ipv6", required_argument, NULL, OPT_IPV6},
        {"vni", required_argument, NULL, OPT_VNI},
        {"sg", required_argument, NULL, OPT_SG},
        {"no-sg", no_argument, NULL, OPT_NO_SG},
        {"description", required_argument, NULL, OPT_DESC},
        {"source-dest-check", required_argument, NULL, OPT_SDC},
        {"vm", required_argument, NULL, OPT_VM},
        {NULL, 0, NULL, 0},
    };
    struct json *body = json_object_create();
    struct json *ips = json_array_create_empty();

    for (;;) {
        int c = getopt_long(argc, argv, "+", opts, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_ID:
            if (!create) {
                usage_error("--id: the id of an ENI cannot be changed");
            }
            json_object_put_string(body, "id", optarg);
            break;
        case OPT_MAC:
            json_object_put_string(body, "mac", optarg);
            break;
        case OPT_IP:
            json_array_add(ips, json_string_create(optarg));
            break;
        case OPT_IPV6:
            add_string(body, "ipv6s", optarg);
            break;
        case OPT_VNI:
            json_object_put(body, "vni", json_integer_create(
                                parse_int("--vni", optarg, 0,
                                          UINT32_MAX)));
            break;
        case OPT_SG:
            add_string(body, "security_groups", optarg);
            break;
        case OPT_NO_SG:
            json_object_put(body, "security_groups",
                            json_array_create_empty());
            break;
        case OPT_DESC:
            json_object_put_string(body, "description", optarg);
            break;
        case OPT_SDC:
            if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
                usage_error("--source-dest-check: \"%s\" is not on or off",
                            optarg);
            }
            json_object_put(body, "source_dest_check",
                            json_boolean_create(!strcmp(optarg, "on")));
            break;
        case OPT_VM:
            if (!create) {
                usage_error("--vm: use \"eni attach\" or \"eni detach\"");
            }
            json_object_put_string(body, "vm_uuid", optarg);
            break;
        default:
            exit(EXIT_USAGE);
        }
    }

    /* The first --ip is the primary address, the others secondary. */
    const struct json_array *a = json_array(ips);
    if (a->n) {
        json_object_put(body, "primary_ipv4", json_clone(a->elems[0]));
        struct json *sec = json_array_create_empty();
        for (size_t i = 1; i < a->n; i++) {
            json_array_add(sec, json_clone(a->elems[i]));
        }
        json_object_put(body, "secondary_ipv4s", sec);
    }
    json_destroy(ips);
    return body;
}

static int
cmd_eni(const struct ctl *ctl, int argc, char *argv[])
{
    const char *sub = argc > optind ? argv[optind++] : NULL;
    char *path;
    int status;

    if (!sub) {
        usage_error("eni: missing subcommand (list, show, create, update, "
                    "delete, attach, detach)");
    } else if (!strcmp(sub, "list")) {
        need_args(argc, argv, 0, "eni list");
        return output(ctl, call(ctl, "GET", "/v1/enis", NULL), eni_table);
    } else if (!strcmp(sub, "show")) {
        need_args(argc, argv, 1, "eni show ID");
        path = path_for("enis", argv[optind], NULL);
        status = output(ctl, call(ctl, "GET", path, NULL), eni_detail);
    } else if (!strcmp(sub, "create")) {
        struct json *body = eni_body(argc, argv, true);
        need_args(argc, argv, 0, "eni create [OPTIONS]");
        return output(ctl, call(ctl, "POST", "/v1/enis", body), eni_detail);
    } else if (!strcmp(sub, "update")) {
        if (argc - optind < 1) {
            usage_error("eni update: missing ENI id");
        }
        path = path_for("enis", argv[optind++], NULL);
        struct json *body = eni_body(argc, argv, false);
        need_args(argc, argv, 0, "eni update ID [OPTIONS]");
        if (!shash_count(json_object(body))) {
            usage_error("eni update: nothing to change (try --help)");
        }
        status = output(ctl, call(ctl, "PATCH", path, body), eni_detail);
    } else if (!strcmp(sub, "delete")) {
        need_args(argc, argv, 1, "eni delete ID");
        path = path_for("enis", argv[optind], NULL);
        status = output(ctl, call(ctl, "DELETE", path, NULL), eni_detail);
    } else if (!strcmp(sub, "attach")) {
        need_args(argc, argv, 2, "eni attach ID VM_UUID");
        struct json *body = json_object_create();
        json_object_put_string(body, "vm_uuid", argv[optind + 1]);
        path = path_for("enis", argv[optind], "/attach");
        status = output(ctl, call(ctl, "POST", path, body), eni_detail);
    } else if (!strcmp(sub, "detach")) {
        need_args(argc, argv, 1, "eni detach ID");
        path = path_for("enis", argv[optind], "/detach");
        status = output(ctl, call(ctl, "POST", path, NULL), eni_detail);
    } else {
        usage_error("eni %s: unknown subcommand (try --help)", sub);
    }
    free(path);
    return status;
}

/* Parses "DIRECTION,PROTOCOL,PORT_MIN,PORT_MAX,REMOTE[,ETHERTYPE]": REMOTE
 * is a CIDR (with '/') or a security group id; empty ports mean any. */
static struct json *
parse_rule(const char *spec)
{
    char *copy = xstrdup(spec);
    char *f[7];
    size_t n = 0;
    char *p = copy;
    for (;;) {
        if (n == ARRAY_SIZE(f)) {
            usage_error("--rule: \"%s\" has too many fields", spec);
        }
        f[n++] = p;
        p = strchr(p, ',');
        if (!p) {
            break;
        }
        *p++ = '\0';
    }
    if (n != 5 && n != 6) {
        usage_error("--rule: \"%s\" is not DIRECTION,PROTOCOL,PORT_MIN,"
                    "PORT_MAX,REMOTE[,ETHERTYPE]", spec);
    }

    struct json *r = json_object_create();
    json_object_put_string(r, "direction", f[0]);
    if (f[1][0] && strspn(f[1], "0123456789") == strlen(f[1])) {
        json_object_put(r, "protocol", json_integer_create(
                            parse_int("--rule protocol", f[1], 0, 255)));
    } else {
        json_object_put_string(r, "protocol", f[1][0] ? f[1] : "any");
    }
    if (f[2][0]) {
        json_object_put(r, "port_min", json_integer_create(
                            parse_int("--rule port_min", f[2], 0, 65535)));
    }
    if (f[3][0]) {
        json_object_put(r, "port_max", json_integer_create(
                            parse_int("--rule port_max", f[3], 0, 65535)));
    }
    bool cidr = strchr(f[4], '/') != NULL;
    json_object_put_string(r, cidr ? "remote_cidr" : "remote_group", f[4]);
    if (n == 6) {
        json_object_put_string(r, "ethertype", f[5]);
    } else if (cidr) {
        json_object_put_string(r, "ethertype",
                               strchr(f[4], ':') ? "IPv6" : "IPv4");
    }
    free(copy);
    return r;
}

static int
cmd_sg(const struct ctl *ctl, int argc, char *argv[])
{
    const char *sub = argc > optind ? argv[optind++] : NULL;
    char *path;
    int status;

    if (!sub) {
        usage_error("sg: missing subcommand (list, show, create, delete)");
    } else if (!strcmp(sub, "list")) {
        need_args(argc, argv, 0, "sg list");
        return output(ctl, call(ctl, "GET", "/v1/security-groups", NULL),
                      sg_table);
    } else if (!strcmp(sub, "show")) {
        need_args(argc, argv, 1, "sg show ID");
        path = path_for("security-groups", argv[optind], NULL);
        status = output(ctl, call(ctl, "GET", path, NULL), sg_detail);
    } else if (!strcmp(sub, "create")) {
        enum { OPT_ID = UCHAR_MAX + 1, OPT_NAME, OPT_DESC, OPT_RULE,
               OPT_REPLACE };
        static const struct option opts[] = {
            {"id", required_argument, NULL, OPT_ID},
            {"name", required_argument, NULL, OPT_NAME},
            {"description", required_argument, NULL, OPT_DESC},
            {"rule", required_argument, NULL, OPT_RULE},
            {"replace", no_argument, NULL, OPT_REPLACE},
            {NULL, 0, NULL, 0},
        };
        struct json *body = json_object_create();
        struct json *rules = json_array_create_empty();
        bool replace = false;
        for (;;) {
            int c = getopt_long(argc, argv, "+", opts, NULL);
            if (c == -1) {
                break;
            }
            switch (c) {
            case OPT_ID:
                json_object_put_string(body, "id", optarg);
                break;
            case OPT_NAME:
                json_object_put_string(body, "name", optarg);
                break;
            case OPT_DESC:
                json_object_put_string(body, "description", optarg);
                break;
            case OPT_RULE:
                json_array_add(rules, parse_rule(optarg));
                break;
            case OPT_REPLACE:
                replace = true;
                break;
            default:
                exit(EXIT_USAGE);
            }
        }
        need_args(argc, argv, 0, "sg create [OPTIONS]");
        json_object_put(body, "rules", rules);
        if (replace) {
            const struct json *id = get(body, "id");
            if (!id) {
                usage_error("sg create --replace: needs --id");
            }
            path = path_for("security-groups", json_string(id), NULL);
            status = output(ctl, call(ctl, "PUT", path, body), sg_detail);
        } else {
            return output(ctl, call(ctl, "POST", "/v1/security-groups", body),
                          sg_detail);
        }
    } else if (!strcmp(sub, "delete")) {
        need_args(argc, argv, 1, "sg delete ID");
        path = path_for("security-groups", argv[optind], NULL);
        status = output(ctl, call(ctl, "DELETE", path, NULL), sg_detail);
    } else {
        usage_error("sg %s: unknown subcommand (try --help)", sub);
    }
    free(path);
    return status;
}

static int
cmd_host(const struct ctl *ctl, int argc, char *argv[])
{
    const char *sub = argc > optind ? argv[optind++] : NULL;

    if (sub && !strcmp(sub, "list")) {
        need_args(argc, argv, 0, "host list");
        return output(ctl, call(ctl, "GET", "/v1/hosts", NULL), host_table);
    } else if (sub && !strcmp(sub, "show")) {
        need_args(argc, argv, 1, "host show ID");
        char *path = path_for("hosts", argv[optind], NULL);
        int status = output(ctl, call(ctl, "GET", path, NULL), host_detail);
        free(path);
        return status;
    }
    usage_error("host: expected \"list\" or \"show ID\"");
}

/* "migration watch": polls the migrations every 20 ms and prints one line
 * per phase change (a migration appearing, changing phase, or ending), with
 * the time since the watch began, until interrupted. */
OVS_NO_RETURN static void
migration_watch(const struct ctl *ctl)
{
    struct shash last = SHASH_INITIALIZER(&last);
    long long int start = time_msec();

    printf("%-9s %-24s %-12s %-12s %-12s %s\n", "MS", "ENI", "PHASE",
           "SOURCE", "DESTINATION", "EPOCH");
    for (;;) {
        struct json *j = call(ctl, "GET", "/v1/migrations", NULL);
        const struct json *list = get(j, "migrations");
        struct shash now = SHASH_INITIALIZER(&now);
        long long int t = time_msec() - start;
        size_t n = list && list->type == JSON_ARRAY ? json_array(list)->n : 0;

        for (size_t i = 0; i < n; i++) {
            const struct json *m = json_array(list)->elems[i];
            char *eni = cell(get(m, "eni"));
            char *phase = cell(get(m, "phase"));
            const char *prev = shash_find_data(&last, eni);
            if (!prev || strcmp(prev, phase)) {
                char *src = cell(get(m, "source_host"));
                char *dst = cell(get(m, "dest_host"));
                char *epoch = cell(get(m, "epoch"));
                printf("%-9lld %-24s %-12s %-12s %-12s %s\n", t, eni, phase,
                       src, dst, epoch);
                free(src);
                free(dst);
                free(epoch);
            }
            if (!shash_find(&now, eni)) {
                shash_add(&now, eni, phase);
            } else {
                free(phase);
            }
            free(eni);
        }
        struct shash_node *node;
        SHASH_FOR_EACH (node, &last) {
            if (!shash_find(&now, node->name)) {
                printf("%-9lld %-24s %s\n", t, node->name, "ended");
            }
        }
        fflush(stdout);
        shash_destroy_free_data(&last);
        shash_swap(&last, &now);
        shash_destroy(&now);
        json_destroy(j);
        xnanosleep(20 * 1000 * 1000);
    }
}

static int
cmd_migration(const struct ctl *ctl, int argc, char *argv[])
{
    const char *sub = argc > optind ? argv[optind++] : NULL;
    if (sub && !strcmp(sub, "watch")) {
        need_args(argc, argv, 0, "migration watch");
        migration_watch(ctl);
    }
    if (!sub || strcmp(sub, "list")) {
        usage_error("migration: expected \"list\" or \"watch\"");
    }
    need_args(argc, argv, 0, "migration list");
    return output(ctl, call(ctl, "GET", "/v1/migrations", NULL),
                  migration_table);
}

static int
cmd_metrics(const struct ctl *ctl, int argc, char *argv[])
{
    need_args(argc, argv, 0, "metrics");
    struct response r = http_request(ctl, "GET", "/metrics", NULL);
    if (r.status >= 400) {
        fprintf(stderr, "%s: GET /metrics: %d: %s\n", program_name, r.status,
                r.body);
        free(r.body);
        return EXIT_REFUSED;
    }
    fputs(r.body, stdout);
    free(r.body);
    return EXIT_OK;
}

/* --- Migration admission ---------------------------------------------------- */

/* The JSON array of the words 'argv[from..argc)' not starting with "--",
 * split at commas. */
static struct json *
words_json(int argc, char *argv[], int from)
{
    struct json *a = json_array_create_empty();
    for (int i = from; i < argc; i++) {
        if (!strncmp(argv[i], "--", 2)) {
            continue;
        }
        char *copy = xstrdup(argv[i]), *save = NULL;
        for (char *w = strtok_r(copy, ", ", &save); w;
             w = strtok_r(NULL, ", ", &save)) {
            json_array_add(a, json_string_create(w));
        }
        free(copy);
    }
    return a;
}

/* The value of "--NAME=VALUE" or "NAME=VALUE" among 'argv[from..argc)', or
 * NULL. */
static const char *
opt_value(int argc, char *argv[], int from, const char *name)
{
    size_t len = strlen(name);
    for (int i = from; i < argc; i++) {
        const char *a = argv[i] + (strncmp(argv[i], "--", 2) ? 0 : 2);
        if (!strncmp(a, name, len) && a[len] == '=') {
            return a + len + 1;
        }
    }
    return NULL;
}

static bool
has_flag(int argc, char *argv[], int from, const char *flag)
{
    for (int i = from; i < argc; i++) {
        if (!strcmp(argv[i], flag)) {
            return true;
        }
    }
    return false;
}

static void
items_table(const struct json *j)
{
    const struct json *items = get(j, "items");
    const struct json_array *a = (items && items->type == JSON_ARRAY
                                  ? json_array(items) : NULL);
    for (size_t i = 0; a && i < a->n; i++) {
        char *id = cell(get(a->elems[i], "id"));
        char *desc = cell(get(a->elems[i], "description"));
        char *hosts = cell(get(a->elems[i], "hosts"));
        char *members = cell(get(a->elems[i], "members"));
        printf("%-20s %s\n", id, strcmp(desc, "-") ? desc
               : strcmp(hosts, "-") ? hosts : members);
        free(id);
        free(desc);
        free(hosts);
        free(members);
    }
}

static void
object_detail(const struct json *j)
{
    print_object(j, NULL, 0);
}

/* domain|group|rule list|show|delete|set. */
static int
cmd_admission_config(const struct ctl *ctl, const char *kind, int argc,
                     char *argv[])
{
    const char *sub = argc > optind ? argv[optind++] : "list";
    const char *id = argc > optind ? argv[optind] : NULL;
    char path[256];

    if (!strcmp(sub, "list")) {
        snprintf(path, sizeof path, "/v1/%ss", kind);
        return output(ctl, call(ctl, "GET", path, NULL), items_table);
    }
    if (!id) {
        usage_error("%s %s: missing ID", kind, sub);
    }
    snprintf(path, sizeof path, "/v1/%ss/%s", kind, id);
    if (!strcmp(sub, "show")) {
        return output(ctl, call(ctl, "GET", path, NULL), object_detail);
    } else if (!strcmp(sub, "delete")) {
        json_destroy(call(ctl, "DELETE", path, NULL));
        return EXIT_OK;
    } else if (strcmp(sub, "set")) {
        usage_error("%s: expected list, show, set or delete", kind);
    }

    struct json *body = json_object_create();
    int from = optind + 1;
    if (!strcmp(kind, "domain")) {
        const char *k = opt_value(argc, argv, from, "kind");
        if (k) {
            json_object_put_string(body, "kind", k);
        }
        json_object_put(body, "hosts", words_json(argc, argv, from));
    } else if (!strcmp(kind, "group")) {
        const char *bw = opt_value(argc, argv, from, "bandwidth");
        if (bw) {
            json_object_put(body, "bandwidth_mbps",
                            json_integer_create(atoll(bw)));
        }
        json_object_put(body, "members", words_json(argc, argv, from));
    } else {
        if (argc - from < 3) {
            usage_error("rule set ID must|should together|apart GROUP "
                        "[domain=D | scope=host|KIND] [weight=N]");
        }
        json_object_put_string(body, "strength", argv[from]);
        json_object_put_string(body, "type", argv[from + 1]);
        json_object_put_string(body, "group", argv[from + 2]);
        const char *names[] = { "domain", "scope" };
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
            const char *v = opt_value(argc, argv, from, names[i]);
            if (v) {
                json_object_put_string(body, names[i], v);
            }
        }
        const char *w = opt_value(argc, argv, from, "weight");
        if (w) {
            json_object_put(body, "weight", json_integer_create(atoll(w)));
        }
    }
    return output(ctl, call(ctl, "PUT", path, body), object_detail);
}

/* host maintenance ID on|off; host limits ID [max-enis=N] [bandwidth=N]. */
static int
cmd_host_admission(const struct ctl *ctl, int argc, char *argv[])
{
    const char *sub = argv[optind++];
    if (argc - optind < 1) {
        usage_error("host %s: missing host ID", sub);
    }
    const char *id = argv[optind];
    char path[256];
    snprintf(path, sizeof path, "/v1/hosts/%s/limits", id);
    struct json *body = json_object_create();
    if (!strcmp(sub, "maintenance")) {
        if (argc - optind != 2 || (strcmp(argv[optind + 1], "on")
                                   && strcmp(argv[optind + 1], "off"))) {
            usage_error("host maintenance ID on|off");
        }
        json_object_put(body, "maintenance",
                        json_boolean_create(!strcmp(argv[optind + 1], "on")));
    } else {
        const char *m = opt_value(argc, argv, optind + 1, "max-enis");
        const char *b = opt_value(argc, argv, optind + 1, "bandwidth");
        if (m) {
            json_object_put(body, "max_enis", json_integer_create(atoll(m)));
        }
        if (b) {
            json_object_put(body, "bandwidth_mbps",
                            json_integer_create(atoll(b)));
        }
        if (!m && !b) {
            json_destroy(body);
            return output(ctl, call(ctl, "GET", path, NULL), object_detail);
        }
    }
    return output(ctl, call(ctl, "PUT", path, body), object_detail);
}

static void
recommend_table(const struct json *j)
{
    const struct json *c = get(j, "candidates");
    const struct json_array *a = (c && c->type == JSON_ARRAY
                                  ? json_array(c) : NULL);
    printf("%-16s %-8s %s\n", "HOST", "SCORE", "REFUSED BECAUSE");
    for (size_t i = 0; a && i < a->n; i++) {
        char *host = cell(get(a->elems[i], "host"));
        const struct json *s = get(a->elems[i], "score");
        char *reason = cell(get(a->elems[i], "reason"));
        printf("%-16s %-8.1f %s\n", host,
               s && s->type == JSON_REAL ? json_real(s)
               : s && s->type == JSON_INTEGER ? (double) json_integer(s) : 0,
               reason);
        free(host);
        free(reason);
    }
}

static int
cmd_recommend(const struct ctl *ctl, int argc, char *argv[])
{
    need_args(argc, argv, 1, "recommend ENI");
    char path[256];
    snprintf(path, sizeof path, "/v1/enis/%s/recommend", argv[optind]);
    return output(ctl, call(ctl, "GET", path, NULL), recommend_table);
}

static void
plan_table(const struct json *j)
{
    const char *lists[] = { "moves", "unplaced" };
    for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
        const struct json *m = get(j, lists[l]);
        const struct json_array *a = (m && m->type == JSON_ARRAY
                                      ? json_array(m) : NULL);
        for (size_t i = 0; a && i < a->n; i++) {
            char *unit = cell(get(a->elems[i], "unit"));
            char *enis = cell(get(a->elems[i], "enis"));
            char *dest = cell(get(a->elems[i], "dest_host"));
            char *reason = cell(get(a->elems[i], "reason"));
            printf("%-38s %-24s -> %s%s%s\n", unit, enis,
                   l ? "(unplaced)" : dest, l ? " " : "", l ? reason : "");
            free(unit);
            free(enis);
            free(dest);
            free(reason);
        }
    }
}

static void
evacuation_status_table(const struct json *j)
{
    char *host = cell(get(j, "host"));
    char *total = cell(get(j, "total"));
    char *done = cell(get(j, "done"));
    char *failed = cell(get(j, "failed"));
    printf("evacuation of %s: %s/%s moves done, %s failed\n", host, done,
           total, failed);
    free(host);
    free(total);
    free(done);
    free(failed);
    static const char *const titles[] = { "ENI", "UNIT", "DEST", "STATE" };
    static const char *const fields[] = { "eni", "unit", "dest_host",
                                          "state" };
    print_table(get(j, "moves"), titles, fields, ARRAY_SIZE(fields));
}

static int
cmd_evacuate(const struct ctl *ctl, int argc, char *argv[])
{
    const char *sub = argc > optind ? argv[optind++] : NULL;
    need_args(argc, argv, 1, "evacuate plan|start|status HOST");
    char path[256];
    snprintf(path, sizeof path, "/v1/hosts/%s/evacuation%s", argv[optind],
             sub && !strcmp(sub, "status") ? "/status" : "");
    if (sub && !strcmp(sub, "plan")) {
        return output(ctl, call(ctl, "GET", path, NULL), plan_table);
    } else if (sub && !strcmp(sub, "start")) {
        return output(ctl, call(ctl, "POST", path, NULL), plan_table);
    } else if (sub && !strcmp(sub, "status")) {
        return output(ctl, call(ctl, "GET", path, NULL),
                      evacuation_status_table);
    }
    usage_error("evacuate: expected plan, start or status");
}

static void
baseline_text(const struct json *j)
{
    char *n = cell(get(j, "hosts"));
    char *f = cell(get(j, "features"));
    char *p = cell(get(j, "partial"));
    printf("hosts:    %s\nfeatures: %s\npartial:  %s\n", n, f, p);
    free(n);
    free(f);
    free(p);
}

static void
libvirt_xml_text(const struct json *j)
{
    const struct json *x = get(j, "libvirt_xml");
    fputs(x && x->type == JSON_STRING ? json_string(x) : "", stdout);
}

static void
cpu_check_text(const struct json *j)
{
    const struct json *ok = get(j, "compatible");
    char *missing = cell(get(j, "missing"));
    printf("%s%s%s\n", ok && ok->type == JSON_TRUE ? "compatible"
           : "incompatible", ok && ok->type == JSON_TRUE ? "" : ": missing ",
           ok && ok->type == JSON_TRUE ? "" : missing);
    free(missing);
}

/* cpu baseline [DOMAIN] [--libvirt-xml]; cpu check VM_CPU_FLAGS HOST, with
 * VM_CPU_FLAGS comma-separated flags or host:ID for "a VM started on ID". */
static int
cmd_cpu(const struct ctl *ctl, int argc, char *argv[])
{
    const char *sub = argc > optind ? argv[optind++] : NULL;
    if (sub && !strcmp(sub, "baseline")) {
        bool xml = has_flag(argc, argv, optind, "--libvirt-xml");
        const char *domain = (argc > optind && strcmp(argv[optind],
                                                      "--libvirt-xml")
                              ? argv[optind] : NULL);
        char path[256];
        snprintf(path, sizeof path, "/v1/cpu/baseline%s%s",
                 domain ? "/" : "", domain ? domain : "");
        return output(ctl, call(ctl, "GET", path, NULL),
                      xml ? libvirt_xml_text : baseline_text);
    } else if (sub && !strcmp(sub, "check")) {
        need_args(argc, argv, 2, "cpu check VM_CPU_FLAGS|host:ID HOST");
        struct json *body = json_object_create();
        if (!strncmp(argv[optind], "host:", 5)) {
            json_object_put_string(body, "source_host", argv[optind] + 5);
        } else {
            json_object_put(body, "flags", words_json(optind + 1, argv,
                                                      optind));
        }
        json_object_put_string(body, "host", argv[optind + 1]);
        struct json *j = call(ctl, "POST", "/v1/cpu/check", body);
        const struct json *ok = get(j, "compatible");
        bool compatible = ok && ok->type == JSON_TRUE;
        output(ctl, j, cpu_check_text);
        return compatible ? EXIT_OK : EXIT_REFUSED;
    }
    usage_error("cpu: expected baseline or check");
}

/* --- Main ------------------------------------------------------------------- */

static void
usage(void)
{
    printf("%s: command-line client of tetherd's REST API\n"
           "usage: %s [OPTIONS] COMMAND [ARG...]\n"
           "\nENIs:\n"
           "  eni list\n"
           "  eni show ID\n"
           "  eni create [--id=ID] [--mac=MAC] [--ip=IPV4]... [--ipv6=IPV6]...\n"
           "             --vni=VNI [--sg=SG_ID]... [--description=TEXT]\n"
           "             [--source-dest-check=on|off] [--vm=VM_UUID]\n"
           "             (the first --ip is the primary address)\n"
           "  eni update ID [--mac=MAC] [--ip=IPV4]... [--ipv6=IPV6]... "
           "[--vni=VNI]\n"
           "             [--sg=SG_ID]... [--no-sg] [--description=TEXT]\n"
           "             [--source-dest-check=on|off]\n"
           "  eni delete ID\n"
           "  eni attach ID VM_UUID\n"
           "  eni detach ID\n"
           "\nSecurity groups:\n"
           "  sg list\n"
           "  sg show ID\n"
           "  sg create [--id=ID [--replace]] [--name=NAME] "
           "[--description=TEXT]\n"
           "            [--rule=DIRECTION,PROTOCOL,PORT_MIN,PORT_MAX,REMOTE"
           "[,ETHERTYPE]]...\n"
           "            e.g. --rule=ingress,tcp,22,22,10.0.0.0/8 or "
           "--rule=ingress,icmp,,,sg-web\n"
           "  sg delete ID\n"
           "\nHosts, migrations, metrics:\n"
           "  host list\n"
           "  host show ID\n"
           "  migration list\n"
           "  migration watch           print phase changes as they happen\n"
           "  metrics\n"
           "\nMigration admission:\n"
           "  domain list|show ID|delete ID\n"
           "  domain set ID [--kind=rack|row|zone|...] HOST...\n"
           "  group list|show ID|delete ID\n"
           "  group set ID [--bandwidth=MBPS] ENI_OR_VM...\n"
           "  rule list|show ID|delete ID\n"
           "  rule set ID must|should together|apart GROUP "
           "[domain=D | scope=host|KIND]\n"
           "           [weight=N]\n"
           "  host maintenance ID on|off\n"
           "  host limits ID [max-enis=N] [bandwidth=MBPS]\n"
           "  recommend ENI             best destinations for ENI's VM\n"
           "  evacuate plan|start|status HOST\n"
           "  cpu baseline [DOMAIN] [--libvirt-xml]\n"
           "  cpu check FLAG,...|host:ID HOST\n"
           "\nOptions:\n"
           "  --server=URL       tetherd's API (default $TETHER_SERVER, else "
           "%s)\n"
           "  --token=TOKEN      bearer token for changes (default "
           "$TETHER_TOKEN)\n"
           "  --format=table|json  output (default table)\n"
           "  -h, --help         display this help message\n"
           "  -V, --version      display version information\n"
           "\nExit status: 0 success, 1 the server refused, 2 usage error, "
           "3 server unreachable.\n",
           program_name, program_name, DEFAULT_SERVER);
}

int
main(int argc, char *argv[])
{
    enum { OPT_SERVER = UCHAR_MAX + 1, OPT_TOKEN, OPT_FORMAT };
    static const struct option opts[] = {
        {"server", required_argument, NULL, OPT_SERVER},
        {"token", required_argument, NULL, OPT_TOKEN},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct ctl ctl = {
        .server = getenv("TETHER_SERVER"),
        .token = getenv("TETHER_TOKEN"),
    };

    set_program_name(argv[0]);
    if (!ctl.server || !ctl.server[0]) {
        ctl.server = DEFAULT_SERVER;
    }
    opterr = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "+hV", opts, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_SERVER:
            ctl.server = optarg;
            break;
        case OPT_TOKEN:
            ctl.token = optarg;
            break;
        case OPT_FORMAT:
            if (!strcmp(optarg, "json")) {
                ctl.json = true;
            } else if (!strcmp(optarg, "table")) {
                ctl.json = false;
            } else {
                usage_error("--format: \"%s\" is not table or json", optarg);
            }
            break;
        case 'h':
            usage();
            return EXIT_OK;
        case 'V':
            printf("tetherctl (tether) %s\n", TETHER_VERSION);
            return EXIT_OK;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage_error("missing command (try --help)");
    }

    const char *cmd = argv[optind++];
    if (!strcmp(cmd, "eni")) {
        return cmd_eni(&ctl, argc, argv);
    } else if (!strcmp(cmd, "sg")) {
        return cmd_sg(&ctl, argc, argv);
    } else if (!strcmp(cmd, "host") && argc > optind
               && (!strcmp(argv[optind], "maintenance")
                   || !strcmp(argv[optind], "limits"))) {
        return cmd_host_admission(&ctl, argc, argv);
    } else if (!strcmp(cmd, "domain") || !strcmp(cmd, "group")
               || !strcmp(cmd, "rule")) {
        return cmd_admission_config(&ctl, cmd, argc, argv);
    } else if (!strcmp(cmd, "recommend")) {
        return cmd_recommend(&ctl, argc, argv);
    } else if (!strcmp(cmd, "evacuate")) {
        return cmd_evacuate(&ctl, argc, argv);
    } else if (!strcmp(cmd, "cpu")) {
        return cmd_cpu(&ctl, argc, argv);
    } else if (!strcmp(cmd, "host")) {
        return cmd_host(&ctl, argc, argv);
    } else if (!strcmp(cmd, "migration")) {
        return cmd_migration(&ctl, argc, argv);
    } else if (!strcmp(cmd, "metrics")) {
        return cmd_metrics(&ctl, argc, argv);
    }
    usage_error("%s: unknown command (try --help)", cmd);
}
