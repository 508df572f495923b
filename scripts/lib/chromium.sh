# shellcheck shell=bash
# Makes Debian's Chromium available for the Zendesk app's browser tests and exports CHROMIUM_PATH.
# Installs the `chromium` package when it is missing and we are root (CI, fresh machines), as postgres.sh does for
# PostgreSQL. The tests drive it with playwright-core (npm); Playwright's own browser download is never used.

ensure_chromium() {
  if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then
    return 0
  fi
  local bin
  bin=$(command -v chromium || true)
  if [ -z "$bin" ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "chromium: not installed and not root; install Debian's 'chromium' package or set CHROMIUM_PATH" >&2
      return 1
    fi
    echo "chromium: installing Debian's chromium package"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    bin=$(command -v chromium)
  fi
  export CHROMIUM_PATH="$bin"
  echo "chromium: $("$CHROMIUM_PATH" --version 2>/dev/null | head -n 1) at $CHROMIUM_PATH"
}
