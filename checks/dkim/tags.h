/* DKIM tag-lists (RFC 6376 3.2): the "name=value; ..." syntax of key records and DKIM-Signature headers. */
#ifndef WHY550_DKIM_TAGS_H
#define WHY550_DKIM_TAGS_H

#include <stddef.h>

struct dkim_tag {
	char *name;		/* as written (tag names are case-sensitive) */
	char *value;		/* without the whitespace around it; inner whitespace kept */
};

struct dkim_tags {
	struct dkim_tag *tag;
	size_t n;
};

/*
 * Parses len bytes (any bytes; NUL is a syntax error) as a tag-list into
 * out, which the caller releases in every case. Empty tag-specs (";;") are
 * tolerated. Returns 0, or -1 with why filled ("tag 't' has no '='",
 * "duplicate tag 'p'"); on -1 out holds the tags read before the error.
 */
int dkim_tags_parse(const char *s, size_t len, struct dkim_tags *out, char *why, size_t whylen);

/* The value of tag name, or NULL if absent. */
const char *dkim_tags_get(const struct dkim_tags *t, const char *name);

void dkim_tags_release(struct dkim_tags *t);

/*
 * Copies value without any whitespace (for b=, bh=, p= whose base64 may be
 * folded). Fresh string.
 */
char *dkim_strip_ws(const char *value);

#endif
