/* SPDX-License-Identifier: MIT */
/* meter.h - cfemu's per-token rate limit (README.md "Rate limits") and the counters the control
 * API reports (README.md "Counters"): requests in total, by calling token and by route, 429s,
 * connections and TLS handshakes, full or resumed. Every function runs with the context lock
 * held. */
#ifndef CFEMU_METER_H
#define CFEMU_METER_H

#include <stdbool.h>

#include "api.h"
#include "dynbuf.h"

/* The verdict on one request. */
typedef struct rl_result {
    bool limited;   /* answer 429 */
    long remaining; /* requests left in the window (0 when limited) */
    long reset_in;  /* seconds until the window (or the block) ends, at least 1 */
} rl_result;

/* Counts one request against the bucket of key (a token id or "anonymous") and says whether it
 * is over the limit. Going over starts a block of opt.rl_block seconds (cfemu's clock) in which
 * every request of that key is limited; after it the key starts a fresh window. On allocation
 * failure the request is let through. */
rl_result meter_rate_limit(cfemu_ctx *ctx, const char *key);

/* Counts one answered (or dropped: status 0) request outside /__cfemu/: by route, and, when
 * token_key is not NULL (API requests: a token id or "anonymous"), by calling token. A 429
 * counts as rate limited. Allocation failures lose a row, never the totals. */
void meter_count(cfemu_ctx *ctx, const char *method, const char *path, const char *token_key,
                 int status);
/* Counts a connection at its first request outside /__cfemu/: plain, or TLS with a full or a
 * resumed handshake. */
void meter_connection(cfemu_ctx *ctx, bool tls, bool resumed);
/* Appends the counters as one JSON object (README.md "Counters"), with log_entries and
 * faults_queued. 0, or the dynbuf error. */
int meter_json(cfemu_ctx *ctx, dynbuf *b);
/* Zeroes every counter (the rate-limit buckets are state, not counters: they stay). */
void meter_reset(cfemu_ctx *ctx);
/* Frees the counter tables and the buckets. */
void meter_free(cfemu_ctx *ctx);

/* The route template of a path: "/client/v4" dropped, ids replaced by what they name
 * ("/accounts/{account_id}/tokens/{token_id}/value"), at most cap bytes with the NUL. */
void meter_route(const char *method, const char *path, char *out, size_t cap);

#endif
