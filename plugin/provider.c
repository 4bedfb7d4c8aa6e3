/* SPDX-License-Identifier: MIT */
/* provider.c - the ABI surface of cloudflare.so: the entry point, the operations table, provider
 * instances (open/close) and the dispatch of each operation to the adapter of the request's kind.
 *
 * Version negotiation: the host passes its ROTP_ABI_MINOR; the provider serves
 * min(host_minor, ROTP_ABI_MINOR) with one table: every struct the host hands over is read
 * through its own struct_size, and a 1.0 host never reads the 1.1 fields appended after
 * strerror (the self-description: config_key_info here, the kinds' tables in adapters/), nor a
 * 1.1 host the 1.2 operation set_wait after them, so any host minor is accepted. Requests and configs are checked against those same tables.
 *
 * libcurl: curl_global_init() is called by every open() and balanced by curl_global_cleanup()
 * in close(). On a libcurl built with CURL_VERSION_THREADSAFE (7.84+ with the default threaded
 * resolver and OpenSSL) both are thread-safe and reference-counted, so instances may be opened
 * and closed on different threads. On an older libcurl the host must not open or close
 * instances concurrently with other libcurl users; the provider logs a warning and still
 * initialises. The provider keeps no global mutable state of its own. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "adapter.h"
#include "alloc.h"
#include "error.h"
#include "http.h"
#include "ids.h"
#include "instance.h"
#include "kind_info.h"
#include "log.h"
#include "params.h"
#include "rotp.h"
#include "rotp_cloudflare.h"
#include "rotp_version.h"
#include "secret.h"

#define DEFAULT_API_BASE   "https://api.cloudflare.com/client/v4"
#define DEFAULT_USER_AGENT "rotp-cloudflare/" ROTP_PROJECT_VERSION
#define MGMT_ID_SLOTS      8 /* management-token ids cached per scope ("user" or an account id) */
#define SCOPE_MAX          40
#define TOKEN_ID_MAX       40
#define CA_FILE_MAX        4096
#define USER_AGENT_MAX     256

/* Struct sizes of ABI 1.0: the smallest a host may hand over. */
#define HOST_V1_0_SIZE   (offsetof(rotp_host, log_user) + sizeof(void *))
#define RESULT_V1_0_SIZE (offsetof(rotp_result, provider_data) + sizeof(void *))
/* An error struct must at least hold its code; the rest is written only where it fits. */
#define ERROR_MIN_SIZE (offsetof(rotp_error, code) + sizeof(int32_t))

struct mgmt_id {
    char scope[SCOPE_MAX];
    char id[TOKEN_ID_MAX];
};

/* What the current operation's state-changing requests did (instance.h, the sent rule). */
struct change_note {
    int state; /* CF_CHANGE_* */
    char what[160];
    char recovery[256];
};

/* One provider instance: what open() read from the config, the HTTP client and the caches.
 * Used by one thread at a time; nothing in it is shared with other instances. */
struct rotp_instance {
    plog log;          /* the host's log callback; knows mgmt for redaction */
    http_client *http; /* one libcurl handle, reused across calls */
    secret_buf *mgmt;  /* the management token (config api_token) */
    struct mgmt_id mgmt_ids[MGMT_ID_SLOTS];
    size_t nmgmt_ids;
    long timeout_ms;
    long connect_timeout_ms;
    int max_retries;
    bool allow_insecure_loopback;
    bool curl_initialised; /* curl_global_init() succeeded: close() balances it */
    struct change_note change;
};

/* The config vocabulary, published to hosts (ABI 1.1) and applied by open(): defaults and ranges
 * below are the ones read_config() uses. */
static const char *const mgmt_env[] = {"CF_ACCESS_MGMT", "CLOUDFLARE_ACCESS_MGMT_TOKEN",
                                       "CLOUDFLARE_API_TOKEN", NULL};
static const char *const api_base_env[] = {"CLOUDFLARE_API_BASE_URL", "CF_API_BASE", NULL};

static const rotp_key_info config_key_info[] = {
    KI_FULL("api_token", "token", ROTP_KEY_SECRET, ROTP_ROLE_MANAGEMENT, 0,
            ROTP_KEY_REQUIRED_CONFIG, 0, NULL, mgmt_env, NULL, 0, 0,
            "the management token that calls Cloudflare (never echoed)"),
    KI_FULL("api_base", "url", 0, ROTP_ROLE_ENDPOINT, 0, 0, 0, DEFAULT_API_BASE, api_base_env, NULL,
            0, 0,
            "API base URL; https:// only, http:// only to loopback with allow_insecure_loopback"),
    KI("ca_file", "path", 0, ROTP_ROLE_CA_FILE, 0, 0,
       "a PEM bundle to verify the server with (default: the system store)"),
    KI_FULL("allow_insecure_loopback", "bool", 0, ROTP_ROLE_INSECURE_LOOPBACK, 0, 0, 0, "0", NULL,
            NULL, 0, 0, "1 permits plain http:// to 127.0.0.1, ::1 or localhost only"),
    KI_FULL("timeout_ms", "int", 0, ROTP_ROLE_TIMEOUT, 0, 0, 0, "30000", NULL, NULL, 100, 600000,
            "total time of one call, retries included, in milliseconds"),
    KI_FULL("connect_timeout_ms", "int", 0, ROTP_ROLE_NONE, 0, 0, 0, "10000", NULL, NULL, 100,
            600000, "connect timeout in milliseconds (capped at timeout_ms)"),
    KI_FULL("max_retries", "int", 0, ROTP_ROLE_NONE, 0, 0, 0, "3", NULL, NULL, 0, 10,
            "extra attempts for idempotent requests"),
    /* issue 12: the provider paces itself to Cloudflare's rate limit; a longer wait fails */
    KI_FULL("max_wait_seconds", "int", 0, ROTP_ROLE_NONE, 0, 0, 0, "360", NULL, NULL, 0, 86400,
            "longest wait for the rate limit of a token before a request (a longer one fails "
            "with RATE_LIMITED and sends nothing); not part of timeout_ms"),
    KI_FULL("user_agent", "text", 0, ROTP_ROLE_NONE, 0, 0, 0, DEFAULT_USER_AGENT, NULL, NULL, 0, 0,
            "HTTP User-Agent (no CR/LF, at most 256 bytes)"),
    /* security (issue 9): the provider reads the environment itself when the key is absent */
    KI("proxy", "url", 0, ROTP_ROLE_PROXY, 0, 0,
       "absent: the environment's https_proxy/all_proxy/no_proxy as libcurl reads them (loopback "
       "always direct); none: no proxy at all; or an http(s):// or socks5(h):// URL used for "
       "every request; TLS to the API always runs end to end through a CONNECT tunnel"),
};

enum op_id { OP_DESCRIBE, OP_ROLL, OP_VERIFY, OP_REVOKE, OP_PROVISION, OP_LIST };
static const char *const op_names[] = {"describe", "roll", "verify", "revoke", "provision", "list"};
static const uint32_t op_bits[] = {ROTP_OP_DESCRIBE, ROTP_OP_ROLL,      ROTP_OP_VERIFY,
                                   ROTP_OP_REVOKE,   ROTP_OP_PROVISION, ROTP_OP_LIST};

/* ------------------------------------------------------------------------------------------- */
/* Accessors for adapters (instance.h) */

http_client *cf_inst_http(cf_inst *inst)
{
    return inst->http;
}

const plog *cf_inst_log(const cf_inst *inst)
{
    return &inst->log;
}

const secret_buf *cf_inst_mgmt(const cf_inst *inst)
{
    return inst->mgmt;
}

int32_t cf_inst_set_mgmt(cf_inst *inst, const char *value, size_t len, rotp_error *err)
{
    /* secret_set() keeps the same secret_buf, so the logger's registration stays valid. */
    if (secret_set(inst->mgmt, value, len) != 0)
        return rerr_set(err, ROTP_E_NO_MEMORY,
                        "out of memory storing the new management token; the old one is kept");
    return ROTP_E_OK;
}

const char *cf_inst_mgmt_id(const cf_inst *inst, const char *scope)
{
    if (scope == NULL)
        return NULL;
    for (size_t i = 0; i < inst->nmgmt_ids; i++) {
        if (strcmp(inst->mgmt_ids[i].scope, scope) == 0)
            return inst->mgmt_ids[i].id;
    }
    return NULL;
}

void cf_inst_set_mgmt_id(cf_inst *inst, const char *scope, const char *id)
{
    size_t i;

    if (scope == NULL || strlen(scope) >= SCOPE_MAX)
        return;
    for (i = 0; i < inst->nmgmt_ids; i++) {
        if (strcmp(inst->mgmt_ids[i].scope, scope) == 0)
            break;
    }
    if (id == NULL || strlen(id) >= TOKEN_ID_MAX) {
        /* Forget the scope: a stale id must not outlive a failed lookup. */
        if (i < inst->nmgmt_ids) {
            inst->mgmt_ids[i] = inst->mgmt_ids[inst->nmgmt_ids - 1];
            memset(&inst->mgmt_ids[inst->nmgmt_ids - 1], 0, sizeof(inst->mgmt_ids[0]));
            inst->nmgmt_ids--;
        }
        return;
    }
    if (i == inst->nmgmt_ids) {
        if (inst->nmgmt_ids == MGMT_ID_SLOTS) {
            /* Full: drop the oldest entry. */
            memmove(&inst->mgmt_ids[0], &inst->mgmt_ids[1],
                    (MGMT_ID_SLOTS - 1) * sizeof(inst->mgmt_ids[0]));
            i = MGMT_ID_SLOTS - 1;
        } else {
            inst->nmgmt_ids++;
        }
    }
    memset(&inst->mgmt_ids[i], 0, sizeof(inst->mgmt_ids[i]));
    memcpy(inst->mgmt_ids[i].scope, scope, strlen(scope));
    memcpy(inst->mgmt_ids[i].id, id, strlen(id));
}

void cf_inst_remember(cf_inst *inst, const secret_buf *s)
{
    plog_remember(&inst->log, s);
}

void cf_inst_forget(cf_inst *inst, const secret_buf *s)
{
    plog_forget(&inst->log, s);
}

int64_t cf_inst_now(const cf_inst *inst)
{
    (void)inst;
    return (int64_t)time(NULL);
}

void cf_inst_change_reset(cf_inst *inst)
{
    memset(&inst->change, 0, sizeof(inst->change));
}

void cf_inst_change_note(cf_inst *inst, int change, const char *what, const char *recovery)
{
    if (change <= inst->change.state)
        return;
    inst->change.state = change;
    snprintf(inst->change.what, sizeof(inst->change.what), "%s", what != NULL ? what : "");
    snprintf(inst->change.recovery, sizeof(inst->change.recovery), "%s",
             recovery != NULL ? recovery : "");
}


int cf_inst_change(const cf_inst *inst, const char **what, const char **recovery)
{
    if (what != NULL)
        *what = inst->change.what;
    if (recovery != NULL)
        *recovery = inst->change.recovery;
    return inst->change.state;
}

/* ------------------------------------------------------------------------------------------- */
/* Helpers for the ABI functions */

static bool err_usable(const rotp_error *err)
{
    return err != NULL && err->struct_size >= ERROR_MIN_SIZE;
}

/* Stores the final code in *err (the only field ERROR_MIN_SIZE guarantees). */
static int32_t finish_code(rotp_error *err, int32_t rc)
{
    if (rc != ROTP_E_OK && err->code != rc)
        rerr_set(err, rc, "%s", rerr_message(rc));
    err->code = rc;
    return rc;
}

/* ------------------------------------------------------------------------------------------- */
/* open / close */

static void provider_close(rotp_instance *inst)
{
    bool curl_initialised;

    if (inst == NULL)
        return;
    curl_initialised = inst->curl_initialised;
    http_client_free(inst->http);
    if (inst->mgmt != NULL)
        plog_forget(&inst->log, inst->mgmt);
    secret_free(inst->mgmt);
    secret_wipe(inst, sizeof(*inst));
    rotp__free(inst);
    if (curl_initialised)
        curl_global_cleanup();
}

/* Reads the config (checked against config_key_info: keys, formats, ranges, defaults) into inst
 * and creates the HTTP client. */
static int32_t read_config(rotp_instance *inst, const rotp_params *config, rotp_error *err)
{
    int32_t rc;
    preq cfg;
    const char *v;
    size_t vlen = 0;
    char *api_base = NULL, *ca_file = NULL, *user_agent = NULL, *proxy = NULL;
    http_config hc;

    rc = preq_check(&cfg, config, config_key_info, COUNT_OF(config_key_info), 0, NULL, "config",
                    err);
    if (rc != ROTP_E_OK)
        return rc;
    v = preq_get(&cfg, "api_token", &vlen);
    if (!secret_shape_ok(v, vlen))
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                        "config: api_token is not shaped like a Cloudflare token "
                        "(at most 512 characters of A-Z a-z 0-9 - . _ ~ + / and trailing =)");
    inst->mgmt = secret_new(v, vlen);
    if (inst->mgmt == NULL)
        return rerr_set(err, ROTP_E_NO_MEMORY, "config: out of memory storing api_token");
    plog_remember(&inst->log, inst->mgmt);

    inst->timeout_ms = (long)preq_int(&cfg, "timeout_ms");
    inst->connect_timeout_ms = (long)preq_int(&cfg, "connect_timeout_ms");
    inst->max_retries = (int)preq_int(&cfg, "max_retries");
    inst->allow_insecure_loopback = preq_bool(&cfg, "allow_insecure_loopback");

    api_base = rotp__malloc(HTTP_MAX_URL);
    ca_file = rotp__malloc(CA_FILE_MAX);
    user_agent = rotp__malloc(USER_AGENT_MAX + 1);
    proxy = rotp__malloc(HTTP_MAX_URL);
    if (api_base == NULL || ca_file == NULL || user_agent == NULL || proxy == NULL) {
        rc = rerr_set(err, ROTP_E_NO_MEMORY, "config: out of memory");
        goto out_free;
    }
    rc = preq_str(&cfg, "api_base", api_base, HTTP_MAX_URL, err);
    if (rc == ROTP_E_OK)
        rc = preq_str(&cfg, "ca_file", ca_file, CA_FILE_MAX, err);
    if (rc == ROTP_E_OK)
        rc = preq_str(&cfg, "user_agent", user_agent, USER_AGENT_MAX + 1, err);
    if (rc == ROTP_E_OK)
        rc = preq_str(&cfg, "proxy", proxy, HTTP_MAX_URL, err);
    if (rc != ROTP_E_OK)
        goto out_free;

    memset(&hc, 0, sizeof(hc));
    hc.api_base = api_base;
    hc.ca_file = ca_file[0] != '\0' ? ca_file : NULL;
    hc.allow_insecure_loopback = inst->allow_insecure_loopback;
    hc.timeout_ms = inst->timeout_ms;
    hc.connect_timeout_ms = inst->connect_timeout_ms;
    hc.max_retries = inst->max_retries;
    hc.user_agent = user_agent[0] != '\0' ? user_agent : DEFAULT_USER_AGENT;
    hc.proxy = proxy;
    hc.max_wait_ms = (uint64_t)preq_int(&cfg, "max_wait_seconds") * 1000u;
    rc = http_client_new(&hc, &inst->log, &inst->http, err);

out_free:
    rotp__free(proxy);
    rotp__free(user_agent);
    rotp__free(ca_file);
    rotp__free(api_base);
    return rc;
}

static int32_t provider_open(const rotp_host *host, const rotp_params *config, rotp_instance **out,
                             rotp_error *err)
{
    int32_t rc = ROTP_E_OK;
    rotp_instance *inst = NULL;
    const curl_version_info_data *vi;

    if (!err_usable(err)) {
        if (out != NULL)
            *out = NULL;
        return ROTP_E_INVALID_ARGUMENT;
    }
    rerr_clear(err);
    if (out == NULL)
        return finish_code(err, rerr_set(err, ROTP_E_INVALID_ARGUMENT, "open: out is NULL"));
    *out = NULL;
    if (config == NULL)
        return finish_code(err, rerr_set(err, ROTP_E_INVALID_ARGUMENT, "open: config is NULL"));

    inst = rotp__calloc(1, sizeof(*inst));
    if (inst == NULL)
        return finish_code(err, rerr_set(err, ROTP_E_NO_MEMORY, "open: out of memory"));
    plog_init(&inst->log, host);

    vi = curl_version_info(CURLVERSION_NOW);
    if (vi == NULL || (vi->features & CURL_VERSION_THREADSAFE) == 0)
        plog_write(&inst->log, ROTP_LOG_WARN,
                   "libcurl %s lacks CURL_VERSION_THREADSAFE: do not open or close instances "
                   "on several threads at once",
                   vi != NULL ? vi->version : "(unknown)");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        rc = rerr_set(err, ROTP_E_NO_MEMORY, "open: libcurl could not be initialised");
        goto out_close;
    }
    inst->curl_initialised = true;

    rc = read_config(inst, config, err);
    if (rc != ROTP_E_OK)
        goto out_close;
    plog_write(&inst->log, ROTP_LOG_DEBUG, "cloudflare provider %s: instance open",
               ROTP_PROJECT_VERSION);
    *out = inst;
    return finish_code(err, ROTP_E_OK);

out_close:
    provider_close(inst);
    return finish_code(err, rc);
}

/* ------------------------------------------------------------------------------------------- */
/* Operations */

static adapter_op pick_op(const adapter *a, enum op_id op)
{
    switch (op) {
    case OP_DESCRIBE:
        return a->describe;
    case OP_ROLL:
        return a->roll;
    case OP_VERIFY:
        return a->verify;
    case OP_REVOKE:
        return a->revoke;
    case OP_PROVISION:
        return a->provision;
    case OP_LIST:
        return a->list;
    }
    return NULL;
}

/* The adapter for the request's kind, or an INVALID_ARGUMENT naming the kinds. */
static int32_t find_adapter(const rotp_params *req, const adapter **out, rotp_error *err)
{
    size_t len = 0, n = 0;
    const char *kind = params_get(req, "kind", &len);
    bool printable = len <= 64;
    char list[256];

    *out = NULL;
    for (size_t i = 0; kind != NULL && adapter_registry[i] != NULL; i++) {
        const char *name = adapter_registry[i]->info->kind;
        if (strlen(name) == len && memcmp(name, kind, len) == 0) {
            *out = adapter_registry[i];
            return ROTP_E_OK;
        }
    }
    list[0] = '\0';
    for (size_t i = 0; adapter_kinds[i] != NULL && n < sizeof(list); i++)
        n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i > 0 ? ", " : "",
                              adapter_kinds[i]);
    if (kind == NULL || len == 0)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "request: missing kind (one of %s)", list);
    for (size_t i = 0; i < len && printable; i++)
        printable = kind[i] > 0x20 && kind[i] < 0x7f;
    if (printable)
        return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "request: unknown kind '%.*s' (one of %s)",
                        (int)len, kind, list);
    return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "request: unknown kind (one of %s)", list);
}

/* The sent rule (ABI.md section 8): a failure after a state change that may have been applied
 * is OUTCOME_UNKNOWN with REQUEST_SENT, whatever failed (an allocation included), with the
 * change's recovery advice. A failure the adapter already reported so keeps its message. */
static int32_t sent_rule(rotp_instance *inst, int32_t rc, rotp_error *err)
{
    const char *what = "", *recovery = "";
    int change = cf_inst_change(inst, &what, &recovery);
    char prev[ROTP_ERROR_MESSAGE_MAX];
    const char *why = prev;

    if (rc == ROTP_E_OK || change == CF_CHANGE_NONE)
        return rc;
    rerr_flag(err, ROTP_ERRF_REQUEST_SENT);
    if (rc == ROTP_E_OUTCOME_UNKNOWN)
        return rc;
    memcpy(prev, err->message, sizeof(prev));
    prev[sizeof(prev) - 1] = '\0';
    if (strncmp(prev, what, strlen(what)) == 0 && strncmp(prev + strlen(what), ": ", 2) == 0)
        why = prev + strlen(what) + 2;
    err->retryable = 0;
    err->retry_after_ms = 0;
    return rerr_set(err, ROTP_E_OUTCOME_UNKNOWN, "%s: the change %s, then this failed: %s (%s)%s%s",
                    what, change == CF_CHANGE_APPLIED ? "was applied" : "may have been applied",
                    rerr_name(rc), why, recovery[0] != '\0' ? ". " : "", recovery);
}

/* Checks the request against the kind's description for op and runs the adapter's operation
 * into res. The error is a complete provider-owned struct. */
static int32_t dispatch(enum op_id op, rotp_instance *inst, const rotp_params *req,
                        rotp_result *res, rotp_error *err)
{
    const adapter *a = NULL;
    adapter_op fn;
    result_builder rb;
    preq r;
    char what[96];
    int32_t rc = params_check(req, "request", err);

    if (rc == ROTP_E_OK)
        rc = find_adapter(req, &a, err);
    if (rc != ROTP_E_OK)
        return rc;
    fn = pick_op(a, op);
    if (fn == NULL || (a->info->ops & op_bits[op]) == 0)
        return rerr_set(err, ROTP_E_UNSUPPORTED, "%s does not support %s", a->info->kind,
                        op_names[op]);
    snprintf(what, sizeof(what), "request (%s %s)", a->info->kind, op_names[op]);
    rc = preq_check(&r, req, a->info->request_keys, a->info->nrequest_keys, op_bits[op], "kind",
                    what, err);
    if (rc != ROTP_E_OK)
        return rc;

    rb_init(&rb);
    cf_inst_change_reset(inst);
    rc = fn(inst, &r, &rb, err);
    if (rc == ROTP_E_OK)
        rc = rb_finish(&rb, res, err);
    else
        rb_free(&rb);
    rc = sent_rule(inst, rc, err);
    cf_inst_change_reset(inst);
    if (rc != ROTP_E_OK)
        plog_write(&inst->log, ROTP_LOG_DEBUG, "%s %s: failed with %s", op_names[op], a->info->kind,
                   rerr_name(rc));
    return rc;
}

/* Common body of every operation: argument checks, then dispatch() with a complete error struct
 * whose fields are copied into the host's as far as its struct_size reaches. */
static int32_t run_op(enum op_id op, rotp_instance *inst, const rotp_params *req, rotp_result *res,
                      rotp_error *err)
{
    rotp_error e;
    int32_t rc;

    if (!err_usable(err))
        return ROTP_E_INVALID_ARGUMENT;
    rerr_clear(err);
    if (res == NULL || res->struct_size < RESULT_V1_0_SIZE)
        return finish_code(err, rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                                         "%s: result is NULL or its struct_size is below ABI "
                                         "1.0's",
                                         op_names[op]));
    /* The host hands over an empty result (ABI.md); make sure failure leaves it empty. */
    res->count = 0;
    res->items = NULL;
    res->provider_data = NULL;
    if (inst == NULL || req == NULL)
        return finish_code(err, rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                                         "%s: instance or request is NULL", op_names[op]));
    rerr_init(&e);
    /* Redaction knows the call's secrets until its error message is final (log.h). */
    plog_call_begin(&inst->log, req);
    rc = dispatch(op, inst, req, res, &e);
    if (rc == ROTP_E_OK)
        rerr_init(&e);
    e.code = rc;
    plog_redact_error(&inst->log, &e);
    plog_call_end(&inst->log);
    rerr_copy(err, &e);
    secret_wipe(&e, sizeof(e));
    return finish_code(err, rc);
}

static int32_t op_describe(rotp_instance *inst, const rotp_params *req, rotp_result *res,
                           rotp_error *err)
{
    return run_op(OP_DESCRIBE, inst, req, res, err);
}

static int32_t op_roll(rotp_instance *inst, const rotp_params *req, rotp_result *res,
                       rotp_error *err)
{
    return run_op(OP_ROLL, inst, req, res, err);
}

static int32_t op_verify(rotp_instance *inst, const rotp_params *req, rotp_result *res,
                         rotp_error *err)
{
    return run_op(OP_VERIFY, inst, req, res, err);
}

static int32_t op_revoke(rotp_instance *inst, const rotp_params *req, rotp_result *res,
                         rotp_error *err)
{
    return run_op(OP_REVOKE, inst, req, res, err);
}

static int32_t op_provision(rotp_instance *inst, const rotp_params *req, rotp_result *res,
                            rotp_error *err)
{
    return run_op(OP_PROVISION, inst, req, res, err);
}

static int32_t op_list(rotp_instance *inst, const rotp_params *req, rotp_result *res,
                       rotp_error *err)
{
    return run_op(OP_LIST, inst, req, res, err);
}

static int32_t provider_set_wait(rotp_instance *inst, rotp_wait_fn fn, void *user)
{
    if (inst == NULL)
        return ROTP_E_INVALID_ARGUMENT;
    http_client_set_wait(inst->http, fn, user);
    return ROTP_E_OK;
}

/* ------------------------------------------------------------------------------------------- */
/* The table and the entry point */

/* ROTP_PROVIDER_AS_1_0 builds a test fixture that presents itself as a 1.0 provider: the table
 * ends at strerror and says minor 0 (tests/abi: a 1.1 host must cope with it). */
#ifdef ROTP_PROVIDER_AS_1_0
#define TABLE_SIZE  (offsetof(rotp_provider, strerror) + sizeof(void *))
#define TABLE_MINOR 0
#else
#define TABLE_SIZE  sizeof(rotp_provider)
#define TABLE_MINOR ROTP_ABI_MINOR
#endif

static const rotp_provider provider_table = {
    .struct_size = TABLE_SIZE,
    .abi_major = ROTP_ABI_MAJOR,
    .abi_minor = TABLE_MINOR,
    .reserved0 = 0,
    .name = "cloudflare",
    .version = ROTP_PROJECT_VERSION,
    .kinds = adapter_kinds,
    .open = provider_open,
    .close = provider_close,
    .describe = op_describe,
    .roll = op_roll,
    .verify = op_verify,
    .revoke = op_revoke,
    .provision = op_provision,
    .list = op_list,
    .result_free = params_result_free,
    .strerror = rerr_message,
    .nconfig_keys = COUNT_OF(config_key_info),
    .reserved1 = 0,
    .config_keys = config_key_info,
    .kind_info = adapter_kind_info,
    .set_wait = provider_set_wait,
};

/* The entry point under this provider's own name, so that several providers can be linked into
 * one program (ROTP_BUILD_STATIC_PROVIDER). In the module it stays local: only the standard name
 * below is exported. */
ROTP_CLOUDFLARE_API const rotp_provider *
rotp_cloudflare_provider_entry_v1(uint32_t host_minor, const rotp_host *host, rotp_error *err)
{
    if (!err_usable(err))
        return NULL;
    rerr_clear(err);
    if (host == NULL) {
        finish_code(err, rerr_set(err, ROTP_E_INVALID_ARGUMENT, "entry: host is NULL"));
        return NULL;
    }
    if (host->struct_size < HOST_V1_0_SIZE) {
        finish_code(err, rerr_set(err, ROTP_E_INVALID_ARGUMENT,
                                  "entry: host struct_size %u is below ABI 1.0's %zu",
                                  (unsigned)host->struct_size, (size_t)HOST_V1_0_SIZE));
        return NULL;
    }
    /* min(host_minor, ROTP_ABI_MINOR) is served. The one table serves every minor: a 1.0 host
     * never reads the 1.1 fields appended after strerror. */
    (void)host_minor;
    return &provider_table;
}

#ifndef ROTP_STATIC_PROVIDER
ROTP_EXPORT const rotp_provider *rotp_provider_entry_v1(uint32_t host_minor, const rotp_host *host,
                                                        rotp_error *err)
{
    return rotp_cloudflare_provider_entry_v1(host_minor, host, err);
}
#endif
