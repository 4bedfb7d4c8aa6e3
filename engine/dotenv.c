/* SPDX-License-Identifier: MIT */
/* dotenv.c - the text a host's sinks write for a new secret (docs/rotp-harness.md, --out), built
 * from the kind's parts and companions only. */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "engine_int.h"

const rotp_param *rotp_engine_secret_part(const rotp_engine_secret *s, const char *key)
{
    if (s == NULL)
        return NULL;
    if (key == NULL && s->kind_info != NULL) {
        const rotp_part_info *pp = kd_primary_part(s->kind_info);
        key = pp != NULL ? pp->key : NULL;
    }
    for (uint32_t i = 0; key != NULL; i++) {
        const rotp_param *p = params_at(&s->parts, i);
        if (p == NULL)
            return NULL;
        if (p->key != NULL && strcmp(p->key, key) == 0)
            return p;
    }
    return NULL;
}

void rotp_engine_wipe_free(void *p, size_t len)
{
    if (p == NULL)
        return;
    secret_wipe(p, len);
    rotp__free(p);
}

static bool bare_ok(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr("-_.:/+=,@%~^", c) != NULL;
        if (!ok)
            return false;
    }
    return true;
}

/* Appends "KEYSUFFIX=value\n", quoting the value when dotenv needs it. 0 or -1 (OOM). */
static int line(secret_buf *sb, const char *key, const char *suffix, const char *v, size_t len)
{
    if (secret_append(sb, key, strlen(key)) != 0 ||
        secret_append(sb, suffix, strlen(suffix)) != 0 || secret_append(sb, "=", 1) != 0)
        return -1;
    if (bare_ok(v, len))
        return secret_append(sb, v, len) != 0 ? -1 : secret_append(sb, "\n", 1);
    if (secret_append(sb, "\"", 1) != 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        if (c == '\n') {
            if (secret_append(sb, "\\n", 2) != 0)
                return -1;
            continue;
        }
        if ((c == '\\' || c == '"' || c == '$' || c == '`') && secret_append(sb, "\\", 1) != 0)
            return -1;
        if (secret_append(sb, &c, 1) != 0)
            return -1;
    }
    if (secret_append(sb, "\"", 1) != 0)
        return -1;
    return secret_append(sb, "\n", 1);
}

/* Without names: the parts under their conventional names, or the bare primary value. */
static int unnamed(secret_buf *sb, const rotp_engine_secret *s)
{
    const rotp_kind_info *k = s->kind_info;
    bool all_named = k->nparts > 0;
    for (uint32_t i = 0; i < k->nparts; i++) {
        const rotp_part_info *pi = kd_part(k, i);
        all_named = all_named && pi != NULL && pi->env_name != NULL;
    }
    if (!all_named) {
        const rotp_param *p = rotp_engine_secret_part(s, NULL);
        if (p == NULL || secret_append(sb, p->value, (size_t)p->value_len) != 0)
            return -1;
        return secret_append(sb, "\n", 1);
    }
    for (uint32_t i = 0; i < k->nparts; i++) {
        const rotp_part_info *pi = kd_part(k, i);
        const rotp_param *p = rotp_engine_secret_part(s, pi->key);
        if (p != NULL && line(sb, pi->env_name, "", p->value, (size_t)p->value_len) != 0)
            return -1;
    }
    return 0;
}

static void upper(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src[i] != '\0' && i + 1 < cap; i++)
        dst[i] = (src[i] >= 'a' && src[i] <= 'z') ? (char)(src[i] - 'a' + 'A') : src[i];
    dst[i] = '\0';
}

/* NAME__SUFFIX lines: every companion of the kind (empty when unknown), then non-primary parts
 * that no companion carries. */
static int companions(secret_buf *sb, const rotp_engine_secret *s, const char *name)
{
    const rotp_kind_info *k = s->kind_info;
    const rotp_part_info *pp = kd_primary_part(k);
    for (uint32_t i = 0; i < k->ncompanions; i++) {
        const rotp_companion_info *ci = kd_companion(k, i);
        char suffix[48];
        size_t len = 0;
        const char *v = params_get(&s->companions, ci->suffix, &len);
        snprintf(suffix, sizeof(suffix), "__%s", ci->suffix);
        if (line(sb, name, suffix, v != NULL ? v : "", v != NULL ? len : 0) != 0)
            return -1;
    }
    for (uint32_t i = 0; i < k->nparts; i++) {
        const rotp_part_info *pi = kd_part(k, i);
        bool covered = pi == pp;
        for (uint32_t j = 0; j < k->ncompanions && !covered; j++)
            covered = strcmp(kd_companion(k, j)->key, pi->key) == 0;
        const rotp_param *p = covered ? NULL : rotp_engine_secret_part(s, pi->key);
        char suffix[80] = "__";
        if (p == NULL)
            continue;
        upper(suffix + 2, sizeof(suffix) - 2, pi->key);
        if (line(sb, name, suffix, p->value, (size_t)p->value_len) != 0)
            return -1;
    }
    return 0;
}

int32_t rotp_engine_format_dotenv(const rotp_engine_secret *s, const char *const *names,
                                  uint32_t nnames, char **out, size_t *len)
{
    secret_buf *sb;
    const rotp_param *primary;
    int rc = 0;

    if (out == NULL || len == NULL)
        return ROTP_ENGINE_USAGE;
    *out = NULL;
    *len = 0;
    if (s == NULL || s->kind_info == NULL || (primary = rotp_engine_secret_part(s, NULL)) == NULL)
        return ROTP_ENGINE_USAGE;
    sb = secret_new("", 0);
    if (sb == NULL)
        return ROTP_ENGINE_OTHER_FAILURE;
    if (nnames == 0)
        rc = unnamed(sb, s);
    for (uint32_t i = 0; rc == 0 && i < nnames; i++)
        rc = line(sb, names[i], "", primary->value, (size_t)primary->value_len);
    for (uint32_t i = 0; rc == 0 && i < nnames; i++)
        rc = companions(sb, s, names[i]);
    if (rc == 0) {
        *out = rotp__malloc(sb->len + 1);
        if (*out != NULL) {
            memcpy(*out, sb->data, sb->len);
            (*out)[sb->len] = '\0';
            *len = sb->len;
        }
    }
    secret_free(sb);
    return *out != NULL ? ROTP_ENGINE_OK : ROTP_ENGINE_OTHER_FAILURE;
}
