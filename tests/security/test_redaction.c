/* SPDX-License-Identifier: MIT */
/* test_redaction.c - redaction knows the secrets (issue 9): a server that quotes a token back in
 * an error message, raw or encoded, never gets it into an error message or a log line.
 *
 * cloudflare.so is loaded as a host loads it and talks plain HTTP to a responder in this process
 * (127.0.0.1, allow_insecure_loopback). The responder answers every request with 403 and a
 * Cloudflare error envelope whose message quotes the request's bearer token in the form the test
 * chose: raw, one character percent-encoded (upper or lower hex), every character encoded, twice
 * encoded, JSON-escaped in the body, JSON-escaped inside the message, or cut after 25 characters.
 * The token is a 40-character legacy value without a prefix, whose runs an escape breaks into
 * pieces too short for the shape rules: only knowing the secret can catch it. Both the
 * management token (describe: 403) and the call's secret (verify of another value: 400) are
 * quoted. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sec_util.h"

#define MGMT     "8M7wS6hCpXVc-DoRnPPY_UCWPgy8aea4Wy6kCe5T"
#define SUBJECT  "Zq4xT9pLmN2vB7cD-eF1gH3jK5sR8wY0uI6oA_tE"
#define TOKEN_ID "0123456789abcdef0123456789abcdef"

enum quote_mode {
    Q_RAW,
    Q_ONE_UPPER, /* the '-' as %2D */
    Q_ONE_LOWER, /* the first character as %38 / %5a */
    Q_ALL,       /* every character percent-encoded */
    Q_TWICE,     /* the '-' as %252D */
    Q_JSON_BODY, /* the '-' as \u002d in the JSON body (the envelope reader decodes it) */
    Q_JSON_TEXT, /* the message holds the text \u002d (escaped twice in the body) */
    Q_CUT,       /* only the first 25 characters */
    Q_COUNT
};

static const char *const mode_names[Q_COUNT] = {
    "raw",           "one char %XX",         "one char %xx",         "all %XX",
    "twice encoded", "JSON \\u in the body", "JSON \\u in the text", "cut after 25",
};

static atomic_int g_mode;
static int g_listen = -1;
static int g_port;
static pthread_t g_thread;

/* The message quoting tok in mode m, JSON-escaped for the body. */
static void quote(char *out, size_t cap, const char *tok, int m)
{
    size_t o = 0;

    o += (size_t)snprintf(out + o, cap - o, "Invalid token ");
    for (size_t i = 0; tok[i] != '\0' && o + 16 < cap; i++) {
        unsigned char c = (unsigned char)tok[i];
        bool special = c == '-' || (m == Q_ONE_LOWER && i == 0);

        if (m == Q_CUT && i == 25)
            break;
        if (m == Q_ALL || ((m == Q_ONE_UPPER) && special))
            o += (size_t)snprintf(out + o, cap - o, "%%%02X", c);
        else if (m == Q_ONE_LOWER && special)
            o += (size_t)snprintf(out + o, cap - o, "%%%02x", c);
        else if (m == Q_TWICE && special)
            o += (size_t)snprintf(out + o, cap - o, "%%25%02X", c);
        else if (m == Q_JSON_BODY && special)
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
        else if (m == Q_JSON_TEXT && special)
            o += (size_t)snprintf(out + o, cap - o, "\\\\u%04x", c);
        else
            out[o++] = (char)c;
    }
    snprintf(out + o, cap - o, " was given");
}

static void serve_one(int fd)
{
    char req[8192], msg[1024], body[2048], resp[4096];
    size_t n = 0;
    const char *auth, *end;
    char tok[256] = "";
    bool verify;

    req[0] = '\0';
    while (n < sizeof(req) - 1 && strstr(req, "\r\n\r\n") == NULL) {
        ssize_t r = read(fd, req + n, sizeof(req) - 1 - n);
        if (r <= 0)
            return;
        n += (size_t)r;
        req[n] = '\0';
    }
    auth = strstr(req, "Authorization: Bearer ");
    if (auth != NULL) {
        auth += strlen("Authorization: Bearer ");
        end = strstr(auth, "\r\n");
        if (end != NULL && (size_t)(end - auth) < sizeof(tok))
            snprintf(tok, sizeof(tok), "%.*s", (int)(end - auth), auth);
    }
    /* verify (the call's secret as bearer): a 400 whose message the error quotes; else a 403 */
    verify = strstr(req, "/verify ") != NULL;
    quote(msg, sizeof(msg), tok, atomic_load(&g_mode));
    snprintf(body, sizeof(body),
             "{\"success\":false,\"errors\":[{\"code\":%d,\"message\":\"%s\"}],"
             "\"messages\":[],\"result\":null}",
             verify ? 1002 : 10000, msg);
    snprintf(resp, sizeof(resp),
             "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n%s",
             verify ? "400 Bad Request" : "403 Forbidden", strlen(body), body);
    (void)!write(fd, resp, strlen(resp));
}

static void *responder(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(g_listen, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            return NULL; /* the listener was shut down */
        }
        serve_one(fd);
        close(fd);
    }
}

static int setup(void **state)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);

    (void)state;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_listen = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (g_listen < 0 || bind(g_listen, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(g_listen, 16) != 0 || getsockname(g_listen, (struct sockaddr *)&a, &len) != 0)
        return -1;
    g_port = ntohs(a.sin_port);
    return pthread_create(&g_thread, NULL, responder, NULL) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    shutdown(g_listen, SHUT_RDWR);
    pthread_join(g_thread, NULL);
    close(g_listen);
    return 0;
}

/* Fails when text holds tok, any 12 consecutive characters of it, or the quoted forms. */
static void assert_clean(const char *where, const char *text, const char *tok)
{
    char q[1024];

    for (size_t i = 0; i + 12 <= strlen(tok); i++) {
        if (memmem(text, strlen(text), tok + i, 12) != NULL)
            fail_msg("%s holds 12 characters of the token (from %zu)", where, i);
    }
    for (int m = 0; m < Q_COUNT; m++) {
        quote(q, sizeof(q), tok, m);
        /* the quoted token without the message's fixed words */
        q[strlen(q) - strlen(" was given")] = '\0';
        if (strstr(text, q + strlen("Invalid token ")) != NULL)
            fail_msg("%s holds the token as the server quoted it (%s)", where, mode_names[m]);
    }
}

static void quoted_tokens_never_reach_errors_or_logs(void **state)
{
    void *dl = NULL;
    const rotp_provider *p = sec_load(&dl);
    char base[64];
    rotp_instance *inst = NULL;
    rotp_error err;

    (void)state;
    snprintf(base, sizeof(base), "http://127.0.0.1:%d/client/v4", g_port);
    assert_int_equal(sec_open(p, &inst, &err, "api_token", MGMT, "api_base", base,
                              "allow_insecure_loopback", "1", "max_retries", "0", NULL),
                     ROTP_E_OK);
    for (int m = 0; m < Q_COUNT; m++) {
        int32_t rc;

        atomic_store(&g_mode, m);
        sec_lines_clear();
        rc = sec_call(p, inst, p->describe, &err, "kind", "cloudflare.user_token", "id", TOKEN_ID,
                      NULL);
        print_message("%-22s describe: %s\n", mode_names[m], err.message);
        assert_int_equal(rc, ROTP_E_PERMISSION_DENIED);
        assert_non_null(strstr(err.message, "Invalid token "));
        assert_clean("describe's error message", err.message, MGMT);
        for (size_t l = 0; l < sec_nlines; l++)
            assert_clean("a log line", sec_lines[l], MGMT);

        rc = sec_call(p, inst, p->verify, &err, "kind", "cloudflare.user_token", "secret", SUBJECT,
                      NULL);
        print_message("%-22s verify:   %s\n", mode_names[m], err.message);
        assert_true(rc != ROTP_E_OK);
        assert_non_null(strstr(err.message, "Invalid token "));
        assert_clean("verify's error message", err.message, SUBJECT);
        assert_clean("verify's error message", err.message, MGMT);
        for (size_t l = 0; l < sec_nlines; l++) {
            assert_clean("a log line", sec_lines[l], SUBJECT);
            assert_clean("a log line", sec_lines[l], MGMT);
        }
    }
    p->close(inst);
    sec_lines_clear();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quoted_tokens_never_reach_errors_or_logs),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
