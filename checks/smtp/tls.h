/*
 * TLS for the SMTP probe, over OpenSSL: the handshake after STARTTLS and
 * what it shows (protocol, cipher, the certificate, whether it chains to
 * the system's trust store and names the MX host). OpenSSL's objects stay
 * inside tls.c.
 */
#ifndef WHY550_SMTP_TLS_H
#define WHY550_SMTP_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checks/smtp/conn.h"
#include "core/util.h"

/* What one handshake showed; a field it did not reach stays empty. */
struct smtp_tls_info {
	char protocol[32];	/* "TLSv1.3" */
	char cipher[96];	/* "TLS_AES_256_GCM_SHA384" */
	bool has_cert;		/* the server sent a certificate */
	bool chain_ok;		/* it chains to the system's trust store */
	char verify_error[128];	/* why it does not, "" when it does */
	bool name_ok;		/* it names the host asked for (RFC 6125) */
	char subject[256];	/* one line, as OpenSSL prints it */
	char issuer[256];
	char not_after[40];	/* "2030-01-01T00:00:00Z" */
};

/* The client configuration, shared by every connection (thread-safe once made). */
struct smtp_tls_ctx;

/* The system's trust store loaded. NULL with err when OpenSSL cannot be set up. */
struct smtp_tls_ctx *smtp_tls_ctx_new(struct error *err);
void smtp_tls_ctx_free(struct smtp_tls_ctx *ctx);

/* One TLS session over a connected, non-blocking socket. */
struct smtp_tls;

/*
 * The handshake on fd for servername (SNI, and the name the certificate
 * must carry), until until_ms. The certificate is checked but never
 * refused: the probe reports it. NULL on failure, with *io (tls_failed,
 * timeout, closed, reset) and why; info has what was seen either way.
 */
struct smtp_tls *smtp_tls_start(const struct smtp_tls_ctx *ctx, int fd, const char *servername,
    int64_t until_ms, struct smtp_tls_info *info, enum smtp_io *io, char *why, size_t whylen);

/* Reads up to cap bytes into buf (*got of them), waiting until until_ms. */
enum smtp_io smtp_tls_read(struct smtp_tls *t, char *buf, size_t cap, size_t *got,
    int64_t until_ms, char *why, size_t whylen);
/* Writes all len bytes, waiting until until_ms. */
enum smtp_io smtp_tls_write(struct smtp_tls *t, const char *buf, size_t len, int64_t until_ms,
    char *why, size_t whylen);

/* Sends close_notify without waiting for the answer, and frees t. NULL is a no-op. */
void smtp_tls_free(struct smtp_tls *t);

#endif
