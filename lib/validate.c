/* Syntax checks for host ids, ENI ids, UUIDs, MAC and IP addresses: the
 * strings that reach tether from peers, REST clients and OVSDB.  Every
 * function here is pure: it allocates nothing and keeps no state. */
#include "lib/validate.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Returns the value of hex digit 'c', or -1 if 'c' is not one. */
static int
hexit_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    } else if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static bool
is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9');
}

/* True if 's' is 1 to 'max' characters, each alphanumeric or in 'extra'. */
static bool
valid_token(const char *s, size_t max, const char *extra)
{
    size_t i;

    if (!s) {
        return false;
    }
    for (i = 0; s[i]; i++) {
        if (i >= max || (!is_alnum(s[i]) && !strchr(extra, s[i]))) {
            return false;
        }
    }
    return i > 0;
}

bool
tether_valid_host_id(const char *s)
{
    return valid_token(s, TETHER_HOST_ID_MAX, "._-");
}

bool
tether_valid_eni_id(const char *s)
{
    return valid_token(s, TETHER_ENI_ID_MAX, "._:-");
}

bool
tether_valid_uuid(const char *s)
{
    size_t i;

    if (!s) {
        return false;
    }
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return false;
            }
        } else if (hexit_value(s[i]) < 0) {
            return false;       /* Also stops at the terminating null. */
        }
    }
    return s[36] == '\0';
}

bool
tether_parse_mac(const char *s, uint8_t mac[6])
{
    uint8_t bytes[6];
    int i;

    if (!s) {
        return false;
    }
    for (i = 0; i < 6; i++) {
        const char *p = s + 3 * i;
        int hi = hexit_value(p[0]);
        int lo = hi < 0 ? -1 : hexit_value(p[1]);

        if (lo < 0 || p[2] != (i < 5 ? ':' : '\0')) {
            return false;
        }
        bytes[i] = hi << 4 | lo;
    }
    if (mac) {
        memcpy(mac, bytes, sizeof bytes);
    }
    return true;
}

bool
tether_valid_ip(const char *s)
{
    struct in6_addr addr;       /* Large enough for either family. */

    if (!s) {
        return false;
    }
    return (inet_pton(AF_INET, s, &addr) == 1
            || inet_pton(AF_INET6, s, &addr) == 1);
}

bool
tether_parse_ip_port(const char *s, struct sockaddr_storage *ss, int *lenp)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon, *port_s;

    if (!s) {
        return false;
    }
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':' || close - s - 1 >= (int) sizeof host) {
            return false;
        }
        memcpy(host, s + 1, close - s - 1);
        host[close - s - 1] = '\0';
        port_s = close + 2;
    } else {
        colon = strrchr(s, ':');
        if (!colon || colon - s >= (int) sizeof host
            || memchr(s, ':', colon - s)) {
            return false;
        }
        memcpy(host, s, colon - s);
        host[colon - s] = '\0';
        port_s = colon + 1;
    }

    if (!*port_s || strspn(port_s, "0123456789") != strlen(port_s)
        || strlen(port_s) > 5) {
        return false;
    }
    long port = strtol(port_s, NULL, 10);
    if (port > 65535) {
        return false;
    }

    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *sin = (struct sockaddr_in *) ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
    if (s[0] != '[' && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        *lenp = sizeof *sin;
        return true;
    } else if (s[0] == '[' && inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        *lenp = sizeof *sin6;
        return true;
    }
    return false;
}
