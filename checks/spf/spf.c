/* Check spf: the strict RFC 7208 result for MAIL FROM (or HELO), libspf2's receiver view beside it, why the IP is not authorised, and lint. */
#include <pthread.h>
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

/* One identity evaluated (MAIL FROM, or HELO in a thread of its own). */
struct identity {
	const struct spf_conf *c;
	const struct target *t;
	struct dns *dns;
	const char *sender;
	const char *domain;
	struct spf_outcome out;
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

			if (dns_name_check(v, false, why, sizeof(why)) < 0) {
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

static void *
run_identity(void *arg)
{
	struct identity *id = arg;
	struct spf_eval_opts o;

	eval_opts(id->c, &o);
	spf_evaluate(id->dns, &o, id->t->ip_family, id->t->ip_addr, id->domain, id->sender,
	    id->t->helo, &id->out);
	return NULL;
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

static void
spf_run(const void *ctx, const struct target *t, struct dns *dns, struct report *rep)
{
	const struct spf_conf *c = ctx;
	struct identity main_id, helo_id;
	struct spf_receiver_view rv;
	pthread_t helo_thread;
	bool helo_ok, helo_async = false, helo_done = false, have_rv = false;
	const char *identity;
	char *sender = NULL, *helo_sender = NULL, *why = NULL;
	json_t *why_data = NULL;
	json_t *data = report_data(rep);
	int family = t->ip_family;
	const unsigned char *addr = t->ip_addr;

	memset(&main_id, 0, sizeof(main_id));
	memset(&helo_id, 0, sizeof(helo_id));
	helo_ok = t->helo != NULL && t->helo[0] != '\0' && t->helo[0] != '[';
	if (!t->null_sender && t->mail_domain != NULL) {
		identity = "mail_from";
		sender = t->mail_local != NULL ? xasprintf("%s@%s", t->mail_local, t->mail_domain) :
		    xasprintf("postmaster@%s", t->mail_domain);
		main_id.domain = t->mail_domain;
	} else if (helo_ok) {
		/* RFC 7208 2.4: with the null sender the HELO identity is checked as postmaster@HELO */
		identity = "helo";
		sender = xasprintf("postmaster@%s", t->helo);
		main_id.domain = t->helo;
	} else {
		report_skip(rep, "no MAIL FROM domain and no HELO name to check SPF for");
		return;
	}
	main_id.c = helo_id.c = c;
	main_id.t = helo_id.t = t;
	main_id.dns = helo_id.dns = dns;
	main_id.sender = sender;

	/* RFC 7208 2.3: the HELO identity too, in parallel: it needs no MAIL FROM data */
	if (strcmp(identity, "mail_from") == 0 && helo_ok && c->check_helo) {
		helo_sender = xasprintf("postmaster@%s", t->helo);
		helo_id.domain = t->helo;
		helo_id.sender = helo_sender;
		helo_done = true;
		if (pthread_create(&helo_thread, NULL, run_identity, &helo_id) == 0)
			helo_async = true;
	}
	run_identity(&main_id);
	/* libspf2 after the strict view: its questions are then cache hits */
	if (c->receiver_view) {
		spf_receiver_evaluate(dns, t->ip, sender, t->helo, c->receiver, &rv);
		have_rv = true;
	}
	if (helo_async)
		pthread_join(helo_thread, NULL);
	else if (helo_done)
		run_identity(&helo_id);

	json_object_set_new(data, "result", json_string(spf_result_name(main_id.out.result)));
	json_object_set_new(data, "receiver_result", have_rv ? json_string(rv.result) : json_null());
	json_object_set_new(data, "domain", json_str(main_id.out.domain));
	json_object_set_new(data, "identity", json_string(identity));
	json_object_set_new(data, "explanation", json_str(main_id.out.explanation));
	json_object_set_new(data, "lookups", json_integer(main_id.out.lookups));
	json_object_set_new(data, "void_lookups", json_integer(main_id.out.void_lookups));
	json_object_set_new(data, "record", json_str(main_id.out.record));
	json_object_set_new(data, "matched", json_str(main_id.out.matched));
	json_object_set_new(data, "error", json_str(main_id.out.reason));
	json_object_set_new(data, "helo_result", helo_done ?
	    json_string(spf_result_name(helo_id.out.result)) : json_null());
	json_object_set_new(data, "receiver", have_rv ?
	    json_pack("{s:s,s:o,s:o,s:o,s:i}", "result", rv.result, "raw", json_str(rv.raw),
	    "error", json_str(rv.error), "explanation", json_str(rv.explanation),
	    "lookups", rv.lookups) : json_null());
	json_object_set_new(data, "tree", tree_json(main_id.out.tree));

	/* an IPv4-mapped IPv6 client is the IPv4 host it maps (RFC 7208 5) */
	family = dns_ip_unmap(family, &addr);
	if (main_id.out.result == SPF_R_FAIL || main_id.out.result == SPF_R_SOFTFAIL ||
	    main_id.out.result == SPF_R_NEUTRAL)
		why = spf_explain_miss(&main_id.out, family, addr, &why_data);
	result_finding(rep, t, &main_id, identity, have_rv ? &rv : NULL, why);
	if (why != NULL) {
		json_object_set_new(why_data, "domain", json_str(main_id.out.domain));
		json_object_set_new(data, "analysis", json_str(why));
		report_add(rep, "spf_not_authorised", SEV_INFO, why_data, "%s", why);
		free(why);
	}
	if (have_rv && strcmp(rv.result, spf_result_name(main_id.out.result)) != 0)
		report_add(rep, "spf_views_differ", SEV_WARN,
		    json_pack("{s:o,s:s,s:s,s:o,s:o}", "domain", json_str(main_id.out.domain),
		    "result", spf_result_name(main_id.out.result), "receiver_result", rv.result,
		    "receiver_raw", json_str(rv.raw), "receiver_error", json_str(rv.error)),
		    "receivers that use libspf2 will compute %s here, strict receivers %s%s%s%s",
		    rv.result, spf_result_name(main_id.out.result),
		    rv.error != NULL ? " (libspf2: " : "", rv.error != NULL ? rv.error : "",
		    rv.error != NULL ? ")" : "");
	if (helo_done && (helo_id.out.result == SPF_R_FAIL ||
	    helo_id.out.result == SPF_R_SOFTFAIL))
		report_add(rep, "spf_helo_fail", SEV_WARN,
		    json_pack("{s:s,s:o,s:s,s:o}", "ip", t->ip, "domain", json_str(t->helo),
		    "result", spf_result_name(helo_id.out.result),
		    "matched", json_str(helo_id.out.matched)),
		    "SPF %s for the HELO name '%s': %s is not authorised to use it; receivers that "
		    "check HELO may reject before MAIL FROM", spf_result_name(helo_id.out.result),
		    t->helo, t->ip);

	if (main_id.out.record != NULL && main_id.out.nrecords == 1)
		lint_published(rep, dns, main_id.out.domain);
	spf_lint_outcome(rep, &main_id.out, 10, (int)c->lookups_warn);

	if (main_id.out.deadline || (helo_done && helo_id.out.deadline))
		report_set_deadline(rep);
	if (have_rv)
		spf_receiver_view_release(&rv);
	spf_outcome_release(&main_id.out);
	if (helo_done)
		spf_outcome_release(&helo_id.out);
	free(helo_sender);
	free(sender);
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
	.run = spf_run,
	.describe = spf_describe,
	.free = spf_free,
};
