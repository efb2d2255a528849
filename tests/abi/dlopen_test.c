/* dlopens the library and resolves every symbol of the checked-in list, then calls a few
 * through the resolved pointers. Usage: dlopen_test LIB SYMBOLS_FILE */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s LIB SYMBOLS_FILE\n", argv[0]);
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        perror(argv[2]);
        return 1;
    }
    char name[256];
    int n = 0, missing = 0;
    while (fscanf(f, "%255s", name) == 1) {
        n++;
        if (!dlsym(h, name)) {
            fprintf(stderr, "dlsym(%s): not found\n", name);
            missing++;
        }
    }
    fclose(f);
    unsigned (*version)(void);
    const char *(*status_name)(int);
    *(void **)&version = dlsym(h, "negs_version_number");
    *(void **)&status_name = dlsym(h, "negs_status_name");
    if (!version || !status_name || version() == 0 || strcmp(status_name(-1), "NEGS_E_INVALID")) {
        fprintf(stderr, "calls through dlsym gave wrong answers\n");
        return 1;
    }
    dlclose(h);
    printf("check-dlopen: resolved %d of %d symbols\n", n - missing, n);
    return missing ? 1 : 0;
}
