/* Hostile text (from DNS, messages, bounces) made safe for JSON and for terminals. */
#ifndef WHY550_TEXTSAFE_H
#define WHY550_TEXTSAFE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * A valid UTF-8 copy of len bytes: valid sequences are kept, every byte of
 * an invalid one becomes the four characters "\xHH" (visible, never
 * dropped), NUL becomes "\x00". Fresh string.
 */
char *text_utf8_sanitize(const char *s, size_t len);

/*
 * A copy safe to print on a terminal: C0 and C1 controls, DEL, ESC and
 * invalid UTF-8 become "\xHH"; valid printable UTF-8 is kept. Fresh string.
 */
char *text_term_escape(const char *s, size_t len);

/*
 * An excerpt of hostile input for a message, into dst: at most max bytes of
 * s (n long), printable ASCII as is, every other byte and the quote ' as
 * \xHH, and when cut "... (N bytes)" with the whole length. Always
 * NUL-terminated; TEXT_QUOTE_SIZE(max) bytes of dst are enough, a smaller
 * dst cuts the excerpt further.
 */
#define TEXT_QUOTE_SIZE(max) (4 * (max) + 32)
void text_quote(char *dst, size_t dstlen, const char *s, size_t n, size_t max);

/*
 * The offset of the first byte of s (len bytes) that text_term_escape()
 * would escape, a tab apart (a control, DEL, invalid UTF-8, a character
 * that reorders a line); len when there is none.
 */
size_t text_term_unsafe_at(const char *s, size_t len);

/* A JSON string of len hostile bytes (sanitized as above); never NULL. */
json_t *json_text(const char *s, size_t len);
/* The same for a NUL-terminated string; NULL s gives JSON null. */
json_t *json_str(const char *s);

/*
 * v with every string and every object key valid UTF-8 (sanitized as
 * above), for values that may hold raw network bytes put in with
 * jansson's *_nocheck constructors: v itself (a new reference) when it is
 * clean already, else a sanitized deep copy. A new reference, never NULL;
 * read-only, as it may be shared with v.
 */
json_t *json_sanitize(const json_t *v);

/* True when every string and key in v is valid UTF-8 without NUL: json_sanitize() would share it. */
bool json_is_clean(const json_t *v);

#endif
