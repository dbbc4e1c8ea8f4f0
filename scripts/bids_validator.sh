#!/usr/bin/env bash
# Install the official BIDS validator (npm `bids-validator`) into build/bids-validator/ and print
# the path of its command. Safe to rerun: an installed validator is kept.
#
# npm serves the validator's 1.x line (1.15.0 needs Node >= 18: Debian's `nodejs` is installed
# where the machine has no node); it runs offline once installed. Its 2.x successor, which also
# knows the BIDS-Derivatives file rules, is distributed for Deno only.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${BIDS_VALIDATOR_VERSION:-1.15.0}
prefix=build/bids-validator
bin="$prefix/node_modules/.bin/bids-validator"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "bids-validator: installing Debian's nodejs and npm" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -x "$bin" ] || [ "$("$bin" --version 2>/dev/null)" != "$version" ]; then
    echo "bids-validator: installing bids-validator@$version (node $(node --version))" >&2
    npm install --silent --no-audit --no-fund --prefix "$prefix" "bids-validator@$version" >&2
fi
realpath "$bin"
