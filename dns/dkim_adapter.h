/*
 * Routes libopendkim's key lookups through our DNS engine. One adapter
 * serves one target's session: callers submit the key names they will need
 * up front (all in flight at once), and libopendkim's query hooks then find
 * those queries instead of asking again. The hooks have the prototypes that
 * dkim_dns_set_query_start/_cancel/_waitreply expect, with the adapter as
 * the service handle (dkim_dns_set_query_service), so no libopendkim object
 * ever reaches this file and no ldns object leaves it.
 */
#ifndef WHY550_DNS_DKIM_ADAPTER_H
#define WHY550_DNS_DKIM_ADAPTER_H

#include <stddef.h>
#include <sys/time.h>

#include "dns/dns.h"

struct dkim_adapter;

/* An adapter over session dns (borrowed; it must outlive the adapter). Never NULL. */
struct dkim_adapter *dkim_adapter_new(struct dns *dns);
/* Releases the queries it holds (those in flight go on for the cache). NULL is a no-op. */
void dkim_adapter_free(struct dkim_adapter *ad);

/* Starts the TXT lookup of name unless it is already started; never blocks. */
void dkim_adapter_submit(struct dkim_adapter *ad, const char *name);

/*
 * The result of name's TXT lookup (submitted now if it was not); blocks up
 * to the session deadline. A new reference: dns_result_free() it.
 */
struct dns_result *dkim_adapter_result(struct dkim_adapter *ad, const char *name);

/* How many questions libopendkim asked through the hooks (for tests). */
size_t dkim_adapter_hook_queries(const struct dkim_adapter *ad);

/*
 * The hooks. query_start: srv is the adapter; type must be TXT (16); the
 * reply is later written to buf as a DNS message. waitreply blocks on our
 * engine (its own timeouts and the session deadline; the timeout argument
 * is not used) and returns DKIM_DNS_SUCCESS with a reply whose RCODE is
 * NOERROR (answer or no data) or NXDOMAIN, DKIM_DNS_EXPIRED for a timeout,
 * DKIM_DNS_ERROR for SERVFAIL, REFUSED, malformed replies, network errors
 * or a reply too large for buf. cancel frees the query handle.
 */
int dkim_adapter_query_start(void *srv, int type, unsigned char *query, unsigned char *buf,
    size_t buflen, void **qh);
int dkim_adapter_query_cancel(void *srv, void *qh);
int dkim_adapter_query_waitreply(void *srv, void *qh, struct timeval *timeout, size_t *bytes,
    int *error, int *dnssec);

#endif
