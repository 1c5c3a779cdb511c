/* Tests of output/json.c and output/text.c over a run result built by hand, hostile bytes included. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checks/check.h"
#include "core/conf.h"
#include "core/textsafe.h"
#include "output/output.h"
#include "src/verdict.h"

static const struct check_ops ops_dnsbl = { .name = "dnsbl" };
static const struct check_ops ops_spf = { .name = "spf" };
static const struct check_ops ops_dkim = { .name = "dkim" };

/* 0xff is invalid UTF-8; ESC [31m would paint a terminal red. */
static const char hostile_txt[] = "v=spf1 \xff\x1b[31m -all";

struct fixture {
	struct target t;
	struct run_result res;
	struct report *reps[3];
	char *selectors[2];
};

/* The verdict's rules for the fixture's findings: the dnsbl check's default, spf's softfail. */
static const char fixture_rules[] =
    "[verdict \"dnsbl\"]\ncause = ip_blocklisted\nconfidence = high\n"
    "remedy = Stop the spam, then ask each list for removal.\n"
    "[verdict \"spf/softfail\"]\ncause = spf_fail\nconfidence = medium\n"
    "remedy = Add the sending IP to the SPF record.\n";

static void
build_verdict(struct verdict *v, const struct target *t, struct report **reps, size_t n)
{
	struct conf *conf = conf_new();
	struct verdict_rules *rules;
	struct error err;

	cr_assert_eq(conf_load_file(conf, "fixture.conf", fixture_rules, &err), 0, "%s", err.msg);
	rules = verdict_rules_load(conf, &err);
	cr_assert_not_null(rules, "%s", err.msg);
	verdict_build_rules(v, rules, t, reps, n);
	verdict_rules_free(rules);
	conf_free(conf);
}

static void
fixture_init(struct fixture *fx)
{
	json_t *data, *lists;

	memset(fx, 0, sizeof(*fx));
	fx->t.ip = strdup("192.0.2.1");
	fx->t.ip_family = AF_INET;
	fx->t.helo = strdup("mail.example");
	fx->t.mail_from = strdup("bob@example.org");
	fx->t.mail_domain = strdup("example.org");
	fx->t.bounce = strdup("550 5.7.1 blocked \xfe\x1b]0;pwned\x07");
	fx->selectors[0] = strdup("s1");
	fx->t.selectors = fx->selectors;
	fx->t.nselectors = 1;

	fx->reps[0] = report_new(&ops_dnsbl);
	data = json_object();
	json_object_set_new(data, "zone", json_string("zen.example"));
	json_object_set_new(data, "txt", json_stringn_nocheck(hostile_txt, strlen(hostile_txt)));
	report_add(fx->reps[0], "ip_listed", SEV_FAIL, data,
	    "192.0.2.1 is listed on zen.example: %s", hostile_txt);
	report_add(fx->reps[0], "zones_queried", SEV_INFO, NULL, "3 zones queried");
	lists = json_array();
	json_array_append_new(lists, json_string("zen.example"));
	json_object_set_new(report_data(fx->reps[0]), "lists", lists);
	/* collides with the envelope: must end up under "data" */
	json_object_set_new(report_data(fx->reps[0]), "status", json_string("listed"));
	report_set_duration_ms(fx->reps[0], 17);

	fx->reps[1] = report_new(&ops_spf);
	report_add(fx->reps[1], "softfail", SEV_WARN, NULL,
	    "the SPF record of 'example.org' ends in ~all, so 192.0.2.1 only "
	    "softfails; a long sentence that the text report has to wrap because "
	    "it does not fit on one line of eighty columns at all");
	json_object_set_new(report_data(fx->reps[1]), "result", json_string("softfail"));
	report_set_duration_ms(fx->reps[1], 9);

	fx->reps[2] = report_new(&ops_dkim);
	report_skip(fx->reps[2], "no message given");

	fx->res.target = &fx->t;
	fx->res.reports = fx->reps;
	fx->res.nreports = 3;
	build_verdict(&fx->res.verdict, &fx->t, fx->reps, 3);
	fx->res.dns.queries = 12;
	fx->res.dns.sent = 9;
	fx->res.dns.cache_hits = 3;
	fx->res.dns.timeouts = 1;
	snprintf(fx->res.servers[0].label, sizeof(fx->res.servers[0].label), "127.0.0.1:5353");
	fx->res.servers[0].sent = 9;
	fx->res.servers[0].answered = 8;
	fx->res.servers[0].timeouts = 1;
	fx->res.nservers = 1;
	fx->res.duration_ms = 250;
}

static void
fixture_release(struct fixture *fx)
{
	size_t i;

	verdict_release(&fx->res.verdict);
	for (i = 0; i < 3; i++)
		report_free(fx->reps[i]);
	free(fx->t.ip);
	free(fx->t.helo);
	free(fx->t.mail_from);
	free(fx->t.mail_domain);
	free(fx->t.bounce);
	free(fx->selectors[0]);
}

static const char *
sget(const json_t *o, const char *path)
{
	const json_t *v = json_object_get(o, path);

	cr_assert(json_is_string(v), "'%s' is not a string", path);
	return json_string_value(v);
}

static const char *
repo_root(void)
{
	const char *r = getenv("WHY550_ROOT");

	return r != NULL && *r != '\0' ? r : ".";
}

/* Runs tests/validate.py on file (its messages hidden when quiet); its exit status. */
static int
validate(const char *file, bool quiet)
{
	char cmd[4096];
	int st;

	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s/tests/validate.py' "
	    "'%s/docs/why550.schema.json' '%s'%s", repo_root(), repo_root(), file,
	    quiet ? " >/dev/null" : "");
	st = system(cmd);
	cr_assert(st != -1 && WIFEXITED(st), "could not run: %s", cmd);
	return WEXITSTATUS(st);
}

static char *
render_text(const struct run_result *res, bool color, bool verbose, int width)
{
	struct text_options opt = { .color = color, .verbose = verbose, .width = width };
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	cr_assert_not_null(fp);
	cr_assert_eq(output_text_write(fp, res, &opt), 0);
	fclose(fp);
	return buf;
}

/* Asserts every line has at most width columns (code points). */
static void
assert_width(const char *text, int width)
{
	const char *p = text;
	int line = 1;

	while (*p != '\0') {
		size_t n = strcspn(p, "\n"), i, c = 0;

		for (i = 0; i < n; i++)
			if (((unsigned char)p[i] & 0xc0) != 0x80)
				c++;
		cr_expect(c <= (size_t)width, "line %d has %zu columns: %.*s", line, c,
		    (int)n, p);
		p += n;
		if (*p == '\n')
			p++;
		line++;
	}
}

Test(output, json_envelope_has_contract_keys_and_types)
{
	struct fixture fx;
	json_t *doc, *target, *verdict, *checks, *dns, *c0;

	fixture_init(&fx);
	doc = output_json_document(&fx.res);
	cr_expect_str_eq(sget(doc, "schema"), "why550/1");
	cr_expect_eq(json_integer_value(json_object_get(doc, "duration_ms")), 250);

	target = json_object_get(doc, "target");
	cr_expect_str_eq(sget(target, "ip"), "192.0.2.1");
	cr_expect_str_eq(sget(target, "helo"), "mail.example");
	cr_expect_str_eq(sget(target, "mail_from"), "bob@example.org");
	cr_expect(json_is_null(json_object_get(target, "rcpt_to")));
	cr_expect(json_is_null(json_object_get(target, "message")));
	cr_expect_str_eq(sget(target, "bounce"), "550 5.7.1 blocked \\xfe\x1b]0;pwned\x07");
	cr_expect_eq(json_array_size(json_object_get(target, "selectors")), 1);

	verdict = json_object_get(doc, "verdict");
	cr_expect_str_eq(sget(verdict, "status"), "blocked_likely");
	cr_expect(json_is_null(json_object_get(verdict, "note")));
	cr_assert_eq(json_array_size(json_object_get(verdict, "causes")), 2);
	c0 = json_array_get(json_object_get(verdict, "causes"), 0);
	cr_expect_str_eq(sget(c0, "code"), "ip_blocklisted");
	cr_expect_str_eq(sget(c0, "confidence"), "high");
	cr_expect(strncmp(sget(c0, "summary"), "192.0.2.1 is listed on zen.example", 34) == 0);
	cr_expect(strlen(sget(c0, "remedy")) > 0);
	cr_expect_str_eq(sget(json_array_get(json_object_get(c0, "evidence"), 0), "check"),
	    "dnsbl");
	c0 = json_array_get(json_object_get(verdict, "causes"), 1);
	cr_expect_str_eq(sget(c0, "code"), "spf_fail");
	cr_expect_str_eq(sget(c0, "confidence"), "medium");

	checks = json_object_get(doc, "checks");
	cr_assert_eq(json_array_size(checks), 3);
	c0 = json_array_get(checks, 0);
	cr_expect_str_eq(sget(c0, "name"), "dnsbl");
	cr_expect_str_eq(sget(c0, "status"), "fail");
	cr_expect_eq(json_integer_value(json_object_get(c0, "duration_ms")), 17);
	cr_expect(json_is_null(json_object_get(c0, "reason")));
	cr_expect_eq(json_array_size(json_object_get(c0, "findings")), 2);
	cr_expect_str_eq(sget(json_array_get(json_object_get(c0, "findings"), 0), "severity"),
	    "fail");
	cr_expect(json_is_array(json_object_get(c0, "lists")), "check-specific field merged");
	cr_expect_str_eq(sget(json_object_get(c0, "data"), "status"), "listed");
	cr_expect_str_eq(sget(json_array_get(checks, 1), "result"), "softfail");
	cr_expect_null(json_object_get(json_array_get(checks, 1), "data"),
	    "no collision, no data object");
	cr_expect_str_eq(sget(json_array_get(checks, 2), "status"), "skipped");
	cr_expect_str_eq(sget(json_array_get(checks, 2), "reason"), "no message given");

	dns = json_object_get(doc, "dns");
	cr_expect_eq(json_integer_value(json_object_get(dns, "queries")), 12);
	cr_expect_eq(json_integer_value(json_object_get(dns, "cache_hits")), 3);
	cr_expect(json_is_integer(json_object_get(dns, "tcp_fallbacks")));
	cr_expect_str_eq(sget(json_array_get(json_object_get(dns, "resolvers"), 0), "address"),
	    "127.0.0.1:5353");
	json_decref(doc);
	fixture_release(&fx);
}

Test(output, hostile_txt_becomes_valid_utf8_with_visible_escape)
{
	struct fixture fx;
	json_t *doc, *f, *back;
	json_error_t jerr;
	char *text;

	fixture_init(&fx);
	doc = output_json_document(&fx.res);
	f = json_array_get(json_object_get(json_array_get(json_object_get(doc, "checks"), 0),
	    "findings"), 0);
	cr_expect_str_eq(sget(json_object_get(f, "data"), "txt"), "v=spf1 \\xff\x1b[31m -all");
	cr_expect_str_eq(sget(f, "message"),
	    "192.0.2.1 is listed on zen.example: v=spf1 \\xff\x1b[31m -all");
	text = json_dumps(doc, JSON_COMPACT);
	cr_assert_not_null(text, "the document must always be encodable");
	cr_expect_null(strchr(text, '\x1b'), "ESC must be escaped as \\u001b in JSON");
	cr_expect_null(strchr(text, '\xff'));
	back = json_loads(text, 0, &jerr);
	cr_expect_not_null(back, "re-parse failed: %s", jerr.text);
	json_decref(back);
	free(text);
	json_decref(doc);
	fixture_release(&fx);
}

Test(output, json_write_one_line_and_pretty)
{
	struct fixture fx;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	fixture_init(&fx);
	fp = open_memstream(&buf, &len);
	cr_assert_eq(output_json_write(fp, &fx.res, true, OUTPUT_FULL), 0);
	fclose(fp);
	cr_assert(len > 2);
	cr_expect_eq(buf[len - 1], '\n');
	cr_expect_eq(memchr(buf, '\n', len), buf + len - 1, "one line only");
	cr_expect(strncmp(buf, "{\"schema\":\"why550/1\"", 20) == 0, "schema key first: %.30s", buf);
	free(buf);

	fp = open_memstream(&buf, &len);
	cr_assert_eq(output_json_write(fp, &fx.res, false, OUTPUT_FULL), 0);
	fclose(fp);
	cr_expect(strncmp(buf, "{\n  \"schema\": \"why550/1\",\n  \"version\": \"", 39) == 0,
	    "two-space indent: %.60s", buf);
	free(buf);
	fixture_release(&fx);
}

Test(output, json_document_validates_against_schema)
{
	struct fixture fx;
	char path[] = "/tmp/why550-test-output-XXXXXX";
	int fd = mkstemp(path);
	FILE *fp;

	cr_assert(fd >= 0);
	fp = fdopen(fd, "w");
	fixture_init(&fx);
	cr_assert_eq(output_json_write(fp, &fx.res, false, OUTPUT_FULL), 0);
	fclose(fp);
	cr_expect_eq(validate(path, false), 0, "schema validation failed for %s", path);
	unlink(path);
	fixture_release(&fx);
}

Test(output, summary_validates_and_keeps_the_verdict_and_statuses)
{
	struct fixture fx;
	char path[] = "/tmp/why550-test-output-XXXXXX";
	int fd = mkstemp(path);
	json_t *sum, *full, *v, *c;
	size_t i;
	FILE *fp;

	cr_assert(fd >= 0);
	fp = fdopen(fd, "w");
	fixture_init(&fx);
	cr_assert_eq(output_json_write(fp, &fx.res, true, OUTPUT_SUMMARY), 0);
	fclose(fp);
	cr_expect_eq(validate(path, false), 0, "the summary must validate: %s", path);
	unlink(path);
	sum = output_json_summary(&fx.res);
	full = output_json_document(&fx.res);
	v = json_object_get(sum, "verdict");
	cr_assert(json_equal(json_object_get(v, "status"),
	    json_object_get(json_object_get(full, "verdict"), "status")));
	json_array_foreach(json_object_get(json_object_get(full, "verdict"), "causes"), i, c) {
		const json_t *sc = json_array_get(json_object_get(v, "causes"), i);

		cr_assert(json_equal(json_object_get(sc, "code"), json_object_get(c, "code")));
		cr_assert(json_equal(json_object_get(sc, "confidence"), json_object_get(c, "confidence")));
		cr_assert_eq(json_object_size(sc), 2, "a cause keeps only code and confidence");
	}
	json_array_foreach(json_object_get(full, "checks"), i, c)
		cr_assert(json_equal(json_object_get(json_object_get(sum, "check_status"),
		    json_string_value(json_object_get(c, "name"))), json_object_get(c, "status")));
	/* the fixture's bounce is hostile and long: the summary leaves it out */
	cr_assert_null(json_object_get(json_object_get(sum, "target"), "bounce"));
	cr_assert_str_eq(sget(json_object_get(sum, "target"), "ip"), "192.0.2.1");
	cr_assert_null(json_object_get(json_object_get(sum, "target"), "rcpt_to"));
	json_decref(sum);
	json_decref(full);
	fixture_release(&fx);
}

Test(output, summary_lists_each_listing_zone_once)
{
	struct fixture fx;
	json_t *lists = json_array(), *sum;
	static const char *const entries[][2] = {
		{ "zen.example", "listed" }, { "other.example", "not_listed" },
		{ "zen.example", "listed" }, { "third.example", "listed" }, { "gone.example", "error" },
	};
	size_t i;

	fixture_init(&fx);
	for (i = 0; i < ARRAY_SIZE(entries); i++)
		json_array_append_new(lists, json_pack("{s:s,s:s}", "zone", entries[i][0],
		    "status", entries[i][1]));
	json_object_set_new(report_data(fx.reps[0]), "lists", lists);
	sum = output_json_summary(&fx.res);
	lists = json_object_get(sum, "listed");
	cr_assert_eq(json_array_size(lists), 2, "%s", json_dumps(lists, 0));
	cr_assert_str_eq(json_string_value(json_array_get(lists, 0)), "zen.example");
	cr_assert_str_eq(json_string_value(json_array_get(lists, 1)), "third.example");
	json_decref(sum);
	fixture_release(&fx);
}

Test(output, the_document_shares_clean_report_values_and_sanitizes_the_rest)
{
	struct fixture fx;
	json_t *doc, *lists;

	fixture_init(&fx);
	doc = output_json_document(&fx.res);
	lists = json_object_get(json_array_get(json_object_get(doc, "checks"), 0), "lists");
	/* clean: the same value, not a copy; sanitized once, when it was made */
	cr_assert_eq(lists, json_object_get(report_data_const(fx.reps[0]), "lists"));
	cr_assert(json_is_clean(lists));
	cr_assert_not(json_is_clean(report_finding(fx.reps[0], 0)->data),
	    "the fixture's finding holds raw bytes");
	json_decref(doc);
	fixture_release(&fx);
}

Test(output, schema_rejects_a_broken_envelope)
{
	struct fixture fx;
	char path[] = "/tmp/why550-test-output-XXXXXX";
	int fd = mkstemp(path);
	json_t *doc;

	cr_assert(fd >= 0);
	close(fd);
	fixture_init(&fx);
	doc = output_json_document(&fx.res);
	json_object_set_new(json_array_get(json_object_get(doc, "checks"), 0), "status",
	    json_string("listed"));
	cr_assert_eq(json_dump_file(doc, path, 0), 0);
	cr_expect_eq(validate(path, true), 1, "an unknown check status must not validate");
	json_object_del(doc, "dns");
	json_object_set_new(json_array_get(json_object_get(doc, "checks"), 0), "status",
	    json_string("fail"));
	cr_assert_eq(json_dump_file(doc, path, 0), 0);
	cr_expect_eq(validate(path, true), 1, "a missing dns object must not validate");
	unlink(path);
	json_decref(doc);
	fixture_release(&fx);
}

Test(output, text_verdict_first_no_escape_fits_80)
{
	struct fixture fx;
	char *text;

	fixture_init(&fx);
	text = render_text(&fx.res, false, false, 80);
	cr_expect(strncmp(text, "BLOCKED LIKELY - 2 probable causes\n", 35) == 0,
	    "first line: %.40s", text);
	cr_expect_null(strchr(text, '\x1b'), "an ESC byte reached the terminal");
	cr_expect_not_null(strstr(text, "\\x1b[31m"), "the ESC is shown escaped");
	cr_expect_not_null(strstr(text, "\\xff"));
	cr_expect_not_null(strstr(text, "Fix: "));
	cr_expect_not_null(strstr(text, "ip_blocklisted"));
	cr_expect_not_null(strstr(text, "no message given"), "skip reason in the table");
	cr_expect_not_null(strstr(text, "dns: 12 queries, 3 cache hits, 1 timeouts in 250 ms"));
	cr_expect_null(strstr(text, "zones_queried"), "info findings only with verbose");
	assert_width(text, 80);
	free(text);
	fixture_release(&fx);
}

Test(output, text_verbose_lists_findings_with_data)
{
	struct fixture fx;
	char *text;

	fixture_init(&fx);
	text = render_text(&fx.res, false, true, 60);
	cr_expect_not_null(strstr(text, "dnsbl/zones_queried [info] 3 zones queried"));
	cr_expect_not_null(strstr(text, "\"zone\":\"zen.example\""));
	cr_expect_null(strchr(text, '\x1b'));
	assert_width(text, 60);
	free(text);
	fixture_release(&fx);
}

Test(output, text_verbose_data_lines_break_between_tokens_never_inside)
{
	static const char url[] = "https://lists.example.test/removal/request?ip=192.0.2.1"
	    "&reference=0123456789abcdef0123456789abcdef";
	struct fixture fx;
	json_t *data;
	char *text, *line, *save = NULL;

	fixture_init(&fx);
	data = json_pack("{s:s,s:s,s:s,s:i}", "zone", "a-rather-long-zone-name.lists.example.test",
	    "delist_url", url, "reason", "a sentence with words that wraps at spaces", "weight",
	    1234567);
	report_add(fx.reps[0], "long_data", SEV_INFO, data, "data longer than a line");
	text = render_text(&fx.res, false, true, 60);
	/* the URL is wider than the line: whole, on a line of its own */
	cr_assert_not_null(strstr(text, url), "the URL was cut:\n%s", text);
	cr_assert_not_null(strstr(text, "\"a-rather-long-zone-name.lists.example.test\""));
	cr_assert_not_null(strstr(text, "1234567"));
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		size_t n = strlen(line);

		/* only a line that is one token (after its indent) may run over */
		if (n > 60)
			cr_expect(strchr(line + strspn(line, " "), ' ') == NULL, "line over 60: %s",
			    line);
	}
	free(text);
	fixture_release(&fx);
}

/* text with each line break and the indent after it made one space: the words as a reader reads them. */
static void
unwrap(char *text)
{
	char *r = text, *w = text;

	while (*r != '\0') {
		if (*r == '\n') {
			while (r[1] == ' ')
				r++;
			*w++ = ' ';
			r++;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
}

Test(output, text_names_a_resolver_that_answered_nothing)
{
	struct fixture fx;
	char *text;

	fixture_init(&fx);
	fx.res.servers[0].answered = 0;
	text = render_text(&fx.res, false, false, 80);
	unwrap(text);
	cr_expect_not_null(strstr(text, "; 127.0.0.1:5353 answered no query"), "%s", text);
	free(text);
	fx.res.servers[0].answered = 8;
	text = render_text(&fx.res, false, false, 80);
	cr_expect_null(strstr(text, "answered no query"), "%s", text);
	free(text);
	fixture_release(&fx);
}

Test(output, text_color_only_when_asked)
{
	struct fixture fx;
	char *text;

	fixture_init(&fx);
	text = render_text(&fx.res, true, false, 80);
	cr_expect(strncmp(text, "\033[31mBLOCKED LIKELY\033[0m - ", 24) == 0,
	    "red verdict: %.30s", text);
	cr_expect_not_null(strstr(text, "\\x1b[31m"), "hostile ESC still escaped with colour on");
	free(text);
	fixture_release(&fx);
}

Test(output, text_clean_and_inconclusive_lines)
{
	struct fixture fx;
	char *text;
	struct report *rep;

	memset(&fx, 0, sizeof(fx));
	rep = report_new(&ops_spf);
	report_add(rep, "pass", SEV_INFO, NULL, "pass");
	fx.reps[0] = rep;
	fx.res.target = &fx.t;
	fx.res.reports = fx.reps;
	fx.res.nreports = 1;
	build_verdict(&fx.res.verdict, &fx.t, fx.reps, 1);
	text = render_text(&fx.res, false, false, 80);
	cr_expect(strncmp(text, "CLEAN - no problem found\n", 25) == 0, "got: %.40s", text);
	cr_expect_not_null(strstr(text, "spf "));
	cr_expect_not_null(strstr(text, " ok\n"));
	free(text);
	verdict_release(&fx.res.verdict);

	report_set_deadline(rep);
	build_verdict(&fx.res.verdict, &fx.t, fx.reps, 1);
	cr_expect_eq(fx.res.verdict.status, VERDICT_INCONCLUSIVE);
	text = render_text(&fx.res, false, false, 80);
	cr_expect(strncmp(text, "INCONCLUSIVE - ", 15) == 0, "got: %.40s", text);
	cr_expect_not_null(strstr(text, "spf (deadline)"), "the note names the check");
	free(text);
	verdict_release(&fx.res.verdict);
	report_free(rep);
}

Test(output, json_documents_carry_the_version_and_when_they_were_written)
{
	struct fixture fx;
	json_t *doc;
	const char *at;
	struct tm tm;
	time_t before, after, when;
	int used = 0;

	fixture_init(&fx);
	before = time(NULL);
	doc = output_json_document(&fx.res);
	after = time(NULL);
	cr_expect_str_eq(sget(doc, "version"), WHY550_VERSION);
	at = sget(doc, "generated_at");
	memset(&tm, 0, sizeof(tm));
	cr_assert_eq(sscanf(at, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used), 6, "not RFC 3339: %s", at);
	cr_assert(used == 20 && at[used] == '\0', "not RFC 3339 in UTC: %s", at);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	when = timegm(&tm);
	cr_expect(when >= before && when <= after, "%s is not now", at);
	json_decref(doc);
	fixture_release(&fx);
}

/* Walks v and fails for any string over OUTPUT_STRING_MAX plus the note of its length. */
static void
assert_strings_capped(const json_t *v, size_t *longest)
{
	const char *key;
	json_t *val;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_STRING:
		cr_expect_leq(json_string_length(v), OUTPUT_STRING_MAX + 32);
		if (json_string_length(v) > *longest)
			*longest = json_string_length(v);
		break;
	case JSON_OBJECT:
		json_object_foreach((json_t *)(uintptr_t)v, key, val)
			assert_strings_capped(val, longest);
		break;
	case JSON_ARRAY:
		json_array_foreach(v, i, val)
			assert_strings_capped(val, longest);
		break;
	default:
		break;
	}
}

Test(output, long_strings_are_cut_at_a_character_and_say_their_length)
{
	struct fixture fx;
	size_t n = 3 * OUTPUT_STRING_MAX, longest = 0;
	char *big = malloc(n + 1), *bounce;
	const char *msg;
	json_t *doc;
	char want[64];

	/* two-byte characters everywhere: a cut in the middle of one would be invalid UTF-8 */
	for (size_t i = 0; i + 1 < n; i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[n] = '\0';
	fixture_init(&fx);
	bounce = fx.t.bounce;
	fx.t.bounce = big;
	report_add(fx.reps[1], "long", SEV_INFO, json_pack("{s:s}", "record", big), "%s", big);
	doc = output_json_document(&fx.res);
	assert_strings_capped(doc, &longest);
	cr_expect_gt(longest, OUTPUT_STRING_MAX / 2, "the long strings are still there, cut");
	msg = sget(json_object_get(doc, "target"), "bounce");
	snprintf(want, sizeof(want), "... (%zu bytes)", n);
	cr_expect_not_null(strstr(msg, want), "ends with the length: %.40s", msg + strlen(msg) - 40);
	cr_expect_eq(strncmp(msg, "\xc3\xa9", 2), 0);
	cr_expect_eq((strlen(msg) - strlen(want)) % 2, 0, "whole characters kept");
	json_decref(doc);
	fx.t.bounce = bounce;
	fixture_release(&fx);
	free(big);
}
