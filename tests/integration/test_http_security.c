/* SPDX-License-Identifier: MIT */
/* test_http_security.c - the provider's network rules, proven from the outside: cloudflare.so
 * loaded with dlopen() as a host loads it, driven through rotp_provider_entry_v1's table (the
 * API-token and service-token adapters are the vehicles), against private cfemus.
 *
 * What it proves (issue 2, "HTTP", "Retries", "Secrets"):
 *  - TLS is verified: a CA that did not sign the server, the system store, and a certificate
 *    for another host all give ROTP_E_TLS, and cfemu never sees the request (probe URLs too);
 *  - one instance reuses its connection for reads, and a state change gets a connection of
 *    its own;
 *  - scheme rules: https anywhere; http only to loopback with allow_insecure_loopback; other
 *    schemes, non-loopback http, CR/LF, spaces, user info refused at open;
 *  - no redirects are followed, for a GET or a PUT;
 *  - bodies are capped at 1 MiB; truncated, malformed and mislabelled bodies are errors;
 *  - GETs and DELETEs are retried (429 with Retry-After, 5xx, resets) within max_retries and
 *    timeout_ms; a PUT never is, and a lost answer to a PUT is OUTCOME_UNKNOWN with
 *    ROTP_ERRF_REQUEST_SENT, never success; a refused connection is TRANSIENT, not sent;
 *  - timeouts: TRANSIENT for a GET, OUTCOME_UNKNOWN for a PUT;
 *  - CR/LF in any value bound for a header or a URL is INVALID_ARGUMENT, and nothing is sent;
 *  - no secret (management token, verified values, rolled values, service-token secrets) ever
 *    appears in a log line (captured at DEBUG level) or an error message.
 *
 * Process layout: one TLS cfemu (built-in seed) for the file, plus an --insecure-http cfemu for
 * the plain-http cases, and (in one test) a second TLS cfemu whose CA is the "wrong" one.
 * In-process helpers: a tiny plain-HTTP server that answers with redirects, and a TCP relay
 * that counts connections and lets a client reach cfemu under a name its certificate does not
 * hold (127.0.0.2). Tests that roll the target learn a fresh value first, so their order does
 * not matter. No test asserts a duration; the only waits are bounded polls for a delayed
 * request to finish inside cfemu. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfemu_fixture.h"
#include "json.h"
#include "rotp.h"

#ifndef ROTP_PLUGIN_PATH
#define ROTP_PLUGIN_PATH "cloudflare.so"
#endif

#define MAX_SECRETS 256
#define MAX_LINES   20000
#define MAX_KV      64
#define VAL_MAX     1024

#define KIND_USER "cloudflare.user_token"
#define KIND_ST   "cloudflare.access_service_token"

/* ---------------------------------------------------------------------------------------------
 * Process-wide state: the provider, the captured log, every secret seen, the cfemus
 * ------------------------------------------------------------------------------------------- */

static void *g_dl;
static const rotp_provider *g_prov;
static char *g_secrets[MAX_SECRETS];
static size_t g_nsecrets;
static char *g_lines[MAX_LINES];
static size_t g_nlines;

static cfemu_fx g_fx;       /* TLS, the one most tests talk to */
static cfemu_fx g_fx_http;  /* --insecure-http */
static cfemu_fx g_fx_other; /* TLS with another CA, only during test_tls_wrong_ca */
static bool g_fx_up, g_fx_http_up, g_fx_other_up;

typedef struct kv {
    int n;
    char *k[MAX_KV];
    char *v[MAX_KV];
} kv;

static kv g_creds;      /* creds.env of g_fx */
static kv g_creds_http; /* creds.env of g_fx_http */

static void note_secret(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return;
    for (size_t i = 0; i < g_nsecrets; i++)
        if (strcmp(g_secrets[i], s) == 0)
            return;
    assert_true(g_nsecrets < MAX_SECRETS);
    g_secrets[g_nsecrets] = strdup(s);
    assert_non_null(g_secrets[g_nsecrets]);
    g_nsecrets++;
}

static void host_log(void *user, int32_t level, const char *message, uint64_t len)
{
    (void)user;
    (void)level;
    if (g_nlines < MAX_LINES)
        g_lines[g_nlines++] = strndup(message, (size_t)len);
}

static const rotp_host g_host = {
    .struct_size = sizeof(rotp_host),
    .log_level = ROTP_LOG_DEBUG,
    .log = host_log,
    .log_user = NULL,
};

/* Fails when a captured line from index `from` on holds any secret seen so far (reports which,
 * never the value). */
static void assert_no_secret_in_log(size_t from)
{
    for (size_t l = from; l < g_nlines; l++) {
        for (size_t s = 0; g_lines[l] != NULL && s < g_nsecrets; s++) {
            if (strstr(g_lines[l], g_secrets[s]) != NULL) {
                fprintf(stderr, "log line %zu holds secret #%zu (%zu bytes)\n", l, s,
                        strlen(g_secrets[s]));
                fail();
            }
        }
    }
}

static void assert_no_secret_in(const char *text)
{
    for (size_t s = 0; s < g_nsecrets; s++) {
        if (strstr(text, g_secrets[s]) != NULL) {
            fprintf(stderr, "error message holds secret #%zu\n", s);
            fail();
        }
    }
}

static void kv_free(kv *m)
{
    for (int i = 0; i < m->n; i++) {
        free(m->k[i]);
        free(m->v[i]);
    }
    memset(m, 0, sizeof(*m));
}

static const char *kv_get(const kv *m, const char *key)
{
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->k[i], key) == 0)
            return m->v[i];
    return NULL;
}

static void kv_put(kv *m, const char *key, const char *value)
{
    assert_true(m->n < MAX_KV);
    m->k[m->n] = strdup(key);
    m->v[m->n] = strdup(value);
    m->n++;
}

/* Reads the dotenv file cfemu wrote with --creds-out; every value that is a secret is noted. */
static int creds_load(const cfemu_fx *fx, kv *out)
{
    char path[512], line[2048];
    FILE *f;

    snprintf(path, sizeof(path), "%s/creds.env", fx->dir);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        char *eq = strchr(line, '=');
        size_t len;

        if (line[0] == '#' || eq == NULL)
            continue;
        *eq = '\0';
        len = strlen(eq + 1);
        while (len > 0 && (eq[len] == '\n' || eq[len] == '\r'))
            eq[len--] = '\0';
        if (out->n >= MAX_KV)
            break;
        kv_put(out, line, eq + 1);
        if (strstr(line, "_VALUE") != NULL || strstr(line, "_CLIENT_SECRET") != NULL)
            note_secret(eq + 1);
    }
    fclose(f);
    return 0;
}

static const char *cred(const char *key)
{
    const char *v = kv_get(&g_creds, key);

    if (v == NULL)
        fprintf(stderr, "creds lack %s\n", key);
    assert_non_null(v);
    return v;
}

/* ---------------------------------------------------------------------------------------------
 * cfemu: request log and faults
 * ------------------------------------------------------------------------------------------- */

/* Counts request-log entries of fx with the method (NULL: any), a path ending with suffix (NULL:
 * any) and, when fault is non-NULL, that fault kind. */
static int log_count_fault(cfemu_fx *fx, const char *method, const char *suffix, const char *fault)
{
    char *body = cfemu_request_log(fx);
    json_doc d;
    int n = 0, arr;

    assert_non_null(body);
    assert_int_equal(json_parse(&d, body, strlen(body)), JSON_OK);
    arr = json_is_object(&d, 0) ? json_get(&d, 0, "result") : 0;
    assert_true(arr >= 0 && json_is_array(&d, arr));
    for (int i = 0; i < d.toks[arr].size; i++) {
        int e = json_at(&d, arr, i);
        int m = json_get(&d, e, "method");
        int p = json_get(&d, e, "path");
        int fk = json_get(&d, e, "fault");
        char pbuf[2048] = "";

        if (method != NULL && (m < 0 || !json_str_eq(&d, m, method)))
            continue;
        if (fault != NULL && (fk < 0 || !json_str_eq(&d, fk, fault)))
            continue;
        if (p >= 0)
            (void)json_strcpy(&d, p, pbuf, sizeof(pbuf));
        if (suffix != NULL && (strlen(pbuf) < strlen(suffix) ||
                               strcmp(pbuf + strlen(pbuf) - strlen(suffix), suffix) != 0))
            continue;
        n++;
    }
    json_free(&d);
    free(body);
    return n;
}

static int log_count(cfemu_fx *fx, const char *method, const char *suffix)
{
    return log_count_fault(fx, method, suffix, NULL);
}

/* Asserts that fx saw no request at all; prints what it saw otherwise (paths hold no secret). */
static void assert_no_request(cfemu_fx *fx)
{
    int n = log_count(fx, NULL, NULL);

    if (n != 0) {
        char *body = cfemu_request_log(fx);
        fprintf(stderr, "cfemu saw %d request(s): %s\n", n, body != NULL ? body : "?");
        free(body);
    }
    assert_int_equal(n, 0);
}

static void fault(const char *json)
{
    int rc = cfemu_fault(&g_fx, json);

    if (rc != 0)
        fprintf(stderr, "cfemu refused fault %s\n", json);
    assert_int_equal(rc, 0);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Waits (bounded) until cfemu has logged a request that carried the delay fault: the client gave
 * up on it, but cfemu finishes it later, and it must land before the next test starts. */
static void wait_for_delayed(const char *method)
{
    for (int i = 0; i < 300 && log_count_fault(&g_fx, method, NULL, "delay") == 0; i++)
        sleep_ms(50);
    assert_int_equal(log_count_fault(&g_fx, method, NULL, "delay"), 1);
}

/* ---------------------------------------------------------------------------------------------
 * Instances and calls
 * ------------------------------------------------------------------------------------------- */

/* A config; NULL fields are left out. token NULL: the seed's management token. */
typedef struct cfg {
    const char *api_base;
    const char *ca_file;
    const char *insecure;
    const char *timeout_ms;
    const char *connect_timeout_ms;
    const char *max_retries;
    const char *user_agent;
    const char *token;
    const char *max_wait_seconds;
} cfg;

/* Instances a test opened and has not closed yet: teardown closes them when an assertion cut
 * the test short, so a failure does not also show up as a leak. */
#define MAX_OPEN 16
static rotp_instance *g_open[MAX_OPEN];

/* test_connect_timeout's silent listener: teardown closes it when the test fails */
static int g_stall_fd = -1;

static void inst_track(rotp_instance *inst)
{
    for (size_t i = 0; inst != NULL && i < MAX_OPEN; i++) {
        if (g_open[i] == NULL) {
            g_open[i] = inst;
            return;
        }
    }
}

static void inst_close(rotp_instance *inst)
{
    for (size_t i = 0; i < MAX_OPEN; i++)
        if (g_open[i] == inst)
            g_open[i] = NULL;
    g_prov->close(inst);
}

static void inst_close_all(void)
{
    for (size_t i = 0; i < MAX_OPEN; i++) {
        if (g_open[i] != NULL)
            g_prov->close(g_open[i]);
        g_open[i] = NULL;
    }
}

/* Opens an instance; returns the code, *inst NULL on failure. err is checked for secrets. */
static int32_t open_cfg(const cfg *c, rotp_instance **inst, rotp_error *err)
{
    rotp_param items[9];
    rotp_params p;
    uint32_t n = 0;
    const char *tok = c->token != NULL ? c->token : cred("CFEMU_TOKEN_MGMT_VALUE");
    int32_t rc;

#define ADD(key, val, fl)                                                                          \
    do {                                                                                           \
        if ((val) != NULL)                                                                         \
            items[n++] = (rotp_param){sizeof(rotp_param), (fl), (key), (val), strlen(val)};        \
    } while (0)
    ADD("api_token", tok, ROTP_PARAM_SECRET);
    ADD("api_base", c->api_base, 0);
    ADD("ca_file", c->ca_file, 0);
    ADD("allow_insecure_loopback", c->insecure, 0);
    ADD("timeout_ms", c->timeout_ms, 0);
    ADD("connect_timeout_ms", c->connect_timeout_ms, 0);
    ADD("max_retries", c->max_retries, 0);
    ADD("user_agent", c->user_agent, 0);
    ADD("max_wait_seconds", c->max_wait_seconds, 0);
#undef ADD
    p = (rotp_params){sizeof(rotp_params), n, items};
    memset(err, 0, sizeof(*err));
    err->struct_size = sizeof(*err);
    *inst = NULL;
    rc = g_prov->open(&g_host, &p, inst, err);
    inst_track(*inst);
    assert_int_equal(rc, err->code);
    assert_no_secret_in(err->message);
    if (rc != ROTP_E_OK)
        assert_null(*inst);
    return rc;
}

/* Opens an instance on g_fx over TLS with its CA; the extra fields of `base` apply. */
static rotp_instance *open_main(cfg c)
{
    rotp_instance *inst = NULL;
    rotp_error err;

    if (c.api_base == NULL)
        c.api_base = g_fx.api_base;
    if (c.ca_file == NULL)
        c.ca_file = g_fx.ca_file;
    if (open_cfg(&c, &inst, &err) != ROTP_E_OK)
        fprintf(stderr, "open: %s\n", err.message);
    assert_non_null(inst);
    return inst;
}

typedef struct out {
    int32_t rc;
    rotp_error err;
    kv res;
} out;

static const char *get(const out *o, const char *key)
{
    return kv_get(&o->res, key);
}

/* Runs op with (key, value) pairs, NULL-terminated. "secret" and "client_secret" carry the
 * SECRET flag and are noted. Checks the result contract and that the message holds no secret. */
static out call(rotp_instance *inst, rotp_op_fn op, ...)
{
    out o;
    rotp_param items[MAX_KV];
    rotp_params req;
    rotp_result res;
    uint32_t n = 0;
    va_list ap;

    memset(&o, 0, sizeof(o));
    va_start(ap, op);
    for (const char *key = va_arg(ap, const char *); key != NULL; key = va_arg(ap, const char *)) {
        const char *val = va_arg(ap, const char *);
        bool secret = strcmp(key, "secret") == 0 || strcmp(key, "client_secret") == 0;

        assert_true(n < MAX_KV);
        if (secret)
            note_secret(val);
        items[n++] =
            (rotp_param){sizeof(rotp_param), secret ? ROTP_PARAM_SECRET : 0, key, val, strlen(val)};
    }
    va_end(ap);
    req = (rotp_params){sizeof(rotp_params), n, items};
    memset(&res, 0, sizeof(res));
    res.struct_size = sizeof(res);
    o.err.struct_size = sizeof(o.err);
    o.rc = op(inst, &req, &res, &o.err);
    assert_int_equal(o.rc, o.err.code);
    if (o.rc != ROTP_E_OK) {
        assert_int_equal(res.count, 0);
        assert_null(res.items);
    }
    for (uint32_t i = 0; i < res.count; i++) {
        const rotp_param *p =
            (const rotp_param *)((const char *)res.items + (size_t)i * res.items[0].struct_size);
        if (p->flags & ROTP_PARAM_SECRET)
            note_secret(p->value);
        if (o.res.n < MAX_KV)
            kv_put(&o.res, p->key, p->value);
    }
    g_prov->result_free(&res);
    assert_no_secret_in(o.err.message);
    return o;
}

static void out_free(out *o)
{
    kv_free(&o->res);
}

#define expect_code(o, code)                                                                       \
    do {                                                                                           \
        if ((o).rc != (code)) {                                                                    \
            fprintf(stderr, "%s:%d: expected %s, got %s: %s\n", __FILE__, __LINE__,                \
                    g_prov->strerror(code), g_prov->strerror((o).rc), (o).err.message);            \
            out_free(&(o));                                                                        \
        }                                                                                          \
        assert_int_equal((o).rc, (code));                                                          \
    } while (0)

/* The state verify reports for a user-token value, through a fresh default instance. */
static void expect_state(const char *value, const char *want)
{
    rotp_instance *inst = open_main((cfg){0});
    out o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", value, NULL);

    expect_code(o, ROTP_E_OK);
    assert_non_null(get(&o, "state"));
    if (strcmp(get(&o, "state"), want) != 0)
        fprintf(stderr, "state %s, expected %s\n", get(&o, "state"), want);
    assert_string_equal(get(&o, "state"), want);
    out_free(&o);
    inst_close(inst);
}

/* The roll target (the seed's PAGES_DEPLOY user token) and its current value. Rolled here, so
 * every test that needs "the old value" knows it regardless of what ran before. */
static const char *target_id(void)
{
    return cred("CFEMU_TOKEN_PAGES_DEPLOY_ID");
}

static void fresh_target_value(char *buf, size_t cap)
{
    rotp_instance *inst = open_main((cfg){0});
    out o = call(inst, g_prov->roll, "kind", KIND_USER, "id", target_id(), NULL);

    expect_code(o, ROTP_E_OK);
    assert_non_null(get(&o, "secret"));
    snprintf(buf, cap, "%s", get(&o, "secret"));
    out_free(&o);
    inst_close(inst);
}

/* ---------------------------------------------------------------------------------------------
 * In-process helpers: a redirecting HTTP server and a TCP forwarder
 * ------------------------------------------------------------------------------------------- */

typedef struct mini_srv {
    int fd;
    int port;
    pthread_t th;
    atomic_int stop;
    atomic_int requests;  /* requests answered */
    atomic_int redirects; /* of which redirects */
    char location[256];   /* where every redirect points */
    char verify_body[512];
    /* redirect mode: stop listening once a verify was answered (later connects are refused) */
    bool close_after_verify;
    /* forwarder mode: relay each connection to 127.0.0.1:fwd_port */
    int fwd_port;
} mini_srv;

static int listen_on(const char *addr, int *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = 0;
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

/* Accepts one connection, or returns -1 after ~100 ms without one. */
static int accept_some(mini_srv *s)
{
    struct pollfd p = {s->fd, POLLIN, 0};

    if (poll(&p, 1, 100) <= 0)
        return -1;
    return accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
}

static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);

        if (w <= 0)
            return;
        buf += w;
        len -= (size_t)w;
    }
}

/* Plain HTTP: GET .../verify answers verify_body (when set), everything else is redirected
 * with 302 (GET) or 307 (other methods) to `location`. One request per connection. */
static void *redirect_main(void *arg)
{
    mini_srv *s = arg;

    while (!atomic_load(&s->stop)) {
        char req[8192];
        size_t got = 0;
        char *end = NULL;
        char resp[1024];
        int fd = accept_some(s);

        if (fd < 0)
            continue;
        while (got < sizeof(req) - 1) {
            struct pollfd p = {fd, POLLIN, 0};
            ssize_t r;

            if (poll(&p, 1, 2000) <= 0)
                break;
            r = recv(fd, req + got, sizeof(req) - 1 - got, 0);
            if (r <= 0)
                break;
            got += (size_t)r;
            req[got] = '\0';
            end = strstr(req, "\r\n\r\n");
            if (end != NULL) {
                const char *cl = strcasestr(req, "\r\nContent-Length:");
                size_t want = cl != NULL ? strtoul(cl + 17, NULL, 10) : 0;
                if ((size_t)(req + got - (end + 4)) >= want)
                    break;
            }
        }
        if (end != NULL) {
            bool is_get = strncmp(req, "GET ", 4) == 0;
            char *sp = strchr(req + 4, ' ');
            bool verify =
                is_get && sp != NULL && sp - req >= 7 && strncmp(sp - 7, "/verify", 7) == 0;

            atomic_fetch_add(&s->requests, 1);
            if (verify && s->verify_body[0] != '\0') {
                snprintf(resp, sizeof(resp),
                         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                         strlen(s->verify_body), s->verify_body);
            } else {
                static const char body[] = "{\"success\":true,\"errors\":[],\"messages\":[],"
                                           "\"result\":\"moved\"}";
                atomic_fetch_add(&s->redirects, 1);
                snprintf(resp, sizeof(resp),
                         "HTTP/1.1 %s\r\nLocation: %s\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                         is_get ? "302 Found" : "307 Temporary Redirect", s->location,
                         sizeof(body) - 1, body);
            }
            if (verify && s->close_after_verify) {
                /* stop listening before the answer goes out, so the client's next connect is
                 * refused rather than queued and then reset */
                close(s->fd);
                s->fd = -1;
                write_all(fd, resp, strlen(resp));
                close(fd);
                return NULL;
            }
            write_all(fd, resp, strlen(resp));
        }
        close(fd);
    }
    return NULL;
}

/* One relayed connection: bytes both ways between the client (a) and cfemu (b). */
typedef struct relay {
    mini_srv *s;
    int a, b;
    pthread_t th;
} relay;

static void *relay_main(void *arg)
{
    relay *r = arg;

    while (!atomic_load(&r->s->stop)) {
        struct pollfd p[2] = {{r->a, POLLIN, 0}, {r->b, POLLIN, 0}};
        char buf[16384];
        bool done = false;

        if (poll(p, 2, 100) < 0)
            break;
        for (int i = 0; i < 2 && !done; i++) {
            if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t n = recv(i == 0 ? r->a : r->b, buf, sizeof(buf), 0);
                if (n <= 0)
                    done = true;
                else
                    write_all(i == 0 ? r->b : r->a, buf, (size_t)n);
            }
        }
        if (done)
            break;
    }
    close(r->a);
    close(r->b);
    return NULL;
}

#define MAX_RELAYS 16

/* TCP relay: each accepted connection (counted in `requests`) is piped to 127.0.0.1:fwd_port
 * by a thread of its own until either side closes; all are joined before this returns. */
static void *forward_main(void *arg)
{
    mini_srv *s = arg;
    relay rl[MAX_RELAYS];
    int n = 0;

    while (!atomic_load(&s->stop)) {
        struct sockaddr_in sa;
        int a = accept_some(s), b;

        if (a < 0)
            continue;
        atomic_fetch_add(&s->requests, 1);
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)s->fwd_port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (n == MAX_RELAYS || b < 0 || connect(b, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
            if (b >= 0)
                close(b);
            close(a);
            continue;
        }
        rl[n] = (relay){.s = s, .a = a, .b = b};
        if (pthread_create(&rl[n].th, NULL, relay_main, &rl[n]) != 0) {
            close(a);
            close(b);
            continue;
        }
        n++;
    }
    for (int i = 0; i < n; i++)
        pthread_join(rl[i].th, NULL);
    return NULL;
}

/* Servers running now; teardown stops those a failed assertion left behind. */
#define MAX_MINI 4
static mini_srv *g_mini[MAX_MINI];

static void mini_start(mini_srv *s, const char *addr, void *(*fn)(void *))
{
    s->fd = listen_on(addr, &s->port);
    if (s->fd < 0)
        fprintf(stderr, "cannot listen on %s: %s\n", addr, strerror(errno));
    assert_true(s->fd >= 0);
    atomic_store(&s->stop, 0);
    atomic_store(&s->requests, 0);
    atomic_store(&s->redirects, 0);
    assert_int_equal(pthread_create(&s->th, NULL, fn, s), 0);
    for (size_t i = 0; i < MAX_MINI; i++) {
        if (g_mini[i] == NULL) {
            g_mini[i] = s;
            break;
        }
    }
}

static void mini_stop(mini_srv *s)
{
    for (size_t i = 0; i < MAX_MINI; i++)
        if (g_mini[i] == s)
            g_mini[i] = NULL;
    atomic_store(&s->stop, 1);
    pthread_join(s->th, NULL);
    if (s->fd >= 0)
        close(s->fd);
}

/* A loopback port nothing listens on (bound, then closed). */
static int closed_port(void)
{
    int port = 0;
    int fd = listen_on("127.0.0.1", &port);

    assert_true(fd >= 0);
    close(fd);
    return port;
}

/* ---------------------------------------------------------------------------------------------
 * Setup
 * ------------------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    const char *path = getenv("ROTP_PLUGIN");
    static const char *const insecure[] = {"--insecure-http", NULL};
    rotp_entry_fn entry;
    rotp_error err;

    (void)state;
    if (path == NULL || path[0] == '\0')
        path = ROTP_PLUGIN_PATH;
    g_dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (g_dl == NULL) {
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
        return -1;
    }
    *(void **)(&entry) = dlsym(g_dl, ROTP_ENTRY_SYMBOL);
    if (entry == NULL)
        return -1;
    memset(&err, 0, sizeof(err));
    err.struct_size = sizeof(err);
    g_prov = entry(ROTP_ABI_MINOR, &g_host, &err);
    if (g_prov == NULL || g_prov->abi_major != ROTP_ABI_MAJOR)
        return -1;
    if (cfemu_start(&g_fx, NULL, NULL) != 0)
        return -1;
    g_fx_up = true;
    if (cfemu_start(&g_fx_http, NULL, insecure) != 0)
        return -1;
    g_fx_http_up = true;
    if (creds_load(&g_fx, &g_creds) != 0 || creds_load(&g_fx_http, &g_creds_http) != 0)
        return -1;
    return 0;
}

/* cmocka reports a failed group teardown but still returns 0: main checks this too */
static int g_teardown_failed;

static int group_teardown(void **state)
{
    int rc = 0;

    (void)state;
    if (g_fx_up && cfemu_stop(&g_fx) != 0)
        rc = -1;
    if (g_fx_http_up && cfemu_stop(&g_fx_http) != 0)
        rc = -1;
    kv_free(&g_creds);
    kv_free(&g_creds_http);
    for (size_t i = 0; i < g_nlines; i++)
        free(g_lines[i]);
    for (size_t i = 0; i < g_nsecrets; i++)
        free(g_secrets[i]);
    g_nlines = g_nsecrets = 0;
    if (g_dl != NULL)
        dlclose(g_dl);
    if (rc != 0) {
        fprintf(stderr, "cfemu did not exit cleanly\n");
        g_teardown_failed = 1;
    }
    return rc;
}

/* Before each test: no fault left over, an empty request log (after checking that nothing so
 * far went outside the spec). */
static size_t g_first_line; /* the first log line of the running test */

static int setup(void **state)
{
    (void)state;
    g_first_line = g_nlines;
    if (cfemu_unknown_routes(&g_fx) != 0)
        return -1;
    if (cfemu_ctl(&g_fx, "DELETE", "/__cfemu/faults", NULL, NULL) != 200)
        return -1;
    return cfemu_log_reset(&g_fx) == 0 ? 0 : -1;
}

/* After each test: nothing the provider logged during it holds a secret seen so far (the last
 * test sweeps the whole log again, against every secret of the run). */
static int teardown(void **state)
{
    (void)state;
    inst_close_all();
    if (g_stall_fd >= 0) {
        close(g_stall_fd);
        g_stall_fd = -1;
    }
    for (size_t i = 0; i < MAX_MINI; i++)
        if (g_mini[i] != NULL)
            mini_stop(g_mini[i]);
    if (g_fx_other_up) { /* a failed assertion skipped the test's own stop */
        cfemu_stop(&g_fx_other);
        g_fx_other_up = false;
    }
    assert_no_secret_in_log(g_first_line);
    assert_int_equal(cfemu_unknown_routes(&g_fx), 0);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * TLS
 * ------------------------------------------------------------------------------------------- */

/* Positive control: the default config verifies the management token over TLS. */
static void test_tls_verified_ok(void **state)
{
    rotp_instance *inst = open_main((cfg){0});
    out o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
                 NULL);

    (void)state;
    expect_code(o, ROTP_E_OK);
    assert_string_equal(get(&o, "state"), "active");
    out_free(&o);
    inst_close(inst);
    assert_int_equal(log_count(&g_fx, "GET", "/user/tokens/verify"), 1);
}

/* A CA that did not sign cfemu's certificate (another cfemu's): TLS, nothing reaches cfemu. */
static void test_tls_wrong_ca(void **state)
{
    cfemu_fx *other = &g_fx_other;
    char ca[512], url[512];
    rotp_instance *inst;
    out o;

    (void)state;
    assert_int_equal(cfemu_start(other, NULL, NULL), 0);
    g_fx_other_up = true;
    snprintf(ca, sizeof(ca), "%s", other->ca_file);
    inst = open_main((cfg){.ca_file = ca});
    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
             NULL);
    expect_code(o, ROTP_E_TLS);
    assert_int_equal(o.err.http_status, 0);
    /* the message says plainly what failed and which config key fixes it */
    assert_non_null(strstr(o.err.message, "certificate verification failed"));
    assert_non_null(strstr(o.err.message, "the CA in ca_file"));
    assert_non_null(strstr(o.err.message, "config key ca_file"));
    out_free(&o);
    /* a state change too */
    o = call(inst, g_prov->roll, "kind", KIND_USER, "id", target_id(), NULL);
    expect_code(o, ROTP_E_TLS);
    assert_false(o.err.flags & ROTP_ERRF_REQUEST_SENT);
    out_free(&o);
    inst_close(inst);
    assert_no_request(&g_fx);
    assert_no_request(other);

    /* a probe URL is verified against the instance's CA as well: the management lookup on g_fx
     * works, the probe to the other cfemu (signed by a CA the instance does not trust) is TLS */
    inst = open_main((cfg){0});
    snprintf(url, sizeof(url), "%s/cdn-cgi/access/probe/%s", other->origin,
             cred("CFEMU_APP_CONSOLE_ID"));
    o = call(inst, g_prov->verify, "kind", KIND_ST, "account_id", cred("CFEMU_ACCOUNT_ID"), "id",
             cred("CFEMU_ST_CONSOLE_PROBE_ID"), "client_id",
             cred("CFEMU_ST_CONSOLE_PROBE_CLIENT_ID"), "client_secret",
             cred("CFEMU_ST_CONSOLE_PROBE_CLIENT_SECRET"), "probe_url", url, NULL);
    expect_code(o, ROTP_E_TLS);
    out_free(&o);
    inst_close(inst);
    assert_no_request(other);
    g_fx_other_up = false;
    assert_int_equal(cfemu_stop(other), 0);
}

/* No ca_file: the system store, which does not hold cfemu's throwaway CA. */
static void test_tls_system_store(void **state)
{
    rotp_instance *inst = NULL;
    rotp_error err;
    out o;

    (void)state;
    assert_int_equal(open_cfg(&(cfg){.api_base = g_fx.api_base}, &inst, &err), ROTP_E_OK);
    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
             NULL);
    expect_code(o, ROTP_E_TLS);
    assert_non_null(strstr(o.err.message, "certificate verification failed"));
    assert_non_null(strstr(o.err.message, "the system's CA store"));
    assert_non_null(strstr(o.err.message, "config key ca_file"));
    out_free(&o);
    inst_close(inst);
    assert_no_request(&g_fx);
}

/* The right CA but a host name the certificate does not hold: cfemu's certificate names
 * 127.0.0.1, ::1 and localhost; a relay on 127.0.0.2 reaches the same server under another
 * name. Through a relay on 127.0.0.1 the same call works (so the relay is not the cause). */
static void test_tls_host_name_checked(void **state)
{
    static mini_srv fwd_bad, fwd_good; /* static: teardown stops it if the test fails */
    char base[128];
    rotp_instance *inst;
    out o;

    (void)state;
    memset(&fwd_bad, 0, sizeof(fwd_bad));
    memset(&fwd_good, 0, sizeof(fwd_good));
    fwd_bad.fwd_port = fwd_good.fwd_port = g_fx.port;
    mini_start(&fwd_good, "127.0.0.1", forward_main);
    mini_start(&fwd_bad, "127.0.0.2", forward_main);

    snprintf(base, sizeof(base), "https://127.0.0.1:%d/client/v4", fwd_good.port);
    inst = open_main((cfg){.api_base = base});
    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
             NULL);
    expect_code(o, ROTP_E_OK);
    out_free(&o);
    inst_close(inst);
    assert_int_equal(log_count(&g_fx, "GET", "/user/tokens/verify"), 1);

    snprintf(base, sizeof(base), "https://127.0.0.2:%d/client/v4", fwd_bad.port);
    inst = open_main((cfg){.api_base = base});
    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
             NULL);
    expect_code(o, ROTP_E_TLS);
    out_free(&o);
    inst_close(inst);
    assert_true(atomic_load(&fwd_bad.requests) >= 1); /* the connection was made... */
    assert_int_equal(log_count(&g_fx, "GET", "/user/tokens/verify"), 1); /* ...nothing more */

    mini_stop(&fwd_bad);
    mini_stop(&fwd_good);
}

/* One instance keeps its connection: two GETs travel over one TLS connection (counted by a
 * relay in front of cfemu). A roll's PUT gets a connection of its own (ABI.md section 8:
 * libcurl would silently re-send a request whose reused connection died), and a later GET
 * reuses a cached connection again. */
static void test_connection_reuse(void **state)
{
    static mini_srv fwd; /* static: teardown stops it if the test fails */
    char base[128];
    char value[VAL_MAX];
    rotp_instance *inst;
    out o;

    (void)state;
    memset(&fwd, 0, sizeof(fwd));
    fwd.fwd_port = g_fx.port;
    mini_start(&fwd, "127.0.0.1", forward_main);
    snprintf(base, sizeof(base), "https://127.0.0.1:%d/client/v4", fwd.port);
    inst = open_main((cfg){.api_base = base});
    for (int i = 0; i < 2; i++) {
        o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
                 NULL);
        expect_code(o, ROTP_E_OK);
        out_free(&o);
    }
    assert_int_equal(log_count(&g_fx, "GET", "/user/tokens/verify"), 2);
    assert_int_equal(atomic_load(&fwd.requests), 1);

    o = call(inst, g_prov->roll, "kind", KIND_USER, "id", target_id(), NULL);
    expect_code(o, ROTP_E_OK);
    snprintf(value, sizeof(value), "%s", get(&o, "secret"));
    out_free(&o);
    assert_int_equal(log_count(&g_fx, "PUT", "/value"), 1);
    assert_int_equal(atomic_load(&fwd.requests), 2);

    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", value, NULL);
    expect_code(o, ROTP_E_OK);
    assert_string_equal(get(&o, "state"), "active");
    out_free(&o);
    assert_int_equal(atomic_load(&fwd.requests), 2);
    inst_close(inst);
    mini_stop(&fwd);
}

/* ---------------------------------------------------------------------------------------------
 * Scheme rules
 * ------------------------------------------------------------------------------------------- */

/* http:// to loopback without allow_insecure_loopback: refused at open. */
static void test_http_refused_without_flag(void **state)
{
    static const char *const flags[] = {NULL, "0", "false"};
    rotp_instance *inst;
    rotp_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        assert_int_equal(
            open_cfg(&(cfg){.api_base = g_fx_http.api_base, .insecure = flags[i]}, &inst, &err),
            ROTP_E_INVALID_ARGUMENT);
        assert_non_null(strstr(err.message, "api_base"));
    }
    assert_no_request(&g_fx_http);
}

/* http:// to 127.0.0.1 and localhost with the flag: works against an --insecure-http cfemu. */
static void test_http_loopback_with_flag(void **state)
{
    const char *mgmt = kv_get(&g_creds_http, "CFEMU_TOKEN_MGMT_VALUE");
    char base[128];
    const char *bases[2];
    rotp_instance *inst;
    rotp_error err;

    (void)state;
    assert_non_null(mgmt);
    snprintf(base, sizeof(base), "http://localhost:%d/client/v4", g_fx_http.port);
    bases[0] = g_fx_http.api_base;
    bases[1] = base;
    assert_int_equal(cfemu_log_reset(&g_fx_http), 0);
    for (size_t i = 0; i < 2; i++) {
        out o;

        assert_int_equal(
            open_cfg(&(cfg){.api_base = bases[i], .insecure = "1", .token = mgmt}, &inst, &err),
            ROTP_E_OK);
        o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", mgmt, NULL);
        expect_code(o, ROTP_E_OK);
        assert_string_equal(get(&o, "state"), "active");
        out_free(&o);
        inst_close(inst);
    }
    assert_int_equal(log_count(&g_fx_http, "GET", "/user/tokens/verify"), 2);
}

/* Everything else is refused at open, with the flag on, before any connection is tried. */
static void test_api_base_refused(void **state)
{
    static const char *const bad[] = {
        "http://10.0.0.1/client/v4",
        "HTTP://10.0.0.1/client/v4",
        "http://localhost./client/v4",
        "http://example.invalid/client/v4",
        "http://127.0.0.1.example.invalid/client/v4",
        "http://localhost.example.invalid/client/v4",
        "http://127.0.0.2/client/v4",
        "http://[::ffff:10.0.0.1]/client/v4",
        "http://127.0.0.1@10.0.0.1/client/v4",
        "https://user:pw@127.0.0.1/client/v4",
        "ftp://127.0.0.1/client/v4",
        "file:///etc/passwd",
        "gopher://127.0.0.1/",
        "ldap://127.0.0.1/",
        "dict://127.0.0.1/",
        "127.0.0.1/client/v4",
        "//127.0.0.1/client/v4",
        "https://127.0.0.1/client/v4\r\nX-Injected: 1",
        "https://127.0.0.1/client/v4\n",
        "https://127.0.0.1/client\rv4",
        " https://127.0.0.1/client/v4",
        "https://127.0.0.1/client v4",
        "https://127.0.0.1/client/v4\t",
        "https://127.0.0.1/client/v4?x=1",
        "https://127.0.0.1/client/v4#frag",
    };
    rotp_instance *inst;
    rotp_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int32_t rc = open_cfg(&(cfg){.api_base = bad[i], .insecure = "1"}, &inst, &err);

        if (rc != ROTP_E_INVALID_ARGUMENT)
            fprintf(stderr, "api_base #%zu accepted or misclassified: %d %s\n", i, rc, err.message);
        assert_int_equal(rc, ROTP_E_INVALID_ARGUMENT);
        assert_non_null(strstr(err.message, "api_base"));
        assert_null(inst);
    }
    /* the same without the flag */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(open_cfg(&(cfg){.api_base = bad[i]}, &inst, &err),
                         ROTP_E_INVALID_ARGUMENT);
}

/* A service-token probe URL follows the same rules, and the CR/LF check comes before any
 * request. Non-loopback http and other schemes are refused even with the flag. */
static void test_probe_url_rules(void **state)
{
    char url[512];
    const char *bad[9];
    rotp_instance *inst = open_main((cfg){.insecure = "1"});
    const char *acct = cred("CFEMU_ACCOUNT_ID");
    const char *cid = cred("CFEMU_ST_CONSOLE_PROBE_CLIENT_ID");
    const char *csec = cred("CFEMU_ST_CONSOLE_PROBE_CLIENT_SECRET");
    const char *stid = cred("CFEMU_ST_CONSOLE_PROBE_ID");
    out o;

    (void)state;
    /* positive control: the real probe origin over TLS admits the token */
    snprintf(url, sizeof(url), "%s/cdn-cgi/access/probe/%s", g_fx.origin,
             cred("CFEMU_APP_CONSOLE_ID"));
    o = call(inst, g_prov->verify, "kind", KIND_ST, "account_id", acct, "id", stid, "client_id",
             cid, "client_secret", csec, "probe_url", url, NULL);
    expect_code(o, ROTP_E_OK);
    assert_string_equal(get(&o, "state"), "active");
    assert_string_equal(get(&o, "probe_status"), "200");
    out_free(&o);

    bad[0] = "http://10.0.0.1/cdn-cgi/access/probe/x";
    bad[1] = "http://example.invalid/cdn-cgi/access/probe/x";
    bad[2] = "ftp://127.0.0.1/x";
    bad[3] = "file:///etc/passwd";
    bad[4] = "https://user@127.0.0.1/x";
    bad[5] = "gopher://127.0.0.1/x";
    bad[6] = "127.0.0.1/x";
    bad[7] = "https://127.0.0.1/x y";
    bad[8] = "https://127.0.0.1/x\t";
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        o = call(inst, g_prov->verify, "kind", KIND_ST, "account_id", acct, "id", stid, "client_id",
                 cid, "client_secret", csec, "probe_url", bad[i], NULL);
        if (o.rc != ROTP_E_INVALID_ARGUMENT)
            fprintf(stderr, "probe_url #%zu: %d %s\n", i, o.rc, o.err.message);
        assert_int_equal(o.rc, ROTP_E_INVALID_ARGUMENT);
        out_free(&o);
    }
    inst_close(inst);
    /* no probe ever went out: only the positive control's */
    {
        char suffix[128];
        snprintf(suffix, sizeof(suffix), "/cdn-cgi/access/probe/%s", cred("CFEMU_APP_CONSOLE_ID"));
        assert_int_equal(log_count(&g_fx, "GET", suffix), 1);
    }
}

/* ---------------------------------------------------------------------------------------------
 * No redirects
 * ------------------------------------------------------------------------------------------- */

/* api_base is a plain-http loopback server that redirects to cfemu's real endpoint: the GET is
 * not followed (cfemu sees nothing) and the 302 is a protocol error. */
static void test_no_redirect_get(void **state)
{
    static mini_srv s; /* static: teardown stops it if the test fails */
    char base[128];
    rotp_instance *inst;
    out o;

    (void)state;
    memset(&s, 0, sizeof(s));
    snprintf(s.location, sizeof(s.location), "%s/user/tokens/verify", g_fx.api_base);
    mini_start(&s, "127.0.0.1", redirect_main);
    snprintf(base, sizeof(base), "http://127.0.0.1:%d/client/v4", s.port);
    inst = open_main((cfg){.api_base = base, .insecure = "1"});
    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
             NULL);
    expect_code(o, ROTP_E_PROTOCOL);
    assert_int_equal(o.err.http_status, 302);
    out_free(&o);
    inst_close(inst);
    mini_stop(&s);
    assert_int_equal(atomic_load(&s.requests), 1); /* a 3xx is not retried either */
    assert_no_request(&g_fx);
}

/* A roll answered with 307 to cfemu's real roll endpoint: not followed, not success, the target
 * keeps its value (the PUT never reached cfemu). */
static void test_no_redirect_put(void **state)
{
    static mini_srv s; /* static: teardown stops it if the test fails */
    char base[128];
    char value[VAL_MAX];
    rotp_instance *inst;
    out o;

    (void)state;
    fresh_target_value(value, sizeof(value));
    assert_int_equal(cfemu_log_reset(&g_fx), 0);
    memset(&s, 0, sizeof(s));
    snprintf(s.location, sizeof(s.location), "%s/user/tokens/%s/value", g_fx.api_base, target_id());
    /* the roll first learns the management token's id with GET /user/tokens/verify */
    snprintf(s.verify_body, sizeof(s.verify_body),
             "{\"success\":true,\"errors\":[],\"messages\":[],\"result\":{\"id\":\"%s\","
             "\"status\":\"active\"}}",
             cred("CFEMU_TOKEN_MGMT_ID"));
    mini_start(&s, "127.0.0.1", redirect_main);
    snprintf(base, sizeof(base), "http://127.0.0.1:%d/client/v4", s.port);
    inst = open_main((cfg){.api_base = base, .insecure = "1"});
    o = call(inst, g_prov->roll, "kind", KIND_USER, "id", target_id(), NULL);
    assert_int_not_equal(o.rc, ROTP_E_OK);
    assert_null(get(&o, "secret"));
    expect_code(o, ROTP_E_PROTOCOL);
    assert_int_equal(o.err.http_status, 307);
    out_free(&o);
    inst_close(inst);
    mini_stop(&s);
    assert_int_equal(atomic_load(&s.redirects), 1);
    assert_no_request(&g_fx);
    expect_state(value, "active");
}

/* ---------------------------------------------------------------------------------------------
 * Bodies
 * ------------------------------------------------------------------------------------------- */

#define VERIFY_PATH "/client/v4/user/tokens/verify"

/* Over 1 MiB: PROTOCOL, no crash, no retry (the same server would send the same body). */
static void test_body_over_cap_get(void **state)
{
    rotp_instance *inst = open_main((cfg){0});
    out o;

    (void)state;
    fault("{\"method\":\"GET\",\"path\":\"" VERIFY_PATH "\",\"kind\":\"oversize\","
          "\"size\":1100000}");
    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
             NULL);
    expect_code(o, ROTP_E_PROTOCOL);
    assert_true(o.err.flags & ROTP_ERRF_REQUEST_SENT);
    assert_int_equal(o.err.retryable, 0);
    out_free(&o);
    /* far over the cap (8 MiB) too */
    fault("{\"method\":\"GET\",\"path\":\"" VERIFY_PATH "\",\"kind\":\"oversize\","
          "\"size\":8388608}");
    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
             NULL);
    expect_code(o, ROTP_E_PROTOCOL);
    out_free(&o);
    inst_close(inst);
    assert_int_equal(log_count(&g_fx, "GET", "/verify"), 2);
}

/* Just under the cap (the envelope padded with white space to ~1,040,000 bytes): accepted. */
static void test_body_under_cap_ok(void **state)
{
    rotp_instance *inst = open_main((cfg){0});
    out o;

    (void)state;
    fault("{\"method\":\"GET\",\"path\":\"" VERIFY_PATH "\",\"kind\":\"oversize\","
          "\"size\":1040000}");
    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
             NULL);
    expect_code(o, ROTP_E_OK);
    assert_string_equal(get(&o, "state"), "active");
    out_free(&o);
    inst_close(inst);
    assert_int_equal(log_count_fault(&g_fx, "GET", "/verify", "oversize"), 1);
}

/* The answer to a roll over the cap: the change happened, so OUTCOME_UNKNOWN, and the old value
 * is dead in cfemu. */
static void test_body_over_cap_put(void **state)
{
    char value[VAL_MAX];
    rotp_instance *inst;
    out o;

    (void)state;
    fresh_target_value(value, sizeof(value));
    inst = open_main((cfg){0});
    fault("{\"method\":\"PUT\",\"path\":\"*/value\",\"kind\":\"oversize\",\"size\":1100000}");
    o = call(inst, g_prov->roll, "kind", KIND_USER, "id", target_id(), NULL);
    expect_code(o, ROTP_E_OUTCOME_UNKNOWN);
    assert_true(o.err.flags & ROTP_ERRF_REQUEST_SENT);
    assert_null(get(&o, "secret"));
    out_free(&o);
    inst_close(inst);
    assert_int_equal(log_count(&g_fx, "PUT", "/value"), 2); /* fresh_target_value's + this */
    expect_state(value, "invalid");
}

/* A body cut short (Content-Length promises more): a transport failure after the request was
 * sent. For a GET that is TRANSIENT and retried: one cut answer, then success (2 GETs); cut
 * every time: TRANSIENT, retryable, REQUEST_SENT after 1 + max_retries attempts. */
static void test_truncated_get(void **state)
{
    rotp_instance *inst = open_main((cfg){.max_retries = "1"});
    out o;

    (void)state;
    fault("{\"method\":\"GET\",\"path\":\"" VERIFY_PATH "\",\"kind\":\"truncate\"}");
    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
             NULL);
    expect_code(o, ROTP_E_OK);
    assert_string_equal(get(&o, "state"), "active");
    out_free(&o);
    assert_int_equal(log_count(&g_fx, "GET", "/verify"), 2);

    assert_int_equal(cfemu_log_reset(&g_fx), 0);
    fault("{\"method\":\"GET\",\"path\":\"" VERIFY_PATH "\",\"kind\":\"truncate\",\"count\":10}");
    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
             NULL);
    expect_code(o, ROTP_E_TRANSIENT);
    assert_int_equal(o.err.retryable, 1);
    assert_true(o.err.flags & ROTP_ERRF_REQUEST_SENT);
    assert_null(get(&o, "state"));
    out_free(&o);
    inst_close(inst);
    assert_int_equal(log_count(&g_fx, "GET", "/verify"), 2);
}

/* A cut answer to a roll: OUTCOME_UNKNOWN, not retried, and the change did happen. */
static void test_truncated_put(void **state)
{
    char value[VAL_MAX];
    rotp_instance *inst;
    out o;

    (void)state;
    fresh_target_value(value, sizeof(value));
    inst = open_main((cfg){0});
    fault("{\"method\":\"PUT\",\"path\":\"*/value\",\"kind\":\"truncate\",\"count\":3}");
    o = call(inst, g_prov->roll, "kind", KIND_USER, "id", target_id(), NULL);
    expect_code(o, ROTP_E_OUTCOME_UNKNOWN);
    assert_true(o.err.flags & ROTP_ERRF_REQUEST_SENT);
    out_free(&o);
    inst_close(inst);
    assert_int_equal(log_count_fault(&g_fx, "PUT", "/value", "truncate"), 1);
    expect_state(value, "invalid");
}

/* Malformed JSON in a complete 200 answer: PROTOCOL for a GET, not retried (http_do got an
 * answer; parsing failed), HTTP status kept. */
static void test_malformed_json_get(void **state)
{
    rotp_instance *inst = open_main((cfg){0});
    out o;

    (void)state;
    fault("{\"method\":\"GET\",\"path\":\"" VERIFY_PATH "\",\"kind\":\"malformed_json\","
          "\"count\":5}");
    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
             NULL);
    expect_code(o, ROTP_E_PROTOCOL);
    assert_int_equal(o.err.http_status, 200);
    assert_null(get(&o, "state"));
    out_free(&o);
    inst_close(inst);
    assert_int_equal(log_count(&g_fx, "GET", "/verify"), 1);
}

/* Malformed JSON answering a roll: the roll happened: OUTCOME_UNKNOWN, old value dead. */
static void test_malformed_json_put(void **state)
{
    char value[VAL_MAX];
    rotp_instance *inst;
    out o;

    (void)state;
    fresh_target_value(value, sizeof(value));
    inst = open_main((cfg){0});
    fault("{\"method\":\"PUT\",\"path\":\"*/value\",\"kind\":\"malformed_json\"}");
    o = call(inst, g_prov->roll, "kind", KIND_USER, "id", target_id(), NULL);
    expect_code(o, ROTP_E_OUTCOME_UNKNOWN);
    assert_true(o.err.flags & ROTP_ERRF_REQUEST_SENT);
    assert_null(get(&o, "secret"));
    out_free(&o);
    inst_close(inst);
    assert_int_equal(log_count(&g_fx, "PUT", "/value"), 2);
    expect_state(value, "invalid");
}

/* A 200 labelled text/html (a captive portal, a proxy's page): not the API's answer, even if the
 * bytes parse. Expected PROTOCOL for a GET. */
static void test_wrong_content_type_get(void **state)
{
    rotp_instance *inst = open_main((cfg){0});
    out o;

    (void)state;
    fault("{\"method\":\"GET\",\"path\":\"" VERIFY_PATH "\",\"kind\":\"wrong_content_type\","
          "\"count\":5}");
    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
             NULL);
    /* cfemu sends the real JSON answer labelled text/html: cf_call must not trust it */
    expect_code(o, ROTP_E_PROTOCOL);
    assert_null(get(&o, "state"));
    out_free(&o);
    inst_close(inst);
    assert_int_equal(log_count(&g_fx, "GET", "/verify"), 1);
}

/* ---------------------------------------------------------------------------------------------
 * Retries
 * ------------------------------------------------------------------------------------------- */

/* 429 with Retry-After 1 on a GET: waited out and retried once; success. */
static void test_retry_429_get(void **state)
{
    rotp_instance *inst = open_main((cfg){0});
    out o;

    (void)state;
    fault("{\"method\":\"GET\",\"path\":\"" VERIFY_PATH "\",\"kind\":\"rate_limit\","
          "\"retry_after\":1,\"count\":1}");
    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
             NULL);
    expect_code(o, ROTP_E_OK);
    assert_string_equal(get(&o, "state"), "active");
    out_free(&o);
    inst_close(inst);
    assert_int_equal(log_count(&g_fx, "GET", "/verify"), 2);
    assert_int_equal(log_count_fault(&g_fx, "GET", "/verify", "rate_limit"), 1);
}

/* 503 twice, then the real answer: success on the third attempt. */
static void test_retry_503_twice_get(void **state)
{
    rotp_instance *inst = open_main((cfg){.max_retries = "3"});
    out o;

    (void)state;
    fault("{\"method\":\"GET\",\"path\":\"" VERIFY_PATH "\",\"kind\":\"status\","
          "\"status\":503,\"count\":2}");
    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
             NULL);
    expect_code(o, ROTP_E_OK);
    assert_string_equal(get(&o, "state"), "active");
    out_free(&o);
    inst_close(inst);
    assert_int_equal(log_count(&g_fx, "GET", "/verify"), 3);
}

/* max_retries=0: the 503 surfaces, TRANSIENT, retryable, with its status; one attempt. With
 * max_retries=1 and 503 every time: two attempts, same error. */
static void test_retry_budget(void **state)
{
    rotp_instance *inst = open_main((cfg){.max_retries = "0"});
    out o;

    (void)state;
    fault("{\"method\":\"GET\",\"path\":\"" VERIFY_PATH "\",\"kind\":\"status\","
          "\"status\":503,\"count\":10}");
    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
             NULL);
    expect_code(o, ROTP_E_TRANSIENT);
    assert_int_equal(o.err.retryable, 1);
    assert_int_equal(o.err.http_status, 503);
    out_free(&o);
    inst_close(inst);
    assert_int_equal(log_count(&g_fx, "GET", "/verify"), 1);

    assert_int_equal(cfemu_log_reset(&g_fx), 0);
    inst = open_main((cfg){.max_retries = "1"});
    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
             NULL);
    expect_code(o, ROTP_E_TRANSIENT);
    assert_int_equal(o.err.http_status, 503);
    out_free(&o);
    inst_close(inst);
    assert_int_equal(log_count(&g_fx, "GET", "/verify"), 2);
}

/* Rolls the target under a fault queued on its PUT (fault_json, with max_retries 3 so a retry
 * would show) and checks the lost-answer contract: OUTCOME_UNKNOWN with REQUEST_SENT, not
 * retryable, no secret handed over, exactly one PUT; then the old value's state in cfemu
 * (old_state: "active" when the fault came before the change, "invalid" when after). */
static void roll_under_fault(const char *fault_json, const char *old_state)
{
    char value[VAL_MAX];
    rotp_instance *inst;
    out o;

    fresh_target_value(value, sizeof(value));
    assert_int_equal(cfemu_log_reset(&g_fx), 0);
    inst = open_main((cfg){.max_retries = "3"});
    fault(fault_json);
    o = call(inst, g_prov->roll, "kind", KIND_USER, "id", target_id(), NULL);
    expect_code(o, ROTP_E_OUTCOME_UNKNOWN);
    assert_true(o.err.flags & ROTP_ERRF_REQUEST_SENT);
    assert_int_equal(o.err.retryable, 0);
    assert_null(get(&o, "secret"));
    out_free(&o);
    inst_close(inst);
    assert_int_equal(log_count(&g_fx, "PUT", "/value"), 1);
    expect_state(value, old_state);
}

/* A 503 answering a roll: never retried (one PUT), never success. The documented choice
 * (cfapi.c): a 5xx after a state change was sent is OUTCOME_UNKNOWN, not retryable. cfemu did
 * not apply it, so the old value still works. */
static void test_put_503_not_retried(void **state)
{
    (void)state;
    roll_under_fault("{\"method\":\"PUT\",\"path\":\"*/value\",\"kind\":\"status\","
                     "\"status\":503,\"count\":5}",
                     "active");
}

/* The change applied, then the connection reset (the lost answer): one PUT, and the old value
 * is dead in cfemu. */
static void test_put_reset_after(void **state)
{
    (void)state;
    roll_under_fault("{\"method\":\"PUT\",\"path\":\"*/value\",\"kind\":\"reset_after\","
                     "\"count\":3}",
                     "invalid");
}

/* The connection reset before the change: the client cannot tell this from the lost answer
 * (the request left, no byte came back), so the code says OUTCOME_UNKNOWN: safe, never
 * success. One PUT; the old value still works. */
static void test_put_reset_before(void **state)
{
    (void)state;
    roll_under_fault("{\"method\":\"PUT\",\"path\":\"*/value\",\"kind\":\"reset_before\","
                     "\"count\":3}",
                     "active");
}

/* The roll applied, but cfemu labels its real JSON answer text/html: not trusted, so
 * OUTCOME_UNKNOWN, and the old value is dead. */
static void test_wrong_content_type_put(void **state)
{
    (void)state;
    roll_under_fault("{\"method\":\"PUT\",\"path\":\"*/value\","
                     "\"kind\":\"wrong_content_type\",\"count\":5}",
                     "invalid");
}

/* A GET reset before an answer is retried, and succeeds. */
static void test_get_reset_retried(void **state)
{
    rotp_instance *inst = open_main((cfg){0});
    out o;

    (void)state;
    fault("{\"method\":\"GET\",\"path\":\"" VERIFY_PATH "\",\"kind\":\"reset_before\"}");
    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
             NULL);
    expect_code(o, ROTP_E_OK);
    out_free(&o);
    inst_close(inst);
    assert_int_equal(log_count(&g_fx, "GET", "/verify"), 2);
}

/* A Retry-After longer than max_wait_seconds: not waited for, not retried; the 429 surfaces as
 * RATE_LIMITED, retryable, with the server's delay. (A shorter one is waited for even past
 * timeout_ms: rate-limit waits are not the call's time budget.) */
static void test_retry_after_beyond_max_wait(void **state)
{
    rotp_instance *inst =
        open_main((cfg){.timeout_ms = "2000", .max_retries = "3", .max_wait_seconds = "4"});
    out o;

    (void)state;
    fault("{\"method\":\"GET\",\"path\":\"" VERIFY_PATH "\",\"kind\":\"rate_limit\","
          "\"retry_after\":5,\"count\":5}");
    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
             NULL);
    expect_code(o, ROTP_E_RATE_LIMITED);
    assert_int_equal(o.err.http_status, 429);
    assert_int_equal(o.err.api_code, 971);
    assert_int_equal(o.err.retryable, 1);
    assert_int_equal(o.err.retry_after_ms, 5000);
    out_free(&o);
    inst_close(inst);
    assert_int_equal(log_count(&g_fx, "GET", "/verify"), 1);
}

/* DELETE is idempotent: a 503 is retried (two DELETEs, revoked); a DELETE applied whose answer
 * was lost is retried too, finds the token gone (404) and reports it absent, not an error. */
static void test_delete_retried(void **state)
{
    rotp_instance *inst = open_main((cfg){.max_retries = "2"});
    const char *ro = cred("CFEMU_TOKEN_READONLY_ID");
    const char *ci = cred("CFEMU_TOKEN_CI_READONLY_ID");
    const char *acct = cred("CFEMU_ACCOUNT_ID");
    char fx[256];
    out o;

    (void)state;
    snprintf(fx, sizeof(fx),
             "{\"method\":\"DELETE\",\"path\":\"*/tokens/%s\",\"kind\":\"status\","
             "\"status\":503}",
             ro);
    fault(fx);
    o = call(inst, g_prov->revoke, "kind", KIND_USER, "id", ro, NULL);
    expect_code(o, ROTP_E_OK);
    assert_string_equal(get(&o, "state"), "revoked");
    out_free(&o);
    assert_int_equal(log_count(&g_fx, "DELETE", ro), 2);

    snprintf(fx, sizeof(fx),
             "{\"method\":\"DELETE\",\"path\":\"*/tokens/%s\",\"kind\":\"reset_after\"}", ci);
    fault(fx);
    o = call(inst, g_prov->revoke, "kind", "cloudflare.account_token", "account_id", acct, "id", ci,
             NULL);
    expect_code(o, ROTP_E_OK);
    assert_string_equal(get(&o, "state"), "absent");
    out_free(&o);
    assert_int_equal(log_count(&g_fx, "DELETE", ci), 2);
    o = call(inst, g_prov->describe, "kind", "cloudflare.account_token", "account_id", acct, "id",
             ci, NULL);
    expect_code(o, ROTP_E_NOT_FOUND);
    out_free(&o);
    inst_close(inst);
}

/* Nothing listens: a failure before sending. A GET: TRANSIENT, retryable, not REQUEST_SENT.
 * A roll whose connection is refused (the server answered the id lookup, then went away):
 * TRANSIENT without REQUEST_SENT, because nothing can have been applied (ABI.md section 8). */
static void test_connect_refused(void **state)
{
    char base[128];
    static mini_srv s; /* static: teardown stops it if the test fails */
    rotp_instance *inst;
    out o;

    (void)state;
    snprintf(base, sizeof(base), "https://127.0.0.1:%d/client/v4", closed_port());
    inst = open_main((cfg){.api_base = base, .max_retries = "1"});
    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
             NULL);
    expect_code(o, ROTP_E_TRANSIENT);
    assert_int_equal(o.err.retryable, 1);
    assert_false(o.err.flags & ROTP_ERRF_REQUEST_SENT);
    out_free(&o);
    inst_close(inst);

    memset(&s, 0, sizeof(s));
    snprintf(s.location, sizeof(s.location), "%s/", g_fx.api_base);
    snprintf(s.verify_body, sizeof(s.verify_body),
             "{\"success\":true,\"errors\":[],\"messages\":[],\"result\":{\"id\":\"%s\","
             "\"status\":\"active\"}}",
             cred("CFEMU_TOKEN_MGMT_ID"));
    s.close_after_verify = true;
    mini_start(&s, "127.0.0.1", redirect_main);
    snprintf(base, sizeof(base), "http://127.0.0.1:%d/client/v4", s.port);
    inst = open_main((cfg){.api_base = base, .insecure = "1"});
    o = call(inst, g_prov->roll, "kind", KIND_USER, "id", target_id(), NULL);
    expect_code(o, ROTP_E_TRANSIENT);
    assert_false(o.err.flags & ROTP_ERRF_REQUEST_SENT);
    assert_null(get(&o, "secret"));
    out_free(&o);
    inst_close(inst);
    mini_stop(&s);
    assert_int_equal(atomic_load(&s.requests), 1); /* the verify only */
    assert_no_request(&g_fx);
}

/* ---------------------------------------------------------------------------------------------
 * Timeouts
 * ------------------------------------------------------------------------------------------- */

/* A GET answered later than timeout_ms: TRANSIENT, retryable (the budget is spent). */
static void test_timeout_get(void **state)
{
    rotp_instance *inst = open_main((cfg){.timeout_ms = "800"});
    out o;

    (void)state;
    fault("{\"method\":\"GET\",\"path\":\"" VERIFY_PATH "\",\"kind\":\"delay\","
          "\"delay_ms\":2500}");
    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
             NULL);
    expect_code(o, ROTP_E_TRANSIENT);
    assert_int_equal(o.err.retryable, 1);
    out_free(&o);
    inst_close(inst);
    /* (no count of GETs: if the timer fired a hair early, a last retry within the remaining
     * milliseconds is legitimate; the code is what matters) */
    wait_for_delayed("GET");
}

/* A roll answered later than timeout_ms: OUTCOME_UNKNOWN with REQUEST_SENT. cfemu applies it
 * once its delay is over, which is exactly why "unknown" is the only honest answer. */
static void test_timeout_put(void **state)
{
    char value[VAL_MAX];
    rotp_instance *inst;
    out o;

    (void)state;
    fresh_target_value(value, sizeof(value));
    assert_int_equal(cfemu_log_reset(&g_fx), 0);
    inst = open_main((cfg){.timeout_ms = "1500"});
    fault("{\"method\":\"PUT\",\"path\":\"*/value\",\"kind\":\"delay\",\"delay_ms\":3000}");
    o = call(inst, g_prov->roll, "kind", KIND_USER, "id", target_id(), NULL);
    expect_code(o, ROTP_E_OUTCOME_UNKNOWN);
    assert_true(o.err.flags & ROTP_ERRF_REQUEST_SENT);
    assert_null(get(&o, "secret"));
    out_free(&o);
    inst_close(inst);
    wait_for_delayed("PUT");
    assert_int_equal(log_count(&g_fx, "PUT", "/value"), 1);
    expect_state(value, "invalid");
}

/* A server that takes the TCP connection but never answers the TLS handshake (a listening
 * socket nobody accepts on): connect_timeout_ms, well under timeout_ms, ends each attempt.
 * Nothing was sent, so a roll (which first learns the management token's id with a GET) fails
 * TRANSIENT without REQUEST_SENT, safe to repeat, and so does a verify after its retry. */
static void test_connect_timeout(void **state)
{
    char base[128];
    int port = 0;
    rotp_instance *inst;
    out o;

    (void)state;
    g_stall_fd = listen_on("127.0.0.1", &port);
    assert_true(g_stall_fd >= 0);
    snprintf(base, sizeof(base), "https://127.0.0.1:%d/client/v4", port);
    inst = open_main((cfg){.api_base = base, .connect_timeout_ms = "300", .timeout_ms = "20000",
                           .max_retries = "0"});
    o = call(inst, g_prov->roll, "kind", KIND_USER, "id", target_id(), NULL);
    expect_code(o, ROTP_E_TRANSIENT);
    assert_false(o.err.flags & ROTP_ERRF_REQUEST_SENT);
    assert_int_equal(o.err.retryable, 1);
    assert_non_null(strstr(o.err.message, "nothing was sent"));
    assert_null(get(&o, "secret"));
    out_free(&o);
    inst_close(inst);

    inst = open_main((cfg){.api_base = base, .connect_timeout_ms = "300", .timeout_ms = "20000",
                           .max_retries = "1"});
    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
             NULL);
    expect_code(o, ROTP_E_TRANSIENT);
    assert_false(o.err.flags & ROTP_ERRF_REQUEST_SENT);
    out_free(&o);
    inst_close(inst);
    close(g_stall_fd);
    g_stall_fd = -1;
}

/* ---------------------------------------------------------------------------------------------
 * Header and URL injection
 * ------------------------------------------------------------------------------------------- */

static void test_injection_refused(void **state)
{
    rotp_instance *inst = open_main((cfg){0});
    const char *mgmt = cred("CFEMU_TOKEN_MGMT_VALUE");
    const char *acct = cred("CFEMU_ACCOUNT_ID");
    const char *cid = cred("CFEMU_ST_CONSOLE_PROBE_CLIENT_ID");
    const char *csec = cred("CFEMU_ST_CONSOLE_PROBE_CLIENT_SECRET");
    const char *stid = cred("CFEMU_ST_CONSOLE_PROBE_ID");
    char probe[512], bad_probe[600], bad_id[80], bad_cid[300], bad_sec[300], bad_tok[300];
    static const char *const crlf[] = {"\r\nX-Injected: 1", "\nX-Injected: 1", "\rX", " X"};
    out o;

    (void)state;
    snprintf(probe, sizeof(probe), "%s/cdn-cgi/access/probe/%s", g_fx.origin,
             cred("CFEMU_APP_CONSOLE_ID"));
    for (size_t i = 0; i < sizeof(crlf) / sizeof(crlf[0]); i++) {
        /* probe_path of an API-token verify */
        snprintf(bad_probe, sizeof(bad_probe), "/user/tokens%s", crlf[i]);
        o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", mgmt, "probe_path", bad_probe,
                 NULL);
        expect_code(o, ROTP_E_INVALID_ARGUMENT);
        out_free(&o);

        /* probe_url of a service-token verify (a space is refused too, but only by the HTTP
         * client after the management lookup: see test_probe_url_rules) */
        if (crlf[i][0] != ' ') {
            snprintf(bad_probe, sizeof(bad_probe), "%s%s", probe, crlf[i]);
            o = call(inst, g_prov->verify, "kind", KIND_ST, "account_id", acct, "id", stid,
                     "client_id", cid, "client_secret", csec, "probe_url", bad_probe, NULL);
            expect_code(o, ROTP_E_INVALID_ARGUMENT);
            out_free(&o);
        }

        /* client_id (sent as CF-Access-Client-Id) */
        if (crlf[i][0] != ' ') {
            snprintf(bad_cid, sizeof(bad_cid), "%s%s", cid, crlf[i]);
            o = call(inst, g_prov->verify, "kind", KIND_ST, "account_id", acct, "id", stid,
                     "client_id", bad_cid, "client_secret", csec, "probe_url", probe, NULL);
            expect_code(o, ROTP_E_INVALID_ARGUMENT);
            out_free(&o);
        }

        /* client_secret (sent as CF-Access-Client-Secret); a space is legal in a header
         * value, so only the control characters are tried */
        if (crlf[i][0] != ' ') {
            snprintf(bad_sec, sizeof(bad_sec), "%s%s", csec, crlf[i]);
            o = call(inst, g_prov->verify, "kind", KIND_ST, "account_id", acct, "id", stid,
                     "client_id", cid, "client_secret", bad_sec, "probe_url", probe, NULL);
            expect_code(o, ROTP_E_INVALID_ARGUMENT);
            out_free(&o);
        }

        /* the secret being verified (sent as Authorization: Bearer) */
        snprintf(bad_tok, sizeof(bad_tok), "%s%s", mgmt, crlf[i]);
        o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", bad_tok, NULL);
        expect_code(o, ROTP_E_INVALID_ARGUMENT);
        out_free(&o);

        /* ids in every operation that puts one in a URL */
        snprintf(bad_id, sizeof(bad_id), "%s%s", target_id(), crlf[i]);
        o = call(inst, g_prov->describe, "kind", KIND_USER, "id", bad_id, NULL);
        expect_code(o, ROTP_E_INVALID_ARGUMENT);
        out_free(&o);
        o = call(inst, g_prov->roll, "kind", KIND_USER, "id", bad_id, NULL);
        expect_code(o, ROTP_E_INVALID_ARGUMENT);
        out_free(&o);
        o = call(inst, g_prov->revoke, "kind", KIND_USER, "id", bad_id, NULL);
        expect_code(o, ROTP_E_INVALID_ARGUMENT);
        out_free(&o);
        snprintf(bad_id, sizeof(bad_id), "%s%s", stid, crlf[i]);
        o = call(inst, g_prov->describe, "kind", KIND_ST, "account_id", acct, "id", bad_id, NULL);
        expect_code(o, ROTP_E_INVALID_ARGUMENT);
        out_free(&o);
        snprintf(bad_id, sizeof(bad_id), "%s%s", acct, crlf[i]);
        o = call(inst, g_prov->describe, "kind", "cloudflare.account_token", "account_id", bad_id,
                 "id", cred("CFEMU_TOKEN_CI_READONLY_ID"), NULL);
        expect_code(o, ROTP_E_INVALID_ARGUMENT);
        out_free(&o);
    }
    inst_close(inst);
    assert_no_request(&g_fx);
}

/* Config values bound for headers: user_agent and the management token with CR/LF. */
static void test_injection_config(void **state)
{
    char tok[300];
    rotp_instance *inst;
    rotp_error err;

    (void)state;
    assert_int_equal(open_cfg(&(cfg){.api_base = g_fx.api_base,
                                     .ca_file = g_fx.ca_file,
                                     .user_agent = "rotp\r\nX-Injected: 1"},
                              &inst, &err),
                     ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(open_cfg(&(cfg){.api_base = g_fx.api_base,
                                     .ca_file = g_fx.ca_file,
                                     .user_agent = "rotp\nX-Injected: 1"},
                              &inst, &err),
                     ROTP_E_INVALID_ARGUMENT);
    snprintf(tok, sizeof(tok), "%s\r\nX-Injected: 1", cred("CFEMU_TOKEN_MGMT_VALUE"));
    assert_int_equal(
        open_cfg(&(cfg){.api_base = g_fx.api_base, .ca_file = g_fx.ca_file, .token = tok}, &inst,
                 &err),
        ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(
        open_cfg(&(cfg){.api_base = g_fx.api_base, .ca_file = "/nonexistent/ca.pem"}, &inst, &err),
        ROTP_E_INVALID_ARGUMENT);
    assert_no_request(&g_fx);
}

/* Fails when a log line from index `from` on contains `text`. */
static void assert_not_logged(size_t from, const char *text, const char *what)
{
    for (size_t l = from; l < g_nlines; l++) {
        if (g_lines[l] != NULL && strstr(g_lines[l], text) != NULL) {
            fprintf(stderr, "%s: log line %zu shows a query string: %s\n", what, l, g_lines[l]);
            fail();
        }
    }
}

/* ABI.md section 11: "query strings and headers are never logged" (a probe URL's query may carry
 * a signature or a key). Both probes are made with a query, at DEBUG level. */
static void test_query_never_logged(void **state)
{
    rotp_instance *inst = open_main((cfg){0});
    char url[512];
    size_t from;
    out o;

    (void)state;
    from = g_nlines;
    o = call(inst, g_prov->verify, "kind", KIND_USER, "secret", cred("CFEMU_TOKEN_MGMT_VALUE"),
             "probe_path", "/user/tokens/verify?marker=qsmarkerapitoken", NULL);
    expect_code(o, ROTP_E_OK);
    assert_string_equal(get(&o, "probe_status"), "200");
    out_free(&o);
    assert_true(g_nlines > from);
    assert_not_logged(from, "qsmarker", "api_token probe_path");

    from = g_nlines;
    snprintf(url, sizeof(url), "%s/cdn-cgi/access/probe/%s?marker=qsmarkerservicetoken",
             g_fx.origin, cred("CFEMU_APP_CONSOLE_ID"));
    o = call(inst, g_prov->verify, "kind", KIND_ST, "account_id", cred("CFEMU_ACCOUNT_ID"), "id",
             cred("CFEMU_ST_CONSOLE_PROBE_ID"), "client_id",
             cred("CFEMU_ST_CONSOLE_PROBE_CLIENT_ID"), "client_secret",
             cred("CFEMU_ST_CONSOLE_PROBE_CLIENT_SECRET"), "probe_url", url, NULL);
    expect_code(o, ROTP_E_OK);
    assert_string_equal(get(&o, "probe_status"), "200");
    out_free(&o);
    inst_close(inst);
    assert_true(g_nlines > from);
    /* ast_probe logs the probe URL up to its query, as http.c's loggable_path() does */
    assert_not_logged(from, "qsmarker", "access_service_token probe_url");
}

/* ---------------------------------------------------------------------------------------------
 * Secret hygiene across the whole file (each teardown checks too; this is the final sweep,
 * after a full rotation whose new value must also stay out of the log)
 * ------------------------------------------------------------------------------------------- */

static void test_secrets_never_logged(void **state)
{
    char value[VAL_MAX];
    size_t before = g_nlines;

    (void)state;
    fresh_target_value(value, sizeof(value));
    expect_state(value, "active");
    assert_true(g_nlines > before); /* DEBUG logging is on: the check below has lines to read */
    assert_true(g_nsecrets >= 3);
    assert_no_secret_in_log(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tls_verified_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_wrong_ca, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_system_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_host_name_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_refused_without_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_loopback_with_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_base_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_url_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_redirect_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_redirect_put, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_over_cap_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_under_cap_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_over_cap_put, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_put, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_json_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_json_put, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_content_type_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_content_type_put, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_429_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_503_twice_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_503_not_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_reset_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_reset_before, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_reset_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_after_beyond_max_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_put, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_injection_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_injection_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_never_logged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secrets_never_logged, setup, teardown),
    };

    int failed = cmocka_run_group_tests(tests, group_setup, group_teardown);
    return failed != 0 || g_teardown_failed ? 1 : 0;
}
