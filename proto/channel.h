/* A connection that carries tether protocol frames over a libevent
 * bufferevent: it reassembles frames from the byte stream, decodes and
 * validates them with proto/wire.h, checks that the peer's role may send each
 * type, and hands whole messages to a callback; it encodes outgoing messages
 * into the bufferevent's output.
 *
 * Any bad input (garbage, a wrong version, an unknown type, an oversize or
 * truncated frame, a message the peer may not send) ends the channel: an
 * Error message goes to the peer, the output is flushed, the socket closed,
 * and the owner's 'closed' callback learns the error code and a one-line
 * reason.  Nothing else in the process is touched.
 *
 * This module does not log, reconnect or know about hosts: its owners do. */
#ifndef PROTO_CHANNEL_H
#define PROTO_CHANNEL_H 1

#include <stdbool.h>
#include <stddef.h>

#include "proto/wire.h"

struct bufferevent;
struct tether_channel;

struct tether_channel_cbs {
    /* Called for every valid message.  The channel frees 'msg' after the
     * callback returns; the callback may close or destroy the channel. */
    void (*message)(struct tether_channel *, const struct tether_msg *msg,
                    void *aux);

    /* Called once when the channel has closed: 'error' is 0 for an orderly
     * close by the peer (EOF between frames) or by tether_channel_close(),
     * an errno value (positive, > 1000 offset not used) for a socket error
     * reported as TETHER_CHANNEL_ESOCKET, or a TETHER_WIRE_E* code.  'reason'
     * says what happened in one line.  The owner then destroys the channel
     * (possibly from within the callback). */
    void (*closed)(struct tether_channel *, int error, const char *reason,
                   void *aux);

    /* Optional: called once when an outgoing connection completes. */
    void (*connected)(struct tether_channel *, void *aux);
};

/* 'error' passed to 'closed' for a socket-level failure (reset, refused). */
#define TETHER_CHANNEL_ESOCKET 1000

/* Creates a channel on 'bev', which it takes ownership of (and frees on
 * destroy).  'peer_role' is who sends what this channel receives: the
 * controller creates channels with TETHER_ROLE_AGENT.  'name' (copied) names
 * the peer in reasons, e.g. "127.0.0.1:40112". */
struct tether_channel *tether_channel_create(struct bufferevent *bev,
                                             enum tether_peer_role peer_role,
                                             const char *name,
                                             const struct tether_channel_cbs *,
                                             void *aux);

/* Frees 'ch' and its bufferevent (closing the socket).  NULL is safe.  Does
 * not call the 'closed' callback. */
void tether_channel_destroy(struct tether_channel *ch);

/* Encodes 'pb' as a message of 'type' and queues it.  Returns 0, or
 * TETHER_WIRE_EINVALID if 'pb' cannot be encoded, or ESHUTDOWN-like
 * TETHER_WIRE_ESTATE if the channel is closing. */
int tether_channel_send(struct tether_channel *ch, int type,
                        const ProtobufCMessage *pb);

/* Sends an Error message with 'code' and 'reason', flushes, closes and calls
 * the 'closed' callback with 'code' and 'reason'.  Used by owners for
 * protocol-level violations they detect themselves (a report for another
 * host, a message before Hello). */
void tether_channel_fail(struct tether_channel *ch, int code,
                         const char *reason);

/* Closes 'ch' after its queued output has been written (or at once if the
 * peer is gone); the 'closed' callback follows with error 0. */
void tether_channel_close(struct tether_channel *ch, const char *reason);

const char *tether_channel_name(const struct tether_channel *ch);
/* The channel's bufferevent (NULL once closed), e.g. to read a TLS peer's
 * certificate. */
struct bufferevent *tether_channel_bufferevent(const struct tether_channel *);
bool tether_channel_is_open(const struct tether_channel *ch);
size_t tether_channel_output_bytes(const struct tether_channel *ch);

/* Counters. */
struct tether_channel_stats {
    unsigned long long rx_msgs, tx_msgs, rx_bytes, tx_bytes;
};
void tether_channel_get_stats(const struct tether_channel *ch,
                              struct tether_channel_stats *);

#endif /* proto/channel.h */
