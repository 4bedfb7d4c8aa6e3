/* SPDX-License-Identifier: MIT */
/* log.c - the provider's logger and the redactor every log line and error message goes through.
 *
 * Known secrets are matched in any encoding without decoding the text first: at each position
 * the matcher walks the secret byte by byte and accepts, for each byte, the raw byte, its
 * percent-encoding (%2F or %2f, also twice encoded as %252F), or its JSON escape (\u002f, and \/
 * for '/'). So a server that quotes a token back with some characters encoded is still caught. */
#include "log.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define REDACTED        "[REDACTED]"
#define REDACT_RUN_MIN  40 /* a legacy API token is 40 chars of [A-Za-z0-9_-] (API-NOTES 7) */
#define REDACT_PART_MIN 12 /* this much of the start of a known secret is masked anywhere */
#define REDACT_TAIL_MIN 6  /* a cut message ending in this much of a secret loses that tail */
#define LOG_QUERY_MARK  "?[query]"

/* Where redacted text goes: a growable dynbuf, or a fixed buffer that is cut when full. */
typedef struct rsink {
    dynbuf *db;
    char *buf;
    size_t cap;
    size_t len;
    int rc;
} rsink;

static void sink_put(rsink *s, const char *p, size_t n)
{
    size_t room;

    if (s->rc != 0 || n == 0)
        return;
    if (s->db != NULL) {
        s->rc = dynbuf_add(s->db, p, n);
        return;
    }
    room = s->cap - 1 - s->len;
    if (n > room) {
        n = room;
        s->rc = -2; /* full: the rest is dropped */
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
}

/* [A-Za-z0-9_-]: the characters of a token-like run. */
static bool is_run_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* Characters that may continue a scannable secret after its run (API-NOTES 7: [-A-Za-z0-9._~+/]
 * then '='s), so the whole value goes, not just its first run. */
static bool is_secret_tail_char(unsigned char c)
{
    return is_run_char(c) || c == '.' || c == '~' || c == '+' || c == '/' || c == '=';
}

/* The value of the hex digit c, or -1. (json.c has the same helper for \u escapes.) */
static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The byte spelled by the n hex digits at in[i], or -1 (also past the end, or above 0xff). */
static int hexbyte(const char *in, size_t len, size_t i, size_t n)
{
    int v = 0;

    if (i + n > len)
        return -1;
    for (size_t k = 0; k < n; k++) {
        int d = hexval(in[i + k]);

        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v <= 0xff ? v : -1;
}

/* How many bytes at in[i] spell the byte `want`: 1 (raw), 3 (%XX), 5 (%25XX), 6 (\u00XX),
 * 2 (\/ \\ \"), or 0 when they do not. */
static size_t unit_match(const char *in, size_t len, size_t i, unsigned char want)
{
    unsigned char c = (unsigned char)in[i];

    if (c == '%') {
        int v = hexbyte(in, len, i + 1, 2);
        if (v == want)
            return 3;
        if (v == '%' && hexbyte(in, len, i + 3, 2) == want)
            return 5;
    } else if (c == '\\' && i + 1 < len) {
        if (in[i + 1] == 'u' && hexbyte(in, len, i + 2, 4) == want)
            return 6;
        if ((unsigned char)in[i + 1] == want && (want == '/' || want == '\\' || want == '"'))
            return 2;
    }
    return c == want ? 1 : 0;
}

/* Walks secret v against in[i..]: the bytes of in consumed for the first *matched bytes of v,
 * stopping at the first byte that does not match or at the end of in. */
static size_t value_walk(const char *in, size_t len, size_t i, const plog_value *v, size_t *matched)
{
    size_t j = i, k;

    for (k = 0; k < v->len && j < len; k++) {
        size_t u = unit_match(in, len, j, (unsigned char)v->data[k]);
        if (u == 0)
            break;
        j += u;
    }
    *matched = k;
    return j - i;
}

/* The length of the longest known secret (in any encoding) that starts at in[i], or 0. The first
 * REDACT_PART_MIN or more bytes of a secret count too: text cut by a server or by a buffer limit
 * may hold the start of a secret without its end. */
static size_t known_match(const char *in, size_t len, size_t i, const plog_value *known,
                          size_t nknown)
{
    size_t k, best = 0;

    for (k = 0; k < nknown; k++) {
        size_t matched, used;

        if (known[k].data == NULL || known[k].len == 0)
            continue;
        used = value_walk(in, len, i, &known[k], &matched);
        if ((matched == known[k].len || matched >= REDACT_PART_MIN) && used > best)
            best = used;
    }
    return best;
}

/* Views of the registered secrets (their current content). Returns how many were written. */
static size_t views_of(const secret_buf *const *known, size_t nknown, plog_value *out, size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; i < nknown && n < cap; i++) {
        if (known[i] != NULL && known[i]->data != NULL && known[i]->len > 0) {
            out[n].data = known[i]->data;
            out[n].len = known[i]->len;
            n++;
        }
    }
    return n;
}

/* Every secret l knows now: registered, the call's values, the retired copies. */
static size_t plog_views(const plog *l, plog_value *out)
{
    size_t n = views_of(l->known, l->nknown, out, LOG_MAX_VIEWS);

    for (size_t i = 0; i < l->ncall && n < LOG_MAX_VIEWS; i++)
        out[n++] = l->call[i];
    n += views_of((const secret_buf *const *)l->retired, l->nretired, out + n, LOG_MAX_VIEWS - n);
    return n;
}

/* true when the run in[0..n) holds a scannable-secret prefix. */
static bool has_cf_prefix(const char *in, size_t n)
{
    static const char *const prefixes[] = {"cfut_", "cfat_", "cfk_"};
    size_t p, i;

    for (p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++) {
        size_t pl = strlen(prefixes[p]);

        for (i = 0; i + pl <= n; i++) {
            if (memcmp(in + i, prefixes[p], pl) == 0)
                return true;
        }
    }
    return false;
}

/* The redaction engine shared by both sinks. */
static void redact_scan(rsink *s, const char *in, size_t len, const plog_value *known,
                        size_t nknown)
{
    size_t i = 0;
    bool run_start = true; /* the previous byte did not continue a run */

    while (i < len) {
        unsigned char c = (unsigned char)in[i];
        size_t m = known_match(in, len, i, known, nknown);

        if (m > 0) {
            sink_put(s, REDACTED, sizeof(REDACTED) - 1);
            i += m;
            run_start = true;
            continue;
        }
        if (is_run_char(c) && run_start) {
            size_t j = i, k;
            bool prefixed;

            while (j < len && is_run_char((unsigned char)in[j]))
                j++;
            prefixed = has_cf_prefix(in + i, j - i);
            if (prefixed || j - i >= REDACT_RUN_MIN) {
                if (prefixed) {
                    while (j < len && is_secret_tail_char((unsigned char)in[j]))
                        j++;
                }
                /* a known secret that starts inside the run may reach past it */
                for (k = i; k < j; k++) {
                    size_t km = known_match(in, len, k, known, nknown);

                    if (k + km > j)
                        j = k + km;
                }
                sink_put(s, REDACTED, sizeof(REDACTED) - 1);
                i = j;
                run_start = true;
                continue;
            }
        }
        /* control characters would split or forge lines */
        sink_put(s, c < 0x20 || c == 0x7f ? " " : (const char *)&in[i], 1);
        run_start = !is_run_char(c);
        i++;
    }
}

int redact_into(dynbuf *out, const char *in, size_t len, const secret_buf *const *known,
                size_t nknown)
{
    rsink s = {out, NULL, 0, 0, 0};
    size_t start = out->len;
    plog_value views[LOG_MAX_VIEWS];
    size_t nviews = views_of(known, nknown, views, LOG_MAX_VIEWS);

    redact_scan(&s, in, len, views, nviews);
    if (s.rc != 0 && out->data != NULL) {
        secret_wipe(out->data + start, out->len - start);
        out->len = start;
        out->data[start] = '\0';
    }
    return s.rc;
}

/* redact_to_buf() over views. */
static size_t redact_views_to_buf(char *out, size_t cap, const char *in, size_t len,
                                  const plog_value *views, size_t nviews)
{
    rsink s = {NULL, out, cap, 0, 0};

    if (out == NULL || cap == 0)
        return 0;
    redact_scan(&s, in, len, views, nviews);
    if (s.rc != 0) {
        /* cut: do not end inside a UTF-8 sequence */
        size_t n = s.len;

        while (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0x80)
            n--;
        if (n > 0 && ((unsigned char)out[n - 1] & 0x80) != 0) {
            unsigned char lead = (unsigned char)out[n - 1];
            size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;

            if (s.len - (n - 1) < need)
                s.len = n - 1;
        }
    }
    out[s.len] = '\0';
    return s.len;
}

size_t redact_to_buf(char *out, size_t cap, const char *in, size_t len,
                     const secret_buf *const *known, size_t nknown)
{
    plog_value views[LOG_MAX_VIEWS];
    size_t nviews = views_of(known, nknown, views, LOG_MAX_VIEWS);

    return redact_views_to_buf(out, cap, in, len, views, nviews);
}

size_t redact_trim_cut(const char *s, size_t len)
{
    while (len > 0 && is_run_char((unsigned char)s[len - 1]))
        len--;
    return len;
}

void plog_init(plog *l, const rotp_host *host)
{
    memset(l, 0, sizeof(*l));
    if (ROTP_HAS_FIELD(host, rotp_host, log_user) && host->log != NULL) {
        l->fn = host->log;
        l->user = host->log_user;
        l->level = host->log_level;
    }
}

void plog_remember(plog *l, const secret_buf *s)
{
    size_t i;

    if (l == NULL || s == NULL)
        return;
    for (i = 0; i < l->nknown; i++) {
        if (l->known[i] == s)
            return;
    }
    if (l->nknown == LOG_MAX_KNOWN) {
        memmove(&l->known[0], &l->known[1], sizeof(l->known[0]) * (LOG_MAX_KNOWN - 1));
        l->nknown--;
    }
    l->known[l->nknown++] = s;
}

/* Keeps a wiping copy of s until plog_call_end() (the oldest copy goes when the table is full).
 * Allocation failure: no copy (the shape rules remain). */
static void plog_retire(plog *l, const secret_buf *s)
{
    secret_buf *copy;

    if (s->data == NULL || s->len == 0)
        return;
    copy = secret_new(s->data, s->len);
    if (copy == NULL)
        return;
    if (l->nretired == LOG_MAX_RETIRED) {
        secret_free(l->retired[0]);
        memmove(&l->retired[0], &l->retired[1], sizeof(l->retired[0]) * (LOG_MAX_RETIRED - 1));
        l->nretired--;
    }
    l->retired[l->nretired++] = copy;
}

void plog_forget(plog *l, const secret_buf *s)
{
    size_t i;

    if (l == NULL || s == NULL)
        return;
    for (i = 0; i < l->nknown; i++) {
        if (l->known[i] == s) {
            if (l->in_call)
                plog_retire(l, s);
            memmove(&l->known[i], &l->known[i + 1], sizeof(l->known[0]) * (l->nknown - i - 1));
            l->nknown--;
            l->known[l->nknown] = NULL;
            return;
        }
    }
}

void plog_call_begin(plog *l, const rotp_params *req)
{
    size_t stride;

    if (l == NULL)
        return;
    plog_call_end(l);
    l->in_call = true;
    /* The request passed params_check(): items[0].struct_size is the stride of the array. */
    if (req == NULL || req->count == 0 || req->items == NULL)
        return;
    stride = req->items[0].struct_size;
    if (stride < offsetof(rotp_param, value_len) + sizeof(req->items[0].value_len) ||
        stride % alignof(rotp_param) != 0)
        return;
    for (uint32_t i = 0; i < req->count && l->ncall < LOG_MAX_CALL; i++) {
        const rotp_param *p = (const rotp_param *)((const char *)req->items + (size_t)i * stride);

        if ((p->flags & ROTP_PARAM_SECRET) != 0 && p->value != NULL && p->value_len > 0) {
            l->call[l->ncall].data = p->value;
            l->call[l->ncall].len = (size_t)p->value_len;
            l->ncall++;
        }
    }
}

void plog_call_end(plog *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->nretired; i++)
        secret_free(l->retired[i]);
    memset(l->retired, 0, sizeof(l->retired));
    memset(l->call, 0, sizeof(l->call));
    l->nretired = 0;
    l->ncall = 0;
    l->in_call = false;
}

/* The start of a tail of in[0..len) that spells the first REDACT_TAIL_MIN or more bytes of a
 * known secret and reaches the end of in (a secret cut by truncation), or len when none does. */
static size_t secret_tail(const char *in, size_t len, const plog_value *views, size_t nviews)
{
    for (size_t i = 0; i < len; i++) {
        for (size_t k = 0; k < nviews; k++) {
            size_t matched, used = value_walk(in, len, i, &views[k], &matched);

            if (i + used == len && matched >= REDACT_TAIL_MIN)
                return i;
        }
    }
    return len;
}

void plog_redact_error(const plog *l, rotp_error *err)
{
    char raw[ROTP_ERROR_MESSAGE_MAX];
    plog_value views[LOG_MAX_VIEWS];
    size_t nviews, len, cut;

    if (l == NULL || !ROTP_HAS_FIELD(err, rotp_error, message))
        return;
    nviews = plog_views(l, views);
    len = strnlen(err->message, sizeof(err->message));
    memcpy(raw, err->message, len);
    cut = secret_tail(raw, len, views, nviews);
    if (cut < len) {
        size_t room = sizeof(raw) - 1 - (sizeof(REDACTED) - 1);

        if (cut > room)
            cut = room;
        memcpy(raw + cut, REDACTED, sizeof(REDACTED) - 1);
        len = cut + sizeof(REDACTED) - 1;
    }
    redact_views_to_buf(err->message, sizeof(err->message), raw, len, views, nviews);
    secret_wipe(raw, sizeof(raw));
}

/* Copies in[0..len) to out (cap bytes, NUL-terminated) with every URL query string replaced by
 * LOG_QUERY_MARK: a '?' right after a non-space character and followed by text (up to a space,
 * quote or control character, or a ':' that ends a word) that holds '=' or '&'. Returns the
 * length written. */
static size_t strip_queries(char *out, size_t cap, const char *in, size_t len)
{
    size_t o = 0, i = 0;

    while (i < len && o + 1 < cap) {
        if (in[i] == '?' && i > 0 && in[i - 1] != ' ') {
            size_t j = i + 1;
            bool query = false;

            while (j < len && (unsigned char)in[j] > 0x20 && in[j] != '"' && in[j] != '\'' &&
                   in[j] != 0x7f && !(in[j] == ':' && (j + 1 == len || in[j + 1] == ' '))) {
                query = query || in[j] == '=' || in[j] == '&';
                j++;
            }
            if (query) {
                size_t n = sizeof(LOG_QUERY_MARK) - 1;

                if (n > cap - 1 - o)
                    n = cap - 1 - o;
                memcpy(out + o, LOG_QUERY_MARK, n);
                o += n;
                i = j;
                continue;
            }
        }
        out[o++] = in[i++];
    }
    out[o] = '\0';
    return o;
}

void plog_write(const plog *l, int32_t level, const char *fmt, ...)
{
    char raw[LOG_LINE_MAX];
    char plain[LOG_LINE_MAX];
    char line[LOG_LINE_MAX];
    plog_value views[LOG_MAX_VIEWS];
    size_t nviews;
    va_list ap;
    int n;
    size_t len, out;

    if (l == NULL || l->fn == NULL || level <= 0 || level > l->level || fmt == NULL)
        return;
    va_start(ap, fmt);
    n = vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    if (n < 0)
        goto out_wipe;
    len = (size_t)n;
    if (len >= sizeof(raw))
        len = redact_trim_cut(raw, sizeof(raw) - 1);
    len = strip_queries(plain, sizeof(plain), raw, len);
    nviews = plog_views(l, views);
    if ((size_t)n >= sizeof(raw))
        len = secret_tail(plain, len, views, nviews);
    /* Into a stack buffer rather than a dynbuf: logging must work when memory is short. */
    out = redact_views_to_buf(line, sizeof(line), plain, len, views, nviews);
    l->fn(l->user, level, line, out);
out_wipe:
    /* raw and plain held the unredacted text */
    secret_wipe(raw, sizeof(raw));
    secret_wipe(plain, sizeof(plain));
    secret_wipe(line, sizeof(line));
}
