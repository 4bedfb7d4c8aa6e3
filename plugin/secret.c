/* SPDX-License-Identifier: MIT */
/* secret.c - the wiping buffer for secret bytes.
 *
 * Growth never uses realloc(), which may move the bytes and leave the old copy in freed memory:
 * a new block is allocated, the content copied, and the old block wiped before it is freed. */
#include "secret.h"

#include <string.h>

#include "alloc.h"

void secret_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0)
        explicit_bzero(p, len);
}

/* Makes sure sb can hold need bytes plus the NUL, moving the content to a fresh block.
 * 0, or -1 on allocation failure or overflow (sb unchanged). */
static int secret_reserve(secret_buf *sb, size_t need)
{
    size_t cap;
    char *p;

    if (need >= (size_t)-1 / 2)
        return -1;
    if (sb->data != NULL && need + 1 <= sb->cap)
        return 0;
    cap = sb->cap < 32 ? 32 : sb->cap;
    while (cap < need + 1)
        cap *= 2;
    p = rotp__malloc(cap);
    if (p == NULL)
        return -1;
    if (sb->data != NULL) {
        memcpy(p, sb->data, sb->len);
        secret_wipe(sb->data, sb->cap);
        rotp__free(sb->data);
    }
    p[sb->len] = '\0';
    sb->data = p;
    sb->cap = cap;
    return 0;
}

secret_buf *secret_new(const char *s, size_t len)
{
    secret_buf *sb = rotp__calloc(1, sizeof(*sb));

    if (sb == NULL)
        return NULL;
    if (secret_append(sb, s, len) != 0) {
        rotp__free(sb);
        return NULL;
    }
    return sb;
}

int secret_append(secret_buf *sb, const char *s, size_t len)
{
    if (sb == NULL || (s == NULL && len > 0))
        return -1;
    if (len > (size_t)-1 / 2 - sb->len)
        return -1;
    if (secret_reserve(sb, sb->len + len) != 0)
        return -1;
    if (len > 0)
        memcpy(sb->data + sb->len, s, len);
    sb->len += len;
    sb->data[sb->len] = '\0';
    return 0;
}

int secret_set(secret_buf *sb, const char *s, size_t len)
{
    char *p;
    size_t cap;

    if (sb == NULL || (s == NULL && len > 0) || len >= (size_t)-1 / 2)
        return -1;
    if (sb->data != NULL && len + 1 <= sb->cap) {
        /* memmove: s may point into our own buffer */
        memmove(sb->data, s, len);
        secret_wipe(sb->data + len, sb->cap - len);
        sb->len = len;
        return 0;
    }
    cap = len + 1 < 32 ? 32 : len + 1;
    p = rotp__malloc(cap);
    if (p == NULL)
        return -1;
    memcpy(p, s, len);
    p[len] = '\0';
    if (sb->data != NULL) {
        secret_wipe(sb->data, sb->cap);
        rotp__free(sb->data);
    }
    sb->data = p;
    sb->cap = cap;
    sb->len = len;
    return 0;
}

void secret_clear(secret_buf *sb)
{
    if (sb == NULL)
        return;
    if (sb->data != NULL)
        secret_wipe(sb->data, sb->cap);
    sb->len = 0;
}

void secret_free(secret_buf *sb)
{
    if (sb == NULL)
        return;
    secret_clear(sb);
    rotp__free(sb->data);
    secret_wipe(sb, sizeof(*sb));
    rotp__free(sb);
}

bool secret_equals(const secret_buf *sb, const char *s, size_t len)
{
    const volatile unsigned char *a;
    const unsigned char *b = (const unsigned char *)s;
    unsigned char diff = 0;
    size_t i;

    if (sb == NULL || (s == NULL && len > 0))
        return false;
    /* Length is not secret-dependent enough to hide; the content comparison is constant-time. */
    if (sb->len != len)
        return false;
    a = (const volatile unsigned char *)(sb->data != NULL ? sb->data : "");
    for (i = 0; i < len; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}
