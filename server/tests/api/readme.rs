//! The README is code: every Rust snippet in it is a marked region of a file that CI compiles
//! (`<!-- snippet: path#name -->` above the fence, `// README: name start` / `end` in the file),
//! and must match it exactly, so a newcomer never copies code that does not build.

use std::path::Path;

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
fn every_rust_snippet_in_the_readme_is_compiled_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let lines: Vec<&str> = readme.lines().collect();
    let mut checked = 0;
    for (i, line) in lines.iter().enumerate() {
        if line.trim_start() != "```rust" {
            continue;
        }
        let marker = i.checked_sub(1).map(|j| lines[j].trim()).unwrap_or_default();
        let source = marker.strip_prefix("<!-- snippet: ").and_then(|m| m.strip_suffix(" -->")).unwrap_or_else(|| {
            panic!("README line {}: a rust snippet without a `<!-- snippet: path#name -->` source", i + 1)
        });
        let (path, name) = source.split_once('#').expect("path#name");
        let body: String =
            lines[i + 1..].iter().take_while(|l| l.trim_start() != "```").map(|l| format!("{l}\n")).collect();
        let file = std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(body, region(&file, name), "README line {}: the snippet differs from {source}", i + 1);
        checked += 1;
    }
    assert!(checked >= 2, "the README's snippets were found ({checked})");
}
