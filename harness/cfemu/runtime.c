/* SPDX-License-Identifier: MIT */
/* runtime.c - the bookkeeping around cfemu's state (cfemu.h): the context accessors, the clock,
 * the fault queue and the request log. Everything here runs with the context lock held. */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "alloc.h"
#include "cfemu.h"
#include "timefmt.h"

#define CFEMU_LOG_MAX 100000 /* log entries kept in memory */

cfemu_state *cfemu_st(cfemu_ctx *ctx)
{
    return &ctx->st;
}

int64_t cfemu_now(cfemu_ctx *ctx)
{
    return (int64_t)time(NULL) + ctx->clock_offset;
}

/* --- faults --------------------------------------------------------------------------------- */

static const char *const fault_kind_names[] = {
    "status",         "delay",    "reset_before",       "reset_after", "truncate",
    "malformed_json", "oversize", "wrong_content_type", "rate_limit",
};

const char *cfemu_fault_kind_name(cfemu_fault_kind k)
{
    if ((size_t)k < sizeof(fault_kind_names) / sizeof(fault_kind_names[0]))
        return fault_kind_names[k];
    return "unknown";
}

int cfemu_fault_kind_parse(const char *s)
{
    for (size_t i = 0; i < sizeof(fault_kind_names) / sizeof(fault_kind_names[0]); i++) {
        if (strcmp(fault_kind_names[i], s) == 0)
            return (int)i;
    }
    return -1;
}

void cfemu_fault_free(cfemu_fault *f)
{
    if (f == NULL)
        return;
    rotp__free(f->method);
    rotp__free(f->path);
    rotp__free(f->message);
    rotp__free(f);
}

void cfemu_faults_clear(cfemu_ctx *ctx)
{
    for (size_t i = 0; i < ctx->faults.len; i++)
        cfemu_fault_free(ctx->faults.items[i]);
    ctx->faults.len = 0;
}

bool cfemu_fault_take(cfemu_ctx *ctx, const char *method, const char *path, cfemu_fault *out)
{
    for (size_t i = 0; i < ctx->faults.len; i++) {
        cfemu_fault *f = ctx->faults.items[i];

        if (strcmp(f->method, "*") != 0 && strcasecmp(f->method, method) != 0)
            continue;
        if (fnmatch(f->path, path, 0) != 0)
            continue;
        *out = *f;
        out->method = out->path = out->message = NULL;
        if (f->message != NULL)
            out->message = rotp__strdup(f->message);
        f->hits++;
        if (--f->remaining <= 0)
            cfemu_fault_free(cf_vec_remove(&ctx->faults, i));
        return true;
    }
    return false;
}

/* --- the request log ------------------------------------------------------------------------ */

void cfemu_log_entry_free(cfemu_log_entry *e)
{
    if (e == NULL)
        return;
    rotp__free(e->path);
    rotp__free(e);
}

void cfemu_log_clear(cfemu_ctx *ctx)
{
    for (size_t i = 0; i < ctx->log.len; i++)
        cfemu_log_entry_free(ctx->log.items[i]);
    ctx->log.len = 0;
}

void cfemu_log_request(cfemu_ctx *ctx, const char *method, const char *path, int status,
                       const char *token_id, const char *fault)
{
    cfemu_log_entry *e = rotp__calloc(1, sizeof(*e));
    char ts[RFC3339_LEN];

    if (e == NULL)
        return;
    /* A long demo run must not grow without bound: the oldest entries go first. */
    if (ctx->log.len >= CFEMU_LOG_MAX)
        cfemu_log_entry_free(cf_vec_remove(&ctx->log, 0));
    e->seq = ++ctx->log_seq;
    e->at = cfemu_now(ctx);
    snprintf(e->method, sizeof(e->method), "%s", method);
    e->path = rotp__strdup(path);
    e->status = status;
    snprintf(e->token_id, sizeof(e->token_id), "%s", token_id != NULL ? token_id : "");
    e->fault = fault;
    if (e->path == NULL || cf_vec_push(&ctx->log, e) != 0) {
        cfemu_log_entry_free(e);
        return;
    }
    if (ctx->log_fp != NULL) {
        rfc3339_format(e->at, ts, sizeof(ts));
        fprintf(ctx->log_fp, "%s %s %s %d %s%s%s\n", ts, e->method, e->path, status,
                e->token_id[0] != 0 ? e->token_id : "-", fault != NULL ? " fault=" : "",
                fault != NULL ? fault : "");
        fflush(ctx->log_fp);
    }
}

/* --- the whole runtime ---------------------------------------------------------------------- */

void cfemu_ctx_free_runtime(cfemu_ctx *ctx)
{
    cfemu_faults_clear(ctx);
    cf_vec_free(&ctx->faults);
    cfemu_log_clear(ctx);
    cf_vec_free(&ctx->log);
}
