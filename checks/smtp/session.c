/* One probe session: the SMTP dialogue up to RCPT TO with one address, every reply recorded, each stage under its time limit. */
#include "checks/smtp/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/textsafe.h"
#include "core/util.h"

/* RSET and QUIT are courtesy: they wait this long at most. */
#define GOODBYE_MS	2000
/* EHLO keywords kept from one reply. */
#define MAX_EXTENSIONS	32

static const char *const stage_names[] = {
	[SMTP_STAGE_CONNECT] = "connect",
	[SMTP_STAGE_BANNER] = "banner",
	[SMTP_STAGE_EHLO] = "ehlo",
	[SMTP_STAGE_HELO] = "helo",
	[SMTP_STAGE_STARTTLS] = "starttls",
	[SMTP_STAGE_TLS] = "tls",
	[SMTP_STAGE_MAIL] = "mail",
	[SMTP_STAGE_RCPT] = "rcpt",
	[SMTP_STAGE_RSET] = "rset",
	[SMTP_STAGE_QUIT] = "quit",
};

static const char *const outcome_names[] = {
	[SMTP_OUT_ACCEPTED] = "accepted",
	[SMTP_OUT_REJECTED] = "rejected",
	[SMTP_OUT_DEFERRED] = "deferred",
	[SMTP_OUT_FAILED] = "failed",
};

static const char *const starttls_names[] = {
	[SMTP_STARTTLS_NOT_OFFERED] = "not_offered",
	[SMTP_STARTTLS_SKIPPED] = "skipped",
	[SMTP_STARTTLS_OK] = "ok",
	[SMTP_STARTTLS_REFUSED] = "refused",
	[SMTP_STARTTLS_FAILED] = "failed",
};

const char *
smtp_stage_name(enum smtp_stage st)
{
	if ((int)st < 0 || (size_t)st >= ARRAY_SIZE(stage_names))
		return "connect";
	return stage_names[st];
}

const char *
smtp_outcome_name(enum smtp_outcome o)
{
	if ((int)o < 0 || (size_t)o >= ARRAY_SIZE(outcome_names))
		return "failed";
	return outcome_names[o];
}

const char *
smtp_starttls_name(enum smtp_starttls st)
{
	if ((int)st < 0 || (size_t)st >= ARRAY_SIZE(starttls_names))
		return "not_offered";
	return starttls_names[st];
}

/* A dialogue in progress. */
struct dialogue {
	const struct smtp_plan *p;
	struct smtp_session *s;
	struct smtp_conn *conn;
};

/* The end of a wait of ms for a stage: never past the deadline. */
static int64_t
until(const struct smtp_plan *p, int ms)
{
	int64_t u = now_ms() + ms;

	return u < p->deadline ? u : p->deadline;
}

/* The session ends without a reply that decides it. */
static void
fail(struct smtp_session *s, enum smtp_stage stage, enum smtp_io io, const char *why,
    int64_t until_ms, int64_t deadline)
{
	s->outcome = SMTP_OUT_FAILED;
	s->stage = stage;
	s->io = io;
	snprintf(s->error, sizeof(s->error), "%s", why);
	if (io == SMTP_IO_TIMEOUT && until_ms >= deadline)
		s->deadline = true;
}

static struct smtp_exchange *
add_exchange(struct smtp_session *s, enum smtp_stage stage, const char *command, bool tls)
{
	struct smtp_exchange *e;

	s->ex = xrealloc(s->ex, (s->nex + 1) * sizeof(*s->ex));
	e = &s->ex[s->nex++];
	memset(e, 0, sizeof(*e));
	e->stage = stage;
	e->command = command != NULL ? xstrdup(command) : NULL;
	e->tls = tls;
	return e;
}

/*
 * Sends command (NULL: only reads, for the banner) and reads the reply,
 * recording both. The reply's class (2 to 5), or 0 when the connection
 * failed, the session then ended as failed at stage.
 */
static int
exchange(struct dialogue *d, enum smtp_stage stage, const char *command, int ms)
{
	struct smtp_exchange *e = add_exchange(d->s, stage, command,
	    smtp_conn_is_tls(d->conn));
	int64_t start = now_ms(), u = until(d->p, ms);
	char why[200] = "";
	enum smtp_io io = SMTP_IO_OK;

	if (command != NULL)
		io = smtp_conn_send(d->conn, command, u, why, sizeof(why));
	if (io == SMTP_IO_OK)
		io = smtp_conn_read(d->conn, u, &e->reply, why, sizeof(why));
	e->ms = (int)(now_ms() - start);
	if (io != SMTP_IO_OK) {
		fail(d->s, stage, io, why, u, d->p->deadline);
		return 0;
	}
	e->replied = true;
	if (e->reply.code == 421)
		d->s->got_421 = true;
	return smtp_reply_class(&e->reply);
}

/* The session ends on a reply of class cls: rejected (5xx), deferred (4xx), failed (3xx). */
static void
end_on_reply(struct smtp_session *s, enum smtp_stage stage, int cls)
{
	s->stage = stage;
	if (cls == 5) {
		s->outcome = SMTP_OUT_REJECTED;
	} else if (cls == 4) {
		s->outcome = SMTP_OUT_DEFERRED;
	} else {
		s->outcome = SMTP_OUT_FAILED;
		s->io = SMTP_IO_MALFORMED;
		snprintf(s->error, sizeof(s->error), "an intermediate (3xx) reply where none belongs");
	}
}

static void
add_keyword(const char *keyword, const char *line, size_t linelen, void *arg)
{
	struct smtp_session *s = arg;

	(void)line;
	(void)linelen;
	if (s->nextensions == MAX_EXTENSIONS)
		return;
	s->extensions = xrealloc(s->extensions, (s->nextensions + 1) * sizeof(*s->extensions));
	s->extensions[s->nextensions++] = xstrdup(keyword);
}

static void
set_extensions(struct smtp_session *s, const struct smtp_reply *r)
{
	size_t i;

	for (i = 0; i < s->nextensions; i++)
		free(s->extensions[i]);
	s->nextensions = 0;
	if (r != NULL)
		smtp_reply_ehlo_keywords(r, add_keyword, s);
}

static bool
has_extension(const struct smtp_session *s, const char *keyword)
{
	size_t i;

	for (i = 0; i < s->nextensions; i++)
		if (strcmp(s->extensions[i], keyword) == 0)
			return true;
	return false;
}

/*
 * EHLO, or HELO when EHLO is refused as unknown (RFC 5321 4.1.4: a server
 * may not know EHLO). True when the session may go on.
 */
static bool
greet(struct dialogue *d)
{
	char *cmd = xasprintf("EHLO %s", d->s->helo);
	int cls = exchange(d, SMTP_STAGE_EHLO, cmd, d->p->command_ms);

	free(cmd);
	if (cls == 2) {
		set_extensions(d->s, &d->s->ex[d->s->nex - 1].reply);
		return true;
	}
	if (cls != 5 || d->s->got_421) {
		if (cls != 0)
			end_on_reply(d->s, SMTP_STAGE_EHLO, cls);
		return false;
	}
	set_extensions(d->s, NULL);
	cmd = xasprintf("HELO %s", d->s->helo);
	cls = exchange(d, SMTP_STAGE_HELO, cmd, d->p->command_ms);
	free(cmd);
	if (cls == 2)
		return true;
	if (cls != 0)
		end_on_reply(d->s, SMTP_STAGE_HELO, cls);
	return false;
}

/*
 * STARTTLS when offered (RFC 3207), then EHLO again over TLS (4.2: the
 * server forgets what the clear session said). True when the session may
 * go on: over TLS, or in clear after the server refused STARTTLS.
 */
static bool
starttls(struct dialogue *d)
{
	char why[200] = "";
	enum smtp_io io;
	int64_t u;
	int cls;

	if (!has_extension(d->s, "STARTTLS"))
		return true;
	if (!d->p->starttls || d->p->tls == NULL) {
		d->s->starttls = SMTP_STARTTLS_SKIPPED;
		return true;
	}
	cls = exchange(d, SMTP_STAGE_STARTTLS, "STARTTLS", d->p->command_ms);
	if (cls == 0)
		return false;
	if (cls != 2) {
		d->s->starttls = SMTP_STARTTLS_REFUSED;
		if (d->s->got_421)
			end_on_reply(d->s, SMTP_STAGE_STARTTLS, cls);
		return !d->s->got_421;
	}
	u = until(d->p, d->p->tls_ms);
	io = smtp_conn_starttls(d->conn, d->p->tls, d->p->host, u, &d->s->tls, why, sizeof(why));
	if (io != SMTP_IO_OK) {
		d->s->starttls = SMTP_STARTTLS_FAILED;
		fail(d->s, SMTP_STAGE_TLS, io == SMTP_IO_TIMEOUT ? io : SMTP_IO_TLS_FAILED, why, u,
		    d->p->deadline);
		return false;
	}
	d->s->starttls = SMTP_STARTTLS_OK;
	return greet(d);
}

/* True if s has bytes outside printable ASCII (an address that needs SMTPUTF8). */
static bool
non_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s > 0x7e)
			return true;
	return false;
}

/* MAIL FROM and RCPT TO: the stage that decides the outcome. */
static void
envelope(struct dialogue *d)
{
	/* RFC 6531 3.4: an address in UTF-8 needs the SMTPUTF8 parameter, if offered */
	bool utf8 = (non_ascii(d->p->mail_from) || non_ascii(d->p->rcpt_to)) &&
	    has_extension(d->s, "SMTPUTF8");
	char *cmd = xasprintf("MAIL FROM:<%s>%s", d->p->mail_from, utf8 ? " SMTPUTF8" : "");
	int cls = exchange(d, SMTP_STAGE_MAIL, cmd, d->p->command_ms);

	free(cmd);
	if (cls != 2) {
		if (cls != 0)
			end_on_reply(d->s, SMTP_STAGE_MAIL, cls);
		return;
	}
	cmd = xasprintf("RCPT TO:<%s>", d->p->rcpt_to);
	cls = exchange(d, SMTP_STAGE_RCPT, cmd, d->p->command_ms);
	free(cmd);
	if (cls == 2) {
		d->s->outcome = SMTP_OUT_ACCEPTED;
		d->s->stage = SMTP_STAGE_RCPT;
	} else if (cls != 0) {
		end_on_reply(d->s, SMTP_STAGE_RCPT, cls);
	}
}

/*
 * RSET after an envelope was started, then QUIT: a polite end that
 * changes nothing of the outcome. Not after a 421 (RFC 5321 3.8: the
 * server closes) or when the connection failed.
 */
static void
goodbye(struct dialogue *d, bool rset)
{
	struct smtp_session keep = *d->s;
	int ms = d->p->command_ms < GOODBYE_MS ? d->p->command_ms : GOODBYE_MS;

	/* a broken or garbled connection has nothing more to say */
	if (d->s->got_421 || d->s->outcome == SMTP_OUT_FAILED)
		return;
	if (rset && exchange(d, SMTP_STAGE_RSET, "RSET", ms) == 0)
		goto out;
	exchange(d, SMTP_STAGE_QUIT, "QUIT", ms);
out:
	/* the exchanges stay recorded; what decided the session does not change */
	d->s->outcome = keep.outcome;
	d->s->stage = keep.stage;
	d->s->io = keep.io;
	d->s->deadline = keep.deadline;
	d->s->got_421 = keep.got_421;
	memcpy(d->s->error, keep.error, sizeof(d->s->error));
}

/* The dialogue after the connection is up. */
static void
dialogue(struct dialogue *d)
{
	const struct smtp_plan *p = d->p;
	struct smtp_session *s = d->s;
	int cls;

	cls = exchange(d, SMTP_STAGE_BANNER, NULL, p->banner_ms);
	if (cls == 0)
		return;
	if (cls != 2) {
		/* RFC 5321 3.1: after a 554 greeting the client should still QUIT */
		end_on_reply(s, SMTP_STAGE_BANNER, cls);
		goodbye(d, false);
		return;
	}
	s->helo = p->helo != NULL ? xstrdup(p->helo) :
	    p->helo_name(&s->local, p->helo_arg);
	if (!greet(d) || !starttls(d)) {
		goodbye(d, false);
		return;
	}
	envelope(d);
	goodbye(d, s->stage == SMTP_STAGE_RCPT || (s->stage == SMTP_STAGE_MAIL &&
	    s->outcome != SMTP_OUT_FAILED));
}

void
smtp_session_run(const struct smtp_plan *p, struct smtp_session *s)
{
	struct dialogue d = { p, s, NULL };
	int64_t start = now_ms(), u = until(p, p->connect_ms);
	char why[200] = "";
	enum smtp_io io;

	memset(s, 0, sizeof(*s));
	s->host = xstrdup(p->host);
	s->addr = p->addr;
	s->port = p->port;
	s->outcome = SMTP_OUT_FAILED;
	d.conn = smtp_conn_open(&p->addr, p->port, p->src, u, &io, why, sizeof(why));
	if (d.conn == NULL) {
		fail(s, SMTP_STAGE_CONNECT, io, why, u, p->deadline);
	} else {
		s->connected = true;
		s->local = *smtp_conn_local(d.conn);
		dialogue(&d);
		smtp_conn_close(d.conn);
	}
	s->duration_ms = (int)(now_ms() - start);
}

void
smtp_session_release(struct smtp_session *s)
{
	size_t i;

	for (i = 0; i < s->nex; i++) {
		free(s->ex[i].command);
		smtp_reply_release(&s->ex[i].reply);
	}
	free(s->ex);
	set_extensions(s, NULL);
	free(s->extensions);
	free(s->host);
	free(s->helo);
	memset(s, 0, sizeof(*s));
}

const struct smtp_exchange *
smtp_session_final(const struct smtp_session *s)
{
	size_t i;

	for (i = s->nex; i > 0; i--) {
		const struct smtp_exchange *e = &s->ex[i - 1];

		if (e->replied && e->stage == s->stage)
			return e;
	}
	return NULL;
}

static json_t *
tls_json(const struct smtp_session *s)
{
	const struct smtp_tls_info *t = &s->tls;

	if (s->starttls != SMTP_STARTTLS_OK && s->starttls != SMTP_STARTTLS_FAILED)
		return json_null();
	return json_pack("{s:o,s:o,s:b,s:b,s:o,s:b,s:o,s:o,s:o}",
	    "protocol", t->protocol[0] ? json_str(t->protocol) : json_null(),
	    "cipher", t->cipher[0] ? json_str(t->cipher) : json_null(),
	    "certificate", t->has_cert, "chain_verified", t->chain_ok,
	    "verify_error", t->verify_error[0] ? json_str(t->verify_error) : json_null(),
	    "name_matches", t->name_ok,
	    "subject", t->subject[0] ? json_str(t->subject) : json_null(),
	    "issuer", t->issuer[0] ? json_str(t->issuer) : json_null(),
	    "not_after", t->not_after[0] ? json_str(t->not_after) : json_null());
}

static json_t *
exchange_json(const struct smtp_exchange *e)
{
	return json_pack("{s:s,s:o,s:b,s:o,s:o,s:o,s:i}",
	    "stage", smtp_stage_name(e->stage),
	    "command", json_str(e->command), "tls", e->tls,
	    "code", e->replied ? json_integer(e->reply.code) : json_null(),
	    "enhanced", e->replied && e->reply.enhanced[0] ? json_str(e->reply.enhanced) :
	    json_null(),
	    "reply", e->replied ? json_text(e->reply.raw, e->reply.rawlen) : json_null(),
	    "ms", e->ms);
}

json_t *
smtp_session_json(const struct smtp_session *s)
{
	json_t *o, *ex = json_array(), *kw = json_array();
	size_t i;

	for (i = 0; i < s->nex; i++)
		json_array_append_new(ex, exchange_json(&s->ex[i]));
	for (i = 0; i < s->nextensions; i++)
		json_array_append_new(kw, json_str(s->extensions[i]));
	o = json_pack("{s:o,s:s,s:i,s:o,s:o,s:s,s:s,s:s,s:o,s:b,s:i,s:o,s:s,s:o,s:o}",
	    "host", json_str(s->host), "address", s->addr.text, "port", s->port,
	    "source", s->connected ? json_str(s->local.text) : json_null(),
	    "helo", json_str(s->helo), "outcome", smtp_outcome_name(s->outcome),
	    "stage", smtp_stage_name(s->stage), "io", smtp_io_name(s->io),
	    "error", s->error[0] ? json_str(s->error) : json_null(),
	    "deadline", s->deadline, "duration_ms", s->duration_ms,
	    "extensions", kw, "starttls", smtp_starttls_name(s->starttls),
	    "tls", tls_json(s), "replies", ex);
	return o;
}
