#!/usr/bin/env bash
# install.sh: makes sealmail this Debian machine's /usr/sbin/sendmail.
#
#   sudo ./install.sh              install, or update what changed (a second run changes nothing)
#   sudo ./install.sh --uninstall  remove sealmail and give the previous mail system its files
#                                  back; keeps /etc/sealmail, the queue and the sealmail group
#   sudo ./install.sh --purge      as --uninstall, then remove /etc/sealmail, the queue (and any
#                                  mail still in it) and the sealmail group
#
# What it installs (DESIGN.md "Security model"):
#   /usr/sbin/sealmail        root:sealmail 2755 (setgid sealmail)
#   /usr/sbin/sealctl         root:root 0755
#   /usr/sbin/sendmail, /usr/lib/sendmail, /usr/bin/mailq, /usr/bin/newaliases
#                             symbolic links to /usr/sbin/sealmail; whatever was there (Postfix's
#                             files, say) is set aside with dpkg-divert as PATH.sealmail-orig, never
#                             overwritten, and comes back with --uninstall
#   /etc/sealmail/            root:sealmail 0750, with a commented sealmail.toml (0640) when none exists
#   /var/spool/sealmail/      the queue, root:sealmail 2770 (and its tmp, messages, state folders)
#   a queue run every 5 minutes (systemd timer sealmail-queue.timer), or every minute from
#   /etc/cron.d/sealmail where systemd is not running; the man pages sealmail(8), sealctl(8),
#   sealmail.toml(5)
#
# Environment: SWIFT_SCRATCH, the build folder (default .build, relative to the repository).
set -euo pipefail
umask 022
export LC_ALL=C

prog=install.sh
repo=$(cd "$(dirname "$0")" && pwd)

GROUP=sealmail
SEALMAIL=/usr/sbin/sealmail
SEALCTL=/usr/sbin/sealctl
LINKS=(/usr/sbin/sendmail /usr/lib/sendmail /usr/bin/mailq /usr/bin/newaliases)
DIVERT_SUFFIX=.sealmail-orig
CONF_DIR=/etc/sealmail
CONF=$CONF_DIR/sealmail.toml
QUEUE=/var/spool/sealmail
STATE_DIR=/var/lib/sealmail            # what install.sh must remember (alternatives it changed)
ALT_STATE=$STATE_DIR/alternatives
UNIT_DIR=/etc/systemd/system
SERVICE=sealmail-queue.service
TIMER=sealmail-queue.timer
CRON=/etc/cron.d/sealmail
MAN_PAGES=(sealmail.8 sealctl.8 sealmail.toml.5)
OLD_FILES=(/usr/local/sbin/sealmail /usr/local/bin/sealctl)   # the earlier install.sh's layout

changes=0
did()  { echo "$prog: $*"; changes=$((changes + 1)); }
same() { echo "$prog: unchanged: $*"; }
note() { echo "$prog: $*"; }
warn() { echo "$prog: warning: $*" >&2; }
die()  { echo "$prog: error: $*" >&2; exit 1; }

usage() {
    sed -n '2,8s/^# \{0,1\}//p' "$0"
}

# --- small helpers -------------------------------------------------------------------------

# The 5-digit octal form chmod needs to set or clear a folder's setgid bit explicitly.
octal5() { local m=0000$1; echo "${m: -5}"; }

# Makes PATH owned by OWNER:GROUP with MODE (as stat %a prints it: 755, 2755, 640).
# Prints nothing and returns 1 when it was already so.
fix_meta() {
    local path=$1 owner=$2 mode=$3
    local now; now=$(stat -c '%U:%G %a' "$path")
    [ "$now" = "$owner $mode" ] && return 1
    chown "$owner" "$path"          # first: chown clears a file's setgid bit
    chmod "$(octal5 "$mode")" "$path"
    echo "$now"
}

# Installs FILE as DEST (atomically: a new file renamed over the old one) with OWNER:GROUP MODE.
install_file() {
    local src=$1 dest=$2 owner=$3 mode=$4 what=$5
    if [ -f "$dest" ] && [ ! -L "$dest" ] && cmp -s "$src" "$dest"; then
        local was
        if was=$(fix_meta "$dest" "$owner" "$mode"); then
            did "$what: set $dest to $owner $mode (was $was)"
        else
            same "$what $dest ($owner $mode)"
        fi
        return
    fi
    local verb=installed
    [ -e "$dest" ] && verb=updated
    install -o "${owner%:*}" -g "${owner#*:}" -m "$(octal5 "$mode")" "$src" "$dest.sealmail-new"
    mv -f "$dest.sealmail-new" "$dest"
    [ "$(stat -c '%U:%G %a' "$dest")" = "$owner $mode" ] || die "$dest: could not set $owner $mode"
    did "$verb $what $dest ($owner $mode)"
}

# Creates folder DIR with OWNER:GROUP MODE, or fixes them.
ensure_dir() {
    local dir=$1 owner=$2 mode=$3 what=$4 was
    if [ ! -d "$dir" ]; then
        install -d -o "${owner%:*}" -g "${owner#*:}" -m "$(octal5 "$mode")" "$dir"
        did "created $what $dir ($owner $mode)"
    elif was=$(fix_meta "$dir" "$owner" "$mode"); then
        did "set $what $dir to $owner $mode (was $was)"
    else
        same "$what $dir ($owner $mode)"
    fi
}

# Writes TEXT (stdin; not from a pipe, which would run this in a subshell) to DEST with OWNER:GROUP MODE unless it already holds exactly that.
write_file() {
    local dest=$1 owner=$2 mode=$3 what=$4
    local tmp; tmp=$(mktemp)
    cat >"$tmp"
    install_file "$tmp" "$dest" "$owner" "$mode" "$what"
    rm -f "$tmp"
}

systemd_running() { [ -d /run/systemd/system ]; }

# --- diversions and alternatives -----------------------------------------------------------

# Who diverts PATH: "sealmail" (our local diversion to PATH.sealmail-orig), "" (nobody), or a
# description of someone else's diversion.
diversion_of() {
    local path=$1 by to
    by=$(dpkg-divert --listpackage "$path")
    [ -z "$by" ] && { echo ""; return; }
    to=$(dpkg-divert --truename "$path")
    if [ "$by" = LOCAL ] && [ "$to" = "$path$DIVERT_SUFFIX" ]; then echo sealmail; return; fi
    [ "$by" = LOCAL ] && by="a local diversion"
    echo "$by (to $to)"
}

is_our_link() { [ -L "$1" ] && [ "$(readlink "$1")" = "$SEALMAIL" ]; }

# The update-alternatives group whose master link is PATH, or nothing.
alternative_of() {
    local path=$1 target name
    [ -L "$path" ] || return 0
    target=$(readlink "$path")
    case $target in /etc/alternatives/*) ;; *) return 0 ;; esac
    name=${target#/etc/alternatives/}
    if update-alternatives --query "$name" 2>/dev/null | grep -qxF "Link: $path"; then
        echo "$name"
    else
        die "$path is a slave link of the alternatives group '$name'; sealmail can only take over a master link. Remove it from that group first."
    fi
}

# PATH is the master link of alternatives group NAME: add sealmail to the group and select
# it, remembering the previous selection (mode and value) for --uninstall.
take_alternative() {
    local path=$1 name=$2 status value
    status=$(update-alternatives --query "$name" | sed -n 's/^Status: //p')
    value=$(update-alternatives --query "$name" | sed -n 's/^Value: //p')
    if [ "$value" = "$SEALMAIL" ] && [ "$status" = manual ] && grep -q "^$name " "$ALT_STATE" 2>/dev/null; then
        same "$path (alternatives group $name selects $SEALMAIL)"
        return
    fi
    install -d -m 0755 "$STATE_DIR"
    if ! grep -q "^$name " "$ALT_STATE" 2>/dev/null; then
        echo "$name $path $status ${value:-none}" >>"$ALT_STATE"
    fi
    update-alternatives --quiet --install "$path" "$name" "$SEALMAIL" 1000
    update-alternatives --quiet --set "$name" "$SEALMAIL"
    did "$path: added $SEALMAIL to the alternatives group $name and selected it (was $status: ${value:-none})"
}

give_back_alternatives() {
    [ -f "$ALT_STATE" ] || return 0
    local name path status value
    while read -r name path status value; do
        update-alternatives --quiet --remove "$name" "$SEALMAIL" 2>/dev/null || true
        if [ "$status" = manual ] && [ "$value" != none ] && [ -e "$value" ]; then
            update-alternatives --quiet --set "$name" "$value"
        elif update-alternatives --query "$name" >/dev/null 2>&1; then
            update-alternatives --quiet --auto "$name"
        fi
        did "$path: removed $SEALMAIL from the alternatives group $name (back to $status${value:+: $value})"
    done <"$ALT_STATE"
    rm -f "$ALT_STATE"
}

# Makes PATH a link to sealmail, setting aside what was there with dpkg-divert.
take_over() {
    local path=$1 alt who
    alt=$(alternative_of "$path")
    if [ -n "$alt" ]; then take_alternative "$path" "$alt"; return; fi
    who=$(diversion_of "$path")
    case $who in
    sealmail)
        if is_our_link "$path"; then same "$path -> $SEALMAIL (previous file diverted to $path$DIVERT_SUFFIX)"; return; fi
        ;;
    "")
        if is_our_link "$path"; then rm -f "$path"; fi   # our link without its diversion: redo both
        if [ -e "$path$DIVERT_SUFFIX" ] || [ -L "$path$DIVERT_SUFFIX" ]; then
            die "$path$DIVERT_SUFFIX exists but is not a diversion; move it away and run again"
        fi
        local had=none
        if [ -L "$path" ]; then had="the link $path -> $(readlink "$path")"
        elif [ -e "$path" ]; then had="$path"; fi
        dpkg-divert --quiet --local --rename --divert "$path$DIVERT_SUFFIX" --add "$path"
        if [ "$had" = none ]; then
            did "diverted $path to $path$DIVERT_SUFFIX (nothing there now; a later package's file will go there)"
        else
            did "diverted $had to $path$DIVERT_SUFFIX"
        fi
        ;;
    *)
        die "$path is diverted by $who, not by sealmail: not touching it (is another install or test running?)"
        ;;
    esac
    if [ -e "$path" ] || [ -L "$path" ]; then
        die "$path still exists after diverting it; not overwriting it"
    fi
    ln -s "$SEALMAIL" "$path"
    did "linked $path -> $SEALMAIL"
}

give_back() {
    local path=$1 who
    who=$(diversion_of "$path")
    if is_our_link "$path"; then
        rm -f "$path"
        did "removed the link $path"
    elif [ "$who" = sealmail ] && { [ -e "$path" ] || [ -L "$path" ]; }; then
        warn "$path is no longer sealmail's link; leaving it and the diversion ($path$DIVERT_SUFFIX) alone"
        return
    fi
    if [ "$who" = sealmail ]; then
        dpkg-divert --quiet --local --rename --remove "$path"
        if [ -e "$path" ] || [ -L "$path" ]; then
            did "restored $path from $path$DIVERT_SUFFIX"
        else
            did "removed the diversion of $path (nothing had been there)"
        fi
    else
        same "$path (not sealmail's)"
    fi
}

# --- install ---------------------------------------------------------------------------------

install_packages() {
    local need=() pkg
    for pkg in libssl-dev libbsd-dev pkg-config; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
    done
    if [ ${#need[@]} -eq 0 ]; then
        same "Debian packages libssl-dev libbsd-dev pkg-config"
        return
    fi
    note "installing ${need[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
    did "installed Debian packages ${need[*]}"
}

build() {
    command -v swift >/dev/null || die "swift is not on PATH: install a Swift 6 toolchain (https://www.swift.org/install/linux/) and run again"
    local scratch=${SWIFT_SCRATCH:-.build}
    local flags=(-c release --static-swift-stdlib --scratch-path "$scratch")
    local log; log=$(mktemp /tmp/sealmail-build.XXXXXX)
    note "building sealmail and sealctl (swift build ${flags[*]}); log in $log"
    local start=$SECONDS product
    for product in sealmail sealctl; do
        if ! (cd "$repo" && swift build "${flags[@]}" --product "$product") >>"$log" 2>&1; then
            tail -n 40 "$log" >&2
            die "the build failed (whole log: $log)"
        fi
    done
    bin=$(cd "$repo" && swift build "${flags[@]}" --show-bin-path)
    if [ ! -x "$bin/sealmail" ] || [ ! -x "$bin/sealctl" ]; then die "no binaries in $bin"; fi
    rm -f "$log"
    note "built in $((SECONDS - start))s: $bin/sealmail, $bin/sealctl"
}

ensure_group() {
    if getent group "$GROUP" >/dev/null; then
        same "group $GROUP"
    elif command -v addgroup >/dev/null; then
        addgroup --system --quiet "$GROUP"
        did "created the system group $GROUP"
    else
        groupadd --system "$GROUP"
        did "created the system group $GROUP"
    fi
}

remove_old_layout() {
    local f
    for f in "${OLD_FILES[@]}"; do
        if [ -e "$f" ]; then
            rm -f "$f"
            did "removed $f (the earlier install.sh layout; it would shadow $SEALMAIL on PATH)"
        fi
    done
}

default_config() {
    cat <<'EOF'
# /etc/sealmail/sealmail.toml: sealmail's configuration. See sealmail.toml(5).
#
# Every key is shown commented out with its default. Uncomment what you change, then run
# `sealctl config check`: an unknown key or a wrong value is an error with its line number,
# and sealmail refuses mail (exit 78) until it is fixed.
#
# This file is root:sealmail 0640 and its folder root:sealmail 0750: the setgid sealmail
# program reads them, ordinary users cannot. Keep keys and secrets here with the same modes.
#
# As it is (no [[relay]]), mail for this machine's users goes to /var/mail/USER and mail for
# other addresses stays queued until a relay is configured.

# EHLO name, and the host in Message-Id and Received. Default: this machine's FQDN.
#hostname = "host.example.com"

# Appended to unqualified addresses (root becomes root@DOMAIN).
# Default: the first line of /etc/mailname, else hostname.
#domain = "example.com"

# The queue folder.
#queue_dir = "/var/spool/sealmail"

# background: queue, deliver in a detached process, return at once;
# interactive: queue, deliver and wait (permanent refusals become the exit status);
# queue: only queue (the next queue run delivers). -odb, -odi and -odq override it.
#delivery = "background"

# The aliases file (aliases(5), with :include: lists). `newaliases` checks it.
#aliases = "/etc/aliases"

# Local recipients (unqualified names, this host's names, localhost) after alias expansion:
# "mbox" appends to mail_spool/USER; "none" relays them as USER@domain.
# Default: "mbox" when no [[relay]] is configured, "none" otherwise.
#local_delivery = "mbox"

# The folder of the local mailboxes.
#mail_spool = "/var/mail"

# How long a message may stay queued after temporary failures before it is returned.
#max_queue_lifetime = "5d"

# SMTP sessions a queue run opens in parallel (1 to 64).
#max_connections = 4

# How long sendmail -odi waits for the delivery; then the message stays queued for the next
# queue run and sendmail exits 0 with a note.
#interactive_timeout = 60

# Users who may use any envelope sender and From address (root always may).
#trusted = []

# Users who may see the whole queue with mailq and run it with sendmail -q (root always
# may; "*" for everyone). Others see only their own messages.
#mailq_users = []

# The syslog identity (facility mail).
#syslog_ident = "sealmail"

# The senders each user (or @group) may use with -f and in From:. Without this table any
# sender is accepted, as with Postfix.
#[senders]
#www-data = ["noreply@example.com"]
#"@staff" = ["*@example.com"]

# Smarthosts, tried in order: the next one on a connection failure or a 4xx greeting.
#[[relay]]
#host = "smtp.example.com"                      # required
#tls = "starttls"                               # starttls (required, never falls back) | tls (implicit) | none
#port = 587                                     # default: 587 starttls, 465 tls, 25 none
#tls_verify = true                              # verify the chain and host name
#ca_file = "/etc/sealmail/relay-ca.pem"         # default: the system trust store
#tls_fingerprint = []                           # SHA-256 fingerprints of acceptable certificates
#client_certificate = "/etc/sealmail/client.crt"   # default: none (goes with client_key)
#client_key = "/etc/sealmail/client.key"
#auth = "auto"                                  # none | auto | plain | login | cram-md5 | scram-sha-256 | xoauth2
#                                               # default: auto with a user, none without
#user = "alerts@example.com"                    # default: none
#password_file = "/etc/sealmail/relay.secret"   # first line; root:sealmail 0640
#password_command = "..."                       # or a command that prints it (not both)
#allow_plaintext_auth = false                   # credentials over a connection without TLS
#connect_timeout = 30                           # seconds
#command_timeout = 300
#data_timeout = 600
#delivery_timeout = "30m"                       # one whole delivery attempt, whatever the waits above
#proxy = "socks5://proxy.example.com:1080"      # socks5 | socks5h (the proxy resolves) | socks4a | http (CONNECT)
#                                               # default: none (direct); port default 1080
#proxy_user = "mailer"                          # default: none; sent in clear to the proxy
#proxy_password_file = "/etc/sealmail/proxy.secret"   # first line; root:sealmail 0640

# S/MIME policy, applied when a message is submitted (a refusal reaches the sender at once).
#[smime]
#certificates = "/etc/sealmail/certs"           # recipients' certificates (PEM); default: none
#trust_anchors = "/etc/sealmail/ca.pem"         # CAs recipients' and signers' certificates chain to; default: the system store
#digest = "sha256"
#cipher = "aes-256-cbc"                         # aes-256-cbc | aes-128-cbc | aes-256-gcm | aes-128-gcm
#header_protection = false                      # RFC 9788: header fields inside; encrypted copies' Subject "[...]"
#legacy_display = true                          # with header_protection: the real Subject atop the text parts
#key_transport = "auto"                         # pkcs1 | oaep | auto (OAEP where the certificate asks for it)
#                                               # NSS (Thunderbird) and gpgsm open neither OAEP nor aes-*-gcm
#secure_tag = "[secure]"                        # a Subject with it: encrypted for all or refused, tag removed; default: none

# Who signs what: the first rule whose `from` matches the From address.
#[[smime.sign]]
#from = ["*@example.com"]                       # required
#certificate = "/etc/sealmail/keys/example.crt" # required
#key = "/etc/sealmail/keys/example.key"         # required; root:sealmail 0640
#key_passphrase_file = "/etc/sealmail/keys/example.pass"   # default: none
#chain = "/etc/sealmail/keys/chain.pem"         # intermediates to include; default: none
#users = ["*"]                                  # users or @groups whose mail it signs; default: nobody
#unauthorised = "refuse"                        # refuse | unsigned
#digest = "sha256"                              # default: smime.digest
#form = "detached"                              # detached (multipart/signed) | opaque (signed-data)
#rsa_scheme = "pkcs1"                           # pkcs1 | pss; an EC key signs with ECDSA

# Which recipients get encrypted mail.
#[[smime.encrypt]]
#to = ["*@partner.example"]                     # required
#mode = "required"                              # required | opportunistic | never; this key is required
#cipher = "aes-256-cbc"                         # default: smime.cipher
#header_protection = false                      # default: smime.header_protection
#legacy_display = true                          # default: smime.legacy_display
#key_transport = "auto"                         # default: smime.key_transport
EOF
}

install_config() {
    ensure_dir "$CONF_DIR" root:$GROUP 750 "config folder"
    if [ -e "$CONF" ]; then
        local was
        if was=$(fix_meta "$CONF" root:$GROUP 640); then
            did "kept the existing $CONF; set it to root:$GROUP 640 (was $was)"
        else
            same "$CONF (existing file kept, root:$GROUP 640)"
        fi
    else
        local tmp; tmp=$(mktemp)
        default_config >"$tmp"
        install -o root -g "$GROUP" -m 0640 "$tmp" "$CONF"
        rm -f "$tmp"
        did "wrote the default $CONF (root:$GROUP 640; every key commented, with its default)"
    fi
    local out
    if out=$("$SEALCTL" config check -C "$CONF" 2>&1); then
        note "config check: $out"
    else
        warn "sealctl config check found problems in $CONF:"
        echo "$out" >&2
    fi
}

install_queue() {
    ensure_dir "$QUEUE" root:$GROUP 2770 "queue folder"
    local sub
    # Made here, by root, so that the first user to submit mail does not own them.
    for sub in tmp messages state; do ensure_dir "$QUEUE/$sub" root:$GROUP 2770 "queue folder"; done
}

service_unit() {
    cat <<EOF
# Installed by sealmail's install.sh: one queue run (see sealctl(8)).
[Unit]
Description=sealmail queue run
Documentation=man:sealctl(8)
After=network-online.target

[Service]
Type=oneshot
ExecStart=$SEALCTL queue run
EOF
}

timer_unit() {
    cat <<'EOF'
# Installed by sealmail's install.sh: runs sealmail-queue.service every 5 minutes.
[Unit]
Description=sealmail queue run every 5 minutes
Documentation=man:sealctl(8)

[Timer]
OnCalendar=*:0/5
AccuracySec=30s

[Install]
WantedBy=timers.target
EOF
}

cron_entry() {
    cat <<EOF
# Installed by sealmail's install.sh: a queue run every minute (no systemd here).
# The summary line goes to /dev/null; problems are logged to syslog (facility mail).
SHELL=/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin
* * * * * root [ -x $SEALCTL ] && $SEALCTL queue run >/dev/null
EOF
}

install_timer() {
    if systemd_running; then
        local before=$changes
        write_file "$UNIT_DIR/$SERVICE" root:root 644 "systemd unit" < <(service_unit)
        write_file "$UNIT_DIR/$TIMER" root:root 644 "systemd unit" < <(timer_unit)
        [ "$changes" -ne "$before" ] && systemctl daemon-reload
        if systemctl is-enabled --quiet "$TIMER" && systemctl is-active --quiet "$TIMER"; then
            same "$TIMER enabled and active"
        else
            systemctl enable --now --quiet "$TIMER"
            did "enabled and started $TIMER (sealctl queue run every 5 minutes)"
        fi
        if [ -e "$CRON" ]; then rm -f "$CRON"; did "removed $CRON (systemd runs the queue)"; fi
    else
        write_file "$CRON" root:root 644 "cron entry (queue run every minute; systemd is not running)" < <(cron_entry)
        if ! command -v cron >/dev/null && ! command -v crond >/dev/null; then
            warn "no cron daemon is installed: nothing runs the queue until one is (apt-get install cron)"
        fi
    fi
}

install_man() {
    local page sec dest tmp before=$changes
    for page in "${MAN_PAGES[@]}"; do
        sec=${page##*.}
        dest=/usr/share/man/man$sec/$page.gz
        [ -d "/usr/share/man/man$sec" ] || install -d -m 0755 "/usr/share/man/man$sec"
        tmp=$(mktemp)
        gzip -9n -c "$repo/Sources/sealmail/man/$page" >"$tmp"
        install_file "$tmp" "$dest" root:root 644 "man page"
        rm -f "$tmp"
    done
    if [ "$changes" -ne "$before" ] && command -v mandb >/dev/null; then
        mandb -q 2>/dev/null || true
        note "updated the man database (mandb -q)"
    fi
}

do_install() {
    install_packages
    build
    ensure_group
    install_file "$bin/sealmail" "$SEALMAIL" root:$GROUP 2755 "program"
    install_file "$bin/sealctl" "$SEALCTL" root:root 755 "program"
    remove_old_layout
    install_queue
    install_config
    local path
    for path in "${LINKS[@]}"; do take_over "$path"; done
    install_timer
    install_man
    if [ "$changes" -eq 0 ]; then
        note "nothing changed: sealmail is installed and up to date"
    else
        note "done: $changes change(s). Try: echo test | mail -s hi root; then mail -f /var/mail/root"
    fi
}

# --- uninstall -------------------------------------------------------------------------------

remove_file() {
    if [ -e "$1" ] || [ -L "$1" ]; then rm -f "$1"; did "removed $1"; fi
}

do_uninstall() {
    local path page
    if [ -e "$UNIT_DIR/$TIMER" ] || [ -e "$UNIT_DIR/$SERVICE" ]; then
        if systemd_running; then systemctl disable --now --quiet "$TIMER" 2>/dev/null || true; fi
        remove_file "$UNIT_DIR/$TIMER"
        remove_file "$UNIT_DIR/$SERVICE"
        if systemd_running; then systemctl daemon-reload; fi
    fi
    remove_file "$CRON"
    for path in "${LINKS[@]}"; do give_back "$path"; done
    give_back_alternatives
    remove_file "$SEALMAIL"
    remove_file "$SEALCTL"
    local before=$changes
    for page in "${MAN_PAGES[@]}"; do remove_file "/usr/share/man/man${page##*.}/$page.gz"; done
    if [ "$changes" -ne "$before" ] && command -v mandb >/dev/null; then mandb -q 2>/dev/null || true; fi
    [ -d "$STATE_DIR" ] && rmdir "$STATE_DIR" 2>/dev/null && did "removed $STATE_DIR"
    if [ "$action" = purge ]; then
        if [ -d "$QUEUE" ]; then
            local n; n=$(find "$QUEUE/messages" -maxdepth 1 -type f 2>/dev/null | wc -l)
            rm -rf "$QUEUE"
            did "removed the queue $QUEUE ($n message(s) deleted)"
        fi
        if [ -d "$CONF_DIR" ]; then rm -rf "$CONF_DIR"; did "removed $CONF_DIR"; fi
        if getent group "$GROUP" >/dev/null; then
            if command -v delgroup >/dev/null; then delgroup --system --quiet "$GROUP"; else groupdel "$GROUP"; fi
            did "removed the group $GROUP"
        fi
    else
        local kept=()
        [ -d "$CONF_DIR" ] && kept+=("$CONF_DIR")
        [ -d "$QUEUE" ] && kept+=("$QUEUE")
        getent group "$GROUP" >/dev/null && kept+=("the group $GROUP")
        if [ ${#kept[@]} -gt 0 ]; then
            local IFS=,
            note "kept ${kept[*]} (--purge removes them)" | sed 's/,/, /g'
        fi
    fi
    if [ "$changes" -eq 0 ]; then
        note "nothing changed: sealmail is not installed"
    else
        note "done: $changes change(s)"
    fi
}

# --- main ------------------------------------------------------------------------------------

action=install
for arg in "$@"; do
    case $arg in
    --uninstall) [ "$action" = purge ] || action=uninstall ;;
    --purge) action=purge ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; echo "$prog: unknown argument $arg" >&2; exit 64 ;;
    esac
done
[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0 $*)"
command -v dpkg-divert >/dev/null || die "dpkg-divert not found: this script is for Debian and its derivatives"

case $action in
install) do_install ;;
uninstall | purge) do_uninstall ;;
esac
