/* test_request_count.c - no request that is expected to fail, and no lookup repeated within an
 * instance (issue 12, item 5), counted in cfemu's request log:
 *
 *  - rolling an account-owned token with a user-owned management token (cfut_): one request,
 *    the PUT; the management token cannot be the account-owned target, so no lookup;
 *  - with an account-owned management token (cfat_): its id is learned at the account's verify
 *    endpoint (never first at one that answers 401), once per instance: 2 requests, then 1;
 *  - a user-token roll with the user-owned management token: 2 requests, then 1;
 *  - no request in any of these answered with an error. */
#include <stdio.h>
#include <string.h>

#include "pt.h"

#define ACCT "cloudflare.account_token"
#define USER "cloudflare.user_token"

static pt_env g_env;

/* A fresh API token of `kind` to roll (Zone Read on the seed's zone), made with inst. */
static void make_target(rotp_instance *inst, const char *kind, const char *name,
                        const char *policies_json, char id[40])
{
    pt_out o =
        strcmp(kind, ACCT) == 0
            ? pt_call(inst, "provision", kind, "account_id", pt_cred(&g_env, "CFEMU_ACCOUNT_ID"),
                      "name", name, "policies", policies_json, "ttl_seconds", "3600", NULL)
            : pt_call(inst, "provision", kind, "name", name, "policies", policies_json,
                      "ttl_seconds", "3600", NULL);

    pt_expect_ok(&o, "provision a target");
    snprintf(id, 40, "%s", pt_get(&o, "id"));
    pt_free(&o);
}

/* Rolls id and returns how many requests cfemu saw for it. */
static int roll_count(rotp_instance *inst, const char *kind, const char *id)
{
    pt_out o;

    pt_log_clear(&g_env);
    o = strcmp(kind, ACCT) == 0 ? pt_call(inst, "roll", kind, "account_id",
                                          pt_cred(&g_env, "CFEMU_ACCOUNT_ID"), "id", id, NULL)
                                : pt_call(inst, "roll", kind, "id", id, NULL);
    pt_expect_ok(&o, "roll");
    pt_free(&o);
    assert_int_equal(pt_log_failures(&g_env), 0);
    return pt_log_count(&g_env, NULL, NULL);
}

/* A policy granting the permission group `group` on `resource`. */
static void policy(const char *group, const char *resource, char *buf, size_t cap)
{
    char id[33];

    pt_group_id(&g_env, group, id);
    snprintf(buf, cap,
             "[{\"effect\":\"allow\",\"permission_groups\":[{\"id\":\"%s\"}],\"resources\":"
             "{\"%s\":\"*\"}}]",
             id, resource);
}

static void test_account_roll_with_user_management_token(void **state)
{
    rotp_instance *inst = pt_open(&g_env, NULL, 30000, 3);
    char pol[512], res[128], id[40];

    (void)state;
    snprintf(res, sizeof(res), "com.cloudflare.api.account.zone.%s",
             pt_cred(&g_env, "CFEMU_ZONE_ID"));
    policy("Zone Read", res, pol, sizeof(pol));
    make_target(inst, ACCT, "count-a", pol, id);
    assert_int_equal(roll_count(inst, ACCT, id), 1);
    assert_int_equal(roll_count(inst, ACCT, id), 1);
    pt_provider()->close(inst);
}

static void test_user_roll_learns_its_id_once(void **state)
{
    rotp_instance *inst = pt_open(&g_env, NULL, 30000, 3);
    char pol[512], res[128], id[40];

    (void)state;
    snprintf(res, sizeof(res), "com.cloudflare.api.account.zone.%s",
             pt_cred(&g_env, "CFEMU_ZONE_ID"));
    policy("Zone Read", res, pol, sizeof(pol));
    make_target(inst, USER, "count-u", pol, id);
    assert_int_equal(roll_count(inst, USER, id), 2); /* GET /user/tokens/verify, PUT */
    assert_int_equal(pt_log_count(&g_env, "GET", "/user/tokens/verify"), 1);
    assert_int_equal(roll_count(inst, USER, id), 1);
    pt_provider()->close(inst);
}

static void test_account_roll_with_account_management_token(void **state)
{
    rotp_instance *mgmt = pt_open(&g_env, NULL, 30000, 3);
    rotp_instance *inst;
    char pol[512], res[128], id[40], value[PT_VAL_MAX];
    pt_out o;

    (void)state;
    snprintf(res, sizeof(res), "com.cloudflare.api.account.%s",
             pt_cred(&g_env, "CFEMU_ACCOUNT_ID"));
    policy("Account API Tokens Write", res, pol, sizeof(pol));
    o = pt_call(mgmt, "provision", ACCT, "account_id", pt_cred(&g_env, "CFEMU_ACCOUNT_ID"), "name",
                "count-mgmt", "policies", pol, "ttl_seconds", "3600", NULL);
    pt_expect_ok(&o, "provision an account-owned management token");
    snprintf(value, sizeof(value), "%s", pt_get(&o, "secret"));
    pt_free(&o);
    assert_true(strncmp(value, "cfat_", 5) == 0);
    snprintf(res, sizeof(res), "com.cloudflare.api.account.zone.%s",
             pt_cred(&g_env, "CFEMU_ZONE_ID"));
    policy("Zone Read", res, pol, sizeof(pol));
    make_target(mgmt, ACCT, "count-t", pol, id);

    inst = pt_open(&g_env, value, 30000, 3);
    assert_int_equal(roll_count(inst, ACCT, id), 2); /* the account's verify, PUT */
    assert_int_equal(pt_log_count(&g_env, "GET", "/tokens/verify"), 1);
    assert_int_equal(pt_log_count(&g_env, "GET", "/user/"), 0);
    assert_int_equal(roll_count(inst, ACCT, id), 1);
    pt_provider()->close(inst);
    pt_provider()->close(mgmt);
}

static int setup(void **state)
{
    (void)state;
    pt_start(&g_env, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pt_stop(&g_env);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_account_roll_with_user_management_token),
        cmocka_unit_test(test_user_roll_learns_its_id_once),
        cmocka_unit_test(test_account_roll_with_account_management_token),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
