/* SPDX-License-Identifier: MIT */
/* kind_info.h - shorthand for the static self-description tables (ABI 1.1, rotp_kind_info) that
 * each adapter publishes for its kinds. Only initializer macros: no code, no state. */
#ifndef ROTP_KIND_INFO_H
#define ROTP_KIND_INFO_H

#include "rotp.h"

#define OPS_ALL                                                                                    \
    (ROTP_OP_DESCRIBE | ROTP_OP_ROLL | ROTP_OP_VERIFY | ROTP_OP_REVOKE | ROTP_OP_PROVISION |       \
     ROTP_OP_LIST)
#define OPS_BY_ID (ROTP_OP_DESCRIBE | ROTP_OP_ROLL | ROTP_OP_VERIFY | ROTP_OP_REVOKE)

/* A key with every field spelled out. */
#define KI_FULL(k, fmt, fl, rl, op, req, oneof, def, envs, chs, lo, hi, sum)                       \
    {                                                                                              \
        .struct_size = sizeof(rotp_key_info), .flags = (fl), .key = (k), .format = (fmt),          \
        .summary = (sum), .role = (rl), .ops = (op), .required_ops = (req), .one_of = (oneof),     \
        .default_value = (def), .env = (envs), .choices = (chs), .min_value = (lo),                \
        .max_value = (hi)                                                                          \
    }

/* The common case: no default, environment, choices or range. */
#define KI(k, fmt, fl, rl, op, req, sum)                                                           \
    KI_FULL(k, fmt, fl, rl, op, req, 0, NULL, NULL, NULL, 0, 0, sum)

/* A result key: produced by `op`, never required. */
#define KR(k, fmt, fl, rl, op, sum) KI(k, fmt, fl, rl, op, 0, sum)

#define PART(k, fl, env, sum)                                                                      \
    {                                                                                              \
        .struct_size = sizeof(rotp_part_info), .flags = (fl), .key = (k), .env_name = (env),       \
        .summary = (sum)                                                                           \
    }

#define COMPANION(sfx, k)                                                                          \
    {                                                                                              \
        .struct_size = sizeof(rotp_companion_info), .reserved0 = 0, .suffix = (sfx), .key = (k)    \
    }

#define STRATEGY(n, fl, req_key, def_s, max_s, sum)                                                \
    {                                                                                              \
        .struct_size = sizeof(rotp_strategy_info), .flags = (fl), .name = (n), .summary = (sum),   \
        .requires_key = (req_key), .default_overlap_seconds = (def_s),                             \
        .max_overlap_seconds = (max_s)                                                             \
    }

#define STATE(s, meaning_, op, sum)                                                                \
    {                                                                                              \
        .struct_size = sizeof(rotp_state_info), .meaning = (meaning_), .ops = (op),                \
        .reserved0 = 0, .state = (s), .summary = (sum)                                             \
    }

#define COUNT_OF(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

#endif
