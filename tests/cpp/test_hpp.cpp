// include/negsample.hpp: the wrappers give what the C calls give, throw negs::error with the
// status and the library's sentence, check span sizes before calling, and are move-only.
// Built as C++17 and C++20 by `make check-cpp`; exits 1 on the first failed check.
#include <negsample.hpp>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>
#if __cplusplus >= 202002L && __has_include(<span>)
#include <span>
#endif

static int failures = 0;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::printf("%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

// Runs f, which must throw negs::error with `status` and a what() containing `text`.
template <class F> static void expect_error(int status, const char *text, F f)
{
    try {
        f();
        std::printf("expected %s (%s), nothing thrown\n", negs_status_name(status), text);
        failures++;
    } catch (const negs::error &e) {
        bool ok = e.status() == status && std::strstr(e.what(), text) &&
                  std::strncmp(e.what(), e.status_name(), std::strlen(e.status_name())) == 0;
        if (!ok) {
            std::printf("expected %s (%s), got %s: %s\n", negs_status_name(status), text,
                        e.status_name(), e.what());
            failures++;
        }
    }
}

static_assert(!std::is_copy_constructible_v<negs::sampler>, "handles are move-only");
static_assert(!std::is_copy_assignable_v<negs::loss>, "handles are move-only");
static_assert(std::is_nothrow_move_constructible_v<negs::freq>, "moves never throw");
static_assert(std::is_nothrow_move_assignable_v<negs::csr>, "moves never throw");

int main()
{
    CHECK(negs::version_number() == NEGS_VERSION_NUMBER);
    CHECK(negs::version_string() == negs_version_string());

    // csr: spans from std::array, C arrays and vectors; errors from the wrapper and the library.
    std::array<std::uint64_t, 3> indptr = {0, 2, 3};
    std::uint32_t seen[3] = {4, 1, 0};
    negs::csr table(2, 6, indptr, seen);
    CHECK(table.contains(0, 4) && !table.contains(1, 4) && table.n_users() == 2);
    CHECK(table.row_size(0) == 2 && table.row(0).size() == 2 && table.row(0)[0] == 1);
    std::vector<std::uint32_t> copy(2);
    CHECK(table.row_copy(0, copy) == 2 && copy[1] == 4);
    expect_error(NEGS_E_INVALID, "indptr has 2 elements, expected 3",
                 [&] { negs::csr(2, 6, negs::span<const std::uint64_t>(indptr.data(), 2), seen); });
    std::uint32_t bad[3] = {4, 9, 0};
    expect_error(NEGS_E_INVALID, "negs_csr_create", [&] { negs::csr(2, 6, indptr, bad); });
    expect_error(NEGS_E_INVALID, "negs_csr_row_copy", [&] { table.row_copy(0, {copy.data(), 1}); });

    // sampler: the same items and log q as the C call with the same seed and tables.
    std::vector<double> counts = {50, 30, 10, 5, 3, 2};
    negs::sampler s(NEGS_SAMPLER_POPULARITY, 6, 42);
    s.set_weights(counts);
    s.set_positives(table);
    s.set_param(NEGS_SP_THREADS, 2);
    CHECK(s.get_param(NEGS_SP_THREADS) == 2 && s.get_param(NEGS_SP_ALPHA) == 0.75);
    std::vector<std::uint32_t> users = {0, 1, 0, 1}, pos = {1, 4, 0, 4}, items(4 * 3);
    std::vector<float> logq(items.size());
    s.sample(7, users, pos, 3, items, logq);
    negs_sampler *c = negs_sampler_create(NEGS_SAMPLER_POPULARITY, 6, 42);
    negs_sampler_set_weights(c, counts.data(), 6);
    negs_sampler_set_positives(c, table.get());
    std::uint32_t c_items[12];
    float c_logq[12];
    CHECK(negs_sampler_sample(c, 7, 4, users.data(), pos.data(), 3, c_items, c_logq) == 0);
    negs_sampler_free(c);
    CHECK(std::memcmp(c_items, items.data(), sizeof c_items) == 0);
    CHECK(std::memcmp(c_logq, logq.data(), sizeof c_logq) == 0);
    expect_error(NEGS_E_INVALID, "out_logq has 5 elements, expected 12", [&] {
        s.sample(7, users, pos, 3, items, {logq.data(), 5});
    });
    expect_error(NEGS_E_INVALID, "12 elements are not rows of 5",
                 [&] { s.sample(7, users, pos, 5, items); });
    expect_error(NEGS_E_INVALID, "users has 4 elements, expected 6",
                 [&] { s.sample(7, users, {}, 2, items); });
    std::vector<std::uint32_t> stranger = {0, 5, 0, 1};
    expect_error(NEGS_E_INVALID, "users[1] = 5", [&] { s.sample(7, stranger, pos, 3, items); });
    expect_error(NEGS_E_UNSUPPORTED, "", [&] { s.set_param(999, 1); });

    // Move-only ownership: a moved-from handle throws instead of crashing.
    negs::sampler moved = std::move(s);
    CHECK(s.get() == nullptr && moved.get() != nullptr);
    expect_error(NEGS_E_INVALID, "", [&] { s.sample(7, users, pos, 3, items); });
    moved.sample(7, users, pos, 3, items, logq);
    CHECK(std::memcmp(c_items, items.data(), sizeof c_items) == 0);

    // Mixtures: add() takes the child; a failed add leaves it with the caller.
    negs::sampler mix(NEGS_SAMPLER_MIXTURE, 6, 1);
    negs::sampler uniform(NEGS_SAMPLER_UNIFORM, 6, 1);
    mix.add(std::move(uniform), 1.0);
    CHECK(uniform.get() == nullptr);
    negs::sampler wrong(NEGS_SAMPLER_UNIFORM, 7, 1);
    expect_error(NEGS_E_INVALID, "negs_sampler_add", [&] { mix.add(std::move(wrong), 1.0); });
    CHECK(wrong.get() != nullptr);
    double steps[2] = {0, 10}, shares[2] = {1, 0.5};
    mix.set_schedule(0, steps, shares);
    expect_error(NEGS_E_INVALID, "shares has 1 elements", [&] {
        mix.set_schedule(0, steps, {shares, 1});
    });
    mix.sample(3, {}, pos, 3, items);

    // log q without drawing, restricted support, shared negatives, mixed log q.
    moved.sample(7, users, pos, 3, items, logq);
    std::vector<float> again(items.size());
    std::vector<std::uint32_t> row_users, row_pos;
    for (std::size_t i = 0; i < items.size(); i++) {
        row_users.push_back(users[i / 3]);
        row_pos.push_back(pos[i / 3]);
    }
    moved.logq(7, row_users, row_pos, items, 3, again);
    CHECK(std::memcmp(again.data(), logq.data(), sizeof(float) * again.size()) == 0);
    negs::sampler restricted(NEGS_SAMPLER_UNIFORM, 6, 3);
    std::uint32_t support[2] = {2, 5}, shared_items[4], batch_pos[2] = {0, 1};
    restricted.set_support(support);
    float shared_logq[4], pos_logq[2];
    restricted.sample_shared(1, batch_pos, shared_items, shared_logq, pos_logq);
    for (std::uint32_t item : shared_items) CHECK(item == 2 || item == 5);
    CHECK(std::fabs(shared_logq[0] - std::log(2.0f)) < 1e-6f && std::isinf(pos_logq[0]));
    expect_error(NEGS_E_INVALID, "out_pos_logq has 1 elements", [&] {
        restricted.sample_shared(1, batch_pos, shared_items, {}, {pos_logq, 1});
    });
    float logp[3] = {-1, -2, -3}, logq_shared[3] = {-2, -1, -4}, mixed_lq[3];
    negs::mixed_logq(2, logp, logq_shared, mixed_lq);
    CHECK(std::fabs(mixed_lq[2] - std::log(2 * std::exp(-3.0f) + std::exp(-4.0f))) < 1e-5f);

    // freq: save/load gives the same image; a damaged one is NEGS_E_FORMAT.
    negs::freq f(NEGS_FREQ_SKETCH, 256, 2, 9);
    std::vector<std::uint64_t> ids = {1, 2, 3, 1};
    f.update(0, ids);
    std::vector<float> p(ids.size());
    f.prob(ids, p);
    CHECK(p[0] == 0.5f);
    f.logq_batch(ids, 4, p);
    negs::freq twin(NEGS_FREQ_SKETCH, 256, 2, 9);
    std::vector<std::uint32_t> ids32 = {1, 2, 3, 1};
    twin.update(0, ids32); // the _u32 twin: the same state
    CHECK(twin.save() == f.save());
    std::vector<float> p32(ids32.size());
    twin.update_logq(1, ids32, p32);
    f.update(1, ids);
    f.logq(ids, p);
    CHECK(std::memcmp(p.data(), p32.data(), sizeof(float) * p.size()) == 0);
    std::vector<unsigned char> image = f.save();
    negs::freq g = negs::freq::load(image);
    CHECK(g.save() == image);
    image[0] ^= 1;
    expect_error(NEGS_E_FORMAT, "", [&] { negs::freq::load(image); });
    expect_error(NEGS_E_INVALID, "out has 3 elements", [&] { f.logq(ids, {p.data(), 3}); });
    g.merge(f);
    g.reset();

    // loss: the C call's loss and gradients; sizes checked first.
    negs::loss l(NEGS_LOSS_SOFTMAX);
    l.set_param(NEGS_LP_TEMPERATURE, 0.5);
    float pos_s[2] = {1, 2}, neg_s[4] = {0, 1, 1, 3}, value = 0, d_pos[2], d_neg[4];
    std::uint8_t mask[4] = {0, 0, 1, 0};
    l.scores(pos_s, neg_s, {}, mask, {&value, 1}, d_pos, d_neg);
    negs_loss *cl = negs_loss_create(NEGS_LOSS_SOFTMAX);
    negs_loss_set_param(cl, NEGS_LP_TEMPERATURE, 0.5);
    float c_value = 0, c_dpos[2], c_dneg[4];
    negs_loss_scores(cl, 2, 2, pos_s, neg_s, nullptr, mask, &c_value, c_dpos, c_dneg);
    negs_loss_free(cl);
    CHECK(value == c_value && std::memcmp(d_neg, c_dneg, sizeof d_neg) == 0 && d_neg[2] == 0);
    expect_error(NEGS_E_INVALID, "out_loss has 1 elements, expected 2", [&] {
        l.set_param(NEGS_LP_REDUCTION, NEGS_REDUCE_NONE);
        l.scores(pos_s, neg_s, {}, {}, {&value, 1});
    });
    float rows[2];
    l.scores(pos_s, neg_s, {}, mask, rows);
    float u[4] = {1, 0, 0, 1}, v[6] = {1, 1, 0.5f, 2, -1, 0}, du[4], dv[6];
    negs::loss ib(NEGS_LOSS_SOFTMAX);
    ib.inbatch(2, u, v, {}, {}, {}, {&value, 1}, du, dv);
    CHECK(value > 0);
    expect_error(NEGS_E_INVALID, "not b and b+m rows", [&] {
        ib.inbatch(3, u, v, {}, {}, {}, {&value, 1});
    });
    std::uint32_t item_ids[3] = {0, 1, 2}, user_ids[2] = {0, 1};
    expect_error(NEGS_E_STATE, "negs_loss_inbatch", [&] {
        ib.inbatch(2, u, v, {}, item_ids, user_ids, {&value, 1});
    });
    // Indexed score losses: the scores' loss from tables by index, as the C call gives it.
    std::vector<float> users_emb = {1, 0, 0, 1}, items_emb = {1, 1, 0.5f, 2, -1, 0};
    std::uint32_t uidx[2] = {0, 1}, pidx[2] = {0, 1}, nidx[4] = {1, 2, 2, 0};
    std::vector<float> g_users(4, 0.0f), g_items(6, 0.0f), rows_u(4), rows_p(4), rows_n(8);
    negs::loss bpr(NEGS_LOSS_BPR);
    float by_index = 0, by_rows = 0;
    bpr.scores_indexed(2, users_emb, items_emb, uidx, pidx, nidx, {}, {}, {&by_index, 1}, g_users,
                       g_items);
    bpr.scores_indexed_rows(2, users_emb, items_emb, uidx, pidx, nidx, {}, {}, {&by_rows, 1},
                            rows_u, rows_p, rows_n);
    float gathered_pos[2] = {1, 2}, gathered_neg[4] = {0.5f, -1, 0, 1}, by_scores = 0;
    bpr.scores(gathered_pos, gathered_neg, {}, {}, {&by_scores, 1});
    CHECK(by_index == by_scores && by_rows == by_scores && g_users[0] == rows_u[0]);
    expect_error(NEGS_E_INVALID, "pos_idx has 1 elements", [&] {
        bpr.scores_indexed(2, users_emb, items_emb, uidx, {pidx, 1}, nidx, {}, {}, {&by_index, 1});
    });
    std::uint32_t far[2] = {0, 7};
    expect_error(NEGS_E_INVALID, "negs_loss_scores_indexed", [&] {
        bpr.scores_indexed(2, users_emb, items_emb, far, pidx, nidx, {}, {}, {&by_index, 1});
    });
    // Synthetic negatives: MixGCF's rows are the mixes of the sources and coefficients given.
    float anchor[2] = {1, 0}, negatives[4] = {0, 1, -1, 0}, mixed[4], coef[2];
    std::uint32_t src[4];
    negs::synth_negatives(NEGS_SYNTH_MIXGCF, 5, 0, 2, 2, anchor, negatives, false, {}, {}, 0, 0, 0,
                          false, mixed, src, coef);
    for (int j = 0; j < 2; j++) {
        auto row = [&](std::uint32_t from, int d) {
            return from == NEGS_SYNTH_ANCHOR ? anchor[d]
                                             : negatives[2 * from + static_cast<std::uint32_t>(d)];
        };
        for (int d = 0; d < 2; d++) {
            float want = coef[j] * row(src[2 * j], d) + (1 - coef[j]) * row(src[2 * j + 1], d);
            CHECK(std::fabs(mixed[2 * j + d] - want) < 1e-6f);
        }
    }
    expect_error(NEGS_E_INVALID, "out has 4 elements, expected 2", [&] {
        negs::synth_negatives(NEGS_SYNTH_MOCHI, 5, 0, 2, 2, anchor, negatives, false, {}, {}, 2, 1,
                              0, true, mixed);
    });
    float delta[4];
    negs::adv_perturb(2, u, 0.5f, delta);
    CHECK(delta[0] == 0.5f && delta[1] == 0);

    // xbm: newest first after the b positives; old entries expire to -inf; sizes checked.
    negs::xbm memory(3, 2);
    float mem_emb[4] = {1, 2, 3, 4}, mem_lq[2] = {-1, -2};
    std::uint32_t mem_ids[2] = {7, 8};
    memory.push(0, mem_emb, mem_ids, mem_lq);
    memory.push(2, {mem_emb, 2}, {mem_ids, 1});
    memory.set_param(NEGS_XP_MAX_AGE, 1);
    std::vector<float> cols(5 * 2, 0.0f), cols_lq(5, 0.0f);
    std::vector<std::uint32_t> cols_ids(5, 0);
    std::uint64_t ages[3];
    std::size_t live = 0;
    CHECK(memory.layout(3, 2, cols, cols_lq, cols_ids, ages, &live) == 3 && live == 1);
    CHECK(cols[4] == 1 && cols[6] == 3 && cols[8] == 1 && cols_ids[3] == 8 && ages[2] == 3);
    CHECK(cols_lq[2] == 0 && std::isinf(cols_lq[3]) && cols_lq[3] < 0);
    CHECK(memory.size() == 3 && memory.capacity() == 3 && memory.dim() == 2);
    expect_error(NEGS_E_INVALID, "emb has 4 elements, expected 2",
                 [&] { memory.push(3, mem_emb, {mem_ids, 1}); });
    expect_error(NEGS_E_INVALID, "n_rows = 4 cannot hold b = 2",
                 [&] { memory.layout(3, 2, {cols.data(), 8}, {cols_lq.data(), 4}); });
    memory.reset();
    CHECK(memory.size() == 0);

#if __cplusplus >= 202002L && __has_include(<span>)
    std::span<const float> std_view(u, 4);
    negs::adv_perturb(2, std_view, 0.5f, std::span<float>(delta));
    CHECK(delta[3] == 0.5f);
#endif
    std::printf("test_hpp (C++%ld): %s\n", static_cast<long>(__cplusplus / 100 % 100),
                failures ? "FAILED" : "all checks passed");
    return failures ? 1 : 0;
}
