/* Shared helpers for the tests: the fixture servers, running the binary, schema validation. */
#include "support.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checks/bounce/rules.h"
#include "core/conf.h"
#include "core/util.h"

const char *
test_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || v[0] == '\0')
		cr_assert_fail("%s is not set: run the tests through tests/run.sh (make check)", name);
	return v;
}

const char *
test_ns(void)
{
	return test_env("WHY550_TEST_NS");
}

const char *
test_fault(void)
{
	return test_env("WHY550_TEST_FAULT");
}

const char *
test_fault_alone(void)
{
	return test_env("WHY550_TEST_FAULT_ALONE");
}

void
test_dns_config(struct dns_config *cfg, const char *server, int attempt_ms, int attempts)
{
	dns_config_init(cfg);
	cr_assert_eq(dns_server_parse(server, &cfg->servers[0]), 0, "bad server %s", server);
	cfg->nservers = 1;
	cfg->attempt_timeout_ms = attempt_ms;
	cfg->attempts = attempts;
}

struct dns_engine *
test_engine_of(const struct dns_config *cfg)
{
	struct dns_engine *eng;
	char err[256];

	eng = dns_engine_new(cfg, err, sizeof(err));
	cr_assert_not_null(eng, "engine: %s", err);
	return eng;
}

struct dns_engine *
test_engine(const char *server, int attempt_ms, int attempts)
{
	struct dns_config cfg;

	test_dns_config(&cfg, server, attempt_ms, attempts);
	return test_engine_of(&cfg);
}

char *
test_path(const char *rel)
{
	const char *root = getenv("WHY550_ROOT");

	return xasprintf("%s/%s", root != NULL ? root : ".", rel);
}

struct bounce_rules *
test_shipped_bounce_rules(void)
{
	struct bounce_rules *r = bounce_rules_new();
	struct conf *conf = conf_new();
	char *path = test_path("checks.d/bounce.conf");
	struct error err;

	cr_assert_eq(conf_load_file(conf, path, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(bounce_rules_load(r, conf, &err), 0, "%s", err.msg);
	conf_free(conf);
	free(path);
	return r;
}

static void
drain(int fd, struct strbuf *sb, bool *open)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n > 0)
		strbuf_add(sb, buf, (size_t)n);
	else if (n == 0 || (errno != EAGAIN && errno != EINTR))
		*open = false;
}

void
test_proc_run(struct test_proc *p, const char *const *argv, const char *stdin_text,
    int timeout_s)
{
	int in[2], out[2], err[2], wst;
	struct strbuf so, se;
	bool oo = true, eo = true;
	int64_t end = now_ms() + (int64_t)timeout_s * 1000;
	size_t inlen = stdin_text != NULL ? strlen(stdin_text) : 0, inpos = 0;
	pid_t pid;

	memset(p, 0, sizeof(*p));
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(out), 0);
	cr_assert_eq(pipe(err), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(in[1]);
		close(out[0]);
		close(err[0]);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);
	strbuf_init(&so);
	strbuf_init(&se);
	if (inlen == 0) {
		close(in[1]);
		in[1] = -1;
	}
	while ((oo || eo) && now_ms() < end) {
		struct pollfd pf[3] = {
			{ oo ? out[0] : -1, POLLIN, 0 },
			{ eo ? err[0] : -1, POLLIN, 0 },
			{ in[1], POLLOUT, 0 },
		};

		if (poll(pf, 3, 100) < 0 && errno != EINTR)
			break;
		if (pf[0].revents)
			drain(out[0], &so, &oo);
		if (pf[1].revents)
			drain(err[0], &se, &eo);
		if (in[1] >= 0 && pf[2].revents) {
			ssize_t n = write(in[1], stdin_text + inpos, inlen - inpos);

			if (n > 0)
				inpos += (size_t)n;
			if (n < 0 || inpos == inlen) {
				close(in[1]);
				in[1] = -1;
			}
		}
	}
	if (in[1] >= 0)
		close(in[1]);
	if (oo || eo)
		kill(pid, SIGKILL);
	waitpid(pid, &wst, 0);
	close(out[0]);
	close(err[0]);
	p->status = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
	p->out = strbuf_detach(&so, NULL);
	p->err = strbuf_detach(&se, NULL);
	/* sanitizer reports of a child land in the stderr captured here, not in the harness's logs */
	cr_expect(strstr(p->err, "runtime error:") == NULL &&
	    strstr(p->err, "Sanitizer") == NULL, "%s reported a sanitizer error: %s", argv[0], p->err);
}

void
test_proc_release(struct test_proc *p)
{
	free(p->out);
	free(p->err);
	memset(p, 0, sizeof(*p));
}

pid_t
test_faultdns_start(const char *const *args, char *addr, size_t addrlen)
{
	char *bin = xasprintf("%s/tests/faultdns", test_env("WHY550_BUILD"));
	const char *argv[32];
	struct strbuf sb;
	int out[2], port = 0;
	int64_t end = now_ms() + 60000;
	size_t n = 0, i;
	bool open = true;
	char *nl;
	pid_t pid;

	argv[n++] = bin;
	argv[n++] = "--port";
	argv[n++] = "0";
	for (i = 0; args[i] != NULL && n < ARRAY_SIZE(argv) - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	cr_assert_eq(pipe(out), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		/* a test that fails half way leaves no server behind */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(out[1], 1);
		close(out[0]);
		close(out[1]);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(out[1]);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	strbuf_init(&sb);
	/* it prints "port N" once it listens */
	while (open && port == 0 && now_ms() < end) {
		struct pollfd pf = { out[0], POLLIN, 0 };

		if (poll(&pf, 1, 100) > 0)
			drain(out[0], &sb, &open);
		if (sb.buf != NULL && (nl = strchr(sb.buf, '\n')) != NULL &&
		    sscanf(sb.buf, "port %d", &port) != 1)
			break;
	}
	close(out[0]);
	strbuf_release(&sb);
	free(bin);
	if (port <= 0) {
		test_faultdns_stop(pid);
		cr_assert_fail("faultdns did not start");
	}
	snprintf(addr, addrlen, "127.0.0.1:%d", port);
	return pid;
}

void
test_faultdns_stop(pid_t pid)
{
	int wst;

	kill(pid, SIGTERM);
	waitpid(pid, &wst, 0);
}

void
test_why550(struct test_proc *p, const char *resolver, const char *const *args)
{
	const char *argv[64];
	char *conf = test_path("checks.d");
	size_t n = 0, i;

	argv[n++] = test_env("WHY550_BIN");
	/* a case that names its own folder gets only that one: the option takes one value */
	for (i = 0; args[i] != NULL && strcmp(args[i], "--config-dir") != 0; i++)
		;
	if (args[i] == NULL) {
		argv[n++] = "--config-dir";
		argv[n++] = conf;
	}
	if (resolver != NULL) {
		argv[n++] = "--resolver";
		argv[n++] = resolver;
	}
	for (i = 0; args[i] != NULL && n < ARRAY_SIZE(argv) - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	test_proc_run(p, argv, NULL, 60);
	free(conf);
}

bool
test_schema_valid(const char *text, bool ndjson, char *why, size_t whylen)
{
	char *validator = test_path("tests/validate.py");
	char *schema = test_path("docs/why550.schema.json");
	const char *argv[] = { "/usr/bin/python3", validator, ndjson ? "--ndjson" : schema,
	    ndjson ? schema : "-", ndjson ? "-" : NULL, NULL };
	struct test_proc p;
	bool ok;

	test_proc_run(&p, argv, text, 60);
	ok = p.status == 0;
	snprintf(why, whylen, "%s%s", p.out, p.err);
	test_proc_release(&p);
	free(validator);
	free(schema);
	return ok;
}

json_t *
test_json(const char *text)
{
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr);

	cr_assert_not_null(doc, "not JSON (%s): %.300s", jerr.text, text);
	return doc;
}

json_t *
test_check(json_t *doc, const char *name)
{
	json_t *checks = json_object_get(doc, "checks"), *c;
	size_t i;

	json_array_foreach(checks, i, c)
		if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0)
			return c;
	return NULL;
}

bool
test_has_finding(json_t *check, const char *code)
{
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(check, "findings"), i, f)
		if (strcmp(json_string_value(json_object_get(f, "code")), code) == 0)
			return true;
	return false;
}

json_t *
test_valid_json(const struct test_proc *p)
{
	char why[4096];

	cr_assert(test_schema_valid(p->out, false, why, sizeof(why)),
	    "output does not validate: %s\n%s%s", why, p->out, p->err);
	return test_json(p->out);
}

const char *
test_data_str(const struct report *rep, const char *key)
{
	return json_string_value(json_object_get(report_data_const(rep), key));
}

void
test_expect_no_negative(const struct report *rep)
{
	size_t i;

	for (i = 0; i < report_nfindings(rep); i++) {
		const struct finding *f = report_finding(rep, i);

		cr_expect(f->severity != SEV_FAIL && f->severity != SEV_WARN,
		    "negative finding '%s': %s", f->code, f->message);
	}
}

char *
test_temp_file(const void *data, size_t len)
{
	const char *dir = getenv("WHY550_TMP");
	char *path;
	int fd;

	if (dir == NULL || dir[0] == '\0')
		dir = getenv("TMPDIR");
	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	path = xasprintf("%s/why550-test-XXXXXX", dir);
	fd = mkstemp(path);
	cr_assert(fd >= 0, "mkstemp %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, data, len), (ssize_t)len, "write %s", path);
	close(fd);
	return path;
}

void
test_logged_start(struct test_faultdns *f, const char *const *args)
{
	const char *argv[32];
	size_t n = 0, i;

	memset(f, 0, sizeof(*f));
	f->log = xasprintf("%s/faultdns.%ld.log", test_env("WHY550_TMP"), (long)getpid());
	argv[n++] = "--log";
	argv[n++] = f->log;
	for (i = 0; args != NULL && args[i] != NULL && n < ARRAY_SIZE(argv) - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	f->pid = test_faultdns_start(argv, f->addr, sizeof(f->addr));
}

void
test_logged_stop(struct test_faultdns *f)
{
	if (f->pid > 0)
		test_faultdns_stop(f->pid);
	f->pid = 0;
	if (f->log != NULL)
		unlink(f->log);
	free(f->log);
	f->log = NULL;
}

struct test_question *
test_faultdns_questions(const struct test_faultdns *f, size_t *n)
{
	struct test_question *q = NULL, one;
	char line[512], proto[8];
	FILE *fp = fopen(f->log, "r");
	size_t len;

	*n = 0;
	cr_assert_not_null(fp, "cannot read %s", f->log);
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "%ld %255s %15s %7s", &one.ms, one.name, one.type, proto) != 4)
			continue;
		len = strlen(one.name);
		if (len > 1 && one.name[len - 1] == '.')
			one.name[len - 1] = '\0';
		str_lower(one.name);
		q = xrealloc(q, (*n + 1) * sizeof(*q));
		q[(*n)++] = one;
	}
	fclose(fp);
	return q;
}

size_t
test_questions_count(const struct test_question *q, size_t n, const char *name, const char *type)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (strcmp(q[i].name, name) == 0 && strcmp(q[i].type, type) == 0)
			c++;
	return c;
}

const char test_hostile_text[] =
    "Listed <b>\"spam\"</b> & more]]>\n::error::forged\r 100% \xff\xfe \xef\xbf\xbe "
    "\x1b[31m a:b, c | *d*";

static const struct check_ops test_ops_dnsbl = { .name = "dnsbl" };
static const struct check_ops test_ops_rdns = { .name = "rdns" };
static const struct check_ops test_ops_dkim = { .name = "dkim" };

/* A JSON string of hostile bytes as raw as the network gives them (output/ must make them safe). */
static json_t *
raw(const char *s)
{
	return json_stringn_nocheck(s, strlen(s));
}

void
test_result_init(struct test_result *tr, enum verdict_status st)
{
	struct verdict *v = &tr->res.verdict;
	struct cause *c;
	json_t *ev;

	memset(tr, 0, sizeof(*tr));
	target_init(&tr->t);
	tr->t.ip = xstrdup("2001:db8::66");
	tr->t.helo = xstrdup("mail.example.test");
	tr->t.mail_from = xstrdup("\"a,b <&> c\"@example.test");
	tr->reps[0] = report_new(&test_ops_dnsbl);
	report_add(tr->reps[0], "listed", SEV_FAIL, json_pack("{s:s,s:o}", "zone",
	    "hostile.bl.test", "txt", raw(test_hostile_text)), "listed: %s", test_hostile_text);
	report_set_duration_ms(tr->reps[0], 12);
	tr->reps[1] = report_new(&test_ops_rdns);
	report_add(tr->reps[1], "lookup_failed", SEV_ERROR, NULL, "PTR lookup timed out: %s",
	    test_hostile_text);
	tr->reps[2] = report_new(&test_ops_dkim);
	report_skip(tr->reps[2], "no message given");
	tr->res.target = &tr->t;
	tr->res.reports = tr->reps;
	tr->res.nreports = 3;
	tr->res.duration_ms = 1234;
	tr->res.dns.queries = 41;
	tr->res.dns.timeouts = 2;
	v->status = st;
	if (st == VERDICT_INCONCLUSIVE)
		v->note = xasprintf("not finished: rdns (%s)", test_hostile_text);
	if (st == VERDICT_CLEAN)
		return;
	v->causes = c = xcalloc(1, sizeof(*c));
	v->ncauses = 1;
	c->code = CAUSE_IP_BLOCKLISTED;
	c->confidence = st == VERDICT_BLOCKED_LIKELY ? CONF_HIGH : CONF_MEDIUM;
	c->summary = xstrdup(test_hostile_text);
	c->remedy = xasprintf("Ask for removal at http://x.test/?a=1&b=2 | %s", test_hostile_text);
	ev = json_pack("{s:s,s:s,s:o,s:{s:o}}", "check", "dnsbl", "finding", "listed",
	    "message", raw(test_hostile_text), "data", "txt", raw(test_hostile_text));
	c->evidence = json_pack("[o]", ev);
}

void
test_result_release(struct test_result *tr)
{
	size_t i;

	verdict_release(&tr->res.verdict);
	for (i = 0; i < ARRAY_SIZE(tr->reps); i++)
		report_free(tr->reps[i]);
	target_release(&tr->t);
}

char *
test_render(const struct output_options *opt, const struct run_result *const *res, size_t n)
{
	struct error err = { "" };
	struct output_stream *s;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *fp = open_memstream(&buf, &len);

	cr_assert_not_null(fp);
	s = output_stream_new(opt, fp, &err);
	cr_assert_not_null(s, "%s", err.msg);
	for (i = 0; i < n; i++) {
		long line = opt->batch ? (long)i + 1 : 0;

		output_stream_put(s, res[i] != NULL ? output_stream_render(s, res[i], line) :
		    output_stream_render_error(s, line, "not valid JSON: \"<&>\"\n::error::x"));
	}
	cr_assert_eq(output_stream_finish(s, &err), 0, "%s", err.msg);
	output_stream_free(s);
	fclose(fp);
	return buf;
}

char *
test_hostile_checks_d(void)
{
	char *dir = xasprintf("%s/hostile-checks.d-%d", test_env("WHY550_TMP"), (int)getpid());
	char *shipped = test_path("checks.d"), *src, *dst;
	struct dirent *de;
	DIR *d;
	FILE *fp;

	cr_assert(mkdir(dir, 0700) == 0 || errno == EEXIST, "mkdir %s: %s", dir, strerror(errno));
	d = opendir(shipped);
	cr_assert_not_null(d, "%s: %s", shipped, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len < 6 || strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		src = xasprintf("%s/%s", shipped, de->d_name);
		dst = xasprintf("%s/%s", dir, de->d_name);
		cr_assert(symlink(src, dst) == 0 || errno == EEXIST, "symlink %s: %s", dst,
		    strerror(errno));
		free(src);
		free(dst);
	}
	closedir(d);
	dst = xasprintf("%s/zz-hostile.conf", dir);
	fp = fopen(dst, "w");
	cr_assert_not_null(fp, "%s: %s", dst, strerror(errno));
	fputs("[dnsbl \"hostile.bl.test\"]\nkind = ip4\nweight = 3\n"
	    "code = 127.0.0.2 Hostile: a test list with a hostile TXT reason\n", fp);
	fclose(fp);
	free(dst);
	free(shipped);
	return dir;
}

void
test_why550_conf(struct test_proc *p, const char *conf, const char *const *args,
    const char *stdin_text)
{
	const char *argv[64];
	size_t n = 0, i;

	argv[n++] = test_env("WHY550_BIN");
	argv[n++] = "--config-dir";
	argv[n++] = conf;
	argv[n++] = "--resolver";
	argv[n++] = test_ns();
	for (i = 0; args[i] != NULL && n < ARRAY_SIZE(argv) - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	test_proc_run(p, argv, stdin_text, 60);
}

char *
test_config_dir(const char *text)
{
	char *dir = xasprintf("%s/conf-XXXXXX", test_env("WHY550_TMP")), *src, *cmd, *path;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	src = test_path("checks.d");
	cmd = xasprintf("cp '%s'/*.conf '%s'/", src, dir);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	path = xasprintf("%s/zz-test.conf", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
	free(path);
	free(cmd);
	free(src);
	return dir;
}
