/* SPDX-License-Identifier: MIT */
/* error.h - filling the caller-owned rotp_error: one place that formats, bounds and redacts
 * messages, so no secret can reach an error message by accident. */
#ifndef ROTP_ERROR_H
#define ROTP_ERROR_H

#include <stdint.h>

#include "rotp.h"

/* Resets *err to ROTP_E_OK with an empty message (only the fields that fit its struct_size).
 * NULL-tolerant. */
void rerr_clear(rotp_error *err);
/* Sets code and a printf-formatted message (truncated to fit, run through the redactor's
 * pattern rules), leaving the other fields as they are. Returns code, so callers can write
 * `return rerr_set(err, ROTP_E_INVALID_ARGUMENT, "id: not 32 lowercase hex");`. NULL-tolerant. */
int32_t rerr_set(rotp_error *err, int32_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets the HTTP-related fields when they fit the struct_size the host gave. */
void rerr_http(rotp_error *err, int32_t http_status, int32_t api_code, uint32_t retryable,
               uint64_t retry_after_ms);
/* Ors flags (ROTP_ERRF_*) into err->flags when the field fits. */
void rerr_flag(rotp_error *err, uint32_t flags);
/* Copies every field of src (a complete rotp_error) that fits dst's struct_size. NULL-tolerant
 * for dst. */
void rerr_copy(rotp_error *dst, const rotp_error *src);
/* Zeroes a provider-owned, complete rotp_error and sets its struct_size. */
void rerr_init(rotp_error *err);
/* The static message for a code (the provider's strerror); never NULL. */
const char *rerr_message(int32_t code);
/* The code's name without prefix, e.g. "OUTCOME_UNKNOWN"; "UNKNOWN" for others. */
const char *rerr_name(int32_t code);

#endif
