/*
 * One SMTP client connection: a TCP connection to a receiver, from a
 * chosen source address or the kernel's, that sends command lines and
 * reads whole replies, in clear or over TLS after STARTTLS. Every wait
 * ends at a deadline the caller gives; nothing blocks past it.
 */
#ifndef WHY550_SMTP_CONN_H
#define WHY550_SMTP_CONN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checks/smtp/reply.h"

/* How an exchange with a server went at the level below the replies. */
enum smtp_io {
	SMTP_IO_OK = 0,
	SMTP_IO_TIMEOUT,	/* no (whole) answer before the wait ended */
	SMTP_IO_REFUSED,	/* the connection was refused: nothing listens there */
	SMTP_IO_UNREACHABLE,	/* no route to the host or its network */
	SMTP_IO_RESET,		/* the server reset the connection */
	SMTP_IO_CLOSED,		/* the server closed the connection */
	SMTP_IO_MALFORMED,	/* the server sent bytes that are not an SMTP reply */
	SMTP_IO_TLS_FAILED,	/* the TLS handshake failed */
	SMTP_IO_SOURCE,		/* the source address cannot be used here */
	SMTP_IO_ERROR,		/* another local socket error */
};

/*
 * "ok", "timeout", "refused", "unreachable", "reset", "closed", "malformed",
 * "tls_failed", "source_unusable", "error".
 */
const char *smtp_io_name(enum smtp_io io);

/* An address to connect to, or to connect from. */
struct smtp_addr {
	int family;			/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	char text[INET6_ADDRSTRLEN];
};

/* Fills a from family and 4 or 16 bytes. */
void smtp_addr_set(struct smtp_addr *a, int family, const unsigned char *addr);

/*
 * Waits until fd is ready for events (POLLIN, POLLOUT) or until_ms (a
 * now_ms() time) passes: 1 ready, 0 timed out, -1 poll failed.
 */
int smtp_fd_wait(int fd, short events, int64_t until_ms);

struct smtp_conn;
struct smtp_tls_ctx;
struct smtp_tls_info;

/*
 * Connects to dst:port, from src when src is not NULL (same family),
 * waiting until until_ms. NULL with *io (refused, unreachable, timeout,
 * source_unusable, error) and why on failure.
 */
struct smtp_conn *smtp_conn_open(const struct smtp_addr *dst, int port,
    const struct smtp_addr *src, int64_t until_ms, enum smtp_io *io, char *why, size_t whylen);

/* The local address the connection came from. */
const struct smtp_addr *smtp_conn_local(const struct smtp_conn *c);

/*
 * Reads the next reply into out (release it), waiting until until_ms for
 * the whole of it, however the bytes are split. SMTP_IO_OK with out set;
 * else timeout, closed, reset, malformed (why says which bytes), and out
 * is untouched.
 */
enum smtp_io smtp_conn_read(struct smtp_conn *c, int64_t until_ms, struct smtp_reply *out,
    char *why, size_t whylen);

/* Sends line and CRLF, waiting until until_ms. line must hold no CR or LF. */
enum smtp_io smtp_conn_send(struct smtp_conn *c, const char *line, int64_t until_ms,
    char *why, size_t whylen);

/*
 * After a 220 to STARTTLS: the TLS handshake (RFC 3207), naming servername
 * (SNI) and checking the certificate against it, until until_ms. What the
 * handshake showed goes into info either way. Bytes the server sent before
 * the handshake are dropped (RFC 3207 4.2: nothing of the clear session
 * counts). SMTP_IO_OK, or tls_failed / timeout / closed / reset with why.
 */
enum smtp_io smtp_conn_starttls(struct smtp_conn *c, const struct smtp_tls_ctx *ctx,
    const char *servername, int64_t until_ms, struct smtp_tls_info *info, char *why,
    size_t whylen);

/* True after a successful smtp_conn_starttls(). */
bool smtp_conn_is_tls(const struct smtp_conn *c);

/* Closes the connection without waiting. NULL is a no-op. */
void smtp_conn_close(struct smtp_conn *c);

/*
 * Is the network up? Connects to each of the n addresses (all at once,
 * from src when not NULL) and stops at the first that answers: its index,
 * or -1 when none did until until_ms. The connections are closed at once;
 * nothing is sent.
 */
int smtp_connect_any(const struct smtp_addr *dst, const int *ports, size_t n,
    const struct smtp_addr *src, int64_t until_ms);

#endif
