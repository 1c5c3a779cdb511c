/* The bounce classifier: reply codes, host, named blocklists and the probable cause of a pasted bounce. */
#include "checks/bounce/classify.h"

#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/textsafe.h"

/* Bytes of folded text the host, list and phrase patterns read. */
#define SCAN_MAX	(64 * 1024)
#define ADDR_MAX	254
/* Groups of a list or host pattern looked at: the last one that matched is the name. */
#define MAX_GROUPS	10

/* Points a match gives its cause: 3 and more is high confidence, 2 medium, 1 low. */
enum strength {
	STRENGTH_WEAK = 1,
	STRENGTH_STRONG = 2,
	STRENGTH_DECISIVE = 4,	/* wording that overrules a generic or related code */
};

enum list_kind {
	KIND_AUTO = 0,
	KIND_IP,
	KIND_DOMAIN,
};

struct code_rule {
	char *label;
	bool basic;		/* "code 552": a basic reply code */
	int cls;		/* 2, 4, 5; 0 for "X" */
	int subject;
	int lo, hi;		/* detail range, or the basic code twice */
	char *meaning;
	const char *cause;	/* NULL: the code only has a meaning */
	int strength;
};

struct pattern_rule {
	char *label;
	const char *cause;	/* phrases */
	int strength;		/* phrases */
	char *name;		/* lists: the fixed zone, or NULL */
	enum list_kind kind;	/* lists */
	regex_t *res;
	size_t nres;
};

struct bounce_rules {
	struct code_rule *codes;
	size_t ncodes;
	struct pattern_rule *phrases;
	size_t nphrases;
	struct pattern_rule *lists;
	size_t nlists;
	struct pattern_rule *hosts;
	size_t nhosts;
	char **domain_lists;
	size_t ndomain_lists;
};

struct bounce_rules *
bounce_rules_new(void)
{
	return xcalloc(1, sizeof(struct bounce_rules));
}

static void
pattern_release(struct pattern_rule *p)
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
code_release(struct code_rule *c)
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
	for (i = 0; i < r->ndomain_lists; i++)
		free(r->domain_lists[i]);
	free(r->codes);
	free(r->phrases);
	free(r->lists);
	free(r->hosts);
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
parse_code_label(const char *s, struct code_rule *c)
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
parse_strength(const struct conf_section *sec, int *out, struct error *err)
{
	const char *v = conf_section_get(sec, "strength");

	if (v == NULL)
		return 0;
	if (strcmp(v, "strong") == 0)
		*out = STRENGTH_STRONG;
	else if (strcmp(v, "weak") == 0)
		*out = STRENGTH_WEAK;
	else if (strcmp(v, "decisive") == 0)
		*out = STRENGTH_DECISIVE;
	else
		return conf_error(sec, NULL, err, "strength '%s' is not weak, strong or decisive",
		    v);
	return 0;
}

static int
parse_cause(const struct conf_section *sec, const char **out, struct error *err)
{
	const char *v = conf_section_get(sec, "cause");

	*out = NULL;
	if (v == NULL)
		return 0;
	if ((*out = verdict_cause_lookup(v)) == NULL)
		return conf_error(sec, NULL, err, "cause '%s' is not a cause code", v);
	return 0;
}

static int
compile_matches(const struct conf_section *sec, struct pattern_rule *p, bool need_group,
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
static struct pattern_rule *
pattern_slot(struct pattern_rule **tab, size_t *n, const char *label)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		if (strcmp((*tab)[i].label, label) == 0) {
			pattern_release(&(*tab)[i]);
			(*tab)[i].label = xstrdup(label);
			return &(*tab)[i];
		}
	}
	*tab = xrealloc(*tab, (*n + 1) * sizeof(**tab));
	memset(&(*tab)[*n], 0, sizeof(**tab));
	(*tab)[*n].label = xstrdup(label);
	return &(*tab)[(*n)++];
}

static int
load_code(struct bounce_rules *r, const struct conf_section *sec, const char *spec,
    struct error *err)
{
	static const char *const keys[] = { "meaning", "cause", "strength", NULL };
	struct code_rule c;
	size_t i;

	memset(&c, 0, sizeof(c));
	if (conf_section_check_keys(sec, keys, err) < 0)
		return -1;
	if (parse_code_label(spec, &c) < 0)
		return conf_error(sec, NULL, err,
		    "'%s' is not a code: use X.S.D, 5.S.D, X.S.D1-D2 or a reply code NNN", spec);
	c.strength = STRENGTH_STRONG;
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
	static const char *const phrase_keys[] = { "cause", "strength", "match", NULL };
	static const char *const list_keys[] = { "name", "kind", "match", NULL };
	static const char *const host_keys[] = { "match", NULL };
	struct pattern_rule *p;
	const char *v;

	if (strcmp(kind, "phrase") == 0) {
		if (conf_section_check_keys(sec, phrase_keys, err) < 0)
			return -1;
		p = pattern_slot(&r->phrases, &r->nphrases, sec->label);
		p->strength = STRENGTH_STRONG;
		if (parse_cause(sec, &p->cause, err) < 0 ||
		    parse_strength(sec, &p->strength, err) < 0)
			return -1;
		if (p->cause == NULL)
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
				p->kind = KIND_IP;
			else if (strcmp(v, "domain") == 0)
				p->kind = KIND_DOMAIN;
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
	return conf_error(sec, NULL, err,
	    "[bounce \"%s\"]: the label starts with code, phrase, list or host", sec->label);
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
			    "[bounce \"%s\"]: a label is 'code SPEC', 'phrase NAME', 'list NAME' "
			    "or 'host NAME'", sec->label);
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
	    "%zu host patterns\n", r->ncodes, r->nphrases, r->nlists, r->nhosts);
}

/* Classification. */

struct line {
	const char *s;
	size_t len;
};

struct ecode {
	int cls, subject, detail;
	size_t line;
	size_t pos;
};

struct scan {
	char *buf;		/* the text, controls made blanks */
	size_t len;
	struct line *lines;
	size_t nlines;
	bool *frag;		/* lines that carry the reply */
	struct ecode *codes;	/* enhanced codes in fragment lines */
	size_t ncodes;
};

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool
prefix_ci(const char *s, size_t len, const char *pre)
{
	size_t n = strlen(pre);

	return len >= n && strncasecmp(s, pre, n) == 0;
}

/* Offset of the first byte after blanks and quoting marks ('>', '<<<'). */
static size_t
skip_quoting(const struct line *l)
{
	size_t i = 0;

	while (i < l->len && (is_blank(l->s[i]) || l->s[i] == '>' || l->s[i] == '<'))
		i++;
	return i;
}

/* An enhanced code "C.S.D" at s[i] with token boundaries; its end in *end. */
static bool
ecode_at(const char *s, size_t len, size_t i, struct ecode *c, size_t *end)
{
	const char *p = s + i, *lim = s + len;
	long v;
	int n;

	if (i > 0 && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '.'))
		return false;
	if (p >= lim || (*p != '2' && *p != '4' && *p != '5'))
		return false;
	c->cls = *p - '0';
	p++;
	if (p >= lim || *p != '.')
		return false;
	p++;
	for (v = 0, n = 0; p < lim && isdigit((unsigned char)*p) && n < 4; p++, n++)
		v = v * 10 + (*p - '0');
	if (n == 0 || n > 3 || v > 7)
		return false;
	c->subject = (int)v;
	if (p >= lim || *p != '.')
		return false;
	p++;
	for (v = 0, n = 0; p < lim && isdigit((unsigned char)*p) && n < 4; p++, n++)
		v = v * 10 + (*p - '0');
	if (n == 0 || n > 3)
		return false;
	c->detail = (int)v;
	/* "5.7.1." ends a sentence; "5.7.1.2" is something else */
	if (p < lim && (isalnum((unsigned char)*p) ||
	    (*p == '.' && p + 1 < lim && isdigit((unsigned char)p[1]))))
		return false;
	*end = (size_t)(p - s);
	return true;
}

/*
 * A basic reply code at s[i]: three digits [245][0-5][0-9] followed by a
 * blank, '-' or the end, at the start of the line or after ':', ';', a
 * quote or '(' - not a number inside a sentence.
 */
static int
basic_at(const char *s, size_t len, size_t i, size_t start)
{
	size_t j = i;

	if (i + 3 > len || (s[i] != '2' && s[i] != '4' && s[i] != '5') ||
	    s[i + 1] < '0' || s[i + 1] > '5' || !isdigit((unsigned char)s[i + 2]))
		return 0;
	if (i + 3 < len && !is_blank(s[i + 3]) && s[i + 3] != '-')
		return 0;
	while (j > start && is_blank(s[j - 1]))
		j--;
	if (j > start && strchr(":;'\"(=", s[j - 1]) == NULL)
		return 0;
	return (s[i] - '0') * 100 + (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
}

static void
split_lines(struct scan *sc)
{
	size_t i, start = 0, cap = 0;

	for (i = 0; i <= sc->len; i++) {
		if (i < sc->len && sc->buf[i] != '\n')
			continue;
		if (sc->nlines == cap) {
			cap = cap ? cap * 2 : 64;
			sc->lines = xrealloc(sc->lines, cap * sizeof(*sc->lines));
		}
		sc->lines[sc->nlines].s = sc->buf + start;
		sc->lines[sc->nlines].len = i - start;
		if (i - start > 0 && sc->buf[i - 1] == '\r')
			sc->lines[sc->nlines].len--;
		sc->nlines++;
		start = i + 1;
	}
}

/* The returned copy of the original message starts here: codes after it are not the reply. */
static bool
starts_original(const struct line *l)
{
	size_t o = skip_quoting(l);

	return prefix_ci(l->s + o, l->len - o, "content-type: message/rfc822") ||
	    prefix_ci(l->s + o, l->len - o, "content-type: text/rfc822-headers") ||
	    prefix_ci(l->s + o, l->len - o, "------ this is a copy of the message");
}

/* Marks the fragment lines and collects their enhanced codes. */
static void
find_fragments(struct scan *sc)
{
	size_t i, j, cap = 0;
	bool folding = false;

	sc->frag = xcalloc(sc->nlines ? sc->nlines : 1, sizeof(*sc->frag));
	for (i = 0; i < sc->nlines; i++) {
		const struct line *l = &sc->lines[i];
		size_t o = skip_quoting(l);
		bool any = false;

		if (starts_original(l))
			break;
		/* RFC 3464 2.3.6: Diagnostic-Code, folded onto indented lines */
		if (prefix_ci(l->s + o, l->len - o, "diagnostic-code:")) {
			sc->frag[i] = true;
			folding = true;
		} else if (folding && l->len > 0 && is_blank(l->s[0])) {
			sc->frag[i] = true;
		} else {
			folding = false;
		}
		for (j = o; j < l->len; j++) {
			struct ecode c;
			size_t end;

			if (basic_at(l->s, l->len, j, o) > 0)
				any = true;
			if (!ecode_at(l->s, l->len, j, &c, &end))
				continue;
			any = true;
			c.line = i;
			c.pos = j;
			if (sc->ncodes == cap) {
				cap = cap ? cap * 2 : 8;
				sc->codes = xrealloc(sc->codes, cap * sizeof(*sc->codes));
			}
			sc->codes[sc->ncodes++] = c;
			j = end - 1;
		}
		if (any)
			sc->frag[i] = true;
	}
}

/* The enhanced code that names the problem: the first specific one, else the first. */
static const struct ecode *
pick_ecode(const struct scan *sc)
{
	size_t i;

	for (i = 0; i < sc->ncodes; i++)
		if (sc->codes[i].subject != 0 || sc->codes[i].detail != 0)
			return &sc->codes[i];
	return sc->ncodes > 0 ? &sc->codes[0] : NULL;
}

/* The basic code beside the enhanced one, else the first one that starts a fragment. */
static int
pick_basic(const struct scan *sc, const struct ecode *ec)
{
	size_t i, j;
	int code;

	if (ec != NULL) {
		const struct line *l = &sc->lines[ec->line];
		size_t from = ec->pos > 6 ? ec->pos - 6 : 0;

		for (j = from; j + 3 <= ec->pos; j++)
			if ((code = basic_at(l->s, l->len, j, skip_quoting(l))) > 0)
				return code;
	}
	for (i = 0; i < sc->nlines; i++) {
		const struct line *l = &sc->lines[i];

		if (!sc->frag[i])
			continue;
		for (j = skip_quoting(l); j < l->len; j++)
			if ((code = basic_at(l->s, l->len, j, skip_quoting(l))) > 0)
				return code;
	}
	return 0;
}

/* Appends s (n bytes) to sb with runs of blanks folded to one space. */
static void
add_folded(struct strbuf *sb, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (is_blank(s[i]) || s[i] == '\r') {
			if (sb->len > 0 && sb->buf[sb->len - 1] != ' ')
				strbuf_add(sb, " ", 1);
			continue;
		}
		strbuf_add(sb, s + i, 1);
	}
}

/* Leading "550-5.7.1 " / "550 " of a continuation line. */
static size_t
skip_reply_prefix(const struct line *l, size_t o)
{
	struct ecode c;
	size_t p = o, end;

	if (basic_at(l->s, l->len, p, o) > 0) {
		p += 3;
		if (p < l->len && (l->s[p] == '-' || is_blank(l->s[p])))
			p++;
		if (ecode_at(l->s, l->len, p, &c, &end)) {
			p = end;
			while (p < l->len && is_blank(l->s[p]))
				p++;
		}
	}
	return p;
}

/* Appends every line of sc, folded, separated by spaces, up to about SCAN_MAX bytes. */
static void
add_all_lines(struct strbuf *sb, const struct scan *sc)
{
	size_t i;

	for (i = 0; i < sc->nlines && sb->len < SCAN_MAX; i++) {
		if (sb->len > 0)
			strbuf_add(sb, " ", 1);
		add_folded(sb, sc->lines[i].s, sc->lines[i].len);
	}
}

/* The text gathered in sb, cut to SCAN_MAX bytes; never NULL. */
static char *
scan_text(struct strbuf *sb)
{
	if (sb->len > SCAN_MAX) {
		sb->len = SCAN_MAX;
		sb->buf[sb->len] = '\0';
	}
	if (sb->buf == NULL)
		return xstrdup("");
	return strbuf_detach(sb, NULL);
}

/*
 * The reply: the fragment lines joined, the "Diagnostic-Code: smtp;" label
 * and the code prefix of continuation lines removed. Without fragments,
 * the whole text.
 */
static char *
reply_text(const struct scan *sc)
{
	struct strbuf sb;
	size_t i;
	bool first = true;

	strbuf_init(&sb);
	for (i = 0; i < sc->nlines && sb.len < SCAN_MAX; i++) {
		const struct line *l = &sc->lines[i];
		size_t o = skip_quoting(l);

		if (!sc->frag[i])
			continue;
		if (prefix_ci(l->s + o, l->len - o, "diagnostic-code:")) {
			const char *semi = memchr(l->s + o, ';', l->len - o);

			o += strlen("diagnostic-code:");
			if (semi != NULL)
				o = (size_t)(semi - l->s) + 1;
			while (o < l->len && is_blank(l->s[o]))
				o++;
		}
		if (!first)
			o = skip_reply_prefix(l, o);
		if (o >= l->len)
			continue;
		if (sb.len > 0)
			strbuf_add(&sb, " ", 1);
		add_folded(&sb, l->s + o, l->len - o);
		first = false;
	}
	if (sb.len == 0)
		add_all_lines(&sb, sc);
	return scan_text(&sb);
}

/* The whole text folded onto one line, for the host patterns. */
static char *
whole_text(const struct scan *sc)
{
	struct strbuf sb;

	strbuf_init(&sb);
	add_all_lines(&sb, sc);
	return scan_text(&sb);
}

/* A copy of n bytes as a lower-case DNS name (trailing dot dropped), or NULL if it is not one. */
static char *
name_of(const char *s, size_t n)
{
	char *name;
	size_t i;
	bool dot = false;

	while (n > 0 && (s[n - 1] == '.' || s[n - 1] == '-'))
		n--;
	if (n == 0 || n > 253)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '.')
			dot = true;
		else if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return NULL;
	}
	if (!dot || s[0] == '.')
		return NULL;
	name = xstrndup(s, n);
	str_lower(name);
	return name;
}

static void
add_matched(struct bounce_class *c, const char *label)
{
	size_t i;

	for (i = 0; i < c->nmatched; i++)
		if (strcmp(c->matched[i], label) == 0)
			return;
	c->matched = xrealloc(c->matched, (c->nmatched + 1) * sizeof(*c->matched));
	c->matched[c->nmatched++] = xstrdup(label);
}

static bool
is_domain_list(const struct bounce_rules *r, const char *zone)
{
	size_t i;

	for (i = 0; i < r->ndomain_lists; i++)
		if (domain_ends_with(zone, r->domain_lists[i]))
			return true;
	return false;
}

static void
add_list(struct bounce_class *c, const struct bounce_rules *r, char *zone,
    enum list_kind kind)
{
	size_t i;

	for (i = 0; i < c->nlists; i++) {
		if (strcmp(c->lists[i], zone) == 0) {
			free(zone);
			return;
		}
	}
	if (c->nlists == BOUNCE_MAX_LISTS) {
		free(zone);
		return;
	}
	c->list_domain[c->nlists] = kind == KIND_DOMAIN ||
	    (kind == KIND_AUTO && is_domain_list(r, zone));
	c->lists[c->nlists++] = zone;
}

/* The last group that took part in the match, or 0. */
static int
last_group(const regmatch_t *m)
{
	int g;

	for (g = MAX_GROUPS - 1; g > 0; g--)
		if (m[g].rm_so >= 0 && m[g].rm_eo > m[g].rm_so)
			return g;
	return 0;
}

static void
find_lists(const struct bounce_rules *r, const char *text, struct bounce_class *c)
{
	size_t i, k;

	for (i = 0; i < r->nlists; i++) {
		const struct pattern_rule *p = &r->lists[i];

		for (k = 0; k < p->nres; k++) {
			const char *s = text;
			regmatch_t m[MAX_GROUPS];
			int flags = 0, g;

			while (*s != '\0' && regexec(&p->res[k], s, MAX_GROUPS, m, flags) == 0) {
				char *zone = NULL;

				if (p->name != NULL)
					zone = xstrdup(p->name);
				else if ((g = last_group(m)) > 0)
					zone = name_of(s + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
				if (zone != NULL) {
					add_list(c, r, zone, p->kind);
					add_matched(c, p->label);
				}
				if (p->name != NULL || m[0].rm_eo <= 0)
					break;
				s += m[0].rm_eo;
				flags = REG_NOTBOL;
			}
		}
	}
}

static void
find_host(const struct bounce_rules *r, const char *text, struct bounce_class *c)
{
	size_t i, k;

	for (i = 0; i < r->nhosts && c->host == NULL; i++) {
		const struct pattern_rule *p = &r->hosts[i];

		for (k = 0; k < p->nres && c->host == NULL; k++) {
			regmatch_t m[MAX_GROUPS];
			int g;

			if (regexec(&p->res[k], text, MAX_GROUPS, m, 0) != 0 || (g = last_group(m)) <= 0)
				continue;
			c->host = name_of(text + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
		}
	}
}

/* The first place of needle (lower case) in s, ignoring case, or NULL. */
static const char *
find_ci(const char *s, const char *needle)
{
	size_t n = strlen(needle);

	for (; *s != '\0'; s++)
		if (strncasecmp(s, needle, n) == 0)
			return s;
	return NULL;
}

/* The address inside the first "<local@domain>" of text, or after "Final-Recipient: rfc822;". */
static char *
find_recipient(const char *whole, const char *reply)
{
	const char *p, *q, *at;
	size_t n;

	p = find_ci(whole, "final-recipient:");
	if (p != NULL && (q = strchr(p, ';')) != NULL) {
		q++;
		while (*q == ' ')
			q++;
		n = strcspn(q, " <>;");
		at = memchr(q, '@', n);
		if (at != NULL && at > q && n <= ADDR_MAX)
			return text_utf8_sanitize(q, n);
	}
	for (p = strchr(reply, '<'); p != NULL; p = strchr(p + 1, '<')) {
		q = p + 1;
		n = strcspn(q, "<> ");
		if (q[n] != '>' || n == 0 || n > ADDR_MAX)
			continue;
		at = memchr(q, '@', n);
		if (at != NULL && at > q && at < q + n - 1)
			return text_utf8_sanitize(q, n);
	}
	return NULL;
}

static const struct code_rule *
find_code_rule(const struct bounce_rules *r, const struct ecode *ec, int basic)
{
	const struct code_rule *best = NULL;
	int best_rank = 0;
	size_t i;

	for (i = 0; i < r->ncodes; i++) {
		const struct code_rule *cr = &r->codes[i];
		int rank;

		if (ec == NULL) {
			if (cr->basic && cr->lo == basic)
				return cr;
			continue;
		}
		if (cr->basic || cr->subject != ec->subject || ec->detail < cr->lo ||
		    ec->detail > cr->hi || (cr->cls != 0 && cr->cls != ec->cls))
			continue;
		/* an exact class beats X, an exact detail beats a range */
		rank = (cr->cls != 0 ? 2 : 0) + (cr->lo == cr->hi ? 4 : 0) + 1;
		if (rank > best_rank) {
			best = cr;
			best_rank = rank;
		}
	}
	return best;
}

/* RFC 3463 2: an unknown detail is reported as its subject's "X.S.0". */
static const struct code_rule *
subject_rule(const struct bounce_rules *r, const struct ecode *ec)
{
	struct ecode gen = *ec;

	gen.detail = 0;
	return find_code_rule(r, &gen, 0);
}

static size_t
cause_index(const char *cause)
{
	size_t i;

	for (i = 0; verdict_cause_codes[i] != NULL; i++)
		if (strcmp(verdict_cause_codes[i], cause) == 0)
			return i;
	return 0;
}

static size_t
ncauses(void)
{
	size_t n = 0;

	while (verdict_cause_codes[n] != NULL)
		n++;
	return n;
}

static void
copy_reply(struct bounce_class *c, const char *reply)
{
	char *safe = text_utf8_sanitize(reply, strlen(reply));
	size_t n = strlen(safe);

	if (n > BOUNCE_MAX_REPLY) {
		/* cut on a character boundary */
		n = BOUNCE_MAX_REPLY;
		while (n > 0 && ((unsigned char)safe[n] & 0xc0) == 0x80)
			n--;
		safe[n] = '\0';
	}
	c->reply = safe;
}

void
bounce_classify(const struct bounce_rules *rules, const char *text, size_t len,
    struct bounce_class *out)
{
	size_t nc = ncauses();
	int *score = xcalloc(nc, sizeof(*score));
	int *order = xcalloc(nc, sizeof(*order));
	const struct ecode *ec;
	const struct code_rule *cr = NULL;
	struct scan sc;
	char *reply = NULL, *whole = NULL;
	int seq = 0, best = -1, second = -1, code_class;
	bool permanent;
	size_t i, k;

	memset(out, 0, sizeof(*out));
	memset(&sc, 0, sizeof(sc));
	if (len > BOUNCE_MAX_TEXT)
		len = BOUNCE_MAX_TEXT;
	sc.buf = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];

		sc.buf[i] = (ch < 0x20 && ch != '\n' && ch != '\r' && ch != '\t') || ch == 0x7f ?
		    ' ' : (char)ch;
	}
	sc.buf[len] = '\0';
	sc.len = len;
	split_lines(&sc);
	find_fragments(&sc);

	ec = pick_ecode(&sc);
	out->basic_code = pick_basic(&sc, ec);
	if (ec != NULL)
		snprintf(out->enhanced, sizeof(out->enhanced), "%d.%d.%d", ec->cls, ec->subject,
		    ec->detail);
	code_class = out->basic_code > 0 ? out->basic_code / 100 : ec != NULL ? ec->cls : 0;
	out->transient = code_class == 4;
	out->success = code_class == 2;
	permanent = code_class == 5;

	reply = reply_text(&sc);
	whole = whole_text(&sc);
	copy_reply(out, reply);

	/* the enhanced code first: RFC 3463 codes are meant for machines */
	if (ec != NULL) {
		cr = find_code_rule(rules, ec, 0);
		if (cr == NULL && (cr = subject_rule(rules, ec)) != NULL) {
			out->meaning = cr->meaning ? xstrdup(cr->meaning) : NULL;
			add_matched(out, cr->label);
			if (cr->cause != NULL) {
				score[cause_index(cr->cause)] += STRENGTH_WEAK;
				order[cause_index(cr->cause)] = ++seq;
			}
			cr = NULL;
		}
	} else if (out->basic_code > 0) {
		cr = find_code_rule(rules, NULL, out->basic_code);
	}
	if (cr != NULL) {
		out->meaning = cr->meaning ? xstrdup(cr->meaning) : NULL;
		add_matched(out, cr->label);
		if (cr->cause != NULL) {
			score[cause_index(cr->cause)] += cr->strength;
			order[cause_index(cr->cause)] = ++seq;
		}
	}

	/* then the wording */
	for (i = 0; i < rules->nphrases && !out->success; i++) {
		const struct pattern_rule *p = &rules->phrases[i];
		size_t ci = cause_index(p->cause);

		for (k = 0; k < p->nres; k++) {
			if (regexec(&p->res[k], reply, 0, NULL, 0) != 0)
				continue;
			/* a definite rejection in specific words is more than either alone */
			score[ci] += p->strength + (permanent && p->strength >= STRENGTH_STRONG);
			if (order[ci] == 0)
				order[ci] = ++seq;
			add_matched(out, p->label);
			break;
		}
	}

	find_lists(rules, reply, out);
	for (i = 0; i < out->nlists && !out->success; i++) {
		size_t ci = cause_index(out->list_domain[i] ? "domain_blocklisted" : "ip_blocklisted");

		/* a named list is specific evidence, once per kind */
		if (i == 0 || out->list_domain[i] != out->list_domain[0]) {
			score[ci] += 1;
			if (order[ci] == 0)
				order[ci] = ++seq;
		}
	}
	find_host(rules, whole, out);
	out->recipient = find_recipient(whole, reply);

	for (i = 0; i < nc; i++) {
		if (score[i] == 0)
			continue;
		if (best < 0 || score[i] > score[best] ||
		    (score[i] == score[best] &&
		    ((strcmp(verdict_cause_codes[best], "policy_other") == 0 &&
		    strcmp(verdict_cause_codes[i], "policy_other") != 0) ||
		    (strcmp(verdict_cause_codes[i], "policy_other") != 0 && order[i] < order[best]))))
			best = (int)i;
	}
	for (i = 0; i < nc; i++) {
		if ((int)i == best || score[i] < 2 ||
		    strcmp(verdict_cause_codes[i], "policy_other") == 0)
			continue;
		if (second < 0 || score[i] > score[second] ||
		    (score[i] == score[second] && order[i] < order[second]))
			second = (int)i;
	}
	if (out->success) {
		out->cause = NULL;
	} else if (best >= 0) {
		out->cause = verdict_cause_codes[best];
		out->confidence = score[best] >= 3 ? CONF_HIGH :
		    score[best] == 2 ? CONF_MEDIUM : CONF_LOW;
		if (second >= 0)
			out->second_cause = verdict_cause_codes[second];
	} else if (code_class == 4 || code_class == 5) {
		/* refused, for a reason it does not say */
		out->cause = verdict_cause_lookup("policy_other");
		out->confidence = CONF_LOW;
	}
	/* a temporary failure is not a block yet */
	if (out->transient && out->confidence > CONF_MEDIUM)
		out->confidence = CONF_MEDIUM;

	free(reply);
	free(whole);
	free(score);
	free(order);
	free(sc.buf);
	free(sc.lines);
	free(sc.frag);
	free(sc.codes);
}

void
bounce_class_release(struct bounce_class *c)
{
	size_t i;

	free(c->meaning);
	free(c->host);
	free(c->recipient);
	for (i = 0; i < c->nlists; i++)
		free(c->lists[i]);
	for (i = 0; i < c->nmatched; i++)
		free(c->matched[i]);
	free(c->matched);
	free(c->reply);
	memset(c, 0, sizeof(*c));
}

json_t *
bounce_class_json(const struct bounce_class *c)
{
	json_t *o = json_object(), *lists = json_array(), *matched = json_array();
	size_t i;

	json_object_set_new(o, "basic_code",
	    c->basic_code > 0 ? json_integer(c->basic_code) : json_null());
	json_object_set_new(o, "enhanced_code",
	    c->enhanced[0] != '\0' ? json_string(c->enhanced) : json_null());
	json_object_set_new(o, "code_meaning", json_str(c->meaning));
	json_object_set_new(o, "host", json_str(c->host));
	json_object_set_new(o, "recipient", json_str(c->recipient));
	for (i = 0; i < c->nlists; i++)
		json_array_append_new(lists, json_str(c->lists[i]));
	json_object_set_new(o, "lists", lists);
	json_object_set_new(o, "cause", json_str(c->cause));
	json_object_set_new(o, "second_cause", json_str(c->second_cause));
	json_object_set_new(o, "confidence",
	    c->cause != NULL ? json_string(confidence_name(c->confidence)) : json_null());
	json_object_set_new(o, "transient", json_boolean(c->transient));
	for (i = 0; i < c->nmatched; i++)
		json_array_append_new(matched, json_str(c->matched[i]));
	json_object_set_new(o, "matched", matched);
	json_object_set_new(o, "reply", json_str(c->reply));
	return o;
}
