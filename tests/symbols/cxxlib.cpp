// A C++ library (pulls in libstdc++): its names must come out demangled.
#include <cstdint>
#include <string>

namespace ixt {
__attribute__((noinline)) std::size_t twice(const std::string &s) { return (s + s).size(); }
}

extern "C" std::uintptr_t cxxlib_twice_addr() { return reinterpret_cast<std::uintptr_t>(&ixt::twice); }
