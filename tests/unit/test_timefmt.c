/* SPDX-License-Identifier: MIT */
/* test_timefmt.c - RFC 3339 formatting/parsing and Go durations. */
#include "unit_util.h"

#include "timefmt.h"

#define S(x) (x), strlen(x)

static void rfc3339_round_trips(void **state)
{
    char buf[RFC3339_LEN];
    int64_t t;

    (void)state;
    assert_int_equal(rfc3339_format(0, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    assert_int_equal(rfc3339_format(1798761600, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "2027-01-01T00:00:00Z");
    assert_int_equal(rfc3339_format(951782400, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "2000-02-29T00:00:00Z");
    assert_int_equal(rfc3339_format(-1, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    assert_int_equal(rfc3339_format(0, buf, RFC3339_LEN - 1), -1);
    assert_int_equal(rfc3339_parse(S("2027-01-01T00:00:00Z"), &t), 0);
    assert_true(t == 1798761600);
    assert_int_equal(rfc3339_parse(S("2018-07-01T05:20:00.123456Z"), &t), 0);
    assert_true(t == 1530422400);
    assert_int_equal(rfc3339_parse(S("2018-07-01T07:20:00+02:00"), &t), 0);
    assert_true(t == 1530422400);
    assert_int_equal(rfc3339_parse(S("2018-07-01T04:50:00-00:30"), &t), 0);
    assert_true(t == 1530422400);
}

static void rfc3339_rejects_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "2027-01-01",
        "2027-01-01T00:00:00",
        "2027-13-01T00:00:00Z",
        "2027-02-29T00:00:00Z",
        "2027-01-32T00:00:00Z",
        "2027-01-01T24:00:00Z",
        "2027-01-01T00:00:00.Z",
        "2027-01-01T00:00:00Zjunk",
        "2027-01-01 00:00:00Z",
        "2027-1-01T00:00:00Z",
        "2027-01-01T00:00:00+0200",
    };
    size_t i;
    int64_t t;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (rfc3339_parse(S(bad[i]), &t) != -1)
            fail_msg("accepted %s", bad[i]);
    }
    assert_int_equal(rfc3339_parse(S("2024-02-29T00:00:00Z"), &t), 0);
}

static void durations_follow_go_syntax(void **state)
{
    int64_t ms;

    (void)state;
    assert_int_equal(duration_parse_ms(S("8760h"), &ms), 0);
    assert_true(ms == 8760LL * 3600 * 1000);
    assert_int_equal(duration_parse_ms(S("2h45m"), &ms), 0);
    assert_true(ms == (2 * 3600 + 45 * 60) * 1000LL);
    assert_int_equal(duration_parse_ms(S("300ms"), &ms), 0);
    assert_true(ms == 300);
    assert_int_equal(duration_parse_ms(S("1.5h"), &ms), 0);
    assert_true(ms == 5400000);
    assert_int_equal(duration_parse_ms(S("1500\xc2\xb5s"), &ms), 0);
    assert_true(ms == 1);
    assert_int_equal(duration_parse_ms(S("2000us"), &ms), 0);
    assert_true(ms == 2);
    assert_int_equal(duration_parse_ms(S("3000000ns"), &ms), 0);
    assert_true(ms == 3);
    assert_int_equal(duration_parse_ms(S("1m30s"), &ms), 0);
    assert_true(ms == 90000);
    assert_int_equal(duration_parse_ms(S("0"), &ms), 0);
    assert_true(ms == 0);
    assert_int_equal(duration_parse_ms(S(".5s"), &ms), 0);
    assert_true(ms == 500);
}

static void durations_reject_malformed_negative_and_overflow(void **state)
{
    static const char *const bad[] = {
        "",        "h",    "5",   "-5m",  "5x",       "5 m",
        "forever", "1.h.", "5mm", "..5s", "2562048h", "99999999999999999999h",
        "1h-5m",   "+",
    };
    size_t i;
    int64_t ms;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (duration_parse_ms(S(bad[i]), &ms) != -1)
            fail_msg("accepted %s", bad[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc3339_round_trips),
        cmocka_unit_test(rfc3339_rejects_malformed),
        cmocka_unit_test(durations_follow_go_syntax),
        cmocka_unit_test(durations_reject_malformed_negative_and_overflow),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
