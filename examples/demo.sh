#!/usr/bin/env bash
# `make demo`: a fresh SQLite database under demo-data/ with the sample portfolio imported, then its fees.
# Every enterprise and patent in examples/ is fictional.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
mkdir -p demo-data
export CUSTODY_DATABASE_URL="sqlite:///demo-data/custody.sqlite3"
rm -f demo-data/custody.sqlite3 demo-data/custody.sqlite3-wal demo-data/custody.sqlite3-shm
"$BIN/custody" db upgrade
echo "== enterprises and contacts"
"$BIN/custody" import enterprises examples/enterprises.csv
echo "== an agency ledger (GBK CSV): first a dry run, then for real"
"$BIN/custody" import patents examples/portfolio_ledger_gbk.csv --as-of 2024-05-01 --dry-run
"$BIN/custody" import patents examples/portfolio_ledger_gbk.csv --as-of 2024-05-01
echo "== a platform export (xlsx, merged title row; the export date above the header is the as-of date)"
"$BIN/custody" import patents examples/portfolio_platform.xlsx --enterprise 91350100M000100Y43
echo "== fees paid"
"$BIN/custody" import payments examples/payments.csv
echo "== importing the same file again changes nothing"
"$BIN/custody" import payments examples/payments.csv
