/* SPDX-License-Identifier: MIT */
/* sec_util.h - what the C security tests share (header-only, file-local): loading cloudflare.so
 * the way a host does, opening instances from key/value pairs, reading cfemu's creds file, and
 * capturing the provider's log lines. */
#ifndef ROTP_SEC_UTIL_H
#define ROTP_SEC_UTIL_H

#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cfemu_fixture.h"
#include "rotp.h"

#ifndef ROTP_PLUGIN_PATH
#define ROTP_PLUGIN_PATH "cloudflare.so"
#endif

#define SEC_MAX_LINES 4096

/* Log lines the provider delivered (strdup'd; sec_lines_clear frees them). */
static char *sec_lines[SEC_MAX_LINES];
static size_t sec_nlines;

static inline void sec_host_log(void *user, int32_t level, const char *message, uint64_t len)
{
    (void)user;
    (void)level;
    if (sec_nlines < SEC_MAX_LINES)
        sec_lines[sec_nlines++] = strndup(message, (size_t)len);
}

static inline void sec_lines_clear(void)
{
    for (size_t i = 0; i < sec_nlines; i++)
        free(sec_lines[i]);
    sec_nlines = 0;
}

static const rotp_host sec_host = {
    .struct_size = sizeof(rotp_host),
    .log_level = ROTP_LOG_DEBUG,
    .log = sec_host_log,
    .log_user = NULL,
};

/* dlopen()s the plugin ($ROTP_PLUGIN, else the path CMake compiled in) and returns its table. */
static inline const rotp_provider *sec_load(void **dl_out)
{
    const char *path = getenv("ROTP_PLUGIN") != NULL ? getenv("ROTP_PLUGIN") : ROTP_PLUGIN_PATH;
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    rotp_entry_fn entry;
    rotp_error err;
    const rotp_provider *p;

    if (dl == NULL)
        fail_msg("dlopen %s: %s", path, dlerror());
    *(void **)(&entry) = dlsym(dl, ROTP_ENTRY_SYMBOL);
    assert_non_null(entry);
    memset(&err, 0, sizeof(err));
    err.struct_size = sizeof(err);
    p = entry(ROTP_ABI_MINOR, &sec_host, &err);
    assert_non_null(p);
    *dl_out = dl;
    return p;
}

/* Fills items (at most cap) from NULL-terminated key, value pairs; keys listed in secret_keys
 * are flagged ROTP_PARAM_SECRET. Returns the count. */
static inline uint32_t sec_params(rotp_param *items, uint32_t cap, va_list ap,
                                  const char *const *secret_keys)
{
    uint32_t n = 0;
    const char *k;

    while (n < cap && (k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);

        items[n].struct_size = sizeof(rotp_param);
        items[n].flags = 0;
        for (size_t i = 0; secret_keys[i] != NULL; i++) {
            if (strcmp(k, secret_keys[i]) == 0)
                items[n].flags = ROTP_PARAM_SECRET;
        }
        items[n].key = k;
        items[n].value = v;
        items[n].value_len = strlen(v);
        n++;
    }
    return n;
}

/* Opens an instance from NULL-terminated key, value pairs; "api_token" is flagged secret. Returns
 * the code; *inst is set on success; err gets the error. */
static inline int32_t sec_open(const rotp_provider *p, rotp_instance **inst, rotp_error *err, ...)
{
    static const char *const secret_keys[] = {"api_token", NULL};
    rotp_param items[16];
    va_list ap;

    va_start(ap, err);
    rotp_params cfg = {sizeof(cfg), sec_params(items, 16, ap, secret_keys), items};
    va_end(ap);
    memset(err, 0, sizeof(*err));
    err->struct_size = sizeof(*err);
    *inst = NULL;
    return p->open(&sec_host, &cfg, inst, err);
}

/* One operation with NULL-terminated key, value pairs ("secret" and "client_secret" flagged).
 * The result is freed; returns the code, err filled. */
static inline int32_t sec_call(const rotp_provider *p, rotp_instance *inst,
                               int32_t (*op)(rotp_instance *, const rotp_params *, rotp_result *,
                                             rotp_error *),
                               rotp_error *err, ...)
{
    static const char *const secret_keys[] = {"secret", "client_secret", NULL};
    rotp_param items[16];
    va_list ap;
    rotp_result res;
    int32_t rc;

    va_start(ap, err);
    rotp_params req = {sizeof(req), sec_params(items, 16, ap, secret_keys), items};
    va_end(ap);
    memset(&res, 0, sizeof(res));
    res.struct_size = sizeof(res);
    memset(err, 0, sizeof(*err));
    err->struct_size = sizeof(*err);
    rc = op(inst, &req, &res, err);
    p->result_free(&res);
    return rc;
}

/* The value of KEY in cfemu's creds file (a static copy), or fails the test. */
static inline const char *sec_cred(const cfemu_fx *fx, const char *key)
{
    static char value[1024];
    char path[512], line[2048];
    size_t klen = strlen(key);
    FILE *f;

    snprintf(path, sizeof(path), "%s/creds.env", fx->dir);
    f = fopen(path, "r");
    assert_non_null(f);
    value[0] = '\0';
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
            size_t n = strcspn(line + klen + 1, "\r\n");

            if (n >= sizeof(value))
                n = sizeof(value) - 1;
            memcpy(value, line + klen + 1, n);
            value[n] = '\0';
            break;
        }
    }
    fclose(f);
    if (value[0] == '\0')
        fail_msg("cfemu's creds file lacks %s", key);
    return value;
}

#endif
