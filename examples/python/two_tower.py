"""A small two-tower retrieval model in PyTorch, trained with libnegsample on mixed negatives
(the batch's positives plus m uniform items drawn once per batch): the sampler's shared draws,
the streaming frequency estimator and negs_mixed_logq for the logQ correction, and the fused
in-batch softmax (negsample.torch.InBatchSoftmax: accidental hits and each user's
other known positives masked, du and dv from the library). Prints the loss per epoch and
Recall@10 on held-out items, then times one training step's loss (forward + backward) against
PyTorch's own dense computation of the same loss on the same batch, at equal thread counts.

Usage: /usr/bin/python3 examples/python/two_tower.py [--data PATH/ml-100k.inter] [--epochs N]
           [--threads N] [--synthetic]
Without the data (../shared/data/ml-100k/ml-100k.inter by default) it uses a synthetic set."""
import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import negsample as ns  # noqa: E402
from negsample.torch import InBatchSoftmax  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_DATA = os.path.join(ROOT, "..", "shared", "data", "ml-100k", "ml-100k.inter")


def load_pairs(path, rng):
    """(users, items, n_users, n_items): every rating of RecBole's .inter is a positive."""
    if path and os.path.exists(path):
        table = np.loadtxt(path, skiprows=1, usecols=(0, 1), dtype=np.int64)
        return table[:, 0], table[:, 1], int(table[:, 0].max()) + 1, int(table[:, 1].max()) + 1
    # Synthetic: 8 groups of users, each liking 12 items of its group's cluster (Zipf inside).
    n_users, n_items, groups = 240, 320, 8
    per = n_items // groups
    p = 1.0 / np.arange(1, per + 1)
    users, items = [], []
    for u in range(n_users):
        liked = rng.choice(per, 12, replace=False, p=p / p.sum()) + (u % groups) * per
        users += [u] * 12
        items += liked.tolist()
    return np.array(users), np.array(items), n_users, n_items


def split(users, items, rng):
    """One in five of each user's items held out for the test."""
    order = rng.permutation(len(users))
    users, items = users[order], items[order]
    rank = np.zeros(len(users), np.int64)
    seen = {}
    for i, u in enumerate(users):
        rank[i] = seen.get(u, 0)
        seen[u] = rank[i] + 1
    test = rank % 5 == 4
    return (users[~test], items[~test]), (users[test], items[test])


class Tower(torch.nn.Module):
    def __init__(self, n, dim):
        super().__init__()
        self.emb = torch.nn.Embedding(n, dim)
        torch.nn.init.normal_(self.emb.weight, std=0.1)
        self.proj = torch.nn.Linear(dim, dim)

    def forward(self, ids):
        e = self.emb(ids)
        return e + self.proj(e)


def dense_loss(u, v, logq, items, users, known_dense, temperature):
    """PyTorch's own computation of the same loss: the b x (b+m) logits, masks, cross entropy."""
    b = u.shape[0]
    logits = u @ v.T / temperature - logq
    mask = items[:b, None] == items[None, :]
    mask |= known_dense[users][:, items]
    eye = torch.arange(b)
    mask[eye, eye] = False
    return torch.nn.functional.cross_entropy(logits.masked_fill(mask, float("-inf")), eye)


def recall_at_10(user_tower, item_tower, train, test, n_users, n_items):
    with torch.no_grad():
        scores = user_tower(torch.arange(n_users)) @ item_tower(torch.arange(n_items)).T
    scores[torch.as_tensor(train[0]), torch.as_tensor(train[1])] = float("-inf")
    top = scores.topk(10, dim=1).indices.numpy()
    held = {}
    for u, i in zip(*test):
        held.setdefault(int(u), set()).add(int(i))
    per_user = [len(held[u] & set(top[u].tolist())) / min(10, len(held[u])) for u in held]
    return float(np.mean(per_user))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--synthetic", action="store_true", help="ignore --data")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--extra", type=int, default=256, help="m sampled negatives per batch")
    ap.add_argument("--threads", type=int, default=1, help="for the library and for torch")
    ap.add_argument("--timing-steps", type=int, default=20)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    users, items, n_users, n_items = load_pairs(None if args.synthetic else args.data, rng)
    train, test = split(users, items, rng)
    name = "synthetic set" if args.synthetic or not os.path.exists(args.data) else args.data
    print(f"{name}: {n_users} users, {n_items} items, {len(train[0])} train / "
          f"{len(test[0])} test pairs")
    batch = min(args.batch, len(train[0]))

    dim, temperature = 64, 0.1
    known = ns.Csr.from_pairs(train[0], train[1], n_users, n_items)
    criterion = InBatchSoftmax(temperature=temperature, threads=args.threads, positives=known)
    extra = ns.Uniform(n_items, seed=7)  # the m shared negatives
    freq = ns.FrequencyEstimator("gap", buckets=1 << 14, hashes=2, seed=3)
    user_tower, item_tower = Tower(n_users, dim), Tower(n_items, dim)
    opt = torch.optim.Adam(list(user_tower.parameters()) + list(item_tower.parameters()), lr=2e-3)

    def step_inputs(b_items, step):
        """Mixed negatives: the batch's positives, then m items drawn once for the batch (never
        one of its positives), with the log q of each column among all b + m of them:
        log(b p_j + m q_j), p from the estimator (updated with this batch), q the sampler's."""
        b_items = b_items.astype(np.uint32)
        logp_batch = freq.update_logq(b_items, step)
        drawn, logq_drawn, logq_pos = extra.sample_shared(b_items, args.extra, step=step)
        cand = np.concatenate([b_items, drawn])
        logp = np.concatenate([logp_batch, freq.logq(drawn)])
        logq = ns.mixed_logq(len(b_items), logp, np.concatenate([logq_pos, logq_drawn]))
        return torch.as_tensor(cand.astype(np.int64)), torch.from_numpy(logq)

    step = 0
    for epoch in range(args.epochs):
        order = rng.permutation(len(train[0]))
        total, count = 0.0, 0
        for start in range(0, len(order) - batch + 1, batch):
            idx = order[start:start + batch]
            b_users, b_items = train[0][idx], train[1][idx]
            cand, logq = step_inputs(b_items, step)
            uid = torch.as_tensor(b_users)
            loss = criterion(user_tower(uid), item_tower(cand), logq=logq, item_ids=cand,
                             user_ids=uid)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, count, step = total + float(loss), count + 1, step + 1
        print(f"epoch {epoch + 1:2d}: mean in-batch loss {total / max(count, 1):.4f}")
    print(f"Recall@10 on held-out items: "
          f"{recall_at_10(user_tower, item_tower, train, test, n_users, n_items):.4f}")

    # One step's loss, forward + backward, on the same inputs: the library against torch dense.
    idx = rng.permutation(len(train[0]))[:batch]
    cand, logq = step_inputs(train[1][idx], step)
    uid = torch.as_tensor(train[0][idx])
    with torch.no_grad():
        u0, v0 = user_tower(uid), item_tower(cand)
    known_dense = torch.zeros(n_users, n_items, dtype=torch.bool)
    known_dense[torch.as_tensor(train[0]), torch.as_tensor(train[1])] = True

    plain = InBatchSoftmax(temperature=temperature, threads=args.threads)

    def ours(with_known):
        u, v = u0.clone().requires_grad_(), v0.clone().requires_grad_()
        if with_known:
            loss = criterion(u, v, logq=logq, item_ids=cand, user_ids=uid)
        else:
            loss = plain(u, v, logq=logq, item_ids=cand)
        loss.backward()
        return float(loss), u.grad, v.grad

    def theirs(with_known):
        u, v = u0.clone().requires_grad_(), v0.clone().requires_grad_()
        mask_rows = known_dense if with_known else torch.zeros_like(known_dense)
        loss = dense_loss(u, v, logq, cand, uid, mask_rows, temperature)
        loss.backward()
        return float(loss), u.grad, v.grad

    def best_time(fn, *a):
        fn(*a)
        times = []
        for _ in range(args.timing_steps):
            t0 = time.perf_counter()
            fn(*a)
            times.append(time.perf_counter() - t0)
        return min(times)

    print(f"one step's loss, forward + backward: b = {batch}, m = {args.extra}, dim = {dim}, "
          f"{args.threads} thread(s), best of {args.timing_steps}")
    worst = 0.0
    for with_known, what in ((False, "accidental hits masked"),
                             (True, "and the users' known positives")):
        a, b = ours(with_known), theirs(with_known)
        worst = max(worst, abs(a[0] - b[0]) / abs(b[0]),
                    float((a[1] - b[1]).abs().max() / b[1].abs().max()),
                    float((a[2] - b[2]).abs().max() / b[2].abs().max()))
        t_ours, t_torch = best_time(ours, with_known), best_time(theirs, with_known)
        print(f"  {what:32s} libnegsample {t_ours * 1e3:8.2f} ms   torch dense "
              f"{t_torch * 1e3:8.2f} ms   ratio {t_torch / t_ours:5.2f} (torch / ours)")
    print(f"  max relative difference of loss and gradients: {worst:.1e}")
    return 0 if worst < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
