// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// The method registry (spectral/methods/registry.hpp): names, text form, visit_method and the
// parameter ranges, checked against the method types themselves.

#include <spectral/spectral.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_exception.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

using Catch::Matchers::ContainsSubstring;
using Catch::Matchers::MessageMatches;

namespace {

/// The names of builtin_methods, taken from the types through for_each_method.
std::vector<std::string_view> names_from_types() {
  std::vector<std::string_view> out;
  spectral::for_each_method(
      [&]<class Method>(std::type_identity<Method>) { out.push_back(Method::name()); });
  return out;
}

/// The message of the invalid_input that fn throws ("" when it throws none; any other exception
/// propagates and fails the test).
template <class Fn>
std::string invalid_input_message(Fn&& fn) {
  try {
    fn();
  } catch (const spectral::invalid_input& e) {
    return e.what();
  }
  return {};
}

/// Whether `message` names `value` and every built-in method.
bool names_value_and_every_method(const std::string& message, std::string_view value) {
  bool all = message.find(value) != std::string::npos;
  for (const std::string_view name : {"zca", "pca", "cholesky", "power", "iternorm"}) {
    all = all && message.find(name) != std::string::npos;
  }
  return all;
}

}  // namespace

TEST_CASE("registry: the names list is the type list", "[registry]") {
  static_assert(spectral::builtin_methods::size == 5);
  static_assert(spectral::in_method_list<spectral::iter_norm>);
  static_assert(!spectral::in_method_list<int>);
  const std::vector<std::string_view> expected = names_from_types();
  const auto names = spectral::method_names();
  REQUIRE(names.size() == spectral::builtin_methods::size);
  CHECK(std::vector<std::string_view>(names.begin(), names.end()) == expected);
  CHECK(expected == std::vector<std::string_view>{"zca", "pca", "cholesky", "power", "iternorm"});
  CHECK(std::set<std::string_view>(names.begin(), names.end()).size() == names.size());
  CHECK(spectral::joined_method_names(" | ") == "zca | pca | cholesky | power | iternorm");

  const auto table = spectral::method_table();
  REQUIRE(table.size() == names.size());
  for (std::size_t i = 0; i < table.size(); ++i) {
    CAPTURE(table[i].name);
    CHECK(table[i].name == names[i]);
    CHECK(!table[i].description.empty());
    CHECK(table[i].description.find('\n') == std::string_view::npos);  // one line
    CHECK(spectral::find_method(names[i]) == &table[i]);
  }
  CHECK(spectral::find_method("whitening") == nullptr);
}

TEST_CASE("registry: the parameters and their ranges are the constructors' ranges", "[registry]") {
  const auto* power = spectral::find_method("power");
  REQUIRE(power != nullptr);
  REQUIRE(power->parameters.size() == 1);
  const auto& p = power->parameters[0];
  CHECK(p.name == "p");
  CHECK(p.kind == spectral::parameter_kind::real);
  CHECK(p.low == spectral::min_power);
  CHECK_NOTHROW(spectral::power_function{p.low});
  CHECK_NOTHROW(spectral::power_function{p.high});
  CHECK_THROWS_AS(spectral::power_function{std::nextafter(p.low, -1.0)}, spectral::invalid_input);

  const auto* iternorm = spectral::find_method("iternorm");
  REQUIRE(iternorm != nullptr);
  REQUIRE(iternorm->parameters.size() == 2);
  const auto& t = iternorm->parameters[0];
  CHECK(t.name == "T");
  CHECK(t.kind == spectral::parameter_kind::integer);
  CHECK(t.low == spectral::min_iterations);
  CHECK(t.high == spectral::iter_norm::max_iterations);
  CHECK_NOTHROW(spectral::iter_norm{static_cast<int>(t.low)});
  CHECK_NOTHROW(spectral::iter_norm{static_cast<int>(t.high)});
  CHECK_THROWS_AS(spectral::iter_norm{static_cast<int>(t.low) - 1}, spectral::invalid_input);
  CHECK_THROWS_AS(spectral::iter_norm{static_cast<int>(t.high) + 1}, spectral::invalid_input);
  const auto& solver = iternorm->parameters[1];
  CHECK(solver.name == "solver");
  CHECK(solver.kind == spectral::parameter_kind::choice);
  REQUIRE(solver.choices.size() == 3);
  using spectral::iter_norm_solver;
  for (const auto route :
       {iter_norm_solver::automatic, iter_norm_solver::newton, iter_norm_solver::eigen}) {
    CHECK(solver.choices[static_cast<std::size_t>(route)] == spectral::to_string(route));
  }

  for (const auto* name : {"zca", "pca", "cholesky"}) {
    CAPTURE(name);
    CHECK(spectral::find_method(name)->parameters.empty());
  }
}

TEST_CASE("registry: every built-in name round-trips parse -> to_string", "[registry]") {
  for (const std::string_view name : spectral::method_names()) {
    CAPTURE(name);
    const spectral::method_spec spec = spectral::parse_method(name);
    CHECK(spec.name == name);
    CHECK(spectral::to_string(spec) == name);
  }
}

TEST_CASE("registry: parameters round-trip through the text form", "[registry]") {
  const auto text =
      GENERATE(as<std::string>{}, "power:p=0.25", "power:p=0", "power:p=1.2e-07", "iternorm:T=5",
               "iternorm:solver=eigen", "iternorm:T=1000,solver=newton", "iternorm:T=1");
  CAPTURE(text);
  const spectral::method_spec spec = spectral::parse_method(text);
  CHECK(spectral::to_string(spec) == text);
  const spectral::method_spec again = spectral::parse_method(spectral::to_string(spec));
  CHECK(again.name == spec.name);
  CHECK(again.power == spec.power);
  CHECK(again.iterations == spec.iterations);
  CHECK(again.solver == spec.solver);

  // Parameters at their defaults are left out; keys may come in any order.
  CHECK(spectral::to_string(spectral::parse_method("power:p=0.5")) == "power");
  CHECK(spectral::to_string(spectral::parse_method("iternorm:solver=eigen,T=7")) ==
        "iternorm:T=7,solver=eigen");
  // Parameters another method reads do not show.
  spectral::method_spec zca = spectral::spec_of<spectral::zca_whitening>();
  zca.power = 0.1;
  zca.iterations = 9;
  CHECK(spectral::to_string(zca) == "zca");
  // A p that needs all 17 digits comes back bit for bit.
  spectral::method_spec power = spectral::spec_of<spectral::power_function>();
  power.power = 0.1 + 0.2;
  CHECK(spectral::parse_method(spectral::to_string(power)).power == power.power);
}

TEST_CASE("registry: every visited method's name() is its registered name", "[registry]") {
  for (const std::string_view name : spectral::method_names()) {
    CAPTURE(name);
    spectral::method_spec spec;
    spec.name = std::string(name);
    const std::string_view visited =
        spectral::visit_method(spec, [](const auto& method) { return method.name(); });
    CHECK(visited == name);
  }
  spectral::for_each_method([]<class Method>(std::type_identity<Method>) {
    const auto spec = spectral::spec_of<Method>();
    const bool same_type = spectral::visit_method(spec, [](const auto& method) {
      return std::is_same_v<std::decay_t<decltype(method)>, Method>;
    });
    CHECK(same_type);
  });
}

TEST_CASE("registry: visit_method hands over the spec's parameters", "[registry]") {
  spectral::method_spec spec = spectral::parse_method("iternorm:T=7,solver=eigen");
  const auto route = spectral::visit_method(spec, [](const auto& method) -> std::string {
    if constexpr (std::is_same_v<std::decay_t<decltype(method)>, spectral::iter_norm>) {
      return std::to_string(method.iterations) + std::string(spectral::to_string(method.solver));
    } else {
      return "wrong method";
    }
  });
  CHECK(route == "7eigen");
  spec = spectral::parse_method("power:p=0.3");
  const double p = spectral::visit_method(spec, [](const auto& method) {
    if constexpr (std::is_same_v<std::decay_t<decltype(method)>, spectral::power_function>) {
      return method.power;
    } else {
      return -1.0;
    }
  });
  CHECK(p == 0.3);
  // A void fn.
  int calls = 0;
  spectral::visit_method(spec, [&](const auto& /*method*/) { ++calls; });
  CHECK(calls == 1);
  // make_method: the type's own constructor on the spec's parameters.
  CHECK(spectral::make_method<spectral::iter_norm>(spectral::parse_method("iternorm:T=3"))
            .iterations == 3);
}

TEST_CASE("registry: unknown names throw invalid_input naming the value and the known names",
          "[registry]") {
  const auto check = [](auto&& fn, std::string_view value) {
    const std::string message = invalid_input_message(fn);
    CAPTURE(message, value);
    CHECK(names_value_and_every_method(message, value));
  };
  check([] { static_cast<void>(spectral::parse_method("whitening")); }, "'whitening'");
  check([] { static_cast<void>(spectral::parse_method("ZCA", "--method")); },
        "--method: unknown method 'ZCA'");
  check([] { static_cast<void>(spectral::parse_method("")); }, "unknown method ''");
  check([] { static_cast<void>(spectral::parse_method("iter_norm:T=4")); }, "'iter_norm'");
  spectral::method_spec spec;
  spec.name = "newton";
  check([&] { spectral::visit_method(spec, [](const auto&) {}); }, "'newton'");
  check([&] { static_cast<void>(spectral::to_string(spec)); }, "'newton'");
  check([&] { spectral::validate_method(spec); }, "'newton'");
}

TEST_CASE("registry: bad and out-of-range parameters throw invalid_input naming the value",
          "[registry]") {
  struct bad_case {
    const char* text;
    const char* parameter;  ///< the parameter the message names
    const char* value;      ///< and the value it names
  };
  const auto c = GENERATE(values<bad_case>({
      {"power:p=-0.5", "power", "-0.5"},
      {"power:p=nan", "p", "'nan'"},
      {"power:p=inf", "p", "'inf'"},
      {"power:p=1e999", "p", "'1e999'"},
      {"power:p=0.5x", "p", "'0.5x'"},
      {"power:p=", "p", "''"},
      {"iternorm:T=0", "iters", "got 0"},
      {"iternorm:T=-3", "iters", "got -3"},
      {"iternorm:T=1001", "iters", "got 1001"},
      {"iternorm:T=99999999999", "T", "'99999999999'"},
      {"iternorm:T=2.5", "T", "'2.5'"},
      {"iternorm:solver=lapack", "solver", "'lapack'"},
      {"iternorm:iters=4", "unknown parameter 'iters'", "iternorm"},
      {"iternorm:T", "no value for 'T'", "iternorm"},
      {"iternorm:T=4,", "unknown parameter ''", "iternorm"},
      {"zca:p=0.5", "unknown parameter 'p'", "zca"},
  }));
  CAPTURE(c.text);
  const std::string quoted = std::string("'") + c.text + "'";
  CHECK_THROWS_MATCHES(
      spectral::parse_method(c.text, "--method"), spectral::invalid_input,
      MessageMatches(ContainsSubstring("--method") && ContainsSubstring(quoted) &&
                     ContainsSubstring(c.parameter) && ContainsSubstring(c.value)));
}

TEST_CASE("registry: visit_method validates the chosen method's parameters only", "[registry]") {
  spectral::method_spec spec = spectral::spec_of<spectral::power_function>();
  spec.power = -1.0;
  CHECK_THROWS_MATCHES(spectral::visit_method(spec, [](const auto&) {}), spectral::invalid_input,
                       MessageMatches(ContainsSubstring("power") && ContainsSubstring("-1")));
  spec.power = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(spectral::validate_method(spec), spectral::invalid_input);
  spec.name = "iternorm";  // p is not IterNorm's
  CHECK_NOTHROW(spectral::validate_method(spec));
  // ... but validate_all_parameters checks every parameter, whichever method is named.
  CHECK_THROWS_MATCHES(spectral::validate_all_parameters(spec), spectral::invalid_input,
                       MessageMatches(ContainsSubstring("power") && ContainsSubstring("inf")));
  spec.power = 0.5;
  spec.iterations = 0;
  CHECK_THROWS_MATCHES(spectral::validate_all_parameters(spec), spectral::invalid_input,
                       MessageMatches(ContainsSubstring("iters") && ContainsSubstring("got 0")));
  spec.name = "zca";
  CHECK_NOTHROW(spectral::validate_method(spec));
  CHECK_THROWS_AS(spectral::validate_all_parameters(spec), spectral::invalid_input);
  spec.iterations = spectral::iter_norm::max_iterations;
  CHECK_NOTHROW(spectral::validate_all_parameters(spec));
}
