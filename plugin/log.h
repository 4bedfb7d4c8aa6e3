/* SPDX-License-Identifier: MIT */
/* log.h - the provider's logger and the redactor of log lines and error messages.
 *
 * The provider never writes to stdout or stderr. Every log line, and every error message an
 * operation hands back, is redacted against the secrets the instance holds: its management token,
 * the secrets of the current call (the request's secret values, and every secret registered during
 * the call, such as a value just rolled, even after it was forgotten), in every form a server or
 * a library could quote them back: raw, percent-encoded (any mix of encoded characters, either hex
 * case, also twice encoded) and JSON-escaped (\/ and \u00XX); the first 12 or more characters of
 * one (a secret cut short) count too. Anything shaped like a Cloudflare secret is masked too. Log lines never show a URL's query string (ABI.md section 11). */
#ifndef ROTP_LOG_H
#define ROTP_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dynbuf.h"
#include "rotp.h"
#include "secret.h"

#define LOG_LINE_MAX    1024 /* longer lines are cut */
#define LOG_MAX_KNOWN   16   /* secrets an instance remembers for redaction */
#define LOG_MAX_CALL    8    /* secret values of the current request */
#define LOG_MAX_RETIRED 16   /* secrets forgotten during the current call, kept until it ends */
#define LOG_MAX_VIEWS   (LOG_MAX_KNOWN + LOG_MAX_CALL + LOG_MAX_RETIRED)

/* A secret value to mask, borrowed. */
typedef struct plog_value {
    const char *data;
    size_t len;
} plog_value;

typedef struct plog {
    rotp_log_fn fn; /* NULL: silent */
    void *user;
    int32_t level;
    /* Borrowed pointers to secrets to mask; owned by the instance. */
    const secret_buf *known[LOG_MAX_KNOWN];
    size_t nknown;
    /* Between plog_call_begin() and plog_call_end(): the request's secret values (borrowed from
     * the host's request) and copies of the secrets forgotten meanwhile (owned, wiped). */
    bool in_call;
    plog_value call[LOG_MAX_CALL];
    size_t ncall;
    secret_buf *retired[LOG_MAX_RETIRED];
    size_t nretired;
} plog;

/* Copies the host's callback (NULL host, or a host too small to carry it: silent). */
void plog_init(plog *l, const rotp_host *host);
/* Registers a secret to mask in every later line; the pointer must stay valid while registered.
 * When the table is full the oldest entry is dropped (pattern masking still applies). */
void plog_remember(plog *l, const secret_buf *s);
/* Forgets a registered secret (before the instance frees it). During a call a copy is kept (in a
 * wiping buffer) until plog_call_end(), so the call's error message is still redacted against it;
 * if that copy cannot be allocated, the shape rules remain. */
void plog_forget(plog *l, const secret_buf *s);
/* Starts an operation: the secret values of req (ROTP_PARAM_SECRET) are masked until
 * plog_call_end(); req must stay valid until then. NULL req: none. */
void plog_call_begin(plog *l, const rotp_params *req);
/* Redacts err->message in place (when the host's struct carries it) against every secret l knows
 * now (registered, the call's, retired), in every encoding; a message that ends with the first 6
 * or more characters of one of them (it was cut) loses that tail too. */
void plog_redact_error(const plog *l, rotp_error *err);
/* Ends an operation: wipes and frees the retired copies, drops the call's values. */
void plog_call_end(plog *l);
/* Formats, redacts and delivers one line if level <= l->level: every secret l knows is masked
 * (see above), and every URL query string ('?' after a non-space character, followed by text
 * with '=' or '&') becomes "?[query]". Never fails visibly. */
void plog_write(const plog *l, int32_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends in[0..len) to out with every occurrence of a known secret replaced by "[REDACTED]"
 * (raw, percent-encoded or JSON-escaped, see above), and every run that looks like a Cloudflare
 * secret masked: a cfut_/cfat_/cfk_ prefix and what follows it, and any run of 40 or more
 * characters of [A-Za-z0-9_-]. 32-hex ids and UUIDs stay readable. At most LOG_MAX_VIEWS known
 * secrets are used. Returns DYNBUF_OK or the dynbuf error. */
int redact_into(dynbuf *out, const char *in, size_t len, const secret_buf *const *known,
                size_t nknown);
/* The same rules into a fixed buffer of cap bytes, cut to fit (never inside a UTF-8 sequence) and
 * NUL-terminated; allocates nothing, so it works when memory is short. Returns the length
 * written. Control characters become spaces here and in redact_into(), so a line stays a line. */
size_t redact_to_buf(char *out, size_t cap, const char *in, size_t len,
                     const secret_buf *const *known, size_t nknown);
/* The length of s[0..len) without a trailing run of [A-Za-z0-9_-]: for text that was cut, whose
 * last run may be the first part of a secret too short to match the redaction patterns. */
size_t redact_trim_cut(const char *s, size_t len);

#endif
