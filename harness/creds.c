/* SPDX-License-Identifier: MIT */
/* creds.c - reading credentials from files, the environment and stdin.
 *
 * A file that holds a secret must be the caller's (or root's) and neither readable nor writable
 * by its group or others, as ssh demands of a private key: otherwise someone else has the
 * credential already, or can swap it. --allow-unsafe-secret-files lifts that for a file that must
 * be shared. Pipes (`--token-file <(pass show cf)`) are fine; other kinds of file are refused. */
#include "creds.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secfile.h"
#include "secret.h"

#define CREDS_MAX (64u * 1024u)

/* Reads fd to EOF into a new secret_buf (wiping scratch). HX_OK or HX_OTHER / HX_USAGE. */
static int read_fd_secret(int fd, const char *what, const char *where, secret_buf **out)
{
    char buf[4096];
    secret_buf *sb = secret_new("", 0);
    int rc = HX_OTHER;

    *out = NULL;
    if (sb == NULL) {
        fprintf(stderr, "rotp-harness: out of memory reading %s\n", what);
        return HX_OTHER;
    }
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "rotp-harness: cannot read %s from %s: %s\n", what, where,
                    strerror(errno));
            goto out_free;
        }
        if (n == 0)
            break;
        if (sb->len + (size_t)n > CREDS_MAX) {
            fprintf(stderr, "rotp-harness: %s from %s is larger than %u bytes\n", what, where,
                    CREDS_MAX);
            rc = HX_USAGE;
            goto out_free;
        }
        if (secret_append(sb, buf, (size_t)n) != 0) {
            fprintf(stderr, "rotp-harness: out of memory reading %s\n", what);
            goto out_free;
        }
    }
    if (sb->len > 0 && sb->data[sb->len - 1] == '\n') {
        sb->data[--sb->len] = '\0';
        if (sb->len > 0 && sb->data[sb->len - 1] == '\r')
            sb->data[--sb->len] = '\0';
    }
    if (sb->len == 0) {
        fprintf(stderr, "rotp-harness: %s from %s is empty\n", what, where);
        rc = HX_USAGE;
        goto out_free;
    }
    if (memchr(sb->data, '\0', sb->len) != NULL) {
        fprintf(stderr, "rotp-harness: %s from %s holds a NUL byte\n", what, where);
        rc = HX_USAGE;
        goto out_free;
    }
    *out = sb;
    sb = NULL;
    rc = HX_OK;
out_free:
    secret_wipe(buf, sizeof(buf));
    secret_free(sb);
    return rc;
}

/* creds_read_file(), with the ownership and mode checks skipped when allow_unsafe is set. A
 * symlink is followed: the file it leads to is what is checked (fstat of the descriptor read). */
static int read_file_checked(const char *path, const char *what, bool allow_unsafe,
                             secret_buf **out)
{
    struct stat st;
    char fix[PATH_MAX * 2 + 64];
    const char *why;
    int rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    *out = NULL;
    if (fd < 0) {
        fprintf(stderr, "rotp-harness: cannot open %s file %s: %s\n", what, path, strerror(errno));
        return HX_USAGE;
    }
    if (fstat(fd, &st) != 0) {
        fprintf(stderr, "rotp-harness: cannot stat %s file %s: %s\n", what, path, strerror(errno));
        close(fd);
        return HX_USAGE;
    }
    why = secfile_unsafe(&st, path, fix, sizeof(fix));
    if (why != NULL && (!allow_unsafe || (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)))) {
        fprintf(stderr, "rotp-harness: refusing %s file %s: it %s (mode %04o, uid %u). Fix: %s%s\n",
                what, path, why, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, fix,
                S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode)
                    ? " (or pass --allow-unsafe-secret-files if it must be shared)"
                    : "");
        close(fd);
        return HX_USAGE;
    }
    rc = read_fd_secret(fd, what, path, out);
    close(fd);
    return rc;
}

int creds_read_file(const char *path, const char *what, secret_buf **out)
{
    return read_file_checked(path, what, false, out);
}

int creds_read_file_opt(const char *path, const char *what, bool allow_unsafe, secret_buf **out)
{
    return read_file_checked(path, what, allow_unsafe, out);
}

static int env_secret(const char *name, const char *what, secret_buf **out)
{
    const char *v = getenv(name);
    *out = NULL;
    if (v == NULL)
        return HX_USAGE;
    size_t len = strlen(v);
    if (len > 0 && v[len - 1] == '\n')
        len--;
    if (len == 0) {
        fprintf(stderr, "rotp-harness: %s from $%s is empty\n", what, name);
        return HX_USAGE;
    }
    *out = secret_new(v, len);
    if (*out == NULL) {
        fprintf(stderr, "rotp-harness: out of memory\n");
        return HX_OTHER;
    }
    return HX_OK;
}

int creds_mgmt(const hopts *o, secret_buf **out)
{
    *out = NULL;
    if (o->token_file != NULL)
        return read_file_checked(o->token_file, "management token", o->allow_unsafe_secret_files,
                                 out);
    return HX_OK; /* prov_open() reads the environment variables the provider names */
}

int creds_env_secret(const char *name, const char *what, secret_buf **out)
{
    return env_secret(name, what, out);
}

bool creds_secret_given(const hopts *o)
{
    return o->secret_file != NULL || o->secret_env != NULL || o->secret_stdin;
}

/* Copies one dotenv value starting at v (up to the end of its line) into sb, unquoting. */
static int dotenv_unquote(const char *v, const char *end, secret_buf *sb)
{
    if (v < end && (*v == '"' || *v == '\'')) {
        char q = *v++;
        while (v < end && *v != q) {
            char c = *v;
            if (q == '"' && c == '\\' && v + 1 < end) {
                v++;
                c = *v == 'n' ? '\n' : *v;
            }
            if (secret_append(sb, &c, 1) != 0)
                return -1;
            v++;
        }
        return 0;
    }
    const char *e = v;
    while (e < end && *e != '\n' && *e != '\r')
        e++;
    return secret_append(sb, v, (size_t)(e - v));
}

secret_buf *creds_dotenv_get(const char *text, size_t len, const char *key, bool *nomem)
{
    size_t klen = strlen(key);
    const char *p = text;
    const char *end = text + len;

    *nomem = false;
    while (p < end) {
        const char *line_end = memchr(p, '\n', (size_t)(end - p));
        if (line_end == NULL)
            line_end = end;
        const char *q = p;
        if ((size_t)(line_end - q) > 7 && strncmp(q, "export ", 7) == 0)
            q += 7;
        if ((size_t)(line_end - q) > klen && strncmp(q, key, klen) == 0 && q[klen] == '=') {
            secret_buf *sb = secret_new("", 0);
            if (sb == NULL || dotenv_unquote(q + klen + 1, line_end, sb) != 0) {
                secret_free(sb);
                *nomem = true;
                return NULL;
            }
            return sb;
        }
        p = line_end + 1;
    }
    return NULL;
}

int creds_secret_raw(const hopts *o, secret_buf **out)
{
    int rc;
    int sources = (o->secret_file != NULL) + (o->secret_env != NULL) + (o->secret_stdin ? 1 : 0);

    *out = NULL;
    if (sources == 0)
        return HX_OK;
    if (sources > 1) {
        fprintf(stderr, "rotp-harness: give only one of --secret-file, --secret-env, "
                        "--secret-stdin\n");
        return HX_USAGE;
    }
    if (o->secret_file != NULL) {
        rc = read_file_checked(o->secret_file, "secret", o->allow_unsafe_secret_files, out);
    } else if (o->secret_env != NULL) {
        rc = env_secret(o->secret_env, "secret", out);
        if (rc == HX_USAGE && *out == NULL && getenv(o->secret_env) == NULL)
            fprintf(stderr, "rotp-harness: --secret-env %s: the variable is not set\n",
                    o->secret_env);
    } else {
        rc = read_fd_secret(STDIN_FILENO, "secret", "stdin", out);
    }
    return rc;
}
