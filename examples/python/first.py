"""The first program of docs/python.md: popularity negatives that skip each user's known
positives, with their log q; a failure shows up as a NegsError."""
import sys

sys.path.insert(0, "examples/python")  # run from the repository root, or set PYTHONPATH
import negsample as ns  # noqa: E402

counts = [50, 30, 10, 5, 3, 2]                    # item popularity
seen = ns.Csr.from_rows([[0, 1], [4]], n_items=6)  # user 0 saw {0, 1}, user 1 saw {4}
with ns.Popularity(6, seed=42, weights=counts, positives=seen) as sampler:  # weight = count^0.75
    items, logq = sampler.sample(users=[0, 1], positives=[1, 4], k=3, step=0)
    for user, (row, row_logq) in enumerate(zip(items.tolist(), logq.tolist())):  # 2 x 3
        for item, lq in zip(row, row_logq):
            print(f"user {user}: item {item}, log q {lq:.3f}")
    try:
        sampler.sample(users=[0, 7], positives=[1, 4], k=3)  # the table knows users 0 and 1
    except ns.NegsError as e:
        print(f"failed with {e.name} ({e.status}): {e.message}")
