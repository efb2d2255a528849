// The public header must compile alone, warning-free, as C++11, with C linkage.
#include <negsample.h>

int negs_header_check_cxx();
int negs_header_check_cxx()
{
    const char *(*name)(int) = &negs_status_name;
    return name(NEGS_OK) != nullptr ? NEGS_OK : NEGS_E_INVALID;
}
