"""``python -m course_lib fetch``: download the course's datasets (or copy them from the mirror)."""

from ..data.download import FILES, DataFileError, DownloadError, fetch
from .common import DATASETS, _Failure, _size


def _fetch(args, parser):
    """Run ``fetch``: fetch and verify every file of the datasets named, printing where each is.

    Args:
        args: the parsed command line; ``args.datasets`` the names given (none: all of
            :data:`~course_lib.cli.common.DATASETS`).
        parser: the ``fetch`` parser, for its error messages.

    Returns:
        The exit code, 0.

    Raises:
        SystemExit: by ``parser.error``, for a name not in ``DATASETS``.
        _Failure: a file could not be downloaded or failed its checksum.
    """
    unknown = [name for name in args.datasets if name not in DATASETS]
    if unknown:
        parser.error(f"unknown dataset {unknown[0]!r}; choose from {', '.join(sorted(DATASETS))}")
    names = args.datasets or sorted(DATASETS)
    for name in dict.fromkeys(names):  # once each, in the order given
        for key in (k for k in FILES if k.startswith(DATASETS[name])):
            try:
                path = fetch(key)
            except (DataFileError, DownloadError, FileNotFoundError) as e:
                raise _Failure(f"{name}: {e}") from None
            print(f"{path}  ({_size(path)}, checksum OK)")
    return 0
