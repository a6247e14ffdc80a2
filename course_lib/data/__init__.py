"""The course's data: files, their formats, vocabularies and batches (plumbing).

- :mod:`.download`: where each dataset file comes from (``COURSE_DATA_MIRROR``, the web)
  and where it lands (``COURSE_DATA_DIR``), checked by hash.
- :mod:`.idx`: MNIST's IDX file format.
- :mod:`.datasets`: the loaders, ``load_mnist`` and ``load_tinyshakespeare``.
- :mod:`.vocab`: ``CharVocab``, characters to ids and back.
- :mod:`.batching`: parallel streams for truncated BPTT, shuffled minibatches, splits.

Imports NumPy, the standard library, pooch and ``course_lib._checks``, nothing else.
"""
