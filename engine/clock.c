/* SPDX-License-Identifier: MIT */
/* clock.c - time and run ids (a leaf: no other engine module). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "engine_int.h"
#include "timefmt.h"

void eng_now_rfc3339(char *buf, size_t cap)
{
    if (rfc3339_format((int64_t)time(NULL), buf, cap) != 0 && cap > 0)
        buf[0] = '\0';
}

void rotp_engine_make_run_id(char out[ROTP_ENGINE_RUN_ID_MAX + 1])
{
    unsigned char rnd[8];
    size_t got = 0;
    while (got < sizeof(rnd)) {
        ssize_t n = getrandom(rnd + got, sizeof(rnd) - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            uint64_t t =
                (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)out;
            memcpy(rnd, &t, sizeof(rnd));
            break;
        }
        got += (size_t)n;
    }
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", rnd[i]);
}
