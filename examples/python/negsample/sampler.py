"""negs_sampler: negatives for (user, positive) rows, with their log q."""
from . import _consts as C
from . import _lib
from ._buffers import F32, F64, U32, In, Out, rows_cols
from ._handle import Handle, Param
from ._lib import call, create, uint, wraps

KINDS = {"uniform": C.SAMPLER_UNIFORM, "popularity": C.SAMPLER_POPULARITY,
         "category": C.SAMPLER_CATEGORY, "exposure": C.SAMPLER_EXPOSURE,
         "mixture": C.SAMPLER_MIXTURE, "hard": C.SAMPLER_HARD, "walk": C.SAMPLER_WALK,
         "srns": C.SAMPLER_SRNS}
HARD_MODES = {"top": C.HARD_TOP, "semihard": C.HARD_SEMIHARD, "softmax": C.HARD_SOFTMAX,
              "dns_mn": C.HARD_DNS_MN, "ahns": C.HARD_AHNS}


class Sampler(Handle, free="negs_sampler_free"):
    """Sampler(kind, n_items, seed=0, **params). kind: a name of KINDS or a NEGS_SAMPLER_*
    value; params: the properties below (alpha=0.5, unique=True, threads=2, ...). The
    subclasses Uniform, Popularity, ... fix the kind and take their tables as keywords."""
    KIND = None

    alpha = Param(C.SP_ALPHA, float, "popularity exponent")
    unique = Param(C.SP_UNIQUE, bool, "no item twice in one row")
    exclude_positives = Param(C.SP_EXCLUDE_POSITIVES, bool, "skip the user's known positives")
    hard_mode = Param(C.SP_HARD_MODE, int, "HARD_TOP, HARD_SEMIHARD or HARD_SOFTMAX")
    candidates = Param(C.SP_CANDIDATES, int, "candidates per row of a HARD sampler's child")
    margin = Param(C.SP_MARGIN, float, "semi-hard window")
    temperature = Param(C.SP_TEMPERATURE, float, "softmax selection temperature")
    threads = Param(C.SP_THREADS, int, "worker threads; results never depend on it")
    row_offset = Param(C.SP_ROW_OFFSET, int, "number of this call's first row in the stream")
    top_m = Param(C.SP_TOP_M, int, "DNS(M, N): select uniformly among the top M")
    ahns_alpha = Param(C.SP_AHNS_ALPHA, float, "AHNS target beta * (pos + alpha)^(p + 1)")
    ahns_beta = Param(C.SP_AHNS_BETA, float, "AHNS beta")
    ahns_p = Param(C.SP_AHNS_P, float, "AHNS p")
    fallback_rows = Param(C.SP_FALLBACK_ROWS, int, "read-only: semi-hard rows that fell back")
    shared_exclude = Param(C.SP_SHARED_EXCLUDE, bool, "sample_shared skips the batch's positives")
    walk_length = Param(C.SP_WALK_LENGTH, int, "WALK: hops per walk (odd, >= 3)")
    walk_restart = Param(C.SP_WALK_RESTART, float, "WALK: probability an item hop returns home")
    walk_tries = Param(C.SP_WALK_TRIES, int, "WALK: walks per slot before the uniform fallback")
    walk_fallbacks = Param(C.SP_WALK_FALLBACKS, int, "read-only: WALK slots of the last call "
                           "drawn by the fallback")
    walk_rejected = Param(C.SP_WALK_REJECTED, int, "read-only: WALK walks of the last call that "
                          "ended on an excluded item")
    srns_memory = Param(C.SP_SRNS_MEMORY, int, "SRNS: memory slots S per user")
    srns_refresh = Param(C.SP_SRNS_REFRESH, int, "SRNS: fresh child draws R per row and call")
    srns_history = Param(C.SP_SRNS_HISTORY, int, "SRNS: recorded scores W per slot")
    srns_alpha = Param(C.SP_SRNS_ALPHA, float, "SRNS: weight of the std in p + alpha * std")
    srns_warmup = Param(C.SP_SRNS_WARMUP, float, "SRNS: steps over which alpha rises from 0")
    srns_temperature = Param(C.SP_SRNS_TEMPERATURE, float, "SRNS: memory refresh temperature")
    srns_passed = Param(C.SP_SRNS_PASSED, int, "read-only: suspected false negatives passed "
                        "over by the last srns_select")
    srns_users = Param(C.SP_SRNS_USERS, int, "read-only: users the SRNS memory holds")

    @wraps("negs_sampler_create")
    def __init__(self, kind, n_items, seed=0, **params):
        self.n_items = n_items
        ptr = create("negs_sampler_create", _lib.named(kind, KINDS, "Sampler kind"),
                     uint(n_items, "n_items"), uint(seed, "seed", 64))
        super().__init__(ptr, params)

    @wraps("negs_sampler_set_param")
    def set_param(self, param, value):
        if param == C.SP_HARD_MODE:
            value = _lib.named(value, HARD_MODES, "hard_mode")
        self._set("negs_sampler_set_param", param, value)

    @wraps("negs_sampler_get_param")
    def get_param(self, param):
        return self._get("negs_sampler_get_param", param)

    @wraps("negs_sampler_set_weights")
    def set_weights(self, weights):
        w = In(weights, F64, "weights")
        call("negs_sampler_set_weights", self.handle, w.ptr, w.n)
        return self

    @wraps("negs_sampler_set_positives")
    def set_positives(self, positives):
        call("negs_sampler_set_positives", self.handle, positives.handle)
        return self

    @wraps("negs_sampler_set_exposures")
    def set_exposures(self, exposures):
        call("negs_sampler_set_exposures", self.handle, exposures.handle)
        return self

    @wraps("negs_sampler_set_categories")
    def set_categories(self, category_of_item):
        c = In(category_of_item, U32, "category_of_item")
        call("negs_sampler_set_categories", self.handle, c.ptr, c.n)
        return self

    @wraps("negs_sampler_add")
    def add(self, child, share=1.0):
        """Hands child to this MIXTURE (or HARD) sampler, which frees it; on failure the
        caller keeps it. The child object is unusable afterwards."""
        call("negs_sampler_add", self.handle, child.handle, float(share))
        child._parent = self
        child._ptr = None
        return self

    @wraps("negs_sampler_set_schedule")
    def set_schedule(self, child, steps, shares):
        """Child `child`'s share becomes piecewise-linear in the step through the points."""
        st, sh = In(steps, F64, "steps"), In(shares, F64, "shares")
        if st.n != sh.n:
            raise _lib.invalid(f"set_schedule: {st.n} steps but {sh.n} shares")
        call("negs_sampler_set_schedule", self.handle, uint(child, "child"), st.n, st.ptr, sh.ptr)
        return self

    @wraps("negs_sampler_set_support")
    def set_support(self, ids):
        """UNIFORM: draw only among these ids (None: the whole catalogue again)."""
        i = In(ids, U32, "ids")
        call("negs_sampler_set_support", self.handle, i.ptr, i.n)
        return self

    @wraps("negs_sampler_logq")
    def logq(self, items, users=None, positives=None, k=1, step=0, out=None):
        """The log q sample() gives item i of row (users[i], positives[i]) among k draws, for
        any item (-inf where the row never draws it), without drawing."""
        it = In(items, U32, "items")
        u, p, n = self._rows(users, positives, it.n, "logq")
        o = Out(out, F32, it.shape if out is None and it.shape else (n,), "out")
        call("negs_sampler_logq", self.handle, uint(step, "step", 64), n, u.ptr, p.ptr, it.ptr,
             uint(k, "k"), o.ptr)
        return o.obj

    @wraps("negs_sampler_sample_shared")
    def sample_shared(self, positives, m, step=0, out=None, out_logq=None, out_pos_logq=None,
                      logq=True):
        """(items, logq, pos_logq): m negatives drawn once for the whole batch, their log q
        among the m draws and that of each of the batch's positives (None with logq=False)."""
        p = In(positives, U32, "positives")
        items = Out(out, U32, (uint(m, "m"),), "out")
        want = logq or out_logq is not None
        lq = Out(out_logq, F32, (m,), "out_logq") if want else None
        plq = Out(out_pos_logq, F32, (p.n,), "out_pos_logq") if want or out_pos_logq is not None \
            else None
        call("negs_sampler_sample_shared", self.handle, uint(step, "step", 64), p.n, p.ptr, m,
             items.ptr, lq.ptr if lq else None, plq.ptr if plq else None)
        return items.obj, lq.obj if lq else None, plq.obj if plq else None

    def _rows(self, users, positives, n_rows, what):
        u, p = In(users, U32, "users"), In(positives, U32, "positives")
        counts = {c for c in (u.n if users is not None else None,
                              p.n if positives is not None else None, n_rows) if c is not None}
        if len(counts) != 1:
            raise _lib.invalid(f"{what}: users, positives and n_rows disagree on the number "
                               f"of rows ({u.n if users is not None else '-'}, "
                               f"{p.n if positives is not None else '-'}, {n_rows})"
                               if counts else f"{what}: give users, positives or n_rows")
        return u, p, counts.pop()

    def _outs(self, n_rows, k, out, out_logq, logq):
        uint(k, "k")
        items = Out(out, U32, (n_rows, k), "out")
        lq = Out(out_logq, F32, (n_rows, k), "out_logq") if logq or out_logq is not None else None
        return items, lq

    @wraps("negs_sampler_sample")
    def sample(self, users=None, positives=None, k=1, step=0, n_rows=None, out=None,
               out_logq=None, logq=True):
        """(items, logq): n_rows x k negatives and the log of each one's expected count
        among its row's draws (logq is None with logq=False)."""
        u, p, n = self._rows(users, positives, n_rows, "sample")
        items, lq = self._outs(n, k, out, out_logq, logq)
        call("negs_sampler_sample", self.handle, uint(step, "step", 64), n, u.ptr, p.ptr, k,
             items.ptr,
             lq.ptr if lq else None)
        return items.obj, lq.obj if lq else None

    @wraps("negs_sampler_select")
    def select(self, cand_items, cand_scores, pos_scores=None, k=1, step=0, n_cand=None,
               out=None, out_logq=None, logq=True):
        """HARD: keeps k of each row's n_cand scored candidates (n_rows x n_cand arrays)."""
        ci, cs = In(cand_items, U32, "cand_items"), In(cand_scores, F32, "cand_scores")
        n, c = rows_cols(ci, "cand_items", n_cand)
        if cs.n != ci.n:
            raise _lib.invalid(f"select: {cs.n} cand_scores for {ci.n} cand_items")
        ps = In(pos_scores, F32, "pos_scores")
        if pos_scores is not None and ps.n != n:
            raise _lib.invalid(f"select: {ps.n} pos_scores for {n} rows")
        items, lq = self._outs(n, k, out, out_logq, logq)
        call("negs_sampler_select", self.handle, uint(step, "step", 64), n, c, ci.ptr, cs.ptr,
             ps.ptr, k, items.ptr, lq.ptr if lq else None)
        return items.obj, lq.obj if lq else None

    @wraps("negs_sampler_sample_scored")
    def sample_scored(self, query_emb, item_emb, users=None, positives=None, k=1, step=0,
                      dim=None, out=None, out_logq=None, logq=True):
        """HARD: draws candidates, scores them by query . item and keeps k per row."""
        q, it = In(query_emb, F32, "query_emb"), In(item_emb, F32, "item_emb")
        n_q, d = rows_cols(q, "query_emb", dim)
        n_it, _ = rows_cols(it, "item_emb", d)
        if n_it != self.n_items:
            raise _lib.invalid(f"sample_scored: item_emb has {n_it} rows, the sampler "
                               f"{self.n_items} items")
        u, p, n = self._rows(users, positives, n_q, "sample_scored")
        items, lq = self._outs(n, k, out, out_logq, logq)
        call("negs_sampler_sample_scored", self.handle, uint(step, "step", 64), n, u.ptr, p.ptr,
             q.ptr, it.ptr, d, k, items.ptr, lq.ptr if lq else None)
        return items.obj, lq.obj if lq else None

    @wraps("negs_srns_prepare")
    def srns_prepare(self, n_users):
        """SRNS: sizes (and clears) the memory for users 0 .. n_users - 1."""
        call("negs_srns_prepare", self.handle, uint(n_users, "n_users"))
        return self

    @wraps("negs_srns_candidates")
    def srns_candidates(self, users, positives=None, step=0, out=None):
        """SRNS: n_rows x (S + R) ids to score: each user's memory, then fresh child draws."""
        u, p, n = self._rows(users, positives, None, "srns_candidates")
        width = self.srns_memory + self.srns_refresh
        items = Out(out, U32, (n, width), "out")
        call("negs_srns_candidates", self.handle, uint(step, "step", 64), n, u.ptr, p.ptr,
             items.ptr)
        return items.obj

    @wraps("negs_srns_select")
    def srns_select(self, users, cand_items, cand_scores, pos_scores, positives=None, k=1,
                    step=0, out=None, out_logq=None, logq=True):
        """SRNS: k per row of the memory by p + alpha * std(p) (p = sigmoid(score - pos)),
        then each user's memory refreshed; cand_items exactly as srns_candidates gave them."""
        u, p, n = self._rows(users, positives, None, "srns_select")
        ci, cs = In(cand_items, U32, "cand_items"), In(cand_scores, F32, "cand_scores")
        width = self.srns_memory + self.srns_refresh
        if ci.n != n * width or cs.n != ci.n:
            raise _lib.invalid(f"srns_select: cand_items and cand_scores need {n} x {width} "
                               f"entries ({ci.n} and {cs.n} given)")
        ps = In(pos_scores, F32, "pos_scores")
        if ps.n != n:
            raise _lib.invalid(f"srns_select: {ps.n} pos_scores for {n} rows")
        items, lq = self._outs(n, k, out, out_logq, logq)
        call("negs_srns_select", self.handle, uint(step, "step", 64), n, u.ptr, p.ptr, ci.ptr,
             cs.ptr, ps.ptr, k, items.ptr, lq.ptr if lq else None)
        return items.obj, lq.obj if lq else None


def _kind_class(name, kind, doc, tables):
    def __init__(self, n_items, seed=0, **params):
        given = {t: params.pop(t) for t in tables if t in params}
        Sampler.__init__(self, kind, n_items, seed, **params)
        try:
            for t, value in given.items():
                getattr(self, "set_" + t)(value)
        except BaseException:
            self.close()
            raise
    return type(name, (Sampler,), {"KIND": kind, "__init__": __init__, "__doc__": doc})


_TABLES = ("weights", "positives", "exposures", "categories")
Uniform = _kind_class("Uniform", C.SAMPLER_UNIFORM, "Uniform over the catalogue.", _TABLES)
Popularity = _kind_class("Popularity", C.SAMPLER_POPULARITY,
                         "By weight^alpha (pass weights=counts).", _TABLES)
Category = _kind_class("Category", C.SAMPLER_CATEGORY,
                       "Within the positive's category (pass categories=...).", _TABLES)
Exposure = _kind_class("Exposure", C.SAMPLER_EXPOSURE,
                       "Among the user's exposed items (pass exposures=Csr).", _TABLES)

Walk = _kind_class("Walk", C.SAMPLER_WALK,
                   "Random-walk negatives on the interaction graph (pass positives=Csr); "
                   "sample() needs users and gives NaN log q.", _TABLES)


class Mixture(Sampler):
    """Each draw picks a child by its share: Mixture(n_items, seed, children=[(s, share)])."""
    KIND = C.SAMPLER_MIXTURE

    def __init__(self, n_items, seed=0, children=(), **params):
        super().__init__(C.SAMPLER_MIXTURE, n_items, seed, **params)
        for child, share in children:
            self.add(child, share)


class Hard(Sampler):
    """Hard negatives from a child's candidates: Hard(n_items, seed, child=s, mode="top")."""
    KIND = C.SAMPLER_HARD

    def __init__(self, n_items, seed=0, child=None, **params):
        super().__init__(C.SAMPLER_HARD, n_items, seed, **params)
        if child is not None:
            self.add(child)


class Srns(Sampler):
    """SRNS (false-negative-aware) negatives from a per-user memory refreshed by a child:
    Srns(n_items, seed, child=s, n_users=u, srns_memory=16, ...); n_users prepares the memory
    after the parameters are set (else call srns_prepare)."""
    KIND = C.SAMPLER_SRNS

    def __init__(self, n_items, seed=0, child=None, n_users=None, **params):
        super().__init__(C.SAMPLER_SRNS, n_items, seed, **params)
        try:
            if child is not None:
                self.add(child)
            if n_users is not None:
                self.srns_prepare(n_users)
        except BaseException:
            self.close()
            raise


@wraps("negs_mixed_logq")
def mixed_logq(b, logp, logq_shared, out=None):
    """log(b p_j + m q_j) for the b in-batch and m shared columns of mixed negatives: logp the
    estimator's per-example log p of each column's item, logq_shared log(m q_j) from the
    sampler (-inf where it never draws the item). Pass the result as inbatch's logq."""
    lp, lq = In(logp, F32, "logp"), In(logq_shared, F32, "logq_shared")
    if lp.n != lq.n or lp.n < uint(b, "b"):
        raise _lib.invalid(f"mixed_logq: logp ({lp.n}) and logq_shared ({lq.n}) must both hold "
                           f"the b + m columns (b = {b})")
    o = Out(out, F32, (lp.n,), "out")
    call("negs_mixed_logq", b, lp.n - b, lp.ptr, lq.ptr, o.ptr)
    return o.obj
