/* SPDX-License-Identifier: MIT */
/* compat_util.h - what the two compatibility tests share without including any rotp header
 * (one of them is compiled against the frozen 1.0 header): loading a module's entry point,
 * starting cfemu and reading its creds file. Header-only, file-local. */
#ifndef ROTP_COMPAT_UTIL_H
#define ROTP_COMPAT_UTIL_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfemu_fixture.h"

/* dlopen(path, RTLD_NOW | RTLD_LOCAL) and dlsym the one entry symbol; NULL on failure (a
 * message on stderr). *dl gets the handle to dlclose. */
static inline void *compat_entry(const char *path, void **dl)
{
    void *sym;

    *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (*dl == NULL) {
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
        return NULL;
    }
    sym = dlsym(*dl, "rotp_provider_entry_v1");
    if (sym == NULL)
        fprintf(stderr, "dlsym: %s\n", dlerror());
    return sym;
}

/* The value of KEY in cfemu's creds file, into buf ("" when absent). */
static inline const char *compat_cred(const cfemu_fx *fx, const char *key, char *buf, size_t cap)
{
    char path[400], line[2048];
    size_t klen = strlen(key);
    FILE *f;

    buf[0] = '\0';
    snprintf(path, sizeof(path), "%s/creds.env", fx->dir);
    f = fopen(path, "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
            size_t n = strcspn(line + klen + 1, "\n");
            if (n >= cap)
                n = cap - 1;
            memcpy(buf, line + klen + 1, n);
            buf[n] = '\0';
            break;
        }
    }
    if (f != NULL)
        fclose(f);
    return buf;
}

#endif
