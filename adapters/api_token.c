/* api_token.c - the adapter for Cloudflare API tokens: cloudflare.user_token (/user/tokens...)
 * and cloudflare.account_token (/accounts/{account_id}/tokens...), API-NOTES sections 2 and 3.
 *
 * Rolling an API token replaces its value in place: the old value dies the moment Cloudflare
 * answers, so the new value is handed back at once and a lost answer is reported as
 * OUTCOME_UNKNOWN with the advice to roll forward. Rolling the management token itself is
 * refused unless the request allows it, and then the instance switches to the new value.
 *
 * Every id is checked (32 lowercase hex) before it goes into a path; no value from a request is
 * echoed into a message when it might be a secret pasted into the wrong key. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "adapter.h"
#include "kind_info.h"
#include "alloc.h"
#include "cfapi.h"
#include "dynbuf.h"
#include "error.h"
#include "ids.h"
#include "json.h"
#include "secret.h"
#include "timefmt.h"

#define TOK_NAME_MAX       120        /* Cloudflare's maxLength for a token name (characters) */
#define TOK_PER_PAGE       50         /* the largest page Cloudflare serves */
#define TOK_MAX_PAGES      200        /* 10 000 tokens: far above the 500-per-account limit */
#define TOK_LIST_MAX       (1u << 20) /* bytes of the `items` JSON */
#define TOK_SCOPES_MAX     16384      /* bytes of the `scopes` text before it is cut */
#define TOK_PROBE_PATH_MAX 1024
#define TOK_PATH_MAX       256

/* What one operation knows about its request: the kind, the ids and the path prefix. */
typedef struct tok_ctx {
    cf_inst *inst;
    bool account;        /* cloudflare.account_token */
    char account_id[33]; /* "" for the user kind */
    char id[33];         /* "" when the request has none */
    char base[64];       /* "/user/tokens" or "/accounts/<a>/tokens" */
} tok_ctx;

/* Whether an operation takes an `id`. */
#define TOK_ID_NONE     0
#define TOK_ID_OPTIONAL 1
#define TOK_ID_REQUIRED 2

/* The response of one call; free with tok_reply_free() on every path. */
typedef struct tok_reply {
    http_response resp;
    cf_envelope env;
} tok_reply;

static void tok_reply_init(tok_reply *r)
{
    memset(r, 0, sizeof(*r));
}

static void tok_reply_free(tok_reply *r)
{
    cf_envelope_free(&r->env);
    http_response_free(&r->resp);
    memset(r, 0, sizeof(*r));
}

static const char *tok_kind(const tok_ctx *c)
{
    return c->account ? "cloudflare.account_token" : "cloudflare.user_token";
}

/* The permission group the management token needs for token writes on this kind. */
static const char *tok_permission(const tok_ctx *c)
{
    return c->account ? "Account API Tokens Write" : "API Tokens Write";
}

/* " in account <a>" for the account kind, "" for the user kind. */
static void tok_where(const tok_ctx *c, char *buf, size_t cap)
{
    if (c->account)
        snprintf(buf, cap, " in account %s", c->account_id);
    else
        snprintf(buf, cap, " (user-owned)");
}

/* Checks the request keys (kind, account_id, id when `id_mode` allows it, plus `extra`), the
 * account id for the account kind and the token id, and fills *c. ROTP_E_OK or
 * INVALID_ARGUMENT; no request is made. A bad id is never echoed: it may be a pasted secret. */
static int32_t tok_begin(cf_inst *inst, const rotp_params *req, bool account,
                         const char *const *extra, int id_mode, tok_ctx *c, rotp_error *err)
{
    const char *allowed[16];
    size_t n = 0;
    const char *v;
    size_t len = 0;
    int32_t rc;

    memset(c, 0, sizeof(*c));
    c->inst = inst;
    c->account = account;

    allowed[n++] = "kind";
    allowed[n++] = "account_id";
    if (id_mode != TOK_ID_NONE)
        allowed[n++] = "id";
    for (size_t i = 0;
         extra != NULL && extra[i] != NULL && n + 1 < sizeof(allowed) / sizeof(*allowed); i++)
        allowed[n++] = extra[i];
    allowed[n] = NULL;

    rc = params_check(req, allowed, "request", err);
    if (rc != ROTP_E_OK)
        return rc;

    v = params_get(req, "account_id", &len);
    if (account) {
        if (v == NULL || len == 0)
            return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                            "missing account_id: cloudflare.account_token needs the 32-hex id of "
                            "the account that owns the token");
        if (!id_is_hex32(v, len))
            return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                            "account_id: not 32 lowercase hex digits");
        memcpy(c->account_id, v, 32);
        c->account_id[32] = '\0';
        snprintf(c->base, sizeof(c->base), "/accounts/%s/tokens", c->account_id);
    } else {
        if (v != NULL)
            return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                            "account_id: cloudflare.user_token takes no account_id (user tokens "
                            "live under /user/tokens); use kind cloudflare.account_token for an "
                            "account-owned token");
        snprintf(c->base, sizeof(c->base), "/user/tokens");
    }

    v = params_get(req, "id", &len);
    if (v == NULL) {
        if (id_mode == TOK_ID_REQUIRED)
            return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                            "missing id: the 32-hex id of the API token");
        return ROTP_E_OK;
    }
    if (!id_is_hex32(v, len))
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "id: not an API token id (expected 32 lowercase hex digits)");
    memcpy(c->id, v, 32);
    c->id[32] = '\0';
    return ROTP_E_OK;
}

/* Rewrites the message of a failed call so that it says what to do, keeping the HTTP fields
 * cf_call() set. `what` names the call ("roll token <id> in account <a>"); never a secret. */
static void tok_explain(const tok_ctx *c, const char *method, const char *what, int auth,
                        int32_t code, const tok_reply *r, rotp_error *err)
{
    const char *cfmsg = r->env.error_message;
    int32_t cfcode = r->env.error_code;
    char need[96];

    /* reads need the Read (or Write) group, changes the Write group */
    if (strcmp(method, "GET") == 0)
        snprintf(need, sizeof(need), "'%sAPI Tokens Read' or '%s'", c->account ? "Account " : "",
                 tok_permission(c));
    else
        snprintf(need, sizeof(need), "'%s'", tok_permission(c));

    switch (code) {
    case ROTP_E_PERMISSION_DENIED:
        if (auth == CF_AUTH_MANAGEMENT)
            rerr_set(err, code,
                     "%s: permission denied (HTTP %ld, code %d: %s): the management token needs "
                     "%s on %s%s%s",
                     what, r->resp.status, (int)cfcode, cfmsg, need,
                     c->account ? "account " : "the user", c->account ? c->account_id : "",
                     c->id[0] != '\0' ? " to act on this token" : "");
        else
            rerr_set(err, code, "%s: the secret was refused (HTTP %ld, code %d: %s)", what,
                     r->resp.status, (int)cfcode, cfmsg);
        break;
    case ROTP_E_NOT_FOUND:
        if (c->id[0] != '\0')
            rerr_set(err, code, "%s: token %s not found%s%s: check the id and the kind", what,
                     c->id, c->account ? " in account " : " among the user's tokens",
                     c->account ? c->account_id : "");
        break;
    case ROTP_E_CREDENTIAL_INVALID:
        if (auth == CF_AUTH_MANAGEMENT) {
            rerr_set(err, code,
                     "%s: the management token (config api_token) was rejected (HTTP %ld, code "
                     "%d: %s): replace it; retrying will not help",
                     what, r->resp.status, (int)cfcode, cfmsg);
            rerr_flag(err, ROTP_ERRF_MANAGEMENT_CREDENTIAL);
        }
        break;
    case ROTP_E_RATE_LIMITED:
        rerr_set(err, code,
                 "%s: rate limited by Cloudflare (HTTP %ld, code %d): wait %llu ms and retry", what,
                 r->resp.status, (int)cfcode, (unsigned long long)r->resp.retry_after_ms);
        break;
    default:
        break;
    }
}

/* One Cloudflare call with the context added to failures. */
static int32_t tok_call(const tok_ctx *c, const char *method, const char *path, const char *body,
                        size_t body_len, const secret_buf *bearer, int auth, bool idempotent,
                        const char *what, tok_reply *r, rotp_error *err)
{
    cf_call_opts o;
    int32_t rc;

    memset(&o, 0, sizeof(o));
    o.method = method;
    o.path = path;
    o.body = body;
    o.body_len = body_len;
    o.bearer = bearer;
    o.auth = auth;
    o.idempotent = idempotent;
    o.what = what;
    /* paths are logged without their query string (ABI.md, section 11) */
    cf_log(c->inst, ROTP_LOG_DEBUG, "%s: %s %.*s", what, method, (int)strcspn(path, "?"), path);
    rc = cf_call(cf_inst_http(c->inst), &o, &r->resp, &r->env, err);
    if (rc != ROTP_E_OK) {
        tok_explain(c, method, what, auth, rc, r, err);
        /* a subject value that Cloudflare refuses is an answer, logged by the caller */
        if (auth == CF_AUTH_MANAGEMENT || rc != ROTP_E_CREDENTIAL_INVALID)
            cf_log(c->inst, ROTP_LOG_DEBUG, "%s: failed: %s (HTTP %ld)", what, rerr_name(rc),
                   r->resp.status);
    }
    return rc;
}

/* Adds the string member `key` of object `obj` to the result, if it is a string. */
static void tok_add_member(result_builder *rb, const json_doc *d, int obj, const char *key)
{
    int t = json_get(d, obj, key);
    char *s = NULL;

    if (t < 0 || !json_is_string(d, t))
        return;
    if (json_strdup(d, t, &s) == -1) {
        rb->failed = true;
        return;
    }
    if (s != NULL)
        rb_adds(rb, key, s);
    rotp__free(s);
}

/* ---------------------------------------------------------------------------------------------
 * scopes: a readable summary of a token's policies
 * ------------------------------------------------------------------------------------------- */

/* Appends the short form of a resource key: "user <id>", "account <id>", "zone <id>",
 * "all zones", or the key itself when it is none of those. */
static int scope_resource(dynbuf *b, const char *key)
{
    static const struct {
        const char *prefix;
        const char *name;
        const char *all;
    } forms[] = {
        {"com.cloudflare.api.account.zone.", "zone", "all zones"},
        {"com.cloudflare.api.account.", "account", "all accounts"},
        {"com.cloudflare.api.user.", "user", "all users"},
    };

    for (size_t i = 0; i < sizeof(forms) / sizeof(*forms); i++) {
        size_t pl = strlen(forms[i].prefix);
        if (strncmp(key, forms[i].prefix, pl) != 0 || key[pl] == '\0')
            continue;
        if (strcmp(key + pl, "*") == 0)
            return dynbuf_adds(b, forms[i].all);
        return dynbuf_printf(b, "%s %s", forms[i].name, key + pl);
    }
    return dynbuf_adds(b, key);
}

/* Appends the resources object at `res`: flat ({"<key>":"*"}) or nested
 * ({"<account key>":{"<zone key>":"*"}}, written "all zones in account <a>"). */
static int scope_resources(dynbuf *b, const json_doc *d, int res)
{
    int rc = 0;
    int t = res + 1;
    bool first = true;

    if (!json_is_object(d, res))
        return dynbuf_adds(b, "?");
    for (int i = 0; rc == 0 && i < d->toks[res].size; i++) {
        char *key = NULL;
        int val = t + 1;

        if (json_strdup(d, t, &key) != 0)
            return -1;
        if (!first)
            rc = dynbuf_adds(b, ", ");
        first = false;
        if (rc == 0 && json_is_object(d, val)) {
            int in = val + 1;
            for (int j = 0; rc == 0 && j < d->toks[val].size; j++) {
                char *ikey = NULL;
                if (json_strdup(d, in, &ikey) != 0) {
                    rotp__free(key);
                    return -1;
                }
                if (j > 0)
                    rc = dynbuf_adds(b, ", ");
                if (rc == 0)
                    rc = scope_resource(b, ikey);
                if (rc == 0)
                    rc = dynbuf_adds(b, " in ");
                if (rc == 0)
                    rc = scope_resource(b, key);
                rotp__free(ikey);
                in = json_skip(d, in + 1);
            }
        } else if (rc == 0) {
            rc = scope_resource(b, key);
            if (rc == 0 && json_is_string(d, val) && !json_str_eq(d, val, "*")) {
                size_t vl = 0;
                const char *raw = json_raw(d, val, &vl);
                rc = dynbuf_printf(b, " (%.*s)", (int)vl, raw);
            }
        }
        rotp__free(key);
        t = json_skip(d, val);
    }
    return rc;
}

/* Builds the scopes text from the policies array at `pol` into b: one entry per policy,
 * "[deny:]<group>, <group> @ <resource>, <resource>", entries separated by "; ".
 * 0; -1 on allocation failure; -2 when the text would exceed the buffer's maximum. */
static int scope_build(dynbuf *b, const json_doc *d, int pol)
{
    int rc = 0;

    if (pol < 0 || !json_is_array(d, pol))
        return 0;
    for (int i = 0; rc == 0 && i < d->toks[pol].size; i++) {
        int p = json_at(d, pol, i);
        int eff, groups, res;

        if (p < 0 || !json_is_object(d, p))
            continue;
        eff = json_get(d, p, "effect");
        groups = json_get(d, p, "permission_groups");
        res = json_get(d, p, "resources");
        if (b->len > 0)
            rc = dynbuf_adds(b, "; ");
        if (rc == 0 && eff >= 0 && json_str_eq(d, eff, "deny"))
            rc = dynbuf_adds(b, "deny:");
        for (int g = 0; rc == 0 && groups >= 0 && g < d->toks[groups].size; g++) {
            int grp = json_at(d, groups, g);
            int name = grp >= 0 ? json_get(d, grp, "name") : -1;
            int gid = grp >= 0 ? json_get(d, grp, "id") : -1;
            char *s = NULL;
            int t = (name >= 0 && json_is_string(d, name)) ? name : gid;

            if (g > 0)
                rc = dynbuf_adds(b, ", ");
            if (rc != 0)
                break;
            if (t < 0 || !json_is_string(d, t)) {
                rc = dynbuf_adds(b, "?");
                continue;
            }
            if (json_strdup(d, t, &s) != 0)
                return -1;
            rc = dynbuf_printf(b, t == name ? "%s" : "group %s", s);
            rotp__free(s);
        }
        if (rc == 0)
            rc = dynbuf_adds(b, " @ ");
        if (rc == 0)
            rc = scope_resources(b, d, res);
    }
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * describe
 * ------------------------------------------------------------------------------------------- */

/* describe: with an id, GET the token (the management token reads it) and return its fields and
 * the scopes text; without one, what the kind supports (no request). Policies themselves are not
 * returned. ROTP_E_OK, or the classified failure with err filled. */
static int32_t tok_describe(cf_inst *inst, const rotp_params *req, result_builder *rb,
                            rotp_error *err, bool account)
{
    tok_ctx c;
    tok_reply r;
    dynbuf scopes;
    char path[TOK_PATH_MAX];
    char what[160];
    char where[64];
    int32_t rc;
    int res;

    tok_reply_init(&r);
    dynbuf_init(&scopes, TOK_SCOPES_MAX);

    rc = tok_begin(inst, req, account, NULL, TOK_ID_OPTIONAL, &c, err);
    if (rc != ROTP_E_OK)
        goto out;

    if (c.id[0] == '\0') {
        rb_adds(rb, "kind", tok_kind(&c));
        rb_adds(rb, "operations", "describe,roll,verify,revoke,provision,list");
        rb_adds(rb, "strategy", "in-place roll, no overlap");
        rb_adds(rb, "permission_required", tok_permission(&c));
        rb_adds(rb, "note",
                "roll replaces the value in place: the old value stops working the moment "
                "Cloudflare answers, so store the returned secret at once; after a lost answer, "
                "roll again");
        goto out;
    }

    tok_where(&c, where, sizeof(where));
    snprintf(what, sizeof(what), "describe token %s%s", c.id, where);
    snprintf(path, sizeof(path), "%s/%s", c.base, c.id);
    rc = tok_call(&c, "GET", path, NULL, 0, cf_inst_mgmt(inst), CF_AUTH_MANAGEMENT, true, what, &r,
                  err);
    if (rc != ROTP_E_OK)
        goto out;

    res = r.env.result;
    if (res < 0 || !json_is_object(&r.env.doc, res)) {
        rc = rerr_set(err, ROTP_E_PROTOCOL, "%s: the answer holds no token object", what);
        goto out;
    }
    rb_adds(rb, "id", c.id);
    tok_add_member(rb, &r.env.doc, res, "name");
    tok_add_member(rb, &r.env.doc, res, "status");
    tok_add_member(rb, &r.env.doc, res, "issued_on");
    tok_add_member(rb, &r.env.doc, res, "modified_on");
    tok_add_member(rb, &r.env.doc, res, "last_used_on");
    tok_add_member(rb, &r.env.doc, res, "not_before");
    tok_add_member(rb, &r.env.doc, res, "expires_on");

    switch (scope_build(&scopes, &r.env.doc, json_get(&r.env.doc, res, "policies"))) {
    case 0:
        break;
    case -2: /* cut: say so rather than fail the whole describe */
        cf_log(inst, ROTP_LOG_WARN, "%s: scopes text cut at %u bytes", what, TOK_SCOPES_MAX);
        break;
    default:
        rc = rerr_set(err, ROTP_E_NO_MEMORY, "%s: out of memory building scopes", what);
        goto out;
    }
    rb_add(rb, "scopes", scopes.data != NULL ? scopes.data : "", scopes.len, 0);

out:
    dynbuf_free(&scopes);
    tok_reply_free(&r);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * roll, with the self-roll guard
 * ------------------------------------------------------------------------------------------- */

/* GET <path> with the management token; copies result.id (32 hex) into id. */
static int32_t mgmt_verify_at(const tok_ctx *c, const char *path, char *id, rotp_error *err)
{
    tok_reply r;
    char what[TOK_PATH_MAX + 64];
    int32_t rc;
    int res, t;

    tok_reply_init(&r);
    snprintf(what, sizeof(what), "learn the management token's id at %s", path);
    rc = tok_call(c, "GET", path, NULL, 0, cf_inst_mgmt(c->inst), CF_AUTH_MANAGEMENT, true, what,
                  &r, err);
    if (rc == ROTP_E_OK) {
        res = r.env.result;
        t = res >= 0 ? json_get(&r.env.doc, res, "id") : -1;
        if (t < 0 || json_strcpy(&r.env.doc, t, id, 33) != 0 || !id_is_hex32(id, strlen(id)))
            rc = rerr_set(err, ROTP_E_PROTOCOL, "%s: verify answered without a token id", what);
    }
    tok_reply_free(&r);
    return rc;
}

/* Copies a failure from a scratch error into the caller's error. */
static int32_t err_take(rotp_error *dst, const rotp_error *src)
{
    rerr_set(dst, src->code, "%s", src->message);
    rerr_http(dst, src->http_status, src->api_code, src->retryable, src->retry_after_ms);
    rerr_flag(dst, src->flags);
    return src->code;
}

/* The management token's own id for this scope, learned once per instance: the account kind
 * asks /accounts/<a>/tokens/verify, and falls back to /user/tokens/verify when the management
 * token is a user token (which the account endpoint refuses with 401/403). */
static int32_t mgmt_id(const tok_ctx *c, const char **out, rotp_error *err)
{
    const char *scope = c->account ? c->account_id : "user";
    char id[33] = "";
    int32_t rc;

    *out = cf_inst_mgmt_id(c->inst, scope);
    if (*out != NULL)
        return ROTP_E_OK;

    if (c->account) {
        rotp_error e1;
        char path[TOK_PATH_MAX];

        memset(&e1, 0, sizeof(e1));
        e1.struct_size = sizeof(e1);
        snprintf(path, sizeof(path), "%s/verify", c->base);
        rc = mgmt_verify_at(c, path, id, &e1);
        if (rc != ROTP_E_OK && (e1.http_status == 401 || e1.http_status == 403))
            rc = mgmt_verify_at(c, "/user/tokens/verify", id, err);
        else if (rc != ROTP_E_OK)
            return err_take(err, &e1);
    } else {
        rc = mgmt_verify_at(c, "/user/tokens/verify", id, err);
    }
    if (rc != ROTP_E_OK)
        return rc;
    cf_inst_set_mgmt_id(c->inst, scope, id);
    *out = cf_inst_mgmt_id(c->inst, scope);
    if (*out == NULL) /* the cache could not keep it: use nothing rather than guess */
        return rerr_set(err, ROTP_E_NO_MEMORY, "out of memory caching the management token id");
    cf_log(c->inst, ROTP_LOG_DEBUG, "management token id for %s: %s", scope, *out);
    return ROTP_E_OK;
}

/* roll: PUT <base>/<id>/value with `{}` (never retried). The new value is returned at once as
 * `secret` (SECRET) with id and rolled_at. Rolling the management token itself is
 * REFUSED_BY_POLICY unless allow_self_roll; when allowed, the instance switches to the new value.
 * A lost answer is OUTCOME_UNKNOWN: the old value is probably dead, roll forward. */
static int32_t tok_roll(cf_inst *inst, const rotp_params *req, result_builder *rb, rotp_error *err,
                        bool account)
{
    static const char *const keys[] = {"allow_self_roll", NULL};
    tok_ctx c;
    tok_reply r;
    secret_buf *fresh = NULL;
    const char *self_id = NULL;
    bool allow_self = false, self = false;
    char path[TOK_PATH_MAX];
    char what[160];
    char where[64];
    char now[RFC3339_LEN];
    int32_t rc;
    int res;

    tok_reply_init(&r);
    rc = tok_begin(inst, req, account, keys, TOK_ID_REQUIRED, &c, err);
    if (rc == ROTP_E_OK)
        rc = params_bool(req, "allow_self_roll", false, &allow_self, err);
    if (rc != ROTP_E_OK)
        goto out;

    tok_where(&c, where, sizeof(where));
    snprintf(what, sizeof(what), "roll token %s%s", c.id, where);

    rc = mgmt_id(&c, &self_id, err);
    if (rc != ROTP_E_OK)
        goto out;
    self = strcmp(self_id, c.id) == 0;
    if (self && !allow_self) {
        rc = rerr_set(err, ROTP_E_REFUSED_BY_POLICY,
                      "%s: this is the management token itself; a lost answer would leave no "
                      "working management credential. Set allow_self_roll=1 to roll it anyway",
                      what);
        goto out;
    }

    snprintf(path, sizeof(path), "%s/%s/value", c.base, c.id);
    rc = tok_call(&c, "PUT", path, "{}", 2, cf_inst_mgmt(inst), CF_AUTH_MANAGEMENT, false, what, &r,
                  err);
    if (rc == ROTP_E_OUTCOME_UNKNOWN) {
        rerr_set(err, rc,
                 "%s: the request was sent and no usable answer came: the old value is probably "
                 "already dead. The safe move is to roll again (roll forward) and store the value "
                 "that call returns%s",
                 what,
                 self ? "; this was the management token itself: if the roll applied, this "
                        "instance's management value is dead too and a new one must be issued "
                        "out of band"
                      : "");
        rerr_flag(err, ROTP_ERRF_REQUEST_SENT);
        goto out;
    }
    if (rc != ROTP_E_OK)
        goto out;

    res = r.env.result;
    if (res < 0 || !json_is_string(&r.env.doc, res) ||
        json_secretdup(&r.env.doc, res, &fresh) != 0 || fresh == NULL ||
        !secret_shape_ok(fresh->data, fresh->len)) {
        /* Cloudflare said success: the old value is dead and the new one is unusable (or there
         * was no memory to copy it). Either way the host must roll forward. */
        rc = rerr_set(err, ROTP_E_OUTCOME_UNKNOWN,
                      "%s: Cloudflare reported success but the new value was %s: the old value "
                      "is probably already dead; roll again (roll forward)",
                      what,
                      res >= 0 && json_is_string(&r.env.doc, res) && fresh == NULL
                          ? "lost (out of memory)"
                          : "missing or malformed");
        rerr_flag(err, ROTP_ERRF_REQUEST_SENT);
        goto out;
    }
    cf_inst_remember(inst, fresh);

    if (rfc3339_format(cf_inst_now(inst), now, sizeof(now)) != 0)
        now[0] = '\0';
    rb_add_secret(rb, "secret", fresh);
    rb_adds(rb, "id", c.id);
    rb_adds(rb, "rolled_at", now);
    cf_log(inst, ROTP_LOG_INFO, "%s: rolled; the old value no longer works", what);

    if (self) {
        rotp_error e2;
        memset(&e2, 0, sizeof(e2));
        e2.struct_size = sizeof(e2);
        if (cf_inst_set_mgmt(inst, fresh->data, fresh->len, &e2) == ROTP_E_OK) {
            cf_log(inst, ROTP_LOG_INFO, "%s: the instance now uses the new management value", what);
        } else {
            /* The roll happened: the host must still get the new value, so this is a warning. */
            rb_adds(rb, "warning",
                    "the management token was rolled but this instance could not switch to the "
                    "new value (out of memory): reopen the provider with the returned secret");
            cf_log(inst, ROTP_LOG_WARN, "%s: could not switch to the new management value", what);
        }
    }
    if (rb->failed) {
        /* The roll happened but the value cannot be handed over: the host must roll forward. */
        rc = rerr_set(err, ROTP_E_OUTCOME_UNKNOWN,
                      "%s: rolled, but out of memory handing over the new value: the old value "
                      "is dead; roll again (roll forward)",
                      what);
        rerr_flag(err, ROTP_ERRF_REQUEST_SENT);
    }

out:
    if (fresh != NULL) {
        cf_inst_forget(inst, fresh);
        secret_free(fresh);
    }
    tok_reply_free(&r);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * verify
 * ------------------------------------------------------------------------------------------- */

/* A probe path: starts with '/', no "..", no encoded dot or slash, no scheme, no CR/LF or other
 * control characters, no spaces, backslashes or fragments. */
static bool probe_path_ok(const char *p, size_t len)
{
    if (len < 1 || len > TOK_PROBE_PATH_MAX || p[0] != '/')
        return false;
    if (len >= 2 && p[1] == '/')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch <= 0x20 || ch >= 0x7f || ch == '\\' || ch == '#')
            return false;
        if (ch == '.' && i + 1 < len && p[i + 1] == '.')
            return false;
        if (ch == ':' && i + 2 < len && p[i + 1] == '/' && p[i + 2] == '/')
            return false;
        if (ch == '%' && i + 2 < len &&
            ((p[i + 1] == '2' &&
              (p[i + 2] == 'e' || p[i + 2] == 'E' || p[i + 2] == 'f' || p[i + 2] == 'F')) ||
             (p[i + 1] == '5' && (p[i + 2] == 'c' || p[i + 2] == 'C'))))
            return false;
    }
    return true;
}

/* verify: GET <base>/verify with the given secret as bearer. An unknown or dead value is OK with
 * state=invalid; other failures (429, 5xx, TLS) stay errors. With probe_path, also GETs that path
 * with the secret and reports probe_status. The secret is registered for redaction and wiped. */
static int32_t tok_verify(cf_inst *inst, const rotp_params *req, result_builder *rb,
                          rotp_error *err, bool account)
{
    static const char *const keys[] = {"secret", "probe_path", NULL};
    tok_ctx c;
    tok_reply r;
    http_response probe;
    secret_buf *subject = NULL;
    const char *v, *probe_path;
    size_t len = 0, probe_len = 0;
    char path[TOK_PATH_MAX];
    char what[160];
    char where[64];
    char *status = NULL;
    char *probe_copy = NULL;
    int32_t rc;
    int res, t;

    tok_reply_init(&r);
    memset(&probe, 0, sizeof(probe));
    rc = tok_begin(inst, req, account, keys, TOK_ID_OPTIONAL, &c, err);
    if (rc != ROTP_E_OK)
        goto out;

    v = params_get(req, "secret", &len);
    if (v == NULL || len == 0) {
        rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT, "missing secret: the token value to verify");
        goto out;
    }
    if (!secret_shape_ok(v, len)) {
        rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                      "secret: not shaped like a Cloudflare API token value");
        goto out;
    }
    probe_path = params_get(req, "probe_path", &probe_len);
    if (probe_path != NULL && !probe_path_ok(probe_path, probe_len)) {
        rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                      "probe_path: must be a path under api_base starting with '/', without "
                      "'..', encoded dots or slashes, a scheme, spaces or control characters");
        goto out;
    }
    subject = secret_new(v, len);
    if (subject == NULL) {
        rc = rerr_set(err, ROTP_E_NO_MEMORY, "out of memory");
        goto out;
    }
    cf_inst_remember(inst, subject);

    tok_where(&c, where, sizeof(where));
    snprintf(what, sizeof(what), "verify a token value%s", where);
    snprintf(path, sizeof(path), "%s/verify", c.base);
    rc = tok_call(&c, "GET", path, NULL, 0, subject, CF_AUTH_SUBJECT, true, what, &r, err);
    if (rc == ROTP_E_CREDENTIAL_INVALID) {
        /* Cloudflare does not accept this value (401 code 1000 "Invalid API Token", or an
         * account token at the user endpoint): that is the answer, not a failure. */
        rerr_clear(err);
        rc = ROTP_E_OK;
        rb_adds(rb, "state", "invalid");
        cf_log(inst, ROTP_LOG_INFO, "%s: invalid (HTTP %ld, code %d)", what, r.resp.status,
               (int)r.env.error_code);
        goto probe;
    }
    if (rc == ROTP_E_PERMISSION_DENIED && !account)
        rerr_set(err, rc,
                 "%s: the value was refused with HTTP 403 (code %d); an account-owned token "
                 "(cfat_) must be verified with kind cloudflare.account_token",
                 what, (int)r.env.error_code);
    if (rc != ROTP_E_OK)
        goto out;

    res = r.env.result;
    t = res >= 0 ? json_get(&r.env.doc, res, "status") : -1;
    if (t < 0 || !json_is_string(&r.env.doc, t)) {
        rc = rerr_set(err, ROTP_E_PROTOCOL, "%s: the answer holds no token status", what);
        goto out;
    }
    if (json_strdup(&r.env.doc, t, &status) != 0) {
        rc = rerr_set(err, ROTP_E_NO_MEMORY, "out of memory");
        goto out;
    }
    /* active, expired and disabled are the documented states; anything else (e.g. "revoked
     * (exposed)") is passed through as Cloudflare wrote it. */
    rb_adds(rb, "state", status);
    rb_adds(rb, "status", status);
    tok_add_member(rb, &r.env.doc, res, "id");
    tok_add_member(rb, &r.env.doc, res, "expires_on");
    tok_add_member(rb, &r.env.doc, res, "not_before");
    if (c.id[0] != '\0') {
        const char *got = rb_get(rb, "id");
        if (got != NULL && strcmp(got, c.id) != 0)
            rb_addf(rb, "warning", "the value belongs to token %s, not to the requested id %s", got,
                    c.id);
    }
    cf_log(inst, ROTP_LOG_INFO, "%s: state %s", what, status);

probe:
    if (probe_path != NULL) {
        http_request hr;
        int plen;

        probe_copy = rotp__strndup(probe_path, probe_len);
        if (probe_copy == NULL) {
            rc = rerr_set(err, ROTP_E_NO_MEMORY, "out of memory");
            goto out;
        }
        memset(&hr, 0, sizeof(hr));
        hr.method = "GET";
        hr.path = probe_copy;
        hr.bearer = subject;
        hr.idempotent = true;
        plen = (int)strcspn(probe_copy, "?"); /* never log a query string */
        cf_log(inst, ROTP_LOG_DEBUG, "%s: probe GET %.*s", what, plen, probe_copy);
        rc = http_do(cf_inst_http(inst), &hr, &probe, err);
        if (rc != ROTP_E_OK) {
            rerr_set(err, rc, "%s: probe GET %.*s failed: %s", what, plen, probe_copy,
                     rerr_name(rc));
            goto out;
        }
        rb_addf(rb, "probe_status", "%ld", probe.status);
        cf_log(inst, ROTP_LOG_INFO, "%s: probe GET %.*s answered HTTP %ld", what, plen, probe_copy,
               probe.status);
    }

out:
    if (subject != NULL) {
        cf_inst_forget(inst, subject);
        secret_free(subject);
    }
    http_response_free(&probe);
    rotp__free(probe_copy);
    rotp__free(status);
    tok_reply_free(&r);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * revoke
 * ------------------------------------------------------------------------------------------- */

/* revoke: DELETE <base>/<id>. state=revoked, or state=absent when the token is already gone. */
static int32_t tok_revoke(cf_inst *inst, const rotp_params *req, result_builder *rb,
                          rotp_error *err, bool account)
{
    tok_ctx c;
    tok_reply r;
    char path[TOK_PATH_MAX];
    char what[160];
    char where[64];
    int32_t rc;

    tok_reply_init(&r);
    rc = tok_begin(inst, req, account, NULL, TOK_ID_REQUIRED, &c, err);
    if (rc != ROTP_E_OK)
        goto out;

    tok_where(&c, where, sizeof(where));
    snprintf(what, sizeof(what), "revoke token %s%s", c.id, where);
    snprintf(path, sizeof(path), "%s/%s", c.base, c.id);
    /* DELETE is idempotent: a retry after a lost answer finds the token gone (404). */
    rc = tok_call(&c, "DELETE", path, NULL, 0, cf_inst_mgmt(inst), CF_AUTH_MANAGEMENT, true, what,
                  &r, err);
    if (rc == ROTP_E_NOT_FOUND && r.resp.status == 404) {
        rerr_clear(err);
        rc = ROTP_E_OK;
        rb_adds(rb, "id", c.id);
        rb_adds(rb, "state", "absent");
        cf_log(inst, ROTP_LOG_INFO, "%s: already gone", what);
        goto out;
    }
    if (rc != ROTP_E_OK)
        goto out;
    rb_adds(rb, "id", c.id);
    rb_adds(rb, "state", "revoked");
    cf_log(inst, ROTP_LOG_INFO, "%s: revoked", what);

out:
    tok_reply_free(&r);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * provision
 * ------------------------------------------------------------------------------------------- */

/* Counts UTF-8 characters; false if the name is empty, too long or holds control characters. */
static bool name_ok(const char *s, size_t len)
{
    size_t chars = 0;

    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f)
            return false;
        if ((ch & 0xc0) != 0x80)
            chars++;
    }
    return chars <= TOK_NAME_MAX;
}

/* Reads an RFC 3339 request value into Unix seconds and its canonical text. *present is false
 * when the key is absent. ROTP_E_OK or INVALID_ARGUMENT. */
static int32_t time_param(const rotp_params *req, const char *key, bool *present, int64_t *secs,
                          char *canon, rotp_error *err)
{
    size_t len = 0;
    const char *v = params_get(req, key, &len);

    *present = v != NULL;
    if (v == NULL)
        return ROTP_E_OK;
    if (rfc3339_parse(v, len, secs) != 0 || rfc3339_format(*secs, canon, RFC3339_LEN) != 0)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "%s: not an RFC 3339 time such as 2027-01-01T00:00:00Z", key);
    return ROTP_E_OK;
}

/* ttl_seconds (60 .. 31536000): expires_on = now + ttl. Exactly one of the two may be given;
 * *has_exp says whether expires_on was, and is set when the ttl gives the expiry. */
static int32_t ttl_param(cf_inst *inst, const rotp_params *req, bool *has_exp, int64_t *secs,
                         char canon[RFC3339_LEN], rotp_error *err)
{
    int64_t ttl = 0;
    int32_t rc;

    if (params_find(req, "ttl_seconds") == NULL)
        return ROTP_E_OK;
    if (*has_exp)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "ttl_seconds: give either expires_on or ttl_seconds, not both");
    rc = params_int(req, "ttl_seconds", 0, 60, 31536000, &ttl, err);
    if (rc != ROTP_E_OK)
        return rc;
    *secs = cf_inst_now(inst) + ttl;
    if (rfc3339_format(*secs, canon, RFC3339_LEN) != 0)
        return rerr_set(err, ROTP_E_INTERNAL, "ttl_seconds: the expiry cannot be written");
    *has_exp = true;
    return ROTP_E_OK;
}

/* provision: POST <base> with name, the policies verbatim (checked to be a JSON array first),
 * expires_on (required, in the future) and not_before. Returns id, name, secret (SECRET) and
 * expires_on. A lost answer is OUTCOME_UNKNOWN: a token may exist; list by name to find it. */
static int32_t tok_provision(cf_inst *inst, const rotp_params *req, result_builder *rb,
                             rotp_error *err, bool account)
{
    static const char *const keys[] = {"name",       "policies",    "expires_on",
                                       "not_before", "ttl_seconds", NULL};
    tok_ctx c;
    tok_reply r;
    json_doc pol;
    dynbuf body;
    secret_buf *value = NULL;
    const char *name, *policies;
    size_t name_len = 0, pol_len = 0;
    bool has_exp = false, has_nbf = false;
    int64_t exp = 0, nbf = 0;
    char exp_s[RFC3339_LEN], nbf_s[RFC3339_LEN];
    char new_id[33] = "";
    char what[160];
    char where[64];
    int32_t rc;
    int res, t;

    tok_reply_init(&r);
    memset(&pol, 0, sizeof(pol));
    dynbuf_init(&body, PARAM_VALUE_MAX * 2);
    rc = tok_begin(inst, req, account, keys, TOK_ID_NONE, &c, err);
    if (rc != ROTP_E_OK)
        goto out;

    name = params_get(req, "name", &name_len);
    if (name == NULL || !name_ok(name, name_len)) {
        rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                      "name: required, 1 to %d characters, no control characters", TOK_NAME_MAX);
        goto out;
    }
    policies = params_get(req, "policies", &pol_len);
    if (policies == NULL) {
        rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                      "missing policies: a JSON array of Cloudflare token policies");
        goto out;
    }
    if (json_parse(&pol, policies, pol_len) != JSON_OK || !json_is_array(&pol, 0) ||
        pol.toks[0].size < 1) {
        rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                      "policies: not a non-empty JSON array (each item: {effect, resources, "
                      "permission_groups})");
        goto out;
    }
    rc = time_param(req, "expires_on", &has_exp, &exp, exp_s, err);
    if (rc == ROTP_E_OK)
        rc = time_param(req, "not_before", &has_nbf, &nbf, nbf_s, err);
    if (rc == ROTP_E_OK)
        rc = ttl_param(inst, req, &has_exp, &exp, exp_s, err);
    if (rc != ROTP_E_OK)
        goto out;
    if (!has_exp) {
        rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                      "missing expires_on or ttl_seconds: every provisioned token needs an "
                      "expiry backstop");
        goto out;
    }
    if (exp <= cf_inst_now(inst)) {
        rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT, "expires_on: %s is not in the future", exp_s);
        goto out;
    }
    if (has_nbf && nbf >= exp) {
        rc = rerr_set(err, ROTP_E_INVALID_ARGUMENT, "not_before: must be before expires_on");
        goto out;
    }

    if (dynbuf_adds(&body, "{\"name\":") != 0 || dynbuf_json_str(&body, name, name_len) != 0 ||
        dynbuf_adds(&body, ",\"policies\":") != 0 || dynbuf_add(&body, policies, pol_len) != 0 ||
        dynbuf_printf(&body, ",\"expires_on\":\"%s\"", exp_s) != 0 ||
        (has_nbf && dynbuf_printf(&body, ",\"not_before\":\"%s\"", nbf_s) != 0) ||
        dynbuf_adds(&body, "}") != 0) {
        rc = rerr_set(err, ROTP_E_NO_MEMORY, "out of memory building the request");
        goto out;
    }

    tok_where(&c, where, sizeof(where));
    snprintf(what, sizeof(what), "provision a token%s", where);
    rc = tok_call(&c, "POST", c.base, body.data, body.len, cf_inst_mgmt(inst), CF_AUTH_MANAGEMENT,
                  false, what, &r, err);
    if (rc == ROTP_E_OUTCOME_UNKNOWN) {
        rerr_set(err, rc,
                 "%s: the request was sent and no usable answer came: a token may have been "
                 "created; list by name to find it and revoke it before provisioning again",
                 what);
        rerr_flag(err, ROTP_ERRF_REQUEST_SENT);
        goto out;
    }
    if (rc != ROTP_E_OK)
        goto out;

    res = r.env.result;
    t = res >= 0 ? json_get(&r.env.doc, res, "id") : -1;
    if (t >= 0)
        (void)json_strcpy(&r.env.doc, t, new_id, sizeof(new_id));
    if (!id_is_hex32(new_id, strlen(new_id)))
        new_id[0] = '\0';
    t = res >= 0 ? json_get(&r.env.doc, res, "value") : -1;
    if (new_id[0] == '\0' || t < 0 || !json_is_string(&r.env.doc, t) ||
        json_secretdup(&r.env.doc, t, &value) != 0 || value == NULL ||
        !secret_shape_ok(value->data, value->len)) {
        rc = rerr_set(err, ROTP_E_OUTCOME_UNKNOWN,
                      "%s: Cloudflare reported success but the answer lacked a usable id or "
                      "value%s%s: revoke it and provision again",
                      what, new_id[0] != '\0' ? "; the new token is " : "", new_id);
        rerr_flag(err, ROTP_ERRF_REQUEST_SENT);
        goto out;
    }
    cf_inst_remember(inst, value);
    rb_adds(rb, "id", new_id);
    tok_add_member(rb, &r.env.doc, res, "name");
    rb_add_secret(rb, "secret", value);
    tok_add_member(rb, &r.env.doc, res, "status");
    tok_add_member(rb, &r.env.doc, res, "expires_on");
    tok_add_member(rb, &r.env.doc, res, "not_before");
    if (rb_get(rb, "expires_on") == NULL)
        rb_adds(rb, "expires_on", exp_s);
    if (rb->failed) {
        rc = rerr_set(err, ROTP_E_OUTCOME_UNKNOWN,
                      "%s: token %s was created, but out of memory handing over its value: "
                      "revoke it and provision again",
                      what, new_id);
        rerr_flag(err, ROTP_ERRF_REQUEST_SENT);
        goto out;
    }
    cf_log(inst, ROTP_LOG_INFO, "%s: created token %s", what, new_id);

out:
    if (value != NULL) {
        cf_inst_forget(inst, value);
        secret_free(value);
    }
    json_free(&pol);
    dynbuf_free(&body);
    tok_reply_free(&r);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * list
 * ------------------------------------------------------------------------------------------- */

/* Appends "<sep>"key":<string or null>" for a string member of obj. 0 or the dynbuf error. */
static int item_member(dynbuf *b, const json_doc *d, int obj, const char *key, bool first)
{
    int t = json_get(d, obj, key);
    char *s = NULL;
    int rc;

    rc = dynbuf_printf(b, "%s\"%s\":", first ? "" : ",", key);
    if (rc != 0)
        return rc;
    if (t < 0 || !json_is_string(d, t))
        return dynbuf_adds(b, "null");
    if (json_strdup(d, t, &s) != 0)
        return -1;
    rc = dynbuf_json_cstr(b, s);
    rotp__free(s);
    return rc;
}

/* Appends the tokens of one page to items (filtered by name when given); counts them. */
static int list_page(dynbuf *items, const json_doc *d, int arr, const char *name, size_t *count)
{
    int rc = 0;

    for (int i = 0; rc == 0 && i < d->toks[arr].size; i++) {
        int o = json_at(d, arr, i);
        if (o < 0 || !json_is_object(d, o))
            continue;
        if (name != NULL) {
            int nt = json_get(d, o, "name");
            if (nt < 0 || !json_str_eq(d, nt, name))
                continue;
        }
        rc = dynbuf_adds(items, *count > 0 ? ",{" : "{");
        if (rc == 0)
            rc = item_member(items, d, o, "id", true);
        if (rc == 0)
            rc = item_member(items, d, o, "name", false);
        if (rc == 0)
            rc = item_member(items, d, o, "status", false);
        if (rc == 0)
            rc = item_member(items, d, o, "expires_on", false);
        if (rc == 0)
            rc = item_member(items, d, o, "modified_on", false);
        if (rc == 0)
            rc = dynbuf_adds(items, "}");
        if (rc == 0)
            (*count)++;
    }
    return rc;
}

/* list: every page of <base> (50 per page, at most TOK_MAX_PAGES), filtered by exact name when
 * given. Returns count and items, a JSON array of {id, name, status, expires_on, modified_on}. */
static int32_t tok_list(cf_inst *inst, const rotp_params *req, result_builder *rb, rotp_error *err,
                        bool account)
{
    static const char *const keys[] = {"name", NULL};
    tok_ctx c;
    tok_reply r;
    dynbuf items;
    char name[4 * TOK_NAME_MAX + 1];
    char path[TOK_PATH_MAX];
    char what[160];
    char where[64];
    size_t count = 0;
    int32_t rc;
    int page;

    tok_reply_init(&r);
    dynbuf_init(&items, TOK_LIST_MAX);
    rc = tok_begin(inst, req, account, keys, TOK_ID_NONE, &c, err);
    if (rc == ROTP_E_OK)
        rc = params_str(req, "name", name, sizeof(name), false, err);
    if (rc != ROTP_E_OK)
        goto out;
    if (dynbuf_adds(&items, "[") != 0) {
        rc = rerr_set(err, ROTP_E_NO_MEMORY, "out of memory");
        goto out;
    }

    tok_where(&c, where, sizeof(where));
    for (page = 1; page <= TOK_MAX_PAGES; page++) {
        int arr;
        int n;
        bool done;

        snprintf(what, sizeof(what), "list tokens%s (page %d)", where, page);
        snprintf(path, sizeof(path), "%s?page=%d&per_page=%d", c.base, page, TOK_PER_PAGE);
        tok_reply_free(&r);
        rc = tok_call(&c, "GET", path, NULL, 0, cf_inst_mgmt(inst), CF_AUTH_MANAGEMENT, true, what,
                      &r, err);
        if (rc != ROTP_E_OK)
            goto out;
        arr = r.env.result;
        if (arr < 0 || !json_is_array(&r.env.doc, arr)) {
            rc = rerr_set(err, ROTP_E_PROTOCOL, "%s: the answer holds no token array", what);
            goto out;
        }
        n = r.env.doc.toks[arr].size;
        switch (list_page(&items, &r.env.doc, arr, name[0] != '\0' ? name : NULL, &count)) {
        case 0:
            break;
        case -2:
            rc = rerr_set(err, ROTP_E_PROTOCOL,
                          "%s: more tokens than this provider lists (%u "
                          "bytes); filter by name",
                          what, TOK_LIST_MAX);
            goto out;
        default:
            rc = rerr_set(err, ROTP_E_NO_MEMORY, "%s: out of memory", what);
            goto out;
        }
        done = n == 0;
        if (r.env.has_result_info) {
            int64_t per = r.env.per_page > 0 ? r.env.per_page : TOK_PER_PAGE;
            if (r.env.total_pages >= 0 && page >= r.env.total_pages)
                done = true;
            if (r.env.total_count >= 0 && (int64_t)page * per >= r.env.total_count)
                done = true;
        }
        if (done)
            break;
    }
    if (page > TOK_MAX_PAGES)
        cf_log(inst, ROTP_LOG_WARN, "list tokens%s: stopped after %d pages", where, TOK_MAX_PAGES);
    if (dynbuf_adds(&items, "]") != 0) {
        rc = rerr_set(err, ROTP_E_NO_MEMORY, "out of memory");
        goto out;
    }
    rb_addf(rb, "count", "%zu", count);
    rb_add(rb, "items", items.data, items.len, 0);
    cf_log(inst, ROTP_LOG_INFO, "list tokens%s: %zu token(s)", where, count);

out:
    dynbuf_free(&items);
    tok_reply_free(&r);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * The two kinds
 * ------------------------------------------------------------------------------------------- */

#define TOK_KIND_OPS(prefix, account)                                                              \
    static int32_t prefix##_describe(cf_inst *inst, const rotp_params *req, result_builder *rb,    \
                                     rotp_error *err)                                              \
    {                                                                                              \
        return tok_describe(inst, req, rb, err, account);                                          \
    }                                                                                              \
    static int32_t prefix##_roll(cf_inst *inst, const rotp_params *req, result_builder *rb,        \
                                 rotp_error *err)                                                  \
    {                                                                                              \
        return tok_roll(inst, req, rb, err, account);                                              \
    }                                                                                              \
    static int32_t prefix##_verify(cf_inst *inst, const rotp_params *req, result_builder *rb,      \
                                   rotp_error *err)                                                \
    {                                                                                              \
        return tok_verify(inst, req, rb, err, account);                                            \
    }                                                                                              \
    static int32_t prefix##_revoke(cf_inst *inst, const rotp_params *req, result_builder *rb,      \
                                   rotp_error *err)                                                \
    {                                                                                              \
        return tok_revoke(inst, req, rb, err, account);                                            \
    }                                                                                              \
    static int32_t prefix##_provision(cf_inst *inst, const rotp_params *req, result_builder *rb,   \
                                      rotp_error *err)                                             \
    {                                                                                              \
        return tok_provision(inst, req, rb, err, account);                                         \
    }                                                                                              \
    static int32_t prefix##_list(cf_inst *inst, const rotp_params *req, result_builder *rb,        \
                                 rotp_error *err)                                                  \
    {                                                                                              \
        return tok_list(inst, req, rb, err, account);                                              \
    }

TOK_KIND_OPS(user, false)
TOK_KIND_OPS(account, true)

const adapter adapter_user_token = {
    .kind = "cloudflare.user_token",
    .info = &kind_info_user_token,
    .describe = user_describe,
    .roll = user_roll,
    .verify = user_verify,
    .revoke = user_revoke,
    .provision = user_provision,
    .list = user_list,
};

const adapter adapter_account_token = {
    .kind = "cloudflare.account_token",
    .info = &kind_info_account_token,
    .describe = account_describe,
    .roll = account_roll,
    .verify = account_verify,
    .revoke = account_revoke,
    .provision = account_provision,
    .list = account_list,
};

/* ------------------------------------------------------------------------------------------- */
/* Self-description (ABI 1.1): what a host needs to drive these kinds without reading ABI.md. */

static const char *const account_env[] = {"CF_ACCOUNT_ID", "CLOUDFLARE_ACCOUNT_ID", NULL};

#define TOK_REQUEST_KEYS                                                                       \
    KI("id", "hex32", 0, ROTP_ROLE_ID, OPS_BY_ID, ROTP_OP_ROLL | ROTP_OP_REVOKE,               \
       "the token's id (32 lowercase hex); verify: the token the value must belong to"),       \
        KI_FULL("allow_self_roll", "bool", 0, ROTP_ROLE_SELF_ROLL, ROTP_OP_ROLL, 0, 0, "0",    \
                NULL, NULL, 0, 0,                                                              \
                "1 lets the management token roll itself (the instance switches to the new "   \
                "value)"),                                                                     \
        KI("secret", "token", ROTP_KEY_SECRET, ROTP_ROLE_SECRET_PART, ROTP_OP_VERIFY,          \
           ROTP_OP_VERIFY, "the token value to check"),                                        \
        KI("probe_path", "path", 0, ROTP_ROLE_PROBE, ROTP_OP_VERIFY, 0,                        \
           "a path under the API base to GET with the value as bearer, proving a permission"), \
        KI("name", "text", 0, ROTP_ROLE_NAME, ROTP_OP_PROVISION | ROTP_OP_LIST,                \
           ROTP_OP_PROVISION,                                                                  \
           "provision: the new token's name (1 to 120 characters); list: keep this name only"), \
        KI("policies", "json", 0, ROTP_ROLE_NONE, ROTP_OP_PROVISION, ROTP_OP_PROVISION,        \
           "the token's policies, a non-empty JSON array sent to Cloudflare as given"),        \
        KI_FULL("expires_on", "rfc3339", 0, ROTP_ROLE_NONE, ROTP_OP_PROVISION,                 \
                ROTP_OP_PROVISION, 1, NULL, NULL, NULL, 0, 0,                                  \
                "when the new token expires (in the future)"),                                 \
        KI_FULL("ttl_seconds", "int", 0, ROTP_ROLE_TTL, ROTP_OP_PROVISION, ROTP_OP_PROVISION,  \
                1, NULL, NULL, NULL, 60, 31536000,                                             \
                "instead of expires_on: the new token expires this many seconds from now"),    \
        KI("not_before", "rfc3339", 0, ROTP_ROLE_NONE, ROTP_OP_PROVISION, 0,                   \
           "when the new token starts to work (before expires_on)")

#define TOK_RESULT_KEYS                                                                        \
    KR("id", "hex32", 0, ROTP_ROLE_ID,                                                         \
       OPS_BY_ID | ROTP_OP_PROVISION, "the token's id"),                                       \
        KR("name", "text", 0, ROTP_ROLE_NAME, ROTP_OP_DESCRIBE | ROTP_OP_PROVISION,            \
           "the token's name"),                                                                \
        KR("status", "text", 0, ROTP_ROLE_STATUS,                                              \
           ROTP_OP_DESCRIBE | ROTP_OP_VERIFY | ROTP_OP_PROVISION,                              \
           "Cloudflare's status of the token (active, disabled, expired)"),                    \
        KR("state", "text", 0, ROTP_ROLE_STATE, ROTP_OP_VERIFY | ROTP_OP_REVOKE,               \
           "the answer of verify or revoke (see the kind's states)"),                          \
        KR("issued_on", "rfc3339", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE, "when it was issued"), \
        KR("modified_on", "rfc3339", 0, ROTP_ROLE_MODIFIED, ROTP_OP_DESCRIBE,                  \
           "when it last changed (a roll changes it)"),                                        \
        KR("last_used_on", "rfc3339", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE,                     \
           "when it was last used"),                                                           \
        KR("not_before", "rfc3339", 0, ROTP_ROLE_NONE,                                         \
           ROTP_OP_DESCRIBE | ROTP_OP_VERIFY | ROTP_OP_PROVISION, "start of validity"),        \
        KR("expires_on", "rfc3339", 0, ROTP_ROLE_EXPIRES,                                      \
           ROTP_OP_DESCRIBE | ROTP_OP_VERIFY | ROTP_OP_PROVISION, "end of validity"),          \
        KR("scopes", "text", 0, ROTP_ROLE_PERMISSIONS, ROTP_OP_DESCRIBE,                       \
           "a readable summary of the token's policies"),                                      \
        KR("secret", "token", ROTP_KEY_SECRET, ROTP_ROLE_SECRET_PART,                          \
           ROTP_OP_ROLL | ROTP_OP_PROVISION, "the new token value, shown once"),               \
        KR("rolled_at", "rfc3339", 0, ROTP_ROLE_NONE, ROTP_OP_ROLL, "when the roll happened"), \
        KR("probe_status", "int", 0, ROTP_ROLE_NONE, ROTP_OP_VERIFY,                           \
           "HTTP status of the probe_path request"),                                           \
        KR("strategy", "text", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE, "how a roll behaves"),     \
        KR("operations", "text", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE,                          \
           "comma-separated operations of the kind"),                                          \
        KR("permission_required", "text", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE,                 \
           "the permission group the management token needs"),                                \
        KR("kind", "text", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE, "the request's kind"),         \
        KR("note", "text", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE, "how an in-place roll behaves"), \
        KR("warning", "text", 0, ROTP_ROLE_WARNING, ROTP_OP_VERIFY | ROTP_OP_ROLL,             \
           "something to tell a human"),                                                       \
        KR("count", "int", 0, ROTP_ROLE_NONE, ROTP_OP_LIST, "how many tokens are listed"),     \
        KR("items", "json", 0, ROTP_ROLE_NONE, ROTP_OP_LIST,                                   \
           "a JSON array of {id, name, status, expires_on, modified_on}")

static const rotp_key_info user_request_keys[] = {TOK_REQUEST_KEYS};
static const rotp_key_info account_request_keys[] = {
    KI_FULL("account_id", "hex32", 0, ROTP_ROLE_SCOPE, OPS_ALL, OPS_ALL, 0, NULL, account_env,
            NULL, 0, 0, "the account that owns the token (32 lowercase hex)"),
    TOK_REQUEST_KEYS,
};
static const rotp_key_info tok_result_keys[] = {TOK_RESULT_KEYS};

static const rotp_part_info tok_parts[] = {
    PART("secret", ROTP_PART_SECRET | ROTP_PART_PRIMARY, NULL, "the token value"),
};
static const rotp_companion_info tok_companions[] = {
    COMPANION("EXPIRES_AT", "expires_on"),
    COMPANION("SCOPES", "scopes"),
    COMPANION("TOKEN_ID", "id"),
};
static const rotp_strategy_info tok_strategies[] = {
    STRATEGY("in-place", ROTP_STRATEGY_DEFAULT, NULL, 0, 0,
             "the value is replaced in place: the old value dies the moment the roll is answered; "
             "id, name, policies and expiry stay"),
};
static const rotp_state_info tok_states[] = {
    STATE("active", ROTP_STATE_ACCEPTED, ROTP_OP_VERIFY, "Cloudflare accepts the value"),
    STATE("invalid", ROTP_STATE_REJECTED, ROTP_OP_VERIFY,
          "Cloudflare refuses the value (401 code 1000): unknown, rolled or deleted"),
    STATE("disabled", ROTP_STATE_INACTIVE, ROTP_OP_VERIFY, "the token exists and is disabled"),
    STATE("expired", ROTP_STATE_INACTIVE, ROTP_OP_VERIFY, "the token exists and has expired"),
    STATE("revoked", ROTP_STATE_GONE, ROTP_OP_REVOKE, "the token was deleted"),
    STATE("absent", ROTP_STATE_GONE, ROTP_OP_REVOKE, "the token was already gone"),
};
/* Least privilege for a throwaway token: Zone Read on one zone the host names. */
static const char *const tok_sandbox[] = {
    "policies=[{\"effect\":\"allow\",\"permission_groups\":[{\"id\":"
    "\"c8fed203ed3043cba015a93ad1616f1f\"}],\"resources\":{"
    "\"com.cloudflare.api.account.zone.{zone_id}\":\"*\"}}]",
    "ttl_seconds=3600",
    NULL,
};

#define TOK_KIND_INFO(kind_, summary_, mgmt_, reqkeys)                                         \
    {                                                                                          \
        .struct_size = sizeof(rotp_kind_info), .ops = OPS_ALL, .kind = (kind_),                \
        .summary = (summary_), .management = (mgmt_), .nrequest_keys = COUNT_OF(reqkeys),     \
        .nresult_keys = COUNT_OF(tok_result_keys), .request_keys = (reqkeys),                  \
        .result_keys = tok_result_keys, .nparts = COUNT_OF(tok_parts),                         \
        .ncompanions = COUNT_OF(tok_companions), .parts = tok_parts,                           \
        .companions = tok_companions, .nstrategies = COUNT_OF(tok_strategies),                 \
        .nstates = COUNT_OF(tok_states), .strategies = tok_strategies, .states = tok_states,   \
        .sandbox = tok_sandbox, .cadence_days = 90, .reserved0 = 0                             \
    }

const rotp_kind_info kind_info_user_token = TOK_KIND_INFO(
    "cloudflare.user_token", "a user-owned Cloudflare API token (/user/tokens)",
    "a user API token with API Tokens Write (read operations: API Tokens Read)",
    user_request_keys);
const rotp_kind_info kind_info_account_token = TOK_KIND_INFO(
    "cloudflare.account_token",
    "an account-owned Cloudflare API token (/accounts/{account_id}/tokens)",
    "an API token with Account API Tokens Write on the account (read operations: Account API "
    "Tokens Read)",
    account_request_keys);
