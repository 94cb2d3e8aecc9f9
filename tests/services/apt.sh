# Sourced by the service scripts: install Debian packages the tests need.
#
#   apt_install NAME package...   (NAME prefixes the messages, e.g. "redis.sh")
#
# Needs root. Refreshes the package lists only when they do not know a package (a fresh
# machine) or when installing from the lists at hand fails (stale lists). Progress and
# apt's output go to stderr: a service script's stdout carries its answer alone.

apt_install() {
    local name=$1
    shift
    if [ "$(id -u)" != 0 ]; then
        echo "$name: missing $*: install them as root (apt-get install $*)" >&2
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    local apt=(apt-get install -y -q --no-install-recommends
               -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
    echo "$name: installing $* with apt-get" >&2
    local package
    for package in "$@"; do
        if ! apt-cache show "$package" >/dev/null 2>&1; then
            apt-get update -q >&2 </dev/null
            break
        fi
    done
    if ! "${apt[@]}" "$@" >&2 </dev/null; then
        apt-get update -q >&2 </dev/null
        "${apt[@]}" "$@" >&2 </dev/null
    fi
}
