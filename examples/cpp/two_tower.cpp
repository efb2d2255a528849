// A two-tower retrieval model trained with negsample.hpp: user and item towers (embedding
// tables), the fused in-batch softmax on mixed negatives (the batch's positives and m uniform
// items shared by the batch), logQ from the streaming frequency estimator and the sampler
// (negs::mixed_logq), accidental hits and each user's other known positives masked.
// Adagrad on the host. Prints the loss per epoch and Recall@10 on held-out items.
//
// Usage: two_tower [PATH/ml-100k.inter [EPOCHS]]
// Without a readable path it trains on a synthetic set (users who like one cluster of items),
// which is what `make check` runs; it exits 1 if the loss did not go down.
#include <negsample.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Pair {
    std::uint32_t user, item;
};

struct Data {
    std::uint32_t n_users = 0, n_items = 0;
    std::vector<Pair> train, test;
};

// RecBole's .inter ("user item rating timestamp" with a header): every rating is a positive.
bool read_inter(const char *path, std::vector<Pair> &pairs, std::uint32_t &n_users,
                std::uint32_t &n_items)
{
    std::ifstream in(path);
    std::string line;
    if (!in || !std::getline(in, line)) return false;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::uint32_t u = 0, i = 0;
        if (!(fields >> u >> i)) continue;
        pairs.push_back({u, i});
        n_users = std::max(n_users, u + 1);
        n_items = std::max(n_items, i + 1);
    }
    return !pairs.empty();
}

// Users in 8 groups; each user likes 12 items of its group's cluster, popular ones more often.
void synthetic(std::vector<Pair> &pairs, std::uint32_t &n_users, std::uint32_t &n_items,
               std::mt19937_64 &rng)
{
    n_users = 240;
    n_items = 320;
    const std::uint32_t groups = 8, per_group = n_items / groups;
    std::vector<double> weight(per_group);
    for (std::uint32_t j = 0; j < per_group; j++) weight[j] = 1.0 / (j + 1.0);
    std::discrete_distribution<std::uint32_t> pick(weight.begin(), weight.end());
    for (std::uint32_t u = 0; u < n_users; u++) {
        std::vector<std::uint32_t> liked;
        while (liked.size() < 12) {
            std::uint32_t item = (u % groups) * per_group + pick(rng);
            if (std::find(liked.begin(), liked.end(), item) == liked.end()) liked.push_back(item);
        }
        for (std::uint32_t item : liked) pairs.push_back({u, item});
    }
}

// Holds out one in five of each user's items for the test.
Data split(std::vector<Pair> pairs, std::uint32_t n_users, std::uint32_t n_items,
           std::mt19937_64 &rng)
{
    Data d;
    d.n_users = n_users;
    d.n_items = n_items;
    std::shuffle(pairs.begin(), pairs.end(), rng);
    std::vector<std::uint32_t> seen(n_users, 0);
    for (const Pair &p : pairs) (seen[p.user]++ % 5 == 4 ? d.test : d.train).push_back(p);
    return d;
}

negs::csr table_of(const std::vector<Pair> &pairs, std::uint32_t n_users, std::uint32_t n_items)
{
    std::vector<std::uint64_t> indptr(n_users + 1, 0);
    for (const Pair &p : pairs) indptr[p.user + 1]++;
    std::partial_sum(indptr.begin(), indptr.end(), indptr.begin());
    std::vector<std::uint32_t> indices(pairs.size());
    std::vector<std::uint64_t> fill(indptr.begin(), indptr.end() - 1);
    for (const Pair &p : pairs) indices[fill[p.user]++] = p.item;
    return negs::csr(n_users, n_items, indptr, indices);
}

// One embedding table with its Adagrad accumulators.
struct Tower {
    std::size_t dim;
    std::vector<float> w, g2;
    Tower(std::size_t rows, std::size_t d, std::mt19937_64 &rng)
        : dim(d), w(rows * d), g2(rows * d, 0)
    {
        std::normal_distribution<float> init(0.0f, 0.1f);
        for (float &x : w) x = init(rng);
    }
    const float *row(std::uint32_t r) const { return &w[r * dim]; }
    void step(std::uint32_t r, const float *grad, float lr)
    {
        for (std::size_t k = 0; k < dim; k++) {
            float &acc = g2[r * dim + k];
            acc += grad[k] * grad[k];
            w[r * dim + k] -= lr * grad[k] / (std::sqrt(acc) + 1e-8f);
        }
    }
};

// Recall@10 over users with test items, ranking every item outside the user's training ones.
double recall_at_10(const Data &d, const negs::csr &train, const Tower &users, const Tower &items)
{
    std::vector<std::vector<std::uint32_t>> held(d.n_users);
    for (const Pair &p : d.test) held[p.user].push_back(p.item);
    double total = 0;
    std::size_t counted = 0;
    std::vector<std::pair<float, std::uint32_t>> scores;
    for (std::uint32_t u = 0; u < d.n_users; u++) {
        if (held[u].empty()) continue;
        scores.clear();
        for (std::uint32_t i = 0; i < d.n_items; i++) {
            if (train.contains(u, i)) continue;
            float s = 0;
            for (std::size_t k = 0; k < users.dim; k++) s += users.row(u)[k] * items.row(i)[k];
            scores.push_back({-s, i});
        }
        std::size_t top = std::min<std::size_t>(10, scores.size());
        std::partial_sort(scores.begin(), scores.begin() + static_cast<std::ptrdiff_t>(top),
                          scores.end());
        std::size_t hits = 0;
        for (std::size_t r = 0; r < top; r++)
            hits += std::count(held[u].begin(), held[u].end(), scores[r].second) > 0;
        total += static_cast<double>(hits) /
                 static_cast<double>(std::min<std::size_t>(10, held[u].size()));
        counted++;
    }
    return counted ? total / static_cast<double>(counted) : 0;
}

} // namespace

int main(int argc, char **argv)
{
    std::mt19937_64 rng(2024);
    std::vector<Pair> pairs;
    std::uint32_t n_users = 0, n_items = 0;
    bool real = argc > 1 && read_inter(argv[1], pairs, n_users, n_items);
    if (!real) synthetic(pairs, n_users, n_items, rng);
    const int epochs = argc > 2 ? std::atoi(argv[2]) : (real ? 20 : 15);
    Data d = split(std::move(pairs), n_users, n_items, rng);
    std::printf("%s: %u users, %u items, %zu train / %zu test pairs\n",
                real ? argv[1] : "synthetic set", n_users, n_items, d.train.size(), d.test.size());

    const std::size_t dim = 32, batch = 256;
    const std::uint32_t extra = 64; // m sampled negatives shared by the batch
    const float lr = 0.05f;
    try {
        negs::csr train = table_of(d.train, n_users, n_items);
        negs::sampler uniform(NEGS_SAMPLER_UNIFORM, n_items, /*seed=*/7);
        negs::freq freq(NEGS_FREQ_GAP, 1 << 14, 2, /*seed=*/3);
        negs::loss loss(NEGS_LOSS_SOFTMAX);
        loss.set_param(NEGS_LP_TEMPERATURE, 0.1);
        loss.set_positives(train); // a user's other positives are not its negatives
        Tower users(n_users, dim, rng), items(n_items, dim, rng);

        std::vector<float> u((batch)*dim), v((batch + extra) * dim), du(u.size()), dv(v.size());
        std::vector<float> logp(batch + extra), logq_shared(batch + extra), logq(batch + extra);
        std::vector<std::uint32_t> item_ids(batch + extra), user_ids(batch);
        std::uint64_t step = 0;
        double first = 0, last = 0;
        for (int epoch = 0; epoch < epochs; epoch++) {
            std::shuffle(d.train.begin(), d.train.end(), rng);
            double sum = 0;
            std::size_t steps = 0;
            for (std::size_t start = 0; start + batch <= d.train.size(); start += batch, step++) {
                for (std::size_t r = 0; r < batch; r++) {
                    user_ids[r] = d.train[start + r].user;
                    item_ids[r] = d.train[start + r].item;
                }
                // Mixed negatives: the batch's positives, then m items drawn once for the
                // batch (never one of its positives); each column's log q among all b + m is
                // log(b p_j + m q_j), p from the estimator (updated with this batch), q the
                // sampler's.
                negs::span<const std::uint32_t> positives(item_ids.data(), batch);
                negs::span<const std::uint32_t> drawn(item_ids.data() + batch, extra);
                freq.update_logq(step, positives, {logp.data(), batch});
                uniform.sample_shared(step, positives, {item_ids.data() + batch, extra},
                                      {logq_shared.data() + batch, extra},
                                      {logq_shared.data(), batch});
                freq.logq(drawn, {logp.data() + batch, extra});
                negs::mixed_logq(batch, logp, logq_shared, logq);
                for (std::size_t r = 0; r < batch; r++)
                    std::copy_n(users.row(user_ids[r]), dim, &u[r * dim]);
                for (std::size_t j = 0; j < batch + extra; j++)
                    std::copy_n(items.row(item_ids[j]), dim, &v[j * dim]);
                float value = 0;
                loss.inbatch(dim, u, v, logq, item_ids, user_ids, {&value, 1}, du, dv);
                for (std::size_t r = 0; r < batch; r++) users.step(user_ids[r], &du[r * dim], lr);
                for (std::size_t j = 0; j < batch + extra; j++)
                    items.step(item_ids[j], &dv[j * dim], lr);
                sum += value;
                steps++;
            }
            last = steps ? sum / static_cast<double>(steps) : 0;
            if (epoch == 0) first = last;
            if (epoch == 0 || epoch == epochs - 1 || (epoch + 1) % 5 == 0)
                std::printf("epoch %2d: mean in-batch loss %.4f\n", epoch + 1, last);
        }
        std::printf("Recall@10 on held-out items: %.4f\n", recall_at_10(d, train, users, items));
        if (!(last < first)) {
            std::printf("the loss did not go down (%.4f -> %.4f)\n", first, last);
            return 1;
        }
    } catch (const negs::error &e) {
        std::fprintf(stderr, "two_tower: %s (status %s)\n", e.what(), e.status_name());
        return 1;
    }
    return 0;
}
