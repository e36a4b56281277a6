/*
 * tls.c - the TLS server side with OpenSSL 3 and bufferevent_openssl.
 *
 * One SSL_CTX for the whole server, TLS 1.2 and 1.3 only.  The certificate
 * comes from --tls-cert/--tls-key (both must load and must match: a bad
 * pair is a startup error naming the file), or, with neither, is made in
 * memory: an EC P-256 key and a self-signed X.509v3 certificate whose
 * subjectAltName covers the host name, localhost, 127.0.0.1 and ::1, so
 * `swaks --tls` and `openssl s_client` work with no set-up.
 *
 * TLS always sits on the socket itself (BUFFEREVENT_SSL_ACCEPTING): from
 * the first byte for --smtps, and for STARTTLS once conn.c has sent the
 * 220, discarded whatever the client pipelined after STARTTLS (RFC 3207
 * 4.2, CVE-2011-0411) and freed the plain bufferevent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "tls.h"
#include "xmalloc.h"

#define TLS_CERT_DAYS	825	/* validity of the self-signed certificate */

struct tls {
	SSL_CTX		*ctx;
	int		 self_signed;
	char		 fingerprint[3 * 32];	/* "AB:CD:..." SHA-256 */
};

/* The first queued OpenSSL error as text ("unknown" if none). */
static const char *
tls_ssl_error(void)
{
	static char	buf[256];
	unsigned long	e;

	if ((e = ERR_get_error()) == 0)
		return ("unknown error");
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return (buf);
}

/* Add one X.509v3 extension by NID and text value. */
static int
tls_add_ext(X509 *cert, int nid, const char *value)
{
	X509_EXTENSION	*ext;
	X509V3_CTX	 ctx;
	int		 ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return (-1);
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return (ok == 1 ? 0 : -1);
}

/* Make a self-signed certificate for hostname into the context. */
static int
tls_make_cert(SSL_CTX *ctx, const char *hostname, char **cause)
{
	EVP_PKEY	*key = NULL;
	X509		*cert = NULL;
	X509_NAME	*name;
	BIGNUM		*serial = NULL;
	char		*san = NULL;
	int		 rc = -1;

	if ((key = EVP_EC_gen("P-256")) == NULL)
		goto fail;
	if ((cert = X509_new()) == NULL ||
	    X509_set_version(cert, 2) != 1)
		goto fail;
	if ((serial = BN_new()) == NULL ||
	    BN_rand(serial, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
	    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert)) == NULL)
		goto fail;
	/* Valid from a day ago, so a client's clock skew does not matter. */
	if (X509_gmtime_adj(X509_getm_notBefore(cert), -86400) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(cert),
	    (long)TLS_CERT_DAYS * 86400) == NULL)
		goto fail;
	if (X509_set_pubkey(cert, key) != 1)
		goto fail;
	name = X509_get_subject_name(cert);
	if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"mailsink", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)hostname, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(cert, name) != 1)
		goto fail;
	if (strcmp(hostname, "localhost") == 0)
		xasprintf(&san, "DNS:localhost,IP:127.0.0.1,IP:::1");
	else
		xasprintf(&san, "DNS:%s,DNS:localhost,IP:127.0.0.1,IP:::1",
		    hostname);
	if (tls_add_ext(cert, NID_subject_alt_name, san) == -1 ||
	    tls_add_ext(cert, NID_basic_constraints, "critical,CA:FALSE") ==
	    -1 ||
	    tls_add_ext(cert, NID_key_usage,
	    "critical,digitalSignature,keyEncipherment") == -1 ||
	    tls_add_ext(cert, NID_ext_key_usage, "serverAuth") == -1)
		goto fail;
	if (X509_sign(cert, key, EVP_sha256()) == 0)
		goto fail;
	if (SSL_CTX_use_certificate(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, key) != 1)
		goto fail;
	rc = 0;
fail:
	if (rc == -1)
		xasprintf(cause, "cannot make a self-signed certificate: %s",
		    tls_ssl_error());
	free(san);
	BN_free(serial);
	X509_free(cert);
	EVP_PKEY_free(key);
	return (rc);
}

/*
 * Build the server context.  cert/key are PEM paths, or both NULL for a
 * self-signed certificate for hostname.  NULL with *cause on failure.
 */
struct tls *
tls_new(const char *cert, const char *key, const char *hostname,
    char **cause)
{
	struct tls	*t;
	X509		*x;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0, i;

	if ((cert == NULL) != (key == NULL)) {
		xasprintf(cause, "--tls-cert and --tls-key go together: %s"
		    " given without %s", cert != NULL ? "tls-cert" :
		    "tls-key", cert != NULL ? "tls-key" : "tls-cert");
		return (NULL);
	}
	t = xcalloc(1, sizeof(*t));
	if ((t->ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		xasprintf(cause, "SSL_CTX_new: %s", tls_ssl_error());
		goto fail;
	}
	if (SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION) != 1) {
		xasprintf(cause, "TLS 1.2 minimum: %s", tls_ssl_error());
		goto fail;
	}
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* bufferevent_openssl may hand over a different write buffer. */
	SSL_CTX_set_mode(t->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_RELEASE_BUFFERS);
	if (cert != NULL) {
		if (SSL_CTX_use_certificate_chain_file(t->ctx, cert) != 1) {
			xasprintf(cause, "%s: cannot load certificate: %s",
			    cert, tls_ssl_error());
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(t->ctx, key,
		    SSL_FILETYPE_PEM) != 1) {
			xasprintf(cause, "%s: cannot load private key: %s",
			    key, tls_ssl_error());
			goto fail;
		}
		if (SSL_CTX_check_private_key(t->ctx) != 1) {
			xasprintf(cause, "%s: private key does not match"
			    " certificate %s", key, cert);
			ERR_clear_error();
			goto fail;
		}
	} else {
		if (tls_make_cert(t->ctx, hostname, cause) == -1)
			goto fail;
		t->self_signed = 1;
	}
	if ((x = SSL_CTX_get0_certificate(t->ctx)) != NULL &&
	    X509_digest(x, EVP_sha256(), md, &mdlen) == 1) {
		t->fingerprint[0] = '\0';
		for (i = 0; i < mdlen && i < 32; i++) {
			char	hex[4];

			snprintf(hex, sizeof(hex), "%s%02X", i == 0 ? "" : ":",
			    md[i]);
			strlcat(t->fingerprint, hex, sizeof(t->fingerprint));
		}
	}
	return (t);
fail:
	tls_free(t);
	return (NULL);
}

/* Free the context; NULL is a no-op. */
void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

/* SHA-256 fingerprint of the server certificate, "AB:CD:...". */
const char *
tls_fingerprint(const struct tls *t)
{
	return (t->fingerprint);
}

int
tls_self_signed(const struct tls *t)
{
	return (t->self_signed);
}

/*
 * A server-side TLS bufferevent on socket fd: for --smtps from the first
 * byte, and for STARTTLS once the plain bufferevent is gone.  The
 * bufferevent owns fd and the SSL from then on: freeing it closes both.
 */
struct bufferevent *
tls_accept_socket(struct tls *t, struct event_base *base, int fd,
    char **cause)
{
	struct bufferevent	*bev;
	SSL			*ssl;

	if ((ssl = SSL_new(t->ctx)) == NULL) {
		xasprintf(cause, "SSL_new: %s", tls_ssl_error());
		return (NULL);
	}
	bev = bufferevent_openssl_socket_new(base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		xasprintf(cause, "bufferevent_openssl_socket_new failed");
		return (NULL);
	}
	return (bev);
}

/* Protocol ("TLSv1.3") and cipher of a TLS bufferevent after handshake. */
void
tls_session_info(struct bufferevent *bev, const char **protocol,
    const char **cipher)
{
	SSL	*ssl = bufferevent_openssl_get_ssl(bev);

	*protocol = ssl != NULL ? SSL_get_version(ssl) : NULL;
	*cipher = ssl != NULL ? SSL_get_cipher_name(ssl) : NULL;
}

/*
 * Send a close_notify on a TLS bufferevent (no-op for a plain one), so
 * the peer sees a clean end of the TLS stream before our FIN.
 */
void
tls_shutdown(struct bufferevent *bev)
{
	SSL	*ssl = bufferevent_openssl_get_ssl(bev);

	if (ssl != NULL && SSL_is_init_finished(ssl)) {
		if (SSL_shutdown(ssl) < 0)
			ERR_clear_error();
	}
}

/* Why a TLS bufferevent failed, for the log; caller frees. */
char *
tls_error(struct bufferevent *bev)
{
	unsigned long	e;
	char		buf[256];

	if ((e = bufferevent_get_openssl_error(bev)) == 0)
		return (xstrdup("connection closed during handshake"));
	ERR_error_string_n(e, buf, sizeof(buf));
	while (bufferevent_get_openssl_error(bev) != 0)
		;
	return (xstrdup(buf));
}
