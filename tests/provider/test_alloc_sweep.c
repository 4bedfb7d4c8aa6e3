/* SPDX-License-Identifier: MIT */
/* test_alloc_sweep.c - every operation variant of every kind against cfemu, with each of the
 * provider's allocations made to fail in turn (the ROTP_ALLOC_HOOK of rotp_core_test), until the
 * operation runs through without reaching the failing one (issue 14; SQLite's and libcurl's
 * torture tests).
 *
 * Each run must end cleanly: no crash, nothing leaked (ASan's leak check in the sanitizer build;
 * cfemu's clean exit), an empty result on failure, and a truthful code checked against cfemu's
 * state (pt_check_truthful()): memory running out before a change was sent is NO_MEMORY with
 * nothing applied; once the change may have reached Cloudflare it is OUTCOME_UNKNOWN with
 * REQUEST_SENT, never NO_MEMORY; an idempotent revoke may settle itself and succeed.
 *
 * Usage: test_alloc_sweep GROUP (user, account, st, zone), like test_fault_matrix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "pt.h"

#define MAX_STEPS 5000UL /* a guard against a sweep that never reaches the end */

typedef struct sweep {
    unsigned long runs, nomem, unknown, ok;
} sweep;

/* One run with allocation n failing; true when the operation ran past it (the sweep is done). */
static bool run_one(const pt_variant *v, rotp_instance *ci, pt_target *t, const char *tag,
                    unsigned long n, bool *applied, sweep *sw)
{
    rotp_instance *inst = pt_open(&pt_genv, NULL, 30000, 1);
    char where[200];
    unsigned long used;
    pt_out o;

    rotp__alloc_fail_at(n);
    o = pt_run(&pt_genv, inst, v, t, tag);
    used = rotp__alloc_count();
    rotp__alloc_fail_at(0);
    pt_provider()->close(inst);
    snprintf(where, sizeof(where), "%s: allocation %lu of %lu failing", v->name, n, used);
    *applied = pt_applied(&pt_genv, ci, v, t, tag);
    pt_check_truthful(&pt_genv, ci, v, t, &o, *applied, where);
    if (o.rc != ROTP_E_OK && o.rc != ROTP_E_NO_MEMORY && o.rc != ROTP_E_OUTCOME_UNKNOWN)
        fail_msg("%s: code %d: %s", where, o.rc, o.err.message);
    if (o.rc != ROTP_E_OK)
        assert_true(strlen(o.err.message) > 0);
    sw->runs++;
    sw->nomem += o.rc == ROTP_E_NO_MEMORY;
    sw->unknown += o.rc == ROTP_E_OUTCOME_UNKNOWN;
    sw->ok += o.rc == ROTP_E_OK;
    pt_free(&o);
    return used < n;
}

static void sweep_variant(const pt_variant *v, rotp_instance *ci, int *serial)
{
    pt_target t;
    sweep sw = {0};
    char tag[16];
    bool fresh = true, applied = false, done = false;
    unsigned long n;

    for (n = 1; n < MAX_STEPS && !done; n++) {
        if (fresh) {
            snprintf(tag, sizeof(tag), "a%05d", (*serial)++);
            pt_setup(&pt_genv, ci, v, tag, &t);
        }
        done = run_one(v, ci, &t, tag, n, &applied, &sw);
        /* a change that applied used the target up; reads leave it as it was */
        fresh = applied || done;
        if (fresh)
            pt_cleanup(&pt_genv, ci, v, &t, tag);
    }
    assert_true(done);
    print_message("%-30s %4lu runs: NO_MEMORY %4lu, OUTCOME_UNKNOWN %3lu, OK %3lu\n", v->name,
                  sw.runs, sw.nomem, sw.unknown, sw.ok);
    assert_true(sw.nomem > 0); /* the hook bit */
    if (v->change == PT_C_ROLL || v->change == PT_C_ROTATE || v->change == PT_C_CREATE)
        assert_true(sw.unknown > 0); /* and some allocations come after the change */
}

int main(int argc, char **argv)
{
    return pt_group_main(argc, argv, sweep_variant);
}
