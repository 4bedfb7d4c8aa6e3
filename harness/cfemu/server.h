/* server.h - cfemu's HTTP layer: the parsed request, the response being built, the envelope and
 * authorization helpers every route handler uses, and the route entry points.
 *
 * Flow of one request (server.c): parse -> log/fault/rate-limit bookkeeping -> take ctx->lock ->
 * dispatch to a route family (control.c, tokens.c, access.c) -> release the lock -> send.
 * Handlers run with ctx->lock held, so they use ctx->st without further locking. A handler
 * fills the response with one of the resp_* helpers and returns ROUTE_DONE, or returns
 * ROUTE_NOT_MINE when the path is not one of its routes (the server then answers 400/7000
 * "No route for that URI" and counts it). A handler never sends anything itself. */
#ifndef CFEMU_SERVER_H
#define CFEMU_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dynbuf.h"
#include "json.h"
#include "secret.h"
#include "state.h"

#define ROUTE_NOT_MINE 0
#define ROUTE_DONE     1

#define CFEMU_API_PREFIX   "/client/v4"
#define CFEMU_CTL_PREFIX   "/__cfemu/"
#define CFEMU_PROBE_PREFIX "/cdn-cgi/access/probe/"

#define CFEMU_MAX_BODY (1024u * 1024u) /* request bodies over this are refused (413) */
#define CFEMU_MAX_SEGS 16              /* path segments after /client/v4 */

/* Where the request is headed: the route family decides the authentication failure codes. */
typedef enum cf_scope_kind {
    CF_SCOPE_USER = 0,    /* scope_id = user id; resource com.cloudflare.api.user.<id> */
    CF_SCOPE_ACCOUNT = 1, /* scope_id = account id; resource com.cloudflare.api.account.<id> */
    CF_SCOPE_ZONE = 2     /* scope_id = zone id; com.cloudflare.api.account.zone.<id>, or the
                           * zone's account resource (an account resource covers its zones) */
} cf_scope_kind;

/* The outcome of reading the Authorization header (done by the server before dispatch). */
typedef enum cf_auth_state {
    CF_AUTH_MISSING = 0, /* no Authorization header, or not "Bearer" */
    CF_AUTH_MALFORMED,   /* Bearer value outside [-A-Za-z0-9._~+/]+=* or with spaces */
    CF_AUTH_UNKNOWN,     /* well-formed, but no token has this value (unknown/rolled/deleted) */
    CF_AUTH_INACTIVE,    /* a token, but disabled, expired or before not_before */
    CF_AUTH_OK           /* req->caller is a live token */
} cf_auth_state;

typedef struct cf_query_param {
    char *key;
    char *value; /* NULL for a key without '=' */
} cf_query_param;

typedef struct request {
    const char *method; /* "GET", "POST", ... (borrowed from MHD; valid during the handler) */
    char *path;         /* the URL path, percent-decoded, without the query string */
    /* For /client/v4/... paths: the segments after the prefix (e.g. "accounts", "<id>",
     * "access", "service_tokens"); for other paths: all segments. Empty segments are kept. */
    char *seg[CFEMU_MAX_SEGS];
    size_t nseg;
    cf_query_param *query; /* in the order they came */
    size_t nquery;
    /* Copies of the headers cfemu reads (NULL when absent). The Authorization value and the
     * client secret are secrets: never logged, wiped when the request is freed. */
    secret_buf *authorization;           /* the whole header value */
    char *cf_access_client_id;           /* CF-Access-Client-Id */
    secret_buf *cf_access_client_secret; /* CF-Access-Client-Secret */
    char *content_type;
    char *body; /* NUL-terminated (the NUL is not counted); NULL when there was no body */
    size_t body_len;
    bool body_too_large; /* the body passed CFEMU_MAX_BODY; the rest was dropped */
    /* Authentication, decided by the server before dispatch. */
    cf_auth_state auth;
    cf_token *caller; /* the token the bearer names (CF_AUTH_OK or CF_AUTH_INACTIVE), else NULL */
    void *conn;       /* the MHD connection, for req_header() */
} request;

typedef struct response {
    int status;  /* HTTP status; 0 = not filled (the server answers 500) */
    dynbuf body; /* the body, JSON unless content_type says otherwise */
    char content_type[64];
    long retry_after; /* >= 0: send Retry-After (seconds); -1: none */
    bool drop;        /* close the connection without any response (set by the fault layer) */
} response;

/* The global context: the state, the clock, options. One per run. */
typedef struct cfemu_ctx cfemu_ctx;

/* --- request helpers ------------------------------------------------------------------------ */

/* The value of query parameter key ("" for a bare key), or NULL when absent. */
const char *req_query(const request *req, const char *key);
/* Any request header by name (case-insensitive), or NULL. Not for secrets: read
 * req->authorization / req->cf_access_client_secret instead. */
const char *req_header(const request *req, const char *name);
/* Parses the body as JSON into doc (borrowing req->body). Returns 0; on failure fills resp with
 * 400 code 6007 "Malformed JSON in request body" (no body, not JSON, not an object; 413 when
 * the body passed CFEMU_MAX_BODY) and returns -1. With allow_empty, an absent or empty body
 * returns 1 and leaves doc empty (ntoks 0): the handler treats it as "{}". */
int req_json(const request *req, response *resp, json_doc *doc, bool allow_empty);
/* true if segment i exists and equals s. */
bool req_seg_is(const request *req, size_t i, const char *s);

/* --- response helpers ----------------------------------------------------------------------- */
/* Each returns 0, or -1 on allocation failure (the server then answers 500). They replace any
 * body already built. */

/* {"success":true,"errors":[],"messages":[],"result":<result_json>} with status (200/201).
 * result_json is JSON text ("null", an object, an array, a quoted string). */
int resp_ok(response *resp, int status, const char *result_json);
/* The same with "result_info" (an object as JSON text) and messages (a JSON array, NULL = []). */
int resp_ok_full(response *resp, int status, const char *result_json, const char *result_info_json,
                 const char *messages_json);
/* A list page: result_info {page, per_page, count, total_count, total_pages}. */
int resp_ok_list(response *resp, const char *items_json, long page, long per_page, long count,
                 long total_count);
/* {"success":false,"errors":[{"code":code,"message":message}],"messages":[],"result":null}. */
int resp_error(response *resp, int status, int code, const char *message);
/* The same with errors[0].error_chain [{"code":chain_code,"message":chain_message}]. */
int resp_error_chain(response *resp, int status, int code, const char *message, int chain_code,
                     const char *chain_message);
/* The same with errors[0].documentation_url (403s carry one, API-NOTES section 1). */
int resp_error_doc(response *resp, int status, int code, const char *message,
                   const char *documentation_url);
/* A non-envelope body (the probe origin): status, content type, text. */
int resp_text(response *resp, int status, const char *content_type, const char *text);
/* 404 code 7003 "Could not route to <path>, perhaps your object identifier is invalid?" (a
 * malformed id in the path; the notes give no status, cfemu uses 404 like a missing object). */
int resp_bad_id(response *resp, const request *req);
/* 404 with code and message (e.g. 1002/"Token not found"). Same as resp_error(resp, 404, ...). */
int resp_not_found(response *resp, int code, const char *message);

/* --- authentication and authorization (auth.c) ---------------------------------------------- */

/* Checks that the caller is authenticated and holds permission group `group` (a Read group is
 * also satisfied by the matching Write group) on the resource (kind, scope_id). Returns 0 when
 * allowed. Otherwise fills resp and returns -1:
 *   missing header            400 1001 'Missing "Authorization" header'
 *   malformed bearer          400 6003 "Invalid request headers" + chain 6111
 *   unknown/inactive token    CF_SCOPE_ZONE: 403 9109 "Invalid access token";
 *                             otherwise 401 10000 "Authentication error"
 *   no permission / scope     403 10000 "Authentication error" with documentation_url
 * An account-owned token only ever reaches its own account and that account's zones. */
int require(cfemu_ctx *ctx, request *req, response *resp, const char *group, cf_scope_kind kind,
            const char *scope_id);
/* Authentication only (for endpoints that list no permission): 0, or -1 with resp filled as
 * above for the given route family. */
int require_auth(cfemu_ctx *ctx, request *req, response *resp, cf_scope_kind kind);
/* The permission check alone, no response: true if token t holds group on (kind, scope_id). */
bool auth_allows(const cfemu_state *st, const cf_token *t, const char *group, cf_scope_kind kind,
                 const char *scope_id);

/* --- context accessors ---------------------------------------------------------------------- */

/* The state (call with ctx->lock held, i.e. from a handler). */
cfemu_state *cfemu_st(cfemu_ctx *ctx);
/* cfemu's clock: real time plus the offset set through /__cfemu/clock, in Unix seconds. */
int64_t cfemu_now(cfemu_ctx *ctx);

/* --- route families ------------------------------------------------------------------------- */
/* Each returns ROUTE_DONE (resp filled) or ROUTE_NOT_MINE; called with ctx->lock held. */

/* /client/v4/user/tokens..., /client/v4/accounts/{a}/tokens... (tokens.c) */
int tokens_route(cfemu_ctx *ctx, request *req, response *resp);
/* /client/v4/accounts/{a}/access/service_tokens..., /client/v4/zones/{z}/access/service_tokens...
 * (access.c). */
int access_route(cfemu_ctx *ctx, request *req, response *resp);
/* GET /cdn-cgi/access/probe/{app_id}: the Access-protected origin (access.c). Called for every
 * path under CFEMU_PROBE_PREFIX, without Bearer authentication and without rate limiting. */
int access_probe(cfemu_ctx *ctx, request *req, response *resp);
/* /__cfemu/... (control.c) */
int control_route(cfemu_ctx *ctx, request *req, response *resp);

#endif
