// The problems of loading a spec that must not load, for the validation
// suites.
#pragma once

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "landfall/pipeline.h"

namespace landfall {

// The problems of loading `text` as `file` (by default "p.textproto"); fails
// the test if it loads.
inline std::vector<std::string> Problems(
    const std::string& text, SpecFormat format = SpecFormat::kTextProto,
    const std::string& file = "p.textproto") {
  std::vector<SpecProblem> problems;
  auto pipeline = Pipeline::FromText(text, format, file, &problems);
  EXPECT_FALSE(pipeline.ok());
  if (!pipeline.ok()) {
    EXPECT_EQ(pipeline.status().code(), absl::StatusCode::kInvalidArgument);
  }
  std::vector<std::string> lines;
  for (const SpecProblem& p : problems) lines.push_back(p.ToString());
  if (!pipeline.ok()) {
    // The status message holds the same problems, one per line.
    std::string joined;
    for (const std::string& line : lines) {
      joined += (joined.empty() ? "" : "\n") + line;
    }
    EXPECT_EQ(std::string(pipeline.status().message()), joined);
  }
  return lines;
}

}  // namespace landfall
