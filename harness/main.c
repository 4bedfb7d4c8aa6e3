/* SPDX-License-Identifier: MIT */
/* main.c - rotp-harness: command-line parsing, help, and dispatch to the command modules. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "creds.h"
#include "demo.h"
#include "fleet.h"
#include "harden.h"
#include "harness.h"
#include "ids.h"
#include "loader.h"
#include "ops.h"
#include "dynbuf.h"
#include "output.h"
#include "request.h"
#include "rotate.h"
#include "sandbox.h"
#include "secret.h"

#ifndef ROTP_HARNESS_VERSION
#define ROTP_HARNESS_VERSION "0.0.0"
#endif

typedef struct cmd_help {
    const char *name;
    const char *synopsis;
    const char *text;
} cmd_help;

#define OPTS_LOAD "  --plugin PATH --sha256 HEX --allow-unsafe-plugin -v/--verbose --json\n"
#define OPTS_API                                                                                   \
    "  --token-file FILE  --account ID  --zone ID  --api-base URL  --ca-file PATH\n"               \
    "  (or the environment variables the provider names: `rotp-harness info`)\n"                   \
    "  --allow-insecure-loopback\n"                                                                \
    "  --proxy URL|none  --allow-unsafe-secret-files  --config KEY=VALUE\n"
#define OPTS_REQ                                                                                   \
    "  --kind KIND --id ID --name NAME --strategy S --grace SECONDS --probe-url URL\n"             \
    "  --probe-path PATH --run-id ID --param KEY=VALUE (never a secret)\n"
#define OPTS_SECRET "  --secret-file FILE | --secret-env NAME | --secret-stdin   [--client-id ID]\n"
#define OPTS_SINKS                                                                                 \
    "  --out FILE  --exec CMD  --print-secret  --secret-name NAME  --alias LEGACY (repeatable)\n"

static const cmd_help k_help[] = {
    {"info", "info [--plugin PATH] [--sha256 HEX] [--json]",
     "Loads the provider and prints its name, version, ABI version (provider's and\n"
     "negotiated), kinds and optional operations.\n" OPTS_LOAD},
    {"describe", "describe --kind KIND [--id ID] [options]",
     "One describe call: the credential's metadata, or without --id what the kind "
     "supports.\n" OPTS_LOAD OPTS_API OPTS_REQ},
    {"roll", "roll --kind KIND --id ID (--out FILE | --exec CMD | --print-secret) [options]",
     "One roll call. The new secret goes to the sinks before anything is printed.\n" OPTS_LOAD
         OPTS_API OPTS_REQ OPTS_SINKS},
    {"verify", "verify --kind KIND (--secret-file F | --secret-env N | --secret-stdin) [options]",
     "One verify call on a given secret. Exit 0 if active (and the probe gave 200), 3 if not.\n"
     "A non-secret part (a client id) comes from --client-id, the secret file, or describe "
     "--id.\n" OPTS_LOAD OPTS_API OPTS_REQ OPTS_SECRET},
    {"revoke", "revoke --kind KIND --id ID [--strategy S] [options]",
     "One revoke call; the strategy decides what ends (see `info`). Already gone is "
     "success.\n" OPTS_LOAD OPTS_API OPTS_REQ},
    {"list", "list --kind KIND [--name NAME] [--param search=TEXT] [options]",
     "One list call (never secrets).\n" OPTS_LOAD OPTS_API OPTS_REQ},
    {"provision",
     "provision --kind KIND --name NAME (--out FILE | --exec CMD | --print-secret) [options]",
     "One provision call (the kind's provision keys with --param KEY=VALUE, see `info`).\n"
     "The new secret goes to the sinks.\n" OPTS_LOAD OPTS_API OPTS_REQ OPTS_SINKS},
    {"rotate", "rotate --kind KIND --id ID (sinks) [--finish] [--dry-run] [options]",
     "The whole runbook: pre-check (describe; verify the current secret if given), roll,\n"
     "deliver to the sinks, verify the new secret (retried), then: a strategy without overlap:\n"
     "confirm the old value is rejected; with overlap: stop in it (finish later with --finish)\n"
     "or, with --grace 0, finish now. --finish: end the overlap or revoke the old credential\n"
     "(strategies that make a new one, --id = old id), then confirm the old secret is "
     "dead.\n" OPTS_LOAD OPTS_API OPTS_REQ OPTS_SECRET OPTS_SINKS
     "  --finish --dry-run --verify-tries N --verify-delay-ms MS --audit FILE --actor NAME\n"
     "  --journal FILE\n"},
    {"resume", "resume --journal FILE [credential and sink options]",
     "Finishes or rolls forward the last unfinished run in the journal. Kind, id, strategy,\n"
     "names and sinks default to the journal's; give the credential flags again.\n" OPTS_LOAD
         OPTS_API OPTS_SECRET OPTS_SINKS "  --audit FILE --actor NAME\n"},
    {"sandbox", "sandbox --kind KIND [--account ID | --zone ID] [--probe-url URL] [options]",
     "Sandbox validation on throwaway credentials: provision, verify, rotate, confirm new\n"
     "active and old dead, revoke, confirm gone. PASS/FAIL per step; cleans up on "
     "failure.\n" OPTS_LOAD OPTS_API
     "  --strategy S --param policies=JSON --verify-tries N --verify-delay-ms MS\n"},
    {"demo", "demo [--keep] [--cfemu PATH] [--plugin PATH] [--json] [-v]",
     "Starts cfemu on loopback (built-in seed, TLS), rotates every seeded kind with both\n"
     "service-token strategies, runs sandbox for each kind, prints a report. No network, no\n"
     "credentials. Exit 0 only if every step passed.\n"},
    {"plan",
     "plan --inventory FILE [--due-within DAYS] [--journal FILE] [--audit FILE] [--json] "
     "[options]",
     "A due report over an inventory (docs/rotp-harness.md, \"Inventory file\"): for every\n"
     "credential its state (the current secret verified), expiry and days left, last rotation\n"
     "and where that comes from, and whether it is due (broken, expiring within --due-within\n"
     "days (default 14), or by its cadence). Changes nothing. Exit 0: nothing due; 20: something\n"
     "is due; 21: something is broken.\n" OPTS_LOAD OPTS_API},
    {"apply",
     "apply --inventory FILE [--all | --only NAME ...] [--journal FILE] [--audit FILE] [--json]",
     "Rotates, in one process, what plan finds due (or --all, or --only NAME, repeatable):\n"
     "one provider instance per management credential, paced to the API's rate limit, one\n"
     "journal for the whole run. A failing entry is reported and the rest go on.\n"
     "apply --resume --journal FILE finishes an interrupted fleet run (also `resume`).\n" OPTS_LOAD
         OPTS_API "  --verify-tries N --verify-delay-ms MS --audit FILE --actor NAME --journal FILE\n"},
    {"help", "help [COMMAND]", "Lists the commands, or shows one command's options.\n"},
};

static const cmd_help *find_help(const char *name)
{
    for (size_t i = 0; i < sizeof(k_help) / sizeof(k_help[0]); i++) {
        if (strcmp(k_help[i].name, name) == 0)
            return &k_help[i];
    }
    return NULL;
}

static void usage_all(FILE *f)
{
    fprintf(f,
            "rotp-harness %s - run a rotp ABI v1 rotation provider outside the vault\n\n"
            "usage: rotp-harness COMMAND [OPTIONS]\n\ncommands:\n",
            ROTP_HARNESS_VERSION);
    for (size_t i = 0; i < sizeof(k_help) / sizeof(k_help[0]); i++)
        fprintf(f, "  %s\n", k_help[i].synopsis);
    fprintf(f, "\nNo secret is ever taken from argv. `rotp-harness help COMMAND` or `COMMAND "
               "--help` for details.\n"
               "Exit codes: 0 ok, 1 other failure, 2 usage, 3 verification failed, 4 credential "
               "invalid,\n5 permission denied, 6 not found, 7 rate limited, 8 outcome unknown, "
               "9 sink failure,\n10 provider not loaded. Manual: docs/rotp-harness.md\n");
}

static int show_help(const char *topic)
{
    if (topic == NULL) {
        usage_all(stdout);
        return HX_OK;
    }
    const cmd_help *h = find_help(topic);
    if (h == NULL) {
        fprintf(stderr, "rotp-harness: no such command: %s\n", topic);
        return HX_USAGE;
    }
    printf("usage: rotp-harness %s\n\n%s", h->synopsis, h->text);
    return HX_OK;
}

/* help --json: the command's synopsis and text in one object. */
static int help_json(const char *topic)
{
    const cmd_help *h = topic != NULL && strcmp(topic, "help") != 0 ? find_help(topic) : NULL;
    dynbuf b;
    int e = 0;
    if (topic != NULL && strcmp(topic, "help") != 0 && h == NULL) {
        fprintf(stderr, "rotp-harness: no such command: %s\n", topic);
        return HX_USAGE;
    }
    dynbuf_init(&b, 1024 * 1024);
    e |= dynbuf_adds(&b, "\"commands\":[");
    for (size_t i = 0; i < sizeof(k_help) / sizeof(k_help[0]); i++) {
        if (h != NULL && h != &k_help[i])
            continue;
        e |= dynbuf_adds(&b, b.data[b.len - 1] == '[' ? "{\"name\":" : ",{\"name\":");
        e |= dynbuf_json_cstr(&b, k_help[i].name);
        e |= dynbuf_adds(&b, ",\"synopsis\":");
        e |= dynbuf_json_cstr(&b, k_help[i].synopsis);
        e |= dynbuf_adds(&b, ",\"text\":");
        e |= dynbuf_json_cstr(&b, k_help[i].text);
        e |= dynbuf_adds(&b, "}");
    }
    e |= dynbuf_adds(&b, "]");
    out_json_report("help", HX_OK, NULL, e == 0 ? b.data : NULL);
    dynbuf_free(&b);
    return HX_OK;
}

enum {
    O_PLUGIN = 256,
    O_SHA256,
    O_JSON,
    O_TOKEN_FILE,
    O_ACCOUNT,
    O_ZONE,
    O_API_BASE,
    O_CA_FILE,
    O_INSECURE,
    O_CONFIG,
    O_SECRET_FILE,
    O_SECRET_ENV,
    O_SECRET_STDIN,
    O_CLIENT_ID,
    O_KIND,
    O_ID,
    O_NAME,
    O_STRATEGY,
    O_GRACE,
    O_PROBE_URL,
    O_PROBE_PATH,
    O_RUN_ID,
    O_PARAM,
    O_OUT,
    O_EXEC,
    O_PRINT_SECRET,
    O_SECRET_NAME,
    O_ALIAS,
    O_FINISH,
    O_DRY_RUN,
    O_VERIFY_TRIES,
    O_VERIFY_DELAY,
    O_AUDIT,
    O_ACTOR,
    O_JOURNAL,
    O_KEEP,
    O_CFEMU,
    O_VERSION,
    O_ALLOW_UNSAFE_PLUGIN,
    O_ALLOW_UNSAFE_SECRETS,
    O_PROXY,
    O_INVENTORY,
    O_DUE_WITHIN,
    O_ALL,
    O_ONLY,
    O_RESUME
};

static const struct option k_long[] = {
    {"help", no_argument, NULL, 'h'},
    {"verbose", no_argument, NULL, 'v'},
    {"version", no_argument, NULL, O_VERSION},
    {"plugin", required_argument, NULL, O_PLUGIN},
    {"sha256", required_argument, NULL, O_SHA256},
    {"json", no_argument, NULL, O_JSON},
    {"token-file", required_argument, NULL, O_TOKEN_FILE},
    {"account", required_argument, NULL, O_ACCOUNT},
    {"zone", required_argument, NULL, O_ZONE},
    {"api-base", required_argument, NULL, O_API_BASE},
    {"ca-file", required_argument, NULL, O_CA_FILE},
    {"allow-insecure-loopback", no_argument, NULL, O_INSECURE},
    {"config", required_argument, NULL, O_CONFIG},
    {"secret-file", required_argument, NULL, O_SECRET_FILE},
    {"secret-env", required_argument, NULL, O_SECRET_ENV},
    {"secret-stdin", no_argument, NULL, O_SECRET_STDIN},
    {"client-id", required_argument, NULL, O_CLIENT_ID},
    {"kind", required_argument, NULL, O_KIND},
    {"id", required_argument, NULL, O_ID},
    {"name", required_argument, NULL, O_NAME},
    {"strategy", required_argument, NULL, O_STRATEGY},
    {"grace", required_argument, NULL, O_GRACE},
    {"probe-url", required_argument, NULL, O_PROBE_URL},
    {"probe-path", required_argument, NULL, O_PROBE_PATH},
    {"run-id", required_argument, NULL, O_RUN_ID},
    {"param", required_argument, NULL, O_PARAM},
    {"out", required_argument, NULL, O_OUT},
    {"exec", required_argument, NULL, O_EXEC},
    {"print-secret", no_argument, NULL, O_PRINT_SECRET},
    {"secret-name", required_argument, NULL, O_SECRET_NAME},
    {"alias", required_argument, NULL, O_ALIAS},
    {"finish", no_argument, NULL, O_FINISH},
    {"dry-run", no_argument, NULL, O_DRY_RUN},
    {"verify-tries", required_argument, NULL, O_VERIFY_TRIES},
    {"verify-delay-ms", required_argument, NULL, O_VERIFY_DELAY},
    {"audit", required_argument, NULL, O_AUDIT},
    {"actor", required_argument, NULL, O_ACTOR},
    {"journal", required_argument, NULL, O_JOURNAL},
    {"keep", no_argument, NULL, O_KEEP},
    {"cfemu", required_argument, NULL, O_CFEMU},
    {"allow-unsafe-plugin", no_argument, NULL, O_ALLOW_UNSAFE_PLUGIN},
    {"allow-unsafe-secret-files", no_argument, NULL, O_ALLOW_UNSAFE_SECRETS},
    {"proxy", required_argument, NULL, O_PROXY},
    {"inventory", required_argument, NULL, O_INVENTORY},
    {"due-within", required_argument, NULL, O_DUE_WITHIN},
    {"all", no_argument, NULL, O_ALL},
    {"only", required_argument, NULL, O_ONLY},
    {"resume", no_argument, NULL, O_RESUME},
    {NULL, 0, NULL, 0},
};

static int parse_long_arg(const char *flag, const char *s, long min, long max, long *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (s[0] == '\0' || end == NULL || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "rotp-harness: %s needs a number between %ld and %ld, got '%s'\n", flag,
                min, max, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* A run id names journals and temporary tokens: 1 to 39 of [A-Za-z0-9_-] (the journal's field
 * holds 39). */
static int check_run_id(const char *s)
{
    if (!id_is_run_id(s, strlen(s), 39)) {
        fprintf(stderr, "rotp-harness: --run-id needs 1 to 39 letters, digits, '_' or '-'\n");
        return -1;
    }
    return 0;
}

static int add_list(const char **list, int *n, const char *v, const char *flag)
{
    if (*n >= HOPT_MAX_LIST) {
        fprintf(stderr, "rotp-harness: too many %s\n", flag);
        return -1;
    }
    list[(*n)++] = v;
    return 0;
}

/* A name that goes into dotenv lines and environment variables. */
static bool env_name_ok(const char *s)
{
    if (s[0] == '\0' || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

/* An option no table knows: --KEY-NAME VALUE (or --KEY-NAME=VALUE) for a request key key_name
 * of the kind, checked against its descriptor once the provider is loaded. 0, or -1. */
static int key_flag(int argc, char **argv, hopts *o)
{
    char *arg = argv[optind - 1];
    size_t n;
    if (strncmp(arg, "--", 2) != 0 || o->nkeyflags >= HOPT_MAX_LIST)
        return -1;
    n = strspn(arg + 2, "abcdefghijklmnopqrstuvwxyz0123456789-");
    if (n == 0 || (arg[2 + n] != '\0' && arg[2 + n] != '='))
        return -1;
    o->keyflag_arg[o->nkeyflags] = arg;
    if (arg[2 + n] == '=') {
        o->keyflag_val[o->nkeyflags] = arg + 3 + n;
    } else if (optind < argc && strncmp(argv[optind], "--", 2) != 0) {
        o->keyflag_val[o->nkeyflags] = argv[optind++];
    } else {
        return -1;
    }
    if (n >= sizeof(o->keyflag_buf[0]))
        return -1;
    char *key = o->keyflag_buf[o->nkeyflags];
    for (size_t i = 0; i < n; i++) /* "--account-id" -> "account_id" */
        key[i] = arg[2 + i] == '-' ? '_' : arg[2 + i];
    key[n] = '\0';
    if (hreq_key_looks_secret(key)) {
        fprintf(stderr,
                "rotp-harness: %.*s: secrets never come from argv (use --secret-file, "
                "--secret-env or --secret-stdin)\n",
                (int)(n + 2), arg);
        return -2;
    }
    o->keyflag_key[o->nkeyflags++] = key;
    return 0;
}

/* Options for secrets, sinks and the runbook (parse_args' second half). 1 handled, 0 not an
 * option of these, -1 bad value (message printed). */
static int opt_more(hopts *o, int c)
{
    long v;
    switch (c) {
    case O_OUT:
        o->out = optarg;
        break;
    case O_EXEC:
        o->exec = optarg;
        break;
    case O_PRINT_SECRET:
        o->print_secret = true;
        break;
    case O_SECRET_NAME:
        if (!env_name_ok(optarg)) {
            fprintf(stderr, "rotp-harness: --secret-name must be [A-Za-z_][A-Za-z0-9_]*\n");
            return -1;
        }
        o->secret_name = optarg;
        break;
    case O_ALIAS:
        if (!env_name_ok(optarg)) {
            fprintf(stderr, "rotp-harness: --alias must be [A-Za-z_][A-Za-z0-9_]*\n");
            return -1;
        }
        if (add_list(o->aliases, &o->naliases, optarg, "--alias") != 0)
            return -1;
        break;
    case O_FINISH:
        o->finish = true;
        break;
    case O_DRY_RUN:
        o->dry_run = true;
        break;
    case O_VERIFY_TRIES:
        if (parse_long_arg("--verify-tries", optarg, 1, 100, &v) != 0)
            return -1;
        o->verify_tries = (int)v;
        break;
    case O_VERIFY_DELAY:
        if (parse_long_arg("--verify-delay-ms", optarg, 0, 60000, &v) != 0)
            return -1;
        o->verify_delay_ms = (int)v;
        break;
    case O_AUDIT:
        o->audit = optarg;
        break;
    case O_ACTOR:
        o->actor = optarg;
        break;
    case O_JOURNAL:
        o->journal = optarg;
        break;
    case O_KEEP:
        o->keep = true;
        break;
    case O_CFEMU:
        o->cfemu = optarg;
        break;
    case O_ALLOW_UNSAFE_PLUGIN:
        o->allow_unsafe_plugin = true;
        break;
    case O_ALLOW_UNSAFE_SECRETS:
        o->allow_unsafe_secret_files = true;
        break;
    case O_PROXY:
        o->proxy = optarg;
        break;
    default:
        return 0;
    }
    return 1;
}

/* After the options: the command, help's topic, and KEY=VALUE refused before anything runs. */
static int check_args(int argc, char **argv, hopts *o)
{
    if (optind < argc)
        o->command = argv[optind++];
    if (o->command != NULL && strcmp(o->command, "help") == 0 && optind < argc)
        o->help_topic = argv[optind++];
    /* Refuse secret-looking or malformed KEY=VALUE before anything else happens. */
    {
        static hreq scratch;
        hreq_init(&scratch);
        for (int i = 0; i < o->nparams; i++) {
            if (hreq_add_kv(&scratch, o->params[i], "--param") != 0)
                return -1;
        }
        hreq_init(&scratch);
        for (int i = 0; i < o->nconfig; i++) {
            if (hreq_add_kv(&scratch, o->config[i], "--config") != 0)
                return -1;
        }
        secret_wipe(&scratch, sizeof(scratch));
    }
    if (optind < argc) {
        fprintf(stderr,
                "rotp-harness: unexpected argument '%s' (values never go bare; secrets "
                "never go in argv)\n",
                argv[optind]);
        return -1;
    }
    return 0;
}

/* Options for the secret to check and the request (parse_args' middle). 1 handled, 0 not one of
 * these, -1 bad value (message printed). */
static int opt_request(hopts *o, int c)
{
    long v;
    switch (c) {
    case O_SECRET_FILE:
        o->secret_file = optarg;
        break;
    case O_SECRET_ENV:
        o->secret_env = optarg;
        break;
    case O_SECRET_STDIN:
        o->secret_stdin = true;
        break;
    case O_CLIENT_ID:
        o->client_id = optarg;
        break;
    case O_KIND:
        o->kind = optarg;
        break;
    case O_ID:
        o->id = optarg;
        break;
    case O_NAME:
        o->name = optarg;
        break;
    case O_STRATEGY:
        o->strategy = optarg;
        break;
    case O_GRACE:
        if (parse_long_arg("--grace", optarg, 0, 31L * 24 * 3600, &v) != 0)
            return -1;
        o->has_grace = true;
        o->grace = v;
        break;
    case O_PROBE_URL:
        o->probe_url = optarg;
        break;
    case O_PROBE_PATH:
        o->probe_path = optarg;
        break;
    case O_RUN_ID:
        if (check_run_id(optarg) != 0)
            return -1;
        o->run_id = optarg;
        break;
    case O_PARAM:
        if (add_list(o->params, &o->nparams, optarg, "--param") != 0)
            return -1;
        break;
    default:
        return 0;
    }
    return 1;
}

/* An option no table has: a request key flag (key_flag), else a usage error. 0 or -1. */
static int unknown_option(int argc, char **argv, hopts *o)
{
    if (optopt == 0) {
        int kf = key_flag(argc, argv, o);
        if (kf == 0)
            return 0;
        if (kf == -2)
            return -1;
    }
    if (optopt != 0)
        fprintf(stderr, "rotp-harness: option -%c needs a value or is unknown\n", optopt);
    else
        fprintf(stderr, "rotp-harness: unknown option or missing value: %s\n", argv[optind - 1]);
    return -1;
}

static int parse_args(int argc, char **argv, hopts *o)
{
    int c;
    memset(o, 0, sizeof(*o));
    o->verify_tries = 5;
    o->verify_delay_ms = 1000;
    o->due_within = 14;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "hv", k_long, NULL)) != -1) {
        switch (c) {
        case 'h':
            o->help = true;
            break;
        case 'v':
            o->verbose++;
            break;
        case O_VERSION:
            o->version = true;
            break;
        case O_PLUGIN:
            o->plugin = optarg;
            break;
        case O_SHA256:
            o->sha256 = optarg;
            break;
        case O_JSON:
            o->json = true;
            break;
        case O_TOKEN_FILE:
            o->token_file = optarg;
            break;
        case O_ACCOUNT:
            o->account = optarg;
            break;
        case O_ZONE:
            o->zone = optarg;
            break;
        case O_API_BASE:
            o->api_base = optarg;
            break;
        case O_CA_FILE:
            o->ca_file = optarg;
            break;
        case O_INSECURE:
            o->allow_insecure_loopback = true;
            break;
        case O_CONFIG:
            if (add_list(o->config, &o->nconfig, optarg, "--config") != 0)
                return -1;
            break;
        case O_INVENTORY:
        case O_DUE_WITHIN:
        case O_ALL:
        case O_ONLY:
        case O_RESUME:
            if (fleet_option(o, c - O_INVENTORY, optarg) != 0)
                return -1;
            break;
        default: {
            int r = opt_request(o, c);
            if (r == 0)
                r = opt_more(o, c);
            if (r == 0)
                r = unknown_option(argc, argv, o) == 0 ? 1 : -1;
            if (r < 0)
                return -1;
            break;
        }
        }
    }
    return check_args(argc, argv, o);
}

static int dispatch(hopts *o)
{
    if (strcmp(o->command, "info") == 0)
        return cmd_info(o);
    if (strcmp(o->command, "rotate") == 0)
        return cmd_rotate(o);
    if (strcmp(o->command, "resume") == 0 && o->journal != NULL &&
        fleet_journal_has_fleet_run(o->journal)) {
        o->resume = true; /* a fleet run: apply --resume finishes it */
        return cmd_apply(o);
    }
    if (strcmp(o->command, "resume") == 0)
        return cmd_resume(o);
    if (strcmp(o->command, "sandbox") == 0)
        return cmd_sandbox(o);
    if (strcmp(o->command, "demo") == 0)
        return cmd_demo(o);
    if (strcmp(o->command, "plan") == 0)
        return cmd_plan(o);
    if (strcmp(o->command, "apply") == 0)
        return cmd_apply(o);
    return cmd_op(o);
}

static bool argv_has_json(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--json") == 0)
            return true;
    }
    return false;
}

/* --json for the commands that print text: help and --version. */
static int json_text(const char *cmd, const char *key, const char *text)
{
    dynbuf b;
    int e = 0;
    dynbuf_init(&b, 1024 * 1024);
    e |= dynbuf_adds(&b, "\"");
    e |= dynbuf_adds(&b, key);
    e |= dynbuf_adds(&b, "\":");
    e |= dynbuf_json_cstr(&b, text);
    out_json_report(cmd, HX_OK, NULL, e == 0 ? b.data : NULL);
    dynbuf_free(&b);
    return HX_OK;
}

static int run(int argc, char **argv, hopts *o)
{
    if (parse_args(argc, argv, o) != 0) {
        fprintf(stderr, "rotp-harness: see `rotp-harness help`\n");
        return HX_USAGE;
    }
    if (o->version) {
        if (o->json)
            return json_text("version", "version", ROTP_HARNESS_VERSION);
        printf("rotp-harness %s\n", ROTP_HARNESS_VERSION);
        return HX_OK;
    }
    if (o->command == NULL) {
        if (o->help && !o->json) {
            usage_all(stdout);
            return HX_OK;
        }
        if (!o->json)
            usage_all(stderr);
        else
            fprintf(stderr, "rotp-harness: no command; see `rotp-harness help`\n");
        return HX_USAGE;
    }
    if (o->json && (strcmp(o->command, "help") == 0 || o->help))
        return help_json(o->help_topic != NULL ? o->help_topic : o->command);
    if (strcmp(o->command, "help") == 0)
        return show_help(o->help_topic);
    if (o->help)
        return show_help(o->command);
    if (find_help(o->command) == NULL) {
        fprintf(stderr, "rotp-harness: unknown command '%s'; see `rotp-harness help`\n",
                o->command);
        return HX_USAGE;
    }
    return dispatch(o);
}

int main(int argc, char **argv)
{
    hopts o;
    char hmsg[160];
    bool json;
    int rc;

    /* Before anything else: wiping allocators for libcurl and OpenSSL, no core files, no ptrace
     * by other processes (harden.h). */
    if (harden_process(hmsg, sizeof(hmsg)) != 0) {
        fprintf(stderr, "rotp-harness: cannot harden the process: %s\n", hmsg);
        return HX_OTHER;
    }
    signal(SIGPIPE, SIG_IGN);
    umask(077);

    json = argv_has_json(argc, argv);
    if (json)
        out_capture_begin(); /* the last message goes into the one JSON object */
    rc = run(argc, argv, &o);
    if (json) {
        if (!out_json_printed()) {
            if (rc == HX_OK)
                out_json_report(o.command != NULL ? o.command : "", HX_OK, NULL, NULL);
            else
                out_json_failure(o.command, rc);
        }
        out_capture_end();
    }
    return rc;
}
