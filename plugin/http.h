/* SPDX-License-Identifier: MIT */
/* http.h - the provider's HTTP client over libcurl: one easy handle per instance, HTTPS only,
 * TLS verified, no redirects, timeouts, bodies capped at HTTP_MAX_BODY, retries for idempotent
 * requests only.
 *
 * Secrets: wiping is a property of the transport. Every header line (the Authorization header,
 * any header marked secret) is built in a wiping buffer, the curl_slist holding the lines is
 * wiped before it is freed, the URL is wiped before it is freed, and response bodies live in a
 * dynbuf, which wipes on growth and free. CURLOPT_VERBOSE is never on. HTTP/1.1 only, so every
 * copy of a header sits in libcurl's and the TLS library's allocators, which a host can make wipe
 * (abi/ABI.md, "Process hardening"), and none in an HTTP/2 header table.
 *
 * Rate limits: requests with a bearer are paced per token (ratelimit.h): before a request is
 * sent, a token whose window is used up, or that a 429 blocked for Retry-After, waits (logged
 * at INFO, "waiting N ms for the rate limit of ...", and told to the host's wait callback). A
 * wait longer than max_wait_ms is not made: the call fails with ROTP_E_RATE_LIMITED and
 * nothing is sent. Rate-limit waits do not count against timeout_ms.
 *
 * Logging: one DEBUG line per request with the method and the path without its query or
 * fragment (ABI.md section 11); retries at INFO. Sockets are created close-on-exec.
 *
 * Proxies: `proxy` NULL or "" follows the environment as libcurl does (https_proxy, HTTPS_PROXY,
 * all_proxy, no_proxy), except that loopback is always reached directly; "none" refuses every
 * proxy; an http://, https://, socks5:// or socks5h:// URL is used for every request. Through an
 * HTTP(S) proxy the API is only ever reached through a CONNECT tunnel, so TLS runs end to end and
 * the server's certificate is verified through the tunnel: the proxy sees the CONNECT line and
 * ciphertext, never a token. */
#ifndef ROTP_HTTP_H
#define ROTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dynbuf.h"
#include "log.h"
#include "rotp.h"
#include "secret.h"

#define HTTP_MAX_BODY (1024u * 1024u)
#define HTTP_MAX_URL 2048

typedef struct http_config {
    const char *api_base;         /* e.g. https://api.cloudflare.com/client/v4, no trailing '/' */
    const char *ca_file;          /* NULL: the system store */
    bool allow_insecure_loopback; /* permit http:// to 127.0.0.1, ::1, localhost only */
    long timeout_ms;              /* total time for one http_do() including retries */
    long connect_timeout_ms;
    int max_retries;              /* extra attempts for idempotent requests */
    const char *user_agent;
    const char *proxy;            /* NULL or "": the environment's; "none": no proxy; or a URL */
    uint64_t max_wait_ms;         /* longest rate-limit wait; a longer one fails RATE_LIMITED */
} http_config;

typedef struct http_header {
    const char *name;  /* e.g. "CF-Access-Client-Id" */
    const char *value;
    size_t value_len;
    bool secret;       /* build it in a wiping buffer */
} http_header;

typedef struct http_request {
    const char *method;        /* GET, POST, PUT, DELETE */
    const char *path;          /* "/user/tokens/verify", appended to api_base; query allowed */
    const char *url;           /* instead of path: an absolute URL (probes), same scheme rules */
    const secret_buf *bearer;  /* Authorization: Bearer <bearer>; NULL for none */
    const http_header *headers;
    size_t nheaders;
    const char *body;          /* JSON; sent with Content-Type: application/json; NULL: none */
    size_t body_len;
    bool idempotent;           /* may be retried (GET, DELETE); never set for state changes */
    const char *credential;    /* whose rate limit the bearer is, for log lines and waits
                                  ("the management token"); NULL: "the bearer token" */
} http_request;

typedef struct http_response {
    long status;          /* 0 when no response arrived */
    dynbuf body;          /* capped at HTTP_MAX_BODY */
    char content_type[128];
    uint64_t retry_after_ms; /* from Retry-After (seconds or HTTP date), 0 if absent */
    int attempts;            /* how many times the request was sent */
} http_response;

typedef struct http_client http_client;

/* Creates a client. Refuses an api_base that is not https:// (or http:// to loopback with
 * allow_insecure_loopback), or that holds CR/LF, and a proxy that is not "none" or an http(s)://
 * or socks5(h):// URL without user info, path or query. `log` is borrowed for the client's life.
 * ROTP_E_OK, or an error code with err filled (ROTP_E_INVALID_ARGUMENT naming the key). */
int32_t http_client_new(const http_config *cfg, const plog *log, http_client **out,
                        rotp_error *err);
/* NULL-tolerant. */
void http_client_free(http_client *c);
/* Binds the host's wait callback (ABI 1.2) to the client; fn NULL: waits are only logged. */
void http_client_set_wait(http_client *c, rotp_wait_fn fn, void *user);

/* Sends the request and fills resp (which it initialises; free with http_response_free()).
 * Returns ROTP_E_OK when an HTTP response arrived, whatever its status; the caller classifies it.
 * Idempotent requests are retried on transport failures, 429 and 5xx with exponential backoff,
 * jitter and Retry-After, within max_retries and timeout_ms; the last response is returned.
 * Otherwise: ROTP_E_TRANSIENT (nothing was sent: connect/DNS failure), ROTP_E_TLS (peer not
 * verified), ROTP_E_OUTCOME_UNKNOWN (a non-idempotent request may have been sent and no complete
 * answer came: ROTP_ERRF_REQUEST_SENT set), ROTP_E_PROTOCOL (body over the cap),
 * ROTP_E_RATE_LIMITED (the token's rate limit would need a wait over max_wait_ms, or the host
 * stopped the wait: nothing was sent; retry_after_ms says when it may go),
 * ROTP_E_INVALID_ARGUMENT (bad URL or header value), ROTP_E_NO_MEMORY. */
int32_t http_do(http_client *c, const http_request *req, http_response *resp, rotp_error *err);
/* NULL-tolerant. */
void http_response_free(http_response *resp);

/* Parses a Retry-After value (delta seconds or an HTTP date) into milliseconds; 0 if invalid. */
uint64_t http_parse_retry_after(const char *value, size_t len, int64_t now_unix);

#endif
