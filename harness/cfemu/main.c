/* SPDX-License-Identifier: MIT */
/* main.c - cfemu's command line: options, state set-up, run, clean shutdown. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "cfemu.h"
#include "meter.h"
#include "perm.h"

static const char usage_text[] =
    "usage: cfemu [--listen 127.0.0.1:0] [--port-file FILE] [--ca-out FILE] [--seed FILE]\n"
    "             [--creds-out FILE] [--insecure-http] [--rate-limit N/SECONDS]\n"
    "             [--rate-limit-block SECONDS] [--log FILE] [--help]\n"
    "\n"
    "cfemu is a local stand-in for Cloudflare's v4 API (API tokens, account-owned tokens,\n"
    "Access service tokens) with an Access-protected probe origin and a control API for fault\n"
    "injection, for tests and the offline demo. It runs in the foreground until SIGINT or\n"
    "SIGTERM, then exits 0. See harness/cfemu/README.md.\n"
    "\n"
    "  --listen HOST:PORT   address to listen on (default 127.0.0.1:0). HOST must be a loopback\n"
    "                       address: 127.0.0.1, ::1 (as [::1]:PORT) or localhost. PORT 0 picks\n"
    "                       a free port.\n"
    "  --port-file FILE     once listening, write the port (one line) to FILE, atomically.\n"
    "  --ca-out FILE        write the PEM of the throwaway CA that signed the server certificate\n"
    "                       (made fresh at every start; valid for 127.0.0.1, ::1, localhost).\n"
    "  --seed FILE          start from the JSON state in FILE (format: README.md). Without it,\n"
    "                       the built-in demo seed, with random secrets, is loaded.\n"
    "  --creds-out FILE     write the ids and secret values of the seeded objects to FILE\n"
    "                       (mode 0600, KEY=VALUE lines: CFEMU_USER_ID, CFEMU_TOKEN_<NAME>_VALUE,\n"
    "                       ...), so secrets never travel in argv.\n"
    "  --insecure-http      serve plain HTTP instead of HTTPS (still loopback only).\n"
    "  --rate-limit N/SECS  requests allowed per calling token per window (default 1200/300);\n"
    "                       over it: HTTP 429, code 971, Retry-After.\n"
    "  --rate-limit-block SECONDS\n"
    "                       how long a token that went over stays blocked, on cfemu's clock\n"
    "                       (default 300, Cloudflare's five minutes; 0: until its window ends).\n"
    "  --log FILE           append one line per request: time, method, path (no query),\n"
    "                       status, authenticating token id. Never a secret.\n"
    "  --help               this text.\n"
    "\n"
    "The API is served under /client/v4, the probe origin at /cdn-cgi/access/probe/{app_id},\n"
    "the control API (faults, request log, stats, state, clock) under /__cfemu/.\n";

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "cfemu: %s%s%s\n", msg, arg != NULL ? ": " : "", arg != NULL ? arg : "");
    fprintf(stderr, "Try 'cfemu --help'.\n");
    return 2;
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != 0 || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* "127.0.0.1:0", "localhost:8443", "[::1]:0". Loopback only. */
static int parse_listen(const char *s, cfemu_options *o)
{
    const char *colon;
    char host[64];
    long port;
    size_t n;

    if (s[0] == '[') {
        const char *rb = strchr(s, ']');

        if (rb == NULL || rb[1] != ':')
            return -1;
        n = (size_t)(rb - s - 1);
        colon = rb + 1;
        if (n >= sizeof(host))
            return -1;
        memcpy(host, s + 1, n);
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return -1;
        n = (size_t)(colon - s);
        if (n >= sizeof(host))
            return -1;
        memcpy(host, s, n);
    }
    host[n] = 0;
    if (parse_long(colon + 1, 0, 65535, &port) != 0)
        return -1;
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    if (strcmp(host, "127.0.0.1") != 0 && strcmp(host, "::1") != 0)
        return -2;
    snprintf(o->listen_host, sizeof(o->listen_host), "%s", host);
    o->listen_port = (int)port;
    return 0;
}

static int parse_rate(const char *s, cfemu_options *o)
{
    const char *slash = strchr(s, '/');
    char num[32];
    size_t n;

    if (slash == NULL || (n = (size_t)(slash - s)) == 0 || n >= sizeof(num))
        return -1;
    memcpy(num, s, n);
    num[n] = 0;
    if (parse_long(num, 1, 100000000L, &o->rl_limit) != 0 ||
        parse_long(slash + 1, 1, 86400L * 365, &o->rl_window) != 0)
        return -1;
    return 0;
}

static int parse_args(int argc, char **argv, cfemu_options *o)
{
    snprintf(o->listen_host, sizeof(o->listen_host), "127.0.0.1");
    o->listen_port = 0;
    o->rl_limit = 1200;
    o->rl_window = 300;
    o->rl_block = 300;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return 1;
        }
        if (strcmp(a, "--insecure-http") == 0) {
            o->insecure_http = true;
            continue;
        }
        if (strcmp(a, "--listen") != 0 && strcmp(a, "--port-file") != 0 &&
            strcmp(a, "--ca-out") != 0 && strcmp(a, "--seed") != 0 &&
            strcmp(a, "--creds-out") != 0 && strcmp(a, "--rate-limit") != 0 &&
            strcmp(a, "--rate-limit-block") != 0 && strcmp(a, "--log") != 0)
            return usage_error("unknown option", a);
        if (v == NULL)
            return usage_error("option needs a value", a);
        i++;
        if (strcmp(a, "--listen") == 0) {
            int rc = parse_listen(v, o);

            if (rc == -2)
                return usage_error("refusing a non-loopback address (use 127.0.0.1, [::1] or "
                                   "localhost)",
                                   v);
            if (rc != 0)
                return usage_error("bad --listen (want HOST:PORT)", v);
        } else if (strcmp(a, "--port-file") == 0) {
            o->port_file = v;
        } else if (strcmp(a, "--ca-out") == 0) {
            o->ca_out = v;
        } else if (strcmp(a, "--seed") == 0) {
            o->seed_file = v;
        } else if (strcmp(a, "--creds-out") == 0) {
            o->creds_out = v;
        } else if (strcmp(a, "--rate-limit") == 0) {
            if (parse_rate(v, o) != 0)
                return usage_error("bad --rate-limit (want N/SECONDS, both positive)", v);
        } else if (strcmp(a, "--rate-limit-block") == 0) {
            if (parse_long(v, 0, 86400L * 365, &o->rl_block) != 0)
                return usage_error("bad --rate-limit-block (want SECONDS, 0 or more)", v);
        } else if (strcmp(a, "--log") == 0) {
            o->log_file = v;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static cfemu_ctx ctx;
    dynbuf creds;
    int rc;

    rc = parse_args(argc, argv, &ctx.opt);
    if (rc == 1)
        return 0;
    if (rc != 0)
        return rc;
    signal(SIGPIPE, SIG_IGN);
    if (pthread_mutex_init(&ctx.lock, NULL) != 0)
        return 1;
    rc = 1;
    dynbuf_init(&creds, 1024u * 1024u);
    if (ctx.opt.log_file != NULL) {
        ctx.log_fp = fopen(ctx.opt.log_file, "a");
        if (ctx.log_fp == NULL) {
            fprintf(stderr, "cfemu: cannot open the log %s: %s\n", ctx.opt.log_file,
                    strerror(errno));
            goto out;
        }
    }
    if (perm_check() != 0)
        goto out;
    if (ctx.opt.seed_file != NULL) {
        if (seed_load_file(&ctx.st, ctx.opt.seed_file, cfemu_now(&ctx), &creds) != 0)
            goto out;
    } else if (seed_builtin(&ctx.st, cfemu_now(&ctx), &creds) != 0) {
        goto out;
    }
    if (ctx.opt.creds_out != NULL &&
        seed_write_creds(ctx.opt.creds_out, creds.data != NULL ? creds.data : "") != 0)
        goto out;
    dynbuf_free_wipe(&creds);
    if (server_run(&ctx) == 0)
        rc = 0;
out:
    dynbuf_free_wipe(&creds);
    cfemu_ctx_free_runtime(&ctx);
    meter_free(&ctx);
    state_clear(&ctx.st);
    if (ctx.log_fp != NULL)
        fclose(ctx.log_fp);
    pthread_mutex_destroy(&ctx.lock);
    return rc;
}
