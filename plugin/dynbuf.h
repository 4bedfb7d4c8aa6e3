/* dynbuf.h - a growable byte buffer with a hard maximum size (after libcurl's dynbuf).
 *
 * Used for HTTP bodies (capped at 1 MiB), JSON being written and log lines. Not for secrets:
 * dynbuf does not wipe (see secret.h), except dynbuf_free_wipe() for a buffer that held one. */
#ifndef ROTP_DYNBUF_H
#define ROTP_DYNBUF_H

#include <stddef.h>

typedef struct dynbuf {
    char *data; /* NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t max; /* appends that would make len exceed max fail */
} dynbuf;

/* Starts an empty buffer that may grow up to max bytes. Allocates nothing yet. */
void dynbuf_init(dynbuf *b, size_t max);
/* Appends len bytes. 0 on success; -1 on allocation failure; -2 when max would be exceeded.
 * On failure the buffer is unchanged. */
int dynbuf_add(dynbuf *b, const void *data, size_t len);
int dynbuf_adds(dynbuf *b, const char *s); /* a NUL-terminated string */
int dynbuf_printf(dynbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets len to 0, keeps the allocation. */
void dynbuf_reset(dynbuf *b);
/* Hands the data to the caller (who frees it with rotp__free) and empties the buffer.
 * Returns an empty allocated string for an empty buffer; NULL on allocation failure. */
char *dynbuf_take(dynbuf *b);
/* Frees the data; NULL-tolerant; the buffer may be reused after dynbuf_init(). */
void dynbuf_free(dynbuf *b);
/* Wipes then frees, for a buffer that held secret bytes (a request body carrying a secret). */
void dynbuf_free_wipe(dynbuf *b);

/* JSON writing helpers. Each returns 0 or the dynbuf_add error. */
/* Appends s (len bytes, UTF-8) as a quoted JSON string with the needed escapes. */
int dynbuf_json_str(dynbuf *b, const char *s, size_t len);
int dynbuf_json_cstr(dynbuf *b, const char *s); /* NULL writes `null` */

#endif
