/* SPDX-License-Identifier: MIT */
/* rotp_v1_0.h - a frozen copy of abi/rotp.h as it was at ABI 1.0 (commit d4777e1), for
 * tests/abi/test_compat_host_v1_0.c: a host compiled against it must keep working with every later
 * provider. Never edit it; it is the 1.0 contract as hosts built against it saw it. */
/*
 * rotp.h - the rotation-provider ABI, version 1.
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
/* Minor versions only append fields and operations. Host and provider use min(host, provider). */
#define ROTP_ABI_MINOR 0

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
ROTP_STATIC_ASSERT(offsetof(rotp_provider, name) == 16, "rotp_provider layout");
ROTP_STATIC_ASSERT(offsetof(rotp_provider, open) == 16 + 3 * sizeof(void *),
                   "rotp_provider layout");
ROTP_STATIC_ASSERT(offsetof(rotp_provider, strerror) == 16 + 12 * sizeof(void *),
                   "rotp_provider layout");
ROTP_STATIC_ASSERT(sizeof(int32_t) == 4 && sizeof(uint64_t) == 8, "fixed-width types");
#endif

#ifdef __cplusplus
}
#endif
#endif /* ROTP_H */
