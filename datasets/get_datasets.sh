#!/usr/bin/env bash
# Download, verify and install CIFAR-10 for the course (about 170 MB; ~550 MB on disk
# with the unpacked batches and their .npy cache).
#
#   datasets/get_datasets.sh [--source PATH_OR_URL] [--md5 MD5] [--force] [--keep-archive]
#
# Installs into $COURSE_DATA_DIR (default ~/.cache/nnfs-course)/cifar-10-batches-py.
# $CIFAR10_SOURCE may name a local archive, folder or URL to use instead of the official
# URL. Safe to interrupt: running it again resumes the download. Without CIFAR-10 the
# notebooks use the embedded synthetic dataset.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "$repo/.venv/bin/python" ]]; then PYTHON="$repo/.venv/bin/python"; else PYTHON=python3; fi
fi
exec "$PYTHON" -m course_lib.datasets download cifar10 ${COURSE_DATA_DIR:+--dir "$COURSE_DATA_DIR"} "$@"
