/* SPDX-License-Identifier: MIT */
/* pt.h - provider-level test support: the provider linked in (rotp_core_test, with the
 * allocation hook), a private cfemu with the built-in seed, calls by kind and operation, the
 * descriptor conformance of results, and the catalogue of every operation variant of every kind
 * with the requests it makes and how to tell from cfemu's state whether its change was applied.
 *
 * Used by test_fault_matrix.c, test_alloc_sweep.c, test_descriptors.c and test_request_count.c.
 * Assertions are cmocka's; secrets are never printed. */
#ifndef ROTP_PT_H
#define ROTP_PT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cfemu_fixture.h"
#include "rotp.h"

#define PT_MAX_ITEMS 64
#define PT_VAL_MAX   1024

/* A private cfemu (built-in seed) and what its creds file says. */
typedef struct pt_env {
    cfemu_fx fx;
    char *creds; /* the creds file's text */
} pt_env;

/* Starts cfemu (extra argv may be NULL) and reads its creds; fails the test on error. */
void pt_start(pt_env *e, const char *const *extra_args);
/* Stops cfemu and asserts it exited cleanly (under ASan: no leak). */
void pt_stop(pt_env *e);
/* The value of a creds-file key (static storage per call site is not needed: the returned
 * pointer is into a small ring of buffers, valid for the next 16 calls). */
const char *pt_cred(pt_env *e, const char *key);

/* The provider's table (ABI 1.1, linked in). */
const rotp_provider *pt_provider(void);
/* The description of a kind, and the ROTP_OP_* bit of an operation name. */
const rotp_kind_info *pt_kind(const char *kind);
uint32_t pt_op_bit(const char *op);

/* Opens an instance on cfemu with the management token `token` (NULL: the seed's MGMT), a
 * timeout and max_retries. Fails the test if open fails. */
rotp_instance *pt_open(pt_env *e, const char *token, long timeout_ms, int max_retries);

/* One call's outcome: the code, the error, the result copied out (secrets included: tests only)
 * and the result freed through result_free. */
typedef struct pt_out {
    int32_t rc;
    rotp_error err;
    int n;
    char *k[PT_MAX_ITEMS];
    char *v[PT_MAX_ITEMS];
    uint32_t f[PT_MAX_ITEMS];
} pt_out;

/* Calls operation `op` of kind `kind` with the NULL-terminated key, value pairs that follow
 * (values of keys the kind describes as secret are sent with ROTP_PARAM_SECRET). */
pt_out pt_call(rotp_instance *inst, const char *op, const char *kind, ...);
pt_out pt_callv(rotp_instance *inst, const char *op, const char *kind, const char *const *kv);
/* The value of key in the result, or NULL. */
const char *pt_get(const pt_out *o, const char *key);
/* Wipes and frees the copies. */
void pt_free(pt_out *o);
/* Fails with the error's code and message unless o->rc is ROTP_E_OK. */
void pt_expect_ok(const pt_out *o, const char *what);

/* Asserts that a successful result carries only keys `kind` describes as results of `op`, flags
 * SECRET exactly the keys described secret, and puts only described states (for op) in the key
 * of role STATE. */
void pt_check_result(const char *kind, const char *op, const pt_out *o);

/* cfemu's control API */
/* Queues a fault (harness/cfemu/README.md): status (0: cfemu's default) for kind "status",
 * delay_ms for "delay"; Retry-After 1 s for "rate_limit", 1.2 MB for "oversize". */
void pt_fault(pt_env *e, const char *method, const char *glob, const char *kind, int status,
              int count, int delay_ms);
void pt_faults_clear(pt_env *e);
/* Waits until cfemu has no request in flight (a delay fault's request changes the state after
 * the client gave up), so the state read next is final. Fails after 60 s. */
void pt_quiesce(pt_env *e);
void pt_log_clear(pt_env *e);
/* Requests in cfemu's log whose method matches (NULL: any) and whose path contains `part`
 * (NULL: any). */
int pt_log_count(pt_env *e, const char *method, const char *part);
/* Requests in cfemu's log whose answer was an error (status 0 or >= 400). */
int pt_log_failures(pt_env *e);

/* A permission group's id by name, asked of cfemu's API with the seed's management token (ids
 * may change; names do not). */
void pt_group_id(pt_env *e, const char *name, char id[33]);

/* What cfemu's state (GET /__cfemu/state) says about one object. */
typedef struct pt_st {
    bool exists;
    long long version;     /* service token: client_secret_version */
    char prev_expires[40]; /* service token: previous_client_secret_expires_at, "" if none */
    char name[128];
} pt_st;
pt_st pt_state_token(pt_env *e, const char *id);         /* API token by id */
pt_st pt_state_service_token(pt_env *e, const char *id); /* service token by id */
/* API tokens plus service tokens whose name starts with prefix. */
int pt_state_count_named(pt_env *e, const char *prefix);

/* ---------------------------------------------------------------------------------------------
 * The operation variants: every operation of every kind, in each way it can run
 * ------------------------------------------------------------------------------------------- */

/* What a variant's target is. */
#define PT_T_NONE     0 /* nothing to set up */
#define PT_T_TOKEN    1 /* a fresh API token of the variant's kind */
#define PT_T_ST       2 /* a fresh service token in the variant's scope */
#define PT_T_ST_OVLAP 3 /* a fresh service token rotated once: its overlap is open */

/* What a variant changes. */
#define PT_C_READ     0 /* nothing */
#define PT_C_ROLL     1 /* API token value in place */
#define PT_C_ROTATE   2 /* service token secret (rotate) */
#define PT_C_CREATE   3 /* a new token or service token (provision, create-swap-delete) */
#define PT_C_DELETE   4 /* the target disappears */
#define PT_C_ENDOVLAP 5 /* the target's previous secret ends */

typedef struct pt_variant {
    const char *name;
    const char *kind;
    const char *op;
    bool zone;               /* service tokens: zone level */
    int target;              /* PT_T_* */
    int change;              /* PT_C_* */
    const char *strategy;    /* service tokens: roll/revoke strategy, or NULL */
    bool probe;              /* verify with probe_path / probe_url */
    bool by_client;          /* service-token verify without id */
    const char *requests[4]; /* "METHOD glob" of each request it makes, NULL-terminated */
} pt_variant;

extern const pt_variant pt_variants[];
extern const size_t pt_nvariants;

/* A variant's target and what it needs to check outcomes. */
typedef struct pt_target {
    char id[40];
    char name[128];
    char secret[PT_VAL_MAX]; /* API token value or client secret */
    char client_id[256];
    long long version;
    char prev_expires[40];
    int created_before; /* pt_state_count_named(prefix) before the operation */
} pt_target;

/* Creates the variant's target with a clean instance `ci` (tag makes names unique). */
void pt_setup(pt_env *e, rotp_instance *ci, const pt_variant *v, const char *tag, pt_target *t);
/* Runs the variant on inst against its target. */
pt_out pt_run(pt_env *e, rotp_instance *inst, const pt_variant *v, const pt_target *t,
              const char *tag);
/* Whether cfemu's state shows the variant's change applied. */
bool pt_applied(pt_env *e, rotp_instance *ci, const pt_variant *v, const pt_target *t,
                const char *tag);
/* Asserts the outcome is truthful against `applied` (ABI.md section 8): OK only when applied
 * (for a change) with a working new secret and a described result; OUTCOME_UNKNOWN always with
 * REQUEST_SENT; any other failure only when nothing was applied; verify states only as
 * described and true. `where` names the cell in failure messages. */
void pt_check_truthful(pt_env *e, rotp_instance *ci, const pt_variant *v, const pt_target *t,
                       const pt_out *o, bool applied, const char *where);
/* Removes what the variant created or left (by name prefix fm-<tag>), with ci. */
void pt_cleanup(pt_env *e, rotp_instance *ci, const pt_variant *v, const pt_target *t,
                const char *tag);

/* ---------------------------------------------------------------------------------------------
 * Group tests (test_fault_matrix, test_alloc_sweep): one executable, one CTest per group
 * ------------------------------------------------------------------------------------------- */

/* The cfemu a group test runs against (started with a generous rate limit). */
extern pt_env pt_genv;

/* What a group test does with one variant: ci is a clean instance, serial numbers its tags. */
typedef void (*pt_each_fn)(const pt_variant *v, rotp_instance *ci, int *serial);

/* main() of a group test: `prog GROUP` (user, account, st, zone) runs `each` for every variant
 * whose name starts with GROUP and a space, as one cmocka test between cfemu's start and stop;
 * it fails when the group has no variant. */
int pt_group_main(int argc, char **argv, pt_each_fn each);

#endif
