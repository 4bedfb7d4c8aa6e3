/* SPDX-License-Identifier: MIT */
/* test_request_count.c - no request that is expected to fail, and no lookup repeated within an
 * instance (issue 12, item 5), counted in cfemu's request log:
 *
 *  - rolling an account-owned token with a user-owned management token (cfut_): one request,
 *    the PUT; the management token cannot be the account-owned target, so no lookup;
 *  - with an account-owned management token (cfat_): its id is learned at the account's verify
 *    endpoint (never first at one that answers 401), once per instance: 2 requests, then 1;
 *  - a user-token roll with the user-owned management token: 2 requests, then 1;
 *  - no request in any of these answered with an error;
 *  - a whole in-place rotation (roll, verify the new value, confirm the old one dead; for a
 *    service token roll, verify, end the overlap) takes at most 5 requests, and the only one
 *    answered with an error is the deliberate check that the old value is dead. */
#include <stdio.h>
#include <string.h>

#include "pt.h"

#define ACCT             "cloudflare.account_token"
#define USER             "cloudflare.user_token"
#define AST              "cloudflare.access_service_token"
#define MAX_PER_ROTATION 5

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

/* One in-place rotation of API token id of kind: roll, verify the new value, confirm the old
 * value dead. Returns the requests cfemu saw; *failed gets those answered with an error. */
static int rotate_api_token(rotp_instance *inst, const char *kind, const char *id,
                            const char *old_value, int *failed)
{
    const char *acct = pt_cred(&g_env, "CFEMU_ACCOUNT_ID");
    bool account = strcmp(kind, ACCT) == 0;
    char value[PT_VAL_MAX];
    pt_out o;

    pt_log_clear(&g_env);
    o = account ? pt_call(inst, "roll", kind, "account_id", acct, "id", id, NULL)
                : pt_call(inst, "roll", kind, "id", id, NULL);
    pt_expect_ok(&o, "roll");
    snprintf(value, sizeof(value), "%s", pt_get(&o, "secret"));
    pt_free(&o);
    o = account ? pt_call(inst, "verify", kind, "account_id", acct, "id", id, "secret", value, NULL)
                : pt_call(inst, "verify", kind, "id", id, "secret", value, NULL);
    pt_expect_ok(&o, "verify the new value");
    assert_string_equal(pt_get(&o, "state"), "active");
    pt_free(&o);
    o = account ? pt_call(inst, "verify", kind, "account_id", acct, "secret", old_value, NULL)
                : pt_call(inst, "verify", kind, "secret", old_value, NULL);
    pt_expect_ok(&o, "confirm the old value dead");
    assert_string_equal(pt_get(&o, "state"), "invalid");
    pt_free(&o);
    *failed = pt_log_failures(&g_env);
    return pt_log_count(&g_env, NULL, NULL);
}

static void test_api_token_rotation_within_five_requests(void **state)
{
    static const char *const kinds[] = {USER, ACCT};
    rotp_instance *inst = pt_open(&g_env, NULL, 30000, 3);
    char pol[512], res[128], id[40], value[PT_VAL_MAX];
    int failed;

    (void)state;
    snprintf(res, sizeof(res), "com.cloudflare.api.account.zone.%s",
             pt_cred(&g_env, "CFEMU_ZONE_ID"));
    policy("Zone Read", res, pol, sizeof(pol));
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        pt_out o = strcmp(kinds[i], ACCT) == 0
                       ? pt_call(inst, "provision", kinds[i], "account_id",
                                 pt_cred(&g_env, "CFEMU_ACCOUNT_ID"), "name", "count-rot",
                                 "policies", pol, "ttl_seconds", "3600", NULL)
                       : pt_call(inst, "provision", kinds[i], "name", "count-rot", "policies", pol,
                                 "ttl_seconds", "3600", NULL);

        pt_expect_ok(&o, "provision a target");
        snprintf(id, sizeof(id), "%s", pt_get(&o, "id"));
        snprintf(value, sizeof(value), "%s", pt_get(&o, "secret"));
        pt_free(&o);
        /* the first rotation of the instance may learn the management token's id */
        assert_true(rotate_api_token(inst, kinds[i], id, value, &failed) <= MAX_PER_ROTATION);
        assert_int_equal(failed, 1); /* the old value's 401: the evidence asked for */
        assert_int_equal(pt_log_count(&g_env, "GET", "/verify"), 2 + (i == 0 ? 1 : 0));
    }
    pt_provider()->close(inst);
}

static void test_service_token_rotation_within_five_requests(void **state)
{
    rotp_instance *inst = pt_open(&g_env, NULL, 30000, 3);
    const char *acct = pt_cred(&g_env, "CFEMU_ACCOUNT_ID");
    char id[64], client_id[128];
    pt_out o;

    (void)state;
    o = pt_call(inst, "provision", AST, "account_id", acct, "name", "count-st", NULL);
    pt_expect_ok(&o, "provision a service token");
    snprintf(id, sizeof(id), "%s", pt_get(&o, "id"));
    snprintf(client_id, sizeof(client_id), "%s", pt_get(&o, "client_id"));
    pt_free(&o);
    pt_log_clear(&g_env);
    o = pt_call(inst, "roll", AST, "account_id", acct, "id", id, "strategy", "rotate", NULL);
    pt_expect_ok(&o, "roll");
    pt_free(&o);
    o = pt_call(inst, "verify", AST, "account_id", acct, "id", id, "client_id", client_id, NULL);
    pt_expect_ok(&o, "verify");
    assert_string_equal(pt_get(&o, "state"), "active");
    pt_free(&o);
    o = pt_call(inst, "revoke", AST, "account_id", acct, "id", id, "strategy", "rotate", NULL);
    pt_expect_ok(&o, "end the overlap");
    pt_free(&o);
    assert_true(pt_log_count(&g_env, NULL, NULL) <= MAX_PER_ROTATION);
    assert_int_equal(pt_log_failures(&g_env), 0);
    pt_provider()->close(inst);
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
        cmocka_unit_test(test_api_token_rotation_within_five_requests),
        cmocka_unit_test(test_service_token_rotation_within_five_requests),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
