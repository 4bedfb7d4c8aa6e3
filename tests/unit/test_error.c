/* SPDX-License-Identifier: MIT */
/* test_error.c - rerr_*: generated tables, bounded and redacted messages, struct_size respect. */
#include "unit_util.h"

#include "error.h"

static void tables_come_from_the_abi_table(void **state)
{
    (void)state;
#define X_CHECK(num, name, msg)                                                                    \
    assert_string_equal(rerr_message(num), msg);                                                   \
    assert_string_equal(rerr_name(num), #name);
    ROTP_ERROR_TABLE(X_CHECK)
#undef X_CHECK
    assert_string_equal(rerr_name(ROTP_E_OUTCOME_UNKNOWN), "OUTCOME_UNKNOWN");
    assert_string_equal(rerr_name(-1), "UNKNOWN");
    assert_string_equal(rerr_name(ROTP_E__COUNT), "UNKNOWN");
    assert_non_null(rerr_message(9999));
    assert_non_null(rerr_message(-5));
}

static void set_formats_and_returns_the_code(void **state)
{
    rotp_error err;

    (void)state;
    memset(&err, 0x55, sizeof(err));
    err.struct_size = sizeof(err);
    rerr_clear(&err);
    assert_int_equal(err.code, 0);
    assert_int_equal(err.http_status, 0);
    assert_int_equal(err.flags, 0);
    assert_string_equal(err.message, "");
    assert_int_equal(rerr_set(&err, ROTP_E_NOT_FOUND, "token %s: gone", "abc"), ROTP_E_NOT_FOUND);
    assert_int_equal(err.code, ROTP_E_NOT_FOUND);
    assert_string_equal(err.message, "token abc: gone");
    rerr_http(&err, 429, 971, 1, 3000);
    rerr_flag(&err, ROTP_ERRF_REQUEST_SENT);
    rerr_flag(&err, ROTP_ERRF_MANAGEMENT_CREDENTIAL);
    assert_int_equal(err.http_status, 429);
    assert_int_equal(err.api_code, 971);
    assert_int_equal(err.retryable, 1);
    assert_true(err.retry_after_ms == 3000);
    assert_int_equal(err.flags, ROTP_ERRF_REQUEST_SENT | ROTP_ERRF_MANAGEMENT_CREDENTIAL);
    /* rerr_set leaves the other fields */
    rerr_set(&err, ROTP_E_RATE_LIMITED, "again");
    assert_int_equal(err.http_status, 429);
    assert_int_equal(rerr_set(NULL, ROTP_E_INTERNAL, "x"), ROTP_E_INTERNAL);
    rerr_clear(NULL);
    rerr_http(NULL, 1, 2, 3, 4);
    rerr_flag(NULL, 1);
}

static void long_messages_are_bounded_and_terminated(void **state)
{
    rotp_error err;
    char big[2000];

    (void)state;
    memset(big, 'a', sizeof(big));
    for (size_t i = 0; i < sizeof(big); i += 8)
        big[i] = ' ';
    big[sizeof(big) - 1] = '\0';
    err.struct_size = sizeof(err);
    rerr_set(&err, ROTP_E_PROTOCOL, "%s", big);
    assert_true(strlen(err.message) < ROTP_ERROR_MESSAGE_MAX);
    assert_true(strlen(err.message) > ROTP_ERROR_MESSAGE_MAX - 16);
}

static void messages_are_redacted(void **state)
{
    rotp_error err;

    (void)state;
    err.struct_size = sizeof(err);
    rerr_set(&err, ROTP_E_INTERNAL, "value %s and %s", "cfut_AbCdEf0123456789xyz",
             "8M7wS6hCpXVc-DoRnPPY_UCWPgy8aea4Wy6kCe5T");
    assert_string_equal(err.message, "value [REDACTED] and [REDACTED]");
    rerr_set(&err, ROTP_E_INTERNAL, "token ed17574386854bf78a67040be0a770b0 line\r\nbreak");
    assert_string_equal(err.message, "token ed17574386854bf78a67040be0a770b0 line  break");
}

static void a_cut_message_does_not_end_in_part_of_a_secret(void **state)
{
    rotp_error err;
    char text[ROTP_ERROR_MESSAGE_MAX + 64];
    const char *secret = "8M7wS6hCpXVc-DoRnPPY_UCWPgy8aea4Wy6kCe5T";

    (void)state;
    /* the secret straddles the cut: its first 20 characters fit, the rest do not */
    memset(text, 'x', sizeof(text));
    for (size_t i = 0; i < ROTP_ERROR_MESSAGE_MAX; i += 10)
        text[i] = ' ';
    memcpy(text + ROTP_ERROR_MESSAGE_MAX - 21, " ", 1);
    memcpy(text + ROTP_ERROR_MESSAGE_MAX - 20, secret, 40);
    text[ROTP_ERROR_MESSAGE_MAX + 20] = '\0';
    err.struct_size = sizeof(err);
    rerr_set(&err, ROTP_E_INTERNAL, "%s", text);
    assert_null(strstr(err.message, "8M7wS6hC"));
}

static void only_fields_that_fit_are_written(void **state)
{
    struct {
        rotp_error err;
        unsigned char guard[8];
    } s;
    size_t i;

    (void)state;
    memset(&s, 0xAA, sizeof(s));
    /* a host that knows only struct_size, code and http_status */
    s.err.struct_size = offsetof(rotp_error, api_code);
    rerr_set(&s.err, ROTP_E_NOT_FOUND, "message that must not be written");
    rerr_http(&s.err, 404, 7003, 1, 10);
    rerr_flag(&s.err, 1);
    assert_int_equal(s.err.code, ROTP_E_NOT_FOUND);
    assert_int_equal(s.err.http_status, 404);
    for (i = offsetof(rotp_error, api_code); i < sizeof(s); i++)
        assert_int_equal(((unsigned char *)&s)[i], 0xAA);
    /* too small for anything */
    s.err.struct_size = 2;
    s.err.code = 77;
    rerr_set(&s.err, ROTP_E_INTERNAL, "x");
    rerr_clear(&s.err);
    assert_int_equal(s.err.code, 77);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tables_come_from_the_abi_table),
        cmocka_unit_test(set_formats_and_returns_the_code),
        cmocka_unit_test(long_messages_are_bounded_and_terminated),
        cmocka_unit_test(messages_are_redacted),
        cmocka_unit_test(a_cut_message_does_not_end_in_part_of_a_secret),
        cmocka_unit_test(only_fields_that_fit_are_written),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
