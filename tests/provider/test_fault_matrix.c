/* SPDX-License-Identifier: MIT */
/* test_fault_matrix.c - every operation variant of every kind x every request it makes x every
 * fault cfemu can inject (harness/cfemu/README.md), once and, for requests the provider may
 * repeat, persistently: the code the provider reports must match what cfemu did (issue 14,
 * ABI.md section 8).
 *
 * For each cell: a target (made with a clean instance; a new one once a change used it up), the
 * fault queued on one request, the operation run by an instance with a short timeout
 * (FM_TIMEOUT_MS, one retry), the fault cleared, then cfemu's state asked whether the change was
 * applied, and pt_check_truthful(): OK only when applied, with a result the kind describes and a
 * new secret that works (no new secret is lost: it is returned, or the code says
 * OUTCOME_UNKNOWN with REQUEST_SENT so the host rolls forward); any other failure only when
 * nothing was applied; verify never claims a state without an answer. A variant whose cells
 * never fail means the faults missed: that fails too.
 *
 * Usage: test_fault_matrix GROUP (user, account, st, zone): the variants whose name starts with
 * GROUP, so CTest runs the groups in parallel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pt.h"

#define FM_TIMEOUT_MS  300 /* a call's whole budget, retries included */
#define FM_DELAY_LONG  500 /* past the budget */
#define FM_DELAY_SHORT 30  /* well within it */
#define FM_PERSISTENT  20  /* "persistent": more hits than any retry loop makes */

typedef struct fm_fault {
    const char *kind;
    int status;
    int delay_ms;
} fm_fault;

static const fm_fault faults[] = {
    {"status", 500, 0},           {"status", 503, 0},          {"reset_before", 0, 0},
    {"reset_after", 0, 0},        {"delay", 0, FM_DELAY_LONG}, {"delay", 0, FM_DELAY_SHORT},
    {"truncate", 0, 0},           {"malformed_json", 0, 0},    {"oversize", 0, 0},
    {"wrong_content_type", 0, 0}, {"rate_limit", 0, 0},
};
#define NFAULTS (sizeof(faults) / sizeof(faults[0]))

/* Whether the provider may send this request more than once (reads, DELETE, the overlap PUT),
 * so a persistent fault differs from a single one. */
static bool repeatable(const char *request)
{
    return strncmp(request, "GET ", 4) == 0 || strncmp(request, "DELETE ", 7) == 0 ||
           (strncmp(request, "PUT ", 4) == 0 && strstr(request, "/value") == NULL);
}

typedef struct tally {
    int cells, ok, unknown, other, applied;
} tally;

/* One cell: variant v, its request r, fault f, `count` hits. Returns whether the change was
 * applied (the target is then used up). */
static bool run_cell(const pt_variant *v, const char *request, const fm_fault *f, int count,
                     rotp_instance *ci, pt_target *t, const char *tag, tally *ty)
{
    char method[16], glob[200], where[400];
    rotp_instance *fi;
    pt_out o;
    bool applied;

    sscanf(request, "%15s %199s", method, glob);
    snprintf(where, sizeof(where), "%s: %s %s: %s%s%s x%d", v->name, method, glob, f->kind,
             f->status ? " " : "", f->status ? (f->status == 500 ? "500" : "503") : "", count);
    fi = pt_open(&pt_genv, NULL, FM_TIMEOUT_MS, 1);
    pt_fault(&pt_genv, method, glob, f->kind, f->status, count, f->delay_ms);
    o = pt_run(&pt_genv, fi, v, t, tag);
    pt_faults_clear(&pt_genv);
    pt_provider()->close(fi);
    /* a delayed request may change the state after the provider gave up on it: judge the state
     * (and start the next cell) only once cfemu has finished every request */
    pt_quiesce(&pt_genv);
    applied = pt_applied(&pt_genv, ci, v, t, tag);
    pt_check_truthful(&pt_genv, ci, v, t, &o, applied, where);
    ty->cells++;
    ty->ok += o.rc == ROTP_E_OK;
    ty->unknown += o.rc == ROTP_E_OUTCOME_UNKNOWN;
    ty->other += o.rc != ROTP_E_OK && o.rc != ROTP_E_OUTCOME_UNKNOWN;
    ty->applied += applied;
    pt_free(&o);
    return applied;
}

/* Every cell of a variant. A target serves cell after cell until a change uses it up. */
static void run_variant(const pt_variant *v, rotp_instance *ci, int *serial)
{
    pt_target t;
    tally ty = {0};
    char tag[16];
    bool have = false;

    for (size_t r = 0; v->requests[r] != NULL; r++) {
        for (size_t f = 0; f < NFAULTS; f++) {
            for (int pass = 0; pass < 2; pass++) {
                int count = pass == 0 ? 1 : FM_PERSISTENT;

                if (pass == 1 && (!repeatable(v->requests[r]) || faults[f].delay_ms > 0))
                    continue;
                if (!have) {
                    snprintf(tag, sizeof(tag), "c%05d", (*serial)++);
                    pt_setup(&pt_genv, ci, v, tag, &t);
                    have = true;
                }
                if (run_cell(v, v->requests[r], &faults[f], count, ci, &t, tag, &ty)) {
                    pt_cleanup(&pt_genv, ci, v, &t, tag);
                    have = false;
                }
            }
        }
    }
    if (have)
        pt_cleanup(&pt_genv, ci, v, &t, tag);
    print_message("%-30s %3d cells: OK %3d, OUTCOME_UNKNOWN %3d, other errors %3d; applied %3d\n",
                  v->name, ty.cells, ty.ok, ty.unknown, ty.other, ty.applied);
    /* the faults must have bitten; a change sent once must have met a lost answer, and an
     * idempotent one must have settled some by looking (applied, and still OK) */
    assert_true(ty.unknown + ty.other > 0);
    if (v->change == PT_C_ROLL || v->change == PT_C_ROTATE || v->change == PT_C_CREATE)
        assert_true(ty.unknown > 0);
    if (v->change == PT_C_DELETE || v->change == PT_C_ENDOVLAP)
        assert_true(ty.applied > 0 && ty.ok > 0);
}

int main(int argc, char **argv)
{
    return pt_group_main(argc, argv, run_variant);
}
