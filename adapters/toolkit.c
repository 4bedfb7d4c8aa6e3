/* SPDX-License-Identifier: MIT */
/* toolkit.c - the adapters' shared way to call Cloudflare (contract in toolkit.h). */
#include "toolkit.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"

/* ---------------------------------------------------------------------------------------------
 * Replies
 * ------------------------------------------------------------------------------------------- */

void tk_reply_init(tk_reply *r)
{
    memset(r, 0, sizeof(*r));
}

void tk_reply_free(tk_reply *r)
{
    if (r == NULL)
        return;
    cf_envelope_free(&r->env);
    if (r->resp.body.data != NULL)
        secret_wipe(r->resp.body.data, r->resp.body.cap);
    http_response_free(&r->resp);
    memset(r, 0, sizeof(*r));
}

/* ---------------------------------------------------------------------------------------------
 * Calls
 * ------------------------------------------------------------------------------------------- */

/* Keeps the sent rule's record of a state-changing request. */
static void note_change(cf_inst *inst, const tk_req *q, int32_t rc, const rotp_error *err)
{
    int change = CF_CHANGE_NONE;

    if (rc == ROTP_E_OK)
        change = CF_CHANGE_APPLIED;
    else if (rc == ROTP_E_OUTCOME_UNKNOWN || cf_answer_lost(err))
        change = CF_CHANGE_MAYBE;
    if (change != CF_CHANGE_NONE)
        cf_inst_change_note(inst, change, q->what, q->recovery);
}

/* The permission group(s) a failed call needed, quoted. */
static void needed(const tk_req *q, char *buf, size_t cap)
{
    const tk_where *w = q->where;

    if (q->mode == TK_READ && w->read_perm != NULL)
        snprintf(buf, cap, "'%s' or '%s'", w->read_perm, w->write_perm);
    else
        snprintf(buf, cap, "'%s'", w->write_perm);
}

/* A change sent without a usable answer: what to do first, then why (the transport's or
 * cf_call()'s reason, without its repeated `what: ` prefix). */
static void outcome_unknown(const tk_req *q, rotp_error *err)
{
    char prev[ROTP_ERROR_MESSAGE_MAX];
    size_t wl = strlen(q->what);
    const char *why = prev;

    memcpy(prev, err->message, sizeof(prev));
    prev[sizeof(prev) - 1] = '\0';
    if (strncmp(prev, q->what, wl) == 0 && strncmp(prev + wl, ": ", 2) == 0)
        why = prev + wl + 2;
    rerr_set(err, ROTP_E_OUTCOME_UNKNOWN,
             "%s: the request was sent and no usable answer came%s%s (%s)", q->what,
             q->recovery != NULL ? "; " : "", q->recovery != NULL ? q->recovery : "", why);
}

/* Rewrites the message of a failed call so that it says what to do; cf_call() set the HTTP
 * fields and flags. */
static void explain(const tk_req *q, int32_t rc, const tk_reply *r, rotp_error *err)
{
    const char *cfmsg = r->env.error_message;
    int cfcode = (int)r->env.error_code;
    long st = r->resp.status;
    bool mgmt = q->subject == NULL;
    char need[160];

    switch (rc) {
    case ROTP_E_PERMISSION_DENIED:
        needed(q, need, sizeof(need));
        if (mgmt)
            rerr_set(err, rc,
                     "%s: permission denied (HTTP %ld, code %d: %s): the management token needs "
                     "%s on %s",
                     q->what, st, cfcode, cfmsg, need, q->where->place);
        else
            rerr_set(err, rc, "%s: the secret was refused (HTTP %ld, code %d: %s)", q->what, st,
                     cfcode, cfmsg);
        break;
    case ROTP_E_NOT_FOUND:
        if (q->object != NULL)
            rerr_set(err, rc,
                     "%s: %s not found in %s (HTTP %ld, code %d): check the id and the "
                     "kind",
                     q->what, q->object, q->where->place, st, cfcode);
        break;
    case ROTP_E_CREDENTIAL_INVALID:
        if (mgmt)
            rerr_set(err, rc,
                     "%s: the management token (config api_token) was rejected (HTTP %ld, code "
                     "%d: %s): escalate and replace it; retrying will not help",
                     q->what, st, cfcode, cfmsg);
        break;
    case ROTP_E_RATE_LIMITED:
        if (st == 0)
            break; /* not sent: the pacer's message says why (max_wait_seconds, host) */
        rerr_set(err, rc,
                 "%s: rate limited by Cloudflare (HTTP %ld, code %d): wait %llu ms and "
                 "retry",
                 q->what, st, cfcode, (unsigned long long)r->resp.retry_after_ms);
        break;
    case ROTP_E_OUTCOME_UNKNOWN:
        outcome_unknown(q, err);
        break;
    default:
        break;
    }
}

tk_req tk_req_make(const tk_where *where, const char *method, const char *path, int mode,
                   const char *what)
{
    tk_req q;

    memset(&q, 0, sizeof(q));
    q.method = method;
    q.path = path;
    q.mode = mode;
    q.what = what;
    q.where = where;
    return q;
}

int32_t tk_call(cf_inst *inst, const tk_req *q, tk_reply *r, rotp_error *err)
{
    cf_call_opts o;
    int32_t rc;

    tk_reply_free(r);
    memset(&o, 0, sizeof(o));
    o.method = q->method;
    o.path = q->path;
    o.body = q->body;
    o.body_len = q->body_len;
    o.bearer = q->subject != NULL ? q->subject : cf_inst_mgmt(inst);
    o.auth = q->subject != NULL ? CF_AUTH_SUBJECT : CF_AUTH_MANAGEMENT;
    o.idempotent = q->mode != TK_CHANGE;
    o.what = q->what;
    cf_log(inst, ROTP_LOG_DEBUG, "%s: %s %.*s", q->what, q->method, (int)strcspn(q->path, "?"),
           q->path);
    rc = cf_call(cf_inst_http(inst), &o, &r->resp, &r->env, err);
    if (q->mode != TK_READ)
        note_change(inst, q, rc, err);
    if (rc == ROTP_E_OK)
        return rc;
    explain(q, rc, r, err);
    /* a subject value that Cloudflare refuses is an answer, logged by the caller */
    if (q->subject == NULL || rc != ROTP_E_CREDENTIAL_INVALID)
        cf_log(inst, ROTP_LOG_DEBUG, "%s: failed: %s (HTTP %ld)", q->what, rerr_name(rc),
               r->resp.status);
    return rc;
}

int32_t tk_settle_lost(cf_inst *inst, int32_t rc, const char *path, const char *what,
                       const tk_where *where, bool *gone, rotp_error *err)
{
    char look[200];
    rotp_error e;
    tk_reply r;
    tk_req q;
    int32_t lrc;

    *gone = false;
    if (rc == ROTP_E_OK || !cf_answer_lost(err))
        return rc;
    snprintf(look, sizeof(look), "%s: answer lost; look whether it took effect", what);
    q = tk_req_make(where, "GET", path, TK_READ, look);
    rerr_init(&e);
    tk_reply_init(&r);
    lrc = tk_call(inst, &q, &r, &e);
    tk_reply_free(&r);
    if (lrc == ROTP_E_NOT_FOUND) {
        *gone = true;
        rerr_clear(err);
        cf_log(inst, ROTP_LOG_INFO, "%s: the answer was lost, and it is gone now", what);
        return ROTP_E_OK;
    }
    if (lrc == ROTP_E_OK) {
        /* not proof that the change did not happen: the request may still be on its way (a
         * server that is slow to apply it), so the sent rule makes this OUTCOME_UNKNOWN */
        cf_log(inst, ROTP_LOG_INFO, "%s: the answer was lost, and it is still there for now",
               what);
        return rc;
    }
    rerr_http(err, e.http_status, e.api_code, 0, 0);
    return rerr_set(err, lrc, "%s: the answer was lost, and looking failed too: %s", what,
                    e.message);
}

/* ---------------------------------------------------------------------------------------------
 * Lists
 * ------------------------------------------------------------------------------------------- */

int32_t tk_query_add(char *buf, size_t cap, const char *key, const char *value, rotp_error *err)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(buf);
    int w = snprintf(buf + n, cap - n, "&%s=", key);

    if (w < 0 || (size_t)w >= cap - n)
        goto out_too_long;
    n += (size_t)w;
    for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~';
        if (n + (plain ? 1 : 3) >= cap)
            goto out_too_long;
        if (plain) {
            buf[n++] = (char)*p;
        } else {
            buf[n++] = '%';
            buf[n++] = hex[*p >> 4];
            buf[n++] = hex[*p & 15];
        }
    }
    buf[n] = '\0';
    return ROTP_E_OK;
out_too_long:
    buf[cap - 1] = '\0';
    return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: too long for a URL", key);
}

/* Whether another page follows page `page` that held n items. */
static bool more_pages(const tk_pages *pg, const cf_envelope *env, int page, int n)
{
    int64_t per = env->per_page > 0 ? env->per_page : pg->per_page;

    if (pg->per_page <= 0 || n <= 0)
        return false;
    if (env->has_result_info && env->total_pages >= 0)
        return page < env->total_pages;
    if (env->has_result_info && env->total_count >= 0)
        return (int64_t)page * per < env->total_count;
    return n >= pg->per_page;
}

/* Calls fn for each element of the array at arr. */
static int32_t visit_page(const json_doc *d, int arr, int *n, tk_item_fn fn, void *ctx,
                          rotp_error *err)
{
    int32_t rc = ROTP_E_OK;
    int t = arr + 1;

    *n = d->toks[arr].size;
    for (int i = 0; i < *n && rc == ROTP_E_OK; i++) {
        rc = fn(d, t, ctx, err);
        t = json_skip(d, t);
    }
    return rc;
}

int32_t tk_walk(cf_inst *inst, const tk_pages *pg, tk_item_fn fn, void *ctx, rotp_error *err)
{
    char path[HTTP_MAX_URL];
    char what[200];
    tk_reply r;
    tk_req q;
    int32_t rc = ROTP_E_OK;
    int page, n = 0;

    tk_reply_init(&r);
    q = tk_req_make(pg->where, "GET", path, TK_READ, what);
    for (page = 1; rc == ROTP_E_OK; page++) {
        if (pg->per_page > 0 && page > pg->max_pages) {
            cf_log(inst, ROTP_LOG_WARN, "%s: stopped after %d pages", pg->what, pg->max_pages);
            break;
        }
        if (pg->per_page > 0)
            snprintf(path, sizeof(path), "%s?page=%d&per_page=%d%s", pg->path, page, pg->per_page,
                     pg->query != NULL ? pg->query : "");
        else
            snprintf(path, sizeof(path), "%s", pg->path);
        snprintf(what, sizeof(what), "%s (page %d)", pg->what, page);
        rc = tk_call(inst, &q, &r, err);
        if (rc != ROTP_E_OK)
            break;
        if (!json_is_array(&r.env.doc, r.env.result)) {
            rc = rerr_set(err, ROTP_E_PROTOCOL, "%s: the answer's result is not a list", what);
            break;
        }
        rc = visit_page(&r.env.doc, r.env.result, &n, fn, ctx, err);
        if (rc == ROTP_E_OK && !more_pages(pg, &r.env, page, n))
            break;
    }
    tk_reply_free(&r);
    return rc == TK_STOP ? ROTP_E_OK : rc;
}

/* ---------------------------------------------------------------------------------------------
 * Probes
 * ------------------------------------------------------------------------------------------- */

/* Evidence from a probe's status, or an error for an answer that is none. */
static int32_t probe_answer(const tk_probe *pb, const http_response *resp, uint32_t *meaning,
                            rotp_error *err)
{
    long st = resp->status;

    if (st >= 200 && st <= 299)
        *meaning = ROTP_STATE_ACCEPTED;
    else if (st == 401)
        *meaning = ROTP_STATE_REJECTED;
    else if (st == 403)
        *meaning = ROTP_STATE_REFUSED;
    else if (st == 429) {
        rerr_http(err, (int32_t)st, 0, 1, resp->retry_after_ms);
        return rerr_set(err, ROTP_E_RATE_LIMITED,
                        "%s: the probe was rate limited (HTTP 429): no answer; wait %llu ms and "
                        "verify again",
                        pb->what, (unsigned long long)resp->retry_after_ms);
    } else if (st == 408 || (st >= 500 && st <= 599)) {
        rerr_http(err, (int32_t)st, 0, 1, resp->retry_after_ms);
        return rerr_set(err, ROTP_E_TRANSIENT,
                        "%s: the probe answered HTTP %ld, which says nothing about the secret: "
                        "verify again later",
                        pb->what, st);
    } else {
        rerr_http(err, (int32_t)st, 0, 0, 0);
        return rerr_set(err, ROTP_E_PROTOCOL,
                        "%s: the probe answered HTTP %ld, neither an admission (2xx) nor a "
                        "rejection (401, 403): check the probe's URL or path (a redirect usually "
                        "means a login page)",
                        pb->what, st);
    }
    return ROTP_E_OK;
}

int32_t tk_probe_run(cf_inst *inst, const tk_probe *pb, uint32_t *meaning, long *status,
                     rotp_error *err)
{
    const char *target = pb->url != NULL ? pb->url : pb->path;
    int shown = (int)strcspn(target, "?#"); /* a query may carry anything: never logged */
    http_request hr;
    http_response resp;
    int32_t rc;

    memset(&hr, 0, sizeof(hr));
    hr.method = "GET";
    hr.url = pb->url;
    hr.path = pb->url != NULL ? NULL : pb->path;
    hr.bearer = pb->bearer;
    hr.credential = "the token being verified";
    hr.headers = pb->headers;
    hr.nheaders = pb->nheaders;
    hr.idempotent = true;
    *status = 0;
    cf_log(inst, ROTP_LOG_DEBUG, "%s: probe GET %.*s", pb->what, shown, target);
    rc = http_do(cf_inst_http(inst), &hr, &resp, err);
    *status = resp.status;
    if (rc != ROTP_E_OK) {
        char prev[ROTP_ERROR_MESSAGE_MAX];

        memcpy(prev, err->message, sizeof(prev));
        prev[sizeof(prev) - 1] = '\0';
        rerr_set(err, rc, "%s: probe failed, no answer: %s", pb->what, prev);
    } else {
        rc = probe_answer(pb, &resp, meaning, err);
        cf_log(inst, ROTP_LOG_INFO, "%s: probe GET %.*s answered HTTP %ld", pb->what, shown, target,
               resp.status);
    }
    if (resp.body.data != NULL)
        secret_wipe(resp.body.data, resp.body.cap);
    http_response_free(&resp);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------------------------- */

void tk_add_member(result_builder *rb, const json_doc *d, int obj, const char *key)
{
    int t = json_get(d, obj, key);
    char *s = NULL;

    if (t < 0 || !json_is_string(d, t))
        return;
    if (json_strdup(d, t, &s) == JSON_ENOMEM) {
        rb->failed = true;
        return;
    }
    rb_adds(rb, key, s);
    rotp__free(s);
}

int32_t tk_member(const json_doc *d, int obj, const char *key, char *buf, size_t cap)
{
    int t = json_get(d, obj, key);

    buf[0] = '\0';
    if (t < 0 || json_is_null(d, t))
        return ROTP_E_OK;
    if (!json_is_string(d, t) || json_strcpy(d, t, buf, cap) != JSON_OK)
        return ROTP_E_PROTOCOL;
    return ROTP_E_OK;
}

void tk_ops_text(uint32_t ops, char *buf, size_t cap)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {
        {ROTP_OP_DESCRIBE, "describe"},   {ROTP_OP_ROLL, "roll"},
        {ROTP_OP_VERIFY, "verify"},       {ROTP_OP_REVOKE, "revoke"},
        {ROTP_OP_PROVISION, "provision"}, {ROTP_OP_LIST, "list"},
    };
    size_t n = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && n < cap; i++) {
        if (ops & names[i].bit)
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n > 0 ? "," : "", names[i].name);
    }
}

int64_t tk_days_until(int64_t now, int64_t ts)
{
    int64_t d = ts - now;

    return d >= 0 ? d / 86400 : -((-d + 86399) / 86400);
}
