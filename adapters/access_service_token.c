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
 * Secrets (client_secret from create/rotate answers and from verify requests) live only in
 * secret_bufs registered with the instance for log redaction; answer bodies that carried one are
 * wiped before they are freed. No message or log line names a secret. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "adapter.h"
#include "kind_info.h"
#include "cfapi.h"
#include "dynbuf.h"
#include "error.h"
#include "http.h"
#include "ids.h"
#include "instance.h"
#include "json.h"
#include "params.h"
#include "secret.h"
#include "timefmt.h"

#define AST_GRACE_DEFAULT     3600         /* seconds the old secret stays valid after rotate */
#define AST_GRACE_MAX         (30 * 86400) /* a month: longer overlaps are a policy smell */
#define AST_RUN_ID_MAX        40           /* [A-Za-z0-9_-]{1,40} */
#define AST_NAME_MAX          320          /* token names we read or write, NUL included */
#define AST_PER_PAGE          50           /* the API's maximum page size */
#define AST_MAX_PAGES         400          /* 20000 tokens: a runaway pagination guard */
#define AST_PROVISION_DEFAULT "1h"         /* throwaway tokens live briefly */
#define AST_PROVISION_MAX_MS  (168LL * 3600 * 1000) /* and never longer than a week */
#define AST_STOP              (-1)                  /* a list visitor's "found it, stop" */

#define AST_STRATEGIES                                                                             \
    "rotate (account level: same id and client id, grace window via "                              \
    "previous_client_secret_expires_at); create-swap-delete (new id and client id; the only "      \
    "strategy at zone level)"
#define AST_PERMISSION "Access: Service Tokens Write"
#define AST_OPERATIONS "describe,roll,verify,revoke,provision,list"
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

enum ast_strategy { AST_ROTATE = 1, AST_CSD = 2 };

/* Where the tokens live: "/accounts/<id>/access/service_tokens" or "/zones/<id>/...". */
typedef struct ast_scope {
    bool zone;
    char base[96];
    char label[48]; /* "account <id>" / "zone <id>", for messages */
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

/* One API exchange: the response and its envelope, freed (and wiped) by ast_call_free(). */
typedef struct ast_call {
    http_response resp;
    cf_envelope env;
} ast_call;

/* Calls a list visitor for each token of a page; AST_STOP ends the walk early, another non-zero
 * code ends it with that code. */
typedef int32_t (*ast_visit_fn)(const ast_token *t, void *ctx, rotp_error *err);

/* ------------------------------------------------------------------------------------------
 * Request reading
 * ---------------------------------------------------------------------------------------- */

/* Reads account_id / zone_id (exactly one, 32 lowercase hex) into *sc. */
static int32_t ast_scope_read(const rotp_params *req, ast_scope *sc, rotp_error *err)
{
    char acct[40];
    char zone[40];
    int32_t rc = params_str(req, "account_id", acct, sizeof(acct), false, err);
    if (rc == ROTP_E_OK)
        rc = params_str(req, "zone_id", zone, sizeof(zone), false, err);
    if (rc != ROTP_E_OK)
        return rc;
    if ((acct[0] != '\0') == (zone[0] != '\0'))
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "cloudflare.access_service_token needs exactly one of account_id "
                        "(account level) or zone_id (zone level)");
    sc->zone = zone[0] != '\0';
    const char *id = sc->zone ? zone : acct;
    if (!id_is_hex32(id, strlen(id)))
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "%s: not 32 lowercase hex digits",
                        sc->zone ? "zone_id" : "account_id");
    snprintf(sc->base, sizeof(sc->base), "/%s/%s/access/service_tokens",
             sc->zone ? "zones" : "accounts", id);
    snprintf(sc->label, sizeof(sc->label), "%s %s", sc->zone ? "zone" : "account", id);
    return ROTP_E_OK;
}

/* Reads the token id into id (cap >= 37); it must be a UUID. Absent: "" unless required. */
static int32_t ast_id_read(const rotp_params *req, bool required, char *id, size_t cap,
                           rotp_error *err)
{
    char buf[64];
    int32_t rc = params_str(req, "id", buf, sizeof(buf), required, err);
    if (rc != ROTP_E_OK)
        return rc;
    if (buf[0] != '\0' && !id_is_uuid(buf, strlen(buf)))
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "id: not a service token id (a UUID: 8-4-4-4-12 lowercase hex digits)");
    if (strlen(buf) >= cap)
        return rerr_set(err, ROTP_E_INTERNAL, "id buffer too small");
    memcpy(id, buf, strlen(buf) + 1);
    return ROTP_E_OK;
}

/* The request's run_id (validated), or a fresh one: 12 lowercase hex digits from getrandom. */
static int32_t ast_run_id(const rotp_params *req, char *out, size_t cap, rotp_error *err)
{
    int32_t rc = params_str(req, "run_id", out, cap, false, err);
    if (rc != ROTP_E_OK)
        return rc;
    if (out[0] != '\0') {
        if (!id_is_run_id(out, strlen(out), AST_RUN_ID_MAX))
            return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                            "run_id: must be 1 to %d characters of [A-Za-z0-9_-]", AST_RUN_ID_MAX);
        return ROTP_E_OK;
    }
    unsigned char rnd[6];
    if (cap < 2 * sizeof(rnd) + 1 || getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return rerr_set(err, ROTP_E_INTERNAL, "run_id: could not draw random bytes");
    for (size_t i = 0; i < sizeof(rnd); i++)
        snprintf(out + 2 * i, 3, "%02x", rnd[i]);
    return ROTP_E_OK;
}

/* Reads `strategy` for roll and revoke. Absent: rotate at account level, create-swap-delete at
 * zone level. refresh and rotate-at-zone-level are UNSUPPORTED with the reason. */
static int32_t ast_strategy_read(const rotp_params *req, const ast_scope *sc, int *out,
                                 rotp_error *err)
{
    char s[32];
    int32_t rc = params_str(req, "strategy", s, sizeof(s), false, err);
    if (rc != ROTP_E_OK)
        return rc;
    if (s[0] == '\0') {
        *out = sc->zone ? AST_CSD : AST_ROTATE;
        return ROTP_E_OK;
    }
    if (strcmp(s, "create-swap-delete") == 0) {
        *out = AST_CSD;
        return ROTP_E_OK;
    }
    if (strcmp(s, "rotate") == 0) {
        if (sc->zone)
            return rerr_set(err, ROTP_E_UNSUPPORTED,
                            "strategy rotate: zone-level service tokens have no rotate endpoint "
                            "(only account level has POST .../rotate); use strategy "
                            "create-swap-delete");
        *out = AST_ROTATE;
        return ROTP_E_OK;
    }
    if (strcmp(s, "refresh") == 0)
        return rerr_set(err, ROTP_E_UNSUPPORTED, "strategy refresh: %s", AST_REFRESH_NOTE);
    return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                    "strategy: unknown value (use rotate or create-swap-delete)");
}

/* ------------------------------------------------------------------------------------------
 * Answers
 * ---------------------------------------------------------------------------------------- */

/* Copies the string (or null/absent: "") at key into buf. 0, or -1 on a wrong type or a value
 * too long for buf. */
static int ast_field(const json_doc *doc, int obj, const char *key, char *buf, size_t cap)
{
    int tok = json_get(doc, obj, key);
    buf[0] = '\0';
    if (tok < 0 || json_is_null(doc, tok))
        return 0;
    if (!json_is_string(doc, tok))
        return -1;
    return json_strcpy(doc, tok, buf, cap) == 0 ? 0 : -1;
}

/* Reads a service token object. 0, or -1 when it is not an object with a UUID id and
 * well-typed fields. */
static int ast_token_read(const json_doc *doc, int obj, ast_token *t)
{
    memset(t, 0, sizeof(*t));
    t->enabled = -1;
    if (!json_is_object(doc, obj))
        return -1;
    if (ast_field(doc, obj, "id", t->id, sizeof(t->id)) != 0 || !id_is_uuid(t->id, strlen(t->id)))
        return -1;
    if (ast_field(doc, obj, "name", t->name, sizeof(t->name)) != 0 ||
        ast_field(doc, obj, "client_id", t->client_id, sizeof(t->client_id)) != 0 ||
        ast_field(doc, obj, "duration", t->duration, sizeof(t->duration)) != 0 ||
        ast_field(doc, obj, "expires_at", t->expires_at, sizeof(t->expires_at)) != 0 ||
        ast_field(doc, obj, "created_at", t->created_at, sizeof(t->created_at)) != 0 ||
        ast_field(doc, obj, "updated_at", t->updated_at, sizeof(t->updated_at)) != 0 ||
        ast_field(doc, obj, "last_seen_at", t->last_seen_at, sizeof(t->last_seen_at)) != 0 ||
        ast_field(doc, obj, "previous_client_secret_expires_at", t->prev_expires_at,
                  sizeof(t->prev_expires_at)) != 0)
        return -1;
    int tok = json_get(doc, obj, "client_secret_version");
    if (tok >= 0 && !json_is_null(doc, tok)) {
        size_t n = 0;
        const char *raw = json_raw(doc, tok, &n);
        int64_t v = 0;
        if (json_get_int64(doc, tok, &v) == 0)
            snprintf(t->secret_version, sizeof(t->secret_version), "%lld", (long long)v);
        else if (raw != NULL && n > 0 && n < sizeof(t->secret_version) &&
                 !json_is_string(doc, tok) && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')))
            memcpy(t->secret_version, raw, n); /* the schema says number: keep a fraction's text */
        else
            return -1;
    }
    tok = json_get(doc, obj, "enabled");
    if (tok >= 0 && !json_is_null(doc, tok)) {
        bool b = false;
        if (json_get_bool(doc, tok, &b) != 0)
            return -1;
        t->enabled = b ? 1 : 0;
    }
    return 0;
}

/* Sends one request with the management token. The caller zeroes *c first and frees it with
 * ast_call_free() on every path. */
static int32_t ast_api(cf_inst *inst, const char *method, const char *path, const char *body,
                       size_t body_len, bool idempotent, const char *what, ast_call *c,
                       rotp_error *err)
{
    cf_call_opts o;
    memset(&o, 0, sizeof(o));
    o.method = method;
    o.path = path;
    o.body = body;
    o.body_len = body_len;
    o.bearer = cf_inst_mgmt(inst);
    o.auth = CF_AUTH_MANAGEMENT;
    o.idempotent = idempotent;
    o.what = what;
    cf_log(inst, ROTP_LOG_DEBUG, "access service token: %s %s", method, path);
    return cf_call(cf_inst_http(inst), &o, &c->resp, &c->env, err);
}

/* Frees the envelope and the response, wiping the body (it may have carried a client secret). */
static void ast_call_free(ast_call *c)
{
    cf_envelope_free(&c->env);
    if (c->resp.body.data != NULL)
        secret_wipe(c->resp.body.data, c->resp.body.len);
    http_response_free(&c->resp);
    memset(c, 0, sizeof(*c));
}

/* GET .../{id} into *t. NOT_FOUND (and the other cf_call codes) pass through. */
static int32_t ast_get(cf_inst *inst, const ast_scope *sc, const char *id, ast_token *t,
                       rotp_error *err)
{
    char path[160];
    char what[160];
    ast_call c;
    memset(&c, 0, sizeof(c));
    snprintf(path, sizeof(path), "%s/%s", sc->base, id);
    snprintf(what, sizeof(what), "get service token %s in %s", id, sc->label);
    int32_t rc = ast_api(inst, "GET", path, NULL, 0, true, what, &c, err);
    if (rc == ROTP_E_OK && ast_token_read(&c.env.doc, c.env.result, t) != 0)
        rc = rerr_set(err, ROTP_E_PROTOCOL, "%s: the answer holds no well-formed service token",
                      what);
    ast_call_free(&c);
    return rc;
}

/* Appends "&key=<percent-encoded value>". 0 or the dynbuf error. */
static int ast_query_add(dynbuf *b, const char *key, const char *val)
{
    static const char hex[] = "0123456789ABCDEF";
    int r = dynbuf_printf(b, "&%s=", key);
    for (const unsigned char *p = (const unsigned char *)val; r == 0 && *p != '\0'; p++) {
        unsigned char ch = *p;
        bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~';
        if (plain) {
            r = dynbuf_add(b, &ch, 1);
        } else {
            char enc[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            r = dynbuf_add(b, enc, sizeof(enc));
        }
    }
    return r;
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

/* Walks every service token of the scope that matches name (exact, "" for any) and search
 * (case-insensitive substring of the name, "" for any), calling fn for each. Account level asks
 * for name/search and pages of AST_PER_PAGE; zone level has one unpaged list. Matching is
 * re-checked here, so a server that ignores a filter cannot widen the result. */
static int32_t ast_walk(cf_inst *inst, const ast_scope *sc, const char *name, const char *search,
                        ast_visit_fn fn, void *ctx, rotp_error *err)
{
    char what[128];
    dynbuf path;
    ast_call c;
    int32_t rc = ROTP_E_OK;
    snprintf(what, sizeof(what), "list service tokens in %s", sc->label);
    dynbuf_init(&path, HTTP_MAX_URL);
    memset(&c, 0, sizeof(c));
    for (int64_t page = 1; rc == ROTP_E_OK && page <= AST_MAX_PAGES; page++) {
        dynbuf_reset(&path);
        int r = dynbuf_adds(&path, sc->base);
        if (r == 0 && !sc->zone) {
            r = dynbuf_printf(&path, "?page=%lld&per_page=%d", (long long)page, AST_PER_PAGE);
            if (r == 0 && name[0] != '\0')
                r = ast_query_add(&path, "name", name);
            if (r == 0 && search[0] != '\0')
                r = ast_query_add(&path, "search", search);
        }
        if (r != 0) {
            rc = rerr_set(err, r == -2 ? ROTP_E_INVALID_ARGUMENT : ROTP_E_NO_MEMORY, "%s: %s", what,
                          r == -2 ? "name or search too long" : "out of memory");
            break;
        }
        rc = ast_api(inst, "GET", path.data, NULL, 0, true, what, &c, err);
        if (rc != ROTP_E_OK)
            break;
        const json_doc *doc = &c.env.doc;
        if (c.env.result < 0 || !json_is_array(doc, c.env.result)) {
            rc = rerr_set(err, ROTP_E_PROTOCOL, "%s: the answer's result is not a list", what);
            break;
        }
        int n = 0;
        for (int i = 0; rc == ROTP_E_OK; i++, n++) {
            int tok = json_at(doc, c.env.result, i);
            ast_token t;
            if (tok < 0)
                break;
            if (ast_token_read(doc, tok, &t) != 0) {
                rc = rerr_set(err, ROTP_E_PROTOCOL,
                              "%s: item %d is not a well-formed service token", what, i);
                break;
            }
            if (name[0] != '\0' && strcmp(t.name, name) != 0)
                continue;
            if (search[0] != '\0' && !ast_contains(t.name, search))
                continue;
            rc = fn(&t, ctx, err);
        }
        /* Next page while result_info says there is one (total_pages, else total_count), or,
         * without it, while pages come back full. */
        bool more = !sc->zone && n >= AST_PER_PAGE;
        if (!sc->zone && c.env.has_result_info && c.env.total_pages >= 0)
            more = n > 0 && page < c.env.total_pages;
        else if (!sc->zone && c.env.has_result_info && c.env.total_count >= 0)
            more = n > 0 && page * AST_PER_PAGE < c.env.total_count;
        ast_call_free(&c);
        if (!more)
            break;
    }
    ast_call_free(&c);
    dynbuf_free(&path);
    return rc == AST_STOP ? ROTP_E_OK : rc;
}

/* A visitor that keeps the first token it sees and stops. */
static int32_t ast_visit_first(const ast_token *t, void *ctx, rotp_error *err)
{
    ast_token *out = ctx;
    (void)err;
    *out = *t;
    return AST_STOP;
}

/* Looks a token up by exact name. *found tells whether one exists; *t gets it. */
static int32_t ast_find_by_name(cf_inst *inst, const ast_scope *sc, const char *name, ast_token *t,
                                bool *found, rotp_error *err)
{
    memset(t, 0, sizeof(*t));
    int32_t rc = ast_walk(inst, sc, name, "", ast_visit_first, t, err);
    *found = rc == ROTP_E_OK && t->id[0] != '\0';
    return rc;
}

/* Reads the secret-bearing answer of create/rotate: the token fields plus client_secret into a
 * new secret_buf (registered with the instance; the caller forgets and frees it). 0; -1 if the
 * answer lacks a usable id, client_id or client_secret; -2 on allocation failure. */
static int ast_created_read(cf_inst *inst, const cf_envelope *env, ast_token *t,
                            secret_buf **secret)
{
    *secret = NULL;
    if (ast_token_read(&env->doc, env->result, t) != 0 || t->client_id[0] == '\0')
        return -1;
    int tok = json_get(&env->doc, env->result, "client_secret");
    if (tok < 0 || !json_is_string(&env->doc, tok))
        return -1;
    int r = json_secretdup(&env->doc, tok, secret);
    if (r != 0)
        return r == -1 ? -2 : -1;
    if (!secret_shape_ok((*secret)->data, (*secret)->len)) {
        secret_free(*secret);
        *secret = NULL;
        return -1;
    }
    cf_inst_remember(inst, *secret);
    return 0;
}

/* Why a create/rotate answer could not be used, for the outcome-unknown message. */
static const char *ast_created_why(int r)
{
    return r == -2 ? "memory ran out while reading the answer"
                   : "the answer lacks a usable id, client_id or client_secret";
}

static void ast_secret_drop(cf_inst *inst, secret_buf *s)
{
    if (s == NULL)
        return;
    cf_inst_forget(inst, s);
    secret_free(s);
}

/* POST .../service_tokens {name, duration}: the one state-changing create. `retry_hint` ends
 * the outcome-unknown message. On success *t and *secret hold the new token. */
static int32_t ast_create(cf_inst *inst, const ast_scope *sc, const char *name,
                          const char *duration, const char *retry_hint, ast_token *t,
                          secret_buf **secret, rotp_error *err)
{
    char what[AST_NAME_MAX + 96];
    dynbuf body;
    ast_call c;
    int32_t rc = ROTP_E_OK;
    *secret = NULL;
    memset(&c, 0, sizeof(c));
    dynbuf_init(&body, 4096);
    snprintf(what, sizeof(what), "create service token \"%s\" in %s", name, sc->label);
    int r = dynbuf_adds(&body, "{\"name\":");
    if (r == 0)
        r = dynbuf_json_cstr(&body, name);
    if (r == 0 && duration[0] != '\0') {
        r = dynbuf_adds(&body, ",\"duration\":");
        if (r == 0)
            r = dynbuf_json_cstr(&body, duration);
    }
    if (r == 0)
        r = dynbuf_adds(&body, "}");
    if (r != 0) {
        rc = rerr_set(err, ROTP_E_NO_MEMORY, "%s: out of memory", what);
        goto out_free_body;
    }
    rc = ast_api(inst, "POST", sc->base, body.data, body.len, false, what, &c, err);
    if (rc == ROTP_E_OUTCOME_UNKNOWN) {
        rerr_set(err, rc,
                 "%s: the request was sent and no reliable answer came, so a token may "
                 "have been created; %s",
                 what, retry_hint);
        goto out_free_call;
    }
    if (rc != ROTP_E_OK)
        goto out_free_call;
    int r2 = ast_created_read(inst, &c.env, t, secret);
    if (r2 != 0) {
        rc = rerr_set(err, ROTP_E_OUTCOME_UNKNOWN,
                      "%s: %s, though the token was probably created; %s", what,
                      ast_created_why(r2), retry_hint);
        rerr_flag(err, ROTP_ERRF_REQUEST_SENT);
    }
out_free_call:
    ast_call_free(&c);
out_free_body:
    dynbuf_free(&body);
    return rc;
}

/* days_to_expiry: whole days from now to ts, rounded down (negative once past). */
static int64_t ast_days_until(int64_t now, int64_t ts)
{
    int64_t d = ts - now;
    return d >= 0 ? d / 86400 : -((-d + 86399) / 86400);
}

/* ------------------------------------------------------------------------------------------
 * describe
 * ---------------------------------------------------------------------------------------- */

static const char *const ast_keys_describe[] = {"kind",    "id",       "account_id",
                                                "zone_id", "strategy", NULL};

static int32_t ast_describe(cf_inst *inst, const rotp_params *req, result_builder *rb,
                            rotp_error *err)
{
    ast_scope sc;
    ast_token t;
    char id[40];
    char strategy[32];
    int32_t rc = params_check(req, ast_keys_describe, "request", err);
    if (rc == ROTP_E_OK)
        rc = ast_scope_read(req, &sc, err);
    if (rc == ROTP_E_OK)
        rc = ast_id_read(req, false, id, sizeof(id), err);
    if (rc == ROTP_E_OK)
        rc = params_str(req, "strategy", strategy, sizeof(strategy), false, err);
    if (rc != ROTP_E_OK)
        return rc;
    bool refresh = strcmp(strategy, "refresh") == 0;
    if (strategy[0] != '\0' && !refresh && strcmp(strategy, "rotate") != 0 &&
        strcmp(strategy, "create-swap-delete") != 0)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "strategy: unknown value (use rotate or create-swap-delete)");

    if (id[0] == '\0') {
        rb_adds(rb, "strategies",
                sc.zone ? "create-swap-delete (new id and client id; the only "
                          "strategy at zone level, which has no rotate "
                          "endpoint)"
                        : AST_STRATEGIES);
        rb_adds(rb, "strategy", sc.zone ? "create-swap-delete" : "rotate");
        rb_adds(rb, "permission_required", AST_PERMISSION);
        rb_adds(rb, "operations", AST_OPERATIONS);
        rb_adds(rb, "warning", refresh ? AST_REFRESH_NOTE : AST_POLICY_NOTE);
        return ROTP_E_OK;
    }

    rc = ast_get(inst, &sc, id, &t, err);
    if (rc != ROTP_E_OK)
        return rc;
    int64_t now = cf_inst_now(inst);
    int64_t exp = 0;
    bool has_exp =
        t.expires_at[0] != '\0' && rfc3339_parse(t.expires_at, strlen(t.expires_at), &exp) == 0;
    rb_adds(rb, "id", t.id);
    rb_adds(rb, "name", t.name);
    rb_adds(rb, "client_id", t.client_id);
    if (t.duration[0] != '\0')
        rb_adds(rb, "duration", t.duration);
    if (t.expires_at[0] != '\0')
        rb_adds(rb, "expires_at", t.expires_at);
    if (t.created_at[0] != '\0')
        rb_adds(rb, "created_at", t.created_at);
    if (t.updated_at[0] != '\0')
        rb_adds(rb, "updated_at", t.updated_at);
    if (t.last_seen_at[0] != '\0')
        rb_adds(rb, "last_seen_at", t.last_seen_at);
    if (t.secret_version[0] != '\0')
        rb_adds(rb, "client_secret_version", t.secret_version);
    if (t.prev_expires_at[0] != '\0')
        rb_adds(rb, "previous_secret_expires_at", t.prev_expires_at);
    if (t.enabled >= 0)
        rb_adds(rb, "enabled", t.enabled ? "true" : "false");
    else
        rb_adds(rb, "enabled", has_exp && exp <= now ? "false" : "true");
    if (has_exp)
        rb_addf(rb, "days_to_expiry", "%lld", (long long)ast_days_until(now, exp));
    rb_adds(rb, "strategies", sc.zone ? "create-swap-delete" : AST_STRATEGIES);
    rb_adds(rb, "permission_required", AST_PERMISSION);
    rb_adds(rb, "warning", refresh ? AST_REFRESH_NOTE : AST_POLICY_NOTE);
    return ROTP_E_OK;
}

/* ------------------------------------------------------------------------------------------
 * roll
 * ---------------------------------------------------------------------------------------- */

static const char *const ast_keys_roll[] = {
    "kind", "id", "account_id", "zone_id", "strategy", "grace_seconds", "run_id", NULL};

/* POST .../{id}/rotate with previous_client_secret_expires_at = now + grace. */
static int32_t ast_roll_rotate(cf_inst *inst, const rotp_params *req, const ast_scope *sc,
                               const char *id, result_builder *rb, rotp_error *err)
{
    char path[160];
    char what[160];
    char body[96];
    char prev[RFC3339_LEN];
    int64_t grace = 0;
    ast_token t;
    secret_buf *secret = NULL;
    ast_call c;
    memset(&c, 0, sizeof(c));
    int32_t rc = params_int(req, "grace_seconds", AST_GRACE_DEFAULT, 0, AST_GRACE_MAX, &grace, err);
    if (rc != ROTP_E_OK)
        return rc;
    if (rfc3339_format(cf_inst_now(inst) + grace, prev, sizeof(prev)) != 0)
        return rerr_set(err, ROTP_E_INTERNAL, "rotate: cannot format the grace deadline");
    snprintf(path, sizeof(path), "%s/%s/rotate", sc->base, id);
    snprintf(what, sizeof(what), "rotate service token %s in %s", id, sc->label);
    snprintf(body, sizeof(body), "{\"previous_client_secret_expires_at\":\"%s\"}", prev);

    rc = ast_api(inst, "POST", path, body, strlen(body), false, what, &c, err);
    if (rc == ROTP_E_OUTCOME_UNKNOWN) {
        rerr_set(err, rc,
                 "%s: the request was sent and no reliable answer came: the old client "
                 "secret may already be replaced (it would stay valid until %s) and the new "
                 "one is lost; the safe move is to rotate again",
                 what, prev);
        goto out_free_call;
    }
    if (rc != ROTP_E_OK)
        goto out_free_call;
    int r = ast_created_read(inst, &c.env, &t, &secret);
    if (r != 0) {
        rc = rerr_set(err, ROTP_E_OUTCOME_UNKNOWN,
                      "%s: %s, though the secret was probably replaced (the old one stays valid "
                      "until %s); the safe move is to rotate again",
                      what, ast_created_why(r), prev);
        rerr_flag(err, ROTP_ERRF_REQUEST_SENT);
        goto out_free_call;
    }
    rb_adds(rb, "id", t.id);
    if (t.name[0] != '\0')
        rb_adds(rb, "name", t.name);
    rb_adds(rb, "client_id", t.client_id);
    rb_add_secret(rb, "client_secret", secret);
    if (t.expires_at[0] != '\0')
        rb_adds(rb, "expires_at", t.expires_at);
    rb_adds(rb, "previous_secret_expires_at",
            t.prev_expires_at[0] != '\0' ? t.prev_expires_at : prev);
    if (t.secret_version[0] != '\0')
        rb_adds(rb, "client_secret_version", t.secret_version);
    rb_adds(rb, "strategy", "rotate");
    cf_log(inst, ROTP_LOG_INFO,
           "rotated service token %s in %s: same client id, previous secret valid until %s", id,
           sc->label, t.prev_expires_at[0] != '\0' ? t.prev_expires_at : prev);
out_free_call:
    ast_secret_drop(inst, secret);
    ast_call_free(&c);
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

/* GET the old token, refuse if "<name>.rot-<run_id>" exists already (an orphan of an earlier
 * outcome-unknown attempt), else POST the new token with the old duration. */
static int32_t ast_roll_csd(cf_inst *inst, const rotp_params *req, const ast_scope *sc,
                            const char *id, result_builder *rb, rotp_error *err)
{
    char run_id[AST_RUN_ID_MAX + 1];
    char base[AST_NAME_MAX];
    char name[AST_NAME_MAX];
    char hint[AST_NAME_MAX + 160];
    ast_token old;
    ast_token t;
    bool found = false;
    secret_buf *secret = NULL;
    int32_t rc = ROTP_E_OK;
    if (params_find(req, "grace_seconds") != NULL)
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
    if (rc != ROTP_E_OK)
        return rc;
    if (found)
        return rerr_set(err, ROTP_E_CONFLICT,
                        "a service token named \"%s\" already exists (id %s), left by an "
                        "earlier roll with run_id %s whose outcome was unknown; its client "
                        "secret cannot be returned, so no second token was created: adopt it "
                        "(%s) or delete it (revoke strategy=create-swap-delete id=%s), then roll "
                        "again",
                        name, t.id, run_id,
                        sc->zone ? "zone level cannot rotate it, so deleting is the way"
                                 : "roll strategy=rotate id=<its id> issues it a fresh secret",
                        t.id);

    snprintf(hint, sizeof(hint),
             "repeat roll with run_id=%s: it finds a token named \"%s\" "
             "instead of creating a second one",
             run_id, name);
    rc = ast_create(inst, sc, name, old.duration, hint, &t, &secret, err);
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

static int32_t ast_roll(cf_inst *inst, const rotp_params *req, result_builder *rb, rotp_error *err)
{
    ast_scope sc;
    char id[40];
    int strategy = 0;
    int32_t rc = params_check(req, ast_keys_roll, "request", err);
    if (rc == ROTP_E_OK)
        rc = ast_scope_read(req, &sc, err);
    if (rc == ROTP_E_OK)
        rc = ast_id_read(req, true, id, sizeof(id), err);
    if (rc == ROTP_E_OK)
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

static const char *const ast_keys_verify[] = {
    "kind", "id", "account_id", "zone_id", "client_id", "client_secret", "probe_url", NULL};

/* A visitor that finds the token with a given client id. */
typedef struct ast_by_client {
    const char *client_id;
    ast_token t;
    bool found;
} ast_by_client;

static int32_t ast_visit_client(const ast_token *t, void *ctx, rotp_error *err)
{
    ast_by_client *b = ctx;
    (void)err;
    if (strcmp(t->client_id, b->client_id) != 0)
        return ROTP_E_OK;
    b->t = *t;
    b->found = true;
    return AST_STOP;
}

/* GET probe_url with CF-Access-Client-Id / CF-Access-Client-Secret and no bearer. */
static int32_t ast_probe(cf_inst *inst, const char *url, const char *client_id,
                         const secret_buf *secret, long *status, rotp_error *err)
{
    http_header h[2];
    http_request r;
    http_response resp;
    memset(&r, 0, sizeof(r));
    memset(&resp, 0, sizeof(resp));
    h[0].name = "CF-Access-Client-Id";
    h[0].value = client_id;
    h[0].value_len = strlen(client_id);
    h[0].secret = false;
    h[1].name = "CF-Access-Client-Secret";
    h[1].value = secret->data;
    h[1].value_len = secret->len;
    h[1].secret = true;
    r.method = "GET";
    r.url = url;
    r.headers = h;
    r.nheaders = 2;
    r.idempotent = true;
    /* the query and fragment may carry a one-time value: never logged (ABI.md, logging) */
    cf_log(inst, ROTP_LOG_DEBUG, "access service token: probe GET %.*s", (int)strcspn(url, "?#"),
           url);
    int32_t rc = http_do(cf_inst_http(inst), &r, &resp, err);
    *status = resp.status;
    http_response_free(&resp);
    return rc;
}

static int32_t ast_verify(cf_inst *inst, const rotp_params *req, result_builder *rb,
                          rotp_error *err)
{
    ast_scope sc;
    char id[40];
    char client_id[256];
    char url[HTTP_MAX_URL + 1];
    ast_by_client by;
    ast_token *t = &by.t;
    secret_buf *secret = NULL;
    const char *state = "active";
    bool exists = true;
    memset(&by, 0, sizeof(by));
    int32_t rc = params_check(req, ast_keys_verify, "request", err);
    if (rc == ROTP_E_OK)
        rc = ast_scope_read(req, &sc, err);
    if (rc == ROTP_E_OK)
        rc = ast_id_read(req, false, id, sizeof(id), err);
    if (rc == ROTP_E_OK)
        rc = params_str(req, "client_id", client_id, sizeof(client_id), true, err);
    if (rc == ROTP_E_OK)
        rc = params_str(req, "probe_url", url, sizeof(url), false, err);
    if (rc != ROTP_E_OK)
        return rc;
    if (!header_value_ok(client_id, strlen(client_id), sizeof(client_id) - 1))
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "client_id: holds CR, LF or NUL");
    if (url[0] != '\0') {
        if (!header_value_ok(url, strlen(url), HTTP_MAX_URL) ||
            (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0))
            return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                            "probe_url: must be an absolute https:// URL (http:// only to "
                            "loopback with allow_insecure_loopback) without CR or LF");
        size_t slen = 0;
        const char *sval = params_get(req, "client_secret", &slen);
        if (sval == NULL || slen == 0)
            return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                            "missing client_secret (probe_url needs it)");
        if (!header_value_ok(sval, slen, 1024))
            return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                            "client_secret: holds CR, LF or NUL, or is too long");
        secret = secret_new(sval, slen);
        if (secret == NULL)
            return rerr_set(err, ROTP_E_NO_MEMORY, "verify: out of memory");
        cf_inst_remember(inst, secret);
    }

    /* The management view: does the token exist, is it enabled, has it expired? */
    if (id[0] != '\0') {
        rc = ast_get(inst, &sc, id, t, err);
        if (rc == ROTP_E_NOT_FOUND) {
            rerr_clear(err);
            rc = ROTP_E_OK;
            exists = false;
        }
        if (rc != ROTP_E_OK)
            goto out_free_secret;
        if (exists && strcmp(t->client_id, client_id) != 0) {
            rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                          "client_id is not the client id of service token %s", id);
            goto out_free_secret;
        }
    } else {
        by.client_id = client_id;
        rc = ast_walk(inst, &sc, "", "", ast_visit_client, &by, err);
        if (rc != ROTP_E_OK)
            goto out_free_secret;
        exists = by.found;
    }
    int64_t now = cf_inst_now(inst);
    int64_t exp = 0;
    bool has_exp = exists && t->expires_at[0] != '\0' &&
                   rfc3339_parse(t->expires_at, strlen(t->expires_at), &exp) == 0;
    if (!exists)
        state = "absent";
    else if (t->enabled == 0)
        state = "disabled";
    else if (has_exp && exp <= now)
        state = "expired";

    /* The origin's view: does Access admit this client id and secret? */
    if (secret != NULL) {
        long status = 0;
        rc = ast_probe(inst, url, client_id, secret, &status, err);
        if (rc != ROTP_E_OK)
            goto out_free_secret;
        rb_addf(rb, "probe_status", "%ld", status);
        if (strcmp(state, "active") == 0) {
            if (status >= 200 && status <= 299)
                state = "active";
            else if (status == 401)
                state = "invalid";
            else if (status == 403)
                state = "not_admitted";
            else
                state = NULL;
            if (state == NULL)
                rb_addf(rb, "state", "%ld", status);
        }
    } else if (exists) {
        rb_adds(rb, "warning",
                "without probe_url only the token's existence and expiry were "
                "checked, not the client secret");
    }
    if (state != NULL)
        rb_adds(rb, "state", state);
    if (exists) {
        rb_adds(rb, "id", t->id);
        if (t->name[0] != '\0')
            rb_adds(rb, "name", t->name);
        rb_adds(rb, "client_id", t->client_id);
        if (t->expires_at[0] != '\0')
            rb_adds(rb, "expires_at", t->expires_at);
        if (t->prev_expires_at[0] != '\0')
            rb_adds(rb, "previous_secret_expires_at", t->prev_expires_at);
        if (has_exp)
            rb_addf(rb, "days_to_expiry", "%lld", (long long)ast_days_until(now, exp));
    } else if (id[0] != '\0') {
        rb_adds(rb, "id", id);
    }
    cf_log(inst, ROTP_LOG_INFO, "verified service token %s in %s: %s",
           exists ? t->id : (id[0] != '\0' ? id : "(by client id)"), sc.label,
           rb_get(rb, "state") != NULL ? rb_get(rb, "state") : "?");
out_free_secret:
    ast_secret_drop(inst, secret);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * revoke
 * ---------------------------------------------------------------------------------------- */

static const char *const ast_keys_revoke[] = {"kind",    "id",       "account_id",
                                              "zone_id", "strategy", NULL};

/* strategy rotate: PUT .../{id} {name, previous_client_secret_expires_at: now}. */
static int32_t ast_revoke_overlap(cf_inst *inst, const ast_scope *sc, const char *id,
                                  result_builder *rb, rotp_error *err)
{
    char path[160];
    char what[160];
    char now_ts[RFC3339_LEN];
    ast_token t;
    dynbuf body;
    ast_call c;
    memset(&c, 0, sizeof(c));
    int32_t rc = ast_get(inst, sc, id, &t, err);
    if (rc == ROTP_E_NOT_FOUND) {
        rerr_clear(err);
        rb_adds(rb, "state", "absent");
        rb_adds(rb, "id", id);
        return ROTP_E_OK;
    }
    if (rc != ROTP_E_OK)
        return rc;
    if (rfc3339_format(cf_inst_now(inst), now_ts, sizeof(now_ts)) != 0)
        return rerr_set(err, ROTP_E_INTERNAL, "revoke: cannot format the time");
    snprintf(path, sizeof(path), "%s/%s", sc->base, id);
    snprintf(what, sizeof(what), "end the secret overlap of service token %s in %s", id, sc->label);
    dynbuf_init(&body, 4096);
    int r = dynbuf_adds(&body, "{\"name\":");
    if (r == 0)
        r = dynbuf_json_cstr(&body, t.name);
    if (r == 0)
        r = dynbuf_printf(&body, ",\"previous_client_secret_expires_at\":\"%s\"}", now_ts);
    if (r != 0) {
        rc = rerr_set(err, ROTP_E_NO_MEMORY, "%s: out of memory", what);
        goto out_free_body;
    }
    rc = ast_api(inst, "PUT", path, body.data, body.len, false, what, &c, err);
    if (rc == ROTP_E_OUTCOME_UNKNOWN) {
        rerr_set(err, rc,
                 "%s: the request was sent and no reliable answer came; the previous "
                 "secret may or may not be dead yet; repeating revoke is safe",
                 what);
        goto out_free_call;
    }
    if (rc == ROTP_E_NOT_FOUND) {
        rerr_clear(err);
        rb_adds(rb, "state", "absent");
        rb_adds(rb, "id", id);
        rc = ROTP_E_OK;
        goto out_free_call;
    }
    if (rc != ROTP_E_OK)
        goto out_free_call;
    rb_adds(rb, "state", "revoked");
    rb_adds(rb, "id", id);
    rb_adds(rb, "previous_secret_expires_at", now_ts);
    rb_adds(rb, "strategy", "rotate");
    cf_log(inst, ROTP_LOG_INFO, "service token %s in %s: previous client secret ended at %s", id,
           sc->label, now_ts);
out_free_call:
    ast_call_free(&c);
out_free_body:
    dynbuf_free(&body);
    return rc;
}

/* strategy create-swap-delete: DELETE the old token. 12139: still named by a policy. */
static int32_t ast_revoke_delete(cf_inst *inst, const ast_scope *sc, const char *id,
                                 result_builder *rb, rotp_error *err)
{
    char path[160];
    char what[160];
    ast_call c;
    memset(&c, 0, sizeof(c));
    snprintf(path, sizeof(path), "%s/%s", sc->base, id);
    snprintf(what, sizeof(what), "delete service token %s in %s", id, sc->label);
    int32_t rc = ast_api(inst, "DELETE", path, NULL, 0, true, what, &c, err);
    if (rc != ROTP_E_OK && c.env.error_code == 12139) {
        rc = rerr_set(err, ROTP_E_CONFLICT,
                      "%s: an Access policy still names this token (Cloudflare code 12139); "
                      "re-point the policy to the new token first, then revoke again",
                      what);
    } else if (rc == ROTP_E_NOT_FOUND) {
        rerr_clear(err);
        rc = ROTP_E_OK;
        rb_adds(rb, "state", "absent");
        rb_adds(rb, "id", id);
    } else if (rc == ROTP_E_OK) {
        rb_adds(rb, "state", "revoked");
        rb_adds(rb, "id", id);
        rb_adds(rb, "strategy", "create-swap-delete");
        cf_log(inst, ROTP_LOG_INFO, "deleted service token %s in %s", id, sc->label);
    }
    ast_call_free(&c);
    return rc;
}

static int32_t ast_revoke(cf_inst *inst, const rotp_params *req, result_builder *rb,
                          rotp_error *err)
{
    ast_scope sc;
    char id[40];
    int strategy = 0;
    int32_t rc = params_check(req, ast_keys_revoke, "request", err);
    if (rc == ROTP_E_OK)
        rc = ast_scope_read(req, &sc, err);
    if (rc == ROTP_E_OK)
        rc = ast_id_read(req, true, id, sizeof(id), err);
    if (rc == ROTP_E_OK)
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

static const char *const ast_keys_provision[] = {"kind",     "account_id", "zone_id", "name",
                                                 "duration", "run_id",     NULL};

static int32_t ast_provision(cf_inst *inst, const rotp_params *req, result_builder *rb,
                             rotp_error *err)
{
    ast_scope sc;
    char given[AST_NAME_MAX - 64];
    char name[AST_NAME_MAX];
    char duration[32];
    char run_id[AST_RUN_ID_MAX + 1];
    char hint[AST_NAME_MAX + 160];
    int64_t ms = 0;
    ast_token t;
    bool found = false;
    secret_buf *secret = NULL;
    int32_t rc = params_check(req, ast_keys_provision, "request", err);
    if (rc == ROTP_E_OK)
        rc = ast_scope_read(req, &sc, err);
    if (rc == ROTP_E_OK)
        rc = params_str(req, "name", given, sizeof(given), true, err);
    if (rc == ROTP_E_OK)
        rc = params_str(req, "duration", duration, sizeof(duration), false, err);
    if (rc == ROTP_E_OK)
        rc = ast_run_id(req, run_id, sizeof(run_id), err);
    if (rc != ROTP_E_OK)
        return rc;
    if (given[0] == '\0')
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "name: must not be empty");
    if (duration[0] == '\0')
        snprintf(duration, sizeof(duration), "%s", AST_PROVISION_DEFAULT);
    if (duration_parse_ms(duration, strlen(duration), &ms) != 0 || ms <= 0 ||
        ms > AST_PROVISION_MAX_MS)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "duration: a Go duration such as 1h or 30m, at most 168h, for a "
                        "throwaway token");
    if (strstr(given, ".sandbox-") != NULL || strstr(given, ".rot-") != NULL)
        snprintf(name, sizeof(name), "%s", given);
    else
        snprintf(name, sizeof(name), "%s.sandbox-%s", given, run_id);

    rc = ast_find_by_name(inst, &sc, name, &t, &found, err);
    if (rc != ROTP_E_OK)
        return rc;
    if (found)
        return rerr_set(err, ROTP_E_CONFLICT,
                        "a service token named \"%s\" already exists (id %s), probably from an "
                        "earlier provision whose outcome was unknown; its client secret cannot "
                        "be returned: delete it (revoke strategy=create-swap-delete id=%s) or "
                        "provision with another run_id",
                        name, t.id, t.id);
    snprintf(hint, sizeof(hint),
             "repeat provision with run_id=%s: it finds a token named \"%s\" "
             "instead of creating a second one",
             run_id, name);
    rc = ast_create(inst, &sc, name, duration, hint, &t, &secret, err);
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

static const char *const ast_keys_list[] = {"kind", "account_id", "zone_id",
                                            "name", "search",     NULL};

/* Collects {id, name, client_id, expires_at} objects into a JSON array. */
typedef struct ast_items {
    dynbuf json;
    long count;
} ast_items;

static int32_t ast_visit_item(const ast_token *t, void *ctx, rotp_error *err)
{
    ast_items *it = ctx;
    int r = dynbuf_adds(&it->json, it->count == 0 ? "{\"id\":" : ",{\"id\":");
    if (r == 0)
        r = dynbuf_json_cstr(&it->json, t->id);
    if (r == 0)
        r = dynbuf_adds(&it->json, ",\"name\":");
    if (r == 0)
        r = dynbuf_json_cstr(&it->json, t->name);
    if (r == 0)
        r = dynbuf_adds(&it->json, ",\"client_id\":");
    if (r == 0)
        r = dynbuf_json_cstr(&it->json, t->client_id);
    if (r == 0)
        r = dynbuf_adds(&it->json, ",\"expires_at\":");
    if (r == 0)
        r = dynbuf_json_cstr(&it->json, t->expires_at[0] != '\0' ? t->expires_at : NULL);
    if (r == 0)
        r = dynbuf_adds(&it->json, "}");
    if (r != 0)
        return rerr_set(err, r == -2 ? ROTP_E_PROTOCOL : ROTP_E_NO_MEMORY,
                        "list service tokens: %s",
                        r == -2 ? "the list is too long for one result" : "out of memory");
    it->count++;
    return ROTP_E_OK;
}

static int32_t ast_list(cf_inst *inst, const rotp_params *req, result_builder *rb, rotp_error *err)
{
    ast_scope sc;
    char name[AST_NAME_MAX];
    char search[AST_NAME_MAX];
    ast_items it;
    it.count = 0;
    dynbuf_init(&it.json, PARAM_VALUE_MAX * 16);
    int32_t rc = params_check(req, ast_keys_list, "request", err);
    if (rc == ROTP_E_OK)
        rc = ast_scope_read(req, &sc, err);
    if (rc == ROTP_E_OK)
        rc = params_str(req, "name", name, sizeof(name), false, err);
    if (rc == ROTP_E_OK)
        rc = params_str(req, "search", search, sizeof(search), false, err);
    if (rc == ROTP_E_OK && dynbuf_adds(&it.json, "[") != 0)
        rc = rerr_set(err, ROTP_E_NO_MEMORY, "list service tokens: out of memory");
    if (rc == ROTP_E_OK)
        rc = ast_walk(inst, &sc, name, search, ast_visit_item, &it, err);
    if (rc == ROTP_E_OK && dynbuf_adds(&it.json, "]") != 0)
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
    .kind = "cloudflare.access_service_token",
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
static const char *const ast_strategy_choices[] = {"rotate", "create-swap-delete", "refresh",
                                                   NULL};

static const rotp_key_info ast_request_keys[] = {
    KI_FULL("account_id", "hex32", 0, ROTP_ROLE_SCOPE, OPS_ALL, OPS_ALL, 1, NULL, ast_account_env,
            NULL, 0, 0, "the account of an account-level token (exactly one of account_id, zone_id)"),
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
    KI_FULL("grace_seconds", "int", 0, ROTP_ROLE_OVERLAP, ROTP_OP_ROLL, 0, 0, "3600", NULL, NULL,
            0, 2592000, "strategy rotate: how long the previous client secret keeps working"),
    KI("run_id", "text", 0, ROTP_ROLE_RUN_ID, ROTP_OP_ROLL | ROTP_OP_PROVISION, 0,
       "the host's run id (1 to 40 of [A-Za-z0-9_-]), put in the names of created tokens so a "
       "retry finds them"),
    KI("client_id", "text", 0, ROTP_ROLE_SECRET_PART, ROTP_OP_VERIFY, ROTP_OP_VERIFY,
       "the Access client id to check"),
    KI("client_secret", "token", ROTP_KEY_SECRET, ROTP_ROLE_SECRET_PART, ROTP_OP_VERIFY, 0,
       "the Access client secret; required with probe_url"),
    KI("probe_url", "url", 0, ROTP_ROLE_PROBE, ROTP_OP_VERIFY, 0,
       "an Access-protected URL to GET with the client id and secret; without it only the "
       "token's existence, enabled flag and expiry are checked"),
    KI("name", "text", 0, ROTP_ROLE_NAME, ROTP_OP_PROVISION | ROTP_OP_LIST, ROTP_OP_PROVISION,
       "provision: the new token's name; list: keep this name only"),
    KI("search", "text", 0, ROTP_ROLE_NONE, ROTP_OP_LIST, 0,
       "list: keep tokens whose name holds this text"),
    KI_FULL("duration", "duration", 0, ROTP_ROLE_TTL, ROTP_OP_PROVISION, 0, 0, "1h", NULL, NULL,
            0, 0, "provision: how long the new token lives (more than 0, at most 168h)"),
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
    KR("updated_at", "rfc3339", 0, ROTP_ROLE_MODIFIED, ROTP_OP_DESCRIBE,
       "when it last changed"),
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
       "HTTP status of the probe_url request"),
    KR("strategy", "text", 0, ROTP_ROLE_STRATEGY,
       ROTP_OP_DESCRIBE | ROTP_OP_ROLL | ROTP_OP_REVOKE, "the strategy (default or used)"),
    KR("strategies", "text", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE,
       "the strategies the scope supports"),
    KR("operations", "text", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE,
       "comma-separated operations of the kind"),
    KR("permission_required", "text", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE,
       "the permission group the management token needs"),
    KR("warning", "text", 0, ROTP_ROLE_WARNING,
       ROTP_OP_DESCRIBE | ROTP_OP_ROLL | ROTP_OP_VERIFY, "something to tell a human"),
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
          "the token exists, is enabled and not expired; with probe_url the origin admitted it"),
    STATE("invalid", ROTP_STATE_REJECTED, ROTP_OP_VERIFY,
          "with probe_url: the origin refused the client id and secret (401)"),
    STATE("absent", ROTP_STATE_REJECTED, ROTP_OP_VERIFY, "no such token"),
    STATE("disabled", ROTP_STATE_INACTIVE, ROTP_OP_VERIFY, "the token is not enabled"),
    STATE("expired", ROTP_STATE_INACTIVE, ROTP_OP_VERIFY, "the token has expired"),
    STATE("not_admitted", ROTP_STATE_REFUSED, ROTP_OP_VERIFY,
          "with probe_url: the origin answered 403: the policy does not admit this token"),
    STATE("revoked", ROTP_STATE_GONE, ROTP_OP_REVOKE,
          "the overlap was ended (rotate) or the token deleted (create-swap-delete)"),
    STATE("absent", ROTP_STATE_GONE, ROTP_OP_REVOKE, "the token was already gone"),
};
static const char *const ast_sandbox[] = {"duration=1h", NULL};

const rotp_kind_info kind_info_access_service_token = {
    .struct_size = sizeof(rotp_kind_info),
    .ops = OPS_ALL,
    .kind = "cloudflare.access_service_token",
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
