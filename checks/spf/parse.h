/* SPF record syntax (RFC 7208 sections 4.5, 4.6, 5, 6, 12): the parser of records and their terms, no DNS. */
#ifndef WHY550_SPF_PARSE_H
#define WHY550_SPF_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Mechanisms first, then modifiers. */
enum spf_kind {
	SPF_K_ALL = 0,
	SPF_K_INCLUDE,
	SPF_K_A,
	SPF_K_MX,
	SPF_K_PTR,
	SPF_K_IP4,
	SPF_K_IP6,
	SPF_K_EXISTS,
	SPF_K_REDIRECT,
	SPF_K_EXP,
	SPF_K_MODIFIER,		/* an unknown modifier: ignored (RFC 7208 6) */
};

/* "all", "include", ..., "redirect", "exp", "modifier". */
const char *spf_kind_name(enum spf_kind k);

/* True for the terms that query DNS and count against the limit of RFC 7208 4.6.4. */
bool spf_kind_queries_dns(enum spf_kind k);

struct spf_term {
	enum spf_kind kind;
	char qual;		/* '+', '-', '~', '?' ('+' when omitted); 0 for modifiers */
	char *text;		/* the term as written */
	size_t pos;		/* offset of the term in the record */
	char *spec;		/* domain-spec, or a modifier's macro-string; NULL when absent */
	char *name;		/* an unknown modifier's name, else NULL */
	int cidr4;		/* prefix for IPv4 matches (ip4, a, mx); 32 when absent */
	int cidr6;		/* prefix for IPv6 matches (ip6, a, mx); 128 when absent */
	unsigned char net[16];	/* ip4: 4 bytes, ip6: 16 bytes, as written */
};

struct spf_record {
	char *text;		/* the whole record, NUL-terminated */
	struct spf_term *terms;
	size_t nterms;
	int redirect;		/* index in terms of redirect=, -1 when absent */
	int exp;		/* index in terms of exp=, -1 when absent */
	bool has_all;		/* an "all" mechanism is present */
	size_t ndns;		/* terms that query DNS */
};

/* Where a record or macro string is wrong, in words. */
struct spf_syntax {
	size_t pos;		/* byte offset of the problem in the text */
	char msg[192];		/* "unknown mechanism 'foo'" */
};

/* True if txt (len bytes) is an SPF version 1 record: "v=spf1" then a space or the end (RFC 7208 4.5). */
bool spf_is_record(const char *txt, size_t len);

/*
 * Parses an SPF record of len bytes (it may hold any byte; NUL is a syntax
 * error). Fills rec and returns 0; on a syntax error returns -1 with err
 * set (rec is then released). rec is released with spf_record_release().
 */
int spf_record_parse(struct spf_record *rec, const char *txt, size_t len,
    struct spf_syntax *err);
void spf_record_release(struct spf_record *rec);

#endif
