"""pdeblocks.train.fit on a real two-block image denoiser (tiny_denoiser.TinyDenoiser):
training lowers a held-out loss, a seed fixes the run, a checkpoint resumes it bitwise,
the learning-rate schedules equal their numpy transcriptions, bad input is refused."""
import math

import numpy as np
import pytest

pytest.importorskip("skimage")

from pdeblocks import PDEBlocksError
from pdeblocks import datasets as D
from pdeblocks import train as T
from tiny_denoiser import TinyDenoiser

SIGMA = 25 / 255
RUN = dict(sigma=SIGMA, crop=16, batch=4, steps=30, lr=0.03)


@pytest.fixture(scope="module")
def images():
    # a few training images keep the crops cheap; nothing from the test split
    return {k: v for k, v in D.training_images().items() if k in ("brick", "chelsea", "page", "rocket")}


def heldout_loss(model, images):
    """The loss on a fixed batch of training crops never drawn by the runs below (own seed)."""
    clean = D.random_crops(images, 48, 8, 999)
    noisy, _ = D.noisy_pairs(clean, SIGMA, 1000)
    return model.loss_and_gradient(noisy, clean)[0]


def test_tiny_denoiser_gradient_matches_central_differences(images):
    m = TinyDenoiser()
    clean = D.random_crops(images, 10, 2, 0)
    noisy, _ = D.noisy_pairs(clean, SIGMA, 1)
    _, g = m.loss_and_gradient(noisy, clean)
    p, e = m.parameters, 1e-6
    num = np.empty_like(p)
    for i in range(p.size):
        vals = []
        for s in (e, -e):
            q = p.copy()
            q[i] += s
            m.set_parameters(q)
            vals.append(m.loss_and_gradient(noisy, clean)[0])
        num[i] = (vals[0] - vals[1]) / (2 * e)
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-9 * np.abs(g).max())


@pytest.mark.parametrize("seed", [0, 1])
def test_training_lowers_the_heldout_loss(images, seed):
    m = TinyDenoiser(tau=0.02)     # a weak start: too little smoothing for sigma = 25
    before = heldout_loss(m, images)
    h = T.fit(m, images, seed=seed, **RUN)
    after = heldout_loss(m, images)
    assert h.losses.shape == (30,) and np.all(np.isfinite(h.losses))
    assert after < 0.5 * before, (before, after)
    assert np.mean(h.losses[-10:]) < np.mean(h.losses[:10])
    # and the trained network denoises: far below the noise's own loss sigma^2 / 2
    assert after < 0.5 * (0.5 * SIGMA ** 2)


def test_equal_seeds_give_identical_parameters(images):
    a, b, c = TinyDenoiser(), TinyDenoiser(), TinyDenoiser()
    ha = T.fit(a, images, seed=4, **RUN)
    hb = T.fit(b, images, seed=4, **RUN)
    T.fit(c, images, seed=5, **RUN)
    assert np.array_equal(a.parameters, b.parameters)
    assert np.array_equal(ha.losses, hb.losses)
    assert not np.array_equal(a.parameters, c.parameters)


class Crash(Exception):
    pass


@pytest.mark.parametrize("how", ["callback_stop", "crash"])
def test_resume_from_checkpoint_equals_the_uninterrupted_run(images, tmp_path, how):
    whole = TinyDenoiser()
    full = T.fit(whole, images, seed=2, schedule="cosine", **RUN)

    path = tmp_path / "run.npz"
    first = TinyDenoiser()
    if how == "callback_stop":     # stopped by the callback at step 13: checkpoint at 13
        h = T.fit(first, images, seed=2, checkpoint=path, checkpoint_every=5,
                  callback=lambda step, loss, model: step == 13, **RUN)
        assert h.stopped and h.steps_done == 13
        expected_start = 13
    else:                          # an exception at step 13: the last checkpoint is step 10

        def boom(step, loss, model):
            if step == 13:
                raise Crash
        with pytest.raises(Crash):
            T.fit(first, images, seed=2, checkpoint=path, checkpoint_every=5, callback=boom, **RUN)
        expected_start = 10
    assert path.exists() and not (tmp_path / "run.npz.tmp").exists()

    resumed = TinyDenoiser()       # a fresh model: everything comes from the checkpoint
    h = T.fit(resumed, images, seed=2, schedule="cosine", checkpoint=path, checkpoint_every=5, **RUN)
    assert h.resumed_from == expected_start and h.steps_done == 30 and not h.stopped
    assert np.array_equal(resumed.parameters, whole.parameters)
    assert np.array_equal(h.losses, full.losses) and np.array_equal(h.learning_rates, full.learning_rates)

    again = TinyDenoiser()         # a finished checkpoint: nothing left to do, same parameters
    h2 = T.fit(again, images, seed=2, checkpoint=path, **RUN)
    assert h2.resumed_from == 30 and np.array_equal(again.parameters, whole.parameters)


def test_checkpoint_with_other_settings_is_refused(images, tmp_path):
    path = tmp_path / "run.npz"
    T.fit(TinyDenoiser(), images, seed=0, checkpoint=path, **{**RUN, "steps": 3})
    m = TinyDenoiser()
    p0 = m.parameters
    with pytest.raises(PDEBlocksError, match="other settings"):
        T.fit(m, images, seed=1, checkpoint=path, **{**RUN, "steps": 3})
    with pytest.raises(PDEBlocksError, match="other settings"):
        T.fit(m, {"brick": images["brick"]}, seed=0, checkpoint=path, **{**RUN, "steps": 3})
    with pytest.raises(PDEBlocksError, match="augment"):
        T.fit(m, images, seed=0, checkpoint=path, augment=True, **{**RUN, "steps": 3})
    assert np.array_equal(m.parameters, p0)


def test_augmented_runs_draw_symmetric_crops_and_resume_bitwise(images, tmp_path, monkeypatch):
    """``augment`` hands each step's crops through ``random_crops(..., augment=True)`` (the
    same draws, so the run equals one fed those crops), and its checkpoints resume it."""
    seen = []
    real = D.random_crops

    def spy(*args, **kwargs):
        seen.append(kwargs.get("augment"))
        return real(*args, **kwargs)
    monkeypatch.setattr(T, "random_crops", spy)
    a = TinyDenoiser()
    T.fit(a, images, seed=3, augment=True, **RUN)
    assert seen == [True] * RUN["steps"]
    monkeypatch.setattr(T, "random_crops", real)
    b = TinyDenoiser()
    T.fit(b, images, seed=3, **RUN)
    assert not np.array_equal(a.parameters, b.parameters)
    path = tmp_path / "aug.npz"
    c = TinyDenoiser()
    T.fit(c, images, seed=3, augment=True, checkpoint=path, checkpoint_every=7,
          callback=lambda step, loss, model: step == 12, **RUN)
    d = TinyDenoiser()
    T.fit(d, images, seed=3, augment=True, checkpoint=path, **RUN)
    assert np.array_equal(d.parameters, a.parameters)


def test_schedules_equal_their_numpy_transcriptions(images):
    lr, n = 0.05, 40
    k = np.arange(n)
    expected = {
        "constant": np.full(n, lr),
        "cosine": lr * (0.01 + 0.99 * 0.5 * (1 + np.cos(np.pi * k / n))),
        "step": lr * np.where(k < 20, 1.0, np.where(k < 30, 0.1, 0.01)),
    }
    for name, want in expected.items():
        got = np.array([T.learning_rate(name, lr, int(i), n) for i in k])
        np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)
    h = T.fit(TinyDenoiser(), images, seed=0, schedule="step", **{**RUN, "steps": n, "lr": lr})
    np.testing.assert_allclose(h.learning_rates, expected["step"], rtol=1e-15, atol=0)
    h = T.fit(TinyDenoiser(), images, seed=0, schedule=lambda s, total: 1e-3 / (1 + s), **{**RUN, "steps": 5})
    np.testing.assert_allclose(h.learning_rates, 1e-3 / (1 + np.arange(5)), rtol=1e-15)


def test_project_is_applied_after_every_step(images):
    m = TinyDenoiser()
    bound = 0.9
    seen = []

    def project(p):
        q = np.clip(p, -bound, bound)
        seen.append(q.copy())
        return q
    T.fit(m, images, seed=0, project=project, callback=lambda s, l, model: seen.append(model.parameters),
          **{**RUN, "steps": 6})
    assert len(seen) == 12 and np.all(np.abs(m.parameters) <= bound)
    for projected, held in zip(seen[::2], seen[1::2]):
        assert np.array_equal(projected, held)        # the model holds the projected vector


def test_progress_bar_reports_steps(images, capsys):
    pytest.importorskip("tqdm")
    T.fit(TinyDenoiser(), images, seed=0, progress=True, **{**RUN, "steps": 3})
    assert "3/3" in capsys.readouterr().err


@pytest.mark.parametrize("change, match", [
    (dict(sigma=25.0), "sigma"), (dict(sigma=0.0), "sigma"), (dict(crop=0), "crop"), (dict(batch=0), "batch"),
    (dict(steps=-1), "steps"), (dict(lr=0.0), "lr"), (dict(lr=math.inf), "lr"), (dict(schedule="linear"), "schedule"),
    (dict(crop=5000), "no image"), (dict(checkpoint_every=0), "checkpoint_every"), (dict(seed=-1), "seed"),
    (dict(project=3), "project"), (dict(augment="yes"), "augment"),
])
def test_bad_arguments_raise_and_change_nothing(images, change, match):
    m = TinyDenoiser()
    p0 = m.parameters
    with pytest.raises(PDEBlocksError, match=match):
        T.fit(m, images, **{**RUN, "seed": 0, **change})
    assert np.array_equal(m.parameters, p0)


def test_a_model_without_the_protocol_is_refused(images):
    with pytest.raises(PDEBlocksError, match="loss_and_gradient"):
        T.fit(object(), images, **RUN)
    with pytest.raises(PDEBlocksError, match="empty"):
        T.fit(TinyDenoiser(), {}, **RUN)


def test_a_nonfinite_loss_stops_with_the_last_good_parameters(images):
    m = TinyDenoiser()
    real = m.loss_and_gradient
    calls = []

    def flaky(noisy, clean):
        calls.append(1)
        loss, g = real(noisy, clean)
        return (math.nan, g) if len(calls) == 4 else (loss, g)
    m.loss_and_gradient = flaky
    kept = []
    with pytest.raises(PDEBlocksError, match="nonfinite"):
        T.fit(m, images, seed=0, callback=lambda s, l, model: kept.append(model.parameters), **RUN)
    assert len(kept) == 3 and np.array_equal(m.parameters, kept[-1])
