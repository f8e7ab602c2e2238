/* tetherctl's HTTP/1.1 client: one blocking request per connection
 * (Connection: close) to tetherd's REST API, with timeouts, and the JSON
 * body of the answer, or the server's error on stderr and exit 1. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
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
#include "util.h"

#include "ctl/http-client.h"

#define CONNECT_TIMEOUT_MS 5000
#define IO_TIMEOUT_S 30
#define MAX_RESPONSE (64 * 1024 * 1024)

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
struct response
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
struct json *
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
struct json *
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
