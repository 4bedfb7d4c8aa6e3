/* SPDX-License-Identifier: MIT */
/* http.c - the provider's HTTP client over libcurl (contract in http.h).
 *
 * One easy handle per client: curl_easy_reset() between requests clears the options but keeps
 * the connection, DNS and TLS-session caches, so consecutive calls reuse the connection. Every
 * request sets all of its options again from scratch, so nothing leaks from one call to the
 * next. Secrets sit in the Authorization header (and headers marked secret), request bodies and
 * response bodies: header lines are composed in a secret_buf and the curl_slist nodes holding
 * them are wiped before they are freed; bodies live in dynbufs, which wipe on growth and free;
 * the URL is wiped before it is freed. CURLOPT_VERBOSE is never set. */
#include "http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "ids.h"
#include "ratelimit.h"

#define HTTP_BACKOFF_BASE_MS   250u
#define HTTP_BACKOFF_CAP_MS    8000u
#define HTTP_HEADER_MAX        8192u /* longest header value we build */
#define HTTP_LOG_PATH_MAX      160   /* how much of a path a log line shows */
#define HTTP_RETRY_AFTER_MAX_S 86400u
#define HTTP_LOOPBACK_HOSTS    "127.0.0.1,localhost,::1"
#define HTTP_NOPROXY_MAX       4096 /* longest no_proxy list taken from the environment */

/* Where requests go: the environment's proxy settings, no proxy at all, or the configured URL. */
enum proxy_mode { PROXY_ENV, PROXY_NONE, PROXY_URL };

struct http_client {
    CURL *easy;
    const plog *log; /* borrowed */
    char *api_base;  /* without a trailing '/' */
    char *ca_file;   /* NULL: the system store */
    char *user_agent;
    enum proxy_mode proxy_mode;
    char *proxy;   /* PROXY_URL: the proxy URL */
    char *noproxy; /* PROXY_ENV: loopback plus the environment's no_proxy */
    bool allow_insecure_loopback;
    long timeout_ms;
    long connect_timeout_ms;
    int max_retries;
    uint64_t max_wait_ms;
    rotp_wait_fn wait_fn; /* the host's, NULL: none */
    void *wait_user;
    rl_state rl; /* pacing per bearer token (ratelimit.h) */
};

/* What the libcurl callbacks of one attempt write into. */
typedef struct xfer_ctx {
    http_response *resp;
    bool over_cap;              /* the body went past HTTP_MAX_BODY: transfer aborted */
    bool no_memory;             /* an append failed: transfer aborted */
    uint64_t retry_after_ms;    /* from Retry-After */
    uint64_t retry_after_ms_ms; /* from Retry-After-Ms (takes precedence) */
    bool have_retry_after_ms;
    rl_info rl; /* what the RateLimit headers said */
} xfer_ctx;

/* ------------------------------------------------------------------------------------------- */
/* URLs */

static bool host_is_loopback(const char *host)
{
    return strcmp(host, "127.0.0.1") == 0 || strcmp(host, "[::1]") == 0 ||
           strcmp(host, "::1") == 0 || strcasecmp(host, "localhost") == 0;
}

/* A URL may carry no control characters, spaces or non-ASCII bytes: what reaches libcurl is
 * exactly what we checked. */
static bool url_chars_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 0x20 || ch >= 0x7f)
            return false;
    }
    return true;
}

/* Checks an absolute URL's scheme and host: https:// anywhere, http:// only to loopback and only
 * when allowed; no user info. *is_http tells which protocol libcurl must be limited to.
 * `what` names the URL in messages ("api_base", "probe URL"); the URL itself is never echoed
 * (a probe URL's query could carry anything). */
static int32_t url_check(const char *url, bool allow_insecure_loopback, bool base_only,
                         const char *what, bool *is_http, rotp_error *err)
{
    int32_t rc = ROTP_E_OK;
    CURLU *u = NULL;
    char *scheme = NULL, *host = NULL, *user = NULL, *query = NULL, *fragment = NULL;
    size_t len = strlen(url);

    if (len == 0 || len >= HTTP_MAX_URL)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: empty or longer than %d bytes", what,
                        HTTP_MAX_URL - 1);
    if (!url_chars_ok(url, len))
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "%s: holds a space, control or non-ASCII character", what);
    u = curl_url();
    if (u == NULL)
        return rerr_set(err, ROTP_E_NO_MEMORY, "%s: out of memory", what);
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: not an absolute http(s) URL", what);
        goto out_free;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: user info in a URL is not allowed", what);
        goto out_free;
    }
    if (base_only && (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
                      curl_url_get(u, CURLUPART_FRAGMENT, &fragment, 0) == CURLUE_OK)) {
        rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: a query or fragment is not allowed", what);
        goto out_free;
    }
    if (strcasecmp(scheme, "https") == 0) {
        *is_http = false;
    } else if (strcasecmp(scheme, "http") == 0) {
        if (!allow_insecure_loopback || !host_is_loopback(host)) {
            rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                          "%s: http:// is refused (https only; plain http only to 127.0.0.1, "
                          "::1 or localhost with allow_insecure_loopback)",
                          what);
            goto out_free;
        }
        *is_http = true;
    } else {
        rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: scheme is not https", what);
    }
out_free:
    curl_free(fragment);
    curl_free(query);
    curl_free(user);
    curl_free(host);
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

/* The part of a path or URL that a log line may show: the path without query or fragment. */
static void loggable_path(const http_request *req, char *buf, size_t cap)
{
    const char *p = req->path;
    size_t n;

    if (p == NULL && req->url != NULL) {
        const char *s = strstr(req->url, "://");
        p = s != NULL ? strchr(s + 3, '/') : NULL;
        if (p == NULL)
            p = "/";
    }
    if (p == NULL)
        p = "";
    n = strcspn(p, "?#");
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
}

/* ------------------------------------------------------------------------------------------- */
/* Proxies */

/* Checks a configured proxy URL: http://, https://, socks5:// or socks5h://, a host, no user
 * info (credentials would sit in the host's config and argv), no path, query or fragment. The
 * URL is not echoed: it names infrastructure, and a mistyped one may hold anything. */
static int32_t proxy_check(const char *proxy, rotp_error *err)
{
    static const char *const schemes[] = {"http", "https", "socks5", "socks5h", NULL};
    int32_t rc = ROTP_E_OK;
    CURLU *u = NULL;
    char *scheme = NULL, *host = NULL, *user = NULL, *path = NULL, *query = NULL, *frag = NULL;
    bool known = false;
    size_t len = strlen(proxy);

    if (len >= HTTP_MAX_URL || !url_chars_ok(proxy, len))
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "proxy: longer than %d bytes, or holds a space, control or non-ASCII "
                        "character",
                        HTTP_MAX_URL - 1);
    u = curl_url();
    if (u == NULL)
        return rerr_set(err, ROTP_E_NO_MEMORY, "proxy: out of memory");
    if (curl_url_set(u, CURLUPART_URL, proxy, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
        rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                      "proxy: not a URL such as http://proxy.example:3128 (or \"none\")");
        goto out_free;
    }
    for (size_t i = 0; schemes[i] != NULL; i++)
        known = known || strcasecmp(scheme, schemes[i]) == 0;
    if (!known) {
        rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                      "proxy: the scheme must be http, https, socks5 or socks5h");
        goto out_free;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                      "proxy: credentials in the proxy URL are not taken (they would sit in the "
                      "configuration); the environment's https_proxy may carry them");
        goto out_free;
    }
    if ((curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK && strcmp(path, "/") != 0) ||
        curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK)
        rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                      "proxy: a path, query or fragment is not allowed in the proxy URL");
out_free:
    curl_free(frag);
    curl_free(query);
    curl_free(path);
    curl_free(user);
    curl_free(host);
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

/* The no_proxy list for the environment's proxies: loopback always goes direct (cfemu, a local
 * relay), then whatever no_proxy or NO_PROXY says, as libcurl would read it. NULL on OOM. */
static char *env_noproxy(void)
{
    const char *env = getenv("no_proxy");
    size_t n, elen;
    char *out;

    if (env == NULL || env[0] == '\0')
        env = getenv("NO_PROXY");
    elen = env != NULL ? strnlen(env, HTTP_NOPROXY_MAX + 1) : 0;
    if (elen > HTTP_NOPROXY_MAX || (env != NULL && !url_chars_ok(env, elen)))
        elen = 0; /* unusable: keep loopback only */
    n = sizeof(HTTP_LOOPBACK_HOSTS) + 1 + elen;
    out = rotp__malloc(n);
    if (out == NULL)
        return NULL;
    if (elen > 0)
        snprintf(out, n, "%s,%.*s", HTTP_LOOPBACK_HOSTS, (int)elen, env);
    else
        snprintf(out, n, "%s", HTTP_LOOPBACK_HOSTS);
    return out;
}

/* Reads cfg->proxy into the client. */
static int32_t client_proxy(http_client *c, const char *proxy, rotp_error *err)
{
    int32_t rc;

    if (proxy == NULL || proxy[0] == '\0') {
        c->proxy_mode = PROXY_ENV;
        c->noproxy = env_noproxy();
        return c->noproxy != NULL ? ROTP_E_OK
                                  : rerr_set(err, ROTP_E_NO_MEMORY, "proxy: out of memory");
    }
    if (strcasecmp(proxy, "none") == 0) {
        c->proxy_mode = PROXY_NONE;
        return ROTP_E_OK;
    }
    rc = proxy_check(proxy, err);
    if (rc != ROTP_E_OK)
        return rc;
    c->proxy_mode = PROXY_URL;
    c->proxy = rotp__strdup(proxy);
    return c->proxy != NULL ? ROTP_E_OK : rerr_set(err, ROTP_E_NO_MEMORY, "proxy: out of memory");
}

/* ------------------------------------------------------------------------------------------- */
/* Client */

int32_t http_client_new(const http_config *cfg, const plog *log, http_client **out, rotp_error *err)
{
    int32_t rc = ROTP_E_OK;
    http_client *c = NULL;
    bool is_http = false;
    size_t blen;

    if (out == NULL || cfg == NULL || cfg->api_base == NULL)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "http client: missing configuration");
    *out = NULL;
    rc = url_check(cfg->api_base, cfg->allow_insecure_loopback, true, "api_base", &is_http, err);
    if (rc != ROTP_E_OK)
        return rc;
    if (cfg->user_agent != NULL && !header_value_ok(cfg->user_agent, strlen(cfg->user_agent), 256))
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "user_agent: holds CR, LF or NUL, or is over 256 bytes");
    if (cfg->ca_file != NULL && cfg->ca_file[0] != '\0' && access(cfg->ca_file, R_OK) != 0)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "ca_file: cannot read %.200s", cfg->ca_file);
    if (cfg->timeout_ms <= 0 || cfg->connect_timeout_ms <= 0 || cfg->max_retries < 0)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "http client: timeouts must be positive and max_retries >= 0");

    c = rotp__calloc(1, sizeof(*c));
    if (c == NULL)
        goto out_nomem;
    c->log = log;
    c->allow_insecure_loopback = cfg->allow_insecure_loopback;
    c->timeout_ms = cfg->timeout_ms;
    c->connect_timeout_ms =
        cfg->connect_timeout_ms < cfg->timeout_ms ? cfg->connect_timeout_ms : cfg->timeout_ms;
    c->max_retries = cfg->max_retries;
    c->max_wait_ms = cfg->max_wait_ms;
    {
        uint64_t k[2] = {0, 0};

        /* the hash key that tells tokens apart; without randomness, still a working pacer */
        if (getrandom(k, sizeof(k), GRND_NONBLOCK) != (ssize_t)sizeof(k)) {
            k[0] = (uint64_t)(uintptr_t)c ^ (uint64_t)time(NULL);
            k[1] = ~k[0];
        }
        rl_init(&c->rl, k[0], k[1]);
        secret_wipe(k, sizeof(k));
    }
    blen = strlen(cfg->api_base);
    while (blen > 0 && cfg->api_base[blen - 1] == '/')
        blen--;
    c->api_base = rotp__strndup(cfg->api_base, blen);
    if (c->api_base == NULL)
        goto out_nomem;
    if (cfg->ca_file != NULL && cfg->ca_file[0] != '\0') {
        c->ca_file = rotp__strdup(cfg->ca_file);
        if (c->ca_file == NULL)
            goto out_nomem;
    }
    c->user_agent = rotp__strdup(cfg->user_agent != NULL ? cfg->user_agent : "rotp-cloudflare");
    if (c->user_agent == NULL)
        goto out_nomem;
    rc = client_proxy(c, cfg->proxy, err);
    if (rc != ROTP_E_OK) {
        http_client_free(c);
        return rc;
    }
    c->easy = curl_easy_init();
    if (c->easy == NULL)
        goto out_nomem;
    *out = c;
    return ROTP_E_OK;

out_nomem:
    http_client_free(c);
    return rerr_set(err, ROTP_E_NO_MEMORY, "http client: out of memory");
}

void http_client_free(http_client *c)
{
    if (c == NULL)
        return;
    if (c->easy != NULL)
        curl_easy_cleanup(c->easy);
    rotp__free(c->api_base);
    rotp__free(c->ca_file);
    rotp__free(c->user_agent);
    rotp__free(c->proxy);
    rotp__free(c->noproxy);
    rl_wipe(&c->rl);
    rotp__free(c);
}

void http_client_set_wait(http_client *c, rotp_wait_fn fn, void *user)
{
    if (c == NULL)
        return;
    c->wait_fn = fn;
    c->wait_user = user;
}

void http_response_free(http_response *resp)
{
    if (resp == NULL)
        return;
    dynbuf_free(&resp->body);
    resp->status = 0;
    resp->content_type[0] = '\0';
    resp->retry_after_ms = 0;
}

/* ------------------------------------------------------------------------------------------- */
/* Headers */

/* Wipes every string of the list, then frees it: a node may have held a secret. */
static void slist_free_wipe(struct curl_slist *list)
{
    for (struct curl_slist *n = list; n != NULL; n = n->next) {
        if (n->data != NULL)
            secret_wipe(n->data, strlen(n->data));
    }
    curl_slist_free_all(list);
}

/* A header name is an HTTP token. */
static bool header_name_ok(const char *s)
{
    size_t n = 0;

    for (; s[n] != '\0'; n++) {
        unsigned char ch = (unsigned char)s[n];
        if (!(isalnum(ch) || strchr("!#$%&'*+-.^_`|~", ch) != NULL))
            return false;
    }
    return n > 0 && n <= 64;
}

/* Hands the line composed in scratch to libcurl (which copies it), then wipes scratch. */
static int32_t append_line(struct curl_slist **list, secret_buf *scratch, rotp_error *err)
{
    struct curl_slist *n = curl_slist_append(*list, scratch->data);

    secret_clear(scratch);
    if (n == NULL)
        return rerr_set(err, ROTP_E_NO_MEMORY, "out of memory building a header");
    *list = n;
    return ROTP_E_OK;
}

/* Appends "name: value" to *list, composing it in scratch (a wiping buffer). */
static int32_t add_header(struct curl_slist **list, secret_buf *scratch, const char *name,
                          const char *prefix, const char *value, size_t value_len, rotp_error *err)
{
    if (!header_value_ok(value, value_len, HTTP_HEADER_MAX))
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "header %.64s: value holds CR, LF or NUL, or is too long", name);
    if (secret_set(scratch, name, strlen(name)) != 0 || secret_append(scratch, ": ", 2) != 0 ||
        secret_append(scratch, prefix, strlen(prefix)) != 0 ||
        secret_append(scratch, value, value_len) != 0) {
        secret_clear(scratch);
        return rerr_set(err, ROTP_E_NO_MEMORY, "out of memory building a header");
    }
    return append_line(list, scratch, err);
}

/* The request's header list: Authorization (from the bearer), the caller's headers, Accept,
 * Content-Type when there is a body, and an empty Expect (no 100-continue round trip). */
static int32_t build_headers(const http_request *req, struct curl_slist **out, rotp_error *err)
{
    int32_t rc = ROTP_E_OK;
    struct curl_slist *list = NULL;
    secret_buf *scratch = secret_new("", 0);

    *out = NULL;
    if (scratch == NULL)
        return rerr_set(err, ROTP_E_NO_MEMORY, "out of memory building headers");
    if (req->bearer != NULL) {
        if (req->bearer->data == NULL || req->bearer->len == 0)
            rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT, "empty bearer token");
        else
            rc = add_header(&list, scratch, "Authorization", "Bearer ", req->bearer->data,
                            req->bearer->len, err);
    }
    for (size_t i = 0; i < req->nheaders && rc == ROTP_E_OK; i++) {
        const http_header *h = &req->headers[i];
        if (h->name == NULL || !header_name_ok(h->name) || h->value == NULL)
            rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT, "header %zu: invalid name or value", i);
        else
            rc = add_header(&list, scratch, h->name, "", h->value, h->value_len, err);
    }
    if (rc == ROTP_E_OK)
        rc = add_header(&list, scratch, "Accept", "", "application/json", 16, err);
    if (rc == ROTP_E_OK && req->body != NULL)
        rc = add_header(&list, scratch, "Content-Type", "", "application/json", 16, err);
    if (rc == ROTP_E_OK)
        rc = secret_set(scratch, "Expect:", 7) == 0
                 ? append_line(&list, scratch, err)
                 : rerr_set(err, ROTP_E_NO_MEMORY, "out of memory building headers");
    secret_free(scratch);
    if (rc != ROTP_E_OK) {
        slist_free_wipe(list);
        return rc;
    }
    *out = list;
    return ROTP_E_OK;
}

/* ------------------------------------------------------------------------------------------- */
/* Callbacks */

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
    xfer_ctx *x = userp;
    size_t n = size * nmemb;
    int r = dynbuf_add(&x->resp->body, data, n);

    if (r == -2) {
        x->over_cap = true;
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    if (r != 0) {
        x->no_memory = true;
        return 0;
    }
    return n;
}

/* Parses leading decimal digits (an optional fraction is ignored); false if there are none. */
static bool parse_uint(const char *s, size_t len, uint64_t cap, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;

    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > cap)
            v = cap;
    }
    if (i == 0)
        return false;
    if (i < len && s[i] == '.') {
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            ;
    }
    if (i != len)
        return false;
    *out = v;
    return true;
}

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && ((*s)[0] == ' ' || (*s)[0] == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t' || (*s)[*len - 1] == '\r' ||
                        (*s)[*len - 1] == '\n'))
        (*len)--;
}

/* Matches "Name:" case-insensitively at the start of a header line; returns the value. */
static bool header_is(const char *line, size_t len, const char *name, const char **val,
                      size_t *vlen)
{
    size_t n = strlen(name);

    if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return false;
    *val = line + n + 1;
    *vlen = len - n - 1;
    trim(val, vlen);
    return true;
}

static size_t header_cb(char *line, size_t size, size_t nitems, void *userp)
{
    xfer_ctx *x = userp;
    size_t len = size * nitems;
    const char *v;
    size_t vlen;

    /* A new status line starts a new response (after 100 Continue, say): forget what the
     * previous one said. */
    if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        x->resp->content_type[0] = '\0';
        x->retry_after_ms = 0;
        x->retry_after_ms_ms = 0;
        x->have_retry_after_ms = false;
        memset(&x->rl, 0, sizeof(x->rl));
    } else if (header_is(line, len, "Ratelimit", &v, &vlen)) {
        (void)rl_parse_ratelimit(v, vlen, &x->rl); /* garbage: as if absent */
    } else if (header_is(line, len, "Ratelimit-Policy", &v, &vlen)) {
        (void)rl_parse_policy(v, vlen, &x->rl);
    } else if (header_is(line, len, "Ratelimit-Limit", &v, &vlen)) {
        (void)rl_parse_field('l', v, vlen, &x->rl);
    } else if (header_is(line, len, "Ratelimit-Remaining", &v, &vlen)) {
        (void)rl_parse_field('r', v, vlen, &x->rl);
    } else if (header_is(line, len, "Ratelimit-Reset", &v, &vlen)) {
        (void)rl_parse_field('t', v, vlen, &x->rl);
    } else if (header_is(line, len, "Content-Type", &v, &vlen)) {
        if (vlen >= sizeof(x->resp->content_type))
            vlen = sizeof(x->resp->content_type) - 1;
        memcpy(x->resp->content_type, v, vlen);
        x->resp->content_type[vlen] = '\0';
    } else if (header_is(line, len, "Retry-After-Ms", &v, &vlen)) {
        uint64_t ms;
        if (parse_uint(v, vlen, (uint64_t)HTTP_RETRY_AFTER_MAX_S * 1000u, &ms)) {
            x->retry_after_ms_ms = ms;
            x->have_retry_after_ms = true;
        }
    } else if (header_is(line, len, "Retry-After", &v, &vlen)) {
        x->retry_after_ms = http_parse_retry_after(v, vlen, (int64_t)time(NULL));
    }
    return len;
}

/* ------------------------------------------------------------------------------------------- */
/* Retry-After */

uint64_t http_parse_retry_after(const char *value, size_t len, int64_t now_unix)
{
    char buf[64];
    uint64_t secs;
    time_t t;

    if (value == NULL)
        return 0;
    trim(&value, &len);
    if (len == 0)
        return 0;
    if (value[0] >= '0' && value[0] <= '9') {
        /* delta-seconds: digits only */
        for (size_t i = 0; i < len; i++) {
            if (value[i] < '0' || value[i] > '9')
                return 0;
        }
        if (!parse_uint(value, len, HTTP_RETRY_AFTER_MAX_S, &secs))
            return 0;
        return secs * 1000u;
    }
    if (len >= sizeof(buf))
        return 0;
    memcpy(buf, value, len);
    buf[len] = '\0';
    t = curl_getdate(buf, NULL);
    if (t == (time_t)-1 || (int64_t)t <= now_unix)
        return 0;
    secs = (uint64_t)((int64_t)t - now_unix);
    if (secs > HTTP_RETRY_AFTER_MAX_S)
        secs = HTTP_RETRY_AFTER_MAX_S;
    return secs * 1000u;
}

/* ------------------------------------------------------------------------------------------- */
/* Timing */

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(uint64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Full-jitter exponential backoff for retry number n (0-based): uniform in [0, min(cap,
 * base * 2^n)], at least Retry-After when the server asked for more. */
static uint64_t backoff_ms(int n, uint64_t retry_after_ms)
{
    uint64_t ceil_ms = HTTP_BACKOFF_BASE_MS;
    uint64_t r = 0;
    uint64_t delay;

    for (int i = 0; i < n && ceil_ms < HTTP_BACKOFF_CAP_MS; i++)
        ceil_ms *= 2;
    if (ceil_ms > HTTP_BACKOFF_CAP_MS)
        ceil_ms = HTTP_BACKOFF_CAP_MS;
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
        delay = r % (ceil_ms + 1);
    else
        delay = ceil_ms; /* no randomness: plain exponential backoff */
    return retry_after_ms > delay ? retry_after_ms : delay;
}

/* ------------------------------------------------------------------------------------------- */
/* One attempt */

static bool method_ok(const char *m)
{
    return m != NULL && (strcmp(m, "GET") == 0 || strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 ||
                         strcmp(m, "PATCH") == 0 || strcmp(m, "DELETE") == 0);
}

/* Every socket libcurl opens for us (to the API, a probe origin or a proxy) is close-on-exec, so
 * a child the host starts (an --exec sink) never inherits a connection that carries a token. */
static curl_socket_t open_socket_cb(void *userp, curlsocktype purpose, struct curl_sockaddr *a)
{
    (void)userp;
    (void)purpose;
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* Sets the proxy options of one attempt (see http.h). */
static CURLcode set_proxy_options(http_client *c)
{
    CURLcode cc = CURLE_OK;

#define SETOPT(opt, val)                                                                           \
    do {                                                                                           \
        if (cc == CURLE_OK)                                                                        \
            cc = curl_easy_setopt(c->easy, opt, val);                                              \
    } while (0)
    switch (c->proxy_mode) {
    case PROXY_NONE:
        SETOPT(CURLOPT_PROXY, ""); /* "" also turns off the environment's proxies */
        break;
    case PROXY_URL:
        SETOPT(CURLOPT_PROXY, c->proxy);
        SETOPT(CURLOPT_NOPROXY, "");
        break;
    case PROXY_ENV:
        SETOPT(CURLOPT_NOPROXY, c->noproxy);
        break;
    }
    /* Through an HTTP proxy, even a plain-http API goes through CONNECT: the proxy only ever
     * relays bytes, it never sees a request line or a header. */
    SETOPT(CURLOPT_HTTPPROXYTUNNEL, 1L);
    SETOPT(CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
    SETOPT(CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
#undef SETOPT
    return cc;
}

/* Sets every option of one attempt on a freshly reset handle. */
static CURLcode set_options(http_client *c, const http_request *req, const char *url, bool is_http,
                            struct curl_slist *headers, xfer_ctx *x, long total_ms, char *errbuf)
{
    CURLcode cc = CURLE_OK;
    long connect_ms = c->connect_timeout_ms < total_ms ? c->connect_timeout_ms : total_ms;

#define SETOPT(opt, val)                                                                           \
    do {                                                                                           \
        if (cc == CURLE_OK)                                                                        \
            cc = curl_easy_setopt(c->easy, opt, val);                                              \
    } while (0)
    SETOPT(CURLOPT_URL, url);
    SETOPT(CURLOPT_PROTOCOLS_STR, is_http ? "http" : "https");
    SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "https");
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_MAXREDIRS, 0L);
    SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    SETOPT(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (c->ca_file != NULL)
        SETOPT(CURLOPT_CAINFO, c->ca_file);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_VERBOSE, 0L);
    SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SETOPT(CURLOPT_OPENSOCKETFUNCTION, open_socket_cb);
    SETOPT(CURLOPT_OPENSOCKETDATA, NULL);
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    SETOPT(CURLOPT_TIMEOUT_MS, total_ms);
    SETOPT(CURLOPT_USERAGENT, c->user_agent);
    SETOPT(CURLOPT_HTTPHEADER, headers);
    SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
    SETOPT(CURLOPT_WRITEDATA, x);
    SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
    SETOPT(CURLOPT_HEADERDATA, x);
    SETOPT(CURLOPT_ERRORBUFFER, errbuf);
    /* libcurl silently re-sends a request whose reused connection died before any answer byte
     * came back. For a state change that could apply it twice, so a non-idempotent request
     * always gets a connection of its own (later requests may still reuse it). */
    if (!req->idempotent)
        SETOPT(CURLOPT_FRESH_CONNECT, 1L);
    if (cc == CURLE_OK)
        cc = set_proxy_options(c);
    if (strcmp(req->method, "GET") == 0) {
        SETOPT(CURLOPT_HTTPGET, 1L);
    } else {
        if (strcmp(req->method, "POST") != 0)
            SETOPT(CURLOPT_CUSTOMREQUEST, req->method);
        if (req->body != NULL || strcmp(req->method, "POST") == 0) {
            SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
            SETOPT(CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
        }
    }
#undef SETOPT
    return cc;
}

static bool curl_tls_failure(CURLcode cc)
{
    return cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
           cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_SSL_CERTPROBLEM || cc == CURLE_SSL_CIPHER ||
           cc == CURLE_SSL_ISSUER_ERROR || cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH ||
           cc == CURLE_SSL_INVALIDCERTSTATUS || cc == CURLE_SSL_CRL_BADFILE ||
           cc == CURLE_SSL_ENGINE_INITFAILED;
}

/* Whether the request may have reached the server before the failure. Conservative: any doubt
 * counts as sent, so a state change is reported as OUTCOME_UNKNOWN rather than "not applied". */
static bool maybe_sent(CURL *easy, CURLcode cc, bool fresh_connection)
{
    long req_size = 0;
    long connect_code = 0;
    curl_off_t connect_us = 0;
    long nconnects = 0;

    /* A proxy that refused the CONNECT: the API never saw a byte (the CONNECT request itself
     * counts in REQUEST_SIZE). */
    if (curl_easy_getinfo(easy, CURLINFO_HTTP_CONNECTCODE, &connect_code) == CURLE_OK &&
        connect_code != 0 && (connect_code < 200 || connect_code > 299))
        return false;
    if (curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &req_size) == CURLE_OK && req_size > 0)
        return true;
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return false;
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SEND_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WRITE_ERROR:
        return true;
    case CURLE_OPERATION_TIMEDOUT:
        /* Once the connection was up the request may be out. A reused connection was up from
         * the start (non-idempotent requests never reuse one). */
        curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connect_us);
        curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &nconnects);
        return connect_us > 0 || (!fresh_connection && nconnects == 0);
    default:
        return !curl_tls_failure(cc);
    }
}

/* Turns a failed transfer into a code and message. *retry says whether an idempotent request
 * may be repeated. */
static int32_t attempt_failure(CURL *easy, const http_request *req, CURLcode cc, const xfer_ctx *x,
                               const char *errbuf, const char *logpath, long *status, bool *retry,
                               rotp_error *err)
{
    const char *sep = errbuf[0] != '\0' ? ": " : "";
    bool sent;
    int32_t rc;

    *retry = false;
    if (x->no_memory && !req->idempotent) {
        /* The answer was arriving: the change was applied, but we cannot tell its result. */
        rerr_flag(err, ROTP_ERRF_REQUEST_SENT);
        return rerr_set(err, ROTP_E_OUTCOME_UNKNOWN,
                        "%s %s: out of memory reading the response; the change may have been "
                        "applied: check its state before repeating it",
                        req->method, logpath);
    }
    if (x->no_memory || cc == CURLE_OUT_OF_MEMORY) {
        /* the answer was arriving: the request is out (an idempotent change settles by looking) */
        if (x->no_memory || maybe_sent(easy, cc, !req->idempotent))
            rerr_flag(err, ROTP_ERRF_REQUEST_SENT);
        return rerr_set(err, ROTP_E_NO_MEMORY, "%s %s: out of memory reading the response",
                        req->method, logpath);
    }
    if (x->over_cap) {
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, status);
        rerr_flag(err, ROTP_ERRF_REQUEST_SENT);
        rerr_http(err, (int32_t)*status, 0, 0, 0);
        if (req->idempotent)
            return rerr_set(err, ROTP_E_PROTOCOL, "%s %s: response body over 1 MiB", req->method,
                            logpath);
        return rerr_set(err, ROTP_E_OUTCOME_UNKNOWN,
                        "%s %s: response body over 1 MiB; the change may have been applied: "
                        "check its state before repeating it",
                        req->method, logpath);
    }
    if (curl_tls_failure(cc))
        return rerr_set(err, ROTP_E_TLS, "%s %s: %s%s%.200s", req->method, logpath,
                        curl_easy_strerror(cc), sep, errbuf); /* attempt() words it for humans */
    sent = maybe_sent(easy, cc, !req->idempotent);
    if (sent && !req->idempotent) {
        rc = rerr_set(err, ROTP_E_OUTCOME_UNKNOWN,
                      "%s %s: %s after the request was sent; the change may have been applied: "
                      "check its state before repeating it",
                      req->method, logpath, curl_easy_strerror(cc));
        rerr_flag(err, ROTP_ERRF_REQUEST_SENT);
        return rc;
    }
    rc = rerr_set(err, ROTP_E_TRANSIENT, "%s %s: %s%s%.200s%s", req->method, logpath,
                  curl_easy_strerror(cc), sep, errbuf, sent ? "" : " (nothing was sent)");
    rerr_http(err, 0, 0, 1, 0);
    if (sent)
        rerr_flag(err, ROTP_ERRF_REQUEST_SENT);
    *retry = req->idempotent;
    return rc;
}

/* Builds the URL of a request: api_base + path, or the checked absolute URL. */
static int32_t request_url(const http_client *c, const http_request *req, char **owned,
                           const char **url, bool *is_http, rotp_error *err)
{
    size_t blen, plen;

    *owned = NULL;
    if (req->url != NULL) {
        *url = req->url;
        return url_check(req->url, c->allow_insecure_loopback, false, "probe URL", is_http, err);
    }
    blen = strlen(c->api_base);
    plen = strlen(req->path);
    if (req->path[0] != '/' || !url_chars_ok(req->path, plen) || blen + plen >= HTTP_MAX_URL)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "request path: must start with '/', hold no space or control "
                        "character, and fit the URL limit");
    *owned = rotp__malloc(blen + plen + 1);
    if (*owned == NULL)
        return rerr_set(err, ROTP_E_NO_MEMORY, "out of memory building the URL");
    memcpy(*owned, c->api_base, blen);
    memcpy(*owned + blen, req->path, plen + 1);
    *url = *owned;
    /* api_base was checked when the client was made; a path starting with '/' cannot change
     * the scheme or the host. */
    *is_http = strncasecmp(*owned, "http:", 5) == 0;
    return ROTP_E_OK;
}

/* ------------------------------------------------------------------------------------------- */
/* Waits: the rate limit (ratelimit.h) and retries, logged and told to the host */

/* What pace() decided. */
enum pace { PACE_GO, PACE_REFUSED, PACE_STOPPED };

/* Sleeps ms in slices of at most a second, telling the host's wait callback before, between and
 * after them. false when the host stopped the wait. */
static bool wait_told(http_client *c, uint64_t ms, uint32_t reason, const rl_bucket *b,
                      const char *cred, const char *what)
{
    rotp_wait_info wi;
    uint64_t left = ms;

    memset(&wi, 0, sizeof(wi));
    wi.struct_size = sizeof(wi);
    wi.reason = reason;
    wi.wait_ms = ms;
    wi.limit = b != NULL ? b->quota : -1;
    wi.window_ms = b != NULL ? b->window_ms : -1;
    wi.credential = cred;
    wi.request = what;
    for (;;) {
        uint64_t step = left < 1000 ? left : 1000;

        wi.left_ms = left;
        if (c->wait_fn != NULL && c->wait_fn(c->wait_user, &wi) != 0) {
            plog_write(c->log, ROTP_LOG_INFO, "%s: the host stopped the wait with %llu ms left",
                       what, (unsigned long long)left);
            return false;
        }
        if (left == 0)
            return true;
        sleep_ms(step);
        left -= step;
    }
}

/* Waits until bucket b may send (the window's reset, or the block after a 429), adding the time
 * spent to *waited. PACE_GO; PACE_REFUSED when the wait would pass max_wait_ms (nothing waited,
 * *wait_ms says how long it would have been); PACE_STOPPED when the host stopped it. */
static enum pace pace(http_client *c, rl_bucket *b, const char *cred, const char *what,
                      uint64_t *waited, uint64_t *wait_ms)
{
    for (;;) {
        uint32_t reason;
        int64_t t0 = mono_ms();
        uint64_t ms = rl_wait_ms(b, t0, &reason);

        if (ms == 0)
            return PACE_GO;
        *wait_ms = ms;
        if (ms > c->max_wait_ms) {
            plog_write(c->log, ROTP_LOG_INFO,
                       "%s: not waiting %llu ms for the rate limit of %s: more than "
                       "max_wait_seconds (%llu)",
                       what, (unsigned long long)ms, cred,
                       (unsigned long long)(c->max_wait_ms / 1000u));
            return PACE_REFUSED;
        }
        if (reason == RL_WAIT_QUOTA)
            plog_write(c->log, ROTP_LOG_INFO,
                       "%s: waiting %llu ms for the rate limit of %s (%lld requests per %lld s, "
                       "used up until the window resets)",
                       what, (unsigned long long)ms, cred, (long long)b->quota,
                       (long long)(b->window_ms / 1000));
        else
            plog_write(c->log, ROTP_LOG_INFO,
                       "%s: waiting %llu ms for the rate limit of %s (HTTP 429: blocked for "
                       "Retry-After)",
                       what, (unsigned long long)ms, cred);
        if (!wait_told(c, ms,
                       reason == RL_WAIT_QUOTA ? ROTP_WAIT_RATE_LIMIT : ROTP_WAIT_RETRY_AFTER, b,
                       cred, what))
            return PACE_STOPPED;
        *waited += (uint64_t)(mono_ms() - t0);
    }
}

/* The error of a request that was not sent because of the rate limit. */
static int32_t pace_error(const http_client *c, enum pace pc, const char *what, const char *cred,
                          uint64_t wait_ms, rotp_error *err)
{
    int32_t rc;

    if (pc == PACE_REFUSED)
        rc = rerr_set(err, ROTP_E_RATE_LIMITED,
                      "%s: the rate limit of %s lets the next request go in %llu s, more than "
                      "max_wait_seconds (%llu); nothing was sent: retry after that",
                      what, cred, (unsigned long long)((wait_ms + 999u) / 1000u),
                      (unsigned long long)(c->max_wait_ms / 1000u));
    else
        rc = rerr_set(err, ROTP_E_RATE_LIMITED,
                      "%s: the host stopped the wait for the rate limit of %s; nothing was sent",
                      what, cred);
    rerr_http(err, 0, 0, 1, wait_ms);
    return rc;
}

/* ------------------------------------------------------------------------------------------- */
/* The request */

/* Words a TLS failure for the operator: a certificate that could not be verified says so and
 * names the config key ca_file (rotp-harness: --ca-file); nothing was sent. */
static int32_t tls_failure(const http_client *c, const http_request *req, CURLcode cc,
                           const char *errbuf, const char *logpath, rotp_error *err)
{
    const char *detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc);

    if (cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_SSL_CRL_BADFILE)
        return rerr_set(err, ROTP_E_TLS,
                        "%s %s: TLS: the CA file could not be used: check that the config key "
                        "ca_file names a readable PEM bundle. Nothing was sent (%.120s)",
                        req->method, logpath, detail);
    if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_ISSUER_ERROR ||
        cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH || cc == CURLE_SSL_INVALIDCERTSTATUS)
        return rerr_set(err, ROTP_E_TLS,
                        "%s %s: TLS certificate verification failed: the server's certificate "
                        "is not trusted by %s or does not name the host; if the server uses a "
                        "private CA (a test server, a TLS-inspecting proxy), set the config key "
                        "ca_file to that CA's PEM file (rotp-harness: --ca-file). Nothing was "
                        "sent (%.120s)",
                        req->method, logpath,
                        c->ca_file != NULL ? "the CA in ca_file" : "the system's CA store", detail);
    return rerr_set(err, ROTP_E_TLS,
                    "%s %s: TLS handshake failed; if the server's certificate is signed by a "
                    "private CA, set the config key ca_file to it (rotp-harness: --ca-file). "
                    "Nothing was sent (%.120s)",
                    req->method, logpath, detail);
}

/* One attempt on a freshly reset handle, within `remaining` ms; counted against bucket b (NULL:
 * not paced). Fills resp; *cc is libcurl's code; *retry says whether an idempotent request may
 * be repeated. ROTP_E_OK when a response arrived. */
static int32_t attempt(http_client *c, const http_request *req, const char *url, bool is_http,
                       struct curl_slist *headers, rl_bucket *b, int64_t remaining,
                       const char *logpath, http_response *resp, CURLcode *cc, bool *retry,
                       rotp_error *err)
{
    xfer_ctx x = {.resp = resp};
    char errbuf[CURL_ERROR_SIZE];
    int32_t rc = ROTP_E_OK;

    *retry = false;
    rerr_clear(err);
    dynbuf_reset(&resp->body);
    resp->status = 0;
    resp->content_type[0] = '\0';
    resp->retry_after_ms = 0;
    errbuf[0] = '\0';

    curl_easy_reset(c->easy);
    *cc = set_options(c, req, url, is_http, headers, &x, (long)remaining, errbuf);
    if (*cc != CURLE_OK)
        return rerr_set(err, *cc == CURLE_OUT_OF_MEMORY ? ROTP_E_NO_MEMORY : ROTP_E_INTERNAL,
                        "libcurl refused an option: %s", curl_easy_strerror(*cc));
    if (b != NULL)
        rl_note_sent(b, mono_ms());
    *cc = curl_easy_perform(c->easy);
    resp->attempts++;
    resp->retry_after_ms = x.have_retry_after_ms ? x.retry_after_ms_ms : x.retry_after_ms;

    if (*cc == CURLE_OK) {
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &resp->status);
        /* Any response is a success of http_do(); the caller classifies it. */
        *retry = req->idempotent && (resp->status == 429 || resp->status >= 500);
    } else {
        rc = attempt_failure(c->easy, req, *cc, &x, errbuf, logpath, &resp->status, retry, err);
        if (rc == ROTP_E_TLS)
            rc = tls_failure(c, req, *cc, errbuf, logpath, err);
    }
    if (b != NULL)
        rl_note_response(b, mono_ms(), &x.rl, resp->status, resp->retry_after_ms);
    return rc;
}

/* Sleeps before retry number `retries` (1-based) of an attempt that failed with cc (and status),
 * within the deadline; a 429 of a paced request waits in pace() instead. false: do not retry. */
static bool retry_wait(http_client *c, const http_response *resp, CURLcode cc, bool paced,
                       int retries, int64_t deadline, const char *cred, const char *what)
{
    uint64_t delay;

    if (paced && cc == CURLE_OK && resp->status == 429) {
        plog_write(c->log, ROTP_LOG_INFO,
                   "%s: HTTP 429, retry %d of %d after the rate limit's wait", what, retries,
                   c->max_retries);
        return true;
    }
    delay = backoff_ms(retries - 1, resp->retry_after_ms);
    if ((int64_t)delay >= deadline - mono_ms()) {
        plog_write(c->log, ROTP_LOG_INFO,
                   "%s: not retried: waiting %llu ms would pass the %ld ms budget", what,
                   (unsigned long long)delay, c->timeout_ms);
        return false;
    }
    if (cc == CURLE_OK)
        plog_write(c->log, ROTP_LOG_INFO, "%s: HTTP %ld, retry %d of %d in %llu ms", what,
                   resp->status, retries, c->max_retries, (unsigned long long)delay);
    else
        plog_write(c->log, ROTP_LOG_INFO, "%s: %s, retry %d of %d in %llu ms", what,
                   curl_easy_strerror(cc), retries, c->max_retries, (unsigned long long)delay);
    return wait_told(c, delay, ROTP_WAIT_BACKOFF, NULL, cred, what);
}

int32_t http_do(http_client *c, const http_request *req, http_response *resp, rotp_error *err)
{
    int32_t rc = ROTP_E_OK;
    struct curl_slist *headers = NULL;
    char *owned_url = NULL;
    const char *url = NULL;
    char logpath[HTTP_LOG_PATH_MAX];
    char what[HTTP_LOG_PATH_MAX + 16];
    const char *cred;
    bool is_http = false;
    rl_bucket *b = NULL;
    int64_t deadline;
    int retries = 0;

    if (resp != NULL) {
        memset(resp, 0, sizeof(*resp));
        dynbuf_init(&resp->body, HTTP_MAX_BODY);
    }
    if (c == NULL || req == NULL || resp == NULL || !method_ok(req->method) ||
        (req->path == NULL) == (req->url == NULL) || (req->nheaders > 0 && req->headers == NULL))
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "http request: bad method or target");
    loggable_path(req, logpath, sizeof(logpath));
    snprintf(what, sizeof(what), "%s %s", req->method, logpath);
    cred = req->credential != NULL ? req->credential : "the bearer token";

    rc = request_url(c, req, &owned_url, &url, &is_http, err);
    if (rc == ROTP_E_OK)
        rc = build_headers(req, &headers, err);
    if (rc != ROTP_E_OK)
        goto out_free_url;
    /* the API's rate limit is per token: requests with a bearer are paced */
    if (req->bearer != NULL && req->url == NULL)
        b = rl_bucket_for(&c->rl, req->bearer->data, req->bearer->len, mono_ms());

    deadline = mono_ms() + c->timeout_ms;
    for (;;) {
        int64_t remaining;
        CURLcode cc = CURLE_OK;
        bool retry = false;

        if (b != NULL) {
            uint64_t waited = 0, wait_ms = 0;
            enum pace pc = pace(c, b, cred, what, &waited, &wait_ms);

            deadline += (int64_t)waited; /* rate-limit waits are not the call's time budget */
            if (pc != PACE_GO) {
                if (resp->attempts == 0)
                    rc = pace_error(c, pc, what, cred, wait_ms, err);
                break; /* after an attempt its answer stands */
            }
        }
        remaining = deadline - mono_ms();
        if (remaining <= 0) {
            rc = rerr_set(err, ROTP_E_TRANSIENT, "%s: the %ld ms budget ran out", what,
                          c->timeout_ms);
            rerr_http(err, 0, 0, 1, 0);
            break;
        }
        rc = attempt(c, req, url, is_http, headers, b, remaining, logpath, resp, &cc, &retry, err);
        if (!retry || retries >= c->max_retries)
            break;
        retries++;
        if (!retry_wait(c, resp, cc, b != NULL, retries, deadline, cred, what))
            break;
    }

    if (rc == ROTP_E_OK)
        plog_write(c->log, ROTP_LOG_DEBUG, "%s: HTTP %ld", what, resp->status);
    slist_free_wipe(headers);
out_free_url:
    /* the URL holds ids (and a probe URL its query): wiped like everything of the transport */
    if (owned_url != NULL)
        secret_wipe(owned_url, strlen(owned_url));
    rotp__free(owned_url);
    return rc;
}
