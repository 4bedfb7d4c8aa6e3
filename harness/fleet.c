/* SPDX-License-Identifier: MIT */
/* fleet.c - what the fleet commands share (fleet.h): provider, inventory, instances, secrets. */
#include "fleet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "creds.h"

static int load_inventory(fleet *f, const hopts *o)
{
    inv_issues *iss = rotp__calloc(1, sizeof(*iss));
    inv_status st;
    int rc = HX_USAGE;

    if (iss == NULL) {
        fprintf(stderr, "rotp-harness: out of memory\n");
        return HX_OTHER;
    }
    st = inv_load(&f->inv, o->inventory, iss);
    if (st == INV_OK)
        st = inv_check_kinds(&f->inv, f->kinds, iss);
    if (st == INV_OK || st == INV_EBAD) {
        if (inv_check_files(&f->inv, o->allow_unsafe_secret_files, iss) != INV_OK)
            st = INV_EBAD;
    }
    if (st == INV_ENOMEM) {
        fprintf(stderr, "rotp-harness: out of memory reading %s\n", o->inventory);
        rc = HX_OTHER;
    } else if (st != INV_OK) {
        inv_issues_print(iss, &f->inv, o->inventory, stderr);
        fprintf(stderr, "rotp-harness: %s: %d problem%s; nothing was done\n", o->inventory,
                iss->n + iss->dropped, iss->n + iss->dropped == 1 ? "" : "s");
    } else {
        rc = HX_OK;
    }
    rotp__free(iss);
    return rc;
}

static bool same_token_file(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Opens one instance with the management credential of token_file (NULL: the command line's). */
static void open_instance(fleet *f, fleet_inst *in)
{
    hopts o = *f->o;
    secret_buf *mgmt = NULL;

    in->hp = f->base;
    in->hp.inst = NULL;
    if (in->token_file != NULL)
        o.token_file = in->token_file;
    in->open_rc = creds_mgmt(&o, &mgmt);
    if (in->open_rc == HX_OK)
        in->open_rc = prov_open(&in->hp, &o, mgmt);
    secret_free(mgmt);
}

/* One instance per distinct management credential, in the order the entries name them. */
static int open_instances(fleet *f)
{
    f->insts = rotp__calloc((size_t)f->inv.n, sizeof(*f->insts));
    f->inst_of = rotp__calloc((size_t)f->inv.n, sizeof(*f->inst_of));
    if (f->insts == NULL || f->inst_of == NULL) {
        fprintf(stderr, "rotp-harness: out of memory\n");
        return HX_OTHER;
    }
    for (int i = 0; i < f->inv.n; i++) {
        const char *tf = f->inv.entries[i].token_file;
        int k = 0;
        while (k < f->ninst && !same_token_file(f->insts[k].token_file, tf))
            k++;
        if (k == f->ninst) {
            f->insts[k].token_file = tf;
            open_instance(f, &f->insts[k]);
            f->ninst++;
        }
        f->inst_of[i] = k;
    }
    return HX_OK;
}

int fleet_open(fleet *f, const hopts *o)
{
    int rc;

    memset(f, 0, sizeof(*f));
    f->o = o;
    if (o->inventory == NULL) {
        fprintf(stderr, "rotp-harness: %s needs --inventory FILE\n", o->command);
        return HX_USAGE;
    }
    rc = prov_load(&f->base, o);
    if (rc != HX_OK)
        return rc;
    if (!ROTP_HAS_FIELD(f->base.p, rotp_provider, kind_info) || f->base.p->kind_info == NULL ||
        f->base.negotiated_minor < 1) {
        fprintf(stderr,
                "rotp-harness: %s: the provider does not describe its kinds (ABI 1.1); "
                "an inventory cannot be checked against it\n",
                o->command);
        return HX_LOAD;
    }
    f->kinds = f->base.p->kind_info;
    rc = load_inventory(f, o);
    if (rc != HX_OK)
        return rc;
    return open_instances(f);
}

void fleet_close(fleet *f)
{
    if (f == NULL)
        return;
    for (int i = 0; i < f->ninst; i++)
        prov_close(&f->insts[i].hp);
    rotp__free(f->insts);
    rotp__free(f->inst_of);
    inv_free(&f->inv);
    memset(f, 0, sizeof(*f));
}

hprov *fleet_inst_for(fleet *f, int i, int *rc)
{
    fleet_inst *in = &f->insts[f->inst_of[i]];
    *rc = in->open_rc;
    return in->open_rc == HX_OK ? &in->hp : NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Descriptors
 * ------------------------------------------------------------------------------------------- */

const rotp_part_info *fleet_part_at(const rotp_kind_info *ki, uint32_t i)
{
    if (i >= ki->nparts)
        return NULL;
    return (const rotp_part_info *)((const char *)ki->parts + (size_t)i * ki->parts[0].struct_size);
}

const char *fleet_result_key(const rotp_kind_info *ki, uint32_t role, uint32_t op)
{
    for (uint32_t i = 0; i < ki->nresult_keys; i++) {
        const rotp_key_info *k =
            (const rotp_key_info *)((const char *)ki->result_keys +
                                    (size_t)i * ki->result_keys[0].struct_size);
        if (k->role == role && (k->ops & op) != 0)
            return k->key;
    }
    return NULL;
}

uint32_t fleet_state_meaning(const rotp_kind_info *ki, const char *state)
{
    for (uint32_t i = 0; i < ki->nstates && state != NULL; i++) {
        const rotp_state_info *s = (const rotp_state_info *)((const char *)ki->states +
                                                             (size_t)i * ki->states[0].struct_size);
        if ((s->ops & ROTP_OP_VERIFY) != 0 && strcmp(s->state, state) == 0)
            return s->meaning;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * The current secret
 * ------------------------------------------------------------------------------------------- */

/* True when the dotenv text has a line for key (*nomem on allocation failure). */
static bool has_line(const secret_buf *raw, const char *key, bool *nomem)
{
    secret_buf *v = creds_dotenv_get(raw->data, raw->len, key, nomem);
    bool yes = v != NULL;
    secret_free(v);
    return yes;
}

int fleet_read_secret(const fleet *f, const inv_entry *e, const char *path,
                      const rotp_kind_info *ki, hparts *out)
{
    secret_buf *raw = NULL;
    const char *name = e->name;
    bool nomem = false;
    int rc;

    hparts_clear(out);
    if (path == NULL || (access(path, F_OK) != 0 && errno == ENOENT))
        return HX_NOTFOUND;
    rc = creds_read_file_opt(path, "secret", f->o->allow_unsafe_secret_files, &raw);
    if (rc != HX_OK)
        return rc;
    if (!has_line(raw, name, &nomem)) {
        for (int a = 0; a < e->naliases && !nomem; a++) {
            if (has_line(raw, e->aliases[a], &nomem)) {
                name = e->aliases[a];
                break;
            }
        }
    }
    if (nomem || hparts_from_text(out, ki, raw->data, raw->len, name) != 0) {
        fprintf(stderr, "rotp-harness: out of memory\n");
        rc = HX_OTHER;
    }
    secret_free(raw);
    return rc;
}

int fleet_option(hopts *o, int which, const char *arg)
{
    char *end = NULL;
    long v;

    switch (which) {
    case FLEET_OPT_INVENTORY:
        o->inventory = arg;
        return 0;
    case FLEET_OPT_DUE_WITHIN:
        v = strtol(arg, &end, 10);
        if (arg[0] == '\0' || *end != '\0' || v < 0 || v > 3650) {
            fprintf(stderr, "rotp-harness: --due-within needs a number of days, 0 to 3650\n");
            return -1;
        }
        o->due_within = v;
        return 0;
    case FLEET_OPT_ALL:
        o->all = true;
        return 0;
    case FLEET_OPT_ONLY:
        if (o->nonly >= HOPT_MAX_LIST) {
            fprintf(stderr, "rotp-harness: too many --only\n");
            return -1;
        }
        o->only[o->nonly++] = arg;
        return 0;
    case FLEET_OPT_RESUME:
        o->resume = true;
        return 0;
    default:
        return -1;
    }
}
