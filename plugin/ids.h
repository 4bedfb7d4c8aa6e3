/* SPDX-License-Identifier: MIT */
/* ids.h - identifier and header-value checks, made before anything goes into a URL or header. */
#ifndef ROTP_IDS_H
#define ROTP_IDS_H

#include <stdbool.h>
#include <stddef.h>

/* Exactly 32 lowercase hex digits: API token, account, zone, user, policy ids. */
bool id_is_hex32(const char *s, size_t len);
/* A UUID: 8-4-4-4-12 hex digits, lowercase (Access service-token and app ids). */
bool id_is_uuid(const char *s, size_t len);
/* A run id (names journals and the tokens a run creates): 1 to max of [A-Za-z0-9_-]. */
bool id_is_run_id(const char *s, size_t len, size_t max);
/* false if s holds CR, LF or NUL, or is longer than max: anything that goes into a header. */
bool header_value_ok(const char *s, size_t len, size_t max);
/* A Cloudflare secret's safe shape: non-empty, at most 512 bytes, [-A-Za-z0-9._~+/]+ then '='s
 * (API-NOTES section 7). */
bool secret_shape_ok(const char *s, size_t len);

#endif
