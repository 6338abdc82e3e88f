"""The body of `bench/etl --objects N [--s3]`: memory against the object count (issue 17).

Generates N one-record clickstream objects (hourly folders, about 1,400 objects each at 1M), then
runs `sluice apply specs/clickstream.yaml` on a fresh database of the throwaway cluster, from the
folder or, with --s3, from a moto_server bucket on loopback, and prints objects per second and
Sluice's own peak RSS (VmHWM, see peakrss.py) beside the figures issue 17 measured before listing and the manifest
went page by page: 281 MB (S3) and 295 MB (folder) at 50,000 objects, about 5 KB per object.
A second run over the same source, which loads nothing, times the listing and manifest check alone.
"""
import concurrent.futures
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid

import peakrss
from benchdb import fresh_database

COUNT = int(sys.argv[1])
S3 = "--s3" in sys.argv[2:]
ROOT = os.path.abspath("bench/out")
DATA = os.path.join(ROOT, f"objects-{COUNT}")
SLUICE = os.path.abspath(".build/release/sluice")
ENV = dict(os.environ, SLUICE_DB_DIR=os.path.join(ROOT, "cluster"), SLUICE_MASK_KEY="bench-mask-key")
BASELINE = {"folder": (50_000, 295), "s3": (50_000, 281)}  # objects, peak RSS in MB, measured for issue 17


def key(index):
    day, hour = 1 + (index // 24) % 30, index % 24
    return f"events/2026/11/{day:02d}/{hour:02d}/o-{index:07d}.jsonl"


def record(index):
    return json.dumps({
        "event_id": str(uuid.UUID(int=index + 1, version=4)), "event_timestamp": "2026-11-20T09:00:00.000Z",
        "event_name": "page_view", "user": {"id": f"u{index % 1000}", "email": f"user{index % 1000}@example.com", "country": "DE"},
        "session": {"id": f"s{index % 5000}"}, "context": {"client_id": "c1", "page_url": f"https://shop.example.com/p/{index % 50}"},
    }) + "\n"


def generate():
    marker = os.path.join(DATA, ".complete")
    if os.path.exists(marker):
        return
    shutil.rmtree(DATA, ignore_errors=True)
    for index in range(COUNT):
        path = os.path.join(DATA, "raw", key(index))
        if index < 30 * 24:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as out:
            out.write(record(index))
    open(marker, "w").close()


def database(name):
    return fresh_database(SLUICE, ENV, name)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_moto():
    """moto_server on loopback (no signature checks: its check disagrees with AWS on prefixes with '/'),
    filled with the generated objects by boto3."""
    import boto3
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id="bench", aws_secret_access_key="bench")
    s3.create_bucket(Bucket="bench-raw", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda index: s3.put_object(Bucket="bench-raw", Key=key(index), Body=record(index).encode()), range(COUNT)))
    print(f"uploaded {COUNT:,} objects to moto in {time.perf_counter() - started:.0f} s")
    return server, endpoint


def apply(url, source):
    command = [SLUICE, "apply", "--database", url, "specs/clickstream.yaml"] + source
    env = dict(ENV, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="eu-west-1")
    log = open(os.path.join(ROOT, "objects-sluice.log"), "w+")
    status, seconds, rss = peakrss.run(command, env, log)
    log.seek(0)
    output = log.read()
    if status != 0:
        raise SystemExit(output[-4000:])
    summary = next((line for line in output.splitlines() if line.startswith("clickstream:")), output[-500:])
    return seconds, rss, summary


def main():
    started = time.perf_counter()
    generate()
    print(f"input: {COUNT:,} one-record objects in {DATA} (ready in {time.perf_counter() - started:.0f} s)")
    server = None
    if S3:
        server, endpoint = start_moto()
        source = ["--source", "s3", "--s3-endpoint", endpoint, "--bucket", "raw=bench-raw"]
    else:
        # --source FOLDER reads the spec's bucket `raw` from FOLDER/raw.
        source = ["--source", DATA]
    try:
        url = database("bench_objects")
        first = apply(url, source)
        again = apply(url, source)
    finally:
        if server:
            server.send_signal(signal.SIGKILL)
    kind = "s3" if S3 else "folder"
    objects, baseline = BASELINE[kind]
    print(f"(1) load:   {first[2]}")
    print(f"(2) rerun:  {again[2]}")
    print()
    print(f"{'':34} {'objects':>10} {'seconds':>8} {'objects/s':>10} {'peak RSS':>9}")
    print(f"{'load, ' + kind:34} {COUNT:>10,} {first[0]:8.1f} {COUNT / first[0]:10,.0f} {first[1]:7.0f} MB")
    print(f"{'rerun (list + manifest check), ' + kind:34} {COUNT:>10,} {again[0]:8.1f} {COUNT / again[0]:10,.0f} {again[1]:7.0f} MB")
    print(f"{'baseline (issue 17, before paging)':34} {objects:>10,} {'':8} {'':10} {baseline:7.0f} MB")
    print("target (issue 17): peak RSS <= 256 MB, independent of the object count")


main()
