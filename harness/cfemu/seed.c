/* SPDX-License-Identifier: MIT */
/* seed.c - cfemu's starting state: the built-in demo seed (fixed ids, random secrets) or a JSON
 * seed file (format: README.md "Seed files"), and the creds lines that describe it. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "cfemu.h"
#include "ids.h"
#include "json.h"
#include "timefmt.h"

#define SEED_MAX            (4u * 1024u * 1024u)
#define DEFAULT_DURATION_MS (8760LL * 3600 * 1000)

/* The built-in seed (BRIEF.md "The built-in cfemu seed"). Secrets are left out, so every run
 * gets fresh random ones; creds_name gives the creds-file key of each API token. */
static const char builtin_seed[] =
    "{\"users\":[{\"id\":\"9a7806061c88ada191ed06f989cc3dac\",\"email\":\"ops@example.com\"}],"
    "\"accounts\":[{\"id\":\"01a7362d577a6c3019a474fd6f485823\",\"name\":\"Example\"}],"
    "\"zones\":[{\"id\":\"023e105f4ecef8ad9ca31a8372d0c353\",\"name\":\"example.com\","
    "\"account_id\":\"01a7362d577a6c3019a474fd6f485823\"}],"
    "\"tokens\":["
    "{\"id\":\"ed17574386854bf78a67040be0a770b0\",\"owner\":\"user\",\"name\":\"rotation-mgmt\","
    "\"creds_name\":\"MGMT\",\"status\":\"active\",\"policies\":[{\"effect\":\"allow\","
    "\"permission_groups\":[{\"name\":\"API Tokens Write\"},"
    "{\"name\":\"Account API Tokens Write\"},{\"name\":\"Access: Service Tokens Write\"}],"
    "\"resources\":{\"com.cloudflare.api.user.9a7806061c88ada191ed06f989cc3dac\":\"*\","
    "\"com.cloudflare.api.account.01a7362d577a6c3019a474fd6f485823\":\"*\"}}]},"
    "{\"id\":\"4c1b7f6c2d3e4f5a6b7c8d9e0f1a2b3c\",\"owner\":\"user\",\"name\":\"pages-deploy\","
    "\"creds_name\":\"PAGES_DEPLOY\",\"status\":\"active\",\"policies\":[{\"effect\":\"allow\","
    "\"permission_groups\":[{\"name\":\"Pages Write\"}],"
    "\"resources\":{\"com.cloudflare.api.account.01a7362d577a6c3019a474fd6f485823\":\"*\"}}]},"
    "{\"id\":\"7d3e2c1b0a9f8e7d6c5b4a3928170615\","
    "\"owner\":\"account:01a7362d577a6c3019a474fd6f485823\",\"name\":\"ci-readonly\","
    "\"creds_name\":\"CI_READONLY\",\"status\":\"active\",\"policies\":[{\"effect\":\"allow\","
    "\"permission_groups\":[{\"name\":\"Zone Read\"}],"
    "\"resources\":{\"com.cloudflare.api.account.zone.023e105f4ecef8ad9ca31a8372d0c353\":\"*\"}}"
    "]},"
    "{\"id\":\"3f2e1d0c9b8a79685746352413021100\",\"owner\":\"user\",\"name\":\"least-privilege\","
    "\"creds_name\":\"READONLY\",\"status\":\"active\",\"policies\":[{\"effect\":\"allow\","
    "\"permission_groups\":[{\"name\":\"Zone Read\"}],"
    "\"resources\":{\"com.cloudflare.api.account.zone.023e105f4ecef8ad9ca31a8372d0c353\":\"*\"}}"
    "]}],"
    "\"service_tokens\":["
    "{\"id\":\"f174e90a-fafe-4643-bbbc-4a0ed4fc8415\","
    "\"account_id\":\"01a7362d577a6c3019a474fd6f485823\",\"name\":\"console-probe\"},"
    "{\"id\":\"6b2a8f3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b\","
    "\"account_id\":\"01a7362d577a6c3019a474fd6f485823\",\"name\":\"vault-probe\"},"
    "{\"id\":\"9c8b7a6f-5e4d-4c3b-9a2f-1e0d9c8b7a6f\","
    "\"zone_id\":\"023e105f4ecef8ad9ca31a8372d0c353\",\"name\":\"edge-probe\"}],"
    "\"access_apps\":["
    "{\"id\":\"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\","
    "\"account_id\":\"01a7362d577a6c3019a474fd6f485823\",\"name\":\"console\","
    "\"policies\":[{\"decision\":\"non_identity\",\"include\":[{\"service_token\":"
    "{\"token_id\":\"f174e90a-fafe-4643-bbbc-4a0ed4fc8415\"}}]}]},"
    "{\"id\":\"1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e\","
    "\"account_id\":\"01a7362d577a6c3019a474fd6f485823\",\"name\":\"vault\","
    "\"policies\":[{\"decision\":\"non_identity\",\"include\":[{\"any_valid_service_token\":{}}]}"
    "]},"
    "{\"id\":\"2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f\","
    "\"zone_id\":\"023e105f4ecef8ad9ca31a8372d0c353\",\"name\":\"edge\","
    "\"policies\":[{\"decision\":\"non_identity\",\"include\":[{\"any_valid_service_token\":{}}]}"
    "]}]}";

typedef struct seed_ctx {
    cfemu_state *st;
    const json_doc *doc;
    int64_t now;
    dynbuf *creds;
    const char *where; /* the file name, for messages */
} seed_ctx;

static int fail(const seed_ctx *s, const char *what, int idx, const char *msg)
{
    fprintf(stderr, "cfemu: seed %s: %s[%d]: %s\n", s->where, what, idx, msg);
    return -1;
}

/* KEY fragment from a name: upper-cased, every non-alphanumeric character -> '_'. */
static void creds_key(const char *name, char *out, size_t cap)
{
    size_t i = 0;

    for (; name[i] != 0 && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)name[i];

        out[i] = isalnum(c) ? (char)toupper(c) : '_';
    }
    out[i] = 0;
}

/* Copies the string member key of obj into buf (cap). 1 copied, 0 absent/null, -1 bad. */
static int get_str(const json_doc *doc, int obj, const char *key, char *buf, size_t cap)
{
    int t = json_get(doc, obj, key);

    if (t < 0 || json_is_null(doc, t))
        return 0;
    if (!json_is_string(doc, t) || json_strcpy(doc, t, buf, cap) != 0)
        return -1;
    return 1;
}

static int get_strdup(const json_doc *doc, int obj, const char *key, char **out)
{
    int t = json_get(doc, obj, key);

    *out = NULL;
    if (t < 0 || json_is_null(doc, t))
        return 0;
    if (!json_is_string(doc, t) || json_strdup(doc, t, out) != 0)
        return -1;
    return 1;
}

static int get_hex32(const json_doc *doc, int obj, const char *key, char *out)
{
    char buf[64];

    if (get_str(doc, obj, key, buf, sizeof(buf)) != 1 || !id_is_hex32(buf, strlen(buf)))
        return -1;
    memcpy(out, buf, CF_HEX32_LEN + 1);
    return 0;
}

static int get_uuid(const json_doc *doc, int obj, const char *key, char *out)
{
    char buf[64];

    if (get_str(doc, obj, key, buf, sizeof(buf)) != 1 || !id_is_uuid(buf, strlen(buf)))
        return -1;
    memcpy(out, buf, CF_UUID_LEN + 1);
    return 0;
}

/* An optional RFC 3339 member (absent/null -> CF_TIME_NONE). */
static int get_time(const json_doc *doc, int obj, const char *key, int64_t *out)
{
    return cf_parse_time(doc, json_get(doc, obj, key), out);
}

static int load_users(seed_ctx *s, int arr)
{
    for (int i = 0; arr >= 0 && i < s->doc->toks[arr].size; i++) {
        int o = json_at(s->doc, arr, i);
        cf_user *u = rotp__calloc(1, sizeof(*u));

        if (u == NULL)
            return fail(s, "users", i, "out of memory");
        if (get_hex32(s->doc, o, "id", u->id) != 0 ||
            get_strdup(s->doc, o, "email", &u->email) < 0 || state_user(s->st, u->id) != NULL) {
            cf_user_free(u);
            return fail(s, "users", i, "needs a unique 32-hex id (and a string email)");
        }
        if (cf_vec_push(&s->st->users, u) != 0) {
            cf_user_free(u);
            return fail(s, "users", i, "out of memory");
        }
        if (i == 0 && dynbuf_printf(s->creds, "CFEMU_USER_ID=%s\n", u->id) != 0)
            return fail(s, "users", i, "out of memory");
    }
    return 0;
}

static int load_accounts(seed_ctx *s, int arr)
{
    for (int i = 0; arr >= 0 && i < s->doc->toks[arr].size; i++) {
        int o = json_at(s->doc, arr, i);
        cf_account *a = rotp__calloc(1, sizeof(*a));

        if (a == NULL)
            return fail(s, "accounts", i, "out of memory");
        if (get_hex32(s->doc, o, "id", a->id) != 0 ||
            get_strdup(s->doc, o, "name", &a->name) != 1 || state_account(s->st, a->id) != NULL) {
            cf_account_free(a);
            return fail(s, "accounts", i, "needs a unique 32-hex id and a name");
        }
        if (cf_vec_push(&s->st->accounts, a) != 0) {
            cf_account_free(a);
            return fail(s, "accounts", i, "out of memory");
        }
        if (i == 0 && dynbuf_printf(s->creds, "CFEMU_ACCOUNT_ID=%s\n", a->id) != 0)
            return fail(s, "accounts", i, "out of memory");
    }
    return 0;
}

static int load_zones(seed_ctx *s, int arr)
{
    for (int i = 0; arr >= 0 && i < s->doc->toks[arr].size; i++) {
        int o = json_at(s->doc, arr, i);
        cf_zone *z = rotp__calloc(1, sizeof(*z));

        if (z == NULL)
            return fail(s, "zones", i, "out of memory");
        if (get_hex32(s->doc, o, "id", z->id) != 0 ||
            get_strdup(s->doc, o, "name", &z->name) != 1 ||
            get_hex32(s->doc, o, "account_id", z->account_id) != 0 ||
            state_account(s->st, z->account_id) == NULL || state_zone(s->st, z->id) != NULL) {
            cf_zone_free(z);
            return fail(s, "zones", i, "needs a unique 32-hex id, a name and a known account_id");
        }
        if (cf_vec_push(&s->st->zones, z) != 0) {
            cf_zone_free(z);
            return fail(s, "zones", i, "out of memory");
        }
        if (i == 0 && dynbuf_printf(s->creds, "CFEMU_ZONE_ID=%s\n", z->id) != 0)
            return fail(s, "zones", i, "out of memory");
    }
    return 0;
}

/* Copies a known owner id (32 hex) into the token; -1 if it does not fit. */
static int set_owner(cf_token *t, cf_owner_kind kind, const char *id)
{
    size_t n = strlen(id);

    if (n >= sizeof(t->owner_id))
        return -1;
    t->owner_kind = kind;
    memcpy(t->owner_id, id, n + 1);
    return 0;
}

static int token_owner(seed_ctx *s, int o, cf_token *t)
{
    char owner[80];

    if (get_str(s->doc, o, "owner", owner, sizeof(owner)) != 1)
        return -1;
    if (strcmp(owner, "user") == 0) {
        cf_user *u = s->st->users.len > 0 ? s->st->users.items[0] : NULL;

        if (u == NULL)
            return -1;
        t->owner_kind = CF_OWNER_USER;
        memcpy(t->owner_id, u->id, sizeof(t->owner_id));
        return 0;
    }
    if (strncmp(owner, "user:", 5) == 0 && state_user(s->st, owner + 5) != NULL)
        return set_owner(t, CF_OWNER_USER, owner + 5);
    if (strncmp(owner, "account:", 8) == 0 && state_account(s->st, owner + 8) != NULL)
        return set_owner(t, CF_OWNER_ACCOUNT, owner + 8);
    return -1;
}

/* status: "active" (default), "disabled" or "expired". 0, or -1 with a message. */
static int token_status(seed_ctx *s, int o, int i, cf_token *t)
{
    if (get_strdup(s->doc, o, "status", &t->status) < 0)
        return fail(s, "tokens", i, "bad status");
    if (t->status == NULL && (t->status = rotp__strdup("active")) == NULL)
        return fail(s, "tokens", i, "out of memory");
    if (strcmp(t->status, "active") != 0 && strcmp(t->status, "disabled") != 0 &&
        strcmp(t->status, "expired") != 0)
        return fail(s, "tokens", i, "status must be active, disabled or expired");
    return 0;
}

/* The five optional times; issued_on defaults to now, modified_on to issued_on. */
static int token_times(seed_ctx *s, int o, int i, cf_token *t)
{
    const json_doc *doc = s->doc;

    if (get_time(doc, o, "not_before", &t->not_before) != 0 ||
        get_time(doc, o, "expires_on", &t->expires_on) != 0 ||
        get_time(doc, o, "issued_on", &t->issued_on) != 0 ||
        get_time(doc, o, "modified_on", &t->modified_on) != 0 ||
        get_time(doc, o, "last_used_on", &t->last_used_on) != 0)
        return fail(s, "tokens", i, "a time field is not RFC 3339");
    if (t->issued_on == CF_TIME_NONE)
        t->issued_on = s->now;
    if (t->modified_on == CF_TIME_NONE)
        t->modified_on = t->issued_on;
    return 0;
}

/* condition: an object kept as given, or absent/null. */
static int token_condition(seed_ctx *s, int o, int i, cf_token *t)
{
    int c = json_get(s->doc, o, "condition");
    const char *raw;
    size_t clen;

    if (c < 0 || json_is_null(s->doc, c))
        return 0;
    if (!json_is_object(s->doc, c))
        return fail(s, "tokens", i, "condition must be an object");
    raw = json_raw(s->doc, c, &clen);
    if ((t->condition_json = rotp__strndup(raw, clen)) == NULL)
        return fail(s, "tokens", i, "out of memory");
    return 0;
}

/* value: a unique well-formed secret, or absent for a fresh cfut_/cfat_ value. */
static int token_value(seed_ctx *s, int o, int i, cf_token *t)
{
    int vt = json_get(s->doc, o, "value");

    if (vt < 0 || json_is_null(s->doc, vt)) {
        t->value = cf_new_token_value(t->owner_kind == CF_OWNER_USER ? "cfut_" : "cfat_");
        return t->value != NULL ? 0 : fail(s, "tokens", i, "out of memory");
    }
    if (json_secretdup(s->doc, vt, &t->value) != 0 ||
        !secret_shape_ok(t->value->data, t->value->len) || t->value->len < 40 ||
        t->value->len > 80 || state_token_by_value(s->st, t->value->data, t->value->len) != NULL)
        return fail(s, "tokens", i,
                    "value must be a unique [-A-Za-z0-9._~+/]+=* string of 40 to 80 characters");
    return 0;
}

static int load_token(seed_ctx *s, int o, int i)
{
    const json_doc *doc = s->doc;
    cf_token *t = rotp__calloc(1, sizeof(*t));
    char name_key[160], err[200];
    char *creds_name = NULL;
    int rc = -1;

    if (t == NULL)
        return fail(s, "tokens", i, "out of memory");
    if (get_hex32(doc, o, "id", t->id) != 0 || state_token(s->st, t->id) != NULL) {
        fail(s, "tokens", i, "needs a unique 32-hex id");
        goto out;
    }
    if (get_strdup(doc, o, "name", &t->name) != 1 || strlen(t->name) > 120) {
        fail(s, "tokens", i, "needs a name of at most 120 characters");
        goto out;
    }
    if (token_owner(s, o, t) != 0) {
        fail(s, "tokens", i,
             "owner must be \"user\", \"user:<id>\" or \"account:<id>\" of a "
             "seeded user/account");
        goto out;
    }
    if (token_status(s, o, i, t) != 0)
        goto out;
    if (token_times(s, o, i, t) != 0)
        goto out;
    if (cf_policies_parse(doc, json_get(doc, o, "policies"), &t->policies, &t->npolicies, err,
                          sizeof(err)) != 0) {
        fail(s, "tokens", i, err);
        goto out;
    }
    if (token_condition(s, o, i, t) != 0 || token_value(s, o, i, t) != 0)
        goto out;
    if (get_strdup(doc, o, "creds_name", &creds_name) < 0) {
        fail(s, "tokens", i, "creds_name must be a string");
        goto out;
    }
    creds_key(creds_name != NULL ? creds_name : t->name, name_key, sizeof(name_key));
    if (dynbuf_printf(s->creds, "CFEMU_TOKEN_%s_ID=%s\nCFEMU_TOKEN_%s_VALUE=", name_key, t->id,
                      name_key) != 0 ||
        dynbuf_add(s->creds, t->value->data, t->value->len) != 0 ||
        dynbuf_adds(s->creds, "\n") != 0)
        goto out;
    if (cf_vec_push(&s->st->tokens, t) != 0)
        goto out;
    t = NULL;
    rc = 0;
out:
    rotp__free(creds_name);
    cf_token_free(t);
    return rc;
}

/* account_id or zone_id of a seeded account / zone (service tokens and Access apps). */
static int owner_scope(seed_ctx *s, int o, int i, const char *what, char *account_id, char *zone_id)
{
    if (json_get(s->doc, o, "account_id") >= 0) {
        if (get_hex32(s->doc, o, "account_id", account_id) != 0 ||
            state_account(s->st, account_id) == NULL)
            return fail(s, what, i, "account_id must name a seeded account");
        return 0;
    }
    if (get_hex32(s->doc, o, "zone_id", zone_id) != 0 || state_zone(s->st, zone_id) == NULL)
        return fail(s, what, i, "needs account_id or zone_id of a seeded account/zone");
    return 0;
}

/* client_id (default: fresh "<32 hex>.access", unique), client_secret (default: fresh),
 * previous_client_secret. */
static int st_credentials(seed_ctx *s, int o, int i, cf_service_token *t)
{
    const json_doc *doc = s->doc;
    char hex[CF_HEX32_LEN + 1];
    int tok;

    if (get_strdup(doc, o, "client_id", &t->client_id) < 0)
        return fail(s, "service_tokens", i, "bad client_id");
    if (t->client_id == NULL) {
        if (cf_new_hex32(hex) != 0 || (t->client_id = rotp__malloc(CF_HEX32_LEN + 8)) == NULL)
            return fail(s, "service_tokens", i, "out of memory");
        snprintf(t->client_id, CF_HEX32_LEN + 8, "%s.access", hex);
    }
    if (state_service_token_by_client_id(s->st, t->client_id) != NULL)
        return fail(s, "service_tokens", i, "client_id is not unique");
    tok = json_get(doc, o, "client_secret");
    if (tok >= 0 && !json_is_null(doc, tok)) {
        if (json_secretdup(doc, tok, &t->client_secret) != 0 || t->client_secret->len == 0)
            return fail(s, "service_tokens", i, "bad client_secret");
    } else if ((t->client_secret = cf_new_client_secret()) == NULL) {
        return fail(s, "service_tokens", i, "out of memory");
    }
    tok = json_get(doc, o, "previous_client_secret");
    if (tok >= 0 && !json_is_null(doc, tok) && json_secretdup(doc, tok, &t->prev_secret) != 0)
        return fail(s, "service_tokens", i, "bad previous_client_secret");
    return 0;
}

/* duration (default 8760h), the times (expires_at defaults to created_at + duration),
 * client_secret_version (default 1), enabled (default true). */
static int st_lifetime(seed_ctx *s, int o, int i, cf_service_token *t)
{
    const json_doc *doc = s->doc;
    int64_t dur_ms = DEFAULT_DURATION_MS;
    int64_t v = 1;
    int tok;

    if (get_strdup(doc, o, "duration", &t->duration) < 0)
        return fail(s, "service_tokens", i, "bad duration");
    if (t->duration == NULL && (t->duration = rotp__strdup("8760h")) == NULL)
        return fail(s, "service_tokens", i, "out of memory");
    if (strcmp(t->duration, "forever") != 0 &&
        duration_parse_ms(t->duration, strlen(t->duration), &dur_ms) != 0)
        return fail(s, "service_tokens", i, "duration must be a Go duration or \"forever\"");
    if (get_time(doc, o, "created_at", &t->created_at) != 0 ||
        get_time(doc, o, "updated_at", &t->updated_at) != 0 ||
        get_time(doc, o, "expires_at", &t->expires_at) != 0 ||
        get_time(doc, o, "last_seen_at", &t->last_seen_at) != 0 ||
        get_time(doc, o, "previous_client_secret_expires_at", &t->prev_secret_expires_at) != 0)
        return fail(s, "service_tokens", i, "a time field is not RFC 3339");
    if (t->created_at == CF_TIME_NONE)
        t->created_at = s->now;
    if (t->updated_at == CF_TIME_NONE)
        t->updated_at = t->created_at;
    if (t->expires_at == CF_TIME_NONE && strcmp(t->duration, "forever") != 0)
        t->expires_at = t->created_at + dur_ms / 1000;
    tok = json_get(doc, o, "client_secret_version");
    if (tok >= 0 && (json_get_int64(doc, tok, &v) != 0 || v < 1))
        return fail(s, "service_tokens", i, "client_secret_version must be a positive integer");
    t->client_secret_version = v;
    t->enabled = true;
    tok = json_get(doc, o, "enabled");
    if (tok >= 0 && json_get_bool(doc, tok, &t->enabled) != 0)
        return fail(s, "service_tokens", i, "enabled must be a boolean");
    return 0;
}

static int load_service_token(seed_ctx *s, int o, int i)
{
    const json_doc *doc = s->doc;
    cf_service_token *t = rotp__calloc(1, sizeof(*t));
    char key[160];
    int rc = -1;

    if (t == NULL)
        return fail(s, "service_tokens", i, "out of memory");
    if (get_uuid(doc, o, "id", t->id) != 0 || state_service_token(s->st, t->id) != NULL) {
        fail(s, "service_tokens", i, "needs a unique lowercase UUID id");
        goto out;
    }
    if (get_strdup(doc, o, "name", &t->name) != 1) {
        fail(s, "service_tokens", i, "needs a name");
        goto out;
    }
    if (owner_scope(s, o, i, "service_tokens", t->account_id, t->zone_id) != 0 ||
        st_credentials(s, o, i, t) != 0 || st_lifetime(s, o, i, t) != 0)
        goto out;
    creds_key(t->name, key, sizeof(key));
    if (dynbuf_printf(s->creds,
                      "CFEMU_ST_%s_ID=%s\nCFEMU_ST_%s_CLIENT_ID=%s\n"
                      "CFEMU_ST_%s_CLIENT_SECRET=",
                      key, t->id, key, t->client_id, key) != 0 ||
        dynbuf_add(s->creds, t->client_secret->data, t->client_secret->len) != 0 ||
        dynbuf_adds(s->creds, "\n") != 0)
        goto out;
    if (cf_vec_push(&s->st->service_tokens, t) != 0)
        goto out;
    t = NULL;
    rc = 0;
out:
    cf_service_token_free(t);
    return rc;
}

/* One include rule: {"service_token": {"token_id": "<uuid>"}}, {"any_valid_service_token": {}}
 * or, where groups are allowed (app policies), {"group": {"id": "<uuid of a seeded group>"}}. */
static int load_rule(seed_ctx *s, int r, bool allow_group, cf_access_rule *rule)
{
    int st = json_get(s->doc, r, "service_token");
    int gr = json_get(s->doc, r, "group");

    if (json_get(s->doc, r, "any_valid_service_token") >= 0) {
        rule->kind = CF_RULE_ANY_VALID_SERVICE_TOKEN;
        return 0;
    }
    if (st >= 0) {
        rule->kind = CF_RULE_SERVICE_TOKEN;
        return get_uuid(s->doc, st, "token_id", rule->id);
    }
    rule->kind = CF_RULE_GROUP;
    if (!allow_group || gr < 0 || get_uuid(s->doc, gr, "id", rule->id) != 0 ||
        state_group(s->st, rule->id) == NULL)
        return -1;
    return 0;
}

/* The include array at inc into *out / *n (allocated). 0, or -1 with a message for what[i]. */
static int load_rules(seed_ctx *s, int inc, bool allow_group, const char *what, int i,
                      cf_access_rule **out, size_t *n)
{
    const json_doc *doc = s->doc;

    if (inc < 0 || !json_is_array(doc, inc))
        return fail(s, what, i, "needs an include array");
    if (doc->toks[inc].size == 0)
        return 0;
    *out = rotp__calloc((size_t)doc->toks[inc].size, sizeof(**out));
    if (*out == NULL)
        return fail(s, what, i, "out of memory");
    for (int r = 0; r < doc->toks[inc].size; r++) {
        if (load_rule(s, json_at(doc, inc, r), allow_group, &(*out)[*n]) != 0)
            return fail(s, what, i,
                        allow_group ? "an include rule must be {\"service_token\":{\"token_id\":"
                                      "\"<uuid>\"}}, {\"any_valid_service_token\":{}} or "
                                      "{\"group\":{\"id\":\"<uuid of a seeded group>\"}}"
                                    : "an include rule must be {\"service_token\":{\"token_id\":"
                                      "\"<uuid>\"}} or {\"any_valid_service_token\":{}}");
        (*n)++;
    }
    return 0;
}

/* An Access group: id, name, account_id or zone_id, include (no group rules). */
static int load_group(seed_ctx *s, int o, int i)
{
    const json_doc *doc = s->doc;
    cf_access_group *g = rotp__calloc(1, sizeof(*g));
    int rc = -1;

    if (g == NULL)
        return fail(s, "access_groups", i, "out of memory");
    if (get_uuid(doc, o, "id", g->id) != 0 || state_group(s->st, g->id) != NULL ||
        get_strdup(doc, o, "name", &g->name) != 1) {
        fail(s, "access_groups", i, "needs a unique lowercase UUID id and a name");
        goto out;
    }
    if (owner_scope(s, o, i, "access_groups", g->account_id, g->zone_id) != 0 ||
        load_rules(s, json_get(doc, o, "include"), false, "access_groups", i, &g->include,
                   &g->ninclude) != 0)
        goto out;
    if (cf_vec_push(&s->st->groups, g) != 0) {
        fail(s, "access_groups", i, "out of memory");
        goto out;
    }
    g = NULL;
    rc = 0;
out:
    cf_access_group_free(g);
    return rc;
}

static int load_app(seed_ctx *s, int o, int i)
{
    const json_doc *doc = s->doc;
    cf_access_app *a = rotp__calloc(1, sizeof(*a));
    char key[160];
    int pols;
    int rc = -1;

    if (a == NULL)
        return fail(s, "access_apps", i, "out of memory");
    if (get_uuid(doc, o, "id", a->id) != 0 || state_app(s->st, a->id) != NULL ||
        get_strdup(doc, o, "name", &a->name) != 1) {
        fail(s, "access_apps", i, "needs a unique lowercase UUID id and a name");
        goto out;
    }
    if (owner_scope(s, o, i, "access_apps", a->account_id, a->zone_id) != 0)
        goto out;
    pols = json_get(doc, o, "policies");
    if (pols >= 0 && !json_is_array(doc, pols)) {
        fail(s, "access_apps", i, "policies must be an array");
        goto out;
    }
    if (pols >= 0 && doc->toks[pols].size > 0) {
        a->policies = rotp__calloc((size_t)doc->toks[pols].size, sizeof(*a->policies));
        if (a->policies == NULL)
            goto out;
    }
    for (int p = 0; pols >= 0 && p < doc->toks[pols].size; p++) {
        int po = json_at(doc, pols, p);
        int inc = json_get(doc, po, "include");
        cf_access_policy *ap = &a->policies[a->npolicies++];

        if (get_strdup(doc, po, "decision", &ap->decision) != 1) {
            fail(s, "access_apps", i, "a policy needs a decision and an include array");
            goto out;
        }
        if (load_rules(s, inc, true, "access_apps", i, &ap->include, &ap->ninclude) != 0)
            goto out;
    }
    creds_key(a->name, key, sizeof(key));
    if (dynbuf_printf(s->creds, "CFEMU_APP_%s_ID=%s\n", key, a->id) != 0)
        goto out;
    if (cf_vec_push(&s->st->apps, a) != 0)
        goto out;
    a = NULL;
    rc = 0;
out:
    cf_access_app_free(a);
    return rc;
}

/* Every member must be an array when present. */
static int array_member(seed_ctx *s, const char *key, int *out)
{
    int t = json_get(s->doc, 0, key);

    *out = -1;
    if (t < 0)
        return 0;
    if (!json_is_array(s->doc, t)) {
        fprintf(stderr, "cfemu: seed %s: \"%s\" must be an array\n", s->where, key);
        return -1;
    }
    *out = t;
    return 0;
}

static int seed_load_text(cfemu_state *st, const char *text, size_t len, const char *where,
                          int64_t now, dynbuf *creds)
{
    json_doc doc;
    seed_ctx s = {st, &doc, now, creds, where};
    int users, accounts, zones, tokens, sts, groups, apps;
    int rc = -1;

    if (json_parse(&doc, text, len) != JSON_OK || !json_is_object(&doc, 0)) {
        fprintf(stderr, "cfemu: seed %s: not a JSON object (or a duplicate key)\n", where);
        return -1;
    }
    if (array_member(&s, "users", &users) != 0 || array_member(&s, "accounts", &accounts) != 0 ||
        array_member(&s, "zones", &zones) != 0 || array_member(&s, "tokens", &tokens) != 0 ||
        array_member(&s, "service_tokens", &sts) != 0 ||
        array_member(&s, "access_groups", &groups) != 0 ||
        array_member(&s, "access_apps", &apps) != 0)
        goto out;
    if (load_users(&s, users) != 0 || load_accounts(&s, accounts) != 0 ||
        load_zones(&s, zones) != 0)
        goto out;
    for (int i = 0; tokens >= 0 && i < doc.toks[tokens].size; i++) {
        if (load_token(&s, json_at(&doc, tokens, i), i) != 0)
            goto out;
    }
    for (int i = 0; sts >= 0 && i < doc.toks[sts].size; i++) {
        if (load_service_token(&s, json_at(&doc, sts, i), i) != 0)
            goto out;
    }
    for (int i = 0; groups >= 0 && i < doc.toks[groups].size; i++) {
        if (load_group(&s, json_at(&doc, groups, i), i) != 0)
            goto out;
    }
    for (int i = 0; apps >= 0 && i < doc.toks[apps].size; i++) {
        if (load_app(&s, json_at(&doc, apps, i), i) != 0)
            goto out;
    }
    rc = 0;
out:
    json_free(&doc);
    return rc;
}

int seed_builtin(cfemu_state *st, int64_t now, dynbuf *creds)
{
    return seed_load_text(st, builtin_seed, strlen(builtin_seed), "(built-in)", now, creds);
}

int seed_load_file(cfemu_state *st, const char *path, int64_t now, dynbuf *creds)
{
    FILE *f = fopen(path, "rb");
    dynbuf text;
    char chunk[8192];
    size_t n;
    int rc = -1;

    if (f == NULL) {
        fprintf(stderr, "cfemu: cannot open the seed %s: %s\n", path, strerror(errno));
        return -1;
    }
    dynbuf_init(&text, SEED_MAX);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (dynbuf_add(&text, chunk, n) != 0) {
            fprintf(stderr, "cfemu: seed %s is too large\n", path);
            goto out;
        }
    }
    if (ferror(f)) {
        fprintf(stderr, "cfemu: cannot read the seed %s\n", path);
        goto out;
    }
    rc = seed_load_text(st, text.data != NULL ? text.data : "", text.len, path, now, creds);
out:
    fclose(f);
    dynbuf_free_wipe(&text);
    secret_wipe(chunk, sizeof(chunk));
    return rc;
}

int seed_write_creds(const char *path, const char *text)
{
    char tmp[4096];
    size_t len = strlen(text);
    int fd;
    int rc = -1;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
        return -1;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "cfemu: cannot write the creds file %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (len > 0) {
        ssize_t w = write(fd, text, len);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        text += w;
        len -= (size_t)w;
    }
    if (len == 0 && fchmod(fd, 0600) == 0)
        rc = 0;
    if (close(fd) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc != 0) {
        unlink(tmp);
        fprintf(stderr, "cfemu: cannot write the creds file %s\n", path);
    }
    return rc;
}
