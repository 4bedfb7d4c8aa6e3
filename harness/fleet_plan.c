/* SPDX-License-Identifier: MIT */
/* fleet_plan.c - `rotp-harness plan --inventory FILE`: for every credential, its state (its
 * current secret verified through the provider), expiry, last rotation and whether it is due.
 * Read-only: plan changes nothing and writes no file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "dynbuf.h"
#include "fleet.h"
#include "json.h"
#include "output.h"
#include "request.h"
#include "timefmt.h"

#define DAY_SECS 86400L

/* Adds the entry's request keys that op takes, and the kind. */
static void add_entry_keys(hreq *req, const inv_entry *e, const rotp_kind_info *ki, uint32_t op)
{
    hreq_add(req, "kind", e->kind);
    for (int i = 0; i < e->nreq; i++) {
        const rotp_key_info *k = inv_request_key(ki, e->req[i].key);
        if (k != NULL && (k->ops & op) != 0)
            hreq_add(req, e->req[i].key, e->req[i].value);
    }
}

static void row_fail(plan_row *r, const char *state, const char *fmt, const char *a, const char *b)
{
    snprintf(r->state, sizeof(r->state), "%s", state);
    r->broken = true;
    snprintf(r->detail, sizeof(r->detail), fmt, a, b);
}

/* A provider's status text (role STATUS of describe) as a plan state. */
static const char *state_from_status(const char *status)
{
    if (strcmp(status, "active") == 0 || strcmp(status, "true") == 0 ||
        strcmp(status, "enabled") == 0)
        return "active";
    if (strcmp(status, "expired") == 0)
        return "expired";
    return "disabled";
}

/* verify's state as a plan state, by what the kind says it means. */
static const char *state_from_verify(const rotp_kind_info *ki, const char *state)
{
    switch (fleet_state_meaning(ki, state)) {
    case ROTP_STATE_ACCEPTED:
        return "active";
    case ROTP_STATE_INACTIVE:
        return strcmp(state, "expired") == 0 ? "expired" : "disabled";
    default:
        return "invalid";
    }
}

/* Verifies the current secret from secret_file; fills r->state. d is describe's result (a
 * non-secret part the file lacks, such as a client id, is taken from it), status its status. */
static void verify_current(fleet *f, hprov *hp, const inv_entry *e, const rotp_kind_info *ki,
                           const hres *d, const char *status, plan_row *r)
{
    hparts parts;
    const char *state_key = fleet_result_key(ki, ROTP_ROLE_STATE, ROTP_OP_VERIFY);
    char state[64] = "";
    hreq req;
    hres h;
    int rc;

    memset(&h, 0, sizeof(h));
    memset(&parts, 0, sizeof(parts));
    rc = fleet_read_secret(f, e, e->secret_file, ki, &parts);
    if (rc == HX_NOTFOUND) {
        row_fail(r, "missing", "secret_file %s does not exist%s", e->secret_file, "");
        return;
    }
    if (rc != HX_OK) {
        row_fail(r, "error", "secret_file %s cannot be read (%s)", e->secret_file, hx_name(rc));
        return;
    }
    hreq_init(&req);
    add_entry_keys(&req, e, ki, ROTP_OP_VERIFY);
    for (uint32_t i = 0; i < ki->nparts; i++) {
        const rotp_part_info *pi = fleet_part_at(ki, i);
        const secret_buf *v = hparts_get(&parts, pi->key);
        if (v != NULL && (pi->flags & ROTP_PART_SECRET) != 0)
            hreq_add_secret(&req, pi->key, v->data, v->len);
        else if (v != NULL)
            hreq_add(&req, pi->key, v->data);
        else if (hres_get(d, pi->key, NULL) != NULL && (pi->flags & ROTP_PART_SECRET) == 0)
            hreq_add(&req, pi->key, hres_get(d, pi->key, NULL));
    }
    if (hcall(hp, "verify", &req, &h) != ROTP_E_OK) {
        row_fail(r, "error", "verify: %s: %s", rotp_code_name(h.code), h.err.message);
    } else {
        if (state_key != NULL)
            hres_copy(&h, state_key, state, sizeof(state));
        snprintf(r->state, sizeof(r->state), "%s", state_from_verify(ki, state));
        /* A disabled or expired credential may fail verification like a wrong value: the
         * provider's status (describe) says which it is. */
        if (strcmp(r->state, "invalid") == 0 && status[0] != '\0' &&
            strcmp(state_from_status(status), "active") != 0)
            snprintf(r->state, sizeof(r->state), "%s", state_from_status(status));
        r->broken = strcmp(r->state, "active") != 0;
        if (r->broken)
            snprintf(r->detail, sizeof(r->detail), "the current secret is %s", state);
    }
    hres_free(&h);
    secret_wipe(&req, sizeof(req));
    hparts_clear(&parts);
}

/* describe, then verify: the state and expiry of entry i. */
static void inspect(fleet *f, int i, plan_row *r)
{
    const inv_entry *e = &f->inv.entries[i];
    const rotp_kind_info *ki = inv_kind_info(f->kinds, e->kind);
    const char *exp_key = fleet_result_key(ki, ROTP_ROLE_EXPIRES, ROTP_OP_DESCRIBE);
    const char *status_key = fleet_result_key(ki, ROTP_ROLE_STATUS, ROTP_OP_DESCRIBE);
    char status[64] = "";
    int rc;
    hprov *hp = fleet_inst_for(f, i, &rc);
    hreq req;
    hres d;

    memset(&d, 0, sizeof(d));
    if (hp == NULL) {
        row_fail(r, "error", "the management credential%s could not be used (%s)",
                 e->token_file != NULL ? " (token_file)" : "", hx_name(rc));
        return;
    }
    hreq_init(&req);
    add_entry_keys(&req, e, ki, ROTP_OP_DESCRIBE);
    if (hcall(hp, "describe", &req, &d) != ROTP_E_OK) {
        if (d.code == ROTP_E_NOT_FOUND)
            row_fail(r, "missing", "the provider has no credential with this id%s%s", "", "");
        else
            row_fail(r, "error", "describe: %s: %s", rotp_code_name(d.code), d.err.message);
        hres_free(&d);
        return;
    }
    if (exp_key != NULL)
        hres_copy(&d, exp_key, r->expires, sizeof(r->expires));
    if (status_key != NULL)
        hres_copy(&d, status_key, status, sizeof(status));
    if (e->secret_file != NULL) {
        verify_current(f, hp, e, ki, &d, status, r);
    } else {
        snprintf(r->state, sizeof(r->state), "%s",
                 status[0] ? state_from_status(status) : "active");
        r->broken = strcmp(r->state, "active") != 0;
        if (r->broken)
            snprintf(r->detail, sizeof(r->detail), "the provider says %s", status);
    }
    hres_free(&d);
}

/* ---------------------------------------------------------------------------------------------
 * Last rotation
 * ------------------------------------------------------------------------------------------- */

/* Keeps at as entry e's last rotation when it is later than what last[] holds. */
static void keep_later(fleet_last *last, const inv_entry *e, const char *at, const char *source)
{
    if (e == NULL || at[0] == '\0' || strcmp(at, last[e->index].at) <= 0)
        return;
    snprintf(last[e->index].at, sizeof(last[0].at), "%s", at);
    last[e->index].source = source;
}

/* The audit file's completed rotations (`rotated_at` of secret.rotate.completed by secret_name,
 * aliases included). */
static void audit_history(const fleet *f, FILE *fp, fleet_last *last)
{
    char line[8192];

    while (fgets(line, sizeof(line), fp) != NULL) {
        json_doc d;
        char name[128] = "", at[64] = "";
        int ctx;
        if (json_parse(&d, line, strlen(line)) != JSON_OK)
            continue;
        ctx = json_get(&d, 0, "context");
        if (json_str_eq(&d, json_get(&d, 0, "action"), "secret.rotate.completed") && ctx >= 0) {
            json_strcpy(&d, json_get(&d, ctx, "secret_name"), name, sizeof(name));
            json_strcpy(&d, json_get(&d, ctx, "rotated_at"), at, sizeof(at));
        }
        json_free(&d);
        keep_later(last, name[0] ? inv_find(&f->inv, name) : NULL, at, "audit");
    }
}

/* The journal's completed runs: a run record names the credential, its end record (status
 * completed) says when. names[] maps the run ids seen so far to names. */
typedef struct jrun {
    char run_id[40];
    char name[128];
} jrun;

static void journal_history(const fleet *f, FILE *fp, fleet_last *last)
{
    char line[8192];
    jrun *runs = NULL;
    size_t n = 0, cap = 0;

    while (fgets(line, sizeof(line), fp) != NULL) {
        json_doc d;
        char type[16] = "", id[40] = "", at[64] = "", status[16] = "";
        if (json_parse(&d, line, strlen(line)) != JSON_OK)
            continue;
        json_strcpy(&d, json_get(&d, 0, "type"), type, sizeof(type));
        json_strcpy(&d, json_get(&d, 0, "run_id"), id, sizeof(id));
        json_strcpy(&d, json_get(&d, 0, "at"), at, sizeof(at));
        json_strcpy(&d, json_get(&d, 0, "status"), status, sizeof(status));
        if (strcmp(type, "run") == 0) {
            if (n == cap) {
                jrun *nr = rotp__realloc(runs, (cap ? cap * 2 : 64) * sizeof(*runs));
                if (nr != NULL) {
                    runs = nr;
                    cap = cap ? cap * 2 : 64;
                }
            }
            if (n < cap) {
                snprintf(runs[n].run_id, sizeof(runs[n].run_id), "%s", id);
                runs[n].name[0] = '\0';
                json_strcpy(&d, json_get(&d, 0, "name"), runs[n].name, sizeof(runs[n].name));
                n++;
            }
        } else if (strcmp(type, "end") == 0 && strcmp(status, "completed") == 0) {
            for (size_t k = n; k-- > 0;) {
                if (strcmp(runs[k].run_id, id) == 0) {
                    keep_later(last, runs[k].name[0] ? inv_find(&f->inv, runs[k].name) : NULL, at,
                               "journal");
                    break;
                }
            }
        }
        json_free(&d);
    }
    rotp__free(runs);
}

void fleet_history(const fleet *f, fleet_last *last)
{
    const char *paths[2] = {f->o->journal, f->o->audit};

    for (int k = 0; k < 2; k++) {
        FILE *fp = paths[k] != NULL ? fopen(paths[k], "re") : NULL;
        if (fp == NULL) {
            if (paths[k] != NULL && errno != ENOENT)
                fprintf(stderr, "rotp-harness: %s: cannot read %s: %s\n", f->o->command, paths[k],
                        strerror(errno));
            continue;
        }
        if (k == 0)
            journal_history(f, fp, last);
        else
            audit_history(f, fp, last);
        fclose(fp);
    }
}

static void last_rotation(const inv_entry *e, const fleet_last *hist, plan_row *r)
{
    struct stat st;
    const char *file = NULL;

    if (hist != NULL && hist->at[0] != '\0') {
        snprintf(r->last, sizeof(r->last), "%s", hist->at);
        r->last_src = hist->source;
        return;
    }
    if (e->out != NULL && stat(e->out, &st) == 0)
        file = e->out;
    else if (e->secret_file != NULL && stat(e->secret_file, &st) == 0)
        file = e->secret_file;
    if (file != NULL && rfc3339_format((int64_t)st.st_mtime, r->last, sizeof(r->last)) == 0) {
        r->last_src = "file";
        return;
    }
    r->last[0] = '\0';
    r->last_src = "unknown";
}

/* Whether the entry is due, and why. */
static void decide(const inv_entry *e, long due_within, time_t now, plan_row *r)
{
    int64_t t;

    r->days_left = -1;
    if (r->expires[0] != '\0' && rfc3339_parse(r->expires, strlen(r->expires), &t) == 0)
        r->days_left = (long)((t - (int64_t)now) / DAY_SECS) - (t < (int64_t)now ? 1 : 0);
    if (r->broken) {
        r->due = true;
        snprintf(r->reason, sizeof(r->reason), "broken: %s", r->state);
        return;
    }
    if (r->expires[0] != '\0' && r->days_left <= due_within) {
        r->due = true;
        snprintf(r->reason, sizeof(r->reason), "expiry: expires in %ld days (threshold %ld)",
                 r->days_left, due_within);
        return;
    }
    if (e->cadence_days <= 0) {
        snprintf(r->reason, sizeof(r->reason), "no cadence");
        return;
    }
    if (r->last[0] == '\0' || rfc3339_parse(r->last, strlen(r->last), &t) != 0) {
        r->due = true;
        snprintf(r->reason, sizeof(r->reason), "cadence: last rotation unknown (every %ld days)",
                 e->cadence_days);
        return;
    }
    long age = (long)(((int64_t)now - t) / DAY_SECS);
    r->due = age >= e->cadence_days;
    if (r->due)
        snprintf(r->reason, sizeof(r->reason), "cadence: rotated %ld days ago (every %ld days)",
                 age, e->cadence_days);
    else
        snprintf(r->reason, sizeof(r->reason), "next by cadence in %ld days",
                 e->cadence_days - age);
}

void fleet_plan_entry(fleet *f, int i, const fleet_last *hist, time_t now, plan_row *r)
{
    memset(r, 0, sizeof(*r));
    inspect(f, i, r);
    last_rotation(&f->inv.entries[i], hist, r);
    decide(&f->inv.entries[i], f->o->due_within, now, r);
}

/* ---------------------------------------------------------------------------------------------
 * Output
 * ------------------------------------------------------------------------------------------- */

static void print_table(const fleet *f, const plan_row *rows, int due, int broken)
{
    printf("%-24s %-9s %-22s %-26s %-4s %s\n", "NAME", "STATE", "EXPIRES (DAYS)",
           "LAST ROTATION (SOURCE)", "DUE", "WHY");
    for (int i = 0; i < f->inv.n; i++) {
        const plan_row *r = &rows[i];
        char exp[64], last[96];
        if (r->expires[0] != '\0')
            snprintf(exp, sizeof(exp), "%.10s (%ld)", r->expires, r->days_left);
        else
            snprintf(exp, sizeof(exp), "-");
        snprintf(last, sizeof(last), "%.10s (%s)", r->last[0] ? r->last : "-", r->last_src);
        printf("%-24s %-9s %-22s %-26s %-4s %s%s%s\n", f->inv.entries[i].name, r->state, exp, last,
               r->due ? "yes" : "no", r->reason, r->detail[0] ? ": " : "", r->detail);
    }
    printf("plan: %d credential%s, %d due, %d broken\n", f->inv.n, f->inv.n == 1 ? "" : "s", due,
           broken);
}

static const char *plan_exit_name(int rc)
{
    if (rc == HX_PLAN_DUE)
        return "DUE";
    if (rc == HX_PLAN_BROKEN)
        return "BROKEN";
    return hx_name(rc);
}

static void print_json(const fleet *f, const plan_row *rows, int due, int broken, int rc)
{
    dynbuf b;
    int err = 0;

    dynbuf_init(&b, 16u * 1024u * 1024u);
    err |= dynbuf_printf(&b,
                         "{\"command\":\"plan\",\"ok\":%s,\"exit_code\":%d,\"exit_name\":\"%s\","
                         "\"due_within_days\":%ld,\"total\":%d,\"due\":%d,\"broken\":%d,"
                         "\"credentials\":[",
                         rc == HX_OK ? "true" : "false", rc, plan_exit_name(rc),
                         (long)f->o->due_within, f->inv.n, due, broken);
    for (int i = 0; i < f->inv.n && err == 0; i++) {
        const plan_row *r = &rows[i];
        const inv_entry *e = &f->inv.entries[i];
        err |= dynbuf_printf(&b, "%s{\"index\":%d,\"name\":", i ? "," : "", i);
        err |= dynbuf_json_cstr(&b, e->name);
        err |= dynbuf_adds(&b, ",\"kind\":");
        err |= dynbuf_json_cstr(&b, e->kind);
        err |= dynbuf_adds(&b, ",\"id\":");
        err |= dynbuf_json_cstr(&b, inv_get(e, "id"));
        err |= dynbuf_printf(&b, ",\"state\":\"%s\",\"broken\":%s,\"expires_on\":", r->state,
                             r->broken ? "true" : "false");
        err |= dynbuf_json_cstr(&b, r->expires[0] ? r->expires : NULL);
        if (r->expires[0])
            err |= dynbuf_printf(&b, ",\"days_left\":%ld", r->days_left);
        else
            err |= dynbuf_adds(&b, ",\"days_left\":null");
        err |= dynbuf_adds(&b, ",\"last_rotation\":{\"at\":");
        err |= dynbuf_json_cstr(&b, r->last[0] ? r->last : NULL);
        err |= dynbuf_printf(&b, ",\"source\":\"%s\"},\"cadence_days\":%ld,\"due\":%s,\"reason\":",
                             r->last_src, e->cadence_days, r->due ? "true" : "false");
        err |= dynbuf_json_cstr(&b, r->reason);
        err |= dynbuf_adds(&b, ",\"detail\":");
        err |= dynbuf_json_cstr(&b, r->detail);
        err |= dynbuf_adds(&b, "}");
    }
    err |= dynbuf_adds(&b, "]}");
    out_json_emit(&b, err);
}

int cmd_plan(const hopts *o)
{
    fleet f;
    plan_row *rows = NULL;
    fleet_last *hist = NULL;
    int rc = fleet_open(&f, o);
    int due = 0, broken = 0;
    time_t now = time(NULL);

    if (rc != HX_OK)
        goto out;
    rows = rotp__calloc((size_t)f.inv.n, sizeof(*rows));
    hist = rotp__calloc((size_t)f.inv.n, sizeof(*hist));
    if (rows == NULL || hist == NULL) {
        fprintf(stderr, "rotp-harness: out of memory\n");
        rc = HX_OTHER;
        goto out;
    }
    fleet_history(&f, hist);
    for (int i = 0; i < f.inv.n; i++) {
        fleet_plan_entry(&f, i, &hist[i], now, &rows[i]);
        due += rows[i].due;
        broken += rows[i].broken;
    }
    rc = broken > 0 ? HX_PLAN_BROKEN : due > 0 ? HX_PLAN_DUE : HX_OK;
    if (o->json)
        print_json(&f, rows, due, broken, rc);
    else
        print_table(&f, rows, due, broken);
out:
    rotp__free(rows);
    rotp__free(hist);
    fleet_close(&f);
    return rc;
}
