/* journal.c - audit events and the crash journal. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dynbuf.h"
#include "json.h"
#include "timefmt.h"

#define JL_MAX (64u * 1024u)

void now_rfc3339(char *buf, size_t cap)
{
    if (rfc3339_format((int64_t)time(NULL), buf, cap) != 0 && cap > 0)
        buf[0] = '\0';
}

void make_run_id(char out[17])
{
    unsigned char rnd[8];
    size_t got = 0;
    while (got < sizeof(rnd)) {
        ssize_t n = getrandom(rnd + got, sizeof(rnd) - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* getrandom cannot fail on Linux >= 3.17 with a valid buffer; fall back anyway. */
            uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
            memcpy(rnd, &t, sizeof(rnd));
            break;
        }
        got += (size_t)n;
    }
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", rnd[i]);
}

int jl_append(const char *path, const char *line)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "rotp-harness: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t len = strlen(line);
    int rc = 0;
    /* One write per line (O_APPEND makes it atomic with respect to other appenders). */
    char *buf = malloc(len + 1);
    if (buf == NULL) {
        close(fd);
        return -1;
    }
    memcpy(buf, line, len);
    buf[len] = '\n';
    const char *p = buf;
    size_t left = len + 1;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = -1;
            break;
        }
        p += n;
        left -= (size_t)n;
    }
    free(buf);
    if (rc == 0 && fsync(fd) != 0)
        rc = -1;
    if (close(fd) != 0)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "rotp-harness: cannot append to %s: %s\n", path, strerror(errno));
    return rc;
}

/* ,"key":"value" when value is non-NULL and non-empty. */
static int jmember(dynbuf *b, const char *key, const char *value)
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

static int jstart(dynbuf *b, const hjournal *j, const char *type)
{
    char at[32];
    int rc = 0;
    now_rfc3339(at, sizeof(at));
    dynbuf_init(b, JL_MAX);
    rc |= dynbuf_adds(b, "{\"run_id\":");
    rc |= dynbuf_json_cstr(b, j->run_id);
    rc |= dynbuf_adds(b, ",\"type\":");
    rc |= dynbuf_json_cstr(b, type);
    rc |= dynbuf_adds(b, ",\"at\":");
    rc |= dynbuf_json_cstr(b, at);
    return rc;
}

static int jfinish(dynbuf *b, const hjournal *j, int rc)
{
    rc |= dynbuf_adds(b, "}");
    if (rc != 0) {
        fprintf(stderr, "rotp-harness: out of memory writing the journal\n");
        dynbuf_free(b);
        return -1;
    }
    rc = jl_append(j->path, b->data);
    dynbuf_free(b);
    return rc;
}

int journal_run(hjournal *j, const hjrun *r)
{
    dynbuf b;
    int rc;
    if (j->path == NULL)
        return 0;
    rc = jstart(&b, j, "run");
    rc |= jmember(&b, "command", r->command);
    rc |= jmember(&b, "kind", r->kind);
    rc |= jmember(&b, "id", r->id);
    rc |= jmember(&b, "account_id", r->account_id);
    rc |= jmember(&b, "zone_id", r->zone_id);
    rc |= jmember(&b, "strategy", r->strategy);
    if (r->has_grace)
        rc |= dynbuf_printf(&b, ",\"grace_seconds\":%ld", r->grace);
    rc |= jmember(&b, "probe_url", r->probe_url);
    rc |= jmember(&b, "probe_path", r->probe_path);
    rc |= jmember(&b, "client_id", r->client_id);
    rc |= jmember(&b, "secret_name", r->secret_name);
    if (r->naliases > 0) {
        rc |= dynbuf_adds(&b, ",\"aliases\":[");
        for (int i = 0; i < r->naliases; i++) {
            if (i > 0)
                rc |= dynbuf_adds(&b, ",");
            rc |= dynbuf_json_cstr(&b, r->aliases[i]);
        }
        rc |= dynbuf_adds(&b, "]");
    }
    rc |= jmember(&b, "out", r->out);
    rc |= jmember(&b, "exec", r->exec);
    rc |= jmember(&b, "old_name", r->old_name);
    rc |= jmember(&b, "audit", r->audit);
    return jfinish(&b, j, rc);
}

int journal_intent(hjournal *j, const char *op, const char *kind, const char *id,
                   const char *strategy)
{
    dynbuf b;
    int rc;
    if (j->path == NULL)
        return 0;
    j->step++;
    rc = jstart(&b, j, "intent");
    rc |= dynbuf_printf(&b, ",\"step\":%d", j->step);
    rc |= jmember(&b, "op", op);
    rc |= jmember(&b, "kind", kind);
    rc |= jmember(&b, "id", id);
    rc |= jmember(&b, "strategy", strategy);
    rc |= jmember(&b, "account_id", j->account_id);
    rc |= jmember(&b, "zone_id", j->zone_id);
    rc |= jmember(&b, "secret_name", j->secret_name);
    rc |= jmember(&b, "out", j->out);
    rc |= jmember(&b, "exec", j->exec);
    return jfinish(&b, j, rc);
}

int journal_outcome(hjournal *j, const char *op, const char *status, int32_t code,
                    const char *new_id, const char *client_id, const char *replaced_id,
                    const char *expires_on)
{
    dynbuf b;
    int rc;
    if (j->path == NULL)
        return 0;
    rc = jstart(&b, j, "outcome");
    rc |= dynbuf_printf(&b, ",\"step\":%d", j->step);
    rc |= jmember(&b, "op", op);
    rc |= jmember(&b, "status", status);
    rc |= dynbuf_printf(&b, ",\"code\":%d", (int)code);
    rc |= jmember(&b, "new_id", new_id);
    rc |= jmember(&b, "client_id", client_id);
    rc |= jmember(&b, "replaced_id", replaced_id);
    rc |= jmember(&b, "expires_on", expires_on);
    return jfinish(&b, j, rc);
}

int journal_mark(hjournal *j, const char *mark)
{
    dynbuf b;
    int rc;
    if (j->path == NULL)
        return 0;
    rc = jstart(&b, j, "mark");
    rc |= jmember(&b, "step", mark);
    return jfinish(&b, j, rc);
}

int journal_end(hjournal *j, const char *status, int exit_code)
{
    dynbuf b;
    int rc;
    if (j->path == NULL)
        return 0;
    rc = jstart(&b, j, "end");
    rc |= jmember(&b, "status", status);
    rc |= dynbuf_printf(&b, ",\"code\":%d", exit_code);
    return jfinish(&b, j, rc);
}

/* Copies the string member key of obj into buf (left unchanged when absent). */
static void jcopy(const json_doc *d, int obj, const char *key, char *buf, size_t cap)
{
    int t = json_get(d, obj, key);
    if (t >= 0 && json_is_string(d, t))
        (void)json_strcpy(d, t, buf, cap);
}

static void apply_record(hjstate *st, const json_doc *d)
{
    char type[16] = "", op[16] = "", status[16] = "";
    jcopy(d, 0, "type", type, sizeof(type));
    jcopy(d, 0, "op", op, sizeof(op));
    jcopy(d, 0, "status", status, sizeof(status));

    if (strcmp(type, "intent") == 0) {
        int64_t step = 0;
        int t = json_get(d, 0, "step");
        if (t >= 0 && json_get_int64(d, t, &step) == 0)
            st->last_step = (int)step;
        if (strcmp(op, "roll") == 0) {
            st->roll_intent = true;
            st->roll_outcome = false;
            st->delivered = st->verified = false;
        } else if (strcmp(op, "revoke") == 0) {
            st->revoke_intent = true;
            st->revoke_outcome = false;
        }
    } else if (strcmp(type, "outcome") == 0) {
        if (strcmp(op, "roll") == 0) {
            st->roll_outcome = true;
            snprintf(st->roll_status, sizeof(st->roll_status), "%s", status);
            if (strcmp(status, "ok") == 0) {
                jcopy(d, 0, "new_id", st->new_id, sizeof(st->new_id));
                jcopy(d, 0, "client_id", st->new_client_id, sizeof(st->new_client_id));
                jcopy(d, 0, "replaced_id", st->replaced_id, sizeof(st->replaced_id));
                jcopy(d, 0, "expires_on", st->expires_on, sizeof(st->expires_on));
            }
        } else if (strcmp(op, "revoke") == 0) {
            st->revoke_outcome = true;
            snprintf(st->revoke_status, sizeof(st->revoke_status), "%s", status);
        }
    } else if (strcmp(type, "mark") == 0) {
        char mark[24] = "";
        jcopy(d, 0, "step", mark, sizeof(mark));
        if (strcmp(mark, "delivered") == 0)
            st->delivered = true;
        else if (strcmp(mark, "verified") == 0)
            st->verified = true;
        else if (strcmp(mark, "old_dead") == 0)
            st->old_dead = true;
        else if (strcmp(mark, "overlap") == 0)
            st->overlap = true;
    }
}

static void start_run(hjstate *st, const json_doc *d, const char *run_id)
{
    char last_run[40], last_status[16];
    snprintf(last_run, sizeof(last_run), "%s", st->last_end_run);
    snprintf(last_status, sizeof(last_status), "%s", st->last_end_status);
    memset(st, 0, sizeof(*st));
    snprintf(st->last_end_run, sizeof(st->last_end_run), "%s", last_run);
    snprintf(st->last_end_status, sizeof(st->last_end_status), "%s", last_status);
    st->found = true;
    snprintf(st->run_id, sizeof(st->run_id), "%s", run_id);
    jcopy(d, 0, "command", st->command, sizeof(st->command));
    jcopy(d, 0, "kind", st->kind, sizeof(st->kind));
    jcopy(d, 0, "id", st->id, sizeof(st->id));
    jcopy(d, 0, "account_id", st->account_id, sizeof(st->account_id));
    jcopy(d, 0, "zone_id", st->zone_id, sizeof(st->zone_id));
    jcopy(d, 0, "strategy", st->strategy, sizeof(st->strategy));
    int t = json_get(d, 0, "grace_seconds");
    int64_t g = 0;
    if (t >= 0 && json_get_int64(d, t, &g) == 0) {
        st->has_grace = true;
        st->grace = (long)g;
    }
    jcopy(d, 0, "probe_url", st->probe_url, sizeof(st->probe_url));
    jcopy(d, 0, "probe_path", st->probe_path, sizeof(st->probe_path));
    jcopy(d, 0, "client_id", st->client_id, sizeof(st->client_id));
    jcopy(d, 0, "secret_name", st->secret_name, sizeof(st->secret_name));
    t = json_get(d, 0, "aliases");
    for (int i = 0; t >= 0 && i < 8; i++) {
        int e = json_at(d, t, i);
        if (e < 0)
            break;
        if (json_strcpy(d, e, st->aliases[st->naliases], sizeof(st->aliases[0])) == 0)
            st->naliases++;
    }
    jcopy(d, 0, "out", st->out, sizeof(st->out));
    jcopy(d, 0, "exec", st->exec, sizeof(st->exec));
    jcopy(d, 0, "old_name", st->old_name, sizeof(st->old_name));
    jcopy(d, 0, "audit", st->audit, sizeof(st->audit));
}

int journal_load(const char *path, hjstate *st)
{
    FILE *f = fopen(path, "re");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0;
    int rc = HX_OK;
    struct stat sb;

    memset(st, 0, sizeof(*st));
    if (f == NULL) {
        /* No such file (or no such directory): no run ever wrote this journal. A run creates it
         * with its first record, which comes after the pre-checks and before any change. */
        if (errno == ENOENT) {
            st->absent = true;
            return HX_OK;
        }
        fprintf(stderr, "rotp-harness: cannot open journal %s: %s\n", path, strerror(errno));
        return HX_USAGE;
    }
    /* fopen for reading succeeds on a directory (getline then fails): only a regular file can
     * be a journal. */
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fprintf(stderr, "rotp-harness: journal %s is not a regular file\n", path);
        fclose(f);
        return HX_USAGE;
    }
    while ((n = getline(&line, &cap, f)) >= 0) {
        json_doc d;
        char run_id[40] = "", type[16] = "";
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        if (json_parse(&d, line, (size_t)n) != JSON_OK || !json_is_object(&d, 0)) {
            /* A torn last line (crash mid-append) is ignored; anything else is an error. */
            if (fgetc(f) == EOF)
                break;
            fprintf(stderr, "rotp-harness: journal %s line %d is not a JSON object\n", path,
                    lineno);
            rc = HX_OTHER;
            break;
        }
        jcopy(&d, 0, "run_id", run_id, sizeof(run_id));
        jcopy(&d, 0, "type", type, sizeof(type));
        if (strcmp(type, "run") == 0) {
            start_run(st, &d, run_id);
        } else if (st->found && strcmp(run_id, st->run_id) == 0) {
            if (strcmp(type, "end") == 0) {
                snprintf(st->last_end_run, sizeof(st->last_end_run), "%s", st->run_id);
                jcopy(&d, 0, "status", st->last_end_status, sizeof(st->last_end_status));
                st->found = false;
            } else {
                apply_record(st, &d);
            }
        }
        json_free(&d);
    }
    if (rc == HX_OK && ferror(f)) {
        fprintf(stderr, "rotp-harness: cannot read journal %s: %s\n", path,
                strerror(errno != 0 ? errno : EIO));
        rc = HX_OTHER;
    }
    free(line);
    fclose(f);
    return rc;
}

int audit_event(const hopts *o, const char *action, const haudit *c)
{
    dynbuf b;
    char at[32];
    char user[64] = "";
    int rc = 0;
    const char *actor = o->actor;

    if (o->audit == NULL)
        return 0;
    if (actor == NULL) {
        struct passwd *pw = getpwuid(getuid());
        if (pw != NULL && pw->pw_name != NULL)
            snprintf(user, sizeof(user), "%s", pw->pw_name);
        else
            snprintf(user, sizeof(user), "uid:%u", (unsigned)getuid());
        actor = user;
    }
    now_rfc3339(at, sizeof(at));
    dynbuf_init(&b, JL_MAX);
    rc |= dynbuf_adds(&b, "{\"action\":");
    rc |= dynbuf_json_cstr(&b, action);
    rc |= dynbuf_adds(&b, ",\"actor\":");
    rc |= dynbuf_json_cstr(&b, actor);
    rc |= dynbuf_adds(&b, ",\"at\":");
    rc |= dynbuf_json_cstr(&b, at);
    rc |= dynbuf_adds(&b, ",\"context\":{\"secret_name\":");
    rc |= dynbuf_json_cstr(&b, c->secret_name);
    rc |= dynbuf_adds(&b, ",\"method\":\"programmatic\",\"rotated_at\":");
    rc |= dynbuf_json_cstr(&b, c->rotated_at);
    rc |= jmember(&b, "kind", c->kind);
    rc |= jmember(&b, "token_id", c->token_id);
    rc |= jmember(&b, "old_token_id", c->old_token_id);
    rc |= jmember(&b, "new_token_id", c->new_token_id);
    rc |= jmember(&b, "run_id", c->run_id);
    rc |= jmember(&b, "stage", c->stage);
    rc |= jmember(&b, "error", c->error);
    rc |= jmember(&b, "failed_step", c->failed_step);
    rc |= dynbuf_adds(&b, "}}");
    if (rc != 0) {
        dynbuf_free(&b);
        return -1;
    }
    rc = jl_append(o->audit, b.data);
    dynbuf_free(&b);
    return rc;
}
