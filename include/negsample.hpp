/*
 * negsample.hpp - libnegsample for C++17 and later: header-only, over the C API of
 * negsample.h (link -lnegsample as for C; see docs/cpp.md).
 *
 * - negs::csr, negs::sampler, negs::freq, negs::loss own one C handle each: move-only, freed
 *   by their destructor. A moved-from object holds no handle; calling it throws negs::error
 *   (NEGS_E_INVALID from the C call), it never crashes.
 * - Every failure throws negs::error, carrying the status (status(), status_name()) and the
 *   library's sentence (what(), from negs_last_error()).
 * - Buffers are negs::span<T>: a pointer and a count, made from a std::vector, std::array,
 *   std::span (C++20), a C array or (pointer, size). An empty span is passed as NULL, which is
 *   how optional C arguments (logq, masks, gradients) are left out. Where the C API derives a
 *   count from other arguments, the wrapper checks the spans' sizes before the call and throws
 *   NEGS_E_INVALID naming the argument.
 * - Nothing here adds behaviour: each member is one C call (see negsample.h for the contracts)
 *   plus those size checks. Thread safety is the C API's: one handle per thread at a time,
 *   read-only queries (contains, row, prob, logq, save, get_param) may share one.
 */
#ifndef NEGSAMPLE_HPP
#define NEGSAMPLE_HPP

#include <negsample.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace negs {

/* ---------------------------------------------------------------- errors */

class error : public std::runtime_error {
public:
    error(int status, const std::string &message) : std::runtime_error(message), status_(status) {}
    int status() const noexcept { return status_; }
    const char *status_name() const noexcept { return negs_status_name(status_); }

private:
    int status_;
};

namespace detail {

/* The C call's status, or the exception it stands for. */
inline int check(int rc)
{
    if (rc < 0) throw error(rc, negs_last_error());
    return rc;
}

template <class T> T *check_ptr(T *p)
{
    if (!p) throw error(negs_last_status(), negs_last_error());
    return p;
}

[[noreturn]] inline void invalid(const char *where, const std::string &what)
{
    throw error(NEGS_E_INVALID, std::string("NEGS_E_INVALID: ") + where + ": " + what);
}

inline void expect_size(const char *where, const char *name, std::size_t got, std::size_t want)
{
    if (got != want)
        invalid(where, std::string(name) + " has " + std::to_string(got) + " elements, expected " +
                           std::to_string(want));
}

/* An optional array: empty, or exactly `want` elements. */
inline void expect_optional(const char *where, const char *name, std::size_t got, std::size_t want)
{
    if (got != 0) expect_size(where, name, got, want);
}

template <class T, void (*Free)(T *)> struct deleter {
    void operator()(T *p) const noexcept { Free(p); }
};

} // namespace detail

/* ---------------------------------------------------------------- buffers */

/* A view of count contiguous T: like C++20's std::span<T>, available in C++17. */
template <class T> class span {
public:
    using element_type = T;
    using value_type = std::remove_cv_t<T>;

    constexpr span() noexcept = default;
    constexpr span(T *data, std::size_t size) noexcept : data_(data), size_(size) {}
    template <std::size_t N> constexpr span(T (&array)[N]) noexcept : data_(array), size_(N) {}
    /* Any contiguous container with data() and size(): std::vector, std::array, std::span,
     * std::string, another negs::span. (Meant for arguments: a span made from a temporary
     * must not outlive the call.) */
    template <class C, class = std::enable_if_t<
                           !std::is_array_v<std::remove_reference_t<C>> &&
                           std::is_convertible_v<decltype(std::declval<C &>().data()), T *>>>
    constexpr span(C &&container) noexcept(noexcept(container.data()))
        : data_(container.data()), size_(static_cast<std::size_t>(container.size()))
    {
    }

    constexpr T *data() const noexcept { return data_; }
    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }
    constexpr T &operator[](std::size_t i) const noexcept { return data_[i]; }
    constexpr T *begin() const noexcept { return data_; }
    constexpr T *end() const noexcept { return data_ + size_; }

private:
    T *data_ = nullptr;
    std::size_t size_ = 0;
};

namespace detail {
/* NULL for an empty span: how an optional C argument is left out. */
template <class T> T *opt(span<T> s) noexcept { return s.empty() ? nullptr : s.data(); }
} // namespace detail

/* ---------------------------------------------------------------- version */

inline unsigned version_number() noexcept { return negs_version_number(); }
inline std::string version_string() { return negs_version_string(); }
inline const char *status_name(int status) noexcept { return negs_status_name(status); }
/* This thread's last failure: the sentence and the status (normally read from negs::error). */
inline std::string last_error() { return negs_last_error(); }
inline int last_status() noexcept { return negs_last_status(); }

/* ---------------------------------------------------------------- item lists */

class csr {
public:
    /* Row u is indices[indptr[u] .. indptr[u+1]); indptr has n_users + 1 entries. */
    csr(std::uint32_t n_users, std::uint32_t n_items, span<const std::uint64_t> indptr,
        span<const std::uint32_t> indices)
    {
        detail::expect_size("negs::csr", "indptr", indptr.size(), std::size_t(n_users) + 1);
        p_.reset(detail::check_ptr(
            negs_csr_create(n_users, n_items, indptr.data(), detail::opt(indices))));
    }

    bool contains(std::uint32_t user, std::uint32_t item) const
    {
        return detail::check(negs_csr_contains(get(), user, item)) == 1;
    }
    std::uint32_t n_users() const noexcept { return negs_csr_n_users(get()); }
    std::uint32_t n_items() const noexcept { return negs_csr_n_items(get()); }
    std::size_t row_size(std::uint32_t user) const
    {
        std::int64_t n = negs_csr_row_size(get(), user);
        if (n < 0) detail::check(static_cast<int>(n));
        return static_cast<std::size_t>(n);
    }
    /* The row's sorted distinct items inside the table: valid while this object lives. */
    span<const std::uint32_t> row(std::uint32_t user) const
    {
        const std::uint32_t *items = nullptr;
        std::size_t len = 0;
        detail::check(negs_csr_row_items(get(), user, &items, &len));
        return {items, len};
    }
    /* The same items copied into out; returns the row's length (out too small: throws). */
    std::size_t row_copy(std::uint32_t user, span<std::uint32_t> out) const
    {
        std::size_t len = 0;
        detail::check(negs_csr_row_copy(get(), user, out.data(), out.size(), &len));
        return len;
    }

    negs_csr *get() const noexcept { return p_.get(); }

private:
    std::unique_ptr<negs_csr, detail::deleter<negs_csr, negs_csr_free>> p_;
};

/* ---------------------------------------------------------------- samplers */

class sampler {
public:
    /* kind: NEGS_SAMPLER_UNIFORM, _POPULARITY, _CATEGORY, _EXPOSURE, _MIXTURE, _HARD, _WALK. */
    sampler(int kind, std::uint32_t n_items, std::uint64_t seed = 0)
        : p_(detail::check_ptr(negs_sampler_create(kind, n_items, seed)))
    {
    }

    void set_param(int param, double value)
    {
        detail::check(negs_sampler_set_param(get(), param, value));
    }
    double get_param(int param) const
    {
        double value = 0;
        detail::check(negs_sampler_get_param(get(), param, &value));
        return value;
    }
    void set_weights(span<const double> weights)
    {
        detail::check(negs_sampler_set_weights(get(), weights.data(),
                                               static_cast<std::uint32_t>(weights.size())));
    }
    void set_positives(const csr &positives)
    {
        detail::check(negs_sampler_set_positives(get(), positives.get()));
    }
    void set_exposures(const csr &exposures)
    {
        detail::check(negs_sampler_set_exposures(get(), exposures.get()));
    }
    void set_categories(span<const std::uint32_t> category_of_item)
    {
        detail::check(negs_sampler_set_categories(
            get(), category_of_item.data(), static_cast<std::uint32_t>(category_of_item.size())));
    }
    /* Hands child to this MIXTURE or HARD sampler (child is empty afterwards); if the call
     * fails, it throws and child still owns its handle. */
    void add(sampler &&child, double share = 1.0)
    {
        detail::check(negs_sampler_add(get(), child.get(), share));
        static_cast<void>(child.p_.release());
    }
    void set_schedule(std::uint32_t child, span<const double> steps, span<const double> shares)
    {
        detail::expect_size("negs::sampler::set_schedule", "shares", shares.size(), steps.size());
        detail::check(
            negs_sampler_set_schedule(get(), child, steps.size(), steps.data(), shares.data()));
    }
    /* out_items holds n_rows * k items (n_rows = out_items.size() / k); users and positives
     * are empty or n_rows long, out_logq empty or as long as out_items. */
    void sample(std::uint64_t step, span<const std::uint32_t> users,
                span<const std::uint32_t> positives, std::uint32_t k, span<std::uint32_t> out_items,
                span<float> out_logq = {})
    {
        const char *where = "negs::sampler::sample";
        std::size_t n_rows = rows(where, out_items.size(), k);
        detail::expect_optional(where, "users", users.size(), n_rows);
        detail::expect_optional(where, "positives", positives.size(), n_rows);
        detail::expect_optional(where, "out_logq", out_logq.size(), out_items.size());
        detail::check(negs_sampler_sample(get(), step, n_rows, detail::opt(users),
                                          detail::opt(positives), k, out_items.data(),
                                          detail::opt(out_logq)));
    }
    /* HARD: keeps k of each row's n_cand scored candidates (n_rows = cand_items.size() /
     * n_cand); pos_scores empty or n_rows long. */
    void select(std::uint64_t step, std::uint32_t n_cand, span<const std::uint32_t> cand_items,
                span<const float> cand_scores, span<const float> pos_scores, std::uint32_t k,
                span<std::uint32_t> out_items, span<float> out_logq = {})
    {
        const char *where = "negs::sampler::select";
        std::size_t n_rows = rows(where, cand_items.size(), n_cand);
        detail::expect_size(where, "cand_scores", cand_scores.size(), cand_items.size());
        detail::expect_optional(where, "pos_scores", pos_scores.size(), n_rows);
        detail::expect_size(where, "out_items", out_items.size(), n_rows * k);
        detail::expect_optional(where, "out_logq", out_logq.size(), out_items.size());
        detail::check(negs_sampler_select(get(), step, n_rows, n_cand, cand_items.data(),
                                          cand_scores.data(), detail::opt(pos_scores), k,
                                          out_items.data(), detail::opt(out_logq)));
    }
    /* HARD: the whole loop for dot-product models; query_emb is n_rows x dim (n_rows =
     * out_items.size() / k), item_emb the catalogue's n_items x dim. */
    void sample_scored(std::uint64_t step, span<const std::uint32_t> users,
                       span<const std::uint32_t> positives, span<const float> query_emb,
                       span<const float> item_emb, std::size_t dim, std::uint32_t k,
                       span<std::uint32_t> out_items, span<float> out_logq = {})
    {
        const char *where = "negs::sampler::sample_scored";
        std::size_t n_rows = rows(where, out_items.size(), k);
        detail::expect_optional(where, "users", users.size(), n_rows);
        detail::expect_optional(where, "positives", positives.size(), n_rows);
        detail::expect_size(where, "query_emb", query_emb.size(), n_rows * dim);
        detail::expect_optional(where, "out_logq", out_logq.size(), out_items.size());
        detail::check(negs_sampler_sample_scored(
            get(), step, n_rows, detail::opt(users), detail::opt(positives), query_emb.data(),
            item_emb.data(), dim, k, out_items.data(), detail::opt(out_logq)));
    }

    /* SRNS: sizes (and clears) the per-user memory for users 0 .. n_users - 1. */
    void srns_prepare(std::uint32_t n_users) { detail::check(negs_srns_prepare(get(), n_users)); }
    /* SRNS: S + R candidates per row into out_items (n_rows = users.size()); positives empty
     * or n_rows long. Returns S + R. */
    std::uint32_t srns_candidates(std::uint64_t step, span<const std::uint32_t> users,
                                  span<const std::uint32_t> positives,
                                  span<std::uint32_t> out_items)
    {
        const char *where = "negs::sampler::srns_candidates";
        detail::expect_optional(where, "positives", positives.size(), users.size());
        std::size_t width = out_items.size() / (users.size() ? users.size() : 1);
        detail::expect_size(where, "out_items", out_items.size(), users.size() * width);
        int n = detail::check(negs_srns_candidates(get(), step, users.size(), users.data(),
                                                   detail::opt(positives), out_items.data()));
        return static_cast<std::uint32_t>(n);
    }
    /* SRNS: k memory items per row by p + alpha * std(p), then the memory refreshed;
     * cand_items / cand_scores as srns_candidates wrote them (users.size() x (S + R)). */
    void srns_select(std::uint64_t step, span<const std::uint32_t> users,
                     span<const std::uint32_t> positives, span<const std::uint32_t> cand_items,
                     span<const float> cand_scores, span<const float> pos_scores, std::uint32_t k,
                     span<std::uint32_t> out_items, span<float> out_logq = {})
    {
        const char *where = "negs::sampler::srns_select";
        detail::expect_optional(where, "positives", positives.size(), users.size());
        detail::expect_size(where, "cand_scores", cand_scores.size(), cand_items.size());
        detail::expect_size(where, "pos_scores", pos_scores.size(), users.size());
        detail::expect_size(where, "out_items", out_items.size(), users.size() * k);
        detail::expect_optional(where, "out_logq", out_logq.size(), out_items.size());
        detail::check(negs_srns_select(get(), step, users.size(), users.data(),
                                       detail::opt(positives), cand_items.data(),
                                       cand_scores.data(), pos_scores.data(), k, out_items.data(),
                                       detail::opt(out_logq)));
    }

    /* The log q sample() gives items[i] in row (users[i], positives[i]) among k draws, for
     * any item (-inf where the row never draws it); users, positives: empty or items.size(). */
    void logq(std::uint64_t step, span<const std::uint32_t> users,
              span<const std::uint32_t> positives, span<const std::uint32_t> items, std::uint32_t k,
              span<float> out_logq) const
    {
        const char *where = "negs::sampler::logq";
        detail::expect_optional(where, "users", users.size(), items.size());
        detail::expect_optional(where, "positives", positives.size(), items.size());
        detail::expect_size(where, "out_logq", out_logq.size(), items.size());
        detail::check(negs_sampler_logq(get(), step, items.size(), detail::opt(users),
                                        detail::opt(positives), items.data(), k, out_logq.data()));
    }
    /* UNIFORM: draw only among ids (empty: the whole catalogue again). */
    void set_support(span<const std::uint32_t> ids)
    {
        detail::check(negs_sampler_set_support(get(), detail::opt(ids),
                                               static_cast<std::uint32_t>(ids.size())));
    }
    /* m = out_items.size() negatives drawn once for the batch whose positives are given;
     * out_logq: empty or m; out_pos_logq: empty or positives.size(). */
    void sample_shared(std::uint64_t step, span<const std::uint32_t> positives,
                       span<std::uint32_t> out_items, span<float> out_logq = {},
                       span<float> out_pos_logq = {})
    {
        const char *where = "negs::sampler::sample_shared";
        detail::expect_optional(where, "out_logq", out_logq.size(), out_items.size());
        detail::expect_optional(where, "out_pos_logq", out_pos_logq.size(), positives.size());
        detail::check(negs_sampler_sample_shared(
            get(), step, positives.size(), detail::opt(positives),
            static_cast<std::uint32_t>(out_items.size()), out_items.data(), detail::opt(out_logq),
            detail::opt(out_pos_logq)));
    }

    negs_sampler *get() const noexcept { return p_.get(); }

private:
    static std::size_t rows(const char *where, std::size_t total, std::uint32_t per_row)
    {
        if (per_row == 0) detail::invalid(where, "k = 0 (or n_cand = 0): no slot in a row");
        if (total % per_row)
            detail::invalid(where, std::to_string(total) + " elements are not rows of " +
                                       std::to_string(per_row));
        return total / per_row;
    }

    std::unique_ptr<negs_sampler, detail::deleter<negs_sampler, negs_sampler_free>> p_;
};

/* The log q of mixed negatives: out[j] = log(b p_j + m q_j) for the b + m = logp.size()
 * columns (logq_shared and out of the same size). */
inline void mixed_logq(std::size_t b, span<const float> logp, span<const float> logq_shared,
                       span<float> out_logq)
{
    const char *where = "negs::mixed_logq";
    detail::expect_size(where, "logq_shared", logq_shared.size(), logp.size());
    detail::expect_size(where, "out_logq", out_logq.size(), logp.size());
    if (logp.size() < b)
        detail::invalid(where, "logp has " + std::to_string(logp.size()) +
                                   " columns, fewer than b = " + std::to_string(b));
    detail::check(
        negs_mixed_logq(b, logp.size() - b, logp.data(), logq_shared.data(), out_logq.data()));
}

/* ---------------------------------------------------------------- frequency estimator */

class freq {
public:
    /* kind: NEGS_FREQ_GAP or NEGS_FREQ_SKETCH. */
    freq(int kind, std::size_t buckets, std::uint32_t hashes, std::uint64_t seed = 0)
        : p_(detail::check_ptr(negs_freq_create(kind, buckets, hashes, seed)))
    {
    }
    /* From a save() image; a damaged one throws NEGS_E_FORMAT. */
    static freq load(span<const unsigned char> image)
    {
        return freq(detail::check_ptr(negs_freq_load(image.data(), image.size())));
    }

    void set_param(int param, double value)
    {
        detail::check(negs_freq_set_param(get(), param, value));
    }
    double get_param(int param) const
    {
        double value = 0;
        detail::check(negs_freq_get_param(get(), param, &value));
        return value;
    }
    /* The uint32_t overloads (item indices) call the _u32 twins: the same results. */
    void update(std::uint64_t step, span<const std::uint64_t> ids)
    {
        detail::check(negs_freq_update(get(), step, ids.data(), ids.size()));
    }
    void update(std::uint64_t step, span<const std::uint32_t> ids)
    {
        detail::check(negs_freq_update_u32(get(), step, ids.data(), ids.size()));
    }
    /* update(step, ids), then the log q of each id read after it, in one pass. */
    void update_logq(std::uint64_t step, span<const std::uint64_t> ids, span<float> out)
    {
        detail::expect_size("negs::freq::update_logq", "out", out.size(), ids.size());
        detail::check(negs_freq_update_logq(get(), step, ids.data(), ids.size(), out.data()));
    }
    void update_logq(std::uint64_t step, span<const std::uint32_t> ids, span<float> out)
    {
        detail::expect_size("negs::freq::update_logq", "out", out.size(), ids.size());
        detail::check(negs_freq_update_logq_u32(get(), step, ids.data(), ids.size(), out.data()));
    }
    /* out has one value per id. */
    void prob(span<const std::uint64_t> ids, span<float> out) const
    {
        detail::expect_size("negs::freq::prob", "out", out.size(), ids.size());
        detail::check(negs_freq_prob(get(), ids.data(), ids.size(), out.data()));
    }
    void prob(span<const std::uint32_t> ids, span<float> out) const
    {
        detail::expect_size("negs::freq::prob", "out", out.size(), ids.size());
        detail::check(negs_freq_prob_u32(get(), ids.data(), ids.size(), out.data()));
    }
    void logq(span<const std::uint64_t> ids, span<float> out) const
    {
        detail::expect_size("negs::freq::logq", "out", out.size(), ids.size());
        detail::check(negs_freq_logq(get(), ids.data(), ids.size(), out.data()));
    }
    void logq(span<const std::uint32_t> ids, span<float> out) const
    {
        detail::expect_size("negs::freq::logq", "out", out.size(), ids.size());
        detail::check(negs_freq_logq_u32(get(), ids.data(), ids.size(), out.data()));
    }
    void logq_batch(span<const std::uint64_t> ids, std::size_t batch_size, span<float> out) const
    {
        detail::expect_size("negs::freq::logq_batch", "out", out.size(), ids.size());
        detail::check(negs_freq_logq_batch(get(), ids.data(), ids.size(), batch_size, out.data()));
    }
    void logq_batch(span<const std::uint32_t> ids, std::size_t batch_size, span<float> out) const
    {
        detail::expect_size("negs::freq::logq_batch", "out", out.size(), ids.size());
        detail::check(
            negs_freq_logq_batch_u32(get(), ids.data(), ids.size(), batch_size, out.data()));
    }
    std::vector<unsigned char> save() const
    {
        std::size_t size = 0;
        detail::check(negs_freq_save(get(), nullptr, 0, &size));
        std::vector<unsigned char> image(size);
        detail::check(negs_freq_save(get(), image.data(), image.size(), &size));
        image.resize(size);
        return image;
    }
    void merge(const freq &other) { detail::check(negs_freq_merge(get(), other.get())); }
    void reset() { detail::check(negs_freq_reset(get())); }

    negs_freq *get() const noexcept { return p_.get(); }

private:
    explicit freq(negs_freq *p) : p_(p) {}
    std::unique_ptr<negs_freq, detail::deleter<negs_freq, negs_freq_free>> p_;
};

/* ---------------------------------------------------------------- cross-batch memory */

/* negs_xbm: a FIFO of recent batches' item embeddings, ids and log q, laid out as the extra
 * columns of loss::inbatch. The entries are constants: ignore their rows of dv. */
class xbm {
public:
    xbm(std::size_t capacity, std::size_t dim)
        : p_(detail::check_ptr(negs_xbm_create(capacity, dim)))
    {
    }

    void set_param(int param, double value)
    {
        detail::check(negs_xbm_set_param(get(), param, value));
    }
    double get_param(int param) const
    {
        double value = 0;
        detail::check(negs_xbm_get_param(get(), param, &value));
        return value;
    }
    std::size_t capacity() const { return static_cast<std::size_t>(get_param(NEGS_XP_CAPACITY)); }
    std::size_t dim() const { return static_cast<std::size_t>(get_param(NEGS_XP_DIM)); }
    std::size_t size() const { return static_cast<std::size_t>(get_param(NEGS_XP_SIZE)); }
    void reset() { detail::check(negs_xbm_reset(get())); }

    /* n = item_ids.size() entries at `step`: emb n * dim, logq empty (0) or n. */
    void push(std::uint64_t step, span<const float> emb, span<const std::uint32_t> item_ids,
              span<const float> logq = {})
    {
        const char *where = "negs::xbm::push";
        std::size_t n = item_ids.size(), d = dim();
        detail::expect_size(where, "emb", emb.size(), n * d);
        detail::expect_optional(where, "logq", logq.size(), n);
        detail::check(negs_xbm_push(get(), step, n, d, emb.data(), item_ids.data(),
                                    detail::opt(logq)));
    }

    /* Writes the m entries held, newest first, into rows b .. b+m-1 of v (n_rows * dim),
     * logq (n_rows) and item_ids (empty or n_rows); ages (empty or >= size()) gets their ages,
     * *live (may be null) the number of entries not expired. Returns m. */
    std::size_t layout(std::uint64_t step, std::size_t b, span<float> v, span<float> logq,
                       span<std::uint32_t> item_ids = {}, span<std::uint64_t> ages = {},
                       std::size_t *live = nullptr) const
    {
        const char *where = "negs::xbm::layout";
        std::size_t d = dim();
        if (v.size() % d)
            detail::invalid(where, std::to_string(v.size()) + " values of v are not rows of dim = " +
                                       std::to_string(d));
        std::size_t n_rows = v.size() / d;
        detail::expect_size(where, "logq", logq.size(), n_rows);
        detail::expect_optional(where, "item_ids", item_ids.size(), n_rows);
        if (!ages.empty() && ages.size() < size())
            detail::invalid(where, "ages has " + std::to_string(ages.size()) +
                                       " elements, fewer than the " + std::to_string(size()) +
                                       " entries held");
        return static_cast<std::size_t>(
            detail::check(negs_xbm_layout(get(), step, b, d, n_rows, v.data(), logq.data(),
                                          detail::opt(item_ids), detail::opt(ages), live)));
    }

    negs_xbm *get() const noexcept { return p_.get(); }

private:
    std::unique_ptr<negs_xbm, detail::deleter<negs_xbm, negs_xbm_free>> p_;
};

/* ---------------------------------------------------------------- losses */

class loss {
public:
    /* kind: NEGS_LOSS_BCE, _BPR, _HINGE, _SOFTMAX, _LISTNET. */
    explicit loss(int kind) : p_(detail::check_ptr(negs_loss_create(kind))) {}

    void set_param(int param, double value)
    {
        detail::check(negs_loss_set_param(get(), param, value));
    }
    double get_param(int param) const
    {
        double value = 0;
        detail::check(negs_loss_get_param(get(), param, &value));
        return value;
    }
    void set_positives(const csr &positives)
    {
        detail::check(negs_loss_set_positives(get(), positives.get()));
    }
    /* In-batch telemetry: t >= 1 makes later inbatch calls (b <= max_rows) write each row's
     * t hardest live negatives (columns, logits; best first) into out_cols, out_logits, both
     * max_rows * t long and kept alive by the caller while set; t = 0 turns it off. */
    void set_telemetry(std::uint32_t t, std::size_t max_rows = 0,
                       span<std::uint32_t> out_cols = {}, span<float> out_logits = {})
    {
        if (t > 0 && (out_cols.size() / t < max_rows || out_logits.size() / t < max_rows))
            detail::invalid("negs::loss::set_telemetry",
                            "out_cols and out_logits must hold max_rows * t entries");
        detail::check(negs_loss_set_telemetry(get(), t, max_rows, t ? out_cols.data() : nullptr,
                                              t ? out_logits.data() : nullptr));
    }
    /* n = pos.size() rows of k = neg.size() / n negatives. out_loss: 1 value, or n with
     * NEGS_REDUCE_NONE. neg_logq, neg_mask, d_neg: empty or n*k; d_pos: empty or n. */
    void scores(span<const float> pos, span<const float> neg, span<const float> neg_logq,
                span<const std::uint8_t> neg_mask, span<float> out_loss, span<float> d_pos = {},
                span<float> d_neg = {})
    {
        const char *where = "negs::loss::scores";
        std::size_t n = pos.size();
        if (n == 0 || neg.size() % n)
            detail::invalid(where, std::to_string(neg.size()) +
                                       " negative scores are not rows for " + std::to_string(n) +
                                       " positives");
        std::size_t k = neg.size() / n;
        detail::expect_optional(where, "neg_logq", neg_logq.size(), n * k);
        detail::expect_optional(where, "neg_mask", neg_mask.size(), n * k);
        detail::expect_size(where, "out_loss", out_loss.size(), per_row() ? n : 1);
        detail::expect_optional(where, "d_pos", d_pos.size(), n);
        detail::expect_optional(where, "d_neg", d_neg.size(), n * k);
        detail::check(negs_loss_scores(get(), n, static_cast<std::uint32_t>(k), pos.data(),
                                       neg.data(), detail::opt(neg_logq), detail::opt(neg_mask),
                                       out_loss.data(), detail::opt(d_pos), detail::opt(d_neg)));
    }
    /* Fused in-batch softmax: u is b x dim, v (b+m) x dim (b = u.size() / dim, m from v).
     * logq, item_ids: empty or b+m; user_ids: empty or b; out_loss 1 value, or b with
     * NEGS_REDUCE_NONE; du empty or b x dim, dv empty or (b+m) x dim. */
    void inbatch(std::size_t dim, span<const float> u, span<const float> v, span<const float> logq,
                 span<const std::uint32_t> item_ids, span<const std::uint32_t> user_ids,
                 span<float> out_loss, span<float> du = {}, span<float> dv = {})
    {
        const char *where = "negs::loss::inbatch";
        if (dim == 0 || u.size() % dim || v.size() % dim || v.size() < u.size())
            detail::invalid(where, "u (" + std::to_string(u.size()) + ") and v (" +
                                       std::to_string(v.size()) +
                                       ") are not b and b+m rows of dim = " + std::to_string(dim));
        std::size_t b = u.size() / dim, bm = v.size() / dim;
        detail::expect_optional(where, "logq", logq.size(), bm);
        detail::expect_optional(where, "item_ids", item_ids.size(), bm);
        detail::expect_optional(where, "user_ids", user_ids.size(), b);
        detail::expect_size(where, "out_loss", out_loss.size(), per_row() ? b : 1);
        detail::expect_optional(where, "du", du.size(), u.size());
        detail::expect_optional(where, "dv", dv.size(), v.size());
        detail::check(negs_loss_inbatch(
            get(), b, bm - b, dim, u.data(), v.data(), detail::opt(logq), detail::opt(item_ids),
            detail::opt(user_ids), out_loss.data(), detail::opt(du), detail::opt(dv)));
    }

    /* The in-batch softmax on rows of the caller's tables: user_emb n_users x dim, item_emb
     * n_items x dim, user_idx b rows, item_idx (and logq when not empty) b+m. out_loss 1 value,
     * or b with NEGS_REDUCE_NONE. The gradients are ADDED into d_user_emb / d_item_emb (empty,
     * or shaped like the tables; they may be one buffer). */
    void inbatch_indexed(std::size_t dim, span<const float> user_emb, span<const float> item_emb,
                         span<const std::uint32_t> user_idx, span<const std::uint32_t> item_idx,
                         span<const float> logq, span<float> out_loss,
                         span<float> d_user_emb = {}, span<float> d_item_emb = {})
    {
        const char *where = "negs::loss::inbatch_indexed";
        check_inbatch_indexed(where, dim, user_emb, item_emb, user_idx, item_idx, logq,
                              out_loss);
        detail::expect_optional(where, "d_user_emb", d_user_emb.size(), user_emb.size());
        detail::expect_optional(where, "d_item_emb", d_item_emb.size(), item_emb.size());
        detail::check(negs_loss_inbatch_indexed(
            get(), user_idx.size(), item_idx.size() - user_idx.size(), dim, user_emb.data(),
            static_cast<std::uint32_t>(user_emb.size() / dim), item_emb.data(),
            static_cast<std::uint32_t>(item_emb.size() / dim), user_idx.data(), item_idx.data(),
            detail::opt(logq), out_loss.data(), detail::opt(d_user_emb),
            detail::opt(d_item_emb)));
    }
    /* The same loss; one gradient row per gathered row: du_rows b x dim, dv_rows (b+m) x dim
     * (each may be empty). */
    void inbatch_indexed_rows(std::size_t dim, span<const float> user_emb,
                              span<const float> item_emb, span<const std::uint32_t> user_idx,
                              span<const std::uint32_t> item_idx, span<const float> logq,
                              span<float> out_loss, span<float> du_rows = {},
                              span<float> dv_rows = {})
    {
        const char *where = "negs::loss::inbatch_indexed_rows";
        check_inbatch_indexed(where, dim, user_emb, item_emb, user_idx, item_idx, logq,
                              out_loss);
        detail::expect_optional(where, "du_rows", du_rows.size(), user_idx.size() * dim);
        detail::expect_optional(where, "dv_rows", dv_rows.size(), item_idx.size() * dim);
        detail::check(negs_loss_inbatch_indexed_rows(
            get(), user_idx.size(), item_idx.size() - user_idx.size(), dim, user_emb.data(),
            static_cast<std::uint32_t>(user_emb.size() / dim), item_emb.data(),
            static_cast<std::uint32_t>(item_emb.size() / dim), user_idx.data(), item_idx.data(),
            detail::opt(logq), out_loss.data(), detail::opt(du_rows), detail::opt(dv_rows)));
    }

    /* Scores from the caller's tables by index: user_emb is n_users x dim, item_emb
     * n_items x dim; user_idx and pos_idx hold n rows, neg_idx (and neg_logq, neg_mask when not
     * empty) n*k. out_loss: 1 value, or n with NEGS_REDUCE_NONE. The gradients are ADDED into
     * d_user_emb / d_item_emb (empty, or shaped like the tables; they may be one buffer). */
    void scores_indexed(std::size_t dim, span<const float> user_emb, span<const float> item_emb,
                        span<const std::uint32_t> user_idx, span<const std::uint32_t> pos_idx,
                        span<const std::uint32_t> neg_idx, span<const float> neg_logq,
                        span<const std::uint8_t> neg_mask, span<float> out_loss,
                        span<float> d_user_emb = {}, span<float> d_item_emb = {})
    {
        const char *where = "negs::loss::scores_indexed";
        indexed_shape s = check_indexed(where, dim, user_emb, item_emb, user_idx, pos_idx, neg_idx,
                                        neg_logq, neg_mask, out_loss);
        detail::expect_optional(where, "d_user_emb", d_user_emb.size(), user_emb.size());
        detail::expect_optional(where, "d_item_emb", d_item_emb.size(), item_emb.size());
        detail::check(negs_loss_scores_indexed(
            get(), s.n, s.k, dim, user_emb.data(), s.n_users, item_emb.data(), s.n_items,
            user_idx.data(), pos_idx.data(), neg_idx.data(), detail::opt(neg_logq),
            detail::opt(neg_mask), out_loss.data(), detail::opt(d_user_emb),
            detail::opt(d_item_emb)));
    }
    /* The same loss; one gradient row per gathered row: d_user_rows and d_pos_rows n x dim,
     * d_neg_rows n*k x dim (each may be empty). */
    void scores_indexed_rows(std::size_t dim, span<const float> user_emb,
                             span<const float> item_emb, span<const std::uint32_t> user_idx,
                             span<const std::uint32_t> pos_idx, span<const std::uint32_t> neg_idx,
                             span<const float> neg_logq, span<const std::uint8_t> neg_mask,
                             span<float> out_loss, span<float> d_user_rows = {},
                             span<float> d_pos_rows = {}, span<float> d_neg_rows = {})
    {
        const char *where = "negs::loss::scores_indexed_rows";
        indexed_shape s = check_indexed(where, dim, user_emb, item_emb, user_idx, pos_idx, neg_idx,
                                        neg_logq, neg_mask, out_loss);
        detail::expect_optional(where, "d_user_rows", d_user_rows.size(), s.n * dim);
        detail::expect_optional(where, "d_pos_rows", d_pos_rows.size(), s.n * dim);
        detail::expect_optional(where, "d_neg_rows", d_neg_rows.size(), neg_idx.size() * dim);
        detail::check(negs_loss_scores_indexed_rows(
            get(), s.n, s.k, dim, user_emb.data(), s.n_users, item_emb.data(), s.n_items,
            user_idx.data(), pos_idx.data(), neg_idx.data(), detail::opt(neg_logq),
            detail::opt(neg_mask), out_loss.data(), detail::opt(d_user_rows),
            detail::opt(d_pos_rows), detail::opt(d_neg_rows)));
    }

    negs_loss *get() const noexcept { return p_.get(); }

private:
    void check_inbatch_indexed(const char *where, std::size_t dim, span<const float> user_emb,
                               span<const float> item_emb, span<const std::uint32_t> user_idx,
                               span<const std::uint32_t> item_idx, span<const float> logq,
                               span<float> out_loss) const
    {
        if (dim == 0 || user_emb.size() % dim || item_emb.size() % dim)
            detail::invalid(where, "user_emb and item_emb are not rows of dim = " +
                                       std::to_string(dim));
        if (item_idx.size() < user_idx.size())
            detail::invalid(where, "item_idx has fewer than the b = " +
                                       std::to_string(user_idx.size()) + " rows of user_idx");
        detail::expect_optional(where, "logq", logq.size(), item_idx.size());
        detail::expect_size(where, "out_loss", out_loss.size(), per_row() ? user_idx.size() : 1);
    }
    struct indexed_shape {
        std::size_t n;
        std::uint32_t k, n_users, n_items;
    };
    indexed_shape check_indexed(const char *where, std::size_t dim, span<const float> user_emb,
                                span<const float> item_emb, span<const std::uint32_t> user_idx,
                                span<const std::uint32_t> pos_idx,
                                span<const std::uint32_t> neg_idx, span<const float> neg_logq,
                                span<const std::uint8_t> neg_mask, span<float> out_loss) const
    {
        std::size_t n = user_idx.size();
        if (dim == 0 || user_emb.size() % dim || item_emb.size() % dim)
            detail::invalid(where, "the tables are not rows of dim = " + std::to_string(dim));
        if (n == 0 || neg_idx.size() % n)
            detail::invalid(where, std::to_string(neg_idx.size()) + " neg_idx are not rows for " +
                                       std::to_string(n) + " user_idx");
        detail::expect_size(where, "pos_idx", pos_idx.size(), n);
        detail::expect_optional(where, "neg_logq", neg_logq.size(), neg_idx.size());
        detail::expect_optional(where, "neg_mask", neg_mask.size(), neg_idx.size());
        detail::expect_size(where, "out_loss", out_loss.size(), per_row() ? n : 1);
        return {n, static_cast<std::uint32_t>(neg_idx.size() / n),
                static_cast<std::uint32_t>(user_emb.size() / dim),
                static_cast<std::uint32_t>(item_emb.size() / dim)};
    }
    bool per_row() const { return get_param(NEGS_LP_REDUCTION) == NEGS_REDUCE_NONE; }
    std::unique_ptr<negs_loss, detail::deleter<negs_loss, negs_loss_free>> p_;
};

/* Per row of grad (grad.size() / dim rows): eps * g / |g|_2 into out_delta (same size). */
inline void adv_perturb(std::size_t dim, span<const float> grad, float eps, span<float> out_delta)
{
    const char *where = "negs::adv_perturb";
    if (dim == 0 || grad.size() % dim)
        detail::invalid(where, std::to_string(grad.size()) +
                                   " elements are not rows of dim = " + std::to_string(dim));
    detail::expect_size(where, "out_delta", out_delta.size(), grad.size());
    detail::check(negs_adv_perturb(grad.size() / dim, dim, grad.data(), eps, out_delta.data()));
}

/* Synthetic hard negatives (negs_synth_negatives): n = anchor.size() / dim rows; neg holds
 * each row's k negatives (n*k*dim), or k shared by every row (k*dim) with shared_neg.
 * neg_scores: empty or n*k; hard_idx: empty or n*n_hard. out: n*m*dim with m = k for
 * NEGS_SYNTH_MIXGCF, else s_pairs + s_anchor; out_src (n*m*2), out_coef and out_inv_norm
 * (n*m each) may be empty. */
inline void synth_negatives(int method, std::uint64_t seed, std::uint64_t step, std::size_t dim,
                            std::uint32_t k, span<const float> anchor, span<const float> neg,
                            bool shared_neg, span<const float> neg_scores,
                            span<const std::uint32_t> hard_idx, std::uint32_t n_hard,
                            std::uint32_t s_pairs, std::uint32_t s_anchor, bool normalize,
                            span<float> out, span<std::uint32_t> out_src = {},
                            span<float> out_coef = {}, span<float> out_inv_norm = {})
{
    const char *where = "negs::synth_negatives";
    if (dim == 0 || anchor.size() % dim)
        detail::invalid(where, std::to_string(anchor.size()) +
                                   " anchor values are not rows of dim = " + std::to_string(dim));
    std::size_t n = anchor.size() / dim;
    std::size_t m = method == NEGS_SYNTH_MIXGCF ? k : std::size_t(s_pairs) + s_anchor;
    detail::expect_size(where, "neg", neg.size(), (shared_neg ? k : n * k) * dim);
    detail::expect_optional(where, "neg_scores", neg_scores.size(), n * k);
    detail::expect_optional(where, "hard_idx", hard_idx.size(), n * n_hard);
    detail::expect_size(where, "out", out.size(), n * m * dim);
    detail::expect_optional(where, "out_src", out_src.size(), n * m * 2);
    detail::expect_optional(where, "out_coef", out_coef.size(), n * m);
    detail::expect_optional(where, "out_inv_norm", out_inv_norm.size(), n * m);
    detail::check(negs_synth_negatives(method, seed, step, n, dim, k, anchor.data(), neg.data(),
                                       shared_neg ? 0 : k, detail::opt(neg_scores),
                                       detail::opt(hard_idx), n_hard, s_pairs, s_anchor,
                                       normalize ? 1 : 0, out.data(), detail::opt(out_src),
                                       detail::opt(out_coef), detail::opt(out_inv_norm)));
}

} // namespace negs

#endif /* NEGSAMPLE_HPP */
