/* The header fields of a sample message, unfolded, and the one-click unsubscribe fields read from them. */
#include "checks/bulk/headers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Ends the field gathered in sb (name: value) into h. */
static void
add_field(struct bulk_headers *h, const struct strbuf *sb)
{
	const char *colon = sb->len > 0 ? memchr(sb->buf, ':', sb->len) : NULL;
	size_t nlen, vstart, vend;
	struct bulk_field *f;

	if (colon == NULL)
		return;
	if (h->n == BULK_MAX_FIELDS) {
		h->truncated = true;
		return;
	}
	nlen = (size_t)(colon - sb->buf);
	while (nlen > 0 && is_blank(sb->buf[nlen - 1]))
		nlen--;
	vstart = (size_t)(colon - sb->buf) + 1;
	vend = sb->len;
	while (vstart < vend && is_blank(sb->buf[vstart]))
		vstart++;
	while (vend > vstart && is_blank(sb->buf[vend - 1]))
		vend--;
	if (vend - vstart > BULK_VALUE_MAX) {
		vend = vstart + BULK_VALUE_MAX;
		h->truncated = true;
	}
	h->f = xrealloc(h->f, (h->n + 1) * sizeof(*h->f));
	f = &h->f[h->n++];
	f->name = xstrndup(sb->buf, nlen);
	f->value = xmalloc(vend - vstart + 1);
	memcpy(f->value, sb->buf + vstart, vend - vstart);
	f->value[vend - vstart] = '\0';
}

void
bulk_headers_parse(const char *text, size_t len, struct bulk_headers *h)
{
	struct strbuf field;
	size_t pos = 0;
	bool have = false;

	memset(h, 0, sizeof(*h));
	strbuf_init(&field);
	for (;;) {
		size_t eol = pos, next, n;

		if (pos >= len) {
			h->no_body_separator = true;
			break;
		}
		while (eol < len && text[eol] != '\n')
			eol++;
		next = eol < len ? eol + 1 : len;
		n = eol > pos && text[eol - 1] == '\r' ? eol - 1 - pos : eol - pos;
		/* RFC 5322 2.1: the header section ends at the first empty line */
		if (n == 0)
			break;
		if (is_blank(text[pos])) {
			/* RFC 5322 2.2.3: unfolding removes the CRLF, keeps the blank */
			if (have && field.len < BULK_VALUE_MAX + 1000)
				strbuf_add(&field, text + pos, n);
		} else {
			if (have)
				add_field(h, &field);
			field.len = 0;
			strbuf_add(&field, text + pos, n);
			have = true;
		}
		pos = next;
	}
	if (have)
		add_field(h, &field);
	strbuf_release(&field);
}

void
bulk_headers_release(struct bulk_headers *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		free(h->f[i].name);
		free(h->f[i].value);
	}
	free(h->f);
	memset(h, 0, sizeof(*h));
}

size_t
bulk_headers_count(const struct bulk_headers *h, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->f[i].name, name) == 0)
			n++;
	return n;
}

const char *
bulk_headers_get(const struct bulk_headers *h, const char *name)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->f[i].name, name) == 0)
			return h->f[i].value;
	return NULL;
}

int
bulk_unsubscribe_https(const char *value, char **uri, char *why, size_t whylen)
{
	const char *p = value, *open, *close;
	char schemes[64] = "";
	size_t nuri = 0, slen;

	*uri = NULL;
	/* RFC 2369 2: each URI in angle brackets; text outside them is ignored */
	while ((open = strchr(p, '<')) != NULL && (close = strchr(open + 1, '>')) != NULL) {
		const char *u = open + 1, *colon = memchr(u, ':', (size_t)(close - u));

		nuri++;
		if (colon != NULL && colon - u == 5 && strncasecmp(u, "https", 5) == 0 &&
		    close - colon > 3) {
			*uri = xstrndup(u, (size_t)(close - u));
			return 0;
		}
		slen = strlen(schemes);
		if (colon != NULL && colon > u && colon - u < 16 && slen + 20 < sizeof(schemes))
			snprintf(schemes + slen, sizeof(schemes) - slen, "%s%.*s:", slen ? ", " : "",
			    (int)(colon - u), u);
		p = close + 1;
	}
	if (nuri == 0)
		snprintf(why, whylen, "no URI in angle brackets (RFC 2369 2)");
	else if (schemes[0] != '\0')
		snprintf(why, whylen, "only %s, no https: URI (RFC 8058 3.1)", schemes);
	else
		snprintf(why, whylen, "no https: URI (RFC 8058 3.1)");
	return -1;
}

bool
bulk_one_click_post(const char *value)
{
	static const char want[] = "List-Unsubscribe=One-Click";
	size_t n = strlen(value);

	while (n > 0 && is_blank(value[n - 1]))
		n--;
	while (n > 0 && is_blank(*value)) {
		value++;
		n--;
	}
	/* RFC 8058 3.1 gives the exact text; receivers match it without regard to case */
	return n == sizeof(want) - 1 && strncasecmp(value, want, n) == 0;
}
