/* SPDX-License-Identifier: MIT */
/* rotate.c - the commands rotate, rotate --finish and resume: a thin command line over the
 * engine (engine/rotp_engine.h), which runs the runbook. */
#include "rotate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "creds.h"
#include "dynbuf.h"
#include "output.h"
#include "sinks.h"

int rotate_run(hhost *h, hparts *current)
{
    const hopts *o = h->o;
    h->run.current = current != NULL ? hparts_params(current) : NULL;
    if (o->finish)
        return rotp_engine_finish(h->eng, &h->run, &h->res);
    return rotp_engine_rotate(h->eng, &h->run, &h->res);
}

/* The --json members of a rotation's result. */
static void outcome_json(dynbuf *b, const hopts *o, const rotp_engine_result *r, const char *hint)
{
    int e = 0;
    e |= dynbuf_adds(b, "\"run_id\":");
    e |= dynbuf_json_cstr(b, r->run_id);
    e |= dynbuf_adds(b, ",\"kind\":");
    e |= dynbuf_json_cstr(b, r->kind[0] ? r->kind : o->kind);
    e |= dynbuf_adds(b, ",\"id\":");
    e |= dynbuf_json_cstr(b, r->old_id);
    e |= dynbuf_adds(b, ",\"new_id\":");
    e |= dynbuf_json_cstr(b, r->new_id);
    e |= dynbuf_adds(b, ",\"strategy\":");
    e |= dynbuf_json_cstr(b, r->strategy);
    e |= dynbuf_adds(b, ",\"expires_at\":");
    e |= dynbuf_json_cstr(b, r->expires_at);
    e |= dynbuf_adds(b, ",\"rolled_at\":");
    e |= dynbuf_json_cstr(b, r->rolled_at);
    e |= dynbuf_adds(b, ",\"delivered_to\":");
    e |= dynbuf_json_cstr(b, r->delivered);
    e |= dynbuf_adds(b, ",\"companions\":{");
    for (uint32_t i = 0; i < r->ncompanions; i++) {
        e |= dynbuf_adds(b, i ? "," : "");
        e |= dynbuf_json_cstr(b, r->companions[i].suffix);
        e |= dynbuf_adds(b, ":");
        e |= dynbuf_json_cstr(b, r->companions[i].value);
    }
    e |= dynbuf_printf(b, "},\"provider_calls\":%u,\"overlap\":%s,\"finish\":",
                       (unsigned)r->provider_calls, r->overlap ? "true" : "false");
    e |= dynbuf_json_cstr(b, r->overlap ? hint : "");
    if (e != 0)
        dynbuf_reset(b);
}

/* How to finish an overlap, as a command line. */
static void finish_hint(const hopts *o, const rotp_engine_result *r, char *buf, size_t cap)
{
    char scope[200] = "";
    if (o->zone)
        snprintf(scope, sizeof(scope), " --zone %s", o->zone);
    else if (o->account)
        snprintf(scope, sizeof(scope), " --account %s", o->account);
    snprintf(buf, cap,
             "rotp-harness rotate --finish --kind %s --id %s%s --strategy %s%s%s "
             "[--secret-file <old secret>]",
             r->kind, r->old_id, scope, r->strategy, o->probe_url ? " --probe-url " : "",
             o->probe_url ? o->probe_url : "");
}

/* Prints the end of a rotate/resume run (human summary or the JSON object). */
static void print_outcome(const hopts *o, const char *cmd, int rc, const hreport *rep,
                          const rotp_engine_result *r)
{
    char hint[1024];
    finish_hint(o, r, hint, sizeof(hint));
    if (!o->json) {
        if (r->run_open && o->journal != NULL)
            printf("  ...  the run stays open in %s: `rotp-harness resume --journal %s` "
                   "continues it\n",
                   o->journal, o->journal);
        if (rc == HX_OK && r->overlap)
            printf("%s: OK, in overlap (run %s): new secret verified%s%s; finish with:\n  %s\n",
                   cmd, r->run_id, r->delivered[0] ? " and delivered to " : "", r->delivered, hint);
        else if (rc == HX_OK)
            printf("%s: OK (run %s)\n", cmd, r->run_id);
        else
            printf("%s: FAILED with exit code %d (run %s)%s%s\n", cmd, rc, r->run_id,
                   r->nsteps == 0 && r->message[0] ? ": " : "", r->nsteps == 0 ? r->message : "");
        fflush(stdout);
        return;
    }
    dynbuf b;
    dynbuf_init(&b, 64 * 1024);
    outcome_json(&b, o, r, hint);
    out_json_report(cmd, rc, rep, b.len ? b.data : NULL);
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

/* A command's working set, on the heap (the result and report are large). */
typedef struct rcmd {
    hprov hp;
    hhost h;
    hreport rep;
    hparts cur;
    hopts eff;
    rotp_engine_journal_entry entry;
    bool found, any;
} rcmd;

static rcmd *rcmd_new(const hopts *o)
{
    rcmd *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        fprintf(stderr, "rotp-harness: out of memory\n");
        return NULL;
    }
    c->rep.quiet = o->json;
    return c;
}

static void rcmd_free(rcmd *c)
{
    if (c == NULL)
        return;
    hparts_clear(&c->cur);
    hhost_close(&c->h);
    prov_close(&c->hp);
    free(c);
}

int cmd_rotate(const hopts *o)
{
    secret_buf *mgmt = NULL;
    rcmd *c = rcmd_new(o);
    int rc = check_rotate_opts(o, "rotate");

    if (c == NULL || rc != HX_OK) {
        free(c);
        return c == NULL ? HX_OTHER : rc;
    }
    rc = open_provider(&c->hp, o, &mgmt);
    if (rc == HX_OK)
        rc = hhost_open(&c->h, &c->hp, o, &c->rep, o->kind);
    if (rc == HX_OK)
        rc = hparts_read(&c->cur, o, c->h.ki);
    if (rc != HX_OK)
        goto out;
    if (!o->json)
        printf("rotate%s %s %s\n", o->finish ? " --finish" : (o->dry_run ? " --dry-run" : ""),
               o->kind, o->id);
    rc = rotate_run(&c->h, &c->cur);
    print_outcome(o, o->finish ? "rotate --finish" : "rotate", rc, &c->rep, &c->h.res);
out:
    secret_free(mgmt);
    rcmd_free(c);
    return rc;
}

/* ---- resume ------------------------------------------------------------------------------ */

static int last_run(void *user, const rotp_engine_journal_entry *e)
{
    rcmd *c = user;
    c->entry = *e;
    c->any = true;
    c->found = e->state == ROTP_ENGINE_JS_UNFINISHED;
    return 0;
}

static const char *host_value(const rotp_engine_journal_entry *e, const char *key)
{
    for (uint32_t i = 0; i < e->nhost; i++) {
        if (strcmp(e->host[i].key, key) == 0 && e->host[i].value[0] != '\0')
            return e->host[i].value;
    }
    return NULL;
}

/* The journal's sinks and names are defaults; flags given again win. */
static void resume_opts(rcmd *c, const hopts *o)
{
    const rotp_engine_journal_entry *e = &c->entry;
    hopts *eff = &c->eff;
    *eff = *o;
    if (eff->kind == NULL && e->kind[0])
        eff->kind = e->kind;
    if (eff->id == NULL && e->id[0])
        eff->id = e->id;
    if (eff->secret_name == NULL)
        eff->secret_name = host_value(e, "secret_name");
    if (eff->naliases == 0 && host_value(e, "aliases") != NULL) {
        char *list = strdup(host_value(e, "aliases")), *save = NULL;
        for (char *t = list ? strtok_r(list, ",", &save) : NULL;
             t != NULL && eff->naliases < HOPT_MAX_LIST; t = strtok_r(NULL, ",", &save))
            eff->aliases[eff->naliases++] = t; /* list lives until exit: a small one-off */
    }
    if (eff->audit == NULL)
        eff->audit = host_value(e, "audit");
    if (eff->out == NULL && eff->exec == NULL && !eff->print_secret) {
        eff->out = host_value(e, "out");
        eff->exec = host_value(e, "exec");
    }
    eff->run_id = e->run_id;
    eff->finish = strcmp(e->command, "finish") == 0;
    eff->dry_run = false;
}

/* The value the sink got, read back from --out, for a run that delivered but did not verify. */
static void read_back(rcmd *c)
{
    secret_buf *text = NULL;
    if (!(c->entry.marks & ROTP_ENGINE_JM_DELIVERED) || c->eff.out == NULL)
        return;
    if (creds_read_file(c->eff.out, "delivered secret", &text) == HX_OK &&
        hparts_from_text(&c->h.delivered, c->h.ki, text->data, text->len, c->eff.secret_name) == 0)
        c->h.run.delivered = hparts_params(&c->h.delivered);
    secret_free(text);
}

/* A journal another user could have changed may not choose where the secret goes (an --exec
 * command is run): then the sinks must be given again, and they are. */
static int check_journal_sinks(rcmd *c, const hopts *o)
{
    char msg[2 * PATH_MAX + 256];
    uint32_t flags = o->allow_unsafe_secret_files ? ROTP_ENGINE_FILE_ALLOW_UNSAFE : 0;
    int unsafe = rotp_engine_file_check(o->journal, flags, msg, sizeof(msg));
    bool from_journal = o->out == NULL && o->exec == NULL && !o->print_secret &&
                        (c->eff.out != NULL || c->eff.exec != NULL);
    if (unsafe == 0 || !from_journal)
        return HX_OK;
    fprintf(stderr,
            "rotp-harness: resume: %s: its sinks (--out/--exec) are not taken from it; give them "
            "again on the command line (or --allow-unsafe-secret-files)\n",
            msg);
    return HX_USAGE;
}

/* The run's request: the journal's keys, then those from the environment it lacks. */
static void journal_request(rcmd *c)
{
    hreq env = c->h.req;
    hreq_init(&c->h.req);
    for (uint32_t i = 0; i < c->entry.nrequest; i++)
        hreq_add(&c->h.req, c->entry.request[i].key, c->entry.request[i].value);
    for (uint32_t i = 0; i < env.count; i++) {
        bool have = false;
        for (uint32_t j = 0; j < c->h.req.count && !have; j++)
            have = strcmp(c->h.req.items[j].key, env.items[i].key) == 0;
        if (!have)
            hreq_add(&c->h.req, env.items[i].key, env.items[i].value);
    }
    c->h.reqp = hreq_params(&c->h.req);
}

static bool request_flags_given(const hopts *o)
{
    return o->account || o->zone || o->probe_url || o->probe_path || o->nparams > 0 ||
           o->nkeyflags > 0;
}

static int nothing_to_resume(const hopts *o, const rcmd *c)
{
    if (!c->any && o->json) {
        out_json_report("resume", HX_OK, NULL, "\"resumed\":false,\"journal_exists\":false");
    } else if (!c->any) {
        printf("resume: no unfinished run in %s: nothing to resume (the journal does not "
               "exist; a rotation creates it once its pre-checks pass, before any change)\n",
               o->journal);
    } else if (o->json) {
        dynbuf b;
        int e = 0;
        dynbuf_init(&b, 4096);
        e |= dynbuf_adds(&b, "\"resumed\":false,\"last_run\":");
        e |= dynbuf_json_cstr(&b, c->entry.run_id); /* journal values are escaped */
        e |= dynbuf_adds(&b, ",\"status\":");
        e |= dynbuf_json_cstr(&b, c->entry.end_status);
        out_json_report("resume", HX_OK, NULL, e == 0 ? b.data : "\"resumed\":false");
        dynbuf_free(&b);
    } else {
        printf("resume: no unfinished run in %s (last run %s: %s)\n", o->journal, c->entry.run_id,
               c->entry.end_status);
    }
    return HX_OK;
}

static int resume_scan(rcmd *c, const hopts *o)
{
    char msg[PATH_MAX + 128];
    int32_t rc = rotp_engine_journal_scan(o->journal, last_run, c, msg, sizeof(msg));
    if (rc != ROTP_ENGINE_OK)
        fprintf(stderr, "rotp-harness: %s\n", msg);
    return rc;
}

int cmd_resume(const hopts *o)
{
    secret_buf *mgmt = NULL;
    rcmd *c;
    int rc;

    if (o->journal == NULL || o->journal[0] == '\0') {
        fprintf(stderr, "rotp-harness: resume needs --journal FILE\n");
        return HX_USAGE;
    }
    c = rcmd_new(o);
    if (c == NULL)
        return HX_OTHER;
    rc = resume_scan(c, o);
    if (rc != HX_OK || !c->found) {
        if (rc == HX_OK)
            rc = nothing_to_resume(o, c);
        rcmd_free(c);
        return rc;
    }
    resume_opts(c, o);
    rc = check_journal_sinks(c, o);
    if (rc == HX_OK)
        rc = check_rotate_opts(&c->eff, "resume");
    if (rc == HX_OK)
        rc = open_provider(&c->hp, &c->eff, &mgmt);
    if (rc == HX_OK)
        rc = hhost_open(&c->h, &c->hp, &c->eff, &c->rep, c->eff.kind);
    if (rc == HX_OK)
        rc = hparts_read(&c->cur, &c->eff, c->h.ki);
    if (rc == HX_OK) {
        if (!request_flags_given(o))
            journal_request(c); /* the journal's request keys win over the environment */
        c->h.run.current = hparts_params(&c->cur);
        read_back(c);
        rc = rotp_engine_resume(c->h.eng, &c->entry, &c->h.run, &c->h.res);
        print_outcome(&c->eff, "resume", rc, &c->rep, &c->h.res);
    }
    secret_free(mgmt);
    rcmd_free(c);
    return rc;
}
