"""Fixed data split and evaluation for the digits loop. PROTECTED: the loop must never edit it.

The handwritten-digits set (8x8 images, 10 classes, 1,797 samples) ships with scikit-learn
(Debian: python3-sklearn), so nothing is downloaded. `python3 prepare.py` builds the split once
into a cache (numpy only afterwards: train.py never imports sklearn, which takes ~1 s to import).

Cache: $DIGITS_CACHE_DIR, else ~/.cache/ecv-digits. The split is a function of SPLIT_SEED
only, never of ECV_SEED: every run, reproduction and evaluation sees the same validation set.
"""

import os
import sys

import numpy as np

SPLIT_SEED = 20240611
TRAIN_SIZE = 500  # the rest (1,297) is the validation set
CACHE_VERSION = 1


def cache_path():
    root = os.environ.get("DIGITS_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "ecv-digits")
    return os.path.join(root, "digits-v%d-%d-%d.npz" % (CACHE_VERSION, SPLIT_SEED, TRAIN_SIZE))


def build_cache(path):
    """Stratified split of load_digits() by SPLIT_SEED; pixels scaled to [0, 1]. Atomic write."""
    from sklearn.datasets import load_digits  # only here: ~1 s to import

    d = load_digits()
    x = (d.data / 16.0).astype(np.float64)
    y = d.target.astype(np.int64)
    rng = np.random.default_rng(SPLIT_SEED)
    train_idx = []
    for c in range(10):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        train_idx.extend(idx[: round(TRAIN_SIZE * len(idx) / len(y))])
    train_idx = np.array(sorted(train_idx))
    mask = np.zeros(len(y), dtype=bool)
    mask[train_idx] = True
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = "%s.%d.tmp.npz" % (path, os.getpid())
    np.savez(tmp, x_train=x[mask], y_train=y[mask], x_val=x[~mask], y_val=y[~mask])
    os.replace(tmp, path)  # several runners may build it at once: last rename wins, same bytes


def load_data():
    """(x_train, y_train, x_val, y_val); builds the cache on first use."""
    path = cache_path()
    if not os.path.exists(path):
        build_cache(path)
    with np.load(path) as f:
        return f["x_train"], f["y_train"], f["x_val"], f["y_val"]


def evaluate(predict, x_val, y_val):
    """Validation accuracy of `predict(x) -> class ids`: the one metric of the loop."""
    pred = np.asarray(predict(x_val))
    if pred.shape != y_val.shape:
        raise ValueError("predict returned shape %s, expected %s" % (pred.shape, y_val.shape))
    return float(np.mean(pred == y_val))


if __name__ == "__main__":
    build_cache(cache_path())
    xt, yt, xv, yv = load_data()
    print("cache: %s\ntrain: %d\nval:   %d" % (cache_path(), len(yt), len(yv)), file=sys.stderr)
