/* rotate.c - the rotation runbook: pre-check, roll, deliver, verify, confirm or overlap, finish;
 * and resume, which re-enters it from what the journal says happened. */
#include "rotate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "creds.h"
#include "journal.h"
#include "output.h"
#include "request.h"
#include "sinks.h"

typedef enum vclass { V_ACTIVE, V_DEAD, V_OTHER, V_ERROR } vclass;

typedef struct rctx {
    hprov *hp;
    const hopts *o;
    hreport *rep;
    hjournal j;
    const secret_buf *current;
    char cur_client_id[256];
    const char *kind;
    bool service;
    const char *strategy; /* service tokens only */
    bool csd;             /* strategy create-swap-delete */
    bool overlap_wanted;  /* service token, not --grace 0 */
    char old_name[256], scopes[1024], expires[64];
    hsecret fresh;
    rot_outcome *out;
    bool resuming;
    char verified_id[128];      /* the id the last verify reported */
    char out_abs[PATH_MAX + 8]; /* --out made absolute, for the journal */
    char audit_abs[PATH_MAX + 8];
    bool changed; /* a state-changing call may have taken effect: leave the run open for resume */
    int rc;
} rctx;

const char *rotate_strategy(const hopts *o)
{
    if (o->strategy != NULL)
        return o->strategy;
    return o->zone != NULL ? "create-swap-delete" : "rotate";
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static const char *audit_name(const rctx *c, char *buf, size_t cap)
{
    if (c->o->secret_name != NULL)
        return c->o->secret_name;
    snprintf(buf, cap, "%s:%s", c->kind, c->o->id ? c->o->id : "");
    return buf;
}

static void audit(rctx *c, const char *action, const char *stage, const char *error,
                  const char *failed_step)
{
    char name[256];
    haudit a;
    memset(&a, 0, sizeof(a));
    a.secret_name = audit_name(c, name, sizeof(name));
    a.kind = c->kind;
    a.run_id = c->j.run_id;
    a.rotated_at = c->out->rolled_at[0] ? c->out->rolled_at : NULL;
    a.stage = stage;
    a.error = error;
    a.failed_step = failed_step;
    if (c->out->new_id[0] && c->o->id && strcmp(c->out->new_id, c->o->id) != 0) {
        a.old_token_id = c->o->id;
        a.new_token_id = c->out->new_id;
    } else {
        a.token_id = c->o->id;
    }
    (void)audit_event(c->o, action, &a);
}

/* Verifies one secret; classifies the answer. detail gets "state=... probe_status=...". */
static vclass verify_secret(rctx *c, const char *id, const char *client_id, const secret_buf *s,
                            char *detail, size_t cap, int32_t *code)
{
    hreq req;
    hres h;
    char state[64], probe[16];
    vclass v;

    hreq_init(&req);
    hreq_add(&req, "kind", c->kind);
    hreq_add_scope(&req, c->o, c->kind);
    if (c->service) {
        if (id != NULL && id[0])
            hreq_add(&req, "id", id);
        if (client_id != NULL && client_id[0])
            hreq_add(&req, "client_id", client_id);
        hreq_add_secret(&req, "client_secret", s->data, s->len);
        if (c->o->probe_url != NULL)
            hreq_add(&req, "probe_url", c->o->probe_url);
    } else {
        hreq_add_secret(&req, "secret", s->data, s->len);
        if (c->o->probe_path != NULL)
            hreq_add(&req, "probe_path", c->o->probe_path);
    }
    *code = hcall(c->hp, "verify", &req, &h);
    if (*code != ROTP_E_OK) {
        snprintf(detail, cap, "verify: %s: %s", rotp_code_name(*code), h.err.message);
        if (*code == ROTP_E_NOT_FOUND || (*code == ROTP_E_CREDENTIAL_INVALID &&
                                          !(h.err.flags & ROTP_ERRF_MANAGEMENT_CREDENTIAL)))
            v = V_DEAD;
        else
            v = V_ERROR;
        hres_free(&h);
        return v;
    }
    hres_copy(&h, "state", state, sizeof(state));
    hres_copy(&h, "probe_status", probe, sizeof(probe));
    hres_copy(&h, "id", c->verified_id, sizeof(c->verified_id));
    hres_free(&h);
    if (probe[0])
        snprintf(detail, cap, "state=%s probe_status=%s", state, probe);
    else
        snprintf(detail, cap, "state=%s", state);
    if (strcmp(probe, "401") == 0)
        return V_DEAD;
    if (strcmp(state, "active") == 0)
        return (probe[0] == '\0' || strcmp(probe, "200") == 0) ? V_ACTIVE : V_OTHER;
    if (state[0] != '\0')
        return V_DEAD; /* invalid, expired, disabled, absent, revoked, ... */
    return V_OTHER;
}

bool rotate_secret_active(hprov *hp, const hopts *o, const char *kind, const char *id,
                          const char *client_id, const secret_buf *s, char *state, size_t cap,
                          int32_t *code)
{
    rctx c;
    rot_outcome dummy;
    memset(&c, 0, sizeof(c));
    memset(&dummy, 0, sizeof(dummy));
    c.hp = hp;
    c.o = o;
    c.kind = kind;
    c.service = kind_is_service(kind);
    c.out = &dummy;
    return verify_secret(&c, id, client_id, s, state, cap, code) == V_ACTIVE;
}

/* Verifies until the secret is in the wanted class, up to --verify-tries attempts. */
static vclass verify_until(rctx *c, bool want_active, const char *id, const char *client_id,
                           const secret_buf *s, char *detail, size_t cap, int32_t *code)
{
    int tries = c->o->verify_tries > 0 ? c->o->verify_tries : 5;
    int delay = c->o->verify_delay_ms >= 0 ? c->o->verify_delay_ms : 1000;
    vclass v = V_ERROR;
    for (int i = 0; i < tries; i++) {
        if (i > 0)
            sleep_ms(delay);
        v = verify_secret(c, id, client_id, s, detail, cap, code);
        if ((want_active && v == V_ACTIVE) || (!want_active && v == V_DEAD))
            return v;
        if (v == V_ERROR && *code != ROTP_E_RATE_LIMITED && *code != ROTP_E_TRANSIENT)
            return v;
    }
    return v;
}

/* Ends the run as failed: step already reported. When a change may have taken effect the run
 * stays open in the journal, so `resume` can roll forward or finish it. */
static int fail(rctx *c, int code, const char *error_name)
{
    audit(c, "secret.rotate.failed", NULL, hx_name(code), error_name);
    if (!c->changed)
        (void)journal_end(&c->j, "failed", code);
    else if (c->j.path != NULL && !c->rep->quiet)
        printf("  ...  the run stays open in %s: `rotp-harness resume --journal %s` continues "
               "it\n",
               c->j.path, c->j.path);
    c->rc = code;
    return code;
}

static void finish_hint(rctx *c)
{
    const hopts *o = c->o;
    char scope[200] = "";
    if (o->zone)
        snprintf(scope, sizeof(scope), " --zone %s", o->zone);
    else if (o->account)
        snprintf(scope, sizeof(scope), " --account %s", o->account);
    snprintf(c->out->finish_hint, sizeof(c->out->finish_hint),
             "rotp-harness rotate --finish --kind %s --id %s%s --strategy %s%s%s "
             "[--secret-file <old secret>]",
             c->kind, o->id, scope, c->strategy, o->probe_url ? " --probe-url " : "",
             o->probe_url ? o->probe_url : "");
}

static int phase_precheck(rctx *c)
{
    const hopts *o = c->o;
    hreq req;
    hres h;
    long long t0 = now_ms();
    int32_t code;

    hreq_init(&req);
    hreq_add(&req, "kind", c->kind);
    hreq_add(&req, "id", o->id);
    hreq_add_scope(&req, o, c->kind);
    code = hcall(c->hp, "describe", &req, &h);
    if (code != ROTP_E_OK) {
        report_step(c->rep, "pre-check: describe", HSTEP_FAIL, (long)(now_ms() - t0),
                    exit_code_for(code), "%s: %s", rotp_code_name(code), h.err.message);
        hres_free(&h);
        return exit_code_for(code);
    }
    char status[64];
    hres_copy(&h, "name", c->old_name, sizeof(c->old_name));
    hres_copy(&h, "scopes", c->scopes, sizeof(c->scopes));
    hres_copy(&h, c->service ? "expires_at" : "expires_on", c->expires, sizeof(c->expires));
    hres_copy(&h, c->service ? "enabled" : "status", status, sizeof(status));
    if (c->service && c->cur_client_id[0] == '\0')
        hres_copy(&h, "client_id", c->cur_client_id, sizeof(c->cur_client_id));
    /* The adapter's create-swap-delete warning matters only for that strategy; keep it short. */
    char warning[200] = "";
    if (c->csd) {
        hres_copy(&h, "warning", warning, sizeof(warning));
        if (strlen(warning) > 150)
            snprintf(warning + 147, sizeof(warning) - 147, "...");
    }
    report_step(c->rep, "pre-check: describe", HSTEP_PASS, (long)(now_ms() - t0), HX_OK,
                "id %s name \"%s\" %s%s expires %s%s%s", o->id, c->old_name,
                c->service ? "enabled=" : "status=", status, c->expires[0] ? c->expires : "never",
                warning[0] ? "; warning: " : "", warning);
    hres_free(&h);

    if (sinks_any(o)) {
        t0 = now_ms();
        if (sinks_preflight(o) != 0) {
            report_step(c->rep, "pre-check: sinks", HSTEP_FAIL, (long)(now_ms() - t0), HX_SINK,
                        "a sink cannot take the secret (see stderr): nothing was changed");
            return HX_SINK;
        }
        report_step(c->rep, "pre-check: sinks", HSTEP_PASS, (long)(now_ms() - t0), HX_OK,
                    "%s%s%s%s", o->out ? "out " : "", o->out ? o->out : "",
                    o->exec ? (o->out ? ", exec" : "exec") : "",
                    o->print_secret ? (o->out || o->exec ? ", stdout" : "stdout") : "");
    }
    if (c->current == NULL || c->resuming) {
        report_step(c->rep, "pre-check: verify current secret", HSTEP_SKIP, 0, HX_OK, "%s",
                    c->resuming ? "resuming: the old value may already be dead"
                                : "no current secret given");
        return HX_OK;
    }
    char detail[600];
    t0 = now_ms();
    vclass v = verify_secret(c, o->id, c->cur_client_id, c->current, detail, sizeof(detail), &code);
    if (v != V_ACTIVE) {
        report_step(c->rep, "pre-check: verify current secret", HSTEP_FAIL, (long)(now_ms() - t0),
                    v == V_ERROR ? exit_code_for(code) : HX_VERIFY,
                    "%s (the current secret must be active before a rotation)", detail);
        return v == V_ERROR ? exit_code_for(code) : HX_VERIFY;
    }
    if (!c->service && c->verified_id[0] != '\0' && strcmp(c->verified_id, o->id) != 0) {
        report_step(c->rep, "pre-check: verify current secret", HSTEP_FAIL, (long)(now_ms() - t0),
                    HX_VERIFY, "the current secret belongs to token %s, not %s: wrong secret file?",
                    c->verified_id, o->id);
        return HX_VERIFY;
    }
    report_step(c->rep, "pre-check: verify current secret", HSTEP_PASS, (long)(now_ms() - t0),
                HX_OK, "%s%s", detail,
                c->service && o->probe_url == NULL ? " (no --probe-url: existence only)" : "");
    return HX_OK;
}

/* For create-swap-delete on resume: remove tokens left by this run id (name <old>.rot-<run>). */
static int remove_orphans(rctx *c, const char *known_new_id)
{
    hreq req;
    hres h;
    char name[400];
    long long t0 = now_ms();
    int32_t code;
    int removed = 0;
    char ids[8][128];
    int nids = 0;

    if (known_new_id != NULL && known_new_id[0] && strcmp(known_new_id, c->o->id) != 0)
        snprintf(ids[nids++], sizeof(ids[0]), "%s", known_new_id);
    snprintf(name, sizeof(name), "%s.rot-%s", c->old_name, c->j.run_id);
    hreq_init(&req);
    hreq_add(&req, "kind", c->kind);
    hreq_add_scope(&req, c->o, c->kind);
    hreq_add(&req, "name", name);
    code = hcall(c->hp, "list", &req, &h);
    if (code != ROTP_E_OK) {
        report_step(c->rep, "resume: find orphans", HSTEP_FAIL, (long)(now_ms() - t0),
                    exit_code_for(code), "list name=%s: %s: %s", name, rotp_code_name(code),
                    h.err.message);
        hres_free(&h);
        return exit_code_for(code);
    }
    /* items is a JSON array of objects; every "id" other than the old token's is an orphan. */
    char found[8][128];
    int nfound = items_ids(hres_get(&h, "items", NULL), found, 8);
    for (int k = 0; k < nfound && nids < 8; k++) {
        bool dup = strcmp(found[k], c->o->id) == 0;
        for (int i = 0; i < nids && !dup; i++)
            dup = strcmp(ids[i], found[k]) == 0;
        if (!dup)
            memcpy(ids[nids++], found[k], sizeof(ids[0]));
    }
    hres_free(&h);
    for (int i = 0; i < nids; i++) {
        hreq_init(&req);
        hreq_add(&req, "kind", c->kind);
        hreq_add(&req, "id", ids[i]);
        hreq_add_scope(&req, c->o, c->kind);
        hreq_add(&req, "strategy", "create-swap-delete");
        if (journal_intent(&c->j, "revoke", c->kind, ids[i], "create-swap-delete") != 0)
            return HX_OTHER;
        code = hcall(c->hp, "revoke", &req, &h);
        (void)journal_outcome(&c->j, "revoke", code == ROTP_E_OK ? "ok" : "error", code, NULL, NULL,
                              NULL, NULL);
        if (code != ROTP_E_OK) {
            report_step(c->rep, "resume: delete orphan", HSTEP_FAIL, (long)(now_ms() - t0),
                        exit_code_for(code), "%s: %s: %s", ids[i], rotp_code_name(code),
                        h.err.message);
            hres_free(&h);
            return exit_code_for(code);
        }
        hres_free(&h);
        removed++;
    }
    report_step(c->rep, "resume: remove orphans", HSTEP_PASS, (long)(now_ms() - t0), HX_OK,
                "%d orphan token(s) of run %s deleted (their secrets were never delivered)",
                removed, c->j.run_id);
    return HX_OK;
}

static int phase_roll(rctx *c)
{
    const hopts *o = c->o;
    hreq req;
    hres h;
    long long t0 = now_ms();
    int32_t code;
    char where[PATH_MAX + 64];

    hreq_init(&req);
    hreq_add(&req, "kind", c->kind);
    hreq_add(&req, "id", o->id);
    hreq_add_scope(&req, o, c->kind);
    if (c->service) {
        hreq_add(&req, "strategy", c->strategy);
        if (c->csd)
            hreq_add(&req, "run_id", c->j.run_id);
        else if (o->has_grace)
            hreq_add_long(&req, "grace_seconds", o->grace);
    }
    for (int i = 0; i < o->nparams; i++) {
        if (hreq_add_kv(&req, o->params[i], "--param") != 0)
            return HX_USAGE;
    }
    if (journal_intent(&c->j, "roll", c->kind, o->id, c->service ? c->strategy : NULL) != 0) {
        report_step(c->rep, "roll", HSTEP_FAIL, 0, HX_OTHER,
                    "the journal intent could not be written: nothing was changed");
        return HX_OTHER;
    }
    code = hcall(c->hp, "roll", &req, &h);
    if (code == ROTP_E_OK || code == ROTP_E_OUTCOME_UNKNOWN)
        c->changed = true;
    if (code != ROTP_E_OK) {
        (void)journal_outcome(&c->j, "roll", code == ROTP_E_OUTCOME_UNKNOWN ? "unknown" : "error",
                              code, NULL, NULL, NULL, NULL);
        report_step(c->rep, "roll", HSTEP_FAIL, (long)(now_ms() - t0), exit_code_for(code),
                    "%s: %s%s", rotp_code_name(code), h.err.message,
                    code == ROTP_E_OUTCOME_UNKNOWN
                        ? (o->journal ? " -> run `rotp-harness resume --journal ...` to roll "
                                        "forward"
                                      : " -> roll again (roll forward): the old value may "
                                        "already be dead")
                        : "");
        hres_free(&h);
        return exit_code_for(code);
    }
    size_t slen = 0;
    const char *sv = hres_get(&h, c->service ? "client_secret" : "secret", &slen);
    hsecret_clear(&c->fresh);
    c->fresh.service = c->service;
    snprintf(c->fresh.kind, sizeof(c->fresh.kind), "%s", c->kind);
    if (sv != NULL)
        c->fresh.secret = secret_new(sv, slen);
    hres_copy(&h, "id", c->fresh.token_id, sizeof(c->fresh.token_id));
    if (c->fresh.token_id[0] == '\0')
        snprintf(c->fresh.token_id, sizeof(c->fresh.token_id), "%s", o->id);
    hres_copy(&h, "client_id", c->fresh.client_id, sizeof(c->fresh.client_id));
    if (c->fresh.client_id[0] == '\0')
        snprintf(c->fresh.client_id, sizeof(c->fresh.client_id), "%s", c->cur_client_id);
    hres_copy(&h, c->service ? "expires_at" : "expires_on", c->fresh.expires_at,
              sizeof(c->fresh.expires_at));
    if (c->fresh.expires_at[0] == '\0')
        snprintf(c->fresh.expires_at, sizeof(c->fresh.expires_at), "%s", c->expires);
    hres_copy(&h, "scopes", c->fresh.scopes, sizeof(c->fresh.scopes));
    if (c->fresh.scopes[0] == '\0')
        snprintf(c->fresh.scopes, sizeof(c->fresh.scopes), "%s", c->scopes);
    hres_copy(&h, "rolled_at", c->out->rolled_at, sizeof(c->out->rolled_at));
    if (c->out->rolled_at[0] == '\0')
        hres_copy(&h, "created_at", c->out->rolled_at, sizeof(c->out->rolled_at));
    if (c->out->rolled_at[0] == '\0')
        now_rfc3339(c->out->rolled_at, sizeof(c->out->rolled_at));
    char prev_exp[64], warning[400];
    hres_copy(&h, "previous_secret_expires_at", prev_exp, sizeof(prev_exp));
    hres_copy(&h, "warning", warning, sizeof(warning));
    hres_free(&h);

    snprintf(c->out->new_id, sizeof(c->out->new_id), "%s", c->fresh.token_id);
    snprintf(c->out->client_id, sizeof(c->out->client_id), "%s", c->fresh.client_id);
    snprintf(c->out->expires_at, sizeof(c->out->expires_at), "%s", c->fresh.expires_at);
    (void)journal_outcome(&c->j, "roll", "ok", ROTP_E_OK, c->fresh.token_id, c->fresh.client_id,
                          c->csd ? o->id : NULL, c->fresh.expires_at);
    if (c->fresh.secret == NULL) {
        report_step(c->rep, "roll", HSTEP_FAIL, (long)(now_ms() - t0), HX_OTHER,
                    "the provider returned no secret (or out of memory)");
        return HX_OTHER;
    }
    report_step(c->rep, "roll", HSTEP_PASS, (long)(now_ms() - t0), HX_OK,
                "%s%s%s new secret %zu bytes%s%s%s%s", c->csd ? "new id " : "id ",
                c->fresh.token_id, c->service ? "," : "", c->fresh.secret->len,
                prev_exp[0] ? ", old secret valid until " : "", prev_exp,
                warning[0] ? "; warning: " : "", warning);

    t0 = now_ms();
    int sc = sinks_deliver(o, &c->fresh, where, sizeof(where));
    if (sc != HX_OK) {
        report_step(c->rep, "deliver", HSTEP_FAIL, (long)(now_ms() - t0), HX_SINK,
                    "a sink failed: the rotation stops here, nothing is revoked%s",
                    c->csd ? " (the new token stays; delete it or resume)" : "");
        return HX_SINK;
    }
    snprintf(c->out->delivered, sizeof(c->out->delivered), "%s", where);
    (void)journal_mark(&c->j, "delivered");
    report_step(c->rep, "deliver", HSTEP_PASS, (long)(now_ms() - t0), HX_OK, "to %s%s%s", where,
                o->secret_name ? " as " : "", o->secret_name ? o->secret_name : "");
    return HX_OK;
}

static int phase_verify(rctx *c)
{
    char detail[600];
    int32_t code;
    long long t0 = now_ms();
    vclass v = verify_until(c, true, c->fresh.token_id, c->fresh.client_id, c->fresh.secret, detail,
                            sizeof(detail), &code);
    if (v != V_ACTIVE) {
        int xc = v == V_ERROR ? exit_code_for(code) : HX_VERIFY;
        report_step(c->rep, "verify new secret", HSTEP_FAIL, (long)(now_ms() - t0), xc, "%s%s",
                    detail,
                    strstr(detail, "probe_status=403")
                        ? " (the Access policy does not admit the new token: re-point it, e.g. "
                          "to the new token id, before finishing)"
                        : "");
        return xc;
    }
    (void)journal_mark(&c->j, "verified");
    report_step(c->rep, "verify new secret", HSTEP_PASS, (long)(now_ms() - t0), HX_OK, "%s%s",
                detail,
                c->service && c->o->probe_url == NULL ? " (no --probe-url: existence only)" : "");
    return HX_OK;
}

/* Confirms the old secret is dead (needs the current secret). */
static int confirm_old_dead(rctx *c, const char *old_id)
{
    char detail[600];
    int32_t code;
    long long t0 = now_ms();

    if (c->current == NULL) {
        report_step(c->rep, "confirm old secret rejected", HSTEP_SKIP, 0, HX_OK,
                    "no current secret given");
        return HX_OK;
    }
    if (c->service && !c->csd && c->o->probe_url == NULL) {
        report_step(c->rep, "confirm old secret rejected", HSTEP_SKIP, 0, HX_OK,
                    "needs --probe-url to test a service-token secret");
        return HX_OK;
    }
    vclass v =
        verify_until(c, false, old_id, c->cur_client_id, c->current, detail, sizeof(detail), &code);
    if (v != V_DEAD) {
        int xc = v == V_ERROR ? exit_code_for(code) : HX_VERIFY;
        report_step(c->rep, "confirm old secret rejected", HSTEP_FAIL, (long)(now_ms() - t0), xc,
                    "%s: the old secret is still accepted%s", detail,
                    c->o->finish ? " (or the secret given is the new one, e.g. the rotation's "
                                   "--out file: give the old secret, or none)"
                                 : "");
        return xc;
    }
    (void)journal_mark(&c->j, "old_dead");
    report_step(c->rep, "confirm old secret rejected", HSTEP_PASS, (long)(now_ms() - t0), HX_OK,
                "%s", detail);
    return HX_OK;
}

/* Revokes id (service tokens: ends the overlap or deletes, per strategy). */
static int do_revoke(rctx *c, const char *id, const char *step_name)
{
    hreq req;
    hres h;
    long long t0 = now_ms();
    int32_t code;
    char state[64];

    hreq_init(&req);
    hreq_add(&req, "kind", c->kind);
    hreq_add(&req, "id", id);
    hreq_add_scope(&req, c->o, c->kind);
    if (c->service)
        hreq_add(&req, "strategy", c->strategy);
    if (journal_intent(&c->j, "revoke", c->kind, id, c->service ? c->strategy : NULL) != 0) {
        report_step(c->rep, step_name, HSTEP_FAIL, 0, HX_OTHER,
                    "the journal intent could not be written: nothing was changed");
        return HX_OTHER;
    }
    code = hcall(c->hp, "revoke", &req, &h);
    if (code == ROTP_E_OUTCOME_UNKNOWN)
        c->changed = true;
    (void)journal_outcome(
        &c->j, "revoke",
        code == ROTP_E_OK ? "ok" : (code == ROTP_E_OUTCOME_UNKNOWN ? "unknown" : "error"), code,
        NULL, NULL, NULL, NULL);
    if (code != ROTP_E_OK) {
        report_step(c->rep, step_name, HSTEP_FAIL, (long)(now_ms() - t0), exit_code_for(code),
                    "%s: %s", rotp_code_name(code), h.err.message);
        hres_free(&h);
        return exit_code_for(code);
    }
    hres_copy(&h, "state", state, sizeof(state));
    hres_free(&h);
    report_step(c->rep, step_name, HSTEP_PASS, (long)(now_ms() - t0), HX_OK, "%s state=%s", id,
                state);
    return HX_OK;
}

static int phase_tail(rctx *c)
{
    int rc;
    if (!c->service) {
        rc = confirm_old_dead(c, c->o->id);
        if (rc != HX_OK)
            return rc;
        return HX_OK;
    }
    if (c->overlap_wanted) {
        finish_hint(c);
        c->out->overlap = true;
        (void)journal_mark(&c->j, "overlap");
        report_step(c->rep, "overlap", HSTEP_PASS, 0, HX_OK,
                    "the old secret keeps working until finished; finish with: %s",
                    c->out->finish_hint);
        return HX_OK;
    }
    if (c->csd) {
        rc = do_revoke(c, c->o->id, "delete old token");
        if (rc != HX_OK)
            return rc;
    }
    return confirm_old_dead(c, c->o->id);
}

/* An absolute form of a relative path (journal records must work from any directory). */
static const char *abs_path(const char *p, char *buf, size_t cap)
{
    char cwd[PATH_MAX];
    if (p == NULL || p[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
        return p;
    snprintf(buf, cap, "%s/%s", cwd, p);
    return buf;
}

static void ctx_init(rctx *c, hprov *hp, const hopts *o, hreport *rep, const secret_buf *current,
                     const char *current_client_id, rot_outcome *out)
{
    memset(c, 0, sizeof(*c));
    memset(out, 0, sizeof(*out));
    c->hp = hp;
    c->o = o;
    c->rep = rep;
    c->current = current;
    c->out = out;
    c->kind = o->kind;
    c->service = kind_is_service(o->kind);
    c->strategy = c->service ? rotate_strategy(o) : NULL;
    c->csd = c->service && strcmp(c->strategy, "create-swap-delete") == 0;
    c->overlap_wanted = c->service && !(o->has_grace && o->grace == 0);
    if (current_client_id != NULL)
        snprintf(c->cur_client_id, sizeof(c->cur_client_id), "%s", current_client_id);
    c->j.path = o->journal;
    if (o->kind != NULL && strcmp(o->kind, "cloudflare.user_token") != 0) {
        c->j.zone_id = o->zone;
        c->j.account_id = o->zone != NULL ? NULL : o->account;
    }
    c->j.secret_name = o->secret_name;
    c->j.out = abs_path(o->out, c->out_abs, sizeof(c->out_abs));
    c->j.exec = o->exec;
    if (o->run_id != NULL)
        snprintf(c->j.run_id, sizeof(c->j.run_id), "%s", o->run_id);
    else
        make_run_id(c->j.run_id);
    snprintf(out->run_id, sizeof(out->run_id), "%s", c->j.run_id);
    snprintf(out->old_id, sizeof(out->old_id), "%s", o->id ? o->id : "");
}

static int write_run_record(rctx *c, const char *command)
{
    const hopts *o = c->o;
    hjrun r;
    memset(&r, 0, sizeof(r));
    r.command = command;
    r.kind = c->kind;
    r.id = o->id;
    if (strcmp(c->kind, "cloudflare.user_token") != 0) {
        r.account_id = o->zone ? NULL : o->account;
        r.zone_id = o->zone;
    }
    r.strategy = c->strategy;
    r.has_grace = o->has_grace;
    r.grace = o->grace;
    r.probe_url = o->probe_url;
    r.probe_path = o->probe_path;
    r.client_id = c->cur_client_id;
    r.secret_name = o->secret_name;
    r.aliases = o->aliases;
    r.naliases = o->naliases;
    r.out = c->j.out;
    r.exec = o->exec;
    r.old_name = c->old_name;
    r.audit = abs_path(o->audit, c->audit_abs, sizeof(c->audit_abs));
    return journal_run(&c->j, &r);
}

static int run_finish(rctx *c)
{
    const hopts *o = c->o;
    hreq req;
    hres h;
    long long t0 = now_ms();
    int32_t code;
    int rc;

    if (!c->service) {
        report_step(c->rep, "finish", HSTEP_FAIL, 0, HX_USAGE,
                    "--finish is for service tokens: an API-token roll has no overlap to end");
        return HX_USAGE;
    }
    /* Learn the client id (to test the old secret) before the token may be deleted. */
    hreq_init(&req);
    hreq_add(&req, "kind", c->kind);
    hreq_add(&req, "id", o->id);
    hreq_add_scope(&req, o, c->kind);
    code = hcall(c->hp, "describe", &req, &h);
    if (code == ROTP_E_OK) {
        if (c->cur_client_id[0] == '\0')
            hres_copy(&h, "client_id", c->cur_client_id, sizeof(c->cur_client_id));
        hres_copy(&h, "name", c->old_name, sizeof(c->old_name));
        report_step(c->rep, "pre-check: describe", HSTEP_PASS, (long)(now_ms() - t0), HX_OK,
                    "id %s name \"%s\"", o->id, c->old_name);
    } else if (code == ROTP_E_NOT_FOUND && c->csd) {
        report_step(c->rep, "pre-check: describe", HSTEP_SKIP, (long)(now_ms() - t0), HX_OK,
                    "%s is already gone", o->id);
    } else {
        report_step(c->rep, "pre-check: describe", HSTEP_FAIL, (long)(now_ms() - t0),
                    exit_code_for(code), "%s: %s", rotp_code_name(code), h.err.message);
        hres_free(&h);
        return fail(c, exit_code_for(code), rotp_code_name(code));
    }
    hres_free(&h);
    if (o->dry_run)
        return HX_OK;
    if (write_run_record(c, "finish") != 0) {
        report_step(c->rep, "journal", HSTEP_FAIL, 0, HX_OTHER, "cannot write the journal");
        return HX_OTHER;
    }
    rc = do_revoke(c, o->id, c->csd ? "delete old token" : "end overlap");
    if (rc == HX_OK)
        rc = confirm_old_dead(c, o->id);
    if (rc != HX_OK)
        return fail(c, rc, NULL);
    now_rfc3339(c->out->rolled_at, sizeof(c->out->rolled_at));
    audit(c, "secret.rotate.completed", "finished", NULL, NULL);
    (void)journal_end(&c->j, "completed", HX_OK);
    return HX_OK;
}

/* Runs the rotation from `start`; resume enters later. */
static int drive(rctx *c, rot_phase start)
{
    int rc = HX_OK;

    if (start == ROT_PRECHECK) {
        rc = phase_precheck(c);
        if (rc != HX_OK) {
            if (!c->o->dry_run && c->o->audit != NULL)
                audit(c, "secret.rotate.failed", NULL, hx_name(rc), "pre-check");
            if (c->resuming)
                (void)journal_end(&c->j, "failed", rc);
            return rc;
        }
        if (c->o->dry_run) {
            report_step(c->rep, "dry run", HSTEP_PASS, 0, HX_OK,
                        "pre-checks passed; nothing was changed");
            return HX_OK;
        }
    }
    if (start == ROT_PRECHECK) {
        audit(c, "secret.rotate.started", NULL, NULL, NULL);
        if (write_run_record(c, "rotate") != 0) {
            report_step(c->rep, "journal", HSTEP_FAIL, 0, HX_OTHER, "cannot write the journal");
            return fail(c, HX_OTHER, "journal");
        }
    }
    if (start <= ROT_ROLL) {
        rc = phase_roll(c);
        if (rc != HX_OK)
            return fail(c, rc, rc == HX_SINK ? "deliver" : "roll");
    }
    if (start <= ROT_VERIFY) {
        rc = phase_verify(c);
        if (rc != HX_OK)
            return fail(c, rc, "verify new secret");
    }
    rc = phase_tail(c);
    if (rc != HX_OK)
        return fail(c, rc, NULL);
    if (c->out->overlap) {
        audit(c, "secret.rotate.completed", "overlap", NULL, NULL);
        (void)journal_end(&c->j, "overlap", HX_OK);
    } else {
        audit(c, "secret.rotate.completed", "finished", NULL, NULL);
        (void)journal_end(&c->j, "completed", HX_OK);
    }
    return HX_OK;
}

int rotate_run(hprov *hp, const hopts *o, hreport *rep, const secret_buf *current,
               const char *current_client_id, rot_outcome *out)
{
    rctx c;
    int rc;
    ctx_init(&c, hp, o, rep, current, current_client_id, out);
    rc = o->finish ? run_finish(&c) : drive(&c, ROT_PRECHECK);
    hsecret_clear(&c.fresh);
    return rc;
}

/* Prints the end of a rotate/resume run (human summary or the JSON object). */
static void print_outcome(const hopts *o, const char *cmd, int rc, const hreport *rep,
                          const rot_outcome *out)
{
    if (!o->json) {
        if (rc == HX_OK && out->overlap)
            printf("%s: OK, in overlap (run %s): new secret verified%s%s; finish with:\n  %s\n",
                   cmd, out->run_id, out->delivered[0] ? " and delivered to " : "", out->delivered,
                   out->finish_hint);
        else if (rc == HX_OK)
            printf("%s: OK (run %s)\n", cmd, out->run_id);
        else
            printf("%s: FAILED with exit code %d (run %s)\n", cmd, rc, out->run_id);
        fflush(stdout);
        return;
    }
    dynbuf b;
    int e = 0;
    dynbuf_init(&b, 64 * 1024);
    e |= dynbuf_adds(&b, "\"run_id\":");
    e |= dynbuf_json_cstr(&b, out->run_id);
    e |= dynbuf_adds(&b, ",\"kind\":");
    e |= dynbuf_json_cstr(&b, o->kind);
    e |= dynbuf_adds(&b, ",\"id\":");
    e |= dynbuf_json_cstr(&b, out->old_id);
    e |= dynbuf_adds(&b, ",\"new_id\":");
    e |= dynbuf_json_cstr(&b, out->new_id);
    e |= dynbuf_adds(&b, ",\"client_id\":");
    e |= dynbuf_json_cstr(&b, out->client_id);
    e |= dynbuf_adds(&b, ",\"expires_at\":");
    e |= dynbuf_json_cstr(&b, out->expires_at);
    e |= dynbuf_adds(&b, ",\"rolled_at\":");
    e |= dynbuf_json_cstr(&b, out->rolled_at);
    e |= dynbuf_adds(&b, ",\"delivered_to\":");
    e |= dynbuf_json_cstr(&b, out->delivered);
    e |= dynbuf_printf(&b, ",\"overlap\":%s,\"finish\":", out->overlap ? "true" : "false");
    e |= dynbuf_json_cstr(&b, out->finish_hint);
    out_json_report(cmd, rc, rep, e == 0 ? b.data : NULL);
    dynbuf_free(&b);
}

/* Loads, reads the management token and opens an instance. */
static int open_provider(hprov *hp, const hopts *o, secret_buf **mgmt)
{
    int rc = prov_load(hp, o);
    if (rc != HX_OK)
        return rc;
    rc = creds_mgmt(o, mgmt);
    if (rc != HX_OK)
        return rc;
    return prov_open(hp, o, *mgmt);
}

static int check_rotate_opts(const hopts *o, const char *cmd)
{
    if (o->kind == NULL || o->id == NULL) {
        fprintf(stderr, "rotp-harness: %s needs --kind and --id\n", cmd);
        return HX_USAGE;
    }
    if (!o->finish && !o->dry_run && !sinks_any(o)) {
        fprintf(stderr,
                "rotp-harness: %s: refusing to roll without a sink: give --out FILE or --exec "
                "CMD (or --print-secret); a secret shown once and dropped is a lost credential\n",
                cmd);
        return HX_USAGE;
    }
    if (o->json && o->print_secret) {
        fprintf(stderr, "rotp-harness: --print-secret and --json do not mix (stdout holds one "
                        "JSON object); use --out or --exec\n");
        return HX_USAGE;
    }
    if (o->has_grace && o->grace < 0) {
        fprintf(stderr, "rotp-harness: --grace must be >= 0\n");
        return HX_USAGE;
    }
    return HX_OK;
}

int cmd_rotate(const hopts *o)
{
    hprov hp;
    secret_buf *mgmt = NULL, *cur = NULL;
    char client_id[256] = "";
    static hreport rep;
    rot_outcome out;
    int rc = check_rotate_opts(o, "rotate");

    memset(&out, 0, sizeof(out));
    memset(&hp, 0, sizeof(hp));
    if (rc != HX_OK)
        return rc;
    rc = open_provider(&hp, o, &mgmt);
    if (rc != HX_OK)
        goto out;
    if (o->client_id != NULL)
        snprintf(client_id, sizeof(client_id), "%s", o->client_id);
    rc = creds_secret(o, o->kind, &cur, client_id, sizeof(client_id));
    if (rc != HX_OK)
        goto out;
    memset(&rep, 0, sizeof(rep));
    rep.quiet = o->json;
    if (!o->json)
        printf("rotate%s %s %s\n", o->finish ? " --finish" : (o->dry_run ? " --dry-run" : ""),
               o->kind, o->id);
    rc = rotate_run(&hp, o, &rep, cur, client_id, &out);
    print_outcome(o, o->finish ? "rotate --finish" : "rotate", rc, &rep, &out);
out:
    secret_free(cur);
    secret_free(mgmt);
    prov_close(&hp);
    return rc;
}

/* s, or NULL for an empty string. */
static const char *nz(const char *s)
{
    return (s != NULL && s[0] != '\0') ? s : NULL;
}

int cmd_resume(const hopts *o)
{
    static hjstate st;
    static hreport rep;
    hopts eff = *o;
    hprov hp;
    secret_buf *mgmt = NULL, *cur = NULL;
    char client_id[256] = "";
    rot_outcome out;
    rctx c;
    rot_phase start;
    int rc;

    memset(&hp, 0, sizeof(hp));
    memset(&out, 0, sizeof(out));
    if (o->journal == NULL || o->journal[0] == '\0') {
        fprintf(stderr, "rotp-harness: resume needs --journal FILE\n");
        return HX_USAGE;
    }
    rc = journal_load(o->journal, &st);
    if (rc != HX_OK)
        return rc;
    if (st.absent) {
        /* rotate writes the journal's first record only once its pre-checks pass, before any
         * change: a run stopped earlier (or given no --journal) left no file and changed nothing. */
        if (o->json)
            out_json_report("resume", HX_OK, NULL, "\"resumed\":false,\"journal_exists\":false");
        else
            printf("resume: no unfinished run in %s: nothing to resume (the journal does not "
                   "exist; a rotation creates it once its pre-checks pass, before any change)\n",
                   o->journal);
        return HX_OK;
    }
    if (!st.found) {
        if (o->json) {
            char extra[200];
            snprintf(extra, sizeof(extra),
                     "\"resumed\":false,\"last_run\":\"%s\",\"status\":\"%s\"", st.last_end_run,
                     st.last_end_status);
            out_json_report("resume", HX_OK, NULL, extra);
        } else {
            if (st.last_end_run[0])
                printf("resume: no unfinished run in %s (last run %s: %s)\n", o->journal,
                       st.last_end_run, st.last_end_status);
            else
                printf("resume: no unfinished run in %s\n", o->journal);
        }
        return HX_OK;
    }
    /* The journal's values are defaults; flags given again win. */
    if (eff.kind == NULL)
        eff.kind = nz(st.kind);
    if (eff.id == NULL)
        eff.id = nz(st.id);
    if (eff.account == NULL)
        eff.account = nz(st.account_id);
    if (eff.zone == NULL)
        eff.zone = nz(st.zone_id);
    if (eff.strategy == NULL)
        eff.strategy = nz(st.strategy);
    if (!eff.has_grace && st.has_grace) {
        eff.has_grace = true;
        eff.grace = st.grace;
    }
    if (eff.probe_url == NULL)
        eff.probe_url = nz(st.probe_url);
    if (eff.probe_path == NULL)
        eff.probe_path = nz(st.probe_path);
    if (eff.secret_name == NULL)
        eff.secret_name = nz(st.secret_name);
    if (eff.naliases == 0) {
        for (int i = 0; i < st.naliases; i++)
            eff.aliases[eff.naliases++] = st.aliases[i];
    }
    if (eff.audit == NULL)
        eff.audit = nz(st.audit);
    if (eff.out == NULL && eff.exec == NULL && !eff.print_secret) {
        eff.out = nz(st.out);
        eff.exec = nz(st.exec);
    }
    eff.run_id = st.run_id;
    eff.finish = strcmp(st.command, "finish") == 0;
    eff.dry_run = false;
    rc = check_rotate_opts(&eff, "resume");
    if (rc != HX_OK)
        return rc;
    rc = open_provider(&hp, &eff, &mgmt);
    if (rc != HX_OK)
        goto out;
    if (eff.client_id != NULL)
        snprintf(client_id, sizeof(client_id), "%s", eff.client_id);
    else
        snprintf(client_id, sizeof(client_id), "%s", st.client_id);
    rc = creds_secret(&eff, eff.kind, &cur, client_id, sizeof(client_id));
    if (rc != HX_OK)
        goto out;

    memset(&rep, 0, sizeof(rep));
    rep.quiet = o->json;
    ctx_init(&c, &hp, &eff, &rep, cur, client_id, &out);
    c.j.step = st.last_step;
    c.changed = st.roll_intent || st.revoke_intent;
    snprintf(c.old_name, sizeof(c.old_name), "%s", st.old_name);

    if (eff.finish) {
        if (!o->json)
            printf("resume run %s: finishing (revoke is safe to repeat)\n", st.run_id);
        rc = run_finish(&c);
        goto report;
    }
    bool roll_ok = st.roll_outcome && strcmp(st.roll_status, "ok") == 0;
    bool roll_failed = st.roll_outcome && strcmp(st.roll_status, "error") == 0;
    if (!st.roll_intent || roll_failed) {
        if (!o->json)
            printf("resume run %s: nothing was changed yet; rotating from the start\n", st.run_id);
        start = ROT_PRECHECK;
    } else if (!roll_ok || !st.delivered) {
        if (!o->json)
            printf("resume run %s: the roll's new value was %s; rolling forward\n", st.run_id,
                   roll_ok ? "never delivered" : "lost (outcome unknown)");
        start = ROT_ROLL;
        c.resuming = true;
    } else if (!st.verified) {
        start = ROT_VERIFY;
        c.resuming = true;
    } else {
        start = ROT_TAIL;
        c.resuming = true;
    }
    if (start == ROT_VERIFY) {
        /* Read the delivered secret back from the --out file to verify it. */
        hopts rd;
        memset(&rd, 0, sizeof(rd));
        rd.secret_file = eff.out;
        rd.secret_name = eff.secret_name;
        c.fresh.service = c.service;
        snprintf(c.fresh.kind, sizeof(c.fresh.kind), "%s", c.kind);
        snprintf(c.fresh.token_id, sizeof(c.fresh.token_id), "%s",
                 st.new_id[0] ? st.new_id : eff.id);
        snprintf(c.fresh.client_id, sizeof(c.fresh.client_id), "%s", st.new_client_id);
        snprintf(out.new_id, sizeof(out.new_id), "%s", c.fresh.token_id);
        snprintf(out.client_id, sizeof(out.client_id), "%s", c.fresh.client_id);
        if (eff.out == NULL ||
            creds_secret(&rd, c.kind, &c.fresh.secret, c.fresh.client_id,
                         sizeof(c.fresh.client_id)) != HX_OK ||
            c.fresh.secret == NULL) {
            if (!o->json)
                printf("resume run %s: the delivered value cannot be read back (no --out "
                       "file); rolling forward\n",
                       st.run_id);
            hsecret_clear(&c.fresh);
            start = ROT_ROLL;
        } else if (!o->json) {
            printf("resume run %s: delivered, not yet verified; verifying the value in %s\n",
                   st.run_id, eff.out);
        }
    } else if (start == ROT_TAIL) {
        snprintf(out.new_id, sizeof(out.new_id), "%s", st.new_id[0] ? st.new_id : eff.id);
        snprintf(out.client_id, sizeof(out.client_id), "%s", st.new_client_id);
        if (!o->json)
            printf("resume run %s: verified; continuing with the last step\n", st.run_id);
    }
    if (start == ROT_ROLL) {
        rc = phase_precheck(&c);
        if (rc == HX_OK && c.csd)
            rc = remove_orphans(&c, st.new_id);
        if (rc != HX_OK) {
            rc = fail(&c, rc, NULL);
            goto report;
        }
    }
    rc = drive(&c, start);
report:
    hsecret_clear(&c.fresh);
    print_outcome(&eff, "resume", rc, &rep, &out);
out:
    secret_free(cur);
    secret_free(mgmt);
    prov_close(&hp);
    return rc;
}
