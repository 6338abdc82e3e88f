"""The body of bench/etl: generate, transform for the floor, time (a), (b), (c). See bench/etl."""
import datetime
import hashlib
import hmac
import io
import json
import os
import random
import re
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


def staged_values(lines, key):
    """The straightforward Python ETL's transform: per line, the values of every target column by
    (table, column), or the reason it is refused; filtered lines and duplicates yield nothing."""
    seen = set()
    for number, line in enumerate(lines, 1):
        try:
            r = json.loads(line)
        except ValueError as error:
            yield number, line, "invalid JSON: " + str(error), None
            continue
        ctx, user, product, session = r.get("context") or {}, r.get("user") or {}, r.get("product") or {}, r.get("session") or {}
        if str(ctx.get("is_test")).lower() == "true" or (user.get("email") or "").endswith("@qa.example.com"):
            yield number, line, None, None
            continue
        ts = parse_time(r.get("event_timestamp"))
        if not is_uuid(r.get("event_id")) or ts is None or not r.get("event_name"):
            yield number, line, "invalid", None
            continue
        if r["event_id"] in seen:
            yield number, line, None, None
            continue
        seen.add(r["event_id"])
        email = user.get("email")
        email_hash = hmac.new(KEY, email.strip().lower().encode(), hashlib.sha256).hexdigest() if email else None
        name = r["event_name"].strip().lower()
        name = CANONICAL.get(name, name)
        t = ts.strftime("%Y-%m-%d %H:%M:%S.%f+00")
        values = {
            ("analytics.dim_users", "user_id"): user.get("id"), ("analytics.dim_users", "email_hash"): email_hash,
            ("analytics.dim_users", "country"): user.get("country"), ("analytics.dim_users", "first_seen_at"): t,
            ("analytics.dim_products", "product_id"): product.get("id"), ("analytics.dim_products", "name"): product.get("name"),
            ("analytics.dim_products", "category"): product.get("category"), ("analytics.dim_products", "price"): product.get("price"),
            ("analytics.fact_sessions", "session_id"): session.get("id"), ("analytics.fact_sessions", "user_id"): user.get("id"),
            ("analytics.fact_sessions", "client_id"): ctx.get("client_id"), ("analytics.fact_sessions", "started_at"): t,
            ("analytics.fact_sessions", "traffic_source"): ctx.get("traffic_source"),
            ("analytics.fact_events", "event_id"): r["event_id"], ("analytics.fact_events", "event_timestamp"): t,
            ("analytics.fact_events", "event_date"): ts.date().isoformat(), ("analytics.fact_events", "event_hour"): ts.hour,
            ("analytics.fact_events", "event_name"): name, ("analytics.fact_events", "user_id"): user.get("id"),
            ("analytics.fact_events", "session_id"): session.get("id"), ("analytics.fact_events", "client_id"): ctx.get("client_id"),
            ("analytics.fact_events", "product_id"): product.get("id"), ("analytics.fact_events", "page_url"): ctx.get("page_url"),
            ("analytics.fact_events", "traffic_source"): ctx.get("traffic_source"), ("analytics.fact_events", "source_object"): key,
        }
        yield number, line, None, values


def staging_rows(lines, plan, key):
    """One staging row per line (refused ones too), in the layout of `plan`'s staging table."""
    staged = {column["staged"]: (target["table"], column["column"]) for target in plan["targets"] for column in target["columns"]}
    layout = [staged.get(name) for name in plan["staging"]["columns"][5:]]
    if None in layout:
        raise SystemExit(f"the plan stages a column the bench does not compute: {plan['staging']['columns']}")
    ordinal = 0
    for number, line, reason, values in staged_values(lines, key):
        if reason is None and values is None:
            continue
        ordinal += 1
        if reason is not None:
            yield f"{ordinal}\t{number}\t{esc(reason)}\t\\N\t{esc(line)}" + "\t\\N" * len(layout) + "\n"
        else:
            yield f"{ordinal}\t{number}\t\\N\t\\N\t\\N\t" + "\t".join(esc(values[column]) for column in layout) + "\n"


def objects():
    found = []
    for folder, _, files in os.walk(os.path.join(DATA, "raw")):
        found += [os.path.join(folder, f) for f in files if f.endswith(".jsonl")]
    return sorted(found)


def database(name):
    return fresh_database(SLUICE, ENV, name)


def merges_sql():
    return "\n".join(t["merge"] for t in PLAN["targets"])


def append_only_spec():
    """specs/clickstream.yaml with fact_events as the pipeline's only target (and no foreign keys to
    the dimensions it no longer writes): the append-only path. Its plan is compiled by sluice plan.
    Edited as text: a YAML 1.1 reader would take the grants' `on:` for true."""
    lines = open("specs/clickstream.yaml").read().splitlines()
    kept, skipping = [], False
    for line in lines:
        if line.startswith("      - table: "):
            skipping = line.strip() != "- table: fact_events"
        elif skipping and not line.startswith("        "):
            skipping = False
        if not skipping:
            kept.append(re.sub(r", references: [a-z_.]+ \}", " }", line))
    text = "\n".join(kept) + "\n"
    if text.count("- table: ") != 1:
        raise SystemExit("specs/clickstream.yaml's targets changed shape; update append_only_spec()")
    path = os.path.join(ROOT, "clickstream-append-only.yaml")
    with open(path, "w") as out:
        out.write("# Generated by bench/etl from specs/clickstream.yaml: fact_events only.\n" + text)
    output = os.path.join(ROOT, "append-only-generated")
    subprocess.run([SLUICE, "plan", path, "--output", output, "--quiet"], env=ENV, check=True)
    return path, json.load(open(os.path.join(output, "clickstream-append-only", "plan.json")))["pipelines"][0]


def time_sluice(label, spec, connections):
    """(a) sluice apply end to end, on a fresh database: (seconds, peak RSS MB, url, summary line)."""
    url = fresh_database(SLUICE, ENV, f"bench_{label}", spec)
    log = open(os.path.join(ROOT, f"etl-{label}.log"), "w+")
    status, seconds, rss = peakrss.run(
        [SLUICE, "apply", "--database", url, "--source", DATA, "--connections", str(connections), spec], ENV, log)
    log.seek(0)
    output = log.read()
    if status != 0:
        raise SystemExit(output)
    summary = [line for line in output.splitlines() if line.startswith("clickstream:")]
    return seconds, rss, url, summary[0] if summary else output


def time_floor(label, spec, plan, files):
    """(b) the database's single-session floor: the plan's staging rows prepared beforehand (not
    timed), then per object psql's COPY of them and the plan's own merges, in one transaction."""
    prepared = os.path.join(ROOT, f"etl-staging-{label}")
    shutil.rmtree(prepared, ignore_errors=True)
    os.makedirs(prepared)
    for index, path in enumerate(files):
        key = os.path.relpath(path, os.path.join(DATA, "raw"))
        with open(path) as source, open(os.path.join(prepared, f"{index:05d}.tsv"), "w") as out:
            out.writelines(staging_rows(source.read().splitlines(), plan, key))
    url = fresh_database(SLUICE, ENV, f"bench_floor_{label}", spec)
    merges = "\n".join(t["merge"] for t in plan["targets"])
    start = time.perf_counter()
    for index in range(len(files)):
        script = "BEGIN;\n" + plan["staging"]["create"] + "\n" + f"\\copy pg_temp.sluice_stage FROM '{prepared}/{index:05d}.tsv'\n" + merges + "\nCOMMIT;\n"
        subprocess.run(["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1"], input=script, text=True, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, url


def rows(url):
    return subprocess.run(
        ["psql", url, "-X", "-At", "-c",
         "SELECT (SELECT count(*) FROM analytics.fact_events) || ' events, ' || (SELECT count(*) FROM analytics.dim_users) || ' users'"],
        capture_output=True, text=True).stdout.strip()


def main():
    t0 = time.perf_counter()
    generate()
    files = objects()
    size = sum(os.path.getsize(f) for f in files)
    cores = os.cpu_count() or 1
    print(f"input: {EVENTS:,} events in {len(files)} objects, {size / 1e6:.0f} MB (generated in {time.perf_counter() - t0:.0f} s); {cores} cores")

    if SLUICE_ONLY:
        seconds, rss, _, summary = time_sluice("sluice", "specs/clickstream.yaml", cores)
        print("(a) " + summary)
        print(f"\n(a) sluice apply, end to end: {seconds:.1f} s, peak RSS {rss:.0f} MB, {EVENTS / seconds:,.0f} events/s")
        return

    append_spec, append_plan = append_only_spec()
    table = []
    for label, spec, plan in (("append_only", append_spec, append_plan), ("clickstream", "specs/clickstream.yaml", PLAN)):
        floor, floor_url = time_floor(label, spec, plan, files)
        table.append((label, "(b) psql COPY + the plan's merges (floor)", floor, floor, None, rows(floor_url)))
        for connections in sorted({1, cores}):
            seconds, rss, url, summary = time_sluice(f"{label}_{connections}", spec, connections)
            print(f"{label}, {connections} connection(s): {summary}")
            table.append((label, f"(a) sluice apply, {connections} connection(s)", seconds, floor, rss, rows(url)))
        if label == "clickstream":
            # (c) a straightforward Python ETL, one session.
            import psycopg
            url_c = fresh_database(SLUICE, ENV, "bench_python")
            start = time.perf_counter()
            with psycopg.connect(url_c) as connection:
                for path in files:
                    key = os.path.relpath(path, os.path.join(DATA, "raw"))
                    with connection.transaction():
                        connection.execute(plan["staging"]["create"])
                        with open(path) as source, connection.cursor().copy(plan["staging"]["copy"]) as copy:
                            for row in staging_rows(source, plan, key):
                                copy.write(row)
                        for target in plan["targets"]:
                            connection.execute(target["merge"])
            seconds = time.perf_counter() - start
            table.append((label, "(c) Python: json + psycopg COPY", seconds, floor, None, rows(url_c)))

    print()
    print(f"{'spec':12} {'':42} {'seconds':>8} {'vs floor':>9} {'peak RSS':>9}   rows")
    for label, what, seconds, floor, rss, counted in table:
        memory = f"{rss:.0f} MB" if rss is not None else ""
        print(f"{label:12} {what:42} {seconds:8.1f} {seconds / floor:8.2f}x {memory:>9}   {counted}")
    print("\ntargets (issue 18): sluice with N connections <= 0.9x the floor, for both specs; peak RSS <= 256 MB")

    # One large file each: a 1M-row CSV export and a 100k-row workbook (sme-reporting's payments).
    print("\none large object (bench/xlsx):", flush=True)
    subprocess.run([sys.executable, "bench/xlsx.py", "1000000", "1", "--only", "csv"], check=True)
    subprocess.run([sys.executable, "bench/xlsx.py", "100000", "1", "--only", "xlsx"], check=True)


main()
