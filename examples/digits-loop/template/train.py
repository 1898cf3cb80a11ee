"""A small MLP on the handwritten digits, in plain numpy: the file the research loop edits.

Output contract (what the loop and `ecv runner` parse): a line `val_accuracy: <x>` on stdout,
exit code 0; a diverged run exits 1 (a crash). ECV_SEED (default 0) seeds initialisation and
shuffling; the data split and the evaluation live in prepare.py (protected).
"""

import os

# One BLAS thread: deterministic for a given seed, and several runs can share a small machine.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from prepare import evaluate, load_data  # noqa: E402

# --- hyperparameters (the loop edits these lines) ---
LEARNING_RATE = 0.02
WIDTH = 32
DEPTH = 1
WEIGHT_DECAY = 0.0
EPOCHS = 8
BATCH_SIZE = 64
MOMENTUM = 0.9
ACTIVATION = "tanh"
INIT_SCALE = 1.0
LR_SCHEDULE = "constant"
DROPOUT = 0.0
INPUT_NOISE = 0.0
LABEL_SMOOTHING = 0.0
# --- end of hyperparameters ---

SEED = int(os.environ.get("ECV_SEED", "0"))
np.seterr(over="ignore", invalid="ignore")  # a diverging run ends as a crash below, quietly


def act(name, z):
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    if name == "tanh":
        return np.tanh(z)
    if name == "gelu":
        return 0.5 * z * (1.0 + np.tanh(0.7978845608 * (z + 0.044715 * z**3)))
    raise ValueError("unknown activation %r" % name)


def act_grad(name, z):
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, 0.01)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "gelu":
        t = np.tanh(0.7978845608 * (z + 0.044715 * z**3))
        return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t**2) * 0.7978845608 * (1.0 + 3 * 0.044715 * z**2)
    raise ValueError("unknown activation %r" % name)


def init_params(rng, sizes):
    """He init for ReLU-like units, Xavier for tanh; times INIT_SCALE."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        gain = 1.0 if ACTIVATION == "tanh" else 2.0
        w = rng.normal(0.0, INIT_SCALE * np.sqrt(gain / fan_in), size=(fan_in, fan_out))
        params.append([w, np.zeros(fan_out)])
    return params


def forward(params, x, rng=None):
    """Returns logits and the per-layer (input, pre-activation, dropout mask) cache. With `rng`
    (training), hidden units are dropped with probability DROPOUT (inverted dropout)."""
    cache = []
    h = x
    for w, b in params[:-1]:
        z = h @ w + b
        cache.append((h, z))
        h = act(ACTIVATION, z)
        if rng is not None and DROPOUT > 0:
            mask = (rng.random(h.shape) >= DROPOUT) / (1.0 - DROPOUT)
            h = h * mask
            cache[-1] = (cache[-1][0], z, mask)
    w, b = params[-1]
    cache.append((h, None))
    return h @ w + b, cache


def loss_and_grads(params, x, y, rng):
    logits, cache = forward(params, x, rng)
    logits = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    n = len(y)
    target = np.full((n, 10), LABEL_SMOOTHING / 10.0)
    target[np.arange(n), y] += 1.0 - LABEL_SMOOTHING
    loss = -np.mean(np.sum(target * np.log(p + 1e-12), axis=1))
    d = (p - target) / n
    grads = [None] * len(params)
    for i in range(len(params) - 1, -1, -1):
        h = cache[i][0]
        w, _b = params[i]
        grads[i] = [h.T @ d + WEIGHT_DECAY * w, d.sum(axis=0)]
        if i > 0:
            prev = cache[i - 1]
            d = (d @ w.T) * act_grad(ACTIVATION, prev[1])
            if len(prev) == 3:
                d = d * prev[2]
    return loss, grads


def augment(rng, x):
    """Training-time augmentation: Gaussian pixel noise of sd INPUT_NOISE."""
    if INPUT_NOISE > 0:
        x = x + rng.normal(0.0, INPUT_NOISE, size=x.shape)
    return x


def lr_at(step, total):
    if LR_SCHEDULE == "constant":
        return LEARNING_RATE
    if LR_SCHEDULE == "cosine":
        return LEARNING_RATE * 0.5 * (1.0 + np.cos(np.pi * step / total))
    if LR_SCHEDULE == "linear":
        return LEARNING_RATE * (1.0 - step / total)
    raise ValueError("unknown LR_SCHEDULE %r" % LR_SCHEDULE)


def main():
    t0 = time.time()
    x_train, y_train, x_val, y_val = load_data()
    rng = np.random.default_rng(SEED)
    params = init_params(rng, [x_train.shape[1]] + [WIDTH] * DEPTH + [10])
    velocity = [[np.zeros_like(w), np.zeros_like(b)] for w, b in params]
    steps_per_epoch = int(np.ceil(len(y_train) / BATCH_SIZE))
    total = EPOCHS * steps_per_epoch
    step = 0
    t1 = time.time()
    for _epoch in range(EPOCHS):
        order = rng.permutation(len(y_train))
        for s in range(steps_per_epoch):
            idx = order[s * BATCH_SIZE : (s + 1) * BATCH_SIZE]
            loss, grads = loss_and_grads(params, augment(rng, x_train[idx]), y_train[idx], rng)
            if not np.isfinite(loss):
                print("FAIL: loss diverged at step %d" % step)
                sys.exit(1)
            lr = lr_at(step, total)
            for (w, b), (gw, gb), v in zip(params, grads, velocity):
                v[0] = MOMENTUM * v[0] - lr * gw
                v[1] = MOMENTUM * v[1] - lr * gb
                w += v[0]
                b += v[1]
            step += 1
    training_seconds = time.time() - t1

    def predict(x):
        return forward(params, x)[0].argmax(axis=1)

    acc = evaluate(predict, x_val, y_val)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB
    print("---")
    print("val_accuracy:     %.6f" % acc)
    print("training_seconds: %.2f" % training_seconds)
    print("total_seconds:    %.2f" % (time.time() - t0))
    print("peak_memory_mb:   %.1f" % peak_mb)
    print("num_steps:        %d" % step)
    print("num_params:       %d" % sum(w.size + b.size for w, b in params))
    print("seed:             %d" % SEED)


if __name__ == "__main__":
    main()
