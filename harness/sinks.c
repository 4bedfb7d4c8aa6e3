/* SPDX-License-Identifier: MIT */
/* sinks.c - delivering a new secret. */
#include "sinks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

bool sinks_any(const hopts *o)
{
    return o->out != NULL || o->exec != NULL || o->print_secret;
}

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

int sinks_preflight(const hopts *o)
{
    if (o->out != NULL) {
        char dcopy[PATH_MAX], probe[PATH_MAX + 32];
        struct stat st;
        if (strlen(o->out) >= sizeof(dcopy) || o->out[0] == '\0') {
            fprintf(stderr, "rotp-harness: --out: bad path\n");
            return -1;
        }
        if (stat(o->out, &st) == 0 && S_ISDIR(st.st_mode)) {
            fprintf(stderr, "rotp-harness: --out %s is a directory\n", o->out);
            return -1;
        }
        snprintf(dcopy, sizeof(dcopy), "%s", o->out);
        const char *dir = dirname(dcopy);
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "rotp-harness: --out %s: directory %s does not exist\n", o->out, dir);
            return -1;
        }
        if (snprintf(probe, sizeof(probe), "%s/.rotp-probe-XXXXXX", dir) >= (int)sizeof(probe)) {
            fprintf(stderr, "rotp-harness: --out: path too long\n");
            return -1;
        }
        int fd = mkostemp(probe, O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "rotp-harness: --out %s: cannot create files in %s: %s\n", o->out, dir,
                    strerror(errno));
            return -1;
        }
        close(fd);
        unlink(probe);
    }
    if (o->exec != NULL && access("/bin/sh", X_OK) != 0) {
        fprintf(stderr, "rotp-harness: --exec needs /bin/sh: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

static void checkpoint(const sinks_cp *cp, uint32_t point)
{
    if (cp != NULL && cp->fn != NULL)
        cp->fn(cp->user, point);
}

/* Removes temporary files an earlier attempt of run_id left beside path (a killed run). */
static void remove_stale_temps(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[PATH_MAX + 300];
    size_t n = strlen(prefix);
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, n) != 0 || strlen(e->d_name) != n + 6)
            continue;
        if (snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) < (int)sizeof(p))
            (void)unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

int sinks_write_file(const char *path, const char *run_id, const sinks_cp *cp, const char *data,
                     size_t len)
{
    char dcopy[PATH_MAX], bcopy[PATH_MAX], tmp[PATH_MAX + 96], prefix[PATH_MAX + 64];
    int fd = -1, dfd = -1, rc = -1;
    bool tmp_made = false;

    if (strlen(path) >= sizeof(dcopy)) {
        fprintf(stderr, "rotp-harness: --out path too long\n");
        return -1;
    }
    snprintf(dcopy, sizeof(dcopy), "%s", path);
    snprintf(bcopy, sizeof(bcopy), "%s", path);
    const char *dir = dirname(dcopy);
    const char *base = basename(bcopy);
    /* .NAME.rotp-<run id>-XXXXXX: a resumed run finds (and removes) what a killed one left */
    snprintf(prefix, sizeof(prefix), ".%s.rotp-%s-", base, run_id != NULL ? run_id : "");
    remove_stale_temps(dir, prefix);
    snprintf(tmp, sizeof(tmp), "%s/%sXXXXXX", dir, prefix);
    /* mkostemp: O_CREAT|O_EXCL, mode 0600. */
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "rotp-harness: cannot create a temporary file beside %s: %s\n", path,
                strerror(errno));
        goto out;
    }
    tmp_made = true;
    if (fchmod(fd, 0600) != 0 || write_all(fd, data, len) != 0) {
        fprintf(stderr, "rotp-harness: cannot write %s: %s\n", tmp, strerror(errno));
        goto out;
    }
    checkpoint(cp, ROTP_ENGINE_CP_DELIVER_WRITE);
    if (fsync(fd) != 0) {
        fprintf(stderr, "rotp-harness: cannot write %s: %s\n", tmp, strerror(errno));
        goto out;
    }
    checkpoint(cp, ROTP_ENGINE_CP_DELIVER_FSYNC);
    if (close(fd) != 0) {
        fd = -1;
        fprintf(stderr, "rotp-harness: cannot write %s: %s\n", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "rotp-harness: cannot rename %s to %s: %s\n", tmp, path, strerror(errno));
        goto out;
    }
    tmp_made = false;
    checkpoint(cp, ROTP_ENGINE_CP_DELIVER_RENAME);
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) {
        fprintf(stderr, "rotp-harness: cannot fsync directory %s: %s\n", dir, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    if (tmp_made)
        unlink(tmp);
    return rc;
}

static bool name_is(const char *entry, size_t n, const char *name)
{
    return name != NULL && strlen(name) == n && strncmp(entry, name, n) == 0;
}

/* Variables the --exec command must not inherit: the credentials the harness may have taken
 * from its environment (those the provider names for its secret config keys, and --secret-env),
 * and the metadata names it sets itself. */
static bool exec_env_dropped(const char *entry, const hopts *o, const rotp_provider *p)
{
    static const char *const names[] = {"ROTP_SECRET_NAME", "ROTP_ID", "ROTP_EXPIRES_ON",
                                        "ROTP_KIND", "ROTP_CLIENT_ID"};
    size_t n = strcspn(entry, "=");

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (name_is(entry, n, names[i]))
            return true;
    }
    for (uint32_t i = 0; p != NULL && ROTP_HAS_FIELD(p, rotp_provider, config_keys) &&
                         p->config_keys != NULL && i < p->nconfig_keys;
         i++) {
        const rotp_key_info *k = (const rotp_key_info *)((const char *)p->config_keys +
                                                         (size_t)p->config_keys[0].struct_size * i);
        for (int e = 0; (k->flags & ROTP_KEY_SECRET) && k->env != NULL && k->env[e] != NULL; e++) {
            if (name_is(entry, n, k->env[e]))
                return true;
        }
    }
    return name_is(entry, n, o->secret_env);
}

/* The --exec command's environment, built before fork() (the child only calls async-signal-safe
 * functions): ours without the dropped variables, plus the metadata. The ROTP_* strings are
 * allocated (from index *first_own on); the rest are borrowed from environ. NULL on OOM. */
static char **exec_env(const hopts *o, const rotp_provider *p, const rotp_engine_secret *s,
                       size_t *first_own)
{
    const rotp_param *cid = NULL;
    /* ROTP_CLIENT_ID: the secret's non-secret, non-primary part (a client id), if any. */
    for (uint32_t i = 0; i < s->parts.count; i++) {
        const rotp_param *q = (const rotp_param *)((const char *)s->parts.items +
                                                   (size_t)s->parts.items[0].struct_size * i);
        if (!(q->flags & ROTP_PARAM_SECRET) && q != rotp_engine_secret_part(s, NULL))
            cid = q;
    }
    const char *meta[][2] = {{"ROTP_SECRET_NAME", o->secret_name ? o->secret_name : ""},
                             {"ROTP_ID", s->id ? s->id : ""},
                             {"ROTP_EXPIRES_ON", s->expires_at ? s->expires_at : ""},
                             {"ROTP_KIND", s->kind ? s->kind : ""},
                             {"ROTP_CLIENT_ID", cid != NULL ? cid->value : ""}};
    size_t nmeta = sizeof(meta) / sizeof(meta[0]), n = 0, k = 0;
    char **env;

    while (environ != NULL && environ[n] != NULL)
        n++;
    env = calloc(n + nmeta + 1, sizeof(*env));
    if (env == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!exec_env_dropped(environ[i], o, p))
            env[k++] = environ[i];
    }
    *first_own = k;
    for (size_t i = 0; i < nmeta; i++) {
        size_t len = strlen(meta[i][0]) + strlen(meta[i][1]) + 2;
        env[k] = malloc(len);
        if (env[k] == NULL)
            goto out_fail;
        snprintf(env[k++], len, "%s=%s", meta[i][0], meta[i][1]);
    }
    return env;
out_fail:
    for (size_t i = *first_own; i < k; i++)
        free(env[i]);
    free(env);
    return NULL;
}

static void exec_env_free(char **env, size_t first_own)
{
    if (env == NULL)
        return;
    for (size_t i = first_own; env[i] != NULL; i++)
        free(env[i]);
    free(env);
}

/* In the child: closes every descriptor from 3 up, so the command inherits stdin, stdout and
 * stderr only (a provider's library may keep descriptors that are not close-on-exec, such as
 * libcurl's internal socket pair). */
static void close_from_3(int max_fd)
{
    if (close_range(3, ~0U, 0) == 0)
        return;
    for (int fd = 3; fd < max_fd; fd++)
        close(fd);
}

/* Runs /bin/sh -c cmd with data on its stdin and the metadata in its environment; the child gets
 * descriptors 0, 1 and 2 only. 0 when the command exited 0; -1 otherwise (message on stderr). */
static int run_exec_sink(const hopts *o, const rotp_provider *p, const rotp_engine_secret *s,
                         const char *data, size_t len)
{
    char *argv[] = {"sh", "-c", (char *)o->exec, NULL};
    long open_max = sysconf(_SC_OPEN_MAX);
    int max_fd = open_max > 0 && open_max < 65536 ? (int)open_max : 65536;
    size_t first_own = 0;
    char **env = exec_env(o, p, s, &first_own);
    int pfd[2];
    pid_t pid;
    int status = 0;
    int wrc;

    if (env == NULL) {
        fprintf(stderr, "rotp-harness: --exec: out of memory\n");
        return -1;
    }
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        fprintf(stderr, "rotp-harness: --exec: pipe: %s\n", strerror(errno));
        exec_env_free(env, first_own);
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "rotp-harness: --exec: fork: %s\n", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        exec_env_free(env, first_own);
        return -1;
    }
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        if (dup2(pfd[0], STDIN_FILENO) < 0)
            _exit(126);
        close_from_3(max_fd);
        execve("/bin/sh", argv, env);
        _exit(127);
    }
    exec_env_free(env, first_own);
    close(pfd[0]);
    wrc = write_all(pfd[1], data, len);
    close(pfd[1]);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "rotp-harness: --exec: waitpid: %s\n", strerror(errno));
            return -1;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFEXITED(status))
            fprintf(stderr, "rotp-harness: --exec command failed (exit status %d)\n",
                    WEXITSTATUS(status));
        else
            fprintf(stderr, "rotp-harness: --exec command failed (killed by signal %d)\n",
                    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        return -1;
    }
    if (wrc != 0) {
        fprintf(stderr, "rotp-harness: --exec command did not read the secret\n");
        return -1;
    }
    return 0;
}

int sinks_deliver(const hopts *o, const rotp_provider *p, const rotp_engine_secret *s,
                  const sinks_cp *cp, char *where, size_t where_cap)
{
    const char *names[HOPT_MAX_LIST + 1];
    uint32_t nnames = 0;
    char *text = NULL;
    size_t len = 0;
    int rc = HX_SINK;

    where[0] = '\0';
    if (o->secret_name != NULL) {
        names[nnames++] = o->secret_name;
        for (int i = 0; i < o->naliases; i++)
            names[nnames++] = o->aliases[i];
    }
    if (rotp_engine_format_dotenv(s, names, nnames, &text, &len) != ROTP_ENGINE_OK) {
        fprintf(stderr, "rotp-harness: the new secret cannot be formatted (no value, or out of "
                        "memory)\n");
        return HX_SINK;
    }
    if (o->out != NULL) {
        if (sinks_write_file(o->out, s->run_id, cp, text, len) != 0)
            goto out;
        snprintf(where + strlen(where), where_cap - strlen(where), "%sout %s", where[0] ? ", " : "",
                 o->out);
    }
    if (o->exec != NULL) {
        if (run_exec_sink(o, p, s, text, len) != 0)
            goto out;
        snprintf(where + strlen(where), where_cap - strlen(where), "%sexec", where[0] ? ", " : "");
    }
    if (o->print_secret) {
        fflush(stdout);
        if (write_all(STDOUT_FILENO, text, len) != 0) {
            fprintf(stderr, "rotp-harness: cannot write the secret to stdout\n");
            goto out;
        }
        snprintf(where + strlen(where), where_cap - strlen(where), "%sstdout",
                 where[0] ? ", " : "");
    }
    rc = HX_OK;
out:
    rotp_engine_wipe_free(text, len);
    return rc;
}
