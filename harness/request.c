/* SPDX-License-Identifier: MIT */
/* request.c - rotp_params building and provider calls. */
#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

void hreq_init(hreq *r)
{
    memset(r, 0, sizeof(*r));
}

static void hreq_put(hreq *r, const char *key, const char *value, size_t len, uint32_t flags)
{
    for (uint32_t i = 0; i < r->count; i++) {
        if (strcmp(r->items[i].key, key) == 0) {
            r->items[i].value = value;
            r->items[i].value_len = len;
            r->items[i].flags = flags;
            return;
        }
    }
    if (r->count >= HREQ_MAX) {
        r->overflow = true;
        return;
    }
    rotp_param *p = &r->items[r->count++];
    p->struct_size = sizeof(*p);
    p->flags = flags;
    p->key = key;
    p->value = value;
    p->value_len = len;
}

void hreq_add(hreq *r, const char *key, const char *value)
{
    hreq_put(r, key, value, strlen(value), 0);
}

void hreq_add_secret(hreq *r, const char *key, const char *value, size_t len)
{
    hreq_put(r, key, value, len, ROTP_PARAM_SECRET);
}

void hreq_add_long(hreq *r, const char *key, long v)
{
    if (r->nnum >= (int)(sizeof(r->num) / sizeof(r->num[0]))) {
        r->overflow = true;
        return;
    }
    char *buf = r->num[r->nnum++];
    snprintf(buf, sizeof(r->num[0]), "%ld", v);
    hreq_add(r, key, buf);
}

/* Before any provider is loaded: a key whose name says it holds a secret. After loading, the
 * descriptors' ROTP_KEY_SECRET flags are checked too (hreq_add_opts, prov_open). */
static bool key_is_secret(const char *key, size_t len)
{
    static const char *const words[] = {"secret", "token", "password", "passphrase"};
    char k[64];
    if (len >= sizeof(k))
        return false;
    memcpy(k, key, len);
    k[len] = '\0';
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        const char *w = strstr(k, words[i]);
        /* "token_id"-like names are ids: only a word at the end, or the whole key, counts */
        if (w != NULL && w[strlen(words[i])] == '\0')
            return true;
    }
    return false;
}

bool hreq_key_looks_secret(const char *key)
{
    return key_is_secret(key, strlen(key));
}

int hreq_add_kv(hreq *r, const char *kv, const char *flag)
{
    const char *eq = strchr(kv, '=');
    if (eq == NULL || eq == kv) {
        fprintf(stderr, "rotp-harness: %s needs KEY=VALUE, got '%s'\n", flag, kv);
        return -1;
    }
    size_t klen = (size_t)(eq - kv);
    if (key_is_secret(kv, klen)) {
        /* Print only the key: the value might be the secret the user meant to pass. */
        fprintf(stderr,
                "rotp-harness: %s refuses the key '%.*s': secrets never come from argv (use "
                "--token-file, --secret-file, --secret-env or --secret-stdin)\n",
                flag, (int)klen, kv);
        return -1;
    }
    if (strcmp(flag, "--param") == 0) {
        /* Keys with a flag of their own go through that flag, so the journal, the report and
         * the request cannot disagree about which credential is acted on. */
        static const char *const own_flag[][2] = {
            {"kind", "--kind"},
            {"id", "--id"},
            {"account_id", "--account"},
            {"zone_id", "--zone"},
            {"name", "--name"},
            {"strategy", "--strategy"},
            {"grace_seconds", "--grace"},
            {"probe_url", "--probe-url"},
            {"probe_path", "--probe-path"},
            {"run_id", "--run-id"},
            {"client_id", "--client-id"},
        };
        for (size_t i = 0; i < sizeof(own_flag) / sizeof(own_flag[0]); i++) {
            if (strlen(own_flag[i][0]) == klen && strncmp(own_flag[i][0], kv, klen) == 0) {
                fprintf(stderr, "rotp-harness: --param %s: use %s instead\n", own_flag[i][0],
                        own_flag[i][1]);
                return -1;
            }
        }
    }
    for (size_t i = 0; i < klen; i++) {
        char c = kv[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            fprintf(stderr, "rotp-harness: %s: key '%.*s' must be lowercase [a-z0-9_]\n", flag,
                    (int)klen, kv);
            return -1;
        }
    }
    if (klen >= sizeof(r->keys[0]) || r->nkeys >= HOPT_MAX_LIST) {
        fprintf(stderr, "rotp-harness: %s: key too long or too many keys\n", flag);
        return -1;
    }
    char *key = r->keys[r->nkeys++];
    memcpy(key, kv, klen);
    key[klen] = '\0';
    hreq_add(r, key, eq + 1);
    return 0;
}

rotp_params hreq_params(const hreq *r)
{
    rotp_params p;
    p.struct_size = sizeof(p);
    p.count = r->count;
    p.items = r->count > 0 ? r->items : NULL;
    return p;
}

/* The request keys that have a flag of their own (the names users know); any other key is
 * given with --param KEY=VALUE. */
static void add_flag_keys(hreq *r, const hopts *o)
{
    const char *const flag_keys[][2] = {
        {"account_id", o->account},
        {"zone_id", o->zone},
        {"probe_url", o->probe_url},
        {"probe_path", o->probe_path},
    };
    for (size_t i = 0; i < sizeof(flag_keys) / sizeof(flag_keys[0]); i++) {
        if (flag_keys[i][1] != NULL)
            hreq_add(r, flag_keys[i][0], flag_keys[i][1]);
    }
}

static const rotp_key_info *req_key_at(const rotp_kind_info *k, uint32_t i)
{
    return (const rotp_key_info *)((const char *)k->request_keys +
                                   (size_t)k->request_keys[0].struct_size * i);
}

static bool has_key(const hreq *r, const char *key)
{
    for (uint32_t i = 0; i < r->count; i++) {
        if (strcmp(r->items[i].key, key) == 0)
            return true;
    }
    return false;
}

/* True when r holds a key of the one_of group of ki other than ki. */
static bool group_taken(const hreq *r, const rotp_kind_info *k, const rotp_key_info *ki)
{
    for (uint32_t i = 0; ki->one_of != 0 && i < k->nrequest_keys; i++) {
        const rotp_key_info *q = req_key_at(k, i);
        if (q != ki && q->one_of == ki->one_of && has_key(r, q->key))
            return true;
    }
    return false;
}

/* Keys of the kind not given, from the environment variables its descriptor names. Two that
 * are set and disagree are an error naming both. 0 or -1. */
static int add_env_keys(hreq *r, const rotp_kind_info *k)
{
    for (uint32_t i = 0; k != NULL && i < k->nrequest_keys; i++) {
        const rotp_key_info *q = req_key_at(k, i);
        const char *first = NULL;
        if (q->env == NULL || has_key(r, q->key) || group_taken(r, k, q))
            continue;
        for (int e = 0; q->env[e] != NULL; e++) {
            const char *v = getenv(q->env[e]);
            if (v == NULL || v[0] == '\0')
                continue;
            if (first != NULL && strcmp(getenv(first), v) != 0) {
                fprintf(stderr,
                        "rotp-harness: $%s and $%s disagree (both give %s): unset one, or "
                        "give the value as an option\n",
                        first, q->env[e], q->key);
                return -1;
            }
            if (first == NULL) {
                first = q->env[e];
                hreq_add(r, q->key, v);
            }
        }
    }
    return 0;
}

/* Drops a key given by flag when another key of its one_of group was given too and wins by
 * being later in the group's order (a zone is narrower than an account). */
static void settle_groups(hreq *r, const rotp_kind_info *k)
{
    for (uint32_t i = 0; k != NULL && i < k->nrequest_keys; i++) {
        const rotp_key_info *q = req_key_at(k, i);
        if (q->one_of == 0 || !has_key(r, q->key))
            continue;
        for (uint32_t j = i + 1; j < k->nrequest_keys; j++) {
            const rotp_key_info *w = req_key_at(k, j);
            if (w->one_of == q->one_of && has_key(r, w->key)) {
                for (uint32_t x = 0; x < r->count; x++) {
                    if (strcmp(r->items[x].key, q->key) == 0) {
                        r->items[x] = r->items[--r->count];
                        break;
                    }
                }
                break;
            }
        }
    }
}

int hreq_add_opts(hreq *r, const hopts *o, const rotp_kind_info *k, bool with_params)
{
    add_flag_keys(r, o);
    for (int i = 0; with_params && i < o->nparams; i++) {
        if (hreq_add_kv(r, o->params[i], "--param") != 0)
            return -1;
        const char *key = r->keys[r->nkeys - 1];
        bool known = k == NULL;
        for (uint32_t j = 0; k != NULL && j < k->nrequest_keys && !known; j++)
            known = strcmp(req_key_at(k, j)->key, key) == 0;
        for (uint32_t j = 0; k != NULL && j < k->nrequest_keys; j++) {
            const rotp_key_info *q = req_key_at(k, j);
            if (strcmp(q->key, key) == 0 && (q->flags & ROTP_KEY_SECRET)) {
                fprintf(stderr,
                        "rotp-harness: --param refuses the key '%s': secrets never come "
                        "from argv (use --secret-file, --secret-env or --secret-stdin)\n",
                        key);
                return -1;
            }
        }
        if (!known) {
            fprintf(stderr,
                    "rotp-harness: --param %s: kind %s has no request key %s (see "
                    "`rotp-harness info`)\n",
                    key, k->kind, key);
            return -1;
        }
    }
    for (int i = 0; i < o->nkeyflags; i++) {
        const rotp_key_info *q = NULL;
        for (uint32_t j = 0; k != NULL && j < k->nrequest_keys && q == NULL; j++) {
            if (strcmp(req_key_at(k, j)->key, o->keyflag_key[i]) == 0)
                q = req_key_at(k, j);
        }
        if (q == NULL || (q->flags & ROTP_KEY_SECRET)) {
            fprintf(stderr, "rotp-harness: unknown option %s%s%s%s\n", o->keyflag_arg[i],
                    k != NULL ? " (kind " : "", k != NULL ? k->kind : "",
                    k != NULL ? " has no such request key; see `rotp-harness info`)" : "");
            return -1;
        }
        hreq_add(r, q->key, o->keyflag_val[i]);
    }
    settle_groups(r, k);
    return add_env_keys(r, k);
}

int32_t hcall(hprov *hp, const char *op, const hreq *req, hres *out)
{
    rotp_op_fn fn = NULL;
    rotp_params params = hreq_params(req);

    memset(out, 0, sizeof(*out));
    out->res.struct_size = sizeof(out->res);
    out->err.struct_size = sizeof(out->err);
    out->op = op;
    out->hp = hp;
    if (strcmp(op, "describe") == 0)
        fn = hp->p->describe;
    else if (strcmp(op, "roll") == 0)
        fn = hp->p->roll;
    else if (strcmp(op, "verify") == 0)
        fn = hp->p->verify;
    else if (strcmp(op, "revoke") == 0)
        fn = hp->p->revoke;
    else if (strcmp(op, "provision") == 0)
        fn = hp->p->provision;
    else if (strcmp(op, "list") == 0)
        fn = hp->p->list;
    if (fn == NULL) {
        out->code = ROTP_E_UNSUPPORTED;
        out->err.code = ROTP_E_UNSUPPORTED;
        snprintf(out->err.message, sizeof(out->err.message), "the provider does not implement %s",
                 op);
        return out->code;
    }
    out->code = fn(hp->inst, &params, &out->res, &out->err);
    if (out->code != ROTP_E_OK && out->err.code == ROTP_E_OK)
        out->err.code = out->code;
    out->err.message[sizeof(out->err.message) - 1] = '\0';
    return out->code;
}

void hres_free(hres *h)
{
    if (h == NULL || h->hp == NULL)
        return;
    h->hp->p->result_free(&h->res);
    memset(&h->res, 0, sizeof(h->res));
    h->res.struct_size = sizeof(h->res);
}

const rotp_param *hres_item(const hres *h, uint32_t i)
{
    if (h->res.items == NULL || i >= h->res.count)
        return NULL;
    uint32_t stride = h->res.items[0].struct_size;
    if (stride < sizeof(rotp_param))
        return NULL;
    return (const rotp_param *)((const char *)h->res.items + (size_t)stride * i);
}

const char *hres_get(const hres *h, const char *key, size_t *len)
{
    for (uint32_t i = 0;; i++) {
        const rotp_param *p = hres_item(h, i);
        if (p == NULL)
            return NULL;
        if (p->key != NULL && strcmp(p->key, key) == 0 && p->value != NULL) {
            if (len != NULL)
                *len = (size_t)p->value_len;
            return p->value;
        }
    }
}

void hres_copy(const hres *h, const char *key, char *buf, size_t cap)
{
    size_t len = 0;
    const char *v = hres_get(h, key, &len);
    buf[0] = '\0';
    if (v == NULL || len >= cap || cap == 0)
        return;
    memcpy(buf, v, len);
    buf[len] = '\0';
}

int items_ids(const char *items, char (*ids)[128], int max)
{
    json_doc d;
    int n = 0;
    if (items == NULL || json_parse(&d, items, strlen(items)) != JSON_OK)
        return 0;
    if (json_is_array(&d, 0)) {
        for (int i = 0; n < max; i++) {
            int e = json_at(&d, 0, i);
            if (e < 0)
                break;
            int t = json_get(&d, e, "id");
            if (t >= 0 && json_strcpy(&d, t, ids[n], sizeof(ids[0])) == 0 && ids[n][0] != '\0')
                n++;
        }
    }
    json_free(&d);
    return n;
}

const char *hreq_flag_for(const hopts *o, const char *key, char *buf, size_t cap)
{
    const char *const aliases[][3] = {{"account_id", "--account", o->account},
                                      {"zone_id", "--zone", o->zone},
                                      {"probe_url", "--probe-url", o->probe_url},
                                      {"probe_path", "--probe-path", o->probe_path}};
    size_t klen = strlen(key);
    for (int i = 0; i < o->nkeyflags; i++) {
        if (strcmp(o->keyflag_key[i], key) == 0) {
            snprintf(buf, cap, "%.*s", (int)strcspn(o->keyflag_arg[i], "="), o->keyflag_arg[i]);
            return buf;
        }
    }
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        if (strcmp(aliases[i][0], key) == 0 && aliases[i][2] != NULL) {
            snprintf(buf, cap, "%s", aliases[i][1]);
            return buf;
        }
    }
    for (int i = 0; i < o->nparams; i++) {
        if (strncmp(o->params[i], key, klen) == 0 && o->params[i][klen] == '=') {
            snprintf(buf, cap, "--param %s=...", key);
            return buf;
        }
    }
    return NULL;
}

void hreq_name_flags(const hopts *o, const char *msg, char *out, size_t cap)
{
    char flag[96];
    const char *keys[] = {"account_id", "zone_id", "probe_url", "probe_path"};
    out[0] = '\0';
    for (int i = 0; i < o->nkeyflags + o->nparams + 4; i++) {
        const char *key = i < o->nkeyflags ? o->keyflag_key[i] : NULL;
        char pk[64];
        if (key == NULL && i < o->nkeyflags + o->nparams) {
            const char *kv = o->params[i - o->nkeyflags];
            snprintf(pk, sizeof(pk), "%.*s", (int)strcspn(kv, "="), kv);
            key = pk;
        } else if (key == NULL) {
            key = keys[i - o->nkeyflags - o->nparams];
        }
        const char *hit = strstr(msg, key);
        size_t klen = strlen(key);
        bool word = hit != NULL &&
                    (hit == msg || !(hit[-1] == '_' || (hit[-1] >= 'a' && hit[-1] <= 'z'))) &&
                    !(hit[klen] == '_' || (hit[klen] >= 'a' && hit[klen] <= 'z'));
        if (word && hreq_flag_for(o, key, flag, sizeof(flag)) != NULL && strstr(out, flag) == NULL)
            snprintf(out + strlen(out), cap - strlen(out), "%s%s is %s", out[0] ? "; " : " (", key,
                     flag);
    }
    if (out[0] != '\0')
        snprintf(out + strlen(out), cap - strlen(out), ")");
}
