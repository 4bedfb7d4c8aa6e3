/* SPDX-License-Identifier: MIT */
/* test_cfemu_tokens.c - cfemu's user and account-owned API-token endpoints and its
 * Cloudflare-like authorization, over TLS with libcurl verifying cfemu's generated CA.
 *
 * One private cfemu (built-in seed, generous rate limit so the quota tests do not hit it) serves
 * the group; each test makes its own tokens. cfemu's clock only moves forward. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cfemu_fixture.h"
#include "cfemu_test_http.h"
#include "ids.h"
#include "timefmt.h"

static cfemu_fx g_fx;
/* cmocka ignores a failing group teardown in its exit status; cfemu's exit status (0 = clean
 * SIGTERM exit, and under ASan no leak) must fail the run, so main() adds this. */
static int g_teardown_failed;

static struct {
    char *mgmt;     /* MGMT: API Tokens Write, Account API Tokens Write, Access Write */
    char *readonly; /* READONLY: Zone Read only */
    char *ci;       /* CI_READONLY: account-owned, Zone Read */
    char *user, *account, *zone;
} g;

static const char *zone_read_policies(void)
{
    static char p[400];

    snprintf(p, sizeof(p),
             "[{\"effect\":\"allow\",\"permission_groups\":[{\"id\":"
             "\"c8fed203ed3043cba015a93ad1616f1f\"}],\"resources\":"
             "{\"com.cloudflare.api.account.zone.%s\":\"*\"}}]",
             g.zone);
    return p;
}

/* Creates a token in base ("/user/tokens" or "/accounts/<a>/tokens") with extra JSON members
 * (may be ""). Returns the id into id[33] and the value (malloc'd) into *value if non-NULL. */
static void create(const char *base, const char *name, const char *policies, const char *extra,
                   char *id, char **value)
{
    char body[2048];
    th_resp r;
    char *s;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"policies\":%s%s}", name,
             policies != NULL ? policies : zone_read_policies(), extra);
    r = th_api(&g_fx, "POST", g.mgmt, body, "%s", base);
    TH_EXPECT(r, 200, -1);
    s = th_str(&r, "result.id");
    assert_non_null(s);
    assert_true(id_is_hex32(s, strlen(s)));
    strcpy(id, s);
    free(s);
    if (value != NULL) {
        *value = th_str(&r, "result.value");
        assert_non_null(*value);
    }
    th_free(&r);
}

static char *user_base(void)
{
    return "/user/tokens";
}

static char *account_base(void)
{
    static char b[80];

    snprintf(b, sizeof(b), "/accounts/%s/tokens", g.account);
    return b;
}

static int group_setup(void **state)
{
    static const char *const args[] = {"--rate-limit", "100000/300", NULL};

    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (cfemu_start(&g_fx, NULL, args) != 0)
        return -1;
    g.mgmt = th_cred(&g_fx, "CFEMU_TOKEN_MGMT_VALUE");
    g.readonly = th_cred(&g_fx, "CFEMU_TOKEN_READONLY_VALUE");
    g.ci = th_cred(&g_fx, "CFEMU_TOKEN_CI_READONLY_VALUE");
    g.user = th_cred(&g_fx, "CFEMU_USER_ID");
    g.account = th_cred(&g_fx, "CFEMU_ACCOUNT_ID");
    g.zone = th_cred(&g_fx, "CFEMU_ZONE_ID");
    if (g.mgmt == NULL || g.readonly == NULL || g.ci == NULL || g.user == NULL ||
        g.account == NULL || g.zone == NULL) {
        fprintf(stderr, "creds file incomplete\n");
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    int rc;

    (void)state;
    rc = cfemu_stop(&g_fx);
    th_wipe_free(g.mgmt);
    th_wipe_free(g.readonly);
    th_wipe_free(g.ci);
    free(g.user);
    free(g.account);
    free(g.zone);
    if (th_curl != NULL)
        curl_easy_cleanup(th_curl);
    curl_global_cleanup();
    if (rc != 0) {
        fprintf(stderr, "cfemu exit status %d (want 0: clean SIGTERM exit)\n", rc);
        g_teardown_failed = 1;
    }
    return rc == 0 ? 0 : -1;
}

/* --- tests --------------------------------------------------------------------------------- */

/* Create shows the cfut_ value once (cfut_ + 40 base62 + 8 hex); get and list never do. */
static void test_value_only_on_create(void **state)
{
    char id[33];
    char *value = NULL;
    th_resp r;

    (void)state;
    create(user_base(), "once", NULL, "", id, &value);
    assert_int_equal(strlen(value), 53);
    assert_memory_equal(value, "cfut_", 5);
    for (size_t i = 5; i < 45; i++)
        assert_true(isalnum((unsigned char)value[i]));
    for (size_t i = 45; i < 53; i++)
        assert_true(isxdigit((unsigned char)value[i]) && !isupper((unsigned char)value[i]));
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/%s", id);
    TH_EXPECT(r, 200, -1);
    assert_null(strstr(r.body, value));
    assert_int_equal(th_tok(&r, "result.value"), -1);
    assert_true(th_tok(&r, "result.policies.0.permission_groups.0.id") >= 0);
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens?per_page=50");
    TH_EXPECT(r, 200, -1);
    assert_null(strstr(r.body, value));
    assert_null(strstr(r.body, "\"value\""));
    th_free(&r);
    th_wipe_free(value);
}

/* Roll: bare-string result, the old value dies at once, id/name/policies/not_before/expires_on
 * stay, modified_on moves. */
static void test_roll_kills_old_value(void **state)
{
    char id[33], extra[200], nb[RFC3339_LEN], ex[RFC3339_LEN];
    char *old = NULL, *nv, *before_pol, *after_pol, *m1, *m2;
    int64_t now = th_now(&g_fx);
    th_resp r;

    (void)state;
    rfc3339_format(now - 60, nb, sizeof(nb));
    rfc3339_format(now + 86400 * 30, ex, sizeof(ex));
    snprintf(extra, sizeof(extra), ",\"not_before\":\"%s\",\"expires_on\":\"%s\"", nb, ex);
    create(user_base(), "rollme", NULL, extra, id, &old);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/%s", id);
    TH_EXPECT(r, 200, -1);
    before_pol = th_str(&r, "result.policies.0.id");
    m1 = th_str(&r, "result.modified_on");
    th_free(&r);
    assert_int_equal(cfemu_clock_advance(&g_fx, 5), 0);

    r = th_api(&g_fx, "PUT", g.mgmt, "{}", "/user/tokens/%s/value", id);
    TH_EXPECT(r, 200, -1);
    assert_true(json_is_string(&r.doc, th_tok(&r, "result")));
    nv = th_str(&r, "result");
    th_free(&r);
    assert_non_null(nv);
    assert_memory_equal(nv, "cfut_", 5);
    assert_string_not_equal(nv, old);

    r = th_api(&g_fx, "GET", old, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 401, 1000);
    th_free(&r);
    r = th_api(&g_fx, "GET", nv, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 200, -1);
    th_free(&r);

    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/%s", id);
    TH_EXPECT(r, 200, -1);
    {
        char *rid = th_str(&r, "result.id"), *name = th_str(&r, "result.name");
        char *rnb = th_str(&r, "result.not_before"), *rex = th_str(&r, "result.expires_on");

        after_pol = th_str(&r, "result.policies.0.id");
        m2 = th_str(&r, "result.modified_on");
        assert_string_equal(rid, id);
        assert_string_equal(name, "rollme");
        assert_string_equal(rnb, nb);
        assert_string_equal(rex, ex);
        assert_string_equal(before_pol, after_pol);
        assert_string_not_equal(m1, m2);
        free(rid);
        free(name);
        free(rnb);
        free(rex);
    }
    th_free(&r);
    free(before_pol);
    free(after_pol);
    free(m1);
    free(m2);
    th_wipe_free(old);
    th_wipe_free(nv);
}

/* A token with API Tokens Write can find its own id through verify and roll itself. */
static void test_self_roll(void **state)
{
    char id[33], pol[600];
    char *v1 = NULL, *vid, *v2;
    th_resp r;

    (void)state;
    snprintf(pol, sizeof(pol),
             "[{\"effect\":\"allow\",\"permission_groups\":[{\"id\":"
             "\"686d18d5ac6c441c867cbf6771e58a0a\"}],\"resources\":"
             "{\"com.cloudflare.api.user.%s\":\"*\"}}]",
             g.user);
    create(user_base(), "self", pol, "", id, &v1);
    r = th_api(&g_fx, "GET", v1, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 200, -1);
    vid = th_str(&r, "result.id");
    assert_string_equal(vid, id);
    th_free(&r);
    r = th_api(&g_fx, "PUT", v1, "{}", "/user/tokens/%s/value", vid);
    TH_EXPECT(r, 200, -1);
    v2 = th_str(&r, "result");
    th_free(&r);
    r = th_api(&g_fx, "GET", v2, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 200, -1);
    th_free(&r);
    r = th_api(&g_fx, "GET", v1, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 401, 1000);
    th_free(&r);
    free(vid);
    th_wipe_free(v1);
    th_wipe_free(v2);
}

/* Verify: success shape and message 10000; 1001, 6003/6111, 1000 for missing, malformed and
 * unknown/deleted values. */
static void test_verify_codes(void **state)
{
    char id[33];
    char *v = NULL, *msg, *chain;
    th_resp r;

    (void)state;
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 200, -1);
    assert_int_equal(th_int(&r, "messages.0.code"), 10000);
    msg = th_str(&r, "messages.0.message");
    assert_string_equal(msg, "This API Token is valid and active");
    free(msg);
    assert_true(json_is_null(&r.doc, th_tok(&r, "messages.0.type")));
    assert_int_equal(th_tok(&r, "result.expires_on"), -1); /* left out when unset */
    msg = th_str(&r, "result.status");
    assert_string_equal(msg, "active");
    free(msg);
    th_free(&r);

    r = th_api(&g_fx, "GET", NULL, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 400, 1001);
    msg = th_str(&r, "errors.0.message");
    assert_string_equal(msg, "Missing \"Authorization\" header");
    free(msg);
    th_free(&r);

    r = th_call_full(&g_fx, "GET", "/client/v4/user/tokens/verify", "Bearer abc def", NULL, NULL,
                     0);
    TH_EXPECT(r, 400, 6003);
    assert_int_equal(th_int(&r, "errors.0.error_chain.0.code"), 6111);
    chain = th_str(&r, "errors.0.error_chain.0.message");
    assert_string_equal(chain, "Invalid format for Authorization header");
    free(chain);
    th_free(&r);
    /* A 37-character Global API key sent as a bearer is malformed too. */
    r = th_api(&g_fx, "GET", "0123456789abcdef0123456789abcdef01234", NULL, "/user/tokens/verify");
    TH_EXPECT(r, 400, 6003);
    th_free(&r);

    r = th_api(&g_fx, "GET", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL,
               "/user/tokens/verify");
    TH_EXPECT(r, 401, 1000);
    msg = th_str(&r, "errors.0.message");
    assert_string_equal(msg, "Invalid API Token");
    free(msg);
    th_free(&r);

    create(user_base(), "deleted", NULL, "", id, &v);
    r = th_api(&g_fx, "DELETE", g.mgmt, NULL, "/user/tokens/%s", id);
    TH_EXPECT(r, 200, -1);
    th_free(&r);
    r = th_api(&g_fx, "GET", v, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 401, 1000);
    th_free(&r);
    th_wipe_free(v);
}

/* Account tokens verify only at their account; the user endpoint refuses them and vice versa. */
static void test_verify_cross_rejection(void **state)
{
    char id[33];
    char *av = NULL, *prefix_ok;
    th_resp r;

    (void)state;
    create(account_base(), "acct", NULL, "", id, &av);
    prefix_ok = strncmp(av, "cfat_", 5) == 0 ? av : NULL;
    assert_non_null(prefix_ok);
    r = th_api(&g_fx, "GET", av, NULL, "/accounts/%s/tokens/verify", g.account);
    TH_EXPECT(r, 200, -1);
    th_free(&r);
    r = th_api(&g_fx, "GET", av, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 401, 1000);
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/accounts/%s/tokens/verify", g.account);
    TH_EXPECT(r, 401, 1000);
    th_free(&r);
    r = th_api(&g_fx, "GET", g.ci, NULL, "/accounts/%s/tokens/verify", g.account);
    TH_EXPECT(r, 200, -1);
    th_free(&r);
    /* An account token at another account's verify endpoint. */
    r = th_api(&g_fx, "GET", av, NULL, "/accounts/%s/tokens/verify",
               "0123456789abcdef0123456789abcdef");
    TH_EXPECT(r, 401, 1000);
    th_free(&r);
    th_wipe_free(av);
}

/* The account family: list, get, update, roll (cfat_), delete. */
static void test_account_token_lifecycle(void **state)
{
    char id[33], body[1024];
    char *v = NULL, *nv, *name;
    th_resp r;

    (void)state;
    create(account_base(), "acct-life", NULL, "", id, &v);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/accounts/%s/tokens?per_page=50", g.account);
    TH_EXPECT(r, 200, -1);
    assert_non_null(strstr(r.body, id));
    th_free(&r);
    /* The user family does not see account tokens. */
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/%s", id);
    TH_EXPECT(r, 404, 7003);
    th_free(&r);
    snprintf(body, sizeof(body), "{\"name\":\"acct-life-2\",\"policies\":%s,\"status\":\"active\"}",
             zone_read_policies());
    r = th_api(&g_fx, "PUT", g.mgmt, body, "/accounts/%s/tokens/%s", g.account, id);
    TH_EXPECT(r, 200, -1);
    name = th_str(&r, "result.name");
    assert_string_equal(name, "acct-life-2");
    free(name);
    th_free(&r);
    r = th_api(&g_fx, "PUT", g.mgmt, "{}", "/accounts/%s/tokens/%s/value", g.account, id);
    TH_EXPECT(r, 200, -1);
    nv = th_str(&r, "result");
    assert_memory_equal(nv, "cfat_", 5);
    th_free(&r);
    r = th_api(&g_fx, "GET", v, NULL, "/accounts/%s/tokens/verify", g.account);
    TH_EXPECT(r, 401, 1000);
    th_free(&r);
    r = th_api(&g_fx, "DELETE", g.mgmt, NULL, "/accounts/%s/tokens/%s", g.account, id);
    TH_EXPECT(r, 200, -1);
    name = th_str(&r, "result.id");
    assert_string_equal(name, id);
    free(name);
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/accounts/%s/tokens/%s", g.account, id);
    TH_EXPECT(r, 404, 7003);
    th_free(&r);
    r = th_api(&g_fx, "DELETE", g.mgmt, NULL, "/accounts/%s/tokens/%s", g.account, id);
    TH_EXPECT(r, 404, 7003);
    th_free(&r);
    th_wipe_free(v);
    th_wipe_free(nv);
}

/* PUT replaces the token; a disabled token fails verify; re-enabling restores it. */
static void test_update_disable_enable(void **state)
{
    char id[33], body[1024];
    char *v = NULL, *st;
    th_resp r;

    (void)state;
    create(user_base(), "toggle", NULL, "", id, &v);
    snprintf(body, sizeof(body), "{\"name\":\"toggle\",\"policies\":%s,\"status\":\"disabled\"}",
             zone_read_policies());
    r = th_api(&g_fx, "PUT", g.mgmt, body, "/user/tokens/%s", id);
    TH_EXPECT(r, 200, -1);
    st = th_str(&r, "result.status");
    assert_string_equal(st, "disabled");
    free(st);
    th_free(&r);
    r = th_api(&g_fx, "GET", v, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 401, 1000);
    th_free(&r);
    snprintf(body, sizeof(body), "{\"name\":\"toggle\",\"policies\":%s,\"status\":\"active\"}",
             zone_read_policies());
    r = th_api(&g_fx, "PUT", g.mgmt, body, "/user/tokens/%s", id);
    TH_EXPECT(r, 200, -1);
    th_free(&r);
    r = th_api(&g_fx, "GET", v, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 200, -1);
    th_free(&r);
    /* name and policies are required; a bad group id is refused. */
    r = th_api(&g_fx, "PUT", g.mgmt, "{\"status\":\"active\"}", "/user/tokens/%s", id);
    TH_EXPECT(r, 400, 1002);
    th_free(&r);
    r = th_api(&g_fx, "POST", g.mgmt,
               "{\"name\":\"x\",\"policies\":[{\"effect\":\"allow\",\"permission_groups\":"
               "[{\"id\":\"00000000000000000000000000000000\"}],\"resources\":{\"a\":\"*\"}}]}",
               "/user/tokens");
    TH_EXPECT(r, 400, 1001); /* an unknown permission group (test_permission_catalogue) */
    th_free(&r);
    r = th_api(&g_fx, "POST", g.mgmt, "{\"policies\":[]}", "/user/tokens");
    TH_EXPECT(r, 400, 1002);
    th_free(&r);
    th_wipe_free(v);
}

/* not_before and expires_on are enforced against cfemu's clock; expired tokens leave the list
 * unless include_expired=true. */
static void test_validity_window_via_clock(void **state)
{
    char id[33], extra[200], nb[RFC3339_LEN], ex[RFC3339_LEN];
    char *v = NULL, *st;
    int64_t now = th_now(&g_fx);
    th_resp r;

    (void)state;
    rfc3339_format(now + 3600, nb, sizeof(nb));
    rfc3339_format(now + 7200, ex, sizeof(ex));
    snprintf(extra, sizeof(extra), ",\"not_before\":\"%s\",\"expires_on\":\"%s\"", nb, ex);
    create(user_base(), "window", NULL, extra, id, &v);
    r = th_api(&g_fx, "GET", v, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 401, 1000);
    th_free(&r);
    assert_int_equal(cfemu_clock_advance(&g_fx, 3601), 0);
    r = th_api(&g_fx, "GET", v, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 200, -1);
    st = th_str(&r, "result.expires_on");
    assert_string_equal(st, ex);
    free(st);
    th_free(&r);
    assert_int_equal(cfemu_clock_advance(&g_fx, 3600), 0);
    r = th_api(&g_fx, "GET", v, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 401, 1000);
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens?per_page=50");
    TH_EXPECT(r, 200, -1);
    assert_null(strstr(r.body, id));
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens?per_page=50&include_expired=true");
    TH_EXPECT(r, 200, -1);
    assert_non_null(strstr(r.body, id));
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/%s", id);
    st = th_str(&r, "result.status");
    assert_string_equal(st, "expired");
    free(st);
    th_free(&r);
    /* expires_on in the past is refused at create. */
    rfc3339_format(th_now(&g_fx) - 10, ex, sizeof(ex));
    {
        char body[1024];

        snprintf(body, sizeof(body), "{\"name\":\"past\",\"policies\":%s,\"expires_on\":\"%s\"}",
                 zone_read_policies(), ex);
        r = th_api(&g_fx, "POST", g.mgmt, body, "/user/tokens");
    }
    TH_EXPECT(r, 400, 1002);
    th_free(&r);
    th_wipe_free(v);
}

/* last_used_on appears once the token has been used. */
static void test_last_used_on(void **state)
{
    char id[33];
    char *v = NULL;
    th_resp r;

    (void)state;
    create(user_base(), "used", NULL, "", id, &v);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/%s", id);
    assert_int_equal(th_tok(&r, "result.last_used_on"), -1);
    th_free(&r);
    r = th_api(&g_fx, "GET", v, NULL, "/user/tokens/verify");
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/%s", id);
    assert_true(json_is_string(&r.doc, th_tok(&r, "result.last_used_on")));
    th_free(&r);
    th_wipe_free(v);
}

/* Pagination: pages partition the list; per_page outside 5..50 is refused; desc reverses. */
static void test_pagination(void **state)
{
    char id[33], seen[64][33], first_asc[33] = "", first_desc[33] = "";
    long total, pages, count_sum = 0, nseen = 0;
    th_resp r;

    (void)state;
    for (int i = 0; i < 12; i++) {
        char name[32];

        snprintf(name, sizeof(name), "page-%02d", i);
        create(user_base(), name, NULL, "", id, NULL);
    }
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens?page=1&per_page=5");
    TH_EXPECT(r, 200, -1);
    total = (long)th_int(&r, "result_info.total_count");
    pages = (long)th_int(&r, "result_info.total_pages");
    assert_true(total >= 15);
    assert_int_equal(pages, (total + 4) / 5);
    assert_int_equal(th_int(&r, "result_info.per_page"), 5);
    th_free(&r);
    for (long p = 1; p <= pages; p++) {
        r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens?page=%ld&per_page=5", p);
        TH_EXPECT(r, 200, -1);
        long count = (long)th_int(&r, "result_info.count");
        assert_int_equal(th_int(&r, "result_info.page"), p);
        assert_true(count == (p < pages ? 5 : total - 5 * (pages - 1)));
        for (long i = 0; i < count; i++) {
            char path[40], *tid;

            snprintf(path, sizeof(path), "result.%ld.id", i);
            tid = th_str(&r, path);
            assert_non_null(tid);
            for (long k = 0; k < nseen; k++)
                assert_string_not_equal(seen[k], tid);
            if (nseen < 64)
                strcpy(seen[nseen++], tid);
            if (p == 1 && i == 0)
                strcpy(first_asc, tid);
            free(tid);
        }
        count_sum += count;
        th_free(&r);
    }
    assert_int_equal(count_sum, total);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens?page=%ld&per_page=5", pages + 1);
    TH_EXPECT(r, 200, -1);
    assert_int_equal(th_int(&r, "result_info.count"), 0);
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens?per_page=5&direction=desc");
    TH_EXPECT(r, 200, -1);
    {
        char *tid = th_str(&r, "result.0.id");

        strcpy(first_desc, tid);
        free(tid);
    }
    th_free(&r);
    assert_string_not_equal(first_asc, first_desc);
    assert_string_equal(first_desc, id); /* the newest first */
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens?per_page=4");
    TH_EXPECT(r, 400, 1002);
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens?per_page=51");
    TH_EXPECT(r, 400, 1002);
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens?page=0");
    TH_EXPECT(r, 400, 1002);
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens?direction=up");
    TH_EXPECT(r, 400, 1002);
    th_free(&r);
}

/* Authorization failures and their codes on the token routes. */
static void test_authorization_failures(void **state)
{
    char id[33], pol[600];
    char *v = NULL, *doc;
    th_resp r;

    (void)state;
    r = th_api(&g_fx, "GET", NULL, NULL, "/user/tokens");
    TH_EXPECT(r, 400, 1001);
    th_free(&r);
    r = th_call_full(&g_fx, "GET", "/client/v4/user/tokens", "Bearer abc def", NULL, NULL, 0);
    TH_EXPECT(r, 400, 6003);
    assert_int_equal(th_int(&r, "errors.0.error_chain.0.code"), 6111);
    th_free(&r);
    r = th_call_full(&g_fx, "GET", "/client/v4/user/tokens", "Basic dXNlcjpwYXNz", NULL, NULL, 0);
    TH_EXPECT(r, 400, 6003);
    th_free(&r);
    /* Unknown token: 401 10000 on user/account-scoped routes, 403 9109 on zone routes. */
    r = th_api(&g_fx, "GET", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, "/user/tokens");
    TH_EXPECT(r, 401, 10000);
    th_free(&r);
    r = th_api(&g_fx, "GET", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL,
               "/accounts/%s/tokens", g.account);
    TH_EXPECT(r, 401, 10000);
    th_free(&r);
    r = th_api(&g_fx, "GET", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL,
               "/zones/%s/access/service_tokens", g.zone);
    TH_EXPECT(r, 403, 9109);
    th_free(&r);
    /* A valid token without the permission: 403 10000 with documentation_url. */
    r = th_api(&g_fx, "GET", g.readonly, NULL, "/user/tokens");
    TH_EXPECT(r, 403, 10000);
    doc = th_str(&r, "errors.0.documentation_url");
    assert_non_null(doc);
    free(doc);
    th_free(&r);
    r = th_api(&g_fx, "POST", g.readonly, "{\"name\":\"x\",\"policies\":[]}", "/user/tokens");
    TH_EXPECT(r, 403, 10000);
    th_free(&r);
    /* Holding the group (Account API Tokens Read), but only on a zone: the account route is out
     * of scope (9109). */
    snprintf(pol, sizeof(pol),
             "[{\"effect\":\"allow\",\"permission_groups\":[{\"id\":"
             "\"eb56a6953c034b9d97dd838155666f06\"}],\"resources\":"
             "{\"com.cloudflare.api.account.zone.%s\":\"*\"}}]",
             g.zone);
    create(user_base(), "scoped", pol, "", id, &v);
    r = th_api(&g_fx, "GET", v, NULL, "/accounts/%s/tokens", g.account);
    TH_EXPECT(r, 403, 9109);
    th_free(&r);
    th_wipe_free(v);
    /* Read does not allow writing; Write implies Read. */
    snprintf(pol, sizeof(pol),
             "[{\"effect\":\"allow\",\"permission_groups\":[{\"name\":\"x\",\"id\":"
             "\"0cc3a61731504c89b99ec1be78b77aa0\"}],\"resources\":"
             "{\"com.cloudflare.api.user.%s\":\"*\"}}]",
             g.user);
    create(user_base(), "reader", pol, "", id, &v);
    r = th_api(&g_fx, "GET", v, NULL, "/user/tokens");
    TH_EXPECT(r, 200, -1);
    th_free(&r);
    r = th_api(&g_fx, "DELETE", v, NULL, "/user/tokens/%s", id);
    TH_EXPECT(r, 403, 10000);
    th_free(&r);
    th_wipe_free(v);
    /* A deny policy wins over an allow. */
    snprintf(pol, sizeof(pol),
             "[{\"effect\":\"allow\",\"permission_groups\":[{\"id\":"
             "\"686d18d5ac6c441c867cbf6771e58a0a\"}],\"resources\":"
             "{\"com.cloudflare.api.user.%s\":\"*\"}},"
             "{\"effect\":\"deny\",\"permission_groups\":[{\"id\":"
             "\"0cc3a61731504c89b99ec1be78b77aa0\"}],\"resources\":"
             "{\"com.cloudflare.api.user.%s\":\"*\"}}]",
             g.user, g.user);
    create(user_base(), "denied", pol, "", id, &v);
    r = th_api(&g_fx, "GET", v, NULL, "/user/tokens");
    TH_EXPECT(r, 403, 9109);
    th_free(&r);
    th_wipe_free(v);
    /* An account-owned token never reaches /user/tokens. */
    r = th_api(&g_fx, "GET", g.ci, NULL, "/user/tokens");
    assert_int_equal(r.status, 403);
    th_free(&r);
}

/* Malformed ids: 404 7003; routes outside the spec: 400 7000, counted. */
static void test_bad_ids_and_routes(void **state)
{
    long before;
    th_resp r;

    (void)state;
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/not-a-token-id");
    TH_EXPECT(r, 404, 7003);
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/accounts/EXAMPLE/tokens");
    TH_EXPECT(r, 404, 7003);
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/0123456789abcdef0123456789abcdef");
    TH_EXPECT(r, 404, 7003);
    th_free(&r);
    before = cfemu_unknown_routes(&g_fx);
    assert_true(before >= 0);
    r = th_api(&g_fx, "POST", g.mgmt, "{}", "/user/tokens/%s/roll",
               "ed17574386854bf78a67040be0a770b0");
    TH_EXPECT(r, 400, 7000);
    th_free(&r);
    r = th_api(&g_fx, "POST", g.mgmt, "{}", "/user/tokens/verify");
    TH_EXPECT(r, 400, 7000);
    th_free(&r);
    assert_int_equal(cfemu_unknown_routes(&g_fx), before + 2);
}

/* One roll of base/id with the body (NULL: none) and content type (NULL: none) a client sends.
 * Returns the HTTP status; *value gets the new value on 200 (malloc'd), else NULL. */
static long roll_as(const char *base, const char *id, const char *body, const char *ctype,
                    char **value)
{
    char path[200], auth[200], hdr[100];
    th_resp r;
    long st;

    snprintf(path, sizeof(path), "/client/v4%s/%s/value", base, id);
    snprintf(auth, sizeof(auth), "Bearer %s", g.mgmt);
    snprintf(hdr, sizeof(hdr), "Content-Type: %s", ctype != NULL ? ctype : "");
    /* th_call_full adds the JSON content type to any body; an explicit empty one removes it. */
    r = th_call_full(&g_fx, "PUT", path, auth, body,
                     ctype != NULL ? (body == NULL ? hdr : NULL) : "Content-Type:", 0);
    secret_wipe(auth, sizeof(auth));
    assert_int_equal(r.cc, CURLE_OK);
    st = r.status;
    *value = st == 200 ? th_str(&r, "result") : NULL;
    if (st != 200 && th_code(&r) != 6007)
        fail_msg("roll with body %s: %ld %s", body != NULL ? body : "(none)", st, r.body);
    th_free(&r);
    return st;
}

/* Every roll body real clients send rolls, on user and account tokens: {} (the docs), an empty
 * body with Content-Type: application/json (cloudflare-go), no body and no content type (the
 * TypeScript SDK 7). A body that is not a JSON object is 400/6007 and rolls nothing. */
static void test_roll_bodies(void **state)
{
    static const struct {
        const char *body, *ctype;
    } good[] = {{"{}", "application/json"},
                {"", "application/json"},
                {NULL, "application/json"},
                {NULL, NULL}};
    static const char *const bad[] = {"{", "[]", "\"x\"", "null", "{}{}", " "};
    const char *bases[2] = {user_base(), NULL};
    char id[33], *old = NULL, *nv = NULL;
    th_resp r;

    (void)state;
    bases[1] = account_base();
    for (size_t b = 0; b < 2; b++) {
        create(bases[b], "roll-bodies", NULL, "", id, &old);
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
            assert_int_equal(roll_as(bases[b], id, good[i].body, good[i].ctype, &nv), 200);
            assert_non_null(nv);
            assert_memory_equal(nv, b == 0 ? "cfut_" : "cfat_", 5);
            r = th_api(&g_fx, "GET", old, NULL, "%s/verify", bases[b]);
            TH_EXPECT(r, 401, 1000); /* the value before this roll is dead */
            th_free(&r);
            r = th_api(&g_fx, "GET", nv, NULL, "%s/verify", bases[b]);
            TH_EXPECT(r, 200, -1);
            th_free(&r);
            th_wipe_free(old);
            old = nv;
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            assert_int_equal(roll_as(bases[b], id, bad[i], "application/json", &nv), 400);
            r = th_api(&g_fx, "GET", old, NULL, "%s/verify", bases[b]);
            TH_EXPECT(r, 200, -1); /* not rolled */
            th_free(&r);
        }
        th_wipe_free(old);
        old = NULL;
    }
}

/* --- the permission-group catalogue ------------------------------------------------------- */

/* The committed catalogue (harness/cfemu/data/permission-groups.json): how many groups it has,
 * and how many of them are user-level. */
static void catalogue_counts(long *total, long *user_level)
{
    FILE *f = fopen(ROTP_PERM_GROUPS_JSON, "rb");
    static char text[256 * 1024];
    size_t n;
    json_doc d;
    int groups;

    assert_non_null(f);
    n = fread(text, 1, sizeof(text), f);
    fclose(f);
    assert_true(n > 0 && n < sizeof(text));
    assert_int_equal(json_parse(&d, text, n), JSON_OK);
    groups = json_get(&d, 0, "groups");
    assert_true(groups >= 0);
    *total = d.toks[groups].size;
    *user_level = 0;
    for (int i = 0; i < d.toks[groups].size; i++) {
        int sc = json_at(&d, json_get(&d, json_at(&d, groups, i), "scopes"), 0);

        if (json_str_eq(&d, sc, "com.cloudflare.api.user"))
            (*user_level)++;
    }
    json_free(&d);
}

/* The name and scope permission_groups lists for id (malloc'd "name|scope"), or NULL. */
static char *group_listed(const char *id)
{
    th_resp r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/permission_groups");
    char key[40], *name, *scope, *out = NULL;

    TH_EXPECT(r, 200, -1);
    for (long i = 0; i < th_int(&r, "result_info.count"); i++) {
        snprintf(key, sizeof(key), "result.%ld.id", i);
        char *gid = th_str(&r, key);
        bool match = gid != NULL && strcmp(gid, id) == 0;

        free(gid);
        if (!match)
            continue;
        snprintf(key, sizeof(key), "result.%ld.name", i);
        name = th_str(&r, key);
        snprintf(key, sizeof(key), "result.%ld.scopes.0", i);
        scope = th_str(&r, key);
        out = malloc(strlen(name) + strlen(scope) + 2);
        sprintf(out, "%s|%s", name, scope);
        free(name);
        free(scope);
    }
    th_free(&r);
    return out;
}

static void expect_group(const char *id, const char *name_scope)
{
    char *got = group_listed(id);

    assert_non_null(got);
    assert_string_equal(got, name_scope);
    free(got);
}

/* permission_groups lists every real group; name and scope filter exactly; the account endpoint
 * leaves out the user-level groups; ids are Cloudflare's (the four cfemu once had wrong). */
static void test_permission_groups(void **state)
{
    long total, user_level;
    th_resp r;

    (void)state;
    catalogue_counts(&total, &user_level);
    assert_true(total >= 339);
    assert_int_equal(user_level, 6);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/permission_groups");
    TH_EXPECT(r, 200, -1);
    assert_int_equal(th_int(&r, "result_info.count"), total);
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/accounts/%s/tokens/permission_groups", g.account);
    TH_EXPECT(r, 200, -1);
    assert_int_equal(th_int(&r, "result_info.count"), total - user_level);
    assert_null(strstr(r.body, "\"API Tokens Write\""));
    assert_non_null(strstr(r.body, "\"Account API Tokens Write\""));
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL,
               "/accounts/%s/tokens/permission_groups?scope=com.cloudflare.api.user", g.account);
    TH_EXPECT(r, 200, -1);
    assert_int_equal(th_int(&r, "result_info.count"), 0);
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL,
               "/user/tokens/permission_groups?scope=com.cloudflare.api.user");
    TH_EXPECT(r, 200, -1);
    assert_int_equal(th_int(&r, "result_info.count"), user_level);
    th_free(&r);
    /* A name in two scopes: both, or one with the scope. */
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/permission_groups?name=Logs%%20Read");
    TH_EXPECT(r, 200, -1);
    assert_int_equal(th_int(&r, "result_info.count"), 2);
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL,
               "/user/tokens/permission_groups?name=Logs%%20Read"
               "&scope=com.cloudflare.api.account.zone");
    TH_EXPECT(r, 200, -1);
    assert_int_equal(th_int(&r, "result_info.count"), 1);
    {
        char *id = th_str(&r, "result.0.id");

        assert_string_equal(id, "c4a30cd58c5d42619c86a3c36c441e2d");
        free(id);
    }
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/permission_groups?name=Zone%%20Read");
    TH_EXPECT(r, 200, -1);
    assert_int_equal(th_int(&r, "result_info.count"), 1);
    {
        char *id = th_str(&r, "result.0.id");

        assert_string_equal(id, "c8fed203ed3043cba015a93ad1616f1f");
        free(id);
    }
    th_free(&r);
    expect_group("5bc3f8b21c554832afc660159ab75fa4",
                 "Account API Tokens Write|com.cloudflare.api.account");
    expect_group("eb56a6953c034b9d97dd838155666f06",
                 "Account API Tokens Read|com.cloudflare.api.account");
    expect_group("91f7ce32fa614d73b7e1fc8f0e78582b",
                 "Access: Service Tokens Read|com.cloudflare.api.account");
    expect_group("3b94c49258ec4573b06d51d99b6416c0",
                 "Bot Management Write|com.cloudflare.api.account.zone");
    r = th_api(&g_fx, "GET", g.readonly, NULL, "/user/tokens/permission_groups");
    TH_EXPECT(r, 403, 10000);
    th_free(&r);
}

/* A user token with one policy on the account holding the given permission_groups (JSON);
 * returns its value. */
static char *token_on_account(const char *groups_json)
{
    char pol[600], id[33], *v = NULL;

    snprintf(pol, sizeof(pol),
             "[{\"effect\":\"allow\",\"permission_groups\":%s,\"resources\":"
             "{\"com.cloudflare.api.account.%s\":\"*\"}}]",
             groups_json, g.account);
    create(user_base(), "catalogue", pol, "", id, &v);
    return v;
}

/* Policies resolve groups by id (a name beside it is ignored) or by name and scope; an unknown
 * id, an unknown name and a name that exists in two scopes are refused with 400/1001; groups
 * cfemu does not enforce are accepted and kept. */
static void test_policy_group_resolution(void **state)
{
    char body[900], id[33];
    th_resp r;
    char *s;

    (void)state;
    /* Zone WAF Write by id and Zone Read by name: the runbook's CF_WAF_EDIT_RAXX_APP. */
    snprintf(body, sizeof(body),
             "[{\"effect\":\"allow\",\"permission_groups\":[{\"id\":"
             "\"fb6778dc191143babbfaa57993f1d275\"},{\"name\":\"Zone Read\"}],\"resources\":"
             "{\"com.cloudflare.api.account.zone.%s\":\"*\"}}]",
             g.zone);
    create(user_base(), "waf-edit", body, "", id, NULL);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/%s", id);
    TH_EXPECT(r, 200, -1);
    s = th_str(&r, "result.policies.0.permission_groups.0.name");
    assert_string_equal(s, "Zone WAF Write");
    free(s);
    s = th_str(&r, "result.policies.0.permission_groups.1.id");
    assert_string_equal(s, "c8fed203ed3043cba015a93ad1616f1f");
    free(s);
    th_free(&r);
    /* By name and scope, in both spellings. */
    snprintf(body, sizeof(body),
             "{\"name\":\"logs\",\"policies\":[{\"effect\":\"allow\",\"permission_groups\":["
             "{\"name\":\"Logs Read\",\"scope\":\"com.cloudflare.api.account.zone\"},"
             "{\"name\":\"Logs Write\",\"scopes\":[\"com.cloudflare.api.account\"]}],"
             "\"resources\":{\"com.cloudflare.api.account.%s\":\"*\"}}]}",
             g.account);
    r = th_api(&g_fx, "POST", g.mgmt, body, "/user/tokens");
    TH_EXPECT(r, 200, -1);
    s = th_str(&r, "result.policies.0.permission_groups.0.id");
    assert_string_equal(s, "c4a30cd58c5d42619c86a3c36c441e2d");
    free(s);
    s = th_str(&r, "result.policies.0.permission_groups.1.id");
    assert_string_equal(s, "96163bd1b0784f62b3e44ed8c2ab1eb6");
    free(s);
    th_free(&r);
    /* Refused: ambiguous name, unknown name, unknown id, a name in the wrong scope. */
    static const char *const refused[] = {
        "[{\"name\":\"Logs Read\"}]",
        "[{\"name\":\"Logs Reader\"}]",
        "[{\"id\":\"0123456789abcdef0123456789abcdef\",\"name\":\"Zone Read\"}]",
        "[{\"name\":\"Zone Read\",\"scope\":\"com.cloudflare.api.account\"}]",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        snprintf(body, sizeof(body),
                 "{\"name\":\"bad\",\"policies\":[{\"effect\":\"allow\",\"permission_groups\":%s,"
                 "\"resources\":{\"com.cloudflare.api.account.%s\":\"*\"}}]}",
                 refused[i], g.account);
        r = th_api(&g_fx, "POST", g.mgmt, body, "/user/tokens");
        TH_EXPECT(r, 400, 1001);
        s = th_str(&r, "errors.0.message");
        assert_non_null(strstr(s, "ermission group"));
        free(s);
        th_free(&r);
    }
    /* A policy id on create: Cloudflare's documented refusal. */
    snprintf(body, sizeof(body),
             "{\"name\":\"reuse\",\"policies\":[{\"id\":\"beefcafe1337beefcafe1337beefcafe\","
             "\"effect\":\"allow\",\"permission_groups\":[{\"id\":"
             "\"c8fed203ed3043cba015a93ad1616f1f\"}],\"resources\":"
             "{\"com.cloudflare.api.account.zone.*\":\"*\"}}]}");
    r = th_api(&g_fx, "POST", g.mgmt, body, "/user/tokens");
    TH_EXPECT(r, 400, 1001);
    s = th_str(&r, "errors.0.message");
    assert_string_equal(s, "Reusing existing policies is not supported by token creation");
    free(s);
    th_free(&r);
}

/* The groups cfemu's routes check, by their real ids: Account API Tokens Write writes (it once
 * gave read-only rights), Account API Tokens Read only reads, Access: Service Tokens Read lists
 * service tokens, and Bot Management Write (once cfemu's "Service Tokens Read") does not. */
static void test_enforced_groups_by_real_id(void **state)
{
    char path[120], *v;
    th_resp r;

    (void)state;
    snprintf(path, sizeof(path), "/accounts/%s/tokens", g.account);
    v = token_on_account("[{\"id\":\"5bc3f8b21c554832afc660159ab75fa4\"}]");
    r = th_api(&g_fx, "GET", v, NULL, "%s", path);
    TH_EXPECT(r, 200, -1);
    th_free(&r);
    r = th_api(&g_fx, "POST", v,
               "{\"name\":\"by-account-write\",\"policies\":[{\"effect\":\"allow\","
               "\"permission_groups\":[{\"id\":\"c8fed203ed3043cba015a93ad1616f1f\"}],"
               "\"resources\":{\"com.cloudflare.api.account.zone.*\":\"*\"}}]}",
               "%s", path);
    TH_EXPECT(r, 200, -1);
    th_free(&r);
    th_wipe_free(v);

    v = token_on_account("[{\"id\":\"eb56a6953c034b9d97dd838155666f06\"}]");
    r = th_api(&g_fx, "GET", v, NULL, "%s", path);
    TH_EXPECT(r, 200, -1);
    th_free(&r);
    r = th_api(&g_fx, "POST", v, "{\"name\":\"x\",\"policies\":[]}", "%s", path);
    TH_EXPECT(r, 403, 10000);
    th_free(&r);
    th_wipe_free(v);

    v = token_on_account("[{\"id\":\"91f7ce32fa614d73b7e1fc8f0e78582b\"}]");
    r = th_api(&g_fx, "GET", v, NULL, "/accounts/%s/access/service_tokens", g.account);
    TH_EXPECT(r, 200, -1);
    th_free(&r);
    r = th_api(&g_fx, "POST", v, "{\"name\":\"nope\"}", "/accounts/%s/access/service_tokens",
               g.account);
    TH_EXPECT(r, 403, 10000);
    th_free(&r);
    th_wipe_free(v);

    v = token_on_account("[{\"id\":\"3b94c49258ec4573b06d51d99b6416c0\"}]");
    r = th_api(&g_fx, "GET", v, NULL, "/accounts/%s/access/service_tokens", g.account);
    TH_EXPECT(r, 403, 10000);
    th_free(&r);
    r = th_api(&g_fx, "GET", v, NULL, "%s", path);
    TH_EXPECT(r, 403, 10000);
    th_free(&r);
    th_wipe_free(v);
}

/* 50 tokens per user: the 51st create is refused; deleting one makes room. */
static void test_user_quota(void **state)
{
    char id[33], last[33] = "";
    long made = 0;
    th_resp r;

    (void)state;
    for (;;) {
        r = th_api(&g_fx, "POST", g.mgmt,
                   "{\"name\":\"quota\",\"policies\":[{\"effect\":\"allow\",\"permission_groups\":"
                   "[{\"id\":\"c8fed203ed3043cba015a93ad1616f1f\"}],\"resources\":"
                   "{\"com.cloudflare.api.account.zone.*\":\"*\"}}]}",
                   "/user/tokens");
        if (r.status != 200)
            break;
        char *tid = th_str(&r, "result.id");
        strcpy(last, tid);
        free(tid);
        th_free(&r);
        assert_true(++made <= 50);
    }
    TH_EXPECT(r, 400, 1003);
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens?per_page=5&include_expired=true");
    assert_int_equal(th_int(&r, "result_info.total_count"), 50);
    th_free(&r);
    r = th_api(&g_fx, "DELETE", g.mgmt, NULL, "/user/tokens/%s", last);
    TH_EXPECT(r, 200, -1);
    th_free(&r);
    create(user_base(), "room", NULL, "", id, NULL);
}

/* 500 account-owned tokens per account. */
static void test_account_quota(void **state)
{
    long made = 0;
    char path[80];
    th_resp r;

    (void)state;
    snprintf(path, sizeof(path), "/accounts/%s/tokens", g.account);
    for (;;) {
        r = th_api(&g_fx, "POST", g.mgmt,
                   "{\"name\":\"aq\",\"policies\":[{\"effect\":\"allow\",\"permission_groups\":"
                   "[{\"id\":\"c8fed203ed3043cba015a93ad1616f1f\"}],\"resources\":"
                   "{\"com.cloudflare.api.account.zone.*\":\"*\"}}]}",
                   "%s", path);
        if (r.status != 200)
            break;
        th_free(&r);
        assert_true(++made <= 500);
    }
    TH_EXPECT(r, 400, 1003);
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "%s?per_page=50&include_expired=true", path);
    assert_int_equal(th_int(&r, "result_info.total_count"), 500);
    assert_int_equal(th_int(&r, "result_info.total_pages"), 10);
    th_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_only_on_create),
        cmocka_unit_test(test_roll_kills_old_value),
        cmocka_unit_test(test_self_roll),
        cmocka_unit_test(test_verify_codes),
        cmocka_unit_test(test_verify_cross_rejection),
        cmocka_unit_test(test_account_token_lifecycle),
        cmocka_unit_test(test_update_disable_enable),
        cmocka_unit_test(test_validity_window_via_clock),
        cmocka_unit_test(test_last_used_on),
        cmocka_unit_test(test_pagination),
        cmocka_unit_test(test_authorization_failures),
        cmocka_unit_test(test_bad_ids_and_routes),
        cmocka_unit_test(test_roll_bodies),
        cmocka_unit_test(test_permission_groups),
        cmocka_unit_test(test_policy_group_resolution),
        cmocka_unit_test(test_enforced_groups_by_real_id),
        cmocka_unit_test(test_user_quota),
        cmocka_unit_test(test_account_quota),
    };

    int failed = cmocka_run_group_tests_name("cfemu_tokens", tests, group_setup, group_teardown);

    return failed != 0 || g_teardown_failed ? 1 : 0;
}
