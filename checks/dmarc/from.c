/* The RFC5322.From of a message: its one header field, unfolded, reduced to the one address and its domain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks/dmarc/from.h"
#include "core/util.h"

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Length of the line at p (without its CRLF or LF), and *next past the line end. */
static size_t
line_len(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n;

	if (nl == NULL) {
		*next = end;
		return (size_t)(end - p);
	}
	*next = nl + 1;
	n = (size_t)(nl - p);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	return n;
}

/*
 * Collects the unfolded values of every "From:" field of the header section
 * (RFC 5322 2.2.3: unfolding removes the CRLF before WSP). Returns the count.
 */
static size_t
find_from(const char *msg, size_t len, char **first)
{
	const char *p = msg, *end = msg + len, *next;
	struct strbuf sb;
	size_t n, count = 0;
	bool in_from = false;

	*first = NULL;
	strbuf_init(&sb);
	while (p < end) {
		n = line_len(p, end, &next);
		if (n == 0)
			break;		/* the empty line ends the header section */
		if (is_wsp(p[0])) {
			if (in_from && count == 1)
				strbuf_add(&sb, p, n);
		} else {
			in_from = n >= 5 && strncasecmp(p, "from", 4) == 0;
			if (in_from) {
				size_t i = 4;

				/* RFC 5322 3.6.4 obs-from allows WSP before the colon */
				while (i < n && is_wsp(p[i]))
					i++;
				in_from = i < n && p[i] == ':';
				if (in_from && ++count == 1)
					strbuf_add(&sb, p + i + 1, n - i - 1);
			}
		}
		p = next;
	}
	if (count > 0)
		*first = strbuf_detach(&sb, NULL);
	strbuf_release(&sb);
	return count;
}

/*
 * Copies value without its comments (RFC 5322 3.2.2: nested parentheses,
 * quoted-pairs), keeping quoted strings as they are. -1 when a comment,
 * a quoted string or an angle bracket is left open.
 */
static int
strip_comments(const char *value, char **out)
{
	struct strbuf sb;
	const char *p;
	int depth = 0;
	bool quoted = false;
	int ret = -1;

	strbuf_init(&sb);
	for (p = value; *p != '\0'; p++) {
		if (*p == '\\' && (quoted || depth > 0) && p[1] != '\0') {
			if (depth == 0)
				strbuf_add(&sb, p, 2);
			p++;
			continue;
		}
		if (depth > 0) {
			if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			if (depth == 0)
				strbuf_addstr(&sb, " ");
			continue;
		}
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '(' && !quoted) {
			depth = 1;
			continue;
		}
		strbuf_add(&sb, p, 1);
	}
	if (depth == 0 && !quoted) {
		*out = strbuf_detach(&sb, NULL);
		ret = 0;
	}
	strbuf_release(&sb);
	return ret;
}

/* Removes unquoted whitespace (folding whitespace inside an addr-spec). */
static char *
squeeze(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t i, n = 0;
	bool quoted = false;

	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && quoted && i + 1 < len) {
			out[n++] = s[i++];
			out[n++] = s[i];
			continue;
		}
		if (s[i] == '"')
			quoted = !quoted;
		if (!quoted && (is_wsp(s[i]) || s[i] == '\r' || s[i] == '\n'))
			continue;
		out[n++] = s[i];
	}
	out[n] = '\0';
	return out;
}

/* True if s holds only whitespace. */
static bool
blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_wsp(s[i]) && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

/*
 * The addr-spec of one mailbox (RFC 5322 3.4): the text inside the angle
 * brackets of a name-addr, else the whole element. NULL when brackets are
 * unbalanced or something follows the closing one.
 */
static char *
mailbox_addr(const char *s, size_t len)
{
	size_t i, open = len, close = len;
	bool quoted = false;
	char *addr, *colon;

	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && quoted) {
			i++;
			continue;
		}
		if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && s[i] == '<' && open == len)
			open = i;
		else if (!quoted && s[i] == '>' && open != len && close == len)
			close = i;
		else if (!quoted && (s[i] == '<' || s[i] == '>'))
			return NULL;
	}
	if (open == len)
		return squeeze(s, len);
	if (close == len || !blank(s + close + 1, len - close - 1))
		return NULL;
	addr = squeeze(s + open + 1, close - open - 1);
	/* RFC 5322 4.4 obs-route: "<@a.example,@b.example:user@c.example>" */
	if (addr[0] == '@' && (colon = strchr(addr, ':')) != NULL)
		memmove(addr, colon + 1, strlen(colon + 1) + 1);
	return addr;
}

/* True if s has a ':' outside quotes and angle brackets: group syntax. */
static bool
unquoted_colon(const char *s, size_t len)
{
	size_t i;
	bool quoted = false;
	int angle = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && quoted) {
			i++;
			continue;
		}
		if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && s[i] == '<')
			angle++;
		else if (!quoted && s[i] == '>' && angle > 0)
			angle--;
		else if (!quoted && angle == 0 && s[i] == ':')
			return true;
	}
	return false;
}

/* The domain after the last unquoted '@' of an addr-spec, lower case; NULL if none. */
static char *
addr_domain(const char *addr)
{
	const char *p, *at = NULL;
	bool quoted = false;
	char *d;
	size_t n;

	for (p = addr; *p != '\0'; p++) {
		if (*p == '\\' && quoted && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '@' && !quoted)
			at = p;
	}
	if (at == NULL || at == addr || at[1] == '\0' || at[1] == '[')
		return NULL;
	d = xstrdup_lower(at + 1);
	n = strlen(d);
	if (n > 0 && d[n - 1] == '.')
		d[n - 1] = '\0';
	if (d[0] == '\0') {
		free(d);
		return NULL;
	}
	return d;
}

/*
 * RFC 5322 3.6.2: from = "From:" mailbox-list. Splits list (comments
 * removed) at unquoted, unbracketed commas; returns how many elements are
 * not blank, with the first of them in *first and *firstlen.
 */
static size_t
split_mailboxes(const char *list, const char **first, size_t *firstlen)
{
	const char *p, *start = list;
	size_t n = 0;
	bool quoted = false;
	int angle = 0;

	for (p = list;; p++) {
		if (*p == '\\' && quoted && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '<')
			angle++;
		else if (!quoted && *p == '>' && angle > 0)
			angle--;
		if (*p == '\0' || (*p == ',' && !quoted && angle == 0)) {
			if (!blank(start, (size_t)(p - start)) && n++ == 0) {
				*first = start;
				*firstlen = (size_t)(p - start);
			}
			if (*p == '\0')
				break;
			start = p + 1;
		}
	}
	return n;
}

int
dmarc_from_parse(const char *msg, size_t len, char **value, char **addr, char **domain,
    enum dmarc_from_error *code, char *why, size_t whylen)
{
	char *raw = NULL, *clean = NULL, *a = NULL;
	const char *elem = NULL;
	size_t count, nmail, elen = 0;
	int ret = -1;

	*value = NULL;
	*addr = NULL;
	*domain = NULL;
	*code = DMARC_FROM_SYNTAX;
	count = find_from(msg, len, &raw);
	if (count == 0) {
		*code = DMARC_FROM_MISSING;
		snprintf(why, whylen, "the message has no From header field");
		goto out;
	}
	*value = xstrdup(raw);
	if (count > 1) {
		/* RFC 5322 3.6: exactly one From field; RFC 7489 6.6.1 */
		*code = DMARC_FROM_MULTIPLE_FIELDS;
		snprintf(why, whylen, "the message has %zu From header fields", count);
		goto out;
	}
	if (strip_comments(raw, &clean) < 0) {
		snprintf(why, whylen, "the From field has an unclosed comment or quoted string");
		goto out;
	}
	nmail = split_mailboxes(clean, &elem, &elen);
	if (nmail == 0) {
		snprintf(why, whylen, "the From field holds no address");
		goto out;
	}
	if (nmail > 1) {
		*code = DMARC_FROM_MULTIPLE_ADDRESSES;
		snprintf(why, whylen, "the From field holds %zu addresses", nmail);
		goto out;
	}
	if (unquoted_colon(elem, elen)) {
		/* a group ("name: a@b;") is not allowed in From (RFC 5322 3.6.2) */
		snprintf(why, whylen, "the From field holds a group, not a mailbox");
		goto out;
	}
	if ((a = mailbox_addr(elem, elen)) == NULL) {
		snprintf(why, whylen, "the From field has unbalanced angle brackets");
		goto out;
	}
	if ((*domain = addr_domain(a)) == NULL) {
		snprintf(why, whylen, "the From address has no domain");
		goto out;
	}
	*addr = a;
	a = NULL;
	*code = DMARC_FROM_OK;
	ret = 0;
out:
	free(a);
	free(clean);
	free(raw);
	return ret;
}
