/* SPDX-License-Identifier: MIT */
/* api_token.c - the adapter for Cloudflare API tokens: cloudflare.user_token (/user/tokens...)
 * and cloudflare.account_token (/accounts/{account_id}/tokens...), API-NOTES sections 2 and 3.
 *
 * Rolling an API token replaces its value in place: the old value dies the moment Cloudflare
 * answers, so the new value is handed back at once, and a failure after the roll was sent is
 * reported as OUTCOME_UNKNOWN with the advice to roll forward (the sent rule, applied by the core
 * to whatever fails). Rolling the management token itself is refused unless the request allows
 * it, and then the instance switches to the new value.
 *
 * The request was checked against the kind's description (the tables at the end) before an
 * operation runs: ids are 32 lowercase hex, times RFC 3339, and so on. What a description cannot
 * say is checked here; no value from a request is echoed into a message when it might be a
 * secret pasted into the wrong key. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "adapter.h"
#include "alloc.h"
#include "dynbuf.h"
#include "error.h"
#include "ids.h"
#include "json.h"
#include "kind_info.h"
#include "secret.h"
#include "timefmt.h"
#include "toolkit.h"

#define TOK_NAME_MAX       120        /* Cloudflare's maxLength for a token name (characters) */
#define TOK_PER_PAGE       50         /* the largest page Cloudflare serves */
#define TOK_MAX_PAGES      200        /* 10 000 tokens: far above the 500-per-account limit */
#define TOK_LIST_MAX       (1u << 20) /* bytes of the `items` JSON */
#define TOK_SCOPES_MAX     16384      /* bytes of the `scopes` text before it is cut */
#define TOK_PROBE_PATH_MAX 1024
#define TOK_PATH_MAX       256
#define TOK_WHAT_MAX       160

const char kind_name_user_token[] = "cloudflare.user_token";
const char kind_name_account_token[] = "cloudflare.account_token";

/* What one operation knows about its request: the kind, the ids and the path prefix. */
typedef struct tok_ctx {
    cf_inst *inst;
    const preq *req;
    bool account;        /* cloudflare.account_token */
    char account_id[33]; /* "" for the user kind */
    char id[33];         /* "" when the request has none */
    char base[64];       /* "/user/tokens" or "/accounts/<a>/tokens" */
    char place[64];      /* "account <a>" or "the user" */
    char object[48];     /* "token <id>", for not-found messages */
    tk_where where;
} tok_ctx;

/* Fills *c from the checked request (account_id and id have their formats already). */
static void tok_begin(cf_inst *inst, const preq *req, bool account, tok_ctx *c)
{
    size_t len = 0;
    const char *v;

    memset(c, 0, sizeof(*c));
    c->inst = inst;
    c->req = req;
    c->account = account;
    v = preq_get(req, "account_id", &len);
    if (account && v != NULL && len == 32) {
        memcpy(c->account_id, v, 32);
        snprintf(c->base, sizeof(c->base), "/accounts/%s/tokens", c->account_id);
        snprintf(c->place, sizeof(c->place), "account %s", c->account_id);
    } else {
        snprintf(c->base, sizeof(c->base), "/user/tokens");
        snprintf(c->place, sizeof(c->place), "the user");
    }
    v = preq_get(req, "id", &len);
    if (v != NULL && len == 32) {
        memcpy(c->id, v, 32);
        snprintf(c->object, sizeof(c->object), "token %s", c->id);
    }
    c->where.place = c->place;
    c->where.read_perm = account ? "Account API Tokens Read" : "API Tokens Read";
    c->where.write_perm = account ? "Account API Tokens Write" : "API Tokens Write";
}

/* A request under this context (with its not-found object). */
static tk_req tok_req(const tok_ctx *c, const char *method, const char *path, int mode,
                      const char *what)
{
    tk_req q = tk_req_make(&c->where, method, path, mode, what);

    q.object = c->object[0] != '\0' ? c->object : NULL;
    return q;
}

/* "<verb> token <id> in account <a>" / "... (user-owned)". */
static void tok_what(const tok_ctx *c, const char *verb, char *buf, size_t cap)
{
    if (c->account)
        snprintf(buf, cap, "%s%s%s in account %s", verb, c->id[0] ? " token " : "", c->id,
                 c->account_id);
    else
        snprintf(buf, cap, "%s%s%s (user-owned)", verb, c->id[0] ? " token " : "", c->id);
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
    int rc = DYNBUF_OK;
    int t = res + 1;
    bool first = true;

    if (!json_is_object(d, res))
        return dynbuf_adds(b, "?");
    for (int i = 0; rc == DYNBUF_OK && i < d->toks[res].size; i++) {
        char *key = NULL;
        int val = t + 1;

        if (json_strdup(d, t, &key) != JSON_OK)
            return DYNBUF_ENOMEM;
        if (!first)
            rc = dynbuf_adds(b, ", ");
        first = false;
        if (rc == DYNBUF_OK && json_is_object(d, val)) {
            int in = val + 1;
            for (int j = 0; rc == DYNBUF_OK && j < d->toks[val].size; j++) {
                char *ikey = NULL;
                if (json_strdup(d, in, &ikey) != JSON_OK) {
                    rotp__free(key);
                    return DYNBUF_ENOMEM;
                }
                if (j > 0)
                    rc = dynbuf_adds(b, ", ");
                if (rc == DYNBUF_OK)
                    rc = scope_resource(b, ikey);
                if (rc == DYNBUF_OK)
                    rc = dynbuf_adds(b, " in ");
                if (rc == DYNBUF_OK)
                    rc = scope_resource(b, key);
                rotp__free(ikey);
                in = json_skip(d, in + 1);
            }
        } else if (rc == DYNBUF_OK) {
            rc = scope_resource(b, key);
            if (rc == DYNBUF_OK && json_is_string(d, val) && !json_str_eq(d, val, "*")) {
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
 * DYNBUF_OK, DYNBUF_ENOMEM or DYNBUF_ETOOBIG (the text would exceed the buffer's maximum). */
static int scope_build(dynbuf *b, const json_doc *d, int pol)
{
    int rc = DYNBUF_OK;

    if (pol < 0 || !json_is_array(d, pol))
        return DYNBUF_OK;
    for (int i = 0; rc == DYNBUF_OK && i < d->toks[pol].size; i++) {
        int p = json_at(d, pol, i);
        int eff, groups, res;

        if (p < 0 || !json_is_object(d, p))
            continue;
        eff = json_get(d, p, "effect");
        groups = json_get(d, p, "permission_groups");
        res = json_get(d, p, "resources");
        if (b->len > 0)
            rc = dynbuf_adds(b, "; ");
        if (rc == DYNBUF_OK && eff >= 0 && json_str_eq(d, eff, "deny"))
            rc = dynbuf_adds(b, "deny:");
        for (int g = 0; rc == DYNBUF_OK && groups >= 0 && g < d->toks[groups].size; g++) {
            int grp = json_at(d, groups, g);
            int name = grp >= 0 ? json_get(d, grp, "name") : JSON_NONE;
            int gid = grp >= 0 ? json_get(d, grp, "id") : JSON_NONE;
            char *s = NULL;
            int t = (name >= 0 && json_is_string(d, name)) ? name : gid;

            if (g > 0)
                rc = dynbuf_adds(b, ", ");
            if (rc != DYNBUF_OK)
                break;
            if (t < 0 || !json_is_string(d, t)) {
                rc = dynbuf_adds(b, "?");
                continue;
            }
            if (json_strdup(d, t, &s) != JSON_OK)
                return DYNBUF_ENOMEM;
            rc = dynbuf_printf(b, t == name ? "%s" : "group %s", s);
            rotp__free(s);
        }
        if (rc == DYNBUF_OK)
            rc = dynbuf_adds(b, " @ ");
        if (rc == DYNBUF_OK)
            rc = scope_resources(b, d, res);
    }
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * describe
 * ------------------------------------------------------------------------------------------- */

/* describe without an id: what the kind supports, from its description; no request. */
static void tok_describe_kind(const tok_ctx *c, result_builder *rb)
{
    const rotp_kind_info *ki = c->account ? &kind_info_account_token : &kind_info_user_token;
    char ops[96];

    tk_ops_text(ki->ops, ops, sizeof(ops));
    rb_adds(rb, "kind", ki->kind);
    rb_adds(rb, "operations", ops);
    rb_adds(rb, "strategy", "in-place roll, no overlap");
    rb_adds(rb, "permission_required", c->where.write_perm);
    rb_adds(rb, "note",
            "roll replaces the value in place: the old value stops working the moment "
            "Cloudflare answers, so store the returned secret at once; after a lost answer, "
            "roll again");
}

/* Adds the token object's fields and the scopes text of its policies. */
static int32_t tok_describe_token(const tok_ctx *c, const json_doc *d, int obj, const char *what,
                                  result_builder *rb, rotp_error *err)
{
    static const char *const fields[] = {"name",         "status",     "issued_on", "modified_on",
                                         "last_used_on", "not_before", "expires_on"};
    dynbuf scopes;
    int32_t rc = ROTP_E_OK;

    if (!json_is_object(d, obj))
        return rerr_set(err, ROTP_E_PROTOCOL, "%s: the answer holds no token object", what);
    rb_adds(rb, "id", c->id);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        tk_add_member(rb, d, obj, fields[i]);
    dynbuf_init(&scopes, TOK_SCOPES_MAX);
    switch (scope_build(&scopes, d, json_get(d, obj, "policies"))) {
    case DYNBUF_OK:
        break;
    case DYNBUF_ETOOBIG: /* cut: say so rather than fail the whole describe */
        cf_log(c->inst, ROTP_LOG_WARN, "%s: scopes text cut at %u bytes", what, TOK_SCOPES_MAX);
        break;
    default:
        rc = rerr_set(err, ROTP_E_NO_MEMORY, "%s: out of memory building scopes", what);
        break;
    }
    if (rc == ROTP_E_OK)
        rb_add(rb, "scopes", scopes.data != NULL ? scopes.data : "", scopes.len, 0);
    dynbuf_free(&scopes);
    return rc;
}

/* describe: with an id, GET the token (the management token reads it) and return its fields and
 * the scopes text; without one, what the kind supports. Policies themselves are not returned. */
static int32_t tok_describe(cf_inst *inst, const preq *req, result_builder *rb, rotp_error *err,
                            bool account)
{
    tok_ctx c;
    tk_reply r;
    tk_req q;
    char path[TOK_PATH_MAX];
    char what[TOK_WHAT_MAX];
    int32_t rc;

    tok_begin(inst, req, account, &c);
    if (c.id[0] == '\0') {
        tok_describe_kind(&c, rb);
        return ROTP_E_OK;
    }
    tk_reply_init(&r);
    tok_what(&c, "describe", what, sizeof(what));
    snprintf(path, sizeof(path), "%s/%s", c.base, c.id);
    q = tok_req(&c, "GET", path, TK_READ, what);
    rc = tk_call(inst, &q, &r, err);
    if (rc == ROTP_E_OK)
        rc = tok_describe_token(&c, &r.env.doc, r.env.result, what, rb, err);
    tk_reply_free(&r);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * roll, with the self-roll guard
 * ------------------------------------------------------------------------------------------- */

#define TOK_ROLL_RECOVERY                                                                          \
    "the old value is probably already dead. The safe move is to roll again (roll forward) and "   \
    "store the value that call returns"
#define TOK_ROLL_RECOVERY_SELF                                                                     \
    TOK_ROLL_RECOVERY "; this was the management token itself: if the roll applied, this "         \
                      "instance's management value is dead too and a new one must be issued out "  \
                      "of band"

/* What the management token's prefix says it is (API-NOTES 7: every token created or rolled
 * since the scannable format carries one; older values have none). */
#define MGMT_OLD     0 /* no prefix: either family */
#define MGMT_USER    1 /* cfut_ */
#define MGMT_ACCOUNT 2 /* cfat_ */

static int mgmt_family(const cf_inst *inst)
{
    const secret_buf *m = cf_inst_mgmt(inst);

    if (m->len > 5 && memcmp(m->data, "cfut_", 5) == 0)
        return MGMT_USER;
    if (m->len > 5 && memcmp(m->data, "cfat_", 5) == 0)
        return MGMT_ACCOUNT;
    return MGMT_OLD;
}

/* GET <path> with the management token; copies result.id (32 hex) into id. */
static int32_t mgmt_verify_at(const tok_ctx *c, const char *path, char id[33], rotp_error *err)
{
    tk_reply r;
    tk_req q;
    char what[TOK_PATH_MAX + 64];
    int32_t rc;
    int t;

    tk_reply_init(&r);
    snprintf(what, sizeof(what), "learn the management token's id at %s", path);
    q = tok_req(c, "GET", path, TK_READ, what);
    q.object = NULL;
    rc = tk_call(c->inst, &q, &r, err);
    if (rc == ROTP_E_OK) {
        t = json_get(&r.env.doc, r.env.result, "id");
        if (t < 0 || json_strcpy(&r.env.doc, t, id, 33) != JSON_OK || !id_is_hex32(id, strlen(id)))
            rc = rerr_set(err, ROTP_E_PROTOCOL, "%s: verify answered without a token id", what);
    }
    tk_reply_free(&r);
    return rc;
}

/* Whether the token to roll is the management token itself. A user token is never an
 * account-owned token, nor the reverse, so a prefixed management token of the other family needs
 * no request; otherwise its id is learned once per instance and scope at the verify endpoint
 * its prefix (or, without one, the kind) points at: no request that is expected to fail, except
 * for an old unprefixed value under the account kind, which falls back to the user endpoint. */
static int32_t mgmt_is_target(const tok_ctx *c, bool *self, rotp_error *err)
{
    int fam = mgmt_family(c->inst);
    const char *scope = c->account ? c->account_id : "user";
    const char *known;
    char id[33] = "";
    char path[TOK_PATH_MAX];
    int32_t rc;

    *self = false;
    if ((c->account && fam == MGMT_USER) || (!c->account && fam == MGMT_ACCOUNT))
        return ROTP_E_OK;
    known = cf_inst_mgmt_id(c->inst, scope);
    if (known == NULL) {
        snprintf(path, sizeof(path), "%s/verify", c->base);
        rc = mgmt_verify_at(c, path, id, err);
        if (rc != ROTP_E_OK && c->account && fam == MGMT_OLD &&
            (err->http_status == 401 || err->http_status == 403))
            rc = mgmt_verify_at(c, "/user/tokens/verify", id, err);
        if (rc != ROTP_E_OK)
            return rc;
        cf_inst_set_mgmt_id(c->inst, scope, id);
        cf_log(c->inst, ROTP_LOG_DEBUG, "management token id for %s: %s", scope, id);
        known = id;
    }
    *self = strcmp(known, c->id) == 0;
    return ROTP_E_OK;
}

/* The new value in a roll's answer (a bare string). PROTOCOL when it is missing or not shaped
 * like a token, NO_MEMORY when it cannot be copied: either way after the roll, which the sent
 * rule turns into OUTCOME_UNKNOWN with the advice to roll forward. */
static int32_t tok_new_value(const tk_reply *r, const char *what, secret_buf **out, rotp_error *err)
{
    int rc;

    if (!json_is_string(&r->env.doc, r->env.result))
        return rerr_set(err, ROTP_E_PROTOCOL,
                        "%s: Cloudflare reported success but the answer holds no new value", what);
    rc = json_secretdup(&r->env.doc, r->env.result, out);
    if (rc == JSON_ENOMEM)
        return rerr_set(err, ROTP_E_NO_MEMORY, "%s: out of memory copying the new value", what);
    if (rc != JSON_OK || !secret_shape_ok((*out)->data, (*out)->len)) {
        secret_free(*out);
        *out = NULL;
        return rerr_set(err, ROTP_E_PROTOCOL,
                        "%s: Cloudflare reported success but the new value is malformed", what);
    }
    return ROTP_E_OK;
}

/* After a self-roll: the instance goes on with the new value, or the result says it cannot. */
static void tok_switch_mgmt(const tok_ctx *c, const secret_buf *fresh, const char *what,
                            result_builder *rb)
{
    rotp_error e;

    rerr_init(&e);
    if (cf_inst_set_mgmt(c->inst, fresh->data, fresh->len, &e) == ROTP_E_OK) {
        cf_log(c->inst, ROTP_LOG_INFO, "%s: the instance now uses the new management value", what);
        return;
    }
    /* The roll happened: the host must still get the new value, so this is a warning. */
    rb_adds(rb, "warning",
            "the management token was rolled but this instance could not switch to the new value "
            "(out of memory): reopen the provider with the returned secret");
    cf_log(c->inst, ROTP_LOG_WARN, "%s: could not switch to the new management value", what);
}

/* roll: PUT <base>/<id>/value with `{}` (never retried). The new value is returned at once as
 * `secret` (SECRET) with id and rolled_at. Rolling the management token itself is
 * REFUSED_BY_POLICY unless allow_self_roll; when allowed, the instance switches to the new value.
 * Any failure after the PUT went out is OUTCOME_UNKNOWN (the sent rule): roll forward. */
static int32_t tok_roll(cf_inst *inst, const preq *req, result_builder *rb, rotp_error *err,
                        bool account)
{
    tok_ctx c;
    tk_reply r;
    tk_req q;
    secret_buf *fresh = NULL;
    bool self = false;
    char path[TOK_PATH_MAX];
    char what[TOK_WHAT_MAX];
    char now[RFC3339_LEN];
    int32_t rc;

    tok_begin(inst, req, account, &c);
    tk_reply_init(&r);
    tok_what(&c, "roll", what, sizeof(what));
    rc = mgmt_is_target(&c, &self, err);
    if (rc == ROTP_E_OK && self && !preq_bool(req, "allow_self_roll"))
        rc = rerr_set(err, ROTP_E_REFUSED_BY_POLICY,
                      "%s: this is the management token itself; a lost answer would leave no "
                      "working management credential. Set allow_self_roll=1 to roll it anyway",
                      what);
    if (rc != ROTP_E_OK)
        goto out;

    snprintf(path, sizeof(path), "%s/%s/value", c.base, c.id);
    q = tok_req(&c, "PUT", path, TK_CHANGE, what);
    q.body = "{}";
    q.body_len = 2;
    q.recovery = self ? TOK_ROLL_RECOVERY_SELF : TOK_ROLL_RECOVERY;
    rc = tk_call(inst, &q, &r, err);
    if (rc == ROTP_E_OK)
        rc = tok_new_value(&r, what, &fresh, err);
    if (rc != ROTP_E_OK)
        goto out;
    cf_inst_remember(inst, fresh);
    if (rfc3339_format(cf_inst_now(inst), now, sizeof(now)) != 0)
        now[0] = '\0';
    rb_add_secret(rb, "secret", fresh);
    rb_adds(rb, "id", c.id);
    rb_adds(rb, "rolled_at", now);
    cf_log(inst, ROTP_LOG_INFO, "%s: rolled; the old value no longer works", what);
    if (self)
        tok_switch_mgmt(&c, fresh, what, rb);

out:
    if (fresh != NULL) {
        cf_inst_forget(inst, fresh);
        secret_free(fresh);
    }
    tk_reply_free(&r);
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

/* The verify state for a status Cloudflare reports of a token it knows (iam_status: active,
 * disabled, expired), or NULL for any other text, which is no documented answer. */
static const char *tok_state_of(const json_doc *d, int status)
{
    static const char *const known[] = {"active", "disabled", "expired"};

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (json_str_eq(d, status, known[i]))
            return known[i];
    }
    return NULL;
}

/* GET <base>/verify with the value as bearer. A value Cloudflare does not accept is the answer
 * state=invalid; otherwise the token's status is the state, with its id and validity. */
static int32_t tok_verify_value(const tok_ctx *c, const secret_buf *subject, const char *what,
                                result_builder *rb, const char **state, rotp_error *err)
{
    char path[TOK_PATH_MAX];
    tk_reply r;
    tk_req q;
    int32_t rc;
    int st;

    tk_reply_init(&r);
    snprintf(path, sizeof(path), "%s/verify", c->base);
    q = tok_req(c, "GET", path, TK_READ, what);
    q.subject = subject;
    q.object = NULL;
    rc = tk_call(c->inst, &q, &r, err);
    if (rc == ROTP_E_CREDENTIAL_INVALID) {
        /* 401 code 1000 "Invalid API Token", or an account token at the user endpoint */
        rerr_clear(err);
        *state = "invalid";
        cf_log(c->inst, ROTP_LOG_INFO, "%s: invalid (HTTP %ld, code %d)", what, r.resp.status,
               (int)r.env.error_code);
        rc = ROTP_E_OK;
        goto out;
    }
    if (rc == ROTP_E_PERMISSION_DENIED && !c->account)
        rerr_set(err, rc,
                 "%s: the value was refused with HTTP 403 (code %d); an account-owned token "
                 "(cfat_) must be verified with kind cloudflare.account_token",
                 what, (int)r.env.error_code);
    if (rc != ROTP_E_OK)
        goto out;
    st = json_get(&r.env.doc, r.env.result, "status");
    *state = st >= 0 ? tok_state_of(&r.env.doc, st) : NULL;
    if (*state == NULL) {
        rc = rerr_set(err, ROTP_E_PROTOCOL,
                      "%s: the answer holds no token status Cloudflare documents (active, "
                      "disabled, expired)",
                      what);
        goto out;
    }
    rb_adds(rb, "status", *state);
    tk_add_member(rb, &r.env.doc, r.env.result, "id");
    tk_add_member(rb, &r.env.doc, r.env.result, "expires_on");
    tk_add_member(rb, &r.env.doc, r.env.result, "not_before");
    if (c->id[0] != '\0' && rb_get(rb, "id") != NULL && strcmp(rb_get(rb, "id"), c->id) != 0)
        rb_addf(rb, "warning", "the value belongs to token %s, not to the requested id %s",
                rb_get(rb, "id"), c->id);
    cf_log(c->inst, ROTP_LOG_INFO, "%s: state %s", what, *state);
out:
    tk_reply_free(&r);
    return rc;
}

/* GETs probe_path with the value as bearer: 2xx keeps the state, 401 makes it invalid, 403
 * not_admitted; any other answer is an error (tk_probe_run()). */
static int32_t tok_probe(const tok_ctx *c, const secret_buf *subject, const char *what,
                         result_builder *rb, const char **state, rotp_error *err)
{
    size_t len = 0;
    const char *p = preq_get(c->req, "probe_path", &len);
    char *path = rotp__strndup(p, len);
    tk_probe pb;
    uint32_t meaning = 0;
    long status = 0;
    int32_t rc;

    if (path == NULL)
        return rerr_set(err, ROTP_E_NO_MEMORY, "%s: out of memory", what);
    memset(&pb, 0, sizeof(pb));
    pb.path = path;
    pb.bearer = subject;
    pb.what = what;
    rc = tk_probe_run(c->inst, &pb, &meaning, &status, err);
    if (rc == ROTP_E_OK) {
        rb_addf(rb, "probe_status", "%ld", status);
        if (meaning == ROTP_STATE_REJECTED)
            *state = "invalid";
        else if (meaning == ROTP_STATE_REFUSED)
            *state = "not_admitted";
    }
    rotp__free(path);
    return rc;
}

/* verify: GET <base>/verify with the given secret as bearer; an unknown or dead value is OK with
 * state=invalid, other failures (429, 5xx, TLS) stay errors. With probe_path and an active
 * value, the probe decides too. The secret is registered for redaction and wiped. */
static int32_t tok_verify(cf_inst *inst, const preq *req, result_builder *rb, rotp_error *err,
                          bool account)
{
    tok_ctx c;
    secret_buf *subject = NULL;
    const char *v, *probe, *state = NULL;
    size_t len = 0, plen = 0;
    char what[TOK_WHAT_MAX];
    int32_t rc;

    tok_begin(inst, req, account, &c);
    v = preq_get(req, "secret", &len);
    probe = preq_get(req, "probe_path", &plen);
    if (!secret_shape_ok(v, len))
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "secret: not shaped like a Cloudflare API token value");
    if (probe != NULL && !probe_path_ok(probe, plen))
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "probe_path: must be a path under api_base starting with '/', without "
                        "'..', encoded dots or slashes, a scheme, spaces or control characters");
    subject = secret_new(v, len);
    if (subject == NULL)
        return rerr_set(err, ROTP_E_NO_MEMORY, "verify: out of memory");
    cf_inst_remember(inst, subject);
    if (account)
        snprintf(what, sizeof(what), "verify a token value in account %s", c.account_id);
    else
        snprintf(what, sizeof(what), "verify a token value (user-owned)");
    rc = tok_verify_value(&c, subject, what, rb, &state, err);
    if (rc == ROTP_E_OK && probe != NULL && strcmp(state, "active") == 0)
        rc = tok_probe(&c, subject, what, rb, &state, err);
    if (rc == ROTP_E_OK)
        rb_adds(rb, "state", state);
    cf_inst_forget(inst, subject);
    secret_free(subject);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * revoke
 * ------------------------------------------------------------------------------------------- */

/* revoke: DELETE <base>/<id> (idempotent: retried). state=revoked, or state=absent when the
 * token was already gone. An answer that never came is settled by looking: gone is revoked,
 * still there (the DELETE may yet arrive) and a failed look are OUTCOME_UNKNOWN (the sent rule). */
static int32_t tok_revoke(cf_inst *inst, const preq *req, result_builder *rb, rotp_error *err,
                          bool account)
{
    tok_ctx c;
    tk_reply r;
    tk_req q;
    char path[TOK_PATH_MAX];
    char what[TOK_WHAT_MAX];
    const char *state = "revoked";
    bool gone = false;
    int32_t rc;

    tok_begin(inst, req, account, &c);
    tk_reply_init(&r);
    tok_what(&c, "revoke", what, sizeof(what));
    snprintf(path, sizeof(path), "%s/%s", c.base, c.id);
    q = tok_req(&c, "DELETE", path, TK_CHANGE_IDEM, what);
    q.recovery = "revoke again: it is safe to repeat, and a token already gone is state=absent";
    rc = tk_call(inst, &q, &r, err);
    if (rc == ROTP_E_NOT_FOUND && r.resp.status == 404) {
        /* a retry after a lost answer finds the token gone: it was this revoke that deleted it */
        state = r.resp.attempts > 1 ? "revoked" : "absent";
        rerr_clear(err);
        rc = ROTP_E_OK;
    } else if (rc != ROTP_E_OK) {
        rc = tk_settle_lost(inst, rc, path, what, &c.where, &gone, err);
    }
    tk_reply_free(&r);
    if (rc != ROTP_E_OK)
        return rc;
    rb_adds(rb, "id", c.id);
    rb_adds(rb, "state", state);
    cf_log(inst, ROTP_LOG_INFO, "%s: %s", what, state);
    return ROTP_E_OK;
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

/* The new token's validity: expires_on, or now + ttl_seconds (the description makes them one_of),
 * in the future; not_before, when given, before it. Canonical RFC 3339 texts into exp_s and
 * nbf_s ("" when absent). ROTP_E_OK or INVALID_ARGUMENT. */
static int32_t tok_validity(cf_inst *inst, const preq *req, char exp_s[RFC3339_LEN],
                            char nbf_s[RFC3339_LEN], rotp_error *err)
{
    size_t len = 0;
    const char *v = preq_get(req, "expires_on", &len);
    int64_t exp = 0, nbf = 0;

    nbf_s[0] = '\0';
    if (v != NULL)
        (void)rfc3339_parse(v, len, &exp); /* the format was checked */
    else
        exp = cf_inst_now(inst) + preq_int(req, "ttl_seconds");
    if (rfc3339_format(exp, exp_s, RFC3339_LEN) != 0)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "expires_on: out of range");
    if (exp <= cf_inst_now(inst))
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "expires_on: %s is not in the future", exp_s);
    v = preq_get(req, "not_before", &len);
    if (v == NULL)
        return ROTP_E_OK;
    if (rfc3339_parse(v, len, &nbf) != 0 || rfc3339_format(nbf, nbf_s, RFC3339_LEN) != 0)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "not_before: out of range");
    if (nbf >= exp)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "not_before: must be before expires_on");
    return ROTP_E_OK;
}

/* policies: a non-empty JSON array (each item {effect, resources, permission_groups}, which
 * Cloudflare checks). INVALID_ARGUMENT, or NO_MEMORY when it could not be parsed for lack of it. */
static int32_t tok_policies_ok(const char *pol, size_t len, rotp_error *err)
{
    json_doc d;
    int rc = json_parse(&d, pol, len);
    bool ok = rc == JSON_OK && json_is_array(&d, 0) && d.toks[0].size >= 1;

    json_free(&d);
    if (rc == JSON_ENOMEM)
        return rerr_set(err, ROTP_E_NO_MEMORY, "policies: out of memory reading them");
    if (!ok)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "policies: not a non-empty JSON array (each item: {effect, resources, "
                        "permission_groups})");
    return ROTP_E_OK;
}

/* The POST body: {name, policies (verbatim), expires_on[, not_before]}. */
static int32_t tok_provision_body(const preq *req, const char *exp_s, const char *nbf_s,
                                  dynbuf *body, rotp_error *err)
{
    size_t name_len = 0, pol_len = 0;
    const char *name = preq_get(req, "name", &name_len);
    const char *pol = preq_get(req, "policies", &pol_len);

    if (dynbuf_adds(body, "{\"name\":") != DYNBUF_OK ||
        dynbuf_json_str(body, name, name_len) != DYNBUF_OK ||
        dynbuf_adds(body, ",\"policies\":") != DYNBUF_OK ||
        dynbuf_add(body, pol, pol_len) != DYNBUF_OK ||
        dynbuf_printf(body, ",\"expires_on\":\"%s\"", exp_s) != DYNBUF_OK ||
        (nbf_s[0] != '\0' && dynbuf_printf(body, ",\"not_before\":\"%s\"", nbf_s) != DYNBUF_OK) ||
        dynbuf_adds(body, "}") != DYNBUF_OK)
        return rerr_set(err, ROTP_E_NO_MEMORY, "out of memory building the request");
    return ROTP_E_OK;
}

/* Reads the created token's id and value from the answer, and adds the result. */
static int32_t tok_created(const tok_ctx *c, const tk_reply *r, const char *exp_s, const char *what,
                           result_builder *rb, rotp_error *err)
{
    const json_doc *d = &r->env.doc;
    int res = r->env.result;
    int t = json_get(d, res, "id");
    char id[33] = "";
    secret_buf *value = NULL;
    int32_t rc = ROTP_E_OK;

    if (t < 0 || json_strcpy(d, t, id, sizeof(id)) != JSON_OK || !id_is_hex32(id, strlen(id)))
        return rerr_set(err, ROTP_E_PROTOCOL,
                        "%s: Cloudflare reported success but the answer "
                        "lacks a usable token id",
                        what);
    t = json_get(d, res, "value");
    if (t < 0 || !json_is_string(d, t))
        return rerr_set(err, ROTP_E_PROTOCOL,
                        "%s: token %s was created but the answer lacks its "
                        "value: revoke it",
                        what, id);
    if (json_secretdup(d, t, &value) == JSON_ENOMEM)
        return rerr_set(err, ROTP_E_NO_MEMORY,
                        "%s: token %s was created, and memory ran out "
                        "copying its value: revoke it",
                        what, id);
    if (value == NULL || !secret_shape_ok(value->data, value->len)) {
        rc = rerr_set(err, ROTP_E_PROTOCOL,
                      "%s: token %s was created but its value is "
                      "malformed: revoke it",
                      what, id);
        goto out;
    }
    cf_inst_remember(c->inst, value);
    rb_adds(rb, "id", id);
    tk_add_member(rb, d, res, "name");
    rb_add_secret(rb, "secret", value);
    tk_add_member(rb, d, res, "status");
    tk_add_member(rb, d, res, "expires_on");
    tk_add_member(rb, d, res, "not_before");
    if (rb_get(rb, "expires_on") == NULL)
        rb_adds(rb, "expires_on", exp_s);
    cf_inst_forget(c->inst, value);
    cf_log(c->inst, ROTP_LOG_INFO, "%s: created token %s", what, id);
out:
    secret_free(value);
    return rc;
}

/* provision: POST <base> with name, the policies verbatim (checked to be a JSON array first),
 * an expiry (expires_on or ttl_seconds, in the future) and not_before. Returns id, name, secret
 * (SECRET) and expires_on. A failure after the POST went out is OUTCOME_UNKNOWN: a token may
 * exist; list by name to find it. */
static int32_t tok_provision(cf_inst *inst, const preq *req, result_builder *rb, rotp_error *err,
                             bool account)
{
    tok_ctx c;
    tk_reply r;
    tk_req q;
    dynbuf body;
    size_t len = 0;
    const char *v;
    char exp_s[RFC3339_LEN], nbf_s[RFC3339_LEN];
    char what[TOK_WHAT_MAX];
    int32_t rc = ROTP_E_OK;

    tok_begin(inst, req, account, &c);
    v = preq_get(req, "name", &len);
    if (!name_ok(v, len))
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "name: required, 1 to %d characters, no control characters", TOK_NAME_MAX);
    v = preq_get(req, "policies", &len);
    rc = tok_policies_ok(v, len, err);
    if (rc == ROTP_E_OK)
        rc = tok_validity(inst, req, exp_s, nbf_s, err);
    if (rc != ROTP_E_OK)
        return rc;

    tk_reply_init(&r);
    dynbuf_init(&body, PARAM_VALUE_MAX * 2);
    rc = tok_provision_body(req, exp_s, nbf_s, &body, err);
    if (rc != ROTP_E_OK)
        goto out;
    tok_what(&c, "provision a token", what, sizeof(what));
    q = tok_req(&c, "POST", c.base, TK_CHANGE, what);
    q.body = body.data;
    q.body_len = body.len;
    q.recovery = "a token may have been created: list by name to find it and revoke it before "
                 "provisioning again";
    rc = tk_call(inst, &q, &r, err);
    if (rc == ROTP_E_OK)
        rc = tok_created(&c, &r, exp_s, what, rb, err);
out:
    dynbuf_free(&body);
    tk_reply_free(&r);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * list
 * ------------------------------------------------------------------------------------------- */

/* What the list visitor builds: the items JSON and their count, filtered by name. */
typedef struct tok_items {
    dynbuf json;
    size_t count;
    const char *name; /* NULL: every token */
} tok_items;

/* Appends "<sep>"key":<string or null>" for a string member of obj. A TK_DYN_* code. */
static int item_member(dynbuf *b, const json_doc *d, int obj, const char *key, bool first)
{
    int t = json_get(d, obj, key);
    char *s = NULL;
    int rc;

    rc = dynbuf_printf(b, "%s\"%s\":", first ? "" : ",", key);
    if (rc != DYNBUF_OK)
        return rc;
    if (t < 0 || !json_is_string(d, t))
        return dynbuf_adds(b, "null");
    if (json_strdup(d, t, &s) != JSON_OK)
        return DYNBUF_ENOMEM;
    rc = dynbuf_json_cstr(b, s);
    rotp__free(s);
    return rc;
}

/* A list visitor: appends {id, name, status, expires_on, modified_on} of a token object. */
static int32_t tok_visit_item(const json_doc *d, int o, void *ctx, rotp_error *err)
{
    static const char *const keys[] = {"id", "name", "status", "expires_on", "modified_on"};
    tok_items *it = ctx;
    int rc;

    if (!json_is_object(d, o))
        return ROTP_E_OK;
    if (it->name != NULL && !json_str_eq(d, json_get(d, o, "name"), it->name))
        return ROTP_E_OK;
    rc = dynbuf_adds(&it->json, it->count > 0 ? ",{" : "{");
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && rc == DYNBUF_OK; i++)
        rc = item_member(&it->json, d, o, keys[i], i == 0);
    if (rc == DYNBUF_OK)
        rc = dynbuf_adds(&it->json, "}");
    if (rc == DYNBUF_ETOOBIG)
        return rerr_set(err, ROTP_E_PROTOCOL,
                        "list tokens: more tokens than this provider lists (%u bytes); filter by "
                        "name",
                        TOK_LIST_MAX);
    if (rc != DYNBUF_OK)
        return rerr_set(err, ROTP_E_NO_MEMORY, "list tokens: out of memory");
    it->count++;
    return ROTP_E_OK;
}

/* list: every page of <base> (50 per page, at most TOK_MAX_PAGES), filtered by exact name when
 * given. Returns count and items, a JSON array of {id, name, status, expires_on, modified_on}. */
static int32_t tok_list(cf_inst *inst, const preq *req, result_builder *rb, rotp_error *err,
                        bool account)
{
    tok_ctx c;
    tok_items it;
    tk_pages pg;
    char name[4 * TOK_NAME_MAX + 1];
    char what[TOK_WHAT_MAX];
    int32_t rc;

    tok_begin(inst, req, account, &c);
    memset(&it, 0, sizeof(it));
    dynbuf_init(&it.json, TOK_LIST_MAX);
    rc = preq_str(req, "name", name, sizeof(name), err);
    if (rc == ROTP_E_OK && dynbuf_adds(&it.json, "[") != DYNBUF_OK)
        rc = rerr_set(err, ROTP_E_NO_MEMORY, "list tokens: out of memory");
    if (rc != ROTP_E_OK)
        goto out;
    it.name = name[0] != '\0' ? name : NULL;
    tok_what(&c, "list tokens", what, sizeof(what));
    memset(&pg, 0, sizeof(pg));
    pg.path = c.base;
    pg.per_page = TOK_PER_PAGE;
    pg.max_pages = TOK_MAX_PAGES;
    pg.what = what;
    pg.where = &c.where;
    rc = tk_walk(inst, &pg, tok_visit_item, &it, err);
    if (rc == ROTP_E_OK && dynbuf_adds(&it.json, "]") != DYNBUF_OK)
        rc = rerr_set(err, ROTP_E_NO_MEMORY, "list tokens: out of memory");
    if (rc != ROTP_E_OK)
        goto out;
    rb_addf(rb, "count", "%zu", it.count);
    rb_add(rb, "items", it.json.data, it.json.len, 0);
    cf_log(inst, ROTP_LOG_INFO, "%s: %zu token(s)", what, it.count);
out:
    dynbuf_free(&it.json);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * The two kinds
 * ------------------------------------------------------------------------------------------- */

#define TOK_KIND_OPS(prefix, account)                                                              \
    static int32_t prefix##_describe(cf_inst *inst, const preq *req, result_builder *rb,           \
                                     rotp_error *err)                                              \
    {                                                                                              \
        return tok_describe(inst, req, rb, err, account);                                          \
    }                                                                                              \
    static int32_t prefix##_roll(cf_inst *inst, const preq *req, result_builder *rb,               \
                                 rotp_error *err)                                                  \
    {                                                                                              \
        return tok_roll(inst, req, rb, err, account);                                              \
    }                                                                                              \
    static int32_t prefix##_verify(cf_inst *inst, const preq *req, result_builder *rb,             \
                                   rotp_error *err)                                                \
    {                                                                                              \
        return tok_verify(inst, req, rb, err, account);                                            \
    }                                                                                              \
    static int32_t prefix##_revoke(cf_inst *inst, const preq *req, result_builder *rb,             \
                                   rotp_error *err)                                                \
    {                                                                                              \
        return tok_revoke(inst, req, rb, err, account);                                            \
    }                                                                                              \
    static int32_t prefix##_provision(cf_inst *inst, const preq *req, result_builder *rb,          \
                                      rotp_error *err)                                             \
    {                                                                                              \
        return tok_provision(inst, req, rb, err, account);                                         \
    }                                                                                              \
    static int32_t prefix##_list(cf_inst *inst, const preq *req, result_builder *rb,               \
                                 rotp_error *err)                                                  \
    {                                                                                              \
        return tok_list(inst, req, rb, err, account);                                              \
    }

TOK_KIND_OPS(user, false)
TOK_KIND_OPS(account, true)

const adapter adapter_user_token = {
    .info = &kind_info_user_token,
    .describe = user_describe,
    .roll = user_roll,
    .verify = user_verify,
    .revoke = user_revoke,
    .provision = user_provision,
    .list = user_list,
};

const adapter adapter_account_token = {
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

#define TOK_REQUEST_KEYS                                                                           \
    KI("id", "hex32", 0, ROTP_ROLE_ID, OPS_BY_ID, ROTP_OP_ROLL | ROTP_OP_REVOKE,                   \
       "the token's id (32 lowercase hex); verify: the token the value must belong to"),           \
        KI_FULL("allow_self_roll", "bool", 0, ROTP_ROLE_SELF_ROLL, ROTP_OP_ROLL, 0, 0, "0", NULL,  \
                NULL, 0, 0,                                                                        \
                "1 lets the management token roll itself (the instance switches to the new "       \
                "value)"),                                                                         \
        KI("secret", "token", ROTP_KEY_SECRET, ROTP_ROLE_SECRET_PART, ROTP_OP_VERIFY,              \
           ROTP_OP_VERIFY, "the token value to check"),                                            \
        KI("probe_path", "path", 0, ROTP_ROLE_PROBE, ROTP_OP_VERIFY, 0,                            \
           "a path under the API base to GET with the value as bearer, proving a permission"),     \
        KI("name", "text", 0, ROTP_ROLE_NAME, ROTP_OP_PROVISION | ROTP_OP_LIST, ROTP_OP_PROVISION, \
           "provision: the new token's name (1 to 120 characters); list: keep this name only"),    \
        KI("policies", "json", 0, ROTP_ROLE_NONE, ROTP_OP_PROVISION, ROTP_OP_PROVISION,            \
           "the token's policies, a non-empty JSON array sent to Cloudflare as given"),            \
        KI_FULL("expires_on", "rfc3339", 0, ROTP_ROLE_NONE, ROTP_OP_PROVISION, ROTP_OP_PROVISION,  \
                1, NULL, NULL, NULL, 0, 0, "when the new token expires (in the future)"),          \
        KI_FULL("ttl_seconds", "int", 0, ROTP_ROLE_TTL, ROTP_OP_PROVISION, ROTP_OP_PROVISION, 1,   \
                NULL, NULL, NULL, 60, 31536000,                                                    \
                "instead of expires_on: the new token expires this many seconds from now"),        \
        KI("not_before", "rfc3339", 0, ROTP_ROLE_NONE, ROTP_OP_PROVISION, 0,                       \
           "when the new token starts to work (before expires_on)")

#define TOK_RESULT_KEYS                                                                            \
    KR("id", "hex32", 0, ROTP_ROLE_ID, OPS_BY_ID | ROTP_OP_PROVISION, "the token's id"),           \
        KR("name", "text", 0, ROTP_ROLE_NAME, ROTP_OP_DESCRIBE | ROTP_OP_PROVISION,                \
           "the token's name"),                                                                    \
        KR("status", "text", 0, ROTP_ROLE_STATUS,                                                  \
           ROTP_OP_DESCRIBE | ROTP_OP_VERIFY | ROTP_OP_PROVISION,                                  \
           "Cloudflare's status of the token (active, disabled, expired)"),                        \
        KR("state", "text", 0, ROTP_ROLE_STATE, ROTP_OP_VERIFY | ROTP_OP_REVOKE,                   \
           "the answer of verify or revoke (see the kind's states)"),                              \
        KR("issued_on", "rfc3339", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE, "when it was issued"),     \
        KR("modified_on", "rfc3339", 0, ROTP_ROLE_MODIFIED, ROTP_OP_DESCRIBE,                      \
           "when it last changed (a roll changes it)"),                                            \
        KR("last_used_on", "rfc3339", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE,                         \
           "when it was last used"),                                                               \
        KR("not_before", "rfc3339", 0, ROTP_ROLE_NONE,                                             \
           ROTP_OP_DESCRIBE | ROTP_OP_VERIFY | ROTP_OP_PROVISION, "start of validity"),            \
        KR("expires_on", "rfc3339", 0, ROTP_ROLE_EXPIRES,                                          \
           ROTP_OP_DESCRIBE | ROTP_OP_VERIFY | ROTP_OP_PROVISION, "end of validity"),              \
        KR("scopes", "text", 0, ROTP_ROLE_PERMISSIONS, ROTP_OP_DESCRIBE,                           \
           "a readable summary of the token's policies"),                                          \
        KR("secret", "token", ROTP_KEY_SECRET, ROTP_ROLE_SECRET_PART,                              \
           ROTP_OP_ROLL | ROTP_OP_PROVISION, "the new token value, shown once"),                   \
        KR("rolled_at", "rfc3339", 0, ROTP_ROLE_NONE, ROTP_OP_ROLL, "when the roll happened"),     \
        KR("probe_status", "int", 0, ROTP_ROLE_NONE, ROTP_OP_VERIFY,                               \
           "HTTP status of the probe_path request (2xx, 401 or 403; others are errors)"),          \
        KR("strategy", "text", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE, "how a roll behaves"),         \
        KR("operations", "text", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE,                              \
           "comma-separated operations of the kind"),                                              \
        KR("permission_required", "text", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE,                     \
           "the permission group the management token needs"),                                     \
        KR("kind", "text", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE, "the request's kind"),             \
        KR("note", "text", 0, ROTP_ROLE_NONE, ROTP_OP_DESCRIBE, "how an in-place roll behaves"),   \
        KR("warning", "text", 0, ROTP_ROLE_WARNING, ROTP_OP_VERIFY | ROTP_OP_ROLL,                 \
           "something to tell a human"),                                                           \
        KR("count", "int", 0, ROTP_ROLE_NONE, ROTP_OP_LIST, "how many tokens are listed"),         \
        KR("items", "json", 0, ROTP_ROLE_NONE, ROTP_OP_LIST,                                       \
           "a JSON array of {id, name, status, expires_on, modified_on}")

static const rotp_key_info user_request_keys[] = {TOK_REQUEST_KEYS};
static const rotp_key_info account_request_keys[] = {
    KI_FULL("account_id", "hex32", 0, ROTP_ROLE_SCOPE, OPS_ALL, OPS_ALL, 0, NULL, account_env, NULL,
            0, 0, "the account that owns the token (32 lowercase hex)"),
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
    STATE("active", ROTP_STATE_ACCEPTED, ROTP_OP_VERIFY,
          "Cloudflare accepts the value and the token is active; with probe_path, the probe "
          "answered 2xx too"),
    STATE("invalid", ROTP_STATE_REJECTED, ROTP_OP_VERIFY,
          "a definite rejection: Cloudflare refuses the value (401 code 1000: unknown, rolled or "
          "deleted), or the probe_path answered 401"),
    STATE("disabled", ROTP_STATE_INACTIVE, ROTP_OP_VERIFY, "the token exists and is disabled"),
    STATE("expired", ROTP_STATE_INACTIVE, ROTP_OP_VERIFY, "the token exists and has expired"),
    STATE("not_admitted", ROTP_STATE_REFUSED, ROTP_OP_VERIFY,
          "the value is active but the probe_path answered 403: it lacks the permission the "
          "probe needs"),
    STATE("revoked", ROTP_STATE_GONE, ROTP_OP_REVOKE,
          "the token was deleted (by this revoke, or found gone after its answer was lost)"),
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

#define TOK_KIND_INFO(kind_, summary_, mgmt_, reqkeys)                                             \
    {                                                                                              \
        .struct_size = sizeof(rotp_kind_info), .ops = OPS_ALL, .kind = (kind_),                    \
        .summary = (summary_), .management = (mgmt_), .nrequest_keys = COUNT_OF(reqkeys),          \
        .nresult_keys = COUNT_OF(tok_result_keys), .request_keys = (reqkeys),                      \
        .result_keys = tok_result_keys, .nparts = COUNT_OF(tok_parts),                             \
        .ncompanions = COUNT_OF(tok_companions), .parts = tok_parts, .companions = tok_companions, \
        .nstrategies = COUNT_OF(tok_strategies), .nstates = COUNT_OF(tok_states),                  \
        .strategies = tok_strategies, .states = tok_states, .sandbox = tok_sandbox,                \
        .cadence_days = 90, .reserved0 = 0                                                         \
    }

const rotp_kind_info kind_info_user_token = TOK_KIND_INFO(
    kind_name_user_token, "a user-owned Cloudflare API token (/user/tokens)",
    "a user API token with API Tokens Write (read operations: API Tokens Read)", user_request_keys);
const rotp_kind_info kind_info_account_token = TOK_KIND_INFO(
    kind_name_account_token,
    "an account-owned Cloudflare API token (/accounts/{account_id}/tokens)",
    "an API token with Account API Tokens Write on the account (read operations: Account API "
    "Tokens Read)",
    account_request_keys);
