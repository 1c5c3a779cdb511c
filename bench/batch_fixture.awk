# The batch benchmark's fixture: zone files for NSD and a target file of N distinct targets.
#
#   awk -v n=N -v zones=DIR -v targets=FILE -f bench/batch_fixture.awk
#
# Target i has the IP 10.(i/65536).(i/256%256).(i%256), distinct for every
# i, a sender and a HELO name from one of S sender domains and a recipient
# at one of R recipient domains, as in the pre-flight of a campaign: the
# IPs are all different, the domains repeat. Zones written into DIR (one
# NAME.zone per zone, served by tests/nsd.sh):
#   - the 12 blocklists of the shipped checks.d (9 IP lists, 3 domain
#     lists) with their RFC 5782 test points; each IP is listed on a list
#     with a probability of 1 in 40, with a TXT reason; two sender domains
#     are on the domain lists;
#   - X.10.in-addr.arpa for the IPs: 7 in 10 have a PTR (4 a mail name,
#     3 a generic dsl- name), 6 in 10 of those names have the A record
#     back (isp.bench);
#   - S sender domains s0.bench ... (MX, SPF with an include, DMARC, a DKIM
#     key, the HELO name mail.sK.bench with its own SPF), esp.bench (the
#     SPF include), R recipient domains r0.bench ... (MX).
# Deterministic: the same n gives the same files.

function zone_head(f, origin) {
	printf "$ORIGIN %s.\n$TTL 3600\n", origin > f
	printf "@ IN SOA ns.bench. hostmaster.bench. 1 3600 600 86400 3600\n" > f
	printf "@ IN NS ns.bench.\n" > f
}

# A small deterministic hash of (i, j), 0..9999.
function h(i, j) {
	return (i * 7919 + j * 104729 + int(i / 7) * 31) % 10000
}

BEGIN {
	if (n == "" || zones == "" || targets == "") {
		print "usage: awk -v n=N -v zones=DIR -v targets=FILE -f batch_fixture.awk" > "/dev/stderr"
		exit 64
	}
	S = 110
	R = 5
	nip = split("zen.spamhaus.org bl.spamcop.net b.barracudacentral.org psbl.surriel.com " \
	    "bl.mailspike.net dnsbl-1.uceprotect.net all.spamrats.com all.s5h.net " \
	    "dnsbl.dronebl.org", iplist, " ")
	# a listing code each list documents
	split("127.0.0.2 127.0.0.2 127.0.0.2 127.0.0.2 127.0.0.2 127.0.0.2 127.0.0.38 " \
	    "127.0.0.2 127.0.0.3", ipcode, " ")
	split("dbl.spamhaus.org multi.surbl.org multi.uribl.com", domlist, " ")
	split("dbltest.com test.surbl.org test.uribl.com", domtest, " ")
	split("127.0.1.2 127.0.0.64 127.0.0.2", domcode, " ")
	key = "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAm9/GY04WI9k5GXE86NeXfkoLFWJL+sCFgNLlAVh6g76PZxrei0ET2WbdmolmPPv0iWNfJoAcm1jiDwpn6nXEa7BO7n/cwD0j5rasfjuNq3U3eyaCRVobUc5BCm9CElg6QljM7QaNTOvWS+MIzUBPoJ2BsE/PQJUons4Mg7Ad4QeN1NHwbRLZVtmPcPrs\" \"hsDmoY3aPyz+bbKqktVCWUbCth4eSw6NU2fe5yQCFRjsUyGXlcUpUE2kNxu08zQGFbsH47uli0l/pebYpy0KF9jheZKH0JENZ1PfBKJ4ZKti1iYEH2dGhNpaF1LdKAvVuWjTRDFFTIGXXDzq8FovXbx0iwIDAQAB"

	for (j = 1; j <= nip; j++) {
		f = zones "/" iplist[j] ".zone"
		zone_head(f, iplist[j])
		printf "2.0.0.127 IN A 127.0.0.2\n" > f
		printf "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 IN A 127.0.0.2\n" > f
	}
	for (j = 1; j <= 3; j++) {
		f = zones "/" domlist[j] ".zone"
		zone_head(f, domlist[j])
		printf "%s IN A %s\n", domtest[j], domcode[j] > f
		# two sender domains are listed on every domain list
		printf "s7.bench IN A %s\ns7.bench IN TXT \"listed: s7.bench\"\n", domcode[j] > f
		printf "s42.bench IN A %s\ns42.bench IN TXT \"listed: s42.bench\"\n", domcode[j] > f
	}

	nrev = int((n - 1) / 65536) + 1
	for (x = 0; x < nrev; x++)
		zone_head(zones "/" x ".10.in-addr.arpa.zone", x ".10.in-addr.arpa")
	isp = zones "/isp.bench.zone"
	zone_head(isp, "isp.bench")
	for (i = 0; i < n; i++) {
		a = int(i / 65536); b = int(i / 256) % 256; c = i % 256
		ip = "10." a "." b "." c
		rev = c "." b
		k = h(i, 0) % 10
		if (k < 7) {
			name = (k < 4 ? "mail" i : "dsl-10-" a "-" b "-" c) ".isp.bench"
			printf "%s IN PTR %s.\n", rev, name > (zones "/" a ".10.in-addr.arpa.zone")
			if (h(i, 1) % 10 < 6)
				printf "%s IN A %s\n", substr(name, 1, length(name) - 10), ip > isp
		}
		for (j = 1; j <= nip; j++) {
			if (h(i, j + 2) % 40 != 0)
				continue
			f = zones "/" iplist[j] ".zone"
			printf "%s.%s.10 IN A %s\n", rev, a, ipcode[j] > f
			printf "%s.%s.10 IN TXT \"listed: %s, see https://%s/lookup?%s\"\n", rev, a,
			    ip, iplist[j], ip > f
		}
		s = i % S
		printf "{\"ip\":\"%s\",\"helo\":\"mail.s%d.bench\",\"mail_from\":\"news@s%d.bench\"," \
		    "\"rcpt_to\":\"user%d@r%d.bench\"}\n", ip, s, s, i % 1000, i % R > targets
	}

	f = zones "/esp.bench.zone"
	zone_head(f, "esp.bench")
	printf "_spf IN TXT \"v=spf1 ip4:10.0.0.0/13 ip4:192.0.2.0/24 -all\"\n" > f
	for (s = 0; s < S; s++) {
		d = "s" s ".bench"
		f = zones "/" d ".zone"
		zone_head(f, d)
		printf "@ IN MX 10 mail\nmail IN A 192.0.2.%d\n", s % 250 + 1 > f
		printf "@ IN TXT \"v=spf1 ip4:192.0.2.0/24 include:_spf.esp.bench %s\"\n",
		    s % 3 == 0 ? "-all" : "~all" > f
		printf "mail IN TXT \"v=spf1 a -all\"\n" > f
		printf "_dmarc IN TXT \"v=DMARC1; p=%s; rua=mailto:d@%s\"\n",
		    s % 3 == 0 ? "reject" : s % 3 == 1 ? "quarantine" : "none", d > f
		printf "default._domainkey IN TXT ( \"%s\" )\n", key > f
	}
	for (r = 0; r < R; r++) {
		d = "r" r ".bench"
		f = zones "/" d ".zone"
		zone_head(f, d)
		printf "@ IN MX 10 mx\nmx IN A 192.0.2.%d\n", 200 + r > f
	}
	f = zones "/bench.zone"
	zone_head(f, "bench")
	printf "ns IN A 127.0.0.1\n" > f
}
