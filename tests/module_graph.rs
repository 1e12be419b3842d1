//! The crates' module trees are layered: no two modules import each other,
//! directly or in a circle. Read from the sources: every `crate::…` and
//! `super::…` path outside comments and test modules is an import of the
//! module that defines it (a name the crate root re-exports counts as an
//! import of the module it comes from), and between two modules under one
//! parent the imports must form no circle.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// A module's path below the crate root: `["train", "fit"]`.
type ModPath = Vec<String>;

#[test]
fn net_core_modules_import_in_one_direction() {
    assert_no_cycles("net-core/src");
}

#[test]
fn net_macros_modules_import_in_one_direction() {
    assert_no_cycles("net-macros/src");
}

#[test]
fn the_check_finds_a_circle() {
    let modules = [
        (path(&["a"]), "use crate::b::X;".to_owned()),
        (path(&["b"]), "fn f() { crate::c::g() }".to_owned()),
        (path(&["c"]), "use super::a;".to_owned()),
    ];
    let cycles = cycles(&edges(&modules, &BTreeMap::new()));
    assert_eq!(cycles, [vec!["a", "b", "c"]]);
}

fn path(parts: &[&str]) -> ModPath {
    parts.iter().map(|p| p.to_string()).collect()
}

#[test]
fn layers_and_the_network_know_no_optimizer_and_data_and_io_not_each_other() {
    let edges = read_edges("net-core/src");
    let imports = |from: &str, to: &str| {
        edges
            .get(&path(&[from]))
            .is_some_and(|targets| targets.contains(&path(&[to])))
    };
    for from in ["layer", "layers", "network"] {
        assert!(!imports(from, "optim"), "{from} imports optim");
    }
    assert!(!imports("data", "io"), "data imports io");
    assert!(!imports("io", "data"), "io imports data");
}

fn read_edges(src: &str) -> Edges {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(src);
    let mut modules = Vec::new();
    collect(&root, &root, &mut modules);
    let lib = fs::read_to_string(root.join("lib.rs")).expect("lib.rs");
    edges(&modules, &root_reexports(&lib))
}

fn assert_no_cycles(src: &str) {
    let cycles = cycles(&read_edges(src));
    assert!(
        cycles.is_empty(),
        "modules of {src} import each other: {cycles:?}"
    );
}

/// Every module's code, by path, without comments and test modules.
fn collect(root: &Path, dir: &Path, out: &mut Vec<(ModPath, String)>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("a source directory")
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path
                .strip_prefix(root)
                .expect("under the root")
                .with_extension("");
            let mut parts: ModPath = relative
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
                parts.pop();
            }
            // A test module of its own file may import anything, as one
            // inline does.
            if parts.is_empty() || parts.last().is_some_and(|p| p == "tests") {
                continue;
            }
            let code = without_tests(&without_comments(
                &fs::read_to_string(&path).expect("a source file"),
            ));
            out.push((parts, code));
        }
    }
}

/// `source` with `//` comments removed (not inside string literals).
fn without_comments(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    for line in source.lines() {
        let mut in_string = false;
        let mut previous = ' ';
        let mut cut = line.len();
        for (i, c) in line.char_indices() {
            match c {
                '"' if previous != '\\' => in_string = !in_string,
                '/' if !in_string && previous == '/' => {
                    cut = i - 1;
                    break;
                }
                _ => {}
            }
            previous = c;
        }
        out.push_str(&line[..cut]);
        out.push('\n');
    }
    out
}

/// `code` up to its `#[cfg(test)] mod tests`, which may import anything.
fn without_tests(code: &str) -> String {
    match code.find("#[cfg(test)]\nmod tests") {
        Some(start) => code[..start].to_owned(),
        None => code.to_owned(),
    }
}

/// The crate root's `pub use module::{A, B}` and `pub use module::A`:
/// name → the module's path.
fn root_reexports(lib: &str) -> BTreeMap<String, ModPath> {
    let mut names = BTreeMap::new();
    for statement in lib.split(';') {
        let Some(rest) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        for (module, name) in use_tree(rest) {
            names.insert(name, module);
        }
    }
    names
}

/// The paths a use tree names, split into the module path and the last
/// name: `a::{b::C, D}` → `(a::b, C)`, `(a, D)`.
fn use_tree(tree: &str) -> Vec<(ModPath, String)> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let mut out = Vec::new();
    expand_tree(&tree, &mut Vec::new(), &mut out);
    out
}

fn expand_tree(tree: &str, prefix: &mut ModPath, out: &mut Vec<(ModPath, String)>) {
    let Some(open) = tree.find('{') else {
        let mut parts: ModPath = prefix.clone();
        parts.extend(
            tree.split("::")
                .filter(|p| !p.is_empty())
                .map(str::to_owned),
        );
        if let Some(last) = parts.pop() {
            let last = last.split("as").next().unwrap_or_default().to_owned();
            out.push((parts, last));
        }
        return;
    };
    let head: ModPath = tree[..open]
        .split("::")
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut depth = 0;
    let mut start = 0;
    let mut items = Vec::new();
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    let len = prefix.len();
    prefix.extend(head);
    for item in items.into_iter().filter(|i| !i.is_empty()) {
        expand_tree(item, prefix, out);
    }
    prefix.truncate(len);
}

/// Every path `code` names from `crate::` or `super::`, as written.
fn referenced(code: &str, module: &ModPath) -> Vec<ModPath> {
    let mut found = Vec::new();
    for (anchor, base) in [
        ("crate::", Vec::new()),
        ("super::", module[..module.len() - 1].to_vec()),
    ] {
        let mut rest = code;
        while let Some(at) = rest.find(anchor) {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + anchor.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let end = rest
                .find(|c: char| {
                    !(c.is_alphanumeric()
                        || c == '_'
                        || c == ':'
                        || c == '{'
                        || c == '}'
                        || c == ','
                        || c.is_whitespace())
                        || c == ';'
                })
                .unwrap_or(rest.len());
            let tree = if rest.starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '{') {
                let braced = rest[..end].contains('{');
                if braced {
                    &rest[..end]
                } else {
                    rest[..end]
                        .split(|c: char| c.is_whitespace() || c == ',' || c == '}')
                        .next()
                        .unwrap_or_default()
                }
            } else {
                ""
            };
            for (mut path, name) in use_tree(tree) {
                path.push(name);
                let mut full = base.clone();
                full.extend(path);
                found.push(full);
            }
        }
    }
    found
}

/// Which module imports which, between modules under one parent.
type Edges = BTreeMap<ModPath, BTreeSet<ModPath>>;

fn edges(modules: &[(ModPath, String)], reexports: &BTreeMap<String, ModPath>) -> Edges {
    let known: BTreeSet<&ModPath> = modules.iter().map(|(p, _)| p).collect();
    let resolve = |path: &ModPath| -> Option<ModPath> {
        if let Some(module) = path.first().and_then(|first| reexports.get(first)) {
            return Some(module.clone());
        }
        (1..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|p| known.contains(p))
    };
    let mut edges = Edges::new();
    for (module, code) in modules {
        for path in referenced(code, module) {
            let Some(target) = resolve(&path) else {
                continue;
            };
            let common = module
                .iter()
                .zip(&target)
                .take_while(|(a, b)| a == b)
                .count();
            // A module reads its ancestors' re-exports, and its own items.
            if common == target.len() || common == module.len() {
                continue;
            }
            edges
                .entry(module[..=common].to_vec())
                .or_default()
                .insert(target[..=common].to_vec());
        }
    }
    edges
}

/// The circles among modules under one parent, each as the sorted names
/// of the modules in it.
fn cycles(edges: &Edges) -> Vec<Vec<String>> {
    strongly_connected(edges)
        .into_iter()
        .filter(|component| component.len() > 1)
        .map(|component| {
            let mut names: Vec<String> = component.iter().map(|p| p.join("::")).collect();
            names.sort();
            names
        })
        .collect()
}

/// Tarjan's strongly connected components.
fn strongly_connected(edges: &Edges) -> Vec<Vec<ModPath>> {
    struct State<'a> {
        edges: &'a Edges,
        index: BTreeMap<&'a ModPath, usize>,
        low: BTreeMap<&'a ModPath, usize>,
        stack: Vec<&'a ModPath>,
        components: Vec<Vec<ModPath>>,
    }
    fn visit<'a>(state: &mut State<'a>, v: &'a ModPath) {
        let n = state.index.len();
        state.index.insert(v, n);
        state.low.insert(v, n);
        state.stack.push(v);
        for w in state.edges.get(v).into_iter().flatten() {
            if !state.index.contains_key(w) {
                visit(state, w);
                let low = state.low[w].min(state.low[v]);
                state.low.insert(v, low);
            } else if state.stack.contains(&w) {
                let low = state.index[w].min(state.low[v]);
                state.low.insert(v, low);
            }
        }
        if state.low[v] == state.index[v] {
            let mut component = Vec::new();
            while let Some(w) = state.stack.pop() {
                component.push(w.clone());
                if w == v {
                    break;
                }
            }
            state.components.push(component);
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        components: Vec::new(),
    };
    let nodes: BTreeSet<&ModPath> = edges.keys().chain(edges.values().flatten()).collect();
    for v in nodes {
        if !state.index.contains_key(v) {
            visit(&mut state, v);
        }
    }
    state.components
}
