/* SPDX-License-Identifier: MIT */
/* server.c - cfemu's HTTP(S) front: libmicrohttpd in thread-per-connection mode. It builds the
 * request from the connection, runs it through the pipeline (bookkeeping, faults, rate limit,
 * dispatch to a route family, the log) and sends the answer. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "alloc.h"
#include "auth.h"
#include "cfemu.h"
#include "meter.h"
#include "routes.h"

/* --- connections ---------------------------------------------------------------------------- */

/* What cfemu keeps per connection (MHD's socket context). */
typedef struct conn_info {
    bool counted; /* meter_connection() has seen it */
} conn_info;

/* MHD_OPTION_NOTIFY_CONNECTION: at the start of a connection (TLS set up, no handshake yet)
 * session tickets are enabled under the run's key (cls: the tls_material, NULL for plain HTTP);
 * at its end its conn_info goes. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    const tls_material *tls = cls;

    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        rotp__free(*socket_context);
        *socket_context = NULL;
        return;
    }
    *socket_context = rotp__calloc(1, sizeof(conn_info));
    if (tls != NULL) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);

        if (ci == NULL || tls_enable_tickets(ci->tls_session, tls) != 0)
            fputs("cfemu: cannot enable TLS session tickets on a connection\n", stderr);
    }
}

/* Counts the connection at its first request outside the control API: plain HTTP, or TLS with a
 * full or a resumed handshake (complete by now). */
static void note_connection(cfemu_ctx *ctx, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn_info *info = ci != NULL ? ci->socket_context : NULL;
    bool resumed = false;

    if (info == NULL || info->counted)
        return;
    info->counted = true;
    if (!ctx->opt.insecure_http) {
        ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        resumed = ci != NULL && tls_resumed(ci->tls_session);
    }
    pthread_mutex_lock(&ctx->lock);
    meter_connection(ctx, !ctx->opt.insecure_http, resumed);
    pthread_mutex_unlock(&ctx->lock);
}

/* --- per-connection state ------------------------------------------------------------------- */

typedef struct conn_state {
    dynbuf body;
    bool too_large;
} conn_state;

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    conn_state *cs = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (cs == NULL)
        return;
    dynbuf_free_wipe(&cs->body);
    rotp__free(cs);
    *con_cls = NULL;
}

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    request *req = cls;
    cf_query_param *n;

    (void)kind;
    if (req->nquery >= 64)
        return MHD_YES;
    n = rotp__realloc(req->query, (req->nquery + 1) * sizeof(*n));
    if (n == NULL)
        return MHD_NO;
    req->query = n;
    n[req->nquery].key = rotp__strdup(key != NULL ? key : "");
    n[req->nquery].value = value != NULL ? rotp__strdup(value) : NULL;
    req->nquery++;
    return MHD_YES;
}

/* Fills req from the connection. 0, or -1 on allocation failure. */
static int request_build(request *req, struct MHD_Connection *conn, const char *url,
                         const char *method, conn_state *cs)
{
    const char *h;
    const char *p;

    memset(req, 0, sizeof(*req));
    req->method = method;
    req->path = rotp__strdup(url);
    if (req->path == NULL)
        return -1;
    p = req->path;
    if (strncmp(p, CFEMU_API_PREFIX "/", strlen(CFEMU_API_PREFIX) + 1) == 0)
        p += strlen(CFEMU_API_PREFIX) + 1;
    else if (*p == '/')
        p++;
    while (*p != 0 && req->nseg < CFEMU_MAX_SEGS) {
        const char *e = strchr(p, '/');
        size_t n = e != NULL ? (size_t)(e - p) : strlen(p);

        req->seg[req->nseg] = rotp__strndup(p, n);
        if (req->seg[req->nseg] == NULL)
            return -1;
        req->nseg++;
        p += n;
        if (*p == '/')
            p++;
    }
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, req);
    h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (h != NULL && (req->authorization = secret_new(h, strlen(h))) == NULL)
        return -1;
    h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "CF-Access-Client-Id");
    if (h != NULL && (req->cf_access_client_id = rotp__strdup(h)) == NULL)
        return -1;
    h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "CF-Access-Client-Secret");
    if (h != NULL && (req->cf_access_client_secret = secret_new(h, strlen(h))) == NULL)
        return -1;
    h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    if (h != NULL && (req->content_type = rotp__strdup(h)) == NULL)
        return -1;
    req->body = cs->body.data;
    req->body_len = cs->body.len;
    req->body_too_large = cs->too_large;
    return 0;
}

/* --- sending -------------------------------------------------------------------------------- */

static void wipe_free_body(void *p)
{
    if (p != NULL) {
        secret_wipe(p, strlen(p));
        rotp__free(p);
    }
}

typedef struct trunc_body {
    char *data;
    size_t len; /* what is actually sent */
} trunc_body;

static ssize_t trunc_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    trunc_body *t = cls;
    size_t n;

    if (pos >= t->len)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    n = t->len - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(buf, t->data + pos, n);
    return (ssize_t)n;
}

static void trunc_free(void *cls)
{
    trunc_body *t = cls;

    wipe_free_body(t->data);
    rotp__free(t);
}

/* Queues resp on conn; headers extra[] are name/value pairs, NULL-terminated. */
static enum MHD_Result send_response(struct MHD_Connection *conn, response *resp, bool truncate,
                                     const char *const *extra)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    size_t len = resp->body.len;
    char *data = dynbuf_take(&resp->body);

    if (data == NULL)
        return MHD_NO;
    if (truncate) {
        trunc_body *t = rotp__calloc(1, sizeof(*t));

        if (t == NULL) {
            wipe_free_body(data);
            return MHD_NO;
        }
        t->data = data;
        t->len = len / 2;
        r = MHD_create_response_from_callback(len, 4096, trunc_reader, t, trunc_free);
        if (r == NULL)
            trunc_free(t);
    } else {
        r = MHD_create_response_from_buffer_with_free_callback(len, data, wipe_free_body);
        if (r == NULL)
            wipe_free_body(data);
    }
    if (r == NULL)
        return MHD_NO;
    if (resp->content_type[0] != 0)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    if (resp->retry_after >= 0) {
        char ra[32];

        snprintf(ra, sizeof(ra), "%ld", resp->retry_after);
        MHD_add_response_header(r, "Retry-After", ra);
    }
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i += 2)
        MHD_add_response_header(r, extra[i], extra[i + 1]);
    ret = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* --- dispatch ------------------------------------------------------------------------------- */

static bool path_has_prefix(const char *path, const char *prefix)
{
    return strncmp(path, prefix, strlen(prefix)) == 0;
}

static bool is_api_path(const char *path)
{
    return strcmp(path, CFEMU_API_PREFIX) == 0 || path_has_prefix(path, CFEMU_API_PREFIX "/");
}

#define RATE_LIMIT_MESSAGE "Please wait and consider throttling your request speed"

static void no_route(cfemu_ctx *ctx, response *resp)
{
    ctx->counters.unknown_routes++;
    resp_error(resp, 400, 7000, "No route for that URI");
}

static void apply_body_fault(const cfemu_fault *f, response *resp)
{
    switch (f->kind) {
    case FAULT_MALFORMED_JSON:
        /* Half the body (at least one byte short of any complete value) is never valid JSON. */
        if (resp->body.len > 1)
            resp->body.len = resp->body.len / 2;
        else
            dynbuf_adds(&resp->body, "{");
        resp->body.data[resp->body.len] = 0;
        if (resp->body.len > 0 && resp->body.data[resp->body.len - 1] == '}')
            resp->body.data[resp->body.len - 1] = ',';
        break;
    case FAULT_OVERSIZE: {
        long want = f->size > 0 ? f->size : 2L * 1024 * 1024;

        resp->body.max = (size_t)want + 2 * resp->body.len + 64;
        while ((long)resp->body.len <= want) {
            if (dynbuf_adds(&resp->body, "                                                "
                                         "                ") != 0)
                break;
        }
        break;
    }
    case FAULT_WRONG_CONTENT_TYPE:
        snprintf(resp->content_type, sizeof(resp->content_type), "text/html; charset=utf-8");
        break;
    default:
        break;
    }
}

/* Sleeps ms milliseconds in short steps, so a shutdown does not wait for a long delay fault. */
static void delay_ms(cfemu_ctx *ctx, long ms)
{
    while (ms > 0 && !atomic_load(&ctx->stopping)) {
        long step = ms < 50 ? ms : 50;
        struct timespec ts = {0, step * 1000000L};

        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        ms -= step;
    }
}

/* One request and its answer on their way through the pipeline. */
typedef struct exchange {
    request req;
    response resp;
    cfemu_fault fault; /* the fault that hit (has_fault) */
    bool has_fault;
    bool api;                        /* under /client/v4: authenticated, rate limited */
    char token_id[CF_HEX32_LEN + 1]; /* the live caller's id, or "" */
    char rl_hdr[96], rl_policy[96];  /* Ratelimit / Ratelimit-Policy, or "" */
} exchange;

/* What the pipeline does next with an exchange. */
typedef enum step { STEP_ROUTE, STEP_ANSWER, STEP_DROP } step;

/* Bookkeeping before the lock is held for the answer: the request is counted, a fault taken and
 * a delay fault slept (without the lock, so other connections go on). */
static void ex_begin(cfemu_ctx *ctx, exchange *ex)
{
    pthread_mutex_lock(&ctx->lock);
    ctx->counters.requests++;
    ctx->in_flight++;
    ex->has_fault = cfemu_fault_take(ctx, ex->req.method, ex->req.path, &ex->fault);
    pthread_mutex_unlock(&ctx->lock);
    if (ex->has_fault && ex->fault.kind == FAULT_DELAY)
        delay_ms(ctx, ex->fault.delay_ms);
}

/* What comes before the route (lock held): authentication, a reset before, the rate limit and
 * the faults that answer instead of the route. */
static step ex_gate(cfemu_ctx *ctx, exchange *ex)
{
    cfemu_fault_kind k = ex->fault.kind;

    if (ex->api) {
        auth_identify(ctx, &ex->req);
        if (ex->req.auth == CF_AUTH_OK)
            snprintf(ex->token_id, sizeof(ex->token_id), "%s", ex->req.caller->id);
    }
    if (ex->has_fault && k == FAULT_RESET_BEFORE)
        return STEP_DROP;
    if (ex->api) {
        rl_result rl = meter_rate_limit(ctx, ex->token_id[0] != 0 ? ex->token_id : "anonymous");

        snprintf(ex->rl_hdr, sizeof(ex->rl_hdr), "\"default\";r=%ld;t=%ld", rl.remaining,
                 rl.reset_in);
        snprintf(ex->rl_policy, sizeof(ex->rl_policy), "\"default\";q=%ld;w=%ld", ctx->opt.rl_limit,
                 ctx->opt.rl_window);
        if (rl.limited) {
            resp_error(&ex->resp, 429, 971, RATE_LIMIT_MESSAGE);
            ex->resp.retry_after = rl.reset_in;
            return STEP_ANSWER;
        }
    }
    if (ex->has_fault && k == FAULT_STATUS) {
        resp_error(&ex->resp, ex->fault.status > 0 ? ex->fault.status : 500,
                   ex->fault.code > 0 ? ex->fault.code : 10001,
                   ex->fault.message != NULL ? ex->fault.message
                                             : "Internal server error (cfemu fault)");
        return STEP_ANSWER;
    }
    if (ex->has_fault && k == FAULT_RATE_LIMIT) {
        resp_error(&ex->resp, 429, 971, RATE_LIMIT_MESSAGE);
        ex->resp.retry_after = ex->fault.retry_after >= 0 ? ex->fault.retry_after : 60;
        return STEP_ANSWER;
    }
    return STEP_ROUTE;
}

/* The route (lock held), then the faults that change or drop its answer. */
static step ex_route(cfemu_ctx *ctx, exchange *ex)
{
    request *req = &ex->req;
    response *resp = &ex->resp;
    int r = ROUTE_NOT_MINE;

    if (ex->api) {
        /* last_used_on moves on every authenticated call, before a handler may delete the
         * caller (a token deleting itself). */
        if (req->auth == CF_AUTH_OK)
            req->caller->last_used_on = cfemu_now(ctx);
        r = tokens_route(ctx, req, resp);
        if (r == ROUTE_NOT_MINE)
            r = access_route(ctx, req, resp);
        if (r == ROUTE_NOT_MINE)
            no_route(ctx, resp);
    } else if (path_has_prefix(req->path, CFEMU_PROBE_PREFIX)) {
        if (access_probe(ctx, req, resp) == ROUTE_NOT_MINE)
            resp_text(resp, 404, "text/plain", "Not Found\n");
    } else {
        no_route(ctx, resp);
    }
    if (resp->status == 0)
        resp_error(resp, 500, 10001, "cfemu: internal error");
    if (ex->has_fault && ex->fault.kind == FAULT_RESET_AFTER)
        return STEP_DROP;
    if (ex->has_fault)
        apply_body_fault(&ex->fault, resp);
    return STEP_ANSWER;
}

/* Runs a request outside the control API through the pipeline. */
static step ex_run(cfemu_ctx *ctx, exchange *ex)
{
    step st;
    int status;

    ex->api = is_api_path(ex->req.path);
    ex_begin(ctx, ex);
    pthread_mutex_lock(&ctx->lock);
    st = ex_gate(ctx, ex);
    if (st == STEP_ROUTE)
        st = ex_route(ctx, ex);
    status = st == STEP_DROP ? 0 : ex->resp.status;
    cfemu_log_request(ctx, ex->req.method, ex->req.path, status, ex->token_id,
                      ex->has_fault ? cfemu_fault_kind_name(ex->fault.kind) : NULL);
    meter_count(ctx, ex->req.method, ex->req.path,
                ex->api ? (ex->token_id[0] != 0 ? ex->token_id : "anonymous") : NULL, status);
    ctx->in_flight--; /* its effect on the state is complete */
    pthread_mutex_unlock(&ctx->lock);
    return st;
}

static enum MHD_Result ex_send(struct MHD_Connection *conn, exchange *ex)
{
    const char *extra[5] = {NULL};

    if (ex->rl_hdr[0] != 0) {
        extra[0] = "Ratelimit";
        extra[1] = ex->rl_hdr;
        extra[2] = "Ratelimit-Policy";
        extra[3] = ex->rl_policy;
    }
    return send_response(conn, &ex->resp, ex->has_fault && ex->fault.kind == FAULT_TRUNCATE, extra);
}

static enum MHD_Result handle(cfemu_ctx *ctx, struct MHD_Connection *conn, const char *url,
                              const char *method, conn_state *cs)
{
    exchange ex;
    enum MHD_Result ret;
    step st = STEP_ANSWER;

    memset(&ex, 0, sizeof(ex));
    resp_init(&ex.resp);
    if (request_build(&ex.req, conn, url, method, cs) != 0) {
        resp_oom(&ex.resp);
    } else if (path_has_prefix(ex.req.path, CFEMU_CTL_PREFIX) ||
               strcmp(ex.req.path, "/__cfemu") == 0) {
        pthread_mutex_lock(&ctx->lock);
        if (control_route(ctx, &ex.req, &ex.resp) != ROUTE_DONE)
            resp_error(&ex.resp, 404, 7000, "No such control endpoint");
        pthread_mutex_unlock(&ctx->lock);
    } else {
        note_connection(ctx, conn);
        st = ex_run(ctx, &ex);
    }
    ret = st == STEP_DROP ? MHD_NO : ex_send(conn, &ex);
    rotp__free(ex.fault.message);
    request_free(&ex.req);
    resp_free(&ex.resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    cfemu_ctx *ctx = cls;
    conn_state *cs = *con_cls;

    (void)version;
    if (cs == NULL) {
        cs = rotp__calloc(1, sizeof(*cs));
        if (cs == NULL)
            return MHD_NO;
        dynbuf_init(&cs->body, CFEMU_MAX_BODY);
        *con_cls = cs;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!cs->too_large && dynbuf_add(&cs->body, upload_data, *upload_data_size) != 0)
            cs->too_large = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    return handle(ctx, conn, url, method, cs);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    fputs("cfemu: libmicrohttpd: ", stderr);
    vfprintf(stderr, fmt, ap);
}

/* --- the daemon ----------------------------------------------------------------------------- */

/* Writes the port to path through a temporary file and rename(), so readers never see half. */
static int write_port_file(const char *path, int port)
{
    char tmp[4096];
    FILE *f;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
        return -1;
    f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Writes text to path (0644) through a temporary file and rename(). */
static int write_text_file(const char *path, const char *text)
{
    char tmp[4096];
    FILE *f;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
        return -1;
    f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    fputs(text, f);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Starts libmicrohttpd on sa; tls NULL for plain HTTP. NULL on failure. */
static struct MHD_Daemon *start_daemon(cfemu_ctx *ctx, unsigned flags, struct sockaddr *sa,
                                       const tls_material *tls)
{
    if (tls == NULL)
        return MHD_start_daemon(flags, 0, NULL, NULL, on_request, ctx, MHD_OPTION_EXTERNAL_LOGGER,
                                mhd_log, ctx, MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_NOTIFY_COMPLETED,
                                on_completed, ctx, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
                                NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_END);
    return MHD_start_daemon(flags, 0, NULL, NULL, on_request, ctx, MHD_OPTION_EXTERNAL_LOGGER,
                            mhd_log, ctx, MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_NOTIFY_COMPLETED,
                            on_completed, ctx, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
                            (void *)tls, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                            MHD_OPTION_HTTPS_MEM_KEY, tls->key_pem, MHD_OPTION_HTTPS_MEM_CERT,
                            tls->cert_pem, MHD_OPTION_END);
}

int server_run(cfemu_ctx *ctx)
{
    tls_material tls = {NULL, NULL, NULL, NULL, 0};
    struct MHD_Daemon *d = NULL;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    struct sockaddr *sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    const union MHD_DaemonInfo *info;
    sigset_t set;
    int sig = 0;
    int rc = -1;
    int port;

    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));
    if (strcmp(ctx->opt.listen_host, "::1") == 0) {
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons((uint16_t)ctx->opt.listen_port);
        sin6.sin6_addr = in6addr_loopback;
        sa = (struct sockaddr *)&sin6;
        flags |= MHD_USE_IPv6;
    } else {
        sin.sin_family = AF_INET;
        sin.sin_port = htons((uint16_t)ctx->opt.listen_port);
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa = (struct sockaddr *)&sin;
    }
    if (!ctx->opt.insecure_http) {
        if (tls_make(&tls) != 0)
            goto out;
        if (ctx->opt.ca_out != NULL && write_text_file(ctx->opt.ca_out, tls.ca_pem) != 0) {
            fprintf(stderr, "cfemu: cannot write the CA to %s: %s\n", ctx->opt.ca_out,
                    strerror(errno));
            goto out;
        }
        flags |= MHD_USE_TLS;
    }

    /* The signals are taken by sigwait() below; every thread MHD starts inherits the mask. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    d = start_daemon(ctx, flags, sa, ctx->opt.insecure_http ? NULL : &tls);
    if (d == NULL) {
        fprintf(stderr, "cfemu: cannot listen on %s:%d\n", ctx->opt.listen_host,
                ctx->opt.listen_port);
        goto out;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    port = info != NULL ? (int)info->port : ctx->opt.listen_port;
    if (ctx->opt.port_file != NULL && write_port_file(ctx->opt.port_file, port) != 0) {
        fprintf(stderr, "cfemu: cannot write the port file %s: %s\n", ctx->opt.port_file,
                strerror(errno));
        goto out;
    }
    fprintf(stderr, "cfemu: listening on %s://%s%s%s:%d\n",
            ctx->opt.insecure_http ? "http" : "https", sa->sa_family == AF_INET6 ? "[" : "",
            ctx->opt.listen_host, sa->sa_family == AF_INET6 ? "]" : "", port);
    while (sigwait(&set, &sig) != 0 || (sig != SIGINT && sig != SIGTERM))
        ;
    fprintf(stderr, "cfemu: signal %d, stopping\n", sig);
    rc = 0;
out:
    atomic_store(&ctx->stopping, 1);
    if (d != NULL)
        MHD_stop_daemon(d);
    tls_material_free(&tls);
    return rc;
}
