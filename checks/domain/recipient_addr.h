/*
 * Recipient address syntax as a receiving server reads it (RFC 5321 4.1.2,
 * RFC 5322 3.4.1), and typo suggestions for its domain. Pure functions: no
 * DNS, no global state; safe on any bytes (the fuzzer calls them).
 */
#ifndef WHY550_RECIPIENT_ADDR_H
#define WHY550_RECIPIENT_ADDR_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 5321 4.5.3.1.1 and 4.5.3.1.3 (a 256-octet path less its brackets). */
#define RECIPIENT_LOCAL_MAX	64
#define RECIPIENT_ADDRESS_MAX	254

/* What is wrong with an address; the first problem found wins. */
enum recipient_addr_problem {
	RADDR_OK = 0,
	RADDR_EMPTY,
	RADDR_SPACE_LEADING,	/* white space before the address */
	RADDR_SPACE_TRAILING,	/* white space after it */
	RADDR_SPACE_INNER,	/* white space outside quotes inside it */
	RADDR_CONTROL,		/* a control byte (NUL, CR, LF, ...) */
	RADDR_UTF8_INVALID,	/* 8-bit bytes that are not UTF-8 */
	RADDR_BRACKETS,		/* unbalanced angle brackets */
	RADDR_NO_AT,
	RADDR_MULTIPLE_AT,
	RADDR_LOCAL_EMPTY,
	RADDR_LOCAL_TOO_LONG,	/* over RECIPIENT_LOCAL_MAX octets */
	RADDR_ADDRESS_TOO_LONG,	/* over RECIPIENT_ADDRESS_MAX octets */
	RADDR_DOT_LEADING,	/* local part starts with '.' */
	RADDR_DOT_TRAILING,	/* local part ends with '.' */
	RADDR_DOT_DOUBLE,	/* ".." in an unquoted local part */
	RADDR_NEEDS_QUOTING,	/* a character only a quoted local part may hold */
	RADDR_QUOTE_BAD,	/* unterminated quotes, text after them */
	RADDR_DOMAIN_EMPTY,
	RADDR_DOMAIN_SYNTAX,	/* labels: empty, too long, not letters/digits/hyphens */
	RADDR_DOMAIN_NOT_FQDN,	/* one label: "alice@localhost" */
	RADDR_DOMAIN_IDN,	/* an internationalised name libidn2 refuses */
	RADDR_DOMAIN_LITERAL,	/* "[...]" that is not an address literal */
	RADDR_PROBLEM_COUNT
};

struct recipient_addr {
	enum recipient_addr_problem problem;
	char detail[200];	/* one sentence on the problem, "" when RADDR_OK */
	/* Filled when the address splits into its parts (even if invalid): */
	char *local;		/* as written, quotes kept */
	char *domain;		/* as written, final dot removed */
	/* Filled only when problem is RADDR_OK: */
	char *domain_ascii;	/* lower case A-label form; the literal's address for literals */
	char *domain_unicode;	/* U-label form for display (= domain_ascii if not IDN) */
	bool quoted;		/* the local part is a quoted string */
	bool utf8_local;	/* the local part has 8-bit characters (needs SMTPUTF8) */
	bool idn;		/* the domain has U-labels or A-labels */
	bool literal;		/* the domain is an address literal "[192.0.2.1]" */
	bool final_dot;		/* the domain was written with a final dot */
};

/*
 * Parses len bytes (may hold NUL) as one recipient address, with or without
 * angle brackets. Fills out (call recipient_addr_release() after, whatever
 * the result). Returns 0 when the address is valid, -1 with out->problem and
 * out->detail set otherwise. Converts internationalised domains with libidn2
 * (UTS #46 nontransitional, NFC).
 */
int recipient_addr_parse(const char *s, size_t len, struct recipient_addr *out);
void recipient_addr_release(struct recipient_addr *a);

/* The stable snake_case name of a problem ("space_inner", "dot_double", ...). */
const char *recipient_addr_problem_name(enum recipient_addr_problem p);

/*
 * Optimal string alignment distance of a and b (insertions, deletions,
 * substitutions, transpositions of neighbours), capped: any distance over
 * max is returned as max + 1. Strings over 255 octets give max + 1.
 */
int recipient_edit_distance(const char *a, const char *b, int max);

/*
 * The common domain that domain (lower case ASCII) is most likely a typo of,
 * or NULL: none within max_distance, or domain is itself in the list. A
 * distance of 2 is allowed only for candidates of 9 octets or more, where
 * two slips are still a small part of the name. On a tie the earlier entry
 * of common wins (the list is ordered by popularity). *distance gets the
 * distance when not NULL.
 */
const char *recipient_typo_suggest(const char *domain, const char *const *common,
    size_t ncommon, int max_distance, int *distance);

#endif
