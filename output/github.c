/* GitHub Actions: a workflow command (annotation) per cause, and a Markdown job summary appended to $GITHUB_STEP_SUMMARY. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "output/stream.h"

enum {
	PART_COMMANDS = 0,	/* written as they come */
	PART_ROWS,		/* rows of the summary's table */
	NPARTS,
};

/* GitHub keeps at most 1 MiB of summary per step: show this many targets, count the rest. */
#define SUMMARY_ROWS	100

/*
 * The workflow command grammar (actions/toolkit, packages/core/src/command.ts,
 * and the runner's ActionCommand parser): "::name key=value,key=value::data"
 * on one line. In data % CR LF are written %25 %0D %0A; in a property value
 * : and , too (%3A %2C), since they end the value and the properties.
 */
static void
escape_add(struct strbuf *sb, const char *s, bool property)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '%':
			strbuf_addstr(sb, "%25");
			break;
		case '\r':
			strbuf_addstr(sb, "%0D");
			break;
		case '\n':
			strbuf_addstr(sb, "%0A");
			break;
		case ':':
			strbuf_addstr(sb, property ? "%3A" : ":");
			break;
		case ',':
			strbuf_addstr(sb, property ? "%2C" : ",");
			break;
		default:
			strbuf_add(sb, s, 1);
		}
	}
}

/* One command line; title and message are made safe already (their line breaks are ours). */
static void
command(struct strbuf *sb, const char *level, const char *title, const char *message)
{
	strbuf_addf(sb, "::%s title=", level);
	escape_add(sb, title, true);
	strbuf_addstr(sb, "::");
	escape_add(sb, message, false);
	strbuf_addstr(sb, "\n");
}

static void
cause_command(struct strbuf *sb, const char *level, const char *label, const struct cause *c)
{
	char *summary = output_safe(c->summary), *remedy = output_safe(c->remedy), *title;
	struct strbuf msg;
	size_t i;

	strbuf_init(&msg);
	strbuf_addf(&msg, "%s\nEvidence: ", summary);
	for (i = 0; i < json_array_size(c->evidence); i++) {
		if (i > 0)
			strbuf_addstr(&msg, "; ");
		output_evidence_add(&msg, json_array_get(c->evidence, i));
	}
	strbuf_addf(&msg, "\nFix: %s", remedy);
	title = xasprintf("why550 %s: %s (%s)", label, cause_name(c->code),
	    confidence_name(c->confidence));
	command(sb, level, title, msg.buf);
	free(title);
	strbuf_release(&msg);
	free(summary);
	free(remedy);
}

/*
 * Markdown of a table cell (GitHub Flavored Markdown): the text is made
 * safe, then | (ends the cell), the characters that start markup and the
 * backslash are escaped with a backslash, and & < > become entities so
 * nothing reads as HTML.
 */
static void
cell_add(struct strbuf *sb, const char *text)
{
	char *safe = output_safe(text);
	const char *p;

	for (p = safe; *p != '\0'; p++) {
		if (*p == '&')
			strbuf_addstr(sb, "&amp;");
		else if (*p == '<')
			strbuf_addstr(sb, "&lt;");
		else if (*p == '>')
			strbuf_addstr(sb, "&gt;");
		else if (strchr("\\|`*_[]#~!", *p) != NULL)
			strbuf_addf(sb, "\\%c", *p);
		else
			strbuf_add(sb, p, 1);
	}
	free(safe);
}

static char *
summary_row(const struct run_result *res, const char *label)
{
	const struct verdict *v = &res->verdict;
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb);
	strbuf_addstr(&sb, "| ");
	cell_add(&sb, label);
	strbuf_addf(&sb, " | %s | ", verdict_status_name(v->status));
	for (i = 0; i < v->ncauses; i++)
		strbuf_addf(&sb, "%s%s (%s)", i > 0 ? ", " : "", cause_name(v->causes[i].code),
		    confidence_name(v->causes[i].confidence));
	strbuf_addstr(&sb, " | ");
	if (v->ncauses > 0)
		cell_add(&sb, v->causes[0].remedy);
	else if (v->note != NULL)
		cell_add(&sb, v->note);
	strbuf_addstr(&sb, " |\n");
	return strbuf_detach(&sb, NULL);
}

static struct output_item *
github_render(const struct output_stream *s, const struct run_result *res, long line)
{
	struct output_item *it = output_item_new(line);
	const struct verdict *v = &res->verdict;
	const char *level = gate_fails(v->status, s->opt.fail_on) ? "error" : "warning";
	char *label = output_target_label(res->target), *title, *note;
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb);
	it->status = v->status;
	for (i = 0; i < v->ncauses; i++)
		cause_command(&sb, level, label, &v->causes[i]);
	if (v->status == VERDICT_INCONCLUSIVE) {
		title = xasprintf("why550 %s: inconclusive", label);
		note = output_safe(v->note != NULL ? v->note : "a check that matters did not finish");
		command(&sb, level, title, note);
		free(title);
		free(note);
	} else if (v->status == VERDICT_CLEAN) {
		title = xasprintf("why550 %s: clean", label);
		command(&sb, "notice", title, "No cause found; every check that ran finished.");
		free(title);
	}
	it->part[PART_COMMANDS] = strbuf_detach(&sb, NULL);
	/* a batch's summary lists what needs attention; one target is listed whatever it is */
	if (s->opt.summary_path != NULL && (!s->opt.batch || v->status != VERDICT_CLEAN))
		it->part[PART_ROWS] = summary_row(res, label);
	free(label);
	return it;
}

static struct output_item *
github_render_error(const struct output_stream *s, long line, const char *msg)
{
	struct output_item *it = output_item_new(line);
	char *title = xasprintf("why550 line %ld: not a target", line), *safe = output_safe(msg);
	struct strbuf sb;

	(void)s;
	strbuf_init(&sb);
	it->bad_input = true;
	command(&sb, "error", title, safe);
	it->part[PART_COMMANDS] = strbuf_detach(&sb, NULL);
	free(title);
	free(safe);
	return it;
}

static void
summary_head(struct strbuf *sb, const struct output_stream *s)
{
	static const enum verdict_status order[] = {
		VERDICT_BLOCKED_LIKELY, VERDICT_INCONCLUSIVE, VERDICT_AT_RISK, VERDICT_CLEAN,
	};
	long total = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(order); i++)
		total += s->count[order[i]];
	strbuf_addf(sb, "### why550: %ld target%s checked\n\n| verdict | targets |\n|---|---:|\n",
	    total, total == 1 ? "" : "s");
	for (i = 0; i < ARRAY_SIZE(order); i++)
		strbuf_addf(sb, "| %s | %ld |\n", verdict_status_name(order[i]), s->count[order[i]]);
	if (s->nbad > 0)
		strbuf_addf(sb, "\n%ld input line%s %s not a target.\n", s->nbad,
		    s->nbad == 1 ? "" : "s", s->nbad == 1 ? "was" : "were");
	strbuf_addf(sb, "\nUnder `--fail-on %s`.\n", gate_fail_on_name(s->opt.fail_on));
}

static void
github_finish(struct output_stream *s)
{
	struct strbuf sb;
	size_t rest = 0;
	FILE *fp;

	if (s->opt.summary_path == NULL)
		return;
	strbuf_init(&sb);
	summary_head(&sb, s);
	if (s->spool[PART_ROWS].used) {
		strbuf_addstr(&sb, "\n| target | verdict | causes | first fix |\n|---|---|---|---|\n");
		output_spool_read_lines(s, PART_ROWS, SUMMARY_ROWS, &sb, &rest);
		if (rest > 0)
			strbuf_addf(&sb, "\n%zu more target%s not shown: see the log.\n", rest,
			    rest == 1 ? "" : "s");
	}
	strbuf_addstr(&sb, "\n");
	errno = 0;
	fp = fopen(s->opt.summary_path, "a");
	if (fp == NULL || fwrite(sb.buf, 1, sb.len, fp) != sb.len)
		output_write_failed(s, s->opt.summary_path);
	if (fp != NULL && fclose(fp) != 0)
		output_write_failed(s, s->opt.summary_path);
	strbuf_release(&sb);
}

const struct output_format_ops output_github_ops = {
	.format = OUTPUT_GITHUB,
	.nparts = NPARTS,
	.direct = true,
	.render = github_render,
	.render_error = github_render_error,
	.finish = github_finish,
};
