/* SPDX-License-Identifier: MIT */
/* tls.c - the throwaway CA and server certificate cfemu makes at start (GnuTLS, ECDSA P-256),
 * and session resumption (session tickets) for the server's connections.
 *
 * The CA signs one server certificate valid for 127.0.0.1, ::1 and localhost (IP and DNS
 * subjectAltNames). Nothing is reused across runs; the CA key never leaves this process, and the
 * ticket key lives only for the run. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "alloc.h"
#include "cfemu.h"
#include "secret.h"

#define TLS_VALID_SECS (30L * 24 * 3600)

static char *datum_dup(const gnutls_datum_t *d)
{
    char *s = rotp__malloc(d->size + 1);

    if (s == NULL)
        return NULL;
    memcpy(s, d->data, d->size);
    s[d->size] = 0;
    return s;
}

static int new_key(gnutls_x509_privkey_t *key)
{
    if (gnutls_x509_privkey_init(key) < 0)
        return -1;
    if (gnutls_x509_privkey_generate(*key, GNUTLS_PK_ECDSA,
                                     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0)
        return -1;
    return 0;
}

/* Version, serial, validity, subject and key: the parts both certificates share. */
static int crt_common(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *dn)
{
    unsigned char serial[16];
    time_t now = time(NULL);
    const char *err = NULL;

    if (gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)) < 0)
        return -1;
    serial[0] &= 0x7f; /* a positive INTEGER */
    if (gnutls_x509_crt_set_version(crt, 3) < 0 ||
        gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) < 0 ||
        gnutls_x509_crt_set_activation_time(crt, now - 3600) < 0 ||
        gnutls_x509_crt_set_expiration_time(crt, now + TLS_VALID_SECS) < 0 ||
        gnutls_x509_crt_set_dn(crt, dn, &err) < 0 || gnutls_x509_crt_set_key(crt, key) < 0)
        return -1;
    return 0;
}

static int set_key_id(gnutls_x509_crt_t crt)
{
    unsigned char id[64];
    size_t n = sizeof(id);

    if (gnutls_x509_crt_get_key_id(crt, 0, id, &n) < 0)
        return -1;
    return gnutls_x509_crt_set_subject_key_id(crt, id, n) < 0 ? -1 : 0;
}

int tls_make(tls_material *m)
{
    gnutls_x509_privkey_t ca_key = NULL, srv_key = NULL;
    gnutls_x509_crt_t ca = NULL, srv = NULL;
    gnutls_datum_t d = {NULL, 0};
    static const unsigned char ip4[4] = {127, 0, 0, 1};
    static const unsigned char ip6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    unsigned char ca_id[64];
    size_t ca_id_len = sizeof(ca_id);
    int rc = -1;

    memset(m, 0, sizeof(*m));
    if (new_key(&ca_key) != 0 || new_key(&srv_key) != 0)
        goto out;
    if (gnutls_x509_crt_init(&ca) < 0 || gnutls_x509_crt_init(&srv) < 0)
        goto out;

    if (crt_common(ca, ca_key, "CN=cfemu throwaway test CA,O=rotp-cloudflare") != 0 ||
        gnutls_x509_crt_set_basic_constraints(ca, 1, 0) < 0 ||
        gnutls_x509_crt_set_key_usage(ca, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN) < 0 ||
        set_key_id(ca) != 0 || gnutls_x509_crt_sign2(ca, ca, ca_key, GNUTLS_DIG_SHA256, 0) < 0)
        goto out;
    if (gnutls_x509_crt_get_subject_key_id(ca, ca_id, &ca_id_len, NULL) < 0)
        goto out;

    if (crt_common(srv, srv_key, "CN=localhost,O=rotp-cloudflare cfemu") != 0 ||
        gnutls_x509_crt_set_basic_constraints(srv, 0, -1) < 0 ||
        gnutls_x509_crt_set_key_usage(srv, GNUTLS_KEY_DIGITAL_SIGNATURE) < 0 ||
        gnutls_x509_crt_set_key_purpose_oid(srv, GNUTLS_KP_TLS_WWW_SERVER, 0) < 0 ||
        gnutls_x509_crt_set_subject_alt_name(srv, GNUTLS_SAN_DNSNAME, "localhost", 9,
                                             GNUTLS_FSAN_APPEND) < 0 ||
        gnutls_x509_crt_set_subject_alt_name(srv, GNUTLS_SAN_IPADDRESS, ip4, sizeof(ip4),
                                             GNUTLS_FSAN_APPEND) < 0 ||
        gnutls_x509_crt_set_subject_alt_name(srv, GNUTLS_SAN_IPADDRESS, ip6, sizeof(ip6),
                                             GNUTLS_FSAN_APPEND) < 0 ||
        set_key_id(srv) != 0 || gnutls_x509_crt_set_authority_key_id(srv, ca_id, ca_id_len) < 0 ||
        gnutls_x509_crt_sign2(srv, ca, ca_key, GNUTLS_DIG_SHA256, 0) < 0)
        goto out;

    if (gnutls_x509_crt_export2(ca, GNUTLS_X509_FMT_PEM, &d) < 0)
        goto out;
    m->ca_pem = datum_dup(&d);
    gnutls_free(d.data);
    d.data = NULL;
    if (gnutls_x509_crt_export2(srv, GNUTLS_X509_FMT_PEM, &d) < 0)
        goto out;
    m->cert_pem = datum_dup(&d);
    gnutls_free(d.data);
    d.data = NULL;
    if (gnutls_x509_privkey_export2(srv_key, GNUTLS_X509_FMT_PEM, &d) < 0)
        goto out;
    m->key_pem = datum_dup(&d);
    secret_wipe(d.data, d.size);
    gnutls_free(d.data);
    d.data = NULL;
    if (gnutls_session_ticket_key_generate(&d) < 0)
        goto out;
    m->ticket_key = rotp__malloc(d.size);
    if (m->ticket_key != NULL) {
        memcpy(m->ticket_key, d.data, d.size);
        m->ticket_key_len = d.size;
    }
    secret_wipe(d.data, d.size);
    gnutls_free(d.data);
    d.data = NULL;
    if (m->ca_pem != NULL && m->cert_pem != NULL && m->key_pem != NULL && m->ticket_key != NULL)
        rc = 0;
out:
    if (rc != 0) {
        fprintf(stderr, "cfemu: cannot make the TLS certificates\n");
        tls_material_free(m);
    }
    gnutls_x509_crt_deinit(ca);
    gnutls_x509_crt_deinit(srv);
    gnutls_x509_privkey_deinit(ca_key);
    gnutls_x509_privkey_deinit(srv_key);
    return rc;
}

void tls_material_free(tls_material *m)
{
    if (m == NULL)
        return;
    rotp__free(m->ca_pem);
    rotp__free(m->cert_pem);
    if (m->key_pem != NULL) {
        secret_wipe(m->key_pem, strlen(m->key_pem));
        rotp__free(m->key_pem);
    }
    if (m->ticket_key != NULL) {
        secret_wipe(m->ticket_key, m->ticket_key_len);
        rotp__free(m->ticket_key);
    }
    memset(m, 0, sizeof(*m));
}

int tls_enable_tickets(void *session, const tls_material *m)
{
    gnutls_datum_t key = {m->ticket_key, (unsigned)m->ticket_key_len};

    /* GnuTLS copies what it needs from the key; TLS 1.3 tickets are sent after the handshake. */
    if (session == NULL || m->ticket_key == NULL)
        return -1;
    return gnutls_session_ticket_enable_server(session, &key) < 0 ? -1 : 0;
}

bool tls_resumed(void *session)
{
    return session != NULL && gnutls_session_is_resumed(session) != 0;
}
