"""Errors raised by :mod:`course_lib.datasets`.

Every error says which file or folder is at fault and what to do about it, so that a
student who meets one in a notebook can fix it without reading this package.
"""

#: The command that (re)installs CIFAR-10; error messages tell users to run it.
DOWNLOAD_COMMAND = "python -m course_lib.datasets download cifar10"


class DatasetError(Exception):
    """Base class: something is wrong with a dataset or with getting it."""


class DatasetNotFoundError(DatasetError):
    """The dataset is not where it was looked for."""


class DownloadError(DatasetError):
    """Fetching the archive failed (network, HTTP status, retries used up)."""


class ChecksumError(DatasetError):
    """A file's MD5 differs from the expected one; the file has been deleted."""


class CorruptDatasetError(DatasetError):
    """An archive or batch file is truncated, damaged or not in the CIFAR-10 layout."""


class ForeignPickleError(CorruptDatasetError):
    """A batch file asks the unpickler for something other than NumPy arrays.

    Such a file is not a CIFAR-10 batch; loading it could run arbitrary code, so it is
    refused before anything in it is executed.
    """


class NoSpaceError(DatasetError):
    """The disk filled up; whatever was half-written has been removed."""
