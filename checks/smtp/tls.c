/* TLS after STARTTLS over OpenSSL: a handshake under a deadline on a non-blocking socket, and what it showed. */
#include "checks/smtp/tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

struct smtp_tls_ctx {
	SSL_CTX *ssl;
	BIO_METHOD *bio;	/* a socket BIO that never raises SIGPIPE */
};

struct smtp_tls {
	SSL *ssl;
	int fd;
};

/*
 * The socket BIO writes with write(), which raises SIGPIPE when a server
 * has closed the connection; a hostile server must not end the program,
 * so writes go through send(MSG_NOSIGNAL).
 */
static int
nosigpipe_write(BIO *b, const char *buf, int len)
{
	int fd = -1;
	ssize_t n;

	BIO_get_fd(b, &fd);
	BIO_clear_retry_flags(b);
	n = send(fd, buf, (size_t)len, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_write(b);
	return (int)n;
}

static BIO_METHOD *
nosigpipe_method(void)
{
	const BIO_METHOD *sock = BIO_s_socket();
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK |
	    BIO_TYPE_DESCRIPTOR, "why550 socket");

	if (m == NULL)
		return NULL;
	BIO_meth_set_write(m, nosigpipe_write);
	BIO_meth_set_read(m, BIO_meth_get_read(sock));
	BIO_meth_set_puts(m, BIO_meth_get_puts(sock));
	BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(sock));
	BIO_meth_set_create(m, BIO_meth_get_create(sock));
	BIO_meth_set_destroy(m, BIO_meth_get_destroy(sock));
	return m;
}

struct smtp_tls_ctx *
smtp_tls_ctx_new(struct error *err)
{
	struct smtp_tls_ctx *ctx;
	SSL_CTX *ssl = SSL_CTX_new(TLS_client_method());
	BIO_METHOD *bio = ssl != NULL ? nosigpipe_method() : NULL;

	if (ssl == NULL || bio == NULL) {
		error_set(err, "smtp: cannot set up TLS: %s",
		    ERR_reason_error_string(ERR_get_error()));
		SSL_CTX_free(ssl);
		return NULL;
	}
	/*
	 * The trust store is only asked, never obeyed: a receiver's bad
	 * certificate is evidence to report, and MTAs deliver over it anyway
	 * (RFC 7435, opportunistic TLS).
	 */
	SSL_CTX_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	if (SSL_CTX_set_default_verify_paths(ssl) != 1)
		ERR_clear_error();
	ctx = xcalloc(1, sizeof(*ctx));
	ctx->ssl = ssl;
	ctx->bio = bio;
	return ctx;
}

void
smtp_tls_ctx_free(struct smtp_tls_ctx *ctx)
{
	if (ctx == NULL)
		return;
	SSL_CTX_free(ctx->ssl);
	BIO_meth_free(ctx->bio);
	free(ctx);
}

/* The last OpenSSL error as text, or fallback; clears the queue. */
static void
ssl_why(char *why, size_t whylen, const char *what, const char *fallback)
{
	unsigned long e = ERR_get_error();
	const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;

	snprintf(why, whylen, "%s: %s", what, reason != NULL ? reason : fallback);
	ERR_clear_error();
}

/*
 * What an SSL call's failure r means: wait for the socket (1 to go on),
 * or the end of the exchange in *io with why (0).
 */
static int
ssl_wait(SSL *ssl, int fd, int r, int64_t until_ms, const char *what, enum smtp_io *io,
    char *why, size_t whylen)
{
	int e = SSL_get_error(ssl, r), w;

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		w = smtp_fd_wait(fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, until_ms);
		if (w > 0)
			return 1;
		*io = w == 0 ? SMTP_IO_TIMEOUT : SMTP_IO_ERROR;
		snprintf(why, whylen, "%s: %s", what, w == 0 ? "no answer in time" : "poll failed");
		return 0;
	}
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
		*io = SMTP_IO_CLOSED;
		snprintf(why, whylen, "%s: the server closed the connection", what);
		ERR_clear_error();
		return 0;
	}
	*io = SMTP_IO_TLS_FAILED;
	ssl_why(why, whylen, what, "protocol error");
	return 0;
}

/* One line of an X.509 name, RFC 2253 style. */
static void
name_line(const X509_NAME *name, char *out, size_t outlen)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	out[0] = '\0';
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
		n = BIO_get_mem_data(b, &p);
		snprintf(out, outlen, "%.*s", (int)(n > 0 ? n : 0), p);
	}
	BIO_free(b);
}

/* The certificate's end of validity as ISO 8601. */
static void
not_after(const X509 *cert, char *out, size_t outlen)
{
	const ASN1_TIME *t = X509_get0_notAfter(cert);
	struct tm tm;

	out[0] = '\0';
	if (t != NULL && ASN1_TIME_to_tm(t, &tm) == 1)
		strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* What the finished handshake shows: protocol, cipher, the certificate and its checks. */
static void
describe(SSL *ssl, const char *servername, struct smtp_tls_info *info)
{
	X509 *cert = SSL_get1_peer_certificate(ssl);
	long v;

	snprintf(info->protocol, sizeof(info->protocol), "%s", SSL_get_version(ssl));
	snprintf(info->cipher, sizeof(info->cipher), "%s", SSL_get_cipher_name(ssl));
	if (cert == NULL)
		return;
	info->has_cert = true;
	v = SSL_get_verify_result(ssl);
	info->chain_ok = v == X509_V_OK;
	if (!info->chain_ok)
		snprintf(info->verify_error, sizeof(info->verify_error), "%s",
		    X509_verify_cert_error_string(v));
	/* RFC 6125 6.4 as OpenSSL implements it: subjectAltName first, wildcards in the left label */
	info->name_ok = X509_check_host(cert, servername, strlen(servername), 0, NULL) == 1;
	name_line(X509_get_subject_name(cert), info->subject, sizeof(info->subject));
	name_line(X509_get_issuer_name(cert), info->issuer, sizeof(info->issuer));
	not_after(cert, info->not_after, sizeof(info->not_after));
	X509_free(cert);
}

struct smtp_tls *
smtp_tls_start(const struct smtp_tls_ctx *ctx, int fd, const char *servername,
    int64_t until_ms, struct smtp_tls_info *info, enum smtp_io *io, char *why, size_t whylen)
{
	struct smtp_tls *t;
	SSL *ssl;
	BIO *bio = NULL;
	int r;

	memset(info, 0, sizeof(*info));
	ERR_clear_error();
	if ((ssl = SSL_new(ctx->ssl)) == NULL || (bio = BIO_new(ctx->bio)) == NULL) {
		*io = SMTP_IO_ERROR;
		ssl_why(why, whylen, "TLS", "cannot make a session");
		SSL_free(ssl);
		return NULL;
	}
	BIO_set_fd(bio, fd, BIO_NOCLOSE);
	SSL_set_bio(ssl, bio, bio);
	/* RFC 6066 3: SNI takes a host name, never an address literal */
	if (servername[0] != '[')
		SSL_set_tlsext_host_name(ssl, servername);
	SSL_set_connect_state(ssl);
	while ((r = SSL_do_handshake(ssl)) != 1) {
		if (!ssl_wait(ssl, fd, r, until_ms, "TLS handshake", io, why, whylen)) {
			SSL_free(ssl);
			return NULL;
		}
	}
	describe(ssl, servername, info);
	t = xcalloc(1, sizeof(*t));
	t->ssl = ssl;
	t->fd = fd;
	*io = SMTP_IO_OK;
	return t;
}

enum smtp_io
smtp_tls_read(struct smtp_tls *t, char *buf, size_t cap, size_t *got, int64_t until_ms,
    char *why, size_t whylen)
{
	enum smtp_io io = SMTP_IO_OK;
	int r;

	for (;;) {
		r = SSL_read(t->ssl, buf, cap > 65536 ? 65536 : (int)cap);
		if (r > 0) {
			*got = (size_t)r;
			return SMTP_IO_OK;
		}
		if (!ssl_wait(t->ssl, t->fd, r, until_ms, "TLS read", &io, why, whylen))
			return io;
	}
}

enum smtp_io
smtp_tls_write(struct smtp_tls *t, const char *buf, size_t len, int64_t until_ms, char *why,
    size_t whylen)
{
	enum smtp_io io = SMTP_IO_OK;
	int r;
	size_t off = 0;

	while (off < len) {
		r = SSL_write(t->ssl, buf + off, (int)(len - off));
		if (r > 0) {
			off += (size_t)r;
			continue;
		}
		if (!ssl_wait(t->ssl, t->fd, r, until_ms, "TLS write", &io, why, whylen))
			return io;
	}
	return SMTP_IO_OK;
}

void
smtp_tls_free(struct smtp_tls *t)
{
	if (t == NULL)
		return;
	/* one try, no wait: the probe ends with QUIT already */
	SSL_shutdown(t->ssl);
	SSL_free(t->ssl);
	ERR_clear_error();
	free(t);
}
