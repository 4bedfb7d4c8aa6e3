/* SPDX-License-Identifier: MIT */
/* fleet_apply.c - `rotp-harness apply --inventory FILE` (what is due, --all, --only NAME) and
 * `apply --resume` / `resume --journal F` of a fleet run.
 *
 * All rotations run in this one process through the rotation engine: one provider instance and
 * one engine per management credential, so connections, TLS sessions and what the provider
 * learnt (the management token's id, the rate limit) are reused across entries. A failing entry
 * is reported and the rest go on.
 *
 * One journal holds the whole fleet run: a `fleet` record (the fleet id, the inventory and the
 * entries selected, by number and name), then the engine's records of each entry's run under
 * the run id `<fleet id>-<n>`, then a `fleet_end` record. After a kill at any point, resume reads
 * the last fleet run without a `fleet_end`: an entry whose run ended is not touched again, an
 * unfinished one is rolled forward by the engine, one that never started is rotated. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "dynbuf.h"
#include "fleet.h"
#include "json.h"
#include "output.h"
#include "request.h"
#include "rotp_engine.h"
#include "sinks.h"
#include "timefmt.h"

#define FLEET_ID_LEN ROTP_ENGINE_RUN_ID_MAX

/* One selected entry and what became of it. */
typedef struct apply_item {
    int index; /* in the inventory */
    int n;     /* its number in the fleet run (run id <fleet id>-<n>) */
    bool have_journal_run;
    rotp_engine_journal_entry *jentry; /* resume: the engine's run found in the journal */
    rotp_engine_result res;
    bool ran;
    bool resumed;
    bool already; /* resume: its run had ended before */
    long long ms;
} apply_item;

typedef struct apply_ctx {
    fleet *f;
    const hopts *o;
    char fleet_id[FLEET_ID_LEN + 1];
    char journal_abs[PATH_MAX];
    rotp_engine **engines; /* per instance, NULL when it could not be opened */
    apply_item *items;
    int nitems;
    /* progress */
    bool tty;
    int done, failed;
    long long t0;
    const apply_item *cur;
    hopts eo;    /* the current entry's sinks and names, for sinks_deliver */
    int lock_fd; /* the journal, flock()ed for the whole run; -1: none */
} apply_ctx;

/* ---------------------------------------------------------------------------------------------
 * Progress (stderr, only on a terminal)
 * ------------------------------------------------------------------------------------------- */

static void progress_line(apply_ctx *a, const char *wait)
{
    long long el = now_ms() - a->t0;
    long long eta = a->done > 0 ? el / a->done * (a->nitems - a->done) / 1000 : -1;

    if (!a->tty)
        return;
    fprintf(stderr, "\r\033[Kapply: %d/%d done, %d failed", a->done, a->nitems, a->failed);
    if (eta >= 0)
        fprintf(stderr, ", ETA %lld s", eta);
    if (a->cur != NULL)
        fprintf(stderr, ", %s", a->f->inv.entries[a->cur->index].name);
    if (wait != NULL)
        fprintf(stderr, ", %s", wait);
    fflush(stderr);
}

/* ---------------------------------------------------------------------------------------------
 * The engine's host callbacks
 * ------------------------------------------------------------------------------------------- */

static int32_t cb_deliver(void *user, const rotp_engine_secret *s, char *where, size_t where_cap,
                          char *msg, size_t msg_cap)
{
    apply_ctx *a = user;
    if (sinks_deliver(&a->eo, a->f->base.p, s, NULL, where, where_cap) != HX_OK) {
        snprintf(msg, msg_cap, "the sink failed (see stderr)");
        return ROTP_ENGINE_SINK_FAILED;
    }
    return ROTP_ENGINE_OK;
}

static int32_t cb_preflight(void *user, const char *run_id, char *msg, size_t msg_cap)
{
    apply_ctx *a = user;
    (void)run_id;
    if (sinks_preflight(&a->eo) != 0) {
        snprintf(msg, msg_cap, "the sink cannot take a secret (see stderr)");
        return ROTP_ENGINE_SINK_FAILED;
    }
    snprintf(msg, msg_cap, "%s%s%s", a->eo.out ? "out " : "", a->eo.out ? a->eo.out : "",
             a->eo.exec ? (a->eo.out ? ", exec" : "exec") : "");
    return ROTP_ENGINE_OK;
}

static int append_to(const char *path, const char *line, size_t len)
{
    char msg[PATH_MAX + 128];
    if (rotp_engine_append_line(path, line, len, 0, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "rotp-harness: %s\n", msg);
        return -1;
    }
    return 0;
}

static int cb_journal(void *user, const char *record, size_t len)
{
    return append_to(((apply_ctx *)user)->journal_abs, record, len);
}

static int cb_audit(void *user, const char *event, size_t len)
{
    return append_to(((apply_ctx *)user)->o->audit, event, len);
}

static void cb_progress(void *user, const rotp_engine_event *ev)
{
    apply_ctx *a = user;
    char wait[96];

    if (ev->type == ROTP_ENGINE_EV_WAIT) {
        snprintf(wait, sizeof(wait), "%s %llu ms",
                 ev->wait_reason == ROTP_ENGINE_WAIT_RATE_LIMIT ? "waiting for the rate limit"
                                                                : "waiting",
                 (unsigned long long)ev->ms);
        progress_line(a, wait);
    }
}

/* ABI 1.2: the provider tells its waits (pacing to the rate limit, Retry-After, back-off). */
static int32_t cb_wait(void *user, const rotp_wait_info *wi)
{
    apply_ctx *a = user;
    char wait[128];

    if (wi->left_ms == 0) {
        progress_line(a, NULL);
        return 0;
    }
    snprintf(wait, sizeof(wait), "%s %llu s",
             wi->reason == ROTP_WAIT_BACKOFF ? "retrying in" : "waiting for the rate limit",
             (unsigned long long)(wi->left_ms + 999) / 1000);
    progress_line(a, wait);
    return 0;
}

static int open_engines(apply_ctx *a)
{
    rotp_engine_host host;

    memset(&host, 0, sizeof(host));
    host.struct_size = sizeof(host);
    host.user = a;
    host.deliver = cb_deliver;
    host.preflight = cb_preflight;
    host.journal = a->journal_abs[0] != '\0' ? cb_journal : NULL;
    host.audit = a->o->audit != NULL ? cb_audit : NULL;
    host.progress = cb_progress;
    a->engines = rotp__calloc((size_t)a->f->ninst, sizeof(*a->engines));
    if (a->engines == NULL)
        return HX_OTHER;
    for (int k = 0; k < a->f->ninst; k++) {
        char msg[256];
        fleet_inst *in = &a->f->insts[k];
        if (in->open_rc != HX_OK)
            continue;
        if (a->tty && in->hp.negotiated_minor >= 2 &&
            ROTP_HAS_FIELD(in->hp.p, rotp_provider, set_wait) && in->hp.p->set_wait != NULL)
            in->hp.p->set_wait(in->hp.inst, cb_wait, a);
        if (rotp_engine_new(in->hp.p, in->hp.inst, &host, &a->engines[k], msg, sizeof(msg)) !=
            ROTP_ENGINE_OK) {
            fprintf(stderr, "rotp-harness: apply: %s\n", msg);
            return HX_OTHER;
        }
    }
    return HX_OK;
}

/* ---------------------------------------------------------------------------------------------
 * One entry
 * ------------------------------------------------------------------------------------------- */

/* What a run borrows: the request keys and the current secret. */
typedef struct entry_run {
    rotp_engine_run run;
    hreq req;
    rotp_params reqp;
    hreq rec;
    rotp_params recp;
    hparts cur;
    hparts delivered;
    char run_id[ROTP_ENGINE_RUN_ID_MAX + 1];
} entry_run;

/* The run of entry i: id, strategy and overlap by the roles of the kind's keys, every other
 * request key passed on, the current secret from secret_file, sinks and names for deliver. */
static int build_run(apply_ctx *a, const apply_item *it, entry_run *er)
{
    const inv_entry *e = &a->f->inv.entries[it->index];
    const rotp_kind_info *ki = inv_kind_info(a->f->kinds, e->kind);
    int rc;

    memset(er, 0, sizeof(*er));
    rotp_engine_run_init(&er->run);
    snprintf(er->run_id, sizeof(er->run_id), "%.16s-%d", a->fleet_id, it->n);
    er->run.run_id = er->run_id;
    er->run.name = e->name;
    er->run.kind = e->kind;
    er->run.actor = a->o->actor;
    er->run.verify_tries = (uint32_t)a->o->verify_tries;
    er->run.verify_delay_ms = (uint32_t)a->o->verify_delay_ms;
    hreq_init(&er->req);
    for (int k = 0; k < e->nreq; k++) {
        const rotp_key_info *ik = inv_request_key(ki, e->req[k].key);
        uint32_t role = ik != NULL ? ik->role : ROTP_ROLE_NONE;
        if (role == ROTP_ROLE_ID)
            er->run.id = e->req[k].value;
        else if (role == ROTP_ROLE_STRATEGY)
            er->run.strategy = e->req[k].value;
        else if (role == ROTP_ROLE_OVERLAP)
            er->run.overlap_seconds = strtoll(e->req[k].value, NULL, 10);
        else
            hreq_add(&er->req, e->req[k].key, e->req[k].value);
    }
    er->reqp = hreq_params(&er->req);
    er->run.request = &er->reqp;
    hreq_init(&er->rec);
    hreq_add(&er->rec, "fleet", a->fleet_id);
    hreq_add(&er->rec, "entry", e->name);
    er->recp = hreq_params(&er->rec);
    er->run.host_record = &er->recp;
    rc = fleet_read_secret(a->f, e, e->secret_file, ki, &er->cur);
    if (rc != HX_OK && rc != HX_NOTFOUND)
        return rc;
    er->run.current = hparts_params(&er->cur);
    /* the entry's sinks and names */
    a->eo = *a->o;
    a->eo.out = e->out;
    a->eo.exec = e->exec;
    a->eo.print_secret = false;
    a->eo.secret_name = e->name;
    a->eo.naliases = e->naliases;
    for (int k = 0; k < e->naliases; k++)
        a->eo.aliases[k] = e->aliases[k];
    return HX_OK;
}

static void entry_run_clear(entry_run *er)
{
    hparts_clear(&er->cur);
    hparts_clear(&er->delivered);
    secret_wipe(er, sizeof(*er));
}

/* resume: the value the sink holds from this run (the out file read back), so the engine can
 * verify it instead of rolling again. */
static void read_delivered(apply_ctx *a, const inv_entry *e, const rotp_kind_info *ki,
                           entry_run *er)
{
    if (fleet_read_secret(a->f, e, e->out, ki, &er->delivered) == HX_OK)
        er->run.delivered = hparts_params(&er->delivered);
}

static void fail_item(apply_item *it, int32_t status, const char *step, const char *msg)
{
    it->res.status = status;
    snprintf(it->res.failed_step, sizeof(it->res.failed_step), "%s", step);
    snprintf(it->res.message, sizeof(it->res.message), "%s", msg);
}

static void run_item(apply_ctx *a, apply_item *it)
{
    const inv_entry *e = &a->f->inv.entries[it->index];
    const rotp_kind_info *ki = inv_kind_info(a->f->kinds, e->kind);
    rotp_engine *eng = a->engines[a->f->inst_of[it->index]];
    entry_run er;
    long long t = now_ms();
    int rc;

    rotp_engine_result_init(&it->res);
    a->cur = it;
    progress_line(a, NULL);
    if (eng == NULL) {
        fail_item(it, a->f->insts[a->f->inst_of[it->index]].open_rc, "open",
                  "the management credential could not be used");
    } else if ((rc = build_run(a, it, &er)) != HX_OK) {
        fail_item(it, rc, "pre-check", "secret_file could not be read");
        entry_run_clear(&er);
    } else {
        if (it->jentry != NULL && it->jentry->state == ROTP_ENGINE_JS_UNFINISHED) {
            read_delivered(a, e, ki, &er);
            rotp_engine_resume(eng, it->jentry, &er.run, &it->res);
            it->resumed = true;
        } else {
            rotp_engine_rotate(eng, &er.run, &it->res);
        }
        entry_run_clear(&er);
    }
    it->ran = true;
    it->ms = now_ms() - t;
    a->done++;
    a->failed += it->res.status != ROTP_ENGINE_OK;
    a->cur = NULL;
    progress_line(a, NULL);
}

/* ---------------------------------------------------------------------------------------------
 * The fleet's journal records
 * ------------------------------------------------------------------------------------------- */

static int fleet_record(apply_ctx *a, bool end)
{
    dynbuf b;
    char at[64];
    int err = 0;

    if (a->journal_abs[0] == '\0')
        return 0;
    if (rfc3339_format((int64_t)time(NULL), at, sizeof(at)) != 0)
        snprintf(at, sizeof(at), "?");
    dynbuf_init(&b, 4u * 1024u * 1024u);
    err |= dynbuf_printf(&b, "{\"run_id\":\"%s\",\"type\":\"%s\",\"at\":\"%s\"", a->fleet_id,
                         end ? "fleet_end" : "fleet", at);
    if (end) {
        err |= dynbuf_printf(&b, ",\"done\":%d,\"failed\":%d}", a->done, a->failed);
    } else {
        char inv_abs[PATH_MAX];
        err |= dynbuf_adds(&b, ",\"inventory\":");
        err |= dynbuf_json_cstr(&b, realpath(a->o->inventory, inv_abs) ? inv_abs : a->o->inventory);
        err |= dynbuf_adds(&b, ",\"entries\":[");
        for (int i = 0; i < a->nitems; i++) {
            err |= dynbuf_printf(&b, "%s{\"n\":%d,\"name\":", i ? "," : "", a->items[i].n);
            err |= dynbuf_json_cstr(&b, a->f->inv.entries[a->items[i].index].name);
            err |= dynbuf_adds(&b, "}");
        }
        err |= dynbuf_adds(&b, "]}");
    }
    if (err == 0)
        err = append_to(a->journal_abs, b.data, b.len);
    dynbuf_free(&b);
    return err == 0 ? 0 : -1;
}

/* The last fleet run in a journal without a fleet_end: its id, inventory and entries. */
typedef struct fleet_found {
    bool found;
    char fleet_id[FLEET_ID_LEN + 1];
    char inventory[PATH_MAX];
    char (*names)[128];
    int *ns;
    int n;
} fleet_found;

static void found_clear(fleet_found *ff)
{
    rotp__free(ff->names);
    rotp__free(ff->ns);
    ff->names = NULL;
    ff->ns = NULL;
    ff->n = 0;
    ff->found = false;
}

/* A fleet record into ff (replacing what it held). */
static void take_fleet_record(const json_doc *d, fleet_found *ff)
{
    int ents = json_get(d, 0, "entries");
    int n = ents >= 0 && json_is_array(d, ents) ? d->toks[ents].size : 0;

    found_clear(ff);
    json_strcpy(d, json_get(d, 0, "run_id"), ff->fleet_id, sizeof(ff->fleet_id));
    json_strcpy(d, json_get(d, 0, "inventory"), ff->inventory, sizeof(ff->inventory));
    ff->names = rotp__calloc((size_t)n + 1, sizeof(*ff->names));
    ff->ns = rotp__calloc((size_t)n + 1, sizeof(*ff->ns));
    if (ff->names == NULL || ff->ns == NULL)
        return;
    for (int i = 0; i < n; i++) {
        int o = json_at(d, ents, i);
        int64_t v = -1;
        json_get_int64(d, json_get(d, o, "n"), &v);
        json_strcpy(d, json_get(d, o, "name"), ff->names[i], sizeof(ff->names[i]));
        ff->ns[i] = (int)v;
    }
    ff->n = n;
    ff->found = true;
}

/* Reads the journal's fleet records. HX_OK (ff->found false when there is nothing to resume),
 * or an exit code with a message. */
static int find_fleet_run(const char *path, fleet_found *ff)
{
    FILE *fp = fopen(path, "re");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;

    memset(ff, 0, sizeof(*ff));
    if (fp == NULL) {
        if (errno == ENOENT)
            return HX_OK;
        fprintf(stderr, "rotp-harness: cannot read the journal %s: %s\n", path, strerror(errno));
        return HX_USAGE;
    }
    while ((len = getline(&line, &cap, fp)) > 0) {
        json_doc d;
        char type[16] = "", id[FLEET_ID_LEN + 1] = "";
        if (json_parse(&d, line, (size_t)len) != JSON_OK)
            continue;
        json_strcpy(&d, json_get(&d, 0, "type"), type, sizeof(type));
        json_strcpy(&d, json_get(&d, 0, "run_id"), id, sizeof(id));
        if (strcmp(type, "fleet") == 0)
            take_fleet_record(&d, ff);
        else if (strcmp(type, "fleet_end") == 0 && ff->found && strcmp(id, ff->fleet_id) == 0)
            found_clear(ff);
        json_free(&d);
    }
    free(line);
    fclose(fp);
    return HX_OK;
}

/* The engine's runs of the fleet run, attached to their items. */
static int attach_run(void *user, const rotp_engine_journal_entry *je)
{
    apply_ctx *a = user;
    size_t idlen = strlen(a->fleet_id);
    char *end = NULL;
    long n;

    if (strncmp(je->run_id, a->fleet_id, idlen) != 0 || je->run_id[idlen] != '-')
        return 0;
    n = strtol(je->run_id + idlen + 1, &end, 10);
    for (int i = 0; i < a->nitems && end != NULL && *end == '\0'; i++) {
        if (a->items[i].n != n)
            continue;
        if (a->items[i].jentry == NULL)
            a->items[i].jentry = rotp__malloc(sizeof(*je));
        if (a->items[i].jentry != NULL)
            memcpy(a->items[i].jentry, je, sizeof(*je));
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Selection
 * ------------------------------------------------------------------------------------------- */

static int add_item(apply_ctx *a, int index, int n)
{
    apply_item *it = &a->items[a->nitems++];
    memset(it, 0, sizeof(*it));
    it->index = index;
    it->n = n;
    return HX_OK;
}

/* --only NAME..., --all, or what plan finds due. */
static int select_items(apply_ctx *a)
{
    const hopts *o = a->o;
    fleet *f = a->f;
    int rc = HX_OK;

    a->items = rotp__calloc((size_t)f->inv.n, sizeof(*a->items));
    if (a->items == NULL)
        return HX_OTHER;
    if (o->nonly > 0) {
        for (int k = 0; k < o->nonly; k++) {
            const inv_entry *e = inv_find(&f->inv, o->only[k]);
            if (e == NULL) {
                fprintf(stderr, "rotp-harness: apply: --only %s: no such name or alias in %s\n",
                        o->only[k], o->inventory);
                rc = HX_USAGE;
            }
        }
        for (int i = 0; i < f->inv.n && rc == HX_OK; i++) {
            bool want = false;
            for (int k = 0; k < o->nonly; k++)
                want |= inv_find(&f->inv, o->only[k]) == &f->inv.entries[i];
            if (want)
                add_item(a, i, i);
        }
        return rc;
    }
    if (o->all) {
        for (int i = 0; i < f->inv.n; i++)
            add_item(a, i, i);
        return HX_OK;
    }
    fleet_last *hist = rotp__calloc((size_t)f->inv.n, sizeof(*hist));
    if (hist == NULL)
        return HX_OTHER;
    fleet_history(f, hist);
    for (int i = 0; i < f->inv.n; i++) {
        plan_row r;
        fleet_plan_entry(f, i, &hist[i], time(NULL), &r);
        if (r.due)
            add_item(a, i, i);
    }
    rotp__free(hist);
    return HX_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Report
 * ------------------------------------------------------------------------------------------- */

static int overall_status(const apply_ctx *a)
{
    int first = HX_OK;
    for (int i = 0; i < a->nitems; i++) {
        int32_t s = a->items[i].res.status;
        if (s == ROTP_ENGINE_OUTCOME_UNKNOWN)
            return HX_UNKNOWN; /* resume needed: the most urgent */
        if (s != ROTP_ENGINE_OK && first == HX_OK)
            first = s;
    }
    return first;
}

/* A NEW_ID strategy made a new credential: the inventory's id must follow it. */
static bool id_changed(const rotp_engine_result *r)
{
    return r->status == ROTP_ENGINE_OK && r->new_id[0] != '\0' && r->old_id[0] != '\0' &&
           strcmp(r->new_id, r->old_id) != 0;
}

static void print_human(const apply_ctx *a, int rc, long long ms)
{
    for (int i = 0; i < a->nitems; i++) {
        const apply_item *it = &a->items[i];
        const rotp_engine_result *r = &it->res;
        const char *name = a->f->inv.entries[it->index].name;
        if (r->status == ROTP_ENGINE_OK)
            printf("  OK    %-28s %s%s%s%s\n", name,
                   it->already ? "finished before the interruption"
                               : (r->overlap ? "in overlap (finish later)" : "rotated"),
                   r->delivered[0] ? ", delivered to " : "", r->delivered,
                   it->resumed ? " (resumed)" : "");
        if (id_changed(r))
            printf("        %-28s the id changed: set \"id\": \"%s\" in the inventory\n", "",
                   r->new_id);
        else
            printf("  FAIL  %-28s %s at %s: %s\n", name, rotp_engine_status_name(r->status),
                   r->failed_step[0] ? r->failed_step : "?", r->message);
    }
    if (a->nitems == 0) {
        printf("apply: nothing is due in %s\n", a->o->inventory);
        return;
    }
    printf("apply: %d of %d rotated, %d failed in %lld ms (fleet %s)%s\n", a->nitems - a->failed,
           a->nitems, a->failed, ms, a->fleet_id,
           rc == HX_UNKNOWN ? "; outcome unknown: run `rotp-harness apply --resume`" : "");
}

static void print_json(const apply_ctx *a, int rc, long long ms)
{
    dynbuf b;
    int err = 0;
    uint32_t calls = 0;

    dynbuf_init(&b, 16u * 1024u * 1024u);
    for (int i = 0; i < a->nitems; i++)
        calls += a->items[i].res.provider_calls;
    err |= dynbuf_printf(&b,
                         "{\"command\":\"apply\",\"ok\":%s,\"exit_code\":%d,\"exit_name\":\"%s\","
                         "\"fleet_id\":\"%s\",\"selected\":%d,\"rotated\":%d,\"failed\":%d,"
                         "\"ms\":%lld,\"provider_calls\":%u,\"credentials\":[",
                         rc == HX_OK ? "true" : "false", rc, hx_name(rc), a->fleet_id, a->nitems,
                         a->nitems - a->failed, a->failed, ms, calls);
    for (int i = 0; i < a->nitems && err == 0; i++) {
        const apply_item *it = &a->items[i];
        const rotp_engine_result *r = &it->res;
        err |= dynbuf_printf(&b, "%s{\"name\":", i ? "," : "");
        err |= dynbuf_json_cstr(&b, a->f->inv.entries[it->index].name);
        err |= dynbuf_printf(&b, ",\"run_id\":\"%s-%d\",\"status\":%d,\"status_name\":\"%s\"",
                             a->fleet_id, it->n, r->status, rotp_engine_status_name(r->status));
        err |= dynbuf_adds(&b, ",\"kind\":");
        err |= dynbuf_json_cstr(&b, a->f->inv.entries[it->index].kind);
        err |= dynbuf_adds(&b, ",\"old_id\":");
        err |= dynbuf_json_cstr(&b, r->old_id);
        err |= dynbuf_adds(&b, ",\"new_id\":");
        err |= dynbuf_json_cstr(&b, r->new_id);
        err |= dynbuf_adds(&b, ",\"expires_at\":");
        err |= dynbuf_json_cstr(&b, r->expires_at);
        err |= dynbuf_adds(&b, ",\"delivered_to\":");
        err |= dynbuf_json_cstr(&b, r->delivered);
        err |= dynbuf_adds(&b, ",\"failed_step\":");
        err |= dynbuf_json_cstr(&b, r->failed_step);
        err |= dynbuf_adds(&b, ",\"message\":");
        err |= dynbuf_json_cstr(&b, r->message);
        err |= dynbuf_printf(&b, ",\"id_changed\":%s", id_changed(r) ? "true" : "false");
        err |= dynbuf_printf(&b,
                             ",\"overlap\":%s,\"resumed\":%s,\"already_finished\":%s,"
                             "\"provider_calls\":%u,\"ms\":%lld}",
                             r->overlap ? "true" : "false", it->resumed ? "true" : "false",
                             it->already ? "true" : "false", r->provider_calls, it->ms);
    }
    err |= dynbuf_adds(&b, "]}");
    out_json_emit(&b, err);
}

/* ---------------------------------------------------------------------------------------------
 * The commands
 * ------------------------------------------------------------------------------------------- */

static void ctx_free(apply_ctx *a)
{
    if (a->lock_fd >= 0)
        close(a->lock_fd); /* releases the lock */
    a->lock_fd = -1;
    for (int k = 0; a->engines != NULL && k < a->f->ninst; k++)
        rotp_engine_free(a->engines[k]);
    rotp__free(a->engines);
    for (int i = 0; a->items != NULL && i < a->nitems; i++)
        rotp__free(a->items[i].jentry);
    rotp__free(a->items);
}

/* Runs every item (those whose run ended before are reported as they ended). */
static int run_all(apply_ctx *a)
{
    long long t0 = now_ms();
    int rc;

    a->t0 = t0;
    for (int i = 0; i < a->nitems; i++) {
        apply_item *it = &a->items[i];
        if (it->jentry != NULL && it->jentry->state == ROTP_ENGINE_JS_FINISHED) {
            rotp_engine_result_init(&it->res);
            it->res.status = it->jentry->end_code;
            it->already = true;
            a->done++;
            a->failed += it->res.status != ROTP_ENGINE_OK;
            continue;
        }
        run_item(a, it);
    }
    if (a->tty)
        fprintf(stderr, "\r\033[K");
    fleet_record(a, true);
    rc = overall_status(a);
    if (a->o->json)
        print_json(a, rc, now_ms() - t0);
    else
        print_human(a, rc, now_ms() - t0);
    return rc;
}

/* The journal's absolute path into a->journal_abs, and an exclusive lock on it for the whole
 * run, so that two fleet runs (a timer and a person, two timers) never rotate the same entries
 * at once. create: make the journal (0600) when it does not exist. */
static int journal_open(apply_ctx *a, bool create)
{
    const char *j = a->o->journal;
    char dir[PATH_MAX];

    a->lock_fd = -1;
    if (j == NULL)
        return HX_OK;
    if (j[0] == '/') {
        snprintf(a->journal_abs, sizeof(a->journal_abs), "%s", j);
    } else if (getcwd(dir, sizeof(dir)) == NULL ||
               (size_t)snprintf(a->journal_abs, sizeof(a->journal_abs), "%s/%s", dir, j) >=
                   sizeof(a->journal_abs)) {
        fprintf(stderr, "rotp-harness: %s: the journal path is too long\n", a->o->command);
        return HX_USAGE;
    }
    a->lock_fd = open(a->journal_abs,
                      O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
    if (a->lock_fd < 0) {
        if (!create && errno == ENOENT)
            return HX_OK;
        fprintf(stderr, "rotp-harness: %s: cannot open the journal %s: %s\n", a->o->command,
                a->journal_abs, strerror(errno));
        return HX_USAGE;
    }
    if (flock(a->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr,
                "rotp-harness: %s: another apply or resume is running on the journal %s "
                "(it holds its lock); not starting\n",
                a->o->command, a->journal_abs);
        return HX_OTHER;
    }
    return HX_OK;
}

static int apply_resume(const hopts *o)
{
    fleet_found ff;
    hopts ro = *o;
    fleet f;
    apply_ctx a;
    char msg[512];
    int rc;

    memset(&a, 0, sizeof(a));
    memset(&f, 0, sizeof(f));
    a.lock_fd = -1;
    if (o->journal == NULL) {
        fprintf(stderr, "rotp-harness: apply --resume needs --journal FILE\n");
        return HX_USAGE;
    }
    a.o = o;
    rc = journal_open(&a, false);
    if (rc == HX_OK)
        rc = find_fleet_run(o->journal, &ff);
    if (rc != HX_OK || !ff.found) {
        if (rc == HX_OK)
            printf("apply --resume: no unfinished fleet run in %s\n", o->journal);
        found_clear(&ff);
        ctx_free(&a);
        return rc;
    }
    if (ro.inventory == NULL)
        ro.inventory = ff.inventory;
    rc = fleet_open(&f, &ro);
    a.f = &f;
    a.o = &ro;
    a.tty = isatty(STDERR_FILENO) == 1;
    snprintf(a.fleet_id, sizeof(a.fleet_id), "%s", ff.fleet_id);
    if (rc == HX_OK) {
        a.items = rotp__calloc((size_t)ff.n + 1, sizeof(*a.items));
        rc = a.items == NULL ? HX_OTHER : HX_OK;
    }
    for (int i = 0; rc == HX_OK && i < ff.n; i++) {
        const inv_entry *e = inv_find(&f.inv, ff.names[i]);
        if (e == NULL) {
            fprintf(stderr, "rotp-harness: apply --resume: %s is not in %s any more\n", ff.names[i],
                    ro.inventory);
            rc = HX_USAGE;
        } else {
            add_item(&a, e->index, ff.ns[i]);
        }
    }
    if (rc == HX_OK && rotp_engine_journal_scan(a.journal_abs, attach_run, &a, msg, sizeof(msg)) !=
                           ROTP_ENGINE_OK) {
        fprintf(stderr, "rotp-harness: apply --resume: %s\n", msg);
        rc = HX_OTHER;
    }
    if (rc == HX_OK)
        rc = open_engines(&a);
    if (rc == HX_OK)
        rc = run_all(&a);
    ctx_free(&a);
    found_clear(&ff);
    fleet_close(&f);
    return rc;
}

int cmd_apply(const hopts *o)
{
    fleet f;
    apply_ctx a;
    int rc;

    if (o->resume)
        return apply_resume(o);
    if (o->all && o->nonly > 0) {
        fprintf(stderr, "rotp-harness: apply: give --all or --only, not both\n");
        return HX_USAGE;
    }
    memset(&a, 0, sizeof(a));
    a.lock_fd = -1;
    a.tty = isatty(STDERR_FILENO) == 1;
    rc = fleet_open(&f, o);
    a.f = &f;
    a.o = o;
    if (rc == HX_OK)
        rc = journal_open(&a, true);
    if (rc == HX_OK)
        rc = select_items(&a);
    if (rc == HX_OK)
        rc = open_engines(&a);
    if (rc == HX_OK) {
        rotp_engine_make_run_id(a.fleet_id);
        if (a.nitems == 0)
            a.journal_abs[0] = '\0'; /* nothing to do: no fleet run to journal */
        else if (fleet_record(&a, false) != 0)
            rc = HX_OTHER; /* no journal, no change */
    }
    if (rc == HX_OK)
        rc = run_all(&a);
    ctx_free(&a);
    fleet_close(&f);
    return rc;
}

bool fleet_journal_has_fleet_run(const char *path)
{
    fleet_found ff;
    bool yes = path != NULL && find_fleet_run(path, &ff) == HX_OK && ff.found;
    found_clear(&ff);
    return yes;
}
