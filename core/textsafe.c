/* Hostile text made safe: strict UTF-8 validation, visible escapes for JSON and terminals. */
#include "core/textsafe.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/*
 * Length of the valid UTF-8 sequence at s (at most len bytes), and its code
 * point in *cp; 0 when the bytes there are not a valid sequence. Strict per
 * RFC 3629 section 4: no overlong forms, no surrogates (U+D800..U+DFFF),
 * nothing above U+10FFFF.
 */
static size_t
utf8_seq(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char b = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;
	uint32_t c;

	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	if (b >= 0xc2 && b <= 0xdf) {
		n = 2;
		c = b & 0x1f;
	} else if (b >= 0xe0 && b <= 0xef) {
		n = 3;
		c = b & 0x0f;
		if (b == 0xe0)
			lo = 0xa0;	/* overlong below U+0800 */
		else if (b == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (b >= 0xf0 && b <= 0xf4) {
		n = 4;
		c = b & 0x07;
		if (b == 0xf0)
			lo = 0x90;	/* overlong below U+10000 */
		else if (b == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else
		return 0;	/* stray continuation, C0/C1 overlong leads, F5..FF */
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		unsigned char lim_lo = i == 1 ? lo : 0x80;
		unsigned char lim_hi = i == 1 ? hi : 0xbf;

		if (s[i] < lim_lo || s[i] > lim_hi)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	*cp = c;
	return n;
}

static void
add_hex(struct strbuf *sb, const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		strbuf_addf(sb, "\\x%02x", s[i]);
}

/*
 * Code points a terminal would act on rather than show: C0, DEL, C1, and
 * the invisible ones that reorder or break lines (bidi embeddings,
 * overrides and isolates, LRM/RLM, U+2028/U+2029), which could make a
 * hostile message display as something other than what it says.
 */
static int
term_unsafe(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7f)
		return 1;
	if (cp >= 0x80 && cp <= 0x9f)
		return 1;
	if (cp == 0x200e || cp == 0x200f)
		return 1;
	if (cp >= 0x2028 && cp <= 0x202e)
		return 1;
	if (cp >= 0x2066 && cp <= 0x2069)
		return 1;
	return 0;
}

static char *
clean(const char *s, size_t len, int term)
{
	const unsigned char *p = (const unsigned char *)s;
	struct strbuf sb;
	size_t i = 0, n;
	uint32_t cp;

	strbuf_init(&sb);
	strbuf_add(&sb, "", 0);
	if (p == NULL)
		return strbuf_detach(&sb, NULL);
	while (i < len) {
		n = utf8_seq(p + i, len - i, &cp);
		if (n == 0) {
			/* one byte at a time: what follows may start a valid sequence */
			add_hex(&sb, p + i, 1);
			i++;
			continue;
		}
		if (cp == 0 || (term && term_unsafe(cp)))
			add_hex(&sb, p + i, n);
		else
			strbuf_add(&sb, p + i, n);
		i += n;
	}
	return strbuf_detach(&sb, NULL);
}

/* True when the len bytes at s are valid UTF-8 without NUL: what sanitizing keeps as it is. */
static bool
utf8_clean(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if (p[i] >= 0x01 && p[i] < 0x80) {
			i++;
			continue;
		}
		if (p[i] == 0 || (n = utf8_seq(p + i, len - i, &cp)) == 0)
			return false;
		i += n;
	}
	return true;
}

bool
json_is_clean(const json_t *v)
{
	const char *key;
	json_t *val;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return utf8_clean(json_string_value(v), json_string_length(v));
	case JSON_OBJECT:
		/* jansson offers no iteration over a const object */
		json_object_foreach((json_t *)(uintptr_t)v, key, val)
			if (!utf8_clean(key, strlen(key)) || !json_is_clean(val))
				return false;
		return true;
	case JSON_ARRAY:
		for (i = 0; i < json_array_size(v); i++)
			if (!json_is_clean(json_array_get(v, i)))
				return false;
		return true;
	default:
		return true;
	}
}

char *
text_utf8_sanitize(const char *s, size_t len)
{
	return clean(s, len, 0);
}

char *
text_term_escape(const char *s, size_t len)
{
	return clean(s, len, 1);
}

json_t *
json_text(const char *s, size_t len)
{
	char *safe = NULL;
	json_t *j;

	/* most text is clean already: one copy, into the JSON string itself */
	if (s != NULL && utf8_clean(s, len)) {
		j = json_stringn_nocheck(s, len);
	} else {
		safe = text_utf8_sanitize(s, len);
		/* safe is valid UTF-8 without NUL, so only out of memory can fail here */
		j = json_stringn_nocheck(safe, strlen(safe));
	}
	free(safe);
	if (j == NULL) {
		fputs("why550: out of memory\n", stderr);
		abort();
	}
	return j;
}

json_t *
json_str(const char *s)
{
	if (s == NULL)
		return json_null();
	return json_text(s, strlen(s));
}

json_t *
json_sanitize(const json_t *v)
{
	json_t *out, *val;
	const char *key;
	size_t i;

	if (v == NULL)
		return json_null();
	/* shared, not copied, when there is nothing to change: each string is sanitized once */
	if (json_is_clean(v))
		return json_incref((json_t *)(uintptr_t)v);
	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_text(json_string_value(v), json_string_length(v));
	case JSON_OBJECT:
		out = json_object();
		/* jansson offers no iteration over a const object */
		json_object_foreach((json_t *)(uintptr_t)v, key, val) {
			char *k = text_utf8_sanitize(key, strlen(key));

			json_object_set_new_nocheck(out, k, json_sanitize(val));
			free(k);
		}
		return out;
	case JSON_ARRAY:
		out = json_array();
		for (i = 0; i < json_array_size(v); i++)
			json_array_append_new(out, json_sanitize(json_array_get(v, i)));
		return out;
	default:
		return json_deep_copy(v);
	}
}

void
text_quote(char *dst, size_t dstlen, const char *s, size_t n, size_t max)
{
	size_t i, o = 0, take = n > max ? max : n;

	if (dstlen == 0)
		return;
	/* ASCII only, byte by byte: a message must show exactly which byte is wrong */
	for (i = 0; i < take && o + 5 < dstlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\'')
			dst[o++] = (char)c;
		else
			o += (size_t)snprintf(dst + o, dstlen - o, "\\x%02x", c);
	}
	if (i < n && o + 4 < dstlen) {
		/* the length tells a cut excerpt from a short input that ends in dots */
		int k = snprintf(dst + o, dstlen - o, "... (%zu bytes)", n);

		if (k < 0 || (size_t)k >= dstlen - o)
			k = snprintf(dst + o, dstlen - o, "...");
		o += k > 0 ? (size_t)k : 0;
	}
	dst[o] = '\0';
}

size_t
text_term_unsafe_at(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		n = utf8_seq(p + i, len - i, &cp);
		if (n == 0 || cp == 0 || (cp != '\t' && term_unsafe(cp)))
			return i;
		i += n;
	}
	return len;
}
