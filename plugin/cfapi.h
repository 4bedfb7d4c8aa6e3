/* SPDX-License-Identifier: MIT */
/* cfapi.h - Cloudflare's v4 response envelope and error classification.
 *
 * cf_envelope_parse() reads {success, errors[], messages[], result, result_info} with the strict
 * JSON reader. cf_classify() is the one table that maps an HTTP status plus a Cloudflare error
 * code (and, for a few rows, its message) to a rotp code (API-NOTES section 5). cf_call() is what
 * adapters use: send, parse, classify. */
#ifndef ROTP_CFAPI_H
#define ROTP_CFAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "json.h"
#include "rotp.h"

typedef struct cf_envelope {
    json_doc doc;           /* tokens over the response body (borrowed text) */
    bool success;
    int result;             /* token index of `result` (object, array, string or null), or -1 */
    int errors;             /* token index of the errors array, or -1 */
    int messages;           /* token index of the messages array, or -1 */
    int32_t error_code;     /* errors[0].code, 0 if none */
    int32_t chain_code;     /* errors[0].error_chain[0].code, 0 if none */
    char error_message[256]; /* errors[0].message (then ": " chain message), unescaped, cut */
    bool has_result_info;
    int64_t page, per_page, count, total_count, total_pages; /* -1 where absent */
} cf_envelope;

/* Parses body as a Cloudflare envelope. JSON_OK; JSON_ENOMEM; JSON_EINVAL when the body is not
 * one JSON object with a boolean `success` and well-typed errors/messages/result_info (items of
 * messages[] may have "type": null). The envelope borrows body. */
int cf_envelope_parse(cf_envelope *env, const char *body, size_t len);
/* NULL-tolerant. */
void cf_envelope_free(cf_envelope *env);

/* Maps an HTTP status, a Cloudflare code (0 if none) and its message (NULL if none; a few rows
 * look into it) to a ROTP_E_* code; sets *retryable. */
int32_t cf_classify(long http_status, int32_t cf_code, const char *cf_message, bool *retryable);

/* Whether a failed call (err: code, flags, http_status as cf_call() or http_do() left them)
 * ended without a definite answer from the server: the request went out
 * (ROTP_ERRF_REQUEST_SENT) and what came back says nothing about its effect: no answer (a reset
 * or timeout), a 5xx or 408, a cut, malformed or oversized 2xx, or memory that ran out reading
 * it. A 4xx (refused, not found, conflict, rate limited) or a 3xx is definite. */
bool cf_answer_lost(const rotp_error *err);

/* How cf_call() authenticates. */
#define CF_AUTH_MANAGEMENT 0 /* the instance's management token: a 401/1000 gets
                                ROTP_ERRF_MANAGEMENT_CREDENTIAL */
#define CF_AUTH_SUBJECT 1    /* a secret being verified: its failure is an answer, not an error */

typedef struct cf_call_opts {
    const char *method;
    const char *path;          /* under api_base */
    const char *body;          /* JSON or NULL */
    size_t body_len;
    const secret_buf *bearer;  /* the token to send */
    int auth;                  /* CF_AUTH_* */
    bool idempotent;
    const char *what;          /* for messages: "roll token 0123...", never a secret */
} cf_call_opts;

/* Sends the request and parses the envelope into *env (free with cf_envelope_free() on every
 * path; *resp too with http_response_free()). Returns ROTP_E_OK only for a 2xx with
 * success=true; otherwise the classified code, with err carrying the HTTP status, the Cloudflare
 * code, retryable, retry_after_ms and a message naming `what` and saying what to do.
 * A 2xx whose body is not a valid envelope is ROTP_E_PROTOCOL, or ROTP_E_OUTCOME_UNKNOWN for a
 * non-idempotent call (it may have been applied); so is an answer that memory ran out reading
 * (NO_MEMORY for an idempotent call). Any failure after the request went out carries
 * ROTP_ERRF_REQUEST_SENT. */
int32_t cf_call(http_client *http, const cf_call_opts *opts, http_response *resp, cf_envelope *env,
                rotp_error *err);

#endif
