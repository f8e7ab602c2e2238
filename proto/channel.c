/* A tether protocol connection on a libevent bufferevent: frame reassembly,
 * decoding, role checks and orderly failure (see channel.h). */
#include "proto/channel.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "proto/tls.h"

struct tether_channel {
    struct bufferevent *bev;        /* NULL once closed */
    enum tether_peer_role peer_role;
    char *name;
    struct tether_channel_cbs cbs;
    void *aux;

    bool closing;                   /* waiting for the output to drain */
    bool closed;                    /* 'closed' callback has run */
    int close_error;
    char close_reason[256];

    /* Re-entrancy: a callback may destroy the channel it is called for. */
    int in_callback;
    bool destroy_pending;

    struct tether_channel_stats stats;
};

static void channel_read_cb(struct bufferevent *, void *);
static void channel_write_cb(struct bufferevent *, void *);
static void channel_event_cb(struct bufferevent *, short, void *);
static void channel_finish_close__(struct tether_channel *);

struct tether_channel *
tether_channel_create(struct bufferevent *bev, enum tether_peer_role peer_role,
                      const char *name, const struct tether_channel_cbs *cbs,
                      void *aux)
{
    struct tether_channel *ch = calloc(1, sizeof *ch);
    if (!ch) {
        return NULL;
    }
    ch->bev = bev;
    ch->peer_role = peer_role;
    ch->name = strdup(name ? name : "peer");
    ch->cbs = *cbs;
    ch->aux = aux;
    bufferevent_setcb(bev, channel_read_cb, channel_write_cb,
                      channel_event_cb, ch);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    return ch;
}

static void
channel_free__(struct tether_channel *ch)
{
    if (ch->bev) {
        bufferevent_free(ch->bev);
    }
    free(ch->name);
    free(ch);
}

void
tether_channel_destroy(struct tether_channel *ch)
{
    if (!ch) {
        return;
    }
    if (ch->in_callback) {
        ch->destroy_pending = true;
        if (ch->bev) {
            bufferevent_disable(ch->bev, EV_READ | EV_WRITE);
        }
        ch->closed = true;          /* no callbacks after a destroy */
        return;
    }
    channel_free__(ch);
}

/* Brackets calls into the owner, which may destroy 'ch' from within them:
 * channel_leave__() then frees it and returns false. */
static void
channel_enter__(struct tether_channel *ch)
{
    ch->in_callback++;
}

static bool
channel_leave__(struct tether_channel *ch)
{
    if (--ch->in_callback == 0 && ch->destroy_pending) {
        channel_free__(ch);
        return false;
    }
    return true;
}

const char *
tether_channel_name(const struct tether_channel *ch)
{
    return ch->name;
}

struct bufferevent *
tether_channel_bufferevent(const struct tether_channel *ch)
{
    return ch->bev;
}

bool
tether_channel_is_open(const struct tether_channel *ch)
{
    return ch && ch->bev && !ch->closing && !ch->closed;
}

size_t
tether_channel_output_bytes(const struct tether_channel *ch)
{
    return ch->bev ? evbuffer_get_length(bufferevent_get_output(ch->bev)) : 0;
}

void
tether_channel_get_stats(const struct tether_channel *ch,
                         struct tether_channel_stats *s)
{
    *s = ch->stats;
}

static int
channel_send__(struct tether_channel *ch, int type, const ProtobufCMessage *pb)
{
    uint8_t *buf;
    size_t len;
    int error = tether_wire_encode_alloc(type, pb, &buf, &len);
    if (error) {
        return error;
    }
    error = bufferevent_write(ch->bev, buf, len) ? TETHER_WIRE_ENOMEM : 0;
    if (!error) {
        ch->stats.tx_msgs++;
        ch->stats.tx_bytes += len;
    }
    free(buf);
    return error;
}

int
tether_channel_send(struct tether_channel *ch, int type,
                    const ProtobufCMessage *pb)
{
    if (!tether_channel_is_open(ch)) {
        return TETHER_WIRE_ESTATE;
    }
    return channel_send__(ch, type, pb);
}

/* Marks 'ch' closing with 'error' and 'reason'; the close completes once the
 * output has drained (or at once if there is no socket left to drain to). */
static void
channel_begin_close__(struct tether_channel *ch, int error, const char *reason)
{
    if (ch->closing || ch->closed) {
        return;
    }
    ch->closing = true;
    ch->close_error = error;
    snprintf(ch->close_reason, sizeof ch->close_reason, "%s", reason);
    if (!ch->bev) {
        channel_finish_close__(ch);
        return;
    }
    bufferevent_disable(ch->bev, EV_READ);
    if (!evbuffer_get_length(bufferevent_get_output(ch->bev))) {
        channel_finish_close__(ch);
    }
    /* Otherwise channel_write_cb() finishes when the output is empty. */
}

static void
channel_finish_close__(struct tether_channel *ch)
{
    if (ch->closed) {
        return;
    }
    ch->closed = true;
    if (ch->bev) {
        bufferevent_free(ch->bev);
        ch->bev = NULL;
    }
    if (ch->cbs.closed && !ch->destroy_pending) {
        channel_enter__(ch);
        ch->cbs.closed(ch, ch->close_error, ch->close_reason, ch->aux);
        channel_leave__(ch);
    }
}

void
tether_channel_fail(struct tether_channel *ch, int code, const char *reason)
{
    if (!ch || ch->closing || ch->closed) {
        return;
    }
    if (ch->bev) {
        Tether__Error err = TETHER__ERROR__INIT;
        char msg[512];
        snprintf(msg, sizeof msg, "%s", reason);
        err.code = code;
        err.message = msg;
        channel_send__(ch, TETHER_MSG_ERROR, &err.base);
    }
    channel_begin_close__(ch, code, reason);
}

void
tether_channel_close(struct tether_channel *ch, const char *reason)
{
    if (ch) {
        channel_begin_close__(ch, 0, reason ? reason : "closed locally");
    }
}

/* Decodes and dispatches every complete frame in the input.  Returns early
 * if the channel fails or is destroyed by a callback. */
static void
channel_read_cb(struct bufferevent *bev, void *ch_)
{
    struct tether_channel *ch = ch_;
    struct evbuffer *in = bufferevent_get_input(bev);

    channel_enter__(ch);
    while (!ch->closing && !ch->closed) {
        size_t avail = evbuffer_get_length(in);
        size_t frame_len;
        struct tether_wire_header hdr;
        char err[TETHER_WIRE_ERRLEN];

        if (avail < TETHER_WIRE_HDR_LEN) {
            break;
        }
        const uint8_t *p = evbuffer_pullup(in, TETHER_WIRE_HDR_LEN);
        int error = tether_wire_peek(p, avail, &hdr, &frame_len, err);
        if (error) {
            tether_channel_fail(ch, error, err);
            break;
        }
        if (avail < frame_len) {
            break;
        }
        p = evbuffer_pullup(in, frame_len);
        if (!p) {
            tether_channel_fail(ch, TETHER_WIRE_ENOMEM, "out of memory");
            break;
        }

        struct tether_msg msg;
        error = tether_wire_decode(p, frame_len, &msg, err);
        evbuffer_drain(in, frame_len);
        ch->stats.rx_bytes += frame_len;
        if (error) {
            tether_channel_fail(ch, error, err);
            break;
        }
        if (!tether_msg_allowed_from(msg.type, ch->peer_role)) {
            snprintf(err, sizeof err, "%s may not send %s messages",
                     ch->peer_role == TETHER_ROLE_AGENT
                     ? "an agent" : "a controller",
                     tether_msg_type_name(msg.type));
            tether_msg_clear(&msg);
            tether_channel_fail(ch, TETHER_WIRE_EDIRECTION, err);
            break;
        }
        ch->stats.rx_msgs++;
        if (ch->cbs.message) {
            ch->cbs.message(ch, &msg, ch->aux);
        }
        tether_msg_clear(&msg);
        if (ch->destroy_pending) {
            break;
        }
    }
    channel_leave__(ch);
}

static void
channel_write_cb(struct bufferevent *bev, void *ch_)
{
    struct tether_channel *ch = ch_;

    if (ch->closing && !evbuffer_get_length(bufferevent_get_output(bev))) {
        channel_enter__(ch);
        channel_finish_close__(ch);
        channel_leave__(ch);
    }
}

static void
channel_event_cb(struct bufferevent *bev, short what, void *ch_)
{
    struct tether_channel *ch = ch_;
    char reason[256];

    channel_enter__(ch);
    if (what & BEV_EVENT_CONNECTED) {
        if (ch->cbs.connected) {
            ch->cbs.connected(ch, ch->aux);
        }
    } else if (what & BEV_EVENT_EOF) {
        size_t left = evbuffer_get_length(bufferevent_get_input(bev));
        if (ch->closing) {
            channel_finish_close__(ch);
        } else if (left) {
            snprintf(reason, sizeof reason, "truncated frame: connection "
                     "closed with %zu bytes of an unfinished frame", left);
            ch->closing = true;
            ch->close_error = TETHER_WIRE_ETRUNCATED;
            snprintf(ch->close_reason, sizeof ch->close_reason, "%s", reason);
            channel_finish_close__(ch);
        } else {
            ch->closing = true;
            ch->close_error = 0;
            snprintf(ch->close_reason, sizeof ch->close_reason,
                     "connection closed by peer");
            channel_finish_close__(ch);
        }
    } else if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        int err = EVUTIL_SOCKET_ERROR();
        if (!ch->closing) {
            ch->closing = true;
            ch->close_error = TETHER_CHANNEL_ESOCKET;
            if (what & BEV_EVENT_TIMEOUT) {
                snprintf(ch->close_reason, sizeof ch->close_reason,
                         "connection timed out");
            } else if (bufferevent_get_openssl_error(bev)) {
                snprintf(ch->close_reason, sizeof ch->close_reason,
                         "TLS: %s", tether_tls_error(bev));
            } else {
                snprintf(ch->close_reason, sizeof ch->close_reason, "%s",
                         evutil_socket_error_to_string(err));
            }
        }
        channel_finish_close__(ch);
    }
    channel_leave__(ch);
}
