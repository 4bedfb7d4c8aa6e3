/* SPDX-License-Identifier: MIT */
/* test_access_service_token.c - the cloudflare.access_service_token adapter, driven like a host:
 * dlopen(ROTP_PLUGIN), rotp_provider_entry_v1, open an instance with the seed's MGMT token and
 * call the operations against a private cfemu over TLS (built-in seed). Verification probes go to
 * cfemu's Access-protected origin (GET /cdn-cgi/access/probe/{app_id}).
 *
 * Every test gets a fresh cfemu (its clock then starts at the wall clock the provider uses for
 * grace deadlines, and no test sees another's tokens). After each test: no secret that was used
 * or created appears in any provider log line (captured at DEBUG), and cfemu counted no request
 * outside the spec's routes. */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cfemu_fixture.h"
#include "json.h"
#include "rotp.h"
#include "secret.h"

#define MAX_SECRETS 64
#define MAX_KV      16

#define ST_KIND "cloudflare.access_service_token"

/* What the seed's creds file tells us. Secrets are malloc'd and wiped before they are freed. */
typedef struct creds {
    char account[40];
    char zone[40];
    char *mgmt;
    char *readonly;
    char console_id[40], console_cid[128], *console_secret;
    char vault_id[40], vault_cid[128], *vault_secret;
    char edge_id[40], edge_cid[128], *edge_secret;
    char app_console[40], app_vault[40], app_edge[40];
} creds;

typedef struct world {
    cfemu_fx fx;
    creds cr;
    void *dl;
    const rotp_provider *prov;
    rotp_instance *inst;
    /* Every provider log line, one per '\n'. */
    char *log;
    size_t log_len;
    /* Every secret the test used or saw, to look for in the log. */
    char *secrets[MAX_SECRETS];
    size_t nsecrets;
} world;

static world W;

/* --- small helpers ----------------------------------------------------------------------- */

static void wipe_free(char *s)
{
    if (s != NULL) {
        secret_wipe(s, strlen(s));
        free(s);
    }
}

static void remember_secret(const char *s)
{
    assert_non_null(s);
    assert_true(W.nsecrets < MAX_SECRETS);
    W.secrets[W.nsecrets] = strdup(s);
    assert_non_null(W.secrets[W.nsecrets]);
    W.nsecrets++;
}

static void on_log(void *user, int32_t level, const char *message, uint64_t len)
{
    (void)user;
    (void)level;
    char *nl = realloc(W.log, W.log_len + len + 2);
    if (nl == NULL)
        return;
    memcpy(nl + W.log_len, message, len);
    W.log_len += len;
    nl[W.log_len++] = '\n';
    nl[W.log_len] = '\0';
    W.log = nl;
}

/* --- creds file -------------------------------------------------------------------------- */

static char *read_creds_text(void)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/creds.env", W.fx.dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char *buf = calloc(1, 65536);
    if (buf != NULL && fread(buf, 1, 65535, f) == 0) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static char *cred(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = text; p != NULL && *p != '\0';) {
        const char *eol = strchr(p, '\n');
        size_t ll = eol != NULL ? (size_t)(eol - p) : strlen(p);
        if (ll > klen && strncmp(p, key, klen) == 0 && p[klen] == '=')
            return strndup(p + klen + 1, ll - klen - 1);
        p = eol != NULL ? eol + 1 : NULL;
    }
    fail_msg("creds file lacks %s", key);
    return NULL;
}

static void cred_copy(const char *text, const char *key, char *dst, size_t cap)
{
    char *v = cred(text, key);
    assert_true(strlen(v) < cap);
    strcpy(dst, v);
    free(v);
}

static char *cred_secret(const char *text, const char *key)
{
    char *v = cred(text, key);
    remember_secret(v);
    return v;
}

static void creds_load(creds *cr)
{
    char *text = read_creds_text();
    assert_non_null(text);
    cred_copy(text, "CFEMU_ACCOUNT_ID", cr->account, sizeof(cr->account));
    cred_copy(text, "CFEMU_ZONE_ID", cr->zone, sizeof(cr->zone));
    cr->mgmt = cred_secret(text, "CFEMU_TOKEN_MGMT_VALUE");
    cr->readonly = cred_secret(text, "CFEMU_TOKEN_READONLY_VALUE");
    cred_copy(text, "CFEMU_ST_CONSOLE_PROBE_ID", cr->console_id, sizeof(cr->console_id));
    cred_copy(text, "CFEMU_ST_CONSOLE_PROBE_CLIENT_ID", cr->console_cid, sizeof(cr->console_cid));
    cr->console_secret = cred_secret(text, "CFEMU_ST_CONSOLE_PROBE_CLIENT_SECRET");
    cred_copy(text, "CFEMU_ST_VAULT_PROBE_ID", cr->vault_id, sizeof(cr->vault_id));
    cred_copy(text, "CFEMU_ST_VAULT_PROBE_CLIENT_ID", cr->vault_cid, sizeof(cr->vault_cid));
    cr->vault_secret = cred_secret(text, "CFEMU_ST_VAULT_PROBE_CLIENT_SECRET");
    cred_copy(text, "CFEMU_ST_EDGE_PROBE_ID", cr->edge_id, sizeof(cr->edge_id));
    cred_copy(text, "CFEMU_ST_EDGE_PROBE_CLIENT_ID", cr->edge_cid, sizeof(cr->edge_cid));
    cr->edge_secret = cred_secret(text, "CFEMU_ST_EDGE_PROBE_CLIENT_SECRET");
    cred_copy(text, "CFEMU_APP_CONSOLE_ID", cr->app_console, sizeof(cr->app_console));
    cred_copy(text, "CFEMU_APP_VAULT_ID", cr->app_vault, sizeof(cr->app_vault));
    cred_copy(text, "CFEMU_APP_EDGE_ID", cr->app_edge, sizeof(cr->app_edge));
    secret_wipe(text, strlen(text));
    free(text);
}

static void creds_free(creds *cr)
{
    wipe_free(cr->mgmt);
    wipe_free(cr->readonly);
    wipe_free(cr->console_secret);
    wipe_free(cr->vault_secret);
    wipe_free(cr->edge_secret);
    memset(cr, 0, sizeof(*cr));
}

/* --- the host side of the ABI ------------------------------------------------------------ */

static const char *plugin_path(void)
{
    const char *p = getenv("ROTP_PLUGIN");
    return p != NULL && *p != '\0' ? p : ROTP_PLUGIN_PATH;
}

static void set_param(rotp_param *p, const char *key, const char *value)
{
    memset(p, 0, sizeof(*p));
    p->struct_size = sizeof(*p);
    p->key = key;
    p->value = value;
    p->value_len = strlen(value);
    if (strcmp(key, "api_token") == 0 || strcmp(key, "client_secret") == 0)
        p->flags = ROTP_PARAM_SECRET;
}

static void err_init(rotp_error *err)
{
    memset(err, 0, sizeof(*err));
    err->struct_size = sizeof(*err);
}

/* Opens an instance against cfemu with `token` as the management credential. */
static rotp_instance *open_with(const char *token, rotp_error *err)
{
    rotp_param cfg[3];
    rotp_params p;
    rotp_host host;
    rotp_instance *inst = NULL;
    set_param(&cfg[0], "api_token", token);
    set_param(&cfg[1], "api_base", W.fx.api_base);
    set_param(&cfg[2], "ca_file", W.fx.ca_file);
    p.struct_size = sizeof(p);
    p.count = 3;
    p.items = cfg;
    memset(&host, 0, sizeof(host));
    host.struct_size = sizeof(host);
    host.log_level = ROTP_LOG_DEBUG;
    host.log = on_log;
    err_init(err);
    int32_t rc = W.prov->open(&host, &p, &inst, err);
    if (rc != ROTP_E_OK)
        return NULL;
    return inst;
}

/* Calls op with the NULL-terminated key/value list (kind added first). Returns the code. */
static int32_t vcall(rotp_instance *inst, rotp_op_fn op, rotp_result *res, rotp_error *err,
                     va_list ap)
{
    rotp_param items[MAX_KV];
    rotp_params req;
    uint32_t n = 0;
    set_param(&items[n++], "kind", ST_KIND);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (k == NULL)
            break;
        const char *v = va_arg(ap, const char *);
        assert_true(n < MAX_KV);
        set_param(&items[n++], k, v);
    }
    req.struct_size = sizeof(req);
    req.count = n;
    req.items = items;
    memset(res, 0, sizeof(*res));
    res->struct_size = sizeof(*res);
    err_init(err);
    int32_t rc = op(inst, &req, res, err);
    assert_int_equal(rc, err->code);
    if (rc != ROTP_E_OK) {
        assert_int_equal(res->count, 0);
        assert_null(res->items);
    }
    return rc;
}

/* call(W.prov->roll, &res, &err, "id", id, ..., NULL) on the test's instance. */
static int32_t call(rotp_op_fn op, rotp_result *res, rotp_error *err, ...)
{
    va_list ap;
    va_start(ap, err);
    int32_t rc = vcall(W.inst, op, res, err, ap);
    va_end(ap);
    return rc;
}

static int32_t call_on(rotp_instance *inst, rotp_op_fn op, rotp_result *res, rotp_error *err, ...)
{
    va_list ap;
    va_start(ap, err);
    int32_t rc = vcall(inst, op, res, err, ap);
    va_end(ap);
    return rc;
}

/* Like call(), and fails the test (with the provider's message) unless the code is OK. */
#define CALL_OK(op, res, ...)                                                                      \
    do {                                                                                           \
        rotp_error e_;                                                                             \
        if (call((op), (res), &e_, __VA_ARGS__) != ROTP_E_OK)                                      \
            fail_msg("%s: code %d: %s", #op, e_.code, e_.message);                                 \
    } while (0)

static const rotp_param *res_find(const rotp_result *res, const char *key)
{
    if (res->count == 0)
        return NULL;
    size_t stride = res->items[0].struct_size;
    assert_true(stride >= sizeof(rotp_param));
    for (uint32_t i = 0; i < res->count; i++) {
        const rotp_param *p = (const rotp_param *)((const char *)res->items + i * stride);
        if (strcmp(p->key, key) == 0)
            return p;
    }
    return NULL;
}

static const char *res_get(const rotp_result *res, const char *key)
{
    const rotp_param *p = res_find(res, key);
    return p != NULL ? p->value : NULL;
}

/* The value of key, which must be there. */
static const char *res_need(const rotp_result *res, const char *key)
{
    const char *v = res_get(res, key);
    if (v == NULL)
        fail_msg("result lacks %s", key);
    return v;
}

/* A copy of the SECRET-flagged client_secret, remembered for the log check. */
static char *res_secret(const rotp_result *res)
{
    const rotp_param *p = res_find(res, "client_secret");
    assert_non_null(p);
    assert_true((p->flags & ROTP_PARAM_SECRET) != 0);
    assert_true(p->value_len >= 32);
    remember_secret(p->value);
    return strdup(p->value);
}

static void res_free(rotp_result *res)
{
    W.prov->result_free(res);
    assert_int_equal(res->count, 0);
    assert_null(res->items);
}

static void probe_url(const char *app, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/cdn-cgi/access/probe/%s", W.fx.origin, app);
}

/* verify with a probe; returns the state (malloc'd) and checks probe_status is set. */
static char *verify_state(const char *scope_key, const char *scope, const char *id,
                          const char *client_id, const char *secret, const char *app)
{
    char url[256];
    rotp_result res;
    probe_url(app, url, sizeof(url));
    if (id != NULL)
        CALL_OK(W.prov->verify, &res, scope_key, scope, "id", id, "client_id", client_id,
                "client_secret", secret, "probe_url", url, NULL);
    else
        CALL_OK(W.prov->verify, &res, scope_key, scope, "client_id", client_id, "client_secret",
                secret, "probe_url", url, NULL);
    char *state = strdup(res_need(&res, "state"));
    /* the probe is made when the management view leaves the question open */
    if (strcmp(state, "absent") == 0 || strcmp(state, "disabled") == 0 ||
        strcmp(state, "expired") == 0)
        assert_null(res_get(&res, "probe_status"));
    else
        assert_non_null(res_get(&res, "probe_status"));
    res_free(&res);
    return state;
}

static void expect_state(const char *scope_key, const char *scope, const char *id,
                         const char *client_id, const char *secret, const char *app,
                         const char *want)
{
    char *got = verify_state(scope_key, scope, id, client_id, secret, app);
    if (strcmp(got, want) != 0) {
        char msg[128];
        snprintf(msg, sizeof(msg), "verify state %s, want %s", got, want);
        free(got);
        fail_msg("%s", msg);
    }
    free(got);
}

#define ACCT "account_id", W.cr.account
#define ZONE "zone_id", W.cr.zone

/* The JSON state dump of cfemu (malloc'd). */
static char *cfemu_state(void)
{
    char *body = NULL;
    int st = cfemu_ctl(&W.fx, "GET", "/__cfemu/state", NULL, &body);
    assert_int_equal(st, 200);
    assert_non_null(body);
    return body;
}

static size_t count_substr(const char *hay, const char *needle)
{
    size_t n = 0, at = 0, nlen = strlen(needle), hlen = strlen(hay);
    for (; nlen > 0 && at + nlen <= hlen; at++)
        if (memcmp(hay + at, needle, nlen) == 0)
            n++;
    return n;
}

/* --- fixture ----------------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    memset(&W, 0, sizeof(W));
    if (cfemu_start(&W.fx, NULL, NULL) != 0)
        return -1;
    creds_load(&W.cr);
    W.dl = dlopen(plugin_path(), RTLD_NOW | RTLD_LOCAL);
    if (W.dl == NULL) {
        fprintf(stderr, "dlopen %s: %s\n", plugin_path(), dlerror());
        return -1;
    }
    rotp_entry_fn entry = (rotp_entry_fn)dlsym(W.dl, ROTP_ENTRY_SYMBOL);
    assert_non_null(entry);
    rotp_host host;
    rotp_error err;
    memset(&host, 0, sizeof(host));
    host.struct_size = sizeof(host);
    host.log_level = ROTP_LOG_DEBUG;
    host.log = on_log;
    err_init(&err);
    W.prov = entry(ROTP_ABI_MINOR, &host, &err);
    assert_non_null(W.prov);
    assert_int_equal(W.prov->abi_major, ROTP_ABI_MAJOR);
    W.inst = open_with(W.cr.mgmt, &err);
    if (W.inst == NULL)
        fail_msg("open: %d %s", err.code, err.message);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int bad = 0;
    if (W.prov != NULL)
        W.prov->close(W.inst);
    /* No secret in any provider log line. */
    for (size_t i = 0; i < W.nsecrets; i++) {
        if (W.log != NULL && strstr(W.log, W.secrets[i]) != NULL) {
            fprintf(stderr, "secret #%zu appears in the provider log\n", i);
            bad = 1;
        }
        wipe_free(W.secrets[i]);
    }
    if (getenv("ROTP_TEST_VERBOSE") != NULL && W.log != NULL)
        fprintf(stderr, "--- provider log ---\n%s", W.log);
    if (W.log_len == 0) {
        fprintf(stderr, "the provider logged nothing at DEBUG\n");
        bad = 1;
    }
    long unknown = cfemu_unknown_routes(&W.fx);
    if (unknown != 0) {
        char *log = cfemu_request_log(&W.fx);
        fprintf(stderr, "cfemu counted %ld unknown routes: %s\n", unknown, log ? log : "");
        free(log);
        bad = 1;
    }
    free(W.log);
    creds_free(&W.cr);
    if (cfemu_stop(&W.fx) != 0) {
        fprintf(stderr, "cfemu did not exit cleanly\n");
        bad = 1;
    }
    if (W.dl != NULL)
        dlclose(W.dl);
    memset(&W, 0, sizeof(W));
    return bad ? -1 : 0;
}

/* --- rotate ------------------------------------------------------------------------------ */

/* rotate with a grace window: both secrets pass the probe, revoke ends the overlap (old 401,
 * new 200), and the id and client id never change. The console app names the token by id. */
static void test_rotate_grace_then_revoke(void **state)
{
    (void)state;
    rotp_result res;
    const char *id = W.cr.console_id;
    expect_state(ACCT, id, W.cr.console_cid, W.cr.console_secret, W.cr.app_console, "active");

    CALL_OK(W.prov->roll, &res, ACCT, "id", id, "strategy", "rotate", "grace_seconds", "3600",
            NULL);
    assert_string_equal(res_need(&res, "id"), id);
    assert_string_equal(res_need(&res, "client_id"), W.cr.console_cid);
    assert_string_equal(res_need(&res, "strategy"), "rotate");
    assert_non_null(res_get(&res, "previous_secret_expires_at"));
    assert_non_null(res_get(&res, "expires_at"));
    assert_string_equal(res_need(&res, "client_secret_version"), "2");
    char *fresh = res_secret(&res);
    assert_string_not_equal(fresh, W.cr.console_secret);
    res_free(&res);

    expect_state(ACCT, id, W.cr.console_cid, W.cr.console_secret, W.cr.app_console, "active");
    expect_state(ACCT, id, W.cr.console_cid, fresh, W.cr.app_console, "active");

    CALL_OK(W.prov->revoke, &res, ACCT, "id", id, "strategy", "rotate", NULL);
    assert_string_equal(res_need(&res, "state"), "revoked");
    assert_string_equal(res_need(&res, "id"), id);
    res_free(&res);

    char url[256];
    probe_url(W.cr.app_console, url, sizeof(url));
    CALL_OK(W.prov->verify, &res, ACCT, "id", id, "client_id", W.cr.console_cid, "client_secret",
            W.cr.console_secret, "probe_url", url, NULL);
    assert_string_equal(res_need(&res, "state"), "invalid");
    assert_string_equal(res_need(&res, "probe_status"), "401");
    res_free(&res);
    expect_state(ACCT, id, W.cr.console_cid, fresh, W.cr.app_console, "active");

    /* The management view after all this: same client id, the token still there. */
    CALL_OK(W.prov->describe, &res, ACCT, "id", id, NULL);
    assert_string_equal(res_need(&res, "client_id"), W.cr.console_cid);
    assert_string_equal(res_need(&res, "enabled"), "true");
    res_free(&res);
    wipe_free(fresh);
}

/* rotate (the account-level default) and let the grace window elapse on cfemu's clock. */
static void test_rotate_window_elapses(void **state)
{
    (void)state;
    rotp_result res;
    const char *id = W.cr.vault_id;
    CALL_OK(W.prov->roll, &res, ACCT, "id", id, "grace_seconds", "600", NULL);
    assert_string_equal(res_need(&res, "strategy"), "rotate");
    assert_string_equal(res_need(&res, "client_id"), W.cr.vault_cid);
    char *fresh = res_secret(&res);
    res_free(&res);
    expect_state(ACCT, id, W.cr.vault_cid, W.cr.vault_secret, W.cr.app_vault, "active");
    expect_state(ACCT, id, W.cr.vault_cid, fresh, W.cr.app_vault, "active");

    assert_int_equal(cfemu_clock_advance(&W.fx, 700), 0);
    expect_state(ACCT, id, W.cr.vault_cid, W.cr.vault_secret, W.cr.app_vault, "invalid");
    expect_state(ACCT, id, W.cr.vault_cid, fresh, W.cr.app_vault, "active");
    /* Found by client id alone, too. */
    expect_state(ACCT, NULL, W.cr.vault_cid, fresh, W.cr.app_vault, "active");
    wipe_free(fresh);
}

/* grace_seconds=0, asked for explicitly: the old secret is dead at once. */
static void test_rotate_grace_zero(void **state)
{
    (void)state;
    rotp_result res;
    const char *id = W.cr.vault_id;
    CALL_OK(W.prov->roll, &res, ACCT, "id", id, "strategy", "rotate", "grace_seconds", "0", NULL);
    char *fresh = res_secret(&res);
    assert_string_equal(res_need(&res, "client_id"), W.cr.vault_cid);
    res_free(&res);
    expect_state(ACCT, id, W.cr.vault_cid, W.cr.vault_secret, W.cr.app_vault, "invalid");
    expect_state(ACCT, id, W.cr.vault_cid, fresh, W.cr.app_vault, "active");
    wipe_free(fresh);
}

/* --- create-swap-delete ------------------------------------------------------------------ */

/* Account level with an any_valid_service_token app: both tokens pass, the old one is deleted,
 * a second delete says absent. */
static void test_csd_account_any_valid(void **state)
{
    (void)state;
    rotp_result res;
    const char *old = W.cr.vault_id;
    CALL_OK(W.prov->roll, &res, ACCT, "id", old, "strategy", "create-swap-delete", "run_id",
            "acct-1", NULL);
    char nid[40], ncid[128];
    snprintf(nid, sizeof(nid), "%s", res_need(&res, "id"));
    snprintf(ncid, sizeof(ncid), "%s", res_need(&res, "client_id"));
    assert_string_not_equal(nid, old);
    assert_string_not_equal(ncid, W.cr.vault_cid);
    assert_string_equal(res_need(&res, "replaced_id"), old);
    assert_string_equal(res_need(&res, "run_id"), "acct-1");
    assert_string_equal(res_need(&res, "name"), "vault-probe.rot-acct-1");
    assert_string_equal(res_need(&res, "strategy"), "create-swap-delete");
    assert_non_null(strstr(res_need(&res, "warning"), "policy"));
    char *fresh = res_secret(&res);
    res_free(&res);

    expect_state(ACCT, nid, ncid, fresh, W.cr.app_vault, "active");
    expect_state(ACCT, old, W.cr.vault_cid, W.cr.vault_secret, W.cr.app_vault, "active");

    CALL_OK(W.prov->revoke, &res, ACCT, "id", old, "strategy", "create-swap-delete", NULL);
    assert_string_equal(res_need(&res, "state"), "revoked");
    res_free(&res);
    expect_state(ACCT, old, W.cr.vault_cid, W.cr.vault_secret, W.cr.app_vault, "absent");
    expect_state(ACCT, nid, ncid, fresh, W.cr.app_vault, "active");

    CALL_OK(W.prov->revoke, &res, ACCT, "id", old, "strategy", "create-swap-delete", NULL);
    assert_string_equal(res_need(&res, "state"), "absent");
    res_free(&res);

    /* A second rotation of the new token keeps one run tag in the name. */
    CALL_OK(W.prov->roll, &res, ACCT, "id", nid, "strategy", "create-swap-delete", "run_id",
            "acct-2", NULL);
    assert_string_equal(res_need(&res, "name"), "vault-probe.rot-acct-2");
    wipe_free(res_secret(&res));
    res_free(&res);
    wipe_free(fresh);
}

/* Zone level: create-swap-delete is the default and the only strategy. */
static void test_csd_zone(void **state)
{
    (void)state;
    rotp_result res;
    rotp_error err;
    const char *old = W.cr.edge_id;
    assert_int_equal(call(W.prov->roll, &res, &err, ZONE, "id", old, "strategy", "rotate", NULL),
                     ROTP_E_UNSUPPORTED);
    assert_non_null(strstr(err.message, "zone"));

    CALL_OK(W.prov->roll, &res, ZONE, "id", old, NULL);
    assert_string_equal(res_need(&res, "strategy"), "create-swap-delete");
    assert_string_equal(res_need(&res, "replaced_id"), old);
    char nid[40], ncid[128], run[64];
    snprintf(nid, sizeof(nid), "%s", res_need(&res, "id"));
    snprintf(ncid, sizeof(ncid), "%s", res_need(&res, "client_id"));
    snprintf(run, sizeof(run), "%s", res_need(&res, "run_id"));
    assert_int_equal(strlen(run), 12); /* generated: 12 hex digits */
    assert_string_not_equal(ncid, W.cr.edge_cid);
    char *fresh = res_secret(&res);
    res_free(&res);

    expect_state(ZONE, nid, ncid, fresh, W.cr.app_edge, "active");
    expect_state(ZONE, old, W.cr.edge_cid, W.cr.edge_secret, W.cr.app_edge, "active");
    CALL_OK(W.prov->revoke, &res, ZONE, "id", old, NULL);
    assert_string_equal(res_need(&res, "state"), "revoked");
    res_free(&res);
    expect_state(ZONE, old, W.cr.edge_cid, W.cr.edge_secret, W.cr.app_edge, "absent");
    expect_state(ZONE, nid, ncid, fresh, W.cr.app_edge, "active");

    CALL_OK(W.prov->list, &res, ZONE, "search", ".rot-", NULL);
    assert_string_equal(res_need(&res, "count"), "1");
    assert_non_null(strstr(res_need(&res, "items"), nid));
    res_free(&res);
    wipe_free(fresh);
}

/* The console app names CONSOLE_PROBE by id: the new token is not admitted (403), and deleting
 * the old one is a conflict (12139) that leaves it working. */
static void test_csd_policy_names_old_token(void **state)
{
    (void)state;
    rotp_result res;
    rotp_error err;
    const char *old = W.cr.console_id;
    CALL_OK(W.prov->roll, &res, ACCT, "id", old, "strategy", "create-swap-delete", NULL);
    char nid[40], ncid[128];
    snprintf(nid, sizeof(nid), "%s", res_need(&res, "id"));
    snprintf(ncid, sizeof(ncid), "%s", res_need(&res, "client_id"));
    char *fresh = res_secret(&res);
    res_free(&res);

    char url[256];
    probe_url(W.cr.app_console, url, sizeof(url));
    CALL_OK(W.prov->verify, &res, ACCT, "id", nid, "client_id", ncid, "client_secret", fresh,
            "probe_url", url, NULL);
    assert_string_equal(res_need(&res, "state"), "not_admitted");
    assert_string_equal(res_need(&res, "probe_status"), "403");
    res_free(&res);

    assert_int_equal(
        call(W.prov->revoke, &res, &err, ACCT, "id", old, "strategy", "create-swap-delete", NULL),
        ROTP_E_CONFLICT);
    assert_int_equal(err.api_code, 12139);
    assert_non_null(strstr(err.message, "policy"));
    expect_state(ACCT, old, W.cr.console_cid, W.cr.console_secret, W.cr.app_console, "active");
    wipe_free(fresh);
}

/* The create's answer is lost: outcome unknown; list by the run-id name finds the orphan; a
 * retry with the same run_id refuses to create a second token and names the orphan. */
static void test_lost_create_finds_orphan(void **state)
{
    (void)state;
    rotp_result res;
    rotp_error err;
    const char *old = W.cr.vault_id;
    assert_int_equal(cfemu_fault(&W.fx, "{\"method\":\"POST\",\"path\":\"*/access/service_tokens\","
                                        "\"kind\":\"reset_after\",\"count\":1}"),
                     0);
    assert_int_equal(call(W.prov->roll, &res, &err, ACCT, "id", old, "strategy",
                          "create-swap-delete", "run_id", "lost-1", NULL),
                     ROTP_E_OUTCOME_UNKNOWN);
    assert_true((err.flags & ROTP_ERRF_REQUEST_SENT) != 0);
    assert_non_null(strstr(err.message, "lost-1"));

    CALL_OK(W.prov->list, &res, ACCT, "name", "vault-probe.rot-lost-1", NULL);
    assert_string_equal(res_need(&res, "count"), "1");
    const char *items = res_need(&res, "items");
    assert_null(strstr(items, "secret"));
    json_doc doc;
    assert_int_equal(json_parse(&doc, items, strlen(items)), JSON_OK);
    char orphan[40];
    assert_int_equal(
        json_strcpy(&doc, json_get(&doc, json_at(&doc, 0, 0), "id"), orphan, sizeof(orphan)), 0);
    json_free(&doc);
    res_free(&res);

    assert_int_equal(call(W.prov->roll, &res, &err, ACCT, "id", old, "strategy",
                          "create-swap-delete", "run_id", "lost-1", NULL),
                     ROTP_E_CONFLICT);
    assert_non_null(strstr(err.message, orphan));

    char *st = cfemu_state();
    assert_int_equal(count_substr(st, "\"vault-probe.rot-lost-1\""), 1);
    free(st);

    /* Clean-up through the adapter: the orphan can be deleted. */
    CALL_OK(W.prov->revoke, &res, ACCT, "id", orphan, "strategy", "create-swap-delete", NULL);
    assert_string_equal(res_need(&res, "state"), "revoked");
    res_free(&res);
}

/* The rotate POST's answer is lost: outcome unknown, with the advice to rotate again; the POST
 * was sent once and not retried. */
static void test_lost_rotate(void **state)
{
    (void)state;
    rotp_result res;
    rotp_error err;
    const char *id = W.cr.vault_id;
    assert_int_equal(cfemu_log_reset(&W.fx), 0);
    assert_int_equal(cfemu_fault(&W.fx, "{\"method\":\"POST\",\"path\":\"*/rotate\","
                                        "\"kind\":\"reset_after\",\"count\":1}"),
                     0);
    assert_int_equal(call(W.prov->roll, &res, &err, ACCT, "id", id, "grace_seconds", "600", NULL),
                     ROTP_E_OUTCOME_UNKNOWN);
    assert_true((err.flags & ROTP_ERRF_REQUEST_SENT) != 0);
    assert_non_null(strstr(err.message, "rotate again"));
    char *log = cfemu_request_log(&W.fx);
    assert_non_null(log);
    assert_int_equal(count_substr(log, "/rotate"), 1);
    free(log);

    /* The change did apply (the lost answer carried the new secret): the old secret still works
     * inside its window, and rotating again gives a usable secret. */
    expect_state(ACCT, id, W.cr.vault_cid, W.cr.vault_secret, W.cr.app_vault, "active");
    CALL_OK(W.prov->roll, &res, ACCT, "id", id, "grace_seconds", "600", NULL);
    char *fresh = res_secret(&res);
    assert_string_equal(res_need(&res, "client_secret_version"), "3");
    res_free(&res);
    expect_state(ACCT, id, W.cr.vault_cid, fresh, W.cr.app_vault, "active");
    wipe_free(fresh);
}

/* A 429 on the rotate POST is not retried (a state change): RATE_LIMITED with retry_after_ms. */
static void test_rate_limited_rotate(void **state)
{
    (void)state;
    rotp_result res;
    rotp_error err;
    assert_int_equal(cfemu_log_reset(&W.fx), 0);
    assert_int_equal(cfemu_fault(&W.fx, "{\"method\":\"POST\",\"path\":\"*/rotate\","
                                        "\"kind\":\"rate_limit\",\"retry_after\":7,"
                                        "\"count\":1}"),
                     0);
    assert_int_equal(call(W.prov->roll, &res, &err, ACCT, "id", W.cr.vault_id, NULL),
                     ROTP_E_RATE_LIMITED);
    assert_int_equal(err.http_status, 429);
    assert_int_equal(err.retryable, 1);
    assert_int_equal(err.retry_after_ms, 7000);
    char *log = cfemu_request_log(&W.fx);
    assert_non_null(log);
    assert_int_equal(count_substr(log, "/rotate"), 1);
    free(log);
    /* Nothing changed: the seed secret is still the only one. */
    expect_state(ACCT, W.cr.vault_id, W.cr.vault_cid, W.cr.vault_secret, W.cr.app_vault, "active");
}

/* A probe that answers neither an admission nor a rejection is no evidence: an error with the
 * status, never a state (issue 14). 401 and 403 stay answers. */
static void test_probe_non_answers_are_errors(void **state)
{
    static const struct {
        const char *fault;
        int32_t code;
        int status;
    } cases[] = {
        {"\"kind\":\"status\",\"status\":503", ROTP_E_TRANSIENT, 503},
        {"\"kind\":\"status\",\"status\":500", ROTP_E_TRANSIENT, 500},
        {"\"kind\":\"rate_limit\",\"retry_after\":1", ROTP_E_RATE_LIMITED, 429},
        {"\"kind\":\"status\",\"status\":302", ROTP_E_PROTOCOL, 302},
        {"\"kind\":\"status\",\"status\":404", ROTP_E_PROTOCOL, 404},
    };
    char url[256], fx[256];
    rotp_result res;
    rotp_error err;

    (void)state;
    probe_url(W.cr.app_vault, url, sizeof(url));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(fx, sizeof(fx),
                 "{\"method\":\"GET\",\"path\":\"/cdn-cgi/access/probe/*\",%s,"
                 "\"count\":10}",
                 cases[i].fault);
        assert_int_equal(cfemu_fault(&W.fx, fx), 0);
        assert_int_equal(call(W.prov->verify, &res, &err, ACCT, "id", W.cr.vault_id, "client_id",
                              W.cr.vault_cid, "client_secret", W.cr.vault_secret, "probe_url", url,
                              NULL),
                         cases[i].code);
        assert_int_equal(err.http_status, cases[i].status);
        assert_int_equal(cfemu_ctl(&W.fx, "DELETE", "/__cfemu/faults", NULL, NULL), 200);
    }
    /* without the fault the same secret is what it was: admitted */
    expect_state(ACCT, W.cr.vault_id, W.cr.vault_cid, W.cr.vault_secret, W.cr.app_vault, "active");
    /* a definite 403 stays an answer: the console app admits only its own token */
    expect_state(ACCT, W.cr.vault_id, W.cr.vault_cid, W.cr.vault_secret, W.cr.app_console,
                 "not_admitted");
}

/* A delete whose answer is lost (every attempt) settles itself by looking: gone is revoked. */
static void test_lost_delete_settles_by_looking(void **state)
{
    rotp_result res;
    rotp_error err;
    char *log;

    (void)state;
    assert_int_equal(cfemu_log_reset(&W.fx), 0);
    assert_int_equal(cfemu_fault(&W.fx, "{\"method\":\"DELETE\",\"path\":\"*/service_tokens/*\","
                                        "\"kind\":\"reset_after\",\"count\":20}"),
                     0);
    assert_int_equal(call(W.prov->revoke, &res, &err, ZONE, "id", W.cr.edge_id, NULL), ROTP_E_OK);
    assert_string_equal(res_need(&res, "state"), "revoked");
    res_free(&res);
    log = cfemu_request_log(&W.fx);
    assert_non_null(log);
    assert_true(count_substr(log, "\"DELETE\"") >= 1);
    assert_true(count_substr(log, "\"GET\"") >= 1); /* the look */
    free(log);
    expect_state(ZONE, W.cr.edge_id, W.cr.edge_cid, W.cr.edge_secret, W.cr.app_edge, "absent");
}

/* list walks every page (50 per page at account level) and never shows a secret. */
static void test_list_pages(void **state)
{
    (void)state;
    rotp_result res;
    char name[32], run[16];
    for (int i = 0; i < 57; i++) {
        snprintf(name, sizeof(name), "bulk-%02d", i);
        snprintf(run, sizeof(run), "b%d", i);
        CALL_OK(W.prov->provision, &res, ACCT, "name", name, "run_id", run, NULL);
        wipe_free(res_secret(&res));
        res_free(&res);
    }
    assert_int_equal(cfemu_log_reset(&W.fx), 0);
    CALL_OK(W.prov->list, &res, ACCT, "search", "BULK-", NULL);
    assert_string_equal(res_need(&res, "count"), "57");
    const char *items = res_need(&res, "items");
    assert_null(strstr(items, "secret"));
    json_doc doc;
    assert_int_equal(json_parse(&doc, items, strlen(items)), JSON_OK);
    assert_true(json_is_array(&doc, 0));
    assert_int_equal(doc.toks[0].size, 57);
    assert_true(
        json_str_eq(&doc, json_get(&doc, json_at(&doc, 0, 56), "name"), "bulk-56.sandbox-b56"));
    json_free(&doc);
    res_free(&res);
    char *log = cfemu_request_log(&W.fx);
    assert_non_null(log);
    assert_int_equal(count_substr(log, "/access/service_tokens"), 2); /* two pages */
    free(log);

    CALL_OK(W.prov->list, &res, ACCT, "name", "bulk-07.sandbox-b7", NULL);
    assert_string_equal(res_need(&res, "count"), "1");
    res_free(&res);
    CALL_OK(W.prov->list, &res, ACCT, "name", "bulk-07", NULL);
    assert_string_equal(res_need(&res, "count"), "0");
    assert_string_equal(res_need(&res, "items"), "[]");
    res_free(&res);
}

/* Malformed answers: on a GET a protocol error; on a create, outcome unknown (the token was
 * made), after which provision with the same run_id finds it instead of making another. */
static void test_malformed_answers(void **state)
{
    (void)state;
    rotp_result res;
    rotp_error err;
    char fault[256];
    snprintf(fault, sizeof(fault),
             "{\"method\":\"GET\",\"path\":\"*/access/service_tokens/%s\","
             "\"kind\":\"malformed_json\",\"count\":1}",
             W.cr.vault_id);
    assert_int_equal(cfemu_fault(&W.fx, fault), 0);
    assert_int_equal(call(W.prov->describe, &res, &err, ACCT, "id", W.cr.vault_id, NULL),
                     ROTP_E_PROTOCOL);

    assert_int_equal(cfemu_fault(&W.fx, "{\"method\":\"POST\",\"path\":\"*/access/service_tokens\","
                                        "\"kind\":\"malformed_json\",\"count\":1}"),
                     0);
    assert_int_equal(call(W.prov->provision, &res, &err, ACCT, "name", "mj", "run_id", "m1", NULL),
                     ROTP_E_OUTCOME_UNKNOWN);
    assert_non_null(strstr(err.message, "run_id=m1"));
    assert_int_equal(call(W.prov->provision, &res, &err, ACCT, "name", "mj", "run_id", "m1", NULL),
                     ROTP_E_CONFLICT);
    CALL_OK(W.prov->list, &res, ACCT, "name", "mj.sandbox-m1", NULL);
    assert_string_equal(res_need(&res, "count"), "1");
    res_free(&res);
}

/* --- describe, provision, list, argument checks ------------------------------------------ */

static void test_describe_provision_list(void **state)
{
    (void)state;
    rotp_result res;
    rotp_error err;
    CALL_OK(W.prov->describe, &res, ACCT, NULL);
    assert_string_equal(res_need(&res, "permission_required"), "Access: Service Tokens Write");
    assert_non_null(strstr(res_need(&res, "strategies"), "create-swap-delete"));
    assert_non_null(strstr(res_need(&res, "strategies"), "rotate"));
    assert_non_null(strstr(res_need(&res, "operations"), "provision"));
    assert_non_null(strstr(res_need(&res, "warning"), "policy"));
    res_free(&res);

    CALL_OK(W.prov->describe, &res, ACCT, "strategy", "refresh", NULL);
    assert_non_null(strstr(res_need(&res, "warning"), "not a rotation"));
    res_free(&res);
    assert_int_equal(
        call(W.prov->roll, &res, &err, ACCT, "id", W.cr.vault_id, "strategy", "refresh", NULL),
        ROTP_E_UNSUPPORTED);
    assert_non_null(strstr(err.message, "expiry"));

    CALL_OK(W.prov->describe, &res, ACCT, "id", W.cr.console_id, NULL);
    assert_string_equal(res_need(&res, "id"), W.cr.console_id);
    assert_string_equal(res_need(&res, "name"), "console-probe");
    assert_string_equal(res_need(&res, "client_id"), W.cr.console_cid);
    assert_non_null(res_get(&res, "expires_at"));
    assert_non_null(res_get(&res, "duration"));
    assert_non_null(res_get(&res, "created_at"));
    assert_string_equal(res_need(&res, "enabled"), "true");
    long days = strtol(res_need(&res, "days_to_expiry"), NULL, 10);
    assert_true(days >= 0);
    assert_null(res_get(&res, "client_secret"));
    res_free(&res);

    CALL_OK(W.prov->provision, &res, ACCT, "name", "sandbox-check", "duration", "30m", "run_id",
            "p1", NULL);
    assert_string_equal(res_need(&res, "name"), "sandbox-check.sandbox-p1");
    char pid[40], pcid[128];
    snprintf(pid, sizeof(pid), "%s", res_need(&res, "id"));
    snprintf(pcid, sizeof(pcid), "%s", res_need(&res, "client_id"));
    char *psec = res_secret(&res);
    res_free(&res);
    expect_state(ACCT, pid, pcid, psec, W.cr.app_vault, "active");

    CALL_OK(W.prov->list, &res, ACCT, "search", "sandbox-check", NULL);
    assert_string_equal(res_need(&res, "count"), "1");
    assert_non_null(strstr(res_need(&res, "items"), pid));
    assert_null(strstr(res_need(&res, "items"), psec));
    res_free(&res);
    CALL_OK(W.prov->list, &res, ACCT, NULL);
    assert_string_equal(res_need(&res, "count"), "3"); /* console, vault, the sandbox token */
    res_free(&res);

    /* The token expires on cfemu's clock. */
    assert_int_equal(cfemu_clock_advance(&W.fx, 31 * 60), 0);
    expect_state(ACCT, pid, pcid, psec, W.cr.app_vault, "invalid");
    CALL_OK(W.prov->revoke, &res, ACCT, "id", pid, "strategy", "create-swap-delete", NULL);
    res_free(&res);
    wipe_free(psec);

    assert_int_equal(
        call(W.prov->provision, &res, &err, ACCT, "name", "x", "duration", "9000h", NULL),
        ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(call(W.prov->provision, &res, &err, ACCT, NULL), ROTP_E_INVALID_ARGUMENT);
}

static void test_argument_checks(void **state)
{
    (void)state;
    rotp_result res;
    rotp_error err;
    assert_int_equal(cfemu_log_reset(&W.fx), 0);
    assert_int_equal(call(W.prov->describe, &res, &err, ACCT, "id", "not-a-uuid", NULL),
                     ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(
        call(W.prov->roll, &res, &err, ACCT, "id", "F174E90A-FAFE-4643-BBBC-4A0ED4FC8415", NULL),
        ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(call(W.prov->revoke, &res, &err, ACCT, "id", "f174e90a/../../x", NULL),
                     ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(call(W.prov->describe, &res, &err, ACCT, ZONE, NULL), ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(call(W.prov->describe, &res, &err, NULL), ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(call(W.prov->describe, &res, &err, ACCT, "grace", "1", NULL),
                     ROTP_E_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "grace"));
    assert_int_equal(
        call(W.prov->roll, &res, &err, ACCT, "id", W.cr.vault_id, "grace_seconds", "-1", NULL),
        ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(call(W.prov->roll, &res, &err, ACCT, "id", W.cr.vault_id, "strategy",
                          "create-swap-delete", "run_id", "bad run id", NULL),
                     ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(call(W.prov->verify, &res, &err, ACCT, "id", W.cr.vault_id, "client_id",
                          W.cr.vault_cid, "client_secret", W.cr.vault_secret, "probe_url",
                          "ftp://127.0.0.1/x", NULL),
                     ROTP_E_INVALID_ARGUMENT);
    /* None of these made a request. */
    char *log = cfemu_request_log(&W.fx);
    assert_non_null(log);
    assert_null(strstr(log, "service_tokens"));
    free(log);
}

/* --- failure modes ----------------------------------------------------------------------- */

static void test_failure_modes(void **state)
{
    (void)state;
    rotp_result res;
    rotp_error err;

    /* A management token cfemu does not know: CREDENTIAL_INVALID, flagged as ours. */
    char bogus[] = "Zq3xV9kL2mN8pR4tW6yB1cD5fG7hJ0aS3eU9iO2k";
    remember_secret(bogus);
    rotp_instance *bad = open_with(bogus, &err);
    assert_non_null(bad);
    assert_int_equal(call_on(bad, W.prov->describe, &res, &err, ACCT, "id", W.cr.vault_id, NULL),
                     ROTP_E_CREDENTIAL_INVALID);
    assert_true((err.flags & ROTP_ERRF_MANAGEMENT_CREDENTIAL) != 0);
    assert_int_equal(err.http_status, 401);
    /* On a zone route Cloudflare answers an unknown token with 403 9109 "Invalid access token":
     * still the management token's fault, not a scope mismatch. */
    assert_int_equal(call_on(bad, W.prov->describe, &res, &err, ZONE, "id", W.cr.edge_id, NULL),
                     ROTP_E_CREDENTIAL_INVALID);
    assert_true((err.flags & ROTP_ERRF_MANAGEMENT_CREDENTIAL) != 0);
    assert_int_equal(err.http_status, 403);
    assert_int_equal(err.api_code, 9109);
    assert_non_null(strstr(err.message, "escalate"));
    W.prov->close(bad);

    /* READONLY has no Access permission. */
    bad = open_with(W.cr.readonly, &err);
    assert_non_null(bad);
    assert_int_equal(call_on(bad, W.prov->roll, &res, &err, ACCT, "id", W.cr.vault_id, NULL),
                     ROTP_E_PERMISSION_DENIED);
    assert_non_null(strstr(err.message, W.cr.vault_id));
    assert_int_equal(err.http_status, 403);
    W.prov->close(bad);

    /* An unknown id. */
    const char *ghost = "00000000-0000-4000-8000-000000000000";
    assert_int_equal(call(W.prov->describe, &res, &err, ACCT, "id", ghost, NULL), ROTP_E_NOT_FOUND);
    assert_non_null(strstr(err.message, ghost));
    assert_int_equal(call(W.prov->roll, &res, &err, ACCT, "id", ghost, NULL), ROTP_E_NOT_FOUND);

    /* One 429 with Retry-After on a GET: retried, and the call succeeds. */
    assert_int_equal(cfemu_log_reset(&W.fx), 0);
    assert_int_equal(cfemu_fault(&W.fx,
                                 "{\"method\":\"GET\",\"path\":\"*/access/service_tokens/*\","
                                 "\"kind\":\"rate_limit\",\"retry_after\":1,\"count\":1}"),
                     0);
    CALL_OK(W.prov->describe, &res, ACCT, "id", W.cr.vault_id, NULL);
    assert_string_equal(res_need(&res, "client_id"), W.cr.vault_cid);
    res_free(&res);
    char *log = cfemu_request_log(&W.fx);
    assert_non_null(log);
    assert_int_equal(count_substr(log, "\"status\":429"), 1);
    assert_int_equal(count_substr(log, "\"status\":200"), 1);
    assert_int_equal(count_substr(log, W.cr.vault_id), 2); /* the GET, sent twice */
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rotate_grace_then_revoke, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotate_window_elapses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotate_grace_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csd_account_any_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csd_zone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csd_policy_names_old_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_create_finds_orphan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_rotate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limited_rotate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_non_answers_are_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_delete_settles_by_looking, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_describe_provision_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_argument_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_modes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
