/* access_service_token.c - the adapter for Cloudflare Access service tokens
 * (cloudflare.access_service_token), at account level (/accounts/{account_id}/access/...) or zone
 * level (/zones/{zone_id}/access/...). Work in progress: operations being filled in. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adapter.h"
#include "error.h"

static int32_t ast_describe(cf_inst *inst, const rotp_params *req, result_builder *rb,
                            rotp_error *err)
{
    (void)inst;
    (void)req;
    (void)rb;
    return rerr_set(err, ROTP_E_INTERNAL, "describe: not implemented yet");
}

static int32_t ast_roll(cf_inst *inst, const rotp_params *req, result_builder *rb, rotp_error *err)
{
    (void)inst;
    (void)req;
    (void)rb;
    return rerr_set(err, ROTP_E_INTERNAL, "roll: not implemented yet");
}

static int32_t ast_verify(cf_inst *inst, const rotp_params *req, result_builder *rb,
                          rotp_error *err)
{
    (void)inst;
    (void)req;
    (void)rb;
    return rerr_set(err, ROTP_E_INTERNAL, "verify: not implemented yet");
}

static int32_t ast_revoke(cf_inst *inst, const rotp_params *req, result_builder *rb,
                          rotp_error *err)
{
    (void)inst;
    (void)req;
    (void)rb;
    return rerr_set(err, ROTP_E_INTERNAL, "revoke: not implemented yet");
}

static int32_t ast_provision(cf_inst *inst, const rotp_params *req, result_builder *rb,
                             rotp_error *err)
{
    (void)inst;
    (void)req;
    (void)rb;
    return rerr_set(err, ROTP_E_INTERNAL, "provision: not implemented yet");
}

static int32_t ast_list(cf_inst *inst, const rotp_params *req, result_builder *rb,
                        rotp_error *err)
{
    (void)inst;
    (void)req;
    (void)rb;
    return rerr_set(err, ROTP_E_INTERNAL, "list: not implemented yet");
}

const adapter adapter_access_service_token = {
    .kind = "cloudflare.access_service_token",
    .describe = ast_describe,
    .roll = ast_roll,
    .verify = ast_verify,
    .revoke = ast_revoke,
    .provision = ast_provision,
    .list = ast_list,
};
