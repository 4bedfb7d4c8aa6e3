/* SPDX-License-Identifier: MIT */
/* consumer_engine.c - a host that links the rotation engine (rotp::engine, rotp_engine.h): it
 * resolves the engine's status names, the smallest call that needs the library itself. Exit 0
 * when the names are the documented ones. */
#include <stdio.h>
#include <string.h>

#include "rotp_engine.h"

int main(void)
{
    const char *ok = rotp_engine_status_name(ROTP_ENGINE_OK);
    const char *unknown = rotp_engine_status_name(ROTP_ENGINE_OUTCOME_UNKNOWN);

    printf("engine: status %d is %s, %d is %s\n", ROTP_ENGINE_OK, ok, ROTP_ENGINE_OUTCOME_UNKNOWN,
           unknown);
    return strcmp(ok, "OK") == 0 && strcmp(unknown, "OUTCOME_UNKNOWN") == 0 ? 0 : 1;
}
