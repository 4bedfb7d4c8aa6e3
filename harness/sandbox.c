/* sandbox.c - sandbox validation: every step on a throwaway credential, PASS/FAIL per step, and
 * what was created is revoked on the way out whatever failed. */
#include "sandbox.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "creds.h"
#include "journal.h"
#include "output.h"
#include "request.h"
#include "rotate.h"
#include "secret.h"
#include "sinks.h"
#include "timefmt.h"

typedef struct sbx {
    hprov *hp;
    const hopts *o;
    hreport *rep;
    bool service;
    char run_id[40];
    char dir[64];
    char out_path[128];
    char created_id[128]; /* the token provision made (revoked by cleanup if still live) */
    char current_id[128]; /* the live token after the rotation (csd: the new one) */
    char client_id[256];
    char prov_name[128]; /* provision's token name, to find it after a lost answer */
    bool prov_unknown;   /* provision's outcome is unknown: look for the token by name */
    bool live;           /* current_id still needs a revoke */
    bool created_live;   /* created_id still needs a revoke (csd before finish) */
} sbx;

/* Revokes id for cleanup or the revoke step; service tokens are deleted. */
static int32_t revoke_id(sbx *s, const char *id, char *state, size_t cap, rotp_error *err)
{
    hreq req;
    hres h;
    hreq_init(&req);
    hreq_add(&req, "kind", s->o->kind);
    hreq_add(&req, "id", id);
    hreq_add_scope(&req, s->o, s->o->kind);
    if (s->service)
        hreq_add(&req, "strategy", "create-swap-delete");
    int32_t code = hcall(s->hp, "revoke", &req, &h);
    if (code == ROTP_E_OK)
        hres_copy(&h, "state", state, cap);
    else
        *err = h.err;
    hres_free(&h);
    return code;
}

static int step_provision(sbx *s, secret_buf **s0)
{
    const hopts *o = s->o;
    hreq req;
    hres h;
    char policies[512], expires[32], token_name[64];
    long long t0 = now_ms();
    int32_t code;
    bool has_policies = false;

    hreq_init(&req);
    hreq_add(&req, "kind", o->kind);
    hreq_add_scope(&req, o, o->kind);
    for (int i = 0; i < o->nparams; i++) {
        if (strncmp(o->params[i], "policies=", 9) == 0)
            has_policies = true;
        if (hreq_add_kv(&req, o->params[i], "--param") != 0)
            return HX_USAGE;
    }
    if (s->service) {
        hreq_add(&req, "name", "rotp-sandbox");
        hreq_add(&req, "run_id", s->run_id);
        snprintf(s->prov_name, sizeof(s->prov_name), "rotp-sandbox.sandbox-%s", s->run_id);
        bool has_duration = false;
        for (int i = 0; i < o->nparams; i++)
            has_duration |= strncmp(o->params[i], "duration=", 9) == 0;
        if (!has_duration)
            hreq_add(&req, "duration", "1h");
    } else {
        snprintf(token_name, sizeof(token_name), "rotp-sandbox-%s", s->run_id);
        hreq_add(&req, "name", token_name);
        snprintf(s->prov_name, sizeof(s->prov_name), "%s", token_name);
        if (!has_policies) {
            if (o->zone == NULL) {
                report_step(s->rep, "provision", HSTEP_FAIL, 0, HX_USAGE,
                            "an API-token sandbox needs --zone ID (the throwaway token gets Zone "
                            "Read on it) or --param policies=JSON");
                return HX_USAGE;
            }
            /* Least privilege: Zone Read (Cloudflare's permission group id) on one zone. */
            snprintf(policies, sizeof(policies),
                     "[{\"effect\":\"allow\",\"permission_groups\":[{\"id\":"
                     "\"c8fed203ed3043cba015a93ad1616f1f\"}],\"resources\":{"
                     "\"com.cloudflare.api.account.zone.%s\":\"*\"}}]",
                     o->zone);
            hreq_add(&req, "policies", policies);
        }
        if (rfc3339_format((int64_t)time(NULL) + 3600, expires, sizeof(expires)) == 0)
            hreq_add(&req, "expires_on", expires);
    }
    code = hcall(s->hp, "provision", &req, &h);
    if (code == ROTP_E_OUTCOME_UNKNOWN)
        s->prov_unknown = true;
    if (code != ROTP_E_OK) {
        report_step(s->rep, "provision", HSTEP_FAIL, (long)(now_ms() - t0), exit_code_for(code),
                    "%s: %s", rotp_code_name(code), h.err.message);
        hres_free(&h);
        return exit_code_for(code);
    }
    size_t len = 0;
    const char *v = hres_get(&h, s->service ? "client_secret" : "secret", &len);
    hres_copy(&h, "id", s->created_id, sizeof(s->created_id));
    hres_copy(&h, "client_id", s->client_id, sizeof(s->client_id));
    char name[256];
    hres_copy(&h, "name", name, sizeof(name));
    if (s->created_id[0] != '\0') {
        s->created_live = true;
        snprintf(s->current_id, sizeof(s->current_id), "%s", s->created_id);
    }
    if (v != NULL)
        *s0 = secret_new(v, len);
    hres_free(&h);
    if (*s0 == NULL || s->created_id[0] == '\0') {
        report_step(s->rep, "provision", HSTEP_FAIL, (long)(now_ms() - t0), HX_OTHER,
                    "the provider returned no id or no secret");
        return HX_OTHER;
    }
    report_step(s->rep, "provision", HSTEP_PASS, (long)(now_ms() - t0), HX_OK,
                "id %s name \"%s\"%s%s", s->created_id, name, s->service ? " client id " : "",
                s->service ? s->client_id : "");
    return HX_OK;
}

/* Verifies secret on id; want_active chooses which outcome passes. */
static int step_verify(sbx *s, const char *step, const char *id, const secret_buf *sec,
                       bool want_active)
{
    char detail[600];
    int32_t code = ROTP_E_OK;
    long long t0 = now_ms();
    int tries = s->o->verify_tries > 0 ? s->o->verify_tries : 5;
    bool active = false;

    for (int i = 0; i < tries; i++) {
        if (i > 0) {
            struct timespec ts = {s->o->verify_delay_ms / 1000,
                                  (long)(s->o->verify_delay_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        active = rotate_secret_active(s->hp, s->o, s->o->kind, id, s->client_id, sec, detail,
                                      sizeof(detail), &code);
        if (active == want_active &&
            (want_active || code == ROTP_E_OK || code == ROTP_E_NOT_FOUND ||
             code == ROTP_E_CREDENTIAL_INVALID))
            break;
    }
    bool ok = active == want_active;
    if (!want_active && code != ROTP_E_OK && code != ROTP_E_NOT_FOUND &&
        code != ROTP_E_CREDENTIAL_INVALID)
        ok = false; /* an error is not proof of death */
    report_step(
        s->rep, step, ok ? HSTEP_PASS : HSTEP_FAIL, (long)(now_ms() - t0),
        ok ? HX_OK
           : (code != ROTP_E_OK && code != ROTP_E_NOT_FOUND ? exit_code_for(code) : HX_VERIFY),
        "%s (want %s)", detail, want_active ? "active" : "not active");
    return ok ? HX_OK : HX_VERIFY;
}

void remove_flat_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

int sandbox_run(hprov *hp, const hopts *o, hreport *rep)
{
    sbx s;
    secret_buf *s0 = NULL, *s1 = NULL;
    hopts ro;
    rot_outcome out;
    int rc;
    const char *saved_prefix = rep->prefix;
    char prefix[160];
    int first_fail_before = rep->first_fail_code;

    memset(&s, 0, sizeof(s));
    s.hp = hp;
    s.o = o;
    s.rep = rep;
    s.service = kind_is_service(o->kind);
    if (o->run_id != NULL) /* the operator's id, so the sandbox's tokens can be traced to it */
        snprintf(s.run_id, sizeof(s.run_id), "%s", o->run_id);
    else
        make_run_id(s.run_id);
    snprintf(s.dir, sizeof(s.dir), "/tmp/rotp-sandbox-XXXXXX");
    if (mkdtemp(s.dir) == NULL) {
        report_step(rep, "private temporary directory", HSTEP_FAIL, 0, HX_OTHER, "mkdtemp failed");
        return HX_OTHER;
    }
    snprintf(s.out_path, sizeof(s.out_path), "%s/secret.env", s.dir);

    /* 1. provision, 2. the provisioned secret works */
    rc = step_provision(&s, &s0);
    if (rc == HX_OK)
        rc = step_verify(&s, "verify provisioned secret active", s.created_id, s0, true);
    if (rc != HX_OK)
        goto cleanup;

    /* 3. rotate it through the runbook, delivering to a 0600 file in the private dir */
    memset(&ro, 0, sizeof(ro));
    ro = *o;
    ro.id = s.created_id;
    ro.out = s.out_path;
    ro.exec = NULL;
    ro.print_secret = false;
    ro.secret_name = NULL;
    ro.naliases = 0;
    ro.secret_file = ro.secret_env = NULL;
    ro.secret_stdin = false;
    ro.dry_run = ro.finish = false;
    ro.journal = NULL;
    ro.audit = NULL;
    ro.run_id = s.run_id;
    ro.nparams = 0;
    if (s.service) {
        ro.strategy = rotate_strategy(o);
        if (strcmp(ro.strategy, "rotate") == 0) {
            ro.has_grace = true;
            ro.grace = 300;
        } else {
            ro.has_grace = false;
        }
    }
    snprintf(prefix, sizeof(prefix), "%srotate: ", saved_prefix ? saved_prefix : "");
    rep->prefix = prefix;
    rc = rotate_run(hp, &ro, rep, s0, s.client_id, &out);
    if (out.new_id[0] != '\0' && strcmp(out.new_id, s.created_id) != 0) {
        snprintf(s.current_id, sizeof(s.current_id), "%s", out.new_id);
        s.live = true;
    }
    if (rc == HX_OK && s.service) {
        /* The overlap: both work now; then finish (end overlap / delete old) and confirm. */
        rep->prefix = saved_prefix;
        if (o->probe_url != NULL)
            rc = step_verify(&s, "overlap: old secret still accepted", s.created_id, s0, true);
        rep->prefix = prefix;
        ro.finish = true;
        if (rc == HX_OK)
            rc = rotate_run(hp, &ro, rep, s0, s.client_id, &out);
        if (rc == HX_OK && strcmp(s.current_id, s.created_id) != 0)
            s.created_live = false; /* finish deleted the old token */
    }
    rep->prefix = saved_prefix;
    if (rc != HX_OK)
        goto cleanup;
    if (strcmp(s.current_id, s.created_id) != 0) {
        s.live = true;
    } else {
        s.live = s.created_live;
        s.created_live = false;
    }

    /* 4. the sink file: mode 0600, and the secret in it works */
    {
        struct stat st;
        hopts rd;
        long long t0 = now_ms();
        char cid[256] = "";
        memset(&rd, 0, sizeof(rd));
        rd.secret_file = s.out_path;
        if (stat(s.out_path, &st) != 0 || (st.st_mode & 0777) != 0600) {
            report_step(rep, "sink file is mode 0600", HSTEP_FAIL, (long)(now_ms() - t0), HX_VERIFY,
                        "%s", s.out_path);
            rc = HX_VERIFY;
            goto cleanup;
        }
        if (creds_secret(&rd, o->kind, &s1, cid, sizeof(cid)) != HX_OK || s1 == NULL) {
            report_step(rep, "sink file holds the new secret", HSTEP_FAIL, (long)(now_ms() - t0),
                        HX_VERIFY, "cannot read %s back", s.out_path);
            rc = HX_VERIFY;
            goto cleanup;
        }
        if (cid[0] != '\0')
            snprintf(s.client_id, sizeof(s.client_id), "%s", cid);
        report_step(rep, "sink file is mode 0600", HSTEP_PASS, (long)(now_ms() - t0), HX_OK, "%s",
                    s.out_path);
        rc = step_verify(&s, "sink file's secret active", s.current_id, s1, true);
        if (rc != HX_OK)
            goto cleanup;
    }

    /* 5. revoke, 6. confirm gone */
    {
        char state[64] = "";
        rotp_error err;
        long long t0 = now_ms();
        memset(&err, 0, sizeof(err));
        int32_t code = revoke_id(&s, s.current_id, state, sizeof(state), &err);
        if (code != ROTP_E_OK) {
            report_step(rep, "revoke", HSTEP_FAIL, (long)(now_ms() - t0), exit_code_for(code),
                        "%s: %s", rotp_code_name(code), err.message);
            rc = exit_code_for(code);
            goto cleanup;
        }
        s.live = false;
        report_step(rep, "revoke", HSTEP_PASS, (long)(now_ms() - t0), HX_OK, "%s state=%s",
                    s.current_id, state);

        hreq req;
        hres h;
        t0 = now_ms();
        hreq_init(&req);
        hreq_add(&req, "kind", o->kind);
        hreq_add(&req, "id", s.current_id);
        hreq_add_scope(&req, o, o->kind);
        code = hcall(hp, "describe", &req, &h);
        char status[64] = "";
        if (code == ROTP_E_OK)
            hres_copy(&h, "status", status, sizeof(status));
        hres_free(&h);
        if (code == ROTP_E_NOT_FOUND) {
            report_step(rep, "confirm gone: describe", HSTEP_PASS, (long)(now_ms() - t0), HX_OK,
                        "not found");
        } else {
            report_step(rep, "confirm gone: describe", HSTEP_FAIL, (long)(now_ms() - t0),
                        code == ROTP_E_OK ? HX_VERIFY : exit_code_for(code), "%s%s%s",
                        code == ROTP_E_OK ? "still there" : rotp_code_name(code),
                        status[0] ? ", status " : "", status);
            rc = code == ROTP_E_OK ? HX_VERIFY : exit_code_for(code);
            goto cleanup;
        }
        rc = step_verify(&s, "confirm gone: verify new secret", s.current_id, s1, false);
    }

cleanup:
    rep->prefix = saved_prefix;
    {
        /* Whatever happened: nothing we created stays alive. */
        bool same = strcmp(s.created_id, s.current_id) == 0;
        const char *ids[2] = {s.live ? s.current_id : NULL,
                              s.created_live && !(s.live && same) ? s.created_id : NULL};
        for (int i = 0; i < 2; i++) {
            if (ids[i] == NULL || ids[i][0] == '\0')
                continue;
            char state[64] = "";
            rotp_error err;
            long long t0 = now_ms();
            memset(&err, 0, sizeof(err));
            int32_t code = revoke_id(&s, ids[i], state, sizeof(state), &err);
            report_step(rep, "cleanup: revoke", code == ROTP_E_OK ? HSTEP_PASS : HSTEP_FAIL,
                        (long)(now_ms() - t0), exit_code_for(code), "%s %s%s", ids[i],
                        code == ROTP_E_OK ? "state=" : rotp_code_name(code),
                        code == ROTP_E_OK ? state : "");
        }
    }
    if (s.prov_unknown) {
        /* The token may exist though its answer was lost: find it by its name and delete it. */
        hreq req;
        hres h;
        char found[8][128];
        int n = 0;
        long long t0 = now_ms();
        hreq_init(&req);
        hreq_add(&req, "kind", o->kind);
        hreq_add_scope(&req, o, o->kind);
        hreq_add(&req, "name", s.prov_name);
        int32_t code = hcall(hp, "list", &req, &h);
        if (code == ROTP_E_OK)
            n = items_ids(hres_get(&h, "items", NULL), found, 8);
        hres_free(&h);
        if (code != ROTP_E_OK)
            report_step(rep, "cleanup: find lost token", HSTEP_FAIL, (long)(now_ms() - t0),
                        exit_code_for(code), "list name=%s: %s", s.prov_name, rotp_code_name(code));
        for (int i = 0; i < n; i++) {
            char state[64] = "";
            rotp_error err;
            memset(&err, 0, sizeof(err));
            code = revoke_id(&s, found[i], state, sizeof(state), &err);
            report_step(rep, "cleanup: revoke lost token",
                        code == ROTP_E_OK ? HSTEP_PASS : HSTEP_FAIL, (long)(now_ms() - t0),
                        exit_code_for(code), "%s (%s) %s%s", found[i], s.prov_name,
                        code == ROTP_E_OK ? "state=" : rotp_code_name(code),
                        code == ROTP_E_OK ? state : "");
        }
        if (code == ROTP_E_OK && n == 0)
            report_step(rep, "cleanup: find lost token", HSTEP_PASS, (long)(now_ms() - t0), HX_OK,
                        "no token named %s: nothing was created", s.prov_name);
    }
    remove_flat_dir(s.dir);
    secret_free(s0);
    secret_free(s1);
    if (rc == HX_OK && rep->first_fail_code != first_fail_before)
        rc = rep->first_fail_code;
    return rc;
}

int cmd_sandbox(const hopts *o)
{
    hprov hp;
    secret_buf *mgmt = NULL;
    static hreport rep;
    int rc;

    memset(&hp, 0, sizeof(hp));
    if (o->kind == NULL) {
        fprintf(stderr, "rotp-harness: sandbox needs --kind\n");
        return HX_USAGE;
    }
    rc = prov_load(&hp, o);
    if (rc != HX_OK)
        return rc;
    rc = creds_mgmt(o, &mgmt);
    if (rc == HX_OK)
        rc = prov_open(&hp, o, mgmt);
    if (rc != HX_OK)
        goto out;
    memset(&rep, 0, sizeof(rep));
    rep.quiet = o->json;
    if (!o->json)
        printf("sandbox %s\n", o->kind);
    rc = sandbox_run(&hp, o, &rep);
    if (o->json) {
        char extra[128];
        snprintf(extra, sizeof(extra), "\"kind\":\"%s\"", o->kind);
        out_json_report("sandbox", rc, &rep, extra);
    } else {
        printf("sandbox %s: %s\n", o->kind, rc == HX_OK ? "PASS" : "FAIL");
    }
out:
    secret_free(mgmt);
    prov_close(&hp);
    return rc;
}
