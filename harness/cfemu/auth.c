/* SPDX-License-Identifier: MIT */
/* auth.c - Cloudflare-like authorization: the calling token's policies (permission groups and
 * resources) against the resource a route touches. See README.md "Authorization". */
#include "auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ids.h"

#define DOC_URL_403 "https://developers.cloudflare.com/fundamentals/api/reference/permissions/"

#define RES_USER    "com.cloudflare.api.user."
#define RES_ACCOUNT "com.cloudflare.api.account."
#define RES_ZONE    "com.cloudflare.api.account.zone."

/* true if key is prefix + id, or prefix + "*". */
static bool key_names(const char *key, const char *prefix, const char *id)
{
    size_t n = strlen(prefix);

    if (strncmp(key, prefix, n) != 0)
        return false;
    return strcmp(key + n, "*") == 0 || strcmp(key + n, id) == 0;
}

/* An account key is RES_ACCOUNT<id> but not a zone key (which shares the prefix). */
static bool account_key_names(const char *key, const char *account_id)
{
    if (strncmp(key, RES_ZONE, strlen(RES_ZONE)) == 0)
        return false;
    return key_names(key, RES_ACCOUNT, account_id);
}

/* Does resource r cover (kind, id)? zone_account: the account of the zone (CF_SCOPE_ZONE). */
static bool resource_covers(const cf_resource *r, cf_scope_kind kind, const char *id,
                            const char *zone_account)
{
    if (r->value != NULL) {
        if (strcmp(r->value, "*") != 0)
            return false;
        switch (kind) {
        case CF_SCOPE_USER:
            return key_names(r->key, RES_USER, id);
        case CF_SCOPE_ACCOUNT:
            return account_key_names(r->key, id);
        case CF_SCOPE_ZONE:
            return key_names(r->key, RES_ZONE, id) || account_key_names(r->key, zone_account);
        }
        return false;
    }
    /* Nested: account -> {zone keys}; it grants zones only. */
    if (kind != CF_SCOPE_ZONE || !account_key_names(r->key, zone_account))
        return false;
    for (size_t i = 0; i < r->ninner; i++) {
        if (strcmp(r->inner_vals[i], "*") == 0 && key_names(r->inner_keys[i], RES_ZONE, id))
            return true;
    }
    return false;
}

/* Does the policy hold group, or want_write (the Write group that satisfies a Read group)? */
static bool policy_has_group(const cf_policy *p, const cf_perm_group *group,
                             const cf_perm_group *want_write)
{
    for (size_t i = 0; i < p->ngroups; i++) {
        if (p->groups[i] == group || (want_write != NULL && p->groups[i] == want_write))
            return true;
    }
    return false;
}

/* 1: allowed; 0: the token holds the group somewhere, but not on this resource; -1: it does
 * not hold the group at all. */
static int evaluate(const cfemu_state *st, const cf_token *t, const char *group_id,
                    cf_scope_kind kind, const char *scope_id)
{
    const cf_perm_group *group = perm_by_id(group_id, strlen(group_id));
    const cf_perm_group *want_write = perm_write_of(group);
    const char *zone_account = NULL;
    bool has_group = false;
    bool allowed = false;

    if (t == NULL || scope_id == NULL || group == NULL)
        return -1;
    if (kind == CF_SCOPE_ZONE) {
        const cf_zone *z = state_zone(st, scope_id);

        if (z == NULL)
            return 0;
        zone_account = z->account_id;
    }
    if (kind == CF_SCOPE_ACCOUNT && state_account(st, scope_id) == NULL)
        return 0;
    if (kind == CF_SCOPE_USER && state_user(st, scope_id) == NULL)
        return 0;
    for (size_t i = 0; i < t->npolicies; i++) {
        const cf_policy *p = &t->policies[i];
        bool covers = false;

        if (!policy_has_group(p, group, want_write))
            continue;
        if (p->allow)
            has_group = true;
        for (size_t r = 0; r < p->nresources && !covers; r++)
            covers = resource_covers(&p->resources[r], kind, scope_id, zone_account);
        if (covers && !p->allow)
            return 0; /* a deny wins */
        if (covers && p->allow)
            allowed = true;
    }
    if (!has_group)
        return -1;
    if (!allowed)
        return 0;
    /* An account-owned token reaches only its own account (and its zones); a user token only
     * its own user. */
    if (t->owner_kind == CF_OWNER_ACCOUNT) {
        if (kind == CF_SCOPE_USER)
            return 0;
        if (kind == CF_SCOPE_ACCOUNT && strcmp(scope_id, t->owner_id) != 0)
            return 0;
        if (kind == CF_SCOPE_ZONE && strcmp(zone_account, t->owner_id) != 0)
            return 0;
    } else if (kind == CF_SCOPE_USER && strcmp(scope_id, t->owner_id) != 0) {
        return 0;
    }
    return 1;
}

int require_auth(request *req, response *resp, cf_scope_kind kind)
{
    switch (req->auth) {
    case CF_AUTH_OK:
        return 0;
    case CF_AUTH_MISSING:
        resp_error(resp, 400, 1001, "Missing \"Authorization\" header");
        return -1;
    case CF_AUTH_MALFORMED:
        resp_error_chain(resp, 400, 6003, "Invalid request headers", 6111,
                         "Invalid format for Authorization header");
        return -1;
    case CF_AUTH_UNKNOWN:
    case CF_AUTH_INACTIVE:
        break;
    }
    if (kind == CF_SCOPE_ZONE)
        resp_error(resp, 403, 9109, "Invalid access token");
    else
        resp_error(resp, 401, 10000, "Authentication error");
    return -1;
}

int require(cfemu_ctx *ctx, request *req, response *resp, const char *group_id, cf_scope_kind kind,
            const char *scope_id)
{
    int e;

    if (require_auth(req, resp, kind) != 0)
        return -1;
    e = evaluate(cfemu_st(ctx), req->caller, group_id, kind, scope_id);
    if (e == 1)
        return 0;
    if (e < 0)
        resp_error_doc(resp, 403, 10000, "Authentication error", DOC_URL_403);
    else
        resp_error_doc(resp, 403, 9109, "Unauthorized to access requested resource", DOC_URL_403);
    return -1;
}

void auth_identify(cfemu_ctx *ctx, request *req)
{
    const char *v;
    size_t len;
    int64_t now = cfemu_now(ctx);
    cf_token *t;

    req->caller = NULL;
    if (req->authorization == NULL) {
        req->auth = CF_AUTH_MISSING;
        return;
    }
    v = req->authorization->data;
    len = req->authorization->len;
    if (len < 7 || strncasecmp(v, "Bearer ", 7) != 0) {
        req->auth = CF_AUTH_MALFORMED;
        return;
    }
    v += 7;
    len -= 7;
    /* Cloudflare answers 6003/6111 for "abc-def" and a 37-character Global API key sent as
     * Bearer (API-NOTES section 5): a token value is 40 to 80 characters (iam_value). */
    if (!secret_shape_ok(v, len) || len < 40 || len > 80) {
        req->auth = CF_AUTH_MALFORMED;
        return;
    }
    t = state_token_by_value(cfemu_st(ctx), v, len);
    if (t == NULL) {
        req->auth = CF_AUTH_UNKNOWN;
        return;
    }
    req->caller = t;
    if ((t->status != NULL && strcmp(t->status, "active") != 0) ||
        (t->expires_on != CF_TIME_NONE && now >= t->expires_on) ||
        (t->not_before != CF_TIME_NONE && now < t->not_before)) {
        req->auth = CF_AUTH_INACTIVE;
        return;
    }
    req->auth = CF_AUTH_OK;
}
