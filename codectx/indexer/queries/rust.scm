; Imports: `mod x;` (a module in its own file) and `use` paths.
(mod_item name: (identifier) @import.mod !body)
(use_declaration argument: (_) @import.use)

; Skeleton
(function_item) @skeleton.function
(function_signature_item) @skeleton.whole
(impl_item) @skeleton.container
(trait_item) @skeleton.container
(struct_item) @skeleton.whole
(enum_item) @skeleton.whole
(type_item) @skeleton.whole

; Symbols only (the definition index, not the skeleton): module-level constants and
; variables, and class-level ones.
(const_item name: (identifier) @symbol.constant)
(static_item name: (identifier) @symbol.constant)
