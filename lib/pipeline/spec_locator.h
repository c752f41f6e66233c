// Maps fields of a parsed spec back to where they were written.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
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

// Where each field of a message was written, nested like the message: for
// formats whose reader records positions itself (YAML). A repeated field
// has an entry for its key (index -1) and one per element.
struct FieldLocationTree {
  struct Entry {
    int line = 0;  // 1-based; 0 when unknown.
    int column = 0;
    std::unique_ptr<FieldLocationTree> nested;  // For a message field.
  };
  using Key = std::pair<const google::protobuf::FieldDescriptor*, int>;
  absl::flat_hash_map<Key, Entry> fields;
};

// For YAML: exact positions from the reader's FieldLocationTree.
std::unique_ptr<SpecLocator> MakeTreeLocator(
    std::string file, std::unique_ptr<FieldLocationTree> tree);

}  // namespace landfall::internal
