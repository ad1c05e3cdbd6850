#!/usr/bin/env bash
# Tests/install/run.sh: the test of install.sh on a real machine (CI runs it as root).
#
# Installs sealmail for real with ./install.sh, then checks the installed system as root and as
# a throwaway unprivileged user: files, modes and diversions; local mail to /var/mail; mail
# through an SMTP relay (aiosmtpd) on 127.0.0.1; the privilege model; a hostile environment;
# bad input (aliases, loops, a locked mailbox, a full disk); --uninstall and --purge. It prints
# one line per check ("ok - ..." / "not ok - ..."), then "N passed, M failed", and exits 1 when
# a check failed.
#
# It starts from a machine without sealmail whatever it finds: when sealmail is installed (by
# install.sh, as the README's first command does) or left over in part, it is backed up and
# purged first. It leaves the machine as it found it: an EXIT trap purges sealmail, removes the
# user, restores /etc/aliases, /etc/mailname, /etc/sealmail, the queue, the group and
# /var/mail/root, and installs sealmail again when it was installed. It holds
# /tmp/sealmail-system.lock for the whole run, since other scripts divert /usr/sbin/sendmail
# on this machine too.
#
# Environment: SWIFT_SCRATCH (passed to install.sh), KEEP_WORK=1 (keep the work folder).
set -uo pipefail
export LC_ALL=C
umask 022

repo=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
    echo "Tests/install/run.sh: run as root (it installs sealmail on this machine)" >&2
    exit 1
fi

PY=/usr/bin/python3        # Debian's python (python3 on PATH may be a build without aiosmtpd)
LINKS=(/usr/sbin/sendmail /usr/lib/sendmail /usr/bin/mailq /usr/bin/newaliases)
QUEUE=/var/spool/sealmail
CONF=/etc/sealmail/sealmail.toml
SENDMAIL=/usr/sbin/sendmail
U=sealtest$$
UHOME=/home/$U

# --- reporting -------------------------------------------------------------------------------

passed=0 failed=0 skipped=0
ok()    { passed=$((passed + 1)); echo "ok - $*"; }
notok() { failed=$((failed + 1)); echo "not ok - $*"; }
skip()  { skipped=$((skipped + 1)); echo "ok - $1 # SKIP $2"; }
diag()  { sed -e 's/^/#   /' | head -n "${1:-25}"; }
# check DESCRIPTION COMMAND...: ok when COMMAND succeeds; its output is shown when it fails.
check() {
    local d=$1 out
    shift
    if out=$("$@" 2>&1); then ok "$d"; else notok "$d"; [ -n "$out" ] && printf '%s\n' "$out" | diag; fi
}
# expect DESCRIPTION CONDITION-RESULT DIAGNOSTIC: ok when the result is 0.
verdict() {
    local d=$1 result=$2 why=${3:-}
    if [ "$result" -eq 0 ]; then ok "$d"; else notok "$d"; [ -n "$why" ] && printf '%s\n' "$why" | diag; fi
}
log() { echo "# $*"; }

# --- helpers -----------------------------------------------------------------------------------

token() { echo "tok$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"; }

# Runs a command as the test user, with a small clean environment (add variables with env).
as_user() {
    (cd / && runuser -u "$U" -- env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin HOME="$UHOME" USER="$U" LOGNAME="$U" "$@")
}

# wait_until SECONDS COMMAND...: polls every 0.2 s.
wait_until() {
    local end=$((SECONDS + $1))
    shift
    while [ $SECONDS -lt "$end" ]; do
        "$@" && return 0
        sleep 0.2
    done
    "$@"
}

meta() { stat -c '%U:%G %a' "$1" 2>/dev/null || echo missing; }
fingerprint() {
    if [ -L "$1" ]; then echo "link:$(readlink "$1")"
    elif [ -e "$1" ]; then sha256sum <"$1" | cut -d' ' -f1
    else echo absent; fi
}
in_mbox() { [ -f "$2" ] && grep -qF "$1" "$2"; }
# The queue file of the message holding TOKEN (as root), or nothing.
queued_file() { grep -lF "$1" "$QUEUE"/messages/* 2>/dev/null | head -n 1; }
queued() { [ -n "$(queued_file "$1")" ]; }
queue_files() { find "$QUEUE" -type f 2>/dev/null | wc -l; }
sink_has() { grep -lF "$1" "$2"/*.eml >/dev/null 2>&1; }

# A message with a token in its subject and body.
message() { printf 'Subject: %s %s\n\nbody of %s\nFrom the start of a line\n' "$2" "$1" "$1"; }

set_config() {
    cat >"$CONF.new"
    chown root:sealmail "$CONF.new" && chmod 0640 "$CONF.new" && mv -f "$CONF.new" "$CONF"
}

# A sendmail diversion that install.sh did not make (another script is using the machine).
foreign_diversions() {
    local p by to
    for p in "${LINKS[@]}"; do
        by=$(dpkg-divert --listpackage "$p")
        [ -z "$by" ] && continue
        to=$(dpkg-divert --truename "$p")
        [ "$by" = LOCAL ] && [ "$to" = "$p.sealmail-orig" ] && continue
        echo "$p diverted by $by to $to"
    done
    dpkg-divert --list '*sendmail*' | grep -vE '^local diversion of .* to .*\.sealmail-orig$' || true
}

# --- preconditions -------------------------------------------------------------------------------

need=()
for pkg in postfix bsd-mailx python3-aiosmtpd openssl adduser util-linux man-db; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "# installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null ||
        { echo "Tests/install/run.sh: cannot install ${need[*]}" >&2; exit 1; }
fi

# The machine-wide lock, and no one else's diversion of sendmail (wait up to 10 minutes).
exec 9>>/tmp/sealmail-system.lock
deadline=$((SECONDS + 600))
while :; do
    if [ -z "$(foreign_diversions)" ] && flock -w 5 9; then
        [ -z "$(foreign_diversions)" ] && break
        flock -u 9
    fi
    if [ $SECONDS -ge "$deadline" ]; then
        echo "Tests/install/run.sh: after 10 minutes, sendmail is still diverted by someone else or the lock is held:" >&2
        foreign_diversions >&2
        exit 1
    fi
    sleep 5
done

WORK=$(mktemp -d /tmp/sealmail-install-test.XXXXXX)
chmod 0755 "$WORK"
BACKUP=$WORK/backup
mkdir -p "$BACKUP"
SINK_PIDS=()
MOUNTED=""
LOCKFILE_MADE=""
USER_MADE=""

# What the machine looks like before: restored by the EXIT trap.
was_installed=""
[ -x /usr/sbin/sealmail ] && [ "$(dpkg-divert --listpackage /usr/sbin/sendmail)" = LOCAL ] && was_installed=1
divert_original=$(dpkg-divert --list | sort)
for f in /etc/aliases /etc/mailname /var/mail/root; do
    if [ -e "$f" ]; then cp -a "$f" "$BACKUP/$(basename "$f")"; fi
done
[ -d /etc/sealmail ] && tar -C / -cpf "$BACKUP/etc-sealmail.tar" etc/sealmail
[ -d "$QUEUE" ] && tar -C / -cpf "$BACKUP/queue.tar" "${QUEUE#/}"
group_before=$(getent group sealmail || true)

cleanup() {
    local status=$?
    set +e
    echo "# cleaning up"
    for pid in "${SINK_PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    if [ -n "$MOUNTED" ]; then umount /var/mail; fi
    if [ -n "$LOCKFILE_MADE" ]; then rm -f /var/mail/root.lock; fi
    (cd "$repo" && ./install.sh --purge) >"$WORK/cleanup-purge.log" 2>&1 || {
        echo "# install.sh --purge failed in cleanup:"; diag 40 <"$WORK/cleanup-purge.log"; }
    if [ -e "$BACKUP/aliases" ]; then cp -a "$BACKUP/aliases" /etc/aliases; else rm -f /etc/aliases; fi
    if [ -e "$BACKUP/root" ]; then cp -a "$BACKUP/root" /var/mail/root; else rm -f /var/mail/root; fi
    restore_mailname
    if [ -n "$USER_MADE" ]; then
        # Background deliveries of the throwaway user end by themselves; give them 10 s.
        for _ in $(seq 50); do pgrep -u "$U" >/dev/null || break; sleep 0.2; done
        pkill -u "$U" 2>/dev/null
        deluser --quiet --remove-home "$U" >/dev/null 2>&1 || userdel -r "$U" 2>/dev/null
        rm -f "/var/mail/$U" "/var/mail/$U.lock"
    fi
    if [ -n "$group_before" ] && ! getent group sealmail >/dev/null; then
        addgroup --system --quiet --gid "$(echo "$group_before" | cut -d: -f3)" sealmail
    fi
    [ -e "$BACKUP/etc-sealmail.tar" ] && tar -C / -xpf "$BACKUP/etc-sealmail.tar"
    [ -e "$BACKUP/queue.tar" ] && tar -C / -xpf "$BACKUP/queue.tar"
    if [ -n "$was_installed" ]; then
        echo "# sealmail was installed before the test: installing it again"
        (cd "$repo" && ./install.sh) >"$WORK/cleanup-install.log" 2>&1 || diag 40 <"$WORK/cleanup-install.log"
    fi
    if [ "$(dpkg-divert --list | sort)" != "$divert_original" ]; then
        echo "# warning: the diversions differ from before the test:"
        diff <(echo "$divert_original") <(dpkg-divert --list | sort) | diag
    fi
    if [ -z "${KEEP_WORK:-}" ]; then rm -rf "$WORK"; else echo "# work folder kept: $WORK"; fi
    flock -u 9
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# /etc/mailname back as it was (or absent again).
restore_mailname() {
    if [ -e "$BACKUP/mailname" ]; then cp -a "$BACKUP/mailname" /etc/mailname; else rm -f /etc/mailname; fi
}

# A fresh start: sealmail installed before (backed up above, put back by the EXIT trap) would
# make every "as before" check below compare with sealmail itself.
if [ -n "$was_installed" ] || [ -e /usr/sbin/sealmail ] || [ -d /etc/sealmail ] || [ -d "$QUEUE" ] ||
    [ -n "$group_before" ] || [ -n "$(dpkg-divert --list | grep '\.sealmail-orig$')" ]; then
    log "sealmail is installed (or left over in part): purging it first (it comes back afterwards)"
    if ! (cd "$repo" && ./install.sh --purge) >"$WORK/purge0.log" 2>&1; then
        echo "Tests/install/run.sh: cannot purge the sealmail found here:" >&2
        cat "$WORK/purge0.log" >&2
        exit 1
    fi
fi
# The machine without sealmail: what install.sh must set aside and --uninstall give back.
declare -A before
for p in "${LINKS[@]}" "${LINKS[@]/%/.sealmail-orig}"; do before[$p]=$(fingerprint "$p"); done
divert_before=$(dpkg-divert --list | sort)

# The test user and their folder.
adduser --disabled-password --gecos "Seal Test" --quiet "$U" >/dev/null 2>&1 || useradd -m -c "Seal Test" "$U"
USER_MADE=1
UD=$WORK/user
install -d -o "$U" -g "$U" -m 0755 "$UD"

# --- 1. install -----------------------------------------------------------------------------------

log "running install.sh (builds a release; this takes a while)"
(cd "$repo" && ./install.sh) >"$WORK/install1.log" 2>&1
rc=$?
if [ $rc -eq 0 ]; then ok "install.sh installs sealmail (exit 0)"; else
    notok "install.sh installs sealmail (exit $rc)"; diag 60 <"$WORK/install1.log"
    echo "0 passed, 1 failed (install.sh failed: nothing else can be checked)"
    exit 1
fi
grep -E '^install.sh: ' "$WORK/install1.log" | grep -v 'unchanged' | diag 60

verdict "/usr/sbin/sealmail is root:sealmail 2755 (setgid)" "$([ "$(meta /usr/sbin/sealmail)" = "root:sealmail 2755" ]; echo $?)" "$(meta /usr/sbin/sealmail)"
verdict "/usr/sbin/sealctl is root:root 755" "$([ "$(meta /usr/sbin/sealctl)" = "root:root 755" ]; echo $?)" "$(meta /usr/sbin/sealctl)"
for p in "${LINKS[@]}"; do
    verdict "$p is a link to /usr/sbin/sealmail" "$([ "$(readlink "$p")" = /usr/sbin/sealmail ]; echo $?)" "$(ls -l "$p" 2>&1)"
done
bad=""
for p in "${LINKS[@]}"; do
    [ "$(dpkg-divert --listpackage "$p")" = LOCAL ] && [ "$(dpkg-divert --truename "$p")" = "$p.sealmail-orig" ] ||
        bad+="$p: not diverted to $p.sealmail-orig ($(dpkg-divert --list "$p"))"$'\n'
    [ "$(fingerprint "$p.sealmail-orig")" = "${before[$p]}" ] ||
        bad+="$p.sealmail-orig: $(fingerprint "$p.sealmail-orig"), was ${before[$p]} at $p"$'\n'
done
verdict "Postfix's sendmail, mailq, newaliases are set aside intact with dpkg-divert (PATH.sealmail-orig)" "$([ -z "$bad" ]; echo $?)" "$bad"
gid=$(getent group sealmail | cut -d: -f3)
verdict "sealmail is a system group (gid $gid)" "$([ -n "$gid" ] && [ "$gid" -lt 1000 ]; echo $?)"
bad=""
for d in "$QUEUE" "$QUEUE/tmp" "$QUEUE/messages" "$QUEUE/state"; do
    [ "$(meta "$d")" = "root:sealmail 2770" ] || bad+="$d: $(meta "$d")"$'\n'
done
verdict "the queue $QUEUE (and tmp, messages, state) is root:sealmail 2770" "$([ -z "$bad" ]; echo $?)" "$bad"
verdict "/etc/sealmail is root:sealmail 750" "$([ "$(meta /etc/sealmail)" = "root:sealmail 750" ]; echo $?)" "$(meta /etc/sealmail)"
verdict "/etc/sealmail/sealmail.toml is root:sealmail 640" "$([ "$(meta $CONF)" = "root:sealmail 640" ]; echo $?)" "$(meta $CONF)"
check "the default config passes sealctl config check" /usr/sbin/sealctl config check
cp -a "$CONF" "$WORK/default.toml"

# Every key the config reader knows is documented in the default config and in sealmail.toml(5).
keys=$(awk '/static let [a-zA-Z]*Keys: Set<String> = \[/ { on = 1 } on { print } on && /\]$/ { on = 0 }' \
    "$repo/Sources/MailPolicy/ConfigReader+Tables.swift" | grep -o '"[a-z_0-9]*"' | tr -d '"' | sort -u |
    grep -vxE 'relay|smime|sign|encrypt|')
missing_conf="" missing_man=""
for k in $keys; do
    grep -qE "^#\s*($k\s*=|\[$k\])" "$CONF" || missing_conf+="$k "
    # One grep, no pipe: with pipefail, `grep | grep -q` fails when -q stops reading early.
    grep -qE "^\.B[RI]? \"?$k = |^\.B.*\"$k = " "$repo/Sources/sealmail/man/sealmail.toml.5" || missing_man+="$k "
done
verdict "the default config documents every key of the config reader ($(echo "$keys" | wc -l) keys)" "$([ -z "$missing_conf" ]; echo $?)" "missing: $missing_conf"
verdict "sealmail.toml(5) documents every key of the config reader" "$([ -z "$missing_man" ]; echo $?)" "missing: $missing_man"

bad=""
for page in sealmail.8 sealctl.8 sealmail.toml.5; do
    src=$repo/Sources/sealmail/man/$page
    w=$(man --warnings -E UTF-8 -l "$src" 2>&1 >/dev/null)
    [ -z "$w" ] || bad+="$page: $w"$'\n'
    gz=/usr/share/man/man${page##*.}/$page.gz
    zcat "$gz" 2>/dev/null | cmp -s - "$src" || bad+="$gz is not $src"$'\n'
done
verdict "the man pages are installed (gzip) and render without warnings" "$([ -z "$bad" ]; echo $?)" "$bad"
check "man finds sealmail(8), sealctl(8) and sealmail.toml(5)" sh -c 'man -w 8 sealmail && man -w 8 sealctl && man -w 5 sealmail.toml'

if [ -d /run/systemd/system ]; then
    check "the queue timer sealmail-queue.timer is enabled and active" sh -c \
        'systemctl is-enabled sealmail-queue.timer && systemctl is-active sealmail-queue.timer && grep -q "ExecStart=/usr/sbin/sealctl queue run" /etc/systemd/system/sealmail-queue.service'
else
    check "/etc/cron.d/sealmail runs sealctl queue run every minute (no systemd here)" \
        grep -qE '^\* \* \* \* \* root .*/usr/sbin/sealctl queue run' /etc/cron.d/sealmail
fi

# Running install.sh a second time changes nothing.
ino_before=$(stat -c '%i %Y' /usr/sbin/sealmail /usr/sbin/sealctl "$CONF")
(cd "$repo" && ./install.sh) >"$WORK/install2.log" 2>&1
rc=$?
# Warnings (no cron daemon in a container, say) are not changes.
changed=$(grep -E '^install.sh: ' "$WORK/install2.log" | grep -vE 'unchanged:|nothing changed|^install.sh: (building|built|config check|warning:)')
verdict "a second install.sh run exits 0 and prints that nothing changed" \
    "$([ $rc -eq 0 ] && grep -q 'nothing changed' "$WORK/install2.log" && [ -z "$changed" ] &&
        [ "$(stat -c '%i %Y' /usr/sbin/sealmail /usr/sbin/sealctl "$CONF")" = "$ino_before" ]; echo $?)" \
    "exit $rc; $(tail -n 30 "$WORK/install2.log")"

# A root check of the installed commands by their names.
check "mailq (root) exits 0" mailq
printf '# sealmail install test\npostmaster: root\n' >/etc/aliases
check "newaliases exits 0 with a sound /etc/aliases" newaliases

# --- 2. local mail ------------------------------------------------------------------------------

# /etc/mailname as every Debian MTA writes it ("name" and a newline), the default config (no
# domain, no relay): the domain is the name without the newline, in the mbox, the queue and
# config check. (It used to keep the newline: "From root@vm" / " Fri Dec ..." in the mbox,
# which mail(1) read as 0 messages.)
short=$(hostname -s)
printf '%s\n' "$short" >/etc/mailname
set_config <"$WORK/default.toml"
rm -f /var/mail/root
t=$(token)
echo "hi $t" | mail -s "mailname $t" root >"$WORK/out" 2>&1
rc=$?
wait_until 15 in_mbox "$t" /var/mail/root || /usr/sbin/sealctl queue run >/dev/null 2>&1
listing=$(printf 'x\n' | mail -f /var/mail/root 2>&1)
verdict "with /etc/mailname = \"$short\\n\": mail -f /var/mail/root reads 1 message (bsd-mailx)" \
    "$([ $rc -eq 0 ] && grep -qF '"/var/mail/root": 1 message' <<<"$listing"; echo $?)" \
    "mail exit $rc: $(cat "$WORK/out"); mail -f: $listing; $(head -n 12 /var/mail/root 2>&1)"
parsed=$($PY - /var/mail/root "root@$short" <<'EOF'
import mailbox, sys
path, address = sys.argv[1], sys.argv[2]
messages = list(mailbox.mbox(path))
problems = []
if len(messages) != 1:
    problems.append("%d messages" % len(messages))
for m in messages:
    if m.get_from().split(" ")[0] != address:
        problems.append("From_ line %r" % m.get_from())
    for name in ("From", "To"):
        value = m[name] or ""
        if address not in value or "\n" in value or "\r" in value:
            problems.append("%s: %r" % (name, value))
print("; ".join(problems) or "ok")
EOF
)
verdict "Python's mailbox reads 1 message from root@$short to root@$short (no newline in the addresses)" \
    "$([ "$parsed" = ok ]; echo $?)" "$parsed"
t=$(token)
message "$t" "queued with mailname" | $SENDMAIL -odq root >"$WORK/out" 2>&1
id=$(basename "$(queued_file "$t")" 2>/dev/null)
json=$(/usr/sbin/sealctl queue list --json 2>&1)
verdict "sealctl queue list --json shows the sender root@$short, and no \"\\n\" anywhere" \
    "$([ -n "$id" ] && grep -F "$id" <<<"$json" | grep -F "\"sender\": \"root@$short\"" >/dev/null && ! grep -qF '\n' <<<"$json"; echo $?)" \
    "$(cat "$WORK/out") $json"
/usr/sbin/sealctl queue flush >/dev/null 2>&1
out=$(/usr/sbin/sealctl config check 2>&1)
verdict "sealctl config check prints the domain $short on its one line" \
    "$([ "$(wc -l <<<"$out")" -eq 1 ] && grep -qE "domain $short\)$" <<<"$out"; echo $?)" "$out"
restore_mailname

rm -f /var/mail/root
t=$(token)
echo "test $t" | mail -s "hi root $t" root >"$WORK/out" 2>&1
rc=$?
how="by the submission itself"
if ! wait_until 15 in_mbox "$t" /var/mail/root; then
    how="after root's queue run"
    /usr/sbin/sealctl queue run >"$WORK/qrun.log" 2>&1
fi
verdict "mail(1) as root to root ends in /var/mail/root ($how)" "$([ $rc -eq 0 ] && in_mbox "$t" /var/mail/root; echo $?)" \
    "mail exit $rc: $(cat "$WORK/out"); queue: $(mailq 2>&1 | head -n 8)"
if in_mbox "$t" /var/mail/root; then
    list=$(printf 'h\nx\n' | mail -f /var/mail/root 2>&1)
    verdict "/var/mail/root is readable by mail(1) (bsd-mailx lists the message)" "$(echo "$list" | grep -qF "hi root $t"; echo $?)" "$list"
    parsed=$($PY - /var/mail/root <<'EOF'
import mailbox, sys
for m in mailbox.mbox(sys.argv[1]):
    print(m.get_from(), "|", m["Subject"])
EOF
)
    verdict "/var/mail/root is an mbox (From_ line, headers) as Python's mailbox reads it" \
        "$(head -n 1 /var/mail/root | grep -q '^From ' && echo "$parsed" | grep -qF "hi root $t"; echo $?)" "$parsed"
    verdict "/var/mail/root belongs to root (group mail)" "$(stat -c '%U:%G' /var/mail/root | grep -qx 'root:mail'; echo $?)" "$(meta /var/mail/root)"
else
    skip "/var/mail/root is readable by mail(1)" "no local delivery"
fi
t=$(token)
message "$t" "from root with a From line" | $SENDMAIL -odi root >/dev/null 2>&1
wait_until 10 in_mbox "$t" /var/mail/root || /usr/sbin/sealctl queue run >/dev/null 2>&1
verdict "a body line starting with \"From \" is quoted as \">From \" in the mbox" \
    "$(grep -qx '>From the start of a line' /var/mail/root 2>/dev/null; echo $?)" "$(grep -n 'start of a line' /var/mail/root 2>&1 | head -n 3)"

t=$(token)
echo "test $t" | as_user mail -s "hi from the user $t" root >"$WORK/out" 2>&1
rc=$?
how="by the submission itself"
if ! wait_until 10 in_mbox "$t" /var/mail/root; then
    how="after root's queue run"
    /usr/sbin/sealctl queue run >/dev/null 2>&1
fi
verdict "mail(1) as an unprivileged user to root ends in /var/mail/root ($how)" "$([ $rc -eq 0 ] && in_mbox "$t" /var/mail/root; echo $?)" \
    "mail exit $rc: $(cat "$WORK/out"); queue: $(mailq 2>&1 | head -n 8)"

t=$(token)
echo "note $t" | as_user mail -s "note to self $t" "$U" >"$WORK/out" 2>&1
wait_until 10 in_mbox "$t" "/var/mail/$U" || /usr/sbin/sealctl queue run >/dev/null 2>&1
verdict "mail to the user themself creates /var/mail/$U owned by $U, group mail, 0600 or 0660" \
    "$(in_mbox "$t" "/var/mail/$U" && [[ "$(meta "/var/mail/$U")" =~ ^$U:mail\ 6[06]0$ ]]; echo $?)" "$(meta "/var/mail/$U"); $(cat "$WORK/out")"

# -bv and -bs, as mail clients use them.
out=$($SENDMAIL -bv root 2>&1)
rc=$?
verdict "sendmail -bv root verifies without sending (exit 0, names root)" "$([ $rc -eq 0 ] && echo "$out" | grep -qi root; echo $?)" "exit $rc: $out"
t=$(token)
out=$(printf 'EHLO client.example\r\nMAIL FROM:<%s>\r\nRCPT TO:<root>\r\nDATA\r\nSubject: bs %s\r\n\r\nhello %s\r\n.\r\nQUIT\r\n' "$U" "$t" "$t" |
    as_user /usr/sbin/sendmail -bs 2>&1)
wait_until 10 in_mbox "$t" /var/mail/root || /usr/sbin/sealctl queue run >/dev/null 2>&1
verdict "sendmail -bs as the user: an SMTP session on stdin delivers to root" \
    "$(echo "$out" | grep -q '^221' && in_mbox "$t" /var/mail/root; echo $?)" "$out"

# --- 3. a relay ---------------------------------------------------------------------------------

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cat >"$WORK/rawsink.py" <<'EOF'
"""aiosmtpd handler: each message's DATA bytes, exactly as received, in DIR/N.eml."""
import os

class RawSink:
    def __init__(self, directory):
        self.directory = directory
        self.n = 0

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("RawSink needs one argument: the folder for the messages")
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        path = os.path.join(self.directory, "%d-%d" % (os.getpid(), self.n))
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(path + ".env", "w") as f:
            f.write("from %s\nto %s\n" % (envelope.mail_from, " ".join(envelope.rcpt_tos)))
        os.rename(path + ".tmp", path + ".eml")
        return "250 2.0.0 OK stored"
EOF
start_sink() { # PORT DIR [aiosmtpd options]
    local port=$1 dir=$2
    shift 2
    mkdir -p "$dir"
    PYTHONPATH=$WORK $PY -m aiosmtpd -n -l "127.0.0.1:$port" "$@" -c rawsink.RawSink "$dir" >"$dir.log" 2>&1 &
    SINK_PIDS+=($!)
    wait_until 15 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null
}

# Test certificates: the relay's (for 127.0.0.1) and a signing key for *@example.com.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$WORK/relay.key" -out "$WORK/relay.crt" >/dev/null 2>&1
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=sealmail install test/emailAddress=root@example.com" \
    -addext "subjectAltName=email:root@example.com,email:$U@example.com" \
    -addext "keyUsage=critical,digitalSignature,keyEncipherment" -addext "extendedKeyUsage=emailProtection" \
    -keyout "$WORK/sign.key" -out "$WORK/sign.crt" >/dev/null 2>&1
install -d -o root -g sealmail -m 0750 /etc/sealmail/keys
install -o root -g sealmail -m 0640 "$WORK/sign.key" /etc/sealmail/keys/test.key
install -o root -g sealmail -m 0640 "$WORK/sign.crt" /etc/sealmail/keys/test.crt
install -o root -g sealmail -m 0640 "$WORK/relay.crt" /etc/sealmail/relay-ca.pem

PLAIN_PORT=$(free_port)
start_sink "$PLAIN_PORT" "$WORK/sink-plain" || log "the plain relay did not start: $(cat "$WORK/sink-plain.log")"
TLS_PORT=$(free_port)
start_sink "$TLS_PORT" "$WORK/sink-tls" --tlscert "$WORK/relay.crt" --tlskey "$WORK/relay.key" ||
    log "the STARTTLS relay did not start: $(cat "$WORK/sink-tls.log")"

plain_config() {
    cat <<EOF
hostname = "sealtest.example.com"
domain = "example.com"

[[relay]]
host = "127.0.0.1"
port = $PLAIN_PORT
tls = "none"
EOF
}
plain_config | set_config
t=$(token)
message "$t" "relayed by root" | $SENDMAIL -odi "far@remote.example" >"$WORK/out" 2>&1
rc=$?
verdict "root: sendmail -odi to a remote address reaches the relay (aiosmtpd on 127.0.0.1)" \
    "$([ $rc -eq 0 ] && sink_has "$t" "$WORK/sink-plain"; echo $?)" "exit $rc: $(cat "$WORK/out") $(mailq 2>&1 | head -n 6)"

{ plain_config; cat <<EOF

[smime]
digest = "sha256"
trust_anchors = "/etc/sealmail/keys/test.crt"   # self-signed: its own anchor (untrusted signers are refused)

[[smime.sign]]
from = ["*@example.com"]
certificate = "/etc/sealmail/keys/test.crt"
key = "/etc/sealmail/keys/test.key"
users = ["*"]
EOF
} | set_config
t=$(token)
echo "signed $t" | as_user mail -s "relayed for the user $t" "far@remote.example" >"$WORK/out" 2>&1
rc=$?
wait_until 20 sink_has "$t" "$WORK/sink-plain"
verdict "the user: mail(1) to a remote address reaches the relay (background delivery)" \
    "$([ $rc -eq 0 ] && sink_has "$t" "$WORK/sink-plain"; echo $?)" "mail exit $rc: $(cat "$WORK/out"); $(mailq 2>&1 | head -n 6)"
f=$(grep -lF "$t" "$WORK"/sink-plain/*.eml 2>/dev/null | head -n 1)
if [ -n "$f" ]; then
    out=$(openssl smime -verify -in "$f" -CAfile "$WORK/sign.crt" -out /dev/null 2>&1)
    verdict "the user's relayed mail is S/MIME signed per policy and verifies with openssl" \
        "$(grep -qi 'multipart/signed' "$f" && echo "$out" | grep -q 'Verification successful'; echo $?)" \
        "$(grep -i '^content-type' "$f" | head -n 2) $out"
else
    notok "the user's relayed mail is S/MIME signed per policy (nothing reached the relay)"
fi

tls_config() { # [extra relay lines]
    cat <<EOF
hostname = "sealtest.example.com"
domain = "example.com"

[[relay]]
host = "127.0.0.1"
port = $TLS_PORT
tls = "starttls"
connect_timeout = 10
command_timeout = 20
$*
EOF
}
tls_config 'ca_file = "/etc/sealmail/relay-ca.pem"' | set_config
t=$(token)
message "$t" "over STARTTLS" | as_user $SENDMAIL -odi "far@remote.example" >"$WORK/out" 2>&1
rc=$?
tls_works=$([ $rc -eq 0 ] && sink_has "$t" "$WORK/sink-tls"; echo $?)
verdict "the user: -odi over STARTTLS to the relay, verified with ca_file" "$tls_works" "exit $rc: $(cat "$WORK/out")"

# --- 4. the privilege model ------------------------------------------------------------------------

echo "DUMMY-SECRET-KEY-$(token)" >/etc/sealmail/test-dummy.key
chown root:sealmail /etc/sealmail/test-dummy.key && chmod 0640 /etc/sealmail/test-dummy.key
out=$(as_user cat /etc/sealmail/test-dummy.key 2>&1); rc=$?
verdict "the user cannot read a key in /etc/sealmail (0640 root:sealmail)" "$([ $rc -ne 0 ] && ! echo "$out" | grep -q DUMMY; echo $?)" "$out"
out=$(as_user cat "$CONF" 2>&1); rc=$?
verdict "the user cannot read /etc/sealmail/sealmail.toml" "$([ $rc -ne 0 ]; echo $?)" "$out"
out=$(as_user ls "$QUEUE" 2>&1); rc=$?
verdict "the user cannot list the queue folder" "$([ $rc -ne 0 ]; echo $?)" "$out"

# Mail queued by root and by the user, kept in the queue (-odq).
printf 'hostname = "sealtest.example.com"\ndomain = "example.com"\ndelivery = "queue"\n' | set_config
troot=$(token)
message "$troot" "root's queued mail" | $SENDMAIL -odq "far@remote.example" >"$WORK/out.root" 2>&1
tuser=$(token)
message "$tuser" "the user's queued mail" | as_user $SENDMAIL -odq "far@remote.example" >"$WORK/out.user" 2>&1
rootfile=$(queued_file "$troot")
rootid=$(basename "$rootfile" 2>/dev/null)
userid=$(basename "$(queued_file "$tuser")" 2>/dev/null)
log "queued: root's $rootid, the user's $userid"
verdict "root and the user can both queue mail (-odq)" "$([ -n "$rootid" ] && [ -n "$userid" ]; echo $?)" \
    "root's: ${rootid:-not queued: $(cat "$WORK/out.root")}; the user's: ${userid:-not queued: $(cat "$WORK/out.user")}"
out=$(as_user cat "$rootfile" 2>&1); rc=$?
verdict "the user cannot read root's queued message file" "$([ -n "$rootfile" ] && [ $rc -ne 0 ] && ! echo "$out" | grep -q "$troot"; echo $?)" "$out"
out=$(as_user /usr/sbin/sealctl queue show "$rootid" 2>&1); rc=$?
verdict "the user cannot show root's message with sealctl queue show" "$([ $rc -ne 0 ] && ! echo "$out" | grep -q "$troot"; echo $?)" "exit $rc: $out"
out=$(as_user mailq 2>&1); rc=$?
verdict "mailq as the user lists their own message and not root's" \
    "$([ $rc -eq 0 ] && [ -n "$userid" ] && [ -n "$rootid" ] && echo "$out" | grep -q "$userid" && ! echo "$out" | grep -q "$rootid"; echo $?)" "exit $rc: $out"
out=$(mailq 2>&1)
verdict "mailq as root lists both" "$([ -n "$userid" ] && [ -n "$rootid" ] && echo "$out" | grep -q "$userid" && echo "$out" | grep -q "$rootid"; echo $?)" "$out"

# A config chosen by the user (-C, SEALMAIL_CONFIG) drops the group before anything else.
as_user sh -c "printf 'queue_dir = \"$QUEUE\"\n' >$UD/user.toml; printf 'queue_dir = \"$UD/queue\"\n' >$UD/own.toml"
n_before=$(queue_files)
t=$(token)
message "$t" "via -C" | as_user $SENDMAIL -C "$UD/user.toml" -odq "far@remote.example" >"$WORK/out" 2>&1
rc=$?
verdict "sealmail -C user.toml (queue_dir = the group's queue) fails with 73 or 77 and queues nothing" \
    "$({ [ $rc -eq 73 ] || [ $rc -eq 77 ]; } && [ "$(queue_files)" -eq "$n_before" ] && ! queued "$t"; echo $?)" \
    "exit $rc: $(cat "$WORK/out"); queue files $n_before -> $(queue_files)"
t=$(token)
message "$t" "via SEALMAIL_CONFIG" | as_user env SEALMAIL_CONFIG="$UD/user.toml" $SENDMAIL -odq "far@remote.example" >"$WORK/out" 2>&1
rc=$?
verdict "SEALMAIL_CONFIG=user.toml (queue_dir = the group's queue) fails with 73 or 77 and queues nothing" \
    "$({ [ $rc -eq 73 ] || [ $rc -eq 77 ]; } && [ "$(queue_files)" -eq "$n_before" ] && ! queued "$t"; echo $?)" \
    "exit $rc: $(cat "$WORK/out")"
out=$(as_user $SENDMAIL -C /etc/sealmail/test-dummy.key -bp 2>&1); rc=$?
verdict "sealmail -C /etc/sealmail/test-dummy.key as the user cannot read it (exit 77: the group is dropped first)" \
    "$([ $rc -eq 77 ] && ! echo "$out" | grep -q DUMMY-SECRET; echo $?)" "exit $rc: $out"
t=$(token)
message "$t" "own queue" | as_user $SENDMAIL -C "$UD/own.toml" -odq "far@remote.example" >"$WORK/out" 2>&1
rc=$?
verdict "sealmail -C with the user's own queue_dir works (exit 0, queued there)" \
    "$([ $rc -eq 0 ] && grep -rqF "$t" "$UD/queue/messages" 2>/dev/null; echo $?)" "exit $rc: $(cat "$WORK/out")"

# Who may own a config (issue 11): root trusts only root's files; the set-group-ID binary only
# root's default config; a user the config they chose (-C) when it is theirs (the group is
# dropped first). A config the user wrote, with a password_command leaving a marker file:
cat >"$UD/pwcmd.toml" <<EOF
queue_dir = "$UD/queue"

[[relay]]
host = "127.0.0.1"
port = $PLAIN_PORT
tls = "none"
auth = "plain"
allow_plaintext_auth = true
user = "u"
password_command = "sh -c 'id > $UD/pwned; echo pw'"
EOF
chown "$U:$U" "$UD/pwcmd.toml"
rm -f "$UD/pwned"
t=$(token)
message "$t" "a config the user wrote" | $SENDMAIL -C "$UD/pwcmd.toml" -odi "far@remote.example" >"$WORK/out" 2>&1
rc=$?
verdict "root: sealmail -C with a config owned by the user is refused (exit 78, names it) and its password_command does not run" \
    "$([ $rc -eq 78 ] && grep -qF "$UD/pwcmd.toml" "$WORK/out" && [ ! -e "$UD/pwned" ]; echo $?)" \
    "exit $rc: $(cat "$WORK/out"); marker: $(cat "$UD/pwned" 2>&1)"
message "$t" "the user's own config" | as_user $SENDMAIL -C "$UD/pwcmd.toml" -odi "far@remote.example" >"$WORK/out" 2>&1
rc=$?
verdict "the user: the same config, theirs, is trusted (its password_command runs as the user)" \
    "$([ "$(stat -c %U "$UD/pwned" 2>/dev/null)" = "$U" ]; echo $?)" "exit $rc: $(cat "$WORK/out"); marker: $(ls -l "$UD/pwned" 2>&1)"
chown "$U" "$CONF"
out=$(as_user $SENDMAIL -bp 2>&1); rc=$?
chown root "$CONF"
verdict "the set-group-ID binary refuses a default config owned by the user (exit 78)" \
    "$([ $rc -eq 78 ] && echo "$out" | grep -qF "$CONF"; echo $?)" "exit $rc: $out"

out=$(as_user $SENDMAIL -q 2>&1); rc=$?
verdict "sendmail -q as the user is refused (exit 77)" "$([ $rc -eq 77 ]; echo $?)" "exit $rc: $out"
out=$($SENDMAIL -q 2>&1); rc=$?
verdict "sendmail -q as root runs the queue (exit 0)" "$([ $rc -eq 0 ]; echo $?)" "exit $rc: $out"

# --- 5. a hostile environment ---------------------------------------------------------------------

# LD_PRELOAD: a library that leaves a marker file when it is loaded.
CC=$(command -v cc || command -v gcc || command -v clang || true)
if [ -n "$CC" ]; then
    cat >"$WORK/preload.c" <<EOF
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void mark(void) {
    int fd = open("$UD/marker", O_WRONLY | O_CREAT | O_APPEND, 0666);
    if (fd >= 0) { (void)write(fd, "loaded\n", 7); close(fd); }
}
EOF
    "$CC" -shared -fPIC -o "$WORK/preload.so" "$WORK/preload.c" && chmod 0755 "$WORK/preload.so"
    as_user env LD_PRELOAD="$WORK/preload.so" /bin/true
    if [ -e "$UD/marker" ]; then
        rm -f "$UD/marker"
        t=$(token)
        message "$t" "LD_PRELOAD" | as_user env LD_PRELOAD="$WORK/preload.so" $SENDMAIL -odb "far@remote.example" >"$WORK/out" 2>&1
        rc=$?
        sleep 2
        verdict "LD_PRELOAD in the user's environment is not loaded into sealmail (no marker file; the mail is queued)" \
            "$([ ! -e "$UD/marker" ] && [ $rc -eq 0 ] && queued "$t"; echo $?)" "exit $rc: $(cat "$WORK/out"); marker: $(cat "$UD/marker" 2>&1)"
    else
        skip "LD_PRELOAD is not loaded into sealmail" "the preload library does not work even for /bin/true"
    fi
else
    skip "LD_PRELOAD is not loaded into sealmail" "no C compiler"
fi

# OPENSSL_CONF: a config that makes every TLS handshake fail for a program that reads it.
cat >"$WORK/evil-openssl.cnf" <<'EOF'
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
MinProtocol = TLSv1.3
MaxProtocol = TLSv1.2
EOF
chmod 0644 "$WORK/evil-openssl.cnf"
if [ "$tls_works" -eq 0 ]; then
    tls_config 'ca_file = "/etc/sealmail/relay-ca.pem"' | set_config
    sanity=$(echo QUIT | as_user env OPENSSL_CONF="$WORK/evil-openssl.cnf" timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" -starttls smtp 2>&1)
    if echo "$sanity" | grep -q 'BEGIN CERTIFICATE'; then
        skip "OPENSSL_CONF changes nothing" "the broken OpenSSL config does not break openssl s_client either"
    else
        t=$(token)
        message "$t" "OPENSSL_CONF" | as_user env OPENSSL_CONF="$WORK/evil-openssl.cnf" $SENDMAIL -odi "far@remote.example" >"$WORK/out" 2>&1
        rc=$?
        verdict "OPENSSL_CONF (a config that breaks TLS) in the user's environment changes nothing: STARTTLS delivery works" \
            "$([ $rc -eq 0 ] && sink_has "$t" "$WORK/sink-tls"; echo $?)" "exit $rc: $(cat "$WORK/out")"
    fi
    # SSL_CERT_FILE: the user points it at the relay's CA. sealmail verifies against the system
    # store here (no ca_file), which does not hold it: the relay must not be trusted.
    tls_config | set_config
    t=$(token)
    message "$t" "SSL_CERT_FILE" | as_user env SSL_CERT_FILE="$WORK/relay.crt" SSL_CERT_DIR="$WORK" $SENDMAIL -odi "far@remote.example" >"$WORK/out" 2>&1
    rc=$?
    verdict "SSL_CERT_FILE in the user's environment is not trusted (the relay's certificate stays unverified)" \
        "$(! sink_has "$t" "$WORK/sink-tls" && queued "$t"; echo $?)" "exit $rc: $(cat "$WORK/out")"
else
    skip "OPENSSL_CONF changes nothing" "STARTTLS delivery does not work even without it"
    skip "SSL_CERT_FILE is not trusted" "STARTTLS delivery does not work"
fi

# TZ: the Date field sealmail adds uses the system's zone, not the caller's.
printf 'hostname = "sealtest.example.com"\ndomain = "example.com"\n' | set_config
t=$(token)
message "$t" "TZ" | as_user env TZ=SEAL-14 $SENDMAIL -odq "far@remote.example" >"$WORK/out" 2>&1
f=$(queued_file "$t")
date_line=$(sed -n '/^message$/,$p' "$f" 2>/dev/null | grep -m1 -i '^Date:' | tr -d '\r')
zone=$(env -u TZ date +%z)
verdict "TZ in the user's environment changes nothing (Date: ends in the system's $zone)" \
    "$([ -n "$date_line" ] && [ "${date_line##* }" = "$zone" ]; echo $?)" "${date_line:-no Date: field found (not queued? $(cat "$WORK/out"))}"

# --- 6. bad input --------------------------------------------------------------------------------

printf 'hostname = "sealtest.example.com"\ndomain = "example.com"\n' | set_config
printf '# broken on purpose\npostmaster: root\nthis line has no colon\n' >/etc/aliases
out=$(newaliases 2>&1); rc=$?
verdict "newaliases reports a broken /etc/aliases line with its line number and exits non-zero" \
    "$([ $rc -ne 0 ] && echo "$out" | grep -qE '(line 3|:3)\b'; echo $?)" "exit $rc: $out"

printf 'some text %s\n' "$(token)" >"$WORK/list.txt"
cat >/etc/aliases <<EOF
# sealmail install test
postmaster: root
sealalias: root
seallist: :include:$WORK/list.txt
loopa: loopb
loopb: loopa
EOF
echo root >"$WORK/list.txt"
chmod 0644 "$WORK/list.txt"
out=$(newaliases 2>&1); rc=$?
verdict "newaliases reports the alias loop loopa -> loopb -> loopa" "$([ $rc -ne 0 ] && echo "$out" | grep -qi loop; echo $?)" "exit $rc: $out"

t=$(token)
message "$t" "alias" | $SENDMAIL -odi sealalias >/dev/null 2>&1
wait_until 10 in_mbox "$t" /var/mail/root || /usr/sbin/sealctl queue run >/dev/null 2>&1
verdict "mail to an alias (sealalias: root) reaches /var/mail/root" "$(in_mbox "$t" /var/mail/root; echo $?)" "$(mailq 2>&1 | head)"
t=$(token)
message "$t" "include" | $SENDMAIL -odi seallist >/dev/null 2>&1
wait_until 10 in_mbox "$t" /var/mail/root || /usr/sbin/sealctl queue run >/dev/null 2>&1
verdict "mail to an :include: alias reaches /var/mail/root" "$(in_mbox "$t" /var/mail/root; echo $?)" "$(mailq 2>&1 | head)"

t=$(token)
message "$t" "loop" | $SENDMAIL -odi loopa >"$WORK/out" 2>&1
rc=$?
/usr/sbin/sealctl queue run >/dev/null 2>&1
sleep 1
outcome=""
if [ $rc -ne 0 ] && grep -qi loop "$WORK/out"; then outcome="refused at submission (exit $rc): $(head -n 1 "$WORK/out")"
elif grep -qi loop /var/mail/root 2>/dev/null && in_mbox "$t" /var/mail/root; then outcome="bounced to root with the reason"
elif queued "$t" && /usr/sbin/sealctl queue show "$(basename "$(queued_file "$t")")" 2>/dev/null | grep -qi loop; then
    outcome="kept in the queue with the reason"
fi
verdict "an alias loop (loopa: loopb, loopb: loopa) is detected and the mail is not lost${outcome:+: $outcome}" \
    "$([ -n "$outcome" ]; echo $?)" "exit $rc: $(cat "$WORK/out"); queue: $(mailq 2>&1 | head -n 6)"

# A locked mailbox: delivery defers and the message waits in the queue.
printf '# sealmail install test\npostmaster: root\n' >/etc/aliases
touch /var/mail/root.lock
LOCKFILE_MADE=1
t=$(token)
message "$t" "locked" | timeout 300 $SENDMAIL -odi root >"$WORK/out" 2>&1
rc=$?
sleep 1
verdict "with /var/mail/root.lock held, delivery defers and the message stays queued" \
    "$(queued "$t" && ! in_mbox "$t" /var/mail/root; echo $?)" "exit $rc: $(cat "$WORK/out"); $(mailq 2>&1 | head -n 6)"
log "its reason: $(mailq 2>&1 | grep -A2 "$(basename "$(queued_file "$t")")" | tail -n +2 | tr -s ' ' | head -n 2 | tr '\n' ' ')"
rm -f /var/mail/root.lock
LOCKFILE_MADE=""
/usr/sbin/sealctl queue flush >/dev/null 2>&1
verdict "once the lock is gone, a queue flush delivers it" "$(in_mbox "$t" /var/mail/root && ! queued "$t"; echo $?)" "$(mailq 2>&1 | head -n 6)"

# A full disk for /var/mail.
if mount -t tmpfs -o size=1m,mode=2775,gid="$(getent group mail | cut -d: -f3)" sealmail-test-tmpfs /var/mail 2>"$WORK/out"; then
    MOUNTED=1
    dd if=/dev/zero of=/var/mail/.filler bs=4k >/dev/null 2>&1
    t=$(token)
    { message "$t" "disk full"; head -c 200000 /dev/zero | tr '\0' 'x' | fold -w 76; } | timeout 300 $SENDMAIL -odi root >"$WORK/out" 2>&1
    rc=$?
    size=$(stat -c %s /var/mail/root 2>/dev/null || echo 0)
    verdict "with /var/mail full, delivery defers, the message stays queued and no partial message is left" \
        "$(queued "$t" && [ "$size" -eq 0 ]; echo $?)" "exit $rc: $(cat "$WORK/out"); /var/mail/root: $size bytes; $(df -h /var/mail | tail -n 1)"
    rm -f /var/mail/.filler
    /usr/sbin/sealctl queue flush >/dev/null 2>&1
    verdict "once there is space again, a queue flush delivers it" "$(in_mbox "$t" /var/mail/root && ! queued "$t"; echo $?)" "$(mailq 2>&1 | head -n 6)"
    umount /var/mail && MOUNTED=""
else
    skip "a full /var/mail defers delivery" "cannot mount a tmpfs here: $(cat "$WORK/out")"
fi

# --- 7. uninstall and purge ------------------------------------------------------------------------

for pid in "${SINK_PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
SINK_PIDS=()
(cd "$repo" && ./install.sh --uninstall) >"$WORK/uninstall1.log" 2>&1
rc=$?
verdict "install.sh --uninstall exits 0" "$rc" "$(tail -n 30 "$WORK/uninstall1.log")"
bad=""
for p in "${LINKS[@]}" "${LINKS[@]/%/.sealmail-orig}"; do
    [ "$(fingerprint "$p")" = "${before[$p]}" ] || bad+="$p: $(fingerprint "$p"), was ${before[$p]}"$'\n'
done
[ "$(dpkg-divert --list | sort)" = "$divert_before" ] || bad+="diversions differ: $(diff <(echo "$divert_before") <(dpkg-divert --list | sort))"
verdict "--uninstall restores Postfix's sendmail, mailq, newaliases byte for byte, and the diversions" "$([ -z "$bad" ]; echo $?)" "$bad"
bad=""
for f in /usr/sbin/sealmail /usr/sbin/sealctl /etc/cron.d/sealmail /etc/systemd/system/sealmail-queue.timer \
    /etc/systemd/system/sealmail-queue.service /usr/share/man/man8/sealmail.8.gz /usr/share/man/man8/sealctl.8.gz \
    /usr/share/man/man5/sealmail.toml.5.gz; do
    [ -e "$f" ] && bad+="$f is still there"$'\n'
done
[ -f "$CONF" ] || bad+="$CONF is gone"$'\n'
[ -d "$QUEUE" ] || bad+="$QUEUE is gone"$'\n'
getent group sealmail >/dev/null || bad+="the group is gone"$'\n'
verdict "--uninstall removes the programs, timer and man pages, keeps /etc/sealmail, the queue and the group" "$([ -z "$bad" ]; echo $?)" "$bad"
(cd "$repo" && ./install.sh --uninstall) >"$WORK/uninstall2.log" 2>&1
rc=$?
verdict "a second --uninstall exits 0 and changes nothing" \
    "$([ $rc -eq 0 ] && grep -q 'nothing changed' "$WORK/uninstall2.log"; echo $?)" "$(cat "$WORK/uninstall2.log")"
(cd "$repo" && ./install.sh --purge) >"$WORK/purge1.log" 2>&1
rc=$?
verdict "install.sh --purge removes /etc/sealmail, the queue and the group" \
    "$([ $rc -eq 0 ] && [ ! -e /etc/sealmail ] && [ ! -e "$QUEUE" ] && ! getent group sealmail >/dev/null; echo $?)" "$(cat "$WORK/purge1.log")"
(cd "$repo" && ./install.sh --purge) >"$WORK/purge2.log" 2>&1
rc=$?
verdict "a second --purge exits 0 and changes nothing" \
    "$([ $rc -eq 0 ] && grep -q 'nothing changed' "$WORK/purge2.log"; echo $?)" "$(cat "$WORK/purge2.log")"

echo "$passed passed, $failed failed${skipped:+ ($skipped skipped)}"
[ "$failed" -eq 0 ]
