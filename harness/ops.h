/* SPDX-License-Identifier: MIT */
/* ops.h - the single-operation commands: describe, roll, verify, revoke, list, provision. */
#ifndef HARNESS_OPS_H
#define HARNESS_OPS_H

#include "harness.h"

/* Runs o->command as one provider operation; prints the result; returns the exit code. */
int cmd_op(const hopts *o);

/* The `info` command: the provider, its kinds and keys. */
int cmd_info(const hopts *o);

#endif
