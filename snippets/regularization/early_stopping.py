r"""Early stopping: stop training when the validation loss stops improving, keep the best weights.

Reference: L. Prechelt, "Early Stopping - But When?", in Neural Networks: Tricks of the Trade,
1998. Checked against Keras 3's `keras.callbacks.EarlyStopping` (PyTorch has no built-in).
"""

# --8<-- [start:impl]
# --8<-- [start:early_stopping]
import math

import numpy as np


class EarlyStopping:
    r"""Patience-based early stopping on a monitored value, one call per epoch.

    An epoch improves when its value beats the best so far by more than `min_delta`:

    $$v_t < v_{\text{best}} - \delta \ \text{(mode "min")}, \qquad
    v_t > v_{\text{best}} + \delta \ \text{(mode "max")}$$

    Training stops at the first epoch that ends a run of `max(patience, 1)` epochs
    without improvement. A NaN is never an improvement.

    Args:
        patience: epochs without improvement to allow, an integer >= 0 (0 acts as 1).
        min_delta: how much better than the best a value must be, >= 0.
        mode: "min" for a loss, "max" for an accuracy.
        start_from_epoch: epochs before this one (counted from 0) are ignored.
    """

    def __init__(self, patience=0, min_delta=0.0, mode="min", start_from_epoch=0):
        if int(patience) != patience or patience < 0:
            raise ValueError(f"patience must be an integer >= 0, got {patience}")
        if not min_delta >= 0 or math.isinf(min_delta):  # also refuses NaN
            raise ValueError(f"min_delta must be finite and >= 0, got {min_delta}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.patience, self.min_delta = patience, min_delta
        self.start = start_from_epoch
        self.sign = 1.0 if mode == "min" else -1.0  # compare sign * value: lower wins
        self.best, self.best_epoch, self.best_weights = math.inf, None, None
        self.wait, self.epoch = 0, -1  # epochs since the best; the current epoch

    def step(self, value, weights=None):
        """Record one epoch's value (and weights); True means stop training."""
        self.epoch += 1
        if self.epoch < self.start:
            return False
        if self.sign * value < self.best - self.min_delta:  # False for NaN
            self.best, self.best_epoch, self.wait = self.sign * value, self.epoch, 0
            if weights is not None:
                self.best_weights = [np.array(w, copy=True) for w in weights]
            return False
        self.wait += 1
        return self.wait >= max(self.patience, 1)
# --8<-- [end:early_stopping]
# --8<-- [end:impl]


# --8<-- [start:problem]
def polynomial_problem(seed=0, n_train=12, n_val=200, degree=11, noise=0.3):
    """Noisy samples of sin(3x) on [-1, 1], as Legendre features up to `degree`."""
    rng = np.random.default_rng(seed)

    def sample(n):  # x uniform on [-1, 1], y = sin(3x) + noise
        x = rng.uniform(-1, 1, n)
        return x, np.sin(3 * x) + rng.normal(0, noise, n)

    (x_tr, y_tr), (x_va, y_va) = sample(n_train), sample(n_val)
    legendre = np.polynomial.legendre.legvander
    return legendre(x_tr, degree), y_tr, legendre(x_va, degree), y_va  # (n, degree + 1)
# --8<-- [end:problem]


# --8<-- [start:train]
def train(stopper=None, epochs=300, seed=0, train_losses=None):
    """Full-batch gradient descent on the mean squared error; one step is one epoch.

    Returns the validation losses of the epochs run and the weights it ends with: the
    stopper's best weights, restored, when it has any. Appends the training losses to
    `train_losses` if given."""
    P_tr, y_tr, P_va, y_va = polynomial_problem(seed)
    lr = 1 / np.linalg.eigvalsh(P_tr.T @ P_tr / len(y_tr)).max()
    w, val = np.zeros(P_tr.shape[1]), []
    for _ in range(epochs):
        w = w - lr * P_tr.T @ (P_tr @ w - y_tr) / len(y_tr)
        val.append(np.mean((P_va @ w - y_va) ** 2))
        if train_losses is not None:
            train_losses.append(np.mean((P_tr @ w - y_tr) ** 2))
        if stopper is not None and stopper.step(val[-1], [w]):
            break
    if stopper is not None and stopper.best_weights is not None:
        w = stopper.best_weights[0]  # restore, whether or not it stopped early
    return np.array(val), w
# --8<-- [end:train]


# --8<-- [start:keras_run]
def keras_run(values, restore_best_weights=True, **kwargs):
    """Feed validation losses to Keras's EarlyStopping, as `model.fit` would.

    The model has one weight, set to the epoch number before each epoch ends. Returns
    (stop epoch or None, the epoch whose weights remain)."""
    import keras

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    callback = keras.callbacks.EarlyStopping(
        restore_best_weights=restore_best_weights, **kwargs)
    callback.set_model(model)
    model.stop_training = False  # as model.fit sets it
    callback.on_train_begin()
    stopped = None
    for epoch, value in enumerate(values):
        model.set_weights([np.full((1, 1), float(epoch))])  # "training" for one epoch
        callback.on_epoch_end(epoch, {"val_loss": float(value)})
        if model.stop_training:
            stopped = epoch
            break
    callback.on_train_end()
    return stopped, int(model.get_weights()[0][0, 0])
# --8<-- [end:keras_run]


# --8<-- [start:ours_run]
def ours_run(values, **kwargs):
    """The same protocol with our class: (stop epoch or None, restored epoch)."""
    stopper, stopped, weights = EarlyStopping(**kwargs), None, None
    for epoch, value in enumerate(values):
        weights = [np.full((1, 1), float(epoch))]
        if stopper.step(value, weights):
            stopped = epoch
            break
    final = stopper.best_weights if stopper.best_weights is not None else weights
    return stopped, int(final[0][0, 0])
# --8<-- [end:ours_run]


# --8<-- [start:check_cases]
def check_cases():
    """Validation curves and settings on which ours and Keras's must agree."""
    val, _ = train()
    nan_mid = [1.0, 0.8, float("nan"), 0.9, 0.7, 0.75, 0.76, 0.8]
    ties = [1.0, 0.9995, 0.999, 0.998, 0.9975, 0.9, 0.95, 0.96]
    accuracy = [0.5, 0.6, 0.7, 0.69, 0.7, 0.71, 0.65, 0.6]
    return [
        (val, {"patience": p, "min_delta": d})
        for p in (0, 1, 10, 30) for d in (0.0, 1e-3)
    ] + [
        (val, {"patience": 10, "start_from_epoch": 50}),
        (val[:40], {"patience": 100}),  # the run ends before patience runs out
        (np.linspace(1, 2, 20), {"patience": 5}),  # never improves after epoch 0
        (nan_mid, {"patience": 2}),
        (ties, {"patience": 2, "min_delta": 0.001}),
        (accuracy, {"patience": 2, "mode": "max"}),  # an accuracy: higher is better
    ]
# --8<-- [end:check_cases]


if __name__ == "__main__":
    # --8<-- [start:demo]
    val_all, _ = train()  # no early stopping: all 300 epochs
    print(f"without stopping: best val {val_all.min():.4f} at epoch {val_all.argmin()}, "
          f"last epoch {val_all[-1]:.4f}")
    for patience, min_delta in [(0, 0.0), (10, 0.0), (30, 0.0), (10, 1e-3)]:
        stopper = EarlyStopping(patience=patience, min_delta=min_delta)
        val, w = train(stopper)
        restored = val[stopper.best_epoch]
        print(f"patience {patience:2d}, min_delta {min_delta:g}: stopped at epoch "
              f"{len(val) - 1:3d}, best epoch {stopper.best_epoch:3d}, val {restored:.4f}")
    # --8<-- [end:demo]

    # --8<-- [start:check]
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")  # before Keras is first imported
    print("checked against keras.callbacks.EarlyStopping")
    worst, cases = 0, check_cases()
    for values, kwargs in cases:
        ours, theirs = ours_run(values, **kwargs), keras_run(values, **kwargs)
        stops = [-1 if r[0] is None else r[0] for r in (ours, theirs)]  # None: ran out
        worst = max(worst, abs(stops[0] - stops[1]), abs(ours[1] - theirs[1]))
    print(f"stop epoch and restored epoch over {len(cases)} curves:")
    print(f"exact: max |ours - reference| value {worst}")
    # --8<-- [end:check]
