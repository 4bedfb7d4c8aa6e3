/* SPDX-License-Identifier: MIT */
/* secfile.c - the ownership and mode rule for files that hold secrets. */
#include "secfile.h"

#include <stdio.h>
#include <unistd.h>

const char *secfile_unsafe(const struct stat *st, const char *path, char *fix, size_t cap)
{
    if (!S_ISREG(st->st_mode) && !S_ISFIFO(st->st_mode)) {
        snprintf(fix, cap, "give a regular file or a pipe");
        return "is not a regular file or a pipe";
    }
    if (st->st_uid != geteuid() && st->st_uid != 0) {
        snprintf(fix, cap, "chown %u %s && chmod 600 %s", (unsigned)geteuid(), path, path);
        return "is owned by another user, who can read and change it";
    }
    if ((st->st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) != 0) {
        snprintf(fix, cap, "chmod 600 %s", path);
        return (st->st_mode & (S_IROTH | S_IWOTH)) != 0 ? "can be read or written by others"
                                                        : "can be read or written by its group";
    }
    return NULL;
}
