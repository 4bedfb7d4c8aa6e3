/* SPDX-License-Identifier: MIT */
/* params.h - reading ABI requests and configs (rotp_params) and building results (rotp_result).
 *
 * Requests are borrowed key/value arrays, checked against the self-description the provider
 * publishes (rotp_key_info, ABI 1.1), so the tables hosts read are the very rules applied:
 * unknown keys are an error (a typo never drops an option), required keys and one_of groups are
 * enforced, values are checked for their format and range. Results are built in a
 * result_builder, then handed over as one allocation that result_free() wipes (every value,
 * secret or not) and frees. */
#ifndef ROTP_PARAMS_H
#define ROTP_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rotp.h"
#include "secret.h"

#define PARAM_VALUE_MAX 65536 /* longer request values are an invalid argument */

/* Checks the array's shape: struct sizes (at least ABI 1.0's, one stride for all items), a key
 * on every item, no key twice, every value within PARAM_VALUE_MAX and free of NUL bytes. Which
 * keys are allowed is preq_check()'s business. `what` names the array in messages ("request",
 * "config"). ROTP_E_OK or INVALID_ARGUMENT. */
int32_t params_check(const rotp_params *p, const char *what, rotp_error *err);
/* The value of key (not NUL-terminated; *len set), or NULL when absent. Call params_check() first.
 */
const char *params_get(const rotp_params *p, const char *key, size_t *len);
/* The param itself (for its flags), or NULL. */
const rotp_param *params_find(const rotp_params *p, const char *key);

/* A request or config checked against its description (ABI 1.1: the kind's request keys, or the
 * provider's config keys), read through the accessors below, which know the described defaults.
 * Borrowed: valid while the rotp_params it was made from is. */
typedef struct preq {
    const rotp_params *params;
    const rotp_key_info *keys; /* the description it was checked against */
    uint32_t nkeys;
    uint32_t op; /* the ROTP_OP_* bit it was checked for; 0 for a config */
} preq;

/* Checks p (params_check() first) against keys[0..nkeys) for operation `op` (one ROTP_OP_* bit;
 * 0 for a config, where every described key is taken and ROTP_KEY_REQUIRED_CONFIG marks the
 * required ones): every key is `implicit` (NULL: none) or described for op; the keys op requires
 * are present; of each one_of group exactly one key is present where the group is required and
 * at most one elsewhere; every value has its key's format (ABI.md section 15.2: the empty value
 * only for "text") and, for "int", its range. `what` names the request in messages (e.g.
 * "cloudflare.user_token roll"); values are never echoed. Fills *out on success.
 * ROTP_E_OK or INVALID_ARGUMENT naming the key. */
int32_t preq_check(preq *out, const rotp_params *p, const rotp_key_info *keys, uint32_t nkeys,
                   uint32_t op, const char *implicit, const char *what, rotp_error *err);
/* The description of key, or NULL when it is not described. */
const rotp_key_info *preq_info(const preq *r, const char *key);
/* true when the request carries key. */
bool preq_has(const preq *r, const char *key);
/* The value of key as sent (not NUL-terminated; *len set), or NULL when absent. */
const char *preq_get(const preq *r, const char *key, size_t *len);
/* Copies the value of key, or else its described default, or else "", into buf (NUL-terminated).
 * ROTP_E_OK, or INVALID_ARGUMENT when it does not fit cap. */
int32_t preq_str(const preq *r, const char *key, char *buf, size_t cap, rotp_error *err);
/* The value of an "int" key (checked by preq_check), or its described default, or 0. */
int64_t preq_int(const preq *r, const char *key);
/* The value of a "bool" key (checked by preq_check), or its described default, or false. */
bool preq_bool(const preq *r, const char *key);

/* Format checks of ABI.md section 15.2, shared with tests: true when value[0..len) is a valid
 * `format` value (an unknown format is false); for "int" also within [min, max] when min < max,
 * and for "enum" one of choices. */
bool params_format_ok(const char *format, const char *value, size_t len, int64_t min, int64_t max,
                      const char *const *choices);

typedef struct result_builder {
    rotp_param *items;
    uint32_t count;
    uint32_t cap;
    bool failed; /* an add failed: finish reports NO_MEMORY */
} result_builder;

void rb_init(result_builder *rb);
/* Adds a copy of value (len bytes). Errors are sticky and reported by rb_finish(). */
void rb_add(result_builder *rb, const char *key, const char *value, size_t len, uint32_t flags);
void rb_adds(result_builder *rb, const char *key, const char *value); /* NULL value: skipped */
void rb_addf(result_builder *rb, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rb_add_secret(result_builder *rb, const char *key, const secret_buf *s); /* SECRET flag */
/* Value of key already added (NUL-terminated), or NULL. */
const char *rb_get(const result_builder *rb, const char *key);
/* Moves the items into res (whose struct_size the host set). ROTP_E_OK, or NO_MEMORY with err
 * set and everything wiped and freed. The builder is empty afterwards either way. */
int32_t rb_finish(result_builder *rb, rotp_result *res, rotp_error *err);
/* Wipes and frees what the builder holds; NULL-tolerant. */
void rb_free(result_builder *rb);
/* The ABI's result_free(): wipes every value and frees; resets res; NULL-tolerant. */
void params_result_free(rotp_result *res);

#endif
