/* SPDX-License-Identifier: MIT */
/* state.h - cfemu's in-memory model of a Cloudflare account: users, accounts, zones, API tokens
 * with their policies, Access service tokens and Access applications with their policies.
 *
 * One cfemu_state lives for the whole run. It is not thread-safe by itself: the server holds
 * cfemu_ctx.lock (server.h) around every route handler, so handlers read and change the state
 * freely. Every object is owned by the state's vectors; the *_free functions are NULL-tolerant
 * and wipe secrets (secret_buf) before freeing. Times are Unix seconds on cfemu's clock
 * (cfemu_now() in server.h); CF_TIME_NONE means "not set" and is written as JSON null or left
 * out, as the schema says for that field.
 *
 * Every object struct below that has an id keeps it as its FIRST member: state.c finds objects
 * by id through that (find_by_id). */
#ifndef CFEMU_STATE_H
#define CFEMU_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dynbuf.h"
#include "json.h"
#include "perm.h"
#include "secret.h"

#define CF_TIME_NONE INT64_MIN

#define CF_HEX32_LEN 32 /* ids of users, accounts, zones, API tokens, policies, groups */
#define CF_UUID_LEN  36 /* ids of service tokens and Access apps */

#define CF_USER_TOKEN_QUOTA    50  /* API tokens per user (API-NOTES section 3) */
#define CF_ACCOUNT_TOKEN_QUOTA 500 /* account-owned API tokens per account */

/* A vector of owned pointers, kept in insertion (= creation) order. */
typedef struct cf_vec {
    void **items;
    size_t len;
    size_t cap;
} cf_vec;

/* Appends p. 0, or -1 on allocation failure (the vector is unchanged, p still the caller's). */
int cf_vec_push(cf_vec *v, void *p);
/* Removes item i, keeping the order; returns it (the caller frees it). */
void *cf_vec_remove(cf_vec *v, size_t i);
/* Frees the array only (not the items). NULL-tolerant. */
void cf_vec_free(cf_vec *v);

typedef struct cf_user {
    char id[CF_HEX32_LEN + 1];
    char *email;
} cf_user;

typedef struct cf_account {
    char id[CF_HEX32_LEN + 1];
    char *name;
} cf_account;

typedef struct cf_zone {
    char id[CF_HEX32_LEN + 1];
    char *name;
    char account_id[CF_HEX32_LEN + 1];
} cf_zone;

/* --- API tokens ------------------------------------------------------------------------------ */

/* One resource entry of a policy: key -> "*" (flat form), or key -> {inner key -> "*"} (nested
 * form: the outer key is an account, the inner keys zones of it, e.g.
 * "com.cloudflare.api.account.zone.*"). */
typedef struct cf_resource {
    char *key;
    char *value;       /* flat form: the value ("*" grants); NULL in the nested form */
    char **inner_keys; /* nested form: inner keys whose value is "*" */
    char **inner_vals; /* nested form: their values */
    size_t ninner;
} cf_resource;

typedef struct cf_policy {
    char id[CF_HEX32_LEN + 1];
    bool allow;                   /* effect "allow"; false = "deny" (a deny wins over any allow) */
    const cf_perm_group **groups; /* borrowed from the catalogue */
    size_t ngroups;
    cf_resource *resources;
    size_t nresources;
} cf_policy;

typedef enum cf_owner_kind { CF_OWNER_USER = 0, CF_OWNER_ACCOUNT = 1 } cf_owner_kind;

typedef struct cf_token {
    char id[CF_HEX32_LEN + 1];
    char *name;
    cf_owner_kind owner_kind;
    char owner_id[CF_HEX32_LEN + 1]; /* the user id or the account id */
    secret_buf *value;               /* the bearer secret; never logged, never in GET/list */
    char *status;                    /* "active", "disabled" or "expired" (as stored/PUT) */
    int64_t issued_on, modified_on, last_used_on; /* last_used_on: CF_TIME_NONE until used */
    int64_t not_before, expires_on;               /* CF_TIME_NONE when unset */
    cf_policy *policies;
    size_t npolicies;
    char *condition_json; /* the "condition" object as given (JSON text), or NULL */
} cf_token;

/* --- Access --------------------------------------------------------------------------------- */

typedef struct cf_service_token {
    char id[CF_UUID_LEN + 1];
    char *name;
    char account_id[CF_HEX32_LEN + 1]; /* exactly one of account_id / zone_id is non-empty */
    char zone_id[CF_HEX32_LEN + 1];
    char *client_id;                /* "<32 hex>.access" */
    secret_buf *client_secret;      /* current secret (64 hex when cfemu makes it) */
    secret_buf *prev_secret;        /* the secret before the last rotation, or NULL */
    int64_t prev_secret_expires_at; /* previous_client_secret_expires_at; CF_TIME_NONE if none */
    int64_t client_secret_version;  /* starts at 1 */
    char *duration;                 /* Go duration text as given, default "8760h"; or "forever" */
    int64_t expires_at;             /* CF_TIME_NONE for "forever" */
    int64_t created_at, updated_at;
    int64_t last_seen_at; /* CF_TIME_NONE until the probe origin sees it */
    bool enabled;         /* false: the probe origin refuses it (a seed may disable one) */
} cf_service_token;

typedef enum cf_access_rule_kind {
    CF_RULE_SERVICE_TOKEN = 0,           /* {"service_token": {"token_id": "<uuid>"}} */
    CF_RULE_ANY_VALID_SERVICE_TOKEN = 1, /* {"any_valid_service_token": {}} */
    CF_RULE_GROUP = 2                    /* {"group": {"id": "<uuid>"}}: an Access group's rules */
} cf_access_rule_kind;

typedef struct cf_access_rule {
    cf_access_rule_kind kind;
    char id[CF_UUID_LEN + 1]; /* the service token (CF_RULE_SERVICE_TOKEN) or the Access group
                               * (CF_RULE_GROUP); empty otherwise */
} cf_access_rule;

/* A reusable Access group: include rules (service_token, any_valid_service_token) that app
 * policies pull in with a group rule. */
typedef struct cf_access_group {
    char id[CF_UUID_LEN + 1];
    char *name;
    char account_id[CF_HEX32_LEN + 1]; /* exactly one of account_id / zone_id is non-empty */
    char zone_id[CF_HEX32_LEN + 1];
    cf_access_rule *include;
    size_t ninclude;
} cf_access_group;

typedef struct cf_access_policy {
    char *decision; /* "non_identity", "allow", "deny", "bypass" */
    cf_access_rule *include;
    size_t ninclude;
} cf_access_policy;

typedef struct cf_access_app {
    char id[CF_UUID_LEN + 1];
    char *name;
    char account_id[CF_HEX32_LEN + 1]; /* exactly one of account_id / zone_id is non-empty */
    char zone_id[CF_HEX32_LEN + 1];
    cf_access_policy *policies;
    size_t npolicies;
} cf_access_app;

/* --- the whole state ------------------------------------------------------------------------ */

typedef struct cfemu_state {
    cf_vec users;          /* cf_user * */
    cf_vec accounts;       /* cf_account * */
    cf_vec zones;          /* cf_zone * */
    cf_vec tokens;         /* cf_token *, user-owned and account-owned, in creation order */
    cf_vec service_tokens; /* cf_service_token * */
    cf_vec groups;         /* cf_access_group * */
    cf_vec apps;           /* cf_access_app * */
} cfemu_state;

/* Frees every object and the vectors; the state is empty (zeroed) afterwards. NULL-tolerant. */
void state_clear(cfemu_state *st);

void cf_user_free(cf_user *u);
void cf_account_free(cf_account *a);
void cf_zone_free(cf_zone *z);
void cf_policy_clear(cf_policy *p); /* frees what p owns, not p itself */
void cf_policies_free(cf_policy *p, size_t n);
void cf_token_free(cf_token *t);
void cf_service_token_free(cf_service_token *t);
void cf_access_group_free(cf_access_group *g);
void cf_access_app_free(cf_access_app *a);

/* Lookups by id (exact string); NULL when absent. */
cf_user *state_user(const cfemu_state *st, const char *id);
cf_account *state_account(const cfemu_state *st, const char *id);
cf_zone *state_zone(const cfemu_state *st, const char *id);
cf_token *state_token(const cfemu_state *st, const char *id);
cf_service_token *state_service_token(const cfemu_state *st, const char *id);
cf_access_group *state_group(const cfemu_state *st, const char *id);
cf_access_app *state_app(const cfemu_state *st, const char *id);
/* The index of the object in its vector, or -1. */
long state_index_of(const cf_vec *v, const void *p);

/* The token whose current value equals the len bytes of value (constant-time per token), or NULL.
 */
cf_token *state_token_by_value(const cfemu_state *st, const char *value, size_t len);
/* The service token whose client_id equals client_id, or NULL. */
cf_service_token *state_service_token_by_client_id(const cfemu_state *st, const char *client_id);
/* Number of tokens owned by (kind, owner_id): for the quotas. */
size_t state_count_tokens(const cfemu_state *st, cf_owner_kind kind, const char *owner_id);
/* true if an Access app policy or an Access group names service token id in a service_token
 * rule (Cloudflare then refuses to delete it: 400/12139). */
bool state_service_token_referenced(const cfemu_state *st, const char *id);

/* --- fresh identifiers and secrets (getrandom) ---------------------------------------------- */

/* 32 lowercase hex digits + NUL into out[33]. 0, or -1 if the random source fails. */
int cf_new_hex32(char *out);
/* A random (version 4) lowercase UUID + NUL into out[37]. 0 or -1. */
int cf_new_uuid(char *out);
/* A new API token value: prefix ("cfut_" or "cfat_") + 40 base62 characters + 8 hex digits of
 * checksum (CRC32 of the preceding text). NULL on failure. */
secret_buf *cf_new_token_value(const char *prefix);
/* A new Access client secret: 64 lowercase hex digits. NULL on failure. */
secret_buf *cf_new_client_secret(void);
/* nbytes random bytes. 0 or -1. */
int cf_random(void *buf, size_t nbytes);

/* --- writing JSON (the objects as the API shows them; never a secret) ----------------------- */

/* Appends t as a quoted RFC 3339 string, or null for CF_TIME_NONE. 0 or the dynbuf error. */
int cf_json_time(dynbuf *b, int64_t t);
/* Appends the API token object (iam_token: id, name, status, issued_on, modified_on,
 * last_used_on, not_before, expires_on, policies, condition), without its value. now decides
 * whether status reads "expired". */
int cf_json_token(dynbuf *b, const cf_token *t, int64_t now);
/* Appends the policies array (ids, effect, resources, permission_groups [{id, name}]). */
int cf_json_policies(dynbuf *b, const cf_policy *p, size_t n);
/* The status the API reports for t at time now: "expired" once expires_on has passed, else the
 * stored status. */
const char *cf_token_status(const cf_token *t, int64_t now);

/* --- parsing ------------------------------------------------------------------------------- */

/* The outcome of cf_policies_parse. */
typedef enum cf_policy_rc {
    CF_POLICY_OK = 0,
    CF_POLICY_INVALID = -1,  /* not Cloudflare's shape, or out of memory (message says) */
    CF_POLICY_BAD_GROUP = -2 /* a permission group that is unknown, or a name that is ambiguous */
} cf_policy_rc;

/* Parses a policies array (Cloudflare's shape; see iam_token-policies) into *out / *nout.
 * A permission group is {"id": "<32 hex>"} (a name beside it is ignored, as Cloudflare does),
 * or, without an id, {"name": ..., "scope": "<scope>"} / {"name": ..., "scopes": ["<scope>"]};
 * a name alone is accepted when only one scope has it. A policy without id gets a fresh one.
 * Returns CF_POLICY_OK, or an error with a message in err (nothing allocated). */
cf_policy_rc cf_policies_parse(const json_doc *doc, int arr, cf_policy **out, size_t *nout,
                               char *err, size_t errcap);
/* An RFC 3339 string (or null / absent tok < 0 -> CF_TIME_NONE) into *out. 0 or -1. */
int cf_parse_time(const json_doc *doc, int tok, int64_t *out);

#endif
