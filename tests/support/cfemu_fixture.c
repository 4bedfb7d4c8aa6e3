/* SPDX-License-Identifier: MIT */
/* cfemu_fixture.c - starts a private cfemu per test process (see cfemu_fixture.h).
 *
 * Layout of fx->dir: ca.pem (the CA cfemu generated), port (written once it listens),
 * creds.env (ids and secrets of the seed, mode 0600), requests.log (--log). cfemu's stderr is
 * the test's, so its diagnostics (and any sanitizer report) show in the test output. */
#include "cfemu_fixture.h"

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#ifndef ROTP_CFEMU_BIN
#define ROTP_CFEMU_BIN "cfemu"
#endif

#define START_TIMEOUT_MS 20000 /* sanitizer builds start slowly */
#define STOP_TIMEOUT_MS  20000
#define CTL_BODY_MAX     (64u * 1024u * 1024u)

extern char **environ;

const char *cfemu_binary(void)
{
    const char *b = getenv("CFEMU_BIN");

    return b != NULL && b[0] != 0 ? b : ROTP_CFEMU_BIN;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_rf(const char *dir)
{
    if (dir[0] != 0)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The port from the port file, or 0 while it is not there yet. */
static int read_port(const char *path)
{
    FILE *f = fopen(path, "r");
    int port = 0;

    if (f == NULL)
        return 0;
    if (fscanf(f, "%d", &port) != 1)
        port = 0;
    fclose(f);
    return port > 0 && port < 65536 ? port : 0;
}

int cfemu_start(cfemu_fx *fx, const char *seed_file, const char *const *extra_args)
{
    char port_file[320], creds[320], log[320];
    const char *argv[64];
    size_t n = 0;
    bool insecure = false;
    int waited = 0;

    memset(fx, 0, sizeof(*fx));
    fx->pid = -1;
    snprintf(fx->dir, sizeof(fx->dir), "%s/cfemu-fx-XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(fx->dir) == NULL) {
        fprintf(stderr, "cfemu_start: mkdtemp: %s\n", strerror(errno));
        fx->dir[0] = 0;
        return -1;
    }
    snprintf(fx->ca_file, sizeof(fx->ca_file), "%s/ca.pem", fx->dir);
    snprintf(port_file, sizeof(port_file), "%s/port", fx->dir);
    snprintf(creds, sizeof(creds), "%s/creds.env", fx->dir);
    snprintf(log, sizeof(log), "%s/requests.log", fx->dir);
    argv[n++] = cfemu_binary();
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--port-file";
    argv[n++] = port_file;
    argv[n++] = "--ca-out";
    argv[n++] = fx->ca_file;
    argv[n++] = "--creds-out";
    argv[n++] = creds;
    argv[n++] = "--log";
    argv[n++] = log;
    if (seed_file != NULL) {
        argv[n++] = "--seed";
        argv[n++] = seed_file;
    }
    for (size_t i = 0; extra_args != NULL && extra_args[i] != NULL && n < 62; i++) {
        if (strcmp(extra_args[i], "--insecure-http") == 0)
            insecure = true;
        argv[n++] = extra_args[i];
    }
    argv[n] = NULL;
    if (posix_spawn(&fx->pid, argv[0], NULL, NULL, (char *const *)argv, environ) != 0) {
        fprintf(stderr, "cfemu_start: cannot run %s: %s\n", argv[0], strerror(errno));
        fx->pid = -1;
        rm_rf(fx->dir);
        fx->dir[0] = 0;
        return -1;
    }
    while ((fx->port = read_port(port_file)) == 0) {
        int status;

        if (waitpid(fx->pid, &status, WNOHANG) == fx->pid) {
            fprintf(stderr, "cfemu_start: cfemu exited before listening (status %d)\n", status);
            fx->pid = -1;
            rm_rf(fx->dir);
            fx->dir[0] = 0;
            return -1;
        }
        if (waited >= START_TIMEOUT_MS) {
            fprintf(stderr, "cfemu_start: no port file after %d ms\n", START_TIMEOUT_MS);
            cfemu_stop(fx);
            return -1;
        }
        sleep_ms(20);
        waited += 20;
    }
    snprintf(fx->origin, sizeof(fx->origin), "%s://127.0.0.1:%d", insecure ? "http" : "https",
             fx->port);
    snprintf(fx->api_base, sizeof(fx->api_base), "%s/client/v4", fx->origin);
    return 0;
}

int cfemu_stop(cfemu_fx *fx)
{
    int status = 0;
    int rc = -1;
    int waited = 0;

    if (fx == NULL)
        return -1;
    if (fx->pid > 0) {
        kill(fx->pid, SIGTERM);
        for (;;) {
            pid_t w = waitpid(fx->pid, &status, WNOHANG);

            if (w == fx->pid)
                break;
            if (w < 0 && errno != EINTR) {
                status = -1;
                break;
            }
            if (waited >= STOP_TIMEOUT_MS) {
                fprintf(stderr, "cfemu_stop: no exit after SIGTERM; killing\n");
                kill(fx->pid, SIGKILL);
                waitpid(fx->pid, &status, 0);
                status = -1;
                break;
            }
            sleep_ms(10);
            waited += 10;
        }
        if (status != -1 && WIFEXITED(status))
            rc = WEXITSTATUS(status);
        fx->pid = -1;
    }
    rm_rf(fx->dir);
    fx->dir[0] = 0;
    return rc;
}

/* --- control calls ------------------------------------------------------------------------- */

typedef struct ctl_buf {
    char *data;
    size_t len;
} ctl_buf;

static size_t on_data(char *p, size_t sz, size_t nm, void *ud)
{
    ctl_buf *b = ud;
    size_t add = sz * nm;
    char *n;

    if (b->len + add > CTL_BODY_MAX)
        return 0;
    n = realloc(b->data, b->len + add + 1);
    if (n == NULL)
        return 0;
    memcpy(n + b->len, p, add);
    b->len += add;
    n[b->len] = 0;
    b->data = n;
    return add;
}

int cfemu_ctl(cfemu_fx *fx, const char *method, const char *path, const char *json_body,
              char **body_out)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    ctl_buf b = {NULL, 0};
    char url[512];
    long status = 0;

    if (body_out != NULL)
        *body_out = NULL;
    if (c == NULL)
        return 0;
    snprintf(url, sizeof(url), "%s%s", fx->origin, path);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CAINFO, fx->ca_file);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (json_body != NULL)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (status != 0 && body_out != NULL) {
        if (b.data == NULL)
            b.data = calloc(1, 1);
        *body_out = b.data;
        b.data = NULL;
    }
    free(b.data);
    return (int)status;
}

int cfemu_fault(cfemu_fx *fx, const char *fault_json)
{
    return cfemu_ctl(fx, "POST", "/__cfemu/faults", fault_json, NULL) == 200 ? 0 : -1;
}

int cfemu_clock_advance(cfemu_fx *fx, long seconds)
{
    char body[64];

    snprintf(body, sizeof(body), "{\"advance\":%ld}", seconds);
    return cfemu_ctl(fx, "POST", "/__cfemu/clock", body, NULL) == 200 ? 0 : -1;
}

long cfemu_unknown_routes(cfemu_fx *fx)
{
    char *body = NULL;
    const char *p;
    long n = -1;

    if (cfemu_ctl(fx, "GET", "/__cfemu/stats", NULL, &body) == 200 && body != NULL &&
        (p = strstr(body, "\"unknown_routes\":")) != NULL)
        n = strtol(p + strlen("\"unknown_routes\":"), NULL, 10);
    free(body);
    return n;
}

char *cfemu_request_log(cfemu_fx *fx)
{
    char *body = NULL;

    if (cfemu_ctl(fx, "GET", "/__cfemu/log", NULL, &body) != 200) {
        free(body);
        return NULL;
    }
    return body;
}

int cfemu_log_reset(cfemu_fx *fx)
{
    return cfemu_ctl(fx, "DELETE", "/__cfemu/log", NULL, NULL) == 200 ? 0 : -1;
}
