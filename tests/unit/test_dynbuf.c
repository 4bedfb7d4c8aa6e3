/* test_dynbuf.c - growable buffer: maximum enforced, printf, take, JSON string escaping. */
#include "unit_util.h"

#include "alloc.h"
#include "dynbuf.h"

static void max_is_enforced_and_buffer_unchanged(void **state)
{
    dynbuf b;

    (void)state;
    dynbuf_init(&b, 8);
    assert_int_equal(dynbuf_adds(&b, "12345"), 0);
    assert_int_equal(dynbuf_adds(&b, "6789"), -2);
    assert_string_equal(b.data, "12345");
    assert_int_equal(dynbuf_adds(&b, "678"), 0);
    assert_int_equal(b.len, 8);
    assert_int_equal(dynbuf_add(&b, "x", 1), -2);
    assert_int_equal(dynbuf_printf(&b, "%d", 1), -2);
    dynbuf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    dynbuf_free(&b);
    dynbuf_free(NULL);
}

static void printf_handles_long_output(void **state)
{
    dynbuf b;
    char big[1000];

    (void)state;
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    dynbuf_init(&b, 4096);
    assert_int_equal(dynbuf_printf(&b, "<%s|%d>", big, 42), 0);
    assert_int_equal(b.len, 999 + 5);
    assert_memory_equal(b.data + 1000, "|42>", 4);
    dynbuf_free_wipe(&b);
}

static void take_hands_over_and_empties(void **state)
{
    dynbuf b;
    char *p;

    (void)state;
    dynbuf_init(&b, 100);
    p = dynbuf_take(&b);
    assert_non_null(p);
    assert_string_equal(p, "");
    rotp__free(p);
    dynbuf_adds(&b, "hello");
    p = dynbuf_take(&b);
    assert_string_equal(p, "hello");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    rotp__free(p);
}

static void json_strings_are_escaped(void **state)
{
    dynbuf b;

    (void)state;
    dynbuf_init(&b, 1024);
    assert_int_equal(dynbuf_json_str(&b, "a\"b\\c\nd\x01\x1f\t\r\xc3\xa9", 13), 0);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\nd\\u0001\\u001f\\t\\r\xc3\xa9\"");
    dynbuf_reset(&b);
    assert_int_equal(dynbuf_json_cstr(&b, NULL), 0);
    assert_string_equal(b.data, "null");
    dynbuf_reset(&b);
    assert_int_equal(dynbuf_json_str(&b, "x\0y", 3), 0);
    assert_string_equal(b.data, "\"x\\u0000y\"");
    dynbuf_free(&b);
}

static void json_string_over_max_leaves_buffer_unchanged(void **state)
{
    dynbuf b;

    (void)state;
    dynbuf_init(&b, 10);
    dynbuf_adds(&b, "ab");
    assert_int_equal(dynbuf_json_str(&b, "\n\n\n\n", 4), -2);
    assert_int_equal(b.len, 2);
    assert_string_equal(b.data, "ab");
    dynbuf_free(&b);
}

static void allocation_failure_is_reported(void **state)
{
    dynbuf b;

    (void)state;
    dynbuf_init(&b, 100);
    rotp__alloc_fail_at(1);
    assert_int_equal(dynbuf_adds(&b, "x"), -1);
    assert_int_equal(b.len, 0);
    rotp__alloc_fail_at(1);
    assert_null(dynbuf_take(&b));
    rotp__alloc_fail_at(0);
    dynbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(max_is_enforced_and_buffer_unchanged),
        cmocka_unit_test(printf_handles_long_output),
        cmocka_unit_test(take_hands_over_and_empties),
        cmocka_unit_test(json_strings_are_escaped),
        cmocka_unit_test(json_string_over_max_leaves_buffer_unchanged),
        cmocka_unit_test(allocation_failure_is_reported),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
