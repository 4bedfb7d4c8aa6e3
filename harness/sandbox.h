/* sandbox.h - the runbooks' sandbox validation on throwaway credentials: provision, rotate,
 * confirm new active and old dead, revoke, confirm gone; cleanup even when a step fails. */
#ifndef HARNESS_SANDBOX_H
#define HARNESS_SANDBOX_H

#include "harness.h"
#include "loader.h"

/* Runs the sandbox for o->kind on an open instance; steps go to rep. Returns the exit code of
 * the first failing step (HX_OK when all passed). */
int sandbox_run(hprov *hp, const hopts *o, hreport *rep);

int cmd_sandbox(const hopts *o);

#endif
