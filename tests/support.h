/* Shared helpers for the tests: the fixture servers, running the binary, schema validation. */
#ifndef WHY550_TEST_SUPPORT_H
#define WHY550_TEST_SUPPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "checks/check.h"
#include "dns/dns.h"
#include "output/output.h"

/* The value of an environment variable the harness (tests/run.sh) sets; fails the test if unset. */
const char *test_env(const char *name);

/*
 * "127.0.0.1:PORT" of NSD serving tests/zones; of the fault server in front
 * of NSD (misbehaves for names whose first label says so, forwards the
 * rest); of a fault server alone (answers ordinary names itself).
 */
const char *test_ns(void);
const char *test_fault(void);
const char *test_fault_alone(void);

/*
 * Starts a fault server of its own (BUILD/tests/faultdns --port 0 args...)
 * on loopback and writes "127.0.0.1:PORT" into addr; returns its PID for
 * test_faultdns_stop(). Fails the test when it does not start.
 */
pid_t test_faultdns_start(const char *const *args, char *addr, size_t addrlen);
/* Stops a server test_faultdns_start() started, by its PID, and waits for it. */
void test_faultdns_stop(pid_t pid);

/* An engine on one server with a short attempt timeout. Fails the test on error. */
struct dns_engine *test_engine(const char *server, int attempt_ms, int attempts);
/* The defaults, one server and its attempts: test_engine()'s configuration, for a test to change. */
void test_dns_config(struct dns_config *cfg, const char *server, int attempt_ms, int attempts);
/* An engine of cfg. Fails the test on error. */
struct dns_engine *test_engine_of(const struct dns_config *cfg);

/* The path of a file in the source tree (fresh string). */
char *test_path(const char *rel);

struct bounce_rules;
/* The bounce rules of the shipped checks.d/bounce.conf. Fails the test on error. */
struct bounce_rules *test_shipped_bounce_rules(void);

struct test_proc {
	int status;		/* exit code, or 128+signal */
	char *out;		/* everything it printed, NUL-terminated */
	char *err;
};

/*
 * Runs argv (argv[0] a path) with stdin_text on standard input (NULL: empty),
 * waits up to timeout_s seconds (then kills it: status 137), captures output.
 */
void test_proc_run(struct test_proc *p, const char *const *argv, const char *stdin_text,
    int timeout_s);
void test_proc_release(struct test_proc *p);

/*
 * Runs build/why550 with args (NULL-terminated) and --resolver <resolver>
 * prepended when resolver is not NULL, --config-dir <repo>/checks.d too
 * unless args name a --config-dir of their own.
 */
void test_why550(struct test_proc *p, const char *resolver, const char *const *args);

/* Validates text against docs/why550.schema.json (ndjson: each line). why gets the validator's message. */
bool test_schema_valid(const char *text, bool ndjson, char *why, size_t whylen);

/* Parses JSON or fails the test. */
json_t *test_json(const char *text);

/* p's output as one result document: fails the test unless it validates against the schema. */
json_t *test_valid_json(const struct test_proc *p);

/* A string field of a report's check-specific data, or NULL. */
const char *test_data_str(const struct report *rep, const char *key);

/* Fails the test for every warn or fail finding of rep (a DNS failure must not read as a problem). */
void test_expect_no_negative(const struct report *rep);

/*
 * A fresh folder under the harness's temp folder with a copy of the
 * shipped checks.d and a zz-test.conf holding text, sorted last so that
 * its sections win. The path is the caller's to free.
 */
char *test_config_dir(const char *text);

/* A fresh temporary file holding len bytes of data; the path is the caller's to unlink and free. */
char *test_temp_file(const void *data, size_t len);

/* A fault server of the test's own, with a log of the questions it was asked. */
struct test_faultdns {
	pid_t pid;
	char addr[32];		/* "127.0.0.1:PORT" */
	char *log;		/* its question log: "MS NAME TYPE udp|tcp" per question */
};

/*
 * test_faultdns_start() with --log FILE before the further arguments args
 * (NULL-terminated, e.g. "--upstream", test_ns(), "--delay", "100").
 */
void test_logged_start(struct test_faultdns *f, const char *const *args);
/* Stops it by its PID, waits for it, removes its log. */
void test_logged_stop(struct test_faultdns *f);

/* One question of a test fault server's log. */
struct test_question {
	long ms;		/* when it arrived, CLOCK_MONOTONIC milliseconds */
	char name[256];		/* lower case, without the final dot */
	char type[16];
};

/* The questions logged so far, in order (fresh array, *n set). */
struct test_question *test_faultdns_questions(const struct test_faultdns *f, size_t *n);
/* How many of the n questions q are for name (without the final dot) and type. */
size_t test_questions_count(const struct test_question *q, size_t n, const char *name,
    const char *type);

/* The check object called name in a result document, or NULL. */
json_t *test_check(json_t *doc, const char *name);
/* True if the check object has a finding with code. */
bool test_has_finding(json_t *check, const char *code);

/*
 * The CI and metrics formats (output/): a run result built by hand around
 * hostile text. The target's sender holds quotes, a comma, & < >; the
 * cause's summary, remedy and evidence hold markup, quotes, &, a line
 * break that starts "::error::", CR, %, ':' and ',', '|' and '*', ESC,
 * bytes that are not UTF-8 (0xff 0xfe) and U+FFFE; the IP is IPv6 (colons).
 * Checks: dnsbl (fail, cited by the cause), rdns (error) and dkim
 * (skipped). The verdict has status st: one cause unless st is clean, and
 * a note when st is inconclusive.
 */
struct test_result {
	struct target t;
	struct report *reps[3];
	struct run_result res;
};
void test_result_init(struct test_result *tr, enum verdict_status st);
void test_result_release(struct test_result *tr);
/* The hostile text of the cause's summary, as the test_result holds it. */
extern const char test_hostile_text[];

/*
 * Renders n results through an output stream with opt (batch mode when
 * opt->batch, line numbers from 1) and returns everything written; a NULL
 * result stands for an input line that was not a target. The stream must
 * finish without a write error.
 */
char *test_render(const struct output_options *opt, const struct run_result *const *res,
    size_t n);

/*
 * A checks.d folder in WHY550_TMP: the shipped files and one more list,
 * hostile.bl.test (tests/zones), which lists 192.0.2.66 with a hostile TXT
 * reason. Fresh path.
 */
char *test_hostile_checks_d(void);

/* Runs build/why550 with --config-dir conf, --resolver NSD and args, stdin_text on its standard input. */
void test_why550_conf(struct test_proc *p, const char *conf, const char *const *args,
    const char *stdin_text);

#endif
