/* SPDX-License-Identifier: MIT */
/* fuzz_parsers.c - a libFuzzer target over the provider's parsers: the strict JSON reader, the
 * Cloudflare envelope, request checking against the published descriptions (ABI 1.1), and the
 * time and id formats. The first byte of an input picks the parser; the rest is its input.
 *
 * Besides "no crash, no leak, no undefined behaviour" (ASan/UBSan), it checks properties that
 * must hold for every input, and traps when one does not:
 *  - json_parse() accepts exactly what json_valid() accepts (bar duplicate keys and memory);
 *  - every string token of an accepted document unescapes, and json_skip() moves forward;
 *  - an envelope that parses has a boolean success, and errors/result indices inside the doc;
 *  - preq_check() either refuses a request or every key it let through is described for the
 *    operation and has its format;
 *  - a time that parses formats back, and parses again to the same second;
 *  - the RateLimit header parsers leave their output untouched when they refuse a value, keep
 *    every number they accept within its cap, and the pacer never asks for a longer wait than
 *    the longest a header can announce.
 *
 * Built two ways: with clang -fsanitize=fuzzer (tests/fuzz/run-fuzz.sh) to explore, and with
 * replay.c as a plain program that CTest runs over the committed corpus (tests/fuzz/corpus). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "cfapi.h"
#include "ids.h"
#include "json.h"
#include "params.h"
#include "ratelimit.h"
#include "timefmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

static void fuzz_json(const char *s, size_t n)
{
    json_doc d;
    int rc = json_parse(&d, s, n);

    if (rc == JSON_OK || rc == JSON_EDUPKEY)
        REQUIRE(json_valid(s, n));
    if (rc == JSON_EINVAL)
        REQUIRE(!json_valid(s, n));
    if (rc != JSON_OK)
        return;
    for (int t = 0; t < d.ntoks; t++) {
        char *str = NULL;
        int64_t v;
        bool b;

        REQUIRE(json_skip(&d, t) > t);
        if (json_is_string(&d, t)) {
            int r = json_strdup(&d, t, &str);
            REQUIRE(r == JSON_OK || r == JSON_ENOMEM);
            free(str);
        }
        (void)json_get_int64(&d, t, &v);
        (void)json_get_bool(&d, t, &b);
        (void)json_get(&d, t, "result");
        (void)json_at(&d, t, 1);
    }
    json_free(&d);
}

static void fuzz_envelope(const char *s, size_t n)
{
    cf_envelope env;
    bool retryable;

    if (cf_envelope_parse(&env, s, n) != JSON_OK)
        return;
    REQUIRE(env.result < env.doc.ntoks && env.errors < env.doc.ntoks);
    REQUIRE(strlen(env.error_message) < sizeof(env.error_message));
    (void)cf_classify(400 + (long)(n % 200), env.error_code, env.error_message, &retryable);
    cf_envelope_free(&env);
}

/* Lines "key=value" (values may hold any byte, NUL included) as a request; checked against every
 * kind's description for every operation, and against the config description. */
static void fuzz_params(const char *s, size_t n)
{
    static const uint32_t ops[] = {ROTP_OP_DESCRIBE, ROTP_OP_ROLL,      ROTP_OP_VERIFY,
                                   ROTP_OP_REVOKE,   ROTP_OP_PROVISION, ROTP_OP_LIST};
    char keys[32][65];
    rotp_param items[32];
    rotp_params req = {sizeof(req), 0, items};
    const char *p = s, *end = s + n;
    rotp_error err;

    while (p < end && req.count < 32) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl != NULL ? nl : end;
        const char *eq = memchr(p, '=', (size_t)(line_end - p));
        size_t klen = eq != NULL ? (size_t)(eq - p) : (size_t)(line_end - p);

        if (klen > 64)
            klen = 64;
        memcpy(keys[req.count], p, klen);
        keys[req.count][klen] = '\0';
        items[req.count] =
            (rotp_param){sizeof(rotp_param), 0, keys[req.count], eq != NULL ? eq + 1 : "",
                         eq != NULL ? (uint64_t)(line_end - eq - 1) : 0};
        req.count++;
        p = line_end + 1;
    }
    memset(&err, 0, sizeof(err));
    err.struct_size = sizeof(err);
    for (size_t k = 0; adapter_kind_info[k] != NULL; k++) {
        const rotp_kind_info *ki = adapter_kind_info[k];

        for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
            preq r;

            if (preq_check(&r, &req, ki->request_keys, ki->nrequest_keys, ops[o], "kind", "request",
                           &err) != ROTP_E_OK)
                continue;
            for (uint32_t i = 0; i < req.count; i++) {
                const rotp_key_info *info = preq_info(&r, items[i].key);
                if (strcmp(items[i].key, "kind") == 0)
                    continue;
                REQUIRE(info != NULL && (info->ops & ops[o]));
                REQUIRE(params_format_ok(info->format, items[i].value, items[i].value_len,
                                         info->min_value, info->max_value, info->choices));
                (void)preq_int(&r, items[i].key);
                (void)preq_bool(&r, items[i].key);
            }
        }
    }
}

/* One RateLimit parser over s: untouched output when it refuses, numbers within caps. */
static void fuzz_rl_one(int which, const char *s, size_t n, rl_info *acc)
{
    rl_info in, before;
    bool ok;

    memset(&in, 0xa5, sizeof(in)); /* the numbers hold a pattern, the flags are false */
    in.have_remaining = in.have_reset = in.have_policy = false;
    before = in;
    ok = which == 0   ? rl_parse_ratelimit(s, n, &in)
         : which == 1 ? rl_parse_policy(s, n, &in)
                      : rl_parse_field("lrt"[which - 2], s, n, &in);
    if (!ok) {
        REQUIRE(memcmp(&in, &before, sizeof(in)) == 0);
        return;
    }
    REQUIRE(in.have_remaining || in.have_reset || in.have_policy);
    if (in.have_remaining) {
        REQUIRE(in.remaining >= 0 && in.remaining <= 1000000000);
        acc->have_remaining = true;
        acc->remaining = in.remaining;
    }
    if (in.have_reset) {
        REQUIRE(in.reset_s >= 0 && in.reset_s <= RL_MAX_SECONDS);
        acc->have_reset = true;
        acc->reset_s = in.reset_s;
    }
    if (in.have_policy) {
        REQUIRE(in.quota >= 0 && in.quota <= 1000000000);
        REQUIRE(in.window_s >= 0 && in.window_s <= RL_MAX_SECONDS);
        acc->have_policy = true;
        acc->quota = in.quota;
        acc->window_s = in.window_s;
    }
}

static void fuzz_ratelimit(const char *s, size_t n)
{
    rl_info acc;
    rl_state st;
    rl_bucket *b;
    uint32_t reason;

    memset(&acc, 0, sizeof(acc));
    for (int which = 0; which < 5; which++)
        fuzz_rl_one(which, s, n, &acc);
    rl_init(&st, 1, 2);
    b = rl_bucket_for(&st, s, n, 1000);
    rl_note_sent(b, 1000);
    rl_note_response(b, 1010, &acc, n > 0 && s[0] == '!' ? 429 : 200, 0);
    REQUIRE(rl_wait_ms(b, 1010, &reason) <= (uint64_t)RL_MAX_SECONDS * 1000u + 1000u);
}

static void fuzz_formats(const char *s, size_t n)
{
    int64_t t = 0, t2 = 0, ms = 0;
    char buf[RFC3339_LEN];

    if (rfc3339_parse(s, n, &t) == 0 && rfc3339_format(t, buf, sizeof(buf)) == 0) {
        REQUIRE(rfc3339_parse(buf, strlen(buf), &t2) == 0);
        REQUIRE(t == t2);
    }
    (void)duration_parse_ms(s, n, &ms);
    (void)id_is_hex32(s, n);
    (void)id_is_uuid(s, n);
    (void)id_is_run_id(s, n, 40);
    (void)header_value_ok(s, n, 1024);
    (void)secret_shape_ok(s, n);
    fuzz_ratelimit(s, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data + 1;
    size_t n;

    if (size < 1 || size > 65536)
        return 0;
    n = size - 1;
    switch (data[0] % 4) {
    case 0:
        fuzz_json(s, n);
        break;
    case 1:
        fuzz_envelope(s, n);
        break;
    case 2:
        fuzz_params(s, n);
        break;
    default:
        fuzz_formats(s, n);
        break;
    }
    return 0;
}
