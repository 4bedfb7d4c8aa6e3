/* SPDX-License-Identifier: MIT */
/* freescan.c - an LD_PRELOAD module that records what freed heap blocks held, for the
 * freed-memory test (tests/security/test_freed_secrets.sh).
 *
 * It interposes free(), realloc() and reallocarray(). At free() time, before the block goes back
 * to the allocator, it scans the block's whole usable size (malloc_usable_size) and writes every
 * run of 16 or more "secret characters" it holds to a file, one run per line. The secret
 * characters are those of every form a secret may take in memory: the token alphabet
 * [A-Za-z0-9._~+/=-] plus '%' (percent-encoding) and '\' (JSON escapes). A secret in any of those
 * forms therefore lies inside one recorded run, and the checker (freescan_check.py) can look for
 * the secrets afterwards, including ones that did not exist when the process started (a rolled
 * value). Nothing of a block that holds no such run is written, which keeps the record small.
 *
 * realloc() is done as malloc + copy + free of the old block (scanned like any free), so the old
 * block is scanned exactly when it is released; a block grown in place by the real realloc would
 * not be released at all, so this is never weaker than the real thing.
 *
 * Output: $ROTP_FREESCAN_DIR/<program>.<pid>.runs (O_APPEND, O_CLOEXEC), with a last line
 * "#freescan frees=N bytes=M" written at exit, so the checker can tell that the module was
 * active. Nothing is recorded when ROTP_FREESCAN_DIR is unset. Not for sanitizer builds: ASan
 * owns malloc and free. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define FREESCAN_MIN_RUN 16

/* glibc's own entry points, which this module wraps. */
extern void __libc_free(void *ptr);
extern void *__libc_malloc(size_t size);

static int g_fd = -1;
static unsigned long long g_frees, g_bytes;

static bool scan_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '~' || c == '+' || c == '/' || c == '=' || c == '-' || c == '%' ||
           c == '\\';
}

static void put_run(const unsigned char *p, size_t n)
{
    struct iovec iov[2] = {{(void *)p, n}, {"\n", 1}};

    /* One writev per run: O_APPEND keeps records of concurrent threads apart. */
    while (writev(g_fd, iov, 2) < 0 && errno == EINTR)
        ;
}

static void scan_block(void *ptr)
{
    const unsigned char *p = ptr;
    size_t n, i, start;

    if (g_fd < 0 || ptr == NULL)
        return;
    n = malloc_usable_size(ptr);
    __atomic_add_fetch(&g_frees, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&g_bytes, n, __ATOMIC_RELAXED);
    for (i = 0; i < n;) {
        if (!scan_char(p[i])) {
            i++;
            continue;
        }
        start = i;
        while (i < n && scan_char(p[i]))
            i++;
        if (i - start >= FREESCAN_MIN_RUN)
            put_run(p + start, i - start);
    }
}

void free(void *ptr)
{
    scan_block(ptr);
    __libc_free(ptr);
}

void *realloc(void *ptr, size_t size)
{
    void *q;
    size_t old;

    if (ptr == NULL)
        return __libc_malloc(size);
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    q = __libc_malloc(size);
    if (q == NULL)
        return NULL;
    old = malloc_usable_size(ptr);
    memcpy(q, ptr, old < size ? old : size);
    free(ptr);
    return q;
}

void *reallocarray(void *ptr, size_t nmemb, size_t size)
{
    if (size != 0 && nmemb > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(ptr, nmemb * size);
}

__attribute__((constructor)) static void freescan_init(void)
{
    char exe[256], path[512];
    const char *dir = getenv("ROTP_FREESCAN_DIR");
    const char *base;
    ssize_t n;

    if (dir == NULL || dir[0] == '\0')
        return;
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    base = strrchr(exe, '/');
    base = base != NULL ? base + 1 : exe;
    if (snprintf(path, sizeof(path), "%s/%s.%ld.runs", dir, base, (long)getpid()) >=
        (int)sizeof(path))
        return;
    g_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

__attribute__((destructor)) static void freescan_fini(void)
{
    char line[96];
    int n;

    if (g_fd < 0)
        return;
    n = snprintf(line, sizeof(line), "#freescan frees=%llu bytes=%llu\n",
                 __atomic_load_n(&g_frees, __ATOMIC_RELAXED),
                 __atomic_load_n(&g_bytes, __ATOMIC_RELAXED));
    if (n > 0)
        (void)!write(g_fd, line, (size_t)n);
}
