//! The crate's modules import each other without a circle: the syntax
//! (`ast`), the resolved model (`model`), validation and expansion each
//! build on the ones before. This test reads every `crate::…` and
//! `super::…` path in `src/` and fails, naming the circle, if the imports
//! between modules have one. `PRINT_MODULE_GRAPH=1 cargo test -p
//! net-macros module_graph -- --nocapture` prints the graph.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Every module of the crate (`ast::layer_list`, the root as `""`), with
/// its source.
fn modules() -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    collect(&src, &src, &mut found);
    found
}

fn collect(src: &Path, dir: &Path, found: &mut BTreeMap<String, String>) {
    for entry in fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("an entry of src/").path();
        if path.is_dir() {
            collect(src, &path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path
                .strip_prefix(src)
                .expect("under src/")
                .with_extension("");
            let mut segments: Vec<String> = relative
                .iter()
                .map(|s| s.to_string_lossy().into_owned())
                .collect();
            if matches!(segments.last().map(String::as_str), Some("mod" | "lib")) {
                segments.pop();
            }
            let source = fs::read_to_string(&path).expect("a source file");
            found.insert(segments.join("::"), source);
        }
    }
}

/// The modules `module` names in paths: `crate::a::b`, `super::b`, or a
/// child's name, `b::Item`, each taken as far as it names a module, and
/// `use a::{b, c::D}` as each of its paths. Comments are skipped, and so
/// is an inline module at the end of a file, `mod tests { … }`: its
/// `super` is the file's module, and it imports only what it tests.
fn imports(module: &str, source: &str, known: &BTreeSet<&str>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let inline_module = |line: &&str| line.starts_with("mod ") && line.ends_with('{');
    for line in source.lines().take_while(|l| !inline_module(l)) {
        let code = line.split("//").next().unwrap_or("");
        for path in paths(code) {
            let mut segments = path.iter().map(String::as_str);
            let mut target = match segments.next() {
                Some("crate") => String::new(),
                Some("self") => module.to_owned(),
                Some("super") => parent(module).to_owned(),
                Some(child) if known.contains(join(module, child).as_str()) => join(module, child),
                _ => continue,
            };
            for segment in segments {
                match segment {
                    "super" => target = parent(&target).to_owned(),
                    _ if known.contains(join(&target, segment).as_str()) => {
                        target = join(&target, segment);
                    }
                    _ => break,
                }
            }
            // The root declares the modules, and nothing imports it.
            if target != module && !target.is_empty() {
                out.insert(target);
            }
        }
    }
    out
}

fn parent(module: &str) -> &str {
    module.rsplit_once("::").map_or("", |(parent, _)| parent)
}

fn join(module: &str, name: &str) -> String {
    match module {
        "" => name.to_owned(),
        _ => format!("{module}::{name}"),
    }
}

/// The paths of two or more segments in a line of code, `a::b::c`, with
/// groups spread out: `a::{b, c::d}` is `a::b` and `a::c::d`.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts =
            is_ident(chars[i]) && (i == 0 || !is_ident(chars[i - 1]) && chars[i - 1] != ':');
        if starts {
            let (mut paths, end) = path_at(&chars, i);
            paths.retain(|p| p.len() > 1);
            found.append(&mut paths);
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    found
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The paths starting at `chars[i]`, and where they end.
fn path_at(chars: &[char], mut i: usize) -> (Vec<Vec<String>>, usize) {
    let mut segments = Vec::new();
    loop {
        let start = i;
        while i < chars.len() && is_ident(chars[i]) {
            i += 1;
        }
        segments.push(chars[start..i].iter().collect::<String>());
        if !(chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':')) {
            return (vec![segments], i);
        }
        i += 2;
        if chars.get(i) == Some(&'{') {
            let mut spread = Vec::new();
            i += 1;
            loop {
                while chars.get(i).is_some_and(|c| c.is_whitespace()) {
                    i += 1;
                }
                match chars.get(i) {
                    None => return (spread, i),
                    Some('}') => return (spread, i + 1),
                    Some(',') => i += 1,
                    Some(_) => {
                        let (inner, end) = path_at(chars, i);
                        for tail in inner {
                            spread.push(segments.iter().cloned().chain(tail).collect());
                        }
                        i = end.max(i + 1);
                    }
                }
            }
        }
    }
}

/// Each module with the modules it imports.
fn graph(modules: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let known: BTreeSet<&str> = modules.keys().map(String::as_str).collect();
    modules
        .iter()
        .map(|(module, source)| (module.clone(), imports(module, source, &known)))
        .collect()
}

/// A circle in `graph`, if there is one, as the modules along it.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = path.iter().position(|n| n == node).expect("on the path");
                let mut found = path[start..].to_vec();
                found.push(node.to_owned());
                return Some(found);
            }
            None => {}
        }
        marks.insert(node.to_owned(), Mark::Open);
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, marks, path) {
                return Some(found);
            }
        }
        path.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut marks, &mut Vec::new()))
}

#[test]
fn no_two_modules_import_each_other() {
    let graph = graph(&modules());
    if std::env::var_os("PRINT_MODULE_GRAPH").is_some() {
        for (module, imported) in &graph {
            let imported: Vec<&str> = imported.iter().map(String::as_str).collect();
            println!("{module} -> {}", imported.join(", "));
        }
    }
    if let Some(found) = circle(&graph) {
        panic!("modules import each other: {}", found.join(" -> "));
    }
}

#[test]
fn a_circle_is_found() {
    let source = |imports: &[&str]| {
        imports
            .iter()
            .map(|i| format!("use crate::{i}::X;\n"))
            .collect()
    };
    let modules: BTreeMap<String, String> = [
        ("a".to_owned(), source(&["b"])),
        ("b".to_owned(), source(&["c::d"])),
        ("c".to_owned(), String::new()),
        (
            "c::d".to_owned(),
            "use super::super::{a::Y, c};\n".to_owned(),
        ),
    ]
    .into();
    assert_eq!(
        circle(&graph(&modules)).expect("a circle"),
        ["a", "b", "c::d", "a"]
    );
}
