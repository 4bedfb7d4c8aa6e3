/* SPDX-License-Identifier: MIT */
/* timefmt.c - RFC 3339 timestamps and Go durations, with no libc time state (no timegm, no TZ). */
#include "timefmt.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The inverse: a day number into year, month, day. */
static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

int rfc3339_format(int64_t unix_secs, char *buf, size_t cap)
{
    int64_t days, secs, y, m, d;

    if (buf == NULL || cap < RFC3339_LEN)
        return -1;
    days = unix_secs / 86400;
    secs = unix_secs % 86400;
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        return -1;
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, (int)m, (int)d, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60));
    return 0;
}

/* Reads n digits at s[*pos] into *out. */
static bool read_digits(const char *s, size_t len, size_t *pos, int n, int *out)
{
    int v = 0, i;

    if (*pos + (size_t)n > len)
        return false;
    for (i = 0; i < n; i++) {
        char c = s[*pos + (size_t)i];

        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *pos += (size_t)n;
    *out = v;
    return true;
}

static bool expect(const char *s, size_t len, size_t *pos, char c)
{
    if (*pos >= len || s[*pos] != c)
        return false;
    (*pos)++;
    return true;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int rfc3339_parse(const char *s, size_t len, int64_t *out)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    size_t pos = 0;
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    int64_t t;

    if (s == NULL || out == NULL)
        return -1;
    if (!read_digits(s, len, &pos, 4, &y) || !expect(s, len, &pos, '-') ||
        !read_digits(s, len, &pos, 2, &mo) || !expect(s, len, &pos, '-') ||
        !read_digits(s, len, &pos, 2, &d))
        return -1;
    if (pos >= len || (s[pos] != 'T' && s[pos] != 't'))
        return -1;
    pos++;
    if (!read_digits(s, len, &pos, 2, &h) || !expect(s, len, &pos, ':') ||
        !read_digits(s, len, &pos, 2, &mi) || !expect(s, len, &pos, ':') ||
        !read_digits(s, len, &pos, 2, &sec))
        return -1;
    if (pos < len && s[pos] == '.') {
        size_t start = ++pos;

        while (pos < len && s[pos] >= '0' && s[pos] <= '9')
            pos++;
        if (pos == start)
            return -1;
    }
    if (pos < len && (s[pos] == 'Z' || s[pos] == 'z')) {
        pos++;
    } else if (pos < len && (s[pos] == '+' || s[pos] == '-')) {
        sign = s[pos] == '-' ? -1 : 1;
        pos++;
        if (!read_digits(s, len, &pos, 2, &oh) || !expect(s, len, &pos, ':') ||
            !read_digits(s, len, &pos, 2, &om) || oh > 23 || om > 59)
            return -1;
    } else {
        return -1;
    }
    if (pos != len)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 60)
        return -1;
    if (d > mdays[mo - 1] + (mo == 2 && is_leap(y)))
        return -1;
    if (sec == 60) /* a leap second: fold into the next second's minute boundary */
        sec = 59;
    t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    t -= (int64_t)sign * (oh * 3600 + om * 60);
    *out = t;
    return 0;
}

/* Unit multipliers in nanoseconds; "ms" comes before "m" so it is not read as minutes. */
static const struct {
    const char *name;
    size_t len;
    int64_t ns;
} duration_units[] = {
    {"ns", 2, 1},
    {"us", 2, 1000},
    {"\xc2\xb5s", 3, 1000}, /* µs, U+00B5 MICRO SIGN */
    {"\xce\xbcs", 3, 1000}, /* μs, U+03BC GREEK SMALL LETTER MU, as Go accepts */
    {"ms", 2, 1000000},
    {"s", 1, 1000000000},
    {"m", 1, 60LL * 1000000000},
    {"h", 1, 3600LL * 1000000000},
};

int duration_parse_ms(const char *s, size_t len, int64_t *out_ms)
{
    /* Accumulated in nanoseconds, as Go does, then cut to milliseconds. */
    const int64_t max_ns = INT64_MAX;
    int64_t total = 0;
    size_t pos = 0;

    if (s == NULL || out_ms == NULL || len == 0)
        return -1;
    if (len == 1 && s[0] == '0') {
        *out_ms = 0;
        return 0;
    }
    if (s[0] == '+')
        pos++;
    if (pos >= len)
        return -1;
    while (pos < len) {
        int64_t whole = 0, frac = 0, scale = 1, unit = 0, v, fpart;
        bool digits = false, fdigits = false;
        size_t u;

        while (pos < len && s[pos] >= '0' && s[pos] <= '9') {
            if (whole > (INT64_MAX - 9) / 10)
                return -1;
            whole = whole * 10 + (s[pos] - '0');
            digits = true;
            pos++;
        }
        if (pos < len && s[pos] == '.') {
            pos++;
            while (pos < len && s[pos] >= '0' && s[pos] <= '9') {
                /* keep 18 significant fractional digits; ignore the rest */
                if (scale < 1000000000000000000LL) {
                    frac = frac * 10 + (s[pos] - '0');
                    scale *= 10;
                }
                fdigits = true;
                pos++;
            }
        }
        if (!digits && !fdigits)
            return -1;
        for (u = 0; u < sizeof(duration_units) / sizeof(duration_units[0]); u++) {
            size_t n = duration_units[u].len;

            if (pos + n <= len && memcmp(s + pos, duration_units[u].name, n) == 0) {
                unit = duration_units[u].ns;
                pos += n;
                break;
            }
        }
        if (unit == 0)
            return -1;
        if (whole > max_ns / unit)
            return -1;
        v = whole * unit;
        /* frac/scale of a unit, computed without overflow: unit <= 3.6e12, frac < scale <= 1e18 */
        fpart = (int64_t)((long double)frac * (long double)unit / (long double)scale);
        if (fpart > max_ns - v || total > max_ns - v - fpart)
            return -1;
        v += fpart;
        total += v;
    }
    *out_ms = total / 1000000;
    return 0;
}
