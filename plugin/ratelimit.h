/* SPDX-License-Identifier: MIT */
/* ratelimit.h - pacing to the rate limit the API announces, per bearer token, inside one instance:
 * the parsers of the RateLimit headers and the arithmetic of when the next request may go out.
 *
 * Pure: no I/O, no clock of its own. The caller (http.c) passes monotonic milliseconds, sleeps,
 * and tells the module what it sent and what came back, so the tests drive it with a made-up
 * clock. Nothing here is global: an rl_state lives in one instance's HTTP client.
 *
 * Model: per bearer token a bucket knows the requests left (`remaining`) until `reset_at`, the
 * policy (quota per window) and a block (`blocked_until`, from Retry-After on a 429). Cloudflare
 * sends `Ratelimit: "default";r=<left>;t=<seconds to reset>` and `Ratelimit-Policy:
 * "default";q=<quota>;w=<window seconds>` on every answer (API-NOTES section 6); without them
 * the documented default (1200 requests per 300 s per token) is counted locally from the first
 * request. A request goes out only while the bucket has requests left; otherwise the caller
 * waits for the reset, so one instance never sends more than the quota in a window.
 *
 * Tokens are told apart by a keyed hash (SipHash-2-4 with a random per-instance key), so the
 * state keeps no copy of any token. */
#ifndef ROTP_RATELIMIT_H
#define ROTP_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RL_DEFAULT_QUOTA     1200   /* Cloudflare: requests per window and token */
#define RL_DEFAULT_WINDOW_MS 300000 /* 5 minutes */
#define RL_SLOTS             8      /* tokens tracked per instance; the least recent is dropped */
#define RL_MAX_SECONDS       86400  /* a larger t, w or Retry-After is taken as this */

/* Why a request waits (the values of ROTP_WAIT_* in rotp.h). */
#define RL_WAIT_NONE        0u
#define RL_WAIT_QUOTA       1u /* the window's requests are used up: wait for its reset */
#define RL_WAIT_RETRY_AFTER 2u /* the server answered 429: wait its Retry-After */

/* What one answer's headers said; a field is valid only with its have_ flag. */
typedef struct rl_info {
    bool have_remaining;
    int64_t remaining; /* requests left in the current window */
    bool have_reset;
    int64_t reset_s; /* seconds until the window resets */
    bool have_policy;
    int64_t quota;    /* requests per window */
    int64_t window_s; /* the window, seconds */
} rl_info;

/* The pacing of one bearer token. */
typedef struct rl_bucket {
    uint64_t key; /* keyed hash of the token; 0: free slot */
    int64_t last_use_ms;
    int64_t quota;
    int64_t window_ms;
    int64_t remaining;     /* requests left before reset_at (may be an estimate) */
    int64_t reset_at_ms;   /* when the window resets; 0: no window started yet */
    int64_t blocked_until; /* 429: no request before this; 0: not blocked */
    bool from_server;      /* remaining/reset_at came from the server's headers */
} rl_bucket;

typedef struct rl_state {
    uint64_t k0, k1; /* the hash key */
    rl_bucket slots[RL_SLOTS];
} rl_state;

/* Starts an empty state with the hash key k0, k1 (random per instance). */
void rl_init(rl_state *s, uint64_t k0, uint64_t k1);
/* Wipes the state (the hash key included). NULL-tolerant. */
void rl_wipe(rl_state *s);

/* SipHash-2-4 of data under (k0, k1). */
uint64_t rl_siphash(uint64_t k0, uint64_t k1, const void *data, size_t len);

/* The bucket of a token (its bytes), made on first use with the default policy, reusing the
 * least recently used slot when all are taken. Never NULL. */
rl_bucket *rl_bucket_for(rl_state *s, const char *token, size_t len, int64_t now_ms);

/* How long to wait before the next request of bucket b may be sent at now_ms (0: send now), and
 * why (RL_WAIT_*). Rolls a window whose reset has passed over to a fresh one first. */
uint64_t rl_wait_ms(rl_bucket *b, int64_t now_ms, uint32_t *reason);
/* Counts one request sent at now_ms (starts a local window if none is running). */
void rl_note_sent(rl_bucket *b, int64_t now_ms);
/* Takes in an answer received at now_ms: its headers (info, may be NULL), its HTTP status and
 * its Retry-After in ms (0: none). A 429 blocks the token for Retry-After (or, without it, until
 * the window's reset as announced, else for the whole window). */
void rl_note_response(rl_bucket *b, int64_t now_ms, const rl_info *info, long status,
                      uint64_t retry_after_ms);

/* Parsers: each returns true when the value was understood, and then fills only what it found;
 * on false *info is unchanged. Garbage (bad syntax, negative or oversized numbers, a value with
 * nothing usable) is false.
 *
 * rl_parse_ratelimit: the `RateLimit` header, both forms of the IETF draft:
 *   - a list of items with parameters (draft-07 and later, what Cloudflare sends):
 *     `"default";r=50;t=30`, several items separated by commas (the most restrictive counts:
 *     the lowest r, then the longest t); names are strings or tokens; unknown parameters
 *     (pk=:...:, etc.) are skipped;
 *   - the dictionary of drafts 04 to 06: `limit=100, remaining=50, reset=30`.
 * rl_parse_policy: `RateLimit-Policy`: `"burst";q=100;w=60` items (the smallest rate q/w
 *   counts), or the older `100;w=60` form (draft 03 to 06).
 * rl_parse_field: the single-value headers of drafts 00 to 03, `RateLimit-Limit`,
 *   `RateLimit-Remaining`, `RateLimit-Reset` (`which` is 'l', 'r' or 't'): a non-negative integer,
 *   optionally followed by a list (`100, 100;w=60`) whose first member is taken. */
bool rl_parse_ratelimit(const char *v, size_t len, rl_info *info);
bool rl_parse_policy(const char *v, size_t len, rl_info *info);
bool rl_parse_field(char which, const char *v, size_t len, rl_info *info);

#endif
