/* The RFC 6376 3.2 tag-list parser shared by DKIM key records and DKIM-Signature headers. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/dkim/tags.h"
#include "core/util.h"

/* FWS: folding whitespace; CR and LF only appear in folded header values */
static int
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* RFC 6376 3.2: VALCHAR = %x21-3A / %x3C-7E */
static int
is_valchar(int c)
{
	return (c >= 0x21 && c <= 0x3a) || (c >= 0x3c && c <= 0x7e);
}

static void
add_tag(struct dkim_tags *out, const char *name, size_t nlen, const char *val, size_t vlen)
{
	out->tag = xrealloc(out->tag, (out->n + 1) * sizeof(*out->tag));
	out->tag[out->n].name = xstrndup(name, nlen);
	out->tag[out->n].value = xstrndup(val, vlen);
	out->n++;
}

/* A printable copy of at most 20 bytes of a tag name for messages. */
static void
show_name(const char *p, size_t n, char *buf, size_t buflen)
{
	size_t i, o = 0;

	for (i = 0; i < n && i < 20 && o + 5 < buflen; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x21 && c <= 0x7e && c != '\'')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, buflen - o, "\\x%02x", c);
	}
	buf[o] = '\0';
}

int
dkim_tags_parse(const char *s, size_t len, struct dkim_tags *out, char *why, size_t whylen)
{
	size_t i = 0, j, nstart, nlen, vstart, vend;
	char shown[96];

	out->tag = NULL;
	out->n = 0;
	while (i < len) {
		while (i < len && is_ws((unsigned char)s[i]))
			i++;
		if (i == len)
			break;
		if (s[i] == ';') {
			i++;
			continue;
		}
		/* tag-name = ALPHA *ALNUMPUNC */
		nstart = i;
		if (!isalpha((unsigned char)s[i])) {
			for (j = i; j < len && s[j] != '=' && s[j] != ';'; j++)
				;
			show_name(s + i, j - i, shown, sizeof(shown));
			snprintf(why, whylen, "tag name '%s' does not start with a letter", shown);
			return -1;
		}
		while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '_'))
			i++;
		nlen = i - nstart;
		while (i < len && is_ws((unsigned char)s[i]))
			i++;
		show_name(s + nstart, nlen, shown, sizeof(shown));
		if (i == len || s[i] != '=') {
			if (i < len && s[i] != ';')
				snprintf(why, whylen, "tag '%s' has a bad character in its name", shown);
			else
				snprintf(why, whylen, "tag '%s' has no '='", shown);
			return -1;
		}
		i++;
		while (i < len && is_ws((unsigned char)s[i]))
			i++;
		vstart = i;
		vend = i;
		while (i < len && s[i] != ';') {
			unsigned char c = (unsigned char)s[i];

			if (!is_ws(c) && !is_valchar(c)) {
				snprintf(why, whylen, "tag '%s' has the invalid byte 0x%02x in its value",
				    shown, c);
				return -1;
			}
			i++;
			if (!is_ws(c))
				vend = i;
		}
		for (j = 0; j < out->n; j++) {
			if (strlen(out->tag[j].name) == nlen &&
			    memcmp(out->tag[j].name, s + nstart, nlen) == 0) {
				/* RFC 6376 3.2: a duplicate tag invalidates the whole list */
				snprintf(why, whylen, "duplicate tag '%s'", shown);
				return -1;
			}
		}
		add_tag(out, s + nstart, nlen, s + vstart, vend - vstart);
	}
	return 0;
}

const char *
dkim_tags_get(const struct dkim_tags *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->tag[i].name, name) == 0)
			return t->tag[i].value;
	return NULL;
}

void
dkim_tags_release(struct dkim_tags *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->tag[i].name);
		free(t->tag[i].value);
	}
	free(t->tag);
	t->tag = NULL;
	t->n = 0;
}

char *
dkim_strip_ws(const char *value)
{
	char *out = xmalloc(strlen(value) + 1), *o = out;

	for (; *value != '\0'; value++)
		if (!is_ws((unsigned char)*value))
			*o++ = *value;
	*o = '\0';
	return out;
}
