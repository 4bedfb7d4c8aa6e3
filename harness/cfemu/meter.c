/* SPDX-License-Identifier: MIT */
/* meter.c - the rate limit and the counters of meter.h. */
#include "meter.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "cfemu.h"
#include "ids.h"

#define METER_MAX_ROWS 4096 /* rows per counter table; the rest count under "(other)" */

/* --- rate limit ----------------------------------------------------------------------------- */

/* The bucket of key, made on first use; NULL on allocation failure. */
static cfemu_rl_bucket *bucket_of(cfemu_ctx *ctx, const char *key, int64_t now)
{
    cfemu_rl_bucket *b;

    for (size_t i = 0; i < ctx->buckets.len; i++) {
        b = ctx->buckets.items[i];
        if (strcmp(b->key, key) == 0)
            return b;
    }
    b = rotp__calloc(1, sizeof(*b));
    if (b == NULL)
        return NULL;
    snprintf(b->key, sizeof(b->key), "%s", key);
    b->window_start = now;
    if (cf_vec_push(&ctx->buckets, b) != 0) {
        rotp__free(b);
        return NULL;
    }
    return b;
}

rl_result meter_rate_limit(cfemu_ctx *ctx, const char *key)
{
    int64_t now = cfemu_now(ctx);
    rl_result r = {false, ctx->opt.rl_limit, ctx->opt.rl_window};
    cfemu_rl_bucket *b = bucket_of(ctx, key, now);

    if (b == NULL)
        return r;
    if (b->blocked_until != 0 && now >= b->blocked_from && now < b->blocked_until) {
        r.limited = true;
        r.remaining = 0;
        r.reset_in = (long)(b->blocked_until - now);
        return r;
    }
    if (b->blocked_until != 0) { /* the block is over (or the clock went back before it) */
        b->blocked_from = b->blocked_until = 0;
        b->window_start = now;
        b->count = 0;
    }
    if (now >= b->window_start + ctx->opt.rl_window || now < b->window_start) {
        b->window_start = now;
        b->count = 0;
    }
    r.reset_in = (long)(b->window_start + ctx->opt.rl_window - now);
    if (b->count >= ctx->opt.rl_limit) {
        r.limited = true;
        r.remaining = 0;
        if (ctx->opt.rl_block > 0) {
            b->blocked_from = now;
            b->blocked_until = now + ctx->opt.rl_block;
            r.reset_in = ctx->opt.rl_block;
            ctx->counters.rate_limit_blocks++;
        }
    } else {
        b->count++;
        r.remaining = ctx->opt.rl_limit - b->count;
    }
    if (r.reset_in < 1)
        r.reset_in = 1;
    return r;
}

/* --- counters ------------------------------------------------------------------------------- */

/* The row of key in table v, made on first use (or "(other)" once the table is full); NULL on
 * allocation failure. */
static cfemu_counter *row_of(cf_vec *v, const char *key)
{
    cfemu_counter *c;

    if (v->len >= METER_MAX_ROWS)
        key = "(other)";
    for (size_t i = 0; i < v->len; i++) {
        c = v->items[i];
        if (strcmp(c->key, key) == 0)
            return c;
    }
    c = rotp__calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->key = rotp__strdup(key);
    if (c->key == NULL || cf_vec_push(v, c) != 0) {
        rotp__free(c->key);
        rotp__free(c);
        return NULL;
    }
    return c;
}

static void row_add(cf_vec *v, const char *key, bool limited)
{
    cfemu_counter *c = row_of(v, key);

    if (c != NULL) {
        c->requests++;
        c->rate_limited += limited ? 1 : 0;
    }
}

/* The placeholder for an id that follows segment prev. */
static const char *placeholder(const char *prev)
{
    static const char *const names[][2] = {
        {"accounts", "{account_id}"}, {"zones", "{zone_id}"},
        {"tokens", "{token_id}"},     {"service_tokens", "{service_token_id}"},
        {"probe", "{app_id}"},
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(prev, names[i][0]) == 0)
            return names[i][1];
    }
    return "{id}";
}

void meter_route(const char *method, const char *path, char *out, size_t cap)
{
    const char *p = path;
    char prev[40] = "";
    size_t o;

    if (strncmp(p, CFEMU_API_PREFIX "/", strlen(CFEMU_API_PREFIX) + 1) == 0)
        p += strlen(CFEMU_API_PREFIX);
    o = (size_t)snprintf(out, cap, "%s ", method);
    while (*p == '/' && o + 1 < cap) {
        size_t n = strcspn(p + 1, "/");
        bool id = id_is_hex32(p + 1, n) || id_is_uuid(p + 1, n);
        int w = id ? snprintf(out + o, cap - o, "/%s", placeholder(prev))
                   : snprintf(out + o, cap - o, "/%.*s", (int)n, p + 1);

        if (w < 0 || (size_t)w >= cap - o)
            break;
        o += (size_t)w;
        snprintf(prev, sizeof(prev), "%.*s", (int)(n < sizeof(prev) ? n : sizeof(prev) - 1), p + 1);
        p += 1 + n;
    }
}

void meter_count(cfemu_ctx *ctx, const char *method, const char *path, const char *token_key,
                 int status)
{
    char route[256];
    bool limited = status == 429;

    ctx->counters.rate_limited += limited ? 1 : 0;
    meter_route(method, path, route, sizeof(route));
    row_add(&ctx->counters.by_route, route, limited);
    if (token_key != NULL)
        row_add(&ctx->counters.by_token, token_key, limited);
}

void meter_connection(cfemu_ctx *ctx, bool tls, bool resumed)
{
    ctx->counters.connections++;
    if (tls && resumed)
        ctx->counters.tls_resumed++;
    else if (tls)
        ctx->counters.tls_full++;
}

static int rows_json(dynbuf *b, const cf_vec *v)
{
    int rc = dynbuf_adds(b, "{");

    for (size_t i = 0; rc == 0 && i < v->len; i++) {
        const cfemu_counter *c = v->items[i];

        if (i > 0)
            rc = dynbuf_adds(b, ",");
        if (rc == 0)
            rc = dynbuf_json_cstr(b, c->key);
        if (rc == 0)
            rc = dynbuf_printf(b, ":{\"requests\":%ld,\"rate_limited\":%ld}", c->requests,
                               c->rate_limited);
    }
    if (rc == 0)
        rc = dynbuf_adds(b, "}");
    return rc;
}

int meter_json(cfemu_ctx *ctx, dynbuf *b)
{
    const cfemu_counters *c = &ctx->counters;
    int rc =
        dynbuf_printf(b,
                      "{\"requests\":%ld,\"unknown_routes\":%ld,\"rate_limited\":%ld,"
                      "\"rate_limit_blocks\":%ld,\"log_entries\":%zu,\"faults_queued\":%zu,"
                      "\"connections\":%ld,\"tls_handshakes\":{\"full\":%ld,\"resumed\":%ld},"
                      "\"in_flight\":%ld,\"by_token\":",
                      c->requests, c->unknown_routes, c->rate_limited, c->rate_limit_blocks,
                      ctx->log.len, ctx->faults.len, c->connections, c->tls_full, c->tls_resumed,
                      ctx->in_flight);

    if (rc == 0)
        rc = rows_json(b, &c->by_token);
    if (rc == 0)
        rc = dynbuf_adds(b, ",\"by_route\":");
    if (rc == 0)
        rc = rows_json(b, &c->by_route);
    if (rc == 0)
        rc = dynbuf_adds(b, "}");
    return rc;
}

static void rows_clear(cf_vec *v)
{
    for (size_t i = 0; i < v->len; i++) {
        cfemu_counter *c = v->items[i];

        rotp__free(c->key);
        rotp__free(c);
    }
    v->len = 0;
}

void meter_reset(cfemu_ctx *ctx)
{
    cfemu_counters *c = &ctx->counters;

    rows_clear(&c->by_token);
    rows_clear(&c->by_route);
    c->requests = c->unknown_routes = c->rate_limited = c->rate_limit_blocks = 0;
    c->connections = c->tls_full = c->tls_resumed = 0;
}

void meter_free(cfemu_ctx *ctx)
{
    meter_reset(ctx);
    cf_vec_free(&ctx->counters.by_token);
    cf_vec_free(&ctx->counters.by_route);
    for (size_t i = 0; i < ctx->buckets.len; i++)
        rotp__free(ctx->buckets.items[i]);
    cf_vec_free(&ctx->buckets);
}
