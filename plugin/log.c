/* log.c - the provider's logger and the redactor every log line and error message goes through. */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define REDACTED       "[REDACTED]"
#define REDACT_RUN_MIN 40 /* a legacy API token is 40 chars of [A-Za-z0-9_-] (API-NOTES 7) */

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

/* The length of the longest known secret that starts at in[i], or 0. */
static size_t known_match(const char *in, size_t len, size_t i, const secret_buf *const *known,
                          size_t nknown)
{
    size_t k, best = 0;

    for (k = 0; k < nknown; k++) {
        const secret_buf *sb = known[k];

        if (sb == NULL || sb->data == NULL || sb->len == 0 || sb->len > len - i)
            continue;
        if (sb->len > best && memcmp(in + i, sb->data, sb->len) == 0)
            best = sb->len;
    }
    return best;
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
static void redact_scan(rsink *s, const char *in, size_t len, const secret_buf *const *known,
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

    redact_scan(&s, in, len, known, nknown);
    if (s.rc != 0 && out->data != NULL) {
        out->len = start;
        out->data[start] = '\0';
    }
    return s.rc;
}

size_t redact_to_buf(char *out, size_t cap, const char *in, size_t len,
                     const secret_buf *const *known, size_t nknown)
{
    rsink s = {NULL, out, cap, 0, 0};

    if (out == NULL || cap == 0)
        return 0;
    redact_scan(&s, in, len, known, nknown);
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

void plog_forget(plog *l, const secret_buf *s)
{
    size_t i;

    if (l == NULL || s == NULL)
        return;
    for (i = 0; i < l->nknown; i++) {
        if (l->known[i] == s) {
            memmove(&l->known[i], &l->known[i + 1], sizeof(l->known[0]) * (l->nknown - i - 1));
            l->nknown--;
            l->known[l->nknown] = NULL;
            return;
        }
    }
}

void plog_write(const plog *l, int32_t level, const char *fmt, ...)
{
    char raw[LOG_LINE_MAX];
    char line[LOG_LINE_MAX];
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
    /* Into a stack buffer rather than a dynbuf: logging must work when memory is short. */
    out = redact_to_buf(line, sizeof(line), raw, len, l->known, l->nknown);
    l->fn(l->user, level, line, out);
out_wipe:
    /* raw held the unredacted text */
    secret_wipe(raw, sizeof(raw));
    secret_wipe(line, sizeof(line));
}
