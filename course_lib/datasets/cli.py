"""``python -m course_lib.datasets``: install CIFAR-10 and show what the loaders will use."""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .cache import ArrayCache, source_signature
from .cifar10 import ARRAY_NAMES, _CACHE_PREFIX
from .download import download_cifar10
from .errors import DatasetError
from .layout import OFFICIAL_URL, TEST_BATCH, TRAIN_BATCHES
from .loader import choose_dataset
from .paths import StrPath, batches_dir, data_dir, missing_batches


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.datasets",
        description="Get the course data. Without CIFAR-10 the notebooks use an embedded "
                    "synthetic dataset; `download cifar10` installs the real one.")
    commands = parser.add_subparsers(dest="command", required=True)

    download = commands.add_parser(
        "download", help="download (or copy), verify and install a dataset",
        description="Download CIFAR-10 (or copy it from a local archive or folder), verify "
                    "it, unpack it and build its .npy cache. Safe to interrupt: rerunning "
                    "resumes the download.")
    download.add_argument("dataset", choices=["cifar10"])
    download.add_argument("--dir", help="data directory (default: $COURSE_DATA_DIR, else "
                                        "~/.cache/nnfs-course)")
    download.add_argument("--source", help="URL, file:// URL, local .tar.gz or batches folder "
                                           f"(default: $CIFAR10_SOURCE, else {OFFICIAL_URL})")
    download.add_argument("--md5", help="expected MD5 of the archive (default for the "
                                        "official URL: the official MD5)")
    download.add_argument("--force", action="store_true", help="reinstall even if present")
    download.add_argument("--keep-archive", action="store_true",
                          help="keep the downloaded .tar.gz in the data directory")
    download.add_argument("--retries", type=int, default=5,
                          help="retries after a failed attempt (default 5)")
    download.add_argument("--quiet", action="store_true", help="no progress bar")

    info = commands.add_parser("info", help="say where the data is and which data loaders use")
    info.add_argument("--dir", help="data directory (default: $COURSE_DATA_DIR, else "
                                    "~/.cache/nnfs-course)")
    return parser


def _info(root: StrPath | None) -> None:
    folder = batches_dir(root)
    print(f"data directory:   {data_dir(root)}")
    print(f"CIFAR-10 folder:  {folder}")
    if folder.is_dir():
        missing = missing_batches(folder)
        if missing:
            print(f"CIFAR-10:         INCOMPLETE, missing {', '.join(missing)}")
        else:
            signature = source_signature(folder, TRAIN_BATCHES + (TEST_BATCH,))
            cached = ArrayCache(folder, _CACHE_PREFIX).load(ARRAY_NAMES[1::2], signature)
            state = ("up to date" if cached is not None
                     else "missing or stale (the next load rebuilds it)")
            print(f"CIFAR-10:         installed; .npy cache {state}")
    else:
        print("CIFAR-10:         not installed")
    for variable in ("COURSE_DATASET", "CIFAR10_SOURCE"):
        print(f"{variable + ':':<18}{os.environ.get(variable) or '(not set)'}")
    print(f"loaders will use: {choose_dataset(root)[1]}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status (0 ok, 1 dataset error, 2 usage error)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "download":
            download_cifar10(args.dir, source=args.source, md5=args.md5, force=args.force,
                             keep_archive=args.keep_archive, retries=args.retries,
                             progress=not args.quiet)
        else:
            _info(args.dir)
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume the download",
              file=sys.stderr)
        return 130
    return 0
