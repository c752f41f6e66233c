// Reading spec files and parsing spec text into a PipelineSpec.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "landfall/pipeline.h"
#include "lib/pipeline/spec_locator.h"

namespace landfall::internal {

struct ParsedSpec {
  PipelineSpec spec;
  std::unique_ptr<SpecLocator> locator;
};

// The whole file. NotFound, PermissionDenied or Unavailable, naming the path
// and the system's reason, when it cannot be read.
absl::StatusOr<std::string> ReadSpecFile(const std::string& path);

// kAuto resolved by file name (".json") and, failing that, by content (JSON
// starts with '{').
SpecFormat ResolveSpecFormat(SpecFormat format, absl::string_view file,
                             absl::string_view text);

// Parses `text`. A syntax error appends one problem per error to `problems`
// and returns InvalidArgument holding them all.
absl::StatusOr<ParsedSpec> ParseSpecText(absl::string_view text,
                                         SpecFormat format,
                                         absl::string_view file,
                                         std::vector<SpecProblem>* problems);

// InvalidArgument with one problem per line.
absl::Status ProblemsToStatus(const std::vector<SpecProblem>& problems);

}  // namespace landfall::internal
