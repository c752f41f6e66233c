// Reading spec files and parsing spec text into a PipelineSpec.
#pragma once

#include <cstdint>
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

// A spec larger than this is refused rather than read.
inline constexpr int64_t kMaxSpecBytes = int64_t{256} << 20;

// The whole file, as ReadRegularFile reads it (lib/pipeline/internal).
absl::StatusOr<std::string> ReadSpecFile(const std::string& path);

// kAuto resolved by file name (".json", ".yaml", ".yml", ".textproto",
// ".txtpb", ".pbtxt") and, failing that, by content (JSON starts with '{').
SpecFormat ResolveSpecFormat(SpecFormat format, absl::string_view file,
                             absl::string_view text);

// Parses `text`. A syntax error appends one problem per error to `problems`
// and returns InvalidArgument holding them all.
absl::StatusOr<ParsedSpec> ParseSpecText(absl::string_view text,
                                         SpecFormat format,
                                         absl::string_view file,
                                         std::vector<SpecProblem>* problems);

using ParseInfoTree = google::protobuf::TextFormat::ParseInfoTree;

// Appends a problem for each string field of `message`, at any depth, that
// is not UTF-8, located by `tree` (null: at `where`).
void FindNonUtf8Strings(const google::protobuf::Message& message,
                        const ParseInfoTree* tree, const SpecLocation& where,
                        std::vector<SpecProblem>* problems);

// InvalidArgument with one problem per line.
absl::Status ProblemsToStatus(const std::vector<SpecProblem>& problems);

}  // namespace landfall::internal
