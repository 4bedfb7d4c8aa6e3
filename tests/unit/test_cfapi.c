/* SPDX-License-Identifier: MIT */
/* test_cfapi.c - the Cloudflare envelope reader on real response shapes, and cf_classify() for
 * every code in API-NOTES section 5. */
#include "unit_util.h"

#include "alloc.h"
#include "cfapi.h"

static void parse_file(const char *name, cf_envelope *env, char **body)
{
    size_t len;

    *body = unit_read_data(name, &len);
    assert_int_equal(cf_envelope_parse(env, *body, len), JSON_OK);
}

static void verify_success_with_null_message_type(void **state)
{
    cf_envelope env;
    char *body;
    int m0;

    (void)state;
    parse_file("envelope_verify_success.json", &env, &body);
    assert_true(env.success);
    assert_true(json_is_object(&env.doc, env.result));
    assert_true(json_str_eq(&env.doc, json_get(&env.doc, env.result, "status"), "active"));
    assert_int_equal(env.error_code, 0);
    assert_string_equal(env.error_message, "");
    m0 = json_at(&env.doc, env.messages, 0);
    assert_true(json_is_null(&env.doc, json_get(&env.doc, m0, "type")));
    assert_false(env.has_result_info);
    cf_envelope_free(&env);
    free(body);
}

static void roll_result_is_a_bare_string(void **state)
{
    cf_envelope env;
    char *body;
    char value[64];

    (void)state;
    parse_file("envelope_roll_success.json", &env, &body);
    assert_true(env.success);
    assert_true(json_is_string(&env.doc, env.result));
    assert_int_equal(json_strcpy(&env.doc, env.result, value, sizeof(value)), 0);
    assert_string_equal(value, "8M7wS6hCpXVc-DoRnPPY_UCWPgy8aea4Wy6kCe5T");
    cf_envelope_free(&env);
    free(body);
}

static void error_with_error_chain(void **state)
{
    cf_envelope env;
    char *body;

    (void)state;
    parse_file("envelope_error_6003_chain.json", &env, &body);
    assert_false(env.success);
    assert_int_equal(env.error_code, 6003);
    assert_int_equal(env.chain_code, 6111);
    assert_string_equal(env.error_message,
                        "Invalid request headers: Invalid format for Authorization header");
    assert_true(json_is_null(&env.doc, env.result));
    cf_envelope_free(&env);
    free(body);
}

static void error_shapes_from_api_notes(void **state)
{
    static const struct {
        const char *file;
        int32_t code;
        const char *message;
    } cases[] = {
        {"envelope_error_1000.json", 1000, "Invalid API Token"},
        {"envelope_error_9109.json", 9109, "Unauthorized to access requested resource"},
        {"envelope_error_10000_forbidden.json", 10000, "Forbidden"},
        {"envelope_error_7003.json", 7003, "No route for the URI"},
        {"envelope_error_971.json", 971, "Please wait and consider throttling your request speed"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cf_envelope env;
        char *body;

        parse_file(cases[i].file, &env, &body);
        assert_false(env.success);
        assert_int_equal(env.error_code, cases[i].code);
        assert_int_equal(env.chain_code, 0);
        assert_string_equal(env.error_message, cases[i].message);
        cf_envelope_free(&env);
        free(body);
    }
}

static void list_with_result_info(void **state)
{
    cf_envelope env;
    char *body;
    int t0;

    (void)state;
    parse_file("envelope_list_tokens.json", &env, &body);
    assert_true(env.success);
    assert_true(json_is_array(&env.doc, env.result));
    t0 = json_at(&env.doc, env.result, 0);
    assert_true(
        json_str_eq(&env.doc, json_get(&env.doc, t0, "id"), "ed17574386854bf78a67040be0a770b0"));
    assert_true(env.has_result_info);
    assert_true(env.page == 1 && env.per_page == 20 && env.count == 1);
    assert_true(env.total_count == 2000 && env.total_pages == -1);
    cf_envelope_free(&env);
    free(body);
}

static void service_token_create(void **state)
{
    cf_envelope env;
    char *body;
    secret_buf *sb = NULL;

    (void)state;
    parse_file("envelope_service_token_create.json", &env, &body);
    assert_int_equal(json_secretdup(&env.doc, json_get(&env.doc, env.result, "client_secret"), &sb),
                     0);
    assert_int_equal(sb->len, 64);
    secret_free(sb);
    cf_envelope_free(&env);
    free(body);
}

static void malformed_envelopes_are_rejected(void **state)
{
    static const char *const bad[] = {
        "",
        "<html>502 Bad Gateway</html>",
        "[]",
        "\"x\"",
        "{}",
        "{\"success\":\"true\"}",
        "{\"success\":1}",
        "{\"success\":true,\"errors\":{}}",
        "{\"success\":false,\"errors\":[1]}",
        "{\"success\":false,\"errors\":[{\"code\":\"1000\"}]}",
        "{\"success\":false,\"errors\":[{\"code\":1.5}]}",
        "{\"success\":false,\"errors\":[{\"code\":99999999999}]}",
        "{\"success\":false,\"errors\":[{\"code\":1,\"message\":7}]}",
        "{\"success\":false,\"errors\":[{\"code\":1,\"error_chain\":{}}]}",
        "{\"success\":true,\"messages\":[{\"type\":5}]}",
        "{\"success\":true,\"messages\":[7]}",
        "{\"success\":true,\"result\":5}",
        "{\"success\":true,\"result\":true}",
        "{\"success\":true,\"result_info\":[]}",
        "{\"success\":true,\"result_info\":{\"page\":\"1\"}}",
        "{\"success\":true,\"success\":false}",
        "{\"success\":true,\"result\":{\"value\":\"a\",\"value\":\"b\"}}",
        "{\"success\":true} trailing",
        "{\"success\":true,\"result\":\"a\\u0000b\"}",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cf_envelope env;

        if (cf_envelope_parse(&env, bad[i], strlen(bad[i])) != JSON_EINVAL)
            fail_msg("accepted #%zu: %s", i, bad[i]);
        cf_envelope_free(&env); /* safe on every path */
    }
}

static void truncated_real_body_is_rejected(void **state)
{
    size_t len, n;
    char *body = unit_read_data("envelope_list_tokens.json", &len);
    cf_envelope env;

    (void)state;
    while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == ' '))
        len--;
    for (n = 0; n < len; n++) {
        if (cf_envelope_parse(&env, body, n) != JSON_EINVAL)
            fail_msg("accepted a body cut at %zu of %zu", n, len);
    }
    free(body);
}

static void body_with_nul_is_rejected(void **state)
{
    const char body[] = "{\"success\":true,\"result\":\"ab\0cd\"}";
    cf_envelope env;

    (void)state;
    assert_int_equal(cf_envelope_parse(&env, body, sizeof(body) - 1), JSON_EINVAL);
}

static void long_messages_are_cut_at_a_character_boundary(void **state)
{
    char body[2048];
    cf_envelope env;
    int n, i;

    (void)state;
    n = snprintf(body, sizeof(body), "{\"success\":false,\"errors\":[{\"code\":1,\"message\":\"");
    for (i = 0; i < 300; i++)
        n += snprintf(body + n, sizeof(body) - (size_t)n, "\\u00e9"); /* 2 bytes each in UTF-8 */
    n += snprintf(body + n, sizeof(body) - (size_t)n, "x\"}]}");
    assert_int_equal(cf_envelope_parse(&env, body, (size_t)n), JSON_OK);
    assert_int_equal(strlen(env.error_message), 254); /* 127 whole characters */
    cf_envelope_free(&env);
}

static void allocation_failures_are_clean(void **state)
{
    size_t len;
    char *body = unit_read_data("envelope_error_6003_chain.json", &len);
    unsigned long n;
    bool done = false;

    (void)state;
    for (n = 1; !done && n < 100; n++) {
        cf_envelope env;
        int rc;

        rotp__alloc_fail_at(n);
        rc = cf_envelope_parse(&env, body, len);
        done = rotp__alloc_count() < n;
        assert_true(rc == JSON_OK || rc == JSON_ENOMEM);
        if (rc == JSON_OK)
            assert_int_equal(env.chain_code, 6111);
        cf_envelope_free(&env);
    }
    rotp__alloc_fail_at(0);
    assert_true(done);
    free(body);
}

/* Every row of API-NOTES section 5, plus the status-only cases. */
static void classification_table(void **state)
{
    static const struct {
        long status;
        int32_t code;
        int32_t want;
        bool retry;
    } cases[] = {
        {401, 1000, ROTP_E_CREDENTIAL_INVALID, false}, /* Invalid API Token */
        {403, 1000, ROTP_E_CREDENTIAL_INVALID, false}, /* account token on user verify */
        {400, 1001, ROTP_E_INVALID_ARGUMENT, false}, /* other 1001s: below, by message */
        {400, 6003, ROTP_E_CREDENTIAL_INVALID, false}, /* malformed bearer (chain 6111) */
        {400, 6111, ROTP_E_CREDENTIAL_INVALID, false},
        {400, 9106, ROTP_E_CREDENTIAL_INVALID, false},  /* Authentication failed */
        {403, 9109, ROTP_E_PERMISSION_DENIED, false},   /* Invalid access token / Unauthorized */
        {401, 10000, ROTP_E_CREDENTIAL_INVALID, false}, /* invalid token, account endpoint */
        {403, 10000, ROTP_E_PERMISSION_DENIED, false},  /* valid token lacking permission */
        {403, 0, ROTP_E_PERMISSION_DENIED, false},
        {400, 7000, ROTP_E_PROTOCOL, false},  /* No route for that URI: our bug */
        {404, 7000, ROTP_E_NOT_FOUND, false}, /* status 404 wins */
        {400, 7003, ROTP_E_NOT_FOUND, false}, /* object identifier invalid */
        {429, 971, ROTP_E_RATE_LIMITED, true},
        {429, 0, ROTP_E_RATE_LIMITED, true},
        {400, 971, ROTP_E_RATE_LIMITED, true},
        {400, 12139, ROTP_E_CONFLICT, false}, /* still referenced by a policy */
        {409, 0, ROTP_E_CONFLICT, false},
        {404, 0, ROTP_E_NOT_FOUND, false},
        {404, 1000, ROTP_E_NOT_FOUND, false},
        {500, 0, ROTP_E_TRANSIENT, true},
        {502, 0, ROTP_E_TRANSIENT, true},
        {503, 0, ROTP_E_TRANSIENT, true},
        {599, 0, ROTP_E_TRANSIENT, true},
        {408, 0, ROTP_E_TRANSIENT, true},
        {400, 0, ROTP_E_INVALID_ARGUMENT, false},
        {422, 1004, ROTP_E_INVALID_ARGUMENT, false},
        {200, 0, ROTP_E_PROTOCOL, false}, /* 2xx with success=false */
        {302, 0, ROTP_E_PROTOCOL, false}, /* redirects are not followed */
        {600, 0, ROTP_E_PROTOCOL, false},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool retry = !cases[i].retry;
        int32_t got = cf_classify(cases[i].status, cases[i].code, NULL, &retry);

        if (got != cases[i].want || retry != cases[i].retry)
            fail_msg("HTTP %ld code %d: got %d retry %d, want %d retry %d", cases[i].status,
                     (int)cases[i].code, (int)got, retry, (int)cases[i].want, cases[i].retry);
    }
    assert_int_equal(cf_classify(401, 0, NULL, NULL), ROTP_E_CREDENTIAL_INVALID);
    /* 1001 is an unusable credential only when it says the Authorization header is missing;
     * a refused policy or an endpoint that takes no account token is the request's fault. */
    assert_int_equal(cf_classify(400, 1001, "Missing \"Authorization\" header", NULL),
                     ROTP_E_CREDENTIAL_INVALID);
    assert_int_equal(cf_classify(400, 1001, "List accounts endpoint does not support account "
                                            "owned tokens.", NULL),
                     ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(cf_classify(400, 1001, "unknown permission group", NULL),
                     ROTP_E_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verify_success_with_null_message_type),
        cmocka_unit_test(roll_result_is_a_bare_string),
        cmocka_unit_test(error_with_error_chain),
        cmocka_unit_test(error_shapes_from_api_notes),
        cmocka_unit_test(list_with_result_info),
        cmocka_unit_test(service_token_create),
        cmocka_unit_test(malformed_envelopes_are_rejected),
        cmocka_unit_test(truncated_real_body_is_rejected),
        cmocka_unit_test(body_with_nul_is_rejected),
        cmocka_unit_test(long_messages_are_cut_at_a_character_boundary),
        cmocka_unit_test(allocation_failures_are_clean),
        cmocka_unit_test(classification_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
