# Sourced (not run) by scripts that install a Debian package the first time
# they need it: scripts/dockerd, scripts/docker-images, scripts/docker-stack.
#
#   apt_install TAG PACKAGE...
#
# As root: apt-get install the packages (no recommends), quietly. Otherwise
# says which command to run as root and exits 1. TAG prefixes the log lines.
apt_install() {
    local tag=$1
    shift
    if [[ $(id -u) -ne 0 ]]; then
        printf '[%s] error: %s missing; as root: apt-get install %s\n' "$tag" "$*" "$*" >&2
        exit 1
    fi
    printf '[%s] apt-get install %s\n' "$tag" "$*" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
