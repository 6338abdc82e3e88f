"""A fresh database of the benchmarks' throwaway cluster (bench/out/cluster), migrated to a spec."""
import subprocess


def fresh_database(sluice, env, name, spec="specs/clickstream.yaml"):
    subprocess.run([sluice, "db", "start"], env=env, check=True, stdout=subprocess.DEVNULL)
    url = subprocess.run([sluice, "db", "url", "--database", "postgres"], env=env, check=True, capture_output=True, text=True).stdout.strip()
    subprocess.run(["psql", url, "-X", "-q", "-c", f"DROP DATABASE IF EXISTS {name}", "-c", f"CREATE DATABASE {name}"], check=True)
    target = url.replace("/postgres?", f"/{name}?")
    subprocess.run([sluice, "apply", "--no-run", "--database", target, spec], env=env, check=True, stdout=subprocess.DEVNULL)
    # Write out what earlier phases (and the DROP) left dirty, so it is not charged to the next one.
    subprocess.run(["psql", url, "-X", "-q", "-c", "CHECKPOINT"], check=True)
    return target
