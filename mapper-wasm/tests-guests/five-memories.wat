;; A component with FIVE linear memories, one more than the host allows a plugin instance: ml-connector must
;; refuse it at upload (the pooling allocator's per-component limit is checked when it is compiled), so that a
;; plugin can never need more pool slots than the host reserved per concurrent call. It implements nothing else.
(component
  (core module $ballast (memory (export "memory") 1))
  (core instance (instantiate $ballast))
  (core instance (instantiate $ballast))
  (core instance (instantiate $ballast))
  (core instance (instantiate $ballast))
  (core instance (instantiate $ballast))
)
