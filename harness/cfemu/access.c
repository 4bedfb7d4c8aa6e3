/* SPDX-License-Identifier: MIT */
/* access.c - cfemu's Cloudflare Access service tokens (account and zone level) and the
 * Access-protected probe origin.
 *
 * Routes, after /client/v4 (API-NOTES section 4; openapi-excerpt.json and its 2026-07 fragments):
 *   GET|POST          /accounts/{a}/access/service_tokens          list (name, search, page,
 *                                                                   per_page) | create (201)
 *   GET|PUT|DELETE    /accounts/{a}/access/service_tokens/{id}
 *   POST              /accounts/{a}/access/service_tokens/{id}/refresh
 *   POST              /accounts/{a}/access/service_tokens/{id}/rotate
 *   GET|POST          /zones/{z}/access/service_tokens              plain list | create (201)
 *   GET|PUT|DELETE    /zones/{z}/access/service_tokens/{id}
 * Anything else under these prefixes (zone-level refresh/rotate included, as in both spec
 * versions) is not ours: the server answers 400/7000 and counts it.
 *
 * The probe origin, GET /cdn-cgi/access/probe/{app_id}, admits a service token presented in
 * CF-Access-Client-Id / CF-Access-Client-Secret the way an Access application would: 200 when the
 * token is live and the app's policy admits it, 401 for bad credentials, 403 for a valid token the
 * policy does not admit, 404 for an unknown app.
 *
 * Every time comes from cfemu_now() so tests can move the clock past expiries and grace windows.
 * Secrets are compared in constant time, only ever written into create/rotate answers (and a
 * rotating PUT, the only place its new secret can appear), and never logged. */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "auth.h"
#include "dynbuf.h"
#include "ids.h"
#include "json.h"
#include "routes.h"
#include "secret.h"
#include "state.h"
#include "timefmt.h"

#define ST_GROUP_READ  CF_PG_ACCESS_SERVICE_TOKENS_READ
#define ST_GROUP_WRITE CF_PG_ACCESS_SERVICE_TOKENS_WRITE

#define ST_DEFAULT_DURATION "8760h"
#define ST_FOREVER          "forever"
#define ST_NAME_MAX         350 /* bytes; cfemu's own cap, the spec gives none */
#define ST_DURATION_MAX     64
#define ST_PER_PAGE_DEFAULT 20
#define ST_PER_PAGE_MAX     1000
#define ST_JSON_MAX         (4u * 1024u * 1024u)

/* Error codes cfemu uses where the sources name none (documented in README.md). 12139 is the
 * one Access code the notes give (delete of a token an Access policy names). */
#define ST_E_REFERENCED 12139
/* Cloudflare's message for it, verbatim (API-NOTES, addendum 2026-12: confirmed live). */
#define ST_IN_USE_MESSAGE                                                                          \
    "access.api.error.service_token_in_use: cannot delete service token because it is used by a "  \
    "policy, group, or app SCIM configuration"
#define ST_E_NOT_FOUND 12130
#define ST_E_INVALID   12131

/* Where a service-token route points: an account or a zone. */
typedef struct st_scope {
    bool zone;
    const char *id;      /* the account or zone id from the path */
    const char *account; /* the account the scope belongs to */
} st_scope;

/* --- small helpers ------------------------------------------------------------------------ */

static bool scope_owns(const st_scope *sc, const cf_service_token *t)
{
    if (sc->zone)
        return t->zone_id[0] != '\0' && strcmp(t->zone_id, sc->id) == 0;
    return t->zone_id[0] == '\0' && strcmp(t->account_id, sc->id) == 0;
}

/* now + duration (Go text) in *out, or CF_TIME_NONE for "forever". 0, or -1 if malformed. */
static int expiry_from(int64_t now, const char *duration, int64_t *out)
{
    int64_t ms = 0;

    if (strcmp(duration, ST_FOREVER) == 0) {
        *out = CF_TIME_NONE;
        return 0;
    }
    if (duration_parse_ms(duration, strlen(duration), &ms) != 0 || ms < 0)
        return -1;
    if (ms / 1000 > INT64_MAX / 2 - now)
        return -1;
    *out = now + ms / 1000;
    return 0;
}

/* Checks a duration given in a body: a Go duration; "forever" only at zone level (the 2026-07
 * access_duration-2 schema; the account-level access_duration has no such value). */
static bool duration_ok(const st_scope *sc, const char *d)
{
    int64_t ms;

    if (strcmp(d, ST_FOREVER) == 0)
        return sc->zone;
    return duration_parse_ms(d, strlen(d), &ms) == 0 && ms >= 0;
}

/* Appends the service token as the API shows it (2026-07 access_service-tokens plus
 * client_secret_version and previous_client_secret_expires_at). Fields without a value are
 * left out: the schema types them as plain strings. with_secret adds client_secret. */
static int json_service_token(dynbuf *b, const cf_service_token *t, bool with_secret)
{
    int r = dynbuf_adds(b, "{\"id\":");
    if (r == 0)
        r = dynbuf_json_cstr(b, t->id);
    if (r == 0)
        r = dynbuf_adds(b, ",\"name\":");
    if (r == 0)
        r = dynbuf_json_cstr(b, t->name);
    if (r == 0)
        r = dynbuf_adds(b, ",\"client_id\":");
    if (r == 0)
        r = dynbuf_json_cstr(b, t->client_id);
    if (r == 0 && with_secret) {
        r = dynbuf_adds(b, ",\"client_secret\":");
        if (r == 0)
            r = dynbuf_json_str(b, t->client_secret->data, t->client_secret->len);
    }
    if (r == 0)
        r = dynbuf_adds(b, ",\"duration\":");
    if (r == 0)
        r = dynbuf_json_cstr(b, t->duration);
    if (r == 0 && t->expires_at != CF_TIME_NONE) {
        r = dynbuf_adds(b, ",\"expires_at\":");
        if (r == 0)
            r = cf_json_time(b, t->expires_at);
    }
    if (r == 0)
        r = dynbuf_adds(b, ",\"created_at\":");
    if (r == 0)
        r = cf_json_time(b, t->created_at);
    if (r == 0)
        r = dynbuf_adds(b, ",\"updated_at\":");
    if (r == 0)
        r = cf_json_time(b, t->updated_at);
    if (r == 0 && t->last_seen_at != CF_TIME_NONE) {
        r = dynbuf_adds(b, ",\"last_seen_at\":");
        if (r == 0)
            r = cf_json_time(b, t->last_seen_at);
    }
    if (r == 0)
        r = dynbuf_printf(b, ",\"client_secret_version\":%lld",
                          (long long)t->client_secret_version);
    if (r == 0 && t->prev_secret_expires_at != CF_TIME_NONE) {
        r = dynbuf_adds(b, ",\"previous_client_secret_expires_at\":");
        if (r == 0)
            r = cf_json_time(b, t->prev_secret_expires_at);
    }
    if (r == 0)
        r = dynbuf_adds(b, "}");
    return r;
}

/* Answers status with the token as result. The scratch buffer may hold the client secret, so it
 * is wiped. 0 or -1 (allocation failure; the server answers 500). */
static int reply_token(response *resp, int status, const cf_service_token *t, bool with_secret)
{
    dynbuf b;
    int r;

    dynbuf_init(&b, ST_JSON_MAX);
    r = json_service_token(&b, t, with_secret);
    if (r == 0)
        r = resp_ok(resp, status, b.data);
    dynbuf_free_wipe(&b);
    return r == 0 ? 0 : -1;
}

/* A string member of the body: 1 and a new copy in *out when present, 0 when absent, -1 with a
 * 400 in resp when it is not a string or longer than max. -2 on allocation failure. */
static int body_str(const json_doc *doc, response *resp, const char *key, size_t max, char **out)
{
    int tok = doc->ntoks > 0 ? json_get(doc, 0, key) : -1;
    char msg[128];

    *out = NULL;
    if (tok < 0)
        return 0;
    if (!json_is_string(doc, tok)) {
        snprintf(msg, sizeof(msg), "%s must be a string", key);
        resp_error(resp, 400, ST_E_INVALID, msg);
        return -1;
    }
    int r = json_strdup(doc, tok, out);
    if (r == -1)
        return -2;
    if (r != 0 || strlen(*out) > max) {
        rotp__free(*out);
        *out = NULL;
        snprintf(msg, sizeof(msg), "%s is not a valid string of at most %zu bytes", key, max);
        resp_error(resp, 400, ST_E_INVALID, msg);
        return -1;
    }
    return 1;
}

/* An RFC 3339 member: 1 with *out, 0 when absent, -1 with a 400 in resp. */
static int body_time(const json_doc *doc, response *resp, const char *key, int64_t *out)
{
    int tok = doc->ntoks > 0 ? json_get(doc, 0, key) : -1;
    char buf[64], msg[160];

    if (tok < 0)
        return 0;
    if (!json_is_string(doc, tok) || json_strcpy(doc, tok, buf, sizeof(buf)) != 0 ||
        rfc3339_parse(buf, strlen(buf), out) != 0) {
        snprintf(msg, sizeof(msg), "%s must be an RFC 3339 timestamp", key);
        resp_error(resp, 400, ST_E_INVALID, msg);
        return -1;
    }
    return 1;
}

/* client_secret_version: 1 with *out (an integer >= 1), 0 when absent, -1 with a 400. */
static int body_version(const json_doc *doc, response *resp, int64_t *out)
{
    int tok = doc->ntoks > 0 ? json_get(doc, 0, "client_secret_version") : -1;

    if (tok < 0)
        return 0;
    if (json_get_int64(doc, tok, out) != 0 || *out < 1) {
        resp_error(resp, 400, ST_E_INVALID, "client_secret_version must be an integer >= 1");
        return -1;
    }
    return 1;
}

/* Replaces the current secret with a fresh one; the old one becomes the previous secret, valid
 * until prev_until. 0, or -1 on failure (the token is unchanged). */
static int rotate_secret(cf_service_token *t, int64_t prev_until)
{
    secret_buf *fresh = cf_new_client_secret();

    if (fresh == NULL)
        return -1;
    secret_free(t->prev_secret);
    t->prev_secret = t->client_secret;
    t->client_secret = fresh;
    t->prev_secret_expires_at = prev_until;
    return 0;
}

/* The path's token (its id already checked to be a UUID), or NULL with a 404 in resp when no
 * token has that id in this scope (a token of another account or zone is not shown). */
static cf_service_token *path_token(cfemu_ctx *ctx, const request *req, response *resp,
                                    const st_scope *sc)
{
    const char *id = req->seg[4];
    cf_service_token *t;

    t = state_service_token(cfemu_st(ctx), id);
    if (t == NULL || !scope_owns(sc, t)) {
        resp_not_found(resp, ST_E_NOT_FOUND, "service token not found");
        return NULL;
    }
    return t;
}

/* --- handlers ----------------------------------------------------------------------------- */

/* A positive integer query parameter, or def when absent. -1 if present and malformed. */
static long query_long(const request *req, const char *key, long def, long max)
{
    const char *v = req_query(req, key);
    long n = 0;

    if (v == NULL)
        return def;
    if (*v == '\0' || strlen(v) > 9)
        return -1;
    for (const char *p = v; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        n = n * 10 + (*p - '0');
    }
    if (n < 1)
        return -1;
    return n > max ? max : n;
}

/* Case-insensitive substring test (search). */
static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay != '\0'; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return n == 0;
}

/* GET .../service_tokens. Account level filters by name (exact) and search (substring of the
 * name, case-insensitive) and pages; zone level is one plain list (its spec lists no query). */
static int handle_list(cfemu_ctx *ctx, const request *req, response *resp, const st_scope *sc)
{
    const cfemu_state *st = cfemu_st(ctx);
    const char *name = sc->zone ? NULL : req_query(req, "name");
    const char *search = sc->zone ? NULL : req_query(req, "search");
    long page = 1, per_page = LONG_MAX, total = 0, count = 0, first;
    dynbuf items;
    int r = 0;

    if (!sc->zone) {
        page = query_long(req, "page", 1, 1000000);
        per_page = query_long(req, "per_page", ST_PER_PAGE_DEFAULT, ST_PER_PAGE_MAX);
        if (page < 0 || per_page < 0)
            return resp_error(resp, 400, ST_E_INVALID,
                              "page and per_page must be positive integers");
    }
    first = (page - 1) * per_page;
    dynbuf_init(&items, ST_JSON_MAX);
    r = dynbuf_adds(&items, "[");
    for (size_t i = 0; r == 0 && i < st->service_tokens.len; i++) {
        const cf_service_token *t = st->service_tokens.items[i];
        if (!scope_owns(sc, t))
            continue;
        if (name != NULL && strcmp(t->name, name) != 0)
            continue;
        if (search != NULL && !contains_ci(t->name, search))
            continue;
        if (total >= first && count < per_page) {
            if (count > 0)
                r = dynbuf_adds(&items, ",");
            if (r == 0)
                r = json_service_token(&items, t, false);
            count++;
        }
        total++;
    }
    if (r == 0)
        r = dynbuf_adds(&items, "]");
    if (r == 0) {
        if (sc->zone)
            r = resp_ok_list(resp, items.data, 1, total > 0 ? total : 1, count, total);
        else
            r = resp_ok_list(resp, items.data, page, per_page, count, total);
    }
    dynbuf_free(&items);
    return r == 0 ? 0 : -1;
}

/* POST .../service_tokens: {name (required), duration, client_secret_version,
 * previous_client_secret_expires_at}. 201 with the only copy of client_secret. */
static int handle_create(cfemu_ctx *ctx, const request *req, response *resp, const st_scope *sc)
{
    cfemu_state *st = cfemu_st(ctx);
    int64_t now = cfemu_now(ctx), version = 1, prev_until = CF_TIME_NONE;
    json_doc doc = {0};
    char *name = NULL, *duration = NULL;
    cf_service_token *t = NULL;
    char hex[CF_HEX32_LEN + 1];
    int rc = 0, r;

    r = req_json(req, resp, &doc, false);
    if (r < 0)
        return 0;
    r = body_str(&doc, resp, "name", ST_NAME_MAX, &name);
    if (r == 0) {
        resp_error(resp, 400, ST_E_INVALID, "name is required");
        goto out;
    }
    if (r < 0) {
        rc = r == -2 ? -1 : 0;
        goto out;
    }
    if (name[0] == '\0') {
        resp_error(resp, 400, ST_E_INVALID, "name must not be empty");
        goto out;
    }
    r = body_str(&doc, resp, "duration", ST_DURATION_MAX, &duration);
    if (r < 0) {
        rc = r == -2 ? -1 : 0;
        goto out;
    }
    if (r == 0) {
        duration = rotp__strdup(ST_DEFAULT_DURATION);
        if (duration == NULL) {
            rc = -1;
            goto out;
        }
    }
    if (!duration_ok(sc, duration)) {
        resp_error(resp, 400, ST_E_INVALID,
                   sc->zone ? "duration must be a Go duration such as 8760h, or forever"
                            : "duration must be a Go duration such as 8760h");
        goto out;
    }
    if (body_version(&doc, resp, &version) < 0 ||
        body_time(&doc, resp, "previous_client_secret_expires_at", &prev_until) < 0)
        goto out;

    t = rotp__calloc(1, sizeof(*t));
    if (t == NULL) {
        rc = -1;
        goto out;
    }
    if (expiry_from(now, duration, &t->expires_at) != 0) {
        resp_error(resp, 400, ST_E_INVALID, "duration is out of range");
        goto out;
    }
    if (cf_new_uuid(t->id) != 0 || cf_new_hex32(hex) != 0) {
        rc = -1;
        goto out;
    }
    t->client_id = rotp__malloc(CF_HEX32_LEN + sizeof(".access"));
    t->client_secret = cf_new_client_secret();
    if (t->client_id == NULL || t->client_secret == NULL) {
        rc = -1;
        goto out;
    }
    memcpy(t->client_id, hex, CF_HEX32_LEN);
    memcpy(t->client_id + CF_HEX32_LEN, ".access", sizeof(".access"));
    if (sc->zone)
        snprintf(t->zone_id, sizeof(t->zone_id), "%s", sc->id);
    else
        snprintf(t->account_id, sizeof(t->account_id), "%s", sc->id);
    t->name = name;
    name = NULL;
    t->duration = duration;
    duration = NULL;
    t->client_secret_version = version;
    t->prev_secret_expires_at = prev_until;
    t->created_at = t->updated_at = now;
    t->last_seen_at = CF_TIME_NONE;
    t->enabled = true;
    if (cf_vec_push(&st->service_tokens, t) != 0) {
        rc = -1;
        goto out;
    }
    rc = reply_token(resp, 201, t, true);
    t = NULL;

out:
    cf_service_token_free(t);
    rotp__free(name);
    rotp__free(duration);
    json_free(&doc);
    return rc;
}

/* PUT .../service_tokens/{id}: name, duration (expires_at then runs from now),
 * client_secret_version (a higher value rotates: the previous secret stays valid until
 * previous_client_secret_expires_at, from the same body or else now; a lower one is refused),
 * previous_client_secret_expires_at (moves the previous secret's end, past = retired now). */
static int handle_update(cfemu_ctx *ctx, const request *req, response *resp, const st_scope *sc,
                         cf_service_token *t)
{
    int64_t now = cfemu_now(ctx), version = 0, prev_until = CF_TIME_NONE, expires = 0;
    json_doc doc = {0};
    char *name = NULL, *duration = NULL;
    bool have_version, have_prev, rotate = false;
    int rc = 0, r;

    r = req_json(req, resp, &doc, false);
    if (r < 0)
        return 0;
    r = body_str(&doc, resp, "name", ST_NAME_MAX, &name);
    if (r < 0) {
        rc = r == -2 ? -1 : 0;
        goto out;
    }
    if (name != NULL && name[0] == '\0') {
        resp_error(resp, 400, ST_E_INVALID, "name must not be empty");
        goto out;
    }
    r = body_str(&doc, resp, "duration", ST_DURATION_MAX, &duration);
    if (r < 0) {
        rc = r == -2 ? -1 : 0;
        goto out;
    }
    if (duration != NULL &&
        (!duration_ok(sc, duration) || expiry_from(now, duration, &expires) != 0)) {
        resp_error(resp, 400, ST_E_INVALID, "duration must be a Go duration such as 8760h");
        goto out;
    }
    r = body_version(&doc, resp, &version);
    if (r < 0)
        goto out;
    have_version = r == 1;
    r = body_time(&doc, resp, "previous_client_secret_expires_at", &prev_until);
    if (r < 0)
        goto out;
    have_prev = r == 1;
    if (have_version && version < t->client_secret_version) {
        resp_error(resp, 400, ST_E_INVALID,
                   "client_secret_version cannot decrease; increment it to rotate");
        goto out;
    }
    rotate = have_version && version > t->client_secret_version;

    /* Everything is checked: apply. Only the rotation can fail, so it goes first. */
    if (rotate) {
        if (rotate_secret(t, have_prev ? prev_until : now) != 0) {
            rc = -1;
            goto out;
        }
        t->client_secret_version = version;
    } else if (have_prev) {
        t->prev_secret_expires_at = prev_until;
    }
    if (name != NULL) {
        rotp__free(t->name);
        t->name = name;
        name = NULL;
    }
    if (duration != NULL) {
        rotp__free(t->duration);
        t->duration = duration;
        duration = NULL;
        t->expires_at = expires;
    }
    t->updated_at = now;
    rc = reply_token(resp, 200, t, rotate);

out:
    rotp__free(name);
    rotp__free(duration);
    json_free(&doc);
    return rc;
}

/* DELETE .../service_tokens/{id}: the deleted token, or 400/12139 while an Access app policy or
 * an Access group names it by id (any_valid_service_token does not hold it). */
static int handle_delete(cfemu_ctx *ctx, response *resp, cf_service_token *t)
{
    cfemu_state *st = cfemu_st(ctx);
    long i;
    int rc;

    if (state_service_token_referenced(st, t->id))
        return resp_error(resp, 400, ST_E_REFERENCED, ST_IN_USE_MESSAGE);
    rc = reply_token(resp, 200, t, false);
    if (rc != 0)
        return rc;
    i = state_index_of(&st->service_tokens, t);
    if (i >= 0)
        cf_service_token_free(cf_vec_remove(&st->service_tokens, (size_t)i));
    return 0;
}

/* POST .../{id}/refresh: expires_at = now + duration; the secret is unchanged. */
static int handle_refresh(cfemu_ctx *ctx, response *resp, cf_service_token *t)
{
    int64_t now = cfemu_now(ctx), expires;

    if (expiry_from(now, t->duration, &expires) != 0)
        return resp_error(resp, 400, ST_E_INVALID, "the token's duration is out of range");
    t->expires_at = expires;
    t->updated_at = now;
    return reply_token(resp, 200, t, false);
}

/* POST .../{id}/rotate, optional body {"previous_client_secret_expires_at": RFC 3339} (default:
 * now, so the previous secret dies at once). A new client_secret, same id and client_id,
 * client_secret_version + 1; the answer has create's shape, secret included. */
static int handle_rotate(cfemu_ctx *ctx, const request *req, response *resp, cf_service_token *t)
{
    int64_t now = cfemu_now(ctx), prev_until = now;
    json_doc doc = {0};
    int rc = 0, r;

    r = req_json(req, resp, &doc, true);
    if (r < 0)
        return 0;
    if (body_time(&doc, resp, "previous_client_secret_expires_at", &prev_until) < 0)
        goto out;
    if (rotate_secret(t, prev_until) != 0) {
        rc = -1;
        goto out;
    }
    t->client_secret_version++;
    t->updated_at = now;
    rc = reply_token(resp, 200, t, true);
out:
    json_free(&doc);
    return rc;
}

/* --- routing ------------------------------------------------------------------------------ */

int access_route(cfemu_ctx *ctx, request *req, response *resp)
{
    const cfemu_state *st = cfemu_st(ctx);
    const char *m = req->method;
    st_scope sc = {false, NULL, NULL};
    cf_service_token *t;
    bool want_read;
    int r;

    if (req->nseg < 4 || req->nseg > 6 || !req_seg_is(req, 2, "access") ||
        !req_seg_is(req, 3, "service_tokens"))
        return ROUTE_NOT_MINE;
    if (req_seg_is(req, 0, "zones"))
        sc.zone = true;
    else if (!req_seg_is(req, 0, "accounts"))
        return ROUTE_NOT_MINE;

    /* Which operation: anything outside the spec's table is not a route. */
    if (req->nseg == 4) {
        if (strcmp(m, "GET") != 0 && strcmp(m, "POST") != 0)
            return ROUTE_NOT_MINE;
    } else if (req->nseg == 5) {
        if (strcmp(m, "GET") != 0 && strcmp(m, "PUT") != 0 && strcmp(m, "DELETE") != 0)
            return ROUTE_NOT_MINE;
    } else {
        if (sc.zone || strcmp(m, "POST") != 0 ||
            !(req_seg_is(req, 5, "refresh") || req_seg_is(req, 5, "rotate")))
            return ROUTE_NOT_MINE;
    }

    /* Identifiers in the path are checked before anything else, as Cloudflare's router does. */
    sc.id = req->seg[1];
    if (!id_is_hex32(sc.id, strlen(sc.id))) {
        resp_bad_id(resp, req);
        return ROUTE_DONE;
    }
    if (req->nseg >= 5 && !id_is_uuid(req->seg[4], strlen(req->seg[4]))) {
        resp_bad_id(resp, req);
        return ROUTE_DONE;
    }

    want_read = strcmp(m, "GET") == 0;
    if (require(ctx, req, resp, want_read ? ST_GROUP_READ : ST_GROUP_WRITE,
                sc.zone ? CF_SCOPE_ZONE : CF_SCOPE_ACCOUNT, sc.id) != 0)
        return ROUTE_DONE;
    if (sc.zone) {
        const cf_zone *z = state_zone(st, sc.id);
        if (z == NULL) {
            resp_bad_id(resp, req);
            return ROUTE_DONE;
        }
        sc.account = z->account_id;
    } else {
        if (state_account(st, sc.id) == NULL) {
            resp_bad_id(resp, req);
            return ROUTE_DONE;
        }
        sc.account = sc.id;
    }

    if (req->nseg == 4) {
        r = want_read ? handle_list(ctx, req, resp, &sc) : handle_create(ctx, req, resp, &sc);
        if (r != 0)
            resp->status = 0; /* allocation failure: the server answers 500 */
        return ROUTE_DONE;
    }
    t = path_token(ctx, req, resp, &sc);
    if (t == NULL)
        return ROUTE_DONE;
    if (req->nseg == 5) {
        if (want_read)
            r = reply_token(resp, 200, t, false);
        else if (strcmp(m, "PUT") == 0)
            r = handle_update(ctx, req, resp, &sc, t);
        else
            r = handle_delete(ctx, resp, t);
    } else if (req_seg_is(req, 5, "refresh")) {
        r = handle_refresh(ctx, resp, t);
    } else {
        r = handle_rotate(ctx, req, resp, t);
    }
    if (r != 0)
        resp->status = 0;
    return ROUTE_DONE;
}

/* --- the probe origin --------------------------------------------------------------------- */

/* true if the token may be used with the app at all: an account app takes the account's
 * account-level tokens; a zone app takes its zone's tokens and its account's tokens. */
static bool token_in_app_scope(const cfemu_state *st, const cf_access_app *app,
                               const cf_service_token *t)
{
    if (app->zone_id[0] == '\0')
        return t->zone_id[0] == '\0' && strcmp(t->account_id, app->account_id) == 0;
    if (t->zone_id[0] != '\0')
        return strcmp(t->zone_id, app->zone_id) == 0;
    const cf_zone *z = state_zone(st, app->zone_id);
    return z != NULL && strcmp(t->account_id, z->account_id) == 0;
}

static bool rule_matches(const cfemu_state *st, const cf_access_rule *rule,
                         const cf_service_token *t)
{
    const cf_access_group *g;

    switch (rule->kind) {
    case CF_RULE_ANY_VALID_SERVICE_TOKEN:
        return true;
    case CF_RULE_SERVICE_TOKEN:
        return strcmp(rule->id, t->id) == 0;
    case CF_RULE_GROUP:
        /* A group's own rules never name a group (the seed refuses that): no recursion. */
        g = state_group(st, rule->id);
        for (size_t i = 0; g != NULL && i < g->ninclude; i++) {
            if (g->include[i].kind != CF_RULE_GROUP && rule_matches(st, &g->include[i], t))
                return true;
        }
        return false;
    }
    return false;
}

/* The app's decision for a valid token: a matching deny policy refuses; otherwise a
 * non_identity (Service Auth), allow or bypass policy whose include matches admits. */
static bool app_admits(const cfemu_state *st, const cf_access_app *app, const cf_service_token *t)
{
    bool admit = false;

    for (size_t i = 0; i < app->npolicies; i++) {
        const cf_access_policy *p = &app->policies[i];
        bool match = false;
        for (size_t j = 0; j < p->ninclude && !match; j++)
            match = rule_matches(st, &p->include[j], t);
        if (!match || p->decision == NULL)
            continue;
        if (strcmp(p->decision, "deny") == 0)
            return false;
        if (strcmp(p->decision, "non_identity") == 0 || strcmp(p->decision, "allow") == 0 ||
            strcmp(p->decision, "bypass") == 0)
            admit = true;
    }
    return admit;
}

/* Whether the presented secret is the token's current one, or its previous one inside the
 * window. Both comparisons always run, in constant time each. */
static bool secret_accepted(const cf_service_token *t, const secret_buf *given, int64_t now)
{
    bool cur = false, prev = false;

    if (t->client_secret != NULL)
        cur = secret_equals(t->client_secret, given->data, given->len);
    if (t->prev_secret != NULL)
        prev = secret_equals(t->prev_secret, given->data, given->len);
    prev = prev && t->prev_secret_expires_at != CF_TIME_NONE && now < t->prev_secret_expires_at;
    return cur || prev;
}

int access_probe(cfemu_ctx *ctx, request *req, response *resp)
{
    cfemu_state *st = cfemu_st(ctx);
    int64_t now = cfemu_now(ctx);
    const cf_access_app *app;
    cf_service_token *t;
    const char *app_id;

    if (!req_seg_is(req, 0, "cdn-cgi") || !req_seg_is(req, 1, "access") ||
        !req_seg_is(req, 2, "probe"))
        return ROUTE_NOT_MINE;
    if (req->nseg != 4) {
        resp_text(resp, 404, "text/plain", "no Access application at this path\n");
        return ROUTE_DONE;
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        resp_text(resp, 405, "text/plain", "method not allowed\n");
        return ROUTE_DONE;
    }
    app_id = req->seg[3];
    app = id_is_uuid(app_id, strlen(app_id)) ? state_app(st, app_id) : NULL;
    if (app == NULL) {
        resp_text(resp, 404, "text/plain", "no Access application with this id\n");
        return ROUTE_DONE;
    }
    t = req->cf_access_client_id != NULL
            ? state_service_token_by_client_id(st, req->cf_access_client_id)
            : NULL;
    if (t == NULL || req->cf_access_client_secret == NULL ||
        !secret_accepted(t, req->cf_access_client_secret, now) || !t->enabled ||
        (t->expires_at != CF_TIME_NONE && now >= t->expires_at)) {
        resp_text(resp, 401, "text/plain",
                  "service token credentials are missing, wrong, retired or expired\n");
        return ROUTE_DONE;
    }
    if (!token_in_app_scope(st, app, t) || !app_admits(st, app, t)) {
        resp_text(resp, 403, "text/plain", "the application's policy does not admit this token\n");
        return ROUTE_DONE;
    }
    t->last_seen_at = now;
    resp_text(resp, 200, "text/plain", "ok\n");
    return ROUTE_DONE;
}
