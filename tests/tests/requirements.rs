//! Every requirement of `../shared/requirements/sse-2025-11-25.csv` is pinned by a test, or
//! recorded in `tests/requirements-divergences.csv` as a deliberate divergence with its reason.
//!
//! A test says which ids it pins with `pins = [...]` in `interaction_test!` / `scripted_test!`,
//! or `pins![...]` as the first statement of a plain `#[test]` (both expand to code, so a pin is
//! always attached to a test that compiles). This test reads those literals from the sources of
//! `tests/tests/*.rs` and `core/tests/*.rs` and fails on:
//! - an id of the CSV that no test pins and the manifest does not record;
//! - a pinned id that is not in the CSV (a typo);
//! - a manifest entry that is not in the CSV, has no reason, is listed twice, or is pinned after
//!   all (then it is no divergence; remove the entry);
//! - a pin list that is not a plain list of string literals.
//!
//! It prints `requirements pinned: N/192`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One pin site: the test it belongs to and the ids it lists.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Site {
    /// `file::test`.
    test: String,
    ids: Vec<String>,
}

/// Parses CSV text (RFC 4180: quoted fields may hold commas, newlines and doubled quotes) into
/// records.
fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut line = 1;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => {
                    if c == '\n' {
                        line += 1;
                    }
                    field.push(c)
                }
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            '"' => return Err(format!("line {line}: a quote inside an unquoted field")),
            ',' => record.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                line += 1;
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            c => field.push(c),
        }
    }
    if quoted {
        return Err("an unterminated quoted field".into());
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

/// The records of CSV `text` with header `columns` (at least), as maps from column to value.
fn csv_rows(text: &str, columns: &[&str]) -> Result<Vec<BTreeMap<String, String>>, String> {
    let mut records = parse_csv(text)?.into_iter();
    let header = records.next().ok_or("no header")?;
    for c in columns {
        if !header.iter().any(|h| h == c) {
            return Err(format!("no column {c:?} in the header {header:?}"));
        }
    }
    records
        .enumerate()
        .filter(|(_, r)| !(r.len() == 1 && r[0].is_empty()))
        .map(|(i, r)| {
            if r.len() != header.len() {
                return Err(format!(
                    "record {}: {} fields, the header has {}",
                    i + 2,
                    r.len(),
                    header.len()
                ));
            }
            Ok(header.iter().cloned().zip(r).collect())
        })
        .collect()
}

/// The name of the test a pin site at byte `at` of `src` belongs to: the identifier after the
/// macro's `(` for `interaction_test!(name, pins = …`, the enclosing `fn` for `pins![…]`.
fn test_name(src: &str, at: usize, macro_form: bool) -> Option<String> {
    let before = &src[..at];
    if macro_form {
        let open = before.rfind("_test!(")? + "_test!(".len();
        let name: String = before[open..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        return (!name.is_empty()).then_some(name);
    }
    let f = before.rfind("fn ")? + 3;
    let name: String = before[f..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Reads the string literals of a pin list starting right after its opening bracket; returns
/// them, or why the list is not a plain list of string literals.
fn literals(list: &str, close: char) -> Result<Vec<String>, String> {
    let mut ids = Vec::new();
    let mut chars = list.chars();
    loop {
        match chars.next() {
            None => return Err("the list is not closed".into()),
            Some(c) if c == close => return Ok(ids),
            Some(c) if c.is_whitespace() || c == ',' => {}
            Some('"') => {
                let mut id = String::new();
                loop {
                    match chars.next() {
                        None => return Err("a string literal is not closed".into()),
                        Some('"') => break,
                        Some('\\') => return Err(format!("an escape in {id:?}…")),
                        Some(c) => id.push(c),
                    }
                }
                ids.push(id);
            }
            Some(c) => return Err(format!("{c:?} where a string literal was expected")),
        }
    }
}

/// Every pin site of one source file (`file` names it in the results).
fn pin_sites(file: &str, src: &str) -> Result<Vec<Site>, String> {
    let mut sites = Vec::new();
    for (marker, close, macro_form) in [
        ("pins = [", ']', true),
        ("pins![", ']', false),
        ("pins!(", ')', false),
    ] {
        for (at, _) in src.match_indices(marker) {
            let line = src[..at].lines().count();
            let ids = literals(&src[at + marker.len()..], close)
                .map_err(|e| format!("{file}:{line}: {e}"))?;
            let test = test_name(src, at, macro_form)
                .ok_or_else(|| format!("{file}:{line}: a pin list outside a test"))?;
            sites.push(Site {
                test: format!("{file}::{test}"),
                ids,
            });
        }
    }
    Ok(sites)
}

/// The workspace root (the parent of this crate).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the workspace")
        .to_path_buf()
}

/// The CSV's ids, in its order.
fn requirement_ids() -> Vec<String> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/requirements/sse-2025-11-25.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the shared requirements sit beside the project root)",
            path.display()
        )
    });
    csv_rows(&text, &["id"])
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_iter()
        .map(|r| r["id"].clone())
        .collect()
}

/// The pin sites of every test source.
fn all_sites() -> Vec<Site> {
    let root = root();
    let mut sites = Vec::new();
    for dir in ["tests/tests", "core/tests"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            // This file's own examples are not pins.
            .filter(|p| !p.ends_with("tests/tests/requirements.rs"))
            .collect();
        files.sort();
        for path in files {
            let src = std::fs::read_to_string(&path).expect("a test source");
            let name = path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .display()
                .to_string();
            sites.extend(pin_sites(&name, &src).unwrap_or_else(|e| panic!("{e}")));
        }
    }
    sites
}

/// What the checker found: the problems, and the counts for the summary line.
#[derive(Debug, Default, PartialEq, Eq)]
struct Report {
    problems: Vec<String>,
    pinned: usize,
    divergent: usize,
    total: usize,
}

/// Checks `sites` and the divergence manifest `divergences` (CSV `id,reason`) against `ids`.
fn check(ids: &[String], sites: &[Site], divergences: &str) -> Report {
    let mut report = Report {
        total: ids.len(),
        ..Report::default()
    };
    let known: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
    let mut pinned_by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in sites {
        for id in &s.ids {
            if known.contains(id.as_str()) {
                pinned_by.entry(id).or_default().push(&s.test);
            } else {
                report
                    .problems
                    .push(format!("{}: pins {id:?}, which is not in the CSV", s.test));
            }
        }
    }
    let mut divergent = BTreeSet::new();
    match csv_rows(divergences, &["id", "reason"]) {
        Err(e) => report
            .problems
            .push(format!("the divergence manifest: {e}")),
        Ok(rows) => {
            for r in rows {
                let id = r["id"].as_str();
                if !known.contains(id) {
                    report
                        .problems
                        .push(format!("divergence {id:?} is not in the CSV"));
                } else if r["reason"].trim().is_empty() {
                    report
                        .problems
                        .push(format!("divergence {id:?} gives no reason"));
                } else if let Some(tests) = pinned_by.get(id) {
                    report.problems.push(format!(
                        "divergence {id:?} is pinned by {tests:?}: remove it from the manifest"
                    ));
                } else if !divergent.insert(id.to_string()) {
                    report
                        .problems
                        .push(format!("divergence {id:?} is listed twice"));
                }
            }
        }
    }
    for id in ids {
        if !pinned_by.contains_key(id.as_str()) && !divergent.contains(id) {
            report.problems.push(format!(
                "{id}: no test pins it and the divergence manifest does not record it"
            ));
        }
    }
    report.pinned = pinned_by.len();
    report.divergent = divergent.len();
    report
}

#[test]
fn every_requirement_is_pinned_or_a_recorded_divergence() {
    let ids = requirement_ids();
    assert_eq!(ids.len(), 192, "the CSV lists 174 + 18 requirements");
    let manifest = root().join("tests/requirements-divergences.csv");
    let divergences = std::fs::read_to_string(&manifest)
        .unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    let sites = all_sites();
    let report = check(&ids, &sites, &divergences);
    println!(
        "requirements pinned: {}/{} ({} recorded as divergences in tests/requirements-divergences.csv)",
        report.pinned, report.total, report.divergent
    );
    assert!(
        report.problems.is_empty(),
        "{} problems:\n{}",
        report.problems.len(),
        report.problems.join("\n")
    );
}

#[cfg(test)]
mod checker {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn csv_with_quoted_commas_quotes_and_newlines() {
        let rows = csv_rows(
            "id,note\r\na,\"x, \"\"y\"\"\nz\"\nb,plain\n",
            &["id", "note"],
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["note"], "x, \"y\"\nz");
        assert_eq!(rows[1]["id"], "b");
        assert!(csv_rows("id\n\"open", &["id"]).is_err());
        assert!(csv_rows("id,reason\na\n", &["id", "reason"]).is_err());
        assert!(csv_rows("x\n", &["id"]).is_err());
    }

    #[test]
    fn both_pin_forms_are_found_with_their_test() {
        let src = r#"
interaction_test!(
    first_test,
    pins = ["a:b", "c"],
    |h| async move {}
);
#[test]
fn plain() {
    mcp_sse_tests::pins!["d",
        "e"];
}
"#;
        let sites = pin_sites("f.rs", src).unwrap();
        assert_eq!(
            sites,
            vec![
                Site {
                    test: "f.rs::first_test".into(),
                    ids: ids(&["a:b", "c"])
                },
                Site {
                    test: "f.rs::plain".into(),
                    ids: ids(&["d", "e"])
                },
            ]
        );
        assert!(pin_sites("f.rs", "fn x() { pins![ID]; }").is_err());
        assert!(pin_sites("f.rs", "fn x() { pins![\"a\"; }").is_err());
    }

    #[test]
    fn unpinned_typo_and_stale_or_bad_divergences_fail() {
        let all = ids(&["a", "b", "c", "d"]);
        let sites = vec![Site {
            test: "t".into(),
            ids: ids(&["a", "b", "typo"]),
        }];
        let r = check(&all, &sites, "id,reason\nc,out of scope\n");
        assert_eq!(r.pinned, 2);
        assert_eq!(r.divergent, 1);
        assert_eq!(
            r.problems,
            vec![
                "t: pins \"typo\", which is not in the CSV".to_string(),
                "d: no test pins it and the divergence manifest does not record it".to_string(),
            ]
        );
        let r = check(
            &all,
            &sites,
            "id,reason\nc,\nb,pinned anyway\nzz,unknown\nd,x\nd,y\n",
        );
        assert_eq!(r.problems.len(), 6, "{:?}", r.problems);
        let r = check(&ids(&["a"]), &sites[..0], "id,reason\na,why\n");
        assert_eq!((r.pinned, r.divergent, r.problems.len()), (0, 1, 0));
    }
}
