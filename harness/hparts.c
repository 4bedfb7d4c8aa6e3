/* SPDX-License-Identifier: MIT */
/* hparts.c - the secret's parts: from dotenv text or a whole value, by the kind's descriptor. */
#include "hparts.h"

#include <stdio.h>
#include <string.h>

#include "creds.h"

void hparts_clear(hparts *p)
{
    if (p == NULL)
        return;
    for (uint32_t i = 0; i < p->n; i++)
        secret_free(p->val[i]);
    memset(p, 0, sizeof(*p));
}

int hparts_set(hparts *p, const char *key, const char *v, size_t len, bool secret)
{
    uint32_t i;
    secret_buf *sb;
    if (strlen(key) >= sizeof(p->key[0]))
        return -1;
    for (i = 0; i < p->n; i++) {
        if (strcmp(p->key[i], key) == 0)
            break;
    }
    if (i == HPARTS_MAX)
        return -1;
    sb = secret_new(v, len);
    if (sb == NULL)
        return -1;
    if (i < p->n)
        secret_free(p->val[i]);
    else
        p->n++;
    snprintf(p->key[i], sizeof(p->key[i]), "%s", key);
    p->val[i] = sb;
    p->secret[i] = secret;
    return 0;
}

const secret_buf *hparts_get(const hparts *p, const char *key)
{
    for (uint32_t i = 0; i < p->n; i++) {
        if (strcmp(p->key[i], key) == 0)
            return p->val[i];
    }
    return NULL;
}

const rotp_params *hparts_params(hparts *p)
{
    if (p->n == 0)
        return NULL;
    for (uint32_t i = 0; i < p->n; i++) {
        rotp_param *q = &p->items[i];
        q->struct_size = sizeof(*q);
        q->flags = p->secret[i] ? ROTP_PARAM_SECRET : 0;
        q->key = p->key[i];
        q->value = p->val[i]->data;
        q->value_len = p->val[i]->len;
    }
    p->params.struct_size = sizeof(p->params);
    p->params.count = p->n;
    p->params.items = p->items;
    return &p->params;
}

static const rotp_part_info *part_at(const rotp_kind_info *k, uint32_t i)
{
    return (const rotp_part_info *)((const char *)k->parts + (size_t)k->parts[0].struct_size * i);
}

/* The dotenv names a part may have: NAME or NAME__SUFFIX (with a name), then env_name. */
static int names_for(const rotp_kind_info *k, const rotp_part_info *pi, const char *name,
                     char (*out)[192])
{
    int n = 0;
    if (name != NULL) {
        if (pi->flags & ROTP_PART_PRIMARY) {
            snprintf(out[n++], sizeof(out[0]), "%s", name);
        } else {
            char up[64];
            size_t j = 0;
            for (uint32_t c = 0; c < k->ncompanions; c++) {
                const rotp_companion_info *ci =
                    (const rotp_companion_info *)((const char *)k->companions +
                                                  (size_t)k->companions[0].struct_size * c);
                if (ci->key != NULL && strcmp(ci->key, pi->key) == 0)
                    snprintf(out[n++], sizeof(out[0]), "%s__%s", name, ci->suffix);
            }
            for (; pi->key[j] != '\0' && j + 1 < sizeof(up); j++)
                up[j] =
                    (pi->key[j] >= 'a' && pi->key[j] <= 'z') ? (char)(pi->key[j] - 32) : pi->key[j];
            up[j] = '\0';
            snprintf(out[n++], sizeof(out[0]), "%s__%s", name, up);
        }
    }
    if (pi->env_name != NULL)
        snprintf(out[n++], sizeof(out[0]), "%s", pi->env_name);
    return n;
}

int hparts_from_text(hparts *p, const rotp_kind_info *k, const char *text, size_t len,
                     const char *name)
{
    const rotp_part_info *primary = NULL;
    hparts_clear(p);
    for (uint32_t i = 0; k->parts != NULL && i < k->nparts; i++) {
        const rotp_part_info *pi = part_at(k, i);
        char cand[6][192];
        int nc = names_for(k, pi, name, cand);
        bool nomem = false;
        if ((pi->flags & ROTP_PART_PRIMARY) || (primary == NULL && i == 0 && k->nparts == 1))
            primary = pi;
        for (int c = 0; c < nc; c++) {
            secret_buf *v = creds_dotenv_get(text, len, cand[c], &nomem);
            if (nomem)
                return -1;
            if (v == NULL)
                continue;
            int rc = v->len > 0 ? hparts_set(p, pi->key, v->data, v->len,
                                             (pi->flags & ROTP_PART_SECRET) != 0)
                                : 0;
            secret_free(v);
            if (rc != 0)
                return -1;
            break;
        }
    }
    if (primary != NULL && hparts_get(p, primary->key) == NULL) {
        /* Not dotenv text: the whole value (one trailing newline already stripped). */
        if (hparts_set(p, primary->key, text, len, (primary->flags & ROTP_PART_SECRET) != 0) != 0)
            return -1;
    }
    return 0;
}

int hparts_read(hparts *p, const hopts *o, const rotp_kind_info *k)
{
    secret_buf *raw = NULL;
    int rc = creds_secret_raw(o, &raw);
    hparts_clear(p);
    if (rc != HX_OK || raw == NULL)
        return rc;
    if (hparts_from_text(p, k, raw->data, raw->len, o->secret_name) != 0) {
        fprintf(stderr, "rotp-harness: out of memory\n");
        rc = HX_OTHER;
    }
    secret_free(raw);
    for (uint32_t i = 0; rc == HX_OK && i < k->nparts; i++) {
        const rotp_part_info *pi = part_at(k, i);
        const char *flagval = o->client_id; /* --client-id: the kind's part client_id */
        if (flagval != NULL && strcmp(pi->key, "client_id") == 0 &&
            hparts_set(p, pi->key, flagval, strlen(flagval), false) != 0)
            rc = HX_OTHER;
    }
    if (rc == HX_OK && hparts_get(p, "") == NULL && p->n > 0) {
        for (uint32_t i = 0; i < p->n; i++) {
            if (p->secret[i] && p->val[i]->len == 0) {
                fprintf(stderr, "rotp-harness: the secret's value in the dotenv text is empty\n");
                rc = HX_USAGE;
            }
        }
    }
    if (rc != HX_OK)
        hparts_clear(p);
    return rc;
}
