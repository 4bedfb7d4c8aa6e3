/* SPDX-License-Identifier: MIT */
/* harden.c - wiping allocators for libcurl and OpenSSL, no core dumps (contract in harden.h).
 *
 * The block size comes from malloc_usable_size(), so nothing is added in front of a block and
 * pointers stay interchangeable with the C library's: libcurl hands some of its blocks to the
 * application (curl_free) and OpenSSL to other libraries, and both keep working. */
#include "harden.h"

#include <curl/curl.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

void harden_free(void *ptr)
{
    if (ptr == NULL)
        return;
    explicit_bzero(ptr, malloc_usable_size(ptr));
    free(ptr);
}

void *harden_realloc(void *ptr, size_t size)
{
    size_t old;
    void *p;

    if (ptr == NULL)
        return malloc(size);
    if (size == 0) {
        harden_free(ptr);
        return NULL;
    }
    p = malloc(size);
    if (p == NULL)
        return NULL;
    old = malloc_usable_size(ptr);
    memcpy(p, ptr, old < size ? old : size);
    harden_free(ptr);
    return p;
}

/* libcurl's strdup callback: its copies go through the same free. */
static char *harden_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);

    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

static void *ossl_malloc(size_t size, const char *file, int line)
{
    (void)file;
    (void)line;
    return malloc(size == 0 ? 1 : size);
}

static void *ossl_realloc(void *ptr, size_t size, const char *file, int line)
{
    (void)file;
    (void)line;
    return harden_realloc(ptr, size);
}

static void ossl_free(void *ptr, const char *file, int line)
{
    (void)file;
    (void)line;
    harden_free(ptr);
}

int harden_process(char *msg, size_t cap)
{
    struct rlimit no_core = {0, 0};
    int rc = 0;

    if (cap > 0)
        msg[0] = '\0';
    /* A core file or another process of this user reading our memory would see the secrets. */
    (void)setrlimit(RLIMIT_CORE, &no_core);
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

    /* OpenSSL first: libcurl's initialisation allocates through OpenSSL. */
    if (CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free) != 1) {
        snprintf(msg, cap, "OpenSSL was used before its allocator could be replaced");
        rc = -1;
    }
    if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, harden_free, harden_realloc,
                             harden_strdup, calloc) != CURLE_OK) {
        snprintf(msg, cap, "libcurl could not be initialised with the wiping allocator");
        rc = -1;
    }
    return rc;
}
