/* The bounce classifier's rules: [bounce ...] sections of checks.d compiled into code and pattern tables. */
#include "checks/bounce/rules.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bounce_rules *
bounce_rules_new(void)
{
	return xcalloc(1, sizeof(struct bounce_rules));
}

static void
pattern_release(struct bounce_pattern_rule *p)
{
	size_t i;

	for (i = 0; i < p->nres; i++)
		regfree(&p->res[i]);
	free(p->res);
	free(p->label);
	free(p->name);
	memset(p, 0, sizeof(*p));
}

static void
code_release(struct bounce_code_rule *c)
{
	free(c->label);
	free(c->meaning);
	memset(c, 0, sizeof(*c));
}

void
bounce_rules_free(struct bounce_rules *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->ncodes; i++)
		code_release(&r->codes[i]);
	for (i = 0; i < r->nphrases; i++)
		pattern_release(&r->phrases[i]);
	for (i = 0; i < r->nlists; i++)
		pattern_release(&r->lists[i]);
	for (i = 0; i < r->nhosts; i++)
		pattern_release(&r->hosts[i]);
	for (i = 0; i < r->nproviders; i++)
		pattern_release(&r->providers[i]);
	for (i = 0; i < r->ndomain_lists; i++)
		free(r->domain_lists[i]);
	free(r->codes);
	free(r->phrases);
	free(r->lists);
	free(r->hosts);
	free(r->providers);
	free(r->domain_lists);
	free(r);
}

/* Reads a decimal number of 1 to maxdigits digits at *p; -1 if there is none. */
static long
read_num(const char **p, int maxdigits)
{
	long v = 0;
	int n = 0;

	while (isdigit((unsigned char)**p) && n < maxdigits + 1) {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n == 0 || n > maxdigits ? -1 : v;
}

/* "X.S.D", "5.S.D", "X.S.D1-D2" or "NNN" into c; -1 when malformed. */
static int
parse_code_label(const char *s, struct bounce_code_rule *c)
{
	const char *p = s;
	long v;

	if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && p[3] == '\0') {
		v = strtol(p, NULL, 10);
		if (v < 200 || v > 599)
			return -1;
		c->basic = true;
		c->lo = c->hi = (int)v;
		return 0;
	}
	if (*p == 'X' || *p == 'x')
		c->cls = 0;
	else if (*p == '2' || *p == '4' || *p == '5')
		c->cls = *p - '0';
	else
		return -1;
	p++;
	if (*p++ != '.')
		return -1;
	if ((v = read_num(&p, 3)) < 0)
		return -1;
	c->subject = (int)v;
	if (*p++ != '.')
		return -1;
	if ((v = read_num(&p, 3)) < 0)
		return -1;
	c->lo = c->hi = (int)v;
	if (*p == '-') {
		p++;
		if ((v = read_num(&p, 3)) < 0 || v < c->lo)
			return -1;
		c->hi = (int)v;
	}
	return *p == '\0' ? 0 : -1;
}

static int
parse_strength(const struct conf_section *sec, enum bounce_strength *out, struct error *err)
{
	const char *v = conf_section_get(sec, "strength");

	if (v == NULL)
		return 0;
	if (strcmp(v, "strong") == 0)
		*out = BOUNCE_STRONG;
	else if (strcmp(v, "weak") == 0)
		*out = BOUNCE_WEAK;
	else if (strcmp(v, "decisive") == 0)
		*out = BOUNCE_DECISIVE;
	else
		return conf_error(sec, NULL, err, "strength '%s' is not weak, strong or decisive",
		    v);
	return 0;
}

static int
parse_cause(const struct conf_section *sec, enum cause_code *out, struct error *err)
{
	const char *v = conf_section_get(sec, "cause");

	*out = CAUSE_NONE;
	if (v == NULL)
		return 0;
	if (cause_parse(v, out) < 0)
		return conf_error(sec, NULL, err, "cause '%s' is not a cause code", v);
	return 0;
}

/* The index of provider name among those defined so far, or -1. */
static int
find_provider(const struct bounce_rules *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nproviders; i++)
		if (strcmp(r->providers[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The provider a section is scoped to (name, or its "provider" key) into *out; -1 if it is unknown. */
static int
parse_provider(const struct bounce_rules *r, const struct conf_section *sec, const char *name,
    int *out, struct error *err)
{
	if (name == NULL)
		name = conf_section_get(sec, "provider");
	*out = -1;
	if (name == NULL)
		return 0;
	if ((*out = find_provider(r, name)) < 0)
		return conf_error(sec, NULL, err,
		    "provider '%s' is not defined above: add a [bounce \"provider %s\"] section",
		    name, name);
	return 0;
}

static int
compile_matches(const struct conf_section *sec, struct bounce_pattern_rule *p, bool need_group,
    struct error *err)
{
	size_t i;

	for (i = 0; i < sec->nentries; i++) {
		const struct conf_entry *e = &sec->entries[i];
		char msg[160];
		regex_t re;
		int rc;

		if (strcmp(e->key, "match") != 0)
			continue;
		if (e->value[0] == '\0')
			return conf_error(sec, e, err, "empty match pattern");
		rc = regcomp(&re, e->value, REG_EXTENDED | REG_ICASE);
		if (rc != 0) {
			regerror(rc, &re, msg, sizeof(msg));
			return conf_error(sec, e, err, "bad pattern '%s': %s", e->value, msg);
		}
		if (need_group && re.re_nsub < 1) {
			regfree(&re);
			return conf_error(sec, e, err,
			    "pattern '%s' needs a (group) for the name it extracts", e->value);
		}
		p->res = xrealloc(p->res, (p->nres + 1) * sizeof(*p->res));
		p->res[p->nres++] = re;
	}
	if (p->nres == 0)
		return conf_error(sec, NULL, err, "[bounce \"%s\"] needs at least one match",
		    sec->label);
	return 0;
}

/* The slot for label in a table: the existing one (released) or a new one. */
static struct bounce_pattern_rule *
pattern_slot(struct bounce_pattern_rule **tab, size_t *n, const char *label)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		if (strcmp((*tab)[i].label, label) == 0) {
			pattern_release(&(*tab)[i]);
			(*tab)[i].label = xstrdup(label);
			(*tab)[i].provider = -1;
			return &(*tab)[i];
		}
	}
	*tab = xrealloc(*tab, (*n + 1) * sizeof(**tab));
	memset(&(*tab)[*n], 0, sizeof(**tab));
	(*tab)[*n].label = xstrdup(label);
	(*tab)[*n].provider = -1;
	return &(*tab)[(*n)++];
}

static int
load_code(struct bounce_rules *r, const struct conf_section *sec, const char *spec,
    struct error *err)
{
	static const char *const keys[] = { "meaning", "cause", "strength", NULL };
	struct bounce_code_rule c;
	const char *sp = strchr(spec, ' ');
	char code[24];
	size_t i;

	memset(&c, 0, sizeof(c));
	if (conf_section_check_keys(sec, keys, err) < 0)
		return -1;
	if (sp != NULL && (size_t)(sp - spec) >= sizeof(code))
		return conf_error(sec, NULL, err, "'%s' is not a code", spec);
	snprintf(code, sizeof(code), "%.*s", sp != NULL ? (int)(sp - spec) : (int)strlen(spec),
	    spec);
	if (strlen(spec) >= sizeof(code) && sp == NULL)
		return conf_error(sec, NULL, err, "'%s' is not a code", spec);
	if (parse_code_label(code, &c) < 0)
		return conf_error(sec, NULL, err,
		    "'%s' is not a code: use X.S.D, 5.S.D, X.S.D1-D2 or a reply code NNN", code);
	if (parse_provider(r, sec, sp != NULL ? sp + 1 : NULL, &c.provider, err) < 0)
		return -1;
	c.strength = BOUNCE_STRONG;
	if (parse_cause(sec, &c.cause, err) < 0 || parse_strength(sec, &c.strength, err) < 0)
		return -1;
	if (conf_section_get(sec, "meaning") != NULL)
		c.meaning = xstrdup(conf_section_get(sec, "meaning"));
	c.label = xasprintf("code %s", spec);
	for (i = 0; i < r->ncodes; i++) {
		if (strcmp(r->codes[i].label, c.label) == 0) {
			code_release(&r->codes[i]);
			r->codes[i] = c;
			return 0;
		}
	}
	r->codes = xrealloc(r->codes, (r->ncodes + 1) * sizeof(*r->codes));
	r->codes[r->ncodes++] = c;
	return 0;
}

static int
load_pattern(struct bounce_rules *r, const struct conf_section *sec, const char *kind,
    struct error *err)
{
	static const char *const phrase_keys[] = { "cause", "strength", "match", "provider",
		NULL };
	static const char *const list_keys[] = { "name", "kind", "match", NULL };
	static const char *const host_keys[] = { "match", NULL };
	struct bounce_pattern_rule *p;
	const char *v;

	if (strcmp(kind, "phrase") == 0) {
		if (conf_section_check_keys(sec, phrase_keys, err) < 0)
			return -1;
		p = pattern_slot(&r->phrases, &r->nphrases, sec->label);
		p->strength = BOUNCE_STRONG;
		if (parse_cause(sec, &p->cause, err) < 0 ||
		    parse_strength(sec, &p->strength, err) < 0 ||
		    parse_provider(r, sec, NULL, &p->provider, err) < 0)
			return -1;
		if (p->cause == CAUSE_NONE)
			return conf_error(sec, NULL, err, "[bounce \"%s\"] needs a cause",
			    sec->label);
		return compile_matches(sec, p, false, err);
	}
	if (strcmp(kind, "list") == 0) {
		if (conf_section_check_keys(sec, list_keys, err) < 0)
			return -1;
		p = pattern_slot(&r->lists, &r->nlists, sec->label);
		if ((v = conf_section_get(sec, "name")) != NULL)
			p->name = xstrdup_lower(v);
		if ((v = conf_section_get(sec, "kind")) != NULL) {
			if (strcmp(v, "ip") == 0)
				p->kind = BOUNCE_LIST_IP;
			else if (strcmp(v, "domain") == 0)
				p->kind = BOUNCE_LIST_DOMAIN;
			else
				return conf_error(sec, NULL, err, "kind '%s' is not ip or domain", v);
		}
		return compile_matches(sec, p, p->name == NULL, err);
	}
	if (strcmp(kind, "host") == 0) {
		if (conf_section_check_keys(sec, host_keys, err) < 0)
			return -1;
		p = pattern_slot(&r->hosts, &r->nhosts, sec->label);
		return compile_matches(sec, p, true, err);
	}
	if (strcmp(kind, "provider") == 0) {
		if (conf_section_check_keys(sec, host_keys, err) < 0)
			return -1;
		if (find_provider(r, sec->label + strlen("provider ")) < 0 &&
		    r->nproviders == BOUNCE_MAX_PROVIDERS)
			return conf_error(sec, NULL, err, "more than %d providers",
			    BOUNCE_MAX_PROVIDERS);
		p = pattern_slot(&r->providers, &r->nproviders, sec->label);
		p->name = xstrdup(sec->label + strlen("provider "));
		return compile_matches(sec, p, false, err);
	}
	return conf_error(sec, NULL, err,
	    "[bounce \"%s\"]: the label starts with code, phrase, list, host or provider",
	    sec->label);
}

int
bounce_rules_load(struct bounce_rules *r, const struct conf *conf, struct error *err)
{
	static const char *const global_keys[] = { "domain_list", NULL };
	const struct conf_section *sec = NULL;
	size_t i;

	while ((sec = conf_next(conf, sec, "bounce")) != NULL) {
		char kind[16];
		const char *sp;
		size_t klen;

		if (sec->label == NULL) {
			if (conf_section_check_keys(sec, global_keys, err) < 0)
				return -1;
			for (i = 0; i < sec->nentries; i++) {
				r->domain_lists = xrealloc(r->domain_lists,
				    (r->ndomain_lists + 1) * sizeof(*r->domain_lists));
				r->domain_lists[r->ndomain_lists++] =
				    xstrdup_lower(sec->entries[i].value);
			}
			continue;
		}
		sp = strchr(sec->label, ' ');
		klen = sp != NULL ? (size_t)(sp - sec->label) : strlen(sec->label);
		if (sp == NULL || klen >= sizeof(kind) || sp[1] == '\0')
			return conf_error(sec, NULL, err,
			    "[bounce \"%s\"]: a label is 'code SPEC [PROVIDER]', 'phrase NAME', "
			    "'list NAME', 'host NAME' or 'provider NAME'", sec->label);
		memcpy(kind, sec->label, klen);
		kind[klen] = '\0';
		if (strcmp(kind, "code") == 0) {
			if (load_code(r, sec, sp + 1, err) < 0)
				return -1;
		} else if (load_pattern(r, sec, kind, err) < 0) {
			return -1;
		}
	}
	return 0;
}

void
bounce_rules_describe(const struct bounce_rules *r, struct strbuf *out)
{
	strbuf_addf(out, "  %zu status codes, %zu phrase rules, %zu list patterns, "
	    "%zu host patterns, %zu providers\n", r->ncodes, r->nphrases, r->nlists, r->nhosts,
	    r->nproviders);
}
