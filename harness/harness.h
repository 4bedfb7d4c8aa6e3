/* SPDX-License-Identifier: MIT */
/* harness.h - what every rotp-harness module shares: the parsed command line, the exit codes and
 * the step report that rotate, sandbox and demo fill.
 *
 * The options struct holds only borrowed argv strings and numbers; it never holds a secret (no
 * flag takes one). Secrets are read by creds.c into secret_buf and handed around explicitly. */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rotp_engine.h"

/* Exit codes (docs/rotp-harness.md, "Exit codes"): the engine's status table,
 * ROTP_ENGINE_STATUS_TABLE (engine/rotp_engine.h), under the harness's short names. */
enum {
    HX_OK = ROTP_ENGINE_OK,
    HX_OTHER = ROTP_ENGINE_OTHER_FAILURE,
    HX_USAGE = ROTP_ENGINE_USAGE,
    HX_VERIFY = ROTP_ENGINE_VERIFICATION_FAILED,
    HX_CRED = ROTP_ENGINE_CREDENTIAL_INVALID,
    HX_PERM = ROTP_ENGINE_PERMISSION_DENIED,
    HX_NOTFOUND = ROTP_ENGINE_NOT_FOUND,
    HX_RATE = ROTP_ENGINE_RATE_LIMITED,
    HX_UNKNOWN = ROTP_ENGINE_OUTCOME_UNKNOWN,
    HX_SINK = ROTP_ENGINE_SINK_FAILED,
    HX_LOAD = ROTP_ENGINE_PROVIDER_NOT_LOADED
};

#define HOPT_MAX_LIST 32

typedef struct hopts {
    const char *command;
    const char *help_topic; /* `help CMD` */
    bool help;

    /* loading and output */
    const char *plugin;
    const char *sha256;
    int verbose;
    bool json;
    bool version; /* --version */

    /* security overrides and the proxy (loader.c, creds.c, docs/rotp-harness.md) */
    bool allow_unsafe_plugin;       /* --allow-unsafe-plugin */
    bool allow_unsafe_secret_files; /* --allow-unsafe-secret-files */
    const char *proxy;              /* --proxy URL|none: the provider's config key proxy */

    /* management credential and API */
    const char *token_file;
    const char *account;
    const char *zone;
    const char *api_base;
    const char *ca_file;
    bool allow_insecure_loopback;
    const char *config[HOPT_MAX_LIST]; /* KEY=VALUE */
    int nconfig;

    /* the secret to check */
    const char *secret_file;
    const char *secret_env;
    bool secret_stdin;
    const char *client_id;

    /* the request */
    const char *kind;
    const char *id;
    const char *name;
    const char *strategy;
    bool has_grace;
    long grace;
    const char *probe_url;
    const char *probe_path;
    const char *run_id;
    const char *params[HOPT_MAX_LIST]; /* KEY=VALUE */
    int nparams;
    /* --KEY-NAME VALUE for any request key the kind's descriptor has (key_name); checked once
     * the provider is loaded (request.c). */
    const char *keyflag_key[HOPT_MAX_LIST]; /* points into keyflag_buf */
    char keyflag_buf[HOPT_MAX_LIST][64];
    const char *keyflag_val[HOPT_MAX_LIST];
    const char *keyflag_arg[HOPT_MAX_LIST]; /* the flag as typed, for messages */
    int nkeyflags;

    /* sinks */
    const char *out;
    const char *exec;
    bool print_secret;
    const char *secret_name;
    const char *aliases[HOPT_MAX_LIST];
    int naliases;

    /* rotate, resume, sandbox, demo */
    bool finish;
    bool dry_run;
    int verify_tries;
    int verify_delay_ms;
    const char *audit;
    const char *actor;
    const char *journal;
    bool keep;
    const char *cfemu;

    /* plan, apply (fleet.h) */
    const char *inventory; /* --inventory FILE */
    long due_within;       /* --due-within DAYS (default 14) */
    bool all;              /* apply --all */
    const char *only[HOPT_MAX_LIST]; /* apply --only NAME (repeatable) */
    int nonly;
    bool resume; /* apply --resume */
} hopts;

/* The name of an exit code ("OUTCOME_UNKNOWN", "SINK_FAILED", ...), for audit and JSON. */
const char *hx_name(int code);

/* One step of rotate/sandbox/demo, as printed and as put into --json's "steps". */
#define HSTEP_PASS 0
#define HSTEP_FAIL 1
#define HSTEP_SKIP 2

typedef struct hstep {
    char name[96];
    int status;
    char detail[480];
    long ms;
} hstep;

#define HREPORT_MAX_STEPS 160

typedef struct hreport {
    hstep steps[HREPORT_MAX_STEPS];
    int n;
    bool quiet;          /* --json: print nothing while running */
    const char *prefix;  /* printed before each step name (demo sections), may be NULL */
    int first_fail_code; /* exit code of the first failing step, HX_OK if none */
} hreport;

/* Milliseconds of a monotonic clock. */
long long now_ms(void);

/* Records a step, prints it unless quiet ("  PASS  name  (12 ms)  detail"). A FAIL with code
 * sets first_fail_code if it is still HX_OK. Formats detail like printf. */
void report_step(hreport *r, const char *name, int status, long ms, int code, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#endif
