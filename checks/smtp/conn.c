/* One SMTP client connection over a non-blocking socket: connect, send lines, read whole replies, STARTTLS, all under a deadline. */
#include "checks/smtp/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "checks/smtp/tls.h"
#include "core/util.h"

/* Bytes read at once; a reply may take several reads. */
#define READ_CHUNK	4096
/* Bytes of one reply kept while it is incomplete: SMTP_REPLY_MAX_LINES lines at most. */
#define PENDING_MAX	(SMTP_LINE_MAX * SMTP_REPLY_MAX_LINES)

struct smtp_conn {
	int fd;
	struct smtp_addr local;
	struct smtp_tls *tls;		/* after STARTTLS */
	struct strbuf pending;		/* bytes read, not yet a whole reply */
};

static const char *const io_names[] = {
	[SMTP_IO_OK] = "ok",
	[SMTP_IO_TIMEOUT] = "timeout",
	[SMTP_IO_REFUSED] = "refused",
	[SMTP_IO_UNREACHABLE] = "unreachable",
	[SMTP_IO_RESET] = "reset",
	[SMTP_IO_CLOSED] = "closed",
	[SMTP_IO_MALFORMED] = "malformed",
	[SMTP_IO_TLS_FAILED] = "tls_failed",
	[SMTP_IO_SOURCE] = "source_unusable",
	[SMTP_IO_ERROR] = "error",
};

const char *
smtp_io_name(enum smtp_io io)
{
	if ((int)io < 0 || (size_t)io >= ARRAY_SIZE(io_names))
		return "error";
	return io_names[io];
}

void
smtp_addr_set(struct smtp_addr *a, int family, const unsigned char *addr)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(a->addr, addr, family == AF_INET ? 4 : 16);
	inet_ntop(family, addr, a->text, sizeof(a->text));
}

static socklen_t
to_sockaddr(const struct smtp_addr *a, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		memcpy(&sin->sin_addr, a->addr, 4);
		return sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		memcpy(&sin6->sin6_addr, a->addr, 16);
		return sizeof(*sin6);
	}
}

static void
from_sockaddr(const struct sockaddr_storage *ss, struct smtp_addr *a)
{
	if (ss->ss_family == AF_INET)
		smtp_addr_set(a, AF_INET,
		    (const unsigned char *)&((const struct sockaddr_in *)ss)->sin_addr);
	else
		smtp_addr_set(a, AF_INET6,
		    (const unsigned char *)&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

int
smtp_fd_wait(int fd, short events, int64_t until_ms)
{
	struct pollfd pfd;
	int64_t left;
	int n;

	for (;;) {
		left = until_ms - now_ms();
		if (left <= 0)
			return 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* What a connect() or socket errno means for the probe. */
static enum smtp_io
io_of_errno(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return SMTP_IO_REFUSED;
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ENETDOWN:
	case EHOSTDOWN:
		return SMTP_IO_UNREACHABLE;
	case ECONNRESET:
	case EPIPE:
		return SMTP_IO_RESET;
	case ETIMEDOUT:
		return SMTP_IO_TIMEOUT;
	case EADDRNOTAVAIL:
		return SMTP_IO_SOURCE;
	default:
		return SMTP_IO_ERROR;
	}
}

/* A non-blocking socket to dst, bound to src, with connect() started. -1 with *io and why. */
static int
start_connect(const struct smtp_addr *dst, int port, const struct smtp_addr *src,
    enum smtp_io *io, char *why, size_t whylen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (src != NULL && src->family != dst->family) {
		*io = SMTP_IO_SOURCE;
		snprintf(why, whylen, "the source %s cannot reach the %s address %s", src->text,
		    dst->family == AF_INET ? "IPv4" : "IPv6", dst->text);
		return -1;
	}
	fd = socket(dst->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*io = io_of_errno(errno);
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return -1;
	}
	if (src != NULL) {
		len = to_sockaddr(src, 0, &ss);
		if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
			*io = SMTP_IO_SOURCE;
			snprintf(why, whylen, "cannot send from %s: %s", src->text, strerror(errno));
			close(fd);
			return -1;
		}
	}
	len = to_sockaddr(dst, port, &ss);
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		*io = io_of_errno(errno);
		snprintf(why, whylen, "connect to %s port %d: %s", dst->text, port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The outcome of a connect() in progress on fd that poll() says is done. */
static int
connect_result(int fd)
{
	int e = 0;
	socklen_t elen = sizeof(e);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
		return errno;
	return e;
}

struct smtp_conn *
smtp_conn_open(const struct smtp_addr *dst, int port, const struct smtp_addr *src,
    int64_t until_ms, enum smtp_io *io, char *why, size_t whylen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct smtp_conn *c;
	int fd, w, e;

	if ((fd = start_connect(dst, port, src, io, why, whylen)) < 0)
		return NULL;
	w = smtp_fd_wait(fd, POLLOUT, until_ms);
	if (w <= 0) {
		*io = w == 0 ? SMTP_IO_TIMEOUT : SMTP_IO_ERROR;
		snprintf(why, whylen, w == 0 ? "no answer to the connection to %s port %d" :
		    "poll failed on the connection to %s port %d", dst->text, port);
		close(fd);
		return NULL;
	}
	if ((e = connect_result(fd)) != 0) {
		*io = io_of_errno(e);
		snprintf(why, whylen, "connect to %s port %d: %s", dst->text, port, strerror(e));
		close(fd);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	strbuf_init(&c->pending);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		from_sockaddr(&ss, &c->local);
	*io = SMTP_IO_OK;
	return c;
}

const struct smtp_addr *
smtp_conn_local(const struct smtp_conn *c)
{
	return &c->local;
}

bool
smtp_conn_is_tls(const struct smtp_conn *c)
{
	return c->tls != NULL;
}

/* Bytes from the server into c->pending: ok, or closed / reset / timeout. */
static enum smtp_io
fill(struct smtp_conn *c, int64_t until_ms, char *why, size_t whylen)
{
	char buf[READ_CHUNK];
	size_t got = 0;
	enum smtp_io io;
	ssize_t n;
	int w;

	if (c->tls != NULL) {
		io = smtp_tls_read(c->tls, buf, sizeof(buf), &got, until_ms, why, whylen);
		if (io == SMTP_IO_OK)
			strbuf_add(&c->pending, buf, got);
		return io;
	}
	for (;;) {
		n = read(c->fd, buf, sizeof(buf));
		if (n > 0) {
			strbuf_add(&c->pending, buf, (size_t)n);
			return SMTP_IO_OK;
		}
		if (n == 0) {
			snprintf(why, whylen, "the server closed the connection");
			return SMTP_IO_CLOSED;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			snprintf(why, whylen, "read: %s", strerror(errno));
			return io_of_errno(errno);
		}
		w = smtp_fd_wait(c->fd, POLLIN, until_ms);
		if (w == 0) {
			snprintf(why, whylen, "no whole reply in time");
			return SMTP_IO_TIMEOUT;
		}
		if (w < 0) {
			snprintf(why, whylen, "poll: %s", strerror(errno));
			return SMTP_IO_ERROR;
		}
	}
}

enum smtp_io
smtp_conn_read(struct smtp_conn *c, int64_t until_ms, struct smtp_reply *out, char *why,
    size_t whylen)
{
	enum smtp_io io;
	size_t used;
	int r;

	for (;;) {
		r = c->pending.len > 0 ? smtp_reply_parse(c->pending.buf, c->pending.len, out,
		    &used, why, whylen) : 0;
		if (r < 0)
			return SMTP_IO_MALFORMED;
		if (r > 0) {
			memmove(c->pending.buf, c->pending.buf + used, c->pending.len - used);
			c->pending.len -= used;
			c->pending.buf[c->pending.len] = '\0';
			return SMTP_IO_OK;
		}
		if (c->pending.len > PENDING_MAX) {
			snprintf(why, whylen, "a reply of over %d octets", PENDING_MAX);
			return SMTP_IO_MALFORMED;
		}
		if ((io = fill(c, until_ms, why, whylen)) != SMTP_IO_OK)
			return io;
	}
}

/* Writes len bytes in clear, waiting until until_ms. */
static enum smtp_io
write_all(int fd, const char *buf, size_t len, int64_t until_ms, char *why, size_t whylen)
{
	size_t off = 0;
	ssize_t n;
	int w;

	while (off < len) {
		n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			snprintf(why, whylen, "send: %s", strerror(errno));
			return io_of_errno(errno);
		}
		w = smtp_fd_wait(fd, POLLOUT, until_ms);
		if (w <= 0) {
			snprintf(why, whylen, w == 0 ? "the server took no data in time" :
			    "poll failed while sending");
			return w == 0 ? SMTP_IO_TIMEOUT : SMTP_IO_ERROR;
		}
	}
	return SMTP_IO_OK;
}

enum smtp_io
smtp_conn_send(struct smtp_conn *c, const char *line, int64_t until_ms, char *why,
    size_t whylen)
{
	char *buf = xasprintf("%s\r\n", line);
	size_t len = strlen(buf);
	enum smtp_io io;

	if (c->tls != NULL)
		io = smtp_tls_write(c->tls, buf, len, until_ms, why, whylen);
	else
		io = write_all(c->fd, buf, len, until_ms, why, whylen);
	free(buf);
	return io;
}

enum smtp_io
smtp_conn_starttls(struct smtp_conn *c, const struct smtp_tls_ctx *ctx, const char *servername,
    int64_t until_ms, struct smtp_tls_info *info, char *why, size_t whylen)
{
	enum smtp_io io = SMTP_IO_OK;

	/* RFC 3207 4.2 (and CVE-2011-0411): clear text sent before the handshake is dropped */
	c->pending.len = 0;
	if (c->pending.buf != NULL)
		c->pending.buf[0] = '\0';
	c->tls = smtp_tls_start(ctx, c->fd, servername, until_ms, info, &io, why, whylen);
	return c->tls != NULL ? SMTP_IO_OK : io;
}

void
smtp_conn_close(struct smtp_conn *c)
{
	if (c == NULL)
		return;
	smtp_tls_free(c->tls);
	close(c->fd);
	strbuf_release(&c->pending);
	free(c);
}

int
smtp_connect_any(const struct smtp_addr *dst, const int *ports, size_t n,
    const struct smtp_addr *src, int64_t until_ms)
{
	struct pollfd *pfd = xcalloc(n > 0 ? n : 1, sizeof(*pfd));
	char why[160];
	enum smtp_io io;
	int found = -1, left;
	size_t i, open = 0;

	for (i = 0; i < n; i++) {
		pfd[i].fd = start_connect(&dst[i], ports[i], src, &io, why, sizeof(why));
		pfd[i].events = POLLOUT;
		/* refused at once is an answer too: a packet came back */
		if (pfd[i].fd < 0 && io == SMTP_IO_REFUSED && found < 0)
			found = (int)i;
		if (pfd[i].fd >= 0)
			open++;
	}
	while (found < 0 && open > 0 && (left = (int)(until_ms - now_ms())) > 0) {
		if (poll(pfd, n, left) < 0 && errno != EINTR)
			break;
		for (i = 0; i < n && found < 0; i++) {
			int e;

			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			e = connect_result(pfd[i].fd);
			if (e == 0 || e == ECONNREFUSED)
				found = (int)i;
			close(pfd[i].fd);
			pfd[i].fd = -1;
			open--;
		}
	}
	for (i = 0; i < n; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
	free(pfd);
	return found;
}
