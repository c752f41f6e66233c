#include "lib/pipeline/spec_locator.h"

#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace landfall::internal {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;

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
    SpecLocation best{file_, 0, 0};
    const Descriptor* descriptor = PipelineSpec::descriptor();
    const TextFormat::ParseInfoTree* tree = tree_.get();
    for (const FieldStep& step : path) {
      if (tree == nullptr || descriptor == nullptr) break;
      const FieldDescriptor* field =
          descriptor->FindFieldByName(std::string(step.field));
      if (field == nullptr) break;
      const int index = field->is_repeated() ? step.index : -1;
      const auto location = tree->GetLocation(field, index);
      if (location.line < 0) break;
      best.line = location.line + 1;
      best.column = location.column + 1;
      if (field->type() != FieldDescriptor::TYPE_MESSAGE) break;
      tree = tree->GetTreeForNested(field, index);
      descriptor = field->message_type();
    }
    return best;
  }

 private:
  std::string file_;
  std::unique_ptr<TextFormat::ParseInfoTree> tree_;
};

class TreeLocator : public SpecLocator {
 public:
  TreeLocator(std::string file, std::unique_ptr<FieldLocationTree> tree)
      : file_(std::move(file)), tree_(std::move(tree)) {}

  SpecLocation Find(std::initializer_list<FieldStep> path) const override {
    SpecLocation best{file_, 0, 0};
    const Descriptor* descriptor = PipelineSpec::descriptor();
    const FieldLocationTree* tree = tree_.get();
    for (const FieldStep& step : path) {
      if (tree == nullptr || descriptor == nullptr) break;
      const FieldDescriptor* field =
          descriptor->FindFieldByName(std::string(step.field));
      if (field == nullptr) break;
      const int index = field->is_repeated() ? step.index : -1;
      auto it = tree->fields.find({field, index});
      // An element not recorded: at least the list's key.
      const bool element_unknown = it == tree->fields.end() && index >= 0;
      if (element_unknown) it = tree->fields.find({field, -1});
      if (it == tree->fields.end()) break;
      best.line = it->second.line;
      best.column = it->second.column;
      if (element_unknown) break;
      tree = it->second.nested.get();
      descriptor = field->message_type();
    }
    return best;
  }

 private:
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
