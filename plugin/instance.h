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
/* Current time as Unix seconds (wall clock). */
int64_t cf_inst_now(const cf_inst *inst);

/* Logs one line through the host callback, redacted. */
#define cf_log(inst, level, ...) plog_write(cf_inst_log(inst), (level), __VA_ARGS__)

#endif
