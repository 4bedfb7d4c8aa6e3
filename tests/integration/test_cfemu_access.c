/* SPDX-License-Identifier: MIT */
/* test_cfemu_access.c - cfemu's Access service-token API and probe origin, over TLS.
 *
 * One private cfemu (built-in seed) serves the whole group; every test makes its own tokens so the
 * tests do not depend on each other's state, except that cfemu's clock only moves forward. All
 * calls verify TLS against the CA cfemu generated and authenticate with the seed's MGMT token
 * read from the creds file. Secrets read from responses are wiped before they are freed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "cfemu_fixture.h"
#include "ids.h"
#include "json.h"
#include "secret.h"
#include "timefmt.h"

#define BODY_MAX (1024u * 1024u)

typedef struct creds {
    char account[33];
    char zone[33];
    char *mgmt;     /* MGMT token value */
    char *readonly; /* READONLY token value */
    char console_id[37], console_client_id[64], *console_secret;
    char vault_id[37];
    char edge_id[37];
    char app_console[37], app_vault[37], app_edge[37];
} creds;

static cfemu_fx g_fx;           /* the group's cfemu (built-in seed) */
static cfemu_fx g_fx2;          /* a second one, with a seed file, for test_probe_rules_from_seed */
static cfemu_fx *g_cur = &g_fx; /* where http_do() sends requests */
static char g_seed_dir[64];
static creds g_cr;

/* --- small helpers ----------------------------------------------------------------------- */

static void wipe_free(char *s)
{
    if (s != NULL) {
        secret_wipe(s, strlen(s));
        free(s);
    }
}

typedef struct resp {
    long status;
    char *body; /* NUL-terminated, malloc'd */
    size_t len;
} resp;

static void resp_free(resp *r)
{
    wipe_free(r->body);
    r->body = NULL;
    r->len = 0;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    resp *r = ud;
    size_t add = sz * n;
    if (r->len + add > BODY_MAX)
        return 0;
    char *nb = realloc(r->body, r->len + add + 1);
    if (nb == NULL)
        return 0;
    memcpy(nb + r->len, p, add);
    r->len += add;
    nb[r->len] = 0;
    r->body = nb;
    return add;
}

/* One HTTPS request to cfemu. url_path is appended to the origin. headers: NULL-terminated.
 * Fails the test on a transport error. */
static resp http_do(const char *method, const char *url_path, const char *const *headers,
                    const char *body)
{
    resp r = {0, NULL, 0};
    char url[512];
    snprintf(url, sizeof(url), "%s%s", g_cur->origin, url_path);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    struct curl_slist *hl = NULL;
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
        hl = curl_slist_append(hl, headers[i]);
    if (body != NULL)
        hl = curl_slist_append(hl, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_CAINFO, g_cur->ca_file);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", method, url_path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    /* The Authorization and CF-Access-* header strings held secrets. */
    for (struct curl_slist *s = hl; s != NULL; s = s->next)
        secret_wipe(s->data, strlen(s->data));
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    if (r.body == NULL)
        r.body = calloc(1, 1);
    return r;
}

/* An API call under /client/v4 with a bearer token (NULL: none). */
static resp api(const char *method, const char *token, const char *body, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static resp api(const char *method, const char *token, const char *body, const char *fmt, ...)
{
    char path[400], full[480], auth[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    snprintf(full, sizeof(full), "/client/v4%s", path);
    const char *hdrs[2] = {NULL, NULL};
    if (token != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        hdrs[0] = auth;
    }
    resp r = http_do(method, full, hdrs, body);
    secret_wipe(auth, sizeof(auth));
    return r;
}

/* GET /cdn-cgi/access/probe/{app} with the two service-token headers (NULL: header left out). */
static long probe(const char *app, const char *client_id, const char *secret)
{
    char path[128], h1[200], h2[300];
    const char *hdrs[3] = {NULL, NULL, NULL};
    size_t n = 0;
    snprintf(path, sizeof(path), "/cdn-cgi/access/probe/%s", app);
    if (client_id != NULL) {
        snprintf(h1, sizeof(h1), "CF-Access-Client-Id: %s", client_id);
        hdrs[n++] = h1;
    }
    if (secret != NULL) {
        snprintf(h2, sizeof(h2), "CF-Access-Client-Secret: %s", secret);
        hdrs[n++] = h2;
    }
    resp r = http_do("GET", path, hdrs, NULL);
    secret_wipe(h2, sizeof(h2));
    long st = r.status;
    resp_free(&r);
    return st;
}

/* A copy of body for failure messages, with the string values of secret-bearing keys
 * ("client_secret", "value", and a bare-string "result" such as a rolled token) replaced by
 * "*". Tests never print a secret. */
static char *redacted(const char *body)
{
    static const char *const keys[] = {"\"client_secret\":", "\"value\":", "\"result\":"};
    const size_t nkeys = sizeof(keys) / sizeof(keys[0]);
    size_t len = strlen(body), o = 0;
    char *out = malloc(2 * len + 8);

    assert_non_null(out);
    for (size_t i = 0; i < len;) {
        size_t k = 0, kl = 0;
        for (; k < nkeys; k++) {
            kl = strlen(keys[k]);
            if (strncmp(body + i, keys[k], kl) == 0 && body[i + kl] == '"')
                break;
        }
        if (k == nkeys) {
            out[o++] = body[i++];
            continue;
        }
        memcpy(out + o, body + i, kl);
        o += kl;
        i += kl + 1; /* past the opening quote */
        while (i < len && body[i] != '"')
            i += (body[i] == '\\' && i + 1 < len) ? 2 : 1;
        i++; /* past the closing quote */
        memcpy(out + o, "\"*\"", 3);
        o += 3;
    }
    out[o] = 0;
    return out;
}

/* Prints what failed with the (redacted) body, then fails the test. */
static void fail_with_body(const char *what, const char *body)
{
    char *safe = redacted(body);
    print_error("%s: %s\n", what, safe);
    free(safe);
    fail();
}

/* The token index of dotted path ("result.client_id", "result_info.total_count", "errors.0.code")
 * in doc, or -1. */
static int jpath(const json_doc *doc, const char *path)
{
    int tok = 0;
    char seg[64];
    const char *p = path;
    while (*p != 0 && tok >= 0) {
        size_t n = strcspn(p, ".");
        assert_true(n < sizeof(seg));
        memcpy(seg, p, n);
        seg[n] = 0;
        if (json_is_array(doc, tok))
            tok = json_at(doc, tok, atoi(seg));
        else
            tok = json_get(doc, tok, seg);
        p += n;
        if (*p == '.')
            p++;
    }
    return tok;
}

/* The value at path as a malloc'd string (strings unescaped, other values raw), or NULL. */
static char *jget(const char *body, const char *path)
{
    json_doc doc;
    char *out = NULL;
    if (json_parse(&doc, body, strlen(body)) != JSON_OK)
        return NULL;
    int tok = jpath(&doc, path);
    if (tok >= 0 && json_is_string(&doc, tok)) {
        if (json_strdup(&doc, tok, &out) != 0)
            out = NULL;
    } else if (tok >= 0 && !json_is_null(&doc, tok)) {
        size_t len;
        const char *raw = json_raw(&doc, tok, &len);
        out = strndup(raw, len);
    }
    json_free(&doc);
    return out;
}

static int64_t jint(const char *body, const char *path)
{
    char *s = jget(body, path);
    if (s == NULL)
        fail_with_body(path, body);
    int64_t v = strtoll(s, NULL, 10);
    free(s);
    return v;
}

static int64_t jtime(const char *body, const char *path)
{
    char *s = jget(body, path);
    int64_t t = 0;
    if (s == NULL)
        fail_with_body(path, body);
    if (rfc3339_parse(s, strlen(s), &t) != 0)
        fail_msg("%s = %s is not RFC 3339", path, s);
    free(s);
    return t;
}

static int jcount(const char *body, const char *path)
{
    json_doc doc;
    assert_int_equal(json_parse(&doc, body, strlen(body)), JSON_OK);
    int tok = jpath(&doc, path);
    int n = tok >= 0 && json_is_array(&doc, tok) ? doc.toks[tok].size : -1;
    json_free(&doc);
    return n;
}

static void expect_status(const resp *r, long want)
{
    if (r->status != want) {
        char what[64];
        snprintf(what, sizeof(what), "HTTP %ld, want %ld", r->status, want);
        fail_with_body(what, r->body);
    }
}

static void expect_error(const resp *r, long status, long code)
{
    expect_status(r, status);
    if (jint(r->body, "errors.0.code") != code) {
        char what[64];
        snprintf(what, sizeof(what), "want error code %ld", code);
        fail_with_body(what, r->body);
    }
    char *succ = jget(r->body, "success");
    assert_string_equal(succ, "false");
    free(succ);
}

static void fmt_time(int64_t t, char *buf)
{
    assert_int_equal(rfc3339_format(t, buf, RFC3339_LEN), 0);
}

/* A freshly created account-level service token. */
typedef struct st {
    char id[37];
    char client_id[80];
    char *secret;
    int64_t created; /* cfemu's clock at creation */
    int64_t expires;
} st;

static void st_free(st *t)
{
    wipe_free(t->secret);
    t->secret = NULL;
}

static st st_create_at(const char *scope_path, const char *body)
{
    st t;
    memset(&t, 0, sizeof(t));
    resp r = api("POST", g_cr.mgmt, body, "%s/access/service_tokens", scope_path);
    expect_status(&r, 201);
    char *id = jget(r.body, "result.id");
    char *cid = jget(r.body, "result.client_id");
    assert_non_null(id);
    assert_non_null(cid);
    assert_true(id_is_uuid(id, strlen(id)));
    assert_true(strlen(cid) < sizeof(t.client_id));
    strcpy(t.id, id);
    strcpy(t.client_id, cid);
    t.secret = jget(r.body, "result.client_secret");
    assert_non_null(t.secret);
    t.created = jtime(r.body, "result.created_at");
    char *exp = jget(r.body, "result.expires_at"); /* absent for a zone "forever" token */
    t.expires = exp != NULL ? jtime(r.body, "result.expires_at") : INT64_MIN;
    free(exp);
    free(id);
    free(cid);
    resp_free(&r);
    return t;
}

static st st_create(const char *name, const char *duration)
{
    char scope[64], body[200];
    snprintf(scope, sizeof(scope), "/accounts/%s", g_cr.account);
    if (duration != NULL)
        snprintf(body, sizeof(body), "{\"name\":\"%s\",\"duration\":\"%s\"}", name, duration);
    else
        snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
    return st_create_at(scope, body);
}

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* --- creds file -------------------------------------------------------------------------- */

static char *creds_file_text(void)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/creds.env", g_fx.dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t n = buf != NULL ? fread(buf, 1, 65535, f) : 0;
    (void)n;
    fclose(f);
    return buf;
}

static char *cred(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = text; p != NULL && *p != 0;) {
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

static int group_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (cfemu_start(&g_fx, NULL, NULL) != 0)
        return -1;
    char *text = creds_file_text();
    if (text == NULL) {
        fprintf(stderr, "no creds file in %s\n", g_fx.dir);
        return -1;
    }
    cred_copy(text, "CFEMU_ACCOUNT_ID", g_cr.account, sizeof(g_cr.account));
    cred_copy(text, "CFEMU_ZONE_ID", g_cr.zone, sizeof(g_cr.zone));
    g_cr.mgmt = cred(text, "CFEMU_TOKEN_MGMT_VALUE");
    g_cr.readonly = cred(text, "CFEMU_TOKEN_READONLY_VALUE");
    cred_copy(text, "CFEMU_ST_CONSOLE_PROBE_ID", g_cr.console_id, sizeof(g_cr.console_id));
    cred_copy(text, "CFEMU_ST_CONSOLE_PROBE_CLIENT_ID", g_cr.console_client_id,
              sizeof(g_cr.console_client_id));
    g_cr.console_secret = cred(text, "CFEMU_ST_CONSOLE_PROBE_CLIENT_SECRET");
    cred_copy(text, "CFEMU_ST_VAULT_PROBE_ID", g_cr.vault_id, sizeof(g_cr.vault_id));
    cred_copy(text, "CFEMU_ST_EDGE_PROBE_ID", g_cr.edge_id, sizeof(g_cr.edge_id));
    cred_copy(text, "CFEMU_APP_CONSOLE_ID", g_cr.app_console, sizeof(g_cr.app_console));
    cred_copy(text, "CFEMU_APP_VAULT_ID", g_cr.app_vault, sizeof(g_cr.app_vault));
    cred_copy(text, "CFEMU_APP_EDGE_ID", g_cr.app_edge, sizeof(g_cr.app_edge));
    wipe_free(text);
    return 0;
}

/* cmocka reports a failed group teardown but still returns 0: main checks this too */
static int g_teardown_failed;

static int group_teardown(void **state)
{
    (void)state;
    int rc = cfemu_stop(&g_fx);
    wipe_free(g_cr.mgmt);
    wipe_free(g_cr.readonly);
    wipe_free(g_cr.console_secret);
    curl_global_cleanup();
    if (rc != 0) {
        fprintf(stderr, "cfemu exit status %d (want 0)\n", rc);
        g_teardown_failed = 1;
    }
    return rc == 0 ? 0 : -1;
}

/* --- tests ------------------------------------------------------------------------------- */

/* Create answers 201 with the only copy of the secret; get and list never show it. */
static void test_create_201_secret_only_on_create(void **state)
{
    (void)state;
    resp r = api("POST", g_cr.mgmt, "{\"name\":\"create-check\"}",
                 "/accounts/%s/access/service_tokens", g_cr.account);
    expect_status(&r, 201);
    char *id = jget(r.body, "result.id");
    char *cid = jget(r.body, "result.client_id");
    char *sec = jget(r.body, "result.client_secret");
    char *dur = jget(r.body, "result.duration");
    char *name = jget(r.body, "result.name");
    assert_non_null(id);
    assert_true(id_is_uuid(id, strlen(id)));
    assert_int_equal(id[14], '4'); /* version 4 */
    assert_non_null(cid);
    assert_int_equal(strlen(cid), 32 + strlen(".access"));
    assert_true(is_hex(cid, 32));
    assert_string_equal(cid + 32, ".access");
    assert_non_null(sec);
    assert_int_equal(strlen(sec), 64);
    assert_true(is_hex(sec, 64));
    assert_string_equal(dur, "8760h");
    assert_string_equal(name, "create-check");
    assert_int_equal(jint(r.body, "result.client_secret_version"), 1);
    int64_t created = jtime(r.body, "result.created_at");
    assert_int_equal(jtime(r.body, "result.expires_at") - created, 8760LL * 3600);
    assert_int_equal(jtime(r.body, "result.updated_at"), created);
    resp_free(&r);

    r = api("GET", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens/%s", g_cr.account, id);
    expect_status(&r, 200);
    assert_null(strstr(r.body, "\"client_secret\""));
    assert_null(strstr(r.body, sec));
    char *cid2 = jget(r.body, "result.client_id");
    assert_string_equal(cid2, cid);
    assert_true(jtime(r.body, "result.expires_at") > created);
    resp_free(&r);

    r = api("GET", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens?name=create-check",
            g_cr.account);
    expect_status(&r, 200);
    assert_int_equal(jcount(r.body, "result"), 1);
    assert_null(strstr(r.body, "\"client_secret\""));
    assert_null(strstr(r.body, sec));
    resp_free(&r);

    /* The request log never holds the secret. */
    char *log = cfemu_request_log(&g_fx);
    assert_non_null(log);
    assert_null(strstr(log, sec));
    free(log);

    free(id);
    free(cid);
    free(cid2);
    wipe_free(sec);
    free(dur);
    free(name);
}

/* Account-level list: `name` is exact, `search` a substring; page/per_page with result_info. */
static void test_list_filters_and_pagination(void **state)
{
    (void)state;
    st t[7];
    char name[32];
    for (int i = 0; i < 7; i++) {
        snprintf(name, sizeof(name), "pagetest-%d", i);
        t[i] = st_create(name, NULL);
    }
    resp r = api("GET", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens?name=pagetest-3",
                 g_cr.account);
    expect_status(&r, 200);
    assert_int_equal(jcount(r.body, "result"), 1);
    char *got = jget(r.body, "result.0.id");
    assert_string_equal(got, t[3].id);
    free(got);
    resp_free(&r);

    r = api("GET", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens?name=pagetest",
            g_cr.account);
    expect_status(&r, 200);
    assert_int_equal(jcount(r.body, "result"), 0);
    resp_free(&r);

    r = api("GET", g_cr.mgmt, NULL,
            "/accounts/%s/access/service_tokens?search=agetest-&per_page=5&page=1", g_cr.account);
    expect_status(&r, 200);
    assert_int_equal(jcount(r.body, "result"), 5);
    assert_int_equal(jint(r.body, "result_info.page"), 1);
    assert_int_equal(jint(r.body, "result_info.per_page"), 5);
    assert_int_equal(jint(r.body, "result_info.count"), 5);
    assert_int_equal(jint(r.body, "result_info.total_count"), 7);
    resp_free(&r);

    r = api("GET", g_cr.mgmt, NULL,
            "/accounts/%s/access/service_tokens?search=agetest-&per_page=5&page=2", g_cr.account);
    expect_status(&r, 200);
    assert_int_equal(jcount(r.body, "result"), 2);
    assert_int_equal(jint(r.body, "result_info.page"), 2);
    assert_int_equal(jint(r.body, "result_info.count"), 2);
    resp_free(&r);

    r = api("GET", g_cr.mgmt, NULL,
            "/accounts/%s/access/service_tokens?search=agetest-&per_page=5&page=3", g_cr.account);
    expect_status(&r, 200);
    assert_int_equal(jcount(r.body, "result"), 0);
    resp_free(&r);

    static const char *const bad_q[] = {"per_page=0", "page=0", "page=abc", "per_page=-5"};
    for (size_t i = 0; i < sizeof(bad_q) / sizeof(bad_q[0]); i++) {
        r = api("GET", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens?%s", g_cr.account,
                bad_q[i]);
        expect_status(&r, 400);
        resp_free(&r);
    }

    /* Unfiltered: the seed's two account tokens are there; the zone-level one is not. */
    r = api("GET", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens?per_page=50", g_cr.account);
    expect_status(&r, 200);
    assert_non_null(strstr(r.body, g_cr.console_id));
    assert_null(strstr(r.body, g_cr.edge_id));
    resp_free(&r);
    for (int i = 0; i < 7; i++)
        st_free(&t[i]);
}

/* Duplicate names are allowed (API-NOTES addendum): two tokens, two ids, two client ids; the
 * name filter finds both, and deleting one leaves the other. */
static void test_duplicate_names_allowed(void **state)
{
    (void)state;
    st a = st_create("same-name", NULL);
    st b = st_create("same-name", NULL);
    assert_string_not_equal(a.id, b.id);
    assert_string_not_equal(a.client_id, b.client_id);
    resp r = api("GET", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens?name=same-name",
                 g_cr.account);
    expect_status(&r, 200);
    assert_int_equal(jcount(r.body, "result"), 2);
    resp_free(&r);
    r = api("DELETE", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens/%s", g_cr.account, a.id);
    expect_status(&r, 200);
    resp_free(&r);
    r = api("GET", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens?name=same-name",
            g_cr.account);
    expect_status(&r, 200);
    assert_int_equal(jcount(r.body, "result"), 1);
    char *left = jget(r.body, "result.0.id");
    assert_string_equal(left, b.id);
    free(left);
    resp_free(&r);
    st_free(&a);
    st_free(&b);
}

/* Get and update (PUT name and duration): id and client id stay, updated_at moves. */
static void test_get_and_update(void **state)
{
    (void)state;
    st t = st_create("update-me", "2h45m");
    assert_int_equal(t.expires - t.created, 2 * 3600 + 45 * 60);
    assert_int_equal(cfemu_clock_advance(&g_fx, 60), 0);
    resp r = api("PUT", g_cr.mgmt, "{\"name\":\"updated\",\"duration\":\"1h\"}",
                 "/accounts/%s/access/service_tokens/%s", g_cr.account, t.id);
    expect_status(&r, 200);
    char *name = jget(r.body, "result.name");
    char *dur = jget(r.body, "result.duration");
    char *cid = jget(r.body, "result.client_id");
    char *id = jget(r.body, "result.id");
    assert_string_equal(name, "updated");
    assert_string_equal(dur, "1h");
    assert_string_equal(cid, t.client_id);
    assert_string_equal(id, t.id);
    assert_null(strstr(r.body, "\"client_secret\""));
    int64_t upd = jtime(r.body, "result.updated_at");
    assert_true(upd >= t.created + 60);
    assert_int_equal(jtime(r.body, "result.created_at"), t.created);
    /* A new duration runs from the update. */
    assert_int_equal(jtime(r.body, "result.expires_at"), upd + 3600);
    free(name);
    free(dur);
    free(cid);
    free(id);
    resp_free(&r);

    r = api("GET", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens/%s", g_cr.account, t.id);
    expect_status(&r, 200);
    name = jget(r.body, "result.name");
    assert_string_equal(name, "updated");
    free(name);
    resp_free(&r);

    /* The secret is unchanged by a plain update. */
    assert_int_equal(probe(g_cr.app_vault, t.client_id, t.secret), 200);

    r = api("PUT", g_cr.mgmt, "{\"duration\":\"3 days\"}", "/accounts/%s/access/service_tokens/%s",
            g_cr.account, t.id);
    expect_status(&r, 400);
    resp_free(&r);
    r = api("GET", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens/%s", g_cr.account,
            "00000000-0000-4000-8000-000000000000");
    expect_status(&r, 404);
    resp_free(&r);
    st_free(&t);
}

/* Create refuses a body without a name and a malformed duration. */
static void test_create_validation(void **state)
{
    (void)state;
    resp r = api("POST", g_cr.mgmt, "{\"duration\":\"1h\"}", "/accounts/%s/access/service_tokens",
                 g_cr.account);
    expect_status(&r, 400);
    resp_free(&r);
    r = api("POST", g_cr.mgmt, "{\"name\":\"x\",\"duration\":\"forever\"}",
            "/accounts/%s/access/service_tokens", g_cr.account);
    expect_status(&r, 400); /* "forever" is the zone-level schema's value only */
    resp_free(&r);
    r = api("POST", g_cr.mgmt, "{\"name\":", "/accounts/%s/access/service_tokens", g_cr.account);
    expect_status(&r, 400);
    resp_free(&r);
}

/* rotate with a grace window: both secrets pass until the window ends, then only the new one. */
static void test_rotate_grace_window(void **state)
{
    (void)state;
    st t = st_create("rotate-grace", NULL);
    char until[RFC3339_LEN], body[128];
    fmt_time(t.created + 600, until);
    snprintf(body, sizeof(body), "{\"previous_client_secret_expires_at\":\"%s\"}", until);
    resp r = api("POST", g_cr.mgmt, body, "/accounts/%s/access/service_tokens/%s/rotate",
                 g_cr.account, t.id);
    expect_status(&r, 200);
    char *id = jget(r.body, "result.id");
    char *cid = jget(r.body, "result.client_id");
    char *sec2 = jget(r.body, "result.client_secret");
    assert_string_equal(id, t.id);
    assert_string_equal(cid, t.client_id);
    assert_non_null(sec2);
    assert_int_equal(strlen(sec2), 64);
    assert_string_not_equal(sec2, t.secret);
    assert_int_equal(jint(r.body, "result.client_secret_version"), 2);
    assert_int_equal(jtime(r.body, "result.previous_client_secret_expires_at"), t.created + 600);
    resp_free(&r);

    assert_int_equal(probe(g_cr.app_vault, t.client_id, t.secret), 200);
    assert_int_equal(probe(g_cr.app_vault, t.client_id, sec2), 200);
    assert_int_equal(cfemu_clock_advance(&g_fx, 601), 0);
    assert_int_equal(probe(g_cr.app_vault, t.client_id, t.secret), 401);
    assert_int_equal(probe(g_cr.app_vault, t.client_id, sec2), 200);

    r = api("GET", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens/%s", g_cr.account, t.id);
    expect_status(&r, 200);
    char *cid3 = jget(r.body, "result.client_id");
    assert_string_equal(cid3, t.client_id);
    assert_null(strstr(r.body, sec2));
    resp_free(&r);
    free(id);
    free(cid);
    free(cid3);
    wipe_free(sec2);
    st_free(&t);
}

/* rotate without a body: the previous secret dies at once. */
static void test_rotate_without_body_kills_old_secret(void **state)
{
    (void)state;
    st t = st_create("rotate-now", NULL);
    assert_int_equal(probe(g_cr.app_vault, t.client_id, t.secret), 200);
    resp r = api("POST", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens/%s/rotate",
                 g_cr.account, t.id);
    expect_status(&r, 200);
    char *sec2 = jget(r.body, "result.client_secret");
    assert_non_null(sec2);
    resp_free(&r);
    assert_int_equal(probe(g_cr.app_vault, t.client_id, t.secret), 401);
    assert_int_equal(probe(g_cr.app_vault, t.client_id, sec2), 200);

    /* Rotating again retires sec2 and never revives the first secret. */
    r = api("POST", g_cr.mgmt, "{}", "/accounts/%s/access/service_tokens/%s/rotate", g_cr.account,
            t.id);
    expect_status(&r, 200);
    char *sec3 = jget(r.body, "result.client_secret");
    assert_int_equal(jint(r.body, "result.client_secret_version"), 3);
    resp_free(&r);
    assert_int_equal(probe(g_cr.app_vault, t.client_id, sec2), 401);
    assert_int_equal(probe(g_cr.app_vault, t.client_id, t.secret), 401);
    assert_int_equal(probe(g_cr.app_vault, t.client_id, sec3), 200);
    wipe_free(sec2);
    wipe_free(sec3);
    st_free(&t);
}

/* PUT client_secret_version+1 rotates (the new secret is in that response); PUT
 * previous_client_secret_expires_at into the past then kills the old secret at once. */
static void test_put_version_bump_and_kill_previous(void **state)
{
    (void)state;
    st t = st_create("put-rotate", NULL);
    char until[RFC3339_LEN], body[160];
    fmt_time(t.created + 3600, until);
    snprintf(body, sizeof(body),
             "{\"client_secret_version\":2,\"previous_client_secret_expires_at\":\"%s\"}", until);
    resp r =
        api("PUT", g_cr.mgmt, body, "/accounts/%s/access/service_tokens/%s", g_cr.account, t.id);
    expect_status(&r, 200);
    assert_int_equal(jint(r.body, "result.client_secret_version"), 2);
    char *sec2 = jget(r.body, "result.client_secret");
    assert_non_null(sec2);
    assert_string_not_equal(sec2, t.secret);
    char *cid = jget(r.body, "result.client_id");
    assert_string_equal(cid, t.client_id);
    free(cid);
    resp_free(&r);
    assert_int_equal(probe(g_cr.app_vault, t.client_id, t.secret), 200);
    assert_int_equal(probe(g_cr.app_vault, t.client_id, sec2), 200);

    /* The same version again is no rotation. */
    r = api("PUT", g_cr.mgmt, "{\"client_secret_version\":2}",
            "/accounts/%s/access/service_tokens/%s", g_cr.account, t.id);
    expect_status(&r, 200);
    assert_null(strstr(r.body, "\"client_secret\""));
    resp_free(&r);
    assert_int_equal(probe(g_cr.app_vault, t.client_id, sec2), 200);

    r = api("PUT", g_cr.mgmt, "{\"previous_client_secret_expires_at\":\"2000-01-01T00:00:00Z\"}",
            "/accounts/%s/access/service_tokens/%s", g_cr.account, t.id);
    expect_status(&r, 200);
    assert_int_equal(jtime(r.body, "result.previous_client_secret_expires_at"), 946684800);
    resp_free(&r);
    assert_int_equal(probe(g_cr.app_vault, t.client_id, t.secret), 401);
    assert_int_equal(probe(g_cr.app_vault, t.client_id, sec2), 200);

    /* A lower version is refused. */
    r = api("PUT", g_cr.mgmt, "{\"client_secret_version\":1}",
            "/accounts/%s/access/service_tokens/%s", g_cr.account, t.id);
    expect_status(&r, 400);
    resp_free(&r);
    wipe_free(sec2);
    st_free(&t);
}

/* refresh: expires_at = now + duration; the secret stays. */
static void test_refresh_moves_expiry_keeps_secret(void **state)
{
    (void)state;
    st t = st_create("refresh-me", "1h");
    assert_int_equal(t.expires - t.created, 3600);
    assert_int_equal(cfemu_clock_advance(&g_fx, 1800), 0);
    resp r = api("POST", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens/%s/refresh",
                 g_cr.account, t.id);
    expect_status(&r, 200);
    int64_t exp2 = jtime(r.body, "result.expires_at");
    int64_t upd = jtime(r.body, "result.updated_at");
    assert_true(exp2 >= t.expires + 1800);
    assert_int_equal(exp2, upd + 3600);
    assert_null(strstr(r.body, "\"client_secret\""));
    assert_int_equal(jint(r.body, "result.client_secret_version"), 1);
    resp_free(&r);
    /* Past the original expiry but inside the refreshed one: still alive, same secret. */
    assert_int_equal(cfemu_clock_advance(&g_fx, 1900), 0);
    assert_int_equal(probe(g_cr.app_vault, t.client_id, t.secret), 200);
    st_free(&t);
}

/* Zone level: create (also "forever"), list, get, delete; no refresh, no rotate (7000). */
static void test_zone_level(void **state)
{
    (void)state;
    char scope[64];
    snprintf(scope, sizeof(scope), "/zones/%s", g_cr.zone);
    st z = st_create_at(scope, "{\"name\":\"zone-tok\"}");
    assert_int_equal(z.expires - z.created, 8760LL * 3600);
    st f = st_create_at(scope, "{\"name\":\"zone-forever\",\"duration\":\"forever\"}");

    resp r = api("GET", g_cr.mgmt, NULL, "/zones/%s/access/service_tokens", g_cr.zone);
    expect_status(&r, 200);
    assert_non_null(strstr(r.body, z.id));
    assert_non_null(strstr(r.body, f.id));
    assert_non_null(strstr(r.body, g_cr.edge_id));
    assert_null(strstr(r.body, g_cr.console_id));
    assert_null(strstr(r.body, "\"client_secret\""));
    resp_free(&r);

    r = api("GET", g_cr.mgmt, NULL, "/zones/%s/access/service_tokens/%s", g_cr.zone, f.id);
    expect_status(&r, 200);
    char *dur = jget(r.body, "result.duration");
    assert_string_equal(dur, "forever");
    free(dur);
    resp_free(&r);

    /* An account-level token is not reachable through the zone path, nor the reverse. */
    r = api("GET", g_cr.mgmt, NULL, "/zones/%s/access/service_tokens/%s", g_cr.zone,
            g_cr.console_id);
    expect_status(&r, 404);
    resp_free(&r);
    r = api("GET", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens/%s", g_cr.account, z.id);
    expect_status(&r, 404);
    resp_free(&r);

    /* Zone tokens pass the zone app, not the account app. */
    assert_int_equal(probe(g_cr.app_edge, z.client_id, z.secret), 200);
    assert_int_equal(probe(g_cr.app_vault, z.client_id, z.secret), 403);

    long before = cfemu_unknown_routes(&g_fx);
    assert_true(before >= 0);
    r = api("POST", g_cr.mgmt, NULL, "/zones/%s/access/service_tokens/%s/rotate", g_cr.zone, z.id);
    expect_error(&r, 400, 7000);
    resp_free(&r);
    r = api("POST", g_cr.mgmt, NULL, "/zones/%s/access/service_tokens/%s/refresh", g_cr.zone, z.id);
    expect_error(&r, 400, 7000);
    resp_free(&r);
    assert_int_equal(cfemu_unknown_routes(&g_fx), before + 2);

    r = api("DELETE", g_cr.mgmt, NULL, "/zones/%s/access/service_tokens/%s", g_cr.zone, z.id);
    expect_status(&r, 200);
    char *id = jget(r.body, "result.id");
    assert_string_equal(id, z.id);
    free(id);
    resp_free(&r);
    r = api("GET", g_cr.mgmt, NULL, "/zones/%s/access/service_tokens/%s", g_cr.zone, z.id);
    expect_status(&r, 404);
    resp_free(&r);
    assert_int_equal(probe(g_cr.app_edge, z.client_id, z.secret), 401);
    st_free(&z);
    st_free(&f);
}

/* The probe: policy by id admits only that token; any_valid admits any token of the account. */
static void test_probe_policies(void **state)
{
    (void)state;
    st t = st_create("probe-new", NULL);
    assert_int_equal(probe(g_cr.app_console, t.client_id, t.secret), 403);
    assert_int_equal(probe(g_cr.app_vault, t.client_id, t.secret), 200);
    assert_int_equal(probe(g_cr.app_console, g_cr.console_client_id, g_cr.console_secret), 200);
    /* Wrong secret, unknown client id, missing headers: 401. Unknown app: 404. */
    char wrong[65];
    memset(wrong, 'a', 64);
    wrong[64] = 0;
    assert_int_equal(probe(g_cr.app_vault, t.client_id, wrong), 401);
    assert_int_equal(probe(g_cr.app_vault, "0123456789abcdef0123456789abcdef.access", t.secret),
                     401);
    assert_int_equal(probe(g_cr.app_vault, t.client_id, NULL), 401);
    assert_int_equal(probe(g_cr.app_vault, NULL, NULL), 401);
    /* Another token's secret with this client id. */
    assert_int_equal(probe(g_cr.app_console, g_cr.console_client_id, t.secret), 401);
    assert_int_equal(probe("00000000-0000-4000-8000-000000000000", t.client_id, t.secret), 404);

    /* Passing the probe sets last_seen_at. */
    resp r =
        api("GET", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens/%s", g_cr.account, t.id);
    expect_status(&r, 200);
    assert_true(jtime(r.body, "result.last_seen_at") >= t.created);
    resp_free(&r);
    st_free(&t);
}

/* A token past expires_at (cfemu's clock) fails the probe with 401. */
static void test_expired_token_fails_probe(void **state)
{
    (void)state;
    st t = st_create("short-lived", "30m");
    assert_int_equal(probe(g_cr.app_vault, t.client_id, t.secret), 200);
    assert_int_equal(cfemu_clock_advance(&g_fx, 1801), 0);
    assert_int_equal(probe(g_cr.app_vault, t.client_id, t.secret), 401);
    /* Still visible and refreshable: refresh brings it back. */
    resp r = api("POST", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens/%s/refresh",
                 g_cr.account, t.id);
    expect_status(&r, 200);
    resp_free(&r);
    assert_int_equal(probe(g_cr.app_vault, t.client_id, t.secret), 200);
    st_free(&t);
}

/* Cloudflare's answer to deleting a service token a policy or group names (API-NOTES addendum). */
#define IN_USE_MESSAGE                                                                             \
    "access.api.error.service_token_in_use: cannot delete service token because it is used by a "  \
    "policy, group, or app SCIM configuration"

/* Delete: refused (400, 12139, Cloudflare's message) while the console app names the token by id;
 * a token only matched by any_valid_service_token can go; the result is the deleted token. */
static void test_delete_refused_while_referenced(void **state)
{
    (void)state;
    resp r = api("DELETE", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens/%s", g_cr.account,
                 g_cr.console_id);
    expect_error(&r, 400, 12139);
    char *msg = jget(r.body, "errors.0.message");
    assert_string_equal(msg, IN_USE_MESSAGE);
    free(msg);
    resp_free(&r);
    r = api("GET", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens/%s", g_cr.account,
            g_cr.console_id);
    expect_status(&r, 200);
    resp_free(&r);
    assert_int_equal(probe(g_cr.app_console, g_cr.console_client_id, g_cr.console_secret), 200);

    r = api("DELETE", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens/%s", g_cr.account,
            g_cr.vault_id);
    expect_status(&r, 200);
    char *id = jget(r.body, "result.id");
    char *name = jget(r.body, "result.name");
    assert_string_equal(id, g_cr.vault_id);
    assert_string_equal(name, "vault-probe");
    assert_null(strstr(r.body, "\"client_secret\""));
    free(id);
    free(name);
    resp_free(&r);
    r = api("DELETE", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens/%s", g_cr.account,
            g_cr.vault_id);
    expect_status(&r, 404);
    resp_free(&r);
}

/* READONLY has no Access permission: 403 on every operation, at both levels. A token with only
 * "Access: Service Tokens Read" may list but not create; Write on the zone alone does not reach
 * the account. */
static void test_permission_failures(void **state)
{
    (void)state;
    resp r = api("GET", g_cr.readonly, NULL, "/accounts/%s/access/service_tokens", g_cr.account);
    expect_status(&r, 403);
    resp_free(&r);
    r = api("POST", g_cr.readonly, "{\"name\":\"nope\"}", "/accounts/%s/access/service_tokens",
            g_cr.account);
    expect_status(&r, 403);
    resp_free(&r);
    r = api("GET", g_cr.readonly, NULL, "/accounts/%s/access/service_tokens/%s", g_cr.account,
            g_cr.console_id);
    expect_status(&r, 403);
    resp_free(&r);
    r = api("POST", g_cr.readonly, NULL, "/accounts/%s/access/service_tokens/%s/rotate",
            g_cr.account, g_cr.console_id);
    expect_status(&r, 403);
    resp_free(&r);
    r = api("GET", g_cr.readonly, NULL, "/zones/%s/access/service_tokens", g_cr.zone);
    expect_status(&r, 403);
    resp_free(&r);
    r = api("GET", NULL, NULL, "/accounts/%s/access/service_tokens", g_cr.account);
    expect_error(&r, 400, 1001);
    resp_free(&r);

    /* Make least-privilege tokens through the API-token endpoints. */
    r = api("GET", g_cr.mgmt, NULL, "/user/tokens/permission_groups");
    expect_status(&r, 200);
    char *read_id = NULL, *write_id = NULL;
    for (int i = 0;; i++) {
        char p[32];
        snprintf(p, sizeof(p), "result.%d.name", i);
        char *n = jget(r.body, p);
        if (n == NULL)
            break;
        snprintf(p, sizeof(p), "result.%d.id", i);
        if (strcmp(n, "Access: Service Tokens Read") == 0)
            read_id = jget(r.body, p);
        if (strcmp(n, "Access: Service Tokens Write") == 0)
            write_id = jget(r.body, p);
        free(n);
    }
    resp_free(&r);
    assert_non_null(read_id);
    assert_non_null(write_id);

    char body[600];
    snprintf(body, sizeof(body),
             "{\"name\":\"st-read\",\"policies\":[{\"effect\":\"allow\",\"permission_groups\":"
             "[{\"id\":\"%s\"}],\"resources\":{\"com.cloudflare.api.account.%s\":\"*\"}}]}",
             read_id, g_cr.account);
    r = api("POST", g_cr.mgmt, body, "/user/tokens");
    expect_status(&r, 200);
    char *reader = jget(r.body, "result.value");
    assert_non_null(reader);
    resp_free(&r);

    snprintf(
        body, sizeof(body),
        "{\"name\":\"st-zone-write\",\"policies\":[{\"effect\":\"allow\",\"permission_groups\":"
        "[{\"id\":\"%s\"}],\"resources\":{\"com.cloudflare.api.account.zone.%s\":\"*\"}}]}",
        write_id, g_cr.zone);
    r = api("POST", g_cr.mgmt, body, "/user/tokens");
    expect_status(&r, 200);
    char *zwriter = jget(r.body, "result.value");
    assert_non_null(zwriter);
    resp_free(&r);

    r = api("GET", reader, NULL, "/accounts/%s/access/service_tokens", g_cr.account);
    expect_status(&r, 200);
    resp_free(&r);
    r = api("GET", reader, NULL, "/accounts/%s/access/service_tokens/%s", g_cr.account,
            g_cr.console_id);
    expect_status(&r, 200);
    resp_free(&r);
    r = api("POST", reader, "{\"name\":\"nope\"}", "/accounts/%s/access/service_tokens",
            g_cr.account);
    expect_status(&r, 403);
    resp_free(&r);
    r = api("POST", reader, NULL, "/accounts/%s/access/service_tokens/%s/refresh", g_cr.account,
            g_cr.console_id);
    expect_status(&r, 403);
    resp_free(&r);
    /* Account-level read covers the account's zones. */
    r = api("GET", reader, NULL, "/zones/%s/access/service_tokens", g_cr.zone);
    expect_status(&r, 200);
    resp_free(&r);

    r = api("GET", zwriter, NULL, "/zones/%s/access/service_tokens", g_cr.zone);
    expect_status(&r, 200); /* write implies read */
    resp_free(&r);
    r = api("POST", zwriter, "{\"name\":\"zw\"}", "/zones/%s/access/service_tokens", g_cr.zone);
    expect_status(&r, 201);
    resp_free(&r);
    r = api("GET", zwriter, NULL, "/accounts/%s/access/service_tokens", g_cr.account);
    expect_status(&r, 403);
    resp_free(&r);

    free(read_id);
    free(write_id);
    wipe_free(reader);
    wipe_free(zwriter);
}

/* A path id that is not a UUID: 7003; a different account: 403 or 404, never another's data. */
static void test_malformed_ids(void **state)
{
    (void)state;
    static const char *const bad[] = {"not-a-uuid", "F174E90A-FAFE-4643-BBBC-4A0ED4FC8415x",
                                      "f174e90afafe4643bbbc4a0ed4fc8415", "%2e%2e"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        resp r = api("GET", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens/%s", g_cr.account,
                     bad[i]);
        expect_error(&r, 404, 7003);
        resp_free(&r);
        r = api("DELETE", g_cr.mgmt, NULL, "/zones/%s/access/service_tokens/%s", g_cr.zone, bad[i]);
        expect_error(&r, 404, 7003);
        resp_free(&r);
    }
    resp r = api("POST", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens/not-a-uuid/rotate",
                 g_cr.account);
    expect_error(&r, 404, 7003);
    resp_free(&r);
    r = api("GET", g_cr.mgmt, NULL, "/accounts/%s/access/service_tokens",
            "0123456789abcdef0123456789abcdef");
    assert_true(r.status == 403 || r.status == 404);
    resp_free(&r);
}

/* Probe rules the built-in seed cannot show, from a seed file: a matching deny policy wins; an
 * "allow" policy naming the token admits it; a disabled token, an expired one and a token of
 * another account are refused; a seeded previous secret works inside its window; a zone app takes
 * its account's tokens; an Access group's tokens pass a policy that includes the group, and a
 * token a group names cannot be deleted. (Seeded secrets here are fixed test values.) */
/* clang-format off */
#define SEED_A    "01a7362d577a6c3019a474fd6f485823"
#define SEED_B    "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"
#define SEED_Z    "023e105f4ecef8ad9ca31a8372d0c353"
#define ST_A      "aaaaaaaa-0000-4000-8000-000000000001"
#define APP_DENY  "dddddddd-0000-4000-8000-000000000001"
#define APP_ALLOW "dddddddd-0000-4000-8000-000000000002"
#define APP_ANY   "dddddddd-0000-4000-8000-000000000003"
#define APP_ZONE  "dddddddd-0000-4000-8000-000000000004"
#define X8(c)     c c c c c c c c
#define CID(c)    X8(c) X8(c) X8(c) X8(c) ".access"
#define SEC(c)    X8(c) X8(c) X8(c) X8(c) X8(c) X8(c) X8(c) X8(c)
#define ST(n, scope, id, name, c, s) \
    "{\"id\":\"aaaaaaaa-0000-4000-8000-00000000000" n "\",\"" scope "\":\"" id "\"," \
    "\"name\":\"" name "\",\"client_id\":\"" CID(c) "\",\"client_secret\":\"" SEC(s) "\""
#define APP(id, scope, sid, pols) \
    "{\"id\":\"" id "\",\"" scope "\":\"" sid "\",\"name\":\"app-" id "\",\"policies\":[" pols "]}"
#define POL(decision, rule) "{\"decision\":\"" decision "\",\"include\":[" rule "]}"
#define BY_ID(id)  "{\"service_token\":{\"token_id\":\"" id "\"}}"
#define ANY_VALID  "{\"any_valid_service_token\":{}}"
#define ST_GROUPED "aaaaaaaa-0000-4000-8000-000000000007"
#define GROUP_OPS  "eeeeeeee-0000-4000-8000-000000000001"
#define APP_GROUP  "dddddddd-0000-4000-8000-000000000005"
#define BY_GROUP(id) "{\"group\":{\"id\":\"" id "\"}}"
#define SEED_MGMT  "seedmgmtvalue" X8("m") X8("m") X8("m") X8("m")

static const char seed_json[] =
    "{\"users\":[{\"id\":\"9a7806061c88ada191ed06f989cc3dac\",\"email\":\"ops@example.com\"}],"
    "\"accounts\":[{\"id\":\"" SEED_A "\",\"name\":\"A\"},{\"id\":\"" SEED_B "\",\"name\":\"B\"}],"
    "\"zones\":[{\"id\":\"" SEED_Z "\",\"name\":\"example.com\",\"account_id\":\"" SEED_A "\"}],"
    "\"tokens\":[{\"id\":\"7777777777777777777777777777aaaa\",\"owner\":\"user\",\"name\":\"st-mgmt\","
    "\"value\":\"" SEED_MGMT "\",\"policies\":[{\"effect\":\"allow\",\"permission_groups\":"
    "[{\"id\":\"a1c0fec57cf94af79479a6d827fa518c\"}],"
    "\"resources\":{\"com.cloudflare.api.account." SEED_A "\":\"*\"}}]}],"
    "\"service_tokens\":["
    ST("1", "account_id", SEED_A, "st-a", "a", "1") "},"
    ST("2", "account_id", SEED_B, "st-b", "b", "2") "},"
    ST("3", "zone_id", SEED_Z, "st-z", "c", "3") "},"
    ST("4", "account_id", SEED_A, "st-off", "d", "4") ",\"enabled\":false},"
    ST("5", "account_id", SEED_A, "st-prev", "e", "5") ",\"previous_client_secret\":\"" SEC("6")
        "\",\"previous_client_secret_expires_at\":\"2099-01-01T00:00:00Z\","
        "\"expires_at\":\"2199-01-01T00:00:00Z\",\"client_secret_version\":2},"
    ST("6", "account_id", SEED_A, "st-old", "f", "7") ",\"expires_at\":\"2000-01-01T00:00:00Z\"},"
    ST("7", "account_id", SEED_A, "st-grouped", "g", "8") "}"
    "],\"access_groups\":[{\"id\":\"" GROUP_OPS "\",\"name\":\"ops-robots\",\"account_id\":\"" SEED_A
    "\",\"include\":[" BY_ID(ST_GROUPED) "]}],"
    "\"access_apps\":["
    APP(APP_DENY, "account_id", SEED_A,
        POL("deny", BY_ID(ST_A)) "," POL("non_identity", ANY_VALID)) ","
    APP(APP_ALLOW, "account_id", SEED_A, POL("allow", BY_ID(ST_A))) ","
    APP(APP_ANY, "account_id", SEED_A, POL("non_identity", ANY_VALID)) ","
    APP(APP_ZONE, "zone_id", SEED_Z, POL("non_identity", ANY_VALID)) ","
    APP(APP_GROUP, "account_id", SEED_A, POL("non_identity", BY_GROUP(GROUP_OPS)))
    "]}";
/* clang-format on */

static int seed_setup(void **state)
{
    char path[128];
    FILE *f;

    (void)state;
    snprintf(g_seed_dir, sizeof(g_seed_dir), "/tmp/cfemu-access-seed-XXXXXX");
    if (mkdtemp(g_seed_dir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/seed.json", g_seed_dir);
    f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fputs(seed_json, f);
    fclose(f);
    if (cfemu_start(&g_fx2, path, NULL) != 0)
        return -1;
    g_cur = &g_fx2;
    return 0;
}

static int seed_teardown(void **state)
{
    char path[128];
    int rc;

    (void)state;
    g_cur = &g_fx;
    rc = cfemu_stop(&g_fx2);
    snprintf(path, sizeof(path), "%s/seed.json", g_seed_dir);
    unlink(path);
    rmdir(g_seed_dir);
    return rc == 0 ? 0 : -1;
}

static void test_probe_rules_from_seed(void **state)
{
    (void)state;
    /* deny naming st-a wins over the any_valid policy; others pass. */
    assert_int_equal(probe(APP_DENY, CID("a"), SEC("1")), 403);
    assert_int_equal(probe(APP_DENY, CID("e"), SEC("5")), 200);
    /* "allow" naming the token admits it, and only it. */
    assert_int_equal(probe(APP_ALLOW, CID("a"), SEC("1")), 200);
    assert_int_equal(probe(APP_ALLOW, CID("e"), SEC("5")), 403);
    /* Account app: another account's token is valid but out of reach. */
    assert_int_equal(probe(APP_ANY, CID("b"), SEC("2")), 403);
    assert_int_equal(probe(APP_ANY, CID("c"), SEC("3")), 403); /* a zone token */
    /* Disabled or expired: 401, even with the right secret. */
    assert_int_equal(probe(APP_ANY, CID("d"), SEC("4")), 401);
    assert_int_equal(probe(APP_ANY, CID("f"), SEC("7")), 401);
    /* Seeded previous secret inside its window, and the current one. */
    assert_int_equal(probe(APP_ANY, CID("e"), SEC("6")), 200);
    assert_int_equal(probe(APP_ANY, CID("e"), SEC("5")), 200);
    /* One token's secret under another's client id. */
    assert_int_equal(probe(APP_ANY, CID("a"), SEC("5")), 401);
    /* Zone app: its zone's token and its account's token; not another account's. */
    assert_int_equal(probe(APP_ZONE, CID("c"), SEC("3")), 200);
    assert_int_equal(probe(APP_ZONE, CID("a"), SEC("1")), 200);
    assert_int_equal(probe(APP_ZONE, CID("b"), SEC("2")), 403);
    /* An app policy that includes an Access group admits the group's tokens only. */
    assert_int_equal(probe(APP_GROUP, CID("g"), SEC("8")), 200);
    assert_int_equal(probe(APP_GROUP, CID("a"), SEC("1")), 403);
    /* A token named by a group, or by an app policy, cannot be deleted: 400/12139. */
    static const char *const in_use[] = {ST_GROUPED, ST_A};
    for (size_t i = 0; i < 2; i++) {
        resp r = api("DELETE", SEED_MGMT, NULL, "/accounts/%s/access/service_tokens/%s", SEED_A,
                     in_use[i]);
        expect_error(&r, 400, 12139);
        char *msg = jget(r.body, "errors.0.message");
        assert_string_equal(msg, IN_USE_MESSAGE);
        free(msg);
        resp_free(&r);
    }
    resp r = api("DELETE", SEED_MGMT, NULL, "/accounts/%s/access/service_tokens/%s", SEED_A,
                 "aaaaaaaa-0000-4000-8000-000000000005");
    expect_status(&r, 200); /* st-prev: only any_valid_service_token rules reach it */
    resp_free(&r);
    /* Past the seeded window the previous secret is retired. */
    assert_int_equal(cfemu_clock_advance(&g_fx2, 80L * 366 * 86400), 0);
    assert_int_equal(probe(APP_ANY, CID("e"), SEC("6")), 401);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_201_secret_only_on_create),
        cmocka_unit_test(test_duplicate_names_allowed),
        cmocka_unit_test(test_list_filters_and_pagination),
        cmocka_unit_test(test_get_and_update),
        cmocka_unit_test(test_create_validation),
        cmocka_unit_test(test_rotate_grace_window),
        cmocka_unit_test(test_rotate_without_body_kills_old_secret),
        cmocka_unit_test(test_put_version_bump_and_kill_previous),
        cmocka_unit_test(test_refresh_moves_expiry_keeps_secret),
        cmocka_unit_test(test_zone_level),
        cmocka_unit_test(test_probe_policies),
        cmocka_unit_test(test_expired_token_fails_probe),
        cmocka_unit_test(test_permission_failures),
        cmocka_unit_test(test_malformed_ids),
        cmocka_unit_test(test_delete_refused_while_referenced),
        cmocka_unit_test_setup_teardown(test_probe_rules_from_seed, seed_setup, seed_teardown),
    };
    int failed = cmocka_run_group_tests_name("cfemu_access", tests, group_setup, group_teardown);
    return failed != 0 || g_teardown_failed ? 1 : 0;
}
