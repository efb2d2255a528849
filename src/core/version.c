/* Version of the library actually loaded. */
#include "negsample.h"

#define NEGS_STR2(x) #x
#define NEGS_STR(x) NEGS_STR2(x)

NEGS_API unsigned negs_version_number(void)
{
    return NEGS_VERSION_NUMBER;
}

NEGS_API const char *negs_version_string(void)
{
    return NEGS_STR(NEGS_VERSION_MAJOR) "." NEGS_STR(NEGS_VERSION_MINOR) "." NEGS_STR(
        NEGS_VERSION_PATCH);
}
