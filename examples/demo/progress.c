/* Progress on stderr: a bar redrawn in place on a terminal, a plain line every few epochs
 * otherwise (logs, CI). */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int tty = -1;

void progress_epoch(const char *name, int epoch, int max_epochs, double loss,
                    double examples_per_s, double valid_ndcg, double secs_left)
{
    if (tty < 0) tty = isatty(2);
    if (tty) {
        char bar[21];
        int fill = (int)(20.0 * epoch / max_epochs);
        for (int k = 0; k < 20; k++) bar[k] = k < fill ? '#' : '.';
        bar[20] = '\0';
        fprintf(stderr, "\r\033[K%-13s epoch %3d/%-3d [%s] loss %.4f  %5.2fM ex/s", name,
                epoch, max_epochs, bar, loss, examples_per_s / 1e6);
        if (valid_ndcg >= 0) fprintf(stderr, "  valid NDCG@10 %.4f", valid_ndcg);
        if (secs_left >= 0) fprintf(stderr, "  <= %.0f s left", secs_left);
        fflush(stderr);
    } else if (epoch % 10 == 0 && valid_ndcg >= 0) {
        fprintf(stderr, "demo: %s epoch %d loss %.4f valid NDCG@10 %.4f\n", name, epoch, loss,
                valid_ndcg);
    }
}

void progress_done(void)
{
    if (tty == 1) fprintf(stderr, "\r\033[K");
}
