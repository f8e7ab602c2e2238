/* Unit tests of lib/validate.c: the syntax of host ids, ENI ids, UUIDs, MAC
 * and IP addresses, at and just past every boundary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/validate.h"

/* Fills 'buf' with 'n' copies of 'c' and a null. */
static const char *
repeat(char *buf, char c, size_t n)
{
    memset(buf, c, n);
    buf[n] = '\0';
    return buf;
}

static void
test_host_id_valid(void **state)
{
    char buf[TETHER_HOST_ID_MAX + 2];

    assert_true(tether_valid_host_id("hv-01"));
    assert_true(tether_valid_host_id("a"));
    assert_true(tether_valid_host_id("rack3.hv_17-B"));
    assert_true(tether_valid_host_id(repeat(buf, 'h', TETHER_HOST_ID_MAX)));
}

static void
test_host_id_invalid(void **state)
{
    char buf[TETHER_HOST_ID_MAX + 2];

    assert_false(tether_valid_host_id(NULL));
    assert_false(tether_valid_host_id(""));
    assert_false(tether_valid_host_id("hv 01"));
    assert_false(tether_valid_host_id("hv/01"));
    assert_false(tether_valid_host_id("hv:01"));     /* ':' is ENI-only. */
    assert_false(tether_valid_host_id("h\xc3\xa9"));
    assert_false(tether_valid_host_id("hv\n"));
    assert_false(tether_valid_host_id(
                     repeat(buf, 'h', TETHER_HOST_ID_MAX + 1)));
}

static void
test_eni_id_valid(void **state)
{
    char buf[TETHER_ENI_ID_MAX + 2];

    assert_true(tether_valid_eni_id("eni-0a1b2c3d"));
    assert_true(tether_valid_eni_id("tenant:eni.7_x"));
    assert_true(tether_valid_eni_id("0"));
    assert_true(tether_valid_eni_id(repeat(buf, 'e', TETHER_ENI_ID_MAX)));
}

static void
test_eni_id_invalid(void **state)
{
    char buf[TETHER_ENI_ID_MAX + 2];

    assert_false(tether_valid_eni_id(NULL));
    assert_false(tether_valid_eni_id(""));
    assert_false(tether_valid_eni_id("eni 1"));
    assert_false(tether_valid_eni_id("eni/1"));
    assert_false(tether_valid_eni_id("eni\"1"));
    assert_false(tether_valid_eni_id(repeat(buf, 'e', TETHER_ENI_ID_MAX + 1)));
}

static void
test_uuid_valid(void **state)
{
    assert_true(tether_valid_uuid("123e4567-e89b-12d3-a456-426614174000"));
    assert_true(tether_valid_uuid("123E4567-E89B-12D3-A456-42661417400F"));
    assert_true(tether_valid_uuid("00000000-0000-0000-0000-000000000000"));
}

static void
test_uuid_invalid(void **state)
{
    assert_false(tether_valid_uuid(NULL));
    assert_false(tether_valid_uuid(""));
    /* One digit short, one digit long. */
    assert_false(tether_valid_uuid("123e4567-e89b-12d3-a456-42661417400"));
    assert_false(tether_valid_uuid("123e4567-e89b-12d3-a456-4266141740001"));
    /* Dash in the wrong place, non-hex digit, no dashes, braces. */
    assert_false(tether_valid_uuid("123e456-7e89b-12d3-a456-426614174000"));
    assert_false(tether_valid_uuid("123e4567-e89b-12d3-a456-42661417400g"));
    assert_false(tether_valid_uuid("123e4567e89b12d3a456426614174000"));
    assert_false(tether_valid_uuid("{23e4567-e89b-12d3-a456-42661417400}"));
}

static void
test_mac_parse(void **state)
{
    static const uint8_t expected[6] = { 0x02, 0xab, 0xcd, 0xef, 0x00, 0x9f };
    uint8_t mac[6];

    memset(mac, 0, sizeof mac);
    assert_true(tether_parse_mac("02:ab:cd:ef:00:9f", mac));
    assert_memory_equal(mac, expected, 6);

    memset(mac, 0, sizeof mac);
    assert_true(tether_parse_mac("02:AB:Cd:eF:00:9F", mac));
    assert_memory_equal(mac, expected, 6);

    assert_true(tether_parse_mac("ff:ff:ff:ff:ff:ff", NULL));
}

static void
test_mac_invalid(void **state)
{
    static const uint8_t untouched[6] = { 1, 2, 3, 4, 5, 6 };
    uint8_t mac[6];

    memcpy(mac, untouched, sizeof mac);
    assert_false(tether_parse_mac("zz", mac));
    assert_memory_equal(mac, untouched, 6);   /* Not written on failure. */

    assert_false(tether_parse_mac(NULL, mac));
    assert_false(tether_parse_mac("", mac));
    assert_false(tether_parse_mac("02:ab:cd:ef:00", mac));
    assert_false(tether_parse_mac("02:ab:cd:ef:00:9f:", mac));
    assert_false(tether_parse_mac("02:ab:cd:ef:00:9f:11", mac));
    assert_false(tether_parse_mac("02-ab-cd-ef-00-9f", mac));
    assert_false(tether_parse_mac("2:ab:cd:ef:00:9f", mac));
    assert_false(tether_parse_mac("02:ab:cd:ef:00:9g", mac));
    assert_false(tether_parse_mac("02abcdef009f", mac));
    assert_false(tether_parse_mac(" 02:ab:cd:ef:00:9f", mac));
}

static void
test_ip_valid(void **state)
{
    assert_true(tether_valid_ip("192.0.2.1"));
    assert_true(tether_valid_ip("0.0.0.0"));
    assert_true(tether_valid_ip("255.255.255.255"));
    assert_true(tether_valid_ip("2001:db8::1"));
    assert_true(tether_valid_ip("::"));
    assert_true(tether_valid_ip("::ffff:192.0.2.1"));
}

static void
test_ip_invalid(void **state)
{
    assert_false(tether_valid_ip(NULL));
    assert_false(tether_valid_ip(""));
    assert_false(tether_valid_ip("192.0.2"));
    assert_false(tether_valid_ip("192.0.2.256"));
    assert_false(tether_valid_ip("192.0.2.1/24"));
    assert_false(tether_valid_ip("2001:db8::1/64"));
    assert_false(tether_valid_ip("fe80::1%eth0"));
    assert_false(tether_valid_ip("2001:db8:::1"));
    assert_false(tether_valid_ip("localhost"));
    assert_false(tether_valid_ip(" 192.0.2.1"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_id_valid),
        cmocka_unit_test(test_host_id_invalid),
        cmocka_unit_test(test_eni_id_valid),
        cmocka_unit_test(test_eni_id_invalid),
        cmocka_unit_test(test_uuid_valid),
        cmocka_unit_test(test_uuid_invalid),
        cmocka_unit_test(test_mac_parse),
        cmocka_unit_test(test_mac_invalid),
        cmocka_unit_test(test_ip_valid),
        cmocka_unit_test(test_ip_invalid),
    };

    return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
