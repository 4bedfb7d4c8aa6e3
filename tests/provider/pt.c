/* SPDX-License-Identifier: MIT */
/* pt.c - provider-level test support (contract in pt.h). */
#include "pt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "json.h"

#ifdef ROTP_ALLOC_HOOK
#include "alloc.h"
#endif

/* ---------------------------------------------------------------------------------------------
 * cfemu and its creds
 * ------------------------------------------------------------------------------------------- */

void pt_start(pt_env *e, const char *const *extra_args)
{
    char path[400];
    FILE *f;
    long n;

    memset(e, 0, sizeof(*e));
    assert_int_equal(cfemu_start(&e->fx, NULL, extra_args), 0);
    snprintf(path, sizeof(path), "%s/creds.env", e->fx.dir);
    f = fopen(path, "r");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    e->creds = calloc(1, (size_t)n + 1);
    assert_non_null(e->creds);
    assert_int_equal(fread(e->creds, 1, (size_t)n, f), (size_t)n);
    fclose(f);
}

void pt_stop(pt_env *e)
{
    if (e->creds != NULL) {
        memset(e->creds, 0, strlen(e->creds));
        free(e->creds);
        e->creds = NULL;
    }
    if (e->fx.pid > 0)
        assert_int_equal(cfemu_stop(&e->fx), 0);
}

const char *pt_cred(pt_env *e, const char *key)
{
    static char ring[16][PT_VAL_MAX];
    static int next;
    char *out = ring[next];
    size_t klen = strlen(key);

    next = (next + 1) % 16;
    for (const char *p = e->creds; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
        if (*p == '\n')
            p++;
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
            size_t n = strcspn(p + klen + 1, "\n");
            snprintf(out, PT_VAL_MAX, "%.*s", (int)n, p + klen + 1);
            return out;
        }
    }
    fail_msg("creds file has no %s", key);
    return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * The provider
 * ------------------------------------------------------------------------------------------- */

/* Log lines are formatted and redacted (which allocates) but go nowhere. */
static void discard_log(void *user, int32_t level, const char *msg, uint64_t len)
{
    (void)user;
    (void)level;
    (void)msg;
    (void)len;
}

static const rotp_host g_host = {sizeof(rotp_host), ROTP_LOG_DEBUG, discard_log, NULL};

const rotp_provider *pt_provider(void)
{
    rotp_error err;
    const rotp_provider *p;

    memset(&err, 0, sizeof(err));
    err.struct_size = sizeof(err);
    p = rotp_provider_entry_v1(ROTP_ABI_MINOR, &g_host, &err);
    assert_non_null(p);
    return p;
}

const rotp_kind_info *pt_kind(const char *kind)
{
    const rotp_provider *p = pt_provider();

    for (size_t i = 0; kind != NULL && p->kind_info[i] != NULL; i++) {
        if (strcmp(p->kind_info[i]->kind, kind) == 0)
            return p->kind_info[i];
    }
    return NULL;
}

uint32_t pt_op_bit(const char *op)
{
    static const struct {
        const char *name;
        uint32_t bit;
    } ops[] = {{"describe", ROTP_OP_DESCRIBE},   {"roll", ROTP_OP_ROLL},
               {"verify", ROTP_OP_VERIFY},       {"revoke", ROTP_OP_REVOKE},
               {"provision", ROTP_OP_PROVISION}, {"list", ROTP_OP_LIST}};

    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (strcmp(ops[i].name, op) == 0)
            return ops[i].bit;
    }
    fail_msg("unknown operation %s", op);
    return 0;
}

rotp_instance *pt_open(pt_env *e, const char *token, long timeout_ms, int max_retries)
{
    const rotp_provider *p = pt_provider();
    char timeout[32], retries[32];
    const char *tok = token != NULL ? token : pt_cred(e, "CFEMU_TOKEN_MGMT_VALUE");
    rotp_param cfg[] = {
        {sizeof(rotp_param), ROTP_PARAM_SECRET, "api_token", tok, strlen(tok)},
        {sizeof(rotp_param), 0, "api_base", e->fx.api_base, strlen(e->fx.api_base)},
        {sizeof(rotp_param), 0, "ca_file", e->fx.ca_file, strlen(e->fx.ca_file)},
        {sizeof(rotp_param), 0, "timeout_ms", timeout, 0},
        {sizeof(rotp_param), 0, "max_retries", retries, 0},
    };
    rotp_params config = {sizeof(config), 5, cfg};
    rotp_instance *inst = NULL;
    rotp_error err;

    snprintf(timeout, sizeof(timeout), "%ld", timeout_ms);
    snprintf(retries, sizeof(retries), "%d", max_retries);
    cfg[3].value_len = strlen(timeout);
    cfg[4].value_len = strlen(retries);
    memset(&err, 0, sizeof(err));
    err.struct_size = sizeof(err);
    if (p->open(&g_host, &config, &inst, &err) != ROTP_E_OK)
        fail_msg("open: %s", err.message);
    return inst;
}

/* Whether kind describes key as secret. */
static bool key_secret(const char *kind, const char *key)
{
    const rotp_kind_info *ki = pt_kind(kind);

    for (uint32_t i = 0; ki != NULL && i < ki->nrequest_keys; i++) {
        if (strcmp(ki->request_keys[i].key, key) == 0)
            return (ki->request_keys[i].flags & ROTP_KEY_SECRET) != 0;
    }
    return false;
}

static rotp_op_fn op_fn(const rotp_provider *p, const char *op)
{
    switch (pt_op_bit(op)) {
    case ROTP_OP_DESCRIBE:
        return p->describe;
    case ROTP_OP_ROLL:
        return p->roll;
    case ROTP_OP_VERIFY:
        return p->verify;
    case ROTP_OP_REVOKE:
        return p->revoke;
    case ROTP_OP_PROVISION:
        return p->provision;
    default:
        return p->list;
    }
}

pt_out pt_callv(rotp_instance *inst, const char *op, const char *kind, const char *const *kv)
{
    const rotp_provider *p = pt_provider();
    rotp_param items[PT_MAX_ITEMS];
    rotp_params req = {sizeof(req), 0, items};
    rotp_result res;
    pt_out o;

    memset(&o, 0, sizeof(o));
    if (kind != NULL)
        items[req.count++] = (rotp_param){sizeof(rotp_param), 0, "kind", kind, strlen(kind)};
    for (size_t i = 0; kv[i] != NULL && kv[i + 1] != NULL; i += 2)
        items[req.count++] =
            (rotp_param){sizeof(rotp_param), key_secret(kind, kv[i]) ? ROTP_PARAM_SECRET : 0, kv[i],
                         kv[i + 1], strlen(kv[i + 1])};
    memset(&res, 0, sizeof(res));
    res.struct_size = sizeof(res);
    o.err.struct_size = sizeof(o.err);
    o.rc = op_fn(p, op)(inst, &req, &res, &o.err);
    if (o.rc != ROTP_E_OK)
        assert_true(res.count == 0 && res.items == NULL);
    for (uint32_t i = 0; i < res.count && o.n < PT_MAX_ITEMS; i++) {
        const rotp_param *it =
            (const rotp_param *)((const char *)res.items + i * res.items[0].struct_size);
        o.k[o.n] = strdup(it->key);
        o.v[o.n] = strndup(it->value, (size_t)it->value_len);
        o.f[o.n] = it->flags;
        o.n++;
    }
    p->result_free(&res);
    return o;
}

pt_out pt_call(rotp_instance *inst, const char *op, const char *kind, ...)
{
    const char *kv[PT_MAX_ITEMS];
    size_t n = 0;
    va_list ap;

    va_start(ap, kind);
    for (const char *s = va_arg(ap, const char *); s != NULL && n < PT_MAX_ITEMS - 1;
         s = va_arg(ap, const char *))
        kv[n++] = s;
    va_end(ap);
    kv[n] = NULL;
    return pt_callv(inst, op, kind, kv);
}

const char *pt_get(const pt_out *o, const char *key)
{
    for (int i = 0; i < o->n; i++) {
        if (strcmp(o->k[i], key) == 0)
            return o->v[i];
    }
    return NULL;
}

void pt_free(pt_out *o)
{
    for (int i = 0; i < o->n; i++) {
        memset(o->v[i], 0, strlen(o->v[i]));
        free(o->v[i]);
        free(o->k[i]);
    }
    o->n = 0;
}

void pt_expect_ok(const pt_out *o, const char *what)
{
    if (o->rc != ROTP_E_OK)
        fail_msg("%s: code %d: %s", what, o->rc, o->err.message);
}

void pt_check_result(const char *kind, const char *op, const pt_out *o)
{
    const rotp_kind_info *ki = pt_kind(kind);
    uint32_t bit = pt_op_bit(op);

    assert_non_null(ki);
    for (int i = 0; i < o->n; i++) {
        const rotp_key_info *k = NULL;
        bool state_ok = false;

        for (uint32_t j = 0; j < ki->nresult_keys; j++) {
            if (strcmp(ki->result_keys[j].key, o->k[i]) == 0 && (ki->result_keys[j].ops & bit))
                k = &ki->result_keys[j];
        }
        if (k == NULL)
            fail_msg("%s %s: result key %s is not described for %s", kind, op, o->k[i], op);
        if (((k->flags & ROTP_KEY_SECRET) != 0) != ((o->f[i] & ROTP_PARAM_SECRET) != 0))
            fail_msg("%s %s: %s's SECRET flag differs from its description", kind, op, o->k[i]);
        if (k->role != ROTP_ROLE_STATE)
            continue;
        for (uint32_t s = 0; s < ki->nstates; s++)
            state_ok |= (ki->states[s].ops & bit) && strcmp(ki->states[s].state, o->v[i]) == 0;
        if (!state_ok)
            fail_msg("%s %s: state \"%s\" is not a described state", kind, op, o->v[i]);
    }
}

/* ---------------------------------------------------------------------------------------------
 * cfemu's control API
 * ------------------------------------------------------------------------------------------- */

void pt_fault(pt_env *e, const char *method, const char *glob, const char *kind, int status,
              int count, int delay_ms)
{
    char body[512];

    snprintf(body, sizeof(body),
             "{\"method\":\"%s\",\"path\":\"%s\",\"kind\":\"%s\",\"count\":%d,\"delay_ms\":%d,"
             "\"retry_after\":1,\"size\":1200000%s%.0d}",
             method, glob, kind, count, delay_ms, status != 0 ? ",\"status\":" : "", status);
    assert_int_equal(cfemu_fault(&e->fx, body), 0);
}

void pt_faults_clear(pt_env *e)
{
    assert_int_equal(cfemu_ctl(&e->fx, "DELETE", "/__cfemu/faults", NULL, NULL), 200);
}

void pt_log_clear(pt_env *e)
{
    assert_int_equal(cfemu_log_reset(&e->fx), 0);
}

/* GETs a control path and parses its envelope; d->toks is NULL-free on success. */
static char *ctl_json(pt_env *e, const char *path, json_doc *d, int *result)
{
    char *body = NULL;

    assert_int_equal(cfemu_ctl(&e->fx, "GET", path, NULL, &body), 200);
    assert_non_null(body);
    assert_int_equal(json_parse(d, body, strlen(body)), JSON_OK);
    *result = json_get(d, 0, "result");
    assert_true(*result >= 0);
    return body;
}

void pt_quiesce(pt_env *e)
{
    const struct timespec step = {0, 5 * 1000000L};

    for (int i = 0; i < 12000; i++) {
        json_doc d;
        int res;
        int64_t n = -1;
        char *body = ctl_json(e, "/__cfemu/stats", &d, &res);

        assert_int_equal(json_get_int64(&d, json_get(&d, res, "in_flight"), &n), JSON_OK);
        json_free(&d);
        free(body);
        assert_true(n >= 0);
        if (n == 0)
            return;
        nanosleep(&step, NULL);
    }
    fail_msg("cfemu still has a request in flight after 60 s");
}

int pt_log_count(pt_env *e, const char *method, const char *part)
{
    json_doc d;
    int res, n = 0;
    char *body = ctl_json(e, "/__cfemu/log", &d, &res);

    for (int i = 0; i < d.toks[res].size; i++) {
        int it = json_at(&d, res, i);
        char m[16] = "", p[1024] = "";

        (void)json_strcpy(&d, json_get(&d, it, "method"), m, sizeof(m));
        (void)json_strcpy(&d, json_get(&d, it, "path"), p, sizeof(p));
        if ((method == NULL || strcmp(m, method) == 0) && (part == NULL || strstr(p, part)))
            n++;
    }
    json_free(&d);
    free(body);
    return n;
}

int pt_log_failures(pt_env *e)
{
    json_doc d;
    int res, n = 0;
    char *body = ctl_json(e, "/__cfemu/log", &d, &res);

    for (int i = 0; i < d.toks[res].size; i++) {
        int64_t st = 0;

        if (json_get_int64(&d, json_get(&d, json_at(&d, res, i), "status"), &st) != JSON_OK ||
            st == 0 || st >= 400)
            n++;
    }
    json_free(&d);
    free(body);
    return n;
}

/* Looks an object up by id in one array of the state dump. */
static pt_st state_find(pt_env *e, const char *array, const char *id)
{
    json_doc d;
    int res, arr;
    char *body = ctl_json(e, "/__cfemu/state", &d, &res);
    pt_st st;

    memset(&st, 0, sizeof(st));
    arr = json_get(&d, res, array);
    for (int i = 0; arr >= 0 && i < d.toks[arr].size; i++) {
        int it = json_at(&d, arr, i), t, obj = it;
        int64_t v = 0;

        if (strcmp(array, "tokens") == 0)
            obj = json_get(&d, it, "token");
        if (!json_str_eq(&d, json_get(&d, obj, "id"), id))
            continue;
        st.exists = true;
        (void)json_strcpy(&d, json_get(&d, obj, "name"), st.name, sizeof(st.name));
        t = json_get(&d, obj, "client_secret_version");
        if (t >= 0 && json_get_int64(&d, t, &v) == JSON_OK)
            st.version = v;
        t = json_get(&d, obj, "previous_client_secret_expires_at");
        if (t >= 0 && json_is_string(&d, t))
            (void)json_strcpy(&d, t, st.prev_expires, sizeof(st.prev_expires));
    }
    json_free(&d);
    free(body);
    return st;
}

pt_st pt_state_token(pt_env *e, const char *id)
{
    return state_find(e, "tokens", id);
}

pt_st pt_state_service_token(pt_env *e, const char *id)
{
    return state_find(e, "service_tokens", id);
}

int pt_state_count_named(pt_env *e, const char *prefix)
{
    static const char *const arrays[] = {"tokens", "service_tokens"};
    json_doc d;
    int res, n = 0;
    char *body = ctl_json(e, "/__cfemu/state", &d, &res);

    for (size_t a = 0; a < 2; a++) {
        int arr = json_get(&d, res, arrays[a]);

        for (int i = 0; arr >= 0 && i < d.toks[arr].size; i++) {
            int obj = json_at(&d, arr, i);
            char name[256] = "";

            if (a == 0)
                obj = json_get(&d, obj, "token");
            (void)json_strcpy(&d, json_get(&d, obj, "name"), name, sizeof(name));
            n += strncmp(name, prefix, strlen(prefix)) == 0;
        }
    }
    json_free(&d);
    free(body);
    return n;
}

/* ---------------------------------------------------------------------------------------------
 * Group tests
 * ------------------------------------------------------------------------------------------- */

pt_env pt_genv;
static const char *g_group;
static pt_each_fn g_each;

static void group_test(void **state)
{
    rotp_instance *ci = pt_open(&pt_genv, NULL, 30000, 3);
    size_t glen = strlen(g_group);
    int serial = 0, ran = 0;

    (void)state;
    for (size_t i = 0; i < pt_nvariants; i++) {
        const pt_variant *v = &pt_variants[i];

        if (strncmp(v->name, g_group, glen) != 0 || v->name[glen] != ' ')
            continue;
        g_each(v, ci, &serial);
        ran++;
    }
    pt_provider()->close(ci);
    assert_true(ran > 0);
}

static int group_setup(void **state)
{
    static const char *const args[] = {"--rate-limit", "1000000/300", NULL};

    (void)state;
    pt_start(&pt_genv, args);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    pt_stop(&pt_genv);
    return 0;
}

int pt_group_main(int argc, char **argv, pt_each_fn each)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(group_test)};

    if (argc != 2) {
        fprintf(stderr, "usage: %s user|account|st|zone\n", argv[0]);
        return 2;
    }
    g_group = argv[1];
    g_each = each;
    return cmocka_run_group_tests_name(argv[1], tests, group_setup, group_teardown);
}
