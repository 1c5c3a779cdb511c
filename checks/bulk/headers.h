/*
 * The header fields of a sample message as the bulk-sender requirements
 * read them (RFC 5322 2.2, 3.6), and the one-click unsubscribe fields of
 * RFC 2369 and RFC 8058. Pure functions of untrusted text: no I/O, no
 * allocation for an error.
 */
#ifndef WHY550_BULK_HEADERS_H
#define WHY550_BULK_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

/* Fields read from one message; the rest are counted as cut. */
#define BULK_MAX_FIELDS		1000
/* Bytes of one unfolded field value kept. */
#define BULK_VALUE_MAX		8192

struct bulk_field {
	char *name;		/* as written, without the colon */
	char *value;		/* unfolded (RFC 5322 2.2.3), CR and LF removed, outer blanks trimmed; raw bytes */
};

struct bulk_headers {
	struct bulk_field *f;	/* in message order */
	size_t n;
	bool truncated;		/* more than BULK_MAX_FIELDS fields, or a value cut */
	bool no_body_separator;	/* the text ends inside the header section */
};

/*
 * Reads the header section of len bytes of text (up to the first empty
 * line; CRLF or LF line ends). A line without a colon that does not
 * continue a field is skipped. Never fails; release h after.
 */
void bulk_headers_parse(const char *text, size_t len, struct bulk_headers *h);
void bulk_headers_release(struct bulk_headers *h);

/* How many fields are called name (case-insensitive). */
size_t bulk_headers_count(const struct bulk_headers *h, const char *name);
/* The value of the first field called name, or NULL. */
const char *bulk_headers_get(const struct bulk_headers *h, const char *name);

/*
 * RFC 2369 3.1 and RFC 8058 3.1: the first URI of a List-Unsubscribe value
 * ("<https://...>, <mailto:...>") whose scheme is https. 0 with *uri
 * (fresh, without the brackets), or -1 with why (no URI in brackets, or
 * only other schemes, which it names).
 */
int bulk_unsubscribe_https(const char *value, char **uri, char *why, size_t whylen);

/* RFC 8058 3.1: a List-Unsubscribe-Post value is exactly "List-Unsubscribe=One-Click". */
bool bulk_one_click_post(const char *value);

#endif
