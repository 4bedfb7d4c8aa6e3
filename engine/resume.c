/* SPDX-License-Identifier: MIT */
/* resume.c - finishing an unfinished run from what its journal records say happened: nothing
 * changed yet (start over), the roll's new value lost (roll forward, removing orphans of a
 * NEW_ID roll), delivered but not verified (verify the value the host reads back), verified
 * (the last step), or an interrupted finish (revoke again: it is idempotent). */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "engine_int.h"

#define RS_MAXP (ROTP_ENGINE_JOURNAL_MAX_PARAMS + 4)

/* The effective run: the caller's values win, the journal's fill the gaps. */
typedef struct rsrun {
    rotp_engine_run run;
    rotp_param req[ROTP_ENGINE_JOURNAL_MAX_PARAMS];
    rotp_params reqp;
    rotp_param cur[RS_MAXP];
    rotp_params curp;
    char overlap_buf[24];
} rsrun;

static void kv_param(rotp_param *p, const char *key, const char *value, uint32_t flags)
{
    p->struct_size = sizeof(*p);
    p->flags = flags;
    p->key = key;
    p->value = value;
    p->value_len = strlen(value);
}

static void build_run(rsrun *r, const rotp_engine_journal_entry *j, const rotp_engine_run *in)
{
    uint32_t n = 0;
    r->run = *in;
    r->run.struct_size = sizeof(r->run);
    r->run.run_id = j->run_id;
    if (r->run.kind == NULL && j->kind[0])
        r->run.kind = j->kind;
    if (r->run.id == NULL && j->id[0])
        r->run.id = j->id;
    if (r->run.name == NULL && j->name[0])
        r->run.name = j->name;
    if (r->run.strategy == NULL && j->strategy[0])
        r->run.strategy = j->strategy;
    if (r->run.overlap_seconds < 0)
        r->run.overlap_seconds = j->overlap_seconds;
    r->run.flags &= ~ROTP_ENGINE_RUN_DRY_RUN;
    if (in->request == NULL || in->request->count == 0) {
        for (uint32_t i = 0; i < j->nrequest; i++)
            kv_param(&r->req[i], j->request[i].key, j->request[i].value, 0);
        r->reqp = (rotp_params){sizeof(rotp_params), j->nrequest, j->nrequest ? r->req : NULL};
        r->run.request = &r->reqp;
    }
    /* The current secret: the caller's parts, plus the journal's non-secret ones it lacks. */
    for (uint32_t i = 0; in->current != NULL && n < RS_MAXP; i++) {
        const rotp_param *p = params_at(in->current, i);
        if (p == NULL)
            break;
        r->cur[n++] = *p;
        r->cur[n - 1].struct_size = sizeof(rotp_param);
    }
    bool any_secret = n > 0;
    for (uint32_t i = 0; any_secret && i < j->ncurrent && n < RS_MAXP; i++) {
        if (params_get(in->current, j->current[i].key, NULL) == NULL)
            kv_param(&r->cur[n++], j->current[i].key, j->current[i].value, 0);
    }
    r->curp = (rotp_params){sizeof(rotp_params), n, n ? r->cur : NULL};
    r->run.current = n ? &r->curp : NULL;
}

/* For a NEW_ID roll: revoke credentials this run may have created (named with its run id). */
static int32_t remove_orphans(erun *c, const char *known_new_id)
{
    char ids[8][128];
    int nids = 0, removed = 0;
    int32_t code = ROTP_E_OK, rc;
    uint64_t t0 = eng_now_ms();

    if (known_new_id != NULL && known_new_id[0] && strcmp(known_new_id, c->run->id) != 0)
        snprintf(ids[nids++], sizeof(ids[0]), "%s", known_new_id);
    int n = er_find_by_name(c, c->run_id, c->run->id, ids + nids, 8 - nids, &code);
    if (code != ROTP_E_OK) {
        eng_step(c, "resume: find orphans", ROTP_ENGINE_STEP_FAIL,
                 rotp_engine_status_from_rotp(code), eng_now_ms() - t0, "list names holding %s: %s",
                 c->run_id, rotp_engine_rotp_code_name(code));
        return rotp_engine_status_from_rotp(code);
    }
    nids += n;
    for (int i = 0; i < nids; i++) {
        bool dup = false;
        for (int k = 0; k < i && !dup; k++)
            dup = strcmp(ids[k], ids[i]) == 0;
        if (dup)
            continue;
        rc = er_revoke(c, ids[i], "resume: delete orphan");
        if (rc != ROTP_ENGINE_OK)
            return rc;
        removed++;
    }
    eng_step(c, "resume: remove orphans", ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK, eng_now_ms() - t0,
             "%d orphan credential(s) of run %s revoked (their secrets were never delivered)",
             removed, c->run_id);
    return ROTP_ENGINE_OK;
}

/* Prepares the phase to enter from the journal's marks. */
static rphase pick_phase(erun *c, const rotp_engine_journal_entry *j)
{
    uint32_t m = j->marks;
    if (!(m & ROTP_ENGINE_JM_ROLL_INTENT) || (m & ROTP_ENGINE_JM_ROLL_FAILED)) {
        eng_step(c, "resume", ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK, 0,
                 "run %s: nothing was changed yet; rotating from the start", c->run_id);
        return RP_PRECHECK;
    }
    c->resuming = true;
    if (!(m & ROTP_ENGINE_JM_ROLL_OK) || !(m & ROTP_ENGINE_JM_DELIVERED)) {
        eng_step(c, "resume", ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK, 0,
                 "run %s: the roll's new value was %s; rolling forward", c->run_id,
                 (m & ROTP_ENGINE_JM_ROLL_OK) ? "never delivered" : "lost (outcome unknown)");
        return RP_ROLL;
    }
    snprintf(c->res->new_id, sizeof(c->res->new_id), "%s", j->new_id[0] ? j->new_id : c->run->id);
    snprintf(c->res->expires_at, sizeof(c->res->expires_at), "%s", j->expires_at);
    if (m & ROTP_ENGINE_JM_VERIFIED) {
        eng_step(c, "resume", ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK, 0,
                 "run %s: verified; continuing with the last step", c->run_id);
        return RP_TAIL;
    }
    if (c->run->delivered != NULL && eparts_from(&c->fresh, c->ki, c->run->delivered) == 0 &&
        eparts_complete(&c->fresh, c->ki)) {
        eng_step(c, "resume", ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK, 0,
                 "run %s: delivered, not yet verified; verifying the delivered value", c->run_id);
        return RP_VERIFY;
    }
    eparts_clear(&c->fresh);
    c->res->new_id[0] = '\0';
    eng_step(c, "resume", ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK, 0,
             "run %s: the delivered value cannot be read back; rolling forward", c->run_id);
    return RP_ROLL;
}

static int32_t resume_run(erun *c, const rotp_engine_journal_entry *j)
{
    rphase start;
    int32_t rc;
    c->jstep = j->last_seq;
    c->changed = (j->marks & (ROTP_ENGINE_JM_ROLL_INTENT | ROTP_ENGINE_JM_REVOKE_INTENT)) != 0;
    snprintf(c->old_name, sizeof(c->old_name), "%s", j->old_name);
    if (strcmp(j->command, "finish") == 0) {
        eng_step(c, "resume", ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK, 0,
                 "run %s: finishing (revoke is safe to repeat)", c->run_id);
        return er_finish(c);
    }
    start = pick_phase(c, j);
    if (start == RP_ROLL) {
        rc = er_precheck(c);
        if (rc == ROTP_ENGINE_OK && c->new_id)
            rc = remove_orphans(c, (j->marks & ROTP_ENGINE_JM_ROLL_OK) ? j->new_id : NULL);
        if (rc != ROTP_ENGINE_OK)
            return er_fail(c, rc, NULL);
    }
    return er_drive(c, start);
}

int32_t rotp_engine_resume(rotp_engine *e, const rotp_engine_journal_entry *entry,
                           const rotp_engine_run *run, rotp_engine_result *res)
{
    rotp_engine_run none;
    rsrun *r;
    erun c;
    int32_t rc;

    if (e == NULL || entry == NULL || res == NULL)
        return ROTP_ENGINE_USAGE;
    if (entry->state == ROTP_ENGINE_JS_FINISHED) {
        rotp_engine_result_init(res);
        snprintf(res->command, sizeof(res->command), "resume");
        snprintf(res->run_id, sizeof(res->run_id), "%s", entry->run_id);
        return ROTP_ENGINE_OK;
    }
    rotp_engine_run_init(&none);
    r = rotp__calloc(1, sizeof(*r));
    if (r == NULL)
        return ROTP_ENGINE_OTHER_FAILURE;
    build_run(r, entry, run != NULL ? run : &none);
    rc = erun_init(&c, e, &r->run, res, "resume");
    if (rc == ROTP_ENGINE_OK) {
        eng_run_begin(&c, "resume");
        rc = resume_run(&c, entry);
        eng_run_end(&c, rc);
    } else {
        res->status = rc;
    }
    erun_clear(&c);
    rotp__free(r);
    return rc;
}
