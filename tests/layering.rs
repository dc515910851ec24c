//! The crate's modules form layers, each importing only from the layers below it, so that no
//! two modules depend on each other (the wire primitives in `codec/` must not reach up into
//! the packets that are built on them).

use std::fs;
use std::path::Path;

/// The layers, lowest first. A module may use its own layer and any layer before it.
const LAYERS: &[&[&str]] = &[
    &["types", "time"],
    &["reason"],
    &["error"],
    &["codec"],
    &["topic"],
    &["property"],
    &["packet"],
    &["decoder"],
    &["client"],
    &["broker"],
    &["arbitrary"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// The top-level module a source file belongs to: `src/codec/frame.rs` is `codec`.
fn module_of(path: &Path, src: &Path) -> String {
    let relative = path.strip_prefix(src).expect("under src/");
    let first = relative.components().next().expect("a component");
    let name = first.as_os_str().to_string_lossy();
    name.trim_end_matches(".rs").to_owned()
}

/// Every `crate::<module>` named in the non-test part of `source`.
fn crate_references(source: &str) -> Vec<String> {
    let code = source.split("#[cfg(test)]").next().unwrap_or_default();
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        // `$crate::` in macros and `crate::` in doc links count the same way.
        if !name.is_empty() && name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
            found.push(name);
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).expect("readable directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_module_imports_only_from_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    for path in files {
        let module = module_of(&path, &src);
        if module == "lib" {
            continue;
        }
        let own = layer_of(&module)
            .unwrap_or_else(|| panic!("src/{module} is in no layer: add it to LAYERS"));
        let source = fs::read_to_string(&path).expect("readable source");
        for used in crate_references(&source) {
            match layer_of(&used) {
                Some(layer) if layer <= own => {}
                _ => violations.push(format!("{} uses crate::{used}", path.display())),
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports reaching up a layer:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_check_sees_an_upward_import() {
    let source = "use crate::packet::PacketType;\n#[cfg(test)]\nuse crate::decoder::Decoder;";
    assert_eq!(crate_references(source), ["packet"]);
    assert!(layer_of("packet") > layer_of("codec"));
}
