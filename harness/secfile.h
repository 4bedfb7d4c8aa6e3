/* SPDX-License-Identifier: MIT */
/* secfile.h - the one rule for a file that holds a secret: it must be the user's (or root's),
 * neither readable nor writable by its group or others, and a regular file or a pipe (as ssh
 * demands of a private key). creds.c applies it when it reads a secret; the inventory applies it
 * to every secret_file before a fleet run starts. */
#ifndef HARNESS_SECFILE_H
#define HARNESS_SECFILE_H

#include <stddef.h>
#include <sys/stat.h>

/* Why a file with metadata st is not safe to take a secret from: NULL when it is; else the
 * reason ("can be read or written by others", ...) and, in fix, the command that fixes it. */
const char *secfile_unsafe(const struct stat *st, const char *path, char *fix, size_t cap);

#endif
