/* SPDX-License-Identifier: MIT */
/* rotate.h - the commands rotate (and --finish) and resume, over the engine; rotate_run is
 * shared with demo. */
#ifndef HARNESS_ROTATE_H
#define HARNESS_ROTATE_H

#include "harness.h"
#include "host.h"
#include "hparts.h"

/* Runs rotate (or finish when h->o->finish) on h's engine with the current secret (may be NULL);
 * the result is in h->res, steps go to h's report. Returns the exit code. */
int rotate_run(hhost *h, hparts *current);

int cmd_rotate(const hopts *o);
int cmd_resume(const hopts *o);

#endif
