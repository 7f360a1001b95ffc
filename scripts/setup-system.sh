#!/usr/bin/env bash
# Install the system packages the report needs beyond Python:
#   chromium          headless browser for the HTML report checks (tests marked "browser")
#   fonts-wqy-zenhei  a CJK font, so Chinese text prints in report.pdf
#   poppler-utils     pdftotext/pdftoppm, handy to inspect generated PDFs
# Runs apt-get only as root on a Debian/Ubuntu system; anywhere else it explains what
# to install and exits 0, so it is safe to call from scripts/test.sh on any machine.
set -u

PACKAGES=(chromium fonts-wqy-zenhei poppler-utils)

have() { command -v "$1" >/dev/null 2>&1; }

missing=()
have chromium || have chromium-browser || missing+=(chromium)
if ! { have fc-list && [ -n "$(fc-list :lang=zh family 2>/dev/null)" ]; }; then missing+=(fonts-wqy-zenhei); fi
have pdftotext || missing+=(poppler-utils)

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-system: chromium, a CJK font and poppler-utils are already present."
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-system: not root; skipping system packages. Missing: ${missing[*]}"
  echo "  As root on Debian/Ubuntu run: apt-get install -y ${PACKAGES[*]}"
  echo "  Without them the browser tests are skipped and the PDF notes that Chinese text may not render."
  exit 0
fi
if ! have apt-get; then
  echo "setup-system: apt-get not found; install these with your package manager: ${missing[*]}"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
echo "setup-system: installing ${missing[*]}"
if ! apt-get update -qq || ! apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
  echo "setup-system: apt-get failed; the browser tests will be skipped and CJK text may not print in PDFs."
  exit 0
fi
have fc-cache && fc-cache -f >/dev/null 2>&1
echo "setup-system: done."
exit 0
