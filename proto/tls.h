/* TLS for the agent protocol: OpenSSL contexts with mutual certificate
 * authentication, for libevent's OpenSSL bufferevents.  Both sides present
 * a certificate signed by the deployment's CA and verify the other's; the
 * controller then takes the agent's certificate common name as the only host
 * id that agent may speak for. */
#ifndef PROTO_TLS_H
#define PROTO_TLS_H 1

#include <stdbool.h>
#include <stddef.h>

struct bufferevent;
struct event_base;
struct ssl_ctx_st;

enum tether_tls_role {
    TETHER_TLS_SERVER,
    TETHER_TLS_CLIENT,
};

struct tether_tls_config {
    const char *private_key;        /* PEM file */
    const char *certificate;        /* PEM file */
    const char *ca_cert;            /* PEM file of the CA to trust */
};

/* Creates a context for 'role' (TLS 1.2 or later, peer certificate
 * required and verified against 'ca_cert').  Returns NULL and a malloc()ed
 * message in '*errp' naming the file that failed. */
struct ssl_ctx_st *tether_tls_ctx_create(enum tether_tls_role,
                                         const struct tether_tls_config *,
                                         char **errp);
void tether_tls_ctx_destroy(struct ssl_ctx_st *);

/* A bufferevent that runs TLS over socket 'fd' (-1 to connect later with
 * bufferevent_socket_connect()).  Returns NULL on failure. */
struct bufferevent *tether_tls_bufferevent(struct event_base *,
                                           struct ssl_ctx_st *, int fd,
                                           enum tether_tls_role);

/* Copies the verified peer certificate's common name into 'cn'; returns
 * false if 'bev' is not TLS or has no verified peer certificate. */
bool tether_tls_peer_cn(struct bufferevent *, char *cn, size_t size);

/* The last TLS error on 'bev', for logs ("certificate verify failed"). */
const char *tether_tls_error(struct bufferevent *);

/* Splits "tcp:IP:PORT", "ssl:IP:PORT" or plain "IP:PORT" (TCP) into
 * '*is_tls' and the address part.  Returns NULL for other prefixes. */
const char *tether_tls_parse_target(const char *target, bool *is_tls);

#endif /* proto/tls.h */
