/*
 * Tests of output/github.c: every line is read back by a parser of the
 * workflow command grammar written here after the Actions runner's own
 * (ActionCommand.TryParseV2: "::name key=value,key=value::data", with its
 * unescaping), for one target and a batch, hostile text included; and the
 * job summary is a Markdown table appended to $GITHUB_STEP_SUMMARY.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "output/output.h"
#include "support.h"

static bool
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

struct wf_command {
	char *name;
	char *title;		/* the title property, unescaped; NULL when absent */
	char *data;		/* unescaped */
};

/*
 * Undoes the runner's escapes: %0D %0A (and %3A %2C in a property) first,
 * %25 last, as the runner does. Fails the test when a % starts anything
 * else: the writer escaped less than the toolkit's escapeData/escapeProperty.
 */
static char *
unescape(const char *s, size_t n, bool property)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb);
	strbuf_add(&sb, "", 0);
	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			cr_expect(!property || (s[i] != ':' && s[i] != ','),
			    "a raw '%c' in a property: %.*s", s[i], (int)n, s);
			strbuf_add(&sb, &s[i], 1);
			continue;
		}
		if (i + 2 < n && strncmp(&s[i], "%0D", 3) == 0)
			strbuf_addstr(&sb, "\r");
		else if (i + 2 < n && strncmp(&s[i], "%0A", 3) == 0)
			strbuf_addstr(&sb, "\n");
		else if (i + 2 < n && strncmp(&s[i], "%25", 3) == 0)
			strbuf_addstr(&sb, "%");
		else if (property && i + 2 < n && strncmp(&s[i], "%3A", 3) == 0)
			strbuf_addstr(&sb, ":");
		else if (property && i + 2 < n && strncmp(&s[i], "%2C", 3) == 0)
			strbuf_addstr(&sb, ",");
		else
			cr_assert_fail("a '%%' that is no escape: %.*s", (int)n, s);
		i += 2;
	}
	return strbuf_detach(&sb, NULL);
}

/* Parses one line as the runner does; fails the test when it is no command. */
static void
parse_command(const char *line, struct wf_command *c)
{
	const char *end, *sp, *props, *p;

	memset(c, 0, sizeof(*c));
	cr_assert(strncmp(line, "::", 2) == 0, "not a command: %s", line);
	cr_assert_null(strchr(line, '\r'), "a raw CR ends the line early for a reader: %s", line);
	end = strstr(line + 2, "::");
	cr_assert_not_null(end, "no '::' ends the command: %s", line);
	sp = memchr(line + 2, ' ', (size_t)(end - line - 2));
	c->name = xstrndup(line + 2, (size_t)((sp != NULL ? sp : end) - line - 2));
	cr_assert(c->name[0] != '\0', "a command without a name: %s", line);
	for (props = sp != NULL ? sp + 1 : end; props < end; props = p + 1) {
		const char *eq;

		p = memchr(props, ',', (size_t)(end - props));
		if (p == NULL)
			p = end;
		eq = memchr(props, '=', (size_t)(p - props));
		cr_assert(eq != NULL && eq > props, "a property without key=value: %s", line);
		cr_assert(strncmp(props, "title=", 6) == 0, "a property other than title: %s", line);
		c->title = unescape(eq + 1, (size_t)(p - eq - 1), true);
	}
	c->data = unescape(end + 2, strlen(end + 2), false);
}

static void
wf_command_release(struct wf_command *c)
{
	free(c->name);
	free(c->title);
	free(c->data);
}

/* Parses every line of out into cmds (at most max); returns how many. */
static size_t
parse_all(const char *out, struct wf_command *cmds, size_t max)
{
	char *copy = xstrdup(out), *line, *save = NULL;
	size_t n = 0;

	cr_assert(out[0] == '\0' || out[strlen(out) - 1] == '\n', "the last line is cut");
	for (line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		cr_assert_lt(n, max, "more than %zu lines", max);
		parse_command(line, &cmds[n++]);
	}
	free(copy);
	return n;
}

static void
release_all(struct wf_command *cmds, size_t n)
{
	while (n > 0)
		wf_command_release(&cmds[--n]);
}

static char *
render_one(const struct run_result *res, enum fail_on f, const char *summary)
{
	struct output_options opt = { .format = OUTPUT_GITHUB, .fail_on = f,
	    .summary_path = summary };

	return test_render(&opt, &res, 1);
}

Test(github, every_line_is_one_command_the_runner_parses)
{
	struct output_options opt = { .format = OUTPUT_GITHUB, .batch = true };
	struct test_result blocked, clean, doubt;
	const struct run_result *res[4];
	struct wf_command c[16];
	char *out;
	size_t n;

	test_result_init(&blocked, VERDICT_BLOCKED_LIKELY);
	test_result_init(&clean, VERDICT_CLEAN);
	test_result_init(&doubt, VERDICT_INCONCLUSIVE);
	res[0] = &blocked.res;
	res[1] = NULL;
	res[2] = &clean.res;
	res[3] = &doubt.res;
	out = test_render(&opt, res, 4);
	n = parse_all(out, c, ARRAY_SIZE(c));
	cr_assert_eq(n, 5, "a cause, the bad line, clean, a cause and the inconclusive note:\n%s",
	    out);
	cr_expect_str_eq(c[0].name, "error");
	cr_expect_str_eq(c[1].name, "error");
	cr_expect_str_eq(c[1].title, "why550 line 2: not a target");
	cr_expect_str_eq(c[1].data, "not valid JSON: \"<&>\"\\x0a::error::x");
	cr_expect_str_eq(c[2].name, "notice");
	cr_expect(strstr(c[2].title, ": clean") != NULL, "%s", c[2].title);
	cr_expect_str_eq(c[4].name, "error", "inconclusive fails the default gate");
	cr_expect(starts(c[4].data, "not finished: rdns (Listed <b>"), "%s", c[4].data);
	release_all(c, n);
	free(out);
	test_result_release(&blocked);
	test_result_release(&clean);
	test_result_release(&doubt);
}

Test(github, hostile_text_neither_starts_a_command_nor_breaks_its_line)
{
	struct test_result tr;
	struct wf_command c[4];
	char *out, *want;
	size_t n;

	test_result_init(&tr, VERDICT_BLOCKED_LIKELY);
	out = render_one(&tr.res, FAIL_ON_INCONCLUSIVE, NULL);
	n = parse_all(out, c, ARRAY_SIZE(c));
	cr_assert_eq(n, 1, "one cause, one line:\n%s", out);
	/* the runner gets back the title with its colons and commas */
	cr_expect_str_eq(c[0].title, "why550 2001:db8::66 mail.example.test "
	    "\"a,b <&> c\"@example.test: ip_blocklisted (high)");
	want = xasprintf("Listed <b>\"spam\"</b> & more]]>\\x0a::error::forged\\x0d 100%% "
	    "\\xff\\xfe \xef\xbf\xbe \\x1b[31m a:b, c | *d*\nEvidence: dnsbl/listed: Listed");
	cr_expect(starts(c[0].data, want),
	    "the summary, made visible, then the evidence:\n%s", c[0].data);
	cr_expect_not_null(strstr(c[0].data, "\nFix: Ask for removal at http://x.test/?a=1&b=2 | "));
	cr_expect_null(strchr(c[0].data, '\r'), "a CR from DNS came through");
	free(want);
	release_all(c, n);
	free(out);
	test_result_release(&tr);
}

Test(github, the_gate_makes_a_cause_an_error_or_a_warning)
{
	static const struct {
		enum verdict_status st;
		enum fail_on f;
		const char *first;	/* the first command's name */
	} cases[] = {
		{ VERDICT_AT_RISK, FAIL_ON_INCONCLUSIVE, "warning" },
		{ VERDICT_AT_RISK, FAIL_ON_AT_RISK, "error" },
		{ VERDICT_BLOCKED_LIKELY, FAIL_ON_NEVER, "warning" },
		{ VERDICT_INCONCLUSIVE, FAIL_ON_BLOCKED, "warning" },
		{ VERDICT_INCONCLUSIVE, FAIL_ON_INCONCLUSIVE, "error" },
		{ VERDICT_CLEAN, FAIL_ON_AT_RISK, "notice" },
	};
	size_t i, n, k;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct test_result tr;
		struct wf_command c[4];
		char *out;

		test_result_init(&tr, cases[i].st);
		out = render_one(&tr.res, cases[i].f, NULL);
		n = parse_all(out, c, ARRAY_SIZE(c));
		cr_assert_geq(n, 1, "case %zu", i);
		for (k = 0; k < n; k++)
			cr_expect_str_eq(c[k].name, cases[i].first, "case %zu line %zu", i, k + 1);
		release_all(c, n);
		free(out);
		test_result_release(&tr);
	}
}

/* The cells of a Markdown table row, split at the | that are not escaped. */
static size_t
cells(const char *row)
{
	size_t n = 0;
	const char *p;

	for (p = row; *p != '\0' && *p != '\n'; p++)
		if (*p == '|' && (p == row || p[-1] != '\\'))
			n++;
	return n > 0 ? n - 1 : 0;
}

static char *
read_file(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	long len;

	cr_assert_not_null(fp, "%s", path);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	buf = xcalloc((size_t)len + 1, 1);
	cr_assert_eq(fread(buf, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	return buf;
}

Test(github, the_job_summary_is_a_markdown_table_appended_to_the_file)
{
	struct test_result tr;
	char *path = test_temp_file("an earlier step\n", 16), *out, *md, *row;

	test_result_init(&tr, VERDICT_BLOCKED_LIKELY);
	out = render_one(&tr.res, FAIL_ON_INCONCLUSIVE, path);
	md = read_file(path);
	cr_expect(starts(md, "an earlier step\n### why550: 1 target checked\n"),
	    "appended, not replaced:\n%s", md);
	cr_expect_not_null(strstr(md, "| blocked_likely | 1 |\n"));
	row = strstr(md, "\n| 2001:db8::66 ");
	cr_assert_not_null(row, "no row for the target:\n%s", md);
	row++;
	cr_expect_eq(cells(row), 4, "the | of the text stay inside their cell: %s", row);
	cr_expect_not_null(strstr(row, " | blocked_likely | ip_blocklisted (high) | "));
	cr_expect_not_null(strstr(row, "&lt;b&gt;\"spam\"&lt;/b&gt; &amp; more\\]\\]&gt;"),
	    "markup is text: %s", row);
	cr_expect_not_null(strstr(row, "\\| \\*d\\*"), "%s", row);
	cr_expect_null(strchr(row, '\x1b'));
	unlink(path);
	free(path);
	free(md);
	free(out);
	test_result_release(&tr);
}

Test(github, a_batch_summary_lists_what_needs_attention_and_counts_the_rest)
{
	struct test_result blocked, clean;
	const struct run_result *res[109];
	char *path = test_temp_file("", 0), *out, *md;
	struct output_options opt = { .format = OUTPUT_GITHUB, .batch = true,
	    .summary_path = path };
	size_t i, rows = 0;
	const char *p;

	test_result_init(&blocked, VERDICT_BLOCKED_LIKELY);
	test_result_init(&clean, VERDICT_CLEAN);
	for (i = 0; i < 105; i++)
		res[i] = &blocked.res;
	res[105] = &clean.res;
	res[106] = &clean.res;
	res[107] = &clean.res;
	res[108] = NULL;
	out = test_render(&opt, res, ARRAY_SIZE(res));
	md = read_file(path);
	cr_expect(starts(md, "### why550: 108 targets checked\n"), "%.200s", md);
	cr_expect_not_null(strstr(md, "| blocked_likely | 105 |\n"));
	cr_expect_not_null(strstr(md, "| clean | 3 |\n"));
	cr_expect_not_null(strstr(md, "\n1 input line was not a target.\n"));
	for (p = md; (p = strstr(p, "\n| 2001:db8::66 ")) != NULL; p++)
		rows++;
	cr_expect_eq(rows, 100, "rows shown");
	cr_expect_not_null(strstr(md, "\n5 more targets not shown: see the log.\n"));
	cr_expect_lt(strlen(md), 1024 * 1024, "GitHub keeps 1 MiB of summary per step");
	unlink(path);
	free(path);
	free(md);
	free(out);
	test_result_release(&blocked);
	test_result_release(&clean);
}

Test(github, the_binary_annotates_a_batch_and_appends_its_summary)
{
	static const char *const args[] = { "--checks", "dnsbl,rdns", "--format", "github",
	    "--batch", "-", NULL };
	const char *input = "{\"ip\":\"192.0.2.66\"}\n{\"ip\":\"192.0.2.1\"}\n[1]\n";
	char *conf = test_hostile_checks_d(), *path = test_temp_file("", 0), *md;
	struct wf_command c[16];
	struct test_proc p;
	size_t n, i, errors = 0;

	setenv("GITHUB_STEP_SUMMARY", path, 1);
	test_why550_conf(&p, conf, args, input);
	cr_assert_eq(p.status, 2, "exit %d: %s", p.status, p.err);
	n = parse_all(p.out, c, ARRAY_SIZE(c));
	for (i = 0; i < n; i++)
		errors += strcmp(c[i].name, "error") == 0;
	cr_expect_eq(errors, 3, "two causes of 192.0.2.66 and the bad line:\n%s", p.out);
	cr_expect_str_eq(c[n - 1].title, "why550 line 3: not a target");
	cr_expect_str_eq(c[n - 2].name, "notice", "192.0.2.1 is clean");
	md = read_file(path);
	cr_expect_not_null(strstr(md, "| blocked_likely | 1 |\n| inconclusive | 0 |\n"
	    "| at_risk | 0 |\n| clean | 1 |\n"), "%s", md);
	cr_expect_not_null(strstr(md, "\n| 192.0.2.66 | blocked_likely | "), "%s", md);
	cr_expect_null(strstr(md, "\n| 192.0.2.1 |"), "a clean target of a batch needs no row");
	release_all(c, n);
	unlink(path);
	free(path);
	free(md);
	test_proc_release(&p);
	free(conf);
}

Test(github, a_summary_that_cannot_be_written_exits_74_naming_it)
{
	static const char *const args[] = { "--checks", "rdns", "--ip", "192.0.2.1",
	    "--format", "github", NULL };
	char *conf = test_hostile_checks_d();
	struct test_proc p;

	setenv("GITHUB_STEP_SUMMARY", "/nonexistent/dir/summary.md", 1);
	test_why550_conf(&p, conf, args, NULL);
	cr_expect_eq(p.status, 74, "exit %d: %s", p.status, p.err);
	cr_expect_not_null(strstr(p.err, "cannot write /nonexistent/dir/summary.md"), "%s", p.err);
	cr_expect(starts(p.out, "::notice "), "the annotations are written: %s", p.out);
	test_proc_release(&p);
	free(conf);
}
