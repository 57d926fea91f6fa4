#!/usr/bin/env bash
# Refresh the vendored front-end files from the npm registry (run by `make vendor`).
# Versions are pinned here; VERSIONS.txt records what is vendored and under which licence.
set -euo pipefail
BOOTSTRAP_VERSION=5.3.9
ALPINE_CSP_VERSION=3.17.4
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "bootstrap@${BOOTSTRAP_VERSION}" "@alpinejs/csp@${ALPINE_CSP_VERSION}" >/dev/null
mkdir b a
tar -xzf bootstrap-*.tgz -C b
tar -xzf alpinejs-csp-*.tgz -C a
mkdir -p "$here/bootstrap" "$here/alpinejs-csp"
cp b/package/dist/css/bootstrap.min.css b/package/dist/css/bootstrap.min.css.map "$here/bootstrap/"
cp b/package/dist/js/bootstrap.bundle.min.js b/package/dist/js/bootstrap.bundle.min.js.map "$here/bootstrap/"
cp b/package/LICENSE "$here/bootstrap/LICENSE"
cp a/package/dist/cdn.min.js "$here/alpinejs-csp/alpine-csp.min.js"
if [ -f a/package/LICENSE.md ]; then cp a/package/LICENSE.md "$here/alpinejs-csp/LICENSE"
else printf 'MIT License\n\nCopyright (c) 2019-2025 Caleb Porzio and contributors\n(package.json "license": "%s"; full text: https://opensource.org/license/mit)\n' \
  "$(node -p "require('./a/package/package.json').license")" > "$here/alpinejs-csp/LICENSE"; fi
cat > "$here/VERSIONS.txt" <<TXT
bootstrap ${BOOTSTRAP_VERSION} (MIT) - bootstrap/bootstrap.min.css, bootstrap/bootstrap.bundle.min.js
@alpinejs/csp ${ALPINE_CSP_VERSION} (MIT) - alpinejs-csp/alpine-csp.min.js
TXT
echo "vendored: bootstrap ${BOOTSTRAP_VERSION}, @alpinejs/csp ${ALPINE_CSP_VERSION}"
