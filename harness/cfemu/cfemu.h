/* SPDX-License-Identifier: MIT */
/* cfemu.h - the inside of cfemu_ctx (options, clock, request log, faults, rate-limit buckets)
 * shared by main.c, server.c, runtime.c, control.c and seed.c, and the functions over it.
 * Route handlers outside these files use the accessors in api.h instead. */
#ifndef CFEMU_CFEMU_H
#define CFEMU_CFEMU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "api.h"
#include "state.h"

typedef struct cfemu_options {
    char listen_host[64]; /* "127.0.0.1", "::1" or "localhost" */
    int listen_port;      /* 0 = a free port */
    const char *port_file;
    const char *ca_out;
    const char *seed_file;
    const char *creds_out;
    const char *log_file;
    bool insecure_http;
    long rl_limit;  /* requests per window per calling token */
    long rl_window; /* seconds */
    long rl_block;  /* seconds a token stays blocked after going over (0: none) */
} cfemu_options;

typedef enum cfemu_fault_kind {
    FAULT_STATUS = 0,     /* answer status/code/message instead; nothing applied */
    FAULT_DELAY,          /* sleep delay_ms, then handle normally */
    FAULT_RESET_BEFORE,   /* close the connection; nothing applied */
    FAULT_RESET_AFTER,    /* apply the change, then close without answering (the lost response) */
    FAULT_TRUNCATE,       /* apply; send half the body, then close (Content-Length is the whole) */
    FAULT_MALFORMED_JSON, /* apply; the body is cut to broken JSON (with a correct length) */
    FAULT_OVERSIZE,       /* apply; the JSON body is padded past `size` bytes (default 2 MiB) */
    FAULT_WRONG_CONTENT_TYPE, /* apply; Content-Type text/html */
    FAULT_RATE_LIMIT          /* 429 code 971 with Retry-After retry_after; nothing applied */
} cfemu_fault_kind;

typedef struct cfemu_fault {
    long id;
    char *method; /* "*" matches any */
    char *path;   /* glob: '*' matches any run of characters (also '/') */
    long remaining;
    cfemu_fault_kind kind;
    int status;
    int code;
    char *message;
    long delay_ms;
    long retry_after;
    long size;
    long hits; /* how many requests it has hit so far */
} cfemu_fault;

typedef struct cfemu_log_entry {
    long seq;
    int64_t at; /* cfemu clock */
    char method[16];
    char *path;                      /* without the query string */
    int status;                      /* 0 when the connection was dropped */
    char token_id[CF_HEX32_LEN + 1]; /* "" when no token authenticated */
    const char *fault;               /* the fault kind name that hit, or NULL */
} cfemu_log_entry;

typedef struct cfemu_rl_bucket {
    char key[CF_HEX32_LEN + 8]; /* the token id, or "anonymous" */
    int64_t window_start;
    long count;
    int64_t blocked_from, blocked_until; /* a block after a 429; both 0 when none */
} cfemu_rl_bucket;

/* One row of a counter table (by calling token, by route). */
typedef struct cfemu_counter {
    char *key;
    long requests;
    long rate_limited; /* of which answered 429 */
} cfemu_counter;

/* What the control API's stats report (meter.c); reset by DELETE /__cfemu/stats or /log. */
typedef struct cfemu_counters {
    long requests;          /* requests outside /__cfemu/ */
    long unknown_routes;    /* of which answered 400/7000 */
    long rate_limited;      /* of which answered 429 (the limit, or a rate_limit fault) */
    long rate_limit_blocks; /* blocks started by going over the limit */
    long connections;       /* connections whose first request was outside /__cfemu/ */
    long tls_full;          /* of which TLS connections with a full handshake */
    long tls_resumed;       /* ... and with a resumed one (a session ticket) */
    cf_vec by_token;        /* cfemu_counter *: API requests by calling token id / "anonymous" */
    cf_vec by_route;        /* cfemu_counter *: by "METHOD /path/{placeholders}" */
} cfemu_counters;

struct cfemu_ctx {
    pthread_mutex_t lock;
    cfemu_options opt;
    cfemu_state st;
    int64_t clock_offset; /* added to the real time */
    cf_vec faults;        /* cfemu_fault * */
    long next_fault_id;
    cf_vec log; /* cfemu_log_entry * */
    long log_seq;
    cfemu_counters counters;
    long in_flight;      /* requests outside /__cfemu/ begun and not yet answered (stats) */
    cf_vec buckets;      /* cfemu_rl_bucket * */
    FILE *log_fp;        /* --log, or NULL */
    atomic_int stopping; /* set at shutdown: delay faults stop waiting */
};

/* --- runtime.c: the bookkeeping around the state ------------------------------------------ */

/* Frees the faults and the log (not the state; the counters and buckets: meter_free). */
void cfemu_ctx_free_runtime(cfemu_ctx *ctx);
/* The fault kind name ("status", "delay", ...). */
const char *cfemu_fault_kind_name(cfemu_fault_kind k);
/* Parses a kind name; -1 if unknown. */
int cfemu_fault_kind_parse(const char *s);
/* NULL-tolerant frees. */
void cfemu_fault_free(cfemu_fault *f);
void cfemu_log_entry_free(cfemu_log_entry *e);
/* Drops every queued fault / every log entry. */
void cfemu_faults_clear(cfemu_ctx *ctx);
void cfemu_log_clear(cfemu_ctx *ctx);
/* Finds the first queued fault matching (method, path), consumes one use (dropping it at zero)
 * and copies it into *out (out->message is a copy the caller frees; method and path are NULL).
 * true if one matched. Call with the lock held. */
bool cfemu_fault_take(cfemu_ctx *ctx, const char *method, const char *path, cfemu_fault *out);
/* Records one request in the log (never a secret: the path has no query string, the token is
 * named by id; token_id "" = none; fault = the kind that hit or NULL), and with --log appends
 * its line to the file. On allocation failure the entry is dropped. Call with the lock held. */
void cfemu_log_request(cfemu_ctx *ctx, const char *method, const char *path, int status,
                       const char *token_id, const char *fault);

/* seed.c: loads the built-in seed (fresh random secrets) or a seed file (README.md) into st,
 * and appends the creds lines (KEY=VALUE\n; ids and secret values) to creds, which the caller
 * wipes. 0, or -1 with a message on stderr (st may hold part of the seed; state_clear it). */
int seed_builtin(cfemu_state *st, int64_t now, dynbuf *creds);
int seed_load_file(cfemu_state *st, const char *path, int64_t now, dynbuf *creds);
/* Writes text to path with mode 0600 (through a temporary file and rename). 0 or -1. */
int seed_write_creds(const char *path, const char *text);

/* server.c: runs the daemon until SIGINT/SIGTERM. 0 on a clean stop, -1 on failure. */
int server_run(cfemu_ctx *ctx);

/* tls.c: a fresh CA and a server certificate for 127.0.0.1, ::1 and localhost. The PEM texts
 * are allocated (free with tls_material_free, which wipes the key). 0, or -1 with a message. */
typedef struct tls_material {
    char *ca_pem;
    char *cert_pem;
    char *key_pem;
    unsigned char *ticket_key; /* the session-ticket key of this run (a secret) */
    size_t ticket_key_len;
} tls_material;
int tls_make(tls_material *m);
void tls_material_free(tls_material *m);
/* Lets the server session (a gnutls_session_t, before its handshake) issue and accept session
 * tickets under m's key, as Cloudflare's edge does, so clients can resume. 0 or -1. */
int tls_enable_tickets(void *session, const tls_material *m);
/* true if the session's (completed) handshake resumed an earlier session. */
bool tls_resumed(void *session);

#endif
