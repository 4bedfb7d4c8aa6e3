/* SPDX-License-Identifier: MIT */
/* journal.c - the crash journal's records (JSON lines, one run id each, never a secret), reading
 * a journal back (every run in it with its state), audit events, and a file appender for hosts.
 *
 * Records: {"run_id","type","at",...}
 *   run     command, kind, id, name, strategy, overlap_seconds, old_name, request{}, host{},
 *           current{} (non-secret parts of the current secret)
 *   intent  step, op, kind, id, strategy          (before a state-changing call)
 *   outcome step, op, status ok|error|unknown, code, new_id, replaced_id, expires_at, fresh{}
 *   mark    step: delivered | verified | old_dead | overlap
 *   end     status completed|overlap|failed, code */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "dynbuf.h"
#include "engine_int.h"
#include "json.h"
#include "timefmt.h"

#define EJ_MAX      (64u * 1024u)
#define EJ_FILE_MAX (64u * 1024u * 1024u)

/* ---- writing ----------------------------------------------------------------------------- */

static int jm(dynbuf *b, const char *key, const char *value)
{
    int rc = 0;
    if (value == NULL || value[0] == '\0')
        return 0;
    rc |= dynbuf_adds(b, ",");
    rc |= dynbuf_json_cstr(b, key);
    rc |= dynbuf_adds(b, ":");
    rc |= dynbuf_json_cstr(b, value);
    return rc;
}

/* ,"name":{k:v,...} of the non-secret items of p (nothing when none). */
static int jparams(dynbuf *b, const char *name, const rotp_params *p)
{
    int rc = 0, n = 0;
    for (uint32_t i = 0;; i++) {
        const rotp_param *q = params_at(p, i);
        if (q == NULL)
            break;
        if ((q->flags & ROTP_PARAM_SECRET) || q->key == NULL || q->value == NULL)
            continue;
        rc |= dynbuf_printf(b, n++ == 0 ? ",\"%s\":{" : ",", name);
        rc |= dynbuf_json_cstr(b, q->key);
        rc |= dynbuf_adds(b, ":");
        rc |= dynbuf_json_str(b, q->value, (size_t)q->value_len);
    }
    if (n > 0)
        rc |= dynbuf_adds(b, "}");
    return rc;
}

/* ,"name":{part:value} of the non-secret parts in p. */
static int jparts(dynbuf *b, const char *name, const eparts *p)
{
    int rc = 0, n = 0;
    for (uint32_t i = 0; i < p->n; i++) {
        if (p->secret[i] || p->val[i] == NULL)
            continue;
        rc |= dynbuf_printf(b, n++ == 0 ? ",\"%s\":{" : ",", name);
        rc |= dynbuf_json_cstr(b, p->key[i]);
        rc |= dynbuf_adds(b, ":");
        rc |= dynbuf_json_str(b, p->val[i]->data, p->val[i]->len);
    }
    if (n > 0)
        rc |= dynbuf_adds(b, "}");
    return rc;
}

static int jstart(dynbuf *b, const erun *c, const char *type)
{
    char at[32];
    int rc = 0;
    eng_now_rfc3339(at, sizeof(at));
    dynbuf_init(b, EJ_MAX);
    rc |= dynbuf_adds(b, "{\"run_id\":");
    rc |= dynbuf_json_cstr(b, c->run_id);
    rc |= dynbuf_adds(b, ",\"type\":");
    rc |= dynbuf_json_cstr(b, type);
    rc |= dynbuf_adds(b, ",\"at\":");
    rc |= dynbuf_json_cstr(b, at);
    return rc;
}

int ej_emit(erun *c, const char *record, size_t len)
{
    if (c->e->host.journal == NULL || c->quiet)
        return 0;
    int rc = c->e->host.journal(c->e->host.user, record, len);
    if (rc == 0)
        eng_checkpoint(c, ROTP_ENGINE_CP_JOURNAL);
    return rc;
}

static int jfinish(dynbuf *b, erun *c, int rc)
{
    rc |= dynbuf_adds(b, "}");
    if (rc != 0) {
        dynbuf_free(b);
        return -1;
    }
    rc = ej_emit(c, b->data, b->len);
    dynbuf_free(b);
    return rc;
}

int ej_run(erun *c, const char *command)
{
    dynbuf b;
    int rc;
    if (c->e->host.journal == NULL || c->quiet)
        return 0;
    rc = jstart(&b, c, "run");
    rc |= jm(&b, "command", command);
    rc |= jm(&b, "kind", c->run->kind);
    rc |= jm(&b, "id", c->run->id);
    rc |= jm(&b, "name", c->run->name);
    rc |= jm(&b, "strategy", c->strat != NULL ? c->strat->name : NULL);
    if (c->run->overlap_seconds >= 0)
        rc |= dynbuf_printf(&b, ",\"overlap_seconds\":%lld", (long long)c->run->overlap_seconds);
    rc |= jm(&b, "old_name", c->old_name);
    rc |= jparams(&b, "request", c->run->request);
    rc |= jparams(&b, "host", c->run->host_record);
    rc |= jparts(&b, "current", &c->current);
    return jfinish(&b, c, rc);
}

int ej_intent(erun *c, const char *op, const char *id)
{
    dynbuf b;
    int rc;
    if (c->e->host.journal == NULL || c->quiet)
        return 0;
    c->jstep++;
    rc = jstart(&b, c, "intent");
    rc |= dynbuf_printf(&b, ",\"step\":%d", c->jstep);
    rc |= jm(&b, "op", op);
    rc |= jm(&b, "kind", c->run->kind);
    rc |= jm(&b, "id", id);
    rc |= jm(&b, "strategy", c->strat != NULL ? c->strat->name : NULL);
    return jfinish(&b, c, rc);
}

int ej_outcome(erun *c, const char *op, const char *status, int32_t code, const char *new_id,
               const char *replaced_id, const char *expires)
{
    dynbuf b;
    int rc;
    if (c->e->host.journal == NULL || c->quiet)
        return 0;
    rc = jstart(&b, c, "outcome");
    rc |= dynbuf_printf(&b, ",\"step\":%d", c->jstep);
    rc |= jm(&b, "op", op);
    rc |= jm(&b, "status", status);
    rc |= dynbuf_printf(&b, ",\"code\":%d", (int)code);
    rc |= jm(&b, "new_id", new_id);
    rc |= jm(&b, "replaced_id", replaced_id);
    rc |= jm(&b, "expires_at", expires);
    if (new_id != NULL)
        rc |= jparts(&b, "fresh", &c->fresh);
    return jfinish(&b, c, rc);
}

int ej_mark(erun *c, const char *mark)
{
    dynbuf b;
    int rc;
    if (c->e->host.journal == NULL || c->quiet)
        return 0;
    rc = jstart(&b, c, "mark");
    rc |= jm(&b, "step", mark);
    return jfinish(&b, c, rc);
}

int ej_end(erun *c, const char *status, int32_t code)
{
    dynbuf b;
    int rc;
    if (c->e->host.journal == NULL || c->quiet)
        return 0;
    rc = jstart(&b, c, "end");
    rc |= jm(&b, "status", status);
    rc |= dynbuf_printf(&b, ",\"code\":%d", (int)code);
    return jfinish(&b, c, rc);
}

void eng_audit(erun *c, const char *action, const char *stage, const char *error,
               const char *failed_step)
{
    dynbuf b;
    char at[32], name[256];
    int rc = 0;
    const rotp_engine_result *r = c->res;
    bool moved = r->new_id[0] && c->run->id && strcmp(r->new_id, c->run->id) != 0;

    if (c->e->host.audit == NULL || c->quiet)
        return;
    if (c->run->name != NULL && c->run->name[0] != '\0')
        snprintf(name, sizeof(name), "%s", c->run->name);
    else
        snprintf(name, sizeof(name), "%s:%s", c->run->kind, c->run->id ? c->run->id : "");
    eng_now_rfc3339(at, sizeof(at));
    dynbuf_init(&b, EJ_MAX);
    rc |= dynbuf_adds(&b, "{\"action\":");
    rc |= dynbuf_json_cstr(&b, action);
    rc |= dynbuf_adds(&b, ",\"actor\":");
    rc |= dynbuf_json_cstr(&b, c->run->actor != NULL ? c->run->actor : "rotp-engine");
    rc |= dynbuf_adds(&b, ",\"at\":");
    rc |= dynbuf_json_cstr(&b, at);
    rc |= dynbuf_adds(&b, ",\"context\":{\"secret_name\":");
    rc |= dynbuf_json_cstr(&b, name);
    rc |= dynbuf_adds(&b, ",\"method\":\"programmatic\",\"rotated_at\":");
    rc |= dynbuf_json_cstr(&b, r->rolled_at[0] ? r->rolled_at : NULL);
    rc |= jm(&b, "kind", c->run->kind);
    rc |= jm(&b, "token_id", moved ? NULL : c->run->id);
    rc |= jm(&b, "old_token_id", moved ? c->run->id : NULL);
    rc |= jm(&b, "new_token_id", moved ? r->new_id : NULL);
    rc |= jm(&b, "run_id", c->run_id);
    rc |= jm(&b, "stage", stage);
    rc |= jm(&b, "error", error);
    rc |= jm(&b, "failed_step", failed_step);
    rc |= dynbuf_adds(&b, "}}");
    if (rc == 0)
        (void)c->e->host.audit(c->e->host.user, b.data, b.len);
    dynbuf_free(&b);
}

/* ---- the file appender ------------------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Why the open file fd at path (or its directory) lets another user change it, or NULL. */
static const char *unsafe_why(int fd, const char *path, char *fix, size_t cap)
{
    struct stat st, dst;
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(fix, cap, "give a regular file");
        return "is not a regular file";
    }
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        snprintf(fix, cap, "use a file of your own");
        return "is owned by another user";
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(fix, cap, "chmod 600 %s", path);
        return "can be written by others";
    }
    snprintf(dir, sizeof(dir), "%.*s",
             slash == NULL ? 1 : (slash == path ? 1 : (int)(slash - path)),
             slash == NULL ? "." : path);
    if (stat(dir, &dst) != 0)
        return NULL;
    if ((dst.st_uid != geteuid() && dst.st_uid != 0) ||
        ((dst.st_mode & (S_IWGRP | S_IWOTH)) && !(dst.st_mode & S_ISVTX))) {
        snprintf(fix, cap, "keep it in a directory only you can write (chmod 700 %s)", dir);
        return "is in a directory others can write";
    }
    return NULL;
}

int rotp_engine_file_check(const char *path, uint32_t flags, char *msg, size_t msg_cap)
{
    char fix[4200];
    int fd;
    const char *why;
    if (path == NULL)
        return -1;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        if (msg != NULL)
            snprintf(msg, msg_cap, "%s %s", path,
                     errno == ELOOP ? "is a symbolic link: refused" : strerror(errno));
        return errno == ELOOP ? 1 : -1;
    }
    why = (flags & ROTP_ENGINE_FILE_ALLOW_UNSAFE) ? NULL : unsafe_why(fd, path, fix, sizeof(fix));
    close(fd);
    if (why != NULL && msg != NULL)
        snprintf(msg, msg_cap, "%s %s; fix: %s", path, why, fix);
    return why != NULL ? 1 : 0;
}

int rotp_engine_append_line(const char *path, const char *line, size_t len, uint32_t flags,
                            char *msg, size_t msg_cap)
{
    int fd, rc = 0;
    char *buf;
    char fix[4200];
    const char *why;
    if (path == NULL || line == NULL) {
        if (msg != NULL)
            snprintf(msg, msg_cap, "no path or line");
        return -1;
    }
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        if (msg != NULL)
            snprintf(msg, msg_cap, "cannot open %s: %s", path,
                     errno == ELOOP ? "it is a symbolic link (refused)" : strerror(errno));
        return -1;
    }
    why = (flags & ROTP_ENGINE_FILE_ALLOW_UNSAFE) ? NULL : unsafe_why(fd, path, fix, sizeof(fix));
    if (why != NULL) {
        if (msg != NULL)
            snprintf(msg, msg_cap, "refusing to append to %s: it %s; fix: %s", path, why, fix);
        close(fd);
        return -1;
    }
    /* One write per line (O_APPEND makes it atomic with respect to other appenders). */
    buf = rotp__malloc(len + 1);
    if (buf == NULL) {
        close(fd);
        if (msg != NULL)
            snprintf(msg, msg_cap, "out of memory");
        return -1;
    }
    memcpy(buf, line, len);
    buf[len] = '\n';
    if (write_all(fd, buf, len + 1) != 0 || fsync(fd) != 0)
        rc = -1;
    rotp__free(buf);
    if (close(fd) != 0)
        rc = -1;
    if (rc != 0 && msg != NULL)
        snprintf(msg, msg_cap, "cannot append to %s: %s", path, strerror(errno));
    return rc;
}
