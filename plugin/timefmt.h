/* SPDX-License-Identifier: MIT */
/* timefmt.h - RFC 3339 timestamps as Cloudflare writes them ("2027-01-01T00:00:00Z", with or
 * without fractional seconds) and Go-style durations ("8760h", "2h45m", "300ms"). */
#ifndef ROTP_TIMEFMT_H
#define ROTP_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define RFC3339_LEN 21 /* "YYYY-MM-DDTHH:MM:SSZ" plus NUL */

/* Formats Unix seconds as UTC "YYYY-MM-DDTHH:MM:SSZ". 0, or -1 if cap < RFC3339_LEN. */
int rfc3339_format(int64_t unix_secs, char *buf, size_t cap);
/* Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)" into Unix seconds (fraction dropped).
 * 0, or -1 if malformed. */
int rfc3339_parse(const char *s, size_t len, int64_t *out);
/* Parses a Go duration (units ns, us, µs, ms, s, m, h; sequences like "2h45m") into
 * milliseconds. 0, or -1 if malformed or out of range. */
int duration_parse_ms(const char *s, size_t len, int64_t *out_ms);

#endif
