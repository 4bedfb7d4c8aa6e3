/* SPDX-License-Identifier: MIT */
/* unit_util.h - small helpers shared by the cmocka unit tests (header-only, file-local). */
#ifndef ROTP_UNIT_UTIL_H
#define ROTP_UNIT_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Reads tests/data/<name> into a malloc'd buffer (NUL-terminated); fails the test if absent. */
static inline char *unit_read_data(const char *name, size_t *len)
{
    char path[1024];
    FILE *f;
    long n;
    char *buf;

    snprintf(path, sizeof(path), "%s/%s", ROTP_TEST_DATA, name);
    f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Records whether every byte of a watched block was zero when rotp__free() released it (with
 * rotp__alloc_on_free(unit_on_free, &watch) in test builds). */
typedef struct free_watch {
    const void *ptr;
    size_t len;
    int seen;
    int all_zero;
} free_watch;

static inline void unit_on_free(void *ptr, void *user)
{
    free_watch *w = user;
    const unsigned char *p = ptr;

    if (ptr != w->ptr)
        return;
    w->seen = 1;
    w->all_zero = 1;
    for (size_t i = 0; i < w->len; i++) {
        if (p[i] != 0)
            w->all_zero = 0;
    }
}

#endif
