// Graphviz DOT export of a pipeline.
#include <string>

#include "absl/strings/str_cat.h"
#include "landfall/pipeline.h"
#include "lib/pipeline/dot_quote.h"

namespace landfall {
namespace {

// Fill colours by priority class rank; classes past the palette reuse its end.
constexpr const char* kClassColors[] = {"#f4a582", "#92c5de", "#d1e5f0",
                                        "#fddbc7", "#b8e186", "#e0e0e0"};

using internal::DotEscaped;
using internal::DotQuoted;

const char* ClassColor(ClassId id) {
  constexpr int kCount = sizeof(kClassColors) / sizeof(kClassColors[0]);
  return kClassColors[id < kCount ? id : kCount - 1];
}

}  // namespace

std::string Pipeline::ToDot() const {
  std::string out =
      absl::StrCat("digraph ", DotQuoted(name()), " {\n", "  rankdir=LR;\n",
                   "  node [style=filled, fontname=Helvetica];\n");
  for (const PriorityClass& c : priority_classes()) {
    absl::StrAppend(&out, "  // class ", c.name, ": ", ClassColor(c.id), "\n");
  }
  for (TableId id = 0; id < table_count(); ++id) {
    const Table& t = table(id);
    const std::string& class_name = priority_classes()[t.priority_class].name;
    // The label's "\n" is DOT's line break escape, so it is not escaped.
    std::string label = absl::StrCat("\"", DotEscaped(t.name));
    if (!t.source)
      absl::StrAppend(&label, "\\n", DotEscaped(pools()[t.pool].name));
    label += "\"";
    absl::StrAppend(&out, "  ", DotQuoted(t.name), " [label=", label,
                    ", shape=", t.source ? "cylinder" : "box",
                    ", fillcolor=", DotQuoted(ClassColor(t.priority_class)),
                    ", tooltip=", DotQuoted(absl::StrCat("class ", class_name)),
                    "];\n");
  }
  for (TableId id = 0; id < table_count(); ++id) {
    for (TableId up : Upstreams(id)) {
      absl::StrAppend(&out, "  ", DotQuoted(table(up).name), " -> ",
                      DotQuoted(table(id).name), ";\n");
    }
  }
  out += "}\n";
  return out;
}

}  // namespace landfall
