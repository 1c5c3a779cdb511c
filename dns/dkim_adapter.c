/* libopendkim's DNS hooks on our engine: key queries joined to the ones already in flight, replies rebuilt as DNS messages with ldns. */
#include <ldns/ldns.h>
#include <opendkim/dkim.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/dkim_adapter.h"
#include "core/net.h"
#include "core/util.h"

struct pending {
	char *name;			/* lower case, no final dot */
	struct dns_query *q;
};

struct dkim_adapter {
	struct dns *dns;
	struct pending *p;
	size_t np;
	size_t hook_queries;
};

/* One libopendkim query handle. */
struct hook_query {
	struct dkim_adapter *ad;
	size_t slot;
	unsigned char *buf;
	size_t buflen;
};

struct dkim_adapter *
dkim_adapter_new(struct dns *dns)
{
	struct dkim_adapter *ad = xcalloc(1, sizeof(*ad));

	ad->dns = dns;
	return ad;
}

void
dkim_adapter_free(struct dkim_adapter *ad)
{
	size_t i;

	if (ad == NULL)
		return;
	for (i = 0; i < ad->np; i++) {
		free(ad->p[i].name);
		dns_query_free(ad->p[i].q);
	}
	free(ad->p);
	free(ad);
}

/* The slot of name, submitting it first when new. */
static size_t
slot_of(struct dkim_adapter *ad, const char *name)
{
	char *c = net_name_canonical(name);
	size_t i;

	for (i = 0; i < ad->np; i++) {
		if (strcmp(ad->p[i].name, c) == 0) {
			free(c);
			return i;
		}
	}
	ad->p = xrealloc(ad->p, (ad->np + 1) * sizeof(*ad->p));
	ad->p[ad->np].name = c;
	ad->p[ad->np].q = dns_query_submit(ad->dns, c, DNS_T_TXT);
	return ad->np++;
}

void
dkim_adapter_submit(struct dkim_adapter *ad, const char *name)
{
	(void)slot_of(ad, name);
}

struct dns_result *
dkim_adapter_result(struct dkim_adapter *ad, const char *name)
{
	return dns_query_wait(ad->dns, ad->p[slot_of(ad, name)].q);
}

size_t
dkim_adapter_hook_queries(const struct dkim_adapter *ad)
{
	return ad->hook_queries;
}

int
dkim_adapter_query_start(void *srv, int type, unsigned char *query, unsigned char *buf,
    size_t buflen, void **qh)
{
	struct dkim_adapter *ad = srv;
	struct hook_query *h;

	if (ad == NULL || type != DNS_T_TXT || query == NULL || buf == NULL || qh == NULL)
		return -1;
	h = xcalloc(1, sizeof(*h));
	h->ad = ad;
	h->slot = slot_of(ad, (const char *)query);
	h->buf = buf;
	h->buflen = buflen;
	ad->hook_queries++;
	*qh = h;
	return 0;
}

int
dkim_adapter_query_cancel(void *srv, void *qh)
{
	(void)srv;
	free(qh);
	return 0;
}

/* Appends one TXT record of res to pkt; -1 when ldns cannot build it. */
static int
push_txt(ldns_pkt *pkt, const char *owner, const struct dns_rr *rr)
{
	ldns_rdf *dname = ldns_dname_new_frm_str(owner);
	ldns_rr *lrr;
	size_t i, off = 0;

	if (dname == NULL)
		return -1;
	lrr = ldns_rr_new();
	ldns_rr_set_owner(lrr, dname);
	ldns_rr_set_type(lrr, LDNS_RR_TYPE_TXT);
	ldns_rr_set_class(lrr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(lrr, rr->ttl);
	for (i = 0; i < rr->u.txt.nstrings; i++) {
		size_t n = rr->u.txt.lens[i];
		uint8_t str[256];

		if (n > 255 || off + n > rr->u.txt.len) {
			ldns_rr_free(lrr);
			return -1;
		}
		str[0] = (uint8_t)n;
		memcpy(str + 1, rr->u.txt.data + off, n);
		off += n;
		ldns_rr_push_rdf(lrr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, n + 1, str));
	}
	ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, lrr);
	return 0;
}

/* Writes res as a DNS reply message into buf; the length, or -1 when it cannot or does not fit. */
static long
build_reply(const struct dns_result *res, const char *qname, unsigned char *buf, size_t buflen)
{
	ldns_pkt *pkt = ldns_pkt_new();
	ldns_rdf *dname = ldns_dname_new_frm_str(qname);
	ldns_rr *q;
	uint8_t *wire = NULL;
	size_t wlen = 0, i;
	long ret = -1;

	if (dname == NULL)
		goto out;
	ldns_pkt_set_qr(pkt, true);
	ldns_pkt_set_rd(pkt, true);
	ldns_pkt_set_ra(pkt, true);
	ldns_pkt_set_rcode(pkt, res->status == DNS_NXDOMAIN ? LDNS_RCODE_NXDOMAIN :
	    LDNS_RCODE_NOERROR);
	q = ldns_rr_new();
	ldns_rr_set_owner(q, dname);
	ldns_rr_set_type(q, LDNS_RR_TYPE_TXT);
	ldns_rr_set_class(q, LDNS_RR_CLASS_IN);
	ldns_rr_set_question(q, true);
	ldns_pkt_push_rr(pkt, LDNS_SECTION_QUESTION, q);
	/* the engine followed any CNAME; libopendkim needs only the TXT records */
	for (i = 0; res->status == DNS_ANSWER && i < res->nrr; i++)
		if (res->rr[i].type == DNS_T_TXT && push_txt(pkt, qname, &res->rr[i]) < 0)
			goto out;
	if (ldns_pkt2wire(&wire, pkt, &wlen) != LDNS_STATUS_OK || wlen > buflen)
		goto out;
	memcpy(buf, wire, wlen);
	ret = (long)wlen;
out:
	free(wire);
	ldns_pkt_free(pkt);
	return ret;
}

int
dkim_adapter_query_waitreply(void *srv, void *qh, struct timeval *timeout, size_t *bytes,
    int *error, int *dnssec)
{
	struct hook_query *h = qh;
	struct dns_result *res;
	long n;
	int ret;

	(void)srv;
	(void)timeout;
	if (dnssec != NULL)
		*dnssec = DKIM_DNSSEC_UNKNOWN;
	if (error != NULL)
		*error = 0;
	if (h == NULL)
		return DKIM_DNS_INVALID;
	res = dns_query_wait(h->ad->dns, h->ad->p[h->slot].q);
	if (res->status == DNS_TIMEOUT) {
		ret = DKIM_DNS_EXPIRED;
	} else if (dns_status_is_failure(res->status)) {
		if (error != NULL)
			*error = res->rcode > 0 ? res->rcode : -1;
		ret = DKIM_DNS_ERROR;
	} else if ((n = build_reply(res, h->ad->p[h->slot].name, h->buf, h->buflen)) < 0) {
		ret = DKIM_DNS_ERROR;
	} else {
		if (bytes != NULL)
			*bytes = (size_t)n;
		ret = DKIM_DNS_SUCCESS;
	}
	dns_result_free(res);
	return ret;
}
