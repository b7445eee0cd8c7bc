; Imports: #include "local.h" and #include <system.h>.
(preproc_include path: (string_literal) @import.local)
(preproc_include path: (system_lib_string) @import.system)

; Skeleton
(function_definition) @skeleton.function
(class_specifier body: (_)) @skeleton.container
(struct_specifier body: (_)) @skeleton.container
(namespace_definition) @skeleton.container
(enum_specifier body: (_)) @skeleton.whole
(type_definition) @skeleton.whole
(declaration declarator: (function_declarator)) @skeleton.whole
(field_declaration declarator: (function_declarator)) @skeleton.whole

; Symbols only (the definition index, not the skeleton): module-level constants and
; variables, and class-level ones.
(translation_unit (preproc_def name: (identifier) @symbol.constant))
(translation_unit (declaration declarator: (init_declarator declarator: (identifier) @symbol.constant)))
