// Maps fields of a parsed spec back to where they were written.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/text_format.h"
#include "landfall/pipeline.h"

namespace landfall::internal {

// One step of a path into a PipelineSpec: a field by its proto name, and for a
// repeated field the element's index.
struct FieldStep {
  absl::string_view field;
  int index = -1;
};

class SpecLocator {
 public:
  virtual ~SpecLocator() = default;

  // Where the field at `path` was written; when that field was not written
  // (it took a default), where its closest written parent was. The file name
  // is always set; line and column are 0 when unknown.
  virtual SpecLocation Find(std::initializer_list<FieldStep> path) const = 0;
};

// For specs built in memory: only the name `file`.
std::unique_ptr<SpecLocator> MakeNullLocator(std::string file);

// For text format: exact positions from protobuf's parse info tree.
std::unique_ptr<SpecLocator> MakeTextProtoLocator(
    std::string file,
    std::unique_ptr<google::protobuf::TextFormat::ParseInfoTree> tree);

// For JSON, which keeps no positions: the line where a table, pool or class
// entry's "name" is written; fields inside an entry map to the entry's line.
std::unique_ptr<SpecLocator> MakeJsonLocator(std::string file,
                                             absl::string_view text,
                                             const PipelineSpec& spec);

}  // namespace landfall::internal
