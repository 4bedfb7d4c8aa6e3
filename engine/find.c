/* SPDX-License-Identifier: MIT */
/* find.c - finding credentials a run created by the run id in their names (a NEW_ID roll or a
 * provision whose answer was lost), through the kind's list operation. */
#include <stdio.h>
#include <string.h>

#include "engine_int.h"
#include "json.h"

/* The list result's JSON array of {id, name, ...} (the first json result key of list). */
static const char *items_of(const erun *c, const eres *h)
{
    for (uint32_t i = 0; i < c->ki->nresult_keys; i++) {
        const rotp_key_info *k =
            (const rotp_key_info *)((const char *)c->ki->result_keys +
                                    (size_t)c->ki->result_keys[0].struct_size * i);
        if ((k->ops & ROTP_OP_LIST) && k->format != NULL && strcmp(k->format, "json") == 0)
            return eres_get(h, k->key, NULL);
    }
    return NULL;
}

static int pick_ids(const char *items, const char *needle, const char *skip_id, char (*ids)[128],
                    int max)
{
    json_doc d;
    int n = 0;
    if (items == NULL || json_parse(&d, items, strlen(items)) != JSON_OK)
        return 0;
    for (int i = 0; json_is_array(&d, 0) && n < max; i++) {
        char name[512] = "";
        int e = json_at(&d, 0, i);
        if (e < 0)
            break;
        int t = json_get(&d, e, "id");
        int nt = json_get(&d, e, "name");
        if (nt < 0 || json_strcpy(&d, nt, name, sizeof(name)) != 0 || strstr(name, needle) == NULL)
            continue;
        if (t >= 0 && json_strcpy(&d, t, ids[n], sizeof(ids[0])) == 0 && ids[n][0] != '\0' &&
            (skip_id == NULL || strcmp(ids[n], skip_id) != 0))
            n++;
    }
    json_free(&d);
    return n;
}

int er_find_by_name(erun *c, const char *needle, const char *skip_id, char (*ids)[128], int max,
                    int32_t *code)
{
    ereq req;
    eres h;
    int n = 0;
    ereq_init(&req);
    erun_req(c, &req, ROTP_OP_LIST, NULL);
    *code = erun_call(c, ROTP_OP_LIST, &req, &h);
    if (*code == ROTP_E_OK)
        n = pick_ids(items_of(c, &h), needle, skip_id, ids, max);
    eres_free(&h);
    return n;
}
