/* server.c - cfemu's HTTP(S) front: libmicrohttpd in thread-per-connection mode, request
 * parsing, authentication, rate limiting, fault injection, the request log, dispatch. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "alloc.h"
#include "cfemu.h"
#include "ids.h"
#include "timefmt.h"

/* --- context accessors ---------------------------------------------------------------------- */

cfemu_state *cfemu_st(cfemu_ctx *ctx)
{
    return &ctx->st;
}

int64_t cfemu_now(cfemu_ctx *ctx)
{
    return (int64_t)time(NULL) + ctx->clock_offset;
}

/* --- request helpers ------------------------------------------------------------------------ */

const char *req_query(const request *req, const char *key)
{
    for (size_t i = 0; i < req->nquery; i++) {
        if (strcmp(req->query[i].key, key) == 0)
            return req->query[i].value != NULL ? req->query[i].value : "";
    }
    return NULL;
}

const char *req_header(const request *req, const char *name)
{
    if (req->conn == NULL)
        return NULL;
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

bool req_seg_is(const request *req, size_t i, const char *s)
{
    return i < req->nseg && strcmp(req->seg[i], s) == 0;
}

int req_json(const request *req, response *resp, json_doc *doc, bool allow_empty)
{
    int rc;

    memset(doc, 0, sizeof(*doc));
    if (req->body == NULL || req->body_len == 0) {
        if (allow_empty)
            return 1;
        resp_error(resp, 400, 6007, "Malformed JSON in request body");
        return -1;
    }
    if (req->body_too_large) {
        resp_error(resp, 413, 6007, "Request body too large");
        return -1;
    }
    rc = json_parse(doc, req->body, req->body_len);
    if (rc != JSON_OK) {
        resp_error(resp, 400, 6007, "Malformed JSON in request body");
        return -1;
    }
    if (!json_is_object(doc, 0)) {
        json_free(doc);
        resp_error(resp, 400, 6007, "Malformed JSON in request body: an object is required");
        return -1;
    }
    return 0;
}

/* --- response helpers ----------------------------------------------------------------------- */

static int resp_reset(response *resp, int status, const char *ctype)
{
    resp->status = status;
    dynbuf_reset(&resp->body);
    snprintf(resp->content_type, sizeof(resp->content_type), "%s", ctype);
    return 0;
}

int resp_ok_full(response *resp, int status, const char *result_json, const char *result_info_json,
                 const char *messages_json)
{
    int rc;

    resp_reset(resp, status, "application/json");
    rc = dynbuf_printf(&resp->body, "{\"success\":true,\"errors\":[],\"messages\":%s,\"result\":",
                       messages_json != NULL ? messages_json : "[]");
    if (rc == 0)
        rc = dynbuf_adds(&resp->body, result_json != NULL ? result_json : "null");
    if (rc == 0 && result_info_json != NULL)
        rc = dynbuf_printf(&resp->body, ",\"result_info\":%s", result_info_json);
    if (rc == 0)
        rc = dynbuf_adds(&resp->body, "}");
    if (rc != 0) {
        resp->status = 0;
        return -1;
    }
    return 0;
}

int resp_ok(response *resp, int status, const char *result_json)
{
    return resp_ok_full(resp, status, result_json, NULL, NULL);
}

int resp_ok_list(response *resp, const char *items_json, long page, long per_page, long count,
                 long total_count)
{
    char info[200];
    long pages = per_page > 0 ? (total_count + per_page - 1) / per_page : 0;

    snprintf(info, sizeof(info),
             "{\"page\":%ld,\"per_page\":%ld,\"count\":%ld,\"total_count\":%ld,"
             "\"total_pages\":%ld}",
             page, per_page, count, total_count, pages);
    return resp_ok_full(resp, 200, items_json, info, NULL);
}

/* The failure envelope; extra is appended inside errors[0] (already JSON, starting with ','). */
static int resp_error_extra(response *resp, int status, int code, const char *message,
                            const char *extra)
{
    int rc;

    resp_reset(resp, status, "application/json");
    rc = dynbuf_printf(&resp->body,
                       "{\"success\":false,\"errors\":[{\"code\":%d,\"message\":", code);
    if (rc == 0)
        rc = dynbuf_json_cstr(&resp->body, message);
    if (rc == 0 && extra != NULL)
        rc = dynbuf_adds(&resp->body, extra);
    if (rc == 0)
        rc = dynbuf_adds(&resp->body, "}],\"messages\":[],\"result\":null}");
    if (rc != 0) {
        resp->status = 0;
        return -1;
    }
    return 0;
}

int resp_error(response *resp, int status, int code, const char *message)
{
    return resp_error_extra(resp, status, code, message, NULL);
}

int resp_error_chain(response *resp, int status, int code, const char *message, int chain_code,
                     const char *chain_message)
{
    dynbuf x;
    int rc;

    dynbuf_init(&x, 4096);
    rc = dynbuf_printf(&x, ",\"error_chain\":[{\"code\":%d,\"message\":", chain_code);
    if (rc == 0)
        rc = dynbuf_json_cstr(&x, chain_message);
    if (rc == 0)
        rc = dynbuf_adds(&x, "}]");
    if (rc == 0)
        rc = resp_error_extra(resp, status, code, message, x.data);
    dynbuf_free(&x);
    return rc;
}

int resp_error_doc(response *resp, int status, int code, const char *message,
                   const char *documentation_url)
{
    dynbuf x;
    int rc;

    dynbuf_init(&x, 4096);
    rc = dynbuf_adds(&x, ",\"documentation_url\":");
    if (rc == 0)
        rc = dynbuf_json_cstr(&x, documentation_url);
    if (rc == 0)
        rc = resp_error_extra(resp, status, code, message, x.data);
    dynbuf_free(&x);
    return rc;
}

int resp_text(response *resp, int status, const char *content_type, const char *text)
{
    resp_reset(resp, status, content_type);
    if (dynbuf_adds(&resp->body, text) != 0) {
        resp->status = 0;
        return -1;
    }
    return 0;
}

int resp_bad_id(response *resp, const request *req)
{
    char msg[600];

    snprintf(msg, sizeof(msg),
             "Could not route to %.500s, perhaps your object identifier is invalid?", req->path);
    return resp_error(resp, 404, 7003, msg);
}

int resp_not_found(response *resp, int code, const char *message)
{
    return resp_error(resp, 404, code, message);
}

/* --- authentication (before dispatch) ------------------------------------------------------- */

static void authenticate(cfemu_ctx *ctx, request *req)
{
    const char *v;
    size_t len;
    int64_t now = cfemu_now(ctx);
    cf_token *t;

    req->caller = NULL;
    if (req->authorization == NULL) {
        req->auth = CF_AUTH_MISSING;
        return;
    }
    v = req->authorization->data;
    len = req->authorization->len;
    if (len < 7 || strncasecmp(v, "Bearer ", 7) != 0) {
        req->auth = CF_AUTH_MALFORMED;
        return;
    }
    v += 7;
    len -= 7;
    /* Cloudflare answers 6003/6111 for "abc-def" and a 37-character Global API key sent as
     * Bearer (API-NOTES section 5): a token value is 40 to 80 characters (iam_value). */
    if (!secret_shape_ok(v, len) || len < 40 || len > 80) {
        req->auth = CF_AUTH_MALFORMED;
        return;
    }
    t = state_token_by_value(&ctx->st, v, len);
    if (t == NULL) {
        req->auth = CF_AUTH_UNKNOWN;
        return;
    }
    req->caller = t;
    if ((t->status != NULL && strcmp(t->status, "active") != 0) ||
        (t->expires_on != CF_TIME_NONE && now >= t->expires_on) ||
        (t->not_before != CF_TIME_NONE && now < t->not_before)) {
        req->auth = CF_AUTH_INACTIVE;
        return;
    }
    req->auth = CF_AUTH_OK;
}

/* --- per-connection state ------------------------------------------------------------------- */

typedef struct conn_state {
    dynbuf body;
    bool too_large;
} conn_state;

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    conn_state *cs = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (cs == NULL)
        return;
    dynbuf_free_wipe(&cs->body);
    rotp__free(cs);
    *con_cls = NULL;
}

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    request *req = cls;
    cf_query_param *n;

    (void)kind;
    if (req->nquery >= 64)
        return MHD_YES;
    n = rotp__realloc(req->query, (req->nquery + 1) * sizeof(*n));
    if (n == NULL)
        return MHD_NO;
    req->query = n;
    n[req->nquery].key = rotp__strdup(key != NULL ? key : "");
    n[req->nquery].value = value != NULL ? rotp__strdup(value) : NULL;
    req->nquery++;
    return MHD_YES;
}

static void request_free(request *req)
{
    for (size_t i = 0; i < req->nseg; i++)
        rotp__free(req->seg[i]);
    for (size_t i = 0; i < req->nquery; i++) {
        rotp__free(req->query[i].key);
        rotp__free(req->query[i].value);
    }
    rotp__free(req->query);
    rotp__free(req->path);
    secret_free(req->authorization);
    rotp__free(req->cf_access_client_id);
    secret_free(req->cf_access_client_secret);
    rotp__free(req->content_type);
}

/* Fills req from the connection. 0, or -1 on allocation failure. */
static int request_build(request *req, struct MHD_Connection *conn, const char *url,
                         const char *method, conn_state *cs)
{
    const char *h;
    const char *p;

    memset(req, 0, sizeof(*req));
    req->method = method;
    req->conn = conn;
    req->path = rotp__strdup(url);
    if (req->path == NULL)
        return -1;
    p = req->path;
    if (strncmp(p, CFEMU_API_PREFIX "/", strlen(CFEMU_API_PREFIX) + 1) == 0)
        p += strlen(CFEMU_API_PREFIX) + 1;
    else if (*p == '/')
        p++;
    while (*p != 0 && req->nseg < CFEMU_MAX_SEGS) {
        const char *e = strchr(p, '/');
        size_t n = e != NULL ? (size_t)(e - p) : strlen(p);

        req->seg[req->nseg] = rotp__strndup(p, n);
        if (req->seg[req->nseg] == NULL)
            return -1;
        req->nseg++;
        p += n;
        if (*p == '/')
            p++;
    }
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, req);
    h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (h != NULL && (req->authorization = secret_new(h, strlen(h))) == NULL)
        return -1;
    h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "CF-Access-Client-Id");
    if (h != NULL && (req->cf_access_client_id = rotp__strdup(h)) == NULL)
        return -1;
    h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "CF-Access-Client-Secret");
    if (h != NULL && (req->cf_access_client_secret = secret_new(h, strlen(h))) == NULL)
        return -1;
    h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    if (h != NULL && (req->content_type = rotp__strdup(h)) == NULL)
        return -1;
    req->body = cs->body.data;
    req->body_len = cs->body.len;
    req->body_too_large = cs->too_large;
    return 0;
}

/* --- faults --------------------------------------------------------------------------------- */

/* Finds the first queued fault matching the request, consumes one use (dropping it at zero),
 * and copies it into *out. true if one matched. Called with ctx->lock held. */
static bool fault_take(cfemu_ctx *ctx, const request *req, cfemu_fault *out)
{
    for (size_t i = 0; i < ctx->faults.len; i++) {
        cfemu_fault *f = ctx->faults.items[i];

        if (strcmp(f->method, "*") != 0 && strcasecmp(f->method, req->method) != 0)
            continue;
        if (fnmatch(f->path, req->path, 0) != 0)
            continue;
        *out = *f;
        out->method = out->path = out->message = NULL;
        if (f->message != NULL)
            out->message = rotp__strdup(f->message);
        f->hits++;
        if (--f->remaining <= 0)
            cfemu_fault_free(cf_vec_remove(&ctx->faults, i));
        return true;
    }
    return false;
}

/* --- rate limiting -------------------------------------------------------------------------- */

typedef struct rl_result {
    bool limited;
    long remaining;
    long reset_in;
} rl_result;

/* One request against the bucket of key. Called with ctx->lock held. On allocation failure
 * the request is let through. */
static rl_result rate_limit(cfemu_ctx *ctx, const char *key)
{
    int64_t now = cfemu_now(ctx);
    cfemu_rl_bucket *b = NULL;
    rl_result r = {false, ctx->opt.rl_limit, ctx->opt.rl_window};

    for (size_t i = 0; i < ctx->buckets.len; i++) {
        cfemu_rl_bucket *c = ctx->buckets.items[i];

        if (strcmp(c->key, key) == 0) {
            b = c;
            break;
        }
    }
    if (b == NULL) {
        b = rotp__calloc(1, sizeof(*b));
        if (b == NULL)
            return r;
        snprintf(b->key, sizeof(b->key), "%s", key);
        b->window_start = now;
        if (cf_vec_push(&ctx->buckets, b) != 0) {
            rotp__free(b);
            return r;
        }
    }
    if (now >= b->window_start + ctx->opt.rl_window || now < b->window_start) {
        b->window_start = now;
        b->count = 0;
    }
    r.reset_in = (long)(b->window_start + ctx->opt.rl_window - now);
    if (r.reset_in < 1)
        r.reset_in = 1;
    if (b->count >= ctx->opt.rl_limit) {
        r.limited = true;
        r.remaining = 0;
        return r;
    }
    b->count++;
    r.remaining = ctx->opt.rl_limit - b->count;
    return r;
}

#define CFEMU_LOG_MAX 100000 /* entries kept in memory */

/* --- the request log ------------------------------------------------------------------------ */

/* Records one request (never a secret: the path has no query string, the token by id).
 * Called with ctx->lock held. */
static void log_request(cfemu_ctx *ctx, const request *req, int status, const char *token_id,
                        const char *fault)
{
    cfemu_log_entry *e = rotp__calloc(1, sizeof(*e));
    char ts[RFC3339_LEN];

    if (e == NULL)
        return;
    /* A long demo run must not grow without bound: the oldest entries go first. */
    if (ctx->log.len >= CFEMU_LOG_MAX)
        cfemu_log_entry_free(cf_vec_remove(&ctx->log, 0));
    e->seq = ++ctx->log_seq;
    e->at = cfemu_now(ctx);
    snprintf(e->method, sizeof(e->method), "%s", req->method);
    e->path = rotp__strdup(req->path);
    e->status = status;
    snprintf(e->token_id, sizeof(e->token_id), "%s", token_id != NULL ? token_id : "");
    e->fault = fault;
    if (e->path == NULL || cf_vec_push(&ctx->log, e) != 0) {
        cfemu_log_entry_free(e);
        return;
    }
    if (ctx->log_fp != NULL) {
        rfc3339_format(e->at, ts, sizeof(ts));
        fprintf(ctx->log_fp, "%s %s %s %d %s%s%s\n", ts, e->method, e->path, status,
                e->token_id[0] != 0 ? e->token_id : "-", fault != NULL ? " fault=" : "",
                fault != NULL ? fault : "");
        fflush(ctx->log_fp);
    }
}

/* --- sending -------------------------------------------------------------------------------- */

static void wipe_free_body(void *p)
{
    if (p != NULL) {
        secret_wipe(p, strlen(p));
        rotp__free(p);
    }
}

typedef struct trunc_body {
    char *data;
    size_t len; /* what is actually sent */
} trunc_body;

static ssize_t trunc_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    trunc_body *t = cls;
    size_t n;

    if (pos >= t->len)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    n = t->len - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(buf, t->data + pos, n);
    return (ssize_t)n;
}

static void trunc_free(void *cls)
{
    trunc_body *t = cls;

    wipe_free_body(t->data);
    rotp__free(t);
}

/* Queues resp on conn; headers extra[] are name/value pairs, NULL-terminated. */
static enum MHD_Result send_response(struct MHD_Connection *conn, response *resp, bool truncate,
                                     const char *const *extra)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    size_t len = resp->body.len;
    char *data = dynbuf_take(&resp->body);

    if (data == NULL)
        return MHD_NO;
    if (truncate) {
        trunc_body *t = rotp__calloc(1, sizeof(*t));

        if (t == NULL) {
            wipe_free_body(data);
            return MHD_NO;
        }
        t->data = data;
        t->len = len / 2;
        r = MHD_create_response_from_callback(len, 4096, trunc_reader, t, trunc_free);
        if (r == NULL)
            trunc_free(t);
    } else {
        r = MHD_create_response_from_buffer_with_free_callback(len, data, wipe_free_body);
        if (r == NULL)
            wipe_free_body(data);
    }
    if (r == NULL)
        return MHD_NO;
    if (resp->content_type[0] != 0)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    if (resp->retry_after >= 0) {
        char ra[32];

        snprintf(ra, sizeof(ra), "%ld", resp->retry_after);
        MHD_add_response_header(r, "Retry-After", ra);
    }
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i += 2)
        MHD_add_response_header(r, extra[i], extra[i + 1]);
    ret = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* --- dispatch ------------------------------------------------------------------------------- */

static bool path_has_prefix(const char *path, const char *prefix)
{
    return strncmp(path, prefix, strlen(prefix)) == 0;
}

static bool is_api_path(const char *path)
{
    return strcmp(path, CFEMU_API_PREFIX) == 0 || path_has_prefix(path, CFEMU_API_PREFIX "/");
}

static void no_route(cfemu_ctx *ctx, response *resp)
{
    ctx->unknown_routes++;
    resp_error(resp, 400, 7000, "No route for that URI");
}

static void apply_body_fault(const cfemu_fault *f, response *resp)
{
    switch (f->kind) {
    case FAULT_MALFORMED_JSON:
        /* Half the body (at least one byte short of any complete value) is never valid JSON. */
        if (resp->body.len > 1)
            resp->body.len = resp->body.len / 2;
        else
            dynbuf_adds(&resp->body, "{");
        resp->body.data[resp->body.len] = 0;
        if (resp->body.len > 0 && resp->body.data[resp->body.len - 1] == '}')
            resp->body.data[resp->body.len - 1] = ',';
        break;
    case FAULT_OVERSIZE: {
        long want = f->size > 0 ? f->size : 2L * 1024 * 1024;

        resp->body.max = (size_t)want + 2 * resp->body.len + 64;
        while ((long)resp->body.len <= want) {
            if (dynbuf_adds(&resp->body, "                                                "
                                         "                ") != 0)
                break;
        }
        break;
    }
    case FAULT_WRONG_CONTENT_TYPE:
        snprintf(resp->content_type, sizeof(resp->content_type), "text/html; charset=utf-8");
        break;
    default:
        break;
    }
}

/* Sleeps ms milliseconds in short steps, so a shutdown does not wait for a long delay fault. */
static void delay_ms(cfemu_ctx *ctx, long ms)
{
    while (ms > 0 && !atomic_load(&ctx->stopping)) {
        long step = ms < 50 ? ms : 50;
        struct timespec ts = {0, step * 1000000L};

        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        ms -= step;
    }
}

static enum MHD_Result handle(cfemu_ctx *ctx, struct MHD_Connection *conn, const char *url,
                              const char *method, conn_state *cs)
{
    request req;
    response resp;
    cfemu_fault fault;
    bool has_fault = false;
    bool api;
    char token_id[CF_HEX32_LEN + 1] = "";
    char rl_hdr[96] = "", rl_policy[96] = "";
    const char *extra[8];
    size_t nextra = 0;
    enum MHD_Result ret = MHD_NO;

    memset(&resp, 0, sizeof(resp));
    memset(&fault, 0, sizeof(fault));
    dynbuf_init(&resp.body, 64u * 1024u * 1024u);
    resp.retry_after = -1;
    if (request_build(&req, conn, url, method, cs) != 0) {
        request_free(&req);
        resp_error(&resp, 500, 10001, "cfemu: out of memory");
        ret = send_response(conn, &resp, false, NULL);
        dynbuf_free_wipe(&resp.body);
        return ret;
    }

    if (path_has_prefix(req.path, "/__cfemu/") || strcmp(req.path, "/__cfemu") == 0) {
        pthread_mutex_lock(&ctx->lock);
        if (control_route(ctx, &req, &resp) != ROUTE_DONE)
            resp_error(&resp, 404, 7000, "No such control endpoint");
        pthread_mutex_unlock(&ctx->lock);
        goto out_send;
    }

    api = is_api_path(req.path);
    pthread_mutex_lock(&ctx->lock);
    ctx->requests++;
    has_fault = fault_take(ctx, &req, &fault);
    pthread_mutex_unlock(&ctx->lock);

    if (has_fault && fault.kind == FAULT_DELAY)
        delay_ms(ctx, fault.delay_ms);

    pthread_mutex_lock(&ctx->lock);
    if (api) {
        authenticate(ctx, &req);
        if (req.auth == CF_AUTH_OK)
            snprintf(token_id, sizeof(token_id), "%s", req.caller->id);
    }
    if (has_fault && fault.kind == FAULT_RESET_BEFORE) {
        log_request(ctx, &req, 0, token_id, "reset_before");
        pthread_mutex_unlock(&ctx->lock);
        ret = MHD_NO;
        goto out_free;
    }
    if (api) {
        rl_result rl = rate_limit(ctx, token_id[0] != 0 ? token_id : "anonymous");

        snprintf(rl_hdr, sizeof(rl_hdr), "\"default\";r=%ld;t=%ld", rl.remaining, rl.reset_in);
        snprintf(rl_policy, sizeof(rl_policy), "\"default\";q=%ld;w=%ld", ctx->opt.rl_limit,
                 ctx->opt.rl_window);
        if (rl.limited) {
            resp_error(&resp, 429, 971, "Please wait and consider throttling your request speed");
            resp.retry_after = rl.reset_in;
            goto out_log;
        }
    }
    if (has_fault && fault.kind == FAULT_STATUS) {
        resp_error(&resp, fault.status > 0 ? fault.status : 500,
                   fault.code > 0 ? fault.code : 10001,
                   fault.message != NULL ? fault.message : "Internal server error (cfemu fault)");
        goto out_log;
    }
    if (has_fault && fault.kind == FAULT_RATE_LIMIT) {
        resp_error(&resp, 429, 971, "Please wait and consider throttling your request speed");
        resp.retry_after = fault.retry_after >= 0 ? fault.retry_after : 60;
        goto out_log;
    }

    if (api) {
        /* last_used_on moves on every authenticated call, before a handler may delete the
         * caller (a token deleting itself). */
        if (req.auth == CF_AUTH_OK)
            req.caller->last_used_on = cfemu_now(ctx);
        int r = tokens_route(ctx, &req, &resp);

        if (r == ROUTE_NOT_MINE)
            r = access_route(ctx, &req, &resp);
        if (r == ROUTE_NOT_MINE)
            no_route(ctx, &resp);
    } else if (path_has_prefix(req.path, CFEMU_PROBE_PREFIX)) {
        if (access_probe(ctx, &req, &resp) == ROUTE_NOT_MINE)
            resp_text(&resp, 404, "text/plain", "Not Found\n");
    } else {
        no_route(ctx, &resp);
    }
    if (resp.status == 0)
        resp_error(&resp, 500, 10001, "cfemu: internal error");

    if (has_fault && fault.kind == FAULT_RESET_AFTER) {
        log_request(ctx, &req, 0, token_id, "reset_after");
        pthread_mutex_unlock(&ctx->lock);
        ret = MHD_NO;
        goto out_free;
    }
    if (has_fault)
        apply_body_fault(&fault, &resp);

out_log:
    log_request(ctx, &req, resp.status, token_id,
                has_fault ? cfemu_fault_kind_name(fault.kind) : NULL);
    pthread_mutex_unlock(&ctx->lock);

out_send:
    if (rl_hdr[0] != 0) {
        extra[nextra++] = "Ratelimit";
        extra[nextra++] = rl_hdr;
        extra[nextra++] = "Ratelimit-Policy";
        extra[nextra++] = rl_policy;
    }
    extra[nextra] = NULL;
    ret = send_response(conn, &resp, has_fault && fault.kind == FAULT_TRUNCATE, extra);

out_free:
    rotp__free(fault.message);
    request_free(&req);
    dynbuf_free_wipe(&resp.body);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    cfemu_ctx *ctx = cls;
    conn_state *cs = *con_cls;

    (void)version;
    if (cs == NULL) {
        cs = rotp__calloc(1, sizeof(*cs));
        if (cs == NULL)
            return MHD_NO;
        dynbuf_init(&cs->body, CFEMU_MAX_BODY);
        *con_cls = cs;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!cs->too_large && dynbuf_add(&cs->body, upload_data, *upload_data_size) != 0)
            cs->too_large = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    return handle(ctx, conn, url, method, cs);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    fputs("cfemu: libmicrohttpd: ", stderr);
    vfprintf(stderr, fmt, ap);
}

/* --- the daemon ----------------------------------------------------------------------------- */

/* Writes the port to path through a temporary file and rename(), so readers never see half. */
static int write_port_file(const char *path, int port)
{
    char tmp[4096];
    FILE *f;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
        return -1;
    f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Writes text to path (0644) through a temporary file and rename(). */
static int write_text_file(const char *path, const char *text)
{
    char tmp[4096];
    FILE *f;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
        return -1;
    f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    fputs(text, f);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

int server_run(cfemu_ctx *ctx)
{
    tls_material tls = {NULL, NULL, NULL};
    struct MHD_Daemon *d = NULL;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    struct sockaddr *sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    const union MHD_DaemonInfo *info;
    sigset_t set;
    int sig = 0;
    int rc = -1;
    int port;

    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));
    if (strcmp(ctx->opt.listen_host, "::1") == 0) {
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons((uint16_t)ctx->opt.listen_port);
        sin6.sin6_addr = in6addr_loopback;
        sa = (struct sockaddr *)&sin6;
        flags |= MHD_USE_IPv6;
    } else {
        sin.sin_family = AF_INET;
        sin.sin_port = htons((uint16_t)ctx->opt.listen_port);
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa = (struct sockaddr *)&sin;
    }
    if (!ctx->opt.insecure_http) {
        if (tls_make(&tls) != 0)
            goto out;
        if (ctx->opt.ca_out != NULL && write_text_file(ctx->opt.ca_out, tls.ca_pem) != 0) {
            fprintf(stderr, "cfemu: cannot write the CA to %s: %s\n", ctx->opt.ca_out,
                    strerror(errno));
            goto out;
        }
        flags |= MHD_USE_TLS;
    }

    /* The signals are taken by sigwait() below; every thread MHD starts inherits the mask. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    if (ctx->opt.insecure_http) {
        d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, ctx, MHD_OPTION_EXTERNAL_LOGGER,
                             mhd_log, ctx, MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_NOTIFY_COMPLETED,
                             on_completed, ctx, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                             MHD_OPTION_END);
    } else {
        d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, ctx, MHD_OPTION_EXTERNAL_LOGGER,
                             mhd_log, ctx, MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_NOTIFY_COMPLETED,
                             on_completed, ctx, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                             MHD_OPTION_HTTPS_MEM_KEY, tls.key_pem, MHD_OPTION_HTTPS_MEM_CERT,
                             tls.cert_pem, MHD_OPTION_END);
    }
    if (d == NULL) {
        fprintf(stderr, "cfemu: cannot listen on %s:%d\n", ctx->opt.listen_host,
                ctx->opt.listen_port);
        goto out;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    port = info != NULL ? (int)info->port : ctx->opt.listen_port;
    if (ctx->opt.port_file != NULL && write_port_file(ctx->opt.port_file, port) != 0) {
        fprintf(stderr, "cfemu: cannot write the port file %s: %s\n", ctx->opt.port_file,
                strerror(errno));
        goto out;
    }
    fprintf(stderr, "cfemu: listening on %s://%s%s%s:%d\n",
            ctx->opt.insecure_http ? "http" : "https", sa->sa_family == AF_INET6 ? "[" : "",
            ctx->opt.listen_host, sa->sa_family == AF_INET6 ? "]" : "", port);
    while (sigwait(&set, &sig) != 0 || (sig != SIGINT && sig != SIGTERM))
        ;
    fprintf(stderr, "cfemu: signal %d, stopping\n", sig);
    rc = 0;
out:
    atomic_store(&ctx->stopping, 1);
    if (d != NULL)
        MHD_stop_daemon(d);
    tls_material_free(&tls);
    return rc;
}
