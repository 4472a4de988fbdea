r"""Transfer learning: freezing parameters, a linear probe on pretrained features, fine-tuning,
and zero-, one- and few-shot classification with class prototypes.

The data come from a small synthetic "world": 45 classes whose centres live in an
8-dimensional latent space, observed through a fixed nonlinear map into 128 noisy
dimensions. A network pretrained on classes 0-39 is reused for the new classes 40-44.
Checked against parameter counts computed by hand and against `torch.cdist`.
"""

# --8<-- [start:impl]
# --8<-- [start:world]
import numpy as np
import torch
from torch import nn

LATENT, DIM, OLD = 8, 128, 40  # 40 old classes to pretrain on, then 5 new ones
_world = np.random.default_rng(0)  # one fixed world shared by every task
CENTRES = _world.normal(size=(OLD + 5, LATENT))  # class c sits around CENTRES[c]
MIX = _world.normal(size=(LATENT, 32)) / np.sqrt(LATENT)
OUT = _world.normal(size=(32, DIM)) / np.sqrt(32)
NUISANCE = _world.normal(size=(16, DIM)) / 4  # 16 loud directions unrelated to class
NEW = range(OLD, OLD + 5)


def sample(classes, per_class, seed):
    r"""Examples of the given classes: a latent point near the class centre, seen in 128-D.

    $$x = \tanh(2 z M) \, O + 3 u V + 0.5\,\varepsilon, \qquad
    z \sim \mathcal{N}(\mu_c, 0.7^2 I), \quad u \sim \mathcal{N}(0, I_{16}), \quad
    \varepsilon \sim \mathcal{N}(0, I_{128})$$

    Args:
        classes: the class ids to draw from (a subset of 0..44).
        per_class: examples per class.
        seed: seed of the draw.

    Returns:
        `(x, y)`: (n, 128) float32 inputs and (n,) labels numbered 0..len(classes)-1.
    """
    rng = np.random.default_rng(seed)
    which = np.repeat(np.asarray(classes), per_class)
    z = CENTRES[which] + 0.7 * rng.normal(size=(len(which), LATENT))
    nuisance = 3 * rng.normal(size=(len(which), 16)) @ NUISANCE
    x = np.tanh(2 * z @ MIX) @ OUT + nuisance + 0.5 * rng.normal(size=(len(which), DIM))
    y = np.repeat(np.arange(len(classes)), per_class)
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y)
# --8<-- [end:world]


# --8<-- [start:network]
def extractor(seed):
    """A small feature extractor: 128 inputs -> 32 features."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(DIM, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU())


def train(model, x, y, steps=60, lr=1e-2):
    """Full-batch Adam on the cross-entropy, over the parameters that need gradients."""
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model


def accuracy(model, x, y):
    """Fraction of correct argmax predictions."""
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()
# --8<-- [end:network]


# --8<-- [start:freeze]
def freeze(module):
    """Stop gradients for every parameter of `module` (they stay at their values)."""
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def count_parameters(model):
    r"""Numbers of trainable and frozen parameters (scalars, not tensors).

    Args:
        model: a `torch.nn.Module`.

    Returns:
        `(trainable, frozen)`: the summed `numel()` of the parameters with
        `requires_grad` true, and of the others.
    """
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    return trainable, frozen
# --8<-- [end:freeze]


# --8<-- [start:pretrain]
def pretrain(seed=0, per_class=20):
    """Train extractor + a 40-way head on the old classes; return the extractor."""
    x, y = sample(range(OLD), per_class, seed=1000 + seed)
    body = extractor(seed)
    train(nn.Sequential(body, nn.Linear(32, OLD)), x, y, steps=100)
    return body
# --8<-- [end:pretrain]


# --8<-- [start:prototypes]
def prototype_classify(support, support_y, query, n_classes):
    r"""Nearest-prototype classification: a class is the mean of its support embeddings.

    $$\mu_c = \frac{1}{k} \sum_{i : y_i = c} e_i, \qquad
    \hat y(e) = \arg\min_c \lVert e - \mu_c \rVert_2$$

    Args:
        support: (n_classes * k, d) embeddings of the labelled examples (the "shots").
        support_y: (n_classes * k,) their labels in 0..n_classes-1.
        query: (m, d) embeddings to classify.
        n_classes: number of classes.

    Returns:
        `(labels, distances)`: the (m,) predicted labels and the (m, n_classes) distances.
    """
    protos = np.stack([support[support_y == c].mean(0) for c in range(n_classes)])
    diff = query[:, None, :] - protos[None, :, :]  # (m, n_classes, d)
    dist = np.sqrt((diff**2).sum(-1))  # (m, n_classes)
    return dist.argmin(1), dist
# --8<-- [end:prototypes]


# --8<-- [start:episode]
def few_shot_accuracy(embed, k, seed, queries=20):
    """Accuracy of k-shot nearest-prototype classification of the 5 new classes."""
    xs, ys = sample(NEW, k, seed=seed)  # k labelled shots per new class
    xq, yq = sample(NEW, queries, seed=seed + 1)  # unlabelled queries
    with torch.no_grad():
        es, eq = embed(xs).numpy(), embed(xq).numpy()
    pred, _ = prototype_classify(es, ys.numpy(), eq, 5)
    return (pred == yq.numpy()).mean()
# --8<-- [end:episode]


# --8<-- [start:zero_shot]
def zero_shot_accuracy(embed, seed, queries=20):
    r"""Classify the new classes with no example of them, from their descriptions.

    Each class comes with a description vector (here its latent centre, standing for
    attributes or a text embedding). A ridge regression learned on the old classes maps
    embeddings to descriptions; a query gets the class whose description is nearest.

    Args:
        embed: the frozen feature extractor.
        seed: seed of the draws.
        queries: query examples per new class.

    Returns:
        The accuracy on the 5 new classes.
    """
    x, y = sample(range(OLD), 10, seed=seed)  # old classes only
    xq, yq = sample(NEW, queries, seed=seed + 1)
    with torch.no_grad():
        e, eq = embed(x).numpy(), embed(xq).numpy()
    E = np.c_[e, np.ones(len(e))]  # features and a bias column
    target = CENTRES[y.numpy()]  # the description of each example's class
    A = np.linalg.solve(E.T @ E + 1e-2 * np.eye(E.shape[1]), E.T @ target)
    predicted = np.c_[eq, np.ones(len(eq))] @ A  # descriptions predicted for queries
    pred, _ = prototype_classify(CENTRES[OLD:], np.arange(5), predicted, 5)
    return (pred == yq.numpy()).mean()
# --8<-- [end:zero_shot]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:counts]
    body = pretrain(seed=0)  # pretrained on the 40 old classes
    model = nn.Sequential(freeze(body), nn.Linear(32, 5))  # new head: 5 new classes
    trainable, frozen = count_parameters(model)
    print(f"linear probe: trainable {trainable}, frozen {frozen}")
    for p in body.parameters():  # fine-tuning: unfreeze everything
        p.requires_grad_(True)
    trainable, frozen = count_parameters(model)
    print(f"fine-tuning:  trainable {trainable}, frozen {frozen}")
    # --8<-- [end:counts]

    # --8<-- [start:compare]
    import copy

    results = {"scratch": [], "probe": [], "fine-tune": []}
    for seed in range(3):
        x, y = sample(NEW, 5, seed=seed)  # 5 labels per new class
        xt, yt = sample(NEW, 200, seed=100 + seed)  # held-out test set
        scratch = nn.Sequential(extractor(seed + 1), nn.Linear(32, 5))
        probe = nn.Sequential(freeze(copy.deepcopy(body)), nn.Linear(32, 5))
        tuned = nn.Sequential(copy.deepcopy(body), nn.Linear(32, 5))  # all trainable
        for p in tuned[0].parameters():
            p.requires_grad_(True)
        for name, m in (("scratch", scratch), ("probe", probe), ("fine-tune", tuned)):
            lr = 1e-3 if name == "fine-tune" else 1e-2
            results[name].append(accuracy(train(m, x, y, lr=lr), xt, yt))
    for name, accs in results.items():
        print(f"{name:10s} accuracy {np.mean(accs):.3f}  seeds {np.round(accs, 3)}")
    # --8<-- [end:compare]

    # --8<-- [start:shots]
    freeze(body)
    for k in (1, 5, 20):
        acc = np.mean([few_shot_accuracy(body, k, seed) for seed in range(20)])
        raw = np.mean([few_shot_accuracy(lambda x: x, k, seed) for seed in range(20)])
        print(f"{k:2d}-shot, 5-way: accuracy {acc:.3f}  (raw inputs {raw:.3f})")
    acc = np.mean([zero_shot_accuracy(body, seed) for seed in range(20)])
    print(f"zero-shot, 5-way: accuracy {acc:.3f}   (chance 0.200)")
    # --8<-- [end:shots]

    # --8<-- [start:check]
    print("checked against in * out + out parameters per torch.nn.Linear")
    expected = (128 * 64 + 64) + (64 * 32 + 32)  # the extractor
    probe = nn.Sequential(freeze(extractor(0)), nn.Linear(32, 5))
    got = count_parameters(probe)
    err = abs(got[0] - (32 * 5 + 5)) + abs(got[1] - expected)
    print(f"exact: max |ours - reference| value {err}")

    print("checked against torch.cdist")
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        s = rng.normal(size=(25, 32)).astype(dtype)  # 5 shots for each of 5 classes
        q = rng.normal(size=(40, 32)).astype(dtype)
        sy = np.repeat(np.arange(5), 5)
        _, dist = prototype_classify(s, sy, q, 5)
        protos = torch.stack([torch.tensor(s[sy == c]).mean(0) for c in range(5)])
        mode = "donot_use_mm_for_euclid_dist"  # the exact formula, not the matmul trick
        ref = torch.cdist(torch.tensor(q), protos, compute_mode=mode)
        err = np.abs(dist - ref.numpy()).max()
        print(f"{np.dtype(dtype).name}: max |ours - torch| value {err:.1e}")
    # --8<-- [end:check]
