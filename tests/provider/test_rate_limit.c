/* SPDX-License-Identifier: MIT */
/* test_rate_limit.c - the provider respects the rate limit cfemu announces instead of discovering
 * it (issue 12, item 4, provider side), against a private cfemu with a small window
 * (--rate-limit 20/2) over TLS:
 *
 *  - one instance sending 3x the quota gets zero 429s (cfemu's /__cfemu/stats), waits for the
 *    window (a lower bound only: timings belong in benchmarks), logs each wait at INFO and tells
 *    the host's wait callback (ABI 1.2) with the limit it read from the headers;
 *  - after a 429, the next request on that token waits Retry-After; an idempotent call retries
 *    after it, a state-changing one is not retried;
 *  - a wait over max_wait_seconds, or one the host stops, fails RATE_LIMITED and sends nothing;
 *  - the backoff before retrying a 5xx is told to the host too, and stopping it keeps the 5xx. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "pt.h"

#define USER "cloudflare.user_token"

static pt_env g_env;

/* What the host saw: INFO lines about waits, and the wait callback's calls. */
typedef struct seen {
    int info_waits;   /* INFO lines "waiting N ms for the rate limit of the management token" */
    int waits_begun;  /* callback calls with left_ms == wait_ms */
    int waits_ended;  /* callback calls with left_ms == 0 */
    uint32_t reasons; /* 1 << reason of every wait */
    int64_t limit, window_ms;
    int stop; /* non-zero: the callback stops every wait */
} seen;

static void on_log(void *user, int32_t level, const char *msg, uint64_t len)
{
    seen *s = user;

    (void)len;
    if (level == ROTP_LOG_INFO && strstr(msg, ": waiting ") != NULL &&
        strstr(msg, " ms for the rate limit of the management token") != NULL)
        s->info_waits++;
}

static int32_t on_wait(void *user, const rotp_wait_info *w)
{
    seen *s = user;

    assert_true(w->struct_size >= sizeof(rotp_wait_info));
    assert_non_null(w->credential);
    assert_non_null(w->request);
    assert_null(strchr(w->request, '?'));
    if (w->left_ms == w->wait_ms) {
        s->waits_begun++;
        s->reasons |= 1u << w->reason;
        s->limit = w->limit;
        s->window_ms = w->window_ms;
    }
    if (w->left_ms == 0)
        s->waits_ended++;
    return s->stop;
}

/* Opens an instance on cfemu whose host logs at INFO into s and whose wait callback is on_wait;
 * max_wait_seconds as given (NULL: the default). */
static rotp_instance *open_seen(seen *s, const char *max_wait, int max_retries)
{
    const rotp_provider *p = pt_provider();
    const char *tok = pt_cred(&g_env, "CFEMU_TOKEN_MGMT_VALUE");
    char retries[16];
    rotp_param cfg[] = {
        {sizeof(rotp_param), ROTP_PARAM_SECRET, "api_token", tok, strlen(tok)},
        {sizeof(rotp_param), 0, "api_base", g_env.fx.api_base, strlen(g_env.fx.api_base)},
        {sizeof(rotp_param), 0, "ca_file", g_env.fx.ca_file, strlen(g_env.fx.ca_file)},
        {sizeof(rotp_param), 0, "max_retries", retries, 0},
        {sizeof(rotp_param), 0, "max_wait_seconds", max_wait, max_wait ? strlen(max_wait) : 0},
    };
    rotp_params config = {sizeof(config), max_wait != NULL ? 5 : 4, cfg};
    rotp_host host;
    rotp_instance *inst = NULL;
    rotp_error err;

    memset(&host, 0, sizeof(host));
    host.struct_size = sizeof(host);
    host.log_level = ROTP_LOG_INFO;
    host.log = on_log;
    host.log_user = s;
    snprintf(retries, sizeof(retries), "%d", max_retries);
    cfg[3].value_len = strlen(retries);
    memset(&err, 0, sizeof(err));
    err.struct_size = sizeof(err);
    if (p->open(&host, &config, &inst, &err) != ROTP_E_OK)
        fail_msg("open: %s", err.message);
    assert_true(ROTP_HAS_FIELD(p, rotp_provider, set_wait));
    assert_int_equal(p->set_wait(inst, on_wait, s), ROTP_E_OK);
    return inst;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A counter of GET /__cfemu/stats ("requests", "rate_limited"). */
static long stat_of(const char *key)
{
    char *body = NULL;
    json_doc d;
    int64_t v = -1;

    assert_int_equal(cfemu_ctl(&g_env.fx, "GET", "/__cfemu/stats", NULL, &body), 200);
    assert_int_equal(json_parse(&d, body, strlen(body)), JSON_OK);
    assert_int_equal(json_get_int64(&d, json_get(&d, json_get(&d, 0, "result"), key), &v), 0);
    json_free(&d);
    free(body);
    return (long)v;
}

/* describe of the management token itself: one GET per call. */
static int32_t describe_mgmt(rotp_instance *inst, pt_out *o)
{
    *o = pt_call(inst, "describe", USER, "id", pt_cred(&g_env, "CFEMU_TOKEN_MGMT_ID"), NULL);
    return o->rc;
}

static void test_three_times_the_quota_without_a_429(void **state)
{
    seen s = {0};
    rotp_instance *inst = open_seen(&s, NULL, 3);
    int64_t t0;
    long before;
    pt_out o;

    (void)state;
    before = stat_of("requests");
    t0 = now_ms();
    for (int i = 0; i < 60; i++) {
        if (describe_mgmt(inst, &o) != ROTP_E_OK)
            fail_msg("call %d: %s", i, o.err.message);
        pt_free(&o);
    }
    /* every request went out, none was refused */
    assert_true(stat_of("requests") - before >= 60);
    assert_int_equal(stat_of("rate_limited"), 0);
    /* 60 requests at 20 per 2 s need at least two resets of cfemu's whole-second window:
     * more than 3 s after the first request; 2.5 s proves the waits without timing them */
    assert_true(now_ms() - t0 >= 2500);
    /* each wait was logged at INFO and told to the host, with the limit cfemu announced */
    assert_true(s.info_waits >= 2);
    assert_true(s.waits_begun >= 2);
    assert_int_equal(s.waits_begun, s.waits_ended);
    assert_int_equal(s.reasons, 1u << ROTP_WAIT_RATE_LIMIT);
    assert_int_equal(s.limit, 20);
    assert_int_equal(s.window_ms, 2000);
    pt_provider()->close(inst);
}

static void test_after_a_429_the_next_request_waits_retry_after(void **state)
{
    seen s = {0};
    rotp_instance *inst = open_seen(&s, NULL, 0);
    int64_t t0;
    pt_out o;

    (void)state;
    /* a 429 with Retry-After: 1 on a read that is not retried (max_retries 0) */
    pt_fault(&g_env, "GET", "*/user/tokens/*", "rate_limit", 0, 1, 0);
    assert_int_equal(describe_mgmt(inst, &o), ROTP_E_RATE_LIMITED);
    assert_int_equal(o.err.http_status, 429);
    assert_int_equal(o.err.retry_after_ms, 1000);
    pt_free(&o);
    /* the next request on that token waits the second out first */
    pt_log_clear(&g_env);
    t0 = now_ms();
    assert_int_equal(describe_mgmt(inst, &o), ROTP_E_OK);
    pt_free(&o);
    assert_true(now_ms() - t0 >= 900);
    assert_int_equal(s.reasons, 1u << ROTP_WAIT_RETRY_AFTER);
    assert_int_equal(s.info_waits, 1);
    assert_int_equal(pt_log_failures(&g_env), 0);
    pt_provider()->close(inst);
}

static void test_idempotent_retries_after_retry_after_changes_do_not(void **state)
{
    seen s = {0};
    rotp_instance *inst = open_seen(&s, NULL, 3);
    int64_t t0;
    pt_out o;

    (void)state;
    /* a read retries after Retry-After and succeeds: two GETs, one wait */
    pt_log_clear(&g_env);
    pt_fault(&g_env, "GET", "*/user/tokens/*", "rate_limit", 0, 1, 0);
    t0 = now_ms();
    assert_int_equal(describe_mgmt(inst, &o), ROTP_E_OK);
    pt_free(&o);
    assert_true(now_ms() - t0 >= 900);
    assert_int_equal(pt_log_count(&g_env, "GET", "/user/tokens/"), 2);
    assert_int_equal(s.waits_begun, 1);
    /* a state change answered 429 is not retried, and the token waits before its next request */
    pt_log_clear(&g_env);
    pt_fault(&g_env, "PUT", "*/value", "rate_limit", 0, 1, 0);
    o = pt_call(inst, "roll", USER, "id", pt_cred(&g_env, "CFEMU_TOKEN_MGMT_ID"), "allow_self_roll",
                "1", NULL);
    assert_int_equal(o.rc, ROTP_E_RATE_LIMITED);
    assert_int_equal(o.err.flags & ROTP_ERRF_REQUEST_SENT, ROTP_ERRF_REQUEST_SENT);
    pt_free(&o);
    assert_int_equal(pt_log_count(&g_env, "PUT", "/value"), 1);
    t0 = now_ms();
    assert_int_equal(describe_mgmt(inst, &o), ROTP_E_OK);
    pt_free(&o);
    assert_true(now_ms() - t0 >= 900);
    pt_provider()->close(inst);
}

static void test_waits_over_the_cap_or_stopped_send_nothing(void **state)
{
    seen s = {0};
    rotp_instance *inst = open_seen(&s, "0", 0);
    pt_out o;

    (void)state;
    /* max_wait_seconds 0: after the 429, the next request fails at once, unsent */
    pt_fault(&g_env, "GET", "*/user/tokens/*", "rate_limit", 0, 1, 0);
    assert_int_equal(describe_mgmt(inst, &o), ROTP_E_RATE_LIMITED);
    pt_free(&o);
    pt_log_clear(&g_env);
    assert_int_equal(describe_mgmt(inst, &o), ROTP_E_RATE_LIMITED);
    assert_int_equal(o.err.http_status, 0);
    assert_int_equal(o.err.retryable, 1);
    assert_true(o.err.retry_after_ms > 0 && o.err.retry_after_ms <= 1000);
    assert_int_equal(o.err.flags & ROTP_ERRF_REQUEST_SENT, 0);
    if (strstr(o.err.message, "max_wait_seconds") == NULL)
        fail_msg("message: %s", o.err.message);
    assert_non_null(strstr(o.err.message, "nothing was sent"));
    pt_free(&o);
    assert_int_equal(pt_log_count(&g_env, NULL, NULL), 0);
    assert_int_equal(s.waits_begun, 0);
    pt_provider()->close(inst);

    /* a host that stops the wait: RATE_LIMITED, nothing sent */
    memset(&s, 0, sizeof(s));
    s.stop = 1;
    inst = open_seen(&s, NULL, 0);
    pt_fault(&g_env, "GET", "*/user/tokens/*", "rate_limit", 0, 1, 0);
    assert_int_equal(describe_mgmt(inst, &o), ROTP_E_RATE_LIMITED);
    pt_free(&o);
    pt_log_clear(&g_env);
    assert_int_equal(describe_mgmt(inst, &o), ROTP_E_RATE_LIMITED);
    assert_non_null(strstr(o.err.message, "stopped"));
    pt_free(&o);
    assert_int_equal(s.waits_begun, 1);
    assert_int_equal(pt_log_count(&g_env, NULL, NULL), 0);
    pt_provider()->close(inst);
}

static void test_backoff_waits_are_told_and_can_be_stopped(void **state)
{
    seen s = {0};
    rotp_instance *inst = open_seen(&s, NULL, 3);
    pt_out o;

    (void)state;
    pt_fault(&g_env, "GET", "*/user/tokens/*", "status", 503, 1, 0);
    assert_int_equal(describe_mgmt(inst, &o), ROTP_E_OK);
    pt_free(&o);
    assert_int_equal(s.reasons, 1u << ROTP_WAIT_BACKOFF);
    assert_int_equal(s.waits_begun, 1);
    assert_int_equal(s.waits_ended, 1);
    assert_int_equal(s.limit, -1);
    assert_int_equal(s.window_ms, -1);
    pt_provider()->close(inst);

    /* the host stops the backoff: no retry, the 503 stands */
    memset(&s, 0, sizeof(s));
    s.stop = 1;
    inst = open_seen(&s, NULL, 3);
    pt_fault(&g_env, "GET", "*/user/tokens/*", "status", 503, 1, 0);
    pt_log_clear(&g_env);
    assert_int_equal(describe_mgmt(inst, &o), ROTP_E_TRANSIENT);
    assert_int_equal(o.err.http_status, 503);
    pt_free(&o);
    assert_int_equal(pt_log_count(&g_env, "GET", NULL), 1);
    pt_provider()->close(inst);
}

static int setup(void **state)
{
    static const char *const args[] = {"--rate-limit", "20/2", "--rate-limit-block", "5", NULL};

    (void)state;
    pt_start(&g_env, args);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pt_stop(&g_env);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_three_times_the_quota_without_a_429, setup, teardown),
        cmocka_unit_test_setup_teardown(test_after_a_429_the_next_request_waits_retry_after, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_idempotent_retries_after_retry_after_changes_do_not,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_waits_over_the_cap_or_stopped_send_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_backoff_waits_are_told_and_can_be_stopped, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
