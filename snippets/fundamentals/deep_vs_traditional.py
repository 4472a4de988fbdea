r"""Deep learning vs traditional models: a logistic regression written by hand against a small
torch MLP, on a problem with a linear boundary and on concentric circles (with and without a
hand-made radius feature); the integral image and a Haar-like feature of Viola and Jones; and
a window-of-context token classifier that labels "Florida" as a place or as part of a job
title. Checked against `torch.nn.functional.binary_cross_entropy_with_logits` and its autograd
gradient, and against `torch.cumsum` and direct sums.
"""

# --8<-- [start:impl]
# --8<-- [start:loss]
import numpy as np
import torch
from torch import nn


def logistic_loss(w, b, X, y):
    r"""Mean logistic loss of a linear model and its gradient.

    $$L = \frac{1}{n} \sum_i \big[\log(1 + e^{z_i}) - y_i z_i\big], \quad z = Xw + b,
    \qquad \nabla_w L = \tfrac{1}{n} X^\top (\sigma(z) - y), \quad
    \partial_b L = \tfrac{1}{n} \textstyle\sum_i (\sigma(z_i) - y_i)$$

    Args:
        w: (d,) weights.
        b: the bias (a scalar).
        X: (n, d) inputs, n >= 1.
        y: (n,) labels in {0, 1}.

    Returns:
        `(loss, grad_w, grad_b)`.
    """
    z = X @ w + b  # (n,) logits
    loss = np.mean(np.logaddexp(0, z) - y * z)  # log(1 + e^z) without overflow
    p = 0.5 * (1 + np.tanh(z / 2))  # sigmoid(z), no overflow for huge |z|
    r = (p - y) / len(y)  # (n,)
    return loss, X.T @ r, r.sum()
# --8<-- [end:loss]


# --8<-- [start:newton]
def fit_logistic(X, y, lam=1e-2, steps=25):
    r"""Logistic regression by Newton's method on the mean loss + (lam / 2) ||w||^2.

    Args:
        X: (n, d) inputs.
        y: (n,) labels in {0, 1}.
        lam: L2 penalty on the weights (not the bias); > 0 keeps separable data finite.
        steps: Newton steps.

    Returns:
        `(w, b)`.
    """
    n, d = X.shape
    A = np.c_[X, np.ones(n)]  # (n, d + 1): a column of ones for the bias
    theta = np.zeros(d + 1)
    penalty = lam * np.r_[np.ones(d), 0.0]  # no penalty on the bias
    for _ in range(steps):
        p = 0.5 * (1 + np.tanh(A @ theta / 2))
        grad = A.T @ (p - y) / n + penalty * theta
        hess = (A.T * (p * (1 - p))) @ A / n + np.diag(penalty) + 1e-10 * np.eye(d + 1)
        theta -= np.linalg.solve(hess, grad)
    return theta[:d], theta[d]
# --8<-- [end:newton]


# --8<-- [start:mlp]
def fit_mlp(X, y, hidden=32, steps=100, lr=1e-2, seed=0):
    """Two hidden ReLU layers, trained with full-batch Adam on the logistic loss."""
    torch.manual_seed(seed)
    d = X.shape[1]
    net = nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                        nn.ReLU(), nn.Linear(hidden, 1))
    Xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        logits = net(Xt).squeeze(1)
        nn.functional.binary_cross_entropy_with_logits(logits, yt).backward()
        opt.step()
    return net


def accuracy_linear(w, b, X, y):
    """Fraction of examples on the right side of the linear boundary."""
    return np.mean(((X @ w + b) > 0) == y)


def accuracy_mlp(net, X, y):
    """Fraction of correct predictions of the network."""
    with torch.no_grad():
        z = net(torch.tensor(X, dtype=torch.float32)).squeeze(1).numpy()
    return np.mean((z > 0) == y)
# --8<-- [end:mlp]


# --8<-- [start:linear_world]
D = 10
W_TRUE = np.random.default_rng(0).normal(size=D)
W_TRUE *= 4 / np.linalg.norm(W_TRUE)  # fixed true direction, logits of scale 4


def linear_world(n, seed):
    """n examples whose label is a noisy linear function of 10 features."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, D))
    p = 1 / (1 + np.exp(-X @ W_TRUE))  # P(y = 1 | x)
    return X, (rng.random(n) < p).astype(float)
# --8<-- [end:linear_world]


# --8<-- [start:circles]
def circles(n, seed):
    """Two noisy concentric rings: class 0 at radius 1, class 1 at radius 2."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n).astype(float)
    angle = rng.uniform(0, 2 * np.pi, size=n)
    radius = 1 + y + 0.25 * rng.normal(size=n)
    return np.c_[radius * np.cos(angle), radius * np.sin(angle)], y


def with_radius(X):
    """Append the hand-made feature x1^2 + x2^2 (the squared radius)."""
    return np.c_[X, (X**2).sum(1)]
# --8<-- [end:circles]


# --8<-- [start:haar]
def integral_image(img):
    r"""Summed-area table, zero first row and column: S[i, j] = sum of img[:i, :j].

    Args:
        img: (h, w) array, float or integer (e.g. uint8 pixels).

    Returns:
        (h + 1, w + 1) array: int64 for integer or boolean pixels (as `torch.cumsum`
        gives), the pixels' dtype for floats.
    """
    # uint8 pixels would wrap around at 255: sum integers in int64
    dtype = np.int64 if img.dtype.kind in "biu" else img.dtype
    S = np.zeros((img.shape[0] + 1, img.shape[1] + 1), dtype=dtype)
    S[1:, 1:] = img.astype(dtype).cumsum(0).cumsum(1)
    return S


def box_sum(S, top, left, h, w):
    """Sum of img[top:top + h, left:left + w] from four look-ups in S."""
    return S[top + h, left + w] - S[top, left + w] - S[top + h, left] + S[top, left]


def haar_two_rect(S, top, left, h, w):
    """Two-rectangle Haar-like feature: left half minus right half (w even)."""
    if w % 2:
        raise ValueError(f"the width must be even to split in two halves, got {w}")
    half = w // 2
    return box_sum(S, top, left, h, half) - box_sum(S, top, left + half, h, half)
# --8<-- [end:haar]


# --8<-- [start:tokens]
PAD = "<pad>"
CITIES = ["Miami", "Tampa", "Orlando", "Jacksonville", "Tallahassee"]
TITLES = ["sales", "account", "regional", "operations", "marketing"]
ROLES = ["manager", "representative", "director", "coordinator"]
ORGS = ["Acme", "Initech", "Globex", "Umbrella"]
VERBS = ["based in", "lives in", "located in", "relocated to"]


def sentences(rng, n):
    """n résumé-like lines, each word labelled PLACE, TITLE (in a job title) or O."""
    out = []
    for _ in range(n):
        city, org = rng.choice(CITIES), rng.choice(ORGS)
        title = [rng.choice(TITLES), rng.choice(ROLES)]
        if rng.random() < 0.5:  # "... based in Miami , Florida"
            words = [*rng.choice(VERBS).split(), city, ",", "Florida"]
            labels = ["O"] * (len(words) - 3) + ["PLACE", "O", "PLACE"]
        else:  # "Florida sales manager at Acme"
            words = ["Florida", *title, "at", org]
            labels = ["TITLE"] * 3 + ["O", "O"]
        out.append((words, labels))
    return out
# --8<-- [end:tokens]


# --8<-- [start:window]
LABELS = ["O", "PLACE", "TITLE"]


def windows(words, vocab, k=2):
    """(len(words), 2k + 1) word ids: each word with its k neighbours on each side."""
    pad = [vocab[PAD]] * k  # unknown words also map to the padding id
    ids = pad + [vocab.get(w, vocab[PAD]) for w in words] + pad
    rows = [ids[i:i + 2 * k + 1] for i in range(len(words))]
    return np.array(rows, dtype=np.int64).reshape(len(words), 2 * k + 1)


class WindowTagger(nn.Module):
    """Embed each word of a window, concatenate, and classify the middle word."""

    def __init__(self, vocab_size, k=2, dim=8, hidden=16):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.mlp = nn.Sequential(nn.Linear((2 * k + 1) * dim, hidden), nn.ReLU(),
                                 nn.Linear(hidden, len(LABELS)))

    def forward(self, win):  # win: (n, 2k + 1) word ids
        return self.mlp(self.embed(win).flatten(1))  # (n, 3) label scores
# --8<-- [end:window]


# --8<-- [start:train_tagger]
def train_tagger(data, k=2, steps=200, seed=0):
    """Fit a WindowTagger on labelled sentences; returns (model, vocab)."""
    torch.manual_seed(seed)
    vocab = {PAD: 0}
    for words, _ in data:
        for w in words:
            vocab.setdefault(w, len(vocab))
    X = torch.tensor(np.concatenate([windows(w, vocab, k) for w, _ in data]))
    y = torch.tensor([LABELS.index(t) for _, labels in data for t in labels])
    model = WindowTagger(len(vocab), k)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    return model, vocab


def tag(model, vocab, words, k=2):
    """The predicted label of each word."""
    with torch.no_grad():
        scores = model(torch.tensor(windows(words, vocab, k)))
    return [LABELS[i] for i in scores.argmax(1)]
# --8<-- [end:train_tagger]


# --8<-- [start:unigram]
def train_unigram(data):
    """Context-free baseline: each word gets the label it had most often in training."""
    counts = {}
    for words, labels in data:
        for w, t in zip(words, labels, strict=True):
            counts.setdefault(w, {}).setdefault(t, 0)
            counts[w][t] += 1
    return {w: max(c, key=c.get) for w, c in counts.items()}
# --8<-- [end:unigram]
# --8<-- [end:impl]


def learning_curve(sizes, seeds, test_n=2000):
    """Mean test accuracies of logistic regression and the MLP on linear_world."""
    Xt, yt = linear_world(test_n, seed=10_000)
    rows = []
    for n in sizes:
        lin, mlp = [], []
        for s in seeds:
            X, y = linear_world(n, seed=s)
            lin.append(accuracy_linear(*fit_logistic(X, y), Xt, yt))
            mlp.append(accuracy_mlp(fit_mlp(X, y, seed=s), Xt, yt))
        rows.append((n, np.mean(lin), np.mean(mlp)))
    return rows


def circles_accuracy(seeds, n=200, test_n=2000):
    """Mean test accuracies on circles: logistic on raw inputs, MLP, logistic+radius."""
    Xt, yt = circles(test_n, seed=10_000)
    raw, mlp, rad = [], [], []
    for s in seeds:
        X, y = circles(n, seed=s)
        raw.append(accuracy_linear(*fit_logistic(X, y), Xt, yt))
        mlp.append(accuracy_mlp(fit_mlp(X, y, seed=s), Xt, yt))
        Xr, Xtr = with_radius(X), with_radius(Xt)  # (n, 3): x1, x2, squared radius
        rad.append(accuracy_linear(*fit_logistic(Xr, y), Xtr, yt))
    return np.mean(raw), np.mean(mlp), np.mean(rad)


if __name__ == "__main__":
    torch.set_num_threads(1)  # tiny networks: one thread is faster
    # --8<-- [start:demo_linear]
    Xt, yt = linear_world(2000, seed=10_000)  # one large test set
    print("   n   logistic    MLP   (test accuracy, mean of 3 seeds)")
    for n in (20, 50, 200, 1000):
        lin, mlp = [], []
        for s in range(3):
            X, y = linear_world(n, seed=s)
            lin.append(accuracy_linear(*fit_logistic(X, y), Xt, yt))
            mlp.append(accuracy_mlp(fit_mlp(X, y, seed=s), Xt, yt))
        print(f"{n:4d}   {np.mean(lin):.3f}     {np.mean(mlp):.3f}")
    bayes = accuracy_linear(W_TRUE, 0.0, Xt, yt)  # the true boundary itself
    print(f"the true boundary: {bayes:.3f}")
    # --8<-- [end:demo_linear]

    # --8<-- [start:demo_circles]
    Xt, yt = circles(2000, seed=10_000)
    raw, mlp, rad = [], [], []
    for s in range(3):
        X, y = circles(200, seed=s)  # 200 training examples
        raw.append(accuracy_linear(*fit_logistic(X, y), Xt, yt))
        mlp.append(accuracy_mlp(fit_mlp(X, y, seed=s), Xt, yt))
        Xr, Xtr = with_radius(X), with_radius(Xt)  # add x1^2 + x2^2 by hand
        rad.append(accuracy_linear(*fit_logistic(Xr, y), Xtr, yt))
    print(f"logistic on (x1, x2):              {np.mean(raw):.3f}")
    print(f"MLP on (x1, x2):                   {np.mean(mlp):.3f}")
    print(f"logistic on (x1, x2, x1^2 + x2^2): {np.mean(rad):.3f}")
    # --8<-- [end:demo_circles]

    # --8<-- [start:demo_haar]
    img = np.random.default_rng(0).random((24, 24))  # a 24 x 24 window, as in the paper
    S = integral_image(img)
    f = haar_two_rect(S, top=4, left=6, h=8, w=10)
    direct = img[4:12, 6:11].sum() - img[4:12, 11:16].sum()
    print(f"Haar feature {f:.6f}, direct sums {direct:.6f}")
    # --8<-- [end:demo_haar]

    # --8<-- [start:demo_florida]
    train_data = sentences(np.random.default_rng(0), 60)
    model, vocab = train_tagger(train_data)
    unigram = train_unigram(train_data)
    lines = ("relocated to Orlando , Florida", "Florida marketing director at Globex")
    for line in lines:
        words = line.split()
        tags = tag(model, vocab, words)
        tagged = " ".join(f"{w}/{t}" for w, t in zip(words, tags, strict=True))
        print("window model:   ", tagged)
        print("one label/word: ", "Florida/" + unigram["Florida"])
    # --8<-- [end:demo_florida]

    # --8<-- [start:check]
    print("checked against torch.nn.functional.binary_cross_entropy_with_logits")
    rng = np.random.default_rng(1)
    for dtype in (np.float64, np.float32):
        X = rng.normal(size=(50, 4)).astype(dtype)
        y = (rng.random(50) < 0.5).astype(dtype)
        w, b = rng.normal(size=4).astype(dtype), dtype(0.3)
        loss, gw, gb = logistic_loss(w, b, X, y)
        wt = torch.tensor(w, requires_grad=True)
        bt = torch.tensor(b, requires_grad=True)
        ref = nn.functional.binary_cross_entropy_with_logits(
            torch.tensor(X) @ wt + bt, torch.tensor(y))
        ref.backward()
        err_v = abs(loss - ref.item())
        err_g = max(np.abs(gw - wt.grad.numpy()).max(), abs(gb - bt.grad.item()))
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {err_v:.1e}, grad {err_g:.1e}")

    print("checked against torch.cumsum (integral image)")
    for dtype in (np.float64, np.float32):
        img = rng.random((24, 24)).astype(dtype)
        ref = torch.tensor(img).cumsum(0).cumsum(1).numpy()
        err = (np.abs(integral_image(img)[1:, 1:] - ref) / ref).max()  # sums up to ~300
        print(f"{np.dtype(dtype).name}: max |ours - torch| relative value {err:.1e}")

    print("checked against direct sums of the pixels (Haar-like feature)")
    for dtype in (np.float64, np.float32):
        img = rng.random((24, 24)).astype(dtype)
        S = integral_image(img)
        err = 0.0
        for t, c, h, w in [(0, 0, 24, 24), (3, 5, 7, 8), (10, 2, 1, 2)]:  # top left h w
            left, right = img[t:t + h, c:c + w // 2], img[t:t + h, c + w // 2:c + w]
            direct = left.sum() - right.sum()
            err = max(err, abs(haar_two_rect(S, t, c, h, w) - direct))
        print(f"{np.dtype(dtype).name}: max |ours - reference| value {err:.1e}")
    # --8<-- [end:check]
