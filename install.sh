#!/usr/bin/env bash
# Installs sealmail: Debian build dependencies, a release build, and the binaries.
# (The full drop-in — /usr/sbin/sendmail, the sealmail group, setgid, the queue timer — is
# issue 6's work and is not done here yet.)
set -euo pipefail
cd "$(dirname "$0")"

if [ "$(id -u)" -ne 0 ]; then echo "install.sh: run as root" >&2; exit 77; fi
need=()
for pkg in libssl-dev libbsd-dev pkg-config; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "install.sh: installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi

echo "install.sh: building (release, static Swift runtime)"
swift build -c release --static-swift-stdlib --product sealmail
swift build -c release --static-swift-stdlib --product sealctl
bin=$(swift build -c release --show-bin-path)

install -d -m 0755 /usr/local/sbin /usr/local/bin
install -m 0755 "$bin/sealmail" /usr/local/sbin/sealmail
install -m 0755 "$bin/sealctl" /usr/local/bin/sealctl
echo "install.sh: installed /usr/local/sbin/sealmail and /usr/local/bin/sealctl"
install -d -m 0755 /etc/sealmail
install -d -m 0770 /var/spool/sealmail
echo "install.sh: queue folder /var/spool/sealmail; config /etc/sealmail/sealmail.toml (optional: defaults apply without it)"
