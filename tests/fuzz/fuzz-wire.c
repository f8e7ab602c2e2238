/* libFuzzer target for proto/wire.c: reads the input as a received stream,
 * decodes frame after frame, and checks that every message that decodes
 * re-encodes to bytes that decode again to the same encoding. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
die(const char *what, const char *err)
{
    fprintf(stderr, "fuzz-wire: %s%s%s\n", what, err ? ": " : "",
            err ? err : "");
    abort();
}

/* An error must come with a one-line, non-empty, terminated reason. */
static void
check_reason(int error, const char *err)
{
    if (error && (strnlen(err, TETHER_WIRE_ERRLEN) == TETHER_WIRE_ERRLEN
                  || !err[0] || strchr(err, '\n'))) {
        die("bad reason for error", tether_wire_strerror(error));
    }
}

/* Encodes 'msg', decodes that, encodes the result again and aborts unless
 * both encodings are the same. */
static void
check_reencode(const struct tether_msg *msg)
{
    char err[TETHER_WIRE_ERRLEN];
    struct tether_msg msg2;
    uint8_t *buf1, *buf2;
    size_t len1, len2;
    int error;

    if (tether_wire_encode_alloc(msg->type, msg->pb, &buf1, &len1)) {
        die("decoded message does not encode", NULL);
    }
    error = tether_wire_decode(buf1, len1, &msg2, err);
    if (error) {
        die("re-encoded message does not decode", err);
    }
    if (msg2.type != msg->type) {
        die("re-encoded message changed type", NULL);
    }
    if (tether_wire_encode_alloc(msg2.type, msg2.pb, &buf2, &len2)) {
        die("re-decoded message does not encode", NULL);
    }
    if (len1 != len2 || memcmp(buf1, buf2, len1)) {
        die("encoding is not stable", tether_msg_type_name(msg->type));
    }
    tether_msg_clear(&msg2);
    free(buf1);
    free(buf2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    while (size > 0) {
        char err[TETHER_WIRE_ERRLEN];
        struct tether_wire_header hdr;
        struct tether_msg msg;
        size_t frame_len;
        int error;

        error = tether_wire_peek(data, size, &hdr, &frame_len, err);
        check_reason(error, err);
        if (error || !frame_len || frame_len > size) {
            break;              /* Broken header, or waiting for more. */
        }

        /* The rest of the stream is not one frame unless it is exactly
         * this one. */
        if (frame_len < size) {
            error = tether_wire_decode(data, size, &msg, err);
            if (error != TETHER_WIRE_EMALFORMED || msg.pb) {
                die("decoding more than a frame did not fail", NULL);
            }
        }

        error = tether_wire_decode(data, frame_len, &msg, err);
        check_reason(error, err);
        if (!error) {
            if (msg.type != hdr.type || !msg.pb) {
                die("decoded message disagrees with its header", NULL);
            }
            check_reencode(&msg);
            tether_msg_clear(&msg);
        } else if (msg.pb) {
            die("failed decode left a message", err);
        }

        data += frame_len;
        size -= frame_len;
    }
    return 0;
}
