# Shared helpers for the scripts in this folder (sourced, not run).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="/opt/swift/usr/bin:$PATH"
VENV="$ROOT/.venv"
SERVICES=(session-buddy mahavishnu akosha crackerjack)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Installs Debian packages that are missing (needs root, as on the project machines).
need_apt() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The project's Python venv with the packages the scripts use (pinned in scripts/requirements.txt).
ensure_venv() {
  if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating $VENV"
    python3 -m venv "$VENV"
  fi
  if ! cmp -s "$ROOT/scripts/requirements.txt" "$VENV/.requirements.txt" 2>/dev/null; then
    log "installing Python packages"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/scripts/requirements.txt"
    cp "$ROOT/scripts/requirements.txt" "$VENV/.requirements.txt"
  fi
}

# A TCP port nobody listens on right now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits until http://127.0.0.1:$1/health answers (bounded).
wait_healthy() {
  for _ in $(seq 1 200); do
    curl -fs "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "service on port $1 did not become healthy" >&2
  return 1
}

# supervisord for the four services (deploy/supervisord.conf), with its socket, pid and logs in $BACKBONE_RUN_DIR.
export BACKBONE_RUN_DIR="${BACKBONE_RUN_DIR:-$ROOT/.run}"
SUPERVISOR_CONF="$ROOT/deploy/supervisord.conf"
sv() { "$VENV/bin/supervisorctl" -c "$SUPERVISOR_CONF" "$@"; }

# Port of a service: its <PREFIX>_WS_PORT if set, else the default of settings/<service>.yaml.
service_port() {
  local var; var="$(echo "$1" | tr 'a-z-' 'A-Z_')_WS_PORT"
  if [[ -n "${!var:-}" ]]; then echo "${!var}"; else awk '/^port:/ {print $2}' "$ROOT/settings/$1.yaml"; fi
}
