/* Framing and validation of the agent <-> controller protocol.
 *
 * A frame is an 8-byte header followed by one protobuf-encoded message of
 * proto/tether.proto:
 *
 *     0      1      2         3      4..7
 *     'T'    'H'    version   type   payload length (big-endian uint32)
 *
 * This module only turns bytes into validated messages and back.  It does no
 * I/O and no logging: every failure comes back as a TETHER_WIRE_E* code plus a
 * one-line reason for the caller to log and to send to the peer in an Error
 * message before closing the connection.  All functions are thread-safe and
 * depend only on protobuf-c and lib/. */
#ifndef PROTO_WIRE_H
#define PROTO_WIRE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/tether.pb-c.h"

#define TETHER_PROTO_VERSION 1
#define TETHER_WIRE_MAGIC0 0x54         /* 'T' */
#define TETHER_WIRE_MAGIC1 0x48         /* 'H' */
#define TETHER_WIRE_HDR_LEN 8
#define TETHER_WIRE_MAX_PAYLOAD (4u * 1024 * 1024)

/* Message types, as carried in the frame header.  Never renumber. */
enum tether_msg_type {
    TETHER_MSG_HELLO = 1,             /* agent -> controller */
    TETHER_MSG_HELLO_REPLY = 2,       /* controller -> agent */
    TETHER_MSG_HEARTBEAT = 3,         /* both ways */
    TETHER_MSG_VIF_EVENT = 4,         /* agent -> controller */
    TETHER_MSG_MIGRATION_EVENT = 5,   /* agent -> controller */
    TETHER_MSG_RESYNC = 6,            /* agent -> controller */
    TETHER_MSG_COMMAND = 7,           /* controller -> agent */
    TETHER_MSG_ACK = 8,               /* agent -> controller */
    TETHER_MSG_ERROR = 9,             /* both ways */
    TETHER_MSG_BRIDGE_STATUS = 10,    /* agent -> controller */
};
#define TETHER_MSG_MIN TETHER_MSG_HELLO
#define TETHER_MSG_MAX TETHER_MSG_BRIDGE_STATUS

/* Who may send a message type. */
enum tether_peer_role {
    TETHER_ROLE_AGENT = 1 << 0,
    TETHER_ROLE_CONTROLLER = 1 << 1,
};

/* Errors.  0 is success.  Every error is fatal to the connection it came
 * from: the receiver answers with an Error message and closes. */
enum tether_wire_error {
    TETHER_WIRE_OK = 0,
    TETHER_WIRE_EBADMAGIC = 1,  /* first two bytes are not "TH": not our protocol */
    TETHER_WIRE_EVERSION,       /* protocol version other than ours */
    TETHER_WIRE_ETYPE,          /* unknown message type */
    TETHER_WIRE_ETOOBIG,        /* payload length over TETHER_WIRE_MAX_PAYLOAD */
    TETHER_WIRE_ETRUNCATED,     /* stream ended inside a frame */
    TETHER_WIRE_EMALFORMED,     /* payload does not decode as its type */
    TETHER_WIRE_EINVALID,       /* decodes, but breaks a rule of its type */
    TETHER_WIRE_EDIRECTION,     /* type not allowed from this sender */
    TETHER_WIRE_ESTATE,         /* type not allowed now (e.g. before Hello) */
    TETHER_WIRE_EAUTH,          /* peer reported for another host */
    TETHER_WIRE_ENOMEM,         /* allocation failed */
};
#define TETHER_WIRE_EMAX TETHER_WIRE_ENOMEM

struct tether_wire_header {
    uint8_t version;
    uint8_t type;               /* enum tether_msg_type, once validated */
    uint32_t length;            /* payload bytes after the header */
};

/* A decoded, validated message.  'pb' points to the protobuf-c struct of
 * the type: Tether__Hello for TETHER_MSG_HELLO, and so on. */
struct tether_msg {
    enum tether_msg_type type;
    ProtobufCMessage *pb;
};

/* Size of the reason buffers passed to the functions below. */
#define TETHER_WIRE_ERRLEN 160

const char *tether_wire_strerror(int error);
const char *tether_msg_type_name(int type);   /* "hello", ... or "unknown" */
const ProtobufCMessageDescriptor *tether_msg_descriptor(int type);
bool tether_msg_allowed_from(int type, enum tether_peer_role sender);

/* Looks at the 'len' bytes at 'buf', the unconsumed start of a received
 * stream.  If a whole header is there and valid, stores it in '*hdr' and
 * stores in '*frame_len' the size of the whole frame (header + payload),
 * which may be more than 'len': the caller waits for that many bytes.  If
 * fewer than TETHER_WIRE_HDR_LEN bytes are there, stores 0 in '*frame_len'
 * and returns 0.  Returns EBADMAGIC, EVERSION, ETYPE or ETOOBIG (with a
 * reason in 'err') for a header that can never become a valid frame. */
int tether_wire_peek(const uint8_t *buf, size_t len,
                     struct tether_wire_header *hdr, size_t *frame_len,
                     char err[TETHER_WIRE_ERRLEN]);

/* Decodes and validates the complete frame of 'len' bytes at 'frame' (as
 * sized by tether_wire_peek()).  On success stores the message in '*msg'
 * and returns 0; the caller owns it and frees it with tether_msg_clear().
 * On failure returns an error, writes a reason to 'err' and leaves '*msg'
 * empty. */
int tether_wire_decode(const uint8_t *frame, size_t len,
                       struct tether_msg *msg, char err[TETHER_WIRE_ERRLEN]);

/* Checks the rules of message 'pb' of 'type' that the protobuf encoding
 * cannot express: required strings present, host ids, MAC and IP syntax,
 * enum values known, sizes bounded.  Returns 0 or EINVALID with a reason. */
int tether_msg_validate(int type, const ProtobufCMessage *pb,
                        char err[TETHER_WIRE_ERRLEN]);

/* Frees what tether_wire_decode() stored in 'msg' (safe on an empty one). */
void tether_msg_clear(struct tether_msg *msg);

/* Size of the frame that tether_wire_encode() would produce. */
size_t tether_wire_frame_size(const ProtobufCMessage *pb);

/* Encodes 'pb' as a frame of 'type' into the 'size' bytes at 'buf', which
 * must be at least tether_wire_frame_size(pb).  Returns the bytes written, or
 * 0 if 'pb' is not of the type's descriptor, is over the maximum size or
 * does not fit in 'size'.  Does not validate 'pb': see
 * tether_msg_validate(). */
size_t tether_wire_encode(int type, const ProtobufCMessage *pb,
                          uint8_t *buf, size_t size);

/* Like tether_wire_encode() into a new malloc()ed buffer, stored in '*bufp'
 * with its size in '*lenp'.  Returns 0, EINVALID or ENOMEM. */
int tether_wire_encode_alloc(int type, const ProtobufCMessage *pb,
                             uint8_t **bufp, size_t *lenp);

#endif /* proto/wire.h */
