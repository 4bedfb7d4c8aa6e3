/* rotate.h - the whole rotation runbook (rotate, rotate --finish) and its crash recovery
 * (resume), shared by the CLI commands, sandbox and demo. */
#ifndef HARNESS_ROTATE_H
#define HARNESS_ROTATE_H

#include <stdbool.h>
#include <stddef.h>

#include "harness.h"
#include "loader.h"
#include "secret.h"

/* Where a rotation starts (resume enters later than PRECHECK). */
typedef enum rot_phase { ROT_PRECHECK = 0, ROT_ROLL, ROT_VERIFY, ROT_TAIL } rot_phase;

/* What a rotation learnt, for reports and the --json output. */
typedef struct rot_outcome {
    char run_id[40];
    char old_id[128];
    char new_id[128];
    char client_id[256];
    char expires_at[64];
    char rolled_at[64];
    char delivered[PATH_MAX + 64];
    bool overlap; /* stopped in a service-token overlap: finish later */
    char finish_hint[1024];
} rot_outcome;

/* Runs `rotate` (or `rotate --finish` when o->finish) on an open instance. `current` is the
 * current secret (may be NULL) and current_client_id its client id ("" if unknown). Steps go
 * to rep; returns the exit code. The new secret goes only to the sinks in o. */
int rotate_run(hprov *hp, const hopts *o, hreport *rep, const secret_buf *current,
               const char *current_client_id, rot_outcome *out);

/* Verifies a secret and returns true if it is active (state active and, when probed, probe
 * status 200). id may be NULL for API tokens. Reports nothing. *code gets the call's code. */
bool rotate_secret_active(hprov *hp, const hopts *o, const char *kind, const char *id,
                          const char *client_id, const secret_buf *s, char *state, size_t cap,
                          int32_t *code);

/* The CLI commands. */
int cmd_rotate(const hopts *o);
int cmd_resume(const hopts *o);

/* The effective service-token strategy: --strategy, else create-swap-delete at zone level,
 * rotate at account level. */
const char *rotate_strategy(const hopts *o);

#endif
