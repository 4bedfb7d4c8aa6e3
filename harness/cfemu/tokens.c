/* SPDX-License-Identifier: MIT */
/* tokens.c - user API tokens (/user/tokens...) and account-owned API tokens
 * (/accounts/{account_id}/tokens...): list, create, get, update, delete, roll, verify,
 * permission_groups. Semantics: API-NOTES sections 2, 3, 5; codes: README.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "auth.h"
#include "ids.h"
#include "routes.h"
#include "timefmt.h"

#define E_VALIDATION 1002 /* a request body or query parameter is invalid (cfemu's choice) */
#define E_QUOTA      1003 /* the token quota is reached (cfemu's choice) */
/* What Cloudflare answers for a token body it refuses over its policies: "Reusing existing
 * policies is not supported by token creation", "Failed common permission check ..." (README). */
#define E_POLICY 1001

/* The family a request belongs to: user tokens or the tokens of one account. */
typedef struct family {
    cf_owner_kind kind;
    const char *account_id; /* CF_OWNER_ACCOUNT: from the path */
    const char *read_group; /* permission-group ids (perm.h) */
    const char *write_group;
    const char *prefix; /* value prefix */
} family;

/* The scope the permission check runs against: the caller's user for /user/tokens, the account
 * in the path for /accounts/{a}/tokens. */
static cf_scope_kind fam_scope(const family *f)
{
    return f->kind == CF_OWNER_USER ? CF_SCOPE_USER : CF_SCOPE_ACCOUNT;
}

static const char *fam_scope_id(const family *f, const request *req)
{
    if (f->kind == CF_OWNER_ACCOUNT)
        return f->account_id;
    if (req->caller != NULL && req->caller->owner_kind == CF_OWNER_USER)
        return req->caller->owner_id;
    return "";
}

/* The owner id tokens of this family carry (valid after a successful require()). */
static const char *fam_owner(const family *f, const request *req)
{
    return fam_scope_id(f, req);
}

static void oom(response *resp)
{
    resp_error(resp, 500, 10001, "cfemu: out of memory");
}

/* A token of this family by id, or NULL. */
static cf_token *fam_token(cfemu_ctx *ctx, const family *f, const request *req, const char *id)
{
    cf_token *t = state_token(cfemu_st(ctx), id);

    if (t == NULL || t->owner_kind != f->kind || strcmp(t->owner_id, fam_owner(f, req)) != 0)
        return NULL;
    return t;
}

/* --- list ---------------------------------------------------------------------------------- */

static int query_long(const request *req, const char *key, long dflt, long *out)
{
    const char *v = req_query(req, key);
    char *end = NULL;
    long n;

    if (v == NULL) {
        *out = dflt;
        return 0;
    }
    n = strtol(v, &end, 10);
    if (end == v || *end != 0)
        return -1;
    *out = n;
    return 0;
}

static int list_tokens(cfemu_ctx *ctx, const family *f, request *req, response *resp)
{
    cfemu_state *st = cfemu_st(ctx);
    int64_t now = cfemu_now(ctx);
    long page, per_page, total = 0, count = 0, skip;
    const char *dir = req_query(req, "direction");
    const char *inc = req_query(req, "include_expired");
    bool desc, include_expired;
    dynbuf b;
    int rc = 0;

    if (require(ctx, req, resp, f->read_group, fam_scope(f), fam_scope_id(f, req)) != 0)
        return ROUTE_DONE;
    if (query_long(req, "page", 1, &page) != 0 || page < 1) {
        resp_error(resp, 400, E_VALIDATION, "page must be an integer >= 1");
        return ROUTE_DONE;
    }
    if (query_long(req, "per_page", 20, &per_page) != 0 || per_page < 5 || per_page > 50) {
        resp_error(resp, 400, E_VALIDATION, "per_page must be an integer from 5 to 50");
        return ROUTE_DONE;
    }
    if (dir != NULL && strcmp(dir, "asc") != 0 && strcmp(dir, "desc") != 0) {
        resp_error(resp, 400, E_VALIDATION, "direction must be asc or desc");
        return ROUTE_DONE;
    }
    if (inc != NULL && strcmp(inc, "true") != 0 && strcmp(inc, "false") != 0) {
        resp_error(resp, 400, E_VALIDATION, "include_expired must be true or false");
        return ROUTE_DONE;
    }
    desc = dir != NULL && strcmp(dir, "desc") == 0;
    include_expired = inc != NULL && strcmp(inc, "true") == 0;
    skip = (page - 1) * per_page;
    dynbuf_init(&b, 64u * 1024u * 1024u);
    rc = dynbuf_adds(&b, "[");
    for (size_t k = 0; rc == 0 && k < st->tokens.len; k++) {
        size_t i = desc ? st->tokens.len - 1 - k : k;
        const cf_token *t = st->tokens.items[i];

        if (t->owner_kind != f->kind || strcmp(t->owner_id, fam_owner(f, req)) != 0)
            continue;
        if (!include_expired && strcmp(cf_token_status(t, now), "expired") == 0)
            continue;
        total++;
        if (total <= skip || count >= per_page)
            continue;
        if (count > 0)
            rc = dynbuf_adds(&b, ",");
        if (rc == 0)
            rc = cf_json_token(&b, t, now);
        count++;
    }
    if (rc == 0)
        rc = dynbuf_adds(&b, "]");
    if (rc == 0)
        resp_ok_list(resp, b.data, page, per_page, count, total);
    else
        oom(resp);
    dynbuf_free(&b);
    return ROUTE_DONE;
}

/* --- create / update ----------------------------------------------------------------------- */

/* The fields create and update share, read from the body into a scratch token. 0, or -1 with
 * resp filled. */
static int read_token_body(cfemu_ctx *ctx, const json_doc *doc, cf_token *t, bool update,
                           response *resp)
{
    char err[240];
    int name = json_get(doc, 0, "name");
    int cond = json_get(doc, 0, "condition");
    int status = json_get(doc, 0, "status");
    int64_t now = cfemu_now(ctx);

    if (name < 0 || !json_is_string(doc, name) || json_strdup(doc, name, &t->name) != 0 ||
        t->name[0] == 0 || strlen(t->name) > 120) {
        resp_error(resp, 400, E_VALIDATION, "name is required: a string of 1 to 120 characters");
        return -1;
    }
    switch (cf_policies_parse(doc, json_get(doc, 0, "policies"), &t->policies, &t->npolicies, err,
                              sizeof(err))) {
    case CF_POLICY_OK:
        break;
    case CF_POLICY_BAD_GROUP:
        resp_error(resp, 400, E_POLICY, err);
        return -1;
    case CF_POLICY_INVALID:
        resp_error(resp, 400, E_VALIDATION, err);
        return -1;
    }
    if (cond >= 0 && !json_is_null(doc, cond)) {
        size_t len;
        const char *raw;

        if (!json_is_object(doc, cond)) {
            resp_error(resp, 400, E_VALIDATION, "condition must be an object");
            return -1;
        }
        raw = json_raw(doc, cond, &len);
        if ((t->condition_json = rotp__strndup(raw, len)) == NULL) {
            oom(resp);
            return -1;
        }
    }
    if (cf_parse_time(doc, json_get(doc, 0, "not_before"), &t->not_before) != 0 ||
        cf_parse_time(doc, json_get(doc, 0, "expires_on"), &t->expires_on) != 0) {
        resp_error(resp, 400, E_VALIDATION,
                   "not_before and expires_on must be RFC 3339 times (e.g. 2027-01-01T00:00:00Z)");
        return -1;
    }
    if (t->expires_on != CF_TIME_NONE && t->not_before != CF_TIME_NONE &&
        t->expires_on <= t->not_before) {
        resp_error(resp, 400, E_VALIDATION, "expires_on must be after not_before");
        return -1;
    }
    if (!update && t->expires_on != CF_TIME_NONE && t->expires_on <= now) {
        resp_error(resp, 400, E_VALIDATION, "expires_on must be in the future");
        return -1;
    }
    if (update && status >= 0 && !json_is_null(doc, status)) {
        if (!json_str_eq(doc, status, "active") && !json_str_eq(doc, status, "disabled") &&
            !json_str_eq(doc, status, "expired")) {
            resp_error(resp, 400, E_VALIDATION, "status must be active or disabled");
            return -1;
        }
        if (json_strdup(doc, status, &t->status) != 0) {
            oom(resp);
            return -1;
        }
    }
    return 0;
}

/* true if a policy of the body names a policy id: Cloudflare refuses that on create (400/1001,
 * a documented answer); an update may keep its policies' ids. */
static bool reuses_policies(const json_doc *doc)
{
    int arr = json_get(doc, 0, "policies");

    for (int i = 0; arr >= 0 && json_is_array(doc, arr) && i < doc->toks[arr].size; i++) {
        int id = json_get(doc, json_at(doc, arr, i), "id");

        if (id >= 0 && !json_is_null(doc, id))
            return true;
    }
    return false;
}

static int create_token(cfemu_ctx *ctx, const family *f, request *req, response *resp)
{
    cfemu_state *st = cfemu_st(ctx);
    int64_t now = cfemu_now(ctx);
    const char *owner;
    cf_token *t = NULL;
    json_doc doc;
    dynbuf b;

    if (require(ctx, req, resp, f->write_group, fam_scope(f), fam_scope_id(f, req)) != 0)
        return ROUTE_DONE;
    if (req_json(req, resp, &doc, false) != 0)
        return ROUTE_DONE;
    dynbuf_init(&b, 1024u * 1024u);
    owner = fam_owner(f, req);
    t = rotp__calloc(1, sizeof(*t));
    if (t == NULL) {
        oom(resp);
        goto out;
    }
    if (reuses_policies(&doc)) {
        resp_error(resp, 400, E_POLICY,
                   "Reusing existing policies is not supported by token creation");
        goto out;
    }
    if (read_token_body(ctx, &doc, t, false, resp) != 0)
        goto out;
    if (state_count_tokens(st, f->kind, owner) >=
        (f->kind == CF_OWNER_USER ? CF_USER_TOKEN_QUOTA : CF_ACCOUNT_TOKEN_QUOTA)) {
        resp_error(resp, 400, E_QUOTA,
                   f->kind == CF_OWNER_USER
                       ? "Token quota exceeded: a user may own at most 50 API tokens"
                       : "Token quota exceeded: an account may own at most 500 API tokens");
        goto out;
    }
    t->owner_kind = f->kind;
    snprintf(t->owner_id, sizeof(t->owner_id), "%s", owner);
    t->issued_on = t->modified_on = now;
    t->last_used_on = CF_TIME_NONE;
    do {
        if (cf_new_hex32(t->id) != 0) {
            oom(resp);
            goto out;
        }
    } while (state_token(st, t->id) != NULL);
    t->status = rotp__strdup("active");
    t->value = cf_new_token_value(f->prefix);
    if (t->status == NULL || t->value == NULL || cf_json_token(&b, t, now) != 0 || b.len == 0) {
        oom(resp);
        goto out;
    }
    /* The token object plus "value": the only time the secret is shown. */
    b.len--; /* drop the closing brace */
    b.data[b.len] = 0;
    if (dynbuf_adds(&b, ",\"value\":") != 0 ||
        dynbuf_json_str(&b, t->value->data, t->value->len) != 0 || dynbuf_adds(&b, "}") != 0 ||
        cf_vec_push(&st->tokens, t) != 0) {
        oom(resp);
        goto out;
    }
    t = NULL;
    resp_ok(resp, 200, b.data);
out:
    cf_token_free(t);
    json_free(&doc);
    dynbuf_free_wipe(&b);
    return ROUTE_DONE;
}

static int update_token(cfemu_ctx *ctx, const family *f, request *req, response *resp,
                        const char *id)
{
    cf_token scratch;
    cf_token *t;
    json_doc doc;
    dynbuf b;

    if (require(ctx, req, resp, f->write_group, fam_scope(f), fam_scope_id(f, req)) != 0)
        return ROUTE_DONE;
    t = fam_token(ctx, f, req, id);
    if (t == NULL)
        return resp_bad_id(resp, req), ROUTE_DONE;
    if (req_json(req, resp, &doc, false) != 0)
        return ROUTE_DONE;
    memset(&scratch, 0, sizeof(scratch));
    dynbuf_init(&b, 1024u * 1024u);
    if (read_token_body(ctx, &doc, &scratch, true, resp) != 0)
        goto out;
    /* PUT replaces the token as a whole: what the body leaves out is unset (status is kept). */
    rotp__free(t->name);
    t->name = scratch.name;
    scratch.name = NULL;
    cf_policies_free(t->policies, t->npolicies);
    t->policies = scratch.policies;
    t->npolicies = scratch.npolicies;
    scratch.policies = NULL;
    scratch.npolicies = 0;
    rotp__free(t->condition_json);
    t->condition_json = scratch.condition_json;
    scratch.condition_json = NULL;
    t->not_before = scratch.not_before;
    t->expires_on = scratch.expires_on;
    if (scratch.status != NULL && strcmp(scratch.status, "expired") != 0) {
        rotp__free(t->status);
        t->status = scratch.status;
        scratch.status = NULL;
    }
    t->modified_on = cfemu_now(ctx);
    if (cf_json_token(&b, t, cfemu_now(ctx)) != 0)
        oom(resp);
    else
        resp_ok(resp, 200, b.data);
out:
    rotp__free(scratch.name);
    cf_policies_free(scratch.policies, scratch.npolicies);
    rotp__free(scratch.condition_json);
    rotp__free(scratch.status);
    json_free(&doc);
    dynbuf_free(&b);
    return ROUTE_DONE;
}

/* --- get / delete / roll ------------------------------------------------------------------- */

static int get_token(cfemu_ctx *ctx, const family *f, request *req, response *resp, const char *id)
{
    cf_token *t;
    dynbuf b;

    if (require(ctx, req, resp, f->read_group, fam_scope(f), fam_scope_id(f, req)) != 0)
        return ROUTE_DONE;
    t = fam_token(ctx, f, req, id);
    if (t == NULL)
        return resp_bad_id(resp, req), ROUTE_DONE;
    dynbuf_init(&b, 1024u * 1024u);
    if (cf_json_token(&b, t, cfemu_now(ctx)) != 0)
        oom(resp);
    else
        resp_ok(resp, 200, b.data);
    dynbuf_free(&b);
    return ROUTE_DONE;
}

static int delete_token(cfemu_ctx *ctx, const family *f, request *req, response *resp,
                        const char *id)
{
    cfemu_state *st = cfemu_st(ctx);
    char result[64];
    cf_token *t;
    long i;

    if (require(ctx, req, resp, f->write_group, fam_scope(f), fam_scope_id(f, req)) != 0)
        return ROUTE_DONE;
    t = fam_token(ctx, f, req, id);
    if (t == NULL)
        return resp_bad_id(resp, req), ROUTE_DONE;
    snprintf(result, sizeof(result), "{\"id\":\"%s\"}", t->id);
    i = state_index_of(&st->tokens, t);
    cf_token_free(cf_vec_remove(&st->tokens, (size_t)i));
    if (req->caller == t)
        req->caller = NULL; /* a token that deleted itself */
    resp_ok(resp, 200, result);
    return ROUTE_DONE;
}

static int roll_token(cfemu_ctx *ctx, const family *f, request *req, response *resp, const char *id)
{
    secret_buf *nv;
    cf_token *t;
    json_doc doc;
    dynbuf b;

    if (require(ctx, req, resp, f->write_group, fam_scope(f), fam_scope_id(f, req)) != 0)
        return ROUTE_DONE;
    t = fam_token(ctx, f, req, id);
    if (t == NULL)
        return resp_bad_id(resp, req), ROUTE_DONE;
    /* The docs send {}; real clients also send an empty body with the JSON content type
     * (cloudflare-go v0, v6) or no body at all (the TypeScript SDK 7, third-party Go): all
     * three roll (API-NOTES addendum 2026-12). A body that is there must be a JSON object. */
    if (req_json(req, resp, &doc, true) < 0)
        return ROUTE_DONE;
    json_free(&doc);
    nv = cf_new_token_value(f->prefix);
    if (nv == NULL) {
        oom(resp);
        return ROUTE_DONE;
    }
    dynbuf_init(&b, 4096);
    if (dynbuf_json_str(&b, nv->data, nv->len) != 0) {
        secret_free(nv);
        oom(resp);
    } else {
        /* The old value dies at once; id, name, policies, not_before, expires_on stay. */
        secret_free(t->value);
        t->value = nv;
        t->modified_on = cfemu_now(ctx);
        resp_ok(resp, 200, b.data);
    }
    dynbuf_free_wipe(&b);
    return ROUTE_DONE;
}

/* --- verify / permission groups ------------------------------------------------------------ */

static int verify_token(cfemu_ctx *ctx, const family *f, request *req, response *resp)
{
    const cf_token *t = req->caller;
    int64_t now = cfemu_now(ctx);
    dynbuf b;
    int rc;

    if (req->auth == CF_AUTH_MISSING || req->auth == CF_AUTH_MALFORMED)
        return require_auth(req, resp, fam_scope(f)), ROUTE_DONE;
    if (req->auth != CF_AUTH_OK || t == NULL || t->owner_kind != f->kind ||
        (f->kind == CF_OWNER_ACCOUNT && strcmp(t->owner_id, f->account_id) != 0)) {
        resp_error(resp, 401, 1000, "Invalid API Token");
        return ROUTE_DONE;
    }
    dynbuf_init(&b, 4096);
    rc = dynbuf_printf(&b, "{\"id\":\"%s\",\"status\":\"%s\"", t->id, cf_token_status(t, now));
    if (rc == 0 && t->not_before != CF_TIME_NONE) {
        rc = dynbuf_adds(&b, ",\"not_before\":");
        if (rc == 0)
            rc = cf_json_time(&b, t->not_before);
    }
    if (rc == 0 && t->expires_on != CF_TIME_NONE) {
        rc = dynbuf_adds(&b, ",\"expires_on\":");
        if (rc == 0)
            rc = cf_json_time(&b, t->expires_on);
    }
    if (rc == 0)
        rc = dynbuf_adds(&b, "}");
    if (rc == 0)
        resp_ok_full(resp, 200, b.data, NULL,
                     "[{\"code\":10000,\"message\":\"This API Token is valid and active\","
                     "\"type\":null}]");
    else
        oom(resp);
    dynbuf_free(&b);
    return ROUTE_DONE;
}

/* GET .../permission_groups: the catalogue, filtered exactly by name and by scope; the account
 * endpoint leaves out the user-level groups (an account-owned token cannot hold them). */
static int permission_groups(cfemu_ctx *ctx, const family *f, request *req, response *resp)
{
    const char *name = req_query(req, "name");
    const char *scope = req_query(req, "scope");
    long count = 0;
    dynbuf b;
    int rc;

    if (require(ctx, req, resp, f->read_group, fam_scope(f), fam_scope_id(f, req)) != 0)
        return ROUTE_DONE;
    dynbuf_init(&b, 1024u * 1024u);
    rc = dynbuf_adds(&b, "[");
    for (size_t i = 0; rc == 0 && i < cf_perm_table_len; i++) {
        const cf_perm_group *g = &cf_perm_table[i];

        if (f->kind == CF_OWNER_ACCOUNT && strcmp(g->scope, CF_PG_SCOPE_USER) == 0)
            continue;
        if ((name != NULL && strcmp(name, g->name) != 0) ||
            (scope != NULL && strcmp(scope, g->scope) != 0))
            continue;
        rc = dynbuf_printf(&b, "%s{\"id\":\"%s\",\"name\":", count ? "," : "", g->id);
        if (rc == 0)
            rc = dynbuf_json_cstr(&b, g->name);
        if (rc == 0)
            rc = dynbuf_printf(&b, ",\"scopes\":[\"%s\"]}", g->scope);
        count++;
    }
    if (rc == 0)
        rc = dynbuf_adds(&b, "]");
    if (rc == 0)
        resp_ok_list(resp, b.data, 1, count > 50 ? count : 50, count, count);
    else
        oom(resp);
    dynbuf_free(&b);
    return ROUTE_DONE;
}

/* --- routing ------------------------------------------------------------------------------- */

static bool is(const request *req, const char *m)
{
    return strcmp(req->method, m) == 0;
}

/* seg[base] is "tokens"; what follows decides the route. */
static int route_family(cfemu_ctx *ctx, const family *f, request *req, response *resp, size_t base)
{
    size_t rest = req->nseg - base - 1;
    const char *id;

    if (rest == 0) {
        if (is(req, "GET"))
            return list_tokens(ctx, f, req, resp);
        if (is(req, "POST"))
            return create_token(ctx, f, req, resp);
        return ROUTE_NOT_MINE;
    }
    id = req->seg[base + 1];
    if (rest == 1 && strcmp(id, "verify") == 0)
        return is(req, "GET") ? verify_token(ctx, f, req, resp) : ROUTE_NOT_MINE;
    if (rest == 1 && strcmp(id, "permission_groups") == 0)
        return is(req, "GET") ? permission_groups(ctx, f, req, resp) : ROUTE_NOT_MINE;
    if (rest == 1) {
        if (!is(req, "GET") && !is(req, "PUT") && !is(req, "DELETE"))
            return ROUTE_NOT_MINE;
        if (!id_is_hex32(id, strlen(id)))
            return resp_bad_id(resp, req), ROUTE_DONE;
        if (is(req, "GET"))
            return get_token(ctx, f, req, resp, id);
        if (is(req, "PUT"))
            return update_token(ctx, f, req, resp, id);
        return delete_token(ctx, f, req, resp, id);
    }
    if (rest == 2 && strcmp(req->seg[base + 2], "value") == 0) {
        if (!is(req, "PUT"))
            return ROUTE_NOT_MINE;
        if (!id_is_hex32(id, strlen(id)))
            return resp_bad_id(resp, req), ROUTE_DONE;
        return roll_token(ctx, f, req, resp, id);
    }
    return ROUTE_NOT_MINE;
}

int tokens_route(cfemu_ctx *ctx, request *req, response *resp)
{
    family f;

    if (req->nseg >= 2 && req_seg_is(req, 0, "user") && req_seg_is(req, 1, "tokens")) {
        f.kind = CF_OWNER_USER;
        f.account_id = NULL;
        f.read_group = CF_PG_API_TOKENS_READ;
        f.write_group = CF_PG_API_TOKENS_WRITE;
        f.prefix = "cfut_";
        return route_family(ctx, &f, req, resp, 1);
    }
    if (req->nseg >= 3 && req_seg_is(req, 0, "accounts") && req_seg_is(req, 2, "tokens")) {
        const char *a = req->seg[1];

        f.kind = CF_OWNER_ACCOUNT;
        f.account_id = a;
        f.read_group = CF_PG_ACCOUNT_API_TOKENS_READ;
        f.write_group = CF_PG_ACCOUNT_API_TOKENS_WRITE;
        f.prefix = "cfat_";
        if (!id_is_hex32(a, strlen(a))) {
            /* Only a path that would be a route with a good id is "a bad id". */
            if (req->nseg > 5)
                return ROUTE_NOT_MINE;
            return resp_bad_id(resp, req), ROUTE_DONE;
        }
        return route_family(ctx, &f, req, resp, 2);
    }
    return ROUTE_NOT_MINE;
}
