/* SPDX-License-Identifier: MIT */
/* api.c - the request and response helpers every route handler uses (api.h): query and body
 * access, and Cloudflare's envelope for successes and failures. */
#include "api.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"

#define RESP_BODY_MAX (64u * 1024u * 1024u)

/* --- request helpers ------------------------------------------------------------------------ */

void request_free(request *req)
{
    if (req == NULL)
        return;
    for (size_t i = 0; i < req->nseg; i++)
        rotp__free(req->seg[i]);
    for (size_t i = 0; i < req->nquery; i++) {
        rotp__free(req->query[i].key);
        rotp__free(req->query[i].value);
    }
    rotp__free(req->query);
    rotp__free(req->path);
    secret_free(req->authorization);
    rotp__free(req->cf_access_client_id);
    secret_free(req->cf_access_client_secret);
    rotp__free(req->content_type);
    memset(req, 0, sizeof(*req));
}

const char *req_query(const request *req, const char *key)
{
    for (size_t i = 0; i < req->nquery; i++) {
        if (strcmp(req->query[i].key, key) == 0)
            return req->query[i].value != NULL ? req->query[i].value : "";
    }
    return NULL;
}

bool req_seg_is(const request *req, size_t i, const char *s)
{
    return i < req->nseg && strcmp(req->seg[i], s) == 0;
}

int req_json(const request *req, response *resp, json_doc *doc, bool allow_empty)
{
    memset(doc, 0, sizeof(*doc));
    if (req->body_too_large) {
        resp_error(resp, 413, 6007, "Request body too large");
        return -1;
    }
    if (req->body == NULL || req->body_len == 0) {
        if (allow_empty)
            return 1;
        resp_error(resp, 400, 6007, "Malformed JSON in request body");
        return -1;
    }
    if (json_parse(doc, req->body, req->body_len) != JSON_OK) {
        resp_error(resp, 400, 6007, "Malformed JSON in request body");
        return -1;
    }
    if (!json_is_object(doc, 0)) {
        json_free(doc);
        resp_error(resp, 400, 6007, "Malformed JSON in request body: an object is required");
        return -1;
    }
    return 0;
}

/* --- response helpers ----------------------------------------------------------------------- */

void resp_init(response *resp)
{
    memset(resp, 0, sizeof(*resp));
    dynbuf_init(&resp->body, RESP_BODY_MAX);
    resp->retry_after = -1;
}

void resp_free(response *resp)
{
    if (resp != NULL)
        dynbuf_free_wipe(&resp->body);
}

static void resp_reset(response *resp, int status, const char *ctype)
{
    resp->status = status;
    dynbuf_reset(&resp->body);
    snprintf(resp->content_type, sizeof(resp->content_type), "%s", ctype);
}

int resp_ok_full(response *resp, int status, const char *result_json, const char *result_info_json,
                 const char *messages_json)
{
    int rc;

    resp_reset(resp, status, "application/json");
    rc = dynbuf_printf(&resp->body, "{\"success\":true,\"errors\":[],\"messages\":%s,\"result\":",
                       messages_json != NULL ? messages_json : "[]");
    if (rc == 0)
        rc = dynbuf_adds(&resp->body, result_json != NULL ? result_json : "null");
    if (rc == 0 && result_info_json != NULL)
        rc = dynbuf_printf(&resp->body, ",\"result_info\":%s", result_info_json);
    if (rc == 0)
        rc = dynbuf_adds(&resp->body, "}");
    if (rc != 0) {
        resp->status = 0;
        return -1;
    }
    return 0;
}

int resp_ok(response *resp, int status, const char *result_json)
{
    return resp_ok_full(resp, status, result_json, NULL, NULL);
}

int resp_ok_list(response *resp, const char *items_json, long page, long per_page, long count,
                 long total_count)
{
    char info[200];
    long pages = per_page > 0 ? (total_count + per_page - 1) / per_page : 0;

    snprintf(info, sizeof(info),
             "{\"page\":%ld,\"per_page\":%ld,\"count\":%ld,\"total_count\":%ld,"
             "\"total_pages\":%ld}",
             page, per_page, count, total_count, pages);
    return resp_ok_full(resp, 200, items_json, info, NULL);
}

/* The failure envelope; extra is appended inside errors[0] (already JSON, starting with ','). */
static int resp_error_extra(response *resp, int status, int code, const char *message,
                            const char *extra)
{
    int rc;

    resp_reset(resp, status, "application/json");
    rc = dynbuf_printf(&resp->body,
                       "{\"success\":false,\"errors\":[{\"code\":%d,\"message\":", code);
    if (rc == 0)
        rc = dynbuf_json_cstr(&resp->body, message);
    if (rc == 0 && extra != NULL)
        rc = dynbuf_adds(&resp->body, extra);
    if (rc == 0)
        rc = dynbuf_adds(&resp->body, "}],\"messages\":[],\"result\":null}");
    if (rc != 0) {
        resp->status = 0;
        return -1;
    }
    return 0;
}

int resp_error(response *resp, int status, int code, const char *message)
{
    return resp_error_extra(resp, status, code, message, NULL);
}

int resp_error_chain(response *resp, int status, int code, const char *message, int chain_code,
                     const char *chain_message)
{
    dynbuf x;
    int rc;

    dynbuf_init(&x, 4096);
    rc = dynbuf_printf(&x, ",\"error_chain\":[{\"code\":%d,\"message\":", chain_code);
    if (rc == 0)
        rc = dynbuf_json_cstr(&x, chain_message);
    if (rc == 0)
        rc = dynbuf_adds(&x, "}]");
    if (rc == 0)
        rc = resp_error_extra(resp, status, code, message, x.data);
    dynbuf_free(&x);
    return rc;
}

int resp_error_doc(response *resp, int status, int code, const char *message,
                   const char *documentation_url)
{
    dynbuf x;
    int rc;

    dynbuf_init(&x, 4096);
    rc = dynbuf_adds(&x, ",\"documentation_url\":");
    if (rc == 0)
        rc = dynbuf_json_cstr(&x, documentation_url);
    if (rc == 0)
        rc = resp_error_extra(resp, status, code, message, x.data);
    dynbuf_free(&x);
    return rc;
}

int resp_text(response *resp, int status, const char *content_type, const char *text)
{
    resp_reset(resp, status, content_type);
    if (dynbuf_adds(&resp->body, text) != 0) {
        resp->status = 0;
        return -1;
    }
    return 0;
}

int resp_bad_id(response *resp, const request *req)
{
    char msg[600];

    snprintf(msg, sizeof(msg),
             "Could not route to %.500s, perhaps your object identifier is invalid?", req->path);
    return resp_error(resp, 404, 7003, msg);
}

int resp_not_found(response *resp, int code, const char *message)
{
    return resp_error(resp, 404, code, message);
}

int resp_oom(response *resp)
{
    return resp_error(resp, 500, 10001, "cfemu: out of memory");
}
