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

/* A remedy for when another cause's plan is in force ("smarthost ..."). */
struct plan_remedy {
	char *plan;
	char *remedy;
};

struct verdict_rule {
	char *label;		/* "*", "check", "check/code", "check/code/cause", "reply/NAME" */
	enum cause_code cause;
	enum confidence confidence;
	char *summary;		/* NULL: the finding's own message */
	char *remedy;
	char *plan;		/* the plan this remedy sets ("smarthost"), or NULL */
	struct plan_remedy *under;	/* the remedy under another cause's plan */
	size_t nunder;
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
	const struct verdict_rule *rule;	/* whose words the cause has, or NULL */
	json_t *data;		/* the fields those words were expanded with, or NULL */
	bool from_reply;	/* a receiver's reply points here */
	bool from_refusal;	/* a permanent refusal points here */
	bool from_live;		/* a live check points here */
	bool outranked;		/* a reply without a reason that other causes explain */
	size_t nlow;		/* distinct low-confidence signals */
};

/* One receiver reply among the findings: see "Receiver replies" in verdict.h. */
struct reply {
	const struct report *rep;
	const struct finding *f;
	enum cause_code cause;	/* the reply's own cause, CAUSE_NONE when it gives none */
	enum cause_code counted;	/* the cause its finding was counted under */
	bool permanent;		/* a 5xx: the mail was refused */
	bool transient;		/* a 4xx: deferred, a retry may succeed */
};

struct build {
	struct acc *acc;	/* grows: never keep a pointer into it across acc_get() */
	size_t n;
	struct reply *replies;
	size_t nreplies;
	bool refused;		/* a receiver refused the mail for good */
	const struct target *t;
	const struct verdict_rules *rules;	/* may be NULL */
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
	size_t i;

	for (i = 0; i < r->nunder; i++) {
		free(r->under[i].plan);
		free(r->under[i].remedy);
	}
	free(r->under);
	free(r->label);
	free(r->summary);
	free(r->remedy);
	free(r->plan);
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

/* The rules of receiver replies that no single check owns: "reply/NAME". */
static const char *const reply_rule_names[] = {
	"refused_unexplained",	/* a permanent refusal without a reason nothing explains */
	"deferred",		/* a temporary refusal without a reason */
};

/*
 * "*", "check", "check/code", "check/code/cause" naming a registered check,
 * or "reply/NAME" naming a rule of reply_rule_names: a rule for a misspelt
 * check would never fire, and nobody would notice.
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
	if (strncmp(l, "reply/", 6) == 0) {
		if (name_index(reply_rule_names, ARRAY_SIZE(reply_rule_names), l + 6) < 0)
			return conf_error(sec, NULL, err, "[verdict \"%s\"]: the rules of replies "
			    "are reply/refused_unexplained and reply/deferred", l);
		return 0;
	}
	s1 = strchr(l, '/');
	s2 = s1 != NULL ? strchr(s1 + 1, '/') : NULL;
	n = s1 != NULL ? (size_t)(s1 - l) : strlen(l);
	if (!is_code(l, n) || (s1 != NULL &&
	    !is_code(s1 + 1, s2 != NULL ? (size_t)(s2 - s1 - 1) : strlen(s1 + 1))) ||
	    (s2 != NULL && cause_parse(s2 + 1, &cause) < 0))
		return conf_error(sec, NULL, err,
		    "[verdict \"%s\"]: the label is \"*\", \"check\", \"check/finding_code\", "
		    "\"check/finding_code/cause_code\" or \"reply/NAME\"", l);
	snprintf(check, sizeof(check), "%.*s", (int)n, l);
	if (check_find(check) == NULL)
		return conf_error(sec, NULL, err, "[verdict \"%s\"]: no check is called '%s'",
		    l, check);
	return 0;
}

/* "plan = WORD" and every "remedy_under = WORD TEXT" of sec into r. */
static int
load_plans(struct verdict_rule *r, const struct conf_section *sec, struct error *err)
{
	const char *plan = conf_section_get(sec, "plan");
	size_t i, n;

	if (plan != NULL) {
		if (!is_code(plan, strlen(plan)))
			return conf_error(sec, NULL, err, "plan '%s' is not one word of a-z, 0-9 "
			    "and _", plan);
		r->plan = xstrdup(plan);
	}
	for (i = 0; i < sec->nentries; i++) {
		const struct conf_entry *e = &sec->entries[i];
		const char *text;

		if (strcmp(e->key, "remedy_under") != 0)
			continue;
		n = strcspn(e->value, " \t");
		text = e->value + n + strspn(e->value + n, " \t");
		if (!is_code(e->value, n) || text[0] == '\0')
			return conf_error(sec, e, err, "remedy_under is a plan's name and the "
			    "remedy under it (\"smarthost Authorise ...\")");
		r->under = xrealloc(r->under, (r->nunder + 1) * sizeof(*r->under));
		r->under[r->nunder].plan = xstrndup(e->value, n);
		r->under[r->nunder].remedy = xstrdup(text);
		r->nunder++;
	}
	return 0;
}

static int
load_rule(struct verdict_rules *rules, const struct conf_section *sec, struct error *err)
{
	static const char *const keys[] = { "cause", "confidence", "summary", "remedy", "plan",
		"remedy_under", NULL };
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
	/* advice is never a reason to refuse mail: it cannot make a verdict "blocked" */
	if (cause_is_advice(r.cause) && r.confidence > CONF_MEDIUM)
		return conf_error(sec, NULL, err, "cause %s is advice: its confidence is medium "
		    "or low", cause_name(r.cause));
	if (load_plans(&r, sec, err) < 0) {
		rule_release(&r);
		return -1;
	}
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

/*
 * Gives cause a the words of rule r (NULL: the message and a bare remedy)
 * expanded with data, at confidence conf: always when force is set, else
 * only when this is the strongest evidence of the cause so far. The rule
 * and a copy of data stay with the cause, so a plan can reword it later.
 */
static void
acc_words(struct build *b, struct acc *a, enum confidence conf, const struct verdict_rule *r,
    const char *message, const json_t *data, bool force)
{
	if (!force && a->c.summary != NULL && conf <= a->c.confidence)
		return;
	free(a->c.summary);
	free(a->c.remedy);
	json_decref(a->data);
	a->c.summary = rule_summary(r, message, data, b->t);
	a->c.remedy = rule_remedy(r, data, b->t);
	a->c.confidence = conf;
	a->rule = r;
	a->data = data != NULL ? json_deep_copy(data) : NULL;
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

/*
 * The rule of finding f of check: its own, else (a receiver reply without
 * rules of its own) the bounce's for the same cause, else for a failure
 * its check's default; NULL: none.
 */
static const struct verdict_rule *
rule_for(const struct verdict_rules *rules, const char *check, const struct finding *f)
{
	const struct verdict_rule *r = find_rule(rules, check, f->code, data_cause(f->data));

	if (r == NULL && json_object_get(f->data, "basic_code") != NULL)
		r = find_rule(rules, "bounce", "bounce_classified", data_cause(f->data));
	if (r == NULL && f->severity == SEV_FAIL)
		r = find_default(rules, check);
	return r;
}

/* Receiver replies. */

/* A reply that names no cause of its own, or only the receiver's unspecified policy. */
static bool
gives_no_reason(enum cause_code c)
{
	return c == CAUSE_NONE || c == CAUSE_POLICY_OTHER;
}

/*
 * True when finding f of rep is a receiver reply (its data is a reply
 * classification, see verdict.h), with r filled in. Only warnings and
 * failures count: a success reply is no refusal.
 */
static bool
reply_of(const struct report *rep, const struct finding *f, struct reply *r)
{
	const json_t *basic = json_object_get(f->data, "basic_code");
	const json_t *transient = json_object_get(f->data, "transient");
	const char *enh = json_string_value(json_object_get(f->data, "enhanced_code"));
	json_int_t code;

	if (basic == NULL || !json_is_boolean(transient) ||
	    (f->severity != SEV_WARN && f->severity != SEV_FAIL))
		return false;
	memset(r, 0, sizeof(*r));
	r->rep = rep;
	r->f = f;
	r->cause = data_cause(f->data);
	code = json_is_integer(basic) ? json_integer_value(basic) : 0;
	/*
	 * RFC 5321 4.2.1: a 4yz reply is a transient, a 5yz a permanent
	 * negative completion; RFC 3463 2: so are the classes 4 and 5 of an
	 * enhanced code, read when there is no basic code.
	 */
	r->transient = json_is_true(transient) || (code >= 400 && code < 500) ||
	    (code == 0 && enh != NULL && enh[0] == '4');
	r->permanent = !r->transient && ((code >= 500 && code < 600) ||
	    (code == 0 && enh != NULL && enh[0] == '5'));
	/* a refusal of another client (a probe not sent from --ip) is no fact about the sender */
	if (json_is_true(json_object_get(f->data, "source_differs")))
		r->permanent = false;
	return true;
}

/*
 * The rule of a reply: a temporary refusal that gives no reason is a
 * deferral (reply/deferred) rather than the policy refusal its words
 * might suggest; else the finding's own rule.
 */
static const struct verdict_rule *
reply_rule(const struct verdict_rules *rules, const struct reply *r,
    const struct verdict_rule *own)
{
	const struct verdict_rule *d = find_label(rules, "reply/deferred");

	return r->transient && gives_no_reason(r->cause) && d != NULL ? d : own;
}

static void
add_reply(struct build *b, const struct reply *r)
{
	b->replies = xrealloc(b->replies, (b->nreplies + 1) * sizeof(*b->replies));
	b->replies[b->nreplies++] = *r;
	if (r->permanent)
		b->refused = true;
}

/* One warn or fail finding of rep turned into evidence for its cause. */
static void
add_finding(struct build *b, const struct report *rep, const struct finding *f, bool errored)
{
	const char *check = report_name(rep);
	const struct verdict_rule *own = rule_for(b->rules, check, f), *rule = own;
	enum confidence conf, dconf;
	struct reply r;
	bool is_reply = reply_of(rep, f, &r);
	struct acc *a;
	json_t *ev;

	if (is_reply)
		rule = reply_rule(b->rules, &r, own);
	/* a warning no rule names stays in the checks table: it is not a cause */
	if (rule == NULL && f->severity != SEV_FAIL)
		return;
	conf = rule != NULL ? rule->confidence : CONF_HIGH;
	/*
	 * A finding may know it is less sure than its rule, never more; but a
	 * reply taken for a deferral is a fact of the reply's code, not of the
	 * guess about its words that the finding's confidence is.
	 */
	if (rule == own && confidence_parse(json_string_value(json_object_get(f->data,
	    "confidence")), &dconf) == 0 && dconf < conf)
		conf = dconf;
	/* a temporary refusal is not a block: a retry may succeed */
	if (is_reply && r.transient && conf > CONF_MEDIUM)
		conf = CONF_MEDIUM;
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
	acc_words(b, a, conf, rule, f->message, f->data, false);
	if (!is_reply) {
		a->from_live = true;
		return;
	}
	a->from_reply = true;
	a->from_refusal |= r.permanent;
	r.counted = a->c.code;
	add_reply(b, &r);
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

/* A list the reply r named lists the subject now: that listing is the block. */
static void
confirm_listing(struct build *b, const struct reply *r, const char *named, const json_t *entry,
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
	acc_words(b, a, rule != NULL ? rule->confidence : CONF_HIGH, rule, msg, data, true);
	a->from_reply = a->from_live = true;
	a->from_refusal |= r->permanent;
	json_decref(data);
	free(msg);
}

/* Adds a note to the evidence item of reply r in cause (if the verdict has that cause). */
static void
note_reply(struct build *b, enum cause_code cause, const struct reply *r, const char *note)
{
	struct acc *a = acc_find(b, cause);
	size_t i;

	for (i = 0; a != NULL && i < json_array_size(a->c.evidence); i++) {
		json_t *ev = json_array_get(a->c.evidence, i);
		const json_t *old;
		char *joined;

		if (strcmp(json_string_value(json_object_get(ev, "check")),
		    report_name(r->rep)) != 0 ||
		    strcmp(json_string_value(json_object_get(ev, "finding")), r->f->code) != 0 ||
		    strcmp(json_string_value(json_object_get(ev, "message")), r->f->message) != 0)
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
 * Looks a list the reply r named up in the live list checks: a listing
 * now confirms the block, anything else but a clear answer is noted on
 * the reply's evidence. The state found.
 */
static enum list_state
ask_named(struct build *b, struct report *const *reports, size_t n, const struct reply *r,
    const char *named)
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
		st = list_state(reports, n, named, r->cause == CAUSE_DOMAIN_BLOCKLISTED, &entry,
		    &from);
	if (st == LIST_CONFIRMED)
		confirm_listing(b, r, named, entry, from);
	else if (st == LIST_FAILED)
		note = xasprintf("%s could not be asked now (the query failed or was refused), "
		    "so the listing is not confirmed", named);
	else if (st == LIST_UNCHECKED)
		note = b->t->ip == NULL ?
		    xasprintf("give --ip to check whether %s lists the IP now", named) :
		    xasprintf("%s is not among the lists checked (add it to "
		    "checks.d/dnsbl.conf to check it)", named);
	if (note != NULL)
		note_reply(b, r->counted, r, note);
	free(note);
	return st;
}

/*
 * Every list the reply r named was asked and none lists the subject now
 * (clear): it was delisted since, or the receiver has a private list of
 * that name. The reply's cause a keeps its code, with the words of the
 * lists_clear rule and its confidence at most the rule's.
 */
static void
lists_clear(struct build *b, const struct reply *r, struct acc *a, json_t *clear)
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
		a->rule = rule;
		json_decref(a->data);
		a->data = json_incref(data);
	}
	if (a->c.confidence > ceiling)
		a->c.confidence = ceiling;
	strbuf_init(&names);
	for (i = 0; i < json_array_size(clear); i++)
		strbuf_addf(&names, "%s%s", i > 0 ? ", " : "",
		    json_string_value(json_array_get(clear, i)));
	strbuf_addstr(&names, " does not list it now");
	note_reply(b, a->c.code, r, names.buf);
	strbuf_release(&names);
	json_decref(data);
}

/*
 * The reply r named blocklists: a list that lists the subject now
 * confirms the block; lists that are asked and do not list it mean it was
 * delisted since, or the receiver uses a private list of that name.
 */
static void
combine_lists(struct build *b, struct report *const *reports, size_t n, const struct reply *r)
{
	const json_t *lists = json_object_get(r->f->data, "lists");
	bool confirmed = false, all_clear = json_array_size(lists) > 0;
	json_t *clear = json_array();
	struct acc *a;
	size_t i;

	for (i = 0; i < json_array_size(lists); i++) {
		const char *named = json_string_value(json_array_get(lists, i));
		enum list_state st;

		if (named == NULL)
			continue;
		st = ask_named(b, reports, n, r, named);
		if (st == LIST_CONFIRMED)
			confirmed = true;
		if (st == LIST_CLEAR)
			json_array_append_new(clear, json_str(named));
		else
			all_clear = false;
	}
	if (!confirmed && all_clear && (r->counted == CAUSE_IP_BLOCKLISTED ||
	    r->counted == CAUSE_DOMAIN_BLOCKLISTED) && (a = acc_find(b, r->counted)) != NULL)
		lists_clear(b, r, a, clear);
	json_decref(clear);
}

/* "User unknown" is about the recipient, not the IP: say what the recipient check saw. */
static void
combine_recipient(struct build *b, struct report *const *reports, size_t n,
    const struct reply *r)
{
	enum cause_code rc = r->counted;
	const struct report *rrep;
	size_t i;
	bool problem = false;

	if ((rc != CAUSE_RECIPIENT_UNKNOWN && rc != CAUSE_RECIPIENT_DISABLED &&
	    rc != CAUSE_MAILBOX_FULL) || acc_find(b, rc) == NULL)
		return;
	rrep = report_named(reports, n, "recipient");
	if (rrep == NULL) {
		note_reply(b, rc, r, b->t->rcpt_to == NULL ?
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
		note_reply(b, rc, r, "the recipient's domain accepts mail, so it is this mailbox "
		    "the receiver does not take");
}

/* A refusal without a reason. */

/*
 * The inputs the target lacks that checks of reports need or could use,
 * into data: "missing" (["--ip (rdns, dnsbl, spf, dbl)", ...]) and
 * "missing_options" (["--ip", ...]).
 */
static void
add_missing(json_t *data, struct report *const *reports, size_t n, const struct target *t)
{
	static const unsigned order[] = { NEED_IP, NEED_HELO, NEED_MAIL_FROM, NEED_MESSAGE,
		NEED_RCPT_TO };
	unsigned have = check_target_inputs(t);
	json_t *missing = json_array(), *options = json_array();
	struct strbuf names;
	size_t k, i;

	for (k = 0; k < ARRAY_SIZE(order); k++) {
		if (have & order[k])
			continue;
		strbuf_init(&names);
		for (i = 0; i < n; i++) {
			const struct check_ops *ops = reports[i] != NULL ?
			    check_find(report_name(reports[i])) : NULL;

			if (ops != NULL && ((ops->needs | ops->wants) & order[k]))
				strbuf_addf(&names, "%s%s", names.len > 0 ? ", " : "",
				    ops->name);
		}
		if (names.len > 0) {
			char *item = xasprintf("%s (%s)", check_need_option(order[k]), names.buf);

			json_array_append_new(missing, json_str(item));
			json_array_append_new(options, json_str(check_need_option(order[k])));
			free(item);
		}
		strbuf_release(&names);
	}
	json_object_set_new(data, "missing", missing);
	json_object_set_new(data, "missing_options", options);
}

/* Another cause of at least medium confidence that may explain why the mail was refused. */
static bool
explained(const struct build *b, const struct acc *a)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		const struct acc *x = &b->acc[i];

		if (x != a && x->c.confidence >= CONF_MEDIUM &&
		    (x->from_live || !gives_no_reason(x->c.code)))
			return true;
	}
	return false;
}

/*
 * A receiver refused the mail for good and its reply r gives no reason.
 * When another cause explains it, the reply's cause ranks after them;
 * else it says so, with the checks that could not run for lack of input
 * (reply/refused_unexplained).
 */
static void
refusal_without_reason(struct build *b, struct report *const *reports, size_t n,
    const struct reply *r)
{
	const struct verdict_rule *rule = find_label(b->rules, "reply/refused_unexplained");
	struct acc *a = acc_find(b, r->counted);
	json_t *data;

	if (a == NULL)
		return;
	if (explained(b, a)) {
		a->outranked = true;
		note_reply(b, a->c.code, r, "the reply gives no reason: the causes ranked above "
		    "are what the checks see now");
		return;
	}
	if (rule == NULL)
		return;
	data = json_deep_copy(r->f->data);
	add_missing(data, reports, n, b->t);
	acc_words(b, a, rule->confidence, rule, r->f->message, data, true);
	/* the rule may name the cause; it cannot take one another cause already has */
	if (acc_find(b, rule->cause) == NULL)
		a->c.code = rule->cause;
	json_decref(data);
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
 * Higher confidence first, then what a receiver said (unless its reply
 * gives no reason that other causes explain), then the causes that decide
 * the others (DMARC is what a receiver enforces; SPF and DKIM explain it),
 * then more evidence.
 */
static int
cmp_acc(const struct verdict_rules *rules, const struct acc *x, const struct acc *y)
{
	size_t nx = json_array_size(x->c.evidence), ny = json_array_size(y->c.evidence);
	size_t px = precedence_of(rules, x->c.code), py = precedence_of(rules, y->c.code);
	bool rx = x->from_reply && !x->outranked, ry = y->from_reply && !y->outranked;

	if (x->c.confidence != y->c.confidence)
		return x->c.confidence > y->c.confidence ? -1 : 1;
	if (rx != ry)
		return rx ? -1 : 1;
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

/* The remedy rule r gives under plan, or NULL. */
static const char *
remedy_under(const struct verdict_rule *r, const char *plan)
{
	size_t i;

	for (i = 0; r != NULL && i < r->nunder; i++)
		if (strcmp(r->under[i].plan, plan) == 0)
			return r->under[i].remedy;
	return NULL;
}

/*
 * One plan, not a list of contradicting fixes: the highest-ranked cause of
 * at least medium confidence whose rule sets a plan ("plan = smarthost":
 * do not send from this address, relay) puts every other cause on it, in
 * the words its rule gives under that plan ("remedy_under = smarthost
 * ..."). A cause whose rule has none keeps its remedy.
 */
static void
apply_plan(struct build *b)
{
	const char *plan = NULL, *under;
	size_t i;

	for (i = 0; i < b->n && plan == NULL; i++)
		if (b->acc[i].rule != NULL && b->acc[i].rule->plan != NULL &&
		    b->acc[i].c.confidence >= CONF_MEDIUM)
			plan = b->acc[i].rule->plan;
	for (i = 0; plan != NULL && i < b->n; i++) {
		struct acc *a = &b->acc[i];

		if ((under = remedy_under(a->rule, plan)) == NULL)
			continue;
		free(a->c.remedy);
		a->c.remedy = expand(under, a->data, b->t);
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
 * Every warn and fail finding of the reports into b (receiver replies
 * among them into b->replies), and into errored the checks that could
 * not finish (with why).
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
		}
	}
}

/* The final confidences: a refusal a live check explains is raised, weak signals add up. */
static void
settle(struct build *b)
{
	long combine = b->rules != NULL ? b->rules->combine_low : 2;
	size_t i;

	for (i = 0; i < b->n; i++) {
		struct acc *a = &b->acc[i];

		/* a receiver refused for it and a check sees it now */
		if (a->from_refusal && a->from_live && a->c.confidence < CONF_HIGH)
			a->c.confidence++;
		/* several weak signals make a medium one */
		if (combine > 0 && a->c.confidence == CONF_LOW && a->nlow >= (size_t)combine)
			a->c.confidence = CONF_MEDIUM;
	}
}

/* Advice stays at most medium, whatever raised it. True if a cause is high. */
static bool
any_high(struct build *b)
{
	bool high = false;
	size_t i;

	for (i = 0; i < b->n; i++) {
		struct acc *a = &b->acc[i];

		if (cause_is_advice(a->c.code) && a->c.confidence > CONF_MEDIUM)
			a->c.confidence = CONF_MEDIUM;
		if (a->c.confidence == CONF_HIGH)
			high = true;
	}
	return high;
}

/* The replies with the live checks: named lists, the recipient, refusals without a reason. */
static void
combine_replies(struct build *b, struct report *const *reports, size_t n)
{
	size_t i;

	for (i = 0; i < b->nreplies; i++) {
		combine_lists(b, reports, n, &b->replies[i]);
		combine_recipient(b, reports, n, &b->replies[i]);
	}
}

static void
unexplained_refusals(struct build *b, struct report *const *reports, size_t n)
{
	size_t i;

	for (i = 0; i < b->nreplies; i++)
		if (b->replies[i].permanent && gives_no_reason(b->replies[i].cause))
			refusal_without_reason(b, reports, n, &b->replies[i]);
}

/* The string field key of an object, "" when absent. */
static const char *
field_or_empty(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* True if the "not_checked" entries a and b say the same but for the zone. */
static bool
same_unchecked(const json_t *a, const json_t *b)
{
	static const char *const keys[] = { "status", "reason", "fix" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcmp(field_or_empty(a, keys[i]), field_or_empty(b, keys[i])) != 0)
			return false;
	return true;
}

/*
 * A list that refused the query (or that the user left out) counts for
 * that list only: the checks name such lists in their data "not_checked"
 * ({zone, status, reason, fix}) and the verdict says which they are and
 * how to have them checked, those of one reason and fix together.
 */
static void
unchecked_lists(struct report *const *reports, size_t n, struct strbuf *out)
{
	json_t *all = json_array(), *e, *f;
	size_t i, j, k;

	for (i = 0; i < n; i++)
		if (reports[i] != NULL)
			json_array_extend(all, json_object_get(report_data_const(reports[i]),
			    "not_checked"));
	json_array_foreach(all, i, e) {
		for (j = 0; j < i && !same_unchecked(json_array_get(all, j), e); j++)
			;
		if (j < i)
			continue;
		strbuf_addstr(out, out->len == 0 ? "lists not checked: " : "; ");
		json_array_foreach(all, k, f)
			if (k >= i && same_unchecked(f, e))
				strbuf_addf(out, "%s%s", k > i ? ", " : "", field_or_empty(f, "zone"));
		strbuf_addf(out, " (%s: %s; to check them: %s)", field_or_empty(e, "status"),
		    field_or_empty(e, "reason"), field_or_empty(e, "fix"));
	}
	json_decref(all);
}

void
verdict_build_rules(struct verdict *v, const struct verdict_rules *rules,
    const struct target *t, struct report *const *reports, size_t nreports)
{
	static const struct target none;
	struct strbuf errored, unchecked;
	struct build b;
	bool high;
	size_t i;

	memset(v, 0, sizeof(*v));
	memset(&b, 0, sizeof(b));
	b.t = t != NULL ? t : &none;
	b.rules = rules;
	strbuf_init(&errored);
	strbuf_init(&unchecked);
	unchecked_lists(reports, nreports, &unchecked);
	gather(&b, reports, nreports, &errored);
	combine_replies(&b, reports, nreports);
	settle(&b);
	unexplained_refusals(&b, reports, nreports);
	high = any_high(&b);
	rank(&b);
	apply_plan(&b);
	v->ncauses = b.n;
	v->causes = b.n > 0 ? xcalloc(b.n, sizeof(*v->causes)) : NULL;
	for (i = 0; i < b.n; i++) {
		v->causes[i] = b.acc[i].c;
		json_decref(b.acc[i].data);
	}
	free(b.acc);
	free(b.replies);
	if (high || b.refused) {
		/* a receiver's permanent refusal is a fact, whatever else is found */
		v->status = VERDICT_BLOCKED_LIKELY;
	} else if (errored.len > 0) {
		/* no honest "clean" or "at risk" when a check that matters did not finish */
		v->status = VERDICT_INCONCLUSIVE;
		v->note = xasprintf("checks that could not finish: %s%s%s", errored.buf,
		    unchecked.len > 0 ? "; " : "", unchecked.len > 0 ? unchecked.buf : "");
	} else if (v->ncauses > 0) {
		v->status = VERDICT_AT_RISK;
	} else {
		v->status = VERDICT_CLEAN;
	}
	if (v->note == NULL && unchecked.len > 0)
		v->note = strbuf_detach(&unchecked, NULL);
	strbuf_release(&errored);
	strbuf_release(&unchecked);
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
