#!/usr/bin/env python3
"""Writes the small samples of the specs other than clickstream (which has make_clickstream.py):
one folder per bucket, laid out as the bucket is, and expected.json with the rows each table must
hold and the records each pipeline must refuse, worked out by hand from the records below.

    python3 samples/make_samples.py
"""
import gzip
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def write(spec, key, body):
    path = os.path.join(HERE, spec, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as out:
        out.write(gzip.compress(body.encode(), mtime=0) if key.endswith(".gz") else body.encode())


def expected(spec, value):
    with open(os.path.join(HERE, spec, "expected.json"), "w") as out:
        json.dump(value, out, indent=2, sort_keys=True)
        out.write("\n")


def lines(records):
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


# data-platform: gzipped JSON Lines of orders, upserted by id; the whole record kept as jsonb.
write("data-platform", "curated/orders/2026/11/20/09/orders-0001.jsonl.gz", lines([
    {"id": 1, "partner": "acme", "placed_at": "2026-11-20T09:01:00Z", "amount": 120.5},
    {"id": 2, "partner": "globex", "placed_at": "2026-11-20T09:02:00Z", "amount": 80},
    {"id": 1, "partner": "acme", "placed_at": "2026-11-20T09:01:00Z", "amount": 125.0},  # corrected: same key
    {"id": "three", "partner": "acme", "placed_at": "2026-11-20T09:03:00Z", "amount": 5},  # refused: id
    {"id": 4, "partner": "initech", "placed_at": "yesterday", "amount": 5},  # refused: placed_at
]))
write("data-platform", "curated/orders/2026/11/20/10/orders-0002.jsonl.gz", lines([
    {"id": 5, "partner": "initech", "placed_at": "2026-11-20T10:15:00+01:00", "amount": 42.42},
    {"id": 6, "placed_at": "2026-11-20T10:16:00Z", "amount": 1},  # refused: partner missing
]))
expected("data-platform", {"rows": {"serving.orders": 3}, "quarantined": {"curated-orders": 3}})

# serverless-canonical: a CRM export as a JSON array (versioned customers), ERP orders as gzipped
# JSON Lines (versioned by seq).
write("serverless-canonical", "exports/crm/2026/11/20/customers.json", json.dumps([
    {"id": "c1", "name": " Ada Lovelace ", "email": "ADA@example.com", "country": "GB", "revision": 1},
    {"id": "c1", "name": "Ada King", "email": "ada@example.com", "country": "GB", "revision": 2},
    {"id": "c2", "name": "Grace Hopper", "email": "grace@example.com", "country": "US", "revision": 5},
    {"id": "c2", "name": "Grace Hopper", "email": "grace@example.com", "country": "US", "revision": 5},  # re-sent
    {"id": "c3", "name": "Alan Turing", "country": "England", "revision": 1},  # refused: country
], indent=1))
write("serverless-canonical", "exports/erp/2026/11/20/09/orders.jsonl.gz", lines([
    {"order_no": "o1", "customer_ref": "c1", "status": "open", "amount": 99.5, "currency": "EUR", "ordered": "2026-11-20T09:00:00Z", "seq": 1},
    {"order_no": "o1", "customer_ref": "c1", "status": "paid", "amount": 99.5, "currency": "EUR", "ordered": "2026-11-20T09:00:00Z", "seq": 2},
    {"order_no": "o2", "customer_ref": "c2", "status": "lost", "amount": 10, "currency": "EUR", "ordered": "2026-11-20T09:05:00Z", "seq": 1},  # refused: status
    {"order_no": "o3", "customer_ref": "c2", "status": "shipped", "amount": 10, "currency": "usd", "ordered": "2026-11-20T09:06:00Z", "seq": 1},  # refused: currency
]))
expected("serverless-canonical", {"rows": {"canonical.customers": 2, "canonical.orders": 1},
                                  "quarantined": {"crm-customers": 1, "erp-orders": 2}})

# sme-reporting: semicolon CSV sales (a training company filtered), comma CSV stock, a JSON array of
# payroll periods, JSON Lines invoices.
write("sme-reporting", "exports/sales/2026/11/20/sales.csv",
      "invoice;line;date;sku;qty;net\r\n"
      "INV-1;1;2026-11-20; ab-100 ;2;19.90\r\n"
      "INV-1;2;2026-11-20;AB-200;1;5.00\r\n"
      "INV-2;1;2026-11-20;TEST-1;1;1.00\r\n"      # filtered: training company
      "INV-3;1;20.11.2026;AB-100;1;9.95\r\n"     # refused: date
      "\"INV-4\";1;2026-11-20;\"AB;300\";3;12.00\r\n")
write("sme-reporting", "exports/stock/2026/11/16/stock.csv",
      "sku,counted,on_hand\nab-100,2026-11-16,40\nAB-200,2026-11-16,7\nAB-300,2026-11-16,many\n")  # last refused: on_hand
write("sme-reporting", "exports/payroll/2026/11/payroll.json", json.dumps([
    {"period_start": "2026-11-01", "employees": 12, "gross": 48000.0},
    {"period_start": "2026-11-15", "employees": 12, "gross": 48250.5},
]))
write("sme-reporting", "exports/invoices/2026/11/invoices.jsonl", lines([
    {"number": "R-1", "customer": {"name": "Müller GmbH "}, "issued": "2026-11-01", "due": "2026-11-30", "total": 1200, "paid": False},
    {"number": "R-2", "customer": {"name": "Dupont SA"}, "issued": "2026-11-02", "total": 350.25, "paid": True},
    {"number": "R-3", "customer": {}, "issued": "2026-11-03", "total": 10},  # refused: customer.name
]))
expected("sme-reporting", {"rows": {"reporting.sales": 3, "reporting.stock_levels": 2, "reporting.payroll_summary": 2, "reporting.invoices": 2},
                           "quarantined": {"daily-sales": 1, "weekly-stock": 1, "biweekly-payroll": 0, "monthly-invoices": 1},
                           "filtered": {"daily-sales": 1}})
