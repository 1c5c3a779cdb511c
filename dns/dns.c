/* The DNS engine: one I/O thread, non-blocking UDP and TCP over epoll, an LRU cache with in-flight coalescing, rate caps, sessions with deadlines. */
#include "dns/dns.h"

#include <errno.h>
#include <inttypes.h>
#include <ldns/ldns.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "core/net.h"

#define EDNS_BUFSIZE	1232
#define MAX_CNAME_HOPS	8
#define FAIL_TTL	5		/* seconds a failure is kept, so a batch does not wait on a dead server again and again */
#define MAX_TTL		86400
#define DEFAULT_NEG_TTL	60
#define MAX_MSG		65535
#define SOCK_USES	32		/* queries per UDP socket before a fresh port */
#define DAY_MS		((int64_t)86400000)
#define BUDGET_WARN	0.9		/* share of a daily budget at which a person is told */
#define MAX_INFLIGHT	65536

enum xfer_state {
	XFER_QUEUED = 0,	/* waiting for a free socket */
	XFER_UDP,		/* datagram sent, waiting for the reply */
	XFER_TCP_CONNECT,
	XFER_TCP_WRITE,
	XFER_TCP_READ,
	XFER_DONE,
};

/* What an epoll event points at: an entry (its TCP connection) or a shared UDP socket. */
enum evkind {
	EV_ENTRY = 1,
	EV_USOCK,
};

struct entry;

/*
 * A thread in dns_query_wait(), on the list of the entry it waits for:
 * completing an entry wakes its own waiters only, never every thread of
 * every target.
 */
struct waiter {
	pthread_cond_t cond;
	struct waiter *next;
};

/* One segment of the cache: entries, least recently used first. */
struct lru {
	struct entry *head, *tail;
	size_t n;
};

/*
 * A token bucket: rate tokens a second, at most burst saved up. A question
 * sent under the cap takes one.
 */
struct bucket {
	double rate;
	double burst;
	double tokens;
	int64_t last;			/* when tokens was last brought up to date */
};

/*
 * The cap of one zone (dns_engine_cap_zone): its bucket, its daily budget,
 * and the questions held back for their turn, oldest first.
 */
struct zonecap {
	char *zone;
	size_t len;
	struct bucket bucket;
	uint64_t budget;
	uint64_t used;			/* questions sent in the current day */
	uint64_t taken;			/* questions sent since the engine started */
	int64_t day_start;
	bool warned, spent;
	struct entry *held_head, *held_tail;
	size_t nheld;
};

/*
 * A UDP socket shared by up to SOCK_USES queries, then replaced by a fresh
 * one: each gets its own random ephemeral port from the kernel, so source
 * ports keep changing without a socket() and close() per query.
 */
struct usock {
	enum evkind kind;
	int fd;
	int family;
	unsigned uses;			/* queries started on it */
	struct entry *queries;		/* in flight on it, linked by unext */
	struct usock *next;		/* open sockets, or retired ones waiting for reap() */
	bool retired;
};

/*
 * One question: in flight, then (if cacheable) kept in the table as the
 * cache entry. Handles and the table each hold a reference.
 */
struct entry {
	enum evkind kind;
	char *name;
	uint16_t type;
	uint64_t hash;
	int refs;
	struct waiter *waiting;		/* threads in dns_query_wait() on it */
	bool in_table;
	struct entry *hnext;		/* hash chain */
	struct entry *fprev, *fnext;	/* in its cache segment, least recently used first */
	struct lru *seg;		/* the cache segment it is in, NULL if none */
	struct entry *aprev, *anext;	/* active or queued list */
	bool on_list;
	struct zonecap *cap;		/* the zone cap its name falls under, or NULL */
	bool held;			/* on its cap's held list, waiting for a token */
	struct entry *reap_next;	/* finished, in-flight reference still held */
	struct dns_stats *owner;	/* the session that asked first */

	bool done;
	struct dns_result *res;
	int64_t expires;

	/* transfer state */
	enum xfer_state state;
	char *cur;			/* name asked now (differs after a CNAME) */
	ldns_rdf *cur_rdf;
	char **chain;
	size_t nchain;
	int attempt;
	int server;
	int fd;				/* TCP connection */
	struct usock *us;		/* UDP socket the current attempt went out on */
	struct entry *unext;
	bool edns;
	uint16_t id;
	int64_t started;
	int64_t timer;			/* when this attempt times out */
	unsigned char *tcpbuf;
	size_t tcplen, tcppos;
	bool saw_malformed;
	bool saw_neterr;
	bool saw_timeout;
	int last_rcode;
};

struct dns_engine {
	struct dns_config cfg;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool running;
	int epfd;
	int evfd;

	struct entry **buckets;
	size_t nbuckets;
	size_t nentries;
	/*
	 * The cache, a segmented LRU: an answer enters on probation and moves
	 * to the protected segment when it is asked again, so a batch's
	 * one-off names (each IP's) go before the names every target asks.
	 */
	struct lru probation, protected;
	size_t ncached;

	struct entry *queue_head, *queue_tail;		/* waiting for a socket */
	size_t nqueued;				/* on the queue or held by a cap */
	struct entry *active_head, *active_tail;	/* ordered by timer */
	size_t nactive;
	size_t peak_active, peak_cached;

	struct zonecap **caps;
	size_t ncaps;
	size_t nheld;			/* questions held by zone caps */
	struct bucket global;		/* max_qps, when set */
	uint64_t global_taken;
	struct bucket admission;	/* targets let in by dns_engine_admit() */
	uint64_t admitted;
	struct entry *reap;
	struct usock *usocks;		/* open, accepting queries or draining */
	struct usock *usocks_retired;	/* closed, freed by reap() */
	bool sleeping;			/* the I/O thread is in epoll_wait and not yet woken */

	struct dns_counters counters;
	struct dns_server_stats sstats[DNS_MAX_SERVERS];

	unsigned char rnd[256];
	size_t rndpos;
};

/* A session's counters; entries it started keep them alive to count their retries. */
struct dns_stats {
	int refs;
	struct dns_counters c;
};

struct dns {
	struct dns_engine *eng;
	int64_t deadline;
	struct dns_stats *stats;
};

/* Counts an event of e for the engine and for the session that asked first. */
#define COUNT(eng, e, field) do {					\
	(eng)->counters.field++;					\
	if ((e)->owner != NULL)						\
		(e)->owner->c.field++;					\
} while (0)

struct dns_query {
	struct dns *dns;
	struct entry *e;
};

static const char *const status_names[] = {
	[DNS_ANSWER] = "answer",
	[DNS_NXDOMAIN] = "nxdomain",
	[DNS_NODATA] = "nodata",
	[DNS_SERVFAIL] = "servfail",
	[DNS_REFUSED] = "refused",
	[DNS_TIMEOUT] = "timeout",
	[DNS_MALFORMED] = "malformed",
	[DNS_NETERR] = "network_error",
	[DNS_OVER_BUDGET] = "over_budget",
};

const char *
dns_status_name(enum dns_status st)
{
	if ((size_t)st >= ARRAY_SIZE(status_names))
		return "unknown";
	return status_names[st];
}

bool
dns_status_is_negative(enum dns_status st)
{
	return st == DNS_NXDOMAIN || st == DNS_NODATA;
}

bool
dns_status_is_failure(enum dns_status st)
{
	return st != DNS_ANSWER && !dns_status_is_negative(st);
}

void
dns_config_init(struct dns_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->attempt_timeout_ms = 1500;
	cfg->attempts = 3;
	cfg->max_inflight = DNS_INFLIGHT_DEFAULT;
	cfg->cache_max = DNS_CACHE_MAX_DEFAULT;
}

static const struct conf_entry *
last_key(const struct conf_section *sec, const char *key)
{
	const struct conf_entry *found = NULL;
	size_t i;

	for (i = 0; i < sec->nentries; i++)
		if (strcmp(sec->entries[i].key, key) == 0)
			found = &sec->entries[i];
	return found;
}

static const char *const dns_keys[] = { "cache_max", "max_inflight", "max_qps", NULL };

int
dns_config_read(struct dns_config *cfg, const struct conf *conf, struct error *err)
{
	const struct conf_section *sec = NULL;
	long cache = -1, inflight = -1;
	double qps = -1;

	while ((sec = conf_next(conf, sec, "dns")) != NULL) {
		if (sec->label != NULL)
			return conf_error(sec, NULL, err, "[dns] takes no label");
		if (conf_section_check_keys(sec, dns_keys, err) < 0 ||
		    conf_section_get_int(sec, "cache_max", 0, 100000000, &cache, err) < 0 ||
		    conf_section_get_int(sec, "max_inflight", 1, MAX_INFLIGHT, &inflight, err) < 0 ||
		    conf_section_get_double(sec, "max_qps", &qps, err) < 0)
			return -1;
		if (conf_section_get(sec, "max_qps") != NULL && !(qps >= 0 && qps <= 1e7))
			return conf_error(sec, last_key(sec, "max_qps"), err,
			    "max_qps must be from 0 (no cap) to 10000000 questions per second");
	}
	if (cache >= 0)
		cfg->cache_max = (size_t)cache;
	if (inflight >= 0)
		cfg->max_inflight = (size_t)inflight;
	if (qps >= 0)
		cfg->max_qps = qps;
	return 0;
}

/* Results */

static void
rr_release(struct dns_rr *rr)
{
	free(rr->owner);
	free(rr->text);
	switch (rr->type) {
	case DNS_T_PTR:
	case DNS_T_CNAME:
	case DNS_T_NS:
		free(rr->u.name.target);
		break;
	case DNS_T_MX:
		free(rr->u.mx.host);
		break;
	case DNS_T_TXT:
	case DNS_T_SPF:
		free(rr->u.txt.data);
		free(rr->u.txt.lens);
		break;
	case DNS_T_SOA:
		free(rr->u.soa.mname);
		free(rr->u.soa.rname);
		break;
	default:
		break;
	}
}

static void
result_destroy(struct dns_result *res)
{
	size_t i;

	for (i = 0; i < res->nrr; i++)
		rr_release(&res->rr[i]);
	free(res->rr);
	for (i = 0; i < res->ncname; i++)
		free(res->cname[i]);
	free(res->cname);
	free(res->qname);
	free(res->server);
	free(res);
}

/*
 * Results are shared between threads; their count changes under a lock
 * of its own so that waiters can drop them without the engine lock.
 */
static pthread_mutex_t result_lock = PTHREAD_MUTEX_INITIALIZER;

struct dns_result *
dns_result_ref(struct dns_result *res)
{
	pthread_mutex_lock(&result_lock);
	res->refs++;
	pthread_mutex_unlock(&result_lock);
	return res;
}

void
dns_result_free(struct dns_result *res)
{
	int left;

	if (res == NULL)
		return;
	pthread_mutex_lock(&result_lock);
	left = --res->refs;
	pthread_mutex_unlock(&result_lock);
	if (left == 0)
		result_destroy(res);
}

static struct dns_result *
result_new(const char *qname, uint16_t type, enum dns_status st)
{
	struct dns_result *res = xcalloc(1, sizeof(*res));

	res->qname = xstrdup(qname);
	res->qtype = type;
	res->status = st;
	res->rcode = -1;
	res->refs = 1;
	return res;
}

/* Names in presentation form, lower case, without the final dot. */
static char *
rdf_name(const ldns_rdf *rdf)
{
	const uint8_t *d = ldns_rdf_data(rdf);
	size_t size = ldns_rdf_size(rdf), pos = 0, i;
	/* worst case: every octet as \DDD, plus dots */
	char *out = xmalloc(size * 4 + 2), *p = out;

	/* wire labels to text by hand: ldns_rdf2str formats octet by octet through printf */
	while (pos < size && d[pos] != 0) {
		size_t len = d[pos++];

		if (len > 63 || pos + len > size)
			break;
		if (p != out)
			*p++ = '.';
		for (i = 0; i < len; i++) {
			unsigned char c = d[pos + i];

			if (c >= 'A' && c <= 'Z')
				c += 32;
			if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			    c == '_' || c == '*' || c == '/') {
				*p++ = (char)c;
			} else if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' ||
			    c == ';' || c == '@' || c == '$') {
				*p++ = '\\';
				*p++ = (char)c;
			} else if (c < 0x21 || c > 0x7e) {
				/* RFC 1035 5.1: \DDD for an octet with no printable form */
				*p++ = '\\';
				*p++ = (char)('0' + c / 100);
				*p++ = (char)('0' + c / 10 % 10);
				*p++ = (char)('0' + c % 10);
			} else {
				*p++ = (char)c;
			}
		}
		pos += len;
	}
	*p = '\0';
	return out;
}

/* An A or AAAA record: the address (size octets) into addr, its text into rr. */
static int
addr_decode(const ldns_rr *lrr, int family, unsigned char *addr, size_t size,
    struct dns_rr *rr)
{
	const ldns_rdf *rd = ldns_rr_rdf(lrr, 0);
	char buf[64];

	if (ldns_rr_rd_count(lrr) < 1 || ldns_rdf_size(rd) != size)
		return -1;
	memcpy(addr, ldns_rdf_data(rd), size);
	net_ip_format(family, addr, buf, sizeof(buf));
	rr->text = xstrdup(buf);
	return 0;
}

/* A TXT (or SPF) record: its character-strings joined, each length kept. */
static int
txt_decode(const ldns_rr *lrr, struct dns_rr *rr)
{
	size_t i, n = ldns_rr_rd_count(lrr);
	struct strbuf sb;

	strbuf_init(&sb);
	rr->u.txt.nstrings = n;
	rr->u.txt.lens = xcalloc(n ? n : 1, sizeof(size_t));
	for (i = 0; i < n; i++) {
		const ldns_rdf *rd = ldns_rr_rdf(lrr, i);
		const uint8_t *d = ldns_rdf_data(rd);

		if (ldns_rdf_size(rd) < 1 || (size_t)d[0] + 1 > ldns_rdf_size(rd)) {
			strbuf_release(&sb);
			return -1;
		}
		strbuf_add(&sb, d + 1, d[0]);
		rr->u.txt.lens[i] = d[0];
	}
	rr->u.txt.data = strbuf_detach(&sb, &rr->u.txt.len);
	rr->text = xmalloc(rr->u.txt.len + 1);
	memcpy(rr->text, rr->u.txt.data, rr->u.txt.len + 1);
	return 0;
}

static int
rr_decode(const ldns_rr *lrr, struct dns_rr *rr)
{
	size_t n;

	memset(rr, 0, sizeof(*rr));
	rr->type = ldns_rr_get_type(lrr);
	rr->ttl = ldns_rr_ttl(lrr);
	rr->owner = rdf_name(ldns_rr_owner(lrr));
	n = ldns_rr_rd_count(lrr);
	switch (rr->type) {
	case DNS_T_A:
		return addr_decode(lrr, AF_INET, rr->u.a.addr, 4, rr);
	case DNS_T_AAAA:
		return addr_decode(lrr, AF_INET6, rr->u.aaaa.addr, 16, rr);
	case DNS_T_PTR:
	case DNS_T_CNAME:
	case DNS_T_NS:
		if (n < 1)
			return -1;
		rr->u.name.target = rdf_name(ldns_rr_rdf(lrr, 0));
		rr->text = xstrdup(rr->u.name.target);
		break;
	case DNS_T_MX:
		if (n < 2 || ldns_rdf_size(ldns_rr_rdf(lrr, 0)) != 2)
			return -1;
		rr->u.mx.pref = ldns_rdf2native_int16(ldns_rr_rdf(lrr, 0));
		rr->u.mx.host = rdf_name(ldns_rr_rdf(lrr, 1));
		rr->text = xasprintf("%u %s", rr->u.mx.pref,
		    rr->u.mx.host[0] ? rr->u.mx.host : ".");
		break;
	case DNS_T_TXT:
	case DNS_T_SPF:
		return txt_decode(lrr, rr);
	case DNS_T_SOA:
		if (n < 7)
			return -1;
		rr->u.soa.mname = rdf_name(ldns_rr_rdf(lrr, 0));
		rr->u.soa.rname = rdf_name(ldns_rr_rdf(lrr, 1));
		rr->u.soa.serial = ldns_rdf2native_int32(ldns_rr_rdf(lrr, 2));
		rr->u.soa.minimum = ldns_rdf2native_int32(ldns_rr_rdf(lrr, 6));
		rr->text = xasprintf("%s %s %u", rr->u.soa.mname, rr->u.soa.rname,
		    rr->u.soa.serial);
		break;
	default:
		rr->text = ldns_rdf2str(ldns_rr_rdf(lrr, 0));
		if (rr->text == NULL)
			rr->text = xstrdup("");
		break;
	}
	return 0;
}

/* The table */

static uint64_t
hash_key(const char *name, uint16_t type)
{
	uint64_t h = 1469598103934665603ULL ^ type;

	for (; *name != '\0'; name++) {
		h ^= (unsigned char)*name;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct entry *
table_find(struct dns_engine *eng, const char *name, uint16_t type, uint64_t h)
{
	struct entry *e;

	for (e = eng->buckets[h % eng->nbuckets]; e != NULL; e = e->hnext)
		if (e->hash == h && e->type == type && strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

static void
table_grow(struct dns_engine *eng)
{
	size_t n = eng->nbuckets * 2, i;
	struct entry **b = xcalloc(n, sizeof(*b));

	for (i = 0; i < eng->nbuckets; i++) {
		struct entry *e = eng->buckets[i], *next;

		for (; e != NULL; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash % n];
			b[e->hash % n] = e;
		}
	}
	free(eng->buckets);
	eng->buckets = b;
	eng->nbuckets = n;
}

static void
table_insert(struct dns_engine *eng, struct entry *e)
{
	struct entry **b;

	if (eng->nentries + 1 > eng->nbuckets)
		table_grow(eng);
	b = &eng->buckets[e->hash % eng->nbuckets];
	e->hnext = *b;
	*b = e;
	e->in_table = true;
	e->refs++;
	eng->nentries++;
}

static void entry_unref(struct entry *e);

static void
lru_unlink(struct lru *l, struct entry *e)
{
	if (e->fprev != NULL)
		e->fprev->fnext = e->fnext;
	else
		l->head = e->fnext;
	if (e->fnext != NULL)
		e->fnext->fprev = e->fprev;
	else
		l->tail = e->fprev;
	e->fprev = e->fnext = NULL;
	e->seg = NULL;
	l->n--;
}

/* Puts e at the recent end of l. */
static void
lru_append(struct lru *l, struct entry *e)
{
	e->fprev = l->tail;
	e->fnext = NULL;
	if (l->tail != NULL)
		l->tail->fnext = e;
	else
		l->head = e;
	l->tail = e;
	e->seg = l;
	l->n++;
}

static void
cache_unlink(struct dns_engine *eng, struct entry *e)
{
	if (e->seg == NULL)
		return;
	lru_unlink(e->seg, e);
	eng->ncached--;
}

/* A cache hit: e becomes the most recently used of the protected segment. */
static void
cache_touch(struct dns_engine *eng, struct entry *e)
{
	if (e->seg == NULL)
		return;
	lru_unlink(e->seg, e);
	lru_append(&eng->protected, e);
	/* the protected segment takes at most three quarters; its oldest go back on probation */
	while (eng->protected.n > eng->cfg.cache_max - eng->cfg.cache_max / 4) {
		struct entry *old = eng->protected.head;

		lru_unlink(&eng->protected, old);
		lru_append(&eng->probation, old);
	}
}

static void
table_remove(struct dns_engine *eng, struct entry *e)
{
	struct entry **p;

	if (!e->in_table)
		return;
	for (p = &eng->buckets[e->hash % eng->nbuckets]; *p != NULL; p = &(*p)->hnext) {
		if (*p == e) {
			*p = e->hnext;
			break;
		}
	}
	e->hnext = NULL;
	e->in_table = false;
	eng->nentries--;
	cache_unlink(eng, e);
	entry_unref(e);
}

/* Called with the engine lock held. */
static void
stats_unref(struct dns_stats *st)
{
	if (st != NULL && --st->refs == 0)
		free(st);
}

static void
entry_unref(struct entry *e)
{
	size_t i;

	if (--e->refs > 0)
		return;
	stats_unref(e->owner);
	dns_result_free(e->res);
	free(e->name);
	free(e->cur);
	ldns_rdf_deep_free(e->cur_rdf);
	for (i = 0; i < e->nchain; i++)
		free(e->chain[i]);
	free(e->chain);
	free(e->tcpbuf);
	free(e);
}

/* Lists of entries waiting for a socket or for their reply. */

static void
list_append(struct entry **head, struct entry **tail, struct entry *e)
{
	e->aprev = *tail;
	e->anext = NULL;
	if (*tail != NULL)
		(*tail)->anext = e;
	else
		*head = e;
	*tail = e;
	e->on_list = true;
}

static void
list_remove(struct entry **head, struct entry **tail, struct entry *e)
{
	if (!e->on_list)
		return;
	if (e->aprev != NULL)
		e->aprev->anext = e->anext;
	else
		*head = e->anext;
	if (e->anext != NULL)
		e->anext->aprev = e->aprev;
	else
		*tail = e->aprev;
	e->aprev = e->anext = NULL;
	e->on_list = false;
}

/* Randomness for IDs: unpredictable, from the kernel, read in batches. */
static uint16_t
random_id(struct dns_engine *eng)
{
	uint16_t id;

	if (eng->rndpos + 2 > sizeof(eng->rnd)) {
		size_t got = 0;

		while (got < sizeof(eng->rnd)) {
			ssize_t n = getrandom(eng->rnd + got, sizeof(eng->rnd) - got, 0);

			if (n < 0 && errno != EINTR)
				break;
			if (n > 0)
				got += (size_t)n;
		}
		eng->rndpos = 0;
	}
	memcpy(&id, eng->rnd + eng->rndpos, 2);
	eng->rndpos += 2;
	return id;
}

/* Completion */

static uint32_t
negative_ttl(const ldns_pkt *pkt)
{
	ldns_rr_list *auth = ldns_pkt_authority(pkt);
	size_t i;

	for (i = 0; auth != NULL && i < ldns_rr_list_rr_count(auth); i++) {
		ldns_rr *rr = ldns_rr_list_rr(auth, i);

		/* RFC 2308 5: the lesser of the SOA TTL and its MINIMUM field */
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && ldns_rr_rd_count(rr) >= 7) {
			uint32_t min = ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));

			return ldns_rr_ttl(rr) < min ? ldns_rr_ttl(rr) : min;
		}
	}
	return DEFAULT_NEG_TTL;
}

static void
usock_retire(struct dns_engine *eng, struct usock *us)
{
	struct usock **p;

	for (p = &eng->usocks; *p != NULL; p = &(*p)->next) {
		if (*p == us) {
			*p = us->next;
			break;
		}
	}
	/* closing the only descriptor of the socket also takes it out of the epoll set */
	close(us->fd);
	us->fd = -1;
	us->retired = true;
	us->next = eng->usocks_retired;
	eng->usocks_retired = us;
}

/* Takes e off its UDP socket; a used-up socket with nothing in flight is closed. */
static void
udp_release(struct dns_engine *eng, struct entry *e)
{
	struct usock *us = e->us;
	struct entry **p;

	if (us == NULL)
		return;
	for (p = &us->queries; *p != NULL; p = &(*p)->unext) {
		if (*p == e) {
			*p = e->unext;
			break;
		}
	}
	e->unext = NULL;
	e->us = NULL;
	if (us->uses >= SOCK_USES && us->queries == NULL)
		usock_retire(eng, us);
}

static void
close_fd(struct dns_engine *eng, struct entry *e)
{
	udp_release(eng, e);
	if (e->fd < 0)
		return;
	close(e->fd);
	e->fd = -1;
}

/* Finishes e with res (stolen): wakes the waiters, keeps it as a cache entry or drops it. */
static void unqueue(struct dns_engine *eng, struct entry *e);

static void
complete(struct dns_engine *eng, struct entry *e, struct dns_result *res)
{
	if (e->state == XFER_QUEUED)
		unqueue(eng, e);
	else if (e->state != XFER_DONE) {
		list_remove(&eng->active_head, &eng->active_tail, e);
		eng->nactive--;
	}
	close_fd(eng, e);
	e->state = XFER_DONE;
	res->elapsed_ms = (int)(now_ms() - e->started);
	if (e->nchain > 0 && res->cname == NULL) {
		res->cname = e->chain;
		res->ncname = e->nchain;
		e->chain = NULL;
		e->nchain = 0;
	}
	if (res->ttl > MAX_TTL)
		res->ttl = MAX_TTL;
	e->res = res;
	e->done = true;
	e->expires = now_ms() + (int64_t)res->ttl * 1000;
	if (eng->cfg.no_cache || eng->cfg.cache_max == 0 || res->ttl == 0) {
		table_remove(eng, e);
	} else if (e->in_table) {
		lru_append(&eng->probation, e);
		eng->ncached++;
		/* least recently used first out, those never asked again before the others */
		while (eng->ncached > eng->cfg.cache_max)
			table_remove(eng, eng->probation.head != NULL ? eng->probation.head :
			    eng->protected.head);
		if (eng->ncached > eng->peak_cached)
			eng->peak_cached = eng->ncached;
	}
	/* the in-flight reference is dropped after the event batch, so no event sees a freed entry */
	e->reap_next = eng->reap;
	eng->reap = e;
	/* nobody waits on most entries; those who do are woken one by one, and leave the list */
	while (e->waiting != NULL) {
		pthread_cond_signal(&e->waiting->cond);
		e->waiting = e->waiting->next;
	}
}

static void
reap(struct dns_engine *eng)
{
	while (eng->reap != NULL) {
		struct entry *e = eng->reap;

		eng->reap = e->reap_next;
		entry_unref(e);
	}
	while (eng->usocks_retired != NULL) {
		struct usock *us = eng->usocks_retired;

		eng->usocks_retired = us->next;
		free(us);
	}
}

static void
fail(struct dns_engine *eng, struct entry *e, enum dns_status st)
{
	struct dns_result *res = result_new(e->name, e->type, st);

	res->rcode = e->last_rcode;
	res->ttl = FAIL_TTL;
	complete(eng, e, res);
}

/* Sending */

static int
build_query(struct entry *e, uint16_t id, bool edns, unsigned char *buf, size_t *len)
{
	size_t nlen = ldns_rdf_size(e->cur_rdf);
	unsigned char *p = buf;

	if (12 + nlen + 4 + 11 > 512)
		return -1;
	/* header: ID, RD, one question, an OPT record when EDNS is on */
	*p++ = id >> 8;
	*p++ = id & 0xff;
	*p++ = 0x01;
	*p++ = 0x00;
	*p++ = 0;
	*p++ = 1;
	memset(p, 0, 4);
	p += 4;
	*p++ = 0;
	*p++ = edns ? 1 : 0;
	memcpy(p, ldns_rdf_data(e->cur_rdf), nlen);
	p += nlen;
	*p++ = e->type >> 8;
	*p++ = e->type & 0xff;
	*p++ = 0;
	*p++ = 1;
	if (edns) {
		/* RFC 6891 6.1.2: root owner, type OPT, class = UDP payload size */
		*p++ = 0;
		*p++ = 0;
		*p++ = 41;
		*p++ = EDNS_BUFSIZE >> 8;
		*p++ = EDNS_BUFSIZE & 0xff;
		memset(p, 0, 6);
		p += 6;
	}
	*len = (size_t)(p - buf);
	return 0;
}

static const struct dns_server *
cur_server(struct dns_engine *eng, struct entry *e)
{
	return &eng->cfg.servers[e->server];
}

static void
arm_timer(struct dns_engine *eng, struct entry *e)
{
	/* every attempt has the same length, so appending keeps the list ordered */
	e->timer = now_ms() + eng->cfg.attempt_timeout_ms;
	if (e->on_list)
		list_remove(&eng->active_head, &eng->active_tail, e);
	list_append(&eng->active_head, &eng->active_tail, e);
}

static void next_attempt(struct dns_engine *eng, struct entry *e);

/* A socket of family with uses left, opened when there is none. */
static struct usock *
usock_get(struct dns_engine *eng, int family)
{
	struct usock *us;
	struct epoll_event ev;

	for (us = eng->usocks; us != NULL; us = us->next)
		if (us->family == family && us->uses < SOCK_USES)
			return us;
	us = xcalloc(1, sizeof(*us));
	us->kind = EV_USOCK;
	us->family = family;
	/* an unbound socket gets a random ephemeral port at the first send */
	us->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (us->fd < 0) {
		/* out of descriptors is no network error: it would read as "DNS failed" */
		resource_check(errno, "dns: cannot open a UDP socket");
		free(us);
		return NULL;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = us;
	if (epoll_ctl(eng->epfd, EPOLL_CTL_ADD, us->fd, &ev) < 0) {
		close(us->fd);
		free(us);
		return NULL;
	}
	us->next = eng->usocks;
	eng->usocks = us;
	return us;
}

static bool
id_taken(const struct usock *us, uint16_t id)
{
	const struct entry *q;

	for (q = us->queries; q != NULL; q = q->unext)
		if (q->id == id)
			return true;
	return false;
}

static int
send_udp(struct dns_engine *eng, struct entry *e)
{
	const struct dns_server *srv = cur_server(eng, e);
	unsigned char buf[512];
	struct usock *us;
	size_t len;

	udp_release(eng, e);
	us = usock_get(eng, srv->addr.ss_family);
	if (us == NULL)
		return -1;
	/* two queries on one socket never share an ID: the ID says whose reply it is */
	do
		e->id = random_id(eng);
	while (id_taken(us, e->id));
	us->uses++;
	e->us = us;
	e->unext = us->queries;
	us->queries = e;
	if (build_query(e, e->id, e->edns, buf, &len) < 0)
		return -1;
	if (sendto(us->fd, buf, len, 0, (const struct sockaddr *)&srv->addr, srv->addrlen) < 0)
		return -1;
	COUNT(eng, e, sent);
	eng->sstats[e->server].sent++;
	e->state = XFER_UDP;
	return 0;
}

static int
start_tcp(struct dns_engine *eng, struct entry *e)
{
	const struct dns_server *srv = cur_server(eng, e);
	struct epoll_event ev;
	size_t len;

	close_fd(eng, e);
	free(e->tcpbuf);
	e->tcpbuf = xmalloc(2 + 512);
	e->id = random_id(eng);
	if (build_query(e, e->id, e->edns, e->tcpbuf + 2, &len) < 0)
		return -1;
	e->tcpbuf[0] = (unsigned char)(len >> 8);
	e->tcpbuf[1] = (unsigned char)(len & 0xff);
	e->tcplen = len + 2;
	e->tcppos = 0;
	e->fd = socket(srv->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (e->fd < 0) {
		resource_check(errno, "dns: cannot open a TCP socket for '%s'", e->cur);
		return -1;
	}
	ev.events = EPOLLOUT;
	ev.data.ptr = e;
	if (epoll_ctl(eng->epfd, EPOLL_CTL_ADD, e->fd, &ev) < 0)
		return -1;
	if (connect(e->fd, (const struct sockaddr *)&srv->addr, srv->addrlen) < 0 &&
	    errno != EINPROGRESS)
		return -1;
	e->state = XFER_TCP_CONNECT;
	COUNT(eng, e, tcp_fallbacks);
	COUNT(eng, e, sent);
	eng->sstats[e->server].sent++;
	arm_timer(eng, e);
	return 0;
}

/* Starts attempt number e->attempt, or fails e when all are used. */
static void
next_attempt(struct dns_engine *eng, struct entry *e)
{
	while (e->attempt < eng->cfg.attempts) {
		e->server = (int)((size_t)(e->hash + (uint64_t)e->attempt) % eng->cfg.nservers);
		if (e->attempt > 0) {
			COUNT(eng, e, retries);
			close_fd(eng, e);
		}
		e->attempt++;
		if (send_udp(eng, e) == 0) {
			arm_timer(eng, e);
			return;
		}
		e->saw_neterr = true;
		close_fd(eng, e);
	}
	if (e->saw_malformed)
		fail(eng, e, DNS_MALFORMED);
	else if (e->saw_timeout)
		fail(eng, e, DNS_TIMEOUT);
	else
		fail(eng, e, DNS_NETERR);
}

static void
set_name(struct entry *e, const char *name)
{
	free(e->cur);
	e->cur = xstrdup(name);
	ldns_rdf_deep_free(e->cur_rdf);
	e->cur_rdf = ldns_dname_new_frm_str(name[0] ? name : ".");
}

/* Rate caps */

static void
bucket_init(struct bucket *b, double rate, int64_t now)
{
	b->rate = rate;
	b->burst = rate < 1 ? 1 : rate;
	b->tokens = b->burst;
	b->last = now;
}

static void
bucket_fill(struct bucket *b, int64_t now)
{
	if (now <= b->last)
		return;
	b->tokens += (double)(now - b->last) * b->rate / 1000.0;
	if (b->tokens > b->burst)
		b->tokens = b->burst;
	b->last = now;
}

/* Milliseconds until b holds a whole token: 0 when it does now. */
static int64_t
bucket_wait(const struct bucket *b)
{
	if (b->rate <= 0 || b->tokens >= 1)
		return 0;
	return (int64_t)ceil((1 - b->tokens) * 1000.0 / b->rate);
}

/* The most specific capped zone that name (lower case, no final dot) falls under, or NULL. */
static struct zonecap *
cap_find(struct dns_engine *eng, const char *name)
{
	struct zonecap *best = NULL;
	size_t len = strlen(name), i;

	for (i = 0; i < eng->ncaps; i++) {
		struct zonecap *z = eng->caps[i];

		if (z->len > len || (best != NULL && best->len >= z->len))
			continue;
		if (memcmp(name + len - z->len, z->zone, z->len) != 0)
			continue;
		if (z->len < len && name[len - z->len - 1] != '.')
			continue;
		best = z;
	}
	return best;
}

/* Tells a person, once a day each, that a zone's budget is nearly or wholly spent. */
static void
budget_warn(struct dns_engine *eng, struct zonecap *z)
{
	char msg[512];

	if (eng->cfg.warn == NULL)
		return;
	if (!z->warned && (double)z->used >= BUDGET_WARN * (double)z->budget) {
		z->warned = true;
		snprintf(msg, sizeof(msg), "dns: %" PRIu64 " of the %" PRIu64 " questions a day "
		    "allowed for '%s' are spent; once all are, its questions fail (over_budget) "
		    "until the day is over", z->used, z->budget, z->zone);
		eng->cfg.warn(eng->cfg.warn_arg, msg);
	}
	if (!z->spent && z->used >= z->budget) {
		z->spent = true;
		snprintf(msg, sizeof(msg), "dns: the %" PRIu64 " questions a day allowed for '%s' "
		    "are spent: its further questions fail (over_budget) for %" PRId64 " minutes",
		    z->budget, z->zone, (z->day_start + DAY_MS - now_ms()) / 60000 + 1);
		eng->cfg.warn(eng->cfg.warn_arg, msg);
	}
}

enum turn {
	TURN_GO,		/* a token taken: send it */
	TURN_HOLD,		/* its zone has no token now */
	TURN_WAIT,		/* the global cap has no token now: nothing may go */
	TURN_SPENT,		/* its zone's daily budget is spent */
};

/* Whether a question under cap z (may be NULL) may be sent now; takes the tokens when it may. */
static enum turn
take_turn(struct dns_engine *eng, struct zonecap *z, int64_t now)
{
	if (z != NULL && z->budget > 0) {
		if (z->day_start == 0 || now - z->day_start >= DAY_MS) {
			z->day_start = now;
			z->used = 0;
			z->warned = z->spent = false;
		}
		if (z->used >= z->budget)
			return TURN_SPENT;
	}
	if (z != NULL && z->bucket.rate > 0) {
		bucket_fill(&z->bucket, now);
		if (z->bucket.tokens < 1)
			return TURN_HOLD;
	}
	if (eng->global.rate > 0) {
		bucket_fill(&eng->global, now);
		if (eng->global.tokens < 1)
			return TURN_WAIT;
		eng->global.tokens -= 1;
	}
	eng->global_taken++;
	if (z == NULL)
		return TURN_GO;
	if (z->bucket.rate > 0)
		z->bucket.tokens -= 1;
	z->taken++;
	if (z->budget > 0) {
		z->used++;
		budget_warn(eng, z);
	}
	return TURN_GO;
}

static void
held_append(struct dns_engine *eng, struct entry *e)
{
	list_append(&e->cap->held_head, &e->cap->held_tail, e);
	e->held = true;
	e->cap->nheld++;
	eng->nheld++;
}

/* Takes a queued e off the queue or its cap's held list. */
static void
unqueue(struct dns_engine *eng, struct entry *e)
{
	if (e->held) {
		list_remove(&e->cap->held_head, &e->cap->held_tail, e);
		e->held = false;
		e->cap->nheld--;
		eng->nheld--;
	} else {
		list_remove(&eng->queue_head, &eng->queue_tail, e);
	}
	eng->nqueued--;
}

/* Takes e off the queue and starts it (the caller checked there is room). */
static void
start(struct dns_engine *eng, struct entry *e)
{
	unqueue(eng, e);
	eng->nactive++;
	if (eng->nactive > eng->peak_active)
		eng->peak_active = eng->nactive;
	e->state = XFER_UDP;
	next_attempt(eng, e);
}

/*
 * Starts what may go: the questions held by zone caps first (they were
 * queued before the rest), then the queue, as long as there is room.
 */
static void
pump_queue(struct dns_engine *eng)
{
	int64_t now = now_ms();
	struct entry *e;
	enum turn t;
	size_t i;

	for (i = 0; i < eng->ncaps; i++) {
		struct zonecap *z = eng->caps[i];

		while ((e = z->held_head) != NULL && eng->nactive < eng->cfg.max_inflight) {
			/* no handle left (only the table's and the in-flight references): nobody waits */
			if (e->refs <= 2) {
				table_remove(eng, e);
				fail(eng, e, DNS_TIMEOUT);
				continue;
			}
			if ((t = take_turn(eng, z, now)) == TURN_HOLD || t == TURN_WAIT)
				break;
			if (t == TURN_SPENT)
				fail(eng, e, DNS_OVER_BUDGET);
			else
				start(eng, e);
		}
	}
	while ((e = eng->queue_head) != NULL && eng->nactive < eng->cfg.max_inflight) {
		if ((t = take_turn(eng, e->cap, now)) == TURN_WAIT)
			return;
		if (t == TURN_HOLD) {
			list_remove(&eng->queue_head, &eng->queue_tail, e);
			held_append(eng, e);
		} else if (t == TURN_SPENT) {
			fail(eng, e, DNS_OVER_BUDGET);
		} else {
			start(eng, e);
		}
	}
}

/* Milliseconds until a question held back by a cap may go (-1: none is held back). */
static int64_t
cap_wait(struct dns_engine *eng)
{
	int64_t w = -1, d;
	size_t i;

	if (eng->nqueued == 0 || eng->nactive >= eng->cfg.max_inflight)
		return -1;
	if (eng->queue_head != NULL && eng->global.rate > 0)
		w = bucket_wait(&eng->global);
	for (i = 0; i < eng->ncaps && eng->nheld > 0; i++) {
		if (eng->caps[i]->held_head == NULL)
			continue;
		d = bucket_wait(&eng->caps[i]->bucket);
		if (d == 0 && eng->global.rate > 0)
			d = bucket_wait(&eng->global);
		if (w < 0 || d < w)
			w = d;
	}
	return w < 1 && w >= 0 ? 1 : w;
}

/* Receiving */

static bool
same_addr(const struct sockaddr_storage *a, socklen_t alen, const struct dns_server *srv)
{
	if (a->ss_family != srv->addr.ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)&srv->addr;

		return alen >= sizeof(*x) && x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)&srv->addr;

		return alen >= sizeof(*x) && x->sin6_port == y->sin6_port &&
		    memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return false;
}

/* Cheap checks on the raw bytes before any parsing: is this a reply to our question? */
static bool
reply_matches(const struct entry *e, const unsigned char *buf, size_t len)
{
	size_t nlen = ldns_rdf_size(e->cur_rdf);
	const unsigned char *q = ldns_rdf_data(e->cur_rdf);
	size_t i;

	if (len < 12 || (buf[2] & 0x80) == 0)
		return false;
	if (((unsigned)buf[0] << 8 | buf[1]) != e->id)
		return false;
	if (buf[4] != 0 || buf[5] != 1 || len < 12 + nlen + 4)
		return false;
	/* the question, names compared without regard to ASCII case */
	for (i = 0; i < nlen; i++) {
		unsigned char a = buf[12 + i], b = q[i];

		if (a >= 'A' && a <= 'Z')
			a += 32;
		if (b >= 'A' && b <= 'Z')
			b += 32;
		if (a != b)
			return false;
	}
	return ((unsigned)buf[12 + nlen] << 8 | buf[13 + nlen]) == e->type &&
	    buf[14 + nlen] == 0 && buf[15 + nlen] == 1;
}

/* True if name is the name first asked or an alias already followed. */
static bool
chain_has(const char *first, char *const *chain, size_t n, const char *name)
{
	size_t i;

	if (strcmp(first, name) == 0)
		return true;
	for (i = 0; i < n; i++)
		if (strcmp(chain[i], name) == 0)
			return true;
	return false;
}

/*
 * Follows the CNAME chain of the answer section from owner (replaced by
 * the chain's end), appending each alias to *chain and lowering *ttl.
 * RFC 1034 3.6.2: an alias points to a name, never back along its chain;
 * a chain that comes back to a name it passed (first, the name asked, or
 * an alias of this or an earlier reply) is a loop, and one over
 * MAX_CNAME_HOPS aliases in all is cut. Either returns -1: the lookup
 * failed, it did not find that the name has no records.
 */
static int
follow_chain(const ldns_rr_list *ans, ldns_rdf **owner, const char *first, uint16_t qtype,
    char ***chain, size_t *nchain, uint32_t *ttl, size_t *hops)
{
	size_t n = ans != NULL ? ldns_rr_list_rr_count(ans) : 0, i;
	bool moved = true;
	char *target;

	for (*hops = 0; moved; ) {
		moved = false;
		for (i = 0; i < n && qtype != DNS_T_CNAME; i++) {
			ldns_rr *rr = ldns_rr_list_rr(ans, i);

			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME || ldns_rr_rd_count(rr) != 1 ||
			    ldns_dname_compare(ldns_rr_owner(rr), *owner) != 0)
				continue;
			target = rdf_name(ldns_rr_rdf(rr, 0));
			*chain = xrealloc(*chain, (*nchain + 1) * sizeof(**chain));
			(*chain)[(*nchain)++] = target;
			if (*nchain > MAX_CNAME_HOPS ||
			    chain_has(first, *chain, *nchain - 1, target))
				return -1;
			if (ldns_rr_ttl(rr) < *ttl)
				*ttl = ldns_rr_ttl(rr);
			ldns_rdf_deep_free(*owner);
			*owner = ldns_rdf_clone(ldns_rr_rdf(rr, 0));
			(*hops)++;
			moved = true;
			break;
		}
	}
	return 0;
}

/*
 * The answer part of a NOERROR or NXDOMAIN reply to (qname, qtype), where
 * first is the name the chain started from: follows the CNAME chain as far
 * as the reply goes (see follow_chain; a loop or an over-long chain gives
 * SERVFAIL), decodes the records of qtype at its end, at most DNS_MAX_RR of
 * them. *dangling is set when the reply stops at an alias whose target it
 * does not answer: the caller asks for the target.
 */
static struct dns_result *
decode_answer(const ldns_pkt *pkt, const ldns_rdf *qname, const char *first, uint16_t qtype,
    char ***chain, size_t *nchain, bool *dangling)
{
	ldns_rr_list *ans = ldns_pkt_answer(pkt);
	size_t n = ans != NULL ? ldns_rr_list_rr_count(ans) : 0, i, hops;
	int rcode = ldns_pkt_get_rcode(pkt);
	ldns_rdf *owner = ldns_rdf_clone(qname);
	struct dns_result *res = result_new(first, qtype, DNS_ANSWER);
	uint32_t ttl = MAX_TTL;

	res->rcode = rcode;
	*dangling = false;
	if (follow_chain(ans, &owner, first, qtype, chain, nchain, &ttl, &hops) < 0) {
		res->status = DNS_SERVFAIL;
		res->ttl = FAIL_TTL;
		ldns_rdf_deep_free(owner);
		return res;
	}
	for (i = 0; i < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(ans, i);

		if (ldns_rr_get_type(rr) != qtype ||
		    ldns_dname_compare(ldns_rr_owner(rr), owner) != 0)
			continue;
		if (res->nrr == DNS_MAX_RR) {
			/* a hostile or broken zone must not fill the memory and the output */
			res->ndropped++;
			continue;
		}
		res->rr = xrealloc(res->rr, (res->nrr + 1) * sizeof(*res->rr));
		if (rr_decode(rr, &res->rr[res->nrr]) < 0) {
			rr_release(&res->rr[res->nrr]);
			continue;
		}
		if (ldns_rr_ttl(rr) < ttl)
			ttl = ldns_rr_ttl(rr);
		res->nrr++;
	}
	*dangling = res->nrr == 0 && rcode == LDNS_RCODE_NOERROR && hops > 0 &&
	    ldns_dname_compare(owner, qname) != 0;
	ldns_rdf_deep_free(owner);
	if (res->nrr == 0) {
		res->status = rcode == LDNS_RCODE_NXDOMAIN ? DNS_NXDOMAIN : DNS_NODATA;
		if (negative_ttl(pkt) < ttl)
			ttl = negative_ttl(pkt);
	}
	res->ttl = ttl;
	return res;
}

struct dns_result *
dns_reply_parse(const unsigned char *wire, size_t len, const char *qname, uint16_t qtype)
{
	ldns_pkt *pkt = NULL;
	ldns_rdf *q = NULL;
	struct dns_result *res = NULL;
	char **chain = NULL;
	size_t nchain = 0;
	bool dangling;
	int rcode;

	if (ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK)
		goto out;
	q = ldns_dname_new_frm_str(qname[0] != '\0' ? qname : ".");
	if (q == NULL)
		goto out;
	rcode = ldns_pkt_get_rcode(pkt);
	if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) {
		res = result_new(qname, qtype, rcode == LDNS_RCODE_REFUSED ? DNS_REFUSED :
		    DNS_SERVFAIL);
		res->rcode = rcode;
		goto out;
	}
	res = decode_answer(pkt, q, qname, qtype, &chain, &nchain, &dangling);
	res->cname = chain;
	res->ncname = nchain;
out:
	ldns_rdf_deep_free(q);
	ldns_pkt_free(pkt);
	return res;
}

static void
handle_reply(struct dns_engine *eng, struct entry *e, const unsigned char *buf, size_t len,
    bool via_tcp)
{
	ldns_pkt *pkt = NULL;
	struct dns_result *res;
	bool dangling;
	int rcode;

	if (ldns_wire2pkt(&pkt, buf, len) != LDNS_STATUS_OK) {
		e->saw_malformed = true;
		COUNT(eng, e, mismatched);
		return;
	}
	eng->sstats[e->server].answered++;
	rcode = ldns_pkt_get_rcode(pkt);
	e->last_rcode = rcode;
	if (ldns_pkt_tc(pkt) && !via_tcp) {
		ldns_pkt_free(pkt);
		if (start_tcp(eng, e) < 0) {
			e->saw_neterr = true;
			next_attempt(eng, e);
		}
		return;
	}
	if (rcode == LDNS_RCODE_FORMERR && e->edns) {
		/* RFC 6891 7: a server that does not know EDNS; ask again without it */
		ldns_pkt_free(pkt);
		e->edns = false;
		e->attempt--;
		next_attempt(eng, e);
		return;
	}
	if (rcode == LDNS_RCODE_SERVFAIL || rcode == LDNS_RCODE_REFUSED ||
	    (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN)) {
		/* another server may know better; the last answer is the result */
		if (e->attempt < eng->cfg.attempts && eng->cfg.nservers > 1) {
			ldns_pkt_free(pkt);
			next_attempt(eng, e);
			return;
		}
		fail(eng, e, rcode == LDNS_RCODE_REFUSED ? DNS_REFUSED : DNS_SERVFAIL);
		ldns_pkt_free(pkt);
		return;
	}

	res = decode_answer(pkt, e->cur_rdf, e->name, e->type, &e->chain, &e->nchain, &dangling);
	res->server = xstrdup(cur_server(eng, e)->label);
	ldns_pkt_free(pkt);
	if (dangling) {
		/* the server gave the alias but not its target: ask for the target */
		if (e->nchain >= MAX_CNAME_HOPS) {
			res->status = DNS_SERVFAIL;
			res->ttl = FAIL_TTL;
			complete(eng, e, res);
			return;
		}
		dns_result_free(res);
		set_name(e, e->chain[e->nchain - 1]);
		e->attempt = 0;
		e->saw_timeout = e->saw_malformed = e->saw_neterr = false;
		close_fd(eng, e);
		next_attempt(eng, e);
		return;
	}
	complete(eng, e, res);
}

/* The query on us whose ID the reply carries, if it came from that query's server. */
static struct entry *
reply_owner(struct dns_engine *eng, struct usock *us, const unsigned char *buf, size_t n,
    const struct sockaddr_storage *from, socklen_t flen)
{
	struct entry *q;
	uint16_t id;

	if (n < 12)
		return NULL;
	id = (uint16_t)((unsigned)buf[0] << 8 | buf[1]);
	for (q = us->queries; q != NULL; q = q->unext)
		if (q->id == id && q->state == XFER_UDP && same_addr(from, flen, cur_server(eng, q)))
			return q;
	return NULL;
}

static void
read_udp(struct dns_engine *eng, struct usock *us)
{
	unsigned char buf[MAX_MSG];
	struct sockaddr_storage from;
	socklen_t flen;
	struct entry *e;
	ssize_t n;
	int budget;

	for (budget = 0; budget < 64 && !us->retired; budget++) {
		flen = sizeof(from);
		n = recvfrom(us->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		if (n < 0)
			return;
		e = reply_owner(eng, us, buf, (size_t)n, &from, flen);
		if (e == NULL) {
			/* a spoofing attempt or a stale reply: not an answer */
			eng->counters.mismatched++;
			continue;
		}
		if (!reply_matches(e, buf, (size_t)n)) {
			COUNT(eng, e, mismatched);
			continue;
		}
		handle_reply(eng, e, buf, (size_t)n, false);
	}
}

static void
tcp_event(struct dns_engine *eng, struct entry *e, uint32_t events)
{
	struct epoll_event ev;
	ssize_t n;

	if (events & (EPOLLERR | EPOLLHUP) && e->state != XFER_TCP_READ) {
		e->saw_neterr = true;
		next_attempt(eng, e);
		return;
	}
	if (e->state == XFER_TCP_CONNECT)
		e->state = XFER_TCP_WRITE;
	if (e->state == XFER_TCP_WRITE) {
		n = send(e->fd, e->tcpbuf + e->tcppos, e->tcplen - e->tcppos, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN)
				return;
			e->saw_neterr = true;
			next_attempt(eng, e);
			return;
		}
		e->tcppos += (size_t)n;
		if (e->tcppos < e->tcplen)
			return;
		e->state = XFER_TCP_READ;
		e->tcppos = 0;
		e->tcplen = 2;
		ev.events = EPOLLIN;
		ev.data.ptr = e;
		epoll_ctl(eng->epfd, EPOLL_CTL_MOD, e->fd, &ev);
		return;
	}
	for (;;) {
		n = recv(e->fd, e->tcpbuf + e->tcppos, e->tcplen - e->tcppos, 0);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* closed before a whole reply: the server refuses TCP */
			e->saw_neterr = true;
			next_attempt(eng, e);
			return;
		}
		e->tcppos += (size_t)n;
		if (e->tcppos < e->tcplen)
			continue;
		if (e->tcplen == 2) {
			size_t mlen = (size_t)e->tcpbuf[0] << 8 | e->tcpbuf[1];

			if (mlen < 12) {
				e->saw_malformed = true;
				next_attempt(eng, e);
				return;
			}
			e->tcpbuf = xrealloc(e->tcpbuf, 2 + mlen);
			e->tcplen = 2 + mlen;
			continue;
		}
		if (!reply_matches(e, e->tcpbuf + 2, e->tcplen - 2)) {
			COUNT(eng, e, mismatched);
			e->saw_malformed = true;
			next_attempt(eng, e);
			return;
		}
		handle_reply(eng, e, e->tcpbuf + 2, e->tcplen - 2, true);
		return;
	}
}

static void
expire_timers(struct dns_engine *eng)
{
	int64_t now = now_ms();

	while (eng->active_head != NULL && eng->active_head->timer <= now) {
		struct entry *e = eng->active_head;

		COUNT(eng, e, timeouts);
		eng->sstats[e->server].timeouts++;
		e->saw_timeout = true;
		list_remove(&eng->active_head, &eng->active_tail, e);
		next_attempt(eng, e);
	}
}

static void *
io_thread(void *arg)
{
	struct dns_engine *eng = arg;
	struct epoll_event evs[64];
	int i, n, timeout;

	pthread_mutex_lock(&eng->lock);
	while (eng->running) {
		int64_t cw;

		pump_queue(eng);
		timeout = -1;
		if (eng->active_head != NULL) {
			int64_t d = eng->active_head->timer - now_ms();

			timeout = d < 0 ? 0 : (int)d + 1;
		}
		/* a question held back by a cap wakes the loop when its token is due */
		if ((cw = cap_wait(eng)) >= 0 && (timeout < 0 || cw < timeout))
			timeout = (int)cw;
		eng->sleeping = true;
		pthread_mutex_unlock(&eng->lock);
		n = epoll_wait(eng->epfd, evs, (int)ARRAY_SIZE(evs), timeout);
		pthread_mutex_lock(&eng->lock);
		eng->sleeping = false;
		for (i = 0; i < n; i++) {
			enum evkind *kind = evs[i].data.ptr;
			struct entry *e;

			if (kind == NULL) {
				uint64_t v;

				if (read(eng->evfd, &v, sizeof(v)) < 0)
					continue;
				continue;
			}
			if (*kind == EV_USOCK) {
				read_udp(eng, (struct usock *)(void *)kind);
				continue;
			}
			/* an entry finished by an earlier event of this batch has no connection */
			e = (struct entry *)(void *)kind;
			if (e->state >= XFER_TCP_CONNECT && e->state <= XFER_TCP_READ)
				tcp_event(eng, e, evs[i].events);
		}
		expire_timers(eng);
		reap(eng);
	}
	pthread_mutex_unlock(&eng->lock);
	return NULL;
}

/* Engine */

struct dns_engine *
dns_engine_new(const struct dns_config *cfg, char *err, size_t errlen)
{
	struct dns_engine *eng = xcalloc(1, sizeof(*eng));
	pthread_condattr_t ca;
	struct epoll_event ev;
	size_t i;

	eng->cfg = *cfg;
	eng->epfd = eng->evfd = -1;
	if (eng->cfg.nservers == 0) {
		snprintf(err, errlen, "dns: no nameserver configured");
		goto fail;
	}
	if (eng->cfg.attempts < 1)
		eng->cfg.attempts = 1;
	if (eng->cfg.attempt_timeout_ms < 1)
		eng->cfg.attempt_timeout_ms = 1;
	if (eng->cfg.max_inflight < 1)
		eng->cfg.max_inflight = 1;
	if (eng->cfg.max_qps > 0)
		bucket_init(&eng->global, eng->cfg.max_qps, now_ms());
	for (i = 0; i < eng->cfg.nservers; i++)
		snprintf(eng->sstats[i].label, sizeof(eng->sstats[i].label), "%s",
		    eng->cfg.servers[i].label);
	eng->nbuckets = 1024;
	eng->buckets = xcalloc(eng->nbuckets, sizeof(*eng->buckets));
	eng->rndpos = sizeof(eng->rnd);
	pthread_mutex_init(&eng->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&eng->cond, &ca);
	pthread_condattr_destroy(&ca);
	eng->epfd = epoll_create1(EPOLL_CLOEXEC);
	eng->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (eng->epfd < 0 || eng->evfd < 0) {
		resource_check(errno, "dns: cannot create the event loop");
		snprintf(err, errlen, "dns: cannot create the event loop: %s", strerror(errno));
		goto fail_locks;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(eng->epfd, EPOLL_CTL_ADD, eng->evfd, &ev) < 0) {
		snprintf(err, errlen, "dns: cannot watch the event loop: %s", strerror(errno));
		goto fail_locks;
	}
	eng->running = true;
	if (pthread_create(&eng->thread, NULL, io_thread, eng) != 0) {
		snprintf(err, errlen, "dns: cannot start the I/O thread");
		goto fail_locks;
	}
	return eng;

fail_locks:
	pthread_mutex_destroy(&eng->lock);
	pthread_cond_destroy(&eng->cond);
	if (eng->epfd >= 0)
		close(eng->epfd);
	if (eng->evfd >= 0)
		close(eng->evfd);
	free(eng->buckets);
fail:
	free(eng);
	return NULL;
}

/* Called with the lock held: one write per sleep, not one per query. */
static void
wake(struct dns_engine *eng)
{
	uint64_t one = 1;

	if (!eng->sleeping)
		return;
	eng->sleeping = false;
	if (write(eng->evfd, &one, sizeof(one)) < 0) {
		/* the counter is full: the thread is awake anyway */
	}
}

void
dns_engine_free(struct dns_engine *eng)
{
	size_t i;

	if (eng == NULL)
		return;
	pthread_mutex_lock(&eng->lock);
	eng->running = false;
	wake(eng);
	pthread_mutex_unlock(&eng->lock);
	pthread_join(eng->thread, NULL);

	while (eng->queue_head != NULL)
		fail(eng, eng->queue_head, DNS_NETERR);
	for (i = 0; i < eng->ncaps; i++)
		while (eng->caps[i]->held_head != NULL)
			fail(eng, eng->caps[i]->held_head, DNS_NETERR);
	while (eng->active_head != NULL)
		fail(eng, eng->active_head, DNS_NETERR);
	reap(eng);
	for (i = 0; i < eng->nbuckets; i++)
		while (eng->buckets[i] != NULL)
			table_remove(eng, eng->buckets[i]);
	while (eng->usocks != NULL)
		usock_retire(eng, eng->usocks);
	reap(eng);
	for (i = 0; i < eng->ncaps; i++) {
		free(eng->caps[i]->zone);
		free(eng->caps[i]);
	}
	free(eng->caps);
	free(eng->buckets);
	close(eng->epfd);
	close(eng->evfd);
	pthread_mutex_destroy(&eng->lock);
	pthread_cond_destroy(&eng->cond);
	free(eng);
}

void
dns_engine_stats(struct dns_engine *eng, struct dns_counters *c,
    struct dns_server_stats *servers, size_t max, size_t *n)
{
	size_t i;

	pthread_mutex_lock(&eng->lock);
	if (c != NULL)
		*c = eng->counters;
	for (i = 0; servers != NULL && i < max && i < eng->cfg.nservers; i++)
		servers[i] = eng->sstats[i];
	if (n != NULL)
		*n = servers != NULL ? i : 0;
	pthread_mutex_unlock(&eng->lock);
}

bool
dns_server_stats_silent(const struct dns_server_stats *s)
{
	return s->sent > 0 && s->answered == 0;
}

void
dns_engine_gauges(struct dns_engine *eng, struct dns_gauges *g)
{
	pthread_mutex_lock(&eng->lock);
	g->cached = eng->ncached;
	g->inflight = eng->nactive;
	g->queued = eng->nqueued;
	g->peak_inflight = eng->peak_active;
	g->peak_cached = eng->peak_cached;
	pthread_mutex_unlock(&eng->lock);
}

void
dns_engine_cap_zone(struct dns_engine *eng, const char *zone, double rate, uint64_t budget)
{
	struct zonecap *z = NULL;
	size_t i;

	if (rate < 0)
		rate = 0;
	pthread_mutex_lock(&eng->lock);
	for (i = 0; i < eng->ncaps; i++)
		if (strcmp(eng->caps[i]->zone, zone) == 0)
			z = eng->caps[i];
	if (z == NULL) {
		z = xcalloc(1, sizeof(*z));
		z->zone = xstrdup(zone);
		z->len = strlen(zone);
		eng->caps = xrealloc(eng->caps, (eng->ncaps + 1) * sizeof(*eng->caps));
		eng->caps[eng->ncaps++] = z;
	}
	if (z->bucket.rate != rate)
		bucket_init(&z->bucket, rate, now_ms());
	z->budget = budget;
	pthread_mutex_unlock(&eng->lock);
}

static void
cap_info(struct dns_cap_info *out, const char *zone, double rate, uint64_t budget,
    uint64_t used, size_t held)
{
	snprintf(out->zone, sizeof(out->zone), "%s", zone);
	out->rate = rate;
	out->budget = budget;
	out->used = used;
	out->held = held;
}

size_t
dns_engine_caps(struct dns_engine *eng, struct dns_cap_info *out, size_t max)
{
	size_t n = 0, i;

	pthread_mutex_lock(&eng->lock);
	if (eng->global.rate > 0) {
		if (n < max)
			cap_info(&out[n], "", eng->global.rate, 0, eng->global_taken,
			    eng->nqueued);
		n++;
	}
	for (i = 0; i < eng->ncaps; i++) {
		const struct zonecap *z = eng->caps[i];

		if (z->bucket.rate <= 0 && z->budget == 0)
			continue;
		if (n < max)
			cap_info(&out[n], z->zone, z->bucket.rate, z->budget, z->used, z->nheld);
		n++;
	}
	pthread_mutex_unlock(&eng->lock);
	return n;
}

/*
 * Targets a second that the tightest cap allows: its rate over the
 * questions under it per target so far (with one question of a first
 * target as the prior, so that an early burst of targets does not flood
 * the queue); 0 when nothing is capped.
 */
static double
admission_rate(const struct dns_engine *eng)
{
	double n = (double)eng->admitted + 1, best = 0, r;
	size_t i;

	if (eng->global.rate > 0)
		best = eng->global.rate / ((double)(eng->global_taken + eng->nqueued + 1) / n);
	for (i = 0; i < eng->ncaps; i++) {
		const struct zonecap *z = eng->caps[i];

		if (z->bucket.rate <= 0)
			continue;
		r = z->bucket.rate / ((double)(z->taken + z->nheld + 1) / n);
		if (best == 0 || r < best)
			best = r;
	}
	return best;
}

void
dns_engine_admit(struct dns_engine *eng)
{
	struct timespec ts;
	int64_t when;
	double rate;

	pthread_mutex_lock(&eng->lock);
	while ((rate = admission_rate(eng)) > 0) {
		if (eng->admission.rate == 0)
			bucket_init(&eng->admission, rate, now_ms());
		eng->admission.rate = rate;
		eng->admission.burst = rate < 1 ? 1 : rate;
		bucket_fill(&eng->admission, now_ms());
		if (eng->admission.tokens >= 1) {
			eng->admission.tokens -= 1;
			break;
		}
		when = now_ms() + bucket_wait(&eng->admission);
		ts.tv_sec = when / 1000;
		ts.tv_nsec = (long)(when % 1000) * 1000000;
		pthread_cond_timedwait(&eng->cond, &eng->lock, &ts);
	}
	eng->admitted++;
	pthread_mutex_unlock(&eng->lock);
}

/* Sessions and queries */

struct dns *
dns_new(struct dns_engine *eng, int64_t deadline_ms)
{
	struct dns *dns = xcalloc(1, sizeof(*dns));

	dns->eng = eng;
	dns->deadline = deadline_ms;
	dns->stats = xcalloc(1, sizeof(*dns->stats));
	dns->stats->refs = 1;
	return dns;
}

void
dns_free(struct dns *dns)
{
	if (dns == NULL)
		return;
	pthread_mutex_lock(&dns->eng->lock);
	stats_unref(dns->stats);
	pthread_mutex_unlock(&dns->eng->lock);
	free(dns);
}

void
dns_counters_get(struct dns *dns, struct dns_counters *c)
{
	pthread_mutex_lock(&dns->eng->lock);
	*c = dns->stats->c;
	pthread_mutex_unlock(&dns->eng->lock);
}

struct dns_engine *
dns_engine_of(struct dns *dns)
{
	return dns->eng;
}

int64_t
dns_deadline(const struct dns *dns)
{
	return dns->deadline;
}

bool
dns_spare_queries(const struct dns *dns)
{
	return dns->eng->cfg.spare_queries;
}

static char *
normalize(const char *name)
{
	size_t len = strlen(name);
	char *s;

	if (len > 0 && name[len - 1] == '.')
		len--;
	s = xstrndup(name, len);
	str_lower(s);
	return s;
}

/* A question answered without asking: done at once with st, never cached. */
static void
settle(struct entry *e, enum dns_status st)
{
	e->state = XFER_DONE;
	e->done = true;
	e->res = result_new(e->name, e->type, st);
}

struct dns_query *
dns_query_submit(struct dns *dns, const char *name, uint16_t type)
{
	struct dns_engine *eng = dns->eng;
	struct dns_query *q = xcalloc(1, sizeof(*q));
	char *key = normalize(name);
	uint64_t h = hash_key(key, type);
	struct entry *e;
	ldns_rdf *rdf;

	q->dns = dns;
	pthread_mutex_lock(&eng->lock);
	dns->stats->c.queries++;
	eng->counters.queries++;
	e = table_find(eng, key, type, h);
	if (e != NULL && e->done && e->expires <= now_ms()) {
		table_remove(eng, e);
		e = NULL;
	}
	if (e != NULL) {
		if (e->done) {
			dns->stats->c.cache_hits++;
			eng->counters.cache_hits++;
			cache_touch(eng, e);
		} else {
			dns->stats->c.coalesced++;
			eng->counters.coalesced++;
		}
		e->refs++;
		q->e = e;
		free(key);
		goto out;
	}

	e = xcalloc(1, sizeof(*e));
	e->name = key;
	e->type = type;
	e->hash = h;
	e->refs = 1;
	e->kind = EV_ENTRY;
	e->fd = -1;
	e->edns = true;
	e->last_rcode = -1;
	e->started = now_ms();
	q->e = e;
	if (dns->deadline > 0 && e->started >= dns->deadline) {
		/* the target's time is up: no packet goes out for it any more */
		settle(e, DNS_TIMEOUT);
		e->res->deadline = true;
		dns->stats->c.timeouts++;
		goto out;
	}
	rdf = strlen(key) <= 253 ? ldns_dname_new_frm_str(key[0] ? key : ".") : NULL;
	if (rdf == NULL || ldns_rdf_size(rdf) > 255) {
		/* cannot be asked */
		ldns_rdf_deep_free(rdf);
		settle(e, DNS_MALFORMED);
		goto out;
	}
	e->cur = xstrdup(key);
	e->cur_rdf = rdf;
	e->owner = dns->stats;
	dns->stats->refs++;
	e->refs++;		/* the in-flight reference, dropped by reap() */
	if (eng->ncaps > 0)
		e->cap = cap_find(eng, key);
	table_insert(eng, e);
	e->state = XFER_QUEUED;
	list_append(&eng->queue_head, &eng->queue_tail, e);
	eng->nqueued++;
	wake(eng);
out:
	pthread_mutex_unlock(&eng->lock);
	return q;
}

/* The attribute of the waiters' condition variables: deadlines are CLOCK_MONOTONIC, as now_ms(). */
static pthread_condattr_t wait_attr;
static pthread_once_t wait_attr_once = PTHREAD_ONCE_INIT;

static void
wait_attr_init(void)
{
	pthread_condattr_init(&wait_attr);
	pthread_condattr_setclock(&wait_attr, CLOCK_MONOTONIC);
}

struct dns_result *
dns_query_wait(struct dns *dns, struct dns_query *q)
{
	struct dns_engine *eng = dns->eng;
	struct dns_result *res;
	struct waiter w, **p;
	struct timespec ts;

	pthread_once(&wait_attr_once, wait_attr_init);
	pthread_cond_init(&w.cond, &wait_attr);
	pthread_mutex_lock(&eng->lock);
	w.next = q->e->waiting;
	q->e->waiting = &w;
	while (!q->e->done) {
		if (dns->deadline > 0) {
			if (now_ms() >= dns->deadline)
				break;
			ts.tv_sec = dns->deadline / 1000;
			ts.tv_nsec = (long)(dns->deadline % 1000) * 1000000;
			pthread_cond_timedwait(&w.cond, &eng->lock, &ts);
		} else {
			pthread_cond_wait(&w.cond, &eng->lock);
		}
	}
	if (q->e->done) {
		/* complete() took everyone off the list */
		res = dns_result_ref(q->e->res);
	} else {
		for (p = &q->e->waiting; *p != NULL; p = &(*p)->next)
			if (*p == &w) {
				*p = w.next;
				break;
			}
		/* the query goes on for the cache; this session stops waiting */
		res = result_new(q->e->name, q->e->type, DNS_TIMEOUT);
		res->deadline = true;
		dns->stats->c.timeouts++;
	}
	pthread_mutex_unlock(&eng->lock);
	pthread_cond_destroy(&w.cond);
	return res;
}

void
dns_query_free(struct dns_query *q)
{
	struct dns_engine *eng;

	if (q == NULL)
		return;
	eng = q->dns->eng;
	pthread_mutex_lock(&eng->lock);
	entry_unref(q->e);
	pthread_mutex_unlock(&eng->lock);
	free(q);
}

struct dns_result *
dns_lookup(struct dns *dns, const char *name, uint16_t type)
{
	struct dns_query *q = dns_query_submit(dns, name, type);
	struct dns_result *res = dns_query_wait(dns, q);

	dns_query_free(q);
	return res;
}

void
dns_lookup_many(struct dns *dns, const char *const *names, const uint16_t *types,
    size_t n, struct dns_result **results)
{
	struct dns_query **qs = xcalloc(n, sizeof(*qs));
	size_t i;

	for (i = 0; i < n; i++)
		qs[i] = dns_query_submit(dns, names[i], types[i]);
	for (i = 0; i < n; i++) {
		results[i] = dns_query_wait(dns, qs[i]);
		dns_query_free(qs[i]);
	}
	free(qs);
}
