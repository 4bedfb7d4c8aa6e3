/* journal.h - the audit trail (--audit) and the crash journal (--journal): JSON lines, appended
 * and fsynced, never a secret. resume reads the journal back (journal_load). */
#ifndef HARNESS_JOURNAL_H
#define HARNESS_JOURNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "harness.h"

/* Appends one line (a newline is added) to path, creating it 0600, and fsyncs. 0 or -1 with a
 * message on stderr. */
int jl_append(const char *path, const char *line);

/* A journal being written; path NULL makes every call a no-op that succeeds. */
typedef struct hjournal {
    const char *path;
    char run_id[40];
    int step;
    /* repeated in every intent record (NULL: left out) */
    const char *account_id, *zone_id, *secret_name, *out, *exec;
} hjournal;

/* What a run records up front, so resume can default to it. Strings may be NULL. */
typedef struct hjrun {
    const char *command; /* "rotate" or "finish" */
    const char *kind, *id, *account_id, *zone_id, *strategy;
    bool has_grace;
    long grace;
    const char *probe_url, *probe_path, *client_id, *secret_name;
    const char *const *aliases;
    int naliases;
    const char *out, *exec, *old_name, *audit;
} hjrun;

int journal_run(hjournal *j, const hjrun *run);
/* Before a state-changing call: op ("roll", "revoke", "provision"), the id it acts on. */
int journal_intent(hjournal *j, const char *op, const char *kind, const char *id,
                   const char *strategy);
/* After it: status "ok" | "error" | "unknown", the ROTP code, and ids learnt (may be NULL). */
int journal_outcome(hjournal *j, const char *op, const char *status, int32_t code,
                    const char *new_id, const char *client_id, const char *replaced_id,
                    const char *expires_on);
/* A milestone: "delivered", "verified", "old_dead", "overlap". */
int journal_mark(hjournal *j, const char *mark);
/* The run is over: "completed", "overlap" or "failed" with the exit code. */
int journal_end(hjournal *j, const char *status, int exit_code);

/* The state of the last unfinished run in a journal, as resume needs it. */
typedef struct hjstate {
    bool absent; /* the journal file does not exist (no run wrote it): nothing to resume */
    bool found;
    char run_id[40], command[16], kind[64], id[128], account_id[64], zone_id[64], strategy[32];
    bool has_grace;
    long grace;
    char probe_url[512], probe_path[512], client_id[256], secret_name[128];
    char aliases[8][128];
    int naliases;
    char out[PATH_MAX], exec[1024], old_name[256], audit[PATH_MAX];
    /* progress */
    bool roll_intent, roll_outcome;
    char roll_status[16];
    char new_id[128], new_client_id[256], replaced_id[128], expires_on[64];
    bool delivered, verified, old_dead, overlap;
    bool revoke_intent, revoke_outcome;
    char revoke_status[16];
    int last_step;
    char last_end_run[40]; /* run id of the last finished run, for the message */
    char last_end_status[16];
} hjstate;

/* Reads path and fills st with the last run that has no end record (st->found false if none).
 * A path that does not exist (ENOENT, also for a missing directory) is HX_OK with st->absent.
 * HX_USAGE with a message when the file cannot be opened or is not a regular file (a
 * directory); HX_OTHER for a read error or a malformed line (a torn last line is ignored). */
int journal_load(const char *path, hjstate *st);

/* The audit event's context. Strings may be NULL (left out, or null for rotated_at). */
typedef struct haudit {
    const char *secret_name, *kind, *token_id, *old_token_id, *new_token_id, *run_id;
    const char *rotated_at, *error, *failed_step, *stage;
} haudit;

/* Appends {action, actor, at, context} to o->audit (no-op without --audit). 0 or -1. */
int audit_event(const hopts *o, const char *action, const haudit *c);

/* Now as RFC 3339 UTC into buf (at least 21 bytes). */
void now_rfc3339(char *buf, size_t cap);

/* A fresh random run id: 16 lowercase hex digits. */
void make_run_id(char out[17]);

#endif
