/* SPDX-License-Identifier: MIT */
/* engine.c - the engine object, requests and provider calls, descriptor lookups, secret parts
 * and the per-run context. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "engine_int.h"

/* ---- the engine object ------------------------------------------------------------------- */

int32_t rotp_engine_new(const rotp_provider *provider, rotp_instance *instance,
                        const rotp_engine_host *host, rotp_engine **out, char *msg, size_t msg_cap)
{
    rotp_engine *e;
    if (out != NULL)
        *out = NULL;
    if (msg != NULL && msg_cap > 0)
        msg[0] = '\0';
    if (provider == NULL || instance == NULL || host == NULL || out == NULL ||
        host->struct_size < sizeof(rotp_engine_host) || host->deliver == NULL) {
        if (msg != NULL)
            snprintf(msg, msg_cap,
                     "rotp_engine_new: a provider, an instance and a host with a "
                     "deliver callback are required");
        return ROTP_ENGINE_USAGE;
    }
    if (!ROTP_HAS_FIELD(provider, rotp_provider, kind_info) || provider->kind_info == NULL) {
        if (msg != NULL)
            snprintf(msg, msg_cap,
                     "provider %s does not describe its kinds (ABI 1.1 kind_info): the engine "
                     "cannot drive it",
                     provider->name ? provider->name : "?");
        return ROTP_ENGINE_USAGE;
    }
    e = rotp__calloc(1, sizeof(*e));
    if (e == NULL) {
        if (msg != NULL)
            snprintf(msg, msg_cap, "out of memory");
        return ROTP_ENGINE_OTHER_FAILURE;
    }
    e->p = provider;
    e->inst = instance;
    e->host = *host;
    *out = e;
    return ROTP_ENGINE_OK;
}

void rotp_engine_free(rotp_engine *e)
{
    rotp__free(e);
}

const rotp_provider *rotp_engine_provider(const rotp_engine *e)
{
    return e != NULL ? e->p : NULL;
}

const rotp_kind_info *rotp_engine_kind(const rotp_engine *e, const char *kind)
{
    if (e == NULL || kind == NULL)
        return NULL;
    for (size_t i = 0; e->p->kind_info[i] != NULL; i++) {
        const rotp_kind_info *k = e->p->kind_info[i];
        if (k->kind != NULL && strcmp(k->kind, kind) == 0)
            return k;
    }
    return NULL;
}

void rotp_engine_run_init(rotp_engine_run *run)
{
    if (run == NULL)
        return;
    memset(run, 0, sizeof(*run));
    run->struct_size = sizeof(*run);
    run->overlap_seconds = -1;
}

void rotp_engine_result_init(rotp_engine_result *res)
{
    if (res == NULL)
        return;
    memset(res, 0, sizeof(*res));
    res->struct_size = sizeof(*res);
}

/* ---- requests ---------------------------------------------------------------------------- */

void ereq_init(ereq *r)
{
    memset(r, 0, sizeof(*r));
}

static void ereq_put(ereq *r, const char *key, const char *value, size_t len, uint32_t flags)
{
    for (uint32_t i = 0; i < r->count; i++) {
        if (strcmp(r->items[i].key, key) == 0) {
            r->items[i].value = value;
            r->items[i].value_len = len;
            r->items[i].flags = flags;
            return;
        }
    }
    if (r->count >= EREQ_MAX) {
        r->overflow = true;
        return;
    }
    rotp_param *p = &r->items[r->count++];
    p->struct_size = sizeof(*p);
    p->flags = flags;
    p->key = key;
    p->value = value;
    p->value_len = len;
}

void ereq_add(ereq *r, const char *key, const char *value)
{
    if (key == NULL || value == NULL || value[0] == '\0')
        return;
    ereq_put(r, key, value, strlen(value), 0);
}

void ereq_add_secret(ereq *r, const char *key, const char *value, size_t len)
{
    ereq_put(r, key, value, len, ROTP_PARAM_SECRET);
}

void ereq_add_long(ereq *r, const char *key, long long v)
{
    if (r->nnum >= (int)(sizeof(r->num) / sizeof(r->num[0]))) {
        r->overflow = true;
        return;
    }
    char *buf = r->num[r->nnum++];
    snprintf(buf, sizeof(r->num[0]), "%lld", v);
    ereq_add(r, key, buf);
}

rotp_params ereq_params(const ereq *r)
{
    rotp_params p;
    p.struct_size = sizeof(p);
    p.count = r->count;
    p.items = r->count > 0 ? r->items : NULL;
    return p;
}

const rotp_param *params_at(const rotp_params *p, uint32_t i)
{
    if (p == NULL || p->items == NULL || i >= p->count)
        return NULL;
    uint32_t stride = p->items[0].struct_size;
    if (stride < sizeof(rotp_param))
        return NULL;
    return (const rotp_param *)((const char *)p->items + (size_t)stride * i);
}

const char *params_get(const rotp_params *p, const char *key, size_t *len)
{
    for (uint32_t i = 0;; i++) {
        const rotp_param *q = params_at(p, i);
        if (q == NULL)
            return NULL;
        if (q->key != NULL && strcmp(q->key, key) == 0 && q->value != NULL) {
            if (len != NULL)
                *len = (size_t)q->value_len;
            return q->value;
        }
    }
}

/* ---- calls ------------------------------------------------------------------------------- */

static rotp_op_fn op_fn(const rotp_provider *p, uint32_t op)
{
    switch (op) {
    case ROTP_OP_DESCRIBE:
        return p->describe;
    case ROTP_OP_ROLL:
        return p->roll;
    case ROTP_OP_VERIFY:
        return p->verify;
    case ROTP_OP_REVOKE:
        return p->revoke;
    case ROTP_OP_PROVISION:
        return p->provision;
    case ROTP_OP_LIST:
        return p->list;
    default:
        return NULL;
    }
}

int32_t eng_call(rotp_engine *e, uint32_t op, const ereq *req, eres *out)
{
    rotp_op_fn fn = op_fn(e->p, op);
    rotp_params params = ereq_params(req);

    memset(out, 0, sizeof(*out));
    out->res.struct_size = sizeof(out->res);
    out->err.struct_size = sizeof(out->err);
    out->e = e;
    if (req->overflow) {
        out->code = ROTP_E_INVALID_ARGUMENT;
        out->err.code = out->code;
        snprintf(out->err.message, sizeof(out->err.message), "too many request keys");
        return out->code;
    }
    if (fn == NULL) {
        out->code = ROTP_E_UNSUPPORTED;
        out->err.code = ROTP_E_UNSUPPORTED;
        snprintf(out->err.message, sizeof(out->err.message), "the provider does not implement %s",
                 rotp_engine_op_name(op));
        return out->code;
    }
    out->code = fn(e->inst, &params, &out->res, &out->err);
    if (out->code != ROTP_E_OK && out->err.code == ROTP_E_OK)
        out->err.code = out->code;
    out->err.message[sizeof(out->err.message) - 1] = '\0';
    return out->code;
}

void eres_free(eres *h)
{
    if (h == NULL || h->e == NULL)
        return;
    h->e->p->result_free(&h->res);
    memset(&h->res, 0, sizeof(h->res));
    h->res.struct_size = sizeof(h->res);
}

const char *eres_get(const eres *h, const char *key, size_t *len)
{
    rotp_params p;
    p.struct_size = sizeof(p);
    p.count = h->res.count;
    p.items = h->res.items;
    return params_get(&p, key, len);
}

void eres_copy(const eres *h, const char *key, char *buf, size_t cap)
{
    size_t len = 0;
    const char *v = key != NULL ? eres_get(h, key, &len) : NULL;
    if (cap == 0)
        return;
    buf[0] = '\0';
    if (v == NULL || len >= cap)
        return;
    memcpy(buf, v, len);
    buf[len] = '\0';
}

int32_t rotp_engine_op(rotp_engine *e, uint32_t op, const char *run_id, const rotp_params *req,
                       rotp_result *res, rotp_error *err)
{
    rotp_op_fn fn;
    int32_t code;
    rotp_params empty = {sizeof(rotp_params), 0, NULL};

    (void)run_id;
    if (e == NULL || res == NULL || err == NULL)
        return ROTP_E_INVALID_ARGUMENT;
    fn = op_fn(e->p, op);
    err->code = ROTP_E_OK;
    if (fn == NULL) {
        err->code = ROTP_E_UNSUPPORTED;
        snprintf(err->message, sizeof(err->message), "the provider does not implement %s",
                 rotp_engine_op_name(op));
        return ROTP_E_UNSUPPORTED;
    }
    code = fn(e->inst, req != NULL ? req : &empty, res, err);
    if (code != ROTP_E_OK && err->code == ROTP_E_OK)
        err->code = code;
    return code;
}

void rotp_engine_op_free(rotp_engine *e, rotp_result *res)
{
    if (e == NULL || res == NULL)
        return;
    e->p->result_free(res);
}

/* ---- descriptors ------------------------------------------------------------------------- */

#define STRIDE_AT(type, arr, i)                                                                    \
    ((const type *)((const char *)(arr) + (size_t)(arr)[0].struct_size * (i)))

static const rotp_key_info *key_at(const rotp_key_info *arr, uint32_t n, uint32_t i)
{
    if (arr == NULL || i >= n || arr[0].struct_size < offsetof(rotp_key_info, env))
        return NULL;
    return STRIDE_AT(rotp_key_info, arr, i);
}

const rotp_key_info *kd_req_role(const rotp_kind_info *k, uint32_t role)
{
    for (uint32_t i = 0; i < k->nrequest_keys; i++) {
        const rotp_key_info *q = key_at(k->request_keys, k->nrequest_keys, i);
        if (q != NULL && q->role == role)
            return q;
    }
    return NULL;
}

const rotp_key_info *kd_req_key(const rotp_kind_info *k, const char *key)
{
    for (uint32_t i = 0; key != NULL && i < k->nrequest_keys; i++) {
        const rotp_key_info *q = key_at(k->request_keys, k->nrequest_keys, i);
        if (q != NULL && q->key != NULL && strcmp(q->key, key) == 0)
            return q;
    }
    return NULL;
}

const rotp_key_info *kd_res_role(const rotp_kind_info *k, uint32_t role, uint32_t op)
{
    for (uint32_t i = 0; i < k->nresult_keys; i++) {
        const rotp_key_info *q = key_at(k->result_keys, k->nresult_keys, i);
        if (q != NULL && q->role == role && (op == 0 || (q->ops & op)))
            return q;
    }
    return NULL;
}

const rotp_part_info *kd_part(const rotp_kind_info *k, uint32_t i)
{
    if (k->parts == NULL || i >= k->nparts)
        return NULL;
    return STRIDE_AT(rotp_part_info, k->parts, i);
}

const rotp_part_info *kd_primary_part(const rotp_kind_info *k)
{
    for (uint32_t i = 0; i < k->nparts; i++) {
        const rotp_part_info *p = kd_part(k, i);
        if (p != NULL && (p->flags & ROTP_PART_PRIMARY))
            return p;
    }
    return kd_part(k, 0);
}

const rotp_companion_info *kd_companion(const rotp_kind_info *k, uint32_t i)
{
    if (k->companions == NULL || i >= k->ncompanions)
        return NULL;
    return STRIDE_AT(rotp_companion_info, k->companions, i);
}

const rotp_strategy_info *kd_strategy(const rotp_kind_info *k, uint32_t i)
{
    if (k->strategies == NULL || i >= k->nstrategies)
        return NULL;
    return STRIDE_AT(rotp_strategy_info, k->strategies, i);
}

const rotp_strategy_info *kd_strategy_named(const rotp_kind_info *k, const char *name)
{
    for (uint32_t i = 0; name != NULL && i < k->nstrategies; i++) {
        const rotp_strategy_info *s = kd_strategy(k, i);
        if (s != NULL && s->name != NULL && strcmp(s->name, name) == 0)
            return s;
    }
    return NULL;
}

const rotp_state_info *kd_state(const rotp_kind_info *k, const char *state, uint32_t op)
{
    for (uint32_t i = 0; state != NULL && k->states != NULL && i < k->nstates; i++) {
        const rotp_state_info *s = STRIDE_AT(rotp_state_info, k->states, i);
        if (s->state != NULL && strcmp(s->state, state) == 0 && (s->ops & op))
            return s;
    }
    return NULL;
}

/* ---- secret parts ------------------------------------------------------------------------ */

void eparts_clear(eparts *p)
{
    for (uint32_t i = 0; i < p->n; i++)
        secret_free(p->val[i]);
    memset(p, 0, sizeof(*p));
}

int eparts_from(eparts *dst, const rotp_kind_info *k, const rotp_params *src)
{
    eparts_clear(dst);
    for (uint32_t i = 0; i < k->nparts && dst->n < EPART_MAX; i++) {
        const rotp_part_info *pi = kd_part(k, i);
        size_t len = 0;
        const char *v = pi != NULL && pi->key != NULL ? params_get(src, pi->key, &len) : NULL;
        if (v == NULL || len == 0 || strlen(pi->key) >= sizeof(dst->key[0]))
            continue;
        dst->val[dst->n] = secret_new(v, len);
        if (dst->val[dst->n] == NULL)
            return -1;
        snprintf(dst->key[dst->n], sizeof(dst->key[0]), "%s", pi->key);
        dst->secret[dst->n] = (pi->flags & ROTP_PART_SECRET) != 0;
        dst->n++;
    }
    return 0;
}

const secret_buf *eparts_get(const eparts *p, const char *key)
{
    for (uint32_t i = 0; key != NULL && i < p->n; i++) {
        if (strcmp(p->key[i], key) == 0)
            return p->val[i];
    }
    return NULL;
}

bool eparts_complete(const eparts *p, const rotp_kind_info *k)
{
    bool any = false;
    for (uint32_t i = 0; i < k->nparts; i++) {
        const rotp_part_info *pi = kd_part(k, i);
        if (pi == NULL || !(pi->flags & ROTP_PART_SECRET))
            continue;
        any = true;
        if (eparts_get(p, pi->key) == NULL)
            return false;
    }
    return any || p->n > 0;
}

/* ---- the run context --------------------------------------------------------------------- */

static bool run_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > ROTP_ENGINE_RUN_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.'))
            return false;
    }
    return true;
}

/* The strategy: the run's, else the first DEFAULT whose requires_key the request has. */
static const rotp_strategy_info *pick_strategy(const rotp_kind_info *k, const rotp_engine_run *run)
{
    if (run->strategy != NULL)
        return kd_strategy_named(k, run->strategy);
    for (uint32_t i = 0; i < k->nstrategies; i++) {
        const rotp_strategy_info *s = kd_strategy(k, i);
        if (s == NULL || !(s->flags & ROTP_STRATEGY_DEFAULT))
            continue;
        if (s->requires_key == NULL || params_get(run->request, s->requires_key, NULL) != NULL)
            return s;
    }
    return kd_strategy(k, 0);
}

static int32_t check_request(erun *c)
{
    for (uint32_t i = 0;; i++) {
        const rotp_param *p = params_at(c->run->request, i);
        if (p == NULL)
            return ROTP_ENGINE_OK;
        const rotp_key_info *ki = kd_req_key(c->ki, p->key);
        if ((p->flags & ROTP_PARAM_SECRET) || (ki != NULL && (ki->flags & ROTP_KEY_SECRET))) {
            eng_step(c, "request", ROTP_ENGINE_STEP_FAIL, ROTP_ENGINE_USAGE, 0,
                     "the request key %s is a secret: secrets reach the engine only as parts of "
                     "the current secret",
                     p->key ? p->key : "?");
            return ROTP_ENGINE_USAGE;
        }
    }
}

int32_t erun_init(erun *c, rotp_engine *e, const rotp_engine_run *run, rotp_engine_result *res,
                  const char *command)
{
    memset(c, 0, sizeof(*c));
    c->e = e;
    c->run = run;
    c->res = res;
    if (command != NULL) { /* NULL: an inner run that adds to its outer run's result */
        rotp_engine_result_init(res);
        snprintf(res->command, sizeof(res->command), "%s", command);
    }
    if (run == NULL || run->struct_size < sizeof(rotp_engine_run) || run->kind == NULL)
        return ROTP_ENGINE_USAGE;
    if (run->run_id != NULL && !run_id_ok(run->run_id)) {
        snprintf(res->message, sizeof(res->message),
                 "run id '%.60s' must be 1 to %d of [A-Za-z0-9._-]", run->run_id,
                 ROTP_ENGINE_RUN_ID_MAX);
        res->status = ROTP_ENGINE_USAGE;
        return ROTP_ENGINE_USAGE;
    }
    if (run->run_id != NULL)
        snprintf(c->run_id, sizeof(c->run_id), "%s", run->run_id);
    else
        rotp_engine_make_run_id(c->run_id);
    snprintf(res->run_id, sizeof(res->run_id), "%s", c->run_id);
    snprintf(res->kind, sizeof(res->kind), "%s", run->kind);
    snprintf(res->name, sizeof(res->name), "%s", run->name ? run->name : "");
    snprintf(res->old_id, sizeof(res->old_id), "%s", run->id ? run->id : "");
    c->ki = rotp_engine_kind(e, run->kind);
    if (c->ki == NULL) {
        snprintf(res->message, sizeof(res->message), "provider %s has no kind '%.64s'",
                 e->p->name ? e->p->name : "?", run->kind);
        res->status = ROTP_ENGINE_USAGE;
        return ROTP_ENGINE_USAGE;
    }
    c->strat = pick_strategy(c->ki, run);
    if (c->strat == NULL && run->strategy != NULL) {
        snprintf(res->message, sizeof(res->message), "kind %s has no strategy '%.40s'", run->kind,
                 run->strategy);
        res->status = ROTP_ENGINE_USAGE;
        return ROTP_ENGINE_USAGE;
    }
    if (c->strat != NULL) {
        snprintf(res->strategy, sizeof(res->strategy), "%s", c->strat->name);
        c->new_id = (c->strat->flags & ROTP_STRATEGY_NEW_ID) != 0;
        c->overlap_wanted = (c->strat->flags & ROTP_STRATEGY_OVERLAP) && run->overlap_seconds != 0;
    }
    if (run->current != NULL && eparts_from(&c->current, c->ki, run->current) != 0)
        return ROTP_ENGINE_OTHER_FAILURE;
    return check_request(c);
}

void erun_clear(erun *c)
{
    eparts_clear(&c->current);
    eparts_clear(&c->fresh);
}

static void comp_set(erun *c, const char *key, const char *value)
{
    uint32_t i;
    if (value == NULL || value[0] == '\0')
        return;
    for (i = 0; i < c->ncomp; i++) {
        if (strcmp(c->comp[i].key, key) == 0)
            break;
    }
    if (i == c->ncomp) {
        if (c->ncomp >= sizeof(c->comp) / sizeof(c->comp[0]))
            return;
        c->ncomp++;
    }
    snprintf(c->comp[i].key, sizeof(c->comp[i].key), "%s", key);
    snprintf(c->comp[i].value, sizeof(c->comp[i].value), "%s", value);
}

void erun_learn(erun *c, const eres *h)
{
    for (uint32_t i = 0; i < c->ki->ncompanions; i++) {
        const rotp_companion_info *ci = kd_companion(c->ki, i);
        char v[512];
        if (ci == NULL || ci->key == NULL)
            continue;
        eres_copy(h, ci->key, v, sizeof(v));
        comp_set(c, ci->key, v);
    }
    const rotp_key_info *exp = kd_res_role(c->ki, ROTP_ROLE_EXPIRES, 0);
    if (exp != NULL) {
        char v[64];
        eres_copy(h, exp->key, v, sizeof(v));
        comp_set(c, exp->key, v);
    }
}

const char *erun_comp(const erun *c, const char *key)
{
    for (uint32_t i = 0; key != NULL && i < c->ncomp; i++) {
        if (strcmp(c->comp[i].key, key) == 0)
            return c->comp[i].value;
    }
    return NULL;
}

void erun_req(erun *c, ereq *r, uint32_t op, const char *id)
{
    const rotp_key_info *idk = kd_req_role(c->ki, ROTP_ROLE_ID);
    ereq_add(r, "kind", c->run->kind);
    if (id != NULL && idk != NULL && (idk->ops & op))
        ereq_add(r, idk->key, id);
    for (uint32_t i = 0;; i++) {
        const rotp_param *p = params_at(c->run->request, i);
        if (p == NULL)
            break;
        const rotp_key_info *ki = kd_req_key(c->ki, p->key);
        bool take = ki != NULL && (ki->ops & op) != 0; /* keys the kind does not describe are
                                                           for the host (sandbox placeholders) */
        if (take && p->value != NULL)
            ereq_put(r, p->key, p->value, (size_t)p->value_len, 0);
    }
}

void erun_req_strategy(erun *c, ereq *r, uint32_t op)
{
    const rotp_key_info *sk = kd_req_role(c->ki, ROTP_ROLE_STRATEGY);
    if (sk != NULL && c->strat != NULL && (sk->ops & op))
        ereq_add(r, sk->key, c->strat->name);
}

/* ---- events and steps -------------------------------------------------------------------- */

uint64_t eng_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void send_event(erun *c, uint32_t type, const char *step, int step_status, int32_t status,
                       const char *detail, uint64_t ms, uint32_t reason)
{
    rotp_engine_event ev;
    if (c->e->host.progress == NULL)
        return;
    memset(&ev, 0, sizeof(ev));
    ev.struct_size = sizeof(ev);
    ev.type = type;
    ev.run_id = c->run_id;
    ev.step = step != NULL ? step : "";
    ev.step_status = step_status;
    ev.status = status;
    ev.detail = detail != NULL ? detail : "";
    ev.ms = ms;
    ev.wait_reason = reason;
    c->e->host.progress(c->e->host.user, &ev);
}

void eng_run_begin(erun *c, const char *command)
{
    if (c->quiet)
        return;
    send_event(c, ROTP_ENGINE_EV_RUN_BEGIN, command, 0, ROTP_ENGINE_OK, NULL, 0, 0);
}

void eng_run_end(erun *c, int32_t status)
{
    c->res->status = status;
    if (c->quiet)
        return;
    send_event(c, ROTP_ENGINE_EV_RUN_END, c->res->command, 0, status, NULL, 0, 0);
}

void eng_step_begin(erun *c, const char *name)
{
    send_event(c, ROTP_ENGINE_EV_STEP_BEGIN, name, 0, ROTP_ENGINE_OK, NULL, 0, 0);
}

void eng_step(erun *c, const char *name, int step_status, int32_t status, uint64_t ms,
              const char *fmt, ...)
{
    char detail[480], full[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    snprintf(full, sizeof(full), "%s%s", c->prefix ? c->prefix : "", name);
    name = full;
    if (c->res->nsteps < ROTP_ENGINE_MAX_STEPS) {
        rotp_engine_step *s = &c->res->steps[c->res->nsteps++];
        snprintf(s->name, sizeof(s->name), "%s", name);
        s->step_status = step_status;
        s->status = step_status == ROTP_ENGINE_STEP_FAIL ? status : ROTP_ENGINE_OK;
        snprintf(s->detail, sizeof(s->detail), "%s", detail);
        s->ms = ms;
    } else {
        c->res->steps_dropped++;
    }
    if (step_status == ROTP_ENGINE_STEP_FAIL && c->res->failed_step[0] == '\0') {
        snprintf(c->res->failed_step, sizeof(c->res->failed_step), "%s", name);
        snprintf(c->res->message, sizeof(c->res->message), "%s", detail);
    }
    send_event(c, ROTP_ENGINE_EV_STEP_END, name, step_status,
               step_status == ROTP_ENGINE_STEP_FAIL ? status : ROTP_ENGINE_OK, detail, ms, 0);
}

void eng_wait(erun *c, uint32_t reason, uint64_t ms, const char *why)
{
    send_event(c, ROTP_ENGINE_EV_WAIT, NULL, 0, ROTP_ENGINE_OK, why, ms, reason);
    if (c->e->host.sleep_ms != NULL) {
        c->e->host.sleep_ms(c->e->host.user, ms);
        return;
    }
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void eng_checkpoint(erun *c, uint32_t point)
{
    c->ncheck++;
    if (c->e->host.checkpoint != NULL)
        c->e->host.checkpoint(c->e->host.user, point, c->ncheck, c->run_id);
}

void eng_failed(erun *c, const char *step, const char *fmt, ...)
{
    va_list ap;
    if (c->res->failed_step[0] != '\0')
        return;
    snprintf(c->res->failed_step, sizeof(c->res->failed_step), "%s", step);
    va_start(ap, fmt);
    vsnprintf(c->res->message, sizeof(c->res->message), fmt, ap);
    va_end(ap);
}

int32_t erun_call(erun *c, uint32_t op, const ereq *req, eres *h)
{
    bool change = op == ROTP_OP_ROLL || op == ROTP_OP_REVOKE || op == ROTP_OP_PROVISION;
    int32_t code;
    c->res->provider_calls++;
    if (change)
        eng_checkpoint(c, ROTP_ENGINE_CP_SEND);
    code = eng_call(c->e, op, req, h);
    if (change)
        eng_checkpoint(c, ROTP_ENGINE_CP_SENT);
    return code;
}
