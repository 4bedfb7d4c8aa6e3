/* params.h - reading ABI requests and configs (rotp_params) and building results (rotp_result).
 *
 * Requests are borrowed key/value arrays; unknown keys are an error so a typo never drops an
 * option. Results are built in a result_builder, then handed over as one allocation that
 * result_free() wipes (every value, secret or not) and frees. */
#ifndef ROTP_PARAMS_H
#define ROTP_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rotp.h"
#include "secret.h"

#define PARAM_VALUE_MAX 65536 /* longer request values are an invalid argument */

/* Checks the array's struct sizes, that every key is in `allowed` (NULL-terminated), that no key
 * appears twice and that every value is within PARAM_VALUE_MAX and holds no NUL byte.
 * `what` names the array in messages ("request", "config"). ROTP_E_OK or INVALID_ARGUMENT. */
int32_t params_check(const rotp_params *p, const char *const *allowed, const char *what,
                     rotp_error *err);
/* The value of key (not NUL-terminated; *len set), or NULL when absent. Call params_check() first. */
const char *params_get(const rotp_params *p, const char *key, size_t *len);
/* The param itself (for its flags), or NULL. */
const rotp_param *params_find(const rotp_params *p, const char *key);
/* Copies the value of key into buf (NUL-terminated). Absent: *buf = "" and ROTP_E_OK unless
 * required (then INVALID_ARGUMENT "missing <key>"). Too long for cap: INVALID_ARGUMENT. */
int32_t params_str(const rotp_params *p, const char *key, char *buf, size_t cap, bool required,
                   rotp_error *err);
/* Reads a decimal integer in [min, max]; absent gives def. Malformed: INVALID_ARGUMENT. */
int32_t params_int(const rotp_params *p, const char *key, int64_t def, int64_t min, int64_t max,
                   int64_t *out, rotp_error *err);
/* "1"/"true"/"yes" or "0"/"false"/"no"; absent gives def. */
int32_t params_bool(const rotp_params *p, const char *key, bool def, bool *out, rotp_error *err);

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
