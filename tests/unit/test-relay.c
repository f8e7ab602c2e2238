/* Unit tests of the relay's delivery stamps (hostagent/relay.c): the
 * relay's tagged copy of a frame finds the stamp of the VIF's untagged
 * copy, identical frames are matched in order, a full table forgets the
 * oldest, and an unknown frame finds nothing (the relay then keeps its own
 * stamp). */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hostagent/relay.h"

/* A 64-byte UDP-ish frame numbered 'seq', untagged or with VLAN 'vid'. */
static size_t
make_frame(unsigned char *f, uint32_t seq, uint16_t vid)
{
    static const unsigned char macs[12] = {
        0x02, 0, 0, 0, 1, 0,   0x02, 0, 0, 0, 0, 0x11 };
    size_t n = 0;
    memcpy(f, macs, 12);
    n = 12;
    if (vid) {
        f[n++] = 0x81;
        f[n++] = 0x00;
        f[n++] = vid >> 8;
        f[n++] = vid & 0xff;
    }
    f[n++] = 0x08;
    f[n++] = 0x00;
    for (int i = 0; i < 50; i++) {
        f[n++] = (unsigned char) (i == 0 ? seq : i == 1 ? seq >> 8
                                  : i == 2 ? seq >> 16 : i);
    }
    return n;
}

static uint64_t
hash_of(uint32_t seq, uint16_t vid)
{
    unsigned char f[80];
    size_t n = make_frame(f, seq, vid);
    return relay_frame_hash(f, n, vid != 0);
}

static void
test_tagged_copy_matches(void **state)
{
    (void) state;
    assert_true(hash_of(7, 0) == hash_of(7, 5));
    assert_true(hash_of(7, 0) == hash_of(7, 4094));
    assert_true(hash_of(7, 0) != hash_of(8, 0));
    assert_true(hash_of(7, 5) != hash_of(8, 5));
}

static void
test_take_in_order(void **state)
{
    (void) state;
    struct relay_stamps *s = calloc(1, sizeof *s);
    int64_t ts;

    /* The VIF got frames 1, 2, 3 (and 2 again, identical) at 10..40. */
    relay_stamps_add(s, hash_of(1, 0), 10);
    relay_stamps_add(s, hash_of(2, 0), 20);
    relay_stamps_add(s, hash_of(3, 0), 30);
    relay_stamps_add(s, hash_of(2, 0), 40);

    /* The relay's copies, tagged, in the same order. */
    assert_true(relay_stamps_take(s, hash_of(1, 3), &ts));
    assert_int_equal(ts, 10);
    assert_true(relay_stamps_take(s, hash_of(2, 3), &ts));
    assert_int_equal(ts, 20);
    assert_true(relay_stamps_take(s, hash_of(3, 3), &ts));
    assert_int_equal(ts, 30);
    assert_true(relay_stamps_take(s, hash_of(2, 3), &ts));
    assert_int_equal(ts, 40);
    /* Each stamp serves once; what the VIF never got is not found. */
    assert_false(relay_stamps_take(s, hash_of(2, 3), &ts));
    assert_false(relay_stamps_take(s, hash_of(9, 3), &ts));
    assert_int_equal(s->n, 0);
    free(s);
}

static void
test_full_table_forgets_oldest(void **state)
{
    (void) state;
    struct relay_stamps *s = calloc(1, sizeof *s);
    int64_t ts;

    for (uint32_t i = 0; i < RELAY_VIF_STAMPS + 10; i++) {
        relay_stamps_add(s, hash_of(i, 0), 1000 + i);
    }
    assert_int_equal(s->n, RELAY_VIF_STAMPS);
    for (uint32_t i = 0; i < 10; i++) {
        assert_false(relay_stamps_take(s, hash_of(i, 7), &ts));
    }
    /* A copy whose VIF frame was missed does not disturb the rest. */
    assert_true(relay_stamps_take(s, hash_of(10, 7), &ts));
    assert_int_equal(ts, 1010);
    assert_true(relay_stamps_take(s, hash_of(500, 7), &ts));
    assert_int_equal(ts, 1500);
    assert_true(relay_stamps_take(s, hash_of(11, 7), &ts));
    assert_int_equal(ts, 1011);
    free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tagged_copy_matches),
        cmocka_unit_test(test_take_in_order),
        cmocka_unit_test(test_full_table_forgets_oldest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
