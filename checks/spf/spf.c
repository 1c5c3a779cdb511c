/* Check spf: the strict RFC 7208 result for MAIL FROM (or HELO), libspf2's receiver view beside it, why the IP is not authorised, and lint. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "checks/check.h"
#include "checks/spf/eval.h"
#include "checks/spf/lint.h"
#include "checks/spf/parse.h"
#include "checks/spf/macro.h"
#include "dns/spf_adapter.h"
#include "core/textsafe.h"
#include "core/net.h"


struct spf_conf {
	char *receiver;		/* %{r} */
	char *default_exp;
	long lookups_warn;
	bool receiver_view;
	bool check_helo;
};

static const char *const spf_keys[] = {
	"receiver", "default_explanation", "lookups_warn", "receiver_view", "check_helo", NULL,
};

/* One identity evaluated: MAIL FROM (or HELO with the null sender), or HELO beside it. */
struct identity {
	char *sender;
	const char *domain;
	struct spf_outcome out;
};

/*
 * One run. The identity checked and the HELO identity beside it are
 * independent, so they are parts of the run (check_ops.split) that the
 * runner evaluates at the same time; each part writes only its own fields.
 */
struct spf_state {
	const char *identity;		/* "mail_from" or "helo": what main checks */
	struct identity main;		/* part 0, with libspf2's view after it */
	struct spf_receiver_view rv;	/* part 0 */
	bool have_rv;
	struct identity helo;		/* part 1 */
	bool have_helo;			/* there is a part 1 */
};

static void
spf_free(void *ctx)
{
	struct spf_conf *c = ctx;

	if (c == NULL)
		return;
	free(c->receiver);
	free(c->default_exp);
	free(c);
}

static int
spf_configure(void **ctx, const struct conf *conf, struct error *err)
{
	struct spf_conf *c = xcalloc(1, sizeof(*c));
	const struct conf_section *sec = NULL;
	const char *v;

	c->receiver = xstrdup("unknown");
	c->lookups_warn = 8;
	c->receiver_view = true;
	c->check_helo = true;
	while ((sec = conf_next(conf, sec, "spf")) != NULL) {
		if (sec->label != NULL) {
			conf_error(sec, NULL, err, "[spf] takes no label");
			goto fail;
		}
		if (conf_section_check_keys(sec, spf_keys, err) < 0 ||
		    conf_section_get_int(sec, "lookups_warn", 1, 10, &c->lookups_warn, err) < 0 ||
		    conf_section_get_bool(sec, "receiver_view", &c->receiver_view, err) < 0 ||
		    conf_section_get_bool(sec, "check_helo", &c->check_helo, err) < 0)
			goto fail;
		if ((v = conf_section_get(sec, "receiver")) != NULL) {
			char why[128];

			if (net_name_check(v, false, why, sizeof(why)) < 0) {
				conf_error(sec, NULL, err, "receiver '%s': %s", v, why);
				goto fail;
			}
			free(c->receiver);
			c->receiver = xstrdup(v);
		}
		if ((v = conf_section_get(sec, "default_explanation")) != NULL) {
			struct spf_syntax syn;

			if (spf_macro_check(v, strlen(v), true, &syn) < 0) {
				conf_error(sec, NULL, err, "default_explanation: %s at offset %zu",
				    syn.msg, syn.pos);
				goto fail;
			}
			free(c->default_exp);
			c->default_exp = xstrdup(v);
		}
	}
	*ctx = c;
	return 0;
fail:
	spf_free(c);
	return -1;
}

static void
eval_opts(const struct spf_conf *c, struct spf_eval_opts *o)
{
	spf_eval_opts_init(o);
	o->receiver = c->receiver;
	o->default_exp = c->default_exp;
}

static void
evaluate(const struct spf_conf *c, const struct target *t, struct dns *dns,
    struct identity *id)
{
	struct spf_eval_opts o;

	eval_opts(c, &o);
	spf_evaluate(dns, &o, t->ip_family, t->ip_addr, id->domain, id->sender, t->helo, &id->out);
}

static json_t *
tree_json(const struct spf_node *n)
{
	json_t *o = json_pack("{s:o,s:o,s:o,s:s,s:o,s:o,s:[]}", "domain", json_str(n->domain),
	    "via", json_str(n->via), "record", json_str(n->record),
	    "result", spf_result_name(n->result), "matched", json_str(n->matched),
	    "reason", json_str(n->reason), "children");
	size_t i;

	for (i = 0; i < n->nkids; i++)
		json_array_append_new(json_object_get(o, "children"), tree_json(n->kids[i]));
	return o;
}

/* The TXT strings of the first SPF record of domain (a cache hit after the evaluation). */
static void
lint_published(struct report *rep, struct dns *dns, const char *domain)
{
	struct dns_result *r = dns_lookup(dns, domain, DNS_T_TXT);
	size_t i, j;

	for (i = 0; r->status == DNS_ANSWER && i < r->nrr; i++) {
		const struct dns_rr *rr = &r->rr[i];
		const char **strings;
		size_t off = 0;

		if (!spf_is_record(rr->u.txt.data, rr->u.txt.len))
			continue;
		strings = xcalloc(rr->u.txt.nstrings + 1, sizeof(*strings));
		for (j = 0; j < rr->u.txt.nstrings; j++) {
			strings[j] = rr->u.txt.data + off;
			off += rr->u.txt.lens[j];
		}
		spf_lint_record(rep, domain, strings, rr->u.txt.lens, rr->u.txt.nstrings);
		free(strings);
		break;
	}
	dns_result_free(r);
}

static const char *
result_words(enum spf_result r)
{
	switch (r) {
	case SPF_R_PASS: return "authorised";
	case SPF_R_FAIL: return "not authorised (fail)";
	case SPF_R_SOFTFAIL: return "probably not authorised (softfail)";
	case SPF_R_NEUTRAL: return "neither authorised nor refused (neutral)";
	case SPF_R_NONE: return "not covered: no SPF record (none)";
	case SPF_R_TEMPERROR: return "not checkable now: a DNS error (temperror)";
	case SPF_R_PERMERROR: return "not checkable: the SPF data is broken (permerror)";
	}
	return "?";
}

static void
result_finding(struct report *rep, const struct target *t, const struct identity *id,
    const char *identity, const struct spf_receiver_view *rv, const char *analysis)
{
	const struct spf_outcome *out = &id->out;
	static const struct {
		enum spf_result r;
		const char *code;
		enum finding_severity sev;
	} map[] = {
		{ SPF_R_PASS, "spf_pass", SEV_INFO },
		{ SPF_R_FAIL, "spf_fail", SEV_FAIL },
		{ SPF_R_SOFTFAIL, "spf_softfail", SEV_WARN },
		{ SPF_R_NEUTRAL, "spf_neutral", SEV_WARN },
		{ SPF_R_NONE, "spf_none", SEV_WARN },
		{ SPF_R_TEMPERROR, "spf_temperror", SEV_ERROR },
		{ SPF_R_PERMERROR, "spf_permerror", SEV_FAIL },
	};
	struct strbuf msg;
	json_t *d;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(map) && map[i].r != out->result; i++)
		;
	if (out->malformed) {
		/* no record to miss: other checks say what is wrong with the name */
		report_add(rep, "spf_identity_malformed", SEV_INFO,
		    json_pack("{s:s,s:o,s:s,s:s,s:o}", "ip", t->ip, "domain", json_str(out->domain),
		    "identity", identity, "result", spf_result_name(out->result),
		    "reason", json_str(out->reason)),
		    "SPF %s for %s '%s': %s", spf_result_name(out->result), identity,
		    out->domain, out->reason != NULL ? out->reason : "not a domain SPF can check");
		return;
	}
	strbuf_init(&msg);
	strbuf_addf(&msg, "SPF %s for %s '%s': %s is %s", spf_result_name(out->result),
	    identity, out->domain, t->ip, result_words(out->result));
	if (out->matched != NULL)
		strbuf_addf(&msg, " by '%s'", out->matched);
	if (out->reason != NULL && (out->result == SPF_R_PERMERROR ||
	    out->result == SPF_R_TEMPERROR || out->result == SPF_R_NONE))
		strbuf_addf(&msg, " (%s)", out->reason);
	/* both views in the one line a person reads first */
	if (rv != NULL)
		strbuf_addf(&msg, "; receivers that use libspf2 compute %s%s", rv->result,
		    strcmp(rv->result, spf_result_name(out->result)) == 0 ? " too" : "");
	d = json_pack("{s:s,s:o,s:o,s:s,s:s,s:o,s:o,s:o,s:o}", "ip", t->ip,
	    "domain", json_str(out->domain), "sender", json_str(id->sender),
	    "identity", identity, "result", spf_result_name(out->result),
	    "matched", json_str(out->matched), "explanation", json_str(out->explanation),
	    "reason", json_str(out->reason),
	    "receiver_result", rv != NULL ? json_string(rv->result) : json_null());
	if (analysis != NULL)
		json_object_set_new(d, "analysis", json_str(analysis));
	report_add(rep, map[i].code, map[i].sev, d, "%s", msg.buf);
	strbuf_release(&msg);
}

static void *
spf_split(const void *ctx, const struct target *t, struct report *rep, size_t *nparts)
{
	const struct spf_conf *c = ctx;
	bool helo_ok = t->helo != NULL && t->helo[0] != '\0' && t->helo[0] != '[';
	bool mail_from = !t->null_sender && t->mail_domain != NULL;
	struct spf_state *st;

	if (!mail_from && t->helo == NULL) {
		report_skip(rep, "no MAIL FROM domain and no HELO name to check SPF for");
		return NULL;
	}
	st = xcalloc(1, sizeof(*st));
	if (mail_from) {
		st->identity = "mail_from";
		st->main.sender = t->mail_local != NULL ?
		    xasprintf("%s@%s", t->mail_local, t->mail_domain) :
		    xasprintf("postmaster@%s", t->mail_domain);
		st->main.domain = t->mail_domain;
	} else {
		/*
		 * RFC 7208 2.4: with the null sender the HELO identity is checked
		 * as postmaster@HELO; an address literal or a malformed name is
		 * "none" (RFC 7208 2.3, 4.3), which the evaluator says itself.
		 */
		st->identity = "helo";
		st->main.sender = xasprintf("postmaster@%s", t->helo);
		st->main.domain = t->helo;
	}
	/* RFC 7208 2.3: the HELO identity too, at the same time: it needs no MAIL FROM data */
	if (mail_from && helo_ok && c->check_helo) {
		st->helo.sender = xasprintf("postmaster@%s", t->helo);
		st->helo.domain = t->helo;
		st->have_helo = true;
	}
	*nparts = st->have_helo ? 2 : 1;
	return st;
}

static void
spf_part(const void *ctx, void *state, size_t i, const struct target *t, struct dns *dns)
{
	const struct spf_conf *c = ctx;
	struct spf_state *st = state;

	if (i == 1) {
		evaluate(c, t, dns, &st->helo);
		return;
	}
	evaluate(c, t, dns, &st->main);
	/* libspf2 after the strict view: its questions are then cache hits */
	if (c->receiver_view) {
		spf_receiver_evaluate(dns, t->ip, st->main.sender, t->helo, c->receiver, &st->rv);
		st->have_rv = true;
	}
}

/* The check-specific fields of the JSON: the result of the identity checked, both views. */
static void
result_data(json_t *data, const struct spf_state *st)
{
	const struct spf_outcome *out = &st->main.out;
	const struct spf_receiver_view *rv = &st->rv;

	json_object_set_new(data, "result", json_string(spf_result_name(out->result)));
	json_object_set_new(data, "receiver_result", st->have_rv ? json_string(rv->result) :
	    json_null());
	json_object_set_new(data, "domain", json_str(out->domain));
	json_object_set_new(data, "identity", json_string(st->identity));
	json_object_set_new(data, "explanation", json_str(out->explanation));
	json_object_set_new(data, "lookups", json_integer(out->lookups));
	json_object_set_new(data, "void_lookups", json_integer(out->void_lookups));
	json_object_set_new(data, "record", json_str(out->record));
	json_object_set_new(data, "matched", json_str(out->matched));
	json_object_set_new(data, "error", json_str(out->reason));
	json_object_set_new(data, "helo_result", st->have_helo ?
	    json_string(spf_result_name(st->helo.out.result)) : json_null());
	json_object_set_new(data, "receiver", st->have_rv ?
	    json_pack("{s:s,s:o,s:o,s:o,s:i}", "result", rv->result, "raw", json_str(rv->raw),
	    "error", json_str(rv->error), "explanation", json_str(rv->explanation),
	    "lookups", rv->lookups) : json_null());
	json_object_set_new(data, "tree", tree_json(out->tree));
}

/* The result finding, and why the IP is not authorised when it is not. */
static void
main_findings(struct report *rep, const struct target *t, const struct spf_state *st)
{
	const struct spf_outcome *out = &st->main.out;
	const unsigned char *addr = t->ip_addr;
	json_t *why_data = NULL;
	char *why = NULL;
	int family;

	/* an IPv4-mapped IPv6 client is the IPv4 host it maps (RFC 7208 5) */
	family = net_ip_unmap(t->ip_family, &addr);
	if (out->result == SPF_R_FAIL || out->result == SPF_R_SOFTFAIL ||
	    out->result == SPF_R_NEUTRAL)
		why = spf_explain_miss(out, family, addr, &why_data);
	result_finding(rep, t, &st->main, st->identity, st->have_rv ? &st->rv : NULL, why);
	if (why == NULL)
		return;
	json_object_set_new(why_data, "domain", json_str(out->domain));
	json_object_set_new(report_data(rep), "analysis", json_str(why));
	report_add(rep, "spf_not_authorised", SEV_INFO, why_data, "%s", why);
	free(why);
}

/* libspf2 disagrees with the strict result; the HELO identity fails. */
static void
side_findings(struct report *rep, const struct target *t, const struct spf_state *st)
{
	const struct spf_outcome *out = &st->main.out, *helo = &st->helo.out;
	const struct spf_receiver_view *rv = &st->rv;

	/* views of a name that is no domain differ in how they refuse it, not in a record */
	if (st->have_rv && !out->malformed && strcmp(rv->result, spf_result_name(out->result)) != 0)
		report_add(rep, "spf_views_differ", SEV_WARN,
		    json_pack("{s:o,s:s,s:s,s:o,s:o}", "domain", json_str(out->domain),
		    "result", spf_result_name(out->result), "receiver_result", rv->result,
		    "receiver_raw", json_str(rv->raw), "receiver_error", json_str(rv->error)),
		    "receivers that use libspf2 will compute %s here, strict receivers %s%s%s%s",
		    rv->result, spf_result_name(out->result),
		    rv->error != NULL ? " (libspf2: " : "", rv->error != NULL ? rv->error : "",
		    rv->error != NULL ? ")" : "");
	if (st->have_helo && (helo->result == SPF_R_FAIL || helo->result == SPF_R_SOFTFAIL))
		report_add(rep, "spf_helo_fail", SEV_WARN,
		    json_pack("{s:s,s:o,s:s,s:o}", "ip", t->ip, "domain", json_str(t->helo),
		    "result", spf_result_name(helo->result), "matched", json_str(helo->matched)),
		    "SPF %s for the HELO name '%s': %s is not authorised to use it; receivers that "
		    "check HELO may reject before MAIL FROM", spf_result_name(helo->result),
		    t->helo, t->ip);
}

static void
spf_join(const void *ctx, void *state, const struct target *t, struct dns *dns,
    struct report *rep)
{
	const struct spf_conf *c = ctx;
	struct spf_state *st = state;
	const struct spf_outcome *out = &st->main.out;

	result_data(report_data(rep), st);
	main_findings(rep, t, st);
	side_findings(rep, t, st);
	if (out->record != NULL && out->nrecords == 1)
		lint_published(rep, dns, out->domain);
	spf_lint_outcome(rep, out, 10, (int)c->lookups_warn);
	if (out->deadline || (st->have_helo && st->helo.out.deadline))
		report_set_deadline(rep);

	if (st->have_rv)
		spf_receiver_view_release(&st->rv);
	spf_outcome_release(&st->main.out);
	spf_outcome_release(&st->helo.out);
	free(st->main.sender);
	free(st->helo.sender);
	free(st);
}

static void
spf_describe(const void *ctx, struct strbuf *out)
{
	const struct spf_conf *c = ctx;

	strbuf_addf(out, "  receiver (%%{r}): %s\n  libspf2 receiver view: %s\n"
	    "  HELO identity: %s\n  warn at %ld DNS-querying terms\n", c->receiver,
	    c->receiver_view ? "on" : "off", c->check_helo ? "on" : "off", c->lookups_warn);
}

const struct check_ops check_spf = {
	.name = "spf",
	.summary = "SPF of MAIL FROM and HELO: strict RFC 7208 result, libspf2's view, why not authorised",
	.needs = NEED_IP,
	.wants = NEED_MAIL_FROM | NEED_HELO,
	.configure = spf_configure,
	.split = spf_split,
	.part = spf_part,
	.join = spf_join,
	.describe = spf_describe,
	.free = spf_free,
};
