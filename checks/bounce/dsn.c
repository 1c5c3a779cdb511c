/* The bounce as it arrives: a mail message read with GMime into readable text and RFC 3464 recipient fields. */
#include "checks/bounce/dsn.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "core/util.h"

/* Header lines looked at to tell a message from a pasted reply. */
#define HEAD_LINES	64
/* Parts below the top a message may nest; deeper ones are not read. */
#define MAX_DEPTH	8
/* "boundary=" parameters beyond which the text is read as plain text, not MIME. */
#define MAX_BOUNDARIES	64

/* Header fields only a message has (RFC 5322 3.6, RFC 2045 3, RFC 5321 4.4). */
static const char *const message_fields[] = {
	"from", "to", "subject", "date", "received", "return-path", "message-id",
	"mime-version", "content-type", "delivered-to", "x-failed-recipients",
	"auto-submitted", "sender", "reply-to", NULL,
};

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void
gmime_start(void)
{
	g_mime_init();
}

/* Length of the field name at s (up to the colon), or 0 when the line is no header field. */
static size_t
field_name_len(const char *s, size_t len)
{
	size_t i;

	/* RFC 5322 2.2: printable US-ASCII except colon, then a colon */
	for (i = 0; i < len && s[i] > ' ' && s[i] < 0x7f && s[i] != ':'; i++)
		;
	return i > 0 && i < len && s[i] == ':' ? i : 0;
}

static bool
field_is(const char *s, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(s, name, n) == 0;
}

/* The end of the line that starts at p (the '\n' or the end). */
static const char *
line_end(const char *p, const char *lim)
{
	const char *nl = memchr(p, '\n', (size_t)(lim - p));

	return nl != NULL ? nl : lim;
}

/*
 * True if the text starts with a message header: field lines (folded
 * ones allowed, an mbox "From " line first) with at least one field that
 * only a message has, up to the blank line.
 */
static bool
looks_like_message(const char *s, size_t len)
{
	const char *p = s, *lim = s + len;
	bool known = false;
	int n;

	if (len > 5 && memcmp(s, "From ", 5) == 0)
		p = line_end(p, lim) + 1;
	for (n = 0; p < lim && n < HEAD_LINES; n++) {
		const char *e = line_end(p, lim);
		size_t l = (size_t)(e - p), k, i;

		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (l == 0)
			return known;
		if (p[0] == ' ' || p[0] == '\t') {
			if (n == 0)
				return false;
		} else if ((k = field_name_len(p, l)) == 0) {
			return false;
		} else {
			for (i = 0; message_fields[i] != NULL; i++)
				if (field_is(p, k, message_fields[i]))
					known = true;
		}
		p = e + 1;
	}
	return known;
}

/* How many times "boundary=" occurs, up to MAX_BOUNDARIES + 1. */
static int
count_boundaries(const char *s, size_t len)
{
	const char *p = s, *lim = s + len;
	int n = 0;

	while (n <= MAX_BOUNDARIES && (p = memchr(p, '=', (size_t)(lim - p))) != NULL) {
		if (p - s >= 8 && strncasecmp(p - 8, "boundary", 8) == 0)
			n++;
		p++;
	}
	return n;
}

/* A copy of n bytes with the leading "type;" of a DSN field and blanks removed, or NULL if empty. */
static char *
field_value(const char *v, size_t n, bool typed)
{
	const char *semi;
	char *out;
	size_t i;

	if (typed && (semi = memchr(v, ';', n)) != NULL) {
		n -= (size_t)(semi + 1 - v);
		v = semi + 1;
	}
	while (n > 0 && isspace((unsigned char)*v)) {
		v++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)v[n - 1]))
		n--;
	if (n > DSN_MAX_FIELD)
		n = DSN_MAX_FIELD;
	if (n == 0)
		return NULL;
	out = xmalloc(n + 1);
	/* a NUL or another control byte must not end the value early */
	for (i = 0; i < n; i++)
		out[i] = (unsigned char)v[i] < 0x20 && v[i] != '\n' && v[i] != '\t' ? ' ' : v[i];
	out[n] = '\0';
	return out;
}

/* The recipient block being filled: a new one when the current one already has the field. */
static struct dsn_rcpt *
rcpt_for(struct dsn *d, bool fresh)
{
	if (d->nrcpts == 0 || fresh) {
		if (d->nrcpts == DSN_MAX_RCPTS)
			return NULL;
		d->rcpts = xrealloc(d->rcpts, (d->nrcpts + 1) * sizeof(*d->rcpts));
		memset(&d->rcpts[d->nrcpts], 0, sizeof(*d->rcpts));
		d->nrcpts++;
	}
	return &d->rcpts[d->nrcpts - 1];
}

static bool
rcpt_empty(const struct dsn_rcpt *r)
{
	return r->recipient == NULL && r->action == NULL && r->status == NULL &&
	    r->remote_mta == NULL && r->diagnostic == NULL;
}

/* Sets *slot to v (owned) unless it is set: the first value of a field counts. */
static void
set_once(char **slot, char *v)
{
	if (*slot == NULL)
		*slot = v;
	else
		free(v);
}

/* One unfolded field "name: value" of a delivery status (RFC 3464 2.2, 2.3). */
static void
take_field(struct dsn *d, const char *name, size_t n, const char *v, size_t vlen, bool *block)
{
	struct dsn_rcpt *r = d->nrcpts > 0 ? &d->rcpts[d->nrcpts - 1] : NULL;
	bool recip = field_is(name, n, "final-recipient") || field_is(name, n, "original-recipient");

	if (field_is(name, n, "reporting-mta")) {
		set_once(&d->reporting_mta, field_value(v, vlen, true));
		return;
	}
	if (!recip && !field_is(name, n, "action") && !field_is(name, n, "status") &&
	    !field_is(name, n, "remote-mta") && !field_is(name, n, "diagnostic-code"))
		return;
	/* a blank line, or a second recipient field, starts the next recipient */
	if ((r = rcpt_for(d, r == NULL || (*block && !rcpt_empty(r)) ||
	    (field_is(name, n, "final-recipient") && r->recipient != NULL))) == NULL)
		return;
	*block = false;
	if (recip)
		set_once(&r->recipient, field_value(v, vlen, true));
	else if (field_is(name, n, "action"))
		set_once(&r->action, field_value(v, vlen, false));
	else if (field_is(name, n, "status"))
		set_once(&r->status, field_value(v, vlen, false));
	else if (field_is(name, n, "remote-mta"))
		set_once(&r->remote_mta, field_value(v, vlen, true));
	else
		set_once(&r->diagnostic, field_value(v, vlen, true));
	if (r->action != NULL)
		str_lower(r->action);
}

/*
 * The delivery status fields of s: each field starts a line at its first
 * column; indented lines continue it. Lines that are not status fields are
 * passed over, so a status block pasted inside other text is found too.
 */
static void
read_fields(struct dsn *d, const char *s, size_t len)
{
	const char *p = s, *lim = s + len;
	struct strbuf val;
	const char *name = NULL;
	size_t nlen = 0;
	bool block = false;

	strbuf_init(&val);
	while (p < lim) {
		const char *e = line_end(p, lim);
		size_t l = (size_t)(e - p), k;

		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (l > 0 && (p[0] == ' ' || p[0] == '\t') && name != NULL) {
			/* the line break stays: a folded multi-line reply keeps its lines */
			if (val.len < DSN_MAX_FIELD) {
				strbuf_add(&val, "\n", 1);
				strbuf_add(&val, p, l);
			}
		} else {
			if (name != NULL)
				take_field(d, name, nlen, val.buf, val.len, &block);
			name = NULL;
			val.len = 0;
			if (l == 0)
				block = true;
			if ((k = field_name_len(p, l)) > 0) {
				name = p;
				nlen = k;
				strbuf_add(&val, p + k + 1, l - k - 1);
			}
		}
		p = e + 1;
	}
	if (name != NULL)
		take_field(d, name, nlen, val.buf, val.len, &block);
	strbuf_release(&val);
	/* a block without any field names nothing */
	while (d->nrcpts > 0 && rcpt_empty(&d->rcpts[d->nrcpts - 1]))
		d->nrcpts--;
}

/* Appends the entity for "&name;" or "&#N;" at s (n bytes, after the '&'); the bytes used, or 0. */
static size_t
add_entity(struct strbuf *sb, const char *s, size_t n)
{
	static const struct {
		const char *name;
		const char *text;
	} ents[] = {
		{ "amp;", "&" }, { "lt;", "<" }, { "gt;", ">" }, { "quot;", "\"" },
		{ "apos;", "'" }, { "nbsp;", " " }, { "#39;", "'" },
	};
	size_t i, k;
	unsigned long cp = 0;

	for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
		size_t l = strlen(ents[i].name);

		if (n >= l && strncasecmp(s, ents[i].name, l) == 0) {
			strbuf_addstr(sb, ents[i].text);
			return l;
		}
	}
	if (n < 3 || s[0] != '#')
		return 0;
	for (k = 1; k < n && k < 8 && isdigit((unsigned char)s[k]); k++)
		cp = cp * 10 + (unsigned long)(s[k] - '0');
	if (k == 1 || k >= n || s[k] != ';')
		return 0;
	/* characters below 0x80 only: the rest is rare in a reply and stays as written */
	if (cp < 0x20 || cp > 0x7e)
		return 0;
	strbuf_add(sb, &(char){ (char)cp }, 1);
	return k + 1;
}

/* True if the tag at s (after '<', n bytes) is one of names, closing or not. */
static bool
tag_is(const char *s, size_t n, const char *const *names)
{
	size_t i, l;

	if (n > 0 && s[0] == '/') {
		s++;
		n--;
	}
	for (i = 0; names[i] != NULL; i++) {
		l = strlen(names[i]);
		if (n >= l && strncasecmp(s, names[i], l) == 0 &&
		    (n == l || !isalnum((unsigned char)s[l])))
			return true;
	}
	return false;
}

/*
 * HTML as the text a browser shows, roughly: tags dropped (block tags end
 * a line), the contents of head, style and script dropped, the common
 * entities decoded.
 */
static void
add_html(struct strbuf *sb, const char *s, size_t n)
{
	static const char *const blocks[] = { "br", "p", "div", "tr", "li", "h1", "h2", "h3",
		"h4", "table", "pre", "blockquote", NULL };
	static const char *const hidden[] = { "head", "style", "script", "title", NULL };
	size_t i = 0;
	bool skip = false;

	while (i < n) {
		if (s[i] == '<') {
			const char *gt = memchr(s + i, '>', n - i);
			size_t tl = gt != NULL ? (size_t)(gt - (s + i)) - 1 : n - i - 1;

			if (tag_is(s + i + 1, tl, hidden))
				skip = s[i + 1] != '/';
			else if (!skip && tag_is(s + i + 1, tl, blocks))
				strbuf_add(sb, "\n", 1);
			else if (!skip)
				strbuf_add(sb, " ", 1);
			i = gt != NULL ? (size_t)(gt - s) + 1 : n;
			continue;
		}
		if (!skip) {
			size_t used = s[i] == '&' ? add_entity(sb, s + i + 1, n - i - 1) : 0;

			if (used > 0) {
				i += used + 1;
				continue;
			}
			/* HTML folds its source lines: a newline is a space */
			strbuf_add(sb, s[i] == '\n' || s[i] == '\r' ? " " : s + i, 1);
		}
		i++;
	}
	strbuf_add(sb, "\n", 1);
}

/* The decoded bytes of a leaf part, in UTF-8 when it is text with a charset GMime knows. */
static GByteArray *
part_bytes(GMimePart *part, bool text)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *mem, *out;
	GByteArray *bytes;
	const char *cs;

	if (w == NULL)
		return NULL;
	mem = g_mime_stream_mem_new();
	out = mem;
	cs = text ? g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset") : NULL;
	if (cs != NULL && g_ascii_strcasecmp(cs, "utf-8") != 0 &&
	    g_ascii_strcasecmp(cs, "us-ascii") != 0) {
		GMimeFilter *f = g_mime_filter_charset_new(cs, "UTF-8");

		if (f != NULL) {
			out = g_mime_stream_filter_new(mem);
			g_mime_stream_filter_add(GMIME_STREAM_FILTER(out), f);
			g_object_unref(f);
		}
	}
	g_mime_data_wrapper_write_to_stream(w, out);
	g_mime_stream_flush(out);
	if (out != mem)
		g_object_unref(out);
	/* the array belongs to the stream: copy it out before the stream goes */
	bytes = g_byte_array_new();
	g_byte_array_append(bytes, g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem))->data,
	    g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem))->len);
	g_object_unref(mem);
	return bytes;
}

/* One part and, for a multipart, the parts in it: readable text to sb, status fields to d. */
static void
walk(GMimeObject *obj, int depth, struct dsn *d, struct strbuf *sb)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	GByteArray *b;
	int i, n;

	if (depth > MAX_DEPTH || sb->len >= DSN_MAX_MESSAGE)
		return;
	if (GMIME_IS_MULTIPART(obj)) {
		n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
		for (i = 0; i < n; i++)
			walk(g_mime_multipart_get_part(GMIME_MULTIPART(obj), i), depth + 1, d, sb);
		return;
	}
	/* message/rfc822 and text/rfc822-headers: the returned original is not the reply */
	if (!GMIME_IS_PART(obj) || ct == NULL ||
	    g_mime_content_type_is_type(ct, "text", "rfc822-headers"))
		return;
	if (g_mime_content_type_is_type(ct, "message", "delivery-status") ||
	    g_mime_content_type_is_type(ct, "message", "global-delivery-status")) {
		if ((b = part_bytes(GMIME_PART(obj), false)) != NULL) {
			read_fields(d, (const char *)b->data, b->len);
			g_byte_array_unref(b);
		}
		return;
	}
	if (!g_mime_content_type_is_type(ct, "text", "*"))
		return;
	if ((b = part_bytes(GMIME_PART(obj), true)) == NULL)
		return;
	if (g_mime_content_type_is_type(ct, "text", "html")) {
		add_html(sb, (const char *)b->data, b->len);
	} else {
		strbuf_add(sb, b->data, b->len);
		strbuf_add(sb, "\n", 1);
	}
	g_byte_array_unref(b);
}

/* Parses the message with GMime: 0, or -1 when GMime found no message in it. */
static int
read_message(const char *bytes, size_t len, struct dsn *d)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	GMimeObject *body;
	struct strbuf sb;
	int ret = -1;

	pthread_once(&gmime_once, gmime_start);
	strbuf_init(&sb);
	stream = g_mime_stream_mem_new_with_buffer(bytes, len);
	parser = g_mime_parser_new_with_stream(stream);
	/* an mbox "From " line first is read as the envelope */
	g_mime_parser_set_format(parser, len > 5 && memcmp(bytes, "From ", 5) == 0 ?
	    GMIME_FORMAT_MBOX : GMIME_FORMAT_MESSAGE);
	msg = g_mime_parser_construct_message(parser, NULL);
	if (msg == NULL || (body = g_mime_message_get_mime_part(msg)) == NULL)
		goto out;
	walk(body, 0, d, &sb);
	/* a broken structure (a boundary no part uses) hides every part: read the text as it is */
	if (sb.len == 0 && d->nrcpts == 0)
		goto out;
	/* a report without a delivery-status part may still carry its fields in the text */
	if (d->nrcpts == 0)
		read_fields(d, sb.buf, sb.len);
	d->text = strbuf_detach(&sb, &d->len);
	if (d->text == NULL)
		d->text = xstrdup("");
	d->message = true;
	ret = 0;
out:
	strbuf_release(&sb);
	if (msg != NULL)
		g_object_unref(msg);
	g_object_unref(parser);
	g_object_unref(stream);
	return ret;
}

void
dsn_read(const char *bytes, size_t len, struct dsn *d)
{
	memset(d, 0, sizeof(*d));
	if (len <= DSN_MAX_MESSAGE && looks_like_message(bytes, len) &&
	    count_boundaries(bytes, len) <= MAX_BOUNDARIES && read_message(bytes, len, d) == 0)
		return;
	read_fields(d, bytes, len);
}

void
dsn_release(struct dsn *d)
{
	size_t i;

	for (i = 0; i < d->nrcpts; i++) {
		free(d->rcpts[i].recipient);
		free(d->rcpts[i].action);
		free(d->rcpts[i].status);
		free(d->rcpts[i].remote_mta);
		free(d->rcpts[i].diagnostic);
	}
	free(d->rcpts);
	free(d->reporting_mta);
	free(d->text);
	memset(d, 0, sizeof(*d));
}
