/* SPDX-License-Identifier: MIT */
/* sandbox.c - the sandbox command: the engine provisions, rotates, checks and revokes throwaway
 * credentials; this prints the steps. */
#include "sandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "creds.h"
#include "host.h"
#include "output.h"

int sandbox_run(hprov *hp, const hopts *o, hreport *rep)
{
    hhost *h = calloc(1, sizeof(*h));
    int rc;
    if (h == NULL) {
        fprintf(stderr, "rotp-harness: out of memory\n");
        return HX_OTHER;
    }
    hopts so = *o; /* throwaway credentials: no journal, no audit */
    so.journal = NULL;
    so.audit = NULL;
    rc = hhost_open(h, hp, &so, rep, o->kind);
    if (rc == HX_OK) {
        rc = rotp_engine_sandbox(h->eng, &h->run, &h->res);
        if (rc != HX_OK && h->res.nsteps == 0 && h->res.message[0])
            fprintf(stderr, "rotp-harness: sandbox: %s\n", h->res.message);
    }
    hhost_close(h);
    free(h);
    return rc;
}

int cmd_sandbox(const hopts *o)
{
    hprov hp;
    secret_buf *mgmt = NULL;
    hreport *rep = calloc(1, sizeof(*rep));
    int rc;

    memset(&hp, 0, sizeof(hp));
    if (rep == NULL)
        return HX_OTHER;
    if (o->kind == NULL) {
        fprintf(stderr, "rotp-harness: sandbox needs --kind\n");
        free(rep);
        return HX_USAGE;
    }
    rc = prov_load(&hp, o);
    if (rc == HX_OK)
        rc = creds_mgmt(o, &mgmt);
    if (rc == HX_OK)
        rc = prov_open(&hp, o, mgmt);
    if (rc != HX_OK)
        goto out;
    rep->quiet = o->json;
    if (!o->json)
        printf("sandbox %s\n", o->kind);
    rc = sandbox_run(&hp, o, rep);
    if (o->json) {
        dynbuf b;
        dynbuf_init(&b, 4096);
        if (dynbuf_adds(&b, "\"kind\":") != 0 || dynbuf_json_cstr(&b, o->kind) != 0)
            dynbuf_reset(&b);
        out_json_report("sandbox", rc, rep, b.len ? b.data : NULL);
        dynbuf_free(&b);
    } else {
        printf("sandbox %s: %s\n", o->kind, rc == HX_OK ? "PASS" : "FAIL");
    }
out:
    secret_free(mgmt);
    prov_close(&hp);
    free(rep);
    return rc;
}
