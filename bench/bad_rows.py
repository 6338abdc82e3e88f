"""bench/bad-rows: see that script's header."""
import os, random, shutil, statistics, subprocess, sys, time
sys.path.insert(0, os.path.dirname(__file__))
from benchdb import fresh_database

SLUICE = ".build/release/sluice"
ENV = dict(os.environ, SLUICE_DB_DIR=os.path.abspath("bench/out/cluster"), SLUICE_MASK_KEY="bench")
LINES = int(sys.argv[1])
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
ROOT = "bench/out/bad-rows"


def export(bad):
    """The day's file with `bad` zero-quantity lines spread evenly through it."""
    folder = os.path.join(ROOT, f"bad-{bad}", "exports", "sales", "2026", "11", "20")
    shutil.rmtree(os.path.join(ROOT, f"bad-{bad}"), ignore_errors=True)
    os.makedirs(folder)
    spots = set(range(0, LINES, max(1, LINES // bad))[:bad]) if bad else set()
    rng = random.Random(7)
    with open(os.path.join(folder, "day.csv"), "w") as out:
        out.write("invoice;line;date;sku;qty;net\n")
        for n in range(LINES):
            qty = 0 if n in spots else rng.randint(1, 20)
            out.write(f"INV-{n // 5};{n % 5 + 1};2026-11-20;AB-{rng.randint(100, 999)};{qty};{rng.randint(100, 99999) / 100:.2f}\n")
    return os.path.join(ROOT, f"bad-{bad}")


def load(bad, runs=RUNS):
    source = export(bad)
    times = []
    for run in range(runs):
        url = fresh_database(SLUICE, ENV, "badrows", spec="specs/sme-reporting.yaml")
        subprocess.run(["psql", url, "-X", "-q", "-c",
                        "ALTER TABLE reporting.sales ADD CONSTRAINT positive_quantity CHECK (quantity > 0)"], check=True)
        start = time.perf_counter()
        done = subprocess.run([SLUICE, "run", "daily-sales", "--spec", "specs/sme-reporting.yaml", "--source", source,
                               "--database", url, "--format", "json"], env=ENV, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            # Isolating takes at most 4,096 probes; past that the object fails as it would without it.
            raise SystemExit(f"the load with {bad} bad lines failed: {done.stderr}{done.stdout[:2000]}")
        refused = subprocess.run(["psql", url, "-XAtq", "-c", "SELECT count(*) FROM sluice.quarantine"], capture_output=True, text=True).stdout.strip()
        if int(refused) != bad:
            raise SystemExit(f"{bad} bad lines, {refused} quarantined")
    return statistics.median(times)


def main():
    print(f"{LINES:,} CSV lines, one object; median of {RUNS} run(s)")
    print(f"{'bad lines':>10} {'load s':>8} {'x clean':>8} {'extra ms per bad line':>22}", flush=True)
    base = None
    for bad in (0, 1, 10, 100):
        seconds = load(bad)
        base = base or seconds
        extra = f"{(seconds - base) * 1000 / bad:22.1f}" if bad else f"{'(baseline)':>22}"
        print(f"{bad:10,} {seconds:8.2f} {seconds / base:8.2f} {extra}", flush=True)


main()
