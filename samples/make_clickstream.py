#!/usr/bin/env python3
"""Writes samples/clickstream/: two hours of clickstream events for specs/clickstream.yaml, with the
faults a real feed has, and expected.json, the counts the pipeline must produce, computed here from
what was written (not by Sluice). Deterministic: rerunning rewrites the same bytes.

    python3 samples/make_clickstream.py
"""
import gzip
import json
import os
import random
import uuid

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "clickstream")
rng = random.Random(20261120)

USERS = [(f"u{n}", f"user{n}@example.com", country) for n, country in enumerate(["DE", "FR", "IE", "NL", "DE", "ES", "IT", "PL"], 1)]
PRODUCTS = [(f"p{n}", name, category, price) for n, (name, category, price) in enumerate([
    ("Trail shoe", "shoes", 89.9), ("Rain jacket", "outerwear", 149.0), ("Wool socks", "socks", 12.5),
    ("Day pack", "bags", 59.99), ("Headlamp", "gear", 34.0)], 1)]
NAMES = ["page_view", "pageview", "Page-View ", "product_view", "AddToCart", "purchase"]
CANONICAL = {"page_view": "page_view", "pageview": "page_view", "page-view": "page_view", "addtocart": "add_to_cart"}


def event_id(n):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def event(hour, minute, n):
    user = rng.choice(USERS)
    product = rng.choice(PRODUCTS)
    record = {
        "event_id": event_id(n),
        "event_timestamp": f"2026-11-20T{hour:02d}:{minute:02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}Z",
        "event_name": rng.choice(NAMES),
        "user": {"id": user[0], "email": user[1], "country": user[2]},
        "session": {"id": f"s{rng.randrange(1, 13)}"},
        "context": {"client_id": f"c{rng.randrange(1, 6)}", "page_url": f"https://shop.example.com/p/{product[0]}",
                    "traffic_source": rng.choice(["search", "ads", "email", "direct"])},
    }
    if record["event_name"] in ("product_view", "AddToCart", "purchase"):
        record["product"] = {"id": product[0], "name": product[1], "category": product[2], "price": product[3]}
    return record


def main():
    files = {}
    expected_quarantine = []
    loaded = []
    duplicates = filtered_test = filtered_qa = 0
    for file_number, hour in enumerate([9, 10]):
        lines = []
        for n in range(50):
            record = event(hour, n, n)
            lines.append(json.dumps(record))
            loaded.append(record)
        # Re-sent: the same event again, in the same file and (hour 10) from the first file.
        lines.append(json.dumps(loaded[-3])); duplicates += 1
        if hour == 10:
            lines.append(json.dumps(loaded[5])); duplicates += 1
        # Test traffic and QA users: filtered, counted.
        test = event(hour, 55, 0); test["context"]["is_test"] = True; lines.append(json.dumps(test)); filtered_test += 1
        qa = event(hour, 56, 0); qa["user"]["email"] = "tester@qa.example.com"; lines.append(json.dumps(qa)); filtered_qa += 1
        # Faults, each quarantined with its reason.
        bad = event(hour, 57, 0)
        if hour == 9:
            lines.append(json.dumps(bad)[:-9]); expected_quarantine.append("invalid JSON")
            b = dict(bad); b["event_id"] = "not-a-uuid"; lines.append(json.dumps(b)); expected_quarantine.append("field event_id")
            b = event(hour, 58, 0); b["event_timestamp"] = "2026-02-30T10:00:00Z"; lines.append(json.dumps(b)); expected_quarantine.append("field event_timestamp")
            b = event(hour, 58, 0); del b["event_name"]; lines.append(json.dumps(b)); expected_quarantine.append("required field event_name")
        else:
            b = event(hour, 57, 0); b["user"]["country"] = "DEU"; lines.append(json.dumps(b)); expected_quarantine.append("field user.country")
            b = event(hour, 58, 0); text = json.dumps(b); lines.append(text[:-1] + ', "event_name": "purchase"}'); expected_quarantine.append("duplicate key")
            b = event(hour, 58, 0); b["user"]["email"] = "not an address"; lines.append(json.dumps(b)); expected_quarantine.append("field user.email")
            b = event(hour, 59, 0); b["event_name"] = "page\u0000view"; lines.append(json.dumps(b)); expected_quarantine.append("\\u0000")
        rng.shuffle(lines)
        body = ("\n".join(lines) + "\n").encode()
        key = f"raw/events/2026/11/20/{hour:02d}/part-{file_number:04d}.jsonl" + (".gz" if hour == 10 else "")
        files[key] = gzip.compress(body, mtime=0) if hour == 10 else body

    for key, body in files.items():
        path = os.path.join(ROOT, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as out:
            out.write(body)

    def name(record):
        text = record["event_name"].strip().lower()
        return CANONICAL.get(text, text)

    expected = {
        "objects": len(files),
        "records_read": sum(body.count(b"\n") if not key.endswith(".gz") else gzip.decompress(body).count(b"\n") for key, body in files.items()),
        "records_loaded": len(loaded),
        "records_duplicate": duplicates,
        "records_filtered": {"test traffic": filtered_test, "internal QA users": filtered_qa},
        "records_quarantined": len(expected_quarantine),
        "quarantine_reasons": sorted(expected_quarantine),
        "rows": {
            "analytics.fact_events": len(loaded),
            "analytics.dim_users": len({r["user"]["id"] for r in loaded}),
            "analytics.dim_products": len({r["product"]["id"] for r in loaded if "product" in r}),
            "analytics.fact_sessions": len({r["session"]["id"] for r in loaded}),
        },
        "events_per_name": {n: sum(1 for r in loaded if name(r) == n) for n in sorted({name(r) for r in loaded})},
    }
    with open(os.path.join(ROOT, "expected.json"), "w") as out:
        json.dump(expected, out, indent=2, sort_keys=True)
        out.write("\n")


if __name__ == "__main__":
    main()
