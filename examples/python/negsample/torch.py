"""PyTorch autograd Functions over the library's fused losses, on CPU float32 tensors.

    import negsample as ns
    from negsample.torch import InBatchSoftmax
    criterion = InBatchSoftmax(temperature=0.05)        # owns a ns.Loss("softmax")
    loss = criterion(user_vecs, item_vecs, logq=logq, item_ids=items)
    loss.backward()                                       # du, dv computed by the library

The forward pass computes the loss and the gradients in one library call (the library never
builds the b x (b+m) logits); backward only scales them. Contiguous float32 CPU tensors are
passed without copies; CUDA or other dtypes raise NegsError naming the argument."""
import torch

from . import _consts as C
from ._lib import NegsError, invalid
from .loss import Loss


def _floats(t, name):
    if not isinstance(t, torch.Tensor):
        t = torch.as_tensor(t, dtype=torch.float32)
    if t.device.type != "cpu":
        raise invalid(f"{name}: a tensor on {t.device}; libnegsample computes on the CPU "
                      f"(pass {name}.cpu())")
    if t.dtype != torch.float32:
        raise invalid(f"{name}: dtype {t.dtype}, expected torch.float32")
    return t.detach().contiguous()  # the same memory when already contiguous


def _ids(t, name):
    """Integer ids as a numpy view (the package range-checks and converts them to uint32)."""
    if t is None:
        return None
    if isinstance(t, torch.Tensor):
        if t.device.type != "cpu":
            raise invalid(f"{name}: a tensor on {t.device}; pass {name}.cpu()")
        if t.dtype == torch.bool:
            t = t.view(torch.uint8)
        return t.detach().contiguous().numpy()
    return t


def _np(t):
    return None if t is None else t.numpy()


def _grad_like(t, needed):
    return torch.empty_like(t) if needed else None


def _scale_rows(grad, g):
    """The gradient of sum_i g_i loss_i, when row i of grad belongs to loss_i alone."""
    return grad * g.reshape((-1,) + (1,) * (grad.dim() - 1))


class InBatchSoftmaxFunction(torch.autograd.Function):
    """apply(u, v, loss, logq=None, item_ids=None, user_ids=None): negs_loss_inbatch with the
    ns.Loss `loss` (SOFTMAX). u: b x dim queries; v: (b+m) x dim, row i < b is query i's
    positive. With reduction "none" the per-row losses are returned, and v's gradient needs a
    uniform upstream gradient (e.g. .sum() or .mean() of them). logq gets no gradient."""

    @staticmethod
    def forward(ctx, u, v, loss, logq=None, item_ids=None, user_ids=None):
        uu, vv = _floats(u, "u"), _floats(v, "v")
        lq = _floats(logq, "logq") if logq is not None else None
        if uu.dim() != 2 or vv.dim() != 2:
            raise invalid(f"inbatch: u and v must be matrices, not {tuple(uu.shape)} and "
                          f"{tuple(vv.shape)}")
        per_row = loss.reduction == C.REDUCE_NONE
        out = torch.empty(uu.shape[0] if per_row else 1, dtype=torch.float32)
        du, dv = _grad_like(uu, ctx.needs_input_grad[0]), _grad_like(vv, ctx.needs_input_grad[1])
        loss.inbatch(_np(uu), _np(vv), logq=_np(lq), item_ids=_ids(item_ids, "item_ids"),
                     user_ids=_ids(user_ids, "user_ids"), grad=False, out=_np(out), du=_np(du),
                     dv=_np(dv))
        ctx.grads, ctx.per_row = (du, dv), per_row
        return out if per_row else out.reshape(())

    @staticmethod
    def backward(ctx, g):
        du, dv = ctx.grads
        if ctx.per_row:
            if du is not None:
                du = _scale_rows(du, g)
            if dv is not None:
                if not bool(torch.all(g == g[0])):
                    raise NegsError(C.E_UNSUPPORTED, "inbatch with reduction 'none': the "
                                    "gradient of v needs the same upstream gradient on every "
                                    "row (reduce the row losses with .sum() or .mean())")
                dv = dv * g[0]
        else:
            du = du * g if du is not None else None
            dv = dv * g if dv is not None else None
        return du, dv, None, None, None, None


class ScoreLossFunction(torch.autograd.Function):
    """apply(pos, neg, loss, neg_logq=None, neg_mask=None): negs_loss_scores with the ns.Loss
    `loss` (any kind). pos: n scores; neg: n x k. neg_logq and neg_mask get no gradient."""

    @staticmethod
    def forward(ctx, pos, neg, loss, neg_logq=None, neg_mask=None):
        p, n = _floats(pos, "pos"), _floats(neg, "neg")
        if n.dim() != 2 or p.shape != (n.shape[0],):
            raise invalid(f"scores: pos must have shape (n,) and neg (n, k), not "
                          f"{tuple(p.shape)} and {tuple(n.shape)}")
        lq = _floats(neg_logq, "neg_logq") if neg_logq is not None else None
        per_row = loss.reduction == C.REDUCE_NONE
        out = torch.empty(p.shape[0] if per_row else 1, dtype=torch.float32)
        dp, dn = _grad_like(p, ctx.needs_input_grad[0]), _grad_like(n, ctx.needs_input_grad[1])
        loss.scores(_np(p), _np(n), neg_logq=_np(lq), neg_mask=_ids(neg_mask, "neg_mask"),
                    grad=False, out=_np(out), d_pos=_np(dp), d_neg=_np(dn))
        ctx.grads, ctx.per_row = (dp, dn), per_row
        return out if per_row else out.reshape(())

    @staticmethod
    def backward(ctx, g):
        scale = (lambda d: _scale_rows(d, g)) if ctx.per_row else (lambda d: d * g)
        return tuple(None if d is None else scale(d) for d in ctx.grads) + (None, None, None)


def inbatch_softmax(u, v, loss, logq=None, item_ids=None, user_ids=None):
    return InBatchSoftmaxFunction.apply(u, v, loss, logq, item_ids, user_ids)


def score_loss(pos, neg, loss, neg_logq=None, neg_mask=None):
    return ScoreLossFunction.apply(pos, neg, loss, neg_logq, neg_mask)


class _LossModule(torch.nn.Module):
    def __init__(self, kind, positives=None, **params):
        super().__init__()
        self.loss = Loss(kind, **params)
        if positives is not None:
            self.loss.set_positives(positives)


class InBatchSoftmax(_LossModule):
    """InBatchSoftmax(temperature=..., reduction=..., threads=..., positives=ns.Csr):
    forward(u, v, logq=None, item_ids=None, user_ids=None)."""

    def __init__(self, positives=None, **params):
        super().__init__("softmax", positives, **params)

    def forward(self, u, v, logq=None, item_ids=None, user_ids=None):
        return InBatchSoftmaxFunction.apply(u, v, self.loss, logq, item_ids, user_ids)


class ScoreLoss(_LossModule):
    """ScoreLoss(kind="softmax"|"bce"|"bpr"|"hinge"|"listnet", **params):
    forward(pos, neg, neg_logq=None, neg_mask=None)."""

    def __init__(self, kind="softmax", **params):
        super().__init__(kind, None, **params)

    def forward(self, pos, neg, neg_logq=None, neg_mask=None):
        return ScoreLossFunction.apply(pos, neg, self.loss, neg_logq, neg_mask)
