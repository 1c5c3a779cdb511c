/* The strict SPF evaluator: RFC 7208 check_host() (sections 4, 5, 6, 7) on the DNS engine. */
#ifndef WHY550_SPF_EVAL_H
#define WHY550_SPF_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns.h"

enum spf_result {
	SPF_R_NONE = 0,
	SPF_R_NEUTRAL,
	SPF_R_PASS,
	SPF_R_FAIL,
	SPF_R_SOFTFAIL,
	SPF_R_TEMPERROR,
	SPF_R_PERMERROR,
};

/* "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror". */
const char *spf_result_name(enum spf_result r);
/* The result of a qualifier character ('+' pass, '-' fail, '~' softfail, '?' neutral). */
enum spf_result spf_result_of_qualifier(char q);

struct spf_eval_opts {
	const char *receiver;	/* the %{r} macro; NULL: "unknown" */
	const char *default_exp;	/* macro-string explaining a fail without exp=; NULL: none */
	int max_lookups;	/* RFC 7208 4.6.4: DNS-querying terms per evaluation; 10 */
	int max_void;		/* void lookups; 2 */
	int max_mx;		/* MX records per mx term; 10 */
	int max_ptr;		/* PTR names validated per ptr term or %{p}; 10 */
	int64_t timestamp;	/* the %{t} macro; 0: the time of the call */
	bool prefetch;		/* submit a record's lookups as soon as it is read; default on */
};

/* Fills the defaults above. */
void spf_eval_opts_init(struct spf_eval_opts *o);

/* A network that a record authorises with a pass qualifier, for the analysis. */
struct spf_net {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int prefix;
	char *term;		/* the mechanism that gives it: "ip4:192.0.2.0/25", "a:mail.example" */
	char *path;		/* the terms that lead to it from the top: "include:a → include:b", "" at the top */
};

/* One record evaluated: the include/redirect tree. */
struct spf_node {
	char *domain;
	char *via;		/* "include:x" or "redirect=x" that led here; NULL at the top */
	char *record;		/* the SPF record text, NULL when there was none */
	enum spf_result result;
	char *matched;		/* the term that decided, or NULL */
	char *reason;		/* why none / permerror / temperror, in words, or NULL */
	struct spf_node **kids;
	size_t nkids;
};

struct spf_outcome {
	enum spf_result result;
	char *domain;		/* the domain checked */
	char *record;		/* its SPF record, or NULL */
	char *matched;		/* the top-level term that decided, or NULL */
	char *explanation;	/* for fail: exp= or the default explanation; else NULL */
	char *reason;		/* why none / permerror / temperror, in words, or NULL */
	int lookups;		/* DNS-querying terms evaluated */
	int void_lookups;
	size_t nrecords;	/* SPF records found at the domain (lint: more than one) */
	struct spf_net *nets;	/* every network authorised on the way, in evaluation order */
	size_t nnets;
	struct spf_node *tree;	/* never NULL after spf_evaluate() */
	bool deadline;		/* a lookup was cut by the session deadline */
	bool malformed;		/* the domain is none SPF can check (RFC 7208 4.3): "none" */
};

void spf_outcome_release(struct spf_outcome *out);

/*
 * check_host(ip, domain, sender) of RFC 7208 4: ip is family/addr (an
 * IPv4-mapped IPv6 address is evaluated as IPv4), sender "local@domain" or
 * a bare domain (the local part is then "postmaster"), helo the HELO name
 * for %{h} (may be NULL). Fills out (release it with spf_outcome_release).
 * Blocks on DNS through dns; cannot fail: DNS failures are temperror.
 */
void spf_evaluate(struct dns *dns, const struct spf_eval_opts *o, int family,
    const unsigned char *addr, const char *domain, const char *sender, const char *helo,
    struct spf_outcome *out);

#endif
