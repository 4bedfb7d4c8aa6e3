/* SPDX-License-Identifier: MIT */
/* ratelimit.c - the RateLimit header parsers and the pacing arithmetic (contract in
 * ratelimit.h). The header syntax is the subset of RFC 8941 structured fields the IETF drafts
 * use: lists of items with parameters, and the older dictionary. */
#include "ratelimit.h"

#include <string.h>

#include "secret.h"

#define RL_MAX_COUNT       1000000000 /* a larger r or q is taken as this */
#define RL_INT_DIGITS      15         /* RFC 8941: at most 15 digits */
#define RL_KEY_MAX         64
#define RL_RESET_MARGIN_MS 100 /* sent after the announced reset, never at its edge */

/* ---------------------------------------------------------------------------------------------
 * SipHash-2-4 (Aumasson and Bernstein), for telling tokens apart without keeping them
 * ------------------------------------------------------------------------------------------- */

#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = ROTL64(v1, 13);                                                                       \
        v1 ^= v0;                                                                                  \
        v0 = ROTL64(v0, 32);                                                                       \
        v2 += v3;                                                                                  \
        v3 = ROTL64(v3, 16);                                                                       \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = ROTL64(v3, 21);                                                                       \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = ROTL64(v1, 17);                                                                       \
        v1 ^= v2;                                                                                  \
        v2 = ROTL64(v2, 32);                                                                       \
    } while (0)

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

uint64_t rl_siphash(uint64_t k0, uint64_t k1, const void *data, size_t len)
{
    const unsigned char *in = data;
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
    uint64_t m, b = (uint64_t)len << 56;
    size_t i, full = len - len % 8;

    for (i = 0; i < full; i += 8) {
        m = load_le64(in + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t j = 0; j < len % 8; j++)
        b |= (uint64_t)in[full + j] << (8 * j);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* ---------------------------------------------------------------------------------------------
 * State and arithmetic
 * ------------------------------------------------------------------------------------------- */

void rl_init(rl_state *s, uint64_t k0, uint64_t k1)
{
    memset(s, 0, sizeof(*s));
    s->k0 = k0;
    s->k1 = k1;
}

void rl_wipe(rl_state *s)
{
    if (s != NULL)
        secret_wipe(s, sizeof(*s));
}

rl_bucket *rl_bucket_for(rl_state *s, const char *token, size_t len, int64_t now_ms)
{
    uint64_t key = rl_siphash(s->k0, s->k1, token, len);
    rl_bucket *b = &s->slots[0];

    if (key == 0)
        key = 1; /* 0 marks a free slot */
    for (size_t i = 0; i < RL_SLOTS; i++) {
        if (s->slots[i].key == key) {
            s->slots[i].last_use_ms = now_ms;
            return &s->slots[i];
        }
    }
    for (size_t i = 0; i < RL_SLOTS; i++) {
        if (s->slots[i].key == 0) {
            b = &s->slots[i];
            break;
        }
        if (s->slots[i].last_use_ms < b->last_use_ms)
            b = &s->slots[i];
    }
    memset(b, 0, sizeof(*b));
    b->key = key;
    b->last_use_ms = now_ms;
    b->quota = RL_DEFAULT_QUOTA;
    b->window_ms = RL_DEFAULT_WINDOW_MS;
    b->remaining = RL_DEFAULT_QUOTA;
    return b;
}

uint64_t rl_wait_ms(rl_bucket *b, int64_t now_ms, uint32_t *reason)
{
    *reason = RL_WAIT_NONE;
    if (b->blocked_until > now_ms) {
        *reason = RL_WAIT_RETRY_AFTER;
        return (uint64_t)(b->blocked_until - now_ms);
    }
    b->blocked_until = 0;
    if (b->reset_at_ms != 0 && now_ms >= b->reset_at_ms) {
        /* the window is over: a fresh one starts with the next request */
        b->remaining = b->quota;
        b->reset_at_ms = 0;
        b->from_server = false;
    }
    if (b->reset_at_ms != 0 && b->remaining <= 0) {
        *reason = RL_WAIT_QUOTA;
        return (uint64_t)(b->reset_at_ms - now_ms);
    }
    return 0;
}

void rl_note_sent(rl_bucket *b, int64_t now_ms)
{
    if (b->reset_at_ms == 0)
        b->reset_at_ms = now_ms + b->window_ms;
    if (b->remaining > 0)
        b->remaining--;
    b->last_use_ms = now_ms;
}

void rl_note_response(rl_bucket *b, int64_t now_ms, const rl_info *info, long status,
                      uint64_t retry_after_ms)
{
    int64_t until;

    if (info != NULL && info->have_policy) {
        b->quota = info->quota > 0 ? info->quota : 1;
        if (info->window_s > 0)
            b->window_ms = info->window_s * 1000;
    }
    if (info != NULL && info->have_reset) {
        int64_t at = now_ms + info->reset_s * 1000 + RL_RESET_MARGIN_MS;

        /* t counts whole seconds, so each answer gives an upper bound up to a second late; in
         * the same window (an estimate less than a second past the last) the earliest holds */
        if (b->reset_at_ms > now_ms && at >= b->reset_at_ms && at < b->reset_at_ms + 1000)
            at = b->reset_at_ms;
        b->reset_at_ms = at;
    }
    if (info != NULL && info->have_remaining) {
        b->remaining = info->remaining;
        b->from_server = true;
        if (!info->have_reset && b->reset_at_ms == 0)
            b->reset_at_ms = now_ms + b->window_ms;
    }
    if (status != 429)
        return;
    if (retry_after_ms > (uint64_t)RL_MAX_SECONDS * 1000u)
        retry_after_ms = (uint64_t)RL_MAX_SECONDS * 1000u;
    if (retry_after_ms > 0)
        until = now_ms + (int64_t)retry_after_ms;
    else if (b->reset_at_ms > now_ms)
        until = b->reset_at_ms;
    else
        until = now_ms + b->window_ms;
    b->remaining = 0;
    if (until > b->blocked_until)
        b->blocked_until = until;
    /* the server said when it takes requests again: a fresh window then (Cloudflare's block
     * lasts a whole window) */
    b->reset_at_ms = b->blocked_until;
}

/* ---------------------------------------------------------------------------------------------
 * Structured-field subset (RFC 8941)
 * ------------------------------------------------------------------------------------------- */

typedef struct sf {
    const char *p, *end;
} sf;

static bool at(const sf *c, char ch)
{
    return c->p < c->end && *c->p == ch;
}

static void skip_sp(sf *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

static bool is_lcalpha(char ch)
{
    return ch >= 'a' && ch <= 'z';
}

static bool is_alpha(char ch)
{
    return is_lcalpha(ch) || (ch >= 'A' && ch <= 'Z');
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* ch is one of the characters of set (never the NUL that ends it). */
static bool in_set(char ch, const char *set)
{
    return ch != '\0' && strchr(set, ch) != NULL;
}

/* sf-integer (non-negative here: a negative count or time is garbage), capped at cap. A decimal
 * (a '.' after the digits) is not an integer. */
static bool sf_uint(sf *c, int64_t cap, int64_t *out)
{
    int64_t v = 0;
    int n = 0;

    while (c->p < c->end && is_digit(*c->p)) {
        if (++n > RL_INT_DIGITS)
            return false;
        v = v * 10 + (*c->p - '0');
        c->p++;
    }
    if (n == 0 || at(c, '.'))
        return false;
    *out = v > cap ? cap : v;
    return true;
}

/* Skips any bare item: integer or decimal, string, token, byte sequence, boolean. */
static bool sf_skip_item(sf *c)
{
    if (c->p >= c->end)
        return false;
    if (*c->p == '"') {
        for (c->p++; c->p < c->end; c->p++) {
            if (*c->p == '\\') {
                if (++c->p >= c->end || (*c->p != '"' && *c->p != '\\'))
                    return false;
            } else if (*c->p == '"') {
                c->p++;
                return true;
            } else if ((unsigned char)*c->p < 0x20 || (unsigned char)*c->p > 0x7e) {
                return false;
            }
        }
        return false;
    }
    if (*c->p == ':') {
        for (c->p++; c->p < c->end && *c->p != ':'; c->p++) {
            if (!(is_alpha(*c->p) || is_digit(*c->p) || in_set(*c->p, "+/=")))
                return false;
        }
        if (!at(c, ':'))
            return false;
        c->p++;
        return true;
    }
    if (*c->p == '?') {
        c->p++;
        if (!at(c, '0') && !at(c, '1'))
            return false;
        c->p++;
        return true;
    }
    if (*c->p == '-' || is_digit(*c->p)) {
        const char *s = ++c->p;
        while (c->p < c->end && (is_digit(*c->p) || *c->p == '.'))
            c->p++;
        return c->p > s || is_digit(s[-1]);
    }
    if (is_alpha(*c->p) || *c->p == '*') {
        for (c->p++; c->p < c->end; c->p++) {
            char ch = *c->p;
            if (!(is_alpha(ch) || is_digit(ch) || in_set(ch, "!#$%&'*+-.^_`|~:/")))
                break;
        }
        return true;
    }
    return false;
}

/* key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" ), copied into buf. */
static bool sf_key(sf *c, char *buf, size_t cap)
{
    size_t n = 0;

    if (c->p >= c->end || !(is_lcalpha(*c->p) || *c->p == '*'))
        return false;
    while (c->p < c->end && (is_lcalpha(*c->p) || is_digit(*c->p) || in_set(*c->p, "_-.*"))) {
        if (n + 1 >= cap)
            return false;
        buf[n++] = *c->p++;
    }
    buf[n] = '\0';
    return true;
}

/* What one list item's parameters said: the integers this module reads. */
typedef struct sf_params {
    int64_t r, t, q, w; /* -1: absent */
    bool bad;           /* one of them was present and not a non-negative integer */
} sf_params;

/* Reads `*( ";" *SP key [ "=" bare-item ] )`. */
static bool sf_read_params(sf *c, sf_params *pp)
{
    pp->r = pp->t = pp->q = pp->w = -1;
    pp->bad = false;
    while (at(c, ';')) {
        char key[RL_KEY_MAX];
        int64_t *dst = NULL, cap = RL_MAX_COUNT;

        c->p++;
        skip_sp(c);
        if (!sf_key(c, key, sizeof(key)))
            return false;
        if (strcmp(key, "r") == 0)
            dst = &pp->r;
        else if (strcmp(key, "q") == 0)
            dst = &pp->q;
        else if (strcmp(key, "t") == 0)
            dst = &pp->t;
        else if (strcmp(key, "w") == 0)
            dst = &pp->w;
        if (dst == &pp->t || dst == &pp->w)
            cap = RL_MAX_SECONDS;
        if (!at(c, '=')) {
            if (dst != NULL)
                pp->bad = true; /* a boolean where a number belongs */
            continue;
        }
        c->p++;
        if (dst != NULL) {
            const char *s = c->p;
            if (!sf_uint(c, cap, dst)) {
                c->p = s;
                pp->bad = true;
                if (!sf_skip_item(c))
                    return false;
            }
        } else if (!sf_skip_item(c)) {
            return false;
        }
    }
    return true;
}

/* After an item: end of value, or "," and the next item. false on anything else. */
static bool sf_next(sf *c, bool *more)
{
    skip_sp(c);
    *more = false;
    if (c->p >= c->end)
        return true;
    if (*c->p != ',')
        return false;
    c->p++;
    skip_sp(c);
    *more = c->p < c->end;
    return *more; /* a trailing comma is malformed */
}

/* The dictionary form of drafts 04 to 06: limit=100, remaining=50, reset=30. */
static bool parse_dictionary(sf c, rl_info *info)
{
    int64_t remaining = -1, reset = -1;
    bool more = true;

    while (more) {
        char key[RL_KEY_MAX];
        int64_t v;
        sf_params pp;

        if (!sf_key(&c, key, sizeof(key)) || !at(&c, '='))
            return false;
        c.p++;
        if (!sf_uint(&c, strcmp(key, "reset") == 0 ? RL_MAX_SECONDS : RL_MAX_COUNT, &v))
            return false;
        if (!sf_read_params(&c, &pp) || !sf_next(&c, &more))
            return false;
        if (strcmp(key, "remaining") == 0)
            remaining = v;
        else if (strcmp(key, "reset") == 0)
            reset = v;
    }
    if (remaining < 0)
        return false;
    info->have_remaining = true;
    info->remaining = remaining;
    if (reset >= 0) {
        info->have_reset = true;
        info->reset_s = reset;
    }
    return true;
}

/* Whether the value starts with `key=` (the dictionary form) rather than a list item. */
static bool looks_like_dictionary(sf c)
{
    char key[RL_KEY_MAX];

    skip_sp(&c);
    return sf_key(&c, key, sizeof(key)) && at(&c, '=');
}

bool rl_parse_ratelimit(const char *v, size_t len, rl_info *info)
{
    sf c = {v, v + len};
    int64_t best_r = -1, best_t = -1;
    bool more = true;

    if (v == NULL)
        return false;
    skip_sp(&c);
    if (looks_like_dictionary(c))
        return parse_dictionary(c, info);
    while (more) {
        sf_params pp;

        if (!sf_skip_item(&c) || !sf_read_params(&c, &pp) || !sf_next(&c, &more))
            return false;
        if (pp.bad || pp.r < 0)
            continue; /* an item without a usable r says nothing */
        /* the most restrictive item: fewest left, then the latest reset */
        if (best_r < 0 || pp.r < best_r || (pp.r == best_r && pp.t > best_t)) {
            best_r = pp.r;
            best_t = pp.t;
        }
    }
    if (best_r < 0)
        return false;
    info->have_remaining = true;
    info->remaining = best_r;
    info->have_reset = best_t >= 0;
    info->reset_s = best_t >= 0 ? best_t : 0;
    return true;
}

bool rl_parse_policy(const char *v, size_t len, rl_info *info)
{
    sf c = {v, v + len};
    int64_t best_q = -1, best_w = 0;
    bool more = true;

    if (v == NULL)
        return false;
    skip_sp(&c);
    while (more) {
        sf_params pp;
        int64_t q = -1;

        /* the old form's item is the quota itself: 100;w=60 */
        if (c.p < c.end && is_digit(*c.p)) {
            if (!sf_uint(&c, RL_MAX_COUNT, &q))
                return false;
        } else if (!sf_skip_item(&c)) {
            return false;
        }
        if (!sf_read_params(&c, &pp) || !sf_next(&c, &more))
            return false;
        if (q < 0)
            q = pp.q;
        if (pp.bad || q < 0 || pp.w == 0)
            continue;
        /* the smallest rate q/w; an item with a window beats one without */
        if (best_q < 0 || (pp.w > 0 && best_w <= 0) || (pp.w > 0 && q * best_w < best_q * pp.w) ||
            (pp.w < 0 && best_w <= 0 && q < best_q)) {
            best_q = q;
            best_w = pp.w;
        }
    }
    if (best_q < 0)
        return false;
    info->have_policy = true;
    info->quota = best_q;
    info->window_s = best_w > 0 ? best_w : 0;
    return true;
}

bool rl_parse_field(char which, const char *v, size_t len, rl_info *info)
{
    sf c = {v, v + len};
    int64_t n;

    if (v == NULL)
        return false;
    skip_sp(&c);
    if (!sf_uint(&c, which == 't' ? RL_MAX_SECONDS : RL_MAX_COUNT, &n))
        return false;
    skip_sp(&c);
    if (c.p < c.end && *c.p != ',' && *c.p != ';')
        return false;
    switch (which) {
    case 'l':
        info->have_policy = true;
        info->quota = n;
        info->window_s = 0;
        return true;
    case 'r':
        info->have_remaining = true;
        info->remaining = n;
        return true;
    case 't':
        info->have_reset = true;
        info->reset_s = n;
        return true;
    default:
        return false;
    }
}
