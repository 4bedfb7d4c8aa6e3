/* SPDX-License-Identifier: MIT */
/* api.h - what every cfemu route handler works with: the parsed request, the response being
 * built, the envelope helpers that fill it, and the context accessors (state, clock).
 *
 * This module knows no HTTP library: the server (server.c) fills a request from the connection
 * and sends the response; handlers (tokens.c, access.c, control.c) only read the one and fill
 * the other. Handlers run with the context lock held (cfemu.h), so they use the state without
 * further locking. A handler fills the response with one of the resp_* helpers and returns
 * ROUTE_DONE, or returns ROUTE_NOT_MINE when the path is not one of its routes (the server then
 * answers 400/7000 "No route for that URI" and counts it). */
#ifndef CFEMU_API_H
#define CFEMU_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
    CF_AUTH_MISSING = 0, /* no Authorization header */
    CF_AUTH_MALFORMED,   /* not Bearer, or a value outside [-A-Za-z0-9._~+/]+=* or 40..80 */
    CF_AUTH_UNKNOWN,     /* well-formed, but no token has this value (unknown/rolled/deleted) */
    CF_AUTH_INACTIVE,    /* a token, but disabled, expired or before not_before */
    CF_AUTH_OK           /* req->caller is a live token */
} cf_auth_state;

typedef struct cf_query_param {
    char *key;
    char *value; /* NULL for a key without '=' */
} cf_query_param;

typedef struct request {
    const char *method; /* "GET", "POST", ... (borrowed from the server; valid in the handler) */
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
} request;

typedef struct response {
    int status;  /* HTTP status; 0 = not filled (the server answers 500) */
    dynbuf body; /* the body, JSON unless content_type says otherwise */
    char content_type[64];
    long retry_after; /* >= 0: send Retry-After (seconds); -1: none */
} response;

/* The run's context: the state, the clock, options, bookkeeping (cfemu.h). One per run. */
typedef struct cfemu_ctx cfemu_ctx;

/* --- context accessors (runtime.c) ---------------------------------------------------------- */

/* The state (call with the context lock held, i.e. from a handler). */
cfemu_state *cfemu_st(cfemu_ctx *ctx);
/* cfemu's clock: real time plus the offset set through /__cfemu/clock, in Unix seconds. */
int64_t cfemu_now(cfemu_ctx *ctx);

/* --- request helpers ------------------------------------------------------------------------ */

/* Frees what req owns (wiping the secrets) and zeroes it. NULL-tolerant. */
void request_free(request *req);
/* The value of query parameter key ("" for a bare key), or NULL when absent. */
const char *req_query(const request *req, const char *key);
/* Parses the body as JSON into doc (borrowing req->body). Returns 0; on failure fills resp with
 * 400 code 6007 "Malformed JSON in request body" (no body, not JSON, not an object; 413 when
 * the body passed CFEMU_MAX_BODY) and returns -1. With allow_empty, an absent or empty body
 * returns 1 and leaves doc empty (ntoks 0): the handler treats it as "{}". */
int req_json(const request *req, response *resp, json_doc *doc, bool allow_empty);
/* true if segment i exists and equals s. */
bool req_seg_is(const request *req, size_t i, const char *s);

/* --- response helpers ----------------------------------------------------------------------- */
/* Each returns 0, or -1 on allocation failure (status then stays 0: the server answers 500).
 * They replace any body already built. */

/* Prepares an empty response (body capped at 64 MiB, no Retry-After). */
void resp_init(response *resp);
/* Frees the body, wiping it (a body may hold a secret). */
void resp_free(response *resp);
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
/* 404 with code and message. Same as resp_error(resp, 404, ...). */
int resp_not_found(response *resp, int code, const char *message);
/* 500 code 10001 "cfemu: out of memory". */
int resp_oom(response *resp);

#endif
