"""negs_loss: losses and their gradients from scores, or fused from embeddings."""
from . import _consts as C
from . import _lib
from ._buffers import F32, U8, U32, In, Out, expect_sizes, reduced, rows_cols
from ._handle import Handle, Param
from ._lib import call, create, uint, wraps

KINDS = {"bce": C.LOSS_BCE, "bpr": C.LOSS_BPR, "hinge": C.LOSS_HINGE,
         "softmax": C.LOSS_SOFTMAX, "listnet": C.LOSS_LISTNET}
REDUCTIONS = {"mean": C.REDUCE_MEAN, "sum": C.REDUCE_SUM, "none": C.REDUCE_NONE}
PRECISIONS = {"fp32": C.PRECISION_FP32, "bf16": C.PRECISION_BF16}


class Loss(Handle, free="negs_loss_free"):
    """Loss(kind="softmax", **params), kind a name of KINDS or a NEGS_LOSS_* value;
    params: temperature, margin, reduction ("mean", "sum", "none"), threads, force_scalar,
    cosine, tau_plus, precision ("fp32", "bf16")."""

    temperature = Param(C.LP_TEMPERATURE, float)
    margin = Param(C.LP_MARGIN, float, "hinge margin (not divided by the temperature)")
    reduction = Param(C.LP_REDUCTION, int, "REDUCE_MEAN, REDUCE_SUM or REDUCE_NONE")
    threads = Param(C.LP_THREADS, int, "worker threads; results bit-identical for any value")
    force_scalar = Param(C.LP_FORCE_SCALAR, bool, "use the portable kernels")
    kernel = Param(C.LP_KERNEL, int, "read-only: the KERNEL_* in use")
    cosine = Param(C.LP_COSINE, bool, "scores are cosines of the rows")
    tau_plus = Param(C.LP_TAU_PLUS, float,
                     "softmax only: class prior tau+ of the debiased loss in [0, 1), 0 = plain")
    precision = Param(C.LP_PRECISION, int,
                      "in-batch products: PRECISION_FP32 (default) or PRECISION_BF16 "
                      "(or \"fp32\", \"bf16\")")
    telemetry_top = Param(C.LP_TELEMETRY_TOP, int, "read-only: t of set_telemetry, 0 = off")
    masked_hits = Param(C.LP_MASKED_HITS, int,
                        "read-only: masked accidental hits of the last inbatch call (telemetry)")
    masked_known = Param(C.LP_MASKED_KNOWN, int,
                         "read-only: masked known positives of the last inbatch call (telemetry)")
    bf16_kernel = Param(C.LP_BF16_KERNEL, int,
                        "read-only: the BF16_KERNEL_* of the bf16 products (portable or native)")

    @wraps("negs_loss_create")
    def __init__(self, kind="softmax", **params):
        kind = _lib.named(kind, KINDS, "Loss kind")
        super().__init__(create("negs_loss_create", kind), params)

    @wraps("negs_loss_set_param")
    def set_param(self, param, value):
        if param == C.LP_REDUCTION:
            value = _lib.named(value, REDUCTIONS, "reduction")
        elif param == C.LP_PRECISION:
            value = _lib.named(value, PRECISIONS, "precision")
        self._set("negs_loss_set_param", param, value)

    @wraps("negs_loss_get_param")
    def get_param(self, param):
        return self._get("negs_loss_get_param", param)

    @wraps("negs_loss_set_positives")
    def set_positives(self, positives):
        """Known positives of each user: masked in inbatch() rows given user_ids."""
        call("negs_loss_set_positives", self.handle, positives.handle)
        return self

    @wraps("negs_loss_set_telemetry")
    def set_telemetry(self, t, max_rows=0, cols=None, logits=None):
        """In-batch telemetry: t >= 1 makes every later inbatch call (b <= max_rows) write,
        per row, the columns and logits of its t hardest live negatives, best first, into
        (cols, logits), arrays of max_rows x t (new ones unless given; returned, and kept
        alive by the handle); empty entries are (2**32 - 1, -inf). The masked pairs of a call
        are then in masked_hits and masked_known. t = 0 turns it off and returns None."""
        if t == 0:
            call("negs_loss_set_telemetry", self.handle, 0, 0, None, None)
            self._telemetry = None
            return None
        co = Out(cols, U32, (max_rows, t), "cols")
        lo = Out(logits, F32, (max_rows, t), "logits")
        call("negs_loss_set_telemetry", self.handle, t, max_rows, co.ptr, lo.ptr)
        self._telemetry = (co, lo)  # the library writes into them on later calls
        return co.obj, lo.obj

    @wraps("negs_loss_scores")
    def scores(self, pos, neg, neg_logq=None, neg_mask=None, grad=True, k=None, out=None,
               d_pos=None, d_neg=None):
        """(loss, d_pos, d_neg) from n positive scores and n x k negative scores. loss is a
        float, or n values with reduction "none"; the gradients are None with grad=False."""
        p, ng = In(pos, F32, "pos"), In(neg, F32, "neg")
        n = p.n
        if n == 0 or ng.n % n:
            raise _lib.invalid(f"scores: {ng.n} negative scores are not rows for {n} positives")
        k = ng.n // n if k is None else k
        lq, mk = In(neg_logq, F32, "neg_logq"), In(neg_mask, U8, "neg_mask")
        expect_sizes("scores", (lq, "neg_logq", neg_logq, n * k),
                     (mk, "neg_mask", neg_mask, n * k))
        per_row = self.reduction == C.REDUCE_NONE
        lo = Out(out, F32, (n,) if per_row else (1,), "out")
        dp = Out(d_pos, F32, (n,), "d_pos") if grad or d_pos is not None else None
        dn = Out(d_neg, F32, (n, k), "d_neg") if grad or d_neg is not None else None
        call("negs_loss_scores", self.handle, n, k, p.ptr, ng.ptr, lq.ptr, mk.ptr, lo.ptr,
             dp.ptr if dp else None, dn.ptr if dn else None)
        return reduced(lo, per_row), dp.obj if dp else None, dn.obj if dn else None

    @wraps("negs_loss_inbatch")
    def inbatch(self, u, v, logq=None, item_ids=None, user_ids=None, grad=True, dim=None,
                out=None, du=None, dv=None):
        """(loss, du, dv) of the in-batch softmax over u (b x dim) against v ((b+m) x dim):
        row i's positive is v[i], the other b-1+m rows of v are its negatives."""
        ub, vb = In(u, F32, "u"), In(v, F32, "v")
        b, d = rows_cols(ub, "u", dim)
        bm, _ = rows_cols(vb, "v", d)
        if bm < b:
            raise _lib.invalid(f"inbatch: v has {bm} rows, fewer than the b = {b} queries")
        lq, it = In(logq, F32, "logq"), In(item_ids, U32, "item_ids")
        us = In(user_ids, U32, "user_ids")
        expect_sizes("inbatch", (lq, "logq", logq, bm), (it, "item_ids", item_ids, bm),
                     (us, "user_ids", user_ids, b))
        per_row = self.reduction == C.REDUCE_NONE
        lo = Out(out, F32, (b,) if per_row else (1,), "out")
        gu = Out(du, F32, (b, d), "du") if grad or du is not None else None
        gv = Out(dv, F32, (bm, d), "dv") if grad or dv is not None else None
        call("negs_loss_inbatch", self.handle, b, bm - b, d, ub.ptr, vb.ptr, lq.ptr, it.ptr,
             us.ptr, lo.ptr, gu.ptr if gu else None, gv.ptr if gv else None)
        return reduced(lo, per_row), gu.obj if gu else None, gv.obj if gv else None

    @wraps("negs_loss_inbatch_indexed", "negs_loss_inbatch_indexed_rows")
    def inbatch_indexed(self, user_emb, item_emb, user_idx, item_idx, logq=None,
                        d_user_emb=None, d_item_emb=None, rows=False, dim=None, out=None):
        """The in-batch softmax on user_emb[user_idx] (b) against item_emb[item_idx] (b+m).
        rows=False: the gradients are ADDED into d_user_emb / d_item_emb (tables shaped like
        user_emb / item_emb, None: not computed); returns the loss. rows=True: returns (loss,
        du_rows (b x dim), dv_rows ((b+m) x dim)), one gradient row per gathered row."""
        ue, ie = In(user_emb, F32, "user_emb"), In(item_emb, F32, "item_emb")
        n_users, d = rows_cols(ue, "user_emb", dim)
        n_items, _ = rows_cols(ie, "item_emb", d)
        ui, ii = In(user_idx, U32, "user_idx"), In(item_idx, U32, "item_idx")
        b, bm = ui.n, ii.n
        if b == 0 or bm < b:
            raise _lib.invalid(f"inbatch_indexed: {b} user_idx and {bm} item_idx are not b "
                               f"and b+m")
        lq = In(logq, F32, "logq")
        expect_sizes("inbatch_indexed", (lq, "logq", logq, bm))
        per_row = self.reduction == C.REDUCE_NONE
        lo = Out(out, F32, (b,) if per_row else (1,), "out")
        head = [self.handle, b, bm - b, d, ue.ptr, n_users, ie.ptr, n_items, ui.ptr, ii.ptr,
                lq.ptr, lo.ptr]
        if rows:
            gu, gv = Out(None, F32, (b, d), "du_rows"), Out(None, F32, (bm, d), "dv_rows")
            call("negs_loss_inbatch_indexed_rows", *head, gu.ptr, gv.ptr)
            return reduced(lo, per_row), gu.obj, gv.obj
        gu = Out(d_user_emb, F32, (n_users, d), "d_user_emb") if d_user_emb is not None else None
        gi = Out(d_item_emb, F32, (n_items, d), "d_item_emb") if d_item_emb is not None else None
        call("negs_loss_inbatch_indexed", *head, gu.ptr if gu else None, gi.ptr if gi else None)
        return reduced(lo, per_row)

    def _indexed(self, user_emb, item_emb, user_idx, pos_idx, neg_idx, neg_logq, neg_mask,
                 dim, out):
        ue, ie = In(user_emb, F32, "user_emb"), In(item_emb, F32, "item_emb")
        n_users, d = rows_cols(ue, "user_emb", dim)
        n_items, _ = rows_cols(ie, "item_emb", d)
        ui, pi = In(user_idx, U32, "user_idx"), In(pos_idx, U32, "pos_idx")
        ni = In(neg_idx, U32, "neg_idx")
        n = ui.n
        if n == 0 or pi.n != n or ni.n % n:
            raise _lib.invalid(f"scores_indexed: {ui.n} user_idx, {pi.n} pos_idx and {ni.n} "
                               f"neg_idx are not n, n and n*k")
        k = ni.n // n
        lq, mk = In(neg_logq, F32, "neg_logq"), In(neg_mask, U8, "neg_mask")
        expect_sizes("scores_indexed", (lq, "neg_logq", neg_logq, n * k),
                     (mk, "neg_mask", neg_mask, n * k))
        per_row = self.reduction == C.REDUCE_NONE
        lo = Out(out, F32, (n,) if per_row else (1,), "out")
        head = [self.handle, n, k, d, ue.ptr, n_users, ie.ptr, n_items, ui.ptr, pi.ptr, ni.ptr,
                lq.ptr, mk.ptr, lo.ptr]
        return head, (n, k, d, n_users, n_items), lo, per_row

    @wraps("negs_loss_scores_indexed")
    def scores_indexed(self, user_emb, item_emb, user_idx, pos_idx, neg_idx, neg_logq=None,
                       neg_mask=None, d_user_emb=None, d_item_emb=None, dim=None, out=None):
        """The loss of scores user_emb[user_idx] . item_emb[pos_idx / neg_idx] (n x k
        negatives); the gradients are ADDED into d_user_emb / d_item_emb (tables shaped like
        user_emb / item_emb; None: not computed). Returns the loss (float, or n values)."""
        head, (n, k, d, n_users, n_items), lo, per_row = self._indexed(
            user_emb, item_emb, user_idx, pos_idx, neg_idx, neg_logq, neg_mask, dim, out)
        gu = Out(d_user_emb, F32, (n_users, d), "d_user_emb") if d_user_emb is not None else None
        gi = Out(d_item_emb, F32, (n_items, d), "d_item_emb") if d_item_emb is not None else None
        call("negs_loss_scores_indexed", *head, gu.ptr if gu else None, gi.ptr if gi else None)
        return reduced(lo, per_row)

    @wraps("negs_loss_scores_indexed_rows")
    def scores_indexed_rows(self, user_emb, item_emb, user_idx, pos_idx, neg_idx, neg_logq=None,
                            neg_mask=None, grad=True, dim=None, out=None, d_user_rows=None,
                            d_pos_rows=None, d_neg_rows=None):
        """As scores_indexed, but returns (loss, d_user_rows (n x dim), d_pos_rows (n x dim),
        d_neg_rows (n x k x dim)): one gradient row per gathered row, for sparse optimisers."""
        head, (n, k, d, _, _), lo, per_row = self._indexed(
            user_emb, item_emb, user_idx, pos_idx, neg_idx, neg_logq, neg_mask, dim, out)
        outs = [Out(given, F32, shape, name) if grad or given is not None else None
                for given, shape, name in ((d_user_rows, (n, d), "d_user_rows"),
                                           (d_pos_rows, (n, d), "d_pos_rows"),
                                           (d_neg_rows, (n, k, d), "d_neg_rows"))]
        call("negs_loss_scores_indexed_rows", *head, *(o.ptr if o else None for o in outs))
        return (reduced(lo, per_row),) + tuple(o.obj if o else None for o in outs)


@wraps("negs_adv_perturb")
def adv_perturb(grad, eps, dim=None, out=None):
    """Per row of grad (n x dim): eps * g / |g|_2 (APR); a zero row gives zeros."""
    g = In(grad, F32, "grad")
    n, d = rows_cols(g, "grad", dim)
    o = Out(out, F32, (n, d), "out")
    call("negs_adv_perturb", n, d, g.ptr, float(eps), o.ptr)
    return o.obj


SYNTH_METHODS = {"mochi": C.SYNTH_MOCHI, "mixgcf": C.SYNTH_MIXGCF}


@wraps("negs_synth_negatives")
def synth_negatives(method, anchor, neg, shared=False, seed=0, step=0, neg_scores=None,
                    hard_idx=None, n_hard=0, s_pairs=0, s_anchor=0, normalize=True, dim=None,
                    sources=False, out=None):
    """Synthetic hard negatives (method "mochi" or "mixgcf"): convex mixes of each row's
    anchor (n x dim: the query for MoCHi, the positive for MixGCF) and its k negatives (n x k x
    dim, or k x dim shared by every row with shared=True). Returns the n x m x dim mixes (m =
    s_pairs + s_anchor, or k for MixGCF); with sources=True, (mixes, src (n x m x 2: the two
    sources, k or SYNTH_ANCHOR), coef (n x m), inv_norm (n x m)) for the backward pass."""
    method = _lib.named(method, SYNTH_METHODS, "synth_negatives method")
    a, ng = In(anchor, F32, "anchor"), In(neg, F32, "neg")
    n, d = rows_cols(a, "anchor", dim)
    per = d if shared else n * d
    if ng.n == 0 or ng.n % per:
        raise _lib.invalid(f"synth_negatives: neg has {ng.n} values, not k rows of dim = {d}"
                           + ("" if shared else f" for each of the {n} anchors"))
    k = ng.n // per
    sc, hi = In(neg_scores, F32, "neg_scores"), In(hard_idx, U32, "hard_idx")
    expect_sizes("synth_negatives", (sc, "neg_scores", neg_scores, n * k),
                 (hi, "hard_idx", hard_idx, n * n_hard))
    m = k if method == C.SYNTH_MIXGCF else s_pairs + s_anchor
    o = Out(out, F32, (n, m, d), "out")
    src = Out(None, U32, (n, m, 2), "src") if sources else None
    coef = Out(None, F32, (n, m), "coef") if sources else None
    inv = Out(None, F32, (n, m), "inv_norm") if sources else None
    call("negs_synth_negatives", method, uint(seed, "seed", 64), uint(step, "step", 64), n, d,
         k, a.ptr, ng.ptr, 0 if shared else k, sc.ptr, hi.ptr, uint(n_hard, "n_hard"),
         uint(s_pairs, "s_pairs"), uint(s_anchor, "s_anchor"), 1 if normalize else 0, o.ptr,
         *(b.ptr if b else None for b in (src, coef, inv)))
    return (o.obj, src.obj, coef.obj, inv.obj) if sources else o.obj
