/* The bounce classifier: reply codes, host, named blocklists and the probable cause of a pasted bounce. */
#include "checks/bounce/classify.h"

#include <ctype.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks/bounce/dsn.h"
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

/* True if s[i] follows the word "version" ("X-Mailman-Version: 2.0.8"): a software version, not a status. */
static bool
after_version(const char *s, size_t i)
{
	while (i > 0 && (is_blank(s[i - 1]) || s[i - 1] == ':'))
		i--;
	return i >= 7 && strncasecmp(s + i - 7, "version", 7) == 0;
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
	if (after_version(s, i))
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

/*
 * The returned copy of the original message starts here: codes after it
 * are not the reply. The separators MTAs write before it (Exim, qmail,
 * Sendmail, Lotus Notes, IMail, OpenSMTPD, DragonFly, 1&1, Yahoo), after
 * leading dashes and blanks.
 */
static bool
starts_original(const struct line *l)
{
	static const char *const marks[] = {
		"content-type: message/rfc822", "content-type: text/rfc822-headers",
		"this is a copy of the message", "below this line is a copy of the message",
		"below is a copy of the original message", "original message follows",
		"returned message", "original message -", "original message:",
		"the header of the original message", "message headers follow",
		"included is a copy of the message header", "original mail info",
		"original message", NULL,
	};
	size_t o = skip_quoting(l), i;

	while (o < l->len && (l->s[o] == '-' || is_blank(l->s[o])))
		o++;
	for (i = 0; marks[i] != NULL; i++) {
		size_t n = strlen(marks[i]);

		/* a mark is the whole line but for dashes, or starts it and ends in a separator */
		if (!prefix_ci(l->s + o, l->len - o, marks[i]))
			continue;
		if (strcmp(marks[i], "original message") != 0 || o + n == l->len ||
		    l->s[o + n] == ' ' || l->s[o + n] == '-')
			return true;
	}
	return false;
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
		} else if (folding && l->len > o && is_blank(l->s[0])) {
			/* a reply folded onto indented lines (Postfix, Exim, Sendmail reports) */
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
		if (any) {
			sc->frag[i] = true;
			folding = true;
		}
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

	if (ec != NULL && ec->line < sc->nlines) {
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

/* The code rule for ec (or the basic code when ec is NULL), from the providers that matched first. */
static const struct bounce_code_rule *
find_code_rule(const struct bounce_rules *r, const bool *prov, const struct ecode *ec, int basic)
{
	const struct bounce_code_rule *best = NULL;
	int best_rank = 0;
	size_t i;

	for (i = 0; i < r->ncodes; i++) {
		const struct bounce_code_rule *cr = &r->codes[i];
		int rank;

		if (cr->provider >= 0 && !prov[cr->provider])
			continue;
		if (ec == NULL) {
			if (cr->basic && cr->lo == basic &&
			    (best == NULL || (best->provider < 0 && cr->provider >= 0)))
				best = cr;
			continue;
		}
		if (cr->basic || cr->subject != ec->subject || ec->detail < cr->lo ||
		    ec->detail > cr->hi || (cr->cls != 0 && cr->cls != ec->cls))
			continue;
		/* the receiver's own meaning beats the registry's; an exact class beats X, an exact detail a range */
		rank = (cr->provider >= 0 ? 8 : 0) + (cr->cls != 0 ? 2 : 0) +
		    (cr->lo == cr->hi ? 4 : 0) + 1;
		if (rank > best_rank) {
			best = cr;
			best_rank = rank;
		}
	}
	return best;
}

/* RFC 3463 2: an unknown detail is reported as its subject's "X.S.0". */
static const struct bounce_code_rule *
subject_rule(const struct bounce_rules *r, const bool *prov, const struct ecode *ec)
{
	struct ecode gen = *ec;

	gen.detail = 0;
	return find_code_rule(r, prov, &gen, 0);
}

/* Replaces *s with its valid UTF-8 copy cut to BOUNCE_MAX_REPLY bytes on a character boundary. */
static void
copy_reply_to(char **s)
{
	char *safe = text_utf8_sanitize(*s, strlen(*s));
	size_t n = strlen(safe);

	if (n > BOUNCE_MAX_REPLY) {
		n = BOUNCE_MAX_REPLY;
		while (n > 0 && ((unsigned char)safe[n] & 0xc0) == 0x80)
			n--;
		safe[n] = '\0';
	}
	free(*s);
	*s = safe;
}

static void
copy_reply(struct bounce_class *c, const char *reply)
{
	c->reply = xstrdup(reply);
	copy_reply_to(&c->reply);
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
read_codes(const struct scan *sc, const struct ecode *status, struct bounce_class *out, int *cls)
{
	const struct ecode *ec = pick_ecode(sc);

	/* RFC 3464 2.3.4: the Status field, when the reply's own code says less */
	if (status != NULL && (ec == NULL || (ec->subject == 0 && ec->detail == 0)))
		ec = status;

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
score_code(const struct bounce_rules *rules, const bool *prov, const struct ecode *ec,
    struct bounce_class *out, struct tally *ty)
{
	const struct bounce_code_rule *cr;

	if (ec == NULL) {
		if (out->basic_code > 0 &&
		    (cr = find_code_rule(rules, prov, NULL, out->basic_code)) != NULL)
			use_code_rule(cr, cr->strength, out, ty);
		return;
	}
	if ((cr = find_code_rule(rules, prov, ec, 0)) != NULL)
		use_code_rule(cr, cr->strength, out, ty);
	else if ((cr = subject_rule(rules, prov, ec)) != NULL)
		/* a detail nobody registered says only what its subject says */
		use_code_rule(cr, BOUNCE_WEAK, out, ty);
}

/* The wording: each phrase rule that matches the reply, once. */
static void
score_phrases(const struct bounce_rules *rules, const bool *prov, const char *reply,
    bool permanent, struct bounce_class *out, struct tally *ty)
{
	size_t i, k;

	for (i = 0; i < rules->nphrases; i++) {
		const struct bounce_pattern_rule *p = &rules->phrases[i];

		if (p->provider >= 0 && !prov[p->provider])
			continue;
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

/*
 * RFC 5321 3.3: a reply to MAIL FROM is about the sender (the reverse-path),
 * never about a recipient. When the text says the refusal came there and
 * not at RCPT TO, "no such user" or "no such domain" is the sender's.
 */
static void
sender_stage(const char *whole, struct tally *ty)
{
	bool mail = find_ci(whole, "after mail from") != NULL ||
	    find_ci(whole, "in reply to mail from") != NULL ||
	    find_ci(whole, "did not like our mail from") != NULL;
	bool rcpt = find_ci(whole, "rcpt to") != NULL || find_ci(whole, "end of data") != NULL ||
	    find_ci(whole, "in reply to data") != NULL;
	int moved;

	if (!mail || rcpt)
		return;
	moved = ty->score[CAUSE_RECIPIENT_UNKNOWN] + ty->score[CAUSE_RECIPIENT_DISABLED];
	ty->score[CAUSE_RECIPIENT_UNKNOWN] = ty->score[CAUSE_RECIPIENT_DISABLED] = 0;
	if (moved > 0)
		tally_add(ty, CAUSE_SENDER_DOMAIN_INVALID, moved);
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

/* The providers whose patterns match the whole text, each named among the matches. */
static void
find_providers(const struct bounce_rules *r, const char *whole, bool *prov,
    struct bounce_class *out)
{
	size_t i, k;

	for (i = 0; i < r->nproviders; i++) {
		for (k = 0; k < r->providers[i].nres; k++) {
			if (regexec(&r->providers[i].res[k], whole, 0, NULL, 0) == 0) {
				prov[i] = true;
				add_matched(out, r->providers[i].label);
				break;
			}
		}
	}
}

/* Classifies one text; status is the code of a report's Status field, or NULL. */
static void
classify_text(const struct bounce_rules *rules, const char *text, size_t len,
    const struct ecode *status, struct bounce_class *out)
{
	bool prov[BOUNCE_MAX_PROVIDERS] = { false };
	const struct ecode *ec;
	struct tally ty;
	struct scan sc;
	char *reply, *whole;
	int cls;

	memset(out, 0, sizeof(*out));
	memset(&ty, 0, sizeof(ty));
	scan_init(&sc, text, len);
	ec = read_codes(&sc, status, out, &cls);
	reply = reply_text(&sc);
	whole = whole_text(&sc);
	copy_reply(out, reply);
	find_providers(rules, whole, prov, out);
	score_code(rules, prov, ec, out, &ty);
	if (!out->success)
		score_phrases(rules, prov, reply, cls == 5, out, &ty);
	find_lists(rules, reply, out);
	if (!out->success)
		score_lists(out, &ty);
	find_host(rules, whole, out);
	out->recipient = find_recipient(whole, reply);
	sender_stage(whole, &ty);
	decide(&ty, cls, out);
	free(reply);
	free(whole);
	scan_release(&sc);
}

/* The Status field of a report as an enhanced code (it has no line in the text); false if it is none. */
static bool
status_code(const char *status, struct ecode *ec)
{
	size_t end;

	if (status == NULL || !ecode_at(status, strlen(status), 0, ec, &end))
		return false;
	ec->line = SIZE_MAX;
	ec->pos = 0;
	return true;
}

/* A classification that says too little to act on: no cause, a generic refusal, or a weak hint. */
static bool
says_little(const struct bounce_class *c)
{
	return c->cause == CAUSE_NONE || c->cause == CAUSE_POLICY_OTHER || c->confidence == CONF_LOW;
}

/* True if b tells more than a: a cause where a has none, a specific one, more confidence. */
static bool
tells_more(const struct bounce_class *b, const struct bounce_class *a)
{
	if (b->cause == CAUSE_NONE || b->success)
		return false;
	if (a->cause == CAUSE_NONE)
		return true;
	if ((a->cause == CAUSE_POLICY_OTHER) != (b->cause == CAUSE_POLICY_OTHER))
		return a->cause == CAUSE_POLICY_OTHER;
	return b->confidence > a->confidence;
}

/* RFC 3464 2.3.3: a failed recipient is what the bounce is about; delivered or relayed ones are not. */
static int
action_rank(const char *action)
{
	if (action == NULL)
		return 2;
	if (strcmp(action, "failed") == 0)
		return 3;
	if (strcmp(action, "delayed") == 0)
		return 1;
	return 0;
}

/* The recipient that the bounce is about: failed first, then the most specific diagnostic. */
static size_t
pick_primary(const struct dsn *d, const struct bounce_class *cls)
{
	size_t i, best = 0;

	for (i = 1; i < d->nrcpts; i++) {
		int ra = action_rank(d->rcpts[i].action), rb = action_rank(d->rcpts[best].action);

		if (ra != rb) {
			if (ra > rb)
				best = i;
		} else if (tells_more(&cls[i], &cls[best])) {
			best = i;
		}
	}
	return best;
}

/* One recipient block as a text the classifier reads: its diagnostic (still folded), host and address. */
static char *
rcpt_text(const struct dsn_rcpt *r)
{
	struct strbuf sb;

	strbuf_init(&sb);
	if (r->diagnostic != NULL)
		strbuf_addf(&sb, "Diagnostic-Code: smtp; %s\n", r->diagnostic);
	if (r->remote_mta != NULL)
		strbuf_addf(&sb, "Remote-MTA: dns; %s\n", r->remote_mta);
	if (r->recipient != NULL)
		strbuf_addf(&sb, "Final-Recipient: rfc822; %s\n", r->recipient);
	return sb.buf != NULL ? strbuf_detach(&sb, NULL) : xstrdup("");
}

/* A field for the JSON: whitespace folded, valid UTF-8, at most BOUNCE_MAX_REPLY bytes; NULL stays NULL. */
static char *
field_copy(const char *s)
{
	struct strbuf sb;
	char *out, *p;

	if (s == NULL)
		return NULL;
	strbuf_init(&sb);
	add_folded(&sb, s, strlen(s));
	out = scan_text(&sb);
	/* a folded field is one line */
	for (p = out; (p = strchr(p, '\n')) != NULL; )
		*p = ' ';
	copy_reply_to(&out);
	return out;
}

static void
summarize(const struct dsn_rcpt *r, const struct bounce_class *c, struct bounce_rcpt *out)
{
	out->recipient = field_copy(r->recipient);
	out->action = field_copy(r->action);
	out->status = field_copy(r->status);
	out->remote_mta = field_copy(r->remote_mta);
	out->diagnostic = field_copy(r->diagnostic);
	out->cause = c->cause;
	out->confidence = c->confidence;
}

/*
 * A delivery status report: each recipient's block classified on its own;
 * out is the classification of the recipient the bounce is about, from
 * the readable text (body) when its own block says too little.
 */
static void
classify_report(const struct bounce_rules *rules, const struct dsn *d, const char *body,
    size_t blen, struct bounce_class *out)
{
	struct bounce_class *cls = xcalloc(d->nrcpts, sizeof(*cls)), alt;
	struct bounce_rcpt *sum = xcalloc(d->nrcpts, sizeof(*sum));
	const struct dsn_rcpt *p;
	struct ecode st;
	size_t i, best;

	for (i = 0; i < d->nrcpts; i++) {
		char *t = rcpt_text(&d->rcpts[i]);

		classify_text(rules, t, strlen(t),
		    status_code(d->rcpts[i].status, &st) ? &st : NULL, &cls[i]);
		free(t);
	}
	best = pick_primary(d, cls);
	p = &d->rcpts[best];
	if (says_little(&cls[best]) && blen > 0) {
		classify_text(rules, body, blen, status_code(p->status, &st) ? &st : NULL, &alt);
		if (tells_more(&alt, &cls[best])) {
			bounce_class_release(&cls[best]);
			cls[best] = alt;
		} else {
			bounce_class_release(&alt);
		}
	}
	for (i = 0; i < d->nrcpts; i++)
		summarize(&d->rcpts[i], &cls[i], &sum[i]);
	*out = cls[best];
	memset(&cls[best], 0, sizeof(cls[best]));
	/* the report's own fields name the recipient and the host */
	if (p->recipient != NULL) {
		free(out->recipient);
		out->recipient = field_copy(p->recipient);
	}
	if (p->remote_mta != NULL && out->host == NULL)
		out->host = name_of(p->remote_mta, strcspn(p->remote_mta, " \t;[]"));
	out->rcpts = sum;
	out->nrcpts = d->nrcpts;
	out->primary = best;
	for (i = 0; i < d->nrcpts; i++)
		bounce_class_release(&cls[i]);
	free(cls);
}

void
bounce_classify(const struct bounce_rules *rules, const char *text, size_t len,
    struct bounce_class *out)
{
	struct dsn d;
	const char *body;
	size_t blen;

	dsn_read(text, len, &d);
	body = d.message ? d.text : text;
	blen = d.message ? d.len : len;
	if (d.nrcpts > 0)
		classify_report(rules, &d, body, blen, out);
	else
		classify_text(rules, body, blen, NULL, out);
	out->reporting_mta = field_copy(d.reporting_mta);
	dsn_release(&d);
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
	free(c->reporting_mta);
	for (i = 0; i < c->nrcpts; i++) {
		free(c->rcpts[i].recipient);
		free(c->rcpts[i].action);
		free(c->rcpts[i].status);
		free(c->rcpts[i].remote_mta);
		free(c->rcpts[i].diagnostic);
	}
	free(c->rcpts);
	memset(c, 0, sizeof(*c));
}

static json_t *
rcpts_json(const struct bounce_class *c)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < c->nrcpts; i++) {
		const struct bounce_rcpt *r = &c->rcpts[i];
		json_t *o = json_object();

		json_object_set_new(o, "recipient", json_str(r->recipient));
		json_object_set_new(o, "action", json_str(r->action));
		json_object_set_new(o, "status", json_str(r->status));
		json_object_set_new(o, "remote_mta", json_str(r->remote_mta));
		json_object_set_new(o, "diagnostic_code", json_str(r->diagnostic));
		json_object_set_new(o, "cause", json_str(cause_name(r->cause)));
		json_object_set_new(o, "confidence", r->cause != CAUSE_NONE ?
		    json_string(confidence_name(r->confidence)) : json_null());
		json_object_set_new(o, "primary", json_boolean(i == c->primary));
		json_array_append_new(a, o);
	}
	return a;
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
	json_object_set_new(o, "reporting_mta", json_str(c->reporting_mta));
	json_object_set_new(o, "recipients", rcpts_json(c));
	return o;
}
