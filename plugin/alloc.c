/* SPDX-License-Identifier: MIT */
/* alloc.c - the one allocation wrapper, with the test hook that fails the N-th allocation. */
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

#ifdef ROTP_ALLOC_HOOK
/* Test builds only: per-thread, so concurrent tests do not disturb each other. cloudflare.so is
 * built without the hook and has no mutable global state. */
static _Thread_local unsigned long alloc_fail_at;
static _Thread_local unsigned long alloc_count;
static _Thread_local void (*free_observer)(void *ptr, void *user);
static _Thread_local void *free_observer_user;

void rotp__alloc_on_free(void (*fn)(void *ptr, void *user), void *user)
{
    free_observer = fn;
    free_observer_user = user;
}

void rotp__alloc_fail_at(unsigned long n)
{
    alloc_fail_at = n;
    alloc_count = 0;
}

unsigned long rotp__alloc_count(void)
{
    return alloc_count;
}

/* true when this allocation must fail. */
static int hook_fails(void)
{
    alloc_count++;
    if (alloc_fail_at != 0 && alloc_count == alloc_fail_at) {
        alloc_fail_at = 0;
        return 1;
    }
    return 0;
}
#define ALLOC_HOOK_FAILS() hook_fails()
#else
#define ALLOC_HOOK_FAILS() 0
#endif

void *rotp__malloc(size_t size)
{
    if (ALLOC_HOOK_FAILS())
        return NULL;
    return malloc(size == 0 ? 1 : size);
}

void *rotp__calloc(size_t nmemb, size_t size)
{
    if (ALLOC_HOOK_FAILS())
        return NULL;
    if (nmemb == 0 || size == 0)
        nmemb = size = 1;
    return calloc(nmemb, size);
}

void *rotp__realloc(void *ptr, size_t size)
{
    if (ALLOC_HOOK_FAILS())
        return NULL;
    return realloc(ptr, size == 0 ? 1 : size);
}

char *rotp__strndup(const char *s, size_t n)
{
    char *p;

    if (s == NULL || n == (size_t)-1)
        return NULL;
    p = rotp__malloc(n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *rotp__strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    return rotp__strndup(s, strlen(s));
}

void rotp__free(void *ptr)
{
#ifdef ROTP_ALLOC_HOOK
    if (ptr != NULL && free_observer != NULL)
        free_observer(ptr, free_observer_user);
#endif
    free(ptr);
}
