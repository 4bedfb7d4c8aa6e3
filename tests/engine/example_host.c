/* SPDX-License-Identifier: MIT */
/* example_host.c - the shortest host: load a provider, discover its kinds, rotate one credential
 * through the engine with our own delivery callback. (README.md and abi/ABI.md show this file.)
 *
 *   example_host PROVIDER.so KIND ID CONFIG_KEY=VALUE... -- REQUEST_KEY=VALUE...
 *
 * The management credential is read from the environment variable the provider's descriptor
 * names for its config key of role MANAGEMENT. The new secret goes to a 0600 file named by
 * $EXAMPLE_OUT (our "sink"); nothing secret is printed. */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rotp.h"
#include "rotp_engine.h"

/* Our delivery: the primary part of the new secret into $EXAMPLE_OUT (0600). */
static int32_t deliver(void *user, const rotp_engine_secret *s, char *where, size_t where_cap,
                       char *msg, size_t msg_cap)
{
    const char *path = user;
    const rotp_param *v = rotp_engine_secret_part(s, NULL); /* NULL: the primary part */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || v == NULL || write(fd, v->value, v->value_len) != (ssize_t)v->value_len ||
        fsync(fd) != 0) {
        snprintf(msg, msg_cap, "cannot write %s", path);
        if (fd >= 0)
            close(fd);
        return ROTP_ENGINE_SINK_FAILED;
    }
    close(fd);
    snprintf(where, where_cap, "%s", path);
    return ROTP_ENGINE_OK;
}

/* Progress: one line per step on stderr. */
static void progress(void *user, const rotp_engine_event *ev)
{
    static const char *const word[] = {"PASS", "FAIL", "SKIP"};
    (void)user;
    if (ev->type == ROTP_ENGINE_EV_STEP_END)
        fprintf(stderr, "  %s  %s  %s\n", word[ev->step_status % 3], ev->step, ev->detail);
}

/* KEY=VALUE arguments as params (borrowed from argv). */
static rotp_params kv_params(char **argv, int n, rotp_param *items)
{
    for (int i = 0; i < n; i++) {
        char *eq = strchr(argv[i], '=');
        *eq = '\0';
        items[i] = (rotp_param){sizeof(rotp_param), 0, argv[i], eq + 1, strlen(eq + 1)};
    }
    return (rotp_params){sizeof(rotp_params), (uint32_t)n, n ? items : NULL};
}

/* The config: KEY=VALUE arguments plus the management credential from the environment. */
static int add_management(const rotp_provider *p, rotp_param *items, uint32_t *n)
{
    for (uint32_t i = 0; i < p->nconfig_keys; i++) {
        const rotp_key_info *k = &p->config_keys[i];
        for (int e = 0; k->role == ROTP_ROLE_MANAGEMENT && k->env && k->env[e]; e++) {
            const char *v = getenv(k->env[e]);
            if (v != NULL) {
                items[(*n)++] =
                    (rotp_param){sizeof(rotp_param), ROTP_PARAM_SECRET, k->key, v, strlen(v)};
                return 0;
            }
        }
    }
    fprintf(stderr, "no management credential in the environment\n");
    return -1;
}

int main(int argc, char **argv)
{
    rotp_param cfg[16], req[16];
    rotp_error err = {.struct_size = sizeof(err)};
    rotp_host host = {sizeof(host), 0, NULL, NULL};
    rotp_instance *inst = NULL;
    rotp_engine *eng = NULL;
    rotp_engine_result *res = calloc(1, sizeof(*res));
    char msg[512];
    int sep = 4;

    if (argc < 4 || getenv("EXAMPLE_OUT") == NULL || res == NULL) {
        fprintf(stderr, "usage: EXAMPLE_OUT=FILE %s PROVIDER.so KIND ID [K=V...] [-- K=V...]\n",
                argv[0]);
        return 2;
    }
    while (sep < argc && strcmp(argv[sep], "--") != 0)
        sep++;
    /* 1. Load the provider and discover its kinds. */
    void *so = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    rotp_entry_fn entry = so ? (rotp_entry_fn)dlsym(so, ROTP_ENTRY_SYMBOL) : NULL;
    const rotp_provider *p = entry ? entry(ROTP_ABI_MINOR, &host, &err) : NULL;
    if (p == NULL || !ROTP_HAS_FIELD(p, rotp_provider, kind_info)) {
        fprintf(stderr, "not an ABI 1.1 provider: %s\n", so ? err.message : dlerror());
        return 10;
    }
    for (size_t i = 0; p->kind_info[i] != NULL; i++)
        printf("kind %s: %s\n", p->kind_info[i]->kind, p->kind_info[i]->summary);
    /* 2. Open an instance with the config and the management credential. */
    rotp_params config = kv_params(argv + 4, sep - 4, cfg);
    if (add_management(p, cfg, &config.count) != 0)
        return 2;
    config.items = cfg;
    if (p->open(&host, &config, &inst, &err) != ROTP_E_OK) {
        fprintf(stderr, "open: %s\n", err.message);
        return 1;
    }
    /* 3. Bind an engine to it with our callbacks, and rotate. */
    rotp_engine_host h = {.struct_size = sizeof(h),
                          .user = getenv("EXAMPLE_OUT"),
                          .deliver = deliver,
                          .progress = progress};
    rotp_params request = kv_params(argv + sep + (sep < argc), argc - sep - (sep < argc), req);
    rotp_engine_run run;
    rotp_engine_run_init(&run);
    run.kind = argv[2];
    run.id = argv[3];
    run.request = &request;
    int32_t rc = rotp_engine_new(p, inst, &h, &eng, msg, sizeof(msg));
    if (rc == ROTP_ENGINE_OK)
        rc = rotp_engine_rotate(eng, &run, res);
    printf("rotate %s %s: %s (run %s, new id %s, %u provider calls)\n", run.kind, run.id,
           rotp_engine_status_name(rc), res->run_id, res->new_id, (unsigned)res->provider_calls);
    rotp_engine_free(eng);
    p->close(inst);
    free(res);
    return rc; /* the status is the exit code rotp-harness would give */
}
