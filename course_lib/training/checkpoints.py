"""Saving a model (and its training run) to one ``.npz`` file, and loading it back.

A checkpoint is a plain NumPy ``.npz`` archive, read with ``allow_pickle=False``: it
holds only arrays and strings, so loading one cannot run code (a pickle can). Entries:

===========================  ================================================================
``format``                   ``"course_lib.checkpoint"``, and ``version`` (1)
``config``                   the model's ``config`` as a JSON string (0-d unicode array)
``step``                     the number of training steps taken
``param/<name>``             each weight array, e.g. ``param/layer0.Wx``
``vocab``                    the vocabulary's code points (:meth:`CharVocab.to_array`)
``optimizer``                the optimizer's class name, ``optimizer_hparams`` its settings (JSON)
``optim/<key>``              the optimizer's ``state_dict()``: ``optim/step``, ``optim/exp_avg/<name>``, ...
``history/<field>``          the training :class:`~course_lib.training.History`
``extra/<key>``              anything else given as arrays, e.g. a data loader's position
===========================  ================================================================

The file is written to a temporary file beside the target and then renamed onto it
(``os.replace`` is atomic): a crash while saving leaves the old checkpoint intact, never
half a file. Loading checks everything before changing anything, and says what is
wrong: a file that is not a checkpoint, or truncated; a model whose config differs
(which keys, which values); another vocabulary; another optimizer or other settings.

    save_checkpoint("ckpt.npz", model, vocab, optimizer, history, extra=tbptt.state_dict())
    ckpt = load_checkpoint("ckpt.npz")                      # builds the model from its config
    print(sample(ckpt.model, ckpt.vocab, prime="ROMEO:"))
"""

import json
import os
import secrets
import zipfile
from dataclasses import dataclass, field

import numpy as np

from .. import models
from ..data.vocab import CharVocab
from .loop import History

FORMAT = "course_lib.checkpoint"
VERSION = 1
# Optimizer attributes that are not settings: the parameters, the state (saved under
# optim/), and the learning rate, which a schedule changes every step (see load_checkpoint).
_NOT_HYPERPARAMETERS = {"params", "state", "step_count", "buffer_names", "lr"}


class CheckpointError(ValueError):
    """A checkpoint cannot be read, or does not fit the model, vocabulary or optimizer."""


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` returns.

    Attributes:
        model: the model holding the loaded weights (the one passed in, or a new one).
        vocab: the :class:`~course_lib.data.vocab.CharVocab` saved with it, or None.
        optimizer: the optimizer passed in, its state restored, or None.
        history: the :class:`~course_lib.training.History` saved with it, or None.
        step: the number of training steps taken when it was saved.
        extra: dict of what was saved as ``extra`` (0-d arrays as Python scalars).
        config: the model config, as saved.
    """

    model: object
    vocab: CharVocab | None
    optimizer: object
    history: History | None
    step: int
    extra: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)


def _json(config):
    """The config as it reads back from JSON (tuples become lists): what is compared."""
    return json.loads(json.dumps(config, sort_keys=True))


def _hyperparameters(optimizer):
    """The optimizer's settings: its attributes apart from params, state and lr."""
    return _json({k: v for k, v in vars(optimizer).items() if k not in _NOT_HYPERPARAMETERS})


def _check_optimizer_on_model(optimizer, model):
    for name, p in optimizer.params.items():
        if model.params.get(name) is not p:
            raise CheckpointError(
                f"optimizer: was not built on this model's params ({name!r} is another array); "
                f"build it as {type(optimizer).__name__}(model.params, ...)")


def save_checkpoint(path, model, vocab=None, optimizer=None, history=None, extra=None, *, step=None):
    """Save a model, and optionally what resuming its training needs, to one ``.npz``.

    Args:
        path: the file to write (used as given: add ``.npz`` yourself). An existing
            file is replaced only once the new one is complete.
        model: has ``config`` (a JSON-able dict) and ``params`` (dict name -> array).
        vocab: the :class:`~course_lib.data.vocab.CharVocab` of a character model; None (the
            default): not saved.
        optimizer: a :mod:`course_lib.optim` optimizer built on ``model.params``; None (the
            default): not saved.
        history: the :class:`~course_lib.training.History` of the run; None (the default):
            not saved.
        extra: dict name -> array, number or string (no Python objects); default None.
        step: keyword-only; the number of steps taken; None (the default):
            ``history.next_step`` if a history is given, else ``optimizer.step_count``, else 0.

    Raises:
        CheckpointError (a ValueError): ``model.config`` is not JSON-able, or ``optimizer``
            was not built on ``model.params``.
        ValueError: an ``extra`` value is a Python object (it would need pickling).
    """
    if step is None:
        step = history.next_step if history is not None else optimizer.step_count if optimizer else 0
    try:
        config = json.dumps(model.config, sort_keys=True)
    except TypeError as e:
        raise CheckpointError(f"model.config: must be JSON-able ({e})") from None
    arrays = {"format": np.asarray(FORMAT), "version": np.int64(VERSION),
              "config": np.asarray(config), "step": np.int64(step)}
    arrays |= {f"param/{name}": p for name, p in model.params.items()}
    if vocab is not None:
        arrays["vocab"] = vocab.to_array()
    if optimizer is not None:
        _check_optimizer_on_model(optimizer, model)
        arrays["optimizer"] = np.asarray(type(optimizer).__name__)
        arrays["optimizer_hparams"] = np.asarray(json.dumps(_hyperparameters(optimizer)))
        arrays |= {f"optim/{key}": np.asarray(v) for key, v in optimizer.state_dict().items()}
    if history is not None:
        arrays |= {f"history/{key}": a for key, a in history.to_arrays().items()}
    for key, value in (extra or {}).items():
        arrays[f"extra/{key}"] = np.asarray(value)
    _write_atomically(os.fspath(path), arrays)


def _write_atomically(path, arrays):
    """np.savez into a temporary file in the target's folder, then rename it onto path."""
    folder, name = os.path.split(os.path.abspath(path))
    tmp = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")  # same folder: same disk
    try:
        with open(tmp, "xb") as f:
            np.savez(f, allow_pickle=False, **arrays)  # refuses object arrays
            f.flush()
            os.fsync(f.fileno())  # on disk before the rename makes it the checkpoint
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _read(path):
    """Every entry of the file, read now, or a CheckpointError saying what is wrong."""
    # Our own file object, not np.load(path): np.load leaves its file open when the
    # archive turns out to be damaged.
    with open(path, "rb") as f:  # a missing file: FileNotFoundError, with its name
        if f.read(4) != b"PK\x03\x04":
            raise CheckpointError(f"{path}: not a checkpoint (not an .npz file: it does not start "
                                  f"as a zip archive)")
        f.seek(0)
        try:
            with np.load(f, allow_pickle=False) as npz:
                arrays = {key: npz[key] for key in npz.files}
        except ValueError as e:
            if "allow_pickle" in str(e):
                raise CheckpointError(f"{path}: holds pickled Python objects, which are refused "
                                      f"(allow_pickle=False)") from None
            raise CheckpointError(f"{path}: truncated or corrupt ({e})") from None
        except (zipfile.BadZipFile, EOFError, OSError) as e:
            raise CheckpointError(f"{path}: truncated or corrupt ({type(e).__name__}: {e})") from None
    if arrays.get("format", np.asarray("")).item() != FORMAT:
        raise CheckpointError(f"{path}: an .npz file, but not a course_lib checkpoint (no 'format' entry "
                              f"{FORMAT!r}; it holds {sorted(arrays)[:5]})")
    if arrays["version"].item() != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {arrays['version']}, "
                              f"this course_lib reads {VERSION}")
    return arrays


def _prefixed(arrays, prefix):
    return {key[len(prefix):]: a for key, a in arrays.items() if key.startswith(prefix)}


def _differences(saved, current):
    """'key: checkpoint A, here B' for every key whose value differs."""
    differ = []
    for k in sorted(set(saved) | set(current)):
        a, b = saved.get(k, "(absent)"), current.get(k, "(absent)")
        if a != b:
            differ.append(f"{k}: checkpoint {a!r}, here {b!r}")
    return differ


def _model_class(path, config):
    cls = getattr(models, str(config.get("model")), None)
    if cls is None:
        raise CheckpointError(f"{path}: config names model {config.get('model')!r}, which course_lib.models "
                              f"does not have; pass model= (an instance, or its class)")
    return cls


def load_checkpoint(path, model=None, optimizer=None, *, vocab=None):
    """Load a checkpoint written by :func:`save_checkpoint`.

    Args:
        path: the ``.npz`` file.
        model: None: build the model from the saved config (the class named by
            ``config["model"]`` in :mod:`course_lib.models`); a class: build that one
            with ``from_config``; an instance: load the weights into it (in place,
            so an optimizer built on its params keeps working). Its config must
            equal the saved one.
        optimizer: restore its state (to resume training); it must be built on
            ``model.params``, be of the saved class and have the saved settings.
            The learning rate is not compared or restored: it is whatever the
            optimizer was built with, or what ``fit``'s schedule sets. Default None.
        vocab: keyword-only; if given, it must equal the saved vocabulary. Default None.

    Returns:
        a :class:`Checkpoint` (``.model``, ``.vocab``, ``.history``, ``.step``, ``.extra``).

    Raises:
        CheckpointError (a ValueError): the file is not a checkpoint or is damaged, or
            does not fit the model, vocabulary or optimizer given. Nothing is changed
            then.
        FileNotFoundError: no such file.
    """
    path = os.fspath(path)
    arrays = _read(path)
    config = json.loads(arrays["config"].item())
    params = _prefixed(arrays, "param/")

    # 1. Check everything.
    if model is None or isinstance(model, type):
        cls = model or _model_class(path, config)
        model = cls.from_config(config, dtype=next(iter(params.values())).dtype)
    else:
        diff = _differences(config, _json(model.config))
        if diff:
            raise CheckpointError(f"{path}: the model's config differs from the checkpoint's: "
                                  + "; ".join(diff))
    missing, unexpected = sorted(set(model.params) - set(params)), sorted(set(params) - set(model.params))
    if missing or unexpected:
        raise CheckpointError(f"{path}: the weights do not match the model's params: missing {missing}, "
                              f"unexpected {unexpected}")
    for name, p in model.params.items():
        if params[name].shape != p.shape:
            raise CheckpointError(f"{path}: weight {name!r} has shape {params[name].shape}, "
                                  f"the model's {p.shape}")

    saved_vocab = CharVocab.from_array(arrays["vocab"]) if "vocab" in arrays else None
    if vocab is not None and vocab != saved_vocab:
        raise CheckpointError(f"{path}: the vocabulary differs: checkpoint {saved_vocab!r}, given {vocab!r}")

    if optimizer is not None:
        _check_optimizer_compatible(path, arrays, optimizer, model)
        # 2. Change things: the optimizer first, as load_state_dict checks before it changes anything.
        try:
            optimizer.load_state_dict(_prefixed(arrays, "optim/"))
        except ValueError as e:
            raise CheckpointError(f"{path}: the optimizer state does not fit: {e}") from None
    for name, p in model.params.items():
        np.copyto(p, params[name])  # into the model's own arrays

    history_arrays = _prefixed(arrays, "history/")
    extra = {k: a.item() if a.ndim == 0 else a for k, a in _prefixed(arrays, "extra/").items()}
    return Checkpoint(model=model, vocab=saved_vocab, optimizer=optimizer,
                      history=History.from_arrays(history_arrays) if history_arrays else None,
                      step=int(arrays["step"]), extra=extra, config=config)


def _check_optimizer_compatible(path, arrays, optimizer, model):
    """Raise unless the optimizer can take the saved state: same class and settings."""
    _check_optimizer_on_model(optimizer, model)
    if "optimizer" not in arrays:
        raise CheckpointError(f"{path}: holds no optimizer state (saved without optimizer=)")
    saved_class, this_class = arrays["optimizer"].item(), type(optimizer).__name__
    if saved_class != this_class:
        raise CheckpointError(f"{path}: the optimizer state is for {saved_class}, not {this_class}")
    diff = _differences(json.loads(arrays["optimizer_hparams"].item()), _hyperparameters(optimizer))
    if diff:
        raise CheckpointError(f"{path}: the {this_class} settings differ from the checkpoint's: "
                              + "; ".join(diff))
