/*
 * JUnit XML for CI systems that read test reports: a testsuite per target,
 * a testcase for the verdict (it fails exactly when the run fails the gate,
 * --fail-on) and one per check; failures carry the cause, its evidence and
 * the remedy. Valid against the Apache Ant JUnit schema and Jenkins' JUnit
 * schema (tests/data/junit/).
 */
#include <stdlib.h>
#include <string.h>

#include "core/textsafe.h"
#include "output/stream.h"

/*
 * XML 1.0 section 2.4: & and < never stand for themselves; > and the
 * quotes are escaped too, so text and attributes share one escape.
 * Attribute values are normalised by the reader (section 3.3.3), so line
 * breaks and tabs in them are written as character references. Section
 * 2.2: U+FFFE and U+FFFF are no characters; output_safe() has already made
 * every control character visible, and the last branch only guards that.
 */
static void
xml_add(struct strbuf *sb, const char *s, bool attr)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		switch (*p) {
		case '&':
			strbuf_addstr(sb, "&amp;");
			break;
		case '<':
			strbuf_addstr(sb, "&lt;");
			break;
		case '>':
			strbuf_addstr(sb, "&gt;");
			break;
		case '"':
			strbuf_addstr(sb, "&quot;");
			break;
		case '\'':
			strbuf_addstr(sb, "&apos;");
			break;
		case '\n':
			strbuf_addstr(sb, attr ? "&#10;" : "\n");
			break;
		case '\t':
			strbuf_addstr(sb, attr ? "&#9;" : "\t");
			break;
		default:
			if (p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf)) {
				strbuf_addf(sb, "\\xef\\xbf\\x%02x", p[2]);
				p += 2;
			} else if (*p < 0x20) {
				strbuf_addf(sb, "\\x%02x", *p);
			} else {
				strbuf_add(sb, p, 1);
			}
		}
	}
}

/* An attribute name="value" with value made safe and escaped. */
static void
attr_add(struct strbuf *sb, const char *name, const char *value)
{
	char *safe = output_safe(value);

	strbuf_addf(sb, " %s=\"", name);
	xml_add(sb, safe, true);
	strbuf_addstr(sb, "\"");
	free(safe);
}

struct suite {
	struct strbuf props;
	struct strbuf cases;
	char *name;		/* the target's label */
	int tests, failures, errors, skipped;
};

static void
property(struct suite *su, const char *name, const char *value)
{
	if (value == NULL)
		return;
	strbuf_addstr(&su->props, "      <property");
	attr_add(&su->props, "name", name);
	attr_add(&su->props, "value", value);
	strbuf_addstr(&su->props, "/>\n");
}

/* What a testcase holds besides its name: nothing (it passed), or one element of this kind. */
struct outcome {
	const char *kind;	/* "failure", "error", "skipped" or NULL */
	const char *type;
	const char *message;
	const char *body;	/* text already made safe (line breaks are the report's own) */
};

static void
testcase(struct suite *su, const char *name, int ms, const struct outcome *o)
{
	struct strbuf *sb = &su->cases;

	su->tests++;
	strbuf_addstr(sb, "    <testcase");
	attr_add(sb, "name", name);
	attr_add(sb, "classname", su->name);
	strbuf_addf(sb, " time=\"%.3f\"", ms > 0 ? ms / 1000.0 : 0.0);
	if (o->kind == NULL) {
		strbuf_addstr(sb, "/>\n");
		return;
	}
	if (strcmp(o->kind, "failure") == 0)
		su->failures++;
	else if (strcmp(o->kind, "error") == 0)
		su->errors++;
	else
		su->skipped++;
	strbuf_addf(sb, ">\n      <%s", o->kind);
	if (o->type != NULL)
		attr_add(sb, "type", o->type);
	attr_add(sb, "message", o->message != NULL ? o->message : "");
	if (o->body == NULL || o->body[0] == '\0') {
		strbuf_addstr(sb, "/>\n");
	} else {
		strbuf_addstr(sb, ">");
		xml_add(sb, o->body, false);
		strbuf_addf(sb, "</%s>\n", o->kind);
	}
	strbuf_addstr(sb, "    </testcase>\n");
}

/* A cause as a person reads it: what, the evidence with its data, the fix. */
static void
cause_text(struct strbuf *sb, const struct cause *c)
{
	char *summary = output_safe(c->summary), *remedy = output_safe(c->remedy);
	size_t i;

	strbuf_addf(sb, "%s (%s confidence): %s\nEvidence:\n", cause_name(c->code),
	    confidence_name(c->confidence), summary);
	for (i = 0; i < json_array_size(c->evidence); i++) {
		const json_t *ev = json_array_get(c->evidence, i);
		const json_t *data = json_object_get(ev, "data");
		char *dump, *safe;

		strbuf_addstr(sb, "  - ");
		output_evidence_add(sb, ev);
		strbuf_addstr(sb, "\n");
		if (!json_is_object(data) || json_object_size(data) == 0)
			continue;
		dump = json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER);
		safe = output_safe(dump);
		strbuf_addf(sb, "    data: %s\n", safe);
		free(safe);
		free(dump);
	}
	strbuf_addf(sb, "Fix: %s\n", remedy);
	free(summary);
	free(remedy);
}

/* The verdict in a few lines: the testsuite's system-out, and the body of a failing verdict. */
static void
verdict_text(struct strbuf *sb, const struct run_result *res, enum fail_on f, bool evidence)
{
	const struct verdict *v = &res->verdict;
	char *note = output_safe(v->note);
	size_t i;

	strbuf_addf(sb, "why550 %s: %s (exit %d under --fail-on %s)\n", WHY550_VERSION,
	    verdict_status_name(v->status), gate_exit_code(v->status, f), gate_fail_on_name(f));
	for (i = 0; i < v->ncauses; i++) {
		char *summary, *remedy;

		strbuf_addf(sb, "%zu. ", i + 1);
		if (evidence) {
			cause_text(sb, &v->causes[i]);
			continue;
		}
		summary = output_safe(v->causes[i].summary);
		remedy = output_safe(v->causes[i].remedy);
		strbuf_addf(sb, "%s (%s): %s\n   Fix: %s\n", cause_name(v->causes[i].code),
		    confidence_name(v->causes[i].confidence), summary, remedy);
		free(summary);
		free(remedy);
	}
	if (v->note != NULL)
		strbuf_addf(sb, "Note: %s\n", note);
	free(note);
}

static void
verdict_case(struct suite *su, const struct run_result *res, enum fail_on f)
{
	const struct verdict *v = &res->verdict;
	struct outcome o = { NULL, NULL, NULL, NULL };
	struct strbuf body;
	char *msg = NULL;

	strbuf_init(&body);
	if (gate_fails(v->status, f)) {
		/* an inconclusive run did not test what it should: an error, not a failure */
		o.kind = v->status == VERDICT_INCONCLUSIVE ? "error" : "failure";
		o.type = verdict_status_name(v->status);
		if (v->status == VERDICT_INCONCLUSIVE && v->note != NULL)
			msg = v->note;
		else
			msg = v->ncauses > 0 ? v->causes[0].summary : v->note;
		verdict_text(&body, res, f, true);
		o.message = msg != NULL ? msg : verdict_status_name(v->status);
		o.body = body.buf;
	}
	testcase(su, "verdict", res->duration_ms, &o);
	strbuf_release(&body);
}

/* Why a check that errored did not finish: its reason and its error findings. */
static void
error_text(struct strbuf *sb, const struct report *rep)
{
	size_t i;

	for (i = 0; i < report_nfindings(rep); i++) {
		const struct finding *fd = report_finding(rep, i);
		char *msg;

		if (fd->severity != SEV_ERROR)
			continue;
		msg = output_safe(fd->message);
		strbuf_addf(sb, "%s: %s\n", fd->code, msg);
		free(msg);
	}
}

static void
check_case(struct suite *su, const struct run_result *res, const struct report *rep,
    enum fail_on f)
{
	const struct verdict *v = &res->verdict;
	struct outcome o = { NULL, NULL, NULL, NULL };
	const struct cause *first = NULL;
	enum check_status st = report_status(rep);
	struct strbuf body;
	size_t i;

	strbuf_init(&body);
	for (i = 0; gate_fails(v->status, f) && i < v->ncauses; i++) {
		if (!output_cause_cites(&v->causes[i], report_name(rep)))
			continue;
		if (first == NULL)
			first = &v->causes[i];
		cause_text(&body, &v->causes[i]);
	}
	if (first != NULL) {
		o = (struct outcome){ "failure", cause_name(first->code), first->summary, NULL };
		if (st == CHECK_ERROR)
			error_text(&body, rep);
	} else if (gate_fails(v->status, f) && st == CHECK_ERROR) {
		o = (struct outcome){ "error", "check_error", report_reason(rep), NULL };
		if (o.message == NULL)
			o.message = "the check did not finish";
		error_text(&body, rep);
	} else if (st == CHECK_SKIPPED) {
		o = (struct outcome){ "skipped", NULL, report_reason(rep), NULL };
	}
	o.body = body.buf;
	testcase(su, report_name(rep), report_duration_ms(rep), &o);
	strbuf_release(&body);
}

/* Writes the testsuite element of su into sb, with its counts, then frees su's parts. */
static void
suite_close(struct strbuf *sb, struct suite *su, const struct output_stream *s, long line,
    int ms, const char *system_out)
{
	char now[32];

	output_time_utc(time(NULL), false, now, sizeof(now));
	strbuf_addstr(sb, "  <testsuite");
	attr_add(sb, "name", su->name);
	attr_add(sb, "package", "why550");
	/* the Ant schema: ids count the testsuites from 0, and every input line makes one */
	strbuf_addf(sb, " id=\"%ld\" timestamp=\"%s\"", line > 0 ? line - 1 : 0, now);
	attr_add(sb, "hostname", s->hostname);
	strbuf_addf(sb, " tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\">\n",
	    su->tests, su->failures, su->errors, su->skipped, ms > 0 ? ms / 1000.0 : 0.0);
	strbuf_addf(sb, "    <properties>\n%s    </properties>\n", su->props.buf != NULL ?
	    su->props.buf : "");
	strbuf_addstr(sb, su->cases.buf != NULL ? su->cases.buf : "");
	strbuf_addstr(sb, "    <system-out>");
	xml_add(sb, system_out, false);
	strbuf_addstr(sb, "</system-out>\n    <system-err></system-err>\n  </testsuite>\n");
	strbuf_release(&su->props);
	strbuf_release(&su->cases);
	free(su->name);
}

static struct output_item *
junit_render(const struct output_stream *s, const struct run_result *res, long line)
{
	struct output_item *it = output_item_new(line);
	const struct target *t = res->target;
	struct suite su;
	struct strbuf sb, out;
	char num[32];
	size_t i;

	memset(&su, 0, sizeof(su));
	strbuf_init(&su.props);
	strbuf_init(&su.cases);
	strbuf_init(&sb);
	strbuf_init(&out);
	su.name = output_target_label(t);
	it->status = res->verdict.status;
	property(&su, "why550.version", WHY550_VERSION);
	property(&su, "verdict", verdict_status_name(res->verdict.status));
	property(&su, "fail_on", gate_fail_on_name(s->opt.fail_on));
	property(&su, "ip", t->ip);
	property(&su, "helo", t->helo);
	property(&su, "mail_from", t->mail_from != NULL && t->mail_from[0] == '\0' ? "<>" :
	    t->mail_from);
	property(&su, "rcpt_to", t->rcpt_to);
	snprintf(num, sizeof(num), "%ld", line);
	property(&su, "line", line > 0 ? num : NULL);
	verdict_case(&su, res, s->opt.fail_on);
	for (i = 0; i < res->nreports; i++)
		if (res->reports[i] != NULL)
			check_case(&su, res, res->reports[i], s->opt.fail_on);
	verdict_text(&out, res, s->opt.fail_on, false);
	suite_close(&sb, &su, s, line, res->duration_ms, out.buf != NULL ? out.buf : "");
	strbuf_release(&out);
	it->part[0] = strbuf_detach(&sb, NULL);
	return it;
}

static struct output_item *
junit_render_error(const struct output_stream *s, long line, const char *msg)
{
	struct output_item *it = output_item_new(line);
	struct outcome o = { "error", "bad_input", msg, NULL };
	struct suite su;
	struct strbuf sb;
	char num[32];

	memset(&su, 0, sizeof(su));
	strbuf_init(&su.props);
	strbuf_init(&su.cases);
	strbuf_init(&sb);
	it->bad_input = true;
	su.name = xasprintf("line %ld", line);
	snprintf(num, sizeof(num), "%ld", line);
	property(&su, "line", num);
	testcase(&su, "input", 0, &o);
	suite_close(&sb, &su, s, line, 0, "");
	it->part[0] = strbuf_detach(&sb, NULL);
	return it;
}

static void
junit_finish(struct output_stream *s)
{
	static const char head[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n";
	static const char tail[] = "</testsuites>\n";

	output_write(s, head, sizeof(head) - 1);
	output_spool_copy(s, 0);
	output_write(s, tail, sizeof(tail) - 1);
}

const struct output_format_ops output_junit_ops = {
	.format = OUTPUT_JUNIT,
	.nparts = 1,
	.direct = false,
	.render = junit_render,
	.render_error = junit_render_error,
	.finish = junit_finish,
};
