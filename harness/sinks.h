/* SPDX-License-Identifier: MIT */
/* sinks.h - where a new secret goes: an --out file (0600, temp + fsync + rename), an --exec
 * command (the secret on its stdin, metadata in its environment) and --print-secret (stdout). */
#ifndef HARNESS_SINKS_H
#define HARNESS_SINKS_H

#include <stdbool.h>
#include <stddef.h>

#include "harness.h"
#include "rotp_engine.h"

/* A checkpoint hook (crash tests): fn(user, ROTP_ENGINE_CP_DELIVER_*) after the temporary
 * file's write, its fsync, and the rename. fn NULL: none. */
typedef struct sinks_cp {
    void (*fn)(void *user, uint32_t point);
    void *user;
} sinks_cp;

/* True when o asks for at least one sink (--out, --exec or --print-secret). */
bool sinks_any(const hopts *o);

/* Writes the secret, formatted by rotp_engine_format_dotenv (names: --secret-name and its
 * aliases), to every sink o asks for (--exec does not inherit the variables p names for its
 * secret config keys), in the order out, exec, stdout.
 * `where` gets a short human list ("out /path, exec"). HX_OK, or HX_SINK with a message on
 * stderr (never the secret). */
int sinks_deliver(const hopts *o, const rotp_provider *p, const rotp_engine_secret *s,
                  const sinks_cp *cp, char *where, size_t where_cap);

/* Checks, before anything changes, that the sinks can take a secret: --out's directory exists
 * and a file can be created in it (a probe file is created and removed), --out is not a
 * directory, and /bin/sh exists for --exec. 0, or -1 with a message on stderr. */
int sinks_preflight(const hopts *o);

/* Writes data atomically to path: a temporary file .NAME.rotp-<run_id>-XXXXXX in the same
 * directory (O_EXCL, 0600; those an earlier, killed attempt of run_id left are removed first),
 * write, fsync, rename, fsync the directory; the temporary file is removed on every failure.
 * cp may be NULL. 0, or -1 with errno-style message on stderr. */
int sinks_write_file(const char *path, const char *run_id, const sinks_cp *cp, const char *data,
                     size_t len);

#endif
