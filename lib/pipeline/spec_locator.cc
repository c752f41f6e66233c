#include "lib/pipeline/spec_locator.h"

#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace landfall::internal {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;

// Where a field was written (line 0: it was not) and, for a message, the
// positions of its own fields.
template <typename Tree>
struct Written {
  int line = 0;
  int column = 0;
  const Tree* nested = nullptr;
};

// Follows `path` down from `root`, where `at(tree, field, index)` says where
// a field was written: the position of the deepest field on the path that
// was written, else of the file.
template <typename Tree, typename At>
SpecLocation FindAlong(const std::string& file, const Tree* root,
                       std::initializer_list<FieldStep> path, At at) {
  SpecLocation best{file, 0, 0};
  const Descriptor* descriptor = PipelineSpec::descriptor();
  const Tree* tree = root;
  for (const FieldStep& step : path) {
    if (tree == nullptr || descriptor == nullptr) break;
    const FieldDescriptor* field =
        descriptor->FindFieldByName(std::string(step.field));
    if (field == nullptr) break;
    const Written<Tree> written =
        at(*tree, field, field->is_repeated() ? step.index : -1);
    if (written.line <= 0) break;
    best.line = written.line;
    best.column = written.column;
    tree = written.nested;
    descriptor = field->message_type();
  }
  return best;
}

class NullLocator : public SpecLocator {
 public:
  explicit NullLocator(std::string file) : file_(std::move(file)) {}
  SpecLocation Find(std::initializer_list<FieldStep>) const override {
    return SpecLocation{file_, 0, 0};
  }

 private:
  std::string file_;
};

class TextProtoLocator : public SpecLocator {
 public:
  TextProtoLocator(std::string file,
                   std::unique_ptr<TextFormat::ParseInfoTree> tree)
      : file_(std::move(file)), tree_(std::move(tree)) {}

  SpecLocation Find(std::initializer_list<FieldStep> path) const override {
    return FindAlong(file_, tree_.get(), path, &At);
  }

 private:
  using Tree = TextFormat::ParseInfoTree;

  static Written<Tree> At(const Tree& tree, const FieldDescriptor* field,
                          int index) {
    const TextFormat::ParseLocation at = tree.GetLocation(field, index);
    if (at.line < 0) return {};
    return {at.line + 1, at.column + 1,
            field->type() == FieldDescriptor::TYPE_MESSAGE
                ? tree.GetTreeForNested(field, index)
                : nullptr};
  }

  std::string file_;
  std::unique_ptr<TextFormat::ParseInfoTree> tree_;
};

class TreeLocator : public SpecLocator {
 public:
  TreeLocator(std::string file, std::unique_ptr<FieldLocationTree> tree)
      : file_(std::move(file)), tree_(std::move(tree)) {}

  SpecLocation Find(std::initializer_list<FieldStep> path) const override {
    return FindAlong(file_, tree_.get(), path, &At);
  }

 private:
  static Written<FieldLocationTree> At(const FieldLocationTree& tree,
                                       const FieldDescriptor* field,
                                       int index) {
    auto it = tree.fields.find({field, index});
    if (it != tree.fields.end()) {
      return {it->second.line, it->second.column, it->second.nested.get()};
    }
    // An element not recorded: at least the list's key.
    it = tree.fields.find({field, -1});
    if (index < 0 || it == tree.fields.end()) return {};
    return {it->second.line, it->second.column, nullptr};
  }

  std::string file_;
  std::unique_ptr<FieldLocationTree> tree_;
};

class JsonLocator : public SpecLocator {
 public:
  JsonLocator(std::string file, absl::string_view text,
              const PipelineSpec& spec)
      : file_(std::move(file)) {
    IndexNameLines(text);
    for (int i = 0; i < spec.priority_class_size(); ++i) {
      class_lines_.push_back(NextLineOf(spec.priority_class(i).name()));
    }
    for (int i = 0; i < spec.pool_size(); ++i) {
      pool_lines_.push_back(NextLineOf(spec.pool(i).name()));
    }
    for (int i = 0; i < spec.sink_size(); ++i) {
      sink_lines_.push_back(NextLineOf(spec.sink(i).name()));
    }
    for (int i = 0; i < spec.table_size(); ++i) {
      table_lines_.push_back(NextLineOf(spec.table(i).name()));
    }
  }

  SpecLocation Find(std::initializer_list<FieldStep> path) const override {
    SpecLocation where{file_, 0, 0};
    if (path.size() == 0) return where;
    const FieldStep& first = *path.begin();
    const std::vector<int>* lines = nullptr;
    if (first.field == "table") lines = &table_lines_;
    if (first.field == "pool") lines = &pool_lines_;
    if (first.field == "priority_class") lines = &class_lines_;
    if (first.field == "sink") lines = &sink_lines_;
    if (lines != nullptr && first.index >= 0 &&
        first.index < static_cast<int>(lines->size())) {
      where.line = (*lines)[first.index];
    }
    return where;
  }

 private:
  // Records, for every `"name": "VALUE"` in the text, the line it is on.
  void IndexNameLines(absl::string_view text) {
    int line = 1;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') ++line;
      if (text.compare(i, 6, "\"name\"") != 0) continue;
      size_t j = i + 6;
      while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) ++j;
      if (j >= text.size() || text[j] != ':') continue;
      ++j;
      while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) ++j;
      if (j >= text.size() || text[j] != '"') continue;
      const size_t end = text.find('"', j + 1);
      if (end == absl::string_view::npos) break;
      name_lines_[std::string(text.substr(j + 1, end - j - 1))].push_back(line);
    }
  }

  // The line of the next not yet claimed `"name": "value"`, or 0.
  int NextLineOf(const std::string& value) {
    auto it = name_lines_.find(value);
    if (it == name_lines_.end()) return 0;
    int& used = used_[value];
    if (used >= static_cast<int>(it->second.size())) return 0;
    return it->second[used++];
  }

  std::string file_;
  absl::flat_hash_map<std::string, std::vector<int>> name_lines_;
  absl::flat_hash_map<std::string, int> used_;
  std::vector<int> class_lines_, pool_lines_, sink_lines_, table_lines_;
};

}  // namespace

std::unique_ptr<SpecLocator> MakeNullLocator(std::string file) {
  return std::make_unique<NullLocator>(std::move(file));
}

std::unique_ptr<SpecLocator> MakeTextProtoLocator(
    std::string file, std::unique_ptr<TextFormat::ParseInfoTree> tree) {
  return std::make_unique<TextProtoLocator>(std::move(file), std::move(tree));
}

std::unique_ptr<SpecLocator> MakeTreeLocator(
    std::string file, std::unique_ptr<FieldLocationTree> tree) {
  return std::make_unique<TreeLocator>(std::move(file), std::move(tree));
}

std::unique_ptr<SpecLocator> MakeJsonLocator(std::string file,
                                             absl::string_view text,
                                             const PipelineSpec& spec) {
  return std::make_unique<JsonLocator>(std::move(file), text, spec);
}

}  // namespace landfall::internal
