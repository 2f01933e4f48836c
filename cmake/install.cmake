# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
# Install rules and the CMake package: find_package(spectral [COMPONENTS blas cuda]).
include(CMakePackageConfigHelpers)

set(SPECTRAL_CMAKE_DIR ${CMAKE_INSTALL_DATADIR}/cmake/spectral)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/spectral
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp" PATTERN "*.cuh")

install(TARGETS spectral EXPORT spectral-targets)
install(EXPORT spectral-targets NAMESPACE spectral:: DESTINATION ${SPECTRAL_CMAKE_DIR})
export(EXPORT spectral-targets NAMESPACE spectral::
       FILE ${PROJECT_BINARY_DIR}/spectral-targets.cmake)

set(SPECTRAL_PACKAGE_HAS_BLAS ${SPECTRAL_HAVE_BLAS})
if(SPECTRAL_HAVE_BLAS)
  install(TARGETS spectral_blas EXPORT spectral-blas-targets)
  install(EXPORT spectral-blas-targets NAMESPACE spectral:: DESTINATION ${SPECTRAL_CMAKE_DIR})
  export(EXPORT spectral-blas-targets NAMESPACE spectral::
         FILE ${PROJECT_BINARY_DIR}/spectral-blas-targets.cmake)
endif()

set(SPECTRAL_PACKAGE_HAS_CUDA ${SPECTRAL_ENABLE_CUDA})
if(SPECTRAL_ENABLE_CUDA)
  install(TARGETS spectral_cuda EXPORT spectral-cuda-targets)
  install(EXPORT spectral-cuda-targets NAMESPACE spectral:: DESTINATION ${SPECTRAL_CMAKE_DIR})
  export(EXPORT spectral-cuda-targets NAMESPACE spectral::
         FILE ${PROJECT_BINARY_DIR}/spectral-cuda-targets.cmake)
endif()

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/spectral-config.cmake.in
  ${PROJECT_BINARY_DIR}/spectral-config.cmake
  INSTALL_DESTINATION ${SPECTRAL_CMAKE_DIR})
# Header-only: any architecture; API may change between minor versions before 1.0.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/spectral-config-version.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/spectral-config.cmake
              ${PROJECT_BINARY_DIR}/spectral-config-version.cmake
        DESTINATION ${SPECTRAL_CMAKE_DIR})
