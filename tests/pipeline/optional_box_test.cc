// OptionalBox: an optional value one pointer wide, read as std::optional.
#include "landfall/optional_box.h"

#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "gtest/gtest.h"
#include "landfall/pipeline.h"

namespace landfall {
namespace {

struct Point {
  int x = 0;
  std::string label;
  bool operator==(const Point& o) const { return x == o.x && label == o.label; }
};

static_assert(sizeof(OptionalBox<FreshnessDeadline>) == sizeof(void*));
static_assert(sizeof(OptionalBox<FreshnessDeadline>) <
              sizeof(std::optional<FreshnessDeadline>));
static_assert(std::is_nothrow_move_constructible_v<OptionalBox<Point>>);
static_assert(std::is_nothrow_move_assignable_v<OptionalBox<Point>>);
// A Table stays movable without copies when a vector of them grows.
static_assert(std::is_nothrow_move_constructible_v<Table>);

TEST(OptionalBoxTest, EmptyByDefaultAndFromNullopt) {
  OptionalBox<Point> a;
  EXPECT_FALSE(a.has_value());
  EXPECT_FALSE(a);
  OptionalBox<Point> b = std::nullopt;
  EXPECT_FALSE(b.has_value());
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, std::nullopt);
  EXPECT_EQ(std::nullopt, a);
  EXPECT_THROW(a.value(), std::bad_optional_access);
  EXPECT_EQ(a.value_or(Point{7, "p"}), (Point{7, "p"}));
}

TEST(OptionalBoxTest, HoldsAValue) {
  OptionalBox<Point> a = Point{1, "one"};
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a);
  EXPECT_EQ(a->x, 1);
  EXPECT_EQ((*a).label, "one");
  EXPECT_EQ(a.value().label, "one");
  EXPECT_EQ(a.value_or(Point{}), (Point{1, "one"}));
  a->x = 2;
  (*a).label = "two";
  EXPECT_EQ(a, (Point{2, "two"}));
  EXPECT_EQ((Point{2, "two"}), a);
  EXPECT_NE(a, (Point{2, "deux"}));
  EXPECT_NE(a, std::nullopt);
  a.reset();
  EXPECT_FALSE(a);
  a.emplace(Point{3, "three"});
  EXPECT_EQ(a->x, 3);
}

TEST(OptionalBoxTest, CopiesAreDeep) {
  OptionalBox<Point> a = Point{1, "one"};
  OptionalBox<Point> b = a;
  ASSERT_TRUE(b);
  EXPECT_NE(&*a, &*b);
  EXPECT_EQ(a, b);
  b->label = "changed";
  EXPECT_EQ(a->label, "one");
  EXPECT_NE(a, b);

  OptionalBox<Point> c;
  c = a;  // Empty to full.
  EXPECT_EQ(c, a);
  EXPECT_NE(&*c, &*a);
  const Point* held = &*c;
  c = b;  // Full to full keeps its allocation.
  EXPECT_EQ(&*c, held);
  EXPECT_EQ(c->label, "changed");
  c = OptionalBox<Point>();  // Full to empty.
  EXPECT_FALSE(c);
  // Assigning a box to itself leaves it as it was.
  const OptionalBox<Point>& also_c = c;
  c = also_c;
  EXPECT_FALSE(c);
  const OptionalBox<Point>& also_a = a;
  a = also_a;
  EXPECT_EQ(a->label, "one");
}

TEST(OptionalBoxTest, MovesThePointer) {
  OptionalBox<Point> a = Point{1, "one"};
  const Point* held = &*a;
  OptionalBox<Point> b = std::move(a);
  EXPECT_EQ(&*b, held);
  EXPECT_FALSE(a);  // NOLINT: a moved-from box is empty.
  OptionalBox<Point> c;
  c = std::move(b);
  EXPECT_EQ(&*c, held);
}

TEST(OptionalBoxTest, ConvertsFromAndToStdOptional) {
  std::optional<Point> none;
  std::optional<Point> some = Point{5, "five"};
  OptionalBox<Point> a = none;
  EXPECT_FALSE(a);
  OptionalBox<Point> b = some;
  ASSERT_TRUE(b);
  EXPECT_EQ(b->label, "five");
  EXPECT_EQ(b, some);
  EXPECT_EQ(some, b);
  EXPECT_EQ(a, none);
  EXPECT_NE(a, some);
  EXPECT_NE(some, a);
  EXPECT_NE(b, none);
  OptionalBox<Point> moved = std::move(some);
  EXPECT_EQ(moved->label, "five");

  a = std::optional<Point>(Point{6, "six"});
  EXPECT_EQ(a->x, 6);
  a = std::nullopt;
  EXPECT_FALSE(a);

  std::optional<Point> back = b;
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, (Point{5, "five"}));
  back = a;  // Empty.
  EXPECT_FALSE(back.has_value());
  // Passed where a std::optional<T> is taken.
  auto label = [](const std::optional<Point>& p) {
    return p ? p->label : "none";
  };
  EXPECT_EQ(label(b), "five");
  EXPECT_EQ(label(a), "none");
}

// Table::deadline is a box: a table without a deadline holds one pointer.
TEST(OptionalBoxTest, TableDeadlineReadsAsAnOptional) {
  auto p = Pipeline::FromText(R"(
table { name: "s" source: true freshness { deadline: "06:00 Asia/Tokyo" } }
table { name: "d" upstream: "s" }
)",
                              SpecFormat::kTextProto, "spec");
  ASSERT_TRUE(p.ok()) << p.status();
  const Table& s = (*p)->table(0);
  ASSERT_TRUE(s.deadline.has_value());
  EXPECT_EQ(s.deadline->hour, 6);
  EXPECT_EQ(s.deadline->zone_name, "Asia/Tokyo");
  EXPECT_EQ(s.deadline->days, 1);
  EXPECT_FALSE((*p)->table(1).deadline);
  std::optional<FreshnessDeadline> copied = s.deadline;
  ASSERT_TRUE(copied.has_value());
  EXPECT_EQ(copied->zone_name, "Asia/Tokyo");
  Table t = s;
  EXPECT_NE(&*t.deadline, &*s.deadline);
  EXPECT_EQ(t.deadline->zone_name, "Asia/Tokyo");
}

}  // namespace
}  // namespace landfall
