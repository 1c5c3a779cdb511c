/* The verdict: rules from checks.d map findings (and the bounce) to ranked causes with evidence and a remedy. */
#include "src/verdict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks/dnsbl/dnsbl.h"
#include "checks/dnsbl/list.h"
#include "core/textsafe.h"
#include "core/util.h"

/* Characters of one {field} value put into a summary or remedy. */
#define FIELD_MAX	300
/* How deep a {field|default} may sit inside another's default. */
#define NEST_MAX	2
/* The remedy of a cause that no rule words: only without any rules loaded. */
#define BARE_REMEDY	"Read the evidence for what to change."

struct verdict_rule {
	char *label;		/* "*", "check", "check/code" or "check/code/cause" */
	enum cause_code cause;
	enum confidence confidence;
	char *summary;		/* NULL: the finding's own message */
	char *remedy;
};

struct verdict_rules {
	struct verdict_rule *rules;
	size_t n;
	long combine_low;
	char **ignore_error;
	size_t nignore;
	enum cause_code *precedence;	/* causes that rank first among equals, in order */
	size_t nprecedence;
};

/* What is known of one cause while the verdict is built. */
struct acc {
	struct cause c;
	bool from_bounce;	/* the receiver's own words point here */
	bool from_live;		/* a live check points here */
	size_t nlow;		/* distinct low-confidence signals */
};

/* The receivers' replies of one target: the bounce's, the SMTP probe's. */
#define MAX_REPLIES	4

struct build {
	struct acc *acc;	/* grows: never keep a pointer into it across acc_get() */
	size_t n;
	const struct target *t;
	const struct verdict_rules *rules;	/* may be NULL */
	const struct finding *replies[MAX_REPLIES];
	const char *reply_checks[MAX_REPLIES];
	size_t nreplies;
	const char *reply_check;	/* the check of the reply being combined */
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
is_code_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static bool
is_code(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!is_code_char(s[i]))
			return false;
	return true;
}

/*
 * "*", "check", "check/code" or "check/code/cause", naming a registered
 * check: a rule for a misspelt check would never fire, and nobody would
 * notice.
 */
static int
check_label(const struct conf_section *sec, struct error *err)
{
	const char *l = sec->label, *s1, *s2;
	enum cause_code cause;
	char check[64];
	size_t n;

	if (strcmp(l, "*") == 0)
		return 0;
	s1 = strchr(l, '/');
	s2 = s1 != NULL ? strchr(s1 + 1, '/') : NULL;
	n = s1 != NULL ? (size_t)(s1 - l) : strlen(l);
	if (!is_code(l, n) || (s1 != NULL &&
	    !is_code(s1 + 1, s2 != NULL ? (size_t)(s2 - s1 - 1) : strlen(s1 + 1))) ||
	    (s2 != NULL && cause_parse(s2 + 1, &cause) < 0))
		return conf_error(sec, NULL, err,
		    "[verdict \"%s\"]: the label is \"*\", \"check\", \"check/finding_code\" or "
		    "\"check/finding_code/cause_code\"", l);
	snprintf(check, sizeof(check), "%.*s", (int)n, l);
	if (check_find(check) == NULL)
		return conf_error(sec, NULL, err, "[verdict \"%s\"]: no check is called '%s'",
		    l, check);
	return 0;
}

static int
load_rule(struct verdict_rules *rules, const struct conf_section *sec, struct error *err)
{
	static const char *const keys[] = { "cause", "confidence", "summary", "remedy", NULL };
	static const char *const required[] = { "cause", "confidence", "remedy" };
	struct verdict_rule r;
	const char *summary = conf_section_get(sec, "summary");
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
	if (cause_parse(conf_section_get(sec, "cause"), &r.cause) < 0)
		return conf_error(sec, NULL, err, "cause '%s' is not a cause code (see why550(1))",
		    conf_section_get(sec, "cause"));
	if (confidence_parse(conf_section_get(sec, "confidence"), &r.confidence) < 0)
		return conf_error(sec, NULL, err, "confidence '%s' is not high, medium or low",
		    conf_section_get(sec, "confidence"));
	r.label = xstrdup(sec->label);
	r.summary = summary != NULL && summary[0] != '\0' ? xstrdup(summary) : NULL;
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
add_precedence(struct verdict_rules *rules, const struct conf_section *sec,
    const struct conf_entry *e, struct error *err)
{
	enum cause_code c;

	if (cause_parse(e->value, &c) < 0)
		return conf_error(sec, e, err, "precedence '%s' is not a cause code", e->value);
	rules->precedence = xrealloc(rules->precedence,
	    (rules->nprecedence + 1) * sizeof(*rules->precedence));
	rules->precedence[rules->nprecedence++] = c;
	return 0;
}

static int
add_ignore_error(struct verdict_rules *rules, const struct conf_section *sec,
    const struct conf_entry *e, struct error *err)
{
	if (!is_code(e->value, strlen(e->value)))
		return conf_error(sec, e, err, "ignore_error '%s' is not a check name", e->value);
	rules->ignore_error = xrealloc(rules->ignore_error,
	    (rules->nignore + 1) * sizeof(*rules->ignore_error));
	rules->ignore_error[rules->nignore++] = xstrdup(e->value);
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

		if (strcmp(e->key, "precedence") == 0 && add_precedence(rules, sec, e, err) < 0)
			return -1;
		if (strcmp(e->key, "ignore_error") == 0 && add_ignore_error(rules, sec, e, err) < 0)
			return -1;
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
find_label(const struct verdict_rules *rules, const char *label)
{
	size_t i;

	for (i = 0; rules != NULL && i < rules->n; i++)
		if (strcmp(rules->rules[i].label, label) == 0)
			return &rules->rules[i];
	return NULL;
}

/* The rule of finding code of check: "check/code/cause" first (for a cause), then "check/code". */
static const struct verdict_rule *
find_rule(const struct verdict_rules *rules, const char *check, const char *code,
    enum cause_code cause)
{
	const struct verdict_rule *r = NULL;
	char label[256];

	if (cause != CAUSE_NONE) {
		snprintf(label, sizeof(label), "%s/%s/%s", check, code, cause_name(cause));
		r = find_label(rules, label);
	}
	if (r == NULL) {
		snprintf(label, sizeof(label), "%s/%s", check, code);
		r = find_label(rules, label);
	}
	return r;
}

/* The rule of a fail finding of check that has none of its own: "check", then "*". */
static const struct verdict_rule *
find_default(const struct verdict_rules *rules, const char *check)
{
	const struct verdict_rule *r = find_label(rules, check);

	return r != NULL ? r : find_label(rules, "*");
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
 * The length of the field name of a placeholder at p ("{name}" or
 * "{name|"), or 0 when p starts none.
 */
static size_t
placeholder_name(const char *p, const char *lim)
{
	size_t n = 0;

	if (*p != '{')
		return 0;
	while (p + 1 + n < lim && is_code_char(p[1 + n]))
		n++;
	if (n == 0 || n >= 64 || p + 1 + n >= lim || (p[1 + n] != '}' && p[1 + n] != '|'))
		return 0;
	return n;
}

/* The '}' that closes the '{' at p, or NULL when none does before lim. */
static const char *
closing_brace(const char *p, const char *lim)
{
	int open = 0;

	for (; p < lim; p++) {
		if (*p == '{')
			open++;
		else if (*p == '}' && --open == 0)
			return p;
	}
	return NULL;
}

/*
 * len bytes of tmpl into sb, each {field} or {field|default} replaced; a
 * default is itself expanded depth levels down at most. A field that is
 * absent and has no default becomes "(unknown)".
 */
static void
expand_into(struct strbuf *sb, const char *tmpl, size_t len, const json_t *data,
    const struct target *t, int depth)
{
	const char *p = tmpl, *lim = tmpl + len;

	while (p < lim) {
		size_t n = placeholder_name(p, lim);
		const char *bar = p + 1 + n, *close;
		char field[64];

		close = n == 0 ? NULL : *bar == '}' ? bar : closing_brace(p, lim);
		if (close == NULL) {
			strbuf_add(sb, p, 1);
			p++;
			continue;
		}
		memcpy(field, p + 1, n);
		field[n] = '\0';
		if (!add_field(sb, data, t, field)) {
			if (*bar != '|')
				strbuf_addstr(sb, "(unknown)");
			else if (depth < NEST_MAX)
				expand_into(sb, bar + 1, (size_t)(close - bar - 1), data, t, depth + 1);
			else
				strbuf_add(sb, bar + 1, (size_t)(close - bar - 1));
		}
		p = close + 1;
	}
}

/* tmpl expanded with data and t: a fresh, valid UTF-8 string. */
static char *
expand(const char *tmpl, const json_t *data, const struct target *t)
{
	struct strbuf sb;
	char *out;

	strbuf_init(&sb);
	expand_into(&sb, tmpl, strlen(tmpl), data, t, 0);
	out = text_utf8_sanitize(sb.buf != NULL ? sb.buf : "", sb.len);
	strbuf_release(&sb);
	return out;
}

/* The summary rule r gives: its template expanded, else message (r may be NULL). Fresh. */
static char *
rule_summary(const struct verdict_rule *r, const char *message, const json_t *data,
    const struct target *t)
{
	if (r != NULL && r->summary != NULL)
		return expand(r->summary, data, t);
	return text_utf8_sanitize(message, strlen(message));
}

/* The remedy rule r gives (r may be NULL). Fresh. */
static char *
rule_remedy(const struct verdict_rule *r, const json_t *data, const struct target *t)
{
	return expand(r != NULL ? r->remedy : BARE_REMEDY, data, t);
}

/* Accumulating causes. */

static struct acc *
acc_find(struct build *b, enum cause_code code)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->acc[i].c.code == code)
			return &b->acc[i];
	return NULL;
}

/* The cause code, found or added; pointers into b->acc from before are stale after. */
static struct acc *
acc_get(struct build *b, enum cause_code code)
{
	struct acc *a = acc_find(b, code);

	if (a != NULL)
		return a;
	b->acc = xrealloc(b->acc, (b->n + 1) * sizeof(*b->acc));
	a = &b->acc[b->n++];
	memset(a, 0, sizeof(*a));
	a->c.code = code;
	a->c.confidence = CONF_LOW;
	a->c.evidence = json_array();
	return a;
}

/* Sets the words and confidence of a cause, whatever it had (summary and remedy are stolen). */
static void
acc_set(struct acc *a, enum confidence conf, char *summary, char *remedy)
{
	free(a->c.summary);
	free(a->c.remedy);
	a->c.summary = summary;
	a->c.remedy = remedy;
	a->c.confidence = conf;
}

/* Sets the words of a cause when this evidence is the strongest so far (summary and remedy are stolen). */
static void
acc_offer(struct acc *a, enum confidence conf, char *summary, char *remedy)
{
	if (a->c.summary == NULL || conf > a->c.confidence) {
		acc_set(a, conf, summary, remedy);
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

/* The cause a finding's data names ("cause"), or CAUSE_NONE. */
static enum cause_code
data_cause(const json_t *data)
{
	enum cause_code c;

	if (cause_parse(json_string_value(json_object_get(data, "cause")), &c) < 0)
		return CAUSE_NONE;
	return c;
}

static bool
is_bounce(const struct report *rep)
{
	return strcmp(report_name(rep), "bounce") == 0;
}

/* The SMTP probe's answer: a receiver's reply, read as a pasted bounce is (see verdict.h). */
static bool
is_probe_reply(const char *check, const struct finding *f)
{
	return strcmp(check, "smtp") == 0 && (strcmp(f->code, "probe_rejected") == 0 ||
	    strcmp(f->code, "probe_deferred") == 0);
}

/* A receiver's reply: the bounce's classification or the probe's answer. */
static bool
is_reply(const struct report *rep, const struct finding *f)
{
	return (is_bounce(rep) && strcmp(f->code, "bounce_classified") == 0) ||
	    is_probe_reply(report_name(rep), f);
}

/*
 * The rule of finding f of check: its own, else (the probe's answer) the
 * bounce's for the same cause, else for a failure its check's default;
 * NULL: none.
 */
static const struct verdict_rule *
rule_for(const struct verdict_rules *rules, const char *check, const struct finding *f)
{
	const struct verdict_rule *r = find_rule(rules, check, f->code, data_cause(f->data));

	if (r == NULL && is_probe_reply(check, f))
		r = find_rule(rules, "bounce", "bounce_classified", data_cause(f->data));
	if (r == NULL && f->severity == SEV_FAIL)
		r = find_default(rules, check);
	return r;
}

/* One warn or fail finding of rep turned into evidence for its cause. */
static void
add_finding(struct build *b, const struct report *rep, const struct finding *f, bool errored)
{
	const char *check = report_name(rep);
	const struct verdict_rule *rule = rule_for(b->rules, check, f);
	enum confidence conf = rule != NULL ? rule->confidence : CONF_HIGH, dconf;
	struct acc *a;
	json_t *ev;

	/* a warning no rule names stays in the checks table: it is not a cause */
	if (rule == NULL && f->severity != SEV_FAIL)
		return;
	/* a finding may know it is less sure than its rule, never more */
	if (confidence_parse(json_string_value(json_object_get(f->data, "confidence")),
	    &dconf) == 0 && dconf < conf)
		conf = dconf;
	a = acc_get(b, rule != NULL ? rule->cause : CAUSE_POLICY_OTHER);
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
	acc_offer(a, conf, rule_summary(rule, f->message, f->data, b->t),
	    rule_remedy(rule, f->data, b->t));
	if (is_bounce(rep) || is_probe_reply(check, f))
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

/* True if a list entry of checks/dnsbl/dnsbl.h lists domains, not IPs. */
static bool
entry_is_domain(const json_t *entry)
{
	const char *kind = json_string_value(json_object_get(entry, "kind"));
	enum dnsbl_kind k;

	return kind != NULL && dnsbl_kind_parse(kind, strlen(kind), &k) == 0 &&
	    k == DNSBL_DOMAIN;
}

/*
 * The zone the bounce named, or another list of the same operator and
 * kind (zen.spamhaus.org answers for sbl.spamhaus.org, not for its DBL).
 */
static bool
same_list(const char *named, bool named_domain, const char *zone, bool domain)
{
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
	LIST_PRIVATE,		/* the receiver's own list: nothing to ask */
};

/* What one entry's status makes of the state of the list so far; LIST_CONFIRMED ends the search. */
static enum list_state
entry_state(const json_t *entry, enum list_state st)
{
	enum dnsbl_status status;

	/* a status the producer does not name is a failure to know, never a listing */
	if (dnsbl_status_parse(json_string_value(json_object_get(entry, "status")), &status) < 0)
		return LIST_FAILED;
	switch (status) {
	case DNSBL_STATUS_LISTED:
		return LIST_CONFIRMED;
	case DNSBL_STATUS_NOT_LISTED:
		return st == LIST_UNCHECKED ? LIST_CLEAR : st;
	case DNSBL_STATUS_IGNORED:
		return st;
	case DNSBL_STATUS_REFUSED:
	case DNSBL_STATUS_UNEXPECTED:
	case DNSBL_STATUS_ERROR:
		break;
	}
	return LIST_FAILED;
}

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

			if (zone == NULL || !json_is_string(json_object_get(e, "status")) ||
			    !same_list(named, named_domain, zone, entry_is_domain(e)))
				continue;
			if ((st = entry_state(e, st)) == LIST_CONFIRMED) {
				*entry = e;
				*from = rep;
				return st;
			}
		}
	}
	return st;
}

/* A list the bounce named lists the subject now: that listing is the block. */
static void
confirm_listing(struct build *b, const char *named, const json_t *entry,
    const struct report *from)
{
	enum cause_code kind = entry_is_domain(entry) ? CAUSE_DOMAIN_BLOCKLISTED :
	    CAUSE_IP_BLOCKLISTED;
	const char *zone = json_string_value(json_object_get(entry, "zone"));
	const char *subject = json_string_value(json_object_get(entry, "subject"));
	const struct finding *lf = finding_for_zone(from, zone);
	const struct verdict_rule *rule = NULL;
	json_t *data = json_deep_copy(entry);
	struct acc *a;
	char *msg;

	/* a policy listing (PBL-style) says "do not send direct", not "you sent spam" */
	if (json_is_true(json_object_get(entry, "policy")))
		rule = find_rule(b->rules, "bounce", "policy_list_confirmed", kind);
	if (rule == NULL)
		rule = find_rule(b->rules, "bounce", "list_confirmed", kind);
	if (subject == NULL)
		subject = b->t->ip != NULL ? b->t->ip : "the sender";
	json_object_set_new(data, "subject", json_str(subject));
	json_object_set_new(data, "named", json_str(named));
	msg = xasprintf("the receiver named %s, and %s lists %s now", named, zone, subject);
	a = acc_get(b, rule != NULL ? rule->cause : kind);
	json_array_append_new(a->c.evidence, evidence_new(report_name(from),
	    lf != NULL ? lf->code : "list_status", msg, entry));
	acc_set(a, rule != NULL ? rule->confidence : CONF_HIGH,
	    rule_summary(rule, msg, data, b->t), rule_remedy(rule, data, b->t));
	a->from_bounce = a->from_live = true;
	json_decref(data);
	free(msg);
}

/* Adds a note to the evidence of the reply being combined, for cause (if the verdict has it). */
static void
note_bounce(struct build *b, enum cause_code cause, const char *note)
{
	struct acc *a = acc_find(b, cause);
	size_t i;

	for (i = 0; a != NULL && i < json_array_size(a->c.evidence); i++) {
		json_t *ev = json_array_get(a->c.evidence, i);
		const json_t *old;
		char *joined;

		if (strcmp(json_string_value(json_object_get(ev, "check")), b->reply_check) != 0)
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
 * Looks a list the bounce named up in the live list checks: a listing now
 * confirms the block, anything else but a clear answer is noted on the
 * bounce's evidence for its cause bcause. The state found.
 */
static enum list_state
ask_named(struct build *b, struct report *const *reports, size_t n, const char *named,
    enum cause_code bcause)
{
	const struct report *from = NULL;
	const json_t *entry = NULL;
	enum list_state st = LIST_PRIVATE;
	char *note = NULL;

	/* a receiver's own list ("microsoft's own list") has no DNS zone to ask */
	if (strchr(named, ' ') != NULL)
		note = xasprintf("%s cannot be looked up: only the receiver's delisting page or "
		    "postmaster can tell", named);
	else
		st = list_state(reports, n, named, bcause == CAUSE_DOMAIN_BLOCKLISTED, &entry,
		    &from);
	if (st == LIST_CONFIRMED)
		confirm_listing(b, named, entry, from);
	else if (st == LIST_FAILED)
		note = xasprintf("%s could not be asked now (the query failed or was refused), "
		    "so the listing is not confirmed", named);
	else if (st == LIST_UNCHECKED)
		note = b->t->ip == NULL ?
		    xasprintf("give --ip to check whether %s lists the IP now", named) :
		    xasprintf("%s is not among the lists checked (add it to "
		    "checks.d/dnsbl.conf to check it)", named);
	if (note != NULL)
		note_bounce(b, bcause, note);
	free(note);
	return st;
}

/*
 * Every list the bounce named was asked and none lists the subject now
 * (clear): it was delisted since, or the receiver has a private list of
 * that name. The bounce's cause a keeps its code, with the words of the
 * lists_clear rule and its confidence at most the rule's.
 */
static void
lists_clear(struct build *b, struct acc *a, json_t *clear)
{
	const struct verdict_rule *rule = find_rule(b->rules, "bounce", "lists_clear", a->c.code);
	enum confidence ceiling = rule != NULL ? rule->confidence : CONF_MEDIUM;
	json_t *data = json_pack("{s:O}", "lists", clear);
	struct strbuf names;
	size_t i;

	if (rule != NULL && rule->summary != NULL) {
		free(a->c.summary);
		a->c.summary = expand(rule->summary, data, b->t);
	}
	if (rule != NULL) {
		free(a->c.remedy);
		a->c.remedy = expand(rule->remedy, data, b->t);
	}
	if (a->c.confidence > ceiling)
		a->c.confidence = ceiling;
	strbuf_init(&names);
	for (i = 0; i < json_array_size(clear); i++)
		strbuf_addf(&names, "%s%s", i > 0 ? ", " : "",
		    json_string_value(json_array_get(clear, i)));
	strbuf_addstr(&names, " does not list it now");
	note_bounce(b, a->c.code, names.buf);
	strbuf_release(&names);
	json_decref(data);
}

/*
 * The bounce named blocklists: a list that lists the subject now confirms
 * the block; lists that are asked and do not list it mean it was delisted
 * since, or the receiver uses a private list of that name.
 */
static void
combine_lists(struct build *b, struct report *const *reports, size_t n,
    const struct finding *bf)
{
	const json_t *lists = json_object_get(bf->data, "lists");
	enum cause_code bcause = data_cause(bf->data);
	bool confirmed = false, all_clear = json_array_size(lists) > 0;
	json_t *clear = json_array();
	struct acc *a;
	size_t i;

	for (i = 0; i < json_array_size(lists); i++) {
		const char *named = json_string_value(json_array_get(lists, i));
		enum list_state st;

		if (named == NULL)
			continue;
		st = ask_named(b, reports, n, named, bcause);
		if (st == LIST_CONFIRMED)
			confirmed = true;
		if (st == LIST_CLEAR)
			json_array_append_new(clear, json_str(named));
		else
			all_clear = false;
	}
	if (!confirmed && all_clear && (bcause == CAUSE_IP_BLOCKLISTED ||
	    bcause == CAUSE_DOMAIN_BLOCKLISTED) && (a = acc_find(b, bcause)) != NULL)
		lists_clear(b, a, clear);
	json_decref(clear);
}

/* "User unknown" is about the recipient, not the IP: say what the recipient check saw. */
static void
combine_recipient(struct build *b, struct report *const *reports, size_t n,
    const struct finding *bf)
{
	enum cause_code bcause = data_cause(bf->data);
	const struct report *rrep;
	size_t i;
	bool problem = false;

	if ((bcause != CAUSE_RECIPIENT_UNKNOWN && bcause != CAUSE_RECIPIENT_DISABLED &&
	    bcause != CAUSE_MAILBOX_FULL) || acc_find(b, bcause) == NULL)
		return;
	rrep = report_named(reports, n, "recipient");
	if (rrep == NULL) {
		note_bounce(b, bcause, b->t->rcpt_to == NULL ?
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
		note_bounce(b, bcause, "the recipient's domain accepts mail, so it is this mailbox "
		    "the receiver does not take");
}

/* Ranking and status. */

/* Where a cause stands in the configured precedence; those not listed come after. */
static size_t
precedence_of(const struct verdict_rules *rules, enum cause_code code)
{
	size_t i;

	for (i = 0; rules != NULL && i < rules->nprecedence; i++)
		if (rules->precedence[i] == code)
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
rank(struct build *b)
{
	size_t i, j;

	for (i = 1; i < b->n; i++) {
		struct acc tmp = b->acc[i];

		for (j = i; j > 0 && cmp_acc(b->rules, &b->acc[j - 1], &tmp) > 0; j--)
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

/*
 * Every warn and fail finding of the reports into b, and into errored the
 * checks that could not finish (with why); the receivers' replies into
 * b->replies.
 */
static void
gather(struct build *b, struct report *const *reports, size_t n, struct strbuf *errored)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		const struct report *rep = reports[i];
		enum check_status st;
		bool err;

		if (rep == NULL || (st = report_status(rep)) == CHECK_SKIPPED)
			continue;
		err = st == CHECK_ERROR;
		if (err && !error_ignored(b->rules, report_name(rep))) {
			const char *why = report_reason(rep);

			strbuf_addf(errored, "%s%s", errored->len ? ", " : "", report_name(rep));
			if (why != NULL)
				strbuf_addf(errored, " (%s)", why);
		}
		for (j = 0; j < report_nfindings(rep); j++) {
			const struct finding *f = report_finding(rep, j);

			/* an error is the lack of an answer, never evidence of a cause */
			if (f->severity == SEV_FAIL || f->severity == SEV_WARN)
				add_finding(b, rep, f, err);
			if (is_reply(rep, f) && b->nreplies < MAX_REPLIES) {
				b->reply_checks[b->nreplies] = report_name(rep);
				b->replies[b->nreplies++] = f;
			}
		}
	}
}

/* The final confidences: agreement raises, weak signals add up. True if a cause is high. */
static bool
settle(struct build *b)
{
	long combine = b->rules != NULL ? b->rules->combine_low : 2;
	bool high = false;
	size_t i;

	for (i = 0; i < b->n; i++) {
		struct acc *a = &b->acc[i];

		/* the receiver said it and a check sees it now */
		if (a->from_bounce && a->from_live && a->c.confidence < CONF_HIGH)
			a->c.confidence++;
		/* several weak signals make a medium one */
		if (combine > 0 && a->c.confidence == CONF_LOW && a->nlow >= (size_t)combine)
			a->c.confidence = CONF_MEDIUM;
		if (a->c.confidence == CONF_HIGH)
			high = true;
	}
	return high;
}

void
verdict_build_rules(struct verdict *v, const struct verdict_rules *rules,
    const struct target *t, struct report *const *reports, size_t nreports)
{
	static const struct target none;
	struct strbuf errored;
	struct build b;
	bool high;
	size_t i;

	memset(v, 0, sizeof(*v));
	memset(&b, 0, sizeof(b));
	b.t = t != NULL ? t : &none;
	b.rules = rules;
	strbuf_init(&errored);
	gather(&b, reports, nreports, &errored);
	for (i = 0; i < b.nreplies; i++) {
		b.reply_check = b.reply_checks[i];
		combine_lists(&b, reports, nreports, b.replies[i]);
		combine_recipient(&b, reports, nreports, b.replies[i]);
	}
	high = settle(&b);
	rank(&b);
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
verdict_release(struct verdict *v)
{
	size_t i;

	for (i = 0; i < v->ncauses; i++) {
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
