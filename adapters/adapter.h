/* adapter.h - one adapter per credential kind. The provider core (plugin/provider.c) checks the
 * request's `kind`, picks the adapter and calls its operation; the adapter checks the rest of the
 * request (unknown keys are an error), talks to Cloudflare through cf_call() and builds the
 * result. An operation returns a ROTP_E_* code and fills err on failure; the core turns the
 * builder into the caller's rotp_result. */
#ifndef ROTP_ADAPTER_H
#define ROTP_ADAPTER_H

#include <stdint.h>

#include "instance.h"
#include "params.h"
#include "rotp.h"

typedef int32_t (*adapter_op)(cf_inst *inst, const rotp_params *req, result_builder *rb,
                              rotp_error *err);

typedef struct adapter {
    const char *kind; /* e.g. "cloudflare.user_token" */
    const rotp_kind_info *info; /* the kind's self-description (ABI 1.1) */
    adapter_op describe;
    adapter_op roll;
    adapter_op verify;
    adapter_op revoke;
    adapter_op provision; /* NULL: ROTP_E_UNSUPPORTED */
    adapter_op list;      /* NULL: ROTP_E_UNSUPPORTED */
} adapter;

/* The kinds' self-descriptions, defined at the end of each adapter's file. */
extern const rotp_kind_info kind_info_user_token;
extern const rotp_kind_info kind_info_account_token;
extern const rotp_kind_info kind_info_access_service_token;

/* adapters/api_token.c */
extern const adapter adapter_user_token;    /* cloudflare.user_token */
extern const adapter adapter_account_token; /* cloudflare.account_token */
/* adapters/access_service_token.c */
extern const adapter adapter_access_service_token; /* cloudflare.access_service_token */

#endif
