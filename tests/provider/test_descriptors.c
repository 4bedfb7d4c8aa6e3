/* SPDX-License-Identifier: MIT */
/* test_descriptors.c - the self-description (ABI 1.1) is the provider's rules, not prose:
 *
 * 1. the tables are well-formed: every key has a known format, a valid default, sane one_of
 *    groups and ops; parts, companions, strategies, states and sandbox entries name described
 *    keys; the kinds list and the descriptions agree;
 * 2. for every kind x operation, offline: a request with every described key is accepted (it
 *    gets past the checks to the network, which is not there), and so is one with only the
 *    required ones; dropping a required key, breaking a one_of group, giving a value out of its
 *    format, or adding any key not described for that operation is INVALID_ARGUMENT naming it;
 * 3. against cfemu: every operation variant of every kind succeeds with a result made only of
 *    keys described for it, secret ones flagged, and states that are described.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "pt.h"

static pt_env g_env;
static const char *const cfemu_args[] = {"--rate-limit", "1000000/300", NULL};

static const char *const known_formats[] = {"text",    "hex32",    "uuid", "int",  "bool",
                                            "rfc3339", "duration", "url",  "path", "json",
                                            "token",   "enum",     NULL};

/* ---------------------------------------------------------------------------------------------
 * 1. The tables
 * ------------------------------------------------------------------------------------------- */

static bool in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
        if (strcmp(list[i], s) == 0)
            return true;
    }
    return false;
}

static const rotp_key_info *find_key(const rotp_key_info *keys, uint32_t n, const char *key)
{
    for (uint32_t i = 0; i < n; i++) {
        if (strcmp(keys[i].key, key) == 0)
            return &keys[i];
    }
    return NULL;
}

/* One array of keys: sizes, names, formats, defaults, ranges, ops, one_of groups. */
static void check_keys(const char *what, const rotp_key_info *keys, uint32_t n, uint32_t kind_ops)
{
    for (uint32_t i = 0; i < n; i++) {
        const rotp_key_info *k = &keys[i];
        uint32_t group = 0;

        assert_int_equal(k->struct_size, sizeof(rotp_key_info));
        if (k->key == NULL || !in_list(known_formats, k->format) || k->summary == NULL ||
            k->summary[0] == '\0')
            fail_msg("%s: key %u lacks a name, a known format or a summary", what, i);
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(keys[j].key, k->key) == 0)
                fail_msg("%s: %s described twice", what, k->key);
        }
        if ((k->ops & ~kind_ops) != 0 || (k->required_ops & ~k->ops & ~ROTP_KEY_REQUIRED_CONFIG))
            fail_msg("%s: %s: ops beyond the kind's, or required where not taken", what, k->key);
        if ((strcmp(k->format, "enum") == 0) != (k->choices != NULL))
            fail_msg("%s: %s: choices go with format enum", what, k->key);
        if (k->default_value != NULL &&
            !params_format_ok(k->format, k->default_value, strlen(k->default_value), k->min_value,
                              k->max_value, k->choices))
            fail_msg("%s: %s: the default is not a valid value", what, k->key);
        for (size_t e = 0; k->env != NULL && e < 8 && k->env[e] != NULL; e++)
            assert_true(k->env[e][0] != '\0');
        for (uint32_t j = 0; k->one_of != 0 && j < n; j++)
            group += keys[j].one_of == k->one_of;
        if (k->one_of != 0 && group < 2)
            fail_msg("%s: %s: a one_of group of one", what, k->key);
    }
}

/* Whether some kind of the provider describes request key `key` (a sandbox placeholder names
 * one: the host supplies a value of that key's format). */
static bool provider_key(const char *key)
{
    const rotp_provider *p = pt_provider();

    for (size_t k = 0; p->kind_info[k] != NULL; k++) {
        if (find_key(p->kind_info[k]->request_keys, p->kind_info[k]->nrequest_keys, key) != NULL)
            return true;
    }
    return false;
}

/* Within one array a role is played by one key, except SCOPE and SECRET_PART (ABI.md 15.3). */
static void check_roles(const char *what, const rotp_key_info *keys, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = keys[i].role;

        if (r > ROTP_ROLE_TIMEOUT)
            fail_msg("%s: %s has an unknown role %u", what, keys[i].key, r);
        if (r == ROTP_ROLE_NONE || r == ROTP_ROLE_SCOPE || r == ROTP_ROLE_SECRET_PART)
            continue;
        for (uint32_t j = 0; j < i; j++) {
            if (keys[j].role == r)
                fail_msg("%s: %s and %s play the same role", what, keys[j].key, keys[i].key);
        }
    }
}

/* Substitutes sample values for {key} placeholders (any hex32, for the checks here). */
static void fill_placeholders(const char *in, char *out, size_t cap)
{
    size_t n = 0;

    for (const char *p = in; *p != '\0' && n + 40 < cap; p++) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;

        if (close != NULL && close - p > 1 &&
            strspn(p + 1, "abcdefghijklmnopqrstuvwxyz_") == (size_t)(close - p - 1)) {
            n += (size_t)snprintf(out + n, cap - n, "023e105f4ecef8ad9ca31a8372d0c353");
            p = close;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

static void check_sandbox(const rotp_kind_info *ki)
{
    for (size_t i = 0; ki->sandbox != NULL && ki->sandbox[i] != NULL; i++) {
        const char *eq = strchr(ki->sandbox[i], '=');
        char key[64], value[4096];
        const rotp_key_info *k;

        assert_non_null(eq);
        snprintf(key, sizeof(key), "%.*s", (int)(eq - ki->sandbox[i]), ki->sandbox[i]);
        k = find_key(ki->request_keys, ki->nrequest_keys, key);
        if (k == NULL || !(k->ops & ROTP_OP_PROVISION))
            fail_msg("%s: sandbox key %s is no provision key", ki->kind, key);
        for (const char *p = strchr(eq, '{'); p != NULL; p = strchr(p + 1, '{')) {
            char ph[64];
            size_t len = strcspn(p + 1, "}");
            snprintf(ph, sizeof(ph), "%.*s", (int)len, p + 1);
            if (strspn(ph, "abcdefghijklmnopqrstuvwxyz_") == len && len > 0 && !provider_key(ph))
                fail_msg("%s: sandbox placeholder {%s} names no request key of the provider",
                         ki->kind, ph);
        }
        fill_placeholders(eq + 1, value, sizeof(value));
        if (!params_format_ok(k->format, value, strlen(value), k->min_value, k->max_value,
                              k->choices))
            fail_msg("%s: sandbox value of %s is not a valid %s", ki->kind, key, k->format);
    }
}

static void check_parts_and_companions(const rotp_kind_info *ki)
{
    uint32_t primary = 0;

    for (uint32_t i = 0; i < ki->nparts; i++) {
        const rotp_part_info *p = &ki->parts[i];
        const rotp_key_info *res = find_key(ki->result_keys, ki->nresult_keys, p->key);
        const rotp_key_info *req = find_key(ki->request_keys, ki->nrequest_keys, p->key);
        bool secret = (p->flags & ROTP_PART_SECRET) != 0;

        assert_int_equal(p->struct_size, sizeof(*p));
        primary += (p->flags & ROTP_PART_PRIMARY) != 0;
        if (res == NULL || !(res->ops & (ROTP_OP_ROLL | ROTP_OP_PROVISION)) || req == NULL ||
            !(req->ops & ROTP_OP_VERIFY) || req->role != ROTP_ROLE_SECRET_PART)
            fail_msg("%s: part %s is not a roll result and a verify request key", ki->kind, p->key);
        if (secret != ((res->flags & ROTP_KEY_SECRET) != 0) ||
            secret != ((req->flags & ROTP_KEY_SECRET) != 0))
            fail_msg("%s: part %s: its SECRET flag disagrees with its keys", ki->kind, p->key);
    }
    assert_int_equal(primary, 1);
    for (uint32_t i = 0; i < ki->ncompanions; i++) {
        const rotp_key_info *res =
            find_key(ki->result_keys, ki->nresult_keys, ki->companions[i].key);
        if (res == NULL || !(res->ops & (ROTP_OP_ROLL | ROTP_OP_DESCRIBE)) ||
            (res->flags & ROTP_KEY_SECRET))
            fail_msg("%s: companion %s is no roll/describe result", ki->kind,
                     ki->companions[i].key);
    }
}

static void check_strategies_and_states(const rotp_kind_info *ki)
{
    const rotp_key_info *sk = NULL;
    bool state_key = false, def = false;

    for (uint32_t i = 0; i < ki->nrequest_keys; i++) {
        if (ki->request_keys[i].role == ROTP_ROLE_STRATEGY)
            sk = &ki->request_keys[i];
    }
    for (uint32_t i = 0; i < ki->nstrategies; i++) {
        const rotp_strategy_info *s = &ki->strategies[i];

        assert_int_equal(s->struct_size, sizeof(*s));
        def |= (s->flags & ROTP_STRATEGY_DEFAULT) != 0;
        if (s->requires_key != NULL &&
            find_key(ki->request_keys, ki->nrequest_keys, s->requires_key) == NULL)
            fail_msg("%s: strategy %s requires an undescribed key", ki->kind, s->name);
        if (sk != NULL && !in_list(sk->choices, s->name))
            fail_msg("%s: strategy %s is not a choice of %s", ki->kind, s->name, sk->key);
    }
    assert_true(def);
    assert_true(sk != NULL || ki->nstrategies == 1);
    for (uint32_t i = 0; i < ki->nresult_keys; i++)
        state_key |= ki->result_keys[i].role == ROTP_ROLE_STATE;
    assert_true(state_key);
    for (uint32_t i = 0; i < ki->nstates; i++) {
        const rotp_state_info *s = &ki->states[i];

        assert_int_equal(s->struct_size, sizeof(*s));
        if (s->meaning < ROTP_STATE_ACCEPTED || s->meaning > ROTP_STATE_GONE || s->ops == 0 ||
            (s->ops & ~(ROTP_OP_VERIFY | ROTP_OP_REVOKE)) != 0 || s->state[0] == '\0')
            fail_msg("%s: state %u is malformed", ki->kind, i);
        if ((s->meaning == ROTP_STATE_GONE) != (s->ops == ROTP_OP_REVOKE))
            fail_msg("%s: state %s: GONE is revoke's meaning, the others verify's", ki->kind,
                     s->state);
    }
}

static void test_tables_are_well_formed(void **state)
{
    const rotp_provider *p = pt_provider();
    size_t n = 0;

    (void)state;
    assert_true(ROTP_HAS_FIELD(p, rotp_provider, kind_info));
    assert_int_equal(p->abi_minor, ROTP_ABI_MINOR);
    assert_true(ROTP_HAS_FIELD(p, rotp_provider, set_wait) && p->set_wait != NULL);
    check_keys("config", p->config_keys, p->nconfig_keys, 0);
    check_roles("config", p->config_keys, p->nconfig_keys);
    assert_non_null(find_key(p->config_keys, p->nconfig_keys, "api_token"));
    assert_true(find_key(p->config_keys, p->nconfig_keys, "api_token")->required_ops &
                ROTP_KEY_REQUIRED_CONFIG);
    for (; p->kinds[n] != NULL; n++) {
        const rotp_kind_info *ki = p->kind_info[n];

        assert_non_null(ki);
        assert_int_equal(ki->struct_size, sizeof(*ki));
        assert_string_equal(ki->kind, p->kinds[n]);
        assert_true((ki->ops & ROTP_OP_DESCRIBE) && (ki->ops & ROTP_OP_ROLL));
        check_keys(ki->kind, ki->request_keys, ki->nrequest_keys, ki->ops);
        check_keys(ki->kind, ki->result_keys, ki->nresult_keys, ki->ops);
        check_roles(ki->kind, ki->request_keys, ki->nrequest_keys);
        check_roles(ki->kind, ki->result_keys, ki->nresult_keys);
        check_parts_and_companions(ki);
        check_strategies_and_states(ki);
        check_sandbox(ki);
        assert_int_equal(ki->cadence_days, 90);
    }
    assert_null(p->kind_info[n]);
    assert_true(n >= 3);
}

/* ---------------------------------------------------------------------------------------------
 * 2. Every described key accepted, every other refused, offline
 * ------------------------------------------------------------------------------------------- */

/* A valid value of key k, for an offline request. */
static const char *sample(const rotp_key_info *k)
{
    static const struct {
        const char *key_or_format;
        const char *value;
    } samples[] = {
        {"not_before", "2098-01-01T00:00:00Z"},
        {"client_id", "0123456789abcdef0123456789abcdef.access"},
        {"probe_path", "/user/tokens/verify"},
        {"hex32", "01a7362d577a6c3019a474fd6f485823"},
        {"uuid", "0b3e57d2-6c1b-4a04-9a4b-8d1c1f0e2a11"},
        {"bool", "1"},
        {"rfc3339", "2099-01-01T00:00:00Z"},
        {"duration", "1h"},
        {"url", "https://127.0.0.1:9/probe"},
        {"path", "/user/tokens/verify"},
        {"json", "[{\"effect\":\"allow\",\"resources\":{},\"permission_groups\":[]}]"},
        {"token", "cfut_SampleSampleSampleSampleSampleSample0123abcd"},
        {"text", "sample"},
    };
    static char num[32];

    if (strcmp(k->format, "int") == 0) {
        snprintf(num, sizeof(num), "%lld",
                 (long long)(k->min_value < k->max_value ? k->min_value : 1));
        return num;
    }
    if (strcmp(k->format, "enum") == 0)
        return k->choices[0];
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        if (strcmp(samples[i].key_or_format, k->key) == 0)
            return samples[i].value;
    }
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        if (strcmp(samples[i].key_or_format, k->format) == 0)
            return samples[i].value;
    }
    fail_msg("no sample for %s", k->key);
    return NULL;
}

/* Whether keys[i] is the first of its one_of group that op takes (or in no group). */
static bool first_of_group(const rotp_kind_info *ki, uint32_t i, uint32_t op)
{
    const rotp_key_info *k = &ki->request_keys[i];

    for (uint32_t j = 0; k->one_of != 0 && j < i; j++) {
        if (ki->request_keys[j].one_of == k->one_of && (ki->request_keys[j].ops & op))
            return false;
    }
    return true;
}

/* Builds a request: every key op takes (all) or only the required ones, one per one_of group,
 * `skip` left out, `alt` (a one_of member) instead of its group's first. */
static size_t build(const rotp_kind_info *ki, uint32_t op, bool all, const char *skip,
                    const char *alt, const char **kv)
{
    size_t n = 0;

    for (uint32_t i = 0; i < ki->nrequest_keys; i++) {
        const rotp_key_info *k = &ki->request_keys[i];
        bool pick = (k->ops & op) && (all || (k->required_ops & op));
        bool is_alt = alt != NULL && strcmp(k->key, alt) == 0;
        const rotp_key_info *a =
            alt != NULL ? find_key(ki->request_keys, ki->nrequest_keys, alt) : NULL;

        if (k->one_of != 0 && a != NULL && a->one_of == k->one_of)
            pick = is_alt;
        else if (k->one_of != 0)
            pick = pick && first_of_group(ki, i, op);
        if (!pick || (skip != NULL && strcmp(skip, k->key) == 0))
            continue;
        kv[n++] = k->key;
        kv[n++] = sample(k);
    }
    kv[n] = NULL;
    return n;
}

/* Runs op offline; the instance's api_base is a closed port, so a request that passed the
 * checks fails on the network, never with INVALID_ARGUMENT. */
static pt_out run(rotp_instance *inst, const char *kind, const char *op, const char **kv)
{
    return pt_callv(inst, op, kind, kv);
}

static void expect_accepted(rotp_instance *inst, const char *kind, const char *op, const char **kv,
                            const char *what)
{
    pt_out o = run(inst, kind, op, kv);

    if (o.rc == ROTP_E_INVALID_ARGUMENT)
        fail_msg("%s %s (%s): refused: %s", kind, op, what, o.err.message);
    pt_free(&o);
}

static void expect_refused(rotp_instance *inst, const char *kind, const char *op, const char **kv,
                           const char *key, const char *what)
{
    pt_out o = run(inst, kind, op, kv);

    if (o.rc != ROTP_E_INVALID_ARGUMENT || strstr(o.err.message, key) == NULL)
        fail_msg("%s %s (%s): code %d, not INVALID_ARGUMENT naming %s: %s", kind, op, what, o.rc,
                 key, o.err.message);
    pt_free(&o);
}

/* Adds key to the NULL-terminated list out (n entries) unless it is there. */
static void vocab_add(const char **out, size_t *n, size_t cap, const char *key)
{
    if (*n + 1 < cap && !in_list(out, key))
        out[(*n)++] = key;
    out[*n] = NULL;
}

/* Every key any kind or the config knows, plus a typo: the vocabulary to try. */
static size_t vocabulary(const char **out, size_t cap)
{
    const rotp_provider *p = pt_provider();
    size_t n = 0;

    out[0] = NULL;
    vocab_add(out, &n, cap, "idd");
    for (uint32_t i = 0; i < p->nconfig_keys; i++)
        vocab_add(out, &n, cap, p->config_keys[i].key);
    for (size_t k = 0; p->kind_info[k] != NULL; k++) {
        const rotp_kind_info *ki = p->kind_info[k];

        for (uint32_t i = 0; i < ki->nrequest_keys; i++)
            vocab_add(out, &n, cap, ki->request_keys[i].key);
        for (uint32_t i = 0; i < ki->nresult_keys; i++)
            vocab_add(out, &n, cap, ki->result_keys[i].key);
    }
    return n;
}

static void check_op(rotp_instance *inst, const rotp_kind_info *ki, uint32_t op, const char *opname,
                     const char *const *vocab)
{
    const char *kv[PT_MAX_ITEMS];
    size_t n;

    build(ki, op, true, NULL, NULL, kv);
    expect_accepted(inst, ki->kind, opname, kv, "every described key");
    build(ki, op, false, NULL, NULL, kv);
    expect_accepted(inst, ki->kind, opname, kv, "the required keys");
    for (uint32_t i = 0; i < ki->nrequest_keys; i++) {
        const rotp_key_info *k = &ki->request_keys[i];

        if (!(k->ops & op))
            continue;
        if (k->one_of != 0 && !first_of_group(ki, i, op)) {
            build(ki, op, false, NULL, k->key, kv);
            expect_accepted(inst, ki->kind, opname, kv, k->key);
        }
        if ((k->required_ops & op) && k->one_of == 0) {
            build(ki, op, false, k->key, NULL, kv);
            expect_refused(inst, ki->kind, opname, kv, k->key, "a required key left out");
        }
        if ((k->required_ops & op) && k->one_of != 0 && first_of_group(ki, i, op)) {
            build(ki, op, false, k->key, NULL, kv);
            expect_refused(inst, ki->kind, opname, kv, k->key, "a one_of group left empty");
        }
        if (strcmp(k->format, "text") != 0) {
            n = build(ki, op, true, k->key, k->key, kv);
            kv[n++] = k->key;
            kv[n++] = "not valid \001";
            kv[n] = NULL;
            expect_refused(inst, ki->kind, opname, kv, k->key, "a value out of format");
        }
    }
    for (size_t v = 0; vocab[v] != NULL; v++) {
        const rotp_key_info *k = find_key(ki->request_keys, ki->nrequest_keys, vocab[v]);

        if (k != NULL && (k->ops & op))
            continue;
        n = build(ki, op, true, NULL, NULL, kv);
        kv[n++] = vocab[v];
        kv[n++] = "1";
        kv[n] = NULL;
        expect_refused(inst, ki->kind, opname, kv, vocab[v], "a key not described for it");
    }
}

static void test_every_key_accepted_every_other_refused(void **state)
{
    static const char *const ops[] = {"describe", "roll", "verify", "revoke", "provision", "list"};
    const rotp_provider *p = pt_provider();
    const char *vocab[256];
    rotp_instance *inst;
    rotp_error err;
    rotp_param cfg[] = {
        {sizeof(rotp_param), ROTP_PARAM_SECRET, "api_token", "offlineToken_0123456789abcdefghijAB",
         34},
        {sizeof(rotp_param), 0, "api_base", "https://127.0.0.1:9/client/v4", 29},
        {sizeof(rotp_param), 0, "max_retries", "0", 1},
        {sizeof(rotp_param), 0, "timeout_ms", "2000", 4},
    };
    rotp_params config = {sizeof(config), 4, cfg};
    size_t nvocab = vocabulary(vocab, 255);

    (void)state;
    assert_true(nvocab > 20);
    memset(&err, 0, sizeof(err));
    err.struct_size = sizeof(err);
    assert_int_equal(p->open(NULL, &config, &inst, &err), ROTP_E_OK);
    for (size_t k = 0; p->kind_info[k] != NULL; k++) {
        for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
            uint32_t bit = pt_op_bit(ops[o]);

            if (p->kind_info[k]->ops & bit)
                check_op(inst, p->kind_info[k], bit, ops[o], vocab);
        }
    }
    p->close(inst);
}

/* ---------------------------------------------------------------------------------------------
 * 3. Live results against cfemu
 * ------------------------------------------------------------------------------------------- */

static void test_results_are_described(void **state)
{
    rotp_instance *ci;
    int serial = 0;

    (void)state;
    pt_start(&g_env, cfemu_args);
    ci = pt_open(&g_env, NULL, 30000, 3);
    for (size_t i = 0; i < pt_nvariants; i++) {
        const pt_variant *v = &pt_variants[i];
        char tag[16];
        pt_target t;
        pt_out o;

        snprintf(tag, sizeof(tag), "d%05d", serial++);
        pt_setup(&g_env, ci, v, tag, &t);
        o = pt_run(&g_env, ci, v, &t, tag);
        pt_expect_ok(&o, v->name);
        pt_check_truthful(&g_env, ci, v, &t, &o, pt_applied(&g_env, ci, v, &t, tag), v->name);
        pt_free(&o);
        pt_cleanup(&g_env, ci, v, &t, tag);
    }
    /* describe without an id: what the kind supports, no request */
    {
        pt_out o = pt_call(ci, "describe", "cloudflare.user_token", NULL);
        pt_expect_ok(&o, "describe user kind");
        pt_check_result("cloudflare.user_token", "describe", &o);
        pt_free(&o);
        o = pt_call(ci, "describe", "cloudflare.access_service_token", "zone_id",
                    pt_cred(&g_env, "CFEMU_ZONE_ID"), NULL);
        pt_expect_ok(&o, "describe service-token kind");
        pt_check_result("cloudflare.access_service_token", "describe", &o);
        pt_free(&o);
    }
    pt_provider()->close(ci);
    pt_stop(&g_env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_are_well_formed),
        cmocka_unit_test(test_every_key_accepted_every_other_refused),
        cmocka_unit_test(test_results_are_described),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
