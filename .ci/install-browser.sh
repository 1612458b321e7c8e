#!/usr/bin/env bash
# The headless browser the report tests (tests/test_report_html.py) open report.html in: Debian's
# chromium + chromium-driver, installed from the distribution when missing (never a browser download at
# test time). Idempotent: does nothing when both are on PATH. Shared by `make test` and .ci/run.
# Uses sudo when not root; when apt cannot be used, says so and exits 0 -- the browser tests then fail
# under CI=true and skip with that reason otherwise.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "install-browser: chromium/chromedriver missing and not root (no passwordless sudo): browser tests" \
         "will skip (fail under CI=true)" >&2
    exit 0
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: chromium/chromedriver missing and no apt-get here: browser tests will skip" \
       "(fail under CI=true)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
echo "install-browser: installing chromium and chromium-driver from apt" >&2
if ! { $SUDO apt-get update -qq && \
       $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null; }; then
  echo "install-browser: apt-get could not install chromium chromium-driver: browser tests will skip" \
       "(fail under CI=true)" >&2
  exit 0
fi
