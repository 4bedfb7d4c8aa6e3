/* SPDX-License-Identifier: MIT */
/* verify.c - verifying a secret and classifying the answer through the kind's states. */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "engine_int.h"

bool ev_existence_only(const erun *c)
{
    const rotp_key_info *pk = kd_req_role(c->ki, ROTP_ROLE_PROBE);
    return pk != NULL && (pk->flags & ROTP_KEY_PROBE_NEEDED) &&
           params_get(c->run->request, pk->key, NULL) == NULL;
}

/* Adds the parts the verify operation takes. */
static void add_parts(erun *c, ereq *req, const eparts *parts)
{
    for (uint32_t i = 0; parts != NULL && i < parts->n; i++) {
        const rotp_key_info *k = kd_req_key(c->ki, parts->key[i]);
        if (k == NULL || !(k->ops & ROTP_OP_VERIFY) || parts->val[i] == NULL)
            continue;
        if (parts->secret[i] || (k->flags & ROTP_KEY_SECRET))
            ereq_add_secret(req, k->key, parts->val[i]->data, parts->val[i]->len);
        else
            ereq_add(req, k->key, parts->val[i]->data);
    }
}

static vclass classify(erun *c, const char *state)
{
    const rotp_state_info *si = kd_state(c->ki, state, ROTP_OP_VERIFY);
    c->verified_meaning = si != NULL ? si->meaning : 0;
    if (si != NULL && si->meaning == ROTP_STATE_ACCEPTED)
        return V_ACTIVE;
    if (state[0] != '\0')
        return V_DEAD; /* rejected, inactive, refused, gone, or a state this host does not know */
    return V_OTHER;
}

vclass ev_verify(erun *c, const char *id, const eparts *parts, char *detail, size_t cap,
                 int32_t *code)
{
    ereq req;
    eres h;
    char state[64] = "", probe[16] = "";
    const rotp_key_info *sk = kd_res_role(c->ki, ROTP_ROLE_STATE, ROTP_OP_VERIFY);
    const rotp_key_info *ik = kd_res_role(c->ki, ROTP_ROLE_ID, ROTP_OP_VERIFY);
    vclass v;

    ereq_init(&req);
    erun_req(c, &req, ROTP_OP_VERIFY, id != NULL && id[0] ? id : NULL);
    add_parts(c, &req, parts);
    *code = erun_call(c, ROTP_OP_VERIFY, &req, &h);
    if (*code != ROTP_E_OK) {
        snprintf(detail, cap, "verify: %s: %s", rotp_engine_rotp_code_name(*code), h.err.message);
        if (*code == ROTP_E_NOT_FOUND || (*code == ROTP_E_CREDENTIAL_INVALID &&
                                          !(h.err.flags & ROTP_ERRF_MANAGEMENT_CREDENTIAL)))
            v = V_DEAD;
        else
            v = V_ERROR;
        eres_free(&h);
        return v;
    }
    eres_copy(&h, sk != NULL ? sk->key : "state", state, sizeof(state));
    eres_copy(&h, "probe_status", probe, sizeof(probe)); /* ABI vocabulary (ABI.md) */
    eres_copy(&h, ik != NULL ? ik->key : "id", c->verified_id, sizeof(c->verified_id));
    eres_free(&h);
    if (probe[0])
        snprintf(detail, cap, "state=%s probe_status=%s", state, probe);
    else
        snprintf(detail, cap, "state=%s", state);
    return classify(c, state);
}

vclass ev_verify_until(erun *c, bool want_active, const char *id, const eparts *parts, char *detail,
                       size_t cap, int32_t *code)
{
    uint32_t tries = c->run->verify_tries > 0 ? c->run->verify_tries : 5;
    uint64_t delay = c->run->verify_delay_ms > 0 ? c->run->verify_delay_ms : 1000;
    vclass v = V_ERROR;
    for (uint32_t i = 0; i < tries; i++) {
        if (i > 0) {
            bool rl = *code == ROTP_E_RATE_LIMITED;
            eng_wait(c, rl ? ROTP_ENGINE_WAIT_RATE_LIMIT : ROTP_ENGINE_WAIT_VERIFY_RETRY, delay,
                     rl ? "rate limited: waiting before the next verify"
                        : (want_active ? "waiting for the secret to become active"
                                       : "waiting for the old secret to be rejected"));
        }
        v = ev_verify(c, id, parts, detail, cap, code);
        if ((want_active && v == V_ACTIVE) || (!want_active && v == V_DEAD))
            return v;
        if (v == V_ERROR && *code != ROTP_E_RATE_LIMITED && *code != ROTP_E_TRANSIENT)
            return v;
    }
    return v;
}

int32_t rotp_engine_verify(rotp_engine *e, const rotp_engine_run *run, const char *id,
                           const rotp_params *parts, char *detail, size_t detail_cap)
{
    erun c;
    rotp_engine_result *res;
    eparts p;
    int32_t code = ROTP_E_OK, rc;
    char dummy[8];

    if (detail == NULL || detail_cap == 0) {
        detail = dummy;
        detail_cap = sizeof(dummy);
    }
    detail[0] = '\0';
    if (e == NULL || run == NULL || parts == NULL)
        return ROTP_ENGINE_USAGE;
    res = rotp__calloc(1, sizeof(*res));
    if (res == NULL)
        return ROTP_ENGINE_OTHER_FAILURE;
    memset(&p, 0, sizeof(p));
    rc = erun_init(&c, e, run, res, "verify");
    if (rc == ROTP_ENGINE_OK && eparts_from(&p, c.ki, parts) != 0)
        rc = ROTP_ENGINE_OTHER_FAILURE;
    if (rc == ROTP_ENGINE_OK) {
        vclass v = ev_verify(&c, id, &p, detail, detail_cap, &code);
        rc = v == V_ACTIVE  ? ROTP_ENGINE_OK
             : v == V_ERROR ? rotp_engine_status_from_rotp(code)
                            : ROTP_ENGINE_VERIFICATION_FAILED;
    } else if (res->message[0]) {
        snprintf(detail, detail_cap, "%s", res->message);
    }
    eparts_clear(&p);
    erun_clear(&c);
    rotp__free(res);
    return rc;
}
