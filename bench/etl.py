"""The body of bench/etl: generate, transform for the floor, time (a), (b), (c). See bench/etl."""
import datetime
import hashlib
import hmac
import io
import json
import os
import random
import shutil
import subprocess
import sys
import time
import uuid

import peakrss
from benchdb import fresh_database

EVENTS = int(sys.argv[1])
# --sluice-only: (a) alone, for the memory figure at sizes where the baselines would take too long.
SLUICE_ONLY = "--sluice-only" in sys.argv[2:]
PER_OBJECT = 50_000
ROOT = os.path.abspath("bench/out")
DATA = os.path.join(ROOT, "etl")
SLUICE = os.path.abspath(".build/release/sluice")
KEY = b"bench-mask-key"
ENV = dict(os.environ, SLUICE_DB_DIR=os.path.join(ROOT, "cluster"), SLUICE_MASK_KEY=KEY.decode())
PLAN = json.load(open("generated/clickstream/plan.json"))["pipelines"][0]
CANONICAL = {"pageview": "page_view", "page-view": "page_view", "addtocart": "add_to_cart"}


def generate():
    """Raw events, deterministic, written once per size and reused."""
    marker = os.path.join(DATA, f".events-{EVENTS}")
    if os.path.exists(marker):
        return
    shutil.rmtree(DATA, ignore_errors=True)
    rng = random.Random(42)
    sent = []
    written = 0
    obj = 0
    while written < EVENTS:
        hour = obj % 24
        day = 1 + obj // 24
        folder = os.path.join(DATA, "raw", f"events/2026/11/{day:02d}/{hour:02d}")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"part-{obj:05d}.jsonl"), "w") as out:
            for _ in range(min(PER_OBJECT, EVENTS - written)):
                written += 1
                roll = rng.random()
                if roll < 0.005 and sent:
                    out.write(rng.choice(sent) + "\n")  # re-sent
                    continue
                product = rng.randrange(1, 5001)
                record = {
                    "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "event_timestamp": f"2026-11-{day:02d}T{hour:02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}Z",
                    "event_name": rng.choice(["page_view", "pageview", "product_view", "AddToCart", "purchase"]),
                    "user": {"id": f"u{rng.randrange(1, 100001)}", "email": f"user{rng.randrange(1, 100001)}@example.com",
                             "country": rng.choice(["DE", "FR", "IE", "NL", "ES"])},
                    "session": {"id": f"s{rng.randrange(1, 300001)}"},
                    "context": {"client_id": f"c{rng.randrange(1, 50001)}", "page_url": f"https://shop.example.com/p/{product}",
                                "traffic_source": rng.choice(["search", "ads", "email", "direct"]), "user_agent": "Mozilla/5.0 (X11; Linux x86_64)"},
                    "product": {"id": f"p{product}", "name": f"Product {product}", "category": f"c{product % 40}", "price": round(rng.uniform(1, 500), 2)},
                }
                if roll < 0.015:
                    record["context"]["is_test"] = True
                line = json.dumps(record)
                if 0.015 <= roll < 0.025:
                    line = line[: len(line) // 2]  # malformed
                elif len(sent) < 10_000:
                    sent.append(line)
                out.write(line + "\n")
        obj += 1
    open(marker, "w").close()


def is_uuid(text):
    try:
        return isinstance(text, str) and len(text) == 36 and str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


def parse_time(text):
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(datetime.timezone.utc)
    except (ValueError, TypeError, AttributeError):
        return None


def esc(value):
    if value is None:
        return "\\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def staging_rows(lines):
    """The straightforward Python ETL's transform: one staging row per line (refused ones too)."""
    ordinal = 0
    seen = set()
    for number, line in enumerate(lines, 1):
        ordinal += 1
        try:
            r = json.loads(line)
        except ValueError as error:
            yield f"{ordinal}\t{number}\t{esc('invalid JSON: ' + str(error))}\t\\N\t{esc(line)}" + "\t\\N" * 24 + "\n"
            continue
        ctx, user, product, session = r.get("context") or {}, r.get("user") or {}, r.get("product") or {}, r.get("session") or {}
        if str(ctx.get("is_test")).lower() == "true" or (user.get("email") or "").endswith("@qa.example.com"):
            continue
        ts = parse_time(r.get("event_timestamp"))
        if not is_uuid(r.get("event_id")) or ts is None or not r.get("event_name"):
            yield f"{ordinal}\t{number}\tinvalid\t\\N\t{esc(line)}" + "\t\\N" * 24 + "\n"
            continue
        if r["event_id"] in seen:
            continue
        seen.add(r["event_id"])
        email = user.get("email")
        email_hash = hmac.new(KEY, email.strip().lower().encode(), hashlib.sha256).hexdigest() if email else None
        name = r["event_name"].strip().lower()
        name = CANONICAL.get(name, name)
        t = ts.strftime("%Y-%m-%d %H:%M:%S.%f+00")
        values = [user.get("id"), email_hash, user.get("country"), t,
                  product.get("id"), product.get("name"), product.get("category"), product.get("price"),
                  session.get("id"), user.get("id"), ctx.get("client_id"), t, ctx.get("traffic_source"),
                  r["event_id"], t, ts.date().isoformat(), ts.hour, name, user.get("id"), session.get("id"), ctx.get("client_id"),
                  product.get("id"), ctx.get("page_url"), ctx.get("traffic_source")]
        yield f"{ordinal}\t{number}\t\\N\t\\N\t\\N\t" + "\t".join(esc(v) for v in values) + "\n"


def objects():
    found = []
    for folder, _, files in os.walk(os.path.join(DATA, "raw")):
        found += [os.path.join(folder, f) for f in files if f.endswith(".jsonl")]
    return sorted(found)


def database(name):
    return fresh_database(SLUICE, ENV, name)


def merges_sql():
    return "\n".join(t["merge"] for t in PLAN["targets"])


def main():
    t0 = time.perf_counter()
    generate()
    files = objects()
    size = sum(os.path.getsize(f) for f in files)
    print(f"input: {EVENTS:,} events in {len(files)} objects, {size / 1e6:.0f} MB (generated in {time.perf_counter() - t0:.0f} s)")
    if len(PLAN["staging"]["columns"]) != 29:
        raise SystemExit("the plan's staging table changed; update staging_rows()")

    # (a) Sluice, end to end.
    url_a = database("bench_sluice")
    log = open(os.path.join(ROOT, "etl-sluice.log"), "w+")
    status, time_a, rss = peakrss.run([SLUICE, "apply", "--database", url_a, "--source", DATA, "specs/clickstream.yaml"], ENV, log)
    log.seek(0)
    output = log.read()
    if status != 0:
        raise SystemExit(output)
    summary = [line for line in output.splitlines() if line.startswith("clickstream:")]
    print("(a) " + (summary[0] if summary else output))
    if SLUICE_ONLY:
        print(f"\n(a) sluice apply, end to end: {time_a:.1f} s, peak RSS {rss:.0f} MB, {EVENTS / time_a:,.0f} events/s")
        return

    # (b) the floor: staging rows prepared beforehand (not timed), then psql per object.
    prepared = os.path.join(ROOT, "etl-staging")
    shutil.rmtree(prepared, ignore_errors=True)
    os.makedirs(prepared)
    for index, path in enumerate(files):
        with open(path) as source, open(os.path.join(prepared, f"{index:05d}.tsv"), "w") as out:
            out.writelines(staging_rows(source.read().splitlines()))
    url_b = database("bench_floor")
    start = time.perf_counter()
    for index in range(len(files)):
        script = "BEGIN;\n" + PLAN["staging"]["create"] + "\n" + f"\\copy pg_temp.sluice_stage FROM '{prepared}/{index:05d}.tsv'\n" + merges_sql() + "\nCOMMIT;\n"
        subprocess.run(["psql", url_b, "-X", "-q", "-v", "ON_ERROR_STOP=1"], input=script, text=True, check=True, stdout=subprocess.DEVNULL)
    time_b = time.perf_counter() - start

    # (c) a straightforward Python ETL.
    import psycopg
    url_c = database("bench_python")
    start = time.perf_counter()
    with psycopg.connect(url_c) as connection:
        for path in files:
            with connection.transaction():
                connection.execute(PLAN["staging"]["create"])
                with open(path) as source, connection.cursor().copy(PLAN["staging"]["copy"]) as copy:
                    for row in staging_rows(source):
                        copy.write(row)
                for target in PLAN["targets"]:
                    connection.execute(target["merge"])
    time_c = time.perf_counter() - start

    counts = {}
    for name, url in (("a", url_a), ("b", url_b), ("c", url_c)):
        counts[name] = subprocess.run(["psql", url, "-X", "-At", "-c", "SELECT (SELECT count(*) FROM analytics.fact_events) || ' events, ' || (SELECT count(*) FROM analytics.dim_users) || ' users'"],
                                      capture_output=True, text=True).stdout.strip()
    print()
    print(f"{'':44} {'seconds':>8} {'vs floor':>9}   rows")
    print(f"{'(a) sluice apply, end to end':44} {time_a:8.1f} {time_a / time_b:8.2f}x   {counts['a']}")
    print(f"{'(b) psql COPY + INSERT … ON CONFLICT (floor)':44} {time_b:8.1f} {1:8.2f}x   {counts['b']}")
    print(f"{'(c) Python: json + psycopg COPY':44} {time_c:8.1f} {time_c / time_b:8.2f}x   {counts['c']}")
    print(f"\nsluice: peak RSS {rss:.0f} MB, {EVENTS / time_a:,.0f} events/s, {size / 1e6 / time_a:.0f} MB/s")
    print("targets (issue 5): (a) <= 1.2x (b); peak RSS <= 256 MB")


main()
