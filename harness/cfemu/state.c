/* SPDX-License-Identifier: MIT */
/* state.c - cfemu's object model: vectors, lookups, fresh ids and secrets, JSON views. */
#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "alloc.h"
#include "ids.h"
#include "timefmt.h"

/* --- vectors ------------------------------------------------------------------------------- */

int cf_vec_push(cf_vec *v, void *p)
{
    if (v->len == v->cap) {
        size_t ncap = v->cap == 0 ? 8 : v->cap * 2;
        void **n = rotp__realloc(v->items, ncap * sizeof(*n));

        if (n == NULL)
            return -1;
        v->items = n;
        v->cap = ncap;
    }
    v->items[v->len++] = p;
    return 0;
}

void *cf_vec_remove(cf_vec *v, size_t i)
{
    void *p;

    if (i >= v->len)
        return NULL;
    p = v->items[i];
    memmove(&v->items[i], &v->items[i + 1], (v->len - i - 1) * sizeof(*v->items));
    v->len--;
    return p;
}

void cf_vec_free(cf_vec *v)
{
    if (v == NULL)
        return;
    rotp__free(v->items);
    v->items = NULL;
    v->len = v->cap = 0;
}

long state_index_of(const cf_vec *v, const void *p)
{
    for (size_t i = 0; i < v->len; i++) {
        if (v->items[i] == p)
            return (long)i;
    }
    return -1;
}

/* --- freeing ------------------------------------------------------------------------------- */

void cf_user_free(cf_user *u)
{
    if (u == NULL)
        return;
    rotp__free(u->email);
    rotp__free(u);
}

void cf_account_free(cf_account *a)
{
    if (a == NULL)
        return;
    rotp__free(a->name);
    rotp__free(a);
}

void cf_zone_free(cf_zone *z)
{
    if (z == NULL)
        return;
    rotp__free(z->name);
    rotp__free(z);
}

void cf_policy_clear(cf_policy *p)
{
    if (p == NULL)
        return;
    rotp__free(p->groups);
    for (size_t i = 0; i < p->nresources; i++) {
        cf_resource *r = &p->resources[i];

        rotp__free(r->key);
        rotp__free(r->value);
        for (size_t j = 0; j < r->ninner; j++) {
            rotp__free(r->inner_keys[j]);
            rotp__free(r->inner_vals[j]);
        }
        rotp__free(r->inner_keys);
        rotp__free(r->inner_vals);
    }
    rotp__free(p->resources);
    memset(p, 0, sizeof(*p));
}

void cf_policies_free(cf_policy *p, size_t n)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        cf_policy_clear(&p[i]);
    rotp__free(p);
}

void cf_token_free(cf_token *t)
{
    if (t == NULL)
        return;
    rotp__free(t->name);
    secret_free(t->value);
    rotp__free(t->status);
    cf_policies_free(t->policies, t->npolicies);
    rotp__free(t->condition_json);
    rotp__free(t);
}

void cf_service_token_free(cf_service_token *t)
{
    if (t == NULL)
        return;
    rotp__free(t->name);
    rotp__free(t->client_id);
    secret_free(t->client_secret);
    secret_free(t->prev_secret);
    rotp__free(t->duration);
    rotp__free(t);
}

void cf_access_group_free(cf_access_group *g)
{
    if (g == NULL)
        return;
    rotp__free(g->name);
    rotp__free(g->include);
    rotp__free(g);
}

void cf_access_app_free(cf_access_app *a)
{
    if (a == NULL)
        return;
    rotp__free(a->name);
    for (size_t i = 0; i < a->npolicies; i++) {
        rotp__free(a->policies[i].decision);
        rotp__free(a->policies[i].include);
    }
    rotp__free(a->policies);
    rotp__free(a);
}

void state_clear(cfemu_state *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->users.len; i++)
        cf_user_free(st->users.items[i]);
    for (size_t i = 0; i < st->accounts.len; i++)
        cf_account_free(st->accounts.items[i]);
    for (size_t i = 0; i < st->zones.len; i++)
        cf_zone_free(st->zones.items[i]);
    for (size_t i = 0; i < st->tokens.len; i++)
        cf_token_free(st->tokens.items[i]);
    for (size_t i = 0; i < st->service_tokens.len; i++)
        cf_service_token_free(st->service_tokens.items[i]);
    for (size_t i = 0; i < st->groups.len; i++)
        cf_access_group_free(st->groups.items[i]);
    for (size_t i = 0; i < st->apps.len; i++)
        cf_access_app_free(st->apps.items[i]);
    cf_vec_free(&st->users);
    cf_vec_free(&st->accounts);
    cf_vec_free(&st->zones);
    cf_vec_free(&st->tokens);
    cf_vec_free(&st->service_tokens);
    cf_vec_free(&st->groups);
    cf_vec_free(&st->apps);
}

/* --- lookups ------------------------------------------------------------------------------- */

/* Every object type starts with its id array, so one search serves them all. */
static void *find_by_id(const cf_vec *v, const char *id)
{
    if (id == NULL)
        return NULL;
    for (size_t i = 0; i < v->len; i++) {
        const char *oid = v->items[i];

        if (strcmp(oid, id) == 0)
            return v->items[i];
    }
    return NULL;
}

cf_user *state_user(const cfemu_state *st, const char *id)
{
    return find_by_id(&st->users, id);
}

cf_account *state_account(const cfemu_state *st, const char *id)
{
    return find_by_id(&st->accounts, id);
}

cf_zone *state_zone(const cfemu_state *st, const char *id)
{
    return find_by_id(&st->zones, id);
}

cf_token *state_token(const cfemu_state *st, const char *id)
{
    return find_by_id(&st->tokens, id);
}

cf_service_token *state_service_token(const cfemu_state *st, const char *id)
{
    return find_by_id(&st->service_tokens, id);
}

cf_access_group *state_group(const cfemu_state *st, const char *id)
{
    return find_by_id(&st->groups, id);
}

cf_access_app *state_app(const cfemu_state *st, const char *id)
{
    return find_by_id(&st->apps, id);
}

cf_token *state_token_by_value(const cfemu_state *st, const char *value, size_t len)
{
    cf_token *found = NULL;

    /* Compare against every token (no early exit) so timing says nothing about the match. */
    for (size_t i = 0; i < st->tokens.len; i++) {
        cf_token *t = st->tokens.items[i];

        if (t->value != NULL && secret_equals(t->value, value, len) && found == NULL)
            found = t;
    }
    return found;
}

cf_service_token *state_service_token_by_client_id(const cfemu_state *st, const char *client_id)
{
    if (client_id == NULL)
        return NULL;
    for (size_t i = 0; i < st->service_tokens.len; i++) {
        cf_service_token *t = st->service_tokens.items[i];

        if (t->client_id != NULL && strcmp(t->client_id, client_id) == 0)
            return t;
    }
    return NULL;
}

size_t state_count_tokens(const cfemu_state *st, cf_owner_kind kind, const char *owner_id)
{
    size_t n = 0;

    for (size_t i = 0; i < st->tokens.len; i++) {
        const cf_token *t = st->tokens.items[i];

        if (t->owner_kind == kind && strcmp(t->owner_id, owner_id) == 0)
            n++;
    }
    return n;
}

static bool rules_name_token(const cf_access_rule *rules, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++) {
        if (rules[i].kind == CF_RULE_SERVICE_TOKEN && strcmp(rules[i].id, id) == 0)
            return true;
    }
    return false;
}

bool state_service_token_referenced(const cfemu_state *st, const char *id)
{
    for (size_t i = 0; i < st->apps.len; i++) {
        const cf_access_app *a = st->apps.items[i];

        for (size_t p = 0; p < a->npolicies; p++) {
            if (rules_name_token(a->policies[p].include, a->policies[p].ninclude, id))
                return true;
        }
    }
    for (size_t i = 0; i < st->groups.len; i++) {
        const cf_access_group *g = st->groups.items[i];

        if (rules_name_token(g->include, g->ninclude, id))
            return true;
    }
    return false;
}

/* --- ids and secrets ----------------------------------------------------------------------- */

int cf_random(void *buf, size_t nbytes)
{
    unsigned char *p = buf;

    while (nbytes > 0) {
        ssize_t n = getrandom(p, nbytes, 0);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        nbytes -= (size_t)n;
    }
    return 0;
}

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = 0;
}

int cf_new_hex32(char *out)
{
    unsigned char r[16];

    if (cf_random(r, sizeof(r)) != 0)
        return -1;
    to_hex(r, sizeof(r), out);
    return 0;
}

int cf_new_uuid(char *out)
{
    unsigned char r[16];
    char hex[33];
    size_t o = 0;

    if (cf_random(r, sizeof(r)) != 0)
        return -1;
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    to_hex(r, sizeof(r), hex);
    for (size_t i = 0; i < 32; i++) {
        if (i == 8 || i == 12 || i == 16 || i == 20)
            out[o++] = '-';
        out[o++] = hex[i];
    }
    out[o] = 0;
    return 0;
}

static uint32_t crc32_text(const char *s, size_t n)
{
    uint32_t c = 0xffffffffu;

    for (size_t i = 0; i < n; i++) {
        c ^= (unsigned char)s[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

secret_buf *cf_new_token_value(const char *prefix)
{
    static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    char text[80];
    unsigned char r[40];
    size_t plen = strlen(prefix);
    size_t n = plen;
    secret_buf *out = NULL;

    if (plen > 16)
        return NULL;
    memcpy(text, prefix, plen);
    for (size_t i = 0; i < 40;) {
        if (cf_random(r, sizeof(r)) != 0)
            goto out_wipe;
        /* Rejection sampling keeps the 62 symbols equally likely. */
        for (size_t j = 0; j < sizeof(r) && i < 40; j++) {
            if (r[j] < 248) {
                text[n++] = b62[r[j] % 62];
                i++;
            }
        }
    }
    {
        uint32_t crc = crc32_text(text, n);
        static const char hex[] = "0123456789abcdef";

        for (int k = 7; k >= 0; k--) {
            text[n + (size_t)k] = hex[crc & 15];
            crc >>= 4;
        }
        n += 8;
    }
    out = secret_new(text, n);
out_wipe:
    secret_wipe(text, sizeof(text));
    secret_wipe(r, sizeof(r));
    return out;
}

secret_buf *cf_new_client_secret(void)
{
    unsigned char r[32];
    char hex[65];
    secret_buf *out = NULL;

    if (cf_random(r, sizeof(r)) == 0) {
        to_hex(r, sizeof(r), hex);
        out = secret_new(hex, 64);
    }
    secret_wipe(r, sizeof(r));
    secret_wipe(hex, sizeof(hex));
    return out;
}

/* --- JSON views ---------------------------------------------------------------------------- */

int cf_json_time(dynbuf *b, int64_t t)
{
    char buf[RFC3339_LEN];

    if (t == CF_TIME_NONE)
        return dynbuf_adds(b, "null");
    if (rfc3339_format(t, buf, sizeof(buf)) != 0)
        return dynbuf_adds(b, "null");
    return dynbuf_printf(b, "\"%s\"", buf);
}

const char *cf_token_status(const cf_token *t, int64_t now)
{
    if (t->expires_on != CF_TIME_NONE && now >= t->expires_on)
        return "expired";
    return t->status != NULL ? t->status : "active";
}

static int json_resources(dynbuf *b, const cf_policy *p)
{
    int rc = dynbuf_adds(b, "{");

    for (size_t i = 0; rc == 0 && i < p->nresources; i++) {
        const cf_resource *r = &p->resources[i];

        if (i > 0)
            rc = dynbuf_adds(b, ",");
        if (rc == 0)
            rc = dynbuf_json_cstr(b, r->key);
        if (rc == 0)
            rc = dynbuf_adds(b, ":");
        if (rc == 0 && r->value != NULL) {
            rc = dynbuf_json_cstr(b, r->value);
            continue;
        }
        if (rc == 0)
            rc = dynbuf_adds(b, "{");
        for (size_t j = 0; rc == 0 && j < r->ninner; j++) {
            if (j > 0)
                rc = dynbuf_adds(b, ",");
            if (rc == 0)
                rc = dynbuf_json_cstr(b, r->inner_keys[j]);
            if (rc == 0)
                rc = dynbuf_adds(b, ":");
            if (rc == 0)
                rc = dynbuf_json_cstr(b, r->inner_vals[j]);
        }
        if (rc == 0)
            rc = dynbuf_adds(b, "}");
    }
    if (rc == 0)
        rc = dynbuf_adds(b, "}");
    return rc;
}

int cf_json_policies(dynbuf *b, const cf_policy *p, size_t n)
{
    int rc = dynbuf_adds(b, "[");

    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = dynbuf_printf(b, "%s{\"id\":\"%s\",\"effect\":\"%s\",\"resources\":", i ? "," : "",
                           p[i].id, p[i].allow ? "allow" : "deny");
        if (rc == 0)
            rc = json_resources(b, &p[i]);
        if (rc == 0)
            rc = dynbuf_adds(b, ",\"permission_groups\":[");
        for (size_t g = 0; rc == 0 && g < p[i].ngroups; g++) {
            rc = dynbuf_printf(b, "%s{\"id\":\"%s\",\"name\":", g ? "," : "", p[i].groups[g]->id);
            if (rc == 0)
                rc = dynbuf_json_cstr(b, p[i].groups[g]->name);
            if (rc == 0)
                rc = dynbuf_adds(b, "}");
        }
        if (rc == 0)
            rc = dynbuf_adds(b, "]}");
    }
    if (rc == 0)
        rc = dynbuf_adds(b, "]");
    return rc;
}

/* Appends ,"key":"<time>" unless t is unset (the schema types these as strings, not null). */
static int json_opt_time(dynbuf *b, const char *key, int64_t t)
{
    int rc;

    if (t == CF_TIME_NONE)
        return 0;
    rc = dynbuf_printf(b, ",\"%s\":", key);
    if (rc == 0)
        rc = cf_json_time(b, t);
    return rc;
}

int cf_json_token(dynbuf *b, const cf_token *t, int64_t now)
{
    int rc = dynbuf_printf(b, "{\"id\":\"%s\",\"name\":", t->id);

    if (rc == 0)
        rc = dynbuf_json_cstr(b, t->name);
    if (rc == 0)
        rc = dynbuf_printf(b, ",\"status\":\"%s\"", cf_token_status(t, now));
    if (rc == 0)
        rc = json_opt_time(b, "issued_on", t->issued_on);
    if (rc == 0)
        rc = json_opt_time(b, "modified_on", t->modified_on);
    if (rc == 0)
        rc = json_opt_time(b, "last_used_on", t->last_used_on);
    if (rc == 0)
        rc = json_opt_time(b, "not_before", t->not_before);
    if (rc == 0)
        rc = json_opt_time(b, "expires_on", t->expires_on);
    if (rc == 0)
        rc = dynbuf_adds(b, ",\"policies\":");
    if (rc == 0)
        rc = cf_json_policies(b, t->policies, t->npolicies);
    if (rc == 0 && t->condition_json != NULL)
        rc = dynbuf_printf(b, ",\"condition\":%s", t->condition_json);
    if (rc == 0)
        rc = dynbuf_adds(b, "}");
    return rc;
}

/* --- parsing policies ---------------------------------------------------------------------- */

static cf_policy_rc perr(char *err, size_t cap, const char *msg)
{
    snprintf(err, cap, "%s", msg);
    return CF_POLICY_INVALID;
}

static cf_policy_rc parse_resources(const json_doc *doc, int obj, cf_policy *p, char *err,
                                    size_t cap)
{
    int n = doc->toks[obj].size;
    int k = obj + 1;

    if (!json_is_object(doc, obj) || n == 0)
        return perr(err, cap, "policy resources must be a non-empty object");
    p->resources = rotp__calloc((size_t)n, sizeof(*p->resources));
    if (p->resources == NULL)
        return perr(err, cap, "out of memory");
    for (int i = 0; i < n; i++, k = json_skip(doc, k + 1)) {
        cf_resource *r = &p->resources[i];
        int v = k + 1;

        p->nresources++;
        if (json_strdup(doc, k, &r->key) != 0)
            return perr(err, cap, "bad resource key");
        if (json_is_string(doc, v)) {
            if (json_strdup(doc, v, &r->value) != 0)
                return perr(err, cap, "bad resource value");
            continue;
        }
        if (!json_is_object(doc, v))
            return perr(err, cap, "a resource value must be a string or an object of strings");
        int m = doc->toks[v].size;
        int ik = v + 1;

        r->inner_keys = rotp__calloc((size_t)m + 1, sizeof(*r->inner_keys));
        r->inner_vals = rotp__calloc((size_t)m + 1, sizeof(*r->inner_vals));
        if (r->inner_keys == NULL || r->inner_vals == NULL)
            return perr(err, cap, "out of memory");
        for (int j = 0; j < m; j++, ik = json_skip(doc, ik + 1)) {
            r->ninner++;
            if (!json_is_string(doc, ik + 1))
                return perr(err, cap, "a nested resource value must be a string");
            if (json_strdup(doc, ik, &r->inner_keys[j]) != 0 ||
                json_strdup(doc, ik + 1, &r->inner_vals[j]) != 0)
                return perr(err, cap, "bad nested resource");
        }
    }
    return CF_POLICY_OK;
}

/* The scope a group object names ("scope": "...", or "scopes": ["..."]): 1 with it in buf, 0
 * when it names none, -1 when malformed. */
static int group_scope(const json_doc *doc, int g, char *buf, size_t cap)
{
    int sc = json_get(doc, g, "scope");
    int scs = json_get(doc, g, "scopes");

    if (sc >= 0 && !json_is_null(doc, sc))
        return json_is_string(doc, sc) && json_strcpy(doc, sc, buf, cap) == 0 ? 1 : -1;
    if (scs < 0 || json_is_null(doc, scs))
        return 0;
    if (!json_is_array(doc, scs) || doc->toks[scs].size != 1 ||
        json_strcpy(doc, json_at(doc, scs, 0), buf, cap) != 0)
        return -1;
    return 1;
}

/* One permission group object of a policy: by id, else by name (and scope). */
static cf_policy_rc parse_group(const json_doc *doc, int g, size_t pi, int i,
                                const cf_perm_group **out, char *err, size_t cap)
{
    int id = json_get(doc, g, "id");
    int name = json_get(doc, g, "name");
    char nm[128], scope[96];
    const char *raw;
    size_t len = 0;
    int has_scope;

    if (!json_is_object(doc, g))
        return perr(err, cap, "a permission group must be an object");
    if (id >= 0 && !json_is_null(doc, id)) {
        if (!json_is_string(doc, id))
            return perr(err, cap, "a permission group id must be a string");
        raw = json_raw(doc, id, &len);
        *out = perm_by_id(raw, len);
        if (*out != NULL)
            return CF_POLICY_OK;
        snprintf(err, cap,
                 "Permission group %.*s does not exist (policies[%zu].permission_groups[%d])",
                 (int)(len < 64 ? len : 64), raw, pi, i);
        return CF_POLICY_BAD_GROUP;
    }
    if (name < 0 || json_strcpy(doc, name, nm, sizeof(nm)) != 0)
        return perr(err, cap, "a permission group needs an id (32 hex digits)");
    has_scope = group_scope(doc, g, scope, sizeof(scope));
    if (has_scope < 0)
        return perr(err, cap, "a permission group's scope must be a string");
    switch (perm_by_name(nm, has_scope == 1 ? scope : NULL, out)) {
    case PERM_FOUND:
        return CF_POLICY_OK;
    case PERM_AMBIGUOUS:
        snprintf(err, cap,
                 "Permission group name \"%s\" exists in more than one scope: give its id, or "
                 "its scope (policies[%zu].permission_groups[%d])",
                 nm, pi, i);
        return CF_POLICY_BAD_GROUP;
    case PERM_UNKNOWN:
        break;
    }
    snprintf(err, cap,
             "Permission group \"%s\"%s%s does not exist (policies[%zu].permission_groups[%d])", nm,
             has_scope == 1 ? " in scope " : "", has_scope == 1 ? scope : "", pi, i);
    return CF_POLICY_BAD_GROUP;
}

static cf_policy_rc parse_groups(const json_doc *doc, int arr, size_t pi, cf_policy *p, char *err,
                                 size_t cap)
{
    int n;

    if (arr < 0 || !json_is_array(doc, arr) || doc->toks[arr].size == 0)
        return perr(err, cap, "policy permission_groups must be a non-empty array");
    n = doc->toks[arr].size;
    p->groups = rotp__calloc((size_t)n, sizeof(*p->groups));
    if (p->groups == NULL)
        return perr(err, cap, "out of memory");
    for (int i = 0; i < n; i++) {
        cf_policy_rc rc =
            parse_group(doc, json_at(doc, arr, i), pi, i, &p->groups[p->ngroups], err, cap);

        if (rc != CF_POLICY_OK)
            return rc;
        p->ngroups++;
    }
    return CF_POLICY_OK;
}

cf_policy_rc cf_policies_parse(const json_doc *doc, int arr, cf_policy **out, size_t *nout,
                               char *err, size_t errcap)
{
    cf_policy *ps = NULL;
    size_t n;
    cf_policy_rc rc = CF_POLICY_OK;

    *out = NULL;
    *nout = 0;
    if (arr < 0 || !json_is_array(doc, arr) || doc->toks[arr].size == 0)
        return perr(err, errcap, "policies must be a non-empty array");
    n = (size_t)doc->toks[arr].size;
    ps = rotp__calloc(n, sizeof(*ps));
    if (ps == NULL)
        return perr(err, errcap, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int p = json_at(doc, arr, (int)i);
        int id = json_get(doc, p, "id");
        int effect = json_get(doc, p, "effect");

        if (!json_is_object(doc, p)) {
            rc = perr(err, errcap, "a policy must be an object");
            break;
        }
        if (id >= 0 && !json_is_null(doc, id)) {
            if (json_strcpy(doc, id, ps[i].id, sizeof(ps[i].id)) != 0 ||
                !id_is_hex32(ps[i].id, strlen(ps[i].id))) {
                rc = perr(err, errcap, "a policy id must be 32 lowercase hex digits");
                break;
            }
        } else if (cf_new_hex32(ps[i].id) != 0) {
            rc = perr(err, errcap, "random source failed");
            break;
        }
        if (effect >= 0 && json_str_eq(doc, effect, "allow")) {
            ps[i].allow = true;
        } else if (effect >= 0 && json_str_eq(doc, effect, "deny")) {
            ps[i].allow = false;
        } else {
            rc = perr(err, errcap, "policy effect must be \"allow\" or \"deny\"");
            break;
        }
        rc = parse_groups(doc, json_get(doc, p, "permission_groups"), i, &ps[i], err, errcap);
        if (rc == 0)
            rc = parse_resources(doc, json_get(doc, p, "resources"), &ps[i], err, errcap);
    }
    if (rc != CF_POLICY_OK) {
        cf_policies_free(ps, n);
        return rc;
    }
    *out = ps;
    *nout = n;
    return CF_POLICY_OK;
}

int cf_parse_time(const json_doc *doc, int tok, int64_t *out)
{
    char buf[64];

    if (tok < 0 || json_is_null(doc, tok)) {
        *out = CF_TIME_NONE;
        return 0;
    }
    if (!json_is_string(doc, tok) || json_strcpy(doc, tok, buf, sizeof(buf)) != 0)
        return -1;
    return rfc3339_parse(buf, strlen(buf), out);
}
