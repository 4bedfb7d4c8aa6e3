/* sinks.h - where a new secret goes: an --out file (0600, temp + fsync + rename), an --exec
 * command (the secret on its stdin, metadata in its environment) and --print-secret (stdout). */
#ifndef HARNESS_SINKS_H
#define HARNESS_SINKS_H

#include <stdbool.h>
#include <stddef.h>

#include "harness.h"
#include "secret.h"

/* A new secret with what the sinks write beside it. The secret is owned by the struct. */
typedef struct hsecret {
    bool service;       /* Access service token: secret is the client secret */
    secret_buf *secret; /* token value or client secret */
    char kind[64];
    char token_id[128];
    char client_id[256];
    char expires_at[64];
    char scopes[1024];
} hsecret;

/* Wipes and frees the secret; resets the struct. NULL-tolerant. */
void hsecret_clear(hsecret *s);

/* True when o asks for at least one sink (--out, --exec or --print-secret). */
bool sinks_any(const hopts *o);

/* The text every sink receives (the --out format of docs/rotp-harness.md), as a new secret_buf.
 * names/nnames: the secret name and its aliases (nnames 0: no --secret-name). NULL on OOM. */
secret_buf *sinks_format(const hsecret *s, const char *const *names, int nnames);

/* Writes the formatted secret to every sink o asks for, in the order out, exec, stdout.
 * `where` gets a short human list ("out /path, exec"). HX_OK, or HX_SINK with a message on
 * stderr (never the secret). */
int sinks_deliver(const hopts *o, const hsecret *s, char *where, size_t where_cap);

/* Checks, before anything changes, that the sinks can take a secret: --out's directory exists
 * and a file can be created in it (a probe file is created and removed), --out is not a
 * directory, and /bin/sh exists for --exec. 0, or -1 with a message on stderr. */
int sinks_preflight(const hopts *o);

/* Writes data atomically to path: temp file in the same directory (O_EXCL, 0600), write, fsync,
 * rename, fsync the directory. 0, or -1 with errno-style message on stderr. */
int sinks_write_file(const char *path, const char *data, size_t len);

#endif
