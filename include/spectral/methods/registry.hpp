// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The one list of the built-in methods: their types (builtin_methods), names, one-line
/// descriptions and parameters with their valid ranges (method_info), and a run-time choice of
/// one of them (method_spec) with its text form ("iternorm:T=5,solver=eigen") and
/// visit_method(), which constructs the chosen method and hands it to generic code. Everything
/// that offers a choice of method (the CLI, the trainer, the benchmarks, the tests) derives its
/// list from here. No CUDA or LibTorch headers.

#include <spectral/core/error.hpp>
#include <spectral/methods/iter_norm.hpp>
#include <spectral/methods/power_function.hpp>
#include <spectral/methods/whitening.hpp>

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace spectral {

// --- the type list ------------------------------------------------------------------------------

/// A compile-time list of method types.
template <class... Methods>
struct method_list {
  static constexpr std::size_t size = sizeof...(Methods);  ///< number of methods
};

/// Every built-in method, in the order names and help texts list them.
using builtin_methods =
    method_list<zca_whitening, pca_whitening, cholesky_whitening, power_function, iter_norm>;

namespace detail {
template <class List>
struct method_list_traits;
template <class... Methods>
struct method_list_traits<method_list<Methods...>> {
  template <class Fn>
  static constexpr void for_each(Fn& fn) {
    (fn(std::type_identity<Methods>{}), ...);
  }
  template <class Method>
  static constexpr bool contains = (std::is_same_v<Method, Methods> || ...);
};
}  // namespace detail

/// Calls fn(std::type_identity<M>{}) for every method type M of List, in order.
template <class List = builtin_methods, class Fn>
constexpr void for_each_method(Fn&& fn) {
  detail::method_list_traits<List>::for_each(fn);
}

/// Whether Method is one of List's types.
template <class Method, class List = builtin_methods>
inline constexpr bool in_method_list = detail::method_list_traits<List>::template contains<Method>;

// --- parameters ---------------------------------------------------------------------------------

/// IterNorm's solver routes by name, in iter_norm_solver order (to_string(iter_norm_solver)).
inline constexpr std::array<std::string_view, 3> iter_norm_solver_names = {
    to_string(iter_norm_solver::automatic), to_string(iter_norm_solver::newton),
    to_string(iter_norm_solver::eigen)};

/// What kind of value a parameter takes.
enum class parameter_kind : std::uint8_t {
  real,     ///< a finite number in [low, high]
  integer,  ///< an integer in [low, high]
  choice,   ///< one of `choices`
};

/// Lower ends of the ranges the constructors enforce that the method types do not name (their
/// upper ends do: iter_norm::max_iterations; p has none but finiteness). registry_test checks
/// both ends against the constructors.
inline constexpr double min_power = 0.0;  ///< power_function: p >= 0
inline constexpr int min_iterations = 1;  ///< iter_norm: T >= 1

/// The method_spec field a parameter sets.
enum class method_field : std::uint8_t {
  power,       ///< method_spec::power
  iterations,  ///< method_spec::iterations
  solver       ///< method_spec::solver
};

/// One parameter of a method: its key in the text form, what it is, and its valid values (the
/// ranges the method's constructor enforces).
struct method_parameter {
  std::string_view name;         ///< key in the text form, e.g. "p" in "power:p=0.25"
  std::string_view description;  ///< one line for help texts
  parameter_kind kind;           ///< what kind of value it takes
  method_field field;            ///< the method_spec field it sets
  double low = 0.0;              ///< real/integer: smallest valid value
  double high = 0.0;             ///< real/integer: largest valid value
  std::span<const std::string_view> choices = {};  ///< choice: the valid values
};

// --- a run-time method choice -------------------------------------------------------------------

/**
 * @brief A method chosen at run time: its registered name and every parameter a built-in method
 *        takes (each method reads its own: power p, IterNorm T and solver).
 *
 * Text form (parse_method / to_string): the name, then the parameters that differ from the
 * defaults below, e.g. "zca", "power:p=0.25", "iternorm:T=5,solver=eigen".
 */
struct method_spec {
  std::string name{iter_norm::name()};  ///< the method's registered name (Method::name())
  double power = 0.5;                   ///< power: p of W = Σ^-p
  int iterations = 4;                   ///< iternorm: T
  iter_norm_solver solver = iter_norm_solver::automatic;  ///< iternorm: route
};

/// What the registry knows of one method: specialised for every built-in method below. A method
/// type without a specialisation cannot be put in a list that is visited or described.
template <class Method>
struct method_info;

/// The registry's entry for ZCA whitening.
template <>
struct method_info<zca_whitening> {
  /// One line for help texts.
  static constexpr std::string_view description = "ZCA whitening, W = Σ^-1/2 (output covariance I)";
  /// None: the method takes no parameters.
  static constexpr std::array<method_parameter, 0> parameters{};
  /// The method (it has nothing to read from `spec`).
  [[nodiscard]] static zca_whitening make(const method_spec& /*spec*/) { return {}; }
};

/// The registry's entry for PCA whitening.
template <>
struct method_info<pca_whitening> {
  /// One line for help texts.
  static constexpr std::string_view description =
      "PCA whitening, W = Λ^-1/2 Uᵀ (output in the eigenbasis, covariance I)";
  /// None: the method takes no parameters.
  static constexpr std::array<method_parameter, 0> parameters{};
  /// The method (it has nothing to read from `spec`).
  [[nodiscard]] static pca_whitening make(const method_spec& /*spec*/) { return {}; }
};

/// The registry's entry for Cholesky whitening.
template <>
struct method_info<cholesky_whitening> {
  /// One line for help texts.
  static constexpr std::string_view description =
      "Cholesky whitening, W = L^-1 with Σ = L Lᵀ (output covariance I)";
  /// None: the method takes no parameters.
  static constexpr std::array<method_parameter, 0> parameters{};
  /// The method (it has nothing to read from `spec`).
  [[nodiscard]] static cholesky_whitening make(const method_spec& /*spec*/) { return {}; }
};

/// The registry's entry for the power function.
template <>
struct method_info<power_function> {
  /// One line for help texts.
  static constexpr std::string_view description =
      "power function, W = Σ^-p (p = 0 centres only, p = 1/2 is ZCA)";
  /// One parameter: the exponent p.
  static constexpr std::array<method_parameter, 1> parameters{
      method_parameter{"p", "exponent p of W = Σ^-p", parameter_kind::real, method_field::power,
                       min_power, std::numeric_limits<double>::max()}};
  /// The power function of `spec.power`. @throws invalid_input for p out of range
  [[nodiscard]] static power_function make(const method_spec& spec) {
    return power_function{spec.power};
  }
};

/// The registry's entry for IterNorm.
template <>
struct method_info<iter_norm> {
  /// One line for help texts.
  static constexpr std::string_view description =
      "IterNorm, T Newton-Schulz iterations towards Σ^-1/2 (the transform of INTL)";
  /// T and the solver route.
  static constexpr std::array<method_parameter, 2> parameters{
      method_parameter{"T", "IterNorm iterations T", parameter_kind::integer,
                       method_field::iterations, static_cast<double>(min_iterations),
                       static_cast<double>(iter_norm::max_iterations)},
      method_parameter{"solver", "how W is computed (automatic, newton or eigen)",
                       parameter_kind::choice, method_field::solver, 0.0, 0.0,
                       iter_norm_solver_names}};
  /// IterNorm with `spec.iterations` and `spec.solver`. @throws invalid_input for T out of range
  [[nodiscard]] static iter_norm make(const method_spec& spec) {
    return iter_norm{spec.iterations, spec.solver};
  }
};

/// One row of the run-time table of a method list.
struct method_entry {
  std::string_view name;                         ///< Method::name()
  std::string_view description;                  ///< method_info<Method>::description
  std::span<const method_parameter> parameters;  ///< method_info<Method>::parameters
};

namespace detail {
template <class List>
struct method_table_of;
template <class... Methods>
struct method_table_of<method_list<Methods...>> {
  static constexpr std::array<method_entry, sizeof...(Methods)> entries{method_entry{
      Methods::name(), method_info<Methods>::description, method_info<Methods>::parameters}...};
  static constexpr std::array<std::string_view, sizeof...(Methods)> names{Methods::name()...};
};
}  // namespace detail

/// Name, description and parameters of every method of List, in order.
template <class List = builtin_methods>
[[nodiscard]] constexpr std::span<const method_entry> method_table() noexcept {
  return detail::method_table_of<List>::entries;
}

/// The names of List's methods, in order (for help texts and CLI11's IsMember).
template <class List = builtin_methods>
[[nodiscard]] constexpr std::span<const std::string_view> method_names() noexcept {
  return detail::method_table_of<List>::names;
}

/// The names joined by `separator`, e.g. "zca | pca | cholesky | power | iternorm".
template <class List = builtin_methods>
[[nodiscard]] std::string joined_method_names(std::string_view separator = ", ") {
  std::string out;
  for (const std::string_view name : method_names<List>()) {
    out.append(out.empty() ? "" : separator).append(name);
  }
  return out;
}

/// The registered entry of `name`, or nullptr.
template <class List = builtin_methods>
[[nodiscard]] constexpr const method_entry* find_method(std::string_view name) noexcept {
  for (const method_entry& entry : method_table<List>()) {
    if (entry.name == name) {
      return &entry;
    }
  }
  return nullptr;
}

/// The method_spec of a method type: its name and the parameters of `params`.
template <class Method>
[[nodiscard]] method_spec spec_of(method_spec params = {}) {
  params.name = std::string(Method::name());
  return params;
}

/// The method of type Method that `spec`'s parameters describe (spec.name is not looked at).
/// @throws invalid_input for a parameter out of the method's range
template <class Method>
[[nodiscard]] Method make_method(const method_spec& spec) {
  return method_info<Method>::make(spec);
}

namespace detail {

template <class List>
[[noreturn]] inline void throw_unknown_method(std::string_view argument, std::string_view name) {
  throw invalid_input(concat(argument, ": unknown method '", name,
                             "'; known methods: ", joined_method_names<List>()));
}

/// Tries Method, then Rest; List (the whole list) is named in the message for an unknown name.
template <class List, class R, class Fn, class Method, class... Rest>
R visit_method_in(const method_spec& spec, Fn& fn) {
  if (spec.name == Method::name()) {
    static_assert(std::is_same_v<std::invoke_result_t<Fn&, Method>, R>,
                  "visit_method: fn must return the same type for every method");
    return fn(method_info<Method>::make(spec));
  }
  if constexpr (sizeof...(Rest) == 0) {
    throw_unknown_method<List>("method", spec.name);
  } else {
    return visit_method_in<List, R, Fn, Rest...>(spec, fn);
  }
}

template <class List>
struct method_visitor;
template <class First, class... Methods>
struct method_visitor<method_list<First, Methods...>> {
  template <class Fn>
  static decltype(auto) visit(const method_spec& spec, Fn& fn) {
    using result = std::invoke_result_t<Fn&, First>;
    using list = method_list<First, Methods...>;
    return visit_method_in<list, result, Fn, First, Methods...>(spec, fn);
  }
};

[[nodiscard]] inline std::string format_parameter(const method_parameter& p,
                                                  const method_spec& spec) {
  switch (p.field) {
    case method_field::power: {
      std::array<char, 32> buffer{};
      const auto [end, error] =
          std::to_chars(buffer.data(), buffer.data() + buffer.size(), spec.power);
      return error == std::errc{} ? std::string(buffer.data(), end) : std::string("?");
    }
    case method_field::iterations:
      return std::to_string(spec.iterations);
    case method_field::solver:
      break;
  }
  return std::string(to_string(spec.solver));
}

[[nodiscard]] inline bool differs_from_default(const method_parameter& p, const method_spec& spec) {
  const method_spec defaults;
  switch (p.field) {
    case method_field::power:
      return spec.power != defaults.power;
    case method_field::iterations:
      return spec.iterations != defaults.iterations;
    case method_field::solver:
      break;
  }
  return spec.solver != defaults.solver;
}

/// Sets `p` of `spec` from its text; returns an error description, empty on success. Ranges are
/// not checked here: the method's constructor checks them (make_method).
[[nodiscard]] inline std::string set_parameter(const method_parameter& p,
                                               std::string_view value,
                                               method_spec& spec) {
  const char* first = value.data();
  const char* last = value.data() + value.size();
  switch (p.kind) {
    case parameter_kind::real: {
      double number = 0.0;
      const auto [end, error] = std::from_chars(first, last, number);
      if (error != std::errc{} || end != last || value.empty() || !std::isfinite(number)) {
        return concat(p.name, " must be a finite number, got '", value, "'");
      }
      spec.power = number;  // the only real parameter
      return {};
    }
    case parameter_kind::integer: {
      int number = 0;
      const auto [end, error] = std::from_chars(first, last, number);
      if (error != std::errc{} || end != last || value.empty()) {
        return concat(p.name, " must be an integer, got '", value, "'");
      }
      spec.iterations = number;  // the only integer parameter
      return {};
    }
    case parameter_kind::choice:
      break;
  }
  for (std::size_t i = 0; i < p.choices.size(); ++i) {
    if (p.choices[i] == value) {
      spec.solver = static_cast<iter_norm_solver>(i);  // the only choice parameter
      return {};
    }
  }
  std::string known;
  for (const std::string_view choice : p.choices) {
    known.append(known.empty() ? "" : ", ").append(choice);
  }
  return concat(p.name, " must be one of ", known, ", got '", value, "'");
}

}  // namespace detail

/**
 * @brief Constructs the method `spec` names (validating its parameters) and returns
 *        fn(method). fn must return the same type for every method of List.
 * @throws invalid_input for an unknown name (listing the known ones) or a parameter out of range
 *         (naming the parameter and the value)
 */
template <class List = builtin_methods, class Fn>
decltype(auto) visit_method(const method_spec& spec, Fn&& fn) {
  return detail::method_visitor<List>::visit(spec, fn);
}

/// Checks that `spec` names a method of List and that the parameters that method reads are valid.
/// @param argument named in the message for an unknown name, e.g. "--transform"
/// @throws invalid_input as visit_method
template <class List = builtin_methods>
void validate_method(const method_spec& spec, std::string_view argument = "method") {
  if (find_method<List>(spec.name) == nullptr) {
    detail::throw_unknown_method<List>(argument, spec.name);
  }
  visit_method<List>(spec, [](const auto& /*method*/) {});
}

/// Checks every parameter of `spec` against every method of List that reads it, whichever method
/// `spec` names (for settings that are given apart from the method, such as --iters, --power).
/// @throws invalid_input naming the parameter and the value
template <class List = builtin_methods>
void validate_all_parameters(const method_spec& spec) {
  for_each_method<List>([&]<class Method>(std::type_identity<Method>) {
    static_cast<void>(method_info<Method>::make(spec));
  });
}

/// The text form of `spec`: its name, then ':' and the parameters of its method that differ from
/// method_spec's defaults, "key=value" separated by ','. parse_method reads it back.
/// @throws invalid_input for an unknown name
template <class List = builtin_methods>
[[nodiscard]] std::string to_string(const method_spec& spec) {
  const method_entry* entry = find_method<List>(spec.name);
  if (entry == nullptr) {
    detail::throw_unknown_method<List>("method", spec.name);
  }
  std::string out = spec.name;
  char separator = ':';
  for (const method_parameter& p : entry->parameters) {
    if (detail::differs_from_default(p, spec)) {
      out.append(1, separator)
          .append(p.name)
          .append(1, '=')
          .append(detail::format_parameter(p, spec));
      separator = ',';
    }
  }
  return out;
}

/**
 * @brief Reads a method's text form: a name of List, optionally followed by ':' and
 *        "key=value" pairs separated by ',' (keys: method_info<M>::parameters), e.g. "zca",
 *        "power:p=0.25", "iternorm:T=5,solver=newton". Parameters not given keep their defaults.
 * @param argument named in the messages, e.g. "--method"
 * @throws invalid_input naming `argument` and the text: for an unknown name (listing the known
 *         ones), an unknown key, a malformed value or a value out of the method's range
 */
template <class List = builtin_methods>
[[nodiscard]] method_spec parse_method(std::string_view text,
                                       std::string_view argument = "method") {
  const std::size_t colon = text.find(':');
  const std::string_view name = text.substr(0, colon);
  const method_entry* entry = find_method<List>(name);
  if (entry == nullptr) {
    detail::throw_unknown_method<List>(argument, name);
  }
  method_spec spec;
  spec.name = std::string(name);
  if (colon != std::string_view::npos) {
    std::string_view rest = text.substr(colon + 1);
    while (true) {
      const std::size_t comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      const std::size_t equals = item.find('=');
      const std::string_view key = item.substr(0, equals);
      const method_parameter* parameter = nullptr;
      for (const method_parameter& p : entry->parameters) {
        if (p.name == key) {
          parameter = &p;
        }
      }
      if (parameter == nullptr || equals == std::string_view::npos) {
        std::string keys;
        for (const method_parameter& p : entry->parameters) {
          keys.append(keys.empty() ? "" : ", ").append(p.name);
        }
        const char* problem = parameter == nullptr ? "unknown parameter '" : "no value for '";
        throw invalid_input(
            detail::concat(argument, ": '", text, "': ", problem, key, "' of ", name, " (",
                           keys.empty() ? std::string("it takes none") : "takes " + keys,
                           "; write name:key=value,key=value)"));
      }
      const std::string error = detail::set_parameter(*parameter, item.substr(equals + 1), spec);
      if (!error.empty()) {
        throw invalid_input(detail::concat(argument, ": '", text, "': ", error));
      }
      if (comma == std::string_view::npos) {
        break;
      }
      rest = rest.substr(comma + 1);
    }
  }
  try {
    validate_method<List>(spec);
  } catch (const invalid_input& e) {
    throw invalid_input(detail::concat(argument, ": '", text, "': ", e.what()));
  }
  return spec;
}

}  // namespace spectral
