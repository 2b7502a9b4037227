# CMake toolchain file for wasm32-wasi guests built with Debian's clang and
# wasi-libc. Usage in your own project:
#   cmake -DCMAKE_TOOLCHAIN_FILE=/usr/local/share/wasmlet/cmake/wasm32-wasi.cmake ..
#
# Debian installs wasi-libc into multiarch folders (/usr/include/wasm32-wasi,
# /usr/lib/wasm32-wasi). Without a sysroot clang would also search the host's
# /usr/include and silently pick up glibc headers, so we build a clean sysroot
# of two symlinks and point clang at it.
set(CMAKE_SYSTEM_NAME WASI)
# Platform/WASI.cmake beside this file gives executables their .wasm suffix.
list(APPEND CMAKE_MODULE_PATH ${CMAKE_CURRENT_LIST_DIR})
set(CMAKE_SYSTEM_VERSION 1)
set(CMAKE_SYSTEM_PROCESSOR wasm32)

set(WASI_TRIPLE wasm32-wasi)
if(NOT WASI_LIBC_INCLUDE)
  set(WASI_LIBC_INCLUDE /usr/include/wasm32-wasi)
endif()
if(NOT WASI_LIBC_LIB)
  set(WASI_LIBC_LIB /usr/lib/wasm32-wasi)
endif()

find_program(WASI_CLANG NAMES clang clang-14 clang-19 REQUIRED)
set(CMAKE_C_COMPILER ${WASI_CLANG})
set(CMAKE_C_COMPILER_TARGET ${WASI_TRIPLE})
set(CMAKE_ASM_COMPILER_TARGET ${WASI_TRIPLE})

if(NOT WASI_SYSROOT)
  set(WASI_SYSROOT $ENV{HOME}/.cache/wasmlet/wasi-sysroot)
  if(DEFINED ENV{XDG_CACHE_HOME})
    set(WASI_SYSROOT $ENV{XDG_CACHE_HOME}/wasmlet/wasi-sysroot)
  endif()
endif()
if(NOT EXISTS ${WASI_SYSROOT}/include/${WASI_TRIPLE})
  file(MAKE_DIRECTORY ${WASI_SYSROOT}/include ${WASI_SYSROOT}/lib)
  file(CREATE_LINK ${WASI_LIBC_INCLUDE} ${WASI_SYSROOT}/include/${WASI_TRIPLE} SYMBOLIC)
  file(CREATE_LINK ${WASI_LIBC_LIB} ${WASI_SYSROOT}/lib/${WASI_TRIPLE} SYMBOLIC)
endif()
set(CMAKE_SYSROOT ${WASI_SYSROOT})

set(CMAKE_C_COMPILER_WORKS ON)   # try_compile cannot run a wasm binary

# Stack first: a C stack overflow traps at once instead of silently
# overwriting static data. An explicit stack size documents the budget.
if(NOT WASI_STACK_SIZE)
  set(WASI_STACK_SIZE 1048576)
endif()
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,--stack-first -Wl,-z,stack-size=${WASI_STACK_SIZE}")

# The installed SDK (share/wasmlet/wasm32-wasi beside this file's folder):
#   target_include_directories(app PRIVATE ${WASMLET_INCLUDE_DIR})
#   target_link_libraries(app PRIVATE ${WASMLET_LIBRARY})
get_filename_component(_wl_sdk ${CMAKE_CURRENT_LIST_DIR}/../wasm32-wasi ABSOLUTE)
if(EXISTS ${_wl_sdk}/lib/libwasmlet.a)
  set(WASMLET_INCLUDE_DIR ${_wl_sdk}/include)
  set(WASMLET_LIBRARY ${_wl_sdk}/lib/libwasmlet.a)
endif()

set(CMAKE_FIND_ROOT_PATH ${WASI_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
