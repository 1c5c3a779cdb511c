/*
 * The receiver view of SPF: libspf2 (as many receivers run it) evaluates
 * (ip, sender, helo) with its DNS routed through an adapter onto our engine
 * (a custom SPF_dns_server_t), so it sees the same resolver, cache and
 * fixture as the strict evaluator. No libspf2 type leaves dns/spf_adapter.c.
 */
#ifndef WHY550_SPF_ADAPTER_H
#define WHY550_SPF_ADAPTER_H

#include "dns/dns.h"

struct spf_receiver_view {
	/*
	 * libspf2's result in the strict vocabulary: "none", "neutral", "pass",
	 * "fail", "softfail", "temperror", "permerror". libspf2's "invalid" is
	 * mapped: a DNS error to temperror, no record to none, others to permerror.
	 */
	const char *result;
	char *raw;		/* libspf2's own result name ("invalid", "pass", ...) */
	char *error;		/* libspf2's first error message, or NULL */
	char *explanation;	/* libspf2's explanation (fail), or NULL */
	char *comment;		/* the SMTP comment libspf2 would send, or NULL */
	int lookups;		/* questions libspf2 asked through the adapter */
};

/*
 * Evaluates with libspf2: ip is textual IPv4 or IPv6, sender "local@domain"
 * (for the HELO identity pass "postmaster@HELO"), helo may be NULL,
 * receiver the %{r} domain (NULL: "unknown"). Blocks on DNS through dns
 * (each libspf2 question is one dns_lookup on this session). Cannot fail:
 * any problem is in out->result / out->error. Release with
 * spf_receiver_view_release().
 */
void spf_receiver_evaluate(struct dns *dns, const char *ip, const char *sender,
    const char *helo, const char *receiver, struct spf_receiver_view *out);
void spf_receiver_view_release(struct spf_receiver_view *v);

#endif
