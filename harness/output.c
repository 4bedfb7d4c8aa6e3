/* SPDX-License-Identifier: MIT */
/* output.c - printing results, errors and step reports. */
#include "output.h"

#include "json.h"
#include "rotp_engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define OUT_JSON_MAX (4u * 1024u * 1024u)

static int report_error(dynbuf *b, int exit_code, const hreport *r);

long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *hx_name(int code)
{
    return rotp_engine_status_name(code); /* the engine's status table is the exit-code table */
}

static const char *step_word(int status)
{
    return status == HSTEP_PASS ? "PASS" : status == HSTEP_FAIL ? "FAIL" : "SKIP";
}

void report_step(hreport *r, const char *name, int status, long ms, int code, const char *fmt, ...)
{
    hstep scratch;
    hstep *s = r->n < HREPORT_MAX_STEPS ? &r->steps[r->n++] : &scratch;
    va_list ap;

    snprintf(s->name, sizeof(s->name), "%s%s", r->prefix ? r->prefix : "", name);
    s->status = status;
    s->ms = ms;
    va_start(ap, fmt);
    vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
    va_end(ap);
    if (status == HSTEP_FAIL && r->first_fail_code == HX_OK)
        r->first_fail_code = code != HX_OK ? code : HX_OTHER;
    if (!r->quiet) {
        printf("  %s  %-52s %6ld ms  %s\n", step_word(status), s->name, ms, s->detail);
        fflush(stdout);
    }
}

void out_error_line(const char *cmd, int32_t code, const rotp_error *err)
{
    char extra[96] = "";
    if (err != NULL && (err->http_status != 0 || err->api_code != 0))
        snprintf(extra, sizeof(extra), " (http %d, api code %d)", (int)err->http_status,
                 (int)err->api_code);
    fprintf(stderr, "rotp-harness: %s: %s: %s%s\n", cmd, rotp_code_name(code),
            err != NULL && err->message[0] ? err->message : "failed", extra);
    if (err != NULL && err->retryable && err->retry_after_ms > 0)
        fprintf(stderr, "rotp-harness: %s: retryable after %llu ms\n", cmd,
                (unsigned long long)err->retry_after_ms);
    if (code == ROTP_E_TLS)
        fprintf(stderr, "rotp-harness: %s: %s\n", cmd, out_tls_hint());
}

const char *out_tls_hint(void)
{
    return "the server's certificate could not be verified: a private CA (a proxy, cfemu)? give "
           "--ca-file PATH with its PEM bundle";
}

static bool g_json_printed; /* one JSON object per command: main prints one if nobody did */

bool out_json_printed(void)
{
    return g_json_printed;
}

static void print_json_and_free(dynbuf *b, int ok)
{
    g_json_printed = true;
    if (ok == 0 && b->data != NULL) {
        fputs(b->data, stdout);
        fputc('\n', stdout);
    } else {
        fputs("{\"ok\":false,\"error\":{\"code\":\"NO_MEMORY\"}}\n", stdout);
    }
    fflush(stdout);
    dynbuf_free(b);
}

void out_json_emit(dynbuf *b, int ok)
{
    print_json_and_free(b, ok);
}

void out_info(const hopts *o, const hprov *hp)
{
    const rotp_provider *p = hp->p;
    if (!o->json) {
        printf("provider: %s\n", p->name ? p->name : "?");
        printf("version: %s\n", p->version ? p->version : "?");
        printf("abi: %u.%u (provider), %d.%u negotiated (host speaks %d.%d)\n",
               (unsigned)p->abi_major, (unsigned)p->abi_minor, ROTP_ABI_MAJOR,
               (unsigned)hp->negotiated_minor, ROTP_ABI_MAJOR, ROTP_ABI_MINOR);
        printf("kinds:");
        for (const char *const *k = p->kinds; *k != NULL; k++)
            printf(" %s", *k);
        printf("\n");
        printf("optional operations: provision %s, list %s\n", p->provision ? "yes" : "no",
               p->list ? "yes" : "no");
        printf("path: %s\n", hp->path);
        printf("sha256: %s\n", hp->sha256);
        return;
    }
    dynbuf b;
    int rc = 0;
    dynbuf_init(&b, OUT_JSON_MAX);
    rc |= dynbuf_adds(&b, "{\"command\":\"info\",\"ok\":true,\"exit_code\":0,\"exit_name\":\"OK\","
                          "\"provider\":{\"name\":");
    rc |= dynbuf_json_cstr(&b, p->name);
    rc |= dynbuf_adds(&b, ",\"version\":");
    rc |= dynbuf_json_cstr(&b, p->version);
    rc |= dynbuf_printf(&b, ",\"abi_major\":%u,\"abi_minor\":%u,\"negotiated_minor\":%u",
                        (unsigned)p->abi_major, (unsigned)p->abi_minor,
                        (unsigned)hp->negotiated_minor);
    rc |= dynbuf_adds(&b, ",\"kinds\":[");
    for (const char *const *k = p->kinds; *k != NULL; k++) {
        if (k != p->kinds)
            rc |= dynbuf_adds(&b, ",");
        rc |= dynbuf_json_cstr(&b, *k);
    }
    rc |= dynbuf_printf(&b, "],\"provision\":%s,\"list\":%s},\"path\":",
                        p->provision ? "true" : "false", p->list ? "true" : "false");
    rc |= dynbuf_json_cstr(&b, hp->path);
    rc |= dynbuf_adds(&b, ",\"sha256\":");
    rc |= dynbuf_json_cstr(&b, hp->sha256);
    rc |= dynbuf_adds(&b, "}");
    print_json_and_free(&b, rc);
}

int out_json_result_members(dynbuf *b, const hres *h, const char *where)
{
    int rc = 0;
    bool first = true;
    for (uint32_t i = 0;; i++) {
        const rotp_param *p = hres_item(h, i);
        if (p == NULL)
            break;
        if (p->key == NULL)
            continue;
        if (!first)
            rc |= dynbuf_adds(b, ",");
        first = false;
        rc |= dynbuf_json_cstr(b, p->key);
        rc |= dynbuf_adds(b, ":");
        if (p->flags & ROTP_PARAM_SECRET) {
            rc |= dynbuf_printf(b, "{\"secret\":true,\"bytes\":%llu,\"delivered_to\":",
                                (unsigned long long)p->value_len);
            rc |= dynbuf_json_cstr(b, where != NULL && where[0] ? where : "nowhere");
            rc |= dynbuf_adds(b, "}");
        } else if (strcmp(p->key, "items") == 0 && p->value_len > 0 && p->value[0] == '[') {
            rc |= dynbuf_add(b, p->value, (size_t)p->value_len);
        } else {
            rc |= dynbuf_json_str(b, p->value ? p->value : "", p->value ? (size_t)p->value_len : 0);
        }
    }
    return rc;
}

int out_json_error(dynbuf *b, int32_t code, const rotp_error *err)
{
    int rc = 0;
    rc |= dynbuf_adds(b, ",\"error\":{\"code\":");
    rc |= dynbuf_json_cstr(b, rotp_code_name(code));
    rc |= dynbuf_adds(b, ",\"name\":");
    rc |= dynbuf_json_cstr(b, rotp_code_name(code));
    rc |= dynbuf_printf(b, ",\"number\":%d,\"message\":", (int)code);
    rc |= dynbuf_json_cstr(b, err->message);
    rc |= dynbuf_printf(b,
                        ",\"http_status\":%d,\"api_code\":%d,\"retryable\":%u,"
                        "\"retry_after_ms\":%llu,\"management_credential\":%s}",
                        (int)err->http_status, (int)err->api_code, (unsigned)err->retryable,
                        (unsigned long long)err->retry_after_ms,
                        (err->flags & ROTP_ERRF_MANAGEMENT_CREDENTIAL) ? "true" : "false");
    return rc;
}

/* A list's items, one JSON object per line. -1 if the text is not a JSON array. */
static int print_items(const char *v, size_t len)
{
    json_doc d;
    if (v == NULL || json_parse(&d, v, len) != JSON_OK)
        return -1;
    if (!json_is_array(&d, 0)) {
        json_free(&d);
        return -1;
    }
    printf("items:\n");
    for (int i = 0;; i++) {
        int e = json_at(&d, 0, i);
        size_t n = 0;
        if (e < 0)
            break;
        const char *raw = json_raw(&d, e, &n);
        printf("  - %.*s\n", (int)n, raw);
    }
    json_free(&d);
    return 0;
}

int out_op(const hopts *o, const char *cmd, const hres *h, const char *where, int result_rc)
{
    int xc = h->code != ROTP_E_OK ? exit_code_for(h->code) : result_rc;
    if (!o->json) {
        if (h->code != ROTP_E_OK) {
            out_error_line(cmd, h->code, &h->err);
            return xc;
        }
        for (uint32_t i = 0;; i++) {
            const rotp_param *p = hres_item(h, i);
            if (p == NULL)
                break;
            if (p->key == NULL)
                continue;
            if (strcmp(p->key, "items") == 0 && print_items(p->value, (size_t)p->value_len) == 0)
                continue;
            if (p->flags & ROTP_PARAM_SECRET)
                printf("%s: (secret, %llu bytes, delivered to: %s)\n", p->key,
                       (unsigned long long)p->value_len, where && where[0] ? where : "nowhere");
            else
                printf("%s: %.*s\n", p->key, (int)p->value_len, p->value ? p->value : "");
        }
        fflush(stdout);
        return xc;
    }
    dynbuf b;
    int rc = 0;
    dynbuf_init(&b, OUT_JSON_MAX);
    rc |= dynbuf_adds(&b, "{\"command\":");
    rc |= dynbuf_json_cstr(&b, cmd);
    rc |= dynbuf_printf(&b, ",\"ok\":%s,\"exit_code\":%d,\"exit_name\":\"%s\"",
                        xc == 0 ? "true" : "false", xc, hx_name(xc));
    if (h->code == ROTP_E_OK) {
        rc |= dynbuf_adds(&b, ",\"result\":{");
        rc |= out_json_result_members(&b, h, where);
        rc |= dynbuf_adds(&b, "}");
        if (xc != 0)
            rc |= report_error(&b, xc, NULL);
    } else {
        rc |= out_json_error(&b, h->code, &h->err);
    }
    rc |= dynbuf_adds(&b, "}");
    print_json_and_free(&b, rc);
    return xc;
}

/* ---- --json: one object on stdout for every command and failure ---------------------------- */

/* While --json runs, stderr goes to a memory file so the last message can go into the object's
 * "error"; out_capture_end() replays it to the real stderr. */
static int g_saved_stderr = -1, g_capture_fd = -1;

void out_capture_begin(void)
{
    int fd = memfd_create("rotp-harness-stderr", MFD_CLOEXEC);
    if (fd < 0)
        return;
    fflush(stderr);
    g_saved_stderr = dup(STDERR_FILENO);
    if (g_saved_stderr < 0 || dup2(fd, STDERR_FILENO) < 0) {
        close(fd);
        return;
    }
    g_capture_fd = fd;
}

/* The last non-empty line captured so far, without the "rotp-harness: " prefix. */
static void captured_last_line(char *buf, size_t cap)
{
    char text[8192];
    ssize_t n;
    buf[0] = '\0';
    if (g_capture_fd < 0)
        return;
    fflush(stderr);
    off_t size = lseek(g_capture_fd, 0, SEEK_END);
    off_t from = size > (off_t)sizeof(text) - 1 ? size - (off_t)sizeof(text) + 1 : 0;
    n = pread(g_capture_fd, text, sizeof(text) - 1, from);
    if (n <= 0)
        return;
    text[n] = '\0';
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
        text[--n] = '\0';
    char *line = strrchr(text, '\n');
    line = line != NULL ? line + 1 : text;
    if (strncmp(line, "rotp-harness: ", 14) == 0)
        line += 14;
    size_t len = strnlen(line, cap - 1);
    memcpy(buf, line, len);
    buf[len] = '\0';
}

void out_capture_end(void)
{
    char buf[4096];
    ssize_t n;
    off_t off = 0;
    if (g_capture_fd < 0)
        return;
    fflush(stderr);
    dup2(g_saved_stderr, STDERR_FILENO);
    close(g_saved_stderr);
    while ((n = pread(g_capture_fd, buf, sizeof(buf), off)) > 0) {
        if (write(STDERR_FILENO, buf, (size_t)n) < 0)
            break;
        off += n;
    }
    close(g_capture_fd);
    g_capture_fd = g_saved_stderr = -1;
}

/* ,"error":{"code":NAME,"name":NAME,"number":N,"message":...}: the first failing step, else the
 * last message on stderr. */
static int report_error(dynbuf *b, int exit_code, const hreport *r)
{
    char msg[600] = "";
    for (int i = 0; r != NULL && i < r->n && msg[0] == '\0'; i++) {
        if (r->steps[i].status == HSTEP_FAIL)
            snprintf(msg, sizeof(msg), "%s: %s", r->steps[i].name, r->steps[i].detail);
    }
    if (msg[0] == '\0')
        captured_last_line(msg, sizeof(msg));
    int rc = dynbuf_adds(b, ",\"error\":{\"code\":");
    rc |= dynbuf_json_cstr(b, hx_name(exit_code));
    rc |= dynbuf_adds(b, ",\"name\":");
    rc |= dynbuf_json_cstr(b, hx_name(exit_code));
    rc |= dynbuf_printf(b, ",\"number\":%d,\"message\":", exit_code);
    rc |= dynbuf_json_cstr(b, msg[0] ? msg : hx_name(exit_code));
    rc |= dynbuf_adds(b, "}");
    return rc;
}

void out_json_failure(const char *cmd, int exit_code)
{
    out_json_report(cmd != NULL ? cmd : "", exit_code, NULL, NULL);
}

void out_json_report(const char *cmd, int exit_code, const hreport *r, const char *extra)
{
    dynbuf b;
    int rc = 0;
    dynbuf_init(&b, OUT_JSON_MAX);
    rc |= dynbuf_adds(&b, "{\"command\":");
    rc |= dynbuf_json_cstr(&b, cmd);
    rc |= dynbuf_printf(&b, ",\"ok\":%s,\"exit_code\":%d,\"exit_name\":\"%s\"",
                        exit_code == 0 ? "true" : "false", exit_code, hx_name(exit_code));
    if (extra != NULL && extra[0] != '\0') {
        rc |= dynbuf_adds(&b, ",");
        rc |= dynbuf_adds(&b, extra);
    }
    if (exit_code != 0)
        rc |= report_error(&b, exit_code, r);
    rc |= dynbuf_adds(&b, ",\"steps\":[");
    for (int i = 0; r != NULL && i < r->n; i++) {
        const hstep *s = &r->steps[i];
        if (i > 0)
            rc |= dynbuf_adds(&b, ",");
        rc |= dynbuf_adds(&b, "{\"step\":");
        rc |= dynbuf_json_cstr(&b, s->name);
        rc |= dynbuf_adds(&b, ",\"status\":");
        rc |= dynbuf_json_cstr(&b, step_word(s->status));
        rc |= dynbuf_adds(&b, ",\"detail\":");
        rc |= dynbuf_json_cstr(&b, s->detail);
        rc |= dynbuf_printf(&b, ",\"ms\":%ld}", s->ms);
    }
    rc |= dynbuf_adds(&b, "]}");
    print_json_and_free(&b, rc);
}
