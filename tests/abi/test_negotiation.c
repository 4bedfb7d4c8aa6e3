/* SPDX-License-Identifier: MIT */
/* test_negotiation.c - loads cloudflare.so the way a host does (dlopen RTLD_NOW|RTLD_LOCAL, dlsym
 * the one entry symbol) and checks the ABI contract: version negotiation both ways, struct_size
 * checks, error structs written only within their size, parameter arrays read with the host's
 * stride, unknown keys refused, offline describe for every kind, strerror and result_free.
 *
 * Env: ROTP_PLUGIN (else the path CMake compiled in). Needs no network: the instances point at
 * an unused loopback port and only offline operations (describe without an id) are run. */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rotp.h"

#ifndef ROTP_PLUGIN_PATH
#define ROTP_PLUGIN_PATH "cloudflare.so"
#endif

/* A token-shaped value used as the management token; it is never sent anywhere. */
#define TEST_TOKEN "abiTestToken_0123456789abcdefghijABCDEFGHIJ-xyz"
#define TEST_BASE  "https://127.0.0.1:9/client/v4"
#define GUARD      0xA5u

typedef struct fixture {
    void *dl;
    rotp_entry_fn entry;
    const rotp_provider *p;
} fixture;

/* ------------------------------------------------------------------------------------------- */
/* Parameter arrays with any stride: a newer host's rotp_param is larger than ours. */

typedef struct kv {
    const char *key;
    const char *value;
    uint32_t flags;
} kv;

typedef struct param_array {
    unsigned char *mem;
    rotp_params params;
} param_array;

/* Builds n params with element size `stride` (>= sizeof(rotp_param)); the bytes past our
 * rotp_param are filled with garbage a wrong-stride reader would trip over. */
static void pa_build(param_array *pa, const kv *items, size_t n, size_t stride)
{
    pa->mem = malloc(stride * (n ? n : 1));
    assert_non_null(pa->mem);
    memset(pa->mem, 0xEE, stride * (n ? n : 1));
    for (size_t i = 0; i < n; i++) {
        rotp_param p;
        memset(&p, 0, sizeof(p));
        p.struct_size = (uint32_t)stride;
        p.flags = items[i].flags;
        p.key = items[i].key;
        p.value = items[i].value;
        p.value_len = strlen(items[i].value);
        memcpy(pa->mem + i * stride, &p, sizeof(p));
    }
    pa->params.struct_size = sizeof(rotp_params);
    pa->params.count = (uint32_t)n;
    pa->params.items = (const rotp_param *)(void *)pa->mem;
}

static void pa_free(param_array *pa)
{
    free(pa->mem);
    pa->mem = NULL;
}

static void err_init(rotp_error *err)
{
    memset(err, 0, sizeof(*err));
    err->struct_size = sizeof(*err);
}

static void res_init(rotp_result *res)
{
    memset(res, 0, sizeof(*res));
    res->struct_size = sizeof(*res);
}

static const rotp_host host_v1 = {
    .struct_size = sizeof(rotp_host), .log_level = 0, .log = NULL, .log_user = NULL};

static const kv base_config[] = {
    {"api_token", TEST_TOKEN, ROTP_PARAM_SECRET},
    {"api_base", TEST_BASE, 0},
    {"max_retries", "0", 0},
};

/* Opens an instance over base_config with the given stride. */
static rotp_instance *open_instance(const fixture *fx, size_t stride)
{
    param_array pa;
    rotp_error err;
    rotp_instance *inst = NULL;
    int32_t rc;

    pa_build(&pa, base_config, sizeof(base_config) / sizeof(base_config[0]), stride);
    err_init(&err);
    rc = fx->p->open(&host_v1, &pa.params, &inst, &err);
    pa_free(&pa);
    if (rc != ROTP_E_OK)
        print_error("open: %d %s\n", rc, err.message);
    assert_int_equal(rc, ROTP_E_OK);
    assert_int_equal(err.code, ROTP_E_OK);
    assert_non_null(inst);
    return inst;
}

/* ------------------------------------------------------------------------------------------- */

static int setup(void **state)
{
    const char *path = getenv("ROTP_PLUGIN");
    fixture *fx = calloc(1, sizeof(*fx));
    rotp_error err;

    if (fx == NULL)
        return -1;
    if (path == NULL || path[0] == '\0')
        path = ROTP_PLUGIN_PATH;
    fx->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (fx->dl == NULL) {
        print_error("dlopen %s: %s\n", path, dlerror());
        free(fx);
        return -1;
    }
    *(void **)(&fx->entry) = dlsym(fx->dl, ROTP_ENTRY_SYMBOL);
    if (fx->entry == NULL) {
        print_error("dlsym %s: %s\n", ROTP_ENTRY_SYMBOL, dlerror());
        dlclose(fx->dl);
        free(fx);
        return -1;
    }
    err_init(&err);
    fx->p = fx->entry(ROTP_ABI_MINOR, &host_v1, &err);
    if (fx->p == NULL) {
        print_error("entry: %s\n", err.message);
        dlclose(fx->dl);
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;

    if (fx != NULL) {
        dlclose(fx->dl);
        free(fx);
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------- */
/* The entry point and negotiation */

static void check_table(const rotp_provider *p)
{
    size_t nkinds = 0;

    assert_non_null(p);
    assert_int_equal(p->abi_major, ROTP_ABI_MAJOR);
    assert_true(p->struct_size >= sizeof(rotp_provider));
    assert_true(ROTP_HAS_FIELD(p, rotp_provider, strerror));
    assert_string_equal(p->name, "cloudflare");
    assert_non_null(p->version);
    assert_true(strlen(p->version) > 0);
    assert_non_null(p->open);
    assert_non_null(p->close);
    assert_non_null(p->describe);
    assert_non_null(p->roll);
    assert_non_null(p->verify);
    assert_non_null(p->revoke);
    assert_non_null(p->result_free);
    assert_non_null(p->strerror);
    assert_non_null(p->kinds);
    for (; p->kinds[nkinds] != NULL; nkinds++)
        ;
    assert_int_equal(nkinds, 3);
    assert_string_equal(p->kinds[0], "cloudflare.user_token");
    assert_string_equal(p->kinds[1], "cloudflare.account_token");
    assert_string_equal(p->kinds[2], "cloudflare.access_service_token");
}

static void test_entry_host_minor_current(void **state)
{
    fixture *fx = *state;
    rotp_error err;
    const rotp_provider *p;

    err_init(&err);
    err.code = 99;
    p = fx->entry(0, &host_v1, &err);
    check_table(p);
    assert_int_equal(err.code, ROTP_E_OK);
    assert_string_equal(err.message, "");
}

/* A host newer than the provider: it gets the provider's table and sees the provider's minor,
 * which it must use (min of the two). */
static void test_entry_host_minor_newer(void **state)
{
    fixture *fx = *state;
    rotp_error err;
    const rotp_provider *p;
    struct {
        rotp_host h;
        uint64_t newer_field;
    } newer_host;

    memset(&newer_host, 0, sizeof(newer_host));
    newer_host.h.struct_size = sizeof(newer_host);
    newer_host.newer_field = 0xdeadbeefULL;
    err_init(&err);
    p = fx->entry(9, &newer_host.h, &err);
    check_table(p);
    assert_true(p->abi_minor <= 9);
    assert_int_equal(p->abi_minor, ROTP_ABI_MINOR);
    assert_int_equal(err.code, ROTP_E_OK);
    /* the same static table every time */
    assert_ptr_equal(p, fx->p);
}

static void test_entry_host_too_small(void **state)
{
    fixture *fx = *state;
    rotp_error err;
    rotp_host small = host_v1;

    small.struct_size = offsetof(rotp_host, log); /* a pre-1.0 host that lacks log */
    err_init(&err);
    assert_null(fx->entry(ROTP_ABI_MINOR, &small, &err));
    assert_int_equal(err.code, ROTP_E_INVALID_ARGUMENT);
    assert_true(strlen(err.message) > 0);
}

static void test_entry_host_null(void **state)
{
    fixture *fx = *state;
    rotp_error err;

    err_init(&err);
    assert_null(fx->entry(ROTP_ABI_MINOR, NULL, &err));
    assert_int_equal(err.code, ROTP_E_INVALID_ARGUMENT);
}

static void test_entry_err_null(void **state)
{
    fixture *fx = *state;

    assert_null(fx->entry(ROTP_ABI_MINOR, &host_v1, NULL));
}

/* An error struct from an older host (smaller struct_size): the provider writes within it and
 * never past it. */
static void test_small_error_struct_written_within_size(void **state)
{
    fixture *fx = *state;
    const size_t sizes[] = {
        offsetof(rotp_error, code) + sizeof(int32_t),
        offsetof(rotp_error, flags),
        offsetof(rotp_error, message),
        offsetof(rotp_error, message) + 16,
    };
    unsigned char buf[sizeof(rotp_error) + 64];
    rotp_host small = host_v1;

    small.struct_size = 4;
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        rotp_error *err = (rotp_error *)(void *)buf;
        rotp_instance *inst = (rotp_instance *)(uintptr_t)1;
        param_array pa;
        const kv bad[] = {{"api_tokn", "x", 0}};

        /* the entry point, failing */
        memset(buf, GUARD, sizeof(buf));
        err->struct_size = (uint32_t)sizes[k];
        assert_null(fx->entry(ROTP_ABI_MINOR, &small, err));
        assert_int_equal(err->code, ROTP_E_INVALID_ARGUMENT);
        for (size_t i = sizes[k]; i < sizeof(buf); i++)
            assert_int_equal(buf[i], GUARD);

        /* open, failing on an unknown config key */
        memset(buf, GUARD, sizeof(buf));
        err->struct_size = (uint32_t)sizes[k];
        pa_build(&pa, bad, 1, sizeof(rotp_param));
        assert_int_equal(fx->p->open(&host_v1, &pa.params, &inst, err), ROTP_E_INVALID_ARGUMENT);
        pa_free(&pa);
        assert_null(inst);
        assert_int_equal(err->code, ROTP_E_INVALID_ARGUMENT);
        for (size_t i = sizes[k]; i < sizeof(buf); i++)
            assert_int_equal(buf[i], GUARD);
    }
}

/* An error struct too small to hold even the code is not written at all. */
static void test_tiny_error_struct_untouched(void **state)
{
    fixture *fx = *state;
    unsigned char buf[sizeof(rotp_error)];
    rotp_error *err = (rotp_error *)(void *)buf;

    memset(buf, GUARD, sizeof(buf));
    err->struct_size = 4;
    assert_null(fx->entry(ROTP_ABI_MINOR, &host_v1, err));
    for (size_t i = 4; i < sizeof(buf); i++)
        assert_int_equal(buf[i], GUARD);
}

/* ------------------------------------------------------------------------------------------- */
/* Parameter arrays */

static void check_describe_result(const rotp_result *res)
{
    const unsigned char *base = (const unsigned char *)res->items;
    size_t stride;
    int have_operations = 0;

    assert_true(res->count > 0);
    assert_non_null(res->items);
    stride = res->items[0].struct_size;
    assert_true(stride >= sizeof(rotp_param));
    for (uint32_t i = 0; i < res->count; i++) {
        const rotp_param *p = (const rotp_param *)(const void *)(base + i * stride);
        assert_int_equal(p->struct_size, stride);
        assert_non_null(p->key);
        assert_non_null(p->value);
        /* values written by the provider are NUL-terminated */
        assert_int_equal(strlen(p->value), p->value_len);
        assert_int_equal(p->flags & ROTP_PARAM_SECRET, 0);
        if (strcmp(p->key, "operations") == 0) {
            have_operations = 1;
            assert_non_null(strstr(p->value, "describe"));
        }
    }
    assert_true(have_operations);
}

static int32_t run_describe(const fixture *fx, rotp_instance *inst, const kv *items, size_t n,
                            size_t stride, rotp_result *res, rotp_error *err)
{
    param_array pa;
    int32_t rc;

    pa_build(&pa, items, n, stride);
    res_init(res);
    err_init(err);
    rc = fx->p->describe(inst, &pa.params, res, err);
    pa_free(&pa);
    assert_int_equal(err->code, rc);
    return rc;
}

/* A newer host's rotp_param is larger: config and request are read with its stride. */
static void test_larger_param_stride(void **state)
{
    fixture *fx = *state;
    const size_t strides[] = {sizeof(rotp_param), sizeof(rotp_param) + 8, sizeof(rotp_param) + 40};

    for (size_t k = 0; k < sizeof(strides) / sizeof(strides[0]); k++) {
        rotp_instance *inst = open_instance(fx, strides[k]);
        const kv req[] = {{"kind", "cloudflare.account_token", 0},
                          {"account_id", "01a7362d577a6c3019a474fd6f485823", 0}};
        rotp_result res;
        rotp_error err;

        assert_int_equal(run_describe(fx, inst, req, 2, strides[k], &res, &err), ROTP_E_OK);
        check_describe_result(&res);
        fx->p->result_free(&res);
        assert_int_equal(res.count, 0);
        assert_null(res.items);
        fx->p->close(inst);
    }
}

/* A param whose struct_size is below ABI 1.0's is refused, not misread. */
static void test_param_stride_too_small(void **state)
{
    fixture *fx = *state;
    rotp_instance *inst = open_instance(fx, sizeof(rotp_param));
    unsigned char mem[2 * sizeof(rotp_param)];
    rotp_param p;
    rotp_params req;
    rotp_result res;
    rotp_error err;

    memset(&p, 0, sizeof(p));
    p.struct_size = 8;
    p.key = "kind";
    p.value = "cloudflare.user_token";
    p.value_len = strlen(p.value);
    memcpy(mem, &p, sizeof(p));
    req.struct_size = sizeof(req);
    req.count = 1;
    req.items = (const rotp_param *)(void *)mem;
    res_init(&res);
    err_init(&err);
    assert_int_equal(fx->p->describe(inst, &req, &res, &err), ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(res.count, 0);
    assert_null(res.items);
    fx->p->close(inst);
}

static void test_unknown_request_key(void **state)
{
    fixture *fx = *state;
    rotp_instance *inst = open_instance(fx, sizeof(rotp_param));
    const kv req[] = {{"kind", "cloudflare.user_token", 0}, {"grace_secnds", "60", 0}};
    rotp_result res;
    rotp_error err;

    assert_int_equal(run_describe(fx, inst, req, 2, sizeof(rotp_param), &res, &err),
                     ROTP_E_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "grace_secnds"));
    assert_int_equal(res.count, 0);
    assert_null(res.items);
    fx->p->close(inst);
}

/* A key of the vocabulary that this kind does not take is refused too (no silent drop). */
static void test_request_key_not_for_kind(void **state)
{
    fixture *fx = *state;
    rotp_instance *inst = open_instance(fx, sizeof(rotp_param));
    const kv req[] = {{"kind", "cloudflare.user_token", 0}, {"probe_url", "https://x/", 0}};
    rotp_result res;
    rotp_error err;

    assert_int_equal(run_describe(fx, inst, req, 2, sizeof(rotp_param), &res, &err),
                     ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(res.count, 0);
    fx->p->close(inst);
}

static void test_duplicate_request_key(void **state)
{
    fixture *fx = *state;
    rotp_instance *inst = open_instance(fx, sizeof(rotp_param));
    const kv req[] = {{"kind", "cloudflare.user_token", 0}, {"kind", "cloudflare.user_token", 0}};
    rotp_result res;
    rotp_error err;

    assert_int_equal(run_describe(fx, inst, req, 2, sizeof(rotp_param), &res, &err),
                     ROTP_E_INVALID_ARGUMENT);
    fx->p->close(inst);
}

static void test_unknown_and_missing_kind(void **state)
{
    fixture *fx = *state;
    rotp_instance *inst = open_instance(fx, sizeof(rotp_param));
    const kv unknown[] = {{"kind", "cloudflare.user_tokn", 0}};
    const kv missing[] = {{"id", "ed17574386854bf78a67040be0a770b0", 0}};
    rotp_result res;
    rotp_error err;

    assert_int_equal(run_describe(fx, inst, unknown, 1, sizeof(rotp_param), &res, &err),
                     ROTP_E_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "cloudflare.user_token"));
    assert_non_null(strstr(err.message, "cloudflare.access_service_token"));
    assert_int_equal(run_describe(fx, inst, missing, 1, sizeof(rotp_param), &res, &err),
                     ROTP_E_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "kind"));
    fx->p->close(inst);
}

static void test_describe_offline_each_kind(void **state)
{
    fixture *fx = *state;
    rotp_instance *inst = open_instance(fx, sizeof(rotp_param));
    const kv user[] = {{"kind", "cloudflare.user_token", 0}};
    const kv account[] = {{"kind", "cloudflare.account_token", 0},
                          {"account_id", "01a7362d577a6c3019a474fd6f485823", 0}};
    const kv ast_account[] = {{"kind", "cloudflare.access_service_token", 0},
                              {"account_id", "01a7362d577a6c3019a474fd6f485823", 0}};
    const kv ast_zone[] = {{"kind", "cloudflare.access_service_token", 0},
                           {"zone_id", "023e105f4ecef8ad9ca31a8372d0c353", 0}};
    struct {
        const kv *items;
        size_t n;
    } cases[] = {{user, 1}, {account, 2}, {ast_account, 2}, {ast_zone, 2}};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rotp_result res;
        rotp_error err;
        int32_t rc =
            run_describe(fx, inst, cases[i].items, cases[i].n, sizeof(rotp_param), &res, &err);
        if (rc != ROTP_E_OK)
            print_error("describe case %zu: %d %s\n", i, rc, err.message);
        assert_int_equal(rc, ROTP_E_OK);
        assert_string_equal(err.message, "");
        check_describe_result(&res);
        fx->p->result_free(&res);
        assert_int_equal(res.count, 0);
        assert_null(res.items);
    }
    fx->p->close(inst);
}

/* An account token without account_id is an invalid argument, not a request. */
static void test_describe_account_token_needs_account(void **state)
{
    fixture *fx = *state;
    rotp_instance *inst = open_instance(fx, sizeof(rotp_param));
    const kv req[] = {{"kind", "cloudflare.account_token", 0}};
    rotp_result res;
    rotp_error err;

    assert_int_equal(run_describe(fx, inst, req, 1, sizeof(rotp_param), &res, &err),
                     ROTP_E_INVALID_ARGUMENT);
    fx->p->close(inst);
}

static void test_result_struct_too_small(void **state)
{
    fixture *fx = *state;
    rotp_instance *inst = open_instance(fx, sizeof(rotp_param));
    const kv req[] = {{"kind", "cloudflare.user_token", 0}};
    param_array pa;
    rotp_result res;
    rotp_error err;

    pa_build(&pa, req, 1, sizeof(rotp_param));
    res_init(&res);
    res.struct_size = offsetof(rotp_result, items);
    err_init(&err);
    assert_int_equal(fx->p->describe(inst, &pa.params, &res, &err), ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(err.code, ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(fx->p->describe(inst, &pa.params, NULL, &err), ROTP_E_INVALID_ARGUMENT);
    res_init(&res);
    assert_int_equal(fx->p->describe(NULL, &pa.params, &res, &err), ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(fx->p->describe(inst, NULL, &res, &err), ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(fx->p->describe(inst, &pa.params, &res, NULL), ROTP_E_INVALID_ARGUMENT);
    pa_free(&pa);
    fx->p->close(inst);
}

/* ------------------------------------------------------------------------------------------- */
/* open() */

typedef struct log_capture {
    int lines;
    int leaked; /* a line held the token */
} log_capture;

static void capture_log(void *user, int32_t level, const char *message, uint64_t len)
{
    log_capture *lc = user;

    (void)level;
    assert_int_equal(strlen(message), len);
    lc->lines++;
    if (strstr(message, TEST_TOKEN) != NULL)
        lc->leaked++;
}

static int32_t try_open(const fixture *fx, const kv *items, size_t n, rotp_error *err)
{
    param_array pa;
    rotp_instance *inst = (rotp_instance *)(uintptr_t)1;
    int32_t rc;

    pa_build(&pa, items, n, sizeof(rotp_param));
    err_init(err);
    rc = fx->p->open(&host_v1, &pa.params, &inst, err);
    pa_free(&pa);
    assert_int_equal(err->code, rc);
    if (rc == ROTP_E_OK) {
        assert_non_null(inst);
        fx->p->close(inst);
    } else {
        assert_null(inst);
    }
    /* the token never shows up in a message */
    assert_null(strstr(err->message, TEST_TOKEN));
    return rc;
}

static void test_open_config_checks(void **state)
{
    fixture *fx = *state;
    rotp_error err;
    const kv no_token[] = {{"api_base", TEST_BASE, 0}};
    const kv bad_shape[] = {{"api_token", "bad token with spaces " TEST_TOKEN, 0}};
    const kv unknown[] = {{"api_token", TEST_TOKEN, 0}, {"api_tokn", "x", 0}};
    const kv http_remote[] = {{"api_token", TEST_TOKEN, 0},
                              {"api_base", "http://api.cloudflare.com/client/v4", 0},
                              {"allow_insecure_loopback", "1", 0}};
    const kv http_loop_denied[] = {{"api_token", TEST_TOKEN, 0},
                                   {"api_base", "http://127.0.0.1:9/client/v4", 0}};
    const kv http_loop_allowed[] = {{"api_token", TEST_TOKEN, 0},
                                    {"api_base", "http://127.0.0.1:9/client/v4", 0},
                                    {"allow_insecure_loopback", "true", 0}};
    const kv http_v6_allowed[] = {{"api_token", TEST_TOKEN, 0},
                                  {"api_base", "http://[::1]:9/client/v4", 0},
                                  {"allow_insecure_loopback", "yes", 0}};
    const kv http_lookalike[] = {{"api_token", TEST_TOKEN, 0},
                                 {"api_base", "http://127.0.0.1.example.com/client/v4", 0},
                                 {"allow_insecure_loopback", "1", 0}};
    const kv ftp[] = {{"api_token", TEST_TOKEN, 0}, {"api_base", "ftp://127.0.0.1/x", 0}};
    const kv crlf[] = {{"api_token", TEST_TOKEN, 0},
                       {"api_base", "https://127.0.0.1/\r\nX-Evil: 1", 0}};
    const kv userinfo[] = {{"api_token", TEST_TOKEN, 0},
                           {"api_base", "https://user:pw@127.0.0.1/client/v4", 0}};
    const kv retries_high[] = {{"api_token", TEST_TOKEN, 0}, {"max_retries", "11", 0}};
    const kv retries_word[] = {{"api_token", TEST_TOKEN, 0}, {"max_retries", "three", 0}};
    const kv timeout_neg[] = {{"api_token", TEST_TOKEN, 0}, {"timeout_ms", "-5", 0}};
    const kv ua_crlf[] = {{"api_token", TEST_TOKEN, 0}, {"user_agent", "x\r\nEvil: 1", 0}};
    const kv ca_missing[] = {{"api_token", TEST_TOKEN, 0},
                             {"ca_file", "/nonexistent/rotp-test-ca.pem", 0}};
    const kv defaults[] = {{"api_token", TEST_TOKEN, ROTP_PARAM_SECRET}};
    const kv full[] = {{"api_token", TEST_TOKEN, ROTP_PARAM_SECRET},
                       {"api_base", "https://127.0.0.1:9/client/v4/", 0},
                       {"timeout_ms", "5000", 0},
                       {"connect_timeout_ms", "1000", 0},
                       {"max_retries", "10", 0},
                       {"user_agent", "abi-test/1", 0},
                       {"allow_insecure_loopback", "0", 0}};
#define N(a) (sizeof(a) / sizeof((a)[0]))

    assert_int_equal(try_open(fx, no_token, N(no_token), &err), ROTP_E_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "api_token"));
    assert_int_equal(try_open(fx, bad_shape, N(bad_shape), &err), ROTP_E_INVALID_ARGUMENT);
    assert_null(strstr(err.message, "bad token with")); /* never echoed */
    assert_int_equal(try_open(fx, unknown, N(unknown), &err), ROTP_E_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "api_tokn"));
    assert_int_equal(try_open(fx, http_remote, N(http_remote), &err), ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(try_open(fx, http_loop_denied, N(http_loop_denied), &err),
                     ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(try_open(fx, http_loop_allowed, N(http_loop_allowed), &err), ROTP_E_OK);
    assert_int_equal(try_open(fx, http_v6_allowed, N(http_v6_allowed), &err), ROTP_E_OK);
    assert_int_equal(try_open(fx, http_lookalike, N(http_lookalike), &err),
                     ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(try_open(fx, ftp, N(ftp), &err), ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(try_open(fx, crlf, N(crlf), &err), ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(try_open(fx, userinfo, N(userinfo), &err), ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(try_open(fx, retries_high, N(retries_high), &err), ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(try_open(fx, retries_word, N(retries_word), &err), ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(try_open(fx, timeout_neg, N(timeout_neg), &err), ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(try_open(fx, ua_crlf, N(ua_crlf), &err), ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(try_open(fx, ca_missing, N(ca_missing), &err), ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(try_open(fx, defaults, N(defaults), &err), ROTP_E_OK);
    assert_int_equal(try_open(fx, full, N(full), &err), ROTP_E_OK);
#undef N
}

static void test_open_argument_checks(void **state)
{
    fixture *fx = *state;
    param_array pa;
    rotp_error err;
    rotp_instance *inst = (rotp_instance *)(uintptr_t)1;

    pa_build(&pa, base_config, sizeof(base_config) / sizeof(base_config[0]), sizeof(rotp_param));
    err_init(&err);
    assert_int_equal(fx->p->open(&host_v1, NULL, &inst, &err), ROTP_E_INVALID_ARGUMENT);
    assert_null(inst);
    assert_int_equal(fx->p->open(&host_v1, &pa.params, NULL, &err), ROTP_E_INVALID_ARGUMENT);
    inst = (rotp_instance *)(uintptr_t)1;
    assert_int_equal(fx->p->open(&host_v1, &pa.params, &inst, NULL), ROTP_E_INVALID_ARGUMENT);
    assert_null(inst);
    /* a NULL host is a silent one */
    assert_int_equal(fx->p->open(NULL, &pa.params, &inst, &err), ROTP_E_OK);
    fx->p->close(inst);
    pa_free(&pa);
    fx->p->close(NULL);
}

/* Log lines reach the host's callback, and never carry the management token. */
static void test_log_never_holds_token(void **state)
{
    fixture *fx = *state;
    log_capture lc = {0, 0};
    rotp_host host = {.struct_size = sizeof(rotp_host),
                      .log_level = ROTP_LOG_DEBUG,
                      .log = capture_log,
                      .log_user = &lc};
    param_array pa;
    rotp_error err;
    rotp_result res;
    rotp_instance *inst = NULL;
    const kv req[] = {{"kind", "cloudflare.user_token", 0}, {"bogus", TEST_TOKEN, 0}};

    pa_build(&pa, base_config, sizeof(base_config) / sizeof(base_config[0]), sizeof(rotp_param));
    err_init(&err);
    assert_int_equal(fx->p->open(&host, &pa.params, &inst, &err), ROTP_E_OK);
    pa_free(&pa);
    assert_int_equal(run_describe(fx, inst, req, 2, sizeof(rotp_param), &res, &err),
                     ROTP_E_INVALID_ARGUMENT);
    assert_null(strstr(err.message, TEST_TOKEN));
    fx->p->close(inst);
    assert_int_equal(lc.leaked, 0);
}

/* ------------------------------------------------------------------------------------------- */
/* strerror and result_free */

static void test_strerror_every_code(void **state)
{
    fixture *fx = *state;
    static const struct {
        int32_t code;
        const char *msg;
    } table[] = {
#define X(num, name, msg) {num, msg},
        ROTP_ERROR_TABLE(X)
#undef X
    };

    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        assert_string_equal(fx->p->strerror(table[i].code), table[i].msg);
    assert_int_equal(sizeof(table) / sizeof(table[0]), ROTP_E__COUNT);
    for (int32_t c = ROTP_E__COUNT; c < ROTP_E__COUNT + 3; c++) {
        assert_non_null(fx->p->strerror(c));
        assert_true(strlen(fx->p->strerror(c)) > 0);
    }
    assert_non_null(fx->p->strerror(-1));
    assert_non_null(fx->p->strerror(INT32_MAX));
    assert_non_null(fx->p->strerror(INT32_MIN));
}

static void test_result_free_null_and_twice(void **state)
{
    fixture *fx = *state;
    rotp_instance *inst = open_instance(fx, sizeof(rotp_param));
    const kv req[] = {{"kind", "cloudflare.user_token", 0}};
    rotp_result res;
    rotp_error err;

    fx->p->result_free(NULL);
    res_init(&res);
    fx->p->result_free(&res); /* an empty result */
    assert_int_equal(run_describe(fx, inst, req, 1, sizeof(rotp_param), &res, &err), ROTP_E_OK);
    fx->p->result_free(&res);
    assert_int_equal(res.count, 0);
    assert_null(res.items);
    assert_null(res.provider_data);
    fx->p->result_free(&res); /* the reset result is safe to free again */
    fx->p->close(inst);
}

/* Instances are independent: two open at once, closed in either order. */
static void test_two_instances(void **state)
{
    fixture *fx = *state;
    rotp_instance *a = open_instance(fx, sizeof(rotp_param));
    rotp_instance *b = open_instance(fx, sizeof(rotp_param));
    const kv req[] = {{"kind", "cloudflare.user_token", 0}};
    rotp_result res;
    rotp_error err;

    assert_ptr_not_equal(a, b);
    fx->p->close(a);
    assert_int_equal(run_describe(fx, b, req, 1, sizeof(rotp_param), &res, &err), ROTP_E_OK);
    fx->p->result_free(&res);
    fx->p->close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entry_host_minor_current),
        cmocka_unit_test(test_entry_host_minor_newer),
        cmocka_unit_test(test_entry_host_too_small),
        cmocka_unit_test(test_entry_host_null),
        cmocka_unit_test(test_entry_err_null),
        cmocka_unit_test(test_small_error_struct_written_within_size),
        cmocka_unit_test(test_tiny_error_struct_untouched),
        cmocka_unit_test(test_larger_param_stride),
        cmocka_unit_test(test_param_stride_too_small),
        cmocka_unit_test(test_unknown_request_key),
        cmocka_unit_test(test_request_key_not_for_kind),
        cmocka_unit_test(test_duplicate_request_key),
        cmocka_unit_test(test_unknown_and_missing_kind),
        cmocka_unit_test(test_describe_offline_each_kind),
        cmocka_unit_test(test_describe_account_token_needs_account),
        cmocka_unit_test(test_result_struct_too_small),
        cmocka_unit_test(test_open_config_checks),
        cmocka_unit_test(test_open_argument_checks),
        cmocka_unit_test(test_log_never_holds_token),
        cmocka_unit_test(test_strerror_every_code),
        cmocka_unit_test(test_result_free_null_and_twice),
        cmocka_unit_test(test_two_instances),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
