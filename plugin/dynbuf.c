/* SPDX-License-Identifier: MIT */
/* dynbuf.c - a growable byte buffer with a hard maximum size. */
#include "dynbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "secret.h"

void dynbuf_init(dynbuf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

/* Makes room for len more bytes plus the NUL. DYNBUF_OK, DYNBUF_ENOMEM or DYNBUF_ETOOBIG.
 * The content moves to a fresh block and the old block is wiped before it is freed: realloc()
 * could leave a copy of it in freed memory. */
static int dynbuf_grow(dynbuf *b, size_t len)
{
    size_t need, cap;
    char *p;

    if (len > b->max || b->len > b->max - len)
        return DYNBUF_ETOOBIG;
    need = b->len + len + 1;
    if (b->data != NULL && need <= b->cap)
        return DYNBUF_OK;
    cap = b->cap < 64 ? 64 : b->cap;
    while (cap < need)
        cap = cap > (size_t)-1 / 2 ? need : cap * 2;
    if (b->max < (size_t)-1 && cap > b->max + 1)
        cap = b->max + 1;
    p = rotp__malloc(cap);
    if (p == NULL)
        return DYNBUF_ENOMEM;
    if (b->data != NULL) {
        memcpy(p, b->data, b->len + 1);
        secret_wipe(b->data, b->cap);
        rotp__free(b->data);
    } else {
        p[0] = '\0';
    }
    b->data = p;
    b->cap = cap;
    return DYNBUF_OK;
}

int dynbuf_add(dynbuf *b, const void *data, size_t len)
{
    int rc = dynbuf_grow(b, len);

    if (rc != DYNBUF_OK)
        return rc;
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return DYNBUF_OK;
}

int dynbuf_adds(dynbuf *b, const char *s)
{
    return dynbuf_add(b, s, strlen(s));
}

int dynbuf_printf(dynbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n, rc;
    char small[256];

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return DYNBUF_ETOOBIG;
    if ((size_t)n < sizeof(small)) {
        rc = dynbuf_add(b, small, (size_t)n);
        secret_wipe(small, sizeof(small));
        return rc;
    }
    secret_wipe(small, sizeof(small));
    rc = dynbuf_grow(b, (size_t)n);
    if (rc != DYNBUF_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return DYNBUF_OK;
}

void dynbuf_reset(dynbuf *b)
{
    if (b->data != NULL)
        secret_wipe(b->data, b->len + 1);
    b->len = 0;
}

char *dynbuf_take(dynbuf *b)
{
    char *p;

    if (b->data == NULL)
        return rotp__calloc(1, 1);
    p = b->data;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

void dynbuf_free(dynbuf *b)
{
    if (b == NULL)
        return;
    if (b->data != NULL)
        secret_wipe(b->data, b->cap);
    rotp__free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void dynbuf_free_wipe(dynbuf *b)
{
    dynbuf_free(b);
}

int dynbuf_json_str(dynbuf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0, start = b->len;
    int rc;

    rc = dynbuf_add(b, "\"", 1);
    for (i = 0; rc == DYNBUF_OK && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        size_t n = 0;

        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            n = 2;
        } else if (c == '\n') {
            memcpy(esc, "\\n", 2);
            n = 2;
        } else if (c == '\r') {
            memcpy(esc, "\\r", 2);
            n = 2;
        } else if (c == '\t') {
            memcpy(esc, "\\t", 2);
            n = 2;
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xf];
            n = 6;
        }
        if (n == 0) {
            run++;
            continue;
        }
        /* flush the plain run before the escape */
        rc = dynbuf_add(b, s + i - run, run);
        run = 0;
        if (rc == DYNBUF_OK)
            rc = dynbuf_add(b, esc, n);
    }
    if (rc == DYNBUF_OK)
        rc = dynbuf_add(b, s + len - run, run);
    if (rc == DYNBUF_OK)
        rc = dynbuf_add(b, "\"", 1);
    if (rc != DYNBUF_OK && b->data != NULL) {
        /* leave the buffer as it was, and wipe the part that was written */
        secret_wipe(b->data + start, b->len - start);
        b->len = start;
        b->data[start] = '\0';
    }
    return rc;
}

int dynbuf_json_cstr(dynbuf *b, const char *s)
{
    if (s == NULL)
        return dynbuf_add(b, "null", 4);
    return dynbuf_json_str(b, s, strlen(s));
}
