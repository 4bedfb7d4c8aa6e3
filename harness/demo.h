/* SPDX-License-Identifier: MIT */
/* demo.h - the offline demo: starts cfemu on loopback, rotates every seeded kind with both
 * service-token strategies, runs sandbox for each kind and prints a report. */
#ifndef HARNESS_DEMO_H
#define HARNESS_DEMO_H

#include "harness.h"

int cmd_demo(const hopts *o);

#endif
