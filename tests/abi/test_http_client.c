/* SPDX-License-Identifier: MIT */
/* test_http_client.c - the provider's HTTP client (plugin/http.c, linked from rotp_core_test)
 * against a scripted plain-HTTP server on 127.0.0.1 in a thread of this process, through
 * allow_insecure_loopback: retries for idempotent requests only (503, 429, a dropped
 * connection), Retry-After beyond the budget, lost answers to POST = OUTCOME_UNKNOWN, refused
 * connections = TRANSIENT with nothing sent, the 1 MiB body cap, no redirects, the Authorization
 * header, connection reuse, URL and header checks, and Retry-After parsing.
 *
 * TLS paths (verification failures, the CA file) are covered by the integration tests against
 * cfemu. No timing assertions: only what was sent and what came back. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "alloc.h"
#include "http.h"
#include "log.h"
#include "secret.h"

#define TOKEN       "httpTestToken_0123456789abcdefghijABCDEFGHIJ-xyz"
#define MAX_ACTIONS 8
#define BIG_BODY    (2u * 1024u * 1024u)

/* ------------------------------------------------------------------------------------------- */
/* The scripted server */

enum act_kind { ACT_RESPOND, ACT_DROP, ACT_BIG };

typedef struct action {
    enum act_kind kind;
    int status;
    const char *headers; /* extra header lines, each ending in \r\n */
    const char *body;
} action;

typedef struct server {
    int lfd;
    int port;
    pthread_t thread;
    action actions[MAX_ACTIONS];
    int nactions;
    volatile int stop; /* set by server_stop() */
    bool repeat_last;  /* after the script, keep answering with its last action */
    /* what was seen */
    int requests;
    int connections;
    char first_request[4096]; /* the head of the first request */
    char last_request[4096];
} server;

static int read_request(int fd, char *head, size_t cap)
{
    size_t len = 0;
    long content_length = 0;
    char *end = NULL;
    char *cl;

    while (end == NULL) {
        ssize_t n;
        if (len + 1 >= cap)
            return -1;
        n = recv(fd, head + len, cap - 1 - len, 0);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        head[len] = '\0';
        end = strstr(head, "\r\n\r\n");
    }
    cl = strcasestr(head, "\r\ncontent-length:");
    if (cl != NULL && cl < end)
        content_length = strtol(cl + 17, NULL, 10);
    {
        size_t have = len - (size_t)(end + 4 - head);
        char sink[4096];
        while ((long)have < content_length) {
            ssize_t n = recv(fd, sink, sizeof(sink), 0);
            if (n <= 0)
                return -1;
            have += (size_t)n;
        }
    }
    end[4] = '\0';
    return 0;
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Serves one request on fd with the next action. Returns false when fd must be closed. */
static bool serve_one(server *s, int fd, int *next)
{
    char head[4096];
    char out[1024];
    const action *a;

    if (read_request(fd, head, sizeof(head)) != 0)
        return false; /* the client closed this connection */
    if (*next >= s->nactions && !s->repeat_last)
        return false; /* unscripted: drop it, the test's counts will show it */
    a = *next >= s->nactions ? &s->actions[s->nactions - 1] : &s->actions[(*next)++];
    if (s->requests == 0)
        snprintf(s->first_request, sizeof(s->first_request), "%s", head);
    snprintf(s->last_request, sizeof(s->last_request), "%s", head);
    s->requests++;
    if (a->kind == ACT_DROP)
        return false;
    if (a->kind == ACT_BIG) {
        char *big = malloc(BIG_BODY);
        snprintf(out, sizeof(out),
                 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                 "Content-Length: %u\r\n\r\n",
                 BIG_BODY);
        send_all(fd, out, strlen(out));
        if (big != NULL) {
            memset(big, ' ', BIG_BODY);
            send_all(fd, big, BIG_BODY);
            free(big);
        }
        return false;
    }
    snprintf(out, sizeof(out),
             "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%sContent-Length: %zu"
             "\r\n\r\n%s",
             a->status, a->headers ? a->headers : "", strlen(a->body ? a->body : ""),
             a->body ? a->body : "");
    send_all(fd, out, strlen(out));
    return true;
}

/* Accepts any number of connections and serves requests on whichever is ready, until stopped. */
static void *server_main(void *arg)
{
    server *s = arg;
    struct pollfd fds[16];
    int nfds = 1;
    int next = 0;

    fds[0].fd = s->lfd;
    fds[0].events = POLLIN;
    while (!s->stop) {
        if (poll(fds, (nfds_t)nfds, 50) <= 0)
            continue;
        if ((fds[0].revents & POLLIN) && nfds < 16) {
            int fd = accept(s->lfd, NULL, NULL);
            if (fd >= 0) {
                s->connections++;
                fds[nfds].fd = fd;
                fds[nfds].events = POLLIN;
                fds[nfds].revents = 0;
                nfds++;
            }
        }
        for (int i = 1; i < nfds; i++) {
            if (fds[i].revents == 0)
                continue;
            if (!serve_one(s, fds[i].fd, &next)) {
                close(fds[i].fd);
                fds[i] = fds[--nfds];
                i--;
            }
        }
    }
    for (int i = 1; i < nfds; i++)
        close(fds[i].fd);
    return NULL;
}

static void server_start(server *s, const action *acts, int n)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int one = 1;

    memset(s, 0, sizeof(*s));
    memcpy(s->actions, acts, (size_t)n * sizeof(*acts));
    s->nactions = n;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->lfd >= 0);
    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(s->lfd, 8), 0);
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sa, &sl), 0);
    s->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

/* Stops the server thread (the client is done by now) and closes the socket. */
static void server_stop(server *s)
{
    s->stop = 1;
    pthread_join(s->thread, NULL);
    close(s->lfd);
}

/* A port with nothing listening: bind, read the port, close. */
static int closed_port(void)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

/* ------------------------------------------------------------------------------------------- */
/* The client side */

typedef struct logcap {
    char lines[16][512];
    int n;
} logcap;

static void capture(void *user, int32_t level, const char *msg, uint64_t len)
{
    logcap *lc = user;

    (void)level;
    (void)len;
    if (lc->n < 16)
        snprintf(lc->lines[lc->n++], sizeof(lc->lines[0]), "%s", msg);
}

typedef struct client_fx {
    logcap lc;
    rotp_host host;
    plog log;
    http_client *c;
    secret_buf *token;
} client_fx;

static void client_open(client_fx *fx, int port, int max_retries, long timeout_ms)
{
    char base[128];
    http_config cfg;
    rotp_error err;

    memset(fx, 0, sizeof(*fx));
    fx->host.struct_size = sizeof(fx->host);
    fx->host.log_level = ROTP_LOG_DEBUG;
    fx->host.log = capture;
    fx->host.log_user = &fx->lc;
    plog_init(&fx->log, &fx->host);
    fx->token = secret_new(TOKEN, strlen(TOKEN));
    assert_non_null(fx->token);
    plog_remember(&fx->log, fx->token);
    snprintf(base, sizeof(base), "http://127.0.0.1:%d/client/v4", port);
    memset(&cfg, 0, sizeof(cfg));
    cfg.api_base = base;
    cfg.allow_insecure_loopback = true;
    cfg.timeout_ms = timeout_ms;
    cfg.connect_timeout_ms = 2000;
    cfg.max_retries = max_retries;
    cfg.user_agent = "http-test/1";
    cfg.max_wait_ms = 60000;
    memset(&err, 0, sizeof(err));
    err.struct_size = sizeof(err);
    assert_int_equal(http_client_new(&cfg, &fx->log, &fx->c, &err), ROTP_E_OK);
}

static void client_close(client_fx *fx)
{
    http_client_free(fx->c);
    plog_forget(&fx->log, fx->token);
    secret_free(fx->token);
    for (int i = 0; i < fx->lc.n; i++)
        assert_null(strstr(fx->lc.lines[i], TOKEN));
}

static int32_t do_req(client_fx *fx, const char *method, const char *path, bool idempotent,
                      http_response *resp, rotp_error *err)
{
    http_request req;

    memset(&req, 0, sizeof(req));
    req.method = method;
    req.path = path;
    req.bearer = fx->token;
    req.idempotent = idempotent;
    if (strcmp(method, "POST") == 0) {
        req.body = "{\"a\":1}";
        req.body_len = 7;
    }
    memset(err, 0, sizeof(*err));
    err->struct_size = sizeof(*err);
    return http_do(fx->c, &req, resp, err);
}

/* ------------------------------------------------------------------------------------------- */

static void test_get_retries_503_then_ok(void **state)
{
    const action acts[] = {{ACT_RESPOND, 503, NULL, "{}"},
                           {ACT_RESPOND, 200, NULL, "{\"success\":true}"}};
    server s;
    client_fx fx;
    http_response resp;
    rotp_error err;
    bool logged = false;

    (void)state;
    server_start(&s, acts, 2);
    client_open(&fx, s.port, 3, 10000);
    assert_int_equal(do_req(&fx, "GET", "/user/tokens/verify?secretish=abc", true, &resp, &err),
                     ROTP_E_OK);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.attempts, 2);
    assert_string_equal(resp.body.data, "{\"success\":true}");
    assert_string_equal(resp.content_type, "application/json");
    http_response_free(&resp);
    server_stop(&s);
    assert_int_equal(s.requests, 2);
    /* the request carried the bearer token, the user agent, and no body */
    assert_non_null(strstr(s.first_request, "GET /client/v4/user/tokens/verify?secretish=abc "));
    assert_non_null(strstr(s.first_request, "Authorization: Bearer " TOKEN "\r\n"));
    assert_non_null(strstr(s.first_request, "User-Agent: http-test/1\r\n"));
    /* the retry was logged at INFO with the path but not the query */
    for (int i = 0; i < fx.lc.n; i++) {
        if (strstr(fx.lc.lines[i], "/user/tokens/verify") && strstr(fx.lc.lines[i], "retry"))
            logged = true;
        assert_null(strstr(fx.lc.lines[i], "secretish"));
    }
    assert_true(logged);
    client_close(&fx);
}

/* The connection is reused between consecutive requests. */
static void test_connection_reused(void **state)
{
    const action acts[] = {{ACT_RESPOND, 200, NULL, "{}"},
                           {ACT_RESPOND, 200, NULL, "{}"},
                           {ACT_RESPOND, 404, NULL, "{}"}};
    server s;
    client_fx fx;
    http_response resp;
    rotp_error err;

    (void)state;
    server_start(&s, acts, 3);
    client_open(&fx, s.port, 0, 10000);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(do_req(&fx, i == 1 ? "DELETE" : "GET", "/a", true, &resp, &err),
                         ROTP_E_OK);
        assert_int_equal(resp.status, i == 2 ? 404 : 200);
        http_response_free(&resp);
    }
    client_close(&fx);
    server_stop(&s);
    assert_int_equal(s.requests, 3);
    assert_int_equal(s.connections, 1);
}

/* A state-changing request never rides on a reused connection: libcurl silently re-sends a
 * request whose reused connection died without an answer, which for a POST could apply a change
 * twice. Here the POST's connection drops after the request: exactly one POST reaches the server
 * and the outcome is unknown. */
static void test_post_on_fresh_connection_not_resent(void **state)
{
    const action acts[] = {
        {ACT_RESPOND, 200, NULL, "{}"}, {ACT_DROP, 0, NULL, NULL}, {ACT_RESPOND, 200, NULL, "{}"}};
    server s;
    client_fx fx;
    http_response resp;
    rotp_error err;

    (void)state;
    server_start(&s, acts, 3);
    client_open(&fx, s.port, 3, 10000);
    assert_int_equal(do_req(&fx, "GET", "/warm", true, &resp, &err), ROTP_E_OK);
    http_response_free(&resp);
    assert_int_equal(do_req(&fx, "POST", "/change", false, &resp, &err), ROTP_E_OUTCOME_UNKNOWN);
    assert_true(err.flags & ROTP_ERRF_REQUEST_SENT);
    http_response_free(&resp);
    client_close(&fx);
    server_stop(&s);
    assert_int_equal(s.requests, 2); /* the third answer was never asked for */
    assert_int_equal(s.connections, 2);
}

static void test_post_not_retried_on_503(void **state)
{
    const action acts[] = {{ACT_RESPOND, 503, NULL, "{}"}};
    server s;
    client_fx fx;
    http_response resp;
    rotp_error err;

    (void)state;
    server_start(&s, acts, 1);
    client_open(&fx, s.port, 3, 10000);
    assert_int_equal(do_req(&fx, "POST", "/user/tokens/x/value", false, &resp, &err), ROTP_E_OK);
    assert_int_equal(resp.status, 503);
    assert_int_equal(resp.attempts, 1);
    http_response_free(&resp);
    client_close(&fx);
    server_stop(&s);
    assert_int_equal(s.requests, 1);
    assert_non_null(strstr(s.first_request, "Content-Type: application/json\r\n"));
}

static void test_429_retry_after_honoured_within_budget(void **state)
{
    const action acts[] = {{ACT_RESPOND, 429, "Retry-After: 1\r\n", "{}"},
                           {ACT_RESPOND, 200, NULL, "{}"}};
    server s;
    client_fx fx;
    http_response resp;
    rotp_error err;

    (void)state;
    server_start(&s, acts, 2);
    client_open(&fx, s.port, 2, 20000);
    assert_int_equal(do_req(&fx, "GET", "/x", true, &resp, &err), ROTP_E_OK);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.attempts, 2);
    http_response_free(&resp);
    client_close(&fx);
    server_stop(&s);
}

/* A Retry-After longer than max_wait_ms (60 s here) is not waited for: the 429 comes back with
 * the server's delay for the caller to report. */
static void test_429_retry_after_past_max_wait(void **state)
{
    const action acts[] = {{ACT_RESPOND, 429, "Retry-After: 120\r\n", "{}"}};
    server s;
    client_fx fx;
    http_response resp;
    rotp_error err;

    (void)state;
    server_start(&s, acts, 1);
    client_open(&fx, s.port, 3, 3000);
    assert_int_equal(do_req(&fx, "GET", "/x", true, &resp, &err), ROTP_E_OK);
    assert_int_equal(resp.status, 429);
    assert_int_equal(resp.attempts, 1);
    assert_int_equal(resp.retry_after_ms, 120000);
    http_response_free(&resp);
    client_close(&fx);
    server_stop(&s);
}

static void test_retry_after_ms_header(void **state)
{
    const action acts[] = {
        {ACT_RESPOND, 429, "Retry-After: 120\r\nRetry-After-Ms: 5500\r\n", "{}"}};
    server s;
    client_fx fx;
    http_response resp;
    rotp_error err;

    (void)state;
    server_start(&s, acts, 1);
    client_open(&fx, s.port, 0, 3000);
    assert_int_equal(do_req(&fx, "GET", "/x", true, &resp, &err), ROTP_E_OK);
    assert_int_equal(resp.retry_after_ms, 5500);
    http_response_free(&resp);
    client_close(&fx);
    server_stop(&s);
}

/* max_retries bounds the attempts: 1 + max_retries, then the last response. */
static void test_max_retries_bound(void **state)
{
    const action acts[] = {{ACT_RESPOND, 502, NULL, "{}"},
                           {ACT_RESPOND, 500, NULL, "{}"},
                           {ACT_RESPOND, 200, NULL, "{}"}};
    server s;
    client_fx fx;
    http_response resp;
    rotp_error err;

    (void)state;
    server_start(&s, acts, 3);
    client_open(&fx, s.port, 1, 10000);
    assert_int_equal(do_req(&fx, "DELETE", "/x", true, &resp, &err), ROTP_E_OK);
    assert_int_equal(resp.status, 500);
    assert_int_equal(resp.attempts, 2);
    http_response_free(&resp);
    /* the third scripted answer is still there for the next call */
    assert_int_equal(do_req(&fx, "GET", "/y", true, &resp, &err), ROTP_E_OK);
    assert_int_equal(resp.status, 200);
    http_response_free(&resp);
    client_close(&fx);
    server_stop(&s);
    assert_non_null(strstr(s.first_request, "DELETE /client/v4/x "));
}

/* A POST whose answer is lost after it was sent: outcome unknown, never repeated. */
static void test_post_dropped_is_outcome_unknown(void **state)
{
    const action acts[] = {{ACT_DROP, 0, NULL, NULL}};
    server s;
    client_fx fx;
    http_response resp;
    rotp_error err;

    (void)state;
    server_start(&s, acts, 1);
    client_open(&fx, s.port, 3, 10000);
    assert_int_equal(do_req(&fx, "POST", "/user/tokens/x/value", false, &resp, &err),
                     ROTP_E_OUTCOME_UNKNOWN);
    assert_int_equal(err.code, ROTP_E_OUTCOME_UNKNOWN);
    assert_true(err.flags & ROTP_ERRF_REQUEST_SENT);
    assert_int_equal(resp.attempts, 1);
    http_response_free(&resp);
    client_close(&fx);
    server_stop(&s);
    assert_int_equal(s.requests, 1);
}

/* A GET whose answer is lost is retried. */
static void test_get_dropped_is_retried(void **state)
{
    const action acts[] = {{ACT_DROP, 0, NULL, NULL}, {ACT_RESPOND, 200, NULL, "{}"}};
    server s;
    client_fx fx;
    http_response resp;
    rotp_error err;

    (void)state;
    server_start(&s, acts, 2);
    client_open(&fx, s.port, 2, 10000);
    assert_int_equal(do_req(&fx, "GET", "/x", true, &resp, &err), ROTP_E_OK);
    assert_int_equal(resp.status, 200);
    assert_true(resp.attempts >= 2);
    http_response_free(&resp);
    client_close(&fx);
    server_stop(&s);
    assert_int_equal(s.requests, 2);
}

/* Out of retries on transport failures: TRANSIENT. */
static void test_get_dropped_out_of_retries(void **state)
{
    const action acts[] = {{ACT_DROP, 0, NULL, NULL}, {ACT_DROP, 0, NULL, NULL}};
    server s;
    client_fx fx;
    http_response resp;
    rotp_error err;

    (void)state;
    server_start(&s, acts, 2);
    client_open(&fx, s.port, 1, 10000);
    assert_int_equal(do_req(&fx, "GET", "/x", true, &resp, &err), ROTP_E_TRANSIENT);
    assert_int_equal(err.retryable, 1);
    http_response_free(&resp);
    client_close(&fx);
    server_stop(&s);
    assert_int_equal(s.requests, 2);
}

/* Nothing listening: nothing was sent, so even a POST is TRANSIENT, not OUTCOME_UNKNOWN. */
static void test_connect_refused_is_transient(void **state)
{
    client_fx fx;
    http_response resp;
    rotp_error err;

    (void)state;
    client_open(&fx, closed_port(), 0, 5000);
    assert_int_equal(do_req(&fx, "POST", "/x", false, &resp, &err), ROTP_E_TRANSIENT);
    assert_int_equal(err.flags & ROTP_ERRF_REQUEST_SENT, 0);
    assert_int_equal(resp.status, 0);
    http_response_free(&resp);
    client_close(&fx);
}

static void test_body_cap(void **state)
{
    const action acts[] = {{ACT_BIG, 0, NULL, NULL}, {ACT_BIG, 0, NULL, NULL}};
    server s;
    client_fx fx;
    http_response resp;
    rotp_error err;

    (void)state;
    server_start(&s, acts, 2);
    client_open(&fx, s.port, 3, 20000);
    assert_int_equal(do_req(&fx, "GET", "/big", true, &resp, &err), ROTP_E_PROTOCOL);
    assert_non_null(strstr(err.message, "1 MiB"));
    assert_int_equal(resp.attempts, 1); /* a body over the cap is not retried */
    assert_true(resp.body.len <= HTTP_MAX_BODY);
    http_response_free(&resp);
    assert_int_equal(do_req(&fx, "POST", "/big", false, &resp, &err), ROTP_E_OUTCOME_UNKNOWN);
    assert_true(err.flags & ROTP_ERRF_REQUEST_SENT);
    http_response_free(&resp);
    client_close(&fx);
    server_stop(&s);
}

/* A redirect is returned as it is, never followed. */
static void test_no_redirects(void **state)
{
    const action acts[] = {{ACT_RESPOND, 302, "Location: http://127.0.0.1:1/elsewhere\r\n", "{}"}};
    server s;
    client_fx fx;
    http_response resp;
    rotp_error err;

    (void)state;
    server_start(&s, acts, 1);
    client_open(&fx, s.port, 3, 10000);
    assert_int_equal(do_req(&fx, "GET", "/x", true, &resp, &err), ROTP_E_OK);
    assert_int_equal(resp.status, 302);
    assert_int_equal(resp.attempts, 1);
    http_response_free(&resp);
    client_close(&fx);
    server_stop(&s);
}

/* Checks made before anything is sent. */
static void test_refused_before_sending(void **state)
{
    client_fx fx;
    http_response resp;
    http_request req;
    rotp_error err;
    http_header bad = {"X-Test", "a\r\nInjected: 1", 14, false};
    http_header badname = {"X Test", "a", 1, false};
    secret_buf *crlf_token = secret_new("abc\r\nX: 1", 9);

    (void)state;
    client_open(&fx, closed_port(), 0, 5000);
    memset(&err, 0, sizeof(err));
    err.struct_size = sizeof(err);

    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.url = "http://example.com/probe"; /* plain http off loopback */
    assert_int_equal(http_do(fx.c, &req, &resp, &err), ROTP_E_INVALID_ARGUMENT);
    assert_int_equal(resp.attempts, 0);
    http_response_free(&resp);
    req.url = "http://127.0.0.1.example.com/probe";
    assert_int_equal(http_do(fx.c, &req, &resp, &err), ROTP_E_INVALID_ARGUMENT);
    http_response_free(&resp);
    req.url = "file:///etc/passwd";
    assert_int_equal(http_do(fx.c, &req, &resp, &err), ROTP_E_INVALID_ARGUMENT);
    http_response_free(&resp);
    req.url = "https://example.com/a b";
    assert_int_equal(http_do(fx.c, &req, &resp, &err), ROTP_E_INVALID_ARGUMENT);
    http_response_free(&resp);

    req.url = NULL;
    req.path = "no-leading-slash";
    assert_int_equal(http_do(fx.c, &req, &resp, &err), ROTP_E_INVALID_ARGUMENT);
    http_response_free(&resp);
    req.path = "/a\r\nX: 1";
    assert_int_equal(http_do(fx.c, &req, &resp, &err), ROTP_E_INVALID_ARGUMENT);
    http_response_free(&resp);

    req.path = "/ok";
    req.headers = &bad;
    req.nheaders = 1;
    assert_int_equal(http_do(fx.c, &req, &resp, &err), ROTP_E_INVALID_ARGUMENT);
    http_response_free(&resp);
    req.headers = &badname;
    assert_int_equal(http_do(fx.c, &req, &resp, &err), ROTP_E_INVALID_ARGUMENT);
    http_response_free(&resp);
    req.headers = NULL;
    req.nheaders = 0;
    req.bearer = crlf_token;
    assert_int_equal(http_do(fx.c, &req, &resp, &err), ROTP_E_INVALID_ARGUMENT);
    http_response_free(&resp);
    req.bearer = NULL;
    req.method = "TRACE";
    assert_int_equal(http_do(fx.c, &req, &resp, &err), ROTP_E_INVALID_ARGUMENT);
    http_response_free(&resp);

    secret_free(crlf_token);
    client_close(&fx);
}

static void test_client_new_refuses_bad_bases(void **state)
{
    const char *bad[] = {
        "http://api.cloudflare.com/client/v4", /* http off loopback */
        "ftp://127.0.0.1/x",
        "https://u:p@api.cloudflare.com/client/v4",
        "https://api.cloudflare.com/client/v4?x=1",
        "https://api.cloudflare.com/client/v4\r\n",
        "api.cloudflare.com/client/v4",
        "",
    };
    plog log;
    http_config cfg;
    http_client *c = NULL;
    rotp_error err;

    (void)state;
    plog_init(&log, NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&cfg, 0, sizeof(cfg));
        cfg.api_base = bad[i];
        cfg.allow_insecure_loopback = true;
        cfg.timeout_ms = 1000;
        cfg.connect_timeout_ms = 1000;
        memset(&err, 0, sizeof(err));
        err.struct_size = sizeof(err);
        assert_int_equal(http_client_new(&cfg, &log, &c, &err), ROTP_E_INVALID_ARGUMENT);
        assert_null(c);
    }
    /* http to loopback needs the flag */
    cfg.api_base = "http://localhost:9/client/v4";
    cfg.allow_insecure_loopback = false;
    assert_int_equal(http_client_new(&cfg, &log, &c, &err), ROTP_E_INVALID_ARGUMENT);
    cfg.allow_insecure_loopback = true;
    assert_int_equal(http_client_new(&cfg, &log, &c, &err), ROTP_E_OK);
    http_client_free(c);
    http_client_free(NULL);
    http_response_free(NULL);
}

static void test_parse_retry_after(void **state)
{
    const int64_t now = 1767225600; /* 2026-01-01T00:00:00Z */

    (void)state;
    assert_int_equal(http_parse_retry_after("120", 3, now), 120000);
    assert_int_equal(http_parse_retry_after(" 5 ", 3, now), 5000);
    assert_int_equal(http_parse_retry_after("0", 1, now), 0);
    assert_int_equal(http_parse_retry_after("1.5", 3, now), 0);
    assert_int_equal(http_parse_retry_after("-3", 2, now), 0);
    assert_int_equal(http_parse_retry_after("soon", 4, now), 0);
    assert_int_equal(http_parse_retry_after("", 0, now), 0);
    assert_int_equal(http_parse_retry_after(NULL, 0, now), 0);
    /* only len bytes are read */
    assert_int_equal(http_parse_retry_after("12345", 2, now), 12000);
    /* an IMF-fixdate 90 s after now, and one in the past */
    assert_int_equal(http_parse_retry_after("Thu, 01 Jan 2026 00:01:30 GMT", 29, now), 90000);
    assert_int_equal(http_parse_retry_after("Wed, 31 Dec 2025 23:00:00 GMT", 29, now), 0);
    /* absurdly large values are capped at a day */
    assert_int_equal(http_parse_retry_after("99999999999999999999", 20, now), 86400000);
}

/* Every allocation of a GET and of a POST fails in turn: NO_MEMORY or success, nothing else,
 * and no leak (under ASan). */
static void test_http_do_each_allocation_fails(void **state)
{
    const action acts[] = {{ACT_RESPOND, 200, NULL, "{\"success\":true,\"result\":{}}"}};
    server s;
    client_fx fx;

    (void)state;
    server_start(&s, acts, 1);
    s.repeat_last = true;
    client_open(&fx, s.port, 0, 10000);
    for (int post = 0; post < 2; post++) {
        unsigned long n, failures = 0, unknown = 0;
        for (n = 1; n < 1000; n++) {
            http_response resp;
            rotp_error err;
            int32_t rc;
            unsigned long used;

            rotp__alloc_fail_at(n);
            rc = do_req(&fx, post ? "POST" : "GET", "/alloc", !post, &resp, &err);
            used = rotp__alloc_count();
            rotp__alloc_fail_at(0);
            http_response_free(&resp);
            if (rc == ROTP_E_OK) {
                if (used < n)
                    break;
                continue;
            }
            assert_int_equal(err.code, rc);
            if (rc == ROTP_E_OUTCOME_UNKNOWN) {
                /* a POST whose answer could not be stored may have been applied */
                assert_true(post);
                assert_true(err.flags & ROTP_ERRF_REQUEST_SENT);
                unknown++;
            } else {
                assert_int_equal(rc, ROTP_E_NO_MEMORY);
            }
            failures++;
        }
        assert_true(n < 1000);
        assert_true(failures > 0);
        /* storing the POST's answer allocates: that failure was reported as unknown */
        if (post)
            assert_true(unknown > 0);
    }
    client_close(&fx);
    server_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_retries_503_then_ok),
        cmocka_unit_test(test_connection_reused),
        cmocka_unit_test(test_post_on_fresh_connection_not_resent),
        cmocka_unit_test(test_post_not_retried_on_503),
        cmocka_unit_test(test_429_retry_after_honoured_within_budget),
        cmocka_unit_test(test_429_retry_after_past_max_wait),
        cmocka_unit_test(test_retry_after_ms_header),
        cmocka_unit_test(test_max_retries_bound),
        cmocka_unit_test(test_post_dropped_is_outcome_unknown),
        cmocka_unit_test(test_get_dropped_is_retried),
        cmocka_unit_test(test_get_dropped_out_of_retries),
        cmocka_unit_test(test_connect_refused_is_transient),
        cmocka_unit_test(test_body_cap),
        cmocka_unit_test(test_no_redirects),
        cmocka_unit_test(test_refused_before_sending),
        cmocka_unit_test(test_client_new_refuses_bad_bases),
        cmocka_unit_test(test_parse_retry_after),
        cmocka_unit_test(test_http_do_each_allocation_fails),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
