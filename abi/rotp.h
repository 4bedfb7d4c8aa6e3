/* SPDX-License-Identifier: MIT */
/*
 * rotp.h - the rotation-provider ABI, version 1.1.
 *
 * One header is the whole contract between a host (a secrets manager, rotp-harness, a Python
 * ctypes script) and a rotation provider loaded with dlopen(). See abi/ABI.md for the prose
 * version: the key vocabulary, ownership rules and the versioning policy.
 *
 * Rules that keep this ABI binary-stable and FFI-friendly:
 *  - every boundary struct starts with `uint32_t struct_size`, set by whoever allocates it;
 *    fields are only ever appended, and a reader checks ROTP_HAS_FIELD() before touching a field
 *    that a newer minor version added;
 *  - only fixed-width integers, pointers and `const char *` with explicit lengths cross the
 *    boundary: no enums, bool, bitfields, unions, varargs or structs passed by value;
 *  - the provider exports exactly one symbol, ROTP_ENTRY_SYMBOL.
 */
#ifndef ROTP_H
#define ROTP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Versions
 * ------------------------------------------------------------------------------------------- */

/* The major version is part of the entry symbol's name; a new major is a new symbol. */
#define ROTP_ABI_MAJOR 1
/* Minor versions only append fields and operations. Host and provider use min(host, provider).
 * 1.0: the operations. 1.1: self-description (rotp_kind_info, config_keys; section 15 of ABI.md).
 * 1.2: waits told to the host as data (rotp_provider.set_wait; section 18 of ABI.md). */
#define ROTP_ABI_MINOR 2

#define ROTP_ENTRY_SYMBOL "rotp_provider_entry_v1"

/* True when a struct whose struct_size is `size` is large enough to hold `field`. */
#define ROTP_HAS_FIELD(ptr, type, field)                                                      \
    ((ptr) != NULL && (ptr)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))

/* ---------------------------------------------------------------------------------------------
 * Error codes. Append-only; the numbers never change. Generated from this one table, which the
 * provider's strerror() and every host's name table are built from too.
 *   X(number, NAME, "message")
 * ------------------------------------------------------------------------------------------- */
#define ROTP_ERROR_TABLE(X)                                                                     \
    X(0, OK, "success")                                                                         \
    X(1, INVALID_ARGUMENT, "invalid argument")                                                  \
    X(2, UNSUPPORTED, "operation or option not supported by this provider or kind")             \
    X(3, NO_MEMORY, "out of memory")                                                            \
    X(4, CREDENTIAL_INVALID, "credential invalid, expired or revoked")                          \
    X(5, PERMISSION_DENIED, "permission denied: the credential lacks a scope, zone or account") \
    X(6, NOT_FOUND, "not found")                                                                \
    X(7, CONFLICT, "conflict: the object is still referenced or a quota is reached")            \
    X(8, RATE_LIMITED, "rate limited: wait and retry")                                          \
    X(9, TRANSIENT, "transient failure: the request did not take effect, retry later")          \
    X(10, OUTCOME_UNKNOWN, "outcome unknown: the change was sent and no reliable answer came")  \
    X(11, PROTOCOL, "protocol error: malformed or unexpected response")                         \
    X(12, TLS, "TLS failure: the peer could not be verified")                                   \
    X(13, REFUSED_BY_POLICY, "refused by policy")                                               \
    X(14, INTERNAL, "internal error")

enum {
#define ROTP_X_ENUM(num, name, msg) ROTP_E_##name = num,
    ROTP_ERROR_TABLE(ROTP_X_ENUM)
#undef ROTP_X_ENUM
    ROTP_E__COUNT /* one past the highest code this header knows; grows with new codes */
};

/* Bounded message size in rotp_error; messages are NUL-terminated and never hold a secret. */
#define ROTP_ERROR_MESSAGE_MAX 512

/* rotp_error.flags */
#define ROTP_ERRF_MANAGEMENT_CREDENTIAL 0x1u /* the failing credential is the provider's own
                                                 management credential: escalate, do not retry */
#define ROTP_ERRF_REQUEST_SENT 0x2u          /* a request reached the wire before the failure */

/*
 * Filled by the provider on failure, caller-owned. The host sets struct_size before each call;
 * the provider writes only fields that fit. On success the provider sets code = ROTP_E_OK and
 * leaves an empty message.
 */
typedef struct rotp_error {
    uint32_t struct_size;
    int32_t code;           /* ROTP_E_* */
    int32_t http_status;    /* HTTP status of the failing response, 0 if none */
    int32_t api_code;       /* provider API error code (Cloudflare errors[0].code), 0 if none */
    uint32_t retryable;     /* 1 if the same call may succeed if repeated later */
    uint32_t flags;         /* ROTP_ERRF_* */
    uint64_t retry_after_ms; /* when retryable: how long to wait, 0 if unknown */
    char message[ROTP_ERROR_MESSAGE_MAX];
} rotp_error;

/* ---------------------------------------------------------------------------------------------
 * Key/value parameters: configs, requests and results
 * ------------------------------------------------------------------------------------------- */

#define ROTP_PARAM_SECRET 0x1u /* the value is a secret: never log it, wipe it when done */

/*
 * One key/value pair. Keys are NUL-terminated ASCII from the vocabulary in ABI.md. A value is
 * `value_len` bytes of UTF-8 (numbers as decimal text, times as RFC 3339); values written by the
 * provider are also NUL-terminated, values written by a host need not be. In an array, every
 * element has the same struct_size, and that size is the array's stride.
 */
typedef struct rotp_param {
    uint32_t struct_size;
    uint32_t flags; /* ROTP_PARAM_* */
    const char *key;
    const char *value;
    uint64_t value_len;
} rotp_param;

/* A borrowed array of parameters (configs and requests). Valid only for the call it is passed to. */
typedef struct rotp_params {
    uint32_t struct_size;
    uint32_t count;
    const rotp_param *items; /* count elements, items[0].struct_size bytes apart */
} rotp_params;

/*
 * An operation's result. The host zeroes it and sets struct_size; the provider fills items and
 * owns them until the host calls result_free(), which wipes secret values and resets the struct.
 * On failure the provider leaves count = 0 and items = NULL.
 */
typedef struct rotp_result {
    uint32_t struct_size;
    uint32_t count;
    rotp_param *items;   /* provider-owned; element stride is items[0].struct_size */
    void *provider_data; /* provider-private; the host never touches it */
} rotp_result;

/* ---------------------------------------------------------------------------------------------
 * Host services
 * ------------------------------------------------------------------------------------------- */

#define ROTP_LOG_ERROR 1
#define ROTP_LOG_WARN 2
#define ROTP_LOG_INFO 3
#define ROTP_LOG_DEBUG 4

/* Receives one complete, already-formatted and redacted line (no trailing newline). */
typedef void (*rotp_log_fn)(void *user, int32_t level, const char *message, uint64_t message_len);

/* Why the provider waits (rotp_wait_info.reason). */
#define ROTP_WAIT_RATE_LIMIT  1u /* the token's requests for the current window are used up */
#define ROTP_WAIT_RETRY_AFTER 2u /* the server answered 429: the token is blocked for Retry-After */
#define ROTP_WAIT_BACKOFF     3u /* an idempotent request is retried after a failure (5xx, network) */

/*
 * ABI 1.2: one wait of the provider, as data (the same wait is also logged at INFO). Borrowed for
 * the callback's duration. Strings are NUL-terminated and never hold a secret.
 */
typedef struct rotp_wait_info {
    uint32_t struct_size;
    uint32_t reason;        /* ROTP_WAIT_* */
    uint64_t wait_ms;       /* the whole wait */
    uint64_t left_ms;       /* what is left of it: wait_ms on the first call, 0 on the last */
    int64_t limit;          /* requests per window of the token's rate limit, -1 unknown */
    int64_t window_ms;      /* that window, -1 unknown */
    const char *credential; /* whose limit: "the management token", "the token being verified" */
    const char *request;    /* the request that waits: method and path without query */
} rotp_wait_info;

/*
 * Bound to an instance with rotp_provider.set_wait (ABI 1.2). Told about a wait: once before it
 * (left_ms == wait_ms), about once a second during it, and once after it (left_ms == 0).
 * Called on the operation's thread; must not call into the same instance. Return 0 to go on waiting; anything else stops the wait: a request that waited for
 * the rate limit is not sent and the call fails with ROTP_E_RATE_LIMITED (retry_after_ms set); a
 * retry that waited is not made and the last answer stands.
 */
typedef int32_t (*rotp_wait_fn)(void *user, const rotp_wait_info *info);

/*
 * What the host offers the provider. Passed to the entry point (to check it) and to open() (to
 * bind an instance to it); the provider copies what it needs and keeps no pointer to the struct.
 * A NULL log means the provider is silent. The provider never writes to stdout or stderr.
 */
typedef struct rotp_host {
    uint32_t struct_size;
    int32_t log_level; /* most verbose ROTP_LOG_* level delivered; 0 = none */
    rotp_log_fn log;
    void *log_user;
} rotp_host;

/* ---------------------------------------------------------------------------------------------
 * Self-description (ABI 1.1). Static, immutable data the provider publishes in its table, so a
 * host learns every kind's keys, secret parts, companions, strategies and verify states without
 * reading ABI.md (compare OpenSSL's gettable params, PKCS#11's mechanism info, LV2's ports).
 * Arrays of these structs follow the stride rule of rotp_param: element i is at
 * (char *)array + i * array[0].struct_size. Every string is NUL-terminated; NULL means "none".
 * ------------------------------------------------------------------------------------------- */

/* Operations as bits (rotp_kind_info.ops, rotp_key_info.ops/required_ops). */
#define ROTP_OP_DESCRIBE  0x01u
#define ROTP_OP_ROLL      0x02u
#define ROTP_OP_VERIFY    0x04u
#define ROTP_OP_REVOKE    0x08u
#define ROTP_OP_PROVISION 0x10u
#define ROTP_OP_LIST      0x20u

/* rotp_key_info.flags */
#define ROTP_KEY_SECRET 0x1u /* the value is a secret (send it with ROTP_PARAM_SECRET) */
#define ROTP_KEY_PROBE_NEEDED 0x2u /* 1.1, a verify key of role PROBE: without it, verify does not
                                     test the secret itself (only that the credential exists) */

/*
 * What a key means to a host that knows no provider (rotp_key_info.role). A role names the one
 * key of a kind (or config) that plays it, so a generic host finds "the credential id" or "the
 * expiry" without knowing the provider's vocabulary. ROTP_ROLE_NONE: only for humans.
 */
#define ROTP_ROLE_NONE          0u
#define ROTP_ROLE_ID            1u  /* request/result: the credential's id */
#define ROTP_ROLE_SCOPE         2u  /* request: where the credential lives (account, zone, ...) */
#define ROTP_ROLE_SECRET_PART   3u  /* verify request, roll/provision result: a part of the secret
                                       (rotp_part_info names the parts) */
#define ROTP_ROLE_STRATEGY      4u  /* request: the rotation strategy (rotp_strategy_info.name) */
#define ROTP_ROLE_OVERLAP       5u  /* request: seconds the old secret keeps working after roll */
#define ROTP_ROLE_RUN_ID        6u  /* request: the host's run id, for idempotent retries */
#define ROTP_ROLE_PROBE         7u  /* verify request: where to try the secret for real */
#define ROTP_ROLE_NAME          8u  /* request/result: the credential's name */
#define ROTP_ROLE_EXPIRES       9u  /* result: when the credential expires (RFC 3339) */
#define ROTP_ROLE_STATE         10u /* result of verify/revoke: the answer (rotp_state_info) */
#define ROTP_ROLE_STATUS        11u /* result: the provider's own status text of the credential */
#define ROTP_ROLE_REPLACED_ID   12u /* roll result: id of the credential the new one replaces */
#define ROTP_ROLE_OVERLAP_END   13u /* result: when the previous secret stops working */
#define ROTP_ROLE_PERMISSIONS   14u /* result: a readable summary of what the credential may do */
#define ROTP_ROLE_MODIFIED      15u /* result: when the credential last changed (RFC 3339) */
#define ROTP_ROLE_WARNING       16u /* result: something a host must show a human */
#define ROTP_ROLE_SELF_ROLL     17u /* roll request: a boolean that allows the management
                                       credential to roll itself */
#define ROTP_ROLE_TTL           18u /* provision request: lifetime of a new credential */
#define ROTP_ROLE_MANAGEMENT    19u /* config: the management credential (secret) */
#define ROTP_ROLE_ENDPOINT      20u /* config: the API base URL */
#define ROTP_ROLE_CA_FILE       21u /* config: a PEM bundle to verify the endpoint with */
#define ROTP_ROLE_INSECURE_LOOPBACK 22u /* config: boolean, allow plain http to loopback */
#define ROTP_ROLE_PROXY         23u /* config: the proxy to use */
#define ROTP_ROLE_TIMEOUT       24u /* config: total time of one call, in milliseconds */

/*
 * One key of a config, a request or a result.
 *  format: the value's syntax, one of "text", "hex32", "uuid", "int", "bool", "rfc3339",
 *          "duration" (Go style: 1h30m), "url", "path", "json", "token" (a secret value),
 *          "enum" (one of `choices`); a host may refuse a value before sending it.
 *  ops / required_ops: the operations that take (request) or produce (result) the key, and
 *          among them the ones where a request must carry it; 0 for config keys, where
 *          ROTP_KEY_REQUIRED_CONFIG in required_ops marks a required key.
 *  one_of: non-zero on keys of which exactly one must be present (same number), in the
 *          operations where they are listed in required_ops.
 *  env:    NULL-terminated environment variables a host may read the value from, in order of
 *          preference (NULL: none). A host that finds two with different values must refuse.
 */
#define ROTP_KEY_REQUIRED_CONFIG 0x80000000u

typedef struct rotp_key_info {
    uint32_t struct_size;
    uint32_t flags; /* ROTP_KEY_* */
    const char *key;
    const char *format;
    const char *summary;       /* one sentence for a human */
    uint32_t role;             /* ROTP_ROLE_* */
    uint32_t ops;              /* ROTP_OP_* bits */
    uint32_t required_ops;     /* ROTP_OP_* bits (ROTP_KEY_REQUIRED_CONFIG for config keys) */
    uint32_t one_of;
    const char *default_value; /* as text, NULL: none */
    const char *const *env;    /* NULL-terminated, NULL: none */
    const char *const *choices; /* format "enum": the allowed values, NULL-terminated */
    int64_t min_value;         /* format "int": inclusive range, when min_value < max_value */
    int64_t max_value;
} rotp_key_info;

/* rotp_part_info.flags */
#define ROTP_PART_SECRET  0x1u /* this part is secret (a client id is not, its secret is) */
#define ROTP_PART_PRIMARY 0x2u /* the part stored under the host's name for the credential */

/*
 * One part of a credential's secret. `key` is the result key of roll and provision that carries
 * it, and the request key of verify that takes it. `env_name` is the conventional variable name
 * (e.g. "CF_ACCESS_CLIENT_ID") when the host has no name of its own; NULL: the host's name.
 */
typedef struct rotp_part_info {
    uint32_t struct_size;
    uint32_t flags; /* ROTP_PART_* */
    const char *key;
    const char *env_name;
    const char *summary;
} rotp_part_info;

/*
 * A companion value a host stores beside the secret, as NAME__<suffix> (e.g. EXPIRES_AT,
 * SCOPES, TOKEN_ID, CLIENT_ID), taken from result key `key` of roll, or of describe with the id
 * when roll did not return it.
 */
typedef struct rotp_companion_info {
    uint32_t struct_size;
    uint32_t reserved0;
    const char *suffix;
    const char *key;
} rotp_companion_info;

/* rotp_strategy_info.flags */
#define ROTP_STRATEGY_DEFAULT 0x1u /* the default where requires_key is satisfied (first wins) */
#define ROTP_STRATEGY_OVERLAP 0x2u /* the old secret keeps working after roll, until the overlap
                                      ends or the host finishes; without it, it dies at roll */
#define ROTP_STRATEGY_NEW_ID  0x4u /* roll creates a new credential (result role ID) and names
                                      the old one (role REPLACED_ID) */
#define ROTP_STRATEGY_FINISH  0x8u /* finishing is a revoke: of the replaced id (NEW_ID), else of
                                      the id with this strategy, which ends the overlap */

/*
 * How a kind can be rotated. A kind without a request key of role STRATEGY has exactly one
 * strategy, used implicitly. Overlap times are seconds; max 0 with OVERLAP: until finished.
 */
typedef struct rotp_strategy_info {
    uint32_t struct_size;
    uint32_t flags; /* ROTP_STRATEGY_* */
    const char *name;
    const char *summary;
    const char *requires_key; /* a request key that must be present to use it, NULL: none */
    uint64_t default_overlap_seconds;
    uint64_t max_overlap_seconds;
} rotp_strategy_info;

/* rotp_state_info.meaning */
#define ROTP_STATE_ACCEPTED 1u /* the secret works */
#define ROTP_STATE_REJECTED 2u /* a definite rejection: the secret does not work (dead) */
#define ROTP_STATE_INACTIVE 3u /* the credential exists but cannot be used (disabled, expired) */
#define ROTP_STATE_REFUSED  4u /* the secret authenticates but is not admitted (policy) */
#define ROTP_STATE_GONE     5u /* revoke: the credential or overlap is gone (or already was) */

/* One value that verify or revoke may put in the result key of role STATE. */
typedef struct rotp_state_info {
    uint32_t struct_size;
    uint32_t meaning; /* ROTP_STATE_* */
    uint32_t ops;     /* ROTP_OP_VERIFY and/or ROTP_OP_REVOKE */
    uint32_t reserved0;
    const char *state;
    const char *summary;
} rotp_state_info;

/* Everything a host needs to drive one credential kind. */
typedef struct rotp_kind_info {
    uint32_t struct_size;
    uint32_t ops; /* ROTP_OP_* the kind supports */
    const char *kind;
    const char *summary;
    const char *management;   /* what the management credential needs, for a human */
    uint32_t nrequest_keys;
    uint32_t nresult_keys;
    const rotp_key_info *request_keys;
    const rotp_key_info *result_keys;
    uint32_t nparts;
    uint32_t ncompanions;
    const rotp_part_info *parts;
    const rotp_companion_info *companions;
    uint32_t nstrategies;
    uint32_t nstates;
    const rotp_strategy_info *strategies;
    const rotp_state_info *states;
    /* "key=value" pairs a host adds to a provision request to make a throwaway credential
       (least privilege, short life) for a sandbox run; it adds the name and scope keys itself.
       NULL-terminated; NULL when the kind cannot be provisioned. */
    const char *const *sandbox;
    uint32_t cadence_days; /* recommended rotation interval, 0: none */
    uint32_t reserved0;
} rotp_kind_info;

/* ---------------------------------------------------------------------------------------------
 * The operations table
 * ------------------------------------------------------------------------------------------- */

typedef struct rotp_instance rotp_instance; /* opaque, provider-owned */

/*
 * Every operation returns its rotp_error code (ROTP_E_OK on success) and also stores it in *err.
 * `req` and everything it points to is borrowed for the call only. A verification that finds a
 * dead secret is a success whose result says state=invalid; errors are for calls that failed.
 */
typedef int32_t (*rotp_op_fn)(rotp_instance *inst, const rotp_params *req, rotp_result *res,
                              rotp_error *err);

typedef struct rotp_provider {
    uint32_t struct_size;
    uint32_t abi_major; /* ROTP_ABI_MAJOR of the provider */
    uint32_t abi_minor; /* ROTP_ABI_MINOR of the provider */
    uint32_t reserved0;
    const char *name;          /* e.g. "cloudflare" */
    const char *version;       /* provider version, e.g. "0.1.0" */
    const char *const *kinds;  /* NULL-terminated list of credential kinds */

    /* Creates an instance from a config. On failure *out is NULL. */
    int32_t (*open)(const rotp_host *host, const rotp_params *config, rotp_instance **out,
                    rotp_error *err);
    /* Destroys an instance and wipes what it kept. NULL is accepted. */
    void (*close)(rotp_instance *inst);

    rotp_op_fn describe;  /* required */
    rotp_op_fn roll;      /* required */
    rotp_op_fn verify;    /* required */
    rotp_op_fn revoke;    /* required */
    rotp_op_fn provision; /* optional: NULL when the provider lacks it */
    rotp_op_fn list;      /* optional: NULL when the provider lacks it */

    /* Wipes secret values, frees what the provider allocated, and resets *res. NULL-tolerant. */
    void (*result_free)(rotp_result *res);
    /* A static message for a code; never NULL, unknown codes give a generic text. */
    const char *(*strerror)(int32_t code);

    /* ---- ABI 1.1: check ROTP_HAS_FIELD(table, rotp_provider, kind_info) first ---- */
    uint32_t nconfig_keys;
    uint32_t reserved1;
    const rotp_key_info *config_keys;       /* the keys open() takes */
    const rotp_kind_info *const *kind_info; /* NULL-terminated, in the order of `kinds` */

    /* ---- ABI 1.2: check ROTP_HAS_FIELD(table, rotp_provider, set_wait) first ---- */
    /* Binds a wait callback (rotp_wait_fn) and its user pointer to an instance, replacing the
     * previous one; fn NULL: waits are only logged. ROTP_E_OK, or ROTP_E_INVALID_ARGUMENT for a
     * NULL instance. */
    int32_t (*set_wait)(rotp_instance *inst, rotp_wait_fn fn, void *user);
} rotp_provider;

/*
 * The one exported symbol. `host_minor` is the host's ROTP_ABI_MINOR; `host` must be non-NULL
 * with a struct_size at least that of version 1.0; `err` is caller-owned. Returns a static,
 * immutable table, or NULL with err filled (the host's structs are too small, or err is NULL).
 * A host must check the returned table's abi_major and struct_size before using it.
 */
typedef const rotp_provider *(*rotp_entry_fn)(uint32_t host_minor, const rotp_host *host,
                                              rotp_error *err);

#if defined(__GNUC__)
#define ROTP_EXPORT __attribute__((visibility("default")))
#else
#define ROTP_EXPORT
#endif

ROTP_EXPORT const rotp_provider *rotp_provider_entry_v1(uint32_t host_minor, const rotp_host *host,
                                                        rotp_error *err);

/* ---------------------------------------------------------------------------------------------
 * Layout checks: these sizes and offsets are part of ABI 1.0 on LP64 and ILP32 targets.
 * ------------------------------------------------------------------------------------------- */
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define ROTP_STATIC_ASSERT _Static_assert
#elif defined(__cplusplus)
#define ROTP_STATIC_ASSERT static_assert
#endif
#ifdef ROTP_STATIC_ASSERT
ROTP_STATIC_ASSERT(offsetof(rotp_error, struct_size) == 0, "rotp_error header");
ROTP_STATIC_ASSERT(offsetof(rotp_error, retry_after_ms) == 24, "rotp_error layout");
ROTP_STATIC_ASSERT(offsetof(rotp_error, message) == 32, "rotp_error layout");
ROTP_STATIC_ASSERT(sizeof(rotp_error) == 32 + ROTP_ERROR_MESSAGE_MAX, "rotp_error size");
ROTP_STATIC_ASSERT(offsetof(rotp_param, struct_size) == 0, "rotp_param header");
ROTP_STATIC_ASSERT(offsetof(rotp_param, key) == 8, "rotp_param layout");
ROTP_STATIC_ASSERT(offsetof(rotp_param, value_len) == 8 + 2 * sizeof(void *), "rotp_param layout");
ROTP_STATIC_ASSERT(offsetof(rotp_params, items) == 8, "rotp_params layout");
ROTP_STATIC_ASSERT(offsetof(rotp_result, items) == 8, "rotp_result layout");
ROTP_STATIC_ASSERT(offsetof(rotp_host, log) == 8, "rotp_host layout");
ROTP_STATIC_ASSERT(offsetof(rotp_wait_info, credential) == 40, "rotp_wait_info layout");
ROTP_STATIC_ASSERT(offsetof(rotp_provider, name) == 16, "rotp_provider layout");
ROTP_STATIC_ASSERT(offsetof(rotp_provider, open) == 16 + 3 * sizeof(void *),
                   "rotp_provider layout");
ROTP_STATIC_ASSERT(offsetof(rotp_provider, strerror) == 16 + 12 * sizeof(void *),
                   "rotp_provider layout");
ROTP_STATIC_ASSERT(offsetof(rotp_provider, nconfig_keys) == 16 + 13 * sizeof(void *),
                   "rotp_provider 1.1 layout");
ROTP_STATIC_ASSERT(offsetof(rotp_provider, kind_info) == 24 + 14 * sizeof(void *),
                   "rotp_provider 1.1 layout");
ROTP_STATIC_ASSERT(offsetof(rotp_provider, set_wait) == 24 + 15 * sizeof(void *),
                   "rotp_provider 1.2 layout");
ROTP_STATIC_ASSERT(offsetof(rotp_key_info, key) == 8, "rotp_key_info layout");
ROTP_STATIC_ASSERT(offsetof(rotp_kind_info, kind) == 8, "rotp_kind_info layout");
ROTP_STATIC_ASSERT(offsetof(rotp_part_info, key) == 8, "rotp_part_info layout");
ROTP_STATIC_ASSERT(offsetof(rotp_companion_info, suffix) == 8, "rotp_companion_info layout");
ROTP_STATIC_ASSERT(offsetof(rotp_strategy_info, name) == 8, "rotp_strategy_info layout");
ROTP_STATIC_ASSERT(offsetof(rotp_state_info, state) == 16, "rotp_state_info layout");
ROTP_STATIC_ASSERT(sizeof(int32_t) == 4 && sizeof(uint64_t) == 8, "fixed-width types");
#endif

#ifdef __cplusplus
}
#endif
#endif /* ROTP_H */
