/* loader.c - finding, pinning, loading and checking the provider. */
#include "loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"
#include "request.h"

#ifndef ROTP_LIBDIR
#define ROTP_LIBDIR "/usr/local/lib/rotp"
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

int exit_code_for(int32_t code)
{
    switch (code) {
    case ROTP_E_OK:
        return HX_OK;
    case ROTP_E_INVALID_ARGUMENT:
    case ROTP_E_UNSUPPORTED:
        return HX_USAGE;
    case ROTP_E_CREDENTIAL_INVALID:
        return HX_CRED;
    case ROTP_E_PERMISSION_DENIED:
        return HX_PERM;
    case ROTP_E_NOT_FOUND:
        return HX_NOTFOUND;
    case ROTP_E_RATE_LIMITED:
        return HX_RATE;
    case ROTP_E_OUTCOME_UNKNOWN:
        return HX_UNKNOWN;
    default:
        return HX_OTHER;
    }
}

const char *rotp_code_name(int32_t code)
{
    switch (code) {
#define X_NAME(num, name, msg)                                                                     \
    case num:                                                                                      \
        return #name;
        ROTP_ERROR_TABLE(X_NAME)
#undef X_NAME
    default:
        return "UNKNOWN_CODE";
    }
}

/* The default plugin: cloudflare.so beside the executable, else ROTP_LIBDIR/cloudflare.so. */
static void default_plugin_path(char *out, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0';
            if (snprintf(out, cap, "%s/cloudflare.so", exe) < (int)cap && access(out, F_OK) == 0)
                return;
        }
    }
    snprintf(out, cap, "%s/cloudflare.so", ROTP_LIBDIR);
}

/* SHA-256 of everything readable from fd, as lowercase hex. 0 or -1. */
static int hash_fd(int fd, char hex[65])
{
    gnutls_hash_hd_t h;
    unsigned char digest[32];
    unsigned char buf[65536];
    int rc = -1;

    if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
        return -1;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto out_deinit;
        if (n == 0)
            break;
        if (gnutls_hash(h, buf, (size_t)n) < 0)
            goto out_deinit;
    }
    rc = 0;
out_deinit:
    gnutls_hash_deinit(h, digest);
    if (rc == 0) {
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    }
    return rc;
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

int prov_load(hprov *hp, const hopts *o)
{
    char fdpath[64];
    int fd = -1;
    void *dl = NULL;
    rotp_entry_fn entry = NULL;
    rotp_error err;
    struct stat st;
    int rc = HX_LOAD;

    memset(hp, 0, sizeof(*hp));
    if (o->plugin != NULL)
        snprintf(hp->path, sizeof(hp->path), "%s", o->plugin);
    else
        default_plugin_path(hp->path, sizeof(hp->path));

    if (o->sha256 != NULL && !is_hex64(o->sha256)) {
        fprintf(stderr, "rotp-harness: --sha256 needs 64 hex digits\n");
        return HX_USAGE;
    }
    fd = open(hp->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "rotp-harness: cannot open provider %s: %s\n", hp->path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "rotp-harness: provider %s is not a regular file\n", hp->path);
        goto out;
    }
    if (hash_fd(fd, hp->sha256) != 0) {
        fprintf(stderr, "rotp-harness: cannot hash provider %s\n", hp->path);
        goto out;
    }
    if (o->sha256 != NULL && strcasecmp(o->sha256, hp->sha256) != 0) {
        fprintf(stderr,
                "rotp-harness: refusing to load %s: its SHA-256 is %s, but --sha256 pins %s\n",
                hp->path, hp->sha256, o->sha256);
        goto out;
    }
    /* Load the very file descriptor we hashed, so the bytes checked are the bytes loaded. */
    snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
    dl = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL) {
        const char *e = dlerror();
        fprintf(stderr, "rotp-harness: cannot load provider %s: %s\n", hp->path,
                e != NULL ? e : "dlopen failed");
        goto out;
    }
    /* Never dlclose: the provider's libcurl/GnuTLS must not be unloaded. */
    *(void **)(&entry) = dlsym(dl, ROTP_ENTRY_SYMBOL);
    if (entry == NULL) {
        char sym[40];
        for (int major = 2; major <= 9; major++) {
            snprintf(sym, sizeof(sym), "rotp_provider_entry_v%d", major);
            if (dlsym(dl, sym) != NULL) {
                fprintf(stderr,
                        "rotp-harness: %s is not a rotp ABI v1 provider: it speaks ABI %d "
                        "(exports %s); this harness drives ABI 1 only\n",
                        hp->path, major, sym);
                goto out;
            }
        }
        fprintf(stderr, "rotp-harness: %s is not a rotp ABI v1 provider (no %s symbol)\n", hp->path,
                ROTP_ENTRY_SYMBOL);
        goto out;
    }

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
    if (hp->p->abi_major != ROTP_ABI_MAJOR) {
        fprintf(stderr,
                "rotp-harness: refusing provider %s: not a rotp ABI v1 provider: its table speaks "
                "ABI %u, this harness drives ABI %d only\n",
                hp->path, (unsigned)hp->p->abi_major, ROTP_ABI_MAJOR);
        hp->p = NULL;
        goto out;
    }
    if (hp->p->struct_size < sizeof(rotp_provider)) {
        fprintf(stderr,
                "rotp-harness: refusing provider %s: its table is %u bytes, ABI 1.0 needs %zu\n",
                hp->path, (unsigned)hp->p->struct_size, sizeof(rotp_provider));
        hp->p = NULL;
        goto out;
    }
    if (hp->p->open == NULL || hp->p->close == NULL || hp->p->describe == NULL ||
        hp->p->roll == NULL || hp->p->verify == NULL || hp->p->revoke == NULL ||
        hp->p->result_free == NULL || hp->p->strerror == NULL || hp->p->kinds == NULL) {
        fprintf(stderr, "rotp-harness: refusing provider %s: a required operation is missing\n",
                hp->path);
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

int prov_open(hprov *hp, const hopts *o, const secret_buf *mgmt)
{
    hreq cfg;
    rotp_error err;
    const char *api_base = o->api_base != NULL ? o->api_base : getenv("CF_API_BASE");
    int32_t code;

    hreq_init(&cfg);
    if (mgmt != NULL)
        hreq_add_secret(&cfg, "api_token", mgmt->data, mgmt->len);
    if (api_base != NULL && api_base[0] != '\0')
        hreq_add(&cfg, "api_base", api_base);
    if (o->ca_file != NULL)
        hreq_add(&cfg, "ca_file", o->ca_file);
    if (o->allow_insecure_loopback)
        hreq_add(&cfg, "allow_insecure_loopback", "1");
    for (int i = 0; i < o->nconfig; i++) {
        if (hreq_add_kv(&cfg, o->config[i], "--config") != 0)
            return HX_USAGE;
    }
    if (cfg.overflow) {
        fprintf(stderr, "rotp-harness: too many config keys\n");
        return HX_USAGE;
    }
    memset(&err, 0, sizeof(err));
    err.struct_size = sizeof(err);
    rotp_params params = hreq_params(&cfg);
    code = hp->p->open(&hp->host, &params, &hp->inst, &err);
    if (code != ROTP_E_OK || hp->inst == NULL) {
        hp->inst = NULL;
        out_error_line("open", code != ROTP_E_OK ? code : ROTP_E_INTERNAL, &err);
        return exit_code_for(code != ROTP_E_OK ? code : ROTP_E_INTERNAL);
    }
    return HX_OK;
}

void prov_close(hprov *hp)
{
    if (hp == NULL || hp->p == NULL || hp->inst == NULL)
        return;
    hp->p->close(hp->inst);
    hp->inst = NULL;
}

int cmd_info(const hopts *o)
{
    hprov hp;
    int rc = prov_load(&hp, o);
    if (rc != HX_OK)
        return rc;
    out_info(o, &hp);
    return HX_OK;
}
