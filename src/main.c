/* why550's command line: parse and validate the arguments, run the checks for the target, print the verdict. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checks/check.h"
#include "core/net.h"
#include "dns/dns.h"
#include "output/output.h"
#include "src/batch.h"
#include "core/conf.h"
#include "src/runner.h"
#include "core/target.h"
#include "core/util.h"

#define EXIT_USAGE	64
#define EXIT_IOERR	74
#define EXIT_CONFIG	78

enum format {
	FORMAT_AUTO = 0,
	FORMAT_JSON,
	FORMAT_TEXT,
};

struct options {
	struct target target;
	bool any_input;
	const char *checks;
	const char *config_dir;
	struct dns_server servers[DNS_MAX_SERVERS];
	size_t nservers;
	double timeout;
	enum format format;
	bool fail_on_at_risk;
	bool list_checks;
	bool verbose;
	const char *batch;
	long jobs;
	bool probe;
	const char *probe_source;
};

enum {
	OPT_IP = 256, OPT_HELO, OPT_FROM, OPT_TO, OPT_MESSAGE, OPT_BOUNCE, OPT_SELECTOR,
	OPT_CHECKS, OPT_CONFIG_DIR, OPT_RESOLVER, OPT_TIMEOUT, OPT_FORMAT, OPT_FAIL_ON,
	OPT_LIST_CHECKS, OPT_VERSION, OPT_HELP, OPT_VERBOSE, OPT_BATCH, OPT_JOBS,
	OPT_PROBE, OPT_PROBE_SOURCE,
};

static const struct option longopts[] = {
	{ "ip", required_argument, NULL, OPT_IP },
	{ "helo", required_argument, NULL, OPT_HELO },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	{ "message", required_argument, NULL, OPT_MESSAGE },
	{ "bounce", required_argument, NULL, OPT_BOUNCE },
	{ "selector", required_argument, NULL, OPT_SELECTOR },
	{ "checks", required_argument, NULL, OPT_CHECKS },
	{ "config-dir", required_argument, NULL, OPT_CONFIG_DIR },
	{ "resolver", required_argument, NULL, OPT_RESOLVER },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
	{ "list-checks", no_argument, NULL, OPT_LIST_CHECKS },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "jobs", required_argument, NULL, OPT_JOBS },
	{ "probe", no_argument, NULL, OPT_PROBE },
	{ "probe-source", required_argument, NULL, OPT_PROBE_SOURCE },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static const char usage_text[] =
"usage: why550 [--ip ADDR] [--helo NAME] [--from ADDR|DOMAIN] [--to ADDR]\n"
"              [--message FILE] [--bounce TEXT|@FILE] [--selector S]...\n"
"              [--checks NAME,...] [--config-dir DIR] [--resolver ADDR[:PORT]]...\n"
"              [--timeout SECONDS] [--format json|text] [--fail-on at_risk|blocked]\n"
"              [--verbose] [--batch FILE|-] [--jobs N] [--probe]\n"
"              [--probe-source ADDR]\n"
"              [--list-checks] [--version] [--help]\n";

static const char help_text[] =
"\n"
"Tells why a receiving mail server answers 550 Blocked (or soon will) for\n"
"mail from --ip with HELO --helo, envelope sender --from and recipient --to,\n"
"and what to fix first.\n"
"\n"
"  --ip ADDR          the sending IP address (IPv4 or IPv6)\n"
"  --helo NAME        the HELO/EHLO name, or an address literal [192.0.2.1]\n"
"  --from ADDR        the envelope sender (MAIL FROM), a domain, or '<>'\n"
"  --to ADDR          the recipient (RCPT TO)\n"
"  --message FILE     a sample message (for DKIM and DMARC)\n"
"  --bounce TEXT      the bounce text received, or @FILE to read it\n"
"  --selector S       a DKIM selector to check (repeatable)\n"
"  --checks LIST      run only these checks (see --list-checks)\n"
"  --config-dir DIR   the checks.d directory to read\n"
"  --resolver ADDR    a DNS resolver, ADDR[:PORT] or [IPv6]:PORT (repeatable);\n"
"                     default: the nameservers of /etc/resolv.conf\n"
"  --timeout SECONDS  deadline for one target (default 10)\n"
"  --format FORMAT    json or text (default: text on a terminal, else json)\n"
"  --fail-on LEVEL    at_risk: exit 1 when at risk; blocked (default): exit 0\n"
"  --verbose          the text report shows every finding\n"
"  --batch FILE       NDJSON targets, one per line ('-' for standard input);\n"
"                     one NDJSON result line per input line\n"
"  --jobs N           targets checked at once in batch mode (default 16)\n"
"  --probe            also ask the recipient's mail servers (check smtp): connects\n"
"                     to port 25 and goes up to RCPT TO, never DATA\n"
"  --probe-source ADDR  send the probe from this local address (implies --probe)\n"
"  --list-checks      print the checks and their configuration\n"
"\n"
"Exit status: 0 clean; 1 at risk (only with --fail-on at_risk); 2 blocked\n"
"likely; 3 inconclusive (DNS or the setup failed: no honest verdict);\n"
"64 usage error; 78 configuration error.\n";

static int
parse_timeout(const char *arg, double *out, struct error *err)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (end == arg || *end != '\0' || errno != 0 || !(v > 0) || v > 3600)
		return error_set(err, "--timeout: '%s' is not a positive number of seconds (up to 3600)",
		    arg);
	*out = v;
	return 0;
}

/* --probe-source: an address of this machine, one a socket can be bound to. */
static int
check_probe_source(const char *arg, struct error *err)
{
	struct sockaddr_storage ss;
	unsigned char addr[16];
	socklen_t len;
	int family, fd, ret = 0;

	if (net_ip_parse(arg, &family, addr) < 0)
		return error_set(err, "--probe-source: '%s' is not an IPv4 or IPv6 address", arg);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		memcpy(&((struct sockaddr_in *)&ss)->sin_addr, addr, 4);
	else
		memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, addr, 16);
	len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	if ((fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0)
		ret = error_set(err, "--probe-source: cannot send from '%s': %s", arg,
		    strerror(errno));
	if (fd >= 0)
		close(fd);
	return ret;
}

static int
parse_args(int argc, char **argv, struct options *o, struct error *err)
{
	int c;
	long v;
	char *end;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_IP:
			if (target_set_ip(&o->target, "--ip", optarg, err) < 0)
				return -1;
			o->any_input = true;
			break;
		case OPT_HELO:
			if (target_set_helo(&o->target, "--helo", optarg, err) < 0)
				return -1;
			o->any_input = true;
			break;
		case OPT_FROM:
			if (target_set_mail_from(&o->target, "--from", optarg, err) < 0)
				return -1;
			o->any_input = true;
			break;
		case OPT_TO:
			if (target_set_rcpt_to(&o->target, "--to", optarg, err) < 0)
				return -1;
			o->any_input = true;
			break;
		case OPT_MESSAGE:
			if (target_set_message_file(&o->target, "--message", optarg, err) < 0)
				return -1;
			o->any_input = true;
			break;
		case OPT_BOUNCE:
			if (target_set_bounce(&o->target, "--bounce", optarg, err) < 0)
				return -1;
			o->any_input = true;
			break;
		case OPT_SELECTOR:
			if (target_add_selector(&o->target, "--selector", optarg, err) < 0)
				return -1;
			break;
		case OPT_CHECKS:
			o->checks = optarg;
			break;
		case OPT_CONFIG_DIR:
			o->config_dir = optarg;
			break;
		case OPT_RESOLVER:
			if (o->nservers == DNS_MAX_SERVERS)
				return error_set(err, "--resolver: at most %d resolvers", DNS_MAX_SERVERS);
			if (dns_server_parse(optarg, &o->servers[o->nservers]) < 0)
				return error_set(err,
				    "--resolver: '%s' is not ADDR, ADDR:PORT or [IPv6]:PORT", optarg);
			o->nservers++;
			break;
		case OPT_TIMEOUT:
			if (parse_timeout(optarg, &o->timeout, err) < 0)
				return -1;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "json") == 0)
				o->format = FORMAT_JSON;
			else if (strcmp(optarg, "text") == 0)
				o->format = FORMAT_TEXT;
			else
				return error_set(err, "--format: '%s' is not json or text", optarg);
			break;
		case OPT_FAIL_ON:
			if (strcmp(optarg, "at_risk") == 0)
				o->fail_on_at_risk = true;
			else if (strcmp(optarg, "blocked") == 0)
				o->fail_on_at_risk = false;
			else
				return error_set(err, "--fail-on: '%s' is not at_risk or blocked", optarg);
			break;
		case OPT_LIST_CHECKS:
			o->list_checks = true;
			break;
		case OPT_VERBOSE:
			o->verbose = true;
			break;
		case OPT_BATCH:
			o->batch = optarg;
			break;
		case OPT_JOBS:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (end == optarg || *end != '\0' || errno != 0 || v < 1 || v > 256)
				return error_set(err, "--jobs: '%s' is not a number from 1 to 256", optarg);
			o->jobs = v;
			break;
		case OPT_PROBE:
			o->probe = true;
			break;
		case OPT_PROBE_SOURCE:
			if (check_probe_source(optarg, err) < 0)
				return -1;
			o->probe_source = optarg;
			o->probe = true;
			break;
		case OPT_VERSION:
			printf("why550 %s\n", WHY550_VERSION);
			exit(0);
		case OPT_HELP:
			fputs(usage_text, stdout);
			fputs(help_text, stdout);
			exit(0);
		default:
			if (optopt != 0 && optopt < 256)
				return error_set(err, "unknown option '-%c' (see --help)", optopt);
			return error_set(err, "unknown option or missing value: '%s' (see --help)",
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return error_set(err, "unexpected argument '%s' (see --help)", argv[optind]);
	if (o->batch != NULL && o->any_input)
		return error_set(err, "--batch: give the targets in the file, not as options");
	if (!o->any_input && o->batch == NULL && !o->list_checks)
		return error_set(err,
		    "nothing to check: give at least one of --ip, --helo, --from, --to, --message, --bounce");
	return 0;
}

/* The checks.d to read: --config-dir, else the installed one, else the one beside the binary's source tree. */
static char *
find_config_dir(const char *given)
{
	struct stat sb;
	char exe[PATH_MAX], *slash;
	ssize_t n;
	char *p;

	if (given != NULL)
		return xstrdup(given);
	p = xasprintf("%s/why550/checks.d", WHY550_SYSCONFDIR);
	if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
		return p;
	free(p);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash != NULL) {
			*slash = '\0';
			p = xasprintf("%s/../checks.d", exe);
			if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
				return p;
			free(p);
			p = xasprintf("%s/checks.d", exe);
			if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
				return p;
			free(p);
		}
	}
	return xstrdup("checks.d");
}

static int
print_result(const struct options *o, const struct run_result *res)
{
	struct text_options topt;
	const char *nc = getenv("NO_COLOR");
	enum format f = o->format;

	if (f == FORMAT_AUTO)
		f = isatty(STDOUT_FILENO) ? FORMAT_TEXT : FORMAT_JSON;
	if (f == FORMAT_JSON)
		return output_json_write(stdout, res, false);
	topt.color = isatty(STDOUT_FILENO) && (nc == NULL || nc[0] == '\0');
	topt.verbose = o->verbose;
	topt.width = 80;
	return output_text_write(stdout, res, &topt);
}

/*
 * --probe adds the smtp check to the checks that run (the default ones,
 * or those of --checks) in *only (fresh, or NULL when nothing changes);
 * --probe-source becomes its [smtp] source, after every checks.d file.
 */
static int
probe_config(const struct options *o, struct conf *conf, char **only, struct error *err)
{
	struct strbuf sb;
	char *text;
	size_t i;
	int ret;

	*only = NULL;
	if (!o->probe)
		return 0;
	strbuf_init(&sb);
	if (o->checks != NULL)
		strbuf_addf(&sb, "%s,smtp", o->checks);
	for (i = 0; o->checks == NULL && i < check_registry_len; i++)
		if (!check_registry[i]->opt_in || strcmp(check_registry[i]->name, "smtp") == 0)
			strbuf_addf(&sb, "%s%s", sb.len > 0 ? "," : "", check_registry[i]->name);
	*only = strbuf_detach(&sb, NULL);
	if (o->probe_source == NULL)
		return 0;
	text = xasprintf("[smtp]\nsource = %s\n", o->probe_source);
	ret = conf_load_file(conf, "--probe-source", text, err);
	free(text);
	return ret;
}

/*
 * Reads checks.d and configures the checks. NULL with the problem printed
 * and *ret set: 78 for bad configuration, 64 for an unknown --checks name.
 */
static struct runner *
configure(const struct options *o, struct conf **conf, int *ret)
{
	struct error err = { "" };
	struct runner *r = NULL;
	char *dir = find_config_dir(o->config_dir), *only = NULL;
	bool usage;

	*ret = EXIT_CONFIG;
	*conf = conf_new();
	if (conf_load_dir(*conf, dir, &err) < 0 || probe_config(o, *conf, &only, &err) < 0) {
		error("%s", err.msg);
		goto out;
	}
	if ((r = runner_new(*conf, only != NULL ? only : o->checks, &usage, &err)) == NULL) {
		error("%s", err.msg);
		*ret = usage ? EXIT_USAGE : EXIT_CONFIG;
	}
out:
	free(only);
	free(dir);
	return r;
}

static int
list_checks(struct runner *r)
{
	struct strbuf sb;

	strbuf_init(&sb);
	runner_describe(r, &sb);
	fputs(sb.buf != NULL ? sb.buf : "", stdout);
	strbuf_release(&sb);
	return 0;
}

/* The DNS engine on the --resolver servers, else those of /etc/resolv.conf; NULL with the problem printed. */
static struct dns_engine *
engine_start(const struct options *o)
{
	struct dns_config cfg;
	struct dns_engine *eng;
	char msg[256];
	int n;

	dns_config_init(&cfg);
	if (o->nservers > 0) {
		memcpy(cfg.servers, o->servers, sizeof(o->servers));
		cfg.nservers = o->nservers;
	} else {
		n = dns_servers_from_resolv_conf("/etc/resolv.conf", cfg.servers, DNS_MAX_SERVERS);
		if (n <= 0) {
			error("no resolver: /etc/resolv.conf has no usable nameserver; use --resolver");
			return NULL;
		}
		cfg.nservers = (size_t)n;
	}
	/* leave room for a retry within the deadline */
	if (cfg.attempt_timeout_ms > (int)(o->timeout * 1000 / 3))
		cfg.attempt_timeout_ms = (int)(o->timeout * 1000 / 3);
	if ((eng = dns_engine_new(&cfg, msg, sizeof(msg))) == NULL)
		error("%s", msg);
	return eng;
}

static int
run_batch(const struct options *o, struct runner *r, struct dns_engine *eng)
{
	struct batch_options bo = {
		.path = o->batch,
		.jobs = (size_t)o->jobs,
		.timeout_ms = (int)(o->timeout * 1000),
		.fail_on_at_risk = o->fail_on_at_risk,
		.progress = isatty(STDERR_FILENO),
	};

	return batch_run(r, eng, &bo);
}

/* Checks the target of the command line and prints the result; returns the exit code. */
static int
run_target(const struct options *o, struct runner *r, struct dns_engine *eng)
{
	struct run_result res;
	int ret;

	runner_run(r, eng, &o->target, (int)(o->timeout * 1000), &res);
	if (print_result(o, &res) < 0 || fflush(stdout) != 0) {
		error("cannot write the result: %s", strerror(errno));
		ret = EXIT_IOERR;
	} else {
		ret = verdict_exit_code(&res.verdict, o->fail_on_at_risk);
	}
	run_result_release(&res);
	return ret;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct error err = { "" };
	struct conf *conf = NULL;
	struct runner *r = NULL;
	struct dns_engine *eng = NULL;
	int ret = EXIT_USAGE;

	/* out of memory inside jansson ends the program like everywhere else */
	json_set_alloc_funcs(xmalloc, free);
	memset(&o, 0, sizeof(o));
	target_init(&o.target);
	o.timeout = 10;
	o.jobs = 16;
	if (parse_args(argc, argv, &o, &err) < 0) {
		error("%s", err.msg);
		fputs(usage_text, stderr);
		goto out;
	}
	if ((r = configure(&o, &conf, &ret)) == NULL)
		goto out;
	if (o.list_checks) {
		ret = list_checks(r);
		goto out;
	}
	/* a setup without a usable resolver is a configuration error */
	ret = EXIT_CONFIG;
	if ((eng = engine_start(&o)) == NULL)
		goto out;
	ret = o.batch != NULL ? run_batch(&o, r, eng) : run_target(&o, r, eng);
out:
	dns_engine_free(eng);
	runner_free(r);
	conf_free(conf);
	target_release(&o.target);
	return ret;
}
