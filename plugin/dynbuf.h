/* SPDX-License-Identifier: MIT */
/* dynbuf.h - a growable byte buffer with a hard maximum size (after libcurl's dynbuf).
 *
 * Used for HTTP request and response bodies (capped at 1 MiB), JSON being written and log lines.
 * Any of them may carry a secret (a rolled value in a response, a client secret in a request), so
 * wiping is a property of the buffer, not a choice of its callers: bytes that stop being content
 * are wiped (reset), growth moves the content to a fresh block and wipes the old one (never
 * realloc, which could leave a copy in freed memory), and free wipes the whole allocation.
 * Secrets that live on are kept in secret_buf (secret.h). */
#ifndef ROTP_DYNBUF_H
#define ROTP_DYNBUF_H

#include <stddef.h>

typedef struct dynbuf {
    char *data; /* NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t max; /* appends that would make len exceed max fail */
} dynbuf;

/* Status codes of the functions that can fail. The values are stable (callers that predate the
 * names compare with -1 and -2). */
typedef enum dynbuf_status {
    DYNBUF_OK = 0,
    DYNBUF_ENOMEM = -1,  /* an allocation failed */
    DYNBUF_ETOOBIG = -2, /* the content would pass max (or formatted text would pass INT_MAX) */
} dynbuf_status;

/* Starts an empty buffer that may grow up to max bytes. Allocates nothing yet. */
void dynbuf_init(dynbuf *b, size_t max);
/* Appends len bytes. DYNBUF_OK, DYNBUF_ENOMEM or DYNBUF_ETOOBIG; on failure the buffer is
 * unchanged. Growing wipes the block the content moved out of. */
int dynbuf_add(dynbuf *b, const void *data, size_t len);
int dynbuf_adds(dynbuf *b, const char *s); /* a NUL-terminated string */
int dynbuf_printf(dynbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Wipes the content and sets len to 0; keeps the allocation. */
void dynbuf_reset(dynbuf *b);
/* Hands the data to the caller and empties the buffer. The caller owns the bytes from then on:
 * it wipes them before rotp__free() if they may hold a secret. Returns an empty allocated string
 * for an empty buffer; NULL on allocation failure. */
char *dynbuf_take(dynbuf *b);
/* Wipes the whole allocation, then frees it; NULL-tolerant; the buffer may be reused after
 * dynbuf_init(). */
void dynbuf_free(dynbuf *b);
/* The same as dynbuf_free() (every dynbuf is wiped); kept for callers that say it explicitly. */
void dynbuf_free_wipe(dynbuf *b);

/* JSON writing helpers. Each returns DYNBUF_OK or the dynbuf_add error. */
/* Appends s (len bytes, UTF-8) as a quoted JSON string with the needed escapes. */
int dynbuf_json_str(dynbuf *b, const char *s, size_t len);
int dynbuf_json_cstr(dynbuf *b, const char *s); /* NULL writes `null` */

#endif
