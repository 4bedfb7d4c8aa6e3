/* SPDX-License-Identifier: MIT */
/* control.c - the control API under /__cfemu/: faults, request log, stats, state, clock.
 * No authentication (cfemu listens on loopback only); never under /client/v4; not logged, not
 * rate limited, never hit by faults. Answers use the Cloudflare envelope for uniformity. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "cfemu.h"
#include "meter.h"
#include "routes.h"
#include "timefmt.h"

/* --- JSON views ---------------------------------------------------------------------------- */

static int json_fault(dynbuf *b, const cfemu_fault *f)
{
    int rc = dynbuf_printf(b, "{\"id\":%ld,\"method\":", f->id);

    if (rc == 0)
        rc = dynbuf_json_cstr(b, f->method);
    if (rc == 0)
        rc = dynbuf_adds(b, ",\"path\":");
    if (rc == 0)
        rc = dynbuf_json_cstr(b, f->path);
    if (rc == 0)
        rc = dynbuf_printf(b,
                           ",\"kind\":\"%s\",\"remaining\":%ld,\"hits\":%ld,\"status\":%d,"
                           "\"code\":%d,\"delay_ms\":%ld,\"retry_after\":%ld,\"size\":%ld,"
                           "\"message\":",
                           cfemu_fault_kind_name(f->kind), f->remaining, f->hits, f->status,
                           f->code, f->delay_ms, f->retry_after, f->size);
    if (rc == 0)
        rc = dynbuf_json_cstr(b, f->message);
    if (rc == 0)
        rc = dynbuf_adds(b, "}");
    return rc;
}

static int json_rule(dynbuf *b, const cf_access_rule *rule)
{
    switch (rule->kind) {
    case CF_RULE_SERVICE_TOKEN:
        return dynbuf_printf(b, "{\"service_token\":{\"token_id\":\"%s\"}}", rule->id);
    case CF_RULE_GROUP:
        return dynbuf_printf(b, "{\"group\":{\"id\":\"%s\"}}", rule->id);
    case CF_RULE_ANY_VALID_SERVICE_TOKEN:
        break;
    }
    return dynbuf_adds(b, "{\"any_valid_service_token\":{}}");
}

/* The scope members of an Access object: "account_id" and "zone_id", one of them null. */
static int json_scope(dynbuf *b, const char *account_id, const char *zone_id)
{
    int rc = dynbuf_adds(b, ",\"account_id\":");

    if (rc == 0)
        rc = dynbuf_json_cstr(b, account_id[0] != 0 ? account_id : NULL);
    if (rc == 0)
        rc = dynbuf_adds(b, ",\"zone_id\":");
    if (rc == 0)
        rc = dynbuf_json_cstr(b, zone_id[0] != 0 ? zone_id : NULL);
    return rc;
}

static int json_service_token(dynbuf *b, const cf_service_token *t)
{
    int rc = dynbuf_printf(b, "{\"id\":\"%s\",\"name\":", t->id);

    if (rc == 0)
        rc = dynbuf_json_cstr(b, t->name);
    if (rc == 0)
        rc = json_scope(b, t->account_id, t->zone_id);
    if (rc == 0)
        rc = dynbuf_adds(b, ",\"client_id\":");
    if (rc == 0)
        rc = dynbuf_json_cstr(b, t->client_id);
    if (rc == 0)
        rc = dynbuf_adds(b, ",\"duration\":");
    if (rc == 0)
        rc = dynbuf_json_cstr(b, t->duration);
    if (rc == 0)
        rc =
            dynbuf_printf(b,
                          ",\"client_secret_version\":%lld,\"has_previous_secret\":%s,"
                          "\"enabled\":%s,\"expires_at\":",
                          (long long)t->client_secret_version,
                          t->prev_secret != NULL ? "true" : "false", t->enabled ? "true" : "false");
    if (rc == 0)
        rc = cf_json_time(b, t->expires_at);
    if (rc == 0)
        rc = dynbuf_adds(b, ",\"previous_client_secret_expires_at\":");
    if (rc == 0)
        rc = cf_json_time(b, t->prev_secret_expires_at);
    if (rc == 0)
        rc = dynbuf_adds(b, ",\"created_at\":");
    if (rc == 0)
        rc = cf_json_time(b, t->created_at);
    if (rc == 0)
        rc = dynbuf_adds(b, ",\"updated_at\":");
    if (rc == 0)
        rc = cf_json_time(b, t->updated_at);
    if (rc == 0)
        rc = dynbuf_adds(b, ",\"last_seen_at\":");
    if (rc == 0)
        rc = cf_json_time(b, t->last_seen_at);
    if (rc == 0)
        rc = dynbuf_adds(b, "}");
    return rc;
}

static int json_group(dynbuf *b, const cf_access_group *g)
{
    int rc = dynbuf_printf(b, "{\"id\":\"%s\",\"name\":", g->id);

    if (rc == 0)
        rc = dynbuf_json_cstr(b, g->name);
    if (rc == 0)
        rc = json_scope(b, g->account_id, g->zone_id);
    if (rc == 0)
        rc = dynbuf_adds(b, ",\"include\":[");
    for (size_t r = 0; rc == 0 && r < g->ninclude; r++) {
        if (r > 0)
            rc = dynbuf_adds(b, ",");
        if (rc == 0)
            rc = json_rule(b, &g->include[r]);
    }
    if (rc == 0)
        rc = dynbuf_adds(b, "]}");
    return rc;
}

static int json_app(dynbuf *b, const cf_access_app *a)
{
    int rc = dynbuf_printf(b, "{\"id\":\"%s\",\"name\":", a->id);

    if (rc == 0)
        rc = dynbuf_json_cstr(b, a->name);
    if (rc == 0)
        rc = json_scope(b, a->account_id, a->zone_id);
    if (rc == 0)
        rc = dynbuf_adds(b, ",\"policies\":[");
    for (size_t p = 0; rc == 0 && p < a->npolicies; p++) {
        rc = dynbuf_adds(b, p ? ",{\"decision\":" : "{\"decision\":");
        if (rc == 0)
            rc = dynbuf_json_cstr(b, a->policies[p].decision);
        if (rc == 0)
            rc = dynbuf_adds(b, ",\"include\":[");
        for (size_t r = 0; rc == 0 && r < a->policies[p].ninclude; r++) {
            const cf_access_rule *rule = &a->policies[p].include[r];

            if (r > 0)
                rc = dynbuf_adds(b, ",");
            if (rc == 0)
                rc = json_rule(b, rule);
        }
        if (rc == 0)
            rc = dynbuf_adds(b, "]}");
    }
    if (rc == 0)
        rc = dynbuf_adds(b, "]}");
    return rc;
}

static int json_state(cfemu_ctx *ctx, dynbuf *b)
{
    const cfemu_state *st = &ctx->st;
    int64_t now = cfemu_now(ctx);
    int rc = dynbuf_adds(b, "{\"users\":[");

    for (size_t i = 0; rc == 0 && i < st->users.len; i++) {
        const cf_user *u = st->users.items[i];

        rc = dynbuf_printf(b, "%s{\"id\":\"%s\",\"email\":", i ? "," : "", u->id);
        if (rc == 0)
            rc = dynbuf_json_cstr(b, u->email);
        if (rc == 0)
            rc = dynbuf_adds(b, "}");
    }
    if (rc == 0)
        rc = dynbuf_adds(b, "],\"accounts\":[");
    for (size_t i = 0; rc == 0 && i < st->accounts.len; i++) {
        const cf_account *a = st->accounts.items[i];

        rc = dynbuf_printf(b, "%s{\"id\":\"%s\",\"name\":", i ? "," : "", a->id);
        if (rc == 0)
            rc = dynbuf_json_cstr(b, a->name);
        if (rc == 0)
            rc = dynbuf_adds(b, "}");
    }
    if (rc == 0)
        rc = dynbuf_adds(b, "],\"zones\":[");
    for (size_t i = 0; rc == 0 && i < st->zones.len; i++) {
        const cf_zone *z = st->zones.items[i];

        rc = dynbuf_printf(b, "%s{\"id\":\"%s\",\"account_id\":\"%s\",\"name\":", i ? "," : "",
                           z->id, z->account_id);
        if (rc == 0)
            rc = dynbuf_json_cstr(b, z->name);
        if (rc == 0)
            rc = dynbuf_adds(b, "}");
    }
    if (rc == 0)
        rc = dynbuf_adds(b, "],\"tokens\":[");
    for (size_t i = 0; rc == 0 && i < st->tokens.len; i++) {
        const cf_token *t = st->tokens.items[i];

        rc = dynbuf_printf(b, "%s{\"owner\":\"%s%s\",\"token\":", i ? "," : "",
                           t->owner_kind == CF_OWNER_USER ? "user:" : "account:", t->owner_id);
        if (rc == 0)
            rc = cf_json_token(b, t, now);
        if (rc == 0)
            rc = dynbuf_adds(b, "}");
    }
    if (rc == 0)
        rc = dynbuf_adds(b, "],\"service_tokens\":[");
    for (size_t i = 0; rc == 0 && i < st->service_tokens.len; i++) {
        if (i > 0)
            rc = dynbuf_adds(b, ",");
        if (rc == 0)
            rc = json_service_token(b, st->service_tokens.items[i]);
    }
    if (rc == 0)
        rc = dynbuf_adds(b, "],\"access_groups\":[");
    for (size_t i = 0; rc == 0 && i < st->groups.len; i++) {
        if (i > 0)
            rc = dynbuf_adds(b, ",");
        if (rc == 0)
            rc = json_group(b, st->groups.items[i]);
    }
    if (rc == 0)
        rc = dynbuf_adds(b, "],\"access_apps\":[");
    for (size_t i = 0; rc == 0 && i < st->apps.len; i++) {
        if (i > 0)
            rc = dynbuf_adds(b, ",");
        if (rc == 0)
            rc = json_app(b, st->apps.items[i]);
    }
    if (rc == 0)
        rc = dynbuf_adds(b, "]}");
    return rc;
}

/* --- handlers ------------------------------------------------------------------------------ */

static int get_long(const json_doc *doc, const char *key, long min, long max, long *out)
{
    int t = json_get(doc, 0, key);
    int64_t v;

    if (t < 0)
        return 0;
    if (json_get_int64(doc, t, &v) != 0 || v < min || v > max)
        return -1;
    *out = (long)v;
    return 0;
}

static int add_fault(cfemu_ctx *ctx, const request *req, response *resp)
{
    json_doc doc;
    cfemu_fault *f = NULL;
    char kind[40];
    dynbuf b;
    int t;
    long v;
    int k;

    dynbuf_init(&b, 64 * 1024);
    if (req_json(req, resp, &doc, false) != 0)
        return ROUTE_DONE;
    f = rotp__calloc(1, sizeof(*f));
    if (f == NULL)
        goto out_oom;
    f->remaining = 1;
    f->retry_after = -1;
    t = json_get(&doc, 0, "kind");
    if (t < 0 || json_strcpy(&doc, t, kind, sizeof(kind)) != 0 ||
        (k = cfemu_fault_kind_parse(kind)) < 0) {
        resp_error(resp, 400, 1002,
                   "kind must be one of status, delay, reset_before, reset_after, truncate, "
                   "malformed_json, oversize, wrong_content_type, rate_limit");
        goto out;
    }
    f->kind = (cfemu_fault_kind)k;
    t = json_get(&doc, 0, "path");
    if (t < 0 || json_strdup(&doc, t, &f->path) != 0 || f->path[0] == 0) {
        resp_error(resp, 400, 1002, "path (a glob such as /client/v4/user/tokens/*) is required");
        goto out;
    }
    t = json_get(&doc, 0, "method");
    if (t >= 0 && !json_is_null(&doc, t)) {
        if (json_strdup(&doc, t, &f->method) != 0) {
            resp_error(resp, 400, 1002, "method must be a string");
            goto out;
        }
    } else if ((f->method = rotp__strdup("*")) == NULL) {
        goto out_oom;
    }
    t = json_get(&doc, 0, "message");
    if (t >= 0 && !json_is_null(&doc, t) && json_strdup(&doc, t, &f->message) != 0) {
        resp_error(resp, 400, 1002, "message must be a string");
        goto out;
    }
    if (get_long(&doc, "count", 1, 1000000, &f->remaining) != 0 ||
        get_long(&doc, "delay_ms", 0, 600000, &f->delay_ms) != 0 ||
        get_long(&doc, "retry_after", 0, 86400, &f->retry_after) != 0 ||
        get_long(&doc, "size", 0, 64L * 1024 * 1024, &f->size) != 0) {
        resp_error(resp, 400, 1002,
                   "count (>= 1), delay_ms (<= 600000), retry_after, size must be integers");
        goto out;
    }
    v = 0;
    if (get_long(&doc, "status", 100, 599, &v) != 0) {
        resp_error(resp, 400, 1002, "status must be an HTTP status (100..599)");
        goto out;
    }
    f->status = (int)v;
    v = 0;
    if (get_long(&doc, "code", 0, 99999999, &v) != 0) {
        resp_error(resp, 400, 1002, "code must be an integer");
        goto out;
    }
    f->code = (int)v;
    f->id = ++ctx->next_fault_id;
    if (json_fault(&b, f) != 0 || cf_vec_push(&ctx->faults, f) != 0)
        goto out_oom;
    f = NULL;
    resp_ok(resp, 200, b.data);
    goto out;
out_oom:
    resp_error(resp, 500, 10001, "cfemu: out of memory");
out:
    cfemu_fault_free(f);
    json_free(&doc);
    dynbuf_free(&b);
    return ROUTE_DONE;
}

static int list_faults(cfemu_ctx *ctx, response *resp)
{
    dynbuf b;
    int rc;

    dynbuf_init(&b, 16u * 1024u * 1024u);
    rc = dynbuf_adds(&b, "[");
    for (size_t i = 0; rc == 0 && i < ctx->faults.len; i++) {
        if (i > 0)
            rc = dynbuf_adds(&b, ",");
        if (rc == 0)
            rc = json_fault(&b, ctx->faults.items[i]);
    }
    if (rc == 0)
        rc = dynbuf_adds(&b, "]");
    if (rc == 0)
        resp_ok(resp, 200, b.data);
    else
        resp_error(resp, 500, 10001, "cfemu: out of memory");
    dynbuf_free(&b);
    return ROUTE_DONE;
}

static int get_log(cfemu_ctx *ctx, response *resp)
{
    dynbuf b;
    int rc;

    dynbuf_init(&b, 256u * 1024u * 1024u);
    rc = dynbuf_adds(&b, "[");
    for (size_t i = 0; rc == 0 && i < ctx->log.len; i++) {
        const cfemu_log_entry *e = ctx->log.items[i];

        rc = dynbuf_printf(&b, "%s{\"seq\":%ld,\"at\":", i ? "," : "", e->seq);
        if (rc == 0)
            rc = cf_json_time(&b, e->at);
        if (rc == 0)
            rc = dynbuf_printf(&b, ",\"method\":\"%s\",\"path\":", e->method);
        if (rc == 0)
            rc = dynbuf_json_cstr(&b, e->path);
        if (rc == 0)
            rc = dynbuf_printf(&b, ",\"status\":%d,\"token_id\":", e->status);
        if (rc == 0)
            rc = dynbuf_json_cstr(&b, e->token_id[0] != 0 ? e->token_id : NULL);
        if (rc == 0)
            rc = dynbuf_adds(&b, ",\"fault\":");
        if (rc == 0)
            rc = dynbuf_json_cstr(&b, e->fault);
        if (rc == 0)
            rc = dynbuf_adds(&b, "}");
    }
    if (rc == 0)
        rc = dynbuf_adds(&b, "]");
    if (rc == 0)
        resp_ok(resp, 200, b.data);
    else
        resp_error(resp, 500, 10001, "cfemu: out of memory");
    dynbuf_free(&b);
    return ROUTE_DONE;
}

static int stats(cfemu_ctx *ctx, response *resp)
{
    dynbuf b;

    dynbuf_init(&b, 64u * 1024u * 1024u);
    if (meter_json(ctx, &b) == 0)
        resp_ok(resp, 200, b.data);
    else
        resp_oom(resp);
    dynbuf_free(&b);
    return ROUTE_DONE;
}

static int clock_view(cfemu_ctx *ctx, response *resp)
{
    char now[RFC3339_LEN];
    char result[160];

    rfc3339_format(cfemu_now(ctx), now, sizeof(now));
    snprintf(result, sizeof(result), "{\"now\":\"%s\",\"unix\":%lld,\"offset_seconds\":%lld}", now,
             (long long)cfemu_now(ctx), (long long)ctx->clock_offset);
    resp_ok(resp, 200, result);
    return ROUTE_DONE;
}

static int set_clock(cfemu_ctx *ctx, const request *req, response *resp)
{
    json_doc doc;
    int adv, set;
    int64_t v;

    if (req_json(req, resp, &doc, false) != 0)
        return ROUTE_DONE;
    adv = json_get(&doc, 0, "advance");
    set = json_get(&doc, 0, "set");
    if (adv >= 0 && set < 0 && json_get_int64(&doc, adv, &v) == 0 && v > -(1LL << 40) &&
        v < (1LL << 40)) {
        ctx->clock_offset += v;
    } else if (set >= 0 && adv < 0 && cf_parse_time(&doc, set, &v) == 0 && v != CF_TIME_NONE) {
        ctx->clock_offset = v - (int64_t)time(NULL);
    } else {
        json_free(&doc);
        resp_error(resp, 400, 1002,
                   "want {\"advance\": <integer seconds>} or {\"set\": \"<RFC 3339>\"}");
        return ROUTE_DONE;
    }
    json_free(&doc);
    return clock_view(ctx, resp);
}

int control_route(cfemu_ctx *ctx, request *req, response *resp)
{
    const char *m = req->method;
    const char *what = req->nseg == 2 ? req->seg[1] : "";

    if (req->nseg != 2 || strcmp(req->seg[0], "__cfemu") != 0)
        return ROUTE_NOT_MINE;
    if (strcmp(what, "faults") == 0) {
        if (strcmp(m, "POST") == 0)
            return add_fault(ctx, req, resp);
        if (strcmp(m, "GET") == 0)
            return list_faults(ctx, resp);
        if (strcmp(m, "DELETE") == 0) {
            cfemu_faults_clear(ctx);
            resp_ok(resp, 200, "[]");
            return ROUTE_DONE;
        }
    } else if (strcmp(what, "log") == 0) {
        if (strcmp(m, "GET") == 0)
            return get_log(ctx, resp);
        if (strcmp(m, "DELETE") == 0) {
            cfemu_log_clear(ctx);
            meter_reset(ctx);
            resp_ok(resp, 200, "[]");
            return ROUTE_DONE;
        }
    } else if (strcmp(what, "stats") == 0) {
        if (strcmp(m, "GET") == 0)
            return stats(ctx, resp);
        if (strcmp(m, "DELETE") == 0) {
            meter_reset(ctx);
            return stats(ctx, resp);
        }
    } else if (strcmp(what, "state") == 0 && strcmp(m, "GET") == 0) {
        dynbuf b;

        dynbuf_init(&b, 64u * 1024u * 1024u);
        if (json_state(ctx, &b) == 0)
            resp_ok(resp, 200, b.data);
        else
            resp_error(resp, 500, 10001, "cfemu: out of memory");
        dynbuf_free(&b);
        return ROUTE_DONE;
    } else if (strcmp(what, "clock") == 0) {
        if (strcmp(m, "GET") == 0)
            return clock_view(ctx, resp);
        if (strcmp(m, "POST") == 0)
            return set_clock(ctx, req, resp);
    }
    return ROUTE_NOT_MINE;
}
