/* SPDX-License-Identifier: MIT */
/* consumer.c - a host of the Cloudflare provider as another project writes one: it gets the
 * provider's table (dlopen of the installed or built cloudflare.so, or, with CONSUMER_STATIC,
 * the statically linked rotp_cloudflare_provider_entry_v1), reads its self-description, opens an
 * instance and calls describe for a kind (no id: no network, no real token needed). Prints what it
 * found; exit 0 only when every step worked. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "rotp.h"
#ifdef CONSUMER_STATIC
#include "rotp_cloudflare.h"
#endif

#define KIND "cloudflare.user_token"

/* The entry point: linked in, or looked up in the module. NULL with a message on failure. */
static rotp_entry_fn find_entry(void)
{
#ifdef CONSUMER_STATIC
    return rotp_cloudflare_provider_entry_v1;
#else
    rotp_entry_fn entry = NULL;
    void *dl = dlopen(CONSUMER_PROVIDER, RTLD_NOW | RTLD_LOCAL);

    if (dl == NULL) {
        fprintf(stderr, "consumer: dlopen %s: %s\n", CONSUMER_PROVIDER, dlerror());
        return NULL;
    }
    *(void **)&entry = dlsym(dl, ROTP_ENTRY_SYMBOL);
    if (entry == NULL)
        fprintf(stderr, "consumer: %s has no %s\n", CONSUMER_PROVIDER, ROTP_ENTRY_SYMBOL);
    return entry;
#endif
}

/* describe of KIND without id on a fresh instance: prints the result, returns 0 or 1. */
static int describe_kind(const rotp_provider *p, const rotp_host *host)
{
    rotp_error err = {.struct_size = sizeof(err)};
    /* describe without an id calls no API, so a placeholder management token will do; a real
     * host reads it from a file or a vault, never from argv. */
    static const char token[] = "placeholder-management-token";
    rotp_param cfg[] = {
        {sizeof(rotp_param), ROTP_PARAM_SECRET, "api_token", token, sizeof(token) - 1}};
    rotp_params config = {sizeof(config), 1, cfg};
    rotp_instance *inst = NULL;
    rotp_param rq[] = {{sizeof(rotp_param), 0, "kind", KIND, strlen(KIND)}};
    rotp_params req = {sizeof(req), 1, rq};
    rotp_result res = {.struct_size = sizeof(res)};
    int rc = 1;

    if (p->open(host, &config, &inst, &err) != ROTP_E_OK) {
        fprintf(stderr, "consumer: open: %s: %s\n", p->strerror(err.code), err.message);
        return 1;
    }
    if (p->describe(inst, &req, &res, &err) != ROTP_E_OK) {
        fprintf(stderr, "consumer: describe: %s: %s\n", p->strerror(err.code), err.message);
        goto out_close;
    }
    for (uint32_t i = 0; i < res.count; i++) {
        const rotp_param *it =
            (const rotp_param *)((const char *)res.items + (size_t)i * res.items[0].struct_size);
        printf("describe %s: %s=%s\n", KIND, it->key, it->value);
    }
    rc = res.count > 0 ? 0 : 1;
    p->result_free(&res);
out_close:
    p->close(inst);
    return rc;
}

int main(void)
{
    rotp_host host = {sizeof(host), 0, NULL, NULL};
    rotp_error err = {.struct_size = sizeof(err)};
    rotp_entry_fn entry = find_entry();
    const rotp_provider *p = entry != NULL ? entry(ROTP_ABI_MINOR, &host, &err) : NULL;

    if (p == NULL || p->abi_major != ROTP_ABI_MAJOR || p->struct_size < sizeof(rotp_provider)) {
        fprintf(stderr, "consumer: no usable provider table\n");
        return 1;
    }
    printf("provider %s %s, ABI %u.%u, linked %s\n", p->name, p->version, (unsigned)p->abi_major,
           (unsigned)p->abi_minor,
#ifdef CONSUMER_STATIC
           "statically"
#else
           "by dlopen"
#endif
    );
    for (const char *const *k = p->kinds; *k != NULL; k++)
        printf("kind %s\n", *k);
    return describe_kind(p, &host);
}
