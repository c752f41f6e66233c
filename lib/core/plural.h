// Counts in text: "1 task", "2 tasks". Header-only, so that the CLI (which
// cannot see the library's hidden symbols) says counts the same way.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace landfall::internal {

// `n` and the noun in the number it takes: `one` for 1, else `many`
// (`one` + "s" when empty): Counted(1, "entry", "entries") is "1 entry".
inline std::string Counted(int64_t n, absl::string_view one,
                           absl::string_view many = {}) {
  if (n == 1) return absl::StrCat(n, " ", one);
  return many.empty() ? absl::StrCat(n, " ", one, "s")
                      : absl::StrCat(n, " ", many);
}

}  // namespace landfall::internal
