/* SPDX-License-Identifier: MIT */
/* request.h - building rotp_params requests and configs from borrowed strings, calling a
 * provider operation, and reading its result.
 *
 * A request borrows every key and value: nothing is copied, so the strings (and any secret_buf
 * a secret value points into) must outlive the call. */
#ifndef HARNESS_REQUEST_H
#define HARNESS_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "loader.h"
#include "rotp.h"

#define HREQ_MAX 48

typedef struct hreq {
    rotp_param items[HREQ_MAX];
    uint32_t count;
    bool overflow;   /* an add did not fit: the caller reports a usage error */
    char num[4][24]; /* storage for numbers added with hreq_add_long */
    int nnum;
    char keys[HOPT_MAX_LIST][64]; /* storage for keys split from KEY=VALUE */
    int nkeys;
} hreq;

void hreq_init(hreq *r);
/* Adds key=value (NUL-terminated value). Replaces an earlier value of the same key. */
void hreq_add(hreq *r, const char *key, const char *value);
/* Adds key = a secret value of len bytes, flagged ROTP_PARAM_SECRET. */
void hreq_add_secret(hreq *r, const char *key, const char *value, size_t len);
/* Adds key = decimal text of v. */
void hreq_add_long(hreq *r, const char *key, long v);
/* Splits "KEY=VALUE" (the key is copied into the request, the value borrowed from kv) and adds
 * it. Refuses keys named like secrets (ending in secret, token, password, passphrase)
 * and malformed text: message on stderr naming `flag`, returns -1. */
int hreq_add_kv(hreq *r, const char *kv, const char *flag);
/* True when a key's name says it holds a secret (the check hreq_add_kv makes). */
bool hreq_key_looks_secret(const char *key);
/* The rotp_params view of the request (valid while r lives). */
rotp_params hreq_params(const hreq *r);

/* Adds the request keys the command line gives (--account, --zone, --probe-url, --probe-path as
 * the keys account_id, zone_id, probe_url, probe_path; --param KEY=VALUE when with_params), keeps
 * the last key of a one_of group of the kind k when several were given, then the environment
 * fallbacks k's descriptor names for keys not given (not for a one_of group already set). k may be
 * NULL (no fallbacks). 0, or -1 with a message (bad --param). */
int hreq_add_opts(hreq *r, const hopts *o, const rotp_kind_info *k, bool with_params);

/* The option the user typed for request key key (--account, --account-id, --param key=...), in
 * buf, or NULL when the key did not come from the command line. */
const char *hreq_flag_for(const hopts *o, const char *key, char *buf, size_t cap);

/* For a message that names request keys the user gave as options: " (account_id is --account)"
 * in out (empty when none), so errors name the flag the user typed. */
void hreq_name_flags(const hopts *o, const char *msg, char *out, size_t cap);

/* A finished call: its result (provider-owned until hres_free) and its error. */
typedef struct hres {
    rotp_result res;
    rotp_error err;
    int32_t code;
    const char *op;
    hprov *hp;
} hres;

/* Calls op ("describe", "roll", "verify", "revoke", "provision", "list") and returns its code
 * (ROTP_E_UNSUPPORTED for an optional op the provider lacks). Always hres_free afterwards. */
int32_t hcall(hprov *hp, const char *op, const hreq *req, hres *out);
/* Frees the result (the provider wipes secret values). NULL-tolerant, idempotent. */
void hres_free(hres *h);

/* The value of key in the result, or NULL; *len gets its length when non-NULL. */
const char *hres_get(const hres *h, const char *key, size_t *len);
/* Copies the value of key into buf (empty string when absent or too long). */
void hres_copy(const hres *h, const char *key, char *buf, size_t cap);
/* The i-th result item (stride-aware), or NULL past the end. */
const rotp_param *hres_item(const hres *h, uint32_t i);

/* Collects the "id" members of a list result's `items` JSON array into ids (at most max,
 * each < 128 bytes). Returns how many were found. */
int items_ids(const char *items, char (*ids)[128], int max);

#endif
