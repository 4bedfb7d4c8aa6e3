/* SPDX-License-Identifier: MIT */
/* status.c - the engine's status table (also rotp-harness's exit codes) and operation names. */
#include <string.h>

#include "engine_int.h"

static const rotp_engine_status_info status_table[] = {
#define ROTP_ENGINE_X_INFO(num, name, desc) {num, #name, desc},
    ROTP_ENGINE_STATUS_TABLE(ROTP_ENGINE_X_INFO)
#undef ROTP_ENGINE_X_INFO
};

const rotp_engine_status_info *rotp_engine_status_table(size_t *count)
{
    if (count != NULL)
        *count = sizeof(status_table) / sizeof(status_table[0]);
    return status_table;
}

const char *rotp_engine_status_name(int32_t status)
{
    if (status < 0 || status >= ROTP_ENGINE__COUNT)
        return status_table[ROTP_ENGINE_OTHER_FAILURE].name;
    return status_table[status].name;
}

const char *rotp_engine_status_description(int32_t status)
{
    if (status < 0 || status >= ROTP_ENGINE__COUNT)
        return status_table[ROTP_ENGINE_OTHER_FAILURE].description;
    return status_table[status].description;
}

int32_t rotp_engine_status_from_rotp(int32_t rotp_code)
{
    switch (rotp_code) {
    case ROTP_E_OK:
        return ROTP_ENGINE_OK;
    case ROTP_E_INVALID_ARGUMENT:
    case ROTP_E_UNSUPPORTED:
        return ROTP_ENGINE_USAGE;
    case ROTP_E_CREDENTIAL_INVALID:
        return ROTP_ENGINE_CREDENTIAL_INVALID;
    case ROTP_E_PERMISSION_DENIED:
        return ROTP_ENGINE_PERMISSION_DENIED;
    case ROTP_E_NOT_FOUND:
        return ROTP_ENGINE_NOT_FOUND;
    case ROTP_E_RATE_LIMITED:
        return ROTP_ENGINE_RATE_LIMITED;
    case ROTP_E_OUTCOME_UNKNOWN:
        return ROTP_ENGINE_OUTCOME_UNKNOWN;
    default:
        return ROTP_ENGINE_OTHER_FAILURE;
    }
}

const char *rotp_engine_rotp_code_name(int32_t rotp_code)
{
    static const char *const names[] = {
#define ROTP_X_NAME(num, name, msg) [num] = #name,
        ROTP_ERROR_TABLE(ROTP_X_NAME)
#undef ROTP_X_NAME
    };
    if (rotp_code < 0 || (size_t)rotp_code >= sizeof(names) / sizeof(names[0]) ||
        names[rotp_code] == NULL)
        return "UNKNOWN_CODE";
    return names[rotp_code];
}

static const struct {
    uint32_t bit;
    const char *name;
} op_names[] = {
    {ROTP_OP_DESCRIBE, "describe"}, {ROTP_OP_ROLL, "roll"},           {ROTP_OP_VERIFY, "verify"},
    {ROTP_OP_REVOKE, "revoke"},     {ROTP_OP_PROVISION, "provision"}, {ROTP_OP_LIST, "list"},
};

uint32_t rotp_engine_op_from_name(const char *name)
{
    for (size_t i = 0; name != NULL && i < sizeof(op_names) / sizeof(op_names[0]); i++) {
        if (strcmp(op_names[i].name, name) == 0)
            return op_names[i].bit;
    }
    return 0;
}

const char *rotp_engine_op_name(uint32_t op)
{
    for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++) {
        if (op_names[i].bit == op)
            return op_names[i].name;
    }
    return "unknown";
}
