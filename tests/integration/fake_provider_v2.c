/* SPDX-License-Identifier: MIT */
/* fake_provider_v2.c - providers a host must refuse, for rotp-harness's loader tests
 * (tests/integration/test_harness_loader.sh; built by tests/integration/fixtures.cmake).
 *
 * One source, built once per mode (exactly one of these is defined):
 *  FAKE_MODE_V2_SYMBOL     exports only rotp_provider_entry_v2: a provider for a future ABI
 *                          major, which a v1 host must refuse and name ("speaks ABI 2");
 *  FAKE_MODE_V1_MAJOR2     exports rotp_provider_entry_v1, but the table it returns says
 *                          abi_major = 2, which a host must check and refuse;
 *  FAKE_MODE_V1_SMALL      exports rotp_provider_entry_v1 with a table whose struct_size is
 *                          smaller than ABI 1.0's (a truncated table), which a host must refuse.
 *
 * If a host wrongly accepts one, the provider still behaves safely: open() fails and every
 * operation answers UNSUPPORTED, so a test sees the harness report success (exit 0) and fails. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "rotp.h"

#if !defined(FAKE_MODE_V2_SYMBOL) && !defined(FAKE_MODE_V1_MAJOR2) && !defined(FAKE_MODE_V1_SMALL)
#error "define one of FAKE_MODE_V2_SYMBOL, FAKE_MODE_V1_MAJOR2, FAKE_MODE_V1_SMALL"
#endif

static const char *const fake_kinds[] = {"fake.kind", NULL};

static void fake_set_err(rotp_error *err, int32_t code, const char *msg)
{
    if (err == NULL || err->struct_size < offsetof(rotp_error, message) + 1)
        return;
    err->code = code;
    err->http_status = 0;
    err->api_code = 0;
    err->retryable = 0;
    err->flags = 0;
    err->retry_after_ms = 0;
    snprintf(err->message, ROTP_ERROR_MESSAGE_MAX, "%s", msg);
}

static int32_t fake_open(const rotp_host *host, const rotp_params *config, rotp_instance **out,
                         rotp_error *err)
{
    (void)host;
    (void)config;
    if (out != NULL)
        *out = NULL;
    fake_set_err(err, ROTP_E_UNSUPPORTED, "fake provider: a host must not get this far");
    return ROTP_E_UNSUPPORTED;
}

static void fake_close(rotp_instance *inst)
{
    (void)inst;
}

static int32_t fake_op(rotp_instance *inst, const rotp_params *req, rotp_result *res,
                       rotp_error *err)
{
    (void)inst;
    (void)req;
    if (res != NULL) {
        res->count = 0;
        res->items = NULL;
    }
    fake_set_err(err, ROTP_E_UNSUPPORTED, "fake provider: a host must not get this far");
    return ROTP_E_UNSUPPORTED;
}

static void fake_result_free(rotp_result *res)
{
    if (res != NULL) {
        res->count = 0;
        res->items = NULL;
    }
}

static const char *fake_strerror(int32_t code)
{
    (void)code;
    return "fake provider error";
}

static const rotp_provider fake_table = {
#if defined(FAKE_MODE_V1_SMALL)
    .struct_size = (uint32_t)offsetof(rotp_provider, open), /* cut before the function table */
#else
    .struct_size = (uint32_t)sizeof(rotp_provider),
#endif
#if defined(FAKE_MODE_V1_SMALL)
    .abi_major = 1,
#else
    .abi_major = 2,
#endif
    .abi_minor = 0,
    .reserved0 = 0,
    .name = "fake",
    .version = "9.9.9",
    .kinds = fake_kinds,
    .open = fake_open,
    .close = fake_close,
    .describe = fake_op,
    .roll = fake_op,
    .verify = fake_op,
    .revoke = fake_op,
    .provision = NULL,
    .list = NULL,
    .result_free = fake_result_free,
    .strerror = fake_strerror,
};

#if defined(FAKE_MODE_V2_SYMBOL)
/* The entry point a major-2 provider would export (its prototype lives here: there is no v2
 * header). */
ROTP_EXPORT const rotp_provider *rotp_provider_entry_v2(uint32_t host_minor, const rotp_host *host,
                                                        rotp_error *err);

ROTP_EXPORT const rotp_provider *rotp_provider_entry_v2(uint32_t host_minor, const rotp_host *host,
                                                        rotp_error *err)
{
    (void)host_minor;
    (void)host;
    (void)err;
    return &fake_table;
}
#else
ROTP_EXPORT const rotp_provider *rotp_provider_entry_v1(uint32_t host_minor, const rotp_host *host,
                                                        rotp_error *err)
{
    (void)host_minor;
    (void)host;
    if (err != NULL && err->struct_size >= sizeof(rotp_error))
        memset(err->message, 0, sizeof(err->message));
    return &fake_table;
}
#endif
