/* OpenSSL contexts and bufferevents for the agent protocol (see tls.h). */
#include "proto/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

static char *
tls_error__(const char *what, const char *file)
{
    char buf[256];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, buf, sizeof buf);
    size_t len = strlen(what) + strlen(file) + strlen(buf) + 8;
    char *msg = malloc(len);
    if (msg) {
        snprintf(msg, len, "%s %s: %s", what, file, buf);
    }
    ERR_clear_error();
    return msg;
}

SSL_CTX *
tether_tls_ctx_create(enum tether_tls_role role,
                      const struct tether_tls_config *cfg, char **errp)
{
    *errp = NULL;
    if (!cfg->private_key || !cfg->certificate || !cfg->ca_cert) {
        *errp = strdup("TLS needs a private key, a certificate and a CA "
                       "certificate");
        return NULL;
    }

    SSL_CTX *ctx = SSL_CTX_new(role == TETHER_TLS_SERVER
                               ? TLS_server_method() : TLS_client_method());
    if (!ctx) {
        *errp = tls_error__("cannot create TLS context", "");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->certificate) != 1) {
        *errp = tls_error__("cannot load certificate", cfg->certificate);
    } else if (SSL_CTX_use_PrivateKey_file(ctx, cfg->private_key,
                                           SSL_FILETYPE_PEM) != 1) {
        *errp = tls_error__("cannot load private key", cfg->private_key);
    } else if (SSL_CTX_check_private_key(ctx) != 1) {
        *errp = tls_error__("private key does not match certificate",
                            cfg->private_key);
    } else if (SSL_CTX_load_verify_locations(ctx, cfg->ca_cert, NULL) != 1) {
        *errp = tls_error__("cannot load CA certificate", cfg->ca_cert);
    }
    if (*errp) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       NULL);
    return ctx;
}

void
tether_tls_ctx_destroy(SSL_CTX *ctx)
{
    SSL_CTX_free(ctx);
}

struct bufferevent *
tether_tls_bufferevent(struct event_base *base, SSL_CTX *ctx, int fd,
                       enum tether_tls_role role)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl) {
        return NULL;
    }
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        base, fd, ssl,
        role == TETHER_TLS_SERVER ? BUFFEREVENT_SSL_ACCEPTING
                                  : BUFFEREVENT_SSL_CONNECTING,
        BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        SSL_free(ssl);
        return NULL;
    }
    /* A peer that vanishes without close_notify is just a closed
     * connection to us. */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

bool
tether_tls_peer_cn(struct bufferevent *bev, char *cn, size_t size)
{
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    if (!ssl || SSL_get_verify_result(ssl) != X509_V_OK) {
        return false;
    }
    X509 *cert = SSL_get1_peer_certificate(ssl);
    if (!cert) {
        return false;
    }
    int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
                                      NID_commonName, cn, size);
    X509_free(cert);
    return n > 0 && (size_t) n < size;
}

const char *
tether_tls_error(struct bufferevent *bev)
{
    static char buf[256];
    unsigned long e = bufferevent_get_openssl_error(bev);
    if (!e) {
        return "TLS connection failed";
    }
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

const char *
tether_tls_parse_target(const char *target, bool *is_tls)
{
    if (!strncmp(target, "ssl:", 4)) {
        *is_tls = true;
        return target + 4;
    } else if (!strncmp(target, "tcp:", 4)) {
        *is_tls = false;
        return target + 4;
    } else if (strchr(target, ':') && !strchr(target, '/')
               && (target[0] == '[' || (target[0] >= '0' && target[0] <= '9'))) {
        *is_tls = false;
        return target;
    }
    return NULL;
}
