;; Things the host refuses after reading: an import it does not provide,
;; a known import with the wrong signature, _start that takes a parameter,
;; no exported memory.
(module
  (import "env" "nope" (func (param i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "compute" (func (param i64) (result i32)))
  (import "env" "table" (table 1 funcref))
  (import "env" "g" (global (mut i32)))
  (memory 1)
  (func (export "_start") (param i32))
  (export "mem" (memory 0)))
