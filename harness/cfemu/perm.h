/* SPDX-License-Identifier: MIT */
/* perm.h - cfemu's permission-group catalogue: Cloudflare's real API-token permission groups
 * (id, name, scope), generated from data/permission-groups.json into perm_table.c, and the
 * lookups token policies and the permission_groups endpoints use. Ids are 32 lowercase hex
 * digits; a few names exist in two scopes (account and zone), so a name alone can be ambiguous. */
#ifndef CFEMU_PERM_H
#define CFEMU_PERM_H

#include <stdbool.h>
#include <stddef.h>

#define CF_PG_SCOPE_USER    "com.cloudflare.api.user"
#define CF_PG_SCOPE_ACCOUNT "com.cloudflare.api.account"
#define CF_PG_SCOPE_ZONE    "com.cloudflare.api.account.zone"

/* The groups cfemu's routes enforce (Cloudflare's ids; perm_check() proves their names). */
#define CF_PG_API_TOKENS_READ             "0cc3a61731504c89b99ec1be78b77aa0"
#define CF_PG_API_TOKENS_WRITE            "686d18d5ac6c441c867cbf6771e58a0a"
#define CF_PG_ACCOUNT_API_TOKENS_READ     "eb56a6953c034b9d97dd838155666f06"
#define CF_PG_ACCOUNT_API_TOKENS_WRITE    "5bc3f8b21c554832afc660159ab75fa4"
#define CF_PG_ACCESS_SERVICE_TOKENS_READ  "91f7ce32fa614d73b7e1fc8f0e78582b"
#define CF_PG_ACCESS_SERVICE_TOKENS_WRITE "a1c0fec57cf94af79479a6d827fa518c"

/* One permission group. */
typedef struct cf_perm_group {
    const char *id;    /* 32 lowercase hex */
    const char *name;  /* e.g. "API Tokens Write" */
    const char *scope; /* e.g. "com.cloudflare.api.account.zone" (each group has one) */
} cf_perm_group;

/* The catalogue (perm_table.c, generated), in the data file's order. */
extern const cf_perm_group cf_perm_table[];
extern const size_t cf_perm_table_len;

/* The outcome of a lookup by name. */
typedef enum perm_lookup {
    PERM_FOUND = 0, /* *out set */
    PERM_UNKNOWN,   /* no group of that name (in that scope) */
    PERM_AMBIGUOUS  /* no scope given, and the name exists in more than one scope */
} perm_lookup;

/* The group with this id (len bytes, not NUL-terminated), or NULL. */
const cf_perm_group *perm_by_id(const char *id, size_t len);
/* The group named name in scope (NULL: in whichever scope has it, if only one does). */
perm_lookup perm_by_name(const char *name, const char *scope, const cf_perm_group **out);
/* For a "... Read" group, the "... Write" group of the same name stem and scope, which
 * satisfies it; NULL for any other group or when there is none. */
const cf_perm_group *perm_write_of(const cf_perm_group *g);
/* Checks that the groups the routes enforce are in the catalogue under their names. 0, or -1
 * with a message on stderr (cfemu then refuses to start: its data file is broken). */
int perm_check(void);

#endif
