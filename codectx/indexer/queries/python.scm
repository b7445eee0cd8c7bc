; Imports: whole statements; the indexer reads their module and name fields.
(import_statement) @import.python
(import_from_statement) @import.python

; Skeleton: headers of classes and functions (docstrings are kept too).
(class_definition) @skeleton.container
(function_definition) @skeleton.function
(module . (expression_statement (string)) @skeleton.whole)

; Symbols only (the definition index, not the skeleton): module-level constants and
; variables, and class-level ones.
(module (expression_statement (assignment left: (identifier) @symbol.constant)))
(class_definition body: (block (expression_statement (assignment left: (identifier) @symbol.constant))))
