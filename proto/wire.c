/* Framing and validation of the agent <-> controller protocol: turns the
 * bytes of a stream into validated protobuf-c messages and back, driven by
 * one table indexed by message type (see proto/wire.h). */
#include "proto/wire.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/validate.h"

/* Bounds that hold for every message. */
#define MAX_STRING 1024         /* Bytes in any string field. */
#define MAX_REPEATED 65536      /* Entries in any repeated field. */

/* Bounds of particular fields. */
#define MAX_BRIDGE 15           /* Linux IFNAMSIZ - 1. */
#define MAX_HYPERVISOR 32
#define MAX_CAPABILITIES 64
#define MAX_CAPABILITY 64
#define MAX_CPU_MODEL 128
#define MAX_CPU_FLAGS 1024
#define MAX_CPU_FLAG 64
#define MIN_HEARTBEAT_MS 100
#define MAX_HEARTBEAT_MS 600000
#define MIN_OFPORT (-1)
#define MAX_OFPORT 65279        /* OFPP_MAX - 1: the reserved ports follow. */
#define MAX_MIGRATION_REASON 256
#define MAX_VIFS 65536
#define MAX_OPENFLOW_TARGETS 8
#define MAX_IPS 256
#define MAX_ERROR_MESSAGE 512

/* How much of a peer's string a reason quotes, and the buffer it takes:
 * two quotes, "..." and a null. */
#define QUOTE_MAX 32
#define QUOTE_SIZE (QUOTE_MAX + 6)

struct wire_type {
    enum tether_msg_type type;
    const char *name;
    const ProtobufCMessageDescriptor *descriptor;
    unsigned int senders;       /* Bitmap of enum tether_peer_role. */

    /* Checks 'pb', whose descriptor is already known to be 'descriptor'
     * and whose sizes are already bounded.  On failure appends a reason to
     * 'err', which already holds "<name>: ", and returns EINVALID. */
    int (*validate)(const ProtobufCMessage *pb, char *err);
};

static int validate_hello(const ProtobufCMessage *, char *err);
static int validate_hello_reply(const ProtobufCMessage *, char *err);
static int validate_heartbeat(const ProtobufCMessage *, char *err);
static int validate_vif_event(const ProtobufCMessage *, char *err);
static int validate_migration_event(const ProtobufCMessage *, char *err);
static int validate_resync(const ProtobufCMessage *, char *err);
static int validate_command(const ProtobufCMessage *, char *err);
static int validate_ack(const ProtobufCMessage *, char *err);
static int validate_error(const ProtobufCMessage *, char *err);
static int validate_bridge_status(const ProtobufCMessage *, char *err);

#define AGENT TETHER_ROLE_AGENT
#define CONTROLLER TETHER_ROLE_CONTROLLER

static const struct wire_type wire_types[TETHER_MSG_MAX + 1] = {
    [TETHER_MSG_HELLO] = {
        TETHER_MSG_HELLO, "hello", &tether__hello__descriptor,
        AGENT, validate_hello },
    [TETHER_MSG_HELLO_REPLY] = {
        TETHER_MSG_HELLO_REPLY, "hello_reply", &tether__hello_reply__descriptor,
        CONTROLLER, validate_hello_reply },
    [TETHER_MSG_HEARTBEAT] = {
        TETHER_MSG_HEARTBEAT, "heartbeat", &tether__heartbeat__descriptor,
        AGENT | CONTROLLER, validate_heartbeat },
    [TETHER_MSG_VIF_EVENT] = {
        TETHER_MSG_VIF_EVENT, "vif_event", &tether__vif_event__descriptor,
        AGENT, validate_vif_event },
    [TETHER_MSG_MIGRATION_EVENT] = {
        TETHER_MSG_MIGRATION_EVENT, "migration_event",
        &tether__migration_event__descriptor,
        AGENT, validate_migration_event },
    [TETHER_MSG_RESYNC] = {
        TETHER_MSG_RESYNC, "resync", &tether__resync__descriptor,
        AGENT, validate_resync },
    [TETHER_MSG_COMMAND] = {
        TETHER_MSG_COMMAND, "command", &tether__command__descriptor,
        CONTROLLER, validate_command },
    [TETHER_MSG_ACK] = {
        TETHER_MSG_ACK, "ack", &tether__ack__descriptor,
        AGENT, validate_ack },
    [TETHER_MSG_ERROR] = {
        TETHER_MSG_ERROR, "error", &tether__error__descriptor,
        AGENT | CONTROLLER, validate_error },
    [TETHER_MSG_BRIDGE_STATUS] = {
        TETHER_MSG_BRIDGE_STATUS, "bridge_status",
        &tether__bridge_status__descriptor,
        AGENT, validate_bridge_status },
};

static const struct wire_type *
wire_type_lookup(int type)
{
    return (type >= TETHER_MSG_MIN && type <= TETHER_MSG_MAX
            ? &wire_types[type] : NULL);
}

const char *
tether_wire_strerror(int error)
{
    switch (error) {
    case TETHER_WIRE_OK:
        return "success";
    case TETHER_WIRE_EBADMAGIC:
        return "not the tether protocol (bad magic)";
    case TETHER_WIRE_EVERSION:
        return "unsupported protocol version";
    case TETHER_WIRE_ETYPE:
        return "unknown message type";
    case TETHER_WIRE_ETOOBIG:
        return "message too big";
    case TETHER_WIRE_ETRUNCATED:
        return "stream ended inside a frame";
    case TETHER_WIRE_EMALFORMED:
        return "malformed message";
    case TETHER_WIRE_EINVALID:
        return "invalid message";
    case TETHER_WIRE_EDIRECTION:
        return "message type not allowed from this sender";
    case TETHER_WIRE_ESTATE:
        return "message type not allowed in this state";
    case TETHER_WIRE_EAUTH:
        return "message about another host";
    case TETHER_WIRE_ENOMEM:
        return "out of memory";
    default:
        return "unknown error";
    }
}

const char *
tether_msg_type_name(int type)
{
    const struct wire_type *wt = wire_type_lookup(type);

    return wt ? wt->name : "unknown";
}

const ProtobufCMessageDescriptor *
tether_msg_descriptor(int type)
{
    const struct wire_type *wt = wire_type_lookup(type);

    return wt ? wt->descriptor : NULL;
}

bool
tether_msg_allowed_from(int type, enum tether_peer_role sender)
{
    const struct wire_type *wt = wire_type_lookup(type);

    return wt && (wt->senders & sender) != 0;
}

/* Framing. */

int
tether_wire_peek(const uint8_t *buf, size_t len,
                 struct tether_wire_header *hdr, size_t *frame_len,
                 char err[TETHER_WIRE_ERRLEN])
{
    uint32_t length;

    *frame_len = 0;
    err[0] = '\0';
    if (len < TETHER_WIRE_HDR_LEN) {
        return 0;
    }

    if (buf[0] != TETHER_WIRE_MAGIC0 || buf[1] != TETHER_WIRE_MAGIC1) {
        snprintf(err, TETHER_WIRE_ERRLEN,
                 "bad magic 0x%02x%02x (not a tether peer?)", buf[0], buf[1]);
        return TETHER_WIRE_EBADMAGIC;
    }
    if (buf[2] != TETHER_PROTO_VERSION) {
        snprintf(err, TETHER_WIRE_ERRLEN,
                 "protocol version %d, this side speaks %d",
                 buf[2], TETHER_PROTO_VERSION);
        return TETHER_WIRE_EVERSION;
    }
    if (!wire_type_lookup(buf[3])) {
        snprintf(err, TETHER_WIRE_ERRLEN, "unknown message type %d", buf[3]);
        return TETHER_WIRE_ETYPE;
    }
    length = ((uint32_t) buf[4] << 24 | (uint32_t) buf[5] << 16
              | (uint32_t) buf[6] << 8 | buf[7]);
    if (length > TETHER_WIRE_MAX_PAYLOAD) {
        snprintf(err, TETHER_WIRE_ERRLEN,
                 "payload length %"PRIu32" over the maximum %u",
                 length, TETHER_WIRE_MAX_PAYLOAD);
        return TETHER_WIRE_ETOOBIG;
    }

    if (hdr) {
        hdr->version = buf[2];
        hdr->type = buf[3];
        hdr->length = length;
    }
    *frame_len = TETHER_WIRE_HDR_LEN + (size_t) length;
    return 0;
}

/* True if 'm' or a message within it kept an unknown field numbered 0,
 * which no valid encoding has. */
static bool
has_field_zero(const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    unsigned int i;
    size_t j;

    for (j = 0; j < m->n_unknown_fields; j++) {
        if (m->unknown_fields[j].tag == 0) {
            return true;
        }
    }
    for (i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *member = (const char *) m + f->offset;

        if (f->type != PROTOBUF_C_TYPE_MESSAGE) {
            continue;
        }
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *) ((const char *) m
                                          + f->quantifier_offset);
            ProtobufCMessage *const *elems
                = *(ProtobufCMessage *const *const *) member;

            for (j = 0; j < n; j++) {
                if (has_field_zero(elems[j])) {
                    return true;
                }
            }
        } else {
            const ProtobufCMessage *sub
                = *(const ProtobufCMessage *const *) member;

            if (sub && has_field_zero(sub)) {
                return true;
            }
        }
    }
    return false;
}

int
tether_wire_decode(const uint8_t *frame, size_t len,
                   struct tether_msg *msg, char err[TETHER_WIRE_ERRLEN])
{
    const struct wire_type *wt;
    struct tether_wire_header hdr;
    ProtobufCMessage *pb;
    size_t frame_len;
    int error;

    msg->type = 0;
    msg->pb = NULL;

    error = tether_wire_peek(frame, len, &hdr, &frame_len, err);
    if (error) {
        return error;
    }
    if (!frame_len) {
        snprintf(err, TETHER_WIRE_ERRLEN,
                 "frame of %zu bytes is shorter than the %d-byte header",
                 len, TETHER_WIRE_HDR_LEN);
        return TETHER_WIRE_EMALFORMED;
    }
    wt = wire_type_lookup(hdr.type);
    if (frame_len != len) {
        snprintf(err, TETHER_WIRE_ERRLEN,
                 "%s: frame of %zu bytes, but its header says %zu",
                 wt->name, len, frame_len);
        return TETHER_WIRE_EMALFORMED;
    }

    pb = protobuf_c_message_unpack(wt->descriptor, NULL, hdr.length,
                                   frame + TETHER_WIRE_HDR_LEN);
    if (!pb) {
        snprintf(err, TETHER_WIRE_ERRLEN,
                 "%s: payload of %"PRIu32" bytes does not decode as %s",
                 wt->name, hdr.length, wt->descriptor->name);
        return TETHER_WIRE_EMALFORMED;
    }

    if (has_field_zero(pb)) {
        /* protobuf-c accepts field number 0 in an overlong key and keeps it
         * as an unknown field that it then cannot parse again. */
        snprintf(err, TETHER_WIRE_ERRLEN,
                 "%s: payload has a field number 0", wt->name);
        protobuf_c_message_free_unpacked(pb, NULL);
        return TETHER_WIRE_EMALFORMED;
    }

    error = tether_msg_validate(hdr.type, pb, err);
    if (error) {
        protobuf_c_message_free_unpacked(pb, NULL);
        return error;
    }

    msg->type = wt->type;
    msg->pb = pb;
    return 0;
}

void
tether_msg_clear(struct tether_msg *msg)
{
    if (msg->pb) {
        protobuf_c_message_free_unpacked(msg->pb, NULL);
        msg->pb = NULL;
    }
    msg->type = 0;
}

/* If 'pb' can be sent as 'type', stores its packed size in '*payload' and
 * returns true. */
static bool
encodable(int type, const ProtobufCMessage *pb, size_t *payload)
{
    const struct wire_type *wt = wire_type_lookup(type);

    if (!wt || !pb || pb->descriptor != wt->descriptor) {
        return false;
    }
    *payload = protobuf_c_message_get_packed_size(pb);
    return *payload <= TETHER_WIRE_MAX_PAYLOAD;
}

size_t
tether_wire_frame_size(const ProtobufCMessage *pb)
{
    return pb ? TETHER_WIRE_HDR_LEN + protobuf_c_message_get_packed_size(pb)
              : 0;
}

size_t
tether_wire_encode(int type, const ProtobufCMessage *pb,
                   uint8_t *buf, size_t size)
{
    size_t payload;

    if (!encodable(type, pb, &payload)
        || size < TETHER_WIRE_HDR_LEN + payload) {
        return 0;
    }

    buf[0] = TETHER_WIRE_MAGIC0;
    buf[1] = TETHER_WIRE_MAGIC1;
    buf[2] = TETHER_PROTO_VERSION;
    buf[3] = type;
    buf[4] = payload >> 24;
    buf[5] = payload >> 16;
    buf[6] = payload >> 8;
    buf[7] = payload;
    if (protobuf_c_message_pack(pb, buf + TETHER_WIRE_HDR_LEN) != payload) {
        return 0;
    }
    return TETHER_WIRE_HDR_LEN + payload;
}

int
tether_wire_encode_alloc(int type, const ProtobufCMessage *pb,
                         uint8_t **bufp, size_t *lenp)
{
    size_t payload, size;
    uint8_t *buf;

    *bufp = NULL;
    *lenp = 0;
    if (!encodable(type, pb, &payload)) {
        return TETHER_WIRE_EINVALID;
    }

    size = TETHER_WIRE_HDR_LEN + payload;
    buf = malloc(size);
    if (!buf) {
        return TETHER_WIRE_ENOMEM;
    }
    if (tether_wire_encode(type, pb, buf, size) != size) {
        free(buf);
        return TETHER_WIRE_EINVALID;
    }
    *bufp = buf;
    *lenp = size;
    return 0;
}

/* Validation. */

/* Appends a reason to 'err' (which holds a prefix already) and returns
 * EINVALID. */
static int __attribute__((format(printf, 2, 3)))
fail(char *err, const char *format, ...)
{
    size_t used = strnlen(err, TETHER_WIRE_ERRLEN - 1);
    va_list args;

    va_start(args, format);
    vsnprintf(err + used, TETHER_WIRE_ERRLEN - used, format, args);
    va_end(args);
    return TETHER_WIRE_EINVALID;
}

/* Stores in 'buf' a quoted, printable, shortened copy of peer string 's',
 * fit for a log line, and returns 'buf'. */
static const char *
quote(const char *s, char buf[QUOTE_SIZE])
{
    size_t i, n = 0;

    buf[n++] = '"';
    for (i = 0; s[i] && i < QUOTE_MAX; i++) {
        unsigned char c = s[i];

        buf[n++] = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? c : '?';
    }
    buf[n++] = '"';
    if (s[i]) {
        memcpy(&buf[n], "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

/* protobuf-c leaves absent strings pointing to "", but a message built by
 * hand may have NULL. */
static const char *
str(const char *s)
{
    return s ? s : "";
}

/* Checks the sizes of every string and repeated field of 'm', recursively;
 * 'path' names 'm' within the message being validated ("" at the top). */
static int
check_sizes(const ProtobufCMessage *m, const char *path, char *err)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    unsigned int i;

    for (i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *member = (const char *) m + f->offset;
        char sub_path[64];
        size_t j;

        if (f->type != PROTOBUF_C_TYPE_STRING
            && f->type != PROTOBUF_C_TYPE_MESSAGE
            && f->label != PROTOBUF_C_LABEL_REPEATED) {
            continue;
        }

        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *) ((const char *) m
                                          + f->quantifier_offset);
            void *const *elems = *(void *const *const *) member;

            if (n > MAX_REPEATED) {
                return fail(err, "%s%s has %zu entries, over the maximum %d",
                            path, f->name, n, MAX_REPEATED);
            }
            if (f->type != PROTOBUF_C_TYPE_STRING
                && f->type != PROTOBUF_C_TYPE_MESSAGE) {
                continue;
            }
            if (n && !elems) {
                return fail(err, "%s%s is missing", path, f->name);
            }
            for (j = 0; j < n; j++) {
                if (!elems[j]) {
                    return fail(err, "%s%s[%zu] is missing",
                                path, f->name, j);
                }
                if (f->type == PROTOBUF_C_TYPE_STRING) {
                    if (strnlen(elems[j], MAX_STRING + 1) > MAX_STRING) {
                        return fail(err, "%s%s[%zu] is longer than %d bytes",
                                    path, f->name, j, MAX_STRING);
                    }
                } else {
                    int error;

                    snprintf(sub_path, sizeof sub_path, "%s%s[%zu].",
                             path, f->name, j);
                    error = check_sizes(elems[j], sub_path, err);
                    if (error) {
                        return error;
                    }
                }
            }
        } else if (f->type == PROTOBUF_C_TYPE_STRING) {
            const char *s = *(const char *const *) member;

            if (s && strnlen(s, MAX_STRING + 1) > MAX_STRING) {
                return fail(err, "%s%s is longer than %d bytes",
                            path, f->name, MAX_STRING);
            }
        } else {
            const ProtobufCMessage *sub
                = *(const ProtobufCMessage *const *) member;

            if (sub) {
                int error;

                snprintf(sub_path, sizeof sub_path, "%s%s.", path, f->name);
                error = check_sizes(sub, sub_path, err);
                if (error) {
                    return error;
                }
            }
        }
    }
    return 0;
}

static int
check_host_id(const char *prefix, const char *field, const char *s,
              char *err)
{
    char q[QUOTE_SIZE];

    s = str(s);
    return (tether_valid_host_id(s) ? 0
            : fail(err, "%s%s %s is not a valid host id",
                   prefix, field, quote(s, q)));
}

static int
check_eni_id(const char *prefix, const char *field, const char *s,
             char *err)
{
    char q[QUOTE_SIZE];

    s = str(s);
    return (tether_valid_eni_id(s) ? 0
            : fail(err, "%s%s %s is not a valid ENI id",
                   prefix, field, quote(s, q)));
}

static int
check_mac(const char *prefix, const char *field, const char *s, char *err)
{
    char q[QUOTE_SIZE];

    s = str(s);
    return (tether_parse_mac(s, NULL) ? 0
            : fail(err, "%s%s %s is not a MAC address",
                   prefix, field, quote(s, q)));
}

static int
check_ip(const char *prefix, const char *field, const char *s, char *err)
{
    char q[QUOTE_SIZE];

    s = str(s);
    return (tether_valid_ip(s) ? 0
            : fail(err, "%s%s %s is not an IP address",
                   prefix, field, quote(s, q)));
}

/* An empty 'vm_uuid' is allowed: not every hypervisor sets it. */
static int
check_vm_uuid(const char *prefix, const char *s, char *err)
{
    char q[QUOTE_SIZE];

    s = str(s);
    return (!s[0] || tether_valid_uuid(s) ? 0
            : fail(err, "%svm_uuid %s is not a UUID", prefix, quote(s, q)));
}

static int
check_bridge(const char *prefix, const char *s, char *err)
{
    char q[QUOTE_SIZE];

    s = str(s);
    if (!s[0]) {
        return fail(err, "%sbridge is empty", prefix);
    } else if (strlen(s) > MAX_BRIDGE) {
        return fail(err, "%sbridge %s is longer than %d characters",
                    prefix, quote(s, q), MAX_BRIDGE);
    }
    return 0;
}

static int
check_max_len(const char *field, const char *s, size_t max, char *err)
{
    return (strlen(str(s)) <= max ? 0
            : fail(err, "%s is longer than %zu bytes", field, max));
}

/* Checks 'vif', named 'prefix' (e.g. "vif." or "vifs[3].").  An empty MAC
 * passes unless 'need_mac'. */
static int
check_vif(const Tether__Vif *vif, const char *prefix, bool need_mac,
          char *err)
{
    int error;

    error = check_eni_id(prefix, "eni_id", vif->eni_id, err);
    if (!error && (need_mac || str(vif->mac)[0])) {
        error = check_mac(prefix, "mac", vif->mac, err);
    }
    if (!error) {
        error = check_vm_uuid(prefix, vif->vm_uuid, err);
    }
    if (!error) {
        error = check_bridge(prefix, vif->bridge, err);
    }
    if (!error && (vif->ofport < MIN_OFPORT || vif->ofport > MAX_OFPORT)) {
        error = fail(err, "%sofport %"PRId32" is outside %d..%d",
                     prefix, vif->ofport, MIN_OFPORT, MAX_OFPORT);
    }
    if (!error) {
        static const char *const markers[] = {
            "", "incoming", "paused", "activated", "completed", "failed",
        };
        const char *m = str(vif->migration);
        bool known = false;
        for (size_t i = 0; i < sizeof markers / sizeof *markers; i++) {
            known = known || !strcmp(m, markers[i]);
        }
        if (!known) {
            char q[QUOTE_SIZE];
            error = fail(err, "%smigration %s is not incoming, paused, "
                         "activated, completed or failed", prefix,
                         quote(m, q));
        }
    }
    return error;
}

static int
check_migration(const Tether__MigrationEvent *m, const char *prefix,
                char *err)
{
    char q[QUOTE_SIZE];
    int error;

    if (m->phase <= TETHER__MIGRATION_PHASE__MIGRATION_PHASE_UNSPECIFIED
        || m->phase > TETHER__MIGRATION_PHASE__MIGRATION_FAILED) {
        return fail(err, "%sphase %d is not a known migration phase",
                    prefix, (int) m->phase);
    }
    error = check_host_id(prefix, "host_id", m->host_id, err);
    if (!error) {
        error = check_eni_id(prefix, "eni_id", m->eni_id, err);
    }
    if (!error) {
        error = check_vm_uuid(prefix, m->vm_uuid, err);
    }
    if (!error) {
        error = check_host_id(prefix, "source_host", m->source_host, err);
    }
    if (!error) {
        error = check_host_id(prefix, "destination_host",
                              m->destination_host, err);
    }
    if (!error && !strcmp(m->source_host, m->destination_host)) {
        error = fail(err, "%ssource_host and destination_host are both %s",
                     prefix, quote(m->source_host, q));
    }
    if (!error && strlen(str(m->reason)) > MAX_MIGRATION_REASON) {
        error = fail(err, "%sreason is longer than %d bytes",
                     prefix, MAX_MIGRATION_REASON);
    }
    return error;
}

static int
validate_hello(const ProtobufCMessage *pb, char *err)
{
    const Tether__Hello *m = (const Tether__Hello *) pb;
    const char *tunnel_type = str(m->tunnel_type);
    char q[QUOTE_SIZE];
    size_t i;
    int error;

    error = check_host_id("", "host_id", m->host_id, err);
    if (!error) {
        error = check_ip("", "tunnel_ip", m->tunnel_ip, err);
    }
    if (!error && tunnel_type[0] && strcmp(tunnel_type, "geneve")
        && strcmp(tunnel_type, "vxlan")) {
        error = fail(err, "tunnel_type %s is not \"geneve\" or \"vxlan\"",
                     quote(tunnel_type, q));
    }
    if (!error) {
        error = check_bridge("", m->bridge, err);
    }
    if (!error) {
        error = check_max_len("hypervisor", m->hypervisor, MAX_HYPERVISOR,
                              err);
    }
    if (!error && m->n_capabilities > MAX_CAPABILITIES) {
        error = fail(err, "capabilities has %zu entries, over the maximum %d",
                     m->n_capabilities, MAX_CAPABILITIES);
    }
    for (i = 0; !error && i < m->n_capabilities; i++) {
        if (strlen(m->capabilities[i]) > MAX_CAPABILITY) {
            error = fail(err, "capabilities[%zu] is longer than %d bytes",
                         i, MAX_CAPABILITY);
        }
    }
    if (!error) {
        error = check_max_len("cpu_model", m->cpu_model, MAX_CPU_MODEL, err);
    }
    if (!error && m->n_cpu_flags > MAX_CPU_FLAGS) {
        error = fail(err, "cpu_flags has %zu entries, over the maximum %d",
                     m->n_cpu_flags, MAX_CPU_FLAGS);
    }
    for (i = 0; !error && i < m->n_cpu_flags; i++) {
        const char *f = m->cpu_flags[i];
        size_t len = strlen(f);
        if (!len || len > MAX_CPU_FLAG
            || strspn(f, "abcdefghijklmnopqrstuvwxyz0123456789_.") != len) {
            error = fail(err, "cpu_flags[%zu] %s is not 1 to %d of [a-z0-9_.]",
                         i, quote(f, q), MAX_CPU_FLAG);
        }
    }
    return error;
}

static int
validate_hello_reply(const ProtobufCMessage *pb, char *err)
{
    const Tether__HelloReply *m = (const Tether__HelloReply *) pb;

    if (m->accepted
        && (m->heartbeat_interval_ms < MIN_HEARTBEAT_MS
            || m->heartbeat_interval_ms > MAX_HEARTBEAT_MS)) {
        return fail(err, "heartbeat_interval_ms %"PRIu32" is outside %d..%d",
                    m->heartbeat_interval_ms,
                    MIN_HEARTBEAT_MS, MAX_HEARTBEAT_MS);
    }
    if (m->n_openflow_targets > MAX_OPENFLOW_TARGETS) {
        return fail(err, "openflow_targets has %zu entries, "
                    "over the maximum %d",
                    m->n_openflow_targets, MAX_OPENFLOW_TARGETS);
    }
    return 0;
}

static int
validate_heartbeat(const ProtobufCMessage *pb, char *err)
{
    return 0;
}

static int
validate_vif_event(const ProtobufCMessage *pb, char *err)
{
    const Tether__VifEvent *m = (const Tether__VifEvent *) pb;
    int error;

    if (m->kind != TETHER__VIF_EVENT__KIND__PLUGGED
        && m->kind != TETHER__VIF_EVENT__KIND__CHANGED
        && m->kind != TETHER__VIF_EVENT__KIND__UNPLUGGED) {
        return fail(err, "kind %d is not PLUGGED, CHANGED or UNPLUGGED",
                    (int) m->kind);
    }
    error = check_host_id("", "host_id", m->host_id, err);
    if (!error && !m->vif) {
        error = fail(err, "vif is missing");
    }
    if (!error) {
        error = check_vif(m->vif, "vif.",
                          m->kind != TETHER__VIF_EVENT__KIND__UNPLUGGED, err);
    }
    return error;
}

static int
validate_migration_event(const ProtobufCMessage *pb, char *err)
{
    return check_migration((const Tether__MigrationEvent *) pb, "", err);
}

static int
validate_resync(const ProtobufCMessage *pb, char *err)
{
    const Tether__Resync *m = (const Tether__Resync *) pb;
    char prefix[48];
    size_t i;
    int error;

    error = check_host_id("", "host_id", m->host_id, err);
    if (!error && m->n_vifs > MAX_VIFS) {
        error = fail(err, "vifs has %zu entries, over the maximum %d",
                     m->n_vifs, MAX_VIFS);
    }
    for (i = 0; !error && i < m->n_vifs; i++) {
        snprintf(prefix, sizeof prefix, "vifs[%zu].", i);
        error = check_vif(m->vifs[i], prefix, true, err);
    }
    for (i = 0; !error && i < m->n_migrations; i++) {
        snprintf(prefix, sizeof prefix, "migrations[%zu].", i);
        error = check_migration(m->migrations[i], prefix, err);
    }
    return error;
}

static int
validate_command(const ProtobufCMessage *pb, char *err)
{
    const Tether__Command *m = (const Tether__Command *) pb;
    char prefix[48];
    size_t i;
    int error = 0;

    if (!m->command_id) {
        return fail(err, "command_id is 0");
    }
    if (m->n_ips > MAX_IPS) {
        return fail(err, "ips has %zu entries, over the maximum %d",
                    m->n_ips, MAX_IPS);
    }
    if (m->n_openflow_targets > MAX_OPENFLOW_TARGETS) {
        return fail(err, "openflow_targets has %zu entries, "
                    "over the maximum %d",
                    m->n_openflow_targets, MAX_OPENFLOW_TARGETS);
    }

    switch (m->kind) {
    case TETHER__COMMAND__KIND__REQUEST_RESYNC:
        break;

    case TETHER__COMMAND__KIND__ANNOUNCE:
        error = check_mac("", "mac", m->mac, err);
        for (i = 0; !error && i < m->n_ips; i++) {
            snprintf(prefix, sizeof prefix, "ips[%zu]", i);
            error = check_ip("", prefix, m->ips[i], err);
        }
        break;

    case TETHER__COMMAND__KIND__REFUSE_MIGRATION:
    case TETHER__COMMAND__KIND__SWITCHOVER_READY:
        error = check_eni_id("", "eni_id", m->eni_id, err);
        break;

    case TETHER__COMMAND__KIND__SET_CONTROLLER:
        if (!m->n_openflow_targets) {
            return fail(err, "openflow_targets is empty");
        }
        for (i = 0; i < m->n_openflow_targets; i++) {
            if (!m->openflow_targets[i][0]) {
                return fail(err, "openflow_targets[%zu] is empty", i);
            }
        }
        break;

    case TETHER__COMMAND__KIND__KIND_UNSPECIFIED:
    default:
        return fail(err, "kind %d is not a known command", (int) m->kind);
    }
    return error;
}

static int
validate_ack(const ProtobufCMessage *pb, char *err)
{
    const Tether__Ack *m = (const Tether__Ack *) pb;

    if (!m->command_id) {
        return fail(err, "command_id is 0");
    }
    if (m->status != TETHER__ACK__STATUS__OK
        && m->status != TETHER__ACK__STATUS__FAILED
        && m->status != TETHER__ACK__STATUS__UNSUPPORTED) {
        return fail(err, "status %d is not OK, FAILED or UNSUPPORTED",
                    (int) m->status);
    }
    return 0;
}

static int
validate_error(const ProtobufCMessage *pb, char *err)
{
    const Tether__Error *m = (const Tether__Error *) pb;

    if (m->code > TETHER_WIRE_EMAX) {
        return fail(err, "code %"PRIu32" is not a tether wire error",
                    m->code);
    }
    return check_max_len("message", m->message, MAX_ERROR_MESSAGE, err);
}

static int
validate_bridge_status(const ProtobufCMessage *pb, char *err)
{
    const Tether__BridgeStatus *m = (const Tether__BridgeStatus *) pb;
    char q[QUOTE_SIZE];

    int error = check_host_id("", "host_id", m->host_id, err);
    if (error) {
        return error;
    }
    if (!str(m->bridge)[0] || strlen(m->bridge) > 15) {
        return fail(err, "bridge %s is not a bridge name",
                    quote(str(m->bridge), q));
    }
    if (m->tunnel_ofport < -1 || m->tunnel_ofport > 65279) {
        return fail(err, "tunnel_ofport %"PRId32" is not in -1..65279",
                    m->tunnel_ofport);
    }
    if (m->relay_ofport < 0 || m->relay_ofport > 65279) {
        return fail(err, "relay_ofport %"PRId32" is not in 0..65279",
                    m->relay_ofport);
    }
    return 0;
}

int
tether_msg_validate(int type, const ProtobufCMessage *pb,
                    char err[TETHER_WIRE_ERRLEN])
{
    const struct wire_type *wt = wire_type_lookup(type);
    int error;

    if (!wt) {
        snprintf(err, TETHER_WIRE_ERRLEN, "unknown message type %d", type);
        return TETHER_WIRE_EINVALID;
    }

    snprintf(err, TETHER_WIRE_ERRLEN, "%s: ", wt->name);
    if (!pb) {
        return fail(err, "no message");
    } else if (pb->descriptor != wt->descriptor) {
        return fail(err, "message is a %s, not a %s",
                    pb->descriptor ? pb->descriptor->name : "(null)",
                    wt->descriptor->name);
    }

    error = check_sizes(pb, "", err);
    if (!error) {
        error = wt->validate(pb, err);
    }
    if (!error) {
        err[0] = '\0';
    }
    return error;
}
