/* Check dmarc: the From domain's DMARC policy (RFC 7489), its alignment with the SPF and DKIM results, and what a receiver does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/check.h"
#include "checks/dmarc/record.h"
#include "checks/dmarc/org.h"
#include "checks/dmarc/from.h"
#include "core/psl.h"
#include "core/textsafe.h"
#include "core/net.h"

struct dmarc_conf {
	struct psl_service *psl;	/* from [psl]: shared setting with sender_domain and dbl */
	bool report_auth;
};

/* The state of one run, passed between the steps. */
struct run {
	const struct dmarc_conf *c;
	const struct target *t;
	struct dns *dns;
	struct report *rep;
	json_t *data;			/* report_data(rep), borrowed */
	json_t *errors;			/* data "errors", borrowed */
	const char *domain;		/* the author (From) domain */
	char *org;			/* its organisational domain */
	const char *policy_domain;	/* where the record was found */
};

static const char *const dmarc_keys[] = {
	"check_report_authorization", NULL,
};

static const char *const dmarc_after[] = { "spf", "dkim", NULL };

static void
dmarc_free(void *ctx)
{
	struct dmarc_conf *c = ctx;

	if (c == NULL)
		return;
	psl_service_free(c->psl);
	free(c);
}

static int
dmarc_configure(void **ctx, const struct conf *conf, struct error *err)
{
	struct dmarc_conf *c = xcalloc(1, sizeof(*c));
	const struct conf_section *sec = NULL;

	c->report_auth = true;
	while ((sec = conf_next(conf, sec, "dmarc")) != NULL) {
		if (sec->label != NULL) {
			conf_error(sec, NULL, err, "[dmarc] takes no label");
			goto fail;
		}
		/* the list is every check's now: say where the old key went */
		if (conf_section_get(sec, "psl_file") != NULL) {
			conf_error(sec, NULL, err, "'psl_file' moved to the [psl] section as 'file'");
			goto fail;
		}
		if (conf_section_check_keys(sec, dmarc_keys, err) < 0 ||
		    conf_section_get_bool(sec, "check_report_authorization", &c->report_auth,
		    err) < 0)
			goto fail;
	}
	if ((c->psl = psl_service_new(conf, err)) == NULL)
		goto fail;
	*ctx = c;
	return 0;
fail:
	dmarc_free(c);
	return -1;
}

static void
set(struct run *r, const char *key, json_t *v)
{
	json_object_set_new(r->data, key, v);
}

static json_t *
policy_json(enum dmarc_policy p)
{
	return p == DMARC_POLICY_ABSENT || p == DMARC_POLICY_INVALID ? json_null() :
	    json_string(dmarc_policy_name(p));
}

static void
add_error(struct run *r, const char *tag, const char *message)
{
	json_array_append_new(r->errors, json_pack("{s:s,s:o}", "tag", tag,
	    "message", json_str(message)));
}

/* The fields every outcome carries, null until known, so the shape is stable. */
static void
init_data(struct run *r)
{
	static const char *const nulls[] = {
		"domain", "domain_source", "from", "org_domain", "policy_domain", "record",
		"discovery", "p", "sp", "pct", "adkim", "aspf", "fo", "effective_p",
		"effective_sp", "applied_policy", "spf_result", "spf_domain",
		"spf_aligned", "dkim_aligned",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(nulls); i++)
		set(r, nulls[i], json_null());
	set(r, "rua", json_array());
	set(r, "ruf", json_array());
	set(r, "result", json_string("none"));
	set(r, "disposition", json_string("none"));
	r->errors = json_array();
	set(r, "errors", r->errors);
}

/*
 * Finds the author domain: the RFC5322.From of --message, else the envelope
 * sender's domain. -1 when there is none to check (skipped or a finding made).
 */
static int
author_domain(struct run *r, char **own)
{
	const struct target *t = r->t;
	char *value = NULL, *addr = NULL, *domain = NULL, why[256], nwhy[128];
	enum dmarc_from_error code;
	int ret = -1;

	*own = NULL;
	if (t->message != NULL) {
		set(r, "domain_source", json_string("header_from"));
		if (dmarc_from_parse(t->message, t->message_len, &value, &addr, &domain, &code,
		    why, sizeof(why)) < 0) {
			const char *fcode = code == DMARC_FROM_MISSING ? "from_missing" :
			    code == DMARC_FROM_SYNTAX ? "from_invalid" : "from_multiple";

			set(r, "result", json_string("permerror"));
			report_add(r->rep, fcode, SEV_FAIL,
			    json_pack("{s:o,s:o,s:s}", "message_file", json_str(t->message_path),
			    "from", json_str(value), "reason", why),
			    "DMARC cannot be evaluated: %s (RFC 5322 3.6, RFC 7489 6.6.1)", why);
			goto out;
		}
		set(r, "from", json_str(addr));
	} else if (t->mail_domain != NULL) {
		set(r, "domain_source", json_string("mail_from"));
		domain = xstrdup_lower(t->mail_domain);
		if (domain[0] != '\0' && domain[strlen(domain) - 1] == '.')
			domain[strlen(domain) - 1] = '\0';
	} else {
		report_skip(r->rep, "no --message and the null sender has no domain");
		goto out;
	}
	set(r, "domain", json_str(domain));
	if (net_name_check(domain, false, nwhy, sizeof(nwhy)) < 0 || strchr(domain, '.') == NULL) {
		set(r, "result", json_string("permerror"));
		report_add(r->rep, "from_domain_invalid", SEV_FAIL,
		    json_pack("{s:o,s:s}", "domain", json_str(domain),
		    "reason", strchr(domain, '.') == NULL ? "not a domain name" : nwhy),
		    "the From domain '%s' is not a valid domain name", domain);
		goto out;
	}
	*own = domain;
	domain = NULL;
	ret = 0;
out:
	free(value);
	free(addr);
	free(domain);
	return ret;
}

/*
 * RFC 7489 6.6.3 step 2: the records of an answer that start with
 * v=DMARC1. Returns their count and the first in *idx; TXT records with a
 * misplaced version tag become errors.
 */
static size_t
dmarc_records(struct run *r, const struct dns_result *res, size_t *idx)
{
	size_t i, n = 0;
	char msg[300];

	for (i = 0; i < res->nrr; i++) {
		const struct dns_rr *rr = &res->rr[i];

		if (rr->type != DNS_T_TXT)
			continue;
		if (dmarc_record_is_dmarc(rr->u.txt.data, rr->u.txt.len)) {
			if (n++ == 0)
				*idx = i;
		} else if (dmarc_record_version_misplaced(rr->u.txt.data, rr->u.txt.len)) {
			snprintf(msg, sizeof(msg), "a TXT record at '%s' holds v=DMARC1 but not as "
			    "its first tag, so receivers ignore it (RFC 7489 6.3)", res->qname);
			add_error(r, "v", msg);
		}
	}
	return n;
}

static void
lookup_failed(struct run *r, const struct dns_result *res)
{
	char msg[300];

	snprintf(msg, sizeof(msg), "the lookup of '%s' failed (%s)", res->qname,
	    dns_status_name(res->status));
	add_error(r, "dns", msg);
	set(r, "discovery", json_string("temperror"));
	set(r, "result", json_string("temperror"));
	report_add(r->rep, "lookup_failed", SEV_ERROR,
	    json_pack("{s:o,s:o,s:s,s:b}", "domain", json_str(r->domain),
	    "name", json_str(res->qname), "status", dns_status_name(res->status),
	    "deadline", res->deadline),
	    "the DMARC record of '%s' could not be read: the lookup of '%s' failed (%s)",
	    r->domain, res->qname, dns_status_name(res->status));
}

static void
records_multiple(struct run *r, const struct dns_result *res, size_t n)
{
	json_t *recs = json_array();
	char msg[300];
	size_t i;

	for (i = 0; i < res->nrr; i++)
		if (res->rr[i].type == DNS_T_TXT &&
		    dmarc_record_is_dmarc(res->rr[i].u.txt.data, res->rr[i].u.txt.len))
			json_array_append_new(recs, json_text(res->rr[i].u.txt.data,
			    res->rr[i].u.txt.len));
	snprintf(msg, sizeof(msg), "'%s' has %zu DMARC records; receivers apply none of them "
	    "(RFC 7489 6.6.3)", res->qname, n);
	add_error(r, "record", msg);
	set(r, "discovery", json_string("none"));
	set(r, "policy_domain", json_str(r->policy_domain));
	report_add(r->rep, "record_multiple", SEV_WARN,
	    json_pack("{s:o,s:o,s:o,s:I}", "domain", json_str(r->domain),
	    "name", json_str(res->qname), "records", recs, "count", (json_int_t)n),
	    "'%s' publishes %zu DMARC records, so receivers apply no DMARC policy at all",
	    res->qname, n);
}

static void
records_missing(struct run *r)
{
	bool org = strcmp(r->org, r->domain) != 0;

	set(r, "discovery", json_string("none"));
	report_add(r->rep, "record_missing", SEV_WARN,
	    json_pack("{s:o,s:o,s:O}", "domain", json_str(r->domain),
	    "org_domain", json_str(r->org), "errors", r->errors),
	    org ? "neither '%s' nor its organisational domain '%s' publishes a DMARC record; "
	    "large receivers require one from bulk senders" :
	    "'%s' publishes no DMARC record%s; large receivers require one from bulk senders",
	    r->domain, org ? r->org : "");
}

static json_t *
uri_list(const struct dmarc_uri *u, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_str(u[i].uri));
	return a;
}

/*
 * RFC 7489 7.1: a report address outside the policy domain's organisational
 * domain must be authorised by a v=DMARC1 TXT record at
 * <policy domain>._report._dmarc.<destination>. All asked at once.
 */
static void
report_destinations(struct run *r, const struct dmarc_record *rec)
{
	const struct dmarc_uri *uris[64];
	const char *tags[64], *names[64];
	uint16_t types[64];
	struct dns_result *res[64];
	char *owned[64], *porg = psl_service_org_domain(r->c->psl, r->policy_domain);
	json_t *list = json_array();
	size_t n = 0, nq = 0, i, j;
	size_t qidx[64];

	for (i = 0; i < rec->nrua + rec->nruf && n < ARRAY_SIZE(uris); i++) {
		const struct dmarc_uri *u = i < rec->nrua ? &rec->rua[i] : &rec->ruf[i - rec->nrua];

		if (u->mailto_domain == NULL)
			continue;
		tags[n] = i < rec->nrua ? "rua" : "ruf";
		uris[n++] = u;
	}
	for (i = 0; i < n; i++) {
		char *dorg = psl_service_org_domain(r->c->psl, uris[i]->mailto_domain);

		qidx[i] = SIZE_MAX;
		if (strcmp(dorg, porg) != 0 && r->c->report_auth) {
			owned[nq] = xasprintf("%s._report._dmarc.%s", r->policy_domain,
			    uris[i]->mailto_domain);
			names[nq] = owned[nq];
			types[nq] = DNS_T_TXT;
			qidx[i] = nq++;
		}
		free(dorg);
	}
	dns_lookup_many(r->dns, names, types, nq, res);
	for (i = 0; i < n; i++) {
		json_t *o = json_pack("{s:s,s:o,s:o,s:b}", "tag", tags[i],
		    "uri", json_str(uris[i]->uri), "domain", json_str(uris[i]->mailto_domain),
		    "external", qidx[i] != SIZE_MAX);
		const struct dns_result *q;
		bool ok = false;

		json_array_append_new(list, o);
		if (qidx[i] == SIZE_MAX)
			continue;
		q = res[qidx[i]];
		json_object_set_new(o, "query", json_str(q->qname));
		json_object_set_new(o, "lookup", json_string(dns_status_name(q->status)));
		if (dns_status_is_failure(q->status)) {
			json_object_set_new(o, "authorized", json_null());
			report_add(r->rep, "report_destination_unverified", SEV_INFO,
			    json_pack("{s:o,s:o,s:s}", "uri", json_str(uris[i]->uri),
			    "name", json_str(q->qname), "status", dns_status_name(q->status)),
			    "could not check whether '%s' accepts DMARC reports for '%s': "
			    "the lookup of '%s' failed (%s)", uris[i]->mailto_domain,
			    r->policy_domain, q->qname, dns_status_name(q->status));
			continue;
		}
		for (j = 0; j < q->nrr; j++)
			if (q->rr[j].type == DNS_T_TXT &&
			    dmarc_record_is_dmarc(q->rr[j].u.txt.data, q->rr[j].u.txt.len))
				ok = true;
		json_object_set_new(o, "authorized", json_boolean(ok));
		if (!ok)
			report_add(r->rep, "report_destination_unauthorized", SEV_INFO,
			    json_pack("{s:s,s:o,s:o,s:o,s:s}", "tag", tags[i],
			    "uri", json_str(uris[i]->uri),
			    "domain", json_str(uris[i]->mailto_domain),
			    "name", json_str(q->qname), "status", dns_status_name(q->status)),
			    "%s= sends reports to '%s' outside '%s', but '%s' has no v=DMARC1 "
			    "record authorising it, so receivers drop those reports (RFC 7489 7.1)",
			    tags[i], uris[i]->mailto_domain, r->policy_domain, q->qname);
	}
	set(r, "report_destinations", list);
	for (i = 0; i < nq; i++) {
		dns_result_free(res[i]);
		free(owned[i]);
	}
	free(porg);
}

/* Alignment state of one mechanism: unknown (no result to judge), false, true. */
enum tri {
	TRI_UNKNOWN = -1,
	TRI_NO = 0,
	TRI_YES = 1,
};

static json_t *
tri_json(enum tri v)
{
	return v == TRI_UNKNOWN ? json_null() : json_boolean(v == TRI_YES);
}

struct align {
	enum tri spf, dkim;
	bool temp;		/* an aligned mechanism had a temporary error */
	const char *spf_result, *spf_domain;
	size_t nsigs;
	char why_spf[300], why_dkim[300];
};

static void
align_spf(struct run *r, const struct dmarc_record *rec, struct align *al)
{
	const struct report *peer = report_peer(r->rep, "spf");
	const json_t *pd = peer != NULL ? report_data_const(peer) : NULL;
	bool same;

	al->spf = TRI_UNKNOWN;
	al->spf_result = json_string_value(json_object_get(pd, "result"));
	al->spf_domain = json_string_value(json_object_get(pd, "domain"));
	set(r, "spf_result", json_str(al->spf_result));
	set(r, "spf_domain", json_str(al->spf_domain));
	if (al->spf_result == NULL) {
		snprintf(al->why_spf, sizeof(al->why_spf), "no SPF result is available");
		return;
	}
	same = al->spf_domain != NULL &&
	    dmarc_aligned(r->c->psl, al->spf_domain, r->domain, rec->aspf_strict);
	al->spf = strcmp(al->spf_result, "pass") == 0 && same ? TRI_YES : TRI_NO;
	if (strcmp(al->spf_result, "temperror") == 0 && same)
		al->temp = true;
	if (strcmp(al->spf_result, "pass") != 0)
		snprintf(al->why_spf, sizeof(al->why_spf), "SPF is '%s' for '%s'",
		    al->spf_result, al->spf_domain != NULL ? al->spf_domain : "?");
	else if (!same)
		snprintf(al->why_spf, sizeof(al->why_spf), "SPF passes for '%s', which is not "
		    "aligned with '%s' (aspf=%s)", al->spf_domain != NULL ? al->spf_domain : "?",
		    r->domain, rec->aspf_strict ? "s" : "r");
	else
		snprintf(al->why_spf, sizeof(al->why_spf), "SPF passes for '%s' (aligned)",
		    al->spf_domain);
}

static void
align_dkim(struct run *r, const struct dmarc_record *rec, struct align *al)
{
	const struct report *peer = report_peer(r->rep, "dkim");
	const json_t *sigs = json_object_get(peer != NULL ? report_data_const(peer) : NULL,
	    "signatures");
	json_t *list = json_array();
	const char *first_d = NULL, *first_res = NULL;
	size_t i;

	al->dkim = TRI_UNKNOWN;
	if (r->t->message == NULL) {
		snprintf(al->why_dkim, sizeof(al->why_dkim),
		    "no message was given, so no DKIM signature was checked");
		goto out;
	}
	if (!json_is_array(sigs)) {
		snprintf(al->why_dkim, sizeof(al->why_dkim), "no DKIM result is available");
		goto out;
	}
	al->dkim = TRI_NO;
	al->nsigs = json_array_size(sigs);
	for (i = 0; i < json_array_size(sigs); i++) {
		const json_t *s = json_array_get(sigs, i);
		const char *d = json_string_value(json_object_get(s, "d"));
		const char *res = json_string_value(json_object_get(s, "result"));
		bool same = d != NULL && dmarc_aligned(r->c->psl, d, r->domain, rec->adkim_strict);
		bool pass = same && res != NULL && strcmp(res, "pass") == 0;

		if (pass)
			al->dkim = TRI_YES;
		if (same && res != NULL && strcmp(res, "temperror") == 0)
			al->temp = true;
		if (first_d == NULL && d != NULL) {
			first_d = d;
			first_res = res;
		}
		json_array_append_new(list, json_pack("{s:o,s:o,s:b,s:b}", "d", json_str(d),
		    "result", json_str(res), "aligned", same, "pass", pass));
	}
	if (al->dkim == TRI_YES)
		snprintf(al->why_dkim, sizeof(al->why_dkim), "an aligned DKIM signature passes");
	else if (al->nsigs == 0)
		snprintf(al->why_dkim, sizeof(al->why_dkim), "the message has no DKIM signature");
	else
		snprintf(al->why_dkim, sizeof(al->why_dkim), "no DKIM signature both passes and "
		    "is aligned with '%s' (adkim=%s; first d=%s is '%s')", r->domain,
		    rec->adkim_strict ? "s" : "r", first_d != NULL ? first_d : "?",
		    first_res != NULL ? first_res : "?");
out:
	set(r, "dkim_signatures", list);
}

static enum finding_severity
fail_severity(enum dmarc_policy applied)
{
	switch (applied) {
	case DMARC_POLICY_REJECT:
		return SEV_FAIL;
	case DMARC_POLICY_QUARANTINE:
		return SEV_WARN;
	default:
		return SEV_INFO;
	}
}

/* RFC 7489 6.6.4: messages outside pct get the next milder policy. */
static enum dmarc_policy
unsampled(enum dmarc_policy p)
{
	return p == DMARC_POLICY_REJECT ? DMARC_POLICY_QUARANTINE : DMARC_POLICY_NONE;
}

static void
evaluate(struct run *r, const struct dmarc_record *rec, enum dmarc_policy applied)
{
	struct align al;
	const char *result;
	json_t *d;

	memset(&al, 0, sizeof(al));
	align_spf(r, rec, &al);
	align_dkim(r, rec, &al);
	set(r, "spf_aligned", tri_json(al.spf));
	set(r, "dkim_aligned", tri_json(al.dkim));
	/* RFC 7489 4.2: DMARC passes when either mechanism passes aligned */
	if (al.spf == TRI_YES || al.dkim == TRI_YES)
		result = "pass";
	else if (al.temp)
		result = "temperror";
	/* one mechanism not evaluated (no --ip, no --message) may still pass: not a fail */
	else if (al.spf == TRI_UNKNOWN || al.dkim == TRI_UNKNOWN)
		result = "not_evaluated";
	else
		result = "fail";
	set(r, "result", json_string(result));
	/* what a receiver does depends on the mechanism not evaluated: unknown */
	if (strcmp(result, "not_evaluated") == 0)
		set(r, "disposition", json_null());
	if (strcmp(result, "fail") == 0) {
		set(r, "disposition", json_string(dmarc_policy_name(applied)));
		if (rec->pct < 100)
			set(r, "disposition_unsampled",
			    json_string(dmarc_policy_name(unsampled(applied))));
	}
	d = json_pack("{s:o,s:o,s:s,s:s,s:o,s:o,s:o,s:o,s:I,s:s,s:s}",
	    "domain", json_str(r->domain), "policy_domain", json_str(r->policy_domain),
	    "applied_policy", dmarc_policy_name(applied),
	    "disposition", strcmp(result, "fail") == 0 ? dmarc_policy_name(applied) : "none",
	    "spf_result", json_str(al.spf_result), "spf_domain", json_str(al.spf_domain),
	    "spf_aligned", tri_json(al.spf), "dkim_aligned", tri_json(al.dkim),
	    "pct", (json_int_t)rec->pct, "spf", al.why_spf, "dkim", al.why_dkim);

	if (strcmp(result, "pass") == 0) {
		report_add(r->rep, "dmarc_pass", SEV_INFO, d, "mail from '%s' passes DMARC: %s",
		    r->domain, al.spf == TRI_YES ? al.why_spf : al.why_dkim);
	} else if (strcmp(result, "temperror") == 0) {
		report_add(r->rep, "alignment_temperror", SEV_ERROR, d,
		    "DMARC for '%s' ends in a temporary error: %s; %s", r->domain,
		    al.why_spf, al.why_dkim);
	} else if (strcmp(result, "not_evaluated") == 0) {
		report_add(r->rep, "alignment_unknown", SEV_INFO, d,
		    "DMARC for '%s' is not evaluated: %s; %s. Unless one of them passes "
		    "aligned, receivers apply p=%s", r->domain, al.why_spf, al.why_dkim,
		    dmarc_policy_name(applied));
	} else {
		report_add(r->rep, "dmarc_fail", fail_severity(applied), d,
		    "mail from '%s' fails DMARC: %s; %s. Its policy (%s at '%s'%s) asks "
		    "receivers to %s it", r->domain, al.why_spf, al.why_dkim,
		    dmarc_policy_name(applied), r->policy_domain,
		    rec->pct < 100 ? ", for a part of the mail (pct)" : "",
		    applied == DMARC_POLICY_REJECT ? "reject" :
		    applied == DMARC_POLICY_QUARANTINE ? "quarantine" : "deliver");
	}
}

/* The record found at r->policy_domain: parse, report, evaluate. */
static void
use_record(struct run *r, const struct dns_rr *rr)
{
	struct dmarc_record rec;
	enum dmarc_policy ep, esp, applied;
	json_t *recjson = json_text(rr->u.txt.data, rr->u.txt.len);
	json_t *unknown = json_array();
	bool subdomain = strcmp(r->domain, r->policy_domain) != 0;
	size_t i;

	if (dmarc_record_parse(&rec, rr->u.txt.data, rr->u.txt.len) < 0) {
		json_decref(recjson);
		json_decref(unknown);
		return;		/* not reached: the caller picked a v=DMARC1 record */
	}
	set(r, "record", json_incref(recjson));
	set(r, "policy_domain", json_str(r->policy_domain));
	set(r, "p", policy_json(rec.p));
	set(r, "sp", policy_json(rec.sp == DMARC_POLICY_ABSENT ? rec.p : rec.sp));
	set(r, "pct", json_integer(rec.pct));
	set(r, "adkim", json_string(rec.adkim_strict ? "s" : "r"));
	set(r, "aspf", json_string(rec.aspf_strict ? "s" : "r"));
	set(r, "fo", json_str(rec.fo));
	set(r, "rf", json_str(rec.rf));
	set(r, "ri", json_integer(rec.ri));
	set(r, "rua", uri_list(rec.rua, rec.nrua));
	set(r, "ruf", uri_list(rec.ruf, rec.nruf));
	for (i = 0; i < rec.nunknown; i++)
		json_array_append_new(unknown, json_str(rec.unknown[i]));
	set(r, "unknown_tags", unknown);
	for (i = 0; i < rec.nerrors; i++)
		add_error(r, rec.errors[i].tag, rec.errors[i].message);

	if (!dmarc_record_effective(&rec, &ep, &esp)) {
		/* RFC 7489 6.6.3 step 6: no valid p (or sp) and no valid rua */
		set(r, "discovery", json_string("invalid"));
		set(r, "result", json_string("permerror"));
		report_add(r->rep, "record_invalid", SEV_WARN,
		    json_pack("{s:o,s:o,s:O,s:O}", "domain", json_str(r->domain),
		    "policy_domain", json_str(r->policy_domain), "record", recjson,
		    "errors", r->errors),
		    "the DMARC record of '%s' has no valid policy (%s) and no valid rua=, so "
		    "receivers apply no DMARC policy", r->policy_domain,
		    rec.nerrors > 0 ? rec.errors[0].message : "p= is missing");
		goto out;
	}
	applied = subdomain ? esp : ep;
	set(r, "discovery", json_string("record"));
	set(r, "effective_p", policy_json(ep));
	set(r, "effective_sp", policy_json(esp));
	set(r, "applied_policy", policy_json(applied));
	report_add(r->rep, "record_found", SEV_INFO,
	    json_pack("{s:o,s:o,s:O,s:s}", "domain", json_str(r->domain),
	    "policy_domain", json_str(r->policy_domain), "record", recjson,
	    "applied_policy", dmarc_policy_name(applied)),
	    "'%s' has the DMARC policy %s%s (from '_dmarc.%s')", r->domain,
	    dmarc_policy_name(applied), subdomain ? " for subdomains" : "", r->policy_domain);
	if (rec.nerrors > 0)
		report_add(r->rep, "record_syntax", SEV_WARN,
		    json_pack("{s:o,s:O,s:O,s:o}", "policy_domain", json_str(r->policy_domain),
		    "record", recjson, "errors", r->errors, "first_error",
		    json_str(rec.errors[0].message)),
		    "the DMARC record of '%s' has %zu error%s: %s", r->policy_domain,
		    rec.nerrors, rec.nerrors == 1 ? "" : "s", rec.errors[0].message);
	if (applied == DMARC_POLICY_NONE)
		report_add(r->rep, "policy_none", SEV_INFO,
		    json_pack("{s:o}", "policy_domain", json_str(r->policy_domain)),
		    "the DMARC policy of '%s' is none: receivers report but do not act on failures",
		    r->policy_domain);
	report_destinations(r, &rec);
	evaluate(r, &rec, applied);
out:
	json_decref(recjson);
	dmarc_record_release(&rec);
}

/* RFC 7489 6.6.3: the author domain's record, else the organisational domain's. */
static void
discover(struct run *r)
{
	char *name = xasprintf("_dmarc.%s", r->domain), *oname = NULL;
	struct dns_query *qa, *qo = NULL;
	struct dns_result *ra = NULL, *ro = NULL;
	const struct dns_result *use = NULL;
	size_t n, idx = 0;

	/* both asked at once: the fallback costs no extra round trip */
	qa = dns_query_submit(r->dns, name, DNS_T_TXT);
	if (strcmp(r->org, r->domain) != 0) {
		oname = xasprintf("_dmarc.%s", r->org);
		qo = dns_query_submit(r->dns, oname, DNS_T_TXT);
	}
	ra = dns_query_wait(r->dns, qa);
	if (dns_status_is_failure(ra->status)) {
		lookup_failed(r, ra);
		goto out;
	}
	r->policy_domain = r->domain;
	n = dmarc_records(r, ra, &idx);
	if (n == 1) {
		use = ra;
	} else if (n > 1) {
		records_multiple(r, ra, n);
		goto out;
	} else if (qo != NULL) {
		ro = dns_query_wait(r->dns, qo);
		if (dns_status_is_failure(ro->status)) {
			lookup_failed(r, ro);
			goto out;
		}
		r->policy_domain = r->org;
		n = dmarc_records(r, ro, &idx);
		if (n == 1) {
			use = ro;
		} else if (n > 1) {
			records_multiple(r, ro, n);
			goto out;
		}
	}
	if (use == NULL) {
		r->policy_domain = NULL;
		records_missing(r);
		goto out;
	}
	use_record(r, &use->rr[idx]);
out:
	dns_result_free(ra);
	dns_result_free(ro);
	dns_query_free(qa);
	dns_query_free(qo);
	free(name);
	free(oname);
}

static void
dmarc_run(const void *ctx, const struct target *t, struct dns *dns, struct report *rep)
{
	struct run r;
	char *domain = NULL;

	memset(&r, 0, sizeof(r));
	r.c = ctx;
	r.t = t;
	r.dns = dns;
	r.rep = rep;
	r.data = report_data(rep);
	init_data(&r);
	if (author_domain(&r, &domain) < 0)
		goto out;
	r.domain = domain;
	r.org = psl_service_org_domain(r.c->psl, domain);
	set(&r, "org_domain", json_str(r.org));
	discover(&r);
out:
	free(r.org);
	free(domain);
}

static void
dmarc_describe(const void *ctx, struct strbuf *out)
{
	const struct dmarc_conf *c = ctx;

	strbuf_addf(out, "  public suffix list: %s\n", psl_service_source(c->psl));
	strbuf_addf(out, "  external report destinations checked: %s\n",
	    c->report_auth ? "yes" : "no");
}

const struct check_ops check_dmarc = {
	.name = "dmarc",
	.summary = "DMARC policy of the From domain, SPF/DKIM alignment, receiver disposition",
	.wants = NEED_MAIL_FROM | NEED_MESSAGE,
	.after = dmarc_after,
	.configure = dmarc_configure,
	.run = dmarc_run,
	.describe = dmarc_describe,
	.free = dmarc_free,
};
