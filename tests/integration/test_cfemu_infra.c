/* SPDX-License-Identifier: MIT */
/* test_cfemu_infra.c - cfemu's machinery: TLS with the generated CA, the command line, seed
 * files and the creds file, rate limiting, every fault kind of the control API, the request
 * log (never a secret), the unknown-route counter, the clock, clean exit on SIGTERM.
 *
 * The group's cfemu uses the built-in seed; tests that need other flags start their own. */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfemu_fixture.h"
#include "cfemu_test_http.h"

extern char **environ;

static cfemu_fx g_fx;
/* cmocka ignores a failing group teardown in its exit status; cfemu's exit status (0 = clean
 * SIGTERM exit, and under ASan no leak) must fail the run, so main() adds this. */
static int g_teardown_failed;

static struct {
    char *mgmt, *readonly, *pages, *ci;
    char *console_secret, *console_client_id;
    char *account, *zone;
} g;

static int group_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (cfemu_start(&g_fx, NULL, NULL) != 0)
        return -1;
    g.mgmt = th_cred(&g_fx, "CFEMU_TOKEN_MGMT_VALUE");
    g.readonly = th_cred(&g_fx, "CFEMU_TOKEN_READONLY_VALUE");
    g.pages = th_cred(&g_fx, "CFEMU_TOKEN_PAGES_DEPLOY_VALUE");
    g.ci = th_cred(&g_fx, "CFEMU_TOKEN_CI_READONLY_VALUE");
    g.console_secret = th_cred(&g_fx, "CFEMU_ST_CONSOLE_PROBE_CLIENT_SECRET");
    g.console_client_id = th_cred(&g_fx, "CFEMU_ST_CONSOLE_PROBE_CLIENT_ID");
    g.account = th_cred(&g_fx, "CFEMU_ACCOUNT_ID");
    g.zone = th_cred(&g_fx, "CFEMU_ZONE_ID");
    if (g.mgmt == NULL || g.readonly == NULL || g.pages == NULL || g.ci == NULL ||
        g.console_secret == NULL || g.console_client_id == NULL || g.account == NULL ||
        g.zone == NULL) {
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
    th_wipe_free(g.pages);
    th_wipe_free(g.ci);
    th_wipe_free(g.console_secret);
    free(g.console_client_id);
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

static int each_setup(void **state)
{
    (void)state;
    th_fresh_connection = false;
    return cfemu_ctl(&g_fx, "DELETE", "/__cfemu/faults", NULL, NULL) == 200 ? 0 : -1;
}

/* Queues a fault or fails the test. */
static void fault(const char *json)
{
    char *body = NULL;
    int st = cfemu_ctl(&g_fx, "POST", "/__cfemu/faults", json, &body);

    if (st != 200)
        fail_msg("fault %s refused: %d %s", json, st, body != NULL ? body : "");
    free(body);
}

/* The counters at path ("requests", "by_token.<id>.rate_limited", ...) from GET /__cfemu/stats. */
static int64_t stat_of(cfemu_fx *fx, const char *path)
{
    th_resp r = th_call_full(fx, "GET", "/__cfemu/stats", NULL, NULL, NULL, 0);
    char full[300];
    int64_t v;

    TH_EXPECT(r, 200, -1);
    snprintf(full, sizeof(full), "result.%s", path);
    v = th_int(&r, full);
    th_free(&r);
    return v;
}

static bool token_name_exists(const char *name)
{
    char *body = NULL;
    char needle[200];
    bool found;

    assert_int_equal(cfemu_ctl(&g_fx, "GET", "/__cfemu/state", NULL, &body), 200);
    snprintf(needle, sizeof(needle), "\"name\":\"%s\"", name);
    found = strstr(body, needle) != NULL;
    free(body);
    return found;
}

static const char create_body_zone_read[] =
    "{\"name\":\"zone-reader\",\"policies\":[{\"effect\":\"allow\",\"permission_groups\":[{\"id\":"
    "\"c8fed203ed3043cba015a93ad1616f1f\"}],\"resources\":"
    "{\"com.cloudflare.api.account.zone.*\":\"*\"}}]}";

static const char create_body[] =
    "{\"name\":\"%s\",\"policies\":[{\"effect\":\"allow\",\"permission_groups\":[{\"id\":"
    "\"c8fed203ed3043cba015a93ad1616f1f\"}],\"resources\":"
    "{\"com.cloudflare.api.account.zone.*\":\"*\"}}]}";

/* Runs cfemu with argv (NULL-terminated, argv[0] ignored), its output stream fd (1 or 2) into
 * out (cap; the other one goes to /dev/null), returns the exit status or -1. */
static int run_cfemu_fd(const char *const *args, int fd, char *out, size_t cap)
{
    const char *argv[16];
    posix_spawn_file_actions_t fa;
    int pfd[2];
    size_t n = 0, got = 0;
    pid_t pid;
    int status;

    argv[n++] = cfemu_binary();
    for (size_t i = 0; args[i] != NULL && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    assert_int_equal(pipe(pfd), 0);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], fd);
    posix_spawn_file_actions_addclose(&fa, pfd[0]);
    posix_spawn_file_actions_addopen(&fa, fd == 1 ? 2 : 1, "/dev/null", O_WRONLY, 0);
    assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    for (;;) {
        ssize_t r = read(pfd[0], out + got, cap - 1 - got);

        if (r <= 0)
            break;
        got += (size_t)r;
        if (got + 1 >= cap)
            break;
    }
    out[got] = 0;
    close(pfd[0]);
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The same with stdout (the command-line checks). */
static int run_cfemu(const char *const *args, char *out, size_t cap)
{
    return run_cfemu_fd(args, 1, out, cap);
}

/* --- TLS and command line ------------------------------------------------------------------ */

/* The generated CA verifies 127.0.0.1 and localhost; without it verification fails. */
static void test_tls_verified_with_generated_ca(void **state)
{
    cfemu_fx other = g_fx;
    th_resp r;
    char url[200];
    CURL *c;
    CURLcode cc;

    (void)state;
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 200, -1);
    th_free(&r);
    snprintf(other.origin, sizeof(other.origin), "https://localhost:%d", g_fx.port);
    r = th_call_full(&other, "GET", "/__cfemu/stats", NULL, NULL, NULL, 0);
    assert_int_equal(r.cc, CURLE_OK);
    assert_int_equal(r.status, 200);
    th_free(&r);
    /* The system trust store does not know cfemu's CA. */
    c = curl_easy_init();
    snprintf(url, sizeof(url), "%s/__cfemu/stats", g_fx.origin);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    cc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    assert_true(cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT ||
                cc == CURLE_SSL_CONNECT_ERROR);
}

/* --help names every flag and exits 0; non-loopback addresses and bad values are refused. */
static void test_command_line(void **state)
{
    static const char *const flags[] = {
        "--listen",        "--port-file",  "--ca-out",           "--seed", "--creds-out",
        "--insecure-http", "--rate-limit", "--rate-limit-block", "--log",  "--help"};
    static const char *const help[] = {"--help", NULL};
    static const char *const any[] = {"--listen", "0.0.0.0:0", NULL};
    static const char *const lan[] = {"--listen", "10.1.2.3:8443", NULL};
    static const char *const rate[] = {"--rate-limit", "5", NULL};
    static const char *const block[] = {"--rate-limit-block", "-1", NULL};
    static const char *const unknown[] = {"--frobnicate", NULL};
    static const char *const missing_seed[] = {"--seed", "/nonexistent/seed.json", NULL};
    static char out[16384];

    (void)state;
    assert_int_equal(run_cfemu(help, out, sizeof(out)), 0);
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if (strstr(out, flags[i]) == NULL)
            fail_msg("--help does not explain %s", flags[i]);
    }
    assert_int_equal(run_cfemu(any, out, sizeof(out)), 2);
    assert_int_equal(run_cfemu(lan, out, sizeof(out)), 2);
    assert_int_equal(run_cfemu(rate, out, sizeof(out)), 2);
    assert_int_equal(run_cfemu(block, out, sizeof(out)), 2);
    assert_int_equal(run_cfemu(unknown, out, sizeof(out)), 2);
    assert_int_equal(run_cfemu(missing_seed, out, sizeof(out)), 1);
}

/* --insecure-http serves plain HTTP on loopback. */
static void test_insecure_http(void **state)
{
    static const char *const args[] = {"--insecure-http", NULL};
    cfemu_fx fx;
    th_resp r;

    (void)state;
    assert_int_equal(cfemu_start(&fx, NULL, args), 0);
    assert_memory_equal(fx.origin, "http://", 7);
    r = th_call_full(&fx, "GET", "/client/v4/user/tokens", NULL, NULL, NULL, 0);
    TH_EXPECT(r, 400, 1001);
    th_free(&r);
    assert_int_equal(cfemu_stop(&fx), 0);
}

/* --- seed files and the creds file --------------------------------------------------------- */

/* A seed file: given secrets are used, derived creds keys, mode 0600, disabled tokens refused,
 * nested resources grant the account's zones, an account token stays in its account. */
static void test_seed_file(void **state)
{
    char seed[600], path[400];
    cfemu_fx fx;
    struct stat sb;
    char *admin, *disabled, *nested, *other, *sec, *app;
    th_resp r;

    (void)state;
    snprintf(seed, sizeof(seed), "%s/seed_basic.json", ROTP_TEST_DATA);
    assert_int_equal(cfemu_start(&fx, seed, NULL), 0);
    snprintf(path, sizeof(path), "%s/creds.env", fx.dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    admin = th_cred(&fx, "CFEMU_TOKEN_SEED_ADMIN_VALUE");
    disabled = th_cred(&fx, "CFEMU_TOKEN_SEED_DISABLED_VALUE");
    nested = th_cred(&fx, "CFEMU_TOKEN_NESTED_ZONES_VALUE");
    other = th_cred(&fx, "CFEMU_TOKEN_OTHER_CI_VALUE");
    sec = th_cred(&fx, "CFEMU_ST_SEED_PROBE_CLIENT_SECRET");
    app = th_cred(&fx, "CFEMU_APP_SEED_APP_ID");
    assert_non_null(admin);
    assert_non_null(disabled);
    assert_non_null(nested);
    assert_non_null(other);
    assert_non_null(sec);
    assert_non_null(app);
    assert_string_equal(admin, "seedtestvalueADMIN0000000000000000000000");
    assert_string_equal(sec, "seedtestclientsecret0000000000000000000000000000000000000000aaaa");
    assert_string_equal(app, "66666666-6666-4666-8666-66666666aaaa");
    assert_memory_equal(other, "cfat_", 5); /* no value given: a fresh scannable one */

    r = th_api(&fx, "GET", admin, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 200, -1);
    th_free(&r);
    r = th_api(&fx, "GET", disabled, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 401, 1000);
    th_free(&r);
    r = th_api(&fx, "GET", disabled, NULL, "/user/tokens");
    TH_EXPECT(r, 401, 10000);
    th_free(&r);
    /* Nested: account -> zone.* grants zone-level service-token reads, not account-level. */
    r = th_api(&fx, "GET", nested, NULL,
               "/zones/3333333333333333333333333333aaaa"
               "/access/service_tokens");
    TH_EXPECT(r, 200, -1);
    th_free(&r);
    r = th_api(&fx, "GET", nested, NULL,
               "/zones/3333333333333333333333333333bbbb"
               "/access/service_tokens");
    assert_int_equal(r.status, 403);
    th_free(&r);
    /* The account token reads its own account's tokens, not the other account's. */
    r = th_api(&fx, "GET", other, NULL, "/accounts/2222222222222222222222222222bbbb/tokens");
    TH_EXPECT(r, 200, -1);
    th_free(&r);
    r = th_api(&fx, "GET", other, NULL, "/accounts/2222222222222222222222222222aaaa/tokens");
    assert_int_equal(r.status, 403);
    th_free(&r);
    /* The admin token's resources name only the primary account. */
    r = th_api(&fx, "GET", admin, NULL, "/accounts/2222222222222222222222222222bbbb/tokens");
    TH_EXPECT(r, 403, 9109);
    th_free(&r);
    r = th_call_full(&fx, "GET", "/cdn-cgi/access/probe/66666666-6666-4666-8666-66666666aaaa", NULL,
                     NULL, "CF-Access-Client-Id: 5555555555555555555555555555aaaa.access", 0);
    assert_int_equal(r.status, 401); /* no secret */
    th_free(&r);
    th_wipe_free(admin);
    th_wipe_free(disabled);
    th_wipe_free(nested);
    th_wipe_free(other);
    th_wipe_free(sec);
    free(app);
    assert_int_equal(cfemu_stop(&fx), 0);
}

/* A seed may name any real permission group, by id or by name (and scope): the runbook's
 * CF_WAF_EDIT_RAXX_APP (Zone WAF Write, Zone Read) loads, the groups are kept as given, and a
 * token holding the real Account API Tokens Write id may create account tokens. */
static void test_seed_real_groups(void **state)
{
    char seed[600];
    cfemu_fx fx;
    char *waf, *mgmt, *body = NULL;
    th_resp r;

    (void)state;
    snprintf(seed, sizeof(seed), "%s/seed_runbook_groups.json", ROTP_TEST_DATA);
    assert_int_equal(cfemu_start(&fx, seed, NULL), 0);
    waf = th_cred(&fx, "CFEMU_TOKEN_CF_WAF_EDIT_RAXX_APP_VALUE");
    mgmt = th_cred(&fx, "CFEMU_TOKEN_ACCOUNT_TOKENS_MGMT_VALUE");
    assert_non_null(waf);
    assert_non_null(mgmt);
    assert_int_equal(cfemu_ctl(&fx, "GET", "/__cfemu/state", NULL, &body), 200);
    assert_non_null(strstr(body, "{\"id\":\"fb6778dc191143babbfaa57993f1d275\",\"name\":"
                                 "\"Zone WAF Write\"},{\"id\":\"c8fed203ed3043cba015a93ad1616f1f\","
                                 "\"name\":\"Zone Read\"}"));
    assert_non_null(strstr(body, "{\"id\":\"6a315a56f18441e59ed03352369ae956\",\"name\":"
                                 "\"Logs Read\"},{\"id\":\"3e0b5820118e47f3922f7c989e673882\","
                                 "\"name\":\"Logs Write\"}"));
    free(body);
    r = th_api(&fx, "GET", waf, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 200, -1);
    th_free(&r);
    /* Zone WAF Write is kept, not enforced: it grants nothing on cfemu's routes. */
    r = th_api(&fx, "GET", waf, NULL,
               "/zones/3333333333333333333333333333aaaa/access/service_tokens");
    TH_EXPECT(r, 403, 10000);
    th_free(&r);
    r = th_api(&fx, "POST", mgmt, create_body_zone_read,
               "/accounts/2222222222222222222222222222aaaa/tokens");
    TH_EXPECT(r, 200, -1);
    th_free(&r);
    th_wipe_free(waf);
    th_wipe_free(mgmt);
    assert_int_equal(cfemu_stop(&fx), 0);
}

/* A permission group that does not exist, or a name that exists in two scopes without one, is
 * refused at start with the seed's place and the group in the message. */
static void test_seed_bad_groups_refused(void **state)
{
    static const struct {
        const char *file, *says;
    } cases[] = {
        {"seed_bad_group_ambiguous.json", "tokens[0]: Permission group name \"Logs Read\" exists "
                                          "in more than one scope"},
        {"seed_bad_group_unknown.json", "tokens[0]: Permission group "
                                        "0123456789abcdef0123456789abcdef does not exist"},
    };
    static char out[4096];
    char seed[600];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *args[] = {"--seed", seed, "--port-file", "/nonexistent/port", NULL};

        snprintf(seed, sizeof(seed), "%s/%s", ROTP_TEST_DATA, cases[i].file);
        assert_int_equal(run_cfemu_fd(args, 2, out, sizeof(out)), 1);
        if (strstr(out, cases[i].says) == NULL)
            fail_msg("%s: stderr lacks \"%s\": %s", cases[i].file, cases[i].says, out);
    }
}

/* A seed that breaks a reference is refused: cfemu exits before listening. */
static void test_bad_seed_refused(void **state)
{
    char seed[600];
    cfemu_fx fx;

    (void)state;
    snprintf(seed, sizeof(seed), "%s/seed_bad_zone.json", ROTP_TEST_DATA);
    assert_int_equal(cfemu_start(&fx, seed, NULL), -1);
    assert_int_equal(cfemu_stop(&fx), -1);
}

/* TLS session resumption, as Cloudflare's edge offers it: a client that keeps its session (libcurl
 * does) resumes on a new connection; the counters tell full from resumed handshakes, and count
 * connections, not requests. The control API's own connections are not counted. */
static void test_tls_session_resumption(void **state)
{
    th_resp r;

    (void)state;
    if (th_curl != NULL) { /* a fresh handle: no session from earlier tests */
        curl_easy_cleanup(th_curl);
        th_curl = NULL;
    }
    assert_int_equal(cfemu_ctl(&g_fx, "DELETE", "/__cfemu/stats", NULL, NULL), 200);
    th_fresh_connection = true;
    for (int i = 0; i < 3; i++) {
        r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/verify");
        TH_EXPECT(r, 200, -1);
        th_free(&r);
    }
    assert_int_equal(stat_of(&g_fx, "connections"), 3);
    assert_int_equal(stat_of(&g_fx, "tls_handshakes.full"), 1);
    assert_int_equal(stat_of(&g_fx, "tls_handshakes.resumed"), 2);
    /* Three requests on one kept-alive connection: one more connection, one more resumption. */
    th_fresh_connection = false;
    for (int i = 0; i < 3; i++) {
        r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/verify");
        TH_EXPECT(r, 200, -1);
        th_free(&r);
    }
    assert_int_equal(stat_of(&g_fx, "connections"), 4);
    assert_int_equal(stat_of(&g_fx, "tls_handshakes.resumed"), 3);
    assert_int_equal(stat_of(&g_fx, "requests"), 6);
}

/* --- rate limiting ------------------------------------------------------------------------- */

/* Five verify calls in a row for token, all 200, with Ratelimit counting down from 4. */
static void spend_five(cfemu_fx *fx, const char *token)
{
    char want[64];
    th_resp r;

    for (int i = 0; i < 5; i++) {
        r = th_api(fx, "GET", token, NULL, "/user/tokens/verify");
        TH_EXPECT(r, 200, -1);
        snprintf(want, sizeof(want), "\"default\";r=%d;t=", 4 - i);
        assert_memory_equal(r.ratelimit, want, strlen(want));
        assert_string_equal(r.ratelimit_policy, "\"default\";q=5;w=60");
        assert_string_equal(r.retry_after, ""); /* Retry-After only on a 429 */
        th_free(&r);
    }
}

/* --rate-limit 5/60: headers on every API answer, the 6th call is 429/971 with Retry-After;
 * going over blocks the token for the block period (default 300 s, Cloudflare's five minutes)
 * even after its window ends; then it starts afresh. Buckets are per token; counters show it. */
static void test_rate_limit(void **state)
{
    static const char *const args[] = {"--rate-limit", "5/60", NULL};
    cfemu_fx fx;
    char *mgmt, *ro, *msg, *mgmt_id, path[120];
    th_resp r;
    long ra;

    (void)state;
    assert_int_equal(cfemu_start(&fx, NULL, args), 0);
    mgmt = th_cred(&fx, "CFEMU_TOKEN_MGMT_VALUE");
    mgmt_id = th_cred(&fx, "CFEMU_TOKEN_MGMT_ID");
    ro = th_cred(&fx, "CFEMU_TOKEN_READONLY_VALUE");
    spend_five(&fx, mgmt);
    r = th_api(&fx, "GET", mgmt, NULL, "/user/tokens");
    TH_EXPECT(r, 429, 971);
    msg = th_str(&r, "errors.0.message");
    assert_string_equal(msg, "Please wait and consider throttling your request speed");
    free(msg);
    assert_string_equal(r.retry_after, "300");
    assert_string_equal(r.ratelimit, "\"default\";r=0;t=300");
    th_free(&r);
    /* Another token has its own budget; errors carry the headers too. */
    r = th_api(&fx, "GET", ro, NULL, "/user/tokens");
    TH_EXPECT(r, 403, 10000);
    assert_true(r.ratelimit[0] != 0 && r.ratelimit_policy[0] != 0);
    th_free(&r);
    r = th_api(&fx, "GET", NULL, NULL, "/user/tokens");
    TH_EXPECT(r, 400, 1001);
    assert_true(r.ratelimit[0] != 0);
    th_free(&r);
    /* The window is over, the block is not. */
    assert_int_equal(cfemu_clock_advance(&fx, 61), 0);
    r = th_api(&fx, "GET", mgmt, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 429, 971);
    ra = strtol(r.retry_after, NULL, 10);
    assert_true(ra >= 230 && ra <= 239);
    th_free(&r);
    /* After the block: a fresh window. */
    assert_int_equal(cfemu_clock_advance(&fx, 240), 0);
    spend_five(&fx, mgmt);
    assert_int_equal(stat_of(&fx, "rate_limited"), 2);
    assert_int_equal(stat_of(&fx, "rate_limit_blocks"), 1);
    snprintf(path, sizeof(path), "by_token.%s.requests", mgmt_id);
    assert_int_equal(stat_of(&fx, path), 12);
    snprintf(path, sizeof(path), "by_token.%s.rate_limited", mgmt_id);
    assert_int_equal(stat_of(&fx, path), 2);
    assert_int_equal(stat_of(&fx, "by_token.anonymous.requests"), 1);
    assert_int_equal(stat_of(&fx, "by_route.GET /user/tokens/verify.requests"), 11);
    assert_int_equal(stat_of(&fx, "by_route.GET /user/tokens/verify.rate_limited"), 1);
    th_wipe_free(mgmt);
    free(mgmt_id);
    th_wipe_free(ro);
    assert_int_equal(cfemu_stop(&fx), 0);
}

/* --rate-limit-block 0: no block beyond the window. */
static void test_rate_limit_without_block(void **state)
{
    static const char *const args[] = {"--rate-limit", "5/60", "--rate-limit-block", "0", NULL};
    cfemu_fx fx;
    char *mgmt;
    th_resp r;
    long ra;

    (void)state;
    assert_int_equal(cfemu_start(&fx, NULL, args), 0);
    mgmt = th_cred(&fx, "CFEMU_TOKEN_MGMT_VALUE");
    spend_five(&fx, mgmt);
    r = th_api(&fx, "GET", mgmt, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 429, 971);
    ra = strtol(r.retry_after, NULL, 10);
    assert_true(ra >= 1 && ra <= 60);
    th_free(&r);
    assert_int_equal(stat_of(&fx, "rate_limit_blocks"), 0);
    assert_int_equal(cfemu_clock_advance(&fx, 61), 0);
    spend_five(&fx, mgmt);
    th_wipe_free(mgmt);
    assert_int_equal(cfemu_stop(&fx), 0);
}

/* --- faults -------------------------------------------------------------------------------- */

/* status: the next `count` matching requests get the given error; nothing is applied. */
static void test_fault_status(void **state)
{
    char body[600];
    char *msg;
    th_resp r;

    (void)state;
    fault("{\"method\":\"POST\",\"path\":\"/client/v4/user/tokens\",\"kind\":\"status\","
          "\"status\":503,\"code\":10013,\"message\":\"Service temporarily unavailable\","
          "\"count\":2}");
    snprintf(body, sizeof(body), create_body, "fault-status");
    for (int i = 0; i < 2; i++) {
        r = th_api(&g_fx, "POST", g.mgmt, body, "/user/tokens");
        TH_EXPECT(r, 503, 10013);
        msg = th_str(&r, "errors.0.message");
        assert_string_equal(msg, "Service temporarily unavailable");
        free(msg);
        th_free(&r);
    }
    assert_false(token_name_exists("fault-status"));
    /* The fault is used up. */
    r = th_api(&g_fx, "POST", g.mgmt, body, "/user/tokens");
    TH_EXPECT(r, 200, -1);
    th_free(&r);
    assert_true(token_name_exists("fault-status"));
}

/* delay: the answer comes late enough for a short client timeout to fire. */
static void test_fault_delay(void **state)
{
    th_resp r;

    (void)state;
    fault("{\"method\":\"GET\",\"path\":\"/client/v4/user/tokens/verify\",\"kind\":\"delay\","
          "\"delay_ms\":3000}");
    {
        char auth[200];

        snprintf(auth, sizeof(auth), "Bearer %s", g.mgmt);
        r = th_call_full(&g_fx, "GET", "/client/v4/user/tokens/verify", auth, NULL, NULL, 500);
        secret_wipe(auth, sizeof(auth));
    }
    assert_int_equal(r.cc, CURLE_OPERATION_TIMEDOUT);
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 200, -1);
    th_free(&r);
}

/* reset_before: the connection drops and nothing is applied. */
static void test_fault_reset_before(void **state)
{
    char body[600], auth[200];
    th_resp r;

    (void)state;
    th_fresh_connection = true;
    fault("{\"method\":\"POST\",\"path\":\"/client/v4/user/tokens\",\"kind\":\"reset_before\"}");
    snprintf(body, sizeof(body), create_body, "fault-reset-before");
    snprintf(auth, sizeof(auth), "Bearer %s", g.mgmt);
    r = th_call_full(&g_fx, "POST", "/client/v4/user/tokens", auth, body, NULL, 0);
    secret_wipe(auth, sizeof(auth));
    assert_int_not_equal(r.cc, CURLE_OK);
    th_free(&r);
    assert_false(token_name_exists("fault-reset-before"));
}

/* reset_after: the change is applied, the answer is lost (here: a roll whose new value the
 * client never sees; the old value is dead all the same). */
static void test_fault_reset_after(void **state)
{
    char body[600], auth[200], id[33];
    char *v, *tid;
    th_resp r;

    (void)state;
    th_fresh_connection = true;
    snprintf(body, sizeof(body), create_body, "fault-reset-after");
    r = th_api(&g_fx, "POST", g.mgmt, body, "/user/tokens");
    TH_EXPECT(r, 200, -1);
    v = th_str(&r, "result.value");
    tid = th_str(&r, "result.id");
    strcpy(id, tid);
    free(tid);
    th_free(&r);
    fault("{\"method\":\"PUT\",\"path\":\"/client/v4/user/tokens/*/value\","
          "\"kind\":\"reset_after\"}");
    snprintf(auth, sizeof(auth), "Bearer %s", g.mgmt);
    snprintf(body, sizeof(body), "/client/v4/user/tokens/%s/value", id);
    r = th_call_full(&g_fx, "PUT", body, auth, "{}", NULL, 0);
    secret_wipe(auth, sizeof(auth));
    assert_int_not_equal(r.cc, CURLE_OK);
    th_free(&r);
    r = th_api(&g_fx, "GET", v, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 401, 1000);
    th_free(&r);
    th_wipe_free(v);
}

/* truncate: fewer bytes than Content-Length, then the connection closes. */
static void test_fault_truncate(void **state)
{
    char auth[200];
    th_resp r;

    (void)state;
    th_fresh_connection = true;
    fault("{\"method\":\"GET\",\"path\":\"/client/v4/user/tokens\",\"kind\":\"truncate\"}");
    snprintf(auth, sizeof(auth), "Bearer %s", g.mgmt);
    r = th_call_full(&g_fx, "GET", "/client/v4/user/tokens", auth, NULL, NULL, 0);
    secret_wipe(auth, sizeof(auth));
    assert_int_not_equal(r.cc, CURLE_OK);
    assert_int_equal(r.doc.ntoks, 0);
    th_free(&r);
}

/* malformed_json: a 200 whose body does not parse. */
static void test_fault_malformed_json(void **state)
{
    json_doc d;
    th_resp r;

    (void)state;
    fault("{\"path\":\"/client/v4/user/tokens/verify\",\"kind\":\"malformed_json\"}");
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/verify");
    assert_int_equal(r.status, 200);
    assert_true(r.len > 0);
    assert_int_not_equal(json_parse(&d, r.body, r.len), JSON_OK);
    th_free(&r);
}

/* oversize: a body past the size asked for (default 2 MiB), beyond any sane client cap. */
static void test_fault_oversize(void **state)
{
    th_resp r;

    (void)state;
    fault("{\"path\":\"/client/v4/user/tokens/verify\",\"kind\":\"oversize\"}");
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/verify");
    assert_int_equal(r.status, 200);
    assert_true(r.len > 2u * 1024u * 1024u);
    th_free(&r);
    fault("{\"path\":\"/client/v4/user/tokens/verify\",\"kind\":\"oversize\",\"size\":1100000}");
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/verify");
    assert_true(r.len > 1100000u && r.len < 2u * 1024u * 1024u);
    th_free(&r);
}

/* wrong_content_type: the JSON comes as text/html. */
static void test_fault_wrong_content_type(void **state)
{
    th_resp r;

    (void)state;
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/verify");
    assert_memory_equal(r.content_type, "application/json", 16);
    th_free(&r);
    fault("{\"path\":\"/client/v4/user/tokens/verify\",\"kind\":\"wrong_content_type\"}");
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/verify");
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.content_type, "text/html", 9);
    th_free(&r);
}

/* rate_limit: a 429/971 with the Retry-After asked for. */
static void test_fault_rate_limit(void **state)
{
    th_resp r;

    (void)state;
    fault("{\"method\":\"GET\",\"path\":\"/client/v4/accounts/*\",\"kind\":\"rate_limit\","
          "\"retry_after\":17}");
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/accounts/%s/tokens", g.account);
    TH_EXPECT(r, 429, 971);
    assert_string_equal(r.retry_after, "17");
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/accounts/%s/tokens", g.account);
    TH_EXPECT(r, 200, -1);
    th_free(&r);
}

/* The fault queue: listed, matched by method and glob, cleared; bad faults are refused. */
static void test_fault_queue(void **state)
{
    char *body = NULL;
    th_resp r;

    (void)state;
    fault("{\"method\":\"DELETE\",\"path\":\"/client/v4/user/tokens/*\",\"kind\":\"status\","
          "\"status\":500,\"count\":3}");
    assert_int_equal(cfemu_ctl(&g_fx, "GET", "/__cfemu/faults", NULL, &body), 200);
    assert_non_null(strstr(body, "\"remaining\":3"));
    assert_non_null(strstr(body, "\"kind\":\"status\""));
    free(body);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/verify");
    TH_EXPECT(r, 200, -1);
    th_free(&r);
    assert_int_equal(cfemu_ctl(&g_fx, "DELETE", "/__cfemu/faults", NULL, NULL), 200);
    assert_int_equal(cfemu_ctl(&g_fx, "GET", "/__cfemu/faults", NULL, &body), 200);
    assert_non_null(strstr(body, "\"result\":[]"));
    free(body);
    assert_int_equal(
        cfemu_ctl(&g_fx, "POST", "/__cfemu/faults", "{\"path\":\"/x\",\"kind\":\"explode\"}", NULL),
        400);
    assert_int_equal(cfemu_ctl(&g_fx, "POST", "/__cfemu/faults", "{\"kind\":\"status\"}", NULL),
                     400);
    assert_int_equal(cfemu_ctl(&g_fx, "POST", "/__cfemu/faults", "not json", NULL), 400);
}

/* --- log, counters, clock, state ----------------------------------------------------------- */

/* Unknown routes answer 400/7000 and are counted; a log reset zeroes the counter. */
static void test_unknown_route_counter(void **state)
{
    long before;
    th_resp r;

    (void)state;
    assert_int_equal(cfemu_log_reset(&g_fx), 0);
    assert_int_equal(cfemu_unknown_routes(&g_fx), 0);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/zones");
    TH_EXPECT(r, 400, 7000);
    th_free(&r);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/verify/extra/segments");
    TH_EXPECT(r, 400, 7000);
    th_free(&r);
    r = th_call_full(&g_fx, "GET", "/v4/user/tokens", NULL, NULL, NULL, 0);
    TH_EXPECT(r, 400, 7000);
    th_free(&r);
    before = cfemu_unknown_routes(&g_fx);
    assert_int_equal(before, 3);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/verify");
    th_free(&r);
    assert_int_equal(cfemu_unknown_routes(&g_fx), 3);
    assert_int_equal(cfemu_log_reset(&g_fx), 0);
    assert_int_equal(cfemu_unknown_routes(&g_fx), 0);
}

/* The request log (control API and --log file) names the token id and never holds a secret,
 * even when a secret went in the query string, a header or a body, or came back in one. */
static void test_log_has_no_secrets(void **state)
{
    char path[400], body[700], logfile[400];
    char *ctl_log, *file_log, *state_json = NULL, *created_value;
    const char *secrets[8];
    size_t ns = 0;
    th_resp r;
    FILE *f;
    long n;

    (void)state;
    assert_int_equal(cfemu_log_reset(&g_fx), 0);
    r = th_api(&g_fx, "GET", g.mgmt, NULL, "/user/tokens/verify");
    th_free(&r);
    r = th_api(&g_fx, "GET", g.readonly, NULL, "/user/tokens");
    th_free(&r);
    r = th_api(&g_fx, "GET", g.pages, NULL, "/user/tokens/verify?token=%s", g.pages);
    th_free(&r);
    r = th_api(&g_fx, "GET", g.ci, NULL, "/accounts/%s/tokens/verify", g.account);
    th_free(&r);
    snprintf(body, sizeof(body), create_body, "logged");
    r = th_api(&g_fx, "POST", g.mgmt, body, "/user/tokens");
    created_value = th_str(&r, "result.value");
    assert_non_null(created_value);
    th_free(&r);
    snprintf(path, sizeof(path), "/cdn-cgi/access/probe/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
    snprintf(body, sizeof(body), "CF-Access-Client-Id: %s", g.console_client_id);
    {
        /* The probe's secret goes in a second header; th_call_full takes one extra header, so
         * send the id there and the secret through a raw curl call. */
        CURL *c = curl_easy_init();
        struct curl_slist *hl = NULL;
        char url[700], sh[300];

        snprintf(url, sizeof(url), "%s%s", g_fx.origin, path);
        snprintf(sh, sizeof(sh), "CF-Access-Client-Secret: %s", g.console_secret);
        hl = curl_slist_append(hl, body);
        hl = curl_slist_append(hl, sh);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_CAINFO, g_fx.ca_file);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
        curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, th_on_body);
        {
            th_resp pr;

            memset(&pr, 0, sizeof(pr));
            curl_easy_setopt(c, CURLOPT_WRITEDATA, &pr);
            assert_int_equal(curl_easy_perform(c), CURLE_OK);
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &pr.status);
            assert_int_equal(pr.status, 200);
            th_free(&pr);
        }
        secret_wipe(sh, sizeof(sh));
        for (struct curl_slist *s = hl; s != NULL; s = s->next)
            secret_wipe(s->data, strlen(s->data));
        curl_slist_free_all(hl);
        curl_easy_cleanup(c);
    }

    secrets[ns++] = g.mgmt;
    secrets[ns++] = g.readonly;
    secrets[ns++] = g.pages;
    secrets[ns++] = g.ci;
    secrets[ns++] = g.console_secret;
    secrets[ns++] = created_value;

    ctl_log = cfemu_request_log(&g_fx);
    assert_non_null(ctl_log);
    assert_non_null(strstr(ctl_log, "\"token_id\":\"ed17574386854bf78a67040be0a770b0\""));
    assert_non_null(strstr(ctl_log, "\"token_id\":\"7d3e2c1b0a9f8e7d6c5b4a3928170615\""));
    assert_non_null(strstr(ctl_log, "\"path\":\"/client/v4/user/tokens/verify\""));
    assert_null(strstr(ctl_log, "?token="));
    assert_non_null(strstr(ctl_log, "/cdn-cgi/access/probe/"));

    snprintf(logfile, sizeof(logfile), "%s/requests.log", g_fx.dir);
    f = fopen(logfile, "r");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    file_log = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(file_log, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    assert_non_null(strstr(file_log, "GET /client/v4/user/tokens/verify 200 "
                                     "ed17574386854bf78a67040be0a770b0"));

    assert_int_equal(cfemu_ctl(&g_fx, "GET", "/__cfemu/state", NULL, &state_json), 200);
    assert_non_null(strstr(state_json, "\"client_id\""));
    for (size_t i = 0; i < ns; i++) {
        if (strstr(ctl_log, secrets[i]) != NULL)
            fail_msg("secret %zu appears in the control log", i);
        if (strstr(file_log, secrets[i]) != NULL)
            fail_msg("secret %zu appears in the --log file", i);
        if (strstr(state_json, secrets[i]) != NULL)
            fail_msg("secret %zu appears in /__cfemu/state", i);
    }
    free(ctl_log);
    free(file_log);
    free(state_json);
    th_wipe_free(created_value);
}

/* The clock: advance, set, and refuse nonsense. */
static void test_clock(void **state)
{
    char *body = NULL;
    int64_t t0, t1;

    (void)state;
    t0 = th_now(&g_fx);
    assert_int_equal(cfemu_clock_advance(&g_fx, 86400), 0);
    t1 = th_now(&g_fx);
    assert_true(t1 >= t0 + 86400);
    assert_int_equal(
        cfemu_ctl(&g_fx, "POST", "/__cfemu/clock", "{\"set\":\"2030-01-01T00:00:00Z\"}", &body),
        200);
    assert_non_null(strstr(body, "\"now\":\"2030-01-01T00:00"));
    free(body);
    assert_int_equal(cfemu_ctl(&g_fx, "POST", "/__cfemu/clock", "{\"set\":\"tomorrow\"}", NULL),
                     400);
    assert_int_equal(cfemu_ctl(&g_fx, "POST", "/__cfemu/clock", "{}", NULL), 400);
}

/* Stats and unknown control paths. */
static void test_control_misc(void **state)
{
    char *body = NULL;

    (void)state;
    assert_int_equal(cfemu_ctl(&g_fx, "GET", "/__cfemu/stats", NULL, &body), 200);
    assert_non_null(strstr(body, "\"requests\":"));
    free(body);
    assert_int_equal(cfemu_ctl(&g_fx, "GET", "/__cfemu/nothing", NULL, NULL), 404);
    assert_int_equal(cfemu_ctl(&g_fx, "PATCH", "/__cfemu/log", NULL, NULL), 404);
}

/* --- concurrency --------------------------------------------------------------------------- */

#define CONC_THREADS 4
#define CONC_CALLS   25

typedef struct conc_arg {
    const char *token;
    int ok; /* calls answered 200 */
} conc_arg;

static size_t conc_discard(char *p, size_t sz, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return sz * n;
}

static void *conc_worker(void *p)
{
    conc_arg *a = p;
    CURL *c = curl_easy_init();
    struct curl_slist *hl = NULL;
    char url[200], auth[200];

    if (c == NULL)
        return NULL;
    snprintf(url, sizeof(url), "%s/client/v4/user/tokens/verify", g_fx.origin);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", a->token);
    hl = curl_slist_append(hl, auth);
    secret_wipe(auth, sizeof(auth));
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, g_fx.ca_file);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, conc_discard);
    for (int i = 0; i < CONC_CALLS; i++) {
        long st = 0;

        if (curl_easy_perform(c) == CURLE_OK &&
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st) == CURLE_OK && st == 200)
            a->ok++;
    }
    for (struct curl_slist *s = hl; s != NULL; s = s->next)
        secret_wipe(s->data, strlen(s->data));
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return NULL;
}

/* Parallel clients on their own connections are all served, and every request is counted
 * once (cfemu handles connections in threads around one state lock). */
static void test_concurrent_clients(void **state)
{
    pthread_t th[CONC_THREADS];
    conc_arg args[CONC_THREADS];
    const char *tokens[CONC_THREADS] = {g.mgmt, g.readonly, g.pages, g.mgmt};
    char *body = NULL;

    (void)state;
    assert_int_equal(cfemu_log_reset(&g_fx), 0);
    for (int i = 0; i < CONC_THREADS; i++) {
        args[i].token = tokens[i];
        args[i].ok = 0;
        assert_int_equal(pthread_create(&th[i], NULL, conc_worker, &args[i]), 0);
    }
    for (int i = 0; i < CONC_THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].ok, CONC_CALLS);
    }
    assert_int_equal(cfemu_ctl(&g_fx, "GET", "/__cfemu/stats", NULL, &body), 200);
    assert_non_null(strstr(body, "\"requests\":100,"));
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_tls_verified_with_generated_ca, each_setup),
        cmocka_unit_test_setup(test_tls_session_resumption, each_setup),
        cmocka_unit_test_setup(test_command_line, each_setup),
        cmocka_unit_test_setup(test_insecure_http, each_setup),
        cmocka_unit_test_setup(test_seed_file, each_setup),
        cmocka_unit_test_setup(test_bad_seed_refused, each_setup),
        cmocka_unit_test_setup(test_seed_real_groups, each_setup),
        cmocka_unit_test_setup(test_seed_bad_groups_refused, each_setup),
        cmocka_unit_test_setup(test_rate_limit, each_setup),
        cmocka_unit_test_setup(test_rate_limit_without_block, each_setup),
        cmocka_unit_test_setup(test_fault_status, each_setup),
        cmocka_unit_test_setup(test_fault_delay, each_setup),
        cmocka_unit_test_setup(test_fault_reset_before, each_setup),
        cmocka_unit_test_setup(test_fault_reset_after, each_setup),
        cmocka_unit_test_setup(test_fault_truncate, each_setup),
        cmocka_unit_test_setup(test_fault_malformed_json, each_setup),
        cmocka_unit_test_setup(test_fault_oversize, each_setup),
        cmocka_unit_test_setup(test_fault_wrong_content_type, each_setup),
        cmocka_unit_test_setup(test_fault_rate_limit, each_setup),
        cmocka_unit_test_setup(test_fault_queue, each_setup),
        cmocka_unit_test_setup(test_unknown_route_counter, each_setup),
        cmocka_unit_test_setup(test_log_has_no_secrets, each_setup),
        cmocka_unit_test_setup(test_clock, each_setup),
        cmocka_unit_test_setup(test_control_misc, each_setup),
        cmocka_unit_test_setup(test_concurrent_clients, each_setup),
    };

    int failed = cmocka_run_group_tests_name("cfemu_infra", tests, group_setup, group_teardown);

    return failed != 0 || g_teardown_failed ? 1 : 0;
}
