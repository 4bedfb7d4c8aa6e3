/* SPDX-License-Identifier: MIT */
/* cfemu_fixture.h - starts a private cfemu for one test process and talks to its control API.
 *
 * Each integration test starts its own cfemu (free port, HTTPS with the CA it generates, a seed
 * file or the built-in seed) in a fresh temporary directory, and stops it at the end. Control
 * calls go to https://127.0.0.1:<port>/__cfemu/... and verify TLS against the generated CA. */
#ifndef ROTP_CFEMU_FIXTURE_H
#define ROTP_CFEMU_FIXTURE_H

#include <stddef.h>
#include <sys/types.h>

typedef struct cfemu_fx {
    pid_t pid;
    int port;
    char dir[256];     /* temporary directory, removed by cfemu_stop() */
    char ca_file[320]; /* the CA that signed cfemu's certificate (PEM) */
    char origin[64];   /* https://127.0.0.1:<port> */
    char api_base[96]; /* https://127.0.0.1:<port>/client/v4 */
} cfemu_fx;

/* The cfemu binary: $CFEMU_BIN, else ROTP_CFEMU_BIN (compiled in by CMake). */
const char *cfemu_binary(void);

/* Starts cfemu with the seed file (NULL: built-in seed) and extra argv entries (NULL-terminated,
 * may be NULL), waits until it listens. 0 on success, -1 on failure (a message on stderr). */
int cfemu_start(cfemu_fx *fx, const char *seed_file, const char *const *extra_args);
/* SIGTERM, waits, removes the directory. Returns cfemu's exit status (0 = clean exit, which under
 * ASan also means no leak report), or -1. NULL-tolerant and idempotent. */
int cfemu_stop(cfemu_fx *fx);

/* One control call: method, path under the origin (e.g. "/__cfemu/faults"), optional JSON body.
 * Returns the HTTP status (0 on transport failure); *body_out (if non-NULL) gets a malloc'd
 * NUL-terminated response body the caller frees. */
int cfemu_ctl(cfemu_fx *fx, const char *method, const char *path, const char *json_body,
              char **body_out);
/* Queues a fault (the JSON object the control API documents). 0 or -1. */
int cfemu_fault(cfemu_fx *fx, const char *fault_json);
/* Moves cfemu's clock forward by seconds (may be negative). 0 or -1. */
int cfemu_clock_advance(cfemu_fx *fx, long seconds);
/* Requests cfemu answered with 400/7000 "No route" so far; -1 on failure. */
long cfemu_unknown_routes(cfemu_fx *fx);
/* The request log as JSON (malloc'd), or NULL. */
char *cfemu_request_log(cfemu_fx *fx);
/* Clears the request log and the unknown-route counter. 0 or -1. */
int cfemu_log_reset(cfemu_fx *fx);

#endif
