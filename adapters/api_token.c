/* api_token.c - the adapter for Cloudflare API tokens: cloudflare.user_token (/user/tokens...)
 * and cloudflare.account_token (/accounts/{account_id}/tokens...). Work in progress. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adapter.h"
#include "error.h"

static int32_t tok_describe(cf_inst *inst, const rotp_params *req, result_builder *rb,
                            rotp_error *err)
{
    (void)inst;
    (void)req;
    (void)rb;
    return rerr_set(err, ROTP_E_INTERNAL, "describe: not implemented yet");
}

static int32_t tok_roll(cf_inst *inst, const rotp_params *req, result_builder *rb, rotp_error *err)
{
    (void)inst;
    (void)req;
    (void)rb;
    return rerr_set(err, ROTP_E_INTERNAL, "roll: not implemented yet");
}

static int32_t tok_verify(cf_inst *inst, const rotp_params *req, result_builder *rb,
                          rotp_error *err)
{
    (void)inst;
    (void)req;
    (void)rb;
    return rerr_set(err, ROTP_E_INTERNAL, "verify: not implemented yet");
}

static int32_t tok_revoke(cf_inst *inst, const rotp_params *req, result_builder *rb,
                          rotp_error *err)
{
    (void)inst;
    (void)req;
    (void)rb;
    return rerr_set(err, ROTP_E_INTERNAL, "revoke: not implemented yet");
}

static int32_t tok_provision(cf_inst *inst, const rotp_params *req, result_builder *rb,
                             rotp_error *err)
{
    (void)inst;
    (void)req;
    (void)rb;
    return rerr_set(err, ROTP_E_INTERNAL, "provision: not implemented yet");
}

static int32_t tok_list(cf_inst *inst, const rotp_params *req, result_builder *rb,
                        rotp_error *err)
{
    (void)inst;
    (void)req;
    (void)rb;
    return rerr_set(err, ROTP_E_INTERNAL, "list: not implemented yet");
}

const adapter adapter_user_token = {
    .kind = "cloudflare.user_token",
    .describe = tok_describe,
    .roll = tok_roll,
    .verify = tok_verify,
    .revoke = tok_revoke,
    .provision = tok_provision,
    .list = tok_list,
};

const adapter adapter_account_token = {
    .kind = "cloudflare.account_token",
    .describe = tok_describe,
    .roll = tok_roll,
    .verify = tok_verify,
    .revoke = tok_revoke,
    .provision = tok_provision,
    .list = tok_list,
};
