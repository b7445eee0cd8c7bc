; Imports: the package declaration and each import declaration.
(package_declaration (_) @import.package)
(import_declaration) @import.java

; Skeleton
(class_declaration) @skeleton.container
(interface_declaration) @skeleton.container
(enum_declaration) @skeleton.container
(record_declaration) @skeleton.container
(method_declaration) @skeleton.function
(constructor_declaration) @skeleton.function

; Symbols only (the definition index, not the skeleton): module-level constants and
; variables, and class-level ones.
(field_declaration declarator: (variable_declarator name: (identifier) @symbol.constant))
