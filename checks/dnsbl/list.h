/*
 * Blocklists as data: one list's configuration (zone, kinds, weights, the
 * meaning of each return code) read from checks.d, and the classification
 * of a list's answers into listed / refused / unexpected.
 */
#ifndef WHY550_DNSBL_LIST_H
#define WHY550_DNSBL_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/util.h"

/* The kinds of subject a list answers for (a list may take both IP kinds). */
enum dnsbl_kind {
	DNSBL_IP4 = 1u << 0,
	DNSBL_IP6 = 1u << 1,
	DNSBL_DOMAIN = 1u << 2,
};

/* "ip4", "ip6", "domain" for one kind; "domain" for any other value. Static. */
const char *dnsbl_kind_name(enum dnsbl_kind kind);
/* 0 with *out set when the len bytes at s name a kind; -1 otherwise. */
int dnsbl_kind_parse(const char *s, size_t len, enum dnsbl_kind *out);

/* What an answer that matches a code means. */
enum dnsbl_code_class {
	DNSBL_CODE_LISTED = 0,
	DNSBL_CODE_POLICY,	/* a policy listing (end-user space, PBL-style) */
	DNSBL_CODE_REFUSED,	/* the operator refused the query: not a listing */
};

/*
 * One documented return code: an address range lo..hi (host order), or a
 * bitmask over the last octet of 127.0.0.0/24 answers (mask != 0).
 */
struct dnsbl_code {
	enum dnsbl_code_class cls;
	uint32_t lo, hi;
	uint8_t mask;
	char *meaning;
};

struct dnsbl_list {
	char *zone;			/* lower case, no final dot */
	unsigned kinds;			/* enum dnsbl_kind bits */
	long weight;			/* added to the score when listed */
	long policy_weight;		/* instead, when only policy codes matched */
	struct dnsbl_code *codes;
	size_t ncodes;
	char *delist_url;		/* may hold "{subject}"; NULL if none */
	bool refuses_public;		/* the operator refuses public resolvers */
	bool selftest;			/* RFC 5782 section 5 test points */
	char *test_listed;		/* NULL: the RFC 5782 default of the kind */
	char *test_unlisted;
	bool registered_domain;		/* domain lists: ask for the registered domain */
	char *dqs_zone;			/* the Spamhaus Data Query Service form, or NULL */
	double rate;			/* questions a second to the zone at most; 0: no cap */
	uint64_t budget;		/* questions a day to the zone at most; 0: no budget */
	const char *file;		/* where the section is, for messages */
	int line;
	/* set by the check after reading, see dnsbl_list_set_key() */
	char *query_zone;		/* where queries go: NULL for zone */
	char *shown_zone;		/* query_zone with the key hidden, for output */
	bool skipped;			/* left out (skip_list, --skip-list) */
};

/*
 * Parses one code value "SPEC MEANING" of class cls into out. SPEC is an
 * IPv4 address "127.0.0.2", a range "127.0.0.4-127.0.0.7", or a bitmask
 * "bitmask:N" (N 1..255, decimal or 0x hex) over the last octet of
 * 127.0.0.0/24 answers. MEANING is the rest, may be empty. 0, or -1 with a
 * reason in why. out->meaning is a fresh string on success.
 */
int dnsbl_code_parse(const char *text, enum dnsbl_code_class cls,
    struct dnsbl_code *out, char *why, size_t whylen);

/* True if the IPv4 answer addr (4 bytes, network order) matches code c. */
bool dnsbl_code_match(const struct dnsbl_code *c, const unsigned char *addr);

/*
 * Parses a rate cap "N/s", "N/min" or "N/h" (N a decimal number above 0),
 * or "none", into questions per second (0 for none). 0, or -1 with a
 * reason in why.
 */
int dnsbl_rate_parse(const char *text, double *per_sec, char *why, size_t whylen);

/*
 * Parses a daily budget "N/day" (N a whole number above 0) or "none" (0).
 * 0, or -1 with a reason in why.
 */
int dnsbl_budget_parse(const char *text, uint64_t *per_day, char *why, size_t whylen);

/*
 * Reads one "[name "zone"]" section into a fresh list (kinds defaults to
 * default_kinds when the section has no "kind" key). NULL with err naming
 * file:line on bad configuration.
 */
struct dnsbl_list *dnsbl_list_from_section(const struct conf_section *sec,
    unsigned default_kinds, struct error *err);
void dnsbl_list_free(struct dnsbl_list *l);

/* What replaces a Data Query Service key wherever a name is shown. */
#define DNSBL_KEY_SHOWN	"<dqs-key>"

/*
 * Sends the list's queries to KEY.dqs_zone, the Spamhaus Data Query
 * Service form of the list, when it has a dqs_zone (no-op otherwise). key
 * is one DNS label of letters and digits. A list asked with a key answers
 * through public resolvers too, so refuses_public is cleared.
 */
void dnsbl_list_set_key(struct dnsbl_list *l, const char *key);
/* The zone the queries go to: zone, or KEY.dqs_zone. */
const char *dnsbl_list_query_zone(const struct dnsbl_list *l);
/* The same for output: the key replaced by DNSBL_KEY_SHOWN. */
const char *dnsbl_list_shown_zone(const struct dnsbl_list *l);
/* True if name (lower case, no final dot) is the list's zone or its dqs_zone. */
bool dnsbl_list_is_named(const struct dnsbl_list *l, const char *name);

/* What the A answers of one query say about the subject. */
enum dnsbl_verdict {
	DNSBL_V_NONE = 0,	/* no address in the answer */
	DNSBL_V_LISTED,		/* at least one documented listing code */
	DNSBL_V_REFUSED,	/* a refused code */
	DNSBL_V_UNEXPECTED,	/* outside 127.0.0.0/8, or no documented code */
};

/*
 * Classifies n IPv4 answers (4 bytes each, network order) against the list.
 * A refused code wins over anything else; an address outside 127.0.0.0/8
 * makes the answer unexpected (resolver tampering); otherwise listed if any
 * documented listing code matched. matched (may be NULL) gets, per answer,
 * the index of the code that matched it or -1; *policy_only is set when
 * every matching code is a policy code.
 */
enum dnsbl_verdict dnsbl_classify(const struct dnsbl_list *l, const unsigned char *addrs,
    size_t n, long *matched, bool *policy_only);

/*
 * Finds the first http:// or https:// URL in untrusted TXT bytes: printable
 * ASCII up to a space, quote or angle bracket, at most 512 bytes. A fresh
 * string or NULL when there is none.
 */
char *dnsbl_txt_url(const char *txt, size_t len);

/*
 * The delisting URL with every "{subject}" replaced by subject (fresh
 * string), or NULL when the list has none.
 */
char *dnsbl_delist_url(const struct dnsbl_list *l, const char *subject);

#endif
