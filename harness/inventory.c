/* SPDX-License-Identifier: MIT */
/* inventory.c - reading and checking the fleet inventory (inventory.h). */
#include "inventory.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "ids.h"
#include "json.h"
#include "secfile.h"
#include "timefmt.h"

#define CADENCE_MAX_DAYS 3650

/* ---------------------------------------------------------------------------------------------
 * Issues
 * ------------------------------------------------------------------------------------------- */

static void issue(inv_issues *iss, int index, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void issue(inv_issues *iss, int index, const char *key, const char *fmt, ...)
{
    va_list ap;
    inv_issue *it;

    if (iss->n >= INV_MAX_ISSUES) {
        iss->dropped++;
        return;
    }
    it = &iss->items[iss->n++];
    it->index = index;
    snprintf(it->key, sizeof(it->key), "%s", key != NULL ? key : "");
    va_start(ap, fmt);
    vsnprintf(it->msg, sizeof(it->msg), fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------------------------------------------
 * Parsing
 * ------------------------------------------------------------------------------------------- */

/* What the parser carries around: the document, the issues, and whether memory ran out. */
typedef struct pctx {
    const json_doc *d;
    inv_issues *iss;
    bool nomem;
} pctx;

/* A name that goes into dotenv lines and environment variables (as --secret-name). */
static bool env_name_ok(const char *s)
{
    if (s[0] == '\0' || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

/* A copy of the string at tok into *out; an issue when it is not a non-empty string that fits a
 * header (no CR, LF; at most 4096 bytes). */
static bool take_string(pctx *c, int index, const char *key, int tok, char **out)
{
    char *s = NULL;
    int rc;

    if (!json_is_string(c->d, tok)) {
        issue(c->iss, index, key, "must be a string");
        return false;
    }
    rc = json_strdup(c->d, tok, &s);
    if (rc == JSON_ENOMEM) {
        c->nomem = true;
        return false;
    }
    if (rc != JSON_OK || s[0] == '\0' || !header_value_ok(s, strlen(s), 4096)) {
        issue(c->iss, index, key, "must be a non-empty string of at most 4096 bytes on one line");
        rotp__free(s);
        return false;
    }
    rotp__free(*out);
    *out = s;
    return true;
}

static bool take_name(pctx *c, int index, const char *key, int tok, char **out)
{
    if (!take_string(c, index, key, tok, out))
        return false;
    if (!env_name_ok(*out)) {
        issue(c->iss, index, key, "must be a variable name: [A-Za-z_][A-Za-z0-9_]*");
        return false;
    }
    return true;
}

static void take_aliases(pctx *c, inv_entry *e, int tok)
{
    int n;

    if (!json_is_array(c->d, tok)) {
        issue(c->iss, e->index, "aliases", "must be an array of names");
        return;
    }
    n = c->d->toks[tok].size;
    if (n > INV_MAX_ALIASES) {
        issue(c->iss, e->index, "aliases", "at most %d aliases", INV_MAX_ALIASES);
        return;
    }
    for (int i = 0; i < n && !c->nomem; i++) {
        char *a = NULL;
        if (take_name(c, e->index, "aliases", json_at(c->d, tok, i), &a))
            e->aliases[e->naliases++] = a;
        else
            rotp__free(a);
    }
}

static void take_cadence(pctx *c, inv_entry *e, int tok)
{
    int64_t v = 0;

    if (json_get_int64(c->d, tok, &v) != JSON_OK || v < 1 || v > CADENCE_MAX_DAYS) {
        issue(c->iss, e->index, "cadence_days", "must be a whole number of days, 1 to %d",
              CADENCE_MAX_DAYS);
        return;
    }
    e->cadence_days = (long)v;
    e->has_cadence = true;
}

/* Sets request key k to v (a new string, owned from here on; replaces an earlier value). */
static bool req_set(inv_entry *e, const char *k, char *v, bool *nomem)
{
    for (int i = 0; i < e->nreq; i++) {
        if (strcmp(e->req[i].key, k) == 0) {
            rotp__free(e->req[i].value);
            e->req[i].value = v;
            return true;
        }
    }
    if (e->nreq >= INV_MAX_REQ) {
        rotp__free(v);
        return false;
    }
    e->req[e->nreq].key = rotp__strdup(k);
    if (e->req[e->nreq].key == NULL) {
        rotp__free(v);
        *nomem = true;
        return false;
    }
    e->req[e->nreq++].value = v;
    return true;
}

/* Any other key: a request key of the kind, checked later. Strings, whole numbers and booleans
 * are kept as text; objects, arrays and null are refused. */
static void take_request_key(pctx *c, inv_entry *e, const char *key, int tok)
{
    char *v = NULL;
    size_t len = 0;
    const char *raw;

    if (strlen(key) >= 64) {
        issue(c->iss, e->index, "", "a key of more than 63 bytes");
        return;
    }
    if (json_is_string(c->d, tok)) {
        if (!take_string(c, e->index, key, tok, &v))
            return;
    } else {
        int64_t n;
        bool b;
        if (json_get_int64(c->d, tok, &n) != JSON_OK && json_get_bool(c->d, tok, &b) != JSON_OK) {
            issue(c->iss, e->index, key, "must be a string, a whole number or a boolean");
            return;
        }
        raw = json_raw(c->d, tok, &len);
        v = rotp__strndup(raw, len);
        if (v == NULL) {
            c->nomem = true;
            return;
        }
    }
    if (!req_set(e, key, v, &c->nomem) && !c->nomem)
        issue(c->iss, e->index, key, "too many request keys (at most %d)", INV_MAX_REQ);
}

/* Keys an entry may carry but the defaults may not: they differ per credential. */
static bool per_credential(const char *key)
{
    return strcmp(key, "name") == 0 || strcmp(key, "aliases") == 0 || strcmp(key, "id") == 0 ||
           strcmp(key, "secret_file") == 0 || strcmp(key, "out") == 0;
}

/* One member of an entry (or of the defaults). */
static void take_member(pctx *c, inv_entry *e, const char *key, int tok)
{
    if (e->index == INV_AT_DEFAULTS && per_credential(key)) {
        issue(c->iss, e->index, key,
              "differs per credential: set it in each entry, not in "
              "defaults");
        return;
    }
    if (strcmp(key, "name") == 0)
        take_name(c, e->index, key, tok, &e->name);
    else if (strcmp(key, "aliases") == 0)
        take_aliases(c, e, tok);
    else if (strcmp(key, "kind") == 0)
        take_string(c, e->index, key, tok, &e->kind);
    else if (strcmp(key, "cadence_days") == 0)
        take_cadence(c, e, tok);
    else if (strcmp(key, "secret_file") == 0)
        take_string(c, e->index, key, tok, &e->secret_file);
    else if (strcmp(key, "out") == 0)
        take_string(c, e->index, key, tok, &e->out);
    else if (strcmp(key, "exec") == 0)
        take_string(c, e->index, key, tok, &e->exec);
    else if (strcmp(key, "token_file") == 0)
        take_string(c, e->index, key, tok, &e->token_file);
    else
        take_request_key(c, e, key, tok);
}

static void take_object(pctx *c, inv_entry *e, int obj)
{
    int k = obj + 1;

    for (int i = 0; i < c->d->toks[obj].size && !c->nomem; i++) {
        char key[80];
        int v = k + 1;
        if (json_strcpy(c->d, k, key, sizeof(key)) != JSON_OK)
            issue(c->iss, e->index, "", "a key of more than 63 bytes");
        else
            take_member(c, e, key, v);
        k = json_skip(c->d, v);
    }
}

static bool entry_has_name(const inv_entry *e, const char *name)
{
    if (e->name != NULL && strcmp(e->name, name) == 0)
        return true;
    for (int a = 0; a < e->naliases; a++) {
        if (strcmp(e->aliases[a], name) == 0)
            return true;
    }
    return false;
}

/* The names and aliases of all entries are distinct (they become variable names), and so are
 * the out files (two entries writing one file would overwrite each other). */
static void check_unique(const inventory *inv, inv_issues *iss)
{
    for (int i = 0; i < inv->n; i++) {
        const inv_entry *e = &inv->entries[i];
        for (int j = 0; j < i; j++) {
            const inv_entry *p = &inv->entries[j];
            if (e->name != NULL && entry_has_name(p, e->name))
                issue(iss, e->index, "name", "%s is already used by credentials[%d]", e->name,
                      p->index);
            for (int a = 0; a < e->naliases; a++) {
                if (entry_has_name(p, e->aliases[a]))
                    issue(iss, e->index, "aliases", "%s is already used by credentials[%d]",
                          e->aliases[a], p->index);
            }
            if (e->out != NULL && p->out != NULL && strcmp(e->out, p->out) == 0)
                issue(iss, e->index, "out", "the same file as credentials[%d]'s out", p->index);
        }
        for (int a = 0; a < e->naliases; a++) {
            if (e->name != NULL && strcmp(e->aliases[a], e->name) == 0)
                issue(iss, e->index, "aliases", "%s is the entry's own name", e->name);
        }
    }
}

/* An inventory key of the defaults an entry did not set itself. */
static void inherit(pctx *c, char **mine, const char *def)
{
    if (*mine != NULL || def == NULL)
        return;
    *mine = rotp__strdup(def);
    c->nomem |= *mine == NULL;
}

/* Entry i of the credentials array: its members, then what every entry needs. */
static void take_entry(pctx *c, inventory *inv, int i, int tok)
{
    inv_entry *e = &inv->entries[i];

    e->index = i;
    if (!json_is_object(c->d, tok)) {
        issue(c->iss, i, "", "must be an object");
        return;
    }
    take_object(c, e, tok);
    if (e->name == NULL && json_get(c->d, tok, "name") == JSON_NONE)
        issue(c->iss, i, "name", "missing: every credential needs a name");
    if (e->kind == NULL && inv->defaults.kind == NULL && json_get(c->d, tok, "kind") == JSON_NONE)
        issue(c->iss, i, "kind", "missing: give the kind here or in defaults");
    inherit(c, &e->kind, inv->defaults.kind);
    inherit(c, &e->exec, inv->defaults.exec);
    inherit(c, &e->token_file, inv->defaults.token_file);
}

/* version, defaults, credentials, in that order of need. */
static void take_top(pctx *c, inventory *inv)
{
    int ver = json_get(c->d, 0, "version");
    int def = json_get(c->d, 0, "defaults");
    int cred = json_get(c->d, 0, "credentials");
    int64_t v = 0;

    for (int i = 0, k = 1; i < c->d->toks[0].size; i++) {
        if (!json_str_eq(c->d, k, "version") && !json_str_eq(c->d, k, "defaults") &&
            !json_str_eq(c->d, k, "credentials")) {
            char key[64] = "";
            json_strcpy(c->d, k, key, sizeof(key));
            issue(c->iss, INV_AT_FILE, key,
                  "unknown key (version 1 has version, defaults and "
                  "credentials)");
        }
        k = json_skip(c->d, k + 1);
    }
    if (ver == JSON_NONE || json_get_int64(c->d, ver, &v) != JSON_OK || v != INV_VERSION) {
        issue(c->iss, INV_AT_FILE, "version", "must be %d (this harness reads version %d)",
              INV_VERSION, INV_VERSION);
        return; /* another version's keys mean other things: stop here */
    }
    inv->version = (int)v;
    if (def != JSON_NONE) {
        if (json_is_object(c->d, def))
            take_object(c, &inv->defaults, def);
        else
            issue(c->iss, INV_AT_FILE, "defaults", "must be an object");
    }
    if (cred == JSON_NONE || !json_is_array(c->d, cred) || c->d->toks[cred].size == 0 ||
        c->d->toks[cred].size > INV_MAX_ENTRIES) {
        issue(c->iss, INV_AT_FILE, "credentials", "must be an array of 1 to %d objects",
              INV_MAX_ENTRIES);
        return;
    }
    inv->entries = rotp__calloc((size_t)c->d->toks[cred].size, sizeof(*inv->entries));
    if (inv->entries == NULL) {
        c->nomem = true;
        return;
    }
    inv->n = c->d->toks[cred].size;
    for (int i = 0; i < inv->n && !c->nomem; i++)
        take_entry(c, inv, i, json_at(c->d, cred, i));
    if (!c->nomem)
        check_unique(inv, c->iss);
}

inv_status inv_parse(inventory *inv, const char *text, size_t len, inv_issues *iss)
{
    json_doc d;
    pctx c = {.d = &d, .iss = iss, .nomem = false};
    int before = iss->n + iss->dropped;
    int rc;

    memset(inv, 0, sizeof(*inv));
    inv->defaults.index = INV_AT_DEFAULTS;
    if (len > INV_MAX_BYTES) {
        issue(iss, INV_AT_FILE, "", "larger than %u bytes", INV_MAX_BYTES);
        return INV_EBAD;
    }
    rc = json_parse(&d, text, len);
    if (rc == JSON_ENOMEM)
        return INV_ENOMEM;
    if (rc != JSON_OK) {
        issue(iss, INV_AT_FILE, "",
              rc == JSON_EDUPKEY ? "an object has the same key twice"
                                 : "not valid JSON (one object, UTF-8, no trailing text)");
        return INV_EBAD;
    }
    if (!json_is_object(&d, 0))
        issue(iss, INV_AT_FILE, "", "must be one JSON object");
    else
        take_top(&c, inv);
    json_free(&d);
    if (c.nomem)
        return INV_ENOMEM;
    return iss->n + iss->dropped > before ? INV_EBAD : INV_OK;
}

inv_status inv_load(inventory *inv, const char *path, inv_issues *iss)
{
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    inv_status rc = INV_EIO;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    memset(inv, 0, sizeof(*inv));
    if (fd < 0) {
        issue(iss, INV_AT_FILE, "", "cannot open: %s", strerror(errno));
        return INV_EIO;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        issue(iss, INV_AT_FILE, "", "not a regular file");
        goto out_close;
    }
    if ((uint64_t)st.st_size > INV_MAX_BYTES) {
        issue(iss, INV_AT_FILE, "", "larger than %u bytes", INV_MAX_BYTES);
        rc = INV_EBAD;
        goto out_close;
    }
    buf = rotp__malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        rc = INV_ENOMEM;
        goto out_close;
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            issue(iss, INV_AT_FILE, "", "cannot read: %s", r < 0 ? strerror(errno) : "short read");
            goto out_free;
        }
        got += (size_t)r;
    }
    rc = inv_parse(inv, buf, got, iss);
out_free:
    rotp__free(buf);
out_close:
    close(fd);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Checking against the provider's kinds
 * ------------------------------------------------------------------------------------------- */

const rotp_kind_info *inv_kind_info(const rotp_kind_info *const *kinds, const char *kind)
{
    for (size_t i = 0; kinds != NULL && kinds[i] != NULL && kind != NULL; i++) {
        if (kinds[i]->kind != NULL && strcmp(kinds[i]->kind, kind) == 0)
            return kinds[i];
    }
    return NULL;
}

static const rotp_key_info *key_at(const rotp_kind_info *ki, uint32_t i)
{
    return (const rotp_key_info *)((const char *)ki->request_keys +
                                   (size_t)i * ki->request_keys[0].struct_size);
}

const rotp_key_info *inv_request_key(const rotp_kind_info *ki, const char *key)
{
    for (uint32_t i = 0; i < ki->nrequest_keys; i++) {
        const rotp_key_info *k = key_at(ki, i);
        if (strcmp(k->key, key) == 0)
            return k;
    }
    return NULL;
}

static bool is_int_text(const char *v, int64_t *out)
{
    char *end = NULL;
    long long n;

    if (v[0] == '\0')
        return false;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = n;
    return true;
}

/* Why v does not fit the key's format, or NULL when it does. */
static const char *misfit(const rotp_key_info *k, const char *v)
{
    size_t len = strlen(v);
    const char *f = k->format != NULL ? k->format : "text";
    int64_t n = 0;

    if (strcmp(f, "hex32") == 0)
        return id_is_hex32(v, len) ? NULL : "must be 32 lowercase hex digits";
    if (strcmp(f, "uuid") == 0)
        return id_is_uuid(v, len) ? NULL : "must be a lowercase UUID";
    if (strcmp(f, "int") == 0) {
        if (!is_int_text(v, &n))
            return "must be a whole number";
        if (k->min_value < k->max_value && (n < k->min_value || n > k->max_value))
            return "is out of range";
        return NULL;
    }
    if (strcmp(f, "bool") == 0)
        return strcmp(v, "true") == 0 || strcmp(v, "false") == 0 || strcmp(v, "1") == 0 ||
                       strcmp(v, "0") == 0
                   ? NULL
                   : "must be true or false";
    if (strcmp(f, "enum") == 0) {
        for (size_t i = 0; k->choices != NULL && k->choices[i] != NULL; i++) {
            if (strcmp(k->choices[i], v) == 0)
                return NULL;
        }
        return "is not one of the kind's choices";
    }
    if (strcmp(f, "rfc3339") == 0)
        return rfc3339_parse(v, len, &n) == 0 ? NULL : "must be an RFC 3339 time";
    if (strcmp(f, "duration") == 0)
        return duration_parse_ms(v, len, &n) == 0 ? NULL : "must be a duration such as 1h30m";
    if (strcmp(f, "url") == 0)
        return strncmp(v, "https://", 8) == 0 || strncmp(v, "http://", 7) == 0
                   ? NULL
                   : "must be an http(s) URL";
    if (strcmp(f, "path") == 0)
        return v[0] == '/' ? NULL : "must be a path starting with /";
    if (strcmp(f, "json") == 0)
        return json_valid(v, len) ? NULL : "must be JSON text";
    return NULL;
}

/* " (one of: a b)" for an enum key (up to four choices) into buf, "" otherwise. */
static const char *choices_text(const rotp_key_info *k, char *buf, size_t cap)
{
    size_t used = 0;

    buf[0] = '\0';
    if (k->format == NULL || strcmp(k->format, "enum") != 0 || k->choices == NULL)
        return buf;
    used += (size_t)snprintf(buf, cap, " (one of:");
    for (size_t i = 0; k->choices[i] != NULL && i < 4 && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, " %s", k->choices[i]);
    if (used < cap)
        snprintf(buf + used, cap - used, ")");
    return buf;
}

/* The request keys an entry wrote: each one the kind takes for some operation, not a secret,
 * in its format. */
static void check_written_keys(const inv_entry *e, const rotp_kind_info *ki, inv_issues *iss)
{
    for (int i = 0; i < e->nreq; i++) {
        const rotp_key_info *k = inv_request_key(ki, e->req[i].key);
        const char *why;
        char choices[192];
        if (k == NULL) {
            issue(iss, e->index, e->req[i].key,
                  "%s takes no such key (see `rotp-harness "
                  "describe --kind %s`)",
                  ki->kind, ki->kind);
            continue;
        }
        if ((k->flags & ROTP_KEY_SECRET) != 0 || k->role == ROTP_ROLE_SECRET_PART) {
            issue(iss, e->index, e->req[i].key,
                  "is part of the secret: never in the inventory; use secret_file");
            continue;
        }
        if (k->role == ROTP_ROLE_RUN_ID) {
            issue(iss, e->index, e->req[i].key, "is set by the harness for each run");
            continue;
        }
        why = misfit(k, e->req[i].value);
        if (why != NULL)
            issue(iss, e->index, e->req[i].key, "%s%s", why,
                  choices_text(k, choices, sizeof(choices)));
    }
}

/* The first of the key's environment fallbacks that is set, or NULL. */
static const char *from_env(const rotp_key_info *k)
{
    for (size_t i = 0; k->env != NULL && k->env[i] != NULL; i++) {
        const char *v = getenv(k->env[i]);
        if (v != NULL && v[0] != '\0')
            return v;
    }
    return NULL;
}

/* Fills keys the kind takes from the defaults, then required ones from the environment. */
static void fill_defaults(inv_entry *e, const inv_entry *def, const rotp_kind_info *ki, bool *nomem)
{
    for (int i = 0; i < def->nreq && !*nomem; i++) {
        char *v;
        if (inv_get(e, def->req[i].key) != NULL || inv_request_key(ki, def->req[i].key) == NULL)
            continue;
        v = rotp__strdup(def->req[i].value);
        if (v == NULL)
            *nomem = true;
        else
            req_set(e, def->req[i].key, v, nomem);
    }
    for (uint32_t i = 0; i < ki->nrequest_keys && !*nomem; i++) {
        const rotp_key_info *k = key_at(ki, i);
        const char *ev;
        char *v;
        if ((k->required_ops & ROTP_OP_ROLL) == 0 || k->one_of != 0 || inv_get(e, k->key))
            continue;
        ev = from_env(k);
        if (ev == NULL)
            continue;
        v = rotp__strdup(ev);
        if (v == NULL)
            *nomem = true;
        else
            req_set(e, k->key, v, nomem);
    }
    if (!e->has_cadence) {
        e->cadence_days = def->has_cadence ? def->cadence_days : (long)ki->cadence_days;
        e->has_cadence = def->has_cadence;
    }
}

/* Keys a roll needs: each required one, and exactly one of every one_of group. */
static void check_required(const inv_entry *e, const rotp_kind_info *ki, inv_issues *iss)
{
    for (uint32_t i = 0; i < ki->nrequest_keys; i++) {
        const rotp_key_info *k = key_at(ki, i);
        if ((k->required_ops & ROTP_OP_ROLL) == 0 || k->role == ROTP_ROLE_RUN_ID ||
            (k->flags & ROTP_KEY_SECRET) != 0)
            continue;
        if (k->one_of == 0) {
            if (inv_get(e, k->key) == NULL)
                issue(iss, e->index, k->key, "missing: %s needs it to roll (here, in defaults%s%s)",
                      ki->kind, k->env != NULL && k->env[0] != NULL ? " or $" : "",
                      k->env != NULL && k->env[0] != NULL ? k->env[0] : "");
            continue;
        }
        /* one_of: report once per group, at its first key */
        bool first = true;
        int present = 0;
        const char *other = "";
        for (uint32_t j = 0; j < ki->nrequest_keys; j++) {
            const rotp_key_info *o = key_at(ki, j);
            if (o->one_of != k->one_of || (o->required_ops & ROTP_OP_ROLL) == 0)
                continue;
            if (j < i)
                first = false;
            if (o != k)
                other = o->key;
            present += inv_get(e, o->key) != NULL;
        }
        if (first && present != 1)
            issue(iss, e->index, k->key, "give exactly one of %s and %s (%s)", k->key, other,
                  present == 0 ? "none given" : "both given");
    }
}

inv_status inv_check_kinds(inventory *inv, const rotp_kind_info *const *kinds, inv_issues *iss)
{
    int before = iss->n + iss->dropped;
    bool nomem = false;

    if (inv->defaults.kind != NULL && inv_kind_info(kinds, inv->defaults.kind) == NULL)
        issue(iss, INV_AT_DEFAULTS, "kind", "the provider has no kind %s (see `rotp-harness info`)",
              inv->defaults.kind);
    for (int i = 0; i < inv->n && !nomem; i++) {
        inv_entry *e = &inv->entries[i];
        const rotp_kind_info *ki = inv_kind_info(kinds, e->kind);
        if (e->kind == NULL)
            continue; /* reported by the parser */
        if (ki == NULL) {
            issue(iss, e->index, "kind", "the provider has no kind %s (see `rotp-harness info`)",
                  e->kind);
            continue;
        }
        if ((ki->ops & (ROTP_OP_ROLL | ROTP_OP_VERIFY | ROTP_OP_DESCRIBE)) !=
            (ROTP_OP_ROLL | ROTP_OP_VERIFY | ROTP_OP_DESCRIBE)) {
            issue(iss, e->index, "kind", "%s cannot be rotated (no roll, verify or describe)",
                  e->kind);
            continue;
        }
        check_written_keys(e, ki, iss);
        fill_defaults(e, &inv->defaults, ki, &nomem);
        check_required(e, ki, iss);
    }
    if (nomem)
        return INV_ENOMEM;
    return iss->n + iss->dropped > before ? INV_EBAD : INV_OK;
}

/* One file that holds a secret: its metadata against the rule (secfile.h). */
static void check_file(const inv_entry *e, const char *key, const char *path, bool must_exist,
                       bool allow_unsafe, inv_issues *iss)
{
    struct stat st;
    char fix[PATH_MAX * 2 + 64];
    const char *why;

    if (path == NULL)
        return;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT || must_exist)
            issue(iss, e->index, key, "cannot stat %s: %s", path, strerror(errno));
        return;
    }
    why = secfile_unsafe(&st, path, fix, sizeof(fix));
    if (why == NULL || (allow_unsafe && (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))))
        return;
    issue(iss, e->index, key, "%s %s (mode %04o). Fix: %.120s", path, why,
          (unsigned)(st.st_mode & 07777), fix);
}

inv_status inv_check_files(const inventory *inv, bool allow_unsafe, inv_issues *iss)
{
    int before = iss->n + iss->dropped;

    for (int i = 0; i < inv->n; i++) {
        const inv_entry *e = &inv->entries[i];
        check_file(e, "secret_file", e->secret_file, false, allow_unsafe, iss);
        check_file(e, "token_file", e->token_file, true, allow_unsafe, iss);
    }
    return iss->n + iss->dropped > before ? INV_EBAD : INV_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Lookups, printing, freeing
 * ------------------------------------------------------------------------------------------- */

const char *inv_get(const inv_entry *e, const char *key)
{
    for (int i = 0; i < e->nreq; i++) {
        if (strcmp(e->req[i].key, key) == 0)
            return e->req[i].value;
    }
    return NULL;
}

const inv_entry *inv_find(const inventory *inv, const char *name)
{
    for (int i = 0; i < inv->n; i++) {
        const inv_entry *e = &inv->entries[i];
        if (e->name != NULL && strcmp(e->name, name) == 0)
            return e;
        for (int a = 0; a < e->naliases; a++) {
            if (strcmp(e->aliases[a], name) == 0)
                return e;
        }
    }
    return NULL;
}

void inv_issues_print(const inv_issues *iss, const inventory *inv, const char *path, FILE *f)
{
    for (int i = 0; i < iss->n; i++) {
        const inv_issue *it = &iss->items[i];
        const char *name = NULL;
        if (it->index >= 0 && inv != NULL && it->index < inv->n)
            name = inv->entries[it->index].name;
        fprintf(f, "rotp-harness: %s: ", path);
        if (it->index == INV_AT_DEFAULTS)
            fprintf(f, "defaults: ");
        else if (it->index >= 0 && name != NULL)
            fprintf(f, "credentials[%d] (%s): ", it->index, name);
        else if (it->index >= 0)
            fprintf(f, "credentials[%d]: ", it->index);
        if (it->key[0] != '\0')
            fprintf(f, "%s: ", it->key);
        fprintf(f, "%s\n", it->msg);
    }
    if (iss->dropped > 0)
        fprintf(f, "rotp-harness: %s: %d more problems not shown\n", path, iss->dropped);
}

static void entry_free(inv_entry *e)
{
    rotp__free(e->name);
    for (int i = 0; i < e->naliases; i++)
        rotp__free(e->aliases[i]);
    rotp__free(e->kind);
    rotp__free(e->secret_file);
    rotp__free(e->out);
    rotp__free(e->exec);
    rotp__free(e->token_file);
    for (int i = 0; i < e->nreq; i++) {
        rotp__free(e->req[i].key);
        rotp__free(e->req[i].value);
    }
}

void inv_free(inventory *inv)
{
    if (inv == NULL)
        return;
    entry_free(&inv->defaults);
    for (int i = 0; i < inv->n; i++)
        entry_free(&inv->entries[i]);
    rotp__free(inv->entries);
    memset(inv, 0, sizeof(*inv));
}
