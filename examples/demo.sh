#!/usr/bin/env bash
# `make demo`: the main job end to end on a fresh SQLite database under demo-data/, with the sample portfolio in
# examples/ and the file outbox instead of SMS and email (examples/demo.toml). Every enterprise, person and
# patent in examples/ is fictional.
set -euo pipefail
cd "$(dirname "$0")/.."
export CUSTODY_CONFIG=examples/demo.toml
custody() { .venv/bin/custody "$@"; }
today=$(TZ=Asia/Shanghai date +%F)
export COLUMNS=${COLUMNS:-160}  # wide enough for the report tables when the output is not a terminal
rm -rf demo-data && mkdir -p demo-data

step() { printf '\n== %s\n' "$*"; }

step "the fee calculator: an invention with 85 % reduction, paid through year 8"
custody fees ZL201710601862.3 --filed 2017-04-25 --grant-year 3 --reduction 85 --paid-through 8 \
    --as-of 2025-07-01 --pay-on 2025-07-01

step "a new installation"
custody init

step "enterprises and their contacts"
custody import enterprises examples/enterprises.csv

step "an agency ledger (GBK CSV) as of 2024-05-01: first a dry run, then for real"
custody import patents examples/portfolio_ledger_gbk.csv --as-of 2024-05-01 --dry-run
custody import patents examples/portfolio_ledger_gbk.csv --as-of 2024-05-01

step "a platform export (xlsx, merged title row; the export date above the header is the as-of date)"
custody import patents examples/portfolio_platform.xlsx --enterprise 91350100M000100Y43

step "today's export from a fee-monitoring platform (no paid-through column: inferred as of $today)"
custody import patents examples/portfolio_current.csv --as-of "$today"

step "fees paid; importing the same file again changes nothing"
custody import payments examples/payments.csv
custody import payments examples/payments.csv

step "one stored patent and its schedule"
custody patent show 202130047712.X

step "legal-status changes from a CNIPA export"
custody status sync examples/status_export.csv

step "what the reminders would send today, and why"
custody remind plan --dry-run

step "the reminder job, once (as cron would run it): plan, send, receipts"
custody run-once
custody run-once   # a second run the same day sends nothing again
printf 'file outbox: %s messages in demo-data/outbox/messages.jsonl\n' "$(wc -l < demo-data/outbox/messages.jsonl)"
custody remind list

step "reports"
custody report due --within 90d
custody report grace --format csv      # eighteen columns: as CSV, as a spreadsheet would take them
custody report kpi
custody report forecast --years 5 --format xlsx --out demo-data/forecast.xlsx
custody health || true
