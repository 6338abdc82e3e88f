"""bench/xlsx: see that script's header."""
import json, os, shutil, statistics, subprocess, sys
sys.path.insert(0, os.path.dirname(__file__))
from benchdb import fresh_database
from peakrss import run

SLUICE = ".build/release/sluice"
ENV = dict(os.environ, SLUICE_DB_DIR=os.path.abspath("bench/out/cluster"), SLUICE_MASK_KEY="bench")
ROWS = int(sys.argv[1])
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else 3
# --only csv|xlsx: one of the two (bench/etl times a 1M-row CSV without writing a 1M-row workbook).
ONLY = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
KINDS = [ONLY] if ONLY else ["csv", "xlsx"]
ROOT = "bench/out/xlsx"
HEADER = ["Reference", "Invoice", "Date", "Amount", "Method", "Reconciled"]


def sources():
    """The workbook, and a CSV twin of the spec reading the same rows from payments.csv."""
    shutil.rmtree(ROOT, ignore_errors=True)
    for kind in ("xlsx", "csv"):
        os.makedirs(os.path.join(ROOT, kind, "exports", "payments"))
    description = {"sheets": [{"title": "Payments", "rows": [["Payments export"], HEADER,
                   {"repeat": ROWS, "row": ["P-", "INV-7", {"date": "2026-11-21"}, 12.5, "Card", {"bool": True}]}]}]}
    if "xlsx" in KINDS:
        subprocess.run([sys.executable, "Tests/TestSupport/make_workbook.py", os.path.join(ROOT, "xlsx", "exports", "payments", "year.xlsx")],
                       input=json.dumps(description), text=True, check=True)
    with open(os.path.join(ROOT, "csv", "exports", "payments", "year.csv"), "w") as out:
        out.write(",".join(HEADER) + "\n")
        for n in range(ROWS):
            out.write(f"P-{n + 1},INV-7,2026-11-21,12.5,Card,true\n")
    spec = open("specs/sme-reporting.yaml").read().replace(
        "      format: xlsx\n      xlsx: { sheet: Payments, header_row: 2 }\n", "      format: csv\n")
    with open(os.path.join(ROOT, "sme-csv.yaml"), "w") as out:
        out.write(spec)


def load(kind):
    spec = "specs/sme-reporting.yaml" if kind == "xlsx" else os.path.join(ROOT, "sme-csv.yaml")
    times, peaks = [], []
    for _ in range(RUNS):
        url = fresh_database(SLUICE, ENV, "xlsx", spec=spec)
        with open(os.path.join(ROOT, f"{kind}.log"), "w") as log:
            status, seconds, peak = run([SLUICE, "run", "weekly-payments", "--spec", spec, "--source", os.path.join(ROOT, kind),
                                         "--database", url], ENV, log)
        if status != 0:
            raise SystemExit(f"the {kind} load failed: {open(os.path.join(ROOT, f'{kind}.log')).read()[-2000:]}")
        loaded = subprocess.run(["psql", url, "-XAtq", "-c", "SELECT count(*) FROM reporting.payments"], capture_output=True, text=True).stdout.strip()
        if int(loaded) != ROWS:
            raise SystemExit(f"{kind}: {loaded} rows loaded of {ROWS}")
        times.append(seconds)
        peaks.append(peak)
    return statistics.median(times), max(peaks)


def main():
    sources()
    file = os.path.join(ROOT, KINDS[-1], "exports", "payments", f"year.{KINDS[-1]}")
    print(f"{ROWS:,} rows, one object ({KINDS[-1]} {os.path.getsize(file) / 1e6:.1f} MB); median of {RUNS} run(s), peak RSS the largest")
    print(f"{'source':>8} {'load s':>8} {'rows/s':>10} {'peak RSS MB':>12}", flush=True)
    for kind in KINDS:
        seconds, peak = load(kind)
        print(f"{kind:>8} {seconds:8.2f} {ROWS / seconds:10,.0f} {peak:12.0f}", flush=True)


main()
