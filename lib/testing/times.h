// Times written as text in tests.
#pragma once

#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace landfall::testing {

// The time of an RFC 3339 text; a text that is not one fails the test.
inline absl::Time At(const std::string& rfc3339) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &error))
      << rfc3339 << ": " << error;
  return t;
}

}  // namespace landfall::testing
