/* SPDX-License-Identifier: MIT */
/* access_service_token.c - the adapter for Cloudflare Access service tokens
 * (cloudflare.access_service_token), at account level (account_id: /accounts/{a}/access/...) or
 * zone level (zone_id: /zones/{z}/access/...), exactly one of the two.
 *
 * Two roll strategies (API-NOTES section 4):
 *  - rotate (account level only, the default there): POST .../{id}/rotate with
 *    previous_client_secret_expires_at = now + grace_seconds. Same id and client id, so no Access
 *    policy needs editing; both secrets work until the window closes (or revoke closes it).
 *  - create-swap-delete (the only strategy at zone level): a new token named
 *    "<old name>.rot-<run_id>" with the old one's duration; revoke then deletes the old token.
 *    The run id in the name lets a retry after an outcome-unknown create find the orphan instead
 *    of creating a second token.
 *
 * The request was checked against the kind's description (the tables at the end) before an
 * operation runs. Secrets (client_secret from create/rotate answers and from verify requests)
 * live only in secret_bufs registered with the instance for log redaction; every answer is wiped
 * before it is freed (toolkit.h). No message or log line names a secret. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "adapter.h"
#include "dynbuf.h"
#include "error.h"
#include "http.h"
#include "ids.h"
#include "instance.h"
#include "json.h"
#include "kind_info.h"
#include "params.h"
#include "secret.h"
#include "timefmt.h"
#include "toolkit.h"

#define AST_RUN_ID_MAX       40                    /* [A-Za-z0-9_-]{1,40} */
#define AST_NAME_MAX         320                   /* token names we read or write, NUL included */
#define AST_PER_PAGE         50                    /* the API's maximum page size */
#define AST_MAX_PAGES        400                   /* 20000 tokens: a runaway pagination guard */
#define AST_PROVISION_MAX_MS (168LL * 3600 * 1000) /* throwaway tokens live a week at most */
#define AST_WHAT_MAX         (AST_NAME_MAX + 96)

#define AST_STRATEGIES                                                                             \
    "rotate (account level: same id and client id, grace window via "                              \
    "previous_client_secret_expires_at); create-swap-delete (new id and client id; the only "      \
    "strategy at zone level)"
#define AST_PERMISSION "Access: Service Tokens Write"
#define AST_POLICY_NOTE                                                                            \
    "create-swap-delete gives a new token id and client id, which Access admits only where the "   \
    "application's policy admits it: a policy that names the old token by id "                     \
    "(service_token.token_id) must be re-pointed to the new id before the old token is "           \
    "deleted, while any_valid_service_token policies admit it at once. This adapter cannot "       \
    "read Access policies (the management token needs only Access: Service Tokens "                \
    "permissions), so check the new token with verify probe_url before revoking the old one; "     \
    "strategy rotate keeps the id and client id and avoids the question"
#define AST_REFRESH_NOTE                                                                           \
    "refresh (POST .../refresh) only extends a service token's expiry; the client secret stays "   \
    "the same, so it is not a rotation. Use strategy rotate (account level) or "                   \
    "create-swap-delete"

const char kind_name_access_service_token[] = "cloudflare.access_service_token";

enum ast_strategy { AST_ROTATE = 1, AST_CSD = 2 };

/* Where the tokens live: "/accounts/<id>/access/service_tokens" or "/zones/<id>/...". */
typedef struct ast_scope {
    bool zone;
    char base[96];
    char label[48]; /* "account <id>" / "zone <id>", for messages */
    tk_where where;
} ast_scope;

/* The fields of a service token we use (never its secret). Empty strings where absent. */
typedef struct ast_token {
    char id[40];
    char name[AST_NAME_MAX];
    char client_id[256];
    char duration[32];
    char expires_at[40];
    char created_at[40];
    char updated_at[40];
    char last_seen_at[40];
    char prev_expires_at[40];
    char secret_version[24];
    int enabled; /* 1 or 0 when the API says so, -1 when it has no such field */
} ast_token;

/* Called for each token of a list; TK_STOP ends the walk early, another non-zero code ends it
 * with that code. */
typedef int32_t (*ast_visit_fn)(const ast_token *t, void *ctx, rotp_error *err);

/* ------------------------------------------------------------------------------------------
 * Request reading (formats, required keys and the account_id/zone_id choice are checked)
 * ---------------------------------------------------------------------------------------- */

static void ast_scope_read(const preq *req, ast_scope *sc)
{
    size_t len = 0;
    const char *id = preq_get(req, "zone_id", &len);

    memset(sc, 0, sizeof(*sc));
    sc->zone = id != NULL;
    if (id == NULL)
        id = preq_get(req, "account_id", &len);
    snprintf(sc->base, sizeof(sc->base), "/%s/%.*s/access/service_tokens",
             sc->zone ? "zones" : "accounts", (int)len, id != NULL ? id : "");
    snprintf(sc->label, sizeof(sc->label), "%s %.*s", sc->zone ? "zone" : "account", (int)len,
             id != NULL ? id : "");
    sc->where.place = sc->label;
    sc->where.read_perm = "Access: Service Tokens Read";
    sc->where.write_perm = AST_PERMISSION;
}

/* The token id (a UUID) into id, "" when absent. */
static void ast_id_read(const preq *req, char id[40])
{
    size_t len = 0;
    const char *v = preq_get(req, "id", &len);

    id[0] = '\0';
    if (v != NULL && len < 40) {
        memcpy(id, v, len);
        id[len] = '\0';
    }
}

/* The request's run_id (1 to 40 of [A-Za-z0-9_-]), or a fresh one: 12 lowercase hex digits. */
static int32_t ast_run_id(const preq *req, char *out, size_t cap, rotp_error *err)
{
    unsigned char rnd[6];
    int32_t rc = preq_str(req, "run_id", out, cap, err);

    if (rc != ROTP_E_OK)
        return rc;
    if (out[0] != '\0') {
        if (!id_is_run_id(out, strlen(out), AST_RUN_ID_MAX))
            return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                            "run_id: must be 1 to %d characters of [A-Za-z0-9_-]", AST_RUN_ID_MAX);
        return ROTP_E_OK;
    }
    if (cap < 2 * sizeof(rnd) + 1 || getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return rerr_set(err, ROTP_E_INTERNAL, "run_id: could not draw random bytes");
    for (size_t i = 0; i < sizeof(rnd); i++)
        snprintf(out + 2 * i, 3, "%02x", rnd[i]);
    return ROTP_E_OK;
}

/* `strategy` of roll and revoke. Absent: rotate at account level, create-swap-delete at zone
 * level. refresh and rotate-at-zone-level are UNSUPPORTED with the reason. */
static int32_t ast_strategy_read(const preq *req, const ast_scope *sc, int *out, rotp_error *err)
{
    char s[32];
    int32_t rc = preq_str(req, "strategy", s, sizeof(s), err);

    if (rc != ROTP_E_OK)
        return rc;
    *out = s[0] == '\0' ? (sc->zone ? AST_CSD : AST_ROTATE)
                        : (strcmp(s, "rotate") == 0 ? AST_ROTATE : AST_CSD);
    if (strcmp(s, "refresh") == 0)
        return rerr_set(err, ROTP_E_UNSUPPORTED, "strategy refresh: %s", AST_REFRESH_NOTE);
    if (*out == AST_ROTATE && sc->zone)
        return rerr_set(err, ROTP_E_UNSUPPORTED,
                        "strategy rotate: zone-level service tokens have no rotate endpoint "
                        "(only account level has POST .../rotate); use strategy "
                        "create-swap-delete");
    return ROTP_E_OK;
}

/* ------------------------------------------------------------------------------------------
 * Answers
 * ---------------------------------------------------------------------------------------- */

/* client_secret_version (a number in the schema) as text; "" when absent or null. */
static int ast_version_read(const json_doc *doc, int obj, char *buf, size_t cap)
{
    int tok = json_get(doc, obj, "client_secret_version");
    size_t n = 0;
    const char *raw;
    int64_t v = 0;

    buf[0] = '\0';
    if (tok < 0 || json_is_null(doc, tok))
        return JSON_OK;
    if (json_get_int64(doc, tok, &v) == JSON_OK) {
        snprintf(buf, cap, "%lld", (long long)v);
        return JSON_OK;
    }
    raw = json_raw(doc, tok, &n);
    if (raw == NULL || n == 0 || n >= cap || json_is_string(doc, tok) ||
        !(raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')))
        return JSON_EINVAL;
    memcpy(buf, raw, n); /* the schema says number: keep a fraction's text */
    buf[n] = '\0';
    return JSON_OK;
}

/* Reads a service token object: ROTP_E_OK, or PROTOCOL when it is not an object with a UUID id
 * and well-typed fields. */
static int32_t ast_token_read(const json_doc *doc, int obj, ast_token *t)
{
    int32_t rc = ROTP_E_OK;
    int tok;
    bool b = false;

    memset(t, 0, sizeof(*t));
    t->enabled = -1;
    if (!json_is_object(doc, obj))
        return ROTP_E_PROTOCOL;
    if (tk_member(doc, obj, "id", t->id, sizeof(t->id)) != ROTP_E_OK ||
        !id_is_uuid(t->id, strlen(t->id)))
        return ROTP_E_PROTOCOL;
#define AST_FIELD(key, field)                                                                      \
    if (rc == ROTP_E_OK)                                                                           \
        rc = tk_member(doc, obj, key, t->field, sizeof(t->field));
    AST_FIELD("name", name)
    AST_FIELD("client_id", client_id)
    AST_FIELD("duration", duration)
    AST_FIELD("expires_at", expires_at)
    AST_FIELD("created_at", created_at)
    AST_FIELD("updated_at", updated_at)
    AST_FIELD("last_seen_at", last_seen_at)
    AST_FIELD("previous_client_secret_expires_at", prev_expires_at)
#undef AST_FIELD
    if (rc != ROTP_E_OK ||
        ast_version_read(doc, obj, t->secret_version, sizeof(t->secret_version)) != JSON_OK)
        return ROTP_E_PROTOCOL;
    tok = json_get(doc, obj, "enabled");
    if (tok >= 0 && !json_is_null(doc, tok)) {
        if (json_get_bool(doc, tok, &b) != JSON_OK)
            return ROTP_E_PROTOCOL;
        t->enabled = b ? 1 : 0;
    }
    return ROTP_E_OK;
}

/* GET .../{id} into *t. NOT_FOUND (and the other tk_call codes) pass through. */
static int32_t ast_get(cf_inst *inst, const ast_scope *sc, const char *id, ast_token *t,
                       rotp_error *err)
{
    char path[160], what[160], object[64];
    tk_reply r;
    tk_req q;
    int32_t rc;

    tk_reply_init(&r);
    snprintf(path, sizeof(path), "%s/%s", sc->base, id);
    snprintf(what, sizeof(what), "get service token %s in %s", id, sc->label);
    snprintf(object, sizeof(object), "service token %s", id);
    q = tk_req_make(&sc->where, "GET", path, TK_READ, what);
    q.object = object;
    rc = tk_call(inst, &q, &r, err);
    if (rc == ROTP_E_OK && ast_token_read(&r.env.doc, r.env.result, t) != ROTP_E_OK)
        rc = rerr_set(err, ROTP_E_PROTOCOL, "%s: the answer holds no well-formed service token",
                      what);
    tk_reply_free(&r);
    return rc;
}

/* Case-insensitive (ASCII) substring test. */
static bool ast_contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (const char *p = hay; *p != '\0'; p++)
        if (strncasecmp(p, needle, n) == 0)
            return true;
    return n == 0;
}

/* What ast_walk() hands the toolkit's pager. */
typedef struct ast_walk_ctx {
    const char *name;   /* exact match, "" for any */
    const char *search; /* case-insensitive substring of the name, "" for any */
    ast_visit_fn fn;
    void *ctx;
    const char *what;
} ast_walk_ctx;

static int32_t ast_walk_item(const json_doc *d, int item, void *ctx, rotp_error *err)
{
    ast_walk_ctx *w = ctx;
    ast_token t;

    if (ast_token_read(d, item, &t) != ROTP_E_OK)
        return rerr_set(err, ROTP_E_PROTOCOL, "%s: an item is not a well-formed service token",
                        w->what);
    if (w->name[0] != '\0' && strcmp(t.name, w->name) != 0)
        return ROTP_E_OK;
    if (w->search[0] != '\0' && !ast_contains(t.name, w->search))
        return ROTP_E_OK;
    return w->fn(&t, w->ctx, err);
}

/* Walks every service token of the scope that matches name and search, calling fn for each.
 * Account level asks for name/search in pages of AST_PER_PAGE; zone level has one unpaged list.
 * Matching is re-checked here, so a server that ignores a filter cannot widen the result. */
static int32_t ast_walk(cf_inst *inst, const ast_scope *sc, const char *name, const char *search,
                        ast_visit_fn fn, void *ctx, rotp_error *err)
{
    char what[128];
    char query[HTTP_MAX_URL / 2] = "";
    ast_walk_ctx w = {name, search, fn, ctx, what};
    tk_pages pg;
    int32_t rc = ROTP_E_OK;

    snprintf(what, sizeof(what), "list service tokens in %s", sc->label);
    if (!sc->zone && name[0] != '\0')
        rc = tk_query_add(query, sizeof(query), "name", name, err);
    if (rc == ROTP_E_OK && !sc->zone && search[0] != '\0')
        rc = tk_query_add(query, sizeof(query), "search", search, err);
    if (rc != ROTP_E_OK)
        return rc;
    memset(&pg, 0, sizeof(pg));
    pg.path = sc->base;
    pg.query = query;
    pg.per_page = sc->zone ? 0 : AST_PER_PAGE;
    pg.max_pages = AST_MAX_PAGES;
    pg.what = what;
    pg.where = &sc->where;
    return tk_walk(inst, &pg, ast_walk_item, &w, err);
}

/* A visitor that keeps the first token it sees and stops. */
static int32_t ast_visit_first(const ast_token *t, void *ctx, rotp_error *err)
{
    ast_token *out = ctx;

    (void)err;
    *out = *t;
    return TK_STOP;
}

/* Looks a token up by exact name. *found tells whether one exists; *t gets it. */
static int32_t ast_find_by_name(cf_inst *inst, const ast_scope *sc, const char *name, ast_token *t,
                                bool *found, rotp_error *err)
{
    int32_t rc;

    memset(t, 0, sizeof(*t));
    rc = ast_walk(inst, sc, name, "", ast_visit_first, t, err);
    *found = rc == ROTP_E_OK && t->id[0] != '\0';
    return rc;
}

/* Reads the secret-bearing answer of create/rotate: the token fields plus client_secret into a
 * new secret_buf (registered with the instance; ast_secret_drop() it). PROTOCOL when the answer
 * lacks a usable id, client_id or client_secret, NO_MEMORY when it cannot be copied: after the
 * change either way, so the sent rule reports OUTCOME_UNKNOWN with the change's recovery. */
static int32_t ast_created_read(cf_inst *inst, const tk_reply *r, const char *what, ast_token *t,
                                secret_buf **secret, rotp_error *err)
{
    const json_doc *d = &r->env.doc;
    int tok;
    int rc;

    *secret = NULL;
    tok = json_get(d, r->env.result, "client_secret");
    if (ast_token_read(d, r->env.result, t) != ROTP_E_OK || t->client_id[0] == '\0' ||
        !json_is_string(d, tok))
        return rerr_set(err, ROTP_E_PROTOCOL,
                        "%s: the answer lacks a usable id, client_id or client_secret", what);
    rc = json_secretdup(d, tok, secret);
    if (rc == JSON_ENOMEM)
        return rerr_set(err, ROTP_E_NO_MEMORY, "%s: memory ran out copying the new secret", what);
    if (rc != JSON_OK || !secret_shape_ok((*secret)->data, (*secret)->len)) {
        secret_free(*secret);
        *secret = NULL;
        return rerr_set(err, ROTP_E_PROTOCOL, "%s: the answer's client_secret is malformed", what);
    }
    cf_inst_remember(inst, *secret);
    return ROTP_E_OK;
}

static void ast_secret_drop(cf_inst *inst, secret_buf *s)
{
    if (s == NULL)
        return;
    cf_inst_forget(inst, s);
    secret_free(s);
}

/* POST .../service_tokens {name, duration}: the one state-changing create. `recovery` is what
 * to do when its outcome stays unknown. On success *t and *secret hold the new token. */
static int32_t ast_create(cf_inst *inst, const ast_scope *sc, const char *name,
                          const char *duration, const char *recovery, ast_token *t,
                          secret_buf **secret, rotp_error *err)
{
    char what[AST_WHAT_MAX];
    dynbuf body;
    tk_reply r;
    tk_req q;
    int32_t rc = ROTP_E_OK;
    int w;

    *secret = NULL;
    tk_reply_init(&r);
    dynbuf_init(&body, 4096);
    snprintf(what, sizeof(what), "create service token \"%s\" in %s", name, sc->label);
    w = dynbuf_adds(&body, "{\"name\":");
    if (w == DYNBUF_OK)
        w = dynbuf_json_cstr(&body, name);
    if (w == DYNBUF_OK && duration[0] != '\0')
        w = dynbuf_adds(&body, ",\"duration\":");
    if (w == DYNBUF_OK && duration[0] != '\0')
        w = dynbuf_json_cstr(&body, duration);
    if (w == DYNBUF_OK)
        w = dynbuf_adds(&body, "}");
    if (w != DYNBUF_OK) {
        rc = rerr_set(err, ROTP_E_NO_MEMORY, "%s: out of memory", what);
        goto out;
    }
    q = tk_req_make(&sc->where, "POST", sc->base, TK_CHANGE, what);
    q.body = body.data;
    q.body_len = body.len;
    q.recovery = recovery;
    rc = tk_call(inst, &q, &r, err);
    if (rc == ROTP_E_OK)
        rc = ast_created_read(inst, &r, what, t, secret, err);
out:
    tk_reply_free(&r);
    dynbuf_free(&body);
    return rc;
}

/* Adds the token's fields that describe and verify share. */
static void ast_add_token(result_builder *rb, const ast_token *t)
{
    rb_adds(rb, "id", t->id);
    if (t->name[0] != '\0')
        rb_adds(rb, "name", t->name);
    rb_adds(rb, "client_id", t->client_id);
    if (t->expires_at[0] != '\0')
        rb_adds(rb, "expires_at", t->expires_at);
    if (t->prev_expires_at[0] != '\0')
        rb_adds(rb, "previous_secret_expires_at", t->prev_expires_at);
}

/* When the token expires, as Unix seconds; false when it has no (readable) expiry. */
static bool ast_expiry(const ast_token *t, int64_t *exp)
{
    return t->expires_at[0] != '\0' &&
           rfc3339_parse(t->expires_at, strlen(t->expires_at), exp) == 0;
}

/* ------------------------------------------------------------------------------------------
 * describe
 * ---------------------------------------------------------------------------------------- */

/* describe without an id: what the scope supports; no request. */
static void ast_describe_kind(const ast_scope *sc, bool refresh, result_builder *rb)
{
    char ops[96];

    tk_ops_text(kind_info_access_service_token.ops, ops, sizeof(ops));
    rb_adds(rb, "strategies",
            sc->zone ? "create-swap-delete (new id and client id; the only strategy at zone "
                       "level, which has no rotate endpoint)"
                     : AST_STRATEGIES);
    rb_adds(rb, "strategy", sc->zone ? "create-swap-delete" : "rotate");
    rb_adds(rb, "permission_required", AST_PERMISSION);
    rb_adds(rb, "operations", ops);
    rb_adds(rb, "warning", refresh ? AST_REFRESH_NOTE : AST_POLICY_NOTE);
}

static int32_t ast_describe(cf_inst *inst, const preq *req, result_builder *rb, rotp_error *err)
{
    ast_scope sc;
    ast_token t;
    char id[40];
    char strategy[32];
    int64_t now = cf_inst_now(inst), exp = 0;
    bool refresh;
    int32_t rc;

    ast_scope_read(req, &sc);
    ast_id_read(req, id);
    rc = preq_str(req, "strategy", strategy, sizeof(strategy), err);
    if (rc != ROTP_E_OK)
        return rc;
    refresh = strcmp(strategy, "refresh") == 0;
    if (id[0] == '\0') {
        ast_describe_kind(&sc, refresh, rb);
        return ROTP_E_OK;
    }
    rc = ast_get(inst, &sc, id, &t, err);
    if (rc != ROTP_E_OK)
        return rc;
    ast_add_token(rb, &t);
    if (t.duration[0] != '\0')
        rb_adds(rb, "duration", t.duration);
    if (t.created_at[0] != '\0')
        rb_adds(rb, "created_at", t.created_at);
    if (t.updated_at[0] != '\0')
        rb_adds(rb, "updated_at", t.updated_at);
    if (t.last_seen_at[0] != '\0')
        rb_adds(rb, "last_seen_at", t.last_seen_at);
    if (t.secret_version[0] != '\0')
        rb_adds(rb, "client_secret_version", t.secret_version);
    if (t.enabled >= 0)
        rb_adds(rb, "enabled", t.enabled ? "true" : "false");
    else
        rb_adds(rb, "enabled", ast_expiry(&t, &exp) && exp <= now ? "false" : "true");
    if (ast_expiry(&t, &exp))
        rb_addf(rb, "days_to_expiry", "%lld", (long long)tk_days_until(now, exp));
    rb_adds(rb, "strategies", sc.zone ? "create-swap-delete" : AST_STRATEGIES);
    rb_adds(rb, "permission_required", AST_PERMISSION);
    rb_adds(rb, "warning", refresh ? AST_REFRESH_NOTE : AST_POLICY_NOTE);
    return ROTP_E_OK;
}

/* ------------------------------------------------------------------------------------------
 * roll
 * ---------------------------------------------------------------------------------------- */

/* POST .../{id}/rotate with previous_client_secret_expires_at = now + grace_seconds. */
static int32_t ast_roll_rotate(cf_inst *inst, const preq *req, const ast_scope *sc, const char *id,
                               result_builder *rb, rotp_error *err)
{
    char path[160], what[160], body[96], prev[RFC3339_LEN], recovery[256];
    ast_token t;
    secret_buf *secret = NULL;
    tk_reply r;
    tk_req q;
    int32_t rc;

    if (rfc3339_format(cf_inst_now(inst) + preq_int(req, "grace_seconds"), prev, sizeof(prev)) != 0)
        return rerr_set(err, ROTP_E_INTERNAL, "rotate: cannot format the grace deadline");
    tk_reply_init(&r);
    snprintf(path, sizeof(path), "%s/%s/rotate", sc->base, id);
    snprintf(what, sizeof(what), "rotate service token %s in %s", id, sc->label);
    snprintf(body, sizeof(body), "{\"previous_client_secret_expires_at\":\"%s\"}", prev);
    snprintf(recovery, sizeof(recovery),
             "the client secret may already be replaced (the old one would stay valid until %s) "
             "and the new one is lost; the safe move is to rotate again",
             prev);
    q = tk_req_make(&sc->where, "POST", path, TK_CHANGE, what);
    q.body = body;
    q.body_len = strlen(body);
    q.recovery = recovery;
    rc = tk_call(inst, &q, &r, err);
    if (rc == ROTP_E_OK)
        rc = ast_created_read(inst, &r, what, &t, &secret, err);
    if (rc == ROTP_E_OK) {
        ast_add_token(rb, &t);
        rb_add_secret(rb, "client_secret", secret);
        if (t.prev_expires_at[0] == '\0')
            rb_adds(rb, "previous_secret_expires_at", prev);
        if (t.secret_version[0] != '\0')
            rb_adds(rb, "client_secret_version", t.secret_version);
        rb_adds(rb, "strategy", "rotate");
        cf_log(inst, ROTP_LOG_INFO,
               "rotated service token %s in %s: same client id, previous secret valid until %s", id,
               sc->label, t.prev_expires_at[0] != '\0' ? t.prev_expires_at : prev);
    }
    ast_secret_drop(inst, secret);
    tk_reply_free(&r);
    return rc;
}

/* The old name without a trailing ".rot-<run id>" from an earlier create-swap-delete, so names
 * do not grow with every rotation. */
static void ast_base_name(const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    const char *tag = NULL;

    for (const char *p = strstr(name, ".rot-"); p != NULL; p = strstr(p + 1, ".rot-"))
        tag = p;
    if (tag != NULL && tag != name && id_is_run_id(tag + 5, strlen(tag + 5), AST_RUN_ID_MAX))
        n = (size_t)(tag - name);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, name, n);
    out[n] = '\0';
}

/* The refusal when "<name>.rot-<run_id>" exists already: an orphan of an earlier roll whose
 * outcome was unknown, whose secret cannot be returned. */
static int32_t ast_orphan(const ast_scope *sc, const char *name, const ast_token *t,
                          const char *run_id, rotp_error *err)
{
    return rerr_set(err, ROTP_E_CONFLICT,
                    "a service token named \"%s\" already exists (id %s), left by an earlier roll "
                    "with run_id %s whose outcome was unknown; its client secret cannot be "
                    "returned, so no second token was created: adopt it (%s) or delete it "
                    "(revoke strategy=create-swap-delete id=%s), then roll again",
                    name, t->id, run_id,
                    sc->zone ? "zone level cannot rotate it, so deleting is the way"
                             : "roll strategy=rotate id=<its id> issues it a fresh secret",
                    t->id);
}

/* GET the old token, refuse if "<name>.rot-<run_id>" exists already, else POST the new token
 * with the old duration. */
static int32_t ast_roll_csd(cf_inst *inst, const preq *req, const ast_scope *sc, const char *id,
                            result_builder *rb, rotp_error *err)
{
    char run_id[AST_RUN_ID_MAX + 1], base[AST_NAME_MAX], name[AST_NAME_MAX];
    char recovery[AST_NAME_MAX + 160];
    ast_token old, t;
    bool found = false;
    secret_buf *secret = NULL;
    int32_t rc;

    if (preq_has(req, "grace_seconds"))
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "grace_seconds applies to strategy rotate only; with create-swap-delete "
                        "the old token lives until revoke deletes it");
    rc = ast_run_id(req, run_id, sizeof(run_id), err);
    if (rc == ROTP_E_OK)
        rc = ast_get(inst, sc, id, &old, err);
    if (rc != ROTP_E_OK)
        return rc;
    ast_base_name(old.name, base, sizeof(base));
    if ((size_t)snprintf(name, sizeof(name), "%s.rot-%s", base, run_id) >= sizeof(name))
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "the new token's name would be too long (%d bytes at most)",
                        AST_NAME_MAX - 1);
    rc = ast_find_by_name(inst, sc, name, &t, &found, err);
    if (rc == ROTP_E_OK && found)
        rc = ast_orphan(sc, name, &t, run_id, err);
    if (rc != ROTP_E_OK)
        return rc;
    snprintf(recovery, sizeof(recovery),
             "repeat roll with run_id=%s: it finds a token named \"%s\" instead of creating a "
             "second one",
             run_id, name);
    rc = ast_create(inst, sc, name, old.duration, recovery, &t, &secret, err);
    if (rc != ROTP_E_OK)
        return rc;
    rb_adds(rb, "id", t.id);
    rb_adds(rb, "client_id", t.client_id);
    rb_add_secret(rb, "client_secret", secret);
    rb_adds(rb, "replaced_id", old.id);
    rb_adds(rb, "run_id", run_id);
    rb_adds(rb, "name", t.name[0] != '\0' ? t.name : name);
    if (t.expires_at[0] != '\0')
        rb_adds(rb, "expires_at", t.expires_at);
    if (t.duration[0] != '\0')
        rb_adds(rb, "duration", t.duration);
    rb_adds(rb, "strategy", "create-swap-delete");
    rb_adds(rb, "warning", AST_POLICY_NOTE);
    cf_log(inst, ROTP_LOG_INFO,
           "created service token %s (\"%s\") in %s to replace %s; the old one lives until "
           "revoked",
           t.id, name, sc->label, old.id);
    ast_secret_drop(inst, secret);
    return ROTP_E_OK;
}

static int32_t ast_roll(cf_inst *inst, const preq *req, result_builder *rb, rotp_error *err)
{
    ast_scope sc;
    char id[40];
    int strategy = 0;
    int32_t rc;

    ast_scope_read(req, &sc);
    ast_id_read(req, id);
    rc = ast_strategy_read(req, &sc, &strategy, err);
    if (rc != ROTP_E_OK)
        return rc;
    if (strategy == AST_ROTATE)
        return ast_roll_rotate(inst, req, &sc, id, rb, err);
    return ast_roll_csd(inst, req, &sc, id, rb, err);
}

/* ------------------------------------------------------------------------------------------
 * verify
 * ---------------------------------------------------------------------------------------- */

/* What verify was asked. */
typedef struct ast_ask {
    char id[40];
    char client_id[256];
    char url[HTTP_MAX_URL + 1];
    secret_buf *secret; /* with probe_url only */
} ast_ask;

/* Reads client_id, probe_url and client_secret (required with probe_url). */
static int32_t ast_ask_read(cf_inst *inst, const preq *req, ast_ask *a, rotp_error *err)
{
    size_t slen = 0;
    const char *sval = preq_get(req, "client_secret", &slen);
    int32_t rc;

    memset(a, 0, sizeof(*a));
    ast_id_read(req, a->id);
    rc = preq_str(req, "client_id", a->client_id, sizeof(a->client_id), err);
    if (rc == ROTP_E_OK)
        rc = preq_str(req, "probe_url", a->url, sizeof(a->url), err);
    if (rc != ROTP_E_OK || a->url[0] == '\0')
        return rc;
    if (sval == NULL)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "missing client_secret (probe_url needs it)");
    if (!header_value_ok(sval, slen, 1024))
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "client_secret: too long");
    a->secret = secret_new(sval, slen);
    if (a->secret == NULL)
        return rerr_set(err, ROTP_E_NO_MEMORY, "verify: out of memory");
    cf_inst_remember(inst, a->secret);
    return ROTP_E_OK;
}

/* A visitor that finds the token with a given client id. */
typedef struct ast_by_client {
    const char *client_id;
    ast_token *t;
    bool found;
} ast_by_client;

static int32_t ast_visit_client(const ast_token *t, void *ctx, rotp_error *err)
{
    ast_by_client *b = ctx;

    (void)err;
    if (strcmp(t->client_id, b->client_id) != 0)
        return ROTP_E_OK;
    *b->t = *t;
    b->found = true;
    return TK_STOP;
}

/* The management view: does the token exist (by id, else by client id), is it enabled, has it
 * expired? *state is absent, disabled, expired or active. */
static int32_t ast_verify_mgmt(cf_inst *inst, const ast_scope *sc, const ast_ask *a, ast_token *t,
                               const char **state, rotp_error *err)
{
    ast_by_client by = {a->client_id, t, false};
    int64_t exp = 0;
    int32_t rc;

    *state = "absent";
    if (a->id[0] == '\0') {
        rc = ast_walk(inst, sc, "", "", ast_visit_client, &by, err);
        if (rc != ROTP_E_OK || !by.found)
            return rc;
    } else {
        rc = ast_get(inst, sc, a->id, t, err);
        if (rc == ROTP_E_NOT_FOUND) {
            rerr_clear(err);
            return ROTP_E_OK;
        }
        if (rc != ROTP_E_OK)
            return rc;
        if (strcmp(t->client_id, a->client_id) != 0)
            return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                            "client_id is not the client id of service token %s", a->id);
    }
    if (t->enabled == 0)
        *state = "disabled";
    else if (ast_expiry(t, &exp) && exp <= cf_inst_now(inst))
        *state = "expired";
    else
        *state = "active";
    return ROTP_E_OK;
}

/* The origin's view: GET probe_url with CF-Access-Client-Id / CF-Access-Client-Secret and no
 * bearer. 2xx keeps active, 401 is invalid, 403 not_admitted; any other answer is an error. */
static int32_t ast_probe(cf_inst *inst, const ast_ask *a, const char *what, const char **state,
                         result_builder *rb, rotp_error *err)
{
    http_header h[2];
    tk_probe pb;
    uint32_t meaning = 0;
    long status = 0;
    int32_t rc;

    memset(h, 0, sizeof(h));
    h[0].name = "CF-Access-Client-Id";
    h[0].value = a->client_id;
    h[0].value_len = strlen(a->client_id);
    h[1].name = "CF-Access-Client-Secret";
    h[1].value = a->secret->data;
    h[1].value_len = a->secret->len;
    h[1].secret = true;
    memset(&pb, 0, sizeof(pb));
    pb.url = a->url;
    pb.headers = h;
    pb.nheaders = 2;
    pb.what = what;
    rc = tk_probe_run(inst, &pb, &meaning, &status, err);
    if (rc != ROTP_E_OK)
        return rc;
    rb_addf(rb, "probe_status", "%ld", status);
    if (meaning == ROTP_STATE_REJECTED)
        *state = "invalid";
    else if (meaning == ROTP_STATE_REFUSED)
        *state = "not_admitted";
    return ROTP_E_OK;
}

/* verify: the management view first (absent, disabled and expired are answers that need no
 * probe); then, with probe_url, the origin's answer to the client id and secret. */
static int32_t ast_verify(cf_inst *inst, const preq *req, result_builder *rb, rotp_error *err)
{
    ast_scope sc;
    ast_ask a;
    ast_token t;
    const char *state = NULL;
    char what[160];
    int64_t exp = 0;
    int32_t rc;

    ast_scope_read(req, &sc);
    memset(&t, 0, sizeof(t));
    rc = ast_ask_read(inst, req, &a, err);
    if (rc == ROTP_E_OK && !header_value_ok(a.client_id, strlen(a.client_id), 255))
        rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT, "client_id: too long for a header");
    if (rc == ROTP_E_OK)
        rc = ast_verify_mgmt(inst, &sc, &a, &t, &state, err);
    snprintf(what, sizeof(what), "verify service token %s in %s",
             t.id[0] != '\0' ? t.id : (a.id[0] != '\0' ? a.id : "(by client id)"), sc.label);
    if (rc == ROTP_E_OK && a.secret != NULL && strcmp(state, "active") == 0)
        rc = ast_probe(inst, &a, what, &state, rb, err);
    if (rc == ROTP_E_OK && a.secret == NULL && strcmp(state, "absent") != 0)
        rb_adds(rb, "warning",
                "without probe_url only the token's existence and expiry were checked, not the "
                "client secret");
    if (rc == ROTP_E_OK) {
        rb_adds(rb, "state", state);
        if (t.id[0] != '\0')
            ast_add_token(rb, &t);
        else if (a.id[0] != '\0')
            rb_adds(rb, "id", a.id);
        if (ast_expiry(&t, &exp))
            rb_addf(rb, "days_to_expiry", "%lld", (long long)tk_days_until(cf_inst_now(inst), exp));
        cf_log(inst, ROTP_LOG_INFO, "%s: %s", what, state);
    }
    ast_secret_drop(inst, a.secret);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * revoke
 * ---------------------------------------------------------------------------------------- */

/* After the overlap-ending PUT lost its answer: GET the token. Gone: absent; its previous secret
 * ends at or before `sent`: revoked; else rc as it was, and a failed look is that failure: the
 * sent rule makes both OUTCOME_UNKNOWN (the PUT may yet arrive and be applied after the look). */
static int32_t ast_overlap_settle(cf_inst *inst, const ast_scope *sc, const char *id, int64_t sent,
                                  int32_t rc, const char **state, rotp_error *err)
{
    ast_token t;
    rotp_error e;
    int64_t end = 0;
    int32_t lrc;

    if (!cf_answer_lost(err))
        return rc;
    rerr_init(&e);
    lrc = ast_get(inst, sc, id, &t, &e);
    if (lrc == ROTP_E_NOT_FOUND) {
        *state = "absent";
    } else if (lrc != ROTP_E_OK) {
        return rerr_set(err, lrc, "the answer was lost, and looking failed too: %s", e.message);
    } else if (t.prev_expires_at[0] == '\0' ||
               (rfc3339_parse(t.prev_expires_at, strlen(t.prev_expires_at), &end) == 0 &&
                end <= sent)) {
        *state = "revoked";
    } else {
        return rc;
    }
    rerr_clear(err);
    return ROTP_E_OK;
}

/* strategy rotate: PUT .../{id} {name, previous_client_secret_expires_at: now}, which is
 * idempotent (retried); a lost answer is settled by looking. */
static int32_t ast_revoke_overlap(cf_inst *inst, const ast_scope *sc, const char *id,
                                  result_builder *rb, rotp_error *err)
{
    char path[160], what[160], now_ts[RFC3339_LEN];
    const char *state = "revoked";
    int64_t now = cf_inst_now(inst);
    ast_token t;
    dynbuf body;
    tk_reply r;
    tk_req q;
    int32_t rc = ast_get(inst, sc, id, &t, err);
    int w;

    if (rc == ROTP_E_NOT_FOUND) {
        rerr_clear(err);
        rb_adds(rb, "state", "absent");
        rb_adds(rb, "id", id);
        return ROTP_E_OK;
    }
    if (rc != ROTP_E_OK)
        return rc;
    if (rfc3339_format(now, now_ts, sizeof(now_ts)) != 0)
        return rerr_set(err, ROTP_E_INTERNAL, "revoke: cannot format the time");
    snprintf(path, sizeof(path), "%s/%s", sc->base, id);
    snprintf(what, sizeof(what), "end the secret overlap of service token %s in %s", id, sc->label);
    tk_reply_init(&r);
    dynbuf_init(&body, 4096);
    w = dynbuf_adds(&body, "{\"name\":");
    if (w == DYNBUF_OK)
        w = dynbuf_json_cstr(&body, t.name);
    if (w == DYNBUF_OK)
        w = dynbuf_printf(&body, ",\"previous_client_secret_expires_at\":\"%s\"}", now_ts);
    if (w != DYNBUF_OK) {
        rc = rerr_set(err, ROTP_E_NO_MEMORY, "%s: out of memory", what);
        goto out;
    }
    q = tk_req_make(&sc->where, "PUT", path, TK_CHANGE_IDEM, what);
    q.body = body.data;
    q.body_len = body.len;
    q.recovery = "revoke again: ending the overlap is safe to repeat";
    rc = tk_call(inst, &q, &r, err);
    if (rc == ROTP_E_NOT_FOUND) {
        rerr_clear(err);
        state = "absent";
        rc = ROTP_E_OK;
    } else if (rc != ROTP_E_OK) {
        rc = ast_overlap_settle(inst, sc, id, now, rc, &state, err);
    }
    if (rc == ROTP_E_OK) {
        rb_adds(rb, "state", state);
        rb_adds(rb, "id", id);
        if (strcmp(state, "revoked") == 0) {
            rb_adds(rb, "previous_secret_expires_at", now_ts);
            rb_adds(rb, "strategy", "rotate");
        }
        cf_log(inst, ROTP_LOG_INFO, "%s: %s at %s", what, state, now_ts);
    }
out:
    tk_reply_free(&r);
    dynbuf_free(&body);
    return rc;
}

/* strategy create-swap-delete: DELETE the old token (idempotent: retried; a lost answer is
 * settled by looking). 12139: still named by a policy. */
static int32_t ast_revoke_delete(cf_inst *inst, const ast_scope *sc, const char *id,
                                 result_builder *rb, rotp_error *err)
{
    char path[160], what[160], object[64];
    const char *state = "revoked";
    bool gone = false;
    tk_reply r;
    tk_req q;
    int32_t rc;

    tk_reply_init(&r);
    snprintf(path, sizeof(path), "%s/%s", sc->base, id);
    snprintf(what, sizeof(what), "delete service token %s in %s", id, sc->label);
    snprintf(object, sizeof(object), "service token %s", id);
    q = tk_req_make(&sc->where, "DELETE", path, TK_CHANGE_IDEM, what);
    q.object = object;
    q.recovery = "revoke again: deleting is safe to repeat, and a token already gone is "
                 "state=absent";
    rc = tk_call(inst, &q, &r, err);
    if (rc != ROTP_E_OK && r.env.error_code == 12139) {
        rc = rerr_set(err, ROTP_E_CONFLICT,
                      "%s: an Access policy still names this token (Cloudflare code 12139); "
                      "re-point the policy to the new token first, then revoke again",
                      what);
    } else if (rc == ROTP_E_NOT_FOUND) {
        state = r.resp.attempts > 1 ? "revoked" : "absent";
        rerr_clear(err);
        rc = ROTP_E_OK;
    } else if (rc != ROTP_E_OK) {
        rc = tk_settle_lost(inst, rc, path, what, &sc->where, &gone, err);
    }
    tk_reply_free(&r);
    if (rc != ROTP_E_OK)
        return rc;
    rb_adds(rb, "state", state);
    rb_adds(rb, "id", id);
    if (strcmp(state, "revoked") == 0)
        rb_adds(rb, "strategy", "create-swap-delete");
    cf_log(inst, ROTP_LOG_INFO, "%s: %s", what, state);
    return ROTP_E_OK;
}

static int32_t ast_revoke(cf_inst *inst, const preq *req, result_builder *rb, rotp_error *err)
{
    ast_scope sc;
    char id[40];
    int strategy = 0;
    int32_t rc;

    ast_scope_read(req, &sc);
    ast_id_read(req, id);
    rc = ast_strategy_read(req, &sc, &strategy, err);
    if (rc != ROTP_E_OK)
        return rc;
    if (strategy == AST_ROTATE)
        return ast_revoke_overlap(inst, &sc, id, rb, err);
    return ast_revoke_delete(inst, &sc, id, rb, err);
}

/* ------------------------------------------------------------------------------------------
 * provision
 * ---------------------------------------------------------------------------------------- */

/* The new token's name: the given one with ".sandbox-<run_id>" appended, unless it already holds
 * ".sandbox-" or ".rot-". */
static int32_t ast_provision_name(const preq *req, const char *run_id, char *name, size_t cap,
                                  rotp_error *err)
{
    char given[AST_NAME_MAX - 64];
    int32_t rc = preq_str(req, "name", given, sizeof(given), err);

    if (rc != ROTP_E_OK)
        return rc;
    if (given[0] == '\0')
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "name: must not be empty");
    if (strstr(given, ".sandbox-") != NULL || strstr(given, ".rot-") != NULL)
        snprintf(name, cap, "%s", given);
    else
        snprintf(name, cap, "%s.sandbox-%s", given, run_id);
    return ROTP_E_OK;
}

static int32_t ast_provision(cf_inst *inst, const preq *req, result_builder *rb, rotp_error *err)
{
    ast_scope sc;
    char name[AST_NAME_MAX], duration[32], run_id[AST_RUN_ID_MAX + 1];
    char recovery[AST_NAME_MAX + 160];
    int64_t ms = 0;
    ast_token t;
    bool found = false;
    secret_buf *secret = NULL;
    int32_t rc;

    ast_scope_read(req, &sc);
    rc = preq_str(req, "duration", duration, sizeof(duration), err);
    if (rc == ROTP_E_OK)
        rc = ast_run_id(req, run_id, sizeof(run_id), err);
    if (rc == ROTP_E_OK)
        rc = ast_provision_name(req, run_id, name, sizeof(name), err);
    if (rc != ROTP_E_OK)
        return rc;
    if (duration_parse_ms(duration, strlen(duration), &ms) != 0 || ms <= 0 ||
        ms > AST_PROVISION_MAX_MS)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "duration: a Go duration such as 1h or 30m, at most 168h, for a "
                        "throwaway token");
    rc = ast_find_by_name(inst, &sc, name, &t, &found, err);
    if (rc == ROTP_E_OK && found)
        rc = rerr_set(err, ROTP_E_CONFLICT,
                      "a service token named \"%s\" already exists (id %s), probably from an "
                      "earlier provision whose outcome was unknown; its client secret cannot be "
                      "returned: delete it (revoke strategy=create-swap-delete id=%s) or "
                      "provision with another run_id",
                      name, t.id, t.id);
    if (rc != ROTP_E_OK)
        return rc;
    snprintf(recovery, sizeof(recovery),
             "repeat provision with run_id=%s: it finds a token named \"%s\" instead of creating "
             "a second one",
             run_id, name);
    rc = ast_create(inst, &sc, name, duration, recovery, &t, &secret, err);
    if (rc != ROTP_E_OK)
        return rc;
    rb_adds(rb, "id", t.id);
    rb_adds(rb, "client_id", t.client_id);
    rb_add_secret(rb, "client_secret", secret);
    rb_adds(rb, "name", t.name[0] != '\0' ? t.name : name);
    if (t.expires_at[0] != '\0')
        rb_adds(rb, "expires_at", t.expires_at);
    rb_adds(rb, "duration", t.duration[0] != '\0' ? t.duration : duration);
    rb_adds(rb, "run_id", run_id);
    cf_log(inst, ROTP_LOG_INFO, "provisioned service token %s (\"%s\", %s) in %s", t.id, name,
           duration, sc.label);
    ast_secret_drop(inst, secret);
    return ROTP_E_OK;
}

/* ------------------------------------------------------------------------------------------
 * list
 * ---------------------------------------------------------------------------------------- */

/* Collects {id, name, client_id, expires_at} objects into a JSON array. */
typedef struct ast_items {
    dynbuf json;
    long count;
} ast_items;

static int32_t ast_visit_item(const ast_token *t, void *ctx, rotp_error *err)
{
    ast_items *it = ctx;
    int w = dynbuf_adds(&it->json, it->count == 0 ? "{\"id\":" : ",{\"id\":");

    if (w == DYNBUF_OK)
        w = dynbuf_json_cstr(&it->json, t->id);
    if (w == DYNBUF_OK)
        w = dynbuf_adds(&it->json, ",\"name\":");
    if (w == DYNBUF_OK)
        w = dynbuf_json_cstr(&it->json, t->name);
    if (w == DYNBUF_OK)
        w = dynbuf_adds(&it->json, ",\"client_id\":");
    if (w == DYNBUF_OK)
        w = dynbuf_json_cstr(&it->json, t->client_id);
    if (w == DYNBUF_OK)
        w = dynbuf_adds(&it->json, ",\"expires_at\":");
    if (w == DYNBUF_OK)
        w = dynbuf_json_cstr(&it->json, t->expires_at[0] != '\0' ? t->expires_at : NULL);
    if (w == DYNBUF_OK)
        w = dynbuf_adds(&it->json, "}");
    if (w != DYNBUF_OK)
        return rerr_set(err, w == DYNBUF_ETOOBIG ? ROTP_E_PROTOCOL : ROTP_E_NO_MEMORY,
                        "list service tokens: %s",
                        w == DYNBUF_ETOOBIG ? "the list is too long for one result" : "out of memory");
    it->count++;
    return ROTP_E_OK;
}

static int32_t ast_list(cf_inst *inst, const preq *req, result_builder *rb, rotp_error *err)
{
    ast_scope sc;
    char name[AST_NAME_MAX];
    char search[AST_NAME_MAX];
    ast_items it;
    int32_t rc;

    ast_scope_read(req, &sc);
    it.count = 0;
    dynbuf_init(&it.json, PARAM_VALUE_MAX * 16);
    rc = preq_str(req, "name", name, sizeof(name), err);
    if (rc == ROTP_E_OK)
        rc = preq_str(req, "search", search, sizeof(search), err);
    if (rc == ROTP_E_OK && dynbuf_adds(&it.json, "[") != DYNBUF_OK)
        rc = rerr_set(err, ROTP_E_NO_MEMORY, "list service tokens: out of memory");
    if (rc == ROTP_E_OK)
        rc = ast_walk(inst, &sc, name, search, ast_visit_item, &it, err);
    if (rc == ROTP_E_OK && dynbuf_adds(&it.json, "]") != DYNBUF_OK)
        rc = rerr_set(err, ROTP_E_NO_MEMORY, "list service tokens: out of memory");
    if (rc == ROTP_E_OK) {
        rb_addf(rb, "count", "%ld", it.count);
        rb_add(rb, "items", it.json.data, it.json.len, 0);
        cf_log(inst, ROTP_LOG_DEBUG, "listed %ld service tokens in %s", it.count, sc.label);
    }
    dynbuf_free(&it.json);
    return rc;
}

const adapter adapter_access_service_token = {
    .info = &kind_info_access_service_token,
    .describe = ast_describe,
    .roll = ast_roll,
    .verify = ast_verify,
    .revoke = ast_revoke,
    .provision = ast_provision,
    .list = ast_list,
};

/* ------------------------------------------------------------------------------------------- */
/* Self-description (ABI 1.1): what a host needs to drive this kind without reading ABI.md. */

static const char *const ast_account_env[] = {"CF_ACCOUNT_ID", "CLOUDFLARE_ACCOUNT_ID", NULL};
static const char *const ast_strategy_choices[] = {"rotate", "create-swap-delete", "refresh", NULL};

static const rotp_key_info ast_request_keys[] = {
    KI_FULL("account_id", "hex32", 0, ROTP_ROLE_SCOPE, OPS_ALL, OPS_ALL, 1, NULL, ast_account_env,
            NULL, 0, 0,
            "the account of an account-level token (exactly one of account_id, zone_id)"),
    KI_FULL("zone_id", "hex32", 0, ROTP_ROLE_SCOPE, OPS_ALL, OPS_ALL, 1, NULL, NULL, NULL, 0, 0,
            "the zone of a zone-level token (exactly one of account_id, zone_id)"),
    KI("id", "uuid", 0, ROTP_ROLE_ID, OPS_BY_ID, ROTP_OP_ROLL | ROTP_OP_REVOKE,
       "the service token's id (a lowercase UUID)"),
    KI_FULL("strategy", "enum", 0, ROTP_ROLE_STRATEGY,
            ROTP_OP_DESCRIBE | ROTP_OP_ROLL | ROTP_OP_REVOKE, 0, 0, NULL, NULL,
            ast_strategy_choices, 0, 0,
            "rotate (account level, the default there) or create-swap-delete (the default and "
            "only one at zone level); refresh only in describe, to explain why it is not a "
            "rotation"),
    KI_FULL("grace_seconds", "int", 0, ROTP_ROLE_OVERLAP, ROTP_OP_ROLL, 0, 0, "3600", NULL, NULL, 0,
            2592000, "strategy rotate: how long the previous client secret keeps working"),
    KI("run_id", "text", 0, ROTP_ROLE_RUN_ID, ROTP_OP_ROLL | ROTP_OP_PROVISION, 0,
       "the host's run id (1 to 40 of [A-Za-z0-9_-]), put in the names of created tokens so a "
       "retry finds them"),
    KI("client_id", "text", 0, ROTP_ROLE_SECRET_PART, ROTP_OP_VERIFY, ROTP_OP_VERIFY,
       "the Access client id to check"),
    KI("client_secret", "token", ROTP_KEY_SECRET, ROTP_ROLE_SECRET_PART, ROTP_OP_VERIFY, 0,
       "the Access client secret; required with probe_url"),
    KI("probe_url", "url", ROTP_KEY_PROBE_NEEDED, ROTP_ROLE_PROBE, ROTP_OP_VERIFY, 0,
       "an Access-protected URL to GET with the client id and secret; without it only the "
       "token's existence, enabled flag and expiry are checked"),
    KI("name", "text", 0, ROTP_ROLE_NAME, ROTP_OP_PROVISION | ROTP_OP_LIST, ROTP_OP_PROVISION,
       "provision: the new token's name; list: keep this name only"),
    KI("search", "text", 0, ROTP_ROLE_NONE, ROTP_OP_LIST, 0,
       "list: keep tokens whose name holds this text"),
    KI_FULL("duration", "duration", 0, ROTP_ROLE_TTL, ROTP_OP_PROVISION, 0, 0, "1h", NULL, NULL, 0,
            0, "provision: how long the new token lives (more than 0, at most 168h)"),
};

static const rotp_key_info ast_result_keys[] = {
    KR("id", "uuid", 0, ROTP_ROLE_ID, OPS_BY_ID | ROTP_OP_PROVISION,
       "the token's id (after create-swap-delete: the new token's)"),
    KR("name", "text", 0, ROTP_ROLE_NAME,
       ROTP_OP_DESCRIBE | ROTP_OP_ROLL | ROTP_OP_VERIFY | ROTP_OP_PROVISION, "the token's name"),
    KR("client_id", "text", 0, ROTP_ROLE_SECRET_PART,
       ROTP_OP_DESCRIBE | ROTP_OP_ROLL | ROTP_OP_VERIFY | ROTP_OP_PROVISION,
       "the Access client id"),
    KR("client_secret", "token", ROTP_KEY_SECRET, ROTP_ROLE_SECRET_PART,
       ROTP_OP_ROLL | ROTP_OP_PROVISION, "the new client secret, shown once"),
    KR("duration", "duration", 0, ROTP_ROLE_NONE,
       ROTP_OP_DESCRIBE | ROTP_OP_ROLL | ROTP_OP_PROVISION, "the token's duration"),
    KR("expires_at", "rfc3339", 0, ROTP_ROLE_EXPIRES,
       ROTP_OP_DESCRIBE | ROTP_OP_ROLL | ROTP_OP_VERIFY | ROTP_OP_PROVISION,
       "when the token expires"),
    KR("created_at", "rfc3339", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE, "when it was created"),
    KR("updated_at", "rfc3339", 0, ROTP_ROLE_MODIFIED, ROTP_OP_DESCRIBE, "when it last changed"),
    KR("last_seen_at", "rfc3339", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE, "when it was last used"),
    KR("previous_secret_expires_at", "rfc3339", 0, ROTP_ROLE_OVERLAP_END,
       ROTP_OP_DESCRIBE | ROTP_OP_ROLL | ROTP_OP_VERIFY | ROTP_OP_REVOKE,
       "when the previous client secret stops working"),
    KR("client_secret_version", "int", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE | ROTP_OP_ROLL,
       "Cloudflare's secret version counter"),
    KR("replaced_id", "uuid", 0, ROTP_ROLE_REPLACED_ID, ROTP_OP_ROLL,
       "create-swap-delete: the old token, to revoke once the new one works"),
    KR("run_id", "text", 0, ROTP_ROLE_RUN_ID, ROTP_OP_ROLL | ROTP_OP_PROVISION,
       "the run id used in the new token's name"),
    KR("enabled", "bool", 0, ROTP_ROLE_STATUS, ROTP_OP_DESCRIBE, "true or false"),
    KR("days_to_expiry", "int", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE | ROTP_OP_VERIFY,
       "whole days until expires_at (negative once past)"),
    KR("probe_status", "int", 0, ROTP_ROLE_NONE, ROTP_OP_VERIFY,
       "HTTP status of the probe_url request (2xx, 401 or 403; others are errors)"),
    KR("strategy", "text", 0, ROTP_ROLE_STRATEGY, ROTP_OP_DESCRIBE | ROTP_OP_ROLL | ROTP_OP_REVOKE,
       "the strategy (default or used)"),
    KR("strategies", "text", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE,
       "the strategies the scope supports"),
    KR("operations", "text", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE,
       "comma-separated operations of the kind"),
    KR("permission_required", "text", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE,
       "the permission group the management token needs"),
    KR("warning", "text", 0, ROTP_ROLE_WARNING, ROTP_OP_DESCRIBE | ROTP_OP_ROLL | ROTP_OP_VERIFY,
       "something to tell a human"),
    KR("state", "text", 0, ROTP_ROLE_STATE, ROTP_OP_VERIFY | ROTP_OP_REVOKE,
       "the answer of verify or revoke (see the kind's states)"),
    KR("count", "int", 0, ROTP_ROLE_NONE, ROTP_OP_LIST, "how many tokens are listed"),
    KR("items", "json", 0, ROTP_ROLE_NONE, ROTP_OP_LIST,
       "a JSON array of {id, name, client_id, expires_at}"),
};

static const rotp_part_info ast_parts[] = {
    PART("client_id", 0, "CF_ACCESS_CLIENT_ID", "the Access client id (not secret)"),
    PART("client_secret", ROTP_PART_SECRET | ROTP_PART_PRIMARY, "CF_ACCESS_CLIENT_SECRET",
         "the Access client secret"),
};
static const rotp_companion_info ast_companions[] = {
    COMPANION("EXPIRES_AT", "expires_at"),
    COMPANION("TOKEN_ID", "id"),
    COMPANION("CLIENT_ID", "client_id"),
};
static const rotp_strategy_info ast_strategies[] = {
    STRATEGY("rotate", ROTP_STRATEGY_DEFAULT | ROTP_STRATEGY_OVERLAP | ROTP_STRATEGY_FINISH,
             "account_id", 3600, 2592000,
             "a new client secret, same client id; the previous secret keeps working for "
             "grace_seconds or until finished (account level only)"),
    STRATEGY("create-swap-delete",
             ROTP_STRATEGY_DEFAULT | ROTP_STRATEGY_OVERLAP | ROTP_STRATEGY_NEW_ID |
                 ROTP_STRATEGY_FINISH,
             NULL, 0, 0,
             "a new token (new client id) beside the old one; finishing deletes the old one, "
             "which fails while an Access policy names it"),
};
static const rotp_state_info ast_states[] = {
    STATE("active", ROTP_STATE_ACCEPTED, ROTP_OP_VERIFY,
          "the token exists, is enabled and not expired, and with probe_url the origin admitted "
          "the client id and secret (2xx); without probe_url the secret itself was not tested "
          "and the result carries a warning"),
    STATE("invalid", ROTP_STATE_REJECTED, ROTP_OP_VERIFY,
          "a definite rejection: with probe_url, the origin refused the client id and secret "
          "(401)"),
    STATE("absent", ROTP_STATE_REJECTED, ROTP_OP_VERIFY,
          "a definite rejection: no such token (by id, or no token in the scope has the client "
          "id)"),
    STATE("disabled", ROTP_STATE_INACTIVE, ROTP_OP_VERIFY, "the token is not enabled"),
    STATE("expired", ROTP_STATE_INACTIVE, ROTP_OP_VERIFY, "the token has expired"),
    STATE("not_admitted", ROTP_STATE_REFUSED, ROTP_OP_VERIFY,
          "with probe_url: the origin answered 403, a definite refusal: the credential does not "
          "get in (the application's policy does not admit it). A new secret is not usable "
          "there; an old secret no longer opens the application"),
    STATE("revoked", ROTP_STATE_GONE, ROTP_OP_REVOKE,
          "the overlap was ended (rotate) or the token deleted (create-swap-delete), by this "
          "revoke or found so after its answer was lost"),
    STATE("absent", ROTP_STATE_GONE, ROTP_OP_REVOKE, "the token was already gone"),
};
static const char *const ast_sandbox[] = {"duration=1h", NULL};

const rotp_kind_info kind_info_access_service_token = {
    .struct_size = sizeof(rotp_kind_info),
    .ops = OPS_ALL,
    .kind = kind_name_access_service_token,
    .summary = "a Cloudflare Access service token (client id and client secret), account or "
               "zone level",
    .management = "an API token with Access: Service Tokens Write on the account or zone (read "
                  "operations: Access: Service Tokens Read)",
    .nrequest_keys = COUNT_OF(ast_request_keys),
    .nresult_keys = COUNT_OF(ast_result_keys),
    .request_keys = ast_request_keys,
    .result_keys = ast_result_keys,
    .nparts = COUNT_OF(ast_parts),
    .ncompanions = COUNT_OF(ast_companions),
    .parts = ast_parts,
    .companions = ast_companions,
    .nstrategies = COUNT_OF(ast_strategies),
    .nstates = COUNT_OF(ast_states),
    .strategies = ast_strategies,
    .states = ast_states,
    .sandbox = ast_sandbox,
    .cadence_days = 90,
    .reserved0 = 0,
};
