/* SPDX-License-Identifier: MIT */
/* auth.h - Cloudflare-like authentication and authorization of the calling token for a route:
 * the failure answers of README.md "Authorization and error codes". */
#ifndef CFEMU_AUTH_H
#define CFEMU_AUTH_H

#include <stdbool.h>

#include "api.h"
#include "state.h"

/* Reads the Authorization header of req into req->auth and, when the bearer names a token,
 * req->caller (the token may be inactive: see cf_auth_state). Call with the lock held. */
void auth_identify(cfemu_ctx *ctx, request *req);
/* Checks that the caller is authenticated and holds the permission group with id group_id (a
 * "... Read" group is also satisfied by the "... Write" group of the same stem and scope) on
 * the resource (kind, scope_id). Returns 0 when
 * allowed. Otherwise fills resp and returns -1: missing header            400 1001 'Missing
 * "Authorization" header' malformed bearer          400 6003 "Invalid request headers" + chain 6111
 *   unknown/inactive token    CF_SCOPE_ZONE: 403 9109 "Invalid access token";
 *                             otherwise 401 10000 "Authentication error"
 *   group not held at all     403 10000 "Authentication error" with documentation_url
 *   held, but not here        403 9109 "Unauthorized to access requested resource" (+ url)
 * An account-owned token only ever reaches its own account and that account's zones. */
int require(cfemu_ctx *ctx, request *req, response *resp, const char *group_id, cf_scope_kind kind,
            const char *scope_id);
/* Authentication only (for endpoints that list no permission): 0, or -1 with resp filled as
 * above for the given route family. */
int require_auth(request *req, response *resp, cf_scope_kind kind);

#endif
