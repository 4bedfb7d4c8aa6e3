/* SPDX-License-Identifier: MIT */
/* loader.c - finding, pinning, loading and checking the provider.
 *
 * The pin (--sha256) covers the bytes that run: the file is read once into a sealed memfd, that
 * copy is hashed and that copy is loaded, so a later write to the file changes nothing in the
 * process. A provider file or directory on its path that someone other than the caller or root
 * could write is refused unless --allow-unsafe-plugin says otherwise. The pin does not cover the
 * provider's own dependencies (libcurl, OpenSSL, libc), which the dynamic linker loads from the
 * system as usual. */
#include "loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "creds.h"
#include "request.h"
#include "rotp_engine.h"

#ifndef ROTP_LIBDIR
#define ROTP_LIBDIR "/usr/local/lib/rotp"
#endif
#ifndef ROTP_PLUGINDIR_FROM_BINDIR
#define ROTP_PLUGINDIR_FROM_BINDIR "../lib/rotp"
#endif

static const char *const k_level_names[] = {"?", "error", "warn", "info", "debug"};

/* The host log callback: one provider line to stderr, prefixed, only under --verbose (the host's
 * log_level already filters by level; the provider is asked not to send more). */
static void host_log(void *user, int32_t level, const char *message, uint64_t message_len)
{
    (void)user;
    const char *lv = (level >= 1 && level <= 4) ? k_level_names[level] : "?";
    if (message == NULL)
        return;
    fprintf(stderr, "rotp-harness: provider [%s]: %.*s\n", lv, (int)message_len, message);
}

/* The provider's waits (ABI 1.2 set_wait) on a terminal, when --verbose does not already show
 * them as log lines: one line as a wait of a second or more begins, so a rotation that waits
 * for Cloudflare's rate limit does not look hung. */
static int32_t host_wait(void *user, const rotp_wait_info *w)
{
    (void)user;
    if (w->left_ms == w->wait_ms && w->wait_ms >= 1000 && w->reason != ROTP_WAIT_BACKOFF)
        fprintf(stderr, "rotp-harness: waiting %llu s for the rate limit of %s (%s)\n",
                (unsigned long long)((w->wait_ms + 999) / 1000),
                w->credential != NULL ? w->credential : "the token",
                w->request != NULL ? w->request : "");
    return 0;
}

int exit_code_for(int32_t code)
{
    return rotp_engine_status_from_rotp(code); /* the engine's table is the exit-code table */
}

const char *rotp_code_name(int32_t code)
{
    return rotp_engine_rotp_code_name(code);
}

/* ------------------------------------------------------------------------------------------- */
/* Where the default provider is looked for */

#define PLUGIN_FILE   "cloudflare.so"
#define PLUGIN_PLACES 3

/* Removes "." and "dir/.." segments from absolute path p, in place, without touching the file
 * system (the places may not exist), so that one place is not listed under two spellings. */
static void normalize_path(char *p)
{
    char *seg[PATH_MAX / 2];
    int n = 0;
    char *save = NULL;
    char copy[PATH_MAX];
    size_t len = 0;

    if (p[0] != '/' || strlen(p) >= sizeof(copy))
        return;
    memcpy(copy, p, strlen(p) + 1);
    for (char *t = strtok_r(copy, "/", &save); t != NULL; t = strtok_r(NULL, "/", &save)) {
        if (strcmp(t, ".") == 0)
            continue;
        if (strcmp(t, "..") == 0) {
            if (n > 0)
                n--;
            continue;
        }
        seg[n++] = t;
    }
    /* The result is never longer than the input, which fitted: no truncation. */
    p[0] = '\0';
    for (int i = 0; i < n && len < PATH_MAX; i++)
        len += (size_t)snprintf(p + len, PATH_MAX - len, "/%s", seg[i]);
    if (n == 0)
        snprintf(p, PATH_MAX, "/");
}

/* The places of the default provider, in order, without repeats: beside the executable (a build
 * tree), ROTP_PLUGINDIR_FROM_BINDIR relative to the executable's directory (an installed tree,
 * whatever its prefix, wherever it was unpacked), then the configured ROTP_LIBDIR. Returns how
 * many were filled. */
static int plugin_places(char places[PLUGIN_PLACES][PATH_MAX])
{
    char exe[PATH_MAX];
    char cand[PLUGIN_PLACES][PATH_MAX];
    int ncand = 0, n = 0;
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0';
            if (snprintf(cand[ncand], PATH_MAX, "%s/%s", exe, PLUGIN_FILE) < PATH_MAX)
                ncand++;
            if (snprintf(cand[ncand], PATH_MAX, "%s/%s/%s", exe, ROTP_PLUGINDIR_FROM_BINDIR,
                         PLUGIN_FILE) < PATH_MAX)
                ncand++;
        }
    }
    snprintf(cand[ncand++], PATH_MAX, "%s/%s", ROTP_LIBDIR, PLUGIN_FILE);
    for (int i = 0; i < ncand; i++) {
        bool seen = false;
        normalize_path(cand[i]);
        for (int j = 0; j < n; j++)
            seen = seen || strcmp(places[j], cand[i]) == 0;
        if (!seen)
            memcpy(places[n++], cand[i], PATH_MAX);
    }
    return n;
}

/* The default provider: the first of plugin_places() that exists, into out. HX_OK, or HX_LOAD
 * with every place looked at on stderr. */
static int default_plugin_path(char *out, size_t cap)
{
    char places[PLUGIN_PLACES][PATH_MAX];
    int n = plugin_places(places);

    for (int i = 0; i < n; i++) {
        size_t len = strlen(places[i]);
        if (len < cap && access(places[i], F_OK) == 0) {
            memcpy(out, places[i], len + 1);
            return HX_OK;
        }
    }
    fprintf(stderr, "rotp-harness: no provider found; looked for %s in:\n", PLUGIN_FILE);
    for (int i = 0; i < n; i++)
        fprintf(stderr, "  %s\n", places[i]);
    fprintf(stderr, "rotp-harness: fix: pass --plugin PATH, or install the provider (cmake "
                    "--install) so that it is in one of these places\n");
    return HX_LOAD;
}

/* ------------------------------------------------------------------------------------------- */
/* The pin: one sealed copy of the file is hashed and loaded */

#define PLUGIN_MAX_BYTES (256u * 1024u * 1024u)
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3: ask for an executable memfd where memfd_noexec is set */
#endif

/* Lowercase hex SHA-256 of the whole content of fd (read with pread from offset 0). 0 or -1. */
static int hash_fd(int fd, char hex[65])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned char buf[65536];
    unsigned int dlen = 0;
    off_t off = 0;
    int rc = -1;

    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        goto out_free;
    for (;;) {
        ssize_t n = pread(fd, buf, sizeof(buf), off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto out_free;
        if (n == 0)
            break;
        if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
            goto out_free;
        off += n;
    }
    if (EVP_DigestFinal_ex(ctx, digest, &dlen) != 1 || dlen != 32)
        goto out_free;
    for (unsigned int i = 0; i < dlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    rc = 0;
out_free:
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* A new sealed memfd holding a copy of everything fd holds: no one can change its bytes after
 * this returns, whatever happens to the file. The fd, or -1 with errno set. */
static int sealed_copy(int fd)
{
    char buf[65536];
    size_t total = 0;
    int mfd = memfd_create("rotp-provider", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);

    if (mfd < 0 && errno == EINVAL)
        mfd = memfd_create("rotp-provider", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0)
        return -1;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto out_fail;
        if (n == 0)
            break;
        total += (size_t)n;
        if (total > PLUGIN_MAX_BYTES) {
            errno = EFBIG;
            goto out_fail;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(mfd, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                goto out_fail;
            off += w;
        }
    }
    if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
        goto out_fail;
    return mfd;
out_fail : {
    int e = errno;
    close(mfd);
    errno = e;
    return -1;
}
}

static bool is_hex64(const char *s)
{
    size_t n = strlen(s);
    if (n != 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------------------------------- */
/* Who could have put code there: the file and every directory on its path */

/* Why st (of path) lets someone other than us or root change what it holds: NULL if nothing.
 * A directory that others may write is fine when it is sticky (/tmp): they cannot rename or
 * remove what they do not own. */
static const char *unsafe_reason(const struct stat *st, bool is_dir)
{
    if (st->st_uid != 0 && st->st_uid != geteuid())
        return "is owned by another user";
    if ((st->st_mode & (S_IWGRP | S_IWOTH)) == 0)
        return NULL;
    if (is_dir && (st->st_mode & S_ISVTX) != 0)
        return NULL;
    return (st->st_mode & S_IWOTH) != 0 ? "is writable by others" : "is writable by its group";
}

/* Refuses directory dir (mode in st) when unsafe_reason() finds a reason, naming the provider as
 * shown. 0 or -1 (message on stderr). */
static int check_dir(const char *dir, const char *shown)
{
    struct stat st;
    const char *why;

    if (stat(dir, &st) != 0)
        return 0; /* gone or unreadable: opening the provider through it would have failed */
    why = unsafe_reason(&st, true);
    if (why == NULL)
        return 0;
    fprintf(stderr,
            "rotp-harness: refusing provider %s: directory %s on its path %s (mode %04o, uid %u), "
            "so someone else could replace the provider. Fix: chmod go-w %s (or move the "
            "provider), or pass --allow-unsafe-plugin\n",
            shown, dir, why, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, dir);
    return -1;
}

/* Checks every directory that leads to path (made absolute against the working directory),
 * from / down. 0, or -1 with the offending directory and the reason on stderr. */
static int check_dirs(const char *path, const char *shown)
{
    char buf[PATH_MAX];
    size_t len = 0;

    if (path[0] != '/') {
        if (getcwd(buf, sizeof(buf)) == NULL)
            return -1;
        len = strlen(buf);
    }
    if (snprintf(buf + len, sizeof(buf) - len, "%s%s", path[0] == '/' ? "" : "/", path) >=
        (int)(sizeof(buf) - len))
        return -1;
    if (check_dir("/", shown) != 0)
        return -1;
    len = strlen(buf);
    /* every proper prefix that ends before a '/': the directories, not the file itself */
    for (size_t i = 1; i < len; i++) {
        int rc;

        if (buf[i] != '/')
            continue;
        buf[i] = '\0';
        rc = check_dir(buf, shown);
        buf[i] = '/';
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* The file behind fd and the directories of both the path as given and its resolved form. */
static int check_plugin_safety(const char *path, int fd)
{
    struct stat st;
    char real[PATH_MAX];
    const char *why;

    if (fstat(fd, &st) != 0)
        return -1;
    why = unsafe_reason(&st, false);
    if (why != NULL) {
        fprintf(stderr,
                "rotp-harness: refusing provider %s: it %s (mode %04o, uid %u), so someone else "
                "could put code in it. Fix: chmod go-w %s (and chown it to you or root), or pass "
                "--allow-unsafe-plugin\n",
                path, why, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, path);
        return -1;
    }
    if (check_dirs(path, path) != 0)
        return -1;
    if (realpath(path, real) != NULL && strcmp(real, path) != 0 && check_dirs(real, path) != 0)
        return -1;
    return 0;
}

/* Opens the provider file, checks who could have written it, and makes the sealed copy whose
 * hash goes into hp->sha256. The memfd, or -1 with a message on stderr. */
static int open_pinned(hprov *hp, const hopts *o)
{
    struct stat st;
    int fd, mfd = -1;

    fd = open(hp->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "rotp-harness: cannot open provider %s: %s\n", hp->path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "rotp-harness: provider %s is not a regular file\n", hp->path);
        goto out_close;
    }
    if (!o->allow_unsafe_plugin && check_plugin_safety(hp->path, fd) != 0)
        goto out_close;
    mfd = sealed_copy(fd);
    if (mfd < 0) {
        fprintf(stderr, "rotp-harness: cannot copy provider %s into sealed memory: %s\n", hp->path,
                strerror(errno));
        goto out_close;
    }
    if (hash_fd(mfd, hp->sha256) != 0) {
        fprintf(stderr, "rotp-harness: cannot hash provider %s\n", hp->path);
        close(mfd);
        mfd = -1;
    }
out_close:
    close(fd);
    return mfd;
}

/* The ABI 1 entry of the loaded object dl, or NULL with a message on stderr (naming the ABI
 * the object speaks when it exports another major's entry). */
static rotp_entry_fn find_entry(void *dl, const char *path)
{
    rotp_entry_fn entry = NULL;
    char sym[40];

    *(void **)(&entry) = dlsym(dl, ROTP_ENTRY_SYMBOL);
    if (entry != NULL)
        return entry;
    for (int major = 2; major <= 9; major++) {
        snprintf(sym, sizeof(sym), "rotp_provider_entry_v%d", major);
        if (dlsym(dl, sym) != NULL) {
            fprintf(stderr,
                    "rotp-harness: %s is not a rotp ABI v1 provider: it speaks ABI %d "
                    "(exports %s); this harness drives ABI 1 only\n",
                    path, major, sym);
            return NULL;
        }
    }
    fprintf(stderr, "rotp-harness: %s is not a rotp ABI v1 provider (no %s symbol)\n", path,
            ROTP_ENTRY_SYMBOL);
    return NULL;
}

/* Checks the provider table p returned by path's entry: ABI major, size, required operations.
 * 0, or -1 with a message on stderr. */
static int check_table(const rotp_provider *p, const char *path)
{
    if (p->abi_major != ROTP_ABI_MAJOR) {
        fprintf(stderr,
                "rotp-harness: refusing provider %s: not a rotp ABI v1 provider: its table speaks "
                "ABI %u, this harness drives ABI %d only\n",
                path, (unsigned)p->abi_major, ROTP_ABI_MAJOR);
        return -1;
    }
    if (p->struct_size < sizeof(rotp_provider)) {
        fprintf(stderr,
                "rotp-harness: refusing provider %s: its table is %u bytes, ABI 1.0 needs %zu\n",
                path, (unsigned)p->struct_size, sizeof(rotp_provider));
        return -1;
    }
    if (p->open == NULL || p->close == NULL || p->describe == NULL || p->roll == NULL ||
        p->verify == NULL || p->revoke == NULL || p->result_free == NULL ||
        p->strerror == NULL || p->kinds == NULL) {
        fprintf(stderr, "rotp-harness: refusing provider %s: a required operation is missing\n",
                path);
        return -1;
    }
    return 0;
}

int prov_load(hprov *hp, const hopts *o)
{
    char fdpath[64];
    int fd = -1;
    void *dl = NULL;
    rotp_entry_fn entry = NULL;
    rotp_error err;
    int rc = HX_LOAD;

    memset(hp, 0, sizeof(*hp));
    if (o->plugin != NULL)
        snprintf(hp->path, sizeof(hp->path), "%s", o->plugin);
    else if (default_plugin_path(hp->path, sizeof(hp->path)) != HX_OK)
        return HX_LOAD;

    if (o->sha256 != NULL && !is_hex64(o->sha256)) {
        fprintf(stderr, "rotp-harness: --sha256 needs 64 hex digits\n");
        return HX_USAGE;
    }
    fd = open_pinned(hp, o);
    if (fd < 0)
        goto out;
    if (o->sha256 != NULL && strcasecmp(o->sha256, hp->sha256) != 0) {
        fprintf(stderr,
                "rotp-harness: refusing to load %s: its SHA-256 is %s, but --sha256 pins %s\n",
                hp->path, hp->sha256, o->sha256);
        goto out;
    }
    /* Load the sealed copy that was hashed: the bytes checked are the bytes that run, even if
     * the file changes afterwards. The descriptor stays open for the life of the process, so its
     * /proc/self/fd name is never reused for another object. */
    snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
    dl = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL) {
        const char *e = dlerror();
        fprintf(stderr, "rotp-harness: cannot load provider %s: %s\n", hp->path,
                e != NULL ? e : "dlopen failed");
        goto out;
    }
    fd = -1;
    /* Never dlclose: the provider's libcurl and OpenSSL must not be unloaded. */
    entry = find_entry(dl, hp->path);
    if (entry == NULL)
        goto out;

    hp->host.struct_size = sizeof(hp->host);
    hp->host.log_level = o->verbose <= 0 ? 0 : (o->verbose == 1 ? ROTP_LOG_INFO : ROTP_LOG_DEBUG);
    hp->host.log = o->verbose > 0 ? host_log : NULL;
    hp->host.log_user = NULL;

    memset(&err, 0, sizeof(err));
    err.struct_size = sizeof(err);
    hp->p = entry(ROTP_ABI_MINOR, &hp->host, &err);
    if (hp->p == NULL) {
        fprintf(stderr, "rotp-harness: provider %s refused this host: %s: %s\n", hp->path,
                rotp_code_name(err.code), err.message);
        goto out;
    }
    if (check_table(hp->p, hp->path) != 0) {
        hp->p = NULL;
        goto out;
    }
    {
        uint32_t host_minor = ROTP_ABI_MINOR;
        hp->negotiated_minor = hp->p->abi_minor < host_minor ? hp->p->abi_minor : host_minor;
    }
    rc = HX_OK;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

/* The provider's config key of role, or NULL (an ABI 1.0 provider describes none). */
static const rotp_key_info *cfg_role(const rotp_provider *p, uint32_t role)
{
    if (!ROTP_HAS_FIELD(p, rotp_provider, config_keys) || p->config_keys == NULL)
        return NULL;
    for (uint32_t i = 0; i < p->nconfig_keys; i++) {
        const rotp_key_info *k = (const rotp_key_info *)((const char *)p->config_keys +
                                                         (size_t)p->config_keys[0].struct_size * i);
        if (k->role == role)
            return k;
    }
    return NULL;
}

static const rotp_key_info *cfg_named(const rotp_provider *p, const char *key)
{
    if (!ROTP_HAS_FIELD(p, rotp_provider, config_keys) || p->config_keys == NULL)
        return NULL;
    for (uint32_t i = 0; i < p->nconfig_keys; i++) {
        const rotp_key_info *k = (const rotp_key_info *)((const char *)p->config_keys +
                                                         (size_t)p->config_keys[0].struct_size * i);
        if (strcmp(k->key, key) == 0)
            return k;
    }
    return NULL;
}

static const char *cfg_key(const rotp_provider *p, uint32_t role, const char *dflt)
{
    const rotp_key_info *k = cfg_role(p, role);
    return k != NULL ? k->key : dflt;
}

/* The first environment variable of k that is set and not empty (*name NULL if none). Two that
 * are set and disagree are an error naming both: -1. */
static int env_of(const rotp_key_info *k, const char **name)
{
    *name = NULL;
    for (int i = 0; k != NULL && k->env != NULL && k->env[i] != NULL; i++) {
        const char *v = getenv(k->env[i]);
        if (v == NULL || v[0] == '\0')
            continue;
        if (*name != NULL && strcmp(getenv(*name), v) != 0) {
            fprintf(stderr, "rotp-harness: $%s and $%s disagree (both give %s): unset one%s\n",
                    *name, k->env[i], k->key,
                    (k->flags & ROTP_KEY_SECRET) ? "" : ", or give the value as an option");
            return -1;
        }
        if (*name == NULL)
            *name = k->env[i];
    }
    return 0;
}

/* The management token: --token-file (mgmt), else the environment its descriptor names. */
static int mgmt_token(const hprov *hp, const secret_buf *mgmt, secret_buf **envtok, hreq *cfg)
{
    const rotp_key_info *k = cfg_role(hp->p, ROTP_ROLE_MANAGEMENT);
    const char *name = NULL;
    if (mgmt == NULL && env_of(k, &name) != 0)
        return HX_USAGE;
    if (mgmt == NULL && name != NULL) {
        int rc = creds_env_secret(name, "management token", envtok);
        if (rc != HX_OK)
            return rc;
        mgmt = *envtok;
    }
    if (mgmt != NULL) {
        hreq_add_secret(cfg, k != NULL ? k->key : "api_token", mgmt->data, mgmt->len);
        return HX_OK;
    }
    if (k != NULL && (k->required_ops & ROTP_KEY_REQUIRED_CONFIG)) {
        fprintf(stderr, "rotp-harness: no management token: give --token-file FILE");
        for (int i = 0; k->env != NULL && k->env[i] != NULL; i++)
            fprintf(stderr, "%s$%s", i == 0 ? " or set " : (k->env[i + 1] ? ", " : " or "),
                    k->env[i]);
        fprintf(stderr, "\n");
        return HX_USAGE;
    }
    return HX_OK;
}

/* Config keys not given, from the environment variables the descriptor names. 0 or -1. */
static int config_env(const rotp_provider *p, hreq *cfg)
{
    if (!ROTP_HAS_FIELD(p, rotp_provider, config_keys) || p->config_keys == NULL)
        return 0;
    for (uint32_t i = 0; i < p->nconfig_keys; i++) {
        const rotp_key_info *k = (const rotp_key_info *)((const char *)p->config_keys +
                                                         (size_t)p->config_keys[0].struct_size * i);
        const char *name = NULL;
        bool have = false;
        for (uint32_t j = 0; j < cfg->count && !have; j++)
            have = strcmp(cfg->items[j].key, k->key) == 0;
        if (have || (k->flags & ROTP_KEY_SECRET))
            continue;
        if (env_of(k, &name) != 0)
            return -1;
        if (name != NULL)
            hreq_add(cfg, k->key, getenv(name));
    }
    return 0;
}

int prov_open(hprov *hp, const hopts *o, const secret_buf *mgmt)
{
    hreq cfg;
    rotp_error err;
    secret_buf *envtok = NULL;
    const rotp_provider *p = hp->p;
    int32_t code;
    int rc;

    hreq_init(&cfg);
    rc = mgmt_token(hp, mgmt, &envtok, &cfg);
    if (rc != HX_OK)
        return rc;
    if (o->api_base != NULL && o->api_base[0] != '\0')
        hreq_add(&cfg, cfg_key(p, ROTP_ROLE_ENDPOINT, "api_base"), o->api_base);
    if (o->ca_file != NULL)
        hreq_add(&cfg, cfg_key(p, ROTP_ROLE_CA_FILE, "ca_file"), o->ca_file);
    if (o->allow_insecure_loopback)
        hreq_add(&cfg, cfg_key(p, ROTP_ROLE_INSECURE_LOOPBACK, "allow_insecure_loopback"), "1");
    if (o->proxy != NULL)
        hreq_add(&cfg, cfg_key(p, ROTP_ROLE_PROXY, "proxy"), o->proxy);
    for (int i = 0; i < o->nconfig; i++) {
        if (hreq_add_kv(&cfg, o->config[i], "--config") != 0) {
            secret_free(envtok);
            return HX_USAGE;
        }
        const rotp_key_info *sk = cfg_named(p, cfg.keys[cfg.nkeys - 1]);
        if (sk != NULL && (sk->flags & ROTP_KEY_SECRET)) {
            fprintf(stderr,
                    "rotp-harness: --config refuses the key '%s': secrets never come from "
                    "argv\n",
                    sk->key);
            secret_free(envtok);
            return HX_USAGE;
        }
    }
    if (config_env(p, &cfg) != 0) {
        secret_free(envtok);
        return HX_USAGE;
    }
    if (cfg.overflow) {
        fprintf(stderr, "rotp-harness: too many config keys\n");
        secret_free(envtok);
        return HX_USAGE;
    }
    memset(&err, 0, sizeof(err));
    err.struct_size = sizeof(err);
    rotp_params params = hreq_params(&cfg);
    code = p->open(&hp->host, &params, &hp->inst, &err);
    secret_free(envtok);
    if (code != ROTP_E_OK || hp->inst == NULL) {
        hp->inst = NULL;
        code = code != ROTP_E_OK ? code : ROTP_E_INTERNAL;
        fprintf(stderr, "rotp-harness: open: %s: %s", rotp_code_name(code),
                err.message[0] ? err.message : "failed");
        if (err.http_status != 0 || err.api_code != 0)
            fprintf(stderr, " (http %d, api code %d)", (int)err.http_status, (int)err.api_code);
        fprintf(stderr, "\n");
        if (code == ROTP_E_TLS)
            fprintf(stderr, "rotp-harness: open: the server's certificate could not be verified: "
                            "a private CA? give --ca-file PATH\n");
        return exit_code_for(code != ROTP_E_OK ? code : ROTP_E_INTERNAL);
    }
    if (o->verbose <= 0 && isatty(STDERR_FILENO) &&
        ROTP_HAS_FIELD(hp->p, rotp_provider, set_wait) && hp->p->set_wait != NULL)
        (void)hp->p->set_wait(hp->inst, host_wait, NULL);
    return HX_OK;
}

void prov_close(hprov *hp)
{
    if (hp == NULL || hp->p == NULL || hp->inst == NULL)
        return;
    hp->p->close(hp->inst);
    hp->inst = NULL;
}
