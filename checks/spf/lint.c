/* SPF record analysis: lint of the published record and of the evaluation, and the nearest miss of an unauthorised IP. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "checks/spf/lint.h"
#include "checks/spf/parse.h"
#include "core/textsafe.h"

#define MAX_LISTED	12	/* networks named in the sentence; the data has all */

void
spf_lint_record(struct report *rep, const char *domain, const char *const *strings,
    const size_t *lens, size_t nstrings)
{
	struct spf_record rec;
	struct spf_syntax syn;
	struct strbuf sb;
	size_t i, total = 0;
	bool ptr = false;

	strbuf_init(&sb);
	for (i = 0; i < nstrings; i++) {
		strbuf_add(&sb, strings[i], lens[i]);
		/* RFC 7208 3.3: one character-string holds at most 255 octets */
		if (lens[i] > 255)
			report_add(rep, "spf_string_too_long", SEV_WARN,
			    json_pack("{s:o,s:I,s:I}", "domain", json_str(domain),
			    "string", (json_int_t)i, "length", (json_int_t)lens[i]),
			    "string %zu of the SPF record of '%s' is %zu octets: a TXT string holds "
			    "at most 255, so split the record into several strings", i + 1, domain,
			    lens[i]);
		total += lens[i];
	}
	/* RFC 7208 3.4: keep the answer within 512 octets */
	if (total > 512)
		report_add(rep, "spf_record_too_long", SEV_WARN,
		    json_pack("{s:o,s:I}", "domain", json_str(domain), "length", (json_int_t)total),
		    "the SPF record of '%s' is %zu octets, over 512: some receivers cannot fetch "
		    "it over UDP; move parts into include: records", domain, total);
	if (spf_record_parse(&rec, sb.buf != NULL ? sb.buf : "", sb.len, &syn) < 0) {
		report_add(rep, "spf_syntax_error", SEV_FAIL,
		    json_pack("{s:o,s:o,s:I,s:s}", "domain", json_str(domain),
		    "record", json_text(sb.buf != NULL ? sb.buf : "", sb.len),
		    "position", (json_int_t)syn.pos, "error", syn.msg),
		    "the SPF record of '%s' has a syntax error at offset %zu: %s; every receiver "
		    "then treats SPF as permerror", domain, syn.pos, syn.msg);
		strbuf_release(&sb);
		return;
	}
	for (i = 0; i < rec.nterms; i++) {
		const struct spf_term *t = &rec.terms[i];

		if (t->kind == SPF_K_ALL && t->qual == '+')
			report_add(rep, "spf_all_pass", SEV_WARN,
			    json_pack("{s:o,s:o}", "domain", json_str(domain), "term",
			    json_str(t->text)),
			    "the SPF record of '%s' ends in '%s', which authorises every IP on the "
			    "internet; receivers score that as no SPF at all", domain, t->text);
		else if (t->kind == SPF_K_ALL && t->qual == '?')
			report_add(rep, "spf_all_neutral", SEV_WARN,
			    json_pack("{s:o,s:o}", "domain", json_str(domain), "term",
			    json_str(t->text)),
			    "the SPF record of '%s' ends in '?all', which says nothing about other "
			    "IPs; use '~all' or '-all'", domain);
		if (t->kind == SPF_K_PTR)
			ptr = true;
	}
	if (ptr)
		report_add(rep, "spf_ptr_used", SEV_WARN,
		    json_pack("{s:o}", "domain", json_str(domain)),
		    "the SPF record of '%s' uses 'ptr', which RFC 7208 5.5 says not to use: it is "
		    "slow and some receivers ignore it; list the IPs with ip4:/ip6: instead",
		    domain);
	if (rec.redirect >= 0 && rec.has_all)
		report_add(rep, "spf_redirect_with_all", SEV_WARN,
		    json_pack("{s:o,s:o}", "domain", json_str(domain), "redirect",
		    json_str(rec.terms[rec.redirect].text)),
		    "the SPF record of '%s' has both 'all' and '%s': the redirect is never "
		    "used (RFC 7208 6.1)", domain, rec.terms[rec.redirect].text);
	spf_record_release(&rec);
	strbuf_release(&sb);
}

static void
nodata_includes(struct report *rep, const struct spf_node *n)
{
	size_t i;

	for (i = 0; i < n->nkids; i++) {
		const struct spf_node *k = n->kids[i];

		if (k->result == SPF_R_NONE && k->via != NULL)
			report_add(rep, "spf_include_no_record", SEV_FAIL,
			    json_pack("{s:o,s:o,s:o,s:o}", "domain", json_str(n->domain),
			    "term", json_str(k->via), "target", json_str(k->domain),
			    "reason", json_str(k->reason)),
			    "'%s' in the SPF record of '%s' names '%s', which has no SPF record (%s): "
			    "that is permerror", k->via, n->domain, k->domain,
			    k->reason != NULL ? k->reason : "none");
		nodata_includes(rep, k);
	}
}

void
spf_lint_outcome(struct report *rep, const struct spf_outcome *out, int max_lookups,
    int warn_at)
{
	if (out->nrecords > 1)
		report_add(rep, "spf_multiple_records", SEV_FAIL,
		    json_pack("{s:o,s:I}", "domain", json_str(out->domain), "count",
		    (json_int_t)out->nrecords),
		    "'%s' publishes %zu SPF records; RFC 7208 4.5 makes that permerror: merge "
		    "them into one", out->domain, out->nrecords);
	if (out->lookups > max_lookups)
		report_add(rep, "spf_lookups_over_limit", SEV_FAIL,
		    json_pack("{s:o,s:i,s:i}", "domain", json_str(out->domain), "lookups",
		    out->lookups, "limit", max_lookups),
		    "the SPF evaluation of '%s' needs more than %d DNS-querying terms "
		    "(include, a, mx, ptr, exists, redirect): that is permerror; flatten "
		    "includes into ip4:/ip6: networks", out->domain, max_lookups);
	else if (out->lookups >= warn_at)
		report_add(rep, "spf_lookups_near_limit", SEV_WARN,
		    json_pack("{s:o,s:i,s:i}", "domain", json_str(out->domain), "lookups",
		    out->lookups, "limit", max_lookups),
		    "the SPF evaluation of '%s' used %d of the %d DNS-querying terms allowed; one "
		    "more include at a provider makes it permerror", out->domain, out->lookups,
		    max_lookups);
	if (out->tree != NULL)
		nodata_includes(rep, out->tree);
}

static int
shared_bits(const unsigned char *a, const unsigned char *b, int nbits)
{
	int i;

	for (i = 0; i < nbits; i++) {
		int byte = i / 8, bit = 7 - i % 8;

		if (((a[byte] >> bit) & 1) != ((b[byte] >> bit) & 1))
			break;
	}
	return i;
}

static char *
net_text(const struct spf_net *n)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(n->family, n->addr, buf, sizeof(buf));
	return xasprintf("%s/%d", buf, n->prefix);
}

/* "include:x → ip4:192.0.2.0/25" or "a:mail.example (192.0.2.5/32)". */
static char *
net_label(const struct spf_net *n)
{
	char *net = net_text(n), *s;
	bool literal = strncasecmp(n->term, "ip4:", 4) == 0 || strncasecmp(n->term, "+ip4:", 5) == 0 ||
	    strncasecmp(n->term, "ip6:", 4) == 0 || strncasecmp(n->term, "+ip6:", 5) == 0;

	if (literal)
		s = xasprintf("%s%s%s", n->path, n->path[0] != '\0' ? " \u2192 " : "", n->term);
	else
		s = xasprintf("%s%s%s (%s)", n->path, n->path[0] != '\0' ? " \u2192 " : "",
		    n->term, net);
	free(net);
	return s;
}

char *
spf_explain_miss(const struct spf_outcome *out, int family, const unsigned char *addr,
    json_t **data)
{
	char ip[INET6_ADDRSTRLEN];
	json_t *nets = json_array();
	struct strbuf sb;
	const struct spf_net *best = NULL;
	int best_bits = -1;
	size_t i, listed = 0;

	inet_ntop(family, addr, ip, sizeof(ip));
	strbuf_init(&sb);
	for (i = 0; i < out->nnets; i++) {
		const struct spf_net *n = &out->nets[i];
		char *net = net_text(n);

		json_array_append_new(nets, json_pack("{s:o,s:o,s:o}", "term", json_str(n->term),
		    "path", json_str(n->path), "network", json_str(net)));
		free(net);
		if (n->family == family) {
			int bits = shared_bits(addr, n->addr, family == AF_INET ? 32 : 128);

			if (bits > best_bits) {
				best_bits = bits;
				best = n;
			}
		}
	}
	if (out->nnets == 0) {
		strbuf_addf(&sb, "%s is not authorised: the SPF record of '%s' authorises no "
		    "network at all%s", ip, out->domain,
		    out->matched != NULL ? "" : " (no mechanism gives a pass)");
	} else {
		strbuf_addf(&sb, "%s is in none of the networks '%s' authorises: ", ip, out->domain);
		for (i = 0; i < out->nnets && listed < MAX_LISTED; i++, listed++) {
			char *label = net_label(&out->nets[i]);

			strbuf_addf(&sb, "%s%s", i > 0 ? ", " : "", label);
			free(label);
		}
		if (out->nnets > listed)
			strbuf_addf(&sb, " and %zu more", out->nnets - listed);
	}
	if (best != NULL) {
		char *label = net_label(best);

		strbuf_addf(&sb, "; nearest: %s, which shares %d leading bits with %s", label,
		    best_bits, ip);
		free(label);
	}
	if (out->matched != NULL)
		strbuf_addf(&sb, "; the term that decided: '%s'", out->matched);
	*data = json_pack("{s:s,s:o,s:o}", "ip", ip, "networks", nets, "nearest",
	    best != NULL ? json_pack("{s:o,s:o,s:i}", "term", json_str(best->term), "path",
	    json_str(best->path), "shared_bits", best_bits) : json_null());
	return strbuf_detach(&sb, NULL);
}
