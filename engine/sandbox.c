/* SPDX-License-Identifier: MIT */
/* sandbox.c - the runbook validated on throwaway credentials: provision (from the kind's sandbox
 * descriptor), verify, rotate through the runbook (and finish an overlap), verify the delivered
 * secret, revoke, confirm gone; whatever failed, what was created is revoked on the way out. */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "engine_int.h"

#define SB_MAXKV 16

typedef struct sbx {
    erun c;
    rotp_engine_run inner;
    char created_id[128];
    char current_id[128];
    char prov_name[128];
    char kv[SB_MAXKV][1024]; /* sandbox descriptor pairs after substitution */
    bool prov_unknown;
    bool live;         /* current_id needs a revoke */
    bool created_live; /* created_id needs a revoke */
    eparts s0;         /* the provisioned secret */
    rotp_param s0p[EPART_MAX];
    rotp_params s0params;
} sbx;

static const char *revoke_strategy(const rotp_kind_info *k)
{
    /* A strategy whose finish revokes a whole credential deletes it; else the default. */
    for (uint32_t i = 0; i < k->nstrategies; i++) {
        const rotp_strategy_info *s = kd_strategy(k, i);
        if (s != NULL && (s->flags & ROTP_STRATEGY_NEW_ID) && (s->flags & ROTP_STRATEGY_FINISH))
            return s->name;
    }
    return NULL;
}

static int32_t revoke_id(sbx *s, const char *id, char *state, size_t cap, rotp_error *err)
{
    ereq req;
    eres h;
    const rotp_key_info *sk = kd_req_role(s->c.ki, ROTP_ROLE_STRATEGY);
    const rotp_key_info *stk = kd_res_role(s->c.ki, ROTP_ROLE_STATE, ROTP_OP_REVOKE);
    const char *strat = revoke_strategy(s->c.ki);
    ereq_init(&req);
    erun_req(&s->c, &req, ROTP_OP_REVOKE, id);
    if (sk != NULL && strat != NULL && (sk->ops & ROTP_OP_REVOKE))
        ereq_add(&req, sk->key, strat);
    int32_t code = erun_call(&s->c, ROTP_OP_REVOKE, &req, &h);
    if (code == ROTP_E_OK)
        eres_copy(&h, stk != NULL ? stk->key : "state", state, cap);
    else
        *err = h.err;
    eres_free(&h);
    return code;
}

/* Substitutes {key} with the run's request value of key. 0, or -1 naming the missing key. */
static int substitute(const erun *c, const char *in, char *out, size_t cap, char *missing,
                      size_t mcap)
{
    size_t o = 0;
    for (const char *p = in; *p != '\0';) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        size_t idlen = close != NULL ? strspn(p + 1, "abcdefghijklmnopqrstuvwxyz0123456789_") : 0;
        if (close != NULL && idlen > 0 && p + 1 + idlen == close && idlen < 64) {
            char key[64];
            snprintf(key, sizeof(key), "%.*s", (int)(close - p - 1), p + 1);
            const char *v = params_get(c->run->request, key, NULL);
            if (v == NULL) {
                snprintf(missing, mcap, "%s", key);
                return -1;
            }
            o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s", v);
            p = close + 1;
            continue;
        }
        if (o + 1 < cap)
            out[o] = *p;
        o++;
        p++;
    }
    if (o >= cap)
        return -1;
    out[o] = '\0';
    return 0;
}

/* Adds the kind's sandbox pairs the run's request does not give itself. */
static int32_t add_sandbox_pairs(sbx *s, ereq *req)
{
    const char *const *pairs = s->c.ki->sandbox;
    for (int i = 0; pairs != NULL && pairs[i] != NULL && i < SB_MAXKV; i++) {
        char missing[64] = "";
        const char *eq = strchr(pairs[i], '=');
        if (eq == NULL)
            continue;
        char key[64];
        snprintf(key, sizeof(key), "%.*s", (int)(eq - pairs[i]), pairs[i]);
        if (params_get(s->c.run->request, key, NULL) != NULL)
            continue;
        if (substitute(&s->c, pairs[i], s->kv[i], sizeof(s->kv[i]), missing, sizeof(missing)) !=
            0) {
            eng_step(&s->c, "provision", ROTP_ENGINE_STEP_FAIL, ROTP_ENGINE_USAGE, 0,
                     "the sandbox of kind %s needs the request key %s (for its %s), or give %s "
                     "yourself",
                     s->c.run->kind, missing[0] ? missing : "?", key, key);
            return ROTP_ENGINE_USAGE;
        }
        char *v = strchr(s->kv[i], '=');
        *v = '\0';
        ereq_add(req, s->kv[i], v + 1);
    }
    return ROTP_ENGINE_OK;
}

static int32_t step_provision(sbx *s)
{
    ereq req;
    eres h;
    uint64_t t0 = eng_now_ms();
    erun *c = &s->c;
    const rotp_key_info *nk = kd_req_role(c->ki, ROTP_ROLE_NAME);
    const rotp_key_info *rk = kd_req_role(c->ki, ROTP_ROLE_RUN_ID);
    const rotp_key_info *ik = kd_res_role(c->ki, ROTP_ROLE_ID, ROTP_OP_PROVISION);
    const rotp_key_info *rnk = kd_res_role(c->ki, ROTP_ROLE_NAME, ROTP_OP_PROVISION);
    char name[256] = "";
    int32_t rc;

    ereq_init(&req);
    erun_req(c, &req, ROTP_OP_PROVISION, NULL);
    snprintf(s->prov_name, sizeof(s->prov_name), "rotp-sandbox-%s", c->run_id);
    if (nk != NULL && (nk->ops & ROTP_OP_PROVISION))
        ereq_add(&req, nk->key, s->prov_name);
    if (rk != NULL && (rk->ops & ROTP_OP_PROVISION))
        ereq_add(&req, rk->key, c->run_id);
    rc = add_sandbox_pairs(s, &req);
    if (rc != ROTP_ENGINE_OK)
        return rc;
    int32_t code = erun_call(c, ROTP_OP_PROVISION, &req, &h);
    if (code == ROTP_E_OUTCOME_UNKNOWN)
        s->prov_unknown = true;
    if (code != ROTP_E_OK) {
        eng_step(c, "provision", ROTP_ENGINE_STEP_FAIL, rotp_engine_status_from_rotp(code),
                 eng_now_ms() - t0, "%s: %s", rotp_engine_rotp_code_name(code), h.err.message);
        eres_free(&h);
        return rotp_engine_status_from_rotp(code);
    }
    rotp_params rp = {sizeof(rotp_params), h.res.count, h.res.items};
    (void)eparts_from(&s->s0, c->ki, &rp);
    if (ik != NULL)
        eres_copy(&h, ik->key, s->created_id, sizeof(s->created_id));
    if (rnk != NULL)
        eres_copy(&h, rnk->key, name, sizeof(name));
    eres_free(&h);
    if (s->created_id[0] != '\0') {
        s->created_live = true;
        snprintf(s->current_id, sizeof(s->current_id), "%s", s->created_id);
    }
    if (!eparts_complete(&s->s0, c->ki) || s->created_id[0] == '\0') {
        eng_step(c, "provision", ROTP_ENGINE_STEP_FAIL, ROTP_ENGINE_OTHER_FAILURE,
                 eng_now_ms() - t0, "the provider returned no id or no secret");
        return ROTP_ENGINE_OTHER_FAILURE;
    }
    eng_step(c, "provision", ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK, eng_now_ms() - t0,
             "id %s name \"%s\"", s->created_id, name);
    return ROTP_ENGINE_OK;
}

static int32_t step_verify(sbx *s, const char *step, const char *id, const eparts *sec,
                           bool want_active)
{
    char detail[600] = "";
    int32_t code = ROTP_E_OK;
    uint64_t t0 = eng_now_ms();
    vclass v = ev_verify_until(&s->c, want_active, id, sec, detail, sizeof(detail), &code);
    bool ok = want_active ? v == V_ACTIVE : v == V_DEAD;
    int32_t rc = ok             ? ROTP_ENGINE_OK
                 : v == V_ERROR ? rotp_engine_status_from_rotp(code)
                                : ROTP_ENGINE_VERIFICATION_FAILED;
    eng_step(&s->c, step, ok ? ROTP_ENGINE_STEP_PASS : ROTP_ENGINE_STEP_FAIL, rc, eng_now_ms() - t0,
             "%s (want %s)", detail, want_active ? "active" : "not active");
    return ok ? ROTP_ENGINE_OK : ROTP_ENGINE_VERIFICATION_FAILED;
}

static void s0_params(sbx *s)
{
    for (uint32_t i = 0; i < s->s0.n; i++) {
        rotp_param *p = &s->s0p[i];
        p->struct_size = sizeof(*p);
        p->flags = s->s0.secret[i] ? ROTP_PARAM_SECRET : 0;
        p->key = s->s0.key[i];
        p->value = s->s0.val[i]->data;
        p->value_len = s->s0.val[i]->len;
    }
    s->s0params = (rotp_params){sizeof(rotp_params), s->s0.n, s->s0.n ? s->s0p : NULL};
}

/* An inner rotation (or finish) of the provisioned credential, steps prefixed "rotate: ",
 * nothing journaled or audited, the new secret kept in memory (moved to fresh_out). */
static int32_t inner_run(sbx *s, bool finish, eparts *fresh_out)
{
    erun r;
    int32_t rc = erun_init(&r, s->c.e, &s->inner, s->c.res, NULL);
    r.prefix = "rotate: ";
    r.quiet = true;
    r.capture = true;
    if (rc == ROTP_ENGINE_OK)
        rc = finish ? er_finish(&r) : er_drive(&r, RP_PRECHECK);
    if (fresh_out != NULL && r.fresh.n > 0) {
        eparts_clear(fresh_out);
        *fresh_out = r.fresh;
        memset(&r.fresh, 0, sizeof(r.fresh));
    }
    erun_clear(&r);
    return rc;
}

/* Rotates the provisioned credential; finishes an overlap strategy. */
static int32_t sb_rotate(sbx *s, eparts *s1)
{
    const rotp_kind_info *k = s->c.ki;
    int32_t rc;
    rotp_engine_run_init(&s->inner);
    s->inner.kind = s->c.run->kind;
    s->inner.id = s->created_id;
    s->inner.run_id = s->c.run_id;
    s->inner.strategy = s->c.strat != NULL ? s->c.strat->name : NULL;
    s->inner.request = s->c.run->request;
    s->inner.current = &s->s0params;
    s->inner.verify_tries = s->c.run->verify_tries;
    s->inner.verify_delay_ms = s->c.run->verify_delay_ms;
    if (s->c.strat != NULL && (s->c.strat->flags & ROTP_STRATEGY_OVERLAP) && !s->c.new_id)
        s->inner.overlap_seconds = 300;
    rc = inner_run(s, false, s1);
    if (s->c.res->new_id[0] != '\0' && strcmp(s->c.res->new_id, s->created_id) != 0) {
        snprintf(s->current_id, sizeof(s->current_id), "%s", s->c.res->new_id);
        s->live = true;
    }
    if (rc != ROTP_ENGINE_OK || s->c.res->overlap == 0)
        return rc;
    /* The overlap: both work now (testable with a probe); then finish and confirm. */
    if (!ev_existence_only(&s->c))
        rc = step_verify(s, "overlap: old secret still accepted", s->created_id, &s->s0, true);
    if (rc == ROTP_ENGINE_OK)
        rc = inner_run(s, true, NULL);
    if (rc == ROTP_ENGINE_OK && strcmp(s->current_id, s->created_id) != 0)
        s->created_live = false; /* finishing revoked the old credential */
    (void)k;
    return rc;
}

static int32_t confirm_gone(sbx *s, const eparts *s1)
{
    ereq req;
    eres h;
    char state[64] = "", status[64] = "";
    rotp_error err;
    uint64_t t0 = eng_now_ms();
    erun *c = &s->c;
    const rotp_key_info *sk = kd_res_role(c->ki, ROTP_ROLE_STATUS, ROTP_OP_DESCRIBE);

    memset(&err, 0, sizeof(err));
    int32_t code = revoke_id(s, s->current_id, state, sizeof(state), &err);
    if (code != ROTP_E_OK) {
        eng_step(c, "revoke", ROTP_ENGINE_STEP_FAIL, rotp_engine_status_from_rotp(code),
                 eng_now_ms() - t0, "%s: %s", rotp_engine_rotp_code_name(code), err.message);
        return rotp_engine_status_from_rotp(code);
    }
    s->live = false;
    eng_step(c, "revoke", ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK, eng_now_ms() - t0, "%s state=%s",
             s->current_id, state);
    t0 = eng_now_ms();
    ereq_init(&req);
    erun_req(c, &req, ROTP_OP_DESCRIBE, s->current_id);
    code = erun_call(c, ROTP_OP_DESCRIBE, &req, &h);
    if (code == ROTP_E_OK && sk != NULL)
        eres_copy(&h, sk->key, status, sizeof(status));
    eres_free(&h);
    if (code != ROTP_E_NOT_FOUND) {
        int32_t rc = code == ROTP_E_OK ? ROTP_ENGINE_VERIFICATION_FAILED
                                       : rotp_engine_status_from_rotp(code);
        eng_step(c, "confirm gone: describe", ROTP_ENGINE_STEP_FAIL, rc, eng_now_ms() - t0,
                 "%s%s%s", code == ROTP_E_OK ? "still there" : rotp_engine_rotp_code_name(code),
                 status[0] ? ", status " : "", status);
        return rc;
    }
    eng_step(c, "confirm gone: describe", ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK, eng_now_ms() - t0,
             "not found");
    return step_verify(s, "confirm gone: verify new secret", s->current_id, s1, false);
}

static void cleanup_revoke(sbx *s, const char *step, const char *id)
{
    char state[64] = "";
    rotp_error err;
    uint64_t t0 = eng_now_ms();
    memset(&err, 0, sizeof(err));
    int32_t code = revoke_id(s, id, state, sizeof(state), &err);
    eng_step(&s->c, step, code == ROTP_E_OK ? ROTP_ENGINE_STEP_PASS : ROTP_ENGINE_STEP_FAIL,
             rotp_engine_status_from_rotp(code), eng_now_ms() - t0, "%s %s%s", id,
             code == ROTP_E_OK ? "state=" : rotp_engine_rotp_code_name(code),
             code == ROTP_E_OK ? state : "");
}

/* Whatever happened: nothing the sandbox created stays alive. */
static void cleanup(sbx *s)
{
    bool same = strcmp(s->created_id, s->current_id) == 0;
    if (s->live && s->current_id[0])
        cleanup_revoke(s, "cleanup: revoke", s->current_id);
    if (s->created_live && !(s->live && same) && s->created_id[0])
        cleanup_revoke(s, "cleanup: revoke", s->created_id);
    if (!s->prov_unknown)
        return;
    /* The credential may exist though its answer was lost: find it by its name. */
    char found[8][128];
    int32_t code = ROTP_E_OK;
    uint64_t t0 = eng_now_ms();
    int n = er_find_by_name(&s->c, s->c.run_id, NULL, found, 8, &code);
    if (code != ROTP_E_OK)
        eng_step(&s->c, "cleanup: find lost credential", ROTP_ENGINE_STEP_FAIL,
                 rotp_engine_status_from_rotp(code), eng_now_ms() - t0, "list: %s",
                 rotp_engine_rotp_code_name(code));
    for (int i = 0; i < n; i++)
        cleanup_revoke(s, "cleanup: revoke lost credential", found[i]);
    if (code == ROTP_E_OK && n == 0)
        eng_step(&s->c, "cleanup: find lost credential", ROTP_ENGINE_STEP_PASS, ROTP_ENGINE_OK,
                 eng_now_ms() - t0, "none named with run %s: nothing was created", s->c.run_id);
}

static int32_t sandbox_steps(sbx *s, eparts *s1)
{
    int32_t rc = step_provision(s);
    if (rc == ROTP_ENGINE_OK) {
        s0_params(s);
        rc = step_verify(s, "verify provisioned secret active", s->created_id, &s->s0, true);
    }
    if (rc == ROTP_ENGINE_OK)
        rc = sb_rotate(s, s1);
    if (rc != ROTP_ENGINE_OK)
        return rc;
    if (strcmp(s->current_id, s->created_id) != 0) {
        s->live = true;
    } else {
        s->live = s->created_live;
        s->created_live = false;
    }
    rc = step_verify(s, "delivered secret active", s->current_id, s1, true);
    if (rc == ROTP_ENGINE_OK)
        rc = confirm_gone(s, s1);
    return rc;
}

static int32_t first_failure(const rotp_engine_result *res)
{
    for (uint32_t i = 0; i < res->nsteps; i++) {
        if (res->steps[i].step_status == ROTP_ENGINE_STEP_FAIL)
            return res->steps[i].status != ROTP_ENGINE_OK ? res->steps[i].status
                                                          : ROTP_ENGINE_OTHER_FAILURE;
    }
    return ROTP_ENGINE_OK;
}

int32_t rotp_engine_sandbox(rotp_engine *e, const rotp_engine_run *run, rotp_engine_result *res)
{
    sbx *s;
    eparts s1;
    int32_t rc;

    if (e == NULL || res == NULL)
        return ROTP_ENGINE_USAGE;
    s = rotp__calloc(1, sizeof(*s));
    if (s == NULL)
        return ROTP_ENGINE_OTHER_FAILURE;
    memset(&s1, 0, sizeof(s1));
    rc = erun_init(&s->c, e, run, res, "sandbox");
    if (rc == ROTP_ENGINE_OK && !(s->c.ki->ops & ROTP_OP_PROVISION)) {
        snprintf(res->message, sizeof(res->message), "kind %s cannot be provisioned: no sandbox",
                 run->kind);
        rc = ROTP_ENGINE_USAGE;
    }
    if (rc != ROTP_ENGINE_OK) {
        res->status = rc;
    } else {
        s->c.quiet = false;
        eng_run_begin(&s->c, "sandbox");
        rc = sandbox_steps(s, &s1);
        if (!(run->flags & ROTP_ENGINE_RUN_KEEP))
            cleanup(s);
        if (rc == ROTP_ENGINE_OK)
            rc = first_failure(res);
        eng_run_end(&s->c, rc);
    }
    eparts_clear(&s1);
    eparts_clear(&s->s0);
    erun_clear(&s->c);
    rotp__free(s);
    return rc;
}
