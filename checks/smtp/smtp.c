/* Check smtp: asks the recipient's own mail servers (opt-in: --probe) and reads their answer up to RCPT TO. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/bounce/classify.h"
#include "checks/check.h"
#include "checks/domain/mx.h"
#include "checks/domain/recipient_addr.h"
#include "checks/smtp/pace.h"
#include "checks/smtp/probe.h"
#include "checks/smtp/tls.h"
#include "core/net.h"
#include "core/textsafe.h"

/* The probe ends this long before the target's deadline, so that its report is in time. */
#define DEADLINE_MARGIN_MS	150
/* Without a target deadline (a library caller), the probe takes this long at most. */
#define NO_DEADLINE_MS		120000
/* Addresses remembered for pacing across the targets of a run. */
#define PACE_KEYS		4096
#define MAX_CONTROL		8
/* Bytes of a reply quoted in a finding's message. */
#define EXCERPT			160

struct smtp_conf {
	struct smtp_probe_conf probe;
	int control_ports[MAX_CONTROL];
	struct smtp_addr control_hosts[MAX_CONTROL];
	int control_host_ports[MAX_CONTROL];
	long max_hosts, max_addresses;
	bool ipv4, ipv6;
	bool have_source;
	struct smtp_addr source;
	double min_interval, backoff_421;
	struct smtp_tls_ctx *tls;
	struct smtp_pace *pace;		/* shared by every target of the run */
	struct bounce_rules *rules;	/* the bounce classifier's, for the replies */
};

static const char *const smtp_keys[] = {
	"port", "connect_timeout", "banner_timeout", "command_timeout", "tls_timeout",
	"control_timeout", "starttls", "max_hosts", "max_addresses", "ipv4", "ipv6",
	"control_port", "control_host", "min_interval", "backoff_421", "source", NULL,
};

static void
smtp_free(void *ctx)
{
	struct smtp_conf *c = ctx;

	if (c == NULL)
		return;
	smtp_tls_ctx_free(c->tls);
	smtp_pace_free(c->pace);
	bounce_rules_free(c->rules);
	free(c);
}

/* A time in seconds from key, into *ms: 0 when absent (ms untouched) or good, -1 with err. */
static int
get_seconds(const struct conf_section *sec, const char *key, double max, int *ms,
    bool zero_ok, struct error *err)
{
	double v;
	int r = conf_section_get_double(sec, key, &v, err);

	if (r != 0)
		return r < 0 ? -1 : 0;
	if (!(v >= 0) || (!zero_ok && v == 0) || v > max)
		return conf_error(sec, NULL, err, "%s = %g: want %s seconds up to %g", key, v,
		    zero_ok ? "0 or more" : "more than 0", max);
	*ms = (int)(v * 1000);
	return 0;
}

/* An address from text: 0, or -1 naming file:line. */
static int
parse_addr(const struct conf_section *sec, const struct conf_entry *e, const char *text,
    struct smtp_addr *out, struct error *err)
{
	unsigned char addr[16];
	int family;

	if (net_ip_parse(text, &family, addr) < 0)
		return conf_error(sec, e, err, "%s '%s' is not an IPv4 or IPv6 address", e->key,
		    text);
	smtp_addr_set(out, family, addr);
	return 0;
}

/* control_host = ADDR:PORT or [IPv6]:PORT. */
static int
add_control_host(struct smtp_conf *c, const struct conf_section *sec,
    const struct conf_entry *e, struct error *err)
{
	const char *v = e->value, *colon = strrchr(v, ':');
	char host[INET6_ADDRSTRLEN + 2];
	char *end;
	long port;
	size_t n;

	if (c->probe.ncontrol_hosts == MAX_CONTROL)
		return conf_error(sec, e, err, "at most %d control_host lines", MAX_CONTROL);
	if (v[0] == '[')
		colon = strstr(v, "]:") != NULL ? strstr(v, "]:") + 1 : NULL;
	port = colon != NULL ? strtol(colon + 1, &end, 10) : 0;
	if (colon == NULL || colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535)
		return conf_error(sec, e, err, "control_host '%s' is not ADDR:PORT or [IPv6]:PORT", v);
	n = (size_t)(colon - v);
	if (v[0] == '[') {
		v++;
		n -= 2;
	}
	if (n >= sizeof(host))
		return conf_error(sec, e, err, "control_host '%s': the address is too long", e->value);
	memcpy(host, v, n);
	host[n] = '\0';
	if (parse_addr(sec, e, host, &c->control_hosts[c->probe.ncontrol_hosts], err) < 0)
		return -1;
	c->control_host_ports[c->probe.ncontrol_hosts++] = (int)port;
	return 0;
}

static int
add_control_port(struct smtp_conf *c, const struct conf_section *sec,
    const struct conf_entry *e, struct error *err)
{
	char *end;
	long port = strtol(e->value, &end, 10);

	if (end == e->value || *end != '\0' || port < 1 || port > 65535)
		return conf_error(sec, e, err, "control_port '%s' is not a port number", e->value);
	if (c->probe.ncontrol_ports == MAX_CONTROL)
		return conf_error(sec, e, err, "at most %d control_port lines", MAX_CONTROL);
	c->control_ports[c->probe.ncontrol_ports++] = (int)port;
	return 0;
}

/*
 * The lists of a section (a section that names control ports or hosts
 * replaces the earlier list), and the source.
 */
static int
read_lists(struct smtp_conf *c, const struct conf_section *sec, struct error *err)
{
	bool ports = false, hosts = false;
	size_t i;

	for (i = 0; i < sec->nentries; i++) {
		const struct conf_entry *e = &sec->entries[i];

		if (strcmp(e->key, "control_port") == 0) {
			if (!ports)
				c->probe.ncontrol_ports = 0;
			ports = true;
			if (e->value[0] != '\0' && add_control_port(c, sec, e, err) < 0)
				return -1;
		} else if (strcmp(e->key, "control_host") == 0) {
			if (!hosts)
				c->probe.ncontrol_hosts = 0;
			hosts = true;
			if (e->value[0] != '\0' && add_control_host(c, sec, e, err) < 0)
				return -1;
		} else if (strcmp(e->key, "source") == 0) {
			c->have_source = e->value[0] != '\0';
			if (c->have_source && parse_addr(sec, e, e->value, &c->source, err) < 0)
				return -1;
		}
	}
	return 0;
}

static int
read_section(struct smtp_conf *c, const struct conf_section *sec, struct error *err)
{
	struct smtp_probe_conf *p = &c->probe;
	int interval = (int)(c->min_interval * 1000), backoff = (int)(c->backoff_421 * 1000);
	long port = p->port;

	if (sec->label != NULL)
		return conf_error(sec, NULL, err, "[smtp] takes no label");
	if (conf_section_check_keys(sec, smtp_keys, err) < 0 ||
	    conf_section_get_int(sec, "port", 1, 65535, &port, err) < 0 ||
	    get_seconds(sec, "connect_timeout", 600, &p->connect_ms, false, err) < 0 ||
	    get_seconds(sec, "banner_timeout", 600, &p->banner_ms, false, err) < 0 ||
	    get_seconds(sec, "command_timeout", 600, &p->command_ms, false, err) < 0 ||
	    get_seconds(sec, "tls_timeout", 600, &p->tls_ms, false, err) < 0 ||
	    get_seconds(sec, "control_timeout", 600, &p->control_ms, false, err) < 0 ||
	    get_seconds(sec, "min_interval", 3600, &interval, true, err) < 0 ||
	    get_seconds(sec, "backoff_421", 86400, &backoff, true, err) < 0 ||
	    conf_section_get_bool(sec, "starttls", &p->starttls, err) < 0 ||
	    conf_section_get_int(sec, "max_hosts", 1, 20, &c->max_hosts, err) < 0 ||
	    conf_section_get_int(sec, "max_addresses", 1, 10, &c->max_addresses, err) < 0 ||
	    conf_section_get_bool(sec, "ipv4", &c->ipv4, err) < 0 ||
	    conf_section_get_bool(sec, "ipv6", &c->ipv6, err) < 0 ||
	    read_lists(c, sec, err) < 0)
		return -1;
	if (!c->ipv4 && !c->ipv6)
		return conf_error(sec, NULL, err, "ipv4 and ipv6 are both off: the probe could "
		    "connect nowhere");
	p->port = (int)port;
	c->min_interval = interval / 1000.0;
	c->backoff_421 = backoff / 1000.0;
	return 0;
}

static int
smtp_configure(void **ctx, const struct conf *conf, struct error *err)
{
	struct smtp_conf *c = xcalloc(1, sizeof(*c));
	const struct conf_section *sec = NULL;

	c->probe = (struct smtp_probe_conf){
		.port = 25, .connect_ms = 5000, .banner_ms = 10000, .command_ms = 10000,
		.tls_ms = 10000, .starttls = true, .control_ms = 3000,
		.control_ports = c->control_ports, .control_hosts = c->control_hosts,
		.control_host_ports = c->control_host_ports,
	};
	c->max_hosts = 3;
	c->max_addresses = 2;
	c->ipv4 = c->ipv6 = true;
	c->min_interval = 1;
	c->backoff_421 = 300;
	c->rules = bounce_rules_new();
	while ((sec = conf_next(conf, sec, "smtp")) != NULL)
		if (read_section(c, sec, err) < 0)
			goto fail;
	if (bounce_rules_load(c->rules, conf, err) < 0 || (c->tls = smtp_tls_ctx_new(err)) == NULL)
		goto fail;
	c->pace = smtp_pace_new((int)(c->min_interval * 1000), (int)(c->backoff_421 * 1000),
	    PACE_KEYS);
	*ctx = c;
	return 0;
fail:
	smtp_free(c);
	return -1;
}

static void
smtp_describe(const void *ctx, struct strbuf *out)
{
	const struct smtp_conf *c = ctx;
	size_t i;

	strbuf_addf(out, "  opt-in: runs only with --probe or --checks smtp\n"
	    "  port %d; up to %ld MX hosts, %ld addresses each (%s%s%s); STARTTLS %s\n"
	    "  timeouts: connect %.1f s, banner %.1f s, command %.1f s, TLS %.1f s\n"
	    "  one connection at a time per address, %.1f s apart; %.0f s of rest after 421\n",
	    c->probe.port, c->max_hosts, c->max_addresses, c->ipv4 ? "IPv4" : "",
	    c->ipv4 && c->ipv6 ? ", " : "", c->ipv6 ? "IPv6" : "",
	    c->probe.starttls ? "when offered" : "off", c->probe.connect_ms / 1000.0,
	    c->probe.banner_ms / 1000.0, c->probe.command_ms / 1000.0, c->probe.tls_ms / 1000.0,
	    c->min_interval, c->backoff_421);
	strbuf_addf(out, "  control connection when port 25 times out (%.1f s): ports",
	    c->probe.control_ms / 1000.0);
	for (i = 0; i < c->probe.ncontrol_ports; i++)
		strbuf_addf(out, " %d", c->control_ports[i]);
	for (i = 0; i < c->probe.ncontrol_hosts; i++)
		strbuf_addf(out, ", %s port %d", c->control_hosts[i].text,
		    c->control_host_ports[i]);
	strbuf_addf(out, "\n  source: %s\n", c->have_source ? c->source.text :
	    "the system's choice");
}


/* One target's probe. */
struct run {
	const struct smtp_conf *c;
	const struct target *t;
	struct dns *dns;
	struct report *rep;
	int64_t deadline;
	char *mail_from;		/* the reverse-path, inside <> */
	char *rcpt_to;			/* the forward-path, inside <> */
	char *domain;			/* the recipient domain, A-labels */
	struct domain_mail dm;
	struct smtp_probe_host *hosts;
	size_t nhosts;
	struct smtp_addr *addrs;	/* the hosts' addresses, in one array */
	size_t naddrs;
	bool families_dropped;		/* addresses left out for their family */
	char helo_for[INET6_ADDRSTRLEN];	/* the address helo_name was found for */
	char *helo_name;
	struct smtp_probe probe;
};

/* RFC 5321 4.5.3.1.3: a path is at most 256 octets; CR, LF and controls would cut the command. */
static bool
sendable(const char *path)
{
	const unsigned char *p;

	if (strlen(path) > 254)
		return false;
	for (p = (const unsigned char *)path; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* The reverse-path: the null sender for none, postmaster@ a bare domain (as RFC 7208 2.4 does). */
static char *
reverse_path(const struct target *t)
{
	const char *m = t->mail_from;
	size_t n;

	if (m == NULL || t->null_sender)
		return xstrdup("");
	if (t->mail_local == NULL)
		return xasprintf("postmaster@%s", t->mail_domain);
	n = strlen(m);
	if (n >= 2 && m[0] == '<' && m[n - 1] == '>')
		return xstrndup(m + 1, n - 2);
	return xstrdup(m);
}

/* The envelope to send; false (the report says why) when there is none. */
static bool
envelope(struct run *r)
{
	struct recipient_addr a;
	bool ok = false;

	if (recipient_addr_parse(r->t->rcpt_to, strlen(r->t->rcpt_to), &a) < 0) {
		report_skip(r->rep, "the recipient address is not valid (%s)", a.detail);
		goto out;
	}
	r->domain = xstrdup(a.domain_ascii);
	r->rcpt_to = xasprintf("%s@%s", a.local, a.literal ? a.domain : a.domain_ascii);
	r->mail_from = reverse_path(r->t);
	if (!sendable(r->rcpt_to) || !sendable(r->mail_from)) {
		report_skip(r->rep, "an address has bytes an SMTP command cannot carry");
		goto out;
	}
	ok = true;
out:
	recipient_addr_release(&a);
	return ok;
}

/* The address families to try, in order: the source's only, else the sending IP's first. */
static size_t
families(const struct run *r, int fam[2])
{
	size_t n = 0;
	bool v6first = r->t->ip != NULL && r->t->ip_family == AF_INET6;

	if (r->c->have_source) {
		fam[0] = r->c->source.family;
		return 1;
	}
	if (v6first && r->c->ipv6)
		fam[n++] = AF_INET6;
	if (r->c->ipv4)
		fam[n++] = AF_INET;
	if (!v6first && r->c->ipv6)
		fam[n++] = AF_INET6;
	return n;
}

static bool
seen_addr(const struct run *r, const struct smtp_addr *a)
{
	size_t i;

	for (i = 0; i < r->naddrs; i++)
		if (r->addrs[i].family == a->family &&
		    memcmp(r->addrs[i].addr, a->addr, a->family == AF_INET ? 4 : 16) == 0)
			return true;
	return false;
}

/* Adds a host and the addresses of its A/AAAA answers (or its own literal address). */
static void
add_host(struct run *r, const char *name, int pref, const struct dns_result *a,
    const struct dns_result *aaaa)
{
	const struct dns_result *res[2] = { a, aaaa };
	struct smtp_probe_host *h = &r->hosts[r->nhosts++];
	size_t start = r->naddrs, f, i, k, nf;
	unsigned char lit[16];
	int fam[2], lf;

	nf = families(r, fam);
	h->name = name;
	h->preference = pref;
	for (f = 0; f < nf; f++) {
		for (k = 0; k < 2; k++) {
			const struct dns_result *d = res[k];

			if ((k == 0) != (fam[f] == AF_INET) || d == NULL || d->status != DNS_ANSWER)
				continue;
			for (i = 0; i < d->nrr && r->naddrs - start < (size_t)r->c->max_addresses; i++) {
				struct smtp_addr *x = &r->addrs[r->naddrs];

				smtp_addr_set(x, fam[f], k == 0 ? d->rr[i].u.a.addr : d->rr[i].u.aaaa.addr);
				if (!seen_addr(r, x))
					r->naddrs++;
			}
		}
		if (a == NULL && aaaa == NULL && net_ip_parse(name, &lf, lit) == 0 && lf == fam[f] &&
		    r->naddrs - start < (size_t)r->c->max_addresses) {
			smtp_addr_set(&r->addrs[r->naddrs], lf, lit);
			if (!seen_addr(r, &r->addrs[r->naddrs]))
				r->naddrs++;
		}
	}
	/* a host with addresses, none of a family the probe may use */
	if (r->naddrs == start && ((a != NULL && a->status == DNS_ANSWER && a->nrr > 0) ||
	    (aaaa != NULL && aaaa->status == DNS_ANSWER && aaaa->nrr > 0)))
		r->families_dropped = true;
	h->addrs = &r->addrs[start];
	h->naddrs = r->naddrs - start;
}

/* No mail server to ask: the recipient check says why, and so does this. */
static void
report_no_server(struct run *r, const char *why)
{
	report_add(r->rep, "no_mail_server", SEV_FAIL,
	    json_pack("{s:o,s:s}", "domain", json_str(r->domain),
	    "mail", domain_mail_kind_name(r->dm.kind)),
	    "nothing to probe: the recipient domain %s %s", r->domain, why);
}

/*
 * The hosts to ask, in order: the MX hosts (RFC 5321 5.1), the domain
 * itself as its implicit MX, or the address literal of the recipient.
 * False when there is nothing to probe (the report says why).
 */
static bool
resolve(struct run *r)
{
	unsigned char lit[16];
	size_t i, max;
	int lf;

	/* an address literal names the one host to ask */
	if (net_ip_parse(r->domain, &lf, lit) == 0) {
		r->hosts = xcalloc(1, sizeof(*r->hosts));
		r->addrs = xcalloc((size_t)r->c->max_addresses, sizeof(*r->addrs));
		add_host(r, r->domain, 0, NULL, NULL);
		return true;
	}
	domain_mail_init(&r->dm, r->dns, r->domain);
	domain_mail_wait(&r->dm, r->dns, (size_t)r->c->max_hosts);
	switch (r->dm.kind) {
	case DOMAIN_MAIL_UNKNOWN:
		report_add(r->rep, "mx_lookup_failed", SEV_ERROR,
		    json_pack("{s:o}", "domain", json_str(r->domain)),
		    "dns: the mail servers of %s could not be looked up, so none was asked",
		    r->domain);
		return false;
	case DOMAIN_MAIL_NXDOMAIN:
		report_no_server(r, "does not exist");
		return false;
	case DOMAIN_MAIL_NONE:
		report_no_server(r, "has no MX and no address");
		return false;
	case DOMAIN_MAIL_NULL_MX:
		report_no_server(r, "publishes a null MX: it accepts no mail (RFC 7505)");
		return false;
	case DOMAIN_MAIL_IMPLICIT:
	case DOMAIN_MAIL_MX:
		break;
	}
	max = r->dm.kind == DOMAIN_MAIL_IMPLICIT ? 1 : r->dm.nhosts;
	r->hosts = xcalloc(max > 0 ? max : 1, sizeof(*r->hosts));
	r->addrs = xcalloc(max * (size_t)r->c->max_addresses + 1, sizeof(*r->addrs));
	if (r->dm.kind == DOMAIN_MAIL_IMPLICIT)
		add_host(r, r->domain, 0, r->dm.a, r->dm.aaaa);
	for (i = 0; r->dm.kind == DOMAIN_MAIL_MX && i < r->dm.nhosts; i++)
		add_host(r, r->dm.hosts[i].name, r->dm.hosts[i].pref, r->dm.hosts[i].a,
		    r->dm.hosts[i].aaaa);
	return true;
}

/* No address to connect to: why, as a finding. */
static void
report_no_address(struct run *r)
{
	if (r->families_dropped)
		report_add(r->rep, "no_usable_address", SEV_ERROR,
		    json_pack("{s:o,s:o}", "domain", json_str(r->domain),
		    "source", r->c->have_source ? json_str(r->c->source.text) : json_null()),
		    "the mail servers of %s have no address of the family the probe may use "
		    "(source %s)", r->domain, r->c->have_source ? r->c->source.text : "any");
	else if (r->dm.nfailed > 0)
		report_add(r->rep, "mx_lookup_failed", SEV_ERROR,
		    json_pack("{s:o}", "domain", json_str(r->domain)),
		    "dns: the addresses of the mail servers of %s could not be looked up, so "
		    "none was asked", r->domain);
	else
		report_no_server(r, "has MX hosts, none with an address");
}

/*
 * The EHLO name when --helo gives none: the PTR name of the address the
 * connection comes from, else its address literal (RFC 5321 4.1.3).
 */
static char *
helo_name(const struct smtp_addr *local, void *arg)
{
	struct run *r = arg;
	char rev[128], why[128];
	struct dns_result *res;
	size_t i;

	if (r->helo_name != NULL && strcmp(r->helo_for, local->text) == 0)
		return xstrdup(r->helo_name);
	free(r->helo_name);
	r->helo_name = NULL;
	snprintf(r->helo_for, sizeof(r->helo_for), "%s", local->text);
	if (dns_reverse_name(local->text, NULL, false, rev, sizeof(rev)) == 0) {
		res = dns_lookup(r->dns, rev, DNS_T_PTR);
		for (i = 0; res->status == DNS_ANSWER && i < res->nrr && r->helo_name == NULL; i++)
			if (net_name_check(res->rr[i].u.name.target, false, why, sizeof(why)) == 0 &&
			    strchr(res->rr[i].u.name.target, '.') != NULL)
				r->helo_name = xstrdup(res->rr[i].u.name.target);
		dns_result_free(res);
	}
	if (r->helo_name == NULL)
		r->helo_name = local->family == AF_INET ? xasprintf("[%s]", local->text) :
		    xasprintf("[IPv6:%s]", local->text);
	return xstrdup(r->helo_name);
}

/* A reply on one line for a message: controls as spaces, at most EXCERPT bytes. */
static void
fold(const struct smtp_reply *rep, char *out, size_t outlen)
{
	size_t i, n = 0, max = outlen - 4 < EXCERPT ? outlen - 4 : EXCERPT;
	bool space = false;

	for (i = 0; i < rep->rawlen && n < max; i++) {
		unsigned char ch = (unsigned char)rep->raw[i];

		if (ch < 0x20 || ch == 0x7f) {
			space = n > 0;
			continue;
		}
		if (space)
			out[n++] = ' ';
		space = false;
		if (n < max)
			out[n++] = (char)ch;
	}
	if (i < rep->rawlen) {
		while (n > 0 && ((unsigned char)out[n] & 0xc0) == 0x80)
			n--;
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

/* The command a stage sends, for messages. */
static const char *
stage_words(enum smtp_stage st)
{
	switch (st) {
	case SMTP_STAGE_CONNECT:
	case SMTP_STAGE_BANNER:
		return "the connection";
	case SMTP_STAGE_EHLO:
		return "EHLO";
	case SMTP_STAGE_HELO:
		return "HELO";
	case SMTP_STAGE_STARTTLS:
		return "STARTTLS";
	case SMTP_STAGE_TLS:
		return "the TLS handshake";
	case SMTP_STAGE_MAIL:
		return "MAIL FROM";
	case SMTP_STAGE_RCPT:
		return "RCPT TO";
	case SMTP_STAGE_RSET:
		return "RSET";
	case SMTP_STAGE_QUIT:
		return "QUIT";
	}
	return "the connection";
}

/*
 * Causes that a receiver decides by the connecting address (or by the
 * probe's own HELO): when the probe did not come from --ip, they may not
 * hold for the real sender.
 */
static bool
about_client(enum cause_code c)
{
	switch (c) {
	case CAUSE_RECIPIENT_UNKNOWN:
	case CAUSE_RECIPIENT_DISABLED:
	case CAUSE_MAILBOX_FULL:
	case CAUSE_SENDER_DOMAIN_INVALID:
	case CAUSE_SENDER_VERIFY_FAILED:
	case CAUSE_DOMAIN_BLOCKLISTED:
	case CAUSE_RELAY_DENIED:
	case CAUSE_MESSAGE_TOO_LARGE:
	case CAUSE_RECIPIENT_SERVER_DOWN:
		return false;
	default:
		return true;
	}
}

/* Where the probe came from, and whether that is --ip; NULL when it never connected. */
static const struct smtp_addr *
probe_source(const struct run *r, bool *differs)
{
	const struct smtp_addr *src = r->c->have_source ? &r->c->source : NULL;
	const unsigned char *a, *b;
	int fa, fb;
	size_t i;

	for (i = 0; src == NULL && i < r->probe.nsessions; i++)
		if (r->probe.sessions[i].connected)
			src = &r->probe.sessions[i].local;
	*differs = false;
	if (src == NULL || r->t->ip == NULL)
		return src;
	a = src->addr;
	b = r->t->ip_addr;
	fa = net_ip_unmap(src->family, &a);
	fb = net_ip_unmap(r->t->ip_family, &b);
	*differs = fa != fb || memcmp(a, b, fa == AF_INET ? 4 : 16) != 0;
	return src;
}

/*
 * The classified answer of session s: the bounce classifier's data, with
 * the host asked, the stage, the command and the source. A generic refusal
 * of the greeting is a block at connection.
 */
static json_t *
answer_data(const struct run *r, const struct smtp_session *s, struct bounce_class *cls,
    bool differs)
{
	const struct smtp_exchange *e = smtp_session_final(s);
	json_t *data;

	bounce_classify(r->c->rules, e->reply.raw, e->reply.rawlen, cls);
	if (s->stage == SMTP_STAGE_BANNER && !cls->transient &&
	    (cls->cause == CAUSE_NONE || cls->cause == CAUSE_POLICY_OTHER))
		cls->cause = CAUSE_CONNECTION_BLOCKED;
	data = bounce_class_json(cls);
	json_object_set_new(data, "host", json_str(s->host));
	json_object_set_new(data, "address", json_string(s->addr.text));
	json_object_set_new(data, "stage", json_string(smtp_stage_name(s->stage)));
	json_object_set_new(data, "command", json_str(e->command));
	json_object_set_new(data, "source", json_string(s->local.text));
	if (cls->recipient == NULL)
		json_object_set_new(data, "recipient", json_str(r->rcpt_to));
	if (differs && about_client(cls->cause)) {
		/* the receiver judged the probe's address, not the sender's */
		json_object_set_new(data, "confidence", json_string("low"));
		json_object_set_new(data, "source_differs", json_true());
	}
	return data;
}

/* What to do about a temporary refusal, by its cause. */
static const char *
retry_hint(const struct bounce_class *cls, bool got_421)
{
	if (cls->cause == CAUSE_GREYLISTED)
		return "retry after a few minutes: greylisting lets a second attempt through";
	if (cls->cause == CAUSE_RATE_LIMITED)
		return "slow down and let your queue retry later";
	if (got_421)
		return "the server asked to be left alone for now (421): retry later";
	return "a mail queue retries a temporary refusal by itself; if it lasts for hours, "
	    "read the reply for the reason";
}

/* The answer of the session that decided: accepted, rejected or deferred. */
static void
report_answer(struct run *r, const struct smtp_session *s, bool differs)
{
	const struct smtp_exchange *e = smtp_session_final(s);
	struct bounce_class cls;
	char quoted[EXCERPT + 8], asked[INET6_ADDRSTRLEN * 2 + 40] = "";
	json_t *data;

	fold(&e->reply, quoted, sizeof(quoted));
	if (differs)
		snprintf(asked, sizeof(asked), " (asked from %s, not from --ip %s)", s->local.text,
		    r->t->ip);
	if (s->outcome == SMTP_OUT_ACCEPTED) {
		report_add(r->rep, "rcpt_accepted", SEV_INFO,
		    json_pack("{s:o,s:s,s:i,s:o}", "host", json_str(s->host), "address",
		    s->addr.text, "code", e->reply.code, "reply", json_text(e->reply.raw,
		    e->reply.rawlen)),
		    "%s (%s) accepted RCPT TO:<%s> after MAIL FROM:<%s>%s: \"%s\"", s->host,
		    s->addr.text, r->rcpt_to, r->mail_from, asked, quoted);
		return;
	}
	data = answer_data(r, s, &cls, differs);
	if (s->outcome == SMTP_OUT_DEFERRED) {
		json_object_set_new(data, "retry", json_string(retry_hint(&cls, s->got_421)));
		report_add(r->rep, "probe_deferred", SEV_WARN, data,
		    "%s (%s) answered %s with \"%s\"%s: a temporary refusal (%s); %s", s->host,
		    s->addr.text, stage_words(s->stage), quoted, asked,
		    cause_name(cls.cause) != NULL ? cause_name(cls.cause) : "no reason given",
		    retry_hint(&cls, s->got_421));
	} else {
		report_add(r->rep, "probe_rejected", SEV_FAIL, data,
		    "%s (%s) %s \"%s\"%s: %s (%s confidence)", s->host, s->addr.text,
		    s->stage == SMTP_STAGE_BANNER ? "greeted the probe with" :
		    s->stage == SMTP_STAGE_RCPT ? "refused RCPT TO with" :
		    s->stage == SMTP_STAGE_MAIL ? "refused MAIL FROM with" : "refused EHLO with",
		    quoted, asked, cause_name(cls.cause), confidence_name(differs &&
		    about_client(cls.cause) ? CONF_LOW : cls.confidence));
	}
	bounce_class_release(&cls);
}

/* Every session in a few words, for the data of a failure finding. */
static json_t *
attempts_json(const struct smtp_probe *p)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < p->nsessions; i++) {
		const struct smtp_session *s = &p->sessions[i];
		const struct smtp_exchange *e = smtp_session_final(s);

		json_array_append_new(a, json_pack("{s:o,s:s,s:s,s:s,s:o}", "host",
		    json_str(s->host), "address", s->addr.text, "stage",
		    smtp_stage_name(s->stage), "io", smtp_io_name(s->io), "code",
		    e != NULL ? json_integer(e->reply.code) : json_null()));
	}
	return a;
}

/* A result without a deciding reply: the receiver down, port 25 blocked, no answer. */
static void
report_failure(struct run *r, bool differs)
{
	const struct smtp_probe *p = &r->probe;
	const struct smtp_session *s = p->nsessions > 0 ? &p->sessions[p->nsessions - 1] : NULL;
	const char *host = s != NULL ? s->host : r->domain, *what = s != NULL ? s->error : "";
	json_t *data = json_pack("{s:o,s:o,s:o}", "domain", json_str(r->domain),
	    "attempts", attempts_json(p), "host", json_str(host));

	switch (p->result) {
	case SMTP_RESULT_SERVER_DOWN:
		report_add(r->rep, "server_down", SEV_FAIL, data, "every mail server of %s "
		    "refused the connection, reset it or said 421 (service not available): "
		    "the recipient's mail server is down", r->domain);
		break;
	case SMTP_RESULT_PORT25_BLOCKED:
		if (differs)
			json_object_set_new(data, "confidence", json_string("low"));
		json_object_set_new(data, "address", json_string(p->control_addr.text));
		json_object_set_new(data, "port", json_integer(p->control_port));
		report_add(r->rep, "port25_blocked", SEV_FAIL, data, "no mail server of %s "
		    "answered on port %d, while %s answered on port %d: port 25 is blocked on "
		    "the way out%s", r->domain, r->c->probe.port, p->control_addr.text,
		    p->control_port, differs ? " of the machine that ran the probe" : "");
		break;
	case SMTP_RESULT_DROPPED:
		report_add(r->rep, "connection_dropped", SEV_WARN, data, "%s closed the "
		    "connection at %s without a reply (%s)", host, stage_words(s->stage), what);
		break;
	case SMTP_RESULT_STALLED:
		report_add(r->rep, "no_answer", SEV_ERROR, data, "%s took the connection but gave "
		    "no answer to %s in time (a tarpit, or an overloaded server)", host,
		    s->stage == SMTP_STAGE_BANNER ? "it (no greeting)" : stage_words(s->stage));
		break;
	case SMTP_RESULT_PROTOCOL_ERROR:
		report_add(r->rep, "protocol_error", SEV_ERROR, data, "%s answered with something "
		    "that is not SMTP (%s)", host, what);
		break;
	case SMTP_RESULT_SOURCE_UNUSABLE:
		report_add(r->rep, "source_unusable", SEV_ERROR, data, "the probe cannot send from "
		    "%s (%s)", r->c->source.text, what);
		break;
	case SMTP_RESULT_DEADLINE:
		report_add(r->rep, "probe_deadline", SEV_ERROR, data, "the target's deadline came "
		    "before a mail server of %s answered (give a longer --timeout)", r->domain);
		break;
	default:
		report_add(r->rep, "mx_unreachable", SEV_ERROR, data, "no mail server of %s "
		    "answered, and no control connection did either: the network of the "
		    "machine that ran the probe seems down", r->domain);
		break;
	}
}

/* What came of STARTTLS with the host that answered (or the last one that spoke). */
static void
report_tls(struct run *r)
{
	const struct smtp_session *s = smtp_probe_answer(&r->probe);
	const struct smtp_tls_info *t;
	json_t *data;

	if (s == NULL || s->stage < SMTP_STAGE_MAIL)
		return;
	/* a retry in clear follows a failed handshake: that failure is the evidence */
	if (r->probe.reply_from > 0 && s[-1].starttls == SMTP_STARTTLS_FAILED &&
	    strcmp(s[-1].addr.text, s->addr.text) == 0)
		s--;
	t = &s->tls;
	data = json_pack("{s:o,s:s,s:s}", "host", json_str(s->host), "address", s->addr.text,
	    "starttls", smtp_starttls_name(s->starttls));
	/* the summary other checks read (bulk: TLS at the MX) */
	json_object_set_new(report_data(r->rep), "tls", json_pack("{s:o,s:s,s:s,s:o,s:o,s:o,s:o}",
	    "host", json_str(s->host), "address", s->addr.text,
	    "starttls", smtp_starttls_name(s->starttls),
	    "protocol", t->protocol[0] ? json_str(t->protocol) : json_null(),
	    "cipher", t->cipher[0] ? json_str(t->cipher) : json_null(),
	    "chain_verified", s->starttls == SMTP_STARTTLS_OK ? json_boolean(t->chain_ok) :
	    json_null(),
	    "name_matches", s->starttls == SMTP_STARTTLS_OK ? json_boolean(t->name_ok) :
	    json_null()));
	if (s->starttls == SMTP_STARTTLS_OK)
		report_add(r->rep, "tls_ok", SEV_INFO, data, "%s offers STARTTLS: %s, %s; the "
		    "certificate %s and %s the host name", s->host, t->protocol, t->cipher,
		    t->chain_ok ? "chains to a trusted root" : "does not chain to a trusted root",
		    t->name_ok ? "names" : "does not name");
	else if (s->starttls == SMTP_STARTTLS_FAILED)
		report_add(r->rep, "tls_failed", SEV_INFO, data, "%s offers STARTTLS, but the "
		    "handshake failed (%s); the probe went on in clear, as senders do", s->host,
		    s->error);
	else if (s->starttls == SMTP_STARTTLS_REFUSED)
		report_add(r->rep, "tls_refused", SEV_INFO, data, "%s offers STARTTLS but "
		    "refused it", s->host);
	else if (s->starttls == SMTP_STARTTLS_NOT_OFFERED)
		report_add(r->rep, "tls_not_offered", SEV_INFO, data, "%s does not offer STARTTLS: "
		    "mail to it travels in clear", s->host);
	else
		json_decref(data);
}

/* The findings of a finished probe, and its record in the check's data. */
static void
report_probe(struct run *r)
{
	const struct smtp_session *answer = smtp_probe_answer(&r->probe);
	const struct smtp_addr *src;
	json_t *data = report_data(r->rep);
	bool differs;

	src = probe_source(r, &differs);
	json_object_set_new(data, "source", src != NULL ? json_string(src->text) : json_null());
	json_object_set_new(data, "source_differs", r->t->ip == NULL || src == NULL ?
	    json_null() : json_boolean(differs));
	smtp_probe_json(&r->probe, data);
	/* first, so that the check's line in the text report says it */
	if (differs)
		report_add(r->rep, "source_differs", SEV_WARN,
		    json_pack("{s:s,s:s}", "source", src->text, "ip", r->t->ip),
		    "the probe came from %s, not from --ip %s: the receiver may answer the real "
		    "sender differently", src->text, r->t->ip);
	if (answer != NULL && (r->probe.result == SMTP_RESULT_ACCEPTED ||
	    r->probe.result == SMTP_RESULT_REJECTED || r->probe.result == SMTP_RESULT_DEFERRED ||
	    r->probe.result == SMTP_RESULT_BLOCKED_AT_CONNECT))
		report_answer(r, answer, differs);
	else if (r->probe.result == SMTP_RESULT_DEFERRED)
		/* nobody was asked: the answer to this target is not known */
		report_add(r->rep, "probe_paused", SEV_ERROR,
		    json_pack("{s:o,s:I}", "domain", json_str(r->domain), "retry_in_ms",
		    (json_int_t)r->probe.skipped[0].left_ms),
		    "every mail server of %s answered 421 to an earlier probe a short while ago: "
		    "not asked again for %lld s (backoff_421)", r->domain,
		    (long long)(r->probe.skipped[0].left_ms + 999) / 1000);
	else
		report_failure(r, differs);
	report_tls(r);
}

/* The target's deadline, less a margin for the report. */
static int64_t
probe_deadline(struct dns *dns)
{
	int64_t d = dns_deadline(dns);

	return d > 0 ? d - DEADLINE_MARGIN_MS : now_ms() + NO_DEADLINE_MS;
}

static void
smtp_run(const void *ctx, const struct target *t, struct dns *dns, struct report *rep)
{
	struct run r = { .c = ctx, .t = t, .dns = dns, .rep = rep,
	    .deadline = probe_deadline(dns) };
	struct smtp_probe_input in;
	json_t *data = report_data(rep);

	if (!envelope(&r))
		goto out;
	json_object_set_new(data, "domain", json_str(r.domain));
	json_object_set_new(data, "mail_from", json_str(r.mail_from));
	json_object_set_new(data, "rcpt_to", json_str(r.rcpt_to));
	json_object_set_new(data, "ip", json_str(t->ip));
	if (!resolve(&r))
		goto out;
	json_object_set_new(data, "mail", json_string(r.dm.domain != NULL ?
	    domain_mail_kind_name(r.dm.kind) : "address_literal"));
	if (r.naddrs == 0) {
		report_no_address(&r);
		goto out;
	}
	in = (struct smtp_probe_input){
		.hosts = r.hosts, .nhosts = r.nhosts,
		.src = r.c->have_source ? &r.c->source : NULL,
		.helo = t->helo, .helo_name = helo_name, .helo_arg = &r,
		.mail_from = r.mail_from, .rcpt_to = r.rcpt_to, .tls = r.c->tls,
		.pace = r.c->pace, .deadline = r.deadline,
	};
	smtp_probe_run(&r.c->probe, &in, &r.probe);
	report_probe(&r);
out:
	smtp_probe_release(&r.probe);
	domain_mail_release(&r.dm);
	free(r.hosts);
	free(r.addrs);
	free(r.mail_from);
	free(r.rcpt_to);
	free(r.domain);
	free(r.helo_name);
}

const struct check_ops check_smtp = {
	.name = "smtp",
	.summary = "the recipient's mail servers asked directly, up to RCPT TO (opt-in: --probe)",
	.needs = NEED_RCPT_TO,
	.opt_in = true,
	.configure = smtp_configure,
	.run = smtp_run,
	.describe = smtp_describe,
	.free = smtp_free,
};
