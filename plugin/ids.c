/* SPDX-License-Identifier: MIT */
/* ids.c - identifier and header-value checks. */
#include "ids.h"

static bool is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool id_is_hex32(const char *s, size_t len)
{
    size_t i;

    if (s == NULL || len != 32)
        return false;
    for (i = 0; i < len; i++) {
        if (!is_lower_hex(s[i]))
            return false;
    }
    return true;
}

bool id_is_run_id(const char *s, size_t len, size_t max)
{
    size_t i;

    if (s == NULL || len == 0 || len > max)
        return false;
    for (i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

bool id_is_uuid(const char *s, size_t len)
{
    size_t i;

    if (s == NULL || len != 36)
        return false;
    for (i = 0; i < len; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!is_lower_hex(s[i])) {
            return false;
        }
    }
    return true;
}

bool header_value_ok(const char *s, size_t len, size_t max)
{
    size_t i;

    if (s == NULL || len > max)
        return false;
    for (i = 0; i < len; i++) {
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
            return false;
    }
    return true;
}

bool secret_shape_ok(const char *s, size_t len)
{
    size_t i = 0;

    if (s == NULL || len == 0 || len > 512)
        return false;
    for (; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';

        if (!ok)
            break;
    }
    if (i == 0)
        return false;
    for (; i < len; i++) {
        if (s[i] != '=')
            return false;
    }
    return true;
}
