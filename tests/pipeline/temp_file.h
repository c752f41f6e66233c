// Spec files written for a test.
#pragma once

#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace landfall {

// Writes `text` to the file `name` in the test's temporary directory and
// returns its path.
inline std::string WriteTempFile(const std::string& name,
                                 const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace landfall
