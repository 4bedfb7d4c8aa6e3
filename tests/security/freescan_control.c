/* SPDX-License-Identifier: MIT */
/* freescan_control.c - the freed-memory scanner's positive control (test_freed_secrets.sh).
 *
 * Reads a made-up secret (one line on stdin) and frees it unwiped in the forms the checker must
 * recognise, each in a block of its own: raw; percent-encoded with one character as %2D; every
 * character as \u00XX; and raw in a block that realloc() moves (the old block is the freed one).
 * If freescan_check.py does not find all of them, the scanner or the checker is broken and the
 * real test's "clean" means nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Called through a volatile pointer, so the compiler cannot drop a malloc/free pair whose
 * content nobody reads. */
static void (*volatile release)(void *) = free;

/* Frees a copy of s[0..n) in a block of its own, unwiped. */
static void free_copy(const char *s, size_t n)
{
    char *p = malloc(n + 1);

    if (p == NULL)
        exit(1);
    memcpy(p, s, n);
    p[n] = '\0';
    release(p);
}

int main(void)
{
    char secret[256], enc[1024];
    size_t n, o = 0;
    char *grow;

    if (fgets(secret, sizeof(secret), stdin) == NULL)
        return 1;
    n = strcspn(secret, "\r\n");
    secret[n] = '\0';
    free_copy(secret, n);
    for (size_t i = 0; i < n; i++)
        o +=
            (size_t)snprintf(enc + o, sizeof(enc) - o, secret[i] == '-' ? "%%2D" : "%c", secret[i]);
    free_copy(enc, o);
    o = 0;
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(enc + o, sizeof(enc) - o, "\\u%04x", (unsigned char)secret[i]);
    free_copy(enc, o);
    grow = malloc(n + 1);
    if (grow == NULL)
        return 1;
    memcpy(grow, secret, n + 1);
    grow = realloc(grow, 1 << 20); /* moves: the old block is freed holding the secret */
    if (grow == NULL)
        return 1;
    memset(grow, 0, n);
    release(grow);
    return 0;
}
