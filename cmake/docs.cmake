# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
#
# The API reference of the public headers (include/spectral), built by Doxygen from
# docs/Doxyfile.in: `cmake --build <build> --target docs` writes <build>/docs/html/index.html.
# The target is not part of ALL. Doxygen runs with WARN_AS_ERROR, so an undocumented public
# entity or a malformed comment fails it; the docs.api_reference test (label docs) runs it.
# Included from the top-level CMakeLists.txt after include(CTest), which defines BUILD_TESTING.

include(CMakeDependentOption)
find_package(Doxygen QUIET)

# On by default when Doxygen is found (and spectral is the top-level project: the generic
# target name `docs` is left to a parent project that includes spectral); off without Doxygen.
cmake_dependent_option(SPECTRAL_BUILD_DOCS
  "Provide the docs target: the API reference of the public headers, built by Doxygen"
  ${PROJECT_IS_TOP_LEVEL} "DOXYGEN_FOUND" OFF)

if(SPECTRAL_BUILD_DOCS)
  set(SPECTRAL_DOCS_OUTPUT_DIR ${PROJECT_BINARY_DIR}/docs)
  configure_file(${PROJECT_SOURCE_DIR}/docs/Doxyfile.in ${SPECTRAL_DOCS_OUTPUT_DIR}/Doxyfile @ONLY)
  add_custom_target(docs
    COMMAND Doxygen::doxygen ${SPECTRAL_DOCS_OUTPUT_DIR}/Doxyfile
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    COMMENT "API reference (Doxygen): ${SPECTRAL_DOCS_OUTPUT_DIR}/html/index.html"
    SOURCES ${PROJECT_SOURCE_DIR}/docs/Doxyfile.in
    VERBATIM)

  if(SPECTRAL_BUILD_TESTS AND BUILD_TESTING)
    # Fails on the first Doxygen warning (WARN_AS_ERROR = FAIL_ON_WARNINGS).
    add_test(NAME docs.api_reference
             COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target docs)
    set_tests_properties(docs.api_reference PROPERTIES LABELS docs)
  endif()
endif()
