/* SMTP replies: lines, codes and enhanced status codes read from a server's bytes, however they were split. */
#include "checks/smtp/reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * RFC 5321 4.2: Reply-code = %x32-35 %x30-35 %x30-39. Checks the first n
 * bytes (n <= 3) of a code, so that a partial line is judged early.
 */
static bool
code_prefix_ok(const char *p, size_t n)
{
	if (n > 0 && (p[0] < '2' || p[0] > '5'))
		return false;
	if (n > 1 && (p[1] < '0' || p[1] > '5'))
		return false;
	if (n > 2 && !is_digit(p[2]))
		return false;
	return true;
}

/* The separator after the code: '-' (more lines), ' ' or the end of the line (the last). */
static bool
sep_ok(const char *line, size_t n)
{
	return n == 3 || line[3] == '-' || line[3] == ' ';
}

/*
 * One line of n bytes (LF and a CR before it removed) at line, the linesth
 * of the reply: 0 with *code (the first line sets it) and *last, -1 with why.
 */
static int
check_line(const char *line, size_t n, size_t lines, int *code, bool *last, char *why,
    size_t whylen)
{
	int c;

	if (n < 3 || !code_prefix_ok(line, 3) || !sep_ok(line, n)) {
		snprintf(why, whylen, "line %zu of the reply does not start with a reply code "
		    "(RFC 5321 4.2)", lines + 1);
		return -1;
	}
	c = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (lines > 0 && c != *code) {
		/* RFC 5321 4.2.1: every line of a multi-line reply carries the same code */
		snprintf(why, whylen, "a reply with the codes %d and %d", *code, c);
		return -1;
	}
	*code = c;
	*last = n == 3 || line[3] == ' ';
	return 0;
}

/* A line not yet ended (n bytes): 0 if it could still become a reply line, -1 with why. */
static int
check_partial(const char *line, size_t n, char *why, size_t whylen)
{
	size_t k = n < 3 ? n : 3;

	if (n > SMTP_LINE_MAX) {
		snprintf(why, whylen, "a reply line over %d octets", SMTP_LINE_MAX);
		return -1;
	}
	/* a CR may end a line whose LF is still on the way */
	if (!code_prefix_ok(line, k) || (n > 3 && line[3] != '-' && line[3] != ' ' &&
	    line[3] != '\r')) {
		snprintf(why, whylen, "the server sent bytes that are not a reply line "
		    "(RFC 5321 4.2)");
		return -1;
	}
	return 0;
}

/* RFC 3463 2: class "." subject "." detail, subject and detail of 1 to 3 digits; then SP or end. */
static void
find_enhanced(const char *text, size_t n, int code, char *out, size_t outlen)
{
	size_t i = 0, part, digits;

	out[0] = '\0';
	if (n < 5 || text[0] != '0' + code / 100)
		return;
	i = 1;
	for (part = 0; part < 2; part++) {
		if (i >= n || text[i] != '.')
			return;
		i++;
		for (digits = 0; i < n && is_digit(text[i]) && digits < 4; i++)
			digits++;
		if (digits == 0 || digits > 3)
			return;
	}
	if (i < n && text[i] != ' ' && text[i] != '\t')
		return;
	if (i < outlen)
		snprintf(out, outlen, "%.*s", (int)i, text);
}

/* The text of each line (after "NNN-") joined with "\n" into out. */
static void
fill(const char *buf, size_t end, size_t nlines, int code, struct smtp_reply *out)
{
	struct strbuf sb;
	size_t pos = 0, n;

	strbuf_init(&sb);
	while (pos < end) {
		const char *line = buf + pos, *nl = memchr(line, '\n', end - pos);

		n = (size_t)(nl - line);
		pos += n + 1;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (line != buf)
			strbuf_add(&sb, "\n", 1);
		if (n > 4)
			strbuf_add(&sb, line + 4, n - 4);
		if (line == buf)
			find_enhanced(n > 4 ? line + 4 : "", n > 4 ? n - 4 : 0, code,
			    out->enhanced, sizeof(out->enhanced));
	}
	out->code = code;
	out->nlines = nlines;
	out->text = strbuf_detach(&sb, &out->textlen);
	out->raw = xmalloc(end + 1);
	memcpy(out->raw, buf, end);
	out->raw[end] = '\0';
	out->rawlen = end;
}

int
smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *out, size_t *used,
    char *why, size_t whylen)
{
	size_t pos = 0, lines = 0;
	int code = 0;
	bool last = false;

	while (!last) {
		const char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
		size_t n;

		if (nl == NULL)
			return check_partial(line, len - pos, why, whylen);
		n = (size_t)(nl - line);
		if (n + 1 > SMTP_LINE_MAX) {
			snprintf(why, whylen, "a reply line over %d octets", SMTP_LINE_MAX);
			return -1;
		}
		if (lines == SMTP_REPLY_MAX_LINES) {
			snprintf(why, whylen, "a reply of over %d lines", SMTP_REPLY_MAX_LINES);
			return -1;
		}
		if (check_line(line, n > 0 && line[n - 1] == '\r' ? n - 1 : n, lines, &code,
		    &last, why, whylen) < 0)
			return -1;
		lines++;
		pos += n + 1;
	}
	memset(out, 0, sizeof(*out));
	fill(buf, pos, lines, code, out);
	*used = pos;
	return 1;
}

void
smtp_reply_release(struct smtp_reply *r)
{
	if (r == NULL)
		return;
	free(r->text);
	free(r->raw);
	memset(r, 0, sizeof(*r));
}

int
smtp_reply_class(const struct smtp_reply *r)
{
	return r->code / 100;
}

void
smtp_reply_ehlo_keywords(const struct smtp_reply *r,
    void (*fn)(const char *keyword, const char *line, size_t linelen, void *arg), void *arg)
{
	const char *p = r->text, *end = r->text + r->textlen;
	bool first = true;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p), k;
		char kw[64];

		if (!first && n > 0 && is_alnum(p[0])) {
			for (k = 0; k < n && k < sizeof(kw) - 1 && (is_alnum(p[k]) || p[k] == '-');
			    k++)
				kw[k] = p[k] >= 'a' && p[k] <= 'z' ? (char)(p[k] - 32) : p[k];
			kw[k] = '\0';
			/* a keyword ends the line or is followed by its parameters */
			if (k == n || p[k] == ' ' || p[k] == '=')
				fn(kw, p, n, arg);
		}
		first = false;
		p += n + 1;
	}
}
