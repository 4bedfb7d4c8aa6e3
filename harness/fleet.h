/* SPDX-License-Identifier: MIT */
/* fleet.h - the fleet commands (issue 12): `plan` (a due report over an inventory), `apply` (the
 * due rotations in one process, resumable) and what they
 * share: the provider loaded once, the inventory read and checked before anything runs, one
 * provider instance per management credential, and the current secret read from an entry's
 * secret_file by the kind's self-description (its parts), never by kind name. */
#ifndef HARNESS_FLEET_H
#define HARNESS_FLEET_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "harness.h"
#include "hparts.h"
#include "inventory.h"
#include "loader.h"
#include "secret.h"

/* Exit codes of `plan` beyond the common ones (docs/rotp-harness.md, "plan"). */
#define HX_PLAN_DUE    20 /* something is due, nothing is broken */
#define HX_PLAN_BROKEN 21 /* something is broken (its secret does not work, or it is missing) */

/* One provider instance and the management credential it was opened with. */
typedef struct fleet_inst {
    const char *token_file; /* NULL: the command line's (--token-file or the environment) */
    hprov hp;
    int open_rc; /* HX_OK, or why it could not be opened */
} fleet_inst;

typedef struct fleet {
    const hopts *o;
    hprov base; /* the loaded provider (no instance) */
    const rotp_kind_info *const *kinds;
    inventory inv;
    fleet_inst *insts;
    int ninst;
    int *inst_of; /* per entry: its index in insts */
} fleet;

/* Loads the provider (it must describe its kinds: ABI 1.1), reads o->inventory and checks it
 * (every problem printed on stderr, then HX_USAGE), and opens one instance per management
 * credential. An instance that cannot be opened is not fatal here: its entries report it.
 * Returns HX_OK or an exit code; f must be fleet_close()d in every case. */
int fleet_open(fleet *f, const hopts *o);
void fleet_close(fleet *f);

/* The instance of entry i, or NULL when it could not be opened (*rc says why). */
hprov *fleet_inst_for(fleet *f, int i, int *rc);

/* The secret held in path (e's secret_file, or its out file on resume), one value per part of
 * the kind, picked out as hparts_from_text() does under e's name, or under the first alias the
 * file holds when it lacks the name (an older file written under a legacy name). HX_OK;
 * HX_NOTFOUND when path is NULL or does not exist; HX_USAGE/HX_OTHER with a message on stderr
 * (the file is checked as every secret file is, see creds.h). */
int fleet_read_secret(const fleet *f, const inv_entry *e, const char *path,
                      const rotp_kind_info *ki, hparts *out);

/* The i-th part / result key descriptor (stride-aware). */
const rotp_part_info *fleet_part_at(const rotp_kind_info *ki, uint32_t i);
/* The result key of ki that plays role for op, or NULL. */
const char *fleet_result_key(const rotp_kind_info *ki, uint32_t role, uint32_t op);
/* What a verify state string means (ROTP_STATE_*), 0 when the kind does not list it. */
uint32_t fleet_state_meaning(const rotp_kind_info *ki, const char *state);

/* The fleet's options, in the order main.c lists them: --inventory FILE, --due-within DAYS,
 * --all, --only NAME (repeatable), --resume. Stores arg into o; 0, or -1 with a message. */
enum { FLEET_OPT_INVENTORY, FLEET_OPT_DUE_WITHIN, FLEET_OPT_ALL, FLEET_OPT_ONLY, FLEET_OPT_RESUME };
int fleet_option(hopts *o, int which, const char *arg);

/* What plan finds out about one entry (fleet_plan.c). */
typedef struct plan_row {
    char state[16]; /* active expired disabled invalid missing error */
    bool broken;
    char expires[64]; /* "" when it does not expire or the provider did not say */
    long days_left;
    char last[64];        /* last rotation, RFC 3339, "" when unknown */
    const char *last_src; /* "journal", "audit", "file" (mtime of out or secret_file), "unknown" */
    bool due;
    char reason[160];
    char detail[600]; /* why it is broken or failed, never a secret */
} plan_row;

/* An entry's last completed rotation and where that is known from ("journal", "audit"). */
typedef struct fleet_last {
    char at[64]; /* RFC 3339, "" when neither knows it */
    const char *source;
} fleet_last;

/* Reads the completed rotations in --journal (a run record's name, its end record's time) and
 * --audit (secret.rotate.completed's rotated_at), by name or alias: the latest per entry into
 * last[] (f->inv.n of them, zeroed by the caller). Missing files give nothing; other read
 * errors are reported on stderr. */
void fleet_history(const fleet *f, fleet_last *last);
/* Inspects entry i (describe, verify its current secret: two provider calls) and decides
 * whether it is due (f->o->due_within), into r. hist: from fleet_history (the out or
 * secret_file's modification time when it knows nothing). */
void fleet_plan_entry(fleet *f, int i, const fleet_last *hist, time_t now, plan_row *r);

/* The commands. `apply --resume` (o->resume) finishes the journal's last unfinished fleet run. */
int cmd_plan(const hopts *o);
int cmd_apply(const hopts *o);

/* True when the journal at path holds a fleet run without its fleet_end record (`resume
 * --journal` hands such a journal to `apply --resume`). */
bool fleet_journal_has_fleet_run(const char *path);

#endif
