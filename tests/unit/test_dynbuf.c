/* SPDX-License-Identifier: MIT */
/* test_dynbuf.c - growable buffer: maximum enforced, printf, take, JSON string escaping, and
 * wiping as a property of the buffer (growth, reset, free). */
#include "unit_util.h"

#include "alloc.h"
#include "dynbuf.h"

static void max_is_enforced_and_buffer_unchanged(void **state)
{
    dynbuf b;

    (void)state;
    dynbuf_init(&b, 8);
    assert_int_equal(dynbuf_adds(&b, "12345"), 0);
    assert_int_equal(dynbuf_adds(&b, "6789"), DYNBUF_ETOOBIG);
    assert_string_equal(b.data, "12345");
    assert_int_equal(dynbuf_adds(&b, "678"), 0);
    assert_int_equal(b.len, 8);
    assert_int_equal(dynbuf_add(&b, "x", 1), DYNBUF_ETOOBIG);
    assert_int_equal(dynbuf_printf(&b, "%d", 1), DYNBUF_ETOOBIG);
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
    assert_int_equal(dynbuf_adds(&b, "x"), DYNBUF_ENOMEM);
    assert_int_equal(b.len, 0);
    rotp__alloc_fail_at(1);
    assert_null(dynbuf_take(&b));
    rotp__alloc_fail_at(0);
    dynbuf_free(&b);
}

/* A secret written into a response body must not stay behind in the block the body grew out of
 * (the provider's roll answer was freed unwiped by one adapter: issue 9). */
static void growth_wipes_the_old_block_before_freeing_it(void **state)
{
    dynbuf b;
    free_watch w = {0};
    char big[300];

    (void)state;
    dynbuf_init(&b, 4096);
    assert_int_equal(dynbuf_adds(&b, "cfut_SECRETSECRETSECRET"), DYNBUF_OK);
    w.ptr = b.data;
    w.len = b.cap;
    memset(big, 'x', sizeof(big));
    rotp__alloc_on_free(unit_on_free, &w);
    assert_int_equal(dynbuf_add(&b, big, sizeof(big)), DYNBUF_OK);
    rotp__alloc_on_free(NULL, NULL);
    assert_true(w.seen);     /* the old block was released... */
    assert_true(w.all_zero); /* ...only after every byte of it was wiped */
    assert_memory_equal(b.data, "cfut_SECRETSECRETSECRETxxx", 26);
    dynbuf_free(&b);
}

static void free_wipes_the_whole_allocation(void **state)
{
    dynbuf b;
    free_watch w = {0};

    (void)state;
    dynbuf_init(&b, 4096);
    assert_int_equal(dynbuf_adds(&b, "{\"result\":\"cfut_SECRETSECRETSECRET\"}"), DYNBUF_OK);
    dynbuf_reset(&b); /* a shorter answer after a longer one: the old tail stays allocated */
    assert_int_equal(dynbuf_adds(&b, "{}"), DYNBUF_OK);
    w.ptr = b.data;
    w.len = b.cap;
    rotp__alloc_on_free(unit_on_free, &w);
    dynbuf_free(&b);
    rotp__alloc_on_free(NULL, NULL);
    assert_true(w.seen && w.all_zero);
    assert_null(b.data);
}

static void reset_wipes_the_content(void **state)
{
    dynbuf b;

    (void)state;
    dynbuf_init(&b, 4096);
    assert_int_equal(dynbuf_adds(&b, "cfut_SECRETSECRETSECRET"), DYNBUF_OK);
    dynbuf_reset(&b);
    assert_int_equal(b.len, 0);
    /* every byte that held content, and its NUL (the rest was never written) */
    for (size_t i = 0; i <= strlen("cfut_SECRETSECRETSECRET"); i++)
        assert_int_equal(b.data[i], 0);
    dynbuf_free(&b);
}

static void json_string_over_max_wipes_what_it_wrote(void **state)
{
    dynbuf b;
    char big[41];

    (void)state;
    /* 20 plain bytes, an escape, 20 plain bytes: the last run passes max after the first ones
     * were written */
    memset(big, 's', sizeof(big));
    big[20] = '\n';
    dynbuf_init(&b, 40);
    assert_int_equal(dynbuf_adds(&b, "ab"), DYNBUF_OK);
    assert_int_equal(dynbuf_json_str(&b, big, sizeof(big)), DYNBUF_ETOOBIG);
    assert_string_equal(b.data, "ab");
    /* what was written before the failure: the quote, 20 plain bytes and the escape */
    for (size_t i = 2; i < 2 + 1 + 20 + 2; i++)
        assert_int_equal(b.data[i], 0);
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
        cmocka_unit_test(growth_wipes_the_old_block_before_freeing_it),
        cmocka_unit_test(free_wipes_the_whole_allocation),
        cmocka_unit_test(reset_wipes_the_content),
        cmocka_unit_test(json_string_over_max_wipes_what_it_wrote),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
