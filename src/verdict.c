/* The verdict: rules from checks.d map findings (and the bounce) to ranked causes with evidence and a remedy. */
#include "src/verdict.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/textsafe.h"
#include "core/util.h"

/* Characters of one {field} value put into a summary or remedy. */
#define FIELD_MAX	300

const char *const verdict_cause_codes[] = {
	"ip_blocklisted", "domain_blocklisted", "rdns_missing", "helo_invalid",
	"spf_fail", "dkim_fail", "dmarc_fail", "unauthenticated",
	"sender_domain_invalid", "sender_verify_failed", "recipient_unknown",
	"recipient_disabled", "mailbox_full", "relay_denied", "content_rejected",
	"message_too_large", "rate_limited", "greylisted", "policy_other",
	NULL,
};

/* Which cause a finding without a rule points to, by the check that made it. */
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

/* The first step for each cause, for findings that have no rule. */
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

struct verdict_rule {
	char *label;		/* "check/code" or "check/code/cause" */
	const char *cause;	/* static spelling from verdict_cause_codes */
	enum confidence confidence;
	char *summary;
	char *remedy;
};

struct verdict_rules {
	struct verdict_rule *rules;
	size_t n;
	long combine_low;
	char **ignore_error;
	size_t nignore;
	char **precedence;	/* causes that rank first among equals, in order */
	size_t nprecedence;
};

/* What is known of one cause while the verdict is built. */
struct acc {
	struct cause c;
	bool from_bounce;	/* the receiver's own words point here */
	bool from_live;		/* a live check points here */
	size_t nlow;		/* distinct low-confidence signals */
};

struct build {
	struct acc *acc;
	size_t n;
	const struct target *t;
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
verdict_cause_lookup(const char *code)
{
	size_t i;

	for (i = 0; code != NULL && verdict_cause_codes[i] != NULL; i++)
		if (strcmp(verdict_cause_codes[i], code) == 0)
			return verdict_cause_codes[i];
	return NULL;
}

/* Rules. */

static void
rule_release(struct verdict_rule *r)
{
	free(r->label);
	free(r->summary);
	free(r->remedy);
	memset(r, 0, sizeof(*r));
}

void
verdict_rules_free(struct verdict_rules *rules)
{
	size_t i;

	if (rules == NULL)
		return;
	for (i = 0; i < rules->n; i++)
		rule_release(&rules->rules[i]);
	for (i = 0; i < rules->nignore; i++)
		free(rules->ignore_error[i]);
	for (i = 0; i < rules->nprecedence; i++)
		free(rules->precedence[i]);
	free(rules->rules);
	free(rules->ignore_error);
	free(rules->precedence);
	free(rules);
}

size_t
verdict_rules_count(const struct verdict_rules *rules)
{
	return rules != NULL ? rules->n : 0;
}

static bool
is_code(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/*
 * "check/code" or "check/code/cause", naming a registered check: a rule
 * for a misspelt check would never fire, and nobody would notice.
 */
static int
check_label(const struct conf_section *sec, struct error *err)
{
	const char *l = sec->label, *s1, *s2;
	char check[64];

	s1 = strchr(l, '/');
	s2 = s1 != NULL ? strchr(s1 + 1, '/') : NULL;
	if (s1 == NULL || !is_code(l, (size_t)(s1 - l)) ||
	    !is_code(s1 + 1, s2 != NULL ? (size_t)(s2 - s1 - 1) : strlen(s1 + 1)) ||
	    (s2 != NULL && verdict_cause_lookup(s2 + 1) == NULL))
		return conf_error(sec, NULL, err,
		    "[verdict \"%s\"]: the label is \"check/finding_code\" or "
		    "\"check/finding_code/cause_code\"", l);
	snprintf(check, sizeof(check), "%.*s", (int)(s1 - l), l);
	if (check_find(check) == NULL)
		return conf_error(sec, NULL, err, "[verdict \"%s\"]: no check is called '%s'",
		    l, check);
	return 0;
}

static int
load_rule(struct verdict_rules *rules, const struct conf_section *sec, struct error *err)
{
	static const char *const keys[] = { "cause", "confidence", "summary", "remedy", NULL };
	static const char *const required[] = { "cause", "confidence", "summary", "remedy" };
	struct verdict_rule r;
	size_t i;

	if (check_label(sec, err) < 0 || conf_section_check_keys(sec, keys, err) < 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(required); i++) {
		const char *v = conf_section_get(sec, required[i]);

		if (v == NULL || v[0] == '\0')
			return conf_error(sec, NULL, err, "[verdict \"%s\"] needs %s =",
			    sec->label, required[i]);
	}
	memset(&r, 0, sizeof(r));
	r.cause = verdict_cause_lookup(conf_section_get(sec, "cause"));
	if (r.cause == NULL)
		return conf_error(sec, NULL, err, "cause '%s' is not a cause code (see why550(1))",
		    conf_section_get(sec, "cause"));
	if (confidence_parse(conf_section_get(sec, "confidence"), &r.confidence) < 0)
		return conf_error(sec, NULL, err, "confidence '%s' is not high, medium or low",
		    conf_section_get(sec, "confidence"));
	r.label = xstrdup(sec->label);
	r.summary = xstrdup(conf_section_get(sec, "summary"));
	r.remedy = xstrdup(conf_section_get(sec, "remedy"));
	for (i = 0; i < rules->n; i++) {
		if (strcmp(rules->rules[i].label, r.label) == 0) {
			rule_release(&rules->rules[i]);
			rules->rules[i] = r;
			return 0;
		}
	}
	rules->rules = xrealloc(rules->rules, (rules->n + 1) * sizeof(*rules->rules));
	rules->rules[rules->n++] = r;
	return 0;
}

static int
load_global(struct verdict_rules *rules, const struct conf_section *sec, struct error *err)
{
	static const char *const keys[] = { "combine_low", "ignore_error", "precedence", NULL };
	size_t i;

	if (conf_section_check_keys(sec, keys, err) < 0 ||
	    conf_section_get_int(sec, "combine_low", 0, 100, &rules->combine_low, err) < 0)
		return -1;
	for (i = 0; i < sec->nentries; i++) {
		const struct conf_entry *e = &sec->entries[i];

		if (strcmp(e->key, "precedence") == 0) {
			if (verdict_cause_lookup(e->value) == NULL)
				return conf_error(sec, e, err, "precedence '%s' is not a cause code",
				    e->value);
			rules->precedence = xrealloc(rules->precedence,
			    (rules->nprecedence + 1) * sizeof(*rules->precedence));
			rules->precedence[rules->nprecedence++] = xstrdup(e->value);
			continue;
		}
		if (strcmp(e->key, "ignore_error") != 0)
			continue;
		if (!is_code(e->value, strlen(e->value)))
			return conf_error(sec, e, err, "ignore_error '%s' is not a check name",
			    e->value);
		rules->ignore_error = xrealloc(rules->ignore_error,
		    (rules->nignore + 1) * sizeof(*rules->ignore_error));
		rules->ignore_error[rules->nignore++] = xstrdup(e->value);
	}
	return 0;
}

struct verdict_rules *
verdict_rules_load(const struct conf *conf, struct error *err)
{
	struct verdict_rules *rules = xcalloc(1, sizeof(*rules));
	const struct conf_section *sec = NULL;

	rules->combine_low = 2;
	while ((sec = conf_next(conf, sec, "verdict")) != NULL) {
		if (sec->label == NULL ? load_global(rules, sec, err) < 0 :
		    load_rule(rules, sec, err) < 0) {
			verdict_rules_free(rules);
			return NULL;
		}
	}
	return rules;
}

static const struct verdict_rule *
find_rule(const struct verdict_rules *rules, const char *check, const char *code,
    const char *cause)
{
	char label[256];
	size_t i;

	if (rules == NULL)
		return NULL;
	if (cause != NULL) {
		snprintf(label, sizeof(label), "%s/%s/%s", check, code, cause);
		for (i = 0; i < rules->n; i++)
			if (strcmp(rules->rules[i].label, label) == 0)
				return &rules->rules[i];
	}
	snprintf(label, sizeof(label), "%s/%s", check, code);
	for (i = 0; i < rules->n; i++)
		if (strcmp(rules->rules[i].label, label) == 0)
			return &rules->rules[i];
	return NULL;
}

/* Templates. */

static void
add_capped(struct strbuf *sb, const char *s)
{
	size_t n = strlen(s);

	if (n > FIELD_MAX) {
		n = FIELD_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		strbuf_add(sb, s, n);
		strbuf_addstr(sb, "...");
		return;
	}
	strbuf_add(sb, s, n);
}

/* A scalar as text; false for null, objects and empty strings. */
static bool
add_scalar(struct strbuf *sb, const json_t *v)
{
	char num[64];

	switch (json_typeof(v)) {
	case JSON_STRING:
		if (json_string_length(v) == 0)
			return false;
		add_capped(sb, json_string_value(v));
		return true;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		strbuf_addstr(sb, num);
		return true;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%g", json_real_value(v));
		strbuf_addstr(sb, num);
		return true;
	case JSON_TRUE:
		strbuf_addstr(sb, "yes");
		return true;
	case JSON_FALSE:
		strbuf_addstr(sb, "no");
		return true;
	default:
		return false;
	}
}

/* The value of field in data (arrays joined with ", "), else the target's; false if neither. */
static bool
add_field(struct strbuf *sb, const json_t *data, const struct target *t, const char *field)
{
	const json_t *v = data != NULL ? json_object_get(data, field) : NULL;
	const char *tv = NULL;
	struct strbuf item;
	size_t i;

	if (json_is_array(v)) {
		bool any = false;

		for (i = 0; i < json_array_size(v); i++) {
			strbuf_init(&item);
			if (add_scalar(&item, json_array_get(v, i))) {
				if (any)
					strbuf_addstr(sb, ", ");
				strbuf_add(sb, item.buf, item.len);
				any = true;
			}
			strbuf_release(&item);
		}
		if (any)
			return true;
	} else if (v != NULL && add_scalar(sb, v)) {
		return true;
	}
	if (t == NULL)
		return false;
	if (strcmp(field, "ip") == 0)
		tv = t->ip;
	else if (strcmp(field, "helo") == 0)
		tv = t->helo;
	else if (strcmp(field, "mail_from") == 0)
		tv = t->mail_from;
	else if (strcmp(field, "rcpt_to") == 0)
		tv = t->rcpt_to;
	else if (strcmp(field, "mail_domain") == 0)
		tv = t->mail_domain;
	else if (strcmp(field, "rcpt_domain") == 0)
		tv = t->rcpt_domain;
	if (tv == NULL || tv[0] == '\0')
		return false;
	add_capped(sb, tv);
	return true;
}

/*
 * tmpl with each {field} or {field|default} replaced. A field that is
 * absent and has no default becomes "(unknown)". Fresh valid UTF-8.
 */
static char *
expand(const char *tmpl, const json_t *data, const struct target *t)
{
	struct strbuf sb;
	const char *p = tmpl;
	char *out;

	strbuf_init(&sb);
	while (*p != '\0') {
		const char *close, *bar;
		char field[64];
		size_t n;

		if (*p != '{' || (close = strchr(p, '}')) == NULL) {
			strbuf_add(&sb, p, 1);
			p++;
			continue;
		}
		bar = memchr(p, '|', (size_t)(close - p));
		n = (size_t)((bar != NULL ? bar : close) - p - 1);
		if (n == 0 || n >= sizeof(field) || !is_code(p + 1, n)) {
			strbuf_add(&sb, p, 1);
			p++;
			continue;
		}
		memcpy(field, p + 1, n);
		field[n] = '\0';
		if (!add_field(&sb, data, t, field)) {
			if (bar != NULL)
				strbuf_add(&sb, bar + 1, (size_t)(close - bar - 1));
			else
				strbuf_addstr(&sb, "(unknown)");
		}
		p = close + 1;
	}
	out = text_utf8_sanitize(sb.buf != NULL ? sb.buf : "", sb.len);
	strbuf_release(&sb);
	return out;
}

/* Accumulating causes. */

static struct acc *
acc_get(struct build *b, const char *code)
{
	struct acc *a;
	size_t i;

	for (i = 0; i < b->n; i++)
		if (strcmp(b->acc[i].c.code, code) == 0)
			return &b->acc[i];
	b->acc = xrealloc(b->acc, (b->n + 1) * sizeof(*b->acc));
	a = &b->acc[b->n++];
	memset(a, 0, sizeof(*a));
	a->c.code = xstrdup(code);
	a->c.confidence = CONF_LOW;
	a->c.evidence = json_array();
	return a;
}

static struct acc *
acc_find(struct build *b, const char *code)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (strcmp(b->acc[i].c.code, code) == 0)
			return &b->acc[i];
	return NULL;
}

/* Sets the text of a cause when this evidence is the strongest so far (summary and remedy are stolen). */
static void
acc_offer(struct acc *a, enum confidence conf, char *summary, char *remedy)
{
	if (a->c.summary == NULL || conf > a->c.confidence) {
		free(a->c.summary);
		free(a->c.remedy);
		a->c.summary = summary;
		a->c.remedy = remedy;
		a->c.confidence = conf;
		return;
	}
	free(summary);
	free(remedy);
}

static json_t *
evidence_new(const char *check, const char *finding, const char *message, const json_t *data)
{
	json_t *ev = json_object();

	json_object_set_new(ev, "check", json_str(check));
	json_object_set_new(ev, "finding", json_str(finding));
	json_object_set_new(ev, "message", json_str(message));
	json_object_set_new(ev, "data", data != NULL ? json_deep_copy(data) : json_object());
	return ev;
}

static bool
same_signal(const json_t *evidence, const char *check, const char *finding)
{
	size_t i;

	for (i = 0; i < json_array_size(evidence); i++) {
		const json_t *ev = json_array_get(evidence, i);

		if (strcmp(json_string_value(json_object_get(ev, "check")), check) == 0 &&
		    strcmp(json_string_value(json_object_get(ev, "finding")), finding) == 0)
			return true;
	}
	return false;
}

static const char *
cause_of_check(const char *check)
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

static bool
is_bounce(const struct report *rep)
{
	return strcmp(report_name(rep), "bounce") == 0;
}

/* One warn or fail finding of rep turned into evidence for its cause. */
static void
add_finding(struct build *b, const struct verdict_rules *rules, const struct report *rep,
    const struct finding *f, bool errored)
{
	const char *check = report_name(rep);
	const char *dcause = json_string_value(json_object_get(f->data, "cause"));
	const struct verdict_rule *rule = find_rule(rules, check, f->code, dcause);
	enum confidence conf, dconf;
	const char *cause;
	char *summary, *remedy;
	struct acc *a;
	json_t *ev;

	/* with rules loaded, a warning no rule names stays in the checks table: it is not a cause */
	if (rule == NULL && rules != NULL && f->severity != SEV_FAIL)
		return;
	if (rule != NULL) {
		cause = rule->cause;
		conf = rule->confidence;
		/* a finding may know it is less sure than its rule, never more */
		if (confidence_parse(json_string_value(json_object_get(f->data, "confidence")),
		    &dconf) == 0 && dconf < conf)
			conf = dconf;
		summary = expand(rule->summary, f->data, b->t);
		remedy = expand(rule->remedy, f->data, b->t);
	} else {
		cause = cause_of_check(check);
		conf = f->severity == SEV_FAIL ? CONF_HIGH : CONF_MEDIUM;
		summary = text_utf8_sanitize(f->message, strlen(f->message));
		remedy = xstrdup(remedy_of(cause));
	}
	a = acc_get(b, cause);
	ev = evidence_new(check, f->code, f->message, f->data);
	if (errored) {
		/* part of the check failed: what it saw is less certain, never more */
		if (conf > CONF_LOW)
			conf--;
		json_object_set_new(ev, "note",
		    json_string("the check did not finish, so this is less certain"));
	}
	if (conf == CONF_LOW && !same_signal(a->c.evidence, check, f->code))
		a->nlow++;
	json_array_append_new(a->c.evidence, ev);
	acc_offer(a, conf, summary, remedy);
	if (is_bounce(rep))
		a->from_bounce = true;
	else
		a->from_live = true;
}

/* The bounce and the live checks. */

static const struct report *
report_named(struct report *const *reports, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (reports[i] != NULL && strcmp(report_name(reports[i]), name) == 0 &&
		    report_status(reports[i]) != CHECK_SKIPPED)
			return reports[i];
	return NULL;
}

/* Last two labels of a zone ("zen.spamhaus.org" -> "spamhaus.org"): who runs the list. */
static const char *
operator_of(const char *zone)
{
	const char *last = strrchr(zone, '.'), *p;

	if (last == NULL)
		return zone;
	for (p = last - 1; p > zone; p--)
		if (*p == '.')
			return p + 1;
	return zone;
}

/*
 * The zone the bounce named, or another list of the same operator and
 * kind (zen.spamhaus.org answers for sbl.spamhaus.org, not for its DBL).
 */
static bool
same_list(const char *named, bool named_domain, const char *zone, const char *kind)
{
	bool domain = kind != NULL && strcmp(kind, "domain") == 0;

	return strcasecmp(named, zone) == 0 ||
	    (domain == named_domain && strcasecmp(operator_of(named), operator_of(zone)) == 0);
}

/* The finding of rep whose data "zone" is zone, to cite as evidence. */
static const struct finding *
finding_for_zone(const struct report *rep, const char *zone)
{
	size_t i;

	for (i = 0; i < report_nfindings(rep); i++) {
		const struct finding *f = report_finding(rep, i);
		const char *z = json_string_value(json_object_get(f->data, "zone"));

		if (z != NULL && strcasecmp(z, zone) == 0 && f->severity != SEV_INFO)
			return f;
	}
	return NULL;
}

enum list_state {
	LIST_UNCHECKED = 0,	/* no list check asked it */
	LIST_CLEAR,		/* asked: not listed */
	LIST_FAILED,		/* asked: refused, error, unexpected */
	LIST_CONFIRMED,		/* asked: listed now */
};

/*
 * What the live list checks say about a list the bounce named: the state,
 * and for a confirmed listing its entry and the report it came from.
 */
static enum list_state
list_state(struct report *const *reports, size_t n, const char *named, bool named_domain,
    const json_t **entry, const struct report **from)
{
	static const char *const checks[] = { "dnsbl", "dbl" };
	enum list_state st = LIST_UNCHECKED;
	size_t c, i;

	*entry = NULL;
	*from = NULL;
	for (c = 0; c < ARRAY_SIZE(checks); c++) {
		const struct report *rep = report_named(reports, n, checks[c]);
		const json_t *lists;

		if (rep == NULL)
			continue;
		lists = json_object_get(report_data_const(rep), "lists");
		for (i = 0; i < json_array_size(lists); i++) {
			const json_t *e = json_array_get(lists, i);
			const char *zone = json_string_value(json_object_get(e, "zone"));
			const char *status = json_string_value(json_object_get(e, "status"));

			if (zone == NULL || status == NULL || !same_list(named, named_domain, zone,
			    json_string_value(json_object_get(e, "kind"))))
				continue;
			if (strcmp(status, "listed") == 0) {
				*entry = e;
				*from = rep;
				return LIST_CONFIRMED;
			}
			if (strcmp(status, "not_listed") == 0) {
				if (st == LIST_UNCHECKED)
					st = LIST_CLEAR;
			} else if (strcmp(status, "ignored") != 0) {
				st = LIST_FAILED;
			}
		}
	}
	return st;
}

static void
confirm_listing(struct build *b, const char *named, const json_t *entry,
    const struct report *from)
{
	const char *kind = json_string_value(json_object_get(entry, "kind"));
	const char *zone = json_string_value(json_object_get(entry, "zone"));
	const char *subject = json_string_value(json_object_get(entry, "subject"));
	const char *url = json_string_value(json_object_get(entry, "delist_url"));
	const struct finding *lf = finding_for_zone(from, zone);
	struct acc *a = acc_get(b, kind != NULL && strcmp(kind, "domain") == 0 ?
	    "domain_blocklisted" : "ip_blocklisted");
	char *msg, *summary, *remedy;

	if (subject == NULL)
		subject = b->t->ip != NULL ? b->t->ip : "the sender";
	msg = xasprintf("the receiver named %s, and %s lists %s now", named, zone, subject);
	json_array_append_new(a->c.evidence, evidence_new(report_name(from),
	    lf != NULL ? lf->code : "list_status", msg, entry));
	summary = xasprintf("The receiver refused the mail because of %s, and %s lists %s "
	    "right now: this listing is the block.", named, zone, subject);
	if (json_is_true(json_object_get(entry, "policy")))
		/* a policy listing (PBL-style) says "do not send direct", not "you sent spam" */
		remedy = xasprintf("%s is end-user address space that %s says should not send "
		    "straight to mail servers: send through your provider's outgoing mail server "
		    "(smarthost, port 587 with authentication) instead of direct to port 25; if "
		    "it really is a mail server, ask its owner to have the range removed%s%s.",
		    subject, zone, url != NULL && url[0] != '\0' ? " at " : "",
		    url != NULL && url[0] != '\0' ? url : "");
	else if (url != NULL && url[0] != '\0')
		remedy = xasprintf("Find and stop what sent spam from %s (an infected machine, "
		    "an open relay, a compromised account), then request removal at %s and "
		    "retry.", subject, url);
	else
		remedy = xasprintf("Find and stop what sent spam from %s (an infected machine, "
		    "an open relay, a compromised account), then request removal on the "
		    "website of %s and retry.", subject, zone);
	free(a->c.summary);
	free(a->c.remedy);
	a->c.summary = text_utf8_sanitize(summary, strlen(summary));
	a->c.remedy = text_utf8_sanitize(remedy, strlen(remedy));
	a->c.confidence = CONF_HIGH;
	a->from_bounce = a->from_live = true;
	free(summary);
	free(remedy);
	free(msg);
}

/* Adds a note to the bounce's evidence item of cause. */
static void
note_bounce(struct acc *a, const char *note)
{
	size_t i;

	for (i = 0; i < json_array_size(a->c.evidence); i++) {
		json_t *ev = json_array_get(a->c.evidence, i);
		const json_t *old;
		char *joined;

		if (strcmp(json_string_value(json_object_get(ev, "check")), "bounce") != 0)
			continue;
		old = json_object_get(ev, "note");
		if (json_is_string(old)) {
			joined = xasprintf("%s; %s", json_string_value(old), note);
			json_object_set_new(ev, "note", json_str(joined));
			free(joined);
		} else {
			json_object_set_new(ev, "note", json_str(note));
		}
		return;
	}
}

/*
 * The bounce named blocklists: a list that lists the IP now confirms the
 * block (high); lists that are checked and do not list it mean it was
 * delisted since, or the receiver uses a private list of that name.
 */
static void
combine_lists(struct build *b, struct report *const *reports, size_t n,
    const struct finding *bf)
{
	const json_t *lists = json_object_get(bf->data, "lists");
	const char *bcause = json_string_value(json_object_get(bf->data, "cause"));
	struct acc *a = bcause != NULL ? acc_find(b, bcause) : NULL;
	bool confirmed = false, all_clear = json_array_size(lists) > 0;
	struct strbuf clear;
	size_t i;

	strbuf_init(&clear);
	for (i = 0; i < json_array_size(lists); i++) {
		const char *named = json_string_value(json_array_get(lists, i));
		const struct report *from;
		const json_t *entry;
		enum list_state st;
		char *note;

		if (named == NULL)
			continue;
		/* a receiver's own list ("microsoft's own list") has no DNS zone to ask */
		if (strchr(named, ' ') != NULL) {
			all_clear = false;
			if (a != NULL) {
				note = xasprintf("%s cannot be looked up: only the receiver's "
				    "delisting page or postmaster can tell", named);
				note_bounce(a, note);
				free(note);
			}
			continue;
		}
		st = list_state(reports, n, named, bcause != NULL &&
		    strcmp(bcause, "domain_blocklisted") == 0, &entry, &from);
		if (st != LIST_CLEAR)
			all_clear = false;
		switch (st) {
		case LIST_CONFIRMED:
			confirm_listing(b, named, entry, from);
			confirmed = true;
			break;
		case LIST_CLEAR:
			strbuf_addf(&clear, "%s%s", clear.len ? ", " : "", named);
			break;
		case LIST_FAILED:
			if (a != NULL) {
				note = xasprintf("%s could not be asked now (the query failed or "
				    "was refused), so the listing is not confirmed", named);
				note_bounce(a, note);
				free(note);
			}
			break;
		case LIST_UNCHECKED:
			if (a != NULL) {
				note = b->t->ip == NULL ?
				    xasprintf("give --ip to check whether %s lists the IP now", named) :
				    xasprintf("%s is not among the lists checked (add it to "
				    "checks.d/dnsbl.conf to check it)", named);
				note_bounce(a, note);
				free(note);
			}
			break;
		}
	}
	if (!confirmed && all_clear && a != NULL &&
	    (strcmp(a->c.code, "ip_blocklisted") == 0 ||
	    strcmp(a->c.code, "domain_blocklisted") == 0)) {
		char *summary = xasprintf("The receiver said %s blocked the mail, but %s does not "
		    "list it now: it was delisted since, or the receiver uses a private list "
		    "of that name.", clear.buf, clear.buf);
		char *note = xasprintf("%s does not list it now", clear.buf);

		free(a->c.summary);
		a->c.summary = text_utf8_sanitize(summary, strlen(summary));
		free(a->c.remedy);
		a->c.remedy = xstrdup("Retry the delivery: if the listing has expired it will "
		    "be accepted. If it is refused again, ask the receiver's postmaster which "
		    "list they use, since it is not the public one.");
		if (a->c.confidence > CONF_MEDIUM)
			a->c.confidence = CONF_MEDIUM;
		note_bounce(a, note);
		free(summary);
		free(note);
	}
	strbuf_release(&clear);
}

/* "User unknown" is about the recipient, not the IP: say what the recipient check saw. */
static void
combine_recipient(struct build *b, struct report *const *reports, size_t n,
    const struct finding *bf)
{
	const char *bcause = json_string_value(json_object_get(bf->data, "cause"));
	const struct report *rrep;
	struct acc *a;
	size_t i;
	bool problem = false;

	if (bcause == NULL || (strcmp(bcause, "recipient_unknown") != 0 &&
	    strcmp(bcause, "recipient_disabled") != 0 && strcmp(bcause, "mailbox_full") != 0))
		return;
	if ((a = acc_find(b, bcause)) == NULL)
		return;
	rrep = report_named(reports, n, "recipient");
	if (rrep == NULL) {
		note_bounce(a, b->t->rcpt_to == NULL ?
		    "give --to with the address to check the recipient's domain" :
		    "the recipient check did not run");
		return;
	}
	for (i = 0; i < report_nfindings(rrep); i++) {
		enum finding_severity sev = report_finding(rrep, i)->severity;

		if (sev == SEV_WARN || sev == SEV_FAIL)
			problem = true;
	}
	if (!problem && report_status(rrep) != CHECK_ERROR)
		note_bounce(a, "the recipient's domain accepts mail, so it is this mailbox "
		    "the receiver does not take");
}

/* Ranking and status. */

/* Where a cause stands in the configured precedence; those not listed come after. */
static size_t
precedence_of(const struct verdict_rules *rules, const char *code)
{
	size_t i;

	for (i = 0; rules != NULL && i < rules->nprecedence; i++)
		if (strcmp(rules->precedence[i], code) == 0)
			return i;
	return SIZE_MAX;
}

/*
 * Higher confidence first, then what the receiver said, then the causes
 * that decide the others (DMARC is what a receiver enforces; SPF and DKIM
 * explain it), then more evidence.
 */
static int
cmp_acc(const struct verdict_rules *rules, const struct acc *x, const struct acc *y)
{
	size_t nx = json_array_size(x->c.evidence), ny = json_array_size(y->c.evidence);
	size_t px = precedence_of(rules, x->c.code), py = precedence_of(rules, y->c.code);

	if (x->c.confidence != y->c.confidence)
		return x->c.confidence > y->c.confidence ? -1 : 1;
	if (x->from_bounce != y->from_bounce)
		return x->from_bounce ? -1 : 1;
	if (px != py)
		return px < py ? -1 : 1;
	if (nx != ny)
		return nx > ny ? -1 : 1;
	return 0;
}

/* Insertion sort: stable, so equal causes keep report order; n is small. */
static void
rank(struct build *b, const struct verdict_rules *rules)
{
	size_t i, j;

	for (i = 1; i < b->n; i++) {
		struct acc tmp = b->acc[i];

		for (j = i; j > 0 && cmp_acc(rules, &b->acc[j - 1], &tmp) > 0; j--)
			b->acc[j] = b->acc[j - 1];
		b->acc[j] = tmp;
	}
}

static bool
error_ignored(const struct verdict_rules *rules, const char *check)
{
	size_t i;

	for (i = 0; rules != NULL && i < rules->nignore; i++)
		if (strcmp(rules->ignore_error[i], check) == 0)
			return true;
	return false;
}

void
verdict_build_rules(struct verdict *v, const struct verdict_rules *rules,
    const struct target *t, struct report *const *reports, size_t nreports)
{
	struct target none;
	struct strbuf errored;
	struct build b;
	const struct finding *bf = NULL;
	long combine = rules != NULL ? rules->combine_low : 2;
	bool high = false;
	size_t i, j;

	memset(v, 0, sizeof(*v));
	memset(&b, 0, sizeof(b));
	if (t == NULL) {
		memset(&none, 0, sizeof(none));
		t = &none;
	}
	b.t = t;
	strbuf_init(&errored);
	for (i = 0; i < nreports; i++) {
		const struct report *rep = reports[i];
		enum check_status st;
		bool err;

		if (rep == NULL || (st = report_status(rep)) == CHECK_SKIPPED)
			continue;
		err = st == CHECK_ERROR;
		if (err && !error_ignored(rules, report_name(rep))) {
			const char *why = report_reason(rep);

			strbuf_addf(&errored, "%s%s", errored.len ? ", " : "", report_name(rep));
			if (why != NULL)
				strbuf_addf(&errored, " (%s)", why);
		}
		for (j = 0; j < report_nfindings(rep); j++) {
			const struct finding *f = report_finding(rep, j);

			/* an error is the lack of an answer, never evidence of a cause */
			if (f->severity == SEV_FAIL || f->severity == SEV_WARN)
				add_finding(&b, rules, rep, f, err);
			if (is_bounce(rep) && strcmp(f->code, "bounce_classified") == 0)
				bf = f;
		}
	}
	if (bf != NULL) {
		combine_lists(&b, reports, nreports, bf);
		combine_recipient(&b, reports, nreports, bf);
	}
	for (i = 0; i < b.n; i++) {
		struct acc *a = &b.acc[i];

		/* the receiver said it and a check sees it now */
		if (a->from_bounce && a->from_live && a->c.confidence < CONF_HIGH)
			a->c.confidence++;
		/* several weak signals make a medium one */
		if (combine > 0 && a->c.confidence == CONF_LOW && a->nlow >= (size_t)combine)
			a->c.confidence = CONF_MEDIUM;
		if (a->c.confidence == CONF_HIGH)
			high = true;
	}
	rank(&b, rules);
	v->ncauses = b.n;
	v->causes = b.n > 0 ? xcalloc(b.n, sizeof(*v->causes)) : NULL;
	for (i = 0; i < b.n; i++)
		v->causes[i] = b.acc[i].c;
	free(b.acc);
	if (high) {
		v->status = VERDICT_BLOCKED_LIKELY;
	} else if (errored.len > 0) {
		/* no honest "clean" or "at risk" when a check that matters did not finish */
		v->status = VERDICT_INCONCLUSIVE;
		v->note = xasprintf("checks that could not finish: %s", errored.buf);
	} else if (v->ncauses > 0) {
		v->status = VERDICT_AT_RISK;
	} else {
		v->status = VERDICT_CLEAN;
	}
	strbuf_release(&errored);
}

void
verdict_build(struct verdict *v, const struct target *t,
    struct report *const *reports, size_t nreports)
{
	verdict_build_rules(v, NULL, t, reports, nreports);
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
