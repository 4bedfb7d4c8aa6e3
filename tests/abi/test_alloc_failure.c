/* SPDX-License-Identifier: MIT */
/* test_alloc_failure.c - every allocation of open(), of describe() + result_free() and of a
 * whole open/describe/close sequence is made to fail in turn (the ROTP_ALLOC_HOOK of
 * rotp_core_test). Each failure must give a clean error (NO_MEMORY, or another code with the
 * error struct filled), leave *out NULL or the result empty, and leak nothing: run under ASan
 * (-DROTP_SANITIZE=ON) this also proves that no failure path leaks or touches freed memory.
 *
 * Calls rotp_provider_entry_v1 directly (linked in from rotp_core_test); needs no network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "rotp.h"

#define TEST_TOKEN "allocTestToken_0123456789abcdefghijABCDEFGHIJ-xyz"
#define MAX_STEPS  100000UL /* a guard against a loop that never reaches the end */

static int log_lines;

static void count_log(void *user, int32_t level, const char *message, uint64_t len)
{
    (void)user;
    (void)level;
    (void)message;
    (void)len;
    log_lines++;
}

static const rotp_host host_logging = {.struct_size = sizeof(rotp_host),
                                       .log_level = ROTP_LOG_DEBUG,
                                       .log = count_log,
                                       .log_user = NULL};

#define P(k, v, f)                                                                                 \
    {                                                                                              \
        sizeof(rotp_param), (f), (k), (v), sizeof(v) - 1                                           \
    }

static const rotp_param config_items[] = {
    P("api_token", TEST_TOKEN, ROTP_PARAM_SECRET),
    P("api_base", "https://127.0.0.1:9/client/v4", 0),
    P("max_retries", "0", 0),
    P("user_agent", "alloc-test/1", 0),
};
static const rotp_params config = {sizeof(rotp_params), 4, config_items};

static const rotp_param req_user[] = {P("kind", "cloudflare.user_token", 0)};
static const rotp_param req_account[] = {P("kind", "cloudflare.account_token", 0),
                                         P("account_id", "01a7362d577a6c3019a474fd6f485823", 0)};
static const rotp_param req_ast[] = {P("kind", "cloudflare.access_service_token", 0),
                                     P("account_id", "01a7362d577a6c3019a474fd6f485823", 0)};
static const rotp_param req_ast_zone[] = {P("kind", "cloudflare.access_service_token", 0),
                                          P("zone_id", "023e105f4ecef8ad9ca31a8372d0c353", 0)};
static const rotp_params requests[] = {
    {sizeof(rotp_params), 1, req_user},
    {sizeof(rotp_params), 2, req_account},
    {sizeof(rotp_params), 2, req_ast},
    {sizeof(rotp_params), 2, req_ast_zone},
};

static const rotp_provider *provider(void)
{
    rotp_error err;
    const rotp_provider *p;

    memset(&err, 0, sizeof(err));
    err.struct_size = sizeof(err);
    p = rotp_provider_entry_v1(ROTP_ABI_MINOR, &host_logging, &err);
    assert_non_null(p);
    return p;
}

static void err_init(rotp_error *err)
{
    memset(err, 0, sizeof(*err));
    err->struct_size = sizeof(*err);
}

/* A failed call must say why: a known code, the code in err, a message. */
static void check_clean_failure(int32_t rc, const rotp_error *err, unsigned long n,
                                const char *what)
{
    assert_int_not_equal(rc, ROTP_E_OK);
    assert_true(rc > 0 && rc < ROTP_E__COUNT);
    assert_int_equal(err->code, rc);
    assert_true(strlen(err->message) > 0);
    assert_null(strstr(err->message, TEST_TOKEN));
    if (rc != ROTP_E_NO_MEMORY)
        print_message("%s: allocation %lu failed -> %d (%s)\n", what, n, rc, err->message);
}

static void test_open_each_allocation_fails(void **state)
{
    const rotp_provider *p = provider();
    unsigned long n;
    unsigned long failures = 0;

    (void)state;
    for (n = 1; n < MAX_STEPS; n++) {
        rotp_instance *inst = (rotp_instance *)(uintptr_t)1;
        rotp_error err;
        int32_t rc;
        unsigned long used;

        err_init(&err);
        rotp__alloc_fail_at(n);
        rc = p->open(&host_logging, &config, &inst, &err);
        used = rotp__alloc_count();
        rotp__alloc_fail_at(0);
        if (rc == ROTP_E_OK) {
            assert_non_null(inst);
            p->close(inst);
            if (used < n)
                break; /* open finished before reaching the n-th allocation: all covered */
            continue;  /* the failed allocation was optional (a log line, say) */
        }
        assert_null(inst);
        check_clean_failure(rc, &err, n, "open");
        failures++;
    }
    assert_true(n < MAX_STEPS);
    assert_true(failures > 0); /* open does allocate: the hook must have bitten */
    print_message("open: %lu allocations, %lu failed cleanly\n", n - 1, failures);
}

static void test_describe_each_allocation_fails(void **state)
{
    const rotp_provider *p = provider();

    (void)state;
    for (size_t k = 0; k < sizeof(requests) / sizeof(requests[0]); k++) {
        rotp_instance *inst = NULL;
        rotp_error err;
        unsigned long n;
        unsigned long failures = 0;

        err_init(&err);
        assert_int_equal(p->open(&host_logging, &config, &inst, &err), ROTP_E_OK);
        for (n = 1; n < MAX_STEPS; n++) {
            rotp_result res;
            int32_t rc;
            unsigned long used;

            memset(&res, 0, sizeof(res));
            res.struct_size = sizeof(res);
            err_init(&err);
            rotp__alloc_fail_at(n);
            rc = p->describe(inst, &requests[k], &res, &err);
            p->result_free(&res);
            used = rotp__alloc_count();
            rotp__alloc_fail_at(0);
            assert_int_equal(res.count, 0);
            assert_null(res.items);
            if (rc == ROTP_E_OK) {
                if (used < n)
                    break;
                continue;
            }
            check_clean_failure(rc, &err, n, "describe");
            failures++;
        }
        assert_true(n < MAX_STEPS);
        assert_true(failures > 0);
        print_message("describe %zu: %lu allocations, %lu failed cleanly\n", k, n - 1, failures);
        p->close(inst);
    }
}

/* The whole life of an instance, each allocation failing in turn. */
static void test_sequence_each_allocation_fails(void **state)
{
    const rotp_provider *p = provider();
    unsigned long n;

    (void)state;
    for (n = 1; n < MAX_STEPS; n++) {
        rotp_instance *inst = NULL;
        rotp_error err;
        rotp_result res;
        int32_t rc;
        unsigned long used;

        err_init(&err);
        memset(&res, 0, sizeof(res));
        res.struct_size = sizeof(res);
        rotp__alloc_fail_at(n);
        rc = p->open(&host_logging, &config, &inst, &err);
        if (rc == ROTP_E_OK) {
            for (size_t k = 0; k < sizeof(requests) / sizeof(requests[0]); k++) {
                err_init(&err);
                rc = p->describe(inst, &requests[k], &res, &err);
                if (rc != ROTP_E_OK)
                    check_clean_failure(rc, &err, n, "sequence describe");
                p->result_free(&res);
                assert_int_equal(res.count, 0);
            }
            p->close(inst);
        } else {
            assert_null(inst);
            check_clean_failure(rc, &err, n, "sequence open");
        }
        used = rotp__alloc_count();
        rotp__alloc_fail_at(0);
        if (used < n)
            break;
    }
    assert_true(n < MAX_STEPS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_each_allocation_fails),
        cmocka_unit_test(test_describe_each_allocation_fails),
        cmocka_unit_test(test_sequence_each_allocation_fails),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
