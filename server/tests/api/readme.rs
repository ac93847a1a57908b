//! The README and `docs/` are code: every Rust snippet in them is a marked region of a file that
//! CI compiles (`<!-- snippet: path#name -->` above the fence, `// README: name start` / `end`
//! in the file), and must match it exactly, so a newcomer never copies code that does not build;
//! and every repository path they name in backticks exists.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The README and every page of `docs/`, with their names.
fn documents() -> Vec<(String, String)> {
    let root = root();
    let mut docs = vec![("README.md".to_owned(), std::fs::read_to_string(root.join("README.md")).expect("README.md"))];
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    pages.sort();
    for page in pages {
        let name = format!("docs/{}", page.file_name().unwrap_or_default().to_string_lossy());
        docs.push((name, std::fs::read_to_string(&page).expect("a docs page")));
    }
    docs
}

fn region(file: &str, name: &str) -> String {
    let (start, end) = (format!("// README: {name} start\n"), format!("// README: {name} end"));
    let from = file.find(&start).map(|i| i + start.len());
    let to = file.find(&end);
    match (from, to) {
        (Some(from), Some(to)) if from <= to => file[from..to].to_owned(),
        _ => panic!("no README region {name:?}"),
    }
}

#[test]
fn every_rust_snippet_in_the_readme_and_docs_is_compiled_code() {
    let root = root();
    let mut checked = 0;
    for (doc, text) in documents() {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.trim_start() != "```rust" {
                continue;
            }
            let marker = i.checked_sub(1).map(|j| lines[j].trim()).unwrap_or_default();
            let source =
                marker.strip_prefix("<!-- snippet: ").and_then(|m| m.strip_suffix(" -->")).unwrap_or_else(|| {
                    panic!("{doc} line {}: a rust snippet without a `<!-- snippet: path#name -->` source", i + 1)
                });
            let (path, name) = source.split_once('#').expect("path#name");
            let body: String =
                lines[i + 1..].iter().take_while(|l| l.trim_start() != "```").map(|l| format!("{l}\n")).collect();
            let file = std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(body, region(&file, name), "{doc} line {}: the snippet differs from {source}", i + 1);
            checked += 1;
        }
    }
    assert!(checked >= 2, "the snippets were found ({checked})");
}

/// What in backticks looks like a path into this repository: it starts with one of the
/// repository's top-level entries and names a file or folder (`app/src/lib.rs`, `bench/`).
fn repository_paths(text: &str, top: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for (i, chunk) in text.split('`').enumerate() {
        // Odd chunks sit between backticks; code fences are skipped as a whole.
        if i % 2 == 0 || chunk.contains('\n') || chunk.contains(' ') {
            continue;
        }
        let path = chunk.split(['#', ':']).next().unwrap_or_default().trim_end_matches('/');
        let first = path.split('/').next().unwrap_or_default();
        let looks_like_path = (path.contains('/') || path.contains('.')) && top.iter().any(|t| t == first);
        if looks_like_path && !path.contains(['*', '{', '…', '<']) {
            found.push(path.to_owned());
        }
    }
    found
}

#[test]
fn every_repository_path_the_readme_and_docs_name_exists() {
    let root = root();
    let top: Vec<String> = std::fs::read_dir(&root)
        .expect("the repository")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|name| !name.starts_with('.') && name != "target" && name != "node_modules")
        .collect();
    let mut checked = 0;
    let mut missing = Vec::new();
    for (doc, text) in documents() {
        for path in repository_paths(&text, &top) {
            checked += 1;
            if !root.join(&path).exists() {
                missing.push(format!("{doc}: `{path}`"));
            }
        }
    }
    assert!(missing.is_empty(), "named but not in the repository:\n{}", missing.join("\n"));
    assert!(checked >= 50, "the paths were found ({checked})");
}

#[test]
fn the_readme_is_a_guide_and_the_docs_carry_no_history() {
    let (_, readme) = &documents()[0];
    assert!(readme.lines().count() <= 200, "the README stays at most 200 lines");
    for (doc, text) in documents() {
        for word in ["original package", "the original", "issue ", "last stop", "this stop"] {
            assert!(!text.to_lowercase().contains(word), "{doc} speaks of history: {word:?}");
        }
    }
}
