/* SPDX-License-Identifier: MIT */
/* jscan.c - reading a journal back: every run in it, in order of first appearance, with what
 * its records say happened (rotp_engine_journal_scan). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "engine_int.h"
#include "json.h"

#define JS_FILE_MAX (64u * 1024u * 1024u)

typedef struct jscan {
    rotp_engine_journal_entry *runs;
    size_t n, cap;
} jscan;

static void jcopy(const json_doc *d, int obj, const char *key, char *buf, size_t cap)
{
    int t = json_get(d, obj, key);
    if (t >= 0 && json_is_string(d, t))
        (void)json_strcpy(d, t, buf, cap);
}

static int64_t jint(const json_doc *d, const char *key, int64_t dflt)
{
    int64_t v = dflt;
    int t = json_get(d, 0, key);
    if (t < 0 || json_get_int64(d, t, &v) != 0)
        return dflt;
    return v;
}

/* Copies the string members of object `key` into kv (at most max). */
static uint32_t jkvs(const json_doc *d, const char *key, rotp_engine_kv *kv, uint32_t max)
{
    uint32_t n = 0;
    int obj = json_get(d, 0, key);
    if (obj < 0 || !json_is_object(d, obj))
        return 0;
    /* An object's members: key token, then its value; walk them with json_skip. */
    int end = json_skip(d, obj);
    for (int t = obj + 1; t < end && n < max;) {
        int v = t + 1;
        if (json_is_string(d, t) && json_is_string(d, v) &&
            json_strcpy(d, t, kv[n].key, sizeof(kv[n].key)) == 0 &&
            json_strcpy(d, v, kv[n].value, sizeof(kv[n].value)) == 0)
            n++;
        t = json_skip(d, v);
    }
    return n;
}

static rotp_engine_journal_entry *find_run(jscan *s, const char *run_id)
{
    for (size_t i = s->n; i > 0; i--) {
        if (strcmp(s->runs[i - 1].run_id, run_id) == 0)
            return &s->runs[i - 1];
    }
    return NULL;
}

static rotp_engine_journal_entry *new_run(jscan *s, const char *run_id)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        void *p = rotp__realloc(s->runs, cap * sizeof(*s->runs));
        if (p == NULL)
            return NULL;
        s->runs = p;
        s->cap = cap;
    }
    rotp_engine_journal_entry *e = &s->runs[s->n++];
    memset(e, 0, sizeof(*e));
    e->struct_size = sizeof(*e);
    e->state = ROTP_ENGINE_JS_UNFINISHED;
    e->overlap_seconds = -1;
    snprintf(e->run_id, sizeof(e->run_id), "%s", run_id);
    return e;
}

static void apply_run(rotp_engine_journal_entry *e, const json_doc *d)
{
    jcopy(d, 0, "command", e->command, sizeof(e->command));
    jcopy(d, 0, "kind", e->kind, sizeof(e->kind));
    jcopy(d, 0, "id", e->id, sizeof(e->id));
    jcopy(d, 0, "name", e->name, sizeof(e->name));
    jcopy(d, 0, "strategy", e->strategy, sizeof(e->strategy));
    jcopy(d, 0, "old_name", e->old_name, sizeof(e->old_name));
    e->overlap_seconds = jint(d, "overlap_seconds", -1);
    e->nrequest = jkvs(d, "request", e->request, ROTP_ENGINE_JOURNAL_MAX_PARAMS);
    e->nhost = jkvs(d, "host", e->host, ROTP_ENGINE_JOURNAL_MAX_PARAMS);
    e->ncurrent = jkvs(d, "current", e->current, 4);
}

static void apply_outcome(rotp_engine_journal_entry *e, const json_doc *d, const char *op,
                          const char *status)
{
    bool ok = strcmp(status, "ok") == 0;
    if (strcmp(op, "roll") == 0) {
        e->marks &=
            ~(ROTP_ENGINE_JM_ROLL_OK | ROTP_ENGINE_JM_ROLL_FAILED | ROTP_ENGINE_JM_ROLL_UNKNOWN);
        e->marks |= ok                               ? ROTP_ENGINE_JM_ROLL_OK
                    : strcmp(status, "unknown") == 0 ? ROTP_ENGINE_JM_ROLL_UNKNOWN
                                                     : ROTP_ENGINE_JM_ROLL_FAILED;
        if (ok) {
            jcopy(d, 0, "new_id", e->new_id, sizeof(e->new_id));
            jcopy(d, 0, "replaced_id", e->replaced_id, sizeof(e->replaced_id));
            jcopy(d, 0, "expires_at", e->expires_at, sizeof(e->expires_at));
            e->nnew = jkvs(d, "fresh", e->fresh, 4);
        }
    } else if (strcmp(op, "revoke") == 0 && ok) {
        e->marks |= ROTP_ENGINE_JM_REVOKE_OK;
    }
}

static void apply_record(rotp_engine_journal_entry *e, const json_doc *d, const char *type)
{
    char op[16] = "", status[16] = "";
    jcopy(d, 0, "op", op, sizeof(op));
    jcopy(d, 0, "status", status, sizeof(status));
    snprintf(e->last_record, sizeof(e->last_record), "%s", type);
    if (strcmp(type, "intent") == 0) {
        e->last_seq = (int)jint(d, "step", e->last_seq);
        if (strcmp(op, "roll") == 0) {
            e->marks |= ROTP_ENGINE_JM_ROLL_INTENT;
            e->marks &=
                ~(ROTP_ENGINE_JM_ROLL_OK | ROTP_ENGINE_JM_ROLL_FAILED |
                  ROTP_ENGINE_JM_ROLL_UNKNOWN | ROTP_ENGINE_JM_DELIVERED | ROTP_ENGINE_JM_VERIFIED);
        } else if (strcmp(op, "revoke") == 0) {
            e->marks |= ROTP_ENGINE_JM_REVOKE_INTENT;
            e->marks &= ~ROTP_ENGINE_JM_REVOKE_OK;
        }
    } else if (strcmp(type, "outcome") == 0) {
        apply_outcome(e, d, op, status);
    } else if (strcmp(type, "mark") == 0) {
        char mark[24] = "";
        jcopy(d, 0, "step", mark, sizeof(mark));
        if (strcmp(mark, "delivered") == 0)
            e->marks |= ROTP_ENGINE_JM_DELIVERED;
        else if (strcmp(mark, "verified") == 0)
            e->marks |= ROTP_ENGINE_JM_VERIFIED;
        else if (strcmp(mark, "old_dead") == 0)
            e->marks |= ROTP_ENGINE_JM_OLD_DEAD;
        else if (strcmp(mark, "overlap") == 0)
            e->marks |= ROTP_ENGINE_JM_OVERLAP;
    } else if (strcmp(type, "end") == 0) {
        e->state = ROTP_ENGINE_JS_FINISHED;
        snprintf(e->end_status, sizeof(e->end_status), "%s", status);
        e->end_code = (int32_t)jint(d, "code", 0);
    }
}

/* One line; 0, or -1 when it is not a journal record. */
static int scan_line(jscan *s, const char *line, size_t len, uint64_t lineno)
{
    json_doc d;
    char run_id[ROTP_ENGINE_RUN_ID_MAX + 1] = "", type[16] = "";
    if (json_parse(&d, line, len) != JSON_OK)
        return -1;
    if (!json_is_object(&d, 0)) {
        json_free(&d);
        return -1;
    }
    jcopy(&d, 0, "run_id", run_id, sizeof(run_id));
    jcopy(&d, 0, "type", type, sizeof(type));
    rotp_engine_journal_entry *e = find_run(s, run_id);
    if (strcmp(type, "run") == 0) {
        /* A run record starts the run (again, for a second attempt under the same id). */
        e = new_run(s, run_id);
        if (e == NULL) {
            json_free(&d);
            return -2;
        }
        e->first_line = lineno;
        apply_run(e, &d);
    } else if (e != NULL) {
        apply_record(e, &d, type);
    }
    if (e != NULL)
        e->last_line = lineno;
    json_free(&d);
    return 0;
}

int32_t rotp_engine_journal_scan_text(const char *text, size_t len, rotp_engine_journal_fn cb,
                                      void *user, char *msg, size_t msg_cap)
{
    jscan s = {NULL, 0, 0};
    int32_t rc = ROTP_ENGINE_OK;
    uint64_t lineno = 0;
    size_t pos = 0;

    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        size_t n = end - pos;
        lineno++;
        while (n > 0 && (text[pos + n - 1] == '\r'))
            n--;
        if (n > 0) {
            int lr = scan_line(&s, text + pos, n, lineno);
            bool last = nl == NULL || end + 1 >= len;
            if (lr == -2) {
                snprintf(msg, msg_cap, "out of memory reading the journal");
                rc = ROTP_ENGINE_OTHER_FAILURE;
                break;
            }
            if (lr != 0 && !last) { /* a torn last line (crash mid-append) is ignored */
                snprintf(msg, msg_cap, "line %llu is not a JSON object",
                         (unsigned long long)lineno);
                rc = ROTP_ENGINE_OTHER_FAILURE;
                break;
            }
        }
        pos = end + 1;
    }
    for (size_t i = 0; rc == ROTP_ENGINE_OK && cb != NULL && i < s.n; i++) {
        /* Later run records with the same id replace earlier ones: report the latest only. */
        bool later = false;
        for (size_t j = i + 1; j < s.n && !later; j++)
            later = strcmp(s.runs[j].run_id, s.runs[i].run_id) == 0;
        if (!later && cb(user, &s.runs[i]) != 0)
            break;
    }
    rotp__free(s.runs);
    return rc;
}

static int32_t read_all(int fd, const char *path, char **out, size_t *len, char *msg, size_t cap)
{
    size_t size = 0, bcap = 64 * 1024;
    char *buf = rotp__malloc(bcap);
    if (buf == NULL) {
        snprintf(msg, cap, "out of memory");
        return ROTP_ENGINE_OTHER_FAILURE;
    }
    for (;;) {
        if (size == bcap) {
            char *nb = bcap >= JS_FILE_MAX ? NULL : rotp__realloc(buf, bcap * 2);
            if (nb == NULL) {
                rotp__free(buf);
                snprintf(msg, cap, "journal %s is too large", path);
                return ROTP_ENGINE_OTHER_FAILURE;
            }
            buf = nb;
            bcap *= 2;
        }
        ssize_t n = read(fd, buf + size, bcap - size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(msg, cap, "cannot read journal %s: %s", path, strerror(errno));
            rotp__free(buf);
            return ROTP_ENGINE_OTHER_FAILURE;
        }
        if (n == 0)
            break;
        size += (size_t)n;
    }
    *out = buf;
    *len = size;
    return ROTP_ENGINE_OK;
}

int32_t rotp_engine_journal_scan(const char *path, rotp_engine_journal_fn cb, void *user, char *msg,
                                 size_t msg_cap)
{
    char dummy[8];
    struct stat sb;
    char *text = NULL;
    size_t len = 0;
    int32_t rc;
    int fd;

    if (msg == NULL) {
        msg = dummy;
        msg_cap = sizeof(dummy);
    }
    msg[0] = '\0';
    if (path == NULL) {
        snprintf(msg, msg_cap, "no journal path");
        return ROTP_ENGINE_USAGE;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return ROTP_ENGINE_OK; /* no run ever wrote it: nothing to resume */
        snprintf(msg, msg_cap, "cannot open journal %s: %s", path, strerror(errno));
        return ROTP_ENGINE_USAGE;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        snprintf(msg, msg_cap, "journal %s is not a regular file", path);
        close(fd);
        return ROTP_ENGINE_USAGE;
    }
    rc = read_all(fd, path, &text, &len, msg, msg_cap);
    close(fd);
    if (rc != ROTP_ENGINE_OK)
        return rc;
    rc = rotp_engine_journal_scan_text(text, len, cb, user, msg, msg_cap);
    if (rc != ROTP_ENGINE_OK && strncmp(msg, "line ", 5) == 0) {
        char tmp[256];
        snprintf(tmp, sizeof(tmp), "%s", msg);
        snprintf(msg, msg_cap, "journal %s %s", path, tmp);
    }
    rotp__free(text);
    return rc;
}
