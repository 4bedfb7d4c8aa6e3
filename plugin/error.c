/* SPDX-License-Identifier: MIT */
/* error.c - filling the caller-owned rotp_error, with messages bounded and redacted. */
#include "error.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "secret.h"

/* Both tables come from the ABI's one error table, so codes, names and messages cannot drift. */
static const char *const error_messages[ROTP_E__COUNT] = {
#define X_MESSAGE(num, name, msg) [num] = msg,
    ROTP_ERROR_TABLE(X_MESSAGE)
#undef X_MESSAGE
};

static const char *const error_names[ROTP_E__COUNT] = {
#define X_NAME(num, name, msg) [num] = #name,
    ROTP_ERROR_TABLE(X_NAME)
#undef X_NAME
};

const char *rerr_message(int32_t code)
{
    if (code < 0 || code >= ROTP_E__COUNT || error_messages[code] == NULL)
        return "unknown error code";
    return error_messages[code];
}

const char *rerr_name(int32_t code)
{
    if (code < 0 || code >= ROTP_E__COUNT || error_names[code] == NULL)
        return "UNKNOWN";
    return error_names[code];
}

void rerr_clear(rotp_error *err)
{
    if (ROTP_HAS_FIELD(err, rotp_error, code))
        err->code = ROTP_E_OK;
    rerr_http(err, 0, 0, 0, 0);
    if (ROTP_HAS_FIELD(err, rotp_error, flags))
        err->flags = 0;
    if (ROTP_HAS_FIELD(err, rotp_error, message))
        memset(err->message, 0, sizeof(err->message));
}

int32_t rerr_set(rotp_error *err, int32_t code, const char *fmt, ...)
{
    char raw[ROTP_ERROR_MESSAGE_MAX];
    va_list ap;
    int n;
    size_t len;

    if (ROTP_HAS_FIELD(err, rotp_error, code))
        err->code = code;
    if (!ROTP_HAS_FIELD(err, rotp_error, message) || fmt == NULL)
        return code;
    va_start(ap, fmt);
    n = vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    if (n < 0) {
        snprintf(err->message, sizeof(err->message), "%s", rerr_message(code));
        return code;
    }
    len = (size_t)n;
    if (len >= sizeof(raw))
        len = redact_trim_cut(raw, sizeof(raw) - 1);
    redact_to_buf(err->message, sizeof(err->message), raw, len, NULL, 0);
    secret_wipe(raw, sizeof(raw));
    return code;
}

void rerr_http(rotp_error *err, int32_t http_status, int32_t api_code, uint32_t retryable,
               uint64_t retry_after_ms)
{
    if (ROTP_HAS_FIELD(err, rotp_error, http_status))
        err->http_status = http_status;
    if (ROTP_HAS_FIELD(err, rotp_error, api_code))
        err->api_code = api_code;
    if (ROTP_HAS_FIELD(err, rotp_error, retryable))
        err->retryable = retryable;
    if (ROTP_HAS_FIELD(err, rotp_error, retry_after_ms))
        err->retry_after_ms = retry_after_ms;
}

void rerr_flag(rotp_error *err, uint32_t flags)
{
    if (ROTP_HAS_FIELD(err, rotp_error, flags))
        err->flags |= flags;
}

void rerr_copy(rotp_error *dst, const rotp_error *src)
{
    if (ROTP_HAS_FIELD(dst, rotp_error, code))
        dst->code = src->code;
    rerr_http(dst, src->http_status, src->api_code, src->retryable, src->retry_after_ms);
    if (ROTP_HAS_FIELD(dst, rotp_error, flags))
        dst->flags = src->flags;
    if (ROTP_HAS_FIELD(dst, rotp_error, message))
        memcpy(dst->message, src->message, sizeof(dst->message));
}

void rerr_init(rotp_error *err)
{
    memset(err, 0, sizeof(*err));
    err->struct_size = sizeof(*err);
}
