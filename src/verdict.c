/* The verdict (interim rules): fail and warn findings mapped by check to ranked causes with evidence and a remedy. */
#include "verdict.h"

#include <stdlib.h>
#include <string.h>

#include "textsafe.h"
#include "util.h"

/* Which cause a problem found by a check points to. */
static const struct {
	const char *check;
	const char *cause;
} check_causes[] = {
	{ "dnsbl", "ip_blocklisted" },
	{ "dbl", "domain_blocklisted" },
	{ "rdns", "rdns_missing" },
	{ "helo", "helo_invalid" },
	{ "spf", "spf_fail" },
	{ "dkim", "dkim_fail" },
	{ "dmarc", "dmarc_fail" },
	{ "sender_domain", "sender_domain_invalid" },
	{ "recipient", "recipient_unknown" },
};

/* The first step to take for each cause code of DESIGN.md. */
static const struct {
	const char *cause;
	const char *remedy;
} remedies[] = {
	{ "ip_blocklisted", "Find and stop the source of spam from this IP, then "
	    "request delisting on each listing blocklist's removal page." },
	{ "domain_blocklisted", "Find why the domain is listed (compromised site, "
	    "spam links), clean it up, then request delisting." },
	{ "rdns_missing", "Ask the owner of the IP range (your provider) to set a "
	    "PTR record to a name whose A/AAAA record points back to this IP." },
	{ "helo_invalid", "Make the server greet with its fully qualified name, "
	    "one that resolves to the sending IP (ideally the PTR name)." },
	{ "spf_fail", "Add the sending IP (or its provider's include) to the "
	    "sender domain's SPF record, and keep it under 10 DNS lookups." },
	{ "dkim_fail", "Sign outgoing mail with DKIM and publish the matching "
	    "public key at selector._domainkey of the signing domain." },
	{ "dmarc_fail", "Make SPF or DKIM pass with a domain aligned to the "
	    "From: domain before tightening the DMARC policy." },
	{ "unauthenticated", "Publish SPF and sign with DKIM so receivers can "
	    "authenticate mail from this domain." },
	{ "sender_domain_invalid", "Use a sender domain that exists and accepts "
	    "mail (MX or A record, no null MX)." },
	{ "sender_verify_failed", "Make the envelope sender address exist and "
	    "accept mail, since receivers call back to verify it." },
	{ "recipient_unknown", "Check the recipient address for typos and remove "
	    "addresses that do not exist from the list." },
	{ "recipient_disabled", "Remove the disabled mailbox from the list; it "
	    "will not accept mail again." },
	{ "mailbox_full", "Retry later or contact the recipient by other means; "
	    "remove the address if it stays full." },
	{ "relay_denied", "Send to the recipient domain's own MX, or "
	    "authenticate to the relay before sending." },
	{ "content_rejected", "Review the message content, links and "
	    "attachments that the receiver's filter flagged." },
	{ "message_too_large", "Send a smaller message: link to large files "
	    "instead of attaching them." },
	{ "rate_limited", "Slow down: send fewer messages per connection and per "
	    "hour to this receiver, and retry later." },
	{ "greylisted", "Nothing to fix: retry after a few minutes, as a "
	    "standard mail server queue does." },
	{ "policy_other", "Read the evidence and the receiver's postmaster "
	    "pages for its specific policy." },
};

const char *
verdict_status_name(enum verdict_status st)
{
	switch (st) {
	case VERDICT_CLEAN:
		return "clean";
	case VERDICT_AT_RISK:
		return "at_risk";
	case VERDICT_BLOCKED_LIKELY:
		return "blocked_likely";
	case VERDICT_INCONCLUSIVE:
		return "inconclusive";
	}
	return "inconclusive";
}

const char *
confidence_name(enum confidence c)
{
	switch (c) {
	case CONF_LOW:
		return "low";
	case CONF_MEDIUM:
		return "medium";
	case CONF_HIGH:
		return "high";
	}
	return "low";
}

static const char *
cause_of(const char *check)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(check_causes); i++)
		if (strcmp(check_causes[i].check, check) == 0)
			return check_causes[i].cause;
	return "policy_other";
}

static const char *
remedy_of(const char *cause)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(remedies); i++)
		if (strcmp(remedies[i].cause, cause) == 0)
			return remedies[i].remedy;
	return "Read the evidence for what to change.";
}

static struct cause *
cause_get(struct verdict *v, const char *code)
{
	struct cause *c;
	size_t i;

	for (i = 0; i < v->ncauses; i++)
		if (strcmp(v->causes[i].code, code) == 0)
			return &v->causes[i];
	v->causes = xrealloc(v->causes, (v->ncauses + 1) * sizeof(*v->causes));
	c = &v->causes[v->ncauses++];
	c->code = xstrdup(code);
	c->confidence = CONF_LOW;
	c->summary = NULL;
	c->evidence = json_array();
	c->remedy = xstrdup(remedy_of(code));
	return c;
}

static void
add_evidence(struct verdict *v, const struct report *rep, const struct finding *f)
{
	enum confidence conf = f->severity == SEV_FAIL ? CONF_HIGH : CONF_MEDIUM;
	struct cause *c = cause_get(v, cause_of(report_name(rep)));
	json_t *ev = json_object();

	json_object_set_new(ev, "check", json_str(report_name(rep)));
	json_object_set_new(ev, "finding", json_str(f->code));
	json_object_set_new(ev, "message", json_str(f->message));
	json_object_set_new(ev, "data", json_deep_copy(f->data));
	json_array_append_new(c->evidence, ev);
	/* the summary is the strongest evidence: the first one of the top confidence */
	if (c->summary == NULL || conf > c->confidence) {
		free(c->summary);
		c->summary = text_utf8_sanitize(f->message, strlen(f->message));
		c->confidence = conf;
	}
}

/* Rank: higher confidence first, then more evidence. */
static int
cmp_cause(const struct cause *x, const struct cause *y)
{
	size_t nx = json_array_size(x->evidence), ny = json_array_size(y->evidence);

	if (x->confidence != y->confidence)
		return x->confidence > y->confidence ? -1 : 1;
	if (nx != ny)
		return nx > ny ? -1 : 1;
	return 0;
}

/* Insertion sort: stable, so equal causes keep report order; n is small. */
static void
rank(struct verdict *v)
{
	size_t i, j;

	for (i = 1; i < v->ncauses; i++) {
		struct cause tmp = v->causes[i];

		for (j = i; j > 0 && cmp_cause(&v->causes[j - 1], &tmp) > 0; j--)
			v->causes[j] = v->causes[j - 1];
		v->causes[j] = tmp;
	}
}

void
verdict_build(struct verdict *v, const struct target *t,
    struct report *const *reports, size_t nreports)
{
	struct strbuf errored;
	bool high = false;
	size_t i, j;

	(void)t;
	memset(v, 0, sizeof(*v));
	strbuf_init(&errored);
	for (i = 0; i < nreports; i++) {
		const struct report *rep = reports[i];
		enum check_status st = report_status(rep);

		if (st == CHECK_SKIPPED)
			continue;
		if (st == CHECK_ERROR) {
			const char *why = report_reason(rep);

			strbuf_addf(&errored, "%s%s", errored.len ? ", " : "",
			    report_name(rep));
			if (why != NULL)
				strbuf_addf(&errored, " (%s)", why);
		}
		for (j = 0; j < report_nfindings(rep); j++) {
			const struct finding *f = report_finding(rep, j);

			if (f->severity == SEV_FAIL || f->severity == SEV_WARN)
				add_evidence(v, rep, f);
		}
	}
	rank(v);
	for (i = 0; i < v->ncauses; i++)
		if (v->causes[i].confidence == CONF_HIGH)
			high = true;
	if (high)
		v->status = VERDICT_BLOCKED_LIKELY;
	else if (errored.len > 0) {
		v->status = VERDICT_INCONCLUSIVE;
		v->note = xasprintf("checks that could not finish: %s", errored.buf);
	} else if (v->ncauses > 0)
		v->status = VERDICT_AT_RISK;
	else
		v->status = VERDICT_CLEAN;
	strbuf_release(&errored);
}

void
verdict_release(struct verdict *v)
{
	size_t i;

	for (i = 0; i < v->ncauses; i++) {
		free(v->causes[i].code);
		free(v->causes[i].summary);
		json_decref(v->causes[i].evidence);
		free(v->causes[i].remedy);
	}
	free(v->causes);
	free(v->note);
	memset(v, 0, sizeof(*v));
}

int
verdict_exit_code(const struct verdict *v, bool fail_on_at_risk)
{
	switch (v->status) {
	case VERDICT_CLEAN:
		return 0;
	case VERDICT_AT_RISK:
		return fail_on_at_risk ? 1 : 0;
	case VERDICT_BLOCKED_LIKELY:
		return 2;
	case VERDICT_INCONCLUSIVE:
		return 3;
	}
	return 3;
}
