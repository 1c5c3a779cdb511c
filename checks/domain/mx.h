/*
 * Can a domain receive mail? Its MX records, the implicit MX of RFC 5321
 * 5.1, the null MX of RFC 7505, and whether each MX host resolves. Shared
 * by the sender_domain and recipient checks, which report the same
 * findings in their own words.
 */
#ifndef WHY550_DOMAIN_MX_H
#define WHY550_DOMAIN_MX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checks/check.h"

/* How mail reaches the domain, as far as DNS tells. */
enum domain_mail_kind {
	DOMAIN_MAIL_UNKNOWN = 0,	/* a lookup failed: no honest answer */
	DOMAIN_MAIL_NXDOMAIN,		/* the domain does not exist */
	DOMAIN_MAIL_NONE,		/* exists, no MX and no address */
	DOMAIN_MAIL_NULL_MX,		/* "MX 0 .": accepts no mail (RFC 7505) */
	DOMAIN_MAIL_IMPLICIT,		/* no MX, an address: the implicit MX */
	DOMAIN_MAIL_MX,			/* MX records */
};

/* What became of one MX host. */
enum domain_host_state {
	DOMAIN_HOST_OK = 0,		/* has addresses */
	DOMAIN_HOST_CNAME,		/* has addresses, through an alias (RFC 2181 10.3) */
	DOMAIN_HOST_NXDOMAIN,		/* the name does not exist */
	DOMAIN_HOST_NOADDR,		/* exists, no A or AAAA */
	DOMAIN_HOST_IP_LITERAL,		/* an IP address where a name belongs (RFC 5321 5.1) */
	DOMAIN_HOST_ERROR,		/* its lookups failed */
};

struct domain_mx_host {
	char *name;
	uint16_t pref;
	enum domain_host_state state;
	struct dns_result *a, *aaaa;	/* NULL for an IP literal or an unchecked host */
};

struct domain_mail {
	char *domain;			/* the name asked (A-label form) */
	struct dns_query *q[3];		/* MX, A, AAAA while in flight */
	struct dns_result *mx, *a, *aaaa;
	enum domain_mail_kind kind;
	struct domain_mx_host *hosts;	/* sorted by preference; at most max_hosts */
	size_t nhosts;
	size_t nmx;			/* MX records found (hosts may be fewer) */
	size_t nresolved, nfailed;	/* hosts that resolve / whose lookups failed */
};

/*
 * Starts the MX, A and AAAA lookups of domain, so that the caller can put
 * its own questions in flight before it waits. Never blocks.
 */
void domain_mail_init(struct domain_mail *dm, struct dns *dns, const char *domain);

/*
 * Waits for those answers, then looks up every MX host (at most max_hosts,
 * lowest preference first) at once and waits for them. May block on DNS up
 * to the session deadline. Sets kind, hosts and the counters.
 */
void domain_mail_wait(struct domain_mail *dm, struct dns *dns, size_t max_hosts);

void domain_mail_release(struct domain_mail *dm);

/* "mx", "implicit_mx", "null_mx", "no_mail", "nxdomain", "unknown". */
const char *domain_mail_kind_name(enum domain_mail_kind kind);
/* "ok", "cname", "nxdomain", "no_address", "ip_literal", "error". */
const char *domain_host_state_name(enum domain_host_state st);

/*
 * A fresh object for report_data: {"domain", "exists": bool|null, "mail":
 * kind, "mx": [{"host", "preference", "status", "addresses", "cname"}],
 * "addresses": [...] (the domain's own)}.
 */
json_t *domain_mail_json(const struct domain_mail *dm);

/*
 * Adds the findings about dm to rep; role names the domain in messages
 * ("sender domain", "recipient domain"). Codes: domain_nxdomain (fail),
 * domain_no_mail (fail), null_mx (fail), implicit_mx (info), mx_found (info),
 * mx_target_cname (warn), mx_target_ip_literal (warn), mx_target_unresolvable
 * (warn), mx_none_resolve (fail), mx_host_lookup_failed (error),
 * domain_lookup_failed (error). A failed lookup never gives a negative finding.
 * Every finding's data has "domain".
 */
void domain_mail_report(const struct domain_mail *dm, struct report *rep, const char *role);

#endif
