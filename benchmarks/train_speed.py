"""Training speed: tuner against scikit-learn's MLPClassifier and against the matmuls alone.

The same network (one ReLU hidden layer, softmax cross-entropy, no weight decay) is trained on
the same standardised splits by ``tuner.train.train`` and by ``MLPClassifier`` with the same
layers, batch size, optimizer and learning rate, for the same number of epochs. A third timing
runs only the matrix multiplications of the epoch tuner runs: the forward and backward products
of one epoch of minibatches of the same shapes (preallocated outputs, contiguous batches), and
the forward products of the validation pass ``train`` makes after every epoch: the BLAS cost no
implementation can avoid.

A fourth trains the same network with the same optimizer as a lean hand-written NumPy loop
(``run_lean``): the kind of code the issue's targets were measured with, doing only what
training needs. Its epoch shows what NumPy's per-call cost leaves possible here, and tuner's
against it what ``train``'s validation pass, loss value, checks and generality cost.

Everything runs on one BLAS thread, in one process, interleaved: each repeat times every
configuration once with every contender, alternating which library goes first, and the table
quotes medians over repeats. Run from the repository root::

    .venv/bin/python benchmarks/train_speed.py            # default, a few minutes
    .venv/bin/python benchmarks/train_speed.py --quick    # fewer repeats

scikit-learn is timed with one ``fit`` of ``max_iter=epochs`` epochs (``tol=0`` and a huge
``n_iter_no_change``, so it runs them all), divided by the number of epochs: its real per-epoch
cost, on its real training. A loop of one-epoch calls would change both: ``partial_fit``
re-seeds the shuffle from ``random_state`` on every call (the same order every epoch) and adds
an input validation per epoch; ``fit`` with ``warm_start`` restarts Adam's moments every call.
tuner's epoch likewise is ``train(...)``'s wall time over the epochs. It includes two things
scikit-learn's epoch has no counterpart for or that tuner's own code cannot change: the
validation pass ``train`` makes after every epoch (scikit-learn without early stopping makes
none) and the optimizer's steps (``tuner.optim``). The table shows both timed alone ("val ms",
"opt ms"), tuner's epoch without its validation pass against scikit-learn's ("w/o val"), and
the rest of tuner's epoch — gathering the minibatches, forward, loss, backward — against the
training matmuls ("core/mm").
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")          # before NumPy loads its BLAS

import argparse
import math
import platform
import statistics
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_info, threadpool_limits

from tuner.models import build_model
from tuner.optim import create
from tuner.tasks import Splits, load_task
from tuner.train import evaluate, train


@dataclass(frozen=True)
class Size:
    """A data set and the network trained on it: ``n_features → hidden → n_classes``."""

    name: str
    task: str
    hidden: int
    batch_size: int
    dtypes: tuple[str, ...]
    ratio_target: dict[str, float]     # dtype → largest tuner/sklearn epoch ratio allowed
    matmul_target: float | None        # largest tuner/matmul epoch ratio allowed


SIZES = (
    Size("digits", "digits", 128, 32, ("float64", "float32"),
         {"float64": 0.35, "float32": 0.30}, None),
    Size("large", "synthetic", 256, 256, ("float32",), {"float32": 0.5}, 1.5),
)


@dataclass(frozen=True)
class Optimizer:
    """One optimizer as each library names it, at one learning rate."""

    name: str
    tuner: str
    sklearn: dict
    lr: float


OPTIMIZERS = (
    Optimizer("adam", "adam", {"solver": "adam"}, 1e-3),
    Optimizer("nesterov", "nesterov",
              {"solver": "sgd", "momentum": 0.9, "nesterovs_momentum": True}, 1e-2),
)
MOMENTUM = 0.9
ACCURACY_TOLERANCE = 0.01      # "equal accuracy": within one percentage point


@dataclass(frozen=True)
class Config:
    size: Size
    dtype: str
    opt: Optimizer
    data: Splits               # the task's splits in ``dtype``, shared by both libraries


@dataclass(frozen=True)
class Run:
    """One timed training run: seconds per epoch and test accuracy after the last epoch."""

    epoch_seconds: float
    accuracy: float


def build(cfg: Config):
    """tuner's model and optimizer for ``cfg``, as the benchmark trains them."""
    data = cfg.data
    model = build_model("mlp", data.n_features, data.n_outputs, hidden=(cfg.size.hidden,),
                        dtype=cfg.dtype, seed=0)
    hyper = {"momentum": MOMENTUM} if cfg.opt.tuner == "nesterov" else {}
    return model, create(cfg.opt.tuner, model.params, lr=cfg.opt.lr, **hyper)


def run_tuner(cfg: Config, epochs: int) -> Run:
    data = cfg.data
    model, opt = build(cfg)
    started = time.perf_counter()
    history = train(model, opt, data, epochs=epochs, batch_size=cfg.size.batch_size,
                    metric="accuracy", seed=0)
    seconds = time.perf_counter() - started
    if history.diverged or len(history.records) != epochs:
        raise RuntimeError(f"tuner run {cfg.size.name}/{cfg.dtype}/{cfg.opt.name} diverged")
    accuracy = float(np.mean(model.predict(data.X_test) == data.y_test))
    return Run(seconds / epochs, accuracy)


def run_sklearn(cfg: Config, epochs: int) -> Run:
    data = cfg.data
    clf = MLPClassifier(hidden_layer_sizes=(cfg.size.hidden,), activation="relu", alpha=0.0,
                        batch_size=cfg.size.batch_size, learning_rate="constant",
                        learning_rate_init=cfg.opt.lr, max_iter=epochs, shuffle=True,
                        random_state=0, tol=0.0, n_iter_no_change=10**9,
                        early_stopping=False, **cfg.opt.sklearn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)   # max_iter reached, as intended
        started = time.perf_counter()
        clf.fit(data.X_train, data.y_train)
        seconds = time.perf_counter() - started
    if clf.n_iter_ != epochs or clf.coefs_[0].dtype != np.dtype(cfg.dtype):
        raise RuntimeError(f"scikit-learn ran {clf.n_iter_} epochs in {clf.coefs_[0].dtype}")
    return Run(seconds / epochs, float(clf.score(data.X_test, data.y_test)))


def run_lean(cfg: Config, epochs: int) -> Run:
    """The same training as a lean hand-written NumPy loop — the kind of code the targets were
    set with — doing only what training needs: one flat parameter buffer updated in place,
    each bias a row of its weights (the inputs carry a column of ones), preallocated
    activations, transposed logits; no loss value, no validation pass, no divergence check, no
    schedule, no records. The optimizer is PyTorch's update written out (Adam with eps outside
    the bias-corrected root; SGD's Nesterov form ``g + μ·b``). Its epoch is what NumPy's
    per-call cost leaves possible here, before anything tuner's ``train`` adds."""
    data, dtype, batch = cfg.data, np.dtype(cfg.dtype), cfg.size.batch_size
    n, n_in = data.X_train.shape
    n_hidden, n_out = cfg.size.hidden, data.n_outputs
    rng = np.random.default_rng(0)
    X1 = np.hstack([data.X_train, np.ones((n, 1))]).astype(dtype)
    split = (n_in + 1) * n_hidden
    params = np.empty(split + (n_hidden + 1) * n_out, dtype)
    grads, work = np.zeros_like(params), np.zeros_like(params)
    m, v = np.zeros_like(params), np.zeros_like(params)     # Adam's moments; m: SGD's buffer
    W1, W2 = params[:split].reshape(n_in + 1, n_hidden), params[split:].reshape(n_hidden + 1, n_out)
    G1, G2 = grads[:split].reshape(W1.shape), grads[split:].reshape(W2.shape)
    W1[...] = rng.uniform(-1, 1, W1.shape) / np.sqrt(n_in)
    W2[...] = rng.uniform(-1, 1, W2.shape) / np.sqrt(n_hidden)
    H1 = np.ones((batch, n_hidden + 1), dtype)             # hidden output, column of ones
    Zt = np.empty((n_out, batch), dtype)
    D1 = np.empty((batch, n_hidden), dtype)
    rows = np.arange(batch)
    lr, adam, t = cfg.opt.lr, cfg.opt.tuner == "adam", 0
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    started = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(n)
        Xs, ys = np.take(X1, order, axis=0), np.take(data.y_train, order)
        for start in range(0, n, batch):
            x, y = Xs[start:start + batch], ys[start:start + batch]
            b = len(y)
            h1, zt, d1 = H1[:b], Zt[:, :b], D1[:b]
            h = h1[:, :n_hidden]
            np.matmul(x, W1, out=h)
            np.maximum(h, 0, out=h)
            np.matmul(W2.T, h1.T, out=zt)                  # logits transposed
            zt -= zt.max(axis=0)
            np.exp(zt, out=zt)
            zt /= zt.sum(axis=0)                           # softmax
            zt[y, rows[:b]] -= 1.0
            zt /= b                                        # ∂L/∂z
            np.matmul(h1.T, zt.T, out=G2)
            np.matmul(zt.T, W2[:n_hidden].T, out=d1)
            d1 *= h > 0
            np.matmul(x.T, d1, out=G1)
            t += 1
            if adam:
                m *= beta1
                m += np.multiply(grads, 1 - beta1, out=work)
                v *= beta2
                np.multiply(grads, grads, out=work)
                work *= 1 - beta2
                v += work
                c = math.sqrt(1 - beta2 ** t)
                np.sqrt(v, out=work)
                work += eps * c
                np.divide(m, work, out=work)
                work *= -lr * c / (1 - beta1 ** t)
                params += work
            else:
                if t == 1:
                    m[...] = grads
                else:
                    m *= MOMENTUM
                    m += grads
                np.multiply(m, MOMENTUM, out=work)
                work += grads
                work *= lr
                params -= work
    seconds = (time.perf_counter() - started) / epochs
    hidden = np.maximum(data.X_test.astype(dtype) @ W1[:n_in] + W1[n_in], 0)
    logits = hidden @ W2[:n_hidden] + W2[n_hidden]
    return Run(seconds, float(np.mean(logits.argmax(axis=1) == data.y_test)))


def matmul_epoch_seconds(cfg: Config, epochs: int) -> tuple[float, float]:
    """Seconds per epoch of only the network's matmuls: training, and the validation pass.

    Per batch: ``H = X·W₁``, ``Z = H·W₂`` forward; ``∂W₂ = Hᵀ·Δ₂``, ``Δ₁ = Δ₂·W₂ᵀ``,
    ``∂W₁ = Xᵀ·Δ₁`` backward (no input gradient for the first layer), into preallocated outputs.
    Validation: ``H = X_val·W₁``, ``Z = H·W₂`` on the whole split.
    """
    data, dtype, batch = cfg.data, np.dtype(cfg.dtype), cfg.size.batch_size
    n, n_in = data.X_train.shape
    n_hidden, n_out = cfg.size.hidden, data.n_outputs
    rng = np.random.default_rng(0)
    X = data.X_train[rng.permutation(n)]                  # shuffled once, batches contiguous
    W1 = rng.standard_normal((n_in, n_hidden)).astype(dtype)
    W2 = rng.standard_normal((n_hidden, n_out)).astype(dtype)
    H = np.empty((batch, n_hidden), dtype)
    Z = np.empty((batch, n_out), dtype)
    D2 = rng.standard_normal((batch, n_out)).astype(dtype)
    D1 = np.empty((batch, n_hidden), dtype)
    gW1, gW2 = np.empty_like(W1), np.empty_like(W2)
    started = time.perf_counter()
    for _ in range(epochs):
        for start in range(0, n, batch):
            Xb = X[start:start + batch]
            m = len(Xb)
            h, d2, d1 = H[:m], D2[:m], D1[:m]
            np.matmul(Xb, W1, out=h)
            np.matmul(h, W2, out=Z[:m])
            np.matmul(h.T, d2, out=gW2)
            np.matmul(d2, W2.T, out=d1)
            np.matmul(Xb.T, d1, out=gW1)
    training = (time.perf_counter() - started) / epochs
    X_val = data.validation[0]
    H_val = np.empty((len(X_val), n_hidden), dtype)
    Z_val = np.empty((len(X_val), n_out), dtype)
    started = time.perf_counter()
    for _ in range(epochs):
        np.matmul(X_val, W1, out=H_val)
        np.matmul(H_val, W2, out=Z_val)
    return training, (time.perf_counter() - started) / epochs


def parts_seconds(cfg: Config) -> tuple[float, float]:
    """Two parts of tuner's epoch timed alone: the validation pass ``train`` makes after each
    epoch, and one epoch's worth of ``optimizer.step`` calls (on a fixed gradient)."""
    data = cfg.data
    model, opt = build(cfg)
    started = time.perf_counter()
    evaluate(model, *data.validation, "accuracy")
    validation = time.perf_counter() - started
    _, grads = model.loss_and_grads(data.X_train[:cfg.size.batch_size],
                                    data.y_train[:cfg.size.batch_size])
    n_batches = -(-len(data.y_train) // cfg.size.batch_size)
    started = time.perf_counter()
    for _ in range(n_batches):
        opt.step(grads)
    return validation, time.perf_counter() - started


def blas_description() -> str:
    """The BLAS NumPy uses as threadpoolctl reports it, and the OpenBLAS tuning variables."""
    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    info = next((i for i in blas if "numpy" in i["filepath"]), blas[0])
    env = ", ".join(f"{k}={os.environ[k]}" for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
                    if k in os.environ) or "OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset"
    return (f"{info['internal_api']} {info['version']}, kernel {info.get('architecture')}, "
            f"{info['num_threads']} thread(s); {env}")


@dataclass
class Samples:
    """Every repeat's measurements of one configuration."""

    tuner: list[Run] = field(default_factory=list)
    sklearn: list[Run] = field(default_factory=list)
    lean: list[Run] = field(default_factory=list)
    matmul: list[tuple[float, float]] = field(default_factory=list)   # (training, validation)
    parts: list[tuple[float, float]] = field(default_factory=list)   # (validation, optimizer)


def benchmark(configs: list[Config], epochs: int, repeats: int,
              matmul_epochs: int) -> list[Samples]:
    """Time every configuration ``repeats`` times, interleaved.

    Within a repeat each configuration runs scikit-learn, tuner, the lean loop, the matmuls
    alone and tuner's parts back to back, in that order on even repeats and reversed on odd
    ones: tuner always sits next to scikit-learn and the lean loop, and none goes first every
    time.
    """
    samples = [Samples() for _ in configs]
    for rep in range(repeats):
        for cfg, s in zip(configs, samples):
            steps = [(s.sklearn, run_sklearn, (cfg, epochs)), (s.tuner, run_tuner, (cfg, epochs)),
                     (s.lean, run_lean, (cfg, epochs)),
                     (s.matmul, matmul_epoch_seconds, (cfg, matmul_epochs)),
                     (s.parts, parts_seconds, (cfg,))]
            for results, measure, args in steps if rep % 2 == 0 else reversed(steps):
                results.append(measure(*args))
        print(f"  repeat {rep + 1}/{repeats} done", flush=True)
    return samples


def summarise(cfg: Config, s: Samples) -> dict:
    """Medians, ratios, accuracies and the targets' verdicts of one configuration.

    A ratio is the median over repeats of that repeat's ratio (its two timings ran back to
    back), which a load change on the machine between repeats does not skew.
    """
    med = statistics.median
    tuner = [r.epoch_seconds for r in s.tuner]
    skl = [r.epoch_seconds for r in s.sklearn]
    val = [v for v, _ in s.parts]
    step = [o for _, o in s.parts]
    mm_train = [t for t, _ in s.matmul]
    mm = [t + v for t, v in s.matmul]
    lean = [r.epoch_seconds for r in s.lean]
    if any(len({r.accuracy for r in runs}) > 1 for runs in (s.tuner, s.sklearn, s.lean)):
        raise RuntimeError("a seeded run changed its accuracy between repeats")
    acc_t, acc_s = s.tuner[0].accuracy, s.sklearn[0].accuracy
    row = dict(size=cfg.size.name, dtype=cfg.dtype, opt=cfg.opt.name, tuner=med(tuner),
               sklearn=med(skl), ratio=med(t / k for t, k in zip(tuner, skl)),
               no_val=med((t - v) / k for t, v, k in zip(tuner, val, skl)),
               lean=med(lean), lean_ratio=med(b / k for b, k in zip(lean, skl)),
               tl=med(t / b for t, b in zip(tuner, lean)),
               matmul=med(mm), tm=med(t / m for t, m in zip(tuner, mm)),
               val=med(val), step=med(step),
               core=med((t - v - o) / m for t, v, o, m in zip(tuner, val, step, mm_train)),
               acc_t=acc_t, acc_s=acc_s, acc_l=s.lean[0].accuracy)
    target = cfg.size.ratio_target[cfg.dtype]
    verdicts = [f"tuner/sklearn {row['ratio']:.2f} <= {target}: "
                f"{'met' if row['ratio'] <= target else 'MISSED'}"]
    if cfg.size.matmul_target is not None:
        ok = row["tm"] <= cfg.size.matmul_target
        verdicts.append(f"tuner/matmul {row['tm']:.2f} <= {cfg.size.matmul_target}: "
                        f"{'met' if ok else 'MISSED'}")
    gap = 100 * (acc_t - acc_s)
    verdicts.append(f"accuracy gap {gap:+.1f} points: "
                    f"{'met' if abs(gap) <= 100 * ACCURACY_TOLERANCE + 1e-9 else 'MISSED'}")
    lean_gap = 100 * (row["acc_l"] - acc_s)
    if abs(lean_gap) > 100 * ACCURACY_TOLERANCE + 1e-9:   # then it is not the same training
        verdicts.append(f"lean loop's accuracy gap {lean_gap:+.1f} points: its timing compares "
                        "nothing")
    row["verdicts"] = "; ".join(verdicts)
    return row


COLUMNS = (  # header, row key, width, format
    ("size", "size", 7, "s"), ("dtype", "dtype", 8, "s"), ("optimizer", "opt", 10, "s"),
    ("tuner ms", "tuner", 9, "ms"), ("sklearn ms", "sklearn", 11, "ms"),
    ("ratio", "ratio", 7, ".2f"), ("w/o val", "no_val", 8, ".2f"),
    ("lean ms", "lean", 8, "ms"), ("lean/skl", "lean_ratio", 9, ".2f"),
    ("tuner/lean", "tl", 11, ".2f"),
    ("matmul ms", "matmul", 10, "ms"),
    ("tuner/mm", "tm", 9, ".2f"), ("val ms", "val", 8, "ms"), ("opt ms", "step", 8, "ms"),
    ("core/mm", "core", 8, ".2f"),
    ("acc tuner", "acc_t", 10, ".4f"), ("acc sklearn", "acc_s", 12, ".4f"),
    ("acc lean", "acc_l", 9, ".4f"),
)


def print_table(rows: list[dict]) -> None:
    """The table of medians, then each configuration's verdicts."""
    head = "".join(f"{h:<{w}}" if f == "s" else f"{h:>{w}}" for h, _, w, f in COLUMNS)
    print(head)
    print("-" * len(head))
    for r in rows:
        print("".join(f"{r[k]:<{w}}" if f == "s" else f"{1e3 * r[k]:>{w}.2f}" if f == "ms"
                      else f"{r[k]:>{w}{f}}" for _, k, w, f in COLUMNS))
    print("\nms: medians per epoch. ratio = tuner / sklearn, tuner/mm = tuner / matmul: medians "
          "of the per-repeat ratios.\nmatmul: the products of tuner's epoch, training and "
          "validation pass. val, opt: parts of tuner's\nepoch timed alone (the validation pass "
          "after each epoch; the epoch's optimizer steps).\nw/o val = (tuner − val) / sklearn "
          "(scikit-learn's epoch has no validation pass). core/mm = (tuner − val − opt)\n"
          "/ training matmuls: gathering, forward, loss and backward. lean: the same training "
          "as a lean\nhand-written NumPy loop (no loss value, no validation pass, no checks); "
          "lean/skl = lean / sklearn.")
    print()
    for r in rows:
        print(f"{r['size']}/{r['dtype']}/{r['opt']}: {r['verdicts']}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 repeats instead of 5")
    parser.add_argument("--repeats", type=int, help="repeats per configuration (median quoted)")
    parser.add_argument("--epochs", type=int, default=30, help="training epochs (default 30)")
    parser.add_argument("--sizes", nargs="+", choices=[s.name for s in SIZES],
                        default=[s.name for s in SIZES], help="which sizes to run")
    args = parser.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 5)

    with threadpool_limits(limits=1):
        print(f"Python {platform.python_version()}, NumPy {np.__version__}, "
              f"scikit-learn {sklearn.__version__}, {os.cpu_count()} CPU(s)")
        print(f"BLAS: {blas_description()}")
        print(f"{args.epochs} epochs, {repeats} repeats; load average at start "
              f"{os.getloadavg()[0]:.2f}\n")
        configs = []
        for size in SIZES:
            if size.name not in args.sizes:
                continue
            for dtype in size.dtypes:
                data = load_task(size.task, seed=0, dtype=np.dtype(dtype))
                configs += [Config(size, dtype, opt, data) for opt in OPTIMIZERS]
        samples = benchmark(configs, args.epochs, repeats, matmul_epochs=min(args.epochs, 10))
        print()
        print(f"load average at end {os.getloadavg()[0]:.2f}\n")
        print_table([summarise(cfg, s) for cfg, s in zip(configs, samples)])


if __name__ == "__main__":
    main()
