/* A DNS server for the tests that injects the fault named by the first label of each query. */
#include <ldns/ldns.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONN	1024		/* TCP connections, clients and upstream */
#define FWD_SLOTS	65536		/* one per DNS ID toward the upstream */
#define FWD_TTL_MS	10000		/* an unanswered forward is forgotten after */
#define UDP_MIN		512		/* RFC 1035 4.2.1: UDP size without EDNS */
#define EDNS_SIZE	1232		/* the UDP size our replies advertise */
#define BIG_COUNT	40		/* records in a "big" answer */
#define MANY_A		3000		/* A records in a "many" answer (48 KB over TCP) */
#define MANY_OTHER	2000		/* records of other types in a "many" answer */
#define CHAIN_LINKS	20		/* CNAMEs in a "cnamechain" answer, more than any client follows */
#define GOOD_AFTER_MS	5		/* badthengood: the good reply comes after */
#define MAX_LATE_MS	600000
#define SOCKBUF_SIZE	(4 << 20)

enum fault {
	FAULT_NORMAL,
	FAULT_TIMEOUT,
	FAULT_LATE,
	FAULT_SERVFAIL,
	FAULT_REFUSED,
	FAULT_NXDOMAIN,
	FAULT_NODATA,
	FAULT_TC,
	FAULT_TCREFUSE,
	FAULT_MALFORMED,
	FAULT_BADID,
	FAULT_BADQ,
	FAULT_WRONGSRC,
	FAULT_BADTHENGOOD,
	FAULT_FLAKY,
	FAULT_BIG,
	FAULT_COUNT,
	FAULT_SRCPORT,
	FAULT_CNAMELOOP,
	FAULT_CNAMECHAIN,
	FAULT_CNAMERUN,
	FAULT_CNAMEPING,
	FAULT_MANY
};

/* What the answer section of a synthesised reply holds. */
enum answer {
	ANSWER_NONE,
	ANSWER_NORMAL,
	ANSWER_BIG,
	ANSWER_COUNT,
	ANSWER_SRCPORT,
	ANSWER_CNAME_SELF,	/* the name is an alias of itself */
	ANSWER_CNAME_CHAIN,	/* CHAIN_LINKS aliases in a row, no record at the end */
	ANSWER_CNAME_RUN,	/* an alias of "cnamerun.<name>": a chain that goes on reply after reply */
	ANSWER_CNAME_PING,	/* cnameping.<rest> and cnamepong.<rest> are aliases of each other */
	ANSWER_MANY
};

enum event_kind {
	EVENT_REPLY,		/* send buf to the peer */
	EVENT_REPLY_ALT,	/* the same, from the other UDP socket */
	EVENT_FORWARD		/* send the query buf to the upstream */
};

/* Where a reply goes: a UDP address, or a TCP connection by index and generation. */
struct peer {
	bool			 tcp;
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	size_t			 conn;
	unsigned		 gen;
};

struct event {
	int64_t		 due;
	uint64_t	 seq;		/* keeps events of the same due time in order */
	enum event_kind	 kind;
	struct peer	 to;
	uint8_t		*buf;
	size_t		 len;
};

struct conn {
	int		 fd;		/* -1: the slot is free */
	unsigned	 gen;		/* bumped on close, so stale peers miss */
	bool		 upstream;	/* we opened it toward --upstream */
	bool		 connecting;
	int64_t		 born;
	struct peer	 client;	/* upstream only: who gets the reply */
	uint8_t		*in;
	size_t		 inlen;
	uint8_t		*out;
	size_t		 outlen;
	size_t		 outcap;
};

/* A query forwarded over UDP, indexed by the ID it carries toward the upstream. */
struct forward {
	bool		 used;
	int64_t		 born;
	uint16_t	 client_id;
	struct peer	 client;
};

struct flaky {
	char		*name;
	unsigned	 seen;
	struct flaky	*next;
};

struct server {
	int			 udp;
	int			 alt;		/* wrongsrc replies leave from here */
	int			 tcp;
	int			 up_udp;
	bool			 has_upstream;
	struct sockaddr_storage	 upstream;
	socklen_t		 upstream_len;
	int64_t			 delay;
	struct event		**heap;
	size_t			 nheap;
	size_t			 capheap;
	uint64_t		 seq;
	struct conn		 conns[MAX_CONN];
	struct forward		*forwards;
	uint32_t		 next_id;
	struct flaky		*flaky;
	unsigned long		 counted;
	unsigned		 peer_port;	/* source port of the query being answered */
	ldns_rdf		**silent;	/* --timeout-name: never answered */
	size_t			 nsilent;
	ldns_rdf		**named;	/* --fault NAME=KIND: this exact name gets KIND */
	enum fault		*named_fault;
	long			*named_n;
	size_t			 nnamed;
	bool			 named_only;	/* --named-only: first labels are plain names */
	FILE			*log;		/* --log: one line per question received */
	bool			 all;		/* --all KIND: every query gets all_fault */
	enum fault		 all_fault;
	long			 all_n;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("faultdns: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		die("out of memory");
	return p;
}

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		die("out of memory");
	return p;
}

static uint8_t *
xmemdup(const uint8_t *src, size_t len)
{
	uint8_t *p = xmalloc(len);

	memcpy(p, src, len);
	return p;
}

static int64_t
clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool
event_before(const struct event *a, const struct event *b)
{
	if (a->due != b->due)
		return a->due < b->due;
	return a->seq < b->seq;
}

static void
heap_push(struct server *s, struct event *ev)
{
	size_t i, parent;
	struct event *tmp;

	if (s->nheap == s->capheap) {
		s->capheap = s->capheap ? s->capheap * 2 : 256;
		s->heap = xrealloc(s->heap, s->capheap * sizeof(*s->heap));
	}
	i = s->nheap++;
	s->heap[i] = ev;
	while (i > 0) {
		parent = (i - 1) / 2;
		if (!event_before(s->heap[i], s->heap[parent]))
			break;
		tmp = s->heap[i];
		s->heap[i] = s->heap[parent];
		s->heap[parent] = tmp;
		i = parent;
	}
}

static struct event *
heap_pop(struct server *s)
{
	struct event *top, *tmp;
	size_t i = 0, l, r, m;

	if (s->nheap == 0)
		return NULL;
	top = s->heap[0];
	s->heap[0] = s->heap[--s->nheap];
	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < s->nheap && event_before(s->heap[l], s->heap[m]))
			m = l;
		if (r < s->nheap && event_before(s->heap[r], s->heap[m]))
			m = r;
		if (m == i)
			break;
		tmp = s->heap[i];
		s->heap[i] = s->heap[m];
		s->heap[m] = tmp;
		i = m;
	}
	return top;
}

/* Queues buf (ownership passes) for the peer at time due. */
static void
schedule(struct server *s, int64_t due, enum event_kind kind,
    const struct peer *to, uint8_t *buf, size_t len)
{
	struct event *ev = xmalloc(sizeof(*ev));

	ev->due = due;
	ev->seq = s->seq++;
	ev->kind = kind;
	ev->to = *to;
	ev->buf = buf;
	ev->len = len;
	heap_push(s, ev);
}

static void
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		die("fcntl: %s", strerror(errno));
}

/* Fills ss from a numeric address and a port; -1 if the address is not numeric. */
static int
make_addr(const char *host, const char *port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct addrinfo hints, *res = NULL;
	int ret = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		goto out;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	ret = 0;
out:
	if (res != NULL)
		freeaddrinfo(res);
	return ret;
}

/* Parses "ADDR:PORT" or "[V6ADDR]:PORT". */
static int
parse_hostport(const char *arg, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *start = arg, *end;

	if (*arg == '[') {
		start = arg + 1;
		end = strchr(start, ']');
		if (end == NULL || end[1] != ':')
			return -1;
		colon = end + 1;
	} else {
		colon = strrchr(arg, ':');
		if (colon == NULL)
			return -1;
		end = colon;
	}
	if ((size_t)(end - start) >= sizeof(host))
		return -1;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	return make_addr(host, colon + 1, ss, len);
}

static uint16_t
addr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static void
set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(port);
}

static bool
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4, *b4;
	const struct sockaddr_in6 *a6, *b6;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)a;
		b4 = (const struct sockaddr_in *)b;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	}
	a6 = (const struct sockaddr_in6 *)a;
	b6 = (const struct sockaddr_in6 *)b;
	return a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

/* Bursts of thousands of queries must not overflow the default buffers (best effort). */
static void
big_buffers(int fd)
{
	int size = SOCKBUF_SIZE;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

static int
bound_socket(const struct sockaddr_storage *ss, socklen_t len, int type)
{
	int fd, one = 1;

	fd = socket(ss->ss_family, type, 0);
	if (fd == -1)
		die("socket: %s", strerror(errno));
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	else
		big_buffers(fd);
	if (bind(fd, (const struct sockaddr *)ss, len) == -1) {
		close(fd);
		return -1;
	}
	set_nonblock(fd);
	return fd;
}

/*
 * Binds UDP and TCP on the same port. With port 0 the kernel picks the
 * UDP port; when TCP cannot have the same one, both are tried again.
 */
static void
open_listeners(struct server *s, struct sockaddr_storage *ss, socklen_t len)
{
	struct sockaddr_storage alt;
	socklen_t altlen = len;
	bool any = addr_port(ss) == 0;
	int tries;

	for (tries = 0; tries < 100; tries++) {
		if (any)
			set_port(ss, 0);
		s->udp = bound_socket(ss, len, SOCK_DGRAM);
		if (s->udp == -1)
			die("cannot bind udp port %u: %s", addr_port(ss), strerror(errno));
		if (getsockname(s->udp, (struct sockaddr *)ss, &len) == -1)
			die("getsockname: %s", strerror(errno));
		s->tcp = bound_socket(ss, len, SOCK_STREAM);
		if (s->tcp != -1)
			break;
		if (!any)
			die("cannot bind tcp port %u: %s", addr_port(ss), strerror(errno));
		close(s->udp);
	}
	if (s->tcp == -1)
		die("no port free for both udp and tcp");
	if (listen(s->tcp, 128) == -1)
		die("listen: %s", strerror(errno));
	alt = *ss;
	set_port(&alt, 0);
	s->alt = bound_socket(&alt, altlen, SOCK_DGRAM);
	if (s->alt == -1)
		die("cannot bind the second udp socket: %s", strerror(errno));
}

/* Copies the first label of name, lower case, NUL-terminated, into out[64]. */
static void
first_label(const ldns_rdf *name, char *out)
{
	const uint8_t *d = ldns_rdf_data(name);
	size_t n = 0, i;

	if (ldns_rdf_size(name) > 0)
		n = d[0];
	if (n > 63 || n + 1 > ldns_rdf_size(name))
		n = 0;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower(d[1 + i]);
	out[n] = '\0';
}

/* Reads "<prefix><digits>"; -1 when label is something else. */
static long
number_after(const char *label, const char *prefix)
{
	size_t pl = strlen(prefix);
	const char *p;
	long n = 0;

	if (strncmp(label, prefix, pl) != 0 || label[pl] == '\0')
		return -1;
	for (p = label + pl; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		if (n < MAX_LATE_MS)
			n = n * 10 + (*p - '0');
	}
	return n < MAX_LATE_MS ? n : MAX_LATE_MS;
}

static enum fault
classify(const char *label, long *n)
{
	static const struct {
		const char	*label;
		enum fault	 fault;
	} names[] = {
		{ "timeout", FAULT_TIMEOUT },
		{ "servfail", FAULT_SERVFAIL },
		{ "refused", FAULT_REFUSED },
		{ "nxdomain", FAULT_NXDOMAIN },
		{ "nodata", FAULT_NODATA },
		{ "tc", FAULT_TC },
		{ "tcrefuse", FAULT_TCREFUSE },
		{ "malformed", FAULT_MALFORMED },
		{ "badid", FAULT_BADID },
		{ "badq", FAULT_BADQ },
		{ "wrongsrc", FAULT_WRONGSRC },
		{ "badthengood", FAULT_BADTHENGOOD },
		{ "big", FAULT_BIG },
		{ "count", FAULT_COUNT },
		{ "srcport", FAULT_SRCPORT },
		{ "cnameloop", FAULT_CNAMELOOP },
		{ "cnamechain", FAULT_CNAMECHAIN },
		{ "cnamerun", FAULT_CNAMERUN },
		{ "cnameping", FAULT_CNAMEPING },
		{ "cnamepong", FAULT_CNAMEPING },
		{ "many", FAULT_MANY },
	};
	size_t i;

	*n = 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(label, names[i].label) == 0)
			return names[i].fault;
	if ((*n = number_after(label, "late")) >= 0)
		return FAULT_LATE;
	if ((*n = number_after(label, "flaky")) >= 0)
		return FAULT_FLAKY;
	*n = 0;
	return FAULT_NORMAL;
}

static void
add_rr(ldns_pkt *p, const ldns_rdf *owner, ldns_rr_type type,
    ldns_rdf_type t1, const char *v1, ldns_rdf_type t2, const char *v2)
{
	ldns_rr *rr = ldns_rr_new();
	ldns_rdf *f;

	ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
	ldns_rr_set_type(rr, type);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, 60);
	if ((f = ldns_rdf_new_frm_str(t1, v1)) != NULL)
		ldns_rr_push_rdf(rr, f);
	if (v2 != NULL && (f = ldns_rdf_new_frm_str(t2, v2)) != NULL)
		ldns_rr_push_rdf(rr, f);
	ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
}

static void
add_normal(ldns_pkt *p, const ldns_rdf *owner, ldns_rr_type qtype)
{
	switch (qtype) {
	case LDNS_RR_TYPE_A:
		add_rr(p, owner, qtype, LDNS_RDF_TYPE_A, "192.0.2.1", 0, NULL);
		break;
	case LDNS_RR_TYPE_AAAA:
		add_rr(p, owner, qtype, LDNS_RDF_TYPE_AAAA, "2001:db8::1", 0, NULL);
		break;
	case LDNS_RR_TYPE_TXT:
		add_rr(p, owner, qtype, LDNS_RDF_TYPE_STR, "fault", 0, NULL);
		break;
	case LDNS_RR_TYPE_PTR:
		add_rr(p, owner, qtype, LDNS_RDF_TYPE_DNAME, "fault.test.", 0, NULL);
		break;
	case LDNS_RR_TYPE_MX:
		add_rr(p, owner, qtype, LDNS_RDF_TYPE_INT16, "10",
		    LDNS_RDF_TYPE_DNAME, "mx.fault.test.");
		break;
	default:
		break;
	}
}

/*
 * n numbered records of the asked type: "big" ones (192.0.2.N, TXT of 100
 * octets) or "many" short ones (127.0.X.Y as a blocklist answers, and PTR
 * and MX too); nothing for other types.
 */
static void
add_series(ldns_pkt *p, const ldns_rdf *owner, ldns_rr_type qtype, int n, bool many)
{
	char text[101];
	int i;

	for (i = 1; i <= n; i++) {
		switch (qtype) {
		case LDNS_RR_TYPE_A:
			if (many)
				snprintf(text, sizeof(text), "127.0.%d.%d", i / 250, 2 + i % 250);
			else
				snprintf(text, sizeof(text), "192.0.2.%d", i);
			add_rr(p, owner, qtype, LDNS_RDF_TYPE_A, text, 0, NULL);
			break;
		case LDNS_RR_TYPE_AAAA:
			snprintf(text, sizeof(text), "2001:db8::%x", i);
			add_rr(p, owner, qtype, LDNS_RDF_TYPE_AAAA, text, 0, NULL);
			break;
		case LDNS_RR_TYPE_TXT:
		case LDNS_RR_TYPE_ANY:
			if (many) {
				snprintf(text, sizeof(text), "r%d", i);
			} else {
				memset(text, 'x', sizeof(text) - 1);
				text[sizeof(text) - 1] = '\0';
				memcpy(text, "big-", 4);
				text[4] = (char)('0' + i / 10 % 10);
				text[5] = (char)('0' + i % 10);
				text[6] = '-';
			}
			add_rr(p, owner, LDNS_RR_TYPE_TXT, LDNS_RDF_TYPE_STR, text, 0, NULL);
			break;
		case LDNS_RR_TYPE_PTR:
			if (!many)
				return;
			snprintf(text, sizeof(text), "p%d.fault.test.", i);
			add_rr(p, owner, qtype, LDNS_RDF_TYPE_DNAME, text, 0, NULL);
			break;
		case LDNS_RR_TYPE_MX:
			if (!many)
				return;
			snprintf(text, sizeof(text), "m%d.fault.test.", i);
			add_rr(p, owner, qtype, LDNS_RDF_TYPE_INT16, "10", LDNS_RDF_TYPE_DNAME,
			    text);
			break;
		default:
			return;
		}
	}
}

/* One CNAME record owner -> target (presentation form) in the answer; false if target is no name. */
static bool
add_cname(ldns_pkt *p, const ldns_rdf *owner, const char *target)
{
	ldns_rdf *t = ldns_dname_new_frm_str(target);
	char *text;
	bool ok = t != NULL;

	if (t == NULL)
		return false;
	text = ldns_rdf2str(t);
	if (text != NULL)
		add_rr(p, owner, LDNS_RR_TYPE_CNAME, LDNS_RDF_TYPE_DNAME, text, 0, NULL);
	ok = text != NULL;
	free(text);
	ldns_rdf_deep_free(t);
	return ok;
}

/* The aliases that misbehave: to itself, a chain too long, a chain without end, a loop over two replies. */
static void
add_alias(ldns_pkt *p, const ldns_rdf *owner, enum answer answer)
{
	char *name = ldns_rdf2str(owner), target[600], label[64];
	ldns_rdf *prev, *next;
	int i;

	if (name == NULL)
		die("out of memory");
	first_label(owner, label);
	switch (answer) {
	case ANSWER_CNAME_SELF:
		add_cname(p, owner, name);
		break;
	case ANSWER_CNAME_CHAIN:
		prev = ldns_rdf_clone(owner);
		for (i = 1; i <= CHAIN_LINKS; i++) {
			snprintf(target, sizeof(target), "link%d.cnamechain.invalid.", i);
			next = ldns_dname_new_frm_str(target);
			if (next == NULL || !add_cname(p, prev, target))
				die("cannot build the chain");
			ldns_rdf_deep_free(prev);
			prev = next;
		}
		ldns_rdf_deep_free(prev);
		break;
	case ANSWER_CNAME_RUN:
		/* when the name cannot grow any more the chain ends without an answer */
		snprintf(target, sizeof(target), "cnamerun.%s", name);
		add_cname(p, owner, target);
		break;
	case ANSWER_CNAME_PING:
		if (strcmp(label, "cnameping") == 0)
			snprintf(target, sizeof(target), "cnamepong.%s", name + strlen(label) + 1);
		else if (strcmp(label, "cnamepong") == 0)
			snprintf(target, sizeof(target), "cnameping.%s", name + strlen(label) + 1);
		else
			snprintf(target, sizeof(target), "cnameping.%s", name);
		add_cname(p, owner, target);
		break;
	default:
		break;
	}
	free(name);
}

/*
 * Builds a reply to q whose question names qname, and returns its wire
 * form (the caller frees it) or NULL. When the wire form exceeds limit
 * (0: no limit), the reply is rebuilt empty with TC set.
 */
static uint8_t *
reply_wire(const struct server *s, const ldns_pkt *q, const ldns_rdf *qname,
    uint8_t rcode, enum answer answer, bool tc, size_t limit, size_t *len)
{
	const ldns_rr *qrr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	ldns_rr_type qtype = ldns_rr_get_type(qrr);
	ldns_pkt *p = NULL;
	ldns_rr *question;
	uint8_t *wire = NULL;
	char count[32];

again:
	ldns_pkt_free(p);
	free(wire);
	wire = NULL;
	p = ldns_pkt_new();
	if (p == NULL)
		die("out of memory");
	ldns_pkt_set_id(p, ldns_pkt_id(q));
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_aa(p, true);
	ldns_pkt_set_ra(p, true);
	ldns_pkt_set_rd(p, ldns_pkt_rd(q));
	ldns_pkt_set_cd(p, ldns_pkt_cd(q));
	ldns_pkt_set_tc(p, tc);
	ldns_pkt_set_opcode(p, LDNS_PACKET_QUERY);
	ldns_pkt_set_rcode(p, rcode);
	question = ldns_rr_new();
	ldns_rr_set_question(question, true);
	ldns_rr_set_owner(question, ldns_rdf_clone(qname));
	ldns_rr_set_type(question, qtype);
	ldns_rr_set_class(question, ldns_rr_get_class(qrr));
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, question);
	if (ldns_pkt_edns(q)) {
		ldns_pkt_set_edns_udp_size(p, EDNS_SIZE);
		ldns_pkt_set_edns_do(p, ldns_pkt_edns_do(q));
	}
	switch (answer) {
	case ANSWER_NONE:
		break;
	case ANSWER_NORMAL:
		add_normal(p, qname, qtype);
		break;
	case ANSWER_BIG:
		add_series(p, qname, qtype, BIG_COUNT, false);
		break;
	case ANSWER_MANY:
		add_series(p, qname, qtype, qtype == LDNS_RR_TYPE_A ? MANY_A : MANY_OTHER, true);
		break;
	case ANSWER_CNAME_SELF:
	case ANSWER_CNAME_CHAIN:
	case ANSWER_CNAME_RUN:
	case ANSWER_CNAME_PING:
		add_alias(p, qname, answer);
		break;
	case ANSWER_SRCPORT:
		if (qtype == LDNS_RR_TYPE_TXT) {
			snprintf(count, sizeof(count), "%u", s->peer_port);
			add_rr(p, qname, LDNS_RR_TYPE_TXT, LDNS_RDF_TYPE_STR, count,
			    0, NULL);
		}
		break;
	case ANSWER_COUNT:
		if (qtype == LDNS_RR_TYPE_TXT || qtype == LDNS_RR_TYPE_ANY) {
			snprintf(count, sizeof(count), "%lu", s->counted);
			add_rr(p, qname, LDNS_RR_TYPE_TXT, LDNS_RDF_TYPE_STR, count,
			    0, NULL);
		}
		break;
	}
	if (ldns_pkt2wire(&wire, p, len) != LDNS_STATUS_OK) {
		wire = NULL;
		goto out;
	}
	if (limit > 0 && *len > limit && answer != ANSWER_NONE) {
		answer = ANSWER_NONE;
		tc = true;
		goto again;
	}
out:
	ldns_pkt_free(p);
	return wire;
}

/* The UDP size the client can take: RFC 6891 6.2.5, never below 512. */
static size_t
udp_limit(const ldns_pkt *q)
{
	size_t n = UDP_MIN;

	if (ldns_pkt_edns(q) && ldns_pkt_edns_udp_size(q) > n)
		n = ldns_pkt_edns_udp_size(q);
	return n;
}

/* Counts one more query for name; true while flaky<n> must still drop it. */
static bool
flaky_drop(struct server *s, const ldns_rdf *name, long n)
{
	struct flaky *f;
	char *key = ldns_rdf2str(name);
	char *c;

	if (key == NULL)
		return false;
	for (c = key; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	for (f = s->flaky; f != NULL; f = f->next)
		if (strcmp(f->name, key) == 0)
			break;
	if (f == NULL) {
		f = xmalloc(sizeof(*f));
		f->name = key;
		f->seen = 0;
		f->next = s->flaky;
		s->flaky = f;
		key = NULL;
	}
	free(key);
	return f->seen++ < (unsigned long)n;
}

static void
conn_close(struct server *s, size_t i)
{
	struct conn *c = &s->conns[i];

	if (c->fd == -1)
		return;
	close(c->fd);
	c->fd = -1;
	c->gen++;
	free(c->in);
	free(c->out);
	c->in = NULL;
	c->out = NULL;
	c->inlen = c->outlen = c->outcap = 0;
}

static void
conn_flush(struct server *s, size_t i)
{
	struct conn *c = &s->conns[i];
	ssize_t n;

	if (c->connecting || c->outlen == 0)
		return;
	n = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL);
	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			conn_close(s, i);
		return;
	}
	memmove(c->out, c->out + n, c->outlen - (size_t)n);
	c->outlen -= (size_t)n;
}

/* Queues one length-prefixed DNS message on connection i if it is still gen. */
static void
conn_send(struct server *s, size_t i, unsigned gen, const uint8_t *buf,
    size_t len)
{
	struct conn *c = &s->conns[i];

	if (c->fd == -1 || c->gen != gen || len > 65535)
		return;
	if (c->outlen + len + 2 > c->outcap) {
		c->outcap = c->outlen + len + 2 + 1024;
		c->out = xrealloc(c->out, c->outcap);
	}
	c->out[c->outlen++] = (uint8_t)(len >> 8);
	c->out[c->outlen++] = (uint8_t)len;
	memcpy(c->out + c->outlen, buf, len);
	c->outlen += len;
	conn_flush(s, i);
}

static int
conn_slot(struct server *s, int fd)
{
	size_t i;

	for (i = 0; i < MAX_CONN; i++) {
		if (s->conns[i].fd == -1) {
			s->conns[i].fd = fd;
			s->conns[i].upstream = false;
			s->conns[i].connecting = false;
			s->conns[i].born = clock_ms();
			s->conns[i].in = xmalloc(2 + 65535);
			return (int)i;
		}
	}
	return -1;
}

static void
send_reply(struct server *s, int fd, const struct peer *to, const uint8_t *buf,
    size_t len)
{
	if (to->tcp)
		conn_send(s, to->conn, to->gen, buf, len);
	else
		sendto(fd, buf, len, 0, (const struct sockaddr *)&to->addr,
		    to->addrlen);
}

/* Sends the query to the upstream: over UDP under a fresh ID, over TCP on a new connection. */
static void
forward(struct server *s, const struct peer *from, uint8_t *buf, size_t len)
{
	struct forward *f = NULL;
	int64_t now = clock_ms();
	uint32_t tries;
	uint16_t id;
	int fd, slot;

	if (from->tcp) {
		fd = socket(s->upstream.ss_family, SOCK_STREAM, 0);
		if (fd == -1)
			return;
		set_nonblock(fd);
		if (connect(fd, (const struct sockaddr *)&s->upstream,
		    s->upstream_len) == -1 && errno != EINPROGRESS) {
			close(fd);
			return;
		}
		if ((slot = conn_slot(s, fd)) == -1) {
			close(fd);
			return;
		}
		s->conns[slot].upstream = true;
		s->conns[slot].connecting = true;
		s->conns[slot].client = *from;
		conn_send(s, (size_t)slot, s->conns[slot].gen, buf, len);
		return;
	}
	for (tries = 0; tries < FWD_SLOTS; tries++) {
		id = (uint16_t)(s->next_id++ % FWD_SLOTS);
		f = &s->forwards[id];
		if (!f->used || now - f->born > FWD_TTL_MS)
			break;
		f = NULL;
	}
	if (f == NULL)
		return;
	f->used = true;
	f->born = now;
	f->client_id = (uint16_t)(buf[0] << 8 | buf[1]);
	f->client = *from;
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	sendto(s->up_udp, buf, len, 0, (const struct sockaddr *)&s->upstream,
	    s->upstream_len);
}

static void
schedule_reply(struct server *s, int64_t due, enum event_kind kind,
    const struct peer *to, uint8_t *wire, size_t len)
{
	if (wire != NULL)
		schedule(s, due, kind, to, wire, len);
}

/*
 * --log: "MS NAME TYPE udp|tcp" for each question, MS the milliseconds of
 * CLOCK_MONOTONIC when it arrived, NAME in presentation form with its final
 * dot, TYPE a mnemonic ("A", "TXT") or TYPEn.
 */
static void
log_question(struct server *s, const ldns_rdf *qname, ldns_rr_type type, bool tcp)
{
	char *name = ldns_rdf2str(qname), *tname = ldns_rr_type2str(type);

	if (name == NULL || tname == NULL)
		die("out of memory");
	fprintf(s->log, "%" PRId64 " %s %s %s\n", clock_ms(), name, tname, tcp ? "tcp" : "udp");
	fflush(s->log);
	free(name);
	free(tname);
}

/* Decides what one query gets, and queues it; malformed queries are ignored. */
static void
handle_query(struct server *s, const uint8_t *buf, size_t len,
    const struct peer *from)
{
	ldns_pkt *q = NULL;
	ldns_rdf *qname, *other = NULL;
	uint8_t *wire;
	size_t wlen, limit, qlen;
	int64_t due = clock_ms() + s->delay;
	enum fault fault;
	char label[64];
	size_t i;
	long n;

	if (len < LDNS_HEADER_SIZE || ldns_wire2pkt(&q, buf, len) != LDNS_STATUS_OK)
		goto out;
	if (ldns_pkt_qr(q) || ldns_pkt_get_opcode(q) != LDNS_PACKET_QUERY ||
	    ldns_pkt_qdcount(q) != 1 ||
	    ldns_rr_list_rr_count(ldns_pkt_question(q)) != 1)
		goto out;
	qname = ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(q), 0));
	if (s->log != NULL)
		log_question(s, qname, ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_question(q), 0)),
		    from->tcp);
	first_label(qname, label);
	n = 0;
	fault = s->named_only ? FAULT_NORMAL : classify(label, &n);
	if (s->all) {
		fault = s->all_fault;
		n = s->all_n;
	}
	for (i = 0; fault == FAULT_NORMAL && i < s->nsilent; i++)
		if (ldns_dname_compare(qname, s->silent[i]) == 0)
			fault = FAULT_TIMEOUT;
	for (i = 0; fault == FAULT_NORMAL && i < s->nnamed; i++)
		if (ldns_dname_compare(qname, s->named[i]) == 0) {
			fault = s->named_fault[i];
			n = s->named_n[i];
		}
	if (fault != FAULT_COUNT)
		s->counted++;
	limit = from->tcp ? 0 : udp_limit(q);

	switch (fault) {
	case FAULT_TIMEOUT:
		break;
	case FAULT_LATE:
		due += n;
		wire = reply_wire(s, q, qname, LDNS_RCODE_NOERROR,
		    ANSWER_NORMAL, false, limit, &wlen);
		schedule_reply(s, due, EVENT_REPLY, from, wire, wlen);
		break;
	case FAULT_SERVFAIL:
	case FAULT_REFUSED:
	case FAULT_NXDOMAIN:
	case FAULT_NODATA:
		wire = reply_wire(s, q, qname,
		    fault == FAULT_SERVFAIL ? LDNS_RCODE_SERVFAIL :
		    fault == FAULT_REFUSED ? LDNS_RCODE_REFUSED :
		    fault == FAULT_NXDOMAIN ? LDNS_RCODE_NXDOMAIN :
		    LDNS_RCODE_NOERROR, ANSWER_NONE, false, limit, &wlen);
		schedule_reply(s, due, EVENT_REPLY, from, wire, wlen);
		break;
	case FAULT_TCREFUSE:
		if (from->tcp) {
			conn_close(s, from->conn);
			break;
		}
		/* FALLTHROUGH */
	case FAULT_TC:
		wire = reply_wire(s, q, qname, LDNS_RCODE_NOERROR,
		    from->tcp ? ANSWER_NORMAL : ANSWER_NONE, !from->tcp, limit,
		    &wlen);
		schedule_reply(s, due, EVENT_REPLY, from, wire, wlen);
		break;
	case FAULT_MALFORMED:
		/* The header and question as they should be, then an answer cut short. */
		qlen = LDNS_HEADER_SIZE + ldns_rdf_size(qname) + 4;
		wire = reply_wire(s, q, qname, LDNS_RCODE_NOERROR, ANSWER_NONE,
		    false, 0, &wlen);
		if (wire == NULL || wlen < qlen)
			break;
		wire = xrealloc(wire, qlen + 5);
		memcpy(wire + qlen, "\xc0\x0c\x00\x01\x00", 5);
		wire[6] = 0;		/* ANCOUNT 1, NSCOUNT and ARCOUNT 0 */
		wire[7] = 1;
		memset(wire + 8, 0, 4);
		schedule(s, due, EVENT_REPLY, from, wire, qlen + 5);
		break;
	case FAULT_BADID:
	case FAULT_BADTHENGOOD:
		wire = reply_wire(s, q, qname, LDNS_RCODE_NOERROR,
		    ANSWER_NORMAL, false, limit, &wlen);
		if (wire == NULL)
			break;
		wire[0] ^= 0x5a;
		wire[1] ^= 0xa5;
		schedule(s, due, EVENT_REPLY, from, wire, wlen);
		if (fault == FAULT_BADID)
			break;
		/* FALLTHROUGH */
	case FAULT_BADQ:
		other = ldns_dname_new_frm_str("badq-wrong.invalid.");
		if (other == NULL)
			die("out of memory");
		wire = reply_wire(s, q, other, LDNS_RCODE_NOERROR,
		    ANSWER_NORMAL, false, limit, &wlen);
		schedule_reply(s, due, EVENT_REPLY, from, wire, wlen);
		if (fault == FAULT_BADQ)
			break;
		wire = reply_wire(s, q, qname, LDNS_RCODE_NOERROR,
		    ANSWER_NORMAL, false, limit, &wlen);
		schedule_reply(s, due + GOOD_AFTER_MS, EVENT_REPLY, from, wire,
		    wlen);
		break;
	case FAULT_WRONGSRC:
		wire = reply_wire(s, q, qname, LDNS_RCODE_NOERROR,
		    ANSWER_NORMAL, false, limit, &wlen);
		schedule_reply(s, due, from->tcp ? EVENT_REPLY : EVENT_REPLY_ALT,
		    from, wire, wlen);
		break;
	case FAULT_FLAKY:
		if (flaky_drop(s, qname, n))
			break;
		wire = reply_wire(s, q, qname, LDNS_RCODE_NOERROR,
		    ANSWER_NORMAL, false, limit, &wlen);
		schedule_reply(s, due, EVENT_REPLY, from, wire, wlen);
		break;
	case FAULT_SRCPORT:
		/* the source port the query came from, for tests of port randomisation */
		s->peer_port = ntohs(from->addr.ss_family == AF_INET6 ?
		    ((const struct sockaddr_in6 *)&from->addr)->sin6_port :
		    ((const struct sockaddr_in *)&from->addr)->sin_port);
		wire = reply_wire(s, q, qname, LDNS_RCODE_NOERROR, ANSWER_SRCPORT, false,
		    limit, &wlen);
		schedule_reply(s, due, EVENT_REPLY, from, wire, wlen);
		break;
	case FAULT_BIG:
	case FAULT_COUNT:
	case FAULT_MANY:
		wire = reply_wire(s, q, qname, LDNS_RCODE_NOERROR,
		    fault == FAULT_BIG ? ANSWER_BIG : fault == FAULT_MANY ? ANSWER_MANY :
		    ANSWER_COUNT, false, limit, &wlen);
		schedule_reply(s, due, EVENT_REPLY, from, wire, wlen);
		break;
	case FAULT_CNAMELOOP:
	case FAULT_CNAMECHAIN:
	case FAULT_CNAMERUN:
	case FAULT_CNAMEPING:
		wire = reply_wire(s, q, qname, LDNS_RCODE_NOERROR,
		    fault == FAULT_CNAMELOOP ? ANSWER_CNAME_SELF :
		    fault == FAULT_CNAMECHAIN ? ANSWER_CNAME_CHAIN :
		    fault == FAULT_CNAMERUN ? ANSWER_CNAME_RUN : ANSWER_CNAME_PING,
		    false, limit, &wlen);
		schedule_reply(s, due, EVENT_REPLY, from, wire, wlen);
		break;
	case FAULT_NORMAL:
		if (s->has_upstream) {
			schedule(s, due, EVENT_FORWARD, from, xmemdup(buf, len),
			    len);
			break;
		}
		wire = reply_wire(s, q, qname, LDNS_RCODE_NOERROR,
		    ANSWER_NORMAL, false, limit, &wlen);
		schedule_reply(s, due, EVENT_REPLY, from, wire, wlen);
		break;
	}
out:
	ldns_rdf_deep_free(other);
	ldns_pkt_free(q);
}

static void
read_udp(struct server *s)
{
	static uint8_t buf[65536];
	struct peer from;
	ssize_t n;
	int i;

	/* A bounded batch, so TCP and the timers are not starved. */
	for (i = 0; i < 256; i++) {
		memset(&from, 0, sizeof(from));
		from.addrlen = sizeof(from.addr);
		n = recvfrom(s->udp, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from.addr, &from.addrlen);
		if (n == -1)
			return;
		handle_query(s, buf, (size_t)n, &from);
	}
}

/* Relays an upstream reply over UDP to the client its ID was given for. */
static void
read_upstream(struct server *s)
{
	static uint8_t buf[65536];
	struct sockaddr_storage src;
	socklen_t srclen;
	struct forward *f;
	ssize_t n;
	int i;

	for (i = 0; i < 256; i++) {
		srclen = sizeof(src);
		n = recvfrom(s->up_udp, buf, sizeof(buf), 0,
		    (struct sockaddr *)&src, &srclen);
		if (n == -1)
			return;
		if (n < LDNS_HEADER_SIZE || !same_addr(&src, &s->upstream))
			continue;
		f = &s->forwards[buf[0] << 8 | buf[1]];
		if (!f->used)
			continue;
		f->used = false;
		buf[0] = (uint8_t)(f->client_id >> 8);
		buf[1] = (uint8_t)f->client_id;
		send_reply(s, s->udp, &f->client, buf, (size_t)n);
	}
}

static void
accept_tcp(struct server *s)
{
	int fd;

	while ((fd = accept(s->tcp, NULL, NULL)) != -1) {
		set_nonblock(fd);
		if (conn_slot(s, fd) == -1)
			close(fd);
	}
}

static void
read_conn(struct server *s, size_t i)
{
	struct conn *c = &s->conns[i];
	struct peer from;
	unsigned gen = c->gen;
	size_t msglen;
	ssize_t n;

	n = recv(c->fd, c->in + c->inlen, 2 + 65535 - c->inlen, 0);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		conn_close(s, i);
		return;
	}
	if (n == -1)
		return;
	c->inlen += (size_t)n;
	while (c->fd != -1 && c->gen == gen && c->inlen >= 2) {
		msglen = (size_t)c->in[0] << 8 | c->in[1];
		if (c->inlen < 2 + msglen)
			break;
		if (c->upstream) {
			send_reply(s, -1, &c->client, c->in + 2, msglen);
			conn_close(s, i);
			return;
		}
		memset(&from, 0, sizeof(from));
		from.tcp = true;
		from.conn = i;
		from.gen = gen;
		handle_query(s, c->in + 2, msglen, &from);
		if (c->fd == -1 || c->gen != gen)
			return;
		memmove(c->in, c->in + 2 + msglen, c->inlen - 2 - msglen);
		c->inlen -= 2 + msglen;
	}
}

static void
write_conn(struct server *s, size_t i)
{
	struct conn *c = &s->conns[i];
	socklen_t len = sizeof(int);
	int err = 0;

	if (c->connecting) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
		    err != 0) {
			conn_close(s, i);
			return;
		}
		c->connecting = false;
	}
	conn_flush(s, i);
}

static void
run_event(struct server *s, struct event *ev)
{
	switch (ev->kind) {
	case EVENT_REPLY:
		send_reply(s, s->udp, &ev->to, ev->buf, ev->len);
		break;
	case EVENT_REPLY_ALT:
		send_reply(s, s->alt, &ev->to, ev->buf, ev->len);
		break;
	case EVENT_FORWARD:
		forward(s, &ev->to, ev->buf, ev->len);
		break;
	}
	free(ev->buf);
	free(ev);
}

static void
serve(struct server *s)
{
	struct pollfd pfd[4 + MAX_CONN];
	size_t which[4 + MAX_CONN];
	struct event *ev;
	int64_t now, wait;
	size_t i, nfd, nfixed;
	struct conn *c;

	while (!stop) {
		now = clock_ms();
		nfd = 0;
		pfd[nfd].fd = s->udp;
		pfd[nfd++].events = POLLIN;
		pfd[nfd].fd = s->tcp;
		pfd[nfd++].events = POLLIN;
		pfd[nfd].fd = s->has_upstream ? s->up_udp : -1;
		pfd[nfd++].events = POLLIN;
		nfixed = nfd;
		for (i = 0; i < MAX_CONN; i++) {
			c = &s->conns[i];
			if (c->fd == -1)
				continue;
			if (c->upstream && now - c->born > FWD_TTL_MS) {
				conn_close(s, i);
				continue;
			}
			pfd[nfd].fd = c->fd;
			pfd[nfd].events = POLLIN;
			if (c->connecting || c->outlen > 0)
				pfd[nfd].events |= POLLOUT;
			which[nfd++] = i;
		}
		wait = 1000;
		if (s->nheap > 0) {
			wait = s->heap[0]->due - now;
			if (wait < 0)
				wait = 0;
			if (wait > 1000)
				wait = 1000;
		}
		if (poll(pfd, nfd, (int)wait) == -1) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if (pfd[0].revents & POLLIN)
			read_udp(s);
		if (pfd[1].revents & POLLIN)
			accept_tcp(s);
		if (pfd[2].revents & POLLIN)
			read_upstream(s);
		for (i = nfixed; i < nfd; i++) {
			c = &s->conns[which[i]];
			if (c->fd != pfd[i].fd)
				continue;
			if (pfd[i].revents & POLLOUT)
				write_conn(s, which[i]);
			if (c->fd != -1 && (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				read_conn(s, which[i]);
		}
		now = clock_ms();
		while (s->nheap > 0 && s->heap[0]->due <= now)
			run_event(s, heap_pop(s));
	}
	while ((ev = heap_pop(s)) != NULL) {
		free(ev->buf);
		free(ev);
	}
}

static void
usage(void)
{
	fputs("usage: faultdns --port P [--addr 127.0.0.1] [--delay MS] "
	    "[--upstream ADDR:PORT] [--pidfile F] [--timeout-name NAME]...\n"
	    "       [--fault NAME=KIND]... (KIND: a first-label word, e.g. servfail) [--named-only]\n"
	    "       [--all KIND] [--log FILE] (one line per question: MS NAME TYPE udp|tcp)\n",
	    stderr);
	exit(64);
}

static long
parse_num(const char *arg, const char *what, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || *end != '\0' || end == arg || v < 0 || v > max)
		die("invalid %s '%s'", what, arg);
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "addr", required_argument, NULL, 'a' },
		{ "delay", required_argument, NULL, 'd' },
		{ "upstream", required_argument, NULL, 'u' },
		{ "pidfile", required_argument, NULL, 'P' },
		{ "timeout-name", required_argument, NULL, 'T' },
		{ "fault", required_argument, NULL, 'F' },
		{ "named-only", no_argument, NULL, 'N' },
		{ "log", required_argument, NULL, 'L' },
		{ "all", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct server s;
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct sigaction sa;
	struct flaky *f;
	const char *addr = "127.0.0.1", *port = NULL, *pidfile = NULL;
	FILE *fp;
	size_t i;
	int ch;

	while ((ch = getopt_long(argc, argv, "p:a:d:u:P:T:F:A:NL:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			port = optarg;
			parse_num(port, "port", 65535);
			break;
		case 'a':
			addr = optarg;
			break;
		case 'd':
			s.delay = parse_num(optarg, "delay", MAX_LATE_MS);
			break;
		case 'u':
			if (parse_hostport(optarg, &s.upstream, &s.upstream_len) == -1)
				die("invalid upstream '%s' (want ADDR:PORT)", optarg);
			s.has_upstream = true;
			break;
		case 'P':
			pidfile = optarg;
			break;
		case 'T':
			/* this exact name never gets an answer, whatever its labels */
			s.silent = realloc(s.silent, (s.nsilent + 1) * sizeof(*s.silent));
			if (s.silent == NULL)
				die("out of memory");
			if ((s.silent[s.nsilent] = ldns_dname_new_frm_str(optarg)) == NULL)
				die("invalid name '%s'", optarg);
			s.nsilent++;
			break;
		case 'L':
			if (s.log != NULL)
				fclose(s.log);
			if ((s.log = fopen(optarg, "w")) == NULL)
				die("cannot write '%s': %s", optarg, strerror(errno));
			break;
		case 'A':
			/* every query, whatever its name, gets this fault */
			s.all_fault = classify(optarg, &s.all_n);
			if (s.all_fault == FAULT_NORMAL)
				die("unknown fault '%s' in --all", optarg);
			s.all = true;
			break;
		case 'N':
			/* suites with real names ("malformed._domainkey...") */
			s.named_only = true;
			break;
		case 'F': {
			/* this exact name gets the fault its KIND names as a first label would */
			char *eq = strchr(optarg, '=');
			long fn;

			if (eq == NULL || eq == optarg)
				die("invalid --fault '%s' (want NAME=KIND)", optarg);
			*eq = '\0';
			s.named = realloc(s.named, (s.nnamed + 1) * sizeof(*s.named));
			s.named_fault = realloc(s.named_fault, (s.nnamed + 1) * sizeof(*s.named_fault));
			s.named_n = realloc(s.named_n, (s.nnamed + 1) * sizeof(*s.named_n));
			if (s.named == NULL || s.named_fault == NULL || s.named_n == NULL)
				die("out of memory");
			s.named_fault[s.nnamed] = classify(eq + 1, &fn);
			s.named_n[s.nnamed] = fn;
			if (s.named_fault[s.nnamed] == FAULT_NORMAL)
				die("unknown fault '%s' in --fault", eq + 1);
			if ((s.named[s.nnamed] = ldns_dname_new_frm_str(optarg)) == NULL)
				die("invalid name '%s'", optarg);
			s.nnamed++;
			break;
		}
		default:
			usage();
		}
	}
	if (port == NULL || optind != argc)
		usage();
	if (make_addr(addr, port, &ss, &sslen) == -1)
		die("invalid address '%s'", addr);

	for (i = 0; i < MAX_CONN; i++)
		s.conns[i].fd = -1;
	s.up_udp = -1;
	s.forwards = calloc(FWD_SLOTS, sizeof(*s.forwards));
	if (s.forwards == NULL)
		die("out of memory");
	open_listeners(&s, &ss, sslen);
	if (s.has_upstream) {
		s.up_udp = socket(s.upstream.ss_family, SOCK_DGRAM, 0);
		if (s.up_udp == -1)
			die("socket: %s", strerror(errno));
		big_buffers(s.up_udp);
		set_nonblock(s.up_udp);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (pidfile != NULL) {
		if ((fp = fopen(pidfile, "w")) == NULL)
			die("cannot write '%s': %s", pidfile, strerror(errno));
		fprintf(fp, "%ld\n", (long)getpid());
		fclose(fp);
	}
	printf("port %u\n", addr_port(&ss));
	fflush(stdout);

	serve(&s);

	for (i = 0; i < MAX_CONN; i++)
		conn_close(&s, i);
	while ((f = s.flaky) != NULL) {
		s.flaky = f->next;
		free(f->name);
		free(f);
	}
	for (i = 0; i < s.nsilent; i++)
		ldns_rdf_deep_free(s.silent[i]);
	free(s.silent);
	for (i = 0; i < s.nnamed; i++)
		ldns_rdf_deep_free(s.named[i]);
	free(s.named);
	free(s.named_fault);
	free(s.named_n);
	free(s.heap);
	free(s.forwards);
	close(s.udp);
	close(s.tcp);
	close(s.alt);
	if (s.up_udp != -1)
		close(s.up_udp);
	if (s.log != NULL)
		fclose(s.log);
	if (pidfile != NULL)
		unlink(pidfile);
	return 0;
}
