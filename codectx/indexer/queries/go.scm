; Imports: every import path; the package clause names the package.
(import_spec path: (_) @import.path)

; Skeleton
(function_declaration) @skeleton.function
(method_declaration) @skeleton.function
(type_declaration) @skeleton.whole
