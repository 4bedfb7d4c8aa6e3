/* SPDX-License-Identifier: MIT */
/* ops.c - one provider operation per command (describe, roll, verify, revoke, provision, list),
 * its request keys and secret parts taken from the kind's descriptor. */
#include "ops.h"

#include <stdio.h>
#include <string.h>

#include "creds.h"
#include "host.h"
#include "hparts.h"
#include "loader.h"
#include "output.h"
#include "request.h"
#include "sinks.h"

static const rotp_key_info *key_at(const rotp_key_info *arr, uint32_t i)
{
    return (const rotp_key_info *)((const char *)arr + (size_t)arr[0].struct_size * i);
}

/* The request key of role in kind k that op takes, or NULL. */
static const char *req_role(const rotp_kind_info *k, uint32_t role, uint32_t op)
{
    for (uint32_t i = 0; i < k->nrequest_keys; i++) {
        const rotp_key_info *q = key_at(k->request_keys, i);
        if (q->role == role && (op == 0 || (q->ops & op)))
            return q->key;
    }
    return NULL;
}

static const char *res_role(const rotp_kind_info *k, uint32_t role)
{
    for (uint32_t i = 0; i < k->nresult_keys; i++) {
        const rotp_key_info *q = key_at(k->result_keys, i);
        if (q->role == role)
            return q->key;
    }
    return NULL;
}

/* Non-secret parts of the secret to verify that were not given (a client id): from describe. */
static void learn_parts(hprov *hp, const hopts *o, const rotp_kind_info *k, hparts *sec)
{
    hreq req;
    hres h;
    const char *idk = req_role(k, ROTP_ROLE_ID, ROTP_OP_DESCRIBE);
    bool missing = false;
    for (uint32_t i = 0; i < k->nparts; i++) {
        const rotp_part_info *pi =
            (const rotp_part_info *)((const char *)k->parts + (size_t)k->parts[0].struct_size * i);
        missing |= !(pi->flags & ROTP_PART_SECRET) && hparts_get(sec, pi->key) == NULL;
    }
    if (!missing || o->id == NULL || idk == NULL)
        return;
    hreq_init(&req);
    hreq_add(&req, "kind", o->kind);
    hreq_add(&req, idk, o->id);
    if (hreq_add_opts(&req, o, k, false) != 0)
        return;
    if (hcall(hp, "describe", &req, &h) == ROTP_E_OK) {
        for (uint32_t i = 0; i < k->nparts; i++) {
            const rotp_part_info *pi =
                (const rotp_part_info *)((const char *)k->parts +
                                         (size_t)k->parts[0].struct_size * i);
            size_t len = 0;
            const char *v = hres_get(&h, pi->key, &len);
            if (!(pi->flags & ROTP_PART_SECRET) && hparts_get(sec, pi->key) == NULL && v != NULL)
                (void)hparts_set(sec, pi->key, v, len, false);
        }
    }
    hres_free(&h);
}

static int check_op(const hopts *o, const char *op, bool makes_secret, bool is_verify)
{
    if (o->kind == NULL) {
        fprintf(stderr, "rotp-harness: %s needs --kind (see `rotp-harness info`)\n", op);
        return HX_USAGE;
    }
    if ((strcmp(op, "roll") == 0 || strcmp(op, "revoke") == 0) && o->id == NULL) {
        fprintf(stderr, "rotp-harness: %s needs --id\n", op);
        return HX_USAGE;
    }
    if (makes_secret && !sinks_any(o)) {
        fprintf(stderr,
                "rotp-harness: %s: refusing to run without a sink: give --out FILE or --exec CMD "
                "(or --print-secret); a secret shown once and dropped is a lost credential\n",
                op);
        return HX_USAGE;
    }
    if (o->json && o->print_secret) {
        fprintf(stderr, "rotp-harness: --print-secret and --json do not mix (stdout holds one "
                        "JSON object); use --out or --exec\n");
        return HX_USAGE;
    }
    if (is_verify && !creds_secret_given(o)) {
        fprintf(stderr, "rotp-harness: verify needs the secret: --secret-file FILE, --secret-env "
                        "NAME or --secret-stdin\n");
        return HX_USAGE;
    }
    if (makes_secret && sinks_preflight(o) != 0)
        return HX_SINK;
    return HX_OK;
}

/* The request from the options, by the kind's roles. */
static int build_request(hreq *req, const hopts *o, const rotp_kind_info *k, uint32_t op)
{
    hreq_init(req);
    hreq_add(req, "kind", o->kind);
    if (o->id != NULL)
        hreq_add(req, req_role(k, ROTP_ROLE_ID, 0) ? req_role(k, ROTP_ROLE_ID, 0) : "id", o->id);
    if (o->name != NULL)
        hreq_add(req, req_role(k, ROTP_ROLE_NAME, 0) ? req_role(k, ROTP_ROLE_NAME, 0) : "name",
                 o->name);
    if (o->strategy != NULL && req_role(k, ROTP_ROLE_STRATEGY, 0))
        hreq_add(req, req_role(k, ROTP_ROLE_STRATEGY, 0), o->strategy);
    if (o->has_grace && req_role(k, ROTP_ROLE_OVERLAP, op))
        hreq_add_long(req, req_role(k, ROTP_ROLE_OVERLAP, op), o->grace);
    if (o->run_id != NULL && req_role(k, ROTP_ROLE_RUN_ID, 0))
        hreq_add(req, req_role(k, ROTP_ROLE_RUN_ID, 0), o->run_id);
    return hreq_add_opts(req, o, k, true);
}

/* Delivers the secret a roll or provision returned. */
static int deliver(const hopts *o, const rotp_provider *p, const rotp_kind_info *k, const hres *h,
                   char *where, size_t cap)
{
    rotp_param comps[8];
    uint32_t nc = 0;
    rotp_engine_secret s;
    const char *idk = res_role(k, ROTP_ROLE_ID), *ek = res_role(k, ROTP_ROLE_EXPIRES);
    const char *id = idk ? hres_get(h, idk, NULL) : NULL;

    memset(&s, 0, sizeof(s));
    for (uint32_t i = 0; i < k->ncompanions && nc < 8; i++) {
        const rotp_companion_info *ci =
            (const rotp_companion_info *)((const char *)k->companions +
                                          (size_t)k->companions[0].struct_size * i);
        size_t len = 0;
        const char *v = hres_get(h, ci->key, &len);
        if (v == NULL)
            continue;
        comps[nc] = (rotp_param){sizeof(rotp_param), 0, ci->suffix, v, len};
        nc++;
    }
    s.struct_size = sizeof(s);
    s.kind = o->kind;
    s.run_id = o->run_id != NULL ? o->run_id : o->command;
    s.id = id ? id : (o->id ? o->id : "");
    s.kind_info = k;
    s.parts = (rotp_params){sizeof(rotp_params), h->res.count, h->res.items};
    s.companions = (rotp_params){sizeof(rotp_params), nc, nc ? comps : NULL};
    s.expires_at = ek && hres_get(h, ek, NULL) ? hres_get(h, ek, NULL) : "";
    if (rotp_engine_secret_part(&s, NULL) == NULL) {
        fprintf(stderr, "rotp-harness: %s: the provider returned no secret\n", o->command);
        return HX_OTHER;
    }
    return sinks_deliver(o, p, &s, NULL, where, cap);
}

/* verify's exit code: 0 only when the kind's state for the answer means ACCEPTED. */
static int verify_exit(const rotp_kind_info *k, const hres *h)
{
    char state[64];
    const char *sk = res_role(k, ROTP_ROLE_STATE);
    hres_copy(h, sk ? sk : "state", state, sizeof(state));
    for (uint32_t i = 0; i < k->nstates; i++) {
        const rotp_state_info *si = (const rotp_state_info *)((const char *)k->states +
                                                              (size_t)k->states[0].struct_size * i);
        if (si->state != NULL && strcmp(si->state, state) == 0 && (si->ops & ROTP_OP_VERIFY))
            return si->meaning == ROTP_STATE_ACCEPTED ? HX_OK : HX_VERIFY;
    }
    return HX_VERIFY;
}

static void add_parts(hreq *req, const rotp_kind_info *k, const hparts *sec)
{
    for (uint32_t i = 0; i < sec->n; i++) {
        bool takes = false;
        for (uint32_t j = 0; j < k->nrequest_keys && !takes; j++) {
            const rotp_key_info *q = key_at(k->request_keys, j);
            takes = strcmp(q->key, sec->key[i]) == 0 && (q->ops & ROTP_OP_VERIFY);
        }
        if (!takes)
            continue;
        if (sec->secret[i])
            hreq_add_secret(req, sec->key[i], sec->val[i]->data, sec->val[i]->len);
        else
            hreq_add(req, sec->key[i], sec->val[i]->data);
    }
}

int cmd_info(const hopts *o)
{
    hprov hp;
    int rc = prov_load(&hp, o);
    if (rc != HX_OK)
        return rc;
    out_info(o, &hp);
    return HX_OK;
}

int cmd_op(const hopts *o)
{
    const char *op = o->command;
    bool makes_secret = strcmp(op, "roll") == 0 || strcmp(op, "provision") == 0;
    bool is_verify = strcmp(op, "verify") == 0;
    hprov hp;
    secret_buf *mgmt = NULL;
    hparts sec;
    char where[PATH_MAX + 64] = "";
    const rotp_kind_info *k = NULL;
    hreq req;
    hres h;
    int rc = check_op(o, op, makes_secret, is_verify);

    memset(&hp, 0, sizeof(hp));
    memset(&h, 0, sizeof(h));
    memset(&sec, 0, sizeof(sec));
    if (rc != HX_OK)
        return rc;
    rc = prov_load(&hp, o);
    if (rc == HX_OK)
        rc = creds_mgmt(o, &mgmt);
    if (rc == HX_OK)
        rc = prov_open(&hp, o, mgmt);
    if (rc == HX_OK && (k = hhost_kind(&hp, o->kind)) == NULL)
        rc = HX_USAGE;
    if (rc == HX_OK && build_request(&req, o, k, rotp_engine_op_from_name(op)) != 0)
        rc = HX_USAGE;
    if (rc == HX_OK && is_verify) {
        rc = hparts_read(&sec, o, k);
        if (rc == HX_OK) {
            learn_parts(&hp, o, k, &sec);
            add_parts(&req, k, &sec);
        }
    }
    if (rc == HX_OK && req.overflow) {
        fprintf(stderr, "rotp-harness: too many request keys\n");
        rc = HX_USAGE;
    }
    if (rc != HX_OK)
        goto out;
    int32_t code = hcall(&hp, op, &req, &h);
    if (code != ROTP_E_OK) {
        char flags[300];
        hreq_name_flags(o, h.err.message, flags, sizeof(flags));
        if (flags[0] != '\0')
            snprintf(h.err.message + strlen(h.err.message),
                     sizeof(h.err.message) - strlen(h.err.message), "%s", flags);
    }
    if (code == ROTP_E_OK && makes_secret) {
        rc = deliver(o, hp.p, k, &h, where, sizeof(where));
        if (rc != HX_OK) {
            fprintf(stderr,
                    "rotp-harness: %s: the new secret could not be delivered; the credential "
                    "was changed: roll again once the sink works\n",
                    op);
            goto out;
        }
    }
    rc = out_op(o, op, &h, where, code == ROTP_E_OK && is_verify ? verify_exit(k, &h) : HX_OK);
out:
    hres_free(&h);
    hparts_clear(&sec);
    secret_free(mgmt);
    prov_close(&hp);
    return rc;
}
