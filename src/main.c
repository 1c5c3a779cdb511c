/* why550's command line: parse and validate the arguments, run the checks for the target, print the verdict. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checks/check.h"
#include "checks/dnsbl/dnsbl.h"
#include "core/net.h"
#include "dns/dns.h"
#include "output/output.h"
#include "src/batch.h"
#include "core/conf.h"
#include "src/runner.h"
#include "core/target.h"
#include "core/textsafe.h"
#include "core/util.h"

#define EXIT_USAGE	64
#define EXIT_IOERR	74
#define EXIT_CONFIG	78

/* How much of an argument a message quotes. */
#define SHOW_ARG	80

enum color {
	COLOR_AUTO = 0,		/* on a terminal, unless NO_COLOR is set */
	COLOR_ALWAYS,
	COLOR_NEVER,
};

/* Room in options.seen for every long option's value. */
#define SEEN_MAX	64
/* The column count the text report never goes below. */
#define TEXT_WIDTH_MIN	80

struct options {
	struct target target;
	bool any_input;
	const char *checks;
	const char *config_dir;
	struct dns_server servers[DNS_MAX_SERVERS];
	size_t nservers;
	double timeout;
	bool format_given;	/* else text on a terminal, json otherwise */
	enum output_format format;
	enum fail_on fail_on;
	bool strict_input;
	bool list_checks;
	bool verbose;
	const char *batch;
	long jobs;
	enum output_detail detail;
	long cache_max;		/* -1: checks.d's [dns], else the default */
	long max_inflight;	/* -1: the same */
	double max_qps;		/* -1: the same */
	int blocklist_txt;	/* -1: listed in batch mode, always else; 0 always; 1 listed */
	enum color color;
	char *dqs_key;			/* --dqs-key, a copy; never shown */
	const char **skip;		/* --skip-list zones */
	size_t nskip;
	bool seen[SEEN_MAX];		/* which single-valued options were given */
	const char *resume;
	unsigned long shard, nshards;
	bool help, version;
	bool probe;			/* --probe: run the smtp check too */
	const char *probe_source;
};

enum {
	OPT_IP = 256, OPT_HELO, OPT_FROM, OPT_TO, OPT_MESSAGE, OPT_BOUNCE, OPT_SELECTOR,
	OPT_CHECKS, OPT_CONFIG_DIR, OPT_RESOLVER, OPT_TIMEOUT, OPT_FORMAT, OPT_FAIL_ON,
	OPT_LIST_CHECKS, OPT_VERSION, OPT_HELP, OPT_VERBOSE, OPT_BATCH, OPT_JOBS,
	OPT_COLOR, OPT_DQS_KEY, OPT_SKIP_LIST, OPT_STRICT_INPUT,
	OPT_DETAIL, OPT_CACHE_MAX, OPT_MAX_INFLIGHT, OPT_MAX_QPS, OPT_BLOCKLIST_TXT,
	OPT_RESUME, OPT_SHARD, OPT_PROBE, OPT_PROBE_SOURCE,
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
	{ "detail", required_argument, NULL, OPT_DETAIL },
	{ "cache-max", required_argument, NULL, OPT_CACHE_MAX },
	{ "max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT },
	{ "max-qps", required_argument, NULL, OPT_MAX_QPS },
	{ "blocklist-txt", required_argument, NULL, OPT_BLOCKLIST_TXT },
	{ "color", required_argument, NULL, OPT_COLOR },
	{ "dqs-key", required_argument, NULL, OPT_DQS_KEY },
	{ "skip-list", required_argument, NULL, OPT_SKIP_LIST },
	{ "strict-input", no_argument, NULL, OPT_STRICT_INPUT },
	{ "resume", required_argument, NULL, OPT_RESUME },
	{ "shard", required_argument, NULL, OPT_SHARD },
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
"              [--timeout SECONDS] [--format json|text|junit|github|openmetrics]\n"
"              [--fail-on at_risk|inconclusive|blocked|never] [--verbose]\n"
"              [--color auto|always|never] [--batch FILE|-] [--jobs N]\n"
"              [--detail full|summary] [--cache-max N] [--max-inflight N]\n"
"              [--max-qps N] [--blocklist-txt always|listed]\n"
"              [--strict-input] [--resume FILE] [--shard I/N]\n"
"              [--dqs-key KEY] [--skip-list ZONE]...\n"
"              [--probe] [--probe-source ADDR]\n"
"              [--list-checks] [-V|--version] [-h|--help]\n";

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
"  --message FILE     a sample message (for DKIM and DMARC); '-' reads it from\n"
"                     standard input\n"
"  --bounce TEXT      the bounce text received, or @FILE to read it\n"
"  --selector S       a DKIM selector to check (repeatable)\n"
"  --checks LIST      run only these checks (see --list-checks)\n"
"  --config-dir DIR   the checks.d directory to read\n"
"  --resolver ADDR    a DNS resolver, ADDR[:PORT] or [IPv6]:PORT (repeatable);\n"
"                     default: the nameservers of /etc/resolv.conf\n"
"  --timeout SECONDS  deadline for one target (default 10)\n"
"  --format FORMAT    json, text, junit, github or openmetrics (default: text on\n"
"                     a terminal, else json); junit: JUnit XML; github: GitHub\n"
"                     Actions annotations and job summary; openmetrics: for\n"
"                     node_exporter's textfile collector\n"
"  --fail-on LEVEL    the least verdict that fails the run: at_risk,\n"
"                     inconclusive (the default), blocked, or never\n"
"  --verbose          the text report shows every finding\n"
"  --color WHEN       auto (default: on a terminal, unless NO_COLOR is set),\n"
"                     always or never\n"
"  --batch FILE       NDJSON targets, one per line ('-' for standard input);\n"
"                     one NDJSON result line per input line\n"
"  --jobs N           targets checked at once in batch mode (default 16)\n"
"  --resume FILE      batch mode: complete the earlier output FILE, appending\n"
"                     the lines it lacks to it\n"
"  --shard I/N        batch mode: only the input lines n with (n-1) % N == I\n"
"  --detail LEVEL     JSON output: full (default) or summary, one compact line\n"
"                     per target (verdict, causes, check statuses, listings)\n"
"  --cache-max N      DNS answers kept in the cache (default: [dns] in\n"
"                     checks.d, else 20000; 0: no cache)\n"
"  --max-inflight N   DNS questions waiting for a reply at once (default:\n"
"                     [dns] in checks.d, else 1024)\n"
"  --max-qps N        DNS questions sent per second at most, over all\n"
"                     servers (default: [dns] in checks.d, else no cap)\n"
"  --blocklist-txt W  ask a blocklist's TXT always, or only when its A answer\n"
"                     lists the subject (default: listed in batch mode)\n"
"  --strict-input     in batch mode, any line that is not a target exits 64\n"
"  --dqs-key KEY      a Spamhaus Data Query Service key: the Spamhaus lists are\n"
"                     asked as KEY.zen.dq.spamhaus.net and so on, which works\n"
"                     through public resolvers (also WHY550_DQS_KEY); never shown\n"
"  --skip-list ZONE   leave this blocklist out (repeatable)\n"
"  --probe            also ask the recipient's mail servers (check smtp): connects\n"
"                     to port 25 and goes up to RCPT TO, never DATA\n"
"  --probe-source ADDR  send the probe from this local address (implies --probe)\n"
"  --list-checks      print the checks and their configuration (with\n"
"                     --format json: as JSON)\n"
"  -V, --version      print the version\n"
"  -h, --help         print this help\n"
"\n"
"Options that take one value may be given once; --resolver, --selector and\n"
"--skip-list repeat.\n"
"\n"
"Exit status: 0 clean, or a verdict under --fail-on; 1 at risk (only with\n"
"--fail-on at_risk); 2 blocked likely (not with --fail-on never); 3 inconclusive\n"
"(DNS or the setup failed: no honest verdict; only with --fail-on at_risk or\n"
"inconclusive); 64 usage error; 71 out of memory, descriptors or threads;\n"
"74 output error; 78 configuration error.\n"
"Batch mode: the worst verdict over the valid lines; 64 when no line was\n"
"valid (any invalid line with --strict-input); 128+N stopped by signal N.\n";

/*
 * An argument as every message quotes it (the quoting of --ip): odd bytes
 * as \xHH, a long one cut with its length. Into buf, which it returns.
 */
static const char *
quoted(char *buf, size_t len, const char *arg)
{
	text_quote(buf, len, arg, strlen(arg), SHOW_ARG);
	return buf;
}

static int
parse_timeout(const char *arg, double *out, struct error *err)
{
	char shown[TEXT_QUOTE_SIZE(SHOW_ARG)];
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (end == arg || *end != '\0' || errno != 0 || !(v > 0) || v > 3600)
		return error_set(err, "--timeout: '%s' is not a positive number of seconds (up to 3600)",
		    quoted(shown, sizeof(shown), arg));
	*out = v;
	return 0;
}

/* A whole number from min to max for option opt. */
static int
parse_count(const char *opt, const char *arg, long min, long max, long *out, struct error *err)
{
	char shown[TEXT_QUOTE_SIZE(SHOW_ARG)];
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (end == arg || *end != '\0' || errno != 0 || v < min || v > max)
		return error_set(err, "%s: '%s' is not a number from %ld to %ld", opt,
		    quoted(shown, sizeof(shown), arg), min, max);
	*out = v;
	return 0;
}

static int
parse_qps(const char *arg, double *out, struct error *err)
{
	char shown[TEXT_QUOTE_SIZE(SHOW_ARG)];
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (end == arg || *end != '\0' || errno != 0 || !isfinite(v) || v < 0 || v > 1e7)
		return error_set(err, "--max-qps: '%s' is not a number of questions per second "
		    "from 0 (no cap) to 10000000", quoted(shown, sizeof(shown), arg));
	*out = v;
	return 0;
}

/* The options of output and of the DNS engine, the ones parse_args leaves to it. */
static int
parse_engine_arg(int c, const char *arg, struct options *o, struct error *err)
{
	char shown[TEXT_QUOTE_SIZE(SHOW_ARG)];

	switch (c) {
	case OPT_DETAIL:
		if (output_detail_parse(arg, &o->detail) < 0)
			return error_set(err, "--detail: '%s' is not full or summary",
			    quoted(shown, sizeof(shown), arg));
		return 0;
	case OPT_CACHE_MAX:
		return parse_count("--cache-max", arg, 0, 100000000, &o->cache_max, err);
	case OPT_MAX_INFLIGHT:
		return parse_count("--max-inflight", arg, 1, 65536, &o->max_inflight, err);
	case OPT_MAX_QPS:
		return parse_qps(arg, &o->max_qps, err);
	case OPT_BLOCKLIST_TXT:
		if (strcmp(arg, "always") == 0)
			o->blocklist_txt = 0;
		else if (strcmp(arg, "listed") == 0)
			o->blocklist_txt = 1;
		else
			return error_set(err, "--blocklist-txt: '%s' is not always or listed",
			    quoted(shown, sizeof(shown), arg));
		return 0;
	}
	return error_set(err, "unknown option (see --help)");
}

/* --checks: names of checks, [a-z0-9_], separated by commas; the runner knows which exist. */
static int
parse_checks(const char *arg, const char **out, struct error *err)
{
	char shown[TEXT_QUOTE_SIZE(SHOW_ARG)];
	size_t n = strlen(arg);

	if (n == 0 || n > 1024 || strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789_,") != n ||
	    arg[0] == ',' || arg[n - 1] == ',' || strstr(arg, ",,") != NULL)
		return error_set(err, "--checks: '%s' is not a list of check names like "
		    "rdns,spf (see --list-checks)", quoted(shown, sizeof(shown), arg));
	*out = arg;
	return 0;
}

/*
 * An option that takes one value, given twice, is an error: which of the
 * two was meant is a guess. --resolver, --selector and --skip-list repeat.
 */
static int
check_once(struct options *o, int c, struct error *err)
{
	size_t i;

	if (c == OPT_RESOLVER || c == OPT_SELECTOR || c == OPT_SKIP_LIST)
		return 0;
	for (i = 0; longopts[i].name != NULL; i++) {
		if (longopts[i].val != c || longopts[i].has_arg != required_argument ||
		    c - OPT_IP >= SEEN_MAX)
			continue;
		if (o->seen[c - OPT_IP])
			return error_set(err, "--%s: given more than once, but it takes one value",
			    longopts[i].name);
		o->seen[c - OPT_IP] = true;
	}
	return 0;
}

/* --dqs-key: kept as a copy, and wiped from argv so that ps shows it no longer. */
static int
take_dqs_key(struct options *o, char *arg, struct error *err)
{
	if (!dnsbl_key_valid(arg))
		return error_set(err, "--dqs-key: not a Data Query Service key (one label of "
		    "letters and digits, at most 63); the key is not shown");
	o->dqs_key = xstrdup(arg);
	explicit_bzero(arg, strlen(arg));
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
	char shown[TEXT_QUOTE_SIZE(SHOW_ARG)];
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		if (c == 'h')
			c = OPT_HELP;
		else if (c == 'V')
			c = OPT_VERSION;
		if (check_once(o, c, err) < 0)
			return -1;
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
			if (target_set_message_arg(&o->target, "--message", optarg, err) < 0)
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
			if (parse_checks(optarg, &o->checks, err) < 0)
				return -1;
			break;
		case OPT_CONFIG_DIR:
			o->config_dir = optarg;
			break;
		case OPT_RESOLVER:
			if (o->nservers == DNS_MAX_SERVERS)
				return error_set(err, "--resolver: at most %d resolvers", DNS_MAX_SERVERS);
			if (dns_server_parse(optarg, &o->servers[o->nservers]) < 0)
				return error_set(err,
				    "--resolver: '%s' is not ADDR, ADDR:PORT or [IPv6]:PORT",
				    quoted(shown, sizeof(shown), optarg));
			o->nservers++;
			break;
		case OPT_TIMEOUT:
			if (parse_timeout(optarg, &o->timeout, err) < 0)
				return -1;
			break;
		case OPT_FORMAT:
			if (output_format_parse(optarg, &o->format) < 0)
				return error_set(err, "--format: '%s' is not json, text, junit, github "
				    "or openmetrics", quoted(shown, sizeof(shown), optarg));
			o->format_given = true;
			break;
		case OPT_FAIL_ON:
			if (gate_fail_on_parse(optarg, &o->fail_on) < 0)
				return error_set(err, "--fail-on: '%s' is not at_risk, inconclusive, "
				    "blocked or never", quoted(shown, sizeof(shown), optarg));
			break;
		case OPT_STRICT_INPUT:
			o->strict_input = true;
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
			if (parse_count("--jobs", optarg, 1, 256, &o->jobs, err) < 0)
				return -1;
			break;
		case OPT_DETAIL:
		case OPT_CACHE_MAX:
		case OPT_MAX_INFLIGHT:
		case OPT_MAX_QPS:
		case OPT_BLOCKLIST_TXT:
			if (parse_engine_arg(c, optarg, o, err) < 0)
				return -1;
			break;
		case OPT_COLOR:
			if (strcmp(optarg, "auto") == 0)
				o->color = COLOR_AUTO;
			else if (strcmp(optarg, "always") == 0)
				o->color = COLOR_ALWAYS;
			else if (strcmp(optarg, "never") == 0)
				o->color = COLOR_NEVER;
			else
				return error_set(err, "--color: '%s' is not auto, always or never",
				    quoted(shown, sizeof(shown), optarg));
			break;
		case OPT_DQS_KEY:
			if (take_dqs_key(o, optarg, err) < 0)
				return -1;
			break;
		case OPT_SKIP_LIST:
			o->skip = xrealloc(o->skip, (o->nskip + 1) * sizeof(*o->skip));
			o->skip[o->nskip++] = optarg;
			break;
		case OPT_RESUME:
			o->resume = optarg;
			break;
		case OPT_SHARD:
			if (batch_parse_shard(optarg, &o->shard, &o->nshards, err) < 0)
				return -1;
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
			o->version = true;
			return 0;
		case OPT_HELP:
			o->help = true;
			return 0;
		default:
			if (optopt != 0 && optopt < 256) {
				char opt = (char)optopt;

				text_quote(shown, sizeof(shown), &opt, 1, 1);
				return error_set(err, "unknown option '-%s' (see --help)", shown);
			}
			return error_set(err, "unknown option or missing value: '%s' (see --help)",
			    quoted(shown, sizeof(shown), argv[optind - 1]));
		}
	}
	if (optind < argc)
		return error_set(err, "unexpected argument '%s' (see --help)",
		    quoted(shown, sizeof(shown), argv[optind]));
	if (o->batch != NULL && o->any_input)
		return error_set(err, "--batch: give the targets in the file, not as options");
	if (o->batch == NULL && (o->resume != NULL || o->nshards != 0))
		return error_set(err, "%s: only with --batch", o->resume != NULL ? "--resume" : "--shard");
	if (o->resume != NULL && o->format_given && o->format != OUTPUT_JSON)
		return error_set(err, "--resume: it completes NDJSON output, not --format %s",
		    output_format_name(o->format));
	if (o->batch != NULL && o->format_given && o->format == OUTPUT_TEXT)
		return error_set(err, "--format text: one target only; with --batch use json, junit, "
		    "github or openmetrics");
	if (o->probe && o->batch == NULL && o->target.rcpt_to == NULL)
		return error_set(err, "%s: give --to, the recipient whose mail servers the probe asks",
		    o->probe_source != NULL ? "--probe-source" : "--probe");
	if (!o->any_input && o->batch == NULL && !o->list_checks)
		return error_set(err,
		    "nothing to check: give at least one of --ip, --helo, --from, --to, --message, --bounce");
	return 0;
}

static bool
is_dir(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/*
 * The checks.d to read: --config-dir, else the first folder that exists
 * of the installed one (SYSCONFDIR/why550/checks.d), the one of the prefix
 * the binary sits in (BINDIR/../etc/why550/checks.d: a tree installed
 * with one prefix and moved, or built for another), the source tree's (a
 * binary in build/) and ./checks.d. NULL with err naming every path
 * tried.
 */
static char *
find_config_dir(const char *given, struct error *err)
{
	char exe[PATH_MAX], *slash, *tried[6];
	struct strbuf list;
	size_t n = 0, i;
	ssize_t len;
	char *found = NULL;

	if (given != NULL)
		return xstrdup(given);
	tried[n++] = xasprintf("%s/why550/checks.d", WHY550_SYSCONFDIR);
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len > 0) {
		exe[len] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			tried[n++] = xasprintf("%s/../etc/why550/checks.d", exe);
			tried[n++] = xasprintf("%s/../checks.d", exe);
			tried[n++] = xasprintf("%s/checks.d", exe);
		}
	}
	tried[n++] = xstrdup("checks.d");
	strbuf_init(&list);
	for (i = 0; i < n; i++) {
		if (found == NULL && is_dir(tried[i])) {
			found = tried[i];
			continue;
		}
		strbuf_addf(&list, "%s%s", list.len > 0 ? ", " : "", tried[i]);
		free(tried[i]);
	}
	if (found == NULL)
		error_set(err, "cannot find checks.d: tried %s; give the folder with --config-dir DIR",
		    list.buf);
	strbuf_release(&list);
	return found;
}

/*
 * Colour for the text report: --color always or never as said; auto only
 * on a terminal and without NO_COLOR (https://no-color.org: an explicit
 * option wins over the variable).
 */
static bool
use_color(const struct options *o)
{
	const char *nc = getenv("NO_COLOR");

	if (o->color != COLOR_AUTO)
		return o->color == COLOR_ALWAYS;
	return isatty(STDOUT_FILENO) && (nc == NULL || nc[0] == '\0');
}

/* The terminal's columns when standard output is one and wider than 80; else 80. */
static int
text_width(void)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col > TEXT_WIDTH_MIN)
		return ws.ws_col;
	return TEXT_WIDTH_MIN;
}

/* The format of the result: --format, else text for one target on a terminal and JSON otherwise. */
static enum output_format
result_format(const struct options *o)
{
	if (o->format_given)
		return o->format;
	return o->batch == NULL && isatty(STDOUT_FILENO) ? OUTPUT_TEXT : OUTPUT_JSON;
}

/* The output stream for the run on standard output; NULL with the problem printed. */
static struct output_stream *
open_output(const struct options *o)
{
	struct output_options oo;
	struct output_stream *s;
	struct error err = { "" };
	const char *summary = getenv("GITHUB_STEP_SUMMARY");

	memset(&oo, 0, sizeof(oo));
	oo.format = result_format(o);
	oo.fail_on = o->fail_on;
	oo.batch = o->batch != NULL;
	oo.text.color = use_color(o);
	oo.text.verbose = o->verbose;
	oo.text.width = text_width();
	oo.detail = o->detail;
	/* the runner sets it to a file of the step; empty or unset: no summary */
	if (oo.format == OUTPUT_GITHUB && summary != NULL && summary[0] != '\0')
		oo.summary_path = summary;
	if ((s = output_stream_new(&oo, stdout, &err)) == NULL)
		error("%s", err.msg);
	return s;
}

/* True if the comma-separated list only (NULL: every check) names the check name[0..len). */
static bool
selected(const char *only, const char *name, size_t len)
{
	const char *p = only, *end;

	for (; p != NULL; p = end != NULL ? end + 1 : NULL) {
		end = strchr(p, ',');
		if ((end != NULL ? (size_t)(end - p) : strlen(p)) == len && strncmp(p, name, len) == 0)
			return true;
	}
	return only == NULL;
}

/*
 * A checks.d in which no section belongs to a check that is to run (its
 * own section, or a [verdict "check/..."] rule for it) configures
 * nothing: running would report on defaults nobody chose, so it is
 * refused like a broken file.
 */
static int
check_configured(const struct conf *conf, const char *dir, const char *only, struct error *err)
{
	char shown[TEXT_QUOTE_SIZE(SHOW_ARG)], *check;
	const char *name;
	size_t i, len;
	bool known;

	for (i = 0; i < conf->nsections; i++) {
		name = conf->sections[i].name;
		if (strcmp(name, "verdict") == 0 && conf->sections[i].label != NULL)
			name = conf->sections[i].label;
		len = strcspn(name, "./");
		if (!selected(only, name, len))
			continue;
		check = xstrndup(name, len);
		known = check_find(check) != NULL;
		free(check);
		if (known)
			return 0;
	}
	text_quote(shown, sizeof(shown), dir, strlen(dir), SHOW_ARG);
	return error_set(err, "%s: configures none of the checks to run: no section of "
	    "checks.d names one (see --list-checks)", shown);
}

/*
 * The command line's and the environment's settings of checks.d, read
 * after the files so that they win: the DQS key (--dqs-key, else
 * WHY550_DQS_KEY) and --skip-list. -1 with err and *usage set for a bad
 * option (64), clear for a bad environment variable (78).
 */
static int
configure_overrides(const struct options *o, struct conf *conf, bool *usage,
    struct error *err)
{
	const char *env = getenv("WHY550_DQS_KEY");
	const char *key = o->dqs_key;
	struct strbuf sb;
	size_t i;
	int ret = -1;

	*usage = true;
	for (i = 0; i < o->nskip; i++)
		if (!dnsbl_conf_names_list(conf, o->skip[i])) {
			char shown[TEXT_QUOTE_SIZE(SHOW_ARG)];

			return error_set(err, "--skip-list: no list '%s' in checks.d (see --list-checks)",
			    quoted(shown, sizeof(shown), o->skip[i]));
		}
	if (key == NULL && env != NULL && env[0] != '\0') {
		*usage = false;
		if (!dnsbl_key_valid(env))
			return error_set(err, "WHY550_DQS_KEY: not a Data Query Service key (one "
			    "label of letters and digits, at most 63); the key is not shown");
		key = env;
	}
	strbuf_init(&sb);
	strbuf_addstr(&sb, "[dnsbl]\n");
	for (i = 0; i < o->nskip; i++)
		strbuf_addf(&sb, "skip_list = %s\n", o->skip[i]);
	if (key != NULL)
		strbuf_addf(&sb, "dqs_key = %s\n", key);
	*usage = false;
	if (conf_load_file(conf, "the command line", sb.buf, err) == 0)
		ret = 0;
	explicit_bzero(sb.buf, sb.len);
	strbuf_release(&sb);
	return ret;
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
 * Reads checks.d, its [dns] into dcfg, and configures the checks. NULL
 * with the problem printed and *ret set: 78 for bad configuration, 64 for
 * an unknown --checks name.
 */
static struct runner *
configure(const struct options *o, struct conf **conf, char **dirp, struct dns_config *dcfg,
    int *ret)
{
	struct error err = { "" };
	struct runner *r = NULL;
	char *dir = find_config_dir(o->config_dir, &err), *only = NULL;
	bool usage;

	*ret = EXIT_CONFIG;
	*conf = conf_new();
	if (dir == NULL) {
		error("%s", err.msg);
		goto out;
	}
	dns_config_init(dcfg);
	if (conf_load_dir(*conf, dir, &err) < 0 || dns_config_read(dcfg, *conf, &err) < 0) {
		error("%s", err.msg);
		goto out;
	}
	if ((o->nskip > 0 || o->dqs_key != NULL || getenv("WHY550_DQS_KEY") != NULL) &&
	    configure_overrides(o, *conf, &usage, &err) < 0) {
		error("%s", err.msg);
		*ret = usage ? EXIT_USAGE : EXIT_CONFIG;
		goto out;
	}
	if (probe_config(o, *conf, &only, &err) < 0) {
		error("%s", err.msg);
		goto out;
	}
	if ((r = runner_new(*conf, only != NULL ? only : o->checks, &usage, &err)) == NULL) {
		error("%s", err.msg);
		*ret = usage ? EXIT_USAGE : EXIT_CONFIG;
		goto out;
	}
	if (check_configured(*conf, dir, only != NULL ? only : o->checks, &err) < 0) {
		error("%s", err.msg);
		runner_free(r);
		r = NULL;
	}
out:
	free(only);
	*dirp = dir;
	return r;
}

/* Writes text to standard output and flushes it: 0, or 74 with the problem printed. */
static int
print_out(const char *text)
{
	if (fputs(text, stdout) == EOF || fflush(stdout) == EOF) {
		error("cannot write to standard output: %s", strerror(errno));
		return EXIT_IOERR;
	}
	return 0;
}

/* --list-checks: text, or with --format json one document (docs/why550.schema.json). */
static int
list_checks(const struct options *o, struct runner *r, const char *dir)
{
	struct strbuf sb;
	json_t *doc;
	char *text, *line;
	int ret;

	if (o->format_given && o->format == OUTPUT_JSON) {
		doc = json_pack("{s:s,s:s,s:o,s:o}", "schema", WHY550_SCHEMA,
		    "version", WHY550_VERSION, "config_dir", json_str(dir),
		    "checks", runner_describe_json(r));
		text = json_dumps(doc, JSON_PRESERVE_ORDER | JSON_INDENT(2));
		json_decref(doc);
		line = xasprintf("%s\n", text != NULL ? text : "");
		ret = print_out(line);
		free(line);
		free(text);
		return ret;
	}
	strbuf_init(&sb);
	runner_describe(r, &sb);
	ret = print_out(sb.buf != NULL ? sb.buf : "");
	strbuf_release(&sb);
	return ret;
}

/* --help and --version. */
static int
print_info(const struct options *o)
{
	char *text;
	int ret;

	if (o->version)
		text = xasprintf("why550 %s\n", WHY550_VERSION);
	else
		text = xasprintf("%s%s", usage_text, help_text);
	ret = print_out(text);
	free(text);
	return ret;
}

/* A warning of the DNS engine (a daily budget nearly spent) for the person running us. */
static void
engine_warn(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "why550: warning: %s\n", msg);
}

/*
 * The DNS engine on the --resolver servers, else those of /etc/resolv.conf,
 * with base (the [dns] of checks.d) under the options that override it;
 * NULL with the problem printed.
 */
static struct dns_engine *
engine_start(const struct options *o, const struct dns_config *base)
{
	struct dns_config cfg = *base;
	struct dns_engine *eng;
	char msg[256];
	int n;

	if (o->cache_max >= 0)
		cfg.cache_max = (size_t)o->cache_max;
	if (o->max_inflight >= 0)
		cfg.max_inflight = (size_t)o->max_inflight;
	if (o->max_qps >= 0)
		cfg.max_qps = o->max_qps;
	/* a batch spares the lists a TXT question per target that is not listed */
	cfg.spare_queries = o->blocklist_txt >= 0 ? o->blocklist_txt == 1 : o->batch != NULL;
	cfg.warn = engine_warn;
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

/*
 * The stop signals stay blocked in every thread but the main one: they
 * are created with the mask, and batch mode handles the signals there.
 */
static void
signals_block(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
}

/* The workers for one target: 71 when not one thread can be created, else 0. */
static int
workers_start(struct runner *r)
{
	struct error err = { "" };
	size_t want = runner_pool_size(r, 1), got;

	if (runner_start(r, want, &got, &err) < 0) {
		error("%s", err.msg);
		return EXIT_OSERR;
	}
	if (got < want)
		error("warning: %s; going on with %zu", err.msg, got);
	return 0;
}

/*
 * Names on standard error each resolver that answered no query, so that a
 * dead one is not taken for slow DNS (the text report names them itself).
 */
static void
warn_silent(struct dns_engine *eng)
{
	struct dns_server_stats st[DNS_MAX_SERVERS];
	size_t n = 0, i;

	dns_engine_stats(eng, NULL, st, DNS_MAX_SERVERS, &n);
	for (i = 0; i < n; i++)
		if (dns_server_stats_silent(&st[i]))
			error("%.*s answered no query (%llu sent): is the resolver running, and at "
			    "that address?", (int)sizeof(st[i].label), st[i].label,
			    (unsigned long long)st[i].sent);
}

static int
run_batch(const struct options *o, struct runner *r, struct dns_engine *eng)
{
	struct batch_options bo = {
		.path = o->batch,
		.jobs = (size_t)o->jobs,
		.timeout_ms = (int)(o->timeout * 1000),
		.fail_on = o->fail_on,
		.strict_input = o->strict_input,
		.progress = isatty(STDERR_FILENO),
		.resume = o->resume,
		.detail = o->detail,
		.shard = o->shard,
		.nshards = o->nshards,
	};
	bool abandoned;
	int ret;

	/* with --resume the results go to that file, as NDJSON */
	if (o->resume == NULL && (bo.out = open_output(o)) == NULL)
		return EXIT_IOERR;
	ret = batch_run(r, eng, &bo, &abandoned);
	/* a second signal left checks running on the engine: end here, not under them */
	if (abandoned)
		_exit(ret);
	output_stream_free(bo.out);
	warn_silent(eng);
	return ret;
}

/* Checks the target of the command line and prints the result; returns the exit code. */
static int
run_target(const struct options *o, struct runner *r, struct dns_engine *eng)
{
	struct output_stream *s;
	struct output_item *item;
	struct error err = { "" };
	struct run_result res;
	int ret;

	if ((s = open_output(o)) == NULL)
		return EXIT_IOERR;
	runner_run(r, eng, &o->target, (int)(o->timeout * 1000), &res);
	/* rendered first: only the writing holds the output */
	item = output_stream_render(s, &res, 0);
	output_begin();
	output_stream_put(s, item);
	if (output_stream_finish(s, &err) < 0) {
		error("%s", err.msg);
		ret = EXIT_IOERR;
	} else {
		ret = gate_exit_code(res.verdict.status, o->fail_on);
	}
	output_end();
	if (result_format(o) != OUTPUT_TEXT)
		warn_silent(eng);
	run_result_release(&res);
	output_stream_free(s);
	return ret;
}

/*
 * Batch mode starts a pool of up to a few hundred workers (--jobs), and
 * glibc gives each thread a cache of freed blocks (tcache) that it keeps
 * for itself: at --jobs 128 those caches held half of the process's
 * memory (bench/batch.sh: 86 MB, 40 MB without them, no slower). The
 * tunable that turns them off is read only when a program starts, so a
 * batch re-executes itself once with glibc.malloc.tcache_count=0 put in
 * front of GLIBC_TUNABLES. A GLIBC_TUNABLES that already sets tcache_count is kept
 * as it is (that is how to have the caches back), and so is a run under
 * valgrind, whose own allocator takes the place of glibc's. If the
 * program cannot be executed again it goes on as it is.
 */
static void
batch_without_thread_caches(char **argv)
{
	static const char tunable[] = "glibc.malloc.tcache_count=0";
	const char *old = getenv("GLIBC_TUNABLES");
	const char *preload = getenv("LD_PRELOAD");
	char *now;

	if ((old != NULL && strstr(old, "glibc.malloc.tcache_count") != NULL) ||
	    (preload != NULL && strstr(preload, "vgpreload") != NULL))
		return;
	now = old != NULL && old[0] != '\0' ? xasprintf("%s:%s", tunable, old) :
	    xasprintf("%s", tunable);
	if (setenv("GLIBC_TUNABLES", now, 1) == 0)
		execv("/proc/self/exe", argv);
	/* not executed again: the same program, with the caches */
	if (old != NULL)
		setenv("GLIBC_TUNABLES", old, 1);
	else
		unsetenv("GLIBC_TUNABLES");
	free(now);
}

int
main(int argc, char **argv)
{
	struct options o;
	struct error err = { "" };
	struct conf *conf = NULL;
	struct runner *r = NULL;
	struct dns_engine *eng = NULL;
	struct dns_config dcfg;
	char *dir = NULL;
	struct error terr = { "" };
	sigset_t stop;
	int ret = EXIT_USAGE;

	/* a reader that closes the output is a failed write (74), not a silent end */
	signal(SIGPIPE, SIG_IGN);
	/* out of memory inside jansson ends the program like everywhere else */
	json_set_alloc_funcs(xmalloc, free);
	resource_watch_aborts();
	memset(&o, 0, sizeof(o));
	target_init(&o.target);
	o.timeout = 10;
	o.jobs = 16;
	o.cache_max = o.max_inflight = -1;
	o.max_qps = -1;
	o.blocklist_txt = -1;
	if (parse_args(argc, argv, &o, &err) < 0) {
		error("%s", err.msg);
		fputs(usage_text, stderr);
		goto out;
	}
	if (o.help || o.version) {
		ret = print_info(&o);
		goto out;
	}
	if (o.batch != NULL)
		batch_without_thread_caches(argv);
	if ((r = configure(&o, &conf, &dir, &dcfg, &ret)) == NULL)
		goto out;
	if (o.list_checks) {
		ret = list_checks(&o, r, dir);
		goto out;
	}
	signals_block(&stop);
	/* a setup without a usable resolver is a configuration error, without threads an OS one */
	ret = EXIT_CONFIG;
	if ((eng = engine_start(&o, &dcfg)) == NULL) {
		if (runner_thread_probe(&terr) < 0) {
			error("%s", terr.msg);
			ret = EXIT_OSERR;
		}
		goto out;
	}
	if (o.batch != NULL) {
		ret = run_batch(&o, r, eng);
	} else if ((ret = workers_start(r)) == 0) {
		pthread_sigmask(SIG_UNBLOCK, &stop, NULL);
		ret = run_target(&o, r, eng);
	}
out:
	dns_engine_free(eng);
	runner_free(r);
	conf_free(conf);
	target_release(&o.target);
	free(dir);
	free(o.skip);
	if (o.dqs_key != NULL)
		explicit_bzero(o.dqs_key, strlen(o.dqs_key));
	free(o.dqs_key);
	return ret;
}
