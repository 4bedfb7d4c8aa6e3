/* SPDX-License-Identifier: MIT */
/* alloc.h - the one allocation wrapper of the provider, with a test hook that fails the N-th call.
 *
 * Every heap allocation in plugin/ and adapters/ goes through these functions. In builds with
 * ROTP_ALLOC_HOOK defined (test builds only; never cloudflare.so) a thread-local countdown makes
 * the N-th allocation fail, so tests can prove that each failure path is clean. */
#ifndef ROTP_ALLOC_H
#define ROTP_ALLOC_H

#include <stddef.h>

/* Like malloc/calloc/realloc/strdup; NULL on failure (or when the test hook says so). */
void *rotp__malloc(size_t size);
void *rotp__calloc(size_t nmemb, size_t size);
void *rotp__realloc(void *ptr, size_t size);
char *rotp__strdup(const char *s);
/* Copies n bytes and appends a NUL. NULL on failure. */
char *rotp__strndup(const char *s, size_t n);
/* free(); NULL is accepted. Does not wipe: secrets go through secret.h. */
void rotp__free(void *ptr);

#ifdef ROTP_ALLOC_HOOK
/* Makes the n-th allocation from now on (1-based) on this thread fail, and every later one
 * succeed. n = 0 disarms the hook. */
void rotp__alloc_fail_at(unsigned long n);
/* Allocations made on this thread since the last rotp__alloc_fail_at() call. */
unsigned long rotp__alloc_count(void);
/* Calls fn(ptr, user) on this thread just before rotp__free() releases a non-NULL ptr, so a test
 * can check that the bytes were wiped first. NULL removes the observer. */
void rotp__alloc_on_free(void (*fn)(void *ptr, void *user), void *user);
#endif

#endif
