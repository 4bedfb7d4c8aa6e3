/* SPDX-License-Identifier: MIT */
/* test_api_token.c - the API-token adapter (cloudflare.user_token, cloudflare.account_token)
 * driven like a host drives it: cloudflare.so loaded with dlopen(), every operation called
 * through rotp_provider_entry_v1's table, against a private cfemu over TLS.
 *
 * Every test runs once per kind with a fresh cfemu (built-in seed unless it says otherwise).
 * After each test: cfemu saw no request outside the spec (unknown-route counter 0), and no line
 * the provider logged (captured at DEBUG level) holds any secret value seen so far. */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "cfemu_fixture.h"
#include "json.h"
#include "rotp.h"

#ifndef ROTP_PLUGIN_PATH
#define ROTP_PLUGIN_PATH "cloudflare.so"
#endif
#ifndef ROTP_TEST_DATA
#define ROTP_TEST_DATA "tests/data"
#endif

/* ---------------------------------------------------------------------------------------------
 * Process-wide test state: the loaded provider, the captured log, every secret seen
 * ------------------------------------------------------------------------------------------- */

#define MAX_SECRETS 512
#define MAX_LINES   20000
#define VAL_MAX     1024

static void *g_dl;
static const rotp_provider *g_prov;
static char *g_secrets[MAX_SECRETS];
static size_t g_nsecrets;
static char *g_lines[MAX_LINES];
static size_t g_nlines;

/* Remembers a secret value so the log check can look for it. */
static void note_secret(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return;
    for (size_t i = 0; i < g_nsecrets; i++)
        if (strcmp(g_secrets[i], s) == 0)
            return;
    assert_true(g_nsecrets < MAX_SECRETS);
    g_secrets[g_nsecrets] = strdup(s);
    assert_non_null(g_secrets[g_nsecrets]);
    g_nsecrets++;
}

static void host_log(void *user, int32_t level, const char *message, uint64_t len)
{
    (void)user;
    (void)level;
    if (g_nlines < MAX_LINES)
        g_lines[g_nlines++] = strndup(message, (size_t)len);
}

static const rotp_host g_host = {
    .struct_size = sizeof(rotp_host),
    .log_level = ROTP_LOG_DEBUG,
    .log = host_log,
    .log_user = NULL,
};

/* Fails when any captured line contains any secret seen so far. */
static void assert_no_secret_in_log(void)
{
    for (size_t l = 0; l < g_nlines; l++) {
        if (g_lines[l] == NULL)
            continue;
        for (size_t s = 0; s < g_nsecrets; s++) {
            if (strstr(g_lines[l], g_secrets[s]) != NULL) {
                /* print the line with the secret cut out, never the secret */
                fprintf(stderr, "log line %zu holds secret #%zu (%zu bytes)\n", l, s,
                        strlen(g_secrets[s]));
                fail();
            }
        }
    }
}

static int group_setup(void **state)
{
    const char *path = getenv("ROTP_PLUGIN");
    rotp_entry_fn entry;
    rotp_error err;

    (void)state;
    if (path == NULL || path[0] == '\0')
        path = ROTP_PLUGIN_PATH;
    g_dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (g_dl == NULL) {
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
        return -1;
    }
    *(void **)(&entry) = dlsym(g_dl, ROTP_ENTRY_SYMBOL);
    if (entry == NULL) {
        fprintf(stderr, "dlsym %s: %s\n", ROTP_ENTRY_SYMBOL, dlerror());
        return -1;
    }
    memset(&err, 0, sizeof(err));
    err.struct_size = sizeof(err);
    g_prov = entry(ROTP_ABI_MINOR, &g_host, &err);
    if (g_prov == NULL || g_prov->abi_major != ROTP_ABI_MAJOR ||
        g_prov->struct_size < sizeof(rotp_provider)) {
        fprintf(stderr, "entry point refused: %s\n", err.message);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < g_nlines; i++)
        free(g_lines[i]);
    for (size_t i = 0; i < g_nsecrets; i++)
        free(g_secrets[i]);
    g_nlines = g_nsecrets = 0;
    if (g_dl != NULL)
        dlclose(g_dl);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Requests and results
 * ------------------------------------------------------------------------------------------- */

#define MAX_KV 24

/* A small growable key/value list (results, the creds file). */
typedef struct kv {
    int n, cap;
    char **k;
    char **v;
    uint32_t *f;
} kv;

/* What an operation gave back: the code, the error and a copy of the result. */
typedef struct out {
    int32_t rc;
    rotp_error err;
    kv res;
} out;

static void kv_free(kv *m)
{
    for (int i = 0; i < m->n; i++) {
        free(m->k[i]);
        free(m->v[i]);
    }
    free(m->k);
    free(m->v);
    free(m->f);
    memset(m, 0, sizeof(*m));
}

static const char *kv_get(const kv *m, const char *key)
{
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->k[i], key) == 0)
            return m->v[i];
    return NULL;
}

/* 0, or -1 when out of memory (nothing added). */
static int kv_put(kv *m, const char *key, const char *value, uint32_t flags)
{
    if (m->n == m->cap) {
        int cap = m->cap > 0 ? 2 * m->cap : 16;
        char **k = realloc(m->k, (size_t)cap * sizeof(*k));
        char **v = k != NULL ? realloc(m->v, (size_t)cap * sizeof(*v)) : NULL;
        uint32_t *f = v != NULL ? realloc(m->f, (size_t)cap * sizeof(*f)) : NULL;
        if (k != NULL)
            m->k = k;
        if (v != NULL)
            m->v = v;
        if (f == NULL)
            return -1;
        m->f = f;
        m->cap = cap;
    }
    m->k[m->n] = strdup(key);
    m->v[m->n] = strdup(value);
    if (m->k[m->n] == NULL || m->v[m->n] == NULL) {
        free(m->k[m->n]);
        free(m->v[m->n]);
        return -1;
    }
    m->f[m->n] = flags;
    m->n++;
    return 0;
}

static const char *get(const out *o, const char *key)
{
    return kv_get(&o->res, key);
}

static void out_free(out *o)
{
    kv_free(&o->res);
}

/* Per-kind parameters of a test. */
typedef struct kcase {
    const char *kind;
    bool account;
    const char *target; /* creds NAME of the token to rotate */
} kcase;

static const kcase k_user = {"cloudflare.user_token", false, "PAGES_DEPLOY"};
static const kcase k_account = {"cloudflare.account_token", true, "CI_READONLY"};

typedef struct T {
    const kcase *k;
    cfemu_fx fx;
    bool running;
    kv creds;
    rotp_instance *inst;
    char mgmt[VAL_MAX]; /* the management value the instance was opened with */
    const char *acct;
    const char *target_id;
    char target_val[VAL_MAX];
} T;

/* Runs op with the request given as key, value pairs (NULL-terminated). "secret" values carry
 * the SECRET flag. The kind (and account_id for the account kind) are added unless the pairs
 * start with "!raw". SECRET values of the result are noted for the log check. */
static out vcall(T *t, rotp_op_fn op, va_list ap)
{
    out o;
    rotp_param items[MAX_KV];
    rotp_params req;
    rotp_result res;
    uint32_t n = 0;
    const char *key;
    bool raw = false;

    memset(&o, 0, sizeof(o));
    memset(items, 0, sizeof(items));
    key = va_arg(ap, const char *);
    if (key != NULL && strcmp(key, "!raw") == 0) {
        raw = true;
        key = va_arg(ap, const char *);
    }
    if (!raw) {
        items[n++] = (rotp_param){sizeof(rotp_param), 0, "kind", t->k->kind, strlen(t->k->kind)};
        if (t->k->account)
            items[n++] =
                (rotp_param){sizeof(rotp_param), 0, "account_id", t->acct, strlen(t->acct)};
    }
    for (; key != NULL; key = va_arg(ap, const char *)) {
        const char *val = va_arg(ap, const char *);
        uint32_t flags = strcmp(key, "secret") == 0 ? ROTP_PARAM_SECRET : 0;
        assert_true(n < MAX_KV);
        items[n++] = (rotp_param){sizeof(rotp_param), flags, key, val, strlen(val)};
    }
    req = (rotp_params){sizeof(rotp_params), n, items};
    memset(&res, 0, sizeof(res));
    res.struct_size = sizeof(res);
    o.err.struct_size = sizeof(o.err);
    o.rc = op(t->inst, &req, &res, &o.err);
    assert_int_equal(o.rc, o.err.code);
    if (o.rc != ROTP_E_OK) {
        assert_int_equal(res.count, 0);
        assert_null(res.items);
    }
    for (uint32_t i = 0; i < res.count; i++) {
        const rotp_param *p =
            (const rotp_param *)((const char *)res.items + (size_t)i * res.items[0].struct_size);
        assert_non_null(p->key);
        assert_non_null(p->value);
        assert_int_equal(strlen(p->value), p->value_len);
        if (p->flags & ROTP_PARAM_SECRET)
            note_secret(p->value);
        assert_int_equal(kv_put(&o.res, p->key, p->value, p->flags), 0);
    }
    g_prov->result_free(&res);
    assert_int_equal(res.count, 0);
    assert_null(res.items);
    /* an error message never holds a secret */
    for (size_t s = 0; s < g_nsecrets; s++)
        assert_null(strstr(o.err.message, g_secrets[s]));
    return o;
}

static out call(T *t, rotp_op_fn op, ...)
{
    va_list ap;
    out o;

    va_start(ap, op);
    o = vcall(t, op, ap);
    va_end(ap);
    return o;
}

#define expect_ok(o)                                                                               \
    do {                                                                                           \
        if ((o).rc != ROTP_E_OK)                                                                   \
            fprintf(stderr, "unexpected error %d: %s\n", (o).rc, (o).err.message);                 \
        assert_int_equal((o).rc, ROTP_E_OK);                                                       \
    } while (0)

#define expect_code(o, code)                                                                       \
    do {                                                                                           \
        if ((o).rc != (code))                                                                      \
            fprintf(stderr, "expected %d, got %d: %s\n", (code), (o).rc, (o).err.message);         \
        assert_int_equal((o).rc, (code));                                                          \
    } while (0)

/* ---------------------------------------------------------------------------------------------
 * cfemu: creds, the request log, faults, direct API calls
 * ------------------------------------------------------------------------------------------- */

/* Reads the dotenv file cfemu wrote with --creds-out. 0 or -1 (no assertion: it runs in setup,
 * where a failure must still stop cfemu). */
static int creds_load(T *t)
{
    char path[512];
    char line[2048];
    FILE *f;
    int rc = 0;

    snprintf(path, sizeof(path), "%s/creds.env", t->fx.dir);
    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        char *eq = strchr(line, '=');
        size_t len;
        if (line[0] == '#' || eq == NULL)
            continue;
        *eq = '\0';
        len = strlen(eq + 1);
        while (len > 0 && (eq[len] == '\n' || eq[len] == '\r'))
            eq[len--] = '\0';
        rc = kv_put(&t->creds, line, eq + 1, 0);
        if (rc == 0 && (strstr(line, "_VALUE") != NULL || strstr(line, "_CLIENT_SECRET") != NULL))
            note_secret(eq + 1);
    }
    fclose(f);
    return rc;
}

/* The creds value of fmt % name, or NULL (with a message). */
static const char *cred_or_null(T *t, const char *fmt, const char *name)
{
    char key[128];
    const char *v;

    snprintf(key, sizeof(key), fmt, name);
    v = kv_get(&t->creds, key);
    if (v == NULL)
        fprintf(stderr, "creds lack %s\n", key);
    return v;
}

static const char *cred(T *t, const char *fmt, const char *name)
{
    const char *v = cred_or_null(t, fmt, name);

    assert_non_null(v);
    return v;
}

/* Counts request-log entries whose method equals `method` (NULL: any) and whose path (logged
 * without the query string) ends with `suffix` (NULL: any). */
static int log_count(T *t, const char *method, const char *suffix)
{
    char *body = cfemu_request_log(&t->fx);
    json_doc d;
    int n = 0, arr;

    assert_non_null(body);
    assert_int_equal(json_parse(&d, body, strlen(body)), JSON_OK);
    arr = 0;
    if (json_is_object(&d, 0)) /* the envelope, or an object holding the entries */
        arr = json_get(&d, 0, "result") >= 0 ? json_get(&d, 0, "result")
                                             : json_get(&d, 0, "requests");
    assert_true(arr >= 0 && json_is_array(&d, arr));
    for (int i = 0; i < d.toks[arr].size; i++) {
        int e = json_at(&d, arr, i);
        int m = json_get(&d, e, "method");
        int p = json_get(&d, e, "path");
        char pbuf[2048] = "";
        if (method != NULL && (m < 0 || !json_str_eq(&d, m, method)))
            continue;
        if (p >= 0)
            (void)json_strcpy(&d, p, pbuf, sizeof(pbuf));
        if (suffix != NULL && (strlen(pbuf) < strlen(suffix) ||
                               strcmp(pbuf + strlen(pbuf) - strlen(suffix), suffix) != 0))
            continue;
        n++;
    }
    json_free(&d);
    free(body);
    return n;
}

/* Clears cfemu's request log. That also clears its unknown-route counter, so the counter is
 * checked first: the whole test must stay inside the spec. */
static void log_reset(T *t)
{
    assert_int_equal(cfemu_unknown_routes(&t->fx), 0);
    assert_int_equal(cfemu_log_reset(&t->fx), 0);
}

static void fault(T *t, const char *json)
{
    int rc = cfemu_fault(&t->fx, json);

    if (rc != 0)
        fprintf(stderr, "cfemu refused fault %s\n", json);
    assert_int_equal(rc, 0);
}

/* ---------------------------------------------------------------------------------------------
 * Instances
 * ------------------------------------------------------------------------------------------- */

/* Opens an instance with mgmt as the management token; NULL on failure (with a message). */
static rotp_instance *try_open(T *t, const char *mgmt)
{
    rotp_param items[4];
    rotp_params cfg;
    rotp_instance *inst = NULL;
    rotp_error err;

    items[0] = (rotp_param){sizeof(rotp_param), ROTP_PARAM_SECRET, "api_token", mgmt, strlen(mgmt)};
    items[1] =
        (rotp_param){sizeof(rotp_param), 0, "api_base", t->fx.api_base, strlen(t->fx.api_base)};
    items[2] = (rotp_param){sizeof(rotp_param), 0, "ca_file", t->fx.ca_file, strlen(t->fx.ca_file)};
    items[3] = (rotp_param){sizeof(rotp_param), 0, "max_retries", "2", 1};
    cfg = (rotp_params){sizeof(rotp_params), 4, items};
    memset(&err, 0, sizeof(err));
    err.struct_size = sizeof(err);
    note_secret(mgmt);
    if (g_prov->open(&g_host, &cfg, &inst, &err) != ROTP_E_OK)
        fprintf(stderr, "open: %s\n", err.message);
    return inst;
}

static rotp_instance *open_with(T *t, const char *mgmt)
{
    rotp_instance *inst = try_open(t, mgmt);

    assert_non_null(inst);
    return inst;
}

/* Frees what setup made; stops cfemu. Returns cfemu's exit status (0 when it was not running). */
static int release(T *t)
{
    int rc = 0;

    g_prov->close(t->inst);
    t->inst = NULL;
    if (t->running)
        rc = cfemu_stop(&t->fx);
    t->running = false;
    kv_free(&t->creds);
    return rc;
}

/* Starts cfemu with seed (NULL: built-in) and opens an instance with its MGMT token. On any
 * failure everything is released again, because cmocka skips teardown after a failed setup. */
static int start(void **state, const char *seed, const char *target)
{
    T *t = calloc(1, sizeof(*t));
    const char *v;

    if (t == NULL)
        return -1;
    t->k = *state;
    if (cfemu_start(&t->fx, seed, NULL) != 0) {
        free(t);
        return -1;
    }
    t->running = true;
    if (creds_load(t) != 0 || (t->acct = cred_or_null(t, "%s", "CFEMU_ACCOUNT_ID")) == NULL ||
        (v = cred_or_null(t, "CFEMU_TOKEN_%s_VALUE", "MGMT")) == NULL)
        goto fail;
    snprintf(t->mgmt, sizeof(t->mgmt), "%s", v);
    if (target != NULL) {
        if ((t->target_id = cred_or_null(t, "CFEMU_TOKEN_%s_ID", target)) == NULL ||
            (v = cred_or_null(t, "CFEMU_TOKEN_%s_VALUE", target)) == NULL)
            goto fail;
        snprintf(t->target_val, sizeof(t->target_val), "%s", v);
    }
    t->inst = try_open(t, t->mgmt);
    if (t->inst == NULL)
        goto fail;
    *state = t;
    return 0;
fail:
    release(t);
    free(t);
    return -1;
}

static int setup(void **state)
{
    return start(state, NULL, ((const kcase *)*state)->target);
}

static int teardown(void **state)
{
    T *t = *state;
    long unknown;

    int stopped;

    if (t == NULL || (const void *)t == (const void *)&k_user ||
        (const void *)t == (const void *)&k_account)
        return 0; /* setup failed and released everything */
    unknown = t->running ? cfemu_unknown_routes(&t->fx) : 0;
    stopped = release(t);
    free(t);
    assert_int_equal(stopped, 0);
    assert_int_equal(unknown, 0);
    assert_no_secret_in_log();
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------------------------- */

static void test_describe_kind(void **state)
{
    T *t = *state;
    out o = call(t, g_prov->describe, NULL);

    expect_ok(o);
    assert_string_equal(get(&o, "kind"), t->k->kind);
    assert_string_equal(get(&o, "operations"), "describe,roll,verify,revoke,provision,list");
    assert_string_equal(get(&o, "strategy"), "in-place roll, no overlap");
    assert_string_equal(get(&o, "permission_required"),
                        t->k->account ? "Account API Tokens Write" : "API Tokens Write");
    assert_non_null(get(&o, "note"));
    out_free(&o);
    if (t->k->account) { /* the account kind always needs its account_id (ABI.md 9.2) */
        o = call(t, g_prov->describe, "!raw", "kind", t->k->kind, NULL);
        expect_code(o, ROTP_E_INVALID_ARGUMENT);
        out_free(&o);
    }
    assert_int_equal(log_count(t, NULL, NULL), 0); /* no request needed */
}

static void test_describe_token(void **state)
{
    T *t = *state;
    out o = call(t, g_prov->describe, "id", t->target_id, NULL);
    char want[256];

    expect_ok(o);
    assert_string_equal(get(&o, "id"), t->target_id);
    assert_string_equal(get(&o, "status"), "active");
    assert_string_equal(get(&o, "name"), t->k->account ? "ci-readonly" : "pages-deploy");
    assert_non_null(get(&o, "issued_on"));
    assert_non_null(get(&o, "modified_on"));
    assert_non_null(get(&o, "scopes"));
    if (t->k->account)
        snprintf(want, sizeof(want), "Zone Read @ zone %s", cred(t, "%s", "CFEMU_ZONE_ID"));
    else
        snprintf(want, sizeof(want), "Pages Write @ account %s", t->acct);
    if (strstr(get(&o, "scopes"), want) == NULL)
        fprintf(stderr, "scopes '%s' lack '%s'\n", get(&o, "scopes"), want);
    assert_non_null(strstr(get(&o, "scopes"), want));
    assert_null(get(&o, "secret"));
    assert_null(get(&o, "policies"));
    out_free(&o);

    /* the management token's scopes name the user, the account and token-write groups */
    if (!t->k->account) {
        o = call(t, g_prov->describe, "id", cred(t, "CFEMU_TOKEN_%s_ID", "MGMT"), NULL);
        expect_ok(o);
        assert_non_null(strstr(get(&o, "scopes"), "API Tokens Write"));
        snprintf(want, sizeof(want), "user %s", cred(t, "%s", "CFEMU_USER_ID"));
        assert_non_null(strstr(get(&o, "scopes"), want));
        out_free(&o);
    }
}

/* verify `value` and expect `state` */
static void expect_state(T *t, const char *value, const char *state)
{
    out o = call(t, g_prov->verify, "secret", value, NULL);

    expect_ok(o);
    if (strcmp(get(&o, "state"), state) != 0)
        fprintf(stderr, "state %s, want %s\n", get(&o, "state"), state);
    assert_string_equal(get(&o, "state"), state);
    out_free(&o);
}

static void test_roll(void **state)
{
    T *t = *state;
    out before, after, r, v;
    char fresh[VAL_MAX];

    before = call(t, g_prov->describe, "id", t->target_id, NULL);
    expect_ok(before);
    expect_state(t, t->target_val, "active");

    r = call(t, g_prov->roll, "id", t->target_id, NULL);
    expect_ok(r);
    assert_non_null(get(&r, "secret"));
    assert_string_equal(get(&r, "id"), t->target_id);
    assert_non_null(get(&r, "rolled_at"));
    assert_int_equal(strlen(get(&r, "rolled_at")), 20);
    /* the value carries the SECRET flag */
    for (int i = 0; i < r.res.n; i++)
        assert_int_equal(r.res.f[i] & ROTP_PARAM_SECRET, strcmp(r.res.k[i], "secret") == 0);
    assert_string_not_equal(get(&r, "secret"), t->target_val);
    assert_true(strncmp(get(&r, "secret"), t->k->account ? "cfat_" : "cfut_", 5) == 0);
    snprintf(fresh, sizeof(fresh), "%s", get(&r, "secret"));
    out_free(&r);

    /* new verifies active with the same id; the old one is dead at once */
    v = call(t, g_prov->verify, "secret", fresh, NULL);
    expect_ok(v);
    assert_string_equal(get(&v, "state"), "active");
    assert_string_equal(get(&v, "id"), t->target_id);
    out_free(&v);
    expect_state(t, t->target_val, "invalid");

    /* expires_on and policies unchanged */
    after = call(t, g_prov->describe, "id", t->target_id, NULL);
    expect_ok(after);
    if (get(&before, "expires_on") != NULL)
        assert_string_equal(get(&after, "expires_on"), get(&before, "expires_on"));
    else
        assert_null(get(&after, "expires_on"));
    assert_string_equal(get(&after, "scopes"), get(&before, "scopes"));
    assert_string_equal(get(&after, "name"), get(&before, "name"));
    out_free(&before);
    out_free(&after);

    /* exactly one PUT .../value reached cfemu, with the body `{}` */
    assert_int_equal(log_count(t, "PUT", "/value"), 1);
}

static void test_roll_lost_response(void **state)
{
    T *t = *state;
    out r;
    char fx[512];

    snprintf(fx, sizeof(fx),
             "{\"method\":\"PUT\",\"path\":\"*/value\",\"kind\":\"reset_after\",\"count\":1}");
    fault(t, fx);
    r = call(t, g_prov->roll, "id", t->target_id, NULL);
    expect_code(r, ROTP_E_OUTCOME_UNKNOWN);
    assert_true(r.err.flags & ROTP_ERRF_REQUEST_SENT);
    assert_non_null(strstr(r.err.message, "roll again"));
    assert_non_null(strstr(r.err.message, t->target_id));
    out_free(&r);
    /* cfemu applied it: the old value is dead, and the request was not retried */
    expect_state(t, t->target_val, "invalid");
    assert_int_equal(log_count(t, "PUT", "/value"), 1);

    /* roll forward */
    r = call(t, g_prov->roll, "id", t->target_id, NULL);
    expect_ok(r);
    expect_state(t, get(&r, "secret"), "active");
    out_free(&r);
}

static void permission_group_id(T *t, const char *name, char *id);
static void future(int64_t secs, char *buf);

/* An account-owned management token (provisioned with Account API Tokens Write on the account)
 * rolls itself through the account path: refused, then allowed, then the instance goes on. */
static void account_self_roll(T *t)
{
    char pg[33], pol[1024], exp[32], id[33], value[VAL_MAX], fresh[VAL_MAX];
    out r, d;

    permission_group_id(t, "Account API Tokens Write", pg);
    snprintf(pol, sizeof(pol),
             "[{\"effect\":\"allow\",\"permission_groups\":[{\"id\":\"%s\"}],"
             "\"resources\":{\"com.cloudflare.api.account.%s\":\"*\"}}]",
             pg, t->acct);
    future(86400 * 30, exp);
    r = call(t, g_prov->provision, "name", "acct-mgmt", "policies", pol, "expires_on", exp, NULL);
    expect_ok(r);
    snprintf(id, sizeof(id), "%s", get(&r, "id"));
    snprintf(value, sizeof(value), "%s", get(&r, "secret"));
    out_free(&r);

    g_prov->close(t->inst);
    t->inst = open_with(t, value);
    log_reset(t);
    r = call(t, g_prov->roll, "id", id, NULL);
    expect_code(r, ROTP_E_REFUSED_BY_POLICY);
    out_free(&r);
    assert_int_equal(log_count(t, "PUT", NULL), 0);

    r = call(t, g_prov->roll, "id", id, "allow_self_roll", "yes", NULL);
    expect_ok(r);
    snprintf(fresh, sizeof(fresh), "%s", get(&r, "secret"));
    out_free(&r);
    assert_int_equal(log_count(t, "PUT", "/value"), 1);
    /* learned once, at the account verify endpoint */
    assert_int_equal(log_count(t, "GET", "/tokens/verify"), 1);

    expect_state(t, value, "invalid");
    expect_state(t, fresh, "active");
    d = call(t, g_prov->describe, "id", t->target_id, NULL);
    expect_ok(d);
    assert_string_equal(get(&d, "name"), "ci-readonly");
    out_free(&d);
}

static void test_self_roll(void **state)
{
    T *t = *state;
    const char *mgmt_id = cred(t, "CFEMU_TOKEN_%s_ID", "MGMT");
    out r, d;
    char fresh[VAL_MAX];

    if (t->k->account) {
        /* the seed's management token is user-owned (cfut_): it cannot be an account-owned
         * token, so no lookup is made, and its id is no token of the account */
        log_reset(t);
        r = call(t, g_prov->roll, "id", mgmt_id, NULL);
        expect_code(r, ROTP_E_NOT_FOUND);
        out_free(&r);
        assert_int_equal(log_count(t, "GET", "/verify"), 0);
        assert_int_equal(log_count(t, NULL, NULL), 1);
        account_self_roll(t);
        return;
    }

    r = call(t, g_prov->roll, "id", mgmt_id, NULL);
    expect_code(r, ROTP_E_REFUSED_BY_POLICY);
    assert_non_null(strstr(r.err.message, "allow_self_roll"));
    out_free(&r);
    r = call(t, g_prov->roll, "id", mgmt_id, "allow_self_roll", "0", NULL);
    expect_code(r, ROTP_E_REFUSED_BY_POLICY);
    out_free(&r);
    assert_int_equal(log_count(t, "PUT", NULL), 0);
    /* the id was learned once for both calls */
    assert_int_equal(log_count(t, "GET", "/user/tokens/verify"), 1);

    r = call(t, g_prov->roll, "id", mgmt_id, "allow_self_roll", "1", NULL);
    expect_ok(r);
    snprintf(fresh, sizeof(fresh), "%s", get(&r, "secret"));
    out_free(&r);
    assert_int_equal(log_count(t, "PUT", "/value"), 1);

    /* the old management value is dead, and the instance works with the new one */
    expect_state(t, t->mgmt, "invalid");
    expect_state(t, fresh, "active");
    d = call(t, g_prov->describe, "id", t->target_id, NULL);
    expect_ok(d);
    out_free(&d);
    /* a second instance opened with the new value works too */
    g_prov->close(t->inst);
    t->inst = open_with(t, fresh);
    d = call(t, g_prov->describe, "id", mgmt_id, NULL);
    expect_ok(d);
    assert_string_equal(get(&d, "status"), "active");
    out_free(&d);

    /* a lost answer on a self-roll says the management value itself may be dead */
    fault(t, "{\"method\":\"PUT\",\"path\":\"*/value\",\"kind\":\"reset_after\"}");
    r = call(t, g_prov->roll, "id", mgmt_id, "allow_self_roll", "true", NULL);
    expect_code(r, ROTP_E_OUTCOME_UNKNOWN);
    assert_non_null(strstr(r.err.message, "management token itself"));
    out_free(&r);
    expect_state(t, fresh, "invalid");
}

static void test_verify_probe(void **state)
{
    T *t = *state;
    char ok_path[128], denied_path[128];
    out v;

    if (t->k->account) {
        snprintf(ok_path, sizeof(ok_path), "/accounts/%s/tokens/verify", t->acct);
        snprintf(denied_path, sizeof(denied_path), "/accounts/%s/tokens", t->acct);
    } else {
        snprintf(ok_path, sizeof(ok_path), "/user/tokens/verify");
        snprintf(denied_path, sizeof(denied_path), "/user/tokens");
    }
    v = call(t, g_prov->verify, "secret", t->target_val, "probe_path", ok_path, NULL);
    expect_ok(v);
    assert_string_equal(get(&v, "state"), "active");
    assert_string_equal(get(&v, "id"), t->target_id);
    assert_string_equal(get(&v, "probe_status"), "200");
    out_free(&v);

    /* the target token may not list tokens: the probe's 403 is the answer, state not_admitted
     * (the value works, but not for what the probe asks) */
    v = call(t, g_prov->verify, "secret", t->target_val, "probe_path", denied_path, NULL);
    expect_ok(v);
    assert_string_equal(get(&v, "state"), "not_admitted");
    assert_string_equal(get(&v, "status"), "active");
    assert_string_equal(get(&v, "probe_status"), "403");
    out_free(&v);

    /* a probe path may carry a query string; it is sent but never logged */
    snprintf(denied_path + strlen(denied_path), sizeof(denied_path) - strlen(denied_path),
             "?per_page=5");
    v = call(t, g_prov->verify, "secret", t->target_val, "probe_path", denied_path, NULL);
    expect_ok(v);
    assert_string_equal(get(&v, "probe_status"), "403");
    out_free(&v);

    /* unsafe probe paths are refused before any request */
    log_reset(t);
    {
        static const char *const bad[] = {"user/tokens",  "/../user",      "/a/%2e%2e/b",
                                          "//evil.test/", "/x\r\nHost: y", "https://x/",
                                          "/a b",         "/a/%2E%2E"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
            v = call(t, g_prov->verify, "secret", t->target_val, "probe_path", bad[i], NULL);
            expect_code(v, ROTP_E_INVALID_ARGUMENT);
            out_free(&v);
        }
    }
    assert_int_equal(log_count(t, NULL, NULL), 0);

    /* a value that is not a token: refused without a request; a made-up token: state invalid */
    v = call(t, g_prov->verify, "secret", "not a token\n", NULL);
    expect_code(v, ROTP_E_INVALID_ARGUMENT);
    out_free(&v);
    v = call(t, g_prov->verify, NULL);
    expect_code(v, ROTP_E_INVALID_ARGUMENT);
    out_free(&v);
    assert_int_equal(log_count(t, NULL, NULL), 0);
    {
        const char *madeup = "cfut_Zq8Vd0c1Xr7LmN2pQs4Tu6Wy8Ab0Cd2Ef4Gh6Ij85f3a9c2e";
        note_secret(madeup);
        expect_state(t, madeup, "invalid");
    }
}

static void test_revoke_twice(void **state)
{
    T *t = *state;
    out r;

    r = call(t, g_prov->revoke, "id", t->target_id, NULL);
    expect_ok(r);
    assert_string_equal(get(&r, "state"), "revoked");
    assert_string_equal(get(&r, "id"), t->target_id);
    out_free(&r);
    expect_state(t, t->target_val, "invalid");

    r = call(t, g_prov->revoke, "id", t->target_id, NULL);
    expect_ok(r);
    assert_string_equal(get(&r, "state"), "absent");
    out_free(&r);

    r = call(t, g_prov->describe, "id", t->target_id, NULL);
    expect_code(r, ROTP_E_NOT_FOUND);
    assert_non_null(strstr(r.err.message, t->target_id));
    out_free(&r);
    assert_int_equal(log_count(t, "DELETE", t->target_id), 2);
}

/* A permission-group id by name, asked of cfemu directly with the management token. */
static void permission_group_id(T *t, const char *name, char *id)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[512], auth[VAL_MAX + 32];
    FILE *mem;
    char *body = NULL;
    size_t blen = 0;
    json_doc d;
    int res;
    bool found = false;

    assert_non_null(c);
    snprintf(url, sizeof(url), "%s/user/tokens/permission_groups", t->fx.api_base);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", t->mgmt);
    h = curl_slist_append(h, auth);
    mem = open_memstream(&body, &blen);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, t->fx.ca_file);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, mem);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    fclose(mem);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    assert_int_equal(json_parse(&d, body, blen), JSON_OK);
    res = json_get(&d, 0, "result");
    for (int i = 0; res >= 0 && i < d.toks[res].size; i++) {
        int g = json_at(&d, res, i);
        int nt = json_get(&d, g, "name");
        if (nt >= 0 && json_str_eq(&d, nt, name)) {
            assert_int_equal(json_strcpy(&d, json_get(&d, g, "id"), id, 33), 0);
            found = true;
        }
    }
    json_free(&d);
    free(body);
    assert_true(found);
}

static void future(int64_t secs, char *buf)
{
    time_t tt = (time_t)(time(NULL) + secs);
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void zone_read_policies(T *t, char *buf, size_t cap)
{
    char pg[33];

    permission_group_id(t, "Zone Read", pg);
    snprintf(buf, cap,
             "[{\"effect\":\"allow\",\"permission_groups\":[{\"id\":\"%s\"}],"
             "\"resources\":{\"com.cloudflare.api.account.zone.%s\":\"*\"}}]",
             pg, cred(t, "%s", "CFEMU_ZONE_ID"));
}

static void test_provision(void **state)
{
    T *t = *state;
    char pol[1024], exp[32], past[32], id[33], value[VAL_MAX];
    out p, v, d;

    zone_read_policies(t, pol, sizeof(pol));
    future(86400 * 30, exp);
    future(-3600, past);

    /* refused before any request */
    log_reset(t);
    p = call(t, g_prov->provision, "name", "it-prov", "policies", pol, NULL);
    expect_code(p, ROTP_E_INVALID_ARGUMENT); /* no expires_on backstop */
    out_free(&p);
    p = call(t, g_prov->provision, "name", "it-prov", "policies", pol, "expires_on", past, NULL);
    expect_code(p, ROTP_E_INVALID_ARGUMENT);
    out_free(&p);
    p = call(t, g_prov->provision, "name", "it-prov", "policies", "{\"effect\":1}", "expires_on",
             exp, NULL);
    expect_code(p, ROTP_E_INVALID_ARGUMENT);
    out_free(&p);
    p = call(t, g_prov->provision, "name", "it-prov", "policies", "[{]", "expires_on", exp, NULL);
    expect_code(p, ROTP_E_INVALID_ARGUMENT);
    out_free(&p);
    p = call(t, g_prov->provision, "policies", pol, "expires_on", exp, NULL);
    expect_code(p, ROTP_E_INVALID_ARGUMENT);
    out_free(&p);
    p = call(t, g_prov->provision, "name", "it-prov", "policies", pol, "expires_on", "tomorrow",
             NULL);
    expect_code(p, ROTP_E_INVALID_ARGUMENT);
    out_free(&p);
    assert_int_equal(log_count(t, NULL, NULL), 0);

    /* Cloudflare refuses an unknown permission group with 400/1001: the request is wrong, the
     * management token is fine (not CREDENTIAL_INVALID) */
    p = call(t, g_prov->provision, "name", "it-prov", "policies",
             "[{\"effect\":\"allow\",\"permission_groups\":[{\"id\":"
             "\"0123456789abcdef0123456789abcdef\"}],\"resources\":{\"com.cloudflare.api."
             "account.zone.*\":\"*\"}}]",
             "expires_on", exp, NULL);
    expect_code(p, ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(p.err.api_code, 1001);
    assert_int_equal(p.err.flags & ROTP_ERRF_MANAGEMENT_CREDENTIAL, 0);
    out_free(&p);

    p = call(t, g_prov->provision, "name", "it-prov", "policies", pol, "expires_on", exp, NULL);
    expect_ok(p);
    assert_string_equal(get(&p, "name"), "it-prov");
    assert_string_equal(get(&p, "expires_on"), exp);
    assert_non_null(get(&p, "secret"));
    assert_true(strncmp(get(&p, "secret"), t->k->account ? "cfat_" : "cfut_", 5) == 0);
    snprintf(id, sizeof(id), "%s", get(&p, "id"));
    snprintf(value, sizeof(value), "%s", get(&p, "secret"));
    out_free(&p);

    v = call(t, g_prov->verify, "secret", value, NULL);
    expect_ok(v);
    assert_string_equal(get(&v, "state"), "active");
    assert_string_equal(get(&v, "id"), id);
    assert_string_equal(get(&v, "expires_on"), exp);
    out_free(&v);

    d = call(t, g_prov->describe, "id", id, NULL);
    expect_ok(d);
    assert_non_null(strstr(get(&d, "scopes"), "Zone Read @ zone "));
    out_free(&d);

    d = call(t, g_prov->revoke, "id", id, NULL);
    expect_ok(d);
    assert_string_equal(get(&d, "state"), "revoked");
    out_free(&d);
    expect_state(t, value, "invalid");
}

static void test_list(void **state)
{
    T *t = *state;
    out l;
    json_doc d;
    int want;

    /* the seed's tokens of this kind, unfiltered, then one by name */
    l = call(t, g_prov->list, NULL);
    expect_ok(l);
    assert_int_equal(json_parse(&d, get(&l, "items"), strlen(get(&l, "items"))), JSON_OK);
    assert_true(json_is_array(&d, 0));
    want = atoi(get(&l, "count"));
    assert_int_equal(d.toks[0].size, want);
    assert_true(want >= 1);
    json_free(&d);
    assert_null(strstr(get(&l, "items"), "\"value\""));
    assert_non_null(strstr(get(&l, "items"), t->target_id));
    out_free(&l);

    l = call(t, g_prov->list, "name", t->k->account ? "ci-readonly" : "pages-deploy", NULL);
    expect_ok(l);
    assert_string_equal(get(&l, "count"), "1");
    assert_non_null(strstr(get(&l, "items"), t->target_id));
    out_free(&l);

    l = call(t, g_prov->list, "name", "no-such-token", NULL);
    expect_ok(l);
    assert_string_equal(get(&l, "count"), "0");
    assert_string_equal(get(&l, "items"), "[]");
    out_free(&l);
}

/* Seed with 60+ tokens of each kind: the list walks more than one page of 50. */
static int setup_many(void **state)
{
    char seed[512];

    snprintf(seed, sizeof(seed), "%s/seed_api_token_many.json",
             getenv("ROTP_TEST_DATA") != NULL ? getenv("ROTP_TEST_DATA") : ROTP_TEST_DATA);
    return start(state, seed, NULL);
}

static void test_list_pages(void **state)
{
    T *t = *state;
    char list_path[128];
    out l;
    json_doc d;

    l = call(t, g_prov->list, NULL);
    expect_ok(l);
    assert_int_equal(json_parse(&d, get(&l, "items"), strlen(get(&l, "items"))), JSON_OK);
    assert_int_equal(d.toks[0].size, atoi(get(&l, "count")));
    json_free(&d);
    assert_true(atoi(get(&l, "count")) > 50);
    assert_non_null(strstr(get(&l, "items"), "bulk-061"));
    assert_non_null(strstr(get(&l, "items"), "bulk-001"));
    out_free(&l);
    /* 61 + 1 tokens of this kind at 50 per page: two GETs of the list path */
    if (t->k->account)
        snprintf(list_path, sizeof(list_path), "/accounts/%s/tokens", t->acct);
    else
        snprintf(list_path, sizeof(list_path), "/user/tokens");
    assert_int_equal(log_count(t, "GET", list_path), 2);

    l = call(t, g_prov->list, "name", "bulk-061", NULL);
    expect_ok(l);
    assert_string_equal(get(&l, "count"), "1");
    out_free(&l);
}

static void test_permission_denied(void **state)
{
    T *t = *state;
    out o;

    g_prov->close(t->inst);
    t->inst = open_with(t, cred(t, "CFEMU_TOKEN_%s_VALUE", "READONLY"));
    o = call(t, g_prov->describe, "id", t->target_id, NULL);
    expect_code(o, ROTP_E_PERMISSION_DENIED);
    assert_int_equal(o.err.http_status, 403);
    assert_non_null(strstr(o.err.message, t->target_id));
    if (t->k->account)
        assert_non_null(strstr(o.err.message, t->acct));
    assert_false(o.err.flags & ROTP_ERRF_MANAGEMENT_CREDENTIAL);
    /* the message says which permission group the management token lacks */
    assert_non_null(
        strstr(o.err.message, t->k->account ? "Account API Tokens Read" : "'API Tokens Read"));
    if (getenv("ROTP_TEST_VERBOSE") != NULL)
        fprintf(stderr, "message: %s\n", o.err.message);
    out_free(&o);

    o = call(t, g_prov->roll, "id", t->target_id, NULL);
    expect_code(o, ROTP_E_PERMISSION_DENIED);
    assert_non_null(strstr(o.err.message, t->target_id));
    out_free(&o);
    assert_int_equal(log_count(t, "PUT", NULL), 1); /* refused by cfemu, not retried */
}

static void test_mgmt_invalid(void **state)
{
    T *t = *state;
    const char *madeup = "cfut_Xk3Lm9Qp2Rs7Tv4Wy1Za8Bc5De6Fg0Hj3Kl9Mn2Pq7Rt4f7c2d9a1";
    out o;

    g_prov->close(t->inst);
    t->inst = open_with(t, madeup);
    o = call(t, g_prov->describe, "id", t->target_id, NULL);
    expect_code(o, ROTP_E_CREDENTIAL_INVALID);
    assert_true(o.err.flags & ROTP_ERRF_MANAGEMENT_CREDENTIAL);
    assert_int_equal(o.err.retryable, 0);
    out_free(&o);

    o = call(t, g_prov->roll, "id", t->target_id, NULL);
    expect_code(o, ROTP_E_CREDENTIAL_INVALID);
    assert_true(o.err.flags & ROTP_ERRF_MANAGEMENT_CREDENTIAL);
    out_free(&o);
    /* user kind: the self-roll guard's lookup fails first. Account kind: a cfut_ value cannot
     * be the account-owned target, so there is no lookup and the PUT itself is refused (401) */
    assert_int_equal(log_count(t, "PUT", NULL), t->k->account ? 1 : 0);

    o = call(t, g_prov->list, NULL);
    expect_code(o, ROTP_E_CREDENTIAL_INVALID);
    assert_true(o.err.flags & ROTP_ERRF_MANAGEMENT_CREDENTIAL);
    out_free(&o);

    /* verify of a subject value is not affected by the management credential's flag logic */
    o = call(t, g_prov->verify, "secret", t->target_val, NULL);
    expect_ok(o);
    assert_string_equal(get(&o, "state"), "active");
    out_free(&o);
}

static void test_not_found(void **state)
{
    T *t = *state;
    const char *ghost = "0123456789abcdef0123456789abcdef";
    out o;

    o = call(t, g_prov->describe, "id", ghost, NULL);
    expect_code(o, ROTP_E_NOT_FOUND);
    assert_non_null(strstr(o.err.message, ghost));
    assert_int_equal(o.err.http_status, 404);
    out_free(&o);

    o = call(t, g_prov->roll, "id", ghost, NULL);
    expect_code(o, ROTP_E_NOT_FOUND);
    assert_non_null(strstr(o.err.message, ghost));
    out_free(&o);
}

static void test_rate_limited(void **state)
{
    T *t = *state;
    char fx[512];
    out o;

    /* a GET is retried after Retry-After and succeeds */
    snprintf(fx, sizeof(fx),
             "{\"method\":\"GET\",\"path\":\"*/tokens/%s\",\"kind\":\"rate_limit\","
             "\"retry_after\":1,\"count\":1}",
             t->target_id);
    fault(t, fx);
    log_reset(t);
    o = call(t, g_prov->describe, "id", t->target_id, NULL);
    expect_ok(o);
    out_free(&o);
    assert_int_equal(log_count(t, "GET", t->target_id), 2);

    /* a PUT is not retried */
    snprintf(fx, sizeof(fx),
             "{\"method\":\"PUT\",\"path\":\"*/value\",\"kind\":\"rate_limit\","
             "\"retry_after\":1,\"count\":1}");
    fault(t, fx);
    o = call(t, g_prov->roll, "id", t->target_id, NULL);
    expect_code(o, ROTP_E_RATE_LIMITED);
    assert_int_equal(o.err.http_status, 429);
    assert_int_equal(o.err.retry_after_ms, 1000);
    assert_int_equal(o.err.retryable, 1);
    out_free(&o);
    assert_int_equal(log_count(t, "PUT", "/value"), 1);
    /* the old value still works: the roll did not happen */
    expect_state(t, t->target_val, "active");
}

static void test_invalid_args(void **state)
{
    T *t = *state;
    static const char *const bad_ids[] = {
        "4C1B7F6C2D3E4F5A6B7C8D9E0F1A2B3C",  /* uppercase */
        "4c1b7f6c2d3e4f5a6b7c8d9e0f1a2b3",   /* 31 */
        "4c1b7f6c2d3e4f5a6b7c8d9e0f1a2b3c0", /* 33 */
        "../..",
        "%2e%2e",
        "4c1b7f6c2d3e4f5a\r\n7c8d9e0f1a2b3c",
        "4c1b7f6c2d3e4f5a6b7c8d9e0f1a2b3\n",
        "",
        "4c1b7f6c-2d3e-4f5a-6b7c-8d9e0f1a",
    };
    out o;

    log_reset(t);
    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(*bad_ids); i++) {
        o = call(t, g_prov->describe, "id", bad_ids[i], NULL);
        expect_code(o, ROTP_E_INVALID_ARGUMENT);
        out_free(&o);
        o = call(t, g_prov->roll, "id", bad_ids[i], NULL);
        expect_code(o, ROTP_E_INVALID_ARGUMENT);
        out_free(&o);
        o = call(t, g_prov->revoke, "id", bad_ids[i], NULL);
        expect_code(o, ROTP_E_INVALID_ARGUMENT);
        out_free(&o);
    }
    /* missing id, unknown keys, keys of another operation */
    o = call(t, g_prov->roll, NULL);
    expect_code(o, ROTP_E_INVALID_ARGUMENT);
    out_free(&o);
    o = call(t, g_prov->describe, "id", t->target_id, "idd", "x", NULL);
    expect_code(o, ROTP_E_INVALID_ARGUMENT);
    assert_non_null(strstr(o.err.message, "idd"));
    out_free(&o);
    o = call(t, g_prov->revoke, "id", t->target_id, "allow_self_roll", "1", NULL);
    expect_code(o, ROTP_E_INVALID_ARGUMENT);
    out_free(&o);
    o = call(t, g_prov->roll, "id", t->target_id, "allow_self_roll", "maybe", NULL);
    expect_code(o, ROTP_E_INVALID_ARGUMENT);
    out_free(&o);
    /* account_id: required and checked for the account kind, refused for the user kind */
    if (t->k->account) {
        static const char *const bad_acct[] = {"../../user", "01A7362D577A6C3019A474FD6F485823",
                                               "01a7362d577a6c3019a474fd6f48582", "%2e%2e"};
        o = call(t, g_prov->describe, "!raw", "kind", t->k->kind, "id", t->target_id, NULL);
        expect_code(o, ROTP_E_INVALID_ARGUMENT);
        out_free(&o);
        for (size_t i = 0; i < sizeof(bad_acct) / sizeof(*bad_acct); i++) {
            o = call(t, g_prov->describe, "!raw", "kind", t->k->kind, "account_id", bad_acct[i],
                     "id", t->target_id, NULL);
            expect_code(o, ROTP_E_INVALID_ARGUMENT);
            out_free(&o);
        }
    } else {
        o = call(t, g_prov->describe, "account_id", t->acct, "id", t->target_id, NULL);
        expect_code(o, ROTP_E_INVALID_ARGUMENT);
        out_free(&o);
    }
    assert_int_equal(log_count(t, NULL, NULL), 0);
}

/* scopes: nested resources, several groups, a deny policy (seed_api_token_many.json "scoped") */
static void test_describe_scopes(void **state)
{
    T *t = *state;
    char want[512];
    out o;

    if (t->k->account)
        return; /* the seed's "scoped" token is user-owned */
    o = call(t, g_prov->describe, "id", cred(t, "CFEMU_TOKEN_%s_ID", "SCOPED"), NULL);
    expect_ok(o);
    snprintf(want, sizeof(want),
             "Zone Read, Pages Write @ all zones in account %s; deny:Zone Read @ zone %s", t->acct,
             cred(t, "%s", "CFEMU_ZONE_ID"));
    assert_string_equal(get(&o, "scopes"), want);
    assert_string_equal(get(&o, "expires_on"), "2030-01-01T00:00:00Z");
    out_free(&o);
}

/* provision's answer lost: outcome unknown; the token exists and list by name finds it */
static void test_provision_lost_response(void **state)
{
    T *t = *state;
    char pol[1024], exp[32], fx[256], id[33];
    const char *items;
    out p, l;

    zone_read_policies(t, pol, sizeof(pol));
    future(86400, exp);
    snprintf(fx, sizeof(fx),
             "{\"method\":\"POST\",\"path\":\"*/tokens\",\"kind\":\"reset_after\"}");
    fault(t, fx);
    p = call(t, g_prov->provision, "name", "it-lost", "policies", pol, "expires_on", exp, NULL);
    expect_code(p, ROTP_E_OUTCOME_UNKNOWN);
    assert_true(p.err.flags & ROTP_ERRF_REQUEST_SENT);
    assert_non_null(strstr(p.err.message, "list by name"));
    out_free(&p);
    assert_int_equal(log_count(t, "POST", "/tokens"), 1);

    l = call(t, g_prov->list, "name", "it-lost", NULL);
    expect_ok(l);
    assert_string_equal(get(&l, "count"), "1");
    items = get(&l, "items");
    assert_non_null(strstr(items, "\"id\":\""));
    snprintf(id, sizeof(id), "%.32s", strstr(items, "\"id\":\"") + 6);
    out_free(&l);
    l = call(t, g_prov->revoke, "id", id, NULL);
    expect_ok(l);
    assert_string_equal(get(&l, "state"), "revoked");
    out_free(&l);
}

/* revoke whose answer is lost on every attempt settles itself by looking: the token is gone, so
 * it is revoked; a probe that answers 503 is no evidence: TRANSIENT, no state (issue 14) */
static void test_lost_answers(void **state)
{
    T *t = *state;
    char path[128];
    out o;

    if (t->k->account)
        snprintf(path, sizeof(path), "/accounts/%s/tokens/permission_groups", t->acct);
    else
        snprintf(path, sizeof(path), "/user/tokens/permission_groups");
    fault(t, "{\"method\":\"GET\",\"path\":\"*/permission_groups\",\"kind\":\"status\","
             "\"status\":503,\"count\":20}");
    o = call(t, g_prov->verify, "secret", t->target_val, "probe_path", path, NULL);
    expect_code(o, ROTP_E_TRANSIENT);
    assert_int_equal(o.err.http_status, 503);
    assert_null(get(&o, "state"));
    out_free(&o);
    assert_int_equal(cfemu_ctl(&t->fx, "DELETE", "/__cfemu/faults", NULL, NULL), 200);

    log_reset(t);
    fault(t, "{\"method\":\"DELETE\",\"path\":\"*/tokens/*\",\"kind\":\"truncate\","
             "\"count\":20}");
    o = call(t, g_prov->revoke, "id", t->target_id, NULL);
    expect_ok(o);
    assert_string_equal(get(&o, "state"), "revoked");
    out_free(&o);
    assert_true(log_count(t, "GET", t->target_id) >= 1); /* the look */
    assert_int_equal(cfemu_ctl(&t->fx, "DELETE", "/__cfemu/faults", NULL, NULL), 200);
    expect_state(t, t->target_val, "invalid");
}

/* a value of the other kind is invalid here; an id that does not match gives a warning */
static void test_verify_other_kind(void **state)
{
    T *t = *state;
    const char *other =
        cred(t, "CFEMU_TOKEN_%s_VALUE", t->k->account ? "PAGES_DEPLOY" : "CI_READONLY");
    out v;

    expect_state(t, other, "invalid");
    v = call(t, g_prov->verify, "secret", t->target_val, "id",
             cred(t, "CFEMU_TOKEN_%s_ID", "READONLY"), NULL);
    expect_ok(v);
    assert_string_equal(get(&v, "state"), "active");
    assert_string_equal(get(&v, "id"), t->target_id);
    assert_non_null(get(&v, "warning"));
    out_free(&v);
    v = call(t, g_prov->verify, "secret", t->target_val, "id", t->target_id, NULL);
    expect_ok(v);
    assert_null(get(&v, "warning"));
    out_free(&v);
}

/* 5xx: a GET is retried and succeeds; a PUT is not retried and is outcome unknown */
static void test_server_error(void **state)
{
    T *t = *state;
    char fx[256];
    out o;

    snprintf(fx, sizeof(fx),
             "{\"method\":\"GET\",\"path\":\"*/tokens/%s\",\"kind\":\"status\",\"status\":502}",
             t->target_id);
    fault(t, fx);
    o = call(t, g_prov->describe, "id", t->target_id, NULL);
    expect_ok(o);
    out_free(&o);
    assert_int_equal(log_count(t, "GET", t->target_id), 2);

    fault(t, "{\"method\":\"PUT\",\"path\":\"*/value\",\"kind\":\"status\",\"status\":500}");
    o = call(t, g_prov->roll, "id", t->target_id, NULL);
    expect_code(o, ROTP_E_OUTCOME_UNKNOWN);
    assert_non_null(strstr(o.err.message, "roll again"));
    out_free(&o);
    assert_int_equal(log_count(t, "PUT", "/value"), 1);
}

static void test_log_captured(void **state)
{
    (void)state;
    /* the log check after each test is only meaningful if the provider logged */
    assert_true(g_nlines > 0);
    if (getenv("ROTP_TEST_VERBOSE") != NULL)
        for (size_t i = 0; i < g_nlines; i++)
            fprintf(stderr, "log: %s\n", g_lines[i] != NULL ? g_lines[i] : "(null)");
    assert_true(g_nsecrets > 4);
    assert_no_secret_in_log();
    /* query strings are never logged (ABI.md section 11): list pages, probe paths */
    for (size_t i = 0; i < g_nlines; i++)
        assert_null(strstr(g_lines[i], "per_page="));
}

#define BOTH(fn, su)                                                                               \
    cmocka_unit_test_prestate_setup_teardown(fn, su, teardown, (void *)&k_user),                   \
        cmocka_unit_test_prestate_setup_teardown(fn, su, teardown, (void *)&k_account)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_describe_kind, setup),
        BOTH(test_describe_token, setup),
        BOTH(test_roll, setup),
        BOTH(test_roll_lost_response, setup),
        BOTH(test_self_roll, setup),
        BOTH(test_verify_probe, setup),
        BOTH(test_revoke_twice, setup),
        BOTH(test_provision, setup),
        BOTH(test_list, setup),
        BOTH(test_list_pages, setup_many),
        BOTH(test_describe_scopes, setup_many),
        BOTH(test_provision_lost_response, setup),
        BOTH(test_verify_other_kind, setup),
        BOTH(test_lost_answers, setup),
        BOTH(test_server_error, setup),
        BOTH(test_permission_denied, setup),
        BOTH(test_mgmt_invalid, setup),
        BOTH(test_not_found, setup),
        BOTH(test_rate_limited, setup),
        BOTH(test_invalid_args, setup),
        cmocka_unit_test(test_log_captured),
    };

    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
