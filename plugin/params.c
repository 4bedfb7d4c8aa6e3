/* SPDX-License-Identifier: MIT */
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
#include "ids.h"
#include "json.h"
#include "timefmt.h"

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

int32_t params_check(const rotp_params *p, const char *what, rotp_error *err)
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

        if (it->struct_size != stride)
            return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                            "%s: item %u has struct_size %u, item 0 has %zu", what, i,
                            it->struct_size, stride);
        if (it->key == NULL)
            return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: item %u has no key", what, i);
        if (strnlen(it->key, PARAM_KEY_MAX + 1) > PARAM_KEY_MAX)
            return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: item %u: key longer than %d bytes",
                            what, i, PARAM_KEY_MAX);
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

/* ---------------------------------------------------------------------------------------------
 * Formats (ABI.md section 15.2)
 * ------------------------------------------------------------------------------------------- */

/* A decimal integer: an optional '-', then digits, within int64. */
static bool parse_int(const char *v, size_t len, int64_t *out)
{
    size_t i = 0;
    uint64_t acc = 0, limit;
    bool neg = false;

    if (len > 0 && v[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i >= len)
        return false;
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < len; i++) {
        if (v[i] < '0' || v[i] > '9' || acc > (limit - (uint64_t)(v[i] - '0')) / 10)
            return false;
        acc = acc * 10 + (uint64_t)(v[i] - '0');
    }
    if (neg)
        *out = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
    else
        *out = (int64_t)acc;
    return true;
}

/* "1"/"true"/"yes" or "0"/"false"/"no", any case. */
static bool parse_bool(const char *v, size_t len, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes"};
    static const char *const no[] = {"0", "false", "no"};

    for (size_t i = 0; i < 3; i++) {
        if (len == strlen(yes[i]) && strncasecmp(v, yes[i], len) == 0) {
            *out = true;
            return true;
        }
        if (len == strlen(no[i]) && strncasecmp(v, no[i], len) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* Every byte in [lo, 0x7e] or, when utf8 is true, at or above 0x80 (text may be UTF-8). */
static bool chars_in(const char *v, size_t len, unsigned char lo, bool utf8)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)v[i];
        if ((ch < lo || ch == 0x7f) || (ch > 0x7f && !utf8))
            return false;
    }
    return true;
}

static bool url_ok(const char *v, size_t len)
{
    size_t pre = len >= 8 && strncasecmp(v, "https://", 8) == 0  ? 8
                 : len >= 7 && strncasecmp(v, "http://", 7) == 0 ? 7
                                                                 : 0;

    return pre > 0 && len > pre && chars_in(v, len, 0x21, false);
}

static bool enum_ok(const char *v, size_t len, const char *const *choices)
{
    for (size_t i = 0; choices != NULL && choices[i] != NULL; i++) {
        if (strlen(choices[i]) == len && memcmp(choices[i], v, len) == 0)
            return true;
    }
    return false;
}

bool params_format_ok(const char *format, const char *v, size_t len, int64_t min, int64_t max,
                      const char *const *choices)
{
    int64_t n = 0;
    bool b;

    if (format == NULL || v == NULL)
        return false;
    if (strcmp(format, "text") == 0)
        return chars_in(v, len, 0x20, true);
    if (len == 0)
        return false; /* every other format needs a value */
    if (strcmp(format, "hex32") == 0)
        return id_is_hex32(v, len);
    if (strcmp(format, "uuid") == 0)
        return id_is_uuid(v, len);
    if (strcmp(format, "int") == 0)
        return parse_int(v, len, &n) && (min >= max || (n >= min && n <= max));
    if (strcmp(format, "bool") == 0)
        return parse_bool(v, len, &b);
    if (strcmp(format, "rfc3339") == 0)
        return rfc3339_parse(v, len, &n) == 0;
    if (strcmp(format, "duration") == 0)
        return duration_parse_ms(v, len, &n) == 0;
    if (strcmp(format, "url") == 0)
        return url_ok(v, len);
    if (strcmp(format, "path") == 0)
        return chars_in(v, len, 0x20, true);
    if (strcmp(format, "json") == 0)
        return json_valid(v, len);
    if (strcmp(format, "token") == 0)
        return chars_in(v, len, 0x21, false);
    if (strcmp(format, "enum") == 0)
        return enum_ok(v, len, choices);
    return false;
}

/* What a valid value of a format looks like, for messages. */
static void format_explain(const rotp_key_info *k, char *buf, size_t cap)
{
    static const struct {
        const char *format;
        const char *text;
    } names[] = {
        {"text", "text without control characters"},
        {"hex32", "32 lowercase hex digits"},
        {"uuid", "a lowercase UUID (8-4-4-4-12 hex digits)"},
        {"int", "a decimal integer"},
        {"bool", "1/0, true/false or yes/no"},
        {"rfc3339", "an RFC 3339 time such as 2027-01-01T00:00:00Z"},
        {"duration", "a duration such as 1h30m"},
        {"url", "an absolute http(s):// URL without spaces or control characters"},
        {"path", "a path without control characters"},
        {"json", "valid JSON"},
        {"token", "a secret of printable characters without spaces"},
    };
    size_t n;

    if (strcmp(k->format, "int") == 0 && k->min_value < k->max_value) {
        snprintf(buf, cap, "an integer from %lld to %lld", (long long)k->min_value,
                 (long long)k->max_value);
        return;
    }
    if (strcmp(k->format, "enum") == 0) {
        n = (size_t)snprintf(buf, cap, "one of");
        for (size_t i = 0; k->choices != NULL && k->choices[i] != NULL && n < cap; i++)
            n += (size_t)snprintf(buf + n, cap - n, "%s %s", i > 0 ? "," : "", k->choices[i]);
        return;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(k->format, names[i].format) == 0) {
            snprintf(buf, cap, "%s", names[i].text);
            return;
        }
    }
    snprintf(buf, cap, "a value of format %s", k->format);
}

/* ---------------------------------------------------------------------------------------------
 * Checking against a description
 * ------------------------------------------------------------------------------------------- */

static const rotp_key_info *key_lookup(const rotp_key_info *keys, uint32_t nkeys, const char *key)
{
    for (uint32_t i = 0; i < nkeys; i++) {
        if (strcmp(keys[i].key, key) == 0)
            return &keys[i];
    }
    return NULL;
}

/* Whether a described key is taken by op (a config takes all its keys). */
static bool key_taken(const rotp_key_info *k, uint32_t op)
{
    return op == 0 || (k->ops & op) != 0;
}

static bool key_required(const rotp_key_info *k, uint32_t op)
{
    return op == 0 ? (k->required_ops & ROTP_KEY_REQUIRED_CONFIG) != 0
                   : (k->required_ops & op) != 0;
}

/* "id, name, ..." : the keys op takes, for messages. */
static void taken_list(const rotp_key_info *keys, uint32_t nkeys, uint32_t op, const char *implicit,
                       char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "%s", implicit != NULL ? implicit : "");

    for (uint32_t i = 0; i < nkeys && n < cap; i++) {
        if (key_taken(&keys[i], op))
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n > 0 ? ", " : "", keys[i].key);
    }
}

/* Every key is implicit or described for op, and its value has the key's format. */
static int32_t check_each(const preq *r, const char *implicit, const char *what, rotp_error *err)
{
    const rotp_params *p = r->params;

    for (uint32_t i = 0; i < p->count; i++) {
        const rotp_param *it = param_at(p, i);
        const rotp_key_info *k = key_lookup(r->keys, r->nkeys, it->key);
        const char *v = it->value != NULL ? it->value : "";
        char list[512];

        if (implicit != NULL && strcmp(it->key, implicit) == 0)
            continue;
        if (k == NULL || !key_taken(k, r->op)) {
            taken_list(r->keys, r->nkeys, r->op, implicit, list, sizeof(list));
            return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: unknown key \"%s\" (%s takes: %s)",
                            what, it->key, r->op == 0 ? "it" : "this operation", list);
        }
        if (!params_format_ok(k->format, v, (size_t)it->value_len, k->min_value, k->max_value,
                              k->choices)) {
            format_explain(k, list, sizeof(list));
            return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: %s: not %s", what, it->key, list);
        }
    }
    return ROTP_E_OK;
}

/* Checks the one_of group of keys[first] (its first member taken by op): at most one present,
 * exactly one where a member is required in op. */
static int32_t check_group(const preq *r, uint32_t first, const char *what, rotp_error *err)
{
    uint32_t group = r->keys[first].one_of, present = 0;
    bool required = false;
    char names[256];
    size_t n = 0;

    names[0] = '\0';
    for (uint32_t j = first; j < r->nkeys; j++) {
        const rotp_key_info *o = &r->keys[j];

        if (o->one_of != group || !key_taken(o, r->op))
            continue;
        present += preq_has(r, o->key) ? 1u : 0u;
        required = required || key_required(o, r->op);
        if (n < sizeof(names))
            n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", n > 0 ? ", " : "", o->key);
    }
    if (present > 1)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: give only one of %s", what, names);
    if (present == 0 && required)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: missing: give exactly one of %s", what,
                        names);
    return ROTP_E_OK;
}

/* Whether keys[i] is the first member of its one_of group that op takes. */
static bool group_first(const preq *r, uint32_t i)
{
    for (uint32_t j = 0; j < i; j++) {
        if (r->keys[j].one_of == r->keys[i].one_of && key_taken(&r->keys[j], r->op))
            return false;
    }
    return true;
}

/* Required keys are present; one_of groups hold one key (exactly one where required). */
static int32_t check_required(const preq *r, const char *what, rotp_error *err)
{
    int32_t rc = ROTP_E_OK;

    for (uint32_t i = 0; i < r->nkeys && rc == ROTP_E_OK; i++) {
        const rotp_key_info *k = &r->keys[i];

        if (!key_taken(k, r->op))
            continue;
        if (k->one_of != 0) {
            if (group_first(r, i))
                rc = check_group(r, i, what, err);
        } else if (key_required(k, r->op) && !preq_has(r, k->key)) {
            rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: missing %s: %s", what, k->key,
                          k->summary != NULL ? k->summary : "required");
        }
    }
    return rc;
}

int32_t preq_check(preq *out, const rotp_params *p, const rotp_key_info *keys, uint32_t nkeys,
                   uint32_t op, const char *implicit, const char *what, rotp_error *err)
{
    preq r = {p, keys, nkeys, op};
    int32_t rc = params_check(p, what, err);

    if (rc == ROTP_E_OK)
        rc = check_each(&r, implicit, what, err);
    if (rc == ROTP_E_OK)
        rc = check_required(&r, what, err);
    if (rc == ROTP_E_OK)
        *out = r;
    return rc;
}

const rotp_key_info *preq_info(const preq *r, const char *key)
{
    return key != NULL ? key_lookup(r->keys, r->nkeys, key) : NULL;
}

bool preq_has(const preq *r, const char *key)
{
    return params_find(r->params, key) != NULL;
}

const char *preq_get(const preq *r, const char *key, size_t *len)
{
    return params_get(r->params, key, len);
}

/* The value, else the default, else "" (with its length). */
static const char *value_or_default(const preq *r, const char *key, size_t *len)
{
    const char *v = params_get(r->params, key, len);
    const rotp_key_info *k;

    if (v != NULL)
        return v;
    k = preq_info(r, key);
    v = k != NULL && k->default_value != NULL ? k->default_value : "";
    *len = strlen(v);
    return v;
}

int32_t preq_str(const preq *r, const char *key, char *buf, size_t cap, rotp_error *err)
{
    size_t len = 0;
    const char *v = value_or_default(r, key, &len);

    if (cap == 0 || buf == NULL)
        return rerr_set(err, ROTP_E_INTERNAL, "%s: no buffer", key);
    buf[0] = '\0';
    if (len >= cap)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: longer than %zu bytes", key, cap - 1);
    memcpy(buf, v, len);
    buf[len] = '\0';
    return ROTP_E_OK;
}

int64_t preq_int(const preq *r, const char *key)
{
    size_t len = 0;
    const char *v = value_or_default(r, key, &len);
    int64_t n = 0;

    return parse_int(v, len, &n) ? n : 0;
}

bool preq_bool(const preq *r, const char *key)
{
    size_t len = 0;
    const char *v = value_or_default(r, key, &len);
    bool b = false;

    return parse_bool(v, len, &b) && b;
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
