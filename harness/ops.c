/* ops.c - one provider operation per command. */
#include "ops.h"

#include <stdio.h>
#include <string.h>

#include "creds.h"
#include "journal.h"
#include "loader.h"
#include "output.h"
#include "request.h"
#include "sinks.h"

bool kind_is_service(const char *kind)
{
    return kind != NULL && strcmp(kind, "cloudflare.access_service_token") == 0;
}

bool kind_is_api_token(const char *kind)
{
    return kind != NULL && (strcmp(kind, "cloudflare.user_token") == 0 ||
                            strcmp(kind, "cloudflare.account_token") == 0);
}

/* The service token's client id for verify: --client-id, the secret file, else describe. */
static void learn_client_id(hprov *hp, const hopts *o, char *client_id, size_t cap)
{
    hreq req;
    hres h;
    if (client_id[0] != '\0' || o->id == NULL)
        return;
    hreq_init(&req);
    hreq_add(&req, "kind", o->kind);
    hreq_add(&req, "id", o->id);
    hreq_add_scope(&req, o, o->kind);
    if (hcall(hp, "describe", &req, &h) == ROTP_E_OK)
        hres_copy(&h, "client_id", client_id, cap);
    hres_free(&h);
}

int cmd_op(const hopts *o)
{
    const char *op = o->command;
    bool makes_secret = strcmp(op, "roll") == 0 || strcmp(op, "provision") == 0;
    bool is_verify = strcmp(op, "verify") == 0;
    hprov hp;
    secret_buf *mgmt = NULL, *sec = NULL;
    char client_id[256] = "";
    char where[PATH_MAX + 64] = "";
    hreq req;
    hres h;
    hsecret fresh;
    int rc;

    memset(&hp, 0, sizeof(hp));
    memset(&h, 0, sizeof(h));
    memset(&fresh, 0, sizeof(fresh));
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
    rc = prov_load(&hp, o);
    if (rc != HX_OK)
        return rc;
    rc = creds_mgmt(o, &mgmt);
    if (rc != HX_OK)
        goto out;
    rc = prov_open(&hp, o, mgmt);
    if (rc != HX_OK)
        goto out;

    hreq_init(&req);
    hreq_add(&req, "kind", o->kind);
    if (o->id != NULL)
        hreq_add(&req, "id", o->id);
    hreq_add_scope(&req, o, o->kind);
    if (o->name != NULL)
        hreq_add(&req, "name", o->name);
    if (o->strategy != NULL)
        hreq_add(&req, "strategy", o->strategy);
    if (o->has_grace)
        hreq_add_long(&req, "grace_seconds", o->grace);
    if (o->probe_url != NULL)
        hreq_add(&req, "probe_url", o->probe_url);
    if (o->probe_path != NULL)
        hreq_add(&req, "probe_path", o->probe_path);
    if (o->run_id != NULL)
        hreq_add(&req, "run_id", o->run_id);
    for (int i = 0; i < o->nparams; i++) {
        if (hreq_add_kv(&req, o->params[i], "--param") != 0) {
            rc = HX_USAGE;
            goto out;
        }
    }
    if (is_verify) {
        if (o->client_id != NULL)
            snprintf(client_id, sizeof(client_id), "%s", o->client_id);
        rc = creds_secret(o, o->kind, &sec, client_id, sizeof(client_id));
        if (rc != HX_OK)
            goto out;
        if (kind_is_service(o->kind)) {
            learn_client_id(&hp, o, client_id, sizeof(client_id));
            if (client_id[0] != '\0')
                hreq_add(&req, "client_id", client_id);
            hreq_add_secret(&req, "client_secret", sec->data, sec->len);
        } else {
            hreq_add_secret(&req, "secret", sec->data, sec->len);
        }
    }
    if (req.overflow) {
        fprintf(stderr, "rotp-harness: too many request keys\n");
        rc = HX_USAGE;
        goto out;
    }
    int32_t code = hcall(&hp, op, &req, &h);
    if (code == ROTP_E_OK && makes_secret) {
        bool service = kind_is_service(o->kind);
        size_t slen = 0;
        const char *sv = hres_get(&h, service ? "client_secret" : "secret", &slen);
        fresh.service = service;
        snprintf(fresh.kind, sizeof(fresh.kind), "%s", o->kind);
        hres_copy(&h, "id", fresh.token_id, sizeof(fresh.token_id));
        if (fresh.token_id[0] == '\0' && o->id != NULL)
            snprintf(fresh.token_id, sizeof(fresh.token_id), "%s", o->id);
        hres_copy(&h, "client_id", fresh.client_id, sizeof(fresh.client_id));
        hres_copy(&h, service ? "expires_at" : "expires_on", fresh.expires_at,
                  sizeof(fresh.expires_at));
        hres_copy(&h, "scopes", fresh.scopes, sizeof(fresh.scopes));
        if (sv != NULL)
            fresh.secret = secret_new(sv, slen);
        if (fresh.secret == NULL) {
            fprintf(stderr, "rotp-harness: %s: the provider returned no secret\n", op);
            rc = HX_OTHER;
            goto out;
        }
        rc = sinks_deliver(o, &fresh, where, sizeof(where));
        if (rc != HX_OK) {
            fprintf(stderr,
                    "rotp-harness: %s: the new secret could not be delivered; the credential "
                    "(id %s) was changed: roll again once the sink works\n",
                    op, fresh.token_id);
            goto out;
        }
    }
    rc = out_op(o, op, &h, where);
    if (rc == HX_OK && is_verify) {
        char state[64], probe[16];
        hres_copy(&h, "state", state, sizeof(state));
        hres_copy(&h, "probe_status", probe, sizeof(probe));
        if (strcmp(state, "active") != 0 || (probe[0] && strcmp(probe, "200") != 0))
            rc = HX_VERIFY;
    }
out:
    hres_free(&h);
    hsecret_clear(&fresh);
    secret_free(sec);
    secret_free(mgmt);
    prov_close(&hp);
    return rc;
}
