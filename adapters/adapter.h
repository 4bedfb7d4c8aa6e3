/* SPDX-License-Identifier: MIT */
/* adapter.h - one adapter per credential kind, and the one list of kinds.
 *
 * The provider core (plugin/provider.c) finds the adapter of the request's `kind`, checks the
 * request against the kind's self-description (info->request_keys, ABI 1.1) for the operation,
 * and calls the adapter's operation with the checked request. The adapter checks what the
 * description cannot say (an id belongs to the kind, a name's length), talks to Cloudflare
 * through the toolkit (toolkit.h) and builds the result. An operation returns a ROTP_E_* code and
 * fills err on failure; the core turns the builder into the caller's rotp_result and applies the
 * sent rule (ABI.md section 8) to failures after a state change.
 *
 * Adding a kind: write its adapter file (an `adapter_<name>` and its `kind_info_<name>`), then
 * add <name> to ADAPTER_LIST below. Nothing else names the kinds. */
#ifndef ROTP_ADAPTER_H
#define ROTP_ADAPTER_H

#include <stdint.h>

#include "instance.h"
#include "params.h"
#include "rotp.h"

typedef int32_t (*adapter_op)(cf_inst *inst, const preq *req, result_builder *rb, rotp_error *err);

typedef struct adapter {
    const rotp_kind_info *info; /* the kind's self-description; info->kind is its name */
    adapter_op describe;
    adapter_op roll;
    adapter_op verify;
    adapter_op revoke;
    adapter_op provision; /* NULL: ROTP_E_UNSUPPORTED */
    adapter_op list;      /* NULL: ROTP_E_UNSUPPORTED */
} adapter;

/* The kinds, in the order hosts see them (rotp_provider.kinds and .kind_info). */
#define ADAPTER_LIST(X)                                                                            \
    X(user_token)           /* adapters/api_token.c: cloudflare.user_token */                      \
    X(account_token)        /* adapters/api_token.c: cloudflare.account_token */                   \
    X(access_service_token) /* adapters/access_service_token.c */

/* Each adapter file defines, per kind <n>: the adapter, its self-description, and the kind's
 * name (the one place the name is spelled; kind_info_<n>.kind points at it). */
#define ADAPTER_DECLARE(n)                                                                         \
    extern const adapter adapter_##n;                                                              \
    extern const rotp_kind_info kind_info_##n;                                                     \
    extern const char kind_name_##n[];
ADAPTER_LIST(ADAPTER_DECLARE)
#undef ADAPTER_DECLARE

/* adapters/registry.c: the lists made from ADAPTER_LIST, each NULL-terminated and in the same
 * order: adapter_kinds[i] is adapter_registry[i]->info->kind and adapter_kind_info[i] is
 * adapter_registry[i]->info. */
extern const adapter *const adapter_registry[];
extern const char *const adapter_kinds[];
extern const rotp_kind_info *const adapter_kind_info[];

#endif
