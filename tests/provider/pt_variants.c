/* SPDX-License-Identifier: MIT */
/* pt_variants.c - every operation variant of every kind, with its targets, its requests and the
 * check of its outcome against cfemu's state (contract in pt.h). */
#include "pt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "json.h"

#define USER "cloudflare.user_token"
#define ACCT "cloudflare.account_token"
#define AST  "cloudflare.access_service_token"
#define ID32 "????????????????????????????????"

/* One variant per entry reads better than one field per line. */
/* clang-format off */
const pt_variant pt_variants[] = {
    {"user describe", USER, "describe", false, PT_T_TOKEN, PT_C_READ, NULL, false, false,
     {"GET */user/tokens/" ID32, NULL}},
    {"user roll", USER, "roll", false, PT_T_TOKEN, PT_C_ROLL, NULL, false, false,
     {"GET */user/tokens/verify", "PUT */user/tokens/*/value", NULL}},
    {"user verify", USER, "verify", false, PT_T_TOKEN, PT_C_READ, NULL, false, false,
     {"GET */user/tokens/verify", NULL}},
    {"user verify probe", USER, "verify", false, PT_T_TOKEN, PT_C_READ, NULL, true, false,
     {"GET */user/tokens/verify", "GET */user/tokens/permission_groups", NULL}},
    {"user revoke", USER, "revoke", false, PT_T_TOKEN, PT_C_DELETE, NULL, false, false,
     {"DELETE */user/tokens/*", NULL}},
    {"user provision", USER, "provision", false, PT_T_NONE, PT_C_CREATE, NULL, false, false,
     {"POST */user/tokens", NULL}},
    {"user list", USER, "list", false, PT_T_TOKEN, PT_C_READ, NULL, false, false,
     {"GET */user/tokens", NULL}},
    {"account describe", ACCT, "describe", false, PT_T_TOKEN, PT_C_READ, NULL, false, false,
     {"GET */accounts/*/tokens/" ID32, NULL}},
    {"account roll", ACCT, "roll", false, PT_T_TOKEN, PT_C_ROLL, NULL, false, false,
     {"PUT */accounts/*/tokens/*/value", NULL}},
    {"account verify", ACCT, "verify", false, PT_T_TOKEN, PT_C_READ, NULL, false, false,
     {"GET */accounts/*/tokens/verify", NULL}},
    {"account verify probe", ACCT, "verify", false, PT_T_TOKEN, PT_C_READ, NULL, true, false,
     {"GET */accounts/*/tokens/verify", "GET */accounts/*/tokens/permission_groups", NULL}},
    {"account revoke", ACCT, "revoke", false, PT_T_TOKEN, PT_C_DELETE, NULL, false, false,
     {"DELETE */accounts/*/tokens/*", NULL}},
    {"account provision", ACCT, "provision", false, PT_T_NONE, PT_C_CREATE, NULL, false, false,
     {"POST */accounts/*/tokens", NULL}},
    {"account list", ACCT, "list", false, PT_T_TOKEN, PT_C_READ, NULL, false, false,
     {"GET */accounts/*/tokens", NULL}},
    {"st describe", AST, "describe", false, PT_T_ST, PT_C_READ, NULL, false, false,
     {"GET */access/service_tokens/*", NULL}},
    {"st roll rotate", AST, "roll", false, PT_T_ST, PT_C_ROTATE, "rotate", false, false,
     {"POST */access/service_tokens/*/rotate", NULL}},
    {"st roll create-swap-delete", AST, "roll", false, PT_T_ST, PT_C_CREATE, "create-swap-delete",
     false, false,
     {"GET */access/service_tokens/*", "GET */access/service_tokens",
      "POST */access/service_tokens", NULL}},
    {"st verify probe", AST, "verify", false, PT_T_ST, PT_C_READ, NULL, true, false,
     {"GET */access/service_tokens/*", "GET */cdn-cgi/access/probe/*", NULL}},
    {"st verify by client id", AST, "verify", false, PT_T_ST, PT_C_READ, NULL, true, true,
     {"GET */access/service_tokens", "GET */cdn-cgi/access/probe/*", NULL}},
    {"st revoke rotate", AST, "revoke", false, PT_T_ST_OVLAP, PT_C_ENDOVLAP, "rotate", false,
     false, {"GET */access/service_tokens/*", "PUT */access/service_tokens/*", NULL}},
    {"st revoke create-swap-delete", AST, "revoke", false, PT_T_ST, PT_C_DELETE,
     "create-swap-delete", false, false, {"DELETE */access/service_tokens/*", NULL}},
    {"st provision", AST, "provision", false, PT_T_NONE, PT_C_CREATE, NULL, false, false,
     {"GET */access/service_tokens", "POST */access/service_tokens", NULL}},
    {"st list", AST, "list", false, PT_T_ST, PT_C_READ, NULL, false, false,
     {"GET */access/service_tokens", NULL}},
    {"zone st describe", AST, "describe", true, PT_T_ST, PT_C_READ, NULL, false, false,
     {"GET */zones/*/access/service_tokens/*", NULL}},
    {"zone st roll", AST, "roll", true, PT_T_ST, PT_C_CREATE, NULL, false, false,
     {"GET */zones/*/access/service_tokens/*", "GET */zones/*/access/service_tokens",
      "POST */zones/*/access/service_tokens", NULL}},
    {"zone st verify probe", AST, "verify", true, PT_T_ST, PT_C_READ, NULL, true, false,
     {"GET */zones/*/access/service_tokens/*", "GET */cdn-cgi/access/probe/*", NULL}},
    {"zone st revoke", AST, "revoke", true, PT_T_ST, PT_C_DELETE, NULL, false, false,
     {"DELETE */zones/*/access/service_tokens/*", NULL}},
    {"zone st provision", AST, "provision", true, PT_T_NONE, PT_C_CREATE, NULL, false, false,
     {"GET */zones/*/access/service_tokens", "POST */zones/*/access/service_tokens", NULL}},
    {"zone st list", AST, "list", true, PT_T_ST, PT_C_READ, NULL, false, false,
     {"GET */zones/*/access/service_tokens", NULL}},
};
/* clang-format on */
const size_t pt_nvariants = sizeof(pt_variants) / sizeof(pt_variants[0]);

/* ---------------------------------------------------------------------------------------------
 * Request building
 * ------------------------------------------------------------------------------------------- */

/* A key/value list being built; values live in the list's own buffers when copied. */
typedef struct kvl {
    const char *kv[PT_MAX_ITEMS];
    size_t n;
    char own[8][4096];
    int nown;
} kvl;

static void kv_add(kvl *l, const char *k, const char *v)
{
    assert_true(l->n + 2 < PT_MAX_ITEMS);
    l->kv[l->n++] = k;
    l->kv[l->n++] = v;
    l->kv[l->n] = NULL;
}

static void kv_addf(kvl *l, const char *k, const char *fmt, const char *a, const char *b)
{
    assert_true(l->nown < 8);
    snprintf(l->own[l->nown], sizeof(l->own[0]), fmt, a, b);
    kv_add(l, k, l->own[l->nown++]);
}

static bool is_ast(const pt_variant *v)
{
    return strcmp(v->kind, AST) == 0;
}

/* The scope keys of the variant's kind. */
static void kv_scope(pt_env *e, const pt_variant *v, kvl *l)
{
    if (strcmp(v->kind, ACCT) == 0 || (is_ast(v) && !v->zone))
        kv_add(l, "account_id", pt_cred(e, "CFEMU_ACCOUNT_ID"));
    else if (is_ast(v))
        kv_add(l, "zone_id", pt_cred(e, "CFEMU_ZONE_ID"));
}

void pt_group_id(pt_env *e, const char *name, char id[33])
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[512], auth[PT_VAL_MAX + 32], *body = NULL, *enc;
    size_t blen = 0;
    FILE *mem = open_memstream(&body, &blen);
    json_doc d;
    int res, g;

    assert_non_null(c);
    enc = curl_easy_escape(c, name, 0);
    snprintf(url, sizeof(url), "%s/user/tokens/permission_groups?name=%s", e->fx.api_base, enc);
    curl_free(enc);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", pt_cred(e, "CFEMU_TOKEN_MGMT_VALUE"));
    h = curl_slist_append(h, auth);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, e->fx.ca_file);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, mem);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    fclose(mem);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    assert_int_equal(json_parse(&d, body, blen), JSON_OK);
    res = json_get(&d, 0, "result");
    g = json_at(&d, res, 0);
    assert_true(g >= 0);
    assert_int_equal(json_strcpy(&d, json_get(&d, g, "id"), id, 33), JSON_OK);
    json_free(&d);
    free(body);
}

/* Policies: Zone Read on the seed's zone, and token reads where the kind lives (so a probe of
 * .../tokens/permission_groups with the new value answers 200). */
static void policies(pt_env *e, const pt_variant *v, bool reads, char *buf, size_t cap)
{
    static char zr[33], atr[33], aatr[33];
    bool account = strcmp(v->kind, ACCT) == 0;

    if (zr[0] == '\0') {
        pt_group_id(e, "Zone Read", zr);
        pt_group_id(e, "API Tokens Read", atr);
        pt_group_id(e, "Account API Tokens Read", aatr);
    }
    snprintf(buf, cap,
             "[{\"effect\":\"allow\",\"permission_groups\":[{\"id\":\"%s\"}],\"resources\":"
             "{\"com.cloudflare.api.account.zone.%s\":\"*\"}}",
             zr, pt_cred(e, "CFEMU_ZONE_ID"));
    if (reads)
        snprintf(buf + strlen(buf), cap - strlen(buf),
                 ",{\"effect\":\"allow\",\"permission_groups\":[{\"id\":\"%s\"}],\"resources\":"
                 "{\"com.cloudflare.api.%s.%s\":\"*\"}}",
                 account ? aatr : atr, account ? "account" : "user",
                 pt_cred(e, account ? "CFEMU_ACCOUNT_ID" : "CFEMU_USER_ID"));
    snprintf(buf + strlen(buf), cap - strlen(buf), "]");
}

/* The Access application whose probe admits every token of the variant's scope. */
static void probe_url(pt_env *e, const pt_variant *v, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/cdn-cgi/access/probe/%s", e->fx.origin,
             pt_cred(e, v->zone ? "CFEMU_APP_EDGE_ID" : "CFEMU_APP_VAULT_ID"));
}

/* ---------------------------------------------------------------------------------------------
 * Targets
 * ------------------------------------------------------------------------------------------- */

static void copy_out(const pt_out *o, const char *key, char *buf, size_t cap)
{
    const char *s = pt_get(o, key);

    assert_non_null(s);
    snprintf(buf, cap, "%s", s);
}

void pt_setup(pt_env *e, rotp_instance *ci, const pt_variant *v, const char *tag, pt_target *t)
{
    char pol[2048];
    kvl l = {0};
    pt_out o;

    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "fm-%s", tag);
    if (v->target != PT_T_NONE) {
        kv_scope(e, v, &l);
        kv_add(&l, "name", t->name);
        if (is_ast(v)) {
            kv_add(&l, "run_id", tag);
        } else {
            policies(e, v, true, pol, sizeof(pol));
            kv_add(&l, "policies", pol);
            kv_add(&l, "ttl_seconds", "3600");
        }
        o = pt_callv(ci, "provision", v->kind, l.kv);
        pt_expect_ok(&o, "set up a target");
        copy_out(&o, "id", t->id, sizeof(t->id));
        copy_out(&o, is_ast(v) ? "client_secret" : "secret", t->secret, sizeof(t->secret));
        if (is_ast(v))
            copy_out(&o, "client_id", t->client_id, sizeof(t->client_id));
        pt_free(&o);
    }
    if (v->target == PT_T_ST_OVLAP) {
        l.n = 0;
        kv_scope(e, v, &l);
        kv_add(&l, "id", t->id);
        kv_add(&l, "strategy", "rotate");
        kv_add(&l, "grace_seconds", "3600");
        o = pt_callv(ci, "roll", v->kind, l.kv);
        pt_expect_ok(&o, "open the target's overlap");
        copy_out(&o, "client_secret", t->secret, sizeof(t->secret));
        pt_free(&o);
    }
    if (is_ast(v) && t->id[0] != '\0') {
        pt_st st = pt_state_service_token(e, t->id);
        t->version = st.version;
        snprintf(t->prev_expires, sizeof(t->prev_expires), "%s", st.prev_expires);
    }
    t->created_before = pt_state_count_named(e, t->name);
}

/* The keys of the variant's operation. */
static void run_keys(pt_env *e, const pt_variant *v, const pt_target *t, const char *tag, kvl *l)
{
    char pol[2048];
    bool verify = strcmp(v->op, "verify") == 0;

    kv_scope(e, v, l);
    if (strcmp(v->op, "provision") == 0) {
        kv_addf(l, "name", "%s%s", t->name, "-new");
        if (is_ast(v)) {
            kv_add(l, "run_id", tag);
        } else {
            policies(e, v, false, pol, sizeof(pol));
            kv_addf(l, "policies", "%s%s", pol, "");
            kv_add(l, "ttl_seconds", "600");
        }
        return;
    }
    if (strcmp(v->op, "list") == 0) {
        kv_add(l, is_ast(v) ? "search" : "name", t->name);
        return;
    }
    if (!(verify && v->by_client))
        kv_add(l, "id", t->id);
    if (v->strategy != NULL)
        kv_add(l, "strategy", v->strategy);
    if (strcmp(v->op, "roll") == 0 && v->change == PT_C_ROTATE)
        kv_add(l, "grace_seconds", "600");
    if (strcmp(v->op, "roll") == 0 && v->change == PT_C_CREATE)
        kv_add(l, "run_id", tag);
    if (verify && is_ast(v)) {
        kv_add(l, "client_id", t->client_id);
        kv_add(l, "client_secret", t->secret);
        if (v->probe) {
            probe_url(e, v, l->own[l->nown], sizeof(l->own[0]));
            kv_add(l, "probe_url", l->own[l->nown++]);
        }
    } else if (verify) {
        kv_add(l, "secret", t->secret);
        if (v->probe && strcmp(v->kind, ACCT) == 0)
            kv_addf(l, "probe_path", "/accounts/%s/tokens/permission_groups%s",
                    pt_cred(e, "CFEMU_ACCOUNT_ID"), "");
        else if (v->probe)
            kv_add(l, "probe_path", "/user/tokens/permission_groups");
    }
}

pt_out pt_run(pt_env *e, rotp_instance *inst, const pt_variant *v, const pt_target *t,
              const char *tag)
{
    kvl l = {0};

    run_keys(e, v, t, tag, &l);
    return pt_callv(inst, v->op, v->kind, l.kv);
}

/* The state verify answers for a secret, through the clean instance. */
static void verify_state(pt_env *e, rotp_instance *ci, const pt_variant *v, const char *id,
                         const char *client_id, const char *secret, char *state, size_t cap)
{
    char url[512];
    kvl l = {0};
    pt_out o;

    kv_scope(e, v, &l);
    if (is_ast(v)) {
        probe_url(e, v, url, sizeof(url));
        kv_add(&l, "id", id);
        kv_add(&l, "client_id", client_id);
        kv_add(&l, "client_secret", secret);
        kv_add(&l, "probe_url", url);
    } else {
        kv_add(&l, "secret", secret);
    }
    o = pt_callv(ci, "verify", v->kind, l.kv);
    pt_expect_ok(&o, "verify with the clean instance");
    snprintf(state, cap, "%s", pt_get(&o, "state"));
    pt_free(&o);
}

bool pt_applied(pt_env *e, rotp_instance *ci, const pt_variant *v, const pt_target *t,
                const char *tag)
{
    char state[64];
    pt_st st;

    (void)tag;
    switch (v->change) {
    case PT_C_ROLL:
        verify_state(e, ci, v, t->id, t->client_id, t->secret, state, sizeof(state));
        if (strcmp(state, "invalid") != 0 && strcmp(state, "active") != 0)
            fail_msg("the old value's state is %s", state);
        return strcmp(state, "invalid") == 0;
    case PT_C_ROTATE:
        return pt_state_service_token(e, t->id).version > t->version;
    case PT_C_CREATE:
        return pt_state_count_named(e, t->name) > t->created_before;
    case PT_C_DELETE:
        st = is_ast(v) ? pt_state_service_token(e, t->id) : pt_state_token(e, t->id);
        return !st.exists;
    case PT_C_ENDOVLAP:
        return strcmp(pt_state_service_token(e, t->id).prev_expires, t->prev_expires) != 0;
    default:
        return false;
    }
}

/* A read that succeeded says what is true of the target. */
static void check_read(const pt_variant *v, const pt_target *t, const pt_out *o, const char *w)
{
    const char *items = pt_get(o, "items");

    if (strcmp(v->op, "describe") == 0 && strcmp(pt_get(o, "id"), t->id) != 0)
        fail_msg("%s: describe answered for another id", w);
    if (strcmp(v->op, "verify") == 0 && strcmp(pt_get(o, "state"), "active") != 0)
        fail_msg("%s: verify says %s of a working secret", w, pt_get(o, "state"));
    if (strcmp(v->op, "list") == 0 && (items == NULL || strstr(items, t->id) == NULL))
        fail_msg("%s: list lacks the target", w);
}

/* After a change answered OK: the new secret works. */
static void check_new_secret(pt_env *e, rotp_instance *ci, const pt_variant *v, const pt_out *o,
                             const char *w)
{
    char state[64];
    const char *secret = pt_get(o, is_ast(v) ? "client_secret" : "secret");

    if (v->change != PT_C_ROLL && v->change != PT_C_ROTATE && v->change != PT_C_CREATE)
        return;
    if (secret == NULL)
        fail_msg("%s: OK without the new secret", w);
    verify_state(e, ci, v, pt_get(o, "id"), pt_get(o, "client_id"), secret, state, sizeof(state));
    if (strcmp(state, "active") != 0)
        fail_msg("%s: the new secret verifies %s", w, state);
}

void pt_check_truthful(pt_env *e, rotp_instance *ci, const pt_variant *v, const pt_target *t,
                       const pt_out *o, bool applied, const char *where)
{
    if (o->rc == ROTP_E_OUTCOME_UNKNOWN && !(o->err.flags & ROTP_ERRF_REQUEST_SENT))
        fail_msg("%s: OUTCOME_UNKNOWN without REQUEST_SENT: %s", where, o->err.message);
    /* ... and it says what to do next: the change's recovery */
    if (o->rc == ROTP_E_OUTCOME_UNKNOWN && strstr(o->err.message, "again") == NULL &&
        strstr(o->err.message, "repeat") == NULL && strstr(o->err.message, "list by name") == NULL)
        fail_msg("%s: OUTCOME_UNKNOWN without advice: %s", where, o->err.message);
    if (o->rc == ROTP_E_OK)
        pt_check_result(v->kind, v->op, o);
    if (v->change == PT_C_READ) {
        if (o->rc == ROTP_E_OUTCOME_UNKNOWN)
            fail_msg("%s: a read reported OUTCOME_UNKNOWN", where);
        if (o->rc == ROTP_E_OK)
            check_read(v, t, o, where);
        return;
    }
    if (o->rc == ROTP_E_OK && !applied)
        fail_msg("%s: OK, but cfemu shows nothing applied", where);
    if (o->rc != ROTP_E_OK && o->rc != ROTP_E_OUTCOME_UNKNOWN && applied)
        fail_msg("%s: code %d (%s) though cfemu applied the change: %s", where, o->rc,
                 pt_provider()->strerror(o->rc), o->err.message);
    if (o->rc == ROTP_E_OK)
        check_new_secret(e, ci, v, o, where);
}

/* ---------------------------------------------------------------------------------------------
 * Cleanup
 * ------------------------------------------------------------------------------------------- */

/* Revokes one object by id with the clean instance (deleting service tokens). */
static void remove_one(pt_env *e, rotp_instance *ci, const char *kind, const char *scope_key,
                       const char *scope, const char *id)
{
    pt_out o;

    (void)e;
    if (strcmp(kind, AST) == 0)
        o = pt_call(ci, "revoke", kind, scope_key, scope, "id", id, "strategy",
                    "create-swap-delete", NULL);
    else if (scope_key != NULL)
        o = pt_call(ci, "revoke", kind, scope_key, scope, "id", id, NULL);
    else
        o = pt_call(ci, "revoke", kind, "id", id, NULL);
    pt_expect_ok(&o, "clean up");
    pt_free(&o);
}

void pt_cleanup(pt_env *e, rotp_instance *ci, const pt_variant *v, const pt_target *t,
                const char *tag)
{
    char *body = NULL;
    json_doc d;
    int res, arr;

    (void)v;
    (void)tag;
    assert_int_equal(cfemu_ctl(&e->fx, "GET", "/__cfemu/state", NULL, &body), 200);
    assert_int_equal(json_parse(&d, body, strlen(body)), JSON_OK);
    res = json_get(&d, 0, "result");
    arr = json_get(&d, res, "tokens");
    for (int i = 0; arr >= 0 && i < d.toks[arr].size; i++) {
        int it = json_at(&d, arr, i), tok = json_get(&d, it, "token");
        char name[256] = "", id[40] = "", owner[64] = "";

        (void)json_strcpy(&d, json_get(&d, tok, "name"), name, sizeof(name));
        (void)json_strcpy(&d, json_get(&d, tok, "id"), id, sizeof(id));
        (void)json_strcpy(&d, json_get(&d, it, "owner"), owner, sizeof(owner));
        if (strncmp(name, t->name, strlen(t->name)) != 0)
            continue;
        if (strncmp(owner, "account:", 8) == 0)
            remove_one(e, ci, ACCT, "account_id", owner + 8, id);
        else
            remove_one(e, ci, USER, NULL, NULL, id);
    }
    arr = json_get(&d, res, "service_tokens");
    for (int i = 0; arr >= 0 && i < d.toks[arr].size; i++) {
        int it = json_at(&d, arr, i);
        char name[256] = "", id[40] = "", acct[40] = "", zone[40] = "";

        (void)json_strcpy(&d, json_get(&d, it, "name"), name, sizeof(name));
        (void)json_strcpy(&d, json_get(&d, it, "id"), id, sizeof(id));
        (void)json_strcpy(&d, json_get(&d, it, "account_id"), acct, sizeof(acct));
        (void)json_strcpy(&d, json_get(&d, it, "zone_id"), zone, sizeof(zone));
        if (strncmp(name, t->name, strlen(t->name)) != 0)
            continue;
        if (acct[0] != '\0')
            remove_one(e, ci, AST, "account_id", acct, id);
        else
            remove_one(e, ci, AST, "zone_id", zone, id);
    }
    json_free(&d);
    free(body);
    assert_int_equal(pt_state_count_named(e, t->name), 0);
}
