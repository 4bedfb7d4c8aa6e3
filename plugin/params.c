/* params.c - reading borrowed ABI key/value arrays and building provider-owned results.
 *
 * Host arrays are walked with the stride the host gave (items[0].struct_size), so a newer host
 * with a larger rotp_param still works. Each result item is one allocation holding the value, a
 * NUL, the key and a NUL; result_free() wipes the whole block before freeing it. */
#include "params.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "error.h"

/* The sizes of version 1.0 of the structs: the least a host may pass. */
#define PARAMS_V1_SIZE (offsetof(rotp_params, items) + sizeof(((rotp_params *)0)->items))
#define PARAM_V1_SIZE  (offsetof(rotp_param, value_len) + sizeof(((rotp_param *)0)->value_len))
#define RESULT_V1_SIZE                                                                             \
    (offsetof(rotp_result, provider_data) + sizeof(((rotp_result *)0)->provider_data))
#define PARAMS_MAX_COUNT 256 /* more than any request needs */
#define PARAM_KEY_MAX    64
#define RESULT_VALUE_MAX (64u * 1024u * 1024u) /* a sanity cap; list results can be large */

/* The i-th element of a host array whose stride is items[0].struct_size (checked already). */
static const rotp_param *param_at(const rotp_params *p, uint32_t i)
{
    size_t stride = p->items[0].struct_size;

    return (const rotp_param *)((const char *)p->items + (size_t)i * stride);
}

/* true when p can be walked: a v1.0-sized header and elements, aligned stride. */
static bool params_walkable(const rotp_params *p)
{
    return p != NULL && p->struct_size >= PARAMS_V1_SIZE && p->count > 0 && p->items != NULL &&
           p->items[0].struct_size >= PARAM_V1_SIZE &&
           p->items[0].struct_size % alignof(rotp_param) == 0;
}

int32_t params_check(const rotp_params *p, const char *const *allowed, const char *what,
                     rotp_error *err)
{
    uint32_t i, j;
    size_t stride;

    if (what == NULL)
        what = "parameters";
    if (p == NULL)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: missing", what);
    if (p->struct_size < PARAMS_V1_SIZE)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "%s: struct_size %u is smaller than version 1.0 (%zu)", what,
                        p->struct_size, PARAMS_V1_SIZE);
    if (p->count == 0)
        return ROTP_E_OK;
    if (p->items == NULL)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: count is %u but items is NULL", what,
                        p->count);
    if (p->count > PARAMS_MAX_COUNT)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: more than %d items", what,
                        PARAMS_MAX_COUNT);
    stride = p->items[0].struct_size;
    if (stride < PARAM_V1_SIZE)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "%s: item struct_size %zu is smaller than version 1.0 (%zu)", what, stride,
                        PARAM_V1_SIZE);
    if (stride % alignof(rotp_param) != 0)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "%s: item struct_size %zu is not a multiple of %zu", what, stride,
                        alignof(rotp_param));
    for (i = 0; i < p->count; i++) {
        const rotp_param *it = param_at(p, i);
        const char *const *a;
        size_t klen;

        if (it->struct_size != stride)
            return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                            "%s: item %u has struct_size %u, item 0 has %zu", what, i,
                            it->struct_size, stride);
        if (it->key == NULL)
            return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: item %u has no key", what, i);
        klen = strnlen(it->key, PARAM_KEY_MAX + 1);
        for (a = allowed; a != NULL && *a != NULL; a++) {
            if (strlen(*a) == klen && memcmp(*a, it->key, klen) == 0)
                break;
        }
        if (klen > PARAM_KEY_MAX || a == NULL || *a == NULL)
            return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: unknown key \"%.*s\"", what,
                            PARAM_KEY_MAX, it->key);
        for (j = 0; j < i; j++) {
            if (strcmp(param_at(p, j)->key, it->key) == 0)
                return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: key \"%s\" given twice", what,
                                it->key);
        }
        if (it->value == NULL && it->value_len > 0)
            return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: %s: value is NULL", what, it->key);
        if (it->value_len > PARAM_VALUE_MAX)
            return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: %s: value longer than %d bytes",
                            what, it->key, PARAM_VALUE_MAX);
        if (it->value_len > 0 && memchr(it->value, '\0', (size_t)it->value_len) != NULL)
            return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: %s: value holds a NUL byte", what,
                            it->key);
    }
    return ROTP_E_OK;
}

const rotp_param *params_find(const rotp_params *p, const char *key)
{
    uint32_t i;

    if (key == NULL || !params_walkable(p))
        return NULL;
    for (i = 0; i < p->count; i++) {
        const rotp_param *it = param_at(p, i);

        if (it->key != NULL && strcmp(it->key, key) == 0)
            return it;
    }
    return NULL;
}

const char *params_get(const rotp_params *p, const char *key, size_t *len)
{
    const rotp_param *it = params_find(p, key);

    if (it == NULL) {
        if (len != NULL)
            *len = 0;
        return NULL;
    }
    if (len != NULL)
        *len = (size_t)it->value_len;
    return it->value != NULL ? it->value : "";
}

int32_t params_str(const rotp_params *p, const char *key, char *buf, size_t cap, bool required,
                   rotp_error *err)
{
    size_t len;
    const char *v = params_get(p, key, &len);

    if (cap == 0 || buf == NULL)
        return rerr_set(err, ROTP_E_INTERNAL, "%s: no buffer", key);
    buf[0] = '\0';
    if (v == NULL) {
        if (required)
            return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "missing %s", key);
        return ROTP_E_OK;
    }
    if (len >= cap)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: longer than %zu bytes", key, cap - 1);
    memcpy(buf, v, len);
    buf[len] = '\0';
    return ROTP_E_OK;
}

int32_t params_int(const rotp_params *p, const char *key, int64_t def, int64_t min, int64_t max,
                   int64_t *out, rotp_error *err)
{
    size_t len, i = 0;
    const char *v = params_get(p, key, &len);
    uint64_t acc = 0, limit;
    bool neg = false;
    int64_t val;

    if (v == NULL) {
        *out = def;
        return ROTP_E_OK;
    }
    if (len > 0 && v[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i >= len)
        goto out_malformed;
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < len; i++) {
        if (v[i] < '0' || v[i] > '9' || acc > (limit - (uint64_t)(v[i] - '0')) / 10)
            goto out_malformed;
        acc = acc * 10 + (uint64_t)(v[i] - '0');
    }
    if (neg)
        val = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
    else
        val = (int64_t)acc;
    if (val < min || val > max)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: must be between %lld and %lld", key,
                        (long long)min, (long long)max);
    *out = val;
    return ROTP_E_OK;
out_malformed:
    return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: not a decimal integer", key);
}

int32_t params_bool(const rotp_params *p, const char *key, bool def, bool *out, rotp_error *err)
{
    static const char *const yes[] = {"1", "true", "yes"};
    static const char *const no[] = {"0", "false", "no"};
    size_t len, i;
    const char *v = params_get(p, key, &len);

    if (v == NULL) {
        *out = def;
        return ROTP_E_OK;
    }
    for (i = 0; i < 3; i++) {
        if (len == strlen(yes[i]) && strncasecmp(v, yes[i], len) == 0) {
            *out = true;
            return ROTP_E_OK;
        }
        if (len == strlen(no[i]) && strncasecmp(v, no[i], len) == 0) {
            *out = false;
            return ROTP_E_OK;
        }
    }
    return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: expected true/false, yes/no or 1/0", key);
}

/* ---------------------------------------------------------------------------------------------
 * Results
 * ------------------------------------------------------------------------------------------- */

/* Wipes and frees one item's block (value, NUL, key, NUL). */
static void item_release(rotp_param *it)
{
    char *block = (char *)it->value;

    if (block != NULL) {
        size_t klen = it->key != NULL ? strlen(it->key) + 1 : 0;

        secret_wipe(block, (size_t)it->value_len + 1 + klen);
        rotp__free(block);
    }
    memset(it, 0, sizeof(*it));
}

void rb_init(result_builder *rb)
{
    memset(rb, 0, sizeof(*rb));
}

/* Appends an item with room for a value of len bytes; returns the value's bytes (len + 1) or
 * NULL with rb->failed set. */
static char *rb_reserve(result_builder *rb, const char *key, size_t len, uint32_t flags)
{
    size_t klen;
    char *block;
    rotp_param *it;

    if (rb->failed)
        return NULL;
    if (key == NULL || len > RESULT_VALUE_MAX || rb->count == UINT32_MAX)
        goto out_fail;
    if (rb->count == rb->cap) {
        uint32_t cap = rb->cap == 0 ? 16 : rb->cap * 2;
        rotp_param *items = rotp__realloc(rb->items, sizeof(*items) * cap);

        if (items == NULL)
            goto out_fail;
        rb->items = items;
        rb->cap = cap;
    }
    klen = strlen(key);
    block = rotp__malloc(len + 1 + klen + 1);
    if (block == NULL)
        goto out_fail;
    block[len] = '\0';
    memcpy(block + len + 1, key, klen + 1);
    it = &rb->items[rb->count++];
    it->struct_size = sizeof(*it);
    it->flags = flags;
    it->key = block + len + 1;
    it->value = block;
    it->value_len = len;
    return block;
out_fail:
    rb->failed = true;
    return NULL;
}

void rb_add(result_builder *rb, const char *key, const char *value, size_t len, uint32_t flags)
{
    char *dst;

    if (value == NULL && len > 0) {
        rb->failed = true;
        return;
    }
    dst = rb_reserve(rb, key, len, flags);
    if (dst != NULL && len > 0)
        memcpy(dst, value, len);
}

void rb_adds(result_builder *rb, const char *key, const char *value)
{
    if (value != NULL)
        rb_add(rb, key, value, strlen(value), 0);
}

void rb_addf(result_builder *rb, const char *key, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *dst;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        rb->failed = true;
        return;
    }
    dst = rb_reserve(rb, key, (size_t)n, 0);
    if (dst == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(dst, (size_t)n + 1, fmt, ap);
    va_end(ap);
}

void rb_add_secret(result_builder *rb, const char *key, const secret_buf *s)
{
    if (s != NULL)
        rb_add(rb, key, s->data != NULL ? s->data : "", s->len, ROTP_PARAM_SECRET);
}

const char *rb_get(const result_builder *rb, const char *key)
{
    uint32_t i;

    if (rb == NULL || key == NULL)
        return NULL;
    for (i = 0; i < rb->count; i++) {
        if (strcmp(rb->items[i].key, key) == 0)
            return rb->items[i].value;
    }
    return NULL;
}

void rb_free(result_builder *rb)
{
    uint32_t i;

    if (rb == NULL)
        return;
    for (i = 0; i < rb->count; i++)
        item_release(&rb->items[i]);
    rotp__free(rb->items);
    rb_init(rb);
}

int32_t rb_finish(result_builder *rb, rotp_result *res, rotp_error *err)
{
    int32_t rc = ROTP_E_OK;

    if (res == NULL || res->struct_size < RESULT_V1_SIZE) {
        rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT, "result: missing or struct_size too small");
        goto out_free;
    }
    if (rb->failed) {
        rc = rerr_set(err, ROTP_E_NO_MEMORY, "out of memory while building the result");
        goto out_free;
    }
    res->count = rb->count;
    res->items = rb->count > 0 ? rb->items : NULL;
    res->provider_data = NULL;
    if (rb->count == 0)
        rotp__free(rb->items);
    rb_init(rb);
    return ROTP_E_OK;
out_free:
    if (res != NULL && res->struct_size >= RESULT_V1_SIZE) {
        res->count = 0;
        res->items = NULL;
    }
    rb_free(rb);
    return rc;
}

void params_result_free(rotp_result *res)
{
    uint32_t i;

    if (res == NULL || res->struct_size < RESULT_V1_SIZE)
        return;
    /* rb_finish() built the array with sizeof(rotp_param) elements */
    for (i = 0; res->items != NULL && i < res->count; i++)
        item_release(&res->items[i]);
    rotp__free(res->items);
    res->count = 0;
    res->items = NULL;
    res->provider_data = NULL;
}
