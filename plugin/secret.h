/* SPDX-License-Identifier: MIT */
/* secret.h - the one buffer type for secret bytes: wiped with explicit_bzero before it is freed.
 *
 * Token values, client secrets and Authorization headers live only in a secret_buf. The data is
 * always NUL-terminated (data[len] == 0) so it can be handed to libcurl, and never logged. */
#ifndef ROTP_SECRET_H
#define ROTP_SECRET_H

#include <stdbool.h>
#include <stddef.h>

typedef struct secret_buf {
    char *data; /* NUL-terminated; NULL when empty and never allocated */
    size_t len;
    size_t cap; /* bytes allocated, including the NUL */
} secret_buf;

/* A new buffer holding a copy of len bytes of s. NULL on allocation failure. */
secret_buf *secret_new(const char *s, size_t len);
/* Appends len bytes; grows by reallocating into a fresh buffer and wiping the old one.
 * Returns 0, or -1 on allocation failure (the buffer is unchanged). */
int secret_append(secret_buf *sb, const char *s, size_t len);
/* Replaces the content, wiping the old bytes. 0, or -1 on allocation failure (unchanged). */
int secret_set(secret_buf *sb, const char *s, size_t len);
/* Wipes the content and sets len to 0; keeps the allocation. NULL-tolerant. */
void secret_clear(secret_buf *sb);
/* Wipes and frees the buffer. NULL-tolerant. */
void secret_free(secret_buf *sb);
/* Constant-time comparison of the content with len bytes of s. */
bool secret_equals(const secret_buf *sb, const char *s, size_t len);
/* Wipes len bytes at p (explicit_bzero); NULL-tolerant. For stack copies and scratch space. */
void secret_wipe(void *p, size_t len);

#endif
