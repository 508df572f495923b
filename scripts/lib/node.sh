# shellcheck shell=bash
# Node.js and a project's npm dependencies, for the Zendesk app's build and tests.
# Installs Debian's nodejs and npm when node is missing and we are root; `npm ci` from the lockfile (npm registry
# only) when node_modules is missing or older than package-lock.json.

ensure_node() {
  if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "node: installing nodejs and npm (Debian packages)"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    else
      echo "error: Node.js >= 20 and npm are required (apt-get install -y nodejs npm)" >&2
      return 1
    fi
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -lt 20 ]; then
    echo "error: Node.js $(node --version) found; the Zendesk app's tooling needs Node.js >= 20" >&2
    return 1
  fi
}

# ensure_npm_deps DIR: npm ci in DIR when needed.
ensure_npm_deps() {
  local dir=$1
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
