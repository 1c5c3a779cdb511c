/*
 * smtpfault: a scripted SMTP server that misbehaves on purpose, for the
 * probe's tests and benchmark. Each ADDR=SCENARIO listens on ADDR (all
 * on one port) and plays that scenario to every connection:
 *
 *   smtpfault --port N|0 [--pidfile F] [--log F] [--delay MS] ADDR=SCENARIO...
 *
 * Prints "port N" when every address listens. --log writes each line a
 * client sent ("C 127.0.25.1 EHLO x") and the first line of each reply
 * ("S 127.0.25.1 250-..."). --delay adds MS before every reply (a round
 * trip to a far server). Stops on SIGTERM or SIGINT.
 *
 * Scenarios: ok, split (every reply one byte at a time), slow (the banner
 * after 1.5 s), slowok (the banner after 0.3 s), busy (421 at connect),
 * dropehlo (closes at EHLO), tarpit (replies after the banner trickle at
 * one byte per 0.4 s), reject550 (a multi-line 550 naming a blocklist at
 * RCPT), unknown (550 5.1.1 at RCPT), grey (450 at RCPT), badsender (553
 * at MAIL), tlsfail (offers STARTTLS, then sends bytes that are not TLS),
 * silent (accepts and never speaks), noservice (554 at connect), listed
 * (554 at connect naming a blocklist), nohelo (refuses EHLO, takes HELO),
 * garbage (an HTTP answer).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/net.h"
#include "core/util.h"

#define MAX_LISTEN	32
#define LINE_MAX_	4096

#define EHLO_REPLY	"250-mx.fault.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n" \
			"250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n"

struct scenario {
	const char *name;
	int banner_delay_ms;
	const char *banner;		/* NULL: never speaks */
	bool close_after_banner;
	const char *ehlo;		/* NULL: closes the connection at EHLO */
	const char *helo;
	const char *mail, *rcpt;
	bool tls_garbage;		/* STARTTLS: 220, then bytes that are not TLS */
	int byte_ms;			/* replies after the banner one byte at a time, this far apart */
	bool split;			/* every reply one byte at a time, 2 ms apart */
	bool silent;			/* accepts the connection and never speaks */
};

static const struct scenario scenarios[] = {
	{ .name = "ok" },
	{ .name = "split", .split = true },
	{ .name = "slow", .banner_delay_ms = 1500 },
	{ .name = "slowok", .banner_delay_ms = 300 },
	{ .name = "busy", .banner = "421 4.3.2 Service not available, closing transmission channel\r\n",
	  .close_after_banner = true },
	{ .name = "dropehlo", .ehlo = "" },
	{ .name = "tarpit", .byte_ms = 400 },
	{ .name = "reject550", .rcpt =
	    "550-5.7.1 Service unavailable; client host blocked using zen.spamhaus.org;\r\n"
	    "550-5.7.1 see https://check.spamhaus.org/\r\n"
	    "550 5.7.1 Rejected by policy\r\n" },
	{ .name = "unknown", .rcpt = "550 5.1.1 <bob@unknown.smtp.test>: Recipient address "
	    "rejected: User unknown in virtual mailbox table\r\n" },
	{ .name = "grey", .rcpt = "450 4.2.0 <alice@grey.smtp.test>: Recipient address rejected: "
	    "Greylisted, see https://postgrey.schweikert.ch/help/grey.smtp.test.html\r\n" },
	{ .name = "badsender", .mail = "553 5.1.8 <bob@nowhere.test>: Sender address rejected: "
	    "Domain not found\r\n" },
	{ .name = "tlsfail", .ehlo = "250-mx.fault.test\r\n250-STARTTLS\r\n250 8BITMIME\r\n",
	  .tls_garbage = true },
	{ .name = "silent", .silent = true },
	{ .name = "noservice", .banner = "554 5.3.2 No SMTP service here\r\n" },
	{ .name = "listed", .banner = "554 5.7.1 Service unavailable; Client host [127.0.0.1] "
	    "blocked using bl.spamcop.net\r\n" },
	{ .name = "nohelo", .ehlo = "502 5.5.2 Error: command not recognized\r\n" },
	{ .name = "garbage", .banner = "HTTP/1.1 400 Bad Request\r\n" },
};

struct listener {
	int fd;
	struct sockaddr_storage addr;
	char text[INET6_ADDRSTRLEN];
	const struct scenario *sc;
};

struct conn {
	int fd;
	const struct listener *l;
};

static struct listener listeners[MAX_LISTEN];
static size_t nlisteners;
static FILE *log_fp;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int reply_delay_ms;
static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void
log_line(char dir, const struct listener *l, const char *s, size_t n)
{
	if (log_fp == NULL)
		return;
	pthread_mutex_lock(&log_lock);
	fprintf(log_fp, "%c %s %.*s\n", dir, l->text, (int)n, s);
	fflush(log_fp);
	pthread_mutex_unlock(&log_lock);
}

/* Writes a reply, whole or one byte at a time; false when the client is gone. */
static bool
say(const struct conn *c, const char *s, int byte_ms)
{
	size_t n = strlen(s), i;

	log_line('S', c->l, s, strcspn(s, "\r\n"));
	if (reply_delay_ms > 0)
		sleep_ms(reply_delay_ms);
	if (byte_ms == 0)
		return send(c->fd, s, n, MSG_NOSIGNAL) == (ssize_t)n;
	for (i = 0; i < n; i++) {
		if (send(c->fd, s + i, 1, MSG_NOSIGNAL) != 1)
			return false;
		sleep_ms(byte_ms);
	}
	return true;
}

/* One line from the client (CRLF removed) into line; false when it is gone. */
static bool
read_line(int fd, char *line, size_t cap)
{
	size_t n = 0;
	char ch;

	for (;;) {
		ssize_t r = recv(fd, &ch, 1, 0);

		if (r <= 0)
			return false;
		if (ch == '\n')
			break;
		if (n < cap - 1)
			line[n++] = ch;
	}
	if (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	return true;
}

static bool
is_cmd(const char *line, const char *cmd)
{
	return strncasecmp(line, cmd, strlen(cmd)) == 0;
}

/* The reply to one command line; NULL closes the connection. */
static const char *
answer(const struct scenario *sc, const char *line, bool *close_after)
{
	*close_after = false;
	if (is_cmd(line, "EHLO"))
		return sc->ehlo == NULL ? EHLO_REPLY : sc->ehlo[0] == '\0' ? NULL : sc->ehlo;
	if (is_cmd(line, "HELO"))
		return sc->helo != NULL ? sc->helo : "250 mx.fault.test\r\n";
	if (is_cmd(line, "MAIL"))
		return sc->mail != NULL ? sc->mail : "250 2.1.0 Ok\r\n";
	if (is_cmd(line, "RCPT"))
		return sc->rcpt != NULL ? sc->rcpt : "250 2.1.5 Ok\r\n";
	if (is_cmd(line, "RSET") || is_cmd(line, "NOOP"))
		return "250 2.0.0 Ok\r\n";
	if (is_cmd(line, "QUIT")) {
		*close_after = true;
		return "221 2.0.0 Bye\r\n";
	}
	if (is_cmd(line, "STARTTLS") && sc->tls_garbage) {
		*close_after = true;
		return "220 2.0.0 Ready to start TLS\r\nthis is not a TLS record\r\n";
	}
	return "502 5.5.2 Error: command not recognized\r\n";
}

static void
play(const struct conn *c)
{
	const struct scenario *sc = c->l->sc;
	int split = sc->split ? 2 : 0, byte_ms = sc->byte_ms > 0 ? sc->byte_ms : split;
	char line[LINE_MAX_];
	bool close_after;

	if (sc->banner_delay_ms > 0)
		sleep_ms(sc->banner_delay_ms);
	if (sc->silent) {
		/* hold the connection until the client gives up */
		while (!stopping && recv(c->fd, line, sizeof(line), 0) > 0)
			;
		return;
	}
	if (!say(c, sc->banner != NULL ? sc->banner : "220 mx.fault.test ESMTP\r\n", split) ||
	    sc->close_after_banner)
		return;
	while (!stopping && read_line(c->fd, line, sizeof(line))) {
		const char *reply;

		log_line('C', c->l, line, strlen(line));
		if ((reply = answer(sc, line, &close_after)) == NULL || !say(c, reply, byte_ms) ||
		    close_after)
			return;
	}
}

static void *
conn_main(void *arg)
{
	struct conn *c = arg;
	struct timeval tv = { 30, 0 };
	int one = 1;

	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	play(c);
	close(c->fd);
	free(c);
	return NULL;
}

static const struct scenario *
find_scenario(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(scenarios); i++)
		if (strcmp(scenarios[i].name, name) == 0)
			return &scenarios[i];
	return NULL;
}

static int
add_listener(const char *spec)
{
	const char *eq = strrchr(spec, '=');
	char addr[INET6_ADDRSTRLEN];
	unsigned char bytes[16];
	struct listener *l;
	int family;

	if (eq == NULL || (size_t)(eq - spec) >= sizeof(addr) || nlisteners == MAX_LISTEN)
		return error("'%s' is not ADDR=SCENARIO", spec);
	memcpy(addr, spec, (size_t)(eq - spec));
	addr[eq - spec] = '\0';
	if (net_ip_parse(addr, &family, bytes) < 0)
		return error("'%s' is not an address", addr);
	l = &listeners[nlisteners];
	if ((l->sc = find_scenario(eq + 1)) == NULL)
		return error("no scenario '%s'", eq + 1);
	memset(&l->addr, 0, sizeof(l->addr));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&l->addr;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, bytes, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&l->addr;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, bytes, 16);
	}
	snprintf(l->text, sizeof(l->text), "%s", addr);
	l->fd = -1;
	nlisteners++;
	return 0;
}

static void
close_all(void)
{
	size_t i;

	for (i = 0; i < nlisteners; i++) {
		if (listeners[i].fd >= 0)
			close(listeners[i].fd);
		listeners[i].fd = -1;
	}
}

/* Binds every listener on port (0: the kernel picks it for the first). 0, or -1 with errno. */
static int
bind_all(int *port)
{
	size_t i;
	int one = 1;

	for (i = 0; i < nlisteners; i++) {
		struct listener *l = &listeners[i];
		struct sockaddr_storage ss = l->addr;
		socklen_t len = ss.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
		    sizeof(struct sockaddr_in6);

		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)*port);
		if ((l->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			return -1;
		setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(l->fd, (struct sockaddr *)&ss, len) < 0 || listen(l->fd, 64) < 0)
			return -1;
		if (*port == 0) {
			len = sizeof(ss);
			getsockname(l->fd, (struct sockaddr *)&ss, &len);
			*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		}
	}
	return 0;
}

static void
serve(void)
{
	struct pollfd pfd[MAX_LISTEN];
	size_t i;

	for (i = 0; i < nlisteners; i++) {
		pfd[i].fd = listeners[i].fd;
		pfd[i].events = POLLIN;
	}
	while (!stopping) {
		if (poll(pfd, nlisteners, 200) <= 0)
			continue;
		for (i = 0; i < nlisteners; i++) {
			struct conn *c;
			pthread_t th;
			int fd;

			if (!(pfd[i].revents & POLLIN) || (fd = accept(pfd[i].fd, NULL, NULL)) < 0)
				continue;
			c = xcalloc(1, sizeof(*c));
			c->fd = fd;
			c->l = &listeners[i];
			if (pthread_create(&th, NULL, conn_main, c) != 0) {
				close(fd);
				free(c);
				continue;
			}
			pthread_detach(th);
		}
	}
}

int
main(int argc, char **argv)
{
	const char *pidfile = NULL, *logpath = NULL;
	int port = -1, tries, i;
	struct sigaction sa;
	FILE *f;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--pidfile") == 0 && i + 1 < argc)
			pidfile = argv[++i];
		else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc)
			logpath = argv[++i];
		else if (strcmp(argv[i], "--delay") == 0 && i + 1 < argc)
			reply_delay_ms = atoi(argv[++i]);
		else if (add_listener(argv[i]) < 0)
			return 64;
	}
	if (port < 0 || port > 65535 || nlisteners == 0) {
		fprintf(stderr, "usage: smtpfault --port N|0 [--pidfile F] [--log F] "
		    "[--delay MS] ADDR=SCENARIO...\n");
		return 64;
	}
	if (logpath != NULL && (log_fp = fopen(logpath, "a")) == NULL) {
		error("cannot open '%s': %s", logpath, strerror(errno));
		return 1;
	}
	/* a random port may be taken on one of the addresses: try another */
	for (tries = 0; tries < 20; tries++) {
		int p = port;

		if (bind_all(&p) == 0) {
			port = p;
			break;
		}
		close_all();
		if (port != 0) {
			error("cannot listen on port %d: %s", port, strerror(errno));
			return 1;
		}
	}
	if (tries == 20) {
		error("no free port for every address");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (pidfile != NULL && (f = fopen(pidfile, "w")) != NULL) {
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
	}
	printf("port %d\n", port);
	fflush(stdout);
	serve();
	close_all();
	return 0;
}
