// AUTAN_CHECK guards invariants of the program itself (not of its input):
// a failure is a bug, so it aborts with the location.
#pragma once

#include <cstdio>
#include <cstdlib>

#define AUTAN_CHECK(cond)                                                                    \
  do {                                                                                       \
    if (!(cond)) [[unlikely]] {                                                              \
      std::fprintf(stderr, "autan: check failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)
