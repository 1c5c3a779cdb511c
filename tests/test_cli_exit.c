/* The exit codes of build/why550 end to end, against the NSD fixture (tests/zones) and a dead resolver. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "support.h"

#define EXIT_CLEAN	0
#define EXIT_AT_RISK	1
#define EXIT_BLOCKED	2
#define EXIT_INCONCL	3
#define EXIT_USAGE	64
#define EXIT_CONFIG	78

/* Runs why550 against NSD with args; checks the exit code and, for JSON, the schema. */
static json_t *
run(struct test_proc *p, const char *resolver, const char *const *args, int want)
{
	char why[512] = "";

	test_why550(p, resolver, args);
	cr_assert_eq(p->status, want, "exit %d, want %d; stderr: %s", p->status, want, p->err);
	if (p->out[0] != '{')
		return NULL;
	cr_expect(test_schema_valid(p->out, false, why, sizeof(why)), "schema: %s", why);
	return test_json(p->out);
}

static const char *
status_of(json_t *doc)
{
	return json_string_value(json_object_get(json_object_get(doc, "verdict"), "status"));
}

static const char *
top_cause(json_t *doc)
{
	json_t *c = json_array_get(json_object_get(json_object_get(doc, "verdict"), "causes"), 0);

	return c != NULL ? json_string_value(json_object_get(c, "code")) : "";
}

Test(cli_exit, clean_exits_0)
{
	static const char *const args[] = { "--ip", "192.0.2.1", "--checks", "rdns",
	    "--format", "json", "--fail-on", "at_risk", NULL };
	struct test_proc p;
	json_t *doc;

	doc = run(&p, test_ns(), args, EXIT_CLEAN);
	cr_assert_not_null(doc);
	cr_expect_str_eq(status_of(doc), "clean");
	json_decref(doc);
	test_proc_release(&p);
}

Test(cli_exit, at_risk_exits_1_only_with_fail_on_at_risk)
{
	static const char *const plain[] = { "--ip", "192.0.2.4", "--checks", "rdns",
	    "--format", "json", NULL };
	static const char *const strict[] = { "--ip", "192.0.2.4", "--checks", "rdns",
	    "--format", "json", "--fail-on", "at_risk", NULL };
	static const char *const blocked_only[] = { "--ip", "192.0.2.4", "--checks", "rdns",
	    "--format", "json", "--fail-on", "blocked", NULL };
	struct test_proc p;
	json_t *doc;

	doc = run(&p, test_ns(), plain, EXIT_CLEAN);
	cr_expect_str_eq(status_of(doc), "at_risk");
	cr_expect_str_eq(top_cause(doc), "rdns_generic", "the generic PTR name");
	json_decref(doc);
	test_proc_release(&p);
	doc = run(&p, test_ns(), strict, EXIT_AT_RISK);
	cr_expect_str_eq(status_of(doc), "at_risk");
	json_decref(doc);
	test_proc_release(&p);
	doc = run(&p, test_ns(), blocked_only, EXIT_CLEAN);
	json_decref(doc);
	test_proc_release(&p);
}

Test(cli_exit, blocked_likely_exits_2)
{
	static const char *const args[] = { "--ip", "192.0.2.2", "--checks", "rdns",
	    "--format", "json", NULL };
	struct test_proc p;
	json_t *doc;

	doc = run(&p, test_ns(), args, EXIT_BLOCKED);
	cr_expect_str_eq(status_of(doc), "blocked_likely");
	cr_expect_str_eq(top_cause(doc), "rdns_missing", "no PTR");
	json_decref(doc);
	test_proc_release(&p);
}

Test(cli_exit, bounce_alone_gives_a_verdict)
{
	static const char *const unknown[] = { "--bounce",
	    "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown in "
	    "virtual mailbox table", "--format", "json", NULL };
	static const char *const grey[] = { "--bounce",
	    "451 4.7.1 Greylisting in action, please come back later", "--format", "json",
	    "--fail-on", "at_risk", NULL };
	struct test_proc p;
	json_t *doc, *bounce;

	doc = run(&p, test_ns(), unknown, EXIT_BLOCKED);
	cr_expect_str_eq(top_cause(doc), "recipient_unknown");
	bounce = test_check(doc, "bounce");
	cr_assert_not_null(bounce);
	cr_expect(test_has_finding(bounce, "bounce_classified"));
	cr_expect_str_eq(json_string_value(json_object_get(test_check(doc, "rdns"), "status")),
	    "skipped", "no IP: the live checks do not run");
	json_decref(doc);
	test_proc_release(&p);

	doc = run(&p, test_ns(), grey, EXIT_AT_RISK);
	cr_expect_str_eq(top_cause(doc), "greylisted");
	json_decref(doc);
	test_proc_release(&p);
}

Test(cli_exit, resolver_down_is_inconclusive_3_never_clean)
{
	static const char *const args[] = { "--ip", "192.0.2.1", "--checks", "rdns",
	    "--timeout", "2", "--format", "json", NULL };
	struct test_proc p;
	json_t *doc, *note;

	/* nothing listens on UDP port 9 of loopback (discard is not run) */
	doc = run(&p, "127.0.0.1:9", args, EXIT_INCONCL);
	cr_expect_str_eq(status_of(doc), "inconclusive");
	cr_expect_eq(json_array_size(json_object_get(json_object_get(doc, "verdict"), "causes")),
	    0, "a DNS failure is no cause");
	note = json_object_get(json_object_get(doc, "verdict"), "note");
	cr_expect(json_is_string(note) && strstr(json_string_value(note), "rdns") != NULL);
	json_decref(doc);
	test_proc_release(&p);
}

Test(cli_exit, usage_errors_exit_64)
{
	static const char *const unknown_opt[] = { "--ip", "192.0.2.1", "--frobnicate", NULL };
	static const char *const bad_fail_on[] = { "--ip", "192.0.2.1", "--fail-on", "sometimes",
	    NULL };
	static const char *const no_input[] = { "--format", "json", NULL };
	static const char *const bad_check[] = { "--ip", "192.0.2.1", "--checks", "nosuch", NULL };
	const char *const *const cases[] = { unknown_opt, bad_fail_on, no_input, bad_check };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct test_proc p;

		test_why550(&p, test_ns(), cases[i]);
		cr_expect_eq(p.status, EXIT_USAGE, "case %zu: exit %d (%s)", i, p.status, p.err);
		cr_expect_str_eq(p.out, "", "case %zu: nothing on stdout", i);
		test_proc_release(&p);
	}
}

static char *
broken_dir(const char *name, const char *text)
{
	char tmpl[] = "/tmp/why550-conf.XXXXXX";
	char *dir, *path;
	FILE *fp;

	dir = mkdtemp(tmpl);
	cr_assert_not_null(dir);
	dir = xstrdup(dir);
	path = xasprintf("%s/%s", dir, name);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
	free(path);
	return dir;
}

static void
remove_dir(char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);

	unlink(path);
	rmdir(dir);
	free(path);
	free(dir);
}

Test(cli_exit, bad_checks_d_exits_78_naming_file_and_line)
{
	static const struct {
		const char *text;
		const char *want;
	} bad[] = {
		{ "[rdns\nmax_names = 3\n", "bad.conf:1:" },
		{ "[verdict \"rdns/ptr_missing\"]\ncause = no_cause\nconfidence = high\n"
		  "summary = s\nremedy = r\n", "bad.conf:1: cause 'no_cause'" },
		{ "# a user's own wording with a broken pattern\n\n"
		  "[bounce \"phrase mine\"]\ncause = mailbox_full\nmatch = box (full\n",
		  "bad.conf:5: bad pattern" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		char *dir = broken_dir("bad.conf", bad[i].text);
		/* only these checks: a folder of one file has no blocklist for dnsbl */
		const char *args[] = { "--config-dir", dir, "--ip", "192.0.2.1", "--checks",
		    "rdns,bounce", NULL };
		struct test_proc p;

		test_why550(&p, test_ns(), args);
		cr_expect_eq(p.status, EXIT_CONFIG, "case %zu: exit %d (%s)", i, p.status, p.err);
		cr_expect_not_null(strstr(p.err, bad[i].want), "case %zu: %s", i, p.err);
		test_proc_release(&p);
		remove_dir(dir, "bad.conf");
	}
}

Test(cli_exit, help_documents_the_exit_codes)
{
	static const char *const args[] = { "--help", NULL };
	struct test_proc p;

	test_why550(&p, NULL, args);
	cr_expect_eq(p.status, 0);
	cr_expect_not_null(strstr(p.out, "0 clean"));
	cr_expect_not_null(strstr(p.out, "--fail-on at_risk"));
	cr_expect_not_null(strstr(p.out, "2 blocked"));
	cr_expect_not_null(strstr(p.out, "3 inconclusive"));
	cr_expect_not_null(strstr(p.out, "64 usage"));
	cr_expect_not_null(strstr(p.out, "78 configuration"));
	test_proc_release(&p);
}

Test(cli_exit, text_report_reads_verdict_first_without_colour_in_a_pipe)
{
	static const char *const args[] = { "--ip", "192.0.2.2", "--checks", "rdns",
	    "--format", "text", NULL };
	struct test_proc p;
	char *line, *save = NULL;

	test_why550(&p, test_ns(), args);
	cr_expect_eq(p.status, EXIT_BLOCKED);
	cr_expect(strncmp(p.out, "BLOCKED LIKELY - ", 17) == 0, "first line: %.40s", p.out);
	cr_expect_null(strchr(p.out, '\033'), "no colour when stdout is not a terminal");
	cr_expect_not_null(strstr(p.out, "Top cause: rdns_missing (high confidence)"));
	cr_expect_not_null(strstr(p.out, "Fix: Ask the owner of 192.0.2.2"));
	for (line = strtok_r(p.out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		cr_expect_leq(strlen(line), 80, "wider than 80: %s", line);
	test_proc_release(&p);
}

#define EXIT_OSERR	71

/* True when the tests run under a tool that cannot live with the limits set below. */
static bool
limits_unsupported(bool memory)
{
	const char *san = getenv("WHY550_SANITIZER");

#if defined(__SANITIZE_ADDRESS__)
	/* AddressSanitizer reserves terabytes of address space: ulimit -v stops it at once */
	if (memory)
		return true;
#else
	(void)memory;
#endif
	/* memcheck needs descriptors and address space of its own */
	return san != NULL && strcmp(san, "valgrind") == 0;
}

/* Runs why550 (the shipped checks.d, --resolver server) under "ulimit <limit>"; args NULL-terminated. */
static void
run_limited(struct test_proc *p, const char *limit, const char *server,
    const char *const *args, const char *stdin_text)
{
	char *script = xasprintf("ulimit %s && exec \"$0\" \"$@\"", limit);
	char *conf = test_path("checks.d");
	const char *argv[40];
	size_t n = 0, i;

	argv[n++] = "/bin/sh";
	argv[n++] = "-c";
	argv[n++] = script;
	argv[n++] = test_env("WHY550_BIN");
	argv[n++] = "--config-dir";
	argv[n++] = conf;
	argv[n++] = "--resolver";
	argv[n++] = server;
	for (i = 0; args[i] != NULL && n < ARRAY_SIZE(argv) - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	test_proc_run(p, argv, stdin_text, 60);
	free(script);
	free(conf);
}

Test(cli_exit, out_of_file_descriptors_exits_71_naming_the_resource, .timeout = 90)
{
	const char *const tcp[] = { "--all", "tc", NULL };
	const char *const args[] = { "--ip", "203.0.113.7", "--helo", "mail.mailer.test",
	    "--from", "alice@mailer.test", "--to", "bob@example.test", "--format", "json", NULL };
	char resolver[64];
	struct test_proc p;
	pid_t pid;

	if (limits_unsupported(false))
		cr_skip_test("memcheck cannot run under ulimit -n 16");
	/* every answer comes over TCP, so every lookup in flight holds a descriptor */
	pid = test_faultdns_start(tcp, resolver, sizeof(resolver));
	run_limited(&p, "-n 16", resolver, args, NULL);
	test_faultdns_stop(pid);
	cr_expect_eq(p.status, EXIT_OSERR, "exit %d: %s", p.status, p.err);
	cr_expect_not_null(strstr(p.err, "out of file descriptors (the limit is 16"), "%s", p.err);
	cr_expect_str_eq(p.out, "", "a document was printed");
	test_proc_release(&p);
}

/* A message of about 9 MB (within the 10 MiB limit), in a fresh temp file. */
static char *
big_message(void)
{
	struct strbuf sb;
	char *path;
	size_t i;

	strbuf_init(&sb);
	strbuf_addstr(&sb, "From: Alice <alice@mailer.test>\r\nTo: bob@example.test\r\n"
	    "Subject: big\r\n\r\n");
	for (i = 0; i < 120000; i++)
		strbuf_addf(&sb, "%06zu the quick brown fox jumps over the lazy dog, line after line.\r\n",
		    i);
	path = test_temp_file(sb.buf, sb.len);
	strbuf_release(&sb);
	return path;
}

Test(cli_exit, out_of_memory_in_a_batch_exits_71_with_whole_lines_only, .timeout = 120)
{
	const char *const args[] = { "--batch", "-", "--jobs", "1", NULL };
	char *msg, *input, *limit, *line, *save = NULL;
	struct test_proc p;
	size_t kb, n, midway = 0;

	if (limits_unsupported(true))
		cr_skip_test("ulimit -v does not fit a sanitizer");
	msg = big_message();
	/* three small targets, then two whose message costs tens of megabytes */
	input = xasprintf("{\"bounce\":\"550 5.1.1 <a@example.test>: user unknown\"}\n"
	    "{\"bounce\":\"550 5.7.1 blocked\"}\n{\"bounce\":\"452 4.2.2 mailbox full\"}\n"
	    "{\"message\":\"%s\",\"mail_from\":\"alice@mailer.test\"}\n"
	    "{\"message\":\"%s\",\"mail_from\":\"alice@mailer.test\"}\n", msg, msg);
	/*
	 * Wherever memory runs out in the batch, the run ends with 71 and "out
	 * of memory", and what it wrote is whole lines: a sweep of limits down
	 * from plenty, since where a limit bites depends on the machine. It
	 * stops at the first limit too low for the first line: what fails
	 * there is the start, not the batch. Thread stacks are kept small
	 * (-s), so that it is memory, not a thread, that runs out.
	 */
	for (kb = 128 * 1024; kb >= 16 * 1024; kb -= 8 * 1024) {
		limit = xasprintf("-s 1024 && ulimit -v %zu", kb);
		run_limited(&p, limit, test_ns(), args, input);
		if (p.out[0] == '\0') {
			test_proc_release(&p);
			free(limit);
			break;
		}
		cr_expect(p.status == EXIT_OSERR || p.status == 2, "ulimit %s: exit %d: %s", limit,
		    p.status, p.err);
		if (p.status == EXIT_OSERR)
			cr_expect_not_null(strstr(p.err, "out of memory"), "ulimit %s: %s", limit,
			    p.err);
		cr_expect(p.out[strlen(p.out) - 1] == '\n',
		    "ulimit %s: the output ends in half a line", limit);
		n = 0;
		for (line = strtok_r(p.out, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			json_t *doc = test_json(line);

			json_decref(doc);
			n++;
		}
		if (p.status == EXIT_OSERR)
			midway++;
		if (p.status == 2)
			cr_expect_eq(n, 5, "ulimit %s: %zu lines for 5", limit, n);
		test_proc_release(&p);
		free(limit);
	}
	cr_expect_gt(midway, 0, "no limit ran out of memory after the first lines");
	unlink(msg);
	free(msg);
	free(input);
}

Test(cli_exit, fail_on_sets_the_exit_of_each_verdict)
{
	static const struct {
		const char *ip;
		const char *resolver;	/* NULL: NSD */
		const char *level;
		int want;
	} cases[] = {
		{ "192.0.2.4", NULL, "at_risk", EXIT_AT_RISK },
		{ "192.0.2.4", NULL, "inconclusive", EXIT_CLEAN },
		{ "192.0.2.4", NULL, "never", EXIT_CLEAN },
		{ "192.0.2.2", NULL, "blocked", EXIT_BLOCKED },
		{ "192.0.2.2", NULL, "never", EXIT_CLEAN },
		{ "192.0.2.1", "127.0.0.1:9", "inconclusive", EXIT_INCONCL },
		{ "192.0.2.1", "127.0.0.1:9", "blocked", EXIT_CLEAN },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *args[] = { "--ip", cases[i].ip, "--checks", "rdns", "--timeout", "1",
		    "--format", "json", "--fail-on", cases[i].level, NULL };
		struct test_proc p;

		test_why550(&p, cases[i].resolver != NULL ? cases[i].resolver : test_ns(), args);
		cr_expect_eq(p.status, cases[i].want, "%s under --fail-on %s: exit %d (%s)",
		    cases[i].ip, cases[i].level, p.status, p.err);
		cr_expect(p.out[0] == '{', "the document is written whatever the gate says");
		test_proc_release(&p);
	}
}

/* Runs a batch of input through the binary with extra options; bounces need no DNS. */
static void
run_batch_input(struct test_proc *p, const char *input, const char *const *extra)
{
	const char *args[16] = { "--checks", "bounce", "--batch", "-" };
	char *conf = test_path("checks.d");
	size_t n = 4, i;

	for (i = 0; extra[i] != NULL && n < ARRAY_SIZE(args) - 1; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	test_why550_conf(p, conf, args, input);
	free(conf);
}

#define B_CLEAN		"{\"bounce\":\"250 2.0.0 ok\"}\n"
#define B_GREY		"{\"bounce\":\"451 4.7.1 Greylisting in action, please come back later\"}\n"
#define B_BLOCKED	"{\"bounce\":\"550 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org\"}\n"

Test(cli_exit, batch_exits_with_the_worst_valid_verdict_and_counts_invalid_lines)
{
	static const char *const none[] = { NULL };
	static const char *const at_risk[] = { "--fail-on", "at_risk", NULL };
	static const char *const never[] = { "--fail-on", "never", NULL };
	static const char *const strict[] = { "--strict-input", NULL };
	struct test_proc p;

	run_batch_input(&p, B_CLEAN B_GREY "not json\n" B_CLEAN, none);
	cr_expect_eq(p.status, EXIT_CLEAN, "an at-risk line passes the default gate: %s", p.err);
	cr_expect_not_null(strstr(p.err, "line 3 is not a target: not valid JSON"), "%s", p.err);
	cr_expect_not_null(strstr(p.err, "1 of 4 lines was not a target"), "%s", p.err);
	test_proc_release(&p);

	run_batch_input(&p, B_CLEAN B_GREY "not json\n" B_CLEAN, at_risk);
	cr_expect_eq(p.status, EXIT_AT_RISK, "%s", p.err);
	test_proc_release(&p);

	run_batch_input(&p, B_GREY B_BLOCKED B_CLEAN, at_risk);
	cr_expect_eq(p.status, EXIT_BLOCKED, "blocked is the worst: %s", p.err);
	test_proc_release(&p);

	run_batch_input(&p, B_BLOCKED "[1]\n", never);
	cr_expect_eq(p.status, EXIT_CLEAN, "%s", p.err);
	test_proc_release(&p);

	run_batch_input(&p, B_CLEAN "[1]\n", strict);
	cr_expect_eq(p.status, EXIT_USAGE, "--strict-input: any invalid line: %s", p.err);
	cr_expect_not_null(strstr(p.out, "\"line\":2"), "every line is still answered");
	test_proc_release(&p);

	run_batch_input(&p, "[1]\n{}\n", never);
	cr_expect_eq(p.status, EXIT_USAGE, "no line was valid: %s", p.err);
	cr_expect_not_null(strstr(p.err, "2 of 2 lines were not a target"), "%s", p.err);
	test_proc_release(&p);
}

Test(cli_exit, many_invalid_lines_are_named_up_to_twenty_then_counted)
{
	static const char *const none[] = { NULL };
	struct strbuf in;
	struct test_proc p;
	const char *s;
	int named = 0, i;

	strbuf_init(&in);
	strbuf_addstr(&in, B_CLEAN);
	for (i = 0; i < 30; i++)
		strbuf_addstr(&in, "{\"frobnicate\":\"x\"}\n");
	run_batch_input(&p, in.buf, none);
	cr_expect_eq(p.status, EXIT_CLEAN, "%s", p.err);
	for (s = p.err; (s = strstr(s, " is not a target: ")) != NULL; s++)
		named++;
	cr_expect_eq(named, 20, "%s", p.err);
	cr_expect_not_null(strstr(p.err, "line 21 is not a target: unknown field 'frobnicate'"));
	cr_expect_not_null(strstr(p.err, "more lines are not targets"), "%s", p.err);
	cr_expect_not_null(strstr(p.err, "30 of 31 lines were not a target"), "%s", p.err);
	test_proc_release(&p);
	strbuf_release(&in);
}

Test(cli_exit, text_is_refused_for_a_batch)
{
	static const char *const text[] = { "--format", "text", NULL };
	struct test_proc p;

	run_batch_input(&p, B_CLEAN, text);
	cr_expect_eq(p.status, EXIT_USAGE);
	cr_expect_not_null(strstr(p.err, "--format text"), "%s", p.err);
	cr_expect_str_eq(p.out, "");
	test_proc_release(&p);
}
