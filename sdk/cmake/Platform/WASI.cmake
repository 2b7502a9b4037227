# Platform file for CMAKE_SYSTEM_NAME=WASI (CMake ships none): loaded after
# the toolchain file, so this is where the executable suffix sticks.
set(CMAKE_EXECUTABLE_SUFFIX ".wasm")
set(CMAKE_STATIC_LIBRARY_PREFIX "lib")
set(CMAKE_STATIC_LIBRARY_SUFFIX ".a")
