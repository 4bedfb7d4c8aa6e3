/* SPDX-License-Identifier: MIT */
/* test_compat_provider_v1_0.c - a 1.1 host (abi/rotp.h) meets a 1.0 provider: the fixture
 * rotp_fixture_provider_v1_0.so, the Cloudflare provider built with a table that ends at strerror
 * and says minor 0. The host detects with ROTP_HAS_FIELD that the self-description is absent
 * (without reading past the table), and the plain operations work against cfemu. The same check
 * on cloudflare.so finds the descriptions, so the test tells the two apart.
 *
 * Env: ROTP_FIXTURE_V1_0 (the fixture), ROTP_PLUGIN (cloudflare.so), CFEMU_BIN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "compat_util.h"
#include "rotp.h"

#ifndef ROTP_PLUGIN_PATH
#define ROTP_PLUGIN_PATH "cloudflare.so"
#endif

#define VAL_MAX 1024

static const rotp_host g_host = {sizeof(rotp_host), 0, NULL, NULL};

/* The table of the module at env var `var`; *dl to dlclose. */
static const rotp_provider *load(const char *var, const char *fallback, void **dl)
{
    const char *path = getenv(var);
    rotp_entry_fn entry;
    rotp_error err;

    *(void **)&entry = compat_entry(path != NULL && path[0] ? path : fallback, dl);
    assert_non_null(entry);
    memset(&err, 0, sizeof(err));
    err.struct_size = sizeof(err);
    return entry(ROTP_ABI_MINOR, &g_host, &err);
}

static void test_descriptions_are_detected_by_struct_size(void **state)
{
    void *dl_old = NULL, *dl_new = NULL;
    const rotp_provider *old = load("ROTP_FIXTURE_V1_0", "rotp_fixture_provider_v1_0.so", &dl_old);
    const rotp_provider *cur = load("ROTP_PLUGIN", ROTP_PLUGIN_PATH, &dl_new);

    (void)state;
    assert_non_null(old);
    assert_int_equal(old->abi_major, 1);
    assert_int_equal(old->abi_minor, 0);
    assert_int_equal(old->struct_size, offsetof(rotp_provider, strerror) + sizeof(void *));
    assert_true(ROTP_HAS_FIELD(old, rotp_provider, strerror));
    assert_false(ROTP_HAS_FIELD(old, rotp_provider, nconfig_keys));
    assert_false(ROTP_HAS_FIELD(old, rotp_provider, kind_info));

    assert_non_null(cur);
    assert_int_equal(cur->abi_minor, ROTP_ABI_MINOR);
    assert_true(ROTP_HAS_FIELD(cur, rotp_provider, kind_info));
    assert_non_null(cur->kind_info[0]);
    dlclose(dl_new);
    dlclose(dl_old);
}

/* Calls fn; copies the value of result key `want` into out. */
static int32_t call(const rotp_provider *p, rotp_instance *inst, rotp_op_fn fn, const char *want,
                    char *out, const rotp_param *items, uint32_t n)
{
    rotp_params req = {sizeof(req), n, items};
    rotp_result res = {sizeof(res), 0, NULL, NULL};
    rotp_error err;
    int32_t rc;

    memset(&err, 0, sizeof(err));
    err.struct_size = sizeof(err);
    rc = fn(inst, &req, &res, &err);
    if (rc != ROTP_E_OK)
        print_message("code %d: %s\n", rc, err.message);
    out[0] = '\0';
    for (uint32_t i = 0; i < res.count; i++) {
        const rotp_param *it =
            (const rotp_param *)((const char *)res.items + i * res.items[0].struct_size);
        if (strcmp(it->key, want) == 0)
            snprintf(out, VAL_MAX, "%s", it->value);
    }
    p->result_free(&res);
    return rc;
}

#define PARAM(k, v, f)                                                                             \
    {                                                                                              \
        sizeof(rotp_param), (f), (k), (v), strlen(v)                                               \
    }

static void test_plain_operations_work(void **state)
{
    void *dl = NULL;
    const rotp_provider *p = load("ROTP_FIXTURE_V1_0", "rotp_fixture_provider_v1_0.so", &dl);
    cfemu_fx fx;
    rotp_instance *inst = NULL;
    rotp_error err;
    char mgmt[VAL_MAX], id[VAL_MAX], out[VAL_MAX];

    (void)state;
    assert_non_null(p);
    assert_int_equal(cfemu_start(&fx, NULL, NULL), 0);
    compat_cred(&fx, "CFEMU_TOKEN_MGMT_VALUE", mgmt, sizeof(mgmt));
    compat_cred(&fx, "CFEMU_TOKEN_PAGES_DEPLOY_ID", id, sizeof(id));
    {
        const rotp_param cfg[] = {PARAM("api_token", mgmt, ROTP_PARAM_SECRET),
                                  PARAM("api_base", fx.api_base, 0),
                                  PARAM("ca_file", fx.ca_file, 0)};
        rotp_params config = {sizeof(config), 3, cfg};

        memset(&err, 0, sizeof(err));
        err.struct_size = sizeof(err);
        assert_int_equal(p->open(&g_host, &config, &inst, &err), ROTP_E_OK);
    }
    {
        const rotp_param d[] = {PARAM("kind", "cloudflare.user_token", 0)};
        const rotp_param v[] = {PARAM("kind", "cloudflare.user_token", 0),
                                PARAM("secret", mgmt, ROTP_PARAM_SECRET)};
        const rotp_param r[] = {PARAM("kind", "cloudflare.user_token", 0), PARAM("id", id, 0)};

        assert_int_equal(call(p, inst, p->describe, "operations", out, d, 1), ROTP_E_OK);
        assert_string_equal(out, "describe,roll,verify,revoke,provision,list");
        assert_int_equal(call(p, inst, p->verify, "state", out, v, 2), ROTP_E_OK);
        assert_string_equal(out, "active");
        assert_int_equal(call(p, inst, p->roll, "id", out, r, 2), ROTP_E_OK);
        assert_string_equal(out, id);
    }
    p->close(inst);
    memset(mgmt, 0, sizeof(mgmt));
    assert_int_equal(cfemu_stop(&fx), 0);
    dlclose(dl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptions_are_detected_by_struct_size),
        cmocka_unit_test(test_plain_operations_work),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
