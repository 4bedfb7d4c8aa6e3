/* SPDX-License-Identifier: MIT */
/* creds.h - where credentials come from: the management token (file or environment), the
 * account id, and a secret to verify (file, environment variable or stdin). Never argv. */
#ifndef HARNESS_CREDS_H
#define HARNESS_CREDS_H

#include <stdbool.h>
#include <stddef.h>

#include "harness.h"
#include "secret.h"

/* Reads a whole file (at most 64 KiB) into a new secret_buf, strips one trailing newline
 * ("\n" or "\r\n") and refuses an empty result. The file (a symlink is followed) must be a
 * regular file or a pipe, owned by the caller or root, with no read or write permission for its
 * group or others: else HX_USAGE with the reason and the fix (`chmod 600 FILE`). HX_OK, else
 * HX_USAGE/HX_OTHER with a message on stderr naming `what` and the path (never the content). */
int creds_read_file(const char *path, const char *what, secret_buf **out);

/* creds_read_file(), with the ownership and mode rule lifted when allow_unsafe
 * (--allow-unsafe-secret-files). */
int creds_read_file_opt(const char *path, const char *what, bool allow_unsafe, secret_buf **out);

/* The management token from --token-file (checked as creds_read_file() does, unless
 * --allow-unsafe-secret-files). HX_OK with *out NULL when no --token-file was given: prov_open()
 * then reads the environment variables the provider's descriptor names for it. */
int creds_mgmt(const hopts *o, secret_buf **out);

/* A secret from environment variable name (one trailing newline stripped, empty refused). HX_OK,
 * HX_USAGE (unset or empty, message when empty) or HX_OTHER. */
int creds_env_secret(const char *name, const char *what, secret_buf **out);

/* True when one of --secret-file / --secret-env / --secret-stdin was given. */
bool creds_secret_given(const hopts *o);

/* Reads the secret text from the one source given (--secret-file checked as creds_read_file()
 * does, unless --allow-unsafe-secret-files; --secret-env; --secret-stdin) as it is: hparts.c
 * picks the parts out of it. HX_OK (*out NULL when no source was given), or HX_USAGE/HX_OTHER
 * with a message. */
int creds_secret_raw(const hopts *o, secret_buf **out);

/* Extracts the value of `key` from dotenv text (unquoting as sinks.c quotes). Returns a new
 * secret_buf or NULL when the key is absent. *nomem is set on allocation failure. */
secret_buf *creds_dotenv_get(const char *text, size_t len, const char *key, bool *nomem);

#endif
