/* SPDX-License-Identifier: MIT */
/* instance.h - what an adapter sees of a provider instance: the HTTP client, the management
 * credential, the logger and small per-instance caches. The instance itself is defined in
 * provider.c; adapters go through these accessors. One instance is used by one thread at a time. */
#ifndef ROTP_INSTANCE_H
#define ROTP_INSTANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "http.h"
#include "log.h"
#include "rotp.h"
#include "secret.h"

typedef struct rotp_instance cf_inst;

http_client *cf_inst_http(cf_inst *inst);
const plog *cf_inst_log(const cf_inst *inst);
/* The management token (config key api_token). Never NULL for an open instance. */
const secret_buf *cf_inst_mgmt(const cf_inst *inst);
/* Replaces the management token after a successful self-roll; the old value is wiped.
 * ROTP_E_OK or NO_MEMORY (the old token is then kept). */
int32_t cf_inst_set_mgmt(cf_inst *inst, const char *value, size_t len, rotp_error *err);
/* The management token's own id, learned once per instance and per `scope` ("user" or an account
 * id): NULL until set. */
const char *cf_inst_mgmt_id(const cf_inst *inst, const char *scope);
void cf_inst_set_mgmt_id(cf_inst *inst, const char *scope, const char *id);
/* Registers a secret that this call handles, so log lines mask it; forget it before freeing. */
void cf_inst_remember(cf_inst *inst, const secret_buf *s);
void cf_inst_forget(cf_inst *inst, const secret_buf *s);
/* The sent rule (ABI.md section 8), kept per operation: once a state-changing request may have
 * reached Cloudflare, every failure of the operation is OUTCOME_UNKNOWN with REQUEST_SENT unless
 * a definite answer said the change did not happen. The core starts each operation with
 * cf_inst_change_reset(); the toolkit notes what each state-changing request did; the core
 * applies the rule to whatever the operation then returns (an allocation failure included). */
#define CF_CHANGE_NONE    0 /* no change sent, or each one definitely refused or proven undone */
#define CF_CHANGE_MAYBE   1 /* a change was sent and no definite answer came back */
#define CF_CHANGE_APPLIED 2 /* a change was answered with success */
void cf_inst_change_reset(cf_inst *inst);
/* Records a change's outcome (the stronger of this and an earlier one is kept), with `what`
 * ("roll token <id>") and `recovery` (what the host should do if the outcome stays unknown),
 * copied and cut to fit; never a secret. */
void cf_inst_change_note(cf_inst *inst, int change, const char *what, const char *recovery);
/* CF_CHANGE_*, with the noted texts ("" when none). */
int cf_inst_change(const cf_inst *inst, const char **what, const char **recovery);

/* Current time as Unix seconds (wall clock). */
int64_t cf_inst_now(const cf_inst *inst);

/* Logs one line through the host callback, redacted. */
#define cf_log(inst, level, ...) plog_write(cf_inst_log(inst), (level), __VA_ARGS__)

#endif
