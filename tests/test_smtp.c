/*
 * Tests of the smtp check (checks/smtp/) against the NSD fixture and the
 * scripted SMTP server tests/tool_smtpfault.c on 127.0.25.0/24: every
 * fault gives a typed result within the deadline.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"
#include "checks/check.h"
#include "core/conf.h"
#include "core/target.h"
#include "core/util.h"

extern const struct check_ops check_smtp;

/* Every scenario of smtpfault on the address the fixture zone smtp.test gives it. */
static const char *const listeners[] = {
	"127.0.25.1=ok", "127.0.25.2=split", "127.0.25.3=slow", "127.0.25.4=slowok",
	"127.0.25.5=busy", "127.0.25.6=dropehlo", "127.0.25.7=tarpit", "127.0.25.8=reject550",
	"127.0.25.9=unknown", "127.0.25.10=grey", "127.0.25.11=badsender",
	"127.0.25.12=tlsfail", "127.0.25.13=silent", "127.0.25.14=noservice",
	"127.0.25.15=listed", "127.0.25.16=nohelo", "127.0.25.17=garbage",
	"127.0.25.18=busy", "127.0.25.19=busy", "::1=ok",
};

/* The scripted server of one test. */
struct server {
	pid_t pid;
	int port;
	char *log;
};

static void
server_start(struct server *s)
{
	const char *argv[ARRAY_SIZE(listeners) + 8];
	char *bin = xasprintf("%s/tests/smtpfault", test_env("WHY550_BUILD"));
	char buf[256] = "";
	int out[2], n = 0, fd;
	size_t i, len = 0;
	int64_t end = now_ms() + 5000;

	s->log = test_temp_file("", 0);
	argv[n++] = bin;
	argv[n++] = "--port";
	argv[n++] = "0";
	argv[n++] = "--log";
	argv[n++] = s->log;
	for (i = 0; i < ARRAY_SIZE(listeners); i++)
		argv[n++] = listeners[i];
	argv[n] = NULL;
	cr_assert_eq(pipe(out), 0);
	s->pid = fork();
	cr_assert_neq(s->pid, -1);
	if (s->pid == 0) {
		dup2(out[1], 1);
		close(out[0]);
		execv(bin, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(out[1]);
	fd = out[0];
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (strchr(buf, '\n') == NULL) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;

		cr_assert(now_ms() < end, "smtpfault did not say its port in 5 s");
		poll(&p, 1, 100);
		r = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (r > 0)
			len += (size_t)r;
		buf[len] = '\0';
		cr_assert(r != 0, "smtpfault exited before it listened");
	}
	close(fd);
	cr_assert_eq(sscanf(buf, "port %d", &s->port), 1, "smtpfault said '%s'", buf);
	free(bin);
}

static void
server_stop(struct server *s)
{
	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
	unlink(s->log);
	free(s->log);
}

/* What the server's log holds: "C addr line" for each line a client sent. */
static char *
server_log(const struct server *s)
{
	FILE *f = fopen(s->log, "r");
	struct strbuf sb;
	char buf[4096];
	size_t n;

	cr_assert_not_null(f);
	strbuf_init(&sb);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	return strbuf_detach(&sb, NULL);
}

/* One check with its configuration and engine, for one or more targets. */
struct fx {
	struct server srv;
	struct conf *conf;
	void *ctx;
	struct dns_engine *eng;
};

/* Short stage times; extra (may be NULL) is more [smtp] lines. The shipped checks.d first. */
static void
fx_init(struct fx *f, const char *extra)
{
	struct error err = { "" };
	char *dir = test_path("checks.d"), *text;

	memset(f, 0, sizeof(*f));
	server_start(&f->srv);
	f->conf = conf_new();
	cr_assert_eq(conf_load_dir(f->conf, dir, &err), 0, "%s", err.msg);
	text = xasprintf("[smtp]\nport = %d\nconnect_timeout = 1\nbanner_timeout = 1\n"
	    "command_timeout = 1\ntls_timeout = 1\ncontrol_timeout = 1\nmin_interval = 0\n%s",
	    f->srv.port, extra != NULL ? extra : "");
	cr_assert_eq(conf_load_file(f->conf, "test.conf", text, &err), 0, "%s", err.msg);
	cr_assert_eq(check_smtp.configure(&f->ctx, f->conf, &err), 0, "%s", err.msg);
	f->eng = test_engine(test_ns(), 500, 2);
	free(text);
	free(dir);
}

static void
fx_release(struct fx *f)
{
	check_smtp.free(f->ctx);
	conf_free(f->conf);
	dns_engine_free(f->eng);
	server_stop(&f->srv);
}

/* Probes rcpt (from, ip and helo may be NULL) with a target deadline timeout_ms away. */
static struct report *
fx_probe(struct fx *f, const char *rcpt, const char *from, const char *ip, const char *helo,
    int timeout_ms, int *took_ms)
{
	struct error err = { "" };
	struct report *rep = report_new(&check_smtp);
	struct target t;
	struct dns *dns;
	int64_t start = now_ms();

	target_init(&t);
	cr_assert_eq(target_set_rcpt_to(&t, "--to", rcpt, &err), 0, "%s", err.msg);
	if (from != NULL)
		cr_assert_eq(target_set_mail_from(&t, "--from", from, &err), 0, "%s", err.msg);
	if (ip != NULL)
		cr_assert_eq(target_set_ip(&t, "--ip", ip, &err), 0, "%s", err.msg);
	if (helo != NULL)
		cr_assert_eq(target_set_helo(&t, "--helo", helo, &err), 0, "%s", err.msg);
	dns = dns_new(f->eng, now_ms() + timeout_ms);
	check_smtp.run(f->ctx, &t, dns, rep);
	if (took_ms != NULL)
		*took_ms = (int)(now_ms() - start);
	dns_free(dns);
	target_release(&t);
	return rep;
}

static const char *
result_of(const struct report *rep)
{
	const char *r = test_data_str(rep, "result");

	return r != NULL ? r : "(none)";
}

static const json_t *
session(const struct report *rep, size_t i)
{
	const json_t *s = json_array_get(json_object_get(report_data_const(rep), "sessions"), i);

	cr_assert_not_null(s, "no session %zu", i);
	return s;
}

static const char *
jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "(none)";
}

/* The stages of a session's exchanges, joined with spaces. */
static char *
stages(const json_t *s)
{
	const json_t *e;
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb);
	json_array_foreach(json_object_get(s, "replies"), i, e)
		strbuf_addf(&sb, "%s%s:%lld", i ? " " : "", jstr(e, "stage"),
		    (long long)json_integer_value(json_object_get(e, "code")));
	return strbuf_detach(&sb, NULL);
}

/* A finding's data field as text. */
static const char *
finding_str(const struct report *rep, const char *code, const char *key)
{
	const struct finding *f = report_find(rep, code);

	cr_assert_not_null(f, "no finding %s (result %s)", code, result_of(rep));
	return jstr(f->data, key);
}

/* Lines of the server's log that start with prefix. */
static size_t
log_count(const struct server *s, const char *prefix)
{
	char *log = server_log(s), *p = log;
	size_t n = 0, len = strlen(prefix);

	while (p != NULL && *p != '\0') {
		if (strncmp(p, prefix, len) == 0)
			n++;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	free(log);
	return n;
}

Test(smtp, accepted_rcpt_ends_with_rset_and_quit_and_never_data)
{
	struct fx f;
	struct report *rep;
	char *st;

	fx_init(&f, NULL);
	rep = fx_probe(&f, "alice@ok.smtp.test", "news@shop.test", NULL, "mail.shop.test", 5000,
	    NULL);
	cr_expect_str_eq(result_of(rep), "accepted");
	cr_expect_eq(report_status(rep), CHECK_PASS);
	cr_expect_not_null(report_find(rep, "rcpt_accepted"));
	st = stages(session(rep, 0));
	cr_expect_str_eq(st, "banner:220 ehlo:250 mail:250 rcpt:250 rset:250 quit:221");
	cr_expect_eq(log_count(&f.srv, "C 127.0.25.1 MAIL FROM:<news@shop.test>"), 1);
	cr_expect_eq(log_count(&f.srv, "C 127.0.25.1 RCPT TO:<alice@ok.smtp.test>"), 1);
	cr_expect_eq(log_count(&f.srv, "C 127.0.25.1 EHLO mail.shop.test"), 1, "--helo is the name");
	cr_expect_eq(log_count(&f.srv, "C 127.0.25.1 DATA"), 0, "the probe never sends DATA");
	cr_expect_eq(json_array_size(json_object_get(session(rep, 0), "extensions")), 4);
	free(st);
	report_free(rep);
	fx_release(&f);
}

Test(smtp, reply_split_into_single_bytes_is_read_whole)
{
	struct fx f;
	struct report *rep;
	const json_t *ehlo;

	fx_init(&f, NULL);
	rep = fx_probe(&f, "alice@split.smtp.test", NULL, NULL, NULL, 5000, NULL);
	cr_expect_str_eq(result_of(rep), "accepted");
	ehlo = json_array_get(json_object_get(session(rep, 0), "replies"), 1);
	cr_expect_str_eq(jstr(ehlo, "reply"), "250-mx.fault.test\r\n250-PIPELINING\r\n"
	    "250-SIZE 10240000\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n");
	report_free(rep);
	fx_release(&f);
}

Test(smtp, banner_within_its_timeout_is_waited_for)
{
	struct fx f;
	struct report *rep;

	fx_init(&f, NULL);
	rep = fx_probe(&f, "alice@slowok.smtp.test", NULL, NULL, NULL, 5000, NULL);
	cr_expect_str_eq(result_of(rep), "accepted");
	report_free(rep);
	fx_release(&f);
}

/* Faults that leave no answer: the typed result, the stage, the finding, within its time. */
struct silence_case {
	const char *rcpt;
	const char *result;
	const char *stage;
	const char *io;
	const char *finding;
};

Test(smtp, servers_that_do_not_answer_give_typed_results_within_the_stage_time)
{
	static const struct silence_case cases[] = {
		{ "a@slow.smtp.test", "stalled", "banner", "timeout", "no_answer" },
		{ "a@silent.smtp.test", "stalled", "banner", "timeout", "no_answer" },
		{ "a@tarpit.smtp.test", "stalled", "ehlo", "timeout", "no_answer" },
		{ "a@dropehlo.smtp.test", "dropped", "ehlo", "closed", "connection_dropped" },
		{ "a@garbage.smtp.test", "protocol_error", "banner", "malformed", "protocol_error" },
	};
	struct fx f;
	size_t i;

	fx_init(&f, NULL);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct silence_case *c = &cases[i];
		struct report *rep;
		int took;

		rep = fx_probe(&f, c->rcpt, NULL, NULL, NULL, 8000, &took);
		cr_expect_str_eq(result_of(rep), c->result, "%s", c->rcpt);
		cr_expect_str_eq(jstr(session(rep, 0), "stage"), c->stage, "%s", c->rcpt);
		cr_expect_str_eq(jstr(session(rep, 0), "io"), c->io, "%s", c->rcpt);
		cr_expect_not_null(report_find(rep, c->finding), "%s: no %s", c->rcpt, c->finding);
		/* one stage of 1 s, and the QUIT that a broken connection does not get */
		cr_expect_lt(took, 2500, "%s took %d ms", c->rcpt, took);
		report_free(rep);
	}
	fx_release(&f);
}

Test(smtp, code_421_at_connect_on_every_host_is_server_down_and_gets_no_quit)
{
	struct fx f;
	struct report *rep;

	fx_init(&f, NULL);
	rep = fx_probe(&f, "alice@busyall.smtp.test", NULL, NULL, NULL, 5000, NULL);
	cr_expect_str_eq(result_of(rep), "server_down");
	cr_expect_eq(report_find(rep, "server_down")->severity, SEV_FAIL);
	cr_expect_eq(json_array_size(json_object_get(report_data_const(rep), "sessions")), 2,
	    "both hosts are asked");
	cr_expect_eq(log_count(&f.srv, "C 127.0.25.5"), 0, "RFC 5321 3.8: nothing after 421");
	cr_expect_eq(log_count(&f.srv, "C 127.0.25.18"), 0);
	report_free(rep);
	fx_release(&f);
}

Test(smtp, nothing_listening_on_any_mx_is_server_down)
{
	struct fx f;
	struct report *rep;

	fx_init(&f, NULL);
	rep = fx_probe(&f, "alice@down.smtp.test", NULL, NULL, NULL, 5000, NULL);
	cr_expect_str_eq(result_of(rep), "server_down");
	cr_expect_str_eq(jstr(session(rep, 0), "io"), "refused");
	cr_expect_str_eq(jstr(session(rep, 1), "io"), "refused");
	report_free(rep);
	fx_release(&f);
}

/* Replies that decide: the result, the stage, the cause the classifier gives. */
struct answer_case {
	const char *rcpt;
	const char *result;
	const char *finding;
	const char *stage;
	const char *cause;
};

Test(smtp, decisive_replies_are_classified_as_a_pasted_bounce)
{
	static const struct answer_case cases[] = {
		{ "a@reject550.smtp.test", "rejected", "probe_rejected", "rcpt", "ip_blocklisted" },
		{ "bob@unknown.smtp.test", "rejected", "probe_rejected", "rcpt",
		  "recipient_unknown" },
		{ "a@badsender.smtp.test", "rejected", "probe_rejected", "mail",
		  "sender_domain_invalid" },
		{ "alice@grey.smtp.test", "deferred", "probe_deferred", "rcpt", "greylisted" },
		{ "a@noservice.smtp.test", "blocked_at_connect", "probe_rejected", "banner",
		  "connection_blocked" },
		{ "a@listed.smtp.test", "blocked_at_connect", "probe_rejected", "banner",
		  "ip_blocklisted" },
	};
	struct fx f;
	size_t i;

	fx_init(&f, NULL);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct answer_case *c = &cases[i];
		struct report *rep = fx_probe(&f, c->rcpt, "bob@nowhere.test", NULL, NULL, 5000,
		    NULL);
		char *expected;

		cr_expect_str_eq(result_of(rep), c->result, "%s", c->rcpt);
		cr_expect_str_eq(finding_str(rep, c->finding, "stage"), c->stage, "%s", c->rcpt);
		cr_expect_str_eq(finding_str(rep, c->finding, "cause"), c->cause, "%s", c->rcpt);
		expected = xasprintf("mx.%s", strchr(c->rcpt, '@') + 1);
		cr_expect_str_eq(finding_str(rep, c->finding, "host"), expected,
		    "%s: the host asked is named", c->rcpt);
		free(expected);
		report_free(rep);
	}
	cr_expect_eq(log_count(&f.srv, "C 127.0.25.11 RCPT"), 0, "no RCPT after MAIL is refused");
	cr_expect_eq(log_count(&f.srv, "C 127.0.25.14 QUIT"), 1, "RFC 5321 3.1: QUIT after 554");
	fx_release(&f);
}

Test(smtp, multi_line_550_is_kept_verbatim_with_its_lists)
{
	struct fx f;
	struct report *rep;
	const json_t *rcpt, *lists;

	fx_init(&f, NULL);
	rep = fx_probe(&f, "alice@reject550.smtp.test", NULL, NULL, NULL, 5000, NULL);
	rcpt = json_array_get(json_object_get(session(rep, 0), "replies"), 3);
	cr_expect_str_eq(jstr(rcpt, "stage"), "rcpt");
	cr_expect_str_eq(jstr(rcpt, "reply"),
	    "550-5.7.1 Service unavailable; client host blocked using zen.spamhaus.org;\r\n"
	    "550-5.7.1 see https://check.spamhaus.org/\r\n550 5.7.1 Rejected by policy\r\n");
	cr_expect_str_eq(jstr(rcpt, "enhanced"), "5.7.1");
	lists = json_object_get(report_find(rep, "probe_rejected")->data, "lists");
	cr_expect_str_eq(json_string_value(json_array_get(lists, 0)), "zen.spamhaus.org");
	report_free(rep);
	fx_release(&f);
}

Test(smtp, greylisting_is_deferred_with_a_retry_hint)
{
	struct fx f;
	struct report *rep;
	const struct finding *d;

	fx_init(&f, NULL);
	rep = fx_probe(&f, "alice@grey.smtp.test", NULL, NULL, NULL, 5000, NULL);
	d = report_find(rep, "probe_deferred");
	cr_assert_not_null(d);
	cr_expect_eq(d->severity, SEV_WARN);
	cr_expect(strstr(jstr(d->data, "retry"), "few minutes") != NULL, "%s",
	    jstr(d->data, "retry"));
	cr_expect(json_is_true(json_object_get(d->data, "transient")));
	report_free(rep);
	fx_release(&f);
}

Test(smtp, failed_starttls_is_evidence_and_the_probe_goes_on_in_clear)
{
	struct fx f;
	struct report *rep;

	fx_init(&f, NULL);
	rep = fx_probe(&f, "alice@tlsfail.smtp.test", NULL, NULL, NULL, 5000, NULL);
	cr_expect_str_eq(result_of(rep), "accepted");
	cr_expect_str_eq(jstr(session(rep, 0), "starttls"), "failed");
	cr_expect_str_eq(jstr(session(rep, 0), "io"), "tls_failed");
	cr_expect_str_eq(jstr(session(rep, 1), "starttls"), "skipped");
	cr_expect_eq(report_find(rep, "tls_failed")->severity, SEV_INFO,
	    "a receiver's broken TLS is no cause against the sender");
	cr_expect_str_eq(jstr(json_object_get(report_data_const(rep), "tls"), "starttls"),
	    "failed");
	report_free(rep);
	fx_release(&f);
}

Test(smtp, refused_ehlo_falls_back_to_helo)
{
	struct fx f;
	struct report *rep;
	char *st;

	fx_init(&f, NULL);
	rep = fx_probe(&f, "alice@nohelo.smtp.test", NULL, NULL, NULL, 5000, NULL);
	cr_expect_str_eq(result_of(rep), "accepted");
	st = stages(session(rep, 0));
	cr_expect_str_eq(st, "banner:220 ehlo:502 helo:250 mail:250 rcpt:250 rset:250 quit:221");
	free(st);
	report_free(rep);
	fx_release(&f);
}

Test(smtp, hosts_are_tried_in_preference_order_until_one_accepts)
{
	struct fx f;
	struct report *rep;

	fx_init(&f, NULL);
	rep = fx_probe(&f, "alice@three.smtp.test", NULL, NULL, NULL, 5000, NULL);
	cr_expect_str_eq(result_of(rep), "accepted");
	cr_expect_str_eq(jstr(session(rep, 0), "host"), "mx1.three.smtp.test");
	cr_expect_str_eq(jstr(session(rep, 0), "outcome"), "deferred");
	cr_expect_str_eq(jstr(session(rep, 1), "host"), "mx2.three.smtp.test");
	cr_expect_str_eq(jstr(session(rep, 1), "io"), "refused");
	cr_expect_str_eq(jstr(session(rep, 2), "host"), "mx3.three.smtp.test");
	cr_expect_eq(json_integer_value(json_object_get(report_data_const(rep), "reply_from")), 2);
	report_free(rep);
	fx_release(&f);
}

Test(smtp, implicit_mx_and_null_mx_are_read_as_the_recipient_check_reads_them)
{
	struct fx f;
	struct report *rep;

	fx_init(&f, NULL);
	rep = fx_probe(&f, "alice@implicit.smtp.test", NULL, NULL, NULL, 5000, NULL);
	cr_expect_str_eq(result_of(rep), "accepted");
	cr_expect_str_eq(jstr(session(rep, 0), "host"), "implicit.smtp.test");
	cr_expect_str_eq(test_data_str(rep, "mail"), "implicit_mx");
	report_free(rep);
	rep = fx_probe(&f, "alice@nullmx.smtp.test", NULL, NULL, NULL, 5000, NULL);
	cr_expect_eq(report_find(rep, "no_mail_server")->severity, SEV_FAIL);
	cr_expect_null(json_object_get(report_data_const(rep), "sessions"), "nobody was asked");
	report_free(rep);
	fx_release(&f);
}

Test(smtp, both_families_are_tried_in_turn)
{
	struct fx f;
	struct report *rep;

	fx_init(&f, NULL);
	rep = fx_probe(&f, "alice@dual.smtp.test", NULL, NULL, NULL, 5000, NULL);
	cr_expect_str_eq(jstr(session(rep, 0), "address"), "127.0.25.30", "IPv4 first");
	cr_expect_str_eq(jstr(session(rep, 1), "address"), "::1");
	cr_expect_str_eq(result_of(rep), "accepted");
	report_free(rep);
	/* the family of --ip comes first */
	rep = fx_probe(&f, "alice@dual.smtp.test", NULL, "2001:db8::7", NULL, 5000, NULL);
	cr_expect_str_eq(jstr(session(rep, 0), "address"), "::1");
	report_free(rep);
	fx_release(&f);
}

Test(smtp, probe_from_another_address_than_ip_says_so_and_weakens_ip_causes)
{
	struct fx f;
	struct report *rep;
	const struct finding *d, *r;

	fx_init(&f, "source = 127.0.0.1\n");
	rep = fx_probe(&f, "alice@reject550.smtp.test", NULL, "203.0.113.7", NULL, 5000, NULL);
	d = report_find(rep, "source_differs");
	cr_assert_not_null(d);
	cr_expect_eq(d->severity, SEV_WARN);
	cr_expect(strstr(d->message, "127.0.0.1") != NULL && strstr(d->message, "203.0.113.7"),
	    "%s", d->message);
	cr_expect_str_eq(report_finding(rep, 0)->code, "source_differs",
	    "first, so that the check's line in the text report says it");
	r = report_find(rep, "probe_rejected");
	cr_expect_str_eq(jstr(r->data, "confidence"), "low", "judged on the probe's address");
	cr_expect(strstr(r->message, "not from --ip 203.0.113.7") != NULL, "%s", r->message);
	cr_expect(json_is_true(json_object_get(report_data_const(rep), "source_differs")));
	report_free(rep);
	/* a recipient that does not exist does not depend on who asks */
	rep = fx_probe(&f, "bob@unknown.smtp.test", NULL, "203.0.113.7", NULL, 5000, NULL);
	cr_expect_str_eq(finding_str(rep, "probe_rejected", "confidence"), "high");
	report_free(rep);
	/* from --ip itself nothing differs */
	rep = fx_probe(&f, "alice@ok.smtp.test", NULL, "127.0.0.1", NULL, 5000, NULL);
	cr_expect_null(report_find(rep, "source_differs"));
	cr_expect(json_is_false(json_object_get(report_data_const(rep), "source_differs")));
	report_free(rep);
	fx_release(&f);
}

Test(smtp, helo_is_the_ptr_name_of_the_source_else_an_address_literal)
{
	struct fx f;
	struct report *rep;

	fx_init(&f, NULL);
	rep = fx_probe(&f, "alice@ok.smtp.test", NULL, NULL, NULL, 5000, NULL);
	/* 127.0.0.1 has no PTR in the fixture: RFC 5321 4.1.3 address literal */
	cr_expect_str_eq(jstr(session(rep, 0), "helo"), "[127.0.0.1]");
	report_free(rep);
	fx_release(&f);
}

/* Probes alice@slowok.smtp.test on a thread of its own. */
static void *
probe_thread(void *arg)
{
	struct fx *f = arg;

	return fx_probe(f, "alice@slowok.smtp.test", NULL, NULL, NULL, 8000, NULL);
}

Test(smtp, one_connection_at_a_time_per_address_and_an_interval_between)
{
	struct fx f;
	struct report *rep[2];
	pthread_t th;
	int took;

	fx_init(&f, "min_interval = 0.5\n");
	/* two targets at once: the second waits for the first (0.3 s banner) and the interval */
	cr_assert_eq(pthread_create(&th, NULL, probe_thread, &f), 0);
	rep[0] = fx_probe(&f, "alice@slowok.smtp.test", NULL, NULL, NULL, 8000, &took);
	pthread_join(th, (void **)&rep[1]);
	cr_expect_str_eq(result_of(rep[0]), "accepted");
	cr_expect_str_eq(result_of(rep[1]), "accepted");
	report_free(rep[0]);
	report_free(rep[1]);
	rep[0] = fx_probe(&f, "alice@slowok.smtp.test", NULL, NULL, NULL, 8000, &took);
	cr_expect_geq(took, 700, "0.5 s after the last connection, and 0.3 s of banner: %d ms",
	    took);
	report_free(rep[0]);
	fx_release(&f);
}

Test(smtp, an_address_that_said_421_is_left_alone_for_its_backoff)
{
	struct fx f;
	struct report *rep;
	const json_t *skip;

	fx_init(&f, "backoff_421 = 60\n");
	rep = fx_probe(&f, "alice@busy.smtp.test", NULL, NULL, NULL, 5000, NULL);
	cr_expect_str_eq(result_of(rep), "server_down");
	report_free(rep);
	rep = fx_probe(&f, "alice@busy.smtp.test", NULL, NULL, NULL, 5000, NULL);
	skip = json_array_get(json_object_get(report_data_const(rep), "skipped"), 0);
	cr_expect_str_eq(jstr(skip, "reason"), "backoff_421");
	cr_expect_gt(json_integer_value(json_object_get(skip, "retry_in_ms")), 50000);
	cr_expect_str_eq(result_of(rep), "deferred");
	cr_expect_eq(report_find(rep, "probe_paused")->severity, SEV_ERROR,
	    "nobody was asked: no answer, so no honest verdict");
	cr_expect_eq(log_count(&f.srv, "S 127.0.25.5 421"), 1, "one connection, not two");
	report_free(rep);
	fx_release(&f);
}

Test(smtp, every_wait_ends_with_the_targets_deadline)
{
	struct fx f;
	struct report *rep;
	int took;

	fx_init(&f, "banner_timeout = 30\ncommand_timeout = 30\n");
	rep = fx_probe(&f, "alice@silent.smtp.test", NULL, NULL, NULL, 1200, &took);
	cr_expect_lt(took, 1200, "the probe ends before the deadline: %d ms", took);
	cr_expect_str_eq(result_of(rep), "deadline");
	cr_expect_eq(report_find(rep, "probe_deadline")->severity, SEV_ERROR);
	cr_expect(json_is_true(json_object_get(session(rep, 0), "deadline")));
	report_free(rep);
	fx_release(&f);
}

Test(smtp, an_invalid_recipient_is_not_probed)
{
	struct fx f;
	struct report *rep;

	fx_init(&f, NULL);
	rep = fx_probe(&f, "al..ice@ok.smtp.test", NULL, NULL, NULL, 5000, NULL);
	cr_expect_eq(report_status(rep), CHECK_SKIPPED);
	cr_expect(strstr(report_reason(rep), "not valid") != NULL, "%s", report_reason(rep));
	cr_expect_eq(log_count(&f.srv, "C "), 0);
	report_free(rep);
	fx_release(&f);
}

Test(smtp, bad_configuration_names_file_and_line)
{
	static const struct {
		const char *text;
		const char *mentions;
	} cases[] = {
		{ "[smtp]\nport = 0\n", "bad.conf:2" },
		{ "[smtp]\nconnect_timeout = 0\n", "connect_timeout" },
		{ "[smtp]\nbanner_timeout = soon\n", "bad.conf:2" },
		{ "[smtp]\ncontrol_port = 99999\n", "control_port" },
		{ "[smtp]\n\ncontrol_host = 192.0.2.1\n", "bad.conf:3" },
		{ "[smtp]\ncontrol_host = [2001:db8::1]\n", "control_host" },
		{ "[smtp]\nsource = mail.example.test\n", "source" },
		{ "[smtp]\nipv4 = no\nipv6 = no\n", "both off" },
		{ "[smtp]\nretries = 3\n", "retries" },
		{ "[smtp \"x\"]\n", "no label" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct conf *conf = conf_new();
		struct error err = { "" };
		void *ctx = NULL;

		cr_assert_eq(conf_load_file(conf, "bad.conf", cases[i].text, &err), 0, "%s",
		    err.msg);
		cr_expect_eq(check_smtp.configure(&ctx, conf, &err), -1, "%s", cases[i].text);
		cr_expect(strstr(err.msg, cases[i].mentions) != NULL, "'%s': %s", cases[i].text,
		    err.msg);
		conf_free(conf);
	}
}

/* The binary with a checks.d of its own: the shipped files and one naming the server's port. */
static char *
config_dir(const struct server *s)
{
	char *text = xasprintf("[smtp]\nport = %d\nconnect_timeout = 1\nbanner_timeout = 1\n"
	    "command_timeout = 1\n", s->port), *dir = test_config_dir(text);

	free(text);
	return dir;
}

Test(smtp, probe_is_opt_in_and_its_document_validates)
{
	struct server s;
	struct test_proc p;
	char *dir, *res = xasprintf("%s", test_ns());
	json_t *doc, *c;

	server_start(&s);
	dir = config_dir(&s);
	{
		const char *argv[] = { test_env("WHY550_BIN"), "--config-dir", dir, "--resolver", res,
		    "--to", "alice@unknown.smtp.test", "--format", "json", NULL };

		test_proc_run(&p, argv, NULL, 30);
		doc = test_valid_json(&p);
		cr_expect_null(test_check(doc, "smtp"), "no probe without --probe");
		json_decref(doc);
		test_proc_release(&p);
	}
	{
		const char *argv[] = { test_env("WHY550_BIN"), "--config-dir", dir, "--resolver", res,
		    "--to", "bob@unknown.smtp.test", "--probe", "--format", "json", NULL };

		test_proc_run(&p, argv, NULL, 30);
		doc = test_valid_json(&p);
		c = test_check(doc, "smtp");
		cr_assert_not_null(c, "--probe runs the smtp check: %s", p.out);
		cr_expect(test_has_finding(c, "probe_rejected"));
		cr_expect_not_null(test_check(doc, "recipient"), "beside the default checks");
		json_decref(doc);
		test_proc_release(&p);
	}
	free(res);
	free(dir);
	server_stop(&s);
}

Test(smtp, a_probe_source_that_is_not_an_address_of_this_machine_is_a_usage_error)
{
	static const struct {
		const char *arg;
		const char *says;
	} cases[] = {
		{ "mail.example.test", "is not an IPv4 or IPv6 address" },
		{ "192.0.2.99", "cannot send from" },
	};
	struct test_proc p;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *args[] = { "--to", "alice@ok.smtp.test", "--probe-source", cases[i].arg,
		    NULL };

		test_why550(&p, "127.0.0.1:9", args);
		cr_expect_eq(p.status, 64, "%s: exit %d", cases[i].arg, p.status);
		cr_expect(strstr(p.err, "--probe-source") != NULL &&
		    strstr(p.err, cases[i].says) != NULL, "%s: %s", cases[i].arg, p.err);
		cr_expect_str_eq(p.out, "", "no document on bad input");
		test_proc_release(&p);
	}
}

Test(smtp, a_probe_without_a_recipient_is_a_usage_error)
{
	static const char *const probes[][3] = {
		{ "--probe", NULL, NULL },
		{ "--probe-source", "127.0.0.1", NULL },
	};
	struct test_proc p;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		const char *args[] = { "--ip", "192.0.2.1", probes[i][0], probes[i][1], NULL };

		test_why550(&p, "127.0.0.1:9", args);
		cr_expect_eq(p.status, 64, "%s: exit %d", probes[i][0], p.status);
		cr_expect(strstr(p.err, probes[i][0]) != NULL && strstr(p.err, "give --to") != NULL,
		    "%s: %s", probes[i][0], p.err);
		cr_expect_str_eq(p.out, "", "no document on bad input");
		test_proc_release(&p);
	}
}
