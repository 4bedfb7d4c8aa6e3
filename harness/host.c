/* SPDX-License-Identifier: MIT */
/* host.c - the harness's engine host: callbacks and the run from the command line. */
#include "host.h"

#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "sinks.h"

const rotp_kind_info *hhost_kind(const hprov *hp, const char *kind)
{
    const rotp_provider *p = hp->p;
    if (kind != NULL && ROTP_HAS_FIELD(p, rotp_provider, kind_info) && p->kind_info != NULL) {
        for (size_t i = 0; p->kind_info[i] != NULL; i++) {
            if (p->kind_info[i]->kind != NULL && strcmp(p->kind_info[i]->kind, kind) == 0)
                return p->kind_info[i];
        }
    }
    fprintf(stderr, "rotp-harness: provider %s has no kind '%s' (see `rotp-harness info`)\n",
            p->name ? p->name : "?", kind ? kind : "");
    return NULL;
}

/* A checkpoint: in the kill-point build (tests), SIGKILL at the Nth one when
 * $ROTP_HARNESS_KILL_AT=N. In the normal build nothing happens. */
static void kill_point(hhost *h)
{
#ifdef ROTP_HARNESS_KILLPOINTS
    h->ncheck++;
    if (h->kill_at > 0 && h->ncheck == (uint64_t)h->kill_at) {
        fflush(NULL);
        kill(getpid(), SIGKILL);
    }
#else
    (void)h;
#endif
}

static void cb_checkpoint(void *user, uint32_t point, uint64_t n, const char *run_id)
{
    (void)point;
    (void)n;
    (void)run_id;
    kill_point(user);
}

static void sink_checkpoint(void *user, uint32_t point)
{
    (void)point;
    kill_point(user);
}

static int32_t cb_deliver(void *user, const rotp_engine_secret *s, char *where, size_t where_cap,
                          char *msg, size_t msg_cap)
{
    hhost *h = user;
    sinks_cp cp = {sink_checkpoint, h};
    if (sinks_deliver(h->o, h->hp->p, s, &cp, where, where_cap) != HX_OK) {
        snprintf(msg, msg_cap, "see the message above");
        return ROTP_ENGINE_SINK_FAILED;
    }
    return ROTP_ENGINE_OK;
}

static int32_t cb_preflight(void *user, const char *run_id, char *msg, size_t msg_cap)
{
    hhost *h = user;
    const hopts *o = h->o;
    (void)run_id;
    if (!sinks_any(o))
        return ROTP_ENGINE_OK;
    if (sinks_preflight(o) != 0) {
        snprintf(msg, msg_cap, "see stderr");
        return ROTP_ENGINE_SINK_FAILED;
    }
    snprintf(msg, msg_cap, "%s%s%s%s", o->out ? "out " : "", o->out ? o->out : "",
             o->exec ? (o->out ? ", exec" : "exec") : "",
             o->print_secret ? (o->out || o->exec ? ", stdout" : "stdout") : "");
    return ROTP_ENGINE_OK;
}

static int append(const hopts *o, const char *path, const char *line, size_t len)
{
    char msg[2 * PATH_MAX + 256];
    uint32_t flags = o->allow_unsafe_secret_files ? ROTP_ENGINE_FILE_ALLOW_UNSAFE : 0;
    if (rotp_engine_append_line(path, line, len, flags, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "rotp-harness: %s%s\n", msg,
                strstr(msg, "fix:") != NULL ? " (or --allow-unsafe-secret-files)" : "");
        return -1;
    }
    return 0;
}

static int cb_journal(void *user, const char *record, size_t len)
{
    hhost *h = user;
    return append(h->o, h->o->journal, record, len);
}

static int cb_audit(void *user, const char *event, size_t len)
{
    hhost *h = user;
    return append(h->o, h->o->audit, event, len);
}

/* On a terminal (stderr, not --json): say what the engine waits for, and that a long step is
 * still running. */
static void show_wait(const hhost *h, const rotp_engine_event *ev)
{
    static const char *const reason[] = {"", "rate limited", "verify retry", "transient failure"};
    if (h->o->json || !isatty(STDERR_FILENO))
        return;
    if (ev->type == ROTP_ENGINE_EV_WAIT && ev->ms >= 200)
        fprintf(stderr, "  ...  waiting %.1f s (%s): %s\n", (double)ev->ms / 1000.0,
                reason[ev->wait_reason < 4 ? ev->wait_reason : 0], ev->detail);
}

static void cb_progress(void *user, const rotp_engine_event *ev)
{
    hhost *h = user;
    show_wait(h, ev);
    if (ev->type != ROTP_ENGINE_EV_STEP_END || h->rep == NULL)
        return;
    char flags[300] = "";
    if (ev->step_status == ROTP_ENGINE_STEP_FAIL)
        hreq_name_flags(h->o, ev->detail, flags, sizeof(flags)); /* the options as typed */
    if (flags[0] != '\0') {
        report_step(h->rep, ev->step, HSTEP_FAIL, (long)ev->ms, ev->status, "%s%s", ev->detail,
                    flags);
        return;
    }
    if (ev->step_status == ROTP_ENGINE_STEP_FAIL && strstr(ev->detail, "TLS:") != NULL) {
        report_step(h->rep, ev->step, HSTEP_FAIL, (long)ev->ms, ev->status, "%s (%s)", ev->detail,
                    out_tls_hint());
        return;
    }
    report_step(h->rep, ev->step,
                ev->step_status == ROTP_ENGINE_STEP_PASS   ? HSTEP_PASS
                : ev->step_status == ROTP_ENGINE_STEP_SKIP ? HSTEP_SKIP
                                                           : HSTEP_FAIL,
                (long)ev->ms, ev->status, "%s", ev->detail);
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

static const char *nz(const char *s)
{
    return s != NULL ? s : "";
}

/* What resume needs to deliver again the way this run did. */
static void host_record(hhost *h)
{
    const hopts *o = h->o;
    size_t n = 0;
    hreq_init(&h->rec);
    hreq_add(&h->rec, "secret_name", o->secret_name ? o->secret_name : "");
    for (int i = 0; i < o->naliases && n < sizeof(h->aliases); i++)
        n += (size_t)snprintf(h->aliases + n, sizeof(h->aliases) - n, "%s%s", i ? "," : "",
                              o->aliases[i]);
    hreq_add(&h->rec, "aliases", h->aliases);
    hreq_add(&h->rec, "out", nz(abs_path(o->out, h->out_abs, sizeof(h->out_abs))));
    hreq_add(&h->rec, "exec", o->exec ? o->exec : "");
    hreq_add(&h->rec, "audit", nz(abs_path(o->audit, h->audit_abs, sizeof(h->audit_abs))));
    /* empty values are not records */
    for (uint32_t i = 0; i < h->rec.count;) {
        if (h->rec.items[i].value_len == 0)
            h->rec.items[i] = h->rec.items[--h->rec.count];
        else
            i++;
    }
    h->recp = hreq_params(&h->rec);
}

static void actor(hhost *h)
{
    if (h->o->actor != NULL) {
        snprintf(h->actor, sizeof(h->actor), "%s", h->o->actor);
        return;
    }
    struct passwd *pw = getpwuid(getuid());
    if (pw != NULL && pw->pw_name != NULL)
        snprintf(h->actor, sizeof(h->actor), "%s", pw->pw_name);
    else
        snprintf(h->actor, sizeof(h->actor), "uid:%u", (unsigned)getuid());
}

static void build_run(hhost *h)
{
    const hopts *o = h->o;
    rotp_engine_run *r = &h->run;
    rotp_engine_run_init(r);
    r->kind = h->ki->kind;
    r->id = o->id;
    r->name = o->secret_name;
    r->run_id = o->run_id;
    r->strategy = o->strategy;
    r->overlap_seconds = o->has_grace ? o->grace : -1;
    r->flags = o->dry_run ? ROTP_ENGINE_RUN_DRY_RUN : 0;
    r->flags |= o->keep ? ROTP_ENGINE_RUN_KEEP : 0;
    r->request = &h->reqp;
    r->host_record = &h->recp;
    r->actor = h->actor;
    r->verify_tries = o->verify_tries > 0 ? (uint32_t)o->verify_tries : 5;
    r->verify_delay_ms = o->verify_delay_ms > 0 ? (uint32_t)o->verify_delay_ms : 1;
}

int hhost_open(hhost *h, hprov *hp, const hopts *o, hreport *rep, const char *kind)
{
    char msg[512];
    memset(h, 0, sizeof(*h));
    h->o = o;
    h->rep = rep;
    h->hp = hp;
    h->ki = hhost_kind(hp, kind);
    if (h->ki == NULL)
        return HX_USAGE;
    h->host.struct_size = sizeof(h->host);
    h->host.user = h;
    h->host.deliver = cb_deliver;
    h->host.preflight = cb_preflight;
    h->host.journal = o->journal != NULL ? cb_journal : NULL;
    h->host.audit = o->audit != NULL ? cb_audit : NULL;
    h->host.progress = cb_progress;
    h->host.checkpoint = cb_checkpoint;
#ifdef ROTP_HARNESS_KILLPOINTS
    h->kill_at = getenv("ROTP_HARNESS_KILL_AT") ? atol(getenv("ROTP_HARNESS_KILL_AT")) : 0;
#endif
    if (rotp_engine_new(hp->p, hp->inst, &h->host, &h->eng, msg, sizeof(msg)) != ROTP_ENGINE_OK) {
        fprintf(stderr, "rotp-harness: %s\n", msg);
        return HX_LOAD;
    }
    hreq_init(&h->req);
    if (hreq_add_opts(&h->req, o, h->ki, true) != 0)
        return HX_USAGE;
    h->reqp = hreq_params(&h->req);
    host_record(h);
    actor(h);
    build_run(h);
    return HX_OK;
}

void hhost_close(hhost *h)
{
    if (h == NULL)
        return;
    rotp_engine_free(h->eng);
    h->eng = NULL;
    hparts_clear(&h->current);
    hparts_clear(&h->delivered);
}
