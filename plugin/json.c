/* SPDX-License-Identifier: MIT */
/* json.c - the strict JSON reader: a grammar check, then jsmn for tokens, then duplicate keys.
 *
 * jsmn is a tokenizer, not a validator: even with JSMN_STRICT it accepts "nul", "[1,]", a missing
 * ':' or ',', raw control characters and bad escapes. So json_parse() first runs a small
 * recursive-descent check of the RFC 8259 grammar (plus UTF-8 validity, no \u0000 and no lone
 * surrogates), and only then lets jsmn build the token array over text known to be valid. */

/* This translation unit emits jsmn's functions, file-local (JSMN_STATIC); everything else
 * includes jsmn.h with JSMN_HEADER through json.h. The flags must match json.h's. */
#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "json.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"

#define JSON_MAX_DEPTH 128

/* ---------------------------------------------------------------------------------------------
 * Grammar check
 * ------------------------------------------------------------------------------------------- */

typedef struct vstate {
    const unsigned char *s;
    size_t len;
    size_t pos;
} vstate;

static int v_value(vstate *v, int depth);

static void v_ws(vstate *v)
{
    while (v->pos < v->len) {
        unsigned char c = v->s[v->pos];

        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        v->pos++;
    }
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads 4 hex digits at s[pos]. -1 if malformed. */
static long hex4(const unsigned char *s, size_t len, size_t pos)
{
    long v = 0;
    int i;

    if (pos + 4 > len)
        return -1;
    for (i = 0; i < 4; i++) {
        int h = hexval(s[pos + (size_t)i]);

        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Length of the well-formed UTF-8 sequence at s[pos] (1..4), or 0 if it is not well-formed. */
static size_t utf8_seq(const unsigned char *s, size_t len, size_t pos)
{
    unsigned char c = s[pos];
    size_t n, i;
    unsigned long cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (pos + n > len)
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[pos + i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[pos + i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* Decodes one unit of string content at raw[*pos] (an escape or one UTF-8 sequence) into out[4].
 * The content is between the quotes. Returns the number of bytes written (1..4), or 0 if the
 * content is invalid: a bad escape, \u0000, a lone surrogate, a control char, bad UTF-8. */
static size_t str_unit(const unsigned char *raw, size_t len, size_t *pos, unsigned char out[4])
{
    size_t p = *pos, n;
    unsigned long cp;
    long hi, lo;

    if (raw[p] < 0x20 || raw[p] == '"')
        return 0;
    if (raw[p] != '\\') {
        n = utf8_seq(raw, len, p);
        if (n == 0)
            return 0;
        memcpy(out, raw + p, n);
        *pos = p + n;
        return n;
    }
    if (p + 1 >= len)
        return 0;
    switch (raw[p + 1]) {
    case '"':
    case '\\':
    case '/':
        out[0] = raw[p + 1];
        break;
    case 'b':
        out[0] = '\b';
        break;
    case 'f':
        out[0] = '\f';
        break;
    case 'n':
        out[0] = '\n';
        break;
    case 'r':
        out[0] = '\r';
        break;
    case 't':
        out[0] = '\t';
        break;
    case 'u':
        hi = hex4(raw, len, p + 2);
        if (hi <= 0 || (hi >= 0xdc00 && hi <= 0xdfff))
            return 0; /* malformed, \u0000, or a low surrogate first */
        p += 6;
        cp = (unsigned long)hi;
        if (hi >= 0xd800 && hi <= 0xdbff) {
            if (p + 1 >= len || raw[p] != '\\' || raw[p + 1] != 'u')
                return 0;
            lo = hex4(raw, len, p + 2);
            if (lo < 0xdc00 || lo > 0xdfff)
                return 0;
            cp = 0x10000 + (((unsigned long)hi - 0xd800) << 10) + ((unsigned long)lo - 0xdc00);
            p += 6;
        }
        *pos = p;
        if (cp < 0x80) {
            out[0] = (unsigned char)cp;
            return 1;
        }
        if (cp < 0x800) {
            out[0] = (unsigned char)(0xc0 | (cp >> 6));
            out[1] = (unsigned char)(0x80 | (cp & 0x3f));
            return 2;
        }
        if (cp < 0x10000) {
            out[0] = (unsigned char)(0xe0 | (cp >> 12));
            out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
            out[2] = (unsigned char)(0x80 | (cp & 0x3f));
            return 3;
        }
        out[0] = (unsigned char)(0xf0 | (cp >> 18));
        out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        out[3] = (unsigned char)(0x80 | (cp & 0x3f));
        return 4;
    default:
        return 0;
    }
    *pos = p + 2;
    return 1;
}

static int v_string(vstate *v)
{
    unsigned char tmp[4];

    v->pos++; /* the opening quote */
    while (v->pos < v->len && v->s[v->pos] != '"') {
        if (str_unit(v->s, v->len, &v->pos, tmp) == 0)
            return JSON_EINVAL;
    }
    if (v->pos >= v->len)
        return JSON_EINVAL;
    v->pos++;
    return JSON_OK;
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int v_number(vstate *v)
{
    const unsigned char *s = v->s;

    if (v->pos < v->len && s[v->pos] == '-')
        v->pos++;
    if (v->pos >= v->len || !is_digit(s[v->pos]))
        return JSON_EINVAL;
    if (s[v->pos] == '0') {
        v->pos++;
    } else {
        while (v->pos < v->len && is_digit(s[v->pos]))
            v->pos++;
    }
    if (v->pos < v->len && s[v->pos] == '.') {
        v->pos++;
        if (v->pos >= v->len || !is_digit(s[v->pos]))
            return JSON_EINVAL;
        while (v->pos < v->len && is_digit(s[v->pos]))
            v->pos++;
    }
    if (v->pos < v->len && (s[v->pos] == 'e' || s[v->pos] == 'E')) {
        v->pos++;
        if (v->pos < v->len && (s[v->pos] == '+' || s[v->pos] == '-'))
            v->pos++;
        if (v->pos >= v->len || !is_digit(s[v->pos]))
            return JSON_EINVAL;
        while (v->pos < v->len && is_digit(s[v->pos]))
            v->pos++;
    }
    return JSON_OK;
}

static int v_literal(vstate *v, const char *word)
{
    size_t n = strlen(word);

    if (v->len - v->pos < n || memcmp(v->s + v->pos, word, n) != JSON_OK)
        return JSON_EINVAL;
    v->pos += n;
    return JSON_OK;
}

/* An object or array: '{' (string ':' value (',' string ':' value)*)? '}' and likewise. */
static int v_container(vstate *v, int depth)
{
    unsigned char close = v->s[v->pos] == '{' ? '}' : ']';

    if (depth >= JSON_MAX_DEPTH)
        return JSON_EINVAL;
    v->pos++;
    v_ws(v);
    if (v->pos < v->len && v->s[v->pos] == close) {
        v->pos++;
        return JSON_OK;
    }
    for (;;) {
        if (close == '}') {
            if (v->pos >= v->len || v->s[v->pos] != '"' || v_string(v) != JSON_OK)
                return JSON_EINVAL;
            v_ws(v);
            if (v->pos >= v->len || v->s[v->pos] != ':')
                return JSON_EINVAL;
            v->pos++;
            v_ws(v);
        }
        if (v_value(v, depth + 1) != JSON_OK)
            return JSON_EINVAL;
        v_ws(v);
        if (v->pos >= v->len)
            return JSON_EINVAL;
        if (v->s[v->pos] == close) {
            v->pos++;
            return JSON_OK;
        }
        if (v->s[v->pos] != ',')
            return JSON_EINVAL;
        v->pos++;
        v_ws(v);
    }
}

static int v_value(vstate *v, int depth)
{
    if (v->pos >= v->len)
        return JSON_EINVAL;
    switch (v->s[v->pos]) {
    case '{':
    case '[':
        return v_container(v, depth);
    case '"':
        return v_string(v);
    case 't':
        return v_literal(v, "true");
    case 'f':
        return v_literal(v, "false");
    case 'n':
        return v_literal(v, "null");
    default:
        return v_number(v);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Strings
 * ------------------------------------------------------------------------------------------- */

/* The raw content of a string token (between the quotes). */
static bool str_raw(const json_doc *doc, int tok, const unsigned char **raw, size_t *len)
{
    if (!json_is_string(doc, tok))
        return false;
    *raw = (const unsigned char *)doc->js + doc->toks[tok].start;
    *len = (size_t)(doc->toks[tok].end - doc->toks[tok].start);
    return true;
}

/* Unescapes raw content into out (at least len + 1 bytes: unescaping never grows). Returns the
 * unescaped length, or (size_t)-1 if invalid. */
static size_t unescape(const unsigned char *raw, size_t len, char *out)
{
    size_t pos = 0, n = 0;

    while (pos < len) {
        size_t k = str_unit(raw, len, &pos, (unsigned char *)out + n);

        if (k == 0)
            return (size_t)-1;
        n += k;
    }
    out[n] = '\0';
    return n;
}

/* true when the unescaped contents of two raw strings are equal; allocates nothing. */
static bool raw_equal(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
    size_t pa = 0, pb = 0;

    while (pa < alen && pb < blen) {
        unsigned char ua[4] = {0}, ub[4] = {0};
        size_t na = str_unit(a, alen, &pa, ua), nb = str_unit(b, blen, &pb, ub);

        if (na == 0 || na != nb || memcmp(ua, ub, na) != 0)
            return false;
    }
    return pa == alen && pb == blen;
}

/* true when the unescaped content of a raw string equals the plain bytes s[0..slen). */
static bool raw_equal_plain(const unsigned char *raw, size_t len, const char *s, size_t slen)
{
    size_t pos = 0, n = 0;

    while (pos < len) {
        unsigned char u[4];
        size_t k = str_unit(raw, len, &pos, u);

        if (k == 0 || n + k > slen || memcmp(u, s + n, k) != 0)
            return false;
        n += k;
    }
    return n == slen;
}

/* FNV-1a of the unescaped content, for grouping keys before comparing them. */
static uint64_t raw_hash(const unsigned char *raw, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    size_t pos = 0;

    while (pos < len) {
        unsigned char u[4];
        size_t n = str_unit(raw, len, &pos, u), i;

        if (n == 0)
            break;
        for (i = 0; i < n; i++)
            h = (h ^ u[i]) * 1099511628211ULL;
    }
    return h;
}

/* ---------------------------------------------------------------------------------------------
 * Duplicate keys
 * ------------------------------------------------------------------------------------------- */

typedef struct keyref {
    uint64_t hash;
    int tok;
} keyref;

static int keyref_cmp(const void *a, const void *b)
{
    const keyref *x = a, *y = b;

    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return (x->tok > y->tok) - (x->tok < y->tok);
}

static bool keys_equal(const json_doc *doc, int a, int b)
{
    const unsigned char *ra = NULL, *rb = NULL;
    size_t la = 0, lb = 0;

    /* Object keys are always strings (the validator saw to that); checked anyway. */
    if (!str_raw(doc, a, &ra, &la) || !str_raw(doc, b, &rb, &lb))
        return false;
    return raw_equal(ra, la, rb, lb);
}

/* JSON_OK, JSON_EDUPKEY or JSON_ENOMEM. */
static int check_dup_keys(const json_doc *doc)
{
    keyref *keys = NULL;
    int i, rc = JSON_OK;

    for (i = 0; i < doc->ntoks && rc == JSON_OK; i++) {
        int nk = 0, k, j, g;

        if (doc->toks[i].type != JSMN_OBJECT || doc->toks[i].size < 2)
            continue;
        if (keys == NULL) {
            keys = rotp__malloc(sizeof(*keys) * (size_t)(doc->ntoks / 2 + 1));
            if (keys == NULL)
                return JSON_ENOMEM;
        }
        for (k = i + 1; nk < doc->toks[i].size; nk++) {
            const unsigned char *raw = NULL;
            size_t len = 0;

            keys[nk].hash = str_raw(doc, k, &raw, &len) ? raw_hash(raw, len) : 0;
            keys[nk].tok = k;
            k = json_skip(doc, k + 1); /* past the key's value */
        }
        qsort(keys, (size_t)nk, sizeof(*keys), keyref_cmp);
        for (g = 0; g < nk && rc == JSON_OK; g++) {
            for (j = g + 1; j < nk && keys[j].hash == keys[g].hash; j++) {
                if (keys_equal(doc, keys[g].tok, keys[j].tok)) {
                    rc = JSON_EDUPKEY;
                    break;
                }
            }
        }
    }
    rotp__free(keys);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Parsing
 * ------------------------------------------------------------------------------------------- */

/* The grammar check of a whole body: one value, white space around it. *first and *end get the
 * value's bounds. JSON_OK or JSON_EINVAL. */
static int v_body(const char *js, size_t len, size_t *first, size_t *end)
{
    vstate v = {(const unsigned char *)js, len, 0};

    if (js == NULL || len == 0 || len > JSON_MAX_BODY || memchr(js, '\0', len) != NULL)
        return JSON_EINVAL;
    v_ws(&v);
    *first = v.pos;
    if (v_value(&v, 0) != JSON_OK)
        return JSON_EINVAL;
    *end = v.pos;
    v_ws(&v);
    return v.pos == len ? JSON_OK : JSON_EINVAL; /* else trailing garbage or a second value */
}

bool json_valid(const char *js, size_t len)
{
    size_t first, end;

    return v_body(js, len, &first, &end) == JSON_OK;
}

int json_parse(json_doc *doc, const char *js, size_t len)
{
    jsmn_parser p;
    size_t first = 0, value_end = 0;
    int n, rc;

    doc->js = js;
    doc->len = len;
    doc->toks = NULL;
    doc->ntoks = 0;
    if (v_body(js, len, &first, &value_end) != JSON_OK)
        return JSON_EINVAL;

    if (js[first] != '{' && js[first] != '[' && js[first] != '"') {
        /* A bare top-level number or literal: JSMN_STRICT reports those as JSMN_ERROR_PART, so
         * the single token is built here from the grammar check's bounds. */
        doc->toks = rotp__calloc(1, sizeof(*doc->toks));
        if (doc->toks == NULL)
            return JSON_ENOMEM;
        doc->toks[0].type = JSMN_PRIMITIVE;
        doc->toks[0].start = (int)first;
        doc->toks[0].end = (int)value_end;
        doc->toks[0].size = 0;
        doc->toks[0].parent = -1;
        doc->ntoks = 1;
        return JSON_OK;
    }

    jsmn_init(&p);
    n = jsmn_parse(&p, js, len, NULL, 0);
    if (n <= 0)
        return JSON_EINVAL;
    doc->toks = rotp__malloc(sizeof(*doc->toks) * (size_t)n);
    if (doc->toks == NULL)
        return JSON_ENOMEM;
    jsmn_init(&p);
    rc = jsmn_parse(&p, js, len, doc->toks, (unsigned int)n);
    if (rc != n) {
        /* cannot happen on text the grammar check accepted; refuse rather than trust it */
        json_free(doc);
        return JSON_EINVAL;
    }
    doc->ntoks = n;
    rc = check_dup_keys(doc);
    if (rc != JSON_OK)
        json_free(doc);
    return rc;
}

void json_free(json_doc *doc)
{
    if (doc == NULL)
        return;
    rotp__free(doc->toks);
    doc->toks = NULL;
    doc->ntoks = 0;
}

/* ---------------------------------------------------------------------------------------------
 * Navigation and typed access
 * ------------------------------------------------------------------------------------------- */

static bool tok_ok(const json_doc *doc, int tok)
{
    return doc != NULL && doc->toks != NULL && tok >= 0 && tok < doc->ntoks;
}

int json_skip(const json_doc *doc, int tok)
{
    int j;

    if (!tok_ok(doc, tok))
        return doc != NULL ? doc->ntoks : 0;
    /* descendants lie inside the token's text; the next token after them starts at or past end */
    for (j = tok + 1; j < doc->ntoks && doc->toks[j].start < doc->toks[tok].end; j++)
        ;
    return j;
}

int json_get(const json_doc *doc, int obj, const char *key)
{
    int i, k;

    if (!json_is_object(doc, obj) || key == NULL)
        return JSON_NONE;
    for (i = 0, k = obj + 1; i < doc->toks[obj].size && k < doc->ntoks; i++) {
        if (json_str_eq(doc, k, key))
            return k + 1 < doc->ntoks ? k + 1 : JSON_NONE;
        k = json_skip(doc, k + 1);
    }
    return JSON_NONE;
}

int json_at(const json_doc *doc, int arr, int i)
{
    int n, k;

    if (!json_is_array(doc, arr) || i < 0 || i >= doc->toks[arr].size)
        return JSON_NONE;
    for (n = 0, k = arr + 1; n < i; n++)
        k = json_skip(doc, k);
    return k < doc->ntoks ? k : JSON_NONE;
}

static bool is_primitive(const json_doc *doc, int tok, char first)
{
    return tok_ok(doc, tok) && doc->toks[tok].type == JSMN_PRIMITIVE &&
           doc->js[doc->toks[tok].start] == first;
}

bool json_is_null(const json_doc *doc, int tok)
{
    return is_primitive(doc, tok, 'n');
}

bool json_is_string(const json_doc *doc, int tok)
{
    return tok_ok(doc, tok) && doc->toks[tok].type == JSMN_STRING;
}

bool json_is_object(const json_doc *doc, int tok)
{
    return tok_ok(doc, tok) && doc->toks[tok].type == JSMN_OBJECT;
}

bool json_is_array(const json_doc *doc, int tok)
{
    return tok_ok(doc, tok) && doc->toks[tok].type == JSMN_ARRAY;
}

int json_get_bool(const json_doc *doc, int tok, bool *out)
{
    if (is_primitive(doc, tok, 't')) {
        *out = true;
        return JSON_OK;
    }
    if (is_primitive(doc, tok, 'f')) {
        *out = false;
        return JSON_OK;
    }
    return JSON_EINVAL;
}

int json_get_int64(const json_doc *doc, int tok, int64_t *out)
{
    const char *s;
    size_t len, i = 0;
    bool neg = false;
    uint64_t v = 0, limit;

    if (!tok_ok(doc, tok) || doc->toks[tok].type != JSMN_PRIMITIVE)
        return JSON_EINVAL;
    s = doc->js + doc->toks[tok].start;
    len = (size_t)(doc->toks[tok].end - doc->toks[tok].start);
    if (len > 0 && s[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i >= len)
        return JSON_EINVAL;
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return JSON_EINVAL; /* a fraction, an exponent, or a literal */
        if (v > (limit - (uint64_t)(s[i] - '0')) / 10)
            return JSON_EINVAL;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return JSON_OK;
}

int json_strdup(const json_doc *doc, int tok, char **out)
{
    const unsigned char *raw;
    size_t len;
    char *p;

    *out = NULL;
    if (!str_raw(doc, tok, &raw, &len))
        return JSON_EINVAL;
    p = rotp__malloc(len + 1);
    if (p == NULL)
        return JSON_ENOMEM;
    if (unescape(raw, len, p) == (size_t)-1) {
        rotp__free(p);
        return JSON_EINVAL;
    }
    *out = p;
    return JSON_OK;
}

int json_secretdup(const json_doc *doc, int tok, secret_buf **out)
{
    const unsigned char *raw;
    size_t len, n;
    char *scratch;
    int rc = JSON_OK;

    *out = NULL;
    if (!str_raw(doc, tok, &raw, &len))
        return JSON_EINVAL;
    scratch = rotp__malloc(len + 1);
    if (scratch == NULL)
        return JSON_ENOMEM;
    n = unescape(raw, len, scratch);
    if (n == (size_t)-1) {
        rc = JSON_EINVAL;
        goto out_wipe_scratch;
    }
    *out = secret_new(scratch, n);
    if (*out == NULL)
        rc = JSON_ENOMEM;
out_wipe_scratch:
    secret_wipe(scratch, len + 1);
    rotp__free(scratch);
    return rc;
}

int json_strcpy(const json_doc *doc, int tok, char *buf, size_t cap)
{
    const unsigned char *raw;
    size_t len, pos = 0, n = 0;

    if (buf == NULL || cap == 0)
        return JSON_ESPACE;
    buf[0] = '\0';
    if (!str_raw(doc, tok, &raw, &len))
        return JSON_EINVAL;
    while (pos < len) {
        unsigned char u[4];
        size_t k = str_unit(raw, len, &pos, u);

        if (k == 0) {
            buf[0] = '\0';
            return JSON_EINVAL;
        }
        if (n + k + 1 > cap) {
            buf[0] = '\0';
            return JSON_ESPACE;
        }
        memcpy(buf + n, u, k);
        n += k;
    }
    buf[n] = '\0';
    return JSON_OK;
}

bool json_str_eq(const json_doc *doc, int tok, const char *s)
{
    const unsigned char *raw;
    size_t len;

    if (s == NULL || !str_raw(doc, tok, &raw, &len))
        return false;
    return raw_equal_plain(raw, len, s, strlen(s));
}

const char *json_raw(const json_doc *doc, int tok, size_t *len)
{
    if (!tok_ok(doc, tok)) {
        *len = 0;
        return NULL;
    }
    /* jsmn's bounds: a string's are inside its quotes, so its text comes back still escaped */
    *len = (size_t)(doc->toks[tok].end - doc->toks[tok].start);
    return doc->js + doc->toks[tok].start;
}
