/* SPDX-License-Identifier: MIT */
/* demo.c - the offline demo: a private cfemu, every kind rotated, every sandbox run, one report.
 * cfemu gets no secret in its argv: it writes the seed's values to a 0600 creds file in our
 * private directory, and we read them from there. */
#include "demo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "creds.h"
#include "loader.h"
#include "output.h"
#include "rotate.h"
#include "sandbox.h"
#include "secret.h"

typedef struct demo {
    char dir[64];
    char cfemu[PATH_MAX];
    pid_t pid;
    int port;
    char origin[64], api_base[96], ca[128], creds[128], port_file[128];
    secret_buf *creds_text;
    char account[64], zone[64];
    char pages_id[64], ci_id[64];
    char console_id[64], vault_id[64], console_app[64], vault_app[64];
    char journal[128], audit[128];
} demo;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void cfemu_path(const hopts *o, char *out, size_t cap)
{
    char exe[PATH_MAX];
    if (o->cfemu != NULL) {
        snprintf(out, cap, "%s", o->cfemu);
        return;
    }
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        snprintf(out, cap, "cfemu");
        return;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash != NULL)
        *slash = '\0';
    if (snprintf(out, cap, "%s/cfemu", exe) >= (int)cap)
        snprintf(out, cap, "cfemu"); /* a path that long: let execl fail with a message */
}

/* Starts cfemu and waits for its port file. 0 or -1 (message on stderr). */
static int start_cfemu(demo *d)
{
    char log[128], outlog[128];
    snprintf(d->port_file, sizeof(d->port_file), "%s/port", d->dir);
    snprintf(d->ca, sizeof(d->ca), "%s/ca.pem", d->dir);
    snprintf(d->creds, sizeof(d->creds), "%s/creds.env", d->dir);
    snprintf(log, sizeof(log), "%s/cfemu-requests.log", d->dir);
    snprintf(outlog, sizeof(outlog), "%s/cfemu.out", d->dir);

    pid_t parent = getpid();
    d->pid = fork();
    if (d->pid < 0) {
        fprintf(stderr, "rotp-harness: demo: fork: %s\n", strerror(errno));
        return -1;
    }
    if (d->pid == 0) {
        /* cfemu must not outlive the demo, however the demo ends. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) != 0 || getppid() != parent)
            _exit(125);
        int fd = open(outlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        /* cfemu needs no credential of ours. */
        unsetenv("CF_ACCESS_MGMT");
        unsetenv("CLOUDFLARE_ACCESS_MGMT_TOKEN");
        unsetenv("CLOUDFLARE_API_TOKEN");
        execl(d->cfemu, "cfemu", "--listen", "127.0.0.1:0", "--port-file", d->port_file, "--ca-out",
              d->ca, "--creds-out", d->creds, "--log", log, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 300; i++) {
        int status;
        if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
            fprintf(stderr, "rotp-harness: demo: cfemu (%s) exited before listening; see %s\n",
                    d->cfemu, outlog);
            d->pid = -1;
            return -1;
        }
        FILE *f = fopen(d->port_file, "re");
        if (f != NULL) {
            int port = 0;
            int got = fscanf(f, "%d", &port);
            fclose(f);
            if (got == 1 && port > 0 && port < 65536 && access(d->creds, R_OK) == 0 &&
                access(d->ca, R_OK) == 0) {
                d->port = port;
                snprintf(d->origin, sizeof(d->origin), "https://127.0.0.1:%d", port);
                snprintf(d->api_base, sizeof(d->api_base), "%s/client/v4", d->origin);
                return 0;
            }
        }
        sleep_ms(50);
    }
    fprintf(stderr, "rotp-harness: demo: cfemu did not write its port file within 15 s\n");
    return -1;
}

static void stop_cfemu(demo *d)
{
    int status;
    if (d->pid <= 0)
        return;
    kill(d->pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
            d->pid = -1;
            return;
        }
        sleep_ms(50);
    }
    kill(d->pid, SIGKILL);
    waitpid(d->pid, &status, 0);
    d->pid = -1;
}

/* Copies a non-secret value (an id) from the creds file. 0 or -1. */
static int creds_id(demo *d, const char *key, char *out, size_t cap)
{
    bool nomem = false;
    secret_buf *v = creds_dotenv_get(d->creds_text->data, d->creds_text->len, key, &nomem);
    if (v == NULL || v->len >= cap) {
        fprintf(stderr, "rotp-harness: demo: %s missing from cfemu's creds file\n", key);
        secret_free(v);
        return -1;
    }
    snprintf(out, cap, "%s", v->data);
    secret_free(v);
    return 0;
}

static secret_buf *creds_secret_value(demo *d, const char *key)
{
    bool nomem = false;
    secret_buf *v = creds_dotenv_get(d->creds_text->data, d->creds_text->len, key, &nomem);
    if (v == NULL)
        fprintf(stderr, "rotp-harness: demo: %s missing from cfemu's creds file\n", key);
    return v;
}

static hopts base_opts(const hopts *o, demo *d)
{
    hopts b;
    memset(&b, 0, sizeof(b));
    b.plugin = o->plugin;
    b.sha256 = o->sha256;
    b.verbose = o->verbose;
    b.json = o->json;
    b.api_base = d->api_base;
    b.ca_file = d->ca;
    b.account = d->account;
    b.verify_tries = o->verify_tries;
    b.verify_delay_ms = 200;
    b.journal = d->journal;
    b.audit = d->audit;
    b.actor = "rotp-harness-demo";
    return b;
}

static void section(const hopts *o, const char *title)
{
    if (!o->json) {
        printf("\n== %s\n", title);
        fflush(stdout);
    }
}

/* One rotation scenario; for kinds with an overlap, also checks both secrets work during it
 * and then finishes. The demo knows Cloudflare's kinds: cid_key names a service token's
 * client id. */
static int scenario(hprov *hp, const hopts *o, demo *d, hreport *rep, const char *title, hopts *ro,
                    const char *cur_key, const char *cid_key, char *out_path, size_t out_cap,
                    const char *file)
{
    secret_buf *cur = creds_secret_value(d, cur_key);
    char cid[256] = "";
    hparts parts;
    hhost *h = calloc(1, sizeof(*h));
    int rc = HX_OTHER;

    memset(&parts, 0, sizeof(parts));
    section(o, title);
    if (cur == NULL || h == NULL)
        goto out;
    if (cid_key != NULL && creds_id(d, cid_key, cid, sizeof(cid)) != 0)
        goto out;
    if (hparts_set(&parts, cid_key ? "client_secret" : "secret", cur->data, cur->len, true) ||
        (cid_key != NULL && hparts_set(&parts, "client_id", cid, strlen(cid), false)))
        goto out;
    snprintf(out_path, out_cap, "%s/%s", d->dir, file);
    ro->out = out_path;
    rep->prefix = NULL;
    rc = hhost_open(h, hp, ro, rep, ro->kind);
    if (rc == HX_OK)
        rc = rotate_run(h, &parts);
    if (rc == HX_OK && h->res.overlap) {
        char detail[600];
        long long t0 = now_ms();
        int32_t vrc = rotp_engine_verify(h->eng, &h->run, ro->id, hparts_params(&parts), detail,
                                         sizeof(detail));
        report_step(rep, "overlap: old secret still accepted",
                    vrc == ROTP_ENGINE_OK ? HSTEP_PASS : HSTEP_FAIL, (long)(now_ms() - t0),
                    HX_VERIFY, "%s", detail);
        if (vrc != ROTP_ENGINE_OK)
            rc = HX_VERIFY;
        if (!o->json)
            printf("  ...  rotate --finish\n");
        ro->finish = true;
        int frc = rotate_run(h, &parts);
        ro->finish = false;
        if (rc == HX_OK)
            rc = frc;
    }
out:
    hhost_close(h);
    free(h);
    hparts_clear(&parts);
    secret_free(cur);
    return rc;
}

/* Removes the files in dir (not recursive) and dir itself; errors are ignored. */
static void remove_flat_dir(const char *dir)
{
    DIR *dd = opendir(dir);
    if (dd != NULL) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(dd)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(dd);
    }
    rmdir(dir);
}

/* The seed's ids from cfemu's creds file. 0, or -1 with a message. */
static int read_ids(demo *d_)
{
    if (creds_id(d_, "CFEMU_ACCOUNT_ID", d_->account, sizeof(d_->account)) ||
        creds_id(d_, "CFEMU_ZONE_ID", d_->zone, sizeof(d_->zone)) ||
        creds_id(d_, "CFEMU_TOKEN_PAGES_DEPLOY_ID", d_->pages_id, sizeof(d_->pages_id)) ||
        creds_id(d_, "CFEMU_TOKEN_CI_READONLY_ID", d_->ci_id, sizeof(d_->ci_id)) ||
        creds_id(d_, "CFEMU_ST_CONSOLE_PROBE_ID", d_->console_id, sizeof(d_->console_id)) ||
        creds_id(d_, "CFEMU_ST_VAULT_PROBE_ID", d_->vault_id, sizeof(d_->vault_id)) ||
        creds_id(d_, "CFEMU_APP_CONSOLE_ID", d_->console_app, sizeof(d_->console_app)) ||
        creds_id(d_, "CFEMU_APP_VAULT_ID", d_->vault_app, sizeof(d_->vault_app))) {
        return -1;
    }
    return 0;
}

/* The four rotations of the seed's credentials, then a sandbox per kind. */
static void run_rotations(hprov *hp_, const hopts *o, demo *dd, hreport *rp, const hopts *bb)
{
    char out1[256], out2[256], out3[256], out4[256];
    char probe_console[160], probe_vault[160];
    snprintf(probe_console, sizeof(probe_console), "%s/cdn-cgi/access/probe/%s", dd->origin,
             dd->console_app);
    snprintf(probe_vault, sizeof(probe_vault), "%s/cdn-cgi/access/probe/%s", dd->origin,
             dd->vault_app);

    /* 1. user token, in-place roll */
    hopts r1 = *bb;
    r1.kind = "cloudflare.user_token";
    r1.id = dd->pages_id;
    r1.secret_name = "CF_PAGES_DEPLOY";
    r1.aliases[r1.naliases++] = "CLOUDFLARE_PAGES_DEPLOY_TOKEN";
    scenario(hp_, o, dd, rp, "rotate user token PAGES_DEPLOY (in-place roll)", &r1,
             "CFEMU_TOKEN_PAGES_DEPLOY_VALUE", NULL, out1, sizeof(out1), "pages.env");

    /* 2. account token */
    hopts r2 = *bb;
    r2.kind = "cloudflare.account_token";
    r2.id = dd->ci_id;
    r2.secret_name = "CF_CI_READONLY";
    scenario(hp_, o, dd, rp, "rotate account token CI_READONLY (in-place roll)", &r2,
             "CFEMU_TOKEN_CI_READONLY_VALUE", NULL, out2, sizeof(out2), "ci.env");

    /* 3. service token, rotate with a grace window, then finish */
    hopts r3 = *bb;
    r3.kind = "cloudflare.access_service_token";
    r3.id = dd->console_id;
    r3.strategy = "rotate";
    r3.has_grace = true;
    r3.grace = 600;
    r3.probe_url = probe_console;
    r3.secret_name = "CF_CONSOLE_PROBE";
    scenario(hp_, o, dd, rp,
             "rotate service token CONSOLE_PROBE (strategy rotate, 600 s overlap, then finish)",
             &r3, "CFEMU_ST_CONSOLE_PROBE_CLIENT_SECRET", "CFEMU_ST_CONSOLE_PROBE_CLIENT_ID", out3,
             sizeof(out3), "console.env");

    /* 4. service token, create-swap-delete, then finish (deletes the old token) */
    hopts r4 = *bb;
    r4.kind = "cloudflare.access_service_token";
    r4.id = dd->vault_id;
    r4.strategy = "create-swap-delete";
    r4.probe_url = probe_vault;
    r4.secret_name = "CF_VAULT_PROBE";
    scenario(hp_, o, dd, rp,
             "rotate service token VAULT_PROBE (create-swap-delete, then finish: delete the old)",
             &r4, "CFEMU_ST_VAULT_PROBE_CLIENT_SECRET", "CFEMU_ST_VAULT_PROBE_CLIENT_ID", out4,
             sizeof(out4), "vault.env");

    /* 5. sandbox per kind */
    static const char *const kinds[] = {"cloudflare.user_token", "cloudflare.account_token",
                                        "cloudflare.access_service_token"};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        char title[128], prefix[64];
        hopts s = *bb;
        s.journal = NULL;
        s.audit = NULL;
        s.kind = kinds[i];
        bool service = strcmp(kinds[i], "cloudflare.access_service_token") == 0;
        s.zone = service ? NULL : dd->zone;
        if (service)
            s.probe_url = probe_vault;
        snprintf(title, sizeof(title), "sandbox %s", kinds[i]);
        snprintf(prefix, sizeof(prefix), "sandbox %s: ", strrchr(kinds[i], '.') + 1);
        section(o, title);
        rp->prefix = prefix;
        (void)sandbox_run(hp_, &s, rp);
        rp->prefix = NULL;
    }
}

/* The summary (human or --json); returns the exit code. */
static int demo_report(const hopts *o, const demo *dd, const hreport *rp, int rc, long long t_start)
{
    {
        int pass = 0, fail = 0, skip = 0;
        for (int i = 0; i < rp->n; i++) {
            if (rp->steps[i].status == HSTEP_PASS)
                pass++;
            else if (rp->steps[i].status == HSTEP_FAIL)
                fail++;
            else
                skip++;
        }
        if (rc == HX_OK && rp->n == 0)
            rc = HX_OTHER;
        if (o->json) {
            char extra[256];
            snprintf(extra, sizeof(extra),
                     "\"pass\":%d,\"fail\":%d,\"skip\":%d,\"ms\":%lld,\"dir\":\"%s\",\"kept\":%s",
                     pass, fail, skip, now_ms() - t_start, dd->dir, o->keep ? "true" : "false");
            out_json_report("demo", rc, rp, extra);
        } else {
            printf("\n== report\n%d steps passed, %d failed, %d skipped in %lld ms\n", pass, fail,
                   skip, now_ms() - t_start);
            if (o->keep)
                printf("kept %s (sinks, audit.jsonl, journal.jsonl, cfemu logs; the creds file "
                       "holds secrets: delete it when done)\n",
                       dd->dir);
            printf("demo: %s\n", rc == HX_OK ? "PASS" : "FAIL");
        }
    }
    return rc;
}

int cmd_demo(const hopts *o)
{
    static demo d;
    static hreport rep;
    hprov hp;
    secret_buf *mgmt = NULL;
    long long t_start = now_ms();
    int rc = HX_OTHER;

    memset(&d, 0, sizeof(d));
    memset(&hp, 0, sizeof(hp));
    memset(&rep, 0, sizeof(rep));
    d.pid = -1;
    rep.quiet = o->json;
    snprintf(d.dir, sizeof(d.dir), "/tmp/rotp-demo-XXXXXX");
    if (mkdtemp(d.dir) == NULL) {
        fprintf(stderr, "rotp-harness: demo: mkdtemp: %s\n", strerror(errno));
        return HX_OTHER;
    }
    snprintf(d.journal, sizeof(d.journal), "%s/journal.jsonl", d.dir);
    snprintf(d.audit, sizeof(d.audit), "%s/audit.jsonl", d.dir);
    cfemu_path(o, d.cfemu, sizeof(d.cfemu));

    hopts b = base_opts(o, &d);
    rc = prov_load(&hp, &b);
    if (rc != HX_OK)
        goto out;
    if (!o->json)
        printf("rotp-harness demo: provider %s %s (ABI %u.%u) from %s\n", hp.p->name, hp.p->version,
               (unsigned)hp.p->abi_major, (unsigned)hp.p->abi_minor, hp.path);
    if (start_cfemu(&d) != 0) {
        rc = HX_OTHER;
        goto out;
    }
    if (!o->json)
        printf("cfemu: %s (pid %d, TLS with its own CA), work dir %s\n", d.api_base, (int)d.pid,
               d.dir);
    rc = creds_read_file(d.creds, "cfemu creds", &d.creds_text);
    if (rc != HX_OK)
        goto out;
    if (read_ids(&d) != 0) {
        rc = HX_OTHER;
        goto out;
    }
    b = base_opts(o, &d);
    mgmt = creds_secret_value(&d, "CFEMU_TOKEN_MGMT_VALUE");
    if (mgmt == NULL) {
        rc = HX_OTHER;
        goto out;
    }
    rc = prov_open(&hp, &b, mgmt);
    if (rc != HX_OK)
        goto out;
    run_rotations(&hp, o, &d, &rep, &b);
    rc = rep.first_fail_code;

out:
    prov_close(&hp);
    secret_free(mgmt);
    secret_free(d.creds_text);
    stop_cfemu(&d);
    rc = demo_report(o, &d, &rep, rc, t_start);
    if (!o->keep)
        remove_flat_dir(d.dir);
    return rc;
}
