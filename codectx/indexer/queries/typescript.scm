; Imports: static imports, re-exports, require() and dynamic import().
(import_statement source: (string (string_fragment) @import.path))
(export_statement source: (string (string_fragment) @import.path))
(call_expression
  function: (identifier) @_require
  arguments: (arguments . (string (string_fragment) @import.path))
  (#eq? @_require "require"))
(call_expression
  function: (import)
  arguments: (arguments . (string (string_fragment) @import.path)))

; Skeleton
(class_declaration) @skeleton.container
(abstract_class_declaration) @skeleton.container
(function_declaration) @skeleton.function
(generator_function_declaration) @skeleton.function
(method_definition) @skeleton.function
(interface_declaration) @skeleton.whole
(type_alias_declaration) @skeleton.whole
(enum_declaration) @skeleton.whole

; Symbols only (the definition index, not the skeleton): module-level constants and
; variables, and class-level ones.
(program (lexical_declaration (variable_declarator name: (identifier) @symbol.constant)))
(program (variable_declaration (variable_declarator name: (identifier) @symbol.constant)))
(program (export_statement (lexical_declaration (variable_declarator name: (identifier) @symbol.constant))))
