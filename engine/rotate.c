/* SPDX-License-Identifier: MIT */
/* rotate.c - the rotation runbook: pre-check, roll, deliver, verify new, confirm old dead or hold
 * the overlap; and finishing an overlap. Every step is reported through the run's events and
 * recorded in its result; every state-changing call has a journal intent before it and an
 * outcome after it. */
#include <stdio.h>
#include <string.h>

#include "engine_int.h"

static int32_t st_of(int32_t rotp_code)
{
    return rotp_engine_status_from_rotp(rotp_code);
}

/* Fills the non-secret parts the current secret lacks (a client id) from a result. */
static void fill_current(erun *c, const eres *h)
{
    for (uint32_t i = 0; i < c->ki->nparts && c->current.n < EPART_MAX; i++) {
        const rotp_part_info *pi = kd_part(c->ki, i);
        char v[512];
        if (pi == NULL || (pi->flags & ROTP_PART_SECRET) || eparts_get(&c->current, pi->key))
            continue;
        eres_copy(h, pi->key, v, sizeof(v));
        if (v[0] == '\0' || c->current.n == 0)
            continue; /* nothing to add, or no current secret at all */
        uint32_t n = c->current.n;
        c->current.val[n] = secret_new(v, strlen(v));
        if (c->current.val[n] == NULL)
            continue;
        snprintf(c->current.key[n], sizeof(c->current.key[0]), "%s", pi->key);
        c->current.secret[n] = false;
        c->current.n++;
    }
}

static int32_t precheck_describe(erun *c)
{
    ereq req;
    eres h;
    uint64_t t0 = eng_now_ms();
    const rotp_key_info *nk = kd_res_role(c->ki, ROTP_ROLE_NAME, ROTP_OP_DESCRIBE);
    const rotp_key_info *sk = kd_res_role(c->ki, ROTP_ROLE_STATUS, ROTP_OP_DESCRIBE);
    const rotp_key_info *ek = kd_res_role(c->ki, ROTP_ROLE_EXPIRES, ROTP_OP_DESCRIBE);
    const rotp_key_info *wk = kd_res_role(c->ki, ROTP_ROLE_WARNING, ROTP_OP_DESCRIBE);
    char status[64] = "", expires[64] = "", warning[200] = "";

    ereq_init(&req);
    erun_req(c, &req, ROTP_OP_DESCRIBE, c->run->id);
    int32_t code = erun_call(c, ROTP_OP_DESCRIBE, &req, &h);
    if (code != ROTP_E_OK) {
        eng_step(c, "pre-check: describe", ROTP_ENGINE_STEP_FAIL, st_of(code), eng_now_ms() - t0,
                 "%s: %s", rotp_engine_rotp_code_name(code), h.err.message);
        eres_free(&h);
        return st_of(code);
    }
    if (nk != NULL)
        eres_copy(&h, nk->key, c->old_name, sizeof(c->old_name));
    if (sk != NULL)
        eres_copy(&h, sk->key, status, sizeof(status));
    if (ek != NULL)
        eres_copy(&h, ek->key, expires, sizeof(expires));
    erun_learn(c, &h);
    fill_current(c, &h);
    /* A describe warning matters for strategies that make a new credential; keep it short. */
    if (c->new_id && wk != NULL) {
        eres_copy(&h, wk->key, warning, sizeof(warning));
        if (strlen(warning) > 150)
            snprintf(warning + 147, sizeof(warning) - 147, "...");
    }
    eres_free(&h);
    eng_step(c, "pre-check: describe", ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK, eng_now_ms() - t0,
             "id %s name \"%s\" %s=%s expires %s%s%s", c->run->id, c->old_name,
             sk != NULL ? sk->key : "status", status, expires[0] ? expires : "never",
             warning[0] ? "; warning: " : "", warning);
    return ROTP_ENGINE_OK;
}

static int32_t precheck_sinks(erun *c)
{
    char msg[512] = "";
    uint64_t t0 = eng_now_ms();
    if (c->e->host.preflight == NULL || c->capture)
        return ROTP_ENGINE_OK;
    int32_t rc = c->e->host.preflight(c->e->host.user, c->run_id, msg, sizeof(msg));
    if (rc != ROTP_ENGINE_OK) {
        eng_step(c, "pre-check: sinks", ROTP_ENGINE_STEP_FAIL, ROTP_ENGINE_SINK_FAILED,
                 eng_now_ms() - t0, "a sink cannot take the secret%s%s: nothing was changed",
                 msg[0] ? ": " : "", msg);
        return ROTP_ENGINE_SINK_FAILED;
    }
    if (msg[0] != '\0')
        eng_step(c, "pre-check: sinks", ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK, eng_now_ms() - t0,
                 "%s", msg);
    return ROTP_ENGINE_OK;
}

static const char *probe_note(const erun *c)
{
    return ev_existence_only(c) ? " (no probe: existence only)" : "";
}

int32_t er_precheck(erun *c)
{
    char detail[600];
    int32_t code, rc;
    uint64_t t0;
    const char *step = "pre-check: verify current secret";

    rc = precheck_describe(c);
    if (rc == ROTP_ENGINE_OK)
        rc = precheck_sinks(c);
    if (rc != ROTP_ENGINE_OK)
        return rc;
    if (c->current.n == 0 || c->resuming) {
        eng_step(c, step, ROTP_ENGINE_STEP_SKIP, ROTP_ENGINE_OK, 0, "%s",
                 c->resuming ? "resuming: the old value may already be dead"
                             : "no current secret given");
        return ROTP_ENGINE_OK;
    }
    t0 = eng_now_ms();
    vclass v = ev_verify(c, c->run->id, &c->current, detail, sizeof(detail), &code);
    if (v != V_ACTIVE) {
        rc = v == V_ERROR ? st_of(code) : ROTP_ENGINE_VERIFICATION_FAILED;
        eng_step(c, step, ROTP_ENGINE_STEP_FAIL, rc, eng_now_ms() - t0,
                 "%s (the current secret must be active before a rotation)", detail);
        return rc;
    }
    if (c->verified_id[0] != '\0' && c->run->id != NULL && strcmp(c->verified_id, c->run->id)) {
        eng_step(c, step, ROTP_ENGINE_STEP_FAIL, ROTP_ENGINE_VERIFICATION_FAILED, eng_now_ms() - t0,
                 "the current secret belongs to %s, not %s: wrong secret?", c->verified_id,
                 c->run->id);
        return ROTP_ENGINE_VERIFICATION_FAILED;
    }
    eng_step(c, step, ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK, eng_now_ms() - t0, "%s%s", detail,
             probe_note(c));
    return ROTP_ENGINE_OK;
}

/* ---- roll and deliver -------------------------------------------------------------------- */

static void roll_request(erun *c, ereq *req)
{
    const rotp_key_info *rk = kd_req_role(c->ki, ROTP_ROLE_RUN_ID);
    const rotp_key_info *ok = kd_req_role(c->ki, ROTP_ROLE_OVERLAP);
    ereq_init(req);
    erun_req(c, req, ROTP_OP_ROLL, c->run->id);
    erun_req_strategy(c, req, ROTP_OP_ROLL);
    if (c->new_id && rk != NULL && (rk->ops & ROTP_OP_ROLL))
        ereq_add(req, rk->key, c->run_id);
    else if (!c->new_id && c->strat != NULL && (c->strat->flags & ROTP_STRATEGY_OVERLAP) &&
             c->run->overlap_seconds >= 0 && ok != NULL && (ok->ops & ROTP_OP_ROLL))
        ereq_add_long(req, ok->key, c->run->overlap_seconds);
}

/* Takes what the roll returned: the new secret, ids, expiry, companions. */
static void take_roll(erun *c, const eres *h, char *warning, size_t wcap)
{
    rotp_engine_result *r = c->res;
    const rotp_key_info *ik = kd_res_role(c->ki, ROTP_ROLE_ID, ROTP_OP_ROLL);
    const rotp_key_info *xk = kd_res_role(c->ki, ROTP_ROLE_REPLACED_ID, ROTP_OP_ROLL);
    const rotp_key_info *ok = kd_res_role(c->ki, ROTP_ROLE_OVERLAP_END, ROTP_OP_ROLL);
    const rotp_key_info *wk = kd_res_role(c->ki, ROTP_ROLE_WARNING, ROTP_OP_ROLL);
    const rotp_key_info *ek = kd_res_role(c->ki, ROTP_ROLE_EXPIRES, 0);
    rotp_params rp = {sizeof(rotp_params), h->res.count, h->res.items};

    (void)eparts_from(&c->fresh, c->ki, &rp);
    /* Non-secret parts the roll did not repeat (a client id that stays) come from the current
     * secret. */
    for (uint32_t i = 0; i < c->current.n && c->fresh.n < EPART_MAX; i++) {
        if (c->current.secret[i] || eparts_get(&c->fresh, c->current.key[i]) != NULL)
            continue;
        uint32_t n = c->fresh.n;
        c->fresh.val[n] = secret_new(c->current.val[i]->data, c->current.val[i]->len);
        if (c->fresh.val[n] == NULL)
            continue;
        snprintf(c->fresh.key[n], sizeof(c->fresh.key[0]), "%s", c->current.key[i]);
        c->fresh.n++;
    }
    if (ik != NULL)
        eres_copy(h, ik->key, r->new_id, sizeof(r->new_id));
    if (r->new_id[0] == '\0')
        snprintf(r->new_id, sizeof(r->new_id), "%s", c->run->id ? c->run->id : "");
    if (xk != NULL)
        eres_copy(h, xk->key, r->replaced_id, sizeof(r->replaced_id));
    if (c->new_id && r->replaced_id[0] == '\0')
        snprintf(r->replaced_id, sizeof(r->replaced_id), "%s", c->run->id ? c->run->id : "");
    if (ok != NULL)
        eres_copy(h, ok->key, r->overlap_ends_at, sizeof(r->overlap_ends_at));
    warning[0] = '\0';
    if (wk != NULL)
        eres_copy(h, wk->key, warning, wcap);
    erun_learn(c, h);
    if (ek != NULL && erun_comp(c, ek->key) != NULL)
        snprintf(r->expires_at, sizeof(r->expires_at), "%s", erun_comp(c, ek->key));
    eng_now_rfc3339(r->rolled_at, sizeof(r->rolled_at));
}

static int32_t roll_failed(erun *c, int32_t code, const eres *h, uint64_t t0)
{
    (void)ej_outcome(c, "roll", code == ROTP_E_OUTCOME_UNKNOWN ? "unknown" : "error", code, NULL,
                     NULL, NULL);
    eng_step(c, "roll", ROTP_ENGINE_STEP_FAIL, st_of(code), eng_now_ms() - t0, "%s: %s%s",
             rotp_engine_rotp_code_name(code), h->err.message,
             code != ROTP_E_OUTCOME_UNKNOWN ? ""
             : c->e->host.journal != NULL && !c->quiet
                 ? " -> resume the run from its journal to roll forward"
                 : " -> roll again (roll forward): the old value may already be dead");
    return st_of(code);
}

static int32_t phase_roll(erun *c)
{
    ereq req;
    eres h;
    uint64_t t0 = eng_now_ms();
    char warning[400];
    rotp_engine_result *r = c->res;

    roll_request(c, &req);
    if (ej_intent(c, "roll", c->run->id) != 0) {
        eng_step(c, "roll", ROTP_ENGINE_STEP_FAIL, ROTP_ENGINE_OTHER_FAILURE, 0,
                 "the journal intent could not be written: nothing was changed");
        return ROTP_ENGINE_OTHER_FAILURE;
    }
    int32_t code = erun_call(c, ROTP_OP_ROLL, &req, &h);
    if (code == ROTP_E_OK || code == ROTP_E_OUTCOME_UNKNOWN)
        c->changed = true;
    if (code != ROTP_E_OK) {
        int32_t rc = roll_failed(c, code, &h, t0);
        eres_free(&h);
        return rc;
    }
    take_roll(c, &h, warning, sizeof(warning));
    eres_free(&h);
    (void)ej_outcome(c, "roll", "ok", ROTP_E_OK, r->new_id, c->new_id ? c->run->id : NULL,
                     r->expires_at);
    if (!eparts_complete(&c->fresh, c->ki)) {
        eng_step(c, "roll", ROTP_ENGINE_STEP_FAIL, ROTP_ENGINE_OTHER_FAILURE, eng_now_ms() - t0,
                 "the provider returned no secret (or out of memory)");
        return ROTP_ENGINE_OTHER_FAILURE;
    }
    const rotp_part_info *pp = kd_primary_part(c->ki);
    const secret_buf *pv = pp != NULL ? eparts_get(&c->fresh, pp->key) : NULL;
    eng_step(c, "roll", ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK, eng_now_ms() - t0,
             "%s%s, new secret %zu bytes%s%s%s%s", c->new_id ? "new id " : "id ", r->new_id,
             pv != NULL ? pv->len : (size_t)0,
             r->overlap_ends_at[0] ? ", old secret valid until " : "", r->overlap_ends_at,
             warning[0] ? "; warning: " : "", warning);
    return ROTP_ENGINE_OK;
}

/* Companions (suffix = value) and parts as the deliver callback's params. */
typedef struct dview {
    rotp_param parts[EPART_MAX];
    rotp_param comps[8];
    rotp_engine_secret s;
} dview;

static void make_view(erun *c, dview *v)
{
    uint32_t np = 0, nc = 0;
    memset(v, 0, sizeof(*v));
    for (uint32_t i = 0; i < c->fresh.n; i++) {
        rotp_param *p = &v->parts[np++];
        p->struct_size = sizeof(*p);
        p->flags = c->fresh.secret[i] ? ROTP_PARAM_SECRET : 0;
        p->key = c->fresh.key[i];
        p->value = c->fresh.val[i]->data;
        p->value_len = c->fresh.val[i]->len;
    }
    for (uint32_t i = 0; i < c->ki->ncompanions && nc < 8; i++) {
        const rotp_companion_info *ci = kd_companion(c->ki, i);
        const char *val = ci != NULL ? erun_comp(c, ci->key) : NULL;
        if (ci != NULL && ci->key != NULL && strcmp(ci->key, "id") == 0 && c->res->new_id[0])
            val = c->res->new_id; /* the id companion names the credential after the roll */
        if (val == NULL || val[0] == '\0')
            continue;
        rotp_param *p = &v->comps[nc++];
        p->struct_size = sizeof(*p);
        p->key = ci->suffix;
        p->value = val;
        p->value_len = strlen(val);
    }
    v->s.struct_size = sizeof(v->s);
    v->s.run_id = c->run_id;
    v->s.name = c->run->name ? c->run->name : "";
    v->s.kind = c->run->kind;
    v->s.id = c->res->new_id;
    v->s.kind_info = c->ki;
    v->s.parts = (rotp_params){sizeof(rotp_params), np, np ? v->parts : NULL};
    v->s.companions = (rotp_params){sizeof(rotp_params), nc, nc ? v->comps : NULL};
    v->s.expires_at = c->res->expires_at;
}

static void record_companions(erun *c, const dview *v)
{
    rotp_engine_result *r = c->res;
    r->ncompanions = 0;
    for (uint32_t i = 0; i < v->s.companions.count && i < ROTP_ENGINE_MAX_COMPANIONS; i++) {
        snprintf(r->companions[i].suffix, sizeof(r->companions[i].suffix), "%s", v->comps[i].key);
        snprintf(r->companions[i].value, sizeof(r->companions[i].value), "%s", v->comps[i].value);
        r->ncompanions++;
    }
}

static int32_t phase_deliver(erun *c)
{
    dview v;
    char where[1100] = "", msg[512] = "";
    uint64_t t0 = eng_now_ms();
    int32_t rc;

    make_view(c, &v);
    record_companions(c, &v);
    if (c->capture) {
        snprintf(c->res->delivered, sizeof(c->res->delivered), "memory");
        c->res->delivered_ok = 1;
        eng_step(c, "deliver", ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK, eng_now_ms() - t0,
                 "kept in memory for the checks");
        return ROTP_ENGINE_OK;
    }
    rc = c->e->host.deliver(c->e->host.user, &v.s, where, sizeof(where), msg, sizeof(msg));
    if (rc != ROTP_ENGINE_OK) {
        eng_step(c, "deliver", ROTP_ENGINE_STEP_FAIL, ROTP_ENGINE_SINK_FAILED, eng_now_ms() - t0,
                 "a sink failed%s%s: the rotation stops here, nothing is revoked%s",
                 msg[0] ? " (" : "", msg[0] ? msg : "",
                 c->new_id ? " (the new credential "
                             "stays; revoke it or resume)"
                           : "");
        if (msg[0])
            snprintf(c->res->message, sizeof(c->res->message), "%s", msg);
        return ROTP_ENGINE_SINK_FAILED;
    }
    snprintf(c->res->delivered, sizeof(c->res->delivered), "%s", where);
    c->res->delivered_ok = 1;
    (void)ej_mark(c, "delivered");
    eng_step(c, "deliver", ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK, eng_now_ms() - t0, "to %s%s%s",
             where, c->run->name ? " as " : "", c->run->name ? c->run->name : "");
    return ROTP_ENGINE_OK;
}

/* ---- verify, confirm, revoke ------------------------------------------------------------- */

static int32_t phase_verify(erun *c)
{
    char detail[600];
    int32_t code = ROTP_E_OK;
    uint64_t t0 = eng_now_ms();
    vclass v = ev_verify_until(c, true, c->res->new_id, &c->fresh, detail, sizeof(detail), &code);
    if (v != V_ACTIVE) {
        int32_t rc = v == V_ERROR ? st_of(code) : ROTP_ENGINE_VERIFICATION_FAILED;
        eng_step(c, "verify new secret", ROTP_ENGINE_STEP_FAIL, rc, eng_now_ms() - t0, "%s%s",
                 detail,
                 c->verified_meaning == ROTP_STATE_REFUSED
                     ? " (the new secret authenticates but is not admitted: re-point the policy, "
                       "e.g. to the new id, before finishing)"
                     : "");
        return rc;
    }
    (void)ej_mark(c, "verified");
    eng_step(c, "verify new secret", ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK, eng_now_ms() - t0,
             "%s%s", detail, probe_note(c));
    return ROTP_ENGINE_OK;
}

static int32_t confirm_old_dead(erun *c, const char *old_id, bool finishing)
{
    char detail[600];
    int32_t code = ROTP_E_OK;
    uint64_t t0 = eng_now_ms();
    const char *step = "confirm old secret rejected";

    if (c->current.n == 0) {
        eng_step(c, step, ROTP_ENGINE_STEP_SKIP, ROTP_ENGINE_OK, 0, "no current secret given");
        return ROTP_ENGINE_OK;
    }
    if (!c->new_id && ev_existence_only(c)) {
        eng_step(c, step, ROTP_ENGINE_STEP_SKIP, ROTP_ENGINE_OK, 0,
                 "needs a probe to test the old secret (%s)",
                 kd_req_role(c->ki, ROTP_ROLE_PROBE)->key);
        return ROTP_ENGINE_OK;
    }
    vclass v = ev_verify_until(c, false, old_id, &c->current, detail, sizeof(detail), &code);
    if (v != V_DEAD) {
        int32_t rc = v == V_ERROR ? st_of(code) : ROTP_ENGINE_VERIFICATION_FAILED;
        eng_step(c, step, ROTP_ENGINE_STEP_FAIL, rc, eng_now_ms() - t0,
                 "%s: the old secret is still accepted%s", detail,
                 finishing ? " (or the secret given is the new one: give the old secret, or "
                             "none)"
                           : "");
        return rc;
    }
    (void)ej_mark(c, "old_dead");
    eng_step(c, step, ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK, eng_now_ms() - t0, "%s", detail);
    return ROTP_ENGINE_OK;
}

int32_t er_revoke(erun *c, const char *id, const char *step_name)
{
    ereq req;
    eres h;
    uint64_t t0 = eng_now_ms();
    char state[64] = "";
    const rotp_key_info *sk = kd_res_role(c->ki, ROTP_ROLE_STATE, ROTP_OP_REVOKE);

    ereq_init(&req);
    erun_req(c, &req, ROTP_OP_REVOKE, id);
    erun_req_strategy(c, &req, ROTP_OP_REVOKE);
    if (ej_intent(c, "revoke", id) != 0) {
        eng_step(c, step_name, ROTP_ENGINE_STEP_FAIL, ROTP_ENGINE_OTHER_FAILURE, 0,
                 "the journal intent could not be written: nothing was changed");
        return ROTP_ENGINE_OTHER_FAILURE;
    }
    int32_t code = erun_call(c, ROTP_OP_REVOKE, &req, &h);
    if (code == ROTP_E_OUTCOME_UNKNOWN)
        c->changed = true;
    (void)ej_outcome(c, "revoke",
                     code == ROTP_E_OK                ? "ok"
                     : code == ROTP_E_OUTCOME_UNKNOWN ? "unknown"
                                                      : "error",
                     code, NULL, NULL, NULL);
    if (code != ROTP_E_OK) {
        eng_step(c, step_name, ROTP_ENGINE_STEP_FAIL, st_of(code), eng_now_ms() - t0, "%s: %s",
                 rotp_engine_rotp_code_name(code), h.err.message);
        eres_free(&h);
        return st_of(code);
    }
    eres_copy(&h, sk != NULL ? sk->key : "state", state, sizeof(state));
    eres_free(&h);
    eng_step(c, step_name, ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK, eng_now_ms() - t0, "%s state=%s",
             id, state);
    return ROTP_ENGINE_OK;
}

static const char *revoke_old_step(const erun *c)
{
    return c->new_id ? "delete old credential" : "end overlap";
}

static int32_t phase_tail(erun *c)
{
    int32_t rc;
    if (c->strat == NULL || !(c->strat->flags & ROTP_STRATEGY_OVERLAP))
        return confirm_old_dead(c, c->run->id, false);
    if (c->overlap_wanted) {
        c->res->overlap = 1;
        snprintf(c->res->finish_hint, sizeof(c->res->finish_hint),
                 "finish kind %s id %s with strategy %s", c->run->kind, c->run->id, c->strat->name);
        (void)ej_mark(c, "overlap");
        eng_step(c, "overlap", ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK, 0,
                 "the old secret keeps working until finished%s%s (strategy %s, id %s)",
                 c->res->overlap_ends_at[0] ? " or until " : "", c->res->overlap_ends_at,
                 c->strat->name, c->run->id);
        return ROTP_ENGINE_OK;
    }
    if (c->new_id) {
        rc = er_revoke(c, c->run->id, revoke_old_step(c));
        if (rc != ROTP_ENGINE_OK)
            return rc;
    }
    return confirm_old_dead(c, c->run->id, false);
}

/* ---- the whole run ----------------------------------------------------------------------- */

int32_t er_fail(erun *c, int32_t status, const char *error_name)
{
    eng_audit(c, "secret.rotate.failed", NULL, rotp_engine_status_name(status), error_name);
    if (!c->changed)
        (void)ej_end(c, "failed", status);
    else if (c->e->host.journal != NULL && !c->quiet)
        c->res->run_open = 1;
    return status;
}

static int32_t drive_start(erun *c)
{
    int32_t rc = er_precheck(c);
    if (rc != ROTP_ENGINE_OK) {
        if (!(c->run->flags & ROTP_ENGINE_RUN_DRY_RUN))
            eng_audit(c, "secret.rotate.failed", NULL, rotp_engine_status_name(rc), "pre-check");
        if (c->resuming)
            (void)ej_end(c, "failed", rc);
        return rc;
    }
    if (c->run->flags & ROTP_ENGINE_RUN_DRY_RUN) {
        eng_step(c, "dry run", ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK, 0,
                 "pre-checks passed; nothing was changed");
        return ROTP_ENGINE_OK;
    }
    eng_audit(c, "secret.rotate.started", NULL, NULL, NULL);
    if (ej_run(c, "rotate") != 0) {
        eng_step(c, "journal", ROTP_ENGINE_STEP_FAIL, ROTP_ENGINE_OTHER_FAILURE, 0,
                 "cannot write the journal");
        return er_fail(c, ROTP_ENGINE_OTHER_FAILURE, "journal");
    }
    return ROTP_ENGINE_OK;
}

int32_t er_drive(erun *c, rphase start)
{
    int32_t rc;
    if (start == RP_PRECHECK) {
        rc = drive_start(c);
        if (rc != ROTP_ENGINE_OK || (c->run->flags & ROTP_ENGINE_RUN_DRY_RUN))
            return rc;
    }
    if (start <= RP_ROLL) {
        rc = phase_roll(c);
        if (rc == ROTP_ENGINE_OK)
            rc = phase_deliver(c);
        if (rc != ROTP_ENGINE_OK)
            return er_fail(c, rc, rc == ROTP_ENGINE_SINK_FAILED ? "deliver" : "roll");
    }
    if (start <= RP_VERIFY) {
        rc = phase_verify(c);
        if (rc != ROTP_ENGINE_OK)
            return er_fail(c, rc, "verify new secret");
    }
    rc = phase_tail(c);
    if (rc != ROTP_ENGINE_OK)
        return er_fail(c, rc, NULL);
    if (c->res->overlap) {
        eng_audit(c, "secret.rotate.completed", "overlap", NULL, NULL);
        (void)ej_end(c, "overlap", ROTP_ENGINE_OK);
    } else {
        eng_audit(c, "secret.rotate.completed", "finished", NULL, NULL);
        (void)ej_end(c, "completed", ROTP_ENGINE_OK);
    }
    return ROTP_ENGINE_OK;
}

static int32_t finish_describe(erun *c)
{
    ereq req;
    eres h;
    uint64_t t0 = eng_now_ms();
    const rotp_key_info *nk = kd_res_role(c->ki, ROTP_ROLE_NAME, ROTP_OP_DESCRIBE);

    ereq_init(&req);
    erun_req(c, &req, ROTP_OP_DESCRIBE, c->run->id);
    int32_t code = erun_call(c, ROTP_OP_DESCRIBE, &req, &h);
    if (code == ROTP_E_OK) {
        fill_current(c, &h);
        if (nk != NULL)
            eres_copy(&h, nk->key, c->old_name, sizeof(c->old_name));
        eng_step(c, "pre-check: describe", ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK, eng_now_ms() - t0,
                 "id %s name \"%s\"", c->run->id, c->old_name);
    } else if (code == ROTP_E_NOT_FOUND && c->new_id) {
        eng_step(c, "pre-check: describe", ROTP_ENGINE_STEP_SKIP, ROTP_ENGINE_OK, eng_now_ms() - t0,
                 "%s is already gone", c->run->id);
    } else {
        eng_step(c, "pre-check: describe", ROTP_ENGINE_STEP_FAIL, st_of(code), eng_now_ms() - t0,
                 "%s: %s", rotp_engine_rotp_code_name(code), h.err.message);
        eres_free(&h);
        return er_fail(c, st_of(code), rotp_engine_rotp_code_name(code));
    }
    eres_free(&h);
    return ROTP_ENGINE_OK;
}

int32_t er_finish(erun *c)
{
    int32_t rc;
    if (c->strat == NULL || !(c->strat->flags & ROTP_STRATEGY_FINISH)) {
        eng_step(c, "finish", ROTP_ENGINE_STEP_FAIL, ROTP_ENGINE_USAGE, 0,
                 "kind %s%s%s has no overlap to finish: the old secret dies at the roll",
                 c->run->kind, c->strat ? " strategy " : "", c->strat ? c->strat->name : "");
        return ROTP_ENGINE_USAGE;
    }
    rc = finish_describe(c);
    if (rc != ROTP_ENGINE_OK || (c->run->flags & ROTP_ENGINE_RUN_DRY_RUN))
        return rc;
    if (ej_run(c, "finish") != 0) {
        eng_step(c, "journal", ROTP_ENGINE_STEP_FAIL, ROTP_ENGINE_OTHER_FAILURE, 0,
                 "cannot write the journal");
        return ROTP_ENGINE_OTHER_FAILURE;
    }
    rc = er_revoke(c, c->run->id, revoke_old_step(c));
    if (rc == ROTP_ENGINE_OK)
        rc = confirm_old_dead(c, c->run->id, true);
    if (rc != ROTP_ENGINE_OK)
        return er_fail(c, rc, NULL);
    eng_now_rfc3339(c->res->rolled_at, sizeof(c->res->rolled_at));
    eng_audit(c, "secret.rotate.completed", "finished", NULL, NULL);
    (void)ej_end(c, "completed", ROTP_ENGINE_OK);
    return ROTP_ENGINE_OK;
}

/* ---- public entry points ----------------------------------------------------------------- */

static int32_t run_command(rotp_engine *e, const rotp_engine_run *run, rotp_engine_result *res,
                           bool finish)
{
    erun c;
    int32_t rc;
    if (e == NULL || res == NULL)
        return ROTP_ENGINE_USAGE;
    rc = erun_init(&c, e, run, res, finish ? "finish" : "rotate");
    if (rc == ROTP_ENGINE_OK && (run->id == NULL || run->id[0] == '\0')) {
        snprintf(res->message, sizeof(res->message), "%s needs the credential's id",
                 finish ? "finish" : "rotate");
        rc = ROTP_ENGINE_USAGE;
    }
    if (rc != ROTP_ENGINE_OK) {
        res->status = rc;
        erun_clear(&c);
        return rc;
    }
    eng_run_begin(&c, res->command);
    rc = finish ? er_finish(&c) : er_drive(&c, RP_PRECHECK);
    eng_run_end(&c, rc);
    erun_clear(&c);
    return rc;
}

int32_t rotp_engine_rotate(rotp_engine *e, const rotp_engine_run *run, rotp_engine_result *res)
{
    return run_command(e, run, res, false);
}

int32_t rotp_engine_finish(rotp_engine *e, const rotp_engine_run *run, rotp_engine_result *res)
{
    return run_command(e, run, res, true);
}
