/* SPF record syntax (RFC 7208 sections 4.5, 4.6, 5, 6, 12) and macro strings (section 7): parsing and expansion, no DNS. */
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

/*
 * Checks a macro-string (RFC 7208 7.1) of len bytes. exp allows the letters
 * c, r and t and spaces (the explanation string of 6.2). 0, or -1 with err.
 */
int spf_macro_check(const char *s, size_t len, bool exp, struct spf_syntax *err);

/*
 * Checks a domain-spec: a macro-string that ends in a macro or in "." and a
 * top label that is not all digits (RFC 7208 7.1 domain-end). 0, or -1 with err
 * (pos relative to s).
 */
int spf_domain_spec_check(const char *s, size_t len, struct spf_syntax *err);

/* RFC 7208 7.1 toplabel: alphanumerics with a letter, or with inner hyphens. */
bool spf_toplabel_ok(const char *s, size_t len);

/* What macros expand to for one check_host() call (RFC 7208 7.2). */
struct spf_macro_env {
	const char *sender;	/* s: "local@domain" */
	const char *local;	/* l */
	const char *sender_domain;	/* o */
	const char *domain;	/* d: the current domain */
	int family;		/* AF_INET (mapped IPv4 included) or AF_INET6 */
	const unsigned char *addr;	/* 4 or 16 bytes */
	const char *helo;	/* h */
	const char *receiver;	/* r */
	int64_t timestamp;	/* t */
	/* p: the validated name of the IP; called at most once per expansion; may block on DNS */
	char *(*validated)(void *arg);
	void *arg;
};

/*
 * Expands a macro-string of len bytes (exp as for spf_macro_check). Returns
 * a fresh string, or NULL if the string's syntax is wrong.
 */
char *spf_macro_expand(const char *s, size_t len, const struct spf_macro_env *env, bool exp);

/*
 * Makes an expanded domain-spec a query name: drops one final dot, and when
 * it is over 253 octets removes whole labels from the left until it fits
 * (RFC 7208 7.3). In place.
 */
void spf_domain_trim(char *name);

#endif
