/* SPDX-License-Identifier: MIT */
/* sandbox.h - the command sandbox over the engine (rotp_engine_sandbox): throwaway credentials
 * from the kind's sandbox descriptor, rotated, checked and revoked. */
#ifndef HARNESS_SANDBOX_H
#define HARNESS_SANDBOX_H

#include "harness.h"
#include "loader.h"

/* Runs the sandbox for o->kind on an open instance; steps go to rep. Returns the exit code of
 * the first failing step (HX_OK when all passed). */
int sandbox_run(hprov *hp, const hopts *o, hreport *rep);

int cmd_sandbox(const hopts *o);

#endif
