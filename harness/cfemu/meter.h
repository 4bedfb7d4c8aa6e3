/* meter.h - cfemu's per-token rate limit (README.md "Rate limits"). Called by the server with
 * the context lock held, once per API request. */
#ifndef CFEMU_METER_H
#define CFEMU_METER_H

#include <stdbool.h>

#include "api.h"

/* The verdict on one request. */
typedef struct rl_result {
    bool limited;   /* answer 429 */
    long remaining; /* requests left in the window (0 when limited) */
    long reset_in;  /* seconds until the window ends (at least 1) */
} rl_result;

/* Counts one request against the bucket of key (a token id or "anonymous") and says whether it
 * is over the limit. On allocation failure the request is let through. */
rl_result meter_rate_limit(cfemu_ctx *ctx, const char *key);

#endif
