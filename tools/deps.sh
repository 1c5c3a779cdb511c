#!/bin/sh
# Installs the Debian packages why550 needs to build, test and benchmark, when they are missing.
set -eu

pkgs="build-essential pkg-config libldns-dev ldnsutils libspf2-dev libopendkim-dev
libjansson-dev libcriterion-dev libpsl-dev libidn2-dev libgmime-3.0-dev libssl-dev nsd
python3 python3-yaml python3-jsonschema valgrind iproute2 procps
libxml2-utils python3-junitparser prometheus
dpkg-dev debhelper lintian bash-completion zsh
parallel unbound jq util-linux postfix nftables openssl strace"
case "${1:-}" in
--bench) pkgs="$pkgs dnsperf rblcheck python3-spf hyperfine bc swaks" ;;
--fuzz) pkgs="$pkgs clang libclang-rt-14-dev" ;;
esac

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# the tests run Postfix instances of their own: the system's stays unconfigured and stopped
echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
$sudo apt-get update -q >/dev/null
# The tests need promtool and nsd, not their services: where nothing says
# otherwise, keep the packages from starting daemons (policy-rc.d, the
# Debian way), and leave the machine as it was.
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	policy=/usr/sbin/policy-rc.d
	printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
	$sudo chmod 755 "$policy"
	trap '$sudo rm -f "$policy"' EXIT
fi
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing >/dev/null
