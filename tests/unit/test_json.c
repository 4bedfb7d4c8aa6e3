/* SPDX-License-Identifier: MIT */
/* test_json.c - the strict JSON reader: grammar, escapes, NUL, duplicates, typed access, OOM. */
#include "unit_util.h"

#include "alloc.h"
#include "json.h"

static int parse(const char *s)
{
    json_doc d;
    int rc = json_parse(&d, s, strlen(s));

    json_free(&d);
    return rc;
}

static void valid_documents_parse(void **state)
{
    (void)state;
    assert_int_equal(parse("{}"), JSON_OK);
    assert_int_equal(parse(" [ ] "), JSON_OK);
    assert_int_equal(parse("{\"a\":[1,-2.5e+3,true,false,null,\"x\"],\"b\":{\"c\":{}}}\n"),
                     JSON_OK);
    assert_int_equal(parse("\"bare\""), JSON_OK);
    assert_int_equal(parse("42"), JSON_OK);
    assert_int_equal(parse(" null "), JSON_OK);
}

static void malformed_documents_are_rejected(void **state)
{
    static const char *const bad[] = {
        "",
        " ",
        "{",
        "{\"a\":1",
        "{\"a\":}",
        "{\"a\" 1}",
        "{\"a\":1,}",
        "[1,]",
        "[1 2]",
        "{\"a\":1 \"b\":2}",
        "{a:1}",
        "{1:2}",
        "nul",
        "tru",
        "truex",
        "01",
        "1.",
        "-",
        "1e",
        ".5",
        "+1",
        "[\"a\\x\"]",
        "[\"\\u12\"]",
        "'a'",
        "{} {}",
        "{}x",
        "[] ,",
        "{\"a\":1}}",
        "[\"tab\there\"]",
        "\"\\",
        "[\"\x01\"]",
        "[\"\xff\"]",
        "[\"\xc0\xaf\"]",
        "[\"\xed\xa0\x80\"]",
        "\"abc",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse(bad[i]) != JSON_EINVAL)
            fail_msg("accepted malformed input #%zu: %s", i, bad[i]);
    }
}

static void nul_bytes_and_escaped_nul_are_rejected(void **state)
{
    json_doc d;
    const char body[] = "{\"a\":\"x\0y\"}";

    (void)state;
    assert_int_equal(json_parse(&d, body, sizeof(body) - 1), JSON_EINVAL);
    assert_int_equal(parse("{\"a\":\"x\\u0000y\"}"), JSON_EINVAL);
}

static void truncated_bodies_are_rejected_at_every_length(void **state)
{
    const char *body = "{\"success\":true,\"errors\":[],\"result\":{\"id\":\"abc\",\"n\":[1,2]}}";
    size_t n, len = strlen(body);
    json_doc d;

    (void)state;
    assert_int_equal(json_parse(&d, body, len), JSON_OK);
    json_free(&d);
    for (n = 0; n < len; n++)
        assert_int_equal(json_parse(&d, body, n), JSON_EINVAL);
}

static void duplicate_keys_are_rejected(void **state)
{
    (void)state;
    assert_int_equal(parse("{\"a\":1,\"a\":2}"), JSON_EDUPKEY);
    assert_int_equal(parse("{\"x\":{\"value\":1,\"b\":2,\"value\":3}}"), JSON_EDUPKEY);
    /* the same key spelled with an escape is still the same key */
    assert_int_equal(parse("{\"value\":1,\"v\\u0061lue\":2}"), JSON_EDUPKEY);
    assert_int_equal(parse("[{\"a\":1},{\"a\":2}]"), JSON_OK);
    assert_int_equal(parse("{\"a\":1,\"b\":{\"a\":2}}"), JSON_OK);
}

static void escapes_and_surrogate_pairs_decode_to_utf8(void **state)
{
    const char *s = "[\"q\\\"b\\\\s\\/n\\nt\\tu\\u00e9e\\u20acg\\ud83d\\ude00\", \"\\u00B5\"]";
    json_doc d;
    char *out = NULL;
    char buf[8];

    (void)state;
    assert_int_equal(json_parse(&d, s, strlen(s)), JSON_OK);
    assert_int_equal(json_strdup(&d, json_at(&d, 0, 0), &out), 0);
    assert_string_equal(out, "q\"b\\s/n\nt\tu\xc3\xa9"
                             "e\xe2\x82\xac"
                             "g\xf0\x9f\x98\x80");
    rotp__free(out);
    assert_true(json_str_eq(&d, json_at(&d, 0, 1), "\xc2\xb5"));
    assert_int_equal(json_strcpy(&d, json_at(&d, 0, 1), buf, sizeof(buf)), 0);
    assert_string_equal(buf, "\xc2\xb5");
    assert_int_equal(json_strcpy(&d, json_at(&d, 0, 0), buf, sizeof(buf)), JSON_ESPACE);
    assert_int_equal(json_strdup(&d, 0, &out), JSON_EINVAL); /* not a string */
    json_free(&d);
    /* lone surrogates */
    assert_int_equal(parse("[\"\\ud83d\"]"), JSON_EINVAL);
    assert_int_equal(parse("[\"\\ude00\"]"), JSON_EINVAL);
    assert_int_equal(parse("[\"\\ud83d\\u0041\"]"), JSON_EINVAL);
}

static void navigation_and_typed_access(void **state)
{
    const char *s = "{\"o\":{\"k\":[1,{\"z\":2}],\"s\":\"v\"},\"n\":-9223372036854775808,"
                    "\"big\":9223372036854775808,\"f\":1.5,\"t\":true,\"nul\":null,\"e\":\"x\"}";
    json_doc d;
    int o, k, v;
    int64_t i64;
    bool b;
    size_t len;
    const char *raw;

    (void)state;
    assert_int_equal(json_parse(&d, s, strlen(s)), JSON_OK);
    o = json_get(&d, 0, "o");
    assert_true(json_is_object(&d, o));
    k = json_get(&d, o, "k");
    assert_true(json_is_array(&d, k));
    assert_int_equal(json_get_int64(&d, json_at(&d, k, 0), &i64), 0);
    assert_int_equal(i64, 1);
    assert_true(json_is_object(&d, json_at(&d, k, 1)));
    assert_int_equal(json_at(&d, k, 2), JSON_NONE);
    assert_true(json_str_eq(&d, json_get(&d, o, "s"), "v"));
    assert_int_equal(json_get(&d, 0, "s"), JSON_NONE); /* only direct members */
    assert_int_equal(json_get(&d, 0, "missing"), JSON_NONE);
    assert_int_equal(json_get(&d, k, "k"), JSON_NONE); /* not an object */
    assert_int_equal(json_get_int64(&d, json_get(&d, 0, "n"), &i64), 0);
    assert_true(i64 == INT64_MIN);
    assert_int_equal(json_get_int64(&d, json_get(&d, 0, "big"), &i64), JSON_EINVAL);
    assert_int_equal(json_get_int64(&d, json_get(&d, 0, "f"), &i64), JSON_EINVAL);
    assert_int_equal(json_get_int64(&d, json_get(&d, 0, "e"), &i64), JSON_EINVAL);
    assert_int_equal(json_get_bool(&d, json_get(&d, 0, "t"), &b), 0);
    assert_true(b);
    assert_int_equal(json_get_bool(&d, json_get(&d, 0, "nul"), &b), JSON_EINVAL);
    assert_true(json_is_null(&d, json_get(&d, 0, "nul")));
    assert_false(json_is_null(&d, json_get(&d, 0, "n")));
    raw = json_raw(&d, o, &len);
    assert_int_equal(len, strlen("{\"k\":[1,{\"z\":2}],\"s\":\"v\"}"));
    assert_memory_equal(raw, "{\"k\":[1,{\"z\":2}],\"s\":\"v\"}", len);
    raw = json_raw(&d, json_get(&d, 0, "e"), &len);
    assert_int_equal(len, 1);
    assert_memory_equal(raw, "x", 1);
    raw = json_raw(&d, json_get(&d, 0, "n"), &len);
    assert_memory_equal(raw, "-9223372036854775808", len);
    v = json_skip(&d, o);
    assert_true(json_str_eq(&d, v, "n"));
    json_free(&d);
    json_free(NULL);
}

static void secretdup_copies_into_a_secret_buf(void **state)
{
    const char *s = "{\"value\":\"cfut_abc\\u002fdef\"}";
    json_doc d;
    secret_buf *sb = NULL;

    (void)state;
    assert_int_equal(json_parse(&d, s, strlen(s)), JSON_OK);
    assert_int_equal(json_secretdup(&d, json_get(&d, 0, "value"), &sb), 0);
    assert_string_equal(sb->data, "cfut_abc/def");
    secret_free(sb);
    assert_int_equal(json_secretdup(&d, 0, &sb), JSON_EINVAL);
    assert_null(sb);
    json_free(&d);
}

static void oversized_body_is_rejected(void **state)
{
    size_t n = JSON_MAX_BODY + 1;
    char *big = malloc(n);
    json_doc d;

    (void)state;
    assert_non_null(big);
    memset(big, ' ', n);
    big[0] = '[';
    big[n - 1] = ']';
    assert_int_equal(json_parse(&d, big, n), JSON_EINVAL);
    free(big);
}

static void deep_nesting_is_refused_without_crashing(void **state)
{
    char buf[20001];

    (void)state;
    memset(buf, '[', 10000);
    memset(buf + 10000, ']', 10000);
    buf[20000] = '\0';
    assert_int_equal(parse(buf), JSON_EINVAL);
}

static void allocation_failures_are_clean(void **state)
{
    const char *s = "{\"a\":{\"b\":1,\"c\":2},\"d\":\"v\\u00e9\",\"e\":[1,2,3]}";
    unsigned long n;
    int ok = 0;

    (void)state;
    for (n = 1; n < 50 && !ok; n++) {
        json_doc d;
        char *out = NULL;
        secret_buf *sb = NULL;
        int rc;

        rotp__alloc_fail_at(n);
        rc = json_parse(&d, s, strlen(s));
        if (rc == JSON_OK) {
            int a = json_strdup(&d, json_get(&d, 0, "d"), &out);
            int b = json_secretdup(&d, json_get(&d, 0, "d"), &sb);

            assert_true(a == 0 || a == -1);
            assert_true(b == 0 || b == -1);
            assert_true((a == 0) == (out != NULL));
            assert_true((b == 0) == (sb != NULL));
            ok = a == 0 && b == 0 && rotp__alloc_count() < n;
            rotp__free(out);
            secret_free(sb);
            json_free(&d);
        } else {
            assert_int_equal(rc, JSON_ENOMEM);
        }
    }
    rotp__alloc_fail_at(0);
    assert_true(ok); /* the loop reached a run where no allocation failed */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_documents_parse),
        cmocka_unit_test(malformed_documents_are_rejected),
        cmocka_unit_test(nul_bytes_and_escaped_nul_are_rejected),
        cmocka_unit_test(truncated_bodies_are_rejected_at_every_length),
        cmocka_unit_test(duplicate_keys_are_rejected),
        cmocka_unit_test(escapes_and_surrogate_pairs_decode_to_utf8),
        cmocka_unit_test(navigation_and_typed_access),
        cmocka_unit_test(secretdup_copies_into_a_secret_buf),
        cmocka_unit_test(oversized_body_is_rejected),
        cmocka_unit_test(deep_nesting_is_refused_without_crashing),
        cmocka_unit_test(allocation_failures_are_clean),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
