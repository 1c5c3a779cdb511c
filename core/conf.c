/* The checks.d reader: "[section]" headers and "key = value" lines from *.conf files. */
#include "core/conf.h"
#include "core/textsafe.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longer lines are refused rather than silently cut. */
#define CONF_MAX_LINE	65536
/* Larger files are refused before a byte is read: checks.d holds settings, not data. */
#define CONF_MAX_FILE	(1024 * 1024)

/* How much of a bad key or name a message quotes. */
#define CONF_SHOW	40
/* How much of a path, and of a value a check quotes in its message, is shown. */
#define CONF_SHOW_PATH	200
#define CONF_SHOW_VALUE	80

struct parser {
	struct conf *conf;
	const char *file;	/* the copy kept in conf->files */
	int line;
	size_t cur_index;	/* an index, not a pointer: sections move */
	bool have_section;
	struct error *err;
};

struct conf *
conf_new(void)
{
	return xcalloc(1, sizeof(struct conf));
}

static void
section_release(struct conf_section *sec)
{
	size_t i;

	for (i = 0; i < sec->nentries; i++) {
		free(sec->entries[i].key);
		free(sec->entries[i].value);
	}
	free(sec->entries);
	free(sec->name);
	free(sec->label);
}

void
conf_free(struct conf *conf)
{
	size_t i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->nsections; i++)
		section_release(&conf->sections[i]);
	free(conf->sections);
	for (i = 0; i < conf->nfiles; i++)
		free(conf->files[i]);
	free(conf->files);
	free(conf);
}

/* A printable excerpt of n bytes for messages: other bytes as \xHH, long text cut. */
static void
show(char *dst, size_t dstlen, const char *s, size_t n)
{
	text_quote(dst, dstlen, s, n, CONF_SHOW);
}

/* A path as messages show it: odd bytes as \xHH, a long one cut (fresh string). */
static char *
shown_path(const char *path)
{
	char buf[TEXT_QUOTE_SIZE(CONF_SHOW_PATH)];

	text_quote(buf, sizeof(buf), path, strlen(path), CONF_SHOW_PATH);
	return xstrdup(buf);
}

static int
perr(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
perr(struct parser *p, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return error_set(p->err, "%s:%d: %s", p->file, p->line, msg);
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '-';
}

static bool
is_key_char(char c)
{
	return is_name_char(c) || c == '.';
}

/*
 * Reads a double-quoted string starting at s[*pos] == '"' up to end.
 * \" and \\ are escapes; any other backslash is kept as it is, so that a
 * pattern such as "\d" needs no doubling.
 */
static int
parse_quoted(struct parser *p, const char *s, size_t end, size_t *pos, char **out)
{
	struct strbuf sb;
	size_t i = *pos + 1;

	strbuf_init(&sb);
	strbuf_add(&sb, "", 0);
	for (; i < end; i++) {
		if (s[i] == '"')
			break;
		if (s[i] == '\\' && i + 1 < end &&
		    (s[i + 1] == '"' || s[i + 1] == '\\')) {
			i++;
			strbuf_add(&sb, &s[i], 1);
			continue;
		}
		strbuf_add(&sb, &s[i], 1);
	}
	if (i >= end) {
		strbuf_release(&sb);
		return perr(p, "unterminated quoted string");
	}
	*pos = i + 1;
	*out = strbuf_detach(&sb, NULL);
	return 0;
}

/* True if s[pos..end) is only blanks, maybe followed by a comment. */
static bool
rest_is_empty(const char *s, size_t pos, size_t end)
{
	while (pos < end && is_space(s[pos]))
		pos++;
	return pos == end || s[pos] == '#';
}

static int
parse_header(struct parser *p, const char *s, size_t end)
{
	struct conf *conf = p->conf;
	struct conf_section *sec;
	char *label = NULL;
	char shown[64];
	size_t pos = 1, start, nameend, i;
	int ret = -1;

	while (pos < end && is_space(s[pos]))
		pos++;
	start = pos;
	while (pos < end && !is_space(s[pos]) && s[pos] != ']' && s[pos] != '"')
		pos++;
	if (pos == start) {
		perr(p, "malformed section header: missing name");
		goto out;
	}
	for (i = start; i < pos; i++) {
		if (!is_name_char(s[i])) {
			show(shown, sizeof(shown), s + start, pos - start);
			perr(p, "malformed section header: bad name '%s': use [a-z0-9_-]",
			    shown);
			goto out;
		}
	}
	nameend = pos;
	while (pos < end && is_space(s[pos]))
		pos++;
	if (pos < end && s[pos] == '"') {
		if (parse_quoted(p, s, end, &pos, &label) == -1)
			goto out;
		if (label[0] == '\0') {
			perr(p, "malformed section header: empty label");
			goto out;
		}
		while (pos < end && is_space(s[pos]))
			pos++;
	}
	if (pos >= end || s[pos] != ']') {
		perr(p, "malformed section header: expected ']'");
		goto out;
	}
	if (!rest_is_empty(s, pos + 1, end)) {
		perr(p, "malformed section header: text after ']'");
		goto out;
	}
	conf->sections = xrealloc(conf->sections,
	    (conf->nsections + 1) * sizeof(*conf->sections));
	sec = &conf->sections[conf->nsections];
	memset(sec, 0, sizeof(*sec));
	sec->name = xstrndup(s + start, nameend - start);
	sec->label = label;
	label = NULL;
	sec->file = p->file;
	sec->line = p->line;
	p->cur_index = conf->nsections++;
	p->have_section = true;
	ret = 0;
out:
	free(label);
	return ret;
}

static int
parse_entry(struct parser *p, const char *s, size_t end)
{
	struct conf_section *sec;
	struct conf_entry *e;
	const char *eq;
	char shown[64];
	char *value = NULL;
	size_t pos, keyend, vstart, vend;
	int ret = -1;

	eq = memchr(s, '=', end);
	if (eq == NULL) {
		perr(p, "expected 'key = value' or a [section] header");
		goto out;
	}
	keyend = (size_t)(eq - s);
	while (keyend > 0 && is_space(s[keyend - 1]))
		keyend--;
	if (keyend == 0) {
		perr(p, "missing key before '='");
		goto out;
	}
	for (pos = 0; pos < keyend; pos++) {
		if (!is_key_char(s[pos])) {
			show(shown, sizeof(shown), s, keyend);
			perr(p, "bad key '%s': use [a-z0-9_.-]", shown);
			goto out;
		}
	}
	if (!p->have_section) {
		show(shown, sizeof(shown), s, keyend);
		perr(p, "key '%s' is outside of any [section]", shown);
		goto out;
	}
	pos = (size_t)(eq - s) + 1;
	while (pos < end && is_space(s[pos]))
		pos++;
	if (pos < end && s[pos] == '"') {
		if (parse_quoted(p, s, end, &pos, &value) == -1)
			goto out;
		if (!rest_is_empty(s, pos, end)) {
			perr(p, "text after the closing quote");
			goto out;
		}
	} else {
		/* '#' opens a comment at the start of the value or after a blank. */
		vstart = pos;
		for (vend = vstart; vend < end; vend++) {
			if (s[vend] == '#' &&
			    (vend == vstart || is_space(s[vend - 1])))
				break;
		}
		while (vend > vstart && is_space(s[vend - 1]))
			vend--;
		value = xstrndup(s + vstart, vend - vstart);
	}
	sec = &p->conf->sections[p->cur_index];
	sec->entries = xrealloc(sec->entries,
	    (sec->nentries + 1) * sizeof(*sec->entries));
	e = &sec->entries[sec->nentries++];
	e->key = xstrndup(s, keyend);
	e->value = value;
	value = NULL;
	e->file = p->file;
	e->line = p->line;
	ret = 0;
out:
	free(value);
	return ret;
}

static int
parse_line(struct parser *p, const char *s, size_t len)
{
	size_t pos = 0;

	if (memchr(s, '\0', len) != NULL)
		return perr(p, "NUL byte in line");
	if (len > 0 && s[len - 1] == '\r')
		len--;
	/* every value may reach a terminal in a message: checks.d is UTF-8 text without controls */
	if ((pos = text_term_unsafe_at(s, len)) < len)
		return perr(p, "byte 0x%02x at column %zu is a control character or not UTF-8 text",
		    (unsigned char)s[pos], pos + 1);
	pos = 0;
	while (pos < len && is_space(s[pos]))
		pos++;
	if (pos == len || s[pos] == '#')
		return 0;
	if (s[pos] == '[')
		return parse_header(p, s + pos, len - pos);
	return parse_entry(p, s + pos, len - pos);
}

/* Parses len bytes; on error removes what this text added and returns -1. */
static int
parse_text(struct conf *conf, const char *file, const char *text, size_t len,
    struct error *err)
{
	struct parser p;
	size_t before = conf->nsections;
	size_t pos = 0, eol;
	const char *nl;
	int ret = -1;

	memset(&p, 0, sizeof(p));
	p.conf = conf;
	p.err = err;
	conf->files = xrealloc(conf->files, (conf->nfiles + 1) * sizeof(*conf->files));
	conf->files[conf->nfiles] = shown_path(file);
	p.file = conf->files[conf->nfiles++];

	while (pos < len) {
		p.line++;
		nl = memchr(text + pos, '\n', len - pos);
		eol = nl != NULL ? (size_t)(nl - text) : len;
		if (eol - pos > CONF_MAX_LINE) {
			perr(&p, "line is longer than %d bytes", CONF_MAX_LINE);
			goto out;
		}
		if (parse_line(&p, text + pos, eol - pos) == -1)
			goto out;
		pos = eol + 1;
	}
	ret = 0;
out:
	if (ret == -1) {
		while (conf->nsections > before)
			section_release(&conf->sections[--conf->nsections]);
		free(conf->files[--conf->nfiles]);
	}
	return ret;
}

/* What a path that is not a regular file is, for a message. */
static const char *
file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	return "not a regular file";
}

/* Why path cannot be opened; a dangling symbolic link says so. */
static int
open_error(const char *path, const char *shown, int errnum, struct error *err)
{
	struct stat st;

	if (errnum == ENOENT && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		return error_set(err, "%s: a symbolic link to a file that does not exist", shown);
	if (errnum == ELOOP)
		return error_set(err, "%s: a loop of symbolic links", shown);
	return error_set(err, "%s: %s", shown, strerror(errnum));
}

/*
 * Reads a whole regular file of at most CONF_MAX_FILE bytes. A FIFO is
 * opened without blocking and refused by fstat before any read, and the
 * size is known before the first byte is read.
 */
static int
read_file(const char *path, struct strbuf *sb, struct error *err)
{
	char *shown = shown_path(path);
	char chunk[8192];
	struct stat st;
	ssize_t n;
	int fd, ret = -1;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		resource_check(errno, "cannot open '%s'", shown);
		open_error(path, shown, errno, err);
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		error_set(err, "%s: %s", shown, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		error_set(err, "%s: %s, not a regular file", shown, file_kind(st.st_mode));
		goto out;
	}
	if (st.st_size > CONF_MAX_FILE) {
		error_set(err, "%s: %lld bytes, over the limit of %d for a checks.d file", shown,
		    (long long)st.st_size, CONF_MAX_FILE);
		goto out;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		strbuf_add(sb, chunk, (size_t)n);
		if (sb->len > CONF_MAX_FILE) {
			error_set(err, "%s: grew over the limit of %d bytes while read", shown,
			    CONF_MAX_FILE);
			goto out;
		}
	}
	if (n == -1) {
		error_set(err, "%s: %s", shown, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd != -1)
		close(fd);
	free(shown);
	return ret;
}

int
conf_load_file(struct conf *conf, const char *path, const char *text, struct error *err)
{
	struct strbuf sb;
	int ret = -1;

	if (text != NULL)
		return parse_text(conf, path, text, strlen(text), err);
	strbuf_init(&sb);
	if (read_file(path, &sb, err) == -1)
		goto out;
	ret = parse_text(conf, path, sb.buf != NULL ? sb.buf : "", sb.len, err);
out:
	strbuf_release(&sb);
	return ret;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
is_conf_name(const char *name)
{
	size_t n = strlen(name);

	/* Hidden files (editor and package manager leftovers) are skipped. */
	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

/*
 * Every "*.conf" name is read, whatever it is: a name that is not a
 * readable regular file (a dangling link, a loop of links, a FIFO, a
 * directory) stops the load like a syntax error, since skipping it would
 * run the checks without a part of their configuration.
 */
int
conf_load_dir(struct conf *conf, const char *dir, struct error *err)
{
	DIR *d = NULL;
	struct dirent *de;
	char **names = NULL, *shown = shown_path(dir);
	size_t n = 0, i;
	int ret = -1;

	if ((d = opendir(dir)) == NULL) {
		resource_check(errno, "cannot open '%s'", shown);
		error_set(err, "%s: %s", shown, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (!is_conf_name(de->d_name))
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xasprintf("%s/%s", dir, de->d_name);
	}
	if (n == 0) {
		error_set(err, "%s: no .conf file: an empty checks.d configures no check", shown);
		goto out;
	}
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		if (conf_load_file(conf, names[i], NULL, err) == -1)
			goto out;
	}
	ret = 0;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(shown);
	if (d != NULL)
		closedir(d);
	return ret;
}

/* name NULL walks every section. */
const struct conf_section *
conf_next(const struct conf *conf, const struct conf_section *prev, const char *name)
{
	size_t i = 0;

	if (conf == NULL)
		return NULL;
	if (prev != NULL)
		i = (size_t)(prev - conf->sections) + 1;
	for (; i < conf->nsections; i++) {
		if (name == NULL || strcmp(conf->sections[i].name, name) == 0)
			return &conf->sections[i];
	}
	return NULL;
}

static const struct conf_entry *
last_entry(const struct conf_section *sec, const char *key)
{
	size_t i;

	if (sec == NULL)
		return NULL;
	for (i = sec->nentries; i > 0; i--) {
		if (strcmp(sec->entries[i - 1].key, key) == 0)
			return &sec->entries[i - 1];
	}
	return NULL;
}

const char *
conf_section_get(const struct conf_section *sec, const char *key)
{
	const struct conf_entry *e = last_entry(sec, key);

	return e != NULL ? e->value : NULL;
}

static int
int_error(const struct conf_section *sec, const struct conf_entry *e,
    const char *key, long min, long max, struct error *err)
{
	return conf_error(sec, e, err, "key '%s' must be an integer between %ld and %ld",
	    key, min, max);
}

int
conf_section_get_int(const struct conf_section *sec, const char *key,
    long min, long max, long *out, struct error *err)
{
	const struct conf_entry *e = last_entry(sec, key);
	const char *s;
	char *end;
	long v;

	if (e == NULL)
		return 1;
	s = e->value;
	/* strtol alone would quietly take leading blanks. */
	if (!(isdigit((unsigned char)s[0]) ||
	    ((s[0] == '-' || s[0] == '+') && isdigit((unsigned char)s[1]))))
		return int_error(sec, e, key, min, max, err);
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return int_error(sec, e, key, min, max, err);
	*out = v;
	return 0;
}

int
conf_section_get_double(const struct conf_section *sec, const char *key,
    double *out, struct error *err)
{
	const struct conf_entry *e = last_entry(sec, key);
	const char *s;
	char *end;
	double v;

	if (e == NULL)
		return 1;
	s = e->value;
	/* Plain decimal only: strtod would also take "inf", "nan" and hex. */
	if (s[0] == '\0' || strspn(s, "0123456789.eE+-") != strlen(s))
		return conf_error(sec, e, err, "key '%s' must be a number", key);
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || end == s || !isfinite(v))
		return conf_error(sec, e, err, "key '%s' must be a number", key);
	*out = v;
	return 0;
}

int
conf_section_get_bool(const struct conf_section *sec, const char *key,
    bool *out, struct error *err)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	const struct conf_entry *e = last_entry(sec, key);
	size_t i;

	if (e == NULL)
		return 1;
	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(e->value, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(e->value, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return conf_error(sec, e, err, "key '%s' must be true or false", key);
}

int
conf_section_check_keys(const struct conf_section *sec,
    const char *const *allowed, struct error *err)
{
	size_t i, j;
	bool found;

	for (i = 0; i < sec->nentries; i++) {
		found = false;
		for (j = 0; allowed != NULL && allowed[j] != NULL; j++) {
			if (strcmp(sec->entries[i].key, allowed[j]) == 0) {
				found = true;
				break;
			}
		}
		if (!found)
			return conf_error(sec, &sec->entries[i], err,
			    "unknown key '%s' in [%s]", sec->entries[i].key, sec->name);
	}
	return 0;
}

/*
 * A check's message may quote a value of any length (a pattern, a label,
 * a zone): every part in quotes ('...' or "...") longer than
 * CONF_SHOW_VALUE bytes is cut at a character, with its length. Values
 * hold no control bytes (parse_line refuses them), so this only shortens.
 */
static void
cut_quotes(const char *msg, struct strbuf *out)
{
	const char *close;
	size_t i = 0, n = strlen(msg), end, keep;
	char q;

	while (i < n) {
		q = msg[i++];
		strbuf_add(out, &q, 1);
		if ((q != '\'' && q != '"') || (close = strchr(msg + i, q)) == NULL)
			continue;
		end = (size_t)(close - msg);
		if (end - i > CONF_SHOW_VALUE) {
			for (keep = CONF_SHOW_VALUE; keep > 0 &&
			    ((unsigned char)msg[i + keep] & 0xc0) == 0x80; keep--)
				;
			strbuf_add(out, msg + i, keep);
			strbuf_addf(out, "... (%zu bytes)", end - i);
		} else {
			strbuf_add(out, msg + i, end - i);
		}
		strbuf_add(out, &q, 1);
		i = end + 1;
	}
}

int
conf_error(const struct conf_section *sec, const struct conf_entry *e,
    struct error *err, const char *fmt, ...)
{
	struct strbuf msg;
	va_list ap;
	const char *file = NULL;
	char *full;
	int line = 0, n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	full = xmalloc(n > 0 ? (size_t)n + 1 : 1);
	full[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(full, n > 0 ? (size_t)n + 1 : 1, fmt, ap);
	va_end(ap);
	strbuf_init(&msg);
	strbuf_add(&msg, "", 0);
	cut_quotes(full, &msg);
	if (e != NULL) {
		file = e->file;
		line = e->line;
	} else if (sec != NULL) {
		file = sec->file;
		line = sec->line;
	}
	if (file == NULL)
		error_set(err, "%s", msg.buf);
	else
		error_set(err, "%s:%d: %s", file, line, msg.buf);
	strbuf_release(&msg);
	free(full);
	return -1;
}
