/*
 * Check bulk: what Gmail and Yahoo require of bulk senders since 2024,
 * checked on the sample message (--message) and on the reports of the
 * spf, dkim, dmarc, rdns and smtp checks of the same target.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks/bulk/headers.h"
#include "checks/check.h"
#include "checks/dkim/sig.h"
#include "core/textsafe.h"

/* The receivers' published requirements, cited by every finding. */
#define GMAIL	"https://support.google.com/a/answer/81126"
#define YAHOO	"https://senders.yahooinc.com/best-practices/"

enum req_status {
	REQ_MET = 0,
	REQ_FAILED,
	REQ_NOT_CHECKED,
};

static const char *const req_status_names[] = { "met", "failed", "not_checked" };

/* One requirement: what the receivers ask, where they say so, the finding when it is not met. */
struct requirement {
	const char *id;
	const char *who;		/* "Gmail and Yahoo", "Gmail" */
	const char *scope;		/* "all senders" or "bulk senders" */
	const char *text;
	const char *sources;		/* where the receivers publish it */
	const char *finding;		/* the code of the finding when failed */
	enum finding_severity sev;
	const char *how;		/* what gives why550 what it needs, when not checked */
};

enum req_id {
	REQ_SPF, REQ_DKIM, REQ_DMARC_RECORD, REQ_DMARC_ALIGNED, REQ_PTR, REQ_TLS, REQ_FROM,
	REQ_DATE, REQ_MESSAGE_ID, REQ_UNSUB_HTTPS, REQ_UNSUB_POST, REQ_UNSUB_SIGNED, REQ_COUNT,
};

#define BOTH	"Gmail and Yahoo"
#define BULK	"bulk senders"
#define ALL	"all senders"
#define LISTS	"bulk marketing and subscribed mail"

static const struct requirement reqs[REQ_COUNT] = {
	[REQ_SPF] = { "spf", BOTH, BULK, "SPF passes for the envelope sender's domain",
	    GMAIL " (SPF and DKIM); " YAHOO " (implement SPF and DKIM)", "spf_not_passing",
	    SEV_FAIL, "--ip and --from" },
	[REQ_DKIM] = { "dkim", BOTH, BULK, "the message carries a DKIM signature that verifies",
	    GMAIL " (SPF and DKIM); " YAHOO " (implement SPF and DKIM)", "dkim_not_passing",
	    SEV_FAIL, "a signed --message" },
	[REQ_DMARC_RECORD] = { "dmarc_record", BOTH, BULK,
	    "the From domain publishes a DMARC record (p=none is enough)",
	    GMAIL " (DMARC, policy none or stronger); " YAHOO " (a valid DMARC policy)",
	    "dmarc_missing", SEV_FAIL, "--message with a From: field" },
	[REQ_DMARC_ALIGNED] = { "dmarc_aligned", BOTH, BULK,
	    "DMARC passes: SPF or DKIM passes with a domain aligned with the From domain",
	    GMAIL " (From domain aligned with SPF or DKIM); " YAHOO " (DMARC must pass)",
	    "dmarc_not_aligned", SEV_FAIL, "--ip, --from and a signed --message" },
	[REQ_PTR] = { "ptr", BOTH, ALL,
	    "the sending IP has a PTR whose name resolves back to it (forward-confirmed)",
	    GMAIL " (valid forward and reverse DNS); " YAHOO " (valid reverse DNS)",
	    "ptr_not_confirmed", SEV_FAIL, "--ip" },
	[REQ_TLS] = { "tls", "Gmail", ALL, "mail travels to the receiver over TLS",
	    GMAIL " (a TLS connection for transmitting email)", "tls_unavailable", SEV_WARN,
	    "--probe (and --to at the receiver)" },
	[REQ_FROM] = { "rfc5322_from", BOTH, ALL, "exactly one From: field (RFC 5322 3.6)",
	    GMAIL " (format messages according to RFC 5322); " YAHOO " (RFC 5322)",
	    "from_not_single", SEV_FAIL, NULL },
	[REQ_DATE] = { "rfc5322_date", BOTH, ALL, "exactly one Date: field (RFC 5322 3.6)",
	    GMAIL " (RFC 5322); " YAHOO " (RFC 5322)", "date_not_single", SEV_FAIL, NULL },
	[REQ_MESSAGE_ID] = { "rfc5322_message_id", BOTH, ALL,
	    "exactly one Message-ID: field (RFC 5322 3.6.4)",
	    GMAIL " (RFC 5322, a Message-ID header); " YAHOO " (RFC 5322)",
	    "message_id_not_single", SEV_FAIL, NULL },
	[REQ_UNSUB_HTTPS] = { "unsubscribe_https", BOTH, LISTS,
	    "List-Unsubscribe offers an https: URI (RFC 2369, RFC 8058 3.1)",
	    GMAIL " (one-click unsubscribe); " YAHOO " (one-click unsubscribe, RFC 8058)",
	    "unsubscribe_missing", SEV_FAIL, NULL },
	[REQ_UNSUB_POST] = { "unsubscribe_one_click", BOTH, LISTS,
	    "List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058 3.1)",
	    GMAIL " (one-click unsubscribe); " YAHOO " (one-click unsubscribe, RFC 8058)",
	    "unsubscribe_post_missing", SEV_FAIL, NULL },
	[REQ_UNSUB_SIGNED] = { "unsubscribe_signed", BOTH, LISTS,
	    "a DKIM signature that verifies covers List-Unsubscribe and List-Unsubscribe-Post "
	    "(RFC 8058 4)", GMAIL " (one-click unsubscribe); " YAHOO " (RFC 8058)",
	    "unsubscribe_not_signed", SEV_FAIL, "a signed --message" },
};

static const char *const bulk_after[] = { "spf", "dkim", "dmarc", "rdns", "smtp", NULL };
static const char *const bulk_keys[] = { "marketing", NULL };

struct bulk_conf {
	bool marketing;		/* one-click unsubscribe applies */
};

static int
bulk_configure(void **ctx, const struct conf *conf, struct error *err)
{
	struct bulk_conf *c = xcalloc(1, sizeof(*c));
	const struct conf_section *sec = NULL;

	c->marketing = true;
	while ((sec = conf_next(conf, sec, "bulk")) != NULL) {
		if (sec->label != NULL) {
			conf_error(sec, NULL, err, "[bulk] takes no label");
			goto fail;
		}
		if (conf_section_check_keys(sec, bulk_keys, err) < 0 ||
		    conf_section_get_bool(sec, "marketing", &c->marketing, err) < 0)
			goto fail;
	}
	*ctx = c;
	return 0;
fail:
	free(c);
	return -1;
}

/* One target's evaluation. */
struct eval {
	struct report *rep;
	json_t *list;			/* the data's "requirements" */
	struct bulk_headers h;
	struct dkim_msg msg;
	size_t count[3];		/* by status */
	struct strbuf not_checked;	/* "spf (--ip and --from), ..." */
};

/* Records the outcome of requirement id; a failure is a finding citing it. */
static void
record(struct eval *e, enum req_id id, enum req_status st, const char *detail)
{
	const struct requirement *r = &reqs[id];

	e->count[st]++;
	json_array_append_new(e->list, json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:s}", "id", r->id,
	    "status", req_status_names[st], "who", r->who, "scope", r->scope,
	    "requirement", r->text, "detail", json_str(detail), "sources", r->sources));
	if (st == REQ_NOT_CHECKED && r->how != NULL)
		strbuf_addf(&e->not_checked, "%s%s (needs %s)", e->not_checked.len ? ", " : "",
		    r->id, r->how);
	if (st != REQ_FAILED)
		return;
	report_add(e->rep, r->finding, r->sev,
	    json_pack("{s:s,s:s,s:s,s:s,s:o,s:s}", "requirement", r->id, "who", r->who,
	    "scope", r->scope, "requirement_text", r->text, "detail", json_str(detail),
	    "sources", r->sources),
	    "%s require%s of %s: %s; here %s", r->who, strchr(r->who, ' ') != NULL ? "" : "s",
	    r->scope, r->text, detail != NULL ? detail : "it is not met");
}

/* The data of a peer check that ran, or NULL. */
static const json_t *
peer_data(const struct eval *e, const char *name)
{
	const struct report *p = report_peer(e->rep, name);

	if (p == NULL || report_status(p) == CHECK_SKIPPED)
		return NULL;
	return report_data_const(p);
}

static const char *
jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* A result string of a peer: met on "pass", not checked on a lookup failure, else failed. */
static void
record_result(struct eval *e, enum req_id id, const char *result, const char *what)
{
	char detail[200];

	if (result == NULL || strcmp(result, "temperror") == 0) {
		record(e, id, REQ_NOT_CHECKED, NULL);
		return;
	}
	snprintf(detail, sizeof(detail), "%s gives %s", what, result);
	record(e, id, strcmp(result, "pass") == 0 ? REQ_MET : REQ_FAILED, detail);
}

static void
check_auth(struct eval *e)
{
	const json_t *spf = peer_data(e, "spf"), *dkim = peer_data(e, "dkim");
	const json_t *dmarc = peer_data(e, "dmarc");
	const char *dr = jstr(dmarc, "result");

	record_result(e, REQ_SPF, jstr(spf, "result"), "SPF");
	record_result(e, REQ_DKIM, e->msg.nsig == 0 && dkim != NULL ? "none (no DKIM-Signature)" :
	    jstr(dkim, "result"), "DKIM");
	if (dmarc == NULL || jstr(dmarc, "discovery") == NULL ||
	    strcmp(jstr(dmarc, "discovery"), "temperror") == 0)
		record(e, REQ_DMARC_RECORD, REQ_NOT_CHECKED, NULL);
	else if (json_is_string(json_object_get(dmarc, "p")))
		record(e, REQ_DMARC_RECORD, REQ_MET, NULL);
	else
		record(e, REQ_DMARC_RECORD, REQ_FAILED, "no DMARC record was found");
	if (dr != NULL && strcmp(dr, "none") == 0)
		record(e, REQ_DMARC_ALIGNED, REQ_FAILED, "without a DMARC record nothing is aligned");
	else
		record_result(e, REQ_DMARC_ALIGNED, dr, "DMARC");
}

static void
check_ptr(struct eval *e)
{
	const json_t *rdns = peer_data(e, "rdns"), *fc = json_object_get(rdns, "fcrdns");

	if (!json_is_boolean(fc))
		record(e, REQ_PTR, REQ_NOT_CHECKED, NULL);
	else
		record(e, REQ_PTR, json_is_true(fc) ? REQ_MET : REQ_FAILED, json_is_true(fc) ?
		    NULL : "the sending IP has no PTR, or its name does not resolve back to it");
}

static void
check_tls(struct eval *e)
{
	const json_t *tls = json_object_get(peer_data(e, "smtp"), "tls");
	const char *st = jstr(tls, "starttls"), *host = jstr(tls, "host");
	char detail[300];

	if (st == NULL) {
		record(e, REQ_TLS, REQ_NOT_CHECKED, NULL);
		return;
	}
	snprintf(detail, sizeof(detail), "STARTTLS at %s: %s", host != NULL ? host : "the MX",
	    strcmp(st, "not_offered") == 0 ? "not offered" : strcmp(st, "failed") == 0 ?
	    "the handshake failed" : strcmp(st, "refused") == 0 ? "refused" : st);
	record(e, REQ_TLS, strcmp(st, "ok") == 0 ? REQ_MET : REQ_FAILED, detail);
}

/* RFC 5322 3.6: From and Date exactly once, and the Message-ID the receivers ask for. */
static void
check_format(struct eval *e)
{
	static const struct {
		enum req_id id;
		const char *name;
	} fields[] = {
		{ REQ_FROM, "From" }, { REQ_DATE, "Date" }, { REQ_MESSAGE_ID, "Message-ID" },
	};
	char detail[120];
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		n = bulk_headers_count(&e->h, fields[i].name);
		snprintf(detail, sizeof(detail), "the message has %zu %s: field%s", n,
		    fields[i].name, n == 1 ? "" : "s");
		record(e, fields[i].id, n == 1 ? REQ_MET : REQ_FAILED, n == 1 ? NULL : detail);
	}
}

/* Does a signature that verified sign both unsubscribe fields? NULL: no verdict of dkim. */
static const char *
signed_by_passing(const struct eval *e)
{
	const json_t *sigs = json_object_get(peer_data(e, "dkim"), "signatures"), *s;
	size_t i;

	if (sigs == NULL)
		return NULL;
	json_array_foreach(sigs, i, s) {
		json_int_t idx = json_integer_value(json_object_get(s, "index"));

		if (jstr(s, "result") == NULL || strcmp(jstr(s, "result"), "pass") != 0 ||
		    idx < 0 || (size_t)idx >= e->msg.nsig)
			continue;
		if (dkim_sig_signs(&e->msg.sig[idx], "List-Unsubscribe") &&
		    dkim_sig_signs(&e->msg.sig[idx], "List-Unsubscribe-Post"))
			return "yes";
	}
	return "no";
}

/* RFC 8058: an https URI, the One-Click POST field, both under a DKIM signature. */
static void
check_unsubscribe(struct eval *e)
{
	const char *lu = bulk_headers_get(&e->h, "List-Unsubscribe");
	const char *post = bulk_headers_get(&e->h, "List-Unsubscribe-Post"), *sig;
	char why[160], detail[240];
	char *uri = NULL;

	if (lu == NULL) {
		record(e, REQ_UNSUB_HTTPS, REQ_FAILED, "the message has no List-Unsubscribe field");
	} else if (bulk_unsubscribe_https(lu, &uri, why, sizeof(why)) < 0) {
		snprintf(detail, sizeof(detail), "List-Unsubscribe has %s", why);
		record(e, REQ_UNSUB_HTTPS, REQ_FAILED, detail);
	} else {
		record(e, REQ_UNSUB_HTTPS, REQ_MET, uri);
	}
	free(uri);
	if (post == NULL || !bulk_one_click_post(post))
		record(e, REQ_UNSUB_POST, REQ_FAILED, post == NULL ?
		    "the message has no List-Unsubscribe-Post field" :
		    "List-Unsubscribe-Post is not \"List-Unsubscribe=One-Click\"");
	else
		record(e, REQ_UNSUB_POST, REQ_MET, NULL);
	if (lu == NULL || post == NULL) {
		record(e, REQ_UNSUB_SIGNED, REQ_FAILED, "there are no unsubscribe fields to sign");
		return;
	}
	sig = signed_by_passing(e);
	if (sig == NULL)
		record(e, REQ_UNSUB_SIGNED, REQ_NOT_CHECKED, NULL);
	else
		record(e, REQ_UNSUB_SIGNED, strcmp(sig, "yes") == 0 ? REQ_MET : REQ_FAILED,
		    strcmp(sig, "yes") == 0 ? NULL : "no DKIM signature that verifies lists "
		    "both fields in its h= tag");
}

static void
bulk_run(const void *ctx, const struct target *t, struct dns *dns, struct report *rep)
{
	const struct bulk_conf *c = ctx;
	struct eval e = { .rep = rep, .list = json_array() };
	json_t *data = report_data(rep);

	(void)dns;
	strbuf_init(&e.not_checked);
	bulk_headers_parse(t->message, t->message_len, &e.h);
	dkim_msg_parse(t->message, t->message_len, &e.msg);
	json_object_set_new(data, "requirements", e.list);
	check_auth(&e);
	check_ptr(&e);
	check_tls(&e);
	check_format(&e);
	if (c->marketing)
		check_unsubscribe(&e);
	json_object_set_new(data, "marketing", json_boolean(c->marketing));
	json_object_set_new(data, "met", json_integer((json_int_t)e.count[REQ_MET]));
	json_object_set_new(data, "failed", json_integer((json_int_t)e.count[REQ_FAILED]));
	json_object_set_new(data, "not_checked",
	    json_integer((json_int_t)e.count[REQ_NOT_CHECKED]));
	if (e.not_checked.len > 0)
		report_add(rep, "requirements_not_checked", SEV_INFO,
		    json_pack("{s:s}", "needs", e.not_checked.buf),
		    "not checked: %s", e.not_checked.buf);
	report_add(rep, "requirements_summary", SEV_INFO, NULL,
	    "%zu of the %zu Gmail and Yahoo sender requirements met, %zu not met, %zu not checked",
	    e.count[REQ_MET], json_array_size(e.list), e.count[REQ_FAILED],
	    e.count[REQ_NOT_CHECKED]);
	strbuf_release(&e.not_checked);
	dkim_msg_release(&e.msg);
	bulk_headers_release(&e.h);
}

static void
bulk_describe(const void *ctx, struct strbuf *out)
{
	const struct bulk_conf *c = ctx;
	size_t i;

	strbuf_addf(out, "  marketing mail (one-click unsubscribe applies): %s\n",
	    c->marketing ? "yes" : "no");
	for (i = 0; i < REQ_COUNT; i++)
		strbuf_addf(out, "  %-20s %s (%s)\n", reqs[i].id, reqs[i].text, reqs[i].scope);
}

const struct check_ops check_bulk = {
	.name = "bulk",
	.summary = "what Gmail and Yahoo require of bulk senders, on the sample message",
	.needs = NEED_MESSAGE,
	.after = bulk_after,
	.configure = bulk_configure,
	.run = bulk_run,
	.describe = bulk_describe,
	.free = free,
};
