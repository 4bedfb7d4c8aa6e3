/* SPDX-License-Identifier: MIT */
/* test_engine_threads.c - two engines in two threads, each bound to its own instance of the file
 * provider (fileprov.c, linked in), rotate many times at once: every run's delivered value works,
 * the previous one is dead, each run's result and journal hold only its own run ids, and
 * journal_scan finds every run finished. Also: an overlap rotation stops in the overlap and
 * finish ends it; a journal with an unfinished run is resumed; the status table is the exit-code
 * table. Fails loudly (exit 1) on the first broken expectation. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rotp.h"
#include "rotp_engine.h"

#define RUNS 15

static int failures;

static void check(int ok, const char *fmt, ...)
{
    va_list ap;
    if (ok)
        return;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    __atomic_add_fetch(&failures, 1, __ATOMIC_SEQ_CST);
}

typedef struct worker {
    char tag[8];
    char store[256];
    const rotp_provider *p;
    rotp_instance *inst;
    char value[128]; /* the last delivered value (the host's "sink") */
    char *journal;   /* the host's journal, in memory */
    size_t jlen, jcap;
    int deliveries;
} worker;

static int32_t deliver(void *user, const rotp_engine_secret *s, char *where, size_t wcap, char *msg,
                       size_t mcap)
{
    worker *w = user;
    const rotp_param *p = rotp_engine_secret_part(s, NULL);
    (void)msg;
    (void)mcap;
    if (p == NULL || p->value_len >= sizeof(w->value))
        return ROTP_ENGINE_SINK_FAILED;
    memcpy(w->value, p->value, (size_t)p->value_len);
    w->value[p->value_len] = '\0';
    w->deliveries++;
    snprintf(where, wcap, "memory of %s", w->tag);
    return ROTP_ENGINE_OK;
}

static int journal(void *user, const char *rec, size_t len)
{
    worker *w = user;
    if (w->jlen + len + 2 > w->jcap) {
        size_t cap = (w->jcap + len + 2) * 2;
        char *n = realloc(w->journal, cap);
        if (n == NULL)
            return -1;
        w->journal = n;
        w->jcap = cap;
    }
    memcpy(w->journal + w->jlen, rec, len);
    w->jlen += len;
    w->journal[w->jlen++] = '\n';
    w->journal[w->jlen] = '\0';
    return 0;
}

static void no_sleep(void *user, uint64_t ms)
{
    (void)user;
    (void)ms;
}

static void setup_store(const char *store, const char *id)
{
    char path[512];
    FILE *f;
    mkdir(store, 0700);
    snprintf(path, sizeof(path), "%s/admin", store);
    f = fopen(path, "w");
    fputs("admin-secret\n", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/v1", store);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/v1/%s", store, id);
    f = fopen(path, "w");
    fputs("name=app\nvalue=0000000000000000000000000000000000000000000000000000000000000001\n"
          "prev=\nprev_until=0\n",
          f);
    fclose(f);
}

static rotp_engine *engine_for(worker *w, rotp_engine_host *h)
{
    rotp_error err = {.struct_size = sizeof(err)};
    rotp_param cfg[2] = {
        {sizeof(rotp_param), 0, "store", w->store, strlen(w->store)},
        {sizeof(rotp_param), ROTP_PARAM_SECRET, "admin_token", "admin-secret", 12},
    };
    rotp_params cp = {sizeof(cp), 2, cfg};
    rotp_engine *e = NULL;
    char msg[256];
    rotp_host host = {sizeof(host), 0, NULL, NULL};
    check(w->p->open(&host, &cp, &w->inst, &err) == ROTP_E_OK, "open: %s", err.message);
    memset(h, 0, sizeof(*h));
    h->struct_size = sizeof(*h);
    h->user = w;
    h->deliver = deliver;
    h->journal = journal;
    h->sleep_ms = no_sleep;
    check(rotp_engine_new(w->p, w->inst, h, &e, msg, sizeof(msg)) == ROTP_ENGINE_OK, "new: %s",
          msg);
    return e;
}

static void one_run(worker *w, rotp_engine *e, int i, rotp_engine_result *res)
{
    char run_id[40], prev[128];
    rotp_param req = {sizeof(rotp_param), 0, "vault", "v1", 2};
    rotp_params rp = {sizeof(rp), 1, &req};
    rotp_param cur = {sizeof(rotp_param), ROTP_PARAM_SECRET, "value", w->value, strlen(w->value)};
    rotp_params cp = {sizeof(cp), 1, &cur};
    rotp_engine_run run;

    snprintf(prev, sizeof(prev), "%s", w->value);
    snprintf(run_id, sizeof(run_id), "%s-%d", w->tag, i);
    rotp_engine_run_init(&run);
    run.run_id = run_id;
    run.name = "APP_KEY";
    run.kind = "fileprov.key";
    run.id = "k1";
    run.request = &rp;
    run.current = &cp;
    run.verify_tries = 2;
    int32_t rc = rotp_engine_rotate(e, &run, res);
    check(rc == ROTP_ENGINE_OK, "%s: rotate: %s (%s)", run_id, rotp_engine_status_name(rc),
          res->message);
    check(strcmp(res->run_id, run_id) == 0, "%s: result names run %s", run_id, res->run_id);
    check(strstr(res->delivered, w->tag) != NULL, "%s: delivered to %s", run_id, res->delivered);
    check(res->provider_calls <= 5, "%s: %u provider calls (at most 5)", run_id,
          (unsigned)res->provider_calls);
    check(strcmp(prev, w->value) != 0, "%s: the value did not change", run_id);
    /* the new value works, the old one is dead */
    rotp_param nv = {sizeof(rotp_param), ROTP_PARAM_SECRET, "value", w->value, strlen(w->value)};
    rotp_params np = {sizeof(np), 1, &nv};
    rotp_param ov = {sizeof(rotp_param), ROTP_PARAM_SECRET, "value", prev, strlen(prev)};
    rotp_params op = {sizeof(op), 1, &ov};
    check(rotp_engine_verify(e, &run, "k1", &np, NULL, 0) == ROTP_ENGINE_OK, "%s: new dead",
          run_id);
    check(rotp_engine_verify(e, &run, "k1", &op, NULL, 0) == ROTP_ENGINE_VERIFICATION_FAILED,
          "%s: old alive", run_id);
}

static int count_run(void *user, const rotp_engine_journal_entry *en)
{
    worker *w = user;
    check(strncmp(en->run_id, w->tag, strlen(w->tag)) == 0, "%s: foreign run %s in journal", w->tag,
          en->run_id);
    check(en->state == ROTP_ENGINE_JS_FINISHED && strcmp(en->end_status, "completed") == 0,
          "%s: run %s not completed", w->tag, en->run_id);
    w->deliveries -= 1000; /* counts scanned runs, checked below */
    return 0;
}

static void *thread_main(void *arg)
{
    worker *w = arg;
    rotp_engine_host h;
    rotp_engine_result *res = calloc(1, sizeof(*res));
    rotp_engine *e = engine_for(w, &h);
    snprintf(w->value, sizeof(w->value), "%064d", 1);
    for (int i = 0; e != NULL && res != NULL && i < RUNS; i++)
        one_run(w, e, i, res);
    check(w->deliveries == RUNS, "%s: %d deliveries", w->tag, w->deliveries);
    check(rotp_engine_journal_scan_text(w->journal, w->jlen, count_run, w, NULL, 0) ==
              ROTP_ENGINE_OK,
          "%s: scan", w->tag);
    check(w->deliveries == RUNS - 1000 * RUNS, "%s: journal runs", w->tag);
    rotp_engine_free(e);
    w->p->close(w->inst);
    free(res);
    return NULL;
}

/* Overlap: stops in the overlap (old still works), finish ends it (old dead). */
static void test_overlap(worker *w)
{
    rotp_engine_host h;
    rotp_engine *e = engine_for(w, &h);
    rotp_engine_result *res = calloc(1, sizeof(*res));
    rotp_param req = {sizeof(rotp_param), 0, "vault", "v1", 2};
    rotp_params rp = {sizeof(rp), 1, &req};
    char old[128];
    snprintf(old, sizeof(old), "%064d", 1);
    snprintf(w->value, sizeof(w->value), "%s", old);
    rotp_param cur = {sizeof(rotp_param), ROTP_PARAM_SECRET, "value", old, strlen(old)};
    rotp_params cp = {sizeof(cp), 1, &cur};
    rotp_engine_run run;
    rotp_engine_run_init(&run);
    run.kind = "fileprov.key";
    run.id = "k1";
    run.strategy = "overlap";
    run.request = &rp;
    run.current = &cp;
    check(rotp_engine_rotate(e, &run, res) == ROTP_ENGINE_OK, "overlap rotate: %s", res->message);
    check(res->overlap == 1 && res->overlap_ends_at[0], "overlap: not in overlap");
    check(rotp_engine_verify(e, &run, "k1", &cp, NULL, 0) == ROTP_ENGINE_OK, "overlap: old dead");
    check(rotp_engine_finish(e, &run, res) == ROTP_ENGINE_OK, "finish: %s", res->message);
    check(rotp_engine_verify(e, &run, "k1", &cp, NULL, 0) == ROTP_ENGINE_VERIFICATION_FAILED,
          "finish: old alive");
    /* An unknown kind and a bad run id are usage errors. */
    run.kind = "no.such";
    check(rotp_engine_rotate(e, &run, res) == ROTP_ENGINE_USAGE, "unknown kind accepted");
    run.kind = "fileprov.key";
    run.run_id = "bad id";
    check(rotp_engine_rotate(e, &run, res) == ROTP_ENGINE_USAGE, "bad run id accepted");
    rotp_engine_free(e);
    w->p->close(w->inst);
    free(res);
}

static int last_unfinished(void *u, const rotp_engine_journal_entry *en)
{
    rotp_engine_journal_entry *last = u;
    if (en->state == ROTP_ENGINE_JS_UNFINISHED)
        *last = *en;
    return 0;
}

/* A journal whose run stopped after the roll intent: resume rolls forward. */
static void test_resume(worker *w)
{
    rotp_engine_host h;
    rotp_engine *e = engine_for(w, &h);
    rotp_engine_result *res = calloc(1, sizeof(*res));
    rotp_engine_journal_entry last;
    const char *text =
        "{\"run_id\":\"r-1\",\"type\":\"run\",\"command\":\"rotate\",\"kind\":\"fileprov.key\","
        "\"id\":\"k1\",\"request\":{\"vault\":\"v1\"}}\n"
        "{\"run_id\":\"r-2\",\"type\":\"run\",\"command\":\"rotate\",\"kind\":\"fileprov.key\","
        "\"id\":\"k1\",\"request\":{\"vault\":\"v1\"}}\n"
        "{\"run_id\":\"r-1\",\"type\":\"end\",\"status\":\"completed\",\"code\":0}\n"
        "{\"run_id\":\"r-2\",\"type\":\"intent\",\"step\":1,\"op\":\"roll\",\"id\":\"k1\"}\n"
        "{\"run_id\":\"r-2\",\"type\":\"outc";
    memset(&last, 0, sizeof(last));
    check(rotp_engine_journal_scan_text(text, strlen(text), NULL, NULL, NULL, 0) == ROTP_ENGINE_OK,
          "scan with a torn last line");
    check(rotp_engine_journal_scan_text(text, strlen(text), last_unfinished, &last, NULL, 0) ==
              ROTP_ENGINE_OK,
          "scan");
    check(strcmp(last.run_id, "r-2") == 0 && last.state == ROTP_ENGINE_JS_UNFINISHED &&
              (last.marks & ROTP_ENGINE_JM_ROLL_INTENT),
          "scan: r-2 unfinished after a roll intent");
    w->deliveries = 0;
    rotp_engine_run run;
    rotp_engine_run_init(&run);
    check(rotp_engine_resume(e, &last, &run, res) == ROTP_ENGINE_OK, "resume: %s", res->message);
    check(w->deliveries == 1 && strcmp(res->run_id, "r-2") == 0, "resume delivered once");
    rotp_engine_free(e);
    w->p->close(w->inst);
    free(res);
}

static void test_status_table(void)
{
    size_t n = 0;
    const rotp_engine_status_info *t = rotp_engine_status_table(&n);
    check(n == ROTP_ENGINE__COUNT, "status table size");
    for (size_t i = 0; i < n; i++)
        check(t[i].status == (int32_t)i && t[i].name && t[i].description, "status %zu", i);
    check(strcmp(rotp_engine_status_name(ROTP_ENGINE_SINK_FAILED), "SINK_FAILED") == 0 &&
              ROTP_ENGINE_SINK_FAILED == 9 && ROTP_ENGINE_OUTCOME_UNKNOWN == 8,
          "exit codes");
}

int main(void)
{
    char dir[] = "/tmp/rotp-engine-test-XXXXXX";
    worker w[2];
    pthread_t t[2];
    rotp_error err = {.struct_size = sizeof(err)};
    rotp_host host = {sizeof(host), 0, NULL, NULL};
    const rotp_provider *p = rotp_provider_entry_v1(ROTP_ABI_MINOR, &host, &err);

    if (mkdtemp(dir) == NULL || p == NULL)
        return 1;
    test_status_table();
    memset(w, 0, sizeof(w));
    for (int i = 0; i < 2; i++) {
        snprintf(w[i].tag, sizeof(w[i].tag), "T%d", i + 1);
        snprintf(w[i].store, sizeof(w[i].store), "%s/store%d", dir, i + 1);
        w[i].p = p;
        setup_store(w[i].store, "k1");
    }
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, thread_main, &w[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    setup_store(w[0].store, "k1");
    test_overlap(&w[0]);
    setup_store(w[1].store, "k1");
    test_resume(&w[1]);
    for (int i = 0; i < 2; i++)
        free(w[i].journal);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "note: could not remove %s\n", dir);
    if (failures == 0)
        printf("engine threads: %d runs in each of 2 threads, overlap+finish, resume: OK\n", RUNS);
    return failures == 0 ? 0 : 1;
}
