/* The public header must compile alone, warning-free, as C99 and C11. */
#include <negsample.h>

int negs_header_check(void);
int negs_header_check(void)
{
    return NEGS_VERSION_NUMBER > 0 ? NEGS_OK : NEGS_E_INVALID;
}
