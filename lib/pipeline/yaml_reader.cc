#include "lib/pipeline/yaml_reader.h"

#include <optional>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/core/utf8.h"
#include "lib/pipeline/internal/suggest.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/yaml.h"

namespace landfall::internal {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

const char* KindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "null";
    default:
      return "a scalar";
  }
}

std::string ElementPath(const std::string& path, int index) {
  return absl::StrCat(path, "[", index, "]");
}

std::string FieldPath(const std::string& parent, const std::string& name) {
  return parent.empty() ? name : absl::StrCat(parent, ".", name);
}

// Finds a field by its proto name or, as the JSON mapping does, its JSON
// (lowerCamelCase) name.
const FieldDescriptor* FindField(const Descriptor& descriptor,
                                 const std::string& key) {
  if (const FieldDescriptor* field = descriptor.FindFieldByName(key)) {
    return field;
  }
  for (int i = 0; i < descriptor.field_count(); ++i) {
    if (descriptor.field(i)->json_name() == key) return descriptor.field(i);
  }
  return nullptr;
}

std::vector<std::string> FieldNames(const Descriptor& descriptor) {
  std::vector<std::string> names;
  for (int i = 0; i < descriptor.field_count(); ++i) {
    names.push_back(descriptor.field(i)->name());
  }
  return names;
}

// YAML 1.2's core schema spellings of a bool.
bool ParseBool(const std::string& text, bool* value) {
  if (text == "true" || text == "True" || text == "TRUE") {
    *value = true;
    return true;
  }
  if (text == "false" || text == "False" || text == "FALSE") {
    *value = false;
    return true;
  }
  return false;
}

SpecLocation AtMark(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) return SpecLocation{file, 0, 0};
  return SpecLocation{file, mark.line + 1, mark.column + 1};
}

// Notes where each document starts, building nothing.
class DocumentStarts : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    starts.push_back(mark);
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  std::vector<YAML::Mark> starts;
};

// Where a second document starts in `text`, if it has one. Not
// YAML::LoadAll: on some malformed text yaml-cpp 0.7 finds empty documents
// without end, so this asks for two at most.
std::optional<YAML::Mark> SecondDocument(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts starts;
  if (!parser.HandleNextDocument(starts) ||
      !parser.HandleNextDocument(starts)) {
    return std::nullopt;
  }
  return starts.starts.size() >= 2 ? starts.starts[1] : YAML::Mark::null_mark();
}

class YamlWalker {
 public:
  YamlWalker(std::string file, int64_t node_budget,
             std::vector<SpecProblem>* problems)
      : file_(std::move(file)), budget_(node_budget), problems_(problems) {}

  // Reads the map `node` into `message`, recording positions in `tree`.
  void ReadMessage(const YAML::Node& node, const std::string& path,
                   Message* message, FieldLocationTree* tree) {
    if (!Spend(node)) return;
    if (!node.IsMap()) {
      Problem(node, absl::StrCat(path.empty() ? "the spec" : path,
                                 ": expected a map, found ", KindName(node)));
      return;
    }
    const Descriptor& descriptor = *message->GetDescriptor();
    absl::flat_hash_set<const FieldDescriptor*> seen;
    for (const auto& pair : node) {
      if (budget_ < 0) return;
      const YAML::Node& key = pair.first;
      const YAML::Node& value = pair.second;
      if (!Spend(key)) return;
      if (!key.IsScalar()) {
        Problem(key, absl::StrCat(path.empty() ? "the spec" : path,
                                  ": a key must be a scalar, found ",
                                  KindName(key)));
        continue;
      }
      const FieldDescriptor* field = FindField(descriptor, key.Scalar());
      if (field == nullptr) {
        Problem(key,
                absl::StrCat("unknown key \"", absl::CEscape(key.Scalar()),
                             "\" in ", path.empty() ? "the spec" : path,
                             DidYouMean(key.Scalar(), FieldNames(descriptor))));
        continue;
      }
      const std::string field_path = FieldPath(path, field->name());
      if (!seen.insert(field).second) {
        Problem(key, absl::StrCat(field_path, ": key written twice"));
        continue;
      }
      FieldLocationTree::Entry& entry = tree->fields[{field, -1}];
      SetPosition(key, &entry);
      if (value.IsNull()) {
        Spend(value);
        continue;  // As in JSON: null leaves the field unset.
      }
      if (const auto* oneof = field->real_containing_oneof();
          oneof != nullptr &&
          message->GetReflection()->HasOneof(*message, oneof)) {
        Problem(key, absl::StrCat(field_path, ": ", oneof->name(),
                                  " is already set by another key"));
        continue;
      }
      if (field->is_map()) {
        ReadMapField(value, field_path, field, message);
      } else if (field->is_repeated()) {
        ReadRepeatedField(value, field_path, field, message, tree);
      } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        entry.nested = std::make_unique<FieldLocationTree>();
        ReadMessage(value, field_path,
                    message->GetReflection()->MutableMessage(message, field),
                    entry.nested.get());
      } else {
        ReadScalar(value, field_path, field, message);
      }
    }
  }

 private:
  void ReadRepeatedField(const YAML::Node& node, const std::string& path,
                         const FieldDescriptor* field, Message* message,
                         FieldLocationTree* tree) {
    const bool of_messages =
        field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
    if (!node.IsSequence()) {
      if (of_messages || !node.IsScalar()) {
        if (!Spend(node)) return;
        Problem(node, absl::StrCat(path, ": expected a list, found ",
                                   KindName(node)));
        return;
      }
      ReadElement(node, path, 0, field, message, tree);
      return;
    }
    if (!Spend(node)) return;
    int index = 0;
    for (const auto& element : node) {
      if (budget_ < 0) return;
      ReadElement(element, ElementPath(path, index), index, field, message,
                  tree);
      ++index;
    }
  }

  void ReadElement(const YAML::Node& node, const std::string& path, int index,
                   const FieldDescriptor* field, Message* message,
                   FieldLocationTree* tree) {
    FieldLocationTree::Entry& entry = tree->fields[{field, index}];
    SetPosition(node, &entry);
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      ReadScalar(node, path, field, message);
      return;
    }
    entry.nested = std::make_unique<FieldLocationTree>();
    ReadMessage(node, path,
                message->GetReflection()->AddMessage(message, field),
                entry.nested.get());
  }

  // A protobuf map field: a YAML map of keys to values.
  void ReadMapField(const YAML::Node& node, const std::string& path,
                    const FieldDescriptor* field, Message* message) {
    if (!Spend(node)) return;
    if (!node.IsMap()) {
      Problem(node,
              absl::StrCat(path, ": expected a map, found ", KindName(node)));
      return;
    }
    const FieldDescriptor* key_field = field->message_type()->map_key();
    const FieldDescriptor* value_field = field->message_type()->map_value();
    absl::flat_hash_set<std::string> seen;
    for (const auto& pair : node) {
      if (budget_ < 0 || !Spend(pair.first)) return;
      if (!pair.first.IsScalar()) {
        Problem(pair.first,
                absl::StrCat(path, ": a key must be a scalar, found ",
                             KindName(pair.first)));
        continue;
      }
      const std::string& key = pair.first.Scalar();
      const std::string entry_path =
          absl::StrCat(path, "[\"", absl::CEscape(key), "\"]");
      if (!seen.insert(key).second) {
        Problem(pair.first, absl::StrCat(entry_path, ": key written twice"));
        continue;
      }
      Message* entry = message->GetReflection()->AddMessage(message, field);
      ReadScalar(pair.first, entry_path, key_field, entry);
      if (value_field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        FieldLocationTree ignored;  // Entries of a map are not located.
        ReadMessage(pair.second, entry_path,
                    entry->GetReflection()->MutableMessage(entry, value_field),
                    &ignored);
      } else {
        ReadScalar(pair.second, entry_path, value_field, entry);
      }
    }
  }

  // Sets (or, for a repeated field, adds) the scalar `node` by the field's
  // type.
  void ReadScalar(const YAML::Node& node, const std::string& path,
                  const FieldDescriptor* field, Message* message) {
    if (!Spend(node)) return;
    if (!node.IsScalar()) {
      Problem(node, absl::StrCat(path, ": expected a scalar, found ",
                                 KindName(node)));
      return;
    }
    const std::string& text = node.Scalar();
    const Reflection& r = *message->GetReflection();
    const bool add = field->is_repeated();
    auto wrong = [&](absl::string_view expected) {
      Problem(node, absl::StrCat(path, ": \"", absl::CEscape(text),
                                 "\" is not ", expected));
    };
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        if (field->type() == FieldDescriptor::TYPE_STRING &&
            !IsValidUtf8(text)) {
          return wrong("UTF-8 text");
        }
        return add ? r.AddString(message, field, text)
                   : r.SetString(message, field, text);
      case FieldDescriptor::CPPTYPE_BOOL: {
        bool value = false;
        if (!ParseBool(text, &value)) return wrong("true or false");
        return add ? r.AddBool(message, field, value)
                   : r.SetBool(message, field, value);
      }
      case FieldDescriptor::CPPTYPE_INT32: {
        int32_t value = 0;
        if (!absl::SimpleAtoi(text, &value)) return wrong("a 32-bit integer");
        return add ? r.AddInt32(message, field, value)
                   : r.SetInt32(message, field, value);
      }
      case FieldDescriptor::CPPTYPE_INT64: {
        int64_t value = 0;
        if (!absl::SimpleAtoi(text, &value)) return wrong("a 64-bit integer");
        return add ? r.AddInt64(message, field, value)
                   : r.SetInt64(message, field, value);
      }
      case FieldDescriptor::CPPTYPE_UINT32: {
        uint32_t value = 0;
        if (!absl::SimpleAtoi(text, &value)) {
          return wrong("an unsigned 32-bit integer");
        }
        return add ? r.AddUInt32(message, field, value)
                   : r.SetUInt32(message, field, value);
      }
      case FieldDescriptor::CPPTYPE_UINT64: {
        uint64_t value = 0;
        if (!absl::SimpleAtoi(text, &value)) {
          return wrong("an unsigned 64-bit integer");
        }
        return add ? r.AddUInt64(message, field, value)
                   : r.SetUInt64(message, field, value);
      }
      case FieldDescriptor::CPPTYPE_DOUBLE: {
        double value = 0;
        if (!absl::SimpleAtod(text, &value)) return wrong("a number");
        return add ? r.AddDouble(message, field, value)
                   : r.SetDouble(message, field, value);
      }
      case FieldDescriptor::CPPTYPE_FLOAT: {
        float value = 0;
        if (!absl::SimpleAtof(text, &value)) return wrong("a number");
        return add ? r.AddFloat(message, field, value)
                   : r.SetFloat(message, field, value);
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        const EnumValueDescriptor* value =
            field->enum_type()->FindValueByName(text);
        if (value == nullptr) {
          std::vector<std::string> names;
          for (int i = 0; i < field->enum_type()->value_count(); ++i) {
            names.push_back(field->enum_type()->value(i)->name());
          }
          Problem(node,
                  absl::StrCat(path, ": unknown value \"", absl::CEscape(text),
                               "\"", DidYouMean(text, names)));
          return;
        }
        return add ? r.AddEnum(message, field, value)
                   : r.SetEnum(message, field, value);
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        return wrong("a map");
    }
  }

  // Counts `node` against the budget; false once it is spent (the problem
  // is reported once).
  bool Spend(const YAML::Node& node) {
    if (--budget_ >= 0) return true;
    if (!budget_reported_) {
      budget_reported_ = true;
      Problem(node,
              "the spec expands to too many YAML nodes (aliases repeating "
              "aliases?)");
    }
    return false;
  }

  void SetPosition(const YAML::Node& node, FieldLocationTree::Entry* entry) {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null()) return;
    entry->line = mark.line + 1;
    entry->column = mark.column + 1;
  }

  void Problem(const YAML::Node& node, std::string message) {
    problems_->push_back(
        SpecProblem{AtMark(file_, node.Mark()), std::move(message)});
  }

  std::string file_;
  int64_t budget_;
  bool budget_reported_ = false;
  std::vector<SpecProblem>* problems_;
};

}  // namespace

std::unique_ptr<SpecLocator> ReadYamlSpec(absl::string_view text,
                                          const std::string& file,
                                          PipelineSpec* spec,
                                          std::vector<SpecProblem>* problems) {
  auto tree = std::make_unique<FieldLocationTree>();
  const std::string input(text);
  YAML::Node document;
  try {
    document = YAML::Load(input);
    const std::optional<YAML::Mark> second = SecondDocument(input);
    if (second.has_value()) {
      problems->push_back(
          SpecProblem{AtMark(file, *second),
                      "a spec is one YAML document; this is a second one"});
      return MakeTreeLocator(file, std::move(tree));
    }
  } catch (const YAML::Exception& e) {
    problems->push_back(SpecProblem{AtMark(file, e.mark),
                                    absl::StrCat("invalid YAML: ", e.msg)});
    return MakeTreeLocator(file, std::move(tree));
  }
  if (document.IsNull()) return MakeTreeLocator(file, std::move(tree));
  YamlWalker walker(file,
                    kYamlBaseNodeBudget + 4 * static_cast<int64_t>(text.size()),
                    problems);
  try {
    walker.ReadMessage(document, "", spec, tree.get());
  } catch (const YAML::Exception& e) {  // Not expected: nodes are checked.
    problems->push_back(SpecProblem{AtMark(file, e.mark),
                                    absl::StrCat("invalid YAML: ", e.msg)});
  }
  return MakeTreeLocator(file, std::move(tree));
}

}  // namespace landfall::internal
