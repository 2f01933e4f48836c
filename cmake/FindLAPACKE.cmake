# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
#[=======================================================================[.rst:
FindLAPACKE
-----------

Finds LAPACKE, the C interface to LAPACK (CMake ships no module for it). Used by spectral's own
build and installed next to spectral-config.cmake, which puts it on CMAKE_MODULE_PATH for the
spectral::blas component only while it looks LAPACKE up.

pkg-config's ``lapacke`` module, when there is one, only hints where to look; the header and the
library are then found with find_path/find_library, so the module also works without pkg-config
(or with a LAPACKE whose .pc file is missing) given ``LAPACKE_ROOT`` or ``CMAKE_PREFIX_PATH``.

Imported target: ``LAPACKE::LAPACKE`` (header directory and library; link LAPACK::LAPACK and
BLAS::BLAS after it for static libraries).

Result variables: ``LAPACKE_FOUND``, ``LAPACKE_INCLUDE_DIRS``, ``LAPACKE_LIBRARIES``,
``LAPACKE_VERSION`` (when pkg-config knows it).
Cache variables: ``LAPACKE_INCLUDE_DIR``, ``LAPACKE_LIBRARY``.
#]=======================================================================]

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_LAPACKE QUIET lapacke)
endif()

find_path(LAPACKE_INCLUDE_DIR NAMES lapacke.h
  HINTS ${PC_LAPACKE_INCLUDEDIR} ${PC_LAPACKE_INCLUDE_DIRS}
  PATH_SUFFIXES lapacke openblas)
find_library(LAPACKE_LIBRARY NAMES lapacke
  HINTS ${PC_LAPACKE_LIBDIR} ${PC_LAPACKE_LIBRARY_DIRS})
mark_as_advanced(LAPACKE_INCLUDE_DIR LAPACKE_LIBRARY)

if(PC_LAPACKE_VERSION)
  set(LAPACKE_VERSION ${PC_LAPACKE_VERSION})
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(LAPACKE
  REQUIRED_VARS LAPACKE_LIBRARY LAPACKE_INCLUDE_DIR
  VERSION_VAR LAPACKE_VERSION)

if(LAPACKE_FOUND)
  set(LAPACKE_INCLUDE_DIRS ${LAPACKE_INCLUDE_DIR})
  set(LAPACKE_LIBRARIES ${LAPACKE_LIBRARY})
  if(NOT TARGET LAPACKE::LAPACKE)
    add_library(LAPACKE::LAPACKE UNKNOWN IMPORTED)
    set_target_properties(LAPACKE::LAPACKE PROPERTIES
      IMPORTED_LOCATION "${LAPACKE_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${LAPACKE_INCLUDE_DIR}")
  endif()
endif()
