/* SPDX-License-Identifier: MIT */
/* test_inventory.c - the fleet inventory parser (harness/inventory.c): a good file, every error
 * it reports (with index and key, all of them at once), the checks against kind descriptors that
 * a test-made provider publishes (no Cloudflare kind), the secret_file permission rule, and
 * every allocation failing in turn. */
#include "unit_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "inventory.h"

/* ---- a provider's self-description, made up for the tests ---------------------------------- */

#define KEY(k, fmt, fl, role, req, oneof, env, choices, mn, mx)                                    \
    {                                                                                              \
        sizeof(rotp_key_info), fl, k, fmt, "test", role, 0x3f, req, oneof, NULL, env, choices, mn, \
            mx                                                                                     \
    }

static const char *const scope_env[] = {"INVTEST_SCOPE", NULL};
static const char *const strategies[] = {"swap", "rotate", NULL};

/* kind "t.tok": id (hex32, required), scope (hex32, required, env INVTEST_SCOPE), secret,
 * run_id, probe (url), grace (int 0..100) */
static const rotp_key_info tok_keys[] = {
    KEY("id", "hex32", 0, ROTP_ROLE_ID, ROTP_OP_ROLL, 0, NULL, NULL, 0, 0),
    KEY("scope", "hex32", 0, ROTP_ROLE_SCOPE, ROTP_OP_ROLL, 0, scope_env, NULL, 0, 0),
    KEY("secret", "token", ROTP_KEY_SECRET, ROTP_ROLE_SECRET_PART, ROTP_OP_VERIFY, 0, NULL, NULL, 0,
        0),
    KEY("run_id", "text", 0, ROTP_ROLE_RUN_ID, 0, 0, NULL, NULL, 0, 0),
    KEY("probe", "url", 0, ROTP_ROLE_PROBE, 0, 0, NULL, NULL, 0, 0),
    KEY("grace", "int", 0, ROTP_ROLE_OVERLAP, 0, 0, NULL, NULL, 0, 100),
};
/* kind "t.svc": id (uuid), one of org/site (hex32), strategy (enum) */
static const rotp_key_info svc_keys[] = {
    KEY("id", "uuid", 0, ROTP_ROLE_ID, ROTP_OP_ROLL, 0, NULL, NULL, 0, 0),
    KEY("org", "hex32", 0, ROTP_ROLE_SCOPE, ROTP_OP_ROLL, 1, NULL, NULL, 0, 0),
    KEY("site", "hex32", 0, ROTP_ROLE_SCOPE, ROTP_OP_ROLL, 1, NULL, NULL, 0, 0),
    KEY("strategy", "enum", 0, ROTP_ROLE_STRATEGY, 0, 0, NULL, strategies, 0, 0),
};

#define KIND(name, keys, cadence)                                                                  \
    {                                                                                              \
        .struct_size = sizeof(rotp_kind_info), .ops = 0x3f, .kind = name,                          \
        .nrequest_keys = sizeof(keys) / sizeof(keys[0]), .request_keys = keys,                     \
        .cadence_days = cadence                                                                    \
    }

static const rotp_kind_info k_tok = KIND("t.tok", tok_keys, 90);
static const rotp_kind_info k_svc = KIND("t.svc", svc_keys, 0);
static const rotp_kind_info k_noroll = {.struct_size = sizeof(rotp_kind_info),
                                        .ops = ROTP_OP_LIST,
                                        .kind = "t.list",
                                        .nrequest_keys = 1,
                                        .request_keys = tok_keys};
static const rotp_kind_info *const kinds[] = {&k_tok, &k_svc, &k_noroll, NULL};

#define H1 "0123456789abcdef0123456789abcdef"
#define H2 "fedcba9876543210fedcba9876543210"
#define U1 "f174e90a-fafe-4643-bbbc-4a0ed4fc8415"

/* ---- helpers -------------------------------------------------------------------------------- */

static inv_status parse(inventory *inv, inv_issues *iss, const char *text)
{
    memset(iss, 0, sizeof(*iss));
    return inv_parse(inv, text, strlen(text), iss);
}

/* Parses and checks against the kinds (the check runs only when the parse was clean). */
static inv_status parse_check(inventory *inv, inv_issues *iss, const char *text)
{
    inv_status rc = parse(inv, iss, text);
    if (rc != INV_OK)
        return rc;
    return inv_check_kinds(inv, kinds, iss);
}

/* True when an issue at index with key exists whose message contains needle. */
static bool has_issue(const inv_issues *iss, int index, const char *key, const char *needle)
{
    for (int i = 0; i < iss->n; i++) {
        const inv_issue *it = &iss->items[i];
        if (it->index == index && strcmp(it->key, key) == 0 &&
            (needle == NULL || strstr(it->msg, needle) != NULL))
            return true;
    }
    return false;
}

static void dump(const inv_issues *iss)
{
    for (int i = 0; i < iss->n; i++)
        print_message("  issue %d [%s]: %s\n", iss->items[i].index, iss->items[i].key,
                      iss->items[i].msg);
}

#define EXPECT_ISSUE(iss, idx, key, needle)                                                        \
    do {                                                                                           \
        if (!has_issue(iss, idx, key, needle)) {                                                   \
            dump(iss);                                                                             \
            fail_msg("no issue at %d key '%s' with '%s'", idx, key, needle ? needle : "");         \
        }                                                                                          \
    } while (0)

static const char *good =
    "{\"version\":1,"
    " \"defaults\":{\"scope\":\"" H1 "\",\"cadence_days\":30,\"exec\":\"deploy-hook\","
    "   \"org\":\"" H2 "\"},"
    " \"credentials\":["
    "  {\"name\":\"PAGES\",\"aliases\":[\"OLD_PAGES\"],\"kind\":\"t.tok\",\"id\":\"" H1 "\","
    "   \"secret_file\":\"/nonexistent/pages.env\",\"out\":\"/tmp/pages.env\",\"grace\":60},"
    "  {\"name\":\"EDGE\",\"kind\":\"t.svc\",\"id\":\"" U1 "\",\"strategy\":\"rotate\","
    "   \"cadence_days\":7,\"exec\":\"other\",\"token_file\":\"/etc/mgmt.tok\"}]}";

/* ---- a good file ------------------------------------------------------------------------------
 */

static void good_file_parses_with_defaults_applied(void **state)
{
    inventory inv;
    inv_issues iss;
    (void)state;

    assert_int_equal(parse_check(&inv, &iss, good), INV_OK);
    assert_int_equal(iss.n, 0);
    assert_int_equal(inv.version, 1);
    assert_int_equal(inv.n, 2);
    const inv_entry *a = &inv.entries[0], *b = &inv.entries[1];
    assert_string_equal(a->name, "PAGES");
    assert_int_equal(a->naliases, 1);
    assert_string_equal(a->aliases[0], "OLD_PAGES");
    assert_string_equal(inv_get(a, "id"), H1);
    assert_string_equal(inv_get(a, "grace"), "60"); /* a number kept as its text */
    assert_string_equal(inv_get(a, "scope"), H1);   /* from defaults */
    assert_null(inv_get(a, "org"));                 /* a default t.tok does not take */
    assert_int_equal(a->cadence_days, 30);          /* defaults beat the kind's 90 */
    assert_string_equal(a->exec, "deploy-hook");    /* inherited */
    assert_null(a->token_file);
    assert_string_equal(b->exec, "other"); /* its own wins */
    assert_int_equal(b->cadence_days, 7);
    assert_string_equal(b->token_file, "/etc/mgmt.tok");
    assert_string_equal(inv_get(b, "org"), H2); /* the default fills the one_of group */
    assert_null(inv_get(b, "scope"));
    assert_ptr_equal(inv_find(&inv, "OLD_PAGES"), a);
    assert_ptr_equal(inv_find(&inv, "EDGE"), b);
    assert_null(inv_find(&inv, "NOPE"));
    inv_free(&inv);
    inv_free(&inv); /* idempotent */
}

static void cadence_comes_from_the_kind_when_not_given(void **state)
{
    inventory inv;
    inv_issues iss;
    (void)state;

    assert_int_equal(parse_check(&inv, &iss,
                                 "{\"version\":1,\"credentials\":[{\"name\":\"A\",\"kind\":"
                                 "\"t.tok\",\"id\":\"" H1 "\",\"scope\":\"" H2 "\"}]}"),
                     INV_OK);
    assert_int_equal(inv.entries[0].cadence_days, 90);
    inv_free(&inv);
}

static void a_required_key_comes_from_its_environment_fallback(void **state)
{
    inventory inv;
    inv_issues iss;
    const char *text = "{\"version\":1,\"credentials\":[{\"name\":\"A\",\"kind\":\"t.tok\","
                       "\"id\":\"" H1 "\"}]}";
    (void)state;

    unsetenv("INVTEST_SCOPE");
    assert_int_equal(parse_check(&inv, &iss, text), INV_EBAD);
    EXPECT_ISSUE(&iss, 0, "scope", "$INVTEST_SCOPE");
    inv_free(&inv);
    setenv("INVTEST_SCOPE", H2, 1);
    assert_int_equal(parse_check(&inv, &iss, text), INV_OK);
    assert_string_equal(inv_get(&inv.entries[0], "scope"), H2);
    inv_free(&inv);
    unsetenv("INVTEST_SCOPE");
}

/* ---- structure errors ------------------------------------------------------------------------ */

static void file_level_errors(void **state)
{
    static const struct {
        const char *text;
        const char *key;
        const char *needle;
    } cases[] = {
        {"{\"version\":1,", "", "not valid JSON"},
        {"{\"version\":1,\"version\":1,\"credentials\":[]}", "", "same key twice"},
        {"[1]", "", "one JSON object"},
        {"{\"credentials\":[{}]}", "version", "must be 1"},
        {"{\"version\":2,\"credentials\":[{}]}", "version", "must be 1"},
        {"{\"version\":\"1\",\"credentials\":[{}]}", "version", "must be 1"},
        {"{\"version\":1}", "credentials", "array of 1 to"},
        {"{\"version\":1,\"credentials\":[]}", "credentials", "array of 1 to"},
        {"{\"version\":1,\"credentials\":{}}", "credentials", "array of 1 to"},
        {"{\"version\":1,\"defaults\":[],\"credentials\":[{\"name\":\"A\",\"kind\":\"k\"}]}",
         "defaults", "must be an object"},
        {"{\"version\":1,\"credental\":[],\"credentials\":[{\"name\":\"A\",\"kind\":\"k\"}]}",
         "credental", "unknown key"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        inventory inv;
        inv_issues iss;
        print_message("case %zu\n", i);
        assert_int_equal(parse(&inv, &iss, cases[i].text), INV_EBAD);
        EXPECT_ISSUE(&iss, INV_AT_FILE, cases[i].key, cases[i].needle);
        inv_free(&inv);
    }
}

/* One file with a fault in every entry: all of them are reported, each at its index and key. */
static void every_bad_entry_is_reported_with_index_and_key(void **state)
{
    inventory inv;
    inv_issues iss;
    const char *text =
        "{\"version\":1,\"defaults\":{\"name\":\"X\",\"out\":\"/o\",\"id\":\"" H1 "\"},"
        "\"credentials\":["
        /* 0 */ "[],"
        /* 1 */ "{\"kind\":\"t.tok\"},"
        /* 2 */ "{\"name\":\"9BAD\",\"kind\":\"t.tok\"},"
        /* 3 */ "{\"name\":\"NOKIND\"},"
        /* 4 */ "{\"name\":\"C\",\"kind\":\"t.tok\",\"aliases\":\"C_OLD\"},"
        /* 5 */ "{\"name\":\"D\",\"kind\":\"t.tok\",\"aliases\":[\"A1\",\"A2\",\"A3\",\"A4\","
        "\"A5\",\"A6\",\"A7\",\"A8\",\"A9\"]},"
        /* 6 */ "{\"name\":\"E\",\"kind\":\"t.tok\",\"cadence_days\":0},"
        /* 7 */ "{\"name\":\"F\",\"kind\":\"t.tok\",\"cadence_days\":\"90\"},"
        /* 8 */ "{\"name\":\"G\",\"kind\":\"t.tok\",\"cadence_days\":4000},"
        /* 9 */ "{\"name\":\"H\",\"kind\":\"t.tok\",\"out\":\"\"},"
        /* 10 */ "{\"name\":\"I\",\"kind\":\"t.tok\",\"exec\":42},"
        /* 11 */ "{\"name\":\"J\",\"kind\":\"t.tok\",\"scope\":[1]},"
        /* 12 */ "{\"name\":\"K\",\"kind\":\"t.tok\",\"scope\":null},"
        /* 13 */ "{\"name\":\"C\",\"kind\":\"t.tok\"},"
        /* 14 */ "{\"name\":\"L\",\"kind\":\"t.tok\",\"aliases\":[\"C\",\"L\"]},"
        /* 15 */ "{\"name\":\"M\",\"kind\":\"t.tok\",\"out\":\"/same\"},"
        /* 16 */ "{\"name\":\"N\",\"kind\":\"t.tok\",\"out\":\"/same\"},"
        /* 17 */ "{\"name\":\"O\",\"kind\":\"t.tok\",\"secret_file\":\"a\\nb\"}"
        "]}";
    (void)state;

    assert_int_equal(parse(&inv, &iss, text), INV_EBAD);
    EXPECT_ISSUE(&iss, INV_AT_DEFAULTS, "name", "differs per credential");
    EXPECT_ISSUE(&iss, INV_AT_DEFAULTS, "out", "differs per credential");
    EXPECT_ISSUE(&iss, INV_AT_DEFAULTS, "id", "differs per credential");
    EXPECT_ISSUE(&iss, 0, "", "must be an object");
    EXPECT_ISSUE(&iss, 1, "name", "missing");
    EXPECT_ISSUE(&iss, 2, "name", "variable name");
    EXPECT_ISSUE(&iss, 3, "kind", "missing");
    EXPECT_ISSUE(&iss, 4, "aliases", "array of names");
    EXPECT_ISSUE(&iss, 5, "aliases", "at most 8");
    EXPECT_ISSUE(&iss, 6, "cadence_days", "1 to 3650");
    EXPECT_ISSUE(&iss, 7, "cadence_days", "1 to 3650");
    EXPECT_ISSUE(&iss, 8, "cadence_days", "1 to 3650");
    EXPECT_ISSUE(&iss, 9, "out", "non-empty");
    EXPECT_ISSUE(&iss, 10, "exec", "must be a string");
    EXPECT_ISSUE(&iss, 11, "scope", "string, a whole number or a boolean");
    EXPECT_ISSUE(&iss, 12, "scope", "string, a whole number or a boolean");
    EXPECT_ISSUE(&iss, 13, "name", "already used by credentials[4]");
    EXPECT_ISSUE(&iss, 14, "aliases", "C is already used by credentials[4]");
    EXPECT_ISSUE(&iss, 14, "aliases", "own name");
    EXPECT_ISSUE(&iss, 16, "out", "credentials[15]");
    EXPECT_ISSUE(&iss, 17, "secret_file", "one line");
    assert_false(has_issue(&iss, 15, "out", NULL));
    assert_int_equal(iss.dropped, 0);
    inv_free(&inv);
}

static void issues_beyond_the_limit_are_counted(void **state)
{
    char *text = malloc(64 * 1024);
    size_t used;
    inventory inv;
    inv_issues iss;
    (void)state;

    assert_non_null(text);
    used = (size_t)sprintf(text, "{\"version\":1,\"credentials\":[");
    for (int i = 0; i < INV_MAX_ISSUES + 20; i++)
        used += (size_t)sprintf(text + used, "%s{\"kind\":\"t.tok\"}", i ? "," : "");
    sprintf(text + used, "]}");
    assert_int_equal(parse(&inv, &iss, text), INV_EBAD);
    assert_int_equal(iss.n, INV_MAX_ISSUES);
    assert_int_equal(iss.dropped, 20);
    inv_free(&inv);
    free(text);
}

/* ---- checks against the kinds -----------------------------------------------------------------
 */

static void kind_checks_report_every_entry(void **state)
{
    inventory inv;
    inv_issues iss;
    const char *text =
        "{\"version\":1,\"credentials\":["
        /* 0 */ "{\"name\":\"A\",\"kind\":\"t.nope\",\"id\":\"x\"},"
        /* 1 */ "{\"name\":\"B\",\"kind\":\"t.tok\",\"id\":\"" H1 "\",\"scope\":\"" H1 "\","
        "\"zone\":\"" H1 "\"},"
        /* 2 */ "{\"name\":\"C\",\"kind\":\"t.tok\",\"id\":\"" H1 "\",\"scope\":\"" H1 "\","
        "\"secret\":\"s3cr3t\"},"
        /* 3 */ "{\"name\":\"D\",\"kind\":\"t.tok\",\"id\":\"" H1 "\",\"scope\":\"" H1 "\","
        "\"run_id\":\"r1\"},"
        /* 4 */ "{\"name\":\"E\",\"kind\":\"t.tok\",\"id\":\"ABC\",\"scope\":\"" H1 "\"},"
        /* 5 */ "{\"name\":\"F\",\"kind\":\"t.tok\",\"id\":\"" H1 "\",\"scope\":\"" H1 "\","
        "\"grace\":101},"
        /* 6 */ "{\"name\":\"G\",\"kind\":\"t.tok\",\"id\":\"" H1 "\",\"scope\":\"" H1 "\","
        "\"grace\":\"soon\"},"
        /* 7 */ "{\"name\":\"H\",\"kind\":\"t.tok\",\"id\":\"" H1 "\",\"scope\":\"" H1 "\","
        "\"probe\":\"ftp://x\"},"
        /* 8 */ "{\"name\":\"I\",\"kind\":\"t.tok\",\"scope\":\"" H1 "\"},"
        /* 9 */ "{\"name\":\"J\",\"kind\":\"t.svc\",\"id\":\"" U1 "\"},"
        /* 10 */ "{\"name\":\"K\",\"kind\":\"t.svc\",\"id\":\"" U1 "\",\"org\":\"" H1 "\","
        "\"site\":\"" H1 "\"},"
        /* 11 */ "{\"name\":\"L\",\"kind\":\"t.svc\",\"id\":\"" U1 "\",\"org\":\"" H1 "\","
        "\"strategy\":\"yolo\"},"
        /* 12 */ "{\"name\":\"M\",\"kind\":\"t.list\"},"
        /* 13 */ "{\"name\":\"N\",\"kind\":\"t.svc\",\"id\":\"" H1 "\",\"site\":\"" H1 "\"}"
        "]}";
    (void)state;

    unsetenv("INVTEST_SCOPE");
    assert_int_equal(parse_check(&inv, &iss, text), INV_EBAD);
    EXPECT_ISSUE(&iss, 0, "kind", "no kind t.nope");
    EXPECT_ISSUE(&iss, 1, "zone", "takes no such key");
    EXPECT_ISSUE(&iss, 2, "secret", "never in the inventory");
    EXPECT_ISSUE(&iss, 3, "run_id", "set by the harness");
    EXPECT_ISSUE(&iss, 4, "id", "32 lowercase hex");
    EXPECT_ISSUE(&iss, 5, "grace", "out of range");
    EXPECT_ISSUE(&iss, 6, "grace", "whole number");
    EXPECT_ISSUE(&iss, 7, "probe", "URL");
    EXPECT_ISSUE(&iss, 8, "id", "missing");
    EXPECT_ISSUE(&iss, 9, "org", "none given");
    EXPECT_ISSUE(&iss, 10, "org", "both given");
    EXPECT_ISSUE(&iss, 11, "strategy", "one of: swap rotate");
    EXPECT_ISSUE(&iss, 12, "kind", "cannot be rotated");
    EXPECT_ISSUE(&iss, 13, "id", "UUID");
    /* no secret value in any message */
    for (int i = 0; i < iss.n; i++)
        assert_null(strstr(iss.items[i].msg, "s3cr3t"));
    inv_free(&inv);
}

static void unknown_default_kind_is_reported(void **state)
{
    inventory inv;
    inv_issues iss;
    (void)state;

    assert_int_equal(parse_check(&inv, &iss,
                                 "{\"version\":1,\"defaults\":{\"kind\":\"t.gone\"},"
                                 "\"credentials\":[{\"name\":\"A\"}]}"),
                     INV_EBAD);
    EXPECT_ISSUE(&iss, INV_AT_DEFAULTS, "kind", "no kind t.gone");
    EXPECT_ISSUE(&iss, 0, "kind", "no kind t.gone");
    inv_free(&inv);
}

/* ---- secret files ---------------------------------------------------------------------------- */

static void secret_files_follow_the_permission_rule(void **state)
{
    char dir[] = "/tmp/invtest.XXXXXX";
    char ok[64], loose[64], group[64], missing[64], text[2048];
    inventory inv;
    inv_issues iss;
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(ok, sizeof(ok), "%s/ok", dir);
    snprintf(loose, sizeof(loose), "%s/loose", dir);
    snprintf(group, sizeof(group), "%s/group", dir);
    snprintf(missing, sizeof(missing), "%s/missing", dir);
    FILE *f = fopen(ok, "w");
    assert_non_null(f);
    fclose(f);
    f = fopen(loose, "w");
    assert_non_null(f);
    fclose(f);
    f = fopen(group, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(chmod(ok, 0600), 0);
    assert_int_equal(chmod(loose, 0644), 0);
    assert_int_equal(chmod(group, 0640), 0);
    snprintf(text, sizeof(text),
             "{\"version\":1,\"credentials\":["
             "{\"name\":\"A\",\"kind\":\"k\",\"secret_file\":\"%s\"},"
             "{\"name\":\"B\",\"kind\":\"k\",\"secret_file\":\"%s\"},"
             "{\"name\":\"C\",\"kind\":\"k\",\"secret_file\":\"%s\"},"
             "{\"name\":\"D\",\"kind\":\"k\",\"secret_file\":\"%s\"},"
             "{\"name\":\"E\",\"kind\":\"k\",\"secret_file\":\"%s\"},"
             "{\"name\":\"F\",\"kind\":\"k\",\"token_file\":\"%s\"},"
             "{\"name\":\"G\",\"kind\":\"k\",\"token_file\":\"%s\"},"
             "{\"name\":\"H\",\"kind\":\"k\",\"token_file\":\"%s\"}]}",
             ok, loose, group, missing, dir, ok, loose, missing);
    assert_int_equal(parse(&inv, &iss, text), INV_OK);
    assert_int_equal(inv_check_files(&inv, false, &iss), INV_EBAD);
    assert_false(has_issue(&iss, 0, "secret_file", NULL));
    EXPECT_ISSUE(&iss, 1, "secret_file", "read or written by others");
    EXPECT_ISSUE(&iss, 1, "secret_file", "chmod 600");
    EXPECT_ISSUE(&iss, 2, "secret_file", "by its group");
    assert_false(has_issue(&iss, 3, "secret_file", NULL)); /* missing: plan says so */
    EXPECT_ISSUE(&iss, 4, "secret_file", "not a regular file");
    assert_false(has_issue(&iss, 5, "token_file", NULL));
    EXPECT_ISSUE(&iss, 6, "token_file", "read or written by others");
    EXPECT_ISSUE(&iss, 7, "token_file", "No such file"); /* a management credential must exist */
    assert_int_equal(iss.n, 5);

    /* --allow-unsafe-secret-files lifts the mode rule but not the file-type rule */
    memset(&iss, 0, sizeof(iss));
    assert_int_equal(inv_check_files(&inv, true, &iss), INV_EBAD);
    assert_int_equal(iss.n, 2);
    EXPECT_ISSUE(&iss, 7, "token_file", "No such file");
    EXPECT_ISSUE(&iss, 4, "secret_file", "not a regular file");
    inv_free(&inv);
    unlink(ok);
    unlink(loose);
    unlink(group);
    rmdir(dir);
}

static void load_reports_unreadable_files(void **state)
{
    inventory inv;
    inv_issues iss;
    (void)state;

    memset(&iss, 0, sizeof(iss));
    assert_int_equal(inv_load(&inv, "/nonexistent/inventory.json", &iss), INV_EIO);
    EXPECT_ISSUE(&iss, INV_AT_FILE, "", "cannot open");
    inv_free(&inv);
    memset(&iss, 0, sizeof(iss));
    assert_int_equal(inv_load(&inv, "/tmp", &iss), INV_EIO);
    EXPECT_ISSUE(&iss, INV_AT_FILE, "", "not a regular file");
    inv_free(&inv);
}

/* ---- allocation failures --------------------------------------------------------------------- */

static void every_allocation_failure_is_clean(void **state)
{
    (void)state;
    for (unsigned long n = 1;; n++) {
        inventory inv;
        inv_issues iss;
        inv_status rc;
        memset(&iss, 0, sizeof(iss));
        rotp__alloc_fail_at(n);
        rc = inv_parse(&inv, good, strlen(good), &iss);
        if (rc == INV_OK)
            rc = inv_check_kinds(&inv, kinds, &iss);
        unsigned long used = rotp__alloc_count();
        rotp__alloc_fail_at(0);
        inv_free(&inv);
        if (rc == INV_OK) {
            assert_true(used < n); /* the hook was never reached: done */
            break;
        }
        assert_int_equal(rc, INV_ENOMEM);
        assert_true(n < 1000);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_file_parses_with_defaults_applied),
        cmocka_unit_test(cadence_comes_from_the_kind_when_not_given),
        cmocka_unit_test(a_required_key_comes_from_its_environment_fallback),
        cmocka_unit_test(file_level_errors),
        cmocka_unit_test(every_bad_entry_is_reported_with_index_and_key),
        cmocka_unit_test(issues_beyond_the_limit_are_counted),
        cmocka_unit_test(kind_checks_report_every_entry),
        cmocka_unit_test(unknown_default_kind_is_reported),
        cmocka_unit_test(secret_files_follow_the_permission_rule),
        cmocka_unit_test(load_reports_unreadable_files),
        cmocka_unit_test(every_allocation_failure_is_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
