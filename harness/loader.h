/* SPDX-License-Identifier: MIT */
/* loader.h - finds, pins (SHA-256), loads and checks a rotp ABI v1 provider, and opens an
 * instance of it with the harness's host services (a log callback to stderr under --verbose). */
#ifndef HARNESS_LOADER_H
#define HARNESS_LOADER_H

#include <limits.h>
#include <stdint.h>

#include "harness.h"
#include "rotp.h"
#include "secret.h"

typedef struct hprov {
    const rotp_provider *p; /* the provider's static table, checked */
    rotp_instance *inst;    /* NULL until prov_open() */
    uint32_t negotiated_minor;
    rotp_host host;
    char path[PATH_MAX];
    char sha256[65]; /* lowercase hex of the loaded bytes */
} hprov;

/* Loads the provider named by o->plugin (or the default path), checks --sha256, the entry symbol
 * and the table. Returns HX_OK, or HX_LOAD with a message on stderr. The library is never
 * unloaded. */
int prov_load(hprov *hp, const hopts *o);

/* Opens an instance with the management token `mgmt` (may be NULL: no api_token) and the config
 * from o (--api-base, --ca-file, --allow-insecure-loopback, --proxy, --config, each as the config
 * key of its role in the descriptor) and the environment variables the descriptor names for keys
 * not given (the management token when mgmt is NULL). Returns an
 * HX_* code; on failure a message is on stderr. */
int prov_open(hprov *hp, const hopts *o, const secret_buf *mgmt);

/* Closes the instance (the library stays loaded). NULL-tolerant. */
void prov_close(hprov *hp);

/* Maps a ROTP_E_* code to the harness exit code. */
int exit_code_for(int32_t rotp_code);
/* The NAME of a ROTP_E_* code ("NOT_FOUND"), "UNKNOWN_<n>" style text for codes we lack. */
const char *rotp_code_name(int32_t code);


#endif
