/* SPDX-License-Identifier: MIT */
/* test_params.c - reading host key/value arrays (stride, sizes, unknown and duplicate keys) and
 * building, handing over and wiping results. */
#include "unit_util.h"

#include "alloc.h"
#include "kind_info.h"
#include "params.h"

#define P(k, v)                                                                                    \
    {                                                                                              \
        sizeof(rotp_param), 0, (k), (v), sizeof(v) - 1                                             \
    }

static rotp_params wrap(const rotp_param *items, uint32_t n)
{
    rotp_params p = {sizeof(p), n, items};

    return p;
}

static void err_init(rotp_error *err)
{
    memset(err, 0, sizeof(*err));
    err->struct_size = sizeof(*err);
}

/* A small description in the shape of the adapters' tables (ABI 1.1). */
#define OP_A ROTP_OP_ROLL
#define OP_B ROTP_OP_REVOKE
static const char *const colours[] = {"red", "green", NULL};
static const rotp_key_info keys[] = {
    KI("id", "hex32", 0, ROTP_ROLE_ID, OP_A | OP_B, OP_A, "the id"),
    KI_FULL("retries", "int", 0, ROTP_ROLE_NONE, OP_A, 0, 0, "3", NULL, NULL, 0, 10, "retries"),
    KI_FULL("flag", "bool", 0, ROTP_ROLE_NONE, OP_A, 0, 0, "yes", NULL, NULL, 0, 0, "a flag"),
    KI_FULL("colour", "enum", 0, ROTP_ROLE_NONE, OP_A, 0, 0, NULL, NULL, colours, 0, 0, "c"),
    KI("secret", "token", ROTP_KEY_SECRET, ROTP_ROLE_SECRET_PART, OP_B, 0, "a secret"),
    KI_FULL("until", "rfc3339", 0, ROTP_ROLE_NONE, OP_B, OP_B, 1, NULL, NULL, NULL, 0, 0, "u"),
    KI_FULL("ttl", "int", 0, ROTP_ROLE_TTL, OP_B, OP_B, 1, NULL, NULL, NULL, 60, 600, "t"),
    KI("name", "text", 0, ROTP_ROLE_NAME, OP_A, 0, "a name"),
};
#define NKEYS COUNT_OF(keys)
#define ID    "ed17574386854bf78a67040be0a770b0"

static int32_t check(const rotp_param *items, uint32_t n, uint32_t op, rotp_error *err)
{
    rotp_params p = wrap(items, n);
    preq r;

    err_init(err);
    return preq_check(&r, &p, keys, NKEYS, op, "kind", "request", err);
}

static void a_described_request_passes_and_reads(void **state)
{
    const rotp_param items[] = {
        P("kind", "cloudflare.user_token"),
        P("id", ID),
        P("retries", "7"),
        P("flag", "No"),
    };
    const rotp_param bare[] = {P("id", ID)};
    rotp_params p = wrap(items, 4), pb = wrap(bare, 1);
    rotp_error err;
    char buf[64];
    size_t len;
    preq r;

    (void)state;
    err_init(&err);
    assert_int_equal(preq_check(&r, &p, keys, NKEYS, OP_A, "kind", "request", &err), ROTP_E_OK);
    assert_non_null(preq_get(&r, "id", &len));
    assert_int_equal(len, 32);
    assert_true(preq_has(&r, "kind"));
    assert_false(preq_has(&r, "colour"));
    assert_ptr_equal(params_find(&p, "kind"), &items[0]);
    assert_true(preq_int(&r, "retries") == 7);
    assert_false(preq_bool(&r, "flag"));
    assert_int_equal(preq_str(&r, "id", buf, sizeof(buf), &err), ROTP_E_OK);
    assert_string_equal(buf, ID);
    assert_int_equal(preq_str(&r, "id", buf, 8, &err), ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(preq_str(&r, "colour", buf, sizeof(buf), &err), ROTP_E_OK);
    assert_string_equal(buf, ""); /* absent, no default */
    assert_ptr_equal(preq_info(&r, "flag"), &keys[2]);
    assert_null(preq_info(&r, "kind"));

    /* defaults come from the description */
    assert_int_equal(preq_check(&r, &pb, keys, NKEYS, OP_A, "kind", "request", &err), ROTP_E_OK);
    assert_true(preq_int(&r, "retries") == 3);
    assert_true(preq_bool(&r, "flag"));
    assert_int_equal(preq_str(&r, "retries", buf, sizeof(buf), &err), ROTP_E_OK);
    assert_string_equal(buf, "3");
}

static void keys_of_another_operation_or_unknown_are_refused(void **state)
{
    const rotp_param typo[] = {P("id", ID), P("idd", "x")};
    const rotp_param other_op[] = {P("id", ID), P("secret", "s3cr3t")};
    const rotp_param missing[] = {P("retries", "1")};
    rotp_error err;

    (void)state;
    assert_int_equal(check(typo, 2, OP_A, &err), ROTP_E_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "unknown key \"idd\""));
    assert_non_null(strstr(err.message, "kind, id, retries, flag, colour, name"));
    assert_int_equal(check(other_op, 2, OP_A, &err), ROTP_E_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "\"secret\""));
    assert_int_equal(check(missing, 1, OP_A, &err), ROTP_E_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "missing id"));
}

static void formats_and_ranges_are_checked_without_echoing_values(void **state)
{
    static const struct {
        const char *key, *value;
        bool ok;
    } cases[] = {
        {"id", ID, true},
        {"id", "ED17574386854BF78A67040BE0A770B0", false},
        {"id", "", false},
        {"retries", "10", true},
        {"retries", "11", false},
        {"retries", "-1", false},
        {"retries", "1.5", false},
        {"flag", "TRUE", true},
        {"flag", "maybe", false},
        {"colour", "green", true},
        {"colour", "blue", false},
        {"name", "", true},
        {"name", "caf\xc3\xa9 name", true},
        {"name", "a\nb", false},
    };
    rotp_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rotp_param items[2] = {P("id", ID), P("id", ID)};
        uint32_t n = 2;

        items[1].key = cases[i].key;
        items[1].value = cases[i].value;
        items[1].value_len = strlen(cases[i].value);
        if (strcmp(cases[i].key, "id") == 0) {
            items[0] = items[1];
            n = 1;
        }
        if ((check(items, n, OP_A, &err) == ROTP_E_OK) != cases[i].ok)
            fail_msg("%s=\"%s\": wrong verdict (%s)", cases[i].key, cases[i].value, err.message);
        if (!cases[i].ok && cases[i].value[0] != '\0')
            assert_null(strstr(err.message, cases[i].value));
    }
}

static void one_of_groups_need_exactly_one(void **state)
{
    const rotp_param both[] = {P("until", "2030-01-01T00:00:00Z"), P("ttl", "120")};
    const rotp_param none[] = {P("kind", "x")};
    const rotp_param one[] = {P("ttl", "120")};
    const rotp_param low[] = {P("ttl", "59")};
    rotp_error err;

    (void)state;
    assert_int_equal(check(both, 2, OP_B, &err), ROTP_E_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "only one of until, ttl"));
    assert_int_equal(check(none, 1, OP_B, &err), ROTP_E_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "exactly one of until, ttl"));
    assert_int_equal(check(one, 1, OP_B, &err), ROTP_E_OK);
    assert_int_equal(check(low, 1, OP_B, &err), ROTP_E_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "from 60 to 600"));
}

static void a_config_takes_every_key_and_marks_required_ones(void **state)
{
    static const rotp_key_info cfg[] = {
        KI("token", "token", ROTP_KEY_SECRET, ROTP_ROLE_MANAGEMENT, 0, ROTP_KEY_REQUIRED_CONFIG,
           "t"),
        KI_FULL("base", "url", 0, ROTP_ROLE_ENDPOINT, 0, 0, 0, "https://x.test/v4", NULL, NULL, 0,
                0, "b"),
    };
    const rotp_param ok[] = {P("token", "abc"), P("base", "http://127.0.0.1:1/v4")};
    const rotp_param no_token[] = {P("base", "https://y.test")};
    const rotp_param bad_url[] = {P("token", "abc"), P("base", "ftp://x")};
    rotp_params p;
    rotp_error err;
    char buf[64];
    preq r;

    (void)state;
    err_init(&err);
    p = wrap(ok, 1);
    assert_int_equal(preq_check(&r, &p, cfg, 2, 0, NULL, "config", &err), ROTP_E_OK);
    assert_int_equal(preq_str(&r, "base", buf, sizeof(buf), &err), ROTP_E_OK);
    assert_string_equal(buf, "https://x.test/v4");
    p = wrap(ok, 2);
    assert_int_equal(preq_check(&r, &p, cfg, 2, 0, NULL, "config", &err), ROTP_E_OK);
    p = wrap(no_token, 1);
    assert_int_equal(preq_check(&r, &p, cfg, 2, 0, NULL, "config", &err), ROTP_E_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "missing token"));
    p = wrap(bad_url, 2);
    assert_int_equal(preq_check(&r, &p, cfg, 2, 0, NULL, "config", &err), ROTP_E_INVALID_ARGUMENT);
}

static void malformed_arrays_are_invalid_arguments(void **state)
{
    const rotp_param dup[] = {P("id", "a"), P("kind", "x"), P("id", "b")};
    const rotp_param nul[] = {{sizeof(rotp_param), 0, "id", "ab\0cd", 5}};
    const rotp_param nullval[] = {{sizeof(rotp_param), 0, "id", NULL, 3}};
    const rotp_param nokey[] = {{sizeof(rotp_param), 0, NULL, "x", 1}};
    const rotp_param toolong[] = {{sizeof(rotp_param), 0, "secret", "x", PARAM_VALUE_MAX + 1}};
    rotp_params p;
    rotp_error err;

    (void)state;
    err_init(&err);
    p = wrap(dup, 3);
    assert_int_equal(params_check(&p, "request", &err), ROTP_E_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "\"id\" given twice"));
    p = wrap(nul, 1);
    assert_int_equal(params_check(&p, "request", &err), ROTP_E_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "NUL"));
    p = wrap(nullval, 1);
    assert_int_equal(params_check(&p, "request", &err), ROTP_E_INVALID_ARGUMENT);
    p = wrap(nokey, 1);
    assert_int_equal(params_check(&p, "request", &err), ROTP_E_INVALID_ARGUMENT);
    p = wrap(toolong, 1);
    assert_int_equal(params_check(&p, "request", &err), ROTP_E_INVALID_ARGUMENT);
    p = wrap(NULL, 1);
    assert_int_equal(params_check(&p, "request", &err), ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(params_check(NULL, "request", &err), ROTP_E_INVALID_ARGUMENT);
    p = wrap(NULL, 0);
    assert_int_equal(params_check(&p, "request", &err), ROTP_E_OK);
    p.struct_size = 8;
    assert_int_equal(params_check(&p, "request", &err), ROTP_E_INVALID_ARGUMENT);
}

static void int_parsing_edges(void **state)
{
    static const struct {
        const char *v;
        int ok;
        int64_t want;
    } cases[] = {
        {"0", 1, 0},
        {"-5", 1, -5},
        {"9223372036854775807", 1, INT64_MAX},
        {"-9223372036854775808", 1, INT64_MIN},
        {"9223372036854775808", 0, 0},
        {"", 0, 0},
        {"-", 0, 0},
        {" 1", 0, 0},
        {"1 ", 0, 0},
        {"+1", 0, 0},
        {"0x10", 0, 0},
        {"1.0", 0, 0},
    };
    static const rotp_key_info k[] = {KI("n", "int", 0, ROTP_ROLE_NONE, OP_A, 0, "n")};

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rotp_param it = {sizeof(it), 0, "n", cases[i].v, strlen(cases[i].v)};
        rotp_params p = wrap(&it, 1);
        rotp_error err;
        preq r;

        err_init(&err);
        if ((preq_check(&r, &p, k, 1, OP_A, NULL, "request", &err) == ROTP_E_OK) != cases[i].ok)
            fail_msg("\"%s\": wrong verdict", cases[i].v);
        if (cases[i].ok)
            assert_true(preq_int(&r, "n") == cases[i].want);
    }
}

/* A newer host whose rotp_param has two extra fields: the stride is its struct_size. */
typedef struct param_v2 {
    rotp_param base;
    uint64_t extra1;
    const char *extra2;
} param_v2;

static void a_larger_stride_is_respected(void **state)
{
    param_v2 items[3];
    rotp_params p;
    rotp_error err;
    size_t len;
    const char *v;
    int i;

    (void)state;
    memset(items, 0x7f, sizeof(items)); /* garbage in the extra fields */
    for (i = 0; i < 3; i++)
        items[i].base.struct_size = sizeof(param_v2);
    items[0].base = (rotp_param){sizeof(param_v2), 0, "kind", "k", 1};
    items[1].base = (rotp_param){sizeof(param_v2), ROTP_PARAM_SECRET, "secret", "s3", 2};
    items[2].base = (rotp_param){sizeof(param_v2), 0, "id", "abc", 3};
    p = wrap(&items[0].base, 3);
    err_init(&err);
    assert_int_equal(params_check(&p, "request", &err), ROTP_E_OK);
    v = params_get(&p, "id", &len);
    assert_non_null(v);
    assert_memory_equal(v, "abc", 3);
    assert_int_equal(params_find(&p, "secret")->flags, ROTP_PARAM_SECRET);
    /* elements that disagree about the stride */
    items[2].base.struct_size = sizeof(rotp_param);
    assert_int_equal(params_check(&p, "request", &err), ROTP_E_INVALID_ARGUMENT);
}

static void a_too_small_struct_size_is_refused(void **state)
{
    rotp_param items[2] = {P("kind", "k"), P("id", "x")};
    rotp_params p = wrap(items, 2);
    rotp_error err;

    (void)state;
    err_init(&err);
    items[0].struct_size = items[1].struct_size = offsetof(rotp_param, value_len);
    assert_int_equal(params_check(&p, "config", &err), ROTP_E_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "config: item struct_size"));
    assert_null(params_get(&p, "kind", NULL));
    items[0].struct_size = items[1].struct_size = sizeof(rotp_param) + 4; /* misaligned */
    assert_int_equal(params_check(&p, "config", &err), ROTP_E_INVALID_ARGUMENT);
}

/* Checks that a result value block is zero when it is released. */
typedef struct wipe_watch {
    const void *ptrs[8];
    size_t lens[8];
    int n;
    int wiped;
} wipe_watch;

static void on_free(void *ptr, void *user)
{
    wipe_watch *w = user;
    int i;
    size_t j;

    for (i = 0; i < w->n; i++) {
        if (ptr == w->ptrs[i]) {
            int zero = 1;

            for (j = 0; j < w->lens[i]; j++)
                zero &= ((const unsigned char *)ptr)[j] == 0;
            w->wiped += zero;
        }
    }
}

static void result_builder_hands_over_and_free_wipes(void **state)
{
    result_builder rb;
    rotp_result res = {sizeof(res), 0, NULL, NULL};
    rotp_error err;
    secret_buf *s = secret_new("cfut_newvalue", 13);
    wipe_watch w = {0};
    uint32_t i;

    (void)state;
    err_init(&err);
    rb_init(&rb);
    rb_adds(&rb, "id", "ed17574386854bf78a67040be0a770b0");
    rb_adds(&rb, "skipped", NULL);
    rb_addf(&rb, "count", "%d", 42);
    rb_add_secret(&rb, "secret", s);
    rb_add(&rb, "name", "a\0b", 3, 0);
    assert_string_equal(rb_get(&rb, "count"), "42");
    assert_null(rb_get(&rb, "skipped"));
    assert_int_equal(rb_finish(&rb, &res, &err), ROTP_E_OK);
    assert_int_equal(rb.count, 0);
    assert_null(rb.items);
    assert_int_equal(res.count, 4);
    for (i = 0; i < res.count; i++) {
        assert_int_equal(res.items[i].struct_size, sizeof(rotp_param));
        assert_int_equal(res.items[i].value[res.items[i].value_len], '\0');
    }
    assert_string_equal(res.items[0].key, "id");
    assert_string_equal(res.items[2].key, "secret");
    assert_int_equal(res.items[2].flags, ROTP_PARAM_SECRET);
    assert_string_equal(res.items[2].value, "cfut_newvalue");
    assert_int_equal(res.items[3].value_len, 3);
    for (i = 0; i < res.count; i++) {
        w.ptrs[w.n] = res.items[i].value;
        w.lens[w.n++] = res.items[i].value_len;
    }
    rotp__alloc_on_free(on_free, &w);
    params_result_free(&res);
    rotp__alloc_on_free(NULL, NULL);
    assert_int_equal(w.wiped, 4); /* every value, secret or not, was zero when freed */
    assert_int_equal(res.count, 0);
    assert_null(res.items);
    params_result_free(&res); /* twice is harmless */
    params_result_free(NULL);
    secret_free(s);
}

static void empty_result_and_small_result_struct(void **state)
{
    result_builder rb;
    rotp_result res = {sizeof(res), 0, NULL, NULL};
    rotp_error err;

    (void)state;
    err_init(&err);
    rb_init(&rb);
    assert_int_equal(rb_finish(&rb, &res, &err), ROTP_E_OK);
    assert_int_equal(res.count, 0);
    assert_null(res.items);
    rb_adds(&rb, "id", "x");
    res.struct_size = offsetof(rotp_result, items);
    assert_int_equal(rb_finish(&rb, &res, &err), ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(rb.count, 0);
    rb_free(&rb);
    rb_free(NULL);
}

static void allocation_failures_in_the_builder(void **state)
{
    unsigned long n;
    bool done = false;
    secret_buf *s = secret_new("value", 5);

    (void)state;
    for (n = 1; !done && n < 200; n++) {
        result_builder rb;
        rotp_result res = {sizeof(res), 0, NULL, NULL};
        rotp_error err;
        int32_t rc;
        int i;

        err_init(&err);
        rotp__alloc_fail_at(n);
        rb_init(&rb);
        for (i = 0; i < 20; i++) /* enough to grow the item array */
            rb_addf(&rb, "count", "%d", i);
        rb_add_secret(&rb, "secret", s);
        rb_adds(&rb, "id", "x");
        rc = rb_finish(&rb, &res, &err);
        done = rotp__alloc_count() < n;
        if (rc == ROTP_E_OK) {
            assert_int_equal(res.count, 22);
        } else {
            assert_int_equal(rc, ROTP_E_NO_MEMORY);
            assert_int_equal(err.code, ROTP_E_NO_MEMORY);
            assert_int_equal(res.count, 0);
            assert_null(res.items);
        }
        params_result_free(&res);
    }
    rotp__alloc_fail_at(0);
    assert_true(done);
    secret_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_described_request_passes_and_reads),
        cmocka_unit_test(int_parsing_edges),
        cmocka_unit_test(keys_of_another_operation_or_unknown_are_refused),
        cmocka_unit_test(formats_and_ranges_are_checked_without_echoing_values),
        cmocka_unit_test(one_of_groups_need_exactly_one),
        cmocka_unit_test(a_config_takes_every_key_and_marks_required_ones),
        cmocka_unit_test(malformed_arrays_are_invalid_arguments),
        cmocka_unit_test(a_larger_stride_is_respected),
        cmocka_unit_test(a_too_small_struct_size_is_refused),
        cmocka_unit_test(result_builder_hands_over_and_free_wipes),
        cmocka_unit_test(empty_result_and_small_result_struct),
        cmocka_unit_test(allocation_failures_in_the_builder),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
