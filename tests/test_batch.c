/* Tests of batch mode (src/batch.c): one output line per input line, in order, at any --jobs; bad lines; exit codes; the line parser. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"
#include "src/batch.h"

/* A bounce the shipped rules call a blocklisting: blocked_likely, exit 2. */
#define BLOCKED "{\"bounce\":\"550 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org\"}\n"
/* A success reply: clean, exit 0. */
#define CLEAN "{\"bounce\":\"250 2.0.0 ok\"}\n"
/* The fault server never answers "timeout.*": inconclusive after the deadline, exit 3. */
#define SLOW "{\"mail_from\":\"news@timeout.dom-mx.test\"}\n"

struct batch_out {
	int code;
	char *text;		/* everything written to standard output */
	json_t **lines;		/* each output line parsed */
	size_t nlines;
};

/*
 * Runs batch_run over the file path (jobs at once) with the shipped checks.d,
 * the checks sender_domain and bounce, through the fault server; o gets the
 * exit code and what was written to standard output.
 */
static void
run_batch_file(struct batch_out *o, const char *path, size_t jobs)
{
	char *dir = test_path("checks.d"), *out = test_temp_file("", 0), *line, *save = NULL;
	struct batch_options opt = { .path = path, .jobs = jobs, .timeout_ms = 2000 };
	struct conf *conf = conf_new();
	struct error err = { "" };
	struct dns_engine *eng;
	struct runner *r;
	bool usage;
	int fd, saved;
	FILE *f;
	long len;

	cr_assert_eq(conf_load_dir(conf, dir, &err), 0, "%s", err.msg);
	r = runner_new(conf, "sender_domain,bounce", &usage, &err);
	cr_assert_not_null(r, "%s", err.msg);
	eng = test_engine(test_fault(), 300, 2);
	/* batch_run writes to standard output: send it to a file for the run */
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	fd = open(out, O_WRONLY | O_TRUNC);
	cr_assert(saved >= 0 && fd >= 0);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	o->code = batch_run(r, eng, &opt);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);

	f = fopen(out, "r");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	o->text = xcalloc((size_t)len + 1, 1);
	cr_assert_eq(fread(o->text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	o->lines = NULL;
	o->nlines = 0;
	line = xstrdup(o->text);
	for (char *l = strtok_r(line, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
		o->lines = xrealloc(o->lines, (o->nlines + 1) * sizeof(*o->lines));
		o->lines[o->nlines++] = test_json(l);
	}
	free(line);
	dns_engine_free(eng);
	runner_free(r);
	conf_free(conf);
	unlink(out);
	free(out);
	free(dir);
}

/* The same over input, written to a temporary file first. */
static void
run_batch(struct batch_out *o, const char *input, size_t jobs)
{
	char *in = test_temp_file(input, strlen(input));

	run_batch_file(o, in, jobs);
	unlink(in);
	free(in);
}

static void
batch_out_release(struct batch_out *o)
{
	size_t i;

	for (i = 0; i < o->nlines; i++)
		json_decref(o->lines[i]);
	free(o->lines);
	free(o->text);
}

static long
line_no(const struct batch_out *o, size_t i)
{
	return (long)json_integer_value(json_object_get(o->lines[i], "line"));
}

static const char *
status_of(const struct batch_out *o, size_t i)
{
	return json_string_value(json_object_get(json_object_get(o->lines[i], "verdict"),
	    "status"));
}

static const char *
error_field(const struct batch_out *o, size_t i, const char *key)
{
	return json_string_value(json_object_get(json_object_get(o->lines[i], "error"), key));
}

Test(batch, every_line_gets_one_result_line_in_input_order)
{
	struct batch_out o;
	char why[4096];
	size_t i;

	run_batch(&o, CLEAN BLOCKED CLEAN, 1);
	cr_assert_eq(o.nlines, 3, "%s", o.text);
	for (i = 0; i < o.nlines; i++)
		cr_expect_eq(line_no(&o, i), (long)i + 1);
	cr_expect_str_eq(status_of(&o, 0), "clean");
	cr_expect_str_eq(status_of(&o, 1), "blocked_likely");
	cr_expect_str_eq(status_of(&o, 2), "clean");
	cr_expect(test_schema_valid(o.text, true, why, sizeof(why)), "schema: %s", why);
	batch_out_release(&o);
}

Test(batch, many_jobs_keep_input_order_when_a_slow_line_comes_first)
{
	struct batch_out o;
	size_t i;

	/* line 1 waits for its DNS deadline while lines 2 to 9 finish at once */
	run_batch(&o, SLOW CLEAN BLOCKED CLEAN BLOCKED CLEAN BLOCKED CLEAN BLOCKED, 4);
	cr_assert_eq(o.nlines, 9, "%s", o.text);
	for (i = 0; i < o.nlines; i++)
		cr_expect_eq(line_no(&o, i), (long)i + 1, "output line %zu", i + 1);
	cr_expect_str_eq(status_of(&o, 0), "inconclusive");
	for (i = 1; i < o.nlines; i++)
		cr_expect_str_eq(status_of(&o, i), i % 2 == 1 ? "clean" : "blocked_likely",
		    "line %zu", i + 1);
	batch_out_release(&o);
}

Test(batch, more_lines_than_the_window_are_all_answered_in_order)
{
	struct strbuf in;
	struct batch_out o;
	size_t i;

	/* the window is 4 * jobs: 2 jobs and 40 lines wrap it five times */
	strbuf_init(&in);
	for (i = 0; i < 40; i++)
		strbuf_addstr(&in, i % 3 == 0 ? BLOCKED : CLEAN);
	run_batch(&o, in.buf, 2);
	cr_assert_eq(o.nlines, 40);
	for (i = 0; i < o.nlines; i++) {
		cr_expect_eq(line_no(&o, i), (long)i + 1);
		cr_expect_str_eq(status_of(&o, i), i % 3 == 0 ? "blocked_likely" : "clean",
		    "line %zu", i + 1);
	}
	batch_out_release(&o);
	strbuf_release(&in);
}

Test(batch, bad_lines_give_bad_input_lines_that_name_the_line_and_leave_the_exit_to_the_valid)
{
	struct batch_out o;
	char why[4096];

	run_batch(&o, CLEAN "not json\n" "{\"ip\":\"1.2.3\"}\n" "\n" "[1]\n" CLEAN, 2);
	cr_assert_eq(o.nlines, 6, "%s", o.text);
	cr_expect_eq(o.code, 0, "the valid lines are clean");
	cr_expect_str_eq(status_of(&o, 0), "clean");
	cr_expect_str_eq(status_of(&o, 5), "clean", "a bad line stops nothing");
	for (size_t i = 1; i <= 4; i++) {
		cr_expect_eq(line_no(&o, i), (long)i + 1);
		cr_expect_str_eq(error_field(&o, i, "code"), "bad_input", "line %zu", i + 1);
		cr_expect_null(json_object_get(o.lines[i], "verdict"), "line %zu", i + 1);
	}
	cr_expect(strstr(error_field(&o, 1, "message"), "not valid JSON") != NULL);
	cr_expect(strstr(error_field(&o, 2, "message"), "ip") != NULL, "names the field: %s",
	    error_field(&o, 2, "message"));
	cr_expect(strstr(error_field(&o, 4, "message"), "object") != NULL);
	cr_expect(test_schema_valid(o.text, true, why, sizeof(why)), "schema: %s", why);
	batch_out_release(&o);
}

Test(batch, only_bad_lines_exit_64)
{
	struct batch_out o;

	run_batch(&o, "not json\n" "[1]\n", 2);
	cr_expect_eq(o.nlines, 2, "%s", o.text);
	cr_expect_eq(o.code, 64);
	batch_out_release(&o);
}

Test(batch, crlf_line_ends_and_a_missing_final_newline_are_accepted)
{
	struct batch_out o;

	run_batch(&o, "{\"bounce\":\"250 ok\"}\r\n{\"bounce\":\"250 ok\"}", 1);
	cr_assert_eq(o.nlines, 2, "%s", o.text);
	cr_expect_str_eq(status_of(&o, 0), "clean");
	cr_expect_str_eq(status_of(&o, 1), "clean");
	cr_expect_eq(o.code, 0);
	batch_out_release(&o);
}

Test(batch, exit_code_is_the_worst_target_blocked_before_inconclusive)
{
	struct batch_out o;

	run_batch(&o, CLEAN SLOW CLEAN, 2);
	cr_expect_eq(o.code, 3, "inconclusive beats clean");
	batch_out_release(&o);
	run_batch(&o, SLOW BLOCKED CLEAN, 2);
	cr_expect_eq(o.code, 2, "blocked beats inconclusive");
	batch_out_release(&o);
	run_batch(&o, CLEAN CLEAN, 2);
	cr_expect_eq(o.code, 0);
	batch_out_release(&o);
}

Test(batch, empty_input_writes_nothing_and_is_clean)
{
	struct batch_out o;

	run_batch(&o, "", 3);
	cr_expect_eq(o.nlines, 0);
	cr_expect_str_eq(o.text, "");
	cr_expect_eq(o.code, 0);
	batch_out_release(&o);
}

Test(batch, unreadable_file_exits_64_and_writes_nothing)
{
	struct batch_out o;

	run_batch_file(&o, "/nonexistent/targets.ndjson", 2);
	cr_expect_eq(o.code, 64);
	cr_expect_str_eq(o.text, "");
	batch_out_release(&o);
}

/* Parses one line into a fresh target; the target is the caller's to release. */
static int
parse(const char *line, struct target *t, struct error *err)
{
	target_init(t);
	return batch_parse_line(line, strlen(line), t, err);
}

Test(batch, line_fields_and_their_aliases_fill_the_target)
{
	struct target t;
	struct error err = { "" };

	cr_assert_eq(parse("{\"ip\":\"192.0.2.1\",\"helo\":\"mail.shop.test\","
	    "\"from\":\"news@shop.test\",\"to\":\"alice@example.test\","
	    "\"selectors\":[\"s1\",\"s2\"],\"bounce\":\"550 no\"}", &t, &err), 0, "%s", err.msg);
	cr_expect_str_eq(t.helo, "mail.shop.test");
	cr_expect_str_eq(t.mail_domain, "shop.test");
	cr_expect_str_eq(t.rcpt_domain, "example.test");
	cr_expect_eq(t.nselectors, 2);
	cr_expect_str_eq(t.bounce, "550 no");
	target_release(&t);
	cr_assert_eq(parse("{\"mail_from\":\"<>\",\"rcpt_to\":\"bob@example.test\"}", &t, &err),
	    0, "%s", err.msg);
	cr_expect(t.null_sender);
	cr_expect_str_eq(t.rcpt_to, "bob@example.test");
	target_release(&t);
}

Test(batch, bad_lines_are_refused_naming_the_problem)
{
	static const struct {
		const char *line;
		const char *want;	/* in the message */
	} bad[] = {
		{ "", "not valid JSON" },
		{ "{\"ip\":\"192.0.2.1\"", "not valid JSON" },
		{ "[\"ip\"]", "must be a JSON object" },
		{ "{}", "no target" },
		{ "{\"ip\":\"192.0.2.1\",\"ip\":\"192.0.2.2\"}", "not valid JSON" },
		{ "{\"ipaddr\":\"192.0.2.1\"}", "unknown field 'ipaddr'" },
		{ "{\"ip\":7}", "ip: must be a string" },
		{ "{\"ip\":\"192.0.2.300\"}", "ip" },
		{ "{\"selectors\":\"s1\"}", "selectors: must be an array" },
		{ "{\"selectors\":[1]}", "selectors: must be a string" },
		{ "{\"bounce\":\"\"}", "bounce: is empty" },
		{ "{\"message\":\"/nonexistent/m.eml\"}", "message" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct target t;
		struct error err = { "" };

		cr_expect_eq(parse(bad[i].line, &t, &err), -1, "'%s' accepted", bad[i].line);
		cr_expect(strstr(err.msg, bad[i].want) != NULL, "'%s': '%s' lacks '%s'",
		    bad[i].line, err.msg, bad[i].want);
		target_release(&t);
	}
}
