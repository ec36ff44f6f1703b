"""Training image denoisers on random noisy crops: Adam, a learning-rate schedule,
checkpoints that resume bitwise, and a seed that fixes everything.

:func:`fit` works with any model offering the protocol

``parameters``
    the flat float64 parameter vector (a property, or a method returning it);
``set_parameters(p)``
    replace it;
``loss_and_gradient(noisy, clean) -> (loss, grad)``
    the training loss on a ``(B, H, W)`` batch and its gradient with respect to
    ``parameters`` (same shape as ``parameters``).

Each step draws a minibatch of ``batch`` random ``crop x crop`` crops of ``images``
(:func:`pdeblocks.datasets.random_crops`) with fresh Gaussian noise of level ``sigma`` on
the [0, 1] scale (:func:`pdeblocks.datasets.noisy_pairs`; sigma = 25 on the 0-255 scale
is ``25 / 255``), computes ``loss_and_gradient``, and takes one :class:`pdeblocks.Adam`
step with the scheduled learning rate (:func:`learning_rate`), then applies ``project``.
All randomness comes from one ``numpy.random.default_rng(seed)``. A resumed run equals the
uninterrupted one bitwise when the model's output depends on ``parameters`` alone (no other
state) and is deterministic.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._lib import PDEBlocksError
from .datasets import noisy_pairs, random_crops
from .optim import Adam

__all__ = ["fit", "History", "learning_rate", "SCHEDULES", "COSINE_FLOOR", "STEP_MILESTONES", "STEP_FACTOR"]

#: The named learning-rate schedules of :func:`learning_rate`.
SCHEDULES = ("constant", "cosine", "step")
#: The cosine schedule decays to this fraction of ``lr``.
COSINE_FLOOR = 0.01
#: The step schedule multiplies ``lr`` by ``STEP_FACTOR`` at these fractions of the run.
STEP_MILESTONES = (0.5, 0.75)
STEP_FACTOR = 0.1

_CHECKPOINT_VERSION = 1


def learning_rate(schedule, lr: float, step: int, steps: int) -> float:
    """The learning rate of 0-based ``step`` in a run of ``steps`` steps.

    ``"constant"``: ``lr``. ``"cosine"``: ``lr (f + (1 - f) (1 + cos(pi step / steps)) / 2)``
    with ``f = COSINE_FLOOR``, from ``lr`` at step 0 down towards ``f lr``. ``"step"``:
    ``lr * STEP_FACTOR**m`` with ``m`` the number of milestones ``step >= q steps``,
    ``q`` in ``STEP_MILESTONES`` (x0.1 at half the run and again at three quarters).
    A callable ``schedule(step, steps)`` returns the rate itself (positive and finite).
    """
    if callable(schedule):
        rate = float(schedule(step, steps))
        if not (math.isfinite(rate) and rate > 0):
            raise PDEBlocksError(f"schedule({step}, {steps}) returned {rate}; a rate must be positive and finite")
        return rate
    if schedule == "constant":
        return float(lr)
    if schedule == "cosine":
        return float(lr * (COSINE_FLOOR + (1 - COSINE_FLOOR) * 0.5 * (1 + math.cos(math.pi * step / steps))))
    if schedule == "step":
        return float(lr * STEP_FACTOR ** sum(step >= q * steps for q in STEP_MILESTONES))
    raise PDEBlocksError(f"schedule must be one of {', '.join(SCHEDULES)} or a callable, got {schedule!r}")


@dataclass
class History:
    """What :func:`fit` did: per-step ``losses`` and ``learning_rates`` (all steps since the
    start of the run, including those before a resume), ``steps_done``, ``resumed_from``
    (the checkpoint's step, or 0) and ``stopped`` (the callback ended the run early)."""
    losses: np.ndarray = field(default_factory=lambda: np.empty(0))
    learning_rates: np.ndarray = field(default_factory=lambda: np.empty(0))
    steps_done: int = 0
    resumed_from: int = 0
    stopped: bool = False


def _positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if not (isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= minimum):
        raise PDEBlocksError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _get_parameters(model) -> np.ndarray:
    p = model.parameters
    p = p() if callable(p) else p
    return np.array(p, dtype=np.float64).reshape(-1)


def _check_model(model) -> None:
    for name in ("parameters", "set_parameters", "loss_and_gradient"):
        if not hasattr(model, name):
            raise PDEBlocksError(f"the model has no {name!r} (fit needs parameters, set_parameters, "
                                 "loss_and_gradient)")


def _images(images) -> list[np.ndarray]:
    arrays = list(images.values()) if isinstance(images, Mapping) else list(images)
    if not arrays:
        raise PDEBlocksError("images is empty")
    out = [np.ascontiguousarray(a, dtype=np.float64) for a in arrays]
    if any(a.ndim != 2 or not np.all(np.isfinite(a)) for a in out):
        raise PDEBlocksError("images must be finite 2D gray arrays")
    return out


def _fingerprint(images: list[np.ndarray]) -> str:
    h = hashlib.sha256()
    for a in images:
        h.update(np.array(a.shape, dtype=np.int64).tobytes())
        h.update(a.tobytes())
    return h.hexdigest()


#: The value of each later-added setting in checkpoints written before it existed.
_CONFIG_DEFAULTS = {"augment": False}


def _save(path, *, params, opt: Adam, step, rng, losses, lrs, config) -> None:
    """Write the checkpoint atomically (a temporary file, then a rename)."""
    path = os.fspath(path)
    tmp = path + ".tmp"
    with open(tmp, "wb") as fh:
        np.savez(fh, version=_CHECKPOINT_VERSION, parameters=params, adam_m=opt.m, adam_v=opt.v,
                 adam_t=opt.t, step=step, rng_state=json.dumps(rng.bit_generator.state),
                 losses=np.asarray(losses, dtype=np.float64), learning_rates=np.asarray(lrs, dtype=np.float64),
                 config=json.dumps(config, sort_keys=True))
    os.replace(tmp, path)


def _load(path, config, size):
    """(params, m, v, t, step, rng state, losses, lrs) of a checkpoint written with ``config``."""
    with np.load(os.fspath(path), allow_pickle=False) as z:
        if int(z["version"]) != _CHECKPOINT_VERSION:
            raise PDEBlocksError(f"checkpoint {path}: unknown version {int(z['version'])}")
        saved = json.loads(str(z["config"]))
        saved = {**_CONFIG_DEFAULTS, **saved}   # (settings added since: their value before)
        diff = {k: (saved.get(k), config[k]) for k in config if saved.get(k) != config[k]}
        if diff:
            raise PDEBlocksError(f"checkpoint {path} was written with other settings "
                                 f"(saved, now): {diff}; remove it or use another path")
        params = z["parameters"].copy()
        if params.size != size:
            raise PDEBlocksError(f"checkpoint {path} has {params.size} parameters, the model {size}")
        return (params, z["adam_m"].copy(), z["adam_v"].copy(), int(z["adam_t"]), int(z["step"]),
                json.loads(str(z["rng_state"])), list(z["losses"]), list(z["learning_rates"]))


def _bar(progress, total: int, initial: int):
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # optional, as in pdeblocks.progress: no bar, no error
        return None
    return tqdm(total=total, initial=initial, desc="fit", unit="step")


def fit(model, images, *, sigma: float, crop: int = 64, batch: int = 8, steps: int = 1000, lr: float = 1e-2,
        schedule="cosine", seed: int = 0, betas=(0.9, 0.999), checkpoint=None, checkpoint_every: int = 100,
        progress: bool = False, augment: bool = False, callback: Callable | None = None, project: Callable | None = None) -> History:
    """Train ``model`` (see the module docstring for the protocol) to denoise ``images``.

    Parameters
    ----------
    images : mapping name -> (H, W) array, or a sequence of them
        The training images (e.g. :func:`pdeblocks.datasets.training_images`), gray, finite.
    sigma : float
        Noise level on the [0, 1] scale (sigma = 25 on the 0-255 scale is ``25 / 255``).
    crop, batch, steps : int
        Crop side, crops per step, and Adam steps of the whole run.
    lr, schedule : float, str or callable
        Base learning rate and its schedule (:func:`learning_rate`: ``"cosine"`` default,
        ``"step"``, ``"constant"`` or ``schedule(step, steps) -> rate``).
    seed : int
        Seeds the one generator of crops and noise: equal seeds give equal parameters.
    augment : bool
        Map each crop by a random symmetry of the square (rotations by quarter turns, with
        or without a transposition; :func:`pdeblocks.datasets.random_crops`).
    checkpoint : path or None
        An ``.npz`` file with parameters, Adam state, step, RNG state and the losses so far,
        written atomically every ``checkpoint_every`` steps, when the callback stops the
        run, and at the end. If it exists when ``fit`` starts, the run resumes from it
        (it must have been written with the same settings, images and parameter count;
        otherwise ``PDEBlocksError``) and ends with the parameters of the uninterrupted run.
    progress : bool
        A tqdm bar (``tqdm.auto``) with loss and learning rate; without tqdm, nothing.
    callback : callable or None
        ``callback(step, loss, model)`` after each step (``step`` counts from 1); a truthy
        return ends the run early (``History.stopped``).
    project : callable or None
        ``project(p) -> p'`` applied to the parameters after each Adam step (e.g. clip step
        sizes into a certified bound); the result must keep the shape and be finite.

    A nonfinite loss or gradient raises ``PDEBlocksError``; the model then keeps the
    parameters of the previous step. Returns a :class:`History`.
    """
    _check_model(model)
    sigma = float(sigma)
    if not (math.isfinite(sigma) and 0 < sigma <= 1):
        raise PDEBlocksError(f"sigma is on the [0, 1] scale and must lie in (0, 1], got {sigma} "
                             "(sigma = 25 on the 0-255 scale is 25/255)")
    crop = _positive_int(crop, "crop")
    batch = _positive_int(batch, "batch")
    steps = _positive_int(steps, "steps", 0)
    checkpoint_every = _positive_int(checkpoint_every, "checkpoint_every")
    seed = _positive_int(seed, "seed", 0)
    lr = float(lr)
    if not (math.isfinite(lr) and lr > 0):
        raise PDEBlocksError(f"lr must be positive and finite, got {lr}")
    if not callable(schedule) and schedule not in SCHEDULES:
        raise PDEBlocksError(f"schedule must be one of {', '.join(SCHEDULES)} or a callable, got {schedule!r}")
    for name, fn in (("callback", callback), ("project", project)):
        if fn is not None and not callable(fn):
            raise PDEBlocksError(f"{name} must be callable or None")
    if not isinstance(augment, (bool, np.bool_)):
        raise PDEBlocksError(f"augment must be True or False, got {augment!r}")
    arrays = _images(images)
    if not any(a.shape[0] >= crop and a.shape[1] >= crop for a in arrays):
        raise PDEBlocksError(f"no image is at least {crop}x{crop}")

    params = _get_parameters(model)
    opt = Adam(lr=lr, betas=betas)
    rng = np.random.default_rng(seed)
    losses: list[float] = []
    lrs: list[float] = []
    start = 0
    config = dict(sigma=sigma, crop=crop, batch=batch, steps=steps, lr=lr, seed=seed, betas=list(map(float, betas)),
                  augment=bool(augment),
                  schedule=schedule if isinstance(schedule, str) else "callable",
                  images=_fingerprint(arrays) if checkpoint is not None else "")
    if checkpoint is not None and os.path.exists(checkpoint):
        params, opt.m, opt.v, opt.t, start, state, losses, lrs = _load(checkpoint, config, params.size)
        rng.bit_generator.state = state
        model.set_parameters(params)

    history = History(resumed_from=start)
    bar = _bar(progress, steps, start)
    save = (lambda step: _save(checkpoint, params=params, opt=opt, step=step, rng=rng, losses=losses,
                               lrs=lrs, config=config)) if checkpoint is not None else (lambda step: None)
    step = start
    try:
        while step < steps:
            rate = learning_rate(schedule, lr, step, steps)
            noisy, clean = noisy_pairs(random_crops(arrays, crop, batch, rng, augment=augment), sigma, rng)
            loss, grad = model.loss_and_gradient(noisy, clean)
            loss, grad = float(loss), np.asarray(grad, dtype=np.float64).reshape(-1)
            if grad.size != params.size:
                raise PDEBlocksError(f"the gradient has {grad.size} entries, the parameters {params.size}")
            if not (math.isfinite(loss) and np.all(np.isfinite(grad))):
                raise PDEBlocksError(f"step {step + 1}: nonfinite loss or gradient (loss = {loss}); "
                                     "the model keeps the parameters of the previous step")
            opt.lr = np.float64(rate)
            new = opt.step(params, grad)
            if project is not None:
                new = np.asarray(project(new), dtype=np.float64)
                if new.shape != params.shape or not np.all(np.isfinite(new)):
                    raise PDEBlocksError("project must return a finite vector of the parameters' shape")
            model.set_parameters(new)
            params = new
            losses.append(loss)
            lrs.append(rate)
            step += 1
            if bar is not None:
                bar.set_postfix(loss=f"{loss:.3e}", lr=f"{rate:.2e}", refresh=False)
                bar.update(1)
            if callback is not None and callback(step, loss, model):
                history.stopped = True
                break
            if step % checkpoint_every == 0 and step < steps:
                save(step)
        if step > start:
            save(step)
    finally:
        if bar is not None:
            bar.close()
    history.losses = np.asarray(losses, dtype=np.float64)
    history.learning_rates = np.asarray(lrs, dtype=np.float64)
    history.steps_done = step
    return history
