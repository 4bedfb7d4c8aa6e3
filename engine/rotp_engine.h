/* SPDX-License-Identifier: MIT */
/*
 * rotp_engine.h - the rotation runbook as a host-side C library.
 *
 * A host (a secrets manager, rotp-harness, the fleet runner) loads a provider through abi/rotp.h,
 * opens one instance, and binds one engine to it. The engine then runs, for any kind the provider
 * describes (ABI 1.1 rotp_kind_info), the whole runbook:
 *
 *   rotate   pre-check (describe, verify current secret, host preflight), roll, deliver (host
 *            callback), verify new, then confirm the old secret dead or hold the overlap;
 *   finish   end an overlap (revoke per the strategy) and confirm the old secret dead;
 *   resume   re-enter an unfinished run from its journal records (rotp_engine_journal_scan);
 *   sandbox  provision throwaway credentials, rotate them, confirm, revoke, confirm gone;
 *   op       one provider operation with the engine's retries and journal.
 *
 * The engine prints nothing, owns no global or function-static state, and reaches the outside
 * world only through rotp_engine_host callbacks: two engines (or two runs of one engine, one
 * after the other) in two threads do not interfere. One engine serves one run at a time.
 *
 * Secrets: the engine keeps secret values only in wiped buffers; they reach the host only through
 * the deliver callback (rotp_engine_secret) and never appear in a journal record, an audit event,
 * a progress event, a result or an error message.
 *
 * Every struct that crosses this header starts with uint32_t struct_size (set by whoever allocates
 * it, use the *_init functions); fields are only appended.
 */
#ifndef ROTP_ENGINE_H
#define ROTP_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "rotp.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ROTP_ENGINE_VERSION_MAJOR 1
#define ROTP_ENGINE_VERSION_MINOR 0

/* ---------------------------------------------------------------------------------------------
 * Statuses. One table: the number is the status every engine function returns and is also the
 * exit code of rotp-harness (docs/rotp-harness.md, "Exit codes"). Append-only.
 *   X(number, NAME, "description")
 * ------------------------------------------------------------------------------------------- */
#define ROTP_ENGINE_STATUS_TABLE(X)                                                                \
    X(0, OK, "success")                                                                            \
    X(1, OTHER_FAILURE,                                                                            \
      "other failure (conflict, transient, protocol, TLS, policy, internal, I/O)")                 \
    X(2, USAGE, "usage error (missing, unknown or conflicting argument, unsupported)")             \
    X(3, VERIFICATION_FAILED, "verification failed (a secret is not in the state it must be in)")  \
    X(4, CREDENTIAL_INVALID, "credential invalid")                                                 \
    X(5, PERMISSION_DENIED, "permission denied")                                                   \
    X(6, NOT_FOUND, "not found")                                                                   \
    X(7, RATE_LIMITED, "rate limited")                                                             \
    X(8, OUTCOME_UNKNOWN, "outcome unknown: a change was sent and no answer came; resume")         \
    X(9, SINK_FAILED, "the new secret could not be delivered; nothing was revoked")                \
    X(10, PROVIDER_NOT_LOADED, "the provider could not be loaded or was refused")

enum {
#define ROTP_ENGINE_X_ENUM(num, name, desc) ROTP_ENGINE_##name = num,
    ROTP_ENGINE_STATUS_TABLE(ROTP_ENGINE_X_ENUM)
#undef ROTP_ENGINE_X_ENUM
        ROTP_ENGINE__COUNT
};

typedef struct rotp_engine_status_info {
    int32_t status;
    const char *name;        /* "SINK_FAILED" */
    const char *description; /* one line for a human */
} rotp_engine_status_info;

/* The whole table (ROTP_ENGINE__COUNT entries, in number order). */
const rotp_engine_status_info *rotp_engine_status_table(size_t *count);
/* The name of a status; unknown numbers give "OTHER_FAILURE". Never NULL. */
const char *rotp_engine_status_name(int32_t status);
/* The description of a status. Never NULL. */
const char *rotp_engine_status_description(int32_t status);
/* The status for a provider error code (ROTP_E_*): INVALID_ARGUMENT and UNSUPPORTED are USAGE,
 * CREDENTIAL_INVALID, PERMISSION_DENIED, NOT_FOUND, RATE_LIMITED, OUTCOME_UNKNOWN map to their
 * namesakes, everything else is OTHER_FAILURE. */
int32_t rotp_engine_status_from_rotp(int32_t rotp_code);
/* The name of a provider error code ("OUTCOME_UNKNOWN"); never NULL. */
const char *rotp_engine_rotp_code_name(int32_t rotp_code);

/* ---------------------------------------------------------------------------------------------
 * Progress events and steps
 * ------------------------------------------------------------------------------------------- */

/* rotp_engine_event.type */
#define ROTP_ENGINE_EV_RUN_BEGIN  1u /* step: the command ("rotate", "finish", "resume", ...) */
#define ROTP_ENGINE_EV_RUN_END    2u /* status: the run's status */
#define ROTP_ENGINE_EV_STEP_BEGIN 3u /* step: the step's name */
#define ROTP_ENGINE_EV_STEP_END   4u /* step, step_status, status, detail, ms */
#define ROTP_ENGINE_EV_WAIT       5u /* wait_reason, ms: the engine is about to sleep */

/* rotp_engine_event.step_status, rotp_engine_step.step_status */
#define ROTP_ENGINE_STEP_PASS 0
#define ROTP_ENGINE_STEP_FAIL 1
#define ROTP_ENGINE_STEP_SKIP 2

/* rotp_engine_event.wait_reason */
#define ROTP_ENGINE_WAIT_RATE_LIMIT   1u /* the provider said RATE_LIMITED with a retry delay */
#define ROTP_ENGINE_WAIT_VERIFY_RETRY 2u /* a verify did not show the expected state yet */
#define ROTP_ENGINE_WAIT_TRANSIENT    3u /* an idempotent call failed transiently */

/* One event, borrowed for the callback only. Strings are never NULL (may be ""). */
typedef struct rotp_engine_event {
    uint32_t struct_size;
    uint32_t type; /* ROTP_ENGINE_EV_* */
    const char *run_id;
    const char *step;     /* step name, or the command for RUN_BEGIN */
    int32_t step_status;  /* STEP_END: ROTP_ENGINE_STEP_* */
    int32_t status;       /* STEP_END, RUN_END: ROTP_ENGINE_* status (OK unless it failed) */
    const char *detail;   /* STEP_END: one line for a human, never a secret; WAIT: why */
    uint64_t ms;          /* STEP_END: duration; WAIT: how long the engine will sleep */
    uint32_t wait_reason; /* WAIT: ROTP_ENGINE_WAIT_* */
    uint32_t reserved0;
} rotp_engine_event;

/* One recorded step of a run (rotp_engine_result.steps). */
typedef struct rotp_engine_step {
    char name[96];
    int32_t step_status; /* ROTP_ENGINE_STEP_* */
    int32_t status;      /* ROTP_ENGINE_* of the step (OK unless it failed) */
    char detail[480];
    uint64_t ms;
} rotp_engine_step;

/* ---------------------------------------------------------------------------------------------
 * What the host gets: the new secret to deliver
 * ------------------------------------------------------------------------------------------- */

/*
 * A new secret, borrowed for the deliver callback only (the engine wipes it afterwards).
 * parts: one item per rotp_part_info of the kind, key = the part's key, value = its value,
 *        flags ROTP_PARAM_SECRET on secret parts; kind_info->parts gives env_name and PRIMARY.
 * companions: key = the companion's suffix (EXPIRES_AT, TOKEN_ID, ...), value = its value, only
 *        those with a non-empty value.
 */
typedef struct rotp_engine_secret {
    uint32_t struct_size;
    uint32_t reserved0;
    const char *run_id;
    const char *name; /* rotp_engine_run.name (the host's name for the credential), may be "" */
    const char *kind;
    const char *id; /* the credential's id after the roll */
    const rotp_kind_info *kind_info;
    rotp_params parts;
    rotp_params companions;
    const char *expires_at; /* "" when it does not expire or is unknown */
} rotp_engine_secret;

/* The value of part `key` (or of the PRIMARY part when key is NULL) in s, or NULL. */
const rotp_param *rotp_engine_secret_part(const rotp_engine_secret *s, const char *key);

/*
 * Formats s as dotenv text (the --out format of docs/rotp-harness.md): for each name in names
 * (none: the parts' conventional env_name), NAME=<primary part>, NAME__<PART>=<other parts>,
 * NAME__<SUFFIX>=<companion>; values quoted when needed. *out is a new buffer the caller must
 * release with rotp_engine_wipe_free(*out, *len). ROTP_ENGINE_OK or OTHER_FAILURE (no memory).
 */
int32_t rotp_engine_format_dotenv(const rotp_engine_secret *s, const char *const *names,
                                  uint32_t nnames, char **out, size_t *len);
/* Wipes len bytes at p and frees p. NULL-tolerant. */
void rotp_engine_wipe_free(void *p, size_t len);

/* ---------------------------------------------------------------------------------------------
 * Host callbacks
 * ------------------------------------------------------------------------------------------- */

/* rotp_engine_host.checkpoint points, in the order a run meets them. A host that kills itself at
 * a checkpoint (crash tests) sees the engine recover on resume. Host sinks may call their own
 * checkpoint with the DELIVER_* points. */
#define ROTP_ENGINE_CP_SEND           1u /* just before a state-changing provider call */
#define ROTP_ENGINE_CP_SENT           2u /* just after it returned (before its outcome record) */
#define ROTP_ENGINE_CP_JOURNAL        3u /* just after a journal record was appended */
#define ROTP_ENGINE_CP_DELIVER_WRITE  4u /* host sink: after writing the temp file */
#define ROTP_ENGINE_CP_DELIVER_FSYNC  5u /* host sink: after fsync of the temp file */
#define ROTP_ENGINE_CP_DELIVER_RENAME 6u /* host sink: after the rename */

/*
 * Every callback receives `user`. Only deliver is required; a NULL callback means: journal and
 * audit are not kept, progress is not reported, sleep uses nanosleep, no checkpoints, no
 * preflight.
 */
typedef struct rotp_engine_host {
    uint32_t struct_size;
    uint32_t reserved0;
    void *user;

    /* Delivers the new secret to the host's sinks. `where` gets a short human list of where it
     * went ("out /path, exec"), `msg` the reason on failure (never the secret). Returns
     * ROTP_ENGINE_OK or ROTP_ENGINE_SINK_FAILED (then the run stops and revokes nothing). */
    int32_t (*deliver)(void *user, const rotp_engine_secret *s, char *where, size_t where_cap,
                       char *msg, size_t msg_cap);
    /* Before anything changes: can the sinks take a secret? OK or SINK_FAILED with msg. */
    int32_t (*preflight)(void *user, const char *run_id, char *msg, size_t msg_cap);
    /* Appends one journal record (a JSON object without newline, never a secret) durably (the
     * host fsyncs). 0, or -1: the engine then changes nothing more (an intent that cannot be
     * written is not sent). Use rotp_engine_append_line() for a file. */
    int (*journal)(void *user, const char *record, size_t len);
    /* Appends one audit event (a JSON object {action, actor, at, context}). 0 or -1 (ignored). */
    int (*audit)(void *user, const char *event, size_t len);
    /* Receives progress events. */
    void (*progress)(void *user, const rotp_engine_event *ev);
    /* Sleeps ms milliseconds (verify retries, rate-limit waits); a WAIT event precedes it. */
    void (*sleep_ms)(void *user, uint64_t ms);
    /* A checkpoint (ROTP_ENGINE_CP_*), the n-th of the run counting from 1. */
    void (*checkpoint)(void *user, uint32_t point, uint64_t n, const char *run_id);
} rotp_engine_host;

/* ---------------------------------------------------------------------------------------------
 * The engine
 * ------------------------------------------------------------------------------------------- */

typedef struct rotp_engine rotp_engine; /* opaque */

/*
 * Binds a new engine to an open provider instance (borrowed: the host closes it after
 * rotp_engine_free). The provider must describe its kinds (ABI 1.1); host is copied. On failure
 * *out is NULL and msg says why. Returns ROTP_ENGINE_OK, USAGE (NULL argument, no kind_info) or
 * OTHER_FAILURE (no memory).
 */
int32_t rotp_engine_new(const rotp_provider *provider, rotp_instance *instance,
                        const rotp_engine_host *host, rotp_engine **out, char *msg, size_t msg_cap);
/* NULL-tolerant. Does not close the instance. */
void rotp_engine_free(rotp_engine *e);

/* The descriptor of kind, or NULL when the provider does not have it. */
const rotp_kind_info *rotp_engine_kind(const rotp_engine *e, const char *kind);
/* The provider the engine is bound to. */
const rotp_provider *rotp_engine_provider(const rotp_engine *e);

/* ---------------------------------------------------------------------------------------------
 * A run
 * ------------------------------------------------------------------------------------------- */

#define ROTP_ENGINE_RUN_ID_MAX 39 /* characters, [A-Za-z0-9._-] */

/* rotp_engine_run.flags */
#define ROTP_ENGINE_RUN_DRY_RUN 0x1u /* pre-checks only; nothing changes */
#define ROTP_ENGINE_RUN_KEEP    0x2u /* sandbox: keep the throwaway credentials */

/*
 * What to run. Everything is borrowed for the call. Use rotp_engine_run_init() first.
 *  request: further request keys (scope keys such as account_id, probe keys, provider-specific
 *           keys); the engine passes each to every operation whose descriptor lists it (key
 *           ops). Secret keys are refused (USAGE).
 *  current: the current secret, one item per part (key = part key); NULL/empty: none given.
 *  host_record: non-secret key/values the host wants in the run's journal record (sinks, names),
 *           returned by rotp_engine_journal_scan so a resuming host can compare them.
 */
typedef struct rotp_engine_run {
    uint32_t struct_size;
    uint32_t flags;          /* ROTP_ENGINE_RUN_* */
    const char *run_id;      /* <= ROTP_ENGINE_RUN_ID_MAX chars; NULL: the engine makes one */
    const char *name;        /* the host's name for the credential (sinks, audit); may be NULL */
    const char *kind;        /* required */
    const char *id;          /* the credential's id (rotate, finish); NULL for sandbox */
    const char *strategy;    /* NULL: the kind's default strategy */
    int64_t overlap_seconds; /* -1: the strategy's default; 0: no overlap */
    const rotp_params *request;
    const rotp_params *current;
    const rotp_params *host_record;
    const rotp_params *delivered; /* resume: the secret the host's sink holds from this run
                                     (read back), one item per part; NULL: the engine rolls
                                     forward when it would need it */
    const char *actor;            /* audit actor; NULL: "rotp-engine" */
    uint32_t verify_tries;        /* 0: 5 */
    uint32_t verify_delay_ms;     /* between tries; 0: 1000 */
} rotp_engine_run;

void rotp_engine_run_init(rotp_engine_run *run);

#define ROTP_ENGINE_MAX_STEPS      64
#define ROTP_ENGINE_MAX_COMPANIONS 8

/* What a run did; the fleet puts it into its report. Never holds a secret. */
typedef struct rotp_engine_result {
    uint32_t struct_size;
    int32_t status; /* ROTP_ENGINE_* (also the function's return value) */
    char run_id[ROTP_ENGINE_RUN_ID_MAX + 1];
    char command[16]; /* "rotate", "finish", "resume", "sandbox" */
    char kind[64];
    char name[128];
    char old_id[128];
    char new_id[128];      /* equals old_id for an in-place roll */
    char replaced_id[128]; /* NEW_ID strategies: the id the new credential replaces */
    char strategy[32];
    char expires_at[64];
    char rolled_at[64];
    char overlap_ends_at[64]; /* "" when no overlap or it lasts until finished */
    char delivered[1100];     /* the deliver callback's `where` */
    uint32_t delivered_ok;    /* 1 when the deliver callback succeeded */
    uint32_t overlap;         /* 1: stopped in an overlap; finish later */
    uint32_t provider_calls;  /* operations called (describe, roll, verify, revoke, ...) */
    uint32_t ncompanions;
    struct {
        char suffix[32];
        char value[1024];
    } companions[ROTP_ENGINE_MAX_COMPANIONS]; /* non-secret values delivered beside the secret */
    char failed_step[96];                     /* the first failing step, "" if none */
    char message[512];                        /* why it failed (never a secret), "" if it did not */
    char finish_hint[1024]; /* overlap: what finishing needs (strategy, id), for a human */
    uint32_t nsteps;
    uint32_t steps_dropped; /* steps beyond ROTP_ENGINE_MAX_STEPS (still sent as events) */
    rotp_engine_step steps[ROTP_ENGINE_MAX_STEPS];
    /* appended after 1.0's [api] commit */
    uint32_t run_open; /* 1: a change may have taken effect and the journal's run has no end:
                          resume finishes it */
    uint32_t reserved0;
} rotp_engine_result;

void rotp_engine_result_init(rotp_engine_result *res);

/* rotate: pre-check, roll, deliver, verify new, confirm old dead or hold the overlap. An
 * in-place roll without overlap makes at most 5 provider calls (describe, verify current, roll,
 * verify new, verify old). Returns res->status. */
int32_t rotp_engine_rotate(rotp_engine *e, const rotp_engine_run *run, rotp_engine_result *res);
/* finish: end the overlap of run->id (revoke per strategy), confirm the old secret dead. */
int32_t rotp_engine_finish(rotp_engine *e, const rotp_engine_run *run, rotp_engine_result *res);
/* sandbox: provision throwaway credentials from the kind's sandbox descriptor (run->request
 * gives scope keys), rotate them with every strategy, confirm, revoke, confirm gone; cleans up
 * on failure unless ROTP_ENGINE_RUN_KEEP. */
int32_t rotp_engine_sandbox(rotp_engine *e, const rotp_engine_run *run, rotp_engine_result *res);

/*
 * One provider operation (ROTP_OP_* bit) on the engine's instance, called as given: the request
 * is not checked against the descriptors here (the provider checks it), nothing is retried or
 * journaled (run_id is reserved and may be NULL). res is the provider's result: release it with
 * rotp_engine_op_free(). Returns ROTP_E_* (the provider's code), err filled.
 */
int32_t rotp_engine_op(rotp_engine *e, uint32_t op, const char *run_id, const rotp_params *req,
                       rotp_result *res, rotp_error *err);
void rotp_engine_op_free(rotp_engine *e, rotp_result *res);
/* The operation bit for a name ("roll") or 0; and the name of a bit. */
uint32_t rotp_engine_op_from_name(const char *name);
const char *rotp_engine_op_name(uint32_t op);

/* ---------------------------------------------------------------------------------------------
 * Journal: one file may hold many runs; every record carries its run_id.
 * ------------------------------------------------------------------------------------------- */

/* rotp_engine_journal_entry.state */
#define ROTP_ENGINE_JS_FINISHED   1u /* an end record: completed, overlap or failed */
#define ROTP_ENGINE_JS_UNFINISHED 2u /* no end record: resume can finish it */

/* rotp_engine_journal_entry.marks: what the run's records say happened */
#define ROTP_ENGINE_JM_ROLL_INTENT   0x001u /* a roll was about to be sent */
#define ROTP_ENGINE_JM_ROLL_OK       0x002u /* the roll succeeded (new_id etc. known) */
#define ROTP_ENGINE_JM_ROLL_FAILED   0x004u /* the roll failed definitely: nothing changed */
#define ROTP_ENGINE_JM_ROLL_UNKNOWN  0x008u /* the roll's outcome is unknown */
#define ROTP_ENGINE_JM_DELIVERED     0x010u /* the deliver callback succeeded */
#define ROTP_ENGINE_JM_VERIFIED      0x020u /* the new secret was verified */
#define ROTP_ENGINE_JM_REVOKE_INTENT 0x040u /* a revoke was about to be sent */
#define ROTP_ENGINE_JM_REVOKE_OK     0x080u
#define ROTP_ENGINE_JM_OLD_DEAD      0x100u /* the old secret was confirmed dead */
#define ROTP_ENGINE_JM_OVERLAP       0x200u /* the run stopped in an overlap */

#define ROTP_ENGINE_JOURNAL_MAX_PARAMS 16

/* A non-secret key/value kept in a journal record. */
typedef struct rotp_engine_kv {
    char key[64];
    char value[512];
} rotp_engine_kv;

/* One run found in a journal (borrowed for the scan callback; copy what you keep). */
typedef struct rotp_engine_journal_entry {
    uint32_t struct_size;
    uint32_t state;   /* ROTP_ENGINE_JS_* */
    uint32_t marks;   /* ROTP_ENGINE_JM_* */
    int32_t end_code; /* FINISHED: the run's status */
    char run_id[ROTP_ENGINE_RUN_ID_MAX + 1];
    char command[16];     /* "rotate" or "finish" */
    char end_status[16];  /* FINISHED: "completed", "overlap", "failed" */
    char last_record[32]; /* the type of its last record ("run", "intent", "outcome", "mark") */
    char kind[64], id[128], name[128], strategy[32];
    int64_t overlap_seconds; /* -1: default */
    char old_name[256];      /* the credential's name at pre-check (NEW_ID orphans) */
    char new_id[128], replaced_id[128], expires_at[64];
    uint32_t nrequest, nhost, ncurrent, nnew;
    rotp_engine_kv request[ROTP_ENGINE_JOURNAL_MAX_PARAMS]; /* rotp_engine_run.request */
    rotp_engine_kv host[ROTP_ENGINE_JOURNAL_MAX_PARAMS];    /* rotp_engine_run.host_record */
    rotp_engine_kv current[4];      /* non-secret parts of the current secret (a client id) */
    rotp_engine_kv fresh[4];        /* non-secret parts of the new secret, from the roll outcome */
    int last_seq;                   /* sequence number of its last record */
    uint64_t first_line, last_line; /* 1-based line numbers of its first and last record */
} rotp_engine_journal_entry;

/* Called once per run, in order of first appearance. Return 0 to go on, non-zero to stop. */
typedef int (*rotp_engine_journal_fn)(void *user, const rotp_engine_journal_entry *entry);

/*
 * Reads a journal file and calls cb for every run in it. A path that does not exist is OK with
 * no call. USAGE when it cannot be opened or is not a regular file, OTHER_FAILURE on a read
 * error or a malformed record (a torn last line is ignored); msg says why.
 */
int32_t rotp_engine_journal_scan(const char *path, rotp_engine_journal_fn cb, void *user, char *msg,
                                 size_t msg_cap);
/* The same over journal text in memory. */
int32_t rotp_engine_journal_scan_text(const char *text, size_t len, rotp_engine_journal_fn cb,
                                      void *user, char *msg, size_t msg_cap);

/*
 * Finishes an unfinished run found by a scan: rolls forward from its last record (removes
 * orphans of a NEW_ID roll whose outcome is unknown, rolls again when the roll may not have
 * happened, delivers, verifies, confirms or holds the overlap). run gives what the journal does
 * not hold: the current secret, the name, verify settings, and may leave kind/id/strategy/request
 * NULL to take the journal's. A FINISHED entry is OK with nothing done.
 */
int32_t rotp_engine_resume(rotp_engine *e, const rotp_engine_journal_entry *entry,
                           const rotp_engine_run *run, rotp_engine_result *res);

/* rotp_engine_append_line flags */
#define ROTP_ENGINE_FILE_ALLOW_UNSAFE 0x1u /* accept a file or directory others can write */

/*
 * A ready journal/audit writer for hosts: appends line and a newline to path, created 0600,
 * opened O_NOFOLLOW (a symbolic link is refused), fsynced. Refuses a file another user could
 * change (see rotp_engine_file_check) unless ROTP_ENGINE_FILE_ALLOW_UNSAFE. 0, or -1 with msg.
 */
int rotp_engine_append_line(const char *path, const char *line, size_t len, uint32_t flags,
                            char *msg, size_t msg_cap);

/* A fresh random run id (16 lowercase hex digits) into out. */
void rotp_engine_make_run_id(char out[ROTP_ENGINE_RUN_ID_MAX + 1]);

/* ---------------------------------------------------------------------------------------------
 * Appended after the [api] commit
 * ------------------------------------------------------------------------------------------- */

/*
 * Verifies a secret once through the kind's verify operation and its states: parts is the secret
 * (one item per part), id the credential (may be NULL), run->request gives probe and scope keys.
 * Returns OK when the kind's state says ACCEPTED, VERIFICATION_FAILED for any other state (a
 * definite rejection, an inactive or refused credential), else the call's status. detail gets
 * "state=... [probe_status=...]" or the error (never a secret). No event, journal or audit.
 */
int32_t rotp_engine_verify(rotp_engine *e, const rotp_engine_run *run, const char *id,
                           const rotp_params *parts, char *detail, size_t detail_cap);

/*
 * Whether another user could change the file at path (a journal, an audit trail): 0 when it is
 * safe or does not exist; 1 when it is a symbolic link, not a regular file, owned by another
 * user, writable by group or others, or in a directory others can write (without the sticky
 * bit) -- msg says which and how to fix it; -1 when it cannot be checked. flags:
 * ROTP_ENGINE_FILE_ALLOW_UNSAFE makes only the symbolic-link check count. rotp_engine_append_line
 * applies the same rule before it writes (and refuses a symbolic link always).
 */
int rotp_engine_file_check(const char *path, uint32_t flags, char *msg, size_t msg_cap);

#ifdef __cplusplus
}
#endif
#endif /* ROTP_ENGINE_H */
