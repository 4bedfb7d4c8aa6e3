/* SPDX-License-Identifier: MIT */
/* engine_int.h - what the engine's modules share (not installed): the engine object, requests
 * built from borrowed strings, provider calls, descriptor lookups, the per-run context, events
 * and journal records.
 *
 * Module layering (no cycles): status.c, journal.c, dotenv.c depend on nothing here but this
 * header's types; engine.c (object, calls, events, descriptors) uses status.c and journal.c;
 * verify.c uses engine.c; rotate.c uses verify.c; resume.c and sandbox.c use rotate.c. */
#ifndef ROTP_ENGINE_INT_H
#define ROTP_ENGINE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rotp_engine.h"
#include "secret.h"

struct rotp_engine {
    const rotp_provider *p;
    rotp_instance *inst;
    rotp_engine_host host;
};

/* ---- requests ---------------------------------------------------------------------------- */

#define EREQ_MAX 48

typedef struct ereq {
    rotp_param items[EREQ_MAX];
    uint32_t count;
    bool overflow;
    char num[4][24];
    int nnum;
} ereq;

void ereq_init(ereq *r);
/* Adds (or replaces) key = value; value NULL or "" is ignored. Borrowed. */
void ereq_add(ereq *r, const char *key, const char *value);
void ereq_add_secret(ereq *r, const char *key, const char *value, size_t len);
void ereq_add_long(ereq *r, const char *key, long long v);
rotp_params ereq_params(const ereq *r);

/* ---- params views ------------------------------------------------------------------------ */

const rotp_param *params_at(const rotp_params *p, uint32_t i);
/* The value of key in p (NULL if absent); *len when non-NULL. */
const char *params_get(const rotp_params *p, const char *key, size_t *len);

/* ---- calls ------------------------------------------------------------------------------- */

typedef struct eres {
    rotp_result res;
    rotp_error err;
    int32_t code;
    rotp_engine *e;
} eres;

/* Calls one operation (ROTP_OP_*). Always eres_free afterwards. */
int32_t eng_call(rotp_engine *e, uint32_t op, const ereq *req, eres *out);
void eres_free(eres *h);
const char *eres_get(const eres *h, const char *key, size_t *len);
void eres_copy(const eres *h, const char *key, char *buf, size_t cap);

/* ---- descriptors ------------------------------------------------------------------------- */

const rotp_key_info *kd_req_role(const rotp_kind_info *k, uint32_t role);
const rotp_key_info *kd_req_key(const rotp_kind_info *k, const char *key);
/* The first result key of role produced by op (op 0: any). */
const rotp_key_info *kd_res_role(const rotp_kind_info *k, uint32_t role, uint32_t op);
const rotp_part_info *kd_part(const rotp_kind_info *k, uint32_t i);
const rotp_part_info *kd_primary_part(const rotp_kind_info *k);
const rotp_companion_info *kd_companion(const rotp_kind_info *k, uint32_t i);
const rotp_strategy_info *kd_strategy(const rotp_kind_info *k, uint32_t i);
const rotp_strategy_info *kd_strategy_named(const rotp_kind_info *k, const char *name);
const rotp_state_info *kd_state(const rotp_kind_info *k, const char *state, uint32_t op);

/* ---- the run context --------------------------------------------------------------------- */

#define EPART_MAX 4

/* A secret's parts held by the engine (wiped when cleared). */
typedef struct eparts {
    uint32_t n;
    char key[EPART_MAX][64];
    secret_buf *val[EPART_MAX];
    bool secret[EPART_MAX];
} eparts;

void eparts_clear(eparts *p);
/* Copies the kind's parts found in params (a result or a host's params). 0, -1 on OOM. */
int eparts_from(eparts *dst, const rotp_kind_info *k, const rotp_params *src);
const secret_buf *eparts_get(const eparts *p, const char *key);
/* True when every secret part of the kind is present. */
bool eparts_complete(const eparts *p, const rotp_kind_info *k);

typedef struct erun {
    rotp_engine *e;
    const rotp_engine_run *run;
    rotp_engine_result *res;
    const rotp_kind_info *ki;
    const rotp_strategy_info *strat; /* NULL: the kind has none */
    bool new_id;                     /* strat NEW_ID */
    bool overlap_wanted;             /* strat OVERLAP and overlap_seconds != 0 */
    bool resuming;
    bool changed; /* a state-changing call may have taken effect: the run stays open */
    int jstep;
    uint64_t ncheck;
    char run_id[ROTP_ENGINE_RUN_ID_MAX + 1];
    char old_name[256];
    char verified_id[128];
    uint32_t verified_meaning;
    eparts current;         /* the current secret (from run->current) */
    eparts fresh;           /* the new secret (roll result, or read back on resume) */
    rotp_engine_kv comp[8]; /* companion values learnt (key = result key) */
    uint32_t ncomp;
    const char *prefix; /* before step names (a sandbox's inner rotation), NULL: none */
    bool quiet;         /* no journal, no audit, no RUN events (a sandbox's inner runs) */
    bool capture;       /* keep the new secret in fresh instead of calling deliver */
} erun;

/* Counts the call and brackets state-changing ones with checkpoints. */
int32_t erun_call(erun *c, uint32_t op, const ereq *req, eres *h);

/* Prepares c for run (kind, strategy, run id, current secret) and resets res for command (NULL:
 * keeps res, for an inner run). ROTP_ENGINE_OK or USAGE with res->message. */
int32_t erun_init(erun *c, rotp_engine *e, const rotp_engine_run *run, rotp_engine_result *res,
                  const char *command);
void erun_clear(erun *c);
/* Remembers result values of companions (and their describe fallbacks). */
void erun_learn(erun *c, const eres *h);
const char *erun_comp(const erun *c, const char *key);

/* Base request for op: kind, the id (when the id key takes op), the run's request keys that the
 * descriptor lists for op (unknown keys: roll and provision only). */
void erun_req(erun *c, ereq *r, uint32_t op, const char *id);
/* Adds the strategy key (roll, revoke) when the kind has one. */
void erun_req_strategy(erun *c, ereq *r, uint32_t op);

/* ---- events and steps -------------------------------------------------------------------- */

uint64_t eng_now_ms(void);
void eng_run_begin(erun *c, const char *command);
void eng_run_end(erun *c, int32_t status);
/* Records a step in the result and sends STEP_BEGIN? no: STEP_END with its detail. */
void eng_step(erun *c, const char *name, int step_status, int32_t status, uint64_t ms,
              const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void eng_step_begin(erun *c, const char *name);
void eng_wait(erun *c, uint32_t reason, uint64_t ms, const char *why);
void eng_checkpoint(erun *c, uint32_t point);
/* Sets res->failed_step and res->message once. */
void eng_failed(erun *c, const char *step, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- journal and audit ------------------------------------------------------------------- */

int ej_run(erun *c, const char *command);
int ej_intent(erun *c, const char *op, const char *id);
int ej_outcome(erun *c, const char *op, const char *status, int32_t code, const char *new_id,
               const char *replaced_id, const char *expires);
int ej_mark(erun *c, const char *mark);
int ej_end(erun *c, const char *status, int32_t code);
void eng_audit(erun *c, const char *action, const char *stage, const char *error,
               const char *failed_step);
void eng_now_rfc3339(char *buf, size_t cap);

/* ---- verify ------------------------------------------------------------------------------ */

typedef enum vclass { V_ACTIVE, V_DEAD, V_OTHER, V_ERROR } vclass;

/* Verifies parts on id once; detail gets "state=... probe_status=...". */
vclass ev_verify(erun *c, const char *id, const eparts *parts, char *detail, size_t cap,
                 int32_t *code);
/* Verifies until the wanted class, up to verify_tries, with WAIT events between tries. */
vclass ev_verify_until(erun *c, bool want_active, const char *id, const eparts *parts, char *detail,
                       size_t cap, int32_t *code);
/* True when verify cannot test the secret itself without a probe key the run lacks. */
bool ev_existence_only(const erun *c);

/* ---- the runbook (rotate.c) -------------------------------------------------------------- */

typedef enum rphase { RP_PRECHECK = 0, RP_ROLL, RP_VERIFY, RP_TAIL } rphase;

int32_t er_precheck(erun *c);
int32_t er_drive(erun *c, rphase start);
int32_t er_finish(erun *c);
int32_t er_fail(erun *c, int32_t status, const char *error_name);
int32_t er_revoke(erun *c, const char *id, const char *step_name);
/* Collects ids of the list result's `items` whose name holds needle (not skip_id). */
int er_find_by_name(erun *c, const char *needle, const char *skip_id, char (*ids)[128], int max,
                    int32_t *code);

/* ---- journal text (journal.c) ------------------------------------------------------------ */

/* Formats and appends a record through the host; see journal.c. */
int ej_emit(erun *c, const char *record, size_t len);

#endif
