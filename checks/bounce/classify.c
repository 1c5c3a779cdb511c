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

/* The points of each cause while one text is classified. */
struct tally {
	int score[CAUSE_END];
	int order[CAUSE_END];	/* when the cause first scored, from 1; 0: never */
	int seq;
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
    enum bounce_list_kind kind)
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
	c->list_domain[c->nlists] = kind == BOUNCE_LIST_DOMAIN ||
	    (kind == BOUNCE_LIST_AUTO && is_domain_list(r, zone));
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
		const struct bounce_pattern_rule *p = &r->lists[i];

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
		const struct bounce_pattern_rule *p = &r->hosts[i];

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

static const struct bounce_code_rule *
find_code_rule(const struct bounce_rules *r, const struct ecode *ec, int basic)
{
	const struct bounce_code_rule *best = NULL;
	int best_rank = 0;
	size_t i;

	for (i = 0; i < r->ncodes; i++) {
		const struct bounce_code_rule *cr = &r->codes[i];
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
static const struct bounce_code_rule *
subject_rule(const struct bounce_rules *r, const struct ecode *ec)
{
	struct ecode gen = *ec;

	gen.detail = 0;
	return find_code_rule(r, &gen, 0);
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

/* The text split into lines, controls made blanks, the fragments and their codes found. */
static void
scan_init(struct scan *sc, const char *text, size_t len)
{
	size_t i;

	memset(sc, 0, sizeof(*sc));
	if (len > BOUNCE_MAX_TEXT)
		len = BOUNCE_MAX_TEXT;
	sc->buf = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];

		sc->buf[i] = (ch < 0x20 && ch != '\n' && ch != '\r' && ch != '\t') || ch == 0x7f ?
		    ' ' : (char)ch;
	}
	sc->buf[len] = '\0';
	sc->len = len;
	split_lines(sc);
	find_fragments(sc);
}

static void
scan_release(struct scan *sc)
{
	free(sc->buf);
	free(sc->lines);
	free(sc->frag);
	free(sc->codes);
}

/*
 * The reply codes into out (basic, enhanced, transient, success); the
 * enhanced code that names the problem, or NULL. *cls is the class of the
 * reply: 2, 4 or 5 from the basic code, else from the enhanced one; 0 if none.
 */
static const struct ecode *
read_codes(const struct scan *sc, struct bounce_class *out, int *cls)
{
	const struct ecode *ec = pick_ecode(sc);

	out->basic_code = pick_basic(sc, ec);
	if (ec != NULL)
		snprintf(out->enhanced, sizeof(out->enhanced), "%d.%d.%d", ec->cls, ec->subject,
		    ec->detail);
	*cls = out->basic_code > 0 ? out->basic_code / 100 : ec != NULL ? ec->cls : 0;
	out->transient = *cls == 4;
	out->success = *cls == 2;
	return ec;
}

/* Adds points to cause c; the first cause to score wins ties with later ones. */
static void
tally_add(struct tally *ty, enum cause_code c, int points)
{
	ty->score[c] += points;
	if (ty->order[c] == 0)
		ty->order[c] = ++ty->seq;
}

/* The code rule that matched: its meaning, its name among the matches, its points. */
static void
use_code_rule(const struct bounce_code_rule *cr, int points, struct bounce_class *out,
    struct tally *ty)
{
	out->meaning = cr->meaning ? xstrdup(cr->meaning) : NULL;
	add_matched(out, cr->label);
	if (cr->cause != CAUSE_NONE)
		tally_add(ty, cr->cause, points);
}

/* The enhanced code first (RFC 3463 codes are meant for machines), else the basic code. */
static void
score_code(const struct bounce_rules *rules, const struct ecode *ec, struct bounce_class *out,
    struct tally *ty)
{
	const struct bounce_code_rule *cr;

	if (ec == NULL) {
		if (out->basic_code > 0 && (cr = find_code_rule(rules, NULL, out->basic_code)) != NULL)
			use_code_rule(cr, cr->strength, out, ty);
		return;
	}
	if ((cr = find_code_rule(rules, ec, 0)) != NULL)
		use_code_rule(cr, cr->strength, out, ty);
	else if ((cr = subject_rule(rules, ec)) != NULL)
		/* a detail nobody registered says only what its subject says */
		use_code_rule(cr, BOUNCE_WEAK, out, ty);
}

/* The wording: each phrase rule that matches the reply, once. */
static void
score_phrases(const struct bounce_rules *rules, const char *reply, bool permanent,
    struct bounce_class *out, struct tally *ty)
{
	size_t i, k;

	for (i = 0; i < rules->nphrases; i++) {
		const struct bounce_pattern_rule *p = &rules->phrases[i];

		for (k = 0; k < p->nres; k++) {
			if (regexec(&p->res[k], reply, 0, NULL, 0) != 0)
				continue;
			/* a definite rejection in specific words is more than either alone */
			tally_add(ty, p->cause, p->strength +
			    (permanent && p->strength >= BOUNCE_STRONG));
			add_matched(out, p->label);
			break;
		}
	}
}

/* A named list is specific evidence of its kind of listing, once per kind. */
static void
score_lists(const struct bounce_class *out, struct tally *ty)
{
	size_t i;

	for (i = 0; i < out->nlists; i++)
		if (i == 0 || out->list_domain[i] != out->list_domain[0])
			tally_add(ty, out->list_domain[i] ? CAUSE_DOMAIN_BLOCKLISTED :
			    CAUSE_IP_BLOCKLISTED, 1);
}

/*
 * True if cause c ranks before cause d: more points, or as many and it
 * scored first; policy_other, the generic refusal, loses every tie.
 */
static bool
ranks_before(const struct tally *ty, enum cause_code c, enum cause_code d)
{
	if (ty->score[c] != ty->score[d])
		return ty->score[c] > ty->score[d];
	if (c == CAUSE_POLICY_OTHER || d == CAUSE_POLICY_OTHER)
		return d == CAUSE_POLICY_OTHER && c != CAUSE_POLICY_OTHER;
	return ty->order[c] < ty->order[d];
}

/* The best cause with at least min points other than not (and policy_other unless allowed). */
static enum cause_code
pick_cause(const struct tally *ty, int min, enum cause_code not, bool allow_policy)
{
	enum cause_code best = CAUSE_NONE;
	int c;

	for (c = CAUSE_NONE + 1; c < CAUSE_END; c++) {
		if (ty->score[c] < min || (enum cause_code)c == not ||
		    (!allow_policy && c == CAUSE_POLICY_OTHER))
			continue;
		if (best == CAUSE_NONE || ranks_before(ty, (enum cause_code)c, best))
			best = (enum cause_code)c;
	}
	return best;
}

/* The cause, its confidence and a second cause, from the points and the reply's class. */
static void
decide(const struct tally *ty, int cls, struct bounce_class *out)
{
	enum cause_code best = pick_cause(ty, 1, CAUSE_NONE, true);

	if (out->success)
		return;
	if (best != CAUSE_NONE) {
		out->cause = best;
		out->confidence = ty->score[best] >= 3 ? CONF_HIGH :
		    ty->score[best] == 2 ? CONF_MEDIUM : CONF_LOW;
		/* another cause the text makes probable on its own */
		out->second_cause = pick_cause(ty, 2, best, false);
	} else if (cls == 4 || cls == 5) {
		/* refused, for a reason it does not say */
		out->cause = CAUSE_POLICY_OTHER;
		out->confidence = CONF_LOW;
	}
	/* a temporary failure is not a block yet */
	if (out->transient && out->confidence > CONF_MEDIUM)
		out->confidence = CONF_MEDIUM;
}

void
bounce_classify(const struct bounce_rules *rules, const char *text, size_t len,
    struct bounce_class *out)
{
	const struct ecode *ec;
	struct tally ty;
	struct scan sc;
	char *reply, *whole;
	int cls;

	memset(out, 0, sizeof(*out));
	memset(&ty, 0, sizeof(ty));
	scan_init(&sc, text, len);
	ec = read_codes(&sc, out, &cls);
	reply = reply_text(&sc);
	whole = whole_text(&sc);
	copy_reply(out, reply);
	score_code(rules, ec, out, &ty);
	if (!out->success)
		score_phrases(rules, reply, cls == 5, out, &ty);
	find_lists(rules, reply, out);
	if (!out->success)
		score_lists(out, &ty);
	find_host(rules, whole, out);
	out->recipient = find_recipient(whole, reply);
	decide(&ty, cls, out);
	free(reply);
	free(whole);
	scan_release(&sc);
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
	json_object_set_new(o, "cause", json_str(cause_name(c->cause)));
	json_object_set_new(o, "second_cause", json_str(cause_name(c->second_cause)));
	json_object_set_new(o, "confidence",
	    c->cause != CAUSE_NONE ? json_string(confidence_name(c->confidence)) : json_null());
	json_object_set_new(o, "transient", json_boolean(c->transient));
	for (i = 0; i < c->nmatched; i++)
		json_array_append_new(matched, json_str(c->matched[i]));
	json_object_set_new(o, "matched", matched);
	json_object_set_new(o, "reply", json_str(c->reply));
	return o;
}
