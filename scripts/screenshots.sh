#!/usr/bin/env bash
# Regenerates the README's screenshots of the web console (docs/screenshots/*.png):
# a database filled by the sandbox syncs, `serve` on it, each page in headless
# Chromium (the browser tests' harness, tests/it/browser.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/screenshots}"
mkdir -p "$out"
SAGASYNC_SCREENSHOTS="$(cd "$out" && pwd)" \
  cargo test --test it console::browser_pages::screenshots -- --ignored --exact
ls -l "$out"
