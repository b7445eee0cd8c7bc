; Imports: every import path; the package clause names the package.
(import_spec path: (_) @import.path)

; Skeleton
(function_declaration) @skeleton.function
(method_declaration) @skeleton.function
(type_declaration) @skeleton.whole

; Symbols only (the definition index, not the skeleton): module-level constants and
; variables, and class-level ones.
(source_file (const_declaration (const_spec name: (identifier) @symbol.constant)))
(source_file (var_declaration (var_spec name: (identifier) @symbol.constant)))
