"""The digits MLP in PyTorch, for a GPU runner. NOT RUN in this project's validation (no GPU and
no torch on the machine that produced docs/validation.md); it is the same experiment with the
same knobs and the same output contract as template/train.py, so loop.py, `ecv runner` and
evaluate.py work unchanged:

- a line `val_accuracy: <x>` on stdout and exit 0; a diverged run exits 1;
- ECV_SEED (default 0) seeds initialisation, dropout, noise and shuffling;
- prepare.py (protected) provides the split and the evaluation.

Use it as train.py: `run-loop.sh -T gpu/train_torch.py -R "--gpus 0 --labels gpu=H100"`.
Determinism on CUDA needs CUBLAS_WORKSPACE_CONFIG and deterministic algorithms (set below);
even so, another GPU model or driver may give other values for one seed: that is what
reproductions on other hardware are for.
"""

import os

os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

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
ACTS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.01), "tanh": nn.Tanh, "gelu": lambda: nn.GELU(approximate="tanh")}


def build(device):
    layers, fan_in = [], 64
    for _ in range(DEPTH):
        lin = nn.Linear(fan_in, WIDTH)
        gain = 1.0 if ACTIVATION == "tanh" else 2.0
        nn.init.normal_(lin.weight, 0.0, INIT_SCALE * (gain / fan_in) ** 0.5)
        nn.init.zeros_(lin.bias)
        layers += [lin, ACTS[ACTIVATION](), nn.Dropout(DROPOUT)]
        fan_in = WIDTH
    out = nn.Linear(fan_in, 10)
    nn.init.normal_(out.weight, 0.0, INIT_SCALE * (2.0 / fan_in) ** 0.5)
    nn.init.zeros_(out.bias)
    return nn.Sequential(*layers, out).to(device)


def main():
    t0 = time.time()
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    x_train, y_train, x_val, y_val = load_data()
    xt = torch.tensor(x_train, dtype=torch.float32, device=device)
    yt = torch.tensor(y_train, dtype=torch.long, device=device)
    model = build(device)
    opt = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    steps_per_epoch = (len(yt) + BATCH_SIZE - 1) // BATCH_SIZE
    total = EPOCHS * steps_per_epoch
    sched = {
        "constant": lambda s: 1.0,
        "cosine": lambda s: 0.5 * (1.0 + np.cos(np.pi * s / total)),
        "linear": lambda s: 1.0 - s / total,
    }[LR_SCHEDULE]
    lr_sched = torch.optim.lr_scheduler.LambdaLR(opt, sched)
    gen = torch.Generator(device=device).manual_seed(SEED)
    step = 0
    t1 = time.time()
    model.train()
    for _epoch in range(EPOCHS):
        order = torch.randperm(len(yt), device=device, generator=gen)
        for s in range(steps_per_epoch):
            idx = order[s * BATCH_SIZE : (s + 1) * BATCH_SIZE]
            x = xt[idx]
            if INPUT_NOISE > 0:
                x = x + INPUT_NOISE * torch.randn(x.shape, device=device, generator=gen)
            loss = F.cross_entropy(model(x), yt[idx], label_smoothing=LABEL_SMOOTHING)
            if not torch.isfinite(loss):
                print("FAIL: loss diverged at step %d" % step)
                sys.exit(1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            lr_sched.step()
            step += 1
    if device.type == "cuda":
        torch.cuda.synchronize()
    training_seconds = time.time() - t1
    model.eval()

    def predict(x):
        with torch.no_grad():
            return model(torch.tensor(x, dtype=torch.float32, device=device)).argmax(dim=1).cpu().numpy()

    acc = evaluate(predict, x_val, y_val)
    peak_mb = (torch.cuda.max_memory_allocated() / 2**20) if device.type == "cuda" else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("---")
    print("val_accuracy:     %.6f" % acc)
    print("training_seconds: %.2f" % training_seconds)
    print("total_seconds:    %.2f" % (time.time() - t0))
    print("peak_memory_mb:   %.1f" % peak_mb)
    print("num_steps:        %d" % step)
    print("num_params:       %d" % sum(p.numel() for p in model.parameters()))
    print("device:           %s" % device)
    print("seed:             %d" % SEED)


if __name__ == "__main__":
    main()
