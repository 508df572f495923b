;; A plugin of world `mapper` (ml-connector:mapper@1.0.0) with FOUR linear memories, the most the host allows one
;; plugin instance: the main module's and three ballast modules'. ml-connector's tests run several of these at
;; once to check that the pooling allocator has a memory slot for every memory of every concurrent call, so that
;; one tenant's many-memory plugin can never starve another tenant's instantiation.
;;
;; - map-supplier returns ok([]) (the instance really works);
;; - map-invoice spins forever (it holds its instance, and so its four memory slots, until its deadline).
;;
;; Written by hand in the component text format; scripts/build-plugins assembles it (`jco parse`, i.e. wasm-tools
;; parse, from the JavaScript example's node_modules) into mapper-wasm/target/plugins/four_memories.wasm.
(component
  ;; The world's named types, imported with `eq` bounds exactly as wit-component encodes them.
  (type $money-def (record (field "amount" string) (field "currency" string)))
  (import "money" (type $money (eq $money-def)))
  (type $extra-field-def (record (field "name" string) (field "value" string)))
  (import "extra-field" (type $extra-field (eq $extra-field-def)))
  (type $extras (list $extra-field))
  (type $text? (option string))
  (type $supplier-def (record
    (field "id" string) (field "reference-id" string) (field "name" string) (field "status" string)
    (field "category" $text?) (field "tax-id" $text?) (field "payment-terms" $text?) (field "currency" $text?)
    (field "email" $text?) (field "phone" $text?) (field "address" $text?) (field "extra" $extras)))
  (import "supplier" (type $supplier (eq $supplier-def)))
  (type $purchase-order-def (record
    (field "number" string) (field "reference-id" string) (field "status" string) (field "order-date" $text?)
    (field "total" $money) (field "buyer" $text?)))
  (import "purchase-order" (type $purchase-order (eq $purchase-order-def)))
  (type $payment-def (record
    (field "reference-id" string) (field "status" string) (field "payment-date" $text?) (field "amount" $money)
    (field "method" $text?) (field "reference" $text?)))
  (import "payment" (type $payment (eq $payment-def)))
  (type $po? (option $purchase-order))
  (type $payments (list $payment))
  (type $invoice-def (record
    (field "number" string) (field "reference-id" string) (field "supplier-id" string)
    (field "supplier-name" string) (field "status" string) (field "payment-status" string)
    (field "invoice-date" $text?) (field "due-date" $text?) (field "total" $money) (field "amount-due" string)
    (field "memo" $text?) (field "purchase-order" $po?) (field "payments" $payments) (field "extra" $extras)))
  (import "invoice" (type $invoice (eq $invoice-def)))
  (type $u64? (option u64))
  (type $tags (list string))
  (type $ticket-context-def (record
    (field "ticket-id" u64) (field "subject" $text?) (field "organization-id" $u64?)
    (field "requester-email" $text?) (field "tags" $tags) (field "brand-id" $u64?)))
  (import "ticket-context" (type $ticket-context (eq $ticket-context-def)))
  (type $field-target-def
    (variant (case "ticket-field" u64) (case "organization-field" string) (case "tag" string)))
  (import "field-target" (type $field-target (eq $field-target-def)))
  (type $field-value-def (variant
    (case "text" string) (case "decimal" string) (case "date" string) (case "checkbox" bool)
    (case "dropdown-option" string) (case "clear")))
  (import "field-value" (type $field-value (eq $field-value-def)))
  (type $field-write-def (record (field "target" $field-target) (field "value" $field-value)))
  (import "field-write" (type $field-write (eq $field-write-def)))
  (type $writes (list $field-write))
  (type $outcome (result $writes (error string)))
  (type $map-supplier (func (param "supplier" $supplier) (result $outcome)))
  (type $map-invoice (func (param "invoice" $invoice) (param "ticket" $ticket-context) (result $outcome)))

  (core module $main
    (memory (export "memory") 1)
    ;; Bump allocator for the arguments the host lowers into this memory (never freed: one call per instance).
    (global $next (mut i32) (i32.const 1024))
    (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32)
      (result i32)
      (local $ptr i32)
      (local.set $ptr
        (i32.and
          (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get $align))))
      (global.set $next (i32.add (local.get $ptr) (local.get $size)))
      (block $fits
        (loop $grow
          (br_if $fits (i32.le_u (global.get $next) (i32.mul (memory.size) (i32.const 65536))))
          (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
          (br $grow)))
      (local.get $ptr))
    ;; ok(list of 0 writes): discriminant 0 at 16, list pointer at 20, length at 24.
    (func (export "map-supplier") (param i32) (result i32)
      (i32.store8 (i32.const 16) (i32.const 0))
      (i32.store (i32.const 20) (i32.const 0))
      (i32.store (i32.const 24) (i32.const 0))
      (i32.const 16))
    (func (export "map-invoice") (param i32) (result i32)
      (loop $spin (br $spin))
      unreachable)
  )
  (core module $ballast
    (memory (export "memory") 1))

  (core instance $main (instantiate $main))
  (core instance $ballast1 (instantiate $ballast))
  (core instance $ballast2 (instantiate $ballast))
  (core instance $ballast3 (instantiate $ballast))
  (alias core export $main "memory" (core memory $memory))
  (alias core export $main "cabi_realloc" (core func $realloc))
  (alias core export $main "map-supplier" (core func $map-supplier-core))
  (alias core export $main "map-invoice" (core func $map-invoice-core))
  (func $map-supplier (type $map-supplier)
    (canon lift (core func $map-supplier-core) (memory $memory) (realloc $realloc) string-encoding=utf8))
  (func $map-invoice (type $map-invoice)
    (canon lift (core func $map-invoice-core) (memory $memory) (realloc $realloc) string-encoding=utf8))
  (export "map-supplier" (func $map-supplier))
  (export "map-invoice" (func $map-invoice))
)
