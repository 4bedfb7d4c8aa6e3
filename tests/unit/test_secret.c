/* SPDX-License-Identifier: MIT */
/* test_secret.c - the wiping buffer: content, growth without leftover copies, clear, compare. */
#include "unit_util.h"

#include <stdbool.h>

#include "alloc.h"
#include "secret.h"

static void new_append_set_keep_nul_termination(void **state)
{
    secret_buf *sb = secret_new("abc", 3);

    (void)state;
    assert_non_null(sb);
    assert_int_equal(sb->len, 3);
    assert_string_equal(sb->data, "abc");
    assert_int_equal(secret_append(sb, "def", 3), 0);
    assert_string_equal(sb->data, "abcdef");
    assert_int_equal(secret_set(sb, "xy", 2), 0);
    assert_string_equal(sb->data, "xy");
    assert_int_equal(sb->len, 2);
    /* the tail of the old, longer value is gone, not just hidden behind the NUL */
    assert_int_equal(sb->data[3], 0);
    assert_int_equal(sb->data[5], 0);
    secret_free(sb);
    secret_free(NULL);
    secret_clear(NULL);
    secret_wipe(NULL, 10);
}

static void clear_zeroes_the_live_buffer(void **state)
{
    secret_buf *sb = secret_new("cfut_supersecretvalue", 21);
    size_t i, cap;

    (void)state;
    assert_non_null(sb);
    cap = sb->cap;
    secret_clear(sb);
    assert_int_equal(sb->len, 0);
    assert_non_null(sb->data);
    for (i = 0; i < cap; i++)
        assert_int_equal(sb->data[i], 0);
    secret_free(sb);
}

static void growth_wipes_the_old_block_before_freeing_it(void **state)
{
    secret_buf *sb = secret_new("0123456789", 10);
    free_watch w = {0};
    char big[200];

    (void)state;
    assert_non_null(sb);
    memset(big, 'S', sizeof(big));
    w.ptr = sb->data;
    w.len = sb->cap;
    rotp__alloc_on_free(unit_on_free, &w);
    assert_int_equal(secret_append(sb, big, sizeof(big)), 0);
    rotp__alloc_on_free(NULL, NULL);
    assert_true(w.seen);     /* the old block was released... */
    assert_true(w.all_zero); /* ...only after every byte was wiped */
    assert_int_equal(sb->len, 210);
    assert_memory_equal(sb->data, "0123456789SSS", 13);
    secret_free(sb);
}

static void free_wipes_the_data_block(void **state)
{
    secret_buf *sb = secret_new("hunter2hunter2", 14);
    free_watch w = {0};

    (void)state;
    assert_non_null(sb);
    w.ptr = sb->data;
    w.len = sb->cap;
    rotp__alloc_on_free(unit_on_free, &w);
    secret_free(sb);
    rotp__alloc_on_free(NULL, NULL);
    assert_true(w.seen);
    assert_true(w.all_zero);
}

static void set_to_a_larger_value_wipes_the_old_block(void **state)
{
    secret_buf *sb = secret_new("short", 5);
    free_watch w = {0};
    char big[100];

    (void)state;
    memset(big, 'z', sizeof(big));
    w.ptr = sb->data;
    w.len = sb->cap;
    rotp__alloc_on_free(unit_on_free, &w);
    assert_int_equal(secret_set(sb, big, sizeof(big)), 0);
    rotp__alloc_on_free(NULL, NULL);
    assert_true(w.seen && w.all_zero);
    assert_int_equal(sb->len, 100);
    secret_free(sb);
}

static void equals_compares_length_and_content(void **state)
{
    secret_buf *sb = secret_new("token", 5);

    (void)state;
    assert_true(secret_equals(sb, "token", 5));
    assert_false(secret_equals(sb, "tokeN", 5));
    assert_false(secret_equals(sb, "toke", 4));
    assert_false(secret_equals(NULL, "token", 5));
    secret_free(sb);
}

static void allocation_failure_leaves_the_buffer_unchanged(void **state)
{
    secret_buf *sb;
    char big[300];
    unsigned long n;

    (void)state;
    memset(big, 'q', sizeof(big));
    for (n = 1; n <= 3; n++) {
        rotp__alloc_fail_at(n);
        sb = secret_new("abc", 3);
        if (sb == NULL)
            continue;
        assert_string_equal(sb->data, "abc");
        secret_free(sb);
    }
    rotp__alloc_fail_at(0);
    sb = secret_new("abc", 3);
    assert_non_null(sb);
    rotp__alloc_fail_at(1);
    assert_int_equal(secret_append(sb, big, sizeof(big)), -1);
    assert_int_equal(sb->len, 3);
    assert_string_equal(sb->data, "abc");
    rotp__alloc_fail_at(1);
    assert_int_equal(secret_set(sb, big, sizeof(big)), -1);
    assert_string_equal(sb->data, "abc");
    rotp__alloc_fail_at(0);
    assert_int_equal(secret_append(sb, big, sizeof(big)), 0);
    assert_int_equal(sb->len, 303);
    secret_free(sb);
}

static void append_loop_under_allocation_failures(void **state)
{
    unsigned long n;
    bool done = false;

    (void)state;
    for (n = 1; !done && n < 100; n++) {
        secret_buf *sb;
        size_t i, want = 0;
        char chunk[37];

        rotp__alloc_fail_at(n);
        sb = secret_new("", 0);
        if (sb == NULL)
            continue;
        memset(chunk, 'k', sizeof(chunk));
        for (i = 0; i < 40; i++) {
            if (secret_append(sb, chunk, sizeof(chunk)) == 0)
                want += sizeof(chunk);
            /* a failed append leaves the content as it was */
            assert_int_equal(sb->len, want);
            assert_int_equal(sb->data[sb->len], '\0');
        }
        done = rotp__alloc_count() < n;
        secret_free(sb);
    }
    rotp__alloc_fail_at(0);
    assert_true(done);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_append_set_keep_nul_termination),
        cmocka_unit_test(clear_zeroes_the_live_buffer),
        cmocka_unit_test(growth_wipes_the_old_block_before_freeing_it),
        cmocka_unit_test(free_wipes_the_data_block),
        cmocka_unit_test(set_to_a_larger_value_wipes_the_old_block),
        cmocka_unit_test(equals_compares_length_and_content),
        cmocka_unit_test(allocation_failure_leaves_the_buffer_unchanged),
        cmocka_unit_test(append_loop_under_allocation_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
