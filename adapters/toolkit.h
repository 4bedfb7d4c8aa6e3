/* SPDX-License-Identifier: MIT */
/* toolkit.h - what every adapter uses to talk to Cloudflare, so the kinds share one copy of it:
 * one call and its reply (the reply is always wiped when freed), the sent rule's bookkeeping
 * (ABI.md section 8), the explanation of failures, list paging, the lost-answer look of
 * idempotent changes, and probes whose answers become verification states. */
#ifndef ROTP_TOOLKIT_H
#define ROTP_TOOLKIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfapi.h"
#include "http.h"
#include "instance.h"
#include "dynbuf.h"
#include "json.h"
#include "params.h"
#include "rotp.h"
#include "secret.h"

/* One exchange: the HTTP response and its envelope. Any reply may carry a secret (a roll's new
 * value, a client secret), so tk_reply_free() wipes the body before freeing it, always. */
typedef struct tk_reply {
    http_response resp;
    cf_envelope env;
} tk_reply;

/* Empties r (safe to free at once). */
void tk_reply_init(tk_reply *r);
/* Wipes the body, frees the envelope and the response; r can be used again. NULL-tolerant. */
void tk_reply_free(tk_reply *r);

/* Where a call goes and what the management token needs there, for explanations. */
typedef struct tk_where {
    const char *place;      /* "account <a>", "zone <z>", "the user" */
    const char *read_perm;  /* permission group for reads, e.g. "API Tokens Read" */
    const char *write_perm; /* for changes, e.g. "API Tokens Write" */
} tk_where;

/* What a request does, which decides retries and the sent rule. */
#define TK_READ 0 /* retried on transport failures, 429 and 5xx */
#define TK_CHANGE                                                                                  \
    1 /* a state change, sent once on a fresh connection: a lost answer is                         \
         OUTCOME_UNKNOWN */
#define TK_CHANGE_IDEM                                                                             \
    2 /* an idempotent state change (DELETE, or setting a value): retried like                     \
         a read; a lost answer is the caller's to resolve by looking */

typedef struct tk_req {
    const char *method;
    const char *path; /* under api_base; a query is sent and never logged */
    const char *body; /* JSON or NULL */
    size_t body_len;
    int mode;                  /* TK_* */
    const secret_buf *subject; /* verify: the secret to send as bearer; NULL: the management
                                  token */
    const char *what;          /* "roll token <id> in account <a>": never a secret */
    const char *recovery;      /* changes: what to do when the outcome stays unknown */
    const char *object;        /* "token <id>" for a not-found message, or NULL */
    const tk_where *where;
} tk_req;

/* A request with the management token, no body, no recovery and no object; the caller sets the
 * rest. */
tk_req tk_req_make(const tk_where *where, const char *method, const char *path, int mode,
                   const char *what);

/* Sends q and parses the reply into *r (tk_reply_free() it on every path). Notes the outcome of
 * a change for the sent rule (a success: applied; a lost answer: maybe; a definite refusal:
 * nothing). On failure err says what went wrong and what to do, in terms of q->where: the
 * permission group the management token lacks, a rejected management token
 * (ROTP_ERRF_MANAGEMENT_CREDENTIAL), how long to wait after a 429, the recovery of a change whose
 * outcome is unknown. ROTP_E_OK only for a 2xx with success=true (cf_call()). */
int32_t tk_call(cf_inst *inst, const tk_req *q, tk_reply *r, rotp_error *err);

/* Settles a TK_CHANGE_IDEM call to `path` (the object it removes) that failed with rc. A
 * definite failure (cf_answer_lost() false) is returned as it is. When the answer was lost, GETs
 * the object: not found sets *gone (the change, or someone's, removed it) and returns ROTP_E_OK
 * with err cleared; still there returns rc with err as it was, and a failed look the look's
 * failure: in both the sent rule makes the operation OUTCOME_UNKNOWN (an object still there
 * proves nothing: the request may yet arrive and be applied after the look). */
int32_t tk_settle_lost(cf_inst *inst, int32_t rc, const char *path, const char *what,
                       const tk_where *where, bool *gone, rotp_error *err);

/* A list visitor: called with each element of a page. TK_STOP ends the walk with ROTP_E_OK,
 * another non-zero code ends it with that code. */
typedef int32_t (*tk_item_fn)(const json_doc *d, int item, void *ctx, rotp_error *err);
#define TK_STOP (-1)

typedef struct tk_pages {
    const char *path;  /* the list, without a query */
    const char *query; /* more query parameters, each as "&key=<encoded value>", or NULL */
    int per_page;      /* 0: the list is one unpaged answer */
    int max_pages;     /* a runaway guard; the walk logs a warning when it stops there */
    const char *what;  /* "list tokens in account <a>" */
    const tk_where *where;
} tk_pages;

/* GETs every page of a list (page=1.., per_page) and calls fn for each element, until a page is
 * empty, result_info says it was the last (total_pages, else total_count), a page without
 * result_info is not full, or max_pages. ROTP_E_OK, PROTOCOL when an answer's result is not an
 * array, or what tk_call() or fn returned. */
int32_t tk_walk(cf_inst *inst, const tk_pages *pg, tk_item_fn fn, void *ctx, rotp_error *err);

/* Appends "&key=<percent-encoded value>" to a query being built in buf (size cap,
 * NUL-terminated). ROTP_E_OK, or INVALID_ARGUMENT when it does not fit. */
int32_t tk_query_add(char *buf, size_t cap, const char *key, const char *value, rotp_error *err);

/* A probe: a request made with the credential being verified, whose HTTP status is evidence. */
typedef struct tk_probe {
    const char *url;            /* an absolute URL, or NULL with path */
    const char *path;           /* under api_base */
    const secret_buf *bearer;   /* Authorization: Bearer, or NULL */
    const http_header *headers; /* more headers (e.g. CF-Access-Client-*), or NULL */
    size_t nheaders;
    const char *what; /* "verify service token <id>" */
} tk_probe;

/* GETs the probe (retried like any read) and turns its status into evidence: *meaning
 * ROTP_STATE_ACCEPTED (2xx), ROTP_STATE_REJECTED (401: the origin refused the credential) or
 * ROTP_STATE_REFUSED (403: the credential is not admitted), *status the HTTP status. Any other
 * answer is no evidence and an error: RATE_LIMITED (429, with retry_after_ms), TRANSIENT (5xx,
 * 408, a network failure or timeout), PROTOCOL (any other status, e.g. a redirect to a login page
 * or a 404 for a wrong URL). The URL's query is never logged. */
int32_t tk_probe_run(cf_inst *inst, const tk_probe *pb, uint32_t *meaning, long *status,
                     rotp_error *err);

/* Adds the string member `key` of object `obj` to the result when it is a string; memory
 * running out marks the builder failed (rb_finish() reports it). */
void tk_add_member(result_builder *rb, const json_doc *d, int obj, const char *key);
/* Copies the string (or null/absent: "") member `key` of obj into buf. ROTP_E_OK, or PROTOCOL
 * when it is not a string or does not fit. */
int32_t tk_member(const json_doc *d, int obj, const char *key, char *buf, size_t cap);
/* "describe,roll,..." from a kind's ROTP_OP_* bits, into buf. */
void tk_ops_text(uint32_t ops, char *buf, size_t cap);
/* Whole days from now to ts, rounded down (negative once past). */
int64_t tk_days_until(int64_t now, int64_t ts);

#endif
