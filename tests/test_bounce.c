/* Tests of the bounce classifier (checks/bounce/classify.c) and check (bounce.c) with the shipped checks.d/bounce.conf and real reply texts. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/bounce/classify.h"
#include "checks/check.h"
#include "core/conf.h"
#include "support.h"

/*
 * Reply texts as the providers and MTAs document or emit them (addresses
 * and IPs replaced by documentation ones). expected basic code (0: none),
 * enhanced code ("": none), cause, a list that must be named, the host
 * that must be found (NULL: not checked).
 */
struct bcase {
	const char *source;
	const char *text;
	int basic;
	const char *enhanced;
	const char *cause;
	const char *list;
	const char *host;
};

static const struct bcase cases[] = {
	/* Gmail / Google Workspace: support.google.com/a/answer/3726730 */
	{ "gmail_no_such_user",
	  "550-5.1.1 The email account that you tried to reach does not exist. Please try\n"
	  "550-5.1.1 double-checking the recipient's email address for typos or\n"
	  "550-5.1.1 unnecessary spaces. Learn more at\n"
	  "550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a1si123 - gsmtp",
	  550, "5.1.1", "recipient_unknown", NULL, NULL },
	{ "gmail_over_quota",
	  "552-5.2.2 The email account that you tried to reach is over quota. Please direct\n"
	  "552 5.2.2 the recipient to https://support.google.com/mail/?p=OverQuotaPerm",
	  552, "5.2.2", "mailbox_full", NULL, NULL },
	{ "gmail_disabled_user",
	  "550-5.2.1 The email account that you tried to reach is disabled. Learn more at\n"
	  "550 5.2.1 https://support.google.com/mail/?p=DisabledUser - gsmtp",
	  550, "5.2.1", "recipient_disabled", NULL, NULL },
	{ "gmail_ip_not_authorized",
	  "550-5.7.1 [192.0.2.2] The IP you're using to send mail is not authorized to\n"
	  "550-5.7.1 send email directly to our servers. Please use the SMTP relay at your\n"
	  "550-5.7.1 service provider instead. Learn more at\n"
	  "550 5.7.1  https://support.google.com/mail/?p=NotAuthorizedError - gsmtp",
	  550, "5.7.1", "ip_blocklisted", NULL, NULL },
	{ "gmail_unsolicited_rate_ip",
	  "421-4.7.0 [192.0.2.2] Our system has detected an unusual rate of\n"
	  "421-4.7.0 unsolicited mail originating from your IP address. To protect our\n"
	  "421-4.7.0 users from spam, mail sent from your IP address has been temporarily\n"
	  "421 4.7.0 blocked.",
	  421, "4.7.0", "ip_blocklisted", NULL, NULL },
	{ "gmail_unauthenticated",
	  "550-5.7.26 This mail is unauthenticated, which poses a security risk to the\n"
	  "550-5.7.26 sender and Gmail users, and has been blocked. The sender must\n"
	  "550 5.7.26 authenticate with at least one of SPF or DKIM.",
	  550, "5.7.26", "unauthenticated", NULL, NULL },
	{ "gmail_dmarc_policy",
	  "550-5.7.26 Unauthenticated email from example.test is not accepted due to domain's\n"
	  "550-5.7.26 DMARC policy. Please contact the administrator of example.test domain\n"
	  "550 5.7.26 if this was a legitimate mail.",
	  550, "5.7.26", "dmarc_fail", NULL, NULL },
	{ "gmail_spf_hard_fail",
	  "550-5.7.26 The MAIL FROM domain [example.test] has an SPF record with a hard fail\n"
	  "550-5.7.26 policy (-all) but it fails to pass SPF checks with the ip:\n"
	  "550 5.7.26 [192.0.2.2].",
	  550, "5.7.26", "spf_fail", NULL, NULL },
	{ "gmail_no_ptr",
	  "550-5.7.25 [192.0.2.2] The IP address sending this message does not have a\n"
	  "550-5.7.25 PTR record setup, or the corresponding forward DNS entry does not\n"
	  "550 5.7.25 point to the sending IP.",
	  550, "5.7.25", "rdns_missing", NULL, NULL },
	{ "gmail_size_limit",
	  "552-5.3.4 Your message exceeded Google's message size limits. Please visit\n"
	  "552 5.3.4 https://support.google.com/mail/?p=MaxSizeError",
	  552, "5.3.4", "message_too_large", NULL, NULL },
	{ "gmail_receiving_too_quickly",
	  "450-4.2.1 The user you are trying to contact is receiving mail too quickly.\n"
	  "450 4.2.1 Please resend your message at a later time.",
	  450, "4.2.1", "rate_limited", NULL, NULL },
	{ "gmail_likely_unsolicited",
	  "550-5.7.1 [192.0.2.2] Gmail has detected that this message is likely\n"
	  "550-5.7.1 unsolicited mail. To reduce the amount of spam sent to Gmail,\n"
	  "550 5.7.1 this message has been blocked.",
	  550, "5.7.1", "content_rejected", NULL, NULL },
	{ "gmail_security_issue",
	  "552-5.7.0 This message was blocked because its content presents a potential\n"
	  "552 5.7.0 security issue.",
	  552, "5.7.0", "content_rejected", NULL, NULL },
	{ "gmail_relay_denied",
	  "550 5.7.0 Mail relay denied 192.0.2.2. Invalid credentials for relay for one of "
	  "the domains in: example.test",
	  550, "5.7.0", "relay_denied", NULL, NULL },
	{ "gmail_recipient_policy",
	  "550 5.7.1 The user or domain that you are sending to (or from) has a policy that "
	  "prohibited the mail that you sent.",
	  550, "5.7.1", "policy_other", NULL, NULL },
	{ "gmail_rate_limited_unauthenticated",
	  "421-4.7.26 This mail has been rate limited because it is unauthenticated.",
	  421, "4.7.26", "unauthenticated", NULL, NULL },

	/* Microsoft 365 / Exchange Online NDRs (learn.microsoft.com) */
	{ "m365_recipient_not_found",
	  "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient "
	  "not found by SMTP address lookup'",
	  550, "5.1.10", "recipient_unknown", NULL, NULL },
	{ "m365_dbeb_access_denied",
	  "550 5.4.1 Recipient address rejected: Access denied. AS(201806281) "
	  "[DB5EUR03FT021.eop-EUR03.prod.protection.outlook.com]",
	  550, "5.4.1", "recipient_unknown", NULL,
	  "db5eur03ft021.eop-eur03.prod.protection.outlook.com" },
	{ "m365_banned_sending_ip",
	  "550 5.7.606 Access denied, banned sending IP [192.0.2.2]. To request removal "
	  "from this list please visit https://sender.office.com/ and follow the directions.",
	  550, "5.7.606", "ip_blocklisted", "microsoft's own list", NULL },
	{ "m365_traffic_not_accepted",
	  "550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.",
	  550, "5.7.708", "ip_blocklisted", NULL, NULL },
	{ "m365_dmarc_reject",
	  "550 5.7.509 Access denied, sending domain example.test does not pass DMARC "
	  "verification and has a DMARC policy of reject.",
	  550, "5.7.509", "dmarc_fail", NULL, NULL },
	{ "m365_blocked_using_spamhaus",
	  "smtp;550 5.7.1 Service unavailable, Client host [192.0.2.2] blocked using "
	  "Spamhaus. To request removal from this list see "
	  "https://www.spamhaus.org/query/ip/192.0.2.2 (AS16012611)",
	  550, "5.7.1", "ip_blocklisted", "zen.spamhaus.org", NULL },
	{ "m365_helo_listed_spamhaus",
	  "550 5.7.1 Service unavailable, Helo domain is listed in Spamhaus. To request "
	  "removal from this list see https://www.spamhaus.org/query/dbl?domain=example.test (S8001)",
	  550, "5.7.1", "domain_blocklisted", NULL, NULL },
	{ "m365_server_busy",
	  "smtp;451 4.7.500 Server busy. Please try again later from [192.0.2.2]. (AS77712344)",
	  451, "4.7.500", "rate_limited", NULL, NULL },
	{ "m365_anonymous_mail",
	  "530 5.7.57 Client was not authenticated to send anonymous mail during MAIL FROM",
	  530, "5.7.57", "relay_denied", NULL, NULL },
	{ "m365_detected_as_spam",
	  "550 5.7.350 Remote server returned message detected as spam",
	  550, "5.7.350", "content_rejected", NULL, NULL },
	{ "m365_nonexistent_domain",
	  "554 5.4.4 SMTPSEND.DNS.NonExistentDomain; nonexistent domain",
	  554, "5.4.4", "recipient_unknown", NULL, NULL },
	{ "m365_spf_violation",
	  "550 5.7.23 The message was rejected because of Sender Policy Framework violation",
	  550, "5.7.23", "spf_fail", NULL, NULL },
	{ "m365_unregistered_domain",
	  "550 5.7.750 Service unavailable. Client blocked from sending from unregistered domains.",
	  550, "5.7.750", "policy_other", NULL, NULL },
	{ "m365_mailbox_full",
	  "552 5.2.2 STOREDRV.Deliver; mailbox full",
	  552, "5.2.2", "mailbox_full", NULL, NULL },

	/* Yahoo (senders.yahooinc.com error codes) */
	{ "yahoo_bl21_spamhaus",
	  "553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.2, because the ip "
	  "is in Spamhaus's list; see http://postmaster.yahoo.com/errors/550-bl23.html",
	  553, "5.7.1", "ip_blocklisted", "zen.spamhaus.org", NULL },
	{ "yahoo_tss04_volume",
	  "421 4.7.0 [TSS04] Messages from 192.0.2.2 temporarily deferred due to unexpected "
	  "volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
	  421, "4.7.0", "rate_limited", NULL, NULL },
	{ "yahoo_no_account",
	  "554 delivery error: dd This user doesn't have a yahoo.com account "
	  "(someone@yahoo.com) [0] - mta1234.mail.gq1.yahoo.com",
	  554, "", "recipient_unknown", NULL, NULL },
	{ "yahoo_mailbox_not_found",
	  "552 1 Requested mail action aborted, mailbox not found",
	  552, "", "recipient_unknown", NULL, NULL },
	{ "yahoo_policy_reasons",
	  "554 5.7.9 Message not accepted for policy reasons.  See "
	  "https://postmaster.yahooinc.com/error-codes",
	  554, "5.7.9", "policy_other", NULL, NULL },
	{ "yahoo_unauthenticated",
	  "550 5.7.9 This mail has been blocked because the sender is unauthenticated. Yahoo "
	  "requires all senders to authenticate with either SPF or DKIM.",
	  550, "5.7.9", "unauthenticated", NULL, NULL },
	{ "yahoo_dmarc",
	  "554 5.7.9 Message not accepted due to domain's DMARC policy. Please see "
	  "https://senders.yahooinc.com/error-codes",
	  554, "5.7.9", "dmarc_fail", NULL, NULL },
	{ "yahoo_size",
	  "554 30 Sorry, your message size exceeds 41943040 bytes.",
	  554, "", "message_too_large", NULL, NULL },

	/* iCloud / Apple (support.apple.com/HT204137, smtp.codes/icloud) */
	{ "icloud_user_does_not_exist",
	  "550 5.1.1 <someone@icloud.com>: user does not exist",
	  550, "5.1.1", "recipient_unknown", NULL, NULL },
	{ "icloud_inactive_address",
	  "550 5.1.1 <someone@icloud.com>: inactive email address",
	  550, "5.1.1", "recipient_disabled", NULL, NULL },
	{ "icloud_cs01_local_policy",
	  "550 5.7.1 [CS01] Message rejected due to local policy. Please visit "
	  "https://support.apple.com/en-us/HT204137",
	  550, "5.7.1", "policy_other", NULL, NULL },
	{ "icloud_dmarc",
	  "550 5.7.1 Your message was rejected due to example.test DMARC policy.",
	  550, "5.7.1", "dmarc_fail", NULL, NULL },
	{ "icloud_spamhaus_dbl",
	  "550 5.7.1 Your email was rejected due to having a domain present in the Spamhaus "
	  "DBL -- see https://www.spamhaus.org/dbl/",
	  550, "5.7.1", "domain_blocklisted", "dbl.spamhaus.org", NULL },
	{ "icloud_excessive_volume",
	  "421 4.7.1 Messages to someone@icloud.com deferred due to excessive volume. Try "
	  "again later - https://support.apple.com/en-us/HT204137",
	  421, "4.7.1", "rate_limited", NULL, NULL },
	{ "icloud_over_quota",
	  "552 5.2.2 <someone@icloud.com>: user is over quota",
	  552, "5.2.2", "mailbox_full", NULL, NULL },

	/* Postfix (postconf(5) defaults, access(5), postgrey, policyd-spf, logs) */
	{ "postfix_rbl_zen",
	  "554 5.7.1 Service unavailable; Client host [192.0.2.2] blocked using "
	  "zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.2",
	  554, "5.7.1", "ip_blocklisted", "zen.spamhaus.org", NULL },
	{ "postfix_user_unknown_local",
	  "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown in "
	  "local recipient table",
	  550, "5.1.1", "recipient_unknown", NULL, NULL },
	{ "postfix_relay_access_denied",
	  "554 5.7.1 <someone@example.test>: Relay access denied",
	  554, "5.7.1", "relay_denied", NULL, NULL },
	{ "postfix_unknown_client_hostname",
	  "450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.2]",
	  450, "4.7.1", "rdns_missing", NULL, NULL },
	{ "postfix_unknown_reverse_hostname",
	  "550 5.7.25 Client host rejected: cannot find your reverse hostname, [192.0.2.2]",
	  550, "5.7.25", "rdns_missing", NULL, NULL },
	{ "postfix_helo_not_fqdn",
	  "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname",
	  504, "5.5.2", "helo_invalid", NULL, NULL },
	{ "postfix_helo_host_not_found",
	  "450 4.7.1 <mail.invalid>: Helo command rejected: Host not found",
	  450, "4.7.1", "helo_invalid", NULL, NULL },
	{ "postfix_invalid_helo_name",
	  "501 5.5.2 <bad_name!>: Helo command rejected: Invalid name",
	  501, "5.5.2", "helo_invalid", NULL, NULL },
	{ "postfix_sender_domain_not_found",
	  "450 4.1.8 <bob@nx.example.test>: Sender address rejected: Domain not found",
	  450, "4.1.8", "sender_domain_invalid", NULL, NULL },
	{ "postfix_sender_null_mx",
	  "550 5.7.27 <bob@example.test>: Sender address rejected: Domain example.test does "
	  "not accept mail (nullMX)",
	  550, "5.7.27", "sender_domain_invalid", NULL, NULL },
	{ "postfix_unverified_sender",
	  "550 5.1.0 <bob@example.test>: Sender address rejected: undeliverable address: "
	  "host mx.example.test[192.0.2.10] said: 550 5.1.1 <bob@example.test>: Recipient "
	  "address rejected: User unknown in local recipient table (in reply to RCPT TO command)",
	  550, "5.1.0", "sender_verify_failed", NULL, NULL },
	{ "postfix_unverified_sender_temporary",
	  "450 4.1.7 <bob@example.test>: Sender address rejected: unverified address: "
	  "Address verification in progress",
	  450, "4.1.7", "sender_verify_failed", NULL, NULL },
	{ "postgrey_greylisted",
	  "450 4.2.0 <someone@example.test>: Recipient address rejected: Greylisted, see "
	  "http://postgrey.schweikert.ch/help/example.test.html",
	  450, "4.2.0", "greylisted", NULL, NULL },
	{ "postfix_too_many_connections",
	  "421 4.7.0 mx.example.test Error: too many connections from 192.0.2.2",
	  421, "4.7.0", "rate_limited", NULL, NULL },
	{ "postfix_too_many_recipients",
	  "452 4.5.3 Error: too many recipients",
	  452, "4.5.3", "rate_limited", NULL, NULL },
	{ "postfix_size_limit",
	  "552 5.3.4 Message size exceeds fixed limit",
	  552, "5.3.4", "message_too_large", NULL, NULL },
	{ "policyd_spf_fail",
	  "550 5.7.23 <someone@example.test>: Recipient address rejected: Message rejected "
	  "due to: SPF fail - not authorized. Please see http://www.openspf.net/Why?"
	  "s=mfrom;id=bob@example.test;ip=192.0.2.2;r=someone@example.test",
	  550, "5.7.23", "spf_fail", NULL, NULL },
	{ "opendmarc_reject",
	  "550 5.7.1 rejected by DMARC policy for example.test",
	  550, "5.7.1", "dmarc_fail", NULL, NULL },
	{ "postfix_rhsbl_sender_dbl",
	  "554 5.7.1 Service unavailable; Sender address [bob@example.test] blocked using "
	  "dbl.spamhaus.org; https://www.spamhaus.org/query/dbl?domain=example.test",
	  554, "5.7.1", "domain_blocklisted", "dbl.spamhaus.org", NULL },
	{ "postfix_log_spamcop",
	  "Nov 30 06:55:01 mail postfix/smtp[1234]: 4F3A21234: to=<someone@example.test>, "
	  "relay=mx.example.test[192.0.2.10]:25, delay=0.5, delays=0.1/0/0.2/0.2, dsn=5.7.1, "
	  "status=bounced (host mx.example.test[192.0.2.10] said: 554 5.7.1 Service "
	  "unavailable; Client host [192.0.2.2] blocked using bl.spamcop.net; Blocked - see "
	  "https://www.spamcop.net/bl.shtml?192.0.2.2 (in reply to RCPT TO command))",
	  554, "5.7.1", "ip_blocklisted", "bl.spamcop.net", "mx.example.test" },

	/* Exim (exim spec: acl messages, dnslists, verify, DSN body, main log) */
	{ "exim_unrouteable",
	  "550 Unrouteable address",
	  550, "", "recipient_unknown", NULL, NULL },
	{ "exim_black_list",
	  "550 Rejected because 192.0.2.2 is in a black list at zen.spamhaus.org",
	  550, "", "ip_blocklisted", "zen.spamhaus.org", NULL },
	{ "exim_sender_verify",
	  "550-Verification failed for <bob@example.test>\n"
	  "550-Unrouteable address\n"
	  "550 Sender verify failed",
	  550, "", "sender_verify_failed", NULL, NULL },
	{ "exim_relay_not_permitted",
	  "550 relay not permitted",
	  550, "", "relay_denied", NULL, NULL },
	{ "exim_size",
	  "552 Message size exceeds maximum permitted",
	  552, "", "message_too_large", NULL, NULL },
	{ "exim_greylist",
	  "451 4.7.1 Greylisted, please try again in 300 seconds",
	  451, "4.7.1", "greylisted", NULL, NULL },
	{ "exim_appendfile_quota",
	  "mailbox is full (MTA-imposed quota exceeded while writing to file /var/mail/someone)",
	  0, "", "mailbox_full", NULL, NULL },
	{ "exim_log_user_unknown",
	  "2024-01-15 10:00:00 1rPab1-0001xy-2C ** someone@example.test R=dnslookup "
	  "T=remote_smtp H=mx.example.test [192.0.2.10]: SMTP error from remote mail server "
	  "after RCPT TO:<someone@example.test>: 550 5.1.1 <someone@example.test>: Recipient "
	  "address rejected: User unknown",
	  550, "5.1.1", "recipient_unknown", NULL, "mx.example.test" },
	{ "exim_dsn_body",
	  "This message was created automatically by mail delivery software.\n\n"
	  "A message that you sent could not be delivered to one or more of its\n"
	  "recipients. This is a permanent error. The following address(es) failed:\n\n"
	  "  someone@example.test\n"
	  "    host mx.example.test [192.0.2.10]\n"
	  "    SMTP error from remote mail server after RCPT TO:<someone@example.test>:\n"
	  "    550 5.1.1 <someone@example.test>: Recipient address rejected: User unknown in "
	  "virtual mailbox table\n",
	  550, "5.1.1", "recipient_unknown", NULL, "mx.example.test" },
	{ "exim_helo_fqdn",
	  "550 HELO/EHLO must contain a FQDN",
	  550, "", "helo_invalid", NULL, NULL },

	/* Sendmail (cf/README, milter-greylist, logs, transcripts) */
	{ "sendmail_user_unknown",
	  "550 5.1.1 <nobody@example.test>... User unknown",
	  550, "5.1.1", "recipient_unknown", NULL, NULL },
	{ "sendmail_sender_domain",
	  "553 5.1.8 <bob@nx.example.test>... Domain of sender address bob@nx.example.test "
	  "does not exist",
	  553, "5.1.8", "sender_domain_invalid", NULL, NULL },
	{ "sendmail_relaying_denied",
	  "550 5.7.1 <someone@example.test>... Relaying denied. IP name lookup failed [192.0.2.2]",
	  550, "5.7.1", "relay_denied", NULL, NULL },
	{ "sendmail_mailbox_full",
	  "552 5.2.2 <someone@example.test>... Mailbox full",
	  552, "5.2.2", "mailbox_full", NULL, NULL },
	{ "sendmail_dnsbl",
	  "550 5.7.1 Rejected: 192.0.2.2 listed at zen.spamhaus.org",
	  550, "5.7.1", "ip_blocklisted", "zen.spamhaus.org", NULL },
	{ "milter_greylist",
	  "451 4.7.1 Greylisting in action, please come back later",
	  451, "4.7.1", "greylisted", NULL, NULL },
	{ "sendmail_connection_rate",
	  "421 4.3.2 Connection rate limit exceeded.",
	  421, "4.3.2", "rate_limited", NULL, NULL },
	{ "sendmail_log_user_unknown",
	  "Jan 15 10:00:00 mail sm-mta[1234]: 0FABCD: to=<someone@example.test>, "
	  "delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=120000, "
	  "relay=mx.example.test. [192.0.2.10], dsn=5.1.1, stat=User unknown",
	  0, "5.1.1", "recipient_unknown", NULL, "mx.example.test" },
	{ "sendmail_spamcop_transcript",
	  "----- Transcript of session follows -----\n"
	  "... while talking to mx.example.test.:\n"
	  ">>> MAIL From:<bob@example.test>\n"
	  "<<< 553 5.3.0 <bob@example.test>... Spam blocked see: "
	  "http://spamcop.net/bl.shtml?192.0.2.2\n"
	  "554 5.0.0 Service unavailable",
	  553, "5.3.0", "ip_blocklisted", "bl.spamcop.net", "mx.example.test" },

	/* qmail and vpopmail (qmail-smtpd, rblsmtpd) */
	{ "qmail_rcpthosts",
	  "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)",
	  553, "5.7.1", "relay_denied", NULL, NULL },
	{ "qmail_no_mailbox",
	  "550 sorry, no mailbox here by that name. (#5.1.1)",
	  550, "5.1.1", "recipient_unknown", NULL, NULL },
	{ "qmail_databytes",
	  "552 sorry, that message size exceeds my databytes limit (#5.3.4)",
	  552, "5.3.4", "message_too_large", NULL, NULL },
	{ "qmail_sender_domain",
	  "553 sorry, your envelope sender domain must exist (#5.7.1)",
	  553, "5.7.1", "sender_domain_invalid", NULL, NULL },
	{ "vpopmail_over_quota",
	  "The users mailfolder is over the allowed quota (size). (#5.2.2)",
	  0, "5.2.2", "mailbox_full", NULL, NULL },
	{ "vpopmail_no_longer_accepts",
	  "This address no longer accepts mail. (#5.1.1)",
	  0, "5.1.1", "recipient_disabled", NULL, NULL },
	{ "rblsmtpd_spamhaus",
	  "451 https://www.spamhaus.org/query/ip/192.0.2.2",
	  451, "", "ip_blocklisted", "zen.spamhaus.org", NULL },

	/* Proofpoint (ipcheck.proofpoint.com, Proofpoint Dynamic Reputation) */
	{ "proofpoint_blocked",
	  "554 5.7.0 Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.2",
	  554, "5.7.0", "ip_blocklisted", "proofpoint's own list", NULL },
	{ "proofpoint_local_policy",
	  "550 5.7.0 Local Policy Violation",
	  550, "5.7.0", "policy_other", NULL, NULL },

	/* Mimecast (community.mimecast.com SMTP error codes) */
	{ "mimecast_invalid_recipient",
	  "550 Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#550",
	  550, "", "recipient_unknown", NULL, NULL },
	{ "mimecast_unresolvable_from",
	  "451 Message temporarily deferred due to unresolvable RFC.5321 from address - "
	  "https://community.mimecast.com/docs/DOC-1369#451",
	  451, "", "sender_domain_invalid", NULL, NULL },
	{ "mimecast_anti_spoofing",
	  "550 Rejected by header based Anti-Spoofing policy - "
	  "https://community.mimecast.com/docs/DOC-1369#550",
	  550, "", "policy_other", NULL, NULL },
	{ "mimecast_virus",
	  "554 Virus signature detection - https://community.mimecast.com/docs/DOC-1369#554",
	  554, "", "content_rejected", NULL, NULL },
	{ "mimecast_size",
	  "554 Maximum email size exceeded - https://community.mimecast.com/docs/DOC-1369#554",
	  554, "", "message_too_large", NULL, NULL },

	/* Barracuda (Barracuda Reputation Block List, ESS) */
	{ "barracuda_reputation",
	  "554 Service unavailable; Client host [192.0.2.2] blocked using Barracuda "
	  "Reputation; http://www.barracudanetworks.com/reputation/?pr=1&ip=192.0.2.2",
	  554, "", "ip_blocklisted", "b.barracudacentral.org", NULL },
	{ "barracuda_bbl_zone",
	  "554 5.7.1 Service unavailable; Client host [192.0.2.2] blocked using "
	  "b.barracudacentral.org",
	  554, "5.7.1", "ip_blocklisted", "b.barracudacentral.org", NULL },
	{ "barracuda_ess_blocked",
	  "Recipient server: d241253a.ess.barracudanetworks.com SMTP response: "
	  "550 permanent failure for one or more recipients (someone@example.test:blocked)",
	  550, "", "policy_other", NULL, "d241253a.ess.barracudanetworks.com" },

	/* Spamhaus-style and other list replies */
	{ "spamhaus_sbl_xbl",
	  "554 5.7.1 Service unavailable; Client host [192.0.2.2] blocked using "
	  "sbl-xbl.spamhaus.org",
	  554, "5.7.1", "ip_blocklisted", "sbl-xbl.spamhaus.org", NULL },
	{ "spamhaus_pbl",
	  "554 5.7.1 Service unavailable; Client host [192.0.2.2] blocked using "
	  "pbl.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.2",
	  554, "5.7.1", "ip_blocklisted", "pbl.spamhaus.org", NULL },
	{ "spamcop_postfix",
	  "554 5.7.1 Service unavailable; Client host [192.0.2.2] blocked using "
	  "bl.spamcop.net; Blocked - see https://www.spamcop.net/bl.shtml?192.0.2.2",
	  554, "5.7.1", "ip_blocklisted", "bl.spamcop.net", NULL },

	/* RFC 7372 codes as DKIM-checking receivers send them */
	{ "rfc7372_no_passing_dkim",
	  "550 5.7.20 No passing DKIM signature found",
	  550, "5.7.20", "dkim_fail", NULL, NULL },
	{ "rfc7372_no_author_dkim",
	  "550 5.7.22 No valid author-matched DKIM signature found",
	  550, "5.7.22", "dkim_fail", NULL, NULL },
	{ "dkim_milter_verification_failed",
	  "554 5.7.1 DKIM signature verification failed",
	  554, "5.7.1", "dkim_fail", NULL, NULL },

	/* What MTAs write when they could not talk to the receiver (smtp(8), Exim, sendmail) */
	{ "postfix_connect_refused",
	  "delivery temporarily suspended: connect to mx.example.test[192.0.2.25]:25: "
	  "Connection refused",
	  0, "", "recipient_server_down", NULL, NULL },
	{ "exim_all_hosts_failing",
	  "all hosts for 'example.test' have been failing for a long time (and retry time "
	  "not reached)",
	  0, "", "recipient_server_down", NULL, NULL },
	{ "postfix_no_route",
	  "connect to mx.example.test[192.0.2.25]:25: No route to host",
	  0, "", "recipient_server_down", NULL, NULL },
	{ "postfix_connect_timeout_25",
	  "connect to mx.example.test[192.0.2.25]:25: Connection timed out",
	  0, "", "port25_blocked", NULL, NULL },
	{ "sendmail_connect_timeout",
	  "Deferred: Connection timed out with mx.example.test.",
	  0, "", "port25_blocked", NULL, NULL },
	{ "isp_direct_to_mx",
	  "550 5.7.1 Direct-to-MX delivery is not permitted from this network",
	  550, "5.7.1", "port25_blocked", NULL, NULL },
	{ "rfc5321_no_smtp_service",
	  "554 No SMTP service here",
	  554, "", "connection_blocked", NULL, NULL },
	{ "exim_smtp_service_not_available",
	  "554 SMTP service not available",
	  554, "", "connection_blocked", NULL, NULL },
	{ "connection_rejected_by_policy",
	  "554 5.7.1 Connection rejected by policy",
	  554, "5.7.1", "connection_blocked", NULL, NULL },
};

/* The name of cause, "none" for CAUSE_NONE. */
static const char *
cause_of(enum cause_code cause)
{
	const char *n = cause_name(cause);

	return n != NULL ? n : "none";
}

static void
classify(const struct bounce_rules *r, const char *text, struct bounce_class *c)
{
	bounce_classify(r, text, strlen(text), c);
}

static bool
named(const struct bounce_class *c, const char *list)
{
	size_t i;

	for (i = 0; i < c->nlists; i++)
		if (strcmp(c->lists[i], list) == 0)
			return true;
	return false;
}

Test(bounce, real_world_replies_are_classified)
{
	struct bounce_rules *r = test_shipped_bounce_rules();
	struct strbuf fails;
	size_t i;

	strbuf_init(&fails);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct bcase *k = &cases[i];
		struct bounce_class c;

		classify(r, k->text, &c);
		if (c.basic_code != k->basic)
			strbuf_addf(&fails, "%s: basic code %d, want %d\n", k->source,
			    c.basic_code, k->basic);
		if (strcmp(c.enhanced, k->enhanced) != 0)
			strbuf_addf(&fails, "%s: enhanced '%s', want '%s'\n", k->source,
			    c.enhanced, k->enhanced);
		if (strcmp(cause_of(c.cause), k->cause) != 0)
			strbuf_addf(&fails, "%s: cause %s (matched %zu rules), want %s\n",
			    k->source, cause_of(c.cause), c.nmatched, k->cause);
		if (k->list != NULL && !named(&c, k->list))
			strbuf_addf(&fails, "%s: list %s not named (%zu lists)\n", k->source,
			    k->list, c.nlists);
		if (k->host != NULL && (c.host == NULL || strcmp(c.host, k->host) != 0))
			strbuf_addf(&fails, "%s: host %s, want %s\n", k->source,
			    c.host ? c.host : "none", k->host);
		bounce_class_release(&c);
	}
	cr_expect_eq(fails.len, 0, "%zu cases:\n%s", ARRAY_SIZE(cases),
	    fails.buf ? fails.buf : "");
	strbuf_release(&fails);
	bounce_rules_free(r);
}

Test(bounce, every_cause_code_has_several_real_texts)
{
	size_t j;
	int c;

	for (c = CAUSE_NONE + 1; c < CAUSE_END; c++) {
		size_t n = 0;

		/* advice, and the verdict's reading of a 4xx that gives no reason, are no replies' words */
		if (cause_is_advice((enum cause_code)c) || c == CAUSE_DEFERRED)
			continue;
		for (j = 0; j < ARRAY_SIZE(cases); j++)
			if (strcmp(cases[j].cause, cause_name(c)) == 0)
				n++;
		cr_expect(n >= 3, "cause %s has %zu texts in the table", cause_name(c), n);
	}
}

Test(bounce, whole_dsn_uses_diagnostic_code_remote_mta_and_recipient)
{
	static const char dsn[] =
	    "From: MAILER-DAEMON@mail.sender.test (Mail Delivery System)\n"
	    "Subject: Undelivered Mail Returned to Sender\n"
	    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
	    "--B\nContent-Description: Notification\nContent-Type: text/plain\n\n"
	    "This is the mail system at host mail.sender.test.\n\n"
	    "I'm sorry to have to inform you that your message could not\n"
	    "be delivered to one or more recipients.\n\n"
	    "--B\nContent-Description: Delivery report\nContent-Type: message/delivery-status\n\n"
	    "Reporting-MTA: dns; mail.sender.test\n"
	    "Arrival-Date: Mon, 15 Jan 2024 10:00:00 +0100 (CET)\n\n"
	    "Final-Recipient: rfc822; someone@example.test\n"
	    "Original-Recipient: rfc822;someone@example.test\n"
	    "Action: failed\n"
	    "Status: 5.0.0\n"
	    "Remote-MTA: dns; mx.example.test\n"
	    "Diagnostic-Code: smtp; 550-5.2.2 The email account that you tried to reach is\n"
	    "    over quota. Please direct the recipient to\n"
	    "    550 5.2.2 https://support.example.test/OverQuota\n\n"
	    "--B\nContent-Description: Undelivered Message\nContent-Type: message/rfc822\n\n"
	    "Received: by mail.sender.test (Postfix 3.5.6) with ESMTP id 4.7.1\n"
	    "Subject: user unknown, relay access denied, spam\n\n"
	    "550 5.1.1 this quoted body line is not the reply\n--B--\n";
	struct bounce_rules *r = test_shipped_bounce_rules();
	struct bounce_class c;

	classify(r, dsn, &c);
	cr_expect_str_eq(c.enhanced, "5.2.2", "the specific code wins over Status 5.0.0");
	cr_expect_eq(c.basic_code, 550);
	cr_assert_neq(c.cause, CAUSE_NONE);
	cr_expect_str_eq(cause_of(c.cause), "mailbox_full", "the returned message is not read");
	cr_assert_not_null(c.host);
	cr_expect_str_eq(c.host, "mx.example.test", "Remote-MTA, not Reporting-MTA");
	cr_assert_not_null(c.recipient);
	cr_expect_str_eq(c.recipient, "someone@example.test");
	cr_expect_null(strstr(c.reply, "Diagnostic-Code"), "the field name is not the reply");
	cr_expect_not_null(strstr(c.reply, "over quota. Please direct"),
	    "folded lines are joined: %s", c.reply);
	bounce_class_release(&c);
	bounce_rules_free(r);
}

Test(bounce, ip_addresses_and_versions_are_not_status_codes)
{
	struct bounce_rules *r = test_shipped_bounce_rules();
	struct bounce_class c;

	classify(r, "connect from host [192.0.2.5] using Exim 4.96.2 and v5.7.1 at port 587 ",
	    &c);
	cr_expect_str_eq(c.enhanced, "");
	cr_expect_eq(c.basic_code, 0);
	bounce_class_release(&c);
	classify(r, "mail from 550.example.test is 5.1.1.4 far", &c);
	cr_expect_str_eq(c.enhanced, "");
	cr_expect_eq(c.basic_code, 0);
	bounce_class_release(&c);
	bounce_rules_free(r);
}

Test(bounce, confidence_follows_how_specific_the_text_is)
{
	struct bounce_rules *r = test_shipped_bounce_rules();
	struct bounce_class c;

	classify(r, "550 Blocked", &c);
	cr_assert_neq(c.cause, CAUSE_NONE);
	cr_expect_str_eq(cause_of(c.cause), "policy_other");
	cr_expect_eq(c.confidence, CONF_LOW, "a bare 550 Blocked says little");
	bounce_class_release(&c);

	classify(r, "550 5.1.1", &c);
	cr_expect_str_eq(cause_of(c.cause), "recipient_unknown");
	cr_expect_eq(c.confidence, CONF_MEDIUM, "the code alone");
	bounce_class_release(&c);

	classify(r, "user unknown", &c);
	cr_expect_str_eq(cause_of(c.cause), "recipient_unknown");
	cr_expect_eq(c.confidence, CONF_MEDIUM, "the words alone");
	cr_expect_eq(c.basic_code, 0);
	bounce_class_release(&c);

	classify(r, "550 5.1.1 <a@example.test>: user unknown", &c);
	cr_expect_eq(c.confidence, CONF_HIGH, "code and words agree");
	bounce_class_release(&c);

	classify(r, "450 4.7.1 Client host [192.0.2.2] blocked using zen.spamhaus.org", &c);
	cr_expect_str_eq(cause_of(c.cause), "ip_blocklisted");
	cr_expect(c.transient);
	cr_expect_eq(c.confidence, CONF_MEDIUM, "a temporary reply is at most medium");
	bounce_class_release(&c);
	bounce_rules_free(r);
}

Test(bounce, unknown_detail_falls_back_to_its_subject)
{
	struct bounce_rules *r = test_shipped_bounce_rules();
	struct bounce_class c;

	classify(r, "550 5.1.99 whatever", &c);
	cr_expect_str_eq(c.enhanced, "5.1.99");
	cr_assert_not_null(c.meaning);
	cr_expect_str_eq(c.meaning, "Other address status", "RFC 3463: X.1.0");
	bounce_class_release(&c);
	bounce_rules_free(r);
}

Test(bounce, success_reply_and_noise_give_no_cause)
{
	struct bounce_rules *r = test_shipped_bounce_rules();
	struct bounce_class c;

	classify(r, "250 2.0.0 Ok: queued as 4F3A21234 (spam score 0)", &c);
	cr_expect(c.success);
	cr_expect_eq(c.cause, CAUSE_NONE);
	bounce_class_release(&c);
	classify(r, "hello there, nothing to see", &c);
	cr_expect_eq(c.cause, CAUSE_NONE);
	cr_expect_eq(c.basic_code, 0);
	bounce_class_release(&c);
	classify(r, "", &c);
	cr_expect_eq(c.cause, CAUSE_NONE);
	cr_expect_str_eq(c.reply, "");
	bounce_class_release(&c);
	bounce_rules_free(r);
}

Test(bounce, second_cause_is_named)
{
	struct bounce_rules *r = test_shipped_bounce_rules();
	struct bounce_class c;

	classify(r, "550 5.7.1 <a@example.test>... Relaying denied. IP name lookup failed "
	    "[192.0.2.2]", &c);
	cr_expect_str_eq(cause_of(c.cause), "relay_denied");
	cr_assert_neq(c.second_cause, CAUSE_NONE);
	cr_expect_str_eq(cause_of(c.second_cause), "rdns_missing");
	bounce_class_release(&c);
	bounce_rules_free(r);
}

Test(bounce, hostile_bytes_are_safe_and_bounded)
{
	/* controls, invalid UTF-8 and NUL on short lines, more of them than is read */
	static const char line[] = "550 5.7.1 \xff\x1b\0<a@b.test> blocked using x.test\n";
	struct bounce_rules *r = test_shipped_bounce_rules();
	struct bounce_class c;
	size_t n = BOUNCE_MAX_TEXT + 4096, i;
	char *big = malloc(n);
	json_t *j;
	char *dump;

	cr_assert_not_null(big);
	for (i = 0; i < n; i++)
		big[i] = line[i % (sizeof(line) - 1)];
	cr_assert_eq(big[sizeof(line) - 2], '\n', "the text is many lines");
	bounce_classify(r, big, n, &c);
	cr_expect_leq(strlen(c.reply), BOUNCE_MAX_REPLY + 4);
	cr_expect_str_eq(cause_of(c.cause), "ip_blocklisted");
	cr_expect_eq(c.nlists, 1, "the list every line names is named once");
	cr_expect_null(strstr(c.reply + 1, "550 5.7.1"),
	    "the code of each continuation line is not part of the reply: %s", c.reply);
	j = bounce_class_json(&c);
	dump = json_dumps(j, 0);
	cr_expect_not_null(dump, "the JSON is valid UTF-8");
	free(dump);
	json_decref(j);
	bounce_class_release(&c);
	free(big);
	bounce_rules_free(r);
}

Test(bounce, check_reports_the_classification_as_a_finding)
{
	extern const struct check_ops check_bounce;
	struct conf *conf = conf_new();
	char *path = test_path("checks.d/bounce.conf");
	struct report *rep = report_new(&check_bounce);
	struct target t;
	struct error err;
	const struct finding *f;
	void *ctx = NULL;

	cr_assert_eq(conf_load_file(conf, path, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(check_bounce.configure(&ctx, conf, &err), 0, "%s", err.msg);
	target_init(&t);
	cr_assert_eq(target_set_bounce(&t, "--bounce",
	    "554 5.7.1 Service unavailable; Client host [192.0.2.2] blocked using "
	    "zen.spamhaus.org", &err), 0);
	check_bounce.run(ctx, &t, NULL, rep);
	f = report_find(rep, "bounce_classified");
	cr_assert_not_null(f);
	cr_expect_eq(f->severity, SEV_FAIL);
	cr_expect_str_eq(json_string_value(json_object_get(f->data, "cause")), "ip_blocklisted");
	cr_expect_eq(json_integer_value(json_object_get(f->data, "basic_code")), 554);
	cr_expect_str_eq(json_string_value(json_object_get(f->data, "enhanced_code")), "5.7.1");
	cr_expect_str_eq(json_string_value(json_array_get(json_object_get(f->data, "lists"), 0)),
	    "zen.spamhaus.org");
	cr_expect_eq(report_status(rep), CHECK_FAIL);
	report_free(rep);
	check_bounce.free(ctx);
	target_release(&t);
	conf_free(conf);
	free(path);
}

/* One reply classified by the shipped rules: its cause, and the code rule or phrase that must have matched. */
static void
expect_cause(const char *text, const char *cause, const char *rule)
{
	struct bounce_rules *r = test_shipped_bounce_rules();
	struct bounce_class c;
	size_t i;
	bool found = rule == NULL;

	classify(r, text, &c);
	cr_expect_str_eq(cause_of(c.cause), cause, "%s", text);
	for (i = 0; i < c.nmatched && !found; i++)
		found = strcmp(c.matched[i], rule) == 0;
	cr_expect(found, "rule '%s' matched for: %s", rule, text);
	bounce_class_release(&c);
	bounce_rules_free(r);
}

/* A fixture of tests/data/bounce-dsn classified whole; the caller releases c. */
static void
classify_fixture(const char *name, struct bounce_class *c)
{
	struct bounce_rules *r = test_shipped_bounce_rules();
	char *rel = xasprintf("tests/data/bounce-dsn/%s", name);
	char *path = test_path(rel);
	FILE *f = fopen(path, "rb");
	static char buf[65536];
	size_t n;

	cr_assert_not_null(f, "cannot read %s", path);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	bounce_classify(r, buf, n, c);
	free(path);
	free(rel);
	bounce_rules_free(r);
}

Test(bounce, gmail_4_7_27_is_an_spf_failure_not_a_null_mx)
{
	expect_cause("421-4.7.27 Your email has been rate limited because SPF authentication didn't\n"
	    "421 4.7.27 pass for this message. a1si2 - gsmtp", "spf_fail", "code X.7.27 google");
	/* without Google the registry's meaning stands */
	expect_cause("550 5.7.27 <bob@example.test>: Sender address rejected: Domain example.test "
	    "does not accept mail (nullMX)", "sender_domain_invalid", "code X.7.27");
}

Test(bounce, gmail_5_7_30_is_a_dkim_failure_not_requiretls)
{
	expect_cause("550-5.7.30 Your email has been blocked because DKIM authentication didn't\n"
	    "550 5.7.30 pass for this message. https://support.google.com/mail/answer/81126 - gsmtp",
	    "dkim_fail", "code X.7.30 google");
}

Test(bounce, microsoft_5_7_511_is_a_banned_sending_ip)
{
	expect_cause("550 5.7.511 Access denied, banned sender[203.0.113.7]. To request removal from "
	    "this list, forward this message to delist@microsoft.com. "
	    "[AM1EUR02FT011.eop-EUR02.prod.protection.outlook.com]", "ip_blocklisted",
	    "code X.7.511 microsoft");
}

Test(bounce, t_online_bl_is_an_ip_blocklisting)
{
	expect_cause("554 IP=203.0.113.7 - A problem occurred. (Ask your postmaster for help or to "
	    "contact tosa@rx.t-online.de to clarify.) (BL)", "ip_blocklisted", "phrase t_online_ip");
}

Test(bounce, orange_ofr006_codes_are_an_ip_blocklisting)
{
	expect_cause("550 mwinf5c10 ME Adresse IP source bloquee pour incident de spam. Client host "
	    "blocked for spamming issues. OFR006_102 Ref http://csi.cloudmark.com/reset-request/"
	    "?ip=203.0.113.7 [102]", "ip_blocklisted", "phrase orange_ip");
	expect_cause("421 mwinf5c07 ME Trop de connexions, veuillez verifier votre configuration. Too "
	    "many connections, slow down. OFR004_104 [104]", "rate_limited", "phrase orange_rate");
}

Test(bounce, gmx_case_codes_name_what_was_refused)
{
	expect_cause("554-gmx.net (mxgmx104) Nemesis ESMTP Service not available\n"
	    "554-No SMTP service\n554-IP address is block listed.\n"
	    "554 For explanation visit https://postmaster.gmx.net/en/case?c=r0201&i=ip&v=203.0.113.7"
	    "&r=1MNcgj", "ip_blocklisted", "phrase united_internet_ip");
	expect_cause("554-web.de (mxweb112) Nemesis ESMTP Service not available\n"
	    "554 For explanation visit https://postmaster.web.de/en/error-messages?c=rdns"
	    "&ip=203.0.113.7", "rdns_missing", "phrase united_internet_rdns");
}

Test(bounce, yahoo_ts_codes_are_the_ips_reputation)
{
	expect_cause("421 4.7.0 [TS01] Messages from 203.0.113.7 temporarily deferred due to user "
	    "complaints - 4.16.55.1; see http://postmaster.yahoo.com/errors/421-ts01.html",
	    "ip_blocklisted", "phrase yahoo_ts");
	expect_cause("421 4.7.1 [TS03] All messages from 203.0.113.7 will be permanently deferred; "
	    "Retrying will NOT succeed. See http://postmaster.yahoo.com/421-ts03.html",
	    "ip_blocklisted", "phrase yahoo_ts");
}

Test(bounce, client_host_blocked_for_spamming_with_cloudmark_is_a_blocklisting)
{
	expect_cause("550 5.7.1 Client host blocked for spamming issues. See "
	    "http://csi.cloudmark.com/reset-request/?ip=203.0.113.7", "ip_blocklisted",
	    "phrase cloudmark_ip");
}

Test(bounce, quoted_printable_soft_break_is_joined)
{
	struct bounce_class c;

	classify_fixture("quoted-printable.eml", &c);
	cr_expect_str_eq(cause_of(c.cause), "ip_blocklisted");
	cr_expect_eq(c.confidence, CONF_HIGH);
	cr_assert_eq(c.nlists, 1);
	cr_expect_str_eq(c.lists[0], "zen.spamhaus.org", "not cut to zen.sp");
	cr_expect_null(strstr(c.reply, "returned line"), "the returned original is not read");
	bounce_class_release(&c);
}

Test(bounce, base64_parts_are_decoded)
{
	struct bounce_class c;

	classify_fixture("base64.eml", &c);
	cr_expect_str_eq(cause_of(c.cause), "mailbox_full");
	cr_expect_str_eq(c.enhanced, "5.2.2");
	cr_assert_not_null(c.reporting_mta);
	cr_expect_str_eq(c.reporting_mta, "mail.sender.test");
	cr_assert_eq(c.nrcpts, 1);
	cr_expect_str_eq(c.rcpts[0].recipient, "bob@example.test");
	bounce_class_release(&c);
}

Test(bounce, several_recipients_each_classified_and_the_failed_one_chosen)
{
	struct bounce_class c;
	json_t *j, *a;

	classify_fixture("several-recipients.eml", &c);
	cr_assert_eq(c.nrcpts, 4);
	cr_expect_eq(c.primary, 1, "the first failed recipient, not the delayed one");
	cr_expect_str_eq(c.recipient, "dave@example.test");
	cr_expect_str_eq(cause_of(c.cause), "ip_blocklisted");
	cr_expect(named(&c, "bl.spamcop.net"), "the folded diagnostic is read whole");
	cr_expect_eq(c.rcpts[0].cause, CAUSE_MAILBOX_FULL);
	cr_expect_str_eq(c.rcpts[0].action, "delayed");
	cr_expect_eq(c.rcpts[2].cause, CAUSE_RECIPIENT_UNKNOWN);
	cr_expect_eq(c.rcpts[3].cause, CAUSE_NONE, "a relayed recipient has no cause");
	cr_expect_null(strchr(c.rcpts[1].diagnostic, '\n'), "a diagnostic is one line");
	j = bounce_class_json(&c);
	a = json_object_get(j, "recipients");
	cr_assert_eq(json_array_size(a), 4);
	cr_expect(json_is_true(json_object_get(json_array_get(a, 1), "primary")));
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(a, 2), "cause")),
	    "recipient_unknown");
	json_decref(j);
	bounce_class_release(&c);
}

Test(bounce, exchange_html_ndr_is_read_as_text)
{
	struct bounce_class c;

	classify_fixture("exchange-ndr-html.eml", &c);
	cr_expect_str_eq(cause_of(c.cause), "ip_blocklisted");
	cr_expect_str_eq(c.enhanced, "5.7.606");
	cr_expect_null(strchr(c.reply, '<'), "no tags in the reply: %s", c.reply);
	cr_expect_null(strstr(c.reply, "&#39;"), "entities decoded: %s", c.reply);
	cr_expect_null(strstr(c.reply, "color:red"), "style sheets are not text: %s", c.reply);
	bounce_class_release(&c);
}

Test(bounce, a_nul_byte_does_not_cut_the_text)
{
	static const char text[] = "Subject: hello\0\n\n550 5.1.1 <a@example.test>: User unknown";
	struct bounce_rules *r = test_shipped_bounce_rules();
	struct bounce_class c;

	bounce_classify(r, text, sizeof(text) - 1, &c);
	cr_expect_str_eq(cause_of(c.cause), "recipient_unknown", "the reply after the NUL is read");
	bounce_class_release(&c);
	bounce_rules_free(r);
}

Test(bounce, a_pasted_reply_is_not_read_as_a_message)
{
	expect_cause("Diagnostic-Code: smtp; 550 5.1.1 <a@example.test>: User unknown",
	    "recipient_unknown", "code X.1.1");
	expect_cause("From the log: 554 5.7.1 Service unavailable; Client host [203.0.113.7] "
	    "blocked using bl.spamcop.net", "ip_blocklisted", NULL);
}
