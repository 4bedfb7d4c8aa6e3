/* SPDX-License-Identifier: MIT */
/* harden.h - the process hardening a host that handles secrets does before it loads a provider
 * (abi/ABI.md, "Process hardening for hosts").
 *
 * The provider wipes every buffer of its own before freeing it, but libcurl and OpenSSL keep
 * copies of what goes over the wire (header lines with the management token, TLS records with a
 * rolled secret) in blocks of their own. Their allocators are process-wide, so only the host may
 * replace them: harden_process() installs allocation functions that wipe every block on free and
 * on realloc, for OpenSSL (CRYPTO_set_mem_functions) and for libcurl (curl_global_init_mem), and
 * turns off core dumps and ptrace-style access by other processes of the same user. */
#ifndef HARNESS_HARDEN_H
#define HARNESS_HARDEN_H

#include <stddef.h>

/* Call once, first thing in main(), before anything uses libcurl or OpenSSL (and before a
 * provider is loaded). Installs the wiping allocators, sets RLIMIT_CORE to 0 and
 * PR_SET_DUMPABLE to 0. Returns 0, or -1 with a message in msg (cap bytes) when the allocators
 * could not be installed (OpenSSL or libcurl was already in use); the limits are set either
 * way. */
int harden_process(char *msg, size_t cap);

/* The wiping free: wipes the block's whole usable size, then frees it. NULL-tolerant. Exposed
 * for the tests. */
void harden_free(void *ptr);
/* The wiping realloc: a fresh block, the content copied, the old block wiped and freed. Like
 * realloc(): NULL ptr allocates, size 0 frees and returns NULL, NULL on failure (the old block
 * is then untouched). */
void *harden_realloc(void *ptr, size_t size);

#endif
