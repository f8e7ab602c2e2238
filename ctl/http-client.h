/* tetherctl's blocking HTTP/1.1 client of tetherd's REST API: one request
 * per connection, the whole response read into memory.  It exits the
 * program (3) when the server cannot be reached or answers nonsense. */
#ifndef CTL_HTTP_CLIENT_H
#define CTL_HTTP_CLIENT_H 1

#include <stddef.h>

#include "ctl/tetherctl.h"

struct json;

struct response {
    int status;
    char *body;                 /* NUL-terminated */
    size_t len;
};

/* Sends 'method' 'path' (with 'body' as JSON, if nonnull) to 'ctl->server'
 * and returns the response; the caller frees its 'body'. */
struct response http_request(const struct ctl *, const char *method,
                             const char *path, const struct json *body);

/* Parses a JSON response body; exits if it is not JSON. */
struct json *response_json(const struct ctl *, const struct response *);

/* Performs the request, taking ownership of 'body'; on a 4xx/5xx prints the
 * server's message and exits 1.  Returns the parsed body (NULL for an empty
 * one), which the caller destroys. */
struct json *call(const struct ctl *, const char *method, const char *path,
                  struct json *body);

#endif /* ctl/http-client.h */
