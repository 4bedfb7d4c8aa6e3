/* SPDX-License-Identifier: MIT */
/* fileprov.c - a second rotation provider, not Cloudflare: keys kept in a small local file store.
 * It proves that the engine and rotp-harness drive any provider that describes its kinds (ABI
 * 1.1) and know nothing of Cloudflare.
 *
 * Store: a directory (config `store`) holding `admin` (the management token, which config
 * `admin_token` must match) and one directory per vault (request key `vault`), in which every
 * key is a file named by its id:
 *     name=<name>\nvalue=<64 hex>\nprev=<64 hex or empty>\nprev_until=<unix seconds>\n
 * Kind `fileprov.key`: strategies `in-place` (the old value dies at the roll) and `overlap` (the
 * old value keeps working for overlap_seconds or until finished). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rotp.h"

#define FP_OPS_ALL                                                                                 \
    (ROTP_OP_DESCRIBE | ROTP_OP_ROLL | ROTP_OP_VERIFY | ROTP_OP_REVOKE | ROTP_OP_PROVISION |       \
     ROTP_OP_LIST)
#define FP_BY_ID (ROTP_OP_DESCRIBE | ROTP_OP_ROLL | ROTP_OP_VERIFY | ROTP_OP_REVOKE)
#define K(k, fmt, fl, role, ops, req, envs, sum)                                                   \
    {                                                                                              \
        sizeof(rotp_key_info), fl, k, fmt, sum, role, ops, req, 0, NULL, envs, NULL, 0, 0          \
    }

struct rotp_instance {
    char store[512];
};

typedef struct fkey {
    char name[128], value[80], prev[80];
    long long prev_until;
} fkey;

/* ---- descriptors ------------------------------------------------------------------------- */

static const char *const vault_env[] = {"FILEPROV_VAULT", NULL};
static const char *const store_env[] = {"FILEPROV_STORE", NULL};
static const char *const admin_env[] = {"FILEPROV_ADMIN_TOKEN", NULL};
static const char *const strategy_choices[] = {"in-place", "overlap", "replace", NULL};

static const rotp_key_info fp_request[] = {
    K("vault", "text", 0, ROTP_ROLE_SCOPE, FP_OPS_ALL, FP_OPS_ALL, vault_env,
      "the vault (a directory of the store) the key lives in"),
    K("id", "text", 0, ROTP_ROLE_ID, FP_BY_ID, ROTP_OP_DESCRIBE | ROTP_OP_ROLL | ROTP_OP_REVOKE,
      NULL, "the key's id"),
    {sizeof(rotp_key_info), 0, "strategy", "enum", "in-place, overlap or replace",
     ROTP_ROLE_STRATEGY, ROTP_OP_ROLL | ROTP_OP_REVOKE, 0, 0, NULL, NULL, strategy_choices, 0, 0},
    {sizeof(rotp_key_info), 0, "overlap_seconds", "int",
     "strategy overlap: how long the old value keeps working", ROTP_ROLE_OVERLAP, ROTP_OP_ROLL, 0,
     0, "3600", NULL, NULL, 0, 86400},
    K("value", "token", ROTP_KEY_SECRET, ROTP_ROLE_SECRET_PART, ROTP_OP_VERIFY, ROTP_OP_VERIFY,
      NULL, "the key value to check"),
    K("name", "text", 0, ROTP_ROLE_NAME, ROTP_OP_PROVISION | ROTP_OP_LIST, ROTP_OP_PROVISION, NULL,
      "provision: the new key's name"),
    K("label", "text", 0, ROTP_ROLE_NONE, ROTP_OP_PROVISION, 0, NULL, "provision: a free label"),
    K("run_id", "text", 0, ROTP_ROLE_RUN_ID, ROTP_OP_ROLL, 0, NULL,
      "replace: put in the new key's name, so a retry finds it"),
};
static const rotp_key_info fp_result[] = {
    K("id", "text", 0, ROTP_ROLE_ID, FP_BY_ID | ROTP_OP_PROVISION, 0, NULL, "the key's id"),
    K("name", "text", 0, ROTP_ROLE_NAME, ROTP_OP_DESCRIBE | ROTP_OP_PROVISION, 0, NULL, "name"),
    K("value", "token", ROTP_KEY_SECRET, ROTP_ROLE_SECRET_PART, ROTP_OP_ROLL | ROTP_OP_PROVISION, 0,
      NULL, "the new value, shown once"),
    K("status", "text", 0, ROTP_ROLE_STATUS, ROTP_OP_DESCRIBE, 0, NULL, "active"),
    K("state", "text", 0, ROTP_ROLE_STATE, ROTP_OP_VERIFY | ROTP_OP_REVOKE, 0, NULL, "the answer"),
    K("overlap_ends_at", "rfc3339", 0, ROTP_ROLE_OVERLAP_END, ROTP_OP_ROLL, 0, NULL,
      "when the old value stops working"),
    K("items", "json", 0, ROTP_ROLE_NONE, ROTP_OP_LIST, 0, NULL, "[{id, name}]"),
    K("replaced_id", "text", 0, ROTP_ROLE_REPLACED_ID, ROTP_OP_ROLL, 0, NULL,
      "replace: the old key, revoked when finished"),
};
static const rotp_part_info fp_parts[] = {
    {sizeof(rotp_part_info), ROTP_PART_SECRET | ROTP_PART_PRIMARY, "value", "FILEPROV_KEY",
     "the key value"},
};
static const rotp_companion_info fp_companions[] = {
    {sizeof(rotp_companion_info), 0, "KEY_ID", "id"},
};
static const rotp_strategy_info fp_strategies[] = {
    {sizeof(rotp_strategy_info), ROTP_STRATEGY_DEFAULT, "in-place", "a new value, the old dies",
     NULL, 0, 0},
    {sizeof(rotp_strategy_info), ROTP_STRATEGY_OVERLAP | ROTP_STRATEGY_FINISH, "overlap",
     "a new value; the old keeps working for overlap_seconds or until finished", NULL, 3600, 86400},
    {sizeof(rotp_strategy_info),
     ROTP_STRATEGY_OVERLAP | ROTP_STRATEGY_NEW_ID | ROTP_STRATEGY_FINISH, "replace",
     "a new key beside the old one; finishing deletes the old key", NULL, 0, 0},
};
static const rotp_state_info fp_states[] = {
    {sizeof(rotp_state_info), ROTP_STATE_ACCEPTED, ROTP_OP_VERIFY, 0, "active", "it works"},
    {sizeof(rotp_state_info), ROTP_STATE_REJECTED, ROTP_OP_VERIFY, 0, "invalid", "it does not"},
    {sizeof(rotp_state_info), ROTP_STATE_GONE, ROTP_OP_REVOKE, 0, "revoked", "revoked"},
    {sizeof(rotp_state_info), ROTP_STATE_GONE, ROTP_OP_REVOKE, 0, "absent", "already gone"},
};
static const char *const fp_sandbox[] = {"label=sandbox-{vault}", NULL};

#define COUNT(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))
static const rotp_kind_info fp_kind = {
    .struct_size = sizeof(rotp_kind_info),
    .ops = FP_OPS_ALL,
    .kind = "fileprov.key",
    .summary = "a key in a local file store",
    .management = "the store's admin token",
    .nrequest_keys = COUNT(fp_request),
    .nresult_keys = COUNT(fp_result),
    .request_keys = fp_request,
    .result_keys = fp_result,
    .nparts = COUNT(fp_parts),
    .ncompanions = COUNT(fp_companions),
    .parts = fp_parts,
    .companions = fp_companions,
    .nstrategies = COUNT(fp_strategies),
    .nstates = COUNT(fp_states),
    .strategies = fp_strategies,
    .states = fp_states,
    .sandbox = fp_sandbox,
    .cadence_days = 30,
};
static const rotp_kind_info *const fp_kind_info[] = {&fp_kind, NULL};
static const char *const fp_kinds[] = {"fileprov.key", NULL};
static const rotp_key_info fp_config[] = {
    K("store", "path", 0, ROTP_ROLE_NONE, 0, ROTP_KEY_REQUIRED_CONFIG, store_env,
      "the store directory"),
    K("admin_token", "token", ROTP_KEY_SECRET, ROTP_ROLE_MANAGEMENT, 0, ROTP_KEY_REQUIRED_CONFIG,
      admin_env, "the store's admin token"),
};

/* ---- helpers ----------------------------------------------------------------------------- */

static int32_t fail(rotp_error *err, int32_t code, const char *fmt, ...)
{
    va_list ap;
    if (err != NULL && err->struct_size >= sizeof(rotp_error)) {
        memset(&err->code, 0, sizeof(*err) - sizeof(err->struct_size));
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
    }
    return code;
}

static const char *get(const rotp_params *p, const char *key)
{
    for (uint32_t i = 0; p != NULL && p->items != NULL && i < p->count; i++) {
        const rotp_param *q =
            (const rotp_param *)((const char *)p->items + (size_t)p->items[0].struct_size * i);
        if (q->key != NULL && strcmp(q->key, key) == 0 && q->value != NULL)
            return q->value; /* values here are short NUL-terminated text, checked below */
    }
    return NULL;
}

static bool safe_name(const char *s)
{
    if (s == NULL || s[0] == '\0' || s[0] == '.' || strlen(s) > 64)
        return false;
    for (const char *p = s; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    }
    return true;
}

static void random_hex(char *out, size_t bytes)
{
    unsigned char b[32];
    if (getrandom(b, bytes, 0) != (ssize_t)bytes)
        memset(b, 7, sizeof(b));
    for (size_t i = 0; i < bytes; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static int key_path(const rotp_instance *in, const char *vault, const char *id, char *out,
                    size_t cap)
{
    return snprintf(out, cap, "%s/%s/%s", in->store, vault, id ? id : "") >= (int)cap ? -1 : 0;
}

static int load_key(const char *path, fkey *k)
{
    char buf[1024];
    FILE *f = fopen(path, "re");
    memset(k, 0, sizeof(*k));
    if (f == NULL)
        return -1;
    while (fgets(buf, sizeof(buf), f) != NULL) {
        buf[strcspn(buf, "\n")] = '\0';
        if (strncmp(buf, "name=", 5) == 0)
            snprintf(k->name, sizeof(k->name), "%.127s", buf + 5);
        else if (strncmp(buf, "value=", 6) == 0)
            snprintf(k->value, sizeof(k->value), "%.79s", buf + 6);
        else if (strncmp(buf, "prev=", 5) == 0)
            snprintf(k->prev, sizeof(k->prev), "%.79s", buf + 5);
        else if (strncmp(buf, "prev_until=", 11) == 0)
            k->prev_until = atoll(buf + 11);
    }
    explicit_bzero(buf, sizeof(buf));
    fclose(f);
    return 0;
}

static int save_key(const char *path, const fkey *k)
{
    char tmp[700], buf[512];
    int n = snprintf(buf, sizeof(buf), "name=%s\nvalue=%s\nprev=%s\nprev_until=%lld\n", k->name,
                     k->value, k->prev, k->prev_until);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    int rc = fd >= 0 && write(fd, buf, (size_t)n) == n && fsync(fd) == 0 ? 0 : -1;
    explicit_bzero(buf, sizeof(buf));
    if (fd >= 0)
        close(fd);
    if (rc == 0)
        rc = rename(tmp, path);
    return rc;
}

/* ---- results ----------------------------------------------------------------------------- */

static int add(rotp_result *res, const char *key, const char *value, uint32_t flags)
{
    rotp_param *items = realloc(res->items, (res->count + 1) * sizeof(rotp_param));
    if (items == NULL)
        return -1;
    res->items = items;
    rotp_param *p = &items[res->count];
    p->struct_size = sizeof(*p);
    p->flags = flags;
    p->key = strdup(key);
    p->value = strdup(value);
    p->value_len = strlen(value);
    res->count++;
    return p->key && p->value ? 0 : -1;
}

static void fp_result_free(rotp_result *res)
{
    if (res == NULL)
        return;
    for (uint32_t i = 0; i < res->count; i++) {
        explicit_bzero((char *)res->items[i].value, (size_t)res->items[i].value_len);
        free((char *)res->items[i].key);
        free((char *)res->items[i].value);
    }
    free(res->items);
    res->items = NULL;
    res->count = 0;
}

static int32_t done(rotp_result *res, rotp_error *err, int rc)
{
    if (rc != 0) {
        fp_result_free(res);
        return fail(err, ROTP_E_NO_MEMORY, "out of memory");
    }
    return fail(err, ROTP_E_OK, "%s", "");
}

/* ---- operations -------------------------------------------------------------------------- */

/* Checks the kind and vault, and the id when need_id; fills path. */
static int32_t prepare(rotp_instance *in, const rotp_params *req, bool need_id, char *path,
                       size_t cap, rotp_error *err)
{
    const char *kind = get(req, "kind"), *vault = get(req, "vault"), *id = get(req, "id");
    if (kind == NULL || strcmp(kind, "fileprov.key") != 0)
        return fail(err, ROTP_E_INVALID_ARGUMENT, "unknown kind");
    if (!safe_name(vault))
        return fail(err, ROTP_E_INVALID_ARGUMENT, "vault missing or not [A-Za-z0-9_-]");
    if ((need_id || id != NULL) && !safe_name(id))
        return fail(err, ROTP_E_INVALID_ARGUMENT, "id missing or not [A-Za-z0-9_-]");
    if (key_path(in, vault, id, path, cap) != 0)
        return fail(err, ROTP_E_INVALID_ARGUMENT, "path too long");
    return ROTP_E_OK;
}

static int32_t fp_describe(rotp_instance *in, const rotp_params *req, rotp_result *res,
                           rotp_error *err)
{
    char path[700];
    fkey k;
    int32_t rc = prepare(in, req, true, path, sizeof(path), err);
    if (rc != ROTP_E_OK)
        return rc;
    if (load_key(path, &k) != 0)
        return fail(err, ROTP_E_NOT_FOUND, "no key %s", get(req, "id"));
    int e = add(res, "id", get(req, "id"), 0) | add(res, "name", k.name, 0) |
            add(res, "status", "active", 0);
    explicit_bzero(&k, sizeof(k));
    return done(res, err, e);
}

/* replace: a new key named <name>.rot-<run_id> beside the old one. */
static int32_t roll_replace(rotp_instance *in, const rotp_params *req, fkey *k, rotp_result *res,
                            rotp_error *err)
{
    char path[700], id[40];
    const char *run_id = get(req, "run_id");
    fkey n;
    memset(&n, 0, sizeof(n));
    snprintf(n.name, sizeof(n.name), "%.60s.rot-%.40s", k->name,
             safe_name(run_id) ? run_id : "none");
    explicit_bzero(k, sizeof(*k));
    random_hex(id, 8);
    random_hex(n.value, 32);
    if (key_path(in, get(req, "vault"), id, path, sizeof(path)) != 0 || save_key(path, &n) != 0) {
        explicit_bzero(&n, sizeof(n));
        return fail(err, ROTP_E_INTERNAL, "cannot write the store");
    }
    int e = add(res, "id", id, 0) | add(res, "value", n.value, ROTP_PARAM_SECRET) |
            add(res, "replaced_id", get(req, "id"), 0);
    explicit_bzero(&n, sizeof(n));
    return done(res, err, e);
}

static int32_t fp_roll(rotp_instance *in, const rotp_params *req, rotp_result *res, rotp_error *err)
{
    char path[700], ends[32] = "";
    fkey k;
    const char *strategy = get(req, "strategy"), *ov = get(req, "overlap_seconds");
    long long overlap = ov != NULL ? atoll(ov) : 3600;
    int32_t rc = prepare(in, req, true, path, sizeof(path), err);
    if (rc != ROTP_E_OK)
        return rc;
    if (strategy != NULL && strcmp(strategy, "in-place") != 0 && strcmp(strategy, "overlap") != 0 &&
        strcmp(strategy, "replace") != 0)
        return fail(err, ROTP_E_INVALID_ARGUMENT, "unknown strategy");
    if (load_key(path, &k) != 0)
        return fail(err, ROTP_E_NOT_FOUND, "no key %s", get(req, "id"));
    if (strategy != NULL && strcmp(strategy, "replace") == 0)
        return roll_replace(in, req, &k, res, err);
    bool keep = strategy != NULL && strcmp(strategy, "overlap") == 0 && overlap > 0;
    snprintf(k.prev, sizeof(k.prev), "%s", keep ? k.value : "");
    k.prev_until = keep ? (long long)time(NULL) + overlap : 0;
    random_hex(k.value, 32);
    if (save_key(path, &k) != 0) {
        explicit_bzero(&k, sizeof(k));
        return fail(err, ROTP_E_INTERNAL, "cannot write the store: %s", strerror(errno));
    }
    if (keep) {
        time_t t = (time_t)k.prev_until;
        struct tm tm;
        strftime(ends, sizeof(ends), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    }
    int e = add(res, "id", get(req, "id"), 0) | add(res, "value", k.value, ROTP_PARAM_SECRET);
    if (ends[0])
        e |= add(res, "overlap_ends_at", ends, 0);
    explicit_bzero(&k, sizeof(k));
    return done(res, err, e);
}

static bool matches(const fkey *k, const char *v)
{
    return (k->value[0] && strcmp(k->value, v) == 0) ||
           (k->prev[0] && strcmp(k->prev, v) == 0 && (long long)time(NULL) < k->prev_until);
}

static int32_t fp_verify(rotp_instance *in, const rotp_params *req, rotp_result *res,
                         rotp_error *err)
{
    char path[700];
    fkey k;
    const char *v = get(req, "value"), *id = get(req, "id");
    int32_t rc = prepare(in, req, false, path, sizeof(path), err);
    if (rc != ROTP_E_OK)
        return rc;
    if (v == NULL)
        return fail(err, ROTP_E_INVALID_ARGUMENT, "verify needs value");
    if (id != NULL && load_key(path, &k) != 0)
        return fail(err, ROTP_E_NOT_FOUND, "no key %s", id);
    bool ok = id != NULL && matches(&k, v);
    explicit_bzero(&k, sizeof(k));
    int e = add(res, "state", ok ? "active" : "invalid", 0);
    if (id != NULL)
        e |= add(res, "id", id, 0);
    return done(res, err, e);
}

static int32_t fp_revoke(rotp_instance *in, const rotp_params *req, rotp_result *res,
                         rotp_error *err)
{
    char path[700];
    fkey k;
    const char *strategy = get(req, "strategy");
    int32_t rc = prepare(in, req, true, path, sizeof(path), err);
    if (rc != ROTP_E_OK)
        return rc;
    if (load_key(path, &k) != 0)
        return done(res, err, add(res, "state", "absent", 0));
    if (strategy != NULL && strcmp(strategy, "overlap") == 0) {
        k.prev[0] = '\0';
        k.prev_until = 0;
        rc = save_key(path, &k) == 0 ? ROTP_E_OK : ROTP_E_INTERNAL;
    } else {
        rc = unlink(path) == 0 ? ROTP_E_OK : ROTP_E_INTERNAL;
    }
    explicit_bzero(&k, sizeof(k));
    if (rc != ROTP_E_OK)
        return fail(err, rc, "cannot change the store: %s", strerror(errno));
    return done(res, err, add(res, "state", "revoked", 0));
}

static int32_t fp_provision(rotp_instance *in, const rotp_params *req, rotp_result *res,
                            rotp_error *err)
{
    char path[700], id[40];
    fkey k;
    const char *name = get(req, "name");
    int32_t rc = prepare(in, req, false, path, sizeof(path), err);
    if (rc != ROTP_E_OK)
        return rc;
    if (name == NULL || strlen(name) >= sizeof(k.name) || strchr(name, '\n'))
        return fail(err, ROTP_E_INVALID_ARGUMENT, "provision needs a name (one line)");
    memset(&k, 0, sizeof(k));
    snprintf(k.name, sizeof(k.name), "%s", name);
    random_hex(id, 8);
    random_hex(k.value, 32);
    mkdir(path, 0700); /* the vault directory (path ends with '/') */
    strncat(path, id, sizeof(path) - strlen(path) - 1);
    if (save_key(path, &k) != 0) {
        explicit_bzero(&k, sizeof(k));
        return fail(err, ROTP_E_INTERNAL, "cannot write the store: %s", strerror(errno));
    }
    int e = add(res, "id", id, 0) | add(res, "name", k.name, 0) |
            add(res, "value", k.value, ROTP_PARAM_SECRET);
    explicit_bzero(&k, sizeof(k));
    return done(res, err, e);
}

static int32_t fp_list(rotp_instance *in, const rotp_params *req, rotp_result *res, rotp_error *err)
{
    char path[700], items[8192] = "[";
    size_t n = 1;
    int32_t rc = prepare(in, req, false, path, sizeof(path), err);
    if (rc != ROTP_E_OK)
        return rc;
    DIR *d = opendir(path);
    for (struct dirent *e = d ? readdir(d) : NULL; e != NULL; e = readdir(d)) {
        char kp[1000];
        fkey k;
        if (!safe_name(e->d_name))
            continue;
        snprintf(kp, sizeof(kp), "%s%s", path, e->d_name);
        if (load_key(kp, &k) == 0 && n + strlen(k.name) + 80 < sizeof(items))
            n += (size_t)snprintf(items + n, sizeof(items) - n, "%s{\"id\":\"%s\",\"name\":\"%s\"}",
                                  n > 1 ? "," : "", e->d_name, k.name);
        explicit_bzero(&k, sizeof(k));
    }
    if (d != NULL)
        closedir(d);
    snprintf(items + n, sizeof(items) - n, "]");
    return done(res, err, add(res, "items", items, 0));
}

/* ---- the table --------------------------------------------------------------------------- */

static int32_t fp_open(const rotp_host *host, const rotp_params *config, rotp_instance **out,
                       rotp_error *err)
{
    char path[600], admin[256] = "";
    const char *store = get(config, "store"), *token = get(config, "admin_token");
    (void)host;
    *out = NULL;
    if (store == NULL || strlen(store) > 400)
        return fail(err, ROTP_E_INVALID_ARGUMENT, "config: store is required");
    snprintf(path, sizeof(path), "%s/admin", store);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return fail(err, ROTP_E_INVALID_ARGUMENT, "config: %s: %s", path, strerror(errno));
    if (fgets(admin, sizeof(admin), f) == NULL)
        admin[0] = '\0';
    fclose(f);
    admin[strcspn(admin, "\n")] = '\0';
    bool ok = token != NULL && admin[0] && strcmp(token, admin) == 0;
    explicit_bzero(admin, sizeof(admin));
    if (!ok) {
        fail(err, ROTP_E_CREDENTIAL_INVALID, "the admin token does not match the store's");
        err->flags = ROTP_ERRF_MANAGEMENT_CREDENTIAL;
        return ROTP_E_CREDENTIAL_INVALID;
    }
    *out = calloc(1, sizeof(**out));
    if (*out == NULL)
        return fail(err, ROTP_E_NO_MEMORY, "out of memory");
    snprintf((*out)->store, sizeof((*out)->store), "%s", store);
    return fail(err, ROTP_E_OK, "%s", "");
}

static void fp_close(rotp_instance *in)
{
    free(in);
}

static const char *fp_strerror(int32_t code)
{
    return code == ROTP_E_OK ? "success" : "error";
}

static const rotp_provider fp_table = {
    .struct_size = sizeof(rotp_provider),
    .abi_major = ROTP_ABI_MAJOR,
    .abi_minor = ROTP_ABI_MINOR,
    .name = "fileprov",
    .version = "0.1.0",
    .kinds = fp_kinds,
    .open = fp_open,
    .close = fp_close,
    .describe = fp_describe,
    .roll = fp_roll,
    .verify = fp_verify,
    .revoke = fp_revoke,
    .provision = fp_provision,
    .list = fp_list,
    .result_free = fp_result_free,
    .strerror = fp_strerror,
    .nconfig_keys = sizeof(fp_config) / sizeof(fp_config[0]),
    .config_keys = fp_config,
    .kind_info = fp_kind_info,
};

ROTP_EXPORT const rotp_provider *rotp_provider_entry_v1(uint32_t host_minor, const rotp_host *host,
                                                        rotp_error *err)
{
    (void)host_minor;
    if (host == NULL || err == NULL)
        return NULL;
    return &fp_table;
}
