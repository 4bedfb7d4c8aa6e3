/* SPDX-License-Identifier: MIT */
/* json.h - a strict JSON reader over jsmn (the system header, built with JSMN_STRICT and
 * JSMN_PARENT_LINKS), with string unescaping in one place.
 *
 * json_parse() accepts exactly one top-level value followed only by white space, rejects bodies
 * containing NUL bytes or over JSON_MAX_BODY bytes, and rejects any object with a duplicate key
 * (a duplicate security-relevant key must never be resolved silently). Token indices are ints;
 * index 0 is the top-level value. */
#ifndef ROTP_JSON_H
#define ROTP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#define JSMN_HEADER
#include <jsmn.h>

#include "secret.h"

#define JSON_MAX_BODY (4u * 1024u * 1024u)

typedef struct json_doc {
    const char *js; /* borrowed: the text must outlive the doc */
    size_t len;
    jsmntok_t *toks; /* allocated */
    int ntoks;
} json_doc;

/* Status codes of this module (the numbers are part of its contract: cfemu compares them). */
#define JSON_OK     0
#define JSON_ENOMEM (-1) /* an allocation failed */
#define JSON_EINVAL                                                                                \
    (-2)                  /* malformed, truncated, trailing garbage, NUL byte, too large; or the   \
                             token is not of the type asked for */
#define JSON_EDUPKEY (-3) /* an object has the same key twice */
#define JSON_ESPACE  (-4) /* the value does not fit the caller's buffer */

/* What json_get() and json_at() return when there is no such member or element. */
#define JSON_NONE (-1)

/* Parses len bytes of js: JSON_OK, JSON_ENOMEM, JSON_EINVAL or JSON_EDUPKEY. On failure the doc
 * holds nothing to free. */
int json_parse(json_doc *doc, const char *js, size_t len);
/* true when js[0..len) is one valid JSON value and nothing but white space, within
 * JSON_MAX_BODY and free of NUL bytes: json_parse()'s grammar check, which allocates nothing.
 * Duplicate keys are not looked for. */
bool json_valid(const char *js, size_t len);
/* Frees the tokens; NULL-tolerant; the doc can be parsed into again. */
void json_free(json_doc *doc);

/* The index just past the value at tok (its next sibling, or ntoks). */
int json_skip(const json_doc *doc, int tok);
/* The value of key in the object at obj, or JSON_NONE when absent or obj is not an object. The
 * key is compared after unescaping. */
int json_get(const json_doc *doc, int obj, const char *key);
/* The i-th element of the array at arr, or JSON_NONE. */
int json_at(const json_doc *doc, int arr, int i);

bool json_is_null(const json_doc *doc, int tok);
bool json_is_string(const json_doc *doc, int tok);
bool json_is_object(const json_doc *doc, int tok);
bool json_is_array(const json_doc *doc, int tok);
/* true/false literal into *out: JSON_OK, or JSON_EINVAL if tok is not a boolean. */
int json_get_bool(const json_doc *doc, int tok, bool *out);
/* An integer number (no fraction or exponent) into *out: JSON_OK, or JSON_EINVAL if not one or
 * out of range. */
int json_get_int64(const json_doc *doc, int tok, int64_t *out);

/* Unescapes the string at tok (\uXXXX and surrogate pairs to UTF-8; \u0000 rejected) into a
 * new NUL-terminated allocation (*out NULL on failure). JSON_OK; JSON_ENOMEM; JSON_EINVAL if tok
 * is not a valid string. */
int json_strdup(const json_doc *doc, int tok, char **out);
/* Same, into a wiping secret buffer (the scratch space is wiped too); same codes. */
int json_secretdup(const json_doc *doc, int tok, secret_buf **out);
/* Unescapes into a caller buffer of size cap (NUL-terminated): JSON_OK, JSON_EINVAL (not a valid
 * string) or JSON_ESPACE (it does not fit; buf is then ""). */
int json_strcpy(const json_doc *doc, int tok, char *buf, size_t cap);
/* true if tok is a string whose unescaped value equals s. */
bool json_str_eq(const json_doc *doc, int tok, const char *s);

/* The raw text of any value (for numbers and for copying nested JSON verbatim). For a string,
 * the text between its quotes, still escaped. NULL (and *len = 0) for a bad token. */
const char *json_raw(const json_doc *doc, int tok, size_t *len);

#endif
