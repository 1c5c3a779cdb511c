/*
 * The DNS engine: the only DNS API the rest of why550 sees.
 *
 * One engine (struct dns_engine) owns the sockets, an I/O thread running an
 * epoll loop, the cache and the counters. Work for one target goes through a
 * session (struct dns) that carries the target's deadline and its own
 * counters. Every function here is safe to call from several threads at once.
 *
 * Queries go out over UDP sockets that each carry a few dozen queries (IDs
 * unique per socket) before a fresh socket, with a fresh random port, takes
 * over; a truncated reply is asked again over TCP.
 *
 * Queries are asynchronous: dns_query_submit() returns at once, and
 * dns_query_wait() blocks until that query (or the session's deadline) is
 * done. dns_lookup() is the two in one. Identical questions are answered from
 * the cache or joined to the query already in flight: no second packet.
 */
#ifndef WHY550_DNS_H
#define WHY550_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/conf.h"

#define DNS_T_A      1
#define DNS_T_NS     2
#define DNS_T_CNAME  5
#define DNS_T_SOA    6
#define DNS_T_PTR   12
#define DNS_T_MX    15
#define DNS_T_TXT   16
#define DNS_T_AAAA  28
#define DNS_T_SPF   99

#define DNS_MAX_SERVERS 8
/* Records of the asked type kept of one answer; the rest are counted in ndropped. */
#define DNS_MAX_RR 100

/* The typed outcome of one query; each is distinct in the API and in JSON. */
enum dns_status {
	DNS_ANSWER = 0,		/* records of the asked type (maybe via CNAME) */
	DNS_NXDOMAIN,		/* the name does not exist: an answer, not a failure */
	DNS_NODATA,		/* the name exists, no records of this type */
	DNS_SERVFAIL,		/* the server failed, or its aliases loop or go on too long */
	DNS_REFUSED,
	DNS_TIMEOUT,		/* no usable reply in time (or the deadline passed) */
	DNS_MALFORMED,		/* replies came but none could be parsed or used */
	DNS_NETERR,		/* sockets failed: unreachable, connection refused */
	DNS_OVER_BUDGET,	/* not sent: the daily budget of its zone is spent */
};

/*
 * "answer", "nxdomain", "nodata", "servfail", "refused", "timeout", "malformed",
 * "network_error", "over_budget".
 */
const char *dns_status_name(enum dns_status st);

/* True for NXDOMAIN and NODATA: DNS answered that there is nothing. */
bool dns_status_is_negative(enum dns_status st);
/* True for SERVFAIL, REFUSED, TIMEOUT, MALFORMED, NETERR, OVER_BUDGET: no honest answer. */
bool dns_status_is_failure(enum dns_status st);

/*
 * One resource record of the answer, already decoded. Names are in
 * presentation form, lower case, without the final dot ("mail.example.com").
 */
struct dns_rr {
	uint16_t type;
	uint32_t ttl;
	char *owner;
	union {
		struct { unsigned char addr[4]; } a;
		struct { unsigned char addr[16]; } aaaa;
		struct { char *target; } name;		/* PTR, CNAME, NS */
		struct { uint16_t pref; char *host; } mx;	/* host "" is the root (null MX) */
		struct {
			/* the character-strings joined; may hold any byte, NUL included */
			char *data;
			size_t len;
			size_t nstrings;
			size_t *lens;	/* length of each character-string */
		} txt;
		struct { char *mname, *rname; uint32_t serial, minimum; } soa;
	} u;
	/* printable form of the RDATA: address, name, "10 mx.example", TXT joined (raw bytes) */
	char *text;
};

/*
 * The result of one question. Immutable once done, shared by the cache and
 * every waiter, reference counted: release with dns_result_free().
 */
struct dns_result {
	char *qname;			/* as asked, lower case, no final dot */
	uint16_t qtype;
	enum dns_status status;
	int rcode;			/* the DNS RCODE of the last reply, -1 if none */
	size_t nrr;
	struct dns_rr *rr;		/* answer records of qtype, in wire order, at most DNS_MAX_RR */
	size_t ndropped;		/* records of qtype past DNS_MAX_RR, not kept */
	size_t ncname;
	char **cname;			/* the CNAME chain followed, in order */
	uint32_t ttl;			/* how long the cache keeps it */
	bool deadline;			/* TIMEOUT because the session deadline passed */
	int elapsed_ms;
	char *server;			/* "127.0.0.1:5353" that answered, or NULL */
	int refs;
};

void dns_result_free(struct dns_result *res);
/* Adds a reference and returns res. */
struct dns_result *dns_result_ref(struct dns_result *res);

/* A nameserver address, parsed from "1.2.3.4", "1.2.3.4:53", "[::1]:53", "::1". */
struct dns_server {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char label[64];			/* "127.0.0.1:53" or "[::1]:53" */
};

/* Parses ADDR[:PORT] (IPv6 with a port in brackets). 0 on success, -1 on bad input. */
int dns_server_parse(const char *spec, struct dns_server *out);

/* Reads "nameserver" lines from a resolv.conf file. Returns the count (0 if none), -1 unreadable. */
int dns_servers_from_resolv_conf(const char *path, struct dns_server *out, size_t max);

#define DNS_CACHE_MAX_DEFAULT	20000
#define DNS_INFLIGHT_DEFAULT	1024

struct dns_config {
	struct dns_server servers[DNS_MAX_SERVERS];
	size_t nservers;
	int attempt_timeout_ms;		/* one try; default 1500 */
	int attempts;			/* tries per query over the servers in turn; default 3 */
	size_t max_inflight;		/* questions waiting for their reply at once; default 1024 */
	size_t cache_max;		/* answers kept, least recently used dropped first; default 20000 */
	double max_qps;			/* questions sent per second over all servers; 0: no cap */
	bool no_cache;
	/*
	 * Ask only what can change a result, even at the cost of a round
	 * trip (batch mode): a blocklist's TXT only after its A answer has
	 * something to explain. Callers read it with dns_spare_queries().
	 */
	bool spare_queries;
	/*
	 * Called (from the engine's thread, its lock held: it must not call
	 * the engine) with a warning for a person: a zone's daily budget
	 * nearly or wholly spent. NULL: no warnings.
	 */
	void (*warn)(void *arg, const char *msg);
	void *warn_arg;
};

/* Fills the defaults above and no servers. */
void dns_config_init(struct dns_config *cfg);

/*
 * Reads the [dns] section of checks.d into cfg: cache_max (entries, 0 for
 * no cache), max_inflight (1 to 65536) and max_qps (0 for no cap), each
 * optional. -1 with err naming file:line for a bad value or an unknown key.
 */
int dns_config_read(struct dns_config *cfg, const struct conf *conf, struct error *err);

/*
 * Counters of the engine, or of one session: a session counts the questions
 * it asked, and the packets, timeouts and retries of the queries it started
 * (a question joined to another session's query counts as coalesced).
 */
struct dns_counters {
	uint64_t queries;		/* questions asked by callers */
	uint64_t sent;			/* UDP packets and TCP queries sent */
	uint64_t cache_hits;		/* questions answered by the cache */
	uint64_t coalesced;		/* questions joined to one in flight */
	uint64_t timeouts;		/* attempts that timed out, and waits the deadline cut */
	uint64_t retries;
	uint64_t tcp_fallbacks;
	uint64_t mismatched;		/* replies dropped: wrong source, ID or question */
};

struct dns_server_stats {
	char label[64];
	uint64_t sent, answered, timeouts;
};

/*
 * True if the server was sent queries and answered none: it is down, or
 * not at that address (named as "ADDR answered no query").
 */
bool dns_server_stats_silent(const struct dns_server_stats *s);

struct dns_engine;
struct dns;
struct dns_query;

/* What the engine holds right now, and the most it ever held. */
struct dns_gauges {
	size_t cached;			/* answers in the cache */
	size_t inflight;		/* questions sent and not yet answered */
	size_t queued;			/* questions waiting for room or for their rate cap */
	size_t peak_inflight;
	size_t peak_cached;
};

/*
 * A cap on the questions sent for the names in one zone (the zone's name
 * and every name below it), or, with zone "", on all questions (max_qps).
 */
struct dns_cap_info {
	char zone[256];			/* lower case, no final dot; "" for the global cap */
	double rate;			/* questions per second; 0: no rate cap */
	uint64_t budget;		/* questions per day; 0: no budget */
	uint64_t used;			/* questions sent in the current day */
	size_t held;			/* questions waiting for their turn now */
};

/* Starts the engine and its I/O thread. NULL (and err filled) when sockets or threads fail. */
struct dns_engine *dns_engine_new(const struct dns_config *cfg, char *err, size_t errlen);
/* Stops the thread, fails what is pending, frees all. NULL is a no-op. */
void dns_engine_free(struct dns_engine *eng);
/* Engine-wide counters and per-server statistics (n filled, up to max). */
void dns_engine_stats(struct dns_engine *eng, struct dns_counters *c,
    struct dns_server_stats *servers, size_t max, size_t *n);

/* The engine's gauges (see struct dns_gauges). */
void dns_engine_gauges(struct dns_engine *eng, struct dns_gauges *g);

/*
 * Caps the questions sent for names under zone (lower case, no final dot)
 * to rate per second (bursts of at most one second's worth) and budget per
 * day (counted from the first question under the cap, in this process);
 * 0 leaves either off. A question waits for its turn: the cap slows the
 * run down, it never fails a question. One spent budget fails the zone's
 * further questions with DNS_OVER_BUDGET until the day is over; cfg->warn
 * hears of it at 90% and at 100%. Calling it again for a zone updates its
 * cap; the most specific zone of a name applies. A first attempt waits
 * for its turn, a retry of a question that was not answered does not.
 */
void dns_engine_cap_zone(struct dns_engine *eng, const char *zone, double rate,
    uint64_t budget);

/*
 * The caps in force (for a progress line): the global one first when
 * max_qps is set, then one per capped zone, into out (up to max).
 * Returns how many there are, which may be more than max.
 */
size_t dns_engine_caps(struct dns_engine *eng, struct dns_cap_info *out, size_t max);

/*
 * Blocks until the engine has room for one more target's questions under
 * its caps: with no cap it returns at once, else it lets targets start at
 * the pace that the tightest cap allows for the questions a target has
 * needed so far, so that questions do not wait for their turn longer than
 * about a second, and a target's deadline is not spent waiting. Batch mode
 * calls it before each target.
 */
void dns_engine_admit(struct dns_engine *eng);

/*
 * A session: the work for one target. deadline_ms is an absolute now_ms()
 * time after which every wait returns DNS_TIMEOUT with deadline set; 0 means
 * none. NULL never: allocation failure is fatal.
 */
struct dns *dns_new(struct dns_engine *eng, int64_t deadline_ms);
/* Frees the session; queries it still has in flight are detached. NULL is a no-op. */
void dns_free(struct dns *dns);
/* This session's counters. */
void dns_counters_get(struct dns *dns, struct dns_counters *c);
/* The engine a session runs on (for its configuration and statistics). */
struct dns_engine *dns_engine_of(struct dns *dns);
/* The engine's spare_queries setting (struct dns_config). */
bool dns_spare_queries(const struct dns *dns);
/*
 * The session's deadline (a now_ms() time, 0: none), for work that is not
 * DNS but must end with the target's (the SMTP probe).
 */
int64_t dns_deadline(const struct dns *dns);

/*
 * Asks (name, type). Never blocks on the network. name may end in a dot; it
 * is lowered. A name that cannot be encoded (label over 63, name over 255
 * octets on the wire) completes at once with DNS_MALFORMED; once the
 * session's deadline has passed, a question the cache cannot answer
 * completes at once with DNS_TIMEOUT (deadline set), and nothing is sent.
 * Returns a handle to pass to dns_query_wait() or dns_query_free().
 */
struct dns_query *dns_query_submit(struct dns *dns, const char *name, uint16_t type);

/*
 * Blocks until q is done or the session deadline passes; returns its result
 * with a reference for the caller (dns_result_free() it). Never NULL.
 * Calling it twice on one query returns a new reference each time.
 */
struct dns_result *dns_query_wait(struct dns *dns, struct dns_query *q);

/* Releases the handle; a query still in flight goes on for the cache. NULL is a no-op. */
void dns_query_free(struct dns_query *q);

/* Submit and wait. May block on DNS up to the session deadline. Never NULL. */
struct dns_result *dns_lookup(struct dns *dns, const char *name, uint16_t type);

/* Submits all n questions, then waits for all: results[i] answers names[i]/types[i]. */
void dns_lookup_many(struct dns *dns, const char *const *names, const uint16_t *types,
    size_t n, struct dns_result **results);

/*
 * Parses one reply to (qname, qtype) as the engine does, without the
 * engine: the answer records of qtype after the CNAME chain inside the
 * reply, NXDOMAIN/NODATA, SERVFAIL/REFUSED from the RCODE; SERVFAIL too
 * for aliases that loop or go on for more than 8 names. NULL when the
 * bytes are not a DNS message. No network; for tests and fuzzing.
 */
struct dns_result *dns_reply_parse(const unsigned char *wire, size_t len, const char *qname,
    uint16_t qtype);

/* Names: helpers that need no network. */

/*
 * Writes the reverse-lookup name of a textual IPv4 or IPv6 address into out
 * under zone suffix (NULL: "in-addr.arpa" / "ip6.arpa"): "4.3.2.1.zone".
 * IPv4-mapped IPv6 counts as IPv4 only if map4 is true. 0 or -1 for bad input
 * or a too small buffer.
 */
int dns_reverse_name(const char *ip, const char *zone, bool map4, char *out, size_t outlen);

/*
 * True if res is an answer with an A (family AF_INET) or AAAA (AF_INET6)
 * record holding exactly addr (4 or 16 bytes). An IPv4-mapped addr is
 * compared as its IPv4 host.
 */
bool dns_result_has_addr(const struct dns_result *res, int family, const unsigned char *addr);

#endif
