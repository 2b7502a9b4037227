;; Names a hostile module may carry: multi-byte UTF-8, control characters
;; (a newline, an escape sequence), an empty name, a long one. (wat2wasm
;; will not write invalid UTF-8: the fuzzer finds that from here.)
(module
  (import "wasi_snapshot_preview1" "fd_write\0a\1b[31m" (func (param i32 i32 i32 i32) (result i32)))
  (import "m\c3\a9dule-\e2\82\ac-\f0\9f\98\80" "" (func))
  (memory (export "memory") 1)
  (func (export "_start"))
  (export "a-long-export-name-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" (memory 0)))
