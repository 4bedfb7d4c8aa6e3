/* SPDX-License-Identifier: MIT */
/* test_compat_host_v1_0.c - a host compiled against the frozen ABI 1.0 header (rotp_v1_0.h,
 * never rotp.h) loads today's cloudflare.so and drives it normally against cfemu: it asks for
 * minor 0, reads only the 1.0 table, and describes, lists, rolls, verifies and revokes as a 1.0
 * host did. The provider's 1.1 additions (the appended table fields, self-description) must not
 * get in its way.
 *
 * Env: ROTP_PLUGIN (else the path CMake compiled in), CFEMU_BIN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "compat_util.h"
#include "rotp_v1_0.h"

#ifndef ROTP_PLUGIN_PATH
#define ROTP_PLUGIN_PATH "cloudflare.so"
#endif

#define VAL_MAX 1024

static void *g_dl;
static const rotp_provider *g_p;
static cfemu_fx g_fx;
static rotp_instance *g_inst;

static const rotp_host g_host = {sizeof(rotp_host), 0, NULL, NULL};

/* One call with NULL-terminated key, value pairs; the result's values copied into out[] by key
 * order of `want` (NULL-terminated keys, each copied into out[i] or "" when absent). */
static int32_t call(rotp_op_fn fn, const char *const *want, char out[][VAL_MAX], ...)
{
    rotp_param items[16];
    rotp_params req = {sizeof(req), 0, items};
    rotp_result res = {sizeof(res), 0, NULL, NULL};
    rotp_error err;
    va_list ap;
    int32_t rc;

    va_start(ap, out);
    for (const char *k = va_arg(ap, const char *); k != NULL; k = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        uint32_t secret = strcmp(k, "secret") == 0 || strcmp(k, "client_secret") == 0;
        items[req.count++] =
            (rotp_param){sizeof(rotp_param), secret ? ROTP_PARAM_SECRET : 0, k, v, strlen(v)};
    }
    va_end(ap);
    memset(&err, 0, sizeof(err));
    err.struct_size = sizeof(err);
    rc = fn(g_inst, &req, &res, &err);
    if (rc != ROTP_E_OK)
        print_message("code %d: %s\n", rc, err.message);
    for (size_t w = 0; want != NULL && want[w] != NULL; w++) {
        out[w][0] = '\0';
        for (uint32_t i = 0; i < res.count; i++) {
            const rotp_param *it =
                (const rotp_param *)((const char *)res.items + i * res.items[0].struct_size);
            if (strcmp(it->key, want[w]) == 0)
                snprintf(out[w], VAL_MAX, "%s", it->value);
        }
    }
    g_p->result_free(&res);
    return rc;
}

static int setup(void **state)
{
    const char *path = getenv("ROTP_PLUGIN");
    rotp_entry_fn entry;
    rotp_error err;
    char mgmt[VAL_MAX];

    (void)state;
    *(void **)&entry = compat_entry(path != NULL && path[0] ? path : ROTP_PLUGIN_PATH, &g_dl);
    if (entry == NULL || cfemu_start(&g_fx, NULL, NULL) != 0)
        return -1;
    memset(&err, 0, sizeof(err));
    err.struct_size = sizeof(err);
    g_p = entry(0, &g_host, &err); /* a 1.0 host asks for minor 0 */
    if (g_p == NULL)
        return -1;
    compat_cred(&g_fx, "CFEMU_TOKEN_MGMT_VALUE", mgmt, sizeof(mgmt));
    {
        rotp_param cfg[] = {
            {sizeof(rotp_param), ROTP_PARAM_SECRET, "api_token", mgmt, strlen(mgmt)},
            {sizeof(rotp_param), 0, "api_base", g_fx.api_base, strlen(g_fx.api_base)},
            {sizeof(rotp_param), 0, "ca_file", g_fx.ca_file, strlen(g_fx.ca_file)},
        };
        rotp_params config = {sizeof(config), 3, cfg};
        if (g_p->open(&g_host, &config, &g_inst, &err) != ROTP_E_OK)
            return -1;
    }
    memset(mgmt, 0, sizeof(mgmt));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (g_p != NULL)
        g_p->close(g_inst);
    if (g_dl != NULL)
        dlclose(g_dl);
    return cfemu_stop(&g_fx) == 0 ? 0 : -1;
}

static void test_the_table_as_a_1_0_host_sees_it(void **state)
{
    size_t n = 0;

    (void)state;
    assert_int_equal(g_p->abi_major, ROTP_ABI_MAJOR);
    assert_true(g_p->struct_size >= sizeof(rotp_provider)); /* 1.0's size, or more */
    assert_true(ROTP_HAS_FIELD(g_p, rotp_provider, strerror));
    assert_non_null(g_p->provision);
    assert_non_null(g_p->list);
    for (; g_p->kinds[n] != NULL; n++)
        assert_true(strncmp(g_p->kinds[n], "cloudflare.", 11) == 0);
    assert_int_equal(n, 3);
    assert_string_equal(g_p->strerror(ROTP_E_OUTCOME_UNKNOWN),
                        "outcome unknown: the change was sent and no reliable answer came");
}

static void test_a_user_token_rotation(void **state)
{
    static const char *const roll_keys[] = {"secret", "id", NULL};
    static const char *const state_key[] = {"state", NULL};
    char id[VAL_MAX], old[VAL_MAX], out[2][VAL_MAX];

    (void)state;
    compat_cred(&g_fx, "CFEMU_TOKEN_PAGES_DEPLOY_ID", id, sizeof(id));
    compat_cred(&g_fx, "CFEMU_TOKEN_PAGES_DEPLOY_VALUE", old, sizeof(old));
    assert_int_equal(
        call(g_p->describe, state_key, out, "kind", "cloudflare.user_token", "id", id, NULL),
        ROTP_E_OK);
    assert_int_equal(
        call(g_p->roll, roll_keys, out, "kind", "cloudflare.user_token", "id", id, NULL),
        ROTP_E_OK);
    assert_string_equal(out[1], id);
    assert_true(strlen(out[0]) > 40);
    {
        char fresh[VAL_MAX];
        snprintf(fresh, sizeof(fresh), "%s", out[0]);
        assert_int_equal(call(g_p->verify, state_key, out, "kind", "cloudflare.user_token",
                              "secret", fresh, NULL),
                         ROTP_E_OK);
        assert_string_equal(out[0], "active");
        memset(fresh, 0, sizeof(fresh));
    }
    assert_int_equal(
        call(g_p->verify, state_key, out, "kind", "cloudflare.user_token", "secret", old, NULL),
        ROTP_E_OK);
    assert_string_equal(out[0], "invalid");
    assert_int_equal(
        call(g_p->revoke, state_key, out, "kind", "cloudflare.user_token", "id", id, NULL),
        ROTP_E_OK);
    assert_string_equal(out[0], "revoked");
}

static void test_a_service_token_rotation_and_list(void **state)
{
    static const char *const roll_keys[] = {"client_secret", "client_id", NULL};
    static const char *const state_key[] = {"state", "count", NULL};
    char acct[64], id[64], app[64], url[256], out[2][VAL_MAX], fresh[VAL_MAX], cid[VAL_MAX];

    (void)state;
    compat_cred(&g_fx, "CFEMU_ACCOUNT_ID", acct, sizeof(acct));
    compat_cred(&g_fx, "CFEMU_ST_VAULT_PROBE_ID", id, sizeof(id));
    compat_cred(&g_fx, "CFEMU_APP_VAULT_ID", app, sizeof(app));
    snprintf(url, sizeof(url), "%s/cdn-cgi/access/probe/%s", g_fx.origin, app);
    assert_int_equal(call(g_p->roll, roll_keys, out, "kind", "cloudflare.access_service_token",
                          "account_id", acct, "id", id, "grace_seconds", "60", NULL),
                     ROTP_E_OK);
    snprintf(fresh, sizeof(fresh), "%s", out[0]);
    snprintf(cid, sizeof(cid), "%s", out[1]);
    assert_int_equal(call(g_p->verify, state_key, out, "kind", "cloudflare.access_service_token",
                          "account_id", acct, "id", id, "client_id", cid, "client_secret", fresh,
                          "probe_url", url, NULL),
                     ROTP_E_OK);
    assert_string_equal(out[0], "active");
    assert_int_equal(call(g_p->list, state_key, out, "kind", "cloudflare.access_service_token",
                          "account_id", acct, NULL),
                     ROTP_E_OK);
    assert_true(atoi(out[1]) >= 2);
    memset(fresh, 0, sizeof(fresh));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_table_as_a_1_0_host_sees_it),
        cmocka_unit_test(test_a_user_token_rotation),
        cmocka_unit_test(test_a_service_token_rotation_and_list),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
