/* libspf2 on our DNS engine: a custom SPF_dns_server_t whose lookups are dns_lookup() calls, and the receiver view built with it. */
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>

#include "dns/spf_adapter.h"
#include "core/util.h"

/* What the adapter layer carries in its hook. */
struct adapter {
	struct dns *dns;
	int lookups;
};

static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;

static void
quiet_handler(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	(void)msg;
}

/* libspf2 prints warnings to stderr by default; checks never print. */
static void
quiet(void)
{
	SPF_warning_handler = quiet_handler;
	SPF_info_handler = quiet_handler;
	SPF_debug_handler = quiet_handler;
}

static void
adapter_destroy(SPF_dns_server_t *srv)
{
	if (srv == NULL)
		return;
	free(srv->hook);
	free(srv);
}

static SPF_dns_stat_t
herrno_of(enum dns_status st)
{
	switch (st) {
	case DNS_ANSWER:
		return NETDB_SUCCESS;
	case DNS_NXDOMAIN:
		return HOST_NOT_FOUND;
	case DNS_NODATA:
		return NO_DATA;
	default:
		return TRY_AGAIN;
	}
}

/* Copies len bytes of s as a C string into slot i (libspf2 strings end at NUL). */
static int
put_string(SPF_dns_rr_t *rr, int i, const char *s, size_t len)
{
	const char *nul = memchr(s, '\0', len);

	if (nul != NULL)
		len = (size_t)(nul - s);
	if (SPF_dns_rr_buf_realloc(rr, i, len + 1) != SPF_E_SUCCESS)
		return -1;
	memcpy(rr->rr[i]->txt, s, len);
	rr->rr[i]->txt[len] = '\0';
	return 0;
}

static SPF_dns_rr_t *
adapter_lookup(SPF_dns_server_t *srv, const char *domain, ns_type type, int should_cache)
{
	struct adapter *ad = srv->hook;
	struct dns_result *res;
	SPF_dns_rr_t *rr;
	size_t i;
	int n = 0;

	(void)should_cache;
	ad->lookups++;
	res = dns_lookup(ad->dns, domain, (uint16_t)type);
	rr = SPF_dns_rr_new_init(srv, domain, type, (int)res->ttl, herrno_of(res->status));
	if (rr == NULL)
		goto out;
	for (i = 0; res->status == DNS_ANSWER && i < res->nrr; i++) {
		const struct dns_rr *r = &res->rr[i];
		int ok = -1;

		if (r->type != (uint16_t)type)
			continue;
		switch (r->type) {
		case DNS_T_A:
			if (SPF_dns_rr_buf_realloc(rr, n, sizeof(struct in_addr)) == SPF_E_SUCCESS) {
				memcpy(&rr->rr[n]->a, r->u.a.addr, 4);
				ok = 0;
			}
			break;
		case DNS_T_AAAA:
			if (SPF_dns_rr_buf_realloc(rr, n, sizeof(struct in6_addr)) == SPF_E_SUCCESS) {
				memcpy(&rr->rr[n]->aaaa, r->u.aaaa.addr, 16);
				ok = 0;
			}
			break;
		case DNS_T_PTR:
			ok = put_string(rr, n, r->u.name.target, strlen(r->u.name.target));
			break;
		case DNS_T_MX:
			ok = put_string(rr, n, r->u.mx.host, strlen(r->u.mx.host));
			break;
		case DNS_T_TXT:
		case DNS_T_SPF:
			/* the character-strings joined, as libspf2's own resolver does */
			ok = put_string(rr, n, r->u.txt.data, r->u.txt.len);
			break;
		default:
			break;
		}
		if (ok == 0)
			n++;
	}
	rr->num_rr = n;
out:
	dns_result_free(res);
	return rr;
}

static SPF_dns_server_t *
adapter_new(struct dns *dns)
{
	SPF_dns_server_t *srv = xcalloc(1, sizeof(*srv));
	struct adapter *ad = xcalloc(1, sizeof(*ad));

	ad->dns = dns;
	srv->destroy = adapter_destroy;
	srv->lookup = adapter_lookup;
	srv->name = "why550";
	srv->hook = ad;
	return srv;
}

static const char *
map_result(SPF_result_t r, SPF_errcode_t err)
{
	switch (r) {
	case SPF_RESULT_NEUTRAL: return "neutral";
	case SPF_RESULT_PASS: return "pass";
	case SPF_RESULT_FAIL: return "fail";
	case SPF_RESULT_SOFTFAIL: return "softfail";
	case SPF_RESULT_NONE: return "none";
	case SPF_RESULT_TEMPERROR: return "temperror";
	case SPF_RESULT_PERMERROR: return "permerror";
	case SPF_RESULT_INVALID:
		break;
	}
	/* libspf2's "invalid": what a receiver running it ends up doing */
	if (err == SPF_E_DNS_ERROR)
		return "temperror";
	if (err == SPF_E_NOT_SPF)
		return "none";
	return "permerror";
}

static char *
dup_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? xstrdup(s) : NULL;
}

void
spf_receiver_evaluate(struct dns *dns, const char *ip, const char *sender, const char *helo,
    const char *receiver, struct spf_receiver_view *out)
{
	SPF_dns_server_t *srv;
	SPF_server_t *server = NULL;
	SPF_request_t *req = NULL;
	SPF_response_t *resp = NULL;
	SPF_errcode_t err;
	int i;

	memset(out, 0, sizeof(*out));
	out->result = "permerror";
	pthread_once(&quiet_once, quiet);
	srv = adapter_new(dns);
	if ((server = SPF_server_new_dns(srv, 0)) == NULL) {
		adapter_destroy(srv);
		out->error = xstrdup("libspf2: cannot create a server");
		return;
	}
	SPF_server_set_rec_dom(server, receiver != NULL ? receiver : "unknown");
	req = SPF_request_new(server);
	if (SPF_request_set_ipv4_str(req, ip) != SPF_E_SUCCESS &&
	    SPF_request_set_ipv6_str(req, ip) != SPF_E_SUCCESS) {
		out->error = xasprintf("libspf2: '%s' is not an IP address", ip);
		goto out;
	}
	if (helo != NULL && helo[0] != '\0')
		SPF_request_set_helo_dom(req, helo);
	if (SPF_request_set_env_from(req, sender) != 0) {
		out->raw = xstrdup("invalid");
		out->error = xasprintf("libspf2 rejects the sender '%s'", sender);
		out->result = "none";
		goto out;
	}
	err = SPF_request_query_mailfrom(req, &resp);
	if (resp == NULL) {
		out->error = xasprintf("libspf2: %s", SPF_strerror(err));
		goto out;
	}
	if (err == SPF_E_SUCCESS)
		err = SPF_response_errcode(resp);
	out->raw = xstrdup(SPF_strresult(SPF_response_result(resp)));
	out->result = map_result(SPF_response_result(resp), err);
	out->explanation = SPF_response_result(resp) == SPF_RESULT_FAIL ?
	    dup_or_null(SPF_response_get_explanation(resp)) : NULL;
	out->comment = dup_or_null(SPF_response_get_smtp_comment(resp));
	for (i = 0; i < SPF_response_messages(resp) && out->error == NULL; i++) {
		SPF_error_t *e = SPF_response_message(resp, i);

		if (SPF_error_errorp(e))
			out->error = dup_or_null(SPF_error_message(e));
	}
	if (out->error == NULL && err != SPF_E_SUCCESS)
		out->error = xstrdup(SPF_strerror(err));
out:
	out->lookups = ((struct adapter *)srv->hook)->lookups;
	SPF_response_free(resp);
	SPF_request_free(req);
	/* a server made with SPF_server_new_dns() leaves the layer to its creator */
	SPF_server_free(server);
	adapter_destroy(srv);
}

void
spf_receiver_view_release(struct spf_receiver_view *v)
{
	free(v->raw);
	free(v->error);
	free(v->explanation);
	free(v->comment);
	memset(v, 0, sizeof(*v));
}
