"""``acglab data fetch NAME --dest DIR``: download a registered dataset and verify every file.

Prints the dataset's licence note, shows a progress bar, then one summary line. Exits 0 when
every file is in place and verified; otherwise prints one error line (which files could not be
fetched, or which failed verification and were deleted) and exits non-zero. Re-running resumes:
verified files are kept, only the rest is fetched.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from acglab.data.fetch import DEFAULT_WORKERS, fetch_dataset
from acglab.data.manifest import DATASETS, get_dataset


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def register(subparsers) -> None:
    names = sorted(DATASETS)
    listing = "\n".join(f"  {n}: {DATASETS[n].description}" for n in names)
    p = subparsers.add_parser(
        "fetch",
        help="download a dataset listed in a checksum manifest, verifying every file",
        description="Download the files of a dataset's sha256 manifest into DEST, in parallel "
        "and resumably; every file is checked against its size and sha256.",
        epilog=f"datasets:\n{listing}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", choices=names, metavar="NAME", help="dataset to fetch: " + ", ".join(names))
    p.add_argument("--dest", required=True, type=Path, metavar="DIR", help="folder to fetch into")
    p.add_argument(
        "--base-url",
        metavar="URL",
        default=None,
        help="a mirror: http(s):// or file:// URL, or a folder holding the files (default: the dataset's own address)",
    )
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=DEFAULT_WORKERS,
        metavar="N",
        help=f"parallel downloads (default {DEFAULT_WORKERS})",
    )
    p.add_argument(
        "--retries",
        type=int,
        default=2,
        metavar="N",
        help="retries after a connection error, time-out or 5xx answer (default 2)",
    )
    p.add_argument(
        "--only",
        action="append",
        metavar="PATTERN",
        help="fetch only manifest paths matching this shell pattern (repeatable)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    dataset = get_dataset(args.name)
    print(f"{dataset.name}: {dataset.description}")
    print(f"licence: {dataset.licence}")
    report = fetch_dataset(
        args.name,
        args.dest,
        args.base_url,
        only=args.only,
        check=False,
        workers=args.workers,
        retries=args.retries,
        progress=not args.quiet,
    )
    print(report.summary())
    report.raise_for_failures()
    return 0
