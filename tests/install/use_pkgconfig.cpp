// Built with `pkg-config --cflags --libs negsample` against an installed copy: the C++ wrapper.
#include <negsample.hpp>

#include <cstdio>
#include <vector>

int main()
{
    std::vector<std::uint64_t> indptr = {0, 2, 3};
    std::vector<std::uint32_t> indices = {4, 1, 0};
    negs::csr t(2, 5, indptr, indices);
    bool ok =
        negs::version_number() == NEGS_VERSION_NUMBER && t.contains(0, 4) && !t.contains(1, 4);
    std::printf("installed negsample.hpp %s works: %s\n", negs::version_string().c_str(),
                ok ? "yes" : "no");
    return ok ? 0 : 1;
}
