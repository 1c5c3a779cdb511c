/* Finding and checking the DKIM-Signature fields of a message, and its From: domain, without libopendkim. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks/dkim/sig.h"
#include "dns/dns.h"
#include "core/util.h"
#include "core/net.h"

/* Is word (case-insensitive) one of the colon-separated items of list? */
static bool
list_has_ci(const char *list, const char *word)
{
	size_t wl = strlen(word);
	const char *p = list;

	while (*p != '\0') {
		const char *start, *stop;

		while (isspace((unsigned char)*p))
			p++;
		start = p;
		while (*p != '\0' && *p != ':')
			p++;
		stop = p;
		while (stop > start && isspace((unsigned char)stop[-1]))
			stop--;
		if ((size_t)(stop - start) == wl && strncasecmp(start, word, wl) == 0)
			return true;
		if (*p == ':')
			p++;
	}
	return false;
}

/* A non-negative decimal of at most 18 digits, or -1. */
static int64_t
number(const char *s)
{
	int64_t n = 0;
	size_t i;

	if (s == NULL || s[0] == '\0')
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (!isdigit((unsigned char)s[i]) || i >= 18)
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	return n;
}

bool
dkim_sig_signs(const struct dkim_sig *sig, const char *name)
{
	return sig->h != NULL && list_has_ci(sig->h, name);
}

char *
dkim_from_domain(const char *value)
{
	const char *start = value, *end, *at = NULL, *p;
	char *dom;
	size_t i, n;

	if ((p = strrchr(value, '<')) != NULL && strchr(p, '>') != NULL) {
		start = p + 1;
		end = strchr(start, '>');
	} else {
		end = value + strlen(value);
	}
	for (p = start; p < end; p++)
		if (*p == '@')
			at = p;
	if (at == NULL)
		return NULL;
	p = at + 1;
	while (p < end && isspace((unsigned char)*p))
		p++;
	for (n = 0; p + n < end && !isspace((unsigned char)p[n]) && p[n] != '>' &&
	    p[n] != '(' && p[n] != ',' && p[n] != ';'; n++)
		;
	while (n > 0 && p[n - 1] == '.')
		n--;
	if (n == 0)
		return NULL;
	dom = xstrndup(p, n);
	for (i = 0; dom[i] != '\0'; i++)
		dom[i] = (char)tolower((unsigned char)dom[i]);
	return dom;
}

/* RFC 6376 2.11 dkim-quoted-printable: "=XX" is the octet XX. Fresh string. */
static char *
qp_decode(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;

	while (*s != '\0') {
		if (s[0] == '=' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
			char hex[3] = { s[1], s[2], '\0' };
			long c = strtol(hex, NULL, 16);

			/* a NUL would cut the string short: keep it encoded */
			if (c != 0) {
				*o++ = (char)c;
				s += 3;
				continue;
			}
		}
		*o++ = *s++;
	}
	*o = '\0';
	return out;
}

static void
add_sig(struct dkim_msg *msg, const char *value, size_t len)
{
	struct dkim_sig *sig;
	const char *a;

	if (msg->nsig_total++ >= DKIM_MAX_SIGNATURES)
		return;
	msg->sig = xrealloc(msg->sig, (msg->nsig + 1) * sizeof(*msg->sig));
	sig = &msg->sig[msg->nsig];
	memset(sig, 0, sizeof(*sig));
	sig->index = msg->nsig++;
	sig->expires = sig->signed_at = -1;
	if (dkim_tags_parse(value, len, &sig->tags, sig->why, sizeof(sig->why)) < 0) {
		dkim_tags_release(&sig->tags);
		return;
	}
	sig->parsed = true;
	sig->v = dkim_tags_get(&sig->tags, "v");
	sig->a = a = dkim_tags_get(&sig->tags, "a");
	sig->c = dkim_tags_get(&sig->tags, "c");
	sig->d = dkim_tags_get(&sig->tags, "d");
	sig->s = dkim_tags_get(&sig->tags, "s");
	sig->h = dkim_tags_get(&sig->tags, "h");
	if (dkim_tags_get(&sig->tags, "i") != NULL)
		sig->i = sig->i_decoded = qp_decode(dkim_tags_get(&sig->tags, "i"));
	sig->l = dkim_tags_get(&sig->tags, "l");
	sig->q = dkim_tags_get(&sig->tags, "q");
	sig->t = dkim_tags_get(&sig->tags, "t");
	sig->x = dkim_tags_get(&sig->tags, "x");
	if (dkim_tags_get(&sig->tags, "b") != NULL)
		sig->b = dkim_strip_ws(dkim_tags_get(&sig->tags, "b"));
	sig->rsa_sha1 = a != NULL && strcmp(a, "rsa-sha1") == 0;
	sig->hash_sha1 = sig->rsa_sha1;
	sig->ed25519 = a != NULL && strcmp(a, "ed25519-sha256") == 0;
	sig->expires = number(sig->x);
	sig->signed_at = number(sig->t);
}

void
dkim_msg_parse(const char *text, size_t len, struct dkim_msg *msg)
{
	struct strbuf field;
	size_t pos = 0;
	bool have = false;

	memset(msg, 0, sizeof(*msg));
	strbuf_init(&field);
	for (;;) {
		size_t eol = pos, next;
		bool end = pos >= len;

		while (eol < len && text[eol] != '\n')
			eol++;
		next = eol < len ? eol + 1 : len;
		if (!end && (text[pos] == ' ' || text[pos] == '\t')) {
			/* a continuation line: unfold, keep the whitespace */
			if (have) {
				strbuf_addstr(&field, " ");
				strbuf_add(&field, text + pos, eol - pos);
			}
			pos = next;
			continue;
		}
		if (have) {
			const char *colon = memchr(field.buf, ':', field.len);
			size_t nlen = colon != NULL ? (size_t)(colon - field.buf) : 0;

			while (nlen > 0 && (field.buf[nlen - 1] == ' ' || field.buf[nlen - 1] == '\t'))
				nlen--;
			if (colon != NULL && nlen == 14 && strncasecmp(field.buf, "DKIM-Signature", 14) == 0) {
				add_sig(msg, colon + 1, field.len - (size_t)(colon + 1 - field.buf));
			} else if (colon != NULL && nlen == 4 && strncasecmp(field.buf, "From", 4) == 0) {
				/* the domain must be NUL-free text for the string scan */
				char *value = xstrndup(colon + 1, field.len - (size_t)(colon + 1 - field.buf));

				msg->nfrom++;
				free(msg->from_domain);
				msg->from_domain = dkim_from_domain(value);
				free(value);
			}
			have = false;
		}
		/* the end of the header section: end of text or an empty line */
		if (end || eol == pos || (eol == pos + 1 && text[pos] == '\r'))
			break;
		field.len = 0;
		strbuf_add(&field, text + pos, eol - pos);
		have = true;
		pos = next;
	}
	strbuf_release(&field);
}

void
dkim_msg_release(struct dkim_msg *msg)
{
	size_t i;

	for (i = 0; i < msg->nsig; i++) {
		dkim_tags_release(&msg->sig[i].tags);
		free(msg->sig[i].b);
		free(msg->sig[i].i_decoded);
	}
	free(msg->sig);
	free(msg->from_domain);
	memset(msg, 0, sizeof(*msg));
}

static int
fail(struct dkim_sig *sig, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Values in messages are VALCHAR (printable ASCII) by the tag-list syntax. */
static int
fail(struct dkim_sig *sig, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sig->why, sizeof(sig->why), fmt, ap);
	va_end(ap);
	return -1;
}

static bool
is_canon(const char *s, size_t n)
{
	return (n == 6 && strncmp(s, "simple", 6) == 0) ||
	    (n == 7 && strncmp(s, "relaxed", 7) == 0);
}

int
dkim_sig_check(struct dkim_sig *sig, int64_t now, bool *expired)
{
	static const char *const required[] = { "v", "a", "b", "bh", "d", "h", "s" };
	const char *slash, *dom;
	char why[128];
	size_t i;

	*expired = false;
	if (!sig->parsed)
		return -1;
	for (i = 0; i < ARRAY_SIZE(required); i++)
		if (dkim_tags_get(&sig->tags, required[i]) == NULL)
			return fail(sig, "the required tag %s= is missing (RFC 6376 3.5)", required[i]);
	/* RFC 6376 3.5 and 6.1.1: v= MUST be "1"; drafts used 0.5 or nothing */
	if (strcmp(sig->v, "1") != 0)
		return fail(sig, "v=%.40s: the signature version must be 1 (RFC 6376 3.5)", sig->v);
	if (strcmp(sig->a, "rsa-sha256") != 0 && strcmp(sig->a, "rsa-sha1") != 0 &&
	    strcmp(sig->a, "ed25519-sha256") != 0)
		return fail(sig, "a=%.40s is not a known signing algorithm", sig->a);
	if (sig->b[0] == '\0')
		return fail(sig, "b= is empty");
	if (dkim_tags_get(&sig->tags, "bh")[0] == '\0')
		return fail(sig, "bh= is empty");
	if (sig->d[0] == '\0')
		return fail(sig, "d= is empty");
	if (sig->s[0] == '\0')
		return fail(sig, "s= is empty");
	if (net_name_check(sig->d, false, why, sizeof(why)) < 0)
		return fail(sig, "d=%.40s is not a domain name: %s", sig->d, why);
	if (net_name_check(sig->s, true, why, sizeof(why)) < 0)
		return fail(sig, "s=%.40s is not a selector: %s", sig->s, why);
	if (sig->c != NULL) {
		slash = strchr(sig->c, '/');
		if (!is_canon(sig->c, slash != NULL ? (size_t)(slash - sig->c) : strlen(sig->c)) ||
		    (slash != NULL && !is_canon(slash + 1, strlen(slash + 1))))
			return fail(sig, "c=%.40s is not a known canonicalization", sig->c);
	}
	if (sig->q != NULL && !list_has_ci(sig->q, "dns/txt"))
		return fail(sig, "q=%.40s offers no known key query method (dns/txt)", sig->q);
	/* RFC 6376 6.1.1: the From header field MUST be signed */
	if (!list_has_ci(sig->h, "from"))
		return fail(sig, "h= does not include From (RFC 6376 6.1.1)");
	if (sig->l != NULL && number(sig->l) < 0)
		return fail(sig, "l=%.40s is not a number", sig->l);
	if (sig->i != NULL) {
		dom = strrchr(sig->i, '@');
		if (dom == NULL)
			return fail(sig, "i=%.40s has no '@'", sig->i);
		dom++;
		/* RFC 6376 3.5 i=: the domain is d= or a subdomain of it */
		if (!domain_ends_with(dom, sig->d))
			return fail(sig, "i=%.40s is not within d=", sig->i);
	}
	if (sig->t != NULL && sig->signed_at < 0)
		return fail(sig, "t=%.40s is not a timestamp", sig->t);
	if (sig->x != NULL && sig->expires < 0)
		return fail(sig, "x=%.40s is not a timestamp", sig->x);
	if (sig->expires >= 0 && sig->signed_at >= 0 && sig->expires < sig->signed_at)
		return fail(sig, "x=%.40s is before t= (RFC 6376 3.5)", sig->x);
	if (sig->expires >= 0 && sig->expires < now) {
		*expired = true;
		return fail(sig, "the signature expired (x=%.40s)", sig->x);
	}
	return 0;
}
