// Reading a YAML spec onto a PipelineSpec, generically over the protobuf
// schema (reflection): a field added to pipeline.proto reads from YAML with
// no code here.
//
// The mapping follows protobuf's JSON mapping: a message is a map whose keys
// are field names (proto `snake_case` or JSON `lowerCamelCase`), a repeated
// field is a list (a repeated scalar also takes one scalar for a one-element
// list; a repeated message takes only a list), a map field is a map, an enum
// is its value's name, a bool is true or false, and null leaves a field
// unset. Anchors and aliases are expanded.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "landfall/pipeline.h"
#include "lib/pipeline/spec_locator.h"

namespace landfall::internal {

// A YAML spec expands to at most this many nodes plus four per byte of
// text: aliases may repeat a part, but not grow a small file into a huge
// walk (an "alias bomb").
inline constexpr int64_t kYamlBaseNodeBudget = 100'000;

// Reads `text` into `spec`, appending one problem per error (file:line) to
// `problems`. Returns the locator of the fields read, also when there are
// problems.
std::unique_ptr<SpecLocator> ReadYamlSpec(absl::string_view text,
                                          const std::string& file,
                                          PipelineSpec* spec,
                                          std::vector<SpecProblem>* problems);

}  // namespace landfall::internal
