/* The inputs of one run, checked for syntax before any check sees them. */
#include "core/target.h"

#include <arpa/inet.h>
#include <errno.h>
#include <idn2.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/textsafe.h"
#include "core/net.h"

#define MESSAGE_MAX	(10 * 1024 * 1024)
#define BOUNCE_MAX	(1024 * 1024)
/* A whole bounce message carries the returned original, attachments too. */
#define BOUNCE_FILE_MAX	(10 * 1024 * 1024)
/* RFC 5321 4.5.3.1.1 */
#define LOCAL_MAX	64
/* RFC 5321 4.5.3.1.4: "EHLO " and CRLF in a line of 512 octets */
#define HELO_MAX	505
/* RFC 5321 4.5.3.1.4: "MAIL FROM:<" and ">" CRLF in a line of 512 octets */
#define PATH_MAX_OCTETS	498
/* How much of an input a message quotes. */
#define SHOW_MAX	80

void
target_init(struct target *t)
{
	memset(t, 0, sizeof(*t));
}

void
target_release(struct target *t)
{
	size_t i;

	free(t->ip);
	free(t->helo);
	free(t->mail_from);
	free(t->mail_local);
	free(t->mail_domain);
	free(t->rcpt_to);
	free(t->rcpt_domain);
	free(t->message_path);
	free(t->message);
	free(t->bounce);
	for (i = 0; i < t->nselectors; i++)
		free(t->selectors[i]);
	free(t->selectors);
	target_init(t);
}

/* A printable excerpt of an input for messages: other bytes as \xHH, long text cut. */
static void
show(char *dst, size_t dstlen, const char *s)
{
	text_quote(dst, dstlen, s, strlen(s), SHOW_MAX);
}

int
target_set_ip(struct target *t, const char *what, const char *ip, struct error *err)
{
	char shown[4 * SHOW_MAX + 8], text[INET6_ADDRSTRLEN];
	unsigned char addr[16];
	int family;

	if (net_ip_parse(ip, &family, addr) == -1) {
		show(shown, sizeof(shown), ip);
		return error_set(err, "%s: '%s' is not an IPv4 or IPv6 address", what, shown);
	}
	net_ip_format(family, addr, text, sizeof(text));
	free(t->ip);
	t->ip = xstrdup(text);
	t->ip_family = family;
	memcpy(t->ip_addr, addr, sizeof(t->ip_addr));
	return 0;
}

/*
 * The first control character of s (a C0 byte or DEL), or NULL: no SMTP
 * command can carry one (RFC 5321 2.3.8, 4.1.2), so no receiver sees it.
 */
static const char *
control_char(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return s;
	return NULL;
}

/*
 * What a receiver can be sent as the argument of a command: not empty, no
 * control character, at most max octets. -1 with err naming what.
 */
static int
smtp_argument(const char *what, const char *s, size_t max, const char *empty,
    struct error *err)
{
	char shown[4 * SHOW_MAX + 8];
	const char *c;

	if (s[0] == '\0')
		return error_set(err, "%s: %s", what, empty);
	if ((c = control_char(s)) != NULL) {
		show(shown, sizeof(shown), s);
		return error_set(err, "%s: '%s' has the control character \\x%02x, which no "
		    "SMTP command can carry", what, shown, (unsigned char)*c);
	}
	if (strlen(s) > max) {
		show(shown, sizeof(shown), s);
		return error_set(err, "%s: '%s' is over %zu octets, more than an SMTP command "
		    "line can carry (RFC 5321 4.5.3.1.4)", what, shown, max);
	}
	return 0;
}

/*
 * A HELO is kept as the client sent it: a name, an address literal, or
 * whatever else a receiver can be greeted with (a bare word, a name with
 * characters no domain has, a malformed literal). The checks diagnose it;
 * RFC 7208 4.3 gives such an identity SPF "none".
 */
int
target_set_helo(struct target *t, const char *what, const char *helo, struct error *err)
{
	if (smtp_argument(what, helo, HELO_MAX, "the name is empty", err) < 0)
		return -1;
	free(t->helo);
	t->helo = xstrdup(helo);
	return 0;
}

/* A local part without quotes: RFC 5322 atext and dots; 8-bit bytes for SMTPUTF8. */
static bool
local_is_valid(const char *local)
{
	static const char special[] = "!#$%&'*+-/=?^_`{|}~.";
	const unsigned char *p;
	size_t n = strlen(local);

	if (n >= 2 && local[0] == '"' && local[n - 1] == '"') {
		for (p = (const unsigned char *)local + 1;
		    p < (const unsigned char *)local + n - 1; p++) {
			if (*p == '\\') {
				if (p + 1 >= (const unsigned char *)local + n - 1)
					return false;
				p++;
			} else if (*p == '"' || *p < 0x20 || *p == 0x7f) {
				return false;
			}
		}
		return true;
	}
	for (p = (const unsigned char *)local; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p >= 0x80 ||
		    strchr(special, *p) != NULL))
			return false;
	}
	return true;
}

/*
 * A UTF-8 domain converted to its A-label form (UTS #46, NFC) with libidn2;
 * ASCII input is copied as is. NULL with why when libidn2 refuses it.
 */
static char *
domain_ascii(const char *domain, char *why, size_t whylen)
{
	char shown[4 * SHOW_MAX + 8];
	const unsigned char *p;
	char *conv = NULL, *copy;
	int rc;

	for (p = (const unsigned char *)domain; *p != '\0' && *p < 0x80; p++)
		;
	if (*p == '\0')
		return xstrdup(domain);
	rc = idn2_to_ascii_8z(domain, &conv, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK) {
		show(shown, sizeof(shown), domain);
		snprintf(why, whylen, "domain '%s' is not a valid internationalised name: %s",
		    shown, idn2_strerror(rc));
		return NULL;
	}
	copy = xstrdup(conv);
	idn2_free(conv);
	return copy;
}

/*
 * A copy of domain without its final dot, lower case, internationalised
 * names in A-label form; -1 with why if not a name.
 */
static int
domain_take(const char *given, char **out, char *why, size_t whylen)
{
	char shown[4 * SHOW_MAX + 8], reason[200];
	char *domain = NULL;
	size_t n;
	int ret = -1;

	if (given[0] == '[') {
		show(shown, sizeof(shown), given);
		snprintf(why, whylen, "domain '%s' is an address literal, not a domain name",
		    shown);
		goto out;
	}
	if ((domain = domain_ascii(given, why, whylen)) == NULL)
		goto out;
	if (net_name_check(domain, false, reason, sizeof(reason)) == -1) {
		show(shown, sizeof(shown), given);
		/* a long reason is cut rather than overflow: whylen bounds it */
		if (snprintf(why, whylen, "domain '%s': %s", shown, reason) < 0)
			why[0] = '\0';
		goto out;
	}
	*out = xstrdup_lower(domain);
	n = strlen(*out);
	if (n > 0 && (*out)[n - 1] == '.')
		(*out)[n - 1] = '\0';
	ret = 0;
out:
	free(domain);
	return ret;
}

int
address_split(const char *addr, char **local, char **domain, char *why, size_t whylen)
{
	char shown[4 * SHOW_MAX + 8];
	const char *s = addr, *at;
	size_t n = strlen(addr), llen;
	bool quoted;

	show(shown, sizeof(shown), addr);
	if (n > 0 && (addr[0] == '<') != (addr[n - 1] == '>')) {
		snprintf(why, whylen, "'%s' has unbalanced angle brackets", shown);
		return -1;
	}
	if (n >= 2 && addr[0] == '<') {
		s = addr + 1;
		n -= 2;
	}
	/* A quoted local part may hold '@': the domain follows the last one. */
	at = NULL;
	for (llen = n; llen > 0; llen--) {
		if (s[llen - 1] == '@') {
			at = s + llen - 1;
			break;
		}
	}
	if (at == NULL) {
		snprintf(why, whylen, "'%s' has no '@'", shown);
		return -1;
	}
	llen = (size_t)(at - s);
	if (llen == 0) {
		snprintf(why, whylen, "'%s' has an empty local part", shown);
		return -1;
	}
	if ((size_t)(at - s) + 1 == n) {
		snprintf(why, whylen, "'%s' has no domain", shown);
		return -1;
	}
	quoted = llen >= 2 && s[0] == '"' && s[llen - 1] == '"';
	if (!quoted && memchr(s, '@', llen) != NULL) {
		snprintf(why, whylen, "'%s' has more than one '@'", shown);
		return -1;
	}
	*local = xstrndup(s, llen);
	*domain = xstrndup(at + 1, n - llen - 1);
	return 0;
}

/* Splits and checks a recipient address: -1 with why. */
static int
parse_address(const char *addr, char **local, char **domain, char *why, size_t whylen)
{
	char shown[4 * SHOW_MAX + 8];
	char *l = NULL, *d = NULL;
	int ret = -1;

	*local = NULL;
	*domain = NULL;
	if (address_split(addr, &l, &d, why, whylen) == -1)
		goto out;
	if (strlen(l) > LOCAL_MAX) {
		show(shown, sizeof(shown), l);
		snprintf(why, whylen, "local part '%s' is over %d octets", shown, LOCAL_MAX);
		goto out;
	}
	if (!local_is_valid(l)) {
		show(shown, sizeof(shown), l);
		snprintf(why, whylen, "local part '%s' has characters that need quotes",
		    shown);
		goto out;
	}
	if (domain_take(d, domain, why, whylen) == -1)
		goto out;
	*local = l;
	l = NULL;
	ret = 0;
out:
	free(l);
	free(d);
	return ret;
}

/*
 * The domain of a MAIL FROM as checks ask about it: lower case, A-label
 * form, no final dot. One that is no domain name (an address literal, an
 * empty or over-long label, a name libidn2 refuses) is kept, lower case,
 * as given: a receiver sees it, and the checks diagnose it (RFC 7208 4.3:
 * SPF "none").
 */
static char *
sender_domain(const char *given, size_t len)
{
	char *copy = xstrndup(given, len), *d, why[400];

	if (domain_take(copy, &d, why, sizeof(why)) == -1)
		d = xstrdup_lower(copy);
	free(copy);
	return d;
}

/*
 * Splits a MAIL FROM as a receiver reads it: "local@domain" with any local
 * part (quoted or not, spaces, any length: the receiver decides), a domain
 * alone ("example.net"), or no local part ("@example.net", which SPF
 * checks as postmaster, RFC 7208 4.3). *local is NULL when there is none.
 * -1 with why for what no receiver could parse.
 */
static int
sender_split(const char *addr, char **local, char **domain, char *why, size_t whylen)
{
	char shown[4 * SHOW_MAX + 8];
	const char *s = addr;
	char *l, *d;
	size_t n = strlen(addr);

	*local = NULL;
	if (n > 0 && (addr[0] == '<') != (addr[n - 1] == '>')) {
		show(shown, sizeof(shown), addr);
		snprintf(why, whylen, "'%s' has unbalanced angle brackets", shown);
		return -1;
	}
	if (n >= 2 && addr[0] == '<') {
		s++;
		n -= 2;
	}
	if (memchr(s, '@', n) == NULL || s[0] == '@') {
		if (s[0] == '@') {
			s++;
			n--;
		}
		if (n == 0 || memchr(s, '@', n) != NULL) {
			show(shown, sizeof(shown), addr);
			snprintf(why, whylen, n == 0 ? "'%s' has no domain" :
			    "'%s' has more than one '@'", shown);
			return -1;
		}
		*domain = sender_domain(s, n);
		return 0;
	}
	if (address_split(addr, &l, &d, why, whylen) == -1)
		return -1;
	*local = l;
	*domain = sender_domain(d, strlen(d));
	free(d);
	return 0;
}

int
target_set_mail_from(struct target *t, const char *what, const char *from, struct error *err)
{
	char why[400];
	char *local = NULL, *domain = NULL;

	if (from[0] == '\0' || strcmp(from, "<>") == 0) {
		free(t->mail_from);
		free(t->mail_local);
		free(t->mail_domain);
		t->mail_from = xstrdup("");
		t->mail_local = NULL;
		t->mail_domain = NULL;
		t->null_sender = true;
		return 0;
	}
	if (smtp_argument(what, from, PATH_MAX_OCTETS, "the address is empty", err) < 0)
		return -1;
	if (sender_split(from, &local, &domain, why, sizeof(why)) == -1)
		return error_set(err, "%s: %s", what, why);
	free(t->mail_from);
	free(t->mail_local);
	free(t->mail_domain);
	t->mail_from = xstrdup(from);
	t->mail_local = local;
	t->mail_domain = domain;
	t->null_sender = false;
	return 0;
}

int
target_set_rcpt_to(struct target *t, const char *what, const char *to, struct error *err)
{
	char why[400];
	char *local = NULL, *domain = NULL;

	if (to[0] == '\0' || strcmp(to, "<>") == 0)
		return error_set(err, "%s: the null address cannot be a recipient", what);
	if (parse_address(to, &local, &domain, why, sizeof(why)) == -1)
		return error_set(err, "%s: %s", what, why);
	free(local);
	free(t->rcpt_to);
	free(t->rcpt_domain);
	t->rcpt_to = xstrdup(to);
	t->rcpt_domain = domain;
	return 0;
}

/*
 * Reads all of f up to limit bytes: 0, -1 with errno on a read error, -2
 * when there is more than limit.
 */
static int
read_limited(FILE *f, size_t limit, char **out, size_t *outlen)
{
	struct strbuf sb;
	char chunk[65536];
	size_t n;

	strbuf_init(&sb);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (sb.len + n > limit) {
			strbuf_release(&sb);
			return -2;
		}
		strbuf_add(&sb, chunk, n);
	}
	if (ferror(f)) {
		strbuf_release(&sb);
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	*out = strbuf_detach(&sb, outlen);
	return 0;
}

/* Reads path ("-" is standard input only when stdin_ok) into *out. */
static int
read_input(const char *what, const char *path, bool stdin_ok, size_t limit,
    const char *limit_text, char **out, size_t *outlen, struct error *err)
{
	char shown[4 * SHOW_MAX + 8];
	FILE *f;
	int r;
	bool use_stdin = stdin_ok && strcmp(path, "-") == 0;

	show(shown, sizeof(shown), path);
	if (use_stdin)
		f = stdin;
	else if ((f = fopen(path, "rb")) == NULL) {
		resource_check(errno, "%s: cannot open '%s'", what, shown);
		return error_set(err, "%s: cannot read '%s': %s", what, shown, strerror(errno));
	}
	errno = 0;
	r = read_limited(f, limit, out, outlen);
	if (r == -1)
		error_set(err, "%s: cannot read '%s': %s", what, shown, strerror(errno));
	else if (r == -2)
		error_set(err, "%s: '%s' is larger than %s", what, shown, limit_text);
	if (!use_stdin)
		fclose(f);
	return r == 0 ? 0 : -1;
}

static int
set_message(struct target *t, const char *what, const char *path, bool stdin_ok,
    struct error *err)
{
	char *data = NULL;
	size_t len = 0;

	if (path[0] == '\0')
		return error_set(err, "%s: the file name is empty", what);
	if (read_input(what, path, stdin_ok, MESSAGE_MAX, "10 MiB", &data, &len, err) == -1)
		return -1;
	free(t->message_path);
	free(t->message);
	t->message_path = xstrdup(path);
	t->message = data;
	t->message_len = len;
	return 0;
}

int
target_set_message_file(struct target *t, const char *what, const char *path, struct error *err)
{
	return set_message(t, what, path, false, err);
}

int
target_set_message_arg(struct target *t, const char *what, const char *arg, struct error *err)
{
	return set_message(t, what, arg, true, err);
}

int
target_set_bounce(struct target *t, const char *what, const char *arg, struct error *err)
{
	char *data = NULL;
	size_t len = 0;

	if (arg[0] == '@') {
		if (arg[1] == '\0')
			return error_set(err, "%s: the file name after '@' is empty", what);
		if (read_input(what, arg + 1, true, BOUNCE_FILE_MAX, "10 MiB", &data, &len,
		    err) == -1)
			return -1;
	} else {
		len = strlen(arg);
		if (len > BOUNCE_MAX)
			return error_set(err, "%s: the text is larger than 1 MiB", what);
		data = xstrdup(arg);
	}
	/* the length goes with the text: a NUL byte in a file must not cut it short */
	if (len == 0) {
		free(data);
		return error_set(err, "%s: the bounce text is empty", what);
	}
	free(t->bounce);
	t->bounce = data;
	t->bounce_len = len;
	return 0;
}

int
target_add_selector(struct target *t, const char *what, const char *sel, struct error *err)
{
	char shown[4 * SHOW_MAX + 8], why[256];
	size_t i, n = strlen(sel);

	if (n == 0)
		return error_set(err, "%s: the selector is empty", what);
	/* The selector is put before "._domainkey.": a final dot would break the name. */
	if (sel[n - 1] == '.') {
		show(shown, sizeof(shown), sel);
		return error_set(err, "%s: selector '%s' ends with a dot", what, shown);
	}
	if (net_name_check(sel, true, why, sizeof(why)) == -1)
		return error_set(err, "%s: %s", what, why);
	for (i = 0; i < t->nselectors; i++) {
		if (strcasecmp(t->selectors[i], sel) == 0)
			return 0;
	}
	t->selectors = xrealloc(t->selectors, (t->nselectors + 1) * sizeof(*t->selectors));
	t->selectors[t->nselectors++] = xstrdup(sel);
	return 0;
}
