/* meter.c - the rate limit of meter.h: a fixed window per calling token on cfemu's clock. */
#include "meter.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "cfemu.h"

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
    if (now >= b->window_start + ctx->opt.rl_window || now < b->window_start) {
        b->window_start = now;
        b->count = 0;
    }
    r.reset_in = (long)(b->window_start + ctx->opt.rl_window - now);
    if (r.reset_in < 1)
        r.reset_in = 1;
    if (b->count >= ctx->opt.rl_limit) {
        r.limited = true;
        r.remaining = 0;
        return r;
    }
    b->count++;
    r.remaining = ctx->opt.rl_limit - b->count;
    return r;
}
