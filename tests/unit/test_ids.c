/* SPDX-License-Identifier: MIT */
/* test_ids.c - identifier, header-value and secret-shape checks made before anything is sent. */
#include "unit_util.h"

#include "ids.h"

#define S(x) (x), strlen(x)

static void hex32_accepts_only_32_lowercase_hex(void **state)
{
    (void)state;
    assert_true(id_is_hex32(S("ed17574386854bf78a67040be0a770b0")));
    assert_false(id_is_hex32(S("ED17574386854BF78A67040BE0A770B0")));
    assert_false(id_is_hex32(S("ed17574386854bf78a67040be0a770b")));
    assert_false(id_is_hex32(S("ed17574386854bf78a67040be0a770b00")));
    assert_false(id_is_hex32(S("ed17574386854bf78a67040be0a770g0")));
    assert_false(id_is_hex32(S("..")));
    assert_false(id_is_hex32(S("%2e%2e")));
    assert_false(id_is_hex32(S("../../../../../../../user/tokens")));
    assert_false(id_is_hex32(S("ed17574386854bf78a67040be0a770\r\n")));
    assert_false(id_is_hex32(S("ed17574386854bf78a67040be0a7/0b0")));
    assert_false(id_is_hex32(S("")));
    assert_false(id_is_hex32(NULL, 32));
    /* an embedded NUL is not hidden by the explicit length */
    assert_false(id_is_hex32("ed17574386854bf7\0a67040be0a770b0", 32));
}

static void uuid_accepts_only_lowercase_8_4_4_4_12(void **state)
{
    (void)state;
    assert_true(id_is_uuid(S("f174e90a-fafe-4643-bbbc-4a0ed4fc8415")));
    assert_false(id_is_uuid(S("F174E90A-FAFE-4643-BBBC-4A0ED4FC8415")));
    assert_false(id_is_uuid(S("f174e90afafe4643bbbc4a0ed4fc8415")));
    assert_false(id_is_uuid(S("{f174e90a-fafe-4643-bbbc-4a0ed4fc8415}")));
    assert_false(id_is_uuid(S("f174e90a-fafe-4643-bbbc-4a0ed4fc84150")));
    assert_false(id_is_uuid(S("f174e90a-fafe-4643-bbbc4-a0ed4fc8415")));
    assert_false(id_is_uuid(S("f174e90a-fafe-4643-bbbc-4a0ed4fc841g")));
    assert_false(id_is_uuid(S("f174e90a-fafe-4643-bbbc-4a0ed4fc841\n")));
    assert_false(id_is_uuid(S("..%2e%2e")));
    assert_false(id_is_uuid(S("ed17574386854bf78a67040be0a770b0")));
}

static void run_ids_are_short_names_without_separators(void **state)
{
    (void)state;
    assert_true(id_is_run_id("ops-run_42", 10, 39));
    assert_true(id_is_run_id("a", 1, 1));
    assert_false(id_is_run_id("", 0, 39));
    assert_false(id_is_run_id(NULL, 0, 39));
    assert_false(id_is_run_id("ab", 2, 1));       /* over max */
    assert_false(id_is_run_id("bad id", 6, 39));  /* space */
    assert_false(id_is_run_id("a.rot-b", 7, 39)); /* '.', the name tag's separator */
    assert_false(id_is_run_id("../x", 4, 39));
    assert_false(id_is_run_id("a\r\nb", 4, 39));
}

static void header_values_refuse_cr_lf_nul_and_overlong(void **state)
{
    (void)state;
    assert_true(header_value_ok(S("abc.access"), 64));
    assert_false(header_value_ok(S("abc\r\nX-Evil: 1"), 64));
    assert_false(header_value_ok(S("abc\n"), 64));
    assert_false(header_value_ok("a\0b", 3, 64));
    assert_false(header_value_ok(S("0123456789"), 9));
    assert_true(header_value_ok(S("0123456789"), 10));
}

static void secret_shape_follows_api_notes(void **state)
{
    char big[514];

    (void)state;
    assert_true(secret_shape_ok(S("8M7wS6hCpXVc-DoRnPPY_UCWPgy8aea4Wy6kCe5T")));
    assert_true(secret_shape_ok(S("cfut_abcdefABCDEF0123456789~+/.-_==")));
    assert_false(secret_shape_ok(S("")));
    assert_false(secret_shape_ok(S("==")));
    assert_false(secret_shape_ok(S("abc=d")));
    assert_false(secret_shape_ok(S("has space")));
    assert_false(secret_shape_ok(S("abc\r\n")));
    memset(big, 'a', sizeof(big));
    assert_true(secret_shape_ok(big, 512));
    assert_false(secret_shape_ok(big, 513));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hex32_accepts_only_32_lowercase_hex),
        cmocka_unit_test(uuid_accepts_only_lowercase_8_4_4_4_12),
        cmocka_unit_test(run_ids_are_short_names_without_separators),
        cmocka_unit_test(header_values_refuse_cr_lf_nul_and_overlong),
        cmocka_unit_test(secret_shape_follows_api_notes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
