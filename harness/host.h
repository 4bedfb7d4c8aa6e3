/* SPDX-License-Identifier: MIT */
/* host.h - rotp-harness as the engine's host: the run built from the command line and the
 * provider's descriptors, and the callbacks that reach the sinks (--out, --exec,
 * --print-secret), the journal and audit files, and the step report. */
#ifndef HARNESS_HOST_H
#define HARNESS_HOST_H

#include <limits.h>

#include "harness.h"
#include "hparts.h"
#include "loader.h"
#include "request.h"
#include "rotp_engine.h"

typedef struct hhost {
    const hopts *o;
    hreport *rep;
    hprov *hp;
    const rotp_kind_info *ki;
    rotp_engine *eng;
    rotp_engine_host host;
    rotp_engine_run run;
    hreq req;
    rotp_params reqp;
    hreq rec; /* the host record: sinks and names, for resume */
    rotp_params recp;
    char aliases[1024];
    char out_abs[PATH_MAX + 8];
    char audit_abs[PATH_MAX + 8];
    char actor[64];
    hparts current;
    hparts delivered;
    uint64_t ncheck; /* checkpoints met (the kill-point build) */
    long kill_at;    /* $ROTP_HARNESS_KILL_AT in the kill-point build, 0: never */
    rotp_engine_result res;
} hhost;

/* Binds an engine to the open instance hp for kind (an unknown kind is a usage error with a
 * message), builds the run from o (request keys, strategy, overlap, sinks, verify settings).
 * with_request: take request keys from o (resume: from the journal unless given). HX_OK or an
 * exit code. On failure hhost_close still works. */
int hhost_open(hhost *h, hprov *hp, const hopts *o, hreport *rep, const char *kind);
void hhost_close(hhost *h);

/* The descriptor of kind in the loaded provider, or NULL with a message on stderr. */
const rotp_kind_info *hhost_kind(const hprov *hp, const char *kind);

#endif
