/* log.h - the provider's logger: formats a line, redacts it, hands it to the host callback.
 *
 * The provider never writes to stdout or stderr. Every line passes through redact_into(), which
 * masks the secrets the instance knows (its management token, secrets it handled) and anything
 * shaped like a Cloudflare secret. */
#ifndef ROTP_LOG_H
#define ROTP_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "dynbuf.h"
#include "rotp.h"
#include "secret.h"

#define LOG_LINE_MAX  1024 /* longer lines are cut */
#define LOG_MAX_KNOWN 16   /* secrets an instance remembers for redaction */

typedef struct plog {
    rotp_log_fn fn; /* NULL: silent */
    void *user;
    int32_t level;
    /* Borrowed pointers to secrets to mask; owned by the instance. */
    const secret_buf *known[LOG_MAX_KNOWN];
    size_t nknown;
} plog;

/* Copies the host's callback (NULL host, or a host too small to carry it: silent). */
void plog_init(plog *l, const rotp_host *host);
/* Registers a secret to mask in every later line; the pointer must stay valid while registered.
 * When the table is full the oldest entry is dropped (pattern masking still applies). */
void plog_remember(plog *l, const secret_buf *s);
/* Forgets a registered secret (before the instance frees it). */
void plog_forget(plog *l, const secret_buf *s);
/* Formats, redacts and delivers one line if level <= l->level. Never fails visibly. */
void plog_write(const plog *l, int32_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends in[0..len) to out with every occurrence of a known secret replaced by "[REDACTED]",
 * and every run that looks like a Cloudflare secret masked: a cfut_/cfat_/cfk_ prefix and what
 * follows it, and any run of 40 or more characters of [A-Za-z0-9_-]. 32-hex ids and UUIDs stay
 * readable. Returns 0 or the dynbuf error. */
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
