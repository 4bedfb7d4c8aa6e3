/* SPDX-License-Identifier: MIT */
/* perm.c - lookups over the permission-group catalogue (perm.h). */
#include "perm.h"

#include <stdio.h>
#include <string.h>

const cf_perm_group *perm_by_id(const char *id, size_t len)
{
    if (len != 32)
        return NULL;
    for (size_t i = 0; i < cf_perm_table_len; i++) {
        if (memcmp(cf_perm_table[i].id, id, len) == 0)
            return &cf_perm_table[i];
    }
    return NULL;
}

perm_lookup perm_by_name(const char *name, const char *scope, const cf_perm_group **out)
{
    const cf_perm_group *found = NULL;

    *out = NULL;
    for (size_t i = 0; i < cf_perm_table_len; i++) {
        const cf_perm_group *g = &cf_perm_table[i];

        if (strcmp(g->name, name) != 0 || (scope != NULL && strcmp(g->scope, scope) != 0))
            continue;
        if (found != NULL)
            return PERM_AMBIGUOUS;
        found = g;
    }
    if (found == NULL)
        return PERM_UNKNOWN;
    *out = found;
    return PERM_FOUND;
}

const cf_perm_group *perm_write_of(const cf_perm_group *g)
{
    char want[160];
    size_t n;
    const cf_perm_group *w;

    if (g == NULL)
        return NULL;
    n = strlen(g->name);
    if (n <= 5 || strcmp(g->name + n - 5, " Read") != 0 || n + 1 > sizeof(want))
        return NULL;
    snprintf(want, sizeof(want), "%.*s Write", (int)(n - 5), g->name);
    return perm_by_name(want, g->scope, &w) == PERM_FOUND ? w : NULL;
}

int perm_check(void)
{
    static const struct {
        const char *id, *name, *scope;
    } enforced[] = {
        {CF_PG_API_TOKENS_READ, "API Tokens Read", CF_PG_SCOPE_USER},
        {CF_PG_API_TOKENS_WRITE, "API Tokens Write", CF_PG_SCOPE_USER},
        {CF_PG_ACCOUNT_API_TOKENS_READ, "Account API Tokens Read", CF_PG_SCOPE_ACCOUNT},
        {CF_PG_ACCOUNT_API_TOKENS_WRITE, "Account API Tokens Write", CF_PG_SCOPE_ACCOUNT},
        {CF_PG_ACCESS_SERVICE_TOKENS_READ, "Access: Service Tokens Read", CF_PG_SCOPE_ACCOUNT},
        {CF_PG_ACCESS_SERVICE_TOKENS_WRITE, "Access: Service Tokens Write", CF_PG_SCOPE_ACCOUNT},
    };

    for (size_t i = 0; i < sizeof(enforced) / sizeof(enforced[0]); i++) {
        const cf_perm_group *g = perm_by_id(enforced[i].id, strlen(enforced[i].id));

        if (g == NULL || strcmp(g->name, enforced[i].name) != 0 ||
            strcmp(g->scope, enforced[i].scope) != 0 ||
            (i % 2 == 0 && perm_write_of(g) != perm_by_id(enforced[i + 1].id, 32))) {
            fprintf(stderr, "cfemu: the permission-group catalogue lacks %s (%s)\n",
                    enforced[i].name, enforced[i].id);
            return -1;
        }
    }
    return 0;
}
