/* SPDX-License-Identifier: MIT */
/* cfapi.c - Cloudflare's v4 envelope, the one error-classification table, and cf_call(). */
#include "cfapi.h"

#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "error.h"

/* ---------------------------------------------------------------------------------------------
 * The envelope
 * ------------------------------------------------------------------------------------------- */

static void envelope_init(cf_envelope *env)
{
    memset(env, 0, sizeof(*env));
    env->result = env->errors = env->messages = JSON_NONE;
    env->page = env->per_page = env->count = env->total_count = env->total_pages = -1;
}

/* An optional member: absent or null gives JSON_NONE; otherwise its token. */
static int opt_member(const json_doc *d, int obj, const char *key)
{
    int t = json_get(d, obj, key);

    return t >= 0 && json_is_null(d, t) ? JSON_NONE : t;
}

/* Items of errors[] and error_chain[]: objects whose `code` is an integer and `message` a string
 * when present. true when every item is well-typed. */
static bool error_items_ok(const json_doc *d, int arr)
{
    int i, n = d->toks[arr].size;

    for (i = 0; i < n; i++) {
        int it = json_at(d, arr, i), c, m, ch;
        int64_t v;

        if (!json_is_object(d, it))
            return false;
        c = opt_member(d, it, "code");
        m = opt_member(d, it, "message");
        ch = opt_member(d, it, "error_chain");
        if (c >= 0 && (json_get_int64(d, c, &v) != 0 || v < INT32_MIN || v > INT32_MAX))
            return false;
        if (m >= 0 && !json_is_string(d, m))
            return false;
        if (ch >= 0 && (!json_is_array(d, ch) || !error_items_ok(d, ch)))
            return false;
    }
    return true;
}

/* messages[] items: objects (code, message, and `type` that may be null) or bare strings. */
static bool message_items_ok(const json_doc *d, int arr)
{
    int i, n = d->toks[arr].size;

    for (i = 0; i < n; i++) {
        int it = json_at(d, arr, i), c, m, t;
        int64_t v;

        if (json_is_string(d, it))
            continue;
        if (!json_is_object(d, it))
            return false;
        c = opt_member(d, it, "code");
        m = opt_member(d, it, "message");
        t = opt_member(d, it, "type");
        if (c >= 0 && json_get_int64(d, c, &v) != 0)
            return false;
        if ((m >= 0 && !json_is_string(d, m)) || (t >= 0 && !json_is_string(d, t)))
            return false;
    }
    return true;
}

/* Appends the unescaped string at tok to buf (size cap, NUL-terminated), cut at a UTF-8
 * boundary. JSON_OK or JSON_ENOMEM. */
static int append_cut(const json_doc *d, int tok, char *buf, size_t cap)
{
    char *s = NULL;
    size_t have = strlen(buf), n;
    int rc = json_strdup(d, tok, &s);

    if (rc == JSON_ENOMEM)
        return JSON_ENOMEM;
    if (rc != 0)
        return JSON_OK; /* not a string: nothing to add */
    n = strlen(s);
    if (have + n + 1 > cap) {
        n = cap - 1 - have;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--; /* s[n] would start the cut-off part: do not split its sequence */
    }
    memcpy(buf + have, s, n);
    buf[have + n] = '\0';
    rotp__free(s);
    return JSON_OK;
}

/* Reads errors[0] (code, message) and its error_chain[0] into env. */
static int read_first_error(cf_envelope *env)
{
    const json_doc *d = &env->doc;
    int e0 = json_at(d, env->errors, 0), t, ch, c0;
    int64_t v;
    int rc = JSON_OK;

    if (e0 < 0)
        return JSON_OK;
    t = opt_member(d, e0, "code");
    if (t >= 0 && json_get_int64(d, t, &v) == 0)
        env->error_code = (int32_t)v;
    t = opt_member(d, e0, "message");
    if (t >= 0)
        rc = append_cut(d, t, env->error_message, sizeof(env->error_message));
    ch = opt_member(d, e0, "error_chain");
    c0 = ch >= 0 ? json_at(d, ch, 0) : JSON_NONE;
    if (rc != JSON_OK || c0 < 0)
        return rc;
    t = opt_member(d, c0, "code");
    if (t >= 0 && json_get_int64(d, t, &v) == 0)
        env->chain_code = (int32_t)v;
    t = opt_member(d, c0, "message");
    if (t >= 0) {
        size_t have = strlen(env->error_message);

        if (have > 0 && have + 2 < sizeof(env->error_message))
            memcpy(env->error_message + have, ": ", 3);
        rc = append_cut(d, t, env->error_message, sizeof(env->error_message));
    }
    return rc;
}

/* Reads result_info's integers; false if one is present but not an integer. */
static bool read_result_info(cf_envelope *env, int ri)
{
    static const struct {
        const char *key;
        size_t off;
    } fields[] = {
        {"page", offsetof(cf_envelope, page)},
        {"per_page", offsetof(cf_envelope, per_page)},
        {"count", offsetof(cf_envelope, count)},
        {"total_count", offsetof(cf_envelope, total_count)},
        {"total_pages", offsetof(cf_envelope, total_pages)},
    };
    size_t i;

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        int t = opt_member(&env->doc, ri, fields[i].key);
        int64_t *dst = (int64_t *)((char *)env + fields[i].off);

        if (t >= 0 && json_get_int64(&env->doc, t, dst) != 0)
            return false;
    }
    env->has_result_info = true;
    return true;
}

int cf_envelope_parse(cf_envelope *env, const char *body, size_t len)
{
    json_doc *d = &env->doc;
    int rc, t;

    envelope_init(env);
    rc = json_parse(d, body, len);
    if (rc != JSON_OK)
        return rc == JSON_ENOMEM ? JSON_ENOMEM : JSON_EINVAL;
    rc = JSON_EINVAL;
    if (!json_is_object(d, 0))
        goto out_free;
    if (json_get_bool(d, json_get(d, 0, "success"), &env->success) != 0)
        goto out_free;
    env->errors = opt_member(d, 0, "errors");
    if (env->errors >= 0 && (!json_is_array(d, env->errors) || !error_items_ok(d, env->errors)))
        goto out_free;
    env->messages = opt_member(d, 0, "messages");
    if (env->messages >= 0 &&
        (!json_is_array(d, env->messages) || !message_items_ok(d, env->messages)))
        goto out_free;
    t = json_get(d, 0, "result");
    if (t >= 0 && !json_is_object(d, t) && !json_is_array(d, t) && !json_is_string(d, t) &&
        !json_is_null(d, t))
        goto out_free;
    env->result = t;
    t = opt_member(d, 0, "result_info");
    if (t >= 0 && (!json_is_object(d, t) || !read_result_info(env, t)))
        goto out_free;
    if (env->errors >= 0) {
        rc = read_first_error(env);
        if (rc != JSON_OK)
            goto out_free;
    }
    return JSON_OK;
out_free:
    json_free(d);
    envelope_init(env);
    return rc;
}

void cf_envelope_free(cf_envelope *env)
{
    if (env == NULL)
        return;
    json_free(&env->doc);
}

/* ---------------------------------------------------------------------------------------------
 * Classification: the one table (API-NOTES section 5). First matching row wins.
 * ------------------------------------------------------------------------------------------- */

typedef struct cf_rule {
    short status_lo, status_hi; /* HTTP status range */
    int32_t cf_code;            /* Cloudflare errors[0].code; 0 matches any */
    const char *msg_has;        /* in errors[0].message, any case; NULL matches any */
    int32_t rotp_code;
    bool retryable;
} cf_rule;

static const cf_rule cf_rules[] = {
    /* 971 "Please wait and consider throttling your request speed", 429 (API-NOTES 5, 6) */
    {0, 999, 971, NULL, ROTP_E_RATE_LIMITED, true},
    {429, 429, 0, NULL, ROTP_E_RATE_LIMITED, true},
    /* 401: 1000 "Invalid API Token" on verify, 10000 "Authentication error" on account endpoints:
     * the token is unknown, rolled, expired or deleted */
    {401, 401, 0, NULL, ROTP_E_CREDENTIAL_INVALID, false},
    /* 404: the object is gone (API-NOTES 5: "Treat HTTP 404 ... as gone"; terraform's mock even
     * answers 404 with code 1000, hence before the 1000 row) */
    {404, 404, 0, NULL, ROTP_E_NOT_FOUND, false},
    /* 7003 "Could not route to ..., perhaps your object identifier is invalid?" */
    {400, 499, 7003, NULL, ROTP_E_NOT_FOUND, false},
    /* 7000 "No route for that URI": we built a path Cloudflare does not have, our bug */
    {400, 499, 7000, NULL, ROTP_E_PROTOCOL, false},
    /* 1000 with 403: an account token on /user/tokens/verify (API-NOTES 8.5) */
    {400, 499, 1000, NULL, ROTP_E_CREDENTIAL_INVALID, false},
    /* 400 1001 is two things (API-NOTES 5): "Missing "Authorization" header" says the
     * credential we sent is unusable as such; any other 1001 ("List accounts endpoint does not
     * support account owned tokens.", a policy naming an unknown permission group) refuses
     * the request itself. 6003 (chain 6111) malformed bearer, 9106 "Authentication failed":
     * the credential is unusable too. */
    {400, 499, 1001, "authorization", ROTP_E_CREDENTIAL_INVALID, false},
    {400, 499, 1001, NULL, ROTP_E_INVALID_ARGUMENT, false},
    {400, 499, 6003, NULL, ROTP_E_CREDENTIAL_INVALID, false},
    {400, 499, 6111, NULL, ROTP_E_CREDENTIAL_INVALID, false},
    {400, 499, 9106, NULL, ROTP_E_CREDENTIAL_INVALID, false},
    /* 12139: an Access service token still named by a policy cannot be deleted (issue 5) */
    {400, 499, 12139, NULL, ROTP_E_CONFLICT, false},
    {409, 409, 0, NULL, ROTP_E_CONFLICT, false},
    /* 9109 is two things (API-NOTES 5): "Invalid access token" is a zone route's answer to an
     * unknown token, the same failure as a 401 on user and account routes ... */
    {403, 403, 9109, "invalid access token", ROTP_E_CREDENTIAL_INVALID, false},
    /* ... while 9109 "Unauthorized to access requested resource", and 10000 "Authentication
     * error" / "Forbidden", say the token lacks a permission group or the resource is outside
     * its scope */
    {403, 403, 0, NULL, ROTP_E_PERMISSION_DENIED, false},
    /* 408 request timeout and 5xx: Cloudflare-side trouble (cf_call() refines 5xx on
     * state-changing calls to OUTCOME_UNKNOWN) */
    {408, 408, 0, NULL, ROTP_E_TRANSIENT, true},
    {500, 599, 0, NULL, ROTP_E_TRANSIENT, true},
    /* Cloudflare has no documented quota code (API-NOTES 5): a 400 whose message talks about a
     * quota or a limit is CONFLICT, which the ABI defines to include "quota reached" */
    {400, 400, 0, "quota", ROTP_E_CONFLICT, false},
    {400, 400, 0, "limit", ROTP_E_CONFLICT, false},
    /* any other 4xx: the request itself was wrong */
    {400, 499, 0, NULL, ROTP_E_INVALID_ARGUMENT, false},
};

int32_t cf_classify(long http_status, int32_t cf_code, const char *cf_message, bool *retryable)
{
    size_t i;

    for (i = 0; i < sizeof(cf_rules) / sizeof(cf_rules[0]); i++) {
        const cf_rule *r = &cf_rules[i];

        if (http_status < r->status_lo || http_status > r->status_hi)
            continue;
        if (r->cf_code != 0 && r->cf_code != cf_code)
            continue;
        if (r->msg_has != NULL &&
            (cf_message == NULL || strcasestr(cf_message, r->msg_has) == NULL))
            continue;
        if (retryable != NULL)
            *retryable = r->retryable;
        return r->rotp_code;
    }
    /* 1xx, 3xx (redirects are not followed), a 2xx that says success=false: not what the API
     * promises */
    if (retryable != NULL)
        *retryable = false;
    return ROTP_E_PROTOCOL;
}

bool cf_answer_lost(const rotp_error *err)
{
    long st = err->http_status;

    if ((err->flags & ROTP_ERRF_REQUEST_SENT) == 0)
        return false;
    switch (err->code) {
    case ROTP_E_OUTCOME_UNKNOWN:
    case ROTP_E_NO_MEMORY:
    case ROTP_E_INTERNAL:
        return true;
    case ROTP_E_TRANSIENT: /* a reset or timeout after sending, a 5xx, a 408 */
        return st == 0 || st == 408 || st >= 500;
    case ROTP_E_PROTOCOL: /* a cut, malformed or oversized answer; a 3xx is a definite "not here" */
        return st == 0 || (st >= 200 && st <= 299);
    default:
        return false;
    }
}

/* ---------------------------------------------------------------------------------------------
 * cf_call
 * ------------------------------------------------------------------------------------------- */

/* What the operator should do about a failure of this class. */
static const char *hint_for(int32_t code, int auth)
{
    switch (code) {
    case ROTP_E_CREDENTIAL_INVALID:
        return auth == CF_AUTH_MANAGEMENT
                   ? "the management token itself is invalid, expired or revoked: escalate; no "
                     "automated recovery"
                   : "the credential is invalid, expired or revoked";
    case ROTP_E_PERMISSION_DENIED:
        return "check the token's permission groups and the zone/account it is scoped to";
    case ROTP_E_NOT_FOUND:
        return "check the id; the object may have been deleted";
    case ROTP_E_CONFLICT:
        return "the object is still referenced (re-point the Access policy first) or a quota is "
               "reached (delete unused tokens)";
    case ROTP_E_RATE_LIMITED:
        return "wait for retry_after_ms, then retry";
    case ROTP_E_TRANSIENT:
        return "Cloudflare-side failure; retry later";
    case ROTP_E_OUTCOME_UNKNOWN:
        return "the change was sent and may have been applied: check the current state before "
               "trying again";
    case ROTP_E_INVALID_ARGUMENT:
        return "check the request's parameters";
    default:
        return "unexpected response from Cloudflare; check api_base or report a provider bug";
    }
}

/* Prefixes what http_do() wrote with `what`, keeping its code and other fields. */
static int32_t prefix_transport_error(rotp_error *err, int32_t rc, const char *what)
{
    char prev[ROTP_ERROR_MESSAGE_MAX];

    if (!ROTP_HAS_FIELD(err, rotp_error, message))
        return rc;
    memcpy(prev, err->message, sizeof(prev));
    prev[sizeof(prev) - 1] = '\0';
    return rerr_set(err, rc, "%s: %s", what, prev[0] != '\0' ? prev : rerr_message(rc));
}

/* true when a Content-Type names JSON: application/json or application/<x>+json, any case,
 * parameters (charset) allowed. Cloudflare's API always answers in JSON; an HTML or text body
 * with a 200 is a proxy, a captive portal or a wrong api_base, never the API's answer. */
static bool is_json_type(const char *ct)
{
    size_t n = strcspn(ct, ";");

    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
        return true;
    return n > 17 && strncasecmp(ct, "application/", 12) == 0 &&
           strncasecmp(ct + n - 5, "+json", 5) == 0 && memchr(ct + 12, '/', n - 12) == NULL;
}

int32_t cf_call(http_client *http, const cf_call_opts *opts, http_response *resp, cf_envelope *env,
                rotp_error *err)
{
    http_request req;
    const char *what;
    int32_t rc;
    int prc;
    bool retryable = false, ok2xx, json_type;
    long status;

    envelope_init(env);
    if (resp != NULL) {
        /* so the caller's http_response_free() is safe on every path */
        memset(resp, 0, sizeof(*resp));
        dynbuf_init(&resp->body, HTTP_MAX_BODY);
    }
    if (opts == NULL || resp == NULL)
        return rerr_set(err, ROTP_E_INTERNAL, "cf_call: no options");
    what = opts->what != NULL ? opts->what : "Cloudflare request";
    memset(&req, 0, sizeof(req));
    req.method = opts->method;
    req.path = opts->path;
    req.body = opts->body;
    req.body_len = opts->body_len;
    req.bearer = opts->bearer;
    req.idempotent = opts->idempotent;
    req.credential =
        opts->auth == CF_AUTH_MANAGEMENT ? "the management token" : "the token being verified";

    rc = http_do(http, &req, resp, err);
    if (rc != ROTP_E_OK)
        return prefix_transport_error(err, rc, what);

    status = resp->status;
    ok2xx = status >= 200 && status <= 299;
    json_type = is_json_type(resp->content_type);
    prc = resp->body.len > 0 && json_type ? cf_envelope_parse(env, resp->body.data, resp->body.len)
                                          : JSON_EINVAL;
    if (ok2xx && prc == JSON_OK && env->success) {
        rerr_clear(err);
        return ROTP_E_OK;
    }

    rerr_flag(err, ROTP_ERRF_REQUEST_SENT);
    if (prc == JSON_ENOMEM) {
        /* an answer came and could not be read: for a change, whether it applied is unknown */
        rc = opts->idempotent ? ROTP_E_NO_MEMORY : ROTP_E_OUTCOME_UNKNOWN;
        rerr_http(err, (int32_t)status, 0, 0, 0);
        return rerr_set(err, rc, "%s: HTTP %ld, and out of memory reading the answer. %s", what,
                        status, hint_for(rc, opts->auth));
    }
    if (ok2xx && prc != JSON_OK) {
        rc = opts->idempotent ? ROTP_E_PROTOCOL : ROTP_E_OUTCOME_UNKNOWN;
        rerr_http(err, (int32_t)status, 0, 0, 0);
        return rerr_set(err, rc, "%s: HTTP %ld with %s. %s", what, status,
                        json_type ? "a body that is not a Cloudflare envelope"
                                  : "a body that is not JSON (wrong Content-Type)",
                        hint_for(rc, opts->auth));
    }

    rc = cf_classify(status, env->error_code, env->error_message, &retryable);
    if (rc == ROTP_E_TRANSIENT && status >= 500 && !opts->idempotent) {
        /* a gateway error after a state change was sent says nothing about whether it applied */
        rc = ROTP_E_OUTCOME_UNKNOWN;
        retryable = false;
    }
    if (rc == ROTP_E_CREDENTIAL_INVALID && opts->auth == CF_AUTH_MANAGEMENT)
        rerr_flag(err, ROTP_ERRF_MANAGEMENT_CREDENTIAL);
    rerr_http(err, (int32_t)status, env->error_code, retryable ? 1u : 0u,
              retryable ? resp->retry_after_ms : 0);
    if (env->error_message[0] != '\0')
        return rerr_set(err, rc, "%s: %s (HTTP %ld, code %d). %s", what, env->error_message, status,
                        (int)env->error_code, hint_for(rc, opts->auth));
    return rerr_set(err, rc, "%s: HTTP %ld%s. %s", what, status,
                    prc == JSON_OK ? "" : " without a Cloudflare error body",
                    hint_for(rc, opts->auth));
}
