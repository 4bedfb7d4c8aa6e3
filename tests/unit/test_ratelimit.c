/* SPDX-License-Identifier: MIT */
/* test_ratelimit.c - the RateLimit header parsers (every form of the IETF draft, and garbage) and
 * the pacing arithmetic, driven by a made-up clock. */
#include "unit_util.h"

#include "ratelimit.h"

static rl_info parse_rl(const char *v, bool *ok)
{
    rl_info in;

    memset(&in, 0, sizeof(in));
    *ok = rl_parse_ratelimit(v, strlen(v), &in);
    return in;
}

static rl_info parse_pol(const char *v, bool *ok)
{
    rl_info in;

    memset(&in, 0, sizeof(in));
    *ok = rl_parse_policy(v, strlen(v), &in);
    return in;
}

/* ---- RateLimit ---------------------------------------------------------------------------- */

static void test_ratelimit_cloudflare_form(void **state)
{
    bool ok;
    rl_info in = parse_rl("\"default\";r=50;t=30", &ok);

    (void)state;
    assert_true(ok);
    assert_true(in.have_remaining);
    assert_int_equal(in.remaining, 50);
    assert_true(in.have_reset);
    assert_int_equal(in.reset_s, 30);
    assert_false(in.have_policy);
}

static void test_ratelimit_variants(void **state)
{
    bool ok;
    rl_info in;

    (void)state;
    /* a token name, parameters in any order, spaces after ';' and around ',' */
    in = parse_rl("default;t=7; r=0", &ok);
    assert_true(ok);
    assert_int_equal(in.remaining, 0);
    assert_int_equal(in.reset_s, 7);
    /* unknown parameters, a partition key as a byte sequence, a string with an escape */
    in = parse_rl("\"a\\\"b\";pk=:cHJvamVjdDEyMw==:;r=9;t=2;x=?1;y=\"z\"", &ok);
    assert_true(ok);
    assert_int_equal(in.remaining, 9);
    assert_int_equal(in.reset_s, 2);
    /* several policies: the fewest left counts, then the latest reset */
    in = parse_rl("\"burst\";r=40;t=5, \"daily\";r=3;t=3600", &ok);
    assert_true(ok);
    assert_int_equal(in.remaining, 3);
    assert_int_equal(in.reset_s, 3600);
    in = parse_rl("\"a\";r=0;t=5,\"b\";r=0;t=9", &ok);
    assert_true(ok);
    assert_int_equal(in.reset_s, 9);
    /* r without t: known left, reset unknown */
    in = parse_rl("\"default\";r=12", &ok);
    assert_true(ok);
    assert_int_equal(in.remaining, 12);
    assert_false(in.have_reset);
    /* an item without a usable r is skipped, the other counts */
    in = parse_rl("\"x\";t=3, \"y\";r=4;t=1", &ok);
    assert_true(ok);
    assert_int_equal(in.remaining, 4);
    /* the dictionary of drafts 04 to 06 */
    in = parse_rl("limit=100, remaining=50, reset=30", &ok);
    assert_true(ok);
    assert_int_equal(in.remaining, 50);
    assert_int_equal(in.reset_s, 30);
    /* a huge t is capped at a day */
    in = parse_rl("\"d\";r=1;t=999999999", &ok);
    assert_true(ok);
    assert_int_equal(in.reset_s, RL_MAX_SECONDS);
}

static void test_ratelimit_garbage(void **state)
{
    static const char *const bad[] = {
        "",
        "   ",
        "\"default\"",                    /* no r */
        "\"default\";r=-1;t=30",          /* negative */
        "\"default\";r=1.5;t=30",         /* a decimal count */
        "\"default\";r=abc",              /* a token count */
        "\"default\";r;t=3",              /* a boolean count */
        "\"default\";r=1234567890123456", /* 16 digits */
        "\"default\";r=5;t=3,",           /* trailing comma */
        "\"default\" r=5",                /* no ';' */
        "\"unterminated;r=5",
        "\"default\";R=5",        /* keys are lowercase */
        "(\"a\" \"b\");r=1",      /* inner lists are not ours */
        "limit=100, remaining=x", /* the dictionary with a bad value */
        "limit=100, reset=3",     /* the dictionary without remaining */
        "\"default\";r=5;t=3;",   /* ';' with no key */
        "\x01",
    };
    rl_info in;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&in, 0x5a, sizeof(in));
        if (rl_parse_ratelimit(bad[i], strlen(bad[i]), &in))
            fail_msg("accepted garbage #%zu: %s", i, bad[i]);
        /* untouched on failure */
        assert_int_equal(((unsigned char *)&in)[0], 0x5a);
    }
    assert_false(rl_parse_ratelimit(NULL, 0, &in));
}

/* ---- RateLimit-Policy and the single-value headers ---------------------------------------- */

static void test_policy_forms(void **state)
{
    bool ok;
    rl_info in;

    (void)state;
    in = parse_pol("\"default\";q=1200;w=300", &ok);
    assert_true(ok);
    assert_true(in.have_policy);
    assert_int_equal(in.quota, 1200);
    assert_int_equal(in.window_s, 300);
    /* the smallest rate counts: 1000 a day is slower than 100 a minute */
    in = parse_pol("\"burst\";q=100;w=60, \"daily\";q=1000;w=86400", &ok);
    assert_true(ok);
    assert_int_equal(in.quota, 1000);
    assert_int_equal(in.window_s, 86400);
    /* the older form: the quota is the item */
    in = parse_pol("100;w=60", &ok);
    assert_true(ok);
    assert_int_equal(in.quota, 100);
    assert_int_equal(in.window_s, 60);
    in = parse_pol("10;w=1, 500;w=3600;burst=1000", &ok);
    assert_true(ok);
    assert_int_equal(in.quota, 500);
    /* no window: the quota alone */
    in = parse_pol("\"x\";q=20", &ok);
    assert_true(ok);
    assert_int_equal(in.quota, 20);
    assert_int_equal(in.window_s, 0);
    /* garbage */
    assert_false(parse_pol("", &ok).have_policy || ok);
    parse_pol("\"x\";w=60", &ok); /* no quota */
    assert_false(ok);
    parse_pol("\"x\";q=-3;w=60", &ok);
    assert_false(ok);
    parse_pol("\"x\";q=3;w=0", &ok); /* a zero window */
    assert_false(ok);
    parse_pol("\"x\";q=3;w=60 junk", &ok);
    assert_false(ok);
}

static void test_single_value_fields(void **state)
{
    rl_info in;

    (void)state;
    memset(&in, 0, sizeof(in));
    assert_true(rl_parse_field('l', "100", 3, &in));
    assert_true(rl_parse_field('r', " 7 ", 3, &in));
    assert_true(rl_parse_field('t', "30", 2, &in));
    assert_int_equal(in.quota, 100);
    assert_int_equal(in.remaining, 7);
    assert_int_equal(in.reset_s, 30);
    assert_true(rl_parse_field('l', "100, 100;w=60", 13, &in));
    assert_false(rl_parse_field('r', "-1", 2, &in));
    assert_false(rl_parse_field('r', "7x", 2, &in));
    assert_false(rl_parse_field('t', "", 0, &in));
    assert_false(rl_parse_field('t', "Wed, 21 Oct 2015 07:28:00 GMT", 29, &in));
    assert_false(rl_parse_field('z', "1", 1, &in));
}

/* ---- The arithmetic, on a made-up clock --------------------------------------------------- */

static rl_info hdr(int64_t r, int64_t t, int64_t q, int64_t w)
{
    rl_info in;

    memset(&in, 0, sizeof(in));
    in.have_remaining = r >= 0;
    in.remaining = r;
    in.have_reset = t >= 0;
    in.reset_s = t;
    in.have_policy = q >= 0;
    in.quota = q;
    in.window_s = w;
    return in;
}

/* Sends requests as fast as the pacer allows against a server that announces `quota` per
 * `window_s` (a fixed window starting at its first request, like cfemu) and never exceeds it;
 * returns the time of the last answer. Fails if the server would have answered 429. */
static int64_t drive(int n, int64_t quota, int64_t window_s, int64_t *max_in_window)
{
    rl_state s;
    rl_bucket *b;
    int64_t now = 1000000, server_start = -1, server_count = 0;
    uint32_t reason;

    rl_init(&s, 1, 2);
    *max_in_window = 0;
    for (int i = 0; i < n; i++) {
        rl_info in;
        uint64_t w;

        b = rl_bucket_for(&s, "tok", 3, now);
        while ((w = rl_wait_ms(b, now, &reason)) > 0) {
            assert_int_equal(reason, RL_WAIT_QUOTA);
            now += (int64_t)w;
        }
        rl_note_sent(b, now);
        if (server_start < 0 || now >= server_start + window_s * 1000) {
            server_start = now;
            server_count = 0;
        }
        server_count++;
        if (server_count > quota)
            fail_msg("request %d would be the %lld. in a window of %lld", i,
                     (long long)server_count, (long long)quota);
        if (server_count > *max_in_window)
            *max_in_window = server_count;
        now += 5; /* the answer takes 5 ms */
        in = hdr(quota - server_count, (server_start + window_s * 1000 - now + 999) / 1000, quota,
                 window_s);
        rl_note_response(b, now, &in, 200, 0);
    }
    return now;
}

static void test_pacing_never_exceeds_the_quota(void **state)
{
    int64_t most, end;

    (void)state;
    /* 3x the quota: two waits for the reset, never more than 20 in a window */
    end = drive(60, 20, 2, &most);
    assert_int_equal(most, 20);
    assert_true(end - 1000000 >= 4000);        /* two full windows waited */
    assert_true(end - 1000000 <= 4000 + 1000); /* and not much more (margins, 5 ms answers) */
    /* under the quota: no wait at all */
    end = drive(19, 20, 2, &most);
    assert_true(end - 1000000 < 200);
}

static void test_default_policy_without_headers(void **state)
{
    rl_state s;
    rl_bucket *b;
    int64_t now = 5000;
    uint32_t reason;
    uint64_t w;

    (void)state;
    rl_init(&s, 3, 4);
    b = rl_bucket_for(&s, "t", 1, now);
    assert_int_equal(b->quota, RL_DEFAULT_QUOTA);
    for (int i = 0; i < RL_DEFAULT_QUOTA; i++) {
        assert_int_equal(rl_wait_ms(b, now, &reason), 0);
        rl_note_sent(b, now);
        rl_note_response(b, now + 1, NULL, 200, 0);
        now += 10;
    }
    /* the 1201st request in 300 s waits for the end of the window that began at 5000 */
    w = rl_wait_ms(b, now, &reason);
    assert_int_equal(reason, RL_WAIT_QUOTA);
    assert_int_equal((int64_t)w, 5000 + RL_DEFAULT_WINDOW_MS - now);
    now += (int64_t)w;
    assert_int_equal(rl_wait_ms(b, now, &reason), 0);
    assert_int_equal(b->remaining, RL_DEFAULT_QUOTA);
}

static void test_retry_after_blocks_the_token(void **state)
{
    rl_state s;
    rl_bucket *b, *other;
    rl_info in = hdr(1199, 250, 1200, 300);
    uint32_t reason;
    int64_t now = 100;

    (void)state;
    rl_init(&s, 5, 6);
    b = rl_bucket_for(&s, "blocked", 7, now);
    rl_note_sent(b, now);
    rl_note_response(b, now + 3, &in, 429, 1000);
    /* the next request on that token waits Retry-After, whatever the headers said */
    assert_int_equal(rl_wait_ms(b, now + 3, &reason), 1000);
    assert_int_equal(reason, RL_WAIT_RETRY_AFTER);
    assert_int_equal(rl_wait_ms(b, now + 503, &reason), 500);
    /* another token is not blocked */
    other = rl_bucket_for(&s, "other", 5, now);
    assert_ptr_not_equal(other, rl_bucket_for(&s, "blocked", 7, now));
    assert_int_equal(rl_wait_ms(other, now + 3, &reason), 0);
    /* after the block a fresh window */
    b = rl_bucket_for(&s, "blocked", 7, now);
    assert_int_equal(rl_wait_ms(b, now + 1003, &reason), 0);
    assert_int_equal(reason, RL_WAIT_NONE);
    /* a 429 without Retry-After waits for the announced reset */
    in = hdr(0, 7, 1200, 300);
    rl_note_response(b, now + 2000, &in, 429, 0);
    assert_true(rl_wait_ms(b, now + 2000, &reason) >= 7000);
}

/* t is whole seconds: of the answers in one window the earliest reset counts, a later window's
 * reset replaces it. */
static void test_reset_estimate_tightens_within_a_window(void **state)
{
    rl_state s;
    rl_bucket *b;
    rl_info in;
    uint32_t reason;

    (void)state;
    rl_init(&s, 9, 10);
    b = rl_bucket_for(&s, "t", 1, 0);
    /* at 900 ms the server (whole seconds) says 10 s left; at 1010 ms it says 9 s */
    rl_note_sent(b, 890);
    in = hdr(5, 10, 200, 10);
    rl_note_response(b, 900, &in, 200, 0);
    assert_int_equal(b->reset_at_ms, 900 + 10000 + 100);
    rl_note_sent(b, 1000);
    in = hdr(0, 9, 200, 10);
    rl_note_response(b, 1010, &in, 200, 0);
    assert_int_equal(b->reset_at_ms, 1010 + 9000 + 100);
    /* a later answer of the same window that rounds worse does not move it */
    rl_note_sent(b, 1900);
    in = hdr(0, 9, 200, 10);
    rl_note_response(b, 1950, &in, 200, 0);
    assert_int_equal(b->reset_at_ms, 10110);
    assert_int_equal(rl_wait_ms(b, 2000, &reason), 8110);
    /* the next window's reset replaces it */
    in = hdr(199, 10, 200, 10);
    rl_note_response(b, 10200, &in, 200, 0);
    assert_int_equal(b->reset_at_ms, 10200 + 10000 + 100);
}

static void test_slots_and_hash(void **state)
{
    rl_state s;
    rl_bucket *first;
    char tok[16];

    (void)state;
    rl_init(&s, 7, 8);
    /* SipHash-2-4 reference vector: key 00..0f, empty input */
    assert_true(rl_siphash(0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL, "", 0) ==
                0x726fdb47dd0e0e31ULL);
    first = rl_bucket_for(&s, "tok-0", 5, 0);
    rl_note_sent(first, 0);
    for (int i = 1; i <= RL_SLOTS; i++) {
        snprintf(tok, sizeof(tok), "tok-%d", i);
        rl_bucket_for(&s, tok, strlen(tok), i);
    }
    /* the least recently used (tok-0) was dropped: it comes back fresh */
    first = rl_bucket_for(&s, "tok-0", 5, 100);
    assert_int_equal(first->reset_at_ms, 0);
    assert_int_equal(first->remaining, RL_DEFAULT_QUOTA);
    /* no copy of a token anywhere in the state */
    assert_null(memmem(&s, sizeof(s), "tok-", 4));
    rl_wipe(&s);
    for (size_t i = 0; i < sizeof(s); i++)
        assert_int_equal(((unsigned char *)&s)[i], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ratelimit_cloudflare_form),
        cmocka_unit_test(test_ratelimit_variants),
        cmocka_unit_test(test_ratelimit_garbage),
        cmocka_unit_test(test_policy_forms),
        cmocka_unit_test(test_single_value_fields),
        cmocka_unit_test(test_pacing_never_exceeds_the_quota),
        cmocka_unit_test(test_default_policy_without_headers),
        cmocka_unit_test(test_retry_after_blocks_the_token),
        cmocka_unit_test(test_reset_estimate_tightens_within_a_window),
        cmocka_unit_test(test_slots_and_hash),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
