"""Where a run of ``train`` starts from: new settings and a new model, or the run saved in
``--resume``, with its settings checked against the options given."""

from ..data.vocab import CharVocab
from ..models import CharRNN
from .common import (
    DEFAULTS,
    OPTIMIZERS,
    PROG,
    RUN_SETTINGS,
    _load_char_model,
    _read_text,
    _run_settings,
    _sha256,
)


def _new_run(args, explicit, parser):
    """Settings, text, model and optimizer of a new run.

    Args:
        args: the parsed command line.
        explicit: the options given on it, by ``dest``.
        parser: the ``train`` parser, for its error messages.

    Returns:
        ``(settings, text, vocab, model, optimizer, None)``: the None where a resumed run has
        its checkpoint.

    Raises:
        SystemExit: by ``parser.error``, for options that contradict each other or bad data.
    """
    settings = {k: explicit.get(k, DEFAULTS[k]) for k in RUN_SETTINGS}
    if args.steps is None and args.minutes is None:
        parser.error("give --steps, --minutes or both: how long to train")
    if settings["schedule"] == "cosine":
        settings["decay_steps"] = settings["decay_steps"] or args.steps
        if settings["decay_steps"] is None:
            parser.error("--schedule cosine decays over --decay-steps, by default --steps: give either")
    elif settings["decay_steps"] is not None:
        parser.error("--decay-steps is for --schedule cosine")
    if settings["momentum"] and settings["optimizer"] not in ("sgd", "rmsprop"):
        parser.error(f"--momentum applies to sgd and rmsprop, not to --optimizer {settings['optimizer']}")
    if settings["min_lr"] > settings["lr"]:
        parser.error(f"--min-lr {settings['min_lr']} is above --lr {settings['lr']}")
    text = _read_text(settings["data"], parser)
    settings |= {"data_sha256": _sha256(text), "data_chars": len(text)}
    vocab = CharVocab.from_text(text)
    model = CharRNN(vocab.size, settings["hidden"], cell=settings["cell"], num_layers=settings["layers"],
                    embedding_dim=settings["embedding"] or None, dropout=settings["dropout"],
                    seed=settings["seed"], dtype=settings["dtype"])
    return settings, text, vocab, model, _optimizer(settings, model), None


def _optimizer(settings, model):
    """The optimizer a run's settings name, over the model's parameters.

    Args:
        settings: the run's settings (``optimizer``, ``lr``, ``momentum``).
        model: the model to train.

    Returns:
        A new optimizer of :mod:`course_lib.optim`.
    """
    kwargs = {"momentum": settings["momentum"]} if settings["optimizer"] in ("sgd", "rmsprop") else {}
    return OPTIMIZERS[settings["optimizer"]](model.params, lr=settings["lr"], **kwargs)


def _resumed_run(args, explicit, parser):
    """Settings, text, model, optimizer and checkpoint of the run saved in ``--resume``.

    Args:
        args: the parsed command line.
        explicit: the options given on it, by ``dest``.
        parser: the ``train`` parser, for its error messages.

    Returns:
        ``(settings, text, vocab, model, optimizer, ckpt)``, the model and optimizer restored
        from ``ckpt``.

    Raises:
        SystemExit: by ``parser.error``, when the checkpoint cannot be resumed or an option
            or the data contradicts it.
    """
    path = args.resume
    ckpt = _load_char_model(path, parser, "--resume")
    settings = _run_settings(ckpt)
    if settings is None:
        parser.error(f"--resume {path}: not written by '{PROG} train' (it holds no run settings), "
                     f"so there is no run to continue")
    settings.setdefault("fresh_every", 0)  # runs saved before fresh starts existed had none
    settings = {k: DEFAULTS[k] for k in RUN_SETTINGS} | settings  # a setting added since: its default
    if "batches/epoch" not in ckpt.extra or ckpt.history is None:
        parser.error(f"--resume {path}: a weights-only checkpoint (written by --export); it cannot "
                     f"be resumed: resume from the run's --out checkpoint instead")
    for key in RUN_SETTINGS:
        if key in explicit and key != "data" and explicit[key] != settings[key]:
            flag = "--" + key.replace("_", "-")
            parser.error(f"{flag} {explicit[key]} differs from the checkpoint's {settings[key]}: a resumed "
                         f"run keeps its settings (leave {flag} out, or start a new run)")
    text = _read_text(explicit.get("data", settings["data"]), parser)
    if _sha256(text) != settings["data_sha256"]:
        parser.error(f"--data {explicit.get('data', settings['data'])}: not the text {path} was trained on "
                     f"(SHA-256 {_sha256(text)[:12]}..., the checkpoint's {settings['data_sha256'][:12]}...)")
    optimizer = _optimizer(settings, ckpt.model)
    ckpt = _load_char_model(path, parser, "--resume", model=ckpt.model, optimizer=optimizer)
    return settings, text, ckpt.vocab, ckpt.model, optimizer, ckpt
