/* SPF macro-strings (RFC 7208 7): syntax checks, expansion, and query names from domain-specs. */
#ifndef WHY550_SPF_MACRO_H
#define WHY550_SPF_MACRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checks/spf/parse.h"

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
