# Shared by the scripts of compat/bench (sourced): loopback ports and servers.

# A free TCP port on 127.0.0.1.
free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (up to 5 s) until something accepts connections on 127.0.0.1:$1.
wait_port() {
    local _
    for _ in $(seq 100); do
        /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2).close()" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "nothing listens on 127.0.0.1:$1" >&2
    return 1
}

# Starts Postfix's smtp-sink on 127.0.0.1:$1 (backlog $2) in the background: SINK_PID is its
# pid (the caller's cleanup kills it).
start_sink() {
    /usr/sbin/smtp-sink -u nobody "127.0.0.1:$1" "$2" &
    SINK_PID=$!
    wait_port "$1"
}
