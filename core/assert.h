// Assertions that stay on in release builds. They are for *our* mistakes: a
// failed assertion means the replica's own state is wrong and continuing could
// sign something unsafe, so the process stops with the condition and place.
// Byzantine input never reaches an assertion; it is rejected with a reason.
#pragma once

namespace synod::detail {
[[noreturn]] void assert_fail(const char* condition, const char* file, int line);
}

#define SYNOD_ASSERT(condition)                                              \
  do {                                                                       \
    if (!(condition)) [[unlikely]]                                           \
      ::synod::detail::assert_fail(#condition, __FILE__, __LINE__);          \
  } while (false)
