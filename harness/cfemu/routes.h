/* SPDX-License-Identifier: MIT */
/* routes.h - the route families the server dispatches to. Each returns ROUTE_DONE (resp filled)
 * or ROUTE_NOT_MINE (api.h), and is called with the context lock held. */
#ifndef CFEMU_ROUTES_H
#define CFEMU_ROUTES_H

#include "api.h"

/* /client/v4/user/tokens..., /client/v4/accounts/{a}/tokens... (tokens.c) */
int tokens_route(cfemu_ctx *ctx, request *req, response *resp);
/* /client/v4/accounts/{a}/access/service_tokens..., /client/v4/zones/{z}/access/service_tokens...
 * (access.c). */
int access_route(cfemu_ctx *ctx, request *req, response *resp);
/* GET /cdn-cgi/access/probe/{app_id}: the Access-protected origin (access.c). Called for every
 * path under CFEMU_PROBE_PREFIX, without Bearer authentication and without rate limiting. */
int access_probe(cfemu_ctx *ctx, request *req, response *resp);
/* /__cfemu/... (control.c) */
int control_route(cfemu_ctx *ctx, request *req, response *resp);

#endif
