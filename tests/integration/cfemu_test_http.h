/* SPDX-License-Identifier: MIT */
/* cfemu_test_http.h - header-only helpers (file-local) for the C integration tests that talk to
 * cfemu over TLS with libcurl: one call, its status, body and the headers tests look at, and
 * small JSON path lookups over plugin/json.h. Include after cmocka.h. Secrets in headers and
 * bodies are wiped. */
#ifndef ROTP_CFEMU_TEST_HTTP_H
#define ROTP_CFEMU_TEST_HTTP_H

#include <ctype.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "cfemu_fixture.h"
#include "json.h"
#include "secret.h"

#define TH_BODY_MAX (8u * 1024u * 1024u)

typedef struct th_resp {
    long status;
    CURLcode cc; /* CURLE_OK, or the transport error */
    char *body;  /* NUL-terminated, malloc'd (never NULL after th_call) */
    size_t len;
    char ratelimit[128];
    char ratelimit_policy[128];
    char retry_after[32];
    char content_type[128];
    json_doc doc; /* parsed body (ntoks 0 if not JSON) */
} th_resp;

static CURL *th_curl;
/* When set, each call uses a new connection and closes it: libcurl silently resends a request
 * once when a reused connection closes before any answer, which would hide a reset fault. */
static bool th_fresh_connection;

static void th_free(th_resp *r)
{
    json_free(&r->doc);
    if (r->body != NULL) {
        secret_wipe(r->body, r->len);
        free(r->body);
    }
    memset(r, 0, sizeof(*r));
}

static size_t th_on_body(char *p, size_t sz, size_t n, void *ud)
{
    th_resp *r = ud;
    size_t add = sz * n;
    char *nb;

    if (r->len + add > TH_BODY_MAX)
        return 0;
    nb = realloc(r->body, r->len + add + 1);
    if (nb == NULL)
        return 0;
    memcpy(nb + r->len, p, add);
    r->len += add;
    nb[r->len] = 0;
    r->body = nb;
    return add;
}

static void th_copy_header(const char *line, size_t len, const char *name, char *dst, size_t cap)
{
    size_t nl = strlen(name);
    size_t v;

    if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    v = nl + 1;
    while (v < len && line[v] == ' ')
        v++;
    while (len > v && (line[len - 1] == '\r' || line[len - 1] == '\n'))
        len--;
    snprintf(dst, cap, "%.*s", (int)(len - v), line + v);
}

static size_t th_on_header(char *p, size_t sz, size_t n, void *ud)
{
    th_resp *r = ud;
    size_t len = sz * n;

    th_copy_header(p, len, "Ratelimit", r->ratelimit, sizeof(r->ratelimit));
    th_copy_header(p, len, "Ratelimit-Policy", r->ratelimit_policy, sizeof(r->ratelimit_policy));
    th_copy_header(p, len, "Retry-After", r->retry_after, sizeof(r->retry_after));
    th_copy_header(p, len, "Content-Type", r->content_type, sizeof(r->content_type));
    return len;
}

/* One request to the origin + path. auth: the whole Authorization header value (NULL: none).
 * extra_header: one more "Name: value" line or NULL. timeout_ms 0 = 20 s. A transport error is
 * not a test failure here (r.cc tells); fault tests need it. */
static th_resp th_call_full(const cfemu_fx *fx, const char *method, const char *path,
                            const char *auth, const char *body, const char *extra_header,
                            long timeout_ms)
{
    th_resp r;
    char url[1024];
    char hdr[1200];
    struct curl_slist *hl = NULL;

    memset(&r, 0, sizeof(r));
    if (th_curl == NULL)
        th_curl = curl_easy_init();
    assert_non_null(th_curl);
    curl_easy_reset(th_curl);
    snprintf(url, sizeof(url), "%s%s", fx->origin, path);
    if (auth != NULL) {
        snprintf(hdr, sizeof(hdr), "Authorization: %s", auth);
        hl = curl_slist_append(hl, hdr);
        secret_wipe(hdr, sizeof(hdr));
    }
    if (extra_header != NULL)
        hl = curl_slist_append(hl, extra_header);
    if (body != NULL)
        hl = curl_slist_append(hl, "Content-Type: application/json");
    curl_easy_setopt(th_curl, CURLOPT_URL, url);
    curl_easy_setopt(th_curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(th_curl, CURLOPT_CAINFO, fx->ca_file);
    curl_easy_setopt(th_curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(th_curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(th_curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(th_curl, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 20000L);
    curl_easy_setopt(th_curl, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(th_curl, CURLOPT_WRITEFUNCTION, th_on_body);
    curl_easy_setopt(th_curl, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(th_curl, CURLOPT_HEADERFUNCTION, th_on_header);
    curl_easy_setopt(th_curl, CURLOPT_HEADERDATA, &r);
    if (th_fresh_connection) {
        curl_easy_setopt(th_curl, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(th_curl, CURLOPT_FORBID_REUSE, 1L);
    }
    if (body != NULL) {
        curl_easy_setopt(th_curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(th_curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    r.cc = curl_easy_perform(th_curl);
    curl_easy_getinfo(th_curl, CURLINFO_RESPONSE_CODE, &r.status);
    for (struct curl_slist *s = hl; s != NULL; s = s->next)
        secret_wipe(s->data, strlen(s->data));
    curl_slist_free_all(hl);
    curl_easy_setopt(th_curl, CURLOPT_HTTPHEADER, NULL);
    if (r.body == NULL)
        r.body = calloc(1, 1);
    assert_non_null(r.body);
    if (r.len > 0 && json_parse(&r.doc, r.body, r.len) != JSON_OK)
        memset(&r.doc, 0, sizeof(r.doc));
    return r;
}

/* An API call (path under /client/v4) with a bearer token (NULL: no Authorization). Fails the
 * test on a transport error. */
static th_resp th_api(const cfemu_fx *fx, const char *method, const char *token, const char *body,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static th_resp th_api(const cfemu_fx *fx, const char *method, const char *token, const char *body,
                      const char *fmt, ...)
{
    char path[900], full[1000], auth[700];
    va_list ap;
    th_resp r;

    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    snprintf(full, sizeof(full), "/client/v4%s", path);
    if (token != NULL)
        snprintf(auth, sizeof(auth), "Bearer %s", token);
    r = th_call_full(fx, method, full, token != NULL ? auth : NULL, body, NULL, 0);
    secret_wipe(auth, sizeof(auth));
    if (r.cc != CURLE_OK)
        fail_msg("%s %s: %s", method, full, curl_easy_strerror(r.cc));
    return r;
}

/* The token at a dotted path ("result.id", "errors.0.code", "result_info.total_count") in
 * the parsed body, or -1. */
static int th_tok(const th_resp *r, const char *path)
{
    char part[64];
    int t = 0;

    if (r->doc.ntoks == 0)
        return -1;
    while (*path != 0 && t >= 0) {
        size_t n = strcspn(path, ".");

        snprintf(part, sizeof(part), "%.*s", (int)n, path);
        if (isdigit((unsigned char)part[0]) && json_is_array(&r->doc, t))
            t = json_at(&r->doc, t, atoi(part));
        else
            t = json_get(&r->doc, t, part);
        path += n;
        if (*path == '.')
            path++;
    }
    return t;
}

/* The string at path (malloc'd; the caller frees, wiping if secret), or NULL. */
static char *th_str(const th_resp *r, const char *path)
{
    int t = th_tok(r, path);
    char *s = NULL;

    if (t < 0 || !json_is_string(&r->doc, t) || json_strdup(&r->doc, t, &s) != 0)
        return NULL;
    return s;
}

/* The integer at path, or INT64_MIN. */
static int64_t th_int(const th_resp *r, const char *path)
{
    int t = th_tok(r, path);
    int64_t v;

    if (t < 0 || json_get_int64(&r->doc, t, &v) != 0)
        return INT64_MIN;
    return v;
}

/* errors[0].code, or -1. */
static long th_code(const th_resp *r)
{
    int64_t v = th_int(r, "errors.0.code");

    return v == INT64_MIN ? -1 : (long)v;
}

/* Asserts status and (code >= 0) errors[0].code, printing the body on mismatch. */
#define TH_EXPECT(r, st, code)                                                                     \
    do {                                                                                           \
        if ((r).status != (st) || ((code) >= 0 && th_code(&(r)) != (code)))                        \
            fail_msg("%s:%d: want HTTP %ld code %ld, got %ld: %.400s", __FILE__, __LINE__,         \
                     (long)(st), (long)(code), (r).status, (r).body);                              \
    } while (0)

static void th_wipe_free(char *s)
{
    if (s != NULL) {
        secret_wipe(s, strlen(s));
        free(s);
    }
}

/* KEY=VALUE from the fixture's creds file (malloc'd), or NULL. */
static char *th_cred(const cfemu_fx *fx, const char *key)
{
    char path[400], line[1024];
    size_t kl = strlen(key);
    char *out = NULL;
    FILE *f;

    snprintf(path, sizeof(path), "%s/creds.env", fx->dir);
    f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    while (out == NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, key, kl) == 0 && line[kl] == '=') {
            line[strcspn(line, "\r\n")] = 0;
            out = strdup(line + kl + 1);
        }
    }
    secret_wipe(line, sizeof(line));
    fclose(f);
    return out;
}

/* cfemu's clock (Unix seconds) through the control API. */
static int64_t th_now(cfemu_fx *fx)
{
    char *body = NULL;
    const char *p;
    int64_t v = 0;

    assert_int_equal(cfemu_ctl(fx, "GET", "/__cfemu/clock", NULL, &body), 200);
    p = strstr(body, "\"unix\":");
    assert_non_null(p);
    v = strtoll(p + 7, NULL, 10);
    free(body);
    return v;
}

#endif
