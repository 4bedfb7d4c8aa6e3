/* SPDX-License-Identifier: MIT */
/* registry.c - the kinds the provider serves, made from ADAPTER_LIST (adapter.h) so that the
 * adapters, the `kinds` list and the self-descriptions cannot drift apart. Static, immutable. */
#include <stddef.h>

#include "adapter.h"

#define AS_ADAPTER(n) &adapter_##n,
#define AS_KIND(n)    kind_name_##n,
#define AS_INFO(n)    &kind_info_##n,

const adapter *const adapter_registry[] = {ADAPTER_LIST(AS_ADAPTER) NULL};
const char *const adapter_kinds[] = {ADAPTER_LIST(AS_KIND) NULL};
const rotp_kind_info *const adapter_kind_info[] = {ADAPTER_LIST(AS_INFO) NULL};
