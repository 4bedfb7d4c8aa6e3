/* SPDX-License-Identifier: MIT */
/* inventory.h - the fleet inventory file (docs/rotp-harness.md, "Inventory file", version 1):
 * reading it, and checking every entry against the kinds a provider describes (ABI 1.1).
 *
 * The inventory knows a few keys of its own (name, aliases, kind, cadence_days, secret_file, out,
 * exec, token_file). Every other key of an entry is a request key of the entry's kind, checked
 * against the provider's rotp_key_info descriptors: so `account_id` or `zone_id` mean whatever
 * the kind says they mean, and the harness names none of them. Nothing here holds a secret:
 * secret_file is a path, and the checks read only its metadata.
 *
 * Every problem is collected (with the entry's index and the key) before anything runs, so an
 * operator fixes the whole file at once instead of one line per attempt. */
#ifndef HARNESS_INVENTORY_H
#define HARNESS_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "rotp.h"

#define INV_VERSION     1
#define INV_MAX_BYTES   (1024u * 1024u) /* the inventory file's size limit */
#define INV_MAX_ENTRIES 4096
#define INV_MAX_ALIASES 8
#define INV_MAX_REQ     24 /* request keys per entry, defaults included */

/* Status codes of this module. */
typedef enum inv_status {
    INV_OK = 0,
    INV_EBAD = 1,   /* the file has problems: they are in the inv_issues */
    INV_ENOMEM = 2, /* an allocation failed */
    INV_EIO = 3     /* the file could not be read (an issue says why) */
} inv_status;

/* Where an issue is: an entry's index in "credentials", or one of these. */
#define INV_AT_FILE     (-1)
#define INV_AT_DEFAULTS (-2)

typedef struct inv_issue {
    int index;     /* entry index, INV_AT_FILE or INV_AT_DEFAULTS */
    char key[64];  /* the key at fault, "" for the whole entry or file */
    char msg[256]; /* what is wrong and how to fix it; never a secret */
} inv_issue;

#define INV_MAX_ISSUES 100

typedef struct inv_issues {
    inv_issue items[INV_MAX_ISSUES];
    int n;
    int dropped; /* issues beyond INV_MAX_ISSUES, counted only */
} inv_issues;

/* A request key as written (numbers and booleans as their JSON text). */
typedef struct inv_kv {
    char *key;
    char *value;
} inv_kv;

typedef struct inv_entry {
    int index; /* position in "credentials"; INV_AT_DEFAULTS for the defaults */
    char *name;
    char *aliases[INV_MAX_ALIASES];
    int naliases;
    char *kind;
    long cadence_days; /* 0: none (not due by cadence) */
    bool has_cadence;  /* given in the file (else from defaults or the kind) */
    char *secret_file; /* the current value (a previous --out file works) */
    char *out;
    char *exec;
    char *token_file; /* the management credential, NULL: the command line's */
    inv_kv req[INV_MAX_REQ];
    int nreq;
} inv_entry;

typedef struct inventory {
    int version;
    inv_entry defaults;
    inv_entry *entries;
    int n;
} inventory;

/* Parses text as an inventory into inv (which it initialises). Checks the structure and the
 * inventory's own keys; request keys are only collected (inv_check_kinds checks them). Returns
 * INV_OK, INV_EBAD with every problem in iss, or INV_ENOMEM. inv must be inv_free()d in every
 * case. */
inv_status inv_parse(inventory *inv, const char *text, size_t len, inv_issues *iss);

/* Reads path (at most INV_MAX_BYTES, a regular file) and parses it as inv_parse does; INV_EIO
 * with an issue when it cannot be read. */
inv_status inv_load(inventory *inv, const char *path, inv_issues *iss);

/* Checks every entry against the provider's kinds (NULL-terminated, e.g. rotp_provider's
 * kind_info): the kind exists and can roll; each request key is one the kind takes, is not a
 * secret, and fits its format; required keys are present (from the entry, the defaults, or the
 * key's environment fallbacks, in that order; a default the kind does not take is skipped); one
 * of the keys of a one_of group. Fills each entry's request keys from the defaults and its
 * cadence from the defaults or the kind. INV_OK, INV_EBAD (issues added) or INV_ENOMEM. */
inv_status inv_check_kinds(inventory *inv, const rotp_kind_info *const *kinds, inv_issues *iss);

/* Checks every secret_file and token_file as the harness checks its other secret files
 * (creds.h): owned by the user or root, no group or other access, a regular file or a pipe
 * (allow_unsafe lifts the first two). A secret_file that does not exist is not an issue (plan
 * reports it as missing); a token_file (the management credential) must exist. Adds issues; returns
 * INV_OK or INV_EBAD. */
inv_status inv_check_files(const inventory *inv, bool allow_unsafe, inv_issues *iss);

/* The value of a request key of e, or NULL. */
const char *inv_get(const inv_entry *e, const char *key);
/* The entry called name (or with name among its aliases), or NULL. */
const inv_entry *inv_find(const inventory *inv, const char *name);
/* The request key descriptor of ki called key, or NULL. */
const rotp_key_info *inv_request_key(const rotp_kind_info *ki, const char *key);
/* The kind_info for kind among kinds, or NULL. */
const rotp_kind_info *inv_kind_info(const rotp_kind_info *const *kinds, const char *kind);

/* Prints every issue, one line each: "PATH: credentials[3] (NAME): KEY: message". */
void inv_issues_print(const inv_issues *iss, const inventory *inv, const char *path, FILE *f);

/* Frees everything inv holds and zeroes it; NULL-tolerant, idempotent. */
void inv_free(inventory *inv);

#endif
