/* The text report: verdict first, then the fix, then the checks, for a person at a terminal. */
#include "output/output.h"

#include <stdlib.h>
#include <string.h>

#include "core/textsafe.h"

#define C_RED	"\033[31m"
#define C_YEL	"\033[33m"
#define C_GRN	"\033[32m"
#define C_MAG	"\033[1;35m"
#define C_BOLD	"\033[1m"
#define C_OFF	"\033[0m"

#define NAME_COLS_MAX	24
#define STATUS_COLS	7		/* "skipped" */

struct out {
	struct strbuf sb;
	bool color;
	bool verbose;
	int width;
};

/* Columns taken by UTF-8 text: one per code point (wide glyphs are rare here). */
static size_t
cols(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

/* Bytes of the first max columns of s (n bytes), never splitting a character. */
static size_t
cut(const char *s, size_t n, size_t max)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (c == max)
				return i;
			c++;
		}
	}
	return n;
}

static void
spaces(struct out *o, size_t n)
{
	while (n-- > 0)
		strbuf_add(&o->sb, " ", 1);
}

static void
paint(struct out *o, const char *color, const char *s)
{
	if (o->color && color != NULL)
		strbuf_addf(&o->sb, "%s%s%s", color, s, C_OFF);
	else
		strbuf_addstr(&o->sb, s);
}

/*
 * The length of the piece of text at p: up to and including the next
 * place a line may break, a space or, in JSON (json), a ',' or ':' outside
 * a string; *in_str carries whether p is inside a JSON string.
 */
static size_t
piece(const char *p, bool json, bool *in_str)
{
	size_t i = 0;

	while (p[i] != '\0') {
		char c = p[i++];

		if (c == ' ')
			break;
		if (!json)
			continue;
		if (*in_str) {
			if (c == '\\' && p[i] != '\0')
				i++;
			else if (c == '"')
				*in_str = false;
		} else if (c == '"') {
			*in_str = true;
		} else if (c == ',' || c == ':') {
			break;
		}
	}
	return i;
}

/*
 * Appends hostile text, escaped, wrapped at o->width: the cursor is at
 * column col, continuation lines start at column hang. Lines break only
 * between pieces (see piece()), never inside a word, a name, a number or
 * an address: a piece wider than a whole line stands alone and runs over.
 * Ends the line.
 */
static void
wrap_text(struct out *o, size_t col, size_t hang, const char *text, bool json)
{
	char *safe = text_term_escape(text ? text : "", text ? strlen(text) : 0);
	size_t width = (size_t)o->width;
	const char *p = safe;
	bool in_str = false, empty = true, space = false;

	if (hang + 1 >= width)
		hang = 0;
	while (*p != '\0') {
		size_t n = piece(p, json, &in_str);
		bool sep = p[n - 1] == ' ';
		size_t body = sep ? n - 1 : n, c = cols(p, body);

		if (body == 0) {
			/* runs of spaces are one */
			space = space || !empty;
			p += n;
			continue;
		}
		/* a piece that fits no better on a line of its own stays where it is */
		if (col + (space ? 1 : 0) + c > width && (!empty || (col > hang &&
		    hang + c <= width))) {
			strbuf_add(&o->sb, "\n", 1);
			spaces(o, hang);
			col = hang;
		} else if (space) {
			strbuf_add(&o->sb, " ", 1);
			col++;
		}
		strbuf_add(&o->sb, p, body);
		col += c;
		empty = false;
		space = sep;
		p += n;
	}
	strbuf_add(&o->sb, "\n", 1);
	free(safe);
}

static void
wrap(struct out *o, size_t col, size_t hang, const char *text)
{
	wrap_text(o, col, hang, text, false);
}

static const char *
verdict_color(enum verdict_status st)
{
	switch (st) {
	case VERDICT_CLEAN:
		return C_GRN;
	case VERDICT_AT_RISK:
		return C_YEL;
	case VERDICT_BLOCKED_LIKELY:
		return C_RED;
	case VERDICT_INCONCLUSIVE:
		return C_MAG;
	}
	return NULL;
}

static const char *
status_color(enum check_status st)
{
	switch (st) {
	case CHECK_PASS:
		return C_GRN;
	case CHECK_WARN:
		return C_YEL;
	case CHECK_FAIL:
		return C_RED;
	case CHECK_ERROR:
		return C_MAG;
	case CHECK_SKIPPED:
		return NULL;
	}
	return NULL;
}

/*
 * Appends hostile text on one line, escaped, cut with "..." so that it ends
 * before o->width when it starts at column col. Ends the line.
 */
static void
one_line(struct out *o, size_t col, const char *text)
{
	char *safe = text_term_escape(text ? text : "", text ? strlen(text) : 0);
	size_t room = (size_t)o->width > col ? (size_t)o->width - col : 0;
	size_t n = strlen(safe), c = cols(safe, n);

	if (c <= room) {
		strbuf_add(&o->sb, safe, n);
	} else if (room > 3) {
		strbuf_add(&o->sb, safe, cut(safe, n, room - 3));
		strbuf_addstr(&o->sb, "...");
	}
	strbuf_add(&o->sb, "\n", 1);
	free(safe);
}

/* "127.0.0.1:1 answered no query" for each resolver that answered nothing; "" if none. */
static char *
silent_resolvers(const struct run_result *res)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb);
	for (i = 0; i < res->nservers && i < DNS_MAX_SERVERS; i++)
		if (dns_server_stats_silent(&res->servers[i]))
			strbuf_addf(&sb, "%s%.*s answered no query", sb.len > 0 ? ", " : "",
			    (int)sizeof(res->servers[i].label), res->servers[i].label);
	return strbuf_detach(&sb, NULL);
}

static void
verdict_line(struct out *o, const struct verdict *v, const char *silent)
{
	const char *label = "INCONCLUSIVE";
	char *rest = NULL;

	switch (v->status) {
	case VERDICT_CLEAN:
		label = "CLEAN";
		rest = xstrdup("no problem found");
		break;
	case VERDICT_AT_RISK:
		label = "AT RISK";
		/* none is certain: a temporary refusal or a weakness receivers may count against you */
		rest = xasprintf("%zu possible cause%s, none certain", v->ncauses,
		    v->ncauses == 1 ? "" : "s");
		break;
	case VERDICT_BLOCKED_LIKELY:
		label = "BLOCKED LIKELY";
		rest = xasprintf("%zu probable cause%s", v->ncauses,
		    v->ncauses == 1 ? "" : "s");
		break;
	case VERDICT_INCONCLUSIVE:
		/* a dead resolver explains the rest: say it first */
		rest = xasprintf("%s%s%s", silent, silent[0] != '\0' ? "; " : "",
		    v->note ? v->note : "some checks could not finish");
		break;
	}
	paint(o, verdict_color(v->status), label);
	strbuf_addstr(&o->sb, " - ");
	wrap(o, strlen(label) + 3, 4, rest);
	free(rest);
	/* a verdict that stands may still leave lists unchecked: say which, and how to check them */
	if (v->status != VERDICT_INCONCLUSIVE && v->note != NULL) {
		strbuf_addstr(&o->sb, "Note: ");
		wrap(o, 6, 4, v->note);
	}
}

static const char *
jstr(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

static void
top_cause(struct out *o, const struct cause *c)
{
	char *head = xasprintf("%s (%s confidence)", cause_name(c->code),
	    confidence_name(c->confidence));
	size_t i;

	paint(o, C_BOLD, "Top cause:");
	strbuf_addstr(&o->sb, " ");
	wrap(o, 11, 4, head);
	spaces(o, 2);
	wrap(o, 2, 2, c->summary);
	if (json_array_size(c->evidence) == 1 && c->summary != NULL &&
	    strcmp(jstr(json_array_get(c->evidence, 0), "message"), c->summary) == 0) {
		/* the summary already is the evidence: name where it came from */
		const json_t *ev = json_array_get(c->evidence, 0);
		char *line = xasprintf("%s/%s", jstr(ev, "check"), jstr(ev, "finding"));

		strbuf_addstr(&o->sb, "  Evidence: ");
		wrap(o, 12, 4, line);
		free(line);
	} else if (json_array_size(c->evidence) > 0) {
		strbuf_addstr(&o->sb, "  Evidence:\n");
		for (i = 0; i < json_array_size(c->evidence); i++) {
			const json_t *ev = json_array_get(c->evidence, i);
			char *line = xasprintf("%s/%s: %s", jstr(ev, "check"),
			    jstr(ev, "finding"), jstr(ev, "message"));

			strbuf_addstr(&o->sb, "    - ");
			wrap(o, 6, 6, line);
			free(line);
			if (json_is_string(json_object_get(ev, "note"))) {
				strbuf_addstr(&o->sb, "      note: ");
				wrap(o, 12, 12, jstr(ev, "note"));
			}
		}
	}
	strbuf_addstr(&o->sb, "  ");
	paint(o, C_BOLD, "Fix:");
	strbuf_addstr(&o->sb, " ");
	wrap(o, 7, 7, c->remedy);
	free(head);
}

static void
other_causes(struct out *o, const struct verdict *v)
{
	size_t i;

	strbuf_addstr(&o->sb, "\n");
	paint(o, C_BOLD, "Other causes:");
	strbuf_addstr(&o->sb, "\n");
	for (i = 1; i < v->ncauses; i++) {
		const struct cause *c = &v->causes[i];
		char *line = xasprintf("%s (%s): %s", cause_name(c->code),
		    confidence_name(c->confidence), c->summary ? c->summary : "");

		strbuf_addstr(&o->sb, "  - ");
		wrap(o, 4, 4, line);
		strbuf_addstr(&o->sb, "    Fix: ");
		wrap(o, 9, 9, c->remedy);
		free(line);
	}
}

/* The one-line result of a check: its first problem, its reason, or "ok". */
static const char *
check_result(const struct report *rep)
{
	enum check_status st = report_status(rep);
	size_t i;

	if ((st == CHECK_SKIPPED || st == CHECK_ERROR) && report_reason(rep) != NULL)
		return report_reason(rep);
	for (i = 0; i < report_nfindings(rep); i++) {
		const struct finding *f = report_finding(rep, i);

		if (f->severity != SEV_INFO)
			return f->message;
	}
	return st == CHECK_SKIPPED ? "skipped" : "ok";
}

/* "rdns, dnsbl (needs --ip); helo (needs --helo)": the checks that did not run, by reason. */
static char *
skipped_line(const struct run_result *res)
{
	struct strbuf sb;
	size_t i, j;

	strbuf_init(&sb);
	for (i = 0; i < res->nreports; i++) {
		const struct report *rep = res->reports[i];
		const char *why;
		bool seen = false;

		if (rep == NULL || report_status(rep) != CHECK_SKIPPED)
			continue;
		why = report_reason(rep) != NULL ? report_reason(rep) : "skipped";
		for (j = 0; j < i && !seen; j++) {
			const struct report *p = res->reports[j];

			seen = p != NULL && report_status(p) == CHECK_SKIPPED &&
			    strcmp(report_reason(p) != NULL ? report_reason(p) : "skipped", why) == 0;
		}
		if (seen)
			continue;
		if (sb.len > 0)
			strbuf_addstr(&sb, "; ");
		for (j = i; j < res->nreports; j++) {
			const struct report *p = res->reports[j];

			if (p == NULL || report_status(p) != CHECK_SKIPPED ||
			    strcmp(report_reason(p) != NULL ? report_reason(p) : "skipped", why) != 0)
				continue;
			strbuf_addf(&sb, "%s%s", j == i ? "" : ", ", report_name(p));
		}
		strbuf_addf(&sb, " (%s)", why);
	}
	return strbuf_detach(&sb, NULL);
}

static void
check_table(struct out *o, const struct run_result *res)
{
	size_t i, namew = 4, col, nskipped = 0;

	for (i = 0; i < res->nreports; i++) {
		size_t n;

		if (res->reports[i] == NULL)
			continue;
		if (!o->verbose && report_status(res->reports[i]) == CHECK_SKIPPED) {
			nskipped++;
			continue;
		}
		n = cols(report_name(res->reports[i]), strlen(report_name(res->reports[i])));
		if (n > namew)
			namew = n;
	}
	if (namew > NAME_COLS_MAX)
		namew = NAME_COLS_MAX;
	col = 2 + namew + 2 + STATUS_COLS + 2;
	strbuf_addstr(&o->sb, "\n");
	paint(o, C_BOLD, "Checks:");
	strbuf_addstr(&o->sb, "\n");
	for (i = 0; i < res->nreports; i++) {
		const struct report *rep = res->reports[i];
		enum check_status st;
		const char *stname;
		char *name;
		size_t n, nb;

		if (rep == NULL)
			continue;
		st = report_status(rep);
		/* without --verbose, the checks that did not run share one line below */
		if (st == CHECK_SKIPPED && !o->verbose)
			continue;
		stname = check_status_name(st);
		name = text_term_escape(report_name(rep), strlen(report_name(rep)));
		n = cols(name, strlen(name));
		nb = cut(name, strlen(name), namew);
		spaces(o, 2);
		strbuf_add(&o->sb, name, nb);
		spaces(o, 2 + namew - (n < namew ? n : namew));
		paint(o, status_color(st), stname);
		spaces(o, 2 + STATUS_COLS - strlen(stname));
		/* one line per check: the whole text is in the findings (--verbose) */
		if (o->verbose)
			wrap(o, col, col, check_result(rep));
		else
			one_line(o, col, check_result(rep));
		free(name);
	}
	if (nskipped > 0) {
		char *line = skipped_line(res);

		strbuf_addstr(&o->sb, "  not run: ");
		wrap(o, 11, 4, line);
		free(line);
	}
}

static void
findings(struct out *o, const struct run_result *res)
{
	size_t i, j;

	strbuf_addstr(&o->sb, "\n");
	paint(o, C_BOLD, "Findings:");
	strbuf_addstr(&o->sb, "\n");
	for (i = 0; i < res->nreports; i++) {
		const struct report *rep = res->reports[i];

		for (j = 0; rep != NULL && j < report_nfindings(rep); j++) {
			const struct finding *f = report_finding(rep, j);
			json_t *data = json_sanitize(f->data);
			char *dump = json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER);
			char *line = xasprintf("%s/%s [%s] %s", report_name(rep), f->code,
			    finding_severity_name(f->severity), f->message);

			strbuf_addstr(&o->sb, "  ");
			wrap(o, 2, 4, line);
			if (json_object_size(data) > 0) {
				strbuf_addstr(&o->sb, "    data: ");
				wrap_text(o, 10, 10, dump ? dump : "{}", true);
			}
			free(line);
			free(dump);
			json_decref(data);
		}
	}
}

int
output_text_write(FILE *fp, const struct run_result *res, const struct text_options *opt)
{
	const struct verdict *v = &res->verdict;
	struct out o;
	char *stats, *silent;
	int ret = -1;

	strbuf_init(&o.sb);
	o.color = opt != NULL && opt->color;
	o.verbose = opt != NULL && opt->verbose;
	o.width = opt != NULL && opt->width > 0 ? opt->width : 80;
	if (o.width < 40)
		o.width = 40;
	silent = silent_resolvers(res);
	verdict_line(&o, v, silent);
	if (v->ncauses > 0) {
		strbuf_addstr(&o.sb, "\n");
		top_cause(&o, &v->causes[0]);
	}
	if (v->ncauses > 1)
		other_causes(&o, v);
	check_table(&o, res);
	if (opt != NULL && opt->verbose)
		findings(&o, res);
	stats = xasprintf("dns: %llu queries, %llu cache hits, %llu timeouts in %d ms%s%s",
	    (unsigned long long)res->dns.queries, (unsigned long long)res->dns.cache_hits,
	    (unsigned long long)res->dns.timeouts, res->duration_ms,
	    silent[0] != '\0' ? "; " : "", silent);
	strbuf_addstr(&o.sb, "\n");
	wrap(&o, 0, 4, stats);
	free(stats);
	free(silent);
	/* rendered in full first, so a write error never leaves half a verdict behind */
	if (fwrite(o.sb.buf, 1, o.sb.len, fp) != o.sb.len || fflush(fp) != 0)
		goto out;
	ret = 0;
out:
	strbuf_release(&o.sb);
	return ret;
}
