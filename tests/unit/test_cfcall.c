/* SPDX-License-Identifier: MIT */
/* test_cfcall.c - cf_call() end to end against a canned loopback HTTP server: classification,
 * error fields, flags, messages with hints, and no secret in any message.
 *
 * The server is a forked child that answers each connection with one fixed response; plain http
 * is permitted only to loopback with allow_insecure_loopback, which is what this uses. */
#include "unit_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cfapi.h"
#include "error.h"

typedef struct server {
    pid_t pid;
    int port;
} server;

/* Reads one request (headers, then Content-Length bytes of body). */
static void read_request(int fd)
{
    char buf[8192];
    size_t have = 0;
    char *end = NULL;
    long clen = 0;

    while (end == NULL && have < sizeof(buf) - 1) {
        ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);

        if (n <= 0)
            return;
        have += (size_t)n;
        buf[have] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    if (end == NULL)
        return;
    {
        const char *cl = strcasestr(buf, "\r\nContent-Length:");

        if (cl != NULL && cl < end)
            clen = strtol(cl + 17, NULL, 10);
    }
    clen -= (long)(have - (size_t)(end + 4 - buf));
    while (clen > 0) {
        ssize_t n = read(fd, buf, sizeof(buf));

        if (n <= 0)
            return;
        clen -= n;
    }
}

/* Starts a server that answers up to `conns` connections with `response` (raw HTTP). A NULL
 * response closes each connection after reading the request: the lost answer. */
static server serve(const char *response, int conns)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    server s = {-1, 0};
    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    assert_true(lfd >= 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 8), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
    s.port = ntohs(sa.sin_port);
    s.pid = fork();
    assert_true(s.pid >= 0);
    if (s.pid == 0) {
        int i;

        for (i = 0; i < conns; i++) {
            int fd = accept(lfd, NULL, NULL);

            if (fd < 0)
                _exit(1);
            read_request(fd);
            if (response != NULL) {
                size_t off = 0, len = strlen(response);

                while (off < len) {
                    ssize_t n = write(fd, response + off, len - off);

                    if (n <= 0)
                        break;
                    off += (size_t)n;
                }
            }
            close(fd);
        }
        _exit(0);
    }
    close(lfd);
    return s;
}

static void stop(server *s)
{
    int st;

    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &st, 0);
        s->pid = -1;
    }
}

typedef struct call_result {
    int32_t rc;
    rotp_error err;
    bool success;
    int32_t env_code;
} call_result;

/* Runs one cf_call against a server answering `response`. */
static call_result run(const char *response, bool idempotent, int auth)
{
    char base[64];
    http_config cfg;
    http_client *c = NULL;
    plog log;
    http_response resp;
    cf_envelope env;
    secret_buf *bearer = secret_new("cfut_TheManagementTokenValue0123456789abcdefgh", 46);
    cf_call_opts o;
    call_result r;
    server s = serve(response, 1);

    memset(&r, 0, sizeof(r));
    r.err.struct_size = sizeof(r.err);
    snprintf(base, sizeof(base), "http://127.0.0.1:%d/client/v4", s.port);
    memset(&cfg, 0, sizeof(cfg));
    cfg.api_base = base;
    cfg.allow_insecure_loopback = true;
    cfg.timeout_ms = 10000;
    cfg.connect_timeout_ms = 5000;
    cfg.max_retries = 0;
    cfg.user_agent = "rotp-unit";
    plog_init(&log, NULL);
    assert_int_equal(http_client_new(&cfg, &log, &c, &r.err), ROTP_E_OK);
    memset(&o, 0, sizeof(o));
    o.method = idempotent ? "GET" : "PUT";
    o.path = "/user/tokens/ed17574386854bf78a67040be0a770b0/value";
    o.body = idempotent ? NULL : "{}";
    o.body_len = idempotent ? 0 : 2;
    o.bearer = bearer;
    o.auth = auth;
    o.idempotent = idempotent;
    o.what = "roll token ed17574386854bf78a67040be0a770b0";
    r.rc = cf_call(c, &o, &resp, &env, &r.err);
    r.success = env.success;
    r.env_code = env.error_code;
    if (r.rc == ROTP_E_OK)
        assert_true(json_is_string(&env.doc, env.result));
    /* no secret we sent ever shows in a message */
    assert_null(strstr(r.err.message, bearer->data));
    assert_null(strstr(r.err.message, "TheManagementToken"));
    cf_envelope_free(&env);
    http_response_free(&resp);
    http_client_free(c);
    secret_free(bearer);
    stop(&s);
    return r;
}

/* A raw HTTP response with the right Content-Length; static storage, one at a time. */
static const char *reply(const char *status, const char *headers, const char *body)
{
    static char buf[2048];

    snprintf(buf, sizeof(buf),
             "HTTP/1.1 %s\r\nConnection: close\r\n%sContent-Length: %zu\r\n\r\n%s", status, headers,
             strlen(body), body);
    return buf;
}

#define JSON_HDR "Content-Type: application/json\r\n"

static void success_returns_ok_and_the_envelope(void **state)
{
    call_result r = run(reply("200 OK", JSON_HDR,
                              "{\"result\":\"cfut_NewSecretValue0123456789\",\"success\":true,"
                              "\"errors\":[],\"messages\":[]}"),
                        false, CF_AUTH_MANAGEMENT);

    (void)state;
    assert_int_equal(r.rc, ROTP_E_OK);
    assert_true(r.success);
    assert_int_equal(r.err.code, ROTP_E_OK);
    assert_string_equal(r.err.message, "");
}

static void permission_denied_names_what_and_says_what_to_do(void **state)
{
    call_result r;

    (void)state;
    r = run(reply("403 Forbidden", JSON_HDR,
                  "{\"success\":false,\"errors\":[{\"code\":9109,\"message\":\"Unauthorized to "
                  "access requested resource\"}],\"messages\":[],\"result\":null}"),
            true, CF_AUTH_MANAGEMENT);
    assert_int_equal(r.rc, ROTP_E_PERMISSION_DENIED);
    assert_int_equal(r.err.code, ROTP_E_PERMISSION_DENIED);
    assert_int_equal(r.err.http_status, 403);
    assert_int_equal(r.err.api_code, 9109);
    assert_int_equal(r.err.retryable, 0);
    assert_true(r.err.flags & ROTP_ERRF_REQUEST_SENT);
    assert_false(r.err.flags & ROTP_ERRF_MANAGEMENT_CREDENTIAL);
    assert_non_null(strstr(r.err.message, "roll token ed17574386854bf78a67040be0a770b0: "
                                          "Unauthorized to access requested resource (HTTP 403, "
                                          "code 9109)"));
    assert_non_null(strstr(r.err.message, "permission groups"));
}

static void invalid_management_token_is_flagged_for_escalation(void **state)
{
    const char *body = "{\"success\":false,\"errors\":[{\"code\":1000,\"message\":\"Invalid API "
                       "Token\"}],\"messages\":[],\"result\":null}";
    call_result r;

    (void)state;
    r = run(reply("401 Unauthorized", JSON_HDR, body), true, CF_AUTH_MANAGEMENT);
    assert_int_equal(r.rc, ROTP_E_CREDENTIAL_INVALID);
    assert_int_equal(r.err.api_code, 1000);
    assert_true(r.err.flags & ROTP_ERRF_MANAGEMENT_CREDENTIAL);
    assert_non_null(strstr(r.err.message, "escalate"));
    r = run(reply("401 Unauthorized", JSON_HDR, body), true, CF_AUTH_SUBJECT);
    assert_int_equal(r.rc, ROTP_E_CREDENTIAL_INVALID);
    assert_false(r.err.flags & ROTP_ERRF_MANAGEMENT_CREDENTIAL);
    assert_null(strstr(r.err.message, "escalate"));
}

static void rate_limit_carries_retry_after(void **state)
{
    call_result r;

    (void)state;
    /* a PUT: http_do does not retry it, so the 429 comes back to cf_call */
    r = run(reply("429 Too Many Requests", JSON_HDR "Retry-After: 7\r\n",
                  "{\"success\":false,\"errors\":[{\"code\":971,\"message\":\"Please wait and "
                  "consider throttling your request speed\"}],\"messages\":[],\"result\":null}"),
            false, CF_AUTH_MANAGEMENT);
    assert_int_equal(r.rc, ROTP_E_RATE_LIMITED);
    assert_int_equal(r.err.retryable, 1);
    assert_true(r.err.retry_after_ms == 7000);
    assert_int_equal(r.err.api_code, 971);
}

static void a_2xx_that_is_not_an_envelope(void **state)
{
    call_result r;

    (void)state;
    r = run(reply("200 OK", JSON_HDR, "{\"success\":tru"), true, CF_AUTH_MANAGEMENT);
    assert_int_equal(r.rc, ROTP_E_PROTOCOL);
    r = run(reply("200 OK", JSON_HDR, "{\"success\":tru"), false, CF_AUTH_MANAGEMENT);
    assert_int_equal(r.rc, ROTP_E_OUTCOME_UNKNOWN);
    assert_true(r.err.flags & ROTP_ERRF_REQUEST_SENT);
    assert_int_equal(r.err.http_status, 200);
    /* success=false on a 2xx is not what the API promises either */
    r = run(reply("200 OK", JSON_HDR, "{\"success\":false,\"errors\":[]}"), true,
            CF_AUTH_MANAGEMENT);
    assert_int_equal(r.rc, ROTP_E_PROTOCOL);
}

static void a_5xx_without_envelope(void **state)
{
    call_result r;

    (void)state;
    r = run(reply("502 Bad Gateway", "Content-Type: text/html\r\n", "<html>bad gate</html>"), true,
            CF_AUTH_MANAGEMENT);
    assert_int_equal(r.rc, ROTP_E_TRANSIENT);
    assert_int_equal(r.err.retryable, 1);
    assert_int_equal(r.err.http_status, 502);
    assert_non_null(strstr(r.err.message, "HTTP 502 without a Cloudflare error body"));
    /* a state change that met a gateway error may have been applied */
    r = run(reply("502 Bad Gateway", "Content-Type: text/html\r\n", "<html>bad gate</html>"), false,
            CF_AUTH_MANAGEMENT);
    assert_int_equal(r.rc, ROTP_E_OUTCOME_UNKNOWN);
    assert_int_equal(r.err.retryable, 0);
}

static void quota_message_is_a_conflict_and_12139_too(void **state)
{
    call_result r;

    (void)state;
    r = run(reply("400 Bad Request", JSON_HDR,
                  "{\"success\":false,\"errors\":[{\"code\":1003,\"message\":\"Token quota "
                  "reached (50 per user)\"}],\"messages\":[],\"result\":null}"),
            false, CF_AUTH_MANAGEMENT);
    assert_int_equal(r.rc, ROTP_E_CONFLICT);
    r = run(reply("400 Bad Request", JSON_HDR,
                  "{\"success\":false,\"errors\":[{\"code\":12139,\"message\":\"still referenced "
                  "by a policy\"}],\"messages\":[],\"result\":null}"),
            false, CF_AUTH_MANAGEMENT);
    assert_int_equal(r.rc, ROTP_E_CONFLICT);
    assert_non_null(strstr(r.err.message, "re-point the Access policy"));
    r = run(reply("400 Bad Request", JSON_HDR,
                  "{\"success\":false,\"errors\":[{\"code\":1003,\"message\":\"Invalid "
                  "name\"}],\"messages\":[],\"result\":null}"),
            false, CF_AUTH_MANAGEMENT);
    assert_int_equal(r.rc, ROTP_E_INVALID_ARGUMENT);
}

static void a_secret_in_cloudflare_text_is_redacted(void **state)
{
    call_result r;

    (void)state;
    r = run(reply("400 Bad Request", JSON_HDR,
                  "{\"success\":false,\"errors\":[{\"code\":6003,\"message\":\"bad header "
                  "cfut_LeakedValue0123456789abcdefABCDEF\"}],\"messages\":[],\"result\":null}"),
            true, CF_AUTH_MANAGEMENT);
    assert_int_equal(r.rc, ROTP_E_CREDENTIAL_INVALID);
    assert_null(strstr(r.err.message, "LeakedValue"));
    assert_non_null(strstr(r.err.message, "bad header [REDACTED]"));
}

static void a_lost_answer_to_a_state_change_is_outcome_unknown(void **state)
{
    call_result r;

    (void)state;
    r = run(NULL, false, CF_AUTH_MANAGEMENT);
    assert_int_equal(r.rc, ROTP_E_OUTCOME_UNKNOWN);
    assert_true(r.err.flags & ROTP_ERRF_REQUEST_SENT);
    assert_true(strncmp(r.err.message, "roll token ed17574386854bf78a67040be0a770b0: ", 45) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(success_returns_ok_and_the_envelope),
        cmocka_unit_test(permission_denied_names_what_and_says_what_to_do),
        cmocka_unit_test(invalid_management_token_is_flagged_for_escalation),
        cmocka_unit_test(rate_limit_carries_retry_after),
        cmocka_unit_test(a_2xx_that_is_not_an_envelope),
        cmocka_unit_test(a_5xx_without_envelope),
        cmocka_unit_test(quota_message_is_a_conflict_and_12139_too),
        cmocka_unit_test(a_secret_in_cloudflare_text_is_redacted),
        cmocka_unit_test(a_lost_answer_to_a_state_change_is_outcome_unknown),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
