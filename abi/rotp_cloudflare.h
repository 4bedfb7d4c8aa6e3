/* SPDX-License-Identifier: MIT */
/* rotp_cloudflare.h - the Cloudflare provider's own entry point, for hosts that link the
 * provider statically (librotp_cloudflare.a, CMake target rotp::cloudflare_static) instead of
 * loading cloudflare.so with dlopen.
 *
 * A statically linked provider cannot use the standard name rotp_provider_entry_v1: two providers
 * in one program would clash. Each provider therefore names its entry
 * rotp_<provider>_provider_entry_v<major> (abi/ABI.md, "Linking a provider statically"); it
 * behaves exactly like rotp_provider_entry_v1 (same type, rotp_entry_fn). The archive defines no
 * other global symbol. */
#ifndef ROTP_CLOUDFLARE_H
#define ROTP_CLOUDFLARE_H

#include "rotp.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(ROTP_STATIC_PROVIDER) && defined(__GNUC__)
#define ROTP_CLOUDFLARE_API __attribute__((visibility("default")))
#else
#define ROTP_CLOUDFLARE_API
#endif

/* The Cloudflare provider's table (see rotp_provider_entry_v1 in rotp.h for the contract). */
ROTP_CLOUDFLARE_API const rotp_provider *
rotp_cloudflare_provider_entry_v1(uint32_t host_minor, const rotp_host *host, rotp_error *err);

#ifdef __cplusplus
}
#endif

#endif
