/* SPDX-License-Identifier: MIT */
/* hparts.h - a credential's secret as the harness holds it: one value per part the kind
 * describes (rotp_part_info), picked out of the text of --secret-file/--secret-env/--secret-stdin
 * or a sink's dotenv file, and handed to the engine as rotp_params. */
#ifndef HARNESS_HPARTS_H
#define HARNESS_HPARTS_H

#include <stdbool.h>
#include <stddef.h>

#include "harness.h"
#include "rotp.h"
#include "secret.h"

#define HPARTS_MAX 4

typedef struct hparts {
    uint32_t n;
    char key[HPARTS_MAX][64];
    secret_buf *val[HPARTS_MAX];
    bool secret[HPARTS_MAX];
    rotp_param items[HPARTS_MAX];
    rotp_params params;
} hparts;

/* Wipes and frees the values. NULL-tolerant. */
void hparts_clear(hparts *p);
/* Sets part key (replacing it). 0, -1 on OOM or when full. */
int hparts_set(hparts *p, const char *key, const char *v, size_t len, bool secret);
/* The value of part key, or NULL. */
const secret_buf *hparts_get(const hparts *p, const char *key);
/* The parts as params (valid while p lives and is not changed), NULL when there are none. */
const rotp_params *hparts_params(hparts *p);

/* Picks the parts of kind k out of text: dotenv lines NAME (the primary part) and NAME__<SUFFIX>
 * (a companion carrying a part, or the part's key in capitals) when name is given, else the parts'
 * conventional names (rotp_part_info.env_name); without any of them, the whole text is the
 * primary part. 0, or -1 on OOM. */
int hparts_from_text(hparts *p, const rotp_kind_info *k, const char *text, size_t len,
                     const char *name);

/* Reads the secret from the one source o gives (--secret-file, --secret-env, --secret-stdin),
 * picking parts as hparts_from_text does with --secret-name, then adds --client-id as the part
 * client_id when the kind has it. HX_OK (p empty when no source was given) or an HX_ code with a
 * message on stderr. */
int hparts_read(hparts *p, const hopts *o, const rotp_kind_info *k);

#endif
