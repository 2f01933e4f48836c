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
# The vendor spectral was built against (empty: FindBLAS's own search), reused by the config.
set(SPECTRAL_PACKAGE_BLA_VENDOR "${BLA_VENDOR}")
if(SPECTRAL_HAVE_BLAS)
  install(TARGETS spectral_blas EXPORT spectral-blas-targets)
  install(EXPORT spectral-blas-targets NAMESPACE spectral:: DESTINATION ${SPECTRAL_CMAKE_DIR})
  export(EXPORT spectral-blas-targets NAMESPACE spectral::
         FILE ${PROJECT_BINARY_DIR}/spectral-blas-targets.cmake)
  # spectral::blas names BLAS::BLAS, LAPACK::LAPACK (CMake's modules) and LAPACKE::LAPACKE
  # (ours): the config finds them again through this module.
  install(FILES ${PROJECT_SOURCE_DIR}/cmake/FindLAPACKE.cmake DESTINATION ${SPECTRAL_CMAKE_DIR})
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

# pkg-config: spectral.pc (Eigen only) and spectral-blas.pc (BLAS, LAPACK, LAPACKE). Header-only,
# so they go to share/pkgconfig, and they find their prefix from their own place (${pcfiledir}):
# the installed tree can be moved.
set(SPECTRAL_PC_DIR ${CMAKE_INSTALL_DATADIR}/pkgconfig)
if(IS_ABSOLUTE "${SPECTRAL_PC_DIR}")
  set(SPECTRAL_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH SPECTRAL_PC_UP "/spectral-root/${SPECTRAL_PC_DIR}" "/spectral-root")
  string(REGEX REPLACE "/$" "" SPECTRAL_PC_UP "${SPECTRAL_PC_UP}")
  set(SPECTRAL_PC_PREFIX "\${pcfiledir}/${SPECTRAL_PC_UP}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(SPECTRAL_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(SPECTRAL_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/spectral.pc.in ${PROJECT_BINARY_DIR}/spectral.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/spectral.pc DESTINATION ${SPECTRAL_PC_DIR})
if(SPECTRAL_HAVE_BLAS)
  # The pkg-config modules that provide LAPACKE, LAPACK and BLAS (Debian and Arch: these three;
  # elsewhere e.g. "lapacke, openblas" or "flexiblas").
  set(SPECTRAL_PC_BLAS_REQUIRES "lapacke, lapack, blas" CACHE STRING
      "pkg-config modules that spectral-blas.pc requires for LAPACKE, LAPACK and BLAS")
  configure_file(${PROJECT_SOURCE_DIR}/cmake/spectral-blas.pc.in
                 ${PROJECT_BINARY_DIR}/spectral-blas.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/spectral-blas.pc DESTINATION ${SPECTRAL_PC_DIR})
endif()
