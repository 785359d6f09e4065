// Compiles attention_hwy-inl.h once per SIMD target and dispatches to the
// best one the CPU supports.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/attention_hwy.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format off
#include "hwy/highway.h"
#include "kernels/attention_hwy-inl.h"
// clang-format on

#if HWY_ONCE
namespace autan::kernels {

HWY_EXPORT(AttendGroupImpl);

void AttendGroup(const GroupAttention& a) { HWY_DYNAMIC_DISPATCH(AttendGroupImpl)(a); }

}  // namespace autan::kernels
#endif
