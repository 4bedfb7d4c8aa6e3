/* SPDX-License-Identifier: MIT */
/* test_log.c - the redactor and the logger: known secrets in every encoding, Cloudflare shapes,
 * readable ids, no query strings in log lines, and the call-scoped redaction of error messages
 * (plog_call_begin / plog_redact_error / plog_call_end). */
#include "unit_util.h"

#include "alloc.h"
#include "log.h"

/* Redacts s with the given known secrets; returns a static copy of the result. */
static const char *redact(const char *s, const secret_buf *const *known, size_t nknown)
{
    static char out[4096];
    dynbuf b;

    dynbuf_init(&b, sizeof(out) - 1);
    assert_int_equal(redact_into(&b, s, strlen(s), known, nknown), 0);
    snprintf(out, sizeof(out), "%s", b.data != NULL ? b.data : "");
    dynbuf_free(&b);
    return out;
}

static void known_secrets_are_masked_anywhere(void **state)
{
    secret_buf *a = secret_new("hunter2", 7);
    secret_buf *b = secret_new("s3cr3t.with/odd=chars", 21);
    const secret_buf *known[] = {a, b};

    (void)state;
    assert_string_equal(redact("pw=hunter2;x", known, 2), "pw=[REDACTED];x");
    assert_string_equal(redact("hunter2hunter2", known, 2), "[REDACTED][REDACTED]");
    assert_string_equal(redact("x s3cr3t.with/odd=chars y", known, 2), "x [REDACTED] y");
    assert_string_equal(redact("abchunter2def", known, 2), "abc[REDACTED]def");
    assert_string_equal(redact("nothing here", known, 2), "nothing here");
    secret_free(a);
    secret_free(b);
}

static void cloudflare_secret_shapes_are_masked(void **state)
{
    (void)state;
    assert_string_equal(
        redact("new cfut_AbCd0123456789abcdefABCDEF0123456789abcd12345678 ok", NULL, 0),
        "new [REDACTED] ok");
    assert_string_equal(redact("cfat_short", NULL, 0), "[REDACTED]");
    assert_string_equal(redact("key=cfk_0123456789abcdef0123456789abcdef0", NULL, 0),
                        "key=[REDACTED]");
    /* the scannable tail characters go with the prefix */
    assert_string_equal(redact("v cfut_ab+c/d== end", NULL, 0), "v [REDACTED] end");
    /* legacy 40-char token */
    assert_string_equal(redact("Bearer 8M7wS6hCpXVc-DoRnPPY_UCWPgy8aea4Wy6kCe5T", NULL, 0),
                        "Bearer [REDACTED]");
    /* a 64-hex Access client secret */
    assert_string_equal(
        redact("secret bdd31cbc4dec990953e39163fbbb194c93313ca9f0a6e420346af9d326b1d2a5.", NULL, 0),
        "secret [REDACTED].");
    /* 39 characters are not a secret by shape */
    assert_string_equal(redact("abcdefghijabcdefghijabcdefghijabcdefghi", NULL, 0),
                        "abcdefghijabcdefghijabcdefghijabcdefghi");
}

static void ids_stay_readable(void **state)
{
    static const char *const keep[] = {
        "token ed17574386854bf78a67040be0a770b0 rolled",
        "/accounts/01a7362d577a6c3019a474fd6f485823/tokens/7d3e2c1b0a9f8e7d6c5b4a3928170615",
        "service token f174e90a-fafe-4643-bbbc-4a0ed4fc8415",
        "client id 88bf3b6d86161464f6509f7219099e57.access",
        "client id 88bf3b6d86161464f6509f7219099e57.access.example.com",
        "2018-07-01T05:20:00Z HTTP 403 code 9109",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
        assert_string_equal(redact(keep[i], NULL, 0), keep[i]);
}

static void control_characters_do_not_split_lines(void **state)
{
    (void)state;
    assert_string_equal(redact("a\nb\rc\x1b[0m", NULL, 0), "a b c [0m");
}

static void redact_to_buf_cuts_without_splitting_utf8(void **state)
{
    char out[6];

    (void)state;
    /* "ab" + e-acute (2 bytes) + euro (3 bytes): the euro does not fit in 5 bytes */
    assert_int_equal(redact_to_buf(out, sizeof(out), "ab\xc3\xa9\xe2\x82\xac", 7, NULL, 0), 4);
    assert_string_equal(out, "ab\xc3\xa9");
    assert_int_equal(redact_to_buf(out, sizeof(out), "cfut_x", 6, NULL, 0), 5);
    assert_string_equal(out, "[REDA");
}

static void redact_into_failure_leaves_the_buffer(void **state)
{
    dynbuf b;

    (void)state;
    dynbuf_init(&b, 12);
    dynbuf_adds(&b, "pre:");
    assert_int_equal(redact_into(&b, "cfut_abc and more", 17, NULL, 0), -2);
    assert_string_equal(b.data, "pre:");
    rotp__alloc_fail_at(0);
    dynbuf_free(&b);
}

typedef struct captured {
    int calls;
    int32_t level;
    char line[2048];
} captured;

static void capture(void *user, int32_t level, const char *message, uint64_t len)
{
    captured *c = user;

    c->calls++;
    c->level = level;
    assert_int_equal(strlen(message), len);
    snprintf(c->line, sizeof(c->line), "%s", message);
}

static void logger_filters_redacts_and_delivers(void **state)
{
    captured c = {0};
    rotp_host host = {sizeof(host), ROTP_LOG_INFO, capture, &c};
    secret_buf *mgmt = secret_new("mgmt-token-value", 16);
    plog l;

    (void)state;
    plog_init(&l, &host);
    plog_remember(&l, mgmt);
    plog_write(&l, ROTP_LOG_DEBUG, "too verbose");
    assert_int_equal(c.calls, 0);
    plog_write(&l, ROTP_LOG_INFO, "using %s for %s", mgmt->data,
               "ed17574386854bf78a67040be0a770b0");
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.level, ROTP_LOG_INFO);
    assert_string_equal(c.line, "using [REDACTED] for ed17574386854bf78a67040be0a770b0");
    plog_forget(&l, mgmt);
    assert_int_equal(l.nknown, 0);
    secret_free(mgmt);
    /* silent hosts */
    plog_init(&l, NULL);
    plog_write(&l, ROTP_LOG_ERROR, "nobody listens");
    host.struct_size = offsetof(rotp_host, log); /* too small to carry the callback */
    plog_init(&l, &host);
    plog_write(&l, ROTP_LOG_ERROR, "nobody listens");
    assert_int_equal(c.calls, 1);
}

static void logger_cuts_long_lines_and_works_without_memory(void **state)
{
    captured c = {0};
    rotp_host host = {sizeof(host), ROTP_LOG_DEBUG, capture, &c};
    char big[3000];
    plog l;

    (void)state;
    memset(big, 'a', sizeof(big));
    big[sizeof(big) - 1] = '\0';
    plog_init(&l, &host);
    rotp__alloc_fail_at(1);
    plog_write(&l, ROTP_LOG_WARN, "x %s", big);
    rotp__alloc_fail_at(0);
    assert_int_equal(c.calls, 1);
    assert_true(strlen(c.line) < LOG_LINE_MAX);
    /* the cut run of 'a's was dropped rather than shown */
    assert_string_equal(c.line, "x ");
}

static void remember_keeps_the_newest_when_full(void **state)
{
    secret_buf *s[LOG_MAX_KNOWN + 1];
    plog l;
    size_t i;

    (void)state;
    plog_init(&l, NULL);
    for (i = 0; i <= LOG_MAX_KNOWN; i++) {
        s[i] = secret_new("x", 1);
        plog_remember(&l, s[i]);
    }
    plog_remember(&l, s[LOG_MAX_KNOWN]); /* already there: no duplicate */
    assert_int_equal(l.nknown, LOG_MAX_KNOWN);
    assert_ptr_equal(l.known[0], s[1]);
    assert_ptr_equal(l.known[LOG_MAX_KNOWN - 1], s[LOG_MAX_KNOWN]);
    for (i = 0; i <= LOG_MAX_KNOWN; i++) {
        plog_forget(&l, s[i]);
        secret_free(s[i]);
    }
    assert_int_equal(l.nknown, 0);
}

/* A legacy 40-character token: no prefix, so only knowing it can catch it once a server breaks
 * its run with an escape (issue 9: one percent-encoded character printed the whole token). */
#define LEGACY "8M7wS6hCpXVc-DoRnPPY_UCWPgy8aea4Wy6kCe5T"

static void known_secrets_are_masked_in_every_encoding(void **state)
{
    secret_buf *tok = secret_new(LEGACY, 40);
    secret_buf *odd = secret_new("ab/cd+ef=", 9);
    const secret_buf *known[] = {tok, odd};
    static const char *const quoted[] = {
        "token 8M7wS6hCpXVc%2DDoRnPPY_UCWPgy8aea4Wy6kCe5T is invalid",         /* one char, upper */
        "token 8M7wS6hCpXVc%2dDoRnPPY_UCWPgy8aea4Wy6kCe5T is invalid",         /* one char, lower */
        "token %38%4d7wS6hCpXVc%2DDoRnPPY%5fUCWPgy8aea4Wy6kCe5%54 is invalid", /* a mix */
        "token 8M7wS6hCpXVc%252DDoRnPPY_UCWPgy8aea4Wy6kCe5T is invalid",       /* twice encoded */
        "token 8M7wS6hCpXVc\\u002dDoRnPPY_UCWPgy8aea4Wy6kCe5T is invalid",     /* JSON \\u */
        "token 8M7wS6hCpXVc\\u002DDoRnPPY_UCWPgy8aea4Wy6kCe5T is invalid",     /* JSON \\U */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(quoted) / sizeof(quoted[0]); i++)
        assert_string_equal(redact(quoted[i], known, 2), "token [REDACTED] is invalid");
    assert_string_equal(redact("x ab\\/cd%2Bef%3d y", known, 2), "x [REDACTED] y");
    assert_string_equal(redact("x ab%2Fcd+ef= y", known, 2), "x [REDACTED] y");
    /* without knowing it, the runs the escape leaves are too short for the shape rule */
    assert_string_equal(redact(quoted[0], NULL, 0), quoted[0]);
    /* a near miss stays */
    assert_string_equal(redact("ab/cd+ef", known, 2), "ab/cd+ef");
    /* the start of a secret (12 characters or more), cut by a server, anywhere in the text */
    assert_string_equal(redact("cut: 8M7wS6hCpX%56c-Do (HTTP 403)", known, 2),
                        "cut: [REDACTED] (HTTP 403)");
    assert_string_equal(redact("cut: 8M7wS6hCpXV (HTTP 403)", known, 2),
                        "cut: 8M7wS6hCpXV (HTTP 403)");
    secret_free(tok);
    secret_free(odd);
}

static void log_lines_show_no_query_string(void **state)
{
    captured c = {0};
    rotp_host host = {sizeof(host), ROTP_LOG_DEBUG, capture, &c};
    plog l;

    (void)state;
    plog_init(&l, &host);
    plog_write(&l, ROTP_LOG_DEBUG, "GET %s: HTTP 200",
               "/accounts/01a7362d577a6c3019a474fd6f485823/tokens?page=2&per_page=50&search=ci");
    assert_string_equal(c.line,
                        "GET /accounts/01a7362d577a6c3019a474fd6f485823/tokens?[query]: HTTP 200");
    plog_write(&l, ROTP_LOG_DEBUG, "probe GET https://h.example/p?one=1 answered 200");
    assert_string_equal(c.line, "probe GET https://h.example/p?[query] answered 200");
    /* a question in prose is not a query */
    plog_write(&l, ROTP_LOG_DEBUG, "is it gone? yes. why?");
    assert_string_equal(c.line, "is it gone? yes. why?");
}

static rotp_param mkparam(const char *key, const char *value, uint32_t flags)
{
    rotp_param p = {sizeof(rotp_param), flags, key, value, strlen(value)};

    return p;
}

static void error_messages_are_redacted_against_the_call(void **state)
{
    rotp_param items[] = {mkparam("kind", "cloudflare.user_token", 0),
                          mkparam("secret", "s3cr3t-of-the-call-0123", ROTP_PARAM_SECRET),
                          mkparam("name", "s3cr3t-of-the-call-0123", 0)};
    rotp_params req = {sizeof(req), 3, items};
    secret_buf *mgmt = secret_new(LEGACY, 40);
    secret_buf *fresh = secret_new("freshly-rolled-value-99", 23);
    rotp_error err;
    plog l;

    (void)state;
    plog_init(&l, NULL);
    plog_remember(&l, mgmt);
    plog_call_begin(&l, &req);
    assert_int_equal(l.ncall, 1); /* only the value flagged secret */
    plog_remember(&l, fresh);
    plog_forget(&l, fresh); /* the adapter let go of it before the call ended */
    secret_free(fresh);
    memset(&err, 0, sizeof(err));
    err.struct_size = sizeof(err);
    snprintf(err.message, sizeof(err.message),
             "server said: bad token 8M7wS6hCpXVc%%2dDoRnPPY_UCWPgy8aea4Wy6kCe5T, secret "
             "s3cr3t-of-the-call-0123, new freshly%%2Drolled-value-99");
    plog_redact_error(&l, &err);
    assert_string_equal(err.message,
                        "server said: bad token [REDACTED], secret [REDACTED], new [REDACTED]");
    /* a message cut inside a secret loses the part that is there */
    snprintf(err.message, sizeof(err.message), "quoted: s3cr3t-of-t");
    plog_redact_error(&l, &err);
    assert_string_equal(err.message, "quoted: [REDACTED]");
    snprintf(err.message, sizeof(err.message), "ends with s3cr3"); /* 5 bytes: too little */
    plog_redact_error(&l, &err);
    assert_string_equal(err.message, "ends with s3cr3");
    plog_call_end(&l);
    assert_int_equal(l.nretired, 0);
    assert_int_equal(l.ncall, 0);
    /* after the call only what is still registered is known */
    snprintf(err.message, sizeof(err.message), "s3cr3t-of-the-call-0123 and " LEGACY);
    plog_redact_error(&l, &err);
    assert_string_equal(err.message, "s3cr3t-of-the-call-0123 and [REDACTED]");
    plog_forget(&l, mgmt);
    secret_free(mgmt);
}

static void forgetting_outside_a_call_keeps_no_copy(void **state)
{
    secret_buf *s = secret_new("abcdefgh", 8);
    plog l;

    (void)state;
    plog_init(&l, NULL);
    plog_remember(&l, s);
    plog_forget(&l, s);
    assert_int_equal(l.nretired, 0);
    secret_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_secrets_are_masked_anywhere),
        cmocka_unit_test(cloudflare_secret_shapes_are_masked),
        cmocka_unit_test(ids_stay_readable),
        cmocka_unit_test(control_characters_do_not_split_lines),
        cmocka_unit_test(redact_to_buf_cuts_without_splitting_utf8),
        cmocka_unit_test(redact_into_failure_leaves_the_buffer),
        cmocka_unit_test(logger_filters_redacts_and_delivers),
        cmocka_unit_test(logger_cuts_long_lines_and_works_without_memory),
        cmocka_unit_test(remember_keeps_the_newest_when_full),
        cmocka_unit_test(known_secrets_are_masked_in_every_encoding),
        cmocka_unit_test(log_lines_show_no_query_string),
        cmocka_unit_test(error_messages_are_redacted_against_the_call),
        cmocka_unit_test(forgetting_outside_a_call_keeps_no_copy),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
