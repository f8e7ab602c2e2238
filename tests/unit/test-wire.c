/* Unit tests of proto/wire.c: framing (round trips, partial and broken
 * headers, truncated and garbage payloads) and every validation rule of
 * every message type, with the reasons checked to name the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/wire.h"

/* Fails the test unless reason 'err' contains 'expected'. */
#define assert_reason(err, expected)                                    \
    do {                                                                \
        if (!strstr(err, expected)) {                                   \
            fail_msg("reason \"%s\" does not contain \"%s\"",           \
                     err, expected);                                    \
        }                                                               \
    } while (0)

/* One valid message of every type, rebuilt before each test. */
struct fixture {
    Tether__Vif vif;
    Tether__Vif vif2;
    Tether__Hello hello;
    Tether__HelloReply hello_reply;
    Tether__Heartbeat heartbeat;
    Tether__VifEvent vif_event;
    Tether__MigrationEvent migration;
    Tether__Resync resync;
    Tether__Command command;
    Tether__Ack ack;
    Tether__Error error;

    char *capabilities[2];
    char *targets[2];
    char *ips[2];
    Tether__Vif *vifs[2];
    Tether__MigrationEvent *migrations[1];
};

static struct fixture f;

static int
setup_fixture(void **state)
{
    memset(&f, 0, sizeof f);

    tether__vif__init(&f.vif);
    f.vif.eni_id = "eni-0a1b2c";
    f.vif.mac = "02:00:00:00:00:01";
    f.vif.vm_uuid = "123e4567-e89b-12d3-a456-426614174000";
    f.vif.bridge = "br-int";
    f.vif.iface_name = "tap0";
    f.vif.ofport = 7;
    f.vif.iface_status = "active";

    tether__vif__init(&f.vif2);
    f.vif2.eni_id = "eni-second";
    f.vif2.mac = "02:00:00:00:00:02";
    f.vif2.bridge = "br-int";
    f.vif2.ofport = -1;

    tether__hello__init(&f.hello);
    f.hello.host_id = "hv-01";
    f.hello.hypervisor = "qemu";
    f.hello.hostname = "hv-01.example.net";
    f.hello.tunnel_ip = "192.0.2.11";
    f.hello.tunnel_type = "geneve";
    f.hello.bridge = "br-int";
    f.capabilities[0] = "migration";
    f.capabilities[1] = "announce";
    f.hello.n_capabilities = 2;
    f.hello.capabilities = f.capabilities;
    f.hello.agent_version = "0.1.0";
    f.hello.boot_id = UINT64_C(0x0123456789abcdef);

    tether__hello_reply__init(&f.hello_reply);
    f.hello_reply.accepted = 1;
    f.hello_reply.controller_id = "ctl-a";
    f.hello_reply.heartbeat_interval_ms = 1000;
    f.targets[0] = "tcp:192.0.2.1:6653";
    f.targets[1] = "tcp:192.0.2.2:6653";
    f.hello_reply.n_openflow_targets = 2;
    f.hello_reply.openflow_targets = f.targets;
    f.hello_reply.controller_version = "0.1.0";

    tether__heartbeat__init(&f.heartbeat);
    f.heartbeat.seq = 42;
    f.heartbeat.time_ms = UINT64_C(123456789012);
    f.heartbeat.vif_count = 3;

    tether__vif_event__init(&f.vif_event);
    f.vif_event.kind = TETHER__VIF_EVENT__KIND__PLUGGED;
    f.vif_event.host_id = "hv-01";
    f.vif_event.vif = &f.vif;
    f.vif_event.seq = 9;

    tether__migration_event__init(&f.migration);
    f.migration.phase = TETHER__MIGRATION_PHASE__MIGRATION_INCOMING;
    f.migration.host_id = "hv-02";
    f.migration.eni_id = "eni-0a1b2c";
    f.migration.vm_uuid = "123e4567-e89b-12d3-a456-426614174000";
    f.migration.source_host = "hv-01";
    f.migration.destination_host = "hv-02";
    f.migration.epoch = 5;
    f.migration.seq = 10;

    tether__resync__init(&f.resync);
    f.resync.host_id = "hv-01";
    f.vifs[0] = &f.vif;
    f.vifs[1] = &f.vif2;
    f.resync.n_vifs = 2;
    f.resync.vifs = f.vifs;
    f.migrations[0] = &f.migration;
    f.resync.n_migrations = 1;
    f.resync.migrations = f.migrations;
    f.resync.seq = 11;

    tether__command__init(&f.command);
    f.command.command_id = 77;
    f.command.kind = TETHER__COMMAND__KIND__ANNOUNCE;
    f.command.eni_id = "eni-0a1b2c";
    f.command.mac = "02:00:00:00:00:01";
    f.ips[0] = "10.0.0.5";
    f.ips[1] = "fd00::5";
    f.command.n_ips = 2;
    f.command.ips = f.ips;
    f.command.rounds = 3;

    tether__ack__init(&f.ack);
    f.ack.command_id = 77;
    f.ack.status = TETHER__ACK__STATUS__FAILED;
    f.ack.message = "no such port";

    tether__error__init(&f.error);
    f.error.code = TETHER_WIRE_EAUTH;
    f.error.message = "vif_event for host hv-09 on hv-01's connection";
    return 0;
}

/* Encodes 'pb' as 'type' into a new buffer, failing the test if it can't. */
static uint8_t *
encode(int type, const ProtobufCMessage *pb, size_t *lenp)
{
    uint8_t *buf;

    assert_int_equal(tether_wire_encode_alloc(type, pb, &buf, lenp), 0);
    assert_non_null(buf);
    assert_int_equal(*lenp, tether_wire_frame_size(pb));
    return buf;
}

/* Encodes 'pb', checks the header, decodes it, checks that the decoded
 * message re-encodes to the same bytes and returns it for the caller to
 * check its fields and clear. */
static struct tether_msg
roundtrip(int type, const ProtobufCMessage *pb)
{
    char err[TETHER_WIRE_ERRLEN];
    struct tether_wire_header hdr;
    struct tether_msg msg;
    uint8_t *buf, *buf2;
    size_t len, len2, frame_len;
    int error;

    buf = encode(type, pb, &len);
    assert_int_equal(buf[0], 'T');
    assert_int_equal(buf[1], 'H');

    assert_int_equal(tether_wire_peek(buf, len, &hdr, &frame_len, err), 0);
    assert_int_equal(frame_len, len);
    assert_int_equal(hdr.version, TETHER_PROTO_VERSION);
    assert_int_equal(hdr.type, type);
    assert_int_equal(hdr.length, len - TETHER_WIRE_HDR_LEN);

    error = tether_wire_decode(buf, len, &msg, err);
    if (error) {
        fail_msg("decoding %s: %s", tether_msg_type_name(type), err);
    }
    assert_int_equal(msg.type, type);
    assert_non_null(msg.pb);
    assert_ptr_equal(msg.pb->descriptor, pb->descriptor);

    buf2 = encode(type, msg.pb, &len2);
    assert_int_equal(len2, len);
    assert_memory_equal(buf2, buf, len);

    free(buf);
    free(buf2);
    return msg;
}

/* Checks that 'pb' fails validation as 'type' with a reason containing
 * 'expected', both when validated directly and when it arrives on the
 * wire. */
static void
expect_invalid(int type, const ProtobufCMessage *pb, const char *expected)
{
    char err[TETHER_WIRE_ERRLEN];
    struct tether_msg msg;
    uint8_t *buf;
    size_t len;

    assert_int_equal(tether_msg_validate(type, pb, err),
                     TETHER_WIRE_EINVALID);
    assert_reason(err, expected);
    assert_reason(err, tether_msg_type_name(type));

    buf = encode(type, pb, &len);
    msg.type = TETHER_MSG_ERROR;
    msg.pb = (ProtobufCMessage *) pb;       /* Must be reset. */
    assert_int_equal(tether_wire_decode(buf, len, &msg, err),
                     TETHER_WIRE_EINVALID);
    assert_null(msg.pb);
    assert_reason(err, expected);
    free(buf);
}

static void
expect_valid(int type, const ProtobufCMessage *pb)
{
    char err[TETHER_WIRE_ERRLEN];

    if (tether_msg_validate(type, pb, err)) {
        fail_msg("%s unexpectedly invalid: %s",
                 tether_msg_type_name(type), err);
    }
}

/* Writes a header for 'type' with 'length' into 'buf'. */
static void
put_header(uint8_t *buf, int version, int type, uint32_t length)
{
    buf[0] = 'T';
    buf[1] = 'H';
    buf[2] = version;
    buf[3] = type;
    buf[4] = length >> 24;
    buf[5] = length >> 16;
    buf[6] = length >> 8;
    buf[7] = length;
}

/* Returns a malloc()ed string of 'n' copies of 'c'. */
static char *
long_string(char c, size_t n)
{
    char *s = malloc(n + 1);

    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* --- Round trips ---------------------------------------------------------- */

static void
test_roundtrip_hello(void **state)
{
    struct tether_msg msg = roundtrip(TETHER_MSG_HELLO, &f.hello.base);
    const Tether__Hello *m = (const Tether__Hello *) msg.pb;

    assert_string_equal(m->host_id, "hv-01");
    assert_string_equal(m->tunnel_ip, "192.0.2.11");
    assert_string_equal(m->tunnel_type, "geneve");
    assert_string_equal(m->bridge, "br-int");
    assert_int_equal(m->n_capabilities, 2);
    assert_string_equal(m->capabilities[1], "announce");
    assert_true(m->boot_id == UINT64_C(0x0123456789abcdef));
    tether_msg_clear(&msg);
    assert_null(msg.pb);
}

static void
test_roundtrip_hello_reply(void **state)
{
    struct tether_msg msg = roundtrip(TETHER_MSG_HELLO_REPLY,
                                      &f.hello_reply.base);
    const Tether__HelloReply *m = (const Tether__HelloReply *) msg.pb;

    assert_true(m->accepted);
    assert_int_equal(m->heartbeat_interval_ms, 1000);
    assert_int_equal(m->n_openflow_targets, 2);
    assert_string_equal(m->openflow_targets[0], "tcp:192.0.2.1:6653");
    tether_msg_clear(&msg);
}

static void
test_roundtrip_heartbeat(void **state)
{
    struct tether_msg msg = roundtrip(TETHER_MSG_HEARTBEAT,
                                      &f.heartbeat.base);
    const Tether__Heartbeat *m = (const Tether__Heartbeat *) msg.pb;

    assert_int_equal(m->seq, 42);
    assert_true(m->time_ms == UINT64_C(123456789012));
    assert_int_equal(m->vif_count, 3);
    tether_msg_clear(&msg);
}

static void
test_roundtrip_vif_event(void **state)
{
    struct tether_msg msg = roundtrip(TETHER_MSG_VIF_EVENT,
                                      &f.vif_event.base);
    const Tether__VifEvent *m = (const Tether__VifEvent *) msg.pb;

    assert_int_equal(m->kind, TETHER__VIF_EVENT__KIND__PLUGGED);
    assert_non_null(m->vif);
    assert_string_equal(m->vif->eni_id, "eni-0a1b2c");
    assert_string_equal(m->vif->mac, "02:00:00:00:00:01");
    assert_int_equal(m->vif->ofport, 7);
    tether_msg_clear(&msg);
}

static void
test_roundtrip_migration_event(void **state)
{
    struct tether_msg msg = roundtrip(TETHER_MSG_MIGRATION_EVENT,
                                      &f.migration.base);
    const Tether__MigrationEvent *m = (const Tether__MigrationEvent *) msg.pb;

    assert_int_equal(m->phase, TETHER__MIGRATION_PHASE__MIGRATION_INCOMING);
    assert_string_equal(m->source_host, "hv-01");
    assert_string_equal(m->destination_host, "hv-02");
    assert_int_equal(m->epoch, 5);
    tether_msg_clear(&msg);
}

static void
test_roundtrip_resync(void **state)
{
    struct tether_msg msg = roundtrip(TETHER_MSG_RESYNC, &f.resync.base);
    const Tether__Resync *m = (const Tether__Resync *) msg.pb;

    assert_int_equal(m->n_vifs, 2);
    assert_string_equal(m->vifs[1]->eni_id, "eni-second");
    assert_int_equal(m->vifs[1]->ofport, -1);
    assert_int_equal(m->n_migrations, 1);
    assert_string_equal(m->migrations[0]->eni_id, "eni-0a1b2c");
    tether_msg_clear(&msg);
}

static void
test_roundtrip_command(void **state)
{
    struct tether_msg msg = roundtrip(TETHER_MSG_COMMAND, &f.command.base);
    const Tether__Command *m = (const Tether__Command *) msg.pb;

    assert_int_equal(m->command_id, 77);
    assert_int_equal(m->kind, TETHER__COMMAND__KIND__ANNOUNCE);
    assert_int_equal(m->n_ips, 2);
    assert_string_equal(m->ips[1], "fd00::5");
    assert_int_equal(m->rounds, 3);
    tether_msg_clear(&msg);
}

static void
test_roundtrip_ack(void **state)
{
    struct tether_msg msg = roundtrip(TETHER_MSG_ACK, &f.ack.base);
    const Tether__Ack *m = (const Tether__Ack *) msg.pb;

    assert_int_equal(m->command_id, 77);
    assert_int_equal(m->status, TETHER__ACK__STATUS__FAILED);
    assert_string_equal(m->message, "no such port");
    tether_msg_clear(&msg);
}

static void
test_bridge_status(void **state)
{
    Tether__BridgeStatus bs = TETHER__BRIDGE_STATUS__INIT;
    bs.host_id = "hv-01";
    bs.bridge = "br-int";
    bs.datapath_id = 0x0000aabbccddeeffULL;
    bs.tunnel_ofport = 3;
    struct tether_msg msg = roundtrip(TETHER_MSG_BRIDGE_STATUS, &bs.base);
    const Tether__BridgeStatus *m = (const Tether__BridgeStatus *) msg.pb;
    assert_int_equal(m->datapath_id, 0x0000aabbccddeeffULL);
    assert_int_equal(m->tunnel_ofport, 3);
    tether_msg_clear(&msg);

    bs.tunnel_ofport = -2;
    expect_invalid(TETHER_MSG_BRIDGE_STATUS, &bs.base,
                   "bridge_status: tunnel_ofport -2");
    bs.tunnel_ofport = -1;
    expect_valid(TETHER_MSG_BRIDGE_STATUS, &bs.base);
    bs.bridge = "a-bridge-name-too-long";
    expect_invalid(TETHER_MSG_BRIDGE_STATUS, &bs.base, "bridge_status: bridge");
    bs.bridge = "br-int";
    bs.host_id = "no such host!";
    expect_invalid(TETHER_MSG_BRIDGE_STATUS, &bs.base, "host_id");
}

static void
test_roundtrip_error(void **state)
{
    struct tether_msg msg = roundtrip(TETHER_MSG_ERROR, &f.error.base);
    const Tether__Error *m = (const Tether__Error *) msg.pb;

    assert_int_equal(m->code, TETHER_WIRE_EAUTH);
    assert_string_equal(m->message,
                        "vif_event for host hv-09 on hv-01's connection");
    tether_msg_clear(&msg);
}

/* A heartbeat of all zeros has an empty payload, which is still a frame. */
static void
test_roundtrip_empty_payload(void **state)
{
    struct tether_msg msg;

    f.heartbeat.seq = 0;
    f.heartbeat.time_ms = 0;
    f.heartbeat.vif_count = 0;
    assert_int_equal(tether_wire_frame_size(&f.heartbeat.base),
                     TETHER_WIRE_HDR_LEN);
    msg = roundtrip(TETHER_MSG_HEARTBEAT, &f.heartbeat.base);
    tether_msg_clear(&msg);
}

/* Three frames back to back, consumed as a receiver would. */
static void
test_stream_of_frames(void **state)
{
    static const int types[] = {
        TETHER_MSG_HELLO, TETHER_MSG_HEARTBEAT, TETHER_MSG_VIF_EVENT,
    };
    const ProtobufCMessage *pbs[] = {
        &f.hello.base, &f.heartbeat.base, &f.vif_event.base,
    };
    char err[TETHER_WIRE_ERRLEN];
    uint8_t stream[4096];
    size_t len = 0, pos = 0;
    int i;

    for (i = 0; i < 3; i++) {
        size_t n = tether_wire_encode(types[i], pbs[i], stream + len,
                                      sizeof stream - len);
        assert_true(n > TETHER_WIRE_HDR_LEN);
        len += n;
    }
    for (i = 0; i < 3; i++) {
        struct tether_wire_header hdr;
        struct tether_msg msg;
        size_t frame_len;

        assert_int_equal(tether_wire_peek(stream + pos, len - pos, &hdr,
                                          &frame_len, err), 0);
        assert_int_equal(hdr.type, types[i]);
        assert_true(frame_len <= len - pos);
        assert_int_equal(tether_wire_decode(stream + pos, frame_len, &msg,
                                            err), 0);
        assert_int_equal(msg.type, types[i]);
        tether_msg_clear(&msg);
        pos += frame_len;
    }
    assert_int_equal(pos, len);
}

/* --- Framing errors ------------------------------------------------------- */

static void
test_header_split_across_reads(void **state)
{
    char err[TETHER_WIRE_ERRLEN];
    struct tether_wire_header hdr;
    size_t len, frame_len, n;
    uint8_t *buf;

    buf = encode(TETHER_MSG_HELLO, &f.hello.base, &len);
    for (n = 0; n < TETHER_WIRE_HDR_LEN; n++) {
        frame_len = 12345;
        assert_int_equal(tether_wire_peek(buf, n, &hdr, &frame_len, err), 0);
        assert_int_equal(frame_len, 0);
    }
    assert_int_equal(tether_wire_peek(buf, TETHER_WIRE_HDR_LEN, &hdr,
                                      &frame_len, err), 0);
    assert_int_equal(frame_len, len);
    assert_int_equal(hdr.type, TETHER_MSG_HELLO);
    free(buf);
}

static void
test_truncated_payload(void **state)
{
    char err[TETHER_WIRE_ERRLEN];
    struct tether_wire_header hdr;
    struct tether_msg msg;
    size_t len, frame_len;
    uint8_t *buf;

    buf = encode(TETHER_MSG_HELLO, &f.hello.base, &len);

    /* Part of the payload is there: the receiver waits for more. */
    assert_int_equal(tether_wire_peek(buf, len - 5, &hdr, &frame_len, err),
                     0);
    assert_int_equal(frame_len, len);
    assert_true(frame_len > len - 5);

    /* Decoding the partial frame anyway. */
    assert_int_equal(tether_wire_decode(buf, len - 5, &msg, err),
                     TETHER_WIRE_EMALFORMED);
    assert_null(msg.pb);
    assert_reason(err, "header says");

    /* A header that agrees with a payload cut in the middle of a string. */
    put_header(buf, TETHER_PROTO_VERSION, TETHER_MSG_HELLO,
               len - TETHER_WIRE_HDR_LEN - 5);
    assert_int_equal(tether_wire_decode(buf, len - 5, &msg, err),
                     TETHER_WIRE_EMALFORMED);
    assert_null(msg.pb);
    assert_reason(err, "does not decode");
    free(buf);
}

static void
test_frame_longer_than_header_says(void **state)
{
    char err[TETHER_WIRE_ERRLEN];
    struct tether_msg msg;
    uint8_t buf[256];
    size_t len;

    len = tether_wire_encode(TETHER_MSG_HEARTBEAT, &f.heartbeat.base,
                             buf, sizeof buf);
    assert_true(len > 0);
    buf[len] = 0;
    assert_int_equal(tether_wire_decode(buf, len + 1, &msg, err),
                     TETHER_WIRE_EMALFORMED);
    assert_reason(err, "header says");

    /* Shorter than a header. */
    assert_int_equal(tether_wire_decode(buf, 3, &msg, err),
                     TETHER_WIRE_EMALFORMED);
    assert_null(msg.pb);
}

static void
test_oversize_length(void **state)
{
    char err[TETHER_WIRE_ERRLEN];
    struct tether_wire_header hdr;
    struct tether_msg msg;
    size_t frame_len;
    uint8_t buf[TETHER_WIRE_HDR_LEN];

    put_header(buf, TETHER_PROTO_VERSION, TETHER_MSG_RESYNC, 9999999);
    frame_len = 1;
    assert_int_equal(tether_wire_peek(buf, sizeof buf, &hdr, &frame_len,
                                      err), TETHER_WIRE_ETOOBIG);
    assert_int_equal(frame_len, 0);
    assert_string_equal(err, "payload length 9999999 over the maximum 4194304");

    put_header(buf, TETHER_PROTO_VERSION, TETHER_MSG_RESYNC, UINT32_MAX);
    assert_int_equal(tether_wire_decode(buf, sizeof buf, &msg, err),
                     TETHER_WIRE_ETOOBIG);

    /* The maximum itself is fine. */
    put_header(buf, TETHER_PROTO_VERSION, TETHER_MSG_RESYNC,
               TETHER_WIRE_MAX_PAYLOAD);
    assert_int_equal(tether_wire_peek(buf, sizeof buf, &hdr, &frame_len,
                                      err), 0);
    assert_int_equal(frame_len, TETHER_WIRE_HDR_LEN + TETHER_WIRE_MAX_PAYLOAD);
}

static void
test_bad_magic(void **state)
{
    const uint8_t http[] = "GET / HTTP/1.1\r\n";
    char err[TETHER_WIRE_ERRLEN];
    struct tether_wire_header hdr;
    struct tether_msg msg;
    size_t frame_len;

    assert_int_equal(tether_wire_peek(http, sizeof http - 1, &hdr,
                                      &frame_len, err),
                     TETHER_WIRE_EBADMAGIC);
    assert_string_equal(err, "bad magic 0x4745 (not a tether peer?)");
    assert_int_equal(tether_wire_decode(http, sizeof http - 1, &msg, err),
                     TETHER_WIRE_EBADMAGIC);
    assert_null(msg.pb);
}

static void
test_wrong_version(void **state)
{
    char err[TETHER_WIRE_ERRLEN];
    struct tether_wire_header hdr;
    size_t frame_len;
    uint8_t buf[TETHER_WIRE_HDR_LEN];

    put_header(buf, 2, TETHER_MSG_HELLO, 0);
    assert_int_equal(tether_wire_peek(buf, sizeof buf, &hdr, &frame_len,
                                      err), TETHER_WIRE_EVERSION);
    assert_string_equal(err, "protocol version 2, this side speaks 1");

    put_header(buf, 0, TETHER_MSG_HELLO, 0);
    assert_int_equal(tether_wire_peek(buf, sizeof buf, &hdr, &frame_len,
                                      err), TETHER_WIRE_EVERSION);
    assert_reason(err, "protocol version 0");
}

static void
test_unknown_types(void **state)
{
    static const int types[] = { 0, 11, 255 };
    char err[TETHER_WIRE_ERRLEN];
    char expected[64];
    struct tether_wire_header hdr;
    struct tether_msg msg;
    size_t frame_len;
    uint8_t buf[TETHER_WIRE_HDR_LEN];
    int i;

    for (i = 0; i < 3; i++) {
        put_header(buf, TETHER_PROTO_VERSION, types[i], 0);
        assert_int_equal(tether_wire_peek(buf, sizeof buf, &hdr, &frame_len,
                                          err), TETHER_WIRE_ETYPE);
        snprintf(expected, sizeof expected, "unknown message type %d",
                 types[i]);
        assert_string_equal(err, expected);
        assert_int_equal(tether_wire_decode(buf, sizeof buf, &msg, err),
                         TETHER_WIRE_ETYPE);
        assert_null(msg.pb);
    }
}

static void
test_garbage_payload(void **state)
{
    /* A length-delimited field 1 claiming 0x7f bytes, with 3 there; then
     * a field with wire type 7, which does not exist. */
    static const uint8_t payloads[][4] = {
        { 0x0a, 0x7f, 'a', 'b' },
        { 0x0f, 0xff, 0xff, 0xff },
    };
    char err[TETHER_WIRE_ERRLEN];
    struct tether_msg msg;
    uint8_t buf[TETHER_WIRE_HDR_LEN + 4];
    int t, i;

    for (t = TETHER_MSG_MIN; t <= TETHER_MSG_MAX; t++) {
        for (i = 0; i < 2; i++) {
            put_header(buf, TETHER_PROTO_VERSION, t, 4);
            memcpy(buf + TETHER_WIRE_HDR_LEN, payloads[i], 4);
            assert_int_equal(tether_wire_decode(buf, sizeof buf, &msg, err),
                             TETHER_WIRE_EMALFORMED);
            assert_null(msg.pb);
            assert_reason(err, tether_msg_type_name(t));
        }
    }
}

/* protobuf-c takes field number 0 in an overlong key (0x80 0x00) as an
 * unknown field, which would re-encode to bytes it refuses: found by
 * tests/fuzz/fuzz-wire. */
static void
test_field_number_zero(void **state)
{
    static const uint8_t payload[] = { 0x80, 0x00, 0x00 };
    char err[TETHER_WIRE_ERRLEN];
    struct tether_msg msg;
    uint8_t buf[TETHER_WIRE_HDR_LEN + sizeof payload];

    put_header(buf, TETHER_PROTO_VERSION, TETHER_MSG_ERROR, sizeof payload);
    memcpy(buf + TETHER_WIRE_HDR_LEN, payload, sizeof payload);
    assert_int_equal(tether_wire_decode(buf, sizeof buf, &msg, err),
                     TETHER_WIRE_EMALFORMED);
    assert_null(msg.pb);
    assert_string_equal(err, "error: payload has a field number 0");
}

/* Valid protobuf, but of another type than the header says. */
static void
test_wrong_type_payload(void **state)
{
    char err[TETHER_WIRE_ERRLEN];
    struct tether_msg msg;
    size_t len;
    uint8_t *buf;

    buf = encode(TETHER_MSG_HEARTBEAT, &f.heartbeat.base, &len);
    buf[3] = TETHER_MSG_HELLO;
    assert_int_equal(tether_wire_decode(buf, len, &msg, err),
                     TETHER_WIRE_EMALFORMED);
    assert_null(msg.pb);
    assert_reason(err, "hello: ");
    free(buf);

    /* A heartbeat (varints 1 and 2) read as an ack (varint command_id,
     * enum status) decodes, but status 7 is not a known status. */
    f.heartbeat.seq = 42;
    f.heartbeat.time_ms = 7;
    f.heartbeat.vif_count = 0;
    buf = encode(TETHER_MSG_HEARTBEAT, &f.heartbeat.base, &len);
    buf[3] = TETHER_MSG_ACK;
    assert_int_equal(tether_wire_decode(buf, len, &msg, err),
                     TETHER_WIRE_EINVALID);
    assert_null(msg.pb);
    assert_string_equal(err, "ack: status 7 is not OK, FAILED or UNSUPPORTED");
    free(buf);
}

/* --- Encoding ------------------------------------------------------------- */

static void
test_encode_refuses_wrong_descriptor(void **state)
{
    uint8_t buf[1024];
    uint8_t *abuf;
    size_t alen;

    assert_int_equal(tether_wire_encode(TETHER_MSG_HELLO, &f.heartbeat.base,
                                        buf, sizeof buf), 0);
    assert_int_equal(tether_wire_encode(TETHER_MSG_RESYNC, &f.vif.base,
                                        buf, sizeof buf), 0);
    assert_int_equal(tether_wire_encode(0, &f.hello.base, buf, sizeof buf),
                     0);
    assert_int_equal(tether_wire_encode(11, &f.hello.base, buf, sizeof buf),
                     0);
    assert_int_equal(tether_wire_encode(TETHER_MSG_HELLO, NULL,
                                        buf, sizeof buf), 0);
    assert_int_equal(tether_wire_encode_alloc(TETHER_MSG_ACK,
                                              &f.error.base, &abuf, &alen),
                     TETHER_WIRE_EINVALID);
    assert_null(abuf);
    assert_int_equal(alen, 0);
}

static void
test_encode_buffer_too_small(void **state)
{
    uint8_t buf[1024];
    size_t size = tether_wire_frame_size(&f.hello.base);

    assert_true(size > TETHER_WIRE_HDR_LEN && size <= sizeof buf);
    assert_int_equal(tether_wire_encode(TETHER_MSG_HELLO, &f.hello.base,
                                        buf, size - 1), 0);
    assert_int_equal(tether_wire_encode(TETHER_MSG_HELLO, &f.hello.base,
                                        buf, size), size);
}

static void
test_encode_refuses_oversize(void **state)
{
    char *big = long_string('x', TETHER_WIRE_MAX_PAYLOAD);
    uint8_t *buf;
    size_t len;

    f.error.message = big;
    assert_true(tether_wire_frame_size(&f.error.base)
                > TETHER_WIRE_HDR_LEN + TETHER_WIRE_MAX_PAYLOAD);
    assert_int_equal(tether_wire_encode_alloc(TETHER_MSG_ERROR,
                                              &f.error.base, &buf, &len),
                     TETHER_WIRE_EINVALID);
    assert_null(buf);
    free(big);
}

/* --- Tables --------------------------------------------------------------- */

static void
test_allowed_from(void **state)
{
    static const struct {
        int type;
        bool agent;
        bool controller;
    } cases[] = {
        { TETHER_MSG_HELLO, true, false },
        { TETHER_MSG_HELLO_REPLY, false, true },
        { TETHER_MSG_HEARTBEAT, true, true },
        { TETHER_MSG_VIF_EVENT, true, false },
        { TETHER_MSG_MIGRATION_EVENT, true, false },
        { TETHER_MSG_RESYNC, true, false },
        { TETHER_MSG_COMMAND, false, true },
        { TETHER_MSG_ACK, true, false },
        { TETHER_MSG_ERROR, true, true },
        { TETHER_MSG_BRIDGE_STATUS, true, false },
        { 0, false, false },
        { 11, false, false },
        { 255, false, false },
        { -1, false, false },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (tether_msg_allowed_from(cases[i].type, TETHER_ROLE_AGENT)
            != cases[i].agent
            || tether_msg_allowed_from(cases[i].type, TETHER_ROLE_CONTROLLER)
               != cases[i].controller) {
            fail_msg("allowed_from(%d) disagrees", cases[i].type);
        }
    }
}

static void
test_names_and_descriptors(void **state)
{
    int t;

    assert_string_equal(tether_msg_type_name(TETHER_MSG_HELLO), "hello");
    assert_string_equal(tether_msg_type_name(TETHER_MSG_VIF_EVENT),
                        "vif_event");
    assert_string_equal(tether_msg_type_name(TETHER_MSG_ERROR), "error");
    assert_string_equal(tether_msg_type_name(0), "unknown");
    assert_string_equal(tether_msg_type_name(11), "unknown");
    assert_ptr_equal(tether_msg_descriptor(TETHER_MSG_RESYNC),
                     &tether__resync__descriptor);
    assert_ptr_equal(tether_msg_descriptor(TETHER_MSG_COMMAND),
                     &tether__command__descriptor);
    assert_null(tether_msg_descriptor(0));
    assert_null(tether_msg_descriptor(TETHER_MSG_MAX + 1));
    for (t = TETHER_MSG_MIN; t <= TETHER_MSG_MAX; t++) {
        assert_non_null(tether_msg_descriptor(t));
        assert_string_not_equal(tether_msg_type_name(t), "unknown");
    }
}

static void
test_strerror(void **state)
{
    int e;

    assert_string_equal(tether_wire_strerror(0), "success");
    assert_string_equal(tether_wire_strerror(TETHER_WIRE_EMAX + 1),
                        "unknown error");
    for (e = 1; e <= TETHER_WIRE_EMAX; e++) {
        assert_string_not_equal(tether_wire_strerror(e), "unknown error");
        assert_string_not_equal(tether_wire_strerror(e),
                                tether_wire_strerror(e - 1));
    }
}

static void
test_msg_clear_empty(void **state)
{
    struct tether_msg msg = { 0, NULL };

    tether_msg_clear(&msg);
    assert_null(msg.pb);
}

static void
test_validate_wrong_descriptor(void **state)
{
    char err[TETHER_WIRE_ERRLEN];

    assert_int_equal(tether_msg_validate(TETHER_MSG_HELLO,
                                         &f.heartbeat.base, err),
                     TETHER_WIRE_EINVALID);
    assert_reason(err, "tether.Heartbeat");
    assert_int_equal(tether_msg_validate(TETHER_MSG_HELLO, NULL, err),
                     TETHER_WIRE_EINVALID);
    assert_int_equal(tether_msg_validate(42, &f.hello.base, err),
                     TETHER_WIRE_EINVALID);
    assert_reason(err, "unknown message type 42");
}

/* --- Validation rules ----------------------------------------------------- */

static void
test_hello_host_id(void **state)
{
    f.hello.host_id = "hv 01";
    expect_invalid(TETHER_MSG_HELLO, &f.hello.base,
                   "hello: host_id \"hv 01\" is not a valid host id");
    f.hello.host_id = "";
    expect_invalid(TETHER_MSG_HELLO, &f.hello.base, "host_id \"\"");
}

static void
test_hello_tunnel_ip(void **state)
{
    f.hello.tunnel_ip = "192.0.2.300";
    expect_invalid(TETHER_MSG_HELLO, &f.hello.base,
                   "tunnel_ip \"192.0.2.300\" is not an IP address");
    f.hello.tunnel_ip = "2001:db8::11";
    expect_valid(TETHER_MSG_HELLO, &f.hello.base);
}

static void
test_hello_tunnel_type(void **state)
{
    f.hello.tunnel_type = "gre";
    expect_invalid(TETHER_MSG_HELLO, &f.hello.base, "tunnel_type \"gre\"");
    f.hello.tunnel_type = "vxlan";
    expect_valid(TETHER_MSG_HELLO, &f.hello.base);
    f.hello.tunnel_type = "";
    expect_valid(TETHER_MSG_HELLO, &f.hello.base);
}

static void
test_hello_bridge(void **state)
{
    f.hello.bridge = "";
    expect_invalid(TETHER_MSG_HELLO, &f.hello.base, "bridge is empty");
    f.hello.bridge = "br-integration16";
    expect_invalid(TETHER_MSG_HELLO, &f.hello.base,
                   "bridge \"br-integration16\" is longer than 15");
    f.hello.bridge = "br-integration1";
    expect_valid(TETHER_MSG_HELLO, &f.hello.base);
}

static void
test_hello_hypervisor(void **state)
{
    char *s = long_string('q', 33);

    f.hello.hypervisor = s;
    expect_invalid(TETHER_MSG_HELLO, &f.hello.base,
                   "hypervisor is longer than 32");
    s[32] = '\0';
    expect_valid(TETHER_MSG_HELLO, &f.hello.base);
    free(s);
}

static void
test_hello_capabilities(void **state)
{
    char *caps[65];
    char *s = long_string('c', 65);
    size_t i;

    for (i = 0; i < 65; i++) {
        caps[i] = "cap";
    }
    f.hello.capabilities = caps;
    f.hello.n_capabilities = 65;
    expect_invalid(TETHER_MSG_HELLO, &f.hello.base,
                   "capabilities has 65 entries");

    f.hello.n_capabilities = 64;
    expect_valid(TETHER_MSG_HELLO, &f.hello.base);

    caps[3] = s;
    expect_invalid(TETHER_MSG_HELLO, &f.hello.base,
                   "capabilities[3] is longer than 64");
    free(s);
}

static void
test_any_string_over_1024(void **state)
{
    char *s = long_string('z', 1025);

    f.hello.hostname = s;
    expect_invalid(TETHER_MSG_HELLO, &f.hello.base,
                   "hello: hostname is longer than 1024");
    f.hello.hostname = "h";

    f.vif.iface_name = s;
    expect_invalid(TETHER_MSG_RESYNC, &f.resync.base,
                   "resync: vifs[0].iface_name is longer than 1024");

    f.ack.message = s;
    expect_invalid(TETHER_MSG_ACK, &f.ack.base, "ack: message");

    s[1024] = '\0';
    expect_valid(TETHER_MSG_ACK, &f.ack.base);
    free(s);
}

static void
test_hello_reply_heartbeat_interval(void **state)
{
    f.hello_reply.heartbeat_interval_ms = 99;
    expect_invalid(TETHER_MSG_HELLO_REPLY, &f.hello_reply.base,
                   "heartbeat_interval_ms 99 is outside 100..600000");
    f.hello_reply.heartbeat_interval_ms = 600001;
    expect_invalid(TETHER_MSG_HELLO_REPLY, &f.hello_reply.base,
                   "heartbeat_interval_ms 600001");
    f.hello_reply.heartbeat_interval_ms = 100;
    expect_valid(TETHER_MSG_HELLO_REPLY, &f.hello_reply.base);

    /* A refusal needs no interval. */
    f.hello_reply.accepted = 0;
    f.hello_reply.heartbeat_interval_ms = 0;
    f.hello_reply.reason = "unknown host";
    expect_valid(TETHER_MSG_HELLO_REPLY, &f.hello_reply.base);
}

static void
test_vif_event_kind(void **state)
{
    f.vif_event.kind = TETHER__VIF_EVENT__KIND__KIND_UNSPECIFIED;
    expect_invalid(TETHER_MSG_VIF_EVENT, &f.vif_event.base,
                   "vif_event: kind 0");
    f.vif_event.kind = 4;
    expect_invalid(TETHER_MSG_VIF_EVENT, &f.vif_event.base, "kind 4");
}

static void
test_vif_event_host_id_and_vif(void **state)
{
    f.vif_event.host_id = "hv/01";
    expect_invalid(TETHER_MSG_VIF_EVENT, &f.vif_event.base,
                   "host_id \"hv/01\"");
    f.vif_event.host_id = "hv-01";
    f.vif_event.vif = NULL;
    expect_invalid(TETHER_MSG_VIF_EVENT, &f.vif_event.base,
                   "vif is missing");
}

static void
test_vif_eni_id(void **state)
{
    f.vif.eni_id = "";
    expect_invalid(TETHER_MSG_VIF_EVENT, &f.vif_event.base,
                   "vif.eni_id \"\" is not a valid ENI id");
}

static void
test_vif_mac(void **state)
{
    f.vif.mac = "zz";
    expect_invalid(TETHER_MSG_VIF_EVENT, &f.vif_event.base,
                   "vif_event: vif.mac \"zz\" is not a MAC address");
    f.vif.mac = "";
    expect_invalid(TETHER_MSG_VIF_EVENT, &f.vif_event.base, "vif.mac \"\"");

    /* An unplugged VIF may have lost its MAC, but not have a bad one. */
    f.vif_event.kind = TETHER__VIF_EVENT__KIND__UNPLUGGED;
    expect_valid(TETHER_MSG_VIF_EVENT, &f.vif_event.base);
    f.vif.mac = "zz";
    expect_invalid(TETHER_MSG_VIF_EVENT, &f.vif_event.base, "vif.mac \"zz\"");
}

static void
test_vif_migration(void **state)
{
    static const char *const good[] = {
        "", "incoming", "paused", "activated", "completed", "failed",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        f.vif.migration = (char *) good[i];
        expect_valid(TETHER_MSG_VIF_EVENT, &f.vif_event.base);
    }
    f.vif.migration = "resumed";
    expect_invalid(TETHER_MSG_VIF_EVENT, &f.vif_event.base,
                   "vif_event: vif.migration \"resumed\" is not incoming");
}

static void
test_vif_vm_uuid(void **state)
{
    f.vif.vm_uuid = "not-a-uuid";
    expect_invalid(TETHER_MSG_VIF_EVENT, &f.vif_event.base,
                   "vif.vm_uuid \"not-a-uuid\" is not a UUID");
    f.vif.vm_uuid = "";
    expect_valid(TETHER_MSG_VIF_EVENT, &f.vif_event.base);
}

static void
test_vif_bridge(void **state)
{
    f.vif.bridge = "";
    expect_invalid(TETHER_MSG_VIF_EVENT, &f.vif_event.base,
                   "vif.bridge is empty");
}

static void
test_vif_ofport(void **state)
{
    f.vif.ofport = -2;
    expect_invalid(TETHER_MSG_VIF_EVENT, &f.vif_event.base,
                   "vif.ofport -2 is outside -1..65279");
    f.vif.ofport = 65280;
    expect_invalid(TETHER_MSG_VIF_EVENT, &f.vif_event.base,
                   "vif.ofport 65280");
    f.vif.ofport = 65279;
    expect_valid(TETHER_MSG_VIF_EVENT, &f.vif_event.base);
    f.vif.ofport = -1;
    expect_valid(TETHER_MSG_VIF_EVENT, &f.vif_event.base);
}

static void
test_migration_phase(void **state)
{
    f.migration.phase = TETHER__MIGRATION_PHASE__MIGRATION_PHASE_UNSPECIFIED;
    expect_invalid(TETHER_MSG_MIGRATION_EVENT, &f.migration.base,
                   "migration_event: phase 0");
    f.migration.phase = 6;
    expect_invalid(TETHER_MSG_MIGRATION_EVENT, &f.migration.base, "phase 6");
    f.migration.phase = TETHER__MIGRATION_PHASE__MIGRATION_FAILED;
    expect_valid(TETHER_MSG_MIGRATION_EVENT, &f.migration.base);
}

static void
test_migration_ids(void **state)
{
    f.migration.host_id = "";
    expect_invalid(TETHER_MSG_MIGRATION_EVENT, &f.migration.base,
                   "host_id \"\"");
    f.migration.host_id = "hv-02";
    f.migration.eni_id = "eni 1";
    expect_invalid(TETHER_MSG_MIGRATION_EVENT, &f.migration.base,
                   "eni_id \"eni 1\"");
    f.migration.eni_id = "eni-1";
    f.migration.source_host = "";
    expect_invalid(TETHER_MSG_MIGRATION_EVENT, &f.migration.base,
                   "source_host \"\"");
    f.migration.source_host = "hv-01";
    f.migration.destination_host = "hv 02";
    expect_invalid(TETHER_MSG_MIGRATION_EVENT, &f.migration.base,
                   "destination_host \"hv 02\"");
}

static void
test_migration_same_hosts(void **state)
{
    f.migration.destination_host = "hv-01";
    expect_invalid(TETHER_MSG_MIGRATION_EVENT, &f.migration.base,
                   "source_host and destination_host are both \"hv-01\"");
}

static void
test_migration_reason(void **state)
{
    char *s = long_string('r', 257);

    f.migration.phase = TETHER__MIGRATION_PHASE__MIGRATION_FAILED;
    f.migration.reason = s;
    expect_invalid(TETHER_MSG_MIGRATION_EVENT, &f.migration.base,
                   "reason is longer than 256");
    s[256] = '\0';
    expect_valid(TETHER_MSG_MIGRATION_EVENT, &f.migration.base);
    free(s);
}

static void
test_resync_host_id(void **state)
{
    f.resync.host_id = "";
    expect_invalid(TETHER_MSG_RESYNC, &f.resync.base,
                   "resync: host_id \"\"");
}

static void
test_resync_vifs(void **state)
{
    /* A Resync needs every MAC, unlike an unplug. */
    f.vif2.mac = "";
    expect_invalid(TETHER_MSG_RESYNC, &f.resync.base,
                   "resync: vifs[1].mac \"\" is not a MAC address");
    f.vif2.mac = "02:00:00:00:00:02";
    f.vif2.ofport = 70000;
    expect_invalid(TETHER_MSG_RESYNC, &f.resync.base, "vifs[1].ofport 70000");

    /* No VIFs at all is a valid (empty) host. */
    f.resync.n_vifs = 0;
    expect_valid(TETHER_MSG_RESYNC, &f.resync.base);
}

static void
test_resync_too_many_vifs(void **state)
{
    Tether__Vif **vifs = calloc(65537, sizeof *vifs);
    Tether__Vif empty;
    size_t i;

    assert_non_null(vifs);
    tether__vif__init(&empty);
    for (i = 0; i < 65537; i++) {
        vifs[i] = &empty;
    }
    f.resync.vifs = vifs;
    f.resync.n_vifs = 65537;
    expect_invalid(TETHER_MSG_RESYNC, &f.resync.base,
                   "vifs has 65537 entries");
    free(vifs);
}

static void
test_resync_migrations(void **state)
{
    f.migration.destination_host = f.migration.source_host;
    expect_invalid(TETHER_MSG_RESYNC, &f.resync.base,
                   "resync: migrations[0].source_host and destination_host");
}

static void
test_command_id(void **state)
{
    f.command.command_id = 0;
    expect_invalid(TETHER_MSG_COMMAND, &f.command.base,
                   "command: command_id is 0");
}

static void
test_command_kind(void **state)
{
    f.command.kind = TETHER__COMMAND__KIND__KIND_UNSPECIFIED;
    expect_invalid(TETHER_MSG_COMMAND, &f.command.base, "command: kind 0");
    f.command.kind = 6;
    expect_invalid(TETHER_MSG_COMMAND, &f.command.base, "kind 6");
    f.command.kind = TETHER__COMMAND__KIND__REQUEST_RESYNC;
    expect_valid(TETHER_MSG_COMMAND, &f.command.base);
}

static void
test_command_announce(void **state)
{
    f.command.mac = "02:00:00:00:00";
    expect_invalid(TETHER_MSG_COMMAND, &f.command.base,
                   "mac \"02:00:00:00:00\" is not a MAC address");
    f.command.mac = "02:00:00:00:00:01";
    f.ips[1] = "fd00::5/64";
    expect_invalid(TETHER_MSG_COMMAND, &f.command.base,
                   "ips[1] \"fd00::5/64\" is not an IP address");
}

static void
test_command_refuse_migration(void **state)
{
    f.command.kind = TETHER__COMMAND__KIND__REFUSE_MIGRATION;
    f.command.eni_id = "";
    expect_invalid(TETHER_MSG_COMMAND, &f.command.base,
                   "eni_id \"\" is not a valid ENI id");
    f.command.eni_id = "eni-7";
    expect_valid(TETHER_MSG_COMMAND, &f.command.base);
}

static void
test_command_switchover_ready(void **state)
{
    f.command.kind = TETHER__COMMAND__KIND__SWITCHOVER_READY;
    f.command.eni_id = "bad id";
    expect_invalid(TETHER_MSG_COMMAND, &f.command.base,
                   "eni_id \"bad id\" is not a valid ENI id");
    f.command.eni_id = "eni-7";
    expect_valid(TETHER_MSG_COMMAND, &f.command.base);
}

static void
test_command_set_controller(void **state)
{
    char *targets[9];
    size_t i;

    for (i = 0; i < 9; i++) {
        targets[i] = "tcp:192.0.2.1:6653";
    }
    f.command.kind = TETHER__COMMAND__KIND__SET_CONTROLLER;
    f.command.openflow_targets = targets;
    f.command.n_openflow_targets = 0;
    expect_invalid(TETHER_MSG_COMMAND, &f.command.base,
                   "openflow_targets is empty");
    f.command.n_openflow_targets = 9;
    expect_invalid(TETHER_MSG_COMMAND, &f.command.base,
                   "openflow_targets has 9 entries");
    f.command.n_openflow_targets = 8;
    expect_valid(TETHER_MSG_COMMAND, &f.command.base);
    targets[2] = "";
    expect_invalid(TETHER_MSG_COMMAND, &f.command.base,
                   "openflow_targets[2] is empty");
}

static void
test_ack_rules(void **state)
{
    f.ack.command_id = 0;
    expect_invalid(TETHER_MSG_ACK, &f.ack.base, "ack: command_id is 0");
    f.ack.command_id = 1;
    f.ack.status = 3;
    expect_invalid(TETHER_MSG_ACK, &f.ack.base, "ack: status 3");
    f.ack.status = TETHER__ACK__STATUS__OK;
    expect_valid(TETHER_MSG_ACK, &f.ack.base);
}

static void
test_error_rules(void **state)
{
    char *s = long_string('e', 513);

    f.error.code = TETHER_WIRE_EMAX + 1;
    expect_invalid(TETHER_MSG_ERROR, &f.error.base, "error: code 12");
    f.error.code = TETHER_WIRE_EMAX;
    expect_valid(TETHER_MSG_ERROR, &f.error.base);
    f.error.message = s;
    expect_invalid(TETHER_MSG_ERROR, &f.error.base,
                   "error: message is longer than 512");
    free(s);
}

/* Peer strings are quoted shortened and with control characters masked,
 * so that a reason stays one printable line. */
static void
test_reason_quoting(void **state)
{
    char err[TETHER_WIRE_ERRLEN];
    char *s = long_string('a', 200);

    s[1] = '\n';
    f.hello.host_id = s;
    assert_int_equal(tether_msg_validate(TETHER_MSG_HELLO, &f.hello.base,
                                         err), TETHER_WIRE_EINVALID);
    assert_null(strchr(err, '\n'));
    assert_reason(err, "host_id \"a?aaa");
    assert_reason(err, "...");
    assert_true(strlen(err) < TETHER_WIRE_ERRLEN);
    free(s);
}

#define T(NAME) cmocka_unit_test_setup(NAME, setup_fixture)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_roundtrip_hello),
        T(test_roundtrip_hello_reply),
        T(test_roundtrip_heartbeat),
        T(test_roundtrip_vif_event),
        T(test_roundtrip_migration_event),
        T(test_roundtrip_resync),
        T(test_roundtrip_command),
        T(test_roundtrip_ack),
        T(test_roundtrip_error),
        T(test_bridge_status),
        T(test_vif_migration),
        T(test_roundtrip_empty_payload),
        T(test_stream_of_frames),
        T(test_header_split_across_reads),
        T(test_truncated_payload),
        T(test_frame_longer_than_header_says),
        T(test_oversize_length),
        T(test_bad_magic),
        T(test_wrong_version),
        T(test_unknown_types),
        T(test_garbage_payload),
        T(test_field_number_zero),
        T(test_wrong_type_payload),
        T(test_encode_refuses_wrong_descriptor),
        T(test_encode_buffer_too_small),
        T(test_encode_refuses_oversize),
        T(test_allowed_from),
        T(test_names_and_descriptors),
        T(test_strerror),
        T(test_msg_clear_empty),
        T(test_validate_wrong_descriptor),
        T(test_hello_host_id),
        T(test_hello_tunnel_ip),
        T(test_hello_tunnel_type),
        T(test_hello_bridge),
        T(test_hello_hypervisor),
        T(test_hello_capabilities),
        T(test_any_string_over_1024),
        T(test_hello_reply_heartbeat_interval),
        T(test_vif_event_kind),
        T(test_vif_event_host_id_and_vif),
        T(test_vif_eni_id),
        T(test_vif_mac),
        T(test_vif_vm_uuid),
        T(test_vif_bridge),
        T(test_vif_ofport),
        T(test_migration_phase),
        T(test_migration_ids),
        T(test_migration_same_hosts),
        T(test_migration_reason),
        T(test_resync_host_id),
        T(test_resync_vifs),
        T(test_resync_too_many_vifs),
        T(test_resync_migrations),
        T(test_command_id),
        T(test_command_kind),
        T(test_command_announce),
        T(test_command_refuse_migration),
        T(test_command_switchover_ready),
        T(test_command_set_controller),
        T(test_ack_rules),
        T(test_error_rules),
        T(test_reason_quoting),
    };

    return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
