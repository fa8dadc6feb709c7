"""Peak memory of the xlsx export against the number of attempts (issue 14: flat memory up to
the sheet limit).

Run on demand (not part of the test suite):

    .venv/bin/python -m tests.bench.bench_xlsx [--sizes 20000,200000]

For each size: build a database of N attempts (the synthetic study of ``bench_export``: 10
tasks per participant, 5 events per attempt, errors, notes, SUS answers), then, in a fresh
process, export it as xlsx and read that process's peak RSS and the time taken; then the same
for a CSV export, whose peak is what the summary tables and the batched reads cost without the
workbook. The baseline is a fresh process that imports usetest's export and openpyxl and writes
nothing. The workbook is flat in memory when the xlsx peak stays at the CSV peak as N grows.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(*args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "tests.bench.bench_xlsx", *args],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description="peak RSS of the xlsx export")
    parser.add_argument("--sizes", default=None, help="attempts, comma-separated (default "
                        "20000; with --large 20000,200000,820000)")
    parser.add_argument("--large", action="store_true", help="up to 820,000 rows")
    parser.add_argument("--build", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--export", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--format", default="xlsx", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        from tests.bench.bench_export import build

        build(Path(args.build[1]), int(args.build[0]))
        print(json.dumps({}))
    elif args.baseline:
        import openpyxl  # noqa: F401

        import usetest.export  # noqa: F401

        print(json.dumps({"rss_mb": _rss_mb()}))
    elif args.export:
        from usetest.export import export

        fmt = args.format
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            written = export(args.export, Path(tmp) / "out", fmt)
            took = time.perf_counter() - t0
            size = sum(p.stat().st_size for p in written)
        print(json.dumps({f"{fmt}_export_s": round(took, 1), f"{fmt}_rss_mb": round(_rss_mb(), 1),
                          f"{fmt}_mb": round(size / 1e6, 1)}))  # fmt: skip
    else:
        baseline = _child("--baseline")["rss_mb"]
        print(f"baseline (imports only): {baseline:.0f} MB")
        sizes = args.sizes or ("20000,200000,820000" if args.large else "20000")
        for n in (int(s) for s in sizes.split(",")):
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "bench.db"
                _child("--build", str(n), str(path))
                # csv beside it: what the summary tables and the chunked reads cost alone
                figures = {**_child("--export", str(path)),
                           **_child("--export", str(path), "--format", "csv")}  # fmt: skip
            print(f"{n:>9,} attempts ({n * 5:,} events): {figures}")
            # the workbook's memory beside the CSV export's (the same reads and summary tables)
            print(f"xlsx export {n:,} attempts peak RSS MB | {figures['xlsx_rss_mb']:.0f} | "
                  f"{figures['csv_rss_mb']:.0f} | {figures['xlsx_rss_mb'] / figures['csv_rss_mb']:.2f}x"
                  "   (floor: the csv export of the same file)", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
