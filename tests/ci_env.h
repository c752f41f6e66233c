// Whether the tests run in CI: there a test server that is missing fails
// the tests that need it, instead of skipping them, so that CI never passes
// without having run them.
#pragma once

#include <cstdlib>
#include <string_view>

namespace landfall::testing {

// Whether CI=true.
inline bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

}  // namespace landfall::testing
