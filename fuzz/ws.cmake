# libFuzzer target for the WebSocket frame decoder and message assembler,
# included from fuzz/CMakeLists.txt (configure with CXX=clang++,
# -DHTTPKIT_FUZZ=ON). As for request_parser_fuzz, the ws sources are built
# into the target itself so that coverage instrumentation and the sanitizers
# reach them.
#
# Paths are taken from this file's place, not PROJECT_SOURCE_DIR, so that
# scripts/fuzz_ws.sh can also build it from a two-line wrapper project.
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)

get_filename_component(HTTPKIT_WS_ROOT ${CMAKE_CURRENT_LIST_DIR}/.. ABSOLUTE)
set(HTTPKIT_WS_FUZZED_SOURCES
  ${HTTPKIT_WS_ROOT}/src/ws/utf8.cpp
  ${HTTPKIT_WS_ROOT}/src/ws/frame.cpp
  ${HTTPKIT_WS_ROOT}/src/ws/message_assembler.cpp
  ${HTTPKIT_WS_ROOT}/src/ws/deflate.cpp
  ${HTTPKIT_WS_ROOT}/src/ws/handshake.cpp)

add_executable(ws_frame_fuzz ${CMAKE_CURRENT_LIST_DIR}/ws_frame_fuzz.cpp
  ${HTTPKIT_WS_FUZZED_SOURCES})
target_include_directories(ws_frame_fuzz PRIVATE
  ${HTTPKIT_WS_ROOT}/src ${HTTPKIT_WS_ROOT}/include)
target_compile_options(ws_frame_fuzz PRIVATE
  -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
  -fno-omit-frame-pointer)
target_link_options(ws_frame_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
target_link_libraries(ws_frame_fuzz PRIVATE OpenSSL::Crypto ZLIB::ZLIB)
