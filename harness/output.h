/* SPDX-License-Identifier: MIT */
/* output.h - everything the harness prints: results as "key: value" lines or one JSON object,
 * error lines on stderr, step reports. Secret result values are never printed: they show as
 * "(secret, N bytes, delivered to: ...)". */
#ifndef HARNESS_OUTPUT_H
#define HARNESS_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "dynbuf.h"
#include "harness.h"
#include "loader.h"
#include "request.h"
#include "rotp.h"

/* "rotp-harness: CMD: CODE_NAME: message (http N, api code M)" on stderr. */
void out_error_line(const char *cmd, int32_t code, const rotp_error *err);

/* What to tell a user after a TLS failure (suggests --ca-file). */
const char *out_tls_hint(void);

/* The `info` output (human or --json). */
void out_info(const hopts *o, const hprov *hp);

/* Prints a single operation's outcome: on success the result, on failure the error (stderr in
 * human mode; the JSON object on stdout with --json). `where` says where secret values went
 * (NULL: not delivered). result_rc is the exit code of a successful call (verify: HX_VERIFY
 * when the state is not active). Returns the exit code for it. */
int out_op(const hopts *o, const char *cmd, const hres *h, const char *where, int result_rc);

/* Appends the result's non-secret values to b as JSON members ("k":"v",...), secrets as
 * {"secret":true,"bytes":N,"delivered_to":where}. 0 or a dynbuf error. */
int out_json_result_members(dynbuf *b, const hres *h, const char *where);

/* Appends ,"error":{...} for err to b. */
int out_json_error(dynbuf *b, int32_t code, const rotp_error *err);

/* Prints {"command":cmd,"ok":..,"exit_code":..,<extra>,"steps":[...]} on stdout. extra is a
 * JSON member list without leading comma (may be NULL or empty). */
void out_json_report(const char *cmd, int exit_code, const hreport *r, const char *extra);

/* Prints b (one JSON object built by the caller) and a newline on stdout and frees b; a
 * failed build (ok != 0) prints a NO_MEMORY object instead. */
void out_json_emit(dynbuf *b, int ok);

/* --json: stderr goes to a memory file until out_capture_end(), which replays it, so that the
 * last message can be the "error" of the one JSON object. */
void out_capture_begin(void);
void out_capture_end(void);

/* Prints {"command","ok":false,"exit_code","exit_name","error":{code,name,number,message}} with
 * the last message on stderr (a failure before the command could report). */
void out_json_failure(const char *cmd, int exit_code);

/* True once a JSON object was printed on stdout (main prints a bare one otherwise). */
bool out_json_printed(void);

#endif
