/* The training loop: shuffled mini-batches, one strategy step and one Adam step each, validation
 * after every epoch, early stopping, test at the best validation epoch (RecBole's protocol). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

int train_strategy(const strategy_def *def, const dataset *d, const train_opts *o,
                   train_result *res, char *err, size_t err_len)
{
    memset(res, 0, sizeof *res);
    double t0 = now_seconds();
    host_rng r = {o->seed * 0x9E3779B97F4A7C15ULL + 1};
    size_t n = d->n_train, batch = (size_t)def->batch;
    long steps_per_epoch = (long)((n + batch - 1) / batch);
    model mo = {0}, best = {0};
    pair *order = malloc(n * sizeof *order);
    strategy *s = NULL;
    int rc = -1;
    if (model_init(&mo, d->n_users, d->n_items, &r) ||
        model_init(&best, d->n_users, d->n_items, &r) || !order) {
        snprintf(err, err_len, "out of memory");
        goto out;
    }
    memcpy(order, d->train, n * sizeof *order);
    s = strategy_create(def, d, o->seed, o->threads, steps_per_epoch,
                                  err, err_len);
    if (!s || strategy_set_precision(s, o->precision, err, err_len)) goto out;
    double train_secs = 0;
    uint64_t step = 0;
    int since_best = 0;
    res->best_valid = -1;
    for (int epoch = 1; epoch <= o->max_epochs; epoch++) {
        double te = now_seconds();
        for (size_t i = n; i > 1; i--) {
            size_t j = (size_t)(rng_uniform(&r) * (double)i);
            pair t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
        double loss_sum = 0;
        for (size_t b = 0; b < n; b += batch) {
            size_t m = n - b < batch ? n - b : batch;
            float loss;
            if (strategy_step(s, &mo, step++, order + b, m, &loss, err, err_len)) goto out;
            model_adam(&mo, (float)def->lr);
            loss_sum += loss;
        }
        train_secs += now_seconds() - te;
        res->epochs = epoch;
        double loss = loss_sum / (double)steps_per_epoch;
        double ex_s = (double)n * epoch / train_secs;
        if (epoch % o->eval_every && epoch != o->max_epochs) {
            progress_epoch(def->name, epoch, o->max_epochs, loss, ex_s, -1, -1);
            continue;
        }
        metrics v;
        if (evaluate(&mo, d, d->valid_csr, d->train_csr, NULL, d->valid_only, o->threads, &v)) {
            snprintf(err, err_len, "out of memory in evaluation");
            goto out;
        }
        double elapsed = now_seconds() - t0;
        int h = res->n_hist++;
        res->hist_valid[h] = v.ndcg;
        res->hist_secs[h] = elapsed;
        res->hist_loss[h] = loss;
        res->hist_epoch[h] = epoch;
        if (v.ndcg > res->best_valid) {
            res->best_valid = v.ndcg;
            res->best_epoch = epoch;
            model_copy(&best, &mo);
            since_best = 0;
        } else {
            since_best += o->eval_every;
        }
        double left = elapsed / epoch * (o->max_epochs - epoch);
        progress_epoch(def->name, epoch, o->max_epochs, loss, ex_s, v.ndcg, left);
        if (since_best >= o->patience) break;
    }
    if (evaluate(&best, d, d->test_csr, d->train_csr, d->valid_csr, NULL, o->threads, &res->test)) {
        snprintf(err, err_len, "out of memory in evaluation");
        goto out;
    }
    res->train_seconds = train_secs;
    res->seconds = now_seconds() - t0;
    res->examples_per_s = (double)n * res->epochs / train_secs;
    res->negatives = strategy_drawn(s);
    rc = 0;
out:
    progress_done();
    strategy_free(s);
    model_free(&mo);
    model_free(&best);
    free(order);
    return rc;
}
