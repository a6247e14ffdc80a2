"""What the notebooks use and nothing else does (the edge of the package).

- :mod:`.style`: how every figure looks (colour-blind-safe colours, lecture mode).
- :mod:`.modes`: ``COURSE_MODE``, full or CI, and ``by_mode(full=..., ci=...)``.
- :mod:`.widgets`: the widget builders and controls, one convention that one browser
  test drives (``course-widget``), and the static sweep that stands in for a widget.
- ``nbNN_<topic>``: one module per notebook, with the experiments and widgets that
  notebook shows (``nb02_rnn_bptt`` for ``notebooks/02_rnn_bptt``, and so on).

These modules import matplotlib and ipywidgets; nothing below the edge imports them.
"""
